//! The report a deploy leaves behind (`ecs deploy`, `ecs diff`, `ecs rollback`, and the
//! rollout of `nginx build --deploy-*`): the log's failure report, the Markdown step summary,
//! the one-line annotation and the outputs all come from one [`DeployReport`].

use serde::{Deserialize, Serialize};

use super::model::{ServiceEvent, TaskSnapshot};
use super::plan::{DeployPlan, render_plan, short_arn};
use super::rollout::{Outcome, ProgressLine};
use super::verify::{self, VerificationReport};
use crate::report::{Details, Outputs, Report, escape_md, icon};
use crate::time::{format_clock, format_utc};
use crate::verdict::Verdict;

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

/// The headline of a watched deployment `ours` of task definition `td` that ended in
/// `outcome`.
pub fn outcome_headline(outcome: &Outcome, ours: &str, td: &str) -> String {
    let td = short_arn(td);
    match outcome {
        Outcome::Succeeded => format!("deployment {ours} of {td} completed"),
        Outcome::Failed { reason } => format!("deployment {ours} of {td} failed: {reason}"),
        Outcome::RolledBackByEcs {
            task_definition, ..
        } => format!(
            "deployment {ours} of {td} failed and the ECS circuit breaker rolled the service back to {}",
            short_arn(task_definition)
        ),
        Outcome::EcsRollbackFailed {
            task_definition,
            reason,
            ..
        } => format!(
            "deployment {ours} of {td} failed, and the ECS circuit breaker's rollback to {} failed too: {reason}",
            short_arn(task_definition)
        ),
        Outcome::Superseded {
            deployment_id,
            task_definition,
        } => format!(
            "deployment {ours} of {td} was replaced by a newer deployment {deployment_id} of {} that deckhand did not start; not rolled back",
            short_arn(task_definition)
        ),
    }
}

/// The headline of following a circuit-breaker rollback deployment (`rollback_id`) found
/// PRIMARY by a re-attached watch: the deployment before it failed.
pub fn breaker_rollback_headline(outcome: &Outcome, rollback_id: &str, td: &str) -> String {
    let td = short_arn(td);
    match outcome {
        Outcome::RolledBackByEcs { .. } => format!(
            "the service's last deployment failed and the ECS circuit breaker rolled it back to {td}; the rollback deployment {rollback_id} completed"
        ),
        Outcome::EcsRollbackFailed { reason, .. } => format!(
            "the service's last deployment failed, and the ECS circuit breaker's rollback to {td} ({rollback_id}) failed too: {reason}"
        ),
        other => outcome_headline(other, rollback_id, td),
    }
}

/// What ECS's own rollback did, for an outcome where the circuit breaker rolled back.
pub fn ecs_rollback(outcome: &Outcome) -> Option<RollbackReport> {
    match outcome {
        Outcome::RolledBackByEcs {
            deployment_id,
            task_definition,
        } => Some(RollbackReport {
            by: RollbackBy::Ecs,
            task_definition: task_definition.clone(),
            deployment_id: Some(deployment_id.clone()),
            completed: true,
            detail: None,
        }),
        Outcome::EcsRollbackFailed {
            deployment_id,
            task_definition,
            reason,
        } => Some(RollbackReport {
            by: RollbackBy::Ecs,
            task_definition: task_definition.clone(),
            deployment_id: Some(deployment_id.clone()),
            completed: false,
            detail: Some(reason.clone()),
        }),
        _ => None,
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

/// Everything a deploy reports besides its verdict and headline (which its [`Report`] holds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployReport {
    /// Cluster.
    pub cluster: String,
    /// Service.
    pub service: String,
    /// The task definition deployed.
    pub task_definition_arn: Option<String>,
    /// The task definition the service ran before.
    pub previous_task_definition_arn: Option<String>,
    /// Our deployment.
    pub deployment_id: Option<String>,
    /// Whether a new revision was registered.
    pub registered: bool,
    /// What was planned.
    pub plan: Option<DeployPlan>,
    /// The rollback, if any.
    pub rollback: Option<RollbackReport>,
    /// Service events since our deployment began, oldest first.
    pub events: Vec<ServiceEvent>,
    /// Stopped tasks of our deployment, most recent first.
    pub stopped_tasks: Vec<TaskSnapshot>,
    /// When the job was cancelled while a deployment was in progress: the command that resumes
    /// watching it.
    pub resume_command: Option<String>,
    /// Old revisions deregistered after the green verdict (`--keep-revisions`).
    pub deregistered: Vec<String>,
    /// Post-deploy verifications (target health, `--verify-url`): of the deployment, then of
    /// deckhand's rollback when it rolled back. Absent when nothing was verified.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verifications: Vec<VerificationReport>,
    /// What `--service-definition` creates or changes (absent without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_definition: Option<super::service_def::ServicePlan>,
}

/// The command that resumes watching deployment `deployment_id` of a service.
pub fn resume_command(cluster: &str, service: &str, deployment_id: &str) -> String {
    format!(
        "deckhand ecs wait --cluster {cluster} --service {service} --deployment {deployment_id}"
    )
}

/// The headline of a watch the job's cancellation (`signal`) stopped: where the deployment
/// stood.
pub fn cancelled_headline(
    signal: &str,
    deployment_id: &str,
    task_definition: &str,
    last: Option<&ProgressLine>,
) -> String {
    let stood = last
        .map(|p| {
            format!(
                " ({}/{} running, {} pending, {} failed)",
                p.running, p.desired, p.pending, p.failed
            )
        })
        .unwrap_or_default();
    format!(
        "cancelled ({signal}) while deployment {deployment_id} of {} was in progress{stood}; it goes on without deckhand",
        short_arn(task_definition)
    )
}

/// How many events and stopped tasks a report shows.
const MAX_EVENTS: usize = 25;
const MAX_TASKS: usize = 5;

/// Outputs of `ecs deploy`, `ecs diff` and `ecs rollback` (actions/ecs-deploy mirrors them).
pub const ECS_DEPLOY_OUTPUTS: &[&str] = &[
    "verdict",
    "exit-code",
    "task-definition-arn",
    "previous-task-definition-arn",
    "deployment-id",
    "failure-report",
    "plan",
];

impl DeployReport {
    /// A deploy of `service` in `cluster` that has learned nothing yet.
    pub fn new(cluster: &str, service: &str) -> Self {
        Self {
            cluster: cluster.to_string(),
            service: service.to_string(),
            task_definition_arn: None,
            previous_task_definition_arn: None,
            deployment_id: None,
            registered: false,
            plan: None,
            rollback: None,
            events: Vec::new(),
            stopped_tasks: Vec::new(),
            resume_command: None,
            deregistered: Vec::new(),
            verifications: Vec::new(),
            service_definition: None,
        }
    }

    fn shown_events(&self) -> &[ServiceEvent] {
        &self.events[self.events.len().saturating_sub(MAX_EVENTS)..]
    }

    fn shown_tasks(&self) -> &[TaskSnapshot] {
        &self.stopped_tasks[..self.stopped_tasks.len().min(MAX_TASKS)]
    }

    /// The plan as printed (environment variable values hidden unless asked, secrets redacted),
    /// for a pull request's plan comment.
    pub fn plan_text(&self) -> String {
        let mut text = self
            .plan
            .as_ref()
            .map(|p| render_plan(p, &self.cluster, &self.service))
            .unwrap_or_default();
        if let Some(s) = &self.service_definition {
            let td = s
                .create
                .then_some(self.task_definition_arn.as_deref())
                .flatten();
            text.push_str(&super::service_def::render_service_plan(
                s,
                &self.cluster,
                &self.service,
                td,
            ));
        }
        text
    }
}

impl Details for DeployReport {
    const OUTPUTS: &'static [&'static str] = ECS_DEPLOY_OUTPUTS;

    fn subject(&self) -> String {
        format!("{}/{}", self.cluster, self.service)
    }

    fn outputs(report: &Report<Self>, outputs: &mut Outputs) {
        let d = &report.details;
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        outputs.set("task-definition-arn", opt(&d.task_definition_arn));
        outputs.set(
            "previous-task-definition-arn",
            opt(&d.previous_task_definition_arn),
        );
        outputs.set("deployment-id", opt(&d.deployment_id));
        outputs.set("plan", d.plan_text());
    }

    fn summary(report: &Report<Self>) -> String {
        render_markdown(report)
    }

    fn failure_report(report: &Report<Self>) -> Option<String> {
        // A cancelled watch did not fail: there is nothing to explain but where it stood.
        (report.verdict != Verdict::Cancelled).then(|| render_failure_text(report))
    }

    fn hint(report: &Report<Self>) -> Option<String> {
        report
            .details
            .resume_command
            .as_ref()
            .map(|c| format!("resume watching with `{c}`"))
    }

    fn annotation(report: &Report<Self>) -> Option<String> {
        Some(annotation(report))
    }
}

/// The failure report for the log: why the deploy is red.
pub fn render_failure_text(report: &Report<DeployReport>) -> String {
    let d = &report.details;
    let mut out = format!(
        "deploy of `{}` in cluster `{}`: {}\n",
        d.service, d.cluster, report.headline
    );
    if let Some(r) = &d.rollback {
        out.push_str(&format!("  rollback: {}\n", rollback_sentence(r)));
    }
    for v in &d.verifications {
        out.push_str(&verify::render_text(v));
    }
    if !d.events.is_empty() {
        out.push_str("\nservice events since the deployment began:\n");
        if d.events.len() > MAX_EVENTS {
            out.push_str(&format!(
                "  ({} earlier events not shown)\n",
                d.events.len() - MAX_EVENTS
            ));
        }
        for e in d.shown_events() {
            out.push_str(&format!(
                "  {}  {}\n",
                format_clock(e.created_at_ms),
                e.message
            ));
        }
    }
    if d.stopped_tasks.is_empty() {
        out.push_str("\nno stopped tasks of this deployment were found\n");
    } else {
        out.push_str("\nstopped tasks of this deployment (most recent first):\n");
        for t in d.shown_tasks() {
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
pub fn render_markdown(report: &Report<DeployReport>) -> String {
    let d = &report.details;
    let mut out = format!(
        "### {} {} `{}` / `{}`: {}\n\n{}\n\n",
        icon(report.verdict),
        report.command,
        d.cluster,
        d.service,
        report.verdict.as_str(),
        escape_md(&report.headline)
    );
    let row = |k: &str, v: &Option<String>| {
        v.as_ref()
            .map(|v| format!("| {k} | `{}` |\n", short_arn(v)))
            .unwrap_or_default()
    };
    let mut rows = row("task definition", &d.task_definition_arn);
    rows.push_str(&row(
        "previous task definition",
        &d.previous_task_definition_arn,
    ));
    rows.push_str(
        &d.deployment_id
            .as_ref()
            .map(|id| format!("| deployment | `{id}` |\n"))
            .unwrap_or_default(),
    );
    if let Some(r) = &d.rollback {
        rows.push_str(&format!(
            "| rollback | {} |\n",
            escape_md(&rollback_sentence(r))
        ));
    }
    if !d.deregistered.is_empty() {
        let names: Vec<&str> = d.deregistered.iter().map(|a| short_arn(a)).collect();
        rows.push_str(&format!("| deregistered | {} |\n", names.join(", ")));
    }
    // A deploy that stopped before it learned anything has no table.
    if !rows.is_empty() {
        out.push_str("| | |\n|---|---|\n");
        out.push_str(&rows);
    }
    for v in &d.verifications {
        out.push_str(&verify::render_markdown(v));
    }
    if !report.verdict.is_ok() {
        if !d.stopped_tasks.is_empty() {
            out.push_str("\n#### Stopped tasks\n\n| task | stopCode | stoppedReason | containers |\n|---|---|---|---|\n");
            for t in d.shown_tasks() {
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
        if !d.events.is_empty() {
            out.push_str("\n#### Service events\n\n| time (UTC) | message |\n|---|---|\n");
            for e in d.shown_events() {
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
pub fn annotation(report: &Report<DeployReport>) -> String {
    let mut line = report.headline.clone();
    if let Some(t) = report.details.stopped_tasks.first() {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecs::model::ContainerState;

    fn report() -> Report<DeployReport> {
        let mut report = Report::new(
            "ecs deploy",
            DeployReport {
                cluster: "prod".into(),
                service: "web".into(),
                task_definition_arn: Some("arn:aws:ecs:us-east-1:1:task-definition/web:8".into()),
                previous_task_definition_arn: Some(
                    "arn:aws:ecs:us-east-1:1:task-definition/web:7".into(),
                ),
                deployment_id: Some("ecs-svc/2".into()),
                registered: true,
                plan: None,
                rollback: Some(RollbackReport {
                    by: RollbackBy::Deckhand,
                    task_definition: "arn:aws:ecs:us-east-1:1:task-definition/web:7".into(),
                    deployment_id: Some("ecs-svc/3".into()),
                    completed: true,
                    detail: None,
                }),
                events: vec![
                    ServiceEvent {
                        id: "1".into(),
                        created_at_ms: 1_700_000_000_000,
                        message: "(service web) has started 1 tasks: (task abc).".into(),
                    },
                    ServiceEvent {
                        id: "2".into(),
                        created_at_ms: 1_700_000_004_000,
                        message: "(service web) has stopped 1 running tasks: (task abc).".into(),
                    },
                ],
                stopped_tasks: vec![TaskSnapshot {
                    arn: "arn:aws:ecs:us-east-1:1:task/prod/abc".into(),
                    task_definition: "arn:aws:ecs:us-east-1:1:task-definition/web:8".into(),
                    started_by: Some("ecs-svc/2".into()),
                    last_status: "STOPPED".into(),
                    stop_code: Some("EssentialContainerExited".into()),
                    stopped_reason: Some("Essential container in task exited".into()),
                    created_at_ms: None,
                    stopped_at_ms: Some(1_700_000_004_000),
                    containers: vec![
                        ContainerState {
                            name: "app".into(),
                            image: None,
                            exit_code: Some(1),
                            reason: None,
                            health_status: None,
                        },
                        ContainerState {
                            name: "log | router".into(),
                            image: None,
                            exit_code: None,
                            reason: Some("CannotPullContainerError: not found".into()),
                            health_status: None,
                        },
                    ],
                }],
                resume_command: None,
                deregistered: Vec::new(),
                verifications: Vec::new(),
                service_definition: None,
            },
        );
        report.conclude(Verdict::RolledBack, "deployment ecs-svc/2 failed: 3 tasks of deployment ecs-svc/2 failed and the circuit breaker is off (limit: 3)");
        report
    }

    /// A cancelled watch is not a failure: no failure report, the resume command as the hint.
    #[test]
    fn a_cancelled_watch_says_where_it_stood_and_how_to_resume() {
        let mut r = Report::new("ecs deploy", DeployReport::new("prod", "web"));
        r.details.resume_command = Some(resume_command("prod", "web", "ecs-svc/7"));
        let last = ProgressLine {
            deployment_id: "ecs-svc/7".into(),
            running: 1,
            desired: 2,
            pending: 1,
            failed: 0,
            rollout_state: None,
            ecs_rollback: false,
            stage: None,
        };
        r.conclude(
            Verdict::Cancelled,
            cancelled_headline(
                "SIGTERM",
                "ecs-svc/7",
                "arn:aws:ecs:us-east-1:1:task-definition/web:8",
                Some(&last),
            ),
        );
        insta::assert_snapshot!(r.render_text());
        assert_eq!(r.exit_code().code(), 5);
    }

    #[test]
    fn failure_text() {
        insta::assert_snapshot!(render_failure_text(&report()));
    }

    #[test]
    fn markdown_summary() {
        insta::assert_snapshot!(render_markdown(&report()));
    }

    #[test]
    fn annotation_names_the_first_reason() {
        assert_eq!(
            annotation(&report()),
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
