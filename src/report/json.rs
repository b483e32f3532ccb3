//! JSON (one object: schema version, findings, summary) and JSON Lines (one finding per
//! line, streamed). Both carry the full secret, as machine reports, unless asked to
//! redact it (`--redact`, see [`Finding::redacted`]).

use std::io::{self, Write};

use serde::Serialize;

use super::{Output, Reporter, Summary};
use crate::finding::Finding;

/// Bumped whenever a field is removed or changes meaning.
pub const SCHEMA_VERSION: u32 = 2;

pub struct Json {
    out: Output,
    findings: Vec<Finding>,
    redact: bool,
}

impl Json {
    pub fn new(out: Output, redact: bool) -> Json {
        Json {
            out,
            findings: Vec::new(),
            redact,
        }
    }
}

#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    tool: Tool,
    findings: &'a [Finding],
    summary: &'a Summary,
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

impl Reporter for Json {
    fn finding(&mut self, f: &Finding) -> io::Result<()> {
        self.findings
            .push(if self.redact { f.redacted() } else { f.clone() });
        Ok(())
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        let doc = Document {
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: "ferret",
                version: env!("CARGO_PKG_VERSION"),
            },
            findings: &self.findings,
            summary,
        };
        serde_json::to_writer_pretty(&mut self.out, &doc)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}

pub struct JsonLines {
    out: Output,
    redact: bool,
}

impl JsonLines {
    pub fn new(out: Output, redact: bool) -> JsonLines {
        JsonLines { out, redact }
    }
}

impl Reporter for JsonLines {
    fn streaming(&self) -> bool {
        true
    }

    fn finding(&mut self, f: &Finding) -> io::Result<()> {
        if self.redact {
            serde_json::to_writer(&mut self.out, &f.redacted())?;
        } else {
            serde_json::to_writer(&mut self.out, f)?;
        }
        self.out.write_all(b"\n")
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        self.out.flush()
    }
}
