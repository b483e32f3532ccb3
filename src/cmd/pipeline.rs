//! The run shared by every scanning command: a collector thread receives what the
//! source's workers find, suppression and reporting follow, then baselines are
//! written and the exit code decided.

use std::io::Write;
use std::time::Instant;

use anyhow::{Context, Result, anyhow};

use crate::cli::Format;
use crate::config::ReportConfig;
use crate::scan::{Collector, Counters, Event, Outcome};
use crate::suppress::{Baseline, Suppressor};

/// Runs `produce` (which feeds workers from a source) with a collector on its own
/// thread, prints the summary on standard error for machine formats, handles
/// baselines, and returns the exit code.
pub fn run<P>(
    report: &ReportConfig,
    suppressor: Suppressor,
    unit: &'static str,
    produce: P,
) -> Result<i32>
where
    P: FnOnce(&crossbeam_channel::Sender<Event>, &Counters),
{
    let outcome = collect(report, suppressor, unit, produce)?;
    finish(report, &outcome)?;
    Ok(if report.exit_zero && outcome.summary.errors == 0 {
        0
    } else {
        outcome.exit_code()
    })
}

/// The collecting half of [`run`], for commands that add to the outcome.
pub fn collect<P>(
    report: &ReportConfig,
    suppressor: Suppressor,
    unit: &'static str,
    produce: P,
) -> Result<Outcome>
where
    P: FnOnce(&crossbeam_channel::Sender<Event>, &Counters),
{
    let reporter = report.reporter()?;
    let mut collector = Collector::new(
        reporter,
        report.opts.quiet,
        report.verbose,
        suppressor,
        report.fail_on,
    );
    collector.retain_reported = report.baseline_write.is_some();
    collector.roots = report.roots.clone();
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

/// Writes and prunes baselines.
pub fn finish(report: &ReportConfig, outcome: &Outcome) -> Result<()> {
    let mut err = std::io::stderr().lock();
    if let Some(path) = &report.baseline_write {
        // Keep an existing file's salt, so that rewriting it changes only what changed.
        let mut b = Baseline::read(path).unwrap_or_default();
        b.entries.clear();
        for f in &outcome.reported {
            b.entries.insert(b.entry_for(f));
        }
        b.write(path)
            .with_context(|| format!("cannot write baseline {}", path.display()))?;
        if !report.opts.quiet {
            let _ = writeln!(
                err,
                "ferret: wrote {} entries to baseline {}",
                b.entries.len(),
                path.display()
            );
        }
    }
    if let (Some(path), Some(b)) = (&report.baseline_prune, &outcome.suppressor.baseline) {
        let hits = &outcome.suppressor.baseline_hits;
        let stale: Vec<_> = b.entries.iter().filter(|e| !hits.contains(*e)).collect();
        let mut kept = b.clone();
        kept.entries.retain(|e| hits.contains(e));
        kept.write(path)
            .with_context(|| format!("cannot write baseline {}", path.display()))?;
        let _ = writeln!(
            err,
            "ferret: pruned {} baseline entries that no longer match{}",
            stale.len(),
            if stale.is_empty() { "" } else { ":" }
        );
        for e in stale {
            let _ = writeln!(err, "  {}  {}", e.rule_id, e.path);
        }
    }
    Ok(())
}
