//! `ferret rules list` and `ferret rules check`.

use std::io::Write;

use anyhow::Result;
use serde::Serialize;

use crate::cli::{ListFormat, RulesCommand};
use crate::config::load_rules;
use crate::rules::{Confidence, Rule, RuleSet, check};

pub fn run(cmd: RulesCommand) -> Result<i32> {
    match cmd {
        RulesCommand::List {
            filter,
            confidence,
            format,
            rules,
        } => {
            let rules = load_rules(&rules, true)?;
            let wanted = Wanted {
                text: filter.map(|f| f.to_lowercase()),
                confidence: confidence.map(Into::into),
            };
            list(&rules, &wanted, format)
        }
        RulesCommand::Check { files } => check_files(&files),
    }
}

#[derive(Serialize)]
struct Entry<'a> {
    id: &'a str,
    name: &'a str,
    provider: &'a str,
    confidence: &'a str,
    keywords: &'a [String],
    /// `"token-run"` for rules that also run around token runs, else absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    anchor: Option<&'a str>,
    /// The structure check a match must pass (`"base58check"`, …), else absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    checksum: Option<&'a str>,
    examples: usize,
    negative_examples: usize,
    references: &'a [String],
}

/// Which rules `rules list` shows.
struct Wanted {
    /// Lowercase text the id, name or provider must hold.
    text: Option<String>,
    confidence: Option<Confidence>,
}

impl Wanted {
    fn admits(&self, r: &Rule) -> bool {
        let text = self.text.as_deref().is_none_or(|t| {
            [&r.id, &r.name, &r.provider]
                .iter()
                .any(|f| f.to_lowercase().contains(t))
        });
        text && self.confidence.is_none_or(|c| r.confidence >= c)
    }
}

fn list(rules: &RuleSet, wanted: &Wanted, format: ListFormat) -> Result<i32> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut shown: Vec<&std::sync::Arc<Rule>> =
        rules.rules().iter().filter(|r| wanted.admits(r)).collect();
    // Grouped by provider (rules of one provider can live in several files).
    shown.sort_by_cached_key(|r| (r.provider.to_lowercase(), r.id.clone()));
    let entries: Vec<Entry> = shown
        .into_iter()
        .map(|r| Entry {
            id: &r.id,
            name: &r.name,
            provider: &r.provider,
            confidence: r.confidence.as_str(),
            keywords: &r.keywords,
            anchor: r.anchor.as_str(),
            checksum: r.checksum.map(|c| c.as_str()),
            examples: r.examples.len(),
            negative_examples: r.negative_examples.len(),
            references: &r.references,
        })
        .collect();
    match format {
        ListFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &entries)?;
            writeln!(out)?;
        }
        ListFormat::Human => {
            let mut current = "";
            for e in &entries {
                if e.provider != current {
                    writeln!(out, "{}", e.provider)?;
                    current = e.provider;
                }
                writeln!(
                    out,
                    "  {:<40} {:<50} {:<6} keywords: {}  examples: {}+/{}-",
                    e.id,
                    e.name,
                    e.confidence,
                    match (e.anchor, e.keywords.is_empty()) {
                        (Some(a), true) => format!("(anchor: {a})"),
                        (Some(a), false) => format!("{} (anchor: {a})", e.keywords.join(", ")),
                        (None, _) => e.keywords.join(", "),
                    },
                    e.examples,
                    e.negative_examples
                )?;
            }
            writeln!(out, "{} rules", entries.len())?;
        }
    }
    out.flush()?;
    Ok(0)
}

fn check_files(files: &[std::path::PathBuf]) -> Result<i32> {
    let mut sets = Vec::new();
    let mut errors = 0;
    if files.is_empty() {
        sets.push(("built-in rules".to_string(), RuleSet::builtin()?));
    } else {
        for f in files {
            match RuleSet::from_file(f) {
                Ok(rules) => {
                    let mut set = RuleSet::default();
                    match set.extend(rules) {
                        Ok(()) => sets.push((f.display().to_string(), set)),
                        Err(e) => {
                            eprintln!("ferret: error: {e}");
                            errors += 1;
                        }
                    }
                }
                Err(e) => {
                    eprintln!("ferret: error: {e}");
                    errors += 1;
                }
            }
        }
    }
    let builtin = RuleSet::builtin()?;
    let mut total = 0;
    for (name, set) in &sets {
        let failures = check::check_examples(set);
        for f in &failures {
            eprintln!("ferret: error: {f}");
        }
        errors += failures.len();
        for r in set.rules() {
            for o in &r.overrides {
                if set.get(o).is_none() && builtin.get(o).is_none() {
                    eprintln!(
                        "ferret: error: {}: rule `{}` overrides `{o}`, which is neither in \
                         the file nor a built-in rule",
                        r.origin, r.id
                    );
                    errors += 1;
                }
            }
        }
        let examples: usize = set
            .rules()
            .iter()
            .map(|r| r.examples.len() + r.negative_examples.len())
            .sum();
        total += set.len();
        println!(
            "{name}: {} rules, {examples} examples, {}",
            set.len(),
            if failures.is_empty() {
                "all proven".to_string()
            } else {
                format!("{} failures", failures.len())
            }
        );
    }
    if errors > 0 {
        eprintln!("ferret: {errors} problems in {total} rules");
        Ok(2)
    } else {
        Ok(0)
    }
}
