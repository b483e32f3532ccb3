//! Git sources, read with gix (never a `git` subprocess): the full history
//! ([`history`] finds which commit introduced each blob, [`blobs`] reads the blobs) and
//! the staged index ([`staged`]).

pub mod blobs;
pub mod history;
pub mod staged;

use std::path::Path;

use anyhow::{Context, Result};

/// Opens the repository containing `path` (bare or not).
pub fn open(path: &Path) -> Result<gix::Repository> {
    let repo = gix::discover(path)
        .with_context(|| format!("{} is not in a git repository", path.display()))?;
    Ok(repo)
}

/// True when a blob is a Git LFS pointer file (its content lives elsewhere).
pub fn is_lfs_pointer(data: &[u8]) -> bool {
    data.len() < 1024 && data.starts_with(b"version https://git-lfs.github.com/spec/")
}
