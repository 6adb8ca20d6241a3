//! `deckhand ecs deploy` of several services (`--service` repeated) against the local world:
//! one registration per distinct task definition, every rollout watched at once, each service
//! its own verdict and rollback, the worst verdict as the exit code. AWS state afterwards is
//! read with awscli.

use std::time::Duration;

use deckhand_testkit::{Run, ServiceFixture, World, world};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_deckhand");
const IMAGE_V1: &str = "registry.local/shop/web:v1";
const IMAGE_V2: &str = "registry.local/shop/web:v2";
const FAULT_EXIT: &str = "registry.local/shop/web:fault-exit";

/// Registers family `family` with one container `container`, whose tasks start and fail
/// quickly (the world's per-task-definition timings), so that a crash loop is judged in
/// seconds.
fn register(w: &World, family: &str, container: &str) -> String {
    let defs = json!([{
        "name": container, "image": IMAGE_V1, "memory": 128, "essential": true,
        "environment": [
            {"name": "DECKHAND_WORLD_START_SECONDS", "value": "0.3"},
            {"name": "DECKHAND_WORLD_FAIL_SECONDS", "value": "0.3"},
            {"name": "DECKHAND_WORLD_DRAIN_SECONDS", "value": "0.3"},
            {"name": "DECKHAND_WORLD_REPLACE_SECONDS", "value": "0.1"}
        ]
    }]);
    let td = w.aws(&[
        "ecs",
        "register-task-definition",
        "--family",
        family,
        "--container-definitions",
        &defs.to_string(),
    ]);
    td["taskDefinition"]["taskDefinitionArn"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Service `name` of `cluster` running `td`, breaker off (deckhand judges and rolls back),
/// settled.
fn service(w: &World, cluster: &str, name: &str, family: &str, td: &str) -> ServiceFixture {
    let config = json!({
        "deploymentCircuitBreaker": {"enable": false, "rollback": false},
        "maximumPercent": 200, "minimumHealthyPercent": 100
    });
    w.aws(&[
        "ecs",
        "create-service",
        "--cluster",
        cluster,
        "--service-name",
        name,
        "--task-definition",
        td,
        "--desired-count",
        "1",
        "--deployment-configuration",
        &config.to_string(),
    ]);
    let f = ServiceFixture {
        cluster: cluster.into(),
        service: name.into(),
        family: family.into(),
        initial_task_definition: td.into(),
    };
    f.wait_steady(w, Duration::from_secs(30));
    f
}

/// A cluster with `web` services `NAME-web-1..=webs` of family `NAME` (container `app`) and
/// `jobs` services `NAME-jobs-1..` of family `NAME-jobs` (container `worker`).
fn cluster(w: &World, name: &str, webs: usize, jobs: usize) -> Vec<ServiceFixture> {
    w.aws(&["ecs", "create-cluster", "--cluster-name", name]);
    let web_td = register(w, name, "app");
    let jobs_family = format!("{name}-jobs");
    let jobs_td = register(w, &jobs_family, "worker");
    let mut all = Vec::new();
    for i in 1..=webs {
        all.push(service(w, name, &format!("{name}-web-{i}"), name, &web_td));
    }
    for i in 1..=jobs {
        let s = format!("{name}-jobs-{i}");
        all.push(service(w, name, &s, &jobs_family, &jobs_td));
    }
    all
}

fn deploy(w: &World, services: &[&ServiceFixture], extra: &[&str]) -> Run {
    let mut cmd = w.command(BIN);
    cmd.args(["--output", "json", "ecs", "deploy", "--cluster"])
        .arg(&services[0].cluster)
        .args(["--poll-interval", "200ms", "--timeout", "60s"])
        .arg("--skip-image-check");
    for s in services {
        cmd.args(["--service", &s.service]);
    }
    Run::from_output(&cmd.args(extra).output().expect("run deckhand"))
}

fn result<'a>(run: &'a Run, service: &str) -> &'a Value {
    run.json["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service"] == service)
        .unwrap_or_else(|| panic!("no result for {service}: {}", run.stdout))
}

fn revision(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap()
}

#[test]
fn two_services_of_one_family_share_one_new_revision_and_a_rerun_changes_nothing() {
    let w = world();
    let all = cluster(w, "fo-two", 2, 0);
    let refs: Vec<&ServiceFixture> = all.iter().collect();
    let run = deploy(w, &refs, &["--image", &format!("app={IMAGE_V2}")]);
    run.assert_exit(0, "succeeded");
    assert_eq!(run.api_calls("ECS.RegisterTaskDefinition"), 1);
    assert_eq!(run.api_calls("ECS.UpdateService"), 2);
    let registered = run.json["registered_task_definitions"].as_array().unwrap();
    assert_eq!(registered.len(), 1, "{}", run.stdout);
    let new_td = registered[0].as_str().unwrap();
    assert_eq!(revision(new_td), "fo-two:2");
    // awscli: one new revision in the family, and both services run it, completed.
    assert_eq!(all[0].revisions(w).len(), 2);
    for f in &all {
        assert_eq!(f.primary_task_definition(w), new_td, "{}", f.service);
        let s = f.describe(w);
        assert_eq!(s["deployments"][0]["rolloutState"], "COMPLETED");
        assert_eq!(result(&run, &f.service)["verdict"], "succeeded");
    }
    // The progress of concurrent watches says whose it is.
    assert!(
        run.stderr.contains("[fo-two-web-1] ") && run.stderr.contains("[fo-two-web-2] "),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("services of cluster `fo-two`:"),
        "{}",
        run.stderr
    );

    let again = deploy(w, &refs, &["--image", &format!("app={IMAGE_V2}")]);
    again.assert_exit(0, "no-change");
    assert_eq!(again.api_calls("ECS.RegisterTaskDefinition"), 0);
    assert_eq!(again.api_calls("ECS.UpdateService"), 0);
    assert_eq!(all[0].revisions(w).len(), 2);
    for f in &all {
        assert_eq!(result(&again, &f.service)["verdict"], "no-change");
    }
}

#[test]
fn five_services_one_failing_rolls_back_only_that_one() {
    let w = world();
    let all = cluster(w, "fo-five", 4, 1);
    let refs: Vec<&ServiceFixture> = all.iter().collect();
    let run = deploy(
        w,
        &refs,
        &[
            "--image",
            &format!("app={IMAGE_V2}"),
            "--image",
            &format!("worker={FAULT_EXIT}"),
        ],
    );
    // The failing service's code: deckhand rolled it back and verified it (3).
    run.assert_exit(3, "rolled-back");
    assert_eq!(
        run.api_calls("ECS.RegisterTaskDefinition"),
        2,
        "one per family"
    );
    let (webs, jobs) = all.split_at(4);
    let web_new = result(&run, &webs[0].service)["task_definition_arn"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(revision(&web_new), "fo-five:2");
    for f in webs {
        assert_eq!(result(&run, &f.service)["verdict"], "succeeded");
        assert_eq!(f.primary_task_definition(w), web_new, "{}", f.service);
    }
    let bad = &jobs[0];
    assert_eq!(result(&run, &bad.service)["verdict"], "rolled-back");
    assert_eq!(result(&run, &bad.service)["rollback"]["by"], "deckhand");
    assert_eq!(bad.primary_task_definition(w), bad.initial_task_definition);
    assert_eq!(
        bad.describe(w)["deployments"][0]["rolloutState"],
        "COMPLETED"
    );
    // Its failure report names it, with the stopped tasks' exit codes.
    assert!(
        run.stderr
            .contains("deploy of `fo-five-jobs-1` in cluster `fo-five`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("exit code 1"), "{}", run.stderr);
    assert_eq!(
        run.json["headline"],
        "5 services: `fo-five-jobs-1` rolled-back; `fo-five-web-1`, `fo-five-web-2`, `fo-five-web-3`, `fo-five-web-4` succeeded"
    );
}

#[test]
fn rollback_all_returns_every_service_to_its_previous_revision() {
    let w = world();
    let all = cluster(w, "fo-all", 4, 1);
    let refs: Vec<&ServiceFixture> = all.iter().collect();
    let run = deploy(
        w,
        &refs,
        &[
            "--image",
            &format!("app={IMAGE_V2}"),
            "--image",
            &format!("worker={FAULT_EXIT}"),
            "--rollback",
            "all",
        ],
    );
    run.assert_exit(3, "rolled-back");
    for f in &all {
        let r = result(&run, &f.service);
        assert_eq!(r["verdict"], "rolled-back", "{}", f.service);
        // awscli: back on the revision it ran before, the rollback deployment completed.
        assert_eq!(
            f.primary_task_definition(w),
            f.initial_task_definition,
            "{}",
            f.service
        );
        let s = f.describe(w);
        assert_eq!(s["deployments"].as_array().unwrap().len(), 1);
        assert_eq!(s["deployments"][0]["rolloutState"], "COMPLETED");
    }
    let full = run.json["services"].as_array().unwrap();
    let web = full
        .iter()
        .find(|s| s["service"] == "fo-all-web-1")
        .unwrap();
    assert_eq!(web["rollback"]["completed"], true);
    assert!(
        web["headline"]
            .as_str()
            .unwrap()
            .ends_with("because `fo-all-jobs-1` failed (`--rollback all`)"),
        "{web}"
    );
}

#[test]
fn bad_input_among_several_services_changes_nothing() {
    let w = world();
    let all = cluster(w, "fo-bad", 2, 0);
    let image = format!("app={IMAGE_V2}");
    let check_nothing_changed = |run: &Run| {
        assert_eq!(
            run.api_calls("ECS.RegisterTaskDefinition"),
            0,
            "{}",
            run.stderr
        );
        assert_eq!(run.api_calls("ECS.UpdateService"), 0);
        assert_eq!(all[0].revisions(w).len(), 1);
        for f in &all {
            assert_eq!(f.primary_task_definition(w), f.initial_task_definition);
        }
    };

    // An unknown service among known ones.
    let mut cmd = w.command(BIN);
    cmd.args(["--output", "json", "ecs", "deploy", "--cluster", "fo-bad"])
        .args(["--service", "fo-bad-web-1", "--service", "ghost"])
        .args(["--service", "fo-bad-web-2", "--skip-image-check"])
        .args(["--image", &image]);
    let run = Run::from_output(&cmd.output().unwrap());
    run.assert_exit(2, "invalid-input");
    assert!(
        run.json["headline"]
            .as_str()
            .unwrap()
            .starts_with("service `ghost`:"),
        "{}",
        run.stdout
    );
    assert!(
        run.json["headline"]
            .as_str()
            .unwrap()
            .ends_with("nothing was registered or updated for any service"),
        "{}",
        run.stdout
    );
    assert_eq!(result(&run, "ghost")["verdict"], "invalid-input");
    assert_eq!(result(&run, "fo-bad-web-1")["verdict"], "dry-run");
    check_nothing_changed(&run);

    // A container that no service's task definition has (a typo).
    let refs: Vec<&ServiceFixture> = all.iter().collect();
    let run = deploy(w, &refs, &["--image", &format!("ap={IMAGE_V2}")]);
    run.assert_exit(2, "invalid-input");
    assert!(
        run.stderr.contains("container `ap` is in none of"),
        "{}",
        run.stderr
    );
    check_nothing_changed(&run);

    // The same service twice; a service definition (it describes one service).
    let run = deploy(w, &[&all[0], &all[0]], &["--image", &image]);
    run.assert_exit(2, "invalid-input");
    assert!(
        run.stderr.contains("given more than once"),
        "{}",
        run.stderr
    );
    let run = deploy(
        w,
        &refs,
        &["--image", &image, "--service-definition", "x.json"],
    );
    run.assert_exit(2, "invalid-input");
    assert!(
        run.stderr.contains("describes one service"),
        "{}",
        run.stderr
    );
    check_nothing_changed(&run);

    // `ecs diff` shows one service.
    let mut cmd = w.command(BIN);
    cmd.args(["--output", "json", "ecs", "diff", "--cluster", "fo-bad"])
        .args(["--service", "fo-bad-web-1", "--service", "fo-bad-web-2"]);
    Run::from_output(&cmd.output().unwrap()).assert_exit(2, "invalid-input");
}

#[test]
fn services_from_the_environment_one_per_line() {
    let w = world();
    let all = cluster(w, "fo-env", 2, 0);
    let mut cmd = w.command(BIN);
    cmd.args(["--output", "json", "ecs", "deploy", "--dry-run"])
        .env("DECKHAND_CLUSTER", "fo-env")
        .env("DECKHAND_SERVICE", "fo-env-web-1\nfo-env-web-2\n")
        .env("DECKHAND_IMAGE", format!("app={IMAGE_V2}"))
        .env("DECKHAND_SKIP_IMAGE_CHECK", "true");
    let run = Run::from_output(&cmd.output().unwrap());
    run.assert_exit(0, "dry-run");
    assert_eq!(run.json["services"].as_array().unwrap().len(), 2);
    assert!(
        run.stderr
            .contains("[fo-env-web-2] plan for service `fo-env-web-2`"),
        "{}",
        run.stderr
    );
    assert_eq!(all[0].revisions(w).len(), 1);
}

/// GitHub's cancel reaches a fan-out: every service's watch stops at once, each result is
/// `cancelled` with its own resume command, nothing is rolled back, and each resume command
/// then gives the verdict the uninterrupted deploy would have.
#[test]
fn sigterm_mid_fan_out_cancels_every_watch_and_each_ecs_wait_resumes() {
    let w = world();
    let services = cluster(w, "fan-cancel", 2, 0);
    let refs: Vec<&ServiceFixture> = services.iter().collect();
    let mut cmd = w.command(BIN);
    cmd.args(["--output", "json", "ecs", "deploy", "--cluster"])
        .arg(&refs[0].cluster)
        .args([
            "--poll-interval",
            "200ms",
            "--timeout",
            "60s",
            "--skip-image-check",
        ])
        .args(["--image", &format!("app={IMAGE_V2}")])
        // Tasks take 5 s to start: the deploys are mid-rollout when the signal comes.
        .args(["--env", "app:DECKHAND_WORLD_START_SECONDS=5"]);
    for s in &refs {
        cmd.args(["--service", &s.service]);
    }
    let signalled = deckhand_testkit::signal_after_line(
        &mut cmd,
        "watching deployment",
        refs.len(),
        Duration::from_millis(500),
        "TERM",
    );
    assert!(
        signalled.took < Duration::from_secs(5),
        "{:?}",
        signalled.took
    );
    let out = signalled.out;
    let run = Run::from_output(&out);
    run.assert_exit(5, "cancelled");
    for s in &refs {
        let r = result(&run, &s.service);
        assert_eq!(r["verdict"], "cancelled", "{r}");
        assert!(r["rollback"].is_null(), "nothing rolled back: {r}");
        let id = r["deployment_id"].as_str().unwrap();
        let resume = format!(
            "deckhand ecs wait --cluster {} --service {} --deployment {id}",
            s.cluster, s.service
        );
        assert_eq!(r["resume_command"], resume.as_str());
        assert!(run.stderr.contains(&resume), "{}", run.stderr);
        let resumed = Run::from_output(
            &w.command(BIN)
                .args(["--output", "json", "ecs", "wait", "--cluster", &s.cluster])
                .args(["--service", &s.service, "--deployment", id])
                .args(["--poll-interval", "200ms", "--timeout", "60s"])
                .output()
                .unwrap(),
        );
        resumed.assert_exit(0, "succeeded");
        assert_eq!(
            s.primary_task_definition(w),
            r["task_definition_arn"].as_str().unwrap()
        );
    }
}
