//! `ferret scan`: files, directories and standard input.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Result, anyhow};

use crate::cli::{Format, IoMode, ScanArgs};
use crate::config::{CommonConfig, ReportConfig};
use crate::engine::Engine;
use crate::scan::{Collector, Counters, Event, Outcome, Worker};
use crate::source::fs::{self, FsOptions, Io};
use crate::suppress;

pub fn run(args: &ScanArgs) -> Result<i32> {
    let cfg = CommonConfig::from_args(&args.common)?;
    let paths: Vec<PathBuf> = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let opts = FsOptions {
        no_ignore: args.no_ignore,
        max_file_size: cfg.max_file_size,
        binary: args.binary,
        threads: cfg.threads,
        io: match args.io {
            IoMode::Read => Io::Read,
            IoMode::Mmap => Io::Mmap,
        },
    };
    let engine = Engine::new(cfg.rules)?;
    let outcome = run_pipeline(&cfg.report, "file", |tx, counters| {
        fs::scan_paths(&paths, &opts, || {
            Worker::new(&engine, tx.clone(), counters, suppress::line_is_allowed)
        });
    })?;
    Ok(outcome.exit_code())
}

/// Runs `produce` (which feeds workers from a source) with a collector on its own
/// thread, then prints the summary on standard error for machine formats.
pub fn run_pipeline<P>(report: &ReportConfig, unit: &'static str, produce: P) -> Result<Outcome>
where
    P: FnOnce(&crossbeam_channel::Sender<Event>, &Counters),
{
    let reporter = report.reporter()?;
    let collector = Collector::new(reporter, report.opts.quiet, report.verbose);
    let started = Instant::now();
    let counters = Counters::default();
    let (tx, rx) = crossbeam_channel::bounded::<Event>(1024);
    let outcome = std::thread::scope(|s| {
        let handle = s.spawn(|| collector.run(rx, &counters, started, unit));
        produce(&tx, &counters);
        drop(tx);
        handle.join()
    })
    .map_err(|_| anyhow!("the report writer panicked"))??;
    if report.format != Format::Human && !report.opts.quiet {
        eprintln!("ferret: {}", outcome.summary.line());
    }
    Ok(outcome)
}
