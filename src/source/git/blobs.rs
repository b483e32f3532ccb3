//! Reads blobs for scanning. A full-history scan decodes every pack in pack order with
//! gix's delta-tree traversal (each delta resolved once, all cores busy); blobs not
//! found in a pack (loose objects, alternates, incremental ranges) are then read one by
//! one. Each wanted blob is handed to a consumer exactly once.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use gix::ObjectId;
use gix::odb::pack;

/// Receives blobs on worker threads.
pub trait BlobSink: Send {
    fn blob(&mut self, id: ObjectId, data: &[u8]);
    fn error(&mut self, id: ObjectId, message: String);
}

/// A set of object ids split into shards, so that worker threads rarely contend.
pub struct SeenSet {
    shards: Vec<Mutex<HashSet<ObjectId>>>,
}

impl SeenSet {
    pub fn new() -> SeenSet {
        SeenSet {
            shards: (0..64).map(|_| Mutex::new(HashSet::new())).collect(),
        }
    }

    /// Inserts `id`, returning true if it was not there.
    pub fn insert(&self, id: ObjectId) -> bool {
        let shard = id.as_bytes()[0] as usize % self.shards.len();
        self.shards[shard]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id)
    }

    pub fn contains(&self, id: &ObjectId) -> bool {
        let shard = id.as_bytes()[0] as usize % self.shards.len();
        self.shards[shard]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(id)
    }
}

impl Default for SeenSet {
    fn default() -> Self {
        Self::new()
    }
}

/// The pack index files of the repository's own object database.
pub fn pack_indices(repo: &gix::Repository) -> Vec<PathBuf> {
    let dir = repo.objects.store_ref().path().join("pack");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "idx"))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// Decodes every object of every pack in pack order on `threads` threads, handing each
/// blob for which `wanted` is true to a sink made by `make` (one per thread), once.
/// Returns messages for packs that could not be read.
pub fn traverse_packs<S, M, W>(
    repo: &gix::Repository,
    threads: usize,
    seen: &SeenSet,
    wanted: &W,
    make: M,
) -> Vec<String>
where
    S: BlobSink,
    M: Fn() -> S + Sync,
    W: Fn(&ObjectId) -> bool + Sync,
{
    let mut errors = Vec::new();
    let interrupt = AtomicBool::new(false);
    for idx in pack_indices(repo) {
        let (index, data, map) = match open_pack(&idx, repo.object_hash()) {
            Ok(b) => b,
            Err(e) => {
                errors.push(format!("cannot open pack {}: {e}", idx.display()));
                continue;
            }
        };
        let reclaim = Reclaimer {
            map,
            decoded: AtomicU64::new(0),
        };
        let mut processor = Processor {
            make: &make,
            sink: None,
            seen,
            wanted,
            reclaim: &reclaim,
        };
        let result = index.traverse_with_index(
            &data,
            move |kind, data: &[u8], entry: &pack::index::Entry, _: &dyn gix::Progress| {
                processor.process(kind, data, entry.oid);
                Ok::<(), std::convert::Infallible>(())
            },
            &mut gix::progress::Discard,
            &interrupt,
            pack::index::traverse::with_index::Options {
                thread_limit: Some(threads),
                check: pack::index::traverse::SafetyCheck::SkipFileAndObjectChecksumVerificationAndNoAbortOnDecodeError,
            },
        );
        if let Err(e) = result {
            errors.push(format!(
                "pack {} could not be fully decoded: {e}; its remaining blobs are read one by one",
                idx.display()
            ));
        }
    }
    errors
}

/// A memory-mapped pack shared with the [`Reclaimer`].
#[derive(Clone)]
struct SharedMap(Arc<memmap2::Mmap>);

impl std::ops::Deref for SharedMap {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

fn open_pack(
    idx: &std::path::Path,
    hash: gix::hash::Kind,
) -> Result<
    (
        pack::index::File,
        pack::data::File<SharedMap>,
        Arc<memmap2::Mmap>,
    ),
    String,
> {
    let index = pack::index::File::at(idx, hash).map_err(|e| e.to_string())?;
    let path = idx.with_extension("pack");
    let file = std::fs::File::open(&path).map_err(|e| e.to_string())?;
    // SAFETY: a read-only map of a pack file, which git never rewrites in place (packs
    // are immutable; repacking writes new files and unlinks old ones, which keeps
    // this mapping valid).
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| e.to_string())?;
    let map = Arc::new(map);
    let data = pack::data::File::from_data(SharedMap(map.clone()), path, hash)
        .map_err(|e| e.to_string())?;
    Ok((index, data, map))
}

/// Keeps the resident size of a pack traversal bounded: after every
/// `RECLAIM_EVERY` decoded bytes, the pack's pages are dropped from this process's
/// page tables. They stay in the page cache, and any page read again is faulted back
/// in with the same bytes, so this changes memory use, never results.
struct Reclaimer {
    map: Arc<memmap2::Mmap>,
    decoded: AtomicU64,
}

const RECLAIM_EVERY: u64 = 96 << 20;

impl Reclaimer {
    fn account(&self, bytes: usize) {
        let before = self.decoded.fetch_add(bytes as u64, Ordering::Relaxed);
        if before / RECLAIM_EVERY != (before + bytes as u64) / RECLAIM_EVERY {
            // SAFETY: the mapping is private and read-only, so MADV_DONTNEED cannot
            // discard modifications: dropped pages are re-read from the file, which
            // packs never change in place.
            let _ = unsafe {
                self.map
                    .unchecked_advise(memmap2::UncheckedAdvice::DontNeed)
            };
        }
    }
}

/// The per-thread pack processor: gix clones it for every thread, and each clone makes
/// its own sink on first use.
struct Processor<'a, S, M, W> {
    make: &'a M,
    sink: Option<S>,
    seen: &'a SeenSet,
    wanted: &'a W,
    reclaim: &'a Reclaimer,
}

impl<S, M, W> Clone for Processor<'_, S, M, W> {
    fn clone(&self) -> Self {
        Processor {
            make: self.make,
            sink: None,
            seen: self.seen,
            wanted: self.wanted,
            reclaim: self.reclaim,
        }
    }
}

impl<S, M, W> Processor<'_, S, M, W>
where
    S: BlobSink,
    M: Fn() -> S,
    W: Fn(&ObjectId) -> bool,
{
    fn process(&mut self, kind: gix::object::Kind, data: &[u8], id: ObjectId) {
        self.reclaim.account(data.len());
        if kind != gix::object::Kind::Blob || !(self.wanted)(&id) || !self.seen.insert(id) {
            return;
        }
        let make = self.make;
        self.sink.get_or_insert_with(make).blob(id, data);
    }
}

/// Reads each id of `ids` not yet `seen` by random access, on `threads` threads.
pub fn read_remaining<S, M>(
    repo: &gix::Repository,
    ids: &[ObjectId],
    threads: usize,
    seen: &SeenSet,
    make: M,
) where
    S: BlobSink,
    M: Fn() -> S + Sync,
{
    let sync = repo.clone().into_sync();
    let todo: Vec<ObjectId> = ids
        .iter()
        .filter(|id| !seen.contains(id))
        .copied()
        .collect();
    if todo.is_empty() {
        return;
    }
    let chunk = todo.len().div_ceil(threads.max(1));
    std::thread::scope(|s| {
        for part in todo.chunks(chunk.max(1)) {
            let sync = &sync;
            let make = &make;
            s.spawn(move || {
                let mut repo = sync.to_thread_local();
                repo.object_cache_size(0);
                let mut sink = make();
                for id in part {
                    if !seen.insert(*id) {
                        continue;
                    }
                    match repo.find_object(*id) {
                        Ok(obj) if obj.kind == gix::object::Kind::Blob => sink.blob(*id, &obj.data),
                        Ok(obj) => {
                            sink.error(*id, format!("object {id} is a {}, not a blob", obj.kind))
                        }
                        Err(e) => sink.error(*id, format!("cannot read object {id}: {e}")),
                    }
                }
            });
        }
    });
}
