//! Findings: a confirmed secret with its location, context and a stable fingerprint.
//! Line and column are computed here, only for matches, never for every input byte.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::engine::{Engine, Match};
use crate::rules::Confidence;
use crate::source::char_len;

/// Where in history a finding was introduced (set by the history source).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Provenance {
    pub commit: String,
    pub author: String,
    pub email: String,
    pub date: String,
    pub summary: String,
    pub in_head: bool,
    /// Number of distinct commits that introduced the secret (added or changed a file
    /// to content holding it).
    pub commit_count: usize,
    /// Number of distinct paths at which those commits put it.
    pub path_count: usize,
    /// Every (commit, path) that introduced the secret, in topological order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub occurrences: Vec<Occurrence>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Occurrence {
    pub commit: String,
    pub path: String,
}

/// One secret found at one location.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Finding {
    pub rule_id: String,
    pub rule_name: String,
    pub confidence: Confidence,
    pub path: String,
    /// 1-based line of the secret's first byte.
    pub line: usize,
    /// 1-based column of the secret's first character (Unicode scalar values).
    pub column: usize,
    pub end_line: usize,
    /// 1-based column just past the secret's last character.
    pub end_column: usize,
    /// Byte offsets of the secret in the input, end exclusive.
    pub start_byte: usize,
    pub end_byte: usize,
    pub secret: String,
    /// The line holding the secret (shortened around it when very long).
    pub context: String,
    /// Depends only on rule and secret: the same secret moved elsewhere keeps it.
    pub fingerprint: String,
    pub entropy: f32,
    /// For a secret found inside encoded text: the encodings peeled off, outermost
    /// first (`base64`, `percent`, `base64+base64`); the location is the encoded span.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decoded: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", flatten)]
    pub provenance: Option<Provenance>,
    /// Found by a rule whose findings in tests, examples and documentation are made
    /// up (see [`crate::rules::Rule::made_up_in_tests`]).
    #[serde(skip)]
    pub made_up_in_tests: bool,
}

impl Finding {
    /// `ghp_Ab…(40)`: enough of the secret to recognise it, and its length.
    pub fn redacted_secret(&self) -> String {
        redact(&self.secret)
    }

    /// A copy with the secret replaced by its redacted form, in `secret` and in
    /// `context`. A context that does not hold the secret as it is (the secret was
    /// found decoded, or spans lines) may hold it in another form, and is emptied.
    pub fn redacted(&self) -> Finding {
        let shown = self.redacted_secret();
        let context = if self.decoded.is_none()
            && !self.secret.is_empty()
            && self.context.contains(&self.secret)
        {
            self.context.replace(&self.secret, &shown)
        } else {
            String::new()
        };
        Finding {
            secret: shown,
            context,
            ..self.clone()
        }
    }
}

/// Keeps a short prefix of a secret and its length in characters.
pub fn redact(secret: &str) -> String {
    let n = secret.chars().count();
    let keep = (n / 4).min(6);
    let prefix: String = secret.chars().take(keep).collect();
    format!("{prefix}…({n})")
}

/// The fingerprint of a secret for a rule: hex of the first 16 bytes of
/// SHA-256(rule id, NUL, secret).
pub fn fingerprint(rule_id: &str, secret: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(rule_id.as_bytes());
    h.update([0]);
    h.update(secret);
    hex::encode(&h.finalize()[..16])
}

const CONTEXT_MAX: usize = 300;
const CONTEXT_AROUND: usize = 100;
/// How much of a line before a secret its confidence is judged on: enough for the
/// key, the prose and the URI around it, and bounded so that a minified file's
/// megabytes-long line costs each finding no more than this.
const BEFORE_MAX: usize = 1024;

/// Turns sorted engine matches in `data` into findings, counting lines from `base`
/// (the start of a line at or before the first match, which is line 1). `allow`
/// decides, from the full line text, whether an inline allow comment suppresses the
/// finding. In `binary` data, the context is the run of printable text around the
/// secret, not the line. `layout` holds where `data`'s test code and documentation
/// lie ([`crate::engine::filter::Layout`]), found at the first finding and kept for
/// the input's further batches.
#[allow(clippy::too_many_arguments)]
pub fn build(
    engine: &Engine,
    data: &[u8],
    base: usize,
    matches: &[Match],
    path: &str,
    allow: &dyn Fn(&[u8]) -> bool,
    binary: bool,
    layout: &std::cell::OnceCell<crate::engine::filter::Layout>,
    out: &mut Vec<Finding>,
) {
    let mut line = 1usize;
    let mut counted_to = base;
    // The last single line looked at: its bounds, whether an inline allow covers it,
    // and how many characters precede the last match on it. Matches are sorted by
    // start, so those on one long line (a minified file's) are measured once, not
    // each from the line's start.
    let mut current: Option<(usize, usize, bool)> = None;
    let mut column_at = (0usize, 0usize);
    for m in matches {
        // Matches are sorted by start: count newlines incrementally.
        line += memchr::memchr_iter(b'\n', &data[counted_to..m.start]).count();
        counted_to = m.start;
        let (line_start, line_end, allowed) = match current {
            Some((s, e, allowed)) if s <= m.start && m.end <= e => (s, e, allowed),
            _ => {
                let s = memchr::memrchr(b'\n', &data[..m.start]).map_or(0, |i| i + 1);
                let e = memchr::memchr(b'\n', &data[m.end..]).map_or(data.len(), |i| m.end + i);
                let allowed = allow(&data[s..e]);
                if memchr::memchr(b'\n', &data[m.start..m.end]).is_none() {
                    current = Some((s, e, allowed));
                    column_at = (s, 0);
                }
                (s, e, allowed)
            }
        };
        let full_line = &data[line_start..line_end];
        if allowed {
            continue;
        }
        let column = if column_at.0 >= line_start && column_at.0 <= m.start {
            let chars = column_at.1 + char_len(&data[column_at.0..m.start]);
            column_at = (m.start, chars);
            1 + chars
        } else {
            1 + char_len(&data[line_start..m.start])
        };
        let span = &data[m.start..m.end];
        let newlines = memchr::memchr_iter(b'\n', span).count();
        let (end_line, end_column) = if newlines == 0 {
            (line, column + char_len(span))
        } else {
            let last_nl = memchr::memrchr(b'\n', span).unwrap_or(0);
            (line + newlines, 1 + char_len(&span[last_nl + 1..]))
        };
        let secret_bytes = m.secret(data);
        let (before, after) = match &m.decoded {
            Some(d) => (&d.before[..], &d.after[..]),
            None => (
                &data[line_start.max(m.start.saturating_sub(BEFORE_MAX))..m.start],
                &data[m.end..],
            ),
        };
        let (line_start, line_end, full_line) = if binary {
            let text = |b: &u8| (0x20..0x7f).contains(b) || *b == b'\t';
            let s = line_start
                + data[line_start..m.start]
                    .iter()
                    .rposition(|b| !text(b))
                    .map_or(0, |i| i + 1);
            let e = m.end
                + data[m.end..line_end]
                    .iter()
                    .position(|b| !text(b))
                    .unwrap_or(line_end - m.end);
            (s, e, &data[s..e])
        } else {
            (line_start, line_end, full_line)
        };
        let context = if full_line.len() <= CONTEXT_MAX {
            String::from_utf8_lossy(full_line)
                .trim_end_matches('\r')
                .to_string()
        } else {
            let a = m.start.saturating_sub(CONTEXT_AROUND).max(line_start);
            let b = (m.end + CONTEXT_AROUND).min(line_end).max(a);
            let b = b.min(a + CONTEXT_MAX + (m.end - m.start));
            format!(
                "{}{}{}",
                if a > line_start { "…" } else { "" },
                String::from_utf8_lossy(&data[a..b]),
                if b < line_end { "…" } else { "" }
            )
        };
        let rule = engine.rule(m.rule);
        out.push(Finding {
            rule_id: rule.id.clone(),
            rule_name: rule.name.clone(),
            confidence: crate::engine::filter::confidence(
                rule,
                secret_bytes,
                &data[..line_start],
                before,
                after,
                layout
                    .get_or_init(|| crate::engine::filter::Layout::of(data))
                    .place(line_start, m.start),
            ),
            path: path.to_string(),
            line,
            column,
            end_line,
            end_column,
            start_byte: m.start,
            end_byte: m.end,
            secret: String::from_utf8_lossy(secret_bytes).into_owned(),
            context,
            fingerprint: fingerprint(&rule.id, secret_bytes),
            entropy: (m.entropy * 100.0).round() / 100.0,
            decoded: m.decoded.as_ref().map(|d| {
                d.encodings
                    .iter()
                    .map(|e| e.name())
                    .collect::<Vec<_>>()
                    .join("+")
            }),
            provenance: None,
            made_up_in_tests: rule.made_up_in_tests(),
        });
    }
}

/// Turns the matches of file-header rules ([`Engine::find_header`]) on a binary input
/// into findings: each covers the whole input, at line 1, and its secret is the
/// input's SHA-256 (`sha256:…`), so the same file anywhere has the same fingerprint
/// and a changed one a new fingerprint.
pub fn build_header(engine: &Engine, data: &[u8], matches: &[Match], path: &str) -> Vec<Finding> {
    if matches.is_empty() {
        return Vec::new();
    }
    let secret = format!("sha256:{}", hex::encode(Sha256::digest(data)));
    matches
        .iter()
        .map(|m| {
            let rule = engine.rule(m.rule);
            Finding {
                rule_id: rule.id.clone(),
                rule_name: rule.name.clone(),
                confidence: rule.confidence,
                path: path.to_string(),
                line: 1,
                column: 1,
                end_line: 1,
                end_column: 1,
                start_byte: 0,
                end_byte: data.len(),
                context: format!("<binary file of {} bytes>", data.len()),
                fingerprint: fingerprint(&rule.id, secret.as_bytes()),
                secret: secret.clone(),
                entropy: (m.entropy * 100.0).round() / 100.0,
                decoded: None,
                provenance: None,
                made_up_in_tests: rule.made_up_in_tests(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_keeps_a_short_prefix_and_the_length() {
        assert_eq!(
            redact("ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"),
            "ghp_Ab…(40)"
        );
        assert_eq!(redact("hunter2"), "h…(7)");
        assert_eq!(redact("ab"), "…(2)");
    }

    #[test]
    fn fingerprint_depends_on_rule_and_secret_only() {
        let a = fingerprint("r1", b"secret-value");
        assert_eq!(a, fingerprint("r1", b"secret-value"));
        assert_ne!(a, fingerprint("r2", b"secret-value"));
        assert_ne!(a, fingerprint("r1", b"secret-valuf"));
        assert_eq!(a.len(), 32);
    }

    #[test]
    fn findings_on_one_line_get_their_own_columns_and_share_its_allow() {
        let engine = Engine::new(crate::rules::RuleSet::builtin().unwrap()).unwrap();
        let a = "ghp_k8Qz2LmX9vT4rW7nB3pY6hJ1sD5fG0aC2eRt";
        let b = "ghp_P3xN8qL1mZ6vR9tW2kY5jH7gF4dS0aB3cVuE";
        let findings = |text: &str| {
            let mut scratch = engine.new_scratch();
            let mut matches = Vec::new();
            engine.find(text.as_bytes(), &mut scratch, &mut matches);
            let mut out = Vec::new();
            build(
                &engine,
                text.as_bytes(),
                0,
                &matches,
                "t.js",
                &crate::suppress::line_is_allowed,
                false,
                &Default::default(),
                &mut out,
            );
            out.iter()
                .map(|f| (f.line, f.column, f.end_column))
                .collect::<Vec<_>>()
        };
        // Columns count characters (`é` is one), each from the line's start.
        let text = format!("x\nk='é {a}';é;j='{b}'\ny='{a}'\n");
        let first = 1 + "k='é ".chars().count();
        let second = 1 + format!("k='é {a}';é;j='").chars().count();
        assert_eq!(
            findings(&text),
            [(2, first, first + 40), (2, second, second + 40), (3, 4, 44)]
        );
        // An allow marker anywhere on the line covers every secret on it, and no other.
        let text = format!("k='{a}';j='{b}' // ferret:allow\ny='{a}'\n");
        assert_eq!(findings(&text), [(2, 4, 44)]);
    }

    #[test]
    fn char_len_counts_scalars() {
        assert_eq!(char_len("héllo".as_bytes()), 5);
        assert_eq!(char_len(b"\xff\xfeab"), 4);
    }
}
