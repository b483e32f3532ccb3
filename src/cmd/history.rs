//! `ferret history`: every blob reachable from every reference, scanned once, each
//! finding traced to the commit that first introduced it.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::{Context, Result, anyhow, bail};
use crossbeam_channel::Sender;
use gix::ObjectId;
use gix::bstr::ByteSlice;

use crate::cli::HistoryArgs;
use crate::config::CommonConfig;
use crate::engine::Engine;
use crate::finding::{Finding, Occurrence, Provenance};
use crate::scan::{Collect, Counters, Event, Scanner};
use crate::source::git::blobs::{self, BlobSink, SeenSet};
use crate::source::git::history::{self, History, Intro, Selection};
use crate::source::{Delivery, SkipReason, git, looks_binary};

pub fn run(args: &HistoryArgs) -> Result<i32> {
    let path = args.repo.clone().unwrap_or_else(|| PathBuf::from("."));
    let mut cfg = CommonConfig::from_args(&args.common, &path)?;
    let mut repo = git::open(&path)?;
    repo.object_cache_size(Some(16 << 20));
    let selection = selection(&repo, args)?;
    let engine = Engine::new(std::mem::take(&mut cfg.rules))?.with_decode_depth(cfg.decode_depth);
    let quiet = cfg.report.opts.quiet;
    let allow = cfg.allow;
    let suppressor = std::mem::take(&mut cfg.suppressor);
    super::pipeline::run(&cfg.report, suppressor, "blob", |tx, counters| {
        let send = |e: Event| {
            let _ = tx.send(e);
        };
        if repo.is_shallow() && !quiet {
            eprintln!(
                "ferret: note: {} is a shallow clone: only the history it holds is scanned",
                path.display()
            );
        }
        let trace = std::env::var_os("FERRET_TRACE").is_some();
        let t0 = std::time::Instant::now();
        let h = match history::walk(&repo, &selection, cfg.threads) {
            Ok(h) => h,
            Err(e) => {
                send(Event::Error(String::new(), format!("{e:#}")));
                return;
            }
        };
        for e in &h.errors {
            send(Event::Error(String::new(), e.clone()));
        }
        if h.submodules > 0 && !quiet {
            eprintln!(
                "ferret: note: {} submodule entries were not followed (scan those repositories separately)",
                h.submodules
            );
        }
        let ctx = Ctx {
            engine: &engine,
            counters,
            history: &h,
            delivery: Delivery {
                binary: args.binary,
                archives: !args.no_archives,
                max_file_size: cfg.max_file_size,
                chunk_size: crate::source::chunk::CHUNK_SIZE,
            },
            results: Mutex::new(Vec::new()),
            lfs: std::sync::atomic::AtomicU64::new(0),
            progress: progress_bar(quiet, h.blobs.len() as u64),
            allow,
        };
        if trace {
            eprintln!(
                "ferret: trace: walked {} commits, {} blobs, {} paths in {:.2}s ({})",
                h.commits.len(),
                h.blobs.len(),
                h.paths.len(),
                t0.elapsed().as_secs_f64(),
                rss()
            );
        }
        let seen = SeenSet::new();
        let make = || Sink::new(&ctx, tx.clone());
        let full = matches!(selection, Selection::All);
        if full {
            let include_unreachable = args.include_unreachable;
            let wanted = |id: &ObjectId| include_unreachable || h.blobs.contains_key(id);
            for e in blobs::traverse_packs(&repo, cfg.threads, &seen, &wanted, make) {
                send(Event::Error(String::new(), e));
            }
        }
        if trace {
            eprintln!(
                "ferret: trace: packs done at {:.2}s ({})",
                t0.elapsed().as_secs_f64(),
                rss()
            );
        }
        let mut ids: Vec<ObjectId> = h.blobs.keys().copied().collect();
        ids.sort();
        blobs::read_remaining(&repo, &ids, cfg.threads, &seen, make);
        if args.include_unreachable {
            let loose = loose_blob_ids(&repo, &seen);
            blobs::read_remaining(&repo, &loose, cfg.threads, &seen, make);
        }
        if let Some(p) = &ctx.progress {
            p.finish_and_clear();
        }
        let lfs = ctx.lfs.load(std::sync::atomic::Ordering::Relaxed);
        if lfs > 0 && !quiet {
            eprintln!(
                "ferret: note: {lfs} Git LFS pointer files were scanned as pointers; their content is stored outside the repository"
            );
        }
        let results = ctx.results.into_inner().unwrap_or_else(|e| e.into_inner());
        match group(&repo, &h, results) {
            Ok(findings) if !findings.is_empty() => send(Event::Findings(findings)),
            Ok(_) => {}
            Err(e) => send(Event::Error(String::new(), format!("{e:#}"))),
        }
    })
}

fn selection(repo: &gix::Repository, args: &HistoryArgs) -> Result<Selection> {
    let commit = |spec: &str| -> Result<ObjectId> {
        let id = repo
            .rev_parse_single(spec.as_bytes().as_bstr())
            .with_context(|| format!("cannot resolve revision `{spec}`"))?;
        let c = id
            .object()?
            .peel_to_commit()
            .with_context(|| format!("`{spec}` does not name a commit"))?;
        Ok(c.id)
    };
    if let Some(since) = &args.since {
        let head = repo
            .head_id()
            .map_err(|e| anyhow!("--since needs a HEAD commit: {e}"))?;
        return Ok(Selection::Range {
            tips: vec![head.detach()],
            hidden: vec![commit(since)?],
        });
    }
    if let Some(range) = &args.range {
        let Some((a, b)) = range.split_once("..") else {
            bail!("--range takes A..B, got `{range}`");
        };
        let b = if b.is_empty() { "HEAD" } else { b };
        let hidden = if a.is_empty() {
            vec![]
        } else {
            vec![commit(a)?]
        };
        return Ok(Selection::Range {
            tips: vec![commit(b)?],
            hidden,
        });
    }
    Ok(Selection::All)
}

fn progress_bar(quiet: bool, len: u64) -> Option<indicatif::ProgressBar> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let pb = indicatif::ProgressBar::new(len);
    pb.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {pos}/{len} blobs {binary_bytes} ({binary_bytes_per_sec}) {wide_bar} ETA {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    Some(pb)
}

/// Loose blobs (for --include-unreachable): ids from the object database that no
/// pack traversal saw.
fn loose_blob_ids(repo: &gix::Repository, seen: &SeenSet) -> Vec<ObjectId> {
    let Ok(iter) = repo.objects.iter() else {
        return Vec::new();
    };
    iter.filter_map(|r| r.ok())
        .filter(|id| !seen.contains(id))
        .filter(|id| {
            repo.find_header(*id)
                .is_ok_and(|h| h.kind() == gix::object::Kind::Blob)
        })
        .collect()
}

struct Ctx<'a> {
    engine: &'a Engine,
    counters: &'a Counters,
    history: &'a History,
    delivery: Delivery,
    results: Mutex<Vec<(ObjectId, Vec<Finding>)>>,
    lfs: std::sync::atomic::AtomicU64,
    progress: Option<indicatif::ProgressBar>,
    allow: fn(&[u8]) -> bool,
}

struct Sink<'a> {
    ctx: &'a Ctx<'a>,
    scanner: Scanner<'a>,
    tx: Sender<Event>,
}

impl<'a> Sink<'a> {
    fn new(ctx: &'a Ctx<'a>, tx: Sender<Event>) -> Self {
        Sink {
            ctx,
            scanner: Scanner::new(ctx.engine, ctx.counters, ctx.allow),
            tx,
        }
    }

    fn found(&self, id: ObjectId, findings: Vec<Finding>) {
        if !findings.is_empty() {
            self.ctx
                .results
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((id, findings));
        }
    }

    /// An archive blob: its members are scanned, and reported at `path!member`.
    fn archive(&mut self, id: ObjectId, data: &[u8]) {
        let label = self.label(&id);
        let mut c = Collect::new(&mut self.scanner);
        crate::source::deliver(&label, data, &self.ctx.delivery, &mut c);
        let Collect {
            findings,
            skipped,
            errors,
            ..
        } = c;
        for (member, reason) in skipped {
            let _ = self
                .tx
                .send(Event::Skipped(format!("{member} (blob {id})"), reason));
        }
        for (member, message) in errors {
            let _ = self
                .tx
                .send(Event::Error(format!("{member} (blob {id})"), message));
        }
        self.found(id, findings);
    }

    fn label(&self, id: &ObjectId) -> String {
        match self.ctx.history.blobs.get(id).and_then(|v| v.first()) {
            Some(i) => self.ctx.history.paths[i.path as usize]
                .to_str_lossy()
                .into_owned(),
            None => format!("<unreachable blob {id}>"),
        }
    }
}

impl BlobSink for Sink<'_> {
    fn blob(&mut self, id: ObjectId, data: &[u8]) {
        if let Some(p) = &self.ctx.progress {
            p.inc(1);
        }
        let size = data.len() as u64;
        // The magic bytes first: a few comparisons turn most blobs away.
        let archive = self.ctx.delivery.archives
            && size <= crate::source::archive::MAX_ARCHIVE_SIZE
            && crate::source::archive::kind(data).is_some()
            && looks_binary(data);
        if archive {
            self.archive(id, data);
            return;
        }
        if size > self.ctx.delivery.max_file_size {
            let label = format!("{} (blob {id})", self.label(&id));
            let _ = self.tx.send(Event::Skipped(
                label,
                SkipReason::TooLarge {
                    size,
                    limit: self.ctx.delivery.max_file_size,
                },
            ));
            return;
        }
        // UTF-16 text (a byte order mark and NULs) is transcoded, not taken as binary.
        let utf16 = crate::source::chunk::utf16_mark(data);
        if utf16.is_none() && looks_binary(data) {
            let label = self.label(&id);
            let all_rules = self.ctx.delivery.binary;
            let found = self.scanner.binary_findings(&label, data, all_rules);
            self.found(id, found);
            return;
        }
        if git::is_lfs_pointer(data) {
            self.ctx
                .lfs
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        let label = self.label(&id);
        let findings = match utf16 {
            Some(endian) => self.scanner.utf16_findings(&label, data, endian),
            None => self.scanner.findings(&label, data),
        };
        self.found(id, findings);
    }

    fn error(&mut self, id: ObjectId, message: String) {
        let label = format!("{} (blob {id})", self.label(&id));
        let _ = self.tx.send(Event::Error(label, message));
    }
}

/// Merges the findings of every blob into one finding per secret (rule and value):
/// the first appearance in topological order, with every commit and path that
/// introduced it, and whether HEAD's tree still holds it.
fn group(
    repo: &gix::Repository,
    h: &History,
    results: Vec<(ObjectId, Vec<Finding>)>,
) -> Result<Vec<Finding>> {
    let no_intros: Vec<Intro> = Vec::new();
    let mut by_secret: HashMap<String, Vec<(ObjectId, Finding)>> = HashMap::new();
    for (id, fs) in results {
        for f in fs {
            by_secret
                .entry(f.fingerprint.clone())
                .or_default()
                .push((id, f));
        }
    }
    let head_tree = repo.head_tree_id().ok().map(|t| t.detach());
    let mut meta_cache: HashMap<ObjectId, (String, String, String, String)> = HashMap::new();
    let mut out = Vec::with_capacity(by_secret.len());
    for (_, mut hits) in by_secret {
        let first_key = |(id, f): &(ObjectId, Finding)| {
            let first = h.blobs.get(id).and_then(|v| v.first());
            (
                first.map_or(u32::MAX, |i| i.commit),
                f.path.clone(),
                f.start_byte,
            )
        };
        hits.sort_by_key(first_key);
        let mut intros: Vec<Intro> = hits
            .iter()
            .flat_map(|(id, _)| h.blobs.get(id).unwrap_or(&no_intros).iter().copied())
            .collect();
        intros.sort_by_key(|i| (i.commit, i.path));
        intros.dedup();
        let in_head = head_tree.is_some_and(|t| {
            hits.iter().any(|(id, _)| {
                h.blobs
                    .get(id)
                    .unwrap_or(&no_intros)
                    .iter()
                    .any(|i| history::entry_at(repo, t, &h.paths[i.path as usize]) == Some(*id))
            })
        });
        let (_, mut finding) = hits.swap_remove(0);
        if let Some(first) = intros.first() {
            let commit = h.commits[first.commit as usize];
            let (author, email, date, summary) = match meta_cache.get(&commit) {
                Some(m) => m.clone(),
                None => {
                    let m = commit_meta(repo, commit)?;
                    meta_cache.insert(commit, m.clone());
                    m
                }
            };
            let mut commits: Vec<u32> = intros.iter().map(|i| i.commit).collect();
            commits.sort_unstable();
            commits.dedup();
            let mut paths: Vec<u32> = intros.iter().map(|i| i.path).collect();
            paths.sort_unstable();
            paths.dedup();
            finding.provenance = Some(Provenance {
                commit: commit.to_string(),
                author,
                email,
                date,
                summary,
                in_head,
                commit_count: commits.len(),
                path_count: paths.len(),
                occurrences: intros
                    .iter()
                    .map(|i| Occurrence {
                        commit: h.commits[i.commit as usize].to_string(),
                        path: h.paths[i.path as usize].to_str_lossy().into_owned(),
                    })
                    .collect(),
            });
        }
        out.push(finding);
    }
    Ok(out)
}

fn commit_meta(repo: &gix::Repository, id: ObjectId) -> Result<(String, String, String, String)> {
    let c = repo
        .find_commit(id)
        .with_context(|| format!("cannot read commit {id}"))?;
    let author = c
        .author()
        .with_context(|| format!("commit {id} has a corrupt author"))?;
    let date = author
        .time()
        .ok()
        .and_then(|t| t.format(gix::date::time::format::ISO8601_STRICT).ok())
        .unwrap_or_default();
    let summary = c
        .message()
        .map(|m| m.summary().to_str_lossy().into_owned())
        .unwrap_or_default();
    Ok((
        author.name.to_str_lossy().trim().to_string(),
        author.email.to_str_lossy().trim().to_string(),
        date,
        summary,
    ))
}

/// Resident memory, for `FERRET_TRACE` output (Linux only).
fn rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .filter(|l| {
                    l.starts_with("VmHWM") || l.starts_with("RssAnon") || l.starts_with("RssFile")
                })
                .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}
