//! `ecs rollback` (observe -> choose the target (core) -> UpdateService -> watch -> report),
//! and the rollback `ecs deploy` runs after a failed rollout.

use deckhand_aws::EcsAdapter;
use deckhand_aws::ecs::ServiceUpdate;
use deckhand_core::deployment_record::RecordSpec;
use deckhand_core::duration::humanize;
use deckhand_core::ecs::history::last_good;
use deckhand_core::ecs::plan::short_arn;
use deckhand_core::ecs::report::{
    DeployReport, RollbackBy, RollbackReport, outcome_headline, resume_command,
};
use deckhand_core::ecs::rollback::{
    RollbackTo, check_rollback_target, previous_revision, render_rollback_plan, rollback_to,
};
use deckhand_core::ecs::rollout::{Outcome, RolloutWatch, WatchSpec};
use deckhand_core::report::Report;
use deckhand_core::verdict::Verdict;

use super::watch::{WatchEnd, start_fallback_ms, watch_rollout};
use super::{Observed, WatchTiming, aws, load_timing, observe};
use crate::cli::RollbackArgs;
use crate::error::{CommandError, Result, end, fail};
use crate::github;
use crate::printer::Printer;

/// `ecs rollback`, recorded on GitHub as a deploy to the service's environment.
pub(crate) async fn rollback(
    region: Option<String>,
    args: RollbackArgs,
    printer: &Printer,
) -> Report<DeployReport> {
    let will_roll_back = !args.dry_run && load_timing(&args.watch).is_ok();
    let spec = will_roll_back
        .then(|| RecordSpec::ecs_rollback(&args.cluster, &args.service, args.to.as_deref()));
    github::recorded(&args.github, spec, printer, async || {
        rollback_once(region, &args, printer).await
    })
    .await
}

async fn rollback_once(
    region: Option<String>,
    args: &RollbackArgs,
    printer: &Printer,
) -> Report<DeployReport> {
    crate::cancel::listen();
    let mut report = crate::commands::aws_report(
        "ecs rollback",
        DeployReport::new(&args.cluster, &args.service),
    );
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
    let outcome = run(&ecs, args, &timing, printer, &mut report.details).await;
    end(&mut report, outcome);
    report.api_calls = Some(ctx.calls.snapshot());
    report
}

async fn run(
    ecs: &EcsAdapter,
    args: &RollbackArgs,
    timing: &WatchTiming,
    printer: &Printer,
    report: &mut DeployReport,
) -> Result<(Verdict, String)> {
    let observed = observe(ecs, &args.cluster, &args.service).await?;
    report.previous_task_definition_arn = Some(observed.live_arn.clone());
    let (target, count) = rollback_target(
        ecs,
        &args.cluster,
        &args.service,
        &observed,
        args.to.as_deref(),
    )
    .await?;
    report.task_definition_arn = Some(target.clone());
    let count = count
        .filter(|c| *c != observed.service.desired_count)
        .map(|c| (observed.service.desired_count, c));
    printer.block(&render_rollback_plan(
        &args.cluster,
        &args.service,
        &observed.live_arn,
        &target,
        count,
    ));
    if target == observed.live_arn && count.is_none() {
        return Ok((
            Verdict::NoChange,
            format!("service already runs {}", short_arn(&target)),
        ));
    }
    if args.dry_run {
        return Ok((
            Verdict::DryRun,
            "dry run: the rollback was not applied".into(),
        ));
    }
    if let Some(signal) = crate::cancel::received() {
        return Ok((
            Verdict::Cancelled,
            format!("cancelled ({signal}) before any change: the service was not updated"),
        ));
    }
    let restore = count.map(|(_, back)| back);
    let rollback = roll_back(
        ecs,
        printer,
        (&args.cluster, &args.service),
        &target,
        restore,
        timing,
    )
    .await;
    report.deployment_id.clone_from(&rollback.deployment_id);
    if let (false, Some(signal), Some(id)) = (
        rollback.completed,
        crate::cancel::received(),
        &rollback.deployment_id,
    ) {
        report.resume_command = Some(resume_command(&args.cluster, &args.service, id));
        return Ok((
            Verdict::Cancelled,
            format!(
                "cancelled ({signal}) while rolling back to {}: the rollback deployment {id} goes on without deckhand",
                short_arn(&target)
            ),
        ));
    }
    Ok(if rollback.completed {
        (
            Verdict::Succeeded,
            format!(
                "rolled back to {}; the rollback deployment completed",
                short_arn(&target)
            ),
        )
    } else {
        (
            Verdict::Failed,
            format!(
                "rollback to {} did not complete: {}",
                short_arn(&target),
                rollback.detail.unwrap_or_default()
            ),
        )
    })
}

/// Where `ecs rollback` goes: the task definition `--to` names (core reads it); without it,
/// the last revision that ran to completion before the live one (ECS's deployment history),
/// with the task count it ran with; without a history, the family's newest ACTIVE revision
/// older than the live one. It must be ACTIVE.
async fn rollback_target(
    ecs: &EcsAdapter,
    cluster: &str,
    service: &str,
    observed: &Observed,
    to: Option<&str>,
) -> Result<(String, Option<i32>)> {
    let family = observed.live.family();
    let (wanted, count) = match rollback_to(family, to) {
        RollbackTo::Named(name) => (name, None),
        RollbackTo::PreviousRevision => {
            let history = ecs.service_deployments(cluster, service, 20).await?;
            match history.and_then(|h| last_good(&h, &observed.live_arn)) {
                Some(good) => (good.task_definition, good.desired_count),
                None => {
                    let arns = ecs.list_task_definitions(family).await?;
                    let previous = previous_revision(family, &observed.live_arn, &arns)
                        .map_err(|e| CommandError::invalid(e.to_string()).hint_opt(e.hint()))?;
                    (previous, None)
                }
            }
        }
    };
    let described = ecs.describe_task_definition(&wanted).await.map_err(|e| {
        let bad_input = e.is_not_found() || e.code() == Some("ClientException");
        let error = CommandError::from(e);
        if bad_input {
            error.with_verdict(Verdict::InvalidInput)
        } else {
            error
        }
    })?;
    let arn = check_rollback_target(&wanted, &described.task_definition).map_err(|e| {
        CommandError::invalid(e.to_string())
            .on(wanted.clone())
            .hint_opt(e.hint())
    })?;
    Ok((arn, count))
}

/// The revision a failed deploy of `failing` goes back to: the last one that ran to
/// completion in ECS's deployment history, else `fallback` (decided from the service as it
/// was before the deploy).
pub(super) async fn last_good_or(
    ecs: &EcsAdapter,
    cluster: &str,
    service: &str,
    failing: &str,
    fallback: Option<String>,
) -> Option<String> {
    match ecs.service_deployments(cluster, service, 20).await {
        Ok(Some(history)) => last_good(&history, failing)
            .map(|g| g.task_definition)
            .or(fallback),
        // No history here, or it could not be read: the service's own view decides.
        _ => fallback,
    }
}

/// deckhand's own rollback: UpdateService back to `previous`, watched to completion like any
/// deploy. The target is never deregistered.
pub(super) async fn roll_back(
    ecs: &EcsAdapter,
    printer: &Printer,
    (cluster, service): (&str, &str),
    previous: &str,
    desired_count: Option<i32>,
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
        desired_count,
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
    let watch = RolloutWatch::new(spec);
    let (_, end) = watch_rollout(ecs, printer, cluster, service, watch, timing).await;
    printer.end_group();
    match end {
        WatchEnd::Outcome(Outcome::Succeeded) => report.completed = true,
        WatchEnd::Outcome(o) => report.detail = Some(outcome_headline(&o, &d.id, previous)),
        WatchEnd::TimedOut => {
            report.detail = Some(format!(
                "still in progress after {}",
                humanize(timing.timeout)
            ));
        }
        WatchEnd::Error(e) => report.detail = Some(e.problem.message),
        WatchEnd::Cancelled(signal, _) => {
            report.detail = Some(format!(
                "cancelled ({signal}) while the rollback deployment {} was in progress",
                d.id
            ));
        }
    }
    report
}
