//! What deckhand observes of ECS, as plain data. `deckhand-aws` converts SDK types into these;
//! tests build them from recorded responses.

use serde::{Deserialize, Serialize};

/// `rolloutState` of a deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RolloutState {
    /// Still rolling out.
    InProgress,
    /// Reached steady state.
    Completed,
    /// The circuit breaker (or an alarm) failed it.
    Failed,
}

/// One entry of a service's `deployments[]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    /// `ecs-svc/...`.
    pub id: String,
    /// `PRIMARY`, `ACTIVE` or `INACTIVE`.
    pub status: String,
    /// Task definition ARN.
    pub task_definition: String,
    /// Tasks this deployment wants.
    pub desired_count: i32,
    /// Tasks running.
    pub running_count: i32,
    /// Tasks pending.
    pub pending_count: i32,
    /// Consecutive failed tasks, as ECS counts them.
    pub failed_tasks: i32,
    /// Absent for services without the rolling-update controller, or behind a Classic LB.
    pub rollout_state: Option<RolloutState>,
    /// ECS's explanation of the rollout state.
    pub rollout_state_reason: Option<String>,
    /// Epoch milliseconds.
    pub created_at_ms: Option<i64>,
}

impl Deployment {
    /// True for the deployment ECS is rolling toward.
    pub fn is_primary(&self) -> bool {
        self.status == "PRIMARY"
    }
}

/// One entry of a service's `events[]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceEvent {
    /// Event id.
    pub id: String,
    /// Epoch milliseconds.
    pub created_at_ms: i64,
    /// ECS's message.
    pub message: String,
}

/// The deployment circuit breaker settings of a service.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CircuitBreaker {
    /// The breaker watches deployments.
    pub enable: bool,
    /// The breaker rolls back a failed deployment.
    pub rollback: bool,
}

/// A service as DescribeServices shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceSnapshot {
    /// Service ARN.
    pub arn: String,
    /// Service name.
    pub name: String,
    /// `ACTIVE`, `DRAINING` or `INACTIVE`.
    pub status: String,
    /// Tasks the service wants.
    pub desired_count: i32,
    /// Tasks running, over all deployments.
    pub running_count: i32,
    /// Tasks pending, over all deployments.
    pub pending_count: i32,
    /// The PRIMARY deployment's task definition.
    pub task_definition: Option<String>,
    /// `ECS`, `CODE_DEPLOY` or `EXTERNAL`.
    pub deployment_controller: String,
    /// Circuit breaker settings, when the service has them.
    pub circuit_breaker: Option<CircuitBreaker>,
    /// `deploymentConfiguration.strategy`, when ECS reports one it knows.
    #[serde(default)]
    pub strategy: Option<super::strategy::Strategy>,
    /// Deployments, PRIMARY first as ECS returns them.
    pub deployments: Vec<Deployment>,
    /// Events, newest first as ECS returns them (at most 100).
    pub events: Vec<ServiceEvent>,
}

impl ServiceSnapshot {
    /// True when deployments walk lifecycle stages (BLUE_GREEN, CANARY, LINEAR).
    pub fn is_staged(&self) -> bool {
        self.strategy
            .is_some_and(super::strategy::Strategy::is_staged)
    }

    /// The PRIMARY deployment, if any.
    pub fn primary(&self) -> Option<&Deployment> {
        self.deployments.iter().find(|d| d.is_primary())
    }

    /// The deployment with this id, if present.
    pub fn deployment(&self, id: &str) -> Option<&Deployment> {
        self.deployments.iter().find(|d| d.id == id)
    }
}

/// A cluster as DescribeClusters shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterSnapshot {
    /// Cluster ARN.
    pub arn: String,
    /// `ACTIVE`, `INACTIVE`, ...
    pub status: String,
}

/// A container of a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerState {
    /// Container name.
    pub name: String,
    /// Image.
    pub image: Option<String>,
    /// Exit code; absent when the container never started.
    pub exit_code: Option<i32>,
    /// Why it stopped, when ECS says.
    pub reason: Option<String>,
    /// `HEALTHY`, `UNHEALTHY` or `UNKNOWN`.
    pub health_status: Option<String>,
}

/// A task as DescribeTasks shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskSnapshot {
    /// Task ARN.
    pub arn: String,
    /// Task definition ARN.
    pub task_definition: String,
    /// For service tasks, the deployment id that started it.
    pub started_by: Option<String>,
    /// `PENDING`, `RUNNING`, `STOPPED`, ...
    pub last_status: String,
    /// `TaskFailedToStart`, `EssentialContainerExited`, ...
    pub stop_code: Option<String>,
    /// Free text from ECS.
    pub stopped_reason: Option<String>,
    /// Epoch milliseconds.
    pub created_at_ms: Option<i64>,
    /// Epoch milliseconds.
    pub stopped_at_ms: Option<i64>,
    /// Containers.
    pub containers: Vec<ContainerState>,
}

impl TaskSnapshot {
    /// The task id (last ARN segment).
    pub fn id(&self) -> &str {
        self.arn.rsplit('/').next().unwrap_or(&self.arn)
    }

    /// True when the task stopped because it failed, not because the scheduler replaced it
    /// during a healthy rollout or a user stopped it.
    pub fn is_failure(&self) -> bool {
        if self.last_status != "STOPPED" {
            return false;
        }
        match self.stop_code.as_deref() {
            Some("TaskFailedToStart" | "EssentialContainerExited") => true,
            // Health-check kills are scheduler-initiated; the reason says which.
            _ => self
                .stopped_reason
                .as_deref()
                .is_some_and(|r| r.contains("health check")),
        }
    }
}
