//! Filters applied to every captured secret: the entropy gate and the placeholder
//! filter, plus stricter value checks for generic rules (password assignments and
//! the like), which must not fire on variables, lookups, templates or examples.

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;

use super::paths::is_made_up_path;
use crate::rules::{Checksum, Confidence, Rule};

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
// Kept out of line: inlined into the engine's window loop, the filters cost that hot
// loop 4 to 5% of the directory scan in code layout, for calls that take under 0.1%.
#[inline(never)]
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
        .checksum
        .is_some_and(|c| !super::checksum::holds(c, secret))
    {
        return None;
    }
    // A short base64 value is decoded once, for both checks of what it encodes.
    let decoded = short_base64_text(secret);
    if decoded.as_deref().is_some_and(is_placeholder_credentials) {
        return None;
    }
    if rule
        .stopwords
        .iter()
        .any(|w| secret.eq_ignore_ascii_case(w.as_bytes()))
    {
        return None;
    }
    // Words joined by hyphens (`pa-1-protect-and-limit-highly-privileged`, a URL
    // fragment); for a provider's rule two words (`Mandrillus_leucophaeus`, a species
    // in a phylogenetic tree, after the genus that names the provider); or, for a
    // rule that needs context, a type's or a camel-case name
    // (`AlibabaCloudNoCredentialsError`, `sharePagerDutyAction`): names, not keys. (Identifier rules, of low
    // confidence, report names such as bucket names on purpose.)
    if rule.confidence > Confidence::Low
        && (is_slug(secret) || !rule.free_form && is_two_word_identifier(secret))
        || rule.confidence == Confidence::Medium && {
            let name = without_generation_number(secret);
            is_type_name(name)
                || is_pascal_name(name)
                || is_camel_name(name, 3)
                || is_attribute_access(name)
                || is_secret_variable(name)
        }
    {
        return None;
    }
    if is_commit_pin(data, start, end) {
        return None;
    }
    // An escaped newline where the value would be: the assignment is empty
    // (`"client_secret=\nwarnings_ignored_sources=/junk/\n"`).
    if rule.free_form && (secret.starts_with(b"\\n") || secret.starts_with(b"\\r\\n")) {
        return None;
    }
    // Key rules match DER in base64 by design; any other rule's value holding it is a
    // certificate pasted where a token goes (the AWS documentation's example session
    // token is a slice of a certificate), not a credential.
    if !rule.id.starts_with("private-keys.")
        && (holds_base64_der(secret) || in_base64_run(data, start, end))
    {
        return None;
    }
    // A protein's sequence (`LTAIIGAPWFVWLLVRMR` in a FASTA file, `SAAELAQPLD…` in a
    // GenBank record's translation): a provider's uppercase prefix by chance; or a
    // gradient in an image's bytes (`ACCAACFGKPTWZVURSMIF`).
    if !rule.free_form
        && (in_sequence_data(data, start, end)
            || rule.confidence > Confidence::Low && secret.len() <= 40 && has_sorted_run(secret))
    {
        return None;
    }
    // A Hugging Face model card's `verifyToken`: the Hub's signature over evaluation
    // results, published with them, not a credential.
    if rule.id == "credentials.jwt"
        && memchr::memmem::find(&data[start.saturating_sub(32)..start], b"verifyToken").is_some()
    {
        return None;
    }
    // A UUID that is a record's id (`"id": "f718e9ba-…"` in a Splunk destination's
    // JSON), or a request's idempotency token, near a provider's name.
    if is_uuid(secret) && names_an_id(key_before(data, start)) {
        return None;
    }
    // A file's checksum in a manifest (`"css-typed-om/…/iterable.html": "06fef860…"`,
    // a test suite's `md5.txt`): a provider's name in the file's name is chance.
    if is_hex_digest(secret) && names_a_file(key_before(data, start)) {
        return None;
    }
    // A digest on a line that calls it a checksum (`checksum/passwords-secret: 7184…`, a
    // Helm chart's annotation that restarts pods when the Secret changes).
    if is_hex_digest(secret) && {
        let line = last_line(&data[start.saturating_sub(128)..start]);
        contains_ignore_ascii_case(line, b"checksum")
    } {
        return None;
    }
    if in_badge_url(data, start)
        || (rule.free_form
            && (is_call(secret)
                // A regular expression's class (`https://[^:]+:[^@]+@bitbucket.org`).
                || memchr::memmem::find(secret, b"[^").is_some()
                || is_prompt_fragment(secret)
                || is_word_in_any_script(secret)
                || names_a_password_constant(secret)
                || is_annotated_assignment(secret)
                || is_port_mapping(secret)
                || is_bit_syntax_segment(secret)
                || is_type_spelling(secret)
                || is_union_type(secret)
                || is_parameter_annotation(secret)
                || is_option_flag(secret)
                || is_declared_type(secret, data, start)
                || is_elided(secret)
                || is_format_template(secret, &data[end..])
                || in_template_statement(data, start)
                || is_substitution_marker(secret)))
    {
        return None;
    }
    if rule.generic
        && (!generic_value_ok(data, start, end)
            || decoded.as_deref().is_some_and(is_placeholder_value)
            // A number in base64 (`"token": "MzUxODM3NTQzMDAwMDA1ODI4MA=="`): an id.
            || decoded
                .as_deref()
                .is_some_and(|t| t.len() >= 6 && t.iter().all(u8::is_ascii_digit))
            || contains_ignore_ascii_case(secret, b"example")
            || {
                let key = key_before(data, start);
                // A WebRTC session description's ICE password (`a=ice-pwd:…`), made
                // for one call and sent in the clear to set it up.
                is_non_secret_token_key(key)
                    || key.eq_ignore_ascii_case(b"ice-pwd")
                    || in_acme_challenge(data, start, key)
                    || in_ant_filter(data, start)
            })
    {
        return None;
    }
    Some(e)
}

/// True for a constant's name between the marks a packaging tool substitutes
/// (`'_DBC_DBPASS_'`, dbconfig-common's template; `@DB_PASSWORD@`, autoconf's;
/// `%DB_PASS%`), or a pipeline parameter's between `#` (`#taxonomy_pass#`, eHive's):
/// the real value is written in at install or run time.
fn is_substitution_marker(v: &[u8]) -> bool {
    if v.len() < 5 || v[v.len() - 1] != v[0] {
        return false;
    }
    let name = &v[1..v.len() - 1];
    // eHive's parameters, in lowercase (`-pass => "#taxonomy_pass#"`).
    if v[0] == b'#' {
        return name.contains(&b'_')
            && name
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_');
    }
    matches!(v[0], b'_' | b'@' | b'%')
        && name
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_')
        && name.iter().any(u8::is_ascii_uppercase)
}

/// Where a free-form value ends: before a closing parenthesis that it does not open
/// when its line opened one before it and the value is not quoted (`-- Seed default
/// admin user (password: admin123)` gives `admin123`). A value that opens its own
/// (`pa(ss)`) or stands in quotes keeps its parentheses.
pub fn value_end(rule: &Rule, data: &[u8], start: usize, end: usize) -> usize {
    let secret = &data[start..end];
    if !rule.free_form
        || secret.len() < 2
        || secret.last() != Some(&b')')
        || start
            .checked_sub(1)
            .is_some_and(|i| matches!(data[i], b'"' | b'\'' | b'`'))
    {
        return end;
    }
    let depth = |text: &[u8]| {
        text.iter().fold(0isize, |d, b| match b {
            b'(' => d + 1,
            b')' => d - 1,
            _ => d,
        })
    };
    // The line before the value, looked at over a bounded distance.
    let from = start.saturating_sub(256);
    let line =
        &data[memchr::memrchr(b'\n', &data[from..start]).map_or(from, |i| from + i + 1)..start];
    if depth(secret) < 0 && depth(line) > 0 {
        end - 1
    } else {
        end
    }
}

/// True for a value cut short by an ellipsis (`!vault...`, `s3cr…`): a document's
/// stand-in for a value it does not show.
fn is_elided(v: &[u8]) -> bool {
    v.ends_with(b"...") || v.ends_with("\u{2026}".as_bytes())
}

/// True for an unquoted value inside a Jinja or Django template's statement
/// (`{% set passwd = item.pass_key|string+" "+item.password %}`): an expression, as a
/// literal there would be quoted.
fn in_template_statement(data: &[u8], start: usize) -> bool {
    if start == 0 || matches!(data[start - 1], b'"' | b'\'' | b'`') {
        return false;
    }
    let from = start.saturating_sub(256);
    let line = memchr::memrchr(b'\n', &data[from..start]).map_or(from, |i| from + i + 1);
    let before = &data[line..start];
    memchr::memmem::rfind(before, b"{%")
        .is_some_and(|open| memchr::memmem::find(&before[open..], b"%}").is_none())
}

/// True for a printf-style template that code fills in: named conversions
/// (`"%(user)s:%(password)s"`), or `%s`, `%d` or `%v` in a string Python's `%`
/// operator formats (`'storage-systems/%s' % ssid`). Only so: a Django key's alphabet
/// holds `%` and `(`, and one in fifty of them holds `%s` by chance.
fn is_format_template(v: &[u8], after: &[u8]) -> bool {
    let named = v.windows(2).enumerate().any(|(i, w)| {
        w == b"%(" && {
            let name = v[i + 2..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                .count();
            name > 0
                && matches!(
                    v.get(i + 2 + name..i + 4 + name),
                    Some([b')', b's' | b'd' | b'r'])
                )
        }
    });
    let formatted = || {
        let rest = after
            .strip_prefix(b"'")
            .or_else(|| after.strip_prefix(b"\""))
            .map(<[u8]>::trim_ascii_start);
        rest.and_then(|r| r.strip_prefix(b"%")).is_some_and(|r| {
            r.trim_ascii_start()
                .first()
                .is_some_and(|b| b.is_ascii_alphabetic() || matches!(b, b'_' | b'('))
        }) && v
            .windows(2)
            .any(|w| w[0] == b'%' && matches!(w[1], b's' | b'd' | b'v'))
    };
    named || formatted()
}

/// True for a container's port mapping (`1337:1337`, `8080:80/tcp`), which a `-p`
/// rule reads as a password when `docker run -p` shares a line with a client's name.
fn is_port_mapping(v: &[u8]) -> bool {
    let v = v
        .strip_suffix(b"/tcp")
        .or_else(|| v.strip_suffix(b"/udp"))
        .unwrap_or(v);
    let mut parts = v.split(|&b| b == b':');
    let (Some(a), Some(b), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    [a, b]
        .iter()
        .all(|p| (1..=5).contains(&p.len()) && p.iter().all(u8::is_ascii_digit))
}

/// The types of an Erlang bit-syntax segment (`Name:Size/Type`).
const BIT_SYNTAX_TYPES: &[&str] = &[
    "binary",
    "bytes",
    "bits",
    "bitstring",
    "integer",
    "float",
    "utf8",
    "utf16",
    "utf32",
];

/// True for the size and type of an Erlang bit-syntax segment, taken for the value
/// when the segment's variable names a password (`NewBinPwd:Sz2/binary`, in the SSH
/// application's parsing of a password change): a variable or a number, `/`, then a
/// type, perhaps with specifiers (`Len/binary-unit:8`).
fn is_bit_syntax_segment(v: &[u8]) -> bool {
    let Some(slash) = memchr::memchr(b'/', v) else {
        return false;
    };
    let (size, kind) = (&v[..slash], &v[slash + 1..]);
    let kind = &kind[..kind.iter().position(|&b| b == b'-').unwrap_or(kind.len())];
    !size.is_empty()
        && size.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
        && (size[0].is_ascii_uppercase() || size.iter().all(u8::is_ascii_digit))
        && one_of(kind, BIT_SYNTAX_TYPES)
}

/// True for a C or C++ type as a generated binding spells it (`sPassword: 'CString
/// const &'`, SWIG's annotations in ZNC's Python module; `const char *`): words and
/// then a reference or pointer mark.
fn is_type_spelling(v: &[u8]) -> bool {
    let mut words = v.split(|&b| b == b' ').filter(|w| !w.is_empty());
    let Some(mark) = words.next_back() else {
        return false;
    };
    // Two words or more (`CString const`), or a qualified name (`std::string`).
    let (mut names, mut qualified) = (0, false);
    matches!(mark, b"&" | b"&&" | b"*")
        && words.all(|w| {
            names += 1;
            qualified |= memchr::memmem::find(w, b"::").is_some();
            w.iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b':' | b'<' | b'>'))
        })
        && (names >= 2 || qualified)
}

/// Python's built-in types as annotations name them where a secret's value would be.
const BUILTIN_TYPES: &[&str] = &["str", "bytes", "int", "Any", "SecretStr"];

/// True for a Python type union in a value's place, where a field is annotated and
/// not assigned (`jwt_secret: str | None`, `password: Optional[str] | SecretStr`):
/// names, perhaps subscripted, joined by ` | `, one of them a built-in type.
fn is_union_type(v: &[u8]) -> bool {
    let mut parts = 0;
    let mut builtin = false;
    for part in v.split(|&b| b == b'|') {
        let part = part.trim_ascii();
        let name = &part[..memchr::memchr(b'[', part).unwrap_or(part.len())];
        let subscript = &part[name.len()..];
        if name.is_empty()
            || !name[0].is_ascii_alphabetic()
            || !name
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.'))
            || !(subscript.is_empty() || subscript.ends_with(b"]"))
        {
            return false;
        }
        parts += 1;
        builtin |= one_of(name, &["None"]) || one_of(name, BUILTIN_TYPES);
    }
    parts >= 2 && builtin
}

/// True for a built-in type closing a parameter's annotation in a value's place
/// (`def _derive_key_from_jwt(jwt_secret: str) -> bytes:`): the type, then the
/// parameter list's `)` or `,`, or a default's ` =`.
fn is_parameter_annotation(v: &[u8]) -> bool {
    BUILTIN_TYPES
        .iter()
        .chain(&["bool", "Optional[str]"])
        .any(|t| {
            v.strip_prefix(t.as_bytes()).is_some_and(|rest| {
                rest.starts_with(b")") || rest.starts_with(b",") || rest.starts_with(b" =")
            })
        })
}

/// True for a type in a value's place after a declaration's name (`var password:
/// SecureString?`, Kotlin; `let token: String`, Swift; `(val secret: CharArray)`): `var`,
/// `val`, `let` or `const`, a name, a colon, then a capitalised type's name, perhaps
/// qualified, generic, an array or nullable.
fn is_declared_type(v: &[u8], data: &[u8], start: usize) -> bool {
    if !v.first().is_some_and(u8::is_ascii_uppercase)
        || !v.iter().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(b, b'_' | b'.' | b'?' | b'!' | b'<' | b'>' | b'[' | b']')
        })
    {
        return false;
    }
    let line = last_line(&data[..start]);
    let Some(named) = line.trim_ascii_end().strip_suffix(b":") else {
        return false;
    };
    let name_len = named
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
        .count();
    let declared = named[..named.len() - name_len].trim_ascii_end();
    name_len > 0
        && declared.len() < named.len() - name_len
        && ["var", "val", "let", "const"].iter().any(|k| {
            declared.strip_suffix(k.as_bytes()).is_some_and(|rest| {
                rest.last()
                    .is_none_or(|b| b.is_ascii_whitespace() || matches!(b, b'(' | b',' | b'{'))
            })
        })
}

/// True for a command-line option in a value's place (`pass="-otherbuild"`, a build
/// pass's suffix in glibc's Debian rules; `--no-password`): a dash or two, then a
/// lowercase word, perhaps hyphenated.
fn is_option_flag(v: &[u8]) -> bool {
    let word = v
        .strip_prefix(b"--")
        .or(v.strip_prefix(b"-"))
        .unwrap_or(b"");
    word.len() >= 3
        && word[0].is_ascii_lowercase()
        && word.iter().all(|b| b.is_ascii_lowercase() || *b == b'-')
}

/// True for a type annotation and the start of its assignment, taken for the value
/// when a key is annotated (`jwt_secret_key: str = ""` gives `str = "`): a type's
/// name (`str`, `Optional[str]`, `SecretStr | None`), then ` = `.
fn is_annotated_assignment(v: &[u8]) -> bool {
    memchr::memmem::find(v, b" = ").is_some_and(|eq| {
        let ty = &v[..eq];
        // Spaces only beside `|` and `,` (`str | None`, `Dict[str, str]`): not words.
        let lone_space = ty.iter().enumerate().any(|(i, &b)| {
            b == b' '
                && !matches!(ty.get(i + 1), Some(b'|'))
                && !matches!(i.checked_sub(1).map(|j| ty[j]), Some(b'|' | b','))
        });
        ty.first().is_some_and(u8::is_ascii_alphabetic)
            && !lone_space
            && ty.iter().all(|b| {
                b.is_ascii_alphanumeric()
                    || matches!(b, b'_' | b'.' | b'[' | b']' | b',' | b' ' | b'|')
            })
    })
}

/// True for a constant's name in capitals that says it stands for a password
/// (`AODH_DBPASS`, `RABBIT_PASS`, `DB_PASSWORD`, `API_TOKEN`): the placeholder the
/// OpenStack installation guides and many others write into connection URIs and
/// configuration, for the reader to replace.
fn names_a_password_constant(v: &[u8]) -> bool {
    v.len() >= 4
        && v.iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_')
        && v.first().is_some_and(u8::is_ascii_uppercase)
        && ["PASS", "PWD", "SECRET", "TOKEN", "KEY"].iter().any(|w| {
            // At a word's edge (`DBPASS`, `PASS_1`): inside a run of capitals, as
            // in a base32 secret, the letters fall so by chance.
            memchr::memmem::find_iter(v, w.as_bytes()).any(|i| {
                let end = i + w.len();
                i == 0 || v[i - 1] == b'_' || end == v.len() || v[end] == b'_'
            })
        })
}

/// True for an attribute read off an object (`self.qdrant_config.qdrant_api_key`,
/// `settings.stripe.secret`, `test_config.qdrant_config.api_key`): a lowercase
/// object's name in snake case, then names, at least two of them. A token format
/// that admits dots is caught by it only if its every piece reads as a word.
fn is_attribute_access(v: &[u8]) -> bool {
    let Some(dot) = memchr::memchr(b'.', v) else {
        return false;
    };
    dot >= 2
        && v[0].is_ascii_lowercase()
        && v[..dot]
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_')
        && v[dot + 1..].contains(&b'.')
        && is_property_path(v)
}

/// True for a variable's name in snake case that names a secret
/// (`private_key_passphrase=key_passphrase`): the code passes the secret on, it does
/// not hold it.
fn is_secret_variable(v: &[u8]) -> bool {
    v.contains(&b'_')
        && v.iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_')
        && names_a_secret(v)
}

/// True for the token of an ACME challenge (RFC 8555: `"type": "http-01", …,
/// "token": "MUi-gq…"`, or under a challenge's ACME URL or error): the certificate authority hands it out to be published at a
/// well-known URL or in DNS, so it is public by design.
fn in_acme_challenge(data: &[u8], start: usize, key: &[u8]) -> bool {
    key.trim_ascii().eq_ignore_ascii_case(b"token") && {
        let near = &data[start.saturating_sub(256)..start];
        ["http-01", "dns-01", "tls-alpn-01", "/acme/chall", ":acme:"]
            .iter()
            .any(|t| memchr::memmem::find(near, t.as_bytes()).is_some())
    }
}

/// True for a git commit pinned after a repository (`…/weave-stainless.git@9ce4f07…`
/// in a `git+https` requirement, `uses: org/action@<sha>` in a workflow): 40 hex
/// digits right after `@`, with a path before them, are a commit's name.
fn is_commit_pin(data: &[u8], start: usize, end: usize) -> bool {
    end - start == 40
        && data[start..end].iter().all(u8::is_ascii_hexdigit)
        && start > 0
        && data[start - 1] == b'@'
        && run_before(data, start - 1, |b| matches!(b, b'"' | b'\'')).contains(&b'/')
}

/// `v` without a trailing `_` and number: a class generated a second time carries one
/// (`FastlyAccountCreateRequestData_1`).
fn without_generation_number(v: &[u8]) -> &[u8] {
    match memchr::memrchr(b'_', v) {
        Some(u) if u + 1 < v.len() && v[u + 1..].iter().all(u8::is_ascii_digit) => &v[..u],
        _ => v,
    }
}

/// The name a value is assigned to: the identifier before the separator (`:`, `=`,
/// `=>`) and quotes that precede `start`, as in `"NextToken": "…"` or
/// `page_token = …`, or the words of a label in prose (`Next page token: …`). Empty
/// when there is none.
fn key_before(data: &[u8], start: usize) -> &[u8] {
    let lo = start.saturating_sub(128);
    let mut i = start;
    // The value's opening quote, then the separator with its spaces and quotes.
    let mut skipped = 0;
    while i > lo && skipped < 12 && b" \t\"'`:=>+]".contains(&data[i - 1]) {
        i -= 1;
        skipped += 1;
    }
    let end = i;
    let word = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.');
    // Single spaces between words too, for a label of a few words.
    while i > lo
        && (word(data[i - 1])
            || (data[i - 1] == b' ' && i - 1 > lo && word(data[i - 2]) && end - i < 32))
    {
        i -= 1;
    }
    &data[i..end]
}

/// How many base64 characters a PEM block holds between its `BEGIN` and `END` lines.
fn pem_body_len(block: &[u8]) -> usize {
    let body_start = memchr::memmem::find(block, b"-----")
        .and_then(|i| memchr::memmem::find(&block[i + 5..], b"-----").map(|j| i + 5 + j + 5))
        .unwrap_or(0);
    let body_end = memchr::memmem::rfind(block, b"-----END").unwrap_or(block.len());
    block[body_start..body_end.max(body_start)]
        .iter()
        .filter(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/'))
        .count()
}

/// True for a hex digest's length of hex digits: MD5, SHA-1, SHA-224, SHA-256,
/// SHA-384 or SHA-512.
fn is_hex_digest(v: &[u8]) -> bool {
    matches!(v.len(), 32 | 40 | 56 | 64 | 96 | 128) && v.iter().all(u8::is_ascii_hexdigit)
}

/// True for a key that is a file's name: a name, then a dot and an extension of a
/// file a checksum manifest lists (`contain-size-scrollbars-001.html`, `app.js`).
fn names_a_file(key: &[u8]) -> bool {
    let Some(dot) = memchr::memrchr(b'.', key) else {
        return false;
    };
    dot > 0
        && one_of(
            &key[dot + 1..],
            &[
                "html", "htm", "xht", "xhtml", "svg", "js", "mjs", "cjs", "css", "json", "png",
                "jpg", "jpeg", "gif", "webp", "ico", "woff", "woff2", "ttf", "wasm", "map", "txt",
                "xml", "pdf", "zip", "gz", "tgz", "whl", "jar", "so", "dll", "exe",
            ],
        )
}

/// Names of tokens that are not credentials: pagination cursors (`NextToken`,
/// `nextPageToken`, `ContinuationToken`), idempotency and change tokens, the
/// verification tokens a service publishes in DNS, and AWS KMS grant tokens (which
/// AWS documents as not secret). Matched at the end of the key, ignoring case and
/// `_`, `-`, `.`.
const NON_SECRET_TOKEN_KEYS: &[&str] = &[
    "nexttoken",
    "pagetoken",
    "continuationtoken",
    "paginationtoken",
    "changetoken",
    "synctoken",
    "purchasetoken",
    "exporttoken",
    "importtoken",
    "verificationtoken",
    // The Hugging Face Hub's signature over a model card's evaluation results.
    "verifytoken",
    "idempotencytoken",
    "clientrequesttoken",
    "copyproducttoken",
    "granttoken",
    "csrftoken",
    "xsrftoken",
    "versiontoken",
    // A search engine's id for an image in its results (DuckDuckGo's `image_token`).
    "imagetoken",
    // A secret's digest, as detect-secrets' `.secrets.baseline` lists each finding.
    "hashedsecret",
    // A token's digest, as GitHub's OAuth authorizations API lists each token
    // (`hashed_token`, beside `token_last_eight`): a digest authenticates nothing.
    "hashedtoken",
];

/// True for the name of an identifier (`id`, `uuid`, `"_id"`, `guid`) or of a token
/// that is not a credential ([`is_non_secret_token_key`]).
fn names_an_id(key: &[u8]) -> bool {
    let name = key.trim_ascii_start();
    let name = name.strip_prefix(b"_").unwrap_or(name);
    one_of(name, &["id", "uuid", "guid"]) || is_non_secret_token_key(key)
}

fn is_non_secret_token_key(key: &[u8]) -> bool {
    // Compared from the end, skipping separators: nothing is allocated per candidate.
    let ends_with = |word: &str| {
        let mut k = key
            .iter()
            .rev()
            .filter(|b| !matches!(b, b'_' | b'-' | b'.' | b' '))
            .map(u8::to_ascii_lowercase);
        word.bytes().rev().all(|w| k.next() == Some(w))
    };
    key.len() >= 9 && NON_SECRET_TOKEN_KEYS.iter().any(|w| ends_with(w))
}

/// True when `after` (the text after a secret) is `@` and a host of a domain reserved
/// for documentation (RFC 2606: `example.com`, `example.net`, `example.org` and their
/// subdomains, the `.example` and `.invalid` top-level domains): a credential in a URI
/// to such a host was written for an example.
fn at_example_host(after: &[u8]) -> bool {
    let Some(rest) = after.strip_prefix(b"@") else {
        return false;
    };
    let end = rest
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_')))
        .unwrap_or(rest.len());
    let host = rest[..end].to_ascii_lowercase();
    let host = host.strip_suffix(b".").unwrap_or(&host);
    [
        "example.com",
        "example.net",
        "example.org",
        "example",
        "invalid",
    ]
    .iter()
    .any(|d| {
        host == d.as_bytes()
            || (host.len() > d.len()
                && host.ends_with(d.as_bytes())
                && host[host.len() - d.len() - 1] == b'.')
    })
}

/// Base64 of DER that every certificate holds, at each of the three byte alignments:
/// the start of an X.509 name attribute (OID 2.5.4.x, `06 03 55 04`) and the RSA
/// PKCS #1 OID arc (1.2.840.113549.1). Matched case-sensitively, a 5-character marker
/// turns up in random base64 about once in a billion positions.
const BASE64_DER_MARKERS: &[&str] = &[
    "BgNVBA",
    "YDVQQ",
    "GA1UE",
    "KoZIhvcNAQ",
    "qGSIb3DQE",
    "hkiG9w0B",
];

/// True when a long base64 value holds certificate or key DER ([`BASE64_DER_MARKERS`]).
fn holds_base64_der(secret: &[u8]) -> bool {
    secret.len() >= 64
        && BASE64_DER_MARKERS
            .iter()
            .any(|m| secret.windows(m.len()).any(|w| w == m.as_bytes()))
}

/// True when a value stands inside a long run of base64 with `+` or `/` in it (an
/// image's or a font's data URI, a signature blob): at least [`RUN_SIDE`] base64
/// characters touch it on each side. A token's prefix turns up in encoded data by
/// chance (`…WRvteen/k7BdXn7DFmFvc6FDpauCk4/…/fsq3Euq+aiNA1+p+z9wP5QtR…`, in an SVG's
/// embedded PNG); a token pasted into text is set off from what is around it. Base64
/// wrapped at a fixed width (MIME's 76 columns, an SVG's image split by spaces) counts
/// too: a side whose run is cut short by one space or line break, with a full run
/// past it, is in the same block.
fn in_base64_run(data: &[u8], start: usize, end: usize) -> bool {
    in_run_of(data, start, end, b"+/") || in_run_of(data, start, end, b"-_")
}

/// [`in_base64_run`] for one alphabet: letters and digits and the two `marks` (`+/`
/// for base64, `-_` for its URL-safe form, as in a packed table of Unicode ranges).
fn in_run_of(data: &[u8], start: usize, end: usize, marks: &[u8; 2]) -> bool {
    // The bytes on one side, nearest first.
    fn side(at: impl Fn(usize) -> Option<u8>, marks: &[u8; 2]) -> (bool, bool) {
        let run = |from: usize| {
            (from..from + RUN_SIDE)
                .map_while(|i| at(i).filter(|b| b.is_ascii_alphanumeric() || marks.contains(b)))
                .fold((0, false), |(n, marked), b| {
                    (n + 1, marked || marks.contains(&b))
                })
        };
        let (n, marked) = run(0);
        if n == RUN_SIDE || n == 0 {
            return (n == RUN_SIDE, marked);
        }
        let breaks = match (at(n), at(n + 1)) {
            (Some(b'\r'), Some(b'\n')) | (Some(b'\n'), Some(b'\r')) => 2,
            (Some(b' ' | b'\n'), _) => 1,
            _ => return (false, marked),
        };
        let (m, marked_past) = run(n + breaks);
        (m == RUN_SIDE, marked || marked_past)
    }
    let (left, left_marked) = side(|i| start.checked_sub(i + 1).map(|j| data[j]), marks);
    let (right, right_marked) = side(|i| data.get(end + i).copied(), marks);
    left && right && (left_marked || right_marked)
}

/// How long a run of characters in rising (or falling) order [`has_sorted_run`] takes
/// for a sign of made-up or sampled data.
const SORTED_RUN: usize = 9;

/// True when [`SORTED_RUN`] characters of a value stand in strictly rising or falling
/// order (`ACFGKPTWZ`, an image's gradient read as text). Nine random characters of
/// base32 do so with odds of C(32,9)/32^9, under one in a million, of hex under one in
/// five million and of base62 about 1.3 in a million; over the 32 places of a
/// 40-character token, about one real token in 25,000 (so only values that short are
/// checked). A run mostly by steps of one (`123456789`) is typed, not sampled, and
/// left to the checks that lower it.
fn has_sorted_run(v: &[u8]) -> bool {
    // Per direction: the run's steps so far, and how many of them are by one (`5678`,
    // `defg`: typed in order, which other checks lower rather than drop).
    let (mut up, mut down) = ((0, 0), (0, 0));
    let long = |(steps, units): (usize, usize)| steps + 1 >= SORTED_RUN && units * 2 < steps;
    for w in v.windows(2) {
        let unit = w[0].abs_diff(w[1]) == 1;
        up = if w[1] > w[0] {
            (up.0 + 1, up.1 + usize::from(unit))
        } else {
            (0, 0)
        };
        down = if w[1] < w[0] {
            (down.0 + 1, down.1 + usize::from(unit))
        } else {
            (0, 0)
        };
        if long(up) || long(down) {
            return true;
        }
    }
    false
}

/// The one-letter codes of the amino acids, which include the bases of DNA and RNA.
const RESIDUES: &[u8] = b"ACDEFGHIKLMNPQRSTVWY";

/// How many lines on each side of a value [`in_sequence_data`] reads.
const SEQUENCE_LINES: usize = 2;

/// True when a value is spelt only in amino-acid codes, in capitals, and a line near
/// it holds a run of twenty or more of them (in either case: an HMMER alignment
/// writes uncertain residues in lowercase): it is part of a sequence in a FASTA or
/// GenBank file or an alignment. An AWS key id's sixteen random base32 characters all
/// fall among these twenty letters about once in 1,900 ((20/32)^16), and the lines near
/// a real one hold no such run.
fn in_sequence_data(data: &[u8], start: usize, end: usize) -> bool {
    if !data[start..end].iter().all(|b| RESIDUES.contains(b)) {
        return false;
    }
    let is_sequence = |line: &[u8]| {
        line.split(u8::is_ascii_whitespace)
            .any(|w| w.len() >= 20 && w.iter().all(|b| RESIDUES.contains(&b.to_ascii_uppercase())))
    };
    let line_start = memchr::memrchr(b'\n', &data[..start]).map_or(0, |i| i + 1);
    let mut above = data[..line_start].split(|&b| b == b'\n').rev();
    above.next(); // what follows the last newline: empty
    let line_end = memchr::memchr(b'\n', &data[end..]).map_or(data.len(), |i| end + i);
    let below = data
        .get(line_end + 1..)
        .unwrap_or_default()
        .split(|&b| b == b'\n');
    above
        .take(SEQUENCE_LINES)
        .chain(below.take(SEQUENCE_LINES))
        .any(is_sequence)
}

/// How many base64 characters on each side of a value make [`in_base64_run`].
const RUN_SIDE: usize = 32;

/// True when the text around an AWS key id or session token (`before` and `after`
/// it on its line) shows the value is part of a signed request rather than a
/// configured credential: the value of a presigned URL's `X-Amz-Credential=` or
/// `X-Amz-Security-Token=` parameter, an access key id followed by its SigV4
/// credential scope (`/20190814/us-west-2/s3/aws4_request`, or `%2F`-encoded), or a
/// value followed by the next `X-Amz-` parameter. Such a request carries a
/// signature, not the secret key, and expires (a presigned URL within 7 days).
fn in_signed_request(before: &[u8], after: &[u8]) -> bool {
    if ends_with_ignore_case(before, b"x-amz-credential=")
        || ends_with_ignore_case(before, b"x-amz-security-token=")
        // Signature version 2's query (`?AWSAccessKeyId=ASIA…&Signature=…`); the old
        // EC2 tools' credential file writes `AWSAccessKeyId=` on a line of its own.
        || (ends_with_ignore_case(before, b"awsaccesskeyid=") && after.starts_with(b"&"))
    {
        return true;
    }
    if starts_with_ignore_case(after, b"&x-amz-") || starts_with_ignore_case(after, b"&amp;x-amz-")
    {
        return true;
    }
    // `/date/region/service/aws4_request`, with `/` or `%2F` between the parts.
    let mut parts = path_segments(&after[..after.len().min(96)]);
    parts.next() == Some(b"".as_slice())
        && parts
            .next()
            .is_some_and(|d| d.len() == 8 && d.iter().all(u8::is_ascii_digit))
        && parts.next().is_some()
        && parts.next().is_some()
        && parts
            .next()
            .is_some_and(|p| starts_with_ignore_case(p, b"aws4_request"))
}

/// True when the text before a session token on its line names a field of a signed
/// S3 POST form or its policy (`X-Amz-Signature`, `x-amz-credential`,
/// `x-amz-algorithm`, `x-amz-date`, a policy's `["eq","$x-amz-…`): the token was
/// handed to a browser with the form, signed for one upload, and is of no use
/// without the secret key that signed it.
fn in_signed_form(before: &[u8]) -> bool {
    [
        "x-amz-signature",
        "x-amz-credential",
        "x-amz-algorithm",
        "x-amz-date",
        "\"$x-amz-",
    ]
    .iter()
    .any(|f| contains_ignore_ascii_case(before, f.as_bytes()))
}

/// Phrases that end a sentence showing what a value looks like.
const SHAPE_PHRASES: &[&str] = &["look like", "looks like", "something like", "such as"];

/// True when the value is shown as what one looks like: a phrase of
/// [`SHAPE_PHRASES`] right before it, or ending the line above when only a comment's
/// marker precedes it (`# The API Key … will look something like:` / `#    api-60F0…`,
/// a plugin's documentation).
fn shown_as_a_shape(preceding: &[u8], before: &[u8]) -> bool {
    let ends_in_phrase = |text: &[u8]| {
        let text = text.trim_ascii_end();
        let text = text.strip_suffix(b":").unwrap_or(text).trim_ascii_end();
        SHAPE_PHRASES.iter().any(|p| {
            ends_with_ignore_case(text, p.as_bytes())
                && text
                    .len()
                    .checked_sub(p.len() + 1)
                    .is_none_or(|i| !text[i].is_ascii_alphanumeric())
        })
    };
    if ends_in_phrase(before) {
        return true;
    }
    let marker_only = before.iter().all(|b| b" \t#/*;-\"'`".contains(b));
    marker_only && {
        let above = preceding.trim_ascii_end();
        let line = &above[memchr::memrchr(b'\n', above).map_or(0, |i| i + 1)..];
        ends_in_phrase(line)
    }
}

/// True when the text right before a value on its line sets it off as an example
/// (`e.g.: pa3Wbh…`, `Example: sk_live_…`, `# Example - eyJrIjoi…`, an OpenAPI
/// schema's `example: …`).
fn set_off_as_example(before: &[u8]) -> bool {
    // Without what stands between a label and its value: `: "`, ` = '`, `(`.
    fn separated(text: &[u8]) -> &[u8] {
        let sep = text
            .iter()
            .rev()
            .take_while(|b| b" \t:=\"'`(,-".contains(b));
        &text[..text.len() - sep.count()]
    }
    let mut head = separated(before);
    // Past an authentication scheme (an OpenAPI schema's `"example": "Bearer …"`).
    if let Some(scheme) = ["bearer", "basic", "token"]
        .iter()
        .find(|s| ends_with_ignore_case(head, s.as_bytes()))
    {
        let rest = &head[..head.len() - scheme.len()];
        if rest.last().is_some_and(|b| b" \t\"'`".contains(b)) {
            head = separated(rest);
        }
    }
    ["e.g.", "e.g", "example", "for instance"].iter().any(|w| {
        ends_with_ignore_case(head, w.as_bytes())
            && (head.len() == w.len() || {
                let b = head[head.len() - w.len() - 1];
                !(b.is_ascii_alphanumeric() || b == b'_')
            })
    })
}

/// True for an Azure shared access signature whose signed expiry, in the same query
/// (`se=2025-08-15T21%3A58%3A27Z`, before or after `sig=`), is a day that has passed:
/// Azure Storage refuses the signature from then on, so, as with an expired JWT, what
/// leaked no longer grants access. (Compared by day, in UTC, so a signature is called
/// expired a day late at most, never early.)
fn sas_expired(before: &[u8], after: &[u8]) -> bool {
    let query_end = after
        .iter()
        .position(|b| b.is_ascii_whitespace() || b"\"'<>`".contains(b))
        .unwrap_or(after.len());
    fn expiry(text: &[u8]) -> Option<&[u8]> {
        memchr::memmem::find_iter(text, b"se=")
            .filter(|&i| i > 0 && matches!(text[i - 1], b'&' | b'?'))
            .find_map(|i| text.get(i + 3..i + 13))
    }
    let Some(day) = expiry(before).or_else(|| expiry(&after[..query_end])) else {
        return false;
    };
    let Ok(day) = std::str::from_utf8(day)
        .unwrap_or("")
        .parse::<jiff::civil::Date>()
    else {
        return false;
    };
    day < jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
}

/// True when an AWS access key id's 16 characters after its prefix are base32
/// (`A`-`Z`, `2`-`7`), as AWS issues them: a `0`, `1`, `8` or `9` there
/// (`ASIAPROVIDERDEFAULT1`, a test's mock) was typed by hand.
fn aws_key_id_alphabet(secret: &[u8]) -> bool {
    secret.get(4..).is_some_and(|body| {
        body.iter()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(b))
    })
}

/// True for a JWT whose claims are made up ([`claims_name_an_example`]) or have
/// expired ([`claims_expired`]); its payload is decoded once for both.
fn jwt_claims_made_up(token: &[u8]) -> bool {
    jwt_part(token, 1).is_some_and(|p| {
        claims_name_an_example(&p) || claims_expired(&p) || shipped_with_cesium(&p)
    })
}

/// True for the Cesium ion token each CesiumJS release embeds as its
/// `Ion.defaultAccessToken` (subject `CesiumJS`, issuer `https://api.cesium.com`,
/// audience `1.144 Release - Delete on October 1, 2026`): public in every copy of
/// the library, for trying it out, and revoked on the date it names.
fn shipped_with_cesium(payload: &[u8]) -> bool {
    memchr::memmem::find(payload, b"\"CesiumJS\"").is_some()
        && memchr::memmem::find(payload, b"api.cesium.com").is_some()
}

/// [`claims_expired`] for a whole JWT.
#[cfg(test)]
fn jwt_expired(token: &[u8]) -> bool {
    jwt_part(token, 1).is_some_and(|p| claims_expired(&p))
}

/// True for a JWT payload whose `exp` claim has passed: an expired token no longer
/// authenticates (documentation's tokens from years ago, recorded test sessions).
/// Parsed only when the payload names `exp`.
fn claims_expired(payload: &[u8]) -> bool {
    if memchr::memmem::find(payload, b"\"exp\"").is_none() {
        return false;
    }
    let Ok(claims) = serde_json::from_slice::<serde_json::Value>(payload) else {
        return false;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    claims
        .get("exp")
        .and_then(serde_json::Value::as_f64)
        .is_some_and(|exp| exp > 0.0 && (exp as u64) < now)
}

/// True when a value's letters, and its digits, each run in order through most of it
/// (`1aB2CD3e4fgHi5JK6lmnop7qR8STU9VxYz`, `a0b1c2d3e4f5a6b7`): the alphabet typed
/// into a token's shape, interleaved. Counted over the letters alone and the digits
/// alone, a step to the next one (`z` to `a`, `9` to `0`, and in hex `f` to `a`)
/// comes at four steps in five of at least fourteen; in random text one step in ten
/// at most.
fn typed_in_order(v: &[u8]) -> bool {
    let hex = v.iter().all(u8::is_ascii_hexdigit);
    // The byte that follows `a` in its alphabet, wrapping around.
    let successor = |a: u8| match a {
        b'9' => b'0',
        b'z' => b'a',
        b'f' if hex => b'a',
        _ => a + 1,
    };
    let (mut steps, mut next) = (0usize, 0usize);
    let (mut last_letter, mut last_digit) = (None, None);
    for b in v.iter().map(u8::to_ascii_lowercase) {
        let last = if b.is_ascii_digit() {
            &mut last_digit
        } else if b.is_ascii_lowercase() {
            &mut last_letter
        } else {
            continue;
        };
        if let Some(a) = last.replace(b) {
            steps += 1;
            next += usize::from(successor(a) == b);
        }
    }
    steps >= 14 && next * 5 >= steps * 4
}

pub(crate) fn starts_with_ignore_case(s: &[u8], start: &[u8]) -> bool {
    s.len() >= start.len() && s[..start.len()].eq_ignore_ascii_case(start)
}

fn ends_with_ignore_case(s: &[u8], end: &[u8]) -> bool {
    s.len() >= end.len() && s[s.len() - end.len()..].eq_ignore_ascii_case(end)
}

/// The parts of `s` between `/` and `%2F` (either case) separators, as `split` gives
/// them: a leading separator yields an empty first part.
fn path_segments(s: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(s);
    std::iter::from_fn(move || {
        let r = rest?;
        for i in 0..r.len() {
            let width = match r[i] {
                b'/' => 1,
                b'%' if r
                    .get(i + 1..i + 3)
                    .is_some_and(|h| h.eq_ignore_ascii_case(b"2f")) =>
                {
                    3
                }
                _ => continue,
            };
            rest = Some(&r[i + width..]);
            return Some(&r[..i]);
        }
        rest = None;
        Some(r)
    })
}

/// Whether the text before a value, on its line, ends in a documentation comment's
/// line escaped in a string: an escaped newline, indentation and `* ` (a source map's
/// `sourcesContent`, `…\n     *     privateKey: '0x…'`, holds the library's JSDoc).
fn in_escaped_doc_comment(before: &[u8]) -> bool {
    let Some(i) = memchr::memmem::rfind(before, b"\\n") else {
        return false;
    };
    let mut rest = &before[i + 2..];
    loop {
        rest = match rest {
            [b' ' | b'\t', r @ ..] | [b'\\', b't', r @ ..] => r,
            _ => break,
        };
    }
    matches!(rest, [b'*', b' ' | b'\t', ..] | [b'*', b'\\', b't', ..])
}

/// Words that mark a value as possibly made up for documentation or tests. A generic
/// value holding "example" is dropped; a value in a provider's exact token format is
/// still reported, at low confidence: real tokens do get pasted into examples and
/// fixtures, and the format alone says the string is worth a look.
const EXAMPLE_MARKERS: &[&str] = &[
    "example", "sample", "test", "demo", "fake", "invalid", "revoked", "thisismy", "notreal",
    "not-real", "not_real",
];

/// The confidence of a finding of `rule` on `secret` (followed in the input by
/// `after`): the rule's own, lowered to `low` for a value that looks made up for an
/// example, for a UUID caught by a generic rule (UUIDs are mostly identifiers:
/// request, tenant and client ids), and for a free-form credential in a URI to a
/// documentation domain ([`at_example_host`]) or spelt as a stand-in word in
/// leetspeak ([`is_leet_stand_in`]), and for an AWS key id or session token in a
/// signed request ([`in_signed_request`]). `preceding` is the input up to the start of
/// the secret's line: a free-form value that documentation introduces as an example
/// in the lines above ([`lines_above`]: `Example to rescue a server:`, `Here are some
/// examples:`) is lowered too.
pub fn confidence(
    rule: &Rule,
    secret: &[u8],
    preceding: &[u8],
    before: &[u8],
    after: &[u8],
    placement: Placement,
) -> Confidence {
    if placement.in_documentation
        // (A recovery phrase holds `test`, `sample` or `example` as one of its words.)
        || (rule.checksum != Some(Checksum::Bip39) && looks_like_example(secret))
        || ascending_run(secret, 8)
        || zero_filled(secret)
        || typed_along_keyboard(secret)
        || runs_through(secret)
        || typed_in_order(secret)
        || named_as_a_stand_in(before)
        || set_off_as_example(before)
        || shown_as_a_shape(preceding, before)
        || (rule.id.starts_with("aws.session-token") && in_signed_form(before))
        || (rule.id == "azure.sas-token" && sas_expired(before, after))
        || (rule.id == "aws.access-key-id" && !aws_key_id_alphabet(secret))
        || (rule.id == "recaptcha.key" && names_recaptcha_site_key(before))
        || (rule.checksum == Some(Checksum::Bip39)
            && super::checksum::repeats_words(secret))
        || (rule.id.starts_with("password-hashes.") && made_up_salt(secret))
        || (rule.generic
            && (is_uuid(secret)
                || is_two_word_name(secret)
                || typed_on_few_keys(secret)
                || is_spelt_out_stand_in(secret)
                || STAND_IN_RUNS
                    .iter()
                    .any(|r| contains_ignore_ascii_case(secret, r.as_bytes()))
                || hashes_a_stand_in(secret)
                || ends_in_credential_word(secret)
                || EXAMPLE_MARKER_FINDER.is_match(secret)
                || memchr::memmem::find(before, b"EXAMPLE").is_some()))
        || in_signed_request(before, after)
        || in_example_command(preceding, before, after)
        || in_base64_block(preceding, before, secret, after)
        // A PEM block cut short (`MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyf8Ob` between its
        // lines, in a scanner's test): the shortest key, an Ed25519 one in PKCS #8, has
        // 64 base64 characters.
        || (rule.id.starts_with("private-keys.pem") && pem_body_len(secret) < 60)
        || jwt_signed_with_example_key(secret)
        || jwt_claims_made_up(secret)
        || (rule.made_up_in_tests()
            && (placement.free_form_made_up || in_escaped_doc_comment(before)))
        || (rule.free_form
            && (free_form_looks_made_up(secret, preceding, before, after)
                || (secret.contains(&b'%') && {
                    let decoded: Vec<u8> = percent_encoding::percent_decode(secret).collect();
                    free_form_looks_made_up(&decoded, preceding, before, after)
                })))
    {
        Confidence::Low
    } else {
        rule.confidence
    }
}

/// True when a reCAPTCHA key stands as its site key: named so (`data-sitekey`,
/// `RECAPTCHA_SITE_KEY`, `RECAPTCHA_PUBLIC_KEY`) or passed as the `k=` or `render=`
/// parameter of Google's widget URLs. Every page that shows the widget carries its
/// site key; only the secret key verifies answers.
fn names_recaptcha_site_key(before: &[u8]) -> bool {
    let near = &before[before.len().saturating_sub(64)..];
    let says = |w: &[u8]| contains_ignore_ascii_case(near, w);
    (says(b"site")
        || says(b"public")
        || [&b"?k="[..], b"&k=", b"render="]
            .iter()
            .any(|p| near.ends_with(p)))
        && !says(b"secret")
        && !says(b"private")
}

/// True for a crypt(3) hash (`$1$`, `$apr1$`, `$5$`, `$6$`) whose salt a person typed:
/// one character repeated (`$1$aaa$…`), a run up the alphabet or the digits
/// (`$1$abcdef$…`) or the word itself (`$6$saltsalt$…`): a library's test vector, as
/// every tool that makes these hashes draws its salt at random.
fn made_up_salt(hash: &[u8]) -> bool {
    let mut parts = hash.split(|&b| b == b'$');
    let (Some(b""), Some(id)) = (parts.next(), parts.next()) else {
        return false;
    };
    if !matches!(id, b"1" | b"apr1" | b"5" | b"6") {
        return false;
    }
    let mut salt = parts.next().unwrap_or_default();
    if salt.starts_with(b"rounds=") {
        salt = parts.next().unwrap_or_default();
    }
    parts.next().is_some()
        && !salt.is_empty()
        && (salt.iter().all(|&b| b == salt[0])
            || (salt.len() >= 4 && ascending_run(salt, salt.len()))
            || contains_ignore_ascii_case(salt, b"salt"))
}

/// True for a value whose last word names what it stands for (`sk-or-v1-project1-key`,
/// `staging_api_token`): a stand-in written to look like a key. A random base64url
/// token ends in `-key` (any case) about once in two million, in the longer words
/// far more rarely.
fn ends_in_credential_word(v: &[u8]) -> bool {
    ["key", "token", "secret", "password"].iter().any(|w| {
        v.len() > w.len() + 2
            && v[v.len() - w.len()..].eq_ignore_ascii_case(w.as_bytes())
            && matches!(v[v.len() - w.len() - 1], b'-' | b'_')
    })
}

/// The checks of [`confidence`] for a free-form value (a password, a URI's secret):
/// true when it reads as a documentation's or a test's stand-in rather than a
/// credential. A percent-encoded value is checked again as it decodes
/// (`correct%20horse%20battery%20staple`, `pass%20word`).
fn free_form_looks_made_up(secret: &[u8], preceding: &[u8], before: &[u8], after: &[u8]) -> bool {
    let above = lines_above(preceding, preceding.len());
    let mut buf = [0; 256];
    let alnum = lower_alnum(secret, &mut buf);
    // Three bytes or fewer (`redis://:C3%B0@…`, a Basic header's `id:s?1`) is a
    // parser's test input, not a password anyone relies on.
    secret.len() < 4
        // A run up the alphabet or the digits, whole (`abcd`, `3456`).
        || ascending_run(secret, secret.len())
        // Punctuation only (a URI parser's `ftp://%40::-%23-;-%2F-%3F@host`, once
        // decoded): a parser's test input; a byte past ASCII counts as a letter.
        || !secret.iter().any(|b| b.is_ascii_alphanumeric() || *b >= 0x80)
        || at_example_host(after)
        || is_leet_stand_in(secret)
        // The rest after a colon, when a parser's comment splits the URI's user
        // elsewhere (`https://user:n@me:p@ss:word@x.com/` gives `n@me:p@ss:word`).
        || memchr::memchr(b':', secret).is_some_and(|c| is_leet_stand_in(&secret[c + 1..]))
        // A default user's digest given as its password (garagemq's `guest`).
        || hashes_a_stand_in(secret)
        || one_of(secret, STAND_IN_PASSWORDS)
        // With punctuation inside (`foo:bar`, `my{pass`).
        || one_of(alnum, STAND_IN_PASSWORDS)
        || metasyntactic_password(alnum)
        || names_password_word(secret)
        || is_email(secret)
        || is_sentence(secret)
        || is_prose(secret)
        || first_word_of_phrase(before, after)
        || in_doctest(above, before)
        || in_assertion(above, before)
        || base32_text(secret).is_some_and(|t| {
            looks_like_example(&t) || names_password_word(&t) || ascending_run(&t, 8)
        })
        || sample_login(before, secret)
        || (secret.len() <= 32 && looks_like_example(&unleet(secret)))
        || typed_pattern(secret)
        || (secret.len() <= 32 && letter_run(secret, 5))
        || short_base64_text(secret).is_some_and(|t| {
            names_password_word(&t)
                || looks_like_example(&t)
                || ascending_run(&t, 8)
                || t.iter()
                    .position(|&b| b == b':')
                    .is_some_and(|colon| t.len() - colon - 1 < 4)
        })
        || introduces_example(above)
        || introduces_example_inline(before)
        || repeats_login(preceding, before, after, secret)
        || anonymous_login(above, before)
        || names_the_product(above, before, after, secret)
        || names_example_host(&before[before.len().saturating_sub(256)..])
        || names_example_host(rest_of_line(after))
}

/// True for a token-shaped value (40 characters or more of letters in both cases and
/// digits) typed on a few keys (`TtnuieannGt2rGuie2t8Tt7urarg5nauedRndrur`, a
/// Dvorak home row): under 3.9 bits per byte, where 40 random characters of that
/// alphabet carry 4.1 or more (the least of 100,000 drawn).
fn typed_on_few_keys(v: &[u8]) -> bool {
    v.len() >= 40
        && v.iter().all(u8::is_ascii_alphanumeric)
        && v.iter().any(u8::is_ascii_uppercase)
        && v.iter().any(u8::is_ascii_lowercase)
        && v.iter().any(u8::is_ascii_digit)
        && entropy(v) < 3.9
}

/// How many lines above a secret [`confidence`] reads for an example's introduction,
/// and at most how many bytes.
const ABOVE_LINES: usize = 5;
const ABOVE_BYTES: usize = 480;

/// The text of the [`ABOVE_LINES`] lines above the line that starts at `line_start`
/// (at most [`ABOVE_BYTES`] of it).
fn lines_above(data: &[u8], line_start: usize) -> &[u8] {
    let lo = line_start.saturating_sub(ABOVE_BYTES);
    let window = &data[lo..line_start];
    let from = memchr::memrchr_iter(b'\n', window)
        .nth(ABOVE_LINES)
        .map_or(lo, |i| lo + i + 1);
    &data[from..line_start]
}

/// True when `text` holds the word "example" (`Example to rescue a server`, `Here
/// are some examples:`, `For example,`), not as part of a host name
/// (`db.example.com`, `jane@example.org`), where it says only that the host is made up;
/// or another phrase that introduces one (`# to get a string like this run:`, FastAPI's
/// tutorial; `e.g.`, `for instance`).
fn introduces_example(text: &[u8]) -> bool {
    names_an_example(text, |i| {
        (i == 0 || !(text[i - 1].is_ascii_alphanumeric() || matches!(text[i - 1], b'.' | b'@')))
            && !matches!(
                text.get(i + EXAMPLE_WORD.len()..i + EXAMPLE_WORD.len() + 2),
                Some([b'.', c]) if c.is_ascii_alphabetic()
            )
    })
}

/// [`introduces_example`] for the text before a value on its own line, where
/// "example" must stand as a word of prose (`An example hash is $1$…`, `Example:
/// pass=…`), not as a name's part (`example@gmail.com`, `example_password =`).
fn introduces_example_inline(before: &[u8]) -> bool {
    names_an_example(before, |i| {
        (i == 0 || matches!(before[i - 1], b' ' | b'\t' | b'(' | b'#' | b'/' | b'*'))
            && matches!(before.get(i + EXAMPLE_WORD.len()), Some(b' ' | b':' | b','))
    })
}

const EXAMPLE_WORD: &[u8] = b"example";

/// True when `text` holds a phrase that introduces an example (`like this`, `e.g.`,
/// `for instance`), or the word "example" where `stands_alone`, given the word's
/// offset, accepts it.
fn names_an_example(text: &[u8], stands_alone: impl Fn(usize) -> bool) -> bool {
    ["like this", "e.g.", "for instance"]
        .iter()
        .any(|p| contains_ignore_ascii_case(text, p.as_bytes()))
        || text
            .windows(EXAMPLE_WORD.len())
            .enumerate()
            .any(|(i, w)| w.eq_ignore_ascii_case(EXAMPLE_WORD) && stands_alone(i))
}

/// True when `start` lies in the query of an image's URL (`circleci.com/gh/o/r.svg?
/// style=shield&circle-token=…`, `badge.svg?token=…`): the token of a status badge,
/// which CircleCI and Codecov scope to reading a build's status and have users
/// publish in READMEs.
fn in_badge_url(data: &[u8], start: usize) -> bool {
    let url = run_before(data, start, |b| {
        matches!(b, b'"' | b'\'' | b'(' | b'<' | b'>')
    });
    // (DeepSource's badges put a slash before the query: `rrpm.svg/?token=…`.)
    [".svg?", ".png?", ".svg/?"]
        .iter()
        .any(|m| memchr::memmem::find(url, m.as_bytes()).is_some())
}

/// The first 256 bytes of `after`, up to the line's end.
fn rest_of_line(after: &[u8]) -> &[u8] {
    let after = &after[..after.len().min(256)];
    &after[..memchr::memchr(b'\n', after).unwrap_or(after.len())]
}

/// True for a function or method call (`url.auth.slice(index+1)`, caught by a
/// connection-string rule in minified code): a name, then an argument list that
/// closes the value.
fn is_call(v: &[u8]) -> bool {
    let Some(open) = memchr::memchr(b'(', v) else {
        return false;
    };
    open > 0
        && v.ends_with(b")")
        && v[0].is_ascii_alphabetic()
        && v[..open]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.'))
}

/// True when `text` names a host of a documentation domain (`http://example.com/`,
/// `api.example.org`): a value on the line of a request to it is made up too.
/// True for the tail of "password" or "passphrase" (`ssword`, `assword:`) that
/// scripts wait for in a login prompt.
fn is_prompt_fragment(v: &[u8]) -> bool {
    let v = v.strip_suffix(b":").unwrap_or(v);
    v.len() >= 4
        && ["password", "passphrase"]
            .iter()
            .any(|w| v.len() < w.len() && ends_with_ignore_case(w.as_bytes(), v))
}

/// True for words in a script other than Latin (`Пароль`, `كلمة المرور`, `密码`,
/// `Lösenord`): a label translated into another language, as user interfaces assign
/// them to a `password` key, not a password.
fn is_word_in_any_script(v: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(v) else {
        return false;
    };
    // Letters, and the combining signs of the scripts from Greek to Myanmar (U+0300 to
    // U+1FFF: Devanagari's virama and vowel signs, Thai's tone marks).
    // And the punctuation of Chinese and Japanese text (U+3000 to U+303F, and the
    // full-width forms: `輸入密碼（選擇性）`, "enter password (optional)").
    !text.is_ascii()
        && text.chars().count() <= 80
        && text.chars().any(char::is_alphabetic)
        && text.chars().all(|c| {
            c.is_alphabetic()
                || matches!(c, ' ' | '\'' | '-' | '\u{200c}' | '\u{200d}')
                || ('\u{0300}'..='\u{1fff}').contains(&c)
                || ('\u{3000}'..='\u{303f}').contains(&c)
                || ('\u{ff00}'..='\u{ffef}').contains(&c)
        })
}

/// True when a free-form value, a plain word (`editor`, `Action`, `quartz2`, `any-doc`),
/// repeats a name given just before it on its line or the line above, or the database named
/// after it in a URI: the password is the user's name (`username="editor",
/// password="editor"`, `cassandra` / `cassandra`), alone or with a password word or a
/// few digits after it (`pguserpass`, `quartz2123`), or the database's
/// (`postgres:bitcoinlib@localhost/bitcoinlib`), as defaults and tutorials set them.
/// (A name that is not a plain word, `specialbill_user`, is more likely a real
/// account's, and keeps its confidence; words joined by a hyphen, `any-doc`, are still
/// a demo's.)
fn repeats_login(preceding: &[u8], before: &[u8], after: &[u8], secret: &[u8]) -> bool {
    if !(3..=16).contains(&secret.len())
        || !secret
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        || !secret.iter().any(u8::is_ascii_alphabetic)
    {
        return false;
    }
    // Or the login with a word for a password after it (`pguser` / `pguserpass`).
    let login = ["password", "passwd", "pass", "pwd", "pw"]
        .iter()
        .find_map(|w| {
            let stem = secret.strip_suffix(w.as_bytes())?;
            (stem.len() >= 3).then_some(stem)
        });
    // Or with up to four digits after it (`quartz2` / `quartz2123`).
    let numbered = (1..=4).filter_map(|n| {
        let (stem, digits) = secret.split_at(secret.len().checked_sub(n)?);
        (stem.len() >= 3
            && digits.iter().all(u8::is_ascii_digit)
            && stem.iter().any(u8::is_ascii_alphabetic))
        .then_some(stem)
    });
    let whole_word_in = |text: &[u8]| {
        let edge = |b: Option<&u8>| b.is_none_or(|b| !(b.is_ascii_alphanumeric() || *b == b'_'));
        std::iter::once(secret)
            .chain(login)
            .chain(numbered.clone())
            .any(|word| {
                memchr::memmem::find_iter(text, word).any(|i| {
                    edge(i.checked_sub(1).and_then(|j| text.get(j)))
                        && edge(text.get(i + word.len()))
                })
            })
    };
    let above = lines_above(preceding, preceding.len());
    let previous_line = &above
        [memchr::memrchr(b'\n', &above[..above.len().saturating_sub(1)]).map_or(0, |i| i + 1)..];
    let line = rest_of_line(after);
    let db_path = memchr::memchr(b'@', line).and_then(|at| {
        let rest = &line[at..];
        memchr::memchr(b'/', rest).map(|slash| &rest[slash + 1..])
    });
    whole_word_in(&before[before.len().saturating_sub(200)..])
        || whole_word_in(previous_line)
        || db_path.is_some_and(|path| {
            path.len() >= secret.len()
                && &path[..secret.len()] == secret
                && path
                    .get(secret.len())
                    .is_none_or(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
        })
}

/// True when a password that is a plain word, in one case (`milvus`, `KYLIN`), names
/// the product, client or database set up around it: a class or setting on the
/// lines above or before it on its line (`MilvusClient({`, `conn_id="kylin_default"`),
/// or a name after it on its line or the next (`mysqldump -u root -pdatahub datahub`,
/// `schema="airflow"`). That is a product's default password, as its READMEs and
/// default connections give it.
fn names_the_product(above: &[u8], before: &[u8], after: &[u8], secret: &[u8]) -> bool {
    let one_case = secret.iter().all(u8::is_ascii_lowercase)
        || secret.iter().all(u8::is_ascii_uppercase)
        || secret[0].is_ascii_uppercase() && secret[1..].iter().all(u8::is_ascii_lowercase);
    if !(4..=16).contains(&secret.len()) || !secret.iter().all(u8::is_ascii_alphabetic) || !one_case
    {
        return false;
    }
    // As a word, or a name's first word (`MilvusClient`, `kylin_default`); not as
    // another password's value (`MYSQL_PASSWORD=…` above `MYSQL_ROOT_PASSWORD=…`: the
    // same password set twice is no less real).
    let named_in = |text: &[u8]| {
        text.windows(secret.len()).enumerate().any(|(i, w)| {
            w.eq_ignore_ascii_case(secret)
                && (i == 0 || !text[i - 1].is_ascii_alphanumeric())
                && text.get(i + secret.len()).is_none_or(|&b| {
                    !b.is_ascii_alphanumeric()
                        || (b.is_ascii_uppercase() && w[w.len() - 1].is_ascii_lowercase())
                })
                && {
                    let line_start = memchr::memrchr(b'\n', &text[..i]).map_or(0, |n| n + 1);
                    !["pass", "pwd", "secret"]
                        .iter()
                        .any(|k| contains_ignore_ascii_case(&text[line_start..i], k.as_bytes()))
                }
        })
    };
    // The value's own quote or the space before it ends `before`; what precedes the
    // separator is its key, which names the password, not the product.
    let after = &after[..after.len().min(256)];
    let next_lines = &after[..memchr::memchr_iter(b'\n', after)
        .nth(1)
        .unwrap_or(after.len())];
    named_in(above) || named_in(&before[before.len().saturating_sub(200)..]) || named_in(next_lines)
}

/// True for two lowercase words joined by a hyphen or an underscore (`pass:
/// `collision-filter``, `token="monotonic_decreasing"`, a task's name in dask), or
/// two words of four letters or more in Pascal case (`'_pass': 'SectionStatistics'`,
/// a generated model's table of attribute types): most often a name, though a weak
/// passphrase can read so too, so a generic value like it is lowered, not dropped
/// (three or more words are a slug, [`is_slug`], or a type's name, [`is_pascal_name`]).
fn is_two_word_name(v: &[u8]) -> bool {
    let hyphenated = two_parts(v).is_some_and(|(a, b)| {
        [a, b]
            .iter()
            .all(|w| w.len() >= 3 && w.iter().all(u8::is_ascii_lowercase))
    });
    let pascal = || {
        let mut capitals = (0..v.len()).filter(|&i| v[i].is_ascii_uppercase());
        let (Some(0), Some(second), None) = (capitals.next(), capitals.next(), capitals.next())
        else {
            return false;
        };
        second >= 4
            && v.len() - second >= 4
            && v.iter().all(u8::is_ascii_alphabetic)
            && [&v[..second], &v[second..]]
                .iter()
                .all(|w| w.iter().any(|b| b"aeiouy".contains(b)))
    };
    hyphenated || pascal()
}

/// True for two words of four to fourteen letters joined by `_` or `-`, the first
/// perhaps capitalised (`Mandrillus_leucophaeus`, `access_token`): an identifier or a
/// name. A token of random letters and digits reads so about once in 10^15; a
/// prefix and a longer run of letters (`test_abcdef…`) is a token's shape.
fn is_two_word_identifier(v: &[u8]) -> bool {
    let Some((first, second)) = two_parts(v) else {
        return false;
    };
    let word = |w: &[u8], capital: bool| {
        (4..=14).contains(&w.len())
            && w.iter().enumerate().all(|(i, b)| {
                b.is_ascii_lowercase() || (i == 0 && capital && b.is_ascii_uppercase())
            })
            && w.iter().any(|b| b"aeiouy".contains(b))
    };
    word(first, true) && word(second, false)
}

/// `v`'s two parts, when one `_` or `-` joins two.
fn two_parts(v: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut parts = v.split(|&b| b == b'_' || b == b'-');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(first), Some(second), None) => Some((first, second)),
        _ => None,
    }
}

/// True for a sentence of words ending in a full stop (`Authentication failed.`): most
/// often a message assigned to a setting named after the password, though a
/// passphrase can read so too, so such a value is lowered, not dropped.
fn is_sentence(v: &[u8]) -> bool {
    v.contains(&b' ')
        && v.ends_with(b".")
        && v.iter()
            .all(|b| b.is_ascii_alphabetic() || b" ,'.".contains(b))
}

/// True for five or more words of letters, each perhaps followed by a comma, stop or
/// colon (`The secret key used to sign and verify JWT tokens. If`): a description
/// read where a value goes, in a docstring. A passphrase can read so too, so such a
/// value is lowered, not dropped.
fn is_prose(v: &[u8]) -> bool {
    let mut words = 0;
    for w in v.split(|&b| b == b' ') {
        let w = w
            .strip_suffix(b",")
            .or_else(|| w.strip_suffix(b"."))
            .or_else(|| w.strip_suffix(b":"))
            .unwrap_or(w);
        if w.is_empty() || !w.iter().all(u8::is_ascii_alphabetic) {
            return false;
        }
        words += 1;
    }
    words >= 5
}

/// True when the value is the first word of a quoted phrase (`"password":
/// "snowflake password"`, where a rule's value stops at the space): a label, not a
/// password.
fn first_word_of_phrase(before: &[u8], after: &[u8]) -> bool {
    matches!(before.last(), Some(b'"' | b'\''))
        && after.first() == Some(&b' ')
        && after.get(1).is_some_and(u8::is_ascii_alphabetic)
}

/// True when the value sits in a Python interactive session, as doctests and
/// tutorials show them: a `>>> ` prompt on its line or on a line above
/// (`>>> hash = '$5$rounds=80000$…'`, or the hash a call above it returned). A
/// doctest is a test, and its values are a test's.
fn in_doctest(above: &[u8], before: &[u8]) -> bool {
    let prompt = |line: &[u8]| line.trim_ascii_start().starts_with(b">>> ");
    prompt(before) || above.split(|&b| b == b'\n').any(prompt)
}

/// True when the value is an argument of a test's assertion (`assert_eq!(`,
/// `assertEquals(`, `self.assertEqual(`, `assert.equal(`) that starts its line or the
/// line above: the expected value of a test, as a hashing library's tests compare
/// hashes of `"password"`. (Only at a line's start: minified code calls `assert(`
/// anywhere.)
fn in_assertion(above: &[u8], before: &[u8]) -> bool {
    let opens_assertion = |line: &[u8]| {
        let line = line.trim_ascii_start();
        // A receiver first (`self.`, `t.`, `s.`), of a few letters.
        let call = match memchr::memchr(b'.', &line[..line.len().min(6)]) {
            Some(dot) if line[..dot].iter().all(u8::is_ascii_alphabetic) => &line[dot + 1..],
            _ => line,
        };
        let Some(name) = call.strip_prefix(b"assert") else {
            return false;
        };
        let word = name
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'!' | b'.'))
            .count();
        name.get(word) == Some(&b'(')
    };
    let last = above.strip_suffix(b"\n").map_or(&[][..], last_line);
    opens_assertion(before) || opens_assertion(last)
}

/// True when a base64 secret of 48 characters or more is a whole line (quotes,
/// `\\n` and a trailing comma aside) under a line of 60 or more base64 characters:
/// a line of a key or certificate block that happens to start like a token
/// (`"EAAAlSjBKJBZ…\\n"`, Square's prefix, in a post-quantum test key).
fn in_base64_block(preceding: &[u8], before: &[u8], secret: &[u8], after: &[u8]) -> bool {
    let base64 = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/');
    // What a string literal puts around a line of a block, skipped where it stands.
    fn bare(line: &[u8]) -> impl Iterator<Item = u8> + '_ {
        line.iter()
            .copied()
            .filter(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'"' | b'\'' | b','))
    }
    if secret.len() < 48 || !secret.iter().all(base64) || bare(before).next().is_some() {
        return false;
    }
    // Nothing after the value but an escaped newline.
    let mut rest = bare(rest_of_line(after));
    if !matches!(
        (rest.next(), rest.next(), rest.next()),
        (None, _, _) | (Some(b'\\'), Some(b'n'), None)
    ) {
        return false;
    }
    let Some(above) = preceding.strip_suffix(b"\n") else {
        return false;
    };
    // The line above: 60 or more base64 characters, `=` padding, perhaps `\n`.
    let (mut body, mut padding) = (0, false);
    let mut line = bare(last_line(above)).peekable();
    while let Some(b) = line.next() {
        match b {
            b'=' => padding = true,
            b'\\' if line.next() == Some(b'n') && line.peek().is_none() => break,
            b if base64(&b) && !padding => body += 1,
            _ => return false,
        }
    }
    body >= 60
}

/// Where an input's test code and documentation examples lie, found once per input
/// (at its first finding), not per finding, and passed to [`confidence`] as
/// [`Placement`] for each finding.
#[derive(Debug, Default)]
pub struct Layout {
    /// Where the input's Rust unit-test module starts ([`rust_test_module_start`]).
    pub test_module: Option<usize>,
    /// The input's module documentation strings ([`documentation_strings`]), example
    /// blocks ([`example_blocks`]) and examples in comments ([`commented_examples`]).
    pub documentation: Vec<std::ops::Range<usize>>,
    /// Where the input's free-form values are made up: its embedded manual (Perl's
    /// POD, [`pod_blocks`]; Python's docstrings, [`python_docstrings`]; documentation
    /// comments, [`doc_comments`]) and, in a patch, the changes to test files,
    /// examples or documentation ([`patched_made_up_files`]).
    pub made_up: Vec<std::ops::Range<usize>>,
}

impl Layout {
    pub fn of(data: &[u8]) -> Self {
        let mut documentation = documentation_strings(data);
        documentation.extend(example_blocks(data));
        documentation.extend(commented_examples(data));
        Layout {
            test_module: rust_test_module_start(data),
            documentation,
            made_up: {
                let mut made_up = pod_blocks(data);
                made_up.extend(python_docstrings(data));
                made_up.extend(doc_comments(data));
                made_up.extend(patched_made_up_files(data));
                made_up.extend(inline_test_blocks(data));
                made_up
            },
        }
    }

    /// Where a finding whose line starts at `line_start` and whose secret starts at
    /// `start` stands.
    pub fn place(&self, line_start: usize, start: usize) -> Placement {
        Placement {
            free_form_made_up: self.test_module.is_some_and(|t| t < line_start)
                || self.made_up.iter().any(|r| r.contains(&start)),
            in_documentation: self.documentation.iter().any(|r| r.contains(&start)),
        }
    }
}

/// Where a finding stands in its input ([`Layout::place`]).
#[derive(Debug, Default, Clone, Copy)]
pub struct Placement {
    /// After the input's Rust unit-test module starts, inside a manual written into a
    /// source file, or in a patch's change to a test file: a free-form value there is
    /// judged as one in a test file or a documentation directory (a provider's token
    /// format keeps its confidence).
    pub free_form_made_up: bool,
    /// Inside a module's documentation string: the value is a documented example.
    pub in_documentation: bool,
}

/// The spans of a unified diff (`git diff`, `diff -u`, a Debian package's
/// `debian/patches/*.diff`) that change a file [`is_made_up_path`] judges a test,
/// an example or documentation: from each `+++ ` header naming such a file (after a
/// `--- ` line) to the next file's header. A patch is judged by the files it changes,
/// as those files are by their paths: glibc's `git-updates.diff` adds
/// `gshadow/tst-sgetsgent.c`, whose `passwd` is a test's.
pub fn patched_made_up_files(data: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut spans: Vec<std::ops::Range<usize>> = Vec::new();
    // The open span (a made-up file's changes) and the start of the header line
    // that may close it.
    let mut open: Option<usize> = None;
    for at in memchr::memmem::find_iter(data, b"\n+++ ") {
        let header = at + 1;
        let previous = memchr::memrchr(b'\n', &data[..at]).map_or(0, |i| i + 1);
        if !data[previous..].starts_with(b"--- ") {
            continue;
        }
        if let Some(start) = open.take() {
            spans.push(start..previous);
        }
        let line_end = memchr::memchr(b'\n', &data[header..]).map_or(data.len(), |i| header + i);
        let name = &data[header + 4..line_end];
        // A timestamp follows a tab in `diff -u`'s headers.
        let name = name.split(|&b| b == b'\t').next().unwrap_or(name);
        let name = String::from_utf8_lossy(name.trim_ascii());
        let path = name.strip_prefix("b/").unwrap_or(&name);
        if is_made_up_path(path) {
            open = Some(line_end);
        }
    }
    if let Some(start) = open {
        spans.push(start..data.len());
    }
    spans
}

/// The spans of `data`'s examples written in `#` comments with their results shown
/// (`#=>`, as RDoc and YARD write them): each run of comment lines in which some line
/// shows a result after its code (`user.authenticate('mUc3m00RsqyRe') # => user`,
/// ActiveModel's; `@password #=> "$2a$12$C5.F…"`, bcrypt's). Commented-out code
/// shows no results, so it is not one.
pub fn commented_examples(data: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut out: Vec<std::ops::Range<usize>> = Vec::new();
    let mut lines = LineStarts::default();
    for at in memchr::memmem::find_iter(data, b"=>") {
        if out.last().is_some_and(|r| r.contains(&at)) {
            continue;
        }
        // A result's mark, `#=>` or `# =>`, before anything else is looked at: `=>`
        // alone is common (hashes, arrow functions, a minified file's every line).
        let mark = data[..at].trim_ascii_end();
        if !mark.ends_with(b"#") {
            continue;
        }
        let line_start = lines.of(data, at);
        // The comment's own `#` opens the line; the result's is another, after code.
        let Some(text) = comment_text(&data[line_start..at]) else {
            continue;
        };
        let Some(code) = text.trim_ascii_end().strip_suffix(b"#") else {
            continue;
        };
        if code.trim_ascii().is_empty() {
            continue;
        }
        let mut start = line_start;
        while start > 0 {
            let above = memchr::memrchr(b'\n', &data[..start - 1]).map_or(0, |i| i + 1);
            if comment_text(&data[above..start - 1]).is_none() {
                break;
            }
            start = above;
        }
        let mut end = memchr::memchr(b'\n', &data[at..]).map_or(data.len(), |i| at + i);
        while end < data.len() {
            let next = memchr::memchr(b'\n', &data[end + 1..]).map_or(data.len(), |i| end + 1 + i);
            if comment_text(&data[end + 1..next]).is_none() {
                break;
            }
            end = next;
        }
        out.push(start..end);
    }
    out
}

/// The spans of `data`'s test blocks written beside the code they test: D's
/// `unittest { … }` (perhaps after attributes: `@safe pure unittest {`) and Zig's
/// `test "name" { … }`, each opening its line. A free-form value there is a test's
/// (phobos's `unittest` blocks log in as `user:password`). A block inside one
/// already found is not looked at again.
pub fn inline_test_blocks(data: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut out: Vec<std::ops::Range<usize>> = Vec::new();
    for at in memchr::memmem::find_iter(data, b"test") {
        if out.last().is_some_and(|r| r.contains(&at)) {
            continue;
        }
        let unittest = at >= 4 && &data[at - 4..at] == b"unit";
        // What follows first, as most `test`s are words in text: D's block, or Zig's
        // test name in quotes and then its block.
        let mut open = skip_whitespace(data, at + 4);
        if !unittest {
            if data.get(open) != Some(&b'"') {
                continue;
            }
            let Some(close) = memchr::memchr2(b'"', b'\n', &data[open + 1..]) else {
                continue;
            };
            if data[open + 1 + close] != b'"' {
                continue;
            }
            open = skip_whitespace(data, open + close + 2);
        }
        if data.get(open) != Some(&b'{') {
            continue;
        }
        // The word opens its line, perhaps after D's attributes (`@safe`, `pure`,
        // `nothrow`), looked for over a bounded distance.
        let word_start = if unittest { at - 4 } else { at };
        let from = word_start.saturating_sub(64);
        let Some(lead) = memchr::memrchr(b'\n', &data[from..word_start])
            .map(|i| &data[from + i + 1..word_start])
            .or((from == 0).then(|| &data[..word_start]))
        else {
            continue;
        };
        let attributes = lead.split(|b| b.is_ascii_whitespace()).all(|w| {
            w.is_empty()
                || (unittest && (w.starts_with(b"@") || one_of(w, &["pure", "nothrow", "static"])))
        });
        if attributes {
            out.push(open..matching_bracket(data, open));
        }
    }
    out
}

/// Where the spaces, tabs and newlines from `at` in `data` end.
fn skip_whitespace(data: &[u8], at: usize) -> usize {
    let at = at.min(data.len());
    at + data[at..]
        .iter()
        .take_while(|b| b.is_ascii_whitespace())
        .count()
}

/// The start of the line of each of a series of ascending offsets, found by looking
/// back only as far as the previous offset: on one long line (a minified file's) with
/// many marks, each is not measured again from the line's start.
#[derive(Default)]
struct LineStarts {
    seen: usize,
    start: usize,
}

impl LineStarts {
    fn of(&mut self, data: &[u8], at: usize) -> usize {
        if let Some(i) = memchr::memrchr(b'\n', &data[self.seen..at]) {
            self.start = self.seen + i + 1;
        }
        self.seen = at;
        self.start
    }
}

/// The text of a `#` comment line after its `#` (`None` for another line, or a
/// `#!` interpreter line).
fn comment_text(line: &[u8]) -> Option<&[u8]> {
    let text = line.trim_ascii_start().strip_prefix(b"#")?;
    (!text.starts_with(b"!")).then_some(text)
}

/// The spans of `data`'s documentation comments: a `/** … */` block that opens its
/// line (PHPDoc, Javadoc, JSDoc, Doxygen; WordPress's `wp_salt()` shows a
/// `wp-config.php` in one), and a Jinja comment, `{# … #}`, which a template's
/// author writes to document its variables (an Ansible role's `password: 9fc5…`).
/// Also each line of a Rust documentation comment (`/// let token = "…";`, `//! …`),
/// whose code is a doctest: an example for the reader.
/// Commented-out code is written in plain comments; a glob's `/**/` opens nothing, nor
/// does a shell's `${#var}`.
pub fn doc_comments(data: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    // Whether the marker at `at` opens its line (only indentation before it).
    let opens_line = |lines: &mut LineStarts, at: usize| {
        data[lines.of(data, at)..at]
            .iter()
            .all(|b| matches!(b, b' ' | b'\t'))
    };
    for marker in [&b"///"[..], b"//!"] {
        let (mut next, mut lines) = (0, LineStarts::default());
        for at in memchr::memmem::find_iter(data, marker) {
            if at < next {
                continue;
            }
            let end = memchr::memchr(b'\n', &data[at..]).map_or(data.len(), |e| at + e);
            next = end;
            if opens_line(&mut lines, at) && data.get(at + 3) != Some(&b'/') {
                out.push(at..end);
            }
        }
    }
    let mut next = 0;
    let mut lines = LineStarts::default();
    for at in memchr::memmem::find_iter(data, b"/**") {
        if at < next {
            continue;
        }
        if !opens_line(&mut lines, at) || !data.get(at + 3).is_some_and(u8::is_ascii_whitespace) {
            continue;
        }
        let end = memchr::memmem::find(&data[at + 3..], b"*/").map_or(data.len(), |e| at + 3 + e);
        out.push(at..end);
        next = end;
    }
    let mut next = 0;
    for at in memchr::memmem::find_iter(data, b"{#") {
        if at < next || (at > 0 && data[at - 1] == b'$') {
            continue;
        }
        let Some(e) = memchr::memmem::find(&data[at + 2..], b"#}") else {
            break;
        };
        out.push(at..at + 2 + e);
        next = at + 2 + e;
    }
    out
}

/// The commands that open a Perl POD block (perlpod). Not `=begin`, which opens Ruby's
/// block comments too: commented-out code, whose credentials are as real as any.
const POD_COMMANDS: &[&[u8]] = &[
    b"pod",
    b"head1",
    b"head2",
    b"head3",
    b"head4",
    b"head5",
    b"head6",
    b"over",
    b"item",
    b"encoding",
    b"for",
];

/// The spans of `data`'s Python docstrings: a triple-quoted string that starts its line
/// as a statement of its own, either the module's first (after comments and blank
/// lines) or right after a line that ends in `:` (a `def` or `class` header). Sphinx
/// and `help()` render them as the manual, and their configuration examples
/// (`'user.password': 'yabba1234'`, stem's; boto's `aws_access_key_id='c2e3…'` in
/// swift's) are the manual's. A string assigned or passed (`SQL = """…`) is not one.
pub fn python_docstrings(data: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    // The last byte of the previous line of code; None before the module's first.
    let mut previous: Option<u8> = None;
    let mut at = 0;
    while at < data.len() {
        let end = memchr::memchr(b'\n', &data[at..]).map_or(data.len(), |n| at + n);
        let raw = &data[at..end];
        let line = raw.trim_ascii();
        if line.is_empty() || line[0] == b'#' {
            at = end + 1;
            continue;
        }
        let body = line
            .strip_prefix(b"r")
            .or(line.strip_prefix(b"R"))
            .unwrap_or(line);
        let quotes: Option<&[u8]> = match body.get(..3) {
            Some(q) if q == b"\"\"\"" || q == b"'''" => Some(q),
            _ => None,
        };
        match quotes {
            Some(q) if previous.is_none_or(|b| b == b':') => {
                let lead = raw.len() - raw.trim_ascii_start().len();
                let open = at + lead + (line.len() - body.len()) + 3;
                let close = memchr::memmem::find(&data[open..], q).map_or(data.len(), |n| open + n);
                out.push(at..close);
                // The docstring is a statement: what follows it is not another.
                previous = Some(b'"');
                at = memchr::memchr(b'\n', &data[close..]).map_or(data.len(), |n| close + n) + 1;
            }
            _ => {
                previous = line.last().copied();
                at = end + 1;
            }
        }
    }
    out
}

/// The spans of `data`'s embedded manual: Perl's POD, from a line that starts with a
/// POD command (`=head1 SYNOPSIS`, `=pod`) to the next line that starts with `=cut`
/// (or the end), which `perldoc` renders as the module's manual page. The database
/// logins of a SYNOPSIS (`password => 'ghost'`) are the manual's examples.
pub fn pod_blocks(data: &[u8]) -> Vec<std::ops::Range<usize>> {
    let command = |l: usize| {
        let word = &data[l + 1..];
        let n = word
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        word.get(n)
            .is_none_or(u8::is_ascii_whitespace)
            .then_some(&word[..n])
    };
    let mut out = Vec::new();
    let mut open: Option<usize> = None;
    let starts = (data.first() == Some(&b'=')).then_some(0);
    for l in starts
        .into_iter()
        .chain(memchr::memmem::find_iter(data, b"\n=").map(|i| i + 1))
    {
        let Some(word) = command(l) else { continue };
        match open {
            None if POD_COMMANDS.contains(&word) => open = Some(l),
            Some(start) if word == b"cut" => {
                out.push(start..l);
                open = None;
            }
            _ => {}
        }
    }
    if let Some(start) = open {
        out.push(start..data.len());
    }
    out
}

/// The names Ansible gives a module's documentation (`ansible-doc` renders them),
/// and the names other tools give a usage text.
const DOCUMENTATION_NAMES: &[&[u8]] = &[b"EXAMPLES", b"RETURN", b"DOCUMENTATION"];

/// The spans of `data`'s module documentation, as Ansible modules and plugins write
/// it: a Python string at a line's start assigned to `EXAMPLES`, `RETURN` or
/// `DOCUMENTATION` (`EXAMPLES = r'''` to the closing quotes), or the same names as
/// top-level YAML keys of a plugin's documentation file (`EXAMPLES: |` to the next
/// top-level key). Ansible renders them as the module's manual, so the passwords and
/// tokens in them (`login_password: Cisco#123`, `api_key: "9775a0…"`) are the manual's
/// examples. A string left open runs to the end of `data`.
pub fn documentation_strings(data: &[u8]) -> Vec<std::ops::Range<usize>> {
    let skip_blanks = |at| skip_blanks(data, at);
    let mut out = Vec::new();
    for name in DOCUMENTATION_NAMES {
        for i in memchr::memmem::find_iter(data, name) {
            if i > 0 && data[i - 1] != b'\n' {
                continue;
            }
            let at = skip_blanks(i + name.len());
            match data.get(at) {
                // A Python string: `NAME = r'''` to the closing quotes.
                Some(b'=') => {
                    let mut q = skip_blanks(at + 1);
                    if matches!(data.get(q), Some(b'r' | b'R' | b'u' | b'U')) {
                        q += 1;
                    }
                    let quotes = match data.get(q..q + 3) {
                        Some(t @ (b"'''" | b"\"\"\"")) => t,
                        _ => continue,
                    };
                    let start = q + 3;
                    let end = memchr::memmem::find(&data[start..], quotes)
                        .map_or(data.len(), |e| start + e);
                    out.push(start..end);
                }
                // A YAML key: `NAME:` or `NAME: |` to the next line that starts with
                // text (the next top-level key).
                Some(b':') => out.extend(yaml_block(data, at, 0)),
                _ => {}
            }
        }
    }
    out
}

/// The spans of `data` that an `example` or `examples` key opens: an OpenAPI or JSON
/// Schema document's examples, which API references render as sample requests and
/// responses (Docker's Engine API: `example:` and, indented under it, `JoinToken:
/// "SWMTKN-1-…"`). The block is the key's value when that is a mapping or a list:
/// in YAML, the lines indented deeper than the key (`example:`, `example: |`); in
/// YAML's flow style and in JSON, from the `{` or `[` after the key to its match.
/// (A value on the key's own line is [`set_off_as_example`]'s.)
pub fn example_blocks(data: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut out: Vec<std::ops::Range<usize>> = Vec::new();
    let mut lines = LineStarts::default();
    for i in memchr::memmem::find_iter(data, b"example") {
        // An example inside one already found is part of it: not measured again (an
        // input nested a hundred thousand deep would be measured as many times).
        if out.last().is_some_and(|r| r.contains(&i)) {
            continue;
        }
        let mut end = i + b"example".len();
        if data.get(end) == Some(&b's') {
            end += 1;
        }
        // JSON's and quoted YAML's `"example"`.
        let quoted = i > 0 && data[i - 1] == b'"' && data.get(end) == Some(&b'"');
        let (key, end) = if quoted { (i - 1, end + 1) } else { (i, end) };
        if key > 0
            && (data[key - 1].is_ascii_alphanumeric() || matches!(data[key - 1], b'_' | b'-'))
        {
            continue;
        }
        let colon = skip_blanks(data, end);
        if data.get(colon) != Some(&b':') {
            continue;
        }
        let value = skip_blanks(data, colon + 1);
        if matches!(data.get(value), Some(b'{' | b'[')) {
            out.push(value..matching_bracket(data, value));
            continue;
        }
        // A YAML block under a key that starts its line (after a list's `- `).
        let line_start = lines.of(data, key);
        let lead = &data[line_start..key];
        if lead.iter().all(|&b| b == b' ') || lead.trim_ascii() == b"-" && lead.ends_with(b" ") {
            out.extend(yaml_block(data, colon, key - line_start));
        }
    }
    out
}

/// Where the spaces and tabs from `at` in `data` end.
fn skip_blanks(data: &[u8], at: usize) -> usize {
    at + data[at.min(data.len())..]
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t'))
        .count()
}

/// The YAML block that the key whose colon is at `colon`, in column `column`, opens,
/// if its value is one (nothing after the colon on its line, or a `|` or `>` block
/// scalar's header): from the end of the key's line to the first line that starts
/// with text at the key's column or left of it.
fn yaml_block(data: &[u8], colon: usize, column: usize) -> Option<std::ops::Range<usize>> {
    let start = memchr::memchr(b'\n', &data[colon..]).map_or(data.len(), |n| colon + n);
    if !matches!(
        data[colon + 1..start].trim_ascii(),
        b"" | b"|" | b">" | b"|-" | b">-"
    ) {
        return None;
    }
    let end = memchr::memchr_iter(b'\n', &data[start..])
        .map(|n| start + n + 1)
        .find(|&l| {
            let indent = data[l..].iter().take_while(|&&b| b == b' ').count();
            indent <= column
                && data
                    .get(l + indent)
                    .is_some_and(|b| !b.is_ascii_whitespace())
        })
        .unwrap_or(data.len());
    Some(start..end)
}

/// Where the `{` or `[` at `open` is closed in `data` (brackets inside strings not
/// counted), or `data`'s end if it is not.
fn matching_bracket(data: &[u8], open: usize) -> usize {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (i, &b) in data.iter().enumerate().skip(open) {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
    }
    data.len()
}

/// Where the first Rust unit-test module of `data` starts (`#[cfg(test)]` and then
/// `mod …`, or a `mod tests {` line), if any: Rust keeps unit tests in a module at
/// the end of the source file they test, so what follows is test code, and a
/// free-form value there is judged as one in a test file ([`Placement`]'s
/// `free_form_made_up`).
pub fn rust_test_module_start(data: &[u8]) -> Option<usize> {
    // What may stand between the attribute and `mod`: more attributes on their own
    // lines (`#[cfg(feature = "test-electrum")]`) and a visibility (`pub(crate) mod`).
    fn opens_module(mut rest: &[u8]) -> bool {
        loop {
            rest = rest.trim_ascii_start();
            if rest.starts_with(b"#[") {
                match memchr::memchr(b'\n', rest) {
                    Some(nl) => rest = &rest[nl..],
                    None => return false,
                }
                continue;
            }
            for visibility in [&b"pub(crate) "[..], b"pub(super) ", b"pub "] {
                if let Some(r) = rest.strip_prefix(visibility) {
                    rest = r;
                    break;
                }
            }
            return rest.starts_with(b"mod ");
        }
    }
    let cfg =
        memchr::memmem::find_iter(data, b"#[cfg(test)]").find(|&i| opens_module(&data[i + 12..]));
    let tests = memchr::memmem::find(data, b"\nmod tests {");
    cfg.into_iter().chain(tests).min()
}

/// The text a base32 value (RFC 4648, as TOTP secrets are written:
/// `KRSXG5CTMVRXEZLUKN2XAZLSKNSWG4TFOQ`) decodes to, if it is 16 characters or more
/// and decodes to printable ASCII: a generated secret decodes to random bytes, so a
/// secret that reads as text was typed ("TestSecretSuperSecret").
fn base32_text(v: &[u8]) -> Option<Vec<u8>> {
    let body = &v[..v.len() - v.iter().rev().take_while(|&&b| b == b'=').count()];
    if body.len() < 16
        || !body
            .iter()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(b))
    {
        return None;
    }
    let decoded = data_encoding::BASE32_NOPAD.decode(body).ok()?;
    decoded
        .iter()
        .all(|b| b.is_ascii_graphic() || *b == b' ')
        .then_some(decoded)
}

fn names_example_host(text: &[u8]) -> bool {
    ["example.com", "example.org", "example.net"]
        .iter()
        .any(|h| contains_ignore_ascii_case(text, h.as_bytes()))
}

/// True for lowercase words joined by hyphens or underscores (`synthetic-local-reader`,
/// `_aj_hash_with_indifferent_access`), at least three of them words of three or more
/// letters (or two among four pieces or more: `rb-cm-codeblock-plain`); numbers and
/// prefixes of one or two characters may sit between them, and a short generated
/// suffix of hex may end them (`github-github-oauthtoken-319d75`, the name of a
/// secret in a secret manager).
fn is_slug(v: &[u8]) -> bool {
    let (mut words, mut pieces) = (0, 0);
    let v = v.strip_prefix(b"_").unwrap_or(v);
    let v = v.strip_suffix(b"_").or(v.strip_suffix(b"-")).unwrap_or(v);
    let mut rest = v.split(|&b| b == b'-' || b == b'_').peekable();
    while let Some(piece) = rest.next() {
        pieces += 1;
        let hex_suffix = rest.peek().is_none()
            && words >= 3
            && (3..=8).contains(&piece.len())
            && piece.iter().any(u8::is_ascii_digit)
            && piece
                .iter()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b));
        // An initialism among the words (`the_key_I_got_for_a_google_API`).
        let initialism = piece.len() <= 3 && piece.iter().all(u8::is_ascii_uppercase);
        if piece.len() >= 3 && piece.iter().all(u8::is_ascii_lowercase) {
            words += 1;
        } else if !hex_suffix
            && !initialism
            && (!(1..=2).contains(&piece.len())
                || !piece
                    .iter()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
        {
            return false;
        }
    }
    // Or two words behind two short prefixes (`rb-cm-codeblock-plain`, an editor
    // mode's token name).
    words >= 3 || (words == 2 && pieces >= 4)
}

/// Four-letter words spelt in hex (`deadbeef`, `cafebabe`, `f00d`).
const HEXSPEAK: &[&str] = &[
    "dead", "beef", "cafe", "babe", "f00d", "feed", "face", "fade", "d00d", "c0de", "b00b",
];

/// True for a free-form value typed rather than generated: hex holding two different hexspeak
/// words (`e3b68aa7…deadc62d…beef7cc3…cafe…`), a run of seven ascending letters or
/// digits (`AKIAABCDEFGUE1234567`), or one half typed twice. None of these happens in
/// a random value more than about once in twenty thousand. (Not applied to a
/// provider's token format, whose prefix and length already say much.)
fn typed_pattern(v: &[u8]) -> bool {
    if ascending_run(v, 7)
        || KEYBOARD_RUNS
            .iter()
            .any(|k| contains_ignore_ascii_case(v, k.as_bytes()))
    {
        return true;
    }
    if made_of_runs(v) {
        return true;
    }
    // One half typed twice (`peWcBiMOS9HrZG15peWcBiMOS9HrZG15`).
    if v.len() >= 16 && v.len().is_multiple_of(2) && v[..v.len() / 2] == v[v.len() / 2..] {
        return true;
    }
    v.len() >= 16
        && v.iter().all(u8::is_ascii_hexdigit)
        && HEXSPEAK
            .iter()
            .filter(|w| contains_ignore_ascii_case(v, w.as_bytes()))
            .count()
            >= 2
}

/// True when runs along the alphabet or the digits (three or more, either way) fill
/// twelve or more of a value's characters, one of them six long
/// (`…ghiMz_RtyuvwXYZ123abc`): typed, not drawn. Random hex holds a run of six about
/// once in 16^5 positions, and the other runs on top of it make the whole rarer still.
fn runs_through(v: &[u8]) -> bool {
    let (mut covered, mut longest) = (0, 0);
    each_run(v, |run, _| {
        if run >= 3 {
            covered += run;
            longest = longest.max(run);
        }
    });
    longest >= 6 && covered >= 12
}

/// Calls `f` with the length of every maximal run along the alphabet or the digits
/// in `v` and whether it ascends: first the ascending runs, which cut `v` into pieces
/// (a byte that starts no run is a run of one), then the descending ones, which cut
/// it again.
fn each_run(v: &[u8], mut f: impl FnMut(usize, bool)) {
    if v.is_empty() {
        return;
    }
    for up in [true, false] {
        let mut run = 1;
        for w in v.windows(2) {
            let step = if up {
                ascends(w[0], w[1])
            } else {
                ascends(w[1], w[0])
            };
            if step {
                run += 1;
            } else {
                f(run, up);
                run = 1;
            }
        }
        f(run, up);
    }
}

/// True when the name the value is assigned to calls it a stand-in (`dummyHash`,
/// `fake_token`, `MOCK_API_KEY`): a value made up for tests or timing, named so.
fn named_as_a_stand_in(before: &[u8]) -> bool {
    let key = key_before(before, before.len());
    ["dummy", "fake", "mock"]
        .iter()
        .any(|w| contains_ignore_ascii_case(key, w.as_bytes()))
}

/// True for a value of six or more letters and digits made only of ascending runs of
/// three or more (`abc123ABC`, `xyz789`, `123abcd`): the stand-in passwords of
/// documentation, typed along the alphabet and the digits.
fn made_of_runs(v: &[u8]) -> bool {
    let mut every_run_long = true;
    each_run(v, |run, up| every_run_long &= !up || run >= 3);
    v.len() >= 6 && v.iter().all(u8::is_ascii_alphanumeric) && every_run_long
}

/// True when a row of the keyboard ([`KEYBOARD_RUNS`]) was typed twice or more into
/// a value (`AKIAJHTMIQ2ASDFLASDF`, Salt's documentation): once happens in random
/// text about once in fifty thousand, twice practically never.
fn typed_along_keyboard(v: &[u8]) -> bool {
    v.len() <= 256
        && KEYBOARD_RUNS
            .iter()
            .map(|k| {
                v.windows(k.len())
                    .filter(|w| w.eq_ignore_ascii_case(k.as_bytes()))
                    .count()
            })
            .sum::<usize>()
            >= 2
}

/// Rows of a keyboard typed along (`asdfqwer1234asdf`), and the shifted digits
/// (`pass!@#$%^&*()`, also percent-encoded as in a URI).
const KEYBOARD_RUNS: &[&str] = &["qwert", "asdf", "zxcv", "!@#$%", "%21%40%23%24"];

/// True when `v` holds `n` or more letters or digits in ascending order
/// (`SCW1234567890ABCDEFG`, `abcdefgh`), or descending (`987654321`): typed into a
/// token's shape. In a random base62 token a run of eight happens about once in
/// 10^12 positions, so even a provider's exact format holding one is an example.
fn ascending_run(v: &[u8], n: usize) -> bool {
    let mut found = false;
    each_run(v, |run, _| found |= run >= n);
    found
}

/// True when `b` follows `a` in the alphabet (either case) or among the digits.
fn ascends(a: u8, b: u8) -> bool {
    let (a, b) = (a.to_ascii_lowercase(), b.to_ascii_lowercase());
    a.checked_add(1) == Some(b)
        && (a.is_ascii_digit() && b.is_ascii_digit()
            || a.is_ascii_lowercase() && b.is_ascii_lowercase())
}

/// True for an e-mail address (`data@sunpy.org`): as a password, the convention of
/// anonymous FTP, which asks for one.
fn is_email(v: &[u8]) -> bool {
    let Some(at) = v.iter().position(|&b| b == b'@') else {
        return false;
    };
    let (local, domain) = (&v[..at], &v[at + 1..]);
    !local.is_empty()
        && local
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"._+-".contains(b))
        && domain.contains(&b'.')
        && !domain.ends_with(b".")
        && domain
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b".-".contains(b))
        && domain
            .iter()
            .rev()
            .take_while(|&&b| b != b'.')
            .all(u8::is_ascii_alphabetic)
}

/// Signing keys of the JWTs that documentation shows: jwt.io's defaults, and the
/// `secret` / `shhhhh` of the PyJWT and jsonwebtoken READMEs.
const EXAMPLE_JWT_KEYS: &[&str] = &[
    "your-256-bit-secret",
    "your-384-bit-secret",
    "your-512-bit-secret",
    "secret",
    "shhhhh",
    "secretkey",
    "secret-key",
    "your-secret-key",
    "my-secret",
    "mysecret",
    "supersecret",
    "changeme",
];

/// True for an HMAC-signed JWT (HS256, HS384, HS512) whose signature verifies with
/// one of the [`EXAMPLE_JWT_KEYS`]: a documentation example, which anyone can forge.
fn jwt_signed_with_example_key(token: &[u8]) -> bool {
    use base64::Engine as _;
    use hmac::{Hmac, Mac};
    let (Some(header), Some(dot)) = (jwt_part(token, 0), memchr::memrchr(b'.', token)) else {
        return false;
    };
    let (signed, signature) = (&token[..dot], &token[dot + 1..]);
    let Ok(signature) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(signature) else {
        return false;
    };
    fn verifies<M: Mac + hmac::digest::KeyInit>(signed: &[u8], signature: &[u8]) -> bool {
        EXAMPLE_JWT_KEYS.iter().any(|k| {
            let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(k.as_bytes())
                .expect("HMAC takes keys of any length");
            mac.update(signed);
            mac.verify_slice(signature).is_ok()
        })
    }
    let alg = |name: &[u8]| memchr::memmem::find(&header, name).is_some();
    if alg(b"\"HS256\"") {
        verifies::<Hmac<sha2::Sha256>>(signed, &signature)
    } else if alg(b"\"HS384\"") {
        verifies::<Hmac<sha2::Sha384>>(signed, &signature)
    } else if alg(b"\"HS512\"") {
        verifies::<Hmac<sha2::Sha512>>(signed, &signature)
    } else {
        false
    }
}

/// Part `n` of a JWT (0 the header, 1 the payload, 2 the signature), decoded from
/// base64url; None if `token` is not a JWT of at most 4 KiB or the part does not
/// decode.
fn jwt_part(token: &[u8], n: usize) -> Option<Vec<u8>> {
    use base64::Engine as _;
    if !token.starts_with(b"eyJ") || token.len() > 4096 {
        return None;
    }
    let part = token.split(|&b| b == b'.').nth(n)?;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .ok()
}

/// Claims that only documentation puts in a JWT: a claim whose whole value is an
/// example word (`{"data":"test"}`, the ruby-jwt README's payload), jwt.io's default
/// subject, or the word `example` (`urn:example:claim`, `https://example.com`).
const EXAMPLE_JWT_CLAIMS: &[&str] = &[
    "\"test\"",
    "\"sample\"",
    "\"demo\"",
    "\"fake\"",
    "\"1234567890\"",
    "\"john doe\"",
    // The cartoons' company, every tutorial's issuer (`{"iss": "Acme"}`).
    "\"acme\"",
    "example",
];

/// [`claims_name_an_example`] for a whole JWT.
#[cfg(test)]
fn jwt_with_example_claims(token: &[u8]) -> bool {
    jwt_part(token, 1).is_some_and(|p| claims_name_an_example(&p))
}

/// True for a JWT payload that holds one of the [`EXAMPLE_JWT_CLAIMS`].
fn claims_name_an_example(payload: &[u8]) -> bool {
    EXAMPLE_JWT_CLAIMS
        .iter()
        .any(|c| contains_ignore_ascii_case(payload, c.as_bytes()))
}

/// True when the secret is the password of a URI's `user:password@` whose user is
/// the password itself (`postgres:postgres`, a default login) or Oracle's sample
/// user `scott` (of `scott:tiger`).
fn sample_login(before: &[u8], secret: &[u8]) -> bool {
    let Some(rest) = before.strip_suffix(b":") else {
        return false;
    };
    let user_start = rest
        .iter()
        .rposition(|b| !(b.is_ascii_alphanumeric() || b"._~%+-".contains(b)))
        .map_or(0, |i| i + 1);
    let user = &rest[user_start..];
    rest[..user_start].ends_with(b"//")
        && !user.is_empty()
        && (user.eq_ignore_ascii_case(secret) || user.eq_ignore_ascii_case(b"scott"))
}

/// True when the password is anonymous FTP's, which any string or e-mail address
/// passes: the user set to `anonymous` on the line above (`$FTP_USER = "anonymous";`
/// then `$FTP_PASS = "kraken2download";`) or in the URI (`ftp://anonymous:…@`).
fn anonymous_login(above: &[u8], before: &[u8]) -> bool {
    let last = last_line(above.strip_suffix(b"\n").unwrap_or(above));
    let names_anonymous = |text: &[u8]| {
        memchr::memmem::find_iter(text, b"anonymous").any(|i| {
            i > 0
                && matches!(text[i - 1], b'"' | b'\'' | b'/' | b'=' | b' ')
                && !text
                    .get(i + 9)
                    .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
        })
    };
    before.ends_with(b"anonymous:") && names_anonymous(before)
        || (contains_ignore_ascii_case(last, b"user") && names_anonymous(last))
}

/// True when the secret sits in a shell command continued over lines, each but the
/// last ending in `\`, that names an example domain (`CLOUDFLARE_EMAIL=you@example.com
/// \`, then the key, then `lego --domains www.example.com run`): a manual's example
/// command. At most eight lines each way are read, within 4 KiB each way (so that
/// many findings on one long line do not each read the line to its end).
fn in_example_command(preceding: &[u8], before: &[u8], after: &[u8]) -> bool {
    const LINES: usize = 8;
    const WINDOW: usize = 4096;
    let preceding = &preceding[preceding.len().saturating_sub(WINDOW)..];
    let after = &after[..after.len().min(WINDOW)];
    let continued = |line: &[u8]| line.trim_ascii_end().ends_with(b"\\");
    // Up: the lines above that continue into this one.
    let mut start = preceding.len();
    for _ in 0..LINES {
        let Some(prev_end) = start.checked_sub(1) else {
            break;
        };
        let prev_start = memchr::memrchr(b'\n', &preceding[..prev_end]).map_or(0, |i| i + 1);
        if !continued(&preceding[prev_start..prev_end]) {
            break;
        }
        start = prev_start;
    }
    // Down: the rest of this line and the lines it continues into.
    let mut end = 0;
    for _ in 0..=LINES {
        let line_end = memchr::memchr(b'\n', &after[end..]).map_or(after.len(), |i| end + i);
        let more = continued(&after[end..line_end]) && line_end < after.len();
        end = line_end;
        if !more {
            break;
        }
        end += 1;
    }
    let (up, down) = (&preceding[start..], &after[..end]);
    (!up.is_empty() || memchr::memchr(b'\n', down).is_some())
        && (names_example_host(up) || names_example_host(before) || names_example_host(down))
}

/// True for a UUID in its canonical 8-4-4-4-12 hex form.
fn is_uuid(v: &[u8]) -> bool {
    v.len() == 36
        && v.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// True when the secret holds one of the [`EXAMPLE_MARKERS`]. A lowercase `test`
/// standing between `_` or `-` separators (`sk_test_`, `key_test_`, `test_pub_`) is
/// the test-mode segment of a provider's format, not an example word: test-mode keys
/// are live credentials of a test account.
pub fn looks_like_example(secret: &[u8]) -> bool {
    if secret.len() > LONG_VALUE {
        return long_value_names_example(secret);
    }
    let test_mode_segment = |i: usize| {
        secret[i..].starts_with(b"test")
            && (i == 0 || matches!(secret[i - 1], b'_' | b'-'))
            && matches!(secret.get(i + 4), Some(b'_' | b'-'))
    };
    EXAMPLE_MARKER_FINDER
        .find_overlapping_iter(secret)
        .any(|m| !test_mode_segment(m.start()))
}

/// [`EXAMPLE_MARKERS`], matched case-insensitively.
static EXAMPLE_MARKER_FINDER: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(EXAMPLE_MARKERS)
        .expect("example markers build")
});

/// Beyond this many bytes a value is a key block (PEM, PGP) or a long token, whose
/// random text spells a four-letter marker by chance: `FaKe` turns up in about one
/// 2048-bit PEM key in a hundred.
const LONG_VALUE: usize = 256;

/// [`looks_like_example`] for a value longer than [`LONG_VALUE`]: a marker counts
/// only when written as a word is (`example`, `EXAMPLE`, `Example`), set off from the
/// text on one side at least, and not in a header line (`Comment: <alice@example.org>`
/// names a test key's owner; the key is still a key).
fn long_value_names_example(secret: &[u8]) -> bool {
    secret
        .split(|&b| b == b'\n')
        .filter(|line| !is_header_line(line))
        .any(|line| {
            EXAMPLE_MARKERS.iter().any(|m| {
                line.windows(m.len()).enumerate().any(|(i, w)| {
                    let cased = w.eq_ignore_ascii_case(m.as_bytes())
                        && (w.iter().all(u8::is_ascii_uppercase)
                            || w[1..].iter().all(u8::is_ascii_lowercase));
                    let set_off = i == 0
                        || !line[i - 1].is_ascii_alphanumeric()
                        || line
                            .get(i + m.len())
                            .is_none_or(|b| !b.is_ascii_alphanumeric())
                        // Seven capitals or more spell a marker by chance about
                        // once in 4 * 10^12 positions of base64, so they count
                        // anywhere (`…qwjzP2iEXAMPLEbw…`, the AWS CLI's example
                        // session token).
                        || (m.len() >= 7 && w.iter().all(u8::is_ascii_uppercase));
                    cased && set_off
                })
            })
        })
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
    // The example credentials of the OAuth 2.0 RFCs (6749, 6750): client s6BhdRkqt3
    // with secret gX1fBat3bV (and their Basic header), the access, refresh and
    // authorization-code examples and the bearer token mF_9.B5f-4.1JqM.
    "s6bhdrkqt3",
    "gx1fbat3bv",
    "czzcagrsa3f0mzpnwdfmqmf0m2jw",
    "2yotnfzfejr1zcsicmwpaa",
    "tgzv3jokf0xg5qx2tlkwia",
    "splxlobezqqybys6wxsbia",
    "mf_9.b5f-4.1jqm",
    // Keys published for anyone to use: the Azure Storage emulator's (Azurite's)
    // well-known account key, the test keys of Stripe's API reference, and the
    // signature of jwt.io's example token.
    "eby8vdm02xnocqflquwjpllmetlcdxj1ouzft50usrz6ifsufq2uvercz4i6tq",
    "4ec39hqlyjwdarjtt1zdp7dc",
    "bqokikjovbii2hlwgh4olfq2",
    "sflkxwrjsmekkf2qt4fwpmejf36pok6yjv_adqssw5c",
    // The access and secret key of MinIO's public playground, play.min.io.
    "q3am3uq867spqqa43p2f",
    "zuf+tfteslswru7bj86wekitnifilbzam1kyy3tg",
    // The secret keys of Flask's documentation (its configuration chapter's two, and the
    // quickstart's older `_5#y2L"F4Q8z\n\xec]/`), copied into many tutorial apps.
    "192b9bdd22ab9ed4d12e236c78afcb9a",
    "5f352379324c22463451387a0aec5d2f",
    "_5#y2l\"f4q8z",
    // The key of the Fernet specification's test vectors, and its tokens' timestamp
    // (1985-10-26T01:20:00Z), carried by every Fernet library's tests.
    "cw_0x689rpi-jtrr7oe8h_eqskimvjaples",
    "gaaaaaadwj6",
    // The API key and secret of Binance's API documentation (its signed-request
    // example), and the API key of Mollie's documentation.
    "vmpuze6mv9sd5vnhk4hlwfsor6ake2zvsw0muigwcipy6utico14y7ju91dueh8a",
    "nhqptmdsjydkjvhja7pzj4mge3r5ynip1e3uzjinclvn65xabvqqm6a7h5fatj0j",
    "dhar4xy7lxsdotmnkvtjnvwxlslxsm",
    // The shared secret of the HOTP and TOTP RFCs' test vectors (4226, 6238),
    // "12345678901234567890", in base32.
    "gezdgnbvgy3tqojq",
    // The signature of the example SAS token in AWS DataSync's documentation.
    "abbkdwqvyuvctph9ebp",
    // The secret seeds of Stellar's documentation examples (sending a payment, issuing
    // an asset) and the private key of web3.js's account documentation.
    "sczangba5yhtnyvvv4c3u252e2b6p6f5",
    "sdsavcre5jrai7ufavle5imizrd6n6wo",
    "4c0883a69102937d6231471b5dbb6204",
    // RFC 9500's 1024-bit RSA test key, published for tests to share.
    "cw0ynsqi9t1vfvrsioejz9feikz1sgg",
    // What GitHub documents as the password beside a token in a clone URL.
    "x-oauth-basic",
    // The access token of GitHub's OAuth web-flow documentation.
    "16c7e42f292c6912e7710c838347ae178b4a",
    // The bearer token of Twitter's web client, public in its scripts and used by
    // every scraper (snscrape, twint).
    "nrilgaaaaaannwizuejrcouh5e6i8xnzz4puts",
    // `OVERWRITE_IN_ConstantsCred`: a value to be replaced where it says.
    "overwrite_",
    // The bcrypt hash of `password` that Node-RED's security documentation and its
    // default settings.js (commented out) show for adminAuth and httpNodeAuth.
    "zzwtxtja0fb1pzd4shcmyocmyz2z6dnbm6tl8sjogenomcxwv9dn",
    // The request and access tokens and secrets of Twitter's OAuth 1.0a
    // documentation (`oauth/request_token`, `oauth/access_token`).
    "z6eedo8momk394wozf5okyuav855l4mlqo7hhlsl",
    "kd75w4oqfb2ojtv0vzgzexftvawgmnek9mumzycm",
    "ewudhldsbiaelx7swmsihimel4kinw",
    "2eefa6bg3ly3sr3rje0ibsnlqu4zr",
    // The reference values of Twitter's "Creating a signature" documentation
    // (consumer key and secret, token and token secret, nonce), which OAuth 1.0a
    // libraries' tests replay.
    "xvz1evfs4weeptgefphbog",
    "kacsoqf21fu85e7zjz7zn2u4zrhfv3wpwpaoe3z7kbw",
    "gmhxmagyylbnetikzernfsmkpr9eymzes9wejaeb",
    "lswwdouaivs8ltytt5jkrh4j50vupvvhtr2ypi5ke",
    "kyjzvbb8y0zfabxswbwovy3uysq2ptgmzenu2vs4cg",
    // The access and refresh tokens of Google's OAuth 2.0 documentation (web-server
    // flow), `1/fFAGRNJru1FTz70BzhT3Zg` and `1/xEoDL4iW3cxlI7yDbSRFYNG01kVKM2C-…`,
    // with the prefix of the first that copies extend (`1/fFAGRNJrufoiWEGIWEFJFJF`).
    "1/ffagrnjru",
    // ... and the same token edited in GDAL's comments (`1/fFBGRNJru1FQd44AzqT3Zg`).
    "grnjru1f",
    "xeodl4iw3cxli7ydbsrfyng01kvkm2c",
    "placeholder",
    "changeme",
    "change_me",
    "change-me",
    "changethis",
    "change_this",
    "change-this",
    "your_",
    "your-",
    // `password: your@login`: anonymous FTP's instructions, for an address.
    "your@",
    "yourkey",
    "yourtoken",
    "yoursecret",
    "yourpass",
    // `BSA_real_key_here_12345`, `api-key-here`.
    "_here",
    "-here",
    "insert_",
    "insert-",
    "replace_me",
    "some_pass",
    "some_secret",
    "some_token",
    "some-secret",
    "some-token",
    "replaceme",
    "redacted",
    // What log scrubbers and Rails' parameter filter put in a secret's place.
    "[scrubbed]",
    "[filtered]",
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

/// True for the unsalted MD5, SHA-1, SHA-256 or SHA-512 hex digest of a stand-in or
/// default password (`admin`, `password`, `123456`): a seeded admin's hash
/// (`admin['password'] = "8c6976e5…"`, SHA-256 of `admin`), which any lookup table
/// reverses, shows a default, not a secret.
fn hashes_a_stand_in(secret: &[u8]) -> bool {
    use sha2::Digest as _;
    static DIGESTS: LazyLock<std::collections::HashSet<String>> = LazyLock::new(|| {
        let words = STAND_IN_PASSWORDS.iter().chain(HASHED_DEFAULTS);
        words
            .flat_map(|w| {
                let w = w.as_bytes();
                [
                    hex::encode(md5::Md5::digest(w)),
                    hex::encode(sha1::Sha1::digest(w)),
                    hex::encode(sha2::Sha256::digest(w)),
                    hex::encode(sha2::Sha512::digest(w)),
                ]
            })
            .collect()
    });
    is_hex_digest(secret)
        && std::str::from_utf8(&secret.to_ascii_lowercase()).is_ok_and(|s| DIGESTS.contains(s))
}

/// Default and stand-in passwords whose digests [`hashes_a_stand_in`] knows, besides
/// [`STAND_IN_PASSWORDS`].
const HASHED_DEFAULTS: &[&str] = &[
    "password",
    "root",
    "test",
    "guest",
    "secret",
    "changeme",
    "demo",
    "qwerty",
    "letmein",
    "admin123",
    "password123",
    "12345678",
    "123456789",
    "toor",
    "default",
];

/// Runs typed for a stand-in value (`sk-live-abc123xyz789`, `tess_live_key2_xyz789`): a
/// generic value holding one is low confidence.
const STAND_IN_RUNS: &[&str] = &["abc123", "123abc", "xyz789", "xyz123", "789xyz"];

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
    // The same, HTML-escaped in a rendered page (`&lt;token&gt;`).
    if starts_with_ignore_case(secret, b"&lt;") && ends_with_ignore_case(secret, b"&gt;") {
        return true;
    }
    if secret.ends_with(b"EXAMPLE") {
        return true;
    }
    if secret.iter().all(|&b| b == secret[0])
        || is_periodic(secret)
        || has_filler_run(secret)
        || few_symbols(secret)
    {
        return true;
    }
    static MARKERS: LazyLock<AhoCorasick> = LazyLock::new(|| {
        AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(PLACEHOLDER_MARKERS)
            .expect("placeholder markers build")
    });
    if secret.len() > LONG_VALUE {
        // In a key block's random text `xXxX` turns up by chance; filler is a run. A
        // header line's text is not the key's (`A-Header: 64 characters long......`,
        // a PEM parser's test key).
        return MARKERS.find_overlapping_iter(secret).any(|m| {
            !in_header_line(secret, m.start())
                && (PLACEHOLDER_MARKERS[m.pattern().as_usize()] != "xxxx"
                    || secret[m.start()..]
                        .iter()
                        .take_while(|&&b| b == secret[m.start()])
                        .count()
                        >= 8)
        });
    }
    MARKERS.is_match(secret)
}

/// True when the line of `text` that holds offset `at` is a header line
/// ([`is_header_line`]).
fn in_header_line(text: &[u8], at: usize) -> bool {
    let start = memchr::memrchr(b'\n', &text[..at]).map_or(0, |i| i + 1);
    let end = memchr::memchr(b'\n', &text[at..]).map_or(text.len(), |i| at + i);
    is_header_line(&text[start..end])
}

/// True for a header line of a key block (`Name: value`, as in a PEM or PGP block),
/// whose words describe the key (`Comment: <alice@example.org>`) rather than stand
/// for it.
fn is_header_line(line: &[u8]) -> bool {
    memchr::memmem::find(line, b": ").is_some()
}

/// True for a value of twelve bytes or more that repeats a unit of at most ten
/// (`01234567890123456789012345678901`, `abcabcabcabc`): filler typed into a
/// token's shape. A generated token never repeats like this.
fn is_periodic(v: &[u8]) -> bool {
    v.len() >= 12 && (2..=10.min(v.len() / 2)).any(|p| v[p..] == v[..v.len() - p])
}

/// True for sixteen bytes or more of at most three different symbols
/// (`12312312312312312312312312321312`): typed, not generated. Sixteen random hex
/// digits use three or fewer about once in a billion.
fn few_symbols(v: &[u8]) -> bool {
    v.len() >= 16 && {
        let mut seen = [false; 256];
        let mut n = 0;
        v.iter().all(|&b| {
            if !seen[b as usize] {
                seen[b as usize] = true;
                n += 1;
            }
            n <= 3
        })
    }
}

/// True when one letter repeats `n` times or more in a row (`c0d3b4ssssss!`, Octokit's
/// README): a key held down while typing a stand-in.
fn letter_run(v: &[u8], n: usize) -> bool {
    run_of(v, n, |b| b.is_ascii_alphabetic())
}

/// True when a letter other than `A` (base64 of zero bytes) repeats twelve times or
/// more (`6Lc6BAAAAAAAAChqRbQZcn_yyyyyyyyyyyyyyyyy`): a token's tail filled in by hand.
fn has_filler_run(v: &[u8]) -> bool {
    run_of(v, 12, |b| b.is_ascii_alphabetic() && b != b'A')
}

/// True when eight zeros or more end a longer value
/// (`ghp_PersonalAccessToken01245678900000000`, Octokit's README; an FCM token's
/// `APA91bSAMPLE_DATA_000…`): a token's tail filled in by hand. Eight random base62
/// characters are all `0` about once in 10^14, eight hex digits once in 4 billion.
fn zero_filled(v: &[u8]) -> bool {
    v.len() > 16 && v.iter().rev().take_while(|&&b| b == b'0').count() >= 8
}

/// True when a byte that `counts` repeats `n` times or more in a row in `v`.
fn run_of(v: &[u8], n: usize, counts: impl Fn(u8) -> bool) -> bool {
    let mut run = 1;
    v.windows(2).any(|w| {
        run = if w[0] == w[1] { run + 1 } else { 1 };
        run >= n && counts(w[0])
    })
}

/// True when a short base64 secret decodes to `user:password` whose password is a
/// placeholder or a stand-in word (`dGVzdDp0ZXN0`, "test:test"): the Basic header
/// or Docker `auth` value of an example, not a credential.
#[cfg(test)]
fn encodes_placeholder_credentials(secret: &[u8]) -> bool {
    short_base64_text(secret).is_some_and(|text| is_placeholder_credentials(&text))
}

/// The decoded half of [`encodes_placeholder_credentials`]: `text` is `user:password`
/// with a placeholder or stand-in password.
fn is_placeholder_credentials(text: &[u8]) -> bool {
    // Or a JSON object's password (`{"UserID":"defaultUser","Password":"defaultPassword"}`,
    // a local development server's fixed token).
    if text.starts_with(b"{") {
        return json_password(text)
            .is_some_and(|p| is_placeholder(p) || names_password_word(p) || looks_like_example(p));
    }
    let Some(colon) = text.iter().position(|&b| b == b':') else {
        return false;
    };
    let password = &text[colon + 1..];
    password.is_empty()
        || is_placeholder(password)
        || one_of(password, NON_SECRET_VALUES)
        || one_of(password, EXAMPLE_MARKERS)
        || one_of(password, STAND_IN_PASSWORDS)
}

/// What a short value decodes to when it is base64 (alphabet checked first, so that
/// most tokens are turned away without a decoding attempt).
/// The string value of a `"password"` key (any case, also `"Password"`) in a JSON
/// text, if it has one.
fn json_password(text: &[u8]) -> Option<&[u8]> {
    const KEY: &[u8] = b"password\"";
    let at = (0..text.len().saturating_sub(KEY.len())).find(|&i| {
        text[i..i + KEY.len()].eq_ignore_ascii_case(KEY) && i > 0 && text[i - 1] == b'"'
    })?;
    let rest = text[at + KEY.len()..]
        .trim_ascii_start()
        .strip_prefix(b":")?;
    let rest = rest.trim_ascii_start().strip_prefix(b"\"")?;
    Some(&rest[..memchr::memchr(b'"', rest)?])
}

fn short_base64_text(value: &[u8]) -> Option<Vec<u8>> {
    let alphabet = value
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
    if value.len() > 256 || !alphabet {
        return None;
    }
    super::decode::decode(value, super::decode::Encoding::Base64)
}

/// True when `v` is, whole and ignoring case, one of `words`.
fn one_of(v: &[u8], words: &[&str]) -> bool {
    words.iter().any(|w| v.eq_ignore_ascii_case(w.as_bytes()))
}

/// Passwords that only ever stand in for one in examples and tests (`foo:bar`,
/// `user:pass`).
const STAND_IN_PASSWORDS: &[&str] = &[
    "pass",
    "pwd",
    "psw",
    "foo",
    "bar",
    "baz",
    "foobar",
    "user",
    "username",
    "tiger",
    "mypass",
    "mypwd",
    "mypw",
    // No password, written as one (`mysql://root:none@localhost/test`).
    "none",
    "admin",
    "123456",
    "abc123",
    "1234",
    "12345",
    "masterkey",
    // The password of Vagrant's base boxes, in every guide to them.
    "vagrant",
    // The password MySQL Sandbox and dbdeployer give every sandbox they create.
    "msandbox",
    // The password of RFC 5802's SCRAM example exchange (user `user`), which SCRAM
    // libraries' tests replay.
    "pencil",
    // The password of the users of Subversion's test suite (`jrandom`, `jconstant`).
    "rayjandom",
    // The control password NZBGet ships in its default nzbget.conf and its installer
    // prints for the web interface.
    "tegbzn6789",
];

/// True for a metasyntactic word joined to a password word (`barpass`, `foo_secret`,
/// `bazpwd`), as manuals write a password beside `foouser`, or for a password word
/// named for what it opens (`dbpass`, `db2pwd`, `rootpassword`: IBM's driver
/// documentation's `UID=dbuser;PWD=db2pwd`) or for the setting it serves (`devpass`,
/// in a project's development compose file); `alnum` is the value as [`lower_alnum`]
/// gives it.
fn metasyntactic_password(alnum: &[u8]) -> bool {
    [
        "foo", "bar", "baz", "qux", "db", "db2", "sql", "user", "admin", "root", "app", "dev",
        "demo", "local",
    ]
    .iter()
    .any(|m| {
        alnum.strip_prefix(m.as_bytes()).is_some_and(|rest| {
            one_of(rest, &["pass", "pwd", "pw", "passwd", "password", "secret"])
        })
    })
}

fn contains_ignore_ascii_case(hay: &[u8], needle: &[u8]) -> bool {
    hay.len() >= needle.len()
        && hay
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

/// True when the decoded text of a generic value is a placeholder (`Y2hhbmdlbWU=` is
/// "changeme"), as in Kubernetes secrets too short for the decoding pass to pick up.
fn is_placeholder_value(text: &[u8]) -> bool {
    is_placeholder(text) || one_of(text, NON_SECRET_VALUES)
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
    // What GitHub documents as the password beside a token in a clone URL.
    "x-oauth-basic",
];

/// Stricter checks for generic rules: the value must look like a literal secret, not
/// a variable, a function call, a lookup or a template.
#[inline(never)]
fn generic_value_ok(data: &[u8], start: usize, end: usize) -> bool {
    let v = &data[start..end];
    if one_of(v, NON_SECRET_VALUES) {
        return false;
    }
    // Compared without separators too (`abcd-efgh-ijkl-mnop`); on the stack, as this
    // runs for every candidate of every generic rule.
    let mut buf = [0u8; 256];
    let alnum = lower_alnum(v, &mut buf);
    if SEQUENCE_MARKERS.iter().any(|m| {
        contains_ignore_ascii_case(v, m.as_bytes())
            || contains_ignore_ascii_case(alnum, m.as_bytes())
    }) {
        return false;
    }
    // Spelt with separators (`pass+word`, `pass/word`).
    if one_of(alnum, NON_SECRET_VALUES) {
        return false;
    }
    // An Amazon identifier (`amzn1.account.…`, `amzn1.application-oa2-client.…`), or a
    // `NAME=value` pair that is itself the value (`token='UUID=6a38…'`).
    if v.starts_with(b"amzn1.") || {
        let name = v
            .iter()
            .take_while(|b| b.is_ascii_uppercase() || **b == b'_')
            .count();
        name >= 2 && v.get(name) == Some(&b'=')
    } {
        return false;
    }
    // Numbers joined by dots, dashes or colons: an OID (`'challengePassword' =>
    // '1.2.840.113549.1.9.7'`), a version, an address, a date or a time.
    if v.iter().any(|b| matches!(b, b'.' | b'-' | b':'))
        && v.iter()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b':'))
    {
        return false;
    }
    let quoted = start > 0 && matches!(data[start - 1], b'"' | b'\'' | b'`');
    // Hex literals: an Ethereum address (`"token": "0x55d3…7955"`, a token's
    // contract), public by design, as a private key is twice as long; and, unquoted,
    // an integer constant (`HASHED_PASSWORD = 0x420157`, an enumeration's value).
    if v.len() > 2
        && (v.starts_with(b"0x") || v.starts_with(b"0X"))
        && v[2..].iter().all(u8::is_ascii_hexdigit)
        && (v.len() == 42 && v[1] == b'x' || v.len() <= 18 && !quoted)
    {
        return false;
    }
    // A dotted name of three lowercase words or more (`'comment.line.backslash-g.forth'`,
    // `'constant.begin..filter.slim'`: a syntax highlighter's token types).
    // (Most values have no dot, or fail on their first capital or digit: checked in
    // that order, as this runs for every candidate.)
    let words = || v.split(|&b| b == b'.');
    if memchr::memchr(b'.', v).is_some()
        && words().all(|w| {
            w.first().is_none_or(u8::is_ascii_lowercase)
                && w.iter().all(|b| b.is_ascii_lowercase() || *b == b'-')
        })
        && words().filter(|w| !w.is_empty()).count() >= 3
    {
        return false;
    }
    // The next key of a query string or a list of settings, where the value is
    // empty (`?Password=abc&UserName=` gives `abc&UserName=`; `;; user= password=
    // auth_user=`, a commented template, gives `auth_user=`).
    if let Some(body) = v.strip_suffix(b"=") {
        let key = match memchr::memrchr(b'&', body) {
            Some(amp) => &body[amp + 1..],
            // Without `&`, only a snake-case name: base64 ends in `=` too.
            None if body.contains(&b'_')
                && body.iter().all(|b| b.is_ascii_lowercase() || *b == b'_') =>
            {
                body
            }
            None => b"",
        };
        if key.first().is_some_and(u8::is_ascii_alphabetic)
            && key.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
        {
            return false;
        }
    }
    // A password's hash in Django's format, named for its hasher
    // (`pbkdf2_sha256$600000$7R0oBpiQ…`, perhaps cut short by a concatenation): the
    // `password-hashes.django` rule reports it whole.
    if let Some(dollar) = memchr::memchr(b'$', v)
        && one_of(&v[..dollar], DJANGO_HASHERS)
    {
        return false;
    }
    // A sentinel (`password = "__generate__"`).
    if v.len() > 4 && v.starts_with(b"__") && v.ends_with(b"__") {
        return false;
    }
    // Text direction controls, as characters or escaped (`\u200f\u202eGood\u202c\u200f`,
    // a pseudo-locale's right-to-left rendering of a UI label): text, not a password.
    // (Looked for only in a value with a backslash or a three-byte character's lead.)
    if memchr::memchr2(b'\\', 0xE2, v).is_some()
        && [
            &b"\\u202e"[..],
            b"\\u202c",
            b"\\u200f",
            b"\\u200e",
            "\u{202e}".as_bytes(),
            "\u{202c}".as_bytes(),
            "\u{200f}".as_bytes(),
            "\u{200e}".as_bytes(),
        ]
        .iter()
        .any(|m| contains_ignore_ascii_case(v, m))
    {
        return false;
    }
    // Optional chaining (`authConfigs?.clientSecretSettingName`): a property read in
    // JavaScript or C#, code that passes the secret on.
    if memchr::memmem::find_iter(v, b"?.").any(|q| {
        q > 0
            && (v[q - 1].is_ascii_alphanumeric() || v[q - 1] == b'_')
            && v.get(q + 2)
                .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
    }) {
        return false;
    }
    // Names joined by slashes (`"auth/invalid-api-key"`, an error code;
    // `authentication/encrypted-password`, a path in a document), three or more
    // names in camel case or capitals (`generalParameters/advancedParams/SMTP`, a
    // settings tree's path), or capitalised words (`Bearer Request/Modify`, prose
    // naming two messages: a specification's text).
    if v.contains(&b'/') {
        // One pass over the pieces for all three readings.
        let (mut pieces, mut lowercase_names, mut camel_names, mut words) = (0, true, true, true);
        for w in v.split(|&b| b == b'/') {
            pieces += 1;
            lowercase_names = lowercase_names
                && w.len() >= 2
                && w.iter()
                    .all(|b| b.is_ascii_lowercase() || matches!(b, b'-' | b'_'));
            camel_names = camel_names
                && w.len() >= 3
                && w.iter().all(u8::is_ascii_alphabetic)
                && identifier_words(w).is_some();
            words = words
                && w.len() >= 4
                && w[0].is_ascii_uppercase()
                && w[1..].iter().all(u8::is_ascii_lowercase)
                && w.iter().any(|b| b"aeiouy".contains(b));
        }
        if lowercase_names || (pieces >= 3 && camel_names) || words {
            return false;
        }
    }
    // A module's relative name (`".destination_mongodb"`, in a package's table of
    // lazily imported classes).
    if let Some(module) = v.strip_prefix(b".") {
        let module = module
            .trim_ascii_start()
            .strip_prefix(b".")
            .unwrap_or(module);
        if module.first().is_some_and(u8::is_ascii_lowercase)
            && module
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'.'))
            && identifier_words(module).is_some()
        {
            return false;
        }
    }
    // A resource kind of Google's APIs, a service and a type's name joined by `#`
    // (`identitytoolkit#ResetPasswordResponse`, `storage#object`).
    if let Some(hash) = memchr::memchr(b'#', v) {
        let (service, kind) = (&v[..hash], &v[hash + 1..]);
        if service.len() >= 3
            && service.iter().all(u8::is_ascii_lowercase)
            && kind.len() >= 3
            && kind.iter().all(u8::is_ascii_alphanumeric)
            && identifier_words(kind).is_some()
        {
            return false;
        }
    }
    // `+` concatenates (`"PWD="+cfg.Dir`); `...` elides (`user@password:host/...`).
    if v.iter().any(|b| b"([]{}".contains(b))
        || v.starts_with(b"$")
        || v.starts_with(b"%")
        || v.starts_with(b"+")
        || memchr::memmem::find(v, b"...").is_some()
    {
        return false;
    }
    // A constant's name (`"__WEBPACK_MODULE_REFERENCE__"`), a short camel-case name
    // (`'anyPass': 'overSome'`) or a host (`www.google.com/`).
    let constant = v.contains(&b'_')
        && v.iter().any(u8::is_ascii_uppercase)
        && v.iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_');
    let camel = is_camel_name(v, 3) || (v.len() <= 16 && is_camel_name(v, 2));
    // Code (`e.pass||""`), or text with escaped non-ASCII letters (`"\u79c1\u5bc6…"`, a
    // translated label).
    if memchr::memmem::find(v, b"||").is_some()
        || memchr::memmem::find(v, b"&&").is_some()
        || v.windows(6)
            .any(|w| w[0] == b'\\' && w[1] == b'u' && w[2..].iter().all(u8::is_ascii_hexdigit))
    {
        return false;
    }
    if constant || camel || starts_with_ignore_case(v, b"www.") {
        return false;
    }
    // A made-up name (`"value":"my_value"`), or a constant's name behind a token's
    // prefix (`tok_ID_FROM_CHECKOUT`): a random token has lowercase letters in its body.
    let my_name = (v.starts_with(b"my_") || v.starts_with(b"my-"))
        && v.len() > 3
        && v[3..]
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-'));
    let prefixed_constant = v.iter().position(|&b| b == b'_').is_some_and(|u| {
        let body = &v[u + 1..];
        (1..=5).contains(&u)
            && v[..u].iter().all(u8::is_ascii_lowercase)
            && body.first().is_some_and(u8::is_ascii_uppercase)
            && body.contains(&b'_')
            && body
                .iter()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_')
    });
    // A name with a credential word among three or more pieces
    // (`awsui_in-inline-token_xjuzf_85n7e_530`, a generated CSS class): what a value
    // is called, not the value.
    let names_a_credential = {
        let (mut pieces, mut credential) = (0, false);
        for p in v.split(|b| matches!(b, b'-' | b'_')) {
            pieces += 1;
            credential = credential || one_of(p, &["token", "secret", "password", "apikey"]);
        }
        pieces >= 3 && credential
    };
    // A label that ends in what it stands for (`AlibabaCloud-API-Key`,
    // `Azure-AI-Studio-API-key`, `ContextualAI-Api-key`): words, not a key.
    let labels_a_key = [
        "apikey",
        "apitoken",
        "accesskey",
        "secretkey",
        "accesstoken",
    ]
    .iter()
    .any(|w| alnum.ends_with(w.as_bytes()))
        && (alnum.len() < v.len()
            || v.windows(2)
                .any(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase()));
    if my_name || prefixed_constant || names_a_credential || labels_a_key {
        return false;
    }
    // An HTTP header's name (`"X-Oss-Security-Token"`) or a file's path
    // (`'/Resources/stubs/PhpToken.php'`).
    if (starts_with_ignore_case(v, b"x-")
        && v.len() > 2
        && v.iter().all(|b| b.is_ascii_alphabetic() || *b == b'-'))
        || is_file_path(v)
    {
        return false;
    }
    // A validator's rules (`"password": "required|strong|confirmed"`, `min:8|max:64`:
    // Laravel's and Masonite's lists joined by `|`).
    if v.contains(&b'|')
        && v.split(|&b| b == b'|').all(|r| {
            let name = r.split(|&b| b == b':').next().unwrap_or(r);
            name.len() >= 3 && name.iter().all(|b| b.is_ascii_lowercase() || *b == b'_')
        })
    {
        return false;
    }
    // Alternatives spelt out in documentation (`force_pass: true/false`).
    if v.contains(&b'/')
        && v.split(|&b| b == b'/')
            .all(|w| one_of(w, NON_SECRET_VALUES))
    {
        return false;
    }
    // A call's result dereferenced (`password=ans).keyObject`): code.
    if !quoted && memchr::memmem::find(v, b").").is_some() {
        return false;
    }
    if quoted && joined_to_code(data[start - 1], &data[end..]) {
        return false;
    }
    // A stand-in percent-encoded (`PWD=pass%2Bword`, "pass+word").
    if v.contains(&b'%') {
        let decoded = super::decode::decode(v, super::decode::Encoding::Percent);
        if decoded.as_deref().is_some_and(|d| {
            let mut buf = [0u8; 256];
            one_of(lower_alnum(d, &mut buf), NON_SECRET_VALUES)
        }) {
            return false;
        }
    }
    // A type in a union (`password: Uint8Array | string`, TypeScript).
    if !quoted && {
        let rest = &data[end..data.len().min(end + 8)];
        let spaces = rest.iter().take_while(|&&b| b == b' ').count();
        rest.get(spaces) == Some(&b'|') && rest.get(spaces + 1) != Some(&b'|')
    } {
        return false;
    }
    // A command substitution (`` pwd = `/usr/bin/fullpath -t` ``); inside quotes a
    // backquote is part of the password.
    if !quoted && v.starts_with(b"`") {
        return false;
    }
    // Unquoted, a negation (`pass: !!actual`) or an instance variable (`'password' =>
    // @user.identity`, in Ruby) is code.
    if !quoted && (v.starts_with(b"!") || v.starts_with(b"@")) {
        return false;
    }
    // An unquoted value that ends a call's argument list (`password=args.pw)`).
    let core = if quoted { v } else { trim_unquoted_end(v) };
    // A dereference or a reference in code (`*out.Token.SecretAccessKey`, `&cfg.key`).
    let core = match core {
        [b'*' | b'&', rest @ ..] if !quoted => rest,
        _ => core,
    };
    if is_property_path(core)
        || names_a_secret(core)
        || is_resource_path(core)
        || is_type_name(core)
    {
        return false;
    }
    // A name inside an AWS resource name (`arn:aws:secretsmanager:*:*:secret:rds-*`),
    // or a wildcard pattern over names (`rds-db-credentials/*`).
    if in_arn(data, start)
        || (v.len() > 1 && v.ends_with(b"*") && b"-_/.!*".contains(&v[v.len() - 2]))
    {
        return false;
    }
    // A regular expression (`secret:AmazonLookoutMetrics-.+`), not a value.
    if [".*", ".+", "\\d", "\\w", "\\s"]
        .iter()
        .any(|m| memchr::memmem::find(v, m.as_bytes()).is_some())
    {
        return false;
    }
    if !quoted {
        // Unquoted words made only of identifier characters are variables or
        // constants in code (`password = user.password`), not literals; so is an
        // object's attribute, whatever its name holds (`self.ai21labs_api_key`).
        let identifier_like = core
            .iter()
            .all(|b| b.is_ascii_alphabetic() || matches!(b, b'_' | b'.' | b'-' | b':'));
        // Also as the left operand of a concatenation (`this.PASS=this.INDENT+`, in
        // a minified bundle).
        let core = core.strip_suffix(b"+").unwrap_or(core);
        let attribute = ["self.", "this."].iter().any(|p| {
            core.len() > p.len() + 1
                && core.starts_with(p.as_bytes())
                && core[p.len()..]
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.'))
        });
        if identifier_like || attribute {
            return false;
        }
    }
    // A name set in code type in documentation (`` PASS: ``allowedToUseSSPR`` ``).
    if let Some(inner) = v.strip_prefix(b"`").and_then(|i| i.strip_suffix(b"`")) {
        // Doubled in reStructuredText (``` ``name`` ```).
        let start = inner.iter().take_while(|&&b| b == b'`').count();
        let inner = &inner[start..];
        let end = inner.len() - inner.iter().rev().take_while(|&&b| b == b'`').count();
        let inner = &inner[..end];
        if is_camel_name(inner, 2) || is_property_path(inner) || names_a_secret(inner) {
            return false;
        }
    }
    // A short run of only lowercase letters is a word, not a secret; a quoted run of
    // twelve or more is a passphrase.
    if v.iter().all(|b| b.is_ascii_lowercase()) && (!quoted || v.len() < 12) {
        return false;
    }
    // So is a capitalised one (`"passwd": "Unavailable"`).
    if v.len() < 12
        && v.first().is_some_and(u8::is_ascii_uppercase)
        && v[1..].iter().all(u8::is_ascii_lowercase)
    {
        return false;
    }
    // Checked last, as they look around the value: also a quoted value cut short by
    // the rule's characters, whose quotes hold an elision further on
    // (`"PLTZ/RHpF8C@QEPHT3fETV&0:uRVw0[b*A3pH..."`), and Cloudflare Web Analytics'
    // beacon token, which every page it counts carries.
    !(names_its_key(data, start, alnum)
        || in_meeting_link(data, start)
        || (quoted && elided_further_on(data, start, end))
        || in_cf_beacon(data, start))
}

/// The names Django's password hashers give the hashes they make, before the first `$`.
const DJANGO_HASHERS: &[&str] = &[
    "pbkdf2_sha256",
    "pbkdf2_sha1",
    "argon2",
    "bcrypt_sha256",
    "bcrypt",
    "scrypt",
    "sha1",
    "md5",
    "unsalted_md5",
    "unsalted_sha1",
];

/// True when a value is the `token` attribute of an Ant `<filter>` or
/// `<replacefilter>` element (`<filter token="VERSION" value="${version}"/>`): the
/// name of the `@VERSION@` marker a copy replaces, not a credential.
fn in_ant_filter(data: &[u8], start: usize) -> bool {
    let line = last_line(&data[..start]);
    (line.ends_with(b" token=\"") || line.ends_with(b" token='"))
        && memchr::memrchr(b'<', line).is_some_and(|lt| {
            let name_len = line[lt + 1..]
                .iter()
                .take_while(|b| b.is_ascii_alphabetic())
                .count();
            line[lt + 1..lt + 1 + name_len].ends_with(b"filter")
        })
}

/// True when a value's closing quote (`quote`, at the start of `after`) is followed by
/// a concatenation (`'<opaquelocktoken:' . $lockInfo->token`, PHP; `"Bearer " + token`):
/// code completes the string, and only a piece of it is written down. (A method called
/// on the literal, `'Hq7tRw2p'.encode()`, is not one, nor is another literal.)
fn joined_to_code(quote: u8, after: &[u8]) -> bool {
    let Some(rest) = after.strip_prefix(&[quote]) else {
        return false;
    };
    let blanks = |t: &[u8]| t.iter().take_while(|b| matches!(b, b' ' | b'\t')).count();
    let rest = &rest[blanks(rest)..];
    let operand = match rest {
        [b'+', next, ..] if !matches!(next, b'=' | b'+') => &rest[1..],
        [b'.', b' ' | b'$', ..] => &rest[1..],
        _ => return false,
    };
    // Another literal (`"oMwSyq" + "/7ORZA…"`, split to hide it) continues the value,
    // also on the next line (after a `\` continuation, and a diff's `+`).
    let next = operand
        .iter()
        .find(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'\\' | b'+'));
    !matches!(next, Some(b'"' | b'\'' | b'`') | None)
}

/// True when the quoted text that a value at `start..end` begins holds an elision
/// (`...`, `…`) before its closing quote: the value is a shortened example.
fn elided_further_on(data: &[u8], start: usize, end: usize) -> bool {
    let quote = data[start - 1];
    let rest = &data[end..data.len().min(end + 256)];
    let inside = &rest[..memchr::memchr2(quote, b'\n', rest).unwrap_or(rest.len())];
    memchr::memmem::find(inside, b"...").is_some()
        || memchr::memmem::find(inside, "…".as_bytes()).is_some()
}

/// True when the line before `start` holds a `data-cf-beacon` attribute, whose
/// token Cloudflare Web Analytics publishes in every page it counts.
fn in_cf_beacon(data: &[u8], start: usize) -> bool {
    contains_ignore_ascii_case(
        last_line(&data[start.saturating_sub(128)..start]),
        b"data-cf-beacon",
    )
}

/// True when the secret at `start` is the value of a key on a later line than the
/// rule's key, and that rule's key was left empty: in `MISTRAL_API_KEY=` followed by
/// `log_level: info` and `other_setting: <value>`, the value is `other_setting`'s, not
/// Mistral's. Kept: a value indented under its key (`mistral:` and then `  api_key:`),
/// one whose key names the rule's keyword too, and one after a key that opens a block
/// (`"mistral": {`, `Mistral(`).
pub fn owned_by_sibling_key(rule: &Rule, data: &[u8], match_start: usize, start: usize) -> bool {
    let Some(k) = data[match_start..start]
        .iter()
        .position(u8::is_ascii_alphanumeric)
        .map(|i| match_start + i)
    else {
        return false;
    };
    // Same line: the common case, decided within the match (a minified bundle's one
    // line of megabytes is never searched back to its start).
    let Some(last_break) = memchr::memrchr(b'\n', &data[k..start]) else {
        return false;
    };
    let value_line_start = k + last_break + 1;
    // A key line is short: one whose start lies further back is no assignment.
    let lo = k.saturating_sub(256);
    let key_line_start = match memchr::memrchr(b'\n', &data[lo..k]) {
        Some(i) => lo + i + 1,
        None if lo == 0 => 0,
        None => return false,
    };
    let key_line_end = memchr::memchr(b'\n', &data[k..]).map_or(data.len(), |i| k + i);
    let Some(first) = key_assignment(&data[key_line_start..key_line_end]) else {
        return false;
    };
    let in_key = key_line_start + first.key.start <= k && k < key_line_start + first.key.end;
    let empty = first.rest.iter().all(|b| b" \t\r\"'`,;".contains(b));
    if !in_key || !empty {
        return false;
    }
    let Some(second) = key_assignment(&data[value_line_start..start]) else {
        return false;
    };
    if second.indent > first.indent || !second.rest.iter().all(|b| b" \t\"'`".contains(b)) {
        return false;
    }
    let key = &data[value_line_start..][second.key];
    !rule
        .keywords
        .iter()
        .any(|w| contains_ignore_ascii_case(key, w.as_bytes()))
}

/// A line read as `<indent>[export ]<key> = <rest>` (or `:`, quotes around the key
/// allowed): where its key is in the line, how deep it is indented, and what follows
/// the `=` or `:`.
struct KeyAssignment<'a> {
    indent: usize,
    key: std::ops::Range<usize>,
    rest: &'a [u8],
}

fn key_assignment(line: &[u8]) -> Option<KeyAssignment<'_>> {
    let indent = line
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t'))
        .count();
    let mut i = indent;
    if line[i..].starts_with(b"export ") {
        i += 7;
    }
    if line.get(i).is_some_and(|b| matches!(b, b'"' | b'\'')) {
        i += 1;
    }
    let key_start = i;
    while line
        .get(i)
        .is_some_and(|b| b.is_ascii_alphanumeric() || b"_.-".contains(b))
    {
        i += 1;
    }
    let key = key_start..i;
    if key.is_empty() {
        return None;
    }
    if line.get(i).is_some_and(|b| matches!(b, b'"' | b'\'')) {
        i += 1;
    }
    while line.get(i).is_some_and(|b| matches!(b, b' ' | b'\t')) {
        i += 1;
    }
    match line.get(i) {
        Some(b':' | b'=') => Some(KeyAssignment {
            indent,
            key,
            rest: &line[i + 1..],
        }),
        _ => None,
    }
}

/// The text after the last newline in `text`: the end of `text`'s last line.
fn last_line(text: &[u8]) -> &[u8] {
    &text[memchr::memrchr(b'\n', text).map_or(0, |i| i + 1)..]
}

/// `v`'s ASCII letters and digits in lowercase, in `buf` (cut at its length).
fn lower_alnum<'a>(v: &[u8], buf: &'a mut [u8; 256]) -> &'a [u8] {
    let mut n = 0;
    for b in v
        .iter()
        .filter(|b| b.is_ascii_alphanumeric())
        .take(buf.len())
    {
        buf[n] = b.to_ascii_lowercase();
        n += 1;
    }
    &buf[..n]
}

/// True when a value (`alnum`, from [`lower_alnum`]) is its key's own name or part of
/// it (`PROP_FILTER_PASS = "filterPass"`, `s3SessionAuthKey = "s3_session_auth"`: an
/// enum or a constant), or starts with it (`"termToken": "term-token-gPFE…"`).
fn names_its_key(data: &[u8], start: usize, alnum: &[u8]) -> bool {
    let mut buf = [0u8; 256];
    let key = lower_alnum(key_before(data, start), &mut buf);
    (alnum.len() >= 6 && memchr::memmem::find(key, alnum).is_some())
        || (key.len() >= 8 && alnum.starts_with(key))
}

/// True for the passcode of a Zoom meeting link (`zoom.us/j/95228013874?pwd=…`),
/// shared with everyone invited.
fn in_meeting_link(data: &[u8], start: usize) -> bool {
    let lo = start.saturating_sub(96);
    let line_start = memchr::memrchr(b'\n', &data[lo..start]).map_or(lo, |i| lo + i + 1);
    memchr::memmem::rfind(&data[line_start..start], b"zoom.us/").is_some()
}

/// True when `start` lies inside an ARN: the run of non-space, unquoted text that
/// reaches it begins with `arn:`.
fn in_arn(data: &[u8], start: usize) -> bool {
    run_before(data, start, |b| {
        matches!(b, b'"' | b'\'' | b'`' | b'=' | b',')
    })
    .starts_with(b"arn:")
}

/// The text that runs up to `start`, at most 256 bytes of it, from the last whitespace
/// or `stop` byte before it: the URL or name a value sits in.
fn run_before(data: &[u8], start: usize, stop: impl Fn(u8) -> bool) -> &[u8] {
    let lo = start.saturating_sub(256);
    let from = data[lo..start]
        .iter()
        .rposition(|&b| b.is_ascii_whitespace() || stop(b))
        .map_or(lo, |i| lo + i + 1);
    &data[from..start]
}

/// An unquoted value without what ends it in prose or code: a call's closing `)`,
/// `]`, `,`, `;`, a full stop, and typographic closing quotes (`‘--password=PASSWORD’`
/// in a manual).
fn trim_unquoted_end(mut v: &[u8]) -> &[u8] {
    loop {
        if let Some(rest) = v.strip_suffix("\u{2019}".as_bytes()) {
            v = rest;
        } else if let Some(rest) = v.strip_suffix("\u{201d}".as_bytes()) {
            v = rest;
        } else if let Some(rest) = v.strip_suffix("\u{bb}".as_bytes()) {
            v = rest;
        } else if let [rest @ .., b')' | b']' | b',' | b';' | b'.'] = v {
            v = rest;
        } else {
            return v;
        }
    }
}

/// "Password" and "secret" in the languages manuals are most often written in.
const PASSWORD_WORDS: &[&str] = &[
    "password",
    "passwd",
    "passwort",
    "kennwort",
    "wachtwoord",
    "motdepasse",
    "contrasena",
    "senha",
    "salasana",
    "haslo",
    "losenord",
    "lösenord",
    "hasło",
    "passord",
    "geheim",
    "passphrase",
    "secret",
    "contraseña",
    "palavra-passe",
    "parol",
    "pasahitza",
    "kata sandi",
    "heslo",
    "jelszo",
    "jelszó",
    "sifre",
    "şifre",
    "lozinka",
    "geslo",
    "adgangskode",
    "пароль",
    "密码",
    "密碼",
    "パスワード",
    "비밀번호",
];

/// Words that the passwords of manuals and tutorials are made of (`welcome2resty`,
/// `open_sesame`, `hunter2`), though a weak real password may hold them too.
const STAND_IN_WORDS: &[&str] = &[
    "welcome",
    "letmein",
    "qwerty",
    "opensesame",
    "open_sesame",
    // Oracle's sample schema password (`scott`/`tiger`), in SQLAlchemy's and
    // Oracle's documentation with suffixes (`tiger^5HHH`).
    "tiger",
    // `hunter2` and its kin (`hunter42`), after the bash.org joke.
    "hunter",
    // "Secret" as the stand-ins spell it (`s00perS3kret`, `sekrit`, Fabric's `sikrit`).
    "sekret",
    "sekrit",
    "sikrit",
    // xkcd 936's example passphrase, "correct horse battery staple".
    "horsebatterystaple",
    "trustno1",
    "iloveyou",
    "credential",
    // `mustbeeightchars`, `somepass123`: the Terraform AWS provider's examples.
    "mustbe",
    "somepass",
    // `SecurePass123!`, `SecurePassword1`: the READMEs' strong-looking stand-in.
    "securepass",
    // The password of the Marx Brothers' speakeasy, the manuals' other stand-in.
    "swordfish",
    // "1234? That's the kind of thing an idiot would have on his luggage!" (Spaceballs).
    "luggage",
];

/// True for a short password that spells out the word: `mynewpassword`,
/// `SomeKindOfPassword123!@#`, `webdavgeneratedpassword1`, `geheim$parole`, as
/// documentation writes them. A real password can hold the word too, so such a value
/// is lowered, not dropped.
fn names_password_word(v: &[u8]) -> bool {
    v.len() <= 32 && {
        let plain = unleet(v);
        // And without separators (`open sesame`, `pass word`).
        let mut buf = [0u8; 256];
        let alnum = lower_alnum(v, &mut buf);
        PASSWORD_WORDS.iter().chain(STAND_IN_WORDS).any(|w| {
            contains_ignore_ascii_case(v, w.as_bytes())
                || contains_ignore_ascii_case(&plain, w.as_bytes())
                || contains_ignore_ascii_case(alnum, w.as_bytes())
        })
    }
}

/// `v` in lowercase with leetspeak undone (`P@$$w0rd` is `password`).
fn unleet(v: &[u8]) -> Vec<u8> {
    v.iter().map(|&b| unleet_byte(b)).collect()
}

/// One character of leetspeak read as the lowercase letter it stands for (`4` and `@`
/// for `a`, `3` for `e`, `0` for `o`, `$` and `5` for `s`, `7` for `t`); any other
/// character lowercased.
pub(crate) fn unleet_byte(b: u8) -> u8 {
    match b {
        b'4' | b'@' => b'a',
        b'3' => b'e',
        b'0' => b'o',
        b'$' | b'5' => b's',
        b'7' => b't',
        b => b.to_ascii_lowercase(),
    }
}

/// True for a word that stands in for a secret, spelt in leetspeak or followed by a
/// few digits (`p4ssw0rd`, `P@ssw0rd`, `s3cr3t`, `t0k3n`, `password123`, `admin1!`):
/// most often a manual's example, though also a weak password some real database has.
fn is_leet_stand_in(v: &[u8]) -> bool {
    if v.len() > 16 {
        return false;
    }
    // A trailing number (and `!`), as in `password123!`, of at most six digits.
    let word_end = v.len()
        - v.iter()
            .rev()
            .take_while(|b| b.is_ascii_digit() || **b == b'!')
            .count();
    let (word, tail) = v.split_at(word_end);
    // And a separator before the number (`hello_123`).
    let word = word
        .strip_suffix(b"_")
        .or_else(|| word.strip_suffix(b"-"))
        .unwrap_or(word);
    let leet = word.iter().any(|b| b"431@0$57".contains(b));
    if !leet && (tail.is_empty() || tail.len() > 6) {
        return false;
    }
    // Read through the punctuation a stand-in is dressed in (`p@ss:word`, a URL
    // parser's comment).
    let plain: Vec<u8> = unleet(word)
        .into_iter()
        .filter(|b| !matches!(b, b':' | b'.' | b'_' | b'-' | b' '))
        .collect();
    // `1` stands for `i` or `l` (`s3kr1t`, `adm1n`).
    LEET_WORDS.iter().any(|w| {
        w.len() == plain.len()
            && plain
                .iter()
                .zip(w.bytes())
                .all(|(&p, c)| p == c || (p == b'1' && matches!(c, b'i' | b'l')))
    })
}

/// The words [`is_leet_stand_in`] reads a stand-in as, once its leetspeak is undone
/// (lowercase, as [`unleet`] gives it).
const LEET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pass",
    "secret",
    "token",
    "admin",
    "supersecret",
    "mysecret",
    "mypassword",
    "sekrit",
    "sekret",
    "topsecret",
    "topsekret",
    "foobar",
    "foobarbaz",
    "pwd",
    "sikrit",
    "hello",
    "changeit",
];

/// True when `part` reads as a word of a name rather than random text: letters (camel
/// case at most one capital in three, or all capitals; a single letter only before
/// digits) followed by optional digits (`forward`, `preferred`, `oauth2`, `V1`), or
/// digits alone, or a numeronym.
fn wordlike(part: &[u8]) -> bool {
    // Numeronyms (`results.e2e.pass`, `i18n.password`).
    if one_of(
        part,
        &[
            "e2e", "i18n", "l10n", "k8s", "a11y", "p2p", "m2m", "b2b", "b2c",
        ],
    ) {
        return true;
    }
    let letters = part.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    if part.is_empty() || !part[letters..].iter().all(u8::is_ascii_digit) {
        return false;
    }
    if letters == 0 {
        return true;
    }
    // A lone letter is a word only with a number (`v2`), not in `rT_4.Kq9`.
    if letters == 1 && letters == part.len() {
        return false;
    }
    let word = &part[..letters];
    let upper = word.iter().filter(|b| b.is_ascii_uppercase()).count();
    upper == word.len() || upper <= (word.len() / 3).max(1)
}

/// Splits an identifier into its words at `_`, `-`, `.` and lower-to-upper case steps;
/// None unless every piece is [`wordlike`].
fn identifier_words(v: &[u8]) -> Option<usize> {
    let mut n = 0;
    for piece in v.split(|b| matches!(b, b'_' | b'-' | b'.')) {
        if piece.is_empty() {
            continue;
        }
        let mut start = 0;
        for i in 1..piece.len() {
            if (piece[i - 1].is_ascii_lowercase() || piece[i - 1].is_ascii_digit())
                && piece[i].is_ascii_uppercase()
            {
                if !wordlike(&piece[start..i]) {
                    return None;
                }
                n += 1;
                start = i;
            }
        }
        if !wordlike(&piece[start..]) {
            return None;
        }
        n += 1;
    }
    Some(n)
}

/// True for an absolute or relative path to a file with a short extension
/// (`/Resources/stubs/PhpToken.php`, `./certs/ca.pem`), or for a path up from the
/// current directory (`../python-gatenlp`, after a shell's `` `pwd`: ``), or for a
/// source file's line as a repository browser links it
/// (`src/core/qgsauthmanager.h#L221`, in a table of where each method is declared).
fn is_file_path(v: &[u8]) -> bool {
    if let Some(hash) = memchr::memrchr(b'#', v)
        && let Some(line) = v[hash + 1..].strip_prefix(b"L")
        && !line.is_empty()
        && line
            .iter()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'L'))
    {
        let path = &v[..hash];
        let name = path.rsplit(|&b| b == b'/').next().unwrap_or(path);
        return path.contains(&b'/')
            && name.contains(&b'.')
            && path
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'_' | b'-'));
    }
    if let Some(rest) = v.strip_prefix(b"../")
        && rest.iter().any(u8::is_ascii_lowercase)
        && rest
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'_' | b'-'))
    {
        return true;
    }
    let Some(dot) = memchr::memrchr(b'.', v) else {
        return false;
    };
    let ext = &v[dot + 1..];
    (v.starts_with(b"/") || v.starts_with(b"./") || v.starts_with(b"../"))
        && (1..=4).contains(&ext.len())
        && ext.iter().all(u8::is_ascii_lowercase)
        && v.iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'_' | b'-'))
}

/// A dotted path of names: an attribute or property access (`args.ssh_password`,
/// `spec.preferredAuthentication`), a module or a host name, not a secret.
fn is_property_path(v: &[u8]) -> bool {
    v.contains(&b'.')
        && v.split(|&b| b == b'.').enumerate().all(|(i, part)| {
            // A JavaScript class's private field (`this.#authSecret`).
            let part = match part {
                [b'#', rest @ ..] if i > 0 => rest,
                _ => part,
            };
            // A one-letter name (`C.ICMPV6_FILTER_PASS`, `support.function.C99.c`) or,
            // after the first, a number (`string.end.actionscript.2`, a TextMate scope).
            (part.len() == 1 && part[0].is_ascii_alphabetic())
                || (i > 0 && !part.is_empty() && part.iter().all(u8::is_ascii_digit))
                || part
                    .first()
                    .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
                    && part
                        .iter()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
                    && identifier_words(part).is_some()
        })
}

/// Words that, inside a name made of words, say the name stands for a credential.
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "passphrase",
    "token",
    "apikey",
    "api_key",
    "access_key",
    "credential",
];

/// True for a phrase run together in lowercase that names the kind of secret it stands
/// in for (`anyapikeyyoumayhaveset`, a commented-out default in Janus's
/// configuration; `mysupersecrettoken`): a stand-in, not a generated value.
fn is_spelt_out_stand_in(v: &[u8]) -> bool {
    v.len() >= 14
        && v.iter().all(u8::is_ascii_lowercase)
        && SECRET_WORDS
            .iter()
            .any(|w| v.len() >= w.len() + 6 && memchr::memmem::find(v, w.as_bytes()).is_some())
}

/// A name of several words that says what it holds (`oauth2_client_secret`,
/// `SetPassword`, `start_execution_token_value`): the variable or field a secret
/// lives in, not the secret. A run of lowercase letters (`thisismypassword`) has no
/// word breaks and is judged as a value.
fn names_a_secret(v: &[u8]) -> bool {
    v.iter()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        && identifier_words(v).is_some_and(|n| n >= 2)
        && SECRET_WORDS
            .iter()
            .any(|w| contains_ignore_ascii_case(v, w.as_bytes()))
}

/// A name in camel case of at least `words` words and nothing else (`overSome`,
/// `sharePagerDutyAction`).
fn is_camel_name(v: &[u8], words: usize) -> bool {
    v.iter().all(u8::is_ascii_alphabetic)
        && v.first().is_some_and(u8::is_ascii_lowercase)
        && identifier_words(v).is_some_and(|n| n >= words)
}

/// A class's name in Pascal case whose words may carry numbers
/// (`Mistral3ForConditionalGeneration`, `AliyunRequestSignerAlgorithmV1`): three or
/// more pronounceable words of four letters or more (a vowel in each, no four
/// consonants in a row), and perhaps acronyms of up to five capitals, fewer than the
/// words (`PotentialSTSVaultSecretConnection`). Random 30-character tokens never read
/// so (none in two million tried).
fn is_pascal_name(v: &[u8]) -> bool {
    // Words of a capital and lowercase letters, each followed by digits or not, and
    // perhaps a last capital with digits (`V1`); checked as they are read.
    let vowel = |b: &u8| b"aeiouy".contains(b);
    let (mut long_words, mut acronyms) = (0, 0);
    let mut i = 0;
    while i < v.len() {
        if !v[i].is_ascii_uppercase() {
            return false;
        }
        // An acronym: capitals before the next word's capital, or at the end.
        let capitals = v[i..].iter().take_while(|b| b.is_ascii_uppercase()).count();
        if capitals >= 2 {
            let acronym = if i + capitals == v.len() {
                capitals
            } else {
                capitals - 1
            };
            if acronym > 5 || !v.get(i + capitals).is_none_or(u8::is_ascii_lowercase) {
                return false;
            }
            acronyms += 1;
            i += acronym;
            continue;
        }
        let lower = v[i + 1..]
            .iter()
            .take_while(|b| b.is_ascii_lowercase())
            .count();
        let digits = v[i + 1 + lower..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let end = i + 1 + lower + digits;
        // A lone capital ends the name, or carries a number (`PatchV1Request`).
        if lower == 0 && digits == 0 && end < v.len() {
            return false;
        }
        let word = &v[i + 1..i + 1 + lower];
        let pronounceable = word.is_empty()
            || (word.iter().any(vowel) && !word.windows(4).any(|c| !c.iter().any(vowel)));
        if !pronounceable {
            return false;
        }
        long_words += usize::from(word.len() >= 4);
        i = end;
    }
    long_words >= 3 && acronyms < long_words
}

/// A name in Pascal case of three or more words and nothing else
/// (`ExclusiveStartBackupArn`, a pagination field): a type, field or enum name.
fn is_type_name(v: &[u8]) -> bool {
    let words = v.iter().filter(|b| b.is_ascii_uppercase()).count();
    words >= 3
        && v.first().is_some_and(u8::is_ascii_uppercase)
        && v.iter().all(u8::is_ascii_alphabetic)
        && v.windows(2)
            .all(|w| !(w[0].is_ascii_uppercase() && w[1].is_ascii_uppercase()))
        && !v.last().is_some_and(u8::is_ascii_uppercase)
}

/// A reference to where a secret is stored: an ARN, or a lowercase resource path with
/// two or more slashes (`projects/p/secrets/db/versions/1`, `secret/data/app`).
fn is_resource_path(v: &[u8]) -> bool {
    // A manual page escapes its hyphens (`projects/my\\-project/secrets/...`).
    if v.contains(&b'\\') {
        let plain: Vec<u8> = v.iter().copied().filter(|&b| b != b'\\').collect();
        return is_resource_path(&plain);
    }
    v.starts_with(b"arn:")
        || (v.iter().filter(|&&b| b == b'/').count() >= 2
            && v.iter().all(|b| {
                b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || matches!(b, b'/' | b'-' | b'_' | b'.')
            }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`generic_value_ok`] on the first `value` in `line`.
    fn ok_at(line: &str, value: &str) -> bool {
        let at = line.find(value).unwrap();
        generic_value_ok(line.as_bytes(), at, at + value.len())
    }

    #[test]
    fn entropy_of_uniform_and_constant_strings() {
        assert_eq!(entropy(b"aaaa"), 0.0);
        assert!((entropy(b"abcd") - 2.0).abs() < 1e-9);
        assert_eq!(entropy(b""), 0.0);
    }

    #[test]
    fn names_constants_and_addresses_are_not_generic_secrets() {
        let address = "0x55d398326f99059fF775485246999027B3197955";
        assert!(!ok_at(&format!("\"token\": \"{address}\""), address));
        // A private key in hex is twice as long, and is a secret.
        let key = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
        assert!(ok_at(&format!("\"token\": \"{key}\""), key));
        // The next key of a query string or of a template's empty settings.
        assert!(!ok_at(
            "shopadmin.asp?Password=abc&UserName=\"",
            "abc&UserName="
        ));
        assert!(!ok_at(";;   user= password= auth_user=", "auth_user="));
        assert!(ok_at(
            "password = \"cXdlcnR5dWlvcGFzZA==\"",
            "cXdlcnR5dWlvcGFzZA=="
        ));
        assert!(ok_at("token: Zq8vL2mK9xT4_bWn=", "Zq8vL2mK9xT4_bWn="));
        // Capitalised words joined by a slash: a specification's prose.
        assert!(!ok_at(
            "the Modify Bearer Request/Modify Access",
            "Request/Modify"
        ));
        assert!(ok_at(
            "Authorization: Bearer Qm9vL2xK/8rT4zN7bP3",
            "Qm9vL2xK/8rT4zN7bP3"
        ));
        assert!(!ok_at("    HASHED_PASSWORD = 0x420157", "0x420157"));
        assert!(!ok_at("password = \"__generate__\"", "__generate__"));
        // A Django password hash, whole or cut short: the hash rule's.
        assert!(!ok_at(
            "\"password='pbkdf2_sha256$600000$7R0oBpiQRVoNMXhmGD\" + \\",
            "pbkdf2_sha256$600000$7R0oBpiQRVoNMXhmGD"
        ));
        assert!(ok_at(
            "password = 'pbkdf2$Zq8vL2mK9xT4'",
            "pbkdf2$Zq8vL2mK9xT4"
        ));
        assert!(is_two_word_name(b"collision-filter"));
        assert!(is_two_word_name(b"monotonic_decreasing"));
        assert!(!is_two_word_name(b"monotonic_decreasing_chunk"));
        assert!(metasyntactic_password(b"barpass"));
        assert!(metasyntactic_password(lower_alnum(
            b"Foo_Secret",
            &mut [0; 256]
        )));
        assert!(!metasyntactic_password(b"barpassage"));
        assert!(metasyntactic_password(b"dbpass"));
        assert!(metasyntactic_password(b"db2pwd"));
        assert!(metasyntactic_password(b"devpass"));
        assert!(metasyntactic_password(b"localpassword"));
        assert!(!metasyntactic_password(b"devpassq7x"));
        assert!(!metasyntactic_password(b"dbpassq7x"));
        assert!(!is_two_word_name(b"collision-filter-pass"));
        assert!(!is_two_word_name(b"kT9v-Q2mLx8"));
        assert!(is_two_word_name(b"SectionStatistics"));
        assert!(!is_two_word_name(b"SectionStatistics2"));
        assert!(!is_two_word_name(b"QxRtvbnm"));
        assert!(!is_two_word_name(b"HqTRwpXz"));
        assert!(!ok_at(
            "Key.fromFile(file, password=ans).keyObject",
            "ans).keyObject"
        ));
        assert!(!ok_at("\"DSN=mydsn;PWD=pass%2Bword\"", "pass%2Bword"));
        assert!(ok_at("PWD=kT9v%2BQ2mLx8;", "kT9v%2BQ2mLx8"));
        assert!(!ok_at(
            "encrypt(password: Uint8Array | string): Promise<string>;",
            "Uint8Array"
        ));
        assert!(!ok_at(
            "\"MF-Proxy-Shared-Secret\": this.#proxyToUserWorkerAuthenticationSecret",
            "this.#proxyToUserWorkerAuthenticationSecret"
        ));
        assert!(!ok_at(
            "INVALID_API_KEY:\"auth/invalid-api-key\",",
            "auth/invalid-api-key"
        ));
        assert!(!ok_at(
            "password: authentication/encrypted-password",
            "authentication/encrypted-password"
        ));
        assert!(ok_at("password = \"kT9v-Q2mLx8\"", "kT9v-Q2mLx8"));
        assert!(!ok_at(
            "\"password\": \"generalParameters/advancedParams/SMTP\"",
            "generalParameters/advancedParams/SMTP"
        ));
        assert!(ok_at("secret = \"kTvQ/mLxRw/pXzHq\"", "kTvQ/mLxRw/pXzHq"));
        assert!(names_a_password_constant(b"AODH_DBPASS"));
        assert!(names_a_password_constant(b"DBPASS"));
        assert!(!names_a_password_constant(b"XK7QW9ZR4M"));
        assert!(!names_a_password_constant(b"Db_Pass_2024"));
        assert!(!names_a_password_constant(b"JBSWY3DPKEYHPK3PXP"));
        assert!(is_placeholder(b"&lt;token&gt;"));
        assert!(is_placeholder(b"BSA_real_key_here_12345"));
        assert!(is_placeholder(b"api-key-here"));
        assert!(!ok_at(
            "className: \"awsui_in-inline-token_xjuzf_85n7e_530\"",
            "awsui_in-inline-token_xjuzf_85n7e_530"
        ));
        assert!(!ok_at(
            r#"{"name":"my_secret","value":"my_value"}"#,
            "my_value"
        ));
        assert!(!ok_at(
            "let token = \"tok_ID_FROM_CHECKOUT\".parse()",
            "tok_ID_FROM_CHECKOUT"
        ));
        assert!(ok_at(
            "token = \"tok_1N3T00LkdIwHu7ixt44h1F8k\"",
            "tok_1N3T00LkdIwHu7ixt44h1F8k"
        ));
        assert!(ok_at(
            "token = \"tok_Q7MD4J9L2X0B6R\"",
            "tok_Q7MD4J9L2X0B6R"
        ));
        // Class names in Pascal case, digits and all, for rules that need context.
        assert!(is_pascal_name(b"Mistral3ForConditionalGeneration"));
        assert!(is_pascal_name(b"AliyunRequestSignerAlgorithmV1"));
        assert!(!is_pascal_name(b"Xk9LmQwRtzPvBn2YcHdGfJsA8eUoWi4T"));
        assert!(!is_pascal_name(b"QwrtPlkmZxcvBnmsHjkl"));
    }

    #[test]
    fn prompts_labels_and_repeated_logins_are_not_passwords() {
        assert!(is_prompt_fragment(b"ssword"));
        assert!(is_prompt_fragment(b"assword:"));
        assert!(!is_prompt_fragment(b"password"));
        assert!(!is_prompt_fragment(b"sw0rd"));
        assert!(is_word_in_any_script("Пароль".as_bytes()));
        assert!(is_word_in_any_script("كلمة المرور".as_bytes()));
        assert!(is_word_in_any_script("密码".as_bytes()));
        assert!(is_word_in_any_script("Lösenord".as_bytes()));
        assert!(is_word_in_any_script("पासवर्ड".as_bytes()));
        assert!(is_word_in_any_script("கடவுச்சொல்".as_bytes()));
        assert!(is_word_in_any_script("รหัสผ่าน".as_bytes()));
        assert!(is_word_in_any_script("輸入密碼（選擇性）".as_bytes()));
        // A longer label, with a product's name in it (DokuWiki's Japanese settings).
        assert!(is_word_in_any_script(
            "上記データベースに接続するパスワード（sqliteの場合は空欄にしておいて下さい）"
                .as_bytes()
        ));
        assert!(!is_word_in_any_script(b"Lsenord"));
        assert!(!is_word_in_any_script("gh7ö2Lk9".as_bytes()));
        let line = "check(viewer.login(username=\"editor\", password=\"editor\"))";
        let at = line.rfind("editor").unwrap();
        let (before, after) = line.split_at(at);
        assert!(repeats_login(
            b"",
            before.as_bytes(),
            &after.as_bytes()[6..],
            b"editor"
        ));
        let preceding = b"cassandra:\n  username: 'cassandra'\n";
        assert!(repeats_login(
            preceding,
            b"  password: '",
            b"'\n",
            b"cassandra"
        ));
        // The login with a word for a password after it.
        assert!(repeats_login(
            b"export DB_USER=pguser\n",
            b"export DB_PASSWORD=",
            b"\n",
            b"pguserpass"
        ));
        assert!(!repeats_login(
            b"export DB_USER=pguser\n",
            b"export DB_PASSWORD=",
            b"\n",
            b"pgpass"
        ));
        // Or with a few digits after it (Quartz's Derby script).
        assert!(repeats_login(
            b"",
            b"--    connect 'jdbc:derby://localhost:1527/quartz2;user=quartz2;password=",
            b";create=true';\n",
            b"quartz2123"
        ));
        assert!(!repeats_login(
            b"",
            b"user=quartz2;password=",
            b";\n",
            b"quartz9123"
        ));
        assert!(!repeats_login(
            b"",
            b"user=qz;password=",
            b";\n",
            b"qz12345"
        ));
        // With a hyphen, as GNUmed's test gives its demo login.
        assert!(repeats_login(
            b"\t\tcreds.user = 'any-doc'\n",
            b"\t\tcreds.password = '",
            b"'\n",
            b"any-doc"
        ));
        // Capitalized, as a type stub's enum gives both (`…_USERNAME: "Action"`).
        assert!(repeats_login(
            b"    REMOVE_USER_BY_USERNAME: \"Action\"\n",
            b"    RESET_USER_PASSWORD: \"",
            b"\"\n",
            b"Action"
        ));
        let uri = "postgresql://postgres:bitcoinlib@localhost:5432/bitcoinlib";
        let at = uri.find("bitcoinlib").unwrap();
        assert!(repeats_login(
            b"",
            &uri.as_bytes()[..at],
            &uri.as_bytes()[at + 10..],
            b"bitcoinlib"
        ));
        assert!(!repeats_login(
            b"",
            b"User ID=specialbill_user; Password =",
            b";",
            b"specialbill_user"
        ));
        assert!(introduces_example_inline(
            b"An example md5-crypt hash is ``"
        ));
        assert!(introduces_example_inline(
            b"# options given as key=value (e.g. password="
        ));
        assert!(!introduces_example_inline(
            b"if username == 'example@gmail.com' and password =='"
        ));
        assert!(!introduces_example_inline(b"example_password = '"));
        assert!(!repeats_login(
            b"user: deploy\n",
            b"password: '",
            b"'\n",
            b"Hq7tRw2pXz9v"
        ));
        // A value in the key's name does not count as the login's.
        assert!(!repeats_login(
            b"",
            b"postgresql://bitcoin:",
            b"@localhost/bitcoinlib2",
            b"bitcoinlib"
        ));
    }

    #[test]
    fn ascending_runs_mark_any_format_as_typed() {
        assert!(ascending_run(b"SCW1234567890ABCDEFG", 8));
        assert!(ascending_run(b"SCW234567890ABCDEFGH", 8));
        assert!(ascending_run(b"xABCDEFGHy", 8));
        assert!(!ascending_run(b"SCWK7QM2XVZ9LPR4TWN8", 8));
        assert!(!ascending_run(b"abcdefg", 8));
        assert!(ascending_run(b"re_FmABCDEF_987654321zqb", 8));
        assert!(ascending_run(b"zyxwvutsrq", 8));
        assert!(!ascending_run(b"9876543", 8));
    }

    #[test]
    fn email_addresses_and_sentences_are_told_apart_from_passwords() {
        assert!(is_email(b"data@sunpy.org"));
        assert!(is_email(b"first.last+ftp@mail.example.co"));
        assert!(!is_email(b"p@ssw0rd"));
        assert!(!is_email(b"s3cr3t@host.42"));
        assert!(!is_email(b"@host.org"));
        assert!(is_sentence(b"Authentication failed."));
        assert!(!is_sentence(b"correct horse battery staple"));
        assert!(!is_sentence(b"Tr0ub4dor&3."));
    }

    #[test]
    fn a_doc_comment_line_escaped_in_a_string_is_told_from_code() {
        assert!(in_escaped_doc_comment(
            b"\"/**\\n     *     privateKey: '0x"
        ));
        assert!(in_escaped_doc_comment(b"x\\n\\t * key: "));
        assert!(!in_escaped_doc_comment(
            b"\"const a = 1;\\nconst privateKey = '0x"
        ));
        assert!(!in_escaped_doc_comment(b"a = b *c\\n x * y = '"));
        assert!(!in_escaped_doc_comment(b"  * privateKey: '0x"));
    }

    #[test]
    fn wallet_keys_in_doc_comments_are_low_like_passwords_and_tokens_keep_theirs() {
        let rules = crate::rules::RuleSet::builtin().unwrap();
        let rule = |id: &str| rules.rules().iter().find(|r| r.id == id).unwrap().clone();
        let (wallet, token) = (rule("wallets.hex-private-key"), rule("github.pat-classic"));
        let made_up = Placement {
            free_form_made_up: true,
            in_documentation: false,
        };
        let key = b"78d102a63d0f478a38a6c3ddcc1dd9d699a0c0ae188c42153e6ecfce6450c74a";
        assert_eq!(
            confidence(&wallet, key, b"", b"privateKey: '0x", b"'", made_up),
            Confidence::Low
        );
        assert_eq!(
            confidence(
                &wallet,
                key,
                b"",
                b"privateKey: '0x",
                b"'",
                Placement::default()
            ),
            Confidence::Medium
        );
        let escaped = b"\"/**\\n * privateKey: '0x";
        assert_eq!(
            confidence(&wallet, key, b"", escaped, b"'", Placement::default()),
            Confidence::Low
        );
        let ghp = b"ghp_R8nT2vXq9LmZ4wKc7YbH3sDf6JgP1aUe0Qo5";
        assert_eq!(
            confidence(&token, ghp, b"", b"token: '", b"'", made_up),
            Confidence::High
        );
    }

    #[test]
    fn documented_example_keys_are_placeholders() {
        assert!(is_placeholder(b"AKIAIOSFODNN7EXAMPLE"));
        assert!(is_placeholder(b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"));
        assert!(is_placeholder(
            b"AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQW"
        ));
        // Published for anyone to use: Azurite's account key, Stripe's reference keys.
        assert!(is_placeholder(
            b"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
        ));
        assert!(is_placeholder(b"sk_test_4eC39HqLyjWDarjtT1zdp7dc"));
        // Stellar's and web3.js's documentation keys.
        assert!(is_placeholder(
            b"SCZANGBA5YHTNYVVV4C3U252E2B6P6F5T3U6MM63WBSBZATAQI3EBTQ4"
        ));
        assert!(is_placeholder(
            b"4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
        ));
        // Flask's documented secret key.
        assert!(is_placeholder(
            b"192b9bdd22ab9ed4d12e236c78afcb9a393ec15f71bbf5dc987d54727823bcbf"
        ));
    }

    #[test]
    fn a_key_blocks_header_lines_do_not_make_it_a_placeholder() {
        let body = "MIIBOgIBAAJBAMIeCnn9G/7g2Z6J+qHOE2XCLLuPoh5NHTO2Fm+PbzBvafBo0oYo\n".repeat(5);
        let block = |header: &str, body: &str| {
            format!(
                "-----BEGIN RSA PRIVATE KEY-----\n{header}\n\n{body}-----END RSA PRIVATE KEY-----"
            )
        };
        let described = block("A-Header: 64 characters long.........", &body);
        assert!(!is_placeholder(described.as_bytes()));
        // Dots in the body still mark a truncated key.
        let elided = block("Comment: test", &format!("{body}....\n"));
        assert!(is_placeholder(elided.as_bytes()));
    }

    #[test]
    fn example_words_inside_a_token_mark_it_without_making_it_a_placeholder() {
        let t = b"https://hooks.slack.com/triggers/T00EXAMPLE1/4817263950412/f0e1d2c3";
        assert!(looks_like_example(t));
        assert!(!is_placeholder(t));
        assert!(looks_like_example(b"sk-proj-TESTkey9Zq"));
        // Test-mode segments of a format are not example words...
        assert!(!looks_like_example(b"sk_test_nxOdTTuEace5Ajbh3svpG32m"));
        assert!(!looks_like_example(b"test_pub_Kq8vL2mK9xT4rW7nB3pY"));
        // ... unless something else in the value is.
        assert!(looks_like_example(b"sk_test_EXAMPLEuEace5Ajbh3svpG32m"));
        assert!(looks_like_example(b"EXAMPLE_TEST_DEVICE_01:APA91b"));
        assert!(looks_like_example(b"api_testkey_9Zq"));
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
    fn typed_values_are_told_from_generated_ones() {
        assert!(typed_pattern(
            b"e3b68aa711e6deadc62d5b76355674beef7cc3116062ddba"
        ));
        assert!(typed_pattern(b"AKIAABCDEFGUE1234567"));
        assert!(aws_key_id_alphabet(b"AKIAZKJBAYJDYQIF5TAC"));
        assert!(!aws_key_id_alphabet(b"ASIAPROVIDERDEFAULT1"));
        assert!(!aws_key_id_alphabet(b"AKIAN7RQ2A2KV9R4V3CQ"));
        assert!(typed_pattern(b"x1234567y"));
        assert!(typed_pattern(b"peWcBiMOS9HrZG15peWcBiMOS9HrZG15"));
        assert!(typed_pattern(b"asdfqwer1234asdf"));
        assert!(typed_pattern(b"pass!@#$%^&*()_+"));
        // One hexspeak word happens by chance; so do short runs.
        assert!(!typed_pattern(
            b"e3b68aa711e6deadc62d5b76355674b0ef7cc3116062ddba"
        ));
        assert!(!typed_pattern(b"k7Qm2xVz9LpR4tWn8YbC3dFh6JsE1aGu"));
        assert!(!typed_pattern(b"k7abcQm2x123VzLp"));
        // Made only of such runs, a value is typed along the keys.
        assert!(typed_pattern(b"abc123ABC"));
        assert!(typed_pattern(b"abc123XYZdef456"));
        assert!(typed_pattern(b"xyz789"));
        assert!(!typed_pattern(b"abc12"));
        assert!(!typed_pattern(b"abc12xyz"));
        // Any byte, as a binary file's may be.
        assert!(!typed_pattern(b"\xfe\xff\xff\x00\x01"));
    }

    #[test]
    fn a_product_named_as_its_password_is_a_default() {
        let above =
            b"// With authentication\nconst client = new MilvusClient({\n  username: 'root',\n";
        let after = b"',\n});\n";
        assert!(names_the_product(above, b"  password: '", after, b"milvus"));
        assert!(!names_the_product(
            above,
            b"  password: '",
            after,
            b"milvusdb"
        ));
        assert!(!names_the_product(
            b"const client = new Client({\n",
            b"password: '",
            after,
            b"milvus"
        ));
        // Inside a longer word it is not the name (`milvusdb`, `Milvuses`).
        assert!(!names_the_product(
            b"# the milvusdb server\n",
            b"password: '",
            after,
            b"milvus"
        ));
        // Upper case, with the connection's id above it.
        let above = b"Connection(\n    conn_id=\"kylin_default\",\n    login=\"ADMIN\",\n";
        assert!(names_the_product(
            above,
            b"    password=\"",
            b"\",\n",
            b"KYLIN"
        ));
        // The database named after it on its line, or the schema on the next.
        assert!(names_the_product(
            b"",
            b"mysqldump -u root -p",
            b" datahub > dump.sql\n",
            b"datahub"
        ));
        assert!(names_the_product(
            b"",
            b"    password=\"",
            b"\",\n    schema=\"airflow\",\n",
            b"airflow"
        ));
        // Mixed case is no product's name.
        assert!(!names_the_product(
            b"DragonFly\n",
            b"password: '",
            after,
            b"DrAgOn"
        ));
        // The same password set twice, neither one a default.
        assert!(!names_the_product(
            b"",
            b"MYSQL_PASSWORD=",
            b"\nMYSQL_ROOT_PASSWORD=bluelagoon\n",
            b"bluelagoon"
        ));
        assert!(!names_the_product(
            b"MYSQL_PASSWORD=bluelagoon\n",
            b"MYSQL_ROOT_PASSWORD=",
            b"\n",
            b"bluelagoon"
        ));
        // Not three lines on.
        assert!(!names_the_product(
            b"",
            b"password='",
            b"'\nx=1\ny=2\nname='walrus'\n",
            b"walrus"
        ));
    }

    #[test]
    fn values_shown_as_a_shape_are_examples() {
        let above = b"# The API Key from here which will look something like:\n";
        assert!(shown_as_a_shape(above, b"#    "));
        assert!(shown_as_a_shape(b"", b"Keys look like "));
        assert!(shown_as_a_shape(b"", b"a token such as: "));
        // Code on the value's line, or a word ending in the phrase's letters.
        assert!(!shown_as_a_shape(above, b"key = \""));
        assert!(!shown_as_a_shape(b"", b"unlike "));
        assert!(!shown_as_a_shape(b"# get a key like this one\n", b"#    "));
    }

    #[test]
    fn values_in_template_statements_are_expressions() {
        let line = b"{% set passwd = item.pass_key|string+\" \"+item.password %}\n";
        let at = memchr::memmem::find(line, b"item.").unwrap();
        assert!(in_template_statement(line, at));
        // Quoted, it is a literal; after the statement closes, plain text.
        let line = b"{% set passwd = 'Hq7tRw2pXz9v' %}\n";
        assert!(!in_template_statement(
            line,
            memchr::memmem::find(line, b"Hq7").unwrap()
        ));
        let line = b"{% if x %}password = Hq7tRw2pXz9v\n";
        assert!(!in_template_statement(
            line,
            memchr::memmem::find(line, b"Hq7").unwrap()
        ));
    }

    #[test]
    fn phrases_naming_their_secret_are_stand_ins() {
        assert!(is_spelt_out_stand_in(b"anyapikeyyoumayhaveset"));
        assert!(is_spelt_out_stand_in(b"mysupersecrettoken"));
        // Too short to be a phrase, or not only lowercase letters.
        assert!(!is_spelt_out_stand_in(b"secretsauce"));
        assert!(!is_spelt_out_stand_in(b"xk9tokenqwrtzplm"));
        assert!(!is_spelt_out_stand_in(b"qwhvbtrplmzxkfgd"));
    }

    #[test]
    fn type_spellings_are_not_passwords() {
        assert!(is_type_spelling(b"CString const &"));
        assert!(is_type_spelling(b"const char *"));
        assert!(is_type_spelling(b"std::string &&"));
        assert!(!is_type_spelling(b"&"));
        assert!(!is_type_spelling(b"Hq7tRw2p &"));
        assert!(!is_type_spelling(b"correct horse battery"));
        assert!(!is_type_spelling(b"p@ss word *"));
    }

    #[test]
    fn hex_digests_keyed_by_file_names_are_checksums() {
        let manifest = br#"{"css/scrollbar-001.html":"5beacdf0cfe1878013c64858e2ab3b21","#;
        let start = memchr::memmem::find(manifest, b"5bea").unwrap();
        assert!(names_a_file(key_before(manifest, start)));
        assert!(is_hex_digest(&manifest[start..start + 32]));
        assert!(!names_a_file(b"rollbar.token"));
        assert!(!names_a_file(b"ROLLBAR_ACCESS_TOKEN"));
        assert!(!names_a_file(b".json"));
        assert!(!is_hex_digest(b"5beacdf0cfe1878013c64858e2ab3b2"));
        assert!(!is_hex_digest(b"zbeacdf0cfe1878013c64858e2ab3b21"));
        assert!(wordlike(b"e2e") && wordlike(b"i18n") && !wordlike(b"x9q"));
        let rules = crate::rules::RuleSet::builtin().unwrap();
        let api_key = rules
            .rules()
            .iter()
            .find(|r| r.id == "generic.api-key")
            .unwrap();
        let judge =
            |v: &[u8]| confidence(api_key, v, b"", b"API_KEY = '", b"'", Placement::default());
        assert_eq!(
            judge(b"sk-live-abc123xyz789"),
            crate::rules::Confidence::Low
        );
        assert_ne!(
            judge(b"sk-live-Hq7tRw2pXz9vQ4"),
            crate::rules::Confidence::Low
        );
    }

    #[test]
    fn digests_of_stand_in_passwords_and_cut_short_keys_are_not_secrets() {
        // SHA-256 and SHA-1 of `admin`, MD5 of `password`.
        assert!(hashes_a_stand_in(
            b"8c6976e5b5410415bde908bd4dee15dfb167a9c873fc4bb8a81f6f2ab448a918"
        ));
        assert!(hashes_a_stand_in(
            b"d033e22ae348aeb5660fc2140aec35850c4da997"
        ));
        assert!(hashes_a_stand_in(b"5F4DCC3B5AA765D61D8327DEB882CF99"));
        // As a password beside its user (garagemq's default config).
        assert!(free_form_looks_made_up(
            b"084e0343a0486ff05530df6c705c8bb4",
            b"Username: \"guest\",\n",
            b"Password: \"",
            b"\", // guest md5 hash"
        ));
        assert!(is_placeholder(
            b"Z6eEdO8MOmk394WozF5oKyuAv855l4Mlqo7hhlSLik"
        ));
        assert!(is_placeholder(
            b"$2a$08$zZWtXTja0fB1pzD4sHCMyOCMYz2Z6dNbM6tl8sJogENOMcxWV9DN."
        ));
        assert!(!hashes_a_stand_in(b"5f4dcc3b5aa765d61d8327deb882cf98"));
        assert!(!hashes_a_stand_in(b"admin"));
        let short = b"-----BEGIN RSA PRIVATE KEY-----\n  MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyf8Ob\n  -----END RSA PRIVATE KEY-----";
        assert!(pem_body_len(short) < 60);
        let ed25519 = b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIHq7tRw2pXz9vQ4mKq0Lp4sZx81mKq0Lp4sWq3nBv7Lp\n-----END PRIVATE KEY-----";
        assert_eq!(pem_body_len(ed25519), 64);
    }

    #[test]
    fn python_type_unions_are_not_passwords() {
        assert!(is_union_type(b"str | None"));
        assert!(is_union_type(b"Optional[str] | SecretStr"));
        assert!(is_union_type(b"None|bytes"));
        // Not a built-in type among them, or not names.
        assert!(!is_union_type(b"str"));
        assert!(!is_union_type(b"Hq7tRw2p | Zx81mKq0"));
        assert!(!is_union_type(b"p@ss | None"));
        assert!(!is_union_type(b"str | "));
    }

    #[test]
    fn relative_paths_up_are_not_passwords() {
        assert!(is_file_path(b"../python-gatenlp"));
        assert!(is_file_path(b"../lib/site_packages"));
        assert!(!is_file_path(b"../"));
        assert!(!is_file_path(b"../XK9Q2"));
        assert!(!is_file_path(b"../p@ss"));
        // A source line as a repository browser links it.
        assert!(is_file_path(b"src/core/qgsauthmanager.h#L221"));
        assert!(is_file_path(b"lib/auth.rb#L10-L12"));
        assert!(!is_file_path(b"Xk9/q2.z#Lp"));
        assert!(!is_file_path(b"hunter#L2"));
    }

    #[test]
    fn a_value_inside_a_long_base64_run_is_not_a_token() {
        let run = "k7BdXn7DFmFvc6FDpauCk4/qlR0i6Weuw9U5e4x2x9XJL5akrRQH3yEO/JRBCrQcZ";
        let token = "fsq3Euq+aiNA1+p+z9wP5QtR4K0CMKq2s6OrpG+9AOcPLXp8ye";
        let data = format!("{run}{token}{run}");
        let (start, end) = (run.len(), run.len() + token.len());
        assert!(in_base64_run(data.as_bytes(), start, end));
        // Set off on either side, or in a run without `+` or `/`, it may be a token.
        for data in [
            format!("{run}\"{token}\"{run}"),
            format!("key={token}{run}"),
            format!("{run}{token}"),
        ] {
            let start = data.find(token).unwrap();
            assert!(
                !in_base64_run(data.as_bytes(), start, start + token.len()),
                "{data}"
            );
        }
        let plain = "a".repeat(40);
        let data = format!("{plain}{token}{plain}");
        assert!(!in_base64_run(data.as_bytes(), 40, 40 + token.len()));
        // URL-safe base64 (a packed table of Unicode ranges), but not its two
        // alphabets mixed.
        let left = "AgsABJhlAQBgiAwgnhPABBOBJBRAHBBg_TAAAAAAFHAgjDUBPAgjIAg4hJAABAAhN_";
        let right = "_DgqvAw1BhUhCgGAkBg-GAcBKFJhlhMCJglhzLg3HJCCh_CANPIj_AoPBB";
        let fb = "EAAAHhJCAhrAhUHiXIAgsAIOcEdBVANhIGABAgrCAABAIHJFFABAgkABAEHJhFBjtWIQAg";
        let data = format!("{left}{fb}{right}");
        assert!(in_base64_run(
            data.as_bytes(),
            left.len(),
            left.len() + fb.len()
        ));
        let data = format!("{left}{fb}{run}");
        assert!(!in_base64_run(
            data.as_bytes(),
            left.len(),
            left.len() + fb.len()
        ));
    }

    #[test]
    fn an_ant_filter_token_is_a_marker_name() {
        let line = "        \t\t<filter token=\"Manual_HelloWorld_Simple\" value=\"${snip}\"/>";
        assert!(in_ant_filter(line.as_bytes(), line.find("Manual").unwrap()));
        let line = "<replacefilter token=\"@TOKEN@\" value=\"x\"/>";
        assert!(in_ant_filter(line.as_bytes(), line.find("@TOKEN").unwrap()));
        let line = "<auth token=\"Zq8vL2mK9xT4bWnQ\"/>";
        assert!(!in_ant_filter(line.as_bytes(), line.find("Zq8").unwrap()));
    }

    #[test]
    fn a_whole_run_up_the_alphabet_is_a_stand_in() {
        assert!(free_form_looks_made_up(
            b"abcd",
            b"",
            b"creds.password = '",
            b"'\n"
        ));
        assert!(free_form_looks_made_up(b"3456", b"", b"password=", b"\n"));
        assert!(!free_form_looks_made_up(b"abdz", b"", b"password=", b"\n"));
    }

    #[test]
    fn a_declared_type_is_not_a_password() {
        let declared = |line: &str, v: &str| {
            let at = line.rfind(v).unwrap();
            is_declared_type(v.as_bytes(), line.as_bytes(), at)
        };
        assert!(declared("  var password: SecureString?", "SecureString?"));
        assert!(declared("class Login(val secret: CharArray,", "CharArray"));
        assert!(declared(
            "x\n    private let token: Swift.String",
            "Swift.String"
        ));
        // Not declared with a keyword, or not a type's name: a value.
        assert!(!declared("password: SecureString?", "SecureString?"));
        assert!(!declared("  variable password: Hunter2x", "Hunter2x"));
        assert!(!declared("  var password: hunter2", "hunter2"));
        assert!(!declared("  var password: Tr0ub4dor&3", "Tr0ub4dor&3"));
    }

    #[test]
    fn sorted_runs_are_gradients_not_tokens() {
        assert!(has_sorted_run(b"ACCAACFGKPTWZVURSMIF"));
        assert!(has_sorted_run(b"zwtrpmkhec"));
        assert!(!has_sorted_run(b"AKIAQYLPMN5HHHFPZAM2"));
        assert!(!has_sorted_run(b"arn:aws:iam::123456789012:user/Example"));
        assert!(!has_sorted_run(b"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"));
    }

    #[test]
    fn ehive_parameters_are_substitution_markers() {
        assert!(is_substitution_marker(b"#taxonomy_pass#"));
        assert!(is_substitution_marker(b"@DB_PASSWORD@"));
        assert!(!is_substitution_marker(b"#hunter2#"));
        assert!(!is_substitution_marker(b"#Zq8_vL2m#"));
    }

    #[test]
    fn protein_sequences_are_not_tokens() {
        let fasta = "LVVPHMMRSITGGRHRRLLPVSALTGALLLVVADLLARIIHPPLELPVGV\nLTAIIGAPWFVWLLVRMR\n>ESCO001c01a_043130 C ATG\n";
        let at = fasta.find("LTAI").unwrap();
        assert!(in_sequence_data(fasta.as_bytes(), at, at + 18));
        let hmmer = "  T4bP_pilT 112 LvlVtGptGsGKsTtlaall 131\n  L +++Gp G+GKsT++ a+\n  PSAV001.0321.00001.C001_03036  52 LTAIVGPNGAGKSTLIKAIA 71\n";
        let at = hmmer.find("LTAIV").unwrap();
        assert!(in_sequence_data(hmmer.as_bytes(), at, at + 20));
        // A key id in configuration, even one spelt in those letters, and a key id
        // with a digit or a letter no amino acid has, are tokens.
        for (text, key) in [
            (
                "[default]\naws_access_key_id = AKIAQLMNPWHSTVCDEFGK\nregion = us-east-1\n",
                "AKIAQLMNPWHSTVCDEFGK",
            ),
            (
                "LVVPHMMRSITGGRHRRLLPVSALTGALLLVVADLLARIIHPPLELPVGV\nLTAIIGAPWFVWLLVRMR7\n",
                "LTAIIGAPWFVWLLVRMR7",
            ),
            (
                "LVVPHMMRSITGGRHRRLLPVSALTGALLLVVADLLARIIHPPLELPVGV\nLTAIIGAPWFVWLLVRMRB\n",
                "LTAIIGAPWFVWLLVRMRB",
            ),
        ] {
            let at = text.find(key).unwrap();
            assert!(
                !in_sequence_data(text.as_bytes(), at, at + key.len()),
                "{text}"
            );
        }
    }

    #[test]
    fn base64_wrapped_at_a_fixed_width_is_one_run() {
        // An SVG's image split into 76-column lines by spaces or line breaks, with a
        // crates.io token's prefix inside a line.
        let line = "e7rz/d1peBKGYNtsFCAI0iIyC6u1ldWyjgwpFc8mHCGEgFsuVj6+OH72k5EbY9OtGiE5Z+8/Wqo1";
        let token = "cioxVkZz61ZUsumfZBgHbrHTiQI7NYWr189";
        for sep in [" ", "\n", "\r\n"] {
            let data = format!("{line}{sep}onQqkc8m9y6vSU9EsSySO+{token}+a7V+7EcD6d{sep}{line}");
            let start = data.find(token).unwrap();
            assert!(
                in_base64_run(data.as_bytes(), start, start + token.len()),
                "{sep:?}"
            );
        }
        // A token alone on its line between lines of base64, or after a word and a
        // space in prose, is not inside them.
        for data in [
            format!("{line}\n{token}\n{line}"),
            format!("{line} the token {token} then {line}"),
            format!("{line}\n\nonQqkc8m9y6vSU9EsSySO+{token}+a7V+7EcD6d\n\n{line}"),
        ] {
            let start = data.find(token).unwrap();
            assert!(
                !in_base64_run(data.as_bytes(), start, start + token.len()),
                "{data}"
            );
        }
    }

    #[test]
    fn an_unquoted_value_leaves_off_a_parenthesis_its_line_opened() {
        let rules = crate::rules::RuleSet::builtin().unwrap();
        let rule = |id: &str| rules.rules().iter().find(|r| r.id == id).unwrap();
        let (password, slack) = (rule("generic.password"), rule("slack.webhook"));
        let end = |rule, data: &str, value: &str| {
            let start = data.find(value).unwrap();
            let end = value_end(rule, data.as_bytes(), start, start + value.len());
            data[start..end].to_string()
        };
        let line = "-- default admin (password: Adm1nQx7v)";
        assert_eq!(end(password, line, "Adm1nQx7v)"), "Adm1nQx7v");
        // A value that opens its own, a quoted one, or a line that opened none.
        assert_eq!(end(password, "(password: pa(ss))", "pa(ss)"), "pa(ss)");
        assert_eq!(end(password, "f(password=\"Qx7v)\"", "Qx7v)"), "Qx7v)");
        assert_eq!(end(password, "password: Qx7v)", "Qx7v)"), "Qx7v)");
        // Only free-form values are cut.
        assert_eq!(end(slack, "(hook: abc)", "abc)"), "abc)");
    }

    #[test]
    fn bit_syntax_segments_and_option_flags_are_not_passwords() {
        assert!(is_bit_syntax_segment(b"Sz2/binary"));
        assert!(is_bit_syntax_segment(b"32/integer"));
        assert!(is_bit_syntax_segment(b"Len/binary-unit:8"));
        assert!(!is_bit_syntax_segment(b"s3cr3t/binary"));
        assert!(!is_bit_syntax_segment(b"Hq7t/Rw2pXz9v"));
        assert!(is_option_flag(b"-otherbuild"));
        assert!(is_option_flag(b"--no-password"));
        assert!(!is_option_flag(b"-Hq7tRw2pXz9v"));
        assert!(!is_option_flag(b"-ab"));
        assert!(!is_option_flag(b"otherbuild"));
    }

    #[test]
    fn annotations_modules_and_digests_are_not_values() {
        assert!(is_annotated_assignment(b"str = \""));
        assert!(is_annotated_assignment(b"Optional[str] = None"));
        assert!(is_annotated_assignment(b"str | None = \""));
        assert!(!is_annotated_assignment(b"hunter two = x"));
        assert!(!is_annotated_assignment(b"x9 =Tq"));
        assert!(!ok_at(
            "\"AuthorizationLoginPassword\": \".destination_mongodb\",",
            ".destination_mongodb"
        ));
        assert!(ok_at("password: \".Zq8kLm2vR9t\"", ".Zq8kLm2vR9t"));
        assert!(is_non_secret_token_key(b"\"hashed_secret"));
        assert!(is_non_secret_token_key(b"\"hashed_token"));
        assert!(!is_non_secret_token_key(b"\"hashed_token_seed"));
    }

    #[test]
    fn kinds_session_passwords_and_json_defaults_are_not_secrets() {
        assert!(!ok_at(
            "ResetPassword = \"identitytoolkit#ResetPasswordResponse\",",
            "identitytoolkit#ResetPasswordResponse"
        ));
        assert!(ok_at("password = \"hunt#Er2kq9Zt\"", "hunt#Er2kq9Zt"));
        assert!(is_pascal_name(b"LibrariesDocumentsPatchV1Request"));
        assert!(is_placeholder_credentials(
            br#"{"UserID":"defaultUser","Password":"defaultPassword"}"#
        ));
        assert!(!is_placeholder_credentials(
            br#"{"UserID":"svc","Password":"Zq8#kLm2vR9t"}"#
        ));
        assert_eq!(json_password(br#"{"password" : "x1"}"#), Some(&b"x1"[..]));
        assert_eq!(json_password(br#"{"old_password": 1}"#), None);
    }

    #[test]
    fn runs_stand_ins_ports_redactions_elisions_and_templates_are_not_secrets() {
        assert!(runs_through(
            b"AQXNnd2hIT6z9bHFzZz2Kp1ghiMz_RtyuvwXYZ123abc"
        ));
        assert!(!runs_through(b"AQXNnd2hIT6z9bHFzZz2Kp1ghiMz_Rtyuvw5Lq8Kz"));
        assert!(!runs_through(b"k7Qm2xVz9LpR4tWn8YbC3dFh6JsE1aGu"));
        assert!(named_as_a_stand_in(b"const dummyHash = '"));
        assert!(named_as_a_stand_in(b"FAKE_GITHUB_TOKEN="));
        assert!(!named_as_a_stand_in(b"const githubToken = '"));
        assert!(is_port_mapping(b"1337:1337"));
        assert!(is_port_mapping(b"8080:80/tcp"));
        assert!(!is_port_mapping(b"hunter:1337"));
        assert!(is_substitution_marker(b"_DBC_DBPASS_"));
        assert!(is_substitution_marker(b"@DB_PASSWORD@"));
        assert!(!is_substitution_marker(b"_Hq7tRw2_"));
        assert!(!is_substitution_marker(b"_1234_"));
        assert!(is_elided(b"!vault..."));
        assert!(is_elided("s3cr\u{2026}".as_bytes()));
        assert!(!is_elided(b"Hq7.tRw2.pXz9"));
        assert!(is_format_template(b"storage-systems/%s", b"' % ssid\n"));
        assert!(is_format_template(b"%(user)s:%(password)s", b"\""));
        assert!(!is_format_template(b"storage-systems/%s", b"'\n"));
        // A Django key's alphabet holds `%` and `(`.
        assert!(!is_format_template(
            b"django-insecure-_du9e^cmago!%(^+=gr@cu@v9-v7%s",
            b"'\n"
        ));
        assert!(!is_format_template(b"Hq7%tRw2", b"' % x"));
        assert!(is_placeholder(b"[SCRUBBED]"));
        assert!(claims_name_an_example(br#"{"iss":"Acme"}"#));
    }

    #[test]
    fn acme_challenge_tokens_are_public() {
        let json = "{\"type\": \"http-01\", \"token\": \"MUi-gqeOJdRkSb\"}";
        let at = json.find("MUi").unwrap();
        assert!(in_acme_challenge(json.as_bytes(), at, b"token"));
        let url = "\"url\": \"https://ca.test/acme/challenge/x/1\",\n\"token\": \"Ys\"";
        let at = url.find("Ys").unwrap();
        assert!(in_acme_challenge(url.as_bytes(), at, b"token"));
        assert!(!in_acme_challenge(url.as_bytes(), at, b"api_token"));
        let plain = "{\"type\": \"bearer\", \"token\": \"MUi-gqeOJdRkSb\"}";
        let at = plain.find("MUi").unwrap();
        assert!(!in_acme_challenge(plain.as_bytes(), at, b"token"));
    }

    #[test]
    fn attribute_reads_and_commit_pins_are_not_tokens() {
        assert!(is_attribute_access(b"self.qdrant_config.qdrant_api_key"));
        assert!(is_attribute_access(b"settings.stripe.secret_key"));
        assert!(!is_attribute_access(b"config.api_key"));
        assert!(is_attribute_access(b"test_config.qdrant_config.api_key"));
        assert!(!is_attribute_access(b"k9_x.dE3vWq.Wz7pLm"));
        assert!(is_secret_variable(b"key_passphrase"));
        assert!(is_secret_variable(b"snowflake_password"));
        assert!(!is_secret_variable(b"k7q_mx2v9zlpr4twn8yb"));
        assert!(!is_attribute_access(b"Kq9x.dE3v.Wz7pLm"));
        assert!(!is_attribute_access(b"sk.eyJ1Ijoiam9obiJ9.Xk2pQ9vLw"));
        let sha = "9ce4f0792a54f05fba22531faee0c439ae9d70fa";
        let pin = format!("\"sdk @ git+https://github.com/wandb/weave-stainless.git@{sha}\"");
        let at = pin.find(sha).unwrap();
        assert!(is_commit_pin(pin.as_bytes(), at, at + 40));
        let uses = format!("uses: wandb/action@{sha}");
        let at = uses.find(sha).unwrap();
        assert!(is_commit_pin(uses.as_bytes(), at, at + 40));
        // Not after `@` with a path: a key in a URI's user part, or a bare value.
        let key = format!("WANDB_API_KEY={sha}");
        let at = key.find(sha).unwrap();
        assert!(!is_commit_pin(key.as_bytes(), at, at + 40));
        let user = format!("https://api:{sha}@api.wandb.ai");
        let at = user.find(sha).unwrap();
        assert!(!is_commit_pin(user.as_bytes(), at, at + 40));
    }

    #[test]
    fn hyphenated_words_are_slugs_and_uuids_are_not() {
        assert!(is_slug(b"pa-1-protect-and-limit-highly-privileged"));
        assert!(is_slug(b"synthetic-local-reader"));
        assert!(!is_slug(b"6a38ee5a-7235-44e7-8b22-816a403bad5d"));
        assert!(!is_slug(b"pa-GhRzK8qLm2Vx9Tb4Nw7Yc3Jd1Pf5Hs0Ea6Uq8Rt2Zk"));
        assert!(!is_slug(b"two-words"));
        assert!(is_slug(b"rb-cm-codeblock-plain"));
        assert!(!is_slug(b"x1-two-words"));
        assert!(!is_slug(b"ab-cd-ef-gh"));
        assert!(is_slug(b"_aj_hash_with_indifferent_access"));
        assert!(!is_slug(b"sk_live_4eC39HqLyjWDarjtT1zdp7dc"));
        // A secret manager's generated name: words, then a short hex suffix.
        assert!(is_slug(b"github-github-oauthtoken-319d75"));
        // Words with initialisms among them: a phrase.
        assert!(is_slug(b"the_key_I_got_for_a_google_API"));
        assert!(!is_slug(b"AKIA_XYZ_QRS"));
        assert!(!is_slug(b"sk_live_ABC_4eC39HqLyjWDarjtT1zdp7dc"));
        assert!(is_two_word_identifier(b"Mandrillus_leucophaeus"));
        assert!(is_two_word_identifier(b"access-token"));
        assert!(!is_two_word_identifier(b"md-sa4Nmy51VxyCg_tK8pTpOd"));
        assert!(!is_two_word_identifier(b"Mandrillus_Leucophaeus"));
        assert!(!is_two_word_identifier(b"abc_defghij"));
        assert!(!is_two_word_identifier(
            b"test_abcdefabcdefabcdefabcdefabcde"
        ));
        assert!(!is_slug(b"github-oauthtoken-319d75"));
        assert!(!is_slug(b"github-github-oauthtoken-319d75e9a1"));
        assert!(!is_slug(b"github-github-319d75-oauthtoken"));
        assert!(is_camel_name(b"sharePagerDutyAction", 3));
        assert!(!is_camel_name(b"overSome", 3));
        // Random letters break into single-letter or many-capital pieces.
        assert!(!is_camel_name(b"xKQzTPlmRVbwQeYtGH", 2));
    }

    #[test]
    fn jwts_signed_with_a_documented_key_are_examples() {
        let header_payload =
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsIm5hbWUiOiJBZGEifQ";
        // Signed with jwt.io's default key, then with a random one.
        let example = format!("{header_payload}.YGDjzDHttcVUe8LnP7itFnK5VTiysn_EeO17UvnUYFw");
        let real = format!("{header_payload}.1Y7BZMGiWabBlPHykD3QsGqX61OVkcA-N2A9tPWD8lM");
        assert!(jwt_signed_with_example_key(example.as_bytes()));
        assert!(!jwt_signed_with_example_key(real.as_bytes()));
        assert!(!jwt_signed_with_example_key(
            b"eyJhbGciOiJIUzI1NiJ9.not-base64!.x"
        ));
    }

    #[test]
    fn jwts_carrying_example_claims_are_examples() {
        let sig = "GplO4w1spRgvEJQ3-FOtZr-uC8L45Jt7SN0J4woBnEXG";
        for payload in [
            "eyJkYXRhIjoidGVzdCJ9",
            "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ",
        ] {
            let token = format!("eyJhbGciOiJSUzI1NiJ9.{payload}.{sig}");
            assert!(jwt_with_example_claims(token.as_bytes()), "{payload}");
        }
        // Real claims, and `test` only inside words (`latest-attestation`).
        for payload in [
            "eyJzdWIiOiJ1XzgxZjMiLCJpc3MiOiJodHRwczovL2F1dGguYWNtZS5pbyIsImV4cCI6MTc2NzIyNTYwMH0",
            "eyJzdWIiOiJ1XzgxZjMiLCJyb2xlIjoibGF0ZXN0LWF0dGVzdGF0aW9uIn0",
        ] {
            let token = format!("eyJhbGciOiJSUzI1NiJ9.{payload}.{sig}");
            assert!(!jwt_with_example_claims(token.as_bytes()), "{payload}");
        }
    }

    #[test]
    fn cesium_ions_shipped_default_token_is_made_up() {
        use base64::Engine as _;
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let sig = "x3Ra1-m0GEx7jwv8wnz-bAt4SSG3_ZCC9zU_MwzfjA4";
        let shipped = format!(
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.{}.{sig}",
            b64(
                r#"{"jti":"db6d3c29","id":259,"sub":"CesiumJS","iss":"https://api.cesium.com","aud":"1.144 Release - Delete on October 1, 2026","iat":1784958890}"#
            )
        );
        assert!(jwt_claims_made_up(shipped.as_bytes()));
        // A user's own ion token names the user's account.
        let own = format!(
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.{}.{sig}",
            b64(r#"{"jti":"7f1e0a52","id":48211,"iat":1784958890}"#)
        );
        assert!(!jwt_claims_made_up(own.as_bytes()));
    }

    #[test]
    fn values_repeating_a_short_unit_are_filler() {
        assert!(is_placeholder(b"01234567890123456789012345678901"));
        assert!(is_placeholder(b"cbadefcbadefcbadefcbadefcbadef"));
        assert!(is_placeholder(b"abcabcabcabc"));
        assert!(!is_placeholder(b"8f2Kq9xLm3Vw7RtZ4pYc1NbH6sDj0GaE"));
        // Too short to tell from a random value.
        assert!(!is_periodic(b"abab1"));
        // MinIO's public playground keys are published for anyone to use.
        assert!(is_placeholder(b"Q3AM3UQ867SPQQA43P2F"));
        assert!(is_placeholder(b"zuf+tfteSlswRu7BJ86wekitnifILbZam1KYY3TG"));
    }

    #[test]
    fn examples_are_introduced_by_the_word_not_by_a_host() {
        assert!(introduces_example(b"/*\nExample to rescue a server\n\n"));
        assert!(introduces_example(b"Here are some examples:\n"));
        assert!(introduces_example(b"# For example, in settings.py.\n"));
        assert!(!introduces_example(b"url = https://db.example.com/app\n"));
        assert!(!introduces_example(b"user = 'jane@example.org'\n"));
        assert!(!introduces_example(b"# see the counterexample below\n"));
        assert!(introduces_example(
            b"# to get a string like this run:\n# openssl rand -hex 32\n"
        ));
        assert!(introduces_example(
            b"a stack with, for instance, an [access token](...):\n"
        ));
        assert!(introduces_example(
            b"// the key (e.g. from the dashboard)\n"
        ));
    }

    #[test]
    fn lines_above_stop_after_five_lines() {
        let data = b"one\ntwo\nthree\nfour\nfive\nsix\nsecret = x\n";
        let line_start = data.len() - b"secret = x\n".len();
        assert_eq!(
            lines_above(data, line_start),
            b"two\nthree\nfour\nfive\nsix\n"
        );
        assert_eq!(lines_above(data, 0), b"");
    }

    #[test]
    fn anonymous_ftp_logins_and_example_commands_are_told_apart() {
        assert!(anonymous_login(
            b"my $FTP_USER = \"anonymous\";\n",
            b"my $FTP_PASS = \""
        ));
        assert!(anonymous_login(b"", b"ftp://anonymous:"));
        assert!(!anonymous_login(
            b"my $FTP_USER = \"anonymous_uploader\";\n",
            b"pass = \""
        ));
        assert!(!anonymous_login(
            b"# anonymous access is off\n",
            b"pass = \""
        ));
        let preceding = b"Example:\n$ CLOUDFLARE_EMAIL=you@example.com \\\n";
        let after = b" \\\n  lego --dns cloudflare run\nnext\n";
        assert!(in_example_command(
            preceding,
            b"  CLOUDFLARE_API_KEY=",
            after
        ));
        // Not continued: the example host is on another command's line.
        assert!(!in_example_command(
            b"EMAIL=you@example.com\n",
            b"CLOUDFLARE_API_KEY=",
            b"\nlego run\n"
        ));
        assert!(!in_example_command(
            b"$ CLOUDFLARE_EMAIL=ops@acme.io \\\n",
            b"  CLOUDFLARE_API_KEY=",
            b" \\\n  lego run\n"
        ));
    }

    #[test]
    fn default_and_sample_logins_in_uris_are_told_apart() {
        assert!(sample_login(b"postgresql://scott:", b"tiger^5HHH"));
        assert!(sample_login(b"url = \"mysql://postgres:", b"postgres"));
        assert!(!sample_login(b"postgresql://app:", b"Vq7-Lm2xR9tZ4wKp"));
        assert!(!sample_login(b"password: ", b"scott"));
    }

    #[test]
    fn generic_values_that_name_their_key_or_a_meeting_are_not_secrets() {
        assert!(!ok_at(
            "e.PROP_DOES_EXTERNAL_FILTER_PASS=\"doesExternalFilterPass\"",
            "doesExternalFilterPass"
        ));
        // An OID, a version and an address are numbers, not secrets.
        assert!(!ok_at(
            "'challengePassword' => '1.2.840.113549.1.9.7',",
            "1.2.840.113549.1.9.7"
        ));
        assert!(!ok_at("password = \"10.0.0.12:5432\"", "10.0.0.12:5432"));
        assert!(!ok_at(
            "https://zoom.us/j/95228013874?pwd=Ep7HIk8t9JP6VToxt1Wj4P7K5PshC0.1",
            "Ep7HIk8t9JP6VToxt1Wj4P7K5PshC0.1"
        ));
        assert!(!ok_at(
            "cmd.Env = append(env, \"PWD=\"+cfg.Dir)",
            "+cfg.Dir"
        ));
        assert!(!ok_at("odbc = \"DSN=mydsn;PWD=pass+word\"", "pass+word"));
        assert!(!ok_at("\"passwd\": \"Unavailable\",", "Unavailable"));
        assert!(!ok_at(
            "token = \"amzn1.account.AF6RHO7KZU5XRVQ\"",
            "amzn1.account.AF6RHO7KZU5XRVQ"
        ));
        assert!(!ok_at(
            "password: abcd-efgh-ijkl-mnop",
            "abcd-efgh-ijkl-mnop"
        ));
        assert!(!ok_at("'anyPass': 'overSome',", "overSome"));
        assert!(!ok_at(
            "const MODULE_REFERENCE_TOKEN = \"__WEBPACK_MODULE_REFERENCE__\";",
            "__WEBPACK_MODULE_REFERENCE__"
        ));
        assert!(!ok_at(
            "\"termToken\": \"term-token-gPFEGk7CF4wS901w7ppYclt7\"",
            "term-token-gPFEGk7CF4wS901w7ppYclt7"
        ));
        assert!(!ok_at(
            "`https://user@password:www.google.com/`",
            "www.google.com/"
        ));
        assert!(!ok_at("pass:e.pass||\"\",host:e.host", "e.pass||"));
        assert!(!ok_at(
            "\"secret_access_key\": \"\\u79c1\\u5bc6\\u5b58\\u53d6\"",
            "\\u79c1\\u5bc6\\u5b58\\u53d6"
        ));
        assert!(!ok_at(
            "api_key=\"onGridDischargeStopSOC\",",
            "onGridDischargeStopSOC"
        ));
        assert!(ok_at(
            "db_password = \"Vq7-Lm2xR9tZ4wKp\"",
            "Vq7-Lm2xR9tZ4wKp"
        ));
    }

    #[test]
    fn documented_oauth_examples_are_placeholders() {
        assert!(is_placeholder(b"mF_9.B5f-4.1JqM"));
        assert!(is_placeholder(b"czZCaGRSa3F0MzpnWDFmQmF0M2JW"));
        assert!(is_placeholder(b"2YotnFZFEjr1zCsicMWpAA"));
    }

    #[test]
    fn manual_page_values_are_not_secrets() {
        // The value: after the first `=` or `:` and any spaces, to the end of the line.
        let ok = |line: &str| {
            let at = line.find(['=', ':']).unwrap() + 1;
            let at = at + line[at..].len() - line[at..].trim_start().len();
            generic_value_ok(line.as_bytes(), at, line.len())
        };
        assert!(!ok("\u{2018}--password=PASSWORD\u{2019}"));
        assert!(!ok("equivalent to \u{2018}--http-password=STRING\u{2019}."));
        assert!(!ok(
            "--secret=projects/my\\-project/secrets/my\\-secret/versions/2"
        ));
        assert!(ok("--password=Zq8vL2mK9xT4\u{2019}"));
        assert!(!ok("force_pass: true/false"));
        assert!(!ok("my $pwd = `/usr/bin/fullpath -t`;"));
        let quoted = b"password = '`123QWERasdf'";
        assert!(generic_value_ok(quoted, 12, quoted.len() - 1));
        assert!(is_leet_stand_in(b"p4ssw0rd"));
        assert!(is_leet_stand_in(b"P@ssw0rd"));
        assert!(is_leet_stand_in(b"secr3t"));
        assert!(is_leet_stand_in(b"t0ps3kr3t"));
        assert!(!is_leet_stand_in(b"password"));
        assert!(!is_leet_stand_in(b"p4ssw0rd-for-prod-db"));
        assert!(!is_leet_stand_in(b"Zq8vL2mK9xT4"));
        assert!(is_leet_stand_in(b"password123"));
        assert!(is_leet_stand_in(b"Secret1!"));
        assert!(is_leet_stand_in(b"p4ssw0rd2024"));
        assert!(is_leet_stand_in(b"super$ecret"));
        assert!(is_leet_stand_in(b"password12345"));
        assert!(is_leet_stand_in(b"Admin12345"));
        assert!(!is_leet_stand_in(b"password1234567"));
        assert!(is_leet_stand_in(b"mypassword1"));
        assert!(!is_leet_stand_in(b"ourpassword1"));
        assert!(names_password_word(b"SomeKindOfPassword123!@#"));
        assert!(names_password_word(b"geheim$parole"));
        assert!(names_password_word(b"MeinPasswort1"));
        assert!(names_password_word("ditt_lösenord".as_bytes()));
        // Leetspeak dressed in a URL's punctuation.
        assert!(is_leet_stand_in(b"p@ss:word"));
        assert!(!is_leet_stand_in(b"h0st:p0rt"));
        // `1` read as `i` or as `l`.
        assert!(is_leet_stand_in(b"s3kr1t"));
        assert!(is_leet_stand_in(b"adm1n"));
        assert!(!is_leet_stand_in(b"s3kr1tx"));
        assert!(names_password_word(b"MyLuggageComboIs1234"));
        assert!(!names_password_word(b"Zq8vL2mK9xT4"));
        let rules = crate::rules::RuleSet::builtin().unwrap();
        let pair = rules
            .rules()
            .iter()
            .find(|r| r.id == "credentials.username-password-pair")
            .unwrap();
        // "not my real password", in base64.
        let low = confidence(
            pair,
            b"bm90IG15IHJlYWwgcGFzc3dvcmQ=",
            b"",
            b"",
            b"",
            Placement::default(),
        );
        assert_eq!(low, crate::rules::Confidence::Low);
    }

    #[test]
    fn free_form_stand_ins_are_judged_as_they_decode() {
        let rules = crate::rules::RuleSet::builtin().unwrap();
        let rule = |id: &str| rules.rules().iter().find(|r| r.id == id).unwrap();
        let (uri, basic) = (rule("uri.mysql"), rule("credentials.http-basic-header"));
        let low = crate::rules::Confidence::Low;
        // Judged on the value alone, with nothing around it.
        let plain = |rule, v: &[u8]| confidence(rule, v, b"", b"", b"", Placement::default());
        // Percent-encoded stand-ins: xkcd's passphrase, `pass word`.
        for v in ["correct%20horse%20battery%20staple", "pass%20word", "C3%B0"] {
            assert_eq!(plain(uri, v.as_bytes()), low, "{v}");
        }
        assert_eq!(plain(uri, b"hunter42"), low);
        assert_eq!(plain(uri, b"swordfish"), low);
        assert_eq!(plain(uri, b"tiger^5HHH"), low);
        assert_eq!(plain(uri, b"s00perS3kret"), low);
        assert_eq!(plain(uri, b"sikrit"), low);
        assert_eq!(plain(uri, b"none"), low);
        assert_eq!(plain(uri, b"mypw"), low);
        assert_eq!(plain(uri, b"hello123"), low);
        assert_ne!(plain(uri, b"kT9v%2BQ2mLx8"), low);
        // Stand-ins with punctuation inside, plain or percent-encoded.
        for v in ["foo:bar", "my%7Bpass", "foo-bar"] {
            assert_eq!(plain(uri, v.as_bytes()), low, "{v}");
        }
        assert_ne!(plain(uri, b"foo:bar:Hq7t"), low);
        // A Basic header of `id>:s?1`: a three-byte password.
        assert_eq!(plain(basic, b"aWQ+OnM/MQ=="), low);
        // `deploy:Hq7tRw2pXz9v` is a credential.
        assert_ne!(plain(basic, b"ZGVwbG95OkhxN3RSdzJwWHo5dg=="), low);
        // RFC 7617's `Aladdin:open sesame`, and GitHub's documented OAuth token.
        assert_eq!(plain(basic, b"QWxhZGRpbjpvcGVuIHNlc2FtZQ=="), low);
        assert!(is_placeholder(b"gho_16C7e42F292c6912E7710c838347Ae178B4a"));
        assert!(is_placeholder(b"x-oauth-basic"));
        // Google's documented OAuth tokens, and a copy extending the first.
        assert!(is_placeholder(b"1/fFAGRNJru1FTz70BzhT3Zg"));
        assert!(is_placeholder(b"1/fFAGRNJrufoiWEGIWEFJFJF"));
        assert!(is_placeholder(
            b"1//xEoDL4iW3cxlI7yDbSRFYNG01kVKM2C-259HOF2aQbI"
        ));
        assert!(!is_placeholder(b"1//0gKq7Xv2mZ9pLr4TnW8sYdB3cF6hJ"));
        // Punctuation only once decoded (a URI parser's test), NZBGet's shipped
        // default; a password past ASCII is still a password.
        assert_eq!(plain(uri, b":-%23-;-%2F-%3F"), low);
        assert_eq!(plain(uri, b"tegbzn6789"), low);
        assert_ne!(plain(uri, "Zq8vüL2mK9xT4".as_bytes()), low);
        assert_ne!(plain(uri, "%D0%B6%D1%83%D0%BA%D0%BE%D0%B2".as_bytes()), low);
        // `lv1.1234567890abcdef:1234567890abcdef`, a README's Basic header.
        assert_eq!(
            plain(
                basic,
                b"bHYxLjEyMzQ1Njc4OTBhYmNkZWY6MTIzNDU2Nzg5MGFiY2RlZg=="
            ),
            low
        );
        assert!(is_placeholder(
            b"-----BEGIN RSA PRIVATE KEY-----\nMIICXQIBAAKBgQCw0YNSqI9T1VFvRsIOejZ9feiKz1SgGfbe9Xq5tEzt2yJCsbyg"
        ));
    }

    #[test]
    fn marker_words_in_a_key_blocks_random_text_are_chance() {
        let body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC8qLm2Zt7Rb3xK\n".repeat(5);
        let pem = |extra: &str| {
            format!("-----BEGIN PRIVATE KEY-----\n{body}{extra}\n-----END PRIVATE KEY-----")
        };
        // Mixed case inside base64, or a header naming the test key's owner: a key.
        let chance = pem("Qm9FaKe7ZxXxXq2LwTeStR8yvDem0PqXxxXk3SaMpLe");
        assert!(!looks_like_example(chance.as_bytes()));
        assert!(!is_placeholder(chance.as_bytes()));
        let armored = format!(
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\nComment: <alice@example.org>\n\n{body}\n-----END PGP PRIVATE KEY BLOCK-----"
        );
        assert!(!looks_like_example(armored.as_bytes()));
        // Written as words: an example.
        assert!(looks_like_example(pem("EXAMPLE").as_bytes()));
        assert!(looks_like_example(pem("Qm9+fake+Zx").as_bytes()));
        // Seven capitals or more count inside the text too: the AWS CLI's example
        // session token (`…qwjzP2iEXAMPLEbw/m3h…`).
        assert!(looks_like_example(pem("qwjzP2iEXAMPLEbw").as_bytes()));
        assert!(!looks_like_example(pem("qwjzP2iExampLEbw").as_bytes()));
        assert!(is_placeholder(
            pem("XXXXXXXXXXXXXXXXXXXXXXXXXXXX").as_bytes()
        ));
        // Short tokens keep the plain substring test.
        assert!(looks_like_example(b"sk-proj-TESTkey9Zq"));
    }

    #[test]
    fn tokens_typed_on_a_few_keys_are_told_from_generated_ones() {
        assert!(typed_on_few_keys(
            b"TtnuieannGt2rGuie2t8Tt7urarg5nauedRndrur"
        ));
        assert!(typed_on_few_keys(
            b"DfnGs8Td4rT8r4srxAg6Td4rT8r4srxAg6GtkTir"
        ));
        assert!(!typed_on_few_keys(
            b"Hq7tRw2pXz9vLm4Kc8Ns3Bd6Fg1Jy5Tu0Wa2Qe7Z"
        ));
        // Too short to judge: 32 random characters can fall under 3.9 bits.
        assert!(!typed_on_few_keys(b"TtnuieannGt2rGuie2t8Tt7urarg5nau"));
    }

    #[test]
    fn certificate_der_in_base64_is_not_a_token() {
        // A certificate's base64 (X.509 names and the RSA OID), cut at each of the
        // three byte alignments, as the AWS documentation's example session token is.
        let cert = "MIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJRTESMBAGA1UEChMJQmFsdGltb3Jl";
        for cut in 0..3 {
            assert!(holds_base64_der(&cert.as_bytes()[cut..]), "cut {cut}");
        }
        let token =
            "FwoGZXIvYXdzEBYaDHqa0AP1XuDfQ7WfiyLBAXq2Vm9yzUY3rD1nT8fTzZk4pR2mXcJwLq5bN7vHdGs3YtKe";
        assert!(!holds_base64_der(token.as_bytes()));
        assert!(!holds_base64_der(b"BgNVBA"), "too short to judge");
    }

    #[test]
    fn aws_ids_in_signed_requests_are_recognised_by_the_text_around_them() {
        let after = |a: &[u8]| in_signed_request(b"", a);
        assert!(after(b"%2F20190814%2Fus-west-2%2Fs3%2Faws4_request&X-Amz"));
        assert!(after(
            b"/20240101/eu-west-1/sts/aws4_request, SignedHeaders"
        ));
        assert!(after(b"&X-Amz-Signature=abcdef"));
        assert!(after(b"&amp;X-Amz-Date=20190101T000000Z"));
        assert!(!after(b"\naws_secret_access_key = abc"));
        assert!(!after(b"/20190814/us-west-2"));
        assert!(!after(b""));
        assert!(in_signed_request(b"log.txt?X-Amz-Security-Token=", b""));
        assert!(in_signed_request(b"&X-Amz-Credential=", b"%2F2019"));
        assert!(!in_signed_request(b"AWS_SESSION_TOKEN=", b""));
        // Signature version 2's query, not the EC2 tools' credential file.
        assert!(in_signed_request(
            b"report.zip?AWSAccessKeyId=",
            b"&Signature=I7cpEqhY5%2BXEFlsYzxA57a%2BYnHk%3D&x-amz-security-token="
        ));
        assert!(!in_signed_request(
            b"AWSAccessKeyId=",
            b"\nAWSSecretKey=abc"
        ));
    }

    #[test]
    fn session_tokens_in_a_signed_post_form_are_told_from_configured_ones() {
        assert!(in_signed_form(
            br#"{"name": "X-Amz-Signature", "value": "68b1a3"}, {"name": "x-amz-security-token", "value": ""#
        ));
        assert!(in_signed_form(
            br#"{"x-amz-credential": "ASIATB45ILA5SQL6PV6F/20201203/us-east-1/s3/aws4_request"}, {"x-amz-security-token": ""#
        ));
        assert!(!in_signed_form(b"export AWS_SESSION_TOKEN="));
        assert!(!in_signed_form(b"aws_session_token = "));
    }

    #[test]
    fn values_set_off_by_an_example_phrase_are_examples() {
        assert!(set_off_as_example(b"        e.g.: "));
        assert!(set_off_as_example(b"  example: \""));
        assert!(set_off_as_example(b"For example, "));
        assert!(set_off_as_example(b"(e.g. "));
        assert!(!set_off_as_example(b"aws_example="));
        assert!(!set_off_as_example(b"counterexample: "));
        assert!(!set_off_as_example(b"AZURE_STORAGE_KEY="));
        assert!(!set_off_as_example(b""));
        assert!(set_off_as_example(b"key: <Your API Key>   # Example - "));
        assert!(!set_off_as_example(b"my-example-token-"));
    }

    #[test]
    fn python_docstrings_are_a_manual_and_other_strings_are_not() {
        let module = br#"#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""
Configuration::

  config = {'user.password': 'yabba1234'}
"""
import os

QUERY = """SELECT 1 WHERE password = 'Hq7tRw2pXz9v'"""


class Conn:
    r'''Connects with S3Connection(aws_access_key_id='c2e30f2cd5204b69')'''

    def open(self):
        call(
            """password=Zx81mKq0Lp"""
        )
"#;
        let spans = python_docstrings(module);
        let inside = |needle: &[u8]| {
            let i = memchr::memmem::find(module, needle).unwrap();
            spans.iter().any(|r| r.contains(&i))
        };
        assert_eq!(spans.len(), 2, "{spans:?}");
        assert!(inside(b"yabba1234"));
        assert!(inside(b"c2e30f2cd5204b69"));
        // Assigned or passed: a value, not a manual.
        assert!(!inside(b"Hq7tRw2pXz9v"));
        assert!(!inside(b"Zx81mKq0Lp"));
        // A module whose first statement is code has no module docstring.
        assert!(python_docstrings(b"import os\n\"\"\"password: x\"\"\"\n").is_empty());
    }

    #[test]
    fn perl_pod_is_a_manual() {
        let module = b"package Tie::Store;\nmy $pw = 'Hq7tRw2pXz9v';\n\n=head1 SYNOPSIS\n\n  \
tie %h, 'Tie::Store', {user => 'nobody', password => 'ghost'};\n\n=cut\n\n\
sub new { my $token = 'Zx81mKq0' }\n\n=pod\n\nuser=sherzodr\npassword=marley01\n";
        let layout = Layout::of(module);
        let at = |needle: &[u8]| {
            let i = memchr::memmem::find(module, needle).unwrap();
            let line = memchr::memrchr(b'\n', &module[..i]).map_or(0, |n| n + 1);
            layout.place(line, i).free_form_made_up
        };
        assert!(at(b"ghost"));
        // A block left open runs to the end.
        assert!(at(b"marley01"));
        assert!(!at(b"Hq7tRw2pXz9v"));
        assert!(!at(b"Zx81mKq0"));
        // Other lines that start with `=` open nothing: Ruby's block comment (which may
        // hold commented-out code), a heading's underline, a conflict marker.
        let ruby = b"=begin\nconnect(password: 'hunter2')\n=end\nKEY = 'x'\n=======\n=x= 'y'\n";
        assert!(pod_blocks(ruby).is_empty());
        let pod = b"=pod\n\nuser=sherzodr\n=cut\nKEY = 'x'\n";
        assert_eq!(
            pod_blocks(pod),
            vec![0..memchr::memmem::find(pod, b"=cut").unwrap()]
        );
    }

    #[test]
    fn a_patchs_changes_to_test_files_are_judged_as_test_files() {
        let patch = b"Subject: shadow fixes\n\n\
--- a/gshadow/sgetsgent.c\n+++ b/gshadow/sgetsgent.c\n@@ -1,2 +1,2 @@\n\
-  const char *pw = 0;\n+  const char *passwd = \"Hq7tRw2pXz9v\";\n\
diff --git a/gshadow/tst-sgetsgent.c b/gshadow/tst-sgetsgent.c\n\
--- /dev/null\n+++ b/gshadow/tst-sgetsgent.c\n@@ -0,0 +1,3 @@\n\
+  const char *passwd = \"k+zD0nucwfxAo3sw1NXU\";\n\
--- glibc-2.36.orig/nss/nss_files.c\t2022-08-01 10:00:00\n\
+++ glibc-2.36/nss/nss_files.c\t2022-08-02 10:00:00\n@@ -5 +5 @@\n\
+  char *secret = \"Zx81mKq0Lp\";\n\
--- a/docs/setup.md\n+++ b/docs/setup.md\n@@ -1 +1 @@\n+password: marley01\n";
        let layout = Layout::of(patch);
        let at = |needle: &[u8]| {
            let i = memchr::memmem::find(patch, needle).unwrap();
            let line = memchr::memrchr(b'\n', &patch[..i]).map_or(0, |n| n + 1);
            layout.place(line, i).free_form_made_up
        };
        assert!(at(b"k+zD0nucwfxAo3sw1NXU"));
        // The last file's changes run to the end.
        assert!(at(b"marley01"));
        // Changes to the library's own code keep their confidence, in either
        // header form (git's `b/` prefix, or `diff -u`'s tab and timestamp).
        assert!(!at(b"Hq7tRw2pXz9v"));
        assert!(!at(b"Zx81mKq0Lp"));
        assert_eq!(patched_made_up_files(patch).len(), 2);
        // An added line that reads `+++ ` in a hunk, with no `--- ` line before it,
        // is not a header.
        let hunk = b"--- a/x.c\n+++ b/x.c\n@@ -1 +1,2 @@\n+int a;\n+++ tests/t.c\n+pw = 1;\n";
        assert!(patched_made_up_files(hunk).is_empty());
    }

    #[test]
    fn comments_that_show_results_are_documented_examples() {
        let module = b"module BCrypt\n  # Example usage:\n  #\n\
  #   @password = Password.create(\"my grand secret\")\n\
  #   @password #=> \"$2a$12$C5.FIvVDS9W4AYZ/Ib37YuWd/7ozp1UaMhU28UKrfSxp2oDchbi3K\"\n\
  #   user.authenticate('mUc3m00RsqyRe') # => user\n\
  class Password < String\n    KEY = 'Hq7tRw2pXz9v'\n\
    # Commented-out code shows no results:\n\
    # conn = connect(:password => 'Zx81mKq0Lp')\n\
    h = { :token => 'Wq3nBv7' } # => not a comment line's result\n  end\nend\n";
        let layout = Layout::of(module);
        let at = |needle: &[u8]| {
            let i = memchr::memmem::find(module, needle).unwrap();
            let line = memchr::memrchr(b'\n', &module[..i]).map_or(0, |n| n + 1);
            layout.place(line, i).in_documentation
        };
        // The whole comment run is the example, above and below the result shown.
        assert!(at(b"my grand secret"));
        assert!(at(b"$2a$12$C5.F"));
        assert!(at(b"mUc3m00RsqyRe"));
        assert!(at(b"Example usage"));
        assert!(!at(b"Hq7tRw2pXz9v"));
        assert!(!at(b"Zx81mKq0Lp"));
        assert!(!at(b"Wq3nBv7"));
        assert_eq!(commented_examples(module).len(), 1);
    }

    #[test]
    fn documentation_comments_are_a_manual() {
        let php =
            b"<?php\n/**\n * Example:\n *     define('AUTH_SALT', 'eZyT)-Naw]F8CwA*VaW');\n */\n\
function wp_salt() {\n  $pw = 'Hq7tRw2pXz9v'; /** not at a line's start: 'Zx81mKq0Lp' */\n\
  $glob = 'src/**/*.php'; $x = 'Wq3nBv7Lp0';\n}\n";
        let layout = Layout::of(php);
        let at = |data: &[u8], layout: &Layout, needle: &[u8]| {
            let i = memchr::memmem::find(data, needle).unwrap();
            let line = memchr::memrchr(b'\n', &data[..i]).map_or(0, |n| n + 1);
            layout.place(line, i).free_form_made_up
        };
        assert!(at(php, &layout, b"eZyT)"));
        assert!(!at(php, &layout, b"Hq7tRw2pXz9v"));
        assert!(!at(php, &layout, b"Zx81mKq0Lp"));
        assert!(!at(php, &layout, b"Wq3nBv7Lp0"));
        let j2 = b"{####\nos10_snmp:\n  password: 9fc53d9d908118b2\n####}\n\
snmp-server user {{ name }} password 0xd0452401a8c3ce42\necho ${#pw} ${#x} 'Hq7tRw2pXz9v'\n";
        let layout = Layout::of(j2);
        assert!(at(j2, &layout, b"9fc53d9d908118b2"));
        assert!(!at(j2, &layout, b"0xd0452401a8c3ce42"));
        assert!(!at(j2, &layout, b"Hq7tRw2pXz9v"));
    }

    #[test]
    fn d_unittest_and_zig_test_blocks_are_tests() {
        let d = b"struct Ftp {\n  string pass = \"Hq7tRw2pXz9v\";\n}\n\
@safe pure unittest\n{\n  auto c = Ftp(\"ftp://u:Zx81mKq0Lp@h\");\n  { nested(); }\n  \
assert(c.pass == \"Wq3nBv7Lp0\");\n}\nvoid f() { auto p = \"Rt5yUi8oPq\"; }\n\
// a unittest { in a comment, after words, is not one: \"Mn4bVc7xZq\"\n";
        let zig =
            b"const key = \"Hq7tRw2pXz9v\";\ntest \"login\" {\n    const pw = \"Zx81mKq0Lp\";\n}\n\
// test \"x\" {  is a comment\nconst other = \"Wq3nBv7Lp0\";\n";
        let at = |data: &[u8], needle: &[u8]| {
            let layout = Layout::of(data);
            let i = memchr::memmem::find(data, needle).unwrap();
            let line = memchr::memrchr(b'\n', &data[..i]).map_or(0, |n| n + 1);
            layout.place(line, i).free_form_made_up
        };
        assert!(at(d, b"Zx81mKq0Lp"));
        assert!(at(d, b"Wq3nBv7Lp0"));
        assert!(!at(d, b"Hq7tRw2pXz9v"));
        assert!(!at(d, b"Rt5yUi8oPq"));
        assert!(!at(d, b"Mn4bVc7xZq"));
        assert_eq!(inline_test_blocks(d).len(), 1);
        assert!(at(zig, b"Zx81mKq0Lp"));
        assert!(!at(zig, b"Hq7tRw2pXz9v"));
        assert!(!at(zig, b"Wq3nBv7Lp0"));
        // Words in text, a test without a block, an unclosed name.
        for text in [
            &b"the test {x}"[..],
            b"test\n",
            b"test \"open\n{",
            b"unittest",
        ] {
            assert!(inline_test_blocks(text).is_empty());
        }
    }

    #[test]
    fn nested_examples_are_one_block_and_line_starts_follow_ascending_marks() {
        let nested = b"{\"a\": {\"example\": {\"example\": {\"example\": 1}}}, \"pw\": \"x\"}";
        let blocks = example_blocks(nested);
        assert_eq!(blocks.len(), 1, "{blocks:?}");
        assert!(!blocks[0].contains(&memchr::memmem::find(nested, b"\"pw\"").unwrap()));
        let text = b"ab\ncd ef\n\ngh";
        let mut lines = LineStarts::default();
        assert_eq!(lines.of(text, 1), 0);
        assert_eq!(lines.of(text, 4), 3);
        assert_eq!(lines.of(text, 6), 3);
        assert_eq!(lines.of(text, 11), 10);
    }

    #[test]
    fn ansible_module_documentation_is_a_documented_example() {
        let module = b"#!/usr/bin/python\nDOCUMENTATION = r'''\nmodule: db_user\n'''\n\n\
EXAMPLES = r'''\n- db_user:\n    login_password: Cisco#123\n'''\n\n\
RETURN = \"\"\"\ntoken:\n  sample: 9775a026f1ca\n\"\"\"\n\
PASSWORD = 'Hq7tRw2pXz9v'\nEXAMPLES_SEEN = 0\n";
        let layout = Layout::of(module);
        let at = |needle: &[u8]| {
            let i = memchr::memmem::find(module, needle).unwrap();
            let line = memchr::memrchr(b'\n', &module[..i]).map_or(0, |n| n + 1);
            layout.place(line, i).in_documentation
        };
        assert_eq!(layout.documentation.len(), 3);
        assert!(at(b"Cisco#123"));
        assert!(at(b"9775a026f1ca"));
        assert!(at(b"db_user\n"));
        // Module code after the documentation is code.
        assert!(!at(b"Hq7tRw2pXz9v"));
        // A plugin's YAML documentation file: to the next top-level key.
        let yaml = b"DOCUMENTATION:\n  name: login\nEXAMPLES: |\n  - set_fact:\n      pw: Lablab123\n\n  # note\nRETURN:\n  _value:\n    sample: s.nnrpog4i5gjizr6b8g1inwj3\nother: Zx81mKq0\n";
        let spans = documentation_strings(yaml);
        let inside = |needle: &[u8]| {
            let i = memchr::memmem::find(yaml, needle).unwrap();
            spans.iter().any(|r| r.contains(&i))
        };
        assert!(inside(b"Lablab123"));
        assert!(inside(b"s.nnrpog"));
        assert!(!inside(b"Zx81mKq0"));
        // Names not at a line's start, or not given a string or a block, are not.
        assert!(
            documentation_strings(b"x.EXAMPLES = '''a'''\nRETURN = 3\nEXAMPLES: value\n")
                .is_empty()
        );
    }

    #[test]
    fn openapi_example_blocks_are_documented_examples() {
        let spec = b"paths:\n  /swarm/init:\n    parameters:\n      - name: body\n        schema:\n          properties:\n            JoinToken:\n              type: string\n          example:\n            ListenAddr: 0.0.0.0:2377\n\n            JoinToken: SWMTKN-1-3pu6hsz\n          required: [JoinToken]\n        default: Zx81mKq0\n      - examples:\n          k: Lablab123\n  other: Qw7ePl2x\n";
        let spans = example_blocks(spec);
        let inside = |text: &[u8], spans: &[std::ops::Range<usize>], needle: &[u8]| {
            let i = memchr::memmem::find(text, needle).unwrap();
            spans.iter().any(|r| r.contains(&i))
        };
        assert!(inside(spec, &spans, b"SWMTKN"));
        assert!(inside(spec, &spans, b"Lablab123"));
        // A sibling key ends the block, as does a line left of the key.
        assert!(!inside(spec, &spans, b"required"));
        assert!(!inside(spec, &spans, b"Zx81mKq0"));
        assert!(!inside(spec, &spans, b"Qw7ePl2x"));
        // JSON, and YAML's flow style: to the matching bracket, not one in a string.
        let json = br#"{"example": {"UnlockKey": "SWMKEY-1-7c37", "note": "a } here"}, "key": "Hq7tRw2p"}"#;
        let spans = example_blocks(json);
        assert!(inside(json, &spans, b"SWMKEY"));
        assert!(!inside(json, &spans, b"Hq7tRw2p"));
        let flow = b"example: {token: ghp_x1}\ntoken: Hq7tRw2p\n";
        let spans = example_blocks(flow);
        assert!(inside(flow, &spans, b"ghp_x1"));
        assert!(!inside(flow, &spans, b"Hq7tRw2p"));
        // Not a key (`counterexample:`), a value on the key's line, or a key after text.
        for text in [
            &b"counterexample:\n  pw: Hq7tRw2p\n"[..],
            b"example: Hq7tRw2p\n  pw: x\n",
            b"see example:\n  pw: Hq7tRw2p\n",
        ] {
            assert!(
                example_blocks(text).is_empty(),
                "{}",
                String::from_utf8_lossy(text)
            );
        }
    }

    #[test]
    fn azure_sas_tokens_past_their_signed_expiry_are_told_from_live_ones() {
        // Before the signature, URL-encoded as GitHub's release redirects carry it.
        assert!(sas_expired(
            b"?sp=r&sv=2018-11-09&sr=b&spr=https&se=2025-08-15T21%3A58%3A27Z&rscd=x&sig=",
            b"&rsct=application"
        ));
        // After it, in the same query only.
        assert!(sas_expired(
            b"?sv=2021-06-08&sig=",
            b"&se=2020-01-01T00:00:00Z\n"
        ));
        assert!(!sas_expired(
            b"?sv=2021-06-08&sig=",
            b"\nurl = ?se=2020-01-01"
        ));
        assert!(!sas_expired(
            b"?sv=2022-11-02&se=2099-01-01T00:00:00Z&sig=",
            b"\""
        ));
        // No expiry (a stored access policy's `si=`), or none that reads as a day.
        assert!(!sas_expired(b"?sv=2022-11-02&si=policy&sig=", b""));
        assert!(!sas_expired(b"?sv=2022-11-02&se=tomorrow&sig=", b""));
        // `use=` is not `se=`.
        assert!(!sas_expired(b"?sv=2022-11-02&use=2020-01-01&sig=", b""));
    }

    #[test]
    fn crypt_hashes_with_typed_salts_are_test_vectors() {
        assert!(made_up_salt(b"$1$aaa$SCk4CXyogLtcfwl2VqfSF0"));
        assert!(made_up_salt(b"$1$a$44cUw6Nm5bX0muHWNIwub0"));
        assert!(made_up_salt(b"$1$abcdef$2XiyKFam4XUU0UKeisSUw."));
        assert!(made_up_salt(
            b"$6$rounds=5000$saltsalt$Qx7bT2mKd9LwZr4pV8nYc3sHf1J"
        ));
        assert!(!made_up_salt(b"$1$NRe32ijZ$THIS7aDH.e093oDOGD10M/"));
        assert!(!made_up_salt(b"$apr1$TZA4Y0DL$DS5ZhDH8QrhB.uAtvNJmh."));
        // bcrypt's cost is not a salt.
        assert!(!made_up_salt(
            b"$2b$11$Qx7bT2mKd9LwZr4pV8nYc3sHf1JdGp9molfLiLBAnURqXcxosUgRy"
        ));
    }

    #[test]
    fn examples_behind_an_authentication_scheme_are_set_off() {
        assert!(set_off_as_example(b"          \"example\": \"Bearer "));
        assert!(set_off_as_example(b"example: Basic "));
        assert!(!set_off_as_example(b"Authorization: Bearer "));
        assert!(!set_off_as_example(b"\"counterexample\": \"Bearer "));
    }

    #[test]
    fn values_ending_in_what_they_stand_for_are_stand_ins() {
        assert!(ends_in_credential_word(b"sk-or-v1-project1-key"));
        assert!(ends_in_credential_word(b"STAGING_API_TOKEN"));
        assert!(!ends_in_credential_word(b"Zq8vL2mK9xT4monkey"));
        assert!(!ends_in_credential_word(b"_key"));
        assert!(!ends_in_credential_word(b"Zq8vL2mK9xT4-keys"));
    }

    #[test]
    fn recaptcha_site_keys_are_told_from_secret_keys() {
        assert!(names_recaptcha_site_key(
            b"<div class=\"g-recaptcha\" data-sitekey=\""
        ));
        assert!(names_recaptcha_site_key(b"RECAPTCHA_PUBLIC_KEY = '"));
        assert!(names_recaptcha_site_key(b"\"RECAPTCHA_V3_SITEKEY\":\""));
        assert!(names_recaptcha_site_key(
            b"https://www.google.com/recaptcha/api2/anchor?ar=1&k="
        ));
        assert!(names_recaptcha_site_key(
            b"https://www.google.com/recaptcha/api.js?render="
        ));
        assert!(!names_recaptcha_site_key(b"RECAPTCHA_SECRET_KEY="));
        assert!(!names_recaptcha_site_key(b"recaptcha_private_key: "));
        assert!(!names_recaptcha_site_key(b"recaptcha_site_secret: "));
        // Only the text just before the key counts, not a site named earlier.
        let far = format!("site = 1{}\nrecaptcha_key = ", " ".repeat(80));
        assert!(!names_recaptcha_site_key(far.as_bytes()));
    }

    #[test]
    fn expired_jwts_are_told_from_live_ones() {
        // fastapi-users' documentation: `"exp":1571504193`, October 2019.
        assert!(jwt_expired(b"eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoiOTIyMWZmYzktNjQwZi00MzcyLTg2ZDMtY2U2NDJjYmE1NjAzIiwiYXVkIjoiZmFzdGFwaS11c2VyczphdXRoIiwiZXhwIjoxNTcxNTA0MTkzfQ.M10bjOe45I5Ncu_uXvOmVV8QxnL-nZfcH96U90JaocI"));
        // `"exp":4102444800`, the year 2100.
        assert!(!jwt_expired(b"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzdmMiLCJleHAiOjQxMDI0NDQ4MDB9.c2lnbmF0dXJlLW9mLWEtdG9rZW4tZm9yLXRlc3Rz"));
        // No `exp`: the token does not expire.
        assert!(!jwt_expired(b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJjcVNoeGRjdCIsImlhdCI6MTcxMDgwOTM1NCwicm9sZSI6InN2YyJ9.__qYlZwmgaAUhYAuF3NK-nUHWDXrysam7wJI4ez3CnM"));
        assert!(!jwt_expired(b"not.a.jwt"));
    }

    #[test]
    fn alphabets_typed_in_order_are_told_from_generated_tokens() {
        assert!(typed_in_order(
            b"1aB2CD3e4fgHi5JK6lmnop7qR8STU9VxYzabcdefHh"
        ));
        assert!(typed_in_order(b"a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5"));
        assert!(!typed_in_order(b"4WUUJWuFvtTkXbhaWTDv7MhO+0LqoYDWfEnUXoWn"));
        assert!(!typed_in_order(b"48ceecccc8af930bd02597aec0f84a78"));
        assert!(!typed_in_order(b"a0b1c2"));
        assert!(few_symbols(b"12312312312312312312312312321312"));
        assert!(!few_symbols(b"1231231231231"));
        assert!(!few_symbols(b"e90a1ff11335423998b100c929ecc866"));
    }

    #[test]
    fn ids_and_attributes_are_not_values() {
        assert!(names_an_id(b"id"));
        assert!(names_an_id(b"_id"));
        assert!(names_an_id(b"uuid"));
        assert!(names_an_id(b"idempotency_token"));
        assert!(!names_an_id(b"secret_id"));
        assert!(!names_an_id(b"token"));
        assert!(!ok_at(
            "body[\"ai21labs_api_key\"] = self.ai21labs_api_key",
            "self.ai21labs_api_key"
        ));
        assert!(ok_at(
            "api_key = \"self.Kp7tYlUN7LXv\"",
            "self.Kp7tYlUN7LXv"
        ));
        assert!(!ok_at(
            "init(p){this.PASS=this.INDENT+`pass`}",
            "this.INDENT+"
        ));
        assert!(!ok_at(
            "alias2token = self.token_alias.alias2token",
            "self.token_alias.alias2token"
        ));
        assert!(is_parameter_annotation(b"str) -> bytes:"));
        assert!(is_parameter_annotation(b"Optional[str] = None)"));
        assert!(!is_parameter_annotation(b"strong_pw)"));
        assert!(typed_along_keyboard(b"AKIAJHTMIQ2ASDFLASDF"));
        assert!(!typed_along_keyboard(b"AKIAJHTMIQ2ASDFL7QZP"));
        assert!(repeats_login(
            b"  <principal\n      login=\"mgr\"\n",
            b"      password=\"",
            b"\" />",
            b"mgrpw"
        ));
        assert!(!ok_at(
            "- PASS: ``allowedToUseSSPR`` is ``false``",
            "`allowedToUseSSPR`"
        ));
        assert!(is_pascal_name(b"PotentialSTSVaultSecretConnection"));
        assert!(is_pascal_name(b"ConnectionStringsFromAzureAD"));
        assert!(!is_pascal_name(b"AKIAQWERTYUIOPASDFGH"));
        assert!(!is_pascal_name(b"ABCDEFGhijkMnopq"));
        assert!(is_prose(
            b"The secret key used to sign and verify JWT tokens. If"
        ));
        assert!(!is_prose(b"correct horse battery"));
        assert!(first_word_of_phrase(b"\"password\": \"", b" password\","));
        assert!(!first_word_of_phrase(b"password = ", b" # the admin's"));
        assert!(in_doctest(b"", b">>> hash = '"));
        assert!(in_doctest(b"text\n>>> ctx.hash('password')\n", b"'"));
        assert!(!in_doctest(b"# run:\n$ python app.py\n", b"password = '"));
        assert!(in_assertion(b"", b"    assert_eq!(\""));
        assert!(in_assertion(
            b"x\n    assert_eq!(super::crypt(\"password\", s),\n",
            b"    \""
        ));
        assert!(in_assertion(b"", b"self.assertEqual(h, '"));
        assert!(!in_assertion(b"", b"assertion_secret = \""));
        assert!(!in_assertion(
            b"assert!(ok);\nlet x = 1;\n",
            b"let secret = \""
        ));
        assert_eq!(
            rust_test_module_start(b"fn f() {}\n\n#[cfg(test)]\nmod tests {\n    use super::*;\n"),
            Some(11)
        );
        assert_eq!(
            rust_test_module_start(b"#[cfg(test)]\nuse std::io;\nfn main() {\n"),
            None
        );
        // Another attribute, or a visibility, before `mod`.
        assert_eq!(
            rust_test_module_start(
                b"fn f() {}\n#[cfg(test)]\n#[cfg(feature = \"net\")]\nmod test {\n"
            ),
            Some(10)
        );
        assert_eq!(
            rust_test_module_start(b"#[cfg(test)]\npub(crate) mod test {\n"),
            Some(0)
        );
        assert_eq!(
            rust_test_module_start(b"#[cfg(test)]\n#[derive(Debug)]\nstruct Probe;\n"),
            None
        );
        assert_eq!(
            rust_test_module_start(b"#[cfg(all(test, feature = \"alloc\"))]\nmod tests {\n"),
            Some(36)
        );
        let token = b"EAAAlSjBKJBZtIXTFGUKQG4RKWUYwkwhNGXYMGkQMFIZMWaMGIrIwAhMmDCjpiBB";
        let block_line =
            b"\"pyyDOGRUMokBBAEjSYQClWnRpE0TpAyRRg1hlICQOEVcxlABFyBTxiibGBBBEmiQ\\n\"\n";
        assert!(in_base64_block(block_line, b"    \"", token, b"\\n\"\n"));
        assert!(!in_base64_block(b"SQUARE_TOKEN=\n", b"", token, b"\n"));
        assert!(!in_base64_block(block_line, b"SQUARE_TOKEN=", token, b"\n"));
        assert!(!in_base64_block(
            b"KEY1=pyyDOGRUMokBBAEjSYQClWnRpE0TpAyRRg1hlICQOEVcxlABFyBTxiibGBBBEmiQ\n",
            b"",
            token,
            b"\n"
        ));
        assert_eq!(
            base32_text(b"KRSXG5CTMVRXEZLUKN2XAZLSKNSWG4TFOQ").as_deref(),
            Some(&b"TestSecretSuperSecret"[..])
        );
        assert_eq!(base32_text(b"JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"), None);
        assert!(names_password_word("用户:密码".as_bytes()));
        assert!(!ok_at(
            "\"secret\": \"PLTZ/RHpF8C@QEPHT3fETV&0:uRVw0[b*A3pH...\"",
            "PLTZ/RHpF8C@QEPHT3fETV"
        ));
        assert!(ok_at(
            "\"secret\": \"PLTZ/RHpF8C@QEPHT3fETV\"",
            "PLTZ/RHpF8C@QEPHT3fETV"
        ));
        assert!(!ok_at(
            "<script src='beacon.min.js' data-cf-beacon='{\"token\": \"8f319c22435741eaa1f2a63d63246cfe\"}'>",
            "8f319c22435741eaa1f2a63d63246cfe"
        ));
        assert!(looks_like_example(&unleet(b"not-re@l")));
        assert!(!ok_at(
            "\"api_key\": \"Azure-AI-Studio-API-key\",",
            "Azure-AI-Studio-API-key"
        ));
        assert!(!ok_at("api_key: \"MyServiceApiKey\"", "MyServiceApiKey"));
        assert!(ok_at(
            "api_key: \"q8Zr2mXa7LpWv4TnJk9KeyA\"",
            "q8Zr2mXa7LpWv4TnJk9KeyA"
        ));
        assert!(!first_word_of_phrase(b"\"password\": \"", b"\","));
        assert!(!is_prose(b"Kp7tYlUN7 LXvtcSpwYv Iitg Ycl parb"));
    }

    #[test]
    fn pagination_and_verification_tokens_are_not_credentials() {
        let ok = |line: &str| {
            // The value starts after the last `=`, `: "` or `: `.
            let start = match (line.rfind('='), line.rfind(": \"")) {
                (Some(i), _) => i + 1,
                (None, Some(i)) => i + 3,
                (None, None) => line.rfind(": ").unwrap() + 2,
            };
            let end = line[start..].find('"').map_or(line.len(), |i| start + i);
            !is_non_secret_token_key(key_before(line.as_bytes(), start))
                && generic_value_ok(line.as_bytes(), start, end)
        };
        assert!(!ok(
            r#""NextToken": "E5SlJDSTZleUp6SWpvaU9UQTNORE0zTXpFeE5Ua3p""#
        ));
        assert!(!ok(r#""nextPageToken": "AAAAKgAAAAEAAAAAAAAAA1Gp1BelJq""#));
        assert!(!ok(
            r#""VerificationToken": "QTKknzFg2J4ygwa+XvHAxUl1hyHoY0gVfZdfjIedHZ0""#
        ));
        assert!(!ok(
            "next_continuation_token=1w41l63U0xa8q7smH50vCxyTQqdxo69O3EmK28Bi5PcROI4wI"
        ));
        assert!(!ok("    Next page token: eav1OzQB0OM8rLdGXOEsyQWSG"));
        assert!(ok(r#""access_token": "Zq8vL2mK9xT4Rr7Yw1Pd3Hs6""#));
        assert!(ok("GITHUB_TOKEN=Zq8vL2mK9xT4Rr7Yw1Pd3Hs6"));
        // Names of secrets in ARNs and wildcard patterns over such names.
        let arn = b"\"arn:aws:secretsmanager:*:*:secret:do-not-delete-rds-custom-*\"";
        assert!(in_arn(arn, 35));
        assert!(!generic_value_ok(b"secret: license-manager-user-*", 8, 30));
        assert!(generic_value_ok(b"secret: 'Zq8vL2*mK9xT4'", 9, 22));
    }

    #[test]
    fn credentials_for_documentation_domains_are_examples() {
        assert!(at_example_host(b"@example.com/path"));
        assert!(at_example_host(b"@db.Example.ORG:5432/app"));
        assert!(at_example_host(b"@host.example"));
        assert!(at_example_host(b"@smtp.example.net."));
        assert!(!at_example_host(b"@myexample.com/"));
        assert!(!at_example_host(b"@example.com.evil.io/"));
        assert!(!at_example_host(b"@db.internal:5432"));
        assert!(!at_example_host(b"example.com"));
    }

    #[test]
    fn basic_credentials_with_a_stand_in_password_are_placeholders() {
        // test:test, ci:password, admin:changeme
        assert!(encodes_placeholder_credentials(b"dGVzdDp0ZXN0"));
        assert!(encodes_placeholder_credentials(b"Y2k6cGFzc3dvcmQ="));
        assert!(encodes_placeholder_credentials(b"YWRtaW46Y2hhbmdlbWU="));
        assert!(encodes_placeholder_credentials(b"Zm9vOmJhcg=="));
        // ci:abgidQ!9R!e5PT is a credential.
        assert!(!encodes_placeholder_credentials(
            b"Y2k6YWJnaWRRITlSIWU1UFQ="
        ));
    }

    #[test]
    fn generic_values_that_name_or_point_at_a_secret_are_not_secrets() {
        let ok = |line: &[u8], start: usize, end: usize| generic_value_ok(line, start, end);
        let line = b"password=args.forward_ssh_password)";
        assert!(!ok(line, 9, line.len()));
        let line = b"SET_PASSWORD = 'SetPassword'";
        assert!(!ok(line, 16, line.len() - 1));
        let line = b"kwargs['secret'] = oauth2_client_secret";
        assert!(!ok(line, 19, line.len()));
        let line = b"AUTH_KEY = 'spec.preferredAuthentication'";
        assert!(!ok(line, 12, line.len() - 1));
        let line = b"--password='projects/123/secrets/db-pass/versions/1'";
        assert!(!ok(line, 12, line.len() - 1));
        let line = b"add_certificate(key, password=password)";
        assert!(!ok(line, 30, line.len()));
        let line = b"\"input_token\": \"ExclusiveStartBackupArn\"";
        assert!(!ok(line, 16, line.len() - 1));
        let line = b"'secret': 'V1SecretVolumeSource'";
        assert!(!ok(line, 11, line.len() - 1));
        let line = b"\"pattern\": \"secret:AmazonLookoutMetrics-.+\"";
        assert!(!ok(line, 19, line.len() - 1));
        // Values: one run of letters, random text, a dotted random string.
        let line = b"AdminPassword = \"thisismypassword\"";
        assert!(ok(line, 17, line.len() - 1));
        let line = b"secret = 'mK4pQ9-vT2xZ7rLw'";
        assert!(ok(line, 10, line.len() - 1));
        let line = b"token = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.Zq8vL2mK9xT4rW7n'";
        assert!(ok(line, 9, line.len() - 1));
        let line = b"password = 'Kq29-vLmx'";
        assert!(ok(line, 12, line.len() - 1));
        let line = b"Authorization: Bearer rT_4.Kq9-2.vLxM";
        assert!(ok(line, 22, line.len()));
    }

    #[test]
    fn uuid_detection_needs_the_canonical_form() {
        assert!(is_uuid(b"007e65c7-635d-4d54-8294-f360cb8e2e3f"));
        assert!(!is_uuid(b"007e65c7635d4d548294f360cb8e2e3f"));
        assert!(!is_uuid(b"007e65c7-635d-4d54-8294-f360cb8e2e3g"));
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
        // Code: a negation, a Ruby instance variable, a constant of a C package and
        // TextMate scope names; and an elided value.
        assert!(!ok_at("pass: !!actual", "!!actual"));
        assert!(!ok_at(
            "HeaderToken = \"X-Oss-Security-Token\"",
            "X-Oss-Security-Token"
        ));
        assert!(!ok_at(
            "'phptoken' => '/Resources/stubs/PhpToken.php',",
            "/Resources/stubs/PhpToken.php"
        ));
        assert!(is_call(b"url.auth.slice(index+1)"));
        assert!(!is_call(b"(Vq7mLx8)2kT"));
        assert!(!ok_at("'password' => @user.identity", "@user.identity"));
        assert!(!ok_at(
            "ICMPV6_FILTER_PASS = C.ICMPV6_FILTER_PASS",
            "C.ICMPV6_FILTER_PASS"
        ));
        assert!(!ok_at(
            "{ token: 'punctuation.definition.string.end.actionscript.2',",
            "punctuation.definition.string.end.actionscript.2"
        ));
        assert!(!ok_at(
            "token : \"support.function.C99.c\",",
            "support.function.C99.c"
        ));
        assert!(!ok_at(
            "secret = '99ae8af...snip...ec0f262ac'",
            "99ae8af...snip...ec0f262ac"
        ));
        // Quoted, `@` and `!` are part of a password.
        assert!(ok_at("password = \"@Vq7mLx8!2kT\"", "@Vq7mLx8!2kT"));
        // A string that code completes is not the value.
        assert!(!ok_at(
            "setHeader('Lock-Token','<opaquelocktoken:' . $lockInfo->token . '>')",
            "<opaquelocktoken:"
        ));
        assert!(!ok_at("token = \"Hq7tRw2p\" + suffix", "Hq7tRw2p"));
        assert!(!ok_at("$token = 'Hq7tRw2p'.$suffix;", "Hq7tRw2p"));
        // Literals joined are one value, split to hide it.
        assert!(ok_at(
            "key = \"oMwSyqdass2kPF\"+\"/7ORZA9dlb\"",
            "oMwSyqdass2kPF"
        ));
        assert!(ok_at(
            "$key = 'oMwSyqdass2kPF' . '/7ORZA9dlb';",
            "oMwSyqdass2kPF"
        ));
        assert!(ok_at(
            "password=\"Hq7tRw2pXz9v\" + \\\n    \"87be261a\",",
            "Hq7tRw2pXz9v"
        ));
        assert!(!ok_at(
            "password=\"Hq7tRw2pXz9v\" + \\\n    suffix,",
            "Hq7tRw2pXz9v"
        ));
        assert!(ok_at("password = 'Hq7tRw2pXz9v'.encode()", "Hq7tRw2pXz9v"));
        // A validator's rules.
        assert!(!ok_at(
            "\"password\": \"required|strong|confirmed\",",
            "required|strong|confirmed"
        ));
        assert!(!ok_at("'password' => 'min:8|max:64',", "min:8|max:64"));
        assert!(!ok_at(
            "client_secret = authConfigs?.clientSecretSettingName || x;",
            "authConfigs?.clientSecretSettingName"
        ));
        assert!(ok_at("secret = 'Zq8vL2?.9xT4'", "Zq8vL2?.9xT4"));
        assert!(!ok_at(
            r#"ratingPass:"\u200f\u202eGood\u202c\u200f","#,
            r#"\u200f\u202eGood\u202c\u200f"#
        ));
        assert!(!ok_at(
            "ratingPass:\"\u{200f}\u{202e}Good\u{202c}\u{200f}\",",
            "\u{200f}\u{202e}Good\u{202c}\u{200f}"
        ));
        // Rust documentation comments are examples; a plain or a four-slash comment is not.
        let rust =
            b"/// let token = \"ig5AO\";\nlet t = \"a\"; // x\n//// not docs\n    //! crate docs\n";
        let spans = doc_comments(rust);
        let text = |r: &std::ops::Range<usize>| &rust[r.clone()];
        assert_eq!(spans.len(), 2);
        assert_eq!(text(&spans[0]), b"/// let token = \"ig5AO\";");
        assert_eq!(text(&spans[1]), b"//! crate docs");
        assert!(ok_at("password = \"Hq7t|Rw2p\"", "Hq7t|Rw2p"));
        assert!(ok_at("password = 'Hq7tRw2pXz9v' # +1", "Hq7tRw2pXz9v"));
    }

    #[test]
    fn status_badge_tokens_filler_runs_and_example_hosts_are_told_apart() {
        let line = b"[![CI](https://circleci.com/gh/o/r.svg?style=shield&circle-token=a4f96fd41f7682661d6543e30207427ac8870c0d)]";
        let at = line.len() - 42;
        assert!(in_badge_url(line, at));
        let line = b"curl https://circleci.com/api/v2/me?circle-token=a4f96fd41f7682661d6543e30207427ac8870c0d";
        assert!(!in_badge_url(line, line.len() - 40));
        let line = b"<img src=\"https://deepsource.io/gh/o/r.svg/?label=active+issues&token=8_Tl9hB9xFIiP7QrgjuSZSid\"";
        assert!(in_badge_url(line, line.len() - 25));
        assert!(has_filler_run(b"6Lc6BAAAAAAAAChqRbQZcn_yyyyyyyyyyyyyyyyy"));
        assert!(letter_run(b"c0d3b4ssssss!", 5));
        assert!(!letter_run(b"c0d3b4ssss!", 5));
        assert!(!letter_run(b"Hq7tRw2p00000", 5));
        assert!(!has_filler_run(
            b"MIIEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA8x"
        ));
        // Zeros filling a token's tail, but not zeros inside one.
        assert!(zero_filled(b"ghu_InstallationUserToServer000000000000"));
        assert!(!zero_filled(b"ghp_Kq9x00000000dE3vWz7pLmR2tY8uI1oPaS4d"));
        assert!(!zero_filled(b"Kq9xdE3vWz7pLm0000000"));
        assert!(names_example_host(
            b"RestClient.get 'http://example.com/resource', {:Authorization => 'Bearer "
        ));
        assert!(!names_example_host(b"url: https://api.acme.io/v1"));
        assert_eq!(rest_of_line(b" # note\nnext"), b" # note");
        // A value under a sibling key, after the rule's key was left empty.
        let line =
            b"MISTRAL_API_KEY=\nlog_level: info\nother_setting: ZdZFwRS3z1nHbiV05PiYdoNYLWJh8BI2";
        let rule = crate::rules::RuleSet::builtin().unwrap();
        let mistral = rule
            .rules()
            .iter()
            .find(|r| r.id == "mistral.api-key")
            .unwrap();
        assert!(owned_by_sibling_key(mistral, line, 0, line.len() - 32));
        let nested = b"mistral:\n  api_key: ZdZFwRS3z1nHbiV05PiYdoNYLWJh8BI2";
        assert!(!owned_by_sibling_key(mistral, nested, 0, nested.len() - 32));
        let named = b"MISTRAL_API_KEY=\nMISTRAL_KEY=ZdZFwRS3z1nHbiV05PiYdoNYLWJh8BI2";
        assert!(!owned_by_sibling_key(mistral, named, 0, named.len() - 32));
        let filled = b"MISTRAL_MODEL=large\nKEY=ZdZFwRS3z1nHbiV05PiYdoNYLWJh8BI2";
        assert!(!owned_by_sibling_key(mistral, filled, 0, filled.len() - 32));
        // A key whose line starts more than 256 bytes back is not read as a key line.
        let long = format!(
            "{}MISTRAL_API_KEY=\nother: ZdZFwRS3z1nHbiV05PiYdoNYLWJh8BI2",
            "x ".repeat(200)
        );
        let k = long.find("MISTRAL").unwrap();
        assert!(!owned_by_sibling_key(
            mistral,
            long.as_bytes(),
            k,
            long.len() - 32
        ));
        // Manual's stand-in words, and base64 that says it is fake.
        assert!(names_password_word(b"welcome2resty"));
        assert!(names_password_word(b"SecurePass123!"));
        assert!(is_leet_stand_in(b"hello_123"));
        assert!(one_of(b"vagrant", STAND_IN_PASSWORDS));
        assert!(looks_like_example(b"revokedoqsMk5nHCJTHLrwgvHpr"));
        assert!(looks_like_example(b"invalidht4wd50gk"));
        assert!(
            short_base64_text(b"dGhpcyBpcyBhIGZha2UgYmVhcmVyIHRva2VuIQ==")
                .is_some_and(|t| looks_like_example(&t))
        );
    }
}
