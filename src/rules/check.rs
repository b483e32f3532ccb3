//! Proves rules against their own examples: every example must yield a secret through
//! the real engine (keywords, regex, entropy and placeholder filters together), and no
//! negative example may.

use std::fmt;

use super::{Anchor, Rule, RuleSet};
use crate::engine::Engine;

/// One failed example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExampleFailure {
    pub rule_id: String,
    pub origin: String,
    pub kind: FailureKind,
    pub index: usize,
    pub example: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// A positive example that produced no finding.
    Missed,
    /// A negative example that produced a finding.
    Matched,
    /// The rule has no positive or no negative example.
    NoExamples,
    /// The regex does not compile.
    BadRegex,
    /// The regex holds a long lazy counted gap (see [`long_lazy_gap`]).
    SlowRegex,
    /// The secret can be longer than the rule's window (see [`secret_max_len`]).
    ShortWindow,
}

impl fmt::Display for ExampleFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Rule-level failures carry their whole message in `example`.
        let what = match self.kind {
            FailureKind::Missed => format!("example {} was not found", self.index + 1),
            FailureKind::Matched => {
                format!("negative example {} was reported", self.index + 1)
            }
            FailureKind::NoExamples => {
                "needs at least one example and one negative example".to_string()
            }
            FailureKind::BadRegex | FailureKind::SlowRegex | FailureKind::ShortWindow => {
                return write!(
                    f,
                    "{}: rule `{}`: {}",
                    self.origin, self.rule_id, self.example
                );
            }
        };
        if self.example.is_empty() {
            write!(f, "{}: rule `{}`: {what}", self.origin, self.rule_id)
        } else {
            write!(
                f,
                "{}: rule `{}`: {what}: {:?}",
                self.origin, self.rule_id, self.example
            )
        }
    }
}

/// Checks every rule of `rules` against its examples.
pub fn check_examples(rules: &RuleSet) -> Vec<ExampleFailure> {
    let mut failures = Vec::new();
    for rule in rules.rules() {
        failures.extend(check_rule(rule));
    }
    failures
}

/// Checks one rule alone (other rules cannot shadow it).
pub fn check_rule(rule: &std::sync::Arc<Rule>) -> Vec<ExampleFailure> {
    let fail = |kind, index, example: &str| ExampleFailure {
        rule_id: rule.id.clone(),
        origin: rule.origin.to_string(),
        kind,
        index,
        example: example.to_string(),
    };
    if let Err(e) = rule.compiled() {
        return vec![fail(FailureKind::BadRegex, 0, e)];
    }
    let mut failures = Vec::new();
    if let Some(max) = long_lazy_gap(&rule.regex) {
        let message = format!(
            "a lazy gap of up to {max} repetitions (`{{0,{max}}}?`) is slow in every window \
             (the regex engine tracks each count); write `*?` and let the rule's `window` \
             bound how far a match reaches"
        );
        failures.push(fail(FailureKind::SlowRegex, 0, &message));
    }
    // (A rule anchored on token runs has no keyword: its window surrounds the run.)
    if let Some(max) = secret_max_len(&rule.regex)
        && !rule.keywords.is_empty()
        && max > rule.window
    {
        let message = format!(
            "the secret can be {max} bytes long, more than the rule's window of {} bytes \
             after its keyword: a longer secret would be cut short or missed; set `window`",
            rule.window
        );
        failures.push(fail(FailureKind::ShortWindow, 0, &message));
    }
    if rule.examples.is_empty() || rule.negative_examples.is_empty() {
        failures.push(fail(FailureKind::NoExamples, 0, ""));
    }
    let mut single = RuleSet::default();
    single.push_shared(rule.clone());
    let engine = Engine::new(single).expect("one rule's keywords always build");
    let mut scratch = engine.new_scratch();
    let mut found = Vec::new();
    let mut finds = |ex: &str, positive: bool| {
        found.clear();
        // Validation rejects file-header examples that are not hex.
        let mut bytes = rule.example_bytes(ex).unwrap_or_default();
        if rule.anchor == Anchor::FileHeader {
            // A positive example is the head of a key file, read as the first bytes of
            // a 4 KiB file (a declared DER length must fit in the file); a negative
            // example is a whole file (a key's framing alone is no key).
            if positive {
                let len = bytes.len().max(4096);
                bytes.to_mut().resize(len, 0);
            }
            engine.find_header(&bytes, &mut scratch, &mut found);
        } else {
            engine.find(&bytes, &mut scratch, &mut found);
        }
        !found.is_empty()
    };
    for (i, ex) in rule.examples.iter().enumerate() {
        if !finds(ex, true) {
            failures.push(fail(FailureKind::Missed, i, ex));
        }
    }
    for (i, ex) in rule.negative_examples.iter().enumerate() {
        if finds(ex, false) {
            failures.push(fail(FailureKind::Matched, i, ex));
        }
    }
    failures
}

/// The longest text the regex's first capture group (the secret) can match, when it
/// is bounded.
pub fn secret_max_len(regex: &str) -> Option<usize> {
    use regex_syntax::hir::{Hir, HirKind};
    fn find(h: &Hir) -> Option<Option<usize>> {
        match h.kind() {
            HirKind::Capture(c) if c.index == 1 => Some(c.sub.properties().maximum_len()),
            HirKind::Capture(c) => find(&c.sub),
            HirKind::Repetition(r) => find(&r.sub),
            HirKind::Concat(xs) | HirKind::Alternation(xs) => xs.iter().find_map(find),
            HirKind::Empty | HirKind::Literal(_) | HirKind::Class(_) | HirKind::Look(_) => None,
        }
    }
    find(&parse_bytes_regex(regex)?).flatten()
}

/// `regex` parsed as the engine compiles it (bytes, not Unicode); None if it does not
/// parse, which compiling the rule reports.
fn parse_bytes_regex(regex: &str) -> Option<regex_syntax::hir::Hir> {
    regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(regex)
        .ok()
}

/// Lazy counted repetitions of more than this many items are rejected.
const MAX_LAZY_GAP: u32 = 99;

/// The bound of the longest lazy counted repetition in `regex` (`(?:[^\n]|\n[ \t]*){0,200}?`,
/// a gap between a keyword and a secret) when it exceeds [`MAX_LAZY_GAP`]. The regex
/// engine's lazy DFA must track every count the gap may have reached, so each window
/// costs tens of microseconds instead of one; an unbounded `*?` costs nothing extra, and
/// the rule's window already bounds how far a match reaches.
pub fn long_lazy_gap(regex: &str) -> Option<u32> {
    use regex_syntax::hir::{Hir, HirKind};
    fn walk(h: &Hir, worst: &mut Option<u32>) {
        match h.kind() {
            HirKind::Repetition(r) => {
                if let Some(max) = r.max
                    && !r.greedy
                    && r.min == 0
                    && max > MAX_LAZY_GAP
                {
                    *worst = Some(worst.map_or(max, |w| w.max(max)));
                }
                walk(&r.sub, worst);
            }
            HirKind::Capture(c) => walk(&c.sub, worst),
            HirKind::Concat(xs) | HirKind::Alternation(xs) => {
                xs.iter().for_each(|x| walk(x, worst));
            }
            HirKind::Empty | HirKind::Literal(_) | HirKind::Class(_) | HirKind::Look(_) => {}
        }
    }
    let mut worst = None;
    walk(&parse_bytes_regex(regex)?, &mut worst);
    worst
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_rule_proves_its_examples() {
        let rules = RuleSet::builtin().expect("built-in rules parse");
        let failures = check_examples(&rules);
        let text: Vec<String> = failures.iter().map(|f| f.to_string()).collect();
        assert!(failures.is_empty(), "{}", text.join("\n"));
    }

    #[test]
    fn the_secret_group_bounds_its_length() {
        assert_eq!(secret_max_len(r"\b(ebay_[A-Za-z0-9]{80,4000})"), Some(4005));
        assert_eq!(secret_max_len(r"(?i)key\s*=\s*([a-f0-9]{32})\b"), Some(32));
        assert_eq!(
            secret_max_len(r"\b(eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]+)"),
            None
        );
        assert_eq!(secret_max_len(r"no group"), None);
    }

    #[test]
    fn long_lazy_gaps_are_found_and_short_or_unbounded_ones_pass() {
        assert_eq!(
            long_lazy_gap(r"(?i)acme(?:[^\n]|\n[ \t]*){0,200}?key=(\w{32})"),
            Some(200)
        );
        assert_eq!(
            long_lazy_gap(r"acme[\s\S]{0,500}?(x)|(?:a[^\n]{0,120}?)"),
            Some(500)
        );
        assert_eq!(
            long_lazy_gap(r"(?i)acme(?:[^\n]|\n[ \t]*)*?key=(\w{32})"),
            None
        );
        assert_eq!(long_lazy_gap(r"acme[^\n]{0,40}?key=(\w{32,200})"), None);
        assert_eq!(long_lazy_gap(r"(x{150})"), None);
        // A lazy secret of bounded length is not a gap.
        assert_eq!(long_lazy_gap(r"secret=([^\n]{5,255}?)\n"), None);
    }

    /// Pairs of matches of two specific rules on one secret, over every positive example
    /// of every built-in rule scanned with all of them: one secret reported twice.
    fn double_reports(rules: &RuleSet) -> Vec<String> {
        let engine = Engine::new(rules.clone()).expect("built-in rules build");
        let mut scratch = engine.new_scratch();
        let mut found = Vec::new();
        let mut doubles = Vec::new();
        for rule in rules.rules() {
            if rule.anchor == Anchor::FileHeader {
                continue;
            }
            for ex in &rule.examples {
                found.clear();
                engine.find(ex.as_bytes(), &mut scratch, &mut found);
                for (i, a) in found.iter().enumerate() {
                    for b in &found[i + 1..] {
                        let (ra, rb) = (engine.rule(a.rule), engine.rule(b.rule));
                        if b.start < a.end
                            && a.start < b.end
                            && !ra.generic
                            && !rb.generic
                            && Engine::same_secret(a.rule == b.rule, a, b)
                        {
                            doubles.push(format!("{} and {} on `{ex}`", ra.id, rb.id));
                        }
                    }
                }
            }
        }
        doubles
    }

    #[test]
    fn no_builtin_example_is_reported_twice_by_two_specific_rules() {
        let rules = RuleSet::builtin().expect("built-in rules parse");
        let doubles = double_reports(&rules);
        assert!(doubles.is_empty(), "{}", doubles.join("\n"));
    }

    #[test]
    fn without_overrides_shared_formats_are_reported_twice() {
        // The check above is not vacuous: the overrides are what settles these pairs.
        let mut rules = RuleSet::default();
        for (name, text) in crate::rules::builtin::FILES {
            let text: String = text
                .lines()
                .filter(|l| !l.starts_with("overrides ="))
                .map(|l| format!("{l}\n"))
                .collect();
            let path = std::path::Path::new("rules").join(name);
            rules
                .extend(crate::rules::parse_rule_file(&text, &path).expect("parses"))
                .expect("unique ids");
        }
        let doubles = double_reports(&rules);
        assert!(
            doubles
                .iter()
                .any(|d| d == "paystack.secret-key and stripe.secret-key on \
                               `PAYSTACK_SECRET_KEY=sk_live_646cd38fafffab4b2badc1b78f1bd837f7215b60`"),
            "{doubles:?}"
        );
    }

    #[test]
    fn overrides_name_builtin_rules_of_no_higher_confidence() {
        let rules = RuleSet::builtin().expect("built-in rules parse");
        for r in rules.rules() {
            for o in &r.overrides {
                let other = rules
                    .get(o)
                    .unwrap_or_else(|| panic!("{}: no rule `{o}`", r.id));
                assert!(
                    other.confidence <= r.confidence && other.provider != r.provider,
                    "{} overrides {o}, of higher confidence or the same provider",
                    r.id
                );
            }
        }
    }

    #[test]
    fn builtin_rules_have_unique_ids_and_compile() {
        let rules = RuleSet::builtin().expect("built-in rules parse");
        assert!(rules.len() >= 300, "{} rules", rules.len());
        for r in rules.rules() {
            assert!(r.compiled().is_ok(), "{}: {:?}", r.id, r.compiled().err());
        }
    }
}
