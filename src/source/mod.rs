//! Sources: where bytes come from. A source hands each input (a file, a blob, standard
//! input) to a per-thread [`Consumer`] and knows nothing of rules or reports.

pub mod archive;
pub mod chunk;
pub mod fs;
pub mod git;
pub mod utf16;

use std::fmt;
use std::ops::Range;

/// Why an input was not scanned. Every skip is counted in the summary and listed with
/// `--verbose`; none is silent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// Larger than `--max-file-size`.
    TooLarge { size: u64, limit: u64 },
    /// A symbolic link found while walking (links are not followed without
    /// `--follow-symlinks`).
    Symlink,
    /// A symbolic link that, followed, leads nowhere: dangling, or a loop back to a
    /// directory being walked.
    BadLink(String),
    /// A FIFO, socket or device: never opened, so never blocks.
    Special,
    /// An archive member (or the rest of an archive) that could not be read:
    /// encrypted, compressed in an unsupported way, corrupt, or over the archive's
    /// decompression budget.
    Archive(String),
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::TooLarge { size, limit } => write!(
                f,
                "{} is over the {} limit (--max-file-size)",
                human_bytes(*size),
                human_bytes(*limit)
            ),
            SkipReason::Symlink => {
                f.write_str("symbolic link (not followed; --follow-symlinks follows links)")
            }
            SkipReason::BadLink(why) => write!(f, "symbolic link not followed: {why}"),
            SkipReason::Special => f.write_str("not a regular file (FIFO, socket or device)"),
            SkipReason::Archive(why) => write!(f, "not read from the archive: {why}"),
        }
    }
}

/// Where the first byte of a [`Chunk`] lies in its whole input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Byte offset in the input as stored (in the UTF-16 file, for transcoded text).
    pub byte: u64,
    /// 1-based line.
    pub line: usize,
    /// Characters between the start of that line and the chunk's first byte.
    pub column: usize,
}

impl Position {
    /// The start of an input.
    pub const START: Position = Position {
        byte: 0,
        line: 1,
        column: 0,
    };
}

/// A piece of an input: all of it, or one of the overlapping chunks a large input is
/// scanned in (see [`chunk`]), or text transcoded from UTF-16 (see [`utf16`]).
#[derive(Debug, Clone)]
pub struct Chunk<'a> {
    /// The bytes to scan (UTF-8 for transcoded input).
    pub data: &'a [u8],
    /// Only secrets starting in this range of `data` are this chunk's to report; the
    /// rest of `data` is context shared with the neighbouring chunks.
    pub keep: Range<usize>,
    /// Where `data[0]` lies in the whole input.
    pub start: Position,
    /// `data` was transcoded from UTF-16: byte offsets map back through
    /// [`utf16::stored_len`].
    pub utf16: bool,
    /// The input's first chunk (inputs are counted once).
    pub first: bool,
    /// Bytes of the stored input that `keep` accounts for (for the summary).
    pub input_bytes: u64,
    /// A binary input scanned without `--binary`: only provider token formats and
    /// private keys are looked for (see [`crate::engine::Engine::find_binary`]).
    pub binary: bool,
    /// A binary input: its header is checked for key stores and keys (first chunk),
    /// and the strings it stores as UTF-16LE are scanned too (see
    /// [`utf16::ascii_runs`]).
    pub strings: bool,
}

impl<'a> Chunk<'a> {
    /// A whole input, as stored.
    pub fn whole(data: &'a [u8]) -> Chunk<'a> {
        Chunk {
            data,
            keep: 0..data.len(),
            start: Position::START,
            utf16: false,
            first: true,
            input_bytes: data.len() as u64,
            binary: false,
            strings: false,
        }
    }

    /// A whole binary input, scanned for provider token formats and private keys only
    /// (`all_rules` false), or with every rule as text (`--binary`); its UTF-16LE
    /// strings either way.
    pub fn whole_binary(data: &'a [u8], all_rules: bool) -> Chunk<'a> {
        Chunk {
            binary: !all_rules,
            strings: true,
            ..Chunk::whole(data)
        }
    }

    /// Bytes that `text` (a part of `data`) took in the stored input.
    pub fn stored_len(&self, text: &[u8]) -> u64 {
        if self.utf16 {
            utf16::stored_len(text)
        } else {
            text.len() as u64
        }
    }
}

/// Receives inputs from a source, on the source's worker thread.
pub trait Consumer {
    /// An input to scan whole. `label` is the path shown in reports.
    fn input(&mut self, label: &str, data: &[u8]) {
        self.chunk(label, &Chunk::whole(data));
    }
    /// A piece of an input to scan; the pieces of one input come in order.
    fn chunk(&mut self, label: &str, chunk: &Chunk<'_>);
    /// An input that was not scanned, and why.
    fn skipped(&mut self, label: &str, reason: SkipReason);
    /// An input that could not be read.
    fn error(&mut self, label: &str, message: String);
}

/// How an input held in memory is handed to a consumer (see [`deliver`]).
#[derive(Debug, Clone, Copy)]
pub struct Delivery {
    /// Scan binary inputs with every rule, as text; without it they are scanned for
    /// provider token formats and private keys only (their header is checked either
    /// way).
    pub binary: bool,
    /// Open archives and deliver their members ([`archive`]).
    pub archives: bool,
    /// Archive members larger than this are skipped.
    pub max_file_size: u64,
    /// UTF-16 text is transcoded in chunks of this size.
    pub chunk_size: usize,
}

/// Hands an input held in memory to `c`: UTF-16 text transcoded, archives opened and
/// their members delivered in turn (labelled `label!member`), other binary input as a
/// binary chunk ([`Chunk::whole_binary`]), other input as text.
pub fn deliver<C: Consumer>(label: &str, data: &[u8], opts: &Delivery, c: &mut C) {
    deliver_at(
        label,
        data,
        opts,
        c,
        &archive::Budget::new(archive::BUDGET),
        0,
    );
}

fn deliver_at<C: Consumer>(
    label: &str,
    data: &[u8],
    opts: &Delivery,
    c: &mut C,
    budget: &archive::Budget,
    depth: u8,
) {
    if chunk::utf16_mark(data).is_some() {
        // Transcoded (and judged binary or not) as text; reading a slice cannot fail.
        let _ = chunk::scan_stream(
            data,
            label,
            opts.chunk_size,
            opts.binary,
            c,
            &mut Vec::new(),
        );
        return;
    }
    if !looks_binary(data) {
        c.input(label, data);
        return;
    }
    let kind = archive::kind(data).filter(|_| opts.archives && depth < archive::MAX_DEPTH);
    let Some(kind) = kind else {
        c.chunk(label, &Chunk::whole_binary(data, opts.binary));
        return;
    };
    let member = |name: &str| format!("{label}!{name}");
    let result = archive::members(
        kind,
        label,
        data,
        opts.max_file_size,
        budget,
        &mut |m| match m {
            archive::Member::File(name, bytes) => {
                deliver_at(&member(name), bytes, opts, c, budget, depth + 1);
            }
            archive::Member::TooLarge(name, size) => c.skipped(
                &member(name),
                SkipReason::TooLarge {
                    size,
                    limit: opts.max_file_size,
                },
            ),
            archive::Member::Unreadable(name, why) => {
                c.skipped(&member(name), SkipReason::Archive(why));
            }
        },
    );
    match result {
        Ok(()) => {}
        // With --binary, what cannot be read as an archive is scanned as bytes.
        Err(_) if opts.binary => c.chunk(label, &Chunk::whole_binary(data, true)),
        Err(why) => c.skipped(label, SkipReason::Archive(why)),
    }
}

/// The first bytes inspected to decide whether an input is binary.
pub const BINARY_SNIFF_LEN: usize = 8192;

/// True when a NUL byte appears in the first 8 KiB.
pub fn looks_binary(data: &[u8]) -> bool {
    memchr::memchr(0, &data[..data.len().min(BINARY_SNIFF_LEN)]).is_some()
}

/// Character count of `bytes` as reports count columns: UTF-8 continuation bytes are
/// not counted, each invalid byte counts as one.
pub fn char_len(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b as i8) >= -0x40).count()
}

/// `1.3 GB`, `25 MB`, `512 B`: decimal units, one decimal.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_in_first_8k_means_binary() {
        assert!(looks_binary(b"abc\0def"));
        let mut late = vec![b'a'; BINARY_SNIFF_LEN];
        late.push(0);
        assert!(!looks_binary(&late));
    }

    #[test]
    fn byte_sizes_read_well() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(25_000_000), "25.0 MB");
        assert_eq!(human_bytes(1_320_000_000), "1.3 GB");
    }
}
