//! Request and response shapes. Responses are read leniently: only the fields deckhand uses,
//! each optional where GitHub's schema allows null (octocrab's own `Run`/`Job` models reject
//! null names and job statuses such as `requested`).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `OWNER/REPO`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repo {
    /// Owner (user or organization).
    pub owner: String,
    /// Repository name.
    pub name: String,
}

/// A malformed `OWNER/REPO`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not `OWNER/REPO`: {reason}")]
pub struct RepoParseError {
    /// The text given.
    pub input: String,
    /// What is wrong with it.
    pub reason: String,
}

impl FromStr for Repo {
    type Err = RepoParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason: &str| RepoParseError {
            input: s.to_string(),
            reason: reason.to_string(),
        };
        let t = s.trim();
        let (owner, name) = t
            .split_once('/')
            .ok_or_else(|| err("it has no `/` between owner and name"))?;
        if owner.is_empty() || name.is_empty() {
            return Err(err("the owner or the name is empty"));
        }
        if name.contains('/') {
            return Err(err("it has more than one `/`"));
        }
        // GitHub: owners are alphanumerics and `-`; repository names also `.` and `_`.
        if !owner
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
        {
            return Err(err("the owner has characters GitHub does not allow"));
        }
        if !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            || name == "."
            || name == ".."
        {
            return Err(err("the name has characters GitHub does not allow"));
        }
        Ok(Self {
            owner: owner.to_string(),
            name: name.to_string(),
        })
    }
}

impl fmt::Display for Repo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// `POST /repos/{owner}/{repo}/deployments`.
#[derive(Debug, Clone, Serialize)]
pub struct NewDeployment {
    /// Branch, tag or SHA.
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// `deploy`, or `deploy:migrations` and the like.
    pub task: String,
    /// Always `false` from deckhand: GitHub must not merge the default branch into the ref.
    pub auto_merge: bool,
    /// `[]`: the commit's status checks were already decided by the workflow that runs us.
    pub required_contexts: Vec<String>,
    /// Passed through to the `deployment` event.
    pub payload: Value,
    /// The environment name.
    pub environment: String,
    /// At most 140 characters are kept.
    pub description: String,
    /// The environment goes away (review apps).
    pub transient_environment: bool,
    /// The environment is production.
    pub production_environment: bool,
}

impl NewDeployment {
    /// A deployment of `git_ref` to `environment` with deckhand's defaults: task `deploy`, no
    /// auto-merge, no required contexts, not transient, production when the environment is
    /// named `production` or `prod` (GitHub's own default only knows `production`).
    pub fn new(git_ref: impl Into<String>, environment: impl Into<String>) -> Self {
        let environment = environment.into();
        let production = matches!(
            environment.to_ascii_lowercase().as_str(),
            "production" | "prod"
        );
        Self {
            git_ref: git_ref.into(),
            task: "deploy".into(),
            auto_merge: false,
            required_contexts: Vec::new(),
            payload: Value::Object(Default::default()),
            environment,
            description: String::new(),
            transient_environment: false,
            production_environment: production,
        }
    }
}

/// A created deployment (the fields deckhand reads).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Deployment {
    /// Its id.
    pub id: u64,
    /// Its API URL.
    #[serde(default)]
    pub url: Option<String>,
    /// The commit.
    #[serde(default)]
    pub sha: Option<String>,
    /// The ref as given.
    #[serde(default, rename = "ref")]
    pub git_ref: Option<String>,
    /// The environment.
    #[serde(default)]
    pub environment: Option<String>,
}

/// States of a deployment status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentState {
    /// Waiting.
    Queued,
    /// Waiting (older name).
    Pending,
    /// Running.
    InProgress,
    /// Done, good.
    Success,
    /// Done, the deploy failed.
    Failure,
    /// Done, something went wrong around the deploy.
    Error,
    /// Superseded or destroyed.
    Inactive,
}

impl DeploymentState {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Pending => "pending",
            Self::InProgress => "in_progress",
            Self::Success => "success",
            Self::Failure => "failure",
            Self::Error => "error",
            Self::Inactive => "inactive",
        }
    }
}

/// The most characters GitHub takes in a deployment status description.
pub const STATUS_DESCRIPTION_MAX: usize = 140;

/// `POST /repos/{owner}/{repo}/deployments/{id}/statuses`.
#[derive(Debug, Clone, Serialize)]
pub struct NewDeploymentStatus {
    /// The state.
    pub state: DeploymentState,
    /// At most 140 characters (longer text is cut, ending in `...`).
    pub description: String,
    /// The run's log page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_url: Option<String>,
    /// The deployed environment's URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment_url: Option<String>,
}

impl NewDeploymentStatus {
    /// A status with its description cut to 140 characters.
    pub fn new(state: DeploymentState, description: &str) -> Self {
        Self {
            state,
            description: truncate_chars(description, STATUS_DESCRIPTION_MAX),
            log_url: None,
            environment_url: None,
        }
    }
}

/// `text` cut to at most `max` characters, ending in `...` when cut.
pub fn truncate_chars(text: &str, max: usize) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max {
        return one_line;
    }
    let kept: String = one_line.chars().take(max.saturating_sub(3)).collect();
    format!("{}...", kept.trim_end())
}

/// A created deployment status.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct DeploymentStatus {
    /// Its id.
    pub id: u64,
    /// Its state.
    #[serde(default)]
    pub state: Option<String>,
}

/// The run a workflow dispatch started, when GitHub says (`return_run_details`).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct DispatchedRun {
    /// The run id.
    pub workflow_run_id: u64,
    /// Its API URL.
    #[serde(default)]
    pub run_url: Option<String>,
    /// Its page.
    #[serde(default)]
    pub html_url: Option<String>,
}

/// What a workflow dispatch returned.
#[derive(Debug, Clone)]
pub enum Dispatch {
    /// `200` with the run's id and URLs.
    Run(DispatchedRun),
    /// `204`: accepted, no run details (older GitHub Enterprise Server); find the run by
    /// listing.
    Accepted,
}

/// A workflow run (the fields deckhand reads).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct WorkflowRun {
    /// Its id.
    pub id: u64,
    /// The workflow's name.
    #[serde(default)]
    pub name: Option<String>,
    /// `Deploy to staging` and the like.
    #[serde(default)]
    pub display_title: Option<String>,
    /// `requested`, `queued`, `pending`, `waiting`, `in_progress`, `completed`.
    #[serde(default)]
    pub status: Option<String>,
    /// Null until completed; then `success`, `failure`, `cancelled`, `timed_out`, ...
    #[serde(default)]
    pub conclusion: Option<String>,
    /// `workflow_dispatch`, `repository_dispatch`, `push`, ...
    #[serde(default)]
    pub event: Option<String>,
    /// The branch it runs on.
    #[serde(default)]
    pub head_branch: Option<String>,
    /// The commit.
    #[serde(default)]
    pub head_sha: Option<String>,
    /// Its page.
    #[serde(default)]
    pub html_url: Option<String>,
    /// When it was created.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    /// Its number in the workflow.
    #[serde(default)]
    pub run_number: Option<u64>,
    /// Its attempt.
    #[serde(default)]
    pub run_attempt: Option<u64>,
}

impl WorkflowRun {
    /// The run as `deckhand_core::dispatch` follows it.
    pub fn view(&self) -> deckhand_core::dispatch::RunView {
        deckhand_core::dispatch::RunView {
            id: self.id,
            status: self.status.clone(),
            conclusion: self.conclusion.clone(),
            html_url: self.html_url.clone(),
            run_number: self.run_number,
            created_at_ms: self.created_at.map(|t| t.timestamp_millis()),
        }
    }

    /// `status`, or `unknown`.
    pub fn status_str(&self) -> &str {
        self.status.as_deref().unwrap_or("unknown")
    }

    /// True once the run has completed.
    pub fn is_completed(&self) -> bool {
        self.status.as_deref() == Some("completed")
    }
}

/// `{total_count, workflow_runs}`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct RunPage {
    #[serde(default)]
    pub(crate) workflow_runs: Vec<WorkflowRun>,
}

/// A job of a run (the fields deckhand reads).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Job {
    /// Its id.
    pub id: u64,
    /// Its name (`build`, `deploy (web)`).
    #[serde(default)]
    pub name: String,
    /// `queued`, `in_progress`, `completed`, `waiting`, `requested`, `pending`.
    #[serde(default)]
    pub status: Option<String>,
    /// Null while running, then `success`, `failure`, `cancelled`, `skipped`, ...
    #[serde(default)]
    pub conclusion: Option<String>,
    /// Its page.
    #[serde(default)]
    pub html_url: Option<String>,
    /// When it started.
    #[serde(default)]
    pub started_at: Option<DateTime<Utc>>,
    /// When it completed.
    #[serde(default)]
    pub completed_at: Option<DateTime<Utc>>,
}

impl Job {
    /// The job as `deckhand_core::dispatch` follows it.
    pub fn view(&self) -> deckhand_core::dispatch::JobView {
        deckhand_core::dispatch::JobView {
            id: self.id,
            name: self.name.clone(),
            status: self.status.clone(),
            conclusion: self.conclusion.clone(),
            html_url: self.html_url.clone(),
        }
    }
}

/// `{total_count, jobs}`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct JobPage {
    #[serde(default)]
    pub(crate) jobs: Vec<Job>,
}

/// Filters of `GET .../actions/workflows/{id}/runs` (and `.../actions/runs`).
#[derive(Debug, Clone, Default)]
pub struct RunQuery {
    /// `workflow_dispatch`, `repository_dispatch`, ...
    pub event: Option<String>,
    /// The head branch.
    pub branch: Option<String>,
    /// Only runs created at or after this time.
    pub created_since: Option<DateTime<Utc>>,
    /// Page size (at most 100).
    pub per_page: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repos_parse() {
        let r: Repo = "octo-org/octo-repo.js".parse().unwrap();
        assert_eq!(r.to_string(), "octo-org/octo-repo.js");
        for bad in ["octo", "/x", "x/", "a/b/c", "a b/c", "a/b c", "a/.."] {
            assert!(bad.parse::<Repo>().is_err(), "{bad}");
        }
    }

    #[test]
    fn descriptions_are_cut_to_140() {
        let long = "x".repeat(200);
        let s = NewDeploymentStatus::new(DeploymentState::Failure, &long);
        assert_eq!(s.description.chars().count(), 140);
        assert!(s.description.ends_with("..."));
        let short = NewDeploymentStatus::new(DeploymentState::Success, "ok\nfine");
        assert_eq!(short.description, "ok fine");
        // Characters, not bytes.
        let wide = "é".repeat(150);
        assert_eq!(truncate_chars(&wide, 140).chars().count(), 140);
    }

    #[test]
    fn production_is_recognised() {
        assert!(NewDeployment::new("abc", "Production").production_environment);
        assert!(!NewDeployment::new("abc", "staging").production_environment);
    }

    #[test]
    fn runs_read_leniently() {
        let run: WorkflowRun = serde_json::from_str(
            r#"{"id": 7, "name": null, "head_branch": null, "status": "requested", "conclusion": null, "created_at": "2026-07-20T10:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!(run.status_str(), "requested");
        assert!(!run.is_completed());
        let job: Job =
            serde_json::from_str(r#"{"id": 1, "name": "build", "status": "requested"}"#).unwrap();
        assert_eq!(job.status.as_deref(), Some("requested"));
    }
}

/// The author of a comment.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct User {
    /// `octocat`, `github-actions[bot]`.
    pub login: String,
}

/// An issue (or pull request) comment, as `GET .../issues/{n}/comments` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct IssueComment {
    /// The comment id.
    pub id: u64,
    /// The Markdown body.
    #[serde(default)]
    pub body: Option<String>,
    /// The comment on github.com.
    #[serde(default)]
    pub html_url: Option<String>,
    /// Its author; null for a deleted account.
    #[serde(default)]
    pub user: Option<User>,
}

/// One file of a pull request (`GET /repos/{o}/{r}/pulls/{n}/files`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PullRequestFile {
    /// The path (the new one, for a rename).
    pub filename: String,
    /// `added`, `removed`, `modified`, `renamed`, `copied`, `changed` or `unchanged`.
    pub status: String,
    /// The old path of a rename.
    #[serde(default)]
    pub previous_filename: Option<String>,
}
