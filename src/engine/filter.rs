//! Filters applied to every captured secret: the entropy gate and the placeholder
//! filter, plus stricter value checks for generic rules (password assignments and
//! the like), which must not fire on variables, lookups, templates or examples.

use crate::rules::Rule;

/// Shannon entropy of `bytes` in bits per byte (0 for empty input).
pub fn entropy(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[b as usize] += 1;
    }
    let n = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// Decides whether the secret at `data[start..end]` is reported for `rule`; returns
/// its entropy when it is.
pub fn accept(rule: &Rule, data: &[u8], start: usize, end: usize) -> Option<f64> {
    let secret = &data[start..end];
    let e = entropy(secret);
    if rule.min_entropy.is_some_and(|min| e < min) {
        return None;
    }
    if is_placeholder(secret) {
        return None;
    }
    if rule
        .stopwords
        .iter()
        .any(|w| secret.eq_ignore_ascii_case(w.as_bytes()))
    {
        return None;
    }
    if rule.generic
        && (!generic_value_ok(data, start, end)
            || encodes_placeholder(secret)
            || contains_ignore_ascii_case(secret, b"example"))
    {
        return None;
    }
    Some(e)
}

/// Words that mark a value as possibly made up for documentation or tests. A generic
/// value holding "example" is dropped; a value in a provider's exact token format is
/// still reported, at low confidence: real tokens do get pasted into examples and
/// fixtures, and the format alone says the string is worth a look.
const EXAMPLE_MARKERS: &[&str] = &["example", "sample", "test", "demo"];

/// True when the secret holds one of the [`EXAMPLE_MARKERS`].
pub fn looks_like_example(secret: &[u8]) -> bool {
    EXAMPLE_MARKERS
        .iter()
        .any(|m| contains_ignore_ascii_case(secret, m.as_bytes()))
}

/// Substrings that mark a value as a placeholder, a documented example or a template,
/// matched case-insensitively.
const PLACEHOLDER_MARKERS: &[&str] = &[
    // The example keys of the AWS documentation (AKIAIOSFODNN7EXAMPLE,
    // wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY) and the many keys derived from them.
    "iosfodnn7",
    "k7mdeng",
    "examplekey",
    // ... and its example session token (AQoDYXdzEPT//////////wEXAMPLE...).
    "//////////wexample",
    "placeholder",
    "changeme",
    "change_me",
    "change-me",
    "changethis",
    "your_",
    "your-",
    "yourkey",
    "yourtoken",
    "yoursecret",
    "yourpass",
    "insert_",
    "insert-",
    "replace_me",
    "replaceme",
    "redacted",
    "dummy",
    "xxxx",
    "****",
    "....",
    "${",
    "{{",
    "}}",
    "<%",
    "os.environ",
    "getenv",
    "process.env",
    "env[",
    "env(",
];

/// Runs of sequential characters: in a generic value they mark a made-up value. (Not
/// applied to specific token formats, whose alphabet and length already say much.)
const SEQUENCE_MARKERS: &[&str] = &["abcdefgh", "12345678", "%(", "$("];

/// True when the secret is a placeholder rather than a credential: a marker word,
/// `<your-key>`-style angle brackets, one character repeated, or a value ending in
/// `EXAMPLE` (the AWS documentation's convention for example key ids).
pub fn is_placeholder(secret: &[u8]) -> bool {
    if secret.len() >= 2 && secret[0] == b'<' && secret[secret.len() - 1] == b'>' {
        return true;
    }
    if secret.ends_with(b"EXAMPLE") {
        return true;
    }
    if secret.iter().all(|&b| b == secret[0]) {
        return true;
    }
    PLACEHOLDER_MARKERS
        .iter()
        .any(|m| contains_ignore_ascii_case(secret, m.as_bytes()))
}

fn contains_ignore_ascii_case(hay: &[u8], needle: &[u8]) -> bool {
    hay.len() >= needle.len()
        && hay
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

/// True when a generic value is base64 of a placeholder (`Y2hhbmdlbWU=`, "changeme"),
/// as in Kubernetes secrets too short for the decoding pass to pick up.
fn encodes_placeholder(value: &[u8]) -> bool {
    super::decode::decode(value, super::decode::Encoding::Base64).is_some_and(|d| {
        is_placeholder(&d)
            || NON_SECRET_VALUES
                .iter()
                .any(|w| d.eq_ignore_ascii_case(w.as_bytes()))
    })
}

/// Values a generic assignment commonly holds that are not secrets.
const NON_SECRET_VALUES: &[&str] = &[
    "true",
    "false",
    "null",
    "none",
    "nil",
    "undefined",
    "password",
    "passwd",
    "secret",
    "token",
    "required",
    "optional",
    "string",
    "empty",
    "default",
    "disabled",
    "enabled",
    "hidden",
    "masked",
    "notset",
    "not_set",
    "unset",
];

/// Stricter checks for generic rules: the value must look like a literal secret, not
/// a variable, a function call, a lookup or a template.
fn generic_value_ok(data: &[u8], start: usize, end: usize) -> bool {
    let v = &data[start..end];
    if NON_SECRET_VALUES
        .iter()
        .any(|w| v.eq_ignore_ascii_case(w.as_bytes()))
    {
        return false;
    }
    if SEQUENCE_MARKERS
        .iter()
        .any(|m| contains_ignore_ascii_case(v, m.as_bytes()))
    {
        return false;
    }
    if v.iter().any(|b| b"([]{}".contains(b)) || v.starts_with(b"$") || v.starts_with(b"%") {
        return false;
    }
    let quoted = start > 0 && matches!(data[start - 1], b'"' | b'\'' | b'`');
    if !quoted {
        // Unquoted words made only of identifier characters are variables or
        // constants in code (`password = user.password`), not literals.
        let identifier_like = v
            .iter()
            .all(|b| b.is_ascii_alphabetic() || matches!(b, b'_' | b'.' | b'-' | b':'));
        if identifier_like {
            return false;
        }
    }
    // A short run of only lowercase letters is a word, not a secret; a quoted run of
    // twelve or more is a passphrase.
    if v.iter().all(|b| b.is_ascii_lowercase()) && (!quoted || v.len() < 12) {
        return false;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_of_uniform_and_constant_strings() {
        assert_eq!(entropy(b"aaaa"), 0.0);
        assert!((entropy(b"abcd") - 2.0).abs() < 1e-9);
        assert_eq!(entropy(b""), 0.0);
    }

    #[test]
    fn documented_example_keys_are_placeholders() {
        assert!(is_placeholder(b"AKIAIOSFODNN7EXAMPLE"));
        assert!(is_placeholder(b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"));
        assert!(is_placeholder(
            b"AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQW"
        ));
    }

    #[test]
    fn example_words_inside_a_token_mark_it_without_making_it_a_placeholder() {
        let t = b"https://hooks.slack.com/triggers/T00EXAMPLE1/4817263950412/f0e1d2c3";
        assert!(looks_like_example(t));
        assert!(!is_placeholder(t));
        assert!(looks_like_example(b"sk-proj-TESTkey9Zq"));
        assert!(!looks_like_example(
            b"ghp_R4nd0mT0k3nV4lu3Qx9Zb2Lk7Pw1Mn5Hj8"
        ));
    }

    #[test]
    fn templates_and_markers_are_placeholders() {
        for p in [
            "<your-key>",
            "${DB_PASSWORD}",
            "{{ secret }}",
            "changeme",
            "xxxxxxxxxxxxxxxx",
            "os.environ['X']",
            "00000000",
        ] {
            assert!(is_placeholder(p.as_bytes()), "{p}");
        }
    }

    #[test]
    fn random_tokens_are_not_placeholders() {
        assert!(!is_placeholder(b"ghp_R4nd0mT0k3nV4lu3Qx9Zb2Lk7Pw1Mn5Hj8"));
        assert!(!is_placeholder(b"s3cr3t-Pa55w0rd!"));
    }

    #[test]
    fn generic_values_reject_identifiers_unless_quoted() {
        let line = b"password = user_password";
        assert!(!generic_value_ok(line, 11, line.len()));
        let line = b"password = \"kT9vQ2mLx8\"";
        assert!(generic_value_ok(line, 12, line.len() - 1));
        let line = b"password = getPass(x)";
        assert!(!generic_value_ok(line, 11, line.len()));
    }
}
