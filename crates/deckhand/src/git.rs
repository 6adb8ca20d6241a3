//! The git adapter of `deckhand changes`: the files changed between two commits, as git itself
//! reports them. It runs `git` (the checkout's own), decides nothing about filters, and turns
//! git's failures into the command's errors: a checkout that lacks what is asked for (a
//! commit, a merge base, git itself) is bad configuration its hint fixes (exit 2); git failing
//! otherwise is an error (exit 1).

use std::path::Path;
use std::process::Command;

use deckhand_core::github_event::Compare;

use crate::error::{CommandError, Result};

/// One changed file: git's status letter (`A`, `C`, `D`, `M`, `R`, `T`, `U`) and the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GitChange {
    pub(crate) status: String,
    pub(crate) path: String,
}

fn git(dir: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| {
            CommandError::invalid(format!("cannot run git: {e}"))
                .hint("install git; deckhand reads the changes from the checkout")
        })?;
    if !out.status.success() {
        return Err(CommandError::failed(format!(
            "`git {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    String::from_utf8(out.stdout).map_err(|_| {
        CommandError::failed(format!(
            "`git {}` printed a path that is not UTF-8",
            args.join(" ")
        ))
    })
}

fn has_commit(dir: &Path, rev: &str) -> bool {
    git(dir, &["cat-file", "-e", &format!("{rev}^{{commit}}")]).is_ok()
}

/// True when `rev` is a commit of the checkout, after one attempt to fetch it by name from
/// `origin` (a force-pushed-over commit is on no branch, but a host may still serve it).
pub(crate) fn has_commit_or_fetch(dir: &Path, rev: &str) -> bool {
    has_commit(dir, rev)
        || (git(dir, &["fetch", "--quiet", "origin", rev]).is_ok() && has_commit(dir, rev))
}

fn is_shallow(dir: &Path) -> bool {
    git(dir, &["rev-parse", "--is-shallow-repository"]).is_ok_and(|o| o.trim() == "true")
}

/// Makes `rev` (and, for a merge base, the history down to it) present: a shallow clone is
/// deepened step by step; a commit that still cannot be found is an error saying how to
/// check out.
fn ensure_history(dir: &Path, revs: &[&str], merge_base: bool) -> Result<()> {
    let missing = |dir: &Path| {
        revs.iter().any(|r| !has_commit(dir, r))
            || (merge_base
                && revs.len() == 2
                && git(dir, &["merge-base", revs[0], revs[1]]).is_err())
    };
    let mut depth = 50;
    while missing(dir) && is_shallow(dir) && depth <= 3200 {
        // Fetch the revisions by name too: a force-pushed `before` is on no branch.
        let mut args = vec![
            "fetch".to_string(),
            "--quiet".into(),
            format!("--deepen={depth}"),
            "origin".into(),
        ];
        args.extend(
            revs.iter()
                .filter(|r| !has_commit(dir, r))
                .map(|r| r.to_string()),
        );
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        if git(dir, &refs).is_err() {
            // Unreachable revisions make the whole fetch fail: deepen alone.
            let _ = git(
                dir,
                &["fetch", "--quiet", &format!("--deepen={depth}"), "origin"],
            );
        }
        depth *= 4;
    }
    for rev in revs {
        if !has_commit(dir, rev) {
            let hint = if is_shallow(dir) {
                "the clone is shallow and the commit could not be fetched; check out with `fetch-depth: 0` (actions/checkout), or pass `--base` a commit that exists"
            } else {
                "fetch it (`git fetch origin REF`), or pass `--base` a commit that exists (a force push can make `before` unreachable)"
            };
            return Err(
                CommandError::invalid(format!("commit `{rev}` is not in this checkout")).hint(hint),
            );
        }
    }
    if merge_base && revs.len() == 2 && git(dir, &["merge-base", revs[0], revs[1]]).is_err() {
        return Err(CommandError::invalid(format!(
            "`{}` and `{}` have no common ancestor in this checkout",
            revs[0], revs[1]
        ))
        .hint("check out with `fetch-depth: 0` (actions/checkout) so the merge base is present"));
    }
    Ok(())
}

/// The files changed from `base` to `head`. Renames are a delete plus an add (`--no-renames`):
/// a filter on the old path and one on the new path both see the change.
pub(crate) fn changed_files(
    dir: &Path,
    base: &str,
    head: &str,
    compare: Compare,
) -> Result<Vec<GitChange>> {
    ensure_history(dir, &[base, head], compare == Compare::MergeBase)?;
    let from = match compare {
        Compare::TwoDot => base.to_string(),
        Compare::MergeBase => git(dir, &["merge-base", base, head])?.trim().to_string(),
    };
    let out = git(
        dir,
        &[
            "diff",
            "--name-status",
            "--no-renames",
            "-z",
            "--no-ext-diff",
            &from,
            head,
        ],
    )?;
    let mut fields = out.split('\0').filter(|f| !f.is_empty());
    let mut changes = Vec::new();
    while let Some(status) = fields.next() {
        let path = fields.next().ok_or_else(|| {
            CommandError::failed("`git diff --name-status` ended in the middle of an entry")
        })?;
        changes.push(GitChange {
            status: status.chars().next().map(String::from).unwrap_or_default(),
            path: path.to_string(),
        });
    }
    Ok(changes)
}

/// Every file tracked at `head`, as added (the first push of a repository).
pub(crate) fn all_files(dir: &Path, head: &str) -> Result<Vec<GitChange>> {
    ensure_history(dir, &[head], false)?;
    let out = git(dir, &["ls-tree", "-r", "-z", "--name-only", head])?;
    Ok(out
        .split('\0')
        .filter(|p| !p.is_empty())
        .map(|p| GitChange {
            status: "A".into(),
            path: p.to_string(),
        })
        .collect())
}

/// The commit a branch of `origin` (or a local branch) names, for a new branch's base.
pub(crate) fn resolve_branch(dir: &Path, branch: &str) -> Result<String> {
    for candidate in [
        format!("refs/remotes/origin/{branch}"),
        format!("refs/heads/{branch}"),
    ] {
        if let Ok(sha) = git(dir, &["rev-parse", "--verify", "--quiet", &candidate]) {
            return Ok(sha.trim().to_string());
        }
    }
    // A single-branch clone has no other branch: fetch it.
    git(
        dir,
        &[
            "fetch",
            "--quiet",
            "origin",
            &format!("{branch}:refs/remotes/origin/{branch}"),
        ],
    )
    .map_err(|e| {
        CommandError::invalid(format!(
            "branch `{branch}` is not in this checkout and could not be fetched: {}",
            e.problem.message
        ))
        .hint("check out with `fetch-depth: 0`, or pass `--base`")
    })?;
    Ok(git(
        dir,
        &[
            "rev-parse",
            "--verify",
            &format!("refs/remotes/origin/{branch}"),
        ],
    )?
    .trim()
    .to_string())
}

/// True when `rev` looks like a commit id (hex) rather than a branch or tag name.
pub(crate) fn looks_like_sha(rev: &str) -> bool {
    (7..=64).contains(&rev.len()) && rev.bytes().all(|b| b.is_ascii_hexdigit())
}
