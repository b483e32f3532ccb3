//! Turns parsed arguments into a validated configuration: rules loaded, thread count
//! fixed, output opened. Commands then run from the configuration alone.

use std::fs::OpenOptions;
use std::io::{self, BufWriter, IsTerminal};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::cli::{CommonArgs, Format};
use crate::report::{Human, Json, JsonLines, Output, ReportOptions, Reporter};
use crate::rules::RuleSet;

/// What every scanning command needs, validated.
pub struct ReportConfig {
    pub format: Format,
    pub output: Option<PathBuf>,
    pub opts: ReportOptions,
    pub verbose: bool,
}

pub struct CommonConfig {
    pub rules: RuleSet,
    pub threads: usize,
    pub max_file_size: u64,
    pub report: ReportConfig,
}

/// The number of worker threads: the argument, or every core.
pub fn thread_count(arg: Option<usize>) -> Result<usize> {
    match arg {
        Some(0) => bail!("--threads must be at least 1"),
        Some(n) => Ok(n),
        None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
    }
}

/// The built-in rules plus any extra rule files (which are fully validated).
pub fn load_rules(extra: &[PathBuf], builtin: bool) -> Result<RuleSet> {
    let mut rules = if builtin {
        RuleSet::builtin().context("the built-in rules are invalid")?
    } else {
        RuleSet::default()
    };
    for path in extra {
        rules.extend(RuleSet::from_file(path)?)?;
    }
    crate::trace::phase(|| format!("loaded {} rules", rules.len()));
    Ok(rules)
}

impl CommonConfig {
    pub fn from_args(a: &CommonArgs) -> Result<CommonConfig> {
        let color = a.output.is_none()
            && io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            && std::env::var("TERM").map_or(true, |t| t != "dumb");
        Ok(CommonConfig {
            rules: load_rules(&a.rules, !a.no_builtin_rules)?,
            threads: thread_count(a.threads)?,
            max_file_size: a.max_file_size,
            report: ReportConfig {
                format: a.format,
                output: a.output.clone(),
                opts: ReportOptions {
                    show_secrets: a.show_secrets,
                    color,
                    quiet: a.quiet,
                },
                verbose: a.verbose,
            },
        })
    }
}

impl ReportConfig {
    /// Opens the output (a file is created with owner-only permissions: it holds
    /// secrets) and builds the reporter for the format.
    pub fn reporter(&self) -> Result<Box<dyn Reporter + Send>> {
        let out: Output = match &self.output {
            Some(p) => Box::new(BufWriter::new(create_private(p)?)),
            None => Box::new(BufWriter::new(io::stdout())),
        };
        Ok(match self.format {
            Format::Human => Box::new(Human::new(out, self.opts)),
            Format::Json => Box::new(Json::new(out)),
            Format::Jsonl => Box::new(JsonLines::new(out)),
        })
    }
}

/// Creates (or truncates) a file readable and writable by its owner only.
pub fn create_private(path: &Path) -> Result<std::fs::File> {
    let mut o = OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
        .with_context(|| format!("cannot write {}", path.display()))
}
