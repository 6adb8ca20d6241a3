//! Verdicts and the report a deploy leaves behind: the log's failure report, the Markdown step
//! summary and the one-line annotation all come from one [`DeployReport`].

use serde::{Deserialize, Serialize};

use super::model::{ServiceEvent, TaskSnapshot};
use super::plan::short_arn;
use super::rollout::Outcome;
use crate::time::{format_clock, format_utc};

/// The final word on a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The new deployment is PRIMARY, on our task definition, and completed.
    Succeeded,
    /// Nothing to change.
    NoChange,
    /// `--dry-run`: the plan was shown, nothing changed.
    DryRun,
    /// The deploy failed and was not rolled back.
    Failed,
    /// The deploy failed and the service is verified back on the previous task definition.
    RolledBack,
    /// The deploy failed and so did the rollback.
    RollbackFailed,
    /// Someone else's newer deployment replaced ours.
    Superseded,
    /// Still in progress when the timeout ran out.
    TimedOut,
    /// Bad input or configuration; nothing changed.
    InvalidInput,
    /// An AWS call or other operation failed.
    Error,
}

impl Verdict {
    /// The verdict as it appears in outputs (`succeeded`, `rolled-back`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::NoChange => "no-change",
            Self::DryRun => "dry-run",
            Self::Failed => "failed",
            Self::RolledBack => "rolled-back",
            Self::RollbackFailed => "rollback-failed",
            Self::Superseded => "superseded",
            Self::TimedOut => "timed-out",
            Self::InvalidInput => "invalid-input",
            Self::Error => "error",
        }
    }

    /// Green verdicts.
    pub fn is_ok(self) -> bool {
        matches!(self, Self::Succeeded | Self::NoChange | Self::DryRun)
    }
}

/// `--rollback`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RollbackPolicy {
    /// Roll back when the deploy fails and ECS did not already.
    OnFailure,
    /// Never roll back.
    Never,
}

/// True when deckhand itself should roll back after `outcome`. It never rolls back over
/// someone else's newer deployment, nor after ECS already did.
pub fn wants_rollback(outcome: &Outcome, policy: RollbackPolicy) -> bool {
    policy == RollbackPolicy::OnFailure && matches!(outcome, Outcome::Failed { .. })
}

/// The verdict for a watched deploy that deckhand did not roll back.
pub fn verdict_of(outcome: &Outcome) -> Verdict {
    match outcome {
        Outcome::Succeeded => Verdict::Succeeded,
        Outcome::Failed { .. } => Verdict::Failed,
        Outcome::RolledBackByEcs { .. } => Verdict::RolledBack,
        Outcome::EcsRollbackFailed { .. } => Verdict::RollbackFailed,
        Outcome::Superseded { .. } => Verdict::Superseded,
    }
}

/// Who rolled back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RollbackBy {
    /// The ECS deployment circuit breaker.
    Ecs,
    /// deckhand, with `--rollback on-failure`.
    Deckhand,
}

/// What happened to the rollback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollbackReport {
    /// Who rolled back.
    pub by: RollbackBy,
    /// The task definition rolled back to.
    pub task_definition: String,
    /// The rollback deployment.
    pub deployment_id: Option<String>,
    /// The rollback deployment completed.
    pub completed: bool,
    /// Why it did not complete, when it did not.
    pub detail: Option<String>,
}

/// Everything a deploy reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployReport {
    /// Cluster.
    pub cluster: String,
    /// Service.
    pub service: String,
    /// The verdict.
    pub verdict: Verdict,
    /// One sentence saying what happened.
    pub headline: String,
    /// The task definition deployed.
    pub task_definition_arn: Option<String>,
    /// The task definition the service ran before.
    pub previous_task_definition_arn: Option<String>,
    /// Our deployment.
    pub deployment_id: Option<String>,
    /// The rollback, if any.
    pub rollback: Option<RollbackReport>,
    /// Service events since our deployment began, oldest first.
    pub events: Vec<ServiceEvent>,
    /// Stopped tasks of our deployment, most recent first.
    pub stopped_tasks: Vec<TaskSnapshot>,
}

/// How many events and stopped tasks a report shows.
const MAX_EVENTS: usize = 25;
const MAX_TASKS: usize = 5;

impl DeployReport {
    fn shown_events(&self) -> &[ServiceEvent] {
        &self.events[self.events.len().saturating_sub(MAX_EVENTS)..]
    }

    fn shown_tasks(&self) -> &[TaskSnapshot] {
        &self.stopped_tasks[..self.stopped_tasks.len().min(MAX_TASKS)]
    }

    /// The failure report for the log: why the deploy is red.
    pub fn render_failure_text(&self) -> String {
        let mut out = format!(
            "deploy of `{}` in cluster `{}`: {}\n",
            self.service, self.cluster, self.headline
        );
        if let Some(r) = &self.rollback {
            out.push_str(&format!("  rollback: {}\n", rollback_sentence(r)));
        }
        if !self.events.is_empty() {
            out.push_str("\nservice events since the deployment began:\n");
            if self.events.len() > MAX_EVENTS {
                out.push_str(&format!(
                    "  ({} earlier events not shown)\n",
                    self.events.len() - MAX_EVENTS
                ));
            }
            for e in self.shown_events() {
                out.push_str(&format!(
                    "  {}  {}\n",
                    format_clock(e.created_at_ms),
                    e.message
                ));
            }
        }
        if self.stopped_tasks.is_empty() {
            out.push_str("\nno stopped tasks of this deployment were found\n");
        } else {
            out.push_str("\nstopped tasks of this deployment (most recent first):\n");
            for t in self.shown_tasks() {
                out.push_str(&format!("  task {}\n", t.id()));
                out.push_str(&format!(
                    "    stopCode: {}\n    stoppedReason: {}\n",
                    t.stop_code.as_deref().unwrap_or("-"),
                    t.stopped_reason.as_deref().unwrap_or("-")
                ));
                for c in &t.containers {
                    out.push_str(&format!(
                        "    container {}: {}\n",
                        c.name,
                        container_outcome(c)
                    ));
                }
            }
        }
        out
    }

    /// The Markdown step summary.
    pub fn render_markdown(&self) -> String {
        let icon = if self.verdict.is_ok() { "✅" } else { "❌" };
        let mut out = format!(
            "### {icon} ecs deploy `{}` / `{}`: {}\n\n{}\n\n",
            self.cluster,
            self.service,
            self.verdict.as_str(),
            escape_md(&self.headline)
        );
        out.push_str("| | |\n|---|---|\n");
        let row = |k: &str, v: &Option<String>| {
            v.as_ref()
                .map(|v| format!("| {k} | `{}` |\n", short_arn(v)))
                .unwrap_or_default()
        };
        out.push_str(&row("task definition", &self.task_definition_arn));
        out.push_str(&row(
            "previous task definition",
            &self.previous_task_definition_arn,
        ));
        out.push_str(
            &self
                .deployment_id
                .as_ref()
                .map(|d| format!("| deployment | `{d}` |\n"))
                .unwrap_or_default(),
        );
        if let Some(r) = &self.rollback {
            out.push_str(&format!(
                "| rollback | {} |\n",
                escape_md(&rollback_sentence(r))
            ));
        }
        if !self.verdict.is_ok() {
            if !self.stopped_tasks.is_empty() {
                out.push_str("\n#### Stopped tasks\n\n| task | stopCode | stoppedReason | containers |\n|---|---|---|---|\n");
                for t in self.shown_tasks() {
                    let containers: Vec<String> = t
                        .containers
                        .iter()
                        .map(|c| format!("{}: {}", c.name, container_outcome(c)))
                        .collect();
                    out.push_str(&format!(
                        "| `{}` | {} | {} | {} |\n",
                        t.id(),
                        t.stop_code.as_deref().unwrap_or("-"),
                        escape_md(t.stopped_reason.as_deref().unwrap_or("-")),
                        escape_md(&containers.join("; "))
                    ));
                }
            }
            if !self.events.is_empty() {
                out.push_str("\n#### Service events\n\n| time (UTC) | message |\n|---|---|\n");
                for e in self.shown_events() {
                    out.push_str(&format!(
                        "| {} | {} |\n",
                        format_utc(e.created_at_ms),
                        escape_md(&e.message)
                    ));
                }
            }
        }
        out
    }

    /// One line for an `::error` annotation: the headline and the first reason a task gave.
    pub fn annotation(&self) -> String {
        let mut line = self.headline.clone();
        if let Some(t) = self.stopped_tasks.first() {
            let why = t
                .containers
                .iter()
                .find(|c| c.exit_code.is_some_and(|x| x != 0) || c.reason.is_some())
                .map(|c| format!("; container `{}` {}", c.name, container_outcome(c)))
                .unwrap_or_default();
            line.push_str(&format!(
                " (last stopped task: {}: {}{why})",
                t.stop_code.as_deref().unwrap_or("stopped"),
                t.stopped_reason.as_deref().unwrap_or("-")
            ));
        }
        line
    }
}

fn rollback_sentence(r: &RollbackReport) -> String {
    let who = match r.by {
        RollbackBy::Ecs => "the ECS circuit breaker",
        RollbackBy::Deckhand => "deckhand",
    };
    let td = short_arn(&r.task_definition);
    if r.completed {
        format!("{who} rolled back to {td}; the rollback deployment completed")
    } else {
        format!(
            "{who} rolled back to {td}, but the rollback did not complete{}",
            r.detail
                .as_ref()
                .map(|d| format!(": {d}"))
                .unwrap_or_default()
        )
    }
}

fn container_outcome(c: &super::model::ContainerState) -> String {
    let mut parts = Vec::new();
    match c.exit_code {
        Some(code) => parts.push(format!("exit code {code}")),
        None => parts.push("no exit code (never started)".to_string()),
    }
    if let Some(r) = &c.reason {
        parts.push(format!("reason: {r}"));
    }
    if let Some(h) = c.health_status.as_deref().filter(|h| *h == "UNHEALTHY") {
        parts.push(format!("health: {h}"));
    }
    parts.join(", ")
}

fn escape_md(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecs::model::ContainerState;

    fn report() -> DeployReport {
        DeployReport {
            cluster: "prod".into(),
            service: "web".into(),
            verdict: Verdict::RolledBack,
            headline: "deployment ecs-svc/2 failed: 3 tasks of deployment ecs-svc/2 failed and the circuit breaker is off (limit: 3)".into(),
            task_definition_arn: Some("arn:aws:ecs:us-east-1:1:task-definition/web:8".into()),
            previous_task_definition_arn: Some("arn:aws:ecs:us-east-1:1:task-definition/web:7".into()),
            deployment_id: Some("ecs-svc/2".into()),
            rollback: Some(RollbackReport {
                by: RollbackBy::Deckhand,
                task_definition: "arn:aws:ecs:us-east-1:1:task-definition/web:7".into(),
                deployment_id: Some("ecs-svc/3".into()),
                completed: true,
                detail: None,
            }),
            events: vec![
                ServiceEvent { id: "1".into(), created_at_ms: 1_700_000_000_000, message: "(service web) has started 1 tasks: (task abc).".into() },
                ServiceEvent { id: "2".into(), created_at_ms: 1_700_000_004_000, message: "(service web) has stopped 1 running tasks: (task abc).".into() },
            ],
            stopped_tasks: vec![
                TaskSnapshot {
                    arn: "arn:aws:ecs:us-east-1:1:task/prod/abc".into(),
                    task_definition: "arn:aws:ecs:us-east-1:1:task-definition/web:8".into(),
                    started_by: Some("ecs-svc/2".into()),
                    last_status: "STOPPED".into(),
                    stop_code: Some("EssentialContainerExited".into()),
                    stopped_reason: Some("Essential container in task exited".into()),
                    created_at_ms: None,
                    stopped_at_ms: Some(1_700_000_004_000),
                    containers: vec![
                        ContainerState { name: "app".into(), image: None, exit_code: Some(1), reason: None, health_status: None },
                        ContainerState { name: "log | router".into(), image: None, exit_code: None, reason: Some("CannotPullContainerError: not found".into()), health_status: None },
                    ],
                },
            ],
        }
    }

    #[test]
    fn failure_text() {
        insta::assert_snapshot!(report().render_failure_text());
    }

    #[test]
    fn markdown_summary() {
        insta::assert_snapshot!(report().render_markdown());
    }

    #[test]
    fn annotation_names_the_first_reason() {
        assert_eq!(
            report().annotation(),
            "deployment ecs-svc/2 failed: 3 tasks of deployment ecs-svc/2 failed and the circuit breaker is off (limit: 3) (last stopped task: EssentialContainerExited: Essential container in task exited; container `app` exit code 1)"
        );
    }

    #[test]
    fn only_plain_failures_are_rolled_back_by_deckhand() {
        let failed = Outcome::Failed { reason: "x".into() };
        assert!(wants_rollback(&failed, RollbackPolicy::OnFailure));
        assert!(!wants_rollback(&failed, RollbackPolicy::Never));
        for o in [
            Outcome::Succeeded,
            Outcome::Superseded {
                deployment_id: "d".into(),
                task_definition: "t".into(),
            },
            Outcome::RolledBackByEcs {
                deployment_id: "d".into(),
                task_definition: "t".into(),
            },
        ] {
            assert!(!wants_rollback(&o, RollbackPolicy::OnFailure), "{o:?}");
        }
    }
}
