//! What a deploy will do, decided before anything is changed.

use serde::{Deserialize, Serialize};

use super::model::{ClusterSnapshot, RolloutState, ServiceSnapshot};
use super::taskdef::{TaskDefSpec, render_diff};

/// Why a deploy cannot start. Nothing has been changed when one of these is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PreflightError {
    /// DescribeClusters found no such cluster.
    #[error("cluster `{cluster}` not found")]
    ClusterNotFound {
        /// The cluster.
        cluster: String,
    },
    /// The cluster exists but is not ACTIVE.
    #[error("cluster `{cluster}` is {status}, not ACTIVE")]
    ClusterNotActive {
        /// The cluster.
        cluster: String,
        /// Its status.
        status: String,
    },
    /// DescribeServices found no such service.
    #[error("service `{service}` not found in cluster `{cluster}`")]
    ServiceNotFound {
        /// The cluster.
        cluster: String,
        /// The service.
        service: String,
    },
    /// The service exists but is draining or deleted.
    #[error("service `{service}` in cluster `{cluster}` is {status}, not ACTIVE")]
    ServiceNotActive {
        /// The cluster.
        cluster: String,
        /// The service.
        service: String,
        /// Its status.
        status: String,
    },
    /// Blue/green (CodeDeploy) and external controllers are rolled differently.
    #[error(
        "service `{service}` uses the `{controller}` deployment controller; `deckhand ecs deploy` rolls `ECS` (rolling update) services"
    )]
    UnsupportedController {
        /// The service.
        service: String,
        /// Its controller.
        controller: String,
    },
    /// The service runs no task definition deckhand could clone.
    #[error("service `{service}` has no task definition to update")]
    NoTaskDefinition {
        /// The service.
        service: String,
    },
    /// A desired count below zero.
    #[error("desired count {count} is negative")]
    NegativeDesiredCount {
        /// The count given.
        count: i32,
    },
}

impl PreflightError {
    /// How to fix it, when known.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::ClusterNotFound { .. } => Some("check `--cluster` and `--region` (or AWS_REGION); `aws ecs list-clusters` lists the clusters".into()),
            Self::ServiceNotFound { cluster, .. } => Some(format!("check `--service`; `aws ecs list-services --cluster {cluster}` lists the services")),
            Self::UnsupportedController { .. } => Some("use a CodeDeploy deployment for blue/green services".into()),
            Self::ServiceNotActive { .. } | Self::ClusterNotActive { .. } => Some("deploy to an ACTIVE service".into()),
            Self::NoTaskDefinition { .. } => Some("pass a whole task definition with `--task-definition FILE`".into()),
            Self::NegativeDesiredCount { .. } => Some("use `--desired-count 0` or more".into()),
        }
    }
}

/// Checks that the cluster and service can be deployed to.
pub fn check_target(
    cluster_name: &str,
    service_name: &str,
    cluster: Option<&ClusterSnapshot>,
    service: Option<&ServiceSnapshot>,
) -> Result<(), PreflightError> {
    let cluster_owned = || cluster_name.to_string();
    let Some(c) = cluster else {
        return Err(PreflightError::ClusterNotFound {
            cluster: cluster_owned(),
        });
    };
    if c.status != "ACTIVE" {
        return Err(PreflightError::ClusterNotActive {
            cluster: cluster_owned(),
            status: c.status.clone(),
        });
    }
    let Some(s) = service else {
        return Err(PreflightError::ServiceNotFound {
            cluster: cluster_owned(),
            service: service_name.into(),
        });
    };
    if s.status != "ACTIVE" {
        return Err(PreflightError::ServiceNotActive {
            cluster: cluster_owned(),
            service: service_name.into(),
            status: s.status.clone(),
        });
    }
    if s.deployment_controller != "ECS" {
        return Err(PreflightError::UnsupportedController {
            service: service_name.into(),
            controller: s.deployment_controller.clone(),
        });
    }
    Ok(())
}

/// The task definition a service runs now: its PRIMARY deployment's (the service-level field
/// can lag behind during a rollback on some ECS versions).
pub fn live_task_definition(service: &ServiceSnapshot) -> Option<String> {
    service
        .primary()
        .map(|d| d.task_definition.clone())
        .or_else(|| service.task_definition.clone())
}

/// Deploy settings that are not part of the task definition.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeployOptions {
    /// `--desired-count`.
    pub desired_count: Option<i32>,
    /// `--force-new-deployment`.
    pub force_new_deployment: bool,
}

/// What a deploy will do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployPlan {
    /// The task definition the service runs now.
    pub live_task_definition: String,
    /// The family of the task definition to deploy.
    pub family: String,
    /// A new revision will be registered.
    pub register: bool,
    /// Unified diff from the live task definition (secrets redacted); empty when unchanged.
    pub task_definition_diff: String,
    /// `(from, to)` when the desired count changes.
    pub desired_count: Option<(i32, i32)>,
    /// A new deployment is forced with an unchanged task definition.
    pub force_new_deployment: bool,
    /// UpdateService will be called.
    pub update_service: bool,
    /// Only the desired count changes: ECS makes no new deployment.
    pub scale_only: bool,
    /// Things the user should know before applying.
    pub warnings: Vec<String>,
}

impl DeployPlan {
    /// True when applying changes nothing.
    pub fn is_no_op(&self) -> bool {
        !self.register && !self.update_service
    }
}

/// Decides what a deploy does.
pub fn plan_deploy(
    live: &TaskDefSpec,
    live_arn: &str,
    desired: &TaskDefSpec,
    service: &ServiceSnapshot,
    options: DeployOptions,
) -> Result<DeployPlan, PreflightError> {
    if let Some(count) = options.desired_count
        && count < 0
    {
        return Err(PreflightError::NegativeDesiredCount { count });
    }
    let register = !desired.same_as(live);
    let diff = if register {
        render_diff(
            live,
            desired,
            &format!("{} (live)", short_arn(live_arn)),
            &format!("{} (new revision)", desired.family()),
        )
    } else {
        String::new()
    };
    let desired_count = options
        .desired_count
        .filter(|c| *c != service.desired_count)
        .map(|c| (service.desired_count, c));
    let update_service = register || options.force_new_deployment || desired_count.is_some();
    let mut warnings = Vec::new();
    if let Some(p) = service.primary()
        && p.rollout_state == Some(RolloutState::InProgress)
    {
        warnings.push(format!(
            "deployment {} of `{}` is still in progress; the rollback target is its task definition `{}`",
            p.id,
            service.name,
            short_arn(&p.task_definition)
        ));
    }
    for field in live.unknown_fields() {
        warnings.push(format!("field `{field}` of the live task definition is unknown to deckhand; it is carried over as is"));
    }
    Ok(DeployPlan {
        live_task_definition: live_arn.to_string(),
        family: desired.family().to_string(),
        register,
        task_definition_diff: diff,
        desired_count,
        force_new_deployment: options.force_new_deployment && !register,
        update_service,
        scale_only: update_service && !register && !options.force_new_deployment,
        warnings,
    })
}

/// `family:revision` from a task definition ARN (or the input, when it is not an ARN).
pub fn short_arn(arn: &str) -> &str {
    arn.rsplit_once('/').map_or(arn, |(_, tail)| tail)
}

/// Renders the plan for people.
pub fn render_plan(plan: &DeployPlan, cluster: &str, service: &str) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "plan for service `{service}` in cluster `{cluster}`:\n"
    ));
    if plan.is_no_op() {
        out.push_str(&format!(
            "  no change: the service already runs this task definition ({})\n",
            short_arn(&plan.live_task_definition)
        ));
    }
    if plan.register {
        out.push_str(&format!("  register a new revision of `{}`\n", plan.family));
    }
    if plan.force_new_deployment {
        out.push_str(&format!(
            "  force a new deployment of {}\n",
            short_arn(&plan.live_task_definition)
        ));
    }
    if let Some((from, to)) = plan.desired_count {
        out.push_str(&format!("  desired count {from} -> {to}\n"));
    }
    if plan.update_service && !plan.scale_only {
        out.push_str("  update the service and watch the new deployment\n");
    }
    for w in &plan.warnings {
        out.push_str(&format!("  warning: {w}\n"));
    }
    if !plan.task_definition_diff.is_empty() {
        out.push('\n');
        out.push_str(&plan.task_definition_diff);
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ecs::model::Deployment;
    use crate::ecs::taskdef::{EnvOverride, TaskDefPatch};

    fn spec() -> TaskDefSpec {
        TaskDefSpec::from_described(
            &json!({"family": "web", "revision": 3, "containerDefinitions": [{"name": "app", "image": "web:v1"}]}),
            None,
        )
        .unwrap()
    }

    fn service(desired: i32, state: RolloutState) -> ServiceSnapshot {
        ServiceSnapshot {
            arn: "arn".into(),
            name: "web".into(),
            status: "ACTIVE".into(),
            desired_count: desired,
            running_count: desired,
            pending_count: 0,
            task_definition: Some("arn:aws:ecs:r:1:task-definition/web:3".into()),
            deployment_controller: "ECS".into(),
            circuit_breaker: None,
            deployments: vec![Deployment {
                id: "ecs-svc/1".into(),
                status: "PRIMARY".into(),
                task_definition: "arn:aws:ecs:r:1:task-definition/web:3".into(),
                desired_count: desired,
                running_count: desired,
                pending_count: 0,
                failed_tasks: 0,
                rollout_state: Some(state),
                rollout_state_reason: None,
                created_at_ms: None,
            }],
            events: vec![],
        }
    }

    const ARN: &str = "arn:aws:ecs:r:1:task-definition/web:3";

    #[test]
    fn unchanged_is_a_no_op() {
        let plan = plan_deploy(
            &spec(),
            ARN,
            &spec(),
            &service(2, RolloutState::Completed),
            DeployOptions::default(),
        )
        .unwrap();
        assert!(plan.is_no_op());
        assert!(render_plan(&plan, "c", "web").contains("no change"));
    }

    #[test]
    fn same_count_is_still_a_no_op() {
        let opts = DeployOptions {
            desired_count: Some(2),
            force_new_deployment: false,
        };
        assert!(
            plan_deploy(
                &spec(),
                ARN,
                &spec(),
                &service(2, RolloutState::Completed),
                opts
            )
            .unwrap()
            .is_no_op()
        );
    }

    #[test]
    fn force_with_unchanged_definition_updates_without_registering() {
        let opts = DeployOptions {
            desired_count: None,
            force_new_deployment: true,
        };
        let plan = plan_deploy(
            &spec(),
            ARN,
            &spec(),
            &service(2, RolloutState::Completed),
            opts,
        )
        .unwrap();
        assert!(
            !plan.register && plan.update_service && plan.force_new_deployment && !plan.scale_only
        );
    }

    #[test]
    fn count_only_is_scale_only() {
        let opts = DeployOptions {
            desired_count: Some(4),
            force_new_deployment: false,
        };
        let plan = plan_deploy(
            &spec(),
            ARN,
            &spec(),
            &service(2, RolloutState::Completed),
            opts,
        )
        .unwrap();
        assert_eq!(plan.desired_count, Some((2, 4)));
        assert!(plan.scale_only && !plan.register);
    }

    #[test]
    fn a_change_registers_and_renders_a_diff() {
        let mut new = spec();
        new.apply(&TaskDefPatch {
            images: vec![],
            env: vec![EnvOverride {
                container: "app".into(),
                name: "A".into(),
                value: "1".into(),
            }],
        })
        .unwrap();
        let plan = plan_deploy(
            &spec(),
            ARN,
            &new,
            &service(2, RolloutState::InProgress),
            DeployOptions::default(),
        )
        .unwrap();
        assert!(plan.register && plan.update_service && !plan.scale_only);
        insta::assert_snapshot!(render_plan(&plan, "prod", "web"));
    }

    #[test]
    fn negative_count_is_rejected() {
        let opts = DeployOptions {
            desired_count: Some(-1),
            force_new_deployment: false,
        };
        let err = plan_deploy(
            &spec(),
            ARN,
            &spec(),
            &service(2, RolloutState::Completed),
            opts,
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "desired count -1 is negative");
    }

    #[test]
    fn preflight_errors() {
        let active = ClusterSnapshot {
            arn: "a".into(),
            status: "ACTIVE".into(),
        };
        assert_eq!(
            check_target("c", "s", None, None).unwrap_err().to_string(),
            "cluster `c` not found"
        );
        assert_eq!(
            check_target("c", "s", Some(&active), None)
                .unwrap_err()
                .to_string(),
            "service `s` not found in cluster `c`"
        );
        let mut svc = service(1, RolloutState::Completed);
        svc.deployment_controller = "CODE_DEPLOY".into();
        assert!(matches!(
            check_target("c", "s", Some(&active), Some(&svc)),
            Err(PreflightError::UnsupportedController { .. })
        ));
        svc.deployment_controller = "ECS".into();
        svc.status = "DRAINING".into();
        assert!(matches!(
            check_target("c", "s", Some(&active), Some(&svc)),
            Err(PreflightError::ServiceNotActive { .. })
        ));
    }
}
