//! `--service-definition FILE` of `ecs deploy` and `ecs diff`: load and check the file; when the
//! service does not exist, plan its creation (the task definition to start it with), create it
//! and follow its first deployment; when it exists, diff the settings the file names (core) and
//! send the changed ones with the deploy's UpdateService, then tag.

use std::path::Path;

use deckhand_aws::ecs::ServiceUpdate;
use deckhand_aws::{AwsContext, EcsAdapter};
use deckhand_core::ecs::model::ServiceSnapshot;
use deckhand_core::ecs::plan::{check_target, newest_revision, short_arn};
use deckhand_core::ecs::report::DeployReport;
use deckhand_core::ecs::service_def::{
    ServiceDefinition, ServicePlan, render_service_plan, update_input,
};
use deckhand_core::ecs::taskdef::TaskDefSpec;
use deckhand_core::report::Report;
use deckhand_core::verdict::Verdict;

use super::follow::{Followed, follow};
use super::preflight::preflight;
use super::verify::Verifier;
use super::{DeployInputs, WatchTiming};
use crate::cancel;
use crate::cli::{DeployArgs, TargetArgs};
use crate::error::{CommandError, Result};
use crate::printer::Printer;

/// Reads a `--service-definition` file, checked against the CreateService shape of the ECS
/// model and against `--cluster`/`--service` before any request.
pub(super) fn load_file(path: &Path, cluster: &str, service: &str) -> Result<ServiceDefinition> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        CommandError::invalid(format!(
            "cannot read service definition file `{shown}`: {e}"
        ))
        .on(shown.clone())
        .hint("check `--service-definition`")
    })?;
    ServiceDefinition::from_file_text(path, &text, cluster, service).map_err(|e| {
        CommandError::invalid(e.to_string())
            .on(shown)
            .hint_opt(e.hint())
    })
}

/// The creation of a service that does not exist: the plan, and the task definition it starts.
pub(super) struct CreatePlan {
    desired: TaskDefSpec,
    /// The revision to start with when nothing is registered (an identical one exists).
    existing: Option<String>,
}

/// `Some` when the deploy names a service definition and the service does not exist (or is
/// INACTIVE): the plan that creates it, printed. `None`: the deploy goes on as usual.
pub(super) async fn plan_create(
    ctx: &AwsContext,
    ecs: &EcsAdapter,
    t: &TargetArgs,
    inputs: &DeployInputs,
    printer: &Printer,
    report: &mut DeployReport,
) -> Result<Option<CreatePlan>> {
    let Some(def) = &inputs.service_definition else {
        return Ok(None);
    };
    let cluster = ecs.observe_cluster(&t.cluster).await?;
    let service = match &cluster {
        Some(c) if c.status == "ACTIVE" => ecs.observe_service(&t.cluster, t.service()).await?,
        _ => None,
    };
    match (&cluster, &service) {
        (Some(c), None) if c.status == "ACTIVE" => {}
        (Some(_), Some(s)) if s.status == "INACTIVE" => {}
        // Exists (the usual deploy checks it), or a cluster or service that is not usable.
        (Some(_), Some(s)) if s.status == "ACTIVE" => return Ok(None),
        _ => {
            let e = check_target(&t.cluster, t.service(), cluster.as_ref(), service.as_ref())
                .expect_err("BUG: a usable target was not handled above");
            return Err(CommandError::invalid(e.to_string())
                .on(format!("{}/{}", t.cluster, t.service()))
                .hint_opt(e.hint()));
        }
    }
    let (base, base_arn) = base_task_definition(ecs, t, inputs, def).await?;
    let mut desired = base.clone();
    desired
        .apply(&inputs.patch)
        .map_err(|e| CommandError::invalid(e.to_string()).hint_opt(e.hint()))?;
    let pinned = preflight(ctx, &base, &mut desired, inputs.images, printer).await?;
    let existing = base_arn.filter(|_| desired.same_as(&base));
    let plan = def.plan_create(t.desired_count);
    let shown_td = existing
        .clone()
        .unwrap_or_else(|| format!("{} (new revision)", desired.family()));
    printer.block(&render_service_plan(
        &plan,
        &t.cluster,
        t.service(),
        Some(&shown_td),
    ));
    for p in &pinned {
        printer.line(&format!(
            "  image of `{}`: `{}` is {} (registered by digest)",
            p.container, p.image, p.digest
        ));
    }
    report.service_definition = Some(plan.clone());
    report.task_definition_arn = existing.clone();
    Ok(Some(CreatePlan { desired, existing }))
}

/// The task definition a new service starts from, with its ARN when it is registered already:
/// `--task-definition FILE` (the family's newest revision when identical), else the file's
/// `taskDefinition`.
async fn base_task_definition(
    ecs: &EcsAdapter,
    t: &TargetArgs,
    inputs: &DeployInputs,
    def: &ServiceDefinition,
) -> Result<(TaskDefSpec, Option<String>)> {
    if let Some(file) = &inputs.file {
        let mut patched = file.clone();
        patched
            .apply(&inputs.patch)
            .map_err(|e| CommandError::invalid(e.to_string()).hint_opt(e.hint()))?;
        let arns = ecs.list_task_definitions(file.family()).await?;
        if let Some(newest) = newest_revision(file.family(), &arns) {
            let described = ecs.describe_task_definition(newest).await?;
            let spec =
                TaskDefSpec::from_described(&described.task_definition, described.tags.as_ref())
                    .map_err(|e| CommandError::failed(e.to_string()).on(newest.to_string()))?;
            if spec.same_as(&patched) {
                return Ok((spec, Some(newest.to_string())));
            }
        }
        return Ok((file.clone(), None));
    }
    let Some(named) = def.task_definition() else {
        return Err(CommandError::invalid(format!(
            "service `{}` does not exist in cluster `{}`, and nothing names the task definition to create it with",
            t.service(), t.cluster
        ))
        .on(def.path.clone())
        .hint(format!(
            "pass `--task-definition FILE`, or set `taskDefinition` (a family, `family:revision` or ARN) in {}",
            def.path
        )));
    };
    let described = ecs.describe_task_definition(named).await.map_err(|e| {
        let missing = e.is_not_found();
        let error = CommandError::from(e).hint(format!(
            "`taskDefinition` in {} must name a registered revision (`aws ecs list-task-definitions`), or pass `--task-definition FILE`",
            def.path
        ));
        if missing {
            error.with_verdict(Verdict::InvalidInput)
        } else {
            error
        }
    })?;
    let arn = described
        .task_definition
        .get("taskDefinitionArn")
        .and_then(|v| v.as_str())
        .map(str::to_string);
    let spec = TaskDefSpec::from_described(&described.task_definition, described.tags.as_ref())
        .map_err(|e| CommandError::failed(e.to_string()).on(named.to_string()))?;
    Ok((spec, arn))
}

/// Registers the task definition when it is new, creates the service and follows its first
/// deployment to its verdict. A failed first deployment has nothing to roll back to: it stays
/// as ECS left it (exit 1), the service as created.
pub(super) async fn apply_create(
    ecs: &EcsAdapter,
    args: &DeployArgs,
    inputs: &DeployInputs,
    create: CreatePlan,
    (timing, verifier): (&WatchTiming, &Verifier),
    printer: &Printer,
    report: &mut Report<DeployReport>,
) -> Result<()> {
    let t = &args.target;
    if args.dry_run {
        report.conclude(
            Verdict::DryRun,
            "dry run: the service was not created, nothing registered",
        );
        return Ok(());
    }
    if let Some(signal) = cancel::received() {
        report.conclude(
            Verdict::Cancelled,
            format!("cancelled ({signal}) before any change: nothing registered, nothing created"),
        );
        return Ok(());
    }
    let d = &mut report.details;
    let task_definition = match create.existing {
        Some(arn) => arn,
        None => {
            let arn = ecs
                .register_task_definition(&create.desired.to_register_json())
                .await?;
            printer.line(&format!("registered {}", short_arn(&arn)));
            d.registered = true;
            arn
        }
    };
    d.task_definition_arn = Some(task_definition.clone());
    let def = inputs
        .service_definition
        .as_ref()
        .expect("BUG: a create plan without a service definition");
    let body = def.create_input(
        &t.cluster,
        t.service(),
        &task_definition,
        inputs.options.desired_count,
    );
    let created = ecs.create_service(&body).await?;
    let first = created.primary().cloned().ok_or_else(|| {
        CommandError::failed(format!(
            "CreateService for `{}` returned no PRIMARY deployment to watch",
            t.service()
        ))
    })?;
    printer.line(&format!(
        "created service `{}`: watching its first deployment {} of {}",
        t.service(),
        first.id,
        short_arn(&task_definition)
    ));
    let followed = Followed {
        cluster: &t.cluster,
        service: t.service(),
        deployment: first,
        task_definition,
        // A first deployment has nothing earlier to go back to.
        rollback_to: None,
        restore_count: None,
        scale_only: false,
        ecs_rollback: false,
        verify: Some(verifier),
    };
    follow(ecs, printer, followed, timing, args.rollback.into(), report).await
}

/// For an existing service: the settings the file names diffed against the live service,
/// printed. A setting UpdateService cannot change is bad input (exit 2), before any change.
/// Returns the plan and the service's ARN (for TagResource).
pub(super) async fn plan_settings(
    ecs: &EcsAdapter,
    t: &TargetArgs,
    inputs: &DeployInputs,
    printer: &Printer,
    report: &mut DeployReport,
) -> Result<Option<(ServicePlan, String)>> {
    let Some(def) = &inputs.service_definition else {
        return Ok(None);
    };
    let live = ecs
        .describe_service_document(&t.cluster, t.service())
        .await?
        .ok_or_else(|| {
            CommandError::failed(format!(
                "service `{}` disappeared from cluster `{}` while the deploy was planned",
                t.service(),
                t.cluster
            ))
        })?;
    let arn = live
        .get("serviceArn")
        .and_then(|v| v.as_str())
        .unwrap_or(t.service())
        .to_string();
    let plan = def.plan_update(&live, t.desired_count);
    printer.block(&render_service_plan(&plan, &t.cluster, t.service(), None));
    report.service_definition = Some(plan.clone());
    if let Some(message) = plan.recreate_error(&t.cluster, t.service()) {
        return Err(CommandError::invalid(message)
            .on(format!("{}/{}", t.cluster, t.service()))
            .hint(format!(
                "UpdateService cannot change these settings: delete and recreate the service (`aws ecs delete-service`), or set them in {} to what the service has",
                def.path
            )));
    }
    Ok(Some((plan, arn)))
}

/// UpdateService: the deploy's members, with the changed settings of the service definition
/// when there are any (one call, so one deployment carries them all).
pub(super) async fn update_service(
    ecs: &EcsAdapter,
    t: &TargetArgs,
    update: &ServiceUpdate,
    settings: Option<&ServicePlan>,
) -> Result<ServiceSnapshot> {
    let Some(changed) = settings.and_then(ServicePlan::update_settings) else {
        return Ok(ecs.update_service(&t.cluster, t.service(), update).await?);
    };
    let body = update_input(
        &t.cluster,
        t.service(),
        &changed,
        update.task_definition.as_deref(),
        update.desired_count,
        update.force_new_deployment,
    );
    Ok(ecs.update_service_document(&body).await?)
}

/// TagResource for the tags the file adds or changes (none are removed).
pub(super) async fn apply_tags(
    ecs: &EcsAdapter,
    settings: Option<&(ServicePlan, String)>,
    printer: &Printer,
) -> Result<()> {
    let Some((plan, arn)) = settings.filter(|(p, _)| !p.tags.is_empty()) else {
        return Ok(());
    };
    ecs.tag_resource(arn, &plan.tags).await?;
    let keys: Vec<&str> = plan.tags.iter().map(|(k, _)| k.as_str()).collect();
    printer.line(&format!("tagged the service: {}", keys.join(", ")));
    Ok(())
}
