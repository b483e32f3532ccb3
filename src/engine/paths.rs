//! Which paths hold made-up values: tests, fixtures, examples, documentation and
//! translations. A free-form credential (a password, a URI's secret) found in one is
//! reported at low confidence; a provider's token format keeps its own.

use super::filter::unleet_byte;

/// Directories that hold tests, fixtures, mocks, example code, documentation and
/// translations.
const MADE_UP_DIRS: &[&str] = &[
    "example",
    "examples",
    "_example",
    "_examples",
    "samples",
    "demo",
    "demos",
    // (`test`, `tests`, `_test`, `__tests__`, `test-data` and other names with `test`,
    // `fixtures` or `samples` as a word are [`names_made_up_dir`]'s.)
    "testing",
    "testdata",
    "spec",
    "specs",
    "fixture",
    "fixtures",
    "__fixtures__",
    "mocks",
    "__mocks__",
    "testutil",
    "testutils",
    "testhelpers",
    "e2e",
    // Benchmarks' inputs (Rust's `benches/`, Go's and others' `benchmarks/`).
    "benches",
    "benchmarks",
    // Ansible's test scenarios (`molecule/default/converge.yml`).
    "molecule",
    // Documentation: a manual's configuration examples (`docs/configuration.rst`).
    "doc",
    "docs",
    "documentation",
    // Manual pages (`share/man/man3/Config::Simple.3pm`), and the `man/` of a source
    // tree that holds them.
    "man",
    // Translations: the labels of a form ("password": "Palavra-passe").
    "translations",
    "locales",
    "locale",
    "i18n",
    "l10n",
    "localization",
    "localisation",
    "lang",
];

/// A specification's or a library's known-answer tests, as a directory's name
/// (`test_vectors/v2.json`) or in a file's (`bip352_send_and_receive_test_vectors.json`,
/// `jwk_test_vectors.rs`). A file's name may also say so by the usual abbreviation, as
/// one of its words ([`KAT_WORDS`]).
const KNOWN_ANSWER_TESTS: &[&str] = &["test_vectors", "test-vectors", "testvectors"];

/// "Known-answer test" abbreviated, as a word of a file's name (`break-kat.go`,
/// `kat_test.go`, `kats.json`).
const KAT_WORDS: &[&str] = &["kat", "kats"];

/// A directory of examples under a longer name: `examples_old`, `example-app`,
/// `samples.v2`.
fn is_example_dir(d: &str) -> bool {
    let d = d.as_bytes();
    ["example", "sample"].iter().any(|w| {
        crate::engine::filter::starts_with_ignore_case(d, w.as_bytes()) && {
            let rest = &d[w.len()..];
            let rest = rest.strip_prefix(b"s").unwrap_or(rest);
            rest.first()
                .is_some_and(|b| matches!(b, b'_' | b'-' | b'.'))
        }
    })
}

/// A directory named for tests, fixtures or samples among other words (`ansible_test`,
/// `ecflow_ui_test_server_scripts.tar`, `integration-tests`, `fixtures.http`,
/// `oauth2_config_samples`): one of [`MADE_UP_WORDS`] as one of the words its `_`, `-`
/// and `.` separate. (`latest`, `contest` and `attestation` are other words.)
fn names_made_up_dir(d: &str) -> bool {
    d.split(['_', '-', '.'])
        .any(|w| MADE_UP_WORDS.iter().any(|m| w.eq_ignore_ascii_case(m)))
}

/// The words that name a directory of made-up values among others in its name.
const MADE_UP_WORDS: &[&str] = &[
    "test", "tests", "fixture", "fixtures", "sample", "samples", "example", "examples",
];

/// True when `path` (relative to the scan root) is a test file or lies in a test
/// directory: `tests/…`, `src/__mocks__/…`, `test_db.py`, `tst-grp.c`, `db_test.go`,
/// `api.spec.ts`, `UserServiceTest.java`, `conftest.py`; or is example code:
/// `examples/…`, `demo/…`, an API's `kms.examples.json`, a Go package's `doc.go`; or
/// documentation (`docs/…`, `README.md`); or translations
/// (`translations/pt.json`, `locales/…`, `i18n/…`, `*.po`). (A `.env.example`
/// template is not: real values do get filled into it.)
pub fn is_made_up_path(path: &str) -> bool {
    // An archive's members are named after it (`scripts.tar!suite/run.job`): the
    // archive is a directory here.
    let mut parts = path.split(['/', '\\', '!']).filter(|p| !p.is_empty());
    let Some(name) = parts.next_back() else {
        return false;
    };
    if parts.any(|d| {
        MADE_UP_DIRS
            .iter()
            .chain(KNOWN_ANSWER_TESTS)
            .any(|t| d.eq_ignore_ascii_case(t))
            || is_example_dir(d)
            || names_made_up_dir(d)
    }) {
        return true;
    }
    let stem = name.split('.').next().unwrap_or(name);
    let lower = name.to_ascii_lowercase();
    // (A configuration's template, `.env.example` or `config.json.sample`, is not
    // made up: real values are often copied into it.)
    lower.ends_with(".po")
        || lower.starts_with("test_")
        || lower.starts_with("test.")
        || lower.starts_with("test-")
        // Django's and unittest's test modules (`dashboards/settings/password/tests.py`).
        || lower.starts_with("tests.")
        // A README is the project's manual: its configuration snippets are examples
        // (`netapp_password: netapp123`, an Ansible role's).
        || stem.eq_ignore_ascii_case("readme")
        // glibc's and gnulib's tests (`tst-sgetsgent.c`).
        || lower.starts_with("tst-")
        || lower == "conftest.py"
        // A Python distribution's long description: its README again.
        || name == "PKG-INFO"
        // A Go package's documentation, a comment whose code examples godoc renders.
        || name == "doc.go"
        || [
            ".test.",
            ".spec.",
            "_test.",
            "-test.",
            "_spec.",
            ".examples.",
        ]
        .iter()
        .chain(KNOWN_ANSWER_TESTS)
        .any(|m| lower.contains(m))
        || lower
            .split(['.', '_', '-'])
            .any(|w| KAT_WORDS.contains(&w))
        || ["Test", "Tests", "Spec"].iter().any(|s| {
            stem.len() > s.len()
                && stem.ends_with(s)
                && stem.as_bytes()[stem.len() - s.len() - 1].is_ascii_lowercase()
        })
}

/// True when a password is the name of a product its path names, perhaps in
/// leetspeak and followed by digits or punctuation: a vendor's default or a
/// documentation's stand-in (`C1sco12345` under `ansible_collections/cisco/`,
/// `netapp123` under `netapp/ontap/`, `nexenta` in `drivers/nexenta/utils.py`,
/// `mantis` in `migrate_from_mantis.rake`). `path` is relative to the scan root.
pub fn names_a_product_of_its_path(path: &str, secret: &str) -> bool {
    let core = secret.trim_end_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation());
    if !(4..=16).contains(&core.len()) || secret.len() > 24 || !core.is_ascii() {
        return false;
    }
    // Leetspeak as the value filters read it, and `1` for either letter it stands for.
    let same = |word: &str| {
        word.len() == core.len()
            && word.bytes().zip(core.bytes()).all(|(w, c)| {
                let w = w.to_ascii_lowercase();
                w == unleet_byte(c) || (c == b'1' && matches!(w, b'i' | b'l'))
            })
    };
    path.split(['/', '\\', '.', '_', '-', '!'])
        .any(|w| w.bytes().all(|b| b.is_ascii_alphabetic()) && same(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_files_and_directories_are_recognised() {
        for p in [
            "tests/db.py",
            "src/__mocks__/api.js",
            "pkg/testdata/config.yaml",
            "test_settings.py",
            "internal/db_test.go",
            "test_vectors/v2.json",
            "src/algorithms/jwk_test_vectors.rs",
            "web/api.spec.ts",
            "src/main/java/UserServiceTest.java",
            "conftest.py",
            "spec/fixtures/users.yml",
            "examples/asyncio/basic.py",
            "apis/kms-2014-11-01.examples.json",
            "components/x/translations/pt.json",
            "superset/translations/es/LC_MESSAGES/messages.po",
            "go-http-auth/test.htpasswd",
            "gin-jwt/_example/basic/server.go",
            "netmiko/examples_old/case15/.netmiko.yml",
            "docs/example-app/settings.py",
            "Samples.v2/Program.cs",
            "lib/plugins/authpdo/_test/pgsql/django.php",
            "lib/plugins/authpdo/lang/ja/settings.php",
            "program/localization/br/labels.inc",
            "roles/mongodb_auth/molecule/default/converge.yml",
            "openstack/identity/v3/extensions/ec2tokens/doc.go",
            "docs/configuration.rst",
            "share/doc/knot-doc/configuration.html",
            "usr/share/man/man3/Config::Simple.3pm.gz!Config::Simple.3pm",
            "util/fipstools/break-kat.go",
            "glibc-2.36/gshadow/tst-sgetsgent.c",
            "crypto/kyber/kats.json",
            "openstack_dashboard/dashboards/settings/password/tests.py",
            "roles/na_ontap_nas_create/README.md",
            "README",
            "docs/README.rst.gz!README.rst",
            "ansible_test/_internal/commands/integration/cloud/nios.py",
            "ecflow/ecflow_ui_test_server_scripts.tar.gz!ecflow_ui_test_server_scripts.tar!suite/0/run.job0",
            "integration-tests/config.yml",
            "bdebstrap-0.5.0.egg-info/PKG-INFO",
            "dnsimple-go/fixtures.http/api/oauthAccessToken/success.http",
            "src/auth/oauth2/oauth2_config_samples/OAuth2-Github-authcode.json",
            "web/test-fixtures/login.json",
            "tiny-bip39-2.0.0/benches/bench.rs",
        ] {
            assert!(is_made_up_path(p), "{p}");
        }
        for p in [
            "src/settings.py",
            "latest/config.yml",
            "contest.py",
            "attestation.go",
            "Manifest.java",
            "config/.env.example",
            "config.json.sample",
            "parameters.yml.dist",
            "exampleservice/config.py",
            "sampler/settings.py",
            "resampled/settings.py",
            "counterexamples_db/config.yml",
            "internal/docs.go",
            "docker/compose.yml",
            "manifests/secret.yml",
            "src/skater.rs",
            "katana/config.yml",
            "testsuite.py",
            "readers/config.py",
            "src/readme_parser.py",
            "latest_release/config.py",
            "attestation-service/settings.py",
            "src/contest.tar!settings.py",
        ] {
            assert!(!is_made_up_path(p), "{p}");
        }
    }

    #[test]
    fn passwords_named_after_a_product_of_their_path_are_stand_ins() {
        for (path, secret) in [
            ("ansible_collections/cisco/nso/README.md", "C1sco12345"),
            (
                "ansible_collections/cisco/ise/playbooks/internal_user.yml",
                "C1sco1234!5",
            ),
            (
                "netapp/ontap/roles/na_ontap_cluster_config/defaults/main.yml",
                "netapp123",
            ),
            (
                "cyberark/pas/roles/aimprovider/tasks/installAIMProvider.yml",
                "Cyberark1",
            ),
            ("cinder/volume/drivers/nexenta/utils.py", "nexenta"),
            ("redmine/lib/tasks/migrate_from_mantis.rake", "mantis"),
        ] {
            assert!(names_a_product_of_its_path(path, secret), "{path} {secret}");
        }
        for (path, secret) in [
            // Other words, or a word with more than digits after it.
            ("cisco/dnac/playbooks/credentials.yml", "Maglev123"),
            ("cisco/ise/playbooks/aws_deployment.yml", "P@sbg1234"),
            ("netapp/ontap/defaults/main.yml", "netappRw7Kq2"),
            // Too short to name anything.
            ("src/app/config.py", "app1"),
            ("deploy/production.yml", "Hq7tRw2pXz9v"),
        ] {
            assert!(
                !names_a_product_of_its_path(path, secret),
                "{path} {secret}"
            );
        }
    }
}
