//! `ferret scan`: every flag and exit code, on files created in temp dirs.

use crate::common::*;

#[test]
fn secret_in_file_is_reported_with_exit_code_1() {
    let d = dir();
    write(
        d.path(),
        "config/app.env",
        format!("LOG=1\nGITHUB_TOKEN={GH_TOKEN}\n"),
    );
    let (code, v, _) = json_report(d.path(), &["scan", "."]);
    assert_eq!(code, 1);
    let f = &findings(&v)[0];
    assert_eq!(f["rule_id"], "github.pat-classic");
    assert_eq!(f["path"], "config/app.env");
    assert_eq!(f["line"], 2);
    assert_eq!(f["column"], 14);
    assert_eq!(f["secret"], GH_TOKEN);
    assert_eq!(f["fingerprint"].as_str().unwrap().len(), 32);
    assert_eq!(v["schema_version"], 2);
}

#[test]
fn clean_directory_exits_0() {
    let d = dir();
    write(d.path(), "main.rs", "fn main() { println!(\"hello\"); }\n");
    let (code, v, _) = json_report(d.path(), &["scan", "."]);
    assert_eq!(code, 0);
    assert!(findings(&v).is_empty());
    assert_eq!(v["summary"]["scanned"], 1);
}

#[test]
fn default_path_is_current_directory() {
    let d = dir();
    write(d.path(), "a.txt", format!("token: {GH_TOKEN}\n"));
    let (code, v, _) = json_report(d.path(), &["scan"]);
    assert_eq!(code, 1);
    assert_eq!(findings(&v)[0]["path"], "a.txt");
}

#[test]
fn missing_path_is_an_error_with_exit_code_2_and_scan_goes_on() {
    let d = dir();
    write(d.path(), "a.txt", format!("token: {GH_TOKEN}\n"));
    let (code, v, err) = json_report(d.path(), &["scan", "a.txt", "no-such-file"]);
    assert_eq!(code, 2);
    assert!(err.contains("no-such-file"), "{err}");
    assert_eq!(findings(&v).len(), 1, "the readable file was still scanned");
}

#[test]
fn unreadable_input_is_reported_and_the_rest_is_scanned() {
    let d = dir();
    write(d.path(), "good.txt", format!("token: {GH_TOKEN}\n"));
    // A dangling symlink named explicitly cannot be opened, even by root.
    std::os::unix::fs::symlink(d.path().join("gone"), d.path().join("dangling")).unwrap();
    let (code, v, err) = json_report(d.path(), &["scan", "good.txt", "dangling"]);
    assert_eq!(code, 2);
    assert!(err.contains("dangling"), "{err}");
    assert_eq!(findings(&v).len(), 1);
    assert_eq!(v["summary"]["errors"], 1);
}

#[test]
fn bad_arguments_exit_2() {
    let o = ferret()
        .args(["scan", "--format", "yaml"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("yaml"));
    let o = ferret()
        .args(["scan", "--threads", "0", "."])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--threads"));
    let o = ferret()
        .args(["scan", "--max-file-size", "lots"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn stdin_is_scanned_when_path_is_dash() {
    let o = ferret()
        .args(["scan", "-", "--format", "jsonl"])
        .write_stdin(format!("x\nexport GITHUB_TOKEN={GH_TOKEN}\n"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let line: serde_json::Value = serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
    assert_eq!(line["path"], "<stdin>");
    assert_eq!(line["line"], 2);
}

#[test]
fn gitignore_is_honoured_in_a_git_repository_unless_no_ignore() {
    let d = dir();
    git_init(d.path());
    write(d.path(), ".gitignore", "ignored/\n");
    write(d.path(), "ignored/a.env", format!("T={GH_TOKEN}\n"));
    let (code, v, _) = json_report(d.path(), &["scan", "."]);
    assert_eq!((code, findings(&v).len()), (0, 0));
    let (code, v, _) = json_report(d.path(), &["scan", ".", "--no-ignore"]);
    assert_eq!((code, findings(&v).len()), (1, 1));
}

#[test]
fn ignore_and_ferretignore_files_are_honoured() {
    let d = dir();
    write(d.path(), ".ignore", "a.env\n");
    write(d.path(), ".ferretignore", "fixtures/\n");
    write(d.path(), "a.env", format!("T={GH_TOKEN}\n"));
    write(d.path(), "fixtures/b.env", format!("T={GH_TOKEN}\n"));
    write(d.path(), "c.env", format!("T={GH_TOKEN_2}\n"));
    let (code, v, _) = json_report(d.path(), &["scan", "."]);
    assert_eq!(code, 1);
    let paths: Vec<_> = findings(&v).iter().map(|f| f["path"].clone()).collect();
    assert_eq!(paths, vec!["c.env"]);
    let (_, v, _) = json_report(d.path(), &["scan", ".", "--no-ignore"]);
    assert_eq!(findings(&v).len(), 3);
}

#[test]
fn dot_git_directory_is_never_scanned() {
    let d = dir();
    write(
        d.path(),
        ".git/config",
        format!("url = https://x:{GH_TOKEN}@github.com/a/b\n"),
    );
    write(d.path(), ".env", format!("T={GH_TOKEN_2}\n"));
    let (_, v, _) = json_report(d.path(), &["scan", ".", "--no-ignore"]);
    let paths: Vec<_> = findings(&v).iter().map(|f| f["path"].clone()).collect();
    assert_eq!(paths, vec![".env"], "hidden files are scanned, .git is not");
}

#[test]
fn binary_files_are_scanned_for_provider_tokens_and_every_rule_applies_with_binary_flag() {
    let d = dir();
    let mut bin = b"\x7fELF\0\0\0".to_vec();
    bin.extend_from_slice(format!("T={GH_TOKEN}\n\0db_password = \"Zq8vL2mK9xT4\"\n").as_bytes());
    write(d.path(), "a.bin", &bin);
    let rules = |v: &serde_json::Value| -> Vec<String> {
        findings(v)
            .iter()
            .map(|f| f["rule_id"].as_str().unwrap().to_string())
            .collect()
    };
    // A provider's token format is found in a binary file; a free-form password,
    // judged by text around it that binary data does not have, is not.
    let (code, v, _) = json_report(d.path(), &["scan", "."]);
    assert_eq!(code, 1);
    assert_eq!(rules(&v), vec!["github.pat-classic"]);
    assert_eq!(findings(&v)[0]["line"], 1);
    // The context is the printable text around the secret, without the binary bytes.
    assert_eq!(findings(&v)[0]["context"], format!("T={GH_TOKEN}"));
    assert_eq!(
        (
            v["summary"]["scanned"].as_u64(),
            v["summary"]["binary"].as_u64()
        ),
        (Some(1), Some(1))
    );
    let (code, v, _) = json_report(d.path(), &["scan", ".", "--binary"]);
    assert_eq!(code, 1);
    assert_eq!(rules(&v), vec!["github.pat-classic", "generic.password"]);
    assert_eq!(v["summary"]["binary"], 0);
}

#[test]
fn oversized_files_are_skipped_with_a_warning() {
    let d = dir();
    let mut big = format!("T={GH_TOKEN}\n").into_bytes();
    big.resize(5000, b'a');
    write(d.path(), "big.txt", &big);
    write(d.path(), "small.txt", format!("T={GH_TOKEN_2}\n"));
    let (code, v, err) = json_report(d.path(), &["scan", ".", "--max-file-size", "4KB"]);
    assert_eq!(code, 1);
    assert_eq!(findings(&v).len(), 1);
    assert_eq!(v["summary"]["skipped_too_large"], 1);
    assert!(
        err.contains("skipped big.txt") && err.contains("--max-file-size"),
        "{err}"
    );
}

#[test]
fn invalid_utf8_content_is_scanned_around_the_bad_bytes() {
    let d = dir();
    let mut data = b"\xff\xfe caf\xe9 ".to_vec();
    data.extend_from_slice(format!("token={GH_TOKEN} ").as_bytes());
    data.extend_from_slice(b"\xc3\n");
    write(d.path(), "latin1.txt", &data);
    let (code, v, _) = json_report(d.path(), &["scan", "."]);
    assert_eq!(code, 1);
    assert_eq!(findings(&v)[0]["secret"], GH_TOKEN);
    // \xff, \xfe and the Latin-1 \xe9 count as one character each.
    assert_eq!(findings(&v)[0]["column"], 15);
}

#[test]
fn jsonl_writes_one_finding_per_line() {
    let d = dir();
    write(d.path(), "a.env", format!("A={GH_TOKEN}\nB={GH_TOKEN_2}\n"));
    let o = run(d.path(), &["scan", ".", "-f", "jsonl"]);
    assert_eq!(o.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        (lines[0]["line"].as_u64(), lines[1]["line"].as_u64()),
        (Some(1), Some(2))
    );
}

#[test]
fn output_file_is_written_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let d = dir();
    write(d.path(), "a.env", format!("A={GH_TOKEN}\n"));
    let o = ferret()
        .current_dir(d.path())
        .args(["scan", "a.env", "-f", "json", "--output", "report.json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).is_empty());
    let report = d.path().join("report.json");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(findings(&v).len(), 1);
    let mode = std::fs::metadata(&report).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn human_output_redacts_unless_show_secrets() {
    let d = dir();
    write(d.path(), "a.env", format!("A={GH_TOKEN}\n"));
    let o = ferret()
        .current_dir(d.path())
        .args(["scan", "."])
        .output()
        .unwrap();
    let out = stdout(&o);
    assert!(!out.contains(GH_TOKEN), "{out}");
    assert!(out.contains("ghp_R7…(40)"), "{out}");
    assert!(out.contains("a.env") && out.contains("1:3"), "{out}");
    assert!(out.contains("1 finding in 1 file"), "{out}");
    assert!(!out.contains('\x1b'), "no colour when not a terminal");
    let o = ferret()
        .current_dir(d.path())
        .args(["scan", ".", "--show-secrets"])
        .output()
        .unwrap();
    assert!(stdout(&o).contains(GH_TOKEN));
}

#[test]
fn quiet_prints_only_the_report() {
    let d = dir();
    write(d.path(), "a.env", format!("A={GH_TOKEN}\n"));
    let o = ferret()
        .current_dir(d.path())
        .args(["scan", ".", "-q"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(!stdout(&o).contains("ferret:"), "{}", stdout(&o));
    let o = ferret()
        .current_dir(d.path())
        .args(["scan", ".", "-q", "-f", "json"])
        .output()
        .unwrap();
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
    let o = ferret()
        .current_dir(d.path())
        .args(["scan", ".", "-f", "json"])
        .output()
        .unwrap();
    assert!(
        stderr(&o).contains("1 finding in 1 file"),
        "summary on stderr for machine formats"
    );
}

fn many_files(root: &std::path::Path) {
    for i in 0..60 {
        let body = if i % 7 == 0 {
            format!(
                "line\nA{i}={GH_TOKEN}\nB=tok_Ab3dE5gH7jK9mN1pQ3s{}\n",
                i % 10
            )
        } else {
            format!("nothing here {i}\n")
        };
        write(root, &format!("d{}/f{i}.txt", i % 5), body);
    }
}

#[test]
fn thread_count_and_io_mode_do_not_change_findings() {
    let d = dir();
    many_files(d.path());
    let r = dir();
    let rules = write(r.path(), "rules.toml", TEST_RULES);
    let rules = rules.to_str().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["scan", ".", "--rules", rules];
        args.extend_from_slice(extra);
        let (code, v, _) = json_report(d.path(), &args);
        assert_eq!(code, 1);
        findings(&v).clone()
    };
    let base = run(&[]);
    assert_eq!(base.len(), 18);
    assert_eq!(base, run(&["--threads", "1"]));
    assert_eq!(base, run(&["--threads", "3"]));
    assert_eq!(base, run(&["--io", "mmap"]));
}

#[test]
fn extra_rules_file_adds_rules_and_no_builtin_rules_drops_builtins() {
    let d = dir();
    write(d.path(), "rules.toml", TEST_RULES);
    write(
        d.path(),
        "a.txt",
        format!("x = tok_Ab3dE5gH7jK9mN1pQ3sT\ny={GH_TOKEN}\n"),
    );
    let (_, v, _) = json_report(d.path(), &["scan", "a.txt", "--rules", "rules.toml"]);
    let ids: Vec<_> = findings(&v).iter().map(|f| f["rule_id"].clone()).collect();
    assert_eq!(ids, vec!["test.token", "github.pat-classic"]);
    let (_, v, _) = json_report(
        d.path(),
        &[
            "scan",
            "a.txt",
            "--rules",
            "rules.toml",
            "--no-builtin-rules",
        ],
    );
    let ids: Vec<_> = findings(&v).iter().map(|f| f["rule_id"].clone()).collect();
    assert_eq!(ids, vec!["test.token"]);
}

#[test]
fn invalid_rules_file_is_an_error_naming_file_and_line() {
    let d = dir();
    write(
        d.path(),
        "bad.toml",
        "[[rules]]\nid = \"x\"\nname = \"X\"\nkeywords = [\"ab\"]\nregex = '(a'\n",
    );
    let o = ferret()
        .current_dir(d.path())
        .args(["scan", ".", "--rules", "bad.toml"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("bad.toml:1: rule `x`: invalid regex"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn rules_list_json_has_ids_keywords_and_example_counts() {
    let o = ferret()
        .args(["rules", "list", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rules = v.as_array().unwrap();
    assert!(rules.len() >= 120, "{} rules", rules.len());
    for r in rules {
        assert!(r["id"].is_string() && r["name"].is_string());
        // Every rule has keywords, or a structural anchor instead.
        assert!(
            !r["keywords"].as_array().unwrap().is_empty()
                || r["anchor"] == "token-run"
                || r["anchor"] == "file-header",
            "{}",
            r["id"]
        );
        assert!(r["examples"].as_u64().unwrap() >= 1, "{}", r["id"]);
        assert!(r["negative_examples"].as_u64().unwrap() >= 1, "{}", r["id"]);
    }
    let o = ferret().args(["rules", "list"]).output().unwrap();
    assert!(stdout(&o).contains("github.pat-classic"));
}

#[test]
fn rules_list_filters_by_text_and_confidence_and_groups_each_provider_once() {
    let list = |args: &[&str]| {
        let o = ferret()
            .args(["rules", "list"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        stdout(&o)
    };
    // A filter matches ids, names and providers, ignoring case.
    let stripe = list(&["STRIPE"]);
    assert!(stripe.starts_with("Stripe\n"), "{stripe}");
    assert!(stripe.contains("stripe.secret-key"), "{stripe}");
    assert!(!stripe.contains("github."), "{stripe}");
    // Each provider heads one group, even when its rules live in several files.
    let all = list(&[]);
    let heads: Vec<&str> = all.lines().filter(|l| !l.starts_with(' ')).collect();
    let mut unique = heads.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(heads.len(), unique.len(), "a provider is listed twice");
    // --confidence high leaves out medium and low rules.
    let o = ferret()
        .args(["rules", "list", "--confidence", "high", "--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rules = v.as_array().unwrap();
    assert!(!rules.is_empty());
    assert!(rules.iter().all(|r| r["confidence"] == "high"));
}

#[test]
fn rules_check_proves_builtin_rules() {
    let o = ferret().args(["rules", "check"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("all proven"));
}

#[test]
fn rules_check_names_the_file_rule_and_failing_example() {
    let d = dir();
    write(
        d.path(),
        "r.toml",
        "[[rules]]\nid = \"t.x\"\nname = \"X\"\nkeywords = [\"zz_\"]\nregex = '(zz_[0-9]{4})'\nexamples = [\"zz_12\"]\nnegative_examples = [\"zz_9876\"]\n",
    );
    let o = ferret()
        .current_dir(d.path())
        .args(["rules", "check", "r.toml"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("r.toml:1: rule `t.x`: example 1 was not found: \"zz_12\""),
        "{err}"
    );
    assert!(
        err.contains("negative example 1 was reported: \"zz_9876\""),
        "{err}"
    );
}

#[test]
fn placeholders_and_documented_examples_are_not_reported() {
    let d = dir();
    write(
        d.path(),
        "docs.md",
        "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n\
         password = changeme\n\
         password = \"<your-password>\"\n\
         password = ${DB_PASSWORD}\n\
         password = os.environ[\"DB_PASSWORD\"]\n\
         api_key = \"xxxxxxxxxxxxxxxxxxxxxxxx\"\n\
         password =\n",
    );
    let (code, v, _) = json_report(d.path(), &["scan", "."]);
    assert_eq!(code, 0, "{:#}", v["findings"]);
}

#[test]
fn escape_sequences_in_scanned_files_and_names_never_reach_the_terminal() {
    let d = dir();
    write(
        d.path(),
        "evil\x1b[2J.env",
        format!("\x1b]0;pwned\x07 TOKEN={GH_TOKEN} \x1b[31m\n"),
    );
    let mut bin = b"\x7fELF\0\x1b[8m".to_vec();
    bin.extend_from_slice(format!(" {GH_TOKEN_2} \x1b[0m\n").as_bytes());
    write(d.path(), "tool.bin", &bin);
    let o = ferret()
        .current_dir(d.path())
        .args(["scan", ".", "--show-secrets", "--verbose"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    for stream in [&o.stdout, &o.stderr] {
        assert!(
            !stream.contains(&0x1b),
            "{}",
            String::from_utf8_lossy(stream)
        );
    }
    let out = stdout(&o);
    assert!(out.contains("evil\\x1b[2J.env"), "{out}");
    assert!(out.contains("\\x1b]0;pwned\\x07 TOKEN="), "{out}");
    assert!(out.contains(GH_TOKEN) && out.contains(GH_TOKEN_2), "{out}");
}

#[test]
fn scan_names_nested_git_repositories_whose_history_it_did_not_scan() {
    let d = dir();
    git_init(d.path());
    // A vendored project with its own repository: a key committed, then removed.
    let vendored = d.path().join("vendor/lib");
    std::fs::create_dir_all(&vendored).unwrap();
    git_init(&vendored);
    write(&vendored, "config.py", "AWS_KEY = 'AKIAQYLPMN5HHHFPZAM2'\n");
    git(&vendored, &["add", "."]);
    git(&vendored, &["commit", "-q", "-m", "add config"]);
    write(&vendored, "config.py", "AWS_KEY = os.environ['AWS_KEY']\n");
    let o = run(d.path(), &["scan", "."]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("1 git repository inside the scanned directories (vendor/lib)"),
        "{err}"
    );
    assert!(err.contains("ferret history PATH"), "{err}");
    // A submodule unpacked from an archive keeps a `.git` file pointing into a
    // superproject `.git` the archive lacks: there is no history to scan, so no note.
    let unpacked = d.path().join("unpacked");
    write(
        &unpacked,
        "sub/.git",
        "gitdir: ../../.git/modules/nowhere\n",
    );
    write(&unpacked, "sub/README", "vendored\n");
    let o = run(&unpacked, &["scan", "."]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("git repositor"), "{}", stderr(&o));
    // The scanned repository's own `.git` is not mentioned, and --quiet silences it.
    let o = run(&vendored, &["scan", "."]);
    assert!(!stderr(&o).contains("git repositor"), "{}", stderr(&o));
    let o = run(d.path(), &["scan", ".", "-q"]);
    assert!(!stderr(&o).contains("git repositor"), "{}", stderr(&o));
    // `history` on the named repository finds what the working files no longer hold.
    let (code, v, err) = json_report(&vendored, &["history", "."]);
    assert_eq!(code, 1, "{err}");
    assert_path_rule_confidence(&v, &[("config.py", "aws.access-key-id", "high")]);
}
