//! Rules are data: each one names the keywords that make it worth running, the regex that
//! confirms a candidate and captures the secret, and examples that prove it works.
//!
//! Rule files are TOML (`[[rules]]` tables). The built-in files under `rules/` are
//! embedded in the binary (see [`builtin`]); users add their own with `--rules FILE`.

pub mod builtin;
pub mod check;
mod schema;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use regex_automata::meta;
use serde::{Deserialize, Serialize};

pub use schema::{RuleFileError, parse_rule_file, parse_rules_in, parse_trusted_rule_file};

/// How sure a rule is that what it matches is a live credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a rule's regex is run (the `anchor` key of a rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// In a window around each hit of one of its keywords (the default).
    Keywords,
    /// `anchor = "token-run"`: besides its keywords (if any), around every run of 16 or
    /// more token characters mixing upper case, lower case and digits, for formats with
    /// no literal to anchor on; its `window` then bounds the match on both sides of
    /// the run.
    TokenRun,
    /// `anchor = "file-header"`: at byte 0 of each binary file (which is otherwise
    /// skipped), over its first `window` bytes, for binary key stores and keys. The
    /// finding covers the whole file, and its secret is the file's SHA-256. Examples
    /// are written in hex.
    FileHeader,
}

/// A check of the secret's own structure that a match must pass (the `checksum` key of
/// a rule): formats that carry a checksum are confirmed by it, so a string of the right
/// shape that is no key (a hash, a made-up example) is not reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum {
    /// `checksum = "base58check"`: base58 whose last four bytes are the first four of
    /// the double SHA-256 of the rest (Bitcoin WIF keys, BIP32 extended keys).
    Base58Check,
    /// `checksum = "stellar-seed"`: a Stellar strkey secret seed, base32 of the version
    /// byte (`S`), 32 key bytes and a CRC16-XModem of them.
    StellarSeed,
    /// `checksum = "bip39"`: 12 to 24 words of the BIP39 English word list whose
    /// trailing bits are the SHA-256 checksum of the rest.
    Bip39,
}

impl Checksum {
    pub const ALL: [Checksum; 3] = [
        Checksum::Base58Check,
        Checksum::StellarSeed,
        Checksum::Bip39,
    ];

    pub fn from_name(name: &str) -> Option<Checksum> {
        Checksum::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// The `checksum` value naming this check in a rule file.
    pub fn as_str(self) -> &'static str {
        match self {
            Checksum::Base58Check => "base58check",
            Checksum::StellarSeed => "stellar-seed",
            Checksum::Bip39 => "bip39",
        }
    }
}

impl Anchor {
    /// The `anchor` value naming this anchor in a rule file.
    pub fn as_str(self) -> Option<&'static str> {
        match self {
            Anchor::Keywords => None,
            Anchor::TokenRun => Some("token-run"),
            Anchor::FileHeader => Some("file-header"),
        }
    }
}

/// Where a rule was defined: the file (`rules/github.toml` for built-in rules) and line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: PathBuf,
    pub line: usize,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// The default number of bytes after a keyword that a rule's match may reach.
pub const DEFAULT_WINDOW: usize = 512;
/// How far before a keyword a rule's match may start.
pub const WINDOW_BEFORE: usize = 256;
/// The largest `window` a rule may ask for: room for a post-quantum OpenPGP secret key
/// block (an SLH-DSA-256s key with its self-signatures armors to about 120 KiB).
pub const MAX_WINDOW: usize = 192 << 10;

/// A compiled regex and the index of the capture group holding the secret.
#[derive(Debug)]
pub struct CompiledRegex {
    pub regex: meta::Regex,
    pub secret_group: usize,
}

/// One validated rule. The regex compiles lazily, the first time a keyword of the rule
/// is seen, so that a scan of a few bytes pays only for the rules it needs.
#[derive(Debug)]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub provider: String,
    pub description: String,
    pub keywords: Vec<String>,
    pub regex: String,
    pub min_entropy: Option<f64>,
    pub confidence: Confidence,
    pub examples: Vec<String>,
    pub negative_examples: Vec<String>,
    pub references: Vec<String>,
    /// Bytes after the keyword that a match may reach.
    pub window: usize,
    /// Generic rules (password assignments and the like) give way to a specific rule
    /// that matches the same secret, and get stricter value filters.
    pub generic: bool,
    /// The secret is a free-form credential (a password, in an assignment, a URI, a
    /// header or a credential file, or a password's hash) rather than a provider's
    /// token format: generic rules and the `credentials.`, `uri.` and
    /// `password-hashes.` families, and rules that say so (`free_form = true`: a
    /// provider's password setting). Found in a test file, it is reported at low
    /// confidence.
    pub free_form: bool,
    /// Values that are never secrets for this rule (matched case-insensitively).
    pub stopwords: Vec<String>,
    /// Where the rule's regex runs: around keywords, also around token runs, or at
    /// the start of binary files.
    pub anchor: Anchor,
    pub origin: Origin,
    /// Ids of rules from other providers that this rule takes precedence over when
    /// both match one secret: a key format several providers share (`sk_live_`),
    /// attributed to the provider whose name the context gives.
    pub overrides: Vec<String>,
    /// A check of the secret's structure that a match must pass.
    pub checksum: Option<Checksum>,
    compiled: OnceLock<Result<CompiledRegex, String>>,
}

impl Rule {
    /// Whether a finding of this rule in a test, an example or documentation is judged
    /// made up (reported low): free-form credentials, which people make up for
    /// examples, and wallet keys (the `wallets.` family), which anyone can generate in
    /// any number: every 32 random bytes are a valid key, so a wallet library's test
    /// vectors and documented examples are valid keys of empty wallets.
    pub fn made_up_in_tests(&self) -> bool {
        self.free_form || self.id.starts_with("wallets.")
    }

    /// The bytes of an example: its text, or for a file-header rule, its hex decoded
    /// (`None` when that is not valid hex, which rule validation rejects).
    pub fn example_bytes<'a>(&self, example: &'a str) -> Option<std::borrow::Cow<'a, [u8]>> {
        if self.anchor != Anchor::FileHeader {
            return Some(std::borrow::Cow::Borrowed(example.as_bytes()));
        }
        let hex: Vec<u8> = example
            .bytes()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        hex::decode(hex).ok().map(std::borrow::Cow::Owned)
    }

    /// The compiled regex, building it on first use.
    pub fn compiled(&self) -> Result<&CompiledRegex, &str> {
        self.compiled
            .get_or_init(|| {
                let t = std::time::Instant::now();
                let r = compile_regex(&self.regex);
                crate::trace::phase(|| format!("compiled {} in {:?}", self.id, t.elapsed()));
                r
            })
            .as_ref()
            .map_err(|e| e.as_str())
    }
}

/// The lazy DFA cache of each rule regex, per thread. Rule regexes only ever search a
/// window of a few hundred bytes, which a small cache serves as well as the default
/// 2 MiB; with hundreds of rules used by each thread, the default would grow to tens
/// of megabytes for nothing.
const CACHE_CAPACITY: usize = 512 * 1024;

/// Compiles a rule regex for byte haystacks: Unicode classes off (ASCII `\w`, `\s`),
/// matches may cover invalid UTF-8. Exactly one capture group, or a group named
/// `secret`, holds the secret.
pub fn compile_regex(pattern: &str) -> Result<CompiledRegex, String> {
    let regex = meta::Regex::builder()
        .syntax(
            regex_automata::util::syntax::Config::new()
                .unicode(false)
                .utf8(false),
        )
        .configure(
            meta::Config::new()
                .utf8_empty(false)
                .dfa(false)
                .onepass(false)
                .hybrid_cache_capacity(CACHE_CAPACITY),
        )
        .build(pattern)
        .map_err(|e| format!("invalid regex: {e}"))?;
    let info = regex.group_info();
    let pid = regex_automata::PatternID::ZERO;
    let secret_group = match info.to_index(pid, "secret") {
        Some(i) => i,
        None if info.group_len(pid) == 2 => 1,
        None => {
            return Err(format!(
                "the regex must have exactly one capture group, or a group named `secret` (it has {})",
                info.group_len(pid) - 1
            ));
        }
    };
    Ok(CompiledRegex {
        regex,
        secret_group,
    })
}

/// An error loading rules: the file, and what is wrong (with the line where known).
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("{path}: cannot read rule file: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Invalid(#[from] RuleFileError),
    #[error("{origin}: rule `{id}` is defined twice (first at {first})")]
    Duplicate {
        id: String,
        origin: Origin,
        first: Origin,
    },
}

/// An ordered, validated collection of rules with unique ids.
#[derive(Debug, Default, Clone)]
pub struct RuleSet {
    rules: Vec<Arc<Rule>>,
}

impl RuleSet {
    /// The rules embedded in the binary.
    pub fn builtin() -> Result<RuleSet, RuleError> {
        let mut set = RuleSet::default();
        let rules = builtin::BUILTIN_RULES
            .iter()
            .map(schema::from_static)
            .collect::<Result<Vec<_>, _>>()?;
        set.extend(rules)?;
        Ok(set)
    }

    /// Rules read from a file on disk.
    pub fn from_file(path: &Path) -> Result<Vec<Rule>, RuleError> {
        let text = std::fs::read_to_string(path).map_err(|source| RuleError::Read {
            path: path.to_owned(),
            source,
        })?;
        Ok(parse_rule_file(&text, path)?)
    }

    /// Adds rules, refusing an id that is already present.
    pub fn extend(&mut self, rules: Vec<Rule>) -> Result<(), RuleError> {
        for rule in rules {
            if let Some(first) = self.rules.iter().find(|r| r.id == rule.id) {
                return Err(RuleError::Duplicate {
                    id: rule.id.clone(),
                    origin: rule.origin.clone(),
                    first: first.origin.clone(),
                });
            }
            self.rules.push(Arc::new(rule));
        }
        Ok(())
    }

    /// Keeps only the rules for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&Rule) -> bool) {
        self.rules.retain(|r| keep(r));
    }

    pub fn rules(&self) -> &[Arc<Rule>] {
        &self.rules
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn get(&self, id: &str) -> Option<&Arc<Rule>> {
        self.rules.iter().find(|r| r.id == id)
    }
}

impl RuleSet {
    /// Adds an already shared rule without the duplicate check (used to build
    /// single-rule sets).
    pub fn push_shared(&mut self, rule: Arc<Rule>) {
        self.rules.push(rule);
    }
}
