//! Command-line definitions (clap derive). Parsing only: validation into a
//! [`crate::config::ScanConfig`] happens in `config`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const AFTER_HELP: &str = "\
Exit codes:
  0  no findings
  1  findings were reported
  2  an error occurred (bad arguments, unreadable input, invalid rules)

Examples:
  ferret scan .                          scan the current directory
  ferret scan --format json -o out.json src/
  cat .env | ferret scan -               scan standard input
  ferret rules list                      show the built-in rules";

#[derive(Debug, Parser)]
#[command(
    name = "ferret",
    version,
    about = "A fast secret scanner for directories, git history and staged changes",
    after_help = AFTER_HELP,
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files and directories for secrets ('-' reads standard input)
    #[command(after_help = AFTER_HELP)]
    Scan(ScanArgs),
    /// Scan every blob reachable from every reference of a git repository, once
    #[command(after_help = AFTER_HELP)]
    History(HistoryArgs),
    /// Scan what is staged for the next commit: only secrets on lines the commit adds
    #[command(after_help = AFTER_HELP)]
    Staged(StagedArgs),
    /// Install or remove the git pre-commit hook that runs `ferret staged`
    Hook {
        #[command(subcommand)]
        command: HookCommand,
    },
    /// Write a commented starter .ferret.toml
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// List the rules or prove their examples
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List the rules, grouped by provider, with their keywords and example counts
    List {
        /// Only rules whose id, name or provider holds this text (ignoring case),
        /// e.g. `aws`, `stripe`, `password`
        #[arg(value_name = "FILTER")]
        filter: Option<String>,
        /// Only rules of at least this confidence
        #[arg(long, value_enum)]
        confidence: Option<Level>,
        /// Output format
        #[arg(long, value_enum, default_value_t = ListFormat::Human)]
        format: ListFormat,
        /// Extra rule files to load besides the built-in rules
        #[arg(long = "rules", value_name = "FILE")]
        rules: Vec<PathBuf>,
    },
    /// Validate rule files and prove every example (the built-in rules by default)
    Check {
        /// Rule files to check; without any, the built-in rules are checked
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Write a commented starter configuration file
    Init {
        /// Where to write it
        #[arg(default_value = ".ferret.toml")]
        path: PathBuf,
        /// Replace an existing file
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Write a pre-commit hook into the repository's hooks directory (core.hooksPath aware)
    Install {
        /// Replace an existing hook that ferret did not write
        #[arg(long)]
        force: bool,
    },
    /// Remove the pre-commit hook, if ferret wrote it
    Uninstall,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Grouped by file, for people; secrets redacted unless --show-secrets
    Human,
    /// One JSON object with a schema version, the findings and a summary
    Json,
    /// One JSON finding per line, streamed as found
    Jsonl,
    /// SARIF 2.1.0, for GitHub code scanning and other dashboards
    Sarif,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Level {
    Low,
    Medium,
    High,
}

impl From<Level> for crate::rules::Confidence {
    fn from(l: Level) -> Self {
        match l {
            Level::Low => crate::rules::Confidence::Low,
            Level::Medium => crate::rules::Confidence::Medium,
            Level::High => crate::rules::Confidence::High,
        }
    }
}

/// Options shared by every scanning command.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Output format
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Write the report to FILE instead of standard output
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Worker threads (default: all cores)
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
    /// Extra rule files to load besides the built-in rules (repeatable)
    #[arg(long = "rules", value_name = "FILE")]
    pub rules: Vec<PathBuf>,
    /// Use only the rules given with --rules, not the built-in ones
    #[arg(long, requires = "rules")]
    pub no_builtin_rules: bool,
    /// Skip inputs larger than this (e.g. 25MB, 512KiB, 1G); skipped inputs are reported
    #[arg(long, value_name = "SIZE", default_value = "256MB", value_parser = parse_size)]
    pub max_file_size: u64,
    /// Layers of base64 / percent-encoding to decode and rescan (0 turns decoding off)
    #[arg(long, value_name = "N", default_value_t = crate::engine::DEFAULT_DECODE_DEPTH,
          value_parser = clap::value_parser!(u8).range(0..=4))]
    pub decode_depth: u8,
    /// Show secrets in full in human output (they are redacted by default)
    #[arg(long, conflicts_with = "redact")]
    pub show_secrets: bool,
    /// Redact secrets in JSON and JSON Lines reports too: a short prefix and the length,
    /// as human output shows them (SARIF reports are always redacted)
    #[arg(long)]
    pub redact: bool,
    /// Print nothing but the report: no summary, no warnings
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// List every skipped input (too large, special files, unreadable archive members)
    /// on standard error
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// Configuration file [default: .ferret.toml at the scan root or repository root]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Report lines carrying `ferret:allow` (and gitleaks/detect-secrets markers) too
    #[arg(long)]
    pub no_inline_allow: bool,
    /// Do not report findings in paths matching this gitignore-style glob, e.g.
    /// 'tests/fixtures/**' (repeatable; adds to the configuration's `exclude_paths`)
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Turn off the rule with this id, or every rule whose id starts with a prefix
    /// given as `aws.*` (repeatable; adds to the configuration's `disable_rules`;
    /// `ferret rules list` shows the ids)
    #[arg(long, value_name = "ID")]
    pub disable_rule: Vec<String>,
    /// Run only the rule with this id, or the rules whose ids start with a prefix
    /// given as `aws.*` (repeatable)
    #[arg(long, value_name = "ID")]
    pub only_rule: Vec<String>,
    /// Report only findings of at least this confidence [default: medium; `low` adds
    /// identifiers such as bucket names and ARNs, and example-looking values]
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub confidence: Option<Level>,
    /// Exit with 1 only for findings of at least this confidence
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub fail_on: Option<Level>,
    /// Exit with 0 even when there are findings (errors still exit with 2)
    #[arg(long)]
    pub exit_zero: bool,
    /// Report only findings that are not in this baseline file
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Record the findings of this run in a baseline file
    #[arg(long, value_name = "FILE")]
    pub baseline_write: Option<PathBuf>,
    /// With --baseline: drop entries that no longer match and list them
    #[arg(long, requires = "baseline")]
    pub baseline_prune: bool,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files and directories to scan; '-' reads standard input [default: .]
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
    /// Do not honour .gitignore, .ignore and .ferretignore files
    #[arg(long)]
    pub no_ignore: bool,
    /// Follow symbolic links to files and directories (loops and dangling links are
    /// skipped with a message); by default links are counted and not followed
    #[arg(long, short = 'L', visible_alias = "follow")]
    pub follow_symlinks: bool,
    /// Scan binary files (a NUL byte in their first 8 KiB) with every rule, as text;
    /// by default they are scanned for private keys, key stores and provider token
    /// formats only
    #[arg(long)]
    pub binary: bool,
    /// Do not open archives (zip, jar, whl, tar, gz…): treat them as other binary files
    #[arg(long)]
    pub no_archives: bool,
    /// How file contents are read: `read` into a reused buffer, or `mmap`
    #[arg(long, value_enum, default_value_t = IoMode::Read, hide = true)]
    pub io: IoMode,
    /// Files larger than this are scanned in overlapping chunks of this size (bounded
    /// memory); hidden, for tests that exercise the seams with small chunks
    #[arg(long, value_name = "SIZE", default_value_t = crate::source::chunk::CHUNK_SIZE as u64,
          value_parser = parse_size, hide = true)]
    pub chunk_size: u64,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The repository (bare or not) [default: the one containing the current directory]
    #[arg(value_name = "REPO")]
    pub repo: Option<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
    /// Scan only blobs introduced by commits after REV (REV..HEAD), e.g. the pushed range
    #[arg(long, value_name = "REV", conflicts_with = "range")]
    pub since: Option<String>,
    /// Scan only blobs introduced by commits in a revision range A..B
    #[arg(long, value_name = "A..B")]
    pub range: Option<String>,
    /// Also scan blobs no reference reaches (dangling objects)
    #[arg(long)]
    pub include_unreachable: bool,
    /// Scan binary blobs (a NUL byte in their first 8 KiB) with every rule, as text; by
    /// default they are scanned for private keys, key stores and provider token formats
    /// only
    #[arg(long)]
    pub binary: bool,
    /// Do not open archives (zip, jar, whl, tar, gz…): treat them as other binary blobs
    #[arg(long)]
    pub no_archives: bool,
}

#[derive(Debug, Args)]
pub struct StagedArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Scan binary files (a NUL byte in their first 8 KiB) with every rule, as text; by
    /// default they are scanned for private keys, key stores and provider token formats
    /// only
    #[arg(long)]
    pub binary: bool,
    /// Do not open archives (zip, jar, whl, tar, gz…): treat them as other binary files
    #[arg(long)]
    pub no_archives: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum IoMode {
    Read,
    Mmap,
}

/// Parses sizes such as `25MB`, `512KiB`, `1G` or `1048576` (decimal and binary units).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a size (e.g. 25MB, 512KiB, 1048576)"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        other => return Err(format!("unknown size unit `{other}` in `{s}`")),
    };
    Ok((n * mult as f64) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_decimal_and_binary_units() {
        assert_eq!(parse_size("25MB"), Ok(25_000_000));
        assert_eq!(parse_size("512KiB"), Ok(524_288));
        assert_eq!(parse_size("1024"), Ok(1024));
        assert_eq!(parse_size("1.5k"), Ok(1500));
        assert!(parse_size("ten").is_err());
        assert!(parse_size("5XB").is_err());
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
