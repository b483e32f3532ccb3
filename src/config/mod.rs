//! Turns parsed arguments (and `.ferret.toml`) into a validated configuration: rules
//! loaded, suppression built, thread count fixed, output opened. Commands then run
//! from the configuration alone.

pub mod file;

use std::fs::OpenOptions;
use std::io::{self, BufWriter, IsTerminal};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::cli::{CommonArgs, Format};
use crate::report::{Human, Json, JsonLines, Output, ReportOptions, Reporter, Sarif};
use crate::rules::{Confidence, RuleSet, parse_rules_in};
use crate::suppress::{self, Baseline, Suppressor, ValueAllow};

/// How findings are reported, and what the exit code means.
pub struct ReportConfig {
    pub format: Format,
    pub output: Option<PathBuf>,
    pub opts: ReportOptions,
    pub verbose: bool,
    /// Findings below this confidence are reported but do not fail the run.
    pub fail_on: Confidence,
    pub exit_zero: bool,
    /// Write the reported findings as a baseline here.
    pub baseline_write: Option<PathBuf>,
    /// The baseline given with --baseline, rewritten without stale entries.
    pub baseline_prune: Option<PathBuf>,
    /// Rules, for reporters that describe them (SARIF).
    pub rules: RuleSet,
    /// The roots scanned paths start with (directory scans), left out when judging
    /// where in a project a finding is.
    pub roots: Vec<String>,
}

/// What every scanning command needs, validated.
pub struct CommonConfig {
    pub rules: RuleSet,
    pub threads: usize,
    pub max_file_size: u64,
    /// Layers of encoding the engine decodes (0: none).
    pub decode_depth: u8,
    pub report: ReportConfig,
    pub suppressor: Suppressor,
    /// Decides from a line's text whether an inline comment allows it.
    pub allow: fn(&[u8]) -> bool,
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

fn compile_values(
    patterns: &[String],
    what: &str,
    path: &Path,
) -> Result<Vec<regex_automata::meta::Regex>> {
    patterns
        .iter()
        .map(|p| {
            regex_automata::meta::Regex::new(p)
                .with_context(|| format!("{}: {what}: invalid regex `{p}`", path.display()))
        })
        .collect()
}

/// The confidence a finding needs to be reported when neither `--confidence` nor the
/// configuration file says otherwise.
pub const DEFAULT_MIN_CONFIDENCE: Confidence = Confidence::Medium;

impl CommonConfig {
    /// `root` is where the scan starts; `.ferret.toml` is looked for there and at the
    /// root of its repository.
    pub fn from_args(a: &CommonArgs, root: &Path) -> Result<CommonConfig> {
        let color = a.output.is_none()
            && io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            && std::env::var("TERM").map_or(true, |t| t != "dumb");
        let mut rules = load_rules(&a.rules, !a.no_builtin_rules)?;
        let mut suppressor = Suppressor::default();
        let mut fail_on = None;
        let config_path = match &a.config {
            Some(p) => Some(p.clone()),
            None => file::discover(root),
        };
        if let Some(path) = &config_path {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            fail_on = apply_file(&text, path, &mut rules, &mut suppressor)?;
        }
        disable_rules(&mut rules, &a.disable_rule, "--disable-rule")?;
        only_rules(&mut rules, &a.only_rule, "--only-rule")?;
        let cli_exclusions = exclusions(Path::new("."), &a.exclude, "--exclude")?;
        suppressor.exclude_paths.extend(cli_exclusions);
        if let Some(c) = a.confidence {
            suppressor.min_confidence = Some(c.into());
        }
        // Low confidence marks identifiers (account ids, bucket names, host names) and
        // values that look made up for an example: shown only when asked for.
        suppressor
            .min_confidence
            .get_or_insert(DEFAULT_MIN_CONFIDENCE);
        if let Some(f) = a.fail_on {
            fail_on = Some(f.into());
        }
        if let Some(b) = &a.baseline {
            suppressor.baseline = Some(Baseline::read(b)?);
        }
        Ok(CommonConfig {
            threads: thread_count(a.threads)?,
            max_file_size: a.max_file_size,
            decode_depth: a.decode_depth,
            report: ReportConfig {
                format: a.format,
                output: a.output.clone(),
                opts: ReportOptions {
                    show_secrets: a.show_secrets,
                    redact: a.redact,
                    color,
                    quiet: a.quiet,
                },
                verbose: a.verbose,
                fail_on: fail_on.unwrap_or(Confidence::Low),
                exit_zero: a.exit_zero,
                baseline_write: a.baseline_write.clone(),
                baseline_prune: if a.baseline_prune {
                    a.baseline.clone()
                } else {
                    None
                },
                rules: rules.clone(),
                roots: Vec::new(),
            },
            rules,
            suppressor,
            allow: if a.no_inline_allow {
                suppress::never_allowed
            } else {
                suppress::line_is_allowed
            },
        })
    }
}

/// Whether rule `id` is selected by `pattern`: the id itself, or a prefix followed by
/// `*` (`aws.*`).
fn selects(pattern: &str, id: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => id.starts_with(prefix),
        None => pattern == id,
    }
}

/// Fails when a pattern selects no rule of `rules` (`place` says where it was given).
fn check_selectors(rules: &RuleSet, patterns: &[String], place: &str) -> Result<()> {
    if let Some(p) = patterns
        .iter()
        .find(|p| !rules.rules().iter().any(|r| selects(p, &r.id)))
    {
        bail!("{place}: no rule has the id `{p}` (`ferret rules list` shows the ids)");
    }
    Ok(())
}

/// Removes the rules the given ids or `prefix*` patterns select from `rules`; a
/// pattern that selects nothing is an error (`place` says where it was given).
fn disable_rules(rules: &mut RuleSet, ids: &[String], place: &str) -> Result<()> {
    check_selectors(rules, ids, place)?;
    rules.retain(|r| !ids.iter().any(|p| selects(p, &r.id)));
    Ok(())
}

/// Keeps only the rules the given ids or `prefix*` patterns select (none given: all).
fn only_rules(rules: &mut RuleSet, ids: &[String], place: &str) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    check_selectors(rules, ids, place)?;
    rules.retain(|r| ids.iter().any(|p| selects(p, &r.id)));
    Ok(())
}

/// The path exclusion made of gitignore-style `globs` relative to `base`, if any; an
/// invalid glob is an error (`place` says where it was given).
fn exclusions(
    base: &Path,
    globs: &[String],
    place: &str,
) -> Result<Option<ignore::gitignore::Gitignore>> {
    if globs.is_empty() {
        return Ok(None);
    }
    let mut b = ignore::gitignore::GitignoreBuilder::new(base);
    for g in globs {
        b.add_line(None, g)
            .with_context(|| format!("{place}: invalid glob `{g}`"))?;
    }
    Ok(Some(b.build()?))
}

/// Applies the text of a configuration file (`path` is only used in messages): its
/// rules are added to `rules`, disabled rules removed, and its allowlists, exclusions
/// and minimum confidence set on `suppressor`. Returns its `fail_on` level. Every
/// problem is an error naming the file.
pub fn apply_file(
    text: &str,
    path: &Path,
    rules: &mut RuleSet,
    suppressor: &mut Suppressor,
) -> Result<Option<Confidence>> {
    let cfg = file::parse(text, path)?;
    rules.extend(parse_rules_in(text, path)?)?;
    let place = path.display().to_string();
    disable_rules(
        rules,
        &cfg.scan.disable_rules,
        &format!("{place}: disable_rules"),
    )?;
    suppressor.min_confidence = cfg.scan.min_confidence;
    let base = path.parent().unwrap_or(Path::new("."));
    let globs = &cfg.scan.exclude_paths;
    suppressor
        .exclude_paths
        .extend(exclusions(base, globs, &format!("{place}: exclude_paths"))?);
    suppressor.values = ValueAllow {
        regexes: compile_values(&cfg.allow.values, "allow.values", path)?,
        stopwords: cfg
            .allow
            .stopwords
            .iter()
            .map(|w| w.to_ascii_lowercase())
            .collect(),
    };
    for (id, v) in &cfg.allow.rules {
        if rules.get(id).is_none() {
            bail!("{}: allow.rules: no rule has the id `{id}`", path.display());
        }
        suppressor.rule_values.insert(
            id.clone(),
            ValueAllow {
                regexes: compile_values(&v.values, &format!("allow.rules.{id}.values"), path)?,
                stopwords: v.stopwords.iter().map(|w| w.to_ascii_lowercase()).collect(),
            },
        );
    }
    Ok(cfg.scan.fail_on)
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
            Format::Json => Box::new(Json::new(out, self.opts.redact)),
            Format::Jsonl => Box::new(JsonLines::new(out, self.opts.redact)),
            Format::Sarif => Box::new(Sarif::new(out, self.rules.clone())),
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
