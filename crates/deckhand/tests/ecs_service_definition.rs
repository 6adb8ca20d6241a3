//! `deckhand ecs deploy --service-definition FILE` against the local world: a service created
//! from a file, the same file again, a changed file, a setting that cannot change in place, bad
//! files, a failing first deployment, and a dry run. AWS state is read with awscli.

use std::path::{Path, PathBuf};

use deckhand_testkit::{Run, ServiceFixture, World, world};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_deckhand");
const IMAGE_V1: &str = "registry.local/shop/front:v1";
const IMAGE_V2: &str = "registry.local/shop/front:v2";

/// A cluster (created) and, in it, a service (not created): the files create it.
fn target(w: &World, name: &str) -> ServiceFixture {
    w.aws(&["ecs", "create-cluster", "--cluster-name", name]);
    ServiceFixture {
        cluster: name.into(),
        service: name.into(),
        family: name.into(),
        initial_task_definition: String::new(),
    }
}

/// A task definition file of family `family` with one container `app` running `image`.
fn task_definition_file(dir: &Path, family: &str, image: &str) -> PathBuf {
    let path = dir.join("taskdef.json");
    let td = json!({
        "family": family,
        "containerDefinitions": [{"name": "app", "image": image, "memory": 128, "essential": true}]
    });
    std::fs::write(&path, td.to_string()).unwrap();
    path
}

fn service_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const SERVICE_YAML: &str = "\
serviceName: SERVICE
desiredCount: 2
launchType: FARGATE
deploymentConfiguration:
  maximumPercent: 200
  minimumHealthyPercent: 100
  deploymentCircuitBreaker:
    enable: true
    rollback: true
tags:
  - key: team
    value: shop
";

fn yaml_for(f: &ServiceFixture) -> String {
    SERVICE_YAML.replace("SERVICE", &f.service)
}

fn deploy(w: &World, f: &ServiceFixture, td: &Path, svc: &Path, extra: &[&str]) -> Run {
    let td = td.to_str().unwrap();
    let svc = svc.to_str().unwrap();
    let mut args = vec![
        "--task-definition",
        td,
        "--service-definition",
        svc,
        "--skip-image-check",
    ];
    args.extend_from_slice(extra);
    f.deploy(w, BIN, &args)
}

/// DescribeServices (with tags) through awscli; `Null` when the service does not exist.
fn described(w: &World, f: &ServiceFixture) -> Value {
    let out = w.aws(&[
        "ecs",
        "describe-services",
        "--cluster",
        &f.cluster,
        "--services",
        &f.service,
        "--include",
        "TAGS",
    ]);
    out["services"][0].clone()
}

fn calls(run: &Run, op: &str) -> u64 {
    run.api_calls(&format!("ECS.{op}"))
}

fn deployment_count(w: &World, f: &ServiceFixture) -> usize {
    let out = w.aws(&[
        "ecs",
        "list-service-deployments",
        "--cluster",
        &f.cluster,
        "--service",
        &f.service,
    ]);
    out["serviceDeployments"].as_array().map_or(0, Vec::len)
}

fn tag(service: &Value, key: &str) -> Option<String> {
    service["tags"]
        .as_array()?
        .iter()
        .find(|t| t["key"] == key)
        .and_then(|t| t["value"].as_str().map(str::to_string))
}

#[test]
fn a_service_is_created_from_a_file_then_left_alone_then_updated_from_a_changed_file() {
    let w = world();
    let f = target(w, "svcdef-life");
    let dir = tempfile::tempdir().unwrap();
    let td = task_definition_file(dir.path(), &f.family, IMAGE_V1);
    let svc = service_file(dir.path(), "service.yaml", &yaml_for(&f));

    // Created, and its first deployment followed to COMPLETED.
    let run = deploy(w, &f, &td, &svc, &[]);
    run.assert_exit(0, "succeeded");
    assert_eq!(calls(&run, "CreateService"), 1);
    assert_eq!(calls(&run, "RegisterTaskDefinition"), 1);
    assert_eq!(calls(&run, "UpdateService"), 0);
    assert!(run.stderr.contains("create the service"), "{}", run.stderr);
    let s = described(w, &f);
    assert_eq!(s["status"], "ACTIVE");
    assert_eq!(s["desiredCount"], 2);
    assert_eq!(s["runningCount"], 2);
    assert_eq!(s["launchType"], "FARGATE");
    assert_eq!(
        s["deploymentConfiguration"]["deploymentCircuitBreaker"]["rollback"],
        true
    );
    assert_eq!(tag(&s, "team").as_deref(), Some("shop"));
    assert_eq!(s["deployments"][0]["rolloutState"], "COMPLETED");
    assert_eq!(deployment_count(w, &f), 1);
    let first_td = f.primary_task_definition(w);
    assert!(first_td.ends_with(&format!("{}:1", f.family)), "{first_td}");

    // The same file and inputs again: nothing to do.
    let run = deploy(w, &f, &td, &svc, &[]);
    run.assert_exit(0, "no-change");
    assert_eq!(calls(&run, "UpdateService"), 0);
    assert_eq!(calls(&run, "CreateService"), 0);
    assert_eq!(calls(&run, "RegisterTaskDefinition"), 0);
    assert_eq!(calls(&run, "TagResource"), 0);
    assert_eq!(deployment_count(w, &f), 1);

    // A changed file (desired count, deployment configuration, a tag) with a new image: one
    // UpdateService, one new deployment.
    let changed = yaml_for(&f)
        .replace("desiredCount: 2", "desiredCount: 3")
        .replace("maximumPercent: 200", "maximumPercent: 150")
        .replace("value: shop", "value: checkout");
    let svc2 = service_file(dir.path(), "service2.yaml", &changed);
    let run = deploy(w, &f, &td, &svc2, &["--image", IMAGE_V2]);
    run.assert_exit(0, "succeeded");
    assert_eq!(calls(&run, "UpdateService"), 1);
    assert_eq!(calls(&run, "TagResource"), 1);
    assert!(
        run.stderr.contains("desired count 2 -> 3"),
        "the plan shows the diff:\n{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("deploymentConfiguration.maximumPercent: 200 -> 150"),
        "{}",
        run.stderr
    );
    let s = described(w, &f);
    assert_eq!(s["desiredCount"], 3);
    assert_eq!(s["runningCount"], 3);
    assert_eq!(s["deploymentConfiguration"]["maximumPercent"], 150);
    assert_eq!(tag(&s, "team").as_deref(), Some("checkout"));
    assert_eq!(deployment_count(w, &f), 2);
    assert_ne!(f.primary_task_definition(w), first_td);

    // Settings and count alone (the same image): one UpdateService, no new deployment, the
    // service watched while it scales.
    let scaled = changed
        .replace("desiredCount: 3", "desiredCount: 1")
        .replace("minimumHealthyPercent: 100", "minimumHealthyPercent: 50");
    let svc3 = service_file(dir.path(), "service3.yaml", &scaled);
    let run = deploy(w, &f, &td, &svc3, &["--image", IMAGE_V2]);
    run.assert_exit(0, "succeeded");
    assert_eq!(calls(&run, "UpdateService"), 1);
    assert_eq!(calls(&run, "RegisterTaskDefinition"), 0);
    let s = described(w, &f);
    assert_eq!(
        (s["desiredCount"].clone(), s["runningCount"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(s["deploymentConfiguration"]["minimumHealthyPercent"], 50);
    assert_eq!(deployment_count(w, &f), 2);

    // A setting alone: one UpdateService with it, the PRIMARY watched to steady state; then the
    // same file is no change.
    let graced = format!("{scaled}healthCheckGracePeriodSeconds: 45\n");
    let svc4 = service_file(dir.path(), "service4.yaml", &graced);
    let run = deploy(w, &f, &td, &svc4, &["--image", IMAGE_V2]);
    run.assert_exit(0, "succeeded");
    assert!(
        run.stderr
            .contains("healthCheckGracePeriodSeconds: (ECS does not report it) -> 45"),
        "{}",
        run.stderr
    );
    assert_eq!(calls(&run, "UpdateService"), 1);
    assert_eq!(described(w, &f)["healthCheckGracePeriodSeconds"], 45);
    assert_eq!(deployment_count(w, &f), 2);
    let run = deploy(w, &f, &td, &svc4, &["--image", IMAGE_V2]);
    run.assert_exit(0, "no-change");
    assert_eq!(calls(&run, "UpdateService"), 0);
}

#[test]
fn a_setting_update_service_cannot_change_is_exit_2_and_nothing_changes() {
    let w = world();
    let f = target(w, "svcdef-immutable");
    let dir = tempfile::tempdir().unwrap();
    let td = task_definition_file(dir.path(), &f.family, IMAGE_V1);
    let svc = service_file(dir.path(), "service.yaml", &yaml_for(&f));
    deploy(w, &f, &td, &svc, &[]).assert_exit(0, "succeeded");
    let before = described(w, &f);

    let ec2 = yaml_for(&f)
        .replace("launchType: FARGATE", "launchType: EC2")
        .replace("desiredCount: 2", "desiredCount: 4");
    let svc2 = service_file(dir.path(), "service2.yaml", &ec2);
    let run = deploy(w, &f, &td, &svc2, &["--image", IMAGE_V2]);
    run.assert_exit(2, "invalid-input");
    assert!(
        run.stderr
            .contains("cannot change launchType in place: recreate the service"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("`launchType`"), "{}", run.stderr);
    assert_eq!(calls(&run, "UpdateService"), 0);
    assert_eq!(calls(&run, "RegisterTaskDefinition"), 0);
    let after = described(w, &f);
    assert_eq!(after["desiredCount"], before["desiredCount"]);
    assert_eq!(after["launchType"], "FARGATE");
    assert_eq!(f.revisions(w).len(), 1);
}

#[test]
fn a_bad_file_is_exit_2_and_nothing_is_created() {
    let w = world();
    let f = target(w, "svcdef-bad");
    let dir = tempfile::tempdir().unwrap();
    let td = task_definition_file(dir.path(), &f.family, IMAGE_V1);
    let cases = [
        (
            "unknown.yaml",
            yaml_for(&f).replace("maximumPercent", "maximumPercnt"),
            "service.yaml",
        ),
        (
            "type.json",
            json!({"serviceName": f.service, "desiredCount": "two"}).to_string(),
            "",
        ),
        ("other.yaml", "serviceName: someone-else\n".to_string(), ""),
    ];
    let mut messages = Vec::new();
    for (name, text, _) in &cases {
        let svc = service_file(dir.path(), name, text);
        let run = deploy(w, &f, &td, &svc, &[]);
        run.assert_exit(2, "invalid-input");
        assert_eq!(
            run.json["api_calls"]["total"], 0,
            "no AWS call: {}",
            run.stdout
        );
        messages.push(format!(
            "{} hint: {}",
            run.json["error"]["message"], run.json["error"]["hint"]
        ));
    }
    let unknown = &messages[0];
    assert!(
        unknown.contains("unknown.yaml:5:")
            && unknown.contains("`deploymentConfiguration.maximumPercnt`"),
        "{unknown}"
    );
    assert!(
        unknown.contains("did you mean `maximumPercent`?"),
        "{unknown}"
    );
    assert!(
        messages[1].contains("`desiredCount`: expected an integer"),
        "{}",
        messages[1]
    );
    assert!(
        messages[2].contains("--service someone-else"),
        "{}",
        messages[2]
    );
    assert!(described(w, &f).is_null() || described(w, &f)["status"] == "MISSING");
    assert!(f.revisions(w).is_empty());
}

#[test]
fn a_first_deployment_that_fails_is_red_and_the_service_stays_as_created() {
    let w = world();
    let f = target(w, "svcdef-fault");
    let dir = tempfile::tempdir().unwrap();
    let td = task_definition_file(
        dir.path(),
        &f.family,
        "registry.local/shop/front:fault-exit",
    );
    let svc = service_file(dir.path(), "service.yaml", &yaml_for(&f));
    let run = deploy(w, &f, &td, &svc, &[]);
    run.assert_exit(1, "failed");
    assert!(
        run.json["headline"]
            .as_str()
            .unwrap_or_default()
            .contains("not rolled back: no earlier revision"),
        "{}",
        run.stdout
    );
    assert!(!run.json["stopped_tasks"].as_array().unwrap().is_empty());
    let s = described(w, &f);
    assert_eq!(s["status"], "ACTIVE");
    assert_eq!(s["deployments"].as_array().unwrap().len(), 1);
    assert_eq!(s["deployments"][0]["rolloutState"], "FAILED");

    // The job re-run with a fixed image: the service exists now, so an ordinary deploy.
    let run = deploy(w, &f, &td, &svc, &["--image", IMAGE_V1]);
    run.assert_exit(0, "succeeded");
    assert_eq!(calls(&run, "CreateService"), 0);
    assert_eq!(calls(&run, "UpdateService"), 1);
    let s = described(w, &f);
    assert_eq!(s["deployments"][0]["rolloutState"], "COMPLETED");
    assert_eq!(s["runningCount"], 2);
}

#[test]
fn a_dry_run_of_a_create_shows_the_plan_and_creates_nothing() {
    let w = world();
    let f = target(w, "svcdef-dry");
    let dir = tempfile::tempdir().unwrap();
    let td = task_definition_file(dir.path(), &f.family, IMAGE_V1);
    let svc = service_file(dir.path(), "service.yaml", &yaml_for(&f));
    let run = deploy(w, &f, &td, &svc, &["--dry-run"]);
    run.assert_exit(0, "dry-run");
    assert!(
        run.stderr
            .contains("create the service (it does not exist)"),
        "{}",
        run.stderr
    );
    assert_eq!(calls(&run, "CreateService"), 0);
    assert_eq!(calls(&run, "RegisterTaskDefinition"), 0);
    assert!(described(w, &f).is_null() || described(w, &f)["status"] == "MISSING");
    assert!(f.revisions(w).is_empty());
}

#[test]
fn a_create_without_a_task_definition_starts_from_the_one_the_file_names() {
    let w = world();
    let f = target(w, "svcdef-named");
    let registered = w.aws(&[
        "ecs",
        "register-task-definition",
        "--family",
        &f.family,
        "--container-definitions",
        &json!([{"name": "app", "image": IMAGE_V1, "memory": 128}]).to_string(),
    ]);
    let arn = registered["taskDefinition"]["taskDefinitionArn"]
        .as_str()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{}taskDefinition: {}\n", yaml_for(&f), f.family);
    let svc = service_file(dir.path(), "service.yaml", &text);
    let run = f.deploy(
        w,
        BIN,
        &[
            "--service-definition",
            svc.to_str().unwrap(),
            "--skip-image-check",
        ],
    );
    run.assert_exit(0, "succeeded");
    assert_eq!(calls(&run, "RegisterTaskDefinition"), 0);
    assert_eq!(f.primary_task_definition(w), arn);

    // Neither `--task-definition` nor `taskDefinition`: exit 2, nothing created.
    let g = target(w, "svcdef-unnamed");
    let svc = service_file(dir.path(), "unnamed.yaml", &yaml_for(&g));
    let run = g.deploy(w, BIN, &["--service-definition", svc.to_str().unwrap()]);
    run.assert_exit(2, "invalid-input");
    assert!(
        run.stderr.contains("--task-definition FILE"),
        "{}",
        run.stderr
    );
    assert!(described(w, &g).is_null() || described(w, &g)["status"] == "MISSING");
}

/// The action as users run it: the `service-definition` input reaches deckhand through the
/// step's `env:`, and a file outside the workspace (RUNNER_TEMP) is read where it is.
#[test]
fn the_ecs_deploy_action_creates_a_service_from_its_service_definition_input() {
    let w = world();
    let f = target(w, "svcdef-action");
    let actions = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../actions");
    let workspace = tempfile::tempdir().unwrap();
    let runner_temp = tempfile::tempdir().unwrap();
    let td = task_definition_file(runner_temp.path(), &f.family, IMAGE_V1);
    let svc = service_file(runner_temp.path(), "service.yaml", &yaml_for(&f));
    let outputs = workspace.path().join("output");
    let mut cmd =
        deckhand_testkit::action_step::ActionStep::load(&actions.join("ecs-deploy"), "deploy")
            .command(
                &[
                    ("cluster", &f.cluster),
                    ("service", &f.service),
                    ("task-definition", td.to_str().unwrap()),
                    ("service-definition", svc.to_str().unwrap()),
                    ("poll-interval", "200ms"),
                    ("timeout", "60s"),
                    ("skip-image-check", "true"),
                ],
                BIN,
                workspace.path(),
            );
    w.clean(&mut cmd);
    cmd.env("DECKHAND_OUTPUT", "json")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &outputs)
        .env("GITHUB_STEP_SUMMARY", workspace.path().join("summary"));
    let run = Run::from_output(&cmd.output().unwrap());
    run.assert_exit(0, "succeeded");
    assert_eq!(calls(&run, "CreateService"), 1);
    let written = std::fs::read_to_string(&outputs).unwrap();
    assert!(written.contains("verdict=succeeded"), "{written}");
    assert!(
        written.contains("create the service"),
        "the plan output: {written}"
    );
    let s = described(w, &f);
    assert_eq!(
        (s["status"].clone(), s["desiredCount"].clone()),
        (json!("ACTIVE"), json!(2))
    );
}

/// `ecs diff` with a changed file: the settings diff, nothing changed.
#[test]
fn ecs_diff_shows_the_settings_a_changed_file_would_change() {
    let w = world();
    let f = target(w, "svcdef-diff");
    let dir = tempfile::tempdir().unwrap();
    let td = task_definition_file(dir.path(), &f.family, IMAGE_V1);
    let svc = service_file(dir.path(), "service.yaml", &yaml_for(&f));
    deploy(w, &f, &td, &svc, &[]).assert_exit(0, "succeeded");
    let changed = yaml_for(&f).replace("desiredCount: 2", "desiredCount: 5");
    let svc2 = service_file(dir.path(), "service2.yaml", &changed);
    let diff = |file: &Path| {
        let out = w
            .command(BIN)
            .args(["--output", "json", "ecs", "diff", "--cluster", &f.cluster])
            .args(["--service", &f.service, "--service-definition"])
            .arg(file)
            .args(["--task-definition"])
            .arg(&td)
            .arg("--skip-image-check")
            .output()
            .unwrap();
        Run::from_output(&out)
    };
    let run = diff(&svc2);
    run.assert_exit(0, "dry-run");
    assert!(
        run.stderr.contains("desired count 2 -> 5"),
        "{}",
        run.stderr
    );
    assert_eq!(calls(&run, "UpdateService"), 0);
    assert_eq!(described(w, &f)["desiredCount"], 2);
    diff(&svc).assert_exit(0, "no-change");
}

/// Network configuration, load balancers and capacity provider strategy: created as the file
/// says, then a changed subnet list and public IP setting sent with the next deploy.
#[test]
fn network_load_balancer_and_capacity_settings_are_created_and_changed() {
    let w = world();
    let f = target(w, "svcdef-network");
    let vpc = w.aws(&["ec2", "create-vpc", "--cidr-block", "10.40.0.0/16"])["Vpc"]["VpcId"]
        .as_str()
        .unwrap()
        .to_string();
    let subnet = |cidr: &str| {
        w.aws(&[
            "ec2",
            "create-subnet",
            "--vpc-id",
            &vpc,
            "--cidr-block",
            cidr,
        ])["Subnet"]["SubnetId"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (a, b) = (subnet("10.40.1.0/24"), subnet("10.40.2.0/24"));
    let sg = w.aws(&[
        "ec2",
        "create-security-group",
        "--group-name",
        "svcdef-network",
        "--description",
        "front",
        "--vpc-id",
        &vpc,
    ])["GroupId"]
        .as_str()
        .unwrap()
        .to_string();
    // A real target group (moto's elbv2): after the rollout, deckhand verifies the new tasks'
    // health in it, and the world registers them there.
    let target_group = w.aws(&[
        "elbv2",
        "create-target-group",
        "--name",
        "svcdef-front",
        "--protocol",
        "HTTP",
        "--port",
        "80",
        "--target-type",
        "ip",
        "--vpc-id",
        &vpc,
    ])["TargetGroups"][0]["TargetGroupArn"]
        .as_str()
        .unwrap()
        .to_string();
    let file = |subnets: &[&str], public: &str| {
        json!({
            "serviceName": f.service,
            "desiredCount": 1,
            "capacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1}],
            "networkConfiguration": {"awsvpcConfiguration": {
                "subnets": subnets, "securityGroups": [sg], "assignPublicIp": public
            }},
            "loadBalancers": [{"targetGroupArn": target_group, "containerName": "app", "containerPort": 80}],
            "healthCheckGracePeriodSeconds": 30
        })
        .to_string()
    };
    let dir = tempfile::tempdir().unwrap();
    let td = task_definition_file(dir.path(), &f.family, IMAGE_V1);
    let svc = service_file(dir.path(), "service.json", &file(&[&a], "DISABLED"));
    deploy(w, &f, &td, &svc, &[]).assert_exit(0, "succeeded");
    let s = described(w, &f);
    let vpc_config = &s["networkConfiguration"]["awsvpcConfiguration"];
    assert_eq!(vpc_config["subnets"], json!([a]));
    assert_eq!(vpc_config["assignPublicIp"], "DISABLED");
    assert_eq!(s["loadBalancers"][0]["targetGroupArn"], target_group);
    assert_eq!(
        s["capacityProviderStrategy"][0]["capacityProvider"],
        "FARGATE"
    );
    assert_eq!(s["healthCheckGracePeriodSeconds"], 30);

    // Same file: no change (ECS's echo of the settings matches what the file names).
    let run = deploy(w, &f, &td, &svc, &[]);
    run.assert_exit(0, "no-change");

    let svc2 = service_file(dir.path(), "service2.json", &file(&[&a, &b], "ENABLED"));
    let run = deploy(w, &f, &td, &svc2, &["--image", IMAGE_V2]);
    run.assert_exit(0, "succeeded");
    assert!(
        run.stderr.contains(
            "networkConfiguration.awsvpcConfiguration.assignPublicIp: \"DISABLED\" -> \"ENABLED\""
        ),
        "{}",
        run.stderr
    );
    assert_eq!(calls(&run, "UpdateService"), 1);
    let s = described(w, &f);
    let vpc_config = &s["networkConfiguration"]["awsvpcConfiguration"];
    assert_eq!(vpc_config["subnets"], json!([a, b]));
    assert_eq!(vpc_config["assignPublicIp"], "ENABLED");
    assert_eq!(deployment_count(w, &f), 2);
}
