//! The matching engine: one Aho-Corasick automaton over every rule keyword finds
//! candidate positions; around each hit a bounded window is opened in which only the
//! rules owning that keyword run their regex; captured secrets then pass the entropy
//! gate and the placeholder filter.
//!
//! Secrets behind an encoding are found too: base64 and percent-encoded spans are
//! decoded ([`decode`]) and rescanned with the rest of their line around them, nested
//! up to a fixed depth and within a byte budget per input.
//!
//! The engine knows nothing of files or git: it takes bytes and returns byte ranges.
//! Each worker thread owns a [`Scratch`] so that nothing is allocated or locked per
//! input on the hot path.

pub mod checksum;
pub mod decode;
pub mod filter;
pub mod keywords;
pub mod paths;

use std::sync::Arc;

use regex_automata::Input;
use regex_automata::meta;
use regex_automata::util::captures::Captures;

use crate::rules::{Anchor, Rule, RuleSet, WINDOW_BEFORE};
use keywords::Keywords;

/// A confirmed match: which rule, and where the secret lies in the input.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    /// Index of the rule in the engine's rule set.
    pub rule: usize,
    /// Byte range of the secret (the capture group), not of the whole match; for a
    /// secret found in decoded text, the range of the encoded span that held it.
    pub start: usize,
    pub end: usize,
    /// Shannon entropy of the secret, in bits per byte.
    pub entropy: f32,
    /// Set when the secret was found only after decoding `start..end`.
    pub decoded: Option<Box<Decoded>>,
}

/// A secret found inside encoded text.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The encodings peeled off, outermost first.
    pub encodings: Vec<decode::Encoding>,
    /// The secret as decoded.
    pub secret: Vec<u8>,
    /// Up to [`DECODED_AFTER`] bytes of the decoded text that follow the secret (what
    /// the input holds after the encoded span says little about it).
    pub after: Vec<u8>,
    /// Up to [`DECODED_AFTER`] bytes of the decoded text (and of its line) that
    /// precede the secret.
    pub before: Vec<u8>,
}

/// How much decoded text after a decoded secret is kept for judging it.
pub const DECODED_AFTER: usize = 512;

impl Match {
    /// The secret's bytes: from the input, or decoded.
    pub fn secret<'a>(&'a self, data: &'a [u8]) -> &'a [u8] {
        match &self.decoded {
            Some(d) => &d.secret,
            None => &data[self.start..self.end],
        }
    }
}

/// How deep decoding nests by default (base64 inside base64, as in a Kubernetes
/// secret holding a Docker config).
pub const DEFAULT_DECODE_DEPTH: u8 = 2;
/// Bytes of decoded text rescanned per input, beyond the input's own size.
const DECODE_BUDGET_EXTRA: usize = 64 * 1024;
/// How much of the line around an encoded span is rescanned with its decoded text.
const DECODE_CONTEXT: usize = 256;

/// Builds and holds the keyword automaton and the rule table.
#[derive(Debug)]
pub struct Engine {
    rules: RuleSet,
    automaton: Keywords,
    /// For each automaton pattern, the rules that own that keyword.
    keyword_rules: Vec<Vec<u32>>,
    /// Rules that also run around token runs (`anchor = "token-run"`).
    run_rules: Vec<u32>,
    /// Rules that run at the start of binary files (`anchor = "file-header"`).
    header_rules: Vec<u32>,
    /// How many layers of encoding are peeled off (0: no decoding).
    decode_depth: u8,
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
    spans: Vec<decode::Span>,
}

impl Scratch {
    /// Replaces `spans` with the encoded (and token) runs of `data`.
    fn find_spans(&mut self, data: &[u8]) {
        self.spans.clear();
        decode::find_spans(data, &mut self.spans);
    }
}

/// The decoded text after and before an inner match `m` of a decoded `view`, kept for
/// judging the secret ([`DECODED_AFTER`] bytes each way).
fn decoded_context(view: &[u8], m: &Match) -> (Vec<u8>, Vec<u8>) {
    (
        view[m.end..(m.end + DECODED_AFTER).min(view.len())].to_vec(),
        view[m.start.saturating_sub(DECODED_AFTER)..m.start].to_vec(),
    )
}

/// A line with backslash escapes, unescaped into a view: where the unescaped text
/// stands in the view (`text`), and for each of its bytes the offset in the line it
/// comes from (`map`, see [`decode::unescape`]).
struct UnescapedLine<'a> {
    span: decode::Span,
    map: &'a [u32],
    text: std::ops::Range<usize>,
}

impl UnescapedLine<'_> {
    /// Places a match `m` found in the view at its place in the input `data`: a plain
    /// match when the secret holds no escape (it stands in the input as it is), a
    /// decoded one otherwise. `None` when `found` already holds it.
    fn place(&self, m: Match, view: &[u8], data: &[u8], found: &[Match]) -> Option<Match> {
        let at = |v: usize| {
            self.span.start
                + self.map[v.clamp(self.text.start, self.text.end) - self.text.start] as usize
        };
        let (start, end) = (at(m.start), at(m.end));
        let secret = m.secret(view);
        let known = |p: &Match| {
            p.rule == m.rule && p.start == start && p.end == end && p.secret(data) == secret
        };
        if found.iter().any(known) {
            return None;
        }
        let plain = m.decoded.is_none() && &data[start..end] == secret;
        let decoded = (!plain).then(|| {
            let (mut encodings, after, before) = match &m.decoded {
                Some(d) => (d.encodings.clone(), d.after.clone(), d.before.clone()),
                None => {
                    let (after, before) = decoded_context(view, &m);
                    (Vec::new(), after, before)
                }
            };
            encodings.insert(0, self.span.encoding);
            Box::new(Decoded {
                encodings,
                secret: secret.to_vec(),
                after,
                before,
            })
        });
        Some(Match {
            rule: m.rule,
            start,
            end,
            entropy: m.entropy,
            decoded,
        })
    }
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
        Engine::build(rules, true)
    }

    /// Like [`Engine::new`], for a few kilobytes of input (a pre-commit hook): an
    /// automaton that builds several times faster and runs somewhat slower.
    pub fn for_small_inputs(rules: RuleSet) -> Result<Engine, EngineError> {
        Engine::build(rules, false)
    }

    fn build(rules: RuleSet, bulk: bool) -> Result<Engine, EngineError> {
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
        let with_anchor = |anchor| {
            (0u32..)
                .zip(rules.rules())
                .filter_map(|(i, r)| (r.anchor == anchor).then_some(i))
                .collect()
        };
        let run_rules = with_anchor(Anchor::TokenRun);
        let header_rules = with_anchor(Anchor::FileHeader);
        let automaton = Keywords::build(&keywords, bulk)?;
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
            run_rules,
            header_rules,
            decode_depth: DEFAULT_DECODE_DEPTH,
        })
    }

    /// Sets how many layers of encoding are decoded (0 turns decoding off).
    pub fn with_decode_depth(mut self, depth: u8) -> Engine {
        self.decode_depth = depth;
        self
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
            spans: Vec::new(),
        }
    }

    /// Finds every secret in `data`, appending matches to `out` sorted by position.
    /// A secret is reported once per location; where a specific rule and a generic
    /// rule capture overlapping secrets, only the specific one is kept.
    pub fn find(&self, data: &[u8], scratch: &mut Scratch, out: &mut Vec<Match>) {
        let first = out.len();
        // Token runs are found once, for the token-run rules and for decoding.
        let runs = !self.run_rules.is_empty();
        if runs || self.decode_depth > 0 {
            scratch.find_spans(data);
        }
        self.find_plain(data, scratch, out, runs, false);
        if self.decode_depth > 0 {
            let mut budget = data.len().saturating_add(DECODE_BUDGET_EXTRA);
            self.find_decoded(data, self.decode_depth, &mut budget, scratch, out, first);
        }
    }

    /// Finds the secrets of provider token formats and private keys in a binary
    /// input (a compiled class, a `.pyc`, an executable): only rules that are not
    /// free-form (see [`Rule::free_form`]) run, around keywords, and nothing is
    /// decoded. Free-form rules judge a value by the text around it, and in binary
    /// data that text is noise.
    pub fn find_binary(&self, data: &[u8], scratch: &mut Scratch, out: &mut Vec<Match>) {
        self.find_plain(data, scratch, out, false, true);
    }

    /// Runs the file-header rules on a binary input (key stores and keys in binary
    /// form): each rule's regex, anchored at byte 0, over the input's first `window`
    /// bytes. A match covers the whole input; `data` should be all of it (the
    /// finding's secret is its digest).
    pub fn find_header(&self, data: &[u8], scratch: &mut Scratch, out: &mut Vec<Match>) {
        for &ri in &self.header_rules {
            let rule = &self.rules.rules()[ri as usize];
            let Ok(compiled) = rule.compiled() else {
                continue;
            };
            let rs = scratch.regex[ri as usize].get_or_insert_with(|| RegexScratch {
                cache: compiled.regex.create_cache(),
                captures: compiled.regex.create_captures(),
            });
            let head = &data[..data.len().min(rule.window)];
            let input = Input::new(head).anchored(regex_automata::Anchored::Yes);
            if compiled.regex.search_with(&mut rs.cache, &input).is_some() && der_fits(data) {
                out.push(Match {
                    rule: ri as usize,
                    start: 0,
                    end: data.len(),
                    entropy: filter::entropy(head) as f32,
                    decoded: None,
                });
            }
        }
    }

    /// True when some rule runs on binary files (see [`Engine::find_header`]).
    pub fn has_header_rules(&self) -> bool {
        !self.header_rules.is_empty()
    }

    /// Decodes the encoded spans of `data` (in `scratch.spans`, which the caller fills
    /// with [`Scratch::find_spans`]) and scans each decoded text with the rest
    /// of its line; matches in the decoded part are reported at the encoded span.
    /// A plain generic match on an encoded value that decodes to text gives way: the
    /// decoded value is what gets judged.
    fn find_decoded(
        &self,
        data: &[u8],
        depth: u8,
        budget: &mut usize,
        scratch: &mut Scratch,
        out: &mut Vec<Match>,
        first: usize,
    ) {
        let spans = std::mem::take(&mut scratch.spans);
        let mut decoded_spans = Vec::new();
        // (rule, start, end) of what was found in unescaped text, which reads better
        // than a plain match of the same rule over the escaped text there.
        let mut unescaped: Vec<(usize, usize, usize)> = Vec::new();
        let before = out.len();
        for span in &spans {
            // Unescaped text keeps its place: each of its bytes maps back to the input,
            // so what is found there is reported where it stands.
            let (text, map) = if span.encoding == decode::Encoding::Escaped {
                match decode::unescape(&data[span.start..span.end]) {
                    Some((text, map)) => (text, Some(map)),
                    None => continue,
                }
            } else {
                match decode::decode(&data[span.start..span.end], span.encoding) {
                    Some(text) => (text, None),
                    None => continue,
                }
            };
            let lo = span.start.saturating_sub(DECODE_CONTEXT);
            let ls = memchr::memrchr(b'\n', &data[lo..span.start]).map_or(lo, |i| lo + i + 1);
            let hi = span.end.saturating_add(DECODE_CONTEXT).min(data.len());
            let le = memchr::memchr(b'\n', &data[span.end..hi]).map_or(hi, |i| span.end + i);
            let len = (span.start - ls) + text.len() + (le - span.end);
            if len > *budget {
                break;
            }
            *budget -= len;
            if map.is_none() {
                decoded_spans.push((span.start, span.end));
            }
            let mut view = Vec::with_capacity(len);
            view.extend_from_slice(&data[ls..span.start]);
            view.extend_from_slice(&text);
            view.extend_from_slice(&data[span.end..le]);
            let (ds, de) = (span.start - ls, span.start - ls + text.len());
            let mut inner = Vec::new();
            // The view's runs serve its token-run rules and its own decoding.
            let runs = !self.run_rules.is_empty();
            if runs || depth > 1 {
                scratch.find_spans(&view);
            }
            self.find_plain(&view, scratch, &mut inner, runs, false);
            if depth > 1 {
                self.find_decoded(&view, depth - 1, budget, scratch, &mut inner, 0);
            }
            for m in inner {
                if m.start >= de || m.end <= ds {
                    continue;
                }
                if let Some(map) = &map {
                    let line = UnescapedLine {
                        span: *span,
                        map,
                        text: ds..de,
                    };
                    if let Some(placed) = line.place(m, &view, data, &out[first..]) {
                        unescaped.push((placed.rule, placed.start, placed.end));
                        out.push(placed);
                    }
                    continue;
                }
                let mut encodings = vec![span.encoding];
                let (secret, after, before) = match m.decoded {
                    Some(d) => {
                        encodings.extend(d.encodings);
                        (d.secret, d.after, d.before)
                    }
                    None => {
                        let secret = &view[m.start..m.end];
                        // A secret left as it was by the decoding (an access key id
                        // inside a percent-encoded URL) that the plain pass already
                        // found in the span, or reaching past its end (a token after
                        // `%3D`, running on past a `|` that ends the span), is not
                        // reported twice.
                        let plain = |p: &Match| {
                            p.rule == m.rule
                                && p.decoded.is_none()
                                && p.start < span.end
                                && span.start < p.end
                                && &data[p.start..p.end] == secret
                        };
                        if out[first..before].iter().any(plain) {
                            continue;
                        }
                        let (after, before) = decoded_context(&view, &m);
                        (secret.to_vec(), after, before)
                    }
                };
                out.push(Match {
                    rule: m.rule,
                    start: span.start,
                    end: span.end,
                    entropy: m.entropy,
                    decoded: Some(Box::new(Decoded {
                        encodings,
                        secret,
                        after,
                        before,
                    })),
                });
            }
        }
        scratch.spans = spans;
        if out.len() == before {
            return;
        }
        if !decoded_spans.is_empty() || !unescaped.is_empty() {
            let rules = self.rules.rules();
            let mut i = first;
            out.retain(|m| {
                let plain = first <= i && i < before;
                i += 1;
                let in_decoded = rules[m.rule].generic
                    && decoded_spans
                        .iter()
                        .any(|&(s, e)| s <= m.start && m.end <= e);
                let misread = unescaped.iter().any(|&(r, s, e)| {
                    r == m.rule && s < m.end && m.start < e && (s, e) != (m.start, m.end)
                });
                !(plain && (in_decoded || misread))
            });
        }
        if out.len() - first > 1 {
            Self::sort(&mut out[first..]);
            self.drop_shadowed(out, first);
        }
    }

    fn sort(found: &mut [Match]) {
        found.sort_unstable_by(|a, b| {
            (a.start, a.end, a.rule, a.decoded.is_some())
                .partial_cmp(&(b.start, b.end, b.rule, b.decoded.is_some()))
                .expect("no NaN in keys")
        });
    }

    /// The keyword pass: windows around keyword hits, each rule's regex in its windows.
    /// With `runs`, the token-run rules also run around each base64-alphabet run in
    /// `scratch.spans`, `window` bytes either side. With `binary`, free-form rules
    /// open no window (see [`Engine::find_binary`]).
    fn find_plain(
        &self,
        data: &[u8],
        scratch: &mut Scratch,
        out: &mut Vec<Match>,
        runs: bool,
        binary: bool,
    ) {
        let first = out.len();
        let windows = &mut scratch.windows;
        windows.clear();
        let rules = self.rules.rules();
        // A window reaches `before` bytes before `start` and the rule's `window` after
        // `end`.
        let mut open = |ri: u32, start: usize, end: usize, before: Option<usize>| {
            let after = rules[ri as usize].window;
            windows.push(Window {
                rule: ri,
                start: start.saturating_sub(before.unwrap_or(after)),
                end: end.saturating_add(after).min(data.len()),
            });
        };
        if runs {
            let base64 = scratch
                .spans
                .iter()
                .filter(|s| s.encoding == decode::Encoding::Base64);
            for span in base64 {
                for &ri in &self.run_rules {
                    open(ri, span.start, span.end, None);
                }
            }
        }
        // Two walks rather than one with a test per hit: the text walk is the hot loop
        // of every scan, and stays as tight as it can be.
        if binary {
            self.automaton.for_each(data, |pattern, start, end| {
                for &ri in &self.keyword_rules[pattern] {
                    if !rules[ri as usize].free_form {
                        open(ri, start, end, Some(WINDOW_BEFORE));
                    }
                }
            });
        } else {
            self.automaton.for_each(data, |pattern, start, end| {
                for &ri in &self.keyword_rules[pattern] {
                    open(ri, start, end, Some(WINDOW_BEFORE));
                }
            });
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
        if out.len() - first > 1 {
            Self::sort(&mut out[first..]);
            self.drop_shadowed(out, first);
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
            let secret = rs
                .captures
                .get_group(compiled.secret_group)
                .filter(|s| s.end > s.start)
                .map(|s| {
                    regex_automata::Span::from(
                        s.start..filter::value_end(rule, data, s.start, s.end),
                    )
                });
            if let Some(s) = secret
                && !filter::owned_by_sibling_key(rule, data, m.start(), s.start)
                && let Some(entropy) = filter::accept(rule, data, s.start, s.end)
            {
                out.push(Match {
                    rule: w.rule as usize,
                    start: s.start,
                    end: s.end,
                    entropy: entropy as f32,
                    decoded: None,
                });
            }
            // The next search starts where the secret ends, not the match: what a
            // rule reads after its secret (the line's end, a delimiter) may be what
            // the next match starts with (`DB_PASSWORD=…\nREDIS_PASSWORD=…`).
            let next = match secret {
                Some(s) => s.end.max(m.start() + 1),
                None if m.end() > m.start() => m.end(),
                None => m.end() + 1,
            };
            if next > w.end {
                break;
            }
            input.set_start(next);
        }
    }

    /// For two matches of the same encoded value, one plain and one found by decoding
    /// it (spans equal but for the padding), whether the plain one is `a` (`Some(true)`)
    /// or `b` (`Some(false)`).
    fn encoded_twice(a: &Match, b: &Match) -> Option<bool> {
        let near = |x: usize, y: usize| x.abs_diff(y) <= 2;
        if !(near(a.start, b.start) && near(a.end, b.end)) {
            return None;
        }
        match (a.decoded.is_some(), b.decoded.is_some()) {
            (false, true) => Some(true),
            (true, false) => Some(false),
            _ => None,
        }
    }

    /// For two specific rules whose matches overlap, which one gives way: `Some(true)`
    /// for `a`, `Some(false)` for `b`, `None` to keep both (two providers' formats that
    /// happen to touch). In order:
    /// - a rule that `overrides` the other wins (a format shared by several providers,
    ///   attributed by its context);
    /// - a provider's format wins over a free-form credential rule (a GitHub token as
    ///   the password of a URL is a GitHub token);
    /// - of two rules of one provider, or two free-form rules, the higher confidence
    ///   wins, then the plain match over a decoded one (for one rule matching both,
    ///   the decoded one), then the longer secret.
    ///
    /// A rule never gives way to one of lower confidence, so filtering by confidence
    /// afterwards cannot lose the secret.
    fn one_secret_two_rules(a: (&Rule, &Match), b: (&Rule, &Match)) -> Option<bool> {
        let ((ra, ma), (rb, mb)) = (a, b);
        let same_rule = ma.rule == mb.rule;
        if !Self::same_secret(same_rule, ma, mb) {
            return None;
        }
        let at_least = |x: &Rule, y: &Rule| x.confidence >= y.confidence;
        if ra.overrides.contains(&rb.id) && at_least(ra, rb) {
            return Some(false);
        }
        if rb.overrides.contains(&ra.id) && at_least(rb, ra) {
            return Some(true);
        }
        if ra.free_form != rb.free_form {
            let (specific, drop_first) = if ra.free_form {
                (rb, true)
            } else {
                (ra, false)
            };
            let other = if drop_first { ra } else { rb };
            return at_least(specific, other).then_some(drop_first);
        }
        if ra.provider != rb.provider && !ra.free_form {
            return None;
        }
        let len = |m: &Match| {
            m.decoded
                .as_ref()
                .map_or(m.end - m.start, |d| d.secret.len())
        };
        // One rule on a value and on what it decodes to: the decoded secret, as for
        // equal spans. Two rules: the plain match (a token whose decoding holds another
        // provider format, such as a Bedrock key holding an AWS key id).
        let rank = |r: &Rule, m: &Match| (r.confidence, m.decoded.is_none() != same_rule, len(m));
        Some(rank(ra, ma) < rank(rb, mb))
    }

    /// Whether two overlapping matches are one secret. Two plain ones are. A decoded
    /// match's span is the whole encoded run it came from, which may hold other
    /// secrets, so it is the same secret as a plain match only when the plain secret
    /// holds that run (a token that is base64 of another credential), or for one rule,
    /// when the run holds the plain secret (the rule matched the value and its
    /// decoding); two decoded matches are when one decoded secret holds the other.
    pub(crate) fn same_secret(same_rule: bool, a: &Match, b: &Match) -> bool {
        let within = |x: &Match, y: &Match| y.start <= x.start && x.end <= y.end;
        match (&a.decoded, &b.decoded) {
            (None, None) => true,
            (Some(x), Some(y)) => {
                let holds = |h: &[u8], n: &[u8]| memchr::memmem::find(h, n).is_some();
                holds(&x.secret, &y.secret) || holds(&y.secret, &x.secret)
            }
            (None, Some(_)) => within(b, a) || (same_rule && within(a, b)),
            (Some(_), None) => within(a, b) || (same_rule && within(b, a)),
        }
    }

    /// Keeps one match per secret among `out[first..]` (sorted by position): of one
    /// rule's plain and decoded matches of a value, the decoded one; of a specific and
    /// a generic rule's matches that overlap, the specific one; of two generic ones, one;
    /// of two specific rules on one encoded value, one plain and one decoded (see
    /// [`Engine::encoded_twice`]), the decoded one; of two other specific rules, the
    /// one [`Engine::one_secret_two_rules`] picks.
    fn drop_shadowed(&self, out: &mut Vec<Match>, first: usize) {
        let rules = self.rules.rules();
        let found = &out[first..];
        let mut keep = vec![true; found.len()];
        for i in 0..found.len() {
            for j in (i + 1)..found.len() {
                if found[j].start >= found[i].end {
                    break;
                }
                let (gi, gj) = (rules[found[i].rule].generic, rules[found[j].rule].generic);
                let same = (found[i].start, found[i].end, found[i].rule)
                    == (found[j].start, found[j].end, found[j].rule);
                if same {
                    // One rule matched both the encoded text and what it decodes to:
                    // the decoded secret is the one to report.
                    if found[i].decoded.is_none() && found[j].decoded.is_some() {
                        keep[i] = false;
                    } else {
                        keep[j] = false;
                    }
                } else if let Some(plain) = Self::encoded_twice(&found[i], &found[j])
                    && !gi
                    && !gj
                {
                    // Two specific rules on one encoded value: one matched the encoded
                    // text, the other the secret it decodes to (a base64 PEM key). The
                    // decoded secret is the one to report.
                    keep[if plain { i } else { j }] = false;
                } else if !gi
                    && !gj
                    && let Some(drop_first) = Self::one_secret_two_rules(
                        (&rules[found[i].rule], &found[i]),
                        (&rules[found[j].rule], &found[j]),
                    )
                {
                    keep[if drop_first { i } else { j }] = false;
                } else if gi && !gj {
                    keep[i] = false;
                } else if gj && !gi {
                    keep[j] = false;
                } else if gi && gj {
                    // Two generic rules on one value: report it once, preferring the
                    // decoded value (it is the secret itself).
                    if found[i].decoded.is_none() && found[j].decoded.is_some() {
                        keep[i] = false;
                    } else {
                        keep[j] = false;
                    }
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

/// False when `data` opens a DER SEQUENCE whose declared length runs past its end: a
/// key's framing without the key (the `*_pkcs8_template.der` files a crypto library
/// fills in at run time) or a truncated copy, not a key. True for any other header,
/// and for BER's indefinite length. A streamed input's first chunk is megabytes,
/// far longer than any key.
fn der_fits(data: &[u8]) -> bool {
    if data.first() != Some(&0x30) {
        return true;
    }
    let Some(&first) = data.get(1) else {
        return false;
    };
    let (len, header) = match first {
        0x00..=0x7f => (usize::from(first), 2),
        0x81..=0x84 => {
            let n = usize::from(first & 0x7f);
            let Some(bytes) = data.get(2..2 + n) else {
                return false;
            };
            (
                bytes.iter().fold(0usize, |l, &b| (l << 8) | usize::from(b)),
                2 + n,
            )
        }
        _ => return true,
    };
    len.checked_add(header)
        .is_some_and(|total| total <= data.len())
}

#[cfg(test)]
mod tests;
