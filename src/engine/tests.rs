use super::*;
use crate::rules::{RuleSet, parse_rule_file};
use std::path::Path;

fn engine(toml: &str) -> Engine {
    let mut set = RuleSet::default();
    set.extend(parse_rule_file(toml, Path::new("t.toml")).unwrap())
        .unwrap();
    Engine::new(set).unwrap()
}

const TOKEN_RULE: &str = r#"
[[rules]]
id = "t.tok"
name = "Test token"
keywords = ["tok_"]
regex = '\b(tok_[A-Za-z0-9]{20})\b'
"#;

fn find(e: &Engine, data: &[u8]) -> Vec<Match> {
    let mut s = e.new_scratch();
    let mut out = Vec::new();
    e.find(data, &mut s, &mut out);
    out
}

#[test]
fn finds_secret_span_not_whole_match() {
    let e = engine(TOKEN_RULE);
    let data = b"x = tok_Ab3dE5gH7jK9mN1pQ3sT end";
    let m = find(&e, data);
    assert_eq!(m.len(), 1);
    assert_eq!(&data[m[0].start..m[0].end], b"tok_Ab3dE5gH7jK9mN1pQ3sT");
}

#[test]
fn keywords_match_case_insensitively() {
    let e = engine(
        r#"
[[rules]]
id = "t.k"
name = "K"
keywords = ["SeCrEt"]
regex = '(?i)secret=([a-z0-9]{8})'
"#,
    );
    assert_eq!(find(&e, b"SECRET=a1b2c3d4").len(), 1);
}

#[test]
fn overlapping_keyword_windows_report_each_secret_once() {
    let e = engine(TOKEN_RULE);
    let data = b"tok_Ab3dE5gH7jK9mN1pQ3sT tok_Ab3dE5gH7jK9mN1pQ3sT";
    let m = find(&e, data);
    assert_eq!(m.len(), 2);
    assert_eq!((m[0].start, m[1].start), (0, 25));
}

#[test]
fn no_keyword_means_no_regex_run() {
    let e = engine(TOKEN_RULE);
    assert!(find(&e, b"nothing to see here").is_empty());
}

#[test]
fn secret_truncated_at_window_edge_is_not_reported_short() {
    // The window ends mid-token: the word boundary after the secret is checked
    // against the real input, so a partial token is not reported.
    let e = engine(
        r#"
[[rules]]
id = "t.w"
name = "W"
keywords = ["tk_"]
window = 16
regex = '\b(tk_[a-z]{10,40})\b'
"#,
    );
    let data = b"tk_abcdqwertyuiopasdfghjkl";
    assert!(find(&e, data).is_empty());
}

#[test]
fn specific_rule_shadows_generic_on_same_value() {
    let e = engine(
        r#"
[[rules]]
id = "generic.tok"
name = "G"
keywords = ["token"]
regex = 'token\s*=\s*(\S+)'
[[rules]]
id = "t.tok"
name = "Test token"
keywords = ["tok_"]
regex = '\b(tok_[A-Za-z0-9]{20})\b'
"#,
    );
    let m = find(&e, b"token = tok_Ab3dE5gH7jK9mN1pQ3sT");
    assert_eq!(m.len(), 1);
    assert_eq!(e.rule(m[0].rule).id, "t.tok");
}

#[test]
fn entropy_gate_drops_low_entropy_secrets() {
    let e = engine(
        r#"
[[rules]]
id = "t.e"
name = "E"
keywords = ["key="]
min_entropy = 3.0
regex = 'key=(\w{12})'
"#,
    );
    assert!(find(&e, b"key=abababababab").is_empty());
    assert_eq!(find(&e, b"key=a8Kq2Lm9Zx4T").len(), 1);
}

const PASSWORD_RULE: &str = r#"
[[rules]]
id = "generic.pw"
name = "Password"
keywords = ["password"]
regex = '(?i)password\s*[:=]\s*"?([^\s"]{8,})'
"#;

fn b64(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn decoded_secret(m: &Match) -> String {
    String::from_utf8(m.decoded.as_ref().expect("decoded").secret.clone()).unwrap()
}

#[test]
fn token_inside_base64_is_found_at_the_encoded_span() {
    let e = engine(TOKEN_RULE);
    let enc = b64("tok_Ab3dE5gH7jK9mN1pQ3sT");
    let data = format!("kind: Secret\ndata:\n  api: {enc}\n");
    let m = find(&e, data.as_bytes());
    assert_eq!(m.len(), 1);
    assert_eq!(&data[m[0].start..m[0].end], enc);
    assert_eq!(decoded_secret(&m[0]), "tok_Ab3dE5gH7jK9mN1pQ3sT");
    assert_eq!(
        m[0].decoded.as_ref().unwrap().encodings,
        vec![decode::Encoding::Base64]
    );
}

#[test]
fn decoded_value_is_judged_with_the_key_on_its_line() {
    // `password: <base64>`: the decoded value is the password, and replaces the
    // generic match on the encoded text.
    let e = engine(PASSWORD_RULE);
    let data = format!("password: {}\n", b64("Hx9#kLq2vWz!"));
    let m = find(&e, data.as_bytes());
    assert_eq!(m.len(), 1);
    assert_eq!(decoded_secret(&m[0]), "Hx9#kLq2vWz!");
}

#[test]
fn base64_inside_base64_is_decoded_to_the_depth_allowed() {
    let e = engine(TOKEN_RULE);
    let inner = b64("auth: tok_Ab3dE5gH7jK9mN1pQ3sT");
    let data = format!("config: {}\n", b64(&format!("{{\"x\": \"{inner}\"}}")));
    let m = find(&e, data.as_bytes());
    assert_eq!(m.len(), 1);
    assert_eq!(decoded_secret(&m[0]), "tok_Ab3dE5gH7jK9mN1pQ3sT");
    assert_eq!(m[0].decoded.as_ref().unwrap().encodings.len(), 2);
    let shallow = engine(TOKEN_RULE).with_decode_depth(1);
    assert!(find(&shallow, data.as_bytes()).is_empty());
    let off = engine(TOKEN_RULE).with_decode_depth(0);
    assert!(
        find(
            &off,
            format!("a: {}", b64("tok_Ab3dE5gH7jK9mN1pQ3sT")).as_bytes()
        )
        .is_empty()
    );
}

#[test]
fn an_encoded_value_matched_plain_and_decoded_is_reported_once_decoded() {
    // One rule knows the token's base64 form, another finds the token once decoded.
    let rules = format!(
        "{TOKEN_RULE}
[[rules]]
id = \"t.tok-b64\"
name = \"Test token, base64\"
keywords = [\"dG9rX\"]
regex = '\\b(dG9rX[A-Za-z0-9+/]{{20,}}={{0,2}})'
"
    );
    let e = engine(&rules);
    let enc = b64("tok_Ab3dE5gH7jK9mN1pQ3sT");
    let data = format!("api: {enc}\n");
    let m = find(&e, data.as_bytes());
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(e.rule(m[0].rule).id, "t.tok");
    assert_eq!(decoded_secret(&m[0]), "tok_Ab3dE5gH7jK9mN1pQ3sT");
    // Without decoding, the base64 rule reports the encoded form.
    let plain_only = engine(&rules).with_decode_depth(0);
    let m = find(&plain_only, data.as_bytes());
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(plain_only.rule(m[0].rule).id, "t.tok-b64");
}

#[test]
fn percent_encoded_token_is_found() {
    let e = engine(TOKEN_RULE);
    let data = b"https://h/cb?state=%7B%22t%22%3A%22tok_Ab3dE5gH7jK9mN1pQ3sT%22%7D";
    let m = find(&e, data);
    assert_eq!(m.len(), 1);
    assert_eq!(decoded_secret(&m[0]), "tok_Ab3dE5gH7jK9mN1pQ3sT");
}

#[test]
fn plain_secret_is_not_reported_twice_through_decoding() {
    let e = engine(TOKEN_RULE);
    let data = b"tok_Ab3dE5gH7jK9mN1pQ3sT and some base64 aGVsbG8gd29ybGQgMTIzNA==";
    let m = find(&e, data);
    assert_eq!(m.len(), 1);
    assert!(m[0].decoded.is_none());
}

#[test]
fn decoding_is_bounded_on_input_made_of_encoded_text() {
    // Every line a base64 span holding a token: the rescanned bytes stay within the
    // budget (input size + 64 KiB), so the work stays linear.
    let e = engine(TOKEN_RULE);
    let line = format!("{}\n", b64("x tok_Ab3dE5gH7jK9mN1pQ3sT y"));
    let data = line.repeat(20_000);
    let m = find(&e, data.as_bytes());
    assert!(!m.is_empty());
    assert!(m.len() <= 20_000);
}

mod prop {
    use super::*;
    use crate::finding;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// A planted token is found at the right line and column whatever surrounds it.
        #[test]
        fn planted_token_found_at_right_line_and_column(
            before in proptest::collection::vec("[ -~]{0,40}", 0..6),
            prefix in "[ ,;:=(\"'a-z\t]{0,10}",
            suffix in "[ ,;)\"'\t]{0,10}",
            after in proptest::collection::vec("[ -~]{0,40}", 0..4),
        ) {
            let e = engine(TOKEN_RULE);
            let token = "tok_Zq8vL2mK9xT4rW7nB3pY";
            // Surrounding text must not itself form a token next to ours.
            let prefix = prefix.trim_end_matches(|c: char| c.is_ascii_alphanumeric()).to_string();
            let mut text = String::new();
            for l in &before { text.push_str(&l.replace("tok_", "t_k")); text.push('\n'); }
            text.push_str(&prefix);
            text.push_str(token);
            text.push_str(&suffix);
            for l in &after { text.push('\n'); text.push_str(&l.replace("tok_", "t_k")); }
            let m = find(&e, text.as_bytes());
            prop_assert_eq!(m.len(), 1);
            let mut fs = Vec::new();
            finding::build(&e, text.as_bytes(), 0, &m, "p", &|_| false, false, &Default::default(), &mut fs);
            prop_assert_eq!(fs[0].line, before.len() + 1);
            prop_assert_eq!(fs[0].column, prefix.chars().count() + 1);
            prop_assert_eq!(fs[0].secret.as_str(), token);
        }
    }
}

#[test]
fn der_key_framing_without_its_key_is_not_a_key_file() {
    // PKCS#8 Ed25519: the whole 48-byte key, and its first 16 bytes alone (a
    // template: the SEQUENCE declares 46 bytes that are not there).
    let mut key = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    assert!(!der_fits(&key));
    key.extend((0u8..32).map(|i| i.wrapping_mul(37) ^ 0x5a));
    assert!(der_fits(&key));
    // Long-form lengths: 0x82 0x04 0xbd declares 1,213 bytes after a 4-byte header.
    let mut rsa = vec![0x30, 0x82, 0x04, 0xbd];
    rsa.resize(1216, 0);
    assert!(!der_fits(&rsa));
    rsa.push(0);
    assert!(der_fits(&rsa));
    assert!(!der_fits(&[0x30, 0x82, 0x04]), "length cut off");
    // Other headers, and BER's indefinite length, are not judged.
    assert!(der_fits(&[0xfe, 0xed, 0xfe, 0xed]));
    assert!(der_fits(&[0x30, 0x80, 0x02]));
    let e = Engine::new(RuleSet::builtin().unwrap()).unwrap();
    let mut s = e.new_scratch();
    let (mut whole, mut template) = (Vec::new(), Vec::new());
    e.find_header(&key, &mut s, &mut whole);
    e.find_header(&key[..16], &mut s, &mut template);
    assert_eq!(whole.len(), 1);
    assert!(template.is_empty());
}
