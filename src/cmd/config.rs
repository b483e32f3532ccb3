//! `ferret config init`: a commented starter `.ferret.toml`.

use anyhow::{Context, Result, bail};

use crate::cli::ConfigCommand;
use crate::config::file::STARTER;

pub fn run(cmd: ConfigCommand) -> Result<i32> {
    match cmd {
        ConfigCommand::Init { path, force } => {
            if path.exists() && !force {
                bail!("{} exists; use --force to replace it", path.display());
            }
            std::fs::write(&path, STARTER)
                .with_context(|| format!("cannot write {}", path.display()))?;
            println!("ferret: wrote {}", path.display());
            Ok(0)
        }
    }
}
