//! Suppression: inline allow comments. A line holding `ferret:allow` is not reported;
//! `gitleaks:allow` and `pragma: allowlist secret` (detect-secrets) are honoured too,
//! so that teams can switch scanners without editing code.

/// Markers that, anywhere on a line, suppress findings on that line.
pub const INLINE_ALLOW_MARKERS: &[&str] =
    &["ferret:allow", "gitleaks:allow", "pragma: allowlist secret"];

/// True when `line` carries an inline allow marker.
pub fn line_is_allowed(line: &[u8]) -> bool {
    INLINE_ALLOW_MARKERS
        .iter()
        .any(|m| memchr::memmem::find(line, m.as_bytes()).is_some())
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
}
