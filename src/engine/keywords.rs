//! The keyword pass: every occurrence of every rule keyword (ASCII case-insensitive,
//! overlapping), found by walking an Aho-Corasick automaton.
//!
//! A DFA walk is bound by the latency of one table load per byte: the next state
//! depends on the last. To keep several loads in flight, inputs of more than a few
//! kilobytes are cut into [`STREAMS`] segments walked in lockstep, each from the start
//! state a little before its segment (`max keyword length - 1` bytes, enough for the
//! automaton to reach the state a whole-input walk would have). A hit is reported by
//! the segment its last byte falls in, so each occurrence is reported once. On the
//! Linux tree this cut the whole scan's CPU time by 40% against
//! `AhoCorasick::find_overlapping_iter` with the same DFA.

use aho_corasick::automaton::Automaton;
use aho_corasick::{Anchored, BuildError, MatchKind, dfa, nfa};

/// Segments walked together by the bulk (DFA) walk.
const STREAMS: usize = 8;
/// Inputs shorter than this are walked in one stream by the DFA (the NFA, for small
/// inputs, always walks one).
const MIN_SPLIT: usize = 1024;

/// The keyword automaton, built for bulk scanning (a DFA) or for a few kilobytes of
/// input (a contiguous NFA: builds several times faster, runs slower).
#[derive(Debug)]
pub enum Keywords {
    Dfa(dfa::DFA),
    Nfa(nfa::contiguous::NFA),
}

impl Keywords {
    pub fn build(patterns: &[&str], bulk: bool) -> Result<Keywords, BuildError> {
        Ok(if bulk {
            Keywords::Dfa(
                dfa::Builder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .build(patterns)?,
            )
        } else {
            Keywords::Nfa(
                nfa::contiguous::Builder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .build(patterns)?,
            )
        })
    }

    pub fn memory_usage(&self) -> usize {
        match self {
            Keywords::Dfa(a) => a.memory_usage(),
            Keywords::Nfa(a) => a.memory_usage(),
        }
    }

    /// Calls `hit(pattern, start, end)` for every keyword occurrence in `data`, in no
    /// particular order.
    #[inline]
    pub fn for_each(&self, data: &[u8], hit: impl FnMut(usize, usize, usize)) {
        match self {
            Keywords::Dfa(a) => walk_streams(a, data, hit, MIN_SPLIT),
            Keywords::Nfa(a) => walk_streams(a, data, hit, usize::MAX),
        }
    }
}

/// Reports the matches of `a`'s state `sid` ending at `end` (exclusive).
#[inline(always)]
fn report<A: Automaton>(
    a: &A,
    sid: aho_corasick::automaton::StateID,
    end: usize,
    hit: &mut impl FnMut(usize, usize, usize),
) {
    for i in 0..a.match_len(sid) {
        let pid = a.match_pattern(sid, i);
        hit(pid.as_usize(), end - a.pattern_len(pid), end);
    }
}

/// One stream over `data[from..to]` from state `sid`, reporting matches that end at or
/// after `emit_from`.
#[inline(always)]
fn walk<A: Automaton>(
    a: &A,
    data: &[u8],
    (from, to, emit_from): (usize, usize, usize),
    mut sid: aho_corasick::automaton::StateID,
    hit: &mut impl FnMut(usize, usize, usize),
) {
    for (p, &b) in data.iter().enumerate().take(to).skip(from) {
        sid = a.next_state(Anchored::No, sid, b);
        if a.is_match(sid) && p >= emit_from {
            report(a, sid, p + 1, hit);
        }
    }
}

/// [`STREAMS`] segments of `data` walked in lockstep (see the module notes).
// One index walks all the segments: an iterator per segment would not keep the
// states in registers.
#[allow(clippy::needless_range_loop)]
/// Inputs of fewer than `min_split` bytes are walked in one stream.
fn walk_streams<A: Automaton>(
    a: &A,
    data: &[u8],
    mut hit: impl FnMut(usize, usize, usize),
    min_split: usize,
) {
    let n = data.len();
    let Ok(start) = a.start_state(Anchored::No) else {
        return;
    };
    if n < min_split.max(STREAMS) {
        return walk(a, data, (0, n, 0), start, &mut hit);
    }
    let overlap = a.max_pattern_len().saturating_sub(1);
    let seg = n / STREAMS;
    let mut from = [0usize; STREAMS];
    let mut emit_from = [0usize; STREAMS];
    let mut to = [0usize; STREAMS];
    for j in 0..STREAMS {
        emit_from[j] = j * seg;
        from[j] = emit_from[j].saturating_sub(overlap);
        to[j] = if j + 1 == STREAMS { n } else { (j + 1) * seg };
    }
    // Every stream is at least `seg` long; walk that far together, then finish each.
    let common = (0..STREAMS).map(|j| to[j] - from[j]).min().unwrap_or(0);
    let seg = |j: usize| &data[from[j]..from[j] + common];
    let segs: [&[u8]; STREAMS] = std::array::from_fn(seg);
    let mut sid = [start; STREAMS];
    for i in 0..common {
        for j in 0..STREAMS {
            sid[j] = a.next_state(Anchored::No, sid[j], segs[j][i]);
        }
        if sid.iter().fold(false, |m, &s| m | a.is_match(s)) {
            for j in 0..STREAMS {
                let p = from[j] + i;
                if a.is_match(sid[j]) && p >= emit_from[j] {
                    report(a, sid[j], p + 1, &mut hit);
                }
            }
        }
    }
    for j in 0..STREAMS {
        walk(
            a,
            data,
            (from[j] + common, to[j], emit_from[j]),
            sid[j],
            &mut hit,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aho_corasick::AhoCorasick;

    fn all_hits(k: &Keywords, data: &[u8]) -> Vec<(usize, usize, usize)> {
        let mut v = Vec::new();
        k.for_each(data, |p, s, e| v.push((p, s, e)));
        v.sort_unstable();
        v
    }

    #[test]
    fn lockstep_walk_reports_exactly_the_overlapping_matches_of_a_plain_walk() {
        let patterns = ["pass", "password", "word", "key_", "api_key", "Token", "a"];
        let reference = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(patterns)
            .unwrap();
        let dfa = Keywords::build(&patterns, true).unwrap();
        let nfa = Keywords::build(&patterns, false).unwrap();
        // Lengths around the split threshold and segment edges, keywords straddling
        // every segment boundary.
        let unit = b"xx PassWord=1 api_KEY_token ";
        for len in [0, 1, 5, 1023, 1024, 1025, 2048, 4099, 10_007] {
            let data: Vec<u8> = unit.iter().copied().cycle().take(len).collect();
            let mut want: Vec<_> = reference
                .find_overlapping_iter(&data)
                .map(|m| (m.pattern().as_usize(), m.start(), m.end()))
                .collect();
            want.sort_unstable();
            assert_eq!(all_hits(&dfa, &data), want, "dfa, len {len}");
            assert_eq!(all_hits(&nfa, &data), want, "nfa, len {len}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
        /// Whatever the input and wherever the segment edges fall, the lockstep walk
        /// reports the same occurrences as the crate's own overlapping search.
        #[test]
        fn lockstep_walk_agrees_with_overlapping_search_on_any_input(
            parts in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::prelude::Just("PASSword".to_string()),
                    proptest::prelude::Just("api_key_".to_string()),
                    proptest::prelude::Just("ghp_".to_string()),
                    "[a-z_ =\n]{0,9}",
                ],
                0..900,
            )
        ) {
            let patterns = ["password", "pass", "word", "api_key", "key_", "ghp_", "_"];
            let data = parts.concat().into_bytes();
            let reference = AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(patterns)
                .unwrap();
            let mut want: Vec<_> = reference
                .find_overlapping_iter(&data)
                .map(|m| (m.pattern().as_usize(), m.start(), m.end()))
                .collect();
            want.sort_unstable();
            let dfa = Keywords::build(&patterns, true).unwrap();
            proptest::prop_assert_eq!(all_hits(&dfa, &data), want);
        }
    }
}
