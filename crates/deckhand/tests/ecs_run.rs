//! `deckhand ecs run` against the local world: RunTask's tasks run to a chosen exit code and
//! write their log lines to moto's CloudWatch Logs (world/README.md, "Standalone tasks"). Each
//! scenario asserts the exit code, the verdict, the report, and the tasks as awscli sees them.

use std::process::Command;

use deckhand_testkit::{Run, World, world};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_deckhand");

/// A cluster `name` and a task definition family `name` with one essential container `app`
/// logging through awslogs to `/ecs/NAME` (created by ECS on first use) and a non-essential
/// `side`; `app_env` goes into `app`'s environment. The revision's ARN.
fn job(w: &World, name: &str, app_env: &[(&str, &str)], extra: Value) -> String {
    w.aws(&["ecs", "create-cluster", "--cluster-name", name]);
    let env: Vec<Value> = app_env
        .iter()
        .map(|(k, v)| json!({"name": k, "value": v}))
        .collect();
    let mut td = json!({
        "family": name,
        "containerDefinitions": [
            {
                "name": "app",
                "image": "registry.local/shop/backend:v1",
                "memory": 256,
                "environment": env,
                "logConfiguration": {"logDriver": "awslogs", "options": {
                    "awslogs-group": format!("/ecs/{name}"),
                    "awslogs-region": "us-east-1",
                    "awslogs-stream-prefix": "backend",
                    "awslogs-create-group": "true"
                }}
            },
            {"name": "side", "image": "registry.local/shop/side:v1", "memory": 64, "essential": false}
        ]
    });
    if let (Some(td), Some(extra)) = (td.as_object_mut(), extra.as_object()) {
        td.extend(extra.clone());
    }
    let out = w.aws(&[
        "ecs",
        "register-task-definition",
        "--cli-input-json",
        &td.to_string(),
    ]);
    out["taskDefinition"]["taskDefinitionArn"]
        .as_str()
        .unwrap()
        .to_string()
}

fn ecs_run(w: &World, cluster: &str, args: &[&str]) -> Run {
    Run::from_output(&command(w, cluster, args).output().expect("run deckhand"))
}

fn command(w: &World, cluster: &str, args: &[&str]) -> Command {
    let mut cmd = w.command(BIN);
    cmd.args(["--output", "json", "ecs", "run", "--cluster", cluster])
        .args(["--poll-interval", "200ms"]);
    if !args.contains(&"--timeout") {
        cmd.args(["--timeout", "60s"]);
    }
    cmd.args(args);
    cmd
}

/// Like [`ecs_run`], as the GitHub Actions runner runs it: the run, `$GITHUB_OUTPUT` and
/// `$GITHUB_STEP_SUMMARY`.
fn ecs_run_in_actions(w: &World, cluster: &str, args: &[&str]) -> (Run, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let (outputs, summary) = (dir.path().join("output"), dir.path().join("summary"));
    let out = command(w, cluster, args)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &outputs)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    let read = |p: &std::path::Path| std::fs::read_to_string(p).unwrap_or_default();
    (Run::from_output(&out), read(&outputs), read(&summary))
}

/// Task ARNs of the cluster, listed by awscli (RUNNING and STOPPED).
fn all_tasks(w: &World, cluster: &str) -> Vec<String> {
    ["RUNNING", "STOPPED"]
        .iter()
        .flat_map(|status| {
            w.aws(&[
                "ecs",
                "list-tasks",
                "--cluster",
                cluster,
                "--desired-status",
                status,
            ])["taskArns"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn describe(w: &World, cluster: &str, arns: &[String]) -> Vec<Value> {
    let mut args = vec!["ecs", "describe-tasks", "--cluster", cluster, "--tasks"];
    args.extend(arns.iter().map(String::as_str));
    w.aws(&args)["tasks"].as_array().unwrap().clone()
}

fn task_arns(run: &Run) -> Vec<String> {
    run.json["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["task_arn"].as_str().unwrap().to_string())
        .collect()
}

fn container<'a>(task: &'a Value, name: &str) -> &'a Value {
    task["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no container {name} in {task}"))
}

#[test]
fn a_task_that_exits_0_is_green_with_its_log_lines() {
    let w = world();
    let td = job(
        w,
        "run-ok",
        &[("DECKHAND_WORLD_LOG_LINES", "migrating\nmigrated 3 tables")],
        json!({}),
    );
    let run = ecs_run(w, "run-ok", &["--task-definition", "run-ok"]);
    run.assert_exit(0, "succeeded");
    assert_eq!(run.json["task_definition_arn"], td);
    assert_eq!(run.json["registered"], false);
    let [task] = run.json["tasks"].as_array().unwrap().as_slice() else {
        panic!("one task: {}", run.json)
    };
    assert_eq!(task["result"], "succeeded");
    assert_eq!(task["stop_code"], "EssentialContainerExited");
    let app = container(task, "app");
    assert_eq!(app["exit_code"], 0);
    assert_eq!(app["log_tail"], json!(["migrating", "migrated 3 tables"]));
    let id = task["task_arn"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap();
    assert_eq!(app["log"]["stream"], format!("backend/app/{id}"));
    assert!(run.stderr.contains("migrated 3 tables"), "{}", run.stderr);
    // awscli sees the one task, stopped, started by deckhand.
    let arns = all_tasks(w, "run-ok");
    assert_eq!(arns, task_arns(&run));
    let [seen] = describe(w, "run-ok", &arns).try_into().unwrap();
    assert_eq!(seen["lastStatus"], "STOPPED");
    assert_eq!(seen["startedBy"], "deckhand-run");
    // A run is not idempotent: the same command runs a new task.
    let again = ecs_run(w, "run-ok", &["--task-definition", "run-ok"]);
    again.assert_exit(0, "succeeded");
    assert_eq!(all_tasks(w, "run-ok").len(), 2);
    assert_ne!(task_arns(&again), task_arns(&run));
}

#[test]
fn a_migration_that_exits_3_is_red_with_the_containers_last_log_lines() {
    let w = world();
    let td = job(w, "run-migrate", &[], json!({}));
    let (run, outputs, summary) = ecs_run_in_actions(
        w,
        "run-migrate",
        &[
            "--task-definition",
            &td,
            "--command",
            r#"app=["./migrate","--to","latest"]"#,
            "--override-env",
            "app:DECKHAND_WORLD_EXIT_CODE=3",
            "--log-lines",
            "5",
        ],
    );
    run.assert_exit(1, "failed");
    assert_eq!(
        run.json["headline"],
        "task of run-migrate:1 failed: `app` exited 3"
    );
    let task = &run.json["tasks"][0];
    assert_eq!(container(task, "app")["exit_code"], 3);
    assert_eq!(container(task, "side")["exit_code"], 0);
    assert!(
        run.stderr.contains("container app (essential): exit 3"),
        "{}",
        run.stderr
    );
    assert!(summary.contains("| `app` | yes | 3 |"), "{summary}");
    assert!(outputs.contains("exit-code=1\n"), "{outputs}");
    assert!(
        outputs.contains(r#"exit-codes=[{"app":3,"side":0}]"#),
        "{outputs}"
    );
    assert!(outputs.contains("verdict=failed\n"), "{outputs}");
    // The override reached the task; awscli sees the command and the exit code.
    let [seen] = describe(w, "run-migrate", &task_arns(&run))
        .try_into()
        .unwrap();
    assert_eq!(
        seen["overrides"]["containerOverrides"][0]["command"],
        json!(["./migrate", "--to", "latest"])
    );
    assert_eq!(container(&seen, "app")["exitCode"], 3);
    // Re-run after the failure with the same inputs: a new task, the same verdict; the first
    // task stays as it ended.
    let (again, _, _) = ecs_run_in_actions(
        w,
        "run-migrate",
        &[
            "--task-definition",
            &td,
            "--command",
            r#"app=["./migrate","--to","latest"]"#,
            "--override-env",
            "app:DECKHAND_WORLD_EXIT_CODE=3",
        ],
    );
    again.assert_exit(1, "failed");
    assert_ne!(task_arns(&again), task_arns(&run));
    assert_eq!(all_tasks(w, "run-migrate").len(), 2);
}

#[test]
fn the_last_log_lines_of_a_failed_task_reach_the_log_summary_and_failure_report() {
    let w = world();
    let lines: Vec<String> = (1..=30).map(|i| format!("applying {i:04}")).collect();
    let log = format!("{}\nERROR: relation users does not exist", lines.join("\n"));
    let td = job(
        w,
        "run-logs",
        &[
            ("DECKHAND_WORLD_LOG_LINES", &log),
            ("DECKHAND_WORLD_EXIT_CODE", "3"),
        ],
        json!({}),
    );
    let (run, outputs, summary) = ecs_run_in_actions(
        w,
        "run-logs",
        &["--task-definition", &td, "--log-lines", "3"],
    );
    run.assert_exit(1, "failed");
    let tail = [
        "applying 0029",
        "applying 0030",
        "ERROR: relation users does not exist",
    ];
    assert_eq!(
        container(&run.json["tasks"][0], "app")["log_tail"],
        json!(tail)
    );
    for line in tail {
        assert!(
            run.stderr.contains(&format!("      {line}\n")),
            "{}",
            run.stderr
        );
        assert!(summary.contains(line), "{summary}");
    }
    assert!(!run.stderr.contains("applying 0028"), "{}", run.stderr);
    assert!(
        outputs.contains("ERROR: relation users does not exist"),
        "{outputs}"
    );
    assert!(
        run.stderr.contains("::error title=deckhand ecs run"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_task_that_never_started_exits_6() {
    let w = world();
    let td = job(w, "run-pull", &[], json!({}));
    let run = ecs_run(
        w,
        "run-pull",
        &[
            "--task-definition",
            &td,
            "--override-env",
            "app:DECKHAND_WORLD_FAULT=pull",
        ],
    );
    run.assert_exit(6, "not-started");
    let task = &run.json["tasks"][0];
    assert_eq!(task["result"], "not-started");
    assert_eq!(task["stop_code"], "TaskFailedToStart");
    assert!(
        run.json["headline"]
            .as_str()
            .unwrap()
            .contains("never started: CannotPullContainerError"),
        "{}",
        run.json
    );
    assert_eq!(container(task, "app")["exit_code"], Value::Null);
}

#[test]
fn count_2_with_one_override_runs_two_tasks_with_it() {
    let w = world();
    let td = job(w, "run-two", &[], json!({}));
    let run = ecs_run(
        w,
        "run-two",
        &[
            "--task-definition",
            &td,
            "--count",
            "2",
            "--override-env",
            "app:DECKHAND_WORLD_LOG_LINES=batch",
            "--memory",
            "app=512",
        ],
    );
    run.assert_exit(0, "succeeded");
    assert_eq!(run.json["headline"], "2 tasks of run-two:1 exited 0");
    let arns = task_arns(&run);
    assert_eq!(arns.len(), 2);
    for task in describe(w, "run-two", &arns) {
        let o = &task["overrides"]["containerOverrides"][0];
        assert_eq!(o["name"], "app");
        assert_eq!(o["memory"], 512);
        assert_eq!(o["environment"][0]["value"], "batch");
    }
    for task in run.json["tasks"].as_array().unwrap() {
        assert_eq!(container(task, "app")["log_tail"], json!(["batch"]));
    }
}

#[test]
fn service_placement_and_task_definition_are_copied_from_the_service() {
    let w = world();
    let td = job(
        w,
        "run-svc",
        &[],
        json!({"networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "256", "memory": "512"}),
    );
    // moto checks the service's subnet and security group in EC2.
    let vpc = w.aws(&["ec2", "create-vpc", "--cidr-block", "10.7.0.0/16"])["Vpc"]["VpcId"].clone();
    let vpc = vpc.as_str().unwrap();
    let subnet = w.aws(&[
        "ec2",
        "create-subnet",
        "--vpc-id",
        vpc,
        "--cidr-block",
        "10.7.1.0/24",
    ]);
    let subnet = subnet["Subnet"]["SubnetId"].as_str().unwrap().to_string();
    let group = w.aws(&[
        "ec2",
        "create-security-group",
        "--group-name",
        "run-svc",
        "--description",
        "backend",
        "--vpc-id",
        vpc,
    ]);
    let group = group["GroupId"].as_str().unwrap().to_string();
    let network = format!(
        "awsvpcConfiguration={{subnets=[{subnet}],securityGroups=[{group}],assignPublicIp=DISABLED}}"
    );
    w.aws(&[
        "ecs",
        "create-service",
        "--cluster",
        "run-svc",
        "--service-name",
        "backend",
        "--task-definition",
        &td,
        "--desired-count",
        "1",
        "--launch-type",
        "FARGATE",
        "--platform-version",
        "1.4.0",
        "--network-configuration",
        &network,
    ]);
    // Without a subnet, an awsvpc task definition cannot run: bad input, nothing started.
    let bare = ecs_run(w, "run-svc", &["--task-definition", &td]);
    bare.assert_exit(2, "invalid-input");
    assert!(bare.stderr.contains("awsvpc"), "{}", bare.stderr);
    assert!(
        w.aws(&[
            "ecs",
            "list-tasks",
            "--cluster",
            "run-svc",
            "--started-by",
            "deckhand-run"
        ])["taskArns"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let run = ecs_run(
        w,
        "run-svc",
        &[
            "--service",
            "backend",
            "--command",
            "app=./migrate up",
            "--started-by",
            "migrate-42",
        ],
    );
    run.assert_exit(0, "succeeded");
    let plan = &run.json["plan"];
    assert_eq!(plan["task_definition"], td);
    assert_eq!(plan["launch_from"], "service run-svc/backend");
    assert_eq!(plan["launch"]["launch_type"], "FARGATE");
    assert_eq!(plan["launch"]["subnets"], json!([subnet]));
    assert_eq!(plan["launch"]["security_groups"], json!([group]));
    let listed = w.aws(&[
        "ecs",
        "list-tasks",
        "--cluster",
        "run-svc",
        "--started-by",
        "migrate-42",
        "--desired-status",
        "STOPPED",
    ]);
    let arns: Vec<String> = listed["taskArns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    assert_eq!(arns, task_arns(&run));
    let [task] = describe(w, "run-svc", &arns).try_into().unwrap();
    assert_eq!(task["launchType"], "FARGATE");
    assert_eq!(task["platformVersion"], "1.4.0");
    assert_eq!(task["taskDefinitionArn"], td);
    assert_eq!(task["group"], "family:run-svc");
    let attached = task["attachments"][0]["details"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "subnetId")
        .unwrap()["value"]
        .clone();
    assert_eq!(attached, json!(subnet));
    assert_eq!(
        task["overrides"]["containerOverrides"][0]["command"],
        json!(["./migrate", "up"])
    );
}

#[test]
fn bad_input_exits_2_and_starts_no_task() {
    let w = world();
    let td = job(w, "run-bad", &[], json!({}));
    let cases: [(&[&str], &str); 7] = [
        (&["--task-definition", "no-such-family"], "no-such-family"),
        (
            &["--task-definition", &td, "--override-env", "app=X"],
            "is not `CONTAINER:KEY=VALUE`",
        ),
        (
            &["--task-definition", &td, "--command", "nope=true"],
            "container `nope` is not in task definition",
        ),
        (
            &["--task-definition", &td, "--command", "app=[\"a\","],
            "not a JSON array",
        ),
        (
            &["--task-definition", &td, "--count", "11"],
            "`--count 11` is out of range",
        ),
        (
            &[
                "--task-definition",
                &td,
                "--launch-type",
                "FARGATE",
                "--capacity-provider",
                "FARGATE_SPOT",
            ],
            "exclude each other",
        ),
        (
            &["--task-definition", &td, "--service", "no-such-service"],
            "no-such-service",
        ),
    ];
    for (args, message) in cases {
        let run = ecs_run(w, "run-bad", args);
        run.assert_exit(2, "invalid-input");
        let error = run.json["error"]["message"].as_str().unwrap_or_default();
        assert!(error.contains(message), "{args:?}: {error}");
        assert!(
            run.json["error"]["hint"].is_string(),
            "{args:?}: {}",
            run.json
        );
        assert_eq!(run.api_calls("ECS.RunTask"), 0, "{args:?}");
    }
    assert!(all_tasks(w, "run-bad").is_empty());
    // Nothing was registered either.
    let revisions = w.aws(&["ecs", "list-task-definitions", "--family-prefix", "run-bad"]);
    assert_eq!(revisions["taskDefinitionArns"], json!([td]));
}

#[test]
fn a_patched_revision_is_registered_for_the_run_and_deregistered_unless_kept() {
    let w = world();
    let td = job(w, "run-patch", &[], json!({}));
    let run = ecs_run(
        w,
        "run-patch",
        &[
            "--task-definition",
            &td,
            "--image",
            "app=registry.local/shop/backend:v2",
        ],
    );
    run.assert_exit(0, "succeeded");
    let patched = run.json["task_definition_arn"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(patched.ends_with("run-patch:2"), "{patched}");
    assert_eq!(
        (
            run.json["registered"].clone(),
            run.json["deregistered"].clone()
        ),
        (json!(true), json!(true))
    );
    let described = w.aws(&[
        "ecs",
        "describe-task-definition",
        "--task-definition",
        &patched,
    ]);
    assert_eq!(described["taskDefinition"]["status"], "INACTIVE");
    assert_eq!(
        described["taskDefinition"]["containerDefinitions"][0]["image"],
        "registry.local/shop/backend:v2"
    );

    let kept = ecs_run(
        w,
        "run-patch",
        &[
            "--task-definition",
            &td,
            "--env",
            "app:MODE=kept",
            "--register",
        ],
    );
    kept.assert_exit(0, "succeeded");
    let arn = kept.json["task_definition_arn"].as_str().unwrap();
    let described = w.aws(&["ecs", "describe-task-definition", "--task-definition", arn]);
    assert_eq!(described["taskDefinition"]["status"], "ACTIVE");
    assert_eq!(kept.json["deregistered"], false);
}

#[test]
fn a_timeout_stops_a_hung_task_and_exits_4() {
    let w = world();
    let td = job(
        w,
        "run-hang",
        &[("DECKHAND_WORLD_FAULT", "hang")],
        json!({}),
    );
    let run = ecs_run(
        w,
        "run-hang",
        &["--task-definition", &td, "--timeout", "1s"],
    );
    run.assert_exit(4, "timed-out");
    assert!(
        run.json["headline"]
            .as_str()
            .unwrap()
            .contains("stopped 1 task"),
        "{}",
        run.json
    );
    let [task] = describe(w, "run-hang", &task_arns(&run))
        .try_into()
        .unwrap();
    assert_eq!(task["lastStatus"], "STOPPED");
    assert_eq!(task["stopCode"], "UserInitiated");
    assert!(
        task["stoppedReason"]
            .as_str()
            .unwrap()
            .contains("still running after 1s"),
        "{task}"
    );

    // Told to leave it: the task is still PENDING afterwards.
    let left = ecs_run(
        w,
        "run-hang",
        &[
            "--task-definition",
            &td,
            "--timeout",
            "1s",
            "--leave-tasks-running",
        ],
    );
    left.assert_exit(4, "timed-out");
    let [task] = describe(w, "run-hang", &task_arns(&left))
        .try_into()
        .unwrap();
    assert_eq!(task["lastStatus"], "PENDING");
    w.aws(&[
        "ecs",
        "stop-task",
        "--cluster",
        "run-hang",
        "--task",
        task["taskArn"].as_str().unwrap(),
    ]);
}

#[test]
fn sigterm_while_waiting_stops_the_tasks_and_exits_5() {
    let w = world();
    let td = job(
        w,
        "run-term",
        &[("DECKHAND_WORLD_RUN_SECONDS", "60")],
        json!({}),
    );
    let mut cmd = command(w, "run-term", &["--task-definition", &td]);
    let signalled = deckhand_testkit::signal_after_line(
        &mut cmd,
        ": RUNNING",
        1,
        std::time::Duration::ZERO,
        "TERM",
    );
    // Its stderr is the whole log, read while it ran.
    let run = Run::from_output(&signalled.out);
    run.assert_exit(5, "cancelled");
    assert!(
        run.json["headline"]
            .as_str()
            .unwrap()
            .contains("cancelled (SIGTERM)"),
        "{}",
        run.json
    );
    let arns = task_arns(&run);
    let [task] = describe(w, "run-term", &arns).try_into().unwrap();
    assert_eq!(task["lastStatus"], "STOPPED");
    assert_eq!(task["stopCode"], "UserInitiated");
    assert_eq!(
        task["stoppedReason"],
        "deckhand ecs run (deckhand-run): the job was cancelled (SIGTERM)"
    );
    assert_eq!(container(&task, "app")["exitCode"], 143);
    assert_eq!(run.json["stopped_by_deckhand"], json!(arns));
}

/// actions/ecs-run's step script, run as the runner runs it (the deckhand under test as its
/// `deckhand-path`): the step's shell, its outputs and its summary.
fn action_step(w: &World, inputs: &[(&str, &str)], dir: &std::path::Path) -> Command {
    let actions = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../actions");
    let mut cmd =
        deckhand_testkit::action_step::ActionStep::load(&actions.join("ecs-run"), "deploy")
            .command(inputs, BIN, dir);
    w.clean(&mut cmd);
    cmd.env("DECKHAND_OUTPUT", "json")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", dir.join("output"))
        .env("GITHUB_STEP_SUMMARY", dir.join("summary"));
    cmd
}

#[test]
fn the_action_turns_a_migration_exiting_3_red_with_its_last_log_lines() {
    let w = world();
    let td = job(
        w,
        "run-action",
        &[(
            "DECKHAND_WORLD_LOG_LINES",
            "applying 0042_add_index\nERROR: duplicate key",
        )],
        json!({}),
    );
    let dir = tempfile::tempdir().unwrap();
    let out = action_step(
        w,
        &[
            ("cluster", "run-action"),
            ("task-definition", "run-action"),
            ("command", "app=./migrate up"),
            ("override-environment", "app:DECKHAND_WORLD_EXIT_CODE=3"),
            ("poll-interval", "200ms"),
            ("timeout", "60s"),
        ],
        dir.path(),
    )
    .output()
    .unwrap();
    let run = Run::from_output(&out);
    run.assert_exit(1, "failed");
    let outputs = deckhand_testkit::action_step::parse_outputs(
        &std::fs::read_to_string(dir.path().join("output")).unwrap(),
    );
    assert_eq!(outputs["verdict"], "failed");
    assert_eq!(outputs["exit-code"], "1");
    assert_eq!(outputs["exit-codes"], r#"[{"app":3,"side":0}]"#);
    assert_eq!(outputs["task-definition"], td);
    let arns: Vec<String> = serde_json::from_str(&outputs["task-arns"]).unwrap();
    assert_eq!(arns, task_arns(&run));
    let report = &outputs["failure-report"];
    assert!(
        report.contains("container app (essential): exit 3"),
        "{report}"
    );
    assert!(report.contains("ERROR: duplicate key"), "{report}");
    let summary = std::fs::read_to_string(dir.path().join("summary")).unwrap();
    assert!(summary.contains("ERROR: duplicate key"), "{summary}");
    assert!(
        run.stderr.contains("::error title=deckhand ecs run"),
        "{}",
        run.stderr
    );
}

#[test]
fn cancelling_the_action_step_stops_the_tasks() {
    let w = world();
    let td = job(
        w,
        "run-action-int",
        &[("DECKHAND_WORLD_RUN_SECONDS", "60")],
        json!({}),
    );
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = action_step(
        w,
        &[
            ("cluster", "run-action-int"),
            ("task-definition", &td),
            ("poll-interval", "200ms"),
            ("started-by", "job-77"),
        ],
        dir.path(),
    );
    // The runner signals the step's process, which the script `exec`ed into deckhand: SIGINT
    // first, and deckhand gets it as such.
    let signalled = deckhand_testkit::signal_after_line(
        &mut cmd,
        ": RUNNING",
        1,
        std::time::Duration::ZERO,
        "INT",
    );
    let out = signalled.out;
    let log = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{log}");
    let outputs = deckhand_testkit::action_step::parse_outputs(
        &std::fs::read_to_string(dir.path().join("output")).unwrap(),
    );
    assert_eq!(outputs["verdict"], "cancelled");
    let arns: Vec<String> = serde_json::from_str(&outputs["task-arns"]).unwrap();
    let [task] = describe(w, "run-action-int", &arns).try_into().unwrap();
    assert_eq!(task["lastStatus"], "STOPPED");
    assert_eq!(
        task["stoppedReason"],
        "deckhand ecs run (job-77): the job was cancelled (SIGINT)"
    );
}

#[test]
fn a_secret_override_never_reaches_the_output() {
    let w = world();
    let td = job(w, "run-secret", &[], json!({}));
    let (run, outputs, summary) = ecs_run_in_actions(
        w,
        "run-secret",
        &[
            "--task-definition",
            &td,
            "--override-env",
            "app:DB_PASSWORD=hunter2-secret",
            "--override-env",
            "app:MODE=migrate",
        ],
    );
    run.assert_exit(0, "succeeded");
    // The runner is told to mask it (the one place it must appear), and nothing prints it.
    assert!(
        run.stderr.contains("::add-mask::hunter2-secret\n"),
        "{}",
        run.stderr
    );
    let log: String = run
        .stderr
        .lines()
        .filter(|l| !l.starts_with("::add-mask::"))
        .collect::<Vec<_>>()
        .join("\n");
    for text in [&run.stdout, &log, &outputs, &summary] {
        assert!(!text.contains("hunter2-secret"), "{text}");
    }
    assert!(
        run.stderr.contains("app: env DB_PASSWORD=***"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("app: env MODE=migrate"),
        "{}",
        run.stderr
    );
    // The task itself got the real value.
    let [task] = describe(w, "run-secret", &task_arns(&run))
        .try_into()
        .unwrap();
    assert_eq!(
        task["overrides"]["containerOverrides"][0]["environment"][0]["value"],
        "hunter2-secret"
    );
}

#[test]
fn no_wait_returns_the_started_tasks_at_once() {
    let w = world();
    let td = job(
        w,
        "run-nowait",
        &[("DECKHAND_WORLD_RUN_SECONDS", "60")],
        json!({}),
    );
    let run = ecs_run(w, "run-nowait", &["--task-definition", &td, "--no-wait"]);
    run.assert_exit(0, "dispatched");
    let arns = task_arns(&run);
    assert_eq!(arns.len(), 1);
    assert_eq!(run.api_calls("ECS.DescribeTasks"), 0);
    let [task] = describe(w, "run-nowait", &arns).try_into().unwrap();
    assert_ne!(task["lastStatus"], "STOPPED");
    w.aws(&[
        "ecs",
        "stop-task",
        "--cluster",
        "run-nowait",
        "--task",
        &arns[0],
    ]);
}
