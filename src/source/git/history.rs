//! One walk of the commit graph that records, for every blob, the commits that
//! introduced it and the paths they put it at, in topological order (parents before
//! children; among unrelated commits, older first). A blob is introduced by a commit
//! when the commit's tree holds it at a path where none of the commit's parents did.

use std::collections::HashMap;

use anyhow::{Context, Result, anyhow};
use gix::ObjectId;
use gix::bstr::{BString, ByteSlice};
use gix::diff::tree::recorder::Change;
use gix::objs::TreeRefIter;

/// A commit's place in topological order.
pub type CommitIndex = u32;
/// An interned path.
pub type PathIndex = u32;

/// One introduction of a blob: which commit, at which path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Intro {
    pub commit: CommitIndex,
    pub path: PathIndex,
}

/// The result of the walk.
#[derive(Default)]
pub struct History {
    /// Commits in topological order.
    pub commits: Vec<ObjectId>,
    pub paths: Vec<BString>,
    /// Every blob introduced by the walked commits, with its introductions in
    /// topological order (the first is the blob's first appearance).
    pub blobs: HashMap<ObjectId, Vec<Intro>>,
    /// Gitlinks (submodule commits) seen in trees: not followed.
    pub submodules: u64,
    /// Problems met on the way (missing or corrupt objects); the walk goes on.
    pub errors: Vec<String>,
}

/// Which commits to walk.
pub enum Selection {
    /// Every commit reachable from every reference (and HEAD).
    All,
    /// Commits reachable from `tips` but not from `hidden`.
    Range {
        tips: Vec<ObjectId>,
        hidden: Vec<ObjectId>,
    },
}

/// The tips of every reference (branches, tags, remotes, notes, stash) and HEAD,
/// peeled to commits. References that point elsewhere are reported in `errors`.
pub fn all_tips(repo: &gix::Repository, errors: &mut Vec<String>) -> Result<Vec<ObjectId>> {
    let mut tips = Vec::new();
    if let Ok(id) = repo.head_id() {
        tips.push(id.detach());
    }
    let platform = repo.references().context("cannot read references")?;
    for r in platform.all().context("cannot list references")? {
        let mut r = match r {
            Ok(r) => r,
            Err(e) => {
                errors.push(format!("cannot read a reference: {e}"));
                continue;
            }
        };
        let name = r.name().as_bstr().to_string();
        match r.peel_to_id() {
            Ok(id) => match id.object().map(|o| o.peel_tags_to_end()) {
                Ok(Ok(obj)) if obj.kind == gix::object::Kind::Commit => tips.push(obj.id),
                Ok(Ok(_)) => {} // a tag of a tree or blob: nothing to walk
                Ok(Err(e)) | Err(e) => errors.push(format!("reference {name}: {e}")),
            },
            Err(e) => errors.push(format!("reference {name}: {e}")),
        }
    }
    tips.sort();
    tips.dedup();
    Ok(tips)
}

/// Walks the selected commits and records blob introductions.
pub fn walk(repo: &gix::Repository, selection: &Selection, threads: usize) -> Result<History> {
    let mut h = History::default();
    let (tips, hidden) = match selection {
        Selection::All => (all_tips(repo, &mut h.errors)?, Vec::new()),
        Selection::Range { tips, hidden } => (tips.clone(), hidden.clone()),
    };
    if tips.is_empty() {
        return Ok(h);
    }
    // Collect commits with their parents and times.
    let mut info: HashMap<ObjectId, (Vec<ObjectId>, i64)> = HashMap::new();
    let walk = repo
        .rev_walk(tips)
        .sorting(gix::revision::walk::Sorting::ByCommitTime(
            Default::default(),
        ))
        .with_hidden(hidden)
        .all()
        .context("cannot walk the commit graph")?;
    for c in walk {
        match c {
            Ok(c) => {
                let time = c.commit_time.unwrap_or(0);
                info.insert(c.id, (c.parent_ids.iter().copied().collect(), time));
            }
            Err(e) => h.errors.push(format!("commit graph: {e}")),
        }
    }
    h.commits = topological_order(&info);
    // Each commit is diffed against its parents on its own, so contiguous runs of
    // commits (neighbours share most trees, which the delta-base cache then serves)
    // are diffed in parallel; their changes are merged in topological order below.
    let threads = threads.clamp(1, 8);
    let run = h.commits.len().div_ceil(threads).max(1);
    let changes: Vec<Vec<Result<CommitChanges, String>>> = std::thread::scope(|s| {
        let workers: Vec<_> = h
            .commits
            .chunks(run)
            .map(|commits| {
                let mut repo = repo.clone();
                repo.objects.set_pack_cache(|| {
                    Box::new(gix::odb::pack::cache::lru::MemoryCappedHashmap::new(
                        DELTA_BASE_CACHE,
                    ))
                });
                let info = &info;
                (
                    commits.len(),
                    s.spawn(move || diff_commits(&repo, commits, info)),
                )
            })
            .collect();
        // One entry per commit, whatever happens, so that indices stay topological.
        workers
            .into_iter()
            .map(|(n, w)| {
                w.join().unwrap_or_else(|_| {
                    (0..n)
                        .map(|_| Err("the commit walk failed".to_string()))
                        .collect()
                })
            })
            .collect()
    });
    let mut path_ids: HashMap<BString, PathIndex> = HashMap::new();
    for (ci, c) in changes.into_iter().flatten().enumerate() {
        let c = match c {
            Ok(c) => c,
            Err(e) => {
                h.errors.push(e);
                continue;
            }
        };
        h.submodules += c.submodules;
        for (oid, path) in c.blobs {
            let next = path_ids.len() as PathIndex;
            let pi = *path_ids.entry(path).or_insert(next);
            h.blobs.entry(oid).or_default().push(Intro {
                commit: ci as CommitIndex,
                path: pi,
            });
        }
    }
    let mut paths = vec![BString::default(); path_ids.len()];
    for (p, i) in path_ids {
        paths[i as usize] = p;
    }
    h.paths = paths;
    Ok(h)
}

/// Bytes of decoded delta bases each walking thread keeps. Trees are mostly deltas
/// against trees read just before; against gix's default cache of 64 entries this
/// halves the walk (6,000-commit Linux history: 1.26 s to 0.72 s on one thread).
const DELTA_BASE_CACHE: usize = 8 << 20;

/// What one commit introduced: blobs at paths where none of its parents had them.
struct CommitChanges {
    blobs: Vec<(ObjectId, BString)>,
    submodules: u64,
}

/// The changes of each of `commits`, in order (an error for a commit whose trees
/// cannot be read or diffed).
fn diff_commits(
    repo: &gix::Repository,
    commits: &[ObjectId],
    info: &HashMap<ObjectId, (Vec<ObjectId>, i64)>,
) -> Vec<Result<CommitChanges, String>> {
    let hash_kind = repo.object_hash();
    let mut trees: HashMap<ObjectId, ObjectId> = HashMap::new();
    let mut state = gix::diff::tree::State::default();
    let empty: Vec<u8> = Vec::new();
    let mut lhs_buf = Vec::new();
    let mut rhs_buf = Vec::new();
    let mut out = Vec::with_capacity(commits.len());
    for &id in commits {
        let tree_id = match tree_of(repo, id, &mut trees) {
            Ok(t) => t,
            Err(e) => {
                out.push(Err(format!("commit {id}: {e:#}")));
                continue;
            }
        };
        let parents = &info[&id].0;
        // The first parent whose tree can be read (a shallow boundary has none).
        let first_parent_tree = parents
            .first()
            .and_then(|p| tree_of(repo, *p, &mut trees).ok());
        // A fresh recorder: it tracks the current path across calls otherwise.
        let mut recorder = gix::diff::tree::Recorder::default();
        let rhs = match read_tree(repo, tree_id, &mut rhs_buf) {
            Ok(()) => TreeRefIter::from_bytes(&rhs_buf, hash_kind),
            Err(e) => {
                out.push(Err(format!("tree {tree_id} of commit {id}: {e:#}")));
                continue;
            }
        };
        let lhs = match first_parent_tree {
            Some(pt) => match read_tree(repo, pt, &mut lhs_buf) {
                Ok(()) => TreeRefIter::from_bytes(&lhs_buf, hash_kind),
                Err(_) => TreeRefIter::from_bytes(&empty, hash_kind),
            },
            None => TreeRefIter::from_bytes(&empty, hash_kind),
        };
        if let Err(e) = gix::diff::tree(lhs, rhs, &mut state, &repo.objects, &mut recorder) {
            out.push(Err(format!("cannot diff commit {id}: {e}")));
            continue;
        }
        let other_parent_trees: Vec<ObjectId> = parents
            .iter()
            .skip(1)
            .filter_map(|p| tree_of(repo, *p, &mut trees).ok())
            .collect();
        let mut c = CommitChanges {
            blobs: Vec::new(),
            submodules: 0,
        };
        for change in recorder.records.drain(..) {
            let (mode, oid, path) = match change {
                Change::Addition {
                    entry_mode,
                    oid,
                    path,
                    ..
                } => (entry_mode, oid, path),
                Change::Modification {
                    entry_mode,
                    oid,
                    path,
                    ..
                } => (entry_mode, oid, path),
                Change::Deletion { .. } => continue,
            };
            if mode.is_commit() {
                c.submodules += 1;
                continue;
            }
            if !mode.is_blob() {
                continue;
            }
            // In a merge, a blob some other parent already had at this path is not new.
            if !other_parent_trees.is_empty()
                && other_parent_trees
                    .iter()
                    .any(|t| entry_at(repo, *t, &path) == Some(oid))
            {
                continue;
            }
            c.blobs.push((oid, path));
        }
        out.push(Ok(c));
    }
    out
}

fn tree_of(
    repo: &gix::Repository,
    commit: ObjectId,
    cache: &mut HashMap<ObjectId, ObjectId>,
) -> Result<ObjectId> {
    if let Some(t) = cache.get(&commit) {
        return Ok(*t);
    }
    let c = repo
        .find_commit(commit)
        .map_err(|e| anyhow!("cannot read commit: {e}"))?;
    let t = c
        .tree_id()
        .map_err(|e| anyhow!("corrupt commit: {e}"))?
        .detach();
    cache.insert(commit, t);
    Ok(t)
}

fn read_tree(repo: &gix::Repository, id: ObjectId, buf: &mut Vec<u8>) -> Result<()> {
    let obj = repo
        .find_object(id)
        .map_err(|e| anyhow!("cannot read tree: {e}"))?;
    if obj.kind != gix::object::Kind::Tree {
        return Err(anyhow!("{id} is a {}, not a tree", obj.kind));
    }
    buf.clear();
    buf.extend_from_slice(&obj.data);
    Ok(())
}

/// The object at `path` in tree `tree`, if any.
pub fn entry_at(repo: &gix::Repository, tree: ObjectId, path: &BString) -> Option<ObjectId> {
    let t = repo.find_tree(tree).ok()?;
    let e = t.lookup_entry(path.split_str("/")).ok()??;
    Some(e.object_id())
}

/// Kahn's algorithm over the walked commits: parents first; among commits ready at
/// the same time, the older (then the smaller id) first, so the order is stable.
fn topological_order(info: &HashMap<ObjectId, (Vec<ObjectId>, i64)>) -> Vec<ObjectId> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let mut pending: HashMap<ObjectId, usize> = HashMap::with_capacity(info.len());
    let mut children: HashMap<ObjectId, Vec<ObjectId>> = HashMap::new();
    for (id, (parents, _)) in info {
        let inside = parents.iter().filter(|p| info.contains_key(*p)).count();
        pending.insert(*id, inside);
        for p in parents.iter().filter(|p| info.contains_key(*p)) {
            children.entry(*p).or_default().push(*id);
        }
    }
    let mut ready: BinaryHeap<Reverse<(i64, ObjectId)>> = pending
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(id, _)| Reverse((info[id].1, *id)))
        .collect();
    let mut out = Vec::with_capacity(info.len());
    while let Some(Reverse((_, id))) = ready.pop() {
        out.push(id);
        if let Some(ch) = children.get(&id) {
            for c in ch {
                let n = pending.get_mut(c).expect("child was walked");
                *n -= 1;
                if *n == 0 {
                    ready.push(Reverse((info[c].1, *c)));
                }
            }
        }
    }
    out
}
