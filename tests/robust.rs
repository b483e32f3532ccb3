//! Hostile input: huge and endless files, files changing under the scan, unreadable
//! and special files, loops, deep trees, odd names and encodings, floods of findings,
//! malformed rules, configuration and repositories. Each test checks the exit code, the
//! message, and that the rest of the scan still happened.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::Duration;

use crate::common::*;

/// Generous: only a hang (a blocking open, a livelock) comes near it.
const TIMEOUT: Duration = Duration::from_secs(60);

/// True (after saying so) when permission bits do not stop this process, as for root.
fn permissions_are_ignored(probe: &Path) -> bool {
    if std::fs::read_dir(probe).is_ok() {
        eprintln!("note: running with privileges that ignore file modes; the check is skipped");
        return true;
    }
    false
}

/// Deterministic pseudo-random bytes (xorshift64*).
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed >> 12;
            seed ^= seed << 25;
            seed ^= seed >> 27;
            (seed.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

#[test]
fn two_gigabyte_file_is_skipped_by_size_with_a_message_and_the_rest_is_scanned() {
    let d = dir();
    let f = std::fs::File::create(d.path().join("huge.log")).unwrap();
    f.set_len(2_000_000_000).unwrap(); // sparse: costs no disk
    write(d.path(), "small.env", format!("T={GH_TOKEN}\n"));
    let (code, v, err) = json_report(d.path(), &["scan", "."]);
    assert_eq!(code, 1);
    assert_eq!(findings(&v).len(), 1);
    assert_eq!(v["summary"]["skipped_too_large"], 1);
    assert!(
        err.contains("skipped huge.log: 2.0 GB is over the 256.0 MB limit (--max-file-size)"),
        "{err}"
    );
}

#[test]
fn large_sparse_file_is_streamed_in_chunks_with_exact_positions() {
    // 40 MB of NULs (sparse) with tokens planted across chunk seams, scanned with
    // 1 MiB chunks: positions count from the start of the file, on its one line.
    let d = dir();
    let path = d.path().join("disk.img");
    let mut f = std::fs::File::create(&path).unwrap();
    f.set_len(40_000_000).unwrap();
    let offsets = [5u64, (1 << 20) - 10, 3 << 20, 39_999_000];
    for (i, at) in offsets.iter().enumerate() {
        f.seek(SeekFrom::Start(*at)).unwrap();
        let tok = if i.is_multiple_of(2) {
            GH_TOKEN
        } else {
            GH_TOKEN_2
        };
        f.write_all(format!(" {tok} ").as_bytes()).unwrap();
    }
    drop(f);
    let args = [
        "scan",
        "disk.img",
        "--binary",
        "--max-file-size",
        "50MB",
        "--chunk-size",
        "1MiB",
    ];
    let (code, v, err) = json_report(d.path(), &args);
    assert_eq!(code, 1, "{err}");
    let fs = findings(&v);
    let starts: Vec<u64> = fs
        .iter()
        .map(|f| f["start_byte"].as_u64().unwrap())
        .collect();
    assert_eq!(starts, offsets.map(|o| o + 1).to_vec());
    for (f, at) in fs.iter().zip(offsets) {
        assert_eq!(f["line"], 1);
        assert_eq!(
            f["column"].as_u64(),
            Some(at + 2),
            "each NUL is one character"
        );
    }
    assert_eq!(v["summary"]["scanned"], 1);
    assert_eq!(v["summary"]["bytes"], 40_000_000);
    // Without --binary the NULs make it binary: streamed the same way, scanned for
    // provider token formats, counted as binary.
    let (code, v, err) = json_report(
        d.path(),
        &[
            "scan",
            "disk.img",
            "--max-file-size",
            "50MB",
            "--chunk-size",
            "1MiB",
        ],
    );
    assert_eq!(code, 1, "{err}");
    let binary_starts: Vec<u64> = findings(&v)
        .iter()
        .map(|f| f["start_byte"].as_u64().unwrap())
        .collect();
    assert_eq!(binary_starts, starts);
    assert_eq!(v["summary"]["binary"], 1);
}

/// Text with secrets of several rules everywhere: short and long lines, CRLF, a line
/// longer than a chunk, a multi-line private key, tokens at line starts and ends.
fn seam_text() -> String {
    let mut s = String::new();
    let key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB\naNvc2fCs5c4+ZhdRgcV6BzrF2yQfMpz+7KE9XbFoH1cWq0+PqA5rNdSd4kL0r3oP\n-----END RSA PRIVATE KEY-----\n";
    for i in 0..30_000 {
        match i % 9 {
            0 => s.push_str(&format!("GITHUB_TOKEN={GH_TOKEN}\n")),
            1 => s.push_str(&format!("x = tok_Ab3dE5gH7jK9mN1pQ3s{}\r\n", i % 10)),
            2 => s.push_str(&"word ".repeat(i % 300)),
            3 => s.push_str(&format!("{GH_TOKEN_2}\n")),
            4 if i % 5000 == 4 => s.push_str(key),
            5 if i == 7007 => {
                s.push_str(&"é".repeat(400_000));
                s.push_str(&format!(" t={GH_TOKEN} "));
                s.push_str(&"ab".repeat(300_000));
                s.push('\n');
            }
            6 => s.push_str(&format!(
                "a = \"tok_Zz3dE5gH7jK9mN1pQ3sT\" # ferret:allow {i}\n"
            )),
            _ => s.push_str(&format!("line {i} nothing to see\n")),
        }
    }
    s
}

#[test]
fn chunked_scan_reports_exactly_what_a_whole_file_scan_reports() {
    let d = dir();
    let text = seam_text();
    assert!(text.len() > 3_000_000);
    write(d.path(), "big.txt", &text);
    let r = dir();
    let rules = write(r.path(), "rules.toml", TEST_RULES);
    let rules = rules.to_str().unwrap();
    let run = |chunk: &str| {
        let args = [
            "scan",
            "big.txt",
            "--rules",
            rules,
            "--max-file-size",
            "10MB",
            "--chunk-size",
            chunk,
        ];
        let (code, v, err) = json_report(d.path(), &args);
        assert_eq!(code, 1, "{err}");
        (findings(&v).clone(), v["summary"]["bytes"].clone())
    };
    let (whole, bytes) = run("16MiB");
    assert!(whole.len() > 10_000, "{}", whole.len());
    assert!(
        whole
            .iter()
            .any(|f| f["rule_id"] == "private-key.rsa" || f["line"] != f["end_line"])
    );
    assert!(whole.iter().any(|f| f["column"].as_u64() > Some(400_000)));
    // A chunk is scanned with 512 KiB of context: 128 KiB chunks put ~40 seams among
    // the secrets (smaller ones are tested in src/source/chunk.rs, without the engine).
    for chunk in ["128KiB", "1MiB"] {
        let (chunked, b) = run(chunk);
        assert_eq!(b, bytes);
        assert_eq!(chunked.len(), whole.len(), "chunk size {chunk}");
        for (a, b) in whole.iter().zip(&chunked) {
            assert_eq!(a, b, "chunk size {chunk}");
        }
    }
}

#[test]
fn fifty_megabyte_single_line_has_its_token_found_in_the_middle() {
    let d = dir();
    let half = "var a=b&&c(d,e);".repeat(1_600_000); // 25.6 MB
    let line = format!("{half}k=\"{GH_TOKEN}\";{half}");
    write(d.path(), "app.min.js", &line);
    write(d.path(), "other.env", format!("T={GH_TOKEN_2}\n"));
    let (code, v, err) = json_report(d.path(), &["scan", ".", "--max-file-size", "60MB"]);
    assert_eq!(code, 1, "{err}");
    let fs = findings(&v);
    assert_eq!(fs.len(), 2, "{fs:?}");
    let f = fs.iter().find(|f| f["path"] == "app.min.js").unwrap();
    assert_eq!(f["secret"], GH_TOKEN);
    assert_eq!(f["line"], 1);
    assert_eq!(f["start_byte"].as_u64(), Some(half.len() as u64 + 3));
    assert_eq!(f["column"].as_u64(), Some(half.len() as u64 + 4));
    assert!(
        f["context"].as_str().unwrap().len() < 400,
        "context is shortened"
    );
}

#[test]
fn files_truncated_and_grown_during_the_scan_do_not_crash_ferret() {
    // A thread keeps truncating and rewriting files (one large enough to be read in
    // chunks) while ferret scans them: ferret never maps files by default, so it cannot
    // be killed by SIGBUS; it reads what is there and ends with 0 or 1.
    let d = dir();
    let body = format!("T={GH_TOKEN}\n{}", "padding line\n".repeat(40_000));
    write(d.path(), "stable.env", format!("T={GH_TOKEN_2}\n"));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (root, body, stop) = (d.path().to_path_buf(), body.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for name in ["churn.txt", "churn2.txt"] {
                    let mut f = std::fs::File::create(root.join(name)).unwrap();
                    let end = (n as usize * 7919) % body.len();
                    f.write_all(&body.as_bytes()[..end]).unwrap();
                    if n.is_multiple_of(3) {
                        f.set_len(end as u64 / 2).unwrap();
                    } else {
                        f.write_all(body.as_bytes()).unwrap();
                    }
                }
                n += 1;
            }
        })
    };
    for round in 0..12u32 {
        let mut c = ferret();
        c.current_dir(d.path())
            .args(["scan", ".", "-q", "-f", "json"]);
        if round.is_multiple_of(2) {
            c.args(["--chunk-size", "4KiB"]);
        }
        let o = c.timeout(TIMEOUT).output().unwrap();
        let code = o.status.code();
        assert!(
            matches!(code, Some(0 | 1)),
            "round {round}: {:?} {}",
            o.status,
            stderr(&o)
        );
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert!(findings(&v).iter().any(|f| f["path"] == "stable.env"));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().unwrap();
}

#[test]
fn unreadable_file_and_directory_are_errors_and_the_rest_is_scanned() {
    use std::os::unix::fs::PermissionsExt;
    let d = dir();
    write(d.path(), "good.env", format!("T={GH_TOKEN}\n"));
    let secret = write(d.path(), "locked.env", format!("T={GH_TOKEN_2}\n"));
    write(d.path(), "closed/inner.env", format!("T={GH_TOKEN_2}\n"));
    let mode = |p: &Path, m| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m));
    mode(&secret, 0o000).unwrap();
    mode(&d.path().join("closed"), 0o000).unwrap();
    if !permissions_are_ignored(&d.path().join("closed")) {
        let (code, v, err) = json_report(d.path(), &["scan", "."]);
        assert_eq!(
            code, 2,
            "unreadable input is an error even with findings: {err}"
        );
        assert_eq!(findings(&v).len(), 1);
        assert_eq!(findings(&v)[0]["path"], "good.env");
        assert_eq!(v["summary"]["errors"], 2);
        assert!(
            err.contains("locked.env") && err.contains("closed"),
            "{err}"
        );
    }
    mode(&d.path().join("closed"), 0o755).unwrap();
}

#[test]
fn symlink_loops_are_not_followed() {
    use std::os::unix::fs::symlink;
    let d = dir();
    write(d.path(), "src/a.env", format!("T={GH_TOKEN}\n"));
    symlink("loop_b", d.path().join("src/loop_a")).unwrap();
    symlink("loop_a", d.path().join("src/loop_b")).unwrap();
    symlink("..", d.path().join("src/up")).unwrap();
    symlink(".", d.path().join("src/self")).unwrap();
    let o = ferret()
        .current_dir(d.path())
        .args(["scan", "src", "-f", "json", "-v"])
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(findings(&v).len(), 1, "the file is scanned once");
    assert_eq!(v["summary"]["skipped_other"], 4);
    assert!(
        stderr(&o).contains("src/loop_a: symbolic link"),
        "{}",
        stderr(&o)
    );
    // Named explicitly, a link loop cannot be opened: an error naming it, exit 2.
    let (code, v, err) = json_report(d.path(), &["scan", "src/loop_a", "src/a.env"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("loop_a"), "{err}");
    assert_eq!(findings(&v).len(), 1);
}

#[test]
fn followed_symlinks_are_scanned_and_loops_and_dangling_links_are_skipped_with_a_message() {
    use std::os::unix::fs::symlink;
    let d = dir();
    write(d.path(), "outside/a.env", format!("T={GH_TOKEN}\n"));
    std::fs::create_dir_all(d.path().join("src")).unwrap();
    symlink("../outside", d.path().join("src/linked_dir")).unwrap();
    symlink("loop_b", d.path().join("src/loop_a")).unwrap();
    symlink("loop_a", d.path().join("src/loop_b")).unwrap();
    symlink("..", d.path().join("src/up")).unwrap();
    symlink("gone", d.path().join("src/dangling")).unwrap();

    // Not followed by default: counted and named in the summary.
    let (code, v, err) = json_report(d.path(), &["scan", "src"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["summary"]["skipped_symlinks"], 5);
    let human = ferret()
        .current_dir(d.path())
        .args(["scan", "src"])
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    assert!(
        stdout(&human).contains("skipped 5 symbolic links (not followed; --follow-symlinks"),
        "{}",
        stdout(&human)
    );

    // Followed: the linked directory is scanned; each link leading nowhere is skipped
    // with a message, and the scan still exits 1 for its finding, not 2.
    let (code, v, err) = json_report(d.path(), &["scan", "src", "--follow-symlinks"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(findings(&v).len(), 1, "{err}");
    assert_eq!(findings(&v)[0]["path"], "src/linked_dir/a.env");
    assert_eq!(v["summary"]["skipped_other"], 4, "{err}");
    assert_eq!(v["summary"]["errors"], 0, "{err}");
    assert!(
        err.contains("src/up: symbolic link not followed: it loops back to"),
        "{err}"
    );
    assert!(
        err.contains("src/dangling: symbolic link not followed"),
        "{err}"
    );
    assert!(
        err.contains("src/loop_a: symbolic link not followed"),
        "{err}"
    );

    // A dangling link named on the command line is still an error.
    let (code, _, err) = json_report(d.path(), &["scan", "-L", "src/dangling", "src/linked_dir"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("error: src/dangling"), "{err}");
}

#[test]
fn fifos_and_devices_are_never_opened_and_never_block() {
    let d = dir();
    write(d.path(), "a.env", format!("T={GH_TOKEN}\n"));
    let fifo = d.path().join("pipe");
    let ok = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(ok.success());
    // Inside a scanned directory, and named explicitly with devices that never end
    // (/dev/zero) or are empty (/dev/null). A blocking open would hit the timeout.
    let o = ferret()
        .current_dir(d.path())
        .args([
            "scan",
            ".",
            "pipe",
            "/dev/zero",
            "/dev/null",
            "-f",
            "json",
            "-v",
        ])
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(findings(&v).len(), 1);
    assert_eq!(v["summary"]["skipped_other"], 4);
    let err = stderr(&o);
    assert!(err.contains("/dev/zero: not a regular file"), "{err}");
    assert!(err.contains("pipe: not a regular file"), "{err}");
}

#[test]
fn three_hundred_nested_directories_are_walked() {
    let d = dir();
    let deep: String = (0..300).map(|i| format!("d{}/", i % 10)).collect();
    write(
        d.path(),
        &format!("{deep}deep.env"),
        format!("T={GH_TOKEN}\n"),
    );
    write(d.path(), "top.env", format!("T={GH_TOKEN_2}\n"));
    let (code, v, err) = json_report(d.path(), &["scan", "."]);
    assert_eq!(code, 1, "{err}");
    let paths: Vec<&str> = findings(&v)
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, vec![format!("{deep}deep.env").as_str(), "top.env"]);
}

#[test]
fn non_utf8_file_names_are_scanned_and_reported_lossily() {
    use std::os::unix::ffi::OsStrExt;
    let d = dir();
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9-\xff.env");
    std::fs::write(d.path().join(name), format!("T={GH_TOKEN}\n")).unwrap();
    write(d.path(), "ok.env", format!("T={GH_TOKEN_2}\n"));
    let (code, v, err) = json_report(d.path(), &["scan", "."]);
    assert_eq!(code, 1, "{err}");
    let paths: Vec<&str> = findings(&v)
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, vec!["caf\u{FFFD}-\u{FFFD}.env", "ok.env"]);
}

fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let mut out = if big_endian {
        vec![0xFE, 0xFF]
    } else {
        vec![0xFF, 0xFE]
    };
    for u in text.encode_utf16() {
        out.extend(if big_endian {
            u.to_be_bytes()
        } else {
            u.to_le_bytes()
        });
    }
    out
}

#[test]
fn utf16_files_with_a_byte_order_mark_are_transcoded_and_scanned() {
    let d = dir();
    // Non-ASCII before the token on its line, and a character outside the BMP (a
    // surrogate pair) on an earlier line.
    let text = format!("# réglages 😀\r\n\r\n$tök = \"{GH_TOKEN}\"\r\n");
    write(d.path(), "le.ps1", utf16(&text, false));
    write(d.path(), "be.reg", utf16(&text, true));
    let (code, v, err) = json_report(d.path(), &["scan", "."]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(v["summary"]["binary"], 0);
    let fs = findings(&v);
    assert_eq!(fs.len(), 2, "{fs:?}");
    let prefix = text.split(GH_TOKEN).next().unwrap();
    let start = 2 + 2 * prefix.encode_utf16().count() as u64;
    for f in fs {
        assert_eq!(f["secret"], GH_TOKEN);
        assert_eq!(f["line"], 3);
        assert_eq!(f["column"], 9, "columns count characters");
        assert_eq!(
            f["start_byte"].as_u64(),
            Some(start),
            "offsets into the UTF-16 file"
        );
        assert_eq!(
            f["end_byte"].as_u64(),
            Some(start + 2 * GH_TOKEN.len() as u64)
        );
        assert_eq!(f["context"], format!("$tök = \"{GH_TOKEN}\""));
    }
}

#[test]
fn utf16_blobs_in_history_are_transcoded_and_scanned() {
    let d = dir();
    git_init(d.path());
    let text = format!("# réglages\r\n$t = \"{GH_TOKEN}\"\r\n");
    write(d.path(), "conf.ps1", utf16(&text, false));
    git(d.path(), &["add", "."]);
    git(d.path(), &["commit", "-q", "-m", "add"]);
    let (code, v, err) = json_report(d.path(), &["history"]);
    assert_eq!(code, 1, "{err}");
    let f = &findings(&v)[0];
    assert_eq!(
        (f["secret"].as_str(), f["line"].as_u64()),
        (Some(GH_TOKEN), Some(2))
    );
    assert_eq!(f["column"], 7);
    let prefix = text.split(GH_TOKEN).next().unwrap();
    assert_eq!(
        f["start_byte"].as_u64(),
        Some(2 + 2 * prefix.encode_utf16().count() as u64)
    );
}

#[test]
fn a_million_findings_stream_out_as_jsonl() {
    let d = dir();
    write(d.path(), "rules.toml", TEST_RULES);
    let line = "t = tok_Ab3dE5gH7jK9mN1pQ3sT\n";
    write(d.path(), "flood.txt", line.repeat(1_000_000));
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("ferret"))
        .current_dir(d.path())
        .args([
            "scan",
            "flood.txt",
            "--rules",
            "rules.toml",
            "--no-builtin-rules",
        ])
        .args(["--max-file-size", "100MB", "-f", "jsonl"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Count lines as they stream, holding none of them.
    let mut out = child.stdout.take().unwrap();
    let mut buf = vec![0; 1 << 16];
    let (mut lines, mut first) = (0u64, Vec::new());
    loop {
        let n = out.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        if first.len() < 4096 {
            first.extend_from_slice(&buf[..n.min(4096)]);
        }
        lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(lines, 1_000_000);
    assert!(
        stderr(&o).contains("1000000 findings in 1 file"),
        "{}",
        stderr(&o)
    );
    let head = String::from_utf8_lossy(&first);
    let f: serde_json::Value = serde_json::from_str(head.lines().next().unwrap()).unwrap();
    assert_eq!(
        (f["line"].as_u64(), f["rule_id"].as_str()),
        (Some(1), Some("test.token"))
    );
}

#[test]
fn nul_heavy_and_random_data_is_scanned_as_binary_without_harm() {
    let d = dir();
    let mut nuls = vec![0u8; 1 << 20];
    let tok = format!(" {GH_TOKEN} ");
    nuls[500_000..500_000 + tok.len()].copy_from_slice(tok.as_bytes());
    write(d.path(), "nul.bin", &nuls);
    let mut random = noise(2 << 20, 0x9E37_79B9_7F4A_7C15);
    random[1_000_000..1_000_000 + tok.len()].copy_from_slice(tok.as_bytes());
    random[..4].copy_from_slice(b"PK\x03\x04"); // starts like a zip, and is not one
    write(d.path(), "archive.zip", &random);
    write(d.path(), "plain.env", format!("T={GH_TOKEN_2}\n"));
    let (code, v, err) = json_report(d.path(), &["scan", ".", "--verbose"]);
    assert_eq!(code, 1);
    // The token among NULs is found by the binary scan; the archive that is not one
    // is reported as unreadable.
    let paths: Vec<&str> = findings(&v)
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, vec!["nul.bin", "plain.env"]);
    assert_eq!(v["summary"]["binary"], 1);
    assert_eq!(v["summary"]["skipped_other"], 1);
    assert!(
        err.contains("archive.zip: not read from the archive: corrupt zip"),
        "{err}"
    );
    let (code, v, err) = json_report(d.path(), &["scan", ".", "--binary"]);
    assert_eq!(code, 1, "{err}");
    let at: Vec<(&str, u64)> = findings(&v)
        .iter()
        .filter(|f| f["secret"] == GH_TOKEN)
        .map(|f| {
            (
                f["path"].as_str().unwrap(),
                f["start_byte"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(at, vec![("archive.zip", 1_000_001), ("nul.bin", 500_001)]);
    assert_eq!(v["summary"]["scanned"], 3);
}

#[test]
fn malformed_rule_files_are_errors_naming_the_file() {
    let d = dir();
    write(d.path(), "a.env", format!("T={GH_TOKEN}\n"));
    std::fs::create_dir(d.path().join("rules.d")).unwrap();
    let rule = |body: &str| format!("[[rules]]\nid = \"t.x\"\nname = \"X\"\n{body}");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "syntax.toml",
            b"[[rules]\nid = \n".to_vec(),
            "syntax.toml:1",
        ),
        (
            "utf8.toml",
            b"[[rules]]\nid = \"\xff\xfe\"\n".to_vec(),
            "utf8.toml",
        ),
        (
            "noregex.toml",
            rule("keywords = [\"ab\"]\n").into_bytes(),
            "regex",
        ),
        (
            "unknown.toml",
            rule("keywords = [\"ab\"]\nregex = '(ab)'\ncolour = 1\n").into_bytes(),
            "colour",
        ),
        (
            "window.toml",
            rule("keywords = [\"ab\"]\nregex = '(ab)'\nwindow = 9999999\n").into_bytes(),
            "window",
        ),
        (
            "groups.toml",
            rule("keywords = [\"ab\"]\nregex = '(a)(b)'\n").into_bytes(),
            "capture group",
        ),
        ("shape.toml", b"rules = 5\n".to_vec(), "shape.toml"),
        ("rules.d", Vec::new(), "rules.d"),
    ];
    for (name, body, what) in cases {
        if name != "rules.d" {
            write(d.path(), name, &body);
        }
        let o = ferret()
            .current_dir(d.path())
            .args(["scan", "a.env", "--rules", name])
            .timeout(TIMEOUT)
            .output()
            .unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(name) && err.contains(what), "{name}: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
        assert!(o.stdout.is_empty(), "no report when the rules are unusable");
    }
}

#[test]
fn malformed_config_files_are_errors_naming_the_file() {
    let d = dir();
    write(d.path(), "a.env", format!("T={GH_TOKEN}\n"));
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            b"[scan\nmin_confidence = \"low\"\n".to_vec(),
            ".ferret.toml:1",
        ),
        (
            b"[scan]\nexclude_paths = \"*.snap\"\n".to_vec(),
            ".ferret.toml:2",
        ),
        (b"scan = 1\n".to_vec(), ".ferret.toml:1"),
        (b"[allow]\nstopwords = \"\xff\"\n".to_vec(), ".ferret.toml"),
        (
            b"[allow.rules.\"no.such\"]\nstopwords = [\"x\"]\n".to_vec(),
            "no.such",
        ),
    ];
    for (body, what) in cases {
        write(d.path(), ".ferret.toml", &body);
        let o = ferret()
            .current_dir(d.path())
            .args(["scan", "."])
            .timeout(TIMEOUT)
            .output()
            .unwrap();
        let err = stderr(&o);
        let shown = String::from_utf8_lossy(&body);
        assert_eq!(o.status.code(), Some(2), "{shown}: {err}");
        assert!(
            err.contains(".ferret.toml") && err.contains(what),
            "{shown}: {err}"
        );
        assert!(!err.contains("panicked"), "{shown}: {err}");
    }
    // A directory where a file is expected.
    let o = run(d.path(), &["scan", "a.env", "--config", "."]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot read"), "{}", stderr(&o));
}

#[test]
fn corrupt_pack_is_reported_by_object_and_readable_secrets_are_still_found() {
    let d = dir();
    git_init(d.path());
    write(d.path(), "a.env", format!("T={GH_TOKEN}\n"));
    write(
        d.path(),
        "b.env",
        format!("T={GH_TOKEN_2}\n{}", "filler\n".repeat(50)),
    );
    git(d.path(), &["add", "."]);
    git(d.path(), &["commit", "-q", "-m", "add"]);
    git(d.path(), &["gc", "-q"]);
    let blob = git(d.path(), &["rev-parse", "HEAD:b.env"]);
    let packs = d.path().join(".git/objects/pack");
    let pack = std::fs::read_dir(&packs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "pack"))
        .expect("a pack");
    // `verify-pack -v` lists: id type size size-in-pack offset.
    let idx = pack.with_extension("idx");
    let listing = git(d.path(), &["verify-pack", "-v", idx.to_str().unwrap()]);
    let offset: u64 = listing
        .lines()
        .find(|l| l.starts_with(&blob))
        .and_then(|l| l.split_whitespace().nth(4))
        .and_then(|o| o.parse().ok())
        .expect("the blob is in the pack");
    let mut bytes = std::fs::read(&pack).unwrap();
    for b in &mut bytes[offset as usize + 4..offset as usize + 12] {
        *b ^= 0x5A; // inside the blob's zlib stream
    }
    let mut perms = std::fs::metadata(&pack).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&pack, perms).unwrap();
    std::fs::write(&pack, &bytes).unwrap();
    let o = ferret()
        .current_dir(d.path())
        .args(["history", "-f", "json"])
        .timeout(TIMEOUT)
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(&blob), "the corrupt object is named: {err}");
    assert!(err.contains("pack"), "and the pack: {err}");
    assert!(
        !err.contains(GH_TOKEN) && !err.contains(GH_TOKEN_2),
        "errors never carry secrets: {err}"
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let secrets: Vec<&str> = findings(&v)
        .iter()
        .map(|f| f["secret"].as_str().unwrap())
        .collect();
    assert_eq!(
        secrets,
        vec![GH_TOKEN],
        "the readable blob was still scanned"
    );
    assert!(v["summary"]["errors"].as_u64() >= Some(1));
}

#[test]
fn output_is_identical_whatever_the_thread_count() {
    let d = dir();
    for i in 0..40 {
        let body = match i % 4 {
            0 => format!("A={GH_TOKEN}\nB=tok_Ab3dE5gH7jK9mN1pQ3s{}\n", i % 10),
            1 => format!("x\n{GH_TOKEN_2} and {GH_TOKEN}\n"),
            _ => format!("nothing {i}\n"),
        };
        write(d.path(), &format!("d{}/f{i}.txt", i % 3), body);
    }
    // One file big enough to be read in chunks.
    write(d.path(), "big.txt", seam_text());
    let r = dir();
    let rules = write(r.path(), "rules.toml", TEST_RULES);
    let run = |threads: &str, format: &str| {
        let o = ferret()
            .current_dir(d.path())
            .args([
                "scan",
                ".",
                "--rules",
                rules.to_str().unwrap(),
                "-f",
                format,
            ])
            .args([
                "--threads",
                threads,
                "--chunk-size",
                "1MiB",
                "--max-file-size",
                "10MB",
            ])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        // Only the elapsed time may differ.
        let out = stdout(&o);
        if format == "json" {
            let mut v: serde_json::Value = serde_json::from_str(&out).unwrap();
            v["summary"]["elapsed"] = serde_json::Value::Null;
            return v.to_string();
        }
        let summary = out.lines().last().unwrap();
        let cut = summary.rfind(") in ").expect("summary line");
        format!(
            "{}{}",
            &out[..out.len() - summary.len() - 1],
            &summary[..cut]
        )
    };
    for format in ["json", "human"] {
        let one = run("1", format);
        assert!(one.len() > 10_000, "{format}");
        assert_eq!(one, run("2", format), "{format}");
    }
}

#[test]
fn ferret_works_with_networking_disabled() {
    let d = dir();
    write(d.path(), "a.env", format!("T={GH_TOKEN}\n"));
    let bin = assert_cmd::cargo::cargo_bin("ferret");
    // `unshare -n` needs privileges; `-rn` maps the user to root in a user namespace.
    let usable = ["-n", "-rn"].into_iter().find(|flag| {
        std::process::Command::new("unshare")
            .args([flag, "true"])
            .status()
            .is_ok_and(|s| s.success())
    });
    let Some(flag) = usable else {
        eprintln!("note: cannot create a network namespace here (unshare); check skipped");
        return;
    };
    let o = std::process::Command::new("unshare")
        .arg(flag)
        .arg(&bin)
        .args(["scan", ".", "-f", "json"])
        .current_dir(d.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(findings(&v)[0]["secret"], GH_TOKEN);
    // History, in a repository, without network either.
    git_init(d.path());
    git(d.path(), &["add", "."]);
    git(d.path(), &["commit", "-q", "-m", "x"]);
    let o = std::process::Command::new("unshare")
        .arg(flag)
        .arg(&bin)
        .args(["history", "-f", "json", "-q"])
        .current_dir(d.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

/// The inputs under `tests/fuzz-regressions/<target>/`: crashes the fuzz targets found
/// (see fuzz/README.md) and hand-made hostile inputs, replayed through the library as
/// each target runs them. Nothing may panic.
#[test]
fn fuzz_regression_inputs_replay_through_the_library() {
    use ferret::engine::Engine;
    use ferret::engine::decode::{decode, find_spans};
    use ferret::rules::{RuleSet, check::check_rule, parse_rule_file};
    use ferret::scan::{Counters, Scanner};
    use ferret::source::chunk::{CHUNK_SIZE, scan_stream};
    use ferret::source::{Chunk, Consumer, SkipReason};

    struct Collect<'a, 'e>(&'a mut Scanner<'e>, usize);
    impl Consumer for Collect<'_, '_> {
        fn chunk(&mut self, label: &str, chunk: &Chunk<'_>) {
            let n = &mut self.1;
            self.0.chunk_findings(label, chunk, |f| *n += f.len());
        }
        fn skipped(&mut self, _: &str, _: SkipReason) {}
        fn error(&mut self, _: &str, _: String) {}
    }

    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    let inputs = |target: &str| {
        let mut files: Vec<_> = std::fs::read_dir(root.join(target))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "{target}: no inputs");
        files.into_iter().map(|p| (std::fs::read(&p).unwrap(), p))
    };
    let builtin = RuleSet::builtin().unwrap();
    let engine = Engine::new(builtin.clone()).unwrap();
    let counters = Counters::default();
    let mut scanner = Scanner::new(&engine, &counters, ferret::suppress::line_is_allowed);
    for (data, _) in inputs("engine") {
        let whole = scanner.findings("fuzz", &data);
        assert!(whole.iter().all(|f| f.end_byte <= data.len()));
        let mut c = Collect(&mut scanner, 0);
        scan_stream(&data[..], "fuzz", CHUNK_SIZE, true, &mut c, &mut Vec::new()).unwrap();
    }
    for (data, path) in inputs("rules_parse") {
        let text = String::from_utf8_lossy(&data);
        if let Ok(rules) = parse_rule_file(&text, &path) {
            let mut set = RuleSet::default();
            if set.extend(rules).is_ok() {
                for rule in set.rules() {
                    let _ = check_rule(rule);
                }
            }
        }
    }
    for (data, path) in inputs("config_parse") {
        let text = String::from_utf8_lossy(&data);
        let mut rules = builtin.clone();
        let mut suppressor = ferret::suppress::Suppressor::default();
        let _ = ferret::config::apply_file(&text, &path, &mut rules, &mut suppressor);
    }
    for (data, _) in inputs("decode") {
        let mut spans = Vec::new();
        find_spans(&data, &mut spans);
        assert!(spans.iter().all(|s| s.end <= data.len()));
        for s in spans {
            let _ = decode(&data[s.start..s.end], s.encoding);
        }
    }
}

#[test]
fn a_reader_that_stops_early_ends_output_quietly_with_exit_0() {
    use std::process::Stdio;
    // `ferret rules list --format json | head -1`: the JSON (far more than a pipe
    // buffer) meets a closed pipe, which is not an error worth a message.
    for args in [
        &["rules", "list", "--format", "json"][..],
        &["rules", "list"],
    ] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ferret"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 16];
        child.stdout.take().unwrap().read_exact(&mut first).unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert_eq!(stderr(&out), "", "{args:?}");
    }
}
