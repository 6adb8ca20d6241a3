//! `changes`: load the filters -> find the changed files (given, from git, or from the GitHub
//! event) -> evaluate (core) -> report.

use deckhand_core::changes::report::ChangesReport;
use deckhand_core::changes::{
    ChangeStatus, ChangedFile, Evaluation, Filters, NegationMode, Options, Quantifier,
    parse_files_from,
};
use deckhand_core::github_event::{ChangeSource, Compare, change_source};
use deckhand_core::report::Report;
use deckhand_core::verdict::Verdict;
use serde_json::Value;

use super::read_file_or_stdin;
use crate::cli::ChangesArgs;
use crate::error::{CommandError, Result, fail};
use crate::git::{self, GitChange};
use crate::printer::Printer;

/// Where the changed files came from, for the log and the summary.
struct Found {
    files: Option<Vec<ChangedFile>>,
    source: String,
}

fn from_git(changes: Vec<GitChange>) -> Result<Vec<ChangedFile>> {
    changes
        .into_iter()
        .map(|c| {
            let status = ChangeStatus::from_git(&c.status).ok_or_else(|| {
                CommandError::failed(format!(
                    "git reported status `{}` for `{}`, which deckhand does not know",
                    c.status, c.path
                ))
            })?;
            Ok(ChangedFile::new(c.path, status))
        })
        .collect()
}

fn git_range(
    args: &ChangesArgs,
    base: &str,
    head: &str,
    compare: Compare,
) -> Result<Vec<ChangedFile>> {
    from_git(git::changed_files(&args.checkout, base, head, compare)?)
}

fn find_changes(args: &ChangesArgs) -> Result<Found> {
    if let Some(from) = &args.files_from {
        let text = read_file_or_stdin(from, "changed files", "--files-from")?;
        let shown = if from == "-" { "stdin" } else { from.as_str() };
        let files =
            parse_files_from(shown, &text).map_err(|e| CommandError::invalid(e.to_string()))?;
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
        return Err(CommandError::invalid("`--head` needs `--base`"));
    }
    let (Ok(event_name), Ok(event_path)) = (
        std::env::var("GITHUB_EVENT_NAME"),
        std::env::var("GITHUB_EVENT_PATH"),
    ) else {
        return Err(CommandError::invalid("no changes to look at").hint(
            "pass `--base REF --head REF`, or `--files-from FILE`; in GitHub Actions the event says",
        ));
    };
    let payload: Value = std::fs::read_to_string(&event_path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .ok_or_else(|| {
            CommandError::invalid(format!("cannot read the event payload `{event_path}`"))
        })?;
    match change_source(&event_name, &payload).map_err(CommandError::invalid)? {
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
            let base = git::resolve_branch(&args.checkout, &default_branch)?;
            let files = git_range(args, &base, &head, Compare::MergeBase)?;
            Ok(Found {
                files: Some(files),
                source: format!(
                    "a new branch: {head} since its merge base with `{default_branch}`"
                ),
            })
        }
        ChangeSource::AllFiles { head } => {
            let files = from_git(git::all_files(&args.checkout, &head)?)?;
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

fn evaluate(args: &ChangesArgs) -> Result<(Evaluation, Found)> {
    let quantifier: Quantifier = args
        .quantifier
        .parse()
        .map_err(|e| CommandError::invalid(format!("`--quantifier`: {e}")))?;
    let negation: NegationMode = args
        .negation
        .parse()
        .map_err(|e| CommandError::invalid(format!("`--negation`: {e}")))?;
    let options = Options {
        quantifier,
        negation,
    };
    let text = std::fs::read_to_string(&args.filters).map_err(|e| {
        CommandError::invalid(format!(
            "cannot read filters file `{}`: {e}",
            args.filters.display()
        ))
        .hint("check `--filters`")
    })?;
    let filters = Filters::parse(&args.filters, &text).map_err(|e| {
        CommandError::invalid(e.to_string()).hint("see docs/changes.md for the filters format")
    })?;
    filters.validate(negation).map_err(|e| {
        CommandError::invalid(e.to_string()).hint(
            "in `--negation exclude`, a filter needs a positive glob for `!glob` to exclude from",
        )
    })?;
    let found = find_changes(args)?;
    let evaluation = match &found.files {
        Some(files) => filters
            .evaluate(files, &options)
            .map_err(|e| CommandError::invalid(e.to_string()))?,
        None => Evaluation::all_changed(&filters),
    };
    Ok((evaluation, found))
}

pub(crate) fn changes(args: ChangesArgs, printer: &Printer) -> Report<ChangesReport> {
    let mut report = Report::new("changes", ChangesReport::default());
    match evaluate(&args) {
        Ok((evaluation, found)) => {
            report.details = ChangesReport {
                changed_files: found.files.as_ref().map_or(0, Vec::len),
                evaluation: Some(evaluation),
                source: found.source,
            };
            printer.block(&report.details.render_lines(printer.is_verbose()));
            let headline = report.details.headline();
            report.conclude(Verdict::Succeeded, headline);
        }
        Err(e) => fail(&mut report, e),
    }
    report
}
