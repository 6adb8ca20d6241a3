//! The endpoints deckhand uses. octocrab has no deployments handler, its workflow dispatch
//! drops the run details, and its run/job models reject values GitHub sends, so these go
//! through octocrab's raw `_get`/`_post` and read the answers here.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::client::{GithubClient, Method, encode, next_link};
use crate::error::GithubError;
use crate::model::{
    Deployment, DeploymentStatus, Dispatch, DispatchedRun, IssueComment, Job, JobPage,
    NewDeployment, NewDeploymentStatus, PullRequestFile, Repo, RunPage, RunQuery, WorkflowRun,
};

/// Pages of jobs followed at most (100 jobs each).
const MAX_JOB_PAGES: usize = 10;

/// Pages of comments read at most (100 comments each).
const MAX_COMMENT_PAGES: usize = 30;

/// Pages of a pull request's files read at most (100 files each): GitHub lists at most 3,000.
const MAX_PULL_FILE_PAGES: usize = 30;

fn repo_route(repo: &Repo) -> String {
    format!("/repos/{}/{}", encode(&repo.owner), encode(&repo.name))
}

fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

impl GithubClient {
    /// `POST /repos/{o}/{r}/deployments`. A `202` (GitHub merged the default branch into the
    /// ref instead) is [`GithubError::NotCreated`]; the request is never retried on 5xx.
    pub async fn create_deployment(
        &self,
        repo: &Repo,
        deployment: &NewDeployment,
    ) -> Result<Deployment, GithubError> {
        let route = format!("{}/deployments", repo_route(repo));
        let answer = self
            .send(Method::Post, &route, Some(&to_value(deployment)))
            .await?;
        if answer.status != 201 {
            let message = serde_json::from_str::<Value>(&answer.body)
                .ok()
                .and_then(|v| v["message"].as_str().map(str::to_string))
                .unwrap_or_else(|| "GitHub did not say why".into());
            return Err(GithubError::NotCreated {
                method: "POST",
                route,
                status: answer.status,
                message,
            });
        }
        answer.json("POST", &route)
    }

    /// `POST /repos/{o}/{r}/deployments/{id}/statuses`.
    pub async fn create_deployment_status(
        &self,
        repo: &Repo,
        deployment_id: u64,
        status: &NewDeploymentStatus,
    ) -> Result<DeploymentStatus, GithubError> {
        let route = format!("{}/deployments/{deployment_id}/statuses", repo_route(repo));
        self.send(Method::Post, &route, Some(&to_value(status)))
            .await?
            .json("POST", &route)
    }

    /// `POST /repos/{o}/{r}/actions/workflows/{workflow}/dispatches` with
    /// `return_run_details: true`. A GitHub that does not know that parameter answers `204`
    /// ([`Dispatch::Accepted`]) or refuses it with a `422` naming it, in which case the request
    /// is sent once more without it (nothing was dispatched by the refused one).
    pub async fn dispatch_workflow(
        &self,
        repo: &Repo,
        workflow: &str,
        git_ref: &str,
        inputs: &[(String, String)],
    ) -> Result<Dispatch, GithubError> {
        let route = format!(
            "{}/actions/workflows/{}/dispatches",
            repo_route(repo),
            encode(workflow)
        );
        let inputs: Map<String, Value> = inputs
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let mut body = json!({"ref": git_ref, "inputs": inputs, "return_run_details": true});
        let answer = match self.send(Method::Post, &route, Some(&body)).await {
            Err(GithubError::Status {
                status: 422,
                message,
                ..
            }) if message.contains("return_run_details") => {
                body.as_object_mut().map(|b| b.remove("return_run_details"));
                self.send(Method::Post, &route, Some(&body)).await?
            }
            other => other?,
        };
        if answer.status == 204 || answer.body.trim().is_empty() {
            return Ok(Dispatch::Accepted);
        }
        let run: DispatchedRun = answer.json("POST", &route)?;
        Ok(Dispatch::Run(run))
    }

    /// `POST /repos/{o}/{r}/dispatches` (`repository_dispatch`): `204`, no run details.
    pub async fn repository_dispatch(
        &self,
        repo: &Repo,
        event_type: &str,
        client_payload: &[(String, String)],
    ) -> Result<(), GithubError> {
        let route = format!("{}/dispatches", repo_route(repo));
        let payload: Map<String, Value> = client_payload
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let body = json!({"event_type": event_type, "client_payload": payload});
        self.send(Method::Post, &route, Some(&body)).await?;
        Ok(())
    }

    /// Runs, newest first: `GET /repos/{o}/{r}/actions/workflows/{workflow}/runs`, or
    /// `GET /repos/{o}/{r}/actions/runs` without a workflow. One page.
    pub async fn list_runs(
        &self,
        repo: &Repo,
        workflow: Option<&str>,
        query: &RunQuery,
    ) -> Result<Vec<WorkflowRun>, GithubError> {
        let mut route = match workflow {
            Some(w) => format!("{}/actions/workflows/{}/runs", repo_route(repo), encode(w)),
            None => format!("{}/actions/runs", repo_route(repo)),
        };
        let mut params = Vec::new();
        if let Some(e) = &query.event {
            params.push(format!("event={}", encode(e)));
        }
        if let Some(b) = &query.branch {
            params.push(format!("branch={}", encode(b)));
        }
        if let Some(t) = &query.created_since {
            let since = t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
            params.push(format!("created={}", encode(&format!(">={since}"))));
        }
        params.push(format!(
            "per_page={}",
            query.per_page.unwrap_or(20).min(100)
        ));
        route.push('?');
        route.push_str(&params.join("&"));
        let page: RunPage = self.get_json(&route).await?;
        Ok(page.workflow_runs)
    }

    /// `GET /repos/{o}/{r}/actions/runs/{id}`.
    pub async fn get_run(&self, repo: &Repo, run_id: u64) -> Result<WorkflowRun, GithubError> {
        self.get_json(&format!("{}/actions/runs/{run_id}", repo_route(repo)))
            .await
    }

    /// The jobs of a run's latest attempt: `GET /repos/{o}/{r}/actions/runs/{id}/jobs`,
    /// following `Link: rel="next"` as given.
    pub async fn list_jobs(&self, repo: &Repo, run_id: u64) -> Result<Vec<Job>, GithubError> {
        let route = format!("{}/actions/runs/{run_id}/jobs", repo_route(repo));
        self.get_pages(
            &route,
            "filter=latest&per_page=100",
            MAX_JOB_PAGES,
            |p: JobPage| p.jobs,
        )
        .await
    }

    /// The items of a listing: `GET route?query`, then each `Link: rel="next"` as given, up to
    /// `max_pages` pages; `items` takes a page's items out of its JSON.
    async fn get_pages<P: DeserializeOwned, T>(
        &self,
        route: &str,
        query: &str,
        max_pages: usize,
        items: impl Fn(P) -> Vec<T>,
    ) -> Result<Vec<T>, GithubError> {
        let mut next = Some(format!("{route}?{query}"));
        let mut all = Vec::new();
        let mut pages = 0;
        while let Some(url) = next.take() {
            let answer = self.send(Method::Get, &url, None).await?;
            all.extend(items(answer.json("GET", route)?));
            pages += 1;
            if pages < max_pages {
                next = answer.link.as_deref().and_then(next_link);
            }
        }
        Ok(all)
    }

    /// The comments of an issue or pull request, oldest first:
    /// `GET /repos/{o}/{r}/issues/{n}/comments`, following `Link: rel="next"`.
    pub async fn list_issue_comments(
        &self,
        repo: &Repo,
        number: u64,
    ) -> Result<Vec<IssueComment>, GithubError> {
        let route = format!("{}/issues/{number}/comments", repo_route(repo));
        self.get_pages(
            &route,
            "per_page=100",
            MAX_COMMENT_PAGES,
            |p: Vec<IssueComment>| p,
        )
        .await
    }

    /// The files a pull request changes, in GitHub's order:
    /// `GET /repos/{o}/{r}/pulls/{n}/files?per_page=100`, following `Link: rel="next"` (GitHub
    /// lists at most 3,000 files).
    pub async fn list_pull_request_files(
        &self,
        repo: &Repo,
        number: u64,
    ) -> Result<Vec<PullRequestFile>, GithubError> {
        let route = format!("{}/pulls/{number}/files", repo_route(repo));
        self.get_pages(
            &route,
            "per_page=100",
            MAX_PULL_FILE_PAGES,
            |p: Vec<PullRequestFile>| p,
        )
        .await
    }

    /// `POST /repos/{o}/{r}/issues/{n}/comments`; never retried on 5xx.
    pub async fn create_issue_comment(
        &self,
        repo: &Repo,
        number: u64,
        body: &str,
    ) -> Result<IssueComment, GithubError> {
        let route = format!("{}/issues/{number}/comments", repo_route(repo));
        self.send(Method::Post, &route, Some(&json!({ "body": body })))
            .await?
            .json("POST", &route)
    }

    /// `PATCH /repos/{o}/{r}/issues/comments/{id}`; never retried on 5xx.
    pub async fn update_issue_comment(
        &self,
        repo: &Repo,
        comment_id: u64,
        body: &str,
    ) -> Result<IssueComment, GithubError> {
        let route = format!("{}/issues/comments/{comment_id}", repo_route(repo));
        self.send(Method::Patch, &route, Some(&json!({ "body": body })))
            .await?
            .json("PATCH", &route)
    }
}
