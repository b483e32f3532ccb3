//! The built-in rule files, embedded with `include_str!` and listed explicitly (a test
//! fails when `rules/` holds a file that is not listed here).

macro_rules! rule_files {
    ($($name:literal),* $(,)?) => {
        /// (file name under `rules/`, contents)
        pub const FILES: &[(&str, &str)] = &[
            $(($name, include_str!(concat!("../../rules/", $name))),)*
        ];
    };
}

rule_files![
    "generic.toml",
];

#[cfg(test)]
mod tests {
    use super::FILES;

    #[test]
    fn every_file_in_rules_dir_is_embedded() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/rules");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .expect("rules/ exists")
            .map(|e| e.expect("readable entry").file_name().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        let mut listed: Vec<String> = FILES.iter().map(|(n, _)| n.to_string()).collect();
        listed.sort();
        assert_eq!(on_disk, listed, "rules/ and rules::builtin::FILES differ");
    }
}
