//! What post-deploy verification reads from ECS: a service's load balancers and the private
//! addresses of a deployment's running tasks.

use aws_sdk_ecs::types::DesiredStatus;
use deckhand_core::ecs::verify::{LoadBalancerBinding, TaskAddress};

use crate::ecs::{EcsAdapter, EcsError};

impl EcsAdapter {
    /// DescribeServices: the service's `loadBalancers` (empty when it has none, or is gone) and
    /// its `deploymentConfiguration.strategy` (`ROLLING`, `BLUE_GREEN`, ...; absent on older
    /// services, which roll).
    pub async fn service_load_balancers(
        &self,
        cluster: &str,
        service: &str,
    ) -> Result<(Vec<LoadBalancerBinding>, Option<String>), EcsError> {
        let Some(s) = self.describe_one_service(cluster, service, false).await? else {
            return Ok((Vec::new(), None));
        };
        let bindings = s
            .load_balancers()
            .iter()
            .map(|lb| LoadBalancerBinding {
                target_group_arn: lb.target_group_arn().map(str::to_string),
                container_name: lb.container_name().map(str::to_string),
                container_port: lb.container_port(),
            })
            .collect();
        let strategy = s
            .deployment_configuration()
            .and_then(|c| c.strategy())
            .map(|st| st.as_str().to_string());
        Ok((bindings, strategy))
    }

    /// The RUNNING tasks a deployment started (ListTasks by `startedBy`, then DescribeTasks),
    /// with the private IPv4 address of their network interface (awsvpc tasks have one).
    pub async fn deployment_task_addresses(
        &self,
        cluster: &str,
        service: &str,
        deployment_id: &str,
    ) -> Result<Vec<TaskAddress>, EcsError> {
        let resource = format!("{cluster}/{service}");
        let arns = self
            .list_service_tasks(
                cluster,
                service,
                DesiredStatus::Running,
                Some(deployment_id),
                None,
            )
            .await?;
        let described = self
            .describe_task_batches(cluster, &arns, &resource)
            .await?;
        let tasks = described
            .iter()
            .filter(|t| t.last_status() == Some("RUNNING"))
            .map(|t| {
                let from_attachment = t
                    .attachments()
                    .iter()
                    .flat_map(|a| a.details())
                    .find(|d| d.name() == Some("privateIPv4Address"))
                    .and_then(|d| d.value());
                let from_container = t
                    .containers()
                    .iter()
                    .flat_map(|c| c.network_interfaces())
                    .find_map(|n| n.private_ipv4_address());
                let arn = t.task_arn().unwrap_or_default();
                TaskAddress {
                    task_id: arn.rsplit('/').next().unwrap_or(arn).to_string(),
                    ip: from_attachment.or(from_container).map(str::to_string),
                }
            })
            .collect();
        Ok(tasks)
    }
}
