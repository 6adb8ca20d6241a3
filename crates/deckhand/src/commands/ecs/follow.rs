//! Following one deployment to its verdict, for `ecs deploy` (the deployment it started or
//! attached to) and `ecs wait` (the one it re-attaches to): watch it, judge the outcome (core),
//! roll back when it failed, ECS did not and the policy says so, and fill the report. The job's
//! cancellation stops it with the command that resumes.

use deckhand_aws::EcsAdapter;
use deckhand_core::duration::humanize;
use deckhand_core::ecs::model::Deployment;
use deckhand_core::ecs::plan::short_arn;
use deckhand_core::ecs::report::{
    DeployReport, RollbackPolicy, breaker_rollback_headline, cancelled_headline, ecs_rollback,
    outcome_headline, resume_command, verdict_of, wants_rollback,
};
use deckhand_core::ecs::rollout::{Outcome, RolloutWatch, WatchSpec};
use deckhand_core::ecs::strategy::timed_out_headline;
use deckhand_core::ecs::verify::{VerifiedDeployment, failure_reason};
use deckhand_core::report::Report;
use deckhand_core::verdict::Verdict;

use super::WatchTiming;
use super::rollback::{last_good_or, roll_back};
use super::verify::Verifier;
use super::watch::{WatchEnd, final_stopped_tasks, start_fallback_ms, watch_rollout};
use crate::cancel;
use crate::error::Result;
use crate::printer::Printer;

/// The deployment to follow, and what a failure of it goes back to.
pub(super) struct Followed<'a> {
    /// The cluster.
    pub(super) cluster: &'a str,
    /// The service.
    pub(super) service: &'a str,
    /// The deployment.
    pub(super) deployment: Deployment,
    /// The task definition it deploys.
    pub(super) task_definition: String,
    /// Where to roll back to when ECS's deployment history does not say (decided from the
    /// service before the deploy); `None`: nothing earlier is known to have run to completion.
    pub(super) rollback_to: Option<String>,
    /// The task count to restore with a rollback (the deploy changed it).
    pub(super) restore_count: Option<i32>,
    /// Only the desired count changes (no new deployment).
    pub(super) scale_only: bool,
    /// The deployment is the circuit breaker's rollback of a failed one (a re-attached watch
    /// found it PRIMARY).
    pub(super) ecs_rollback: bool,
    /// Post-deploy verification of a COMPLETED deployment (and of deckhand's rollback).
    pub(super) verify: Option<&'a Verifier>,
}

/// Follows `f.deployment` to its verdict and sets it on `report`.
pub(super) async fn follow(
    ecs: &EcsAdapter,
    printer: &Printer,
    f: Followed<'_>,
    timing: &WatchTiming,
    policy: RollbackPolicy,
    report: &mut Report<DeployReport>,
) -> Result<()> {
    let (cluster, service) = (f.cluster, f.service);
    let ours = &f.deployment;
    let td = &f.task_definition;
    let d = &mut report.details;
    d.deployment_id = Some(ours.id.clone());
    d.task_definition_arn = Some(td.clone());

    let spec = WatchSpec {
        deployment_id: ours.id.clone(),
        task_definition: td.clone(),
        started_at_ms: ours.created_at_ms.unwrap_or_else(start_fallback_ms),
        max_task_failures: timing.max_task_failures,
        scale_only: f.scale_only,
    };
    printer.group(&format!(
        "deckhand {}: rollout of {}",
        report.command, ours.id
    ));
    let watch = if f.ecs_rollback {
        RolloutWatch::following_ecs_rollback(spec)
    } else {
        RolloutWatch::new(spec)
    };
    let (watch, end) = watch_rollout(ecs, printer, cluster, service, watch, timing).await;
    printer.end_group();
    d.events = watch.events().to_vec();
    let outcome = match end {
        WatchEnd::Outcome(o) => o,
        WatchEnd::TimedOut => {
            d.stopped_tasks = final_stopped_tasks(ecs, cluster, service, &watch).await;
            // Not rolled back and maybe still going: say how to pick it up again.
            d.resume_command = Some(resume_command(cluster, service, &ours.id));
            let headline = timed_out_headline(&ours.id, &humanize(timing.timeout), watch.stage());
            report.conclude(Verdict::TimedOut, headline);
            return Ok(());
        }
        WatchEnd::Error(e) => {
            d.stopped_tasks = watch.stopped_tasks();
            return Err(e);
        }
        WatchEnd::Cancelled(signal, last) => {
            d.stopped_tasks = watch.stopped_tasks();
            d.resume_command = Some(resume_command(cluster, service, &ours.id));
            let headline = cancelled_headline(signal, &ours.id, td, last.as_ref());
            report.conclude(Verdict::Cancelled, headline);
            return Ok(());
        }
    };
    // ECS's COMPLETED is not yet the verdict: is the new revision really serving?
    let outcome = match (f.verify, outcome) {
        (Some(verifier), Outcome::Succeeded) => {
            let verified = verifier
                .verify(
                    ecs,
                    printer,
                    (cluster, service),
                    &ours.id,
                    td,
                    VerifiedDeployment::Deploy,
                    timing.poll,
                )
                .await?;
            match verified {
                Some(v) if !v.passed => {
                    let reason = failure_reason(&v);
                    d.verifications.push(v);
                    Outcome::Failed { reason }
                }
                Some(v) => {
                    d.verifications.push(v);
                    Outcome::Succeeded
                }
                None => Outcome::Succeeded,
            }
        }
        (_, outcome) => outcome,
    };
    d.rollback = ecs_rollback(&outcome);
    if !outcome.is_success() {
        d.stopped_tasks = final_stopped_tasks(ecs, cluster, service, &watch).await;
    }
    let mut verdict = verdict_of(&outcome);
    let mut headline = if f.ecs_rollback {
        breaker_rollback_headline(&outcome, &ours.id, td)
    } else {
        outcome_headline(&outcome, &ours.id, td)
    };
    if wants_rollback(&outcome, policy) {
        let target = match cancel::received() {
            Some(_) => None,
            None => last_good_or(ecs, cluster, service, td, f.rollback_to).await,
        };
        match (target, cancel::received()) {
            (_, Some(signal)) => headline.push_str(&format!(
                "; not rolled back: the job was cancelled ({signal})"
            )),
            (Some(previous), None) => {
                let mut rollback = roll_back(
                    ecs,
                    printer,
                    (cluster, service),
                    &previous,
                    f.restore_count,
                    timing,
                )
                .await;
                // The rollback is verified too: its tasks healthy in the target groups.
                if let (true, Some(verifier), Some(id)) =
                    (rollback.completed, f.verify, rollback.deployment_id.clone())
                {
                    let verified = verifier
                        .verify(
                            ecs,
                            printer,
                            (cluster, service),
                            &id,
                            &previous,
                            VerifiedDeployment::Rollback,
                            timing.poll,
                        )
                        .await;
                    match verified {
                        Ok(None) => {}
                        Ok(Some(v)) => {
                            if !v.passed {
                                rollback.completed = false;
                                rollback.detail.clone_from(&v.problem);
                            }
                            report.details.verifications.push(v);
                        }
                        Err(e) => {
                            rollback.completed = false;
                            rollback.detail = Some(format!(
                                "its verification could not be done: {}",
                                e.problem.message
                            ));
                        }
                    }
                }
                verdict = match (rollback.completed, cancel::received()) {
                    (true, _) => Verdict::RolledBack,
                    (false, Some(signal)) => {
                        let id = rollback.deployment_id.clone().unwrap_or_default();
                        report.details.resume_command = Some(resume_command(cluster, service, &id));
                        headline.push_str(&format!(
                            "; cancelled ({signal}) while rolling back to {}: the rollback goes on without deckhand",
                            short_arn(&previous)
                        ));
                        Verdict::Cancelled
                    }
                    (false, None) => Verdict::RollbackFailed,
                };
                report.details.rollback = Some(rollback);
            }
            (None, None) => headline.push_str(
                "; not rolled back: no earlier revision of the service ran to completion",
            ),
        }
    }
    report.conclude(verdict, headline);
    Ok(())
}
