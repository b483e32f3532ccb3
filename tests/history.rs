//! `ferret history`: real repositories built with git in temp dirs; provenance is
//! checked exactly (commit, author, date, path, line, column, in HEAD).

use std::path::Path;

use crate::common::*;

/// Commits everything in `dir` with the given message and date; returns the commit id.
fn commit(dir: &Path, msg: &str, date: &str) -> String {
    git(dir, &["add", "-A"]);
    let o = std::process::Command::new("git")
        .current_dir(dir)
        .args(["commit", "-q", "--allow-empty", "-m", msg])
        .env("GIT_AUTHOR_NAME", "Alice Dev")
        .env("GIT_AUTHOR_EMAIL", "alice@dev.test")
        .env("GIT_COMMITTER_NAME", "Alice Dev")
        .env("GIT_COMMITTER_EMAIL", "alice@dev.test")
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    git(dir, &["rev-parse", "HEAD"])
}

fn history(dir: &Path, extra: &[&str]) -> (i32, Vec<serde_json::Value>, String) {
    let mut args = vec!["history", "."];
    args.extend_from_slice(extra);
    let (code, v, err) = json_report(dir, &args);
    (code, findings(&v).clone(), err)
}

fn new_repo() -> TempDir {
    let d = dir();
    git_init(d.path());
    d
}

#[test]
fn secret_added_then_removed_is_traced_to_the_commit_that_added_it() {
    let d = new_repo();
    write(d.path(), "README", "hello\n");
    commit(d.path(), "first", "2024-01-01T10:00:00Z");
    write(
        d.path(),
        "config/app.env",
        format!("LOG=1\n  TOKEN={GH_TOKEN}\n"),
    );
    let added = commit(d.path(), "add config\n\nbody text", "2024-01-02T11:30:00Z");
    std::fs::remove_file(d.path().join("config/app.env")).unwrap();
    commit(d.path(), "remove config", "2024-01-03T09:00:00Z");
    let (code, fs, _) = history(d.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(fs.len(), 1);
    let f = &fs[0];
    assert_eq!(f["commit"], added.as_str());
    assert_eq!(f["author"], "Alice Dev");
    assert_eq!(f["email"], "alice@dev.test");
    assert_eq!(f["date"], "2024-01-02T11:30:00+00:00");
    assert_eq!(f["summary"], "add config");
    assert_eq!(f["path"], "config/app.env");
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(2), Some(9))
    );
    assert_eq!(f["in_head"], false);
    assert_eq!(f["commit_count"], 1);
}

#[test]
fn secret_still_in_head_is_marked_in_head() {
    let d = new_repo();
    write(d.path(), "a.env", format!("T={GH_TOKEN}\n"));
    let c = commit(d.path(), "add", "2024-01-01T10:00:00Z");
    write(d.path(), "a.env", format!("X=1\nT={GH_TOKEN}\n"));
    commit(d.path(), "edit", "2024-01-02T10:00:00Z");
    let (_, fs, _) = history(d.path(), &[]);
    assert_eq!(fs.len(), 1, "one finding for one secret across two blobs");
    assert_eq!(fs[0]["commit"], c.as_str());
    assert_eq!(fs[0]["line"], 1);
    assert_eq!(fs[0]["in_head"], true);
    assert_eq!(fs[0]["commit_count"], 2);
}

#[test]
fn same_secret_on_two_branches_is_one_finding_with_both_occurrences() {
    let d = new_repo();
    write(d.path(), "README", "x\n");
    commit(d.path(), "base", "2024-01-01T00:00:00Z");
    git(d.path(), &["checkout", "-q", "-b", "topic"]);
    write(d.path(), "topic.env", format!("T={GH_TOKEN}\n"));
    let on_topic = commit(d.path(), "topic adds", "2024-01-02T00:00:00Z");
    git(d.path(), &["checkout", "-q", "main"]);
    write(d.path(), "main.env", format!("# again\nT={GH_TOKEN}\n"));
    let on_main = commit(d.path(), "main adds", "2024-01-03T00:00:00Z");
    let (_, fs, _) = history(d.path(), &[]);
    assert_eq!(fs.len(), 1);
    let f = &fs[0];
    assert_eq!(
        f["commit"],
        on_topic.as_str(),
        "the older commit comes first"
    );
    assert_eq!(f["path"], "topic.env");
    assert_eq!(
        (f["commit_count"].as_u64(), f["path_count"].as_u64()),
        (Some(2), Some(2))
    );
    let occ: Vec<(String, String)> = f["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["commit"].as_str().unwrap().into(),
                o["path"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        occ,
        vec![
            (on_topic, "topic.env".to_string()),
            (on_main, "main.env".to_string())
        ]
    );
    assert_eq!(f["in_head"], true, "main.env in HEAD holds it");
}

#[test]
fn merge_does_not_count_as_introducing_a_branch_secret() {
    let d = new_repo();
    write(d.path(), "README", "x\n");
    commit(d.path(), "base", "2024-01-01T00:00:00Z");
    git(d.path(), &["checkout", "-q", "-b", "feature"]);
    write(d.path(), "f.env", format!("T={GH_TOKEN}\n"));
    let feature = commit(d.path(), "feature", "2024-01-02T00:00:00Z");
    git(d.path(), &["checkout", "-q", "main"]);
    write(d.path(), "other.txt", "y\n");
    commit(d.path(), "main work", "2024-01-03T00:00:00Z");
    git(
        d.path(),
        &["merge", "-q", "--no-ff", "-m", "merge feature", "feature"],
    );
    let (_, fs, _) = history(d.path(), &[]);
    assert_eq!(fs.len(), 1);
    assert_eq!(fs[0]["commit"], feature.as_str());
    assert_eq!(fs[0]["commit_count"], 1);
    assert_eq!(fs[0]["in_head"], true);
}

#[test]
fn rename_keeps_first_introduction_and_adds_the_new_path() {
    let d = new_repo();
    write(d.path(), "old.env", format!("T={GH_TOKEN}\n"));
    let first = commit(d.path(), "add", "2024-01-01T00:00:00Z");
    git(d.path(), &["mv", "old.env", "new.env"]);
    let renamed = commit(d.path(), "rename", "2024-01-02T00:00:00Z");
    let (_, fs, _) = history(d.path(), &[]);
    assert_eq!(fs.len(), 1);
    assert_eq!(fs[0]["commit"], first.as_str());
    assert_eq!(fs[0]["path"], "old.env");
    let occ = fs[0]["occurrences"].as_array().unwrap();
    assert_eq!(occ.len(), 2);
    assert_eq!(occ[1]["commit"], renamed.as_str());
    assert_eq!(occ[1]["path"], "new.env");
    assert_eq!(fs[0]["in_head"], true);
}

#[test]
fn commits_reachable_only_from_a_tag_are_scanned() {
    let d = new_repo();
    write(d.path(), "README", "x\n");
    commit(d.path(), "base", "2024-01-01T00:00:00Z");
    git(d.path(), &["checkout", "-q", "-b", "gone"]);
    write(d.path(), "t.env", format!("T={GH_TOKEN}\n"));
    let tagged = commit(d.path(), "tagged", "2024-01-02T00:00:00Z");
    git(d.path(), &["tag", "-a", "v1", "-m", "release"]);
    git(d.path(), &["checkout", "-q", "main"]);
    git(d.path(), &["branch", "-q", "-D", "gone"]);
    let (code, fs, _) = history(d.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(fs[0]["commit"], tagged.as_str());
    assert_eq!(fs[0]["in_head"], false);
}

#[test]
fn stash_and_notes_are_scanned() {
    let d = new_repo();
    write(d.path(), "a.txt", "x\n");
    let c = commit(d.path(), "base", "2024-01-01T00:00:00Z");
    write(d.path(), "a.txt", format!("x\nT={GH_TOKEN}\n"));
    git(d.path(), &["stash", "-q"]);
    git(
        d.path(),
        &["notes", "add", "-m", &format!("note T={GH_TOKEN_2}"), &c],
    );
    let (_, fs, _) = history(d.path(), &[]);
    let mut secrets: Vec<&str> = fs.iter().map(|f| f["secret"].as_str().unwrap()).collect();
    secrets.sort();
    let mut want = vec![GH_TOKEN, GH_TOKEN_2];
    want.sort();
    assert_eq!(secrets, want);
}

#[test]
fn unborn_branch_is_a_clean_scan() {
    let d = new_repo();
    let (code, fs, err) = history(d.path(), &[]);
    assert_eq!((code, fs.len()), (0, 0), "{err}");
}

#[test]
fn bare_repository_and_packed_objects_give_the_same_answer() {
    let d = new_repo();
    write(d.path(), "a.env", format!("T={GH_TOKEN}\n"));
    let c = commit(d.path(), "add", "2024-01-01T00:00:00Z");
    write(d.path(), "b/c.env", format!("\n\nT2={GH_TOKEN_2}\n"));
    commit(d.path(), "add 2", "2024-01-02T00:00:00Z");
    let (_, loose, _) = history(d.path(), &[]);
    let bare = dir();
    let bare_path = bare.path().join("r.git");
    git(
        d.path(),
        &["clone", "-q", "--bare", ".", bare_path.to_str().unwrap()],
    );
    git(&bare_path, &["gc", "-q"]);
    let (code, packed, _) = json_report(&bare_path, &["history", "."]);
    assert_eq!(code, 1);
    assert_eq!(&loose, findings(&packed));
    assert_eq!(loose.len(), 2);
    assert_eq!(loose[0]["commit"], c.as_str());
}

#[test]
fn shallow_clone_scans_what_exists_and_says_so() {
    let d = new_repo();
    write(d.path(), "old.env", format!("T={GH_TOKEN}\n"));
    commit(d.path(), "old", "2024-01-01T00:00:00Z");
    std::fs::remove_file(d.path().join("old.env")).unwrap();
    write(d.path(), "new.env", format!("T={GH_TOKEN_2}\n"));
    let tip = commit(d.path(), "new", "2024-01-02T00:00:00Z");
    let c = dir();
    let url = format!("file://{}", d.path().display());
    git(c.path(), &["clone", "-q", "--depth", "1", &url, "shallow"]);
    let (code, v, err) = json_report(&c.path().join("shallow"), &["history", "."]);
    assert_eq!(code, 1);
    assert!(err.contains("shallow"), "{err}");
    let fs = findings(&v);
    assert_eq!(fs.len(), 1, "the removed secret is beyond the boundary");
    assert_eq!(fs[0]["secret"], GH_TOKEN_2);
    assert_eq!(fs[0]["commit"], tip.as_str());
}

#[test]
fn missing_object_is_reported_by_id_and_the_scan_goes_on() {
    let d = new_repo();
    write(d.path(), "a.env", format!("T={GH_TOKEN}\n"));
    write(d.path(), "b.env", format!("T={GH_TOKEN_2}\n"));
    commit(d.path(), "add", "2024-01-01T00:00:00Z");
    let blob = git(d.path(), &["rev-parse", "HEAD:b.env"]);
    let obj = d
        .path()
        .join(".git/objects")
        .join(&blob[..2])
        .join(&blob[2..]);
    std::fs::remove_file(&obj).unwrap();
    let (code, fs, err) = history(d.path(), &[]);
    assert_eq!(code, 2, "a missing object is an error");
    assert!(err.contains(&blob), "{err}");
    assert_eq!(fs.len(), 1, "the readable blob was still scanned");
    assert_eq!(fs[0]["secret"], GH_TOKEN);
}

#[test]
fn corrupt_object_is_reported_and_the_scan_goes_on() {
    let d = new_repo();
    write(d.path(), "a.env", format!("T={GH_TOKEN}\n"));
    write(d.path(), "b.env", format!("T={GH_TOKEN_2}\n"));
    commit(d.path(), "add", "2024-01-01T00:00:00Z");
    let blob = git(d.path(), &["rev-parse", "HEAD:b.env"]);
    let obj = d
        .path()
        .join(".git/objects")
        .join(&blob[..2])
        .join(&blob[2..]);
    let mut perms = std::fs::metadata(&obj).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&obj, perms).unwrap();
    std::fs::write(&obj, b"this is not zlib data").unwrap();
    let (code, fs, err) = history(d.path(), &[]);
    assert_eq!(code, 2);
    assert!(err.contains(&blob), "{err}");
    assert_eq!(fs.len(), 1);
}

#[test]
fn since_and_range_scan_only_blobs_introduced_in_the_range() {
    let d = new_repo();
    write(d.path(), "old.env", format!("T={GH_TOKEN}\n"));
    let base = commit(d.path(), "old", "2024-01-01T00:00:00Z");
    write(d.path(), "new.env", format!("T={GH_TOKEN_2}\n"));
    let tip = commit(d.path(), "new", "2024-01-02T00:00:00Z");
    let (code, fs, _) = history(d.path(), &["--since", &base]);
    assert_eq!(code, 1);
    assert_eq!(fs.len(), 1);
    assert_eq!(fs[0]["secret"], GH_TOKEN_2);
    assert_eq!(fs[0]["commit"], tip.as_str());
    let (_, v, _) = json_report(d.path(), &["history", ".", "--since", &base]);
    assert_eq!(v["summary"]["scanned"], 1, "only the new blob is read");
    let (_, fs, _) = history(d.path(), &["--range", &format!("{base}..{tip}")]);
    assert_eq!(fs.len(), 1);
    let (code, fs, _) = history(d.path(), &["--range", &format!("{tip}..{tip}")]);
    assert_eq!((code, fs.len()), (0, 0));
    let o = ferret()
        .current_dir(d.path())
        .args(["history", "--since", "no-such-rev"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no-such-rev"), "{}", stderr(&o));
}

#[test]
fn unreachable_blobs_are_scanned_only_when_asked() {
    let d = new_repo();
    write(d.path(), "a.txt", "x\n");
    commit(d.path(), "base", "2024-01-01T00:00:00Z");
    let dangling = write(d.path(), "../dangling.txt", format!("T={GH_TOKEN}\n"));
    git(d.path(), &["hash-object", "-w", dangling.to_str().unwrap()]);
    let (code, fs, _) = history(d.path(), &[]);
    assert_eq!((code, fs.len()), (0, 0));
    let (code, fs, _) = history(d.path(), &["--include-unreachable"]);
    assert_eq!(code, 1);
    assert_eq!(fs[0]["secret"], GH_TOKEN);
    assert!(fs[0]["path"].as_str().unwrap().contains("unreachable blob"));
}

#[test]
fn non_utf8_paths_are_reported_lossily() {
    use std::os::unix::ffi::OsStrExt;
    let d = new_repo();
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.env");
    std::fs::write(d.path().join(name), format!("T={GH_TOKEN}\n")).unwrap();
    commit(d.path(), "latin1 name", "2024-01-01T00:00:00Z");
    let (code, fs, _) = history(d.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(fs[0]["path"], "caf\u{fffd}.env");
}

#[test]
fn jsonl_history_findings_carry_provenance_fields() {
    let d = new_repo();
    write(d.path(), "a.env", format!("T={GH_TOKEN}\n"));
    commit(d.path(), "add", "2024-01-01T00:00:00Z");
    let o = ferret()
        .current_dir(d.path())
        .args(["history", "-f", "jsonl"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
    for key in [
        "commit",
        "author",
        "date",
        "path",
        "line",
        "column",
        "in_head",
        "rule_id",
        "fingerprint",
    ] {
        assert!(!v[key].is_null(), "missing {key}: {v}");
    }
}

#[test]
fn not_a_repository_is_an_error() {
    let d = dir();
    let o = ferret()
        .current_dir(d.path())
        .args(["history", "."])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("not in a git repository"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_key_store_committed_and_deleted_is_traced_to_the_commit_that_added_it() {
    let d = new_repo();
    write(d.path(), "README", "hello\n");
    commit(d.path(), "first", "2024-01-01T10:00:00Z");
    write(d.path(), "deploy/signing.p12", key_file("key.p12"));
    write(d.path(), "deploy/truststore.jks", key_file("trust.jks"));
    let added = commit(d.path(), "add signing key", "2024-01-02T11:30:00Z");
    std::fs::remove_file(d.path().join("deploy/signing.p12")).unwrap();
    commit(d.path(), "remove signing key", "2024-01-03T09:00:00Z");
    let (code, fs, err) = history(d.path(), &[]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(fs.len(), 1, "{fs:?}");
    assert_eq!(fs[0]["rule_id"], "private-keys.pkcs12-file");
    assert_eq!(fs[0]["path"], "deploy/signing.p12");
    assert_eq!(fs[0]["commit"], added.as_str());
    assert_eq!(fs[0]["in_head"], false);
}

#[test]
fn a_secret_inside_a_committed_jar_is_traced_to_its_commit_at_its_member_path() {
    let d = new_repo();
    write(d.path(), "README", "hello\n");
    commit(d.path(), "first", "2024-01-01T10:00:00Z");
    let props = format!("a=1\ngithub.token={GH_TOKEN}\n");
    let jar = zip_of(&[
        ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
        ("application.properties", props.as_bytes()),
    ]);
    write(d.path(), "lib/app.jar", &jar);
    let added = commit(d.path(), "add build output", "2024-01-02T11:30:00Z");
    let (code, fs, err) = history(d.path(), &[]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(fs.len(), 1, "{fs:?}");
    assert_eq!(fs[0]["path"], "lib/app.jar!application.properties");
    assert_eq!(fs[0]["line"], 2);
    assert_eq!(fs[0]["commit"], added.as_str());
    assert_eq!(fs[0]["in_head"], true);
    let (code, fs, _) = history(d.path(), &["--no-archives"]);
    assert_eq!((code, fs.len()), (0, 0));
}

#[test]
fn a_token_in_a_committed_compiled_file_is_traced_to_the_commit_that_added_it() {
    let d = new_repo();
    write(d.path(), "README", "hello\n");
    commit(d.path(), "first", "2024-01-01T10:00:00Z");
    let pyc = |extra: &str| {
        let mut b = b"\xcb\x0d\x0d\x0a\0\0\0\0\xe3\0\0\0\0\0\0\0".to_vec();
        b.extend_from_slice(b"\xfa\x28");
        b.extend_from_slice(GH_TOKEN.as_bytes());
        b.extend_from_slice(b"\xda\x06");
        b.extend_from_slice(extra.as_bytes());
        b
    };
    write(
        d.path(),
        "app/__pycache__/api.cpython-312.pyc",
        pyc("first"),
    );
    let added = commit(d.path(), "add compiled module", "2024-01-02T11:30:00Z");
    write(
        d.path(),
        "app/__pycache__/api.cpython-312.pyc",
        pyc("second"),
    );
    commit(d.path(), "rebuild", "2024-01-03T09:00:00Z");
    let (code, fs, err) = history(d.path(), &[]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(fs.len(), 1, "{fs:?}");
    assert_eq!(fs[0]["rule_id"], "github.pat-classic");
    assert_eq!(fs[0]["path"], "app/__pycache__/api.cpython-312.pyc");
    assert_eq!(fs[0]["commit"], added.as_str());
    assert_eq!(fs[0]["in_head"], true);
}
