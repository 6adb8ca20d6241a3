//! What a deploy will do, decided before anything is changed.

use serde::{Deserialize, Serialize};

use super::model::{ClusterSnapshot, Deployment, RolloutState, ServiceSnapshot};
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
    /// `--show-env-values`: the plan's task definition diff shows environment variable values
    /// (secret-looking names still redacted) instead of markers saying whether each changed.
    pub show_env_values: bool,
}

/// What a deploy does with the service's deployments. A re-run of a deploy (after a failure,
/// a timeout, a cancelled or killed job) lands on one of these, and only a deployment of the
/// wanted revision that is PRIMARY and COMPLETED is ever green.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum DeploymentStep {
    /// Nothing: the wanted revision's deployment is PRIMARY and COMPLETED.
    None,
    /// UpdateService starts a deployment of the wanted revision.
    Start,
    /// The wanted revision's deployment is PRIMARY and still in progress: watch it to its
    /// verdict, with no new revision and no UpdateService.
    Attach {
        /// The deployment watched.
        deployment_id: String,
    },
    /// The wanted revision is PRIMARY but its deployment failed: start a fresh deployment of
    /// the same revision (nothing registered).
    Retry {
        /// The failed deployment.
        deployment_id: String,
    },
    /// Only the desired count changes; ECS makes no new deployment.
    Scale,
}

/// An image registered by the digest its tag named when the deploy was planned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinnedImage {
    /// The container.
    pub container: String,
    /// The image as given (by tag).
    pub image: String,
    /// The digest it named.
    pub digest: String,
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
    /// An existing ACTIVE revision identical to the wanted one (the revision of a deploy that
    /// failed and was rolled back): deployed as it is, nothing registered.
    pub reuse: Option<String>,
    /// Unified diff from the live task definition; empty when unchanged. Environment variable
    /// values are replaced by markers saying whether each changed (unless
    /// [`DeployOptions::show_env_values`]), secrets are redacted.
    pub task_definition_diff: String,
    /// `(from, to)` when the desired count changes.
    pub desired_count: Option<(i32, i32)>,
    /// UpdateService forces a new deployment of an unchanged task definition (`--force-new-deployment`, or a retry).
    pub force_new_deployment: bool,
    /// UpdateService will be called.
    pub update_service: bool,
    /// Only the desired count changes: ECS makes no new deployment.
    pub scale_only: bool,
    /// What happens to the service's deployments.
    pub deployment: DeploymentStep,
    /// Images pinned to their digests (set by the preflight that resolved them).
    pub pinned: Vec<PinnedImage>,
    /// `--keep-revisions`: the old revisions a green deploy deregisters.
    pub deregister: Vec<String>,
    /// Things the user should know before applying.
    pub warnings: Vec<String>,
}

impl DeployPlan {
    /// True when applying changes nothing and there is nothing to watch.
    pub fn is_no_op(&self) -> bool {
        !self.register && !self.update_service && self.deployment == DeploymentStep::None
    }
}

/// Where the PRIMARY deployment stands: COMPLETED, still rolling, or failed. A deployment
/// without a rollout state (no rolling-update controller, a Classic LB) is judged by ECS's
/// own steady-state rule.
fn primary_state(service: &ServiceSnapshot) -> Option<(&Deployment, RolloutState)> {
    let p = service.primary()?;
    let state = p.rollout_state.unwrap_or({
        let steady = service.deployments.len() == 1
            && p.running_count == p.desired_count
            && p.pending_count == 0;
        if steady {
            RolloutState::Completed
        } else {
            RolloutState::InProgress
        }
    });
    Some((p, state))
}

/// Decides what a deploy does. `newest` is the newest ACTIVE revision of the wanted family
/// (its ARN and definition) when it is not the live one: a re-run after a rolled-back deploy
/// deploys it again instead of registering a copy.
pub fn plan_deploy(
    live: &TaskDefSpec,
    live_arn: &str,
    desired: &TaskDefSpec,
    newest: Option<(&str, &TaskDefSpec)>,
    service: &ServiceSnapshot,
    options: DeployOptions,
) -> Result<DeployPlan, PreflightError> {
    if let Some(count) = options.desired_count
        && count < 0
    {
        return Err(PreflightError::NegativeDesiredCount { count });
    }
    let same_as_live = desired.same_as(live);
    let reuse = newest
        .filter(|(arn, spec)| !same_as_live && *arn != live_arn && desired.same_as(spec))
        .map(|(arn, _)| arn.to_string());
    let register = !same_as_live && reuse.is_none();
    let diff = if same_as_live {
        String::new()
    } else {
        let to = match &reuse {
            Some(arn) => format!("{} (existing revision)", short_arn(arn)),
            None => format!("{} (new revision)", desired.family()),
        };
        render_diff(
            live,
            desired,
            &format!("{} (live)", short_arn(live_arn)),
            &to,
            options.show_env_values,
        )
    };
    let desired_count = options
        .desired_count
        .filter(|c| *c != service.desired_count)
        .map(|c| (service.desired_count, c));
    let deployment = if !same_as_live || options.force_new_deployment {
        DeploymentStep::Start
    } else {
        match primary_state(service) {
            Some((p, RolloutState::InProgress)) => DeploymentStep::Attach {
                deployment_id: p.id.clone(),
            },
            Some((p, RolloutState::Failed)) => DeploymentStep::Retry {
                deployment_id: p.id.clone(),
            },
            _ if desired_count.is_some() => DeploymentStep::Scale,
            _ => DeploymentStep::None,
        }
    };
    let retry = matches!(deployment, DeploymentStep::Retry { .. });
    let force_new_deployment = same_as_live && (options.force_new_deployment || retry);
    let update_service = !same_as_live || force_new_deployment || desired_count.is_some();
    let mut warnings = Vec::new();
    if let Some(p) = service.primary()
        && p.rollout_state == Some(RolloutState::InProgress)
        && !matches!(deployment, DeploymentStep::Attach { .. })
    {
        warnings.push(format!(
            "deployment {} of `{}` is still in progress; this deploy replaces it",
            p.id, service.name,
        ));
    }
    for field in live.unknown_fields() {
        warnings.push(format!("field `{field}` of the live task definition is unknown to deckhand; it is carried over as is"));
    }
    Ok(DeployPlan {
        live_task_definition: live_arn.to_string(),
        family: desired.family().to_string(),
        register,
        reuse,
        task_definition_diff: diff,
        desired_count,
        force_new_deployment,
        update_service,
        scale_only: deployment == DeploymentStep::Scale,
        deployment,
        pinned: Vec::new(),
        deregister: Vec::new(),
        warnings,
    })
}

/// The newest revision among `arns` that belongs to `family` itself (ListTaskDefinitions
/// matches families by prefix: `web` also lists `webapp`).
pub fn newest_revision<'a>(family: &str, arns: &'a [String]) -> Option<&'a str> {
    arns.iter()
        .filter(|a| family_of(a) == Some(family))
        .max_by_key(|a| super::rollback::revision_of(a))
        .map(String::as_str)
}

/// The family of `arn:...:task-definition/FAMILY:REV` (or `FAMILY:REV`).
pub fn family_of(arn: &str) -> Option<&str> {
    short_arn(arn).rsplit_once(':').map(|(family, _)| family)
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
    let live = short_arn(&plan.live_task_definition);
    match &plan.deployment {
        DeploymentStep::None => out.push_str(&format!(
            "  no change: the service already runs this task definition ({live}) and its deployment completed\n"
        )),
        DeploymentStep::Attach { deployment_id } => out.push_str(&format!(
            "  deployment {deployment_id} of {live} is still in progress: watch it to its verdict (nothing registered, no update)\n"
        )),
        DeploymentStep::Retry { deployment_id } => out.push_str(&format!(
            "  deployment {deployment_id} of {live} failed: start a fresh deployment of the same revision (nothing registered)\n"
        )),
        DeploymentStep::Start | DeploymentStep::Scale => {}
    }
    if plan.register {
        out.push_str(&format!("  register a new revision of `{}`\n", plan.family));
    }
    if let Some(arn) = &plan.reuse {
        out.push_str(&format!(
            "  deploy the existing revision {} (the same task definition; nothing registered)\n",
            short_arn(arn)
        ));
    }
    if plan.force_new_deployment && plan.deployment == DeploymentStep::Start {
        out.push_str(&format!("  force a new deployment of {live}\n"));
    }
    if let Some((from, to)) = plan.desired_count {
        out.push_str(&format!("  desired count {from} -> {to}\n"));
    }
    for p in &plan.pinned {
        out.push_str(&format!(
            "  image of `{}`: `{}` is {} (registered by digest)\n",
            p.container, p.image, p.digest
        ));
    }
    if plan.update_service && !plan.scale_only {
        out.push_str("  update the service and watch the new deployment\n");
    }
    if !plan.deregister.is_empty() {
        let names: Vec<&str> = plan.deregister.iter().map(|a| short_arn(a)).collect();
        out.push_str(&format!(
            "  once green, deregister {} old revision(s): {}\n",
            names.len(),
            names.join(", ")
        ));
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
            strategy: None,
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
            None,
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
            show_env_values: false,
        };
        assert!(
            plan_deploy(
                &spec(),
                ARN,
                &spec(),
                None,
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
            show_env_values: false,
        };
        let plan = plan_deploy(
            &spec(),
            ARN,
            &spec(),
            None,
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
            show_env_values: false,
        };
        let plan = plan_deploy(
            &spec(),
            ARN,
            &spec(),
            None,
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
            None,
            &service(2, RolloutState::InProgress),
            DeployOptions::default(),
        )
        .unwrap();
        assert!(plan.register && plan.update_service && !plan.scale_only);
        insta::assert_snapshot!(render_plan(&plan, "prod", "web"));
    }

    /// The plan (its JSON, and the text a pull request comment shows) names an environment
    /// variable and says that it is new, never its value, unless the user asks.
    #[test]
    fn env_values_are_shown_only_when_asked() {
        let mut new = spec();
        new.apply(&TaskDefPatch {
            images: vec![],
            env: vec![EnvOverride {
                container: "app".into(),
                name: "REDIS_URL".into(),
                value: "redis://:hunter2@cache:6379".into(),
            }],
        })
        .unwrap();
        let plan = |show_env_values| {
            let opts = DeployOptions {
                show_env_values,
                ..DeployOptions::default()
            };
            let svc = service(2, RolloutState::Completed);
            plan_deploy(&spec(), ARN, &new, None, &svc, opts).unwrap()
        };
        let hidden = plan(false);
        let json = serde_json::to_string(&hidden).unwrap();
        let text = render_plan(&hidden, "prod", "web");
        for shown in [&json, &text] {
            assert!(!shown.contains("hunter2"), "{shown}");
        }
        assert!(
            text.contains("+          \"name\": \"REDIS_URL\","),
            "{text}"
        );
        assert!(text.contains("+          \"value\": \"(new)\""), "{text}");
        let text = render_plan(&plan(true), "prod", "web");
        assert!(
            text.contains("+          \"value\": \"redis://:hunter2@cache:6379\""),
            "{text}"
        );
    }

    fn image(tag: &str) -> TaskDefSpec {
        let mut s = spec();
        s.apply(&TaskDefPatch {
            images: vec![crate::ecs::taskdef::ImageOverride {
                container: None,
                image: crate::image_ref::ImageRef::parse(&format!("web:{tag}")).unwrap(),
            }],
            env: vec![],
        })
        .unwrap();
        s
    }

    /// The bug a re-run used to hit: the wanted revision is PRIMARY but its deployment is not
    /// finished, and the plan said "no change" (exit 0).
    #[test]
    fn a_rerun_on_an_unfinished_deployment_attaches_to_it() {
        let plan = plan_deploy(
            &spec(),
            ARN,
            &spec(),
            None,
            &service(2, RolloutState::InProgress),
            DeployOptions::default(),
        )
        .unwrap();
        assert_eq!(
            plan.deployment,
            DeploymentStep::Attach {
                deployment_id: "ecs-svc/1".into()
            }
        );
        assert!(!plan.is_no_op() && !plan.register && !plan.update_service);
        assert!(render_plan(&plan, "c", "web").contains("is still in progress: watch it"));
    }

    #[test]
    fn a_rerun_on_a_failed_deployment_retries_the_same_revision() {
        let plan = plan_deploy(
            &spec(),
            ARN,
            &spec(),
            None,
            &service(2, RolloutState::Failed),
            DeployOptions::default(),
        )
        .unwrap();
        assert_eq!(
            plan.deployment,
            DeploymentStep::Retry {
                deployment_id: "ecs-svc/1".into()
            }
        );
        assert!(!plan.register && plan.update_service && plan.force_new_deployment);
    }

    #[test]
    fn only_a_completed_deployment_is_no_change() {
        let plan = plan_deploy(
            &spec(),
            ARN,
            &spec(),
            None,
            &service(2, RolloutState::Completed),
            DeployOptions::default(),
        )
        .unwrap();
        assert_eq!(plan.deployment, DeploymentStep::None);
        // No rollout state (a Classic LB): ECS's steady state decides.
        let mut svc = service(2, RolloutState::Completed);
        svc.deployments[0].rollout_state = None;
        svc.deployments[0].running_count = 1;
        let plan =
            plan_deploy(&spec(), ARN, &spec(), None, &svc, DeployOptions::default()).unwrap();
        assert!(matches!(plan.deployment, DeploymentStep::Attach { .. }));
    }

    /// After a deploy that was rolled back, the service runs the old revision and the family's
    /// newest revision is the failed one: a re-run deploys it again, registering nothing.
    #[test]
    fn a_rerun_after_a_rollback_reuses_the_failed_revision() {
        let wanted = image("v2");
        let newest = "arn:aws:ecs:r:1:task-definition/web:4";
        let plan = plan_deploy(
            &spec(),
            ARN,
            &wanted,
            Some((newest, &image("v2"))),
            &service(2, RolloutState::Completed),
            DeployOptions::default(),
        )
        .unwrap();
        assert_eq!(plan.reuse.as_deref(), Some(newest));
        assert!(!plan.register && plan.update_service);
        assert_eq!(plan.deployment, DeploymentStep::Start);
        assert!(render_plan(&plan, "c", "web").contains("deploy the existing revision web:4"));
        // A newest revision that differs is not reused.
        let plan = plan_deploy(
            &spec(),
            ARN,
            &wanted,
            Some((newest, &image("v3"))),
            &service(2, RolloutState::Completed),
            DeployOptions::default(),
        )
        .unwrap();
        assert!(plan.register && plan.reuse.is_none());
    }

    #[test]
    fn the_newest_revision_is_of_the_family_itself() {
        let arns: Vec<String> = ["web:3", "webapp:9", "web:10", "web:2"]
            .iter()
            .map(|r| format!("arn:aws:ecs:r:1:task-definition/{r}"))
            .collect();
        assert_eq!(
            newest_revision("web", &arns),
            Some("arn:aws:ecs:r:1:task-definition/web:10")
        );
        assert_eq!(newest_revision("api", &arns), None);
        assert_eq!(
            family_of("arn:aws:ecs:r:1:task-definition/web-api:7"),
            Some("web-api")
        );
    }

    #[test]
    fn negative_count_is_rejected() {
        let opts = DeployOptions {
            desired_count: Some(-1),
            force_new_deployment: false,
            show_env_values: false,
        };
        let err = plan_deploy(
            &spec(),
            ARN,
            &spec(),
            None,
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
