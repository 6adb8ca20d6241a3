//! deckhand's GitHub adapter, on octocrab: deployments and deployment statuses, workflow
//! dispatch (`workflow_dispatch` and `repository_dispatch`), the runs and jobs a dispatch
//! starts, pull request comments, and a pull request's files (`changes`).
//!
//! octocrab provides the HTTPS client (rustls with the aws-lc-rs provider, like the AWS SDK),
//! the `Authorization` header and the API root (`GITHUB_API_URL`, GitHub Enterprise Server
//! included). Retries are this crate's (see [`client`]): a POST is never retried on a 5xx, so a
//! flaky gateway cannot create two deployments; rate limits are waited out when GitHub asks
//! for a short wait and reported with the time to retry at otherwise.
//!
//! Like every deckhand library, this crate never prints: retries and waits are reported
//! through [`ClientConfig::notice`]. It decides nothing either: runs and jobs are handed to
//! `deckhand_core::dispatch` as plain views ([`WorkflowRun::view`], [`Job::view`]), where the
//! run matching, job diffing and verdict are.

pub mod api;
pub mod client;
pub mod error;
pub mod model;

pub use client::{ClientConfig, GithubClient, NoticeFn, RateLimitHeaders, rate_limit_wait};
pub use error::GithubError;
pub use model::{
    Deployment, DeploymentState, DeploymentStatus, Dispatch, DispatchedRun, IssueComment, Job,
    NewDeployment, NewDeploymentStatus, PullRequestFile, Repo, RepoParseError, RunQuery,
    STATUS_DESCRIPTION_MAX, WorkflowRun, truncate_chars,
};
