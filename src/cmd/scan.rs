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
    super::pipeline::run(&cfg.report, suppressor, "file", |tx, counters| {
        fs::scan_paths(&paths, &opts, || {
            Worker::new(&engine, tx.clone(), counters, allow)
        });
    })
}
