//! The scanning pipeline shared by every source: per-thread workers run the engine on
//! what a source hands them and send findings to one collector, which reports them.
//!
//! source (parallel) → [`Worker`]: engine → findings → channel → [`Collector`] → report

use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender};

use crate::engine::paths::{is_made_up_path, names_a_product_of_its_path};
use crate::engine::{Engine, Match, Scratch};
use crate::finding::{self, Finding};
use crate::report::{Reporter, Summary, printable};
use crate::rules::Confidence;
use crate::source::{Chunk, Consumer, Position, SkipReason, utf16};
use crate::suppress::Suppressor;

/// What workers tell the collector.
pub enum Event {
    /// The findings of one input, sorted by position.
    Findings(Vec<Finding>),
    Skipped(String, SkipReason),
    /// Several skipped inputs at once (a worker batches them: an archive can hold
    /// thousands of binary members, and one message each would cost a wake-up each).
    SkippedBatch(Vec<(String, SkipReason)>),
    Error(String, String),
}

/// Counters every worker adds to.
#[derive(Default)]
pub struct Counters {
    pub scanned: AtomicU64,
    pub bytes: AtomicU64,
    /// Binary inputs scanned for provider token formats only (a part of `scanned`).
    pub binary: AtomicU64,
}

/// Findings are built and handed on in batches of at most this many, so that an input
/// holding a million secrets never holds a million findings in memory at once.
pub const FINDINGS_BATCH: usize = 64;

/// Per-thread scanning state: the engine's scratch space and match buffer.
pub struct Scanner<'a> {
    engine: &'a Engine,
    scratch: Scratch,
    matches: Vec<Match>,
    counters: &'a Counters,
    allow: fn(&[u8]) -> bool,
}

impl<'a> Scanner<'a> {
    pub fn new(engine: &'a Engine, counters: &'a Counters, allow: fn(&[u8]) -> bool) -> Self {
        Scanner {
            engine,
            scratch: engine.new_scratch(),
            matches: Vec::new(),
            counters,
            allow,
        }
    }

    /// Scans `data`, counting it, and returns its findings sorted by position.
    pub fn findings(&mut self, label: &str, data: &[u8]) -> Vec<Finding> {
        self.collect(label, &Chunk::whole(data))
    }

    /// All the findings of `chunk`, in one vector.
    fn collect(&mut self, label: &str, chunk: &Chunk<'_>) -> Vec<Finding> {
        let mut out = Vec::new();
        self.chunk_findings(label, chunk, |f| out.extend(f));
        out
    }

    /// Like [`Scanner::findings`], for a binary input: its header checked for key
    /// stores and keys, then provider token formats and private keys only (see
    /// [`Engine::find_binary`]), or with `all_rules` (`--binary`) every rule, as text;
    /// in its UTF-16LE strings too.
    pub fn binary_findings(&mut self, label: &str, data: &[u8], all_rules: bool) -> Vec<Finding> {
        self.collect(label, &Chunk::whole_binary(data, all_rules))
    }

    /// The findings of the file-header rules (binary key stores and keys) on a binary
    /// input (all of it, or its first chunk when it is streamed).
    fn header_findings(&mut self, label: &str, data: &[u8]) -> Vec<Finding> {
        if !self.engine.has_header_rules() {
            return Vec::new();
        }
        self.matches.clear();
        self.engine
            .find_header(data, &mut self.scratch, &mut self.matches);
        finding::build_header(self.engine, data, &self.matches, label)
    }

    /// Like [`Scanner::findings`], for UTF-16 text (`data` starts with its byte order
    /// mark): transcoded, with byte offsets into `data` (see [`utf16`]).
    pub fn utf16_findings(
        &mut self,
        label: &str,
        data: &[u8],
        endian: utf16::Endian,
    ) -> Vec<Finding> {
        let mut text = Vec::new();
        let mut decoder = utf16::Decoder::new(endian);
        decoder.feed(data.get(utf16::BOM_LEN..).unwrap_or_default(), &mut text);
        decoder.finish(&mut text);
        let chunk = Chunk {
            data: &text,
            keep: 0..text.len(),
            start: Position {
                byte: utf16::BOM_LEN as u64,
                ..Position::START
            },
            utf16: true,
            first: true,
            input_bytes: data.len() as u64,
            binary: false,
            strings: false,
        };
        self.collect(label, &chunk)
    }

    /// Scans one chunk of an input (or a whole input: [`Chunk::whole`]) and hands its
    /// findings to `emit` in batches sorted by position, placed in the whole input:
    /// lines, columns and byte offsets count from the input's start (byte offsets in
    /// the stored file for UTF-16 text). Only secrets starting in `chunk.keep` count.
    pub fn chunk_findings(
        &mut self,
        label: &str,
        chunk: &Chunk<'_>,
        mut emit: impl FnMut(Vec<Finding>),
    ) {
        if chunk.first {
            self.counters.scanned.fetch_add(1, Ordering::Relaxed);
            if chunk.binary {
                self.counters.binary.fetch_add(1, Ordering::Relaxed);
            }
            // A binary input's header: a key store or key in binary form.
            if chunk.strings {
                let found = self.header_findings(label, chunk.data);
                if !found.is_empty() {
                    emit(found);
                }
            }
        }
        self.counters
            .bytes
            .fetch_add(chunk.input_bytes, Ordering::Relaxed);
        self.matches.clear();
        if chunk.binary {
            self.engine
                .find_binary(chunk.data, &mut self.scratch, &mut self.matches);
        } else {
            self.engine
                .find(chunk.data, &mut self.scratch, &mut self.matches);
        }
        self.matches.retain(|m| chunk.keep.contains(&m.start));
        let data = chunk.data;
        // Newlines in data[..counted_to]; stored (UTF-16) bytes of data[..stored_to].
        let (mut lines_before, mut counted_to) = (0, 0);
        let (mut stored_before, mut stored_to) = (0u64, 0);
        let layout = std::cell::OnceCell::new();
        for batch in self.matches.chunks(FINDINGS_BATCH) {
            // Build each batch from the start of its first line, so that line counting
            // starts there rather than at the top of the input for every batch.
            let first = batch.iter().map(|m| m.start).min().unwrap_or(0);
            let base = memchr::memrchr(b'\n', &data[..first]).map_or(0, |i| i + 1);
            lines_before += memchr::memchr_iter(b'\n', &data[counted_to..base]).count();
            counted_to = base;
            let mut out = Vec::with_capacity(batch.len());
            finding::build(
                self.engine,
                data,
                base,
                batch,
                label,
                &self.allow,
                chunk.binary,
                &layout,
                &mut out,
            );
            for f in &mut out {
                // On the chunk's first line, columns continue those of earlier chunks.
                if base == 0 && f.line == 1 {
                    f.column += chunk.start.column;
                }
                if base == 0 && f.end_line == 1 {
                    f.end_column += chunk.start.column;
                }
                f.line += chunk.start.line - 1 + lines_before;
                f.end_line += chunk.start.line - 1 + lines_before;
                let (start, end) = (f.start_byte, f.end_byte);
                stored_before += chunk.stored_len(&data[stored_to..start]);
                stored_to = start;
                let stored_end = stored_before + chunk.stored_len(&data[start..end]);
                f.start_byte = (chunk.start.byte + stored_before) as usize;
                f.end_byte = (chunk.start.byte + stored_end) as usize;
            }
            if !out.is_empty() {
                emit(out);
            }
        }
        if chunk.strings {
            self.utf16_string_findings(label, chunk, &mut emit);
        }
    }

    /// The findings in the UTF-16LE strings of a binary chunk (.NET assemblies, Windows
    /// resources; see [`utf16::ascii_runs`]), placed at their bytes in the input: of
    /// provider formats only, or of every rule for a chunk scanned as text
    /// (`--binary`). They are handed on after the chunk's other findings.
    fn utf16_string_findings(
        &mut self,
        label: &str,
        chunk: &Chunk<'_>,
        emit: &mut impl FnMut(Vec<Finding>),
    ) {
        let data = chunk.data;
        let (mut line, mut counted_to) = (chunk.start.line, 0);
        utf16::ascii_runs(data, |start, text| {
            if !chunk.keep.contains(&start) {
                return;
            }
            self.matches.clear();
            if chunk.binary {
                self.engine
                    .find_binary(text, &mut self.scratch, &mut self.matches);
            } else {
                self.engine.find(text, &mut self.scratch, &mut self.matches);
            }
            if self.matches.is_empty() {
                return;
            }
            let mut out = Vec::new();
            finding::build(
                self.engine,
                text,
                0,
                &self.matches,
                label,
                &self.allow,
                true,
                &Default::default(),
                &mut out,
            );
            line += memchr::memchr_iter(b'\n', &data[counted_to..start]).count();
            counted_to = start;
            let line_start = memchr::memrchr(b'\n', &data[..start]).map_or(0, |i| i + 1);
            let mut column = crate::source::char_len(&data[line_start..start]);
            if line_start == 0 {
                column += chunk.start.column;
            }
            let at = chunk.start.byte as usize + start;
            for f in &mut out {
                // A run is one line of printable characters, two bytes each.
                (f.line, f.end_line) = (line, line);
                f.column += column;
                f.end_column += column;
                f.start_byte = at + 2 * f.start_byte;
                f.end_byte = at + 2 * f.end_byte;
            }
            if !out.is_empty() {
                emit(out);
            }
        });
    }
}

/// A consumer that keeps what it is handed, for sources that scan one input at a time
/// and report its findings together (a git blob that is an archive).
pub struct Collect<'s, 'a> {
    pub scanner: &'s mut Scanner<'a>,
    pub findings: Vec<Finding>,
    pub skipped: Vec<(String, SkipReason)>,
    pub errors: Vec<(String, String)>,
}

impl<'s, 'a> Collect<'s, 'a> {
    pub fn new(scanner: &'s mut Scanner<'a>) -> Self {
        Collect {
            scanner,
            findings: Vec::new(),
            skipped: Vec::new(),
            errors: Vec::new(),
        }
    }
}

impl Consumer for Collect<'_, '_> {
    fn chunk(&mut self, label: &str, chunk: &Chunk<'_>) {
        let out = &mut self.findings;
        self.scanner.chunk_findings(label, chunk, |f| out.extend(f));
    }

    fn skipped(&mut self, label: &str, reason: SkipReason) {
        self.skipped.push((label.to_string(), reason));
    }

    fn error(&mut self, label: &str, message: String) {
        self.errors.push((label.to_string(), message));
    }
}

/// A per-thread consumer: scans what a source hands it and sends findings on.
pub struct Worker<'a> {
    scanner: Scanner<'a>,
    tx: Sender<Event>,
    /// Skipped inputs not yet sent (see [`Event::SkippedBatch`]).
    skipped: Vec<(String, SkipReason)>,
}

impl Drop for Worker<'_> {
    fn drop(&mut self) {
        self.flush_skipped();
    }
}

/// Skipped inputs a worker holds before sending them together.
const SKIPPED_BATCH: usize = 256;

impl<'a> Worker<'a> {
    pub fn new(
        engine: &'a Engine,
        tx: Sender<Event>,
        counters: &'a Counters,
        allow: fn(&[u8]) -> bool,
    ) -> Worker<'a> {
        Worker {
            scanner: Scanner::new(engine, counters, allow),
            tx,
            skipped: Vec::new(),
        }
    }

    fn flush_skipped(&mut self) {
        if !self.skipped.is_empty() {
            let batch = std::mem::take(&mut self.skipped);
            self.send(Event::SkippedBatch(batch));
        }
    }

    pub fn send(&self, event: Event) {
        // The collector only goes away when the run is over; nothing to do then.
        let _ = self.tx.send(event);
    }
}

impl Consumer for Worker<'_> {
    fn chunk(&mut self, label: &str, chunk: &Chunk<'_>) {
        let tx = &self.tx;
        self.scanner.chunk_findings(label, chunk, |f| {
            // The collector only goes away when the run is over; nothing to do then.
            let _ = tx.send(Event::Findings(f));
        });
    }

    fn skipped(&mut self, label: &str, reason: SkipReason) {
        self.skipped.push((label.to_string(), reason));
        if self.skipped.len() >= SKIPPED_BATCH {
            self.flush_skipped();
        }
    }

    fn error(&mut self, label: &str, message: String) {
        self.send(Event::Error(label.to_string(), message));
    }
}

/// Receives events, writes warnings and errors to standard error as they come, and
/// feeds the reporter (sorted at the end, or streamed).
pub struct Collector {
    reporter: Box<dyn Reporter + Send>,
    pub quiet: bool,
    pub verbose: bool,
    /// Decides which findings are reported (allowlists, confidence, baseline).
    pub suppressor: Suppressor,
    /// Findings at or above this confidence fail the run.
    pub fail_on: Confidence,
    /// Keep every reported finding in the outcome even when streaming (baselines).
    pub retain_reported: bool,
    /// Scan roots, stripped from paths before judging whether a file is a test.
    pub roots: Vec<String>,
}

/// The result of a run.
pub struct Outcome {
    pub summary: Summary,
    /// Reported findings at or above the `fail_on` confidence.
    pub failing: u64,
    /// Every reported finding (kept for baselines).
    pub reported: Vec<Finding>,
    /// The suppressor, with the baseline entries this run matched.
    pub suppressor: Suppressor,
}

impl Outcome {
    /// 2 if anything could not be read, else 1 if a failing finding was reported,
    /// else 0.
    pub fn exit_code(&self) -> i32 {
        if self.summary.errors > 0 {
            2
        } else if self.failing > 0 {
            1
        } else {
            0
        }
    }
}

impl Collector {
    pub fn new(
        reporter: Box<dyn Reporter + Send>,
        quiet: bool,
        verbose: bool,
        suppressor: Suppressor,
        fail_on: Confidence,
    ) -> Collector {
        Collector {
            reporter,
            quiet,
            verbose,
            suppressor,
            fail_on,
            retain_reported: false,
            roots: Vec::new(),
        }
    }

    /// Counts a skipped input, and lists it when asked to (or when it is loud).
    fn skipped(&self, summary: &mut Summary, label: &str, reason: &SkipReason) {
        let loud = match reason {
            SkipReason::TooLarge { .. } => {
                summary.skipped_too_large += 1;
                true
            }
            SkipReason::Symlink => {
                summary.skipped_other += 1;
                summary.skipped_symlinks += 1;
                false
            }
            // Asked to follow links, the user hears of each that leads nowhere.
            SkipReason::BadLink(_) => {
                summary.skipped_other += 1;
                true
            }
            SkipReason::Special | SkipReason::Archive(_) => {
                summary.skipped_other += 1;
                false
            }
        };
        if (loud && !self.quiet) || self.verbose {
            let label = printable(label, false);
            let _ = writeln!(io::stderr().lock(), "ferret: skipped {label}: {reason}");
        }
    }

    /// Drains `rx` until every sender is gone, then finishes the report.
    pub fn run(
        mut self,
        rx: Receiver<Event>,
        counters: &Counters,
        started: Instant,
        unit: &'static str,
    ) -> io::Result<Outcome> {
        let mut summary = Summary {
            unit,
            min_confidence: self.suppressor.min_confidence,
            ..Summary::default()
        };
        let streaming = self.reporter.streaming();
        let mut held: Vec<Finding> = Vec::new();
        let mut failing = 0;
        let stderr = io::stderr();
        for event in rx {
            match event {
                Event::Findings(fs) => {
                    for mut f in fs {
                        // Passwords and wallet keys in tests, fixtures, examples and
                        // translations are nearly always made up, as is one named
                        // after a product its path names: reported only at low
                        // confidence.
                        if f.made_up_in_tests && {
                            let path = below_roots(&f.path, &self.roots);
                            is_made_up_path(path) || names_a_product_of_its_path(path, &f.secret)
                        } {
                            f.confidence = Confidence::Low;
                        }
                        if !self.suppressor.keep(&f) {
                            continue;
                        }
                        if self.suppressor.below_confidence(&f) {
                            summary.below_confidence += 1;
                            continue;
                        }
                        summary.findings += 1;
                        if f.confidence >= self.fail_on {
                            failing += 1;
                        }
                        if streaming {
                            self.reporter.finding(&f)?;
                            if self.retain_reported {
                                held.push(f);
                            }
                        } else {
                            held.push(f);
                        }
                    }
                }
                Event::Skipped(label, reason) => {
                    self.skipped(&mut summary, &label, &reason);
                }
                Event::SkippedBatch(batch) => {
                    for (label, reason) in &batch {
                        self.skipped(&mut summary, label, reason);
                    }
                }
                Event::Error(label, message) => {
                    summary.errors += 1;
                    let _ = if label.is_empty() || message.contains(&label) {
                        let message = printable(&message, false);
                        writeln!(stderr.lock(), "ferret: error: {message}")
                    } else {
                        let (label, message) =
                            (printable(&label, false), printable(&message, false));
                        writeln!(stderr.lock(), "ferret: error: {label}: {message}")
                    };
                }
            }
        }
        held.sort_by(|a, b| {
            (&a.path, a.start_byte, &a.rule_id).cmp(&(&b.path, b.start_byte, &b.rule_id))
        });
        if !streaming {
            for f in &held {
                self.reporter.finding(f)?;
            }
        }
        summary.scanned = counters.scanned.load(Ordering::Relaxed);
        summary.bytes = counters.bytes.load(Ordering::Relaxed);
        summary.binary = counters.binary.load(Ordering::Relaxed);
        summary.elapsed = started.elapsed();
        self.reporter.finish(&summary)?;
        Ok(Outcome {
            summary,
            failing,
            reported: held,
            suppressor: self.suppressor,
        })
    }
}

/// `path` without the scan root it starts with, if any (a whole path component:
/// root `test` is not a prefix of `tests/a.py`).
fn below_roots<'a>(path: &'a str, roots: &[String]) -> &'a str {
    roots
        .iter()
        .filter_map(|r| {
            let rest = path.strip_prefix(r.as_str())?;
            let boundary =
                rest.is_empty() || r.ends_with(['/', '\\']) || rest.starts_with(['/', '\\']);
            boundary.then_some(rest)
        })
        .map(|rest| rest.trim_start_matches(['/', '\\']))
        .min_by_key(|rest| rest.len())
        .unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::paths::is_made_up_path;

    #[test]
    fn scan_roots_are_left_out_of_the_judgement() {
        let roots = vec!["/home/ci/test/checkout".to_string()];
        assert_eq!(
            below_roots("/home/ci/test/checkout/src/a.py", &roots),
            "src/a.py"
        );
        assert!(!is_made_up_path(below_roots(
            "/home/ci/test/checkout/src/a.py",
            &roots
        )));
        assert_eq!(below_roots("src/a.py", &roots), "src/a.py");
        let roots = vec!["test".to_string()];
        assert_eq!(below_roots("tests/a.py", &roots), "tests/a.py");
        assert_eq!(below_roots("test/a.py", &roots), "a.py");
    }
}
