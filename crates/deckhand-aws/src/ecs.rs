//! ECS: observe clusters, services and tasks; register task definitions; update services.

mod stages;

use aws_sdk_ecs::Client;
use aws_sdk_ecs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ecs::types::{
    DesiredStatus, Service, ServiceField, SortOrder, Task, TaskDefinitionField,
    TaskDefinitionStatus,
};
use aws_smithy_types::DateTime;
use deckhand_core::ecs::history::ServiceDeploymentView;
use deckhand_core::ecs::model::{
    CircuitBreaker, ClusterSnapshot, ContainerState, Deployment, RolloutState, ServiceEvent,
    ServiceSnapshot, TaskSnapshot,
};
use deckhand_core::ecs::strategy::Strategy;
use serde_json::Value;

use crate::config::AwsContext;
use crate::raw_json::{CaptureResponse, ReplaceRequestBody};

mod run;
pub use run::StartedTasks;

/// An ECS call that failed.
#[derive(Debug, thiserror::Error)]
pub enum EcsError {
    /// ECS (or the network) refused the call.
    #[error("`ecs:{operation}` failed for `{resource}`: {message}")]
    Api {
        /// The operation, e.g. `UpdateService`.
        operation: &'static str,
        /// What it was called on.
        resource: String,
        /// The error code ECS returned, when it returned one.
        code: Option<String>,
        /// ECS's message, or the transport error.
        message: String,
    },
    /// ECS answered with something deckhand cannot read.
    #[error("`ecs:{operation}` for `{resource}` returned an unreadable response: {problem}")]
    Unreadable {
        /// The operation.
        operation: &'static str,
        /// What it was called on.
        resource: String,
        /// What is wrong.
        problem: String,
    },
}

impl EcsError {
    /// The ECS error code, when there is one (`ClusterNotFoundException`, ...).
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api { code, .. } => code.as_deref(),
            Self::Unreadable { .. } => None,
        }
    }

    /// What the call was made on.
    pub fn resource(&self) -> &str {
        match self {
            Self::Api { resource, .. } | Self::Unreadable { resource, .. } => resource,
        }
    }

    /// How to fix it, when the answer says (permissions, credentials).
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Api { code, message, .. } => crate::error::access_hint(code.as_deref(), message),
            Self::Unreadable { .. } => None,
        }
    }

    /// True for "this resource does not exist" answers.
    pub fn is_not_found(&self) -> bool {
        matches!(
            self.code(),
            Some("ClusterNotFoundException" | "ServiceNotFoundException")
        ) || matches!(self, Self::Api { message, code, .. }
            if code.as_deref() == Some("ClientException") && message.contains("Unable to describe task definition"))
    }
}

pub(crate) fn api_error<E, R>(
    operation: &'static str,
    resource: &str,
    err: SdkError<E, R>,
) -> EcsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let (code, message) = error_parts(&err);
    EcsError::Api {
        operation,
        resource: resource.to_string(),
        code,
        message,
    }
}

/// The error code and message of any SDK call: the service's own when it answered, else the
/// transport error's chain. Shared by every adapter.
pub(crate) fn error_parts<E, R>(err: &SdkError<E, R>) -> (Option<String>, String)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match err.as_service_error() {
        Some(service) => (
            service.code().map(str::to_string),
            service
                .message()
                .map_or_else(|| service.to_string(), str::to_string),
        ),
        None => (None, error_chain(err)),
    }
}

/// "dispatch failure: io error: connection refused", not just "dispatch failure".
pub(crate) fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// The ECS side of a deploy.
#[derive(Debug, Clone)]
pub struct EcsAdapter {
    pub(crate) client: Client,
}

/// A task definition as DescribeTaskDefinition returned it, untouched.
#[derive(Debug, Clone, PartialEq)]
pub struct DescribedTaskDefinition {
    /// The `taskDefinition` member.
    pub task_definition: Value,
    /// The top-level `tags` member (present with `include=TAGS`).
    pub tags: Option<Value>,
}

/// The parameters of one UpdateService call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceUpdate {
    /// Task definition ARN to roll to.
    pub task_definition: Option<String>,
    /// New desired count.
    pub desired_count: Option<i32>,
    /// Start a new deployment even when nothing changed.
    pub force_new_deployment: bool,
}

const STOPPED_TASK_PAGES: usize = 3;

impl EcsAdapter {
    /// Builds the adapter from the loaded AWS context; every request is counted.
    pub fn new(ctx: &AwsContext) -> Self {
        let config = aws_sdk_ecs::config::Builder::from(&ctx.sdk)
            .interceptor(ctx.calls.clone())
            .build();
        Self {
            client: Client::from_conf(config),
        }
    }

    /// DescribeClusters. `None` when the cluster does not exist.
    pub async fn observe_cluster(
        &self,
        cluster: &str,
    ) -> Result<Option<ClusterSnapshot>, EcsError> {
        let out = self
            .client
            .describe_clusters()
            .clusters(cluster)
            .send()
            .await
            .map_err(|e| api_error("DescribeClusters", cluster, e))?;
        Ok(out.clusters().first().map(|c| ClusterSnapshot {
            arn: c.cluster_arn().unwrap_or_default().to_string(),
            status: c.status().unwrap_or_default().to_string(),
        }))
    }

    /// DescribeServices for one service. `None` when it does not exist (ECS reports MISSING).
    pub async fn observe_service(
        &self,
        cluster: &str,
        service: &str,
    ) -> Result<Option<ServiceSnapshot>, EcsError> {
        Ok(self
            .describe_one_service(cluster, service, true)
            .await?
            .as_ref()
            .map(service_snapshot))
    }

    /// DescribeTaskDefinition with its tags, as raw JSON.
    pub async fn describe_task_definition(
        &self,
        task_definition: &str,
    ) -> Result<DescribedTaskDefinition, EcsError> {
        let capture = CaptureResponse::default();
        self.client
            .describe_task_definition()
            .task_definition(task_definition)
            .include(TaskDefinitionField::Tags)
            .customize()
            .interceptor(capture.clone())
            .send()
            .await
            .map_err(|e| api_error("DescribeTaskDefinition", task_definition, e))?;
        let unreadable = |problem: &str| EcsError::Unreadable {
            operation: "DescribeTaskDefinition",
            resource: task_definition.to_string(),
            problem: problem.to_string(),
        };
        let body = capture
            .take()
            .ok_or_else(|| unreadable("the response body was not captured"))?;
        let mut doc: Value =
            serde_json::from_slice(&body).map_err(|e| unreadable(&e.to_string()))?;
        let td = doc
            .get_mut("taskDefinition")
            .map(Value::take)
            .ok_or_else(|| unreadable("no `taskDefinition` member"))?;
        Ok(DescribedTaskDefinition {
            task_definition: td,
            tags: doc.get_mut("tags").map(Value::take),
        })
    }

    /// RegisterTaskDefinition with `body` (RegisterTaskDefinition JSON) sent as is. Returns the
    /// new revision's ARN.
    pub async fn register_task_definition(&self, body: &Value) -> Result<String, EcsError> {
        let family = body
            .get("family")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let bytes = serde_json::to_vec(body).map_err(|e| EcsError::Unreadable {
            operation: "RegisterTaskDefinition",
            resource: family.clone(),
            problem: e.to_string(),
        })?;
        // The builder needs its required members to build; the interceptor then sends our body.
        let out = self
            .client
            .register_task_definition()
            .family(&family)
            .set_container_definitions(Some(Vec::new()))
            .customize()
            .interceptor(ReplaceRequestBody::new(bytes))
            .send()
            .await
            .map_err(|e| api_error("RegisterTaskDefinition", &family, e))?;
        out.task_definition()
            .and_then(|t| t.task_definition_arn())
            .map(str::to_string)
            .ok_or_else(|| EcsError::Unreadable {
                operation: "RegisterTaskDefinition",
                resource: family,
                problem: "no task definition ARN in the response".into(),
            })
    }

    /// UpdateService. Returns the service as ECS answered, whose PRIMARY deployment is the one
    /// this call started.
    pub async fn update_service(
        &self,
        cluster: &str,
        service: &str,
        update: &ServiceUpdate,
    ) -> Result<ServiceSnapshot, EcsError> {
        let resource = format!("{cluster}/{service}");
        let out = self
            .client
            .update_service()
            .cluster(cluster)
            .service(service)
            .set_task_definition(update.task_definition.clone())
            .set_desired_count(update.desired_count)
            .force_new_deployment(update.force_new_deployment)
            .send()
            .await
            .map_err(|e| api_error("UpdateService", &resource, e))?;
        out.service()
            .map(service_snapshot)
            .ok_or_else(|| EcsError::Unreadable {
                operation: "UpdateService",
                resource,
                problem: "no service in the response".into(),
            })
    }

    /// The most recent stopped tasks of a service (ListTasks with `desiredStatus=STOPPED`, then
    /// DescribeTasks in batches of 100). Reads at most a few pages: ECS keeps stopped tasks for
    /// about an hour and the report needs the latest ones.
    pub async fn observe_stopped_tasks(
        &self,
        cluster: &str,
        service: &str,
    ) -> Result<Vec<TaskSnapshot>, EcsError> {
        let resource = format!("{cluster}/{service}");
        let arns = self
            .list_service_tasks(
                cluster,
                service,
                DesiredStatus::Stopped,
                None,
                Some(STOPPED_TASK_PAGES),
            )
            .await?;
        let tasks = self
            .describe_task_batches(cluster, &arns, &resource)
            .await?;
        Ok(tasks.iter().map(task_snapshot).collect())
    }

    /// DescribeServices of one service (with its tags when `tags`); `None` when it does not
    /// exist (ECS reports it MISSING). Each caller reads the view it needs from it.
    pub(crate) async fn describe_one_service(
        &self,
        cluster: &str,
        service: &str,
        tags: bool,
    ) -> Result<Option<Service>, EcsError> {
        let resource = format!("{cluster}/{service}");
        let mut request = self
            .client
            .describe_services()
            .cluster(cluster)
            .services(service);
        if tags {
            request = request.include(ServiceField::Tags);
        }
        let out = request
            .send()
            .await
            .map_err(|e| api_error("DescribeServices", &resource, e))?;
        Ok(out.services().first().cloned())
    }

    /// The task ARNs of `service` in `desired` status (ListTasks, paged), those a deployment
    /// started when `started_by` is given; at most `max_pages` pages when given.
    pub(crate) async fn list_service_tasks(
        &self,
        cluster: &str,
        service: &str,
        desired: DesiredStatus,
        started_by: Option<&str>,
        max_pages: Option<usize>,
    ) -> Result<Vec<String>, EcsError> {
        let resource = format!("{cluster}/{service}");
        let mut arns = Vec::new();
        let mut pages = self
            .client
            .list_tasks()
            .cluster(cluster)
            .service_name(service)
            .set_started_by(started_by.map(str::to_string))
            .desired_status(desired)
            .into_paginator()
            .send();
        let mut read = 0;
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| api_error("ListTasks", &resource, e))?;
            arns.extend(page.task_arns().iter().cloned());
            read += 1;
            if max_pages == Some(read) {
                break;
            }
        }
        Ok(arns)
    }

    /// DescribeTasks of `arns`, 100 at a time (ECS's limit); errors name `resource`.
    pub(crate) async fn describe_task_batches(
        &self,
        cluster: &str,
        arns: &[String],
        resource: &str,
    ) -> Result<Vec<Task>, EcsError> {
        let mut tasks = Vec::with_capacity(arns.len());
        for chunk in arns.chunks(100) {
            let out = self
                .client
                .describe_tasks()
                .cluster(cluster)
                .set_tasks(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(|e| api_error("DescribeTasks", resource, e))?;
            tasks.extend(out.tasks().iter().cloned());
        }
        Ok(tasks)
    }

    /// Every task definition a deployment of any service of `cluster` runs (ListServices, then
    /// DescribeServices ten at a time): what a cleanup must never deregister.
    pub async fn cluster_task_definitions(&self, cluster: &str) -> Result<Vec<String>, EcsError> {
        let mut arns = Vec::new();
        let mut pages = self
            .client
            .list_services()
            .cluster(cluster)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| api_error("ListServices", cluster, e))?;
            arns.extend(page.service_arns().iter().cloned());
        }
        let mut used = Vec::new();
        for batch in arns.chunks(10) {
            let out = self
                .client
                .describe_services()
                .cluster(cluster)
                .set_services(Some(batch.to_vec()))
                .send()
                .await
                .map_err(|e| api_error("DescribeServices", cluster, e))?;
            for s in out.services() {
                used.extend(
                    s.deployments()
                        .iter()
                        .filter_map(|d| d.task_definition().map(str::to_string)),
                );
                used.extend(s.task_definition().map(str::to_string));
            }
        }
        used.sort();
        used.dedup();
        Ok(used)
    }

    /// DeregisterTaskDefinition (the revision stays describable as INACTIVE; running tasks go on).
    pub async fn deregister_task_definition(&self, arn: &str) -> Result<(), EcsError> {
        self.client
            .deregister_task_definition()
            .task_definition(arn)
            .send()
            .await
            .map_err(|e| api_error("DeregisterTaskDefinition", arn, e))?;
        Ok(())
    }

    /// The service's deployment history as ECS keeps it, newest first (at most `max`, one
    /// page): ListServiceDeployments, DescribeServiceDeployments, and DescribeServiceRevisions
    /// for the target revisions' task definitions. `None` when ECS does not offer it here
    /// (`UnsupportedFeatureException`, an endpoint without the API).
    pub async fn service_deployments(
        &self,
        cluster: &str,
        service: &str,
        max: i32,
    ) -> Result<Option<Vec<ServiceDeploymentView>>, EcsError> {
        let resource = format!("{cluster}/{service}");
        let listed = match self
            .client
            .list_service_deployments()
            .cluster(cluster)
            .service(service)
            .max_results(max.clamp(1, 20))
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                let error = api_error("ListServiceDeployments", &resource, e);
                let unsupported = matches!(
                    error.code(),
                    Some(
                        "UnsupportedFeatureException"
                            | "UnknownOperationException"
                            | "InvalidAction"
                    )
                );
                return if unsupported { Ok(None) } else { Err(error) };
            }
        };
        let arns: Vec<String> = listed
            .service_deployments()
            .iter()
            .filter_map(|d| d.service_deployment_arn().map(str::to_string))
            .collect();
        if arns.is_empty() {
            return Ok(Some(Vec::new()));
        }
        let described = self
            .client
            .describe_service_deployments()
            .set_service_deployment_arns(Some(arns.clone()))
            .send()
            .await
            .map_err(|e| api_error("DescribeServiceDeployments", &resource, e))?;
        let revisions: Vec<String> = {
            let mut r: Vec<String> = described
                .service_deployments()
                .iter()
                .filter_map(|d| d.target_service_revision().and_then(|t| t.arn()))
                .map(str::to_string)
                .collect();
            r.sort();
            r.dedup();
            r
        };
        let task_definitions: std::collections::HashMap<String, String> = if revisions.is_empty() {
            std::collections::HashMap::new()
        } else {
            self.client
                .describe_service_revisions()
                .set_service_revision_arns(Some(revisions))
                .send()
                .await
                .map_err(|e| api_error("DescribeServiceRevisions", &resource, e))?
                .service_revisions()
                .iter()
                .filter_map(|r| {
                    Some((
                        r.service_revision_arn()?.to_string(),
                        r.task_definition()?.to_string(),
                    ))
                })
                .collect()
        };
        let by_arn: std::collections::HashMap<&str, &aws_sdk_ecs::types::ServiceDeployment> =
            described
                .service_deployments()
                .iter()
                .filter_map(|d| Some((d.service_deployment_arn()?, d)))
                .collect();
        // In the listing's order: newest first.
        Ok(Some(
            arns.iter()
                .filter_map(|arn| by_arn.get(arn.as_str()))
                .map(|d| {
                    let target = d.target_service_revision();
                    let target_arn = target.and_then(|t| t.arn()).map(str::to_string);
                    ServiceDeploymentView {
                        arn: d.service_deployment_arn().unwrap_or_default().to_string(),
                        status: d
                            .status()
                            .map(|s| s.as_str().to_string())
                            .unwrap_or_default(),
                        status_reason: d.status_reason().map(str::to_string),
                        created_at_ms: millis(d.created_at()),
                        target_task_definition: target_arn
                            .as_ref()
                            .and_then(|a| task_definitions.get(a).cloned()),
                        target_revision: target_arn,
                        target_task_count: target.map(|t| t.requested_task_count()),
                        rolled_back_to_revision: d
                            .rollback()
                            .and_then(|r| r.service_revision_arn())
                            .map(str::to_string),
                    }
                })
                .collect(),
        ))
    }

    /// ACTIVE task definition ARNs of a family, newest first.
    pub async fn list_task_definitions(&self, family: &str) -> Result<Vec<String>, EcsError> {
        let mut arns = Vec::new();
        let mut pages = self
            .client
            .list_task_definitions()
            .family_prefix(family)
            .status(TaskDefinitionStatus::Active)
            .sort(SortOrder::Desc)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| api_error("ListTaskDefinitions", family, e))?;
            arns.extend(page.task_definition_arns().iter().cloned());
        }
        Ok(arns)
    }
}

fn millis(t: Option<&DateTime>) -> Option<i64> {
    t.and_then(|t| t.to_millis().ok())
}

/// Converts a DescribeServices/UpdateService service.
pub fn service_snapshot(s: &Service) -> ServiceSnapshot {
    ServiceSnapshot {
        arn: s.service_arn().unwrap_or_default().to_string(),
        name: s.service_name().unwrap_or_default().to_string(),
        status: s.status().unwrap_or_default().to_string(),
        desired_count: s.desired_count(),
        running_count: s.running_count(),
        pending_count: s.pending_count(),
        task_definition: s.task_definition().map(str::to_string),
        deployment_controller: s
            .deployment_controller()
            .map_or_else(|| "ECS".to_string(), |c| c.r#type().as_str().to_string()),
        circuit_breaker: s
            .deployment_configuration()
            .and_then(|c| c.deployment_circuit_breaker())
            .map(|b| CircuitBreaker {
                enable: b.enable(),
                rollback: b.rollback(),
            }),
        strategy: s
            .deployment_configuration()
            .and_then(|c| c.strategy())
            .and_then(|s| Strategy::parse(s.as_str())),
        deployments: s
            .deployments()
            .iter()
            .map(|d| Deployment {
                id: d.id().unwrap_or_default().to_string(),
                status: d.status().unwrap_or_default().to_string(),
                task_definition: d.task_definition().unwrap_or_default().to_string(),
                desired_count: d.desired_count(),
                running_count: d.running_count(),
                pending_count: d.pending_count(),
                failed_tasks: d.failed_tasks(),
                rollout_state: d.rollout_state().and_then(|r| match r.as_str() {
                    "IN_PROGRESS" => Some(RolloutState::InProgress),
                    "COMPLETED" => Some(RolloutState::Completed),
                    "FAILED" => Some(RolloutState::Failed),
                    _ => None,
                }),
                rollout_state_reason: d.rollout_state_reason().map(str::to_string),
                created_at_ms: millis(d.created_at()),
            })
            .collect(),
        events: s
            .events()
            .iter()
            .map(|e| ServiceEvent {
                id: e.id().unwrap_or_default().to_string(),
                created_at_ms: millis(e.created_at()).unwrap_or(0),
                message: e.message().unwrap_or_default().to_string(),
            })
            .collect(),
    }
}

/// Converts a DescribeTasks task.
pub fn task_snapshot(t: &Task) -> TaskSnapshot {
    TaskSnapshot {
        arn: t.task_arn().unwrap_or_default().to_string(),
        task_definition: t.task_definition_arn().unwrap_or_default().to_string(),
        started_by: t.started_by().map(str::to_string),
        last_status: t.last_status().unwrap_or_default().to_string(),
        stop_code: t.stop_code().map(|c| c.as_str().to_string()),
        stopped_reason: t.stopped_reason().map(str::to_string),
        created_at_ms: millis(t.created_at()),
        stopped_at_ms: millis(t.stopped_at()),
        containers: t
            .containers()
            .iter()
            .map(|c| ContainerState {
                name: c.name().unwrap_or_default().to_string(),
                image: c.image().map(str::to_string),
                exit_code: c.exit_code(),
                reason: c.reason().map(str::to_string),
                health_status: c.health_status().map(|h| h.as_str().to_string()),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_ecs::types::TaskDefinition;
    use deckhand_core::ecs::taskdef::{READ_ONLY_FIELDS, REGISTER_FIELDS};

    /// If the SDK's `TaskDefinition` gains a member, deckhand must decide whether a clone keeps
    /// it or drops it. The SDK's Debug output lists every member (as snake_case).
    #[test]
    fn every_sdk_task_definition_member_is_classified() {
        let debug = format!("{:?}", TaskDefinition::builder().build());
        let inner = debug
            .strip_prefix("TaskDefinition { ")
            .and_then(|s| s.strip_suffix(" }"))
            .expect("Debug output has the derived shape");
        let members: Vec<&str> = inner
            .split(", ")
            .filter_map(|kv| kv.split(':').next())
            .collect();
        assert!(members.len() > 20, "parsed too few members: {members:?}");
        let known: Vec<String> = READ_ONLY_FIELDS
            .iter()
            .chain(REGISTER_FIELDS)
            .map(|f| snake_case(f))
            .collect();
        let unclassified: Vec<&&str> = members
            .iter()
            .filter(|m| !known.contains(&(**m).to_string()))
            .collect();
        assert!(
            unclassified.is_empty(),
            "TaskDefinition members neither kept nor dropped by deckhand-core's lists: {unclassified:?}"
        );
        let missing: Vec<&String> = known
            .iter()
            .filter(|k| !members.contains(&k.as_str()))
            .collect();
        assert!(
            missing.is_empty(),
            "fields deckhand lists that the SDK does not have: {missing:?}"
        );
    }

    fn snake_case(camel: &str) -> String {
        let mut out = String::new();
        for c in camel.chars() {
            if c.is_ascii_uppercase() {
                out.push('_');
                out.push(c.to_ascii_lowercase());
            } else {
                out.push(c);
            }
        }
        out
    }
}
