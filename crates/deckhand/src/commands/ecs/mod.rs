//! `ecs deploy`, `ecs diff`, `ecs rollback`: load -> observe -> plan (core) -> apply -> watch
//! (core decides, [`watch`] polls) -> report. The inputs and the observation they share are
//! here; each verb has its module.

mod cleanup;
mod deploy;
mod fanout;
mod follow;
mod preflight;
mod rollback;
mod run;
mod service_def;
mod verify;
mod wait;
mod watch;

use std::path::Path;
use std::time::Duration;

use deckhand_aws::{AwsContext, EcsAdapter, EcsError};
use deckhand_core::duration::parse_duration;
use deckhand_core::ecs::model::ServiceSnapshot;
use deckhand_core::ecs::plan::{
    DeployOptions, DeployPlan, check_target, live_task_definition, newest_revision, plan_deploy,
    render_plan,
};
use deckhand_core::ecs::report::DeployReport;
use deckhand_core::ecs::service_def::ServiceDefinition;
use deckhand_core::ecs::taskdef::{EnvOverride, ImageOverride, TaskDefPatch, TaskDefSpec};
use deckhand_core::image_ref::ImageRef;
use deckhand_core::redact::looks_secret;
use deckhand_core::report::Report;
use deckhand_core::verdict::Verdict;

pub(crate) use deploy::deploy;
pub(crate) use fanout::deploy_services;
pub(crate) use rollback::rollback;
pub(crate) use run::run;
pub(crate) use wait::wait;

use crate::cli::{DiffArgs, TargetArgs, WatchArgs};
use crate::commands::aws_report;
use crate::error::{CommandError, Result, fail};
use crate::printer::Printer;
use preflight::{ImageChecks, preflight};

/// Inputs that passed validation; nothing has touched AWS yet.
struct DeployInputs {
    patch: TaskDefPatch,
    file: Option<TaskDefSpec>,
    options: DeployOptions,
    images: ImageChecks,
    keep_revisions: Option<u32>,
    service_definition: Option<ServiceDefinition>,
    /// Several services share these inputs: each service's task definition takes the
    /// overrides that name its containers (see [`TaskDefPatch::only_containers`]).
    fan_out: bool,
}

/// How a rollout is watched.
struct WatchTiming {
    timeout: Duration,
    poll: Duration,
    max_task_failures: u32,
}

/// `--image` and `--env` (of `ecs deploy`, `ecs diff` and `ecs run`): what they change in a task
/// definition. Fails before any AWS call.
fn load_patch(images: &[String], env: &[String]) -> Result<TaskDefPatch> {
    let mut patch = TaskDefPatch::default();
    for raw in images.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        let (container, image) = match raw.split_once('=') {
            Some((c, i)) => (Some(c.trim().to_string()), i.trim()),
            None => (None, raw),
        };
        if container.as_deref() == Some("") {
            return Err(CommandError::invalid(format!(
                "`--image {raw}` has an empty container name"
            ))
            .hint("use `--image CONTAINER=IMAGE`"));
        }
        let image = ImageRef::parse(image).map_err(|e| {
            CommandError::invalid(e.to_string())
                .hint("an image looks like `registry/repository:tag` or `repository@sha256:...`")
        })?;
        patch.images.push(ImageOverride { container, image });
    }
    for raw in env
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
            return Err(CommandError::invalid(format!(
                "`--env {shown}` is not `CONTAINER:KEY=VALUE`"
            ))
            .hint("for example `--env web:LOG_LEVEL=debug`"));
        };
        patch.env.push(EnvOverride {
            container: container.into(),
            name: name.into(),
            value: value.into(),
        });
    }
    Ok(patch)
}

/// Parses every flag of a deploy's target. Fails before any AWS call.
fn load_inputs(t: &TargetArgs) -> Result<DeployInputs> {
    let patch = load_patch(&t.images, &t.env)?;
    let file = match &t.task_definition {
        None => None,
        Some(path) => Some(load_task_definition_file(path)?),
    };
    if let Some(count) = t.desired_count
        && count < 0
    {
        return Err(
            CommandError::invalid(format!("desired count {count} is negative"))
                .hint("use `--desired-count 0` or more"),
        );
    }
    let service_definition = match &t.service_definition {
        None => None,
        Some(path) => Some(service_def::load_file(path, &t.cluster, t.service())?),
    };
    // `--desired-count` wins over the service definition's `desiredCount`.
    let desired_count = t
        .desired_count
        .or(service_definition.as_ref().and_then(|d| d.desired_count()));
    Ok(DeployInputs {
        patch,
        file,
        options: DeployOptions {
            desired_count,
            force_new_deployment: t.force_new_deployment,
            show_env_values: t.show_env_values,
        },
        images: ImageChecks {
            skip: t.skip_image_check,
            pin: t.pin_digests,
        },
        keep_revisions: t.keep_revisions,
        service_definition,
        fan_out: false,
    })
}

/// Reads a `--task-definition` file, checked against the RegisterTaskDefinition shape of the
/// ECS model before any request: a wrong type or an unknown field is bad input naming the file,
/// line, column and field.
fn load_task_definition_file(path: &Path) -> Result<TaskDefSpec> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        CommandError::invalid(format!("cannot read task definition file `{shown}`: {e}"))
            .on(shown.clone())
            .hint("check `--task-definition`")
    })?;
    TaskDefSpec::from_file_text(path, &text).map_err(|e| {
        CommandError::invalid(e.to_string())
            .on(shown)
            .hint_opt(e.hint())
    })
}

fn load_timing(w: &WatchArgs) -> Result<WatchTiming> {
    let d = |flag: &str, v: &str| {
        parse_duration(v).map_err(|e| CommandError::invalid(format!("`--{flag}`: {e}")))
    };
    let timing = WatchTiming {
        timeout: d("timeout", &w.timeout)?,
        poll: d("poll-interval", &w.poll_interval)?,
        max_task_failures: w.max_task_failures,
    };
    if timing.poll.is_zero() {
        return Err(
            CommandError::invalid("`--poll-interval` must be more than 0")
                .hint("for example `--poll-interval 5s`"),
        );
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

/// Loads the AWS settings (a missing region is bad configuration, exit 2, before any call)
/// and the ECS adapter.
async fn aws(region: Option<String>) -> Result<(AwsContext, EcsAdapter)> {
    let ctx = super::aws_context(region).await?;
    let ecs = EcsAdapter::new(&ctx);
    Ok((ctx, ecs))
}

/// The live state a deploy or rollback starts from.
pub(crate) struct Observed {
    service: ServiceSnapshot,
    pub(crate) live_arn: String,
    pub(crate) live: TaskDefSpec,
}

/// Reads cluster, service and the live task definition. A target that does not exist is bad
/// input (exit 2).
pub(crate) async fn observe(ecs: &EcsAdapter, cluster: &str, service: &str) -> Result<Observed> {
    let not_found_is_input = |e: EcsError| {
        let bad_input = e.is_not_found();
        let error = CommandError::from(e);
        if bad_input {
            error.with_verdict(Verdict::InvalidInput)
        } else {
            error
        }
    };
    let cluster_state = ecs
        .observe_cluster(cluster)
        .await
        .map_err(not_found_is_input)?;
    let service_state = match cluster_state {
        Some(_) => ecs
            .observe_service(cluster, service)
            .await
            .map_err(not_found_is_input)?,
        None => None,
    };
    check_target(
        cluster,
        service,
        cluster_state.as_ref(),
        service_state.as_ref(),
    )
    .map_err(|e| {
        CommandError::invalid(e.to_string())
            .on(format!("{cluster}/{service}"))
            .hint_opt(e.hint())
    })?;
    let service_state = service_state.expect("BUG: check_target accepted a missing service");
    let Some(live_arn) = live_task_definition(&service_state) else {
        return Err(CommandError::invalid(format!(
            "service `{service}` has no task definition"
        )));
    };
    let described = ecs
        .describe_task_definition(&live_arn)
        .await
        .map_err(not_found_is_input)?;
    let live = TaskDefSpec::from_described(&described.task_definition, described.tags.as_ref())
        .map_err(|e| CommandError::failed(e.to_string()).on(live_arn.clone()))?;
    Ok(Observed {
        service: service_state,
        live_arn,
        live,
    })
}

/// Observes, checks (preflight) and plans; prints the plan. `report` learns the previous task
/// definition.
async fn prepare(
    ctx: &AwsContext,
    ecs: &EcsAdapter,
    t: &TargetArgs,
    inputs: &DeployInputs,
    printer: &Printer,
    report: &mut DeployReport,
) -> Result<(DeployPlan, Observed, TaskDefSpec)> {
    let observed = observe(ecs, &t.cluster, t.service()).await?;
    printer.mask(&observed.live.secret_values());
    report.previous_task_definition_arn = Some(observed.live_arn.clone());
    let mut desired = inputs.file.clone().unwrap_or_else(|| observed.live.clone());
    let patch = if inputs.fan_out {
        inputs.patch.only_containers(&desired.container_names())
    } else {
        inputs.patch.clone()
    };
    desired
        .apply(&patch)
        .map_err(|e| CommandError::invalid(e.to_string()).hint_opt(e.hint()))?;
    let pinned = preflight(ctx, &observed.live, &mut desired, inputs.images, printer).await?;
    let newest = if desired.same_as(&observed.live) {
        None
    } else {
        observe_newest(ecs, desired.family(), &observed.live_arn).await?
    };
    let plan = plan_deploy(
        &observed.live,
        &observed.live_arn,
        &desired,
        newest.as_ref().map(|(arn, spec)| (arn.as_str(), spec)),
        &observed.service,
        inputs.options,
    )
    .map_err(|e| CommandError::invalid(e.to_string()).hint_opt(e.hint()))?;
    let deregister = match inputs.keep_revisions {
        None => Vec::new(),
        Some(keep) => {
            let target = plan.reuse.as_deref().unwrap_or(&observed.live_arn);
            let protected = [observed.live_arn.as_str(), target];
            let service = (t.cluster.as_str(), t.service());
            let family = desired.family();
            cleanup::plan_candidates(ecs, service, family, keep, plan.register, &protected).await?
        }
    };
    let plan = DeployPlan {
        pinned,
        deregister,
        ..plan
    };
    printer.block(&render_plan(&plan, &t.cluster, t.service()));
    // The plan's text shows its warnings; in Actions each is also an annotation.
    for w in &plan.warnings {
        printer.annotate_warning("deckhand: plan", w);
    }
    Ok((plan, observed, desired))
}

/// The newest ACTIVE revision of `family` with its definition, unless it is the live one: the
/// revision of a deploy that failed and was rolled back, which a re-run deploys again.
async fn observe_newest(
    ecs: &EcsAdapter,
    family: &str,
    live_arn: &str,
) -> Result<Option<(String, TaskDefSpec)>> {
    let arns = ecs.list_task_definitions(family).await?;
    let Some(newest) = newest_revision(family, &arns).filter(|a| *a != live_arn) else {
        return Ok(None);
    };
    let described = ecs.describe_task_definition(newest).await?;
    let spec = TaskDefSpec::from_described(&described.task_definition, described.tags.as_ref())
        .map_err(|e| CommandError::failed(e.to_string()).on(newest.to_string()))?;
    Ok(Some((newest.to_string(), spec)))
}

/// `ecs diff`: the plan of `ecs deploy`, changing nothing.
pub(crate) async fn diff(
    region: Option<String>,
    args: DiffArgs,
    printer: &Printer,
) -> Report<DeployReport> {
    let t = &args.target;
    if t.is_fan_out() {
        let names = t.service_names().join(",");
        let mut report = aws_report("ecs diff", DeployReport::new(&t.cluster, &names));
        let e = CommandError::invalid(format!(
            "`ecs diff` shows one service; {} were given",
            t.service_names().len()
        ))
        .hint("run `ecs diff` once per service, or `ecs deploy --dry-run` with them all");
        fail(&mut report, e);
        return report;
    }
    let mut report = aws_report("ecs diff", DeployReport::new(&t.cluster, t.service()));
    let inputs = match load_inputs(t) {
        Ok(i) => i,
        Err(e) => {
            fail(&mut report, e);
            return report;
        }
    };
    printer.mask(&secret_inputs(&inputs.patch));
    let (ctx, ecs) = match aws(region).await {
        Ok(v) => v,
        Err(e) => {
            fail(&mut report, e);
            return report;
        }
    };
    let d = &mut report.details;
    let planned = match service_def::plan_create(&ctx, &ecs, t, &inputs, printer, d).await {
        Err(e) => Err(e),
        Ok(Some(_)) => {
            report.conclude(
                Verdict::DryRun,
                "the service would be created; nothing was changed",
            );
            report.api_calls = Some(ctx.calls.snapshot());
            return report;
        }
        Ok(None) => match prepare(&ctx, &ecs, t, &inputs, printer, d).await {
            Err(e) => Err(e),
            Ok((plan, _, _)) => service_def::plan_settings(&ecs, t, &inputs, printer, d)
                .await
                .map(|settings| (plan, settings)),
        },
    };
    match planned {
        Err(e) => fail(&mut report, e),
        Ok((plan, settings)) => {
            if plan.is_no_op() && settings.as_ref().is_none_or(|(s, _)| s.is_no_op()) {
                report.conclude(Verdict::NoChange, "nothing would change");
            } else {
                report.conclude(Verdict::DryRun, "changes shown; nothing was changed");
            }
            report.details.plan = Some(plan);
        }
    }
    report.api_calls = Some(ctx.calls.snapshot());
    report
}

/// The UpdateService of a plan that starts (or scales) a deployment of `target_arn`.
fn service_update(plan: &DeployPlan, target_arn: &str) -> deckhand_aws::ecs::ServiceUpdate {
    let deploys = plan.register || plan.reuse.is_some() || plan.force_new_deployment;
    deckhand_aws::ecs::ServiceUpdate {
        task_definition: deploys.then(|| target_arn.to_string()),
        desired_count: plan.desired_count.map(|(_, to)| to),
        force_new_deployment: plan.force_new_deployment,
    }
}

/// The deployment UpdateService started, which the deploy then watches; says so in the log.
fn started_deployment(
    response: &ServiceSnapshot,
    service: &str,
    target_arn: &str,
    printer: &Printer,
) -> Result<deckhand_core::ecs::model::Deployment> {
    let ours = response.primary().cloned().ok_or_else(|| {
        CommandError::failed(format!(
            "UpdateService for `{service}` returned no PRIMARY deployment to watch"
        ))
    })?;
    printer.line(&format!(
        "updated service `{service}`: watching deployment {} of {}",
        ours.id,
        deckhand_core::ecs::plan::short_arn(target_arn)
    ));
    Ok(ours)
}
