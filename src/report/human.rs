//! Human output: findings grouped by file, secrets redacted unless asked, colours on a
//! terminal (never when `NO_COLOR` is set or output goes to a file), and a summary line.

use std::borrow::Cow;
use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use super::{Output, ReportOptions, Reporter, Summary};
use crate::finding::Finding;

pub struct Human {
    out: Output,
    opts: ReportOptions,
    current_path: Option<String>,
    files_with_findings: u64,
}

impl Human {
    pub fn new(out: Output, opts: ReportOptions) -> Human {
        Human {
            out,
            opts,
            current_path: None,
            files_with_findings: 0,
        }
    }

    fn style(&self, s: Style) -> Style {
        if self.opts.color { s } else { Style::new() }
    }
}

const PATH: Style = Style::new()
    .bold()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Magenta)));
const LOC: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Green)));
const RULE: Style = Style::new().bold();
const SECRET: Style = Style::new().fg_color(Some(anstyle::Color::Ansi(AnsiColor::Red)));
const DIM: Style = Style::new().dimmed();

impl Reporter for Human {
    fn finding(&mut self, f: &Finding) -> io::Result<()> {
        if self.current_path.as_deref() != Some(f.path.as_str()) {
            if self.current_path.is_some() {
                writeln!(self.out)?;
            }
            let p = self.style(PATH);
            writeln!(self.out, "{p}{}{p:#}", printable(&f.path, false))?;
            self.current_path = Some(f.path.clone());
            self.files_with_findings += 1;
        }
        let shown = if self.opts.show_secrets {
            f.secret.clone()
        } else {
            f.redacted_secret()
        };
        let (loc, rule, sec, dim) = (
            self.style(LOC),
            self.style(RULE),
            self.style(SECRET),
            self.style(DIM),
        );
        writeln!(
            self.out,
            "  {loc}{}:{}{loc:#}  {rule}{}{rule:#}  {dim}{} · {} confidence{dim:#}",
            f.line, f.column, f.rule_id, f.rule_name, f.confidence
        )?;
        let shown = printable(&shown, true);
        writeln!(self.out, "    secret: {sec}{shown}{sec:#}")?;
        if let Some(p) = &f.provenance {
            writeln!(
                self.out,
                "    commit: {} {} <{}> {} \"{}\"{}",
                &p.commit[..p.commit.len().min(12)],
                printable(&p.author, false),
                printable(&p.email, false),
                p.date,
                printable(&p.summary, false),
                if p.in_head { " (still in HEAD)" } else { "" }
            )?;
        }
        if let Some(enc) = &f.decoded {
            if enc == "escaped" {
                writeln!(
                    self.out,
                    "    {dim}found in a string with backslash escapes{dim:#}"
                )?;
            } else {
                writeln!(self.out, "    {dim}found in {enc}-encoded text{dim:#}")?;
            }
            if !self.opts.show_secrets {
                // The line holds the secret in encoded form: not shown redacted.
                return Ok(());
            }
        }
        let context = if self.opts.show_secrets || f.secret.is_empty() {
            f.context.clone()
        } else {
            f.context.replace(&f.secret, &shown)
        };
        let context = printable(context.trim(), false);
        if !context.is_empty() && !f.secret.contains('\n') {
            writeln!(self.out, "    {dim}{context}{dim:#}")?;
        }
        Ok(())
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        if !self.opts.quiet {
            if self.current_path.is_some() {
                writeln!(self.out)?;
            }
            let b = self.style(Style::new().bold());
            writeln!(self.out, "{b}ferret:{b:#} {}", summary.line())?;
        }
        self.out.flush()
    }
}

/// `s` with control characters (other than tabs, and newlines when `newlines`) written
/// as escapes (`\x1b`, `\u{9b}`), so that what a scanned file or a commit holds cannot
/// drive the terminal: binary files and hostile text can hold escape sequences.
pub fn printable(s: &str, newlines: bool) -> Cow<'_, str> {
    let keep = |c: char| !c.is_control() || c == '\t' || (newlines && c == '\n');
    if s.chars().all(keep) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if keep(c) {
            out.push(c);
        } else if (c as u32) < 0x80 {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn control_characters_are_escaped_and_text_is_left_alone() {
        assert_eq!(printable("token = abc\tdef", false), "token = abc\tdef");
        assert_eq!(
            printable("\x1b[2J\u{9b}31m\x07x\0", false),
            "\\x1b[2J\\u{9b}31m\\x07x\\x00"
        );
        assert_eq!(printable("a\nb", true), "a\nb");
        assert_eq!(printable("a\nb", false), "a\\x0ab");
    }
}
