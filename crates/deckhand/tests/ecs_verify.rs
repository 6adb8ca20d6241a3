//! Post-deploy verification against the local world: services behind moto's elbv2 target groups
//! (the world registers their tasks and reports the health their task definition chose, see
//! world/README.md "Load balancers") and the world's per-service URL. Each scenario asserts the
//! exit code, the verdict, the report, and the AWS state afterwards through awscli.

use std::time::Duration;

use deckhand_testkit::{Run, ServiceFixture, World, world};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_deckhand");
const IMAGE_V1: &str = "registry.local/shop/web:v1";
const IMAGE_V2: &str = "registry.local/shop/web:v2";
const PORT: i32 = 8080;

/// A service of `desired` tasks; with `load_balanced`, behind its own `ip` target group.
struct Fixture {
    service: ServiceFixture,
    target_group: Option<String>,
}

fn fixture(w: &World, name: &str, desired: i32, load_balanced: bool) -> Fixture {
    w.aws(&["ecs", "create-cluster", "--cluster-name", name]);
    let definitions = json!([{"name": "app", "image": IMAGE_V1, "memory": 128, "essential": true,
        "portMappings": [{"containerPort": PORT}]}]);
    let td = w.aws(&[
        "ecs",
        "register-task-definition",
        "--family",
        name,
        "--network-mode",
        "awsvpc",
        "--container-definitions",
        &definitions.to_string(),
    ]);
    let td_arn = td["taskDefinition"]["taskDefinitionArn"]
        .as_str()
        .unwrap()
        .to_string();
    let mut create = vec![
        "ecs".to_string(),
        "create-service".into(),
        "--cluster".into(),
        name.into(),
        "--service-name".into(),
        name.into(),
        "--task-definition".into(),
        td_arn.clone(),
        "--desired-count".into(),
        desired.to_string(),
    ];
    let target_group = load_balanced.then(|| {
        let vpc = w.aws(&["ec2", "create-vpc", "--cidr-block", "10.0.0.0/16"]);
        let tg = w.aws(&[
            "elbv2",
            "create-target-group",
            "--name",
            &format!("{name}-tg"),
            "--protocol",
            "HTTP",
            "--port",
            &PORT.to_string(),
            "--target-type",
            "ip",
            "--vpc-id",
            vpc["Vpc"]["VpcId"].as_str().unwrap(),
        ]);
        let arn = tg["TargetGroups"][0]["TargetGroupArn"]
            .as_str()
            .unwrap()
            .to_string();
        create.push("--load-balancers".into());
        create.push(format!(
            "targetGroupArn={arn},containerName=app,containerPort={PORT}"
        ));
        arn
    });
    let args: Vec<&str> = create.iter().map(String::as_str).collect();
    w.aws(&args);
    let service = ServiceFixture {
        cluster: name.into(),
        service: name.into(),
        family: name.into(),
        initial_task_definition: td_arn,
    };
    service.wait_steady(w, Duration::from_secs(30));
    Fixture {
        service,
        target_group,
    }
}

impl Fixture {
    fn deploy(&self, w: &World, extra: &[&str]) -> Run {
        self.service.deploy(w, BIN, extra)
    }

    /// The world's URL of this service (answered by its running tasks).
    fn url(&self, w: &World) -> String {
        format!(
            "{}/_deckhand/app/{}/{}",
            w.endpoint, self.service.cluster, self.service.service
        )
    }

    /// awscli: the IP and state of every registered target.
    fn targets(&self, w: &World) -> Vec<(String, String)> {
        let arn = self.target_group.as_deref().unwrap();
        let out = w.aws(&["elbv2", "describe-target-health", "--target-group-arn", arn]);
        let mut found: Vec<(String, String)> = out["TargetHealthDescriptions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["Target"]["Id"].as_str().unwrap().to_string(),
                    d["TargetHealth"]["State"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        found.sort();
        found
    }

    /// awscli: the private IPs of the running tasks of task definition `td`.
    fn task_ips(&self, w: &World, td: &str) -> Vec<String> {
        let listed = w.aws(&[
            "ecs",
            "list-tasks",
            "--cluster",
            &self.service.cluster,
            "--service-name",
            &self.service.service,
        ]);
        let arns: Vec<&str> = listed["taskArns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        let mut args = vec![
            "ecs",
            "describe-tasks",
            "--cluster",
            &self.service.cluster,
            "--tasks",
        ];
        args.extend(arns);
        let tasks = w.aws(&args);
        let mut ips: Vec<String> = tasks["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["taskDefinitionArn"] == td && t["lastStatus"] == "RUNNING")
            .map(|t| {
                t["attachments"][0]["details"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|d| d["name"] == "privateIPv4Address")
                    .and_then(|d| d["value"].as_str())
                    .unwrap()
                    .to_string()
            })
            .collect();
        ips.sort();
        ips
    }
}

/// One GET of `url`, through curl (a client deckhand did not write): (status, body).
fn get(url: &str) -> (u16, String) {
    let out = std::process::Command::new("curl")
        .args(["-s", "-w", "\n%{http_code}", url])
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, status) = text.rsplit_once('\n').unwrap();
    (status.parse().unwrap(), body.to_string())
}

fn verifications(run: &Run) -> Vec<Value> {
    run.json["verifications"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn states(verification: &Value) -> Vec<String> {
    verification["target_health"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["state"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn healthy_targets_and_the_url_make_a_green_deploy() {
    let w = world();
    let f = fixture(w, "vfy-ok", 2, true);
    let url = f.url(w);
    let run = f.deploy(
        w,
        &[
            "--image",
            &format!("app={IMAGE_V2}"),
            "--verify-url",
            &url,
            "--verify-body",
            r"^vfy-ok:2\s*$",
            "--verify-successes",
            "2",
        ],
    );
    run.assert_exit(0, "succeeded");
    let [v]: [Value; 1] = verifications(&run).try_into().unwrap();
    assert_eq!(v["of"], "deploy");
    assert_eq!(v["passed"], true);
    assert_eq!(states(&v), ["healthy", "healthy"]);
    assert_eq!(v["url"]["passed"], true);
    assert_eq!(v["url"]["consecutive"], 2);
    assert!(run.stderr.contains("verification passed"), "{}", run.stderr);
    assert!(run.api_calls("Elastic Load Balancing v2.DescribeTargetHealth") > 0);

    let new_td = f.service.primary_task_definition(w);
    assert!(new_td.ends_with(":2"), "{new_td}");
    // awscli: the target group holds exactly the new tasks, healthy.
    let new_ips = f.task_ips(w, &new_td);
    let healthy: Vec<(String, String)> = new_ips
        .iter()
        .map(|ip| (ip.clone(), "healthy".to_string()))
        .collect();
    assert_eq!(f.targets(w), healthy);
    assert_eq!(get(&url), (200, "vfy-ok:2\n".to_string()));
}

#[test]
fn new_tasks_unhealthy_in_the_target_group_are_rolled_back() {
    let w = world();
    let f = fixture(w, "vfy-unhealthy", 2, true);
    let run = f.deploy(
        w,
        &[
            "--env",
            "app:DECKHAND_WORLD_TARGET_HEALTH=unhealthy",
            "--verify-grace",
            "3s",
        ],
    );
    run.assert_exit(3, "rolled-back");
    let vs = verifications(&run);
    assert_eq!(vs.len(), 2, "{vs:#?}");
    assert_eq!(
        (&vs[0]["of"], &vs[0]["passed"]),
        (&json!("deploy"), &json!(false))
    );
    assert_eq!(states(&vs[0]), ["unhealthy", "unhealthy"]);
    assert_eq!(
        vs[0]["target_health"]["checks"][0]["reason"],
        "Target.ResponseCodeMismatch"
    );
    // The rollback was verified too.
    assert_eq!(
        (&vs[1]["of"], &vs[1]["passed"]),
        (&json!("rollback"), &json!(true))
    );
    assert_eq!(states(&vs[1]), ["healthy", "healthy"]);
    let headline = run.json["headline"].as_str().unwrap();
    assert!(
        headline.contains("verification failed: 2 of 2 targets not healthy after 3s")
            && headline.contains("Target.ResponseCodeMismatch"),
        "{headline}"
    );
    assert!(
        run.stderr.contains("in vfy-unhealthy-tg: unhealthy"),
        "{}",
        run.stderr
    );

    // awscli: the old revision is PRIMARY again and its tasks are the healthy targets.
    let old = &f.service.initial_task_definition;
    f.service.wait_steady(w, Duration::from_secs(10));
    assert_eq!(&f.service.primary_task_definition(w), old);
    let old_ips = f.task_ips(w, old);
    assert_eq!(old_ips.len(), 2);
    let healthy: Vec<(String, String)> = old_ips
        .iter()
        .map(|ip| (ip.clone(), "healthy".to_string()))
        .collect();
    assert_eq!(f.targets(w), healthy);

    // The job re-run with the same inputs: the failed revision is deployed again (not
    // registered a third time), fails its verification again and is rolled back again.
    let again = f.deploy(
        w,
        &[
            "--env",
            "app:DECKHAND_WORLD_TARGET_HEALTH=unhealthy",
            "--verify-grace",
            "3s",
        ],
    );
    again.assert_exit(3, "rolled-back");
    assert_eq!(again.api_calls("ECS.RegisterTaskDefinition"), 0);
    assert_eq!(f.service.revisions(w).len(), 2);
    assert_eq!(&f.service.primary_task_definition(w), old);
}

#[test]
fn a_url_answering_500_for_the_new_revision_is_rolled_back() {
    let w = world();
    let f = fixture(w, "vfy-500", 1, false);
    let url = f.url(w);
    let run = f.deploy(
        w,
        &[
            "--env",
            "app:DECKHAND_WORLD_HTTP_STATUS=500",
            "--verify-url",
            &url,
            "--verify-timeout",
            "2s",
        ],
    );
    run.assert_exit(3, "rolled-back");
    let [v]: [Value; 1] = verifications(&run).try_into().unwrap();
    assert_eq!(v["passed"], false);
    assert!(v["target_health"].is_null(), "no load balancer: {v:#}");
    assert_eq!(v["url"]["last_answers"][0]["status"], 500);
    let problem = v["problem"].as_str().unwrap();
    assert!(
        problem.contains("did not answer as expected 3 times in a row within 2s")
            && problem.contains("answered 500 (expected 2xx)"),
        "{problem}"
    );
    assert_eq!(
        f.service.primary_task_definition(w),
        f.service.initial_task_definition
    );
    f.service.wait_steady(w, Duration::from_secs(10));
    assert_eq!(get(&url), (200, "vfy-500:1\n".to_string()));
}

#[test]
fn a_body_that_does_not_match_is_rolled_back() {
    let w = world();
    let f = fixture(w, "vfy-body", 1, false);
    let url = f.url(w);
    let run = f.deploy(
        w,
        &[
            "--env",
            "app:DECKHAND_WORLD_HTTP_BODY=maintenance",
            "--verify-url",
            &url,
            "--verify-body",
            r"^vfy-body:\d+",
            "--verify-timeout",
            "2s",
        ],
    );
    run.assert_exit(3, "rolled-back");
    let [v]: [Value; 1] = verifications(&run).try_into().unwrap();
    let failure = v["url"]["last_failure"].as_str().unwrap();
    assert_eq!(
        failure,
        r#"answered 200 but the body does not match `^vfy-body:\d+`: "maintenance""#
    );
    assert_eq!(
        f.service.primary_task_definition(w),
        f.service.initial_task_definition
    );
}

#[test]
fn without_load_balancers_or_flags_nothing_is_verified() {
    let w = world();
    let f = fixture(w, "vfy-none", 1, false);
    let run = f.deploy(w, &["--image", &format!("app={IMAGE_V2}")]);
    run.assert_exit(0, "succeeded");
    assert!(run.json.get("verifications").is_none(), "{:#}", run.json);
    assert!(!run.stderr.contains("verification"), "{}", run.stderr);
    assert_eq!(
        run.api_calls("Elastic Load Balancing v2.DescribeTargetHealth"),
        0
    );
}

#[test]
fn bad_verification_flags_change_nothing() {
    let w = world();
    let f = fixture(w, "vfy-bad", 1, false);
    let url = f.url(w);
    for (flags, message) in [
        (
            vec!["--verify-url", url.as_str(), "--verify-successes", "0"],
            "`--verify-successes` must be at least 1",
        ),
        (
            vec!["--verify-url", url.as_str(), "--verify-body", "(unclosed"],
            "`--verify-body (unclosed` is not a valid regex",
        ),
        (
            vec!["--verify-url", url.as_str(), "--verify-status", "2xy"],
            "`--verify-status 2xy`",
        ),
        (
            vec!["--verify-body", "ok"],
            "`--verify-body` needs `--verify-url`",
        ),
        (vec!["--verify-grace", "soon"], "`--verify-grace`"),
        (
            vec!["--verify-url", "example.com/health"],
            "is not an http:// or https:// URL",
        ),
    ] {
        let mut extra = vec!["--image", IMAGE_V2];
        extra.extend(flags.iter().copied());
        let run = f.deploy(w, &extra);
        run.assert_exit(2, "invalid-input");
        assert!(run.stderr.contains(message), "{flags:?}: {}", run.stderr);
        assert_eq!(run.api_calls("ECS.RegisterTaskDefinition"), 0);
    }
    // awscli: no new revision, the service untouched.
    assert_eq!(
        f.service.revisions(w),
        std::slice::from_ref(&f.service.initial_task_definition)
    );
    assert_eq!(
        f.service.primary_task_definition(w),
        f.service.initial_task_definition
    );
}

#[test]
fn ecs_wait_verifies_the_deployment_it_follows() {
    wait_verifies(false);
}

/// `ecs wait` that attaches only after ECS marked the deployment COMPLETED (a slow runner, a
/// re-run) used to take ECS's SUCCESSFUL for the verdict and skip verification: green on
/// targets that were failing their health checks.
#[test]
fn ecs_wait_after_ecs_finished_still_verifies_the_deployment() {
    wait_verifies(true);
}

fn wait_verifies(late: bool) {
    let w = world();
    let name = if late { "vfy-wait-late" } else { "vfy-wait" };
    let f = fixture(w, name, 1, true);
    // A deploy started by someone else (or a job that died after UpdateService).
    let definitions = json!([{"name": "app", "image": IMAGE_V2, "memory": 128, "essential": true,
        "portMappings": [{"containerPort": PORT}],
        "environment": [{"name": "DECKHAND_WORLD_TARGET_HEALTH", "value": "unreachable"}]}]);
    let td = w.aws(&[
        "ecs",
        "register-task-definition",
        "--family",
        name,
        "--network-mode",
        "awsvpc",
        "--container-definitions",
        &definitions.to_string(),
    ]);
    let td_arn = td["taskDefinition"]["taskDefinitionArn"].as_str().unwrap();
    w.aws(&[
        "ecs",
        "update-service",
        "--cluster",
        name,
        "--service",
        name,
        "--task-definition",
        td_arn,
    ]);
    if late {
        f.service.wait_steady(w, Duration::from_secs(60));
    }
    let out = w
        .command(BIN)
        .args(["--output", "json", "ecs", "wait", "--cluster", name])
        .args(["--service", name, "--poll-interval", "200ms"])
        .args(["--timeout", "60s", "--verify-grace", "2s"])
        .output()
        .unwrap();
    let run = Run::from_output(&out);
    run.assert_exit(3, "rolled-back");
    let vs = verifications(&run);
    assert_eq!(states(&vs[0]), ["unhealthy"]);
    assert_eq!(
        vs[0]["target_health"]["checks"][0]["reason"],
        "Target.FailedHealthChecks"
    );
    assert_eq!(
        f.service.primary_task_definition(w),
        f.service.initial_task_definition
    );
}
