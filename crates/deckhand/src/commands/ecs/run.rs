//! `ecs run`: load (every flag checked) -> observe (the task definition, the service's
//! placement) -> plan (core) -> register a patched revision when asked -> RunTask -> wait for
//! every task to stop (polling DescribeTasks; a cancel or the timeout stops the tasks unless
//! `--leave-tasks-running`) -> judge (core) with each container's last log lines -> report.
//! A run is not idempotent: running it again starts new tasks (docs/ecs-run.md).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use deckhand_aws::logs::LogsAdapter;
use deckhand_aws::{AwsContext, EcsAdapter, EcsError};
use deckhand_core::duration::{humanize, parse_duration};
use deckhand_core::ecs::model::TaskSnapshot;
use deckhand_core::ecs::plan::short_arn;
use deckhand_core::ecs::run::{
    CapacityProviderItem, ContainerOverride, RunLaunch, RunPlan, RunReport, TaskOutcome,
    awslogs_stream, is_essential, judge_task, render_run_plan, render_tasks, run_headline,
    run_verdict,
};
use deckhand_core::ecs::taskdef::{TaskDefPatch, TaskDefSpec};
use deckhand_core::redact::looks_secret;
use deckhand_core::report::Report;
use deckhand_core::verdict::Verdict;

use super::{aws, load_patch, observe, secret_inputs};
use crate::cancel;
use crate::cli::EcsRunArgs;
use crate::commands::aws_report;
use crate::error::{CommandError, Result, fail};
use crate::printer::Printer;

/// RunTask's limit.
const MAX_COUNT: i32 = 10;

/// Flags that passed validation; nothing has touched AWS yet.
struct RunInputs {
    patch: TaskDefPatch,
    overrides: Vec<ContainerOverride>,
    launch_flags: RunLaunch,
    timeout: Duration,
    poll: Duration,
}

/// `ecs run`.
pub(crate) async fn run(
    region: Option<String>,
    args: EcsRunArgs,
    printer: &Printer,
) -> Report<RunReport> {
    cancel::listen();
    let mut report = aws_report("ecs run", RunReport::new(&args.cluster, args.log_lines));
    let setup = async {
        let inputs = load_run_inputs(&args)?;
        printer.mask(&secret_inputs(&inputs.patch));
        printer.mask(
            &inputs
                .overrides
                .iter()
                .flat_map(|o| &o.environment)
                .filter(|(k, _)| looks_secret(k))
                .map(|(_, v)| v.clone())
                .collect::<Vec<_>>(),
        );
        let (ctx, ecs) = aws(region).await?;
        Ok::<_, CommandError>((inputs, ctx, ecs))
    };
    let (inputs, ctx, ecs) = match setup.await {
        Ok(v) => v,
        Err(e) => {
            fail(&mut report, e);
            return report;
        }
    };
    if let Err(e) = execute(&ctx, &ecs, &args, &inputs, printer, &mut report).await {
        fail(&mut report, e);
    }
    report.api_calls = Some(ctx.calls.snapshot());
    report
}

/// Parses every flag. Fails before any AWS call.
fn load_run_inputs(a: &EcsRunArgs) -> Result<RunInputs> {
    // `--image` and `--env` mean what they mean for `ecs deploy`: the same parser.
    let patch = load_patch(&a.images, &a.env)?;
    if !(1..=MAX_COUNT).contains(&a.count) {
        return Err(
            CommandError::invalid(format!("`--count {}` is out of range", a.count))
                .hint(format!("RunTask starts 1 to {MAX_COUNT} tasks per call")),
        );
    }
    let started_by_ok = !a.started_by.is_empty()
        && a.started_by.len() <= 36
        && a.started_by
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !started_by_ok {
        return Err(CommandError::invalid(format!(
            "`--started-by {}` is not 1 to 36 letters, digits, `-` or `_`",
            a.started_by
        ))
        .hint("for example `--started-by migrate-1234`"));
    }
    let mut overrides: Vec<ContainerOverride> = Vec::new();
    let mut slot = |name: &str| -> usize {
        match overrides.iter().position(|o| o.name == name) {
            Some(i) => i,
            None => {
                overrides.push(ContainerOverride {
                    name: name.to_string(),
                    ..ContainerOverride::default()
                });
                overrides.len() - 1
            }
        }
    };
    let mut parsed: Vec<(usize, OverrideValue)> = Vec::new();
    for raw in a.commands.iter().filter(|s| !s.trim().is_empty()) {
        let (container, command) = container_value(raw, "--command", "CONTAINER=COMMAND")?;
        parsed.push((
            slot(container),
            OverrideValue::Command(parse_command(raw, command)?),
        ));
    }
    for raw in a
        .override_env
        .iter()
        .map(|s| s.trim_end_matches('\r'))
        .filter(|s| !s.trim().is_empty())
    {
        let Some((container, name, value)) = raw
            .split_once(':')
            .and_then(|(c, kv)| kv.split_once('=').map(|(k, v)| (c.trim(), k.trim(), v)))
            .filter(|(c, k, _)| !c.is_empty() && !k.is_empty())
        else {
            let shown = raw
                .split_once('=')
                .map_or(raw.to_string(), |(k, _)| format!("{k}=..."));
            return Err(CommandError::invalid(format!(
                "`--override-env {shown}` is not `CONTAINER:KEY=VALUE`"
            ))
            .hint("for example `--override-env app:MIGRATE_TO=latest`"));
        };
        parsed.push((
            slot(container),
            OverrideValue::Env(name.into(), value.into()),
        ));
    }
    for (flag, values) in [("--cpu", &a.cpu), ("--memory", &a.memory)] {
        for raw in values.iter().filter(|s| !s.trim().is_empty()) {
            let (container, value) = container_value(raw, flag, "CONTAINER=NUMBER")?;
            let number: i32 = value
                .trim()
                .parse()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| {
                    CommandError::invalid(format!(
                        "`{flag} {raw}`: `{value}` is not a positive number"
                    ))
                    .hint(format!("for example `{flag} app=512`"))
                })?;
            let v = if flag == "--cpu" {
                OverrideValue::Cpu(number)
            } else {
                OverrideValue::Memory(number)
            };
            parsed.push((slot(container), v));
        }
    }
    for (i, value) in parsed {
        let o = &mut overrides[i];
        match value {
            OverrideValue::Command(c) => o.command = Some(c),
            OverrideValue::Env(k, v) => {
                o.environment.retain(|(name, _)| *name != k);
                o.environment.push((k, v));
            }
            OverrideValue::Cpu(n) => o.cpu = Some(n),
            OverrideValue::Memory(n) => o.memory = Some(n),
        }
    }
    let launch_flags = load_launch_flags(a)?;
    let d = |flag: &str, v: &str| {
        parse_duration(v).map_err(|e| CommandError::invalid(format!("`--{flag}`: {e}")))
    };
    let timeout = d("timeout", &a.timeout)?;
    let poll = d("poll-interval", &a.poll_interval)?;
    if poll.is_zero() {
        return Err(
            CommandError::invalid("`--poll-interval` must be more than 0")
                .hint("for example `--poll-interval 5s`"),
        );
    }
    Ok(RunInputs {
        patch,
        overrides,
        launch_flags,
        timeout,
        poll,
    })
}

enum OverrideValue {
    Command(Vec<String>),
    Env(String, String),
    Cpu(i32),
    Memory(i32),
}

fn container_value<'a>(raw: &'a str, flag: &str, form: &str) -> Result<(&'a str, &'a str)> {
    raw.split_once('=')
        .map(|(c, v)| (c.trim(), v))
        .filter(|(c, _)| !c.is_empty())
        .ok_or_else(|| {
            CommandError::invalid(format!("`{flag} {raw}` is not `{form}`"))
                .hint(format!("name the container: `{flag} app=...`"))
        })
}

/// `["a","b"]` (JSON) or `a b` (words).
fn parse_command(raw: &str, command: &str) -> Result<Vec<String>> {
    let trimmed = command.trim();
    let words: Vec<String> = if trimmed.starts_with('[') {
        serde_json::from_str(trimmed).map_err(|e| {
            CommandError::invalid(format!(
                "`--command {raw}`: the command is not a JSON array of strings: {e}"
            ))
            .hint(r#"for example `--command 'app=["rake","db:migrate"]'`"#)
        })?
    } else {
        trimmed.split_whitespace().map(str::to_string).collect()
    };
    if words.is_empty() {
        return Err(
            CommandError::invalid(format!("`--command {raw}` has no command"))
                .hint("for example `--command app=./migrate --all`"),
        );
    }
    Ok(words)
}

fn load_launch_flags(a: &EcsRunArgs) -> Result<RunLaunch> {
    let launch_type = match a.launch_type.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(t @ ("FARGATE" | "EC2" | "EXTERNAL")) => Some(t.to_string()),
        Some(other) => {
            return Err(CommandError::invalid(format!(
                "`--launch-type {other}` is not FARGATE, EC2 or EXTERNAL"
            ))
            .hint("or leave it out to use the service's or the cluster's default"));
        }
    };
    let mut strategy = Vec::new();
    for raw in a
        .capacity_providers
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    {
        let mut parts = raw.split(':');
        let name = parts.next().unwrap_or_default().trim().to_string();
        let number = |p: Option<&str>, default: i32| -> Option<i32> {
            p.map_or(Some(default), |v| {
                v.trim().parse().ok().filter(|n: &i32| *n >= 0)
            })
        };
        let weight = number(parts.next(), 1);
        let base = number(parts.next(), 0);
        match (name.is_empty(), weight, base, parts.next()) {
            (false, Some(weight), Some(base), None) => strategy.push(CapacityProviderItem {
                capacity_provider: name,
                weight,
                base,
            }),
            _ => {
                return Err(CommandError::invalid(format!(
                    "`--capacity-provider {raw}` is not `PROVIDER[:WEIGHT[:BASE]]`"
                ))
                .hint("for example `--capacity-provider FARGATE_SPOT:3 --capacity-provider FARGATE:1:1`"));
            }
        }
    }
    if launch_type.is_some() && !strategy.is_empty() {
        return Err(CommandError::invalid(
            "`--launch-type` and `--capacity-provider` exclude each other",
        )
        .hint("RunTask takes a launch type or a capacity provider strategy, not both"));
    }
    let clean = |v: &[String]| -> Vec<String> {
        v.iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    Ok(RunLaunch {
        launch_type,
        capacity_provider_strategy: strategy,
        platform_version: a.platform_version.clone().filter(|v| !v.trim().is_empty()),
        subnets: clean(&a.subnets),
        security_groups: clean(&a.security_groups),
        assign_public_ip: a.assign_public_ip.then(|| "ENABLED".to_string()),
    })
}

/// The service's placement with the flags over it.
fn merge_launch(service: Option<RunLaunch>, flags: &RunLaunch) -> RunLaunch {
    let mut l = service.unwrap_or_default();
    if flags.launch_type.is_some() || !flags.capacity_provider_strategy.is_empty() {
        l.launch_type.clone_from(&flags.launch_type);
        l.capacity_provider_strategy
            .clone_from(&flags.capacity_provider_strategy);
    }
    if flags.platform_version.is_some() {
        l.platform_version.clone_from(&flags.platform_version);
    }
    if !flags.subnets.is_empty() {
        l.subnets.clone_from(&flags.subnets);
    }
    if !flags.security_groups.is_empty() {
        l.security_groups.clone_from(&flags.security_groups);
    }
    if flags.assign_public_ip.is_some() {
        l.assign_public_ip.clone_from(&flags.assign_public_ip);
    }
    l
}

fn not_found_is_input(e: EcsError) -> CommandError {
    let bad_input = e.is_not_found();
    let error = CommandError::from(e);
    if bad_input {
        error
            .with_verdict(Verdict::InvalidInput)
            .hint("check `--task-definition`: a family, `family:revision` or an ARN")
    } else {
        error
    }
}

/// Observes, plans, starts the tasks and waits for them. Sets the verdict unless it fails
/// first.
async fn execute(
    ctx: &AwsContext,
    ecs: &EcsAdapter,
    args: &EcsRunArgs,
    inputs: &RunInputs,
    printer: &Printer,
    report: &mut Report<RunReport>,
) -> Result<()> {
    let cluster = args.cluster.as_str();
    printer.group(&format!("deckhand ecs run: plan in `{cluster}`"));
    let planned = plan(ecs, args, inputs).await;
    printer.end_group();
    let (plan, base, desired) = planned?;
    printer.mask(&desired.secret_values());
    printer.block(&render_run_plan(&plan));
    report.details.plan = Some(plan.redacted());
    report.details.task_definition_arn = Some(base.clone());
    if args.dry_run {
        report.conclude(Verdict::DryRun, "dry run: no task was started");
        return Ok(());
    }
    if let Some(signal) = cancel::received() {
        report.conclude(
            Verdict::Cancelled,
            format!("cancelled ({signal}) before any change: nothing registered, no task started"),
        );
        return Ok(());
    }
    let task_definition = if plan.register {
        let arn = ecs
            .register_task_definition(&desired.to_register_json())
            .await?;
        printer.line(&format!("registered {}", short_arn(&arn)));
        report.details.registered = true;
        arn
    } else {
        base
    };
    report.details.task_definition_arn = Some(task_definition.clone());
    let started = ecs.run_task(&plan, &task_definition).await;
    if plan.deregister_after {
        // The tasks (if any) run on: ECS lets an INACTIVE revision's tasks finish.
        ecs.deregister_task_definition(&task_definition).await?;
        printer.line(&format!(
            "deregistered {} (the tasks keep running; `--register` keeps it)",
            short_arn(&task_definition)
        ));
        report.details.deregistered = true;
    }
    let started = started.map_err(|e| {
        let refused = matches!(
            e.code(),
            Some("InvalidParameterException" | "ClientException")
        );
        let error = CommandError::from(e);
        if refused {
            error
                .with_verdict(Verdict::InvalidInput)
                .hint("ECS refused the run before starting any task; check the placement flags and overrides")
        } else {
            error
        }
    })?;
    let arns: Vec<String> = started.tasks.iter().map(|t| t.arn.clone()).collect();
    for (arn, reason) in &started.failures {
        printer.warning(
            "deckhand ecs run",
            &format!("RunTask could not start a task ({arn}): {reason}"),
            None,
        );
    }
    if arns.is_empty() {
        let reasons: Vec<String> = started
            .failures
            .iter()
            .map(|(arn, reason)| format!("{reason} ({arn})"))
            .collect();
        report.conclude(
            Verdict::NotStarted,
            format!(
                "RunTask started no task of {}: {}",
                short_arn(&task_definition),
                if reasons.is_empty() {
                    "no reason given".to_string()
                } else {
                    reasons.join("; ")
                }
            ),
        );
        return Ok(());
    }
    printer.line(&format!(
        "started {} task{} of {}: {}",
        arns.len(),
        if arns.len() == 1 { "" } else { "s" },
        short_arn(&task_definition),
        arns.iter()
            .map(|a| a.rsplit('/').next().unwrap_or(a))
            .collect::<Vec<_>>()
            .join(" ")
    ));
    let judge = |tasks: &[TaskSnapshot]| -> Vec<TaskOutcome> {
        tasks
            .iter()
            .map(|t| {
                judge_task(
                    t,
                    |c| essential(&desired, c),
                    |c| log_of(&desired, c, t.id()),
                )
            })
            .collect()
    };
    report.details.tasks = judge(&started.tasks);
    if args.no_wait {
        report.conclude(
            Verdict::Dispatched,
            format!(
                "started {} task{} of {}; not waiting for {} (`--no-wait`)",
                arns.len(),
                if arns.len() == 1 { "" } else { "s" },
                short_arn(&task_definition),
                if arns.len() == 1 { "it" } else { "them" }
            ),
        );
        return Ok(());
    }

    printer.group(&format!(
        "deckhand ecs run: waiting for {} task{} to stop",
        arns.len(),
        if arns.len() == 1 { "" } else { "s" }
    ));
    let end = wait_stopped(ecs, printer, cluster, &arns, inputs).await;
    printer.end_group();
    let (last, stop_for) = match end {
        WaitEnd::Stopped(tasks) => (tasks, None),
        WaitEnd::Cancelled(signal, tasks) => (tasks, Some(Interrupted::Cancelled(signal))),
        WaitEnd::TimedOut(tasks) => (tasks, Some(Interrupted::TimedOut)),
        WaitEnd::Error(e, tasks) => {
            report.details.tasks = judge(&tasks);
            return Err(e);
        }
    };
    let d = &mut report.details;
    let Some(interrupted) = stop_for else {
        d.tasks = judge(&last);
        read_log_tails(ctx, &mut d.tasks, args.log_lines).await;
        let verdict = run_verdict(&d.tasks);
        let headline = run_headline(verdict, &d.tasks, &task_definition);
        if verdict.is_ok() {
            printer.block(&render_tasks(&d.tasks));
        }
        report.conclude(verdict, headline);
        return Ok(());
    };
    // Cancelled or timed out: stop what still runs, unless told to leave it.
    let live: Vec<String> = last
        .iter()
        .filter(|t| t.last_status != "STOPPED")
        .map(|t| t.arn.clone())
        .collect();
    let why = match interrupted {
        Interrupted::Cancelled(signal) => format!("the job was cancelled ({signal})"),
        Interrupted::TimedOut => format!("still running after {}", humanize(inputs.timeout)),
    };
    let mut tail = String::new();
    let mut tasks = last;
    if live.is_empty() {
        tail.push_str("; every task had already stopped");
    } else if args.leave_tasks_running {
        tail.push_str(&format!(
            "; left {} task{} running (`--leave-tasks-running`)",
            live.len(),
            if live.len() == 1 { "" } else { "s" }
        ));
    } else {
        let reason = format!("deckhand ecs run ({}): {why}", args.started_by);
        let mut stopped = Vec::new();
        let mut errors = Vec::new();
        for arn in &live {
            match ecs.stop_task(cluster, arn, &reason).await {
                Ok(()) => stopped.push(arn.clone()),
                Err(e) => errors.push(e.to_string()),
            }
        }
        printer.line(&format!(
            "stopped {} task{}: {reason}",
            stopped.len(),
            if stopped.len() == 1 { "" } else { "s" }
        ));
        tail.push_str(&format!(
            "; stopped {} task{}",
            stopped.len(),
            if stopped.len() == 1 { "" } else { "s" }
        ));
        if !errors.is_empty() {
            tail.push_str(&format!(
                "; could not stop {}: {}",
                errors.len(),
                errors.join("; ")
            ));
        }
        d.stopped_by_deckhand = stopped;
        d.stop_reason = Some(reason);
        if let Ok(now) = ecs.describe_tasks(cluster, &arns).await {
            tasks = now;
        }
    }
    d.tasks = judge(&tasks);
    read_log_tails(ctx, &mut d.tasks, args.log_lines).await;
    let (verdict, what) = match interrupted {
        Interrupted::Cancelled(signal) => (
            Verdict::Cancelled,
            format!(
                "cancelled ({signal}) while waiting for the tasks of {}",
                short_arn(&task_definition)
            ),
        ),
        Interrupted::TimedOut => (
            Verdict::TimedOut,
            format!(
                "the tasks of {} were still running after {}",
                short_arn(&task_definition),
                humanize(inputs.timeout)
            ),
        ),
    };
    report.conclude(verdict, format!("{what}{tail}"));
    Ok(())
}

#[derive(Clone, Copy)]
enum Interrupted {
    Cancelled(&'static str),
    TimedOut,
}

fn essential(spec: &TaskDefSpec, container: &str) -> bool {
    spec.container_definitions()
        .find(|c| c.get("name").and_then(|n| n.as_str()) == Some(container))
        .is_none_or(is_essential)
}

fn log_of(
    spec: &TaskDefSpec,
    container: &str,
    task_id: &str,
) -> Option<deckhand_core::ecs::run::LogStream> {
    spec.container_definitions()
        .find(|c| c.get("name").and_then(|n| n.as_str()) == Some(container))
        .and_then(|c| awslogs_stream(c, task_id))
}

/// The task definition to run, its patched form, and the plan.
async fn plan(
    ecs: &EcsAdapter,
    args: &EcsRunArgs,
    inputs: &RunInputs,
) -> Result<(RunPlan, String, TaskDefSpec)> {
    let cluster = args.cluster.as_str();
    let (service_td, service_launch, launch_from) = match &args.service {
        Some(service) => {
            // A missing cluster or service is bad input (exit 2), as for `ecs deploy`.
            let observed = observe(ecs, cluster, service).await?;
            let launch = ecs.service_launch(cluster, service).await?;
            (
                Some((observed.live_arn, observed.live)),
                launch,
                format!("service {cluster}/{service}"),
            )
        }
        None => {
            if ecs.observe_cluster(cluster).await?.is_none() {
                return Err(
                    CommandError::invalid(format!("cluster `{cluster}` not found"))
                        .on(cluster.to_string())
                        .hint("check `--cluster` and the region"),
                );
            }
            (None, None, "flags".to_string())
        }
    };
    let (base_arn, base) = match (&args.task_definition, service_td) {
        (Some(reference), _) => {
            let described = ecs
                .describe_task_definition(reference)
                .await
                .map_err(not_found_is_input)?;
            let arn = described
                .task_definition
                .get("taskDefinitionArn")
                .and_then(|v| v.as_str())
                .unwrap_or(reference)
                .to_string();
            let status = described
                .task_definition
                .get("status")
                .and_then(|v| v.as_str())
                .unwrap_or("ACTIVE");
            if status != "ACTIVE" {
                return Err(CommandError::invalid(format!(
                    "task definition {} is {status}: ECS runs no new task of it",
                    short_arn(&arn)
                ))
                .on(arn.clone())
                .hint(
                    "run an ACTIVE revision, or give `--image`/`--env` to register a patched one",
                ));
            }
            let spec =
                TaskDefSpec::from_described(&described.task_definition, described.tags.as_ref())
                    .map_err(|e| CommandError::failed(e.to_string()).on(arn.clone()))?;
            (arn, spec)
        }
        (None, Some(service_td)) => service_td,
        (None, None) => {
            return Err(CommandError::invalid("no task definition to run")
                .hint("give `--task-definition` or `--service`"));
        }
    };
    let mut desired = base.clone();
    desired
        .apply(&inputs.patch)
        .map_err(|e| CommandError::invalid(e.to_string()).hint_opt(e.hint()))?;
    let names = desired.container_names();
    for o in &inputs.overrides {
        if !names.contains(&o.name) {
            return Err(CommandError::invalid(format!(
                "container `{}` is not in task definition {}",
                o.name,
                short_arn(&base_arn)
            ))
            .on(base_arn.clone())
            .hint(format!("its containers: {}", names.join(", "))));
        }
    }
    let launch = merge_launch(service_launch, &inputs.launch_flags);
    let awsvpc = desired.field("networkMode").and_then(|v| v.as_str()) == Some("awsvpc");
    if awsvpc && launch.subnets.is_empty() {
        return Err(CommandError::invalid(format!(
            "task definition {} uses the awsvpc network mode and no subnet is given",
            short_arn(&base_arn)
        ))
        .hint("give `--subnet` (and `--security-group`), or `--service` to copy a service's"));
    }
    let register = !desired.same_as(&base);
    let plan = RunPlan {
        cluster: cluster.to_string(),
        task_definition: base_arn.clone(),
        register,
        deregister_after: register && !args.register,
        count: args.count,
        launch,
        launch_from,
        overrides: inputs.overrides.clone(),
        started_by: args.started_by.clone(),
    };
    Ok((plan, base_arn, desired))
}

enum WaitEnd {
    Stopped(Vec<TaskSnapshot>),
    Cancelled(&'static str, Vec<TaskSnapshot>),
    TimedOut(Vec<TaskSnapshot>),
    Error(CommandError, Vec<TaskSnapshot>),
}

/// Polls DescribeTasks until every task is STOPPED, the job is cancelled, or the timeout.
async fn wait_stopped(
    ecs: &EcsAdapter,
    printer: &Printer,
    cluster: &str,
    arns: &[String],
    inputs: &RunInputs,
) -> WaitEnd {
    let deadline = Instant::now() + inputs.timeout;
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut last: Vec<TaskSnapshot> = Vec::new();
    loop {
        let polled = tokio::select! {
            polled = ecs.describe_tasks(cluster, arns) => polled,
            signal = cancel::requested() => return WaitEnd::Cancelled(signal, last),
        };
        match polled {
            Ok(tasks) => last = tasks,
            Err(e) => return WaitEnd::Error(e.into(), last),
        }
        for t in &last {
            let status = match &t.stop_code {
                Some(code) if t.last_status == "STOPPED" => format!("STOPPED ({code})"),
                _ => t.last_status.clone(),
            };
            if seen.get(&t.arn) != Some(&status) {
                printer.line(&format!("task {}: {status}", t.id()));
                seen.insert(t.arn.clone(), status);
            }
        }
        if last.len() == arns.len() && last.iter().all(|t| t.last_status == "STOPPED") {
            return WaitEnd::Stopped(last);
        }
        let now = Instant::now();
        if now >= deadline {
            return WaitEnd::TimedOut(last);
        }
        tokio::select! {
            signal = cancel::requested() => return WaitEnd::Cancelled(signal, last),
            () = tokio::time::sleep(inputs.poll.min(deadline - now)) => {}
        }
    }
}

/// Reads the last lines of every container's log into the outcomes. A log that cannot be
/// read is noted, never fatal: the verdict comes from ECS.
async fn read_log_tails(ctx: &AwsContext, tasks: &mut [TaskOutcome], lines: u32) {
    if lines == 0 {
        return;
    }
    let mut clients: BTreeMap<String, LogsAdapter> = BTreeMap::new();
    for c in tasks.iter_mut().flat_map(|t| t.containers.iter_mut()) {
        let Some(log) = c.log.clone() else {
            continue;
        };
        let region = log.region.clone().unwrap_or_default();
        let logs = clients.entry(region.clone()).or_insert_with(|| {
            if region.is_empty() {
                LogsAdapter::new(ctx)
            } else {
                LogsAdapter::new(&ctx.in_region(&region))
            }
        });
        match logs.tail(&log.group, &log.stream, lines).await {
            Ok(tail) => c.log_tail = tail,
            Err(e) => c.log_error = Some(e.to_string()),
        }
    }
}
