//! `changes`: load the filters -> find the changed files (given, from git, or from the GitHub
//! event) -> evaluate (core) -> outputs.
#![allow(clippy::print_stdout)]

use deckhand_core::changes::{
    ChangeStatus, ChangedFile, Evaluation, Filters, NegationMode, Options, Quantifier,
    parse_files_from,
};
use deckhand_core::github_event::{ChangeSource, Compare, change_source};
use serde_json::{Value, json};

use super::result::{Problem, invalid_input as invalid, read_file_or_stdin};
use crate::cli::ChangesArgs;
use crate::exit::ExitStatus;
use crate::gha::CHANGES_OUTPUTS;
use crate::git::{self, GitChange, GitError};
use crate::printer::Printer;

/// Where the changed files came from, for the log and the summary.
struct Found {
    files: Option<Vec<ChangedFile>>,
    source: String,
}

fn from_git(changes: Vec<GitChange>) -> Result<Vec<ChangedFile>, (ExitStatus, Problem)> {
    changes
        .into_iter()
        .map(|c| {
            let status = ChangeStatus::from_git(&c.status).ok_or_else(|| {
                (
                    ExitStatus::Failed,
                    Problem::new(
                        format!(
                            "git reported status `{}` for `{}`, which deckhand does not know",
                            c.status, c.path
                        ),
                        None,
                    ),
                )
            })?;
            Ok(ChangedFile::new(c.path, status))
        })
        .collect()
}

fn git_failure(e: GitError) -> (ExitStatus, Problem) {
    // A commit missing from the checkout is a configuration problem the hint fixes.
    let status = if e.hint.is_some() {
        ExitStatus::InvalidInput
    } else {
        ExitStatus::Failed
    };
    (status, Problem::new(e.message, e.hint))
}

fn git_range(
    args: &ChangesArgs,
    base: &str,
    head: &str,
    compare: Compare,
) -> Result<Vec<ChangedFile>, (ExitStatus, Problem)> {
    from_git(git::changed_files(&args.checkout, base, head, compare).map_err(git_failure)?)
}

fn find_changes(args: &ChangesArgs) -> Result<Found, (ExitStatus, Problem)> {
    if let Some(from) = &args.files_from {
        let text = read_file_or_stdin(from, "changed files", "--files-from")?;
        let shown = if from == "-" { "stdin" } else { from.as_str() };
        let files = parse_files_from(shown, &text).map_err(|e| invalid(e.to_string(), None))?;
        return Ok(Found {
            files: Some(files),
            source: format!("the files listed in {shown}"),
        });
    }
    if let (Some(base), Some(head)) = (&args.base, &args.head) {
        // A SHA is a point in history: what changed since it. A branch is a line of work:
        // what head adds to it, from their merge base (as a pull request shows it).
        let compare = if git::looks_like_sha(base) {
            Compare::TwoDot
        } else {
            Compare::MergeBase
        };
        let files = git_range(args, base, head, compare)?;
        let how = if compare == Compare::TwoDot {
            format!("{base}..{head}")
        } else {
            format!("{head} since its merge base with {base}")
        };
        return Ok(Found {
            files: Some(files),
            source: format!("git: {how}"),
        });
    }
    if args.head.is_some() {
        return Err(invalid("`--head` needs `--base`", None));
    }
    let (Ok(event_name), Ok(event_path)) = (
        std::env::var("GITHUB_EVENT_NAME"),
        std::env::var("GITHUB_EVENT_PATH"),
    ) else {
        return Err(invalid(
            "no changes to look at",
            Some(
                "pass `--base REF --head REF`, or `--files-from FILE`; in GitHub Actions the event says",
            ),
        ));
    };
    let payload: Value = std::fs::read_to_string(&event_path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .ok_or_else(|| {
            invalid(
                format!("cannot read the event payload `{event_path}`"),
                None,
            )
        })?;
    match change_source(&event_name, &payload).map_err(|m| invalid(m, None))? {
        ChangeSource::Commits {
            base,
            head,
            compare,
        } => {
            let files = git_range(args, &base, &head, compare)?;
            Ok(Found {
                files: Some(files),
                source: format!("the `{event_name}` event: {base}..{head}"),
            })
        }
        ChangeSource::ForcePush { before, head } => {
            if !git::has_commit_or_fetch(&args.checkout, &before) {
                return Ok(Found {
                    files: None,
                    source: format!(
                        "a force push whose replaced head {before} is not in the checkout: every filter counts as changed"
                    ),
                });
            }
            let files = git_range(args, &before, &head, Compare::TwoDot)?;
            Ok(Found {
                files: Some(files),
                source: format!("the `{event_name}` event (a force push): {before}..{head}"),
            })
        }
        ChangeSource::NewBranch {
            default_branch,
            head,
        } => {
            let base = git::resolve_branch(&args.checkout, &default_branch).map_err(git_failure)?;
            let files = git_range(args, &base, &head, Compare::MergeBase)?;
            Ok(Found {
                files: Some(files),
                source: format!(
                    "a new branch: {head} since its merge base with `{default_branch}`"
                ),
            })
        }
        ChangeSource::AllFiles { head } => {
            let files = from_git(git::all_files(&args.checkout, &head).map_err(git_failure)?)?;
            Ok(Found {
                files: Some(files),
                source: format!("the first push: every file of {head}"),
            })
        }
        ChangeSource::Everything { reason } => Ok(Found {
            files: None,
            source: reason,
        }),
        ChangeSource::Nothing { reason } => Ok(Found {
            files: Some(Vec::new()),
            source: reason,
        }),
    }
}

fn json_text<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).expect("BUG: names and paths are always valid JSON")
}

fn run(args: &ChangesArgs) -> Result<(Evaluation, Filters, Found), (ExitStatus, Problem)> {
    let quantifier: Quantifier = args
        .quantifier
        .parse()
        .map_err(|e| invalid(format!("`--quantifier`: {e}"), None))?;
    let negation: NegationMode = args
        .negation
        .parse()
        .map_err(|e| invalid(format!("`--negation`: {e}"), None))?;
    let options = Options {
        quantifier,
        negation,
    };
    let text = std::fs::read_to_string(&args.filters).map_err(|e| {
        invalid(
            format!("cannot read filters file `{}`: {e}", args.filters.display()),
            Some("check `--filters`"),
        )
    })?;
    let filters = Filters::parse(&args.filters, &text).map_err(|e| {
        invalid(
            e.to_string(),
            Some("see docs/changes.md for the filters format"),
        )
    })?;
    filters.validate(negation).map_err(|e| invalid(e.to_string(), Some("in `--negation exclude`, a filter needs a positive glob for `!glob` to exclude from")))?;
    let found = find_changes(args)?;
    let evaluation = match &found.files {
        Some(files) => filters
            .evaluate(files, &options)
            .map_err(|e| invalid(e.to_string(), None))?,
        None => Evaluation::all_changed(&filters),
    };
    Ok((evaluation, filters, found))
}

pub(crate) fn changes(args: ChangesArgs, printer: &Printer) -> ExitStatus {
    let (evaluation, filters, found) = match run(&args) {
        Ok(v) => v,
        Err((status, p)) => {
            printer.error_block("deckhand changes", &p.message, p.hint.as_deref());
            if printer.is_json() {
                printer.json(&json!({
                    "verdict": "invalid-input",
                    "exit_code": status.code(),
                    "error": {"message": p.message, "hint": p.hint},
                }));
            }
            return status;
        }
    };
    let names: Vec<String> = filters.names().map(str::to_string).collect();
    let changed_count = found.files.as_ref().map_or(0, Vec::len);
    printer.line(&format!(
        "changes from {} ({changed_count} files)",
        found.source
    ));
    for name in &names {
        let files = evaluation.files(name).unwrap_or_default();
        let mark = if evaluation.changed(name) {
            "changed"
        } else {
            "-"
        };
        printer.line(&format!("  {name:<24} {mark:<8} {} files", files.len()));
        for f in files.iter().take(20) {
            printer.detail(&format!("      {f}"));
        }
    }
    if names.iter().any(|n| n == "changes") {
        printer.line("note: a filter is named `changes`: its outputs replace the `changes` list (as in paths-filter)");
    }

    let mut md = format!(
        "### deckhand changes\n\nChanges from {} ({changed_count} files).\n\n| filter | changed | files |\n|---|---|---|\n",
        found.source
    );
    for name in &names {
        let files = evaluation.files(name).unwrap_or_default();
        md.push_str(&format!(
            "| `{name}` | {} | {} |\n",
            if evaluation.changed(name) {
                "yes"
            } else {
                "no"
            },
            files.len()
        ));
    }
    // Outputs hold every matched path again, as JSON: built only when something reads them.
    if printer.wants_outputs() {
        let fixed = [
            ("changes", json_text(&evaluation.changes)),
            ("filters", json_text(&evaluation)),
        ];
        printer.publish(&fixed, CHANGES_OUTPUTS, &md);
        let mut per_filter: Vec<(String, String)> = Vec::with_capacity(names.len() * 3);
        for name in &names {
            let files = evaluation.files(name).unwrap_or_default();
            per_filter.push((name.clone(), evaluation.changed(name).to_string()));
            per_filter.push((format!("{name}_count"), files.len().to_string()));
            per_filter.push((format!("{name}_files"), json_text(&files)));
        }
        printer.publish_extra(&per_filter);
    } else {
        printer.summary(&md);
    }
    if printer.is_json() {
        printer.json(&evaluation);
    }
    ExitStatus::Success
}
