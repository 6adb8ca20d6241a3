//! `ecs wait`: observe the service -> pick the deployment to follow (`--deployment`, else the
//! PRIMARY one) -> follow it to the verdict `ecs deploy` would have given, rollback included
//! -> report. For a job that was cancelled, killed or timed out while its deploy went on.

use deckhand_aws::EcsAdapter;
use deckhand_core::ecs::plan::short_arn;
use deckhand_core::ecs::report::{DeployReport, RollbackPolicy};
use deckhand_core::ecs::rollback::fallback_rollback_target;
use deckhand_core::ecs::rollout::is_breaker_rollback;
use deckhand_core::report::Report;

use super::follow::{Followed, follow};
use super::{WatchTiming, aws, load_timing, observe};
use crate::cancel;
use crate::cli::{RollbackMode, WaitArgs};
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
        let (ctx, ecs) = aws(region).await?;
        Ok::<_, CommandError>((timing, ctx, ecs))
    };
    let (timing, ctx, ecs) = match setup.await {
        Ok(v) => v,
        Err(e) => {
            fail(&mut report, e);
            return report;
        }
    };
    if let Err(e) = run(&ecs, &args, &timing, printer, &mut report).await {
        fail(&mut report, e);
    }
    report.api_calls = Some(ctx.calls.snapshot());
    report
}

async fn run(
    ecs: &EcsAdapter,
    args: &WaitArgs,
    timing: &WatchTiming,
    printer: &Printer,
    report: &mut Report<DeployReport>,
) -> Result<()> {
    let observed = observe(ecs, &args.cluster, &args.service).await?;
    let service = &observed.service;
    let wanted = args
        .deployment
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty());
    let deployment = match wanted {
        Some(id) => service.deployment(id).cloned().ok_or_else(|| {
            let on = service
                .deployments
                .iter()
                .map(|d| format!("{} ({} of {})", d.id, d.status, short_arn(&d.task_definition)))
                .collect::<Vec<_>>()
                .join(", ");
            CommandError::invalid(format!(
                "deployment `{id}` is not on service `{}` (it has {on})",
                args.service
            ))
            .on(format!("{}/{}", args.cluster, args.service))
            .hint("a deployment leaves the service once another one replaced it; name one of those, or leave out `--deployment` to follow the PRIMARY one")
        })?,
        None => service.primary().cloned().ok_or_else(|| {
            CommandError::failed(format!("service `{}` has no PRIMARY deployment", args.service))
        })?,
    };
    let td = deployment.task_definition.clone();
    printer.line(&format!(
        "following deployment {} of {} ({})",
        deployment.id,
        short_arn(&td),
        deployment.status
    ));
    report.details.previous_task_definition_arn = fallback_rollback_target(service, &td);
    let policy = match args.rollback {
        RollbackMode::OnFailure => RollbackPolicy::OnFailure,
        RollbackMode::Never => RollbackPolicy::Never,
    };
    let followed = Followed {
        cluster: &args.cluster,
        service: &args.service,
        rollback_to: fallback_rollback_target(service, &td),
        ecs_rollback: is_breaker_rollback(&deployment),
        deployment,
        task_definition: td,
        scale_only: false,
    };
    follow(ecs, printer, followed, timing, policy, report).await
}
