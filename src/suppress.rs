//! Suppression: inline allow comments. A line holding `ferret:allow` is not reported;
//! `gitleaks:allow` and `pragma: allowlist secret` (detect-secrets) are honoured too,
//! so that teams can switch scanners without editing code, and so are the markers by
//! which Python linters accept a hard-coded password on purpose: `noqa` for ruff's
//! and flake8-bandit's S105, S106 and S107, and bandit's `nosec` for B105, B106 and
//! B107.

/// Markers that, anywhere on a line, suppress findings on that line.
pub const INLINE_ALLOW_MARKERS: &[&str] =
    &["ferret:allow", "gitleaks:allow", "pragma: allowlist secret"];

/// True when `line` carries an inline allow marker.
pub fn line_is_allowed(line: &[u8]) -> bool {
    INLINE_ALLOW_MARKERS
        .iter()
        .any(|m| memchr::memmem::find(line, m.as_bytes()).is_some())
        || accepts_hardcoded_password(line, b"noqa", b"S10")
        || accepts_hardcoded_password(line, b"nosec", b"B10")
}

/// True when `line` holds the linter marker `marker` followed on the line by one of
/// the hard-coded password checks `code_stem` 5, 6 or 7 (`# noqa: E501,S105`).
fn accepts_hardcoded_password(line: &[u8], marker: &[u8], code_stem: &[u8]) -> bool {
    memchr::memmem::find(line, marker).is_some_and(|at| {
        let rest = &line[at + marker.len()..];
        memchr::memmem::find_iter(rest, code_stem)
            .any(|i| matches!(rest.get(i + code_stem.len()), Some(b'5' | b'6' | b'7')))
    })
}

/// The allow check used when inline allows are disabled (`--no-inline-allow`).
pub fn never_allowed(_line: &[u8]) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_markers_in_several_comment_syntaxes_are_recognised() {
        assert!(line_is_allowed(b"key = 'abc' # ferret:allow"));
        assert!(line_is_allowed(b"const k = 'abc'; // gitleaks:allow"));
        assert!(line_is_allowed(b"k: abc  # pragma: allowlist secret"));
        assert!(line_is_allowed(b"<!-- ferret:allow --> <key>abc</key>"));
        assert!(!line_is_allowed(b"key = 'abc' # ferret allow"));
    }

    #[test]
    fn python_linter_markers_for_hardcoded_passwords_allow_the_line() {
        assert!(line_is_allowed(b"DB_PASSWORD = \"pwd123\"  # noqa: S105"));
        assert!(line_is_allowed(
            b"login(password=\"x9\")  # noqa: E501, S106"
        ));
        assert!(line_is_allowed(b"PASSWORD = 'x9'  # nosec B105"));
        // Other checks, and the codes without their linter's marker, do not.
        assert!(!line_is_allowed(b"DB_PASSWORD = \"pwd123\"  # noqa: E501"));
        assert!(!line_is_allowed(b"PASSWORD = 'x9'  # nosec B301"));
        assert!(!line_is_allowed(b"S105 = 'x9'"));
    }
}

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use regex_automata::meta::Regex;
use sha2::{Digest, Sha256};

use crate::finding::Finding;
use crate::rules::Confidence;

/// Value allowlist: regexes over the secret and case-insensitive stopwords.
#[derive(Default)]
pub struct ValueAllow {
    pub regexes: Vec<Regex>,
    pub stopwords: Vec<String>,
}

impl ValueAllow {
    fn allows(&self, secret: &str) -> bool {
        let lower = secret.to_ascii_lowercase();
        self.stopwords.iter().any(|w| lower.contains(w.as_str()))
            || self.regexes.iter().any(|r| r.is_match(secret))
    }
}

/// Everything that decides whether a finding is reported, after the engine: path and
/// value allowlists, the baseline, and the minimum confidence (findings below it are
/// counted in the summary, not reported).
#[derive(Default)]
pub struct Suppressor {
    pub min_confidence: Option<Confidence>,
    /// Path exclusions: from the configuration file, and from the command line.
    pub exclude_paths: Vec<ignore::gitignore::Gitignore>,
    pub values: ValueAllow,
    pub rule_values: HashMap<String, ValueAllow>,
    pub baseline: Option<Baseline>,
    /// Baseline entries that matched a finding in this run (for pruning).
    pub baseline_hits: HashSet<BaselineEntry>,
}

impl Suppressor {
    /// True when `f` falls below the minimum confidence: counted, not reported.
    pub fn below_confidence(&self, f: &Finding) -> bool {
        self.min_confidence.is_some_and(|m| f.confidence < m)
    }

    /// True when `path` matches a path exclusion. A finding inside an archive
    /// (`lib/app.jar!BOOT-INF/app.properties`) is excluded with its archive, so each
    /// path before a `!` is tried too.
    fn excluded(&self, path: &str) -> bool {
        let matches = |p: &str| {
            self.exclude_paths.iter().any(|g| {
                g.matched_path_or_any_parents(Path::new(p), false)
                    .is_ignore()
            })
        };
        matches(path) || path.match_indices('!').any(|(i, _)| matches(&path[..i]))
    }

    /// True when no allowlist, path exclusion or baseline entry suppresses `f`.
    pub fn keep(&mut self, f: &Finding) -> bool {
        if self.excluded(&f.path) {
            return false;
        }
        if self.values.allows(&f.secret)
            || self
                .rule_values
                .get(&f.rule_id)
                .is_some_and(|v| v.allows(&f.secret))
        {
            return false;
        }
        if let Some(b) = &self.baseline {
            let e = b.entry_for(f);
            if b.entries.contains(&e) {
                self.baseline_hits.insert(e);
                return false;
            }
        }
        true
    }
}

/// One known finding: rule, path and a salted hash of the secret (never the secret).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BaselineEntry {
    pub rule_id: String,
    pub path: String,
    pub hash: String,
}

/// A baseline file: a header with the salt, then one sorted entry per line
/// (`rule<TAB>path<TAB>hash`), so that it merges cleanly in git.
#[derive(Debug, Clone)]
pub struct Baseline {
    pub salt: String,
    pub entries: BTreeSet<BaselineEntry>,
}

const BASELINE_HEADER: &str =
    "# ferret baseline v1: rule, path, salted SHA-256 of the secret (no secrets are stored)";

impl Baseline {
    /// An empty baseline with a fresh random salt.
    pub fn new() -> Baseline {
        use std::hash::{BuildHasher, Hasher};
        let mut salt = String::new();
        for i in 0..2u64 {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(i);
            h.write_u128(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos()),
            );
            salt.push_str(&format!("{:016x}", h.finish()));
        }
        Baseline {
            salt,
            entries: BTreeSet::new(),
        }
    }

    pub fn entry_for(&self, f: &Finding) -> BaselineEntry {
        let mut h = Sha256::new();
        h.update(self.salt.as_bytes());
        h.update([0]);
        h.update(f.rule_id.as_bytes());
        h.update([0]);
        h.update(f.secret.as_bytes());
        let d = h.finalize();
        BaselineEntry {
            rule_id: f.rule_id.clone(),
            path: f.path.clone(),
            hash: d[..16].iter().map(|b| format!("{b:02x}")).collect(),
        }
    }

    pub fn read(path: &Path) -> Result<Baseline, BaselineError> {
        let bad = |line: usize, message: &str| BaselineError {
            path: path.to_owned(),
            line,
            message: message.to_string(),
        };
        let text = std::fs::read_to_string(path).map_err(|e| bad(0, &e.to_string()))?;
        let mut salt = None;
        let mut entries = BTreeSet::new();
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            if let Some(s) = line.strip_prefix("# salt: ") {
                salt = Some(s.trim().to_string());
                continue;
            }
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let mut parts = line.splitn(3, '\t');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(r), Some(p), Some(h)) if h.len() == 32 => {
                    entries.insert(BaselineEntry {
                        rule_id: r.to_string(),
                        path: unescape(p),
                        hash: h.to_string(),
                    });
                }
                _ => return Err(bad(n, "expected `rule<TAB>path<TAB>hash`")),
            }
        }
        let salt = salt.ok_or_else(|| bad(1, "no `# salt:` line"))?;
        Ok(Baseline { salt, entries })
    }

    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let mut out = format!("{BASELINE_HEADER}\n# salt: {}\n", self.salt);
        for e in &self.entries {
            out.push_str(&format!("{}\t{}\t{}\n", e.rule_id, escape(&e.path), e.hash));
        }
        let tmp = PathBuf::from(format!("{}.tmp", path.display()));
        std::fs::write(&tmp, out)?;
        std::fs::rename(&tmp, path)
    }
}

impl Default for Baseline {
    fn default() -> Self {
        Self::new()
    }
}

fn escape(p: &str) -> String {
    p.replace('\\', "\\\\")
        .replace('\t', "\\t")
        .replace('\n', "\\n")
}

fn unescape(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    let mut it = p.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('t') => out.push('\t'),
                Some('n') => out.push('\n'),
                Some(o) => out.push(o),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A baseline file that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("baseline {path}:{line}: {message}")]
pub struct BaselineError {
    pub path: PathBuf,
    pub line: usize,
    pub message: String,
}

#[cfg(test)]
mod baseline_tests {
    use super::*;

    fn finding(rule: &str, path: &str, secret: &str) -> Finding {
        Finding {
            rule_id: rule.into(),
            rule_name: String::new(),
            confidence: Confidence::High,
            path: path.into(),
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 1,
            start_byte: 0,
            end_byte: 0,
            secret: secret.into(),
            context: String::new(),
            fingerprint: String::new(),
            entropy: 0.0,
            decoded: None,
            provenance: None,
            made_up_in_tests: false,
        }
    }

    #[test]
    fn baseline_round_trips_without_storing_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.txt");
        let mut b = Baseline::new();
        let f = finding("r", "a\tb.env", "s3cr3t-value");
        b.entries.insert(b.entry_for(&f));
        b.write(&p).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(!text.contains("s3cr3t-value"));
        let back = Baseline::read(&p).unwrap();
        assert_eq!(back.salt, b.salt);
        assert!(back.entries.contains(&back.entry_for(&f)));
    }

    #[test]
    fn salt_changes_the_hash() {
        let f = finding("r", "p", "v");
        assert_ne!(
            Baseline::new().entry_for(&f).hash,
            Baseline::new().entry_for(&f).hash
        );
    }
}
