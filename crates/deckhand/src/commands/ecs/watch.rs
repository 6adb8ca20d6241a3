//! Watching one deployment: poll DescribeServices (and the stopped tasks when the watch asks
//! for them) until the core's [`RolloutWatch`] reaches an outcome, the timeout passes, or the
//! polls keep failing. The watch decides; this only polls and prints. For a service whose
//! deployments walk lifecycle stages (BLUE_GREEN, CANARY, LINEAR), each poll also reads our
//! service deployment (DescribeServiceDeployments), which decides the verdict there.

use std::time::Instant;

use deckhand_aws::EcsAdapter;
use deckhand_core::ecs::model::{ServiceSnapshot, TaskSnapshot};
use deckhand_core::ecs::rollout::{Outcome, ProgressLine, RolloutWatch};
use deckhand_core::ecs::strategy::StageView;
use deckhand_core::time::format_clock;

use super::WatchTiming;
use crate::cancel;
use crate::error::{CommandError, Result};
use crate::printer::Printer;

/// How a watch ended.
pub(super) enum WatchEnd {
    /// The watch reached an outcome.
    Outcome(Outcome),
    /// Still in progress at the timeout.
    TimedOut,
    /// The polls kept failing.
    Error(CommandError),
    /// The job was cancelled (the signal's name); the deployment stood as the last line says.
    Cancelled(&'static str, Option<ProgressLine>),
}

/// Consecutive failed polls after which the watch gives up (the SDK already retried each).
const MAX_POLL_ERRORS: u32 = 5;

/// Feeds `watch` the service's snapshots until the deployment it follows ends.
pub(super) async fn watch_rollout(
    ecs: &EcsAdapter,
    printer: &Printer,
    cluster: &str,
    service: &str,
    mut watch: RolloutWatch,
    timing: &WatchTiming,
) -> (RolloutWatch, WatchEnd) {
    let start = Instant::now();
    let deadline = start + timing.timeout;
    let mut errors = 0;
    let mut last: Option<ProgressLine> = None;
    // Our service deployment's ARN, once found: later polls describe it without listing.
    let mut stage_arn: Option<String> = None;
    loop {
        let polled = tokio::select! {
            biased;
            signal = cancel::requested() => return (watch, WatchEnd::Cancelled(signal, last)),
            polled = poll_once(ecs, cluster, service, &watch, stage_arn.as_deref()) => polled,
        };
        match polled {
            Ok((snapshot, stopped, stage)) => {
                errors = 0;
                if let Some(s) = &stage {
                    stage_arn = Some(s.arn.clone());
                }
                let step = watch.observe_staged(&snapshot, stopped.as_deref(), stage.as_ref());
                for e in &step.new_events {
                    printer.line(&format!(
                        "  {}  {}",
                        format_clock(e.created_at_ms),
                        e.message
                    ));
                }
                if let Some(p) = &step.progress {
                    printer.line(&p.render(start.elapsed().as_secs()));
                    last = Some(p.clone());
                }
                if let Some(o) = step.outcome {
                    return (watch, WatchEnd::Outcome(o));
                }
            }
            Err(e) => {
                errors += 1;
                let message = format!(
                    "poll failed ({errors}/{MAX_POLL_ERRORS}): {}",
                    e.problem.message
                );
                printer.line(&format!("  warning: {message}"));
                printer.annotate_warning("deckhand: poll failed", &message);
                if errors >= MAX_POLL_ERRORS {
                    return (watch, WatchEnd::Error(e));
                }
            }
        }
        let now = Instant::now();
        if now >= deadline {
            return (watch, WatchEnd::TimedOut);
        }
        tokio::select! {
            biased;
            signal = cancel::requested() => return (watch, WatchEnd::Cancelled(signal, last)),
            () = tokio::time::sleep(timing.poll.min(deadline - now)) => {}
        }
    }
}

type Polled = (
    ServiceSnapshot,
    Option<Vec<TaskSnapshot>>,
    Option<StageView>,
);

async fn poll_once(
    ecs: &EcsAdapter,
    cluster: &str,
    service: &str,
    watch: &RolloutWatch,
    stage_arn: Option<&str>,
) -> Result<Polled> {
    let snapshot = ecs
        .observe_service(cluster, service)
        .await?
        .ok_or_else(|| {
            CommandError::failed(format!(
                "service `{service}` disappeared from cluster `{cluster}` during the deploy"
            ))
        })?;
    let stopped = if watch.wants_stopped_tasks(&snapshot) {
        Some(ecs.observe_stopped_tasks(cluster, service).await?)
    } else {
        None
    };
    let stage = if snapshot.is_staged() && watch.judges_by_service_deployment() {
        let ours = &watch.spec().deployment_id;
        ecs.observe_stage(cluster, service, ours, stage_arn).await?
    } else {
        None
    };
    Ok((snapshot, stopped, stage))
}

/// Stopped tasks for the failure report: what the watch saw, plus a fresh read, filtered to
/// the watched deployment, most recent first.
pub(super) async fn final_stopped_tasks(
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

/// When ECS gives no createdAt for a deployment: this machine's clock, minus a margin for
/// skew.
pub(super) fn start_fallback_ms() -> i64 {
    crate::commands::now_ms() - 2000
}
