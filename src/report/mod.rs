//! Reports: one [`Reporter`] per output format. The collector feeds findings in a
//! deterministic order (sorted by path, position and rule), except to streaming
//! reporters (JSON Lines), which see each input's findings as soon as it is scanned.

mod human;
mod json;
mod sarif;

use std::io::{self, Write};
use std::time::Duration;

use serde::Serialize;

use crate::finding::Finding;

pub use human::{Human, printable};
pub use json::{Json, JsonLines, SCHEMA_VERSION};
pub use sarif::Sarif;

/// Totals for a scan, printed at the end of human output and included in JSON.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Summary {
    /// Inputs scanned (files, blobs, standard input).
    pub scanned: u64,
    pub bytes: u64,
    pub findings: u64,
    /// Findings below the minimum confidence (`--confidence`), not reported.
    pub below_confidence: u64,
    /// Binary inputs (a part of `scanned`), scanned for key files, private keys and
    /// provider token formats only; `--binary` applies every rule to them.
    pub binary: u64,
    pub skipped_too_large: u64,
    /// Every other skipped input: links, special files, unreadable archive members.
    pub skipped_other: u64,
    /// The symbolic links among `skipped_other` (not followed).
    pub skipped_symlinks: u64,
    pub errors: u64,
    #[serde(serialize_with = "seconds")]
    pub elapsed: Duration,
    /// What one input is called in the summary line: `file` or `blob`.
    #[serde(skip)]
    pub unit: &'static str,
    /// The minimum confidence findings were held to.
    #[serde(skip)]
    pub min_confidence: Option<crate::rules::Confidence>,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1000.0).round() / 1000.0)
}

impl Summary {
    pub fn skipped(&self) -> u64 {
        self.skipped_too_large + self.skipped_other
    }

    /// One line: findings, inputs, bytes, skipped inputs and time.
    pub fn line(&self) -> String {
        let unit = if self.unit.is_empty() {
            "file"
        } else {
            self.unit
        };
        let plural = |n: u64, w: &str| {
            if n == 1 {
                format!("{n} {w}")
            } else {
                format!("{n} {w}s")
            }
        };
        let binary = if self.binary > 0 {
            format!("; {} binary, provider formats only", self.binary)
        } else {
            String::new()
        };
        let mut s = format!(
            "{} in {} ({}{binary}) in {:.2}s",
            plural(self.findings, "finding"),
            plural(self.scanned, unit),
            crate::source::human_bytes(self.bytes),
            self.elapsed.as_secs_f64()
        );
        if self.below_confidence > 0 {
            let level = self.min_confidence.map_or("", |c| c.as_str());
            s.push_str(&format!(
                "; {} below {level} confidence not shown (--confidence low shows them)",
                self.below_confidence
            ));
        }
        if self.skipped() > 0 {
            let mut parts = Vec::new();
            if self.skipped_too_large > 0 {
                parts.push(format!("{} too large", self.skipped_too_large));
            }
            if self.skipped_symlinks > 0 {
                parts.push(format!(
                    "{} (not followed; --follow-symlinks follows them)",
                    plural(self.skipped_symlinks, "symbolic link")
                ));
            }
            let other = self.skipped_other - self.skipped_symlinks;
            if other > 0 {
                parts.push(format!("{other} other (--verbose lists them)"));
            }
            s.push_str(&format!("; skipped {}", parts.join(", ")));
        }
        if self.errors > 0 {
            s.push_str(&format!("; {}", plural(self.errors, "error")));
        }
        s
    }
}

/// A report format.
pub trait Reporter {
    /// True when findings should be written as they arrive rather than sorted first.
    fn streaming(&self) -> bool {
        false
    }
    fn finding(&mut self, f: &Finding) -> io::Result<()>;
    fn finish(&mut self, summary: &Summary) -> io::Result<()>;
}

/// Options every reporter understands.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReportOptions {
    pub show_secrets: bool,
    /// Redact secrets in machine reports (JSON, JSON Lines) too.
    pub redact: bool,
    pub color: bool,
    pub quiet: bool,
}

pub type Output = Box<dyn Write + Send>;
