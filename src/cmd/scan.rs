//! `ferret scan`: files, directories and standard input.

use std::path::PathBuf;

use anyhow::Result;

use crate::cli::{IoMode, ScanArgs};
use crate::config::CommonConfig;
use crate::engine::Engine;
use crate::scan::Worker;
use crate::source::Delivery;
use crate::source::fs::{self, FsOptions, Io};

pub fn run(args: &ScanArgs) -> Result<i32> {
    let paths: Vec<PathBuf> = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let root = paths
        .iter()
        .find(|p| p.as_os_str() != "-")
        .cloned()
        .unwrap_or_else(|| PathBuf::from("."));
    let mut cfg = CommonConfig::from_args(&args.common, &root)?;
    cfg.report.roots = paths
        .iter()
        .map(|p| fs::display(p))
        .filter(|p| p != "." && p != "-")
        .collect();
    let opts = FsOptions {
        no_ignore: args.no_ignore,
        follow_links: args.follow_symlinks,
        threads: cfg.threads,
        io: match args.io {
            IoMode::Read => Io::Read,
            IoMode::Mmap => Io::Mmap,
        },
        delivery: Delivery {
            binary: args.binary,
            archives: !args.no_archives,
            max_file_size: cfg.max_file_size,
            chunk_size: usize::try_from(args.chunk_size).unwrap_or(usize::MAX),
        },
    };
    let engine = Engine::new(std::mem::take(&mut cfg.rules))?.with_decode_depth(cfg.decode_depth);
    let allow = cfg.allow;
    let suppressor = std::mem::take(&mut cfg.suppressor);
    let mut nested = Vec::new();
    let code = super::pipeline::run(&cfg.report, suppressor, "file", |tx, counters| {
        nested = fs::scan_paths(&paths, &opts, || {
            Worker::new(&engine, tx.clone(), counters, allow)
        });
    })?;
    if !nested.is_empty() && !cfg.report.opts.quiet {
        eprintln!("ferret: note: {}", nested_note(&nested));
    }
    Ok(code)
}

/// What `scan` says of the git repositories it found inside the walked directories:
/// their working files were scanned, their history was not.
fn nested_note(repos: &[PathBuf]) -> String {
    const SHOWN: usize = 5;
    let mut names: Vec<String> = repos.iter().take(SHOWN).map(|p| fs::display(p)).collect();
    if repos.len() > SHOWN {
        names.push(format!("and {} more", repos.len() - SHOWN));
    }
    let (noun, its) = match repos.len() {
        1 => ("repository", "its"),
        _ => ("repositories", "their"),
    };
    format!(
        "{} git {noun} inside the scanned directories ({}): {its} files were scanned, not {its} history; `ferret history PATH` scans it",
        repos.len(),
        names.join(", "),
    )
}
