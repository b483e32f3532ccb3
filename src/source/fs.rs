//! The directory source: files and directories walked in parallel with the `ignore`
//! crate (honouring `.gitignore`, `.ignore` and `.ferretignore` unless told not to),
//! and standard input. `.git` directories are never entered.
//!
//! Files up to the chunk size are read whole into a buffer each worker reuses (the
//! fast path); larger ones are streamed in overlapping chunks ([`super::chunk`]), so
//! memory stays bounded whatever `--max-file-size` allows. FIFOs, sockets and devices
//! are never opened.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use ignore::{WalkBuilder, WalkState};

use super::archive;
use super::chunk::scan_stream;
use super::{Consumer, Delivery, SkipReason};

/// How file contents are brought into memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Io {
    /// `read(2)` into a buffer reused by each worker thread (the default: faster
    /// for many small files, and immune to files truncated under us).
    Read,
    /// Memory-map each non-empty file.
    Mmap,
}

#[derive(Debug, Clone)]
pub struct FsOptions {
    pub no_ignore: bool,
    /// Follow symbolic links (loops and dangling links are skipped with a message).
    pub follow_links: bool,
    pub threads: usize,
    pub io: Io,
    /// How a file read into memory is handed on: binary files, archives, the size
    /// limit, and the chunk size above which files are streamed ([`super::chunk`]).
    pub delivery: Delivery,
}

/// Walks `paths` (`-` is standard input) and hands every file to a consumer made by
/// `make` for each worker thread. Returns the git repositories found inside the
/// walked directories (not at a named path's top): their `.git` is not entered, so
/// their history is not scanned, and the caller says so.
pub fn scan_paths<C, F>(paths: &[PathBuf], opts: &FsOptions, make: F) -> Vec<PathBuf>
where
    C: Consumer + Send,
    F: Fn() -> C + Sync,
{
    let (stdin, paths): (Vec<&PathBuf>, Vec<&PathBuf>) =
        paths.iter().partition(|p| p.as_os_str() == "-");
    if !stdin.is_empty() {
        let mut c = make();
        read_stdin(opts, &mut c);
    }
    let Some((first, rest)) = paths.split_first() else {
        return Vec::new();
    };
    let mut wb = WalkBuilder::new(first);
    for p in rest {
        wb.add(p);
    }
    let honour = !opts.no_ignore;
    let nested = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    wb.hidden(false)
        .follow_links(opts.follow_links)
        .git_ignore(honour)
        .git_global(honour)
        .git_exclude(honour)
        .ignore(honour)
        .parents(honour)
        .threads(opts.threads)
        .filter_entry({
            let nested = std::sync::Arc::clone(&nested);
            move |e| {
                if e.file_name() != ".git" {
                    return true;
                }
                // A repository's own `.git` under a named path is depth 1.
                if e.depth() > 1
                    && let Some(repo) = e.path().parent()
                    && holds_repository(e.path(), repo)
                {
                    let mut nested = nested.lock().unwrap_or_else(|p| p.into_inner());
                    nested.push(repo.to_path_buf());
                }
                false
            }
        });
    if honour {
        wb.add_custom_ignore_filename(".ferretignore");
    }
    let named = &paths;
    wb.build_parallel().run(|| {
        let mut consumer = make();
        let mut buf = Vec::new();
        Box::new(move |entry| {
            match entry {
                Ok(entry) => visit(&entry, opts, &mut consumer, &mut buf),
                Err(e) => report_walk_error(e, opts.follow_links, named, &mut consumer),
            }
            WalkState::Continue
        })
    });
    let mut nested = std::mem::take(&mut *nested.lock().unwrap_or_else(|p| p.into_inner()));
    nested.sort();
    nested
}

/// Whether `git` (a `.git` entry in `repo`) holds a repository that `ferret history`
/// can open: a directory, or a file whose `gitdir:` line names one that exists. A
/// submodule unpacked from an archive keeps a `.git` file that points into its
/// superproject's `.git`, which the archive does not hold.
fn holds_repository(git: &Path, repo: &Path) -> bool {
    if git.is_dir() {
        return true;
    }
    let Ok(text) = std::fs::read_to_string(git) else {
        return false;
    };
    text.lines()
        .next()
        .and_then(|l| l.strip_prefix("gitdir:"))
        .is_some_and(|dir| repo.join(dir.trim()).is_dir())
}

/// How a path is named in reports: as given, without a leading `./`.
pub fn display(path: &Path) -> String {
    let s = path.to_string_lossy();
    match s.strip_prefix("./") {
        Some(rest) if !rest.is_empty() => rest.to_string(),
        _ => s.into_owned(),
    }
}

fn report_walk_error<C: Consumer>(
    e: ignore::Error,
    following: bool,
    named: &[&PathBuf],
    c: &mut C,
) {
    fn path_of(e: &ignore::Error) -> Option<&Path> {
        match e {
            ignore::Error::WithPath { path, .. } => Some(path),
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                path_of(err)
            }
            ignore::Error::Loop { child, .. } => Some(child),
            _ => None,
        }
    }
    fn loop_ancestor(e: &ignore::Error) -> Option<&Path> {
        match e {
            ignore::Error::Loop { ancestor, .. } => Some(ancestor),
            ignore::Error::WithPath { err, .. }
            | ignore::Error::WithDepth { err, .. }
            | ignore::Error::WithLineNumber { err, .. } => loop_ancestor(err),
            _ => None,
        }
    }
    let path = path_of(&e);
    let named = path.is_some_and(|p| named.iter().any(|n| n.as_path() == p));
    let label = path.map(display).unwrap_or_default();
    // Followed links that lead nowhere are a property of the tree, not a failure of
    // the scan: skipped with a message. A path named on the command line that cannot
    // be opened stays an error.
    if following && !named {
        if let Some(ancestor) = loop_ancestor(&e) {
            let why = format!("it loops back to {}", display(ancestor));
            c.skipped(&label, SkipReason::BadLink(why));
            return;
        }
        if let Some(p) = path.filter(|p| p.is_symlink()) {
            let why = match std::fs::metadata(p) {
                Err(io) => io.to_string(),
                Ok(_) => e.to_string(),
            };
            c.skipped(&label, SkipReason::BadLink(why));
            return;
        }
    }
    c.error(&label, e.to_string());
}

fn visit<C: Consumer>(entry: &ignore::DirEntry, opts: &FsOptions, c: &mut C, buf: &mut Vec<u8>) {
    let Some(ft) = entry.file_type() else {
        // Standard input is handled elsewhere; nothing else lacks a type.
        return;
    };
    if ft.is_dir() {
        return;
    }
    let label = display(entry.path());
    if ft.is_symlink() {
        c.skipped(&label, SkipReason::Symlink);
        return;
    }
    if !ft.is_file() {
        c.skipped(&label, SkipReason::Special);
        return;
    }
    if let Err(e) = scan_file(entry.path(), &label, opts, c, buf) {
        c.error(&label, e.to_string());
    }
}

/// Reads one regular file (bounded by the size limit) and hands it to the consumer.
pub fn scan_file<C: Consumer>(
    path: &Path,
    label: &str,
    opts: &FsOptions,
    c: &mut C,
    buf: &mut Vec<u8>,
) -> io::Result<()> {
    let file = File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        c.skipped(label, SkipReason::Special);
        return Ok(());
    }
    let size = meta.len();
    let big = size > opts.delivery.max_file_size || size > opts.delivery.chunk_size as u64;
    if big && opts.delivery.archives && size <= archive::MAX_ARCHIVE_SIZE && is_archive(&file)? {
        // An archive is opened whole rather than streamed, and up to its own limit:
        // its members are each bounded by the size limit.
        let mut whole = Vec::new();
        (&file).take(size).read_to_end(&mut whole)?;
        deliver(label, &whole, opts, c);
        return Ok(());
    }
    if size > opts.delivery.max_file_size {
        c.skipped(
            label,
            SkipReason::TooLarge {
                size,
                limit: opts.delivery.max_file_size,
            },
        );
        return Ok(());
    }
    if size > opts.delivery.chunk_size as u64 {
        // Read no further than the size seen at open: a growing file stays bounded,
        // and a truncated one simply ends early.
        return scan_stream(
            file.take(size),
            label,
            opts.delivery.chunk_size,
            opts.delivery.binary,
            c,
            buf,
        );
    }
    match opts.io {
        Io::Mmap if size > 0 => {
            // SAFETY: the map is read-only and private to this call. Another process
            // truncating the file while we read it would raise SIGBUS; that risk is
            // why `read` is the default and `mmap` is opt-in.
            let map = unsafe { memmap2::Mmap::map(&file)? };
            deliver(label, &map, opts, c);
        }
        _ => {
            buf.clear();
            // Read at most one byte past the limit: a file growing under us stays bounded.
            file.take(opts.delivery.max_file_size + 1)
                .read_to_end(buf)?;
            if buf.len() as u64 > opts.delivery.max_file_size {
                c.skipped(
                    label,
                    SkipReason::TooLarge {
                        size: buf.len() as u64,
                        limit: opts.delivery.max_file_size,
                    },
                );
                return Ok(());
            }
            deliver(label, buf, opts, c);
        }
    }
    Ok(())
}

/// True when the file starts like an archive (read from the start; the file position
/// is put back).
fn is_archive(mut file: &File) -> io::Result<bool> {
    use std::io::Seek;
    let mut head = [0u8; 512];
    let mut n = 0;
    while n < head.len() {
        match file.read(&mut head[n..])? {
            0 => break,
            k => n += k,
        }
    }
    file.rewind()?;
    Ok(archive::kind(&head[..n]).is_some())
}

fn deliver<C: Consumer>(label: &str, data: &[u8], opts: &FsOptions, c: &mut C) {
    super::deliver(label, data, &opts.delivery, c);
}

fn read_stdin<C: Consumer>(opts: &FsOptions, c: &mut C) {
    let label = "<stdin>";
    let mut buf = Vec::new();
    match io::stdin()
        .lock()
        .take(opts.delivery.max_file_size + 1)
        .read_to_end(&mut buf)
    {
        Err(e) => c.error(label, format!("cannot read standard input: {e}")),
        Ok(_) if buf.len() as u64 > opts.delivery.max_file_size => c.skipped(
            label,
            SkipReason::TooLarge {
                size: buf.len() as u64,
                limit: opts.delivery.max_file_size,
            },
        ),
        Ok(_) => deliver(label, &buf, opts, c),
    }
}
