//! The CI lint step: SARIF, `.ferret.toml`, inline allows, baselines, exit codes.

use crate::common::*;

fn scan(d: &std::path::Path, extra: &[&str]) -> (i32, Vec<serde_json::Value>, String) {
    let mut args = vec!["scan", "."];
    args.extend_from_slice(extra);
    let (code, v, err) = json_report(d, &args);
    (code, findings(&v).clone(), err)
}

fn secrets(fs: &[serde_json::Value]) -> Vec<String> {
    let mut v: Vec<String> = fs
        .iter()
        .map(|f| f["secret"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn inline_allow_comments_in_several_syntaxes_suppress_unless_audited() {
    let d = dir();
    write(
        d.path(),
        "a.py",
        format!("T = '{GH_TOKEN}'  # ferret:allow\n"),
    );
    write(
        d.path(),
        "b.js",
        format!("const t = '{GH_TOKEN}'; // gitleaks:allow\n"),
    );
    write(
        d.path(),
        "c.yaml",
        format!("t: {GH_TOKEN}  # pragma: allowlist secret\n"),
    );
    write(
        d.path(),
        "d.html",
        format!("<!-- ferret:allow --><i>{GH_TOKEN_2}</i>\n"),
    );
    write(d.path(), "e.env", format!("T={GH_TOKEN_2}\n"));
    let (code, fs, _) = scan(d.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(fs.len(), 1);
    assert_eq!(fs[0]["path"], "e.env");
    let (_, fs, _) = scan(d.path(), &["--no-inline-allow"]);
    assert_eq!(fs.len(), 5);
}

#[test]
fn config_file_keys_each_take_effect() {
    let d = dir();
    write(d.path(), "keep.env", format!("T={GH_TOKEN}\n"));
    write(d.path(), "fixtures/x.env", format!("T={GH_TOKEN_2}\n"));
    write(d.path(), "low.env", "DB_PASSWORD=\"Zq8vL2mK9xT4\"\n");
    write(
        d.path(),
        "acme.txt",
        "key acme_Qx8vL2mK9xT4rW7nB3pY6hD1Zq8vL2mK\n",
    );
    write(
        d.path(),
        "allowed.env",
        "T=ghp_LocalDevOnlyQx8vL2mK9xT4rW7nB3pY6hD1\n",
    );
    let (_, fs, _) = scan(d.path(), &[]);
    assert_eq!(fs.len(), 4, "{fs:#?}");
    write(
        d.path(),
        ".ferret.toml",
        r#"
[scan]
min_confidence = "medium"
exclude_paths = ["fixtures/", ".ferret.toml"]
disable_rules = ["generic.password"]

[allow]
stopwords = ["localdevonly"]

[allow.rules."github.pat-classic"]
values = ['^ghp_R7k']

[[rules]]
id = "acme.api-key"
name = "Acme API key"
keywords = ["acme_"]
regex = '''\b(acme_[A-Za-z0-9]{32})\b'''
confidence = "high"
examples = ["k = acme_Qx8vL2mK9xT4rW7nB3pY6hD1Zq8vL2mK"]
negative_examples = ["k = acme_short"]
"#,
    );
    let (code, fs, _) = scan(d.path(), &[]);
    assert_eq!(code, 1);
    let ids: Vec<_> = fs.iter().map(|f| f["rule_id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec!["acme.api-key"], "{fs:#?}");
}

#[test]
fn config_is_found_at_the_repository_root_and_given_with_config() {
    let d = dir();
    git_init(d.path());
    write(
        d.path(),
        ".ferret.toml",
        "[scan]\ndisable_rules = [\"github.pat-classic\"]\n",
    );
    write(d.path(), "sub/a.env", format!("T={GH_TOKEN}\n"));
    let (code, _, _) = json_report(&d.path().join("sub"), &["scan", "."]);
    assert_eq!(
        code, 0,
        "the repository root's config applies to a subdirectory scan"
    );
    let other = dir();
    write(other.path(), "empty.toml", "");
    let cfg = other.path().join("empty.toml");
    let (code, _, _) = json_report(
        &d.path().join("sub"),
        &["scan", ".", "--config", cfg.to_str().unwrap()],
    );
    assert_eq!(code, 1);
}

#[test]
fn invalid_config_files_name_file_line_and_key() {
    let d = dir();
    write(d.path(), "a.env", "x\n");
    let cases = [
        (
            "[scan]\nmin_confidence = \"low\"\nfail_on_x = 1\n",
            ".ferret.toml:3",
            "fail_on_x",
        ),
        ("[scan]\nfail_on = \"urgent\"\n", ".ferret.toml:2", "urgent"),
        (
            "[scan]\ndisable_rules = [\"no.such\"]\n",
            ".ferret.toml",
            "no.such",
        ),
        ("[allow]\nvalues = ['(']\n", ".ferret.toml", "allow.values"),
        (
            "[[rules]]\nid = \"x\"\nname = \"X\"\nkeywords = [\"ab\"]\nregex = '(a'\n",
            ".ferret.toml:1",
            "invalid regex",
        ),
    ];
    for (text, place, what) in cases {
        write(d.path(), ".ferret.toml", text);
        let o = ferret()
            .current_dir(d.path())
            .args(["scan", "."])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{text}");
        let err = stderr(&o);
        assert!(err.contains(place) && err.contains(what), "{text}: {err}");
    }
}

#[test]
fn config_init_writes_a_starter_that_parses() {
    let d = dir();
    let o = ferret()
        .current_dir(d.path())
        .args(["config", "init"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(
        std::fs::read_to_string(d.path().join(".ferret.toml"))
            .unwrap()
            .contains("[scan]")
    );
    let o = ferret()
        .current_dir(d.path())
        .args(["config", "init"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "does not overwrite");
    let (code, _, err) = json_report(d.path(), &["scan", "."]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn exit_zero_fail_on_and_confidence_flags() {
    let d = dir();
    write(d.path(), "a.env", format!("T={GH_TOKEN}\n"));
    write(d.path(), "b.env", "DB_PASSWORD=\"Zq8vL2mK9xT4\"\n");
    let (code, fs, _) = scan(d.path(), &["--exit-zero"]);
    assert_eq!((code, fs.len()), (0, 2));
    std::fs::remove_file(d.path().join("a.env")).unwrap();
    let (code, fs, _) = scan(d.path(), &["--fail-on", "high"]);
    assert_eq!(
        (code, fs.len()),
        (0, 1),
        "a medium finding is reported without failing"
    );
    let (code, fs, _) = scan(d.path(), &["--confidence", "high"]);
    assert_eq!((code, fs.len()), (0, 0));
}

#[test]
fn identifiers_are_counted_not_reported_unless_low_confidence_is_asked_for() {
    let d = dir();
    // An ARN and a bucket path name resources; they are not secrets.
    write(
        d.path(),
        "deploy.tf",
        "role_arn = \"arn:aws:iam::493817266045:role/deploy-prod\"\n\
         source = \"s3://acme-build-artifacts-7731/releases/app.zip\"\n",
    );
    let o = ferret()
        .current_dir(d.path())
        .args(["scan", "."])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // The summary line ends the human report.
    let out = stdout(&o);
    assert!(
        out.contains("0 findings") && out.contains("2 below medium confidence not shown"),
        "{out}"
    );
    let (code, fs, _) = scan(d.path(), &["--confidence", "low"]);
    assert_eq!(code, 1);
    let mut rules: Vec<&str> = fs.iter().map(|f| f["rule_id"].as_str().unwrap()).collect();
    rules.sort();
    assert_eq!(rules, ["aws.arn", "aws.s3-bucket-path"]);
    // The configuration file can lower the threshold too.
    write(
        d.path(),
        ".ferret.toml",
        "[scan]\nmin_confidence = \"low\"\n",
    );
    let (code, fs, _) = scan(d.path(), &[]);
    assert_eq!((code, fs.len()), (1, 2));
}

#[test]
fn passwords_in_test_files_are_low_confidence_but_token_formats_are_not() {
    let d = dir();
    // The scan root sits in a directory named `test`: only paths below it count.
    let root = d.path().join("test").join("proj");
    write(&root, "src/db.py", "DB_PASSWORD = \"Zq8vL2mK9xT4\"\n");
    write(
        &root,
        "tests/test_db.py",
        "DB_PASSWORD = \"Wd3kP9sLq2Xv\"\n",
    );
    write(
        &root,
        "internal/store_test.go",
        format!("const tok = \"{GH_TOKEN}\"\n"),
    );
    let root_arg = root.to_str().unwrap();
    let (code, v, err) = json_report(d.path(), &["scan", root_arg]);
    assert_eq!(code, 1, "{err}");
    let mut got: Vec<(String, String)> = findings(&v)
        .iter()
        .map(|f| {
            let p = f["path"].as_str().unwrap();
            (
                p[root_arg.len() + 1..].to_string(),
                f["confidence"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("internal/store_test.go".to_string(), "high".to_string()),
            ("src/db.py".to_string(), "medium".to_string()),
        ]
    );
    assert_eq!(v["summary"]["below_confidence"], 1);
    let (_, v, _) = json_report(d.path(), &["scan", root_arg, "--confidence", "low"]);
    let low: Vec<&str> = findings(&v)
        .iter()
        .filter(|f| f["confidence"] == "low")
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(low.len(), 1);
    assert!(low[0].ends_with("tests/test_db.py"), "{low:?}");
}

#[test]
fn baseline_round_trip_move_new_and_prune() {
    let d = dir();
    write(d.path(), "app.env", format!("A=1\nT={GH_TOKEN}\n"));
    write(d.path(), "old.env", format!("T={GH_TOKEN_2}\n"));
    let o = ferret()
        .current_dir(d.path())
        .args(["scan", ".", "-q", "--baseline-write", "baseline.txt"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let text = std::fs::read_to_string(d.path().join("baseline.txt")).unwrap();
    assert!(
        !text.contains(GH_TOKEN) && !text.contains(GH_TOKEN_2),
        "no secrets stored"
    );
    let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines, sorted, "one sorted entry per line");
    assert_eq!(lines.len(), 2);
    // Known findings are suppressed, even after the code moves within the file.
    write(
        d.path(),
        "app.env",
        format!("# moved\n\n\nA=1\nT={GH_TOKEN}\n"),
    );
    let (code, fs, _) = scan(d.path(), &["--baseline", "baseline.txt"]);
    assert_eq!((code, fs.len()), (0, 0));
    // A new secret is reported.
    write(
        d.path(),
        "new.env",
        "T=ghp_Nw9Qx8Tz2Vb6Nk9Rw3Yh7Jd5Pf1Sc0Ge8Uab\n",
    );
    let (code, fs, _) = scan(d.path(), &["--baseline", "baseline.txt"]);
    assert_eq!(code, 1);
    assert_eq!(
        secrets(&fs),
        vec!["ghp_Nw9Qx8Tz2Vb6Nk9Rw3Yh7Jd5Pf1Sc0Ge8Uab"]
    );
    // Pruning drops the entry whose secret is gone, and lists it.
    std::fs::remove_file(d.path().join("old.env")).unwrap();
    let o = ferret()
        .current_dir(d.path())
        .args([
            "scan",
            ".",
            "-q",
            "-f",
            "json",
            "--baseline",
            "baseline.txt",
            "--baseline-prune",
        ])
        .output()
        .unwrap();
    assert!(
        stderr(&o).contains("pruned 1 baseline entries") && stderr(&o).contains("old.env"),
        "{}",
        stderr(&o)
    );
    let text = std::fs::read_to_string(d.path().join("baseline.txt")).unwrap();
    assert_eq!(text.lines().filter(|l| !l.starts_with('#')).count(), 1);
    assert!(text.contains("app.env"));
}

#[test]
fn redact_keeps_secrets_out_of_json_and_jsonl_reports_but_keeps_locations() {
    let d = dir();
    write(d.path(), "a.env", format!("T={GH_TOKEN}\n"));
    // A token found only after base64 decoding: the line holds it in encoded form.
    let encoded = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(GH_TOKEN_2)
    };
    write(d.path(), "b.yaml", format!("data:\n  token: {encoded}\n"));
    for format in ["json", "jsonl"] {
        let o = run(d.path(), &["scan", ".", "--redact", "-f", format]);
        assert_eq!(o.status.code(), Some(1), "{format}");
        let out = stdout(&o);
        assert!(!out.contains(GH_TOKEN), "{format}: {out}");
        assert!(!out.contains(GH_TOKEN_2), "{format}: {out}");
        assert!(!out.contains(&encoded), "{format}: {out}");
        let findings: Vec<serde_json::Value> = if format == "json" {
            findings(&serde_json::from_str(&out).unwrap()).clone()
        } else {
            out.lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect()
        };
        assert_eq!(findings.len(), 2, "{format}: {out}");
        let gh = findings.iter().find(|f| f["path"] == "a.env").unwrap();
        assert_eq!(gh["secret"], "ghp_R7…(40)");
        assert_eq!(gh["context"], "T=ghp_R7…(40)");
        assert_eq!(
            (gh["line"].as_u64(), gh["column"].as_u64()),
            (Some(1), Some(3))
        );
        let decoded = findings.iter().find(|f| f["path"] == "b.yaml").unwrap();
        assert_eq!(decoded["decoded"], "base64");
        assert_eq!(decoded["secret"], "ghp_Lm…(40)");
        assert_eq!(decoded["context"], "");
    }
    // Without --redact the machine report carries the secret.
    let (_, fs, _) = scan(d.path(), &[]);
    assert!(secrets(&fs).contains(&GH_TOKEN.to_string()));
    // --redact and --show-secrets contradict each other.
    let o = run(d.path(), &["scan", ".", "--redact", "--show-secrets"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn exclude_and_disable_rule_flags_add_to_the_configuration() {
    let d = dir();
    write(d.path(), "a.env", format!("T={GH_TOKEN}\n"));
    write(d.path(), "b/c.env", format!("T={GH_TOKEN_2}\n"));
    write(
        d.path(),
        "vendor/lib/x.py",
        "password = \"Vq7-Lm2xR9tZ4wKp\"\n",
    );
    let paths = |extra: &[&str]| {
        let (_, fs, err) = scan(d.path(), extra);
        let mut v: Vec<String> = fs
            .iter()
            .map(|f| f["path"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        (v, err)
    };
    assert_eq!(paths(&[]).0, ["a.env", "b/c.env", "vendor/lib/x.py"]);
    assert_eq!(paths(&["--exclude", "vendor/"]).0, ["a.env", "b/c.env"]);
    assert_eq!(
        paths(&["--exclude", "vendor/", "--exclude", "b/*.env"]).0,
        ["a.env"]
    );
    assert_eq!(
        paths(&["--disable-rule", "generic.password"]).0,
        ["a.env", "b/c.env"]
    );
    // Excluding an archive excludes the findings inside it.
    let jar = zip_of(&[("BOOT-INF/app.env", format!("T={GH_TOKEN}\n").as_bytes())]);
    write(d.path(), "lib/app.jar", jar);
    assert!(
        paths(&[])
            .0
            .contains(&"lib/app.jar!BOOT-INF/app.env".to_string())
    );
    assert!(
        !paths(&["--exclude", "lib/app.jar"])
            .0
            .iter()
            .any(|p| p.starts_with("lib/"))
    );
    assert!(
        !paths(&["--exclude", "*.jar"])
            .0
            .iter()
            .any(|p| p.starts_with("lib/"))
    );
    std::fs::remove_file(d.path().join("lib/app.jar")).unwrap();
    // The configuration's exclusions still apply alongside the flag's.
    write(
        d.path(),
        ".ferret.toml",
        "[scan]\nexclude_paths = [\"a.env\"]\n",
    );
    assert_eq!(paths(&["--exclude", "vendor/"]).0, ["b/c.env"]);
    // An unknown rule id is an error, not a silent no-op.
    let o = run(d.path(), &["scan", ".", "--disable-rule", "nope.rule"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--disable-rule: no rule has the id `nope.rule`"),
        "{err}"
    );
}

#[test]
fn sarif_has_rules_results_fingerprints_and_valid_columns() {
    let d = dir();
    write(d.path(), "my dir/a.env", format!("x\n  T={GH_TOKEN}\n"));
    let o = ferret()
        .current_dir(d.path())
        .args(["scan", ".", "-f", "sarif", "-o", "out.sarif"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.path().join("out.sarif")).unwrap()).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    assert_eq!(
        run["tool"]["driver"]["rules"][0]["id"],
        "github.pat-classic"
    );
    let r = &run["results"][0];
    assert_eq!(r["ruleId"], "github.pat-classic");
    let loc = &r["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "my%20dir/a.env");
    assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert_eq!(loc["region"]["startLine"], 2);
    assert_eq!(loc["region"]["startColumn"], 5);
    assert_eq!(loc["region"]["endColumn"], 45);
    assert_eq!(
        r["partialFingerprints"]["ferretFingerprint/v1"]
            .as_str()
            .unwrap()
            .len(),
        32
    );
    assert!(
        !std::fs::read_to_string(d.path().join("out.sarif"))
            .unwrap()
            .contains(GH_TOKEN)
    );
}

/// Microsoft's SARIF Multitool (`npm i -g @microsoft/sarif-multitool`; .ci/run installs
/// it) accepts ferret's SARIF for directory and history scans with zero errors.
#[test]
fn sarif_passes_the_sarif_multitool_validator() {
    let d = dir();
    git_init(d.path());
    write(
        d.path(),
        "a dir/é.env",
        format!("x\n  T={GH_TOKEN}\nP=\"Zq8vL2mK9xT4\" password\n"),
    );
    // A binary key store: a finding that covers a whole file.
    write(d.path(), "keystore.p12", key_file("key.p12"));
    git(d.path(), &["add", "-A"]);
    git(d.path(), &["commit", "-q", "-m", "add"]);
    for cmd in ["scan", "history"] {
        let out = d.path().join(format!("{cmd}.sarif"));
        let o = ferret()
            .current_dir(d.path())
            .args([cmd, ".", "-f", "sarif", "-o", out.to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let v = std::process::Command::new("sarif-multitool")
            .args(["validate", out.to_str().unwrap()])
            .output()
            .expect("sarif-multitool is installed (npm i -g @microsoft/sarif-multitool)");
        let text = format!("{}{}", stdout(&v), stderr(&v));
        assert!(v.status.success(), "{cmd}: {text}");
        assert!(!text.contains("error"), "{cmd}: {text}");
    }
}

#[test]
fn only_rule_runs_the_selected_rules_and_prefix_patterns_select_families() {
    let d = dir();
    write(d.path(), "a.env", format!("T={GH_TOKEN}\n"));
    write(d.path(), "b.py", "password = \"Vq7-Lm2xR9tZ4wKp\"\n");
    let rules = |extra: &[&str]| {
        let (_, fs, err) = scan(d.path(), extra);
        let mut v: Vec<String> = fs
            .iter()
            .map(|f| f["rule_id"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        (v, err)
    };
    assert_eq!(rules(&[]).0, ["generic.password", "github.pat-classic"]);
    assert_eq!(
        rules(&["--only-rule", "github.pat-classic"]).0,
        ["github.pat-classic"]
    );
    assert_eq!(rules(&["--only-rule", "generic.*"]).0, ["generic.password"]);
    assert_eq!(
        rules(&["--disable-rule", "github.*"]).0,
        ["generic.password"]
    );
    // A pattern that selects no rule is an error.
    let o = run(d.path(), &["scan", ".", "--only-rule", "nope.*"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--only-rule: no rule has the id `nope.*`"),
        "{err}"
    );
}

#[test]
fn sample_logins_typed_values_and_hashes_in_tests_are_low_confidence() {
    let d = dir();
    let hash = "$6$zbnUMRoOGxto31L5$NZ.ueTTn8.g2UlxlL105ubkBNYFlVY/WjseKRdl947lPU8/NvTDTR3ORVmLM51rn9rgFOZNSMquJx1lG03V0Fv";
    write(
        d.path(),
        "guide/engines.rst",
        "engine = create_engine(\"postgresql://scott:tiger@localhost/test\")\n\
         engine = create_engine(\"mysql://postgres:postgres@db/app\")\n\
         api_key = \"e3b68aa711e6deadc62d5b76355674beef7cc3116062ddba\"\n",
    );
    write(
        d.path(),
        "tests/test_auth.py",
        format!("HASH = \"{hash}\"\n"),
    );
    write(
        d.path(),
        "deploy/app.env",
        format!("DATABASE_URL=postgresql://app:Vq7-Lm2xR9tZ4wKp@db/app\nHASH='{hash}'\n"),
    );
    let (code, v, err) = json_report(d.path(), &["scan", ".", "--confidence", "low"]);
    assert_eq!(code, 1, "{err}");
    assert_path_rule_confidence(
        &v,
        &[
            ("deploy/app.env", "password-hashes.sha512crypt", "medium"),
            ("deploy/app.env", "uri.postgres", "high"),
            ("guide/engines.rst", "generic.api-key", "low"),
            ("guide/engines.rst", "uri.mysql", "low"),
            ("guide/engines.rst", "uri.postgres", "low"),
            ("tests/test_auth.py", "password-hashes.sha512crypt", "low"),
        ],
    );
}

#[test]
fn values_that_documentation_introduces_as_examples_are_low_confidence() {
    let d = dir();
    // The same password, under an example's heading in a package's documentation
    // and in a deployment file; a provider's token under the heading keeps its
    // confidence.
    let body = "    AdminPass: \"aUPtawPzE9NU\",\n    GitHub: \"ghp_k3Vq9ZxT2mLw8RbN4cY7pHs1JdF6gA0eUoQi\",\n";
    write(
        d.path(),
        "compute/doc.go",
        format!("/*\nExample to rescue a server\n\n  opts := RescueOpts{{\n{body}  }}\n*/\n"),
    );
    write(
        d.path(),
        "deploy/rescue.go",
        format!("opts := RescueOpts{{\n{body}}}\n"),
    );
    let (code, v, err) = json_report(d.path(), &["scan", ".", "--confidence", "low"]);
    assert_eq!(code, 1, "{err}");
    assert_path_rule_confidence(
        &v,
        &[
            ("compute/doc.go", "generic.password", "low"),
            ("compute/doc.go", "github.pat-classic", "high"),
            ("deploy/rescue.go", "generic.password", "medium"),
            ("deploy/rescue.go", "github.pat-classic", "high"),
        ],
    );
}
