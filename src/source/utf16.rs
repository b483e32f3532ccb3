//! UTF-16 text: an input that starts with a UTF-16 byte order mark (`FF FE` little
//! endian, `FE FF` big endian, as Windows tools such as PowerShell and `reg export`
//! write) is transcoded to UTF-8 before scanning, so that rules written for ASCII find
//! secrets in it (untranscoded, its NUL bytes would also make it look binary).
//!
//! Positions in findings stay true to the file: lines and columns count characters,
//! which transcoding preserves, and byte offsets are mapped back to the UTF-16 file
//! (2 bytes per UTF-16 code unit, after the 2-byte mark; see [`stored_len`]). Unpaired
//! surrogates and a final odd byte become U+FFFD, one code unit each, so the mapping
//! holds for malformed input too.

/// The byte order of a UTF-16 input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endian {
    Little,
    Big,
}

/// Length of the byte order mark.
pub const BOM_LEN: usize = 2;

/// The byte order announced by a UTF-16 byte order mark at the start of `data`.
pub fn bom(data: &[u8]) -> Option<Endian> {
    match data {
        [0xFF, 0xFE, ..] => Some(Endian::Little),
        [0xFE, 0xFF, ..] => Some(Endian::Big),
        _ => None,
    }
}

/// Bytes that the UTF-8 `text` (as written by a [`Decoder`]) took in the UTF-16
/// input: 2 per code unit, that is 2 per character and 2 more for each character
/// outside the Basic Multilingual Plane (a 4-byte UTF-8 sequence, a surrogate pair).
pub fn stored_len(text: &[u8]) -> u64 {
    text.iter()
        .map(|&b| 2 * (u64::from((b as i8) >= -0x40) + u64::from(b >= 0xF0)))
        .sum()
}

/// Runs shorter than this many characters are not reported by [`ascii_runs`].
pub const MIN_RUN: usize = 16;

/// Calls `found(start, text)` for each run of at least [`MIN_RUN`] printable ASCII
/// characters stored as UTF-16LE in binary data (`H\0e\0l\0l\0o\0`): the strings of
/// .NET assemblies and Windows resources. `start` is the run's byte offset in `data`
/// and `text` its characters, one byte each. Only every 16th position is inspected
/// until a UTF-16 character is seen there (a run of 16 characters spans 32 bytes, so
/// it always covers one), which keeps the pass cheap on bytes that hold no strings.
pub fn ascii_runs(data: &[u8], mut found: impl FnMut(usize, &[u8])) {
    const STRIDE: usize = 16;
    let printable = |b: u8| (0x20..0x7f).contains(&b) || b == b'\t';
    let unit_at = |u: usize| u + 1 < data.len() && printable(data[u]) && data[u + 1] == 0;
    let mut text = Vec::new();
    let mut p = 0;
    while p + 1 < data.len() {
        let u = if unit_at(p) {
            p
        } else if p > 0 && unit_at(p - 1) {
            p - 1
        } else {
            p += STRIDE;
            continue;
        };
        let mut start = u;
        while start >= 2 && unit_at(start - 2) {
            start -= 2;
        }
        let mut end = u;
        while unit_at(end) {
            end += 2;
        }
        if (end - start) / 2 >= MIN_RUN {
            text.clear();
            text.extend(data[start..end].iter().step_by(2));
            found(start, &text);
        }
        // The next position to inspect past the run.
        p = (end / STRIDE + 1) * STRIDE;
    }
}

/// Transcodes UTF-16 to UTF-8 as bytes arrive, however they are split.
#[derive(Debug)]
pub struct Decoder {
    endian: Endian,
    /// The first byte of a code unit split between two calls.
    odd: Option<u8>,
    /// A high surrogate waiting for its low half.
    high: Option<u16>,
}

impl Decoder {
    pub fn new(endian: Endian) -> Decoder {
        Decoder {
            endian,
            odd: None,
            high: None,
        }
    }

    /// Decodes `bytes` (the mark already stripped), appending UTF-8 to `out`.
    pub fn feed(&mut self, mut bytes: &[u8], out: &mut Vec<u8>) {
        out.reserve(bytes.len() / 2 * 3 + 4);
        if let Some(a) = self.odd {
            let Some((&b, rest)) = bytes.split_first() else {
                return;
            };
            self.odd = None;
            self.unit(self.join(a, b), out);
            bytes = rest;
        }
        let mut pairs = bytes.chunks_exact(2);
        for p in &mut pairs {
            self.unit(self.join(p[0], p[1]), out);
        }
        if let [last] = pairs.remainder() {
            self.odd = Some(*last);
        }
    }

    /// Ends the input: a dangling half of a unit or pair becomes U+FFFD.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if self.high.take().is_some() {
            push(char::REPLACEMENT_CHARACTER, out);
        }
        if self.odd.take().is_some() {
            push(char::REPLACEMENT_CHARACTER, out);
        }
    }

    fn join(&self, a: u8, b: u8) -> u16 {
        match self.endian {
            Endian::Little => u16::from_le_bytes([a, b]),
            Endian::Big => u16::from_be_bytes([a, b]),
        }
    }

    fn unit(&mut self, u: u16, out: &mut Vec<u8>) {
        if let Some(high) = self.high.take() {
            if (0xDC00..0xE000).contains(&u) {
                let c = 0x10000 + ((u32::from(high) - 0xD800) << 10) + (u32::from(u) - 0xDC00);
                push(
                    char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER),
                    out,
                );
                return;
            }
            push(char::REPLACEMENT_CHARACTER, out);
        }
        if (0xD800..0xDC00).contains(&u) {
            self.high = Some(u);
        } else {
            push(
                char::from_u32(u32::from(u)).unwrap_or(char::REPLACEMENT_CHARACTER),
                out,
            );
        }
    }
}

fn push(c: char, out: &mut Vec<u8>) {
    if c.is_ascii() {
        out.push(c as u8);
    } else {
        out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(s: &str, endian: Endian) -> Vec<u8> {
        s.encode_utf16()
            .flat_map(|u| match endian {
                Endian::Little => u.to_le_bytes(),
                Endian::Big => u.to_be_bytes(),
            })
            .collect()
    }

    #[test]
    fn both_byte_orders_decode_whatever_the_split() {
        let text = "key = ghp_abc é 😀 end\n";
        for endian in [Endian::Little, Endian::Big] {
            let bytes = encode(text, endian);
            for split in 0..bytes.len() {
                let mut d = Decoder::new(endian);
                let mut out = Vec::new();
                d.feed(&bytes[..split], &mut out);
                d.feed(&bytes[split..], &mut out);
                d.finish(&mut out);
                assert_eq!(String::from_utf8(out).unwrap(), text, "split at {split}");
            }
        }
    }

    #[test]
    fn stored_length_maps_back_to_utf16_bytes() {
        let text = "aé😀\n";
        assert_eq!(
            stored_len(text.as_bytes()),
            encode(text, Endian::Little).len() as u64
        );
    }

    #[test]
    fn malformed_units_become_one_replacement_each() {
        // A lone low surrogate, a high surrogate followed by a letter, an odd byte.
        let bytes = [0x00, 0xDC, 0x00, 0xD8, b'a', 0x00, b'b'];
        let mut d = Decoder::new(Endian::Little);
        let mut out = Vec::new();
        d.feed(&bytes, &mut out);
        d.finish(&mut out);
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            "\u{FFFD}\u{FFFD}a\u{FFFD}"
        );
        assert_eq!(stored_len(&out), 8, "four units, the last one padded");
    }

    #[test]
    fn only_a_utf16_mark_is_recognised() {
        assert_eq!(bom(b"\xff\xfea\0"), Some(Endian::Little));
        assert_eq!(bom(b"\xfe\xff\0a"), Some(Endian::Big));
        assert_eq!(bom(b"\xef\xbb\xbfa"), None);
        assert_eq!(bom(b"\xff"), None);
    }

    #[test]
    fn ascii_runs_find_utf16le_strings_in_binary_data() {
        let utf16 =
            |s: &str| -> Vec<u8> { s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect() };
        for lead in 0..40 {
            let mut data = vec![0xffu8; lead];
            data.extend(utf16("Server=db;Password=Zq8vL2mK9xT4"));
            data.extend([0x01, 0x00, 0x00, 0x7f]);
            data.extend(utf16("short one"));
            data.extend([0x00, 0x80]);
            data.extend(utf16("ghp_R7kLq2Vx9Zb4Nm8Tp3Wc6Yd1Hf5Js0Ga2Qeu"));
            let mut got = Vec::new();
            ascii_runs(&data, |at, text| {
                got.push((at, String::from_utf8(text.to_vec()).unwrap()))
            });
            let second = lead + 62 + 4 + 18 + 2;
            assert_eq!(
                got,
                vec![
                    (lead, "Server=db;Password=Zq8vL2mK9xT4".to_string()),
                    (
                        second,
                        "ghp_R7kLq2Vx9Zb4Nm8Tp3Wc6Yd1Hf5Js0Ga2Qeu".to_string()
                    ),
                ],
                "lead {lead}"
            );
        }
        let mut n = 0;
        ascii_runs(
            b"plain ascii text is not utf-16 at all, however long",
            |_, _| n += 1,
        );
        ascii_runs(&[0u8; 4096], |_, _| n += 1);
        assert_eq!(n, 0);
    }

    /// Every maximal run of at least [`MIN_RUN`] UTF-16LE printable characters, found
    /// by inspecting every position.
    fn all_runs(data: &[u8]) -> Vec<(usize, Vec<u8>)> {
        let unit = |u: usize| {
            u + 1 < data.len()
                && ((0x20..0x7f).contains(&data[u]) || data[u] == b'\t')
                && data[u + 1] == 0
        };
        let mut runs = Vec::new();
        for parity in 0..2 {
            let mut u = parity;
            while u < data.len() {
                if !unit(u) {
                    u += 2;
                    continue;
                }
                let start = u;
                while unit(u) {
                    u += 2;
                }
                if (u - start) / 2 >= MIN_RUN {
                    runs.push((start, data[start..u].iter().step_by(2).copied().collect()));
                }
            }
        }
        runs.sort();
        runs
    }

    use proptest::prelude::Strategy as _;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
        /// The strided search finds exactly the runs a byte-by-byte search finds.
        #[test]
        fn ascii_runs_agree_with_a_search_of_every_position(
            parts in proptest::collection::vec(
                proptest::prop_oneof![
                    "[ -~]{0,40}".prop_map(|s: String| {
                        s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect::<Vec<u8>>()
                    }),
                    proptest::collection::vec(proptest::prelude::any::<u8>(), 0..20),
                    proptest::collection::vec(0u8..2, 0..9),
                ],
                0..60,
            )
        ) {
            let data = parts.concat();
            let mut got = Vec::new();
            ascii_runs(&data, |at, text| got.push((at, text.to_vec())));
            proptest::prop_assert_eq!(got, all_runs(&data));
        }
    }
}
