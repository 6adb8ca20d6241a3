//! `dispatch`: which listed run a dispatch started, what changed in its jobs between two
//! polls, the verdict of a completed run, and the report. The GitHub adapter turns its API
//! models into the plain [`RunView`] and [`JobView`] here; nothing here does I/O.

use std::collections::HashMap;

use serde::Serialize;

use crate::redact::{REDACTED, looks_secret};
use crate::report::{Details, Outputs, Report, escape_md};
use crate::verdict::Verdict;

/// Outputs of `dispatch`.
pub const DISPATCH_OUTPUTS: &[&str] = &["verdict", "exit-code", "run-id", "run-url", "conclusion"];

/// A workflow run as deckhand follows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RunView {
    /// Its id.
    pub id: u64,
    /// `requested`, `queued`, `in_progress`, `completed`, ...
    pub status: Option<String>,
    /// Set once completed: `success`, `failure`, `cancelled`, ...
    pub conclusion: Option<String>,
    /// Its page.
    pub html_url: Option<String>,
    /// Its number in the workflow.
    pub run_number: Option<u64>,
    /// When it was created (epoch milliseconds).
    pub created_at_ms: Option<i64>,
}

impl RunView {
    /// `status`, or `unknown`.
    pub fn status_str(&self) -> &str {
        self.status.as_deref().unwrap_or("unknown")
    }

    /// True once GitHub says `completed`.
    pub fn is_completed(&self) -> bool {
        self.status.as_deref() == Some("completed")
    }

    /// `in_progress`, or `completed (failure)` once concluded.
    pub fn describe(&self) -> String {
        match &self.conclusion {
            Some(c) if self.is_completed() => format!("{} ({c})", self.status_str()),
            _ => self.status_str().to_string(),
        }
    }
}

/// A job of the followed run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct JobView {
    /// Its id.
    pub id: u64,
    /// Its name (`build`, `deploy (web)`).
    pub name: String,
    /// `queued`, `in_progress`, `completed`, ...
    pub status: Option<String>,
    /// Set once completed.
    pub conclusion: Option<String>,
    /// Its page.
    #[serde(rename = "url")]
    pub html_url: Option<String>,
}

/// The run a dispatch started, from a listing filtered by workflow, event and branch: the
/// newest run created at or after `since_ms` (the dispatch time less a margin for clock skew).
/// Ties on the creation second go to the higher id.
pub fn newest_run_since(runs: &[RunView], since_ms: i64) -> Option<&RunView> {
    runs.iter()
        .filter(|r| r.created_at_ms.is_some_and(|c| c >= since_ms))
        .max_by_key(|r| (r.created_at_ms, r.id))
}

/// A job's state as shown: its status, and its conclusion once completed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobState {
    /// `queued`, `in_progress`, `completed`, ...
    pub status: String,
    /// Set once completed.
    pub conclusion: Option<String>,
}

impl JobState {
    fn of(job: &JobView) -> Self {
        Self {
            status: job.status.clone().unwrap_or_else(|| "unknown".into()),
            conclusion: job.conclusion.clone(),
        }
    }

    /// `queued`, `in_progress`, `completed (success)`.
    pub fn describe(&self) -> String {
        match &self.conclusion {
            Some(c) => format!("{} ({c})", self.status),
            None => self.status.clone(),
        }
    }
}

/// One job whose state changed since the last poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobChange {
    /// The job id.
    pub id: u64,
    /// The job name.
    pub name: String,
    /// The state it is in now.
    pub state: JobState,
}

/// The jobs seen so far, to report each change once.
#[derive(Debug, Default)]
pub struct JobBoard {
    seen: HashMap<u64, JobState>,
}

impl JobBoard {
    /// An empty board.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a poll's jobs; returns the ones that are new or whose state changed, in the
    /// order GitHub listed them.
    pub fn update(&mut self, jobs: &[JobView]) -> Vec<JobChange> {
        let mut changes = Vec::new();
        for job in jobs {
            let state = JobState::of(job);
            if self.seen.get(&job.id) != Some(&state) {
                self.seen.insert(job.id, state.clone());
                changes.push(JobChange {
                    id: job.id,
                    name: job.name.clone(),
                    state,
                });
            }
        }
        changes
    }
}

/// The verdict of a completed run and its headline: `success` is green, every other
/// conclusion is red, naming the jobs that did not succeed.
pub fn conclude(run: &RunView, jobs: &[JobView]) -> (Verdict, String) {
    let conclusion = run.conclusion.as_deref().unwrap_or("unknown");
    if conclusion == "success" {
        return (
            Verdict::Succeeded,
            format!("run {} concluded `success`", run.id),
        );
    }
    let bad: Vec<String> = jobs
        .iter()
        .filter(|j| {
            j.conclusion
                .as_deref()
                .is_some_and(|c| !matches!(c, "success" | "skipped" | "neutral"))
        })
        .map(|j| format!("`{}` ({})", j.name, j.conclusion.as_deref().unwrap_or("")))
        .collect();
    let headline = if bad.is_empty() {
        format!("run {} concluded `{conclusion}`", run.id)
    } else {
        format!(
            "run {} concluded `{conclusion}`: {}",
            run.id,
            bad.join(", ")
        )
    };
    (Verdict::Failed, headline)
}

/// `key=value` pairs for the log and the result, with values of secret-looking names hidden.
pub fn shown_inputs(inputs: &[(String, String)]) -> Vec<(String, String)> {
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

/// Shown inputs as a JSON object, in the order given.
#[derive(Debug, Clone, Default)]
pub struct ShownInputs(pub Vec<(String, String)>);

impl Serialize for ShownInputs {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

/// What `dispatch` knows when it ends.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DispatchReport {
    /// `OWNER/REPO`.
    pub repo: String,
    /// The workflow dispatched (`deploy.yml`), unless an event was sent.
    pub workflow: Option<String>,
    /// The branch or tag it runs on.
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    /// The `repository_dispatch` event type, when one was sent.
    pub event_type: Option<String>,
    /// The inputs, secret-looking values hidden.
    pub inputs: ShownInputs,
    /// The run, once known.
    pub run_id: Option<u64>,
    /// Its page.
    pub run_url: Option<String>,
    /// Its status at the last poll.
    pub status: Option<String>,
    /// Its conclusion, once completed.
    pub conclusion: Option<String>,
    /// Its number in the workflow.
    pub run_number: Option<u64>,
    /// Its jobs, at the last poll.
    pub jobs: Vec<JobView>,
}

impl DispatchReport {
    /// Records a poll of the run.
    pub fn observe(&mut self, run: &RunView, jobs: Vec<JobView>) {
        self.run_id = Some(run.id);
        if self.run_url.is_none() {
            self.run_url.clone_from(&run.html_url);
        }
        self.status.clone_from(&run.status);
        self.conclusion.clone_from(&run.conclusion);
        self.run_number = run.run_number;
        self.jobs = jobs;
    }
}

impl Details for DispatchReport {
    const OUTPUTS: &'static [&'static str] = DISPATCH_OUTPUTS;

    fn subject(&self) -> String {
        self.workflow
            .clone()
            .or_else(|| self.event_type.clone())
            .unwrap_or_default()
    }

    fn outputs(report: &Report<Self>, outputs: &mut Outputs) {
        let d = &report.details;
        outputs.set(
            "run-id",
            d.run_id.map(|i| i.to_string()).unwrap_or_default(),
        );
        outputs.set("run-url", d.run_url.clone().unwrap_or_default());
        outputs.set("conclusion", d.conclusion.clone().unwrap_or_default());
    }

    fn summary(report: &Report<Self>) -> String {
        let d = &report.details;
        let mut md = format!("### {} in `{}`\n\n", report.title(), d.repo);
        let run = match (d.run_id, &d.run_url) {
            (Some(id), Some(url)) => format!(" ([run {id}]({url}))"),
            (Some(id), None) => format!(" (run {id})"),
            _ => String::new(),
        };
        md.push_str(&format!(
            "**{}**{run}: {}\n",
            report.verdict, report.headline
        ));
        if !d.jobs.is_empty() {
            md.push_str("\n| job | status | conclusion |\n| --- | --- | --- |\n");
            for j in &d.jobs {
                md.push_str(&format!(
                    "| {} | {} | {} |\n",
                    escape_md(&j.name),
                    j.status.as_deref().unwrap_or(""),
                    j.conclusion.as_deref().unwrap_or("")
                ));
            }
        }
        md
    }

    /// Where to look at a run that did not succeed.
    fn hint(report: &Report<Self>) -> Option<String> {
        report.details.run_url.as_ref().map(|u| format!("see {u}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: u64, created_ms: i64) -> RunView {
        RunView {
            id,
            created_at_ms: Some(created_ms),
            ..RunView::default()
        }
    }

    fn job(id: u64, name: &str, status: &str, conclusion: Option<&str>) -> JobView {
        JobView {
            id,
            name: name.into(),
            status: Some(status.into()),
            conclusion: conclusion.map(str::to_string),
            html_url: None,
        }
    }

    fn completed(conclusion: &str) -> RunView {
        RunView {
            id: 9,
            status: Some("completed".into()),
            conclusion: Some(conclusion.into()),
            ..RunView::default()
        }
    }

    #[test]
    fn the_newest_run_after_the_dispatch_is_ours() {
        let since = 1_000_000;
        let runs = vec![
            run(1, since - 60_000),
            run(3, since + 5_000),
            run(2, since + 1_000),
        ];
        assert_eq!(newest_run_since(&runs, since).map(|r| r.id), Some(3));
        assert!(newest_run_since(&runs[..1], since).is_none());
        let tie = vec![run(8, since + 5_000), run(9, since + 5_000)];
        assert_eq!(newest_run_since(&tie, since).map(|r| r.id), Some(9));
    }

    #[test]
    fn each_job_change_is_reported_once() {
        let mut board = JobBoard::new();
        let first = board.update(&[job(1, "a", "queued", None), job(2, "b", "queued", None)]);
        assert_eq!(first.len(), 2);
        assert!(
            board
                .update(&[job(1, "a", "queued", None), job(2, "b", "queued", None)])
                .is_empty()
        );
        let next = board.update(&[
            job(1, "a", "completed", Some("success")),
            job(2, "b", "in_progress", None),
        ]);
        assert_eq!(
            next.iter()
                .map(|c| (c.id, c.state.describe()))
                .collect::<Vec<_>>(),
            vec![
                (1, "completed (success)".to_string()),
                (2, "in_progress".to_string())
            ]
        );
    }

    #[test]
    fn only_success_is_green() {
        let (v, _) = conclude(
            &completed("success"),
            &[job(1, "a", "completed", Some("success"))],
        );
        assert_eq!(v, Verdict::Succeeded);
        for c in [
            "failure",
            "cancelled",
            "timed_out",
            "startup_failure",
            "neutral",
            "skipped",
        ] {
            assert_eq!(conclude(&completed(c), &[]).0, Verdict::Failed, "{c}");
        }
        let (_, headline) = conclude(
            &completed("failure"),
            &[
                job(1, "build", "completed", Some("success")),
                job(2, "test", "completed", Some("failure")),
            ],
        );
        assert_eq!(headline, "run 9 concluded `failure`: `test` (failure)");
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

    fn followed() -> Report<DispatchReport> {
        let run = RunView {
            id: 30433642,
            run_number: Some(562),
            html_url: Some("https://github.com/octo-org/octo-repo/actions/runs/30433642".into()),
            ..completed("failure")
        };
        let jobs = vec![
            job(1, "build", "completed", Some("success")),
            job(2, "deploy | web", "completed", Some("failure")),
        ];
        let mut r = Report::new(
            "dispatch",
            DispatchReport {
                repo: "octo-org/octo-repo".into(),
                workflow: Some("deploy.yml".into()),
                git_ref: Some("main".into()),
                event_type: None,
                inputs: ShownInputs(shown_inputs(&[
                    ("environment".into(), "staging".into()),
                    ("api_token".into(), "hunter2".into()),
                ])),
                ..DispatchReport::default()
            },
        );
        let (verdict, headline) = conclude(&run, &jobs);
        r.details.observe(&run, jobs);
        r.conclude(verdict, headline);
        r
    }

    #[test]
    fn a_failed_run_names_the_job_and_points_at_the_run() {
        insta::assert_snapshot!(followed().render_text());
    }

    #[test]
    fn summary_of_a_followed_run() {
        insta::assert_snapshot!(followed().summary());
    }

    #[test]
    fn json_result_of_a_followed_run() {
        insta::assert_json_snapshot!(followed());
    }
}
