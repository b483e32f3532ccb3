//! The matching engine: one Aho-Corasick automaton over every rule keyword finds
//! candidate positions; around each hit a bounded window is opened in which only the
//! rules owning that keyword run their regex; captured secrets then pass the entropy
//! gate and the placeholder filter.
//!
//! The engine knows nothing of files or git: it takes bytes and returns byte ranges.
//! Each worker thread owns a [`Scratch`] so that nothing is allocated or locked per
//! input on the hot path.

pub mod filter;

use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex_automata::Input;
use regex_automata::meta;
use regex_automata::util::captures::Captures;

use crate::rules::{Rule, RuleSet, WINDOW_BEFORE};

/// A confirmed match: which rule, and where the secret lies in the input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Match {
    /// Index of the rule in the engine's rule set.
    pub rule: usize,
    /// Byte range of the secret (the capture group), not of the whole match.
    pub start: usize,
    pub end: usize,
    /// Shannon entropy of the secret, in bits per byte.
    pub entropy: f32,
}

/// Builds and holds the keyword automaton and the rule table.
#[derive(Debug)]
pub struct Engine {
    rules: RuleSet,
    automaton: AhoCorasick,
    /// For each automaton pattern, the rules that own that keyword.
    keyword_rules: Vec<Vec<u32>>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    rule: u32,
    start: usize,
    end: usize,
}

struct RegexScratch {
    cache: meta::Cache,
    captures: Captures,
}

/// Per-thread scratch state: reused across inputs so that scanning allocates nothing
/// once warmed up.
pub struct Scratch {
    windows: Vec<Window>,
    regex: Vec<Option<RegexScratch>>,
}

/// Why an engine could not be built.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("cannot build the keyword automaton: {0}")]
    Automaton(#[from] aho_corasick::BuildError),
}

impl Engine {
    /// Builds the keyword automaton for `rules`, tuned for bulk scanning (a DFA: slower
    /// to build, fastest to run). Regexes compile lazily on first use.
    pub fn new(rules: RuleSet) -> Result<Engine, EngineError> {
        Engine::build(rules, AhoCorasickKind::DFA)
    }

    /// Like [`Engine::new`], for a few kilobytes of input (a pre-commit hook): an
    /// automaton that builds several times faster and runs somewhat slower.
    pub fn for_small_inputs(rules: RuleSet) -> Result<Engine, EngineError> {
        Engine::build(rules, AhoCorasickKind::ContiguousNFA)
    }

    fn build(rules: RuleSet, kind: AhoCorasickKind) -> Result<Engine, EngineError> {
        let mut keywords: Vec<&str> = Vec::new();
        let mut keyword_rules: Vec<Vec<u32>> = Vec::new();
        let mut index = std::collections::HashMap::new();
        for (ri, rule) in rules.rules().iter().enumerate() {
            for kw in &rule.keywords {
                let pid = *index.entry(kw.as_str()).or_insert_with(|| {
                    keywords.push(kw.as_str());
                    keyword_rules.push(Vec::new());
                    keywords.len() - 1
                });
                if !keyword_rules[pid].contains(&(ri as u32)) {
                    keyword_rules[pid].push(ri as u32);
                }
            }
        }
        let automaton = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .kind(Some(kind))
            .build(&keywords)?;
        crate::trace::phase(|| {
            format!(
                "built keyword automaton: {} keywords, {} bytes",
                keywords.len(),
                automaton.memory_usage()
            )
        });
        Ok(Engine {
            rules,
            automaton,
            keyword_rules,
        })
    }

    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    pub fn rule(&self, index: usize) -> &Arc<Rule> {
        &self.rules.rules()[index]
    }

    pub fn new_scratch(&self) -> Scratch {
        Scratch {
            windows: Vec::new(),
            regex: (0..self.rules.len()).map(|_| None).collect(),
        }
    }

    /// Finds every secret in `data`, appending matches to `out` sorted by position.
    /// A secret is reported once per location; where a specific rule and a generic
    /// rule capture overlapping secrets, only the specific one is kept.
    pub fn find(&self, data: &[u8], scratch: &mut Scratch, out: &mut Vec<Match>) {
        let first = out.len();
        let windows = &mut scratch.windows;
        windows.clear();
        for hit in self.automaton.find_overlapping_iter(data) {
            for &ri in &self.keyword_rules[hit.pattern().as_usize()] {
                let rule = &self.rules.rules()[ri as usize];
                windows.push(Window {
                    rule: ri,
                    start: hit.start().saturating_sub(WINDOW_BEFORE),
                    end: hit.end().saturating_add(rule.window).min(data.len()),
                });
            }
        }
        if windows.is_empty() {
            return;
        }
        windows.sort_unstable_by_key(|w| (w.rule, w.start));
        let mut merged = 0;
        for i in 1..windows.len() {
            let w = windows[i];
            let m = &mut windows[merged];
            if w.rule == m.rule && w.start <= m.end {
                m.end = m.end.max(w.end);
            } else {
                merged += 1;
                windows[merged] = w;
            }
        }
        windows.truncate(merged + 1);
        for w in windows.iter() {
            self.confirm(data, *w, &mut scratch.regex[w.rule as usize], out);
        }
        let found = &mut out[first..];
        if found.len() > 1 {
            found.sort_unstable_by(|a, b| {
                (a.start, a.end, a.rule)
                    .partial_cmp(&(b.start, b.end, b.rule))
                    .expect("no NaN in keys")
            });
            self.drop_shadowed_generic(out, first);
        }
    }

    /// Runs one rule's regex over a merged window, collecting accepted secrets.
    fn confirm(
        &self,
        data: &[u8],
        w: Window,
        slot: &mut Option<RegexScratch>,
        out: &mut Vec<Match>,
    ) {
        let rule = &self.rules.rules()[w.rule as usize];
        let Ok(compiled) = rule.compiled() else {
            return;
        };
        let rs = slot.get_or_insert_with(|| RegexScratch {
            cache: compiled.regex.create_cache(),
            captures: compiled.regex.create_captures(),
        });
        let mut input = Input::new(data).range(w.start..w.end);
        loop {
            compiled
                .regex
                .search_captures_with(&mut rs.cache, &input, &mut rs.captures);
            let Some(m) = rs.captures.get_match() else {
                break;
            };
            if let Some(s) = rs.captures.get_group(compiled.secret_group)
                && s.end > s.start
                && let Some(entropy) = filter::accept(rule, data, s.start, s.end)
            {
                out.push(Match {
                    rule: w.rule as usize,
                    start: s.start,
                    end: s.end,
                    entropy: entropy as f32,
                });
            }
            let next = if m.end() > m.start() {
                m.end()
            } else {
                m.end() + 1
            };
            if next > w.end {
                break;
            }
            input.set_start(next);
        }
    }

    /// Removes generic matches that overlap a specific rule's match, and exact
    /// duplicates; `out[first..]` is sorted by start.
    fn drop_shadowed_generic(&self, out: &mut Vec<Match>, first: usize) {
        let rules = self.rules.rules();
        let found = &out[first..];
        let mut keep = vec![true; found.len()];
        for i in 0..found.len() {
            for j in (i + 1)..found.len() {
                if found[j].start >= found[i].end {
                    break;
                }
                let (gi, gj) = (rules[found[i].rule].generic, rules[found[j].rule].generic);
                if gi && !gj {
                    keep[i] = false;
                } else if gj && !gi {
                    keep[j] = false;
                } else if gi && gj {
                    // Two generic rules on one value: report it once.
                    keep[j] = false;
                }
            }
        }
        let mut i = 0;
        out.retain(|_| {
            let r = i < first || keep[i - first];
            i += 1;
            r
        });
    }
}

#[cfg(test)]
mod tests;
