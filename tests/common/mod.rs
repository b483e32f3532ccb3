//! Shared helpers: a temp dir per test, running the binary, building git repositories.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

pub use assert_cmd::Command;
pub use tempfile::TempDir;

/// A GitHub classic PAT in the real format (fake; 36 base62 characters).
pub const GH_TOKEN: &str = "ghp_R7kLq2Vx9Zb4Nm8Tp3Wc6Yd1Hf5Js0Ga2Qeu";
/// A second, different token of the same kind.
pub const GH_TOKEN_2: &str = "ghp_Lm4Qx8Tz2Vb6Nk9Rw3Yh7Jd5Pf1Sc0Ge8Uab";

/// A rule file matching `tok_` + 20 alphanumerics, used where tests need a rule that
/// does not depend on the built-in set.
pub const TEST_RULES: &str = r#"
[[rules]]
id = "test.token"
name = "Test Token"
keywords = ["tok_"]
regex = '\b(tok_[A-Za-z0-9]{20})\b'
confidence = "high"
examples = ["t = tok_Ab3dE5gH7jK9mN1pQ3sT"]
negative_examples = ["t = tok_short"]
"#;

pub fn dir() -> TempDir {
    tempfile::Builder::new()
        .prefix("ferret-test")
        .tempdir()
        .expect("temp dir")
}

pub fn ferret() -> Command {
    let mut c = Command::cargo_bin("ferret").expect("binary built");
    c.env_remove("GIT_INDEX_FILE").env("NO_COLOR", "1");
    c
}

pub fn write(root: &Path, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, contents).unwrap();
    p
}

/// Runs `ferret` with `args` in `cwd` and returns its output (status, stdout, stderr).
pub fn run(cwd: &Path, args: &[&str]) -> Output {
    ferret().current_dir(cwd).args(args).output().unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs `ferret` with `args` in `cwd` and parses its JSON report (--format json).
pub fn json_report(cwd: &Path, args: &[&str]) -> (i32, serde_json::Value, String) {
    let o = ferret()
        .current_dir(cwd)
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("bad JSON ({e}): {}\nstderr: {}", stdout(&o), stderr(&o)));
    (o.status.code().unwrap_or(-1), v, stderr(&o))
}

pub fn findings(v: &serde_json::Value) -> &Vec<serde_json::Value> {
    v["findings"].as_array().expect("findings array")
}

/// Asserts that a JSON report's findings, as sorted (path, rule id, confidence), are
/// `want` (sorted too).
pub fn assert_path_rule_confidence(v: &serde_json::Value, want: &[(&str, &str, &str)]) {
    let field = |f: &serde_json::Value, k: &str| f[k].as_str().unwrap().to_string();
    let mut got: Vec<(String, String, String)> = findings(v)
        .iter()
        .map(|f| {
            (
                field(f, "path"),
                field(f, "rule_id"),
                field(f, "confidence"),
            )
        })
        .collect();
    got.sort();
    let want: Vec<(String, String, String)> = want
        .iter()
        .map(|(p, r, c)| (p.to_string(), r.to_string(), c.to_string()))
        .collect();
    assert_eq!(got, want, "{v}");
}

/// Runs git in `dir` with a fixed identity and dates; panics on failure.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let o = std::process::Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Alice Dev")
        .env("GIT_AUTHOR_EMAIL", "alice@dev.test")
        .env("GIT_COMMITTER_NAME", "Alice Dev")
        .env("GIT_COMMITTER_EMAIL", "alice@dev.test")
        .env("GIT_AUTHOR_DATE", "2024-01-02T03:04:05Z")
        .env("GIT_COMMITTER_DATE", "2024-01-02T03:04:05Z")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_DIR")
        .output()
        .expect("git runs");
    assert!(
        o.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

pub fn git_init(dir: &Path) {
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["config", "user.name", "Alice Dev"]);
    git(dir, &["config", "user.email", "alice@dev.test"]);
    git(dir, &["config", "commit.gpgsign", "false"]);
}

/// The binary key files made by `tests/fixtures/keys/make.sh`, and the rule that must
/// report each (`None`: certificate-only stores, certificates and public keys, which
/// must not be reported).
pub const KEY_FILES: &[(&str, Option<&str>)] = &[
    ("key.p12", Some("private-keys.pkcs12-file")),
    ("java.p12", Some("private-keys.pkcs12-file")),
    ("trust.p12", None),
    ("javatrust.p12", None),
    ("key.jks", Some("private-keys.jks-file")),
    ("trust.jks", None),
    ("key.jceks", Some("private-keys.jceks-file")),
    ("sec.jceks", Some("private-keys.jceks-file")),
    ("trust.jceks", None),
    ("rsa8.der", Some("private-keys.der-file")),
    ("rsa1.der", Some("private-keys.der-file")),
    ("sec1.der", Some("private-keys.der-file")),
    ("ec-p8.der", Some("private-keys.der-file")),
    ("ed.der", Some("private-keys.der-file")),
    ("enc8.der", Some("private-keys.der-encrypted-file")),
    ("cert.der", None),
    ("pub.der", None),
    ("sec.gpg", Some("private-keys.openpgp-secret-key-file")),
    ("pub.gpg", None),
];

/// The bytes of a file of `tests/fixtures/keys`.
pub fn key_file(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/keys")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A zip archive (deflated) of `files`.
pub fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in files {
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// A PEM private key: the fixture `rsa8.der` (an unencrypted PKCS#8 key) wrapped in
/// base64 lines of 64.
pub fn pem_key() -> String {
    use base64::Engine as _;
    let body = base64::engine::general_purpose::STANDARD.encode(key_file("rsa8.der"));
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    )
}

/// The bytes of a compiled Java class whose constant pool holds `strings` (each as a
/// length-prefixed UTF-8 entry, as `javac` writes them).
pub fn class_with(strings: &[&str]) -> Vec<u8> {
    let mut class = b"\xca\xfe\xba\xbe\x00\x00\x00\x41".to_vec();
    class.extend_from_slice(&(strings.len() as u16 + 1).to_be_bytes());
    for s in strings {
        class.push(1); // CONSTANT_Utf8
        class.extend_from_slice(&(s.len() as u16).to_be_bytes());
        class.extend_from_slice(s.as_bytes());
    }
    class.extend_from_slice(b"\x00\x21\x00\x02\x00\x03\x00\x00\x00\x00");
    class
}
