//! `deckhand --version` names the commit and the target it was built from, so a bug report or
//! a pinned action says exactly which binary ran. The commit comes from `DECKHAND_BUILD_COMMIT`
//! (release builds, where there may be no `.git`), else from git, else `unknown`.

#![allow(clippy::print_stdout)] // a build script talks to cargo on stdout

use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
}

fn main() {
    println!("cargo:rerun-if-env-changed=DECKHAND_BUILD_COMMIT");
    let commit = match std::env::var("DECKHAND_BUILD_COMMIT") {
        Ok(c) if !c.trim().is_empty() => c.trim().to_string(),
        _ => {
            // Rebuilt when HEAD moves: HEAD itself, and the branch file it points at.
            for path in [
                git(&["rev-parse", "--git-path", "HEAD"]),
                git(&["rev-parse", "--symbolic-full-name", "HEAD"])
                    .and_then(|r| git(&["rev-parse", "--git-path", &r])),
            ]
            .into_iter()
            .flatten()
            {
                if Path::new(&path).exists() {
                    println!("cargo:rerun-if-changed={path}");
                }
            }
            git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".into())
        }
    };
    println!("cargo:rustc-env=DECKHAND_COMMIT={commit}");
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".into());
    println!("cargo:rustc-env=DECKHAND_TARGET={target}");
}
