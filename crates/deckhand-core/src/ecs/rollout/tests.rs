//! Verdicts from recorded DescribeServices sequences. The rollback sequence uses the real
//! captures quoted in `shared/reference/ecs-responses.md` (§1.4, §1.5); the others follow the
//! same shapes.

use super::*;
use crate::ecs::model::{CircuitBreaker, ContainerState};

const OLD_TD: &str = "arn:aws:ecs:ap-southeast-2:291971919224:task-definition/web:2";
const NEW_TD: &str = "arn:aws:ecs:ap-southeast-2:291971919224:task-definition/web:3";
const OTHER_TD: &str = "arn:aws:ecs:ap-southeast-2:291971919224:task-definition/web:4";
const OLD: &str = "ecs-svc/6405940160831029548";
const OURS: &str = "ecs-svc/1570303241572688488";
const THEIRS: &str = "ecs-svc/1281894607538416024";
const T0: i64 = 1_619_150_000_000;

#[allow(clippy::too_many_arguments)]
fn dep(
    id: &str,
    status: &str,
    td: &str,
    desired: i32,
    running: i32,
    pending: i32,
    failed: i32,
    state: Option<RolloutState>,
    reason: &str,
) -> Deployment {
    Deployment {
        id: id.into(),
        status: status.into(),
        task_definition: td.into(),
        desired_count: desired,
        running_count: running,
        pending_count: pending,
        failed_tasks: failed,
        rollout_state: state,
        rollout_state_reason: Some(reason.into()),
        created_at_ms: Some(T0),
    }
}

fn service(
    breaker: Option<CircuitBreaker>,
    deployments: Vec<Deployment>,
    events: &[(i64, &str)],
) -> ServiceSnapshot {
    let primary_td = deployments
        .iter()
        .find(|d| d.is_primary())
        .map(|d| d.task_definition.clone());
    let mut evs: Vec<ServiceEvent> = events
        .iter()
        .enumerate()
        .map(|(i, (t, m))| ServiceEvent {
            id: format!("e{i}-{t}"),
            created_at_ms: T0 + t,
            message: (*m).into(),
        })
        .collect();
    evs.sort_by_key(|e| std::cmp::Reverse(e.created_at_ms));
    ServiceSnapshot {
        arn: "arn:aws:ecs:ap-southeast-2:291971919224:service/c/web".into(),
        name: "web".into(),
        status: "ACTIVE".into(),
        desired_count: deployments
            .iter()
            .find(|d| d.is_primary())
            .map_or(0, |d| d.desired_count),
        running_count: deployments.iter().map(|d| d.running_count).sum(),
        pending_count: deployments.iter().map(|d| d.pending_count).sum(),
        task_definition: primary_td,
        deployment_controller: "ECS".into(),
        circuit_breaker: breaker,
        strategy: None,
        deployments,
        events: evs,
    }
}

fn watch(max_task_failures: u32) -> RolloutWatch {
    RolloutWatch::new(WatchSpec {
        deployment_id: OURS.into(),
        task_definition: NEW_TD.into(),
        started_at_ms: T0,
        max_task_failures,
        scale_only: false,
    })
}

const IN_PROGRESS: Option<RolloutState> = Some(RolloutState::InProgress);
const COMPLETED: Option<RolloutState> = Some(RolloutState::Completed);
const FAILED: Option<RolloutState> = Some(RolloutState::Failed);
const BREAKER_ROLLBACK: Option<CircuitBreaker> = Some(CircuitBreaker {
    enable: true,
    rollback: true,
});
const BREAKER_ONLY: Option<CircuitBreaker> = Some(CircuitBreaker {
    enable: true,
    rollback: false,
});

fn in_progress_pair(running: i32, failed: i32) -> Vec<Deployment> {
    vec![
        dep(
            OURS,
            "PRIMARY",
            NEW_TD,
            2,
            running,
            2 - running,
            failed,
            IN_PROGRESS,
            &format!("ECS deployment {OURS} in progress."),
        ),
        dep(
            OLD,
            "ACTIVE",
            OLD_TD,
            0,
            2,
            0,
            0,
            COMPLETED,
            &format!("ECS deployment {OLD} completed."),
        ),
    ]
}

#[test]
fn success_only_when_our_deployment_completes() {
    let mut w = watch(3);
    let step = w.observe(
        &service(
            BREAKER_ROLLBACK,
            in_progress_pair(1, 0),
            &[(100, "(service web) has started 2 tasks: (task a) (task b).")],
        ),
        None,
    );
    assert_eq!(step.outcome, None);
    assert_eq!(step.new_events.len(), 1);
    let p = step.progress.unwrap();
    assert_eq!((p.running, p.desired, p.pending, p.failed), (1, 2, 1, 0));

    let done = service(
        BREAKER_ROLLBACK,
        vec![dep(
            OURS,
            "PRIMARY",
            NEW_TD,
            2,
            2,
            0,
            0,
            COMPLETED,
            "ECS deployment completed.",
        )],
        &[
            (100, "(service web) has started 2 tasks: (task a) (task b)."),
            (
                200,
                &format!("(service web) (deployment {OURS}) deployment completed."),
            ),
            (201, "(service web) has reached a steady state."),
        ],
    );
    let step = w.observe(&done, None);
    assert_eq!(step.outcome, Some(Outcome::Succeeded));
    // Events already printed are not printed again.
    assert_eq!(step.new_events.len(), 2);
}

/// aws-actions/amazon-ecs-deploy-task-definition #191, fabfuel/ecs-deploy #185: a rollback is
/// not a success, even though the service ends steady with one deployment.
#[test]
fn circuit_breaker_rollback_from_real_captures_is_never_green() {
    let mut w = watch(3);
    w.observe(
        &service(BREAKER_ROLLBACK, in_progress_pair(0, 2), &[]),
        None,
    );
    // §1.4: our deployment vanished; the PRIMARY is the old id rolling back.
    let rolling_back = service(
        BREAKER_ROLLBACK,
        vec![dep(
            OLD,
            "PRIMARY",
            OLD_TD,
            2,
            1,
            1,
            0,
            IN_PROGRESS,
            &format!("ECS deployment circuit breaker: rolling back to deploymentId {OLD}."),
        )],
        &[
            (
                500,
                &format!(
                    "(service web) (deployment {OURS}) deployment failed: tasks failed to start."
                ),
            ),
            (
                501,
                &format!("(service web) rolling back to deployment {OLD}."),
            ),
        ],
    );
    let step = w.observe(&rolling_back, None);
    assert_eq!(step.outcome, None);
    assert!(step.progress.unwrap().ecs_rollback);
    // §1.5: steady on the old revision. The ServicesStable waiter would call this success.
    let rolled_back = service(
        BREAKER_ROLLBACK,
        vec![dep(
            OLD,
            "PRIMARY",
            OLD_TD,
            2,
            2,
            0,
            0,
            COMPLETED,
            &format!("ECS deployment {OLD} completed."),
        )],
        &[
            (
                900,
                &format!("(service web) (deployment {OLD}) deployment completed."),
            ),
            (901, "(service web) has reached a steady state."),
        ],
    );
    assert_eq!(
        w.observe(&rolled_back, None).outcome,
        Some(Outcome::RolledBackByEcs {
            deployment_id: OLD.into(),
            task_definition: OLD_TD.into()
        })
    );
}

#[test]
fn rollback_is_detected_from_events_even_when_the_reason_is_missing() {
    let mut w = watch(3);
    let mut d = dep(OLD, "PRIMARY", OLD_TD, 2, 1, 1, 0, IN_PROGRESS, "");
    d.rollout_state_reason = None;
    let s = service(
        BREAKER_ROLLBACK,
        vec![d],
        &[
            (
                500,
                &format!(
                    "(service web) (deployment {OURS}) deployment failed: tasks failed to start."
                ),
            ),
            (
                501,
                &format!("(service web) rolling back to deployment {OLD}."),
            ),
        ],
    );
    let step = w.observe(&s, None);
    assert_eq!(step.outcome, None);
    assert!(step.progress.unwrap().ecs_rollback);
}

#[test]
fn ecs_rollback_that_fails_is_reported() {
    let mut w = watch(3);
    let s = service(
        BREAKER_ROLLBACK,
        vec![dep(
            OLD,
            "PRIMARY",
            OLD_TD,
            2,
            0,
            0,
            3,
            FAILED,
            "ECS deployment circuit breaker: tasks failed to start.",
        )],
        &[
            (
                501,
                &format!("(service web) rolling back to deployment {OLD}."),
            ),
            (
                500,
                &format!(
                    "(service web) (deployment {OURS}) deployment failed: tasks failed to start."
                ),
            ),
        ],
    );
    assert!(matches!(
        w.observe(&s, None).outcome,
        Some(Outcome::EcsRollbackFailed { .. })
    ));
}

/// With the breaker on and rollback off, ECS leaves the FAILED deployment PRIMARY; the standard
/// waiter then waits out its whole window. We must be red at the first snapshot showing FAILED.
#[test]
fn breaker_without_rollback_is_red_at_the_first_failed_snapshot() {
    let mut w = watch(3);
    assert_eq!(
        w.observe(&service(BREAKER_ONLY, in_progress_pair(0, 2), &[]), None)
            .outcome,
        None
    );
    let failed = service(
        BREAKER_ONLY,
        vec![
            dep(
                OURS,
                "PRIMARY",
                NEW_TD,
                2,
                0,
                0,
                3,
                FAILED,
                "ECS deployment circuit breaker: tasks failed to start.",
            ),
            dep(OLD, "ACTIVE", OLD_TD, 2, 2, 0, 0, COMPLETED, "done"),
        ],
        &[],
    );
    assert_eq!(
        w.observe(&failed, None).outcome,
        Some(Outcome::Failed {
            reason: "ECS deployment circuit breaker: tasks failed to start.".into()
        })
    );
}

#[test]
fn concurrent_deployment_by_someone_else_supersedes_ours() {
    let mut w = watch(3);
    w.observe(&service(None, in_progress_pair(1, 0), &[]), None);
    let s = service(
        None,
        vec![
            dep(
                THEIRS,
                "PRIMARY",
                OTHER_TD,
                2,
                0,
                2,
                0,
                IN_PROGRESS,
                &format!("ECS deployment {THEIRS} in progress."),
            ),
            dep(
                OURS,
                "ACTIVE",
                NEW_TD,
                2,
                1,
                1,
                0,
                IN_PROGRESS,
                &format!("ECS deployment {OURS} in progress."),
            ),
            dep(OLD, "ACTIVE", OLD_TD, 0, 1, 0, 0, COMPLETED, "done"),
        ],
        &[],
    );
    assert_eq!(
        w.observe(&s, None).outcome,
        Some(Outcome::Superseded {
            deployment_id: THEIRS.into(),
            task_definition: OTHER_TD.into()
        })
    );
}

#[test]
fn vanished_without_rollback_signs_is_superseded_not_success() {
    let mut w = watch(3);
    let s = service(
        None,
        vec![dep(
            THEIRS, "PRIMARY", OTHER_TD, 2, 2, 0, 0, COMPLETED, "done",
        )],
        &[],
    );
    assert!(matches!(
        w.observe(&s, None).outcome,
        Some(Outcome::Superseded { .. })
    ));
}

/// The ServicesStable waiter succeeds at once when the desired count is 0.
#[test]
fn desired_count_zero_waits_for_our_deployment() {
    let mut w = watch(3);
    let s = service(
        None,
        vec![
            dep(
                OURS,
                "PRIMARY",
                NEW_TD,
                0,
                0,
                0,
                0,
                IN_PROGRESS,
                "in progress",
            ),
            dep(OLD, "ACTIVE", OLD_TD, 0, 1, 0, 0, COMPLETED, "done"),
        ],
        &[],
    );
    assert_eq!(w.observe(&s, None).outcome, None);
    let s = service(
        None,
        vec![dep(OURS, "PRIMARY", NEW_TD, 0, 0, 0, 0, COMPLETED, "done")],
        &[],
    );
    assert_eq!(w.observe(&s, None).outcome, Some(Outcome::Succeeded));
}

fn stopped(
    id: &str,
    started_by: &str,
    code: &str,
    reason: &str,
    exit: Option<i32>,
    at: i64,
) -> TaskSnapshot {
    TaskSnapshot {
        arn: format!("arn:aws:ecs:ap-southeast-2:291971919224:task/c/{id}"),
        task_definition: NEW_TD.into(),
        started_by: Some(started_by.into()),
        last_status: "STOPPED".into(),
        stop_code: Some(code.into()),
        stopped_reason: Some(reason.into()),
        created_at_ms: Some(T0 + at - 10),
        stopped_at_ms: Some(T0 + at),
        containers: vec![ContainerState {
            name: "app".into(),
            image: None,
            exit_code: exit,
            reason: None,
            health_status: None,
        }],
    }
}

#[test]
fn crash_loop_with_breaker_off_is_red_after_the_failure_limit() {
    let mut w = watch(3);
    let events = [
        (100, "(service web) has started 1 tasks: (task t1)."),
        (150, "(service web) has stopped 1 running tasks: (task t1)."),
    ];
    let s = service(None, in_progress_pair(0, 0), &events);
    assert!(w.wants_stopped_tasks(&s));
    let tasks = [
        stopped(
            "t1",
            OURS,
            "EssentialContainerExited",
            "Essential container in task exited",
            Some(1),
            150,
        ),
        // Someone else's task and an old deployment's scale-in do not count.
        stopped(
            "t2",
            OLD,
            "EssentialContainerExited",
            "Essential container in task exited",
            Some(1),
            160,
        ),
        stopped(
            "t3",
            OURS,
            "ServiceSchedulerInitiated",
            "Scaling activity initiated by (deployment x)",
            Some(0),
            170,
        ),
    ];
    assert_eq!(w.observe(&s, Some(&tasks)).outcome, None);
    // Nothing new happened: no need to list tasks again.
    assert!(!w.wants_stopped_tasks(&s));

    let tasks = [
        stopped(
            "t1",
            OURS,
            "EssentialContainerExited",
            "Essential container in task exited",
            Some(1),
            150,
        ),
        stopped(
            "t4",
            OURS,
            "EssentialContainerExited",
            "Essential container in task exited",
            Some(1),
            250,
        ),
        stopped(
            "t5",
            OURS,
            "ServiceSchedulerInitiated",
            "Task failed container health checks",
            Some(143),
            350,
        ),
    ];
    let s = service(
        None,
        in_progress_pair(0, 0),
        &[(350, "(service web) has stopped 1 running tasks: (task t5).")],
    );
    let outcome = w.observe(&s, Some(&tasks)).outcome.unwrap();
    assert_eq!(
        outcome,
        Outcome::Failed {
            reason: format!(
                "3 tasks of deployment {OURS} failed and the circuit breaker is off (limit: 3)"
            )
        }
    );
    assert_eq!(
        w.stopped_tasks()
            .iter()
            .map(|t| t.id().to_string())
            .collect::<Vec<_>>(),
        ["t5", "t4", "t3", "t1"]
    );
}

#[test]
fn ecs_failed_task_count_also_trips_the_limit() {
    let mut w = watch(3);
    let s = service(None, in_progress_pair(0, 3), &[]);
    assert!(w.wants_stopped_tasks(&s));
    assert!(matches!(
        w.observe(&s, Some(&[])).outcome,
        Some(Outcome::Failed { .. })
    ));
}

#[test]
fn with_the_breaker_on_failures_are_left_to_ecs() {
    let mut w = watch(3);
    let s = service(BREAKER_ROLLBACK, in_progress_pair(0, 5), &[]);
    assert_eq!(w.observe(&s, Some(&[])).outcome, None);
}

/// ECS's breaker count restarts each time a task runs: a crash loop whose tasks run a while
/// never trips it, and deckhand's own limit must (it used to wait out the whole timeout).
#[test]
fn with_the_breaker_on_a_crash_loop_ecs_misses_hits_deckhands_limit() {
    let crashed = |id: &str, at| {
        stopped(
            id,
            OURS,
            "EssentialContainerExited",
            "Essential container in task exited",
            Some(1),
            at,
        )
    };
    let tasks = [crashed("t1", 150), crashed("t2", 250), crashed("t3", 350)];
    // ECS counted 1 (it restarted at the last task that ran): far from its threshold of 3.
    let mut w = watch(3);
    let s = service(BREAKER_ROLLBACK, in_progress_pair(0, 1), &[]);
    assert_eq!(
        w.observe(&s, Some(&tasks)).outcome,
        Some(Outcome::Failed {
            reason: format!(
                "3 tasks of deployment {OURS} failed (limit: 3); the circuit breaker did not stop it (its count restarts each time a task runs)"
            )
        })
    );
    // ECS counted 2 of 3: it is about to act; its rollback must not be raced.
    let mut w = watch(3);
    let s = service(BREAKER_ROLLBACK, in_progress_pair(0, 2), &[]);
    assert_eq!(w.observe(&s, Some(&tasks)).outcome, None);
    // Two failures are under the limit either way.
    let mut w = watch(3);
    let s = service(BREAKER_ROLLBACK, in_progress_pair(0, 0), &[]);
    assert_eq!(w.observe(&s, Some(&tasks[..2])).outcome, None);
}

/// ECS's count going 1 -> 0 -> 1 is a new failure each time: the stopped tasks are listed for
/// it (the crash loop above is only counted if they are).
#[test]
fn a_failure_after_the_count_restarted_lists_the_stopped_tasks() {
    let mut w = watch(3);
    let one = service(BREAKER_ROLLBACK, in_progress_pair(0, 1), &[]);
    let zero = service(BREAKER_ROLLBACK, in_progress_pair(0, 0), &[]);
    assert!(w.wants_stopped_tasks(&one));
    w.observe(&one, Some(&[]));
    assert!(!w.wants_stopped_tasks(&one));
    w.observe(&zero, None);
    assert!(w.wants_stopped_tasks(&one));
}

#[test]
fn breaker_thresholds_are_ecs_s() {
    assert_eq!(
        [1, 6, 7, 100, 1000].map(breaker_threshold),
        [3, 3, 4, 50, 200]
    );
}

#[test]
fn limit_zero_never_fails_early_nor_lists_tasks() {
    let mut w = watch(0);
    let s = service(
        None,
        in_progress_pair(0, 9),
        &[(1, "(service web) has stopped 1 running tasks: (task x).")],
    );
    assert!(!w.wants_stopped_tasks(&s));
    assert_eq!(w.observe(&s, None).outcome, None);
}

#[test]
fn without_rollout_state_success_is_single_deployment_at_count() {
    let mut w = watch(3);
    let mut a = dep(OURS, "PRIMARY", NEW_TD, 2, 2, 0, 0, None, "");
    a.rollout_state_reason = None;
    let old = dep(OLD, "ACTIVE", OLD_TD, 0, 1, 0, 0, None, "");
    assert_eq!(
        w.observe(&service(None, vec![a.clone(), old], &[]), None)
            .outcome,
        None
    );
    assert_eq!(
        w.observe(&service(None, vec![a], &[]), None).outcome,
        Some(Outcome::Succeeded)
    );
}

#[test]
fn scale_only_succeeds_when_the_primary_reaches_the_count() {
    let mut w = RolloutWatch::new(WatchSpec {
        scale_only: true,
        ..watch(3).spec().clone()
    });
    let d = |running, pending| {
        dep(
            OURS, "PRIMARY", NEW_TD, 3, running, pending, 0, COMPLETED, "done",
        )
    };
    assert_eq!(
        w.observe(&service(None, vec![d(2, 1)], &[]), None).outcome,
        None
    );
    assert_eq!(
        w.observe(&service(None, vec![d(3, 0)], &[]), None).outcome,
        Some(Outcome::Succeeded)
    );
}

#[test]
fn events_from_before_our_deployment_are_not_ours() {
    let mut w = watch(3);
    let s = service(
        None,
        in_progress_pair(0, 0),
        &[
            (-5000, "(service web) has reached a steady state."),
            (10, "(service web) has started 2 tasks: (task a) (task b)."),
        ],
    );
    let step = w.observe(&s, None);
    assert_eq!(
        step.new_events
            .iter()
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>(),
        ["(service web) has started 2 tasks: (task a) (task b)."]
    );
    assert_eq!(w.events().len(), 1);
}

/// Seen in the demo: the previous deployment's "completed" and "steady state" events land in
/// the same second as our deployment's start and must not be reported as ours.
#[test]
fn events_a_millisecond_before_our_start_are_not_ours() {
    let mut w = watch(3);
    let s = service(
        None,
        in_progress_pair(0, 0),
        &[
            (
                -1,
                &format!("(service web) (deployment {OLD}) deployment completed."),
            ),
            (0, "(service web) has started 2 tasks: (task a) (task b)."),
        ],
    );
    let step = w.observe(&s, None);
    assert_eq!(step.new_events.len(), 1);
    assert!(step.new_events[0].message.contains("has started"));
}

/// A healthy rollout drains the old deployment ("has stopped 2 running tasks"): no need to
/// list stopped tasks, which would cost two API calls per deploy.
#[test]
fn the_drain_of_a_healthy_rollout_does_not_list_tasks() {
    let w = watch(3);
    let drain = "(service web) has stopped 2 running tasks: (task a) (task b).";
    assert!(!w.wants_stopped_tasks(&service(None, in_progress_pair(2, 0), &[(300, drain)])));
    assert!(w.wants_stopped_tasks(&service(None, in_progress_pair(1, 0), &[(300, drain)])));
    let unhealthy = "(service web) (task a) failed container health checks.";
    assert!(w.wants_stopped_tasks(&service(None, in_progress_pair(2, 0), &[(300, unhealthy)])));
}

/// ECS marks our deployment FAILED and starts its rollback together, but a snapshot can fall
/// between the two. Calling the deploy failed there made deckhand roll back too, racing ECS.
#[test]
fn failed_before_the_breaker_rollback_appears_waits_for_ecs() {
    let mut w = watch(3);
    w.observe(
        &service(BREAKER_ROLLBACK, in_progress_pair(0, 2), &[]),
        None,
    );
    let failed_only = service(
        BREAKER_ROLLBACK,
        vec![
            dep(
                OURS,
                "PRIMARY",
                NEW_TD,
                2,
                0,
                0,
                3,
                FAILED,
                "ECS deployment circuit breaker: tasks failed to start.",
            ),
            dep(OLD, "ACTIVE", OLD_TD, 0, 2, 0, 0, COMPLETED, "done"),
        ],
        &[(
            500,
            &format!("(service web) (deployment {OURS}) deployment failed: tasks failed to start."),
        )],
    );
    assert_eq!(w.observe(&failed_only, None).outcome, None);
    let rolling_back = service(
        BREAKER_ROLLBACK,
        vec![dep(
            OLD,
            "PRIMARY",
            OLD_TD,
            2,
            2,
            0,
            0,
            COMPLETED,
            &format!("ECS deployment {OLD} completed."),
        )],
        &[(
            501,
            &format!("(service web) rolling back to deployment {OLD}."),
        )],
    );
    assert_eq!(
        w.observe(&rolling_back, None).outcome,
        Some(Outcome::RolledBackByEcs {
            deployment_id: OLD.into(),
            task_definition: OLD_TD.into()
        })
    );
}

/// With nothing to roll back to, ECS starts no rollback: after the grace snapshots the deploy
/// is red, so deckhand's own rollback policy applies.
#[test]
fn failed_with_no_ecs_rollback_coming_is_red_after_the_grace() {
    let mut w = watch(3);
    let failed_only = service(
        BREAKER_ROLLBACK,
        vec![dep(
            OURS,
            "PRIMARY",
            NEW_TD,
            2,
            0,
            0,
            3,
            FAILED,
            "ECS deployment circuit breaker: tasks failed to start.",
        )],
        &[],
    );
    for _ in 0..ECS_ROLLBACK_GRACE_SNAPSHOTS {
        assert_eq!(w.observe(&failed_only, None).outcome, None);
    }
    assert_eq!(
        w.observe(&failed_only, None).outcome,
        Some(Outcome::Failed {
            reason: "ECS deployment circuit breaker: tasks failed to start.".into()
        })
    );
}
