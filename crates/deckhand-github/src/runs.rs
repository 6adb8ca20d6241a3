//! Pure helpers for following a dispatched run: which listed run is ours, and what changed in
//! its jobs between two polls. No I/O.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::model::{Job, WorkflowRun};

/// The run a dispatch started, from a listing filtered by workflow, event and branch: the
/// newest run created at or after `since` (the dispatch time less a margin for clock skew).
/// Ties on the creation second go to the higher id.
pub fn newest_run_since(runs: &[WorkflowRun], since: DateTime<Utc>) -> Option<&WorkflowRun> {
    runs.iter()
        .filter(|r| r.created_at.is_some_and(|c| c >= since))
        .max_by_key(|r| (r.created_at, r.id))
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
    fn of(job: &Job) -> Self {
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
    pub fn update(&mut self, jobs: &[Job]) -> Vec<JobChange> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: u64, created: &str) -> WorkflowRun {
        serde_json::from_value(serde_json::json!({"id": id, "created_at": created})).unwrap()
    }

    fn job(id: u64, status: &str, conclusion: Option<&str>) -> Job {
        serde_json::from_value(serde_json::json!({
            "id": id, "name": format!("job{id}"), "status": status, "conclusion": conclusion
        }))
        .unwrap()
    }

    #[test]
    fn the_newest_run_after_the_dispatch_is_ours() {
        let since: DateTime<Utc> = "2026-07-20T10:00:00Z".parse().unwrap();
        let runs = vec![
            run(1, "2026-07-20T09:59:00Z"),
            run(3, "2026-07-20T10:00:05Z"),
            run(2, "2026-07-20T10:00:01Z"),
        ];
        assert_eq!(newest_run_since(&runs, since).map(|r| r.id), Some(3));
        assert!(newest_run_since(&runs[..1], since).is_none());
        let tie = vec![
            run(8, "2026-07-20T10:00:05Z"),
            run(9, "2026-07-20T10:00:05Z"),
        ];
        assert_eq!(newest_run_since(&tie, since).map(|r| r.id), Some(9));
    }

    #[test]
    fn each_job_change_is_reported_once() {
        let mut board = JobBoard::new();
        let first = board.update(&[job(1, "queued", None), job(2, "queued", None)]);
        assert_eq!(first.len(), 2);
        assert!(
            board
                .update(&[job(1, "queued", None), job(2, "queued", None)])
                .is_empty()
        );
        let next = board.update(&[
            job(1, "completed", Some("success")),
            job(2, "in_progress", None),
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
}
