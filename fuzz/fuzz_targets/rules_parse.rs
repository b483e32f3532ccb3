//! Rule files: arbitrary text through parsing and validation (regexes compiled), then
//! every rule that validates is proven against its own examples, as `rules check`
//! does. Nothing may panic; errors must name a line inside the file.

#![no_main]

use std::path::Path;

use ferret::rules::{RuleSet, check::check_rule, parse_rule_file};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_rule_file(text, Path::new("fuzz.toml")) {
        Ok(rules) => {
            let mut set = RuleSet::default();
            if set.extend(rules).is_ok() {
                for rule in set.rules() {
                    let _ = check_rule(rule);
                }
            }
        }
        Err(e) => {
            let lines = 1 + text.bytes().filter(|&b| b == b'\n').count();
            assert!(e.line >= 1 && e.line <= lines, "line {} of {lines}", e.line);
        }
    }
});
