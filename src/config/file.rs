//! `.ferret.toml`: project configuration, found at the scan root or the repository
//! root (or given with `--config`). Unknown keys and bad values are errors that name
//! the file, the line and the key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::rules::Confidence;

/// The file's contents, validated.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub scan: ScanSection,
    #[serde(default)]
    pub allow: AllowSection,
    /// Extra rules, in the same format as the files under `rules/`.
    #[serde(default)]
    pub rules: Vec<toml::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanSection {
    /// Report only findings of at least this confidence.
    pub min_confidence: Option<Confidence>,
    /// Exit with 1 only for findings of at least this confidence.
    pub fail_on: Option<Confidence>,
    /// Rule ids to turn off.
    #[serde(default)]
    pub disable_rules: Vec<String>,
    /// gitignore-style globs of paths whose findings are not reported.
    #[serde(default)]
    pub exclude_paths: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowSection {
    /// Regexes: a secret matching any of them is not reported.
    #[serde(default)]
    pub values: Vec<String>,
    /// Substrings (case-insensitive): a secret containing one is not reported.
    #[serde(default)]
    pub stopwords: Vec<String>,
    /// The same, for one rule each.
    #[serde(default)]
    pub rules: BTreeMap<String, RuleAllow>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleAllow {
    #[serde(default)]
    pub values: Vec<String>,
    #[serde(default)]
    pub stopwords: Vec<String>,
}

/// A configuration file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{path}:{line}: {message}")]
pub struct ConfigError {
    pub path: PathBuf,
    pub line: usize,
    pub message: String,
}

/// The name looked for at the scan root and the repository root.
pub const FILE_NAME: &str = ".ferret.toml";

/// Parses a configuration file's text.
pub fn parse(text: &str, path: &Path) -> Result<ConfigFile, ConfigError> {
    toml::from_str(text).map_err(|e| ConfigError {
        path: path.to_owned(),
        line: e
            .span()
            .map(|s| {
                1 + text.as_bytes()[..s.start.min(text.len())]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count()
            })
            .unwrap_or(1),
        message: e.message().trim().to_string(),
    })
}

/// Finds the configuration for a scan rooted at `root`: `root/.ferret.toml`, else the
/// one at the root of the git work tree holding `root`.
pub fn discover(root: &Path) -> Option<PathBuf> {
    let dir = if root.is_dir() {
        root.to_path_buf()
    } else {
        root.parent().map(Path::to_path_buf).unwrap_or_default()
    };
    let dir = if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir
    };
    let here = dir.join(FILE_NAME);
    if here.is_file() {
        return Some(here);
    }
    let abs = std::fs::canonicalize(&dir).ok()?;
    for a in abs.ancestors() {
        if a.join(".git").exists() {
            let p = a.join(FILE_NAME);
            return p.is_file().then_some(p);
        }
    }
    None
}

/// The commented starter file written by `ferret config init`.
pub const STARTER: &str = r#"# ferret configuration (https://github.com/ferret-scanner/ferret#configuration)
# Found at the scan root or the repository root, or given with --config FILE.

[scan]
# Report only findings at or above this confidence: "low", "medium" or "high".
# The default, "medium", leaves out identifiers (account ids, bucket and host names)
# and values that look made up for an example; the summary counts them.
# min_confidence = "medium"
# Exit with code 1 only for findings at or above this confidence (others are still
# reported). Same as --fail-on.
# fail_on = "low"
# Rules to turn off, by id (`ferret rules list` shows them).
# disable_rules = ["generic.token"]
# Paths whose findings are not reported: gitignore-style globs.
# exclude_paths = ["tests/fixtures/**", "**/*.snap"]

[allow]
# Secrets matching any of these regexes are not reported.
# values = ['^AKIA[0-9A-Z]{12}TEST$']
# Secrets containing any of these words (case-insensitive) are not reported.
# stopwords = ["localdev"]

# The same, for one rule:
# [allow.rules."generic.password"]
# stopwords = ["hunter2"]

# Extra rules, in the same format as ferret's built-in rules:
# [[rules]]
# id = "acme.api-key"
# name = "Acme API key"
# keywords = ["acme_"]
# regex = '''\b(acme_[A-Za-z0-9]{32})\b'''
# confidence = "high"
# examples = ["ACME_KEY=acme_Qx8vL2mK9xT4rW7nB3pY6hD1Zq8vL2mK"]
# negative_examples = ["ACME_KEY=acme_short"]
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let text = "[scan]\nmin_confidence = \"high\"\nexclude = [\"x\"]\n";
        let e = parse(text, Path::new(".ferret.toml")).unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        assert!(e.message.contains("unknown field `exclude`"), "{e}");
    }

    #[test]
    fn bad_value_is_an_error() {
        let text = "[scan]\nfail_on = \"urgent\"\n";
        let e = parse(text, Path::new("c.toml")).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.to_string().starts_with("c.toml:2:"), "{e}");
    }

    #[test]
    fn starter_file_parses() {
        let c = parse(STARTER, Path::new("s.toml")).unwrap();
        assert!(c.rules.is_empty());
    }
}
