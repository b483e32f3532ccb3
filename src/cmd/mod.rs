//! One module per command: each turns validated configuration into a run and returns
//! the exit code.

pub mod config;
pub mod history;
pub mod hook;
pub mod pipeline;
pub mod rules;
pub mod scan;
pub mod staged;

use crate::cli::{Cli, Command};

/// Runs a parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    let result = match cli.command {
        Command::Scan(args) => scan::run(&args),
        Command::History(args) => history::run(&args),
        Command::Staged(args) => staged::run(&args),
        Command::Rules { command } => rules::run(command),
        Command::Hook { command } => hook::run(command),
        Command::Config { command } => config::run(command),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            if is_broken_pipe(&e) {
                return 0;
            }
            eprintln!("ferret: error: {e:#}");
            2
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    let pipe = Some(std::io::ErrorKind::BrokenPipe);
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().map(|io| io.kind()) == pipe
            || c.downcast_ref::<serde_json::Error>()
                .and_then(|j| j.io_error_kind())
                == pipe
    })
}
