//! `ecs deploy`, `ecs diff`, `ecs rollback`: load -> observe -> plan -> apply -> watch.

use std::path::Path;
use std::time::{Duration, Instant};

use deckhand_aws::ecs::ServiceUpdate;
use deckhand_aws::{AwsContext, EcsAdapter, EcsError};
use deckhand_core::deployment_record::RecordSpec;
use deckhand_core::document::parse_document;
use deckhand_core::duration::parse_duration;
use deckhand_core::ecs::model::{ServiceSnapshot, TaskSnapshot};
use deckhand_core::ecs::plan::{
    DeployOptions, DeployPlan, check_target, live_task_definition, plan_deploy, render_plan,
    short_arn,
};
use deckhand_core::ecs::report::{
    RollbackBy, RollbackPolicy, RollbackReport, Verdict, verdict_of, wants_rollback,
};
use deckhand_core::ecs::rollout::{Outcome, ProgressLine, RolloutWatch, WatchSpec};
use deckhand_core::ecs::taskdef::{EnvOverride, ImageOverride, TaskDefPatch, TaskDefSpec};
use deckhand_core::image_ref::ImageRef;
use deckhand_core::redact::looks_secret;
use deckhand_core::time::format_clock;

use super::result::{CommandResult, Problem};
use crate::cli::{
    DeployArgs, DiffArgs, EcsDeployArgs, RollbackArgs, RollbackMode, TargetArgs, WatchArgs,
};
use crate::exit::ExitStatus;
use crate::gha::ECS_DEPLOY_OUTPUTS;
use crate::github_records;
use crate::printer::Printer;

/// Inputs that passed validation; nothing has touched AWS yet.
struct DeployInputs {
    patch: TaskDefPatch,
    file: Option<TaskDefSpec>,
    options: DeployOptions,
}

struct WatchTiming {
    timeout: Duration,
    poll: Duration,
    max_task_failures: u32,
}

fn invalid(message: impl Into<String>, hint: Option<String>) -> Problem {
    Problem::new(message, hint)
}

/// Parses every flag. Fails before any AWS call.
fn load_inputs(t: &TargetArgs) -> Result<DeployInputs, Problem> {
    let mut patch = TaskDefPatch::default();
    for raw in t.images.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        let (container, image) = match raw.split_once('=') {
            Some((c, i)) => (Some(c.trim().to_string()), i.trim()),
            None => (None, raw),
        };
        if container.as_deref() == Some("") {
            return Err(invalid(
                format!("`--image {raw}` has an empty container name"),
                Some("use `--image CONTAINER=IMAGE`".into()),
            ));
        }
        let image = ImageRef::parse(image).map_err(|e| {
            invalid(
                e.to_string(),
                Some(
                    "an image looks like `registry/repository:tag` or `repository@sha256:...`"
                        .into(),
                ),
            )
        })?;
        patch.images.push(ImageOverride { container, image });
    }
    for raw in t
        .env
        .iter()
        .map(|s| s.trim_end_matches('\r'))
        .filter(|s| !s.trim().is_empty())
    {
        let parsed = raw
            .split_once(':')
            .and_then(|(c, kv)| kv.split_once('=').map(|(k, v)| (c.trim(), k.trim(), v)))
            .filter(|(c, k, _)| !c.is_empty() && !k.is_empty());
        let Some((container, name, value)) = parsed else {
            let shown = raw
                .split_once('=')
                .map_or(raw.to_string(), |(k, _)| format!("{k}=..."));
            return Err(invalid(
                format!("`--env {shown}` is not `CONTAINER:KEY=VALUE`"),
                Some("for example `--env web:LOG_LEVEL=debug`".into()),
            ));
        };
        patch.env.push(EnvOverride {
            container: container.into(),
            name: name.into(),
            value: value.into(),
        });
    }
    let file = match &t.task_definition {
        None => None,
        Some(path) => Some(load_task_definition_file(path)?),
    };
    if let Some(count) = t.desired_count
        && count < 0
    {
        return Err(invalid(
            format!("desired count {count} is negative"),
            Some("use `--desired-count 0` or more".into()),
        ));
    }
    Ok(DeployInputs {
        patch,
        file,
        options: DeployOptions {
            desired_count: t.desired_count,
            force_new_deployment: t.force_new_deployment,
        },
    })
}

fn load_task_definition_file(path: &Path) -> Result<TaskDefSpec, Problem> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        invalid(
            format!("cannot read task definition file `{}`: {e}", path.display()),
            Some("check `--task-definition`".into()),
        )
    })?;
    let doc = parse_document(path, &text).map_err(|e| {
        invalid(
            format!("task definition file {e}"),
            Some("the file must be JSON (`.json`) or YAML in RegisterTaskDefinition shape".into()),
        )
    })?;
    TaskDefSpec::from_document(&doc, &path.display().to_string())
        .map_err(|e| invalid(e.to_string(), e.hint()))
}

fn load_timing(w: &WatchArgs) -> Result<WatchTiming, Problem> {
    let d = |flag: &str, v: &str| {
        parse_duration(v).map_err(|e| invalid(format!("`--{flag}`: {e}"), None))
    };
    let timing = WatchTiming {
        timeout: d("timeout", &w.timeout)?,
        poll: d("poll-interval", &w.poll_interval)?,
        max_task_failures: w.max_task_failures,
    };
    if timing.poll.is_zero() {
        return Err(invalid(
            "`--poll-interval` must be more than 0",
            Some("for example `--poll-interval 5s`".into()),
        ));
    }
    Ok(timing)
}

/// Values the runner must mask before anything prints them.
fn secret_inputs(patch: &TaskDefPatch) -> Vec<String> {
    patch
        .env
        .iter()
        .filter(|e| looks_secret(&e.name))
        .map(|e| e.value.clone())
        .collect()
}

/// Loads the AWS settings; a missing region is bad configuration (exit 2), caught before any call.
async fn aws(region: Option<String>) -> Result<(AwsContext, EcsAdapter), Problem> {
    let ctx = super::result::aws_context(region).await?;
    let ecs = EcsAdapter::new(&ctx);
    Ok((ctx, ecs))
}

fn aws_problem(e: &EcsError) -> Problem {
    let hint = match e.code() {
        Some("AccessDeniedException") => Some(
            "the credentials lack a permission; docs/iam.md lists what each command needs".into(),
        ),
        Some(
            "UnrecognizedClientException" | "InvalidSignatureException" | "ExpiredTokenException",
        ) => Some(
            "check the AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID or the OIDC role)".into(),
        ),
        _ if e.to_string().contains("credentials") => {
            Some("no usable AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID, or assume a role with OIDC".into())
        }
        _ => None,
    };
    Problem::new(e.to_string(), hint)
}

/// The live state a deploy starts from.
struct Observed {
    service: ServiceSnapshot,
    live_arn: String,
    live: TaskDefSpec,
}

/// Reads cluster, service and the live task definition. `Err((verdict, problem))` says how to
/// end: input errors (the target does not exist) are exit 2.
async fn observe(
    ecs: &EcsAdapter,
    cluster: &str,
    service: &str,
) -> Result<Observed, (Verdict, Problem)> {
    let op = |e: EcsError| {
        let verdict = if e.is_not_found() {
            Verdict::InvalidInput
        } else {
            Verdict::Error
        };
        (verdict, aws_problem(&e))
    };
    let cluster_state = ecs.observe_cluster(cluster).await.map_err(op)?;
    let service_state = if cluster_state.is_some() {
        ecs.observe_service(cluster, service).await.map_err(op)?
    } else {
        None
    };
    check_target(
        cluster,
        service,
        cluster_state.as_ref(),
        service_state.as_ref(),
    )
    .map_err(|e| (Verdict::InvalidInput, Problem::new(e.to_string(), e.hint())))?;
    let service_state = service_state.expect("BUG: check_target accepted a missing service");
    let Some(live_arn) = live_task_definition(&service_state) else {
        return Err((
            Verdict::InvalidInput,
            Problem::new(format!("service `{service}` has no task definition"), None),
        ));
    };
    let described = ecs.describe_task_definition(&live_arn).await.map_err(op)?;
    let live = TaskDefSpec::from_described(&described.task_definition, described.tags.as_ref())
        .map_err(|e| (Verdict::Error, Problem::new(e.to_string(), None)))?;
    Ok(Observed {
        service: service_state,
        live_arn,
        live,
    })
}

pub(crate) async fn diff(region: Option<String>, args: DiffArgs, printer: &Printer) -> ExitStatus {
    let started = Instant::now();
    let t = &args.target;
    let mut result = CommandResult::new("ecs diff", &t.cluster, &t.service);
    let inputs = match load_inputs(t) {
        Ok(i) => i,
        Err(p) => return result.fail(Verdict::InvalidInput, p).finish(printer),
    };
    printer.mask(&secret_inputs(&inputs.patch));
    let (ctx, ecs) = match aws(region).await {
        Ok(v) => v,
        Err(p) => return result.fail(Verdict::InvalidInput, p).finish(printer),
    };
    let result = match prepare(&ecs, t, &inputs, printer, &mut result).await {
        Err((verdict, p)) => result.fail(verdict, p),
        Ok((plan, _, _)) => {
            result.report.verdict = if plan.is_no_op() {
                Verdict::NoChange
            } else {
                Verdict::DryRun
            };
            result.report.headline = if plan.is_no_op() {
                "nothing would change".into()
            } else {
                "changes shown; nothing was changed".into()
            };
            result.plan = Some(plan);
            result
        }
    };
    done(result, &ctx, started, printer)
}

fn done(
    mut result: CommandResult,
    ctx: &AwsContext,
    started: Instant,
    printer: &Printer,
) -> ExitStatus {
    result.api_calls = ctx.calls.snapshot();
    result.elapsed = started.elapsed();
    result.finish(printer)
}

/// Observe and plan; prints the plan.
async fn prepare(
    ecs: &EcsAdapter,
    t: &TargetArgs,
    inputs: &DeployInputs,
    printer: &Printer,
    result: &mut CommandResult,
) -> Result<(DeployPlan, Observed, TaskDefSpec), (Verdict, Problem)> {
    let observed = observe(ecs, &t.cluster, &t.service).await?;
    printer.mask(&observed.live.secret_values());
    result.report.previous_task_definition_arn = Some(observed.live_arn.clone());
    let mut desired = inputs.file.clone().unwrap_or_else(|| observed.live.clone());
    desired
        .apply(&inputs.patch)
        .map_err(|e| (Verdict::InvalidInput, Problem::new(e.to_string(), e.hint())))?;
    let plan = plan_deploy(
        &observed.live,
        &observed.live_arn,
        &desired,
        &observed.service,
        inputs.options,
    )
    .map_err(|e| (Verdict::InvalidInput, Problem::new(e.to_string(), e.hint())))?;
    printer.block(&render_plan(&plan, &t.cluster, &t.service));
    Ok((plan, observed, desired))
}

/// `ecs deploy`, with its GitHub deployment record when one is wanted (docs/github.md).
pub(crate) async fn deploy(
    region: Option<String>,
    args: impl Into<EcsDeployArgs>,
    printer: &Printer,
) -> ExitStatus {
    let EcsDeployArgs {
        deploy: args,
        github,
    } = args.into();
    // No record for a dry run or for flags that fail validation (nothing is changed then).
    let will_deploy =
        !args.dry_run && load_inputs(&args.target).is_ok() && load_timing(&args.watch).is_ok();
    let spec = will_deploy.then(|| {
        RecordSpec::ecs_deploy(
            &args.target.cluster,
            &args.target.service,
            &args.target.images,
        )
    });
    github_records::recorded(&github, spec, ECS_DEPLOY_OUTPUTS, printer, async |p| {
        deploy_once(region, args, p).await
    })
    .await
}

async fn deploy_once(region: Option<String>, args: DeployArgs, printer: &Printer) -> ExitStatus {
    let started = Instant::now();
    let t = &args.target;
    let mut result = CommandResult::new("ecs deploy", &t.cluster, &t.service);
    let loaded = load_inputs(t).and_then(|i| load_timing(&args.watch).map(|w| (i, w)));
    let (inputs, timing) = match loaded {
        Ok(v) => v,
        Err(p) => return result.fail(Verdict::InvalidInput, p).finish(printer),
    };
    printer.mask(&secret_inputs(&inputs.patch));
    let (ctx, ecs) = match aws(region).await {
        Ok(v) => v,
        Err(p) => return result.fail(Verdict::InvalidInput, p).finish(printer),
    };

    printer.group(&format!(
        "deckhand ecs deploy: plan for `{}` in `{}`",
        t.service, t.cluster
    ));
    let prepared = prepare(&ecs, t, &inputs, printer, &mut result).await;
    printer.end_group();
    let (plan, observed, desired) = match prepared {
        Ok(v) => v,
        Err((verdict, p)) => return done(result.fail(verdict, p), &ctx, started, printer),
    };
    result.plan = Some(plan.clone());
    result.report.task_definition_arn = Some(observed.live_arn.clone());
    if args.dry_run {
        result.report.verdict = Verdict::DryRun;
        result.report.headline = "dry run: the plan above was not applied".into();
        return done(result, &ctx, started, printer);
    }
    if plan.is_no_op() {
        result.report.verdict = Verdict::NoChange;
        result.report.headline = format!(
            "service already runs {}; nothing registered, nothing updated",
            short_arn(&observed.live_arn)
        );
        return done(result, &ctx, started, printer);
    }

    // Apply.
    let target_arn = if plan.register {
        match ecs
            .register_task_definition(&desired.to_register_json())
            .await
        {
            Ok(arn) => {
                printer.line(&format!("registered {}", short_arn(&arn)));
                result.registered = true;
                arn
            }
            Err(e) => {
                return done(
                    result.fail(Verdict::Error, aws_problem(&e)),
                    &ctx,
                    started,
                    printer,
                );
            }
        }
    } else {
        observed.live_arn.clone()
    };
    result.report.task_definition_arn = Some(target_arn.clone());
    let update = ServiceUpdate {
        task_definition: (plan.register || plan.force_new_deployment).then(|| target_arn.clone()),
        desired_count: plan.desired_count.map(|(_, to)| to),
        force_new_deployment: plan.force_new_deployment,
    };
    let response = match ecs.update_service(&t.cluster, &t.service, &update).await {
        Ok(s) => s,
        Err(e) => {
            return done(
                result.fail(Verdict::Error, aws_problem(&e)),
                &ctx,
                started,
                printer,
            );
        }
    };
    let Some(ours) = response.primary().cloned() else {
        let p = Problem::new(
            format!(
                "UpdateService for `{}` returned no PRIMARY deployment to watch",
                t.service
            ),
            None,
        );
        return done(result.fail(Verdict::Error, p), &ctx, started, printer);
    };
    result.report.deployment_id = Some(ours.id.clone());
    printer.line(&format!(
        "updated service `{}`: watching deployment {} of {}",
        t.service,
        ours.id,
        short_arn(&target_arn)
    ));

    let spec = WatchSpec {
        deployment_id: ours.id.clone(),
        task_definition: target_arn.clone(),
        started_at_ms: ours.created_at_ms.unwrap_or_else(start_fallback_ms),
        max_task_failures: timing.max_task_failures,
        scale_only: plan.scale_only,
    };
    printer.group(&format!("deckhand ecs deploy: rollout of {}", ours.id));
    let (watch, end) = watch_rollout(&ecs, printer, &t.cluster, &t.service, spec, &timing).await;
    printer.end_group();
    result.report.events = watch.events().to_vec();

    let outcome = match end {
        WatchEnd::Outcome(o) => o,
        WatchEnd::TimedOut => {
            result.report.verdict = Verdict::TimedOut;
            result.report.headline = format!(
                "deployment {} was still in progress after {}; it was not rolled back",
                ours.id,
                humanize(timing.timeout)
            );
            result.report.stopped_tasks =
                final_stopped_tasks(&ecs, &t.cluster, &t.service, &watch).await;
            return done(result, &ctx, started, printer);
        }
        WatchEnd::Error(p) => {
            result.report.stopped_tasks = watch.stopped_tasks();
            return done(result.fail(Verdict::Error, p), &ctx, started, printer);
        }
    };
    result.report.verdict = verdict_of(&outcome);
    result.report.headline = headline(&outcome, &ours.id, &target_arn);
    if let Outcome::RolledBackByEcs {
        deployment_id,
        task_definition,
    }
    | Outcome::EcsRollbackFailed {
        deployment_id,
        task_definition,
        ..
    } = &outcome
    {
        result.report.rollback = Some(RollbackReport {
            by: RollbackBy::Ecs,
            task_definition: task_definition.clone(),
            deployment_id: Some(deployment_id.clone()),
            completed: matches!(outcome, Outcome::RolledBackByEcs { .. }),
            detail: match &outcome {
                Outcome::EcsRollbackFailed { reason, .. } => Some(reason.clone()),
                _ => None,
            },
        });
    }
    if !outcome.is_success() {
        result.report.stopped_tasks =
            final_stopped_tasks(&ecs, &t.cluster, &t.service, &watch).await;
    }
    let policy = match args.rollback {
        RollbackMode::OnFailure => RollbackPolicy::OnFailure,
        RollbackMode::Never => RollbackPolicy::Never,
    };
    if wants_rollback(&outcome, policy) {
        let rollback = roll_back(
            &ecs,
            printer,
            &t.cluster,
            &t.service,
            &observed.live_arn,
            &timing,
        )
        .await;
        result.report.verdict = if rollback.completed {
            Verdict::RolledBack
        } else {
            Verdict::RollbackFailed
        };
        result.report.rollback = Some(rollback);
    }
    done(result, &ctx, started, printer)
}

fn headline(outcome: &Outcome, ours: &str, td: &str) -> String {
    match outcome {
        Outcome::Succeeded => format!("deployment {ours} of {} completed", short_arn(td)),
        Outcome::Failed { reason } => {
            format!("deployment {ours} of {} failed: {reason}", short_arn(td))
        }
        Outcome::RolledBackByEcs {
            task_definition, ..
        } => format!(
            "deployment {ours} of {} failed and the ECS circuit breaker rolled the service back to {}",
            short_arn(td),
            short_arn(task_definition)
        ),
        Outcome::EcsRollbackFailed {
            task_definition,
            reason,
            ..
        } => format!(
            "deployment {ours} of {} failed, and the ECS circuit breaker's rollback to {} failed too: {reason}",
            short_arn(td),
            short_arn(task_definition)
        ),
        Outcome::Superseded {
            deployment_id,
            task_definition,
        } => format!(
            "deployment {ours} of {} was replaced by a newer deployment {deployment_id} of {} that deckhand did not start; not rolled back",
            short_arn(td),
            short_arn(task_definition)
        ),
    }
}

/// deckhand's own rollback: UpdateService back to the task definition that was PRIMARY before
/// the deploy, watched to completion like any deploy. The target is never deregistered.
async fn roll_back(
    ecs: &EcsAdapter,
    printer: &Printer,
    cluster: &str,
    service: &str,
    previous: &str,
    timing: &WatchTiming,
) -> RollbackReport {
    let mut report = RollbackReport {
        by: RollbackBy::Deckhand,
        task_definition: previous.to_string(),
        deployment_id: None,
        completed: false,
        detail: None,
    };
    printer.line(&format!(
        "rolling back `{service}` to {}",
        short_arn(previous)
    ));
    let update = ServiceUpdate {
        task_definition: Some(previous.to_string()),
        desired_count: None,
        force_new_deployment: false,
    };
    let response = match ecs.update_service(cluster, service, &update).await {
        Ok(r) => r,
        Err(e) => {
            report.detail = Some(e.to_string());
            return report;
        }
    };
    let Some(d) = response.primary().cloned() else {
        report.detail = Some("UpdateService returned no PRIMARY deployment".into());
        return report;
    };
    report.deployment_id = Some(d.id.clone());
    let spec = WatchSpec {
        deployment_id: d.id.clone(),
        task_definition: previous.to_string(),
        started_at_ms: d.created_at_ms.unwrap_or_else(start_fallback_ms),
        max_task_failures: timing.max_task_failures,
        scale_only: false,
    };
    printer.group(&format!(
        "deckhand ecs deploy: rollback deployment {}",
        d.id
    ));
    let (_, end) = watch_rollout(ecs, printer, cluster, service, spec, timing).await;
    printer.end_group();
    match end {
        WatchEnd::Outcome(Outcome::Succeeded) => report.completed = true,
        WatchEnd::Outcome(o) => report.detail = Some(headline(&o, &d.id, previous)),
        WatchEnd::TimedOut => {
            report.detail = Some(format!(
                "still in progress after {}",
                humanize(timing.timeout)
            ))
        }
        WatchEnd::Error(p) => report.detail = Some(p.message),
    }
    report
}

/// Stopped tasks for the failure report: a fresh read, filtered to our deployment.
async fn final_stopped_tasks(
    ecs: &EcsAdapter,
    cluster: &str,
    service: &str,
    watch: &RolloutWatch,
) -> Vec<TaskSnapshot> {
    let mut tasks = watch.stopped_tasks();
    if let Ok(fresh) = ecs.observe_stopped_tasks(cluster, service).await {
        for t in fresh
            .into_iter()
            .filter(|t| watch.is_ours(t) && t.last_status == "STOPPED")
        {
            if !tasks.iter().any(|k| k.arn == t.arn) {
                tasks.push(t);
            }
        }
    }
    tasks.sort_by_key(|t| std::cmp::Reverse(t.stopped_at_ms.unwrap_or(0)));
    tasks
}

enum WatchEnd {
    Outcome(Outcome),
    TimedOut,
    Error(Problem),
}

/// Consecutive failed polls after which the watch gives up (the SDK already retried each).
const MAX_POLL_ERRORS: u32 = 5;

async fn watch_rollout(
    ecs: &EcsAdapter,
    printer: &Printer,
    cluster: &str,
    service: &str,
    spec: WatchSpec,
    timing: &WatchTiming,
) -> (RolloutWatch, WatchEnd) {
    let start = Instant::now();
    let deadline = start + timing.timeout;
    let mut watch = RolloutWatch::new(spec);
    let mut errors = 0;
    loop {
        let polled = poll_once(ecs, cluster, service, &watch).await;
        match polled {
            Ok((snapshot, stopped)) => {
                errors = 0;
                let step = watch.observe(&snapshot, stopped.as_deref());
                for e in &step.new_events {
                    printer.line(&format!(
                        "  {}  {}",
                        format_clock(e.created_at_ms),
                        e.message
                    ));
                }
                if let Some(p) = &step.progress {
                    printer.line(&progress_text(p, start.elapsed()));
                }
                if let Some(o) = step.outcome {
                    return (watch, WatchEnd::Outcome(o));
                }
            }
            Err(e) => {
                errors += 1;
                printer.line(&format!(
                    "  warning: poll failed ({errors}/{MAX_POLL_ERRORS}): {}",
                    e.message
                ));
                if errors >= MAX_POLL_ERRORS {
                    return (watch, WatchEnd::Error(e));
                }
            }
        }
        let now = Instant::now();
        if now >= deadline {
            return (watch, WatchEnd::TimedOut);
        }
        tokio::time::sleep(timing.poll.min(deadline - now)).await;
    }
}

async fn poll_once(
    ecs: &EcsAdapter,
    cluster: &str,
    service: &str,
    watch: &RolloutWatch,
) -> Result<(ServiceSnapshot, Option<Vec<TaskSnapshot>>), Problem> {
    let snapshot = ecs
        .observe_service(cluster, service)
        .await
        .map_err(|e| aws_problem(&e))?
        .ok_or_else(|| {
            Problem::new(
                format!(
                    "service `{service}` disappeared from cluster `{cluster}` during the deploy"
                ),
                None,
            )
        })?;
    let stopped = if watch.wants_stopped_tasks(&snapshot) {
        Some(
            ecs.observe_stopped_tasks(cluster, service)
                .await
                .map_err(|e| aws_problem(&e))?,
        )
    } else {
        None
    };
    Ok((snapshot, stopped))
}

fn progress_text(p: &ProgressLine, elapsed: Duration) -> String {
    let state = p.rollout_state.map_or("-".to_string(), |s| {
        serde_json::to_value(s)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    });
    format!(
        "  [{:>4}s] {}deployment {}: {}/{} running, {} pending, {} failed, {}",
        elapsed.as_secs(),
        if p.ecs_rollback { "ECS rollback " } else { "" },
        p.deployment_id,
        p.running,
        p.desired,
        p.pending,
        p.failed,
        state
    )
}

fn humanize(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 && s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

/// When ECS gives no createdAt for our deployment: our clock, minus a margin for skew.
fn start_fallback_ms() -> i64 {
    now_ms() - 2000
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// `ecs rollback`, recorded on GitHub as a deploy to the service's environment.
pub(crate) async fn rollback(
    region: Option<String>,
    args: RollbackArgs,
    printer: &Printer,
) -> ExitStatus {
    let will_roll_back = !args.dry_run && load_timing(&args.watch).is_ok();
    let spec = will_roll_back
        .then(|| RecordSpec::ecs_rollback(&args.cluster, &args.service, args.to.as_deref()));
    let github = args.github.clone();
    github_records::recorded(&github, spec, ECS_DEPLOY_OUTPUTS, printer, async |p| {
        rollback_once(region, args, p).await
    })
    .await
}

async fn rollback_once(
    region: Option<String>,
    args: RollbackArgs,
    printer: &Printer,
) -> ExitStatus {
    let started = Instant::now();
    let mut result = CommandResult::new("ecs rollback", &args.cluster, &args.service);
    let timing = match load_timing(&args.watch) {
        Ok(t) => t,
        Err(p) => return result.fail(Verdict::InvalidInput, p).finish(printer),
    };
    let (ctx, ecs) = match aws(region).await {
        Ok(v) => v,
        Err(p) => return result.fail(Verdict::InvalidInput, p).finish(printer),
    };
    let observed = match observe(&ecs, &args.cluster, &args.service).await {
        Ok(o) => o,
        Err((v, p)) => return done(result.fail(v, p), &ctx, started, printer),
    };
    result.report.previous_task_definition_arn = Some(observed.live_arn.clone());
    let target = match rollback_target(&ecs, &observed, args.to.as_deref()).await {
        Ok(t) => t,
        Err((v, p)) => return done(result.fail(v, p), &ctx, started, printer),
    };
    result.report.task_definition_arn = Some(target.clone());
    printer.line(&format!(
        "plan for service `{}` in cluster `{}`:\n  roll back from {} to {}",
        args.service,
        args.cluster,
        short_arn(&observed.live_arn),
        short_arn(&target)
    ));
    if target == observed.live_arn {
        result.report.verdict = Verdict::NoChange;
        result.report.headline = format!("service already runs {}", short_arn(&target));
        return done(result, &ctx, started, printer);
    }
    if args.dry_run {
        result.report.verdict = Verdict::DryRun;
        result.report.headline = "dry run: the rollback was not applied".into();
        return done(result, &ctx, started, printer);
    }
    let rollback = roll_back(
        &ecs,
        printer,
        &args.cluster,
        &args.service,
        &target,
        &timing,
    )
    .await;
    result
        .report
        .deployment_id
        .clone_from(&rollback.deployment_id);
    result.report.verdict = if rollback.completed {
        Verdict::Succeeded
    } else {
        Verdict::Failed
    };
    result.report.headline = if rollback.completed {
        format!(
            "rolled back to {}; the rollback deployment completed",
            short_arn(&target)
        )
    } else {
        format!(
            "rollback to {} did not complete: {}",
            short_arn(&target),
            rollback.detail.clone().unwrap_or_default()
        )
    };
    done(result, &ctx, started, printer)
}

/// Resolves `--to` (a revision number, `family:revision` or an ARN) or, without it, the newest
/// ACTIVE revision of the family older than the live one.
async fn rollback_target(
    ecs: &EcsAdapter,
    observed: &Observed,
    to: Option<&str>,
) -> Result<String, (Verdict, Problem)> {
    let family = observed.live.family().to_string();
    let live_revision = revision_of(&observed.live_arn);
    let wanted = match to.map(str::trim) {
        Some(n) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{family}:{n}")
        }
        Some(other) if !other.is_empty() => other.to_string(),
        _ => {
            let arns = ecs
                .list_task_definitions(&family)
                .await
                .map_err(|e| (Verdict::Error, aws_problem(&e)))?;
            arns.into_iter()
                .filter(|a| revision_of(a).is_some_and(|r| live_revision.is_some_and(|l| r < l)))
                .max_by_key(|a| revision_of(a))
                .ok_or_else(|| {
                    (
                        Verdict::InvalidInput,
                        Problem::new(
                            format!("task definition family `{family}` has no ACTIVE revision older than {}", short_arn(&observed.live_arn)),
                            Some("name the revision with `--to`".into()),
                        ),
                    )
                })?
        }
    };
    let described = ecs.describe_task_definition(&wanted).await.map_err(|e| {
        let v = if e.is_not_found() || e.code() == Some("ClientException") {
            Verdict::InvalidInput
        } else {
            Verdict::Error
        };
        (v, aws_problem(&e))
    })?;
    let td = &described.task_definition;
    let status = td
        .get("status")
        .and_then(|s| s.as_str())
        .unwrap_or("ACTIVE");
    if status != "ACTIVE" {
        return Err((
            Verdict::InvalidInput,
            Problem::new(
                format!("task definition `{wanted}` is {status}; ECS cannot roll a service to it"),
                Some("pick an ACTIVE revision with `--to`".into()),
            ),
        ));
    }
    Ok(td
        .get("taskDefinitionArn")
        .and_then(|a| a.as_str())
        .unwrap_or(&wanted)
        .to_string())
}

fn revision_of(arn: &str) -> Option<u64> {
    arn.rsplit(':').next().and_then(|r| r.parse().ok())
}
