//! `ferret staged` and `ferret hook`: real repositories, real `git commit`s.

use std::path::Path;

use crate::common::*;

fn repo_with_commit() -> TempDir {
    let d = dir();
    git_init(d.path());
    write(d.path(), "README.md", "hello\n");
    git(d.path(), &["add", "-A"]);
    git(d.path(), &["commit", "-q", "-m", "init"]);
    d
}

fn staged(d: &Path, env: &[(&str, &str)]) -> (i32, Vec<serde_json::Value>, String) {
    let mut c = ferret();
    c.current_dir(d).args(["staged", "-f", "json"]);
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {} {}", stdout(&o), stderr(&o)));
    (o.status.code().unwrap(), findings(&v).clone(), stderr(&o))
}

#[test]
fn staged_new_file_with_secret_is_reported_at_its_staged_line() {
    let d = repo_with_commit();
    write(
        d.path(),
        "service.env",
        format!("LOG=debug\nGITHUB_TOKEN={GH_TOKEN}\n"),
    );
    git(d.path(), &["add", "service.env"]);
    let (code, fs, _) = staged(d.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(fs.len(), 1);
    assert_eq!(fs[0]["path"], "service.env");
    assert_eq!(
        (fs[0]["line"].as_u64(), fs[0]["column"].as_u64()),
        (Some(2), Some(14))
    );
}

#[test]
fn unstaged_changes_are_not_scanned() {
    let d = repo_with_commit();
    write(
        d.path(),
        "service.env",
        format!("GITHUB_TOKEN={GH_TOKEN}\n"),
    );
    let (code, fs, _) = staged(d.path(), &[]);
    assert_eq!((code, fs.len()), (0, 0));
}

#[test]
fn only_the_secret_the_commit_adds_is_reported() {
    let d = dir();
    git_init(d.path());
    write(d.path(), "app.env", format!("OLD={GH_TOKEN}\nA=1\n"));
    git(d.path(), &["add", "-A"]);
    git(d.path(), &["commit", "-q", "-m", "old secret"]);
    write(
        d.path(),
        "app.env",
        format!("# moved down\nOLD={GH_TOKEN}\nA=1\nNEW={GH_TOKEN_2}\n"),
    );
    git(d.path(), &["add", "-A"]);
    let (code, fs, _) = staged(d.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(fs.len(), 1, "{fs:#?}");
    assert_eq!(fs[0]["secret"], GH_TOKEN_2);
    assert_eq!(fs[0]["line"], 4);
}

#[test]
fn a_line_changed_around_an_existing_secret_is_not_reported() {
    let d = dir();
    git_init(d.path());
    write(d.path(), "app.env", format!("TOKEN={GH_TOKEN}\n"));
    git(d.path(), &["add", "-A"]);
    git(d.path(), &["commit", "-q", "-m", "old"]);
    write(
        d.path(),
        "app.env",
        format!("TOKEN={GH_TOKEN} # still here\n"),
    );
    git(d.path(), &["add", "-A"]);
    let (code, fs, _) = staged(d.path(), &[]);
    assert_eq!((code, fs.len()), (0, 0), "{fs:#?}");
}

#[test]
fn rename_of_a_file_with_a_committed_secret_is_not_reported() {
    let d = dir();
    git_init(d.path());
    write(d.path(), "a.env", format!("T={GH_TOKEN}\n"));
    git(d.path(), &["add", "-A"]);
    git(d.path(), &["commit", "-q", "-m", "a"]);
    git(d.path(), &["mv", "a.env", "b.env"]);
    let (code, fs, _) = staged(d.path(), &[]);
    assert_eq!((code, fs.len()), (0, 0));
}

#[test]
fn first_commit_with_unborn_head_is_scanned() {
    let d = dir();
    git_init(d.path());
    write(d.path(), "deep/dir/x.env", format!("T={GH_TOKEN}\n"));
    git(d.path(), &["add", "-A"]);
    let (code, fs, _) = staged(d.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(fs[0]["path"], "deep/dir/x.env");
}

#[test]
fn git_index_file_is_honoured() {
    let d = repo_with_commit();
    write(d.path(), "a.env", format!("T={GH_TOKEN}\n"));
    let alt = d.path().join(".git/alt-index");
    std::fs::copy(d.path().join(".git/index"), &alt).unwrap();
    let o = std::process::Command::new("git")
        .current_dir(d.path())
        .env("GIT_INDEX_FILE", &alt)
        .args(["add", "a.env"])
        .output()
        .unwrap();
    assert!(o.status.success());
    let (code, _, _) = staged(d.path(), &[]);
    assert_eq!(code, 0, "the default index has nothing staged");
    let (code, fs, _) = staged(d.path(), &[("GIT_INDEX_FILE", alt.to_str().unwrap())]);
    assert_eq!(code, 1);
    assert_eq!(fs[0]["path"], "a.env");
}

#[test]
fn a_token_in_a_staged_binary_file_is_reported_and_a_huge_file_is_skipped() {
    let d = repo_with_commit();
    let mut bin = b"\0\x01\x02".to_vec();
    bin.extend_from_slice(format!("T={GH_TOKEN}").as_bytes());
    write(d.path(), "blob.bin", &bin);
    let mut big = format!("T={GH_TOKEN_2}\n").into_bytes();
    big.resize(3000, b'x');
    write(d.path(), "big.txt", &big);
    git(d.path(), &["add", "-A"]);
    let o = ferret()
        .current_dir(d.path())
        .args(["staged", "-f", "json", "--max-file-size", "2KB"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let f = &v["findings"][0];
    assert_eq!(
        (f["path"].as_str(), f["secret"].as_str()),
        (Some("blob.bin"), Some(GH_TOKEN))
    );
    assert_eq!(v["findings"].as_array().unwrap().len(), 1);
    assert_eq!(v["summary"]["binary"], 1);
    assert_eq!(v["summary"]["skipped_too_large"], 1);
    assert!(stderr(&o).contains("big.txt"), "{}", stderr(&o));
}

#[test]
fn paths_with_spaces_and_non_utf8_bytes_are_reported() {
    use std::os::unix::ffi::OsStrExt;
    let d = repo_with_commit();
    write(d.path(), "my dir/a file.env", format!("T={GH_TOKEN}\n"));
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.env");
    std::fs::write(d.path().join(name), format!("T={GH_TOKEN_2}\n")).unwrap();
    git(d.path(), &["add", "-A"]);
    let (code, fs, _) = staged(d.path(), &[]);
    assert_eq!(code, 1);
    let mut paths: Vec<&str> = fs.iter().map(|f| f["path"].as_str().unwrap()).collect();
    paths.sort();
    assert_eq!(paths, vec!["caf\u{fffd}.env", "my dir/a file.env"]);
}

#[test]
fn deleted_files_are_skipped() {
    let d = dir();
    git_init(d.path());
    write(d.path(), "a.env", format!("T={GH_TOKEN}\n"));
    git(d.path(), &["add", "-A"]);
    git(d.path(), &["commit", "-q", "-m", "a"]);
    git(d.path(), &["rm", "-q", "a.env"]);
    let (code, fs, _) = staged(d.path(), &[]);
    assert_eq!((code, fs.len()), (0, 0));
}

#[test]
fn blocked_commit_message_says_what_to_do() {
    let d = repo_with_commit();
    write(d.path(), "a.env", format!("T={GH_TOKEN}\n"));
    git(d.path(), &["add", "-A"]);
    let o = ferret()
        .current_dir(d.path())
        .arg("staged")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.contains("a.env") && out.contains("1:3") && out.contains("github.pat-classic"),
        "{out}"
    );
    assert!(!out.contains(GH_TOKEN), "redacted");
    let err = stderr(&o);
    for hint in ["git add", "ferret:allow", "--no-verify", "rotate"] {
        assert!(err.contains(hint), "missing {hint}: {err}");
    }
}

fn commit_with_hook(d: &Path) -> std::process::Output {
    std::process::Command::new("git")
        .current_dir(d)
        .args(["commit", "-q", "-m", "try"])
        .env("PATH", path_with_ferret())
        .output()
        .unwrap()
}

fn path_with_ferret() -> String {
    let bin = assert_cmd::cargo::cargo_bin("ferret");
    format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

#[test]
fn installed_hook_blocks_a_secret_and_lets_a_clean_commit_through() {
    let d = repo_with_commit();
    let o = ferret()
        .current_dir(d.path())
        .args(["hook", "install"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let hook = d.path().join(".git/hooks/pre-commit");
    assert!(
        std::fs::read_to_string(&hook)
            .unwrap()
            .contains("ferret staged")
    );
    write(d.path(), "a.env", format!("T={GH_TOKEN}\n"));
    git(d.path(), &["add", "-A"]);
    let o = commit_with_hook(d.path());
    assert!(!o.status.success(), "the hook blocks the commit");
    assert!(
        stderr(&o).contains("--no-verify") || stdout(&o).contains("github"),
        "{}",
        stderr(&o)
    );
    write(d.path(), "a.env", "T=nothing\n");
    git(d.path(), &["add", "-A"]);
    let o = commit_with_hook(d.path());
    assert!(o.status.success(), "{}", stderr(&o));
    // `git commit -a` runs the hook against a temporary index.
    write(d.path(), "a.env", format!("T={GH_TOKEN_2}\n"));
    let o = std::process::Command::new("git")
        .current_dir(d.path())
        .args(["commit", "-q", "-a", "-m", "all"])
        .env("PATH", path_with_ferret())
        .output()
        .unwrap();
    assert!(!o.status.success(), "commit -a is blocked too");
}

#[test]
fn hook_install_respects_foreign_hooks_and_core_hooks_path() {
    let d = repo_with_commit();
    write(d.path(), ".git/hooks/pre-commit", "#!/bin/sh\necho mine\n");
    let o = ferret()
        .current_dir(d.path())
        .args(["hook", "install"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    let o = ferret()
        .current_dir(d.path())
        .args(["hook", "uninstall"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "a foreign hook is not removed");
    assert!(d.path().join(".git/hooks/pre-commit").exists());
    let o = ferret()
        .current_dir(d.path())
        .args(["hook", "install", "--force"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let o = ferret()
        .current_dir(d.path())
        .args(["hook", "uninstall"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(!d.path().join(".git/hooks/pre-commit").exists());
    git(d.path(), &["config", "core.hooksPath", "githooks"]);
    let o = ferret()
        .current_dir(d.path())
        .args(["hook", "install"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(d.path().join("githooks/pre-commit").exists());
}

/// The pre-commit framework builds ferret from this project (language: rust) and runs
/// it as the hook in `.pre-commit-hooks.yaml`.
#[test]
fn pre_commit_framework_blocks_a_staged_secret_and_passes_a_clean_commit() {
    let Ok(ver) = std::process::Command::new("pre-commit")
        .arg("--version")
        .output()
    else {
        panic!("pre-commit is not installed: `python3 -m pip install pre-commit` (.ci/run does)");
    };
    assert!(ver.status.success());
    let project = env!("CARGO_MANIFEST_DIR");
    let home = dir();
    let d = repo_with_commit();
    let run = |d: &Path| {
        std::process::Command::new("pre-commit")
            .current_dir(d)
            .args(["try-repo", project, "ferret"])
            .env("PRE_COMMIT_HOME", home.path())
            .env("CARGO_TARGET_DIR", format!("{project}/target/pre-commit"))
            .env("CARGO_PROFILE_RELEASE_LTO", "off")
            .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16")
            .output()
            .unwrap()
    };
    write(d.path(), "a.env", format!("T={GH_TOKEN}\n"));
    git(d.path(), &["add", "-A"]);
    let o = run(d.path());
    assert!(!o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("github.pat-classic"), "{}", stdout(&o));
    write(d.path(), "a.env", "T=nothing\n");
    git(d.path(), &["add", "-A"]);
    let o = run(d.path());
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
}

#[test]
fn a_staged_key_store_is_reported_and_a_staged_trust_store_is_not() {
    let d = repo_with_commit();
    write(d.path(), "app/keystore.jks", key_file("key.jks"));
    write(d.path(), "app/truststore.p12", key_file("javatrust.p12"));
    git(d.path(), &["add", "app"]);
    let (code, fs, err) = staged(d.path(), &[]);
    assert_eq!(code, 1, "{err}");
    let found: Vec<(&str, &str)> = fs
        .iter()
        .map(|f| (f["path"].as_str().unwrap(), f["rule_id"].as_str().unwrap()))
        .collect();
    assert_eq!(found, vec![("app/keystore.jks", "private-keys.jks-file")]);
    git(d.path(), &["commit", "-q", "-m", "keys"]);
    write(d.path(), "README.md", "hello again\n");
    git(d.path(), &["add", "README.md"]);
    let (code, fs, _) = staged(d.path(), &[]);
    assert_eq!(
        (code, fs.len()),
        (0, 0),
        "a committed key store is not staged again"
    );
}

#[test]
fn a_staged_archive_reports_only_the_secrets_its_committed_version_lacked() {
    let d = repo_with_commit();
    let v1 = zip_of(&[("conf/app.env", format!("T={GH_TOKEN}\n").as_bytes())]);
    write(d.path(), "dist/bundle.zip", &v1);
    git(d.path(), &["add", "dist"]);
    let (code, fs, err) = staged(d.path(), &[]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(fs.len(), 1);
    assert_eq!(fs[0]["path"], "dist/bundle.zip!conf/app.env");
    git(d.path(), &["commit", "-q", "-m", "bundle"]);
    let v2 = zip_of(&[
        ("conf/app.env", format!("T={GH_TOKEN}\n").as_bytes()),
        ("conf/extra.env", format!("U={GH_TOKEN_2}\n").as_bytes()),
    ]);
    write(d.path(), "dist/bundle.zip", &v2);
    git(d.path(), &["add", "dist"]);
    let (code, fs, _) = staged(d.path(), &[]);
    assert_eq!(code, 1);
    let paths: Vec<&str> = fs.iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(paths, vec!["dist/bundle.zip!conf/extra.env"]);
}

#[test]
fn a_rebuilt_binary_reports_only_the_tokens_its_committed_version_lacked() {
    let d = repo_with_commit();
    let build = |tokens: &[&str], stamp: u8| {
        let mut b = vec![0x7f, b'E', b'L', b'F', 0, stamp];
        for t in tokens {
            b.extend_from_slice(t.as_bytes());
            b.extend_from_slice(&[0, stamp, 0]);
        }
        b
    };
    write(d.path(), "bin/tool", build(&[GH_TOKEN], 1));
    git(d.path(), &["add", "-A"]);
    git(d.path(), &["commit", "-q", "-m", "tool"]);
    // Rebuilt with other bytes: the token it already held is not new.
    write(d.path(), "bin/tool", build(&[GH_TOKEN], 2));
    git(d.path(), &["add", "-A"]);
    let (code, fs, err) = staged(d.path(), &[]);
    assert_eq!((code, fs.len()), (0, 0), "{err} {fs:?}");
    // Rebuilt with a second token: only that one is reported.
    write(d.path(), "bin/tool", build(&[GH_TOKEN, GH_TOKEN_2], 3));
    git(d.path(), &["add", "-A"]);
    let (code, fs, err) = staged(d.path(), &[]);
    assert_eq!(code, 1, "{err}");
    let secrets: Vec<&str> = fs.iter().map(|f| f["secret"].as_str().unwrap()).collect();
    assert_eq!(secrets, vec![GH_TOKEN_2]);
}
