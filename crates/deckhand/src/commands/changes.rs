//! `changes`: load the filters (a file or inline YAML) -> find the changed files (given, from
//! git, or from the GitHub API; where, core decides as paths-filter does) -> evaluate (core)
//! -> report (paths-filter's outputs).

use std::path::{Path, PathBuf};

use deckhand_core::changes::report::ChangesReport;
use deckhand_core::changes::{
    ChangeStatus, ChangedFile, Evaluation, FilterError, Filters, ListFiles, NegationMode, Options,
    Quantifier, dropin, from_api, is_path_input, parse_files_from,
};
use deckhand_core::github_event::{Inputs, Source, decide};
use deckhand_core::report::{FileSpot, Report};
use deckhand_core::verdict::Verdict;
use deckhand_github::Repo;
use serde_json::Value;

use super::read_file_or_stdin;
use crate::cli::ChangesArgs;
use crate::error::{CommandError, Result, fail};
use crate::git::{self, GitChange};
use crate::github::{self, Doing, GithubEnv};
use crate::printer::Printer;

/// Where the changed files came from, for the log and the summary; `files` is `None` when
/// every filter counts as changed.
struct Found {
    files: Option<Vec<ChangedFile>>,
    source: String,
}

/// What paths-filter reads as a git status letter; a letter no status rule names (`T`, `X`)
/// matches only rules without a status, as there.
fn from_git(changes: Vec<GitChange>) -> Vec<ChangedFile> {
    changes
        .into_iter()
        .map(|c| {
            let status = ChangeStatus::from_git(&c.status).unwrap_or(ChangeStatus::Other);
            ChangedFile::new(c.path, status)
        })
        .collect()
}

fn non_empty(v: Option<&String>) -> Option<&str> {
    v.map(|s| s.trim()).filter(|s| !s.is_empty())
}

/// The pull request's files from the REST API (GITHUB_REPOSITORY, GITHUB_API_URL).
async fn pull_request_files(
    number: u64,
    token: String,
    printer: &Printer,
) -> Result<Vec<ChangedFile>> {
    let env = GithubEnv::read();
    let repository = env.repository.ok_or_else(|| {
        CommandError::invalid("GITHUB_REPOSITORY is not set")
            .hint("the pull request's files are read from the GitHub API of the repository the workflow runs in")
    })?;
    let repo: Repo = repository
        .parse()
        .map_err(|e| CommandError::invalid(format!("GITHUB_REPOSITORY: {e}")))?;
    let github_error = |e| github::command_error(&e, Doing::PullFiles, &repository);
    let client = github::client(&env.api_url, token, printer).map_err(github_error)?;
    let listed = client
        .list_pull_request_files(&repo, number)
        .await
        .map_err(github_error)?;
    Ok(from_api(listed.iter().map(|f| {
        (
            f.status.as_str(),
            f.filename.as_str(),
            f.previous_filename.as_deref(),
        )
    })))
}

async fn find_changes(
    args: &ChangesArgs,
    plan_warnings: &mut Vec<String>,
    printer: &Printer,
) -> Result<Found> {
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
    let event_name = std::env::var("GITHUB_EVENT_NAME")
        .ok()
        .filter(|s| !s.is_empty());
    let payload: Value = match std::env::var("GITHUB_EVENT_PATH") {
        Ok(path) if event_name.is_some() && !path.is_empty() => std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .ok_or_else(|| {
                CommandError::invalid(format!("cannot read the event payload `{path}`"))
            })?,
        _ => Value::Null,
    };
    let token = github::token_from(&["GITHUB_TOKEN"]).map(|(_, t)| t);
    let github_ref = std::env::var("GITHUB_REF").ok().filter(|s| !s.is_empty());
    let inputs = Inputs {
        event_name: event_name.as_deref(),
        payload: &payload,
        base: non_empty(args.base.as_ref()),
        head: non_empty(args.head.as_ref()),
        token: token.is_some(),
        github_ref: github_ref.as_deref(),
    };
    let dir = args.checkout.as_path();
    let plan = decide(&inputs, &|| git::current_ref(dir)).map_err(CommandError::invalid)?;
    plan_warnings.extend(plan.warnings);
    let depth = dropin::initial_fetch_depth(&args.initial_fetch_depth);
    let files = match plan.source {
        Source::Local => from_git(git::local(dir)?),
        Source::PullRequestFiles { number } => {
            let token = token.expect("BUG: the API is chosen only with a token");
            pull_request_files(number, token, printer).await?
        }
        Source::TwoDot { base, head } => from_git(git::two_dot(dir, &base, &head)?),
        Source::LastCommit => from_git(git::last_commit(dir)?),
        Source::AllFiles => from_git(git::all_files(dir)?),
        Source::MergeBase { base, head } => from_git(git::since_merge_base(
            dir,
            &base,
            &head,
            depth,
            plan_warnings,
        )?),
        Source::ForcePush { before, head } => {
            if !git::available(dir, &before) {
                return Ok(Found {
                    files: None,
                    source: format!(
                        "a force push whose replaced head {before} is not in the checkout: every filter counts as changed"
                    ),
                });
            }
            from_git(git::two_dot(dir, &before, &head)?)
        }
        Source::Nothing => Vec::new(),
    };
    Ok(Found {
        files: Some(files),
        source: plan.description,
    })
}

/// The filters file as the workflow names it: relative to GITHUB_WORKSPACE when it is inside
/// it (annotations point at files of the repository), else as given.
fn workspace_relative(path: &Path) -> String {
    let shown = path.display().to_string();
    let Some(workspace) = std::env::var_os("GITHUB_WORKSPACE").filter(|w| !w.is_empty()) else {
        return shown;
    };
    let (Ok(file), Ok(root)) = (
        std::fs::canonicalize(path),
        std::fs::canonicalize(PathBuf::from(workspace)),
    ) else {
        return shown;
    };
    file.strip_prefix(&root)
        .map_or(shown, |rel| rel.display().to_string())
}

/// The filters, from the file the input names or the YAML it holds (paths-filter's rule: a
/// value with no newline and no colon is a path).
fn load_filters(filters: &str) -> Result<Filters> {
    let input = filters.trim();
    let (shown, text, file) = if is_path_input(input) {
        let path = Path::new(input);
        if path.is_symlink() || path.is_dir() {
            return Err(
                CommandError::invalid(format!("filters file `{input}` is not a file")).hint(
                    "name a regular file of the checkout (paths-filter refuses symlinks too)",
                ),
            );
        }
        let text = std::fs::read_to_string(path).map_err(|e| {
            CommandError::invalid(format!("cannot read filters file `{input}`: {e}")).hint(
                "`filters` is a file path (relative to the working directory) or the filters' YAML itself; check out the repository first (actions/checkout) when it is a file",
            )
        })?;
        (input.to_string(), text, Some(path))
    } else {
        ("the `filters` input".to_string(), input.to_string(), None)
    };
    Filters::parse(Path::new(&shown), &text).map_err(|e| {
        let error =
            CommandError::invalid(e.to_string()).hint("see docs/changes.md for the filters format");
        match (&e, file) {
            (FilterError::Invalid { line, column, .. }, Some(path)) if *line > 0 => {
                let spot = FileSpot {
                    file: workspace_relative(path),
                    line: *line,
                    column: (*column).max(1),
                };
                CommandError {
                    problem: error.problem.at(spot).on(path.display().to_string()),
                    ..error
                }
            }
            _ => error,
        }
    })
}

async fn evaluate(
    args: &ChangesArgs,
    warnings: &mut Vec<String>,
    printer: &Printer,
) -> Result<(Evaluation, Found, ListFiles)> {
    let quantifier: Quantifier = args.quantifier.trim().parse().map_err(|e| {
        CommandError::invalid(format!("`predicate-quantifier` (`--quantifier`): {e}"))
    })?;
    let negation: NegationMode = args
        .negation
        .trim()
        .parse()
        .map_err(|e| CommandError::invalid(format!("`negation` (`--negation`): {e}")))?;
    let list_files: ListFiles = args
        .list_files
        .parse()
        .map_err(|e| CommandError::invalid(format!("{e} (`--list-files`)")))?;
    let options = Options {
        quantifier,
        negation,
    };
    let filters = load_filters(&args.filters)?;
    filters.validate(negation).map_err(|e| {
        CommandError::invalid(e.to_string()).hint(
            "in `--negation exclude`, a filter needs a positive glob for `!glob` to exclude from",
        )
    })?;
    let found = find_changes(args, warnings, printer).await?;
    let evaluation = match &found.files {
        Some(files) => filters
            .evaluate(files, &options)
            .map_err(|e| CommandError::invalid(e.to_string()))?,
        None => Evaluation::all_changed(&filters),
    };
    Ok((evaluation, found, list_files))
}

pub(crate) async fn changes(args: ChangesArgs, printer: &Printer) -> Report<ChangesReport> {
    let mut report = Report::new("changes", ChangesReport::default());
    let mut warnings = Vec::new();
    let outcome = evaluate(&args, &mut warnings, printer).await;
    for w in &warnings {
        printer.warning("deckhand changes", w, None);
    }
    match outcome {
        Ok((evaluation, found, list_files)) => {
            report.details = ChangesReport {
                changed_files: found.files.as_ref().map_or(0, Vec::len),
                evaluation: Some(evaluation),
                source: found.source,
                list_files,
            };
            printer.block(&report.details.render_lines(printer.is_verbose()));
            let headline = report.details.headline();
            report.conclude(Verdict::Succeeded, headline);
        }
        Err(e) => fail(&mut report, e),
    }
    report
}
