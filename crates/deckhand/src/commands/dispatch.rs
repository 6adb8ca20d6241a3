//! `dispatch`: run a workflow (`workflow_dispatch`, or a `repository_dispatch` event) and, with
//! `--wait`, follow its run job by job to a verdict: exit 0 when it concluded `success`, 1 for
//! any other conclusion, 4 when `--timeout` ran out first (the run is not cancelled). Which
//! listed run is ours, the job changes and the verdict are decided in `deckhand_core::dispatch`.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use deckhand_core::dispatch::{
    DispatchReport, JobBoard, JobView, RunView, ShownInputs, conclude, newest_run_since,
    shown_inputs,
};
use deckhand_core::duration::{humanize, parse_duration};
use deckhand_core::report::Report;
use deckhand_core::verdict::Verdict;
use deckhand_github::{Dispatch, GithubClient, GithubError, Repo, RunQuery};

use crate::cli::DispatchArgs;
use crate::error::{CommandError, Result, end, fail};
use crate::github::{self, Doing, GithubEnv};
use crate::printer::Printer;

/// Workflow inputs GitHub takes at most.
const MAX_WORKFLOW_INPUTS: usize = 25;
/// Top-level `client_payload` properties GitHub takes at most.
const MAX_PAYLOAD_PROPERTIES: usize = 10;
/// Consecutive failed polls after which following gives up (each GET was already retried).
const MAX_POLL_ERRORS: u32 = 5;
/// How far before the dispatch a listed run may have been created and still be ours (clock
/// skew between this machine and GitHub), in milliseconds.
const CLOCK_SKEW_MS: i64 = 5_000;

/// What to dispatch, validated.
struct Inputs {
    repo: Repo,
    target: Target,
    inputs: Vec<(String, String)>,
    token: String,
    api_url: String,
    timeout: Duration,
    poll: Duration,
}

enum Target {
    Workflow { workflow: String, git_ref: String },
    Event { event_type: String },
}

fn invalid(message: impl Into<String>, hint: &str) -> CommandError {
    CommandError::invalid(message).hint(hint)
}

fn load(args: &DispatchArgs) -> Result<Inputs> {
    let repo_text = args
        .repo
        .clone()
        .filter(|r| !r.trim().is_empty())
        .or_else(|| GithubEnv::read().repository)
        .ok_or_else(|| {
            invalid(
                "no repository to dispatch in",
                "pass `--repo OWNER/REPO` (GITHUB_REPOSITORY is used when it is set)",
            )
        })?;
    let repo: Repo = repo_text.parse().map_err(|e| {
        invalid(
            format!("`--repo`: {e}"),
            "for example `--repo octo-org/octo-repo`",
        )
    })?;
    let nonempty = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let target = match nonempty(&args.event_type) {
        Some(event_type) => {
            if event_type.chars().count() > 100 {
                return Err(invalid(
                    "`--event-type` is longer than 100 characters",
                    "GitHub takes 1 to 100 characters",
                ));
            }
            Target::Event { event_type }
        }
        None => {
            let workflow = nonempty(&args.workflow).ok_or_else(|| {
                invalid(
                    "`--workflow` is empty",
                    "name the workflow file, for example `--workflow deploy.yml`",
                )
            })?;
            let workflow = workflow
                .strip_prefix(".github/workflows/")
                .unwrap_or(&workflow)
                .to_string();
            if workflow.contains('/') {
                return Err(invalid(
                    format!("`--workflow {workflow}` is a path"),
                    "give the file name under .github/workflows/ (`deploy.yml`) or the workflow id",
                ));
            }
            let git_ref = nonempty(&args.git_ref).ok_or_else(|| {
                invalid(
                    "`--ref` is empty",
                    "name a branch or tag, for example `--ref main`",
                )
            })?;
            let git_ref = git_ref
                .strip_prefix("refs/heads/")
                .unwrap_or(&git_ref)
                .to_string();
            Target::Workflow { workflow, git_ref }
        }
    };
    let mut inputs: Vec<(String, String)> = Vec::new();
    let mut seen = BTreeSet::new();
    for raw in args
        .inputs
        .iter()
        .map(|s| s.trim_end_matches('\r'))
        .filter(|s| !s.trim().is_empty())
    {
        let Some((key, value)) = raw.split_once('=') else {
            return Err(invalid(
                format!("`--input {raw}` is not `KEY=VALUE`"),
                "for example `--input environment=staging`",
            ));
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(invalid(
                format!("`--input {raw}` has an empty name"),
                "for example `--input environment=staging`",
            ));
        }
        if !seen.insert(key.to_string()) {
            return Err(invalid(
                format!("`--input {key}=...` is given twice"),
                "give each input once",
            ));
        }
        inputs.push((key.to_string(), value.to_string()));
    }
    let (max, what) = match target {
        Target::Workflow { .. } => (MAX_WORKFLOW_INPUTS, "workflow inputs"),
        Target::Event { .. } => (MAX_PAYLOAD_PROPERTIES, "client_payload properties"),
    };
    if inputs.len() > max {
        return Err(invalid(
            format!(
                "{} `--input`s given; GitHub takes at most {max} {what}",
                inputs.len()
            ),
            "pass fewer inputs (one JSON input the workflow parses can carry more)",
        ));
    }
    let (_, token) = github::token_from(&["GITHUB_TOKEN", "GH_TOKEN"]).ok_or_else(|| {
        invalid(
            "no GitHub token: GITHUB_TOKEN and GH_TOKEN are not set",
            "in a workflow: `env: GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}` and `permissions: actions: write`; for another repository, a token with Actions write access to it",
        )
    })?;
    let d = |flag: &str, v: &str| {
        parse_duration(v)
            .map_err(|e| invalid(format!("`--{flag}`: {e}"), "for example `30m` or `10s`"))
    };
    let timeout = d("timeout", &args.timeout)?;
    let poll = d("poll-interval", &args.poll_interval)?;
    if poll.is_zero() {
        return Err(invalid(
            "`--poll-interval` must be more than 0",
            "for example `--poll-interval 5s`",
        ));
    }
    Ok(Inputs {
        repo,
        target,
        inputs,
        token,
        api_url: GithubEnv::read().api_url,
        timeout,
        poll,
    })
}

pub(crate) async fn dispatch(args: DispatchArgs, printer: &Printer) -> Report<DispatchReport> {
    let mut report = Report::new(
        "dispatch",
        DispatchReport {
            repo: args.repo.clone().unwrap_or_default(),
            workflow: args.workflow.clone(),
            git_ref: args.git_ref.clone(),
            event_type: args.event_type.clone(),
            ..DispatchReport::default()
        },
    );
    let inputs = match load(&args) {
        Ok(i) => i,
        Err(e) => {
            fail(&mut report, e);
            return report;
        }
    };
    let d = &mut report.details;
    d.repo = inputs.repo.to_string();
    (d.workflow, d.git_ref, d.event_type) = match &inputs.target {
        Target::Workflow { workflow, git_ref } => {
            (Some(workflow.clone()), Some(git_ref.clone()), None)
        }
        Target::Event { event_type } => (None, None, Some(event_type.clone())),
    };
    d.inputs = ShownInputs(shown_inputs(&inputs.inputs));
    let outcome = run(&args, &inputs, printer, &mut report.details).await;
    end(&mut report, outcome);
    report
}

/// Dispatches and, with `--wait`, follows the run: the verdict and the headline.
async fn run(
    args: &DispatchArgs,
    inputs: &Inputs,
    printer: &Printer,
    report: &mut DispatchReport,
) -> Result<(Verdict, String)> {
    let repo = &inputs.repo;
    let repo_text = repo.to_string();
    let client = github::client(&inputs.api_url, inputs.token.clone(), printer)
        .map_err(|e| github::command_error(&e, Doing::DispatchWorkflow, &repo_text))?;
    let shown = report
        .inputs
        .0
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ");
    let with = if shown.is_empty() {
        String::new()
    } else {
        format!(" with {shown}")
    };
    if args.dry_run {
        let what = match &inputs.target {
            Target::Workflow { workflow, git_ref } => {
                format!("workflow `{workflow}` on `{git_ref}`")
            }
            Target::Event { event_type } => format!("repository_dispatch `{event_type}`"),
        };
        printer.line(&format!("would dispatch {what} in {repo}{with}"));
        return Ok((Verdict::DryRun, "dry run: nothing was dispatched".into()));
    }
    // GitHub timestamps have whole seconds; the dispatch instant rounded down.
    let dispatched_at = DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap_or_default();
    let (dispatch, doing) = match &inputs.target {
        Target::Workflow { workflow, git_ref } => {
            printer.line(&format!(
                "dispatching workflow `{workflow}` on `{git_ref}` in {repo}{with}"
            ));
            (
                client
                    .dispatch_workflow(repo, workflow, git_ref, &inputs.inputs)
                    .await,
                Doing::DispatchWorkflow,
            )
        }
        Target::Event { event_type } => {
            printer.line(&format!(
                "sending repository_dispatch `{event_type}` to {repo}{with}"
            ));
            (
                client
                    .repository_dispatch(repo, event_type, &inputs.inputs)
                    .await
                    .map(|()| Dispatch::Accepted),
                Doing::DispatchEvent,
            )
        }
    };
    let dispatch = dispatch.map_err(|e| github::command_error(&e, doing, &repo_text))?;
    match &dispatch {
        Dispatch::Run(details) => {
            report.run_id = Some(details.workflow_run_id);
            report.run_url.clone_from(&details.html_url);
            printer.line(&format!(
                "dispatched: run {}{}",
                details.workflow_run_id,
                details
                    .html_url
                    .as_deref()
                    .map(|u| format!(" {u}"))
                    .unwrap_or_default()
            ));
        }
        Dispatch::Accepted => printer.line("dispatched (GitHub did not return the run id)"),
    }
    if !args.wait {
        let headline = match report.run_id {
            Some(id) => format!("dispatched run {id}; not followed (no `--wait`)"),
            None => "dispatched; not followed (no `--wait`)".into(),
        };
        return Ok((Verdict::Dispatched, headline));
    }

    let deadline = Instant::now() + inputs.timeout;
    let run_id = match report.run_id {
        Some(id) => id,
        None => {
            let since_ms = dispatched_at.timestamp_millis() - CLOCK_SKEW_MS;
            let found = find_run(&client, inputs, since_ms, deadline, printer)
                .await
                .map_err(|e| github::command_error(&e, Doing::Follow, &repo_text))?;
            let Some(run) = found else {
                return Ok((
                    Verdict::TimedOut,
                    format!(
                        "the dispatch was accepted, but its run did not show up within {}",
                        humanize(inputs.timeout)
                    ),
                ));
            };
            printer.line(&format!(
                "found run {}{}",
                run.id,
                run.html_url
                    .as_deref()
                    .map(|u| format!(" {u}"))
                    .unwrap_or_default()
            ));
            report.run_id = Some(run.id);
            report.run_url.clone_from(&run.html_url);
            run.id
        }
    };
    follow(&client, repo, run_id, deadline, inputs, report, printer).await
}

/// Without run details: lists the workflow's runs (event, branch, created since the dispatch)
/// until the newest one created after the dispatch shows up.
async fn find_run(
    client: &GithubClient,
    inputs: &Inputs,
    since_ms: i64,
    deadline: Instant,
    printer: &Printer,
) -> std::result::Result<Option<RunView>, GithubError> {
    let since = DateTime::from_timestamp_millis(since_ms).unwrap_or_default();
    let (workflow, query) = match &inputs.target {
        Target::Workflow { workflow, git_ref } => (
            Some(workflow.as_str()),
            RunQuery {
                event: Some("workflow_dispatch".into()),
                branch: Some(git_ref.clone()),
                created_since: Some(since),
                per_page: Some(20),
            },
        ),
        Target::Event { .. } => (
            None,
            RunQuery {
                event: Some("repository_dispatch".into()),
                branch: None,
                created_since: Some(since),
                per_page: Some(20),
            },
        ),
    };
    printer.line("looking for the run the dispatch started");
    loop {
        let runs: Vec<RunView> = client
            .list_runs(&inputs.repo, workflow, &query)
            .await?
            .iter()
            .map(deckhand_github::WorkflowRun::view)
            .collect();
        if let Some(run) = newest_run_since(&runs, since_ms) {
            return Ok(Some(run.clone()));
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        tokio::time::sleep(inputs.poll.min(deadline - now)).await;
    }
}

/// Polls the run and its jobs until the run completes or the deadline passes.
async fn follow(
    client: &GithubClient,
    repo: &Repo,
    run_id: u64,
    deadline: Instant,
    inputs: &Inputs,
    report: &mut DispatchReport,
    printer: &Printer,
) -> Result<(Verdict, String)> {
    let start = Instant::now();
    let mut board = JobBoard::new();
    let mut last_run_state = String::new();
    let mut errors = 0;
    let mut last_status = "unknown".to_string();
    loop {
        match poll_once(client, repo, run_id).await {
            Ok((run, jobs)) => {
                errors = 0;
                let state = run.describe();
                if state != last_run_state {
                    printer.line(&format!(
                        "  [{:>4}s] run {run_id}: {state}",
                        start.elapsed().as_secs()
                    ));
                    last_run_state = state;
                }
                for change in board.update(&jobs) {
                    printer.line(&format!(
                        "  [{:>4}s]   job `{}`: {}",
                        start.elapsed().as_secs(),
                        change.name,
                        change.state.describe()
                    ));
                }
                last_status = run.status_str().to_string();
                if run.is_completed() {
                    let concluded = conclude(&run, &jobs);
                    report.observe(&run, jobs);
                    return Ok(concluded);
                }
                report.observe(&run, jobs);
            }
            Err(e) => {
                errors += 1;
                let error = github::command_error(&e, Doing::Follow, &repo.to_string());
                let message = format!(
                    "poll failed ({errors}/{MAX_POLL_ERRORS}): {}",
                    error.problem.message
                );
                printer.line(&format!("  warning: {message}"));
                printer.annotate_warning("deckhand: poll failed", &message);
                if errors >= MAX_POLL_ERRORS {
                    let message = format!(
                        "{}; run {run_id} goes on without deckhand watching it",
                        error.problem.message
                    );
                    return Err(CommandError::failed(message).hint_opt(error.problem.hint));
                }
            }
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok((
                Verdict::TimedOut,
                format!(
                    "run {run_id} was still {last_status} after {}; it was not cancelled",
                    humanize(inputs.timeout)
                ),
            ));
        }
        tokio::time::sleep(inputs.poll.min(deadline - now)).await;
    }
}

async fn poll_once(
    client: &GithubClient,
    repo: &Repo,
    run_id: u64,
) -> std::result::Result<(RunView, Vec<JobView>), GithubError> {
    let run = client.get_run(repo, run_id).await?.view();
    let jobs = client
        .list_jobs(repo, run_id)
        .await?
        .iter()
        .map(deckhand_github::Job::view)
        .collect();
    Ok((run, jobs))
}
