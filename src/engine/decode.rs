//! Decoders: where a secret hides behind an encoding. Finds spans of base64 and
//! percent-encoded text and decodes them; the engine then scans each decoded span in
//! place of the encoded one (with the rest of its line around it, so that a decoded
//! `password: <base64>` still reads as an assignment).
//!
//! Everything here is bounded: spans are at most [`MAX_SPAN`] bytes, a decoded span is
//! kept only when it is printable text, and the engine caps how deep decoding nests and
//! how many bytes it rescans per input.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// How a span is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Encoding {
    /// Standard base64 (`A-Za-z0-9+/`, padding optional).
    Base64,
    /// `%XX` escapes, as in URIs and form data.
    Percent,
    /// Backslash escapes of a string literal (`\"`, `\\`, `\n`): code and config
    /// stored inside JSON strings, as in Jupyter notebooks, Terraform state and
    /// serialized settings.
    Escaped,
}

impl Encoding {
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Base64 => "base64",
            Encoding::Percent => "percent",
            Encoding::Escaped => "escaped",
        }
    }
}

/// A run of encoded text in the input, end exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub encoding: Encoding,
}

/// The shortest base64 run worth decoding (12 decoded bytes).
pub const MIN_BASE64: usize = 16;
/// Encoded spans longer than this are left alone (embedded images, archives).
pub const MAX_SPAN: usize = 64 * 1024;

const fn table(extra: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric();
        b += 1;
    }
    let mut i = 0;
    while i < extra.len() {
        t[extra[i] as usize] = true;
        i += 1;
    }
    t
}

static BASE64_CHARS: [bool; 256] = table(b"+/");
/// Characters that may appear in a percent-encoded URI or form value (quotes and
/// brackets excluded, so a quoted value's span stops at its quotes).
static URI_CHARS: [bool; 256] = table(b"-._~:/?#@!$&*+,;=%");

/// Appends every candidate span of `data` to `out`, sorted by start.
pub fn find_spans(data: &[u8], out: &mut Vec<Span>) {
    let first = out.len();
    base64_spans(data, out);
    percent_spans(data, out);
    escaped_spans(data, out);
    out[first..].sort_unstable_by_key(|s| s.start);
}

/// Base64 runs of at least [`MIN_BASE64`] characters. Such a run always holds a whole
/// aligned 8-byte word of base64 characters, so words are tested eight bytes at a time
/// ([`word_may_be_base64`]) and only a word that passes is walked byte by byte.
fn base64_spans(data: &[u8], out: &mut Vec<Span>) {
    let b64 = |i: usize| BASE64_CHARS[data[i] as usize];
    let mut k = 0;
    while k + 8 <= data.len() {
        // Skip sixteen bytes at a time while neither of their words can be base64.
        while k + 16 <= data.len() {
            let m = block_mask(data[k..k + 16].try_into().expect("16 bytes"));
            if m & 0xff == 0xff || m >> 8 == 0xff {
                break;
            }
            k += 16;
        }
        if k + 8 > data.len() {
            break;
        }
        let word = u64::from_le_bytes(data[k..k + 8].try_into().expect("8 bytes"));
        if !word_may_be_base64(word) || !(k..k + 8).all(b64) {
            k += 8;
            continue;
        }
        let mut s = k;
        while s > 0 && b64(s - 1) {
            s -= 1;
        }
        let mut e = k + 8;
        while e < data.len() && b64(e) {
            e += 1;
        }
        let mut p = e;
        while p < data.len() && p - e < 2 && data[p] == b'=' {
            p += 1;
        }
        if e - s >= MIN_BASE64 && p - s <= MAX_SPAN && looks_like_base64(&data[s..e]) {
            out.push(Span {
                start: s,
                end: p,
                encoding: Encoding::Base64,
            });
        }
        // Next aligned word after the run.
        k = p.div_ceil(8) * 8;
    }
}

/// One bit per byte of `block` (bit i for byte i): set when the byte is ASCII in
/// `+`..=`9`, `A`..=`Z` or `a`..=`z`, the same superset as [`word_may_be_base64`].
#[cfg(target_arch = "x86_64")]
fn block_mask(block: &[u8; 16]) -> u32 {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is part of the x86_64 baseline, so these instructions always exist;
    // the unaligned load reads exactly the 16 bytes `block` borrows.
    unsafe {
        let v = _mm_loadu_si128(block.as_ptr().cast::<__m128i>());
        // Bit 0x20 folds upper case onto lower case; bytes >= 0x80 compare as
        // negative and so fall outside both ranges.
        let f = _mm_or_si128(v, _mm_set1_epi8(0x20));
        let within = |lo: u8, hi: u8| {
            _mm_and_si128(
                _mm_cmpgt_epi8(f, _mm_set1_epi8(lo as i8 - 1)),
                _mm_cmplt_epi8(f, _mm_set1_epi8(hi as i8 + 1)),
            )
        };
        let ok = _mm_or_si128(within(b'+', b'9'), within(b'a', b'z'));
        _mm_movemask_epi8(ok) as u32
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn block_mask(block: &[u8; 16]) -> u32 {
    let half = |w: &[u8]| u64::from_le_bytes(w.try_into().expect("8 bytes"));
    let lo = if word_may_be_base64(half(&block[..8])) {
        0xff
    } else {
        0
    };
    let hi = if word_may_be_base64(half(&block[8..])) {
        0xff00
    } else {
        0
    };
    lo | hi
}

/// True when every byte of `word` is ASCII in `+`..=`9`, `A`..=`Z` or `a`..=`z` (a
/// superset of the base64 alphabet), tested on all eight bytes at once.
fn word_may_be_base64(word: u64) -> bool {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const fn lanes(b: u8) -> u64 {
        u64::from_ne_bytes([b; 8])
    }
    // First the cheap, common rejection: a byte below `+` (space, newline, tab,
    // quotes, brackets, `*`) anywhere in the word. Borrows only start at such a byte,
    // so this is exact.
    if word.wrapping_sub(lanes(b'+')) & !word & HIGH != 0 {
        return false;
    }
    // With each lane's high bit set, subtracting a value below 0x80 never borrows
    // across lanes; the lane's high bit stays set exactly when its low 7 bits >= lo.
    // Setting bit 0x20 folds upper case onto lower case and leaves `+`..=`9` alone
    // (it also lets a few control bytes through, which the exact check then rejects).
    let folded = (word & !HIGH) | HIGH | lanes(0x20);
    let at_least = |lo: u8| folded.wrapping_sub(lanes(lo)) & HIGH;
    let digits = at_least(b'+') & !at_least(b'9' + 1);
    let letters = at_least(b'a') & !at_least(b'z' + 1);
    (digits | letters) & !word & HIGH == HIGH
}

/// Encoded text mixes cases and digits; words, paths and identifiers mostly do not.
fn looks_like_base64(run: &[u8]) -> bool {
    let (mut upper, mut lower, mut digit) = (false, false, false);
    for &b in run {
        upper |= b.is_ascii_uppercase();
        lower |= b.is_ascii_lowercase();
        digit |= b.is_ascii_digit();
    }
    upper && lower && digit
}

fn is_escape(data: &[u8], p: usize) -> bool {
    p + 2 < data.len() && data[p + 1].is_ascii_hexdigit() && data[p + 2].is_ascii_hexdigit()
}

/// Runs of URI characters holding at least two `%XX` escapes.
fn percent_spans(data: &[u8], out: &mut Vec<Span>) {
    let mut next = 0;
    for p in memchr::memchr_iter(b'%', data) {
        if p < next || !is_escape(data, p) {
            continue;
        }
        let mut s = p;
        while s > 0 && URI_CHARS[data[s - 1] as usize] {
            s -= 1;
        }
        let mut e = p;
        while e < data.len() && URI_CHARS[data[e] as usize] {
            e += 1;
        }
        next = e;
        let escapes = memchr::memchr_iter(b'%', &data[s..e])
            .filter(|&q| is_escape(data, s + q))
            .count();
        if escapes >= 2 && e - s <= MAX_SPAN {
            out.push(Span {
                start: s,
                end: e,
                encoding: Encoding::Percent,
            });
        }
    }
}

/// Lines holding an escaped quote (`\"`): text inside a string literal, whose own
/// quotes a rule cannot see until the line is unescaped ([`unescape`]). One span per
/// line, at most [`MAX_SPAN`] bytes.
fn escaped_spans(data: &[u8], out: &mut Vec<Span>) {
    let mut next = 0;
    for p in memchr::memmem::find_iter(data, b"\\\"") {
        if p < next {
            continue;
        }
        let start = memchr::memrchr(b'\n', &data[..p]).map_or(0, |i| i + 1);
        let end = memchr::memchr(b'\n', &data[p..]).map_or(data.len(), |i| p + i);
        next = end;
        if end - start <= MAX_SPAN {
            out.push(Span {
                start,
                end,
                encoding: Encoding::Escaped,
            });
        }
    }
}

/// Undoes the backslash escapes of a string literal: `\"`, `\\`, `\/`, `\n`, `\r` and
/// `\t` (others are left as they are); the literal's own quotes become spaces. Returns the text and, for each of its bytes
/// and one past the end, the offset in `text` it comes from, so that a secret found
/// in the unescaped text is reported where it stands in the input. `None` when
/// nothing changes.
pub fn unescape(text: &[u8]) -> Option<(Vec<u8>, Vec<u32>)> {
    let mut out = Vec::with_capacity(text.len());
    let mut map = Vec::with_capacity(text.len() + 1);
    let mut i = 0;
    while i < text.len() {
        // The byte read, and how many bytes of `text` it takes.
        let (c, width) = match (text[i], text.get(i + 1)) {
            (b'\\', Some(&c @ (b'"' | b'\\' | b'/'))) => (c, 2),
            (b'\\', Some(b'n')) => (b'\n', 2),
            (b'\\', Some(b'r')) => (b'\r', 2),
            (b'\\', Some(b't')) => (b'\t', 2),
            // A bare quote delimits the literal itself: read as a space, so that
            // `"password = \"…\""` reads as the assignment it holds.
            (b'"', _) => (b' ', 1),
            (b, _) => (b, 1),
        };
        map.push(i as u32);
        out.push(c);
        i += width;
    }
    map.push(text.len() as u32);
    (out.len() != text.len()).then_some((out, map))
}

const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Decodes `text` (a span found by [`find_spans`]); `None` unless the result is
/// printable ASCII text different from the input.
pub fn decode(text: &[u8], encoding: Encoding) -> Option<Vec<u8>> {
    let decoded = match encoding {
        Encoding::Base64 => BASE64.decode(text).ok()?,
        Encoding::Percent if escapes_userinfo_delimiter(text) => return None,
        Encoding::Percent => percent_encoding::percent_decode(text).collect(),
        Encoding::Escaped => unescape(text)?.0,
    };
    let printable = decoded
        .iter()
        .all(|&b| (0x20..0x7f).contains(&b) || matches!(b, b'\t' | b'\n' | b'\r'));
    (printable && !decoded.is_empty() && decoded != text).then_some(decoded)
}

/// Whether `text` is a URI whose user information escapes a delimiter (`%3A`, `%40`,
/// `%2F`), as RFC 3986 asks of a user name or password holding one. Decoded whole,
/// such a URI reads differently: `mongodb://f%3Azzb%40z@host` has a user name and no
/// password, but `mongodb://f:zzb@z@host` reads as the password `zzb`. The URI rules
/// read the escaped password as it stands, so such a span is not decoded.
fn escapes_userinfo_delimiter(text: &[u8]) -> bool {
    let Some(scheme_end) = memchr::memmem::find(text, b"://") else {
        return false;
    };
    let rest = &text[scheme_end + 3..];
    let authority = &rest[..memchr::memchr3(b'/', b'?', b'#', rest).unwrap_or(rest.len())];
    let Some(at) = memchr::memrchr(b'@', authority) else {
        return false;
    };
    authority[..at].windows(3).any(|w| {
        w[0] == b'%'
            && matches!(
                w[1..].to_ascii_uppercase().as_slice(),
                b"3A" | b"40" | b"2F"
            )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(data: &[u8]) -> Vec<(String, Encoding)> {
        let mut out = Vec::new();
        find_spans(data, &mut out);
        out.iter()
            .map(|s| {
                (
                    String::from_utf8_lossy(&data[s.start..s.end]).into_owned(),
                    s.encoding,
                )
            })
            .collect()
    }

    #[test]
    fn lines_with_escaped_quotes_are_spans_and_unescape_maps_back() {
        let data = b"plain \"x\"\n  \"pw = \\\"s3cr3t\\\"\\n\",\nlast\n";
        let s = spans(data);
        assert_eq!(
            s,
            vec![(r#"  "pw = \"s3cr3t\"\n","#.to_string(), Encoding::Escaped)]
        );
        let (text, map) = unescape(br#""a\"b\\c\/d\ne""#).unwrap();
        assert_eq!(text, b" a\"b\\c/d\ne ");
        assert_eq!(map.len(), text.len() + 1);
        // Each byte maps to where it starts in the escaped text.
        assert_eq!(map, vec![0, 1, 2, 4, 5, 7, 8, 10, 11, 13, 14, 15]);
        assert_eq!(unescape(b"no escapes here"), None);
        assert_eq!(
            unescape(br"\u0041 \x"),
            None,
            "other escapes are left alone"
        );
    }

    #[test]
    fn base64_runs_are_found_with_their_padding() {
        let data = b"password: SHg5I2tMcTJ2V3oh\ntoken: aHVudGVyMjpzM2NyM3Q=\n";
        assert_eq!(
            spans(data),
            vec![
                ("SHg5I2tMcTJ2V3oh".to_string(), Encoding::Base64),
                ("aHVudGVyMjpzM2NyM3Q=".to_string(), Encoding::Base64)
            ]
        );
    }

    #[test]
    fn base64_run_is_found_wherever_it_starts() {
        let run = "cG9zdGdyZXM6Ly9hcHA6UXg3dkxtMlB6OUt0QGRiOjU0MzI=";
        for pad in 0..40 {
            let data = format!("{} {run} x", "-".repeat(pad));
            assert_eq!(
                spans(data.as_bytes()),
                vec![(run.to_string(), Encoding::Base64)]
            );
        }
    }

    #[test]
    fn words_paths_and_short_runs_are_not_base64_candidates() {
        assert!(spans(b"include/linux/kernel/sched.h and abcdefghijklmnopqrstu").is_empty());
        assert!(spans(b"x = SGVsbG8x;").is_empty());
        assert!(spans(b"CONFIG_SOMETHING_VERY_LONG_NAME_WITH_CAPS").is_empty());
    }

    #[test]
    fn percent_runs_need_two_escapes() {
        let data = b"url=postgres%3A%2F%2Fapp%3Apw%40db/x printf(\"%d\") 100%";
        let s = spans(data);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].1, Encoding::Percent);
        assert!(s[0].0.starts_with("url=postgres%3A"));
    }

    #[test]
    fn decode_keeps_only_printable_text() {
        assert_eq!(
            decode(b"aHVudGVyMjpzM2NyM3Q=", Encoding::Base64).unwrap(),
            b"hunter2:s3cr3t"
        );
        assert_eq!(
            decode(b"aHVudGVyMjpzM2NyM3Q", Encoding::Base64).unwrap(),
            b"hunter2:s3cr3t"
        );
        // Random identifiers decode to bytes that are not text.
        assert!(decode(b"AbCdEfGh12345678", Encoding::Base64).is_none());
        assert!(decode(b"not-base64-at-all!!", Encoding::Base64).is_none());
        assert_eq!(
            decode(b"a%3Ab%40c", Encoding::Percent).unwrap(),
            b"a:b@c".to_vec()
        );
        assert!(decode(b"%02x%02x", Encoding::Percent).is_none());
    }

    #[test]
    fn uris_escaping_delimiters_in_their_user_information_are_not_decoded() {
        // Decoded whole, the user name `f:zzb@z/z=` would read as a password.
        assert!(
            decode(
                b"mongodb://f%3Azzb%40z%2Fz%3D@127.0.0.1/",
                Encoding::Percent
            )
            .is_none()
        );
        assert!(
            decode(
                b"postgres://admin:Xk9%40vQ2%21mz@db:5432/",
                Encoding::Percent
            )
            .is_none()
        );
        // Other escapes in user information, and escapes past the authority, decode.
        assert_eq!(
            decode(b"https://u:pa%24%24w0rd@h/x%2Fy", Encoding::Percent).unwrap(),
            b"https://u:pa$$w0rd@h/x/y".to_vec()
        );
        // An encoded URI (its `://` escaped too) decodes as before.
        assert_eq!(
            decode(b"next=https%3A%2F%2Fu%3Ap%40h", Encoding::Percent).unwrap(),
            b"next=https://u:p@h".to_vec()
        );
    }

    #[test]
    fn word_filter_agrees_with_the_byte_table() {
        for b in 0..=255u8 {
            let folded = b | 0x20;
            let loose = (b'+'..0x80).contains(&b)
                && ((b'+'..=b'9').contains(&folded) || folded.is_ascii_lowercase());
            let word = u64::from_le_bytes([b, b'a', b'Z', b'0', b'+', b'/', b'q', b'Q']);
            assert_eq!(word_may_be_base64(word), loose, "byte {b:#x}");
            if BASE64_CHARS[b as usize] {
                assert!(loose);
            }
        }
    }

    #[test]
    fn block_mask_agrees_with_the_word_filter() {
        let mut block = [0u8; 16];
        for b in 0..=255u8 {
            for (i, slot) in block.iter_mut().enumerate() {
                *slot = if i == 3 || i == 12 {
                    b
                } else {
                    b"aZ09+/qQ"[i % 8]
                };
            }
            let m = block_mask(&block);
            let word = |w: &[u8]| word_may_be_base64(u64::from_le_bytes(w.try_into().unwrap()));
            // Both are supersets of the alphabet and agree from `+` on; below it the
            // word filter is exact and the block mask lets a few control bytes by.
            if b >= b'+' {
                assert_eq!(m & 0xff == 0xff, word(&block[..8]), "byte {b:#x}");
                assert_eq!(m >> 8 == 0xff, word(&block[8..]), "byte {b:#x}");
            } else {
                assert!(!word(&block[..8]) && !word(&block[8..]), "byte {b:#x}");
            }
            if BASE64_CHARS[b as usize] {
                assert_eq!(m, 0xffff, "byte {b:#x}");
            }
        }
    }

    #[test]
    fn spans_are_bounded() {
        let long = "aB3d".repeat(MAX_SPAN / 4 + 1);
        assert!(spans(format!("k={long}9").as_bytes()).is_empty());
    }
}
