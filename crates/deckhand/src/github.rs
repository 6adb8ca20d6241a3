//! GitHub around the commands: the settings every command reads from the runner's environment
//! (API URL, token, run URL), GitHub's errors as messages with hints, and deployment records
//! around a deploy (docs/github.md).
//!
//! A record is made only when `--github-deployment` is on (the default) and GITHUB_TOKEN and
//! GITHUB_REPOSITORY are set. It never changes a deploy's verdict: a GitHub failure is a
//! warning and the deploy goes on.

use std::sync::Arc;

use deckhand_core::deployment_record::{RecordSpec, RecordState, final_description};
use deckhand_core::report::{Attachment, Details, Report};
use deckhand_core::verdict::Verdict;
use deckhand_github::{
    ClientConfig, DeploymentState, GithubClient, GithubError, NewDeployment, NewDeploymentStatus,
    Repo,
};
use serde_json::{Value, json};

use crate::cli::GithubDeploymentArgs;
use crate::error::CommandError;
use crate::printer::Printer;

/// The API root when GITHUB_API_URL is not set.
pub(crate) const DEFAULT_API_URL: &str = "https://api.github.com";

/// What the runner tells every step about GitHub.
#[derive(Debug, Clone, Default)]
pub(crate) struct GithubEnv {
    /// GITHUB_API_URL, or api.github.com.
    pub(crate) api_url: String,
    /// GITHUB_REPOSITORY.
    pub(crate) repository: Option<String>,
    /// GITHUB_SHA, then GITHUB_REF: what a deployment record points at.
    pub(crate) git_ref: Option<String>,
    /// `${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}/actions/runs/${GITHUB_RUN_ID}`.
    pub(crate) run_url: Option<String>,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

impl GithubEnv {
    pub(crate) fn read() -> Self {
        let repository = var("GITHUB_REPOSITORY");
        let run_url = match (var("GITHUB_SERVER_URL"), &repository, var("GITHUB_RUN_ID")) {
            (Some(server), Some(repo), Some(run)) => Some(format!(
                "{}/{repo}/actions/runs/{run}",
                server.trim_end_matches('/')
            )),
            _ => None,
        };
        Self {
            api_url: var("GITHUB_API_URL").unwrap_or_else(|| DEFAULT_API_URL.to_string()),
            repository,
            git_ref: var("GITHUB_SHA").or_else(|| var("GITHUB_REF")),
            run_url,
        }
    }
}

/// The first of `names` that is set: (variable, token). The token is never printed.
pub(crate) fn token_from(names: &[&'static str]) -> Option<(&'static str, String)> {
    names.iter().find_map(|n| var(n).map(|t| (*n, t)))
}

/// A client whose retries and rate-limit waits show up as log lines.
pub(crate) fn client(
    api_url: &str,
    token: String,
    printer: &Printer,
) -> Result<GithubClient, GithubError> {
    let mut config = ClientConfig::new(api_url, token);
    let p = printer.clone();
    config.notice = Some(Arc::new(move |text: &str| {
        p.line(&format!("  github: {text}"))
    }));
    GithubClient::new(config)
}

/// What deckhand was doing when GitHub said no: picks the hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Doing {
    /// Creating a deployment or its status.
    Record,
    /// Dispatching a workflow (`workflow_dispatch`).
    DispatchWorkflow,
    /// Sending a `repository_dispatch` event.
    DispatchEvent,
    /// Reading runs and jobs.
    Follow,
    /// Listing, creating or editing a pull request comment.
    Comment,
    /// Listing a pull request's files (`changes`).
    PullFiles,
}

/// A GitHub error as a message and a hint for the user.
pub(crate) fn explain(e: &GithubError, doing: Doing, repo: &str) -> (String, Option<String>) {
    let permission = match doing {
        Doing::Record => "`deployments: write`",
        Doing::DispatchWorkflow | Doing::Follow => "`actions: write`",
        Doing::DispatchEvent => "`contents: write`",
        Doing::Comment => "`pull-requests: write`",
        Doing::PullFiles => "`pull-requests: read`",
    };
    match e {
        GithubError::Status { status: 401, .. } => (
            format!("GitHub rejected the token: {e}"),
            Some("the token is wrong, expired or revoked: check GITHUB_TOKEN (or GH_TOKEN)".into()),
        ),
        GithubError::Status { status: 403, .. } if doing == Doing::PullFiles => (
            format!("GitHub refused to list the pull request's files: {e}"),
            Some(format!(
                "give the job `permissions: pull-requests: read` (GITHUB_TOKEN only works on its own repository, `{repo}`), or set `token: ''` to read the changes with git from a checkout"
            )),
        ),
        GithubError::Status { status: 403, .. } => (
            format!("GitHub refused: {e}"),
            Some(format!(
                "the token lacks a permission on `{repo}`: it needs {permission} (in a workflow: `permissions:` of the job); GITHUB_TOKEN only works on its own repository"
            )),
        ),
        GithubError::Status { status: 404, .. } => (
            match doing {
                Doing::DispatchWorkflow => format!(
                    "the workflow or the repository `{repo}` was not found, or the token cannot see it: {e}"
                ),
                Doing::DispatchEvent => format!(
                    "the repository `{repo}` was not found, or the token cannot see it: {e}"
                ),
                _ => format!("not found in `{repo}`, or the token cannot see it: {e}"),
            },
            Some(match doing {
                Doing::DispatchWorkflow => "check `--workflow` (a file name under .github/workflows/ on the default branch, or its id) and `--repo`; GitHub answers 404, not 403, when a token cannot see a private repository".into(),
                Doing::Comment => "check `--pr` (an open or closed pull request of the repository) and `--repo`; GitHub answers 404, not 403, when a token cannot see a private repository".into(),
                Doing::PullFiles => "the event's pull request is read from GITHUB_REPOSITORY with the `token` input: check both; GitHub answers 404, not 403, when a token cannot see a private repository".into(),
                _ => "check the repository name; GitHub answers 404, not 403, when a token cannot see a private repository".into(),
            }),
        ),
        GithubError::Status { status: 422, .. } => (
            format!("GitHub refused the request as invalid: {e}"),
            Some(match doing {
                Doing::DispatchWorkflow => "check `--ref` (a branch or tag that exists), `--input` (names the workflow declares under `on.workflow_dispatch.inputs`, at most 25) and that the workflow has a `workflow_dispatch:` trigger".into(),
                Doing::DispatchEvent => "check `--event-type` (1 to 100 characters) and `--input` (at most 10)".into(),
                Doing::Record => "check the ref (GITHUB_SHA) and `--environment`".into(),
                Doing::Follow => "this is unexpected; please report it".into(),
                Doing::Comment => "check `--pr` (a pull request of `--repo`) and the body (at most 65,536 characters)".into(),
                Doing::PullFiles => "this is unexpected; please report it".into(),
            }),
        ),
        GithubError::RateLimited { retry_at_epoch, .. } => {
            let until = retry_at_epoch
                .map(|t| deckhand_core::time::format_utc(t * 1000))
                .unwrap_or_else(|| "a few minutes from now".into());
            (
                format!("rate limited by GitHub until {until}: {e}"),
                Some(format!(
                    "retry after {until}; GITHUB_TOKEN has 1,000 requests an hour per repository, a personal or App token more"
                )),
            )
        }
        GithubError::NotCreated { .. } => (
            format!("GitHub created no deployment: {e}"),
            Some("GitHub merged the default branch into the ref instead (auto-merge); deckhand sends `auto_merge: false`, so this should not happen: report it".into()),
        ),
        GithubError::Status { status, method, .. } if *status >= 500 => (
            format!("GitHub failed: {e}"),
            (*method == "POST").then(|| match doing {
                Doing::DispatchWorkflow | Doing::DispatchEvent => "GitHub may or may not have started the run: look at the workflow's runs before dispatching again".to_string(),
                _ => "GitHub may or may not have acted on it; it was not retried".to_string(),
            }),
        ),
        GithubError::Transport { .. } => (
            format!("cannot reach GitHub: {e}"),
            Some("check GITHUB_API_URL and the network".into()),
        ),
        GithubError::Config(_) => (e.to_string(), Some("check GITHUB_API_URL and the token".into())),
        _ => (e.to_string(), None),
    }
}

/// A GitHub error as the command's error: refusals of the request itself (401, 403, 404, 422,
/// bad client settings) are bad input (exit 2); a rate limit, a 5xx or the network are not.
pub(crate) fn command_error(e: &GithubError, doing: Doing, repo: &str) -> CommandError {
    let (message, hint) = explain(e, doing, repo);
    let bad_input = matches!(e, GithubError::Config(_))
        || matches!(
            e,
            GithubError::Status {
                status: 401 | 403 | 404 | 422,
                ..
            }
        );
    let error = if bad_input {
        CommandError::invalid(message)
    } else {
        CommandError::failed(message)
    };
    error.on(repo).hint_opt(hint)
}

/// The wire state of a record state.
fn wire(state: RecordState) -> DeploymentState {
    match state {
        RecordState::InProgress => DeploymentState::InProgress,
        RecordState::Success => DeploymentState::Success,
        RecordState::Failure => DeploymentState::Failure,
        RecordState::Error => DeploymentState::Error,
        RecordState::Inactive => DeploymentState::Inactive,
    }
}

/// Runs a deploy inside its GitHub deployment record when one is wanted (`spec` is `None` for
/// runs that change nothing: dry runs, input that fails validation). The record's final status
/// is set from the deploy's typed report, which gains the record as a JSON field and a summary
/// line. The record never changes the verdict or the exit code.
pub(crate) async fn recorded<D, F>(
    github: &GithubDeploymentArgs,
    spec: Option<RecordSpec>,
    printer: &Printer,
    deploy: F,
) -> Report<D>
where
    D: Details,
    F: AsyncFnOnce() -> Report<D>,
{
    let record = match spec {
        Some(spec) => start(github, spec, printer).await,
        None => None,
    };
    let mut report = deploy().await;
    if let Some(record) = record {
        let json = record
            .finish(report.verdict, &report.headline, printer)
            .await;
        let summary = format!(
            "\nGitHub deployment `{}` to `{}`: **{}**\n",
            record.id,
            record.environment,
            json["state"].as_str().unwrap_or("not recorded")
        );
        report.attach(Attachment {
            key: "github_deployment",
            json,
            summary,
        });
    }
    report
}

/// A GitHub deployment in progress.
#[derive(Debug)]
pub(crate) struct DeploymentRecord {
    client: GithubClient,
    repo: Repo,
    id: u64,
    environment: String,
    log_url: Option<String>,
    environment_url: Option<String>,
}

fn warn(printer: &Printer, message: &str, hint: Option<&str>) {
    printer.warning(
        "deckhand: GitHub deployment record",
        &format!("GitHub deployment record: {message}; the deploy goes on"),
        hint,
    );
}

/// Creates the deployment and sets it `in_progress`; `None` (with a warning when something
/// failed) when no record is made.
async fn start(
    args: &GithubDeploymentArgs,
    spec: RecordSpec,
    printer: &Printer,
) -> Option<DeploymentRecord> {
    if !args.github_deployment {
        printer.detail("github deployment: off (--github-deployment=false)");
        return None;
    }
    let env = GithubEnv::read();
    let (Some(repository), Some((_, token))) =
        (env.repository.clone(), token_from(&["GITHUB_TOKEN"]))
    else {
        printer
            .detail("github deployment: not recorded (GITHUB_TOKEN or GITHUB_REPOSITORY not set)");
        return None;
    };
    let repo: Repo = match repository.parse() {
        Ok(r) => r,
        Err(e) => {
            warn(printer, &format!("GITHUB_REPOSITORY: {e}"), None);
            return None;
        }
    };
    let Some(git_ref) = env.git_ref.clone() else {
        warn(
            printer,
            "neither GITHUB_SHA nor GITHUB_REF is set, so there is no commit to record",
            Some("set GITHUB_SHA, or pass `--github-deployment=false`"),
        );
        return None;
    };
    let client = match client(&env.api_url, token, printer) {
        Ok(c) => c,
        Err(e) => {
            let (m, h) = explain(&e, Doing::Record, &repository);
            warn(printer, &m, h.as_deref());
            return None;
        }
    };
    let environment = args
        .environment
        .clone()
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty())
        .unwrap_or(spec.default_environment);
    let mut new = NewDeployment::new(git_ref, environment.clone());
    new.description = deckhand_github::truncate_chars(&spec.description, 140);
    new.payload = spec.payload;
    let deployment = match client.create_deployment(&repo, &new).await {
        Ok(d) => d,
        Err(e) => {
            let (m, h) = explain(&e, Doing::Record, &repository);
            warn(printer, &m, h.as_deref());
            return None;
        }
    };
    let record = DeploymentRecord {
        client,
        repo,
        id: deployment.id,
        environment,
        log_url: env.run_url,
        environment_url: args
            .environment_url
            .clone()
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty()),
    };
    printer.line(&format!(
        "github deployment {} to environment `{}` of {}",
        record.id, record.environment, record.repo
    ));
    record
        .set(DeploymentState::InProgress, "deckhand: deploying", printer)
        .await;
    Some(record)
}

impl DeploymentRecord {
    /// Posts a status; a failure is a warning. Returns whether GitHub took it.
    async fn set(&self, state: DeploymentState, description: &str, printer: &Printer) -> bool {
        let mut status = NewDeploymentStatus::new(state, description);
        status.log_url.clone_from(&self.log_url);
        status.environment_url.clone_from(&self.environment_url);
        match self
            .client
            .create_deployment_status(&self.repo, self.id, &status)
            .await
        {
            Ok(_) => {
                printer.detail(&format!(
                    "github deployment {}: {}",
                    self.id,
                    state.as_str()
                ));
                true
            }
            Err(e) => {
                let (m, h) = explain(&e, Doing::Record, &self.repo.to_string());
                warn(printer, &m, h.as_deref());
                false
            }
        }
    }

    /// Sets the final status from the deploy's verdict; what to add to the JSON result.
    pub(crate) async fn finish(
        &self,
        verdict: Verdict,
        headline: &str,
        printer: &Printer,
    ) -> Value {
        let state = wire(RecordState::for_verdict(verdict));
        let description = final_description(verdict, headline);
        let recorded = self.set(state, &description, printer).await;
        if recorded {
            printer.line(&format!(
                "github deployment {} to `{}`: {}",
                self.id,
                self.environment,
                state.as_str()
            ));
        }
        json!({
            "id": self.id,
            "repository": self.repo.to_string(),
            "environment": self.environment,
            "state": recorded.then(|| state.as_str()),
            "log_url": self.log_url,
            "environment_url": self.environment_url,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_verdict_ends_a_record() {
        for v in Verdict::ALL {
            let state = wire(RecordState::for_verdict(v));
            assert_ne!(state, DeploymentState::InProgress, "{v:?}");
        }
    }

    #[test]
    fn hints_name_the_permission() {
        let e = GithubError::Status {
            method: "POST",
            route: "/repos/o/r/deployments".into(),
            status: 403,
            message: "Resource not accessible by integration".into(),
            errors: vec![],
            documentation_url: None,
        };
        let (m, h) = explain(&e, Doing::Record, "o/r");
        assert!(m.contains("Resource not accessible by integration"), "{m}");
        assert!(h.unwrap().contains("deployments: write"));
    }
}
