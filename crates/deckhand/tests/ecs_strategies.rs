//! `ecs deploy` and `ecs wait` on services whose deployments walk ECS's lifecycle stages
//! (BLUE_GREEN, CANARY, LINEAR), against the local world (world/README.md, "Deployment
//! strategies"). Each scenario asserts the exit code and verdict, the stages the log named, and
//! what awscli shows afterwards: the service deployment's status, the PRIMARY revision, and
//! which tasks run.
//!
//! Times: a lifecycle stage lasts `stage_seconds` (0.3 s by default) and a "minute" of bake
//! time `bake_minute_seconds` (0.5 s); tests that need other values set them on the deployed
//! revision (`DECKHAND_WORLD_STAGE_SECONDS`, `DECKHAND_WORLD_BAKE_MINUTE_SECONDS`).

use deckhand_testkit::{Run, ServiceFixture, World, world};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_deckhand");
const IMAGE_V1: &str = "registry.local/shop/web:v1";
const IMAGE_V2: &str = "app=registry.local/shop/web:v2";

/// Cluster, family and service `name` with `desired` tasks of IMAGE_V1, the breaker on with
/// rollback, and `strategy` merged into its deployment configuration; settled (a service's
/// first deployment rolls).
fn service(name: &str, desired: i32, strategy: Value) -> ServiceFixture {
    let w = world();
    w.aws(&["ecs", "create-cluster", "--cluster-name", name]);
    let containers = json!([{"name": "app", "image": IMAGE_V1, "memory": 128, "essential": true}]);
    let td = w.aws(&[
        "ecs",
        "register-task-definition",
        "--family",
        name,
        "--container-definitions",
        &containers.to_string(),
    ]);
    let td = td["taskDefinition"]["taskDefinitionArn"]
        .as_str()
        .expect("registered")
        .to_string();
    let mut config = json!({
        "deploymentCircuitBreaker": {"enable": true, "rollback": true},
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
    });
    for (k, v) in strategy.as_object().expect("an object") {
        config[k] = v.clone();
    }
    w.aws(&[
        "ecs",
        "create-service",
        "--cluster",
        name,
        "--service-name",
        name,
        "--task-definition",
        &td,
        "--desired-count",
        &desired.to_string(),
        "--deployment-configuration",
        &config.to_string(),
    ]);
    let f = ServiceFixture {
        cluster: name.into(),
        service: name.into(),
        family: name.into(),
        initial_task_definition: td,
    };
    f.wait_steady(w, std::time::Duration::from_secs(30));
    f
}

fn wait(w: &World, f: &ServiceFixture, extra: &[&str]) -> Run {
    let mut args = vec!["--output", "json", "ecs", "wait", "--cluster", &f.cluster];
    args.extend(["--service", &f.service, "--poll-interval", "200ms"]);
    if !extra.contains(&"--timeout") {
        args.extend(["--timeout", "60s"]);
    }
    args.extend_from_slice(extra);
    Run::from_output(&w.command(BIN).args(&args).output().expect("run deckhand"))
}

/// The newest service deployment, as awscli describes it.
fn newest_service_deployment(w: &World, f: &ServiceFixture) -> Value {
    let listed = w.aws(&[
        "ecs",
        "list-service-deployments",
        "--cluster",
        &f.cluster,
        "--service",
        &f.service,
    ]);
    let arn = listed["serviceDeployments"][0]["serviceDeploymentArn"]
        .as_str()
        .expect("a service deployment")
        .to_string();
    let out = w.aws(&[
        "ecs",
        "describe-service-deployments",
        "--service-deployment-arns",
        &arn,
    ]);
    out["serviceDeployments"][0].clone()
}

/// The task definitions of the service's tasks with that desired status.
fn task_definitions(w: &World, f: &ServiceFixture, desired_status: &str) -> Vec<String> {
    let listed = w.aws(&[
        "ecs",
        "list-tasks",
        "--cluster",
        &f.cluster,
        "--service-name",
        &f.service,
        "--desired-status",
        desired_status,
    ]);
    let arns: Vec<&str> = listed["taskArns"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if arns.is_empty() {
        return Vec::new();
    }
    let mut args = vec!["ecs", "describe-tasks", "--cluster", &f.cluster, "--tasks"];
    args.extend(arns);
    let tasks = w.aws(&args);
    tasks["tasks"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t["taskDefinitionArn"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The first line of `log` that contains `text`, or a panic showing the log.
#[track_caller]
fn position(log: &str, text: &str) -> usize {
    log.lines()
        .position(|l| l.contains(text))
        .unwrap_or_else(|| panic!("no line with `{text}` in:\n{log}"))
}

/// Green only once the deployment is SUCCESSFUL, after the bake time and clean-up: the log
/// shows the bake, awscli shows the new revision alone, and the old tasks stopped.
#[test]
fn a_blue_green_deploy_succeeds_after_bake_time() {
    let w = world();
    let f = service(
        "bg-ok",
        2,
        json!({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 2}),
    );
    let run = f.deploy(w, BIN, &["--image", IMAGE_V2]);
    run.assert_exit(0, "succeeded");
    let new_td = run.json["task_definition_arn"]
        .as_str()
        .unwrap()
        .to_string();

    let log = &run.stderr;
    let bake = position(
        log,
        "blue/green BAKE_TIME: 100% of production traffic on the new revision, baking 2m",
    );
    assert!(position(log, "blue/green SCALE_UP") < bake, "{log}");

    let sd = newest_service_deployment(w, &f);
    assert_eq!(sd["status"], "SUCCESSFUL", "{sd:#}");
    assert_eq!(sd["lifecycleStage"], "CLEAN_UP");
    let service = f.describe(w);
    let deployments = service["deployments"].as_array().unwrap();
    assert_eq!(deployments.len(), 1, "{service:#}");
    assert_eq!(deployments[0]["status"], "PRIMARY");
    assert_eq!(deployments[0]["taskDefinition"], new_td.as_str());
    assert_eq!(task_definitions(w, &f, "RUNNING"), vec![new_td.clone(); 2]);
    let stopped = task_definitions(w, &f, "STOPPED");
    assert_eq!(
        stopped
            .iter()
            .filter(|td| **td == f.initial_task_definition)
            .count(),
        2,
        "blue's tasks stopped at clean-up: {stopped:?}"
    );
}

/// A canary whose tasks crash after running a while fails during the canary bake; the breaker
/// rolls it back to blue. deckhand follows ECS's rollback to its end (exit 3) and starts none of
/// its own: one UpdateService, ours.
#[test]
fn a_canary_deploy_rolled_back_by_ecs_is_exit_3() {
    let w = world();
    let f = service(
        "canary-bad",
        1,
        json!({"strategy": "CANARY", "bakeTimeInMinutes": 1,
               "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 20}}),
    );
    let run = f.deploy(
        w,
        BIN,
        &[
            "--image",
            "app=registry.local/shop/web:fault-exit",
            "--env",
            "app:DECKHAND_WORLD_FAIL_SECONDS=1.6",
        ],
    );
    run.assert_exit(3, "rolled-back");
    assert_eq!(run.api_calls("ECS.UpdateService"), 1, "{}", run.stderr);
    assert_eq!(run.json["rollback"]["by"], "ecs", "{:#}", run.json);
    assert_eq!(
        run.json["rollback"]["task_definition"],
        f.initial_task_definition.as_str()
    );
    let log = &run.stderr;
    let canary = position(
        log,
        "canary PRODUCTION_TRAFFIC_SHIFT: 10% of production traffic on the new revision, baking 20m",
    );
    assert!(canary < position(log, "(ECS is rolling back)"), "{log}");
    assert!(log.contains("rolling back to deployment"), "{log}");

    let sd = newest_service_deployment(w, &f);
    assert_eq!(sd["status"], "ROLLBACK_SUCCESSFUL", "{sd:#}");
    assert!(sd["rollback"]["serviceRevisionArn"].is_string(), "{sd:#}");
    assert_eq!(
        f.primary_task_definition(w),
        f.initial_task_definition,
        "the old revision is PRIMARY again"
    );
    assert_eq!(
        task_definitions(w, &f, "RUNNING"),
        vec![f.initial_task_definition.clone()]
    );
}

/// Every production step of a linear deployment, then the bake and the clean-up, appear in the
/// log in that order.
#[test]
fn a_linear_deploys_stages_appear_in_the_log_in_order() {
    let w = world();
    let f = service(
        "linear-ok",
        1,
        json!({"strategy": "LINEAR", "bakeTimeInMinutes": 1,
               "linearConfiguration": {"stepPercent": 50.0, "stepBakeTimeInMinutes": 1}}),
    );
    // Stages of 0.6 s: each is seen by a 200 ms poll.
    let run = f.deploy(
        w,
        BIN,
        &[
            "--image",
            IMAGE_V2,
            "--env",
            "app:DECKHAND_WORLD_STAGE_SECONDS=0.6",
        ],
    );
    run.assert_exit(0, "succeeded");
    let log = &run.stderr;
    let order = [
        "linear PRE_SCALE_UP",
        "linear SCALE_UP",
        "linear POST_SCALE_UP",
        "linear TEST_TRAFFIC_SHIFT",
        "linear POST_TEST_TRAFFIC_SHIFT",
        "linear PRODUCTION_TRAFFIC_SHIFT: 50% of production traffic on the new revision, baking 1m",
        "linear PRODUCTION_TRAFFIC_SHIFT: 100%",
        "linear POST_PRODUCTION_TRAFFIC_SHIFT",
        "linear BAKE_TIME",
        "linear CLEAN_UP",
    ];
    let positions: Vec<usize> = order.iter().map(|s| position(log, s)).collect();
    assert!(positions.is_sorted(), "{positions:?}\n{log}");
    assert_eq!(newest_service_deployment(w, &f)["status"], "SUCCESSFUL");
}

/// A deploy that times out mid-bake is exit 4 and says which stage it was in; `ecs wait`
/// re-attaches while it still bakes and gives the verdict the deploy would have given.
#[test]
fn a_timeout_mid_bake_names_the_stage_and_ecs_wait_reaches_the_verdict() {
    let w = world();
    let f = service(
        "bg-slow",
        1,
        json!({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 10}),
    );
    // Baking from about 2.4 s to 12.4 s after the update: the timeout at 5 s falls inside it with
    // seconds to spare on either side, even on a loaded machine.
    let args = [
        "--image",
        IMAGE_V2,
        "--env",
        "app:DECKHAND_WORLD_BAKE_MINUTE_SECONDS=1",
    ];
    let mut first = args.to_vec();
    first.extend(["--timeout", "5s"]);
    let run = f.deploy(w, BIN, &first);
    run.assert_exit(4, "timed-out");
    let headline = run.json["headline"].as_str().unwrap_or_default();
    assert!(
        headline.contains(
            "(at blue/green BAKE_TIME: 100% of production traffic on the new revision, baking 10m)"
        ),
        "{headline}"
    );
    assert_eq!(
        newest_service_deployment(w, &f)["lifecycleStage"],
        "BAKE_TIME",
        "still baking when `ecs wait` starts"
    );

    let id = run.json["deployment_id"].as_str().unwrap();
    let again = wait(w, &f, &["--deployment", id]);
    again.assert_exit(0, "succeeded");
    assert_eq!(again.json["deployment_id"], id);
    assert_eq!(newest_service_deployment(w, &f)["status"], "SUCCESSFUL");
    assert_eq!(
        f.primary_task_definition(w),
        run.json["task_definition_arn"].as_str().unwrap()
    );
}

/// `ecs wait` on a canary that ECS is about to roll back gives the deploy's verdict: exit 3.
#[test]
fn ecs_wait_on_a_failing_canary_is_rolled_back_by_ecs() {
    let w = world();
    let f = service(
        "canary-wait",
        1,
        json!({"strategy": "CANARY", "bakeTimeInMinutes": 1,
               "canaryConfiguration": {"canaryPercent": 25.0, "canaryBakeTimeInMinutes": 20}}),
    );
    let first = f.deploy(
        w,
        BIN,
        &[
            "--image",
            "app=registry.local/shop/web:fault-exit",
            "--env",
            "app:DECKHAND_WORLD_FAIL_SECONDS=1.6",
            "--timeout",
            "1500ms",
        ],
    );
    first.assert_exit(4, "timed-out");
    let again = wait(w, &f, &[]);
    again.assert_exit(3, "rolled-back");
    assert_eq!(again.api_calls("ECS.UpdateService"), 0, "{}", again.stderr);
    assert_eq!(
        newest_service_deployment(w, &f)["status"],
        "ROLLBACK_SUCCESSFUL"
    );
    assert_eq!(f.primary_task_definition(w), f.initial_task_definition);
}
