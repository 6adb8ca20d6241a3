//! `ecs rollback`: which task definition to return a service to, decided from what `--to`
//! says and the family's revisions, and the plan as printed.

use serde_json::Value;

use super::model::{RolloutState, ServiceSnapshot};
use super::plan::short_arn;

/// What `--to` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RollbackTo {
    /// A task definition to describe: `family:N` (from a bare revision number), `family:N` or
    /// an ARN as given.
    Named(String),
    /// No `--to`: the newest ACTIVE revision of the live family older than the live one.
    PreviousRevision,
}

/// Why no rollback target could be chosen. Nothing has changed when one of these is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RollbackTargetError {
    /// The family has nothing older to go back to.
    #[error("task definition family `{family}` has no ACTIVE revision older than {live}")]
    NoOlderRevision {
        /// The family.
        family: String,
        /// The live revision, short.
        live: String,
    },
    /// The named revision was deregistered (or is being deleted).
    #[error("task definition `{wanted}` is {status}; ECS cannot roll a service to it")]
    NotActive {
        /// What was asked for.
        wanted: String,
        /// Its status.
        status: String,
    },
}

impl RollbackTargetError {
    /// How to fix it.
    pub fn hint(&self) -> Option<String> {
        Some(
            match self {
                Self::NoOlderRevision { .. } => "name the revision with `--to`",
                Self::NotActive { .. } => "pick an ACTIVE revision with `--to`",
            }
            .into(),
        )
    }
}

/// Reads `--to` against the live task definition's family.
pub fn rollback_to(family: &str, to: Option<&str>) -> RollbackTo {
    match to.map(str::trim) {
        Some(n) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
            RollbackTo::Named(format!("{family}:{n}"))
        }
        Some(other) if !other.is_empty() => RollbackTo::Named(other.to_string()),
        _ => RollbackTo::PreviousRevision,
    }
}

/// The revision number at the end of a task definition ARN or `family:N`.
pub fn revision_of(arn: &str) -> Option<u64> {
    arn.rsplit(':').next().and_then(|r| r.parse().ok())
}

/// Among the family's ACTIVE revisions (`family_arns`, as ListTaskDefinitions lists them by
/// prefix), the newest one of the family itself older than `live_arn`.
pub fn previous_revision(
    family: &str,
    live_arn: &str,
    family_arns: &[String],
) -> Result<String, RollbackTargetError> {
    let live = revision_of(live_arn);
    family_arns
        .iter()
        .filter(|a| super::plan::family_of(a) == Some(family))
        .filter(|a| revision_of(a).is_some_and(|r| live.is_some_and(|l| r < l)))
        .max_by_key(|a| revision_of(a))
        .cloned()
        .ok_or_else(|| RollbackTargetError::NoOlderRevision {
            family: family.to_string(),
            live: short_arn(live_arn).to_string(),
        })
}

/// The target as DescribeTaskDefinition returned it: its ARN, when it is ACTIVE.
pub fn check_rollback_target(
    wanted: &str,
    described: &Value,
) -> Result<String, RollbackTargetError> {
    let status = described
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("ACTIVE");
    if status != "ACTIVE" {
        return Err(RollbackTargetError::NotActive {
            wanted: wanted.to_string(),
            status: status.to_string(),
        });
    }
    Ok(described
        .get("taskDefinitionArn")
        .and_then(Value::as_str)
        .unwrap_or(wanted)
        .to_string())
}

/// Where a failed deploy rolls back to when the service's deployment history does not say (no
/// service deployments API): the revision PRIMARY before the deploy when its deployment had
/// completed, else the newest other deployment still serving tasks (ACTIVE), never `wanted`
/// itself. `None`: no earlier revision is known to have run; there is nothing to go back to.
pub fn fallback_rollback_target(before: &ServiceSnapshot, wanted: &str) -> Option<String> {
    let primary = before.primary();
    let completed = primary.filter(|p| {
        p.rollout_state == Some(RolloutState::Completed)
            || (p.rollout_state.is_none() && before.deployments.len() == 1)
    });
    completed
        .into_iter()
        .chain(before.deployments.iter().filter(|d| d.status == "ACTIVE"))
        .map(|d| d.task_definition.clone())
        .find(|td| td != wanted)
}

/// The rollback's plan as printed; `desired_count` is `(now, restored)` when the task count
/// goes back too.
pub fn render_rollback_plan(
    cluster: &str,
    service: &str,
    from: &str,
    to: &str,
    desired_count: Option<(i32, i32)>,
) -> String {
    let mut out = format!(
        "plan for service `{service}` in cluster `{cluster}`:\n  roll back from {} to {}\n",
        short_arn(from),
        short_arn(to)
    );
    if let Some((now, back)) = desired_count.filter(|(now, back)| now != back) {
        out.push_str(&format!("  desired count {now} -> {back} (as it was)\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/web";

    #[test]
    fn to_reads_numbers_names_and_nothing() {
        assert_eq!(
            rollback_to("web", Some(" 7 ")),
            RollbackTo::Named("web:7".into())
        );
        assert_eq!(
            rollback_to("web", Some("api:3")),
            RollbackTo::Named("api:3".into())
        );
        assert_eq!(
            rollback_to("web", Some(&format!("{ARN}:2"))),
            RollbackTo::Named(format!("{ARN}:2"))
        );
        assert_eq!(rollback_to("web", Some("  ")), RollbackTo::PreviousRevision);
        assert_eq!(rollback_to("web", None), RollbackTo::PreviousRevision);
    }

    #[test]
    fn the_previous_revision_is_the_newest_older_one() {
        let arns: Vec<String> = [3, 9, 5, 10, 11]
            .iter()
            .map(|r| format!("{ARN}:{r}"))
            .collect();
        assert_eq!(
            previous_revision("web", &format!("{ARN}:10"), &arns),
            Ok(format!("{ARN}:9"))
        );
        assert_eq!(
            previous_revision("web", &format!("{ARN}:3"), &arns),
            Err(RollbackTargetError::NoOlderRevision {
                family: "web".into(),
                live: "web:3".into()
            })
        );
    }

    #[test]
    fn an_inactive_target_is_refused() {
        let described =
            serde_json::json!({"taskDefinitionArn": format!("{ARN}:4"), "status": "INACTIVE"});
        let e = check_rollback_target("web:4", &described).unwrap_err();
        assert_eq!(
            e.to_string(),
            "task definition `web:4` is INACTIVE; ECS cannot roll a service to it"
        );
        let active =
            serde_json::json!({"taskDefinitionArn": format!("{ARN}:4"), "status": "ACTIVE"});
        assert_eq!(
            check_rollback_target("web:4", &active),
            Ok(format!("{ARN}:4"))
        );
    }

    fn deployment(
        id: &str,
        status: &str,
        td: u32,
        state: RolloutState,
    ) -> crate::ecs::model::Deployment {
        crate::ecs::model::Deployment {
            id: id.into(),
            status: status.into(),
            task_definition: format!("{ARN}:{td}"),
            desired_count: 1,
            running_count: 1,
            pending_count: 0,
            failed_tasks: 0,
            rollout_state: Some(state),
            rollout_state_reason: None,
            created_at_ms: None,
        }
    }

    fn snapshot(deployments: Vec<crate::ecs::model::Deployment>) -> ServiceSnapshot {
        ServiceSnapshot {
            arn: "arn".into(),
            name: "web".into(),
            status: "ACTIVE".into(),
            desired_count: 1,
            running_count: 1,
            pending_count: 0,
            task_definition: None,
            deployment_controller: "ECS".into(),
            circuit_breaker: None,
            strategy: None,
            deployments,
            events: vec![],
        }
    }

    /// A deploy made while an earlier one was failing must not roll back to the failing one.
    #[test]
    fn the_fallback_target_is_a_revision_that_completed_or_still_serves() {
        let completed = snapshot(vec![deployment(
            "d5",
            "PRIMARY",
            5,
            RolloutState::Completed,
        )]);
        assert_eq!(
            fallback_rollback_target(&completed, &format!("{ARN}:6")),
            Some(format!("{ARN}:5"))
        );
        let failing = snapshot(vec![
            deployment("d6", "PRIMARY", 6, RolloutState::InProgress),
            deployment("d5", "ACTIVE", 5, RolloutState::Completed),
        ]);
        assert_eq!(
            fallback_rollback_target(&failing, &format!("{ARN}:7")),
            Some(format!("{ARN}:5"))
        );
        // Attached to the failing deployment itself: it is never the target.
        assert_eq!(
            fallback_rollback_target(&failing, &format!("{ARN}:6")),
            Some(format!("{ARN}:5"))
        );
        let first = snapshot(vec![deployment(
            "d1",
            "PRIMARY",
            1,
            RolloutState::InProgress,
        )]);
        assert_eq!(fallback_rollback_target(&first, &format!("{ARN}:1")), None);
    }

    #[test]
    fn plan_text() {
        assert_eq!(
            render_rollback_plan(
                "prod",
                "web",
                &format!("{ARN}:10"),
                &format!("{ARN}:9"),
                None
            ),
            "plan for service `web` in cluster `prod`:\n  roll back from web:10 to web:9\n"
        );
        assert_eq!(
            render_rollback_plan(
                "prod",
                "web",
                &format!("{ARN}:10"),
                &format!("{ARN}:9"),
                Some((4, 2))
            ),
            "plan for service `web` in cluster `prod`:\n  roll back from web:10 to web:9\n  desired count 4 -> 2 (as it was)\n"
        );
    }
}
