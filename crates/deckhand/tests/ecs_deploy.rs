//! `deckhand ecs deploy` against the local world: the real SDK over HTTP to moto with the ECS
//! rollout extension; AWS state afterwards is read with awscli. Each scenario asserts the exit
//! code, the verdict, the report, and which task definition is PRIMARY / how many revisions exist.

use std::process::Stdio;
use std::time::{Duration, Instant};

use deckhand_testkit::{Breaker, ContainerSpec, Run, ServiceFixture, World, world};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_deckhand");
const IMAGE_V1: &str = "registry.local/shop/web:v1";
const IMAGE_V2: &str = "registry.local/shop/web:v2";

fn deckhand(w: &World, args: &[&str]) -> Run {
    let out = w
        .command(BIN)
        .args(["--output", "json"])
        .args(args)
        .output()
        .expect("run deckhand");
    Run::from_output(&out)
}

fn deploy(w: &World, f: &ServiceFixture, extra: &[&str]) -> Run {
    f.deploy(w, BIN, extra)
}

/// Runs a deploy as the GitHub Actions runner would: returns the run, `$GITHUB_OUTPUT` and
/// `$GITHUB_STEP_SUMMARY`.
fn deploy_in_actions(w: &World, f: &ServiceFixture, extra: &[&str]) -> (Run, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let (outputs, summary) = (dir.path().join("output"), dir.path().join("summary"));
    let out = w
        .command(BIN)
        .args([
            "--output",
            "json",
            "ecs",
            "deploy",
            "--cluster",
            &f.cluster,
            "--service",
            &f.service,
        ])
        .args(["--poll-interval", "200ms", "--timeout", "60s"])
        .args(extra)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &outputs)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    let read = |p: &std::path::Path| std::fs::read_to_string(p).unwrap_or_default();
    (Run::from_output(&out), read(&outputs), read(&summary))
}

fn web(name: &str, desired: i32, breaker: Breaker) -> ServiceFixture {
    ServiceFixture::create(
        world(),
        name,
        &[ContainerSpec::new("app", IMAGE_V1)],
        desired,
        breaker,
    )
}

#[track_caller]
fn assert_exit(run: &Run, code: i32, verdict: &str) {
    run.assert_exit(code, verdict);
}

fn calls(run: &Run, op: &str) -> u64 {
    run.api_calls(&format!("ECS.{op}"))
}

fn images_of(w: &World, f: &ServiceFixture, arn: &str) -> Vec<(String, String)> {
    f.task_definition(w, arn)["taskDefinition"]["containerDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["image"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn stopped_codes(run: &Run) -> Vec<String> {
    run.json["stopped_tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["stopCode"].as_str().map(str::to_string))
        .collect()
}

fn event_messages(run: &Run) -> String {
    run.json["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["message"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn success_registers_one_revision_and_is_green_only_when_completed() {
    let w = world();
    let f = web("ok", 2, Breaker::WithRollback);
    let (run, outputs, summary) =
        deploy_in_actions(w, &f, &["--image", &format!("app={IMAGE_V2}")]);
    assert_exit(&run, 0, "succeeded");
    assert!(
        !run.stderr.contains("::error"),
        "no annotation on a green deploy: {}",
        run.stderr
    );
    let new_td = run.json["task_definition_arn"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(new_td.ends_with("task-definition/ok:2"), "{new_td}");
    assert_eq!(
        run.json["previous_task_definition_arn"],
        f.initial_task_definition.as_str()
    );
    // AWS state, read with awscli.
    assert_eq!(f.primary_task_definition(w), new_td);
    assert_eq!(f.revisions(w).len(), 2);
    let described = f.task_definition(w, &new_td);
    assert_eq!(
        described["taskDefinition"]["containerDefinitions"][0]["image"],
        IMAGE_V2
    );
    assert_eq!(
        described["tags"],
        serde_json::json!([{"key": "team", "value": "platform"}]),
        "tags are carried over"
    );
    let service = f.describe(w);
    assert_eq!(service["deployments"].as_array().unwrap().len(), 1);
    assert_eq!(service["deployments"][0]["id"], run.json["deployment_id"]);
    assert_eq!(service["deployments"][0]["rolloutState"], "COMPLETED");
    // The log shows the rollout as it happened.
    assert!(run.stderr.contains("has started 2 tasks"), "{}", run.stderr);
    assert!(
        run.stderr.contains("deployment completed"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("2/2 running"), "{}", run.stderr);
    // GitHub Actions outputs and summary.
    for name in deckhand::gha::ECS_DEPLOY_OUTPUTS {
        assert!(
            outputs.contains(&format!("{name}=")) || outputs.contains(&format!("{name}<<")),
            "output {name} not written: {outputs}"
        );
    }
    assert!(outputs.contains("verdict=succeeded\n"), "{outputs}");
    assert!(
        outputs.contains(&format!("task-definition-arn={new_td}\n")),
        "{outputs}"
    );
    assert!(
        outputs.contains(&format!(
            "previous-task-definition-arn={}\n",
            f.initial_task_definition
        )),
        "{outputs}"
    );
    assert!(outputs.contains("exit-code=0\n"), "{outputs}");
    assert!(
        summary.contains("✅ ecs deploy `ok` / `ok`: succeeded"),
        "{summary}"
    );
    assert_eq!(calls(&run, "RegisterTaskDefinition"), 1);
    assert_eq!(calls(&run, "UpdateService"), 1);
    assert_eq!(
        calls(&run, "ListTasks"),
        0,
        "a healthy rollout lists no stopped tasks"
    );
}

/// aws-actions/amazon-ecs-deploy-task-definition #191, fabfuel/ecs-deploy #185.
#[test]
fn circuit_breaker_rollback_is_exit_3_never_green() {
    let w = world();
    let f = web("cb-rollback", 1, Breaker::WithRollback);
    let run = deploy(
        w,
        &f,
        &["--image", "app=registry.local/shop/web:fault-exit"],
    );
    assert_exit(&run, 3, "rolled-back");
    assert_eq!(run.json["rollback"]["by"], "ecs");
    assert_eq!(run.json["rollback"]["completed"], true);
    assert_eq!(f.primary_task_definition(w), f.initial_task_definition);
    assert_eq!(
        f.revisions(w).len(),
        2,
        "the failed revision stays registered"
    );
    let events = event_messages(&run);
    assert!(
        events.contains("deployment failed: tasks failed to start."),
        "{events}"
    );
    assert!(events.contains("rolling back to deployment"), "{events}");
    assert!(
        stopped_codes(&run)
            .iter()
            .all(|c| c == "EssentialContainerExited"),
        "{}",
        run.stdout
    );
    assert!(!stopped_codes(&run).is_empty());
    assert_eq!(run.json["stopped_tasks"][0]["containers"][0]["exitCode"], 1);
    // deckhand did not start a rollback of its own.
    assert_eq!(calls(&run, "UpdateService"), 1);
    assert!(
        run.stderr.contains("stopCode: EssentialContainerExited"),
        "{}",
        run.stderr
    );
}

#[test]
fn circuit_breaker_without_rollback_is_red_and_deckhand_rolls_back() {
    let w = world();
    let f = web("cb-only", 1, Breaker::On);
    let run = deploy(
        w,
        &f,
        &["--image", "app=registry.local/shop/web:fault-exit"],
    );
    assert_exit(&run, 3, "rolled-back");
    assert_eq!(run.json["rollback"]["by"], "deckhand");
    assert!(
        run.json["headline"]
            .as_str()
            .unwrap()
            .contains("ECS deployment circuit breaker: tasks failed to start."),
        "{}",
        run.stdout
    );
    assert_eq!(f.primary_task_definition(w), f.initial_task_definition);
    assert_eq!(calls(&run, "UpdateService"), 2);
    assert_eq!(f.revisions(w).len(), 2);
}

#[test]
fn circuit_breaker_without_rollback_and_rollback_never_stays_failed() {
    let w = world();
    let f = web("cb-never", 1, Breaker::On);
    let run = deploy(
        w,
        &f,
        &[
            "--image",
            "app=registry.local/shop/web:fault-exit",
            "--rollback",
            "never",
        ],
    );
    assert_exit(&run, 1, "failed");
    let new_td = run.json["task_definition_arn"].as_str().unwrap();
    let service = f.describe(w);
    let primary = service["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["status"] == "PRIMARY")
        .unwrap()
        .clone();
    assert_eq!(primary["taskDefinition"], new_td);
    assert_eq!(primary["rolloutState"], "FAILED");
    // Red within one poll of ECS saying FAILED: deckhand stopped polling before the timeout and
    // did not roll back.
    assert_eq!(calls(&run, "UpdateService"), 1);
    assert!(run.json["elapsed_seconds"].as_f64().unwrap() < 30.0);
}

#[test]
fn crash_loop_with_breaker_off_fails_fast_and_rolls_back() {
    let w = world();
    let f = web("crashloop", 2, Breaker::Off);
    let (run, outputs, summary) = deploy_in_actions(
        w,
        &f,
        &[
            "--image",
            "app=registry.local/shop/web:fault-exit",
            "--max-task-failures",
            "3",
        ],
    );
    assert_exit(&run, 3, "rolled-back");
    assert!(
        run.json["headline"]
            .as_str()
            .unwrap()
            .contains("failed and the circuit breaker is off (limit: 3)"),
        "{}",
        run.stdout
    );
    assert_eq!(run.json["rollback"]["by"], "deckhand");
    assert_eq!(f.primary_task_definition(w), f.initial_task_definition);
    assert!(stopped_codes(&run).len() >= 3, "{}", run.stdout);
    assert_eq!(
        run.json["stopped_tasks"][0]["stoppedReason"],
        "Essential container in task exited"
    );
    let service = f.describe(w);
    assert_eq!(
        service["deployments"].as_array().unwrap().len(),
        1,
        "the rollback completed and the bad deployment drained"
    );
    // The red path as a workflow sees it: one annotation, a heredoc failure report, a summary.
    assert_eq!(
        run.stderr.matches("::error title=").count(),
        1,
        "{}",
        run.stderr
    );
    assert!(
        outputs.contains("verdict=rolled-back\n") && outputs.contains("exit-code=3\n"),
        "{outputs}"
    );
    let report_start = outputs
        .find("failure-report<<")
        .expect("multi-line failure report");
    assert!(
        outputs[report_start..].contains("container app: exit code 1"),
        "{outputs}"
    );
    assert!(
        summary.contains("❌ ecs deploy `crashloop` / `crashloop`: rolled-back"),
        "{summary}"
    );
    assert!(
        summary.contains("| EssentialContainerExited | Essential container in task exited |"),
        "{summary}"
    );
}

#[test]
fn image_pull_failure_shows_the_pull_error() {
    let w = world();
    let f = web("pull", 1, Breaker::WithRollback);
    let run = deploy(
        w,
        &f,
        &["--image", "app=registry.local/shop/web:fault-pull"],
    );
    assert_exit(&run, 3, "rolled-back");
    let task = &run.json["stopped_tasks"][0];
    assert_eq!(task["stopCode"], "TaskFailedToStart");
    assert!(
        task["stoppedReason"]
            .as_str()
            .unwrap()
            .starts_with("CannotPullContainerError"),
        "{task}"
    );
    assert!(
        task["containers"][0]
            .get("exitCode")
            .is_none_or(Value::is_null),
        "a container that never started has no exit code: {task}"
    );
    assert!(
        run.stderr.contains("CannotPullContainerError"),
        "{}",
        run.stderr
    );
    assert_eq!(f.primary_task_definition(w), f.initial_task_definition);
}

#[test]
fn health_check_failure_is_reported() {
    let w = world();
    let f = web("health", 1, Breaker::Off);
    let run = deploy(
        w,
        &f,
        &[
            "--image",
            "app=registry.local/shop/web:fault-health",
            "--rollback",
            "never",
        ],
    );
    assert_exit(&run, 1, "failed");
    let task = &run.json["stopped_tasks"][0];
    assert_eq!(task["stoppedReason"], "Task failed container health checks");
    assert_eq!(task["containers"][0]["exitCode"], 143);
    assert!(
        event_messages(&run).contains("failed container health checks."),
        "{}",
        run.stdout
    );
    // Not rolled back: the failed revision is PRIMARY.
    assert_eq!(
        f.primary_task_definition(w),
        run.json["task_definition_arn"].as_str().unwrap()
    );
}

#[test]
fn timeout_while_in_progress_is_exit_4_and_not_rolled_back() {
    let w = world();
    let f = web("timeout", 1, Breaker::WithRollback);
    let run = deploy(
        w,
        &f,
        &[
            "--image",
            "app=registry.local/shop/web:fault-hang",
            "--timeout",
            "3s",
        ],
    );
    assert_exit(&run, 4, "timed-out");
    assert!(
        run.json["headline"]
            .as_str()
            .unwrap()
            .contains("still in progress after 3s"),
        "{}",
        run.stdout
    );
    assert_eq!(
        f.primary_task_definition(w),
        run.json["task_definition_arn"].as_str().unwrap()
    );
    assert_eq!(calls(&run, "UpdateService"), 1);
}

#[test]
fn concurrent_deployment_by_someone_else_supersedes_ours() {
    let w = world();
    let f = web("concurrent", 1, Breaker::WithRollback);
    // Our tasks take 20 s to start, so the other deploy lands while ours is in progress even on a
    // loaded machine; deckhand must notice it at the next poll, not when ours would finish.
    let child = w
        .command(BIN)
        .args([
            "--output",
            "json",
            "ecs",
            "deploy",
            "--cluster",
            "concurrent",
            "--service",
            "concurrent",
            "--poll-interval",
            "200ms",
        ])
        .args([
            "--image",
            &format!("app={IMAGE_V2}"),
            "--env",
            "app:DECKHAND_WORLD_START_SECONDS=20",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        let s = f.describe(w);
        if s["deployments"].as_array().unwrap().len() == 2 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "our deployment never appeared"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let theirs = w.aws(&[
        "ecs",
        "register-task-definition",
        "--family",
        "concurrent",
        "--container-definitions",
        r#"[{"name":"app","image":"registry.local/shop/web:theirs","memory":128}]"#,
    ]);
    let theirs = theirs["taskDefinition"]["taskDefinitionArn"]
        .as_str()
        .unwrap()
        .to_string();
    w.aws(&[
        "ecs",
        "update-service",
        "--cluster",
        "concurrent",
        "--service",
        "concurrent",
        "--task-definition",
        &theirs,
    ]);
    let run = Run::from_output(&child.wait_with_output().unwrap());
    assert_exit(&run, 1, "superseded");
    assert!(
        run.json["headline"]
            .as_str()
            .unwrap()
            .contains("did not start; not rolled back"),
        "{}",
        run.stdout
    );
    assert_eq!(
        calls(&run, "UpdateService"),
        1,
        "never rolls back over someone else's deploy"
    );
    f.wait_steady(w, Duration::from_secs(30));
    assert_eq!(f.primary_task_definition(w), theirs);
}

/// The ServicesStable waiter succeeds at once with desired count 0.
#[test]
fn desired_count_zero_waits_for_the_new_deployment() {
    let w = world();
    let f = web("zero", 1, Breaker::WithRollback);
    let run = deploy(
        w,
        &f,
        &[
            "--image",
            &format!("app={IMAGE_V2}"),
            "--desired-count",
            "0",
        ],
    );
    assert_exit(&run, 0, "succeeded");
    let s = f.describe(w);
    assert_eq!(s["desiredCount"], 0);
    assert_eq!(s["deployments"].as_array().unwrap().len(), 1);
    assert_eq!(
        s["deployments"][0]["taskDefinition"],
        run.json["task_definition_arn"]
    );
    assert_eq!(s["deployments"][0]["id"], run.json["deployment_id"]);
}

#[test]
fn force_new_deployment_with_unchanged_definition_registers_nothing() {
    let w = world();
    let f = web("force", 1, Breaker::WithRollback);
    let before = f.describe(w)["deployments"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let run = deploy(w, &f, &["--force-new-deployment"]);
    assert_exit(&run, 0, "succeeded");
    assert_eq!(run.json["registered"], false);
    assert_eq!(f.revisions(w).len(), 1);
    let after = f.describe(w);
    assert_ne!(
        after["deployments"][0]["id"].as_str().unwrap(),
        before,
        "a new deployment ran"
    );
    assert_eq!(after["deployments"][0]["id"], run.json["deployment_id"]);
    assert_eq!(f.primary_task_definition(w), f.initial_task_definition);
}

#[test]
fn rerunning_the_same_deploy_changes_nothing() {
    let w = world();
    let f = web("rerun", 1, Breaker::WithRollback);
    let first = deploy(w, &f, &["--image", &format!("app={IMAGE_V2}")]);
    assert_exit(&first, 0, "succeeded");
    let deployment = f.describe(w)["deployments"][0]["id"].clone();
    let second = deploy(w, &f, &["--image", &format!("app={IMAGE_V2}")]);
    assert_exit(&second, 0, "no-change");
    assert_eq!(f.revisions(w).len(), 2, "0 new revisions on a re-run");
    assert_eq!(calls(&second, "RegisterTaskDefinition"), 0);
    assert_eq!(calls(&second, "UpdateService"), 0);
    assert_eq!(f.describe(w)["deployments"][0]["id"], deployment);
}

#[test]
fn two_containers_get_distinct_images() {
    let w = world();
    let f = ServiceFixture::create(
        w,
        "twins",
        &[
            ContainerSpec::new("app", IMAGE_V1),
            ContainerSpec::new("sidecar", "registry.local/shop/proxy:1.0"),
        ],
        1,
        Breaker::WithRollback,
    );
    let run = deploy(
        w,
        &f,
        &[
            "--image",
            &format!("app={IMAGE_V2}"),
            "--image",
            "sidecar=registry.local/shop/proxy:1.1",
        ],
    );
    assert_exit(&run, 0, "succeeded");
    let td = run.json["task_definition_arn"].as_str().unwrap();
    assert_eq!(
        images_of(w, &f, td),
        [
            ("app".to_string(), IMAGE_V2.to_string()),
            (
                "sidecar".to_string(),
                "registry.local/shop/proxy:1.1".to_string()
            )
        ]
    );
    // A bare image is ambiguous with two containers: exit 2, nothing changed.
    let revisions = f.revisions(w).len();
    let run = deploy(w, &f, &["--image", IMAGE_V2]);
    assert_exit(&run, 2, "invalid-input");
    assert!(
        run.json["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("--image app="),
        "{}",
        run.stdout
    );
    assert_eq!(f.revisions(w).len(), revisions);
}

#[test]
fn task_definition_file_in_yaml_is_deployed_with_patches() {
    let w = world();
    let f = web("fromfile", 1, Breaker::WithRollback);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("td.yaml");
    std::fs::write(
        &file,
        "family: fromfile\ncontainerDefinitions:\n  - name: app\n    image: registry.local/shop/web:v1\n    memory: 256\n    environment:\n      - {name: MODE, value: file}\n",
    )
    .unwrap();
    let run = deploy(
        w,
        &f,
        &[
            "--task-definition",
            file.to_str().unwrap(),
            "--image",
            &format!("app={IMAGE_V2}"),
            "--env",
            "app:EXTRA=1",
        ],
    );
    assert_exit(&run, 0, "succeeded");
    let td = f.task_definition(w, run.json["task_definition_arn"].as_str().unwrap());
    let c = &td["taskDefinition"]["containerDefinitions"][0];
    assert_eq!(
        (c["image"].as_str(), c["memory"].as_i64()),
        (Some(IMAGE_V2), Some(256))
    );
    let env: Vec<String> = c["environment"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}={}",
                e["name"].as_str().unwrap(),
                e["value"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        env.contains(&"MODE=file".to_string()) && env.contains(&"EXTRA=1".to_string()),
        "{env:?}"
    );
}

/// State that bad input must leave untouched.
fn state(w: &World, f: &ServiceFixture) -> (Vec<String>, String, Value) {
    let s = f.describe(w);
    (
        f.revisions(w),
        f.primary_task_definition(w),
        s["deployments"].clone(),
    )
}

#[test]
fn bad_inputs_exit_2_and_change_nothing() {
    let w = world();
    let f = web("badinput", 1, Breaker::WithRollback);
    let before = state(w, &f);
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\n  \"family\": \"badinput\",\n  \"containerDefinitions\": [\n    {\"name\": \"app\" \"image\": \"x\"}\n  ]\n}\n").unwrap();
    let broken = broken.to_str().unwrap().to_string();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--image", "worker=registry.local/shop/web:v2"],
            "container `worker` is not in task definition family `badinput` (it has: app)",
        ),
        (
            vec!["--image", "app=Registry.Local/Shop:v2"],
            "invalid image reference `Registry.Local/Shop:v2`",
        ),
        (
            vec!["--image", "app=web:"],
            "invalid image reference `web:`",
        ),
        (
            vec!["--task-definition", &broken],
            "broken.json:4:20: expected `,` or `}`",
        ),
        (
            vec!["--env", "app-LOG=1"],
            "`--env app-LOG=...` is not `CONTAINER:KEY=VALUE`",
        ),
        (
            vec!["--timeout", "soon"],
            "`--timeout`: invalid duration `soon`",
        ),
    ];
    for (extra, message) in cases {
        let run = deploy(w, &f, &extra);
        assert_exit(&run, 2, "invalid-input");
        let error = run.json["error"]["message"].as_str().unwrap_or_default();
        assert!(error.contains(message), "{extra:?}: {error}");
        assert!(
            run.stderr.contains(&format!("error: {error}")),
            "{}",
            run.stderr
        );
        assert_eq!(
            calls(&run, "RegisterTaskDefinition") + calls(&run, "UpdateService"),
            0,
            "{extra:?}"
        );
    }
    let missing_cluster = deckhand(
        w,
        &[
            "ecs",
            "deploy",
            "--cluster",
            "nope",
            "--service",
            "badinput",
            "--image",
            IMAGE_V2,
        ],
    );
    assert_exit(&missing_cluster, 2, "invalid-input");
    assert_eq!(
        missing_cluster.json["error"]["message"],
        "cluster `nope` not found"
    );
    let missing_service = deckhand(
        w,
        &[
            "ecs",
            "deploy",
            "--cluster",
            "badinput",
            "--service",
            "nope",
            "--image",
            IMAGE_V2,
        ],
    );
    assert_exit(&missing_service, 2, "invalid-input");
    assert_eq!(
        missing_service.json["error"]["message"],
        "service `nope` not found in cluster `badinput`"
    );
    assert!(
        missing_service.json["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("list-services")
    );
    assert_eq!(state(w, &f), before, "bad input changed AWS state");
}

#[test]
fn usage_errors_still_print_one_json_object() {
    let run = deckhand(world(), &["ecs", "deploy", "--service", "x"]);
    assert_eq!(run.code, 2);
    assert_eq!(run.json["verdict"], "invalid-input");
    assert!(
        run.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--cluster"),
        "{}",
        run.stdout
    );
}

#[test]
fn dry_run_and_diff_change_nothing() {
    let w = world();
    let f = web("dryrun", 1, Breaker::WithRollback);
    let before = state(w, &f);
    let (run, outputs, _) =
        deploy_in_actions(w, &f, &["--image", &format!("app={IMAGE_V2}"), "--dry-run"]);
    assert_exit(&run, 0, "dry-run");
    assert!(
        run.stderr
            .contains(&format!("+      \"image\": \"{IMAGE_V2}\"")),
        "{}",
        run.stderr
    );
    assert_eq!(run.json["plan"]["register"], true);
    // The `plan` output (what deploy.yml posts on a pull request) is the plan as printed.
    let plan = outputs
        .split_once("plan<<")
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| panic!("no multi-line plan output: {outputs}"));
    assert!(
        plan.contains(
            "plan for service `dryrun` in cluster `dryrun`:\n  register a new revision of `dryrun`"
        ),
        "{plan}"
    );
    assert!(
        plan.contains(&format!("+      \"image\": \"{IMAGE_V2}\"")),
        "{plan}"
    );
    let diff = deckhand(
        w,
        &[
            "ecs",
            "diff",
            "--cluster",
            "dryrun",
            "--service",
            "dryrun",
            "--image",
            &format!("app={IMAGE_V2}"),
        ],
    );
    assert_exit(&diff, 0, "dry-run");
    assert!(
        diff.json["plan"]["task_definition_diff"]
            .as_str()
            .unwrap()
            .contains(IMAGE_V2)
    );
    let same = deckhand(
        w,
        &[
            "ecs",
            "diff",
            "--cluster",
            "dryrun",
            "--service",
            "dryrun",
            "--image",
            &format!("app={IMAGE_V1}"),
        ],
    );
    assert_exit(&same, 0, "no-change");
    assert_eq!(state(w, &f), before);
}

#[test]
fn secrets_are_masked_and_never_printed() {
    let w = world();
    let f = web("secrets", 1, Breaker::WithRollback);
    let out = w
        .command(BIN)
        .args([
            "ecs",
            "deploy",
            "--cluster",
            "secrets",
            "--service",
            "secrets",
            "--poll-interval",
            "200ms",
        ])
        .args(["--env", "app:DB_PASSWORD=hunter2-very-secret"])
        .env("GITHUB_ACTIONS", "true")
        .output()
        .unwrap();
    let run = Run::from_output(&out);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mask = "::add-mask::hunter2-very-secret";
    assert!(
        run.stderr.starts_with(mask),
        "the mask comes before any other output: {}",
        run.stderr
    );
    assert_eq!(
        run.stderr.matches("hunter2-very-secret").count(),
        1,
        "{}",
        run.stderr
    );
    // The plan names the variable and says it is new; its value is hidden.
    assert!(
        run.stderr.contains("+          \"name\": \"DB_PASSWORD\",")
            && run.stderr.contains("+          \"value\": \"(new)\""),
        "{}",
        run.stderr
    );
    // The value reached AWS.
    let td = f.task_definition(w, &f.primary_task_definition(w));
    assert_eq!(
        td["taskDefinition"]["containerDefinitions"][0]["environment"][0]["value"],
        "hunter2-very-secret"
    );
}

/// Runs `ecs diff` as a GitHub Actions job would: returns the run, `$GITHUB_OUTPUT` and
/// `$GITHUB_STEP_SUMMARY`.
fn diff_in_actions(w: &World, f: &ServiceFixture, extra: &[&str]) -> (Run, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let (outputs, summary) = (dir.path().join("output"), dir.path().join("summary"));
    let out = w
        .command(BIN)
        .args(["--output", "json", "ecs", "diff", "--cluster", &f.cluster])
        .args(["--service", &f.service])
        .args(extra)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &outputs)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    let read = |p: &std::path::Path| std::fs::read_to_string(p).unwrap_or_default();
    (Run::from_output(&out), read(&outputs), read(&summary))
}

/// The `plan` output (what a pull request comment shows).
fn plan_output(outputs: &str) -> &str {
    outputs
        .split_once("plan<<")
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| panic!("no multi-line plan output: {outputs}"))
}

/// Plans reach logs and pull request comments: environment variable values (not only
/// secret-looking ones) are hidden unless `--show-env-values`.
#[test]
fn env_values_never_leave_the_runner_unless_asked() {
    let w = world();
    let f = web("envvalues", 1, Breaker::WithRollback);
    let live = deploy(
        w,
        &f,
        &[
            "--env",
            "app:REDIS_URL=redis://:old-pw@cache:6379",
            "--env",
            "app:LOG_LEVEL=info",
        ],
    );
    assert_exit(&live, 0, "succeeded");
    let before = state(w, &f);
    let changes = [
        "--env",
        "app:REDIS_URL=redis://:hunter2@cache:6379",
        "--env",
        "app:STRIPE=sk_live_51Habc",
    ];
    let (run, outputs, summary) = diff_in_actions(w, &f, &changes);
    assert_exit(&run, 0, "dry-run");
    let plan = plan_output(&outputs);
    let json_diff = run.json["plan"]["task_definition_diff"].as_str().unwrap();
    for (what, text) in [
        ("stdout", run.stdout.as_str()),
        ("stderr", &run.stderr),
        ("the plan output", plan),
        ("the outputs", &outputs),
        ("the step summary", &summary),
    ] {
        for value in ["hunter2", "old-pw", "sk_live_51Habc"] {
            assert!(!text.contains(value), "{value} is in {what}:\n{text}");
        }
    }
    for text in [plan, json_diff, &run.stderr] {
        for shown in [
            // Changed: a changed line.
            "           \"name\": \"REDIS_URL\",\n-          \"value\": \"(hidden)\"\n+          \"value\": \"(changed)\"\n",
            // New: added lines.
            "+          \"name\": \"STRIPE\",\n+          \"value\": \"(new)\"\n",
        ] {
            assert!(text.contains(shown), "{shown} is missing:\n{text}");
        }
        assert!(
            !text
                .lines()
                .any(|l| l.starts_with(['-', '+']) && l.contains("LOG_LEVEL")),
            "{text}"
        );
    }

    // Asked for: the plan shows them.
    let (run, outputs, _) =
        diff_in_actions(w, &f, &[&changes[..], &["--show-env-values"]].concat());
    assert_exit(&run, 0, "dry-run");
    for text in [plan_output(&outputs), &run.stderr] {
        for shown in [
            "-          \"value\": \"redis://:old-pw@cache:6379\"\n+          \"value\": \"redis://:hunter2@cache:6379\"\n",
            "+          \"value\": \"sk_live_51Habc\"\n",
        ] {
            assert!(text.contains(shown), "{shown} is missing:\n{text}");
        }
    }
    // The same through the environment, as the action passes it.
    let out = w
        .command(BIN)
        .args(["--output", "json", "ecs", "diff", "--cluster", &f.cluster])
        .args(["--service", &f.service])
        .args(changes)
        .env("DECKHAND_SHOW_ENV_VALUES", "true")
        .output()
        .unwrap();
    let run = Run::from_output(&out);
    assert_exit(&run, 0, "dry-run");
    assert!(
        run.json["plan"]["task_definition_diff"]
            .as_str()
            .unwrap()
            .contains("sk_live_51Habc"),
        "{}",
        run.stdout
    );
    assert_eq!(state(w, &f), before);
}

#[test]
fn rollback_command_returns_to_the_previous_revision() {
    let w = world();
    let f = web("manual-rollback", 1, Breaker::WithRollback);
    assert_exit(
        &deploy(w, &f, &["--image", &format!("app={IMAGE_V2}")]),
        0,
        "succeeded",
    );
    let run = deckhand(
        w,
        &[
            "ecs",
            "rollback",
            "--cluster",
            "manual-rollback",
            "--service",
            "manual-rollback",
            "--poll-interval",
            "200ms",
        ],
    );
    assert_exit(&run, 0, "succeeded");
    assert_eq!(
        run.json["task_definition_arn"],
        f.initial_task_definition.as_str()
    );
    assert_eq!(f.primary_task_definition(w), f.initial_task_definition);
    assert_eq!(f.revisions(w).len(), 2, "rollback never deregisters");
    let bad = deckhand(
        w,
        &[
            "ecs",
            "rollback",
            "--cluster",
            "manual-rollback",
            "--service",
            "manual-rollback",
            "--to",
            "99",
        ],
    );
    assert_exit(&bad, 2, "invalid-input");
}

#[test]
fn a_missing_region_is_bad_configuration() {
    let out = world()
        .command(BIN)
        .args([
            "--output",
            "json",
            "ecs",
            "deploy",
            "--cluster",
            "c",
            "--service",
            "s",
            "--image",
            IMAGE_V2,
        ])
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .output()
        .unwrap();
    let run = Run::from_output(&out);
    assert_exit(&run, 2, "invalid-input");
    assert_eq!(run.json["error"]["message"], "no AWS region is set");
    assert_eq!(run.json["api_calls"]["total"], 0);
}
