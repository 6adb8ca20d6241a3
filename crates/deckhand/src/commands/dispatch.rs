//! `dispatch`: run a workflow (`workflow_dispatch`, or a `repository_dispatch` event) and, with
//! `--wait`, follow its run job by job to a verdict: exit 0 when it concluded `success`, 1 for
//! any other conclusion, 4 when `--timeout` ran out first (the run is not cancelled).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use deckhand_core::duration::parse_duration;
use deckhand_core::redact::{REDACTED, looks_secret};
use deckhand_github::{
    Dispatch, GithubClient, GithubError, Job, JobBoard, Repo, RunQuery, WorkflowRun,
    newest_run_since,
};
use serde_json::{Map, Value, json};

use super::result::Problem;
use crate::cli::DispatchArgs;
use crate::exit::ExitStatus;
use crate::github_records::{self, Doing, GithubEnv};
use crate::printer::Printer;

/// Outputs `dispatch` writes to `$GITHUB_OUTPUT`.
pub(crate) const DISPATCH_OUTPUTS: &[&str] =
    &["verdict", "exit-code", "run-id", "run-url", "conclusion"];

/// Workflow inputs GitHub takes at most.
const MAX_WORKFLOW_INPUTS: usize = 25;
/// Top-level `client_payload` properties GitHub takes at most.
const MAX_PAYLOAD_PROPERTIES: usize = 10;
/// Consecutive failed polls after which following gives up (each GET was already retried).
const MAX_POLL_ERRORS: u32 = 5;
/// How far before the dispatch a listed run may have been created and still be ours (clock
/// skew between this machine and GitHub).
const CLOCK_SKEW: chrono::Duration = chrono::Duration::seconds(5);

/// How a dispatch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Accepted; not followed (no `--wait`).
    Dispatched,
    /// `--dry-run`: the inputs were checked, nothing was sent.
    DryRun,
    /// The run concluded `success`.
    Succeeded,
    /// The run concluded otherwise.
    Failed,
    /// `--timeout` ran out while the run was still going.
    TimedOut,
    /// Bad input or configuration; nothing was dispatched.
    InvalidInput,
    /// A GitHub call failed.
    Error,
}

impl Verdict {
    fn as_str(self) -> &'static str {
        match self {
            Self::Dispatched => "dispatched",
            Self::DryRun => "dry-run",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::TimedOut => "timed-out",
            Self::InvalidInput => "invalid-input",
            Self::Error => "error",
        }
    }

    fn exit(self) -> ExitStatus {
        match self {
            Self::Dispatched | Self::DryRun | Self::Succeeded => ExitStatus::Success,
            Self::Failed | Self::Error => ExitStatus::Failed,
            Self::InvalidInput => ExitStatus::InvalidInput,
            Self::TimedOut => ExitStatus::TimedOut,
        }
    }
}

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

/// Everything known at the end.
struct Outcome {
    verdict: Verdict,
    headline: String,
    problem: Option<Problem>,
    run: Option<WorkflowRun>,
    run_url: Option<String>,
    run_id: Option<u64>,
    jobs: Vec<Job>,
}

impl Outcome {
    fn new() -> Self {
        Self {
            verdict: Verdict::Error,
            headline: String::new(),
            problem: None,
            run: None,
            run_url: None,
            run_id: None,
            jobs: Vec::new(),
        }
    }

    fn fail(mut self, verdict: Verdict, problem: Problem) -> Self {
        self.verdict = verdict;
        self.headline.clone_from(&problem.message);
        self.problem = Some(problem);
        self
    }
}

fn invalid(message: impl Into<String>, hint: &str) -> Problem {
    Problem::new(message, Some(hint.to_string()))
}

fn load(args: &DispatchArgs) -> Result<Inputs, Problem> {
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
    let (_, token) = github_records::token_from(&["GITHUB_TOKEN", "GH_TOKEN"]).ok_or_else(|| {
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

/// `key=value` for the log, with values of secret-looking names hidden.
fn shown_inputs(inputs: &[(String, String)]) -> Vec<(String, String)> {
    inputs
        .iter()
        .map(|(k, v)| {
            let v = if looks_secret(k) {
                REDACTED.to_string()
            } else {
                v.clone()
            };
            (k.clone(), v)
        })
        .collect()
}

pub(crate) async fn dispatch(args: DispatchArgs, printer: &Printer) -> ExitStatus {
    let started = Instant::now();
    let inputs = match load(&args) {
        Ok(i) => i,
        Err(p) => {
            return finish(
                &args,
                None,
                Outcome::new().fail(Verdict::InvalidInput, p),
                started,
                printer,
            );
        }
    };
    let outcome = run(&args, &inputs, printer).await;
    finish(&args, Some(&inputs), outcome, started, printer)
}

async fn run(args: &DispatchArgs, inputs: &Inputs, printer: &Printer) -> Outcome {
    let outcome = Outcome::new();
    let repo = &inputs.repo;
    let repo_text = repo.to_string();
    let client = match github_records::client(&inputs.api_url, inputs.token.clone(), printer) {
        Ok(c) => c,
        Err(e) => {
            let (m, h) = github_records::explain(&e, Doing::DispatchWorkflow, &repo_text);
            return outcome.fail(Verdict::InvalidInput, Problem::new(m, h));
        }
    };
    let shown = shown_inputs(&inputs.inputs)
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
        let mut outcome = outcome;
        outcome.verdict = Verdict::DryRun;
        outcome.headline = "dry run: nothing was dispatched".into();
        return outcome;
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
    let dispatch = match dispatch {
        Ok(d) => d,
        Err(e) => {
            let (m, h) = github_records::explain(&e, doing, &repo_text);
            let verdict = if is_bad_input(&e) {
                Verdict::InvalidInput
            } else {
                Verdict::Error
            };
            return outcome.fail(verdict, Problem::new(m, h));
        }
    };
    let mut outcome = outcome;
    match &dispatch {
        Dispatch::Run(details) => {
            outcome.run_id = Some(details.workflow_run_id);
            outcome.run_url.clone_from(&details.html_url);
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
        outcome.verdict = Verdict::Dispatched;
        outcome.headline = match outcome.run_id {
            Some(id) => format!("dispatched run {id}; not followed (no `--wait`)"),
            None => "dispatched; not followed (no `--wait`)".into(),
        };
        return outcome;
    }

    let deadline = Instant::now() + inputs.timeout;
    let run_id = match outcome.run_id {
        Some(id) => id,
        None => match find_run(&client, inputs, dispatched_at, deadline, printer).await {
            Ok(Some(run)) => {
                printer.line(&format!(
                    "found run {}{}",
                    run.id,
                    run.html_url
                        .as_deref()
                        .map(|u| format!(" {u}"))
                        .unwrap_or_default()
                ));
                outcome.run_id = Some(run.id);
                outcome.run_url.clone_from(&run.html_url);
                run.id
            }
            Ok(None) => {
                outcome.verdict = Verdict::TimedOut;
                outcome.headline = format!(
                    "the dispatch was accepted, but its run did not show up within {}",
                    humanize(inputs.timeout)
                );
                return outcome;
            }
            Err(e) => {
                let (m, h) = github_records::explain(&e, Doing::Follow, &repo_text);
                return outcome.fail(Verdict::Error, Problem::new(m, h));
            }
        },
    };
    follow(&client, repo, run_id, deadline, inputs, outcome, printer).await
}

/// 401, 403 (not a rate limit), 404 and 422 before anything was dispatched: the input or the
/// token is wrong (exit 2). A rate limit or a 5xx is not bad input (exit 1).
fn is_bad_input(e: &GithubError) -> bool {
    matches!(e, GithubError::Config(_))
        || matches!(
            e,
            GithubError::Status {
                status: 401 | 403 | 404 | 422,
                ..
            }
        )
}

/// Without run details: lists the workflow's runs (event, branch, created since the dispatch)
/// until the newest one created after the dispatch shows up.
async fn find_run(
    client: &GithubClient,
    inputs: &Inputs,
    dispatched_at: DateTime<Utc>,
    deadline: Instant,
    printer: &Printer,
) -> Result<Option<WorkflowRun>, GithubError> {
    let since = dispatched_at - CLOCK_SKEW;
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
        let runs = client.list_runs(&inputs.repo, workflow, &query).await?;
        if let Some(run) = newest_run_since(&runs, since) {
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
    mut outcome: Outcome,
    printer: &Printer,
) -> Outcome {
    let start = Instant::now();
    let mut board = JobBoard::new();
    let mut last_run_state = String::new();
    let mut errors = 0;
    loop {
        match poll_once(client, repo, run_id).await {
            Ok((run, jobs)) => {
                errors = 0;
                let state = match &run.conclusion {
                    Some(c) if run.is_completed() => format!("{} ({c})", run.status_str()),
                    _ => run.status_str().to_string(),
                };
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
                if outcome.run_url.is_none() {
                    outcome.run_url.clone_from(&run.html_url);
                }
                outcome.jobs = jobs;
                let completed = run.is_completed();
                outcome.run = Some(run);
                if completed {
                    return concluded(outcome, run_id);
                }
            }
            Err(e) => {
                errors += 1;
                let (m, h) = github_records::explain(&e, Doing::Follow, &repo.to_string());
                printer.line(&format!(
                    "  warning: poll failed ({errors}/{MAX_POLL_ERRORS}): {m}"
                ));
                if errors >= MAX_POLL_ERRORS {
                    let m = format!("{m}; run {run_id} goes on without deckhand watching it");
                    return outcome.fail(Verdict::Error, Problem::new(m, h));
                }
            }
        }
        let now = Instant::now();
        if now >= deadline {
            let status = outcome
                .run
                .as_ref()
                .map_or("unknown", |r| r.status_str())
                .to_string();
            outcome.verdict = Verdict::TimedOut;
            outcome.headline = format!(
                "run {run_id} was still {status} after {}; it was not cancelled",
                humanize(inputs.timeout)
            );
            return outcome;
        }
        tokio::time::sleep(inputs.poll.min(deadline - now)).await;
    }
}

async fn poll_once(
    client: &GithubClient,
    repo: &Repo,
    run_id: u64,
) -> Result<(WorkflowRun, Vec<Job>), GithubError> {
    let run = client.get_run(repo, run_id).await?;
    let jobs = client.list_jobs(repo, run_id).await?;
    Ok((run, jobs))
}

/// The verdict of a completed run: `success` is green, every other conclusion is red.
fn concluded(mut outcome: Outcome, run_id: u64) -> Outcome {
    let conclusion = outcome
        .run
        .as_ref()
        .and_then(|r| r.conclusion.clone())
        .unwrap_or_else(|| "unknown".into());
    if conclusion == "success" {
        outcome.verdict = Verdict::Succeeded;
        outcome.headline = format!("run {run_id} concluded `success`");
    } else {
        outcome.verdict = Verdict::Failed;
        let bad: Vec<String> = outcome
            .jobs
            .iter()
            .filter(|j| {
                j.conclusion
                    .as_deref()
                    .is_some_and(|c| !matches!(c, "success" | "skipped" | "neutral"))
            })
            .map(|j| format!("`{}` ({})", j.name, j.conclusion.as_deref().unwrap_or("")))
            .collect();
        outcome.headline = if bad.is_empty() {
            format!("run {run_id} concluded `{conclusion}`")
        } else {
            format!("run {run_id} concluded `{conclusion}`: {}", bad.join(", "))
        };
    }
    outcome
}

fn humanize(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 && s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else if s == 0 {
        format!("{}ms", d.as_millis())
    } else {
        format!("{s}s")
    }
}

/// Prints and writes the result; returns the exit status.
fn finish(
    args: &DispatchArgs,
    inputs: Option<&Inputs>,
    outcome: Outcome,
    started: Instant,
    printer: &Printer,
) -> ExitStatus {
    let status = outcome.verdict.exit();
    let (workflow, git_ref, event_type) = match inputs.map(|i| &i.target) {
        Some(Target::Workflow { workflow, git_ref }) => {
            (Some(workflow.clone()), Some(git_ref.clone()), None)
        }
        Some(Target::Event { event_type }) => (None, None, Some(event_type.clone())),
        None => (
            args.workflow.clone(),
            args.git_ref.clone(),
            args.event_type.clone(),
        ),
    };
    let repo = inputs
        .map(|i| i.repo.to_string())
        .or_else(|| args.repo.clone())
        .unwrap_or_default();
    let title = format!(
        "deckhand dispatch {}",
        workflow
            .clone()
            .or_else(|| event_type.clone())
            .unwrap_or_default()
    );
    match &outcome.problem {
        Some(p) => printer.error_block(&title, &p.message, p.hint.as_deref()),
        None if matches!(outcome.verdict, Verdict::Failed | Verdict::TimedOut) => {
            printer.error_block(
                &title,
                &outcome.headline,
                outcome
                    .run_url
                    .as_deref()
                    .map(|u| format!("see {u}"))
                    .as_deref(),
            );
        }
        None => printer.line(&format!(
            "{}: {}",
            outcome.verdict.as_str(),
            outcome.headline
        )),
    }
    let conclusion = outcome
        .run
        .as_ref()
        .and_then(|r| r.conclusion.clone())
        .unwrap_or_default();
    let outputs = [
        ("verdict", outcome.verdict.as_str().to_string()),
        ("exit-code", status.code().to_string()),
        (
            "run-id",
            outcome.run_id.map(|i| i.to_string()).unwrap_or_default(),
        ),
        ("run-url", outcome.run_url.clone().unwrap_or_default()),
        ("conclusion", conclusion.clone()),
    ];
    printer.publish(
        &outputs,
        DISPATCH_OUTPUTS,
        &summary(&outcome, &repo, &title),
    );
    if printer.is_json() {
        let shown: Map<String, Value> = inputs
            .map(|i| shown_inputs(&i.inputs))
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        let jobs: Vec<Value> = outcome
            .jobs
            .iter()
            .map(|j| {
                json!({
                    "id": j.id,
                    "name": j.name,
                    "status": j.status,
                    "conclusion": j.conclusion,
                    "url": j.html_url,
                })
            })
            .collect();
        printer.json(&json!({
            "command": "dispatch",
            "verdict": outcome.verdict.as_str(),
            "exit_code": status.code(),
            "headline": outcome.headline,
            "repo": repo,
            "workflow": workflow,
            "ref": git_ref,
            "event_type": event_type,
            "inputs": shown,
            "run_id": outcome.run_id,
            "run_url": outcome.run_url,
            "status": outcome.run.as_ref().and_then(|r| r.status.clone()),
            "conclusion": outcome.run.as_ref().and_then(|r| r.conclusion.clone()),
            "run_number": outcome.run.as_ref().and_then(|r| r.run_number),
            "jobs": jobs,
            "error": outcome.problem.as_ref().map(|p| json!({"message": p.message, "hint": p.hint})),
            "elapsed_seconds": started.elapsed().as_secs_f64(),
        }));
    }
    status
}

fn summary(outcome: &Outcome, repo: &str, title: &str) -> String {
    let mut md = format!("### {title} in `{repo}`\n\n");
    let run = match (outcome.run_id, &outcome.run_url) {
        (Some(id), Some(url)) => format!(" ([run {id}]({url}))"),
        (Some(id), None) => format!(" (run {id})"),
        _ => String::new(),
    };
    md.push_str(&format!(
        "**{}**{run}: {}\n",
        outcome.verdict.as_str(),
        outcome.headline
    ));
    if let Some(p) = &outcome.problem {
        md.push_str(&p.markdown());
    }
    if !outcome.jobs.is_empty() {
        md.push_str("\n| job | status | conclusion |\n| --- | --- | --- |\n");
        for j in &outcome.jobs {
            md.push_str(&format!(
                "| {} | {} | {} |\n",
                j.name.replace('|', "\\|"),
                j.status.as_deref().unwrap_or(""),
                j.conclusion.as_deref().unwrap_or("")
            ));
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_have_their_exit_codes() {
        assert_eq!(Verdict::Dispatched.exit().code(), 0);
        assert_eq!(Verdict::Succeeded.exit().code(), 0);
        assert_eq!(Verdict::Failed.exit().code(), 1);
        assert_eq!(Verdict::Error.exit().code(), 1);
        assert_eq!(Verdict::InvalidInput.exit().code(), 2);
        assert_eq!(Verdict::TimedOut.exit().code(), 4);
    }

    #[test]
    fn secret_looking_inputs_are_hidden() {
        let shown = shown_inputs(&[
            ("environment".into(), "staging".into()),
            ("api_token".into(), "hunter2".into()),
        ]);
        assert_eq!(shown[0].1, "staging");
        assert_eq!(shown[1].1, REDACTED);
    }

    fn run_with(conclusion: &str, jobs: &[(&str, &str)]) -> Outcome {
        let mut o = Outcome::new();
        o.run = Some(
            serde_json::from_value(
                json!({"id": 9, "status": "completed", "conclusion": conclusion}),
            )
            .unwrap(),
        );
        o.jobs = jobs
            .iter()
            .enumerate()
            .map(|(i, (n, c))| {
                serde_json::from_value(
                    json!({"id": i, "name": n, "status": "completed", "conclusion": c}),
                )
                .unwrap()
            })
            .collect();
        o
    }

    #[test]
    fn only_success_is_green() {
        assert_eq!(
            concluded(run_with("success", &[("a", "success")]), 9).verdict,
            Verdict::Succeeded
        );
        for c in [
            "failure",
            "cancelled",
            "timed_out",
            "startup_failure",
            "neutral",
            "skipped",
        ] {
            assert_eq!(
                concluded(run_with(c, &[]), 9).verdict,
                Verdict::Failed,
                "{c}"
            );
        }
        let o = concluded(
            run_with("failure", &[("build", "success"), ("test", "failure")]),
            9,
        );
        assert_eq!(o.headline, "run 9 concluded `failure`: `test` (failure)");
    }
}
