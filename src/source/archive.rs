//! Archives: zip (and the formats built on it: `.jar`, `.war`, `.whl`, `.nupkg`,
//! `.apk`, `.docx`, `.xlsx`…), gzip and tar (so `.tar.gz` too). Their members are
//! handed on as inputs labelled `archive!member`, nested up to [`MAX_DEPTH`] archives
//! deep. Reading is bounded: each member by the size limit, and each outermost
//! archive by a budget of decompressed bytes ([`BUDGET`]), so a zip bomb costs little
//! and says so. Encrypted or unreadable members are reported, never silently dropped.

use std::cell::Cell;
use std::io::{self, Read};

/// Archives inside archives are opened this many levels deep (a `.jar` in a `.war`).
pub const MAX_DEPTH: u8 = 3;
/// Decompressed bytes read from one archive, its nested archives included.
pub const BUDGET: u64 = 256 * 1024 * 1024;
/// Archives up to this size are opened whatever the size limit (`--max-file-size`
/// bounds what is scanned as one text, and each member is bounded by it): a 70 MB
/// fat jar is read, a disk image is not.
pub const MAX_ARCHIVE_SIZE: u64 = 256 * 1024 * 1024;

/// Entries a zip may list. Its central directory is read whole, so this bounds the
/// memory one archive takes (a fat jar lists some 30,000).
pub const MAX_ENTRIES: u64 = 200_000;

/// An archive format, told by its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Zip,
    Gzip,
    Tar,
}

/// The archive format of `data`, if it is one ferret opens.
pub fn kind(data: &[u8]) -> Option<Kind> {
    if data.starts_with(b"PK\x03\x04") {
        Some(Kind::Zip)
    } else if data.starts_with(b"\x1f\x8b\x08") {
        Some(Kind::Gzip)
    } else if data.get(257..262) == Some(b"ustar") {
        Some(Kind::Tar)
    } else {
        None
    }
}

/// What an archive holds, member by member.
pub enum Member<'a> {
    /// A regular file and its bytes.
    File(&'a str, &'a [u8]),
    /// A file larger than the size limit, not read.
    TooLarge(&'a str, u64),
    /// A file that could not be read (encrypted, unsupported compression, corrupt).
    Unreadable(&'a str, String),
}

/// Decompressed bytes left to read; shared by an archive and the archives inside it.
pub struct Budget(Cell<u64>);

impl Budget {
    pub fn new(bytes: u64) -> Budget {
        Budget(Cell::new(bytes))
    }
    fn left(&self) -> u64 {
        self.0.get()
    }
    fn spend(&self, n: usize) {
        self.0.set(self.0.get().saturating_sub(n as u64));
    }
}

/// Hands every regular-file member of `data` (an archive of `kind`, read from `label`)
/// to `each`, in archive order; members over `max_size` are reported as too large. Errs, with a
/// message, when the archive itself cannot be read or the budget runs out; members
/// read before then have been handed on.
pub fn members(
    kind: Kind,
    label: &str,
    data: &[u8],
    max_size: u64,
    budget: &Budget,
    each: &mut dyn FnMut(Member<'_>),
) -> Result<(), String> {
    match kind {
        Kind::Zip => zip_members(data, max_size, budget, each),
        Kind::Gzip => {
            let mut out = Vec::new();
            let mut d = flate2::read::MultiGzDecoder::new(data);
            let limit = max_size.min(budget.left());
            read_bounded(&mut d, limit, &mut out).map_err(|e| format!("corrupt gzip: {e}"))?;
            if out.len() as u64 > limit {
                return Err(over(max_size, budget));
            }
            budget.spend(out.len());
            each(Member::File(&gz_name(data, label), &out));
            Ok(())
        }
        // A tar member is stored, not compressed: its bytes are already within the
        // archive's, so only the size limit applies.
        Kind::Tar => tar_members(data, max_size, each),
    }
}

fn over(max_size: u64, budget: &Budget) -> String {
    if budget.left() < max_size {
        format!(
            "stopped after {} decompressed (the per-archive limit)",
            super::human_bytes(BUDGET)
        )
    } else {
        format!(
            "decompresses to over {} (--max-file-size)",
            super::human_bytes(max_size)
        )
    }
}

/// Reads at most `limit + 1` bytes (one more than allowed shows the limit was hit).
fn read_bounded(r: &mut dyn Read, limit: u64, out: &mut Vec<u8>) -> io::Result<()> {
    out.clear();
    r.take(limit.saturating_add(1)).read_to_end(out)?;
    Ok(())
}

/// The member name of a gzip stream: the original file name in its header, else the
/// archive's own name without `.gz` (`app.tar` for `app.tar.gz` or `app.tgz`).
fn gz_name(data: &[u8], label: &str) -> String {
    if let Some(name) = flate2::read::GzDecoder::new(data)
        .header()
        .and_then(|h| h.filename())
    {
        return String::from_utf8_lossy(name).into_owned();
    }
    let base = label.rsplit(['/', '\\', '!']).next().unwrap_or(label);
    if let Some(stem) = base.strip_suffix(".tgz") {
        format!("{stem}.tar")
    } else {
        base.strip_suffix(".gz").unwrap_or(base).to_string()
    }
}

fn zip_members(
    data: &[u8],
    max_size: u64,
    budget: &Budget,
    each: &mut dyn FnMut(Member<'_>),
) -> Result<(), String> {
    zip_members_within(data, max_size, budget, MAX_ENTRIES, each)
}

fn zip_members_within(
    data: &[u8],
    max_size: u64,
    budget: &Budget,
    max_entries: u64,
    each: &mut dyn FnMut(Member<'_>),
) -> Result<(), String> {
    if let Some(n) = zip_entry_count(data).filter(|&n| n > max_entries) {
        return Err(format!(
            "lists {n} entries, over the limit of {max_entries}"
        ));
    }
    let mut zip =
        zip::ZipArchive::new(io::Cursor::new(data)).map_err(|e| format!("corrupt zip: {e}"))?;
    let mut out = Vec::new();
    for i in 0..zip.len() {
        let name = match zip.name_for_index(i) {
            Some(Ok(n)) => n.into_owned(),
            _ => format!("#{i}"),
        };
        let mut file = match zip.by_index(i) {
            Ok(f) => f,
            Err(e) => {
                each(Member::Unreadable(&name, e.to_string()));
                continue;
            }
        };
        if !file.is_file() {
            continue;
        }
        if file.size() > max_size {
            each(Member::TooLarge(&name, file.size()));
            continue;
        }
        if budget.left() == 0 {
            return Err(over(max_size, budget));
        }
        let limit = max_size.min(budget.left());
        if let Err(e) = read_bounded(&mut file, limit, &mut out) {
            each(Member::Unreadable(&name, e.to_string()));
            continue;
        }
        if out.len() as u64 > limit {
            // The size in the directory lied (or the budget ran out).
            return Err(over(max_size, budget));
        }
        budget.spend(out.len());
        each(Member::File(&name, &out));
    }
    Ok(())
}

/// The number of entries a zip's end-of-central-directory record (or its zip64
/// record) declares; the zip reader reads no more than that many.
fn zip_entry_count(data: &[u8]) -> Option<u64> {
    // The record is 22 bytes, followed by a comment of at most 65,535.
    let from = data.len().saturating_sub(22 + 65_535);
    let at = from + memchr::memmem::rfind(&data[from..], b"PK\x05\x06")?;
    let eocd = data.get(at..at + 22)?;
    let count = u64::from(u16::from_le_bytes([eocd[10], eocd[11]]));
    if count != 0xFFFF {
        return Some(count);
    }
    // Zip64: a locator just before the record points at the zip64 record.
    let locator = data.get(at.checked_sub(20)?..at)?;
    if !locator.starts_with(b"PK\x06\x07") {
        return Some(count);
    }
    let offset = usize::try_from(u64::from_le_bytes(locator[8..16].try_into().ok()?)).ok()?;
    let record = data.get(offset..offset.checked_add(56)?)?;
    if !record.starts_with(b"PK\x06\x06") {
        return Some(count);
    }
    Some(u64::from_le_bytes(record[32..40].try_into().ok()?))
}

fn tar_members(data: &[u8], max_size: u64, each: &mut dyn FnMut(Member<'_>)) -> Result<(), String> {
    let mut tar = tar::Archive::new(data);
    let entries = tar.entries().map_err(|e| format!("corrupt tar: {e}"))?;
    let mut out = Vec::new();
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("corrupt tar: {e}"))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let size = entry.size();
        if size > max_size {
            each(Member::TooLarge(&name, size));
            continue;
        }
        if let Err(e) = read_bounded(&mut entry, max_size, &mut out) {
            each(Member::Unreadable(&name, e.to_string()));
            continue;
        }
        each(Member::File(&name, &out));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in files {
            w.start_file(*name, opts).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn list(kind: Kind, data: &[u8], max: u64, budget: u64) -> (Vec<String>, Result<(), String>) {
        let mut seen = Vec::new();
        let r = members(kind, "a", data, max, &Budget::new(budget), &mut |m| {
            seen.push(match m {
                Member::File(n, d) => format!("{n}={}", String::from_utf8_lossy(d)),
                Member::TooLarge(n, s) => format!("{n}:too large {s}"),
                Member::Unreadable(n, e) => format!("{n}:unreadable {e}"),
            })
        });
        (seen, r)
    }

    #[test]
    fn zip_members_are_read_in_order_and_oversized_ones_are_reported() {
        let z = zip_of(&[
            ("a.txt", b"one"),
            ("dir/b.env", b"two"),
            ("big", &[b'x'; 100]),
        ]);
        assert_eq!(kind(&z), Some(Kind::Zip));
        let (seen, r) = list(Kind::Zip, &z, 50, BUDGET);
        assert_eq!(r, Ok(()));
        assert_eq!(
            seen,
            vec!["a.txt=one", "dir/b.env=two", "big:too large 100"]
        );
    }

    #[test]
    fn a_zip_listing_too_many_entries_is_not_read() {
        let z = zip_of(&[("a", b"1"), ("b", b"2"), ("c", b"3")]);
        assert_eq!(zip_entry_count(&z), Some(3));
        let mut seen = 0;
        let r = zip_members_within(&z, 1 << 20, &Budget::new(BUDGET), 2, &mut |_| seen += 1);
        assert_eq!(r, Err("lists 3 entries, over the limit of 2".to_string()));
        assert_eq!(seen, 0);
        assert_eq!(zip_entry_count(b"PK\x03\x04 no directory"), None);
    }

    #[test]
    fn a_zip_bomb_stops_at_the_budget_with_a_message() {
        let zeros = vec![0u8; 4 * 1024 * 1024];
        let z = zip_of(&[("a", &zeros), ("b", &zeros), ("c", &zeros)]);
        assert!(z.len() < 64 * 1024, "{} bytes compressed", z.len());
        let (seen, r) = list(Kind::Zip, &z, 8 * 1024 * 1024, 6 * 1024 * 1024);
        assert_eq!(seen.len(), 1);
        assert!(r.unwrap_err().contains("per-archive limit"));
    }

    #[test]
    fn gzip_and_tar_members_are_read() {
        let mut t = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(5);
        h.set_mode(0o644);
        h.set_cksum();
        t.append_data(&mut h, "conf/app.ini", &b"k=v\n\n"[..])
            .unwrap();
        let tar_bytes = t.into_inner().unwrap();
        assert_eq!(kind(&tar_bytes), Some(Kind::Tar));
        let (seen, r) = list(Kind::Tar, &tar_bytes, 1 << 20, BUDGET);
        assert_eq!(
            (seen, r),
            (vec!["conf/app.ini=k=v\n\n".to_string()], Ok(()))
        );
        let mut gz = flate2::GzBuilder::new()
            .filename("app.tar")
            .write(Vec::new(), flate2::Compression::default());
        gz.write_all(&tar_bytes).unwrap();
        let gz = gz.finish().unwrap();
        assert_eq!(kind(&gz), Some(Kind::Gzip));
        let mut got = Vec::new();
        let r = members(
            Kind::Gzip,
            "x/app.tgz",
            &gz,
            1 << 20,
            &Budget::new(BUDGET),
            &mut |m| {
                if let Member::File(n, d) = m {
                    got.push((n.to_string(), d == tar_bytes.as_slice()));
                }
            },
        );
        assert_eq!((got, r), (vec![("app.tar".to_string(), true)], Ok(())));
        let mut plain = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        plain.write_all(b"x").unwrap();
        let plain = plain.finish().unwrap();
        for (label, name) in [("d/app.tgz", "app.tar"), ("d/notes.txt.gz", "notes.txt")] {
            let mut got = Vec::new();
            members(
                Kind::Gzip,
                label,
                &plain,
                10,
                &Budget::new(BUDGET),
                &mut |m| {
                    if let Member::File(n, _) = m {
                        got.push(n.to_string());
                    }
                },
            )
            .unwrap();
            assert_eq!(got, vec![name], "the member of {label} is named by it");
        }
    }

    #[test]
    fn corrupt_archives_are_errors_not_panics() {
        let mut z = zip_of(&[("a.txt", b"one")]);
        z.truncate(z.len() / 2);
        assert!(list(Kind::Zip, &z, 1 << 20, BUDGET).1.is_err());
        assert!(
            list(Kind::Gzip, b"\x1f\x8b\x08\0garbage", 1 << 20, BUDGET)
                .1
                .is_err()
        );
    }
}
