//! The result every `ecs` command leaves on every exit path: log lines, `$GITHUB_OUTPUT`,
//! the step summary, one `::error` annotation, and the `--output json` object.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use deckhand_core::ecs::plan::{DeployPlan, render_plan};
use deckhand_core::ecs::report::{DeployReport, Verdict};
use serde_json::json;

use crate::exit::ExitStatus;
use crate::gha::ECS_DEPLOY_OUTPUTS;
use crate::printer::Printer;

/// A problem that ended the command before a verdict on the rollout.
#[derive(Debug, Clone)]
pub(crate) struct Problem {
    pub(crate) message: String,
    pub(crate) hint: Option<String>,
}

impl Problem {
    pub(crate) fn new(message: impl Into<String>, hint: Option<String>) -> Self {
        Self {
            message: message.into(),
            hint,
        }
    }

    /// The problem as step-summary Markdown.
    pub(crate) fn markdown(&self) -> String {
        let hint = self
            .hint
            .as_ref()
            .map(|h| format!("\n**hint:** {h}\n"))
            .unwrap_or_default();
        format!("\n**error:** {}\n{hint}", self.message)
    }
}

/// Bad input (exit 2), for commands that end with an exit status and a problem.
pub(crate) fn invalid_input(
    message: impl Into<String>,
    hint: Option<&str>,
) -> (ExitStatus, Problem) {
    (
        ExitStatus::InvalidInput,
        Problem::new(message, hint.map(str::to_string)),
    )
}

/// The text of a file flag, where `-` means stdin; `what` names the content and `flag` the
/// flag in the errors (both bad input).
pub(crate) fn read_file_or_stdin(
    path: &str,
    what: &str,
    flag: &str,
) -> Result<String, (ExitStatus, Problem)> {
    if path == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
            .map_err(|e| invalid_input(format!("cannot read the {what} from stdin: {e}"), None))?;
        return Ok(text);
    }
    std::fs::read_to_string(path).map_err(|e| {
        invalid_input(
            format!("cannot read `{path}`: {e}"),
            Some(&format!("check `{flag}`")),
        )
    })
}

/// Loads the AWS settings; a missing region is bad configuration (exit 2), caught before any
/// call.
pub(crate) async fn aws_context(
    region: Option<String>,
) -> Result<deckhand_aws::AwsContext, Problem> {
    let ctx = deckhand_aws::load_context(region).await;
    if ctx.sdk.region().is_none() {
        return Err(Problem::new(
            "no AWS region is set",
            Some("pass `--region`, or set AWS_REGION (aws-actions/configure-aws-credentials sets it)".into()),
        ));
    }
    Ok(ctx)
}

/// Everything known at the end of a command.
#[derive(Debug)]
pub(crate) struct CommandResult {
    pub(crate) command: &'static str,
    pub(crate) report: DeployReport,
    pub(crate) plan: Option<DeployPlan>,
    pub(crate) registered: bool,
    pub(crate) problem: Option<Problem>,
    pub(crate) api_calls: BTreeMap<String, u64>,
    pub(crate) elapsed: Duration,
}

impl CommandResult {
    pub(crate) fn new(command: &'static str, cluster: &str, service: &str) -> Self {
        Self {
            command,
            report: DeployReport {
                cluster: cluster.to_string(),
                service: service.to_string(),
                verdict: Verdict::Error,
                headline: String::new(),
                task_definition_arn: None,
                previous_task_definition_arn: None,
                deployment_id: None,
                rollback: None,
                events: Vec::new(),
                stopped_tasks: Vec::new(),
            },
            plan: None,
            registered: false,
            problem: None,
            api_calls: BTreeMap::new(),
            elapsed: Duration::ZERO,
        }
    }

    /// Ends with bad input (exit 2) or an operational error (exit 1).
    pub(crate) fn fail(mut self, verdict: Verdict, problem: Problem) -> Self {
        self.report.verdict = verdict;
        self.report.headline.clone_from(&problem.message);
        self.problem = Some(problem);
        self
    }

    /// Prints and writes everything, returns the exit status.
    pub(crate) fn finish(self, printer: &Printer) -> ExitStatus {
        let status = ExitStatus::from(self.report.verdict);
        let verdict = self.report.verdict;
        let title = format!(
            "deckhand {} {}/{}",
            self.command, self.report.cluster, self.report.service
        );

        match &self.problem {
            Some(p) => printer.error_block(&title, &p.message, p.hint.as_deref()),
            None if !verdict.is_ok() => {
                printer.block(&format!("\n{}", self.report.render_failure_text()));
                printer.error_block(&title, &self.report.annotation(), None);
            }
            None => printer.line(&format!("{}: {}", verdict.as_str(), self.report.headline)),
        }

        let failure_report = if verdict.is_ok() || self.problem.is_some() {
            self.problem
                .as_ref()
                .map(|p| p.message.clone())
                .unwrap_or_default()
        } else {
            self.report.render_failure_text()
        };
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let outputs = [
            ("verdict", verdict.as_str().to_string()),
            ("exit-code", status.code().to_string()),
            ("task-definition-arn", opt(&self.report.task_definition_arn)),
            (
                "previous-task-definition-arn",
                opt(&self.report.previous_task_definition_arn),
            ),
            ("deployment-id", opt(&self.report.deployment_id)),
            ("failure-report", failure_report),
            // What was planned (redacted like the log), for a pull request's plan comment.
            (
                "plan",
                self.plan
                    .as_ref()
                    .map(|p| render_plan(p, &self.report.cluster, &self.report.service))
                    .unwrap_or_default(),
            ),
        ];
        let mut summary = self.report.render_markdown();
        if let Some(p) = &self.problem {
            summary.push_str(&p.markdown());
        }
        printer.publish(&outputs, ECS_DEPLOY_OUTPUTS, &summary);

        let total: u64 = self.api_calls.values().sum();
        printer.detail(&format!("aws api calls: {total} {:?}", self.api_calls));
        if printer.is_json() {
            let decided_at_ms = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis());
            printer.json(&json!({
                "command": self.command,
                "cluster": self.report.cluster,
                "service": self.report.service,
                "verdict": verdict.as_str(),
                "exit_code": status.code(),
                "headline": self.report.headline,
                "task_definition_arn": self.report.task_definition_arn,
                "previous_task_definition_arn": self.report.previous_task_definition_arn,
                "deployment_id": self.report.deployment_id,
                "registered": self.registered,
                "plan": self.plan,
                "rollback": self.report.rollback,
                "events": self.report.events,
                "stopped_tasks": self.report.stopped_tasks,
                "error": self.problem.as_ref().map(|p| json!({"message": p.message, "hint": p.hint})),
                "api_calls": {"total": total, "by_operation": self.api_calls},
                "elapsed_seconds": self.elapsed.as_secs_f64(),
                "decided_at_ms": decided_at_ms,
            }));
        }
        status
    }
}
