//! The TOML schema of rule files and its validation, with errors that name file and line.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::Deserialize;
use toml::Spanned;

use super::{Anchor, Checksum, Confidence, DEFAULT_WINDOW, MAX_WINDOW, Origin, Rule};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    rules: Vec<Spanned<RawRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: String,
    name: String,
    #[serde(default)]
    provider: Option<String>,
    #[serde(default)]
    description: String,
    keywords: Vec<String>,
    regex: String,
    #[serde(default)]
    min_entropy: Option<f64>,
    #[serde(default = "default_confidence")]
    confidence: Confidence,
    #[serde(default)]
    examples: Vec<String>,
    #[serde(default)]
    negative_examples: Vec<String>,
    #[serde(default)]
    references: Vec<String>,
    #[serde(default)]
    window: Option<usize>,
    #[serde(default)]
    generic: Option<bool>,
    /// Whether the secret is a free-form credential; by default, for generic rules
    /// and the `credentials.`, `uri.` and `password-hashes.` families.
    #[serde(default)]
    free_form: Option<bool>,
    #[serde(default)]
    stopwords: Vec<String>,
    #[serde(default)]
    anchor: Option<String>,
    #[serde(default)]
    overrides: Vec<String>,
    #[serde(default)]
    checksum: Option<String>,
}

fn default_confidence() -> Confidence {
    Confidence::Medium
}

/// A rule file that cannot be used, with the file and the line of the problem.
#[derive(Debug, thiserror::Error)]
#[error("{path}:{line}: {message}")]
pub struct RuleFileError {
    pub path: PathBuf,
    pub line: usize,
    pub message: String,
}

fn line_of(text: &str, offset: usize) -> usize {
    1 + memchr::memchr_iter(b'\n', &text.as_bytes()[..offset.min(text.len())]).count()
}

/// Parses and validates a rule file. `path` is only used in messages and origins.
/// The regexes are checked to compile: call sites that trust the file (the built-in
/// rules, proven by tests) use [`parse_trusted_rule_file`] to skip that cost.
pub fn parse_rule_file(text: &str, path: &Path) -> Result<Vec<Rule>, RuleFileError> {
    compile_all(parse_trusted_rule_file(text, path)?, path)
}

/// Parses the `[[rules]]` tables of a file that also holds other keys (a
/// `.ferret.toml`), fully validated; the other keys are the caller's to check.
pub fn parse_rules_in(text: &str, path: &Path) -> Result<Vec<Rule>, RuleFileError> {
    #[derive(Deserialize)]
    struct Embedded {
        #[serde(default)]
        rules: Vec<Spanned<RawRule>>,
        #[serde(flatten)]
        _rest: toml::Table,
    }
    let raw: Embedded = toml::from_str(text).map_err(|e| RuleFileError {
        path: path.to_owned(),
        line: e.span().map(|s| line_of(text, s.start)).unwrap_or(1),
        message: e.message().trim().to_string(),
    })?;
    compile_all(build_rules(raw.rules, text, path)?, path)
}

/// Compiles every rule's regex, failing on the first that does not compile.
fn compile_all(rules: Vec<Rule>, path: &Path) -> Result<Vec<Rule>, RuleFileError> {
    for rule in &rules {
        if let Err(message) = rule.compiled() {
            return Err(RuleFileError {
                path: path.to_owned(),
                line: rule.origin.line,
                message: format!("rule `{}`: {message}", rule.id),
            });
        }
    }
    Ok(rules)
}

/// Parses and validates a rule file's structure; regexes compile on first use.
pub fn parse_trusted_rule_file(text: &str, path: &Path) -> Result<Vec<Rule>, RuleFileError> {
    let err = |line: usize, message: String| RuleFileError {
        path: path.to_owned(),
        line,
        message,
    };
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start)).unwrap_or(1);
        err(line, e.message().trim().to_string())
    })?;
    build_rules(raw.rules, text, path)
}

fn build_rules(
    raw_rules: Vec<Spanned<RawRule>>,
    text: &str,
    path: &Path,
) -> Result<Vec<Rule>, RuleFileError> {
    let default_provider = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut out = Vec::with_capacity(raw_rules.len());
    for spanned in raw_rules {
        let line = line_of(text, spanned.span().start);
        out.push(build_rule(
            spanned.into_inner(),
            line,
            path,
            &default_provider,
        )?);
    }
    Ok(out)
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

fn build_rule(
    r: RawRule,
    line: usize,
    path: &Path,
    default_provider: &str,
) -> Result<Rule, RuleFileError> {
    let err = |line: usize, message: String| RuleFileError {
        path: path.to_owned(),
        line,
        message,
    };
    let bad = |what: &str| err(line, format!("rule `{}`: {what}", r.id));
    if !valid_id(&r.id) {
        return Err(bad(
            "`id` must be non-empty lowercase ASCII letters, digits, `.`, `_` or `-`",
        ));
    }
    if r.name.trim().is_empty() {
        return Err(bad("`name` must not be empty"));
    }
    let anchor = match r.anchor.as_deref() {
        None => Anchor::Keywords,
        Some("token-run") => Anchor::TokenRun,
        Some("file-header") => Anchor::FileHeader,
        Some(other) => {
            return Err(bad(&format!(
                "unknown `anchor` `{other}` (anchors are \"token-run\" and \"file-header\")"
            )));
        }
    };
    match anchor {
        Anchor::Keywords if r.keywords.is_empty() => {
            return Err(bad(
                "`keywords` must list at least one keyword (or set `anchor = \"token-run\"`)",
            ));
        }
        Anchor::FileHeader if !r.keywords.is_empty() => {
            return Err(bad(
                "a rule with `anchor = \"file-header\"` runs on file starts, not keywords: \
                 `keywords` must be empty",
            ));
        }
        _ => {}
    }
    if r.keywords.iter().any(|k| k.len() < 2) {
        return Err(bad("each keyword must be at least 2 bytes long"));
    }
    if let Some(e) = r.min_entropy
        && !(0.0..=8.0).contains(&e)
    {
        return Err(bad("`min_entropy` must be between 0 and 8 bits per byte"));
    }
    if let Some(w) = r.window
        && !(16..=MAX_WINDOW).contains(&w)
    {
        return Err(bad(&format!(
            "`window` must be between 16 and {MAX_WINDOW} bytes"
        )));
    }
    if r.overrides.iter().any(|o| *o == r.id || !valid_id(o)) {
        return Err(bad(
            "`overrides` lists the ids of other rules (lowercase ASCII letters, digits, \
             `.`, `_` or `-`)",
        ));
    }
    let checksum = match r.checksum.as_deref() {
        None => None,
        Some(name) => Some(Checksum::from_name(name).ok_or_else(|| {
            bad(&format!(
                "unknown `checksum` `{name}` (checksums are {})",
                Checksum::ALL
                    .iter()
                    .map(|c| format!("\"{}\"", c.as_str()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?),
    };
    let generic = r.generic.unwrap_or_else(|| r.id.starts_with("generic."));
    let rule = Rule {
        generic,
        free_form: r.free_form.unwrap_or_else(|| {
            generic
                || ["generic.", "credentials.", "uri.", "password-hashes."]
                    .iter()
                    .any(|p| r.id.starts_with(p))
        }),
        provider: r.provider.unwrap_or_else(|| default_provider.to_string()),
        keywords: r.keywords.iter().map(|k| k.to_ascii_lowercase()).collect(),
        window: r.window.unwrap_or(DEFAULT_WINDOW),
        anchor,
        stopwords: r.stopwords.iter().map(|w| w.to_ascii_lowercase()).collect(),
        origin: Origin {
            file: path.to_owned(),
            line,
        },
        id: r.id,
        name: r.name,
        description: r.description,
        regex: r.regex,
        min_entropy: r.min_entropy,
        confidence: r.confidence,
        examples: r.examples,
        negative_examples: r.negative_examples,
        references: r.references,
        overrides: r.overrides,
        checksum,
        compiled: OnceLock::new(),
    };
    let examples = rule.examples.iter().chain(&rule.negative_examples);
    if let Some(e) = examples
        .into_iter()
        .find(|e| rule.example_bytes(e).is_none())
    {
        return Err(err(
            line,
            format!(
                "rule `{}`: examples of a file-header rule are hex bytes; `{e}` is not",
                rule.id
            ),
        ));
    }
    Ok(rule)
}

/// A built-in rule from the table `build.rs` generates, validated like any other.
pub fn from_static(s: &super::builtin::StaticRule) -> Result<Rule, RuleFileError> {
    let path = Path::new("rules").join(s.file);
    let strings = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let confidence = match s.confidence {
        None | Some("medium") => Confidence::Medium,
        Some("high") => Confidence::High,
        Some("low") => Confidence::Low,
        Some(other) => {
            return Err(RuleFileError {
                path,
                line: s.line,
                message: format!("rule `{}`: unknown confidence `{other}`", s.id),
            });
        }
    };
    let raw = RawRule {
        id: s.id.to_string(),
        name: s.name.to_string(),
        provider: s.provider.map(str::to_string),
        description: s.description.to_string(),
        keywords: strings(s.keywords),
        regex: s.regex.to_string(),
        min_entropy: s.min_entropy,
        confidence,
        examples: strings(s.examples),
        negative_examples: strings(s.negative_examples),
        references: strings(s.references),
        window: s.window.map(|w| w.max(0) as usize),
        generic: s.generic,
        free_form: s.free_form,
        stopwords: strings(s.stopwords),
        anchor: s.anchor.map(str::to_string),
        overrides: strings(s.overrides),
        checksum: s.checksum.map(str::to_string),
    };
    let stem = s.file.trim_end_matches(".toml");
    build_rule(raw, s.line, &path, stem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_error_names_the_line() {
        let text =
            "[[rules]]\nid = \"a\"\nname = \"A\"\nkeywords = [\"ab\"]\nregex = 'x(y)'\nbogus = 1\n";
        let e = parse_rule_file(text, Path::new("x.toml")).unwrap_err();
        assert_eq!(e.line, 6, "{e}");
        assert!(e.to_string().contains("bogus"), "{e}");
    }

    #[test]
    fn bad_regex_names_rule_and_line() {
        let text =
            "# c\n\n[[rules]]\nid = \"a.b\"\nname = \"A\"\nkeywords = [\"ab\"]\nregex = 'x(y'\n";
        let e = parse_rule_file(text, Path::new("x.toml")).unwrap_err();
        assert_eq!(e.line, 3);
        assert!(
            e.to_string()
                .starts_with("x.toml:3: rule `a.b`: invalid regex"),
            "{e}"
        );
    }

    #[test]
    fn regex_with_two_groups_and_no_secret_name_is_rejected() {
        let text = "[[rules]]\nid = \"a\"\nname = \"A\"\nkeywords = [\"ab\"]\nregex = '(a)(b)'\n";
        let e = parse_rule_file(text, Path::new("x.toml")).unwrap_err();
        assert!(e.message.contains("exactly one capture group"), "{e}");
    }

    #[test]
    fn free_form_follows_the_family_unless_the_rule_says() {
        let rule = |id: &str, extra: &str| {
            let text = format!(
                "[[rules]]\nid = \"{id}\"\nname = \"A\"\nkeywords = [\"ab\"]\nregex = '(a)'\n{extra}"
            );
            parse_rule_file(&text, Path::new("x.toml"))
                .unwrap()
                .remove(0)
        };
        assert!(rule("uri.x", "").free_form);
        assert!(!rule("acme.password", "").free_form);
        assert!(rule("acme.password", "free_form = true\n").free_form);
        assert!(!rule("credentials.x", "free_form = false\n").free_form);
    }

    #[test]
    fn token_run_anchor_allows_a_rule_without_keywords() {
        let text = "[[rules]]\nid = \"a\"\nname = \"A\"\nkeywords = []\nanchor = \"token-run\"\nregex = '(a)'\n";
        let rules = parse_rule_file(text, Path::new("x.toml")).unwrap();
        assert_eq!(rules[0].anchor, Anchor::TokenRun);
        assert!(rules[0].keywords.is_empty());
    }

    #[test]
    fn file_header_anchor_takes_no_keywords_and_hex_examples() {
        let ok = "[[rules]]\nid = \"a\"\nname = \"A\"\nkeywords = []\nanchor = \"file-header\"\nregex = '(?-u)\\A(\\xfe\\xed)'\nexamples = [\"fe ed 00\"]\n";
        let rules = parse_rule_file(ok, Path::new("x.toml")).unwrap();
        assert_eq!(rules[0].anchor, Anchor::FileHeader);
        assert_eq!(
            rules[0].example_bytes(&rules[0].examples[0]).as_deref(),
            Some(&b"\xfe\xed\x00"[..])
        );
        let keywords = ok.replace("keywords = []", "keywords = [\"ab\"]");
        let e = parse_rule_file(&keywords, Path::new("x.toml")).unwrap_err();
        assert!(e.message.contains("`keywords` must be empty"), "{e}");
        let text = ok.replace("fe ed 00", "feed0");
        let e = parse_rule_file(&text, Path::new("x.toml")).unwrap_err();
        assert!(e.message.contains("hex bytes; `feed0` is not"), "{e}");
    }

    #[test]
    fn checksum_names_a_known_check() {
        let ok = "[[rules]]\nid = \"a\"\nname = \"A\"\nkeywords = [\"ab\"]\nchecksum = \"bip39\"\nregex = '(a)'\n";
        let rules = parse_rule_file(ok, Path::new("x.toml")).unwrap();
        assert_eq!(rules[0].checksum, Some(Checksum::Bip39));
        let bad = ok.replace("bip39", "luhn");
        let e = parse_rule_file(&bad, Path::new("x.toml")).unwrap_err();
        assert!(e.message.contains("unknown `checksum` `luhn`"), "{e}");
    }

    #[test]
    fn unknown_anchor_is_an_error_naming_it() {
        let text = "[[rules]]\nid = \"a\"\nname = \"A\"\nkeywords = [\"ab\"]\nanchor = \"line\"\nregex = '(a)'\n";
        let e = parse_rule_file(text, Path::new("x.toml")).unwrap_err();
        assert!(e.message.contains("unknown `anchor` `line`"), "{e}");
        assert_eq!(e.line, 1);
    }

    #[test]
    fn named_secret_group_is_used() {
        let text = "[[rules]]\nid = \"a\"\nname = \"A\"\nkeywords = [\"AB\"]\nregex = '(a)(?P<secret>b)'\n";
        let rules = parse_rule_file(text, Path::new("x.toml")).unwrap();
        assert_eq!(rules[0].compiled().unwrap().secret_group, 2);
        assert_eq!(rules[0].keywords, vec!["ab"]);
    }

    #[test]
    fn missing_keywords_is_an_error() {
        let text = "[[rules]]\nid = \"a\"\nname = \"A\"\nkeywords = []\nregex = '(a)'\n";
        let e = parse_rule_file(text, Path::new("x.toml")).unwrap_err();
        assert!(e.message.contains("keywords"), "{e}");
    }
}
