//! `ferret staged`: the pre-commit scan. Only secrets on lines the commit adds are
//! reported; a secret the file already held in `HEAD` is not reported again.

use std::collections::HashSet;
use std::io::IsTerminal;

use anyhow::{Context, Result};
use gix::bstr::ByteSlice;
use rayon::prelude::*;

use crate::cli::{Format, StagedArgs};
use crate::config::CommonConfig;
use crate::engine::Engine;
use crate::finding::Finding;
use crate::scan::{Collect, Counters, Event, Scanner};
use crate::source::git::staged::{self, StagedFile};
use crate::source::{Delivery, SkipReason, archive, git, looks_binary};
use crate::suppress;

pub fn run(args: &StagedArgs) -> Result<i32> {
    // Start-up is the cost of a pre-commit scan: load the rules and build the keyword
    // automaton on one thread while another reads the index and compares it with HEAD.
    let (cfg, engine, git_side) = std::thread::scope(|s| {
        let git_side = s.spawn(|| -> Result<_> {
            let repo = git::open(std::path::Path::new("."))?;
            let index = staged::read_index(&repo, &staged::index_path(&repo))?;
            crate::trace::phase(|| format!("read index: {} entries", index.entries().len()));
            let changes =
                staged::changes(&repo, &index).context("cannot compare the index with HEAD")?;
            crate::trace::phase(|| format!("compared with HEAD: {} files", changes.files.len()));
            Ok((repo.into_sync(), changes))
        });
        let rules_side = (|| -> Result<_> {
            let mut cfg = CommonConfig::from_args(&args.common, std::path::Path::new("."))?;
            let rules = std::mem::take(&mut cfg.rules);
            let depth = cfg.decode_depth;
            Ok((
                cfg,
                Engine::for_small_inputs(rules)?.with_decode_depth(depth),
            ))
        })();
        let git_side = git_side
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("reading the index panicked")));
        rules_side.map(|(c, e)| (c, e, git_side))
    })?;
    let (sync, changes) = git_side?;
    let mut cfg = cfg;
    let allow = cfg.allow;
    let suppressor = std::mem::take(&mut cfg.suppressor);
    let repo = sync.to_thread_local();
    let removed: HashSet<_> = changes.removed.iter().copied().collect();
    let files: Vec<&StagedFile> = changes
        .files
        .iter()
        .filter(|f| !removed.contains(&f.new))
        .collect();
    let quiet = cfg.report.opts.quiet;
    let human = cfg.report.format == Format::Human;
    let opts = Delivery {
        binary: args.binary,
        archives: !args.no_archives,
        max_file_size: cfg.max_file_size,
        chunk_size: crate::source::chunk::CHUNK_SIZE,
    };
    let outcome = super::pipeline::collect(&cfg.report, suppressor, "file", |tx, counters| {
        if changes.submodules > 0 && cfg.report.verbose {
            eprintln!(
                "ferret: note: {} changed submodules were not followed",
                changes.submodules
            );
        }
        let scan_file = |repo: &gix::Repository,
                         scanner: &mut Scanner,
                         old_scanner: &mut Scanner,
                         f: &StagedFile| {
            let label = f.path.to_str_lossy().into_owned();
            crate::trace::phase(|| format!("scanning {label}"));
            match added_findings(repo, scanner, old_scanner, f, &label, &opts) {
                Ok(Outcome::Found(v)) if !v.is_empty() => {
                    let _ = tx.send(Event::Findings(v));
                }
                Ok(Outcome::Found(_)) => {}
                Ok(Outcome::Skipped(r)) => {
                    let _ = tx.send(Event::Skipped(label, r));
                }
                Ok(Outcome::Binary {
                    found,
                    skipped,
                    errors,
                }) => {
                    if !found.is_empty() {
                        let _ = tx.send(Event::Findings(found));
                    }
                    for (member, reason) in skipped {
                        let _ = tx.send(Event::Skipped(member, reason));
                    }
                    for (member, message) in errors {
                        let _ = tx.send(Event::Error(member, message));
                    }
                }
                Err(e) => {
                    let _ = tx.send(Event::Error(label, format!("{e:#}")));
                }
            }
        };
        let discard = Counters::default();
        if files.len() <= 1 || cfg.threads == 1 {
            let mut scanner = Scanner::new(&engine, counters, allow);
            let mut old_scanner = Scanner::new(&engine, &discard, suppress::never_allowed);
            for f in &files {
                scan_file(&repo, &mut scanner, &mut old_scanner, f);
            }
        } else {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(cfg.threads)
                .build()
                .expect("a thread pool");
            pool.install(|| {
                files.par_iter().for_each_init(
                    || {
                        (
                            sync.to_thread_local(),
                            Scanner::new(&engine, counters, allow),
                            Scanner::new(&engine, &discard, suppress::never_allowed),
                        )
                    },
                    |(repo, scanner, old_scanner), f| scan_file(repo, scanner, old_scanner, f),
                );
            });
        }
    })?;
    super::pipeline::finish(&cfg.report, &outcome)?;
    crate::trace::phase(|| "scanned and reported".to_string());
    if outcome.summary.findings > 0 && human && !quiet {
        advise(outcome.summary.findings);
    }
    Ok(if cfg.report.exit_zero && outcome.summary.errors == 0 {
        0
    } else {
        outcome.exit_code()
    })
}

enum Outcome {
    Found(Vec<Finding>),
    Skipped(SkipReason),
    /// A binary file or an archive: the findings its `HEAD` version lacked, and the
    /// archive members that were skipped or could not be read.
    Binary {
        found: Vec<Finding>,
        skipped: Vec<(String, SkipReason)>,
        errors: Vec<(String, String)>,
    },
}

/// Scans the staged blob and keeps the findings on lines the commit adds whose secret
/// the `HEAD` version of the file did not already hold.
fn added_findings(
    repo: &gix::Repository,
    scanner: &mut Scanner,
    old_scanner: &mut Scanner,
    f: &StagedFile,
    label: &str,
    opts: &Delivery,
) -> Result<Outcome> {
    let max_size = opts.max_file_size;
    let header = repo
        .find_header(f.new)
        .with_context(|| format!("cannot read staged blob {}", f.new))?;
    let blob_size = header.size();
    let size_limit = if opts.archives {
        max_size.max(archive::MAX_ARCHIVE_SIZE)
    } else {
        max_size
    };
    if blob_size > size_limit {
        return Ok(Outcome::Skipped(SkipReason::TooLarge {
            size: blob_size,
            limit: max_size,
        }));
    }
    let new = repo
        .find_object(f.new)
        .with_context(|| format!("cannot read staged blob {}", f.new))?;
    let binary_data = looks_binary(&new.data);
    let is_archive = binary_data && archive::kind(&new.data).is_some();
    if blob_size > max_size && !(opts.archives && is_archive) {
        return Ok(Outcome::Skipped(SkipReason::TooLarge {
            size: blob_size,
            limit: max_size,
        }));
    }
    if binary_data {
        // A binary file or an archive, delivered as a file would be. Lines mean little
        // in binary data: what is new is what its `HEAD` version did not hold (a key
        // store's finding is the whole file, so a changed one is new).
        let mut c = Collect::new(scanner);
        crate::source::deliver(label, &new.data, opts, &mut c);
        let (mut found, skipped, errors) = (c.findings, c.skipped, c.errors);
        if let Some(old_id) = f.old
            && !found.is_empty()
        {
            let old = repo
                .find_object(old_id)
                .with_context(|| format!("cannot read blob {old_id} of HEAD"))?;
            let mut c = Collect::new(old_scanner);
            crate::source::deliver(label, &old.data, opts, &mut c);
            let before: HashSet<String> = c.findings.into_iter().map(|f| f.fingerprint).collect();
            found.retain(|f| !before.contains(&f.fingerprint));
        }
        return Ok(Outcome::Binary {
            found,
            skipped,
            errors,
        });
    }
    let Some(old_id) = f.old else {
        return Ok(Outcome::Found(scanner.findings(label, &new.data)));
    };
    let old = repo
        .find_object(old_id)
        .with_context(|| format!("cannot read blob {old_id} of HEAD"))?;
    // Only the part between the common prefix and suffix can hold added lines; in it,
    // scan only the runs of lines the old part lacks, with a little context: a
    // one-line edit to a large file costs one line, not the file.
    let (mid, old_mid) = changed_middle(&old.data, &new.data);
    let base_line = memchr::memchr_iter(b'\n', &new.data[..mid.start]).count();
    let old_lines: HashSet<&[u8]> = old.data[old_mid].lines().collect();
    let mut found = Vec::new();
    for (start, end, first_line) in added_ranges(&new.data[mid.clone()], &old_lines, CONTEXT_LINES)
    {
        let (start, end) = (start + mid.start, end + mid.start);
        for mut x in scanner.findings(label, &new.data[start..end]) {
            x.line += base_line + first_line - 1;
            x.end_line += first_line - 1;
            x.start_byte += start;
            x.end_byte += start;
            found.push(x);
        }
    }
    if found.is_empty() {
        return Ok(Outcome::Found(found));
    }
    let old_secrets: HashSet<String> = old_scanner
        .findings(label, &old.data)
        .into_iter()
        .map(|f| f.fingerprint)
        .collect();
    let new_lines: Vec<&[u8]> = new.data.lines().collect();
    found.retain(|x| {
        !old_secrets.contains(&x.fingerprint)
            && (x.line..=x.end_line).any(|l| {
                new_lines
                    .get(l - 1)
                    .is_none_or(|line| !old_lines.contains(line))
            })
    });
    Ok(Outcome::Found(found))
}

/// The byte ranges of `new` and `old` left after removing their common prefix and
/// suffix, widened to whole lines.
fn changed_middle(old: &[u8], new: &[u8]) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
    let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let start = memchr::memrchr(b'\n', &new[..prefix]).map_or(0, |i| i + 1);
    let max_suffix = (old.len() - start).min(new.len() - start);
    let suffix = old
        .iter()
        .rev()
        .zip(new.iter().rev())
        .take(max_suffix)
        .take_while(|(a, b)| a == b)
        .count();
    // Keep whole lines: the middle ends just after a newline (or at the end).
    let mut new_end = new.len() - suffix;
    if new_end > start && new_end < new.len() && new[new_end - 1] != b'\n' {
        new_end = memchr::memchr(b'\n', &new[new_end..]).map_or(new.len(), |i| new_end + i + 1);
    }
    let tail = new.len() - new_end;
    let old_end = (old.len() - tail.min(old.len() - start)).max(start);
    (start..new_end, start..old_end)
}

/// Lines of context scanned around each run of added lines.
const CONTEXT_LINES: usize = 2;

/// Byte ranges (start, end, 1-based first line) covering every line of `new` that
/// `old` does not have, widened by `context` lines each side and merged.
fn added_ranges(new: &[u8], old: &HashSet<&[u8]>, context: usize) -> Vec<(usize, usize, usize)> {
    // (start offset, end offset incl. newline) of every line
    let mut spans = Vec::new();
    let mut pos = 0;
    while pos < new.len() {
        let end = memchr::memchr(b'\n', &new[pos..]).map_or(new.len(), |i| pos + i + 1);
        spans.push((pos, end));
        pos = end;
    }
    let mut ranges: Vec<(usize, usize)> = Vec::new(); // line index ranges, end exclusive
    for (i, &(a, b)) in spans.iter().enumerate() {
        let line = new[a..b].strip_suffix(b"\n").unwrap_or(&new[a..b]);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if old.contains(line) || old.contains(&new[a..b.min(a + line.len())]) {
            continue;
        }
        let lo = i.saturating_sub(context);
        let hi = (i + 1 + context).min(spans.len());
        match ranges.last_mut() {
            Some(r) if lo <= r.1 => r.1 = r.1.max(hi),
            _ => ranges.push((lo, hi)),
        }
    }
    ranges
        .into_iter()
        .map(|(lo, hi)| (spans[lo].0, spans[hi - 1].1, lo + 1))
        .collect()
}

/// What a developer whose commit was just blocked needs to know.
fn advise(n: u64) {
    let mut err = std::io::stderr().lock();
    let bold = if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        anstyle::Style::new().bold()
    } else {
        anstyle::Style::new()
    };
    use std::io::Write;
    let _ = writeln!(
        err,
        "\n{bold}ferret: this commit adds {n} secret{}.{bold:#}\n\
         \x20 - Remove it from the file, keep it in a secret store or an untracked env file, and `git add` the file again.\n\
         \x20 - If it was ever pushed or shared, rotate it: removing it does not make it secret again.\n\
         \x20 - If it is not a secret (a test fixture, a public key), add `ferret:allow` in a comment on that line.\n\
         \x20 - To bypass this check once: `git commit --no-verify`. Avoid it: once committed, the secret\n\
         \x20   stays in history, and removing it later means rewriting history for everyone.",
        if n == 1 { "" } else { "s" }
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_middle_is_whole_lines_between_common_prefix_and_suffix() {
        let old = b"a\nbb\ncc\ndd\n";
        let new = b"a\nbb\nXcc\ndd\n";
        let (n, o) = changed_middle(old, new);
        assert_eq!((&new[n], &old[o]), (&b"Xcc\n"[..], &b"cc\n"[..]));
        let new = b"a\nbb\ncc\ndd\nee\n";
        let (n, o) = changed_middle(old, new);
        assert_eq!((&new[n], &old[o]), (&b"ee\n"[..], &b""[..]));
        let (n, _) = changed_middle(old, old);
        assert!(n.is_empty());
    }

    #[test]
    fn added_ranges_cover_new_lines_with_context() {
        let old = b"a\nb\nc\nd\ne\nf\n";
        let new = b"a\nb\nX\nc\nd\ne\nf\nY\n";
        let old_lines: HashSet<&[u8]> = old.lines().collect();
        let r = added_ranges(new, &old_lines, 1);
        let text: Vec<&[u8]> = r.iter().map(|&(a, b, _)| &new[a..b]).collect();
        assert_eq!(text, vec![&b"b\nX\nc\n"[..], &b"f\nY\n"[..]]);
        assert_eq!((r[0].2, r[1].2), (2, 7));
        assert!(added_ranges(old, &old_lines, 2).is_empty());
    }
}
