//! `ferret hook install|uninstall`: the git pre-commit hook that runs `ferret staged`.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use crate::cli::HookCommand;
use crate::source::git;

/// Marks a hook file as ferret's own, so that uninstall and reinstall touch only it.
const MARKER: &str = "ferret:managed-hook";

pub fn run(cmd: HookCommand) -> Result<i32> {
    let repo = git::open(std::path::Path::new("."))?;
    let hook = hooks_dir(&repo)?.join("pre-commit");
    match cmd {
        HookCommand::Install { force } => {
            if let Ok(existing) = std::fs::read_to_string(&hook)
                && !existing.contains(MARKER)
                && !force
            {
                bail!(
                    "{} exists and was not written by ferret; use --force to replace it",
                    hook.display()
                );
            }
            if let Some(dir) = hook.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
            }
            let exe = std::env::current_exe().context("cannot find the ferret binary")?;
            let script = format!(
                "#!/bin/sh\n\
                 # {MARKER}: installed by `ferret hook install`; `ferret hook uninstall` removes it.\n\
                 # Blocks commits that add secrets. Bypass once (not recommended): git commit --no-verify\n\
                 if command -v ferret >/dev/null 2>&1; then exec ferret staged; fi\n\
                 exec '{}' staged\n",
                exe.display().to_string().replace('\'', "'\\''")
            );
            std::fs::write(&hook, script)
                .with_context(|| format!("cannot write {}", hook.display()))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755))?;
            }
            println!("ferret: installed {}", hook.display());
        }
        HookCommand::Uninstall => match std::fs::read_to_string(&hook) {
            Ok(existing) if existing.contains(MARKER) => {
                std::fs::remove_file(&hook)
                    .with_context(|| format!("cannot remove {}", hook.display()))?;
                println!("ferret: removed {}", hook.display());
            }
            Ok(_) => bail!(
                "{} was not written by ferret; left as it is",
                hook.display()
            ),
            Err(_) => println!("ferret: no pre-commit hook at {}", hook.display()),
        },
    }
    Ok(0)
}

/// `core.hooksPath` (relative to the work tree root when relative), else the
/// repository's `hooks` directory.
fn hooks_dir(repo: &gix::Repository) -> Result<PathBuf> {
    let config = repo.config_snapshot();
    if let Some(p) = config.trusted_path("core.hooksPath") {
        let p = p
            .context("core.hooksPath is not a valid path")?
            .into_owned();
        if p.is_absolute() {
            return Ok(p);
        }
        let base = repo
            .workdir()
            .map(|w| w.to_path_buf())
            .unwrap_or_else(|| repo.git_dir().to_path_buf());
        return Ok(base.join(p));
    }
    Ok(repo.common_dir().join("hooks"))
}
