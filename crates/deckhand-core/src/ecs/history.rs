//! A service's deployment history, as ECS itself keeps it (ListServiceDeployments,
//! DescribeServiceDeployments, DescribeServiceRevisions): which revision last ran to
//! completion (the rollback target, with its task count), and the verdict of a deployment
//! that finished while nobody watched.
//!
//! A service deployment's target revision is `.../service-revision/CLUSTER/SERVICE/N`, and N
//! is the number of the `ecs-svc/N` deployment DescribeServices shows (terraform relies on the
//! same link; `shared/reference/ecs-service-deployments.md` §1.6).

use serde::{Deserialize, Serialize};

use super::plan::short_arn;
use crate::verdict::Verdict;

/// One service deployment, newest first in a history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceDeploymentView {
    /// Its ARN.
    pub arn: String,
    /// `PENDING`, `IN_PROGRESS`, `SUCCESSFUL`, `STOPPED`, `STOP_REQUESTED`,
    /// `ROLLBACK_REQUESTED`, `ROLLBACK_IN_PROGRESS`, `ROLLBACK_SUCCESSFUL`, `ROLLBACK_FAILED`.
    pub status: String,
    /// ECS's reason, when it gave one.
    pub status_reason: Option<String>,
    /// Epoch milliseconds.
    pub created_at_ms: Option<i64>,
    /// The revision deployed.
    pub target_revision: Option<String>,
    /// Its task definition (from DescribeServiceRevisions).
    pub target_task_definition: Option<String>,
    /// Tasks it asked for.
    pub target_task_count: Option<i32>,
    /// The revision a rollback returned to.
    pub rolled_back_to_revision: Option<String>,
}

impl ServiceDeploymentView {
    /// The `ecs-svc/N` id DescribeServices gives this deployment.
    pub fn deployment_id(&self) -> Option<String> {
        self.target_revision
            .as_deref()
            .and_then(|r| r.rsplit_once('/'))
            .map(|(_, n)| format!("ecs-svc/{n}"))
    }

    /// True once ECS has finished with it: when it has a [`finished_verdict`], which knows
    /// the terminal statuses.
    pub fn is_finished(&self) -> bool {
        finished_verdict(self).is_some()
    }
}

/// A revision that ran to completion: where a failed deploy goes back to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastGood {
    /// Its task definition.
    pub task_definition: String,
    /// The tasks its deployment asked for, restored with it.
    pub desired_count: Option<i32>,
}

/// The target of the newest SUCCESSFUL deployment whose task definition is not `not` (the
/// revision that is failing, or the one running now).
pub fn last_good(history: &[ServiceDeploymentView], not: &str) -> Option<LastGood> {
    history
        .iter()
        .filter(|d| d.status == "SUCCESSFUL")
        .filter_map(|d| {
            let td = d.target_task_definition.as_deref()?;
            (td != not).then(|| LastGood {
                task_definition: td.to_string(),
                desired_count: d.target_task_count,
            })
        })
        .next()
}

/// The deployment of `history` that DescribeServices calls `deployment_id`.
pub fn find<'a>(
    history: &'a [ServiceDeploymentView],
    deployment_id: &str,
) -> Option<&'a ServiceDeploymentView> {
    history
        .iter()
        .find(|d| d.deployment_id().as_deref() == Some(deployment_id))
}

/// The task definition a rollback of `d` returned to (the revision it names, as another
/// deployment of the history deployed it).
pub fn rolled_back_to(
    history: &[ServiceDeploymentView],
    d: &ServiceDeploymentView,
) -> Option<String> {
    let revision = d.rolled_back_to_revision.as_deref()?;
    history
        .iter()
        .find(|h| h.target_revision.as_deref() == Some(revision))
        .and_then(|h| h.target_task_definition.clone())
}

/// The verdict `ecs deploy` gives a deployment that has finished, and its headline; `None`
/// while it is still going.
pub fn finished_verdict(d: &ServiceDeploymentView) -> Option<(Verdict, String)> {
    let id = d.deployment_id().unwrap_or_else(|| d.arn.clone());
    let td = d
        .target_task_definition
        .as_deref()
        .map_or_else(|| "its revision".to_string(), |t| short_arn(t).to_string());
    let reason = d
        .status_reason
        .as_deref()
        .map(|r| format!(": {r}"))
        .unwrap_or_default();
    Some(match d.status.as_str() {
        "SUCCESSFUL" => (
            Verdict::Succeeded,
            format!("deployment {id} of {td} completed"),
        ),
        "ROLLBACK_SUCCESSFUL" => (
            Verdict::RolledBack,
            format!(
                "deployment {id} of {td} failed and ECS rolled the service back{reason}; the rollback completed"
            ),
        ),
        "ROLLBACK_FAILED" => (
            Verdict::RollbackFailed,
            format!("deployment {id} of {td} failed, and ECS's rollback failed too{reason}"),
        ),
        "STOPPED" => (
            Verdict::Failed,
            format!("deployment {id} of {td} was stopped{reason}"),
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const REV: &str = "arn:aws:ecs:us-east-1:123456789012:service-revision/prod/web";
    const TD: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/web";

    fn view(n: u64, status: &str, td: u32, count: i32) -> ServiceDeploymentView {
        ServiceDeploymentView {
            arn: format!("arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/web/d{n}"),
            status: status.into(),
            status_reason: None,
            created_at_ms: None,
            target_revision: Some(format!("{REV}/{n}")),
            target_task_definition: Some(format!("{TD}:{td}")),
            target_task_count: Some(count),
            rolled_back_to_revision: None,
        }
    }

    #[test]
    fn the_last_good_revision_skips_failed_ones_and_the_one_named() {
        let history = [
            view(40, "ROLLBACK_SUCCESSFUL", 7, 3),
            view(30, "STOPPED", 6, 3),
            view(20, "SUCCESSFUL", 5, 4),
            view(10, "SUCCESSFUL", 4, 2),
        ];
        assert_eq!(
            last_good(&history, &format!("{TD}:7")),
            Some(LastGood {
                task_definition: format!("{TD}:5"),
                desired_count: Some(4)
            })
        );
        // `ecs rollback` from revision 5 goes to the one before it.
        assert_eq!(
            last_good(&history, &format!("{TD}:5"))
                .unwrap()
                .task_definition,
            format!("{TD}:4")
        );
        assert_eq!(last_good(&history[..2], &format!("{TD}:7")), None);
    }

    #[test]
    fn a_rollback_names_the_revision_it_returned_to() {
        let mut failed = view(40, "ROLLBACK_SUCCESSFUL", 7, 3);
        failed.rolled_back_to_revision = Some(format!("{REV}/20"));
        let history = [failed.clone(), view(20, "SUCCESSFUL", 5, 4)];
        assert_eq!(rolled_back_to(&history, &failed), Some(format!("{TD}:5")));
        assert_eq!(rolled_back_to(&history, &history[1]), None);
    }

    #[test]
    fn deployments_link_to_their_ecs_svc_ids() {
        let history = [view(7_777, "IN_PROGRESS", 2, 1)];
        assert_eq!(history[0].deployment_id().as_deref(), Some("ecs-svc/7777"));
        assert!(find(&history, "ecs-svc/7777").is_some());
        assert!(find(&history, "ecs-svc/1").is_none());
    }

    #[test]
    fn finished_deployments_have_deploys_verdicts() {
        let verdict = |status| finished_verdict(&view(9, status, 3, 1)).map(|(v, _)| v);
        assert_eq!(verdict("SUCCESSFUL"), Some(Verdict::Succeeded));
        assert_eq!(verdict("ROLLBACK_SUCCESSFUL"), Some(Verdict::RolledBack));
        assert_eq!(verdict("ROLLBACK_FAILED"), Some(Verdict::RollbackFailed));
        assert_eq!(verdict("STOPPED"), Some(Verdict::Failed));
        assert_eq!(verdict("IN_PROGRESS"), None);
        assert_eq!(verdict("ROLLBACK_IN_PROGRESS"), None);
        assert_eq!(
            finished_verdict(&view(9, "ROLLBACK_SUCCESSFUL", 3, 1))
                .unwrap()
                .1,
            "deployment ecs-svc/9 of web:3 failed and ECS rolled the service back; the rollback completed"
        );
    }
}
