//! Pre-parses the built-in rule files (`rules/*.toml`) into a static Rust table, so
//! that start-up (which a pre-commit hook pays on every commit) does not parse TOML.
//! Structure errors in a built-in rule file fail the build with its file and line;
//! the runtime still validates every rule (ids, keywords, bounds) when it loads them.

use std::fmt::Write as _;
use std::path::Path;

const KNOWN: &[&str] = &[
    "id",
    "name",
    "provider",
    "description",
    "keywords",
    "regex",
    "min_entropy",
    "confidence",
    "examples",
    "negative_examples",
    "references",
    "window",
    "generic",
    "free_form",
    "stopwords",
    "anchor",
    "overrides",
    "checksum",
];

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    rules: Vec<toml::Spanned<toml::Table>>,
}

fn main() {
    println!("cargo:rerun-if-changed=rules");
    let mut names: Vec<String> = std::fs::read_dir("rules")
        .expect("rules/ exists")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    names.sort();
    let mut out = String::from("pub static BUILTIN_RULES: &[StaticRule] = &[\n");
    for name in &names {
        let path = Path::new("rules").join(name);
        println!("cargo:rerun-if-changed={}", path.display());
        let text = std::fs::read_to_string(&path).expect("readable rule file");
        let line_of = |off: usize| 1 + text[..off].matches('\n').count();
        let file: File = toml::from_str(&text).unwrap_or_else(|e| {
            panic!(
                "{}:{}: {}",
                path.display(),
                e.span().map_or(1, |s| line_of(s.start)),
                e.message()
            )
        });
        for rule in file.rules {
            let line = line_of(rule.span().start);
            let t = rule.into_inner();
            let fail = |m: String| -> ! { panic!("{}:{line}: {m}", path.display()) };
            for k in t.keys() {
                if !KNOWN.contains(&k.as_str()) {
                    fail(format!("unknown field `{k}`"));
                }
            }
            let s = |k: &str| -> Option<String> {
                t.get(k).map(|v| {
                    v.as_str()
                        .unwrap_or_else(|| fail(format!("`{k}` must be a string")))
                        .to_string()
                })
            };
            let list = |k: &str| -> String {
                let items: Vec<String> = match t.get(k) {
                    None => Vec::new(),
                    Some(v) => v
                        .as_array()
                        .unwrap_or_else(|| fail(format!("`{k}` must be a list of strings")))
                        .iter()
                        .map(|x| {
                            format!(
                                "{:?}",
                                x.as_str().unwrap_or_else(|| fail(format!(
                                    "`{k}` must be a list of strings"
                                )))
                            )
                        })
                        .collect(),
                };
                format!("&[{}]", items.join(", "))
            };
            let opt = |v: Option<String>| v.map_or("None".to_string(), |x| format!("Some({x:?})"));
            let req = |k: &str| s(k).unwrap_or_else(|| fail(format!("missing field `{k}`")));
            let min_entropy = match t.get("min_entropy") {
                None => "None".to_string(),
                Some(v) => format!(
                    "Some({:?}f64)",
                    v.as_float()
                        .or_else(|| v.as_integer().map(|i| i as f64))
                        .unwrap_or_else(|| fail("`min_entropy` must be a number".into()))
                ),
            };
            let window = match t.get("window") {
                None => "None".to_string(),
                Some(v) => format!(
                    "Some({})",
                    v.as_integer()
                        .unwrap_or_else(|| fail("`window` must be an integer".into()))
                ),
            };
            let flag = |k: &str| match t.get(k) {
                None => "None".to_string(),
                Some(v) => format!(
                    "Some({})",
                    v.as_bool()
                        .unwrap_or_else(|| fail(format!("`{k}` must be true or false")))
                ),
            };
            let (generic, free_form) = (flag("generic"), flag("free_form"));
            if !t.contains_key("keywords") {
                fail("missing field `keywords`".into());
            }
            let _ = writeln!(
                out,
                "    StaticRule {{ file: {name:?}, line: {line}, id: {:?}, name: {:?}, provider: {}, \
                 description: {:?}, keywords: {}, regex: {:?}, min_entropy: {min_entropy}, \
                 confidence: {}, examples: {}, negative_examples: {}, references: {}, \
                 window: {window}, generic: {generic}, free_form: {free_form}, stopwords: {}, anchor: {}, overrides: {}, checksum: {} }},",
                req("id"),
                req("name"),
                opt(s("provider")),
                s("description").unwrap_or_default(),
                list("keywords"),
                req("regex"),
                opt(s("confidence")),
                list("examples"),
                list("negative_examples"),
                list("references"),
                list("stopwords"),
                opt(s("anchor")),
                list("overrides"),
                opt(s("checksum")),
            );
        }
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("builtin_rules.rs");
    std::fs::write(dest, out).expect("write generated rules");
}
