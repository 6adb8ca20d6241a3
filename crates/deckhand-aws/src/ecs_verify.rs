//! What post-deploy verification reads from ECS: a service's load balancers and the private
//! addresses of a deployment's running tasks.

use aws_sdk_ecs::types::DesiredStatus;
use deckhand_core::ecs::verify::{LoadBalancerBinding, TaskAddress};

use crate::ecs::{EcsAdapter, EcsError, api_error};

impl EcsAdapter {
    /// DescribeServices: the service's `loadBalancers` (empty when it has none, or is gone) and
    /// its `deploymentConfiguration.strategy` (`ROLLING`, `BLUE_GREEN`, ...; absent on older
    /// services, which roll).
    pub async fn service_load_balancers(
        &self,
        cluster: &str,
        service: &str,
    ) -> Result<(Vec<LoadBalancerBinding>, Option<String>), EcsError> {
        let resource = format!("{cluster}/{service}");
        let out = self
            .client
            .describe_services()
            .cluster(cluster)
            .services(service)
            .send()
            .await
            .map_err(|e| api_error("DescribeServices", &resource, e))?;
        let Some(s) = out.services().first() else {
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
        let mut arns = Vec::new();
        let mut pages = self
            .client
            .list_tasks()
            .cluster(cluster)
            .service_name(service)
            .started_by(deployment_id)
            .desired_status(DesiredStatus::Running)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| api_error("ListTasks", &resource, e))?;
            arns.extend(page.task_arns().iter().cloned());
        }
        let mut tasks = Vec::with_capacity(arns.len());
        for chunk in arns.chunks(100) {
            let out = self
                .client
                .describe_tasks()
                .cluster(cluster)
                .set_tasks(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| api_error("DescribeTasks", &resource, e))?;
            for t in out.tasks() {
                if t.last_status() != Some("RUNNING") {
                    continue;
                }
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
                tasks.push(TaskAddress {
                    task_id: arn.rsplit('/').next().unwrap_or(arn).to_string(),
                    ip: from_attachment.or(from_container).map(str::to_string),
                });
            }
        }
        Ok(tasks)
    }
}
