//! The git adapter of `deckhand changes`: the files changed between two commits, listed the
//! way dorny/paths-filter lists them (`src/git.ts`): every call with `--no-renames` (a rename
//! is a delete plus an add) and `-z`, refs resolved and fetched from `origin` by name when the
//! checkout lacks them, a shallow clone deepened until the merge base is in it. It decides
//! nothing about filters (which comparison to make is `deckhand_core::github_event`'s), and
//! turns git's failures into the command's errors: a checkout that lacks what is asked for is
//! bad configuration its hint fixes (exit 2); git failing otherwise is an error (exit 1).

use std::path::Path;
use std::process::{Command, Output};

use deckhand_core::github_event::is_sha;

use crate::error::{CommandError, Result};

/// One changed file: git's status letter (`A`, `C`, `D`, `M`, `R`, `T`, `U`, ...) and the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GitChange {
    pub(crate) status: String,
    pub(crate) path: String,
}

fn run(dir: &Path, args: &[&str], safe_directory: bool) -> std::io::Result<Output> {
    let mut cmd = Command::new("git");
    // Messages in English whatever the runner's locale (they are matched below), as
    // paths-filter does.
    cmd.env("LC_ALL", "C").arg("-C").arg(dir);
    if safe_directory {
        cmd.arg("-c")
            .arg(format!("safe.directory={}", dir.display()));
    }
    cmd.args(args).output()
}

fn git_output(dir: &Path, args: &[&str]) -> Result<Output> {
    let out = run(dir, args, false).map_err(|e| {
        CommandError::invalid(format!("cannot run git: {e}"))
            .hint("install git; deckhand reads the changes from the checkout")
    })?;
    // A checkout owned by another user (a container job) is refused by git; the workspace is
    // this job's own, so it is trusted for this call, as paths-filter does.
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success()
        && (stderr.contains("dubious ownership") || stderr.contains("unsafe repository"))
    {
        return run(dir, args, true)
            .map_err(|e| CommandError::invalid(format!("cannot run git: {e}")));
    }
    Ok(out)
}

fn git(dir: &Path, args: &[&str]) -> Result<String> {
    let out = git_output(dir, args)?;
    if !out.status.success() {
        return Err(CommandError::failed(format!(
            "`git {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    // paths-filter decodes git's output as UTF-8 too; a name that is not UTF-8 keeps its
    // other characters.
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn succeeds(dir: &Path, args: &[&str]) -> bool {
    git_output(dir, args).is_ok_and(|o| o.status.success())
}

fn has_commit(dir: &Path, rev: &str) -> bool {
    succeeds(dir, &["cat-file", "-e", &format!("{rev}^{{commit}}")])
}

/// The checked-out branch, else the tag HEAD is exactly on, else HEAD's SHA; `None` outside a
/// git checkout (paths-filter's `getCurrentRef`).
pub(crate) fn current_ref(dir: &Path) -> Option<String> {
    let branch = git(dir, &["rev-parse", "--abbrev-ref", "HEAD"]).ok()?;
    let branch = branch.trim();
    if branch != "HEAD" && !branch.is_empty() {
        return Some(branch.to_string());
    }
    if let Ok(tag) = git(dir, &["describe", "--tags", "--exact-match"]) {
        return Some(tag.trim().to_string());
    }
    git(dir, &["rev-parse", "HEAD"])
        .ok()
        .map(|s| s.trim().to_string())
}

/// What `name` is in the checkout: a SHA that is there, or the full name of a branch or tag
/// (`origin`'s branch first, as paths-filter's `getLocalRef`); failing those, any revision git
/// resolves in the checkout (`HEAD`, `HEAD~2`, `origin/main`), which paths-filter would try to
/// fetch by name instead.
fn local_ref(dir: &Path, name: &str) -> Option<String> {
    named_ref(dir, name).or_else(|| {
        git(
            dir,
            &[
                "rev-parse",
                "--verify",
                "--quiet",
                &format!("{name}^{{commit}}"),
            ],
        )
        .ok()
        .map(|sha| sha.trim().to_string())
        .filter(|sha| !sha.is_empty())
    })
}

fn named_ref(dir: &Path, name: &str) -> Option<String> {
    if is_sha(name) {
        return has_commit(dir, name).then(|| name.to_string());
    }
    let listed = git_output(dir, &["show-ref", "--", name]).ok()?;
    let listed = String::from_utf8_lossy(&listed.stdout);
    let refs: Vec<&str> = listed
        .lines()
        .filter_map(|line| line.split_once(' ').map(|(_, r)| r))
        .filter(|r| {
            ["refs/heads/", "refs/tags/", "refs/remotes/origin/"]
                .iter()
                .any(|prefix| r.strip_prefix(prefix) == Some(name))
        })
        .collect();
    refs.iter()
        .find(|r| r.starts_with("refs/remotes/origin/"))
        .or_else(|| refs.first())
        .map(|r| r.to_string())
}

fn not_found(name: &str) -> CommandError {
    CommandError::invalid(format!(
        "cannot find `{name}`: it is not a commit, branch or tag of this checkout, and `git fetch origin {name}` did not bring it"
    ))
    .hint("check the name, and check out the repository first (actions/checkout); a force push or a deleted branch can make a commit unreachable")
}

/// `name` resolved in the checkout, fetched from `origin` by name when it is not there (one
/// commit deep, then with tags), as paths-filter's `ensureRefAvailable`.
fn ensure_ref_available(dir: &Path, name: &str) -> Result<String> {
    if let Some(r) = local_ref(dir, name) {
        return Ok(r);
    }
    for tags in ["--no-tags", "--tags"] {
        // A failed fetch (no `origin`, an unknown name) leaves the ref missing: said below.
        let _ = git_output(dir, &["fetch", "--depth=1", tags, "origin", name]);
        if let Some(r) = local_ref(dir, name) {
            return Ok(r);
        }
    }
    Err(not_found(name))
}

/// True when `rev` is in the checkout or `origin` still serves it (a force-pushed-over commit
/// is on no branch, but a host may not have collected it yet).
pub(crate) fn available(dir: &Path, rev: &str) -> bool {
    ensure_ref_available(dir, rev).is_ok()
}

/// Reads `--name-status -z` output: status, NUL, path, NUL, ...
fn parse_name_status(out: &str) -> Vec<GitChange> {
    let tokens: Vec<&str> = out.split('\0').filter(|t| !t.is_empty()).collect();
    tokens
        .chunks_exact(2)
        .map(|pair| GitChange {
            status: pair[0].trim().to_string(),
            path: pair[1].to_string(),
        })
        .collect()
}

fn diff(dir: &Path, range: &str) -> Result<Vec<GitChange>> {
    let out = git(
        dir,
        &[
            "diff",
            "--no-renames",
            "--name-status",
            "-z",
            "--no-ext-diff",
            range,
            "--",
        ],
    )?;
    Ok(parse_name_status(&out))
}

/// `base..head`: the two trees compared, each fetched by name when missing.
pub(crate) fn two_dot(dir: &Path, base: &str, head: &str) -> Result<Vec<GitChange>> {
    let base = ensure_ref_available(dir, base)?;
    let head = ensure_ref_available(dir, head)?;
    diff(dir, &format!("{base}..{head}"))
}

/// The checkout's staged and unstaged changes against HEAD (untracked files are not listed).
pub(crate) fn local(dir: &Path) -> Result<Vec<GitChange>> {
    diff(dir, "HEAD").map_err(|e| {
        CommandError::invalid(format!(
            "cannot list the local changes: {}",
            e.problem.message
        ))
        .hint("`base: HEAD` compares the working tree of a checkout with its HEAD commit")
    })
}

/// The files of the checked-out commit (`git log -n 1`): in a one-commit-deep clone, every
/// file, as added; on a merge commit, none (as in paths-filter).
pub(crate) fn last_commit(dir: &Path) -> Result<Vec<GitChange>> {
    let out = git(
        dir,
        &[
            "log",
            "--format=",
            "--no-renames",
            "--name-status",
            "-z",
            "-n",
            "1",
        ],
    )?;
    Ok(parse_name_status(&out))
}

/// Every tracked file, as added (the first push of a repository).
pub(crate) fn all_files(dir: &Path) -> Result<Vec<GitChange>> {
    let out = git(dir, &["ls-files", "-z"])?;
    Ok(out
        .split('\0')
        .filter(|p| !p.is_empty())
        .map(|p| GitChange {
            status: "A".into(),
            path: p.to_string(),
        })
        .collect())
}

fn commit_count(dir: &Path) -> u64 {
    git(dir, &["rev-list", "--count", "--all"])
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

fn is_shallow(dir: &Path) -> bool {
    git(dir, &["rev-parse", "--is-shallow-repository"]).is_ok_and(|o| o.trim() == "true")
}

/// What `head` adds since its merge base with `base` (`base...head`), as paths-filter's
/// `getChangesSinceMergeBase`: when there is no merge base in the checkout, `origin` is asked
/// for both, `depth` commits deep, then ever deeper (doubling) until the merge base appears or
/// nothing more comes; with none at all, the two trees are compared (`base..head`) and
/// `warnings` says so.
pub(crate) fn since_merge_base(
    dir: &Path,
    base: &str,
    head: &str,
    depth: u32,
    warnings: &mut Vec<String>,
) -> Result<Vec<GitChange>> {
    let mut base_ref = local_ref(dir, base);
    let mut head_ref = local_ref(dir, head);
    let has_merge_base = |b: &Option<String>, h: &Option<String>| match (b, h) {
        (Some(b), Some(h)) => succeeds(dir, &["merge-base", b, h]),
        _ => false,
    };
    let mut no_merge_base = false;
    if !has_merge_base(&base_ref, &head_ref) {
        let first = git(
            dir,
            &[
                "fetch",
                "--no-tags",
                &format!("--depth={depth}"),
                "origin",
                base,
                head,
            ],
        );
        if let Err(e) = first
            && (base_ref.is_none() || head_ref.is_none() || is_shallow(dir))
        {
            return Err(CommandError::invalid(format!(
                "cannot find the merge base of `{base}` and `{head}` in this checkout, and fetching them from origin failed: {}",
                e.problem.message
            ))
            .hint("check out with `fetch-depth: 0` (actions/checkout), or check that `base` names a branch or tag of the repository"));
        }
        if base_ref.is_none() || head_ref.is_none() {
            base_ref = base_ref.or_else(|| local_ref(dir, base));
            head_ref = head_ref.or_else(|| local_ref(dir, head));
            if base_ref.is_none() || head_ref.is_none() {
                let _ = git_output(dir, &["fetch", "--tags", "--depth=1", "origin", base, head]);
                base_ref = base_ref.or_else(|| local_ref(dir, base));
                head_ref = head_ref.or_else(|| local_ref(dir, head));
            }
        }
        let (Some(b), Some(h)) = (&base_ref, &head_ref) else {
            return Err(not_found(if base_ref.is_none() { base } else { head }));
        };
        let mut depth = u64::from(depth);
        let mut last_count = commit_count(dir);
        while !has_merge_base(&base_ref, &head_ref) {
            // A complete history has nothing more to give: the two have no common ancestor.
            if !is_shallow(dir) {
                no_merge_base = true;
                break;
            }
            depth = depth.saturating_mul(2);
            let _ = git_output(
                dir,
                &["fetch", &format!("--deepen={depth}"), "origin", base, head],
            );
            let count = commit_count(dir);
            if count == last_count {
                let _ = git_output(dir, &["fetch"]);
                no_merge_base = !succeeds(dir, &["merge-base", b, h]);
                break;
            }
            last_count = count;
        }
    }
    let (Some(b), Some(h)) = (base_ref, head_ref) else {
        return Err(not_found(base));
    };
    let range = if no_merge_base {
        warnings.push(
            "No merge base found - change detection will use direct <commit>..<commit> comparison"
                .into(),
        );
        format!("{b}..{h}")
    } else {
        format!("{b}...{h}")
    };
    diff(dir, &range)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_status_pairs() {
        let got = parse_name_status("M\0src/a b.rs\0A\0new\nline\0D\0gone\0");
        let pairs: Vec<(&str, &str)> = got
            .iter()
            .map(|c| (c.status.as_str(), c.path.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [("M", "src/a b.rs"), ("A", "new\nline"), ("D", "gone")]
        );
        // `git log --format= -z` starts with an empty record.
        assert_eq!(parse_name_status("\0\0M\0x\0").len(), 1);
    }
}
