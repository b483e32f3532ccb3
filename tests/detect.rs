//! Detection through encodings and in well-known credential files: the real binary on
//! files that hide secrets in base64 (Kubernetes secrets, nested Docker configs),
//! percent-encoded URIs and escaped PEM blocks, and on the files tools keep passwords in.

use crate::common::*;
use base64::Engine as _;

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// (path, rule_id, secret, decoded) of every finding, sorted.
fn found(root: &std::path::Path, extra: &[&str]) -> Vec<(String, String, String, String)> {
    let mut args = vec!["scan", ".", "--no-ignore"];
    args.extend_from_slice(extra);
    let (code, v, err) = json_report(root, &args);
    assert!(code == 0 || code == 1, "exit {code}: {err}");
    let mut out: Vec<_> = findings(&v)
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["rule_id"].as_str().unwrap().to_string(),
                f["secret"].as_str().unwrap().to_string(),
                f["decoded"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn kubernetes_secret_values_are_decoded_and_reported_at_their_line() {
    let d = dir();
    let manifest = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ntype: Opaque\ndata:\n  \
         password: {}\n  github: {}\n  database-url: {}\n  unrelated: {}\n",
        b64("Hx9#kLq2vWz!"),
        b64(GH_TOKEN),
        b64("postgres://app:Qx7vLm2Pz9Kt@db.internal:5432/app"),
        b64("just some configuration text"),
    );
    write(d.path(), "k8s/secret.yaml", &manifest);
    let (code, v, _) = json_report(d.path(), &["scan", "."]);
    assert_eq!(code, 1);
    let fs = findings(&v);
    let by_rule = |id: &str| {
        fs.iter()
            .find(|f| f["rule_id"] == id)
            .unwrap_or_else(|| panic!("no {id} in {fs:?}"))
    };
    let gh = by_rule("github.pat-classic");
    assert_eq!(gh["secret"], GH_TOKEN);
    assert_eq!(gh["decoded"], "base64");
    assert_eq!(gh["line"], 8);
    assert_eq!(gh["column"], 11);
    assert_eq!(by_rule("generic.password")["secret"], "Hx9#kLq2vWz!");
    assert_eq!(by_rule("uri.postgres")["secret"], "Qx7vLm2Pz9Kt");
    assert_eq!(fs.len(), 3, "{fs:?}");
    // The human report does not print the encoded line (it is the secret, encoded).
    let o = ferret()
        .current_dir(d.path())
        .args(["scan", "."])
        .output()
        .unwrap();
    let text = stdout(&o);
    assert!(text.contains("found in base64-encoded text"), "{text}");
    assert!(!text.contains(&b64(GH_TOKEN)), "{text}");
}

#[test]
fn a_kubeconfig_client_key_is_one_finding_with_the_fingerprint_of_the_key_itself() {
    let d = dir();
    let key = pem_key();
    write(d.path(), "id.pem", &key);
    write(
        d.path(),
        "kube/config",
        format!(
            "users:\n- name: admin\n  user:\n    client-key-data: {}\n",
            b64(&key)
        ),
    );
    let (code, v, err) = json_report(d.path(), &["scan", "."]);
    assert_eq!(code, 1, "{err}");
    let fs = findings(&v);
    let in_kubeconfig: Vec<_> = fs.iter().filter(|f| f["path"] == "kube/config").collect();
    assert_eq!(in_kubeconfig.len(), 1, "{fs:?}");
    assert_eq!(in_kubeconfig[0]["rule_id"], "private-keys.pem");
    assert_eq!(in_kubeconfig[0]["decoded"], "base64");
    assert_eq!(in_kubeconfig[0]["line"], 4);
    let plain = fs.iter().find(|f| f["path"] == "id.pem").unwrap();
    assert_eq!(in_kubeconfig[0]["fingerprint"], plain["fingerprint"]);
}

#[test]
fn base64_within_base64_and_percent_encoding_are_decoded() {
    let d = dir();
    // A Kubernetes dockerconfigjson secret: base64 of a JSON whose auth is base64 too,
    // holding a registry token.
    let docker = format!(
        "{{\"auths\":{{\"ghcr.io\":{{\"auth\":\"{}\"}}}}}}",
        b64(&format!("ci:{GH_TOKEN_2}"))
    );
    write(
        d.path(),
        "pull-secret.yaml",
        format!(
            "kind: Secret\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: {}\n",
            b64(&docker)
        ),
    );
    write(
        d.path(),
        "callback.txt",
        format!("https://app.test/cb?next=%2Fhome%3Ftoken%3D{GH_TOKEN}%26x%3D1\n"),
    );
    let f = found(d.path(), &[]);
    assert!(
        f.contains(&(
            "pull-secret.yaml".into(),
            "github.pat-classic".into(),
            GH_TOKEN_2.into(),
            "base64+base64".into()
        )),
        "{f:?}"
    );
    assert!(
        f.contains(&(
            "callback.txt".into(),
            "github.pat-classic".into(),
            GH_TOKEN.into(),
            "percent".into()
        )),
        "{f:?}"
    );
    // --decode-depth 0 turns decoding off.
    let f = found(d.path(), &["--decode-depth", "0"]);
    assert!(f.iter().all(|x| x.3.is_empty()), "{f:?}");
}

#[test]
fn pem_key_in_a_json_string_with_escaped_newlines_is_found() {
    let d = dir();
    let body = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\\n\
                VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\\n\
                LxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo\\n";
    write(
        d.path(),
        "sa.json",
        format!(
            "{{\"type\": \"service_account\", \"private_key\": \"-----BEGIN RSA PRIVATE KEY-----\\n{body}-----END RSA PRIVATE KEY-----\\n\", \"client_email\": \"ci@proj.iam.gserviceaccount.com\"}}\n"
        ),
    );
    let f = found(d.path(), &[]);
    assert!(
        f.iter()
            .any(|x| x.0 == "sa.json" && x.2.starts_with("-----BEGIN RSA PRIVATE KEY-----")),
        "{f:?}"
    );
}

#[test]
fn a_pgp_private_key_block_of_post_quantum_size_is_found_whole() {
    // An SLH-DSA-256s transferable secret key armors to about 120 KiB: its
    // self-signatures are 29 KiB each.
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut body = String::new();
    for _ in 0..1900 {
        for _ in 0..64 {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            body.push(B64[(x >> 58) as usize] as char);
        }
        body.push('\n');
    }
    let d = dir();
    write(
        d.path(),
        "v6-sk.asc",
        format!(
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n{body}=AbCd\n-----END PGP PRIVATE KEY BLOCK-----\n"
        ),
    );
    let f = found(d.path(), &[]);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].1, "private-keys.pgp");
    assert!(f[0].2.len() > 120_000 && f[0].2.ends_with("-----END PGP PRIVATE KEY BLOCK-----"));
}

#[test]
fn passwords_on_consecutive_lines_are_each_found() {
    // A rule that reads up to the line's end must not swallow the next line's key.
    let d = dir();
    write(
        d.path(),
        "deploy/.env",
        "DB_PASSWORD=Zx81mKq0Lp4s\nREDIS_PASSWORD=Hq7tRw2pXz9v\nSMTP_PASSWORD=Wq3nBv7Lp0Rt\n",
    );
    write(
        d.path(),
        "config/app.yml",
        "netapp_password: Rt5WqL0nBv7x\nsnapmirror_password: Hq7tRw2pXz9v\n",
    );
    let secrets: Vec<_> = found(d.path(), &[])
        .into_iter()
        .map(|(path, _, secret, _)| (path, secret))
        .collect();
    assert_eq!(
        secrets,
        [
            ("config/app.yml", "Hq7tRw2pXz9v"),
            ("config/app.yml", "Rt5WqL0nBv7x"),
            ("deploy/.env", "Hq7tRw2pXz9v"),
            ("deploy/.env", "Wq3nBv7Lp0Rt"),
            ("deploy/.env", "Zx81mKq0Lp4s"),
        ]
        .map(|(p, s)| (p.to_string(), s.to_string()))
    );
}

#[test]
fn well_known_credential_files_are_understood() {
    let d = dir();
    let pw = "Vq8mK2xLp9Zt";
    let files: &[(&str, String)] = &[
        (".netrc", format!("machine api.corp.test login deploy password {pw}\n")),
        (".git-credentials", format!("https://deploy:{pw}@git.corp.test\n")),
        (".pgpass", format!("db.corp.test:5432:app:appuser:{pw}\n")),
        (".pypirc", format!("[internal]\nrepository = https://pypi.corp.test\nusername = deploy\npassword = {pw}\n")),
        (".npmrc", "//registry.npmjs.org/:_authToken=npm_Zq8vL2mK9xT4rW7nB3pY6hD1Zq8vL2mK9xT4\n".into()),
        ("wp-config.php", format!("<?php\ndefine( 'DB_USER', 'wp' );\ndefine( 'DB_PASSWORD', '{pw}' );\n")),
        ("config/database.yml", format!("production:\n  adapter: postgresql\n  username: app\n  password: {pw}\n")),
        ("config/secrets.yml", "production:\n  secret_key_base: 8f4e2a9c1b7d3e5f6a0b2c4d8e1f3a5b7c9d0e2f4a6b8c1d3e5f7a9b0c2d4e6f8a1b3c5d7e9f0a2b4c6d\n".into()),
        ("settings.py", format!("DATABASES = {{'default': {{'USER': 'app', 'PASSWORD': '{pw}'}}}}\n")),
        ("application.properties", format!("spring.datasource.username=app\nspring.datasource.password={pw}\n")),
        ("settings.xml", format!("<settings><servers><server><id>corp</id><username>deploy</username><password>{pw}</password></server></servers></settings>\n")),
        ("sitemanager.xml", format!("<FileZilla3><Servers><Server><Host>ftp.corp.test</Host><User>deploy</User><Pass encoding=\"base64\">{}</Pass></Server></Servers></FileZilla3>\n", b64(pw))),
    ];
    for (path, text) in files {
        write(d.path(), path, text);
    }
    let f = found(d.path(), &[]);
    for (path, _) in files {
        assert!(
            f.iter().any(|x| x.0 == *path),
            "nothing found in {path}: {f:?}"
        );
    }
    // Where the file holds the password itself, that is the secret reported.
    for path in [
        ".netrc",
        ".pgpass",
        ".pypirc",
        "wp-config.php",
        "settings.xml",
        "sitemanager.xml",
    ] {
        assert!(f.iter().any(|x| x.0 == path && x.2 == pw), "{path}: {f:?}");
    }
}

#[test]
fn placeholders_in_credential_files_are_not_reported() {
    let d = dir();
    write(d.path(), ".pgpass", "db.corp.test:5432:app:appuser:*\n");
    write(
        d.path(),
        "wp-config.php",
        "<?php\ndefine( 'DB_PASSWORD', 'password_here' );\ndefine( 'AUTH_KEY', 'put your unique phrase here' );\n",
    );
    write(
        d.path(),
        "k8s.yaml",
        format!("kind: Secret\ndata:\n  password: {}\n", b64("changeme")),
    );
    write(
        d.path(),
        "settings.xml",
        "<server><id>x</id><password>${env.REPO_PASSWORD}</password></server>\n",
    );
    assert_eq!(found(d.path(), &[]), vec![]);
}

#[test]
fn format_exact_tokens_holding_example_words_are_low_confidence_and_hidden_by_default() {
    let d = dir();
    write(
        d.path(),
        "docs/slack.md",
        "TRIGGER_URL=https://hooks.slack.com/triggers/T00EXAMPLE1/4817263950412/\
         f0e1d2c3b4a5968778695a4b3c2d1e0f\n",
    );
    // Placeholders proper stay silent: AWS's documented example key, filler, a
    // generic value holding "example", a template.
    write(
        d.path(),
        "docs/aws.env",
        "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n\
         SLACK_TOKEN=xoxb-0000000000-0000000000000-xxxxxxxxxxxxxxxxxxxxxxxx\n\
         password = \"Example-Passw0rd-42\"\n\
         api_key = \"${API_KEY}\"\n",
    );
    // By default the example-looking token is counted, not reported, and does not fail.
    let (code, v, err) = json_report(d.path(), &["scan", "."]);
    assert_eq!(code, 0, "{err}");
    assert!(findings(&v).is_empty(), "{v}");
    assert_eq!(v["summary"]["below_confidence"], 1);
    // `--confidence low` reports it, at low confidence.
    let (code, v, err) = json_report(d.path(), &["scan", ".", "--confidence", "low"]);
    assert_eq!(code, 1, "{err}");
    let fs = findings(&v);
    assert_eq!(fs.len(), 1, "{fs:?}");
    assert_eq!(fs[0]["rule_id"], "slack.trigger-url");
    assert_eq!(fs[0]["path"], "docs/slack.md");
    assert_eq!(fs[0]["confidence"], "low");
    assert_eq!(v["summary"]["below_confidence"], 0);
    // The same token without the example word keeps its rule's confidence and is
    // reported by default.
    write(
        d.path(),
        "docs/slack.md",
        "TRIGGER_URL=https://hooks.slack.com/triggers/T04QX7LMZ2B/4817263950412/\
         f0e1d2c3b4a5968778695a4b3c2d1e0f\n",
    );
    let (code, v, _) = json_report(d.path(), &["scan", "."]);
    assert_eq!(code, 1);
    assert_eq!(findings(&v)[0]["confidence"], "high");
}

#[test]
fn aws_ids_in_presigned_urls_are_low_confidence_and_certificates_are_not_session_tokens() {
    let d = dir();
    // A presigned URL carries the key id, a session token and a signature, never the
    // secret key, and expires within days: reported only at low confidence. The same
    // key id configured on its own is reported as usual.
    write(
        d.path(),
        "docs/download.md",
        "GET https://bucket.s3.us-west-2.amazonaws.com/layer.tar?X-Amz-Security-Token=\
         IQoJb3JpZ2luX2VjWT2%2Btwn4M%2Bviu6FEVgMkAA5E6euM%2FcLLIrewImt%2FfKyuqamdyFQCpXUOqbqqifY0jdJMgOqYnFUJykB9UKdLDqbc3A7INrFTf2kDo3luCz5vVQcBpD%2BJvKmyXoxQZXjO9oMqJ91VESb0BNPe9eDP7%2ByClQw3i1Y7bvZakZShf7zXKYdHtcYtpUELr87EZM867DiBHdLffaqw4VH4W%2FEzGQ9VC3owo9fnhTF3wo%2F6rNwXPNLokYA9hwFXGX7A3CyRvbhPWBctNkK%2Bzn3DCYCg1GXgKN%2Bm%2FdfLJJhNHHFJYu%2Fu\
         &X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20190814T220617Z&X-Amz-Expires=3600\
         &X-Amz-Credential=AKIAZVO6ASIOHCOXOISD%2F20190814%2Fus-west-2%2Fs3%2Faws4_request\
         &X-Amz-Signature=5f1b7c2a\n",
    );
    // A certificate in base64 where the AWS CLI's example output shows a session token.
    write(
        d.path(),
        "docs/job.json",
        "{\"sessionToken\": \"fICCQD6m7oRw0uXOjANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJRTESMBAGA1UEChMJQmFsdGltb3JlMRMwEQYDVQQLEwpDeWJlclRydXN0MSIwIAYD\"}\n",
    );
    write(
        d.path(),
        "app.env",
        "AWS_ACCESS_KEY_ID=AKIA2ZN56DE6BIITFBHL\n",
    );
    let (code, v, err) = json_report(d.path(), &["scan", ".", "--confidence", "low"]);
    assert_eq!(code, 1, "{err}");
    assert_path_rule_confidence(
        &v,
        &[
            ("app.env", "aws.access-key-id", "high"),
            ("docs/download.md", "aws.access-key-id", "low"),
            // Both session-token rules match the token: it is one finding.
            ("docs/download.md", "aws.session-token", "low"),
        ],
    );
}

#[test]
fn secrets_in_escaped_strings_are_found_at_their_place() {
    let d = dir();
    // A Jupyter notebook: each line of a cell is a JSON string, quotes escaped.
    write(
        d.path(),
        "analysis.ipynb",
        concat!(
            "{\n \"cells\": [\n  {\n   \"cell_type\": \"code\",\n   \"source\": [\n",
            "    \"import psycopg2\\n\",\n",
            "    \"db_password = \\\"Vq8#nZt2Lm4pXw\\\"\\n\",\n",
            "    \"aws_secret_access_key = \\\"Jx7Lq2Vb7Np4Tz8Rc6Ym1Hd5Jf0Gs2Qa8Ue3XkWp\\\"\\n\",\n",
            "    \"token = os.environ[\\\"API_TOKEN\\\"]\\n\"\n",
            "   ]\n  }\n ]\n}\n",
        ),
    );
    // Settings serialized into one JSON string, with an escaped slash in the value.
    write(
        d.path(),
        "state.json",
        "{\"value\": \"{\\\"password\\\": \\\"Kd9\\/wQ2#xLp7Rz\\\"}\"}\n",
    );
    let (code, v, err) = json_report(d.path(), &["scan", "."]);
    assert_eq!(code, 1, "{err}");
    let got: Vec<(String, u64, u64, String, String)> = findings(&v)
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
                f["rule_id"].as_str().unwrap().to_string(),
                f["secret"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want = [
        (
            "analysis.ipynb",
            7,
            22,
            "generic.password",
            "Vq8#nZt2Lm4pXw",
        ),
        (
            "analysis.ipynb",
            8,
            32,
            "aws.secret-access-key",
            "Jx7Lq2Vb7Np4Tz8Rc6Ym1Hd5Jf0Gs2Qa8Ue3XkWp",
        ),
        ("state.json", 1, 29, "generic.password", "Kd9/wQ2#xLp7Rz"),
    ];
    assert_eq!(
        got,
        want.map(|(p, l, c, r, s)| (p.to_string(), l, c, r.to_string(), s.to_string())),
        "{v}"
    );
    // Only the value with an escape in it is marked as decoded.
    let decoded: Vec<&serde_json::Value> = findings(&v).iter().map(|f| &f["decoded"]).collect();
    assert_eq!(decoded[0], &serde_json::Value::Null);
    assert_eq!(decoded[2], "escaped");
}

#[test]
fn keyword_less_key_inside_base64_is_found_by_the_token_run_of_the_decoded_text() {
    use base64::Engine as _;
    let d = dir();
    let key = "3f8a1c6e0b9d47a2c5e8f1b4d7a0c3e6.Wm5Tq9Zr2Lx7Kd4P";
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("model=glm-4 {key}"));
    write(
        d.path(),
        "deploy/secret.yaml",
        format!("apiVersion: v1\nkind: Secret\ndata:\n  settings: {encoded}\n"),
    );
    let got = found(d.path(), &[]);
    assert_eq!(
        got,
        vec![(
            "deploy/secret.yaml".to_string(),
            "zhipu.api-key-bare".to_string(),
            key.to_string(),
            "base64".to_string(),
        )]
    );
}

#[test]
fn base64_key_stores_are_found_and_certificates_are_not() {
    let d = dir();
    // A PKCS#12 store in an App Service-style settings file, next to a bare
    // certificate (public, not a finding).
    let p12 = "MIIEHAIBAzCCA9IGCSqGSIb3DQEHAaCCA8MEggO/MIIDuzCCAnIGCSqGSIb3DQEHBqCCAmMwggJfAgEAMIICWAYJKoZIhvcNAQcBMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAhZr0RrYUfiagICCAAwDAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEPP9cpQSaLGinm0gObOVsemA";
    let cert = "MIIBiDCCAS2gAwIBAgIUU7hJNdGm8Jv3u7mXxkjQSAk1cV8wCgYIKoZIzj0EAwIwGTEXMBUGA1UEAwwOZmVycmV0LWV4YW1wbGUwHhcNMjYxMjAxMDcxMTU1WhcNMjYxMjAyMDcxMTU1WjAZMRcwFQYDVQQDDA5m";
    write(
        d.path(),
        "appsettings.json",
        format!("{{\n  \"certificate\": \"{cert}\",\n  \"signingStore\": \"{p12}\"\n}}\n"),
    );
    let got = found(d.path(), &[]);
    assert_eq!(
        got,
        vec![(
            "appsettings.json".to_string(),
            "private-keys.pkcs12-base64".to_string(),
            p12.to_string(),
            String::new(),
        )]
    );
}

#[test]
fn keyword_less_zhipu_key_is_found_by_its_token_run_and_reported_once() {
    let d = dir();
    // No provider name anywhere near the bare key.
    write(
        d.path(),
        "llm/settings.py",
        "MODEL = \"glm-4\"\nKEY = \"5e2b9d0c7a3f41e8b6d1c0a9f8e7d6c5.Jq4Xw8Lm2Rz6Tp0V\"\n",
    );
    // With the name nearby, the contextual rule reports it and the bare one gives way.
    write(
        d.path(),
        "llm/.env",
        "ZHIPUAI_API_KEY=91c3e5a7b9d0f2e4a6c8b0d2f4e6a8c0.Hs7Kd2Nw9Qx4Bv1M\n",
    );
    // Lookalikes: a digest and a file name.
    write(
        d.path(),
        "llm/cache.txt",
        "5e2b9d0c7a3f41e8b6d1c0a9f8e7d6c5\n5e2b9d0c7a3f41e8b6d1c0a9f8e7d6c5.tar.gz\n",
    );
    let got = found(d.path(), &[]);
    assert_eq!(
        got,
        vec![
            (
                "llm/.env".to_string(),
                "zhipu.api-key".to_string(),
                "91c3e5a7b9d0f2e4a6c8b0d2f4e6a8c0.Hs7Kd2Nw9Qx4Bv1M".to_string(),
                String::new(),
            ),
            (
                "llm/settings.py".to_string(),
                "zhipu.api-key-bare".to_string(),
                "5e2b9d0c7a3f41e8b6d1c0a9f8e7d6c5.Jq4Xw8Lm2Rz6Tp0V".to_string(),
                String::new(),
            ),
        ]
    );
}

#[test]
fn binary_key_stores_and_keys_are_reported_by_header_and_certificate_stores_are_not() {
    let d = dir();
    for (name, _) in KEY_FILES {
        write(d.path(), &format!("keys/{name}"), key_file(name));
    }
    // A key's framing without the key, as crypto libraries ship templates to fill in
    // (the PKCS#8 Ed25519 and P-256 keys cut short): not keys.
    write(d.path(), "templates/ed.der", &key_file("ed.der")[..16]);
    write(d.path(), "templates/ec.der", &key_file("ec-p8.der")[..40]);
    let (code, v, err) = json_report(d.path(), &["scan", "."]);
    assert_eq!(code, 1, "{err}");
    let mut got: Vec<(String, String)> = findings(&v)
        .iter()
        .map(|f| {
            (
                f["path"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("keys/")
                    .to_string(),
                f["rule_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    let mut want: Vec<(String, String)> = KEY_FILES
        .iter()
        .filter_map(|(n, r)| r.map(|r| (n.to_string(), r.to_string())))
        .collect();
    want.sort();
    assert_eq!(got, want);
    // Every file is binary: counted as such, and found by its header.
    assert_eq!(v["summary"]["binary"], KEY_FILES.len() + 2);
    let f = &findings(&v)[0];
    let digest = f["secret"].as_str().unwrap();
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{digest}"
    );
    assert_eq!(
        (f["line"].as_u64(), f["start_byte"].as_u64()),
        (Some(1), Some(0))
    );
    let size = key_file(f["path"].as_str().unwrap().trim_start_matches("keys/")).len();
    assert_eq!(f["end_byte"].as_u64(), Some(size as u64));
}

#[test]
fn a_key_store_file_keeps_its_fingerprint_when_moved_and_changes_it_when_changed() {
    let d = dir();
    write(d.path(), "a/keystore.p12", key_file("key.p12"));
    write(d.path(), "b/copy.p12", key_file("key.p12"));
    write(d.path(), "c/other.p12", key_file("java.p12"));
    let (_, v, _) = json_report(d.path(), &["scan", "."]);
    let fp = |path: &str| {
        findings(&v)
            .iter()
            .find(|f| f["path"] == path)
            .map(|f| f["fingerprint"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("no finding in {path}"))
    };
    assert_eq!(fp("a/keystore.p12"), fp("b/copy.p12"));
    assert_ne!(fp("a/keystore.p12"), fp("c/other.p12"));
}

#[test]
fn a_binary_key_file_is_found_when_binary_files_are_scanned_as_text_too() {
    let d = dir();
    write(d.path(), "deploy.jks", key_file("key.jks"));
    let (code, v, _) = json_report(d.path(), &["scan", ".", "--binary"]);
    assert_eq!(code, 1);
    let rules: Vec<&str> = findings(&v)
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert_eq!(rules, vec!["private-keys.jks-file"]);
    assert_eq!(v["summary"]["binary"], 0);
}

#[test]
fn secrets_inside_jars_nested_zips_and_tarballs_are_found_at_their_member_path() {
    use std::io::Write;
    let d = dir();
    let props = format!("server.port=8080\ngithub.token={GH_TOKEN}\n");
    let inner = zip_of(&[(".env", format!("TOKEN={GH_TOKEN_2}\n").as_bytes())]);
    let jar = zip_of(&[
        ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
        ("com/acme/App.class", b"\xca\xfe\xba\xbe\0\0\0\x34"),
        ("BOOT-INF/classes/application.properties", props.as_bytes()),
        ("BOOT-INF/lib/inner.zip", &inner),
        ("keystore.p12", &key_file("key.p12")),
    ]);
    write(d.path(), "lib/app.jar", &jar);
    let mut tar = tar::Builder::new(Vec::new());
    let conf = format!("[db]\npassword = \"Zq8vL2mK9xT4\"\napi_key = {GH_TOKEN}\n");
    let mut h = tar::Header::new_gnu();
    h.set_size(conf.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    tar.append_data(&mut h, "etc/app.ini", conf.as_bytes())
        .unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar.into_inner().unwrap()).unwrap();
    write(d.path(), "backup.tgz", gz.finish().unwrap());
    let (code, v, err) = json_report(d.path(), &["scan", "."]);
    assert_eq!(code, 1, "{err}");
    let mut got: Vec<(String, String, u64)> = findings(&v)
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["rule_id"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    got.sort();
    let at = |p: &str, r: &str, l: u64| (p.to_string(), r.to_string(), l);
    assert_eq!(
        got,
        vec![
            at("backup.tgz!backup.tar!etc/app.ini", "generic.password", 2),
            at("backup.tgz!backup.tar!etc/app.ini", "github.pat-classic", 3),
            at(
                "lib/app.jar!BOOT-INF/classes/application.properties",
                "github.pat-classic",
                2
            ),
            at(
                "lib/app.jar!BOOT-INF/lib/inner.zip!.env",
                "github.pat-classic",
                1
            ),
            at("lib/app.jar!keystore.p12", "private-keys.pkcs12-file", 1),
        ]
    );
    // Members are counted as files, binary members (the class, the key store) as
    // binary too; archives themselves are not counted.
    assert_eq!(v["summary"]["scanned"], 6);
    assert_eq!(v["summary"]["binary"], 2);
    // Unopened, the compressed archives are binary files with nothing to find.
    let (code, v, _) = json_report(d.path(), &["scan", ".", "--no-archives"]);
    assert_eq!((code, findings(&v).len()), (0, 0));
    assert_eq!(v["summary"]["binary"], 2);
}

#[test]
fn zip_bombs_and_unreadable_members_are_reported_and_the_scan_goes_on() {
    let d = dir();
    // 40 members of 16 MiB of zeros each: 640 MiB decompressed from a few hundred KiB.
    let zeros = vec![0u8; 16 << 20];
    let names: Vec<String> = (0..40).map(|i| format!("z{i}.bin")).collect();
    let members: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &zeros[..])).collect();
    let bomb = zip_of(&members);
    assert!(bomb.len() < 2 << 20, "{} bytes", bomb.len());
    write(d.path(), "bomb.zip", &bomb);
    // A member compressed with a method ferret does not read (bzip2: method 12),
    // patched into a stored zip's local and central headers.
    let mut odd = {
        use std::io::Write;
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        w.start_file("secret.env", opts).unwrap();
        w.write_all(format!("T={GH_TOKEN}\n").as_bytes()).unwrap();
        w.finish().unwrap().into_inner()
    };
    for sig in [&b"PK\x03\x04"[..], &b"PK\x01\x02"[..]] {
        let at = odd.windows(4).position(|w| w == sig).unwrap();
        // The method follows the signature and 4 (local) or 6 (central) bytes.
        let off = at + if sig[2] == 3 { 8 } else { 10 };
        odd[off] = 12;
    }
    write(d.path(), "odd.zip", &odd);
    write(d.path(), "ok.env", format!("T={GH_TOKEN_2}\n"));
    let o = ferret()
        .current_dir(d.path())
        .args(["scan", ".", "-f", "json", "--verbose"])
        .output()
        .unwrap();
    let err = stderr(&o);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(findings(&v).len(), 1, "only ok.env: {err}");
    assert!(
        err.contains("bomb.zip: not read from the archive: stopped after"),
        "{err}"
    );
    assert!(
        err.contains("odd.zip!secret.env: not read from the archive"),
        "{err}"
    );
    assert_eq!(v["summary"]["skipped_other"], 2, "{err}");
}

#[test]
fn an_archive_over_the_size_limit_is_opened_and_its_members_are_bounded_by_it() {
    let d = dir();
    // Incompressible filler keeps the archive itself over the 4 KB limit.
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let noise: Vec<u8> = (0..20_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let z = zip_of(&[
        ("assets/blob.bin", &noise),
        ("conf/app.env", format!("T={GH_TOKEN}\n").as_bytes()),
    ]);
    assert!(z.len() > 16_000);
    write(d.path(), "dist.zip", &z);
    let o = ferret()
        .current_dir(d.path())
        .args(["scan", ".", "-f", "json", "--max-file-size", "4KB"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let paths: Vec<&str> = findings(&v)
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, vec!["dist.zip!conf/app.env"]);
    assert_eq!(v["summary"]["skipped_too_large"], 1);
    assert!(
        stderr(&o).contains("dist.zip!assets/blob.bin"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn uri_credentials_for_documentation_domains_and_leetspeak_stand_ins_are_low_confidence() {
    let d = dir();
    write(
        d.path(),
        "connect.md",
        "Use mongodb://app:Zq8vL2mK9xT4@db0.example.com:27017/app or\n\
         mongodb://app:Wb3nR7pQ2sLx@db.corp.internal:27017/app\n\
         db_password = \"P@ssw0rd\"\n",
    );
    let lines = |extra: &[&str]| {
        let mut args = vec!["scan", "."];
        args.extend_from_slice(extra);
        let (_, v, _) = json_report(d.path(), &args);
        let mut l: Vec<u64> = findings(&v)
            .iter()
            .map(|f| f["line"].as_u64().unwrap())
            .collect();
        l.sort();
        l
    };
    assert_eq!(
        lines(&[]),
        vec![2],
        "example.com is for documentation (RFC 2606)"
    );
    assert_eq!(lines(&["--confidence", "low"]), vec![1, 2, 3]);
}

#[test]
fn a_private_key_and_a_token_compiled_into_classes_inside_a_jar_are_found() {
    let d = dir();
    let key = pem_key();
    let jar = zip_of(&[
        ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
        (
            "com/acme/Tls.class",
            &class_with(&["com/acme/Tls", &key, "java/lang/Object"]),
        ),
        (
            "com/acme/Api.class",
            // The password is free-form: in binary data it is not judged.
            &class_with(&["com/acme/Api", GH_TOKEN, "db_password = \"Zq8vL2mK9xT4\""]),
        ),
    ]);
    write(d.path(), "lib/app.jar", &jar);
    let (code, v, err) = json_report(d.path(), &["scan", "."]);
    assert_eq!(code, 1, "{err}");
    let got: Vec<(&str, &str, &str)> = findings(&v)
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap(),
                f["rule_id"].as_str().unwrap(),
                f["secret"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "lib/app.jar!com/acme/Api.class",
                "github.pat-classic",
                GH_TOKEN
            ),
            (
                "lib/app.jar!com/acme/Tls.class",
                "private-keys.pem",
                key.trim_end()
            ),
        ]
    );
    assert_eq!(v["summary"]["binary"], 2);
}

#[test]
fn tokens_stored_as_utf16_strings_in_an_assembly_are_found_at_their_bytes() {
    let d = dir();
    let utf16 = |s: &str| -> Vec<u8> { s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect() };
    // A .NET assembly keeps string literals as UTF-16LE in its #US heap.
    let mut dll = b"MZ\x90\x00\x03\x00\x00\x00".to_vec();
    dll.resize(300, 0);
    let at = dll.len();
    dll.push(0x51);
    dll.extend(utf16(GH_TOKEN));
    dll.extend([0x01, 0x29]);
    dll.extend(utf16("Server=db;User Id=sa;Password=Zq8vL2mK9xT4;"));
    dll.extend([0x00; 64]);
    write(d.path(), "bin/Release/App.dll", &dll);
    let (code, v, err) = json_report(d.path(), &["scan", "."]);
    assert_eq!(code, 1, "{err}");
    let got: Vec<(&str, &str, u64, u64)> = findings(&v)
        .iter()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap(),
                f["secret"].as_str().unwrap(),
                f["start_byte"].as_u64().unwrap(),
                f["end_byte"].as_u64().unwrap(),
            )
        })
        .collect();
    // The password is free-form, not judged in binary data; the token is found, its
    // byte range covering its UTF-16 characters.
    let start = at as u64 + 1;
    assert_eq!(
        got,
        vec![("github.pat-classic", GH_TOKEN, start, start + 80)]
    );
    assert_eq!(findings(&v)[0]["context"], GH_TOKEN);
    // With --binary every rule runs, on the strings too: the connection string's
    // password is found.
    let (code, v, err) = json_report(d.path(), &["scan", ".", "--binary"]);
    assert_eq!(code, 1, "{err}");
    let secrets: Vec<&str> = findings(&v)
        .iter()
        .map(|f| f["secret"].as_str().unwrap())
        .collect();
    assert!(secrets.contains(&GH_TOKEN), "{secrets:?}");
    assert!(secrets.contains(&"Zq8vL2mK9xT4"), "{secrets:?}");
}

#[test]
fn one_secret_matched_by_two_rules_is_one_finding_under_the_most_specific() {
    let d = dir();
    let storage_key =
        "+OUU5h3zktTEZg0D6JRT2CD4P0kDXeuTeRTq5c5c9F3K9CZriPaNHJWVKcqaf1JuAr7P37vElM3K+AStmZNdOg==";
    let paystack = "sk_live_646cd38fafffab4b2badc1b78f1bd837f7215b60";
    let yandex = "YCLeQR82em0DW6E3c26SpaTe0yh4Uo0MmPVMBGy0";
    write(
        d.path(),
        "deploy.sh",
        format!(
            "git clone https://octo:{GH_TOKEN}@github.com/octo/app.git\n\
             STORAGE_KEY={storage_key}\n\
             PAYSTACK_SECRET_KEY={paystack}\n\
             aws_secret_access_key = {yandex}\n"
        ),
    );
    let got: Vec<(String, String)> = found(d.path(), &[])
        .into_iter()
        .map(|(_, rule, secret, _)| (rule, secret))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "azure.storage-account-key-identifiable".into(),
                storage_key.into()
            ),
            ("cloud-misc.yandex-static-secret-key".into(), yandex.into()),
            ("github.pat-classic".into(), GH_TOKEN.into()),
            ("paystack.secret-key".into(), paystack.into()),
        ]
    );
}

#[test]
fn values_in_an_ansible_modules_documentation_are_low_confidence_and_its_code_is_not() {
    let d = dir();
    // `ansible-doc` renders EXAMPLES and RETURN as the module's manual: its passwords
    // and keys are the manual's examples. A password the module's code sets is not.
    write(
        d.path(),
        "plugins/modules/db_user.py",
        "#!/usr/bin/python\n\
         DOCUMENTATION = r'''\nmodule: db_user\nshort_description: Manage users\n'''\n\n\
         EXAMPLES = r'''\n- name: Create a user\n  db_user:\n    login_password: Lq7#vTz2WmR9\n    \
         api_key: \"9d3f6c1ab2e84f07c5d9a1e6b3f27c48\"\n'''\n\n\
         RETURN = r'''\ntoken:\n  sample: Zk4pQw9vLx2TnB7r\n'''\n\n\
         FALLBACK_PASSWORD = 'Hq7tRw2pXz9vKm'\n",
    );
    let (code, v, err) = json_report(d.path(), &["scan", ".", "--confidence", "low"]);
    assert_eq!(code, 1, "{err}");
    let by_secret = |s: &str| {
        findings(&v)
            .iter()
            .find(|f| f["secret"] == s)
            .unwrap_or_else(|| panic!("no finding of {s}: {v}"))["confidence"]
            .clone()
    };
    assert_eq!(by_secret("Lq7#vTz2WmR9"), "low");
    assert_eq!(by_secret("9d3f6c1ab2e84f07c5d9a1e6b3f27c48"), "low");
    assert_eq!(by_secret("Hq7tRw2pXz9vKm"), "medium");
    // At the default level only the code's password is reported.
    let (code, v, err) = json_report(d.path(), &["scan", "."]);
    assert_eq!(code, 1, "{err}");
    let secrets: Vec<_> = findings(&v).iter().map(|f| f["secret"].clone()).collect();
    assert_eq!(secrets, ["Hq7tRw2pXz9vKm"], "{v}");
}

#[test]
fn api_reference_examples_manuals_commented_examples_test_patches_and_documentation_directories_are_low_confidence()
 {
    let d = dir();
    // An OpenAPI document's `example:` block is a sample request; the same token
    // configured elsewhere in the file is not.
    write(
        d.path(),
        "api/swagger.yaml",
        "paths:\n  /swarm/unlock:\n    post:\n      parameters:\n        - name: body\n          \
         schema:\n            example:\n              UnlockKey: \
         \"SWMKEY-1-7c37Cc8654o6p38HnroywCi19pllOnGtbdZEgtKxZu8\"\n\
         x-test-unlock: \"SWMKEY-1-y6guTZNTwpQeTL5RhUfOsdBdXoQjiB2GADHSRJvbXeE\"\n",
    );
    // A manual's configuration example: a free-form value under docs/ is low, a
    // provider's token there keeps its confidence, and the same password in a
    // configuration file is reported as usual.
    write(
        d.path(),
        "docs/configuration.rst",
        format!(
            "key:\n  - id: key1\n    secret: 4Tc0K1QkcMCs7cOW2LuSWnxQY0qysdvsZlSb4yTN9pA=\n\n\
             GITHUB_TOKEN={GH_TOKEN}\n"
        ),
    );
    write(
        d.path(),
        "deploy/knot.conf",
        "key:\n  - id: key1\n    secret: 4Tc0K1QkcMCs7cOW2LuSWnxQY0qysdvsZlSb4yTN9pA=\n",
    );
    // A Perl module's POD is its manual (perldoc renders it, and Debian installs it
    // again as a man page); the module's code after `=cut` is code.
    let pod = "=head1 SYNOPSIS\n\n  tie %h, 'Tie::Store', {user => 'nobody', password => 'kumquat2'};\n\n=cut\n";
    write(
        d.path(),
        "lib/Tie/Store.pm",
        format!(
            "package Tie::Store;\n\n{pod}\nmy %login = (user => 'svc', password => 'Hq7tRw2pXz9v');\n"
        ),
    );
    write(d.path(), "share/man/man3/Tie::Store.3pm", pod);
    // A Python module's docstring is its manual too; a string it assigns is a value.
    write(
        d.path(),
        "stem/conf.py",
        "\"\"\"\nConfiguration::\n\n  config = {'user.password': 'yabba1234'}\n\"\"\"\n\n\
         DEFAULTS = {'user.password': 'Hq7tRw2pXz9v'}\n",
    );
    // A Ruby method's comment that shows results (`# =>`) is an RDoc example; a
    // password the class itself sets is a value.
    write(
        d.path(),
        "lib/secure_password.rb",
        "module SecurePassword\n  # user = User.new(name: 'david')\n  \
         # user.password = 'mUc3m00RsqyRe'\n  # user.save # => true\n  \
         def admin\n    connect(password: 'Hq7tRw2pXz9v')\n  end\nend\n",
    );
    // A patch is judged by the files it changes: a password added to a test file is
    // a test's, one added to the library's code is not.
    write(
        d.path(),
        "debian/patches/git-updates.diff",
        "--- a/nss/files.c\n+++ b/nss/files.c\n@@ -1 +1 @@\n\
         +  const char *passwd = \"Hq7tRw2pXz9v\";\n\
         --- /dev/null\n+++ b/gshadow/tst-sgetsgent.c\n@@ -0,0 +1 @@\n\
         +  const char *passwd = \"k+zD0nucwfxAo3sw1NXU\";\n",
    );
    let (code, v, err) = json_report(d.path(), &["scan", ".", "--confidence", "low"]);
    assert_eq!(code, 1, "{err}");
    assert_path_rule_confidence(
        &v,
        &[
            ("api/swagger.yaml", "docker-swarm.unlock-key", "high"),
            ("api/swagger.yaml", "docker-swarm.unlock-key", "low"),
            ("debian/patches/git-updates.diff", "generic.password", "low"),
            (
                "debian/patches/git-updates.diff",
                "generic.password",
                "medium",
            ),
            ("deploy/knot.conf", "generic.secret", "medium"),
            ("docs/configuration.rst", "generic.secret", "low"),
            ("docs/configuration.rst", "github.pat-classic", "high"),
            (
                "lib/Tie/Store.pm",
                "credentials.username-password-pair",
                "low",
            ),
            (
                "lib/Tie/Store.pm",
                "credentials.username-password-pair",
                "medium",
            ),
            ("lib/secure_password.rb", "generic.password", "low"),
            ("lib/secure_password.rb", "generic.password", "medium"),
            (
                "share/man/man3/Tie::Store.3pm",
                "credentials.username-password-pair",
                "low",
            ),
            ("stem/conf.py", "generic.password", "low"),
            ("stem/conf.py", "generic.password", "medium"),
        ],
    );
}

#[test]
fn readme_snippets_vendor_defaults_doc_comments_and_template_expressions_are_not_medium() {
    let d = dir();
    // A role's README shows its variables; the role's own defaults are configuration.
    write(
        d.path(),
        "roles/ontap_nas/README.md",
        "```yaml\nontap_password: Wq3nBv7Lp0Rt\n```\n",
    );
    write(
        d.path(),
        "roles/ontap_nas/defaults/main.yml",
        "ontap_password: Wq3nBv7Lp0Rt\n",
    );
    // A vendor's name with digits after it, under a directory that names the vendor, is
    // its default or a stand-in; another password there is configuration.
    write(
        d.path(),
        "collections/netapp/ontap/defaults/main.yml",
        "netapp_password: netapp123\nsnapmirror_password: Hq7tRw2pXz9v\n",
    );
    // A PHPDoc block shows a configuration; a Jinja statement's unquoted value is an
    // expression.
    write(
        d.path(),
        "wp-includes/pluggable.php",
        "<?php\n/**\n * Example:\n *     $db_password = 'Zx81mKq0Lp4s';\n */\n\
         function connect() {\n  $host = 'db';\n  $port = 3306;\n  $user = 'wp';\n  \
         $db_password = 'Zx81mKq0Lp4s';\n}\n",
    );
    write(
        d.path(),
        "templates/users.j2",
        "{% set passwd = item.pass_key|string+\" \"+item.password %}\n",
    );
    let (code, v, err) = json_report(d.path(), &["scan", ".", "--confidence", "low"]);
    assert_eq!(code, 1, "{err}");
    assert_path_rule_confidence(
        &v,
        &[
            (
                "collections/netapp/ontap/defaults/main.yml",
                "generic.password",
                "low",
            ),
            (
                "collections/netapp/ontap/defaults/main.yml",
                "generic.password",
                "medium",
            ),
            ("roles/ontap_nas/README.md", "generic.password", "low"),
            (
                "roles/ontap_nas/defaults/main.yml",
                "generic.password",
                "medium",
            ),
            (
                "wp-includes/pluggable.php",
                "credentials.username-password-pair",
                "medium",
            ),
            ("wp-includes/pluggable.php", "generic.password", "low"),
        ],
    );
}

#[test]
fn azure_sas_urls_past_their_signed_expiry_are_low_confidence() {
    let d = dir();
    // Azure refuses a shared access signature after its `se=` day: a leaked expired
    // one grants nothing, as an expired JWT. One valid until 2099 is reported as usual.
    write(
        d.path(),
        "expired.txt",
        "GET https://acct1.blob.core.windows.net/logs/a.tar?sp=r&sv=2018-11-09&sr=b&spr=https\
         &se=2025-08-15T21%3A58%3A27Z&sig=Rk3vQ9mZpL2xT7wN4bY8cH1sJ6fD0gK5eA3uV9tW2qE%3D\n",
    );
    write(
        d.path(),
        "live.txt",
        "GET https://acct1.blob.core.windows.net/logs/a.tar?sp=r&sv=2018-11-09&sr=b&spr=https\
         &se=2099-08-15T21%3A58%3A27Z&sig=Pz7mQ2vLx9Tb4Wn8Rc3Hy6Ks1Gd5Fa0Ue2Yo7Iq4TlQ%3D\n",
    );
    let (code, v, err) = json_report(d.path(), &["scan", ".", "--confidence", "low"]);
    assert_eq!(code, 1, "{err}");
    let sas: Vec<(String, String)> = findings(&v)
        .iter()
        .filter(|f| f["rule_id"] == "azure.sas-token")
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["confidence"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(sas.contains(&("expired.txt".into(), "low".into())), "{v}");
    assert!(sas.contains(&("live.txt".into(), "high".into())), "{v}");
    assert!(!sas.contains(&("expired.txt".into(), "high".into())), "{v}");
}

#[test]
fn escaped_user_names_type_unions_paths_and_tokens_in_embedded_images_are_not_secrets() {
    let d = dir();
    // A user name escaping `:`, `@` and `/`: decoded whole it would read as a password.
    write(
        d.path(),
        "uri-spec.yml",
        "uri: \"mongodb://f%3Azzb%40z%2Fz%3D@127.0.0.1/?authMechanism=MONGODB-X509\"\n",
    );
    // A field annotated with a type union, and a shell's `pwd` before a path.
    write(
        d.path(),
        "config.py",
        "class Settings:\n    jwt_secret: str | None\n",
    );
    write(
        d.path(),
        "gendoc.sh",
        "export PYTHONPATH=`pwd`:../python-gatenlp\n",
    );
    // A token's prefix inside an embedded PNG's base64.
    write(
        d.path(),
        "banner.svg",
        "<svg><image href=\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB\
         /k7BdXn7DFmFvc6FDpauCk4/qlR0i6Weuw9U5e4x2x9fsq3Euq+aiNA1+p+z9wP5QtR4K0CMKq2s6Or\
         pG+9AOcPLXp8ye4x2x9XJL5akrRQH3yEO/JRBCrQcZUeEFh/AAAASUVORK5CYII=\"/></svg>\n",
    );
    // A password in parentheses is reported without the closing one.
    write(
        d.path(),
        "seed.sql",
        "-- Seed the admin user (password: Adm1nQx7v)\nINSERT INTO users VALUES (1);\n",
    );
    let f = found(d.path(), &["--confidence", "low"]);
    assert_eq!(
        f,
        vec![(
            "seed.sql".into(),
            "generic.password".into(),
            "Adm1nQx7v".into(),
            String::new()
        )]
    );
}

#[test]
fn checksum_manifests_default_password_digests_and_cut_short_keys_are_not_medium() {
    let d = dir();
    // A test suite's manifest of file digests, its file names holding provider names.
    write(
        d.path(),
        "cache/md5.txt",
        "{\"css/contain-size-scrollbars-001.html\":\"5beacdf0cfe1878013c64858e2ab3b21\",\
         \"css/cssUnparsedValue-iterable.html\":\"180f46895acc2e81b2f2ada2c391c42c\"}\n",
    );
    // A seeded admin's unsalted SHA-256 of `admin`, beside a real-looking password.
    write(
        d.path(),
        "websetup.py",
        "admin['password'] = \"8c6976e5b5410415bde908bd4dee15dfb167a9c873fc4bb8a81f6f2ab448a918\"\n\
         db_password = \"Hq7tRw2pXz9vQ4\"\n",
    );
    // A key block cut short, as a scanner's own test writes one.
    write(
        d.path(),
        "scanner_cases.py",
        "SAMPLE = \"\"\"\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyf8Ob\n\
         -----END RSA PRIVATE KEY-----\n\"\"\"\n",
    );
    let (code, v, err) = json_report(d.path(), &["scan", ".", "--confidence", "low"]);
    assert_eq!(code, 1, "{err}");
    assert_path_rule_confidence(
        &v,
        &[
            ("scanner_cases.py", "private-keys.pem", "low"),
            ("websetup.py", "generic.password", "low"),
            ("websetup.py", "generic.password", "medium"),
        ],
    );
}

#[test]
fn zero_filled_tokens_leet_urls_localised_stand_ins_and_concatenations_are_not_medium() {
    let d = dir();
    // Octokit's README: a token's shape with its tail filled with zeros.
    write(
        d.path(),
        "README.md",
        "const auth = createTokenAuth(\"ghp_PersonalAccessToken01245678900000000\");\n",
    );
    // A URL parser's comment spelling `password` in its punctuation.
    write(
        d.path(),
        "index.js",
        "// https://user%3An%40me:p%40ss%3Aword@x.com/ is parsed wrong\n",
    );
    // "Your password" in Swedish, in a .pypirc a release guide shows.
    write(
        d.path(),
        "releasescripts/pypi",
        "[pypi]\nusername = ditt_användarnamn\npassword = ditt_lösenord\n",
    );
    // A minified bundle's concatenation; beside it a SiliconFlow key in an MCP config.
    write(
        d.path(),
        "bundle.js",
        "init(p){super.init(p),this.PASS=this.INDENT+`pass\\n`}\n",
    );
    write(
        d.path(),
        "mcp.json",
        "{\"env\": {\"API_KEY\": \"sk-qhzvtkrmwpbnelyfgucdxajosqitmvlpkrhwbzeyuxgnfdca\"}}\n",
    );
    let (code, v, err) = json_report(d.path(), &["scan", ".", "--confidence", "low"]);
    assert_eq!(code, 1, "{err}");
    assert_path_rule_confidence(
        &v,
        &[
            ("README.md", "github.pat-classic", "low"),
            ("index.js", "uri.http-basic", "low"),
            ("mcp.json", "siliconflow.api-key", "medium"),
            ("releasescripts/pypi", "generic.password", "low"),
        ],
    );
}

#[test]
fn example_commands_anonymous_ftp_and_documented_oauth_values_are_not_medium() {
    let d = dir();
    // A DNS client's manual: a key in a command that names example.com.
    write(
        d.path(),
        "docs/cloudflare.md",
        "```console\n$ CLOUDFLARE_EMAIL=you@example.com \\\n  \
         CLOUDFLARE_API_KEY=b9841238feb177a84330febba8a83208921177bffe733 \\\n  \
         lego --dns cloudflare --domains www.example.com run\n```\n",
    );
    // Anonymous FTP, whose password is any string.
    write(
        d.path(),
        "rsync_from_ncbi.pl",
        "my $FTP_USER = \"anonymous\";\nmy $FTP_PASS = \"kraken2download\";\n",
    );
    // Twitter's documented OAuth request token; a default user's MD5 as its password.
    write(
        d.path(),
        "t/oauth.t",
        "my $token = 'Z6eEdO8MOmk394WozF5oKyuAv855l4Mlqo7hhlSLik';\n",
    );
    write(
        d.path(),
        "config/default.go",
        "Users: []User{{\n\tUsername: \"guest\",\n\
         \tPassword: \"084e0343a0486ff05530df6c705c8bb4\", // guest md5 hash\n}},\n",
    );
    let (code, v, err) = json_report(d.path(), &["scan", ".", "--confidence", "low"]);
    assert_eq!(code, 1, "{err}");
    assert_path_rule_confidence(
        &v,
        &[
            (
                "config/default.go",
                "credentials.username-password-pair",
                "low",
            ),
            ("docs/cloudflare.md", "cloudflare.global-api-key", "low"),
            ("rsync_from_ncbi.pl", "generic.password", "low"),
        ],
    );
}

#[test]
fn documented_hashes_annotations_attribute_paths_and_keyboard_keys_are_not_medium() {
    let d = dir();
    // Node-RED's default settings.js: its documented bcrypt hash of `password`.
    write(
        d.path(),
        "settings.js",
        "    //adminAuth: {\n    //    username: \"admin\",\n\
         \x20   //    password: \"$2a$08$zZWtXTja0fB1pzD4sHCMyOCMYz2Z6dNbM6tl8sJogENOMcxWV9DN.\",\n",
    );
    // A parameter's annotation and an attribute path where a value would be.
    write(
        d.path(),
        "token_crypto.py",
        "def _derive_key_from_jwt(jwt_secret: str) -> bytes:\n    pass\n\
         alias2token = self.token_alias.alias2token\n",
    );
    // Salt's documentation: a key id with a keyboard row typed twice.
    write(d.path(), "states.rst", "    keyid: AKIAJHTMIQ2ASDFLASDF\n");
    // Zope's functional-test manager, whose password is its login and `pw`.
    write(
        d.path(),
        "ftesting.zcml",
        "<principal\n    id=\"zope.manager\"\n    login=\"mgr\"\n    password=\"mgrpw\" />\n",
    );
    let (code, v, err) = json_report(d.path(), &["scan", ".", "--confidence", "low"]);
    assert_eq!(code, 1, "{err}");
    assert_path_rule_confidence(
        &v,
        &[
            ("ftesting.zcml", "credentials.username-password-pair", "low"),
            ("states.rst", "aws.access-key-id", "low"),
        ],
    );
}

#[test]
fn recaptcha_site_keys_documented_google_tokens_and_shipped_defaults_are_not_medium() {
    let d = dir();
    // A reCAPTCHA site key, public in every page with the widget; its secret key.
    write(
        d.path(),
        "templates/contact.html",
        "<div class=\"g-recaptcha\" data-sitekey=\"6Lc8k2QUAAAAAJ3xB7vR2pQ9mTz4LwYc1NdEfGh5\"></div>\n",
    );
    write(
        d.path(),
        "settings.py",
        "RECAPTCHA_PRIVATE_KEY = \"6Lc8k2QUAAAAAKm7Wq2Zr8Vt5Yx3Np1Bd9Cf4Gh6\"\n",
    );
    // Google's documented OAuth access token, in a library's comment.
    write(
        d.path(),
        "oauth2.h",
        "/* {\n         \"access_token\":\"1/fFAGRNJru1FTz70BzhT3Zg\",\n */\n",
    );
    // A URI parser's test of a punctuation-only password; NZBGet's shipped default.
    write(
        d.path(),
        "t/old-base.t",
        "is($url->as_string, 'ftp://%40::-%23-;-%2F-%3F@hst2:21');\n",
    );
    write(d.path(), "nzbget.conf", "ControlPassword=tegbzn6789\n");
    let (code, v, err) = json_report(d.path(), &["scan", ".", "--confidence", "low"]);
    assert_eq!(code, 1, "{err}");
    assert_path_rule_confidence(
        &v,
        &[
            ("nzbget.conf", "generic.password", "low"),
            ("settings.py", "recaptcha.key", "medium"),
            ("t/old-base.t", "uri.ftp", "low"),
            ("templates/contact.html", "recaptcha.key", "low"),
        ],
    );
}

#[test]
fn facebook_app_access_tokens_are_found_and_token_digests_are_not() {
    let d = dir();
    // An app access token (app id | token) in a captured Graph API request.
    write(
        d.path(),
        "requests.tsv",
        "https://graph.facebook.com/v2.10/?id=https%3A%2F%2Fshop.test%2F&access_token=318472659104832|Vz-KYxmO46WcItK0RjeA91_Fwyy\txhr\n",
    );
    // GitHub's authorizations API lists a token's digest, which authenticates nothing.
    write(
        d.path(),
        "authorization.js",
        "      \"token_last_eight\": \"Wq4LmZ8x\",\n\
         \x20     \"hashed_token\": \"9d3f6a2c81e47b5d0f2a6c9e3b7d1f5a8c2e6b0d4f8a3c7e1b5d9f2a6c0e4b8d\",\n",
    );
    let (code, v, err) = json_report(d.path(), &["scan", ".", "--confidence", "low"]);
    assert_eq!(code, 1, "{err}");
    assert_path_rule_confidence(
        &v,
        &[("requests.tsv", "facebook.app-access-token", "medium")],
    );
}

#[test]
fn specification_prose_query_strings_empty_settings_and_login_instructions_are_not_secrets() {
    let d = dir();
    // A 3GPP specification's text, as a .docx holds it.
    write(
        d.path(),
        "29274.xml",
        "<w:t>if the ISRAI flag is not set in the Modify Bearer Request/Modify Access Bearers Request message.</w:t>\n",
    );
    // A scanner's wordlist of attack URLs, and a commented template of empty settings.
    write(
        d.path(),
        "cgis.txt",
        "shopadmin.asp?Password=abc&UserName=\"><script>alert(foo)</script>\n",
    );
    write(
        d.path(),
        "pgbouncer.ini",
        ";; connect string params:\n;;   dbname= host= port= user= password= auth_user=\n",
    );
    // Anonymous FTP's instructions: an address as the password.
    write(
        d.path(),
        "gutenberg.txt",
        "login:  anonymous\npassword:  your@login\n",
    );
    // A password assignment next to them is still found.
    write(d.path(), "deploy.ini", "password = Zq8vL2mK9xT4\n");
    let (code, v, err) = json_report(d.path(), &["scan", ".", "--confidence", "low"]);
    assert_eq!(code, 1, "{err}");
    assert_path_rule_confidence(&v, &[("deploy.ini", "generic.password", "medium")]);
}

#[test]
fn attribute_paths_numbers_in_base64_and_self_naming_stand_ins_are_not_medium() {
    let d = dir();
    // A test passing a configuration's attribute on.
    write(
        d.path(),
        "tests/test_vector_db.py",
        "        mock_client_class.assert_called_once_with(\n\
         \x20           host=test_config.qdrant_config.host,\n\
         \x20           api_key=test_config.qdrant_config.api_key,\n        )\n",
    );
    // An API's documented id, a number in base64.
    write(
        d.path(),
        "api_reference.json",
        "{\n    \"token\": \"MzUxODM3NTQzMDAwMDA1ODI4MA==\",\n    \"count\": 2\n}\n",
    );
    // A setup guide's stand-in, named for what it stands for.
    write(
        d.path(),
        "openrouter_setup.sh",
        "export OPENROUTER_API_KEY='sk-or-v1-project1-key'\n",
    );
    let (code, v, err) = json_report(d.path(), &["scan", ".", "--confidence", "low"]);
    assert_eq!(code, 1, "{err}");
    assert_path_rule_confidence(&v, &[("openrouter_setup.sh", "generic.api-key", "low")]);
}

#[test]
fn typed_salts_schema_examples_and_documented_signature_values_are_not_medium() {
    let d = dir();
    // A crypt library's test vectors, with salts a person typed.
    write(
        d.path(),
        "md5crypt/vectors.txt",
        "4    {aaa}       a  {$1$aaa$SCk4CXyogLtcfwl2VqfSF0}\nHash:$1$abcdef$2XiyKFam4XUU0UKeisSUw.\n",
    );
    // An API schema's example header value.
    write(
        d.path(),
        "schema.json",
        "        \"Authorization\": {\n          \"example\": \"Bearer 9266671b2767f804c9d5809c2d384ed57d8f8ce1abd1043e1fb3fbbcb8c3\"\n        }\n",
    );
    // Twitter's documented OAuth 1.0a token, and Google's documented access token edited.
    write(
        d.path(),
        "oauth.tcl",
        "#             oauth_token=\"370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb\",\n",
    );
    write(
        d.path(),
        "cpl_google_oauth2.cpp",
        "/*  \"access_token\":\"1/fFBGRNJru1FQd44AzqT3Zg\",\n */\n",
    );
    let (code, v, err) = json_report(d.path(), &["scan", ".", "--confidence", "low"]);
    assert_eq!(code, 1, "{err}");
    assert_path_rule_confidence(
        &v,
        &[
            ("md5crypt/vectors.txt", "password-hashes.md5crypt", "low"),
            ("md5crypt/vectors.txt", "password-hashes.md5crypt", "low"),
            ("schema.json", "generic.bearer", "low"),
        ],
    );
}

#[test]
fn sequences_wrapped_images_types_source_links_and_marker_names_are_not_secrets() {
    let d = dir();
    // A protein sequence in a FASTA file starts like an Alibaba key id; a real key id.
    write(
        d.path(),
        "data/genome.fasta",
        ">ESCO001c01a_043120 C ATG TGA fecD\nCRDLDLLALGDARATTLGVSVPHTRFWALLLAVAMTSTGVAACGPISFIG\nLTAIIGAPWFVWLLVRMR\n",
    );
    write(
        d.path(),
        "deploy/oss.env",
        "ALIBABA_CLOUD_ACCESS_KEY_ID=LTAI5tQ8mZr2Wk7Vb3Nd9Xp4\n",
    );
    // An SVG's image wrapped at 76 columns by spaces, with a crates.io prefix inside.
    let line = "e7rz/d1peBKGYNtsFCAI0iIyC6u1ldWyjgwpFc8mHCGEgFsuVj6+OH72k5EbY9OtGiE5Z+8/Wqo1";
    write(
        d.path(),
        "icons/maze.svg",
        format!(
            "<image xlink:href=\"data:image/png;base64,{line} onQqkc8m9y6vSU9EsSySO+cioxVkZz61ZUsumfZBgHbrHTiQI7NYWr189+a7V+7EcD6d {line}\"/>\n"
        ),
    );
    // A Kotlin property's type; a table of where each method is declared.
    write(
        d.path(),
        "src/kdbx/KdbxEntry.kt",
        "class KdbxEntry {\n  var password: SecureString?\n}\n",
    );
    write(
        d.path(),
        "python/core/class_map.yaml",
        "QgsDataSourceUri.password: src/core/qgsdatasourceuri.h#L273\n",
    );
    // Ant's filter names the marker a copy replaces; a phrase as a placeholder.
    write(
        d.path(),
        "build.xml",
        "<copy todir=\"out\">\n  <filterset>\n    <filter token=\"Manual_HelloWorld_Simple\" value=\"${snip.Manual_HelloWorld_Simple}\"/>\n  </filterset>\n</copy>\n",
    );
    write(
        d.path(),
        "R/auth.R",
        "#' gs4_auth_configure(api_key = \"the_key_I_got_for_a_google_API\")\n",
    );
    // A Django password hash cut short by a concatenation, and one whole.
    write(
        d.path(),
        "tools/mk_database.py",
        "sql = (\"INSERT INTO auth_user VALUES (\"\n       \"password='pbkdf2_sha256$600000$7R0oBpiQRVoNMXhmGD\" + \\\n       \"Zk3Tn9Qw2Lp8Vr5Xc1Bm4Hs7Jd0Fg6Ay+Ue3Ri9Ow=')\")\n",
    );
    write(
        d.path(),
        "db/users.json",
        "[{\"model\": \"auth.user\", \"fields\": {\"username\": \"ops\", \"password\": \"pbkdf2_sha256$600000$wvnPMatLgYNmbD6vXAgZ58$5EidJNkmo8tAvOLdXE6Cd/oOF8cjbFvo4EklCVNv56I=\"}}]\n",
    );
    // A recorded response in a directory of fixtures named with its format.
    write(
        d.path(),
        "fixtures.http/api/oauthAccessToken/success.http",
        "HTTP/1.1 200 OK\n\n{\"access_token\":\"zKQ7OLqF5N1gylcJweA9WodA000BUNJD\",\"token_type\":\"Bearer\"}\n",
    );
    let (code, v, err) = json_report(d.path(), &["scan", ".", "--confidence", "low"]);
    assert_eq!(code, 1, "{err}");
    assert_path_rule_confidence(
        &v,
        &[
            ("db/users.json", "password-hashes.django-pbkdf2", "medium"),
            ("deploy/oss.env", "alibaba.access-key-id", "high"),
            (
                "fixtures.http/api/oauthAccessToken/success.http",
                "generic.token",
                "low",
            ),
        ],
    );
}

#[test]
fn shipped_library_tokens_badge_tokens_and_development_passwords_are_not_medium() {
    let d = dir();
    // CesiumJS's default ion token, as its bundle embeds it.
    write(
        d.path(),
        "vendor/cesium/Cesium.js",
        "var _4,Yde=\"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJqdGkiOiJkYjZkM2MyOS1mODRiLTRlMGQtYTYzMy0xNWYyYmNiZjE1NGUiLCJpZCI6MjU5LCJzdWIiOiJDZXNpdW1KUyIsImlzcyI6Imh0dHBzOi8vYXBpLmNlc2l1bS5jb20iLCJhdWQiOiIxLjE0NCBSZWxlYXNlIC0gRGVsZXRlIG9uIE9jdG9iZXIgMSwgMjAyNiIsImlhdCI6MTc4NDk1ODg5MH0.x3Ra1-m0GEx7jwv8wnz-bAt4SSG3_ZCC9zU_MwzfjA4\",dD={};dD.defaultAccessToken=Yde;\n",
    );
    // A DeepSource badge's token, published in the long description.
    write(
        d.path(),
        "setup.py",
        "long_description = '<img src=\"https://deepsource.io/gh/o/r.svg/?label=active+issues&show_trend=true&token=8_Tl9hB9xFIiP7QrgjuSZSid\">'\n",
    );
    // A development database's password named for what it is.
    write(
        d.path(),
        "alembic.ini",
        "sqlalchemy.url = postgresql+asyncpg://developer:devpass@localhost:5433/team_memory\n",
    );
    let (code, v, err) = json_report(d.path(), &["scan", ".", "--confidence", "low"]);
    assert_eq!(code, 1, "{err}");
    assert_path_rule_confidence(
        &v,
        &[
            ("alembic.ini", "uri.postgres", "low"),
            ("vendor/cesium/Cesium.js", "credentials.jwt", "low"),
        ],
    );
}

#[test]
fn demo_logins_runs_up_the_alphabet_and_prompt_sentinels_are_not_medium() {
    let d = dir();
    // A client's self-test logs in as the demo database's user, password the same.
    write(
        d.path(),
        "client/pool.py",
        "\t\tcreds.user = 'any-doc'\n\t\tcreds.password = 'any-doc'\n\t\tcreds.user = 'clinician'\n\t\tcreds.password = 'abcd'\n",
    );
    // A passphrase prompt's sentinel for the user's cancelling.
    write(
        d.path(),
        "ui.py",
        "        if passphrase == \"CANCEL\":\n            raise Cancelled\n",
    );
    let (code, v, err) = json_report(d.path(), &["scan", ".", "--confidence", "low"]);
    assert_eq!(code, 1, "{err}");
    assert_path_rule_confidence(
        &v,
        &[
            (
                "client/pool.py",
                "credentials.username-password-pair",
                "low",
            ),
            (
                "client/pool.py",
                "credentials.username-password-pair",
                "low",
            ),
        ],
    );
}

#[test]
fn model_card_signatures_image_gradients_pipeline_parameters_and_bearer_lines_are_not_secrets() {
    let d = dir();
    // A Hugging Face model card's verification of its evaluation results.
    write(
        d.path(),
        "card/README.md",
        "      - type: accuracy\n        value: 0.91\n        verifyToken: eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9.eyJoYXNoIjoiN2YyOGMxYjY2Y2JhMjkxNzQzNjgiLCJ2ZXJzaW9uIjoxfQ.Zk3Tn9Qw2Lp8Vr5Xc1Bm4Hs7Jd0Fg6AyUe3Ri9OwTq2Lm8Xc5Vb1Nh4Jf7Kp0Gd3Sa6Wz9Ey2Ru5Ti8Oq1Pl4Bh\n",
    );
    // A brain template's bytes read as text: a gradient after an AWS context prefix.
    write(
        d.path(),
        "template/ch2bet.nii",
        b"\x00\x01\x02=?21:>>?<9:79<=ACCAACFGKPTWZVURSMIF\x00\x03\xff".as_slice(),
    );
    // An eHive pipeline's parameter; an installer's list of Qt plugin directories.
    write(
        d.path(),
        "PipeConfig/loader_conf.pm",
        "      -user => 'ensro',\n      -pass => \"#taxonomy_pass#\",\n",
    );
    write(
        d.path(),
        "installer.cfg",
        "exclude=\n    pkgs/PyQt5/Qt5/plugins/bearer\n    pkgs/PyQt5/Qt5/plugins/generic\n",
    );
    // A real-looking AWS key id in a binary still is one.
    write(
        d.path(),
        "cache.bin",
        b"\x00\x01\x02aws_access_key_id=AKIAQYLPMN5HHHFPZAM2\x00\xff".as_slice(),
    );
    let (code, v, err) = json_report(d.path(), &["scan", ".", "--confidence", "low"]);
    assert_eq!(code, 1, "{err}");
    assert_path_rule_confidence(&v, &[("cache.bin", "aws.access-key-id", "high")]);
}

#[test]
fn a_value_under_a_sibling_key_after_an_empty_provider_key_is_not_the_providers() {
    let d = dir();
    // The Mistral key was left empty; the next key's value is someone else's.
    write(
        d.path(),
        "settings.env",
        "MISTRAL_API_KEY=\nlog_level: info\nsession_seed: ZdZFwRS3z1nHbiV05PiYdoNYLWJh8BI2\n",
    );
    // Nested under the provider's block, the value is the provider's.
    write(
        d.path(),
        "config.yml",
        "mistral:\n  api_key: 8BEdLBGaBR3S7jY9MKt10o38jGthoegX\n",
    );
    let (code, v, err) = json_report(d.path(), &["scan", ".", "--confidence", "low"]);
    assert_eq!(code, 1, "{err}");
    assert_path_rule_confidence(&v, &[("config.yml", "mistral.api-key", "medium")]);
}

#[test]
fn rust_doctests_optional_chaining_and_packed_tables_are_not_medium_but_a_concatenated_encrypted_key_is_found()
 {
    let d = dir();
    // A doctest's token is the documentation's example.
    write(
        d.path(),
        "src/webhook.rs",
        "    /// let token = \"ig5AO-wdVWpCBtUUMxmgsWryqgsW3DChbKYOINftJ4DCrUbnkedoYZD0VOH1QLr-S3sV\";\n",
    );
    // A property read with optional chaining is code.
    write(
        d.path(),
        "dist/callback.js",
        "        queryString.client_secret = authConfigs?.clientSecretSettingName || authConfigs?.appSecretSettingName;\n",
    );
    // A table packed in URL-safe base64 holds a Facebook token's shape by chance.
    write(
        d.path(),
        "ranges.mjs",
        "export default decodeRanges('BIWFghhAOJglg4GJFTbaBODLDGi4g6jEGBABHABAdABBILJhFHBgtBHBAag_EAAAHhJCAhrAhUHiXIAgsAIOcEdBVANhIGABAgrCAABAIHJFFABAgkABAEHJhFBjtWIQAgoCEMK0Gkg5wwFgsCJ75KF');\n",
    );
    // An encrypted key written line by line in a test's string concatenation.
    write(
        d.path(),
        "test/agent-test.js",
        "var options = {\n    key: '-----BEGIN RSA PRIVATE KEY-----\\n' +\n'Proc-Type: 4,ENCRYPTED\\n' +\n'DEK-Info: DES-EDE3-CBC,6ACDE0E22CA24B54\\n' +\n'\\n' +\n'MHs2noP3Vm8SyHkZ/KaPv2tkwEQx3CZVFmaoTUakJsj/QT2itDWoEzRZaffmqJ5z\\n' +\n'tCYyXFhwfJinJVwkkOGU5Hv2n8hYNcsRucFC5Y+BUQKEuAtalq3YGoIWWggDPzqb\\n' +\n'xGEI46PZS+kt8wGcMau1ArSwv2GuY3P8yjV97uus8Mc+U7XazkAgtlLX95wu9cGL\\n' +\n'-----END RSA PRIVATE KEY-----\\n',\n};\n",
    );
    let (code, v, err) = json_report(d.path(), &["scan", "."]);
    assert_eq!(code, 1, "{err}");
    assert_path_rule_confidence(
        &v,
        &[("test/agent-test.js", "private-keys.pem-encrypted", "high")],
    );
    let (code, low, err) = json_report(d.path(), &["scan", ".", "--confidence", "low"]);
    assert_eq!(code, 1, "{err}");
    assert_path_rule_confidence(
        &low,
        &[
            ("src/webhook.rs", "generic.token", "low"),
            ("test/agent-test.js", "private-keys.pem-encrypted", "high"),
        ],
    );
}

#[test]
fn helm_checksums_pseudo_locale_labels_and_a_parsers_leet_comment_are_not_medium() {
    let d = dir();
    write(
        d.path(),
        "chart/kafka.yaml",
        "      annotations:\n        checksum/passwords-secret: 718400f1f09d898e17af6d52022a18cbd32ad0ae895b8f282ff05e5c0f663e37\n",
    );
    write(
        d.path(),
        "dist/report/flow.js",
        "const s={ratingFail:\"\u{200f}\u{202e}Poor\u{202c}\u{200f}\",ratingPass:\"\u{200f}\u{202e}Good\u{202c}\u{200f}\",save:\"\\u200f\\u202eSave\\u202c\\u200f\"};\n",
    );
    write(
        d.path(),
        "lib/hosted.js",
        "      // https://user:n@me:p@ss:word@x.com/ which is all kinds of wrong.\n",
    );
    // A password under a checksum's name is still reported when it is no digest.
    write(
        d.path(),
        "app/settings.env",
        "CHECKSUM_DB_PASSWORD=Hq7Lm2Xp9Vb4Nc8R\n",
    );
    let (code, v, err) = json_report(d.path(), &["scan", "."]);
    assert_eq!(code, 1, "{err}");
    assert_path_rule_confidence(&v, &[("app/settings.env", "generic.password", "medium")]);
}

#[test]
fn an_aws_key_id_outside_base32_is_low() {
    let d = dir();
    write(
        d.path(),
        "src/assume_role.rs",
        "let http = MockHttpSend::new([success_response(\"ASIAPROVIDERDEFAULT1\")]);\n",
    );
    write(
        d.path(),
        "deploy.env",
        "AWS_ACCESS_KEY_ID=AKIAZKJBAYJDYQIF5TAC\n",
    );
    let (code, v, err) = json_report(d.path(), &["scan", ".", "--confidence", "low"]);
    assert_eq!(code, 1, "{err}");
    assert_path_rule_confidence(
        &v,
        &[
            ("deploy.env", "aws.access-key-id", "high"),
            ("src/assume_role.rs", "aws.access-key-id", "low"),
        ],
    );
}

#[test]
fn wallet_keys_are_confirmed_by_their_checksums_and_made_up_ones_in_tests_are_low() {
    let d = dir();
    // A deploy configuration holding a wallet's keys, each in its own format.
    write(
        d.path(),
        "deploy/.env",
        "BTC_WIF=KzURR5gnAEWHp9GJBc49yb3GiUnxurPgz9QLTnFpFtfK4bGVFfGT\n\
         HD_ROOT=xprv9s21ZrQH143K2S9uqTXtZChBdwgjobrPWp7QkJMqnP1J5GASYx7dsmtxvvHngnWHgSfW27PGSHoyuBbYKuBBNNDb1BF9zoEptr9nFJ1p3W7\n\
         STELLAR_SECRET=SABNABYG3MFNGMWQAXVZRZR6EZDZYSFGN6WX56RL6BXNX6TMJ5DSNW5F\n\
         MNEMONIC=\"snap slot acoustic donate dynamic vital life vessel cover wheel surprise shed\"\n\
         PRIVATE_KEY=0xf79335a929152aa12ae8cb74cfdf4481b9ab756061691f8a5dbba0f295376d60\n",
    );
    // The same shapes with one character changed fail their checksums.
    write(
        d.path(),
        "deploy/typo.env",
        "BTC_WIF=KzURR5gnAEWHp9GJBc49yb3GiUnxurPgz9QLTnFpFtfK4bGVFfGa\n\
         STELLAR_SIGNER=SABNABYG3MFNGMWQAXVZRZR6EZDZYSFGN6WX56RL6BXNX6TMJ5DSNW5A\n\
         MNEMONIC=\"snap slot acoustic donate dynamic vital life vessel cover wheel surprise snap\"\n",
    );
    // Published keys: Hardhat's first account and its mnemonic.
    write(
        d.path(),
        "hardhat.config.js",
        "module.exports = { networks: { localhost: { accounts: [\"0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80\"] },\n\
         hardhat: { accounts: { mnemonic: \"test test test test test test test test test test test junk\" } } } };\n",
    );
    // A wallet library's test vector, and its documentation's example in a JSDoc
    // comment: anyone can generate such keys, so these are made up.
    write(
        d.path(),
        "test/wif.test.js",
        "const key = ECPair.fromWIF('5JQeCCRGs8Rqvb2nBcKWU8cWUSbj8io57HSYqYnr1cZmV624jfo');\n",
    );
    write(
        d.path(),
        "lib/account.js",
        "/**\n * const account = privateKeyToAccount('0x71f20d450dfe76d5ecfa35ce86f05cd2427ae5d5c8821eb0c165db894f7f0593');\n */\nexport function privateKeyToAccount(k) {}\n",
    );
    let (code, v, err) = json_report(d.path(), &["scan", ".", "--confidence", "low"]);
    assert_eq!(code, 1, "{err}");
    assert_path_rule_confidence(
        &v,
        &[
            ("deploy/.env", "wallets.bip32-extended-private-key", "high"),
            ("deploy/.env", "wallets.bip39-mnemonic", "high"),
            ("deploy/.env", "wallets.bitcoin-wif", "high"),
            ("deploy/.env", "wallets.hex-private-key", "medium"),
            ("deploy/.env", "wallets.stellar-secret-seed", "high"),
            ("lib/account.js", "wallets.hex-private-key", "low"),
            ("test/wif.test.js", "wallets.bitcoin-wif", "low"),
        ],
    );
}
