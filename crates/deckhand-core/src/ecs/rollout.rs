//! The rollout verdict state machine.
//!
//! It watches *one* deployment, identified by the id UpdateService returned, and decides from
//! successive DescribeServices snapshots (and, when asked for, the stopped tasks of that
//! deployment) whether the deploy succeeded, failed, was rolled back by ECS, or was superseded by
//! someone else's deployment. It never decides "success" from service-level counts alone: that
//! is how the standard `ServicesStable` waiter reports a circuit-breaker rollback (or a service
//! with desired count 0) as a success.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use super::model::{Deployment, RolloutState, ServiceEvent, ServiceSnapshot, TaskSnapshot};
use super::strategy::{StageLine, StageView, staged_outcome};

/// What to watch and how strict to be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchSpec {
    /// Our deployment, from the UpdateService response.
    pub deployment_id: String,
    /// The task definition we deployed.
    pub task_definition: String,
    /// When our deployment began (epoch ms); older events are not ours.
    pub started_at_ms: i64,
    /// With the circuit breaker off, red once this many tasks of our deployment have failed
    /// (0: never; wait for the timeout).
    pub max_task_failures: u32,
    /// The update changed only the desired count, so ECS made no new deployment: success is the
    /// PRIMARY deployment reaching the count, not a new rollout completing.
    pub scale_only: bool,
}

/// How a watched rollout ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Outcome {
    /// Our deployment is PRIMARY with our task definition and COMPLETED.
    Succeeded,
    /// Our deployment failed and ECS did not roll it back.
    Failed {
        /// Why, in ECS's words where it gave any.
        reason: String,
    },
    /// The circuit breaker rolled our deployment back and the rollback completed.
    RolledBackByEcs {
        /// The deployment ECS rolled back to.
        deployment_id: String,
        /// Its task definition.
        task_definition: String,
    },
    /// The circuit breaker rolled our deployment back and the rollback failed too.
    EcsRollbackFailed {
        /// The rollback deployment.
        deployment_id: String,
        /// Its task definition.
        task_definition: String,
        /// Why.
        reason: String,
    },
    /// Someone else started a newer deployment; ours is no longer what ECS rolls toward.
    Superseded {
        /// The newer PRIMARY deployment.
        deployment_id: String,
        /// Its task definition.
        task_definition: String,
    },
}

impl Outcome {
    /// True only for [`Outcome::Succeeded`].
    pub fn is_success(&self) -> bool {
        matches!(self, Self::Succeeded)
    }
}

/// A one-line view of the watched deployment after a poll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressLine {
    /// The deployment the line describes (ours, or the ECS rollback we follow).
    pub deployment_id: String,
    /// Running tasks.
    pub running: i32,
    /// Desired tasks.
    pub desired: i32,
    /// Pending tasks.
    pub pending: i32,
    /// Failed tasks, as ECS counts them.
    pub failed: i32,
    /// The rollout state, if ECS reports one.
    pub rollout_state: Option<RolloutState>,
    /// True while following an ECS circuit-breaker rollback.
    pub ecs_rollback: bool,
    /// The lifecycle stage of a BLUE_GREEN, CANARY or LINEAR deployment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<StageLine>,
}

impl ProgressLine {
    /// The line as the log shows it, `elapsed_secs` into the watch.
    pub fn render(&self, elapsed_secs: u64) -> String {
        let state = match self.rollout_state {
            None => "-",
            Some(RolloutState::InProgress) => "IN_PROGRESS",
            Some(RolloutState::Completed) => "COMPLETED",
            Some(RolloutState::Failed) => "FAILED",
        };
        let stage = self
            .stage
            .as_ref()
            .map(|s| format!("; {}", s.render()))
            .unwrap_or_default();
        format!(
            "  [{elapsed_secs:>4}s] {}deployment {}: {}/{} running, {} pending, {} failed, {state}{stage}",
            if self.ecs_rollback {
                "ECS rollback "
            } else {
                ""
            },
            self.deployment_id,
            self.running,
            self.desired,
            self.pending,
            self.failed,
        )
    }
}

/// The result of one observation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Service events not seen before, oldest first.
    pub new_events: Vec<ServiceEvent>,
    /// Where the rollout stands, when the watched deployment is visible.
    pub progress: Option<ProgressLine>,
    /// Set once the rollout has a verdict.
    pub outcome: Option<Outcome>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    Ours,
    EcsRollback { target: String },
}

/// Watches one deployment to a verdict. Feed it every snapshot with [`RolloutWatch::observe`].
#[derive(Debug, Clone)]
pub struct RolloutWatch {
    spec: WatchSpec,
    phase: Phase,
    seen_events: HashSet<String>,
    events: Vec<ServiceEvent>,
    last_failed_tasks: i32,
    tasks: BTreeMap<String, TaskSnapshot>,
    /// Snapshots that showed our deployment FAILED while the breaker's rollback had not
    /// started yet (see [`ECS_ROLLBACK_GRACE_SNAPSHOTS`]).
    failed_waiting_for_ecs: u32,
    /// Watching the deployment the spec names as ours (not a breaker rollback found by a
    /// re-attached watch): its service deployment is the one whose stages decide.
    own: bool,
    /// The last lifecycle stage seen (staged strategies).
    stage: Option<StageLine>,
}

/// How many snapshots showing our deployment FAILED, with the breaker's rollback on but no
/// rollback deployment yet, deckhand waits for ECS to start it before calling the deploy
/// failed (and rolling back itself). ECS marks the deployment FAILED and starts the rollback
/// together, but a snapshot can fall between the two; rolling back then would race ECS's own
/// rollback. A service with nothing to roll back to (its first deployment) gets no ECS
/// rollback, so the wait is bounded.
pub const ECS_ROLLBACK_GRACE_SNAPSHOTS: u32 = 3;

/// Event wording that means tasks failed or could not start (checked case-insensitively).
const TROUBLE_WORDS: &[&str] = &["failed", "unable", "unhealthy"];

impl RolloutWatch {
    /// Starts watching.
    pub fn new(spec: WatchSpec) -> Self {
        Self {
            spec,
            phase: Phase::Ours,
            seen_events: HashSet::new(),
            events: Vec::new(),
            last_failed_tasks: 0,
            failed_waiting_for_ecs: 0,
            tasks: BTreeMap::new(),
            own: true,
            stage: None,
        }
    }

    /// Follows a deployment the ECS circuit breaker started to roll a failed one back (what a
    /// re-attached watch finds PRIMARY once the breaker acted): it ends rolled back by ECS, or
    /// with ECS's rollback failed.
    pub fn following_ecs_rollback(spec: WatchSpec) -> Self {
        let target = spec.deployment_id.clone();
        Self {
            phase: Phase::EcsRollback { target },
            own: false,
            ..Self::new(spec)
        }
    }

    /// True when the service deployment of [`WatchSpec::deployment_id`] decides the verdict
    /// of a staged service (see [`RolloutWatch::observe_staged`]); false when following a
    /// breaker rollback from the start, whose deployment id names the old revision's record.
    pub fn judges_by_service_deployment(&self) -> bool {
        self.own
    }

    /// The last lifecycle stage seen, for a staged deployment.
    pub fn stage(&self) -> Option<&StageLine> {
        self.stage.as_ref()
    }

    /// What is being watched.
    pub fn spec(&self) -> &WatchSpec {
        &self.spec
    }

    /// Every service event since our deployment began, oldest first.
    pub fn events(&self) -> &[ServiceEvent] {
        &self.events
    }

    /// The stopped tasks of our deployment seen so far, most recently stopped first.
    pub fn stopped_tasks(&self) -> Vec<TaskSnapshot> {
        let mut tasks: Vec<_> = self.tasks.values().cloned().collect();
        tasks.sort_by_key(|t| std::cmp::Reverse(t.stopped_at_ms.unwrap_or(0)));
        tasks
    }

    /// True when the stopped tasks of our deployment should be fetched before the next
    /// [`RolloutWatch::observe`]: new events say tasks stopped or failed, or ECS counted a new
    /// failure. Fetching only then keeps a healthy rollout at one API call per poll.
    pub fn wants_stopped_tasks(&self, snapshot: &ServiceSnapshot) -> bool {
        if self.spec.max_task_failures == 0 {
            return false;
        }
        let ours = snapshot.deployment(&self.spec.deployment_id);
        let failed_more = ours.is_some_and(|d| d.failed_tasks > self.last_failed_tasks);
        // "has stopped N running tasks" is also how ECS drains the old deployment of a healthy
        // rollout; it only hints at trouble while our deployment is short of tasks.
        let short = ours.is_none_or(|d| d.running_count < d.desired_count);
        failed_more
            || self.unseen_events(snapshot).any(|e| {
                let m = e.message.to_ascii_lowercase();
                TROUBLE_WORDS.iter().any(|w| m.contains(w)) || (short && m.contains("stopped"))
            })
    }

    /// True when `task` belongs to our deployment.
    pub fn is_ours(&self, task: &TaskSnapshot) -> bool {
        match &task.started_by {
            Some(by) if by.starts_with("ecs-svc/") => *by == self.spec.deployment_id,
            _ => {
                task.task_definition == self.spec.task_definition
                    && task
                        .created_at_ms
                        .is_none_or(|t| t >= self.spec.started_at_ms)
            }
        }
    }

    fn unseen_events<'a>(
        &'a self,
        snapshot: &'a ServiceSnapshot,
    ) -> impl Iterator<Item = &'a ServiceEvent> {
        // Both times come from ECS (the deployment's createdAt and the events'), so no slack:
        // the previous deployment's "deployment completed" can be a millisecond before ours.
        let since = self.spec.started_at_ms;
        snapshot
            .events
            .iter()
            .filter(move |e| e.created_at_ms >= since && !self.seen_events.contains(&e.id))
    }

    /// Takes one snapshot (and the stopped tasks of the service, if they were fetched) and says
    /// where the rollout stands.
    pub fn observe(
        &mut self,
        snapshot: &ServiceSnapshot,
        stopped: Option<&[TaskSnapshot]>,
    ) -> Step {
        self.observe_staged(snapshot, stopped, None)
    }

    /// [`RolloutWatch::observe`] for a service whose deployments walk lifecycle stages
    /// (BLUE_GREEN, CANARY, LINEAR), with our service deployment as DescribeServiceDeployments
    /// shows it: that record decides the outcome ([`staged_outcome`]) and names the stage in
    /// the progress line. Without it (`None`), the rolling-update judgement alone.
    pub fn observe_staged(
        &mut self,
        snapshot: &ServiceSnapshot,
        stopped: Option<&[TaskSnapshot]>,
        stage: Option<&StageView>,
    ) -> Step {
        let mut new_events: Vec<ServiceEvent> = self.unseen_events(snapshot).cloned().collect();
        new_events.sort_by_key(|e| e.created_at_ms);
        for e in &new_events {
            self.seen_events.insert(e.id.clone());
            self.events.push(e.clone());
        }
        for t in stopped.into_iter().flatten() {
            if self.is_ours(t) && t.last_status == "STOPPED" {
                self.tasks.insert(t.arn.clone(), t.clone());
            }
        }
        let ours = snapshot.deployment(&self.spec.deployment_id).cloned();
        if let Some(d) = &ours {
            // The last value, not the highest: ECS's count restarts when a task runs, and each
            // failure after a restart is new (`wants_stopped_tasks` lists the tasks for it).
            self.last_failed_tasks = d.failed_tasks;
        }
        let (mut progress, mut outcome) = match self.phase.clone() {
            Phase::Ours => self.judge_ours(snapshot, ours.as_ref()),
            Phase::EcsRollback { target } => self.judge_ecs_rollback(snapshot, &target),
        };
        if let Some(view) = stage.filter(|_| self.own) {
            outcome = staged_outcome(view, snapshot, outcome);
            self.stage = StageLine::of(view).or(self.stage.take());
            if progress.is_none() {
                progress = snapshot.primary().map(|p| progress_line(p, false));
            }
            if let Some(p) = &mut progress {
                p.stage.clone_from(&self.stage);
                p.ecs_rollback |= super::strategy::is_ecs_rollback_status(&view.status);
            }
        }
        Step {
            new_events,
            progress,
            outcome,
        }
    }

    fn judge_ours(
        &mut self,
        snapshot: &ServiceSnapshot,
        ours: Option<&Deployment>,
    ) -> (Option<ProgressLine>, Option<Outcome>) {
        let Some(d) = ours else {
            // Our deployment is gone. ECS removes a deployment the circuit breaker rolled back;
            // anything else that removes it is a newer deployment that completed.
            let Some(primary) = snapshot.primary() else {
                return (None, None);
            };
            if self.is_ecs_rollback(primary) {
                return self.enter_ecs_rollback(snapshot, primary.id.clone());
            }
            return (None, Some(superseded(primary)));
        };
        let line = progress_line(d, false);
        if d.rollout_state == Some(RolloutState::Failed) {
            let ecs_rolls_back = snapshot
                .circuit_breaker
                .is_some_and(|b| b.enable && b.rollback);
            if ecs_rolls_back {
                if let Some(primary) = snapshot.primary()
                    && primary.id != d.id
                    && self.is_ecs_rollback(primary)
                {
                    return self.enter_ecs_rollback(snapshot, primary.id.clone());
                }
                self.failed_waiting_for_ecs += 1;
                if self.failed_waiting_for_ecs <= ECS_ROLLBACK_GRACE_SNAPSHOTS {
                    return (Some(line), None);
                }
            }
            let reason = d
                .rollout_state_reason
                .clone()
                .unwrap_or_else(|| format!("deployment {} failed", d.id));
            return (Some(line), Some(Outcome::Failed { reason }));
        }
        if !d.is_primary() {
            let Some(primary) = snapshot.primary() else {
                return (Some(line), None);
            };
            if self.is_ecs_rollback(primary) {
                return self.enter_ecs_rollback(snapshot, primary.id.clone());
            }
            return (Some(line), Some(superseded(primary)));
        }
        if d.task_definition != self.spec.task_definition {
            // Our id with another task definition: not a deployment we made.
            return (Some(line), Some(superseded(d)));
        }
        let done = if self.spec.scale_only || d.rollout_state.is_none() {
            steady(snapshot, d)
        } else {
            d.rollout_state == Some(RolloutState::Completed)
        };
        if done {
            return (Some(line), Some(Outcome::Succeeded));
        }
        if let Some(reason) = self.task_failure_limit(snapshot, d) {
            return (Some(line), Some(Outcome::Failed { reason }));
        }
        (Some(line), None)
    }

    /// deckhand's own `--max-task-failures` limit, whatever the circuit breaker says: ECS's
    /// count resets when a task of the deployment runs, so a crash loop whose tasks run a while
    /// before exiting never trips the breaker; deckhand counts every failed task of the
    /// deployment. With the breaker on, the limit gives way while ECS's own count is within one
    /// of its threshold: ECS is about to fail the deployment (and maybe roll it back), and a
    /// rollback of deckhand's would race it.
    fn task_failure_limit(&self, snapshot: &ServiceSnapshot, d: &Deployment) -> Option<String> {
        let limit = self.spec.max_task_failures;
        if limit == 0 {
            return None;
        }
        let seen = u32::try_from(self.tasks.values().filter(|t| t.is_failure()).count())
            .unwrap_or(u32::MAX);
        let counted = u32::try_from(d.failed_tasks.max(0)).unwrap_or(0);
        let breaker_on = snapshot.circuit_breaker.is_some_and(|b| b.enable);
        if !breaker_on {
            let failures = seen.max(counted);
            return (failures >= limit).then(|| {
                format!(
                    "{failures} tasks of deployment {} failed and the circuit breaker is off (limit: {limit})",
                    d.id
                )
            });
        }
        let ecs_about_to_act = counted + 1 >= breaker_threshold(d.desired_count);
        (seen >= limit && !ecs_about_to_act).then(|| {
            format!(
                "{seen} tasks of deployment {} failed (limit: {limit}); the circuit breaker did not stop it (its count restarts each time a task runs)",
                d.id
            )
        })
    }

    fn is_ecs_rollback(&self, primary: &Deployment) -> bool {
        let by_reason = is_breaker_rollback(primary);
        let failed_event = format!("(deployment {}) deployment failed", self.spec.deployment_id);
        let by_events = self
            .events
            .iter()
            .any(|e| e.message.contains(&failed_event))
            && self
                .events
                .iter()
                .any(|e| e.message.contains("rolling back to deployment"));
        by_reason || by_events
    }

    fn enter_ecs_rollback(
        &mut self,
        snapshot: &ServiceSnapshot,
        target: String,
    ) -> (Option<ProgressLine>, Option<Outcome>) {
        self.phase = Phase::EcsRollback {
            target: target.clone(),
        };
        self.judge_ecs_rollback(snapshot, &target)
    }

    fn judge_ecs_rollback(
        &self,
        snapshot: &ServiceSnapshot,
        target: &str,
    ) -> (Option<ProgressLine>, Option<Outcome>) {
        let Some(d) = snapshot.deployment(target) else {
            return match snapshot.primary() {
                Some(p) => (None, Some(superseded(p))),
                None => (None, None),
            };
        };
        let line = progress_line(d, true);
        let outcome = match d.rollout_state {
            Some(RolloutState::Failed) => Some(Outcome::EcsRollbackFailed {
                deployment_id: d.id.clone(),
                task_definition: d.task_definition.clone(),
                reason: d.rollout_state_reason.clone().unwrap_or_default(),
            }),
            Some(RolloutState::Completed) => Some(Outcome::RolledBackByEcs {
                deployment_id: d.id.clone(),
                task_definition: d.task_definition.clone(),
            }),
            None if steady(snapshot, d) => Some(Outcome::RolledBackByEcs {
                deployment_id: d.id.clone(),
                task_definition: d.task_definition.clone(),
            }),
            _ => None,
        };
        (Some(line), outcome)
    }
}

/// True when `d` is a deployment the ECS circuit breaker started to roll back a failed one
/// (its reason reads `ECS deployment circuit breaker: rolling back to deploymentId ...`).
pub fn is_breaker_rollback(d: &Deployment) -> bool {
    d.rollout_state_reason
        .as_deref()
        .is_some_and(|r| r.contains("circuit breaker: rolling back"))
}

/// ECS's circuit breaker failure threshold for a deployment of `desired` tasks: half of them,
/// at least 3 and at most 200 (the ECS API reference, `DeploymentCircuitBreaker`).
pub fn breaker_threshold(desired: i32) -> u32 {
    let half = u32::try_from(desired.max(0)).unwrap_or(0).div_ceil(2);
    half.clamp(3, 200)
}

/// ECS's own steady-state rule, applied to one deployment rather than to the service.
fn steady(snapshot: &ServiceSnapshot, d: &Deployment) -> bool {
    d.is_primary()
        && snapshot.deployments.len() == 1
        && d.running_count == d.desired_count
        && d.pending_count == 0
        && d.rollout_state != Some(RolloutState::Failed)
}

fn superseded(d: &Deployment) -> Outcome {
    Outcome::Superseded {
        deployment_id: d.id.clone(),
        task_definition: d.task_definition.clone(),
    }
}

fn progress_line(d: &Deployment, ecs_rollback: bool) -> ProgressLine {
    ProgressLine {
        deployment_id: d.id.clone(),
        running: d.running_count,
        desired: d.desired_count,
        pending: d.pending_count,
        failed: d.failed_tasks,
        rollout_state: d.rollout_state,
        ecs_rollback,
        stage: None,
    }
}

#[cfg(test)]
mod tests;
