//! `--keep-revisions N`: the revisions a green deploy deregisters, planned before any change
//! (core decides which) and applied only after the verdict is green, with the services of the
//! cluster read again first. A failure to deregister is a warning: the deploy is green.

use deckhand_aws::EcsAdapter;
use deckhand_core::ecs::cleanup::plan_cleanup;
use deckhand_core::ecs::history::last_good;
use deckhand_core::ecs::plan::short_arn;

use crate::error::Result;
use crate::printer::Printer;

/// The revisions of `family` to deregister after the deploy, keeping the newest `keep` (the
/// one this deploy registers, when it registers one, counts among them) and every protected
/// one: the live one, the deploy's target, the last good one, and any a service of the cluster
/// runs.
pub(super) async fn plan_candidates(
    ecs: &EcsAdapter,
    (cluster, service): (&str, &str),
    family: &str,
    keep: u32,
    registers: bool,
    protected: &[&str],
) -> Result<Vec<String>> {
    let arns = ecs.list_task_definitions(family).await?;
    let mut protected: Vec<String> = protected.iter().map(|p| (*p).to_string()).collect();
    protected.extend(ecs.cluster_task_definitions(cluster).await?);
    if let Some(history) = ecs.service_deployments(cluster, service, 20).await? {
        protected.extend(last_good(&history, "").map(|g| g.task_definition));
    }
    let keep = if registers {
        keep.saturating_sub(1)
    } else {
        keep
    };
    Ok(plan_cleanup(family, &arns, keep, &protected))
}

/// Deregisters `candidates` that no service of the cluster runs now; returns those done.
pub(super) async fn apply(
    ecs: &EcsAdapter,
    cluster: &str,
    candidates: &[String],
    printer: &Printer,
) -> Vec<String> {
    if candidates.is_empty() {
        return Vec::new();
    }
    let in_use = match ecs.cluster_task_definitions(cluster).await {
        Ok(used) => used,
        Err(e) => {
            printer.warning(
                "deckhand: revisions not cleaned up",
                &format!("old revisions were not deregistered: the cluster's services could not be read ({e})"),
                None,
            );
            return Vec::new();
        }
    };
    let mut done = Vec::new();
    for arn in candidates.iter().filter(|a| !in_use.contains(a)) {
        match ecs.deregister_task_definition(arn).await {
            Ok(()) => {
                printer.line(&format!("deregistered {}", short_arn(arn)));
                done.push(arn.clone());
            }
            Err(e) => printer.warning(
                "deckhand: revision not deregistered",
                &format!("{} was not deregistered: {e}", short_arn(arn)),
                None,
            ),
        }
    }
    done
}
