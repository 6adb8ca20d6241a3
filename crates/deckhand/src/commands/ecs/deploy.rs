//! `ecs deploy`: load -> observe and plan -> register -> UpdateService -> watch our deployment
//! to its outcome -> roll back when it failed and ECS did not -> report.

use deckhand_aws::ecs::ServiceUpdate;
use deckhand_aws::{AwsContext, EcsAdapter};
use deckhand_core::deployment_record::RecordSpec;
use deckhand_core::ecs::plan::{DeploymentStep, short_arn};
use deckhand_core::ecs::report::DeployReport;
use deckhand_core::ecs::rollback::fallback_rollback_target;
use deckhand_core::ecs::verify::VerifySpec;
use deckhand_core::report::Report;
use deckhand_core::verdict::Verdict;

use super::follow::{Followed, follow};
use super::verify::{Verifier, load_verify};
use super::{aws, load_inputs, load_timing, secret_inputs, service_def};
use crate::cancel;
use crate::cli::{DeployArgs, EcsDeployArgs};
use crate::commands::aws_report;
use crate::error::{CommandError, Result, fail};
use crate::github;
use crate::printer::Printer;

/// `ecs deploy`, with its GitHub deployment record when one is wanted (docs/github.md).
pub(crate) async fn deploy(
    region: Option<String>,
    args: impl Into<EcsDeployArgs>,
    printer: &Printer,
) -> Report<DeployReport> {
    let EcsDeployArgs {
        deploy: args,
        github,
    } = args.into();
    // Loaded once: a task definition file is read and checked against the ECS model here.
    let loaded = load_inputs(&args.target)
        .and_then(|i| Ok((i, load_timing(&args.watch)?, load_verify(&args.verify)?)));
    // No record for a dry run or for flags that fail validation (nothing is changed then).
    let will_deploy = !args.dry_run && loaded.is_ok();
    let spec = will_deploy.then(|| {
        RecordSpec::ecs_deploy(
            &args.target.cluster,
            args.target.service(),
            &args.target.images,
        )
    });
    github::recorded(&github, spec, printer, async || {
        deploy_once(region, &args, loaded, printer).await
    })
    .await
}

async fn deploy_once(
    region: Option<String>,
    args: &DeployArgs,
    loaded: Result<(super::DeployInputs, super::WatchTiming, VerifySpec)>,
    printer: &Printer,
) -> Report<DeployReport> {
    cancel::listen();
    let t = &args.target;
    let mut report = aws_report("ecs deploy", DeployReport::new(&t.cluster, t.service()));
    let setup = async {
        let (inputs, timing, verify) = loaded?;
        printer.mask(&secret_inputs(&inputs.patch));
        let (ctx, ecs) = aws(region).await?;
        let verifier = Verifier::new(&ctx, verify)?;
        Ok::<_, CommandError>((inputs, (timing, verifier), ctx, ecs))
    };
    let (inputs, timing, ctx, ecs) = match setup.await {
        Ok(v) => v,
        Err(e) => {
            fail(&mut report, e);
            return report;
        }
    };
    let applied = apply(&ctx, &ecs, args, &inputs, &timing, printer, &mut report).await;
    if let Err(e) = applied {
        fail(&mut report, e);
    }
    report.api_calls = Some(ctx.calls.snapshot());
    report
}

/// Plans, and applies the plan: register, update, watch, roll back. Sets the verdict unless
/// it fails first.
async fn apply(
    ctx: &AwsContext,
    ecs: &EcsAdapter,
    args: &DeployArgs,
    inputs: &super::DeployInputs,
    (timing, verifier): &(super::WatchTiming, Verifier),
    printer: &Printer,
    report: &mut Report<DeployReport>,
) -> Result<()> {
    let t = &args.target;
    let d = &mut report.details;
    printer.group(&format!(
        "deckhand ecs deploy: plan for `{}` in `{}`",
        t.service(),
        t.cluster
    ));
    // With a service definition, a service that does not exist is created from it.
    let create = service_def::plan_create(ctx, ecs, t, inputs, printer, d).await;
    let prepared = match &create {
        Ok(None) => Some(super::prepare(ctx, ecs, t, inputs, printer, d).await),
        _ => None,
    };
    let settings = match &prepared {
        Some(Ok(_)) => service_def::plan_settings(ecs, t, inputs, printer, d).await,
        _ => Ok(None),
    };
    printer.end_group();
    if let Some(create) = create? {
        let watch = (timing, verifier);
        return service_def::apply_create(ecs, args, inputs, create, watch, printer, report).await;
    }
    let (plan, observed, desired) = prepared.expect("BUG: planned when nothing is created")?;
    let settings = settings?;
    let changed_settings = settings
        .as_ref()
        .is_some_and(|(s, _)| s.update_settings().is_some());
    d.plan = Some(plan.clone());
    d.task_definition_arn = Some(observed.live_arn.clone());
    if args.dry_run {
        report.conclude(Verdict::DryRun, "dry run: the plan above was not applied");
        return Ok(());
    }
    if plan.is_no_op() && !changed_settings {
        if settings.as_ref().is_some_and(|(s, _)| !s.tags.is_empty()) {
            service_def::apply_tags(ecs, settings.as_ref(), printer).await?;
            report.conclude(
                Verdict::Succeeded,
                "tagged the service; its task definition and settings already matched",
            );
            return Ok(());
        }
        d.deregistered = super::cleanup::apply(ecs, &t.cluster, &plan.deregister, printer).await;
        report.conclude(
            Verdict::NoChange,
            format!(
                "service already runs {} and its deployment completed; nothing registered, nothing updated",
                short_arn(&observed.live_arn)
            ),
        );
        return Ok(());
    }

    if let Some(signal) = cancel::received() {
        report.conclude(
            Verdict::Cancelled,
            format!("cancelled ({signal}) before any change: nothing registered, nothing updated"),
        );
        return Ok(());
    }
    // The revision to deploy: a new one, the identical one a failed deploy left, or the live one.
    let target_arn = if plan.register {
        let arn = ecs
            .register_task_definition(&desired.to_register_json())
            .await?;
        printer.line(&format!("registered {}", short_arn(&arn)));
        d.registered = true;
        arn
    } else if let Some(arn) = &plan.reuse {
        printer.line(&format!(
            "deploying the existing revision {} again (identical; nothing registered)",
            short_arn(arn)
        ));
        arn.clone()
    } else {
        observed.live_arn.clone()
    };
    d.task_definition_arn = Some(target_arn.clone());
    // Decided before anything changes: where a failure of this deploy goes back to.
    let rollback_to = fallback_rollback_target(&observed.service, &target_arn);
    if let Some(signal) = cancel::received() {
        report.conclude(
            Verdict::Cancelled,
            format!(
                "cancelled ({signal}) after registering {}: the service was not updated",
                short_arn(&target_arn)
            ),
        );
        return Ok(());
    }
    let ours = match &plan.deployment {
        DeploymentStep::Attach { deployment_id } => {
            if plan.desired_count.is_some() || changed_settings {
                let count = ServiceUpdate {
                    task_definition: None,
                    desired_count: plan.desired_count.map(|(_, to)| to),
                    force_new_deployment: false,
                };
                let settings = settings.as_ref().map(|(s, _)| s);
                service_def::update_service(ecs, t, &count, settings).await?;
            }
            printer.line(&format!(
                "deployment {deployment_id} of {} is still in progress: watching it to its verdict",
                short_arn(&target_arn)
            ));
            observed
                .service
                .deployment(deployment_id)
                .cloned()
                .expect("BUG: the plan attaches to a deployment the service has")
        }
        _ => {
            let update = super::service_update(&plan, &target_arn);
            let settings_plan = settings.as_ref().map(|(s, _)| s);
            let response = service_def::update_service(ecs, t, &update, settings_plan).await?;
            super::started_deployment(&response, t.service(), &target_arn, printer)?
        }
    };
    service_def::apply_tags(ecs, settings.as_ref(), printer).await?;
    // Settings alone (no new revision) may or may not start a deployment (ECS starts one for
    // some, such as the network configuration): without one, the PRIMARY is watched settle.
    let same_primary = observed.service.primary().map(|p| &p.id) == Some(&ours.id);
    let followed = Followed {
        cluster: &t.cluster,
        service: t.service(),
        deployment: ours,
        task_definition: target_arn,
        rollback_to,
        restore_count: plan.desired_count.map(|(from, _)| from),
        scale_only: plan.scale_only
            || (changed_settings
                && same_primary
                && !matches!(plan.deployment, DeploymentStep::Attach { .. })),
        ecs_rollback: false,
        verify: Some(verifier),
    };
    follow(ecs, printer, followed, timing, args.rollback.into(), report).await?;
    if report.verdict == Verdict::Succeeded && !plan.deregister.is_empty() {
        report.details.deregistered =
            super::cleanup::apply(ecs, &t.cluster, &plan.deregister, printer).await;
    }
    Ok(())
}
