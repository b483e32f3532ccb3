//! `.ferret.toml`: arbitrary text through parsing and the whole validation a scan
//! applies (extra rules, disabled rules, allowlist regexes, exclusion globs), against
//! the built-in rules. Nothing may panic.

#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use ferret::config::{apply_file, file};
use ferret::rules::RuleSet;
use ferret::suppress::Suppressor;
use libfuzzer_sys::fuzz_target;

static BUILTIN: OnceLock<RuleSet> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("fuzz/.ferret.toml");
    if let Err(e) = file::parse(text, path) {
        let lines = 1 + text.bytes().filter(|&b| b == b'\n').count();
        assert!(e.line >= 1 && e.line <= lines, "line {} of {lines}", e.line);
        return;
    }
    let mut rules = BUILTIN
        .get_or_init(|| RuleSet::builtin().expect("built-in rules"))
        .clone();
    let mut suppressor = Suppressor::default();
    let _ = apply_file(text, path, &mut rules, &mut suppressor);
});
