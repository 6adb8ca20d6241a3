//! `ecs run`: the plan of a one-off task (which revision, how many, where, with which
//! overrides), the judgement of its stopped tasks (per task and per container, the verdict),
//! and its report: the log, the step summary, the JSON result and the outputs.
//!
//! Verdicts (docs/exit-codes.md): `succeeded` when every task ran and every essential container
//! exited 0; `failed` (exit 1) when a task ran and an essential container exited non-zero or
//! without an exit code; `not-started` (exit 6) when no task failed after running but at least
//! one never started (`TaskFailedToStart`: an image that cannot be pulled, a missing log group,
//! no capacity), which a workflow may retry without re-running the job's work twice.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::model::TaskSnapshot;
use super::plan::short_arn;
use crate::redact::looks_secret;
use crate::report::{Details, Outputs, Report, escape_md, icon};
use crate::verdict::Verdict;

/// Where and how the tasks run (RunTask's placement parameters), copied from a service or
/// given by flags.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunLaunch {
    /// `FARGATE`, `EC2` or `EXTERNAL`; none when a capacity provider strategy is used.
    pub launch_type: Option<String>,
    /// Capacity provider strategy items.
    pub capacity_provider_strategy: Vec<CapacityProviderItem>,
    /// Fargate platform version.
    pub platform_version: Option<String>,
    /// `awsvpc` subnets; empty for other network modes.
    pub subnets: Vec<String>,
    /// `awsvpc` security groups.
    pub security_groups: Vec<String>,
    /// `awsvpc` public IP assignment (`ENABLED` or `DISABLED`).
    pub assign_public_ip: Option<String>,
}

/// One item of a capacity provider strategy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapacityProviderItem {
    /// The capacity provider.
    pub capacity_provider: String,
    /// Relative weight.
    pub weight: i32,
    /// Tasks placed on it first.
    pub base: i32,
}

/// `--command`, `--override-env`, `--cpu`, `--memory` for one container.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerOverride {
    /// The container.
    pub name: String,
    /// The command that replaces the container's.
    pub command: Option<Vec<String>>,
    /// Environment variables set for this run only.
    pub environment: Vec<(String, String)>,
    /// CPU units.
    pub cpu: Option<i32>,
    /// Memory (MiB).
    pub memory: Option<i32>,
}

/// Everything a run does, decided before any task starts (`--dry-run` shows it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunPlan {
    /// The cluster.
    pub cluster: String,
    /// The revision the tasks run, as given or as the service runs it; when a patched revision
    /// is registered, the revision it was patched from.
    pub task_definition: String,
    /// A patched revision is registered first (`--image`/`--env` changed the task definition).
    pub register: bool,
    /// The patched revision is deregistered once the tasks were started (no `--register`).
    pub deregister_after: bool,
    /// Tasks to start.
    pub count: i32,
    /// Placement.
    pub launch: RunLaunch,
    /// Where the placement came from: `service prod/web`, or `flags`.
    pub launch_from: String,
    /// Per-container overrides.
    pub overrides: Vec<ContainerOverride>,
    /// RunTask's `startedBy`, which names the run in ListTasks.
    pub started_by: String,
}

impl RunPlan {
    /// The plan as reports show it: the values of secret-looking override variables
    /// (`DB_PASSWORD`, `API_TOKEN`, ...) replaced by `***`. The command line or workflow holds
    /// the others already; RunTask gets the real plan.
    #[must_use]
    pub fn redacted(&self) -> Self {
        let mut plan = self.clone();
        for (name, value) in plan
            .overrides
            .iter_mut()
            .flat_map(|o| o.environment.iter_mut())
        {
            if looks_secret(name) {
                *value = "***".to_string();
            }
        }
        plan
    }
}

/// Renders the plan for the log (and `--dry-run`), secret-looking values as `***`.
pub fn render_run_plan(plan: &RunPlan) -> String {
    let plan = &plan.redacted();
    let mut out = format!(
        "run {} task{} of {} in cluster `{}`{}\n",
        plan.count,
        if plan.count == 1 { "" } else { "s" },
        short_arn(&plan.task_definition),
        plan.cluster,
        if plan.register {
            if plan.deregister_after {
                " (patched: a new revision is registered, and deregistered once the tasks started)"
            } else {
                " (patched: a new revision is registered and kept)"
            }
        } else {
            ""
        }
    );
    let l = &plan.launch;
    let placement = match (&l.launch_type, l.capacity_provider_strategy.is_empty()) {
        (Some(t), _) => format!("launch type {t}"),
        (None, false) => format!(
            "capacity providers {}",
            l.capacity_provider_strategy
                .iter()
                .map(|c| format!(
                    "{} (weight {}, base {})",
                    c.capacity_provider, c.weight, c.base
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        (None, true) => "the cluster's default capacity provider strategy".to_string(),
    };
    out.push_str(&format!(
        "  placement: {placement} (from {})\n",
        plan.launch_from
    ));
    if let Some(v) = &l.platform_version {
        out.push_str(&format!("  platform version: {v}\n"));
    }
    if !l.subnets.is_empty() {
        out.push_str(&format!(
            "  network: subnets {}; security groups {}; public IP {}\n",
            l.subnets.join(", "),
            if l.security_groups.is_empty() {
                "(VPC default)".to_string()
            } else {
                l.security_groups.join(", ")
            },
            l.assign_public_ip.as_deref().unwrap_or("DISABLED")
        ));
    }
    for o in &plan.overrides {
        if let Some(command) = &o.command {
            out.push_str(&format!("  {}: command {}\n", o.name, shell_words(command)));
        }
        for (k, v) in &o.environment {
            out.push_str(&format!("  {}: env {k}={v}\n", o.name));
        }
        if let Some(cpu) = o.cpu {
            out.push_str(&format!("  {}: cpu {cpu}\n", o.name));
        }
        if let Some(memory) = o.memory {
            out.push_str(&format!("  {}: memory {memory} MiB\n", o.name));
        }
    }
    out.push_str(&format!("  started by: {}\n", plan.started_by));
    out
}

fn shell_words(words: &[String]) -> String {
    words
        .iter()
        .map(|w| {
            if !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c))
            {
                w.clone()
            } else {
                format!("'{}'", w.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// RunTask's `overrides` member for the plan's container overrides.
pub fn overrides_json(overrides: &[ContainerOverride]) -> Value {
    let containers: Vec<Value> = overrides
        .iter()
        .map(|o| {
            let mut c = Map::new();
            c.insert("name".into(), Value::String(o.name.clone()));
            if let Some(command) = &o.command {
                c.insert("command".into(), serde_json::json!(command));
            }
            if !o.environment.is_empty() {
                let env: Vec<Value> = o
                    .environment
                    .iter()
                    .map(|(k, v)| serde_json::json!({"name": k, "value": v}))
                    .collect();
                c.insert("environment".into(), Value::Array(env));
            }
            if let Some(cpu) = o.cpu {
                c.insert("cpu".into(), cpu.into());
            }
            if let Some(memory) = o.memory {
                c.insert("memory".into(), memory.into());
            }
            Value::Object(c)
        })
        .collect();
    serde_json::json!({ "containerOverrides": containers })
}

/// Where the `awslogs` driver writes a container's output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogStream {
    /// The log group.
    pub group: String,
    /// The stream: `PREFIX/CONTAINER/TASK-ID`.
    pub stream: String,
    /// The group's region, when the driver names one.
    pub region: Option<String>,
}

/// The awslogs stream of `container_definition` in task `task_id`; `None` without the
/// `awslogs` driver, or without `awslogs-stream-prefix` (the stream is then named after the
/// Docker container id, which DescribeTasks does not report for every launch type).
pub fn awslogs_stream(
    container_definition: &Map<String, Value>,
    task_id: &str,
) -> Option<LogStream> {
    let config = container_definition.get("logConfiguration")?;
    if config.get("logDriver").and_then(Value::as_str) != Some("awslogs") {
        return None;
    }
    let options = config.get("options")?;
    let get = |k: &str| options.get(k).and_then(Value::as_str).map(str::to_string);
    let name = container_definition.get("name").and_then(Value::as_str)?;
    Some(LogStream {
        group: get("awslogs-group")?,
        stream: format!("{}/{name}/{task_id}", get("awslogs-stream-prefix")?),
        region: get("awslogs-region"),
    })
}

/// Whether a container definition is essential (ECS's default is yes).
pub fn is_essential(container_definition: &Map<String, Value>) -> bool {
    container_definition
        .get("essential")
        .and_then(Value::as_bool)
        .unwrap_or(true)
}

/// How one task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TaskResult {
    /// Every essential container exited 0.
    Succeeded,
    /// It ran, and an essential container exited non-zero or without an exit code.
    Failed,
    /// It never started (`TaskFailedToStart`).
    NotStarted,
    /// Still PENDING or RUNNING.
    Running,
}

/// A container's end, with the last lines of its log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerOutcome {
    /// The container.
    pub name: String,
    /// Its task stops when it exits.
    pub essential: bool,
    /// Its exit code; none when it never ran (or has not stopped).
    pub exit_code: Option<i32>,
    /// ECS's reason, when it gives one.
    pub reason: Option<String>,
    /// Where its log is, when the awslogs driver writes it.
    pub log: Option<LogStream>,
    /// The last lines of that log, oldest first.
    pub log_tail: Vec<String>,
    /// Why the log could not be read, when it could not.
    pub log_error: Option<String>,
}

/// One task's end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskOutcome {
    /// The task ARN.
    pub task_arn: String,
    /// `PENDING`, `RUNNING` or `STOPPED`.
    pub last_status: String,
    /// How it ended.
    pub result: TaskResult,
    /// ECS's stop code.
    pub stop_code: Option<String>,
    /// ECS's stopped reason.
    pub stopped_reason: Option<String>,
    /// Its containers, in definition order.
    pub containers: Vec<ContainerOutcome>,
}

impl TaskOutcome {
    /// The task id.
    pub fn id(&self) -> &str {
        self.task_arn.rsplit('/').next().unwrap_or(&self.task_arn)
    }
}

/// Judges one observed task: `essential` says which containers are essential (by name) and
/// `logs` where each container logs.
pub fn judge_task(
    task: &TaskSnapshot,
    essential: impl Fn(&str) -> bool,
    log: impl Fn(&str) -> Option<LogStream>,
) -> TaskOutcome {
    let containers: Vec<ContainerOutcome> = task
        .containers
        .iter()
        .map(|c| ContainerOutcome {
            name: c.name.clone(),
            essential: essential(&c.name),
            exit_code: c.exit_code,
            reason: c.reason.clone(),
            log: log(&c.name),
            log_tail: Vec::new(),
            log_error: None,
        })
        .collect();
    let result = if task.last_status != "STOPPED" {
        TaskResult::Running
    } else if task.stop_code.as_deref() == Some("TaskFailedToStart") {
        TaskResult::NotStarted
    } else if containers
        .iter()
        .filter(|c| c.essential)
        .all(|c| c.exit_code == Some(0))
    {
        TaskResult::Succeeded
    } else {
        TaskResult::Failed
    };
    TaskOutcome {
        task_arn: task.arn.clone(),
        last_status: task.last_status.clone(),
        result,
        stop_code: task.stop_code.clone(),
        stopped_reason: task.stopped_reason.clone(),
        containers,
    }
}

/// The verdict of a run whose tasks all stopped: `failed` when any task failed after running,
/// else `not-started` when any never started, else `succeeded`.
pub fn run_verdict(tasks: &[TaskOutcome]) -> Verdict {
    if tasks.iter().any(|t| t.result == TaskResult::Failed) {
        Verdict::Failed
    } else if tasks.iter().any(|t| t.result == TaskResult::NotStarted) {
        Verdict::NotStarted
    } else if tasks.iter().all(|t| t.result == TaskResult::Succeeded) && !tasks.is_empty() {
        Verdict::Succeeded
    } else {
        Verdict::Failed
    }
}

/// The headline of a run whose tasks all stopped.
pub fn run_headline(verdict: Verdict, tasks: &[TaskOutcome], task_definition: &str) -> String {
    let td = short_arn(task_definition);
    let n = tasks.len();
    let of = |r: TaskResult| tasks.iter().filter(|t| t.result == r).count();
    match verdict {
        Verdict::Succeeded if n == 1 => format!("task of {td} exited 0"),
        Verdict::Succeeded => format!("{n} tasks of {td} exited 0"),
        Verdict::NotStarted => {
            let first = tasks
                .iter()
                .find(|t| t.result == TaskResult::NotStarted)
                .and_then(|t| t.stopped_reason.clone())
                .unwrap_or_default();
            if n == 1 {
                format!("task of {td} never started: {first}")
            } else {
                format!(
                    "{} of {n} tasks of {td} never started: {first}",
                    of(TaskResult::NotStarted)
                )
            }
        }
        _ => {
            let failed: Vec<String> = tasks
                .iter()
                .filter(|t| t.result == TaskResult::Failed)
                .flat_map(|t| {
                    t.containers
                        .iter()
                        .filter(|c| c.essential && c.exit_code != Some(0))
                        .map(|c| match c.exit_code {
                            Some(code) => format!("`{}` exited {code}", c.name),
                            None => format!("`{}` stopped without an exit code", c.name),
                        })
                })
                .collect();
            let failed = dedup(failed).join(", ");
            if n == 1 {
                format!("task of {td} failed: {failed}")
            } else {
                format!(
                    "{} of {n} tasks of {td} failed: {failed}",
                    of(TaskResult::Failed)
                )
            }
        }
    }
}

fn dedup(mut v: Vec<String>) -> Vec<String> {
    let mut seen = Vec::new();
    v.retain(|s| {
        if seen.contains(s) {
            false
        } else {
            seen.push(s.clone());
            true
        }
    });
    v
}

/// What `ecs run` reports.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunReport {
    /// The cluster.
    pub cluster: String,
    /// The revision the tasks ran (the registered one when patched).
    pub task_definition_arn: Option<String>,
    /// A patched revision was registered.
    pub registered: bool,
    /// It was deregistered again after the tasks started.
    pub deregistered: bool,
    /// The plan.
    pub plan: Option<RunPlan>,
    /// Every task started, in RunTask's order.
    pub tasks: Vec<TaskOutcome>,
    /// The tasks deckhand stopped (cancelled or timed out) and why.
    pub stopped_by_deckhand: Vec<String>,
    /// The reason given to StopTask when deckhand stopped tasks.
    pub stop_reason: Option<String>,
    /// Log lines asked per container.
    pub log_lines: u32,
}

impl RunReport {
    /// An empty report for `cluster`.
    pub fn new(cluster: &str, log_lines: u32) -> Self {
        Self {
            cluster: cluster.to_string(),
            log_lines,
            ..Self::default()
        }
    }

    fn task_definition(&self) -> String {
        self.task_definition_arn
            .clone()
            .or_else(|| self.plan.as_ref().map(|p| p.task_definition.clone()))
            .unwrap_or_default()
    }
}

/// Text of every task: status, stop code and reason, each container's exit and log tail.
pub fn render_tasks(tasks: &[TaskOutcome]) -> String {
    let mut out = String::new();
    for t in tasks {
        out.push_str(&format!("task {}: {}", t.id(), t.last_status));
        if let Some(code) = &t.stop_code {
            out.push_str(&format!(", {code}"));
        }
        if let Some(reason) = &t.stopped_reason {
            out.push_str(&format!(": {reason}"));
        }
        out.push('\n');
        for c in &t.containers {
            let exit = c
                .exit_code
                .map_or_else(|| "no exit code".to_string(), |e| format!("exit {e}"));
            let role = if c.essential {
                "essential"
            } else {
                "not essential"
            };
            out.push_str(&format!("  container {} ({role}): {exit}", c.name));
            if let Some(r) = &c.reason {
                out.push_str(&format!(": {r}"));
            }
            out.push('\n');
            match (&c.log, &c.log_error) {
                (_, Some(e)) => out.push_str(&format!("    log: {e}\n")),
                (Some(l), None) if c.log_tail.is_empty() => {
                    out.push_str(&format!(
                        "    no log lines in stream {} of log group {}\n",
                        l.stream, l.group
                    ));
                }
                (Some(l), None) => {
                    out.push_str(&format!(
                        "    last {} log line{} (stream {} of log group {}):\n",
                        c.log_tail.len(),
                        if c.log_tail.len() == 1 { "" } else { "s" },
                        l.stream,
                        l.group
                    ));
                    for line in &c.log_tail {
                        out.push_str(&format!("      {line}\n"));
                    }
                }
                (None, None) => {}
            }
        }
    }
    out
}

/// The outputs of `ecs run` (actions/ecs-run mirrors them).
pub const ECS_RUN_OUTPUTS: &[&str] = &[
    "verdict",
    "exit-code",
    "task-arns",
    "exit-codes",
    "task-definition",
    "failure-report",
];

impl Details for RunReport {
    const OUTPUTS: &'static [&'static str] = ECS_RUN_OUTPUTS;

    fn subject(&self) -> String {
        let td = self.task_definition();
        if td.is_empty() {
            self.cluster.clone()
        } else {
            format!("{} in {}", short_arn(&td), self.cluster)
        }
    }

    fn outputs(report: &Report<Self>, outputs: &mut Outputs) {
        let d = &report.details;
        let arns: Vec<&str> = d.tasks.iter().map(|t| t.task_arn.as_str()).collect();
        outputs.set("task-arns", serde_json::json!(arns).to_string());
        let codes: Vec<Value> = d
            .tasks
            .iter()
            .map(|t| {
                Value::Object(
                    t.containers
                        .iter()
                        .map(|c| (c.name.clone(), serde_json::json!(c.exit_code)))
                        .collect(),
                )
            })
            .collect();
        outputs.set("exit-codes", Value::Array(codes).to_string());
        outputs.set(
            "task-definition",
            d.task_definition_arn.clone().unwrap_or_default(),
        );
    }

    fn summary(report: &Report<Self>) -> String {
        let d = &report.details;
        let mut md = format!(
            "### {} deckhand ecs run `{}` in `{}`: {}\n\n{}\n",
            icon(report.verdict),
            short_arn(&d.task_definition()),
            d.cluster,
            report.verdict,
            escape_md(&report.headline)
        );
        if !d.tasks.is_empty() {
            md.push_str("\n| task | status | stop code | reason |\n| --- | --- | --- | --- |\n");
            for t in &d.tasks {
                md.push_str(&format!(
                    "| `{}` | {} | {} | {} |\n",
                    t.id(),
                    t.last_status,
                    t.stop_code.as_deref().unwrap_or(""),
                    escape_md(t.stopped_reason.as_deref().unwrap_or(""))
                ));
            }
            md.push_str("\n| task | container | essential | exit code | reason |\n| --- | --- | --- | --- | --- |\n");
            for t in &d.tasks {
                for c in &t.containers {
                    md.push_str(&format!(
                        "| `{}` | `{}` | {} | {} | {} |\n",
                        &t.id()[..t.id().len().min(8)],
                        c.name,
                        if c.essential { "yes" } else { "no" },
                        c.exit_code
                            .map_or_else(|| "-".to_string(), |e| e.to_string()),
                        escape_md(c.reason.as_deref().unwrap_or(""))
                    ));
                }
            }
            for t in &d.tasks {
                for c in t.containers.iter().filter(|c| !c.log_tail.is_empty()) {
                    let open = if t.result == TaskResult::Succeeded {
                        ""
                    } else {
                        " open"
                    };
                    md.push_str(&format!(
                        "\n<details{open}><summary>last {} log lines of <code>{}</code> in task <code>{}</code></summary>\n\n```text\n{}\n```\n\n</details>\n",
                        c.log_tail.len(),
                        c.name,
                        t.id(),
                        c.log_tail.join("\n").replace("```", "` ` `")
                    ));
                }
            }
        }
        if !d.stopped_by_deckhand.is_empty() {
            md.push_str(&format!(
                "\ndeckhand stopped {} task{}: {}\n",
                d.stopped_by_deckhand.len(),
                if d.stopped_by_deckhand.len() == 1 {
                    ""
                } else {
                    "s"
                },
                d.stop_reason.as_deref().unwrap_or("")
            ));
        }
        md
    }

    fn failure_report(report: &Report<Self>) -> Option<String> {
        let failed: Vec<TaskOutcome> = report
            .details
            .tasks
            .iter()
            .filter(|t| t.result != TaskResult::Succeeded)
            .cloned()
            .collect();
        (!failed.is_empty()).then(|| render_tasks(&failed))
    }

    fn hint(report: &Report<Self>) -> Option<String> {
        match report.verdict {
            Verdict::NotStarted => Some(
                "the task never ran: check the image, the log group and the task's execution role (docs/ecs-run.md)".into(),
            ),
            Verdict::Failed => Some("the container's log lines are above; the full log is in CloudWatch Logs".into()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecs::model::ContainerState;

    fn task(
        id: &str,
        stop_code: Option<&str>,
        reason: Option<&str>,
        exits: &[(&str, Option<i32>)],
    ) -> TaskSnapshot {
        TaskSnapshot {
            arn: format!("arn:aws:ecs:us-east-1:123456789012:task/prod/{id}"),
            task_definition: "arn:aws:ecs:us-east-1:123456789012:task-definition/migrate:7".into(),
            started_by: Some("deckhand-run".into()),
            last_status: "STOPPED".into(),
            stop_code: stop_code.map(str::to_string),
            stopped_reason: reason.map(str::to_string),
            created_at_ms: Some(0),
            stopped_at_ms: Some(1000),
            containers: exits
                .iter()
                .map(|(name, exit)| ContainerState {
                    name: (*name).into(),
                    image: None,
                    exit_code: *exit,
                    reason: None,
                    health_status: None,
                })
                .collect(),
        }
    }

    fn judged(t: &TaskSnapshot, lines: &[&str]) -> TaskOutcome {
        let mut o = judge_task(
            t,
            |n| n == "app",
            |n| {
                (n == "app").then(|| LogStream {
                    group: "/ecs/migrate".into(),
                    stream: format!("run/app/{}", t.id()),
                    region: None,
                })
            },
        );
        for c in o.containers.iter_mut().filter(|c| c.name == "app") {
            c.log_tail = lines.iter().map(|l| l.to_string()).collect();
        }
        o
    }

    const EXITED: &str = "Essential container in task exited";

    #[test]
    fn essential_containers_decide_and_never_started_is_its_own_verdict() {
        let ok = judged(
            &task(
                "a1",
                Some("EssentialContainerExited"),
                Some(EXITED),
                &[("app", Some(0)), ("side", Some(2))],
            ),
            &[],
        );
        assert_eq!(ok.result, TaskResult::Succeeded);
        let bad = judged(
            &task(
                "b2",
                Some("EssentialContainerExited"),
                Some(EXITED),
                &[("app", Some(3))],
            ),
            &[],
        );
        assert_eq!(bad.result, TaskResult::Failed);
        let pull = judged(
            &task(
                "c3",
                Some("TaskFailedToStart"),
                Some("CannotPullContainerError: x"),
                &[("app", None)],
            ),
            &[],
        );
        assert_eq!(pull.result, TaskResult::NotStarted);
        let stopped = judged(
            &task(
                "d4",
                Some("UserInitiated"),
                Some("by someone"),
                &[("app", Some(143))],
            ),
            &[],
        );
        assert_eq!(stopped.result, TaskResult::Failed);
        assert_eq!(run_verdict(std::slice::from_ref(&ok)), Verdict::Succeeded);
        assert_eq!(
            run_verdict(&[ok.clone(), pull.clone()]),
            Verdict::NotStarted
        );
        assert_eq!(run_verdict(&[pull.clone(), bad.clone()]), Verdict::Failed);
        assert_eq!(run_verdict(&[]), Verdict::Failed);
        assert_eq!(
            run_headline(
                Verdict::Failed,
                &[ok.clone(), bad],
                "arn:aws:ecs:us-east-1:1:task-definition/migrate:7"
            ),
            "1 of 2 tasks of migrate:7 failed: `app` exited 3"
        );
        assert_eq!(
            run_headline(Verdict::NotStarted, &[pull], "migrate:7"),
            "task of migrate:7 never started: CannotPullContainerError: x"
        );
    }

    #[test]
    fn the_awslogs_stream_is_prefix_container_task() {
        let def: Map<String, Value> = serde_json::from_value(serde_json::json!({
            "name": "app",
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": "/ecs/app", "awslogs-stream-prefix": "web", "awslogs-region": "eu-west-1"}}
        }))
        .unwrap();
        assert_eq!(
            awslogs_stream(&def, "abc"),
            Some(LogStream {
                group: "/ecs/app".into(),
                stream: "web/app/abc".into(),
                region: Some("eu-west-1".into())
            })
        );
        let no_prefix: Map<String, Value> = serde_json::from_value(serde_json::json!({
            "name": "app", "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/g"}}
        }))
        .unwrap();
        assert_eq!(awslogs_stream(&no_prefix, "abc"), None);
        assert!(is_essential(&no_prefix));
    }

    fn plan() -> RunPlan {
        RunPlan {
            cluster: "prod".into(),
            task_definition: "arn:aws:ecs:us-east-1:123456789012:task-definition/migrate:7".into(),
            register: true,
            deregister_after: true,
            count: 1,
            launch: RunLaunch {
                launch_type: Some("FARGATE".into()),
                platform_version: Some("1.4.0".into()),
                subnets: vec!["subnet-1".into()],
                security_groups: vec!["sg-1".into()],
                ..RunLaunch::default()
            },
            launch_from: "service prod/web".into(),
            overrides: vec![ContainerOverride {
                name: "app".into(),
                command: Some(vec![
                    "migrate".into(),
                    "--to".into(),
                    "latest version".into(),
                ]),
                environment: vec![
                    ("DB_PASSWORD".into(), "hunter2".into()),
                    ("STEP".into(), "1".into()),
                ],
                cpu: None,
                memory: Some(512),
            }],
            started_by: "deckhand-run".into(),
        }
    }

    #[test]
    fn the_plan_hides_secret_values_and_quotes_the_command() {
        let text = render_run_plan(&plan());
        assert!(!text.contains("hunter2"), "{text}");
        let json = serde_json::to_string(&plan().redacted()).unwrap();
        assert!(!json.contains("hunter2"), "{json}");
        insta::assert_snapshot!(text);
        assert_eq!(
            overrides_json(&plan().overrides)["containerOverrides"][0]["memory"],
            serde_json::json!(512)
        );
    }

    fn failed_report() -> Report<RunReport> {
        let mut r = Report::new("ecs run", RunReport::new("prod", 20));
        r.details.plan = Some(plan());
        r.details.task_definition_arn =
            Some("arn:aws:ecs:us-east-1:123456789012:task-definition/migrate:8".into());
        r.details.registered = true;
        r.details.tasks = vec![judged(
            &task(
                "0a1b2c3d4e5f",
                Some("EssentialContainerExited"),
                Some(EXITED),
                &[("app", Some(3)), ("side", Some(0))],
            ),
            &[
                "applying 0042_add_index",
                "ERROR: relation \"users\" does not exist",
            ],
        )];
        let headline = run_headline(Verdict::Failed, &r.details.tasks, "migrate:8");
        r.conclude(Verdict::Failed, headline);
        r
    }

    #[test]
    fn a_failed_migration_shows_its_exit_code_and_log_lines() {
        let r = failed_report();
        insta::assert_snapshot!("run_failure_text", r.render_text());
        insta::assert_snapshot!("run_failure_summary", r.summary());
        let outputs = r.outputs();
        assert_eq!(outputs.get("exit-code"), Some("1"));
        assert_eq!(outputs.get("exit-codes"), Some(r#"[{"app":3,"side":0}]"#));
        assert_eq!(
            outputs.get("task-arns"),
            Some(r#"["arn:aws:ecs:us-east-1:123456789012:task/prod/0a1b2c3d4e5f"]"#)
        );
        assert!(
            outputs
                .get("failure-report")
                .unwrap()
                .contains("relation \"users\"")
        );
    }

    #[test]
    fn a_task_that_never_started_exits_6() {
        let mut r = Report::new("ecs run", RunReport::new("prod", 20));
        r.details.task_definition_arn = Some("migrate:8".into());
        r.details.tasks = vec![judged(
            &task(
                "ff00",
                Some("TaskFailedToStart"),
                Some(
                    "CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref x: not found",
                ),
                &[("app", None)],
            ),
            &[],
        )];
        let v = run_verdict(&r.details.tasks);
        let headline = run_headline(v, &r.details.tasks, "migrate:8");
        r.conclude(v, headline);
        assert_eq!(r.exit_code().code(), 6);
        insta::assert_snapshot!("run_not_started_text", r.render_text());
    }
}
