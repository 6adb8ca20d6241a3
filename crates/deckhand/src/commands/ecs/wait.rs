//! `ecs wait`: observe the service and its deployment history -> pick the deployment
//! (`--deployment`, else the newest one ECS has) -> a finished one gets its verdict from ECS's
//! history; one still going is followed to the verdict `ecs deploy` would have given, rollback
//! included -> report. For a job that was cancelled, killed or timed out while its deploy went
//! on.

use deckhand_aws::EcsAdapter;
use deckhand_core::ecs::history::{ServiceDeploymentView, find, finished_verdict, rolled_back_to};
use deckhand_core::ecs::model::{Deployment, ServiceSnapshot};
use deckhand_core::ecs::plan::short_arn;
use deckhand_core::ecs::report::{DeployReport, RollbackBy, RollbackReport};
use deckhand_core::ecs::rollback::fallback_rollback_target;
use deckhand_core::ecs::rollout::is_breaker_rollback;
use deckhand_core::report::Report;

use super::follow::{Followed, follow};
use super::verify::{Verifier, load_verify};
use super::{WatchTiming, aws, load_timing, observe};
use crate::cancel;
use crate::cli::WaitArgs;
use crate::commands::aws_report;
use crate::error::{CommandError, Result, fail};
use crate::printer::Printer;

pub(crate) async fn wait(
    region: Option<String>,
    args: WaitArgs,
    printer: &Printer,
) -> Report<DeployReport> {
    cancel::listen();
    let mut report = aws_report("ecs wait", DeployReport::new(&args.cluster, &args.service));
    let setup = async {
        let timing = load_timing(&args.watch)?;
        let verify = load_verify(&args.verify)?;
        let (ctx, ecs) = aws(region).await?;
        let verifier = Verifier::new(&ctx, verify)?;
        Ok::<_, CommandError>((timing, verifier, ctx, ecs))
    };
    let (timing, verifier, ctx, ecs) = match setup.await {
        Ok(v) => v,
        Err(e) => {
            fail(&mut report, e);
            return report;
        }
    };
    if let Err(e) = run(&ecs, &args, (&timing, &verifier), printer, &mut report).await {
        fail(&mut report, e);
    }
    report.api_calls = Some(ctx.calls.snapshot());
    report
}

/// What to wait for.
enum Pick {
    /// A deployment on the service: follow it (`true`: it is the breaker's rollback deployment).
    Follow(Deployment, bool),
    /// A deployment ECS has finished: its history says how it ended.
    Finished(ServiceDeploymentView),
}

async fn run(
    ecs: &EcsAdapter,
    args: &WaitArgs,
    (timing, verifier): (&WatchTiming, &Verifier),
    printer: &Printer,
    report: &mut Report<DeployReport>,
) -> Result<()> {
    let observed = observe(ecs, &args.cluster, &args.service).await?;
    let service = &observed.service;
    let history = match ecs
        .service_deployments(&args.cluster, &args.service, 20)
        .await
    {
        Ok(h) => h.unwrap_or_default(),
        Err(e) => {
            printer.warning(
                "deckhand: deployment history not read",
                &format!(
                    "ECS's deployment history could not be read ({e}); following what DescribeServices shows"
                ),
                None,
            );
            Vec::new()
        }
    };
    let wanted = args
        .deployment
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty());
    let pick = match wanted {
        Some(id) => pick_named(service, &history, id, args)?,
        None => pick_newest(service, &history)?,
    };
    match pick {
        Pick::Finished(d) => {
            let (verdict, headline) =
                finished_verdict(&d).expect("BUG: picked as finished but it is not");
            printer.line(&format!(
                "deployment {} has finished: {}",
                d.deployment_id().unwrap_or_default(),
                d.status
            ));
            let r = &mut report.details;
            r.deployment_id = d.deployment_id();
            r.task_definition_arn.clone_from(&d.target_task_definition);
            if d.status.starts_with("ROLLBACK_") {
                r.rollback = rolled_back_to(&history, &d).map(|td| RollbackReport {
                    by: RollbackBy::Ecs,
                    task_definition: td,
                    deployment_id: None,
                    completed: d.status == "ROLLBACK_SUCCESSFUL",
                    detail: d.status_reason.clone(),
                });
            }
            report.conclude(verdict, headline);
            Ok(())
        }
        Pick::Follow(deployment, ecs_rollback) => {
            let td = deployment.task_definition.clone();
            printer.line(&format!(
                "following deployment {} of {} ({})",
                deployment.id,
                short_arn(&td),
                deployment.status
            ));
            let followed = Followed {
                cluster: &args.cluster,
                service: &args.service,
                rollback_to: fallback_rollback_target(service, &td),
                restore_count: None,
                ecs_rollback,
                deployment,
                task_definition: td,
                scale_only: false,
                verify: Some(verifier),
            };
            follow(ecs, printer, followed, timing, args.rollback.into(), report).await
        }
    }
}

/// `--deployment ID`: on the service, it is followed; gone, ECS's history says how it ended.
fn pick_named(
    service: &ServiceSnapshot,
    history: &[ServiceDeploymentView],
    id: &str,
    args: &WaitArgs,
) -> Result<Pick> {
    if let Some(d) = service.deployment(id) {
        return Ok(Pick::Follow(d.clone(), false));
    }
    match find(history, id) {
        Some(h) if h.is_finished() => Ok(Pick::Finished(h.clone())),
        // Still going but gone from the service: the breaker is rolling it back.
        Some(_) => primary_as_rollback(service),
        None => Err(CommandError::invalid(format!(
            "deployment `{id}` is not on service `{}`, and ECS's deployment history does not have it",
            args.service
        ))
        .on(format!("{}/{}", args.cluster, args.service))
        .hint("name a deployment as `ecs deploy` printed it (`ecs-svc/...`), or leave out `--deployment` to follow the newest one")),
    }
}

/// Without `--deployment`: the newest deployment ECS has, finished or going; without a
/// history, the PRIMARY one (the breaker's rollback deployment, when it is one).
fn pick_newest(service: &ServiceSnapshot, history: &[ServiceDeploymentView]) -> Result<Pick> {
    if let Some(newest) = history.first() {
        // A successful deployment still PRIMARY on the service is followed like a named one
        // (it is COMPLETED at the first look), so its verification runs: a wait that attaches
        // after ECS finished must not be green on targets that are failing their checks.
        if newest.status == "SUCCESSFUL"
            && let Some(d) = newest
                .deployment_id()
                .and_then(|id| service.deployment(&id))
                .filter(|d| d.is_primary())
        {
            return Ok(Pick::Follow(d.clone(), false));
        }
        if newest.is_finished() {
            return Ok(Pick::Finished(newest.clone()));
        }
        if let Some(d) = newest
            .deployment_id()
            .and_then(|id| service.deployment(&id))
        {
            return Ok(Pick::Follow(d.clone(), false));
        }
        return primary_as_rollback(service);
    }
    let primary = primary(service)?;
    Ok(Pick::Follow(primary.clone(), is_breaker_rollback(primary)))
}

fn primary(service: &ServiceSnapshot) -> Result<&Deployment> {
    service.primary().ok_or_else(|| {
        CommandError::failed(format!(
            "service `{}` has no PRIMARY deployment",
            service.name
        ))
    })
}

fn primary_as_rollback(service: &ServiceSnapshot) -> Result<Pick> {
    Ok(Pick::Follow(primary(service)?.clone(), true))
}
