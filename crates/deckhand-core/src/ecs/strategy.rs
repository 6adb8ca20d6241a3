//! ECS-native deployment strategies: BLUE_GREEN, CANARY and LINEAR (`deploymentConfiguration.
//! strategy`, 2025). A deployment of such a service walks lifecycle stages (scale green up, shift
//! test then production traffic, bake, clean up blue) and ECS's record of it, the *service
//! deployment* (DescribeServiceDeployments), is what says where it is and how it ended:
//! `lifecycleStage`, the traffic weights of the target revision, and a status that is
//! `SUCCESSFUL` only after bake time and clean-up (`shared/reference/ecs-service-deployments.md`
//! §1.3, §2.2, §2.5). DescribeServices' `rolloutState` is not documented for these strategies, so
//! the verdict is taken from the service deployment, and the rolling-update judgement of
//! [`super::rollout`] only contributes what the service deployment cannot contradict: a newer
//! deployment superseding ours, and deckhand's own failed-task limit while ECS is still going.

use serde::{Deserialize, Serialize};

use super::model::ServiceSnapshot;
use super::rollout::Outcome;

/// `deploymentConfiguration.strategy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Strategy {
    /// Task-by-task replacement (the default).
    Rolling,
    /// Green scales up beside blue; all production traffic moves at once.
    BlueGreen,
    /// A share of production traffic first, the rest after the canary bake time.
    Canary,
    /// Production traffic in equal steps, with a bake after each.
    Linear,
}

impl Strategy {
    /// The strategy ECS names `name`; `None` for a value this deckhand does not know.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "ROLLING" => Self::Rolling,
            "BLUE_GREEN" => Self::BlueGreen,
            "CANARY" => Self::Canary,
            "LINEAR" => Self::Linear,
            _ => return None,
        })
    }

    /// True for the strategies that walk lifecycle stages.
    pub fn is_staged(self) -> bool {
        !matches!(self, Self::Rolling)
    }

    /// How the log names it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Rolling => "rolling",
            Self::BlueGreen => "blue/green",
            Self::Canary => "canary",
            Self::Linear => "linear",
        }
    }
}

/// Our service deployment, as DescribeServiceDeployments shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageView {
    /// Its ARN.
    pub arn: String,
    /// `PENDING`, `IN_PROGRESS`, `SUCCESSFUL`, `STOPPED`, `STOP_REQUESTED`,
    /// `ROLLBACK_REQUESTED`, `ROLLBACK_IN_PROGRESS`, `ROLLBACK_SUCCESSFUL`, `ROLLBACK_FAILED`.
    pub status: String,
    /// ECS's reason, when it gave one.
    pub status_reason: Option<String>,
    /// `lifecycleStage` (`SCALE_UP`, `PRODUCTION_TRAFFIC_SHIFT`, `BAKE_TIME`, ...).
    pub lifecycle_stage: Option<String>,
    /// The strategy the deployment runs with.
    pub strategy: Option<Strategy>,
    /// The target revision's share of production traffic, in tenths of a percent (ECS gives
    /// 0.0 to 100.0 in steps of 0.1).
    pub production_weight_tenths: Option<u32>,
    /// `bakeTimeInMinutes`.
    pub bake_minutes: Option<i32>,
    /// `canaryConfiguration.canaryBakeTimeInMinutes`.
    pub canary_bake_minutes: Option<i32>,
    /// `linearConfiguration.stepBakeTimeInMinutes`.
    pub step_bake_minutes: Option<i32>,
}

/// Converts ECS's traffic weight (a percentage) to tenths of a percent.
pub fn weight_tenths(percent: f64) -> Option<u32> {
    let tenths = (percent * 10.0).round();
    (tenths.is_finite() && (0.0..=1000.0).contains(&tenths)).then(|| {
        // In range by the check above.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let t = tenths as u32;
        t
    })
}

/// Where a staged deployment stands, for the progress line and a timeout's headline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageLine {
    /// The strategy.
    pub strategy: Option<Strategy>,
    /// The lifecycle stage, as ECS names it.
    pub stage: String,
    /// The new revision's share of production traffic, in tenths of a percent.
    pub production_weight_tenths: Option<u32>,
    /// The bake this stage waits for, in minutes, when it is one.
    pub bake_minutes: Option<i32>,
    /// ECS is rolling the deployment back (traffic returns to the old revision).
    pub rolling_back: bool,
}

impl StageLine {
    /// What the view says about the stage, when it names one.
    pub fn of(view: &StageView) -> Option<Self> {
        let stage = view.lifecycle_stage.clone()?;
        let weight = view.production_weight_tenths;
        let rolling_back = is_ecs_rollback_status(&view.status);
        let partial = weight.is_some_and(|w| w < 1000) && !rolling_back;
        let bake_minutes = match stage.as_str() {
            "BAKE_TIME" => view.bake_minutes,
            "PRODUCTION_TRAFFIC_SHIFT" if partial => match view.strategy {
                Some(Strategy::Canary) => view.canary_bake_minutes,
                Some(Strategy::Linear) => view.step_bake_minutes,
                _ => None,
            },
            _ => None,
        };
        Some(Self {
            strategy: view.strategy,
            stage,
            production_weight_tenths: weight,
            bake_minutes: bake_minutes.filter(|m| *m > 0),
            rolling_back,
        })
    }

    /// `canary PRODUCTION_TRAFFIC_SHIFT: 10% of production traffic on the new revision, baking
    /// 2m`.
    pub fn render(&self) -> String {
        let strategy = self.strategy.map_or("", |s| s.label());
        let mut text = format!("{strategy} {}", self.stage)
            .trim_start()
            .to_string();
        if let Some(w) = self.production_weight_tenths {
            let percent = if w % 10 == 0 {
                format!("{}", w / 10)
            } else {
                format!("{}.{}", w / 10, w % 10)
            };
            text.push_str(&format!(
                ": {percent}% of production traffic on the new revision"
            ));
        }
        if let Some(m) = self.bake_minutes {
            text.push_str(&format!(", baking {m}m"));
        }
        if self.rolling_back {
            text.push_str(" (ECS is rolling back)");
        }
        text
    }
}

/// True for the statuses in which ECS is rolling the deployment back.
pub fn is_ecs_rollback_status(status: &str) -> bool {
    matches!(status, "ROLLBACK_REQUESTED" | "ROLLBACK_IN_PROGRESS")
}

/// The outcome of a staged deployment: ECS's service deployment decides, and `rolling` (what
/// the rolling-update judgement of the same snapshot concluded) counts only where the service
/// deployment cannot say otherwise.
///
/// - `SUCCESSFUL` (after bake time and clean-up) is the only success; a `COMPLETED` or steady
///   deployment in DescribeServices before that is not.
/// - `ROLLBACK_SUCCESSFUL` is rolled back by ECS (to the PRIMARY the service now runs);
///   `ROLLBACK_FAILED` is ECS's rollback failed.
/// - While ECS rolls back or stops it (`ROLLBACK_REQUESTED`, `ROLLBACK_IN_PROGRESS`,
///   `STOP_REQUESTED`) there is no verdict yet: a "failed" from the rolling judgement would
///   make deckhand roll back over ECS's own rollback.
/// - `STOPPED`: superseded when the rolling judgement saw a newer deployment, else failed.
/// - While it is going, a superseding deployment or deckhand's failed-task limit ends it.
pub fn staged_outcome(
    view: &StageView,
    snapshot: &ServiceSnapshot,
    rolling: Option<Outcome>,
) -> Option<Outcome> {
    let reason = || view.status_reason.clone();
    match view.status.as_str() {
        "SUCCESSFUL" => Some(Outcome::Succeeded),
        "ROLLBACK_SUCCESSFUL" => {
            let primary = snapshot.primary()?;
            Some(Outcome::RolledBackByEcs {
                deployment_id: primary.id.clone(),
                task_definition: primary.task_definition.clone(),
            })
        }
        "ROLLBACK_FAILED" => {
            let primary = snapshot.primary()?;
            Some(Outcome::EcsRollbackFailed {
                deployment_id: primary.id.clone(),
                task_definition: primary.task_definition.clone(),
                reason: reason().unwrap_or_else(|| "ECS's rollback failed".into()),
            })
        }
        "STOPPED" => Some(match rolling {
            Some(o @ Outcome::Superseded { .. }) => o,
            _ => Outcome::Failed {
                reason: reason().unwrap_or_else(|| "ECS stopped the deployment".into()),
            },
        }),
        "ROLLBACK_REQUESTED" | "ROLLBACK_IN_PROGRESS" | "STOP_REQUESTED" => None,
        _ => match rolling {
            Some(o @ (Outcome::Superseded { .. } | Outcome::Failed { .. })) => Some(o),
            _ => None,
        },
    }
}

/// The headline of a watch that timed out, naming the stage it was in.
pub fn timed_out_headline(deployment_id: &str, waited: &str, stage: Option<&StageLine>) -> String {
    let at = stage
        .map(|s| format!(" (at {})", s.render()))
        .unwrap_or_default();
    format!(
        "deployment {deployment_id} was still in progress{at} after {waited}; it was not rolled back"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecs::model::{Deployment, RolloutState};

    const BLUE_TD: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:6";
    const GREEN_TD: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7";

    fn view(status: &str, stage: Option<&str>, weight: Option<u32>) -> StageView {
        StageView {
            arn: "arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/web/abc".into(),
            status: status.into(),
            status_reason: None,
            lifecycle_stage: stage.map(str::to_string),
            strategy: Some(Strategy::Canary),
            production_weight_tenths: weight,
            bake_minutes: Some(3),
            canary_bake_minutes: Some(10),
            step_bake_minutes: None,
        }
    }

    fn dep(id: &str, status: &str, td: &str, state: RolloutState) -> Deployment {
        Deployment {
            id: id.into(),
            status: status.into(),
            task_definition: td.into(),
            desired_count: 2,
            running_count: 2,
            pending_count: 0,
            failed_tasks: 0,
            rollout_state: Some(state),
            rollout_state_reason: None,
            created_at_ms: Some(0),
        }
    }

    fn snapshot(deployments: Vec<Deployment>) -> ServiceSnapshot {
        ServiceSnapshot {
            arn: "arn:aws:ecs:us-east-1:123456789012:service/prod/web".into(),
            name: "web".into(),
            status: "ACTIVE".into(),
            desired_count: 2,
            running_count: 2,
            pending_count: 0,
            task_definition: None,
            deployment_controller: "ECS".into(),
            circuit_breaker: None,
            strategy: Some(Strategy::Canary),
            deployments,
            events: Vec::new(),
        }
    }

    #[test]
    fn strategies_parse_and_only_rolling_is_unstaged() {
        assert_eq!(Strategy::parse("CANARY"), Some(Strategy::Canary));
        assert_eq!(Strategy::parse("SOMETHING_NEW"), None);
        assert!(!Strategy::Rolling.is_staged());
        assert!(Strategy::BlueGreen.is_staged() && Strategy::Linear.is_staged());
    }

    #[test]
    fn weights_are_tenths_of_a_percent() {
        assert_eq!(weight_tenths(10.0), Some(100));
        assert_eq!(weight_tenths(12.5), Some(125));
        assert_eq!(weight_tenths(100.0), Some(1000));
        assert_eq!(weight_tenths(-1.0), None);
        assert_eq!(weight_tenths(f64::NAN), None);
    }

    /// Green COMPLETED and alone in DescribeServices is not success before ECS says SUCCESSFUL;
    /// a failed-task limit or a superseding deployment still end the watch.
    #[test]
    fn only_successful_is_success() {
        let green = snapshot(vec![dep(
            "ecs-svc/7",
            "PRIMARY",
            GREEN_TD,
            RolloutState::Completed,
        )]);
        for stage in ["BAKE_TIME", "CLEAN_UP"] {
            let v = view("IN_PROGRESS", Some(stage), Some(1000));
            assert_eq!(staged_outcome(&v, &green, Some(Outcome::Succeeded)), None);
        }
        let done = view("SUCCESSFUL", Some("CLEAN_UP"), Some(1000));
        assert_eq!(
            staged_outcome(&done, &green, None),
            Some(Outcome::Succeeded)
        );
        let failed = Outcome::Failed {
            reason: "3 tasks failed".into(),
        };
        let going = view("IN_PROGRESS", Some("SCALE_UP"), Some(0));
        assert_eq!(
            staged_outcome(&going, &green, Some(failed.clone())),
            Some(failed)
        );
    }

    #[test]
    fn ecs_rollbacks_are_waited_for_and_end_on_the_old_revision() {
        let rolling_back = snapshot(vec![dep(
            "ecs-svc/6",
            "PRIMARY",
            BLUE_TD,
            RolloutState::InProgress,
        )]);
        let failed = Outcome::Failed {
            reason: "ECS deployment circuit breaker: tasks failed to start.".into(),
        };
        for status in [
            "ROLLBACK_REQUESTED",
            "ROLLBACK_IN_PROGRESS",
            "STOP_REQUESTED",
        ] {
            let v = view(status, Some("PRODUCTION_TRAFFIC_SHIFT"), Some(0));
            assert_eq!(
                staged_outcome(&v, &rolling_back, Some(failed.clone())),
                None,
                "{status}: deckhand must not roll back over ECS"
            );
        }
        let back = snapshot(vec![dep(
            "ecs-svc/6",
            "PRIMARY",
            BLUE_TD,
            RolloutState::Completed,
        )]);
        let v = view(
            "ROLLBACK_SUCCESSFUL",
            Some("PRODUCTION_TRAFFIC_SHIFT"),
            Some(0),
        );
        assert_eq!(
            staged_outcome(&v, &back, None),
            Some(Outcome::RolledBackByEcs {
                deployment_id: "ecs-svc/6".into(),
                task_definition: BLUE_TD.into()
            })
        );
        let mut v = view("ROLLBACK_FAILED", Some("PRODUCTION_TRAFFIC_SHIFT"), Some(0));
        v.status_reason = Some("the rollback failed".into());
        assert!(matches!(
            staged_outcome(&v, &back, None),
            Some(Outcome::EcsRollbackFailed { reason, .. }) if reason == "the rollback failed"
        ));
    }

    /// Through the rollout watch: a canary whose tasks fail is FAILED in DescribeServices for
    /// longer than the breaker's grace while ECS rolls it back; the watch waits for ECS (no
    /// "failed" that would start deckhand's own rollback) and ends rolled back by ECS.
    #[test]
    fn the_watch_waits_for_ecs_rollback_and_for_successful() {
        use crate::ecs::model::CircuitBreaker;
        use crate::ecs::rollout::{RolloutWatch, WatchSpec};
        let spec = WatchSpec {
            deployment_id: "ecs-svc/7".into(),
            task_definition: GREEN_TD.into(),
            started_at_ms: 0,
            max_task_failures: 3,
            scale_only: false,
        };
        let mut failed = dep("ecs-svc/7", "PRIMARY", GREEN_TD, RolloutState::Failed);
        failed.failed_tasks = 3;
        let blue = dep("ecs-svc/6", "ACTIVE", BLUE_TD, RolloutState::Completed);
        let mut tripped = snapshot(vec![failed, blue]);
        tripped.circuit_breaker = Some(CircuitBreaker {
            enable: true,
            rollback: true,
        });
        let mut watch = RolloutWatch::new(spec.clone());
        let rolling_back = view(
            "ROLLBACK_IN_PROGRESS",
            Some("PRODUCTION_TRAFFIC_SHIFT"),
            Some(0),
        );
        for _ in 0..5 {
            let step = watch.observe_staged(&tripped, None, Some(&rolling_back));
            assert_eq!(step.outcome, None);
            assert!(step.progress.unwrap().ecs_rollback);
        }
        let mut back = snapshot(vec![dep(
            "ecs-svc/6",
            "PRIMARY",
            BLUE_TD,
            RolloutState::Completed,
        )]);
        back.circuit_breaker = tripped.circuit_breaker;
        let done = view(
            "ROLLBACK_SUCCESSFUL",
            Some("PRODUCTION_TRAFFIC_SHIFT"),
            Some(0),
        );
        let step = watch.observe_staged(&back, None, Some(&done));
        assert_eq!(
            step.outcome,
            Some(Outcome::RolledBackByEcs {
                deployment_id: "ecs-svc/6".into(),
                task_definition: BLUE_TD.into()
            })
        );

        // A healthy one: COMPLETED in DescribeServices mid-bake is not yet green.
        let mut watch = RolloutWatch::new(spec);
        let green = snapshot(vec![dep(
            "ecs-svc/7",
            "PRIMARY",
            GREEN_TD,
            RolloutState::Completed,
        )]);
        let baking = view("IN_PROGRESS", Some("BAKE_TIME"), Some(1000));
        let step = watch.observe_staged(&green, None, Some(&baking));
        assert_eq!(step.outcome, None);
        assert_eq!(step.progress.unwrap().stage.unwrap().stage, "BAKE_TIME");
        assert_eq!(watch.stage().unwrap().bake_minutes, Some(3));
        let done = view("SUCCESSFUL", Some("CLEAN_UP"), Some(1000));
        let step = watch.observe_staged(&green, None, Some(&done));
        assert_eq!(step.outcome, Some(Outcome::Succeeded));
    }

    #[test]
    fn a_stopped_deployment_is_superseded_or_failed() {
        let theirs = Outcome::Superseded {
            deployment_id: "ecs-svc/8".into(),
            task_definition: GREEN_TD.into(),
        };
        let s = snapshot(Vec::new());
        let v = view("STOPPED", Some("BAKE_TIME"), Some(1000));
        assert_eq!(staged_outcome(&v, &s, Some(theirs.clone())), Some(theirs));
        assert!(matches!(
            staged_outcome(&v, &s, None),
            Some(Outcome::Failed { .. })
        ));
    }

    #[test]
    fn stage_lines_name_the_stage_the_traffic_and_the_bake() {
        let line = |status, stage, weight| {
            StageLine::of(&view(status, Some(stage), weight))
                .unwrap()
                .render()
        };
        insta::assert_snapshot!(
            [
                line("IN_PROGRESS", "SCALE_UP", Some(0)),
                line("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", Some(100)),
                line("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", Some(1000)),
                line("IN_PROGRESS", "BAKE_TIME", Some(1000)),
                line("ROLLBACK_IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", Some(0)),
                timed_out_headline(
                    "ecs-svc/7",
                    "5m",
                    StageLine::of(&view("IN_PROGRESS", Some("BAKE_TIME"), Some(1000))).as_ref()
                ),
            ]
            .join("\n"),
            @r"
        canary SCALE_UP: 0% of production traffic on the new revision
        canary PRODUCTION_TRAFFIC_SHIFT: 10% of production traffic on the new revision, baking 10m
        canary PRODUCTION_TRAFFIC_SHIFT: 100% of production traffic on the new revision
        canary BAKE_TIME: 100% of production traffic on the new revision, baking 3m
        canary PRODUCTION_TRAFFIC_SHIFT: 0% of production traffic on the new revision (ECS is rolling back)
        deployment ecs-svc/7 was still in progress (at canary BAKE_TIME: 100% of production traffic on the new revision, baking 3m) after 5m; it was not rolled back
        "
        );
        assert_eq!(StageLine::of(&view("IN_PROGRESS", None, None)), None);
    }
}
