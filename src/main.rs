//! The `ferret` binary: parse arguments, run, exit with the code the run chose.

use clap::Parser;

fn main() {
    // A bug must not pass for a clean scan or a finding: whatever thread panics, the
    // run stops with the error exit code and says so.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        default_hook(info);
        eprintln!("ferret: internal error (a bug; please report it): the scan was stopped");
        std::process::exit(2);
    }));
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
