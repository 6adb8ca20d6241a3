//! ECS calls of `ecs run`: the placement a service uses, RunTask, DescribeTasks of the started
//! tasks, StopTask.

use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, CapacityProviderStrategyItem, ContainerOverride,
    KeyValuePair, LaunchType, NetworkConfiguration, TaskOverride,
};
use deckhand_core::ecs::model::TaskSnapshot;
use deckhand_core::ecs::run::{CapacityProviderItem, RunLaunch, RunPlan};

use super::{EcsAdapter, EcsError, api_error, task_snapshot};

/// What RunTask answered: the tasks it started and the ones it could not place.
#[derive(Debug, Clone, PartialEq)]
pub struct StartedTasks {
    /// The tasks started, as RunTask described them.
    pub tasks: Vec<TaskSnapshot>,
    /// `(arn or resource, reason)` of each placement failure.
    pub failures: Vec<(String, String)>,
}

impl EcsAdapter {
    /// The placement of a service (DescribeServices): launch type or capacity provider
    /// strategy, platform version and awsvpc network configuration. `None` when the service
    /// does not exist.
    pub async fn service_launch(
        &self,
        cluster: &str,
        service: &str,
    ) -> Result<Option<RunLaunch>, EcsError> {
        let described = self.describe_one_service(cluster, service, false).await?;
        Ok(described.as_ref().map(|s| {
            let vpc = s
                .network_configuration()
                .and_then(|n| n.awsvpc_configuration());
            RunLaunch {
                launch_type: s.launch_type().map(|l| l.as_str().to_string()),
                capacity_provider_strategy: s
                    .capacity_provider_strategy()
                    .iter()
                    .map(|c| CapacityProviderItem {
                        capacity_provider: c.capacity_provider().to_string(),
                        weight: c.weight(),
                        base: c.base(),
                    })
                    .collect(),
                platform_version: s.platform_version().map(str::to_string),
                subnets: vpc.map(|v| v.subnets().to_vec()).unwrap_or_default(),
                security_groups: vpc
                    .map(|v| v.security_groups().to_vec())
                    .unwrap_or_default(),
                assign_public_ip: vpc
                    .and_then(|v| v.assign_public_ip())
                    .map(|a| a.as_str().to_string()),
            }
        }))
    }

    /// RunTask of `task_definition` as `plan` says (count, placement, overrides, startedBy).
    pub async fn run_task(
        &self,
        plan: &RunPlan,
        task_definition: &str,
    ) -> Result<StartedTasks, EcsError> {
        let resource = format!("{}/{task_definition}", plan.cluster);
        let unreadable = |problem: String| EcsError::Unreadable {
            operation: "RunTask",
            resource: resource.clone(),
            problem,
        };
        let l = &plan.launch;
        let network = if l.subnets.is_empty() {
            None
        } else {
            let vpc = AwsVpcConfiguration::builder()
                .set_subnets(Some(l.subnets.clone()))
                .set_security_groups(
                    (!l.security_groups.is_empty()).then(|| l.security_groups.clone()),
                )
                .set_assign_public_ip(l.assign_public_ip.as_deref().map(AssignPublicIp::from))
                .build()
                .map_err(|e| unreadable(e.to_string()))?;
            Some(
                NetworkConfiguration::builder()
                    .awsvpc_configuration(vpc)
                    .build(),
            )
        };
        let mut strategy = Vec::new();
        for c in &l.capacity_provider_strategy {
            strategy.push(
                CapacityProviderStrategyItem::builder()
                    .capacity_provider(&c.capacity_provider)
                    .weight(c.weight)
                    .base(c.base)
                    .build()
                    .map_err(|e| unreadable(e.to_string()))?,
            );
        }
        let overrides = (!plan.overrides.is_empty()).then(|| {
            TaskOverride::builder()
                .set_container_overrides(Some(
                    plan.overrides
                        .iter()
                        .map(|o| {
                            ContainerOverride::builder()
                                .name(&o.name)
                                .set_command(o.command.clone())
                                .set_environment((!o.environment.is_empty()).then(|| {
                                    o.environment
                                        .iter()
                                        .map(|(k, v)| {
                                            KeyValuePair::builder().name(k).value(v).build()
                                        })
                                        .collect()
                                }))
                                .set_cpu(o.cpu)
                                .set_memory(o.memory)
                                .build()
                        })
                        .collect(),
                ))
                .build()
        });
        let out = self
            .client
            .run_task()
            .cluster(&plan.cluster)
            .task_definition(task_definition)
            .count(plan.count)
            .started_by(&plan.started_by)
            .set_launch_type(l.launch_type.as_deref().map(LaunchType::from))
            .set_capacity_provider_strategy((!strategy.is_empty()).then_some(strategy))
            .set_platform_version(l.platform_version.clone())
            .set_network_configuration(network)
            .set_overrides(overrides)
            .send()
            .await
            .map_err(|e| api_error("RunTask", &resource, e))?;
        Ok(StartedTasks {
            tasks: out.tasks().iter().map(task_snapshot).collect(),
            failures: out
                .failures()
                .iter()
                .map(|f| {
                    (
                        f.arn().unwrap_or_default().to_string(),
                        [f.reason(), f.detail()]
                            .into_iter()
                            .flatten()
                            .collect::<Vec<_>>()
                            .join(": "),
                    )
                })
                .collect(),
        })
    }

    /// DescribeTasks of these tasks (at most 100).
    pub async fn describe_tasks(
        &self,
        cluster: &str,
        arns: &[String],
    ) -> Result<Vec<TaskSnapshot>, EcsError> {
        let tasks = self.describe_task_batches(cluster, arns, cluster).await?;
        Ok(tasks.iter().map(task_snapshot).collect())
    }

    /// StopTask with `reason` (shown as the task's `stoppedReason`).
    pub async fn stop_task(&self, cluster: &str, arn: &str, reason: &str) -> Result<(), EcsError> {
        self.client
            .stop_task()
            .cluster(cluster)
            .task(arn)
            .reason(reason)
            .send()
            .await
            .map_err(|e| api_error("StopTask", arn, e))?;
        Ok(())
    }
}
