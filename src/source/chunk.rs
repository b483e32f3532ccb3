//! Large inputs in bounded memory: an input larger than the chunk size is read as a
//! stream and handed on in chunks of about [`CHUNK_SIZE`] bytes that overlap by
//! [`OVERLAP`] bytes on each side, so a 2 GB file costs tens of megabytes, not 2 GB.
//!
//! No secret is lost or reported twice: the engine confirms a secret inside a window
//! of at most 256 bytes before and 192 KiB after a keyword (or 192 KiB either side of
//! a token run), and a decoded span covers at most 64 KiB, so a chunk holding
//! [`OVERLAP`] bytes of context on each side
//! of the range it reports (its `keep` range) sees every secret starting in that range
//! exactly as a whole-input scan does; each secret is reported only by the chunk whose
//! `keep` range holds its first byte. Where it can, a chunk begins at a line start, so
//! the line around a secret (its context, and inline allow comments) is complete.
//! Lines, columns and byte offsets count from the start of the input.
//!
//! Inputs with a UTF-16 byte order mark go through the same path, transcoded to UTF-8
//! on the fly (see [`super::utf16`]).

use std::io::{self, Read};

use super::utf16::{self, Decoder};
use super::{Chunk, Consumer, Position, char_len, looks_binary};
use crate::rules::{MAX_WINDOW, WINDOW_BEFORE};

/// Inputs larger than this are scanned in chunks of this size.
pub const CHUNK_SIZE: usize = 16 << 20;
/// Context each chunk shares with its neighbours, on each side of its `keep` range.
/// It covers a rule's reach (256 bytes before a keyword, the keyword, a window of at
/// most [`MAX_WINDOW`] bytes after it; for a token run, the window on both sides) and
/// a decoded span (at most 64 KiB) with room to spare.
pub const OVERLAP: usize = 512 << 10;
const _: () = assert!(OVERLAP >= 2 * MAX_WINDOW + WINDOW_BEFORE + 4096);
/// The smallest chunk size accepted (tests use small chunks to exercise the seams).
pub const MIN_CHUNK_SIZE: usize = 4096;
/// How much UTF-16 input is read at a time.
const UTF16_READ: usize = 256 << 10;

/// Where a stream's text comes from.
enum Fill {
    /// The bytes as stored.
    Bytes,
    /// UTF-16 transcoded to UTF-8; `raw` is the read buffer.
    Utf16 { decoder: Decoder, raw: Vec<u8> },
}

impl Fill {
    /// Reads until `text` holds `want` bytes or the input ends; true at the end.
    fn fill<R: Read>(
        &mut self,
        reader: &mut R,
        text: &mut Vec<u8>,
        want: usize,
    ) -> io::Result<bool> {
        match self {
            Fill::Bytes => read_up_to(reader, text, want),
            Fill::Utf16 { decoder, raw } => {
                while text.len() < want {
                    raw.clear();
                    if read_up_to(reader, raw, UTF16_READ)? && raw.is_empty() {
                        decoder.finish(text);
                        return Ok(true);
                    }
                    decoder.feed(raw, text);
                }
                Ok(false)
            }
        }
    }
}

/// Reads into `buf` until it holds `want` bytes or the input ends; true at the end.
/// Reserves exactly what it needs, so the buffer never doubles past the chunk size.
fn read_up_to<R: Read>(reader: &mut R, buf: &mut Vec<u8>, want: usize) -> io::Result<bool> {
    if buf.len() >= want {
        return Ok(false);
    }
    buf.reserve_exact(want - buf.len());
    let need = (want - buf.len()) as u64;
    let got = reader.by_ref().take(need).read_to_end(buf)? as u64;
    Ok(got < need)
}

/// Moves `pos` past `text`.
fn advance(pos: &mut Position, text: &[u8], utf16: bool) {
    pos.byte += if utf16 {
        utf16::stored_len(text)
    } else {
        text.len() as u64
    };
    match memchr::memrchr(b'\n', text) {
        Some(i) => {
            pos.line += memchr::memchr_iter(b'\n', text).count();
            pos.column = char_len(&text[i + 1..]);
        }
        None => pos.column += char_len(text),
    }
}

/// Reads `reader` to its end and hands it to `c` in chunks of about `size` bytes (one
/// chunk when it is smaller), transcoding UTF-16, skipping it if it looks binary
/// (unless `binary`). `buf` is the caller's reusable buffer.
pub fn scan_stream<R: Read, C: Consumer>(
    mut reader: R,
    label: &str,
    size: usize,
    binary: bool,
    c: &mut C,
    buf: &mut Vec<u8>,
) -> io::Result<()> {
    let size = size.max(MIN_CHUNK_SIZE);
    buf.clear();
    let mut eof = read_up_to(&mut reader, buf, size + 2 * OVERLAP)?;
    let mut start = Position::START;
    let mut fill = Fill::Bytes;
    if let Some(endian) = utf16_mark(buf) {
        let raw = std::mem::take(buf);
        let mut decoder = Decoder::new(endian);
        decoder.feed(&raw[utf16::BOM_LEN..], buf);
        if eof {
            decoder.finish(buf);
        }
        start.byte = utf16::BOM_LEN as u64;
        fill = Fill::Utf16 { decoder, raw };
    }
    let utf16 = matches!(fill, Fill::Utf16 { .. });
    // Without `binary`, a binary input is scanned for provider token formats only.
    // Transcoded UTF-16 holding NULs is not a key file, nor a holder of UTF-16 strings.
    let looks = looks_binary(buf);
    let (restricted, strings) = (looks && !binary, looks && !utf16);
    let mut keep_from = 0;
    let mut first = true;
    loop {
        if !eof {
            eof = fill.fill(&mut reader, buf, keep_from + size + OVERLAP)?;
        }
        let keep_end = if eof { buf.len() } else { buf.len() - OVERLAP };
        let mut chunk = Chunk {
            data: buf,
            keep: keep_from..keep_end,
            start,
            utf16,
            first,
            input_bytes: 0,
            binary: restricted,
            strings,
        };
        chunk.input_bytes =
            chunk.stored_len(&buf[keep_from..keep_end]) + if first { start.byte } else { 0 };
        c.chunk(label, &chunk);
        if eof {
            return Ok(());
        }
        first = false;
        // Keep OVERLAP bytes before the next keep range, from the start of their line
        // when it is near.
        let min_keep = keep_end.saturating_sub(OVERLAP);
        let cut = match memchr::memrchr(b'\n', &buf[..min_keep]) {
            Some(i) if min_keep - (i + 1) <= OVERLAP => i + 1,
            _ => min_keep,
        };
        advance(&mut start, &buf[..cut], utf16);
        buf.drain(..cut);
        keep_from = keep_end - cut;
    }
}

/// The byte order of UTF-16 text: a UTF-16 byte order mark and a NUL byte among the
/// first 8 KiB (which any UTF-16 text holding an ASCII character has). A Latin-1 file
/// that happens to start with `ÿþ` has no NUL and is scanned as bytes.
pub fn utf16_mark(data: &[u8]) -> Option<utf16::Endian> {
    utf16::bom(data).filter(|_| looks_binary(&data[utf16::BOM_LEN..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SkipReason;

    /// Records what a consumer is handed.
    #[derive(Default)]
    struct Record {
        chunks: Vec<(Vec<u8>, std::ops::Range<usize>, Position, bool)>,
        /// Whether each chunk was handed over as binary.
        binary: Vec<bool>,
        skipped: usize,
    }

    impl Consumer for Record {
        fn chunk(&mut self, _label: &str, c: &Chunk<'_>) {
            self.chunks
                .push((c.data.to_vec(), c.keep.clone(), c.start, c.utf16));
            self.binary.push(c.binary);
        }
        fn skipped(&mut self, _label: &str, _reason: SkipReason) {
            self.skipped += 1;
        }
        fn error(&mut self, _label: &str, _message: String) {}
    }

    fn text(lines: usize) -> Vec<u8> {
        (0..lines)
            .map(|i| format!("line {i} é {}\n", "x".repeat(i % 97)))
            .collect::<String>()
            .into_bytes()
    }

    #[test]
    fn keep_ranges_tile_the_input_and_positions_are_exact() {
        let data = text(40_000);
        let mut r = Record::default();
        scan_stream(
            &data[..],
            "t",
            MIN_CHUNK_SIZE,
            false,
            &mut r,
            &mut Vec::new(),
        )
        .unwrap();
        assert!(r.chunks.len() > 3, "{} chunks", r.chunks.len());
        let mut covered = 0u64;
        for (chunk, keep, start, _) in &r.chunks {
            let at = start.byte as usize;
            assert_eq!(&data[at..at + chunk.len()], &chunk[..], "chunk bytes");
            assert_eq!(
                at + keep.start,
                covered as usize,
                "keep ranges are contiguous"
            );
            covered += keep.len() as u64;
            let before = &data[..at];
            let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
            let line_start = memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
            assert_eq!(start.line, line);
            assert_eq!(start.column, char_len(&before[line_start..]));
            if at > 0 {
                assert!(keep.start >= OVERLAP, "context before the keep range");
                assert_eq!(data[at - 1], b'\n', "short lines: chunks start at a line");
            }
        }
        assert_eq!(covered, data.len() as u64);
    }

    #[test]
    fn a_line_longer_than_a_chunk_is_split_with_columns_counted() {
        let data = "é".repeat(300_000).into_bytes();
        let mut r = Record::default();
        scan_stream(
            &data[..],
            "t",
            MIN_CHUNK_SIZE,
            false,
            &mut r,
            &mut Vec::new(),
        )
        .unwrap();
        let (_, _, last, _) = r.chunks.last().unwrap();
        assert_eq!(last.line, 1);
        assert_eq!(last.column, last.byte as usize / 2);
    }

    #[test]
    fn utf16_is_transcoded_with_offsets_into_the_file() {
        let s = "key = value\n".repeat(50_000);
        let mut data = vec![0xFF, 0xFE];
        data.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
        let mut r = Record::default();
        scan_stream(
            &data[..],
            "t",
            MIN_CHUNK_SIZE,
            false,
            &mut r,
            &mut Vec::new(),
        )
        .unwrap();
        assert!(r.chunks.len() > 1);
        let mut joined = Vec::new();
        for (chunk, keep, start, utf16) in &r.chunks {
            assert!(utf16);
            // Lines of 12 characters, 24 bytes in UTF-16, after the 2-byte mark.
            assert_eq!(start.byte, 2 + 24 * (start.line as u64 - 1));
            assert_eq!(start.column, 0);
            joined.extend_from_slice(&chunk[keep.clone()]);
        }
        assert_eq!(String::from_utf8(joined).unwrap(), s);
    }

    #[test]
    fn binary_streams_are_marked_binary_unless_scanned_as_text() {
        let mut r = Record::default();
        let data: Vec<u8> = b"a\0b".repeat(1_000_000);
        scan_stream(
            &data[..],
            "t",
            MIN_CHUNK_SIZE,
            false,
            &mut r,
            &mut Vec::new(),
        )
        .unwrap();
        assert_eq!(r.skipped, 0);
        assert!(r.chunks.len() > 1 && r.binary.iter().all(|&b| b));
        let mut r = Record::default();
        scan_stream(
            &data[..],
            "t",
            MIN_CHUNK_SIZE,
            true,
            &mut r,
            &mut Vec::new(),
        )
        .unwrap();
        assert!(r.chunks.len() > 1 && r.binary.iter().all(|&b| !b));
    }
}
