//! The staged source: what the index holds that `HEAD` does not, found by walking the
//! index and `HEAD`'s tree together. Subtrees whose cache-tree entry (the index's
//! `TREE` extension) matches `HEAD` are skipped without reading them, so a commit of a
//! few files in a large repository reads a few trees, not the whole work tree.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use gix::ObjectId;
use gix::bstr::{BStr, BString, ByteSlice};
use gix::index::entry::Mode;
use gix::index::extension::Tree as CacheTree;
use gix::objs::TreeRefIter;

/// A staged file whose content differs from `HEAD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedFile {
    /// Path relative to the work tree root.
    pub path: BString,
    /// The staged blob.
    pub new: ObjectId,
    /// The blob at the same path in `HEAD`, if any.
    pub old: Option<ObjectId>,
}

/// What changed between `HEAD` and the index.
#[derive(Debug, Default)]
pub struct Staged {
    pub files: Vec<StagedFile>,
    /// Gitlinks (submodules) that changed: not followed.
    pub submodules: usize,
    /// Blobs that `HEAD` holds at paths the index no longer has (deleted or renamed
    /// away): a staged file with one of these ids adds nothing new.
    pub removed: Vec<ObjectId>,
}

/// The index file to read: `$GIT_INDEX_FILE` when set (git sets it for hooks run by
/// `git commit -a` and `git commit <path>`; relative to the current directory), else
/// the repository's own index.
pub fn index_path(repo: &gix::Repository) -> PathBuf {
    match std::env::var_os("GIT_INDEX_FILE") {
        Some(p) if !p.is_empty() => {
            let p = PathBuf::from(p);
            if p.is_absolute() {
                p
            } else {
                std::env::current_dir().map_or(p.clone(), |d| d.join(p))
            }
        }
        _ => repo.index_path(),
    }
}

/// Reads the index at `path`.
pub fn read_index(repo: &gix::Repository, path: &Path) -> Result<gix::index::File> {
    gix::index::File::at(
        path,
        repo.object_hash(),
        true,
        gix::index::decode::Options {
            thread_limit: Some(0),
            ..Default::default()
        },
    )
    .with_context(|| format!("cannot read the index {}", path.display()))
}

/// Compares the index with `HEAD` (an unborn `HEAD` compares with the empty tree).
pub fn changes(repo: &gix::Repository, index: &gix::index::State) -> Result<Staged> {
    let head_tree = match repo.head_commit() {
        Ok(c) => Some(
            c.tree_id()
                .map_err(|e| anyhow!("HEAD commit is corrupt: {e}"))?
                .detach(),
        ),
        Err(_) if repo.head()?.is_unborn() => None,
        Err(e) => return Err(anyhow!("cannot read HEAD: {e}")),
    };
    let mut out = Staged::default();
    let mut w = Walker {
        repo,
        index,
        buf: Vec::new(),
    };
    w.compare(
        0..index.entries().len(),
        0,
        head_tree,
        index.tree(),
        &mut out,
    )?;
    Ok(out)
}

struct Walker<'a> {
    repo: &'a gix::Repository,
    index: &'a gix::index::State,
    buf: Vec<u8>,
}

#[derive(Clone, Copy)]
struct HeadEntry {
    is_tree: bool,
    is_blob: bool,
    oid: ObjectId,
}

impl Walker<'_> {
    fn path(&self, i: usize) -> &BStr {
        self.index.entries()[i].path(self.index)
    }

    /// Compares index entries `range` (all below the directory whose path is the first
    /// `prefix` bytes of theirs) with `head` (that directory's tree in `HEAD`).
    fn compare(
        &mut self,
        range: Range<usize>,
        prefix: usize,
        head: Option<ObjectId>,
        cache: Option<&CacheTree>,
        out: &mut Staged,
    ) -> Result<()> {
        if let (Some(h), Some(c)) = (head, cache)
            && c.num_entries.is_some()
            && c.id == h
        {
            return Ok(());
        }
        let head_entries = match head {
            Some(id) => self.read_tree(id)?,
            None => HashMap::new(),
        };
        let mut seen_names: Vec<BString> = Vec::new();
        let entries = self.index.entries();
        let mut i = range.start;
        while i < range.end {
            let path = self.path(i);
            let rest = &path[prefix..];
            if let Some(slash) = rest.find_byte(b'/') {
                let dir: BString = rest[..slash].into();
                let child_cache =
                    cache.and_then(|c| c.children.iter().find(|t| t.name[..] == dir[..]));
                let end = self.dir_end(i, range.end, prefix + slash + 1, child_cache);
                let child_head = head_entries.get(&dir).filter(|e| e.is_tree).map(|e| e.oid);
                self.compare(i..end, prefix + slash + 1, child_head, child_cache, out)?;
                seen_names.push(dir);
                i = end;
                continue;
            }
            let e = &entries[i];
            i += 1;
            let name: BString = rest.into();
            let old = head_entries.get(&name).copied();
            seen_names.push(name);
            if e.stage_raw() != 0 {
                continue; // an unresolved conflict: git refuses to commit it anyway
            }
            if e.mode == Mode::COMMIT {
                if old.is_none_or(|o| o.oid != e.id) {
                    out.submodules += 1;
                }
                continue;
            }
            if !(e.mode == Mode::FILE || e.mode == Mode::FILE_EXECUTABLE || e.mode == Mode::SYMLINK)
            {
                continue;
            }
            match old {
                Some(o) if o.is_blob && o.oid == e.id => {}
                Some(o) if o.is_blob => out.files.push(StagedFile {
                    path: path.into(),
                    new: e.id,
                    old: Some(o.oid),
                }),
                _ => out.files.push(StagedFile {
                    path: path.into(),
                    new: e.id,
                    old: None,
                }),
            }
        }
        // Blobs HEAD had here that the index dropped (deletions, renames away).
        for (name, e) in &head_entries {
            if e.is_blob && !seen_names.iter().any(|n| n == name) {
                out.removed.push(e.oid);
            }
        }
        Ok(())
    }

    /// The end of the run of entries starting at `start` that lie below the directory
    /// whose path is `path(start)[..dir_prefix]`. A valid cache-tree entry gives the
    /// count directly; it is checked, and a linear scan is the fallback.
    fn dir_end(
        &self,
        start: usize,
        limit: usize,
        dir_prefix: usize,
        cache: Option<&CacheTree>,
    ) -> usize {
        let dir = &self.path(start)[..dir_prefix];
        let below = |i: usize| i < limit && self.path(i).starts_with(dir);
        if let Some(n) = cache.and_then(|c| c.num_entries) {
            let end = start + n as usize;
            if end <= limit && below(end - 1) && !below(end) {
                return end;
            }
        }
        let mut end = start + 1;
        while below(end) {
            end += 1;
        }
        end
    }

    fn read_tree(&mut self, id: ObjectId) -> Result<HashMap<BString, HeadEntry>> {
        let obj = self
            .repo
            .find_object(id)
            .map_err(|e| anyhow!("cannot read tree {id} of HEAD: {e}"))?;
        self.buf.clear();
        self.buf.extend_from_slice(&obj.data);
        let mut map = HashMap::new();
        for entry in TreeRefIter::from_bytes(&self.buf, self.repo.object_hash()) {
            let entry = entry.map_err(|e| anyhow!("corrupt tree {id}: {e}"))?;
            map.insert(
                BString::from(entry.filename),
                HeadEntry {
                    is_tree: entry.mode.is_tree(),
                    is_blob: entry.mode.is_blob(),
                    oid: entry.oid.to_owned(),
                },
            );
        }
        Ok(map)
    }
}
