//! The `ferret` binary: parse arguments, run, exit with the code the run chose.

use clap::Parser;

fn main() {
    ferret::trace::enabled();
    let cli = match ferret::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    std::process::exit(ferret::cmd::run(cli));
}
