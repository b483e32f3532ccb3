//! SARIF 2.1.0 for GitHub code scanning and other dashboards: one rule descriptor per
//! rule that fired, one result per finding, repository-relative URIs under a
//! `uriBaseId`, 1-based regions counted in Unicode code points (declared with the
//! run's `columnKind`), and `partialFingerprints` from ferret's fingerprint so that a
//! finding is tracked across commits. Secrets appear only redacted.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde_json::{Value, json};

use super::{Output, Reporter, Summary};
use crate::finding::Finding;
use crate::rules::{Confidence, RuleSet};

pub struct Sarif {
    out: Output,
    rules: RuleSet,
    findings: Vec<Finding>,
}

impl Sarif {
    pub fn new(out: Output, rules: RuleSet) -> Sarif {
        Sarif {
            out,
            rules,
            findings: Vec::new(),
        }
    }
}

/// Percent-encodes a path for a URI reference, byte by byte, keeping unreserved
/// characters and `/`.
pub fn uri_path(path: &str) -> String {
    let mut s = String::with_capacity(path.len());
    for &b in path.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

fn level(c: Confidence) -> &'static str {
    match c {
        Confidence::High => "error",
        Confidence::Medium => "warning",
        Confidence::Low => "note",
    }
}

impl Reporter for Sarif {
    fn finding(&mut self, f: &Finding) -> io::Result<()> {
        self.findings.push(f.clone());
        Ok(())
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        let cwd = std::env::current_dir().unwrap_or_default();
        let root = format!(
            "file://{}/",
            uri_path(&cwd.to_string_lossy()).trim_end_matches('/')
        );
        let mut index: BTreeMap<&str, usize> = BTreeMap::new();
        for f in &self.findings {
            let n = index.len();
            index.entry(&f.rule_id).or_insert(n);
        }
        let mut descriptors = vec![Value::Null; index.len()];
        for (id, i) in &index {
            let rule = self.rules.get(id);
            let name = rule.map_or(id.to_string(), |r| r.name.clone());
            let description = rule
                .map(|r| r.description.clone())
                .filter(|d| !d.is_empty())
                .unwrap_or_else(|| name.clone());
            let references = rule.map(|r| r.references.join(" ")).unwrap_or_default();
            let help = format!(
                "{description} Remove the secret from the code, rotate it if it was ever \
                 committed or shared, and load it from a secret store at run time. If it is \
                 not a secret, mark the line with `ferret:allow`.{}",
                if references.is_empty() {
                    String::new()
                } else {
                    format!(" Format: {references}")
                }
            );
            let mut d = json!({
                "id": id,
                "name": name,
                "shortDescription": {"text": name},
                "fullDescription": {"text": description},
                "help": {"text": help},
                "properties": {
                    "confidence": rule.map_or("medium", |r| r.confidence.as_str()),
                    "tags": ["security", "secret"]
                }
            });
            if let Some(r) = rule.filter(|r| !r.references.is_empty()) {
                d["helpUri"] = json!(r.references[0]);
            }
            descriptors[*i] = d;
        }
        let results: Vec<Value> = self
            .findings
            .iter()
            .map(|f| {
                let (uri, base) = match f.path.strip_prefix(&format!("{}/", cwd.display())) {
                    Some(rel) => (uri_path(rel), true),
                    None if f.path.starts_with('/') => {
                        (format!("file://{}", uri_path(&f.path)), false)
                    }
                    None => (uri_path(f.path.trim_start_matches("./")), true),
                };
                let mut artifact = json!({"uri": uri});
                if base {
                    artifact["uriBaseId"] = json!("%SRCROOT%");
                }
                let mut r = json!({
                    "ruleId": f.rule_id,
                    "ruleIndex": index[f.rule_id.as_str()],
                    "level": level(f.confidence),
                    "message": {"text": format!("{} ({})", f.rule_name, f.redacted_secret())},
                    "locations": [{
                        "physicalLocation": {
                            "artifactLocation": artifact,
                            "region": {
                                "startLine": f.line,
                                "startColumn": f.column,
                                "endLine": f.end_line,
                                "endColumn": f.end_column.max(f.column + 1),
                            }
                        }
                    }],
                    "partialFingerprints": {"ferretFingerprint/v1": f.fingerprint},
                });
                if let Some(p) = &f.provenance {
                    r["properties"] = json!({
                        "commit": p.commit,
                        "author": p.author,
                        "date": p.date,
                        "inHead": p.in_head,
                        "commitCount": p.commit_count,
                    });
                }
                r
            })
            .collect();
        let doc = json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {
                    "name": "ferret",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://github.com/ferret-scanner/ferret",
                    "rules": descriptors,
                }},
                "originalUriBaseIds": {"%SRCROOT%": {"uri": root}},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }]
        });
        serde_json::to_writer_pretty(&mut self.out, &doc)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_paths_are_percent_encoded() {
        assert_eq!(uri_path("a dir/caf\u{e9}.env"), "a%20dir/caf%C3%A9.env");
        assert_eq!(uri_path("src/main.rs"), "src/main.rs");
    }
}
