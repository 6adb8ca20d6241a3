//! `ecs deploy` across a job's whole life, against the local world: the same inputs again after
//! a failure, after a timeout, after a success; a deploy made while an earlier one is failing.
//! A verdict that is true only on a clean first run is a false verdict: each scenario asserts
//! the exit code, the verdict, what was written (registrations, UpdateService calls) and which
//! task definition the service runs afterwards.

use std::path::Path;

use deckhand_testkit::action_step::ActionStep;
use deckhand_testkit::{Breaker, ContainerSpec, Run, ServiceFixture, World, world};

const BIN: &str = env!("CARGO_BIN_EXE_deckhand");
const IMAGE_V1: &str = "registry.local/shop/web:v1";
const IMAGE_V2: &str = "registry.local/shop/web:v2";
const CRASHING: &str = "app=registry.local/shop/web:fault-exit";

fn web(name: &str, breaker: Breaker) -> ServiceFixture {
    ServiceFixture::create(
        world(),
        name,
        &[ContainerSpec::new("app", IMAGE_V1)],
        1,
        breaker,
    )
}

fn deploy(w: &World, f: &ServiceFixture, extra: &[&str]) -> Run {
    f.deploy(w, BIN, extra)
}

fn calls(run: &Run, op: &str) -> u64 {
    run.api_calls(&format!("ECS.{op}"))
}

/// The writes a run made: (RegisterTaskDefinition, UpdateService).
fn writes(run: &Run) -> (u64, u64) {
    (
        calls(run, "RegisterTaskDefinition"),
        calls(run, "UpdateService"),
    )
}

/// The false green a re-run used to give: the wanted revision was PRIMARY, still rolling with
/// its tasks crashing, and the re-run said `no-change` (exit 0). Now it attaches to that
/// deployment and is red again, registering and updating nothing.
#[test]
fn a_rerun_after_a_crash_loop_with_rollback_never_is_red_again() {
    let w = world();
    let f = web("life-crash", Breaker::Off);
    let first = deploy(w, &f, &["--image", CRASHING, "--rollback", "never"]);
    first.assert_exit(1, "failed");
    let failing = first.json["task_definition_arn"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(f.primary_task_definition(w), failing);

    let again = deploy(w, &f, &["--image", CRASHING, "--rollback", "never"]);
    again.assert_exit(1, "failed");
    assert_eq!(writes(&again), (0, 0), "{}", again.stderr);
    assert_eq!(again.json["plan"]["deployment"]["kind"], "attach");
    assert_eq!(again.json["deployment_id"], first.json["deployment_id"]);
    assert!(
        again
            .stderr
            .contains("is still in progress: watching it to its verdict"),
        "{}",
        again.stderr
    );
    assert_eq!(
        f.revisions(w).len(),
        2,
        "no revision registered by the re-run"
    );
}

/// With the breaker on and rollback off, ECS marks the deployment FAILED and leaves it PRIMARY:
/// a re-run retries the same revision (a fresh deployment, nothing registered) and is red again.
#[test]
fn a_rerun_after_a_breaker_failure_retries_the_same_revision() {
    let w = world();
    let f = web("life-retry", Breaker::On);
    let first = deploy(w, &f, &["--image", CRASHING, "--rollback", "never"]);
    first.assert_exit(1, "failed");
    let failing = first.json["task_definition_arn"]
        .as_str()
        .unwrap()
        .to_string();

    let again = deploy(w, &f, &["--image", CRASHING, "--rollback", "never"]);
    again.assert_exit(1, "failed");
    assert_eq!(again.json["plan"]["deployment"]["kind"], "retry");
    assert_eq!(writes(&again), (0, 1), "{}", again.stderr);
    assert_ne!(again.json["deployment_id"], first.json["deployment_id"]);
    assert_eq!(again.json["task_definition_arn"], failing.as_str());
    assert_eq!(f.revisions(w).len(), 2);
}

/// After a timeout the deployment goes on; a re-run attaches to it and is green only once it
/// completes.
#[test]
fn a_rerun_after_a_timeout_attaches_and_is_green_when_it_completes() {
    let w = world();
    let f = web("life-slow", Breaker::WithRollback);
    let slow = [
        "--image",
        &format!("app={IMAGE_V2}"),
        "--env",
        "app:DECKHAND_WORLD_START_SECONDS=4",
    ];
    let mut first_args = slow.to_vec();
    first_args.extend(["--timeout", "1s"]);
    let first = deploy(w, &f, &first_args);
    first.assert_exit(4, "timed-out");
    let resume = format!(
        "deckhand ecs wait --cluster {} --service {} --deployment {}",
        f.cluster,
        f.service,
        first.json["deployment_id"].as_str().unwrap()
    );
    assert_eq!(first.json["resume_command"], resume.as_str());
    assert!(first.stderr.contains(&resume), "{}", first.stderr);

    let again = deploy(w, &f, &slow);
    again.assert_exit(0, "succeeded");
    assert_eq!(again.json["plan"]["deployment"]["kind"], "attach");
    assert_eq!(writes(&again), (0, 0), "{}", again.stderr);
    assert_eq!(again.json["deployment_id"], first.json["deployment_id"]);
    assert_eq!(
        f.describe(w)["deployments"][0]["rolloutState"],
        "COMPLETED",
        "green only once the deployment completed"
    );

    let third = deploy(w, &f, &slow);
    third.assert_exit(0, "no-change");
    assert_eq!(writes(&third), (0, 0));
}

/// After a deploy that failed and was rolled back, the same inputs deploy the failed revision
/// again (a retry: nothing registered) and are rolled back again.
#[test]
fn a_rerun_after_a_rollback_redeploys_the_same_revision() {
    let w = world();
    let f = web("life-rolledback", Breaker::Off);
    let first = deploy(w, &f, &["--image", CRASHING]);
    first.assert_exit(3, "rolled-back");
    assert_eq!(f.primary_task_definition(w), f.initial_task_definition);
    let failed = first.json["task_definition_arn"]
        .as_str()
        .unwrap()
        .to_string();

    let again = deploy(w, &f, &["--image", CRASHING]);
    again.assert_exit(3, "rolled-back");
    assert_eq!(again.json["plan"]["reuse"], failed.as_str());
    assert_eq!(writes(&again).0, 0, "nothing registered");
    assert_eq!(again.json["task_definition_arn"], failed.as_str());
    assert_eq!(f.revisions(w).len(), 2);
    assert_eq!(f.primary_task_definition(w), f.initial_task_definition);
}

/// A deploy made while an earlier deploy is still failing (rollback never) rolls back, when it
/// fails too, to the revision that last ran to completion, never to the failing one.
#[test]
fn the_automatic_rollback_skips_a_revision_that_was_failing() {
    let w = world();
    let f = web("life-lastgood", Breaker::Off);
    let good = deploy(w, &f, &["--image", &format!("app={IMAGE_V2}")]);
    good.assert_exit(0, "succeeded");
    let good_td = good.json["task_definition_arn"]
        .as_str()
        .unwrap()
        .to_string();
    let failing = deploy(w, &f, &["--image", CRASHING, "--rollback", "never"]);
    failing.assert_exit(1, "failed");

    let next = deploy(
        w,
        &f,
        &["--image", "app=registry.local/shop/web:fault-pull"],
    );
    next.assert_exit(3, "rolled-back");
    assert_eq!(next.json["rollback"]["task_definition"], good_td.as_str());
    assert_eq!(f.primary_task_definition(w), good_td);
}

/// A deploy running as a child, stopped once its log says it is watching a deployment.
struct Interrupted {
    out: std::process::Output,
    /// Time from the signal to the exit.
    took: std::time::Duration,
    outputs: String,
}

impl Interrupted {
    /// Asserts a cancel as GitHub's would be seen: exit 5 within seconds of the signal, the
    /// outputs written, no rollback started. Returns the result and the deployment it left.
    #[track_caller]
    fn assert_cancelled(&self) -> (Run, String) {
        let run = Run::from_output(&self.out);
        run.assert_exit(5, "cancelled");
        // "Within a second" of the signal; generous for a loaded CI machine.
        assert!(
            self.took < std::time::Duration::from_secs(5),
            "{:?}",
            self.took
        );
        assert_eq!(calls(&run, "UpdateService"), 1, "no rollback started");
        let id = run.json["deployment_id"].as_str().unwrap().to_string();
        for line in [
            "verdict=cancelled",
            "exit-code=5",
            &format!("deployment-id={id}"),
        ] {
            assert!(self.outputs.contains(line), "{line}:\n{}", self.outputs);
        }
        (run, id)
    }
}

/// Runs `ecs deploy` with `extra`, and sends `signal` once it watches the deployment.
fn deploy_then_signal(w: &World, f: &ServiceFixture, extra: &[&str], signal: &str) -> Interrupted {
    let dir = tempfile::tempdir().unwrap();
    let outputs = dir.path().join("output");
    let mut cmd = w.command(BIN);
    cmd.args(["--output", "json", "ecs", "deploy", "--cluster", &f.cluster])
        .args(["--service", &f.service, "--poll-interval", "200ms"])
        .args(extra)
        .env("GITHUB_OUTPUT", &outputs);
    run_then_signal(cmd, &outputs, signal)
}

/// Starts `cmd` and sends `signal` to it a poll or two after it printed that it watches a
/// deployment.
fn run_then_signal(mut cmd: std::process::Command, outputs: &Path, signal: &str) -> Interrupted {
    let signalled = deckhand_testkit::signal_after_line(
        &mut cmd,
        "watching deployment",
        1,
        std::time::Duration::from_millis(500),
        signal,
    );
    Interrupted {
        out: signalled.out,
        took: signalled.took,
        outputs: std::fs::read_to_string(outputs).unwrap_or_default(),
    }
}

fn wait(w: &World, f: &ServiceFixture, extra: &[&str]) -> Run {
    let mut args = vec!["--output", "json", "ecs", "wait", "--cluster", &f.cluster];
    args.extend([
        "--service",
        &f.service,
        "--poll-interval",
        "200ms",
        "--timeout",
        "60s",
    ]);
    args.extend_from_slice(extra);
    Run::from_output(&w.command(BIN).args(&args).output().expect("run deckhand"))
}

/// GitHub cancels a step with SIGINT then SIGTERM: deckhand stops watching at once, writes its
/// outputs (`cancelled`), starts nothing (no rollback), and prints the command that resumes;
/// that command then gives the verdict the uninterrupted deploy would have.
#[test]
fn sigterm_mid_watch_is_cancelled_and_ecs_wait_resumes_to_the_verdict() {
    let w = world();
    let f = web("life-sigterm", Breaker::Off);
    let slow = [
        "--image",
        &format!("app={IMAGE_V2}"),
        "--env",
        "app:DECKHAND_WORLD_START_SECONDS=5",
        "--timeout",
        "60s",
    ];
    let (run, id) = deploy_then_signal(w, &f, &slow, "TERM").assert_cancelled();
    let resume = format!(
        "deckhand ecs wait --cluster {} --service {} --deployment {id}",
        f.cluster, f.service
    );
    assert_eq!(run.json["resume_command"], resume.as_str());
    assert!(run.stderr.contains(&resume), "{}", run.stderr);

    let resumed = wait(w, &f, &["--deployment", &id]);
    assert_resumed_to_green(w, &f, &resumed, &run);
}

/// A resumed watch of `cancelled`'s deployment: green, writing nothing, the service on the
/// revision the cancelled run deployed.
#[track_caller]
fn assert_resumed_to_green(w: &World, f: &ServiceFixture, resumed: &Run, cancelled: &Run) {
    resumed.assert_exit(0, "succeeded");
    assert_eq!(
        resumed.json["deployment_id"],
        cancelled.json["deployment_id"]
    );
    assert_eq!(writes(resumed), (0, 0));
    assert_eq!(
        f.primary_task_definition(w),
        cancelled.json["task_definition_arn"].as_str().unwrap()
    );
}

/// The same cancel through the actions as users run them: the runner signals the step's
/// process alone (a script that waited for a child in the foreground would sit out SIGINT and
/// SIGTERM until the runner's SIGKILL, and deckhand would never say `cancelled`). The scripts
/// `exec` deckhand, so the signal is deckhand's; `actions/ecs-wait` then resumes to the verdict.
#[test]
fn cancelling_the_ecs_deploy_action_reaches_deckhand_and_the_ecs_wait_action_resumes() {
    let w = world();
    let f = web("life-action-cancel", Breaker::Off);
    let actions = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../actions");
    let dir = tempfile::tempdir().unwrap();
    let outputs = dir.path().join("output");
    let runner = |cmd: &mut std::process::Command| {
        w.clean(cmd);
        // JSON on stdout as well, for the API calls (any DECKHAND_* of the job reaches deckhand).
        cmd.env("DECKHAND_OUTPUT", "json")
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_OUTPUT", &outputs)
            .env("GITHUB_STEP_SUMMARY", dir.path().join("summary"));
    };

    let image = IMAGE_V2.to_string();
    let mut cmd = ActionStep::load(&actions.join("ecs-deploy"), "deploy").command(
        &[
            ("cluster", &f.cluster),
            ("service", &f.service),
            ("container-name", "app"),
            ("image", &image),
            (
                "environment-variables",
                "app:DECKHAND_WORLD_START_SECONDS=5",
            ),
            ("poll-interval", "200ms"),
            ("timeout", "60s"),
            ("skip-image-check", "true"),
        ],
        BIN,
        dir.path(),
    );
    runner(&mut cmd);
    // The runner's first signal; its SIGTERM would follow 7.5 s later.
    let (run, id) = run_then_signal(cmd, &outputs, "INT").assert_cancelled();

    std::fs::write(&outputs, "").unwrap();
    let mut cmd = ActionStep::load(&actions.join("ecs-wait"), "deploy").command(
        &[
            ("cluster", &f.cluster),
            ("service", &f.service),
            ("deployment", &id),
            ("poll-interval", "200ms"),
        ],
        BIN,
        dir.path(),
    );
    runner(&mut cmd);
    let resumed = Run::from_output(&cmd.output().unwrap());
    assert_resumed_to_green(w, &f, &resumed, &run);
    let written = std::fs::read_to_string(&outputs).unwrap();
    assert!(written.contains("verdict=succeeded"), "{written}");
    assert!(
        written.contains(&format!("deployment-id={id}")),
        "{written}"
    );
}

/// A deploy killed outright (no report at all) and then `ecs wait` give the verdict one
/// uninterrupted run gives: here a crash loop, rolled back by deckhand (exit 3).
#[test]
fn sigkill_mid_watch_then_ecs_wait_gives_the_uninterrupted_verdict() {
    let w = world();
    let uninterrupted = web("life-kill-a", Breaker::Off);
    let whole = deploy(w, &uninterrupted, &["--image", CRASHING]);
    whole.assert_exit(3, "rolled-back");

    let f = web("life-kill-b", Breaker::Off);
    let killed = deploy_then_signal(w, &f, &["--image", CRASHING, "--timeout", "60s"], "KILL");
    assert_eq!(killed.out.status.code(), None, "killed by the signal");
    assert!(killed.outputs.is_empty(), "a killed run writes nothing");

    let resumed = wait(w, &f, &[]);
    resumed.assert_exit(3, "rolled-back");
    assert_eq!(resumed.json["rollback"]["by"], whole.json["rollback"]["by"]);
    assert_eq!(
        resumed.json["rollback"]["task_definition"],
        f.initial_task_definition.as_str()
    );
    assert_eq!(f.primary_task_definition(w), f.initial_task_definition);
}

/// A task definition file with a wrong type or a misspelled field is bad input before any
/// request: exit 2 naming the file, the line and the field, and 0 AWS requests.
#[test]
fn task_definition_files_are_checked_against_the_ecs_model_before_any_request() {
    let w = world();
    let f = web("life-tdfile", Breaker::Off);
    let dir = tempfile::tempdir().unwrap();
    let wrong_type = dir.path().join("wrong-type.yaml");
    std::fs::write(
        &wrong_type,
        "family: life-tdfile\ncontainerDefinitions:\n  - name: app\n    image: registry.local/shop/web:v2\n    memory: lots\n",
    )
    .unwrap();
    let misspelled = dir.path().join("misspelled.json");
    std::fs::write(
        &misspelled,
        "{\n  \"family\": \"life-tdfile\",\n  \"containerDefinitions\": [\n    {\"name\": \"app\", \"image\": \"registry.local/shop/web:v2\",\n     \"enviroment\": []}\n  ]\n}\n",
    )
    .unwrap();
    let cases = [
        (
            wrong_type.display().to_string(),
            "wrong-type.yaml:5:13: `containerDefinitions[0].memory`: expected an integer",
            None,
        ),
        (
            misspelled.display().to_string(),
            "misspelled.json:5:17: `containerDefinitions[0].enviroment`: unknown field",
            Some("did you mean `environment`?"),
        ),
    ];
    for (file, message, hint) in cases {
        let run = deploy(w, &f, &["--task-definition", &file]);
        run.assert_exit(2, "invalid-input");
        let error = run.json["error"]["message"].as_str().unwrap_or_default();
        assert!(error.contains(message), "{error}");
        if let Some(hint) = hint {
            assert!(
                run.json["error"]["hint"]
                    .as_str()
                    .unwrap_or_default()
                    .contains(hint)
            );
        }
        assert_eq!(run.json["api_calls"]["total"], 0, "no request: {error}");
    }
    assert_eq!(f.revisions(w).len(), 1);
}

/// After the circuit breaker rolled a deploy back while nobody watched, `ecs wait` reads the
/// end from ECS's deployment history: rolled-back (exit 3), never green.
#[test]
fn ecs_wait_after_a_breaker_rollback_nobody_watched_is_rolled_back() {
    let w = world();
    let f = web("life-kill-cb", Breaker::WithRollback);
    let killed = deploy_then_signal(w, &f, &["--image", CRASHING, "--timeout", "60s"], "KILL");
    assert_eq!(killed.out.status.code(), None);
    // Let ECS fail the deployment and finish its rollback.
    std::thread::sleep(std::time::Duration::from_secs(2));
    f.wait_steady(w, std::time::Duration::from_secs(60));
    assert_eq!(f.primary_task_definition(w), f.initial_task_definition);

    let resumed = wait(w, &f, &[]);
    resumed.assert_exit(3, "rolled-back");
    assert!(
        resumed.json["headline"]
            .as_str()
            .unwrap()
            .contains("failed and ECS rolled the service back"),
        "{}",
        resumed.stdout
    );
    assert_eq!(
        resumed.json["rollback"]["task_definition"],
        f.initial_task_definition.as_str()
    );
    assert_eq!(writes(&resumed), (0, 0));
}

/// ECS's breaker count restarts each time a task runs, so a crash loop whose tasks run a
/// while never trips it; deckhand's own `--max-task-failures` does, and it rolls back (it used
/// to wait out the whole timeout).
#[test]
fn a_crash_loop_the_breaker_misses_is_red_within_the_failure_limit() {
    let w = world();
    let f = web("life-reset", Breaker::WithRollbackResetting);
    let run = deploy(w, &f, &["--image", CRASHING, "--max-task-failures", "3"]);
    run.assert_exit(3, "rolled-back");
    let headline = run.json["headline"].as_str().unwrap();
    assert!(
        headline.contains("failed (limit: 3); the circuit breaker did not stop it"),
        "{headline}"
    );
    assert_eq!(run.json["rollback"]["by"], "deckhand");
    assert_eq!(f.primary_task_definition(w), f.initial_task_definition);
}

/// `ecs rollback` without `--to` goes to the last revision that ran to completion before the
/// live one (a failed revision in between is skipped), and restores its task count.
#[test]
fn ecs_rollback_goes_to_the_last_good_revision_and_restores_its_count() {
    let w = world();
    let f = web("life-rollback", Breaker::Off);
    let failed = deploy(w, &f, &["--image", CRASHING]);
    failed.assert_exit(3, "rolled-back");
    let failed_td = failed.json["task_definition_arn"]
        .as_str()
        .unwrap()
        .to_string();
    let good = deploy(
        w,
        &f,
        &[
            "--image",
            &format!("app={IMAGE_V2}"),
            "--desired-count",
            "2",
        ],
    );
    good.assert_exit(0, "succeeded");
    assert_eq!(f.describe(w)["desiredCount"], 2);

    let args = [
        "--output",
        "json",
        "ecs",
        "rollback",
        "--cluster",
        &f.cluster,
        "--service",
        &f.service,
        "--poll-interval",
        "200ms",
        "--timeout",
        "60s",
    ];
    let back = Run::from_output(&w.command(BIN).args(args).output().unwrap());
    back.assert_exit(0, "succeeded");
    assert_eq!(
        back.json["task_definition_arn"],
        f.initial_task_definition.as_str(),
        "not the failed revision {failed_td}"
    );
    assert_eq!(f.primary_task_definition(w), f.initial_task_definition);
    assert_eq!(f.describe(w)["desiredCount"], 1, "the count it ran with");
    assert!(
        back.stderr.contains("desired count 2 -> 1 (as it was)"),
        "{}",
        back.stderr
    );
}

const ECR: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";

/// A new image is looked up before anything is registered: a tag ECR does not have is bad
/// input (exit 2, 0 writes); one it has is registered by its digest, and a re-run of the same
/// tag is no-change.
#[test]
fn new_images_must_exist_and_are_pinned_to_their_digests() {
    let w = world();
    let f = web("life-img", Breaker::Off);
    w.aws(&["ecr", "create-repository", "--repository-name", "life-img"]);
    let manifest = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#;
    w.aws(&[
        "ecr",
        "put-image",
        "--repository-name",
        "life-img",
        "--image-tag",
        "v2",
        "--image-manifest",
        manifest,
    ]);
    let digest = w.aws(&[
        "ecr",
        "describe-images",
        "--repository-name",
        "life-img",
        "--image-ids",
        "imageTag=v2",
    ])["imageDetails"][0]["imageDigest"]
        .as_str()
        .unwrap()
        .to_string();

    let missing = deploy(w, &f, &["--image", &format!("app={ECR}/life-img:v3")]);
    missing.assert_exit(2, "invalid-input");
    let error = missing.json["error"]["message"].as_str().unwrap();
    assert!(
        error.contains("does not exist: ECR repository `life-img` has no tag `v3`"),
        "{error}"
    );
    assert_eq!(writes(&missing), (0, 0));
    assert_eq!(f.revisions(w).len(), 1);

    let tag = format!("app={ECR}/life-img:v2");
    let run = deploy(w, &f, &["--image", &tag]);
    run.assert_exit(0, "succeeded");
    let registered = run.json["task_definition_arn"].as_str().unwrap();
    let image =
        f.task_definition(w, registered)["taskDefinition"]["containerDefinitions"][0]["image"]
            .clone();
    assert_eq!(image, format!("{ECR}/life-img@{digest}").as_str());
    assert_eq!(run.json["plan"]["pinned"][0]["digest"], digest.as_str());
    assert!(
        run.stderr
            .contains(&format!("`{ECR}/life-img:v2` is {digest}")),
        "{}",
        run.stderr
    );

    let again = deploy(w, &f, &["--image", &tag]);
    again.assert_exit(0, "no-change");
    assert_eq!(writes(&again), (0, 0));
    assert_eq!(again.api_calls("ECR.DescribeImages"), 1);
}

/// A task definition whose awslogs log group does not exist, or that lacks the execution role
/// it needs, is bad input before any change.
#[test]
fn missing_log_groups_and_execution_roles_are_found_before_any_change() {
    let w = world();
    let f = web("life-logs", Breaker::Off);
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, doc: serde_json::Value| {
        let path = dir.path().join(name);
        std::fs::write(&path, doc.to_string()).unwrap();
        path.display().to_string()
    };
    let logging = serde_json::json!({"logDriver": "awslogs", "options": {
        "awslogs-group": "/ecs/life-logs", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "app"}});
    let with_logs = file(
        "logs.json",
        serde_json::json!({"family": "life-logs", "containerDefinitions": [
            {"name": "app", "image": IMAGE_V2, "memory": 128, "logConfiguration": logging}]}),
    );
    let run = deploy(w, &f, &["--task-definition", &with_logs]);
    run.assert_exit(2, "invalid-input");
    assert_eq!(
        run.json["error"]["message"],
        "container `app` logs to the awslogs group `/ecs/life-logs`, which does not exist in us-east-1"
    );
    assert_eq!(writes(&run), (0, 0));

    w.aws(&[
        "logs",
        "create-log-group",
        "--log-group-name",
        "/ecs/life-logs",
    ]);
    deploy(w, &f, &["--task-definition", &with_logs]).assert_exit(0, "succeeded");

    let fargate = file(
        "fargate.json",
        serde_json::json!({"family": "life-logs", "requiresCompatibilities": ["FARGATE"],
            "networkMode": "awsvpc", "cpu": "256", "memory": "512",
            "containerDefinitions": [{"name": "app", "image": IMAGE_V2, "logConfiguration": logging}]}),
    );
    let run = deploy(w, &f, &["--task-definition", &fargate]);
    run.assert_exit(2, "invalid-input");
    assert_eq!(
        run.json["error"]["message"],
        "task definition `life-logs` has no `executionRoleArn`, and container `app` logs with `awslogs` on Fargate"
    );
    assert_eq!(writes(&run), (0, 0));
}

/// `--keep-revisions N` deregisters, once the deploy is green, the revisions past the newest N,
/// but never the running one, the last good one or one another service of the cluster runs;
/// the plan lists them first.
#[test]
fn keep_revisions_never_touches_the_running_last_good_or_used_revisions() {
    let w = world();
    let f = web("life-keep", Breaker::Off);
    let r1 = f.initial_task_definition.clone();
    // Another service of the cluster runs revision 1.
    w.aws(&[
        "ecs",
        "create-service",
        "--cluster",
        &f.cluster,
        "--service-name",
        "life-keep-worker",
        "--task-definition",
        &r1,
        "--desired-count",
        "1",
    ]);
    deploy(w, &f, &["--image", &format!("app={IMAGE_V2}")]).assert_exit(0, "succeeded");
    let failed = deploy(w, &f, &["--image", CRASHING]);
    failed.assert_exit(3, "rolled-back");
    let r3 = failed.json["task_definition_arn"]
        .as_str()
        .unwrap()
        .to_string();
    let r2 = f.primary_task_definition(w);

    let run = deploy(
        w,
        &f,
        &[
            "--image",
            "app=registry.local/shop/web:v4",
            "--keep-revisions",
            "1",
        ],
    );
    run.assert_exit(0, "succeeded");
    let r4 = run.json["task_definition_arn"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(run.json["plan"]["deregister"], serde_json::json!([r3]));
    assert!(
        run.stderr
            .contains("once green, deregister 1 old revision(s): life-keep:3"),
        "{}",
        run.stderr
    );
    assert_eq!(run.json["deregistered"], serde_json::json!([r3]));
    let active = f.revisions(w);
    for kept in [&r1, &r2, &r4] {
        assert!(active.contains(kept), "{kept} was deregistered: {active:?}");
    }
    assert!(!active.contains(&r3));
    assert_eq!(
        f.task_definition(w, &r3)["taskDefinition"]["status"],
        "INACTIVE"
    );
}
