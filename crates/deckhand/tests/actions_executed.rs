//! The actions as a user's workflow runs them: each action (but `changes`, which has tests of
//! its own) in a workflow written as a user writes it (a job, `uses: ./actions/NAME`, `with:`
//! inputs, later steps that read `steps.ID.outputs.*`, `if: failure()` steps), executed by a
//! real GitHub Actions executor, nektos/act in host mode (`deckhand_testkit::act`), against
//! the local world. Each test asserts what a later step of the workflow saw, the step summary,
//! and the effects (S3 objects and headers, CloudFront invalidations, ECS services and tasks,
//! registry contents, pull request comments) through clients deckhand did not write (awscli,
//! skopeo, the fake GitHub's records), never act's green alone.
//!
//! What act does not run (OIDC, remote actions, `environment:` protection rules, `$/`
//! references) is listed in docs/github.md, "How the actions are tested".

use std::collections::BTreeMap;

use deckhand_testkit::act::{Act, ActRepo, ActRun};
use deckhand_testkit::fake_github::{self, FakeGithub};
use deckhand_testkit::images::{push_nginx_base, skopeo_digest};
use deckhand_testkit::{
    Breaker, ContainerSpec, ECR_CREDS, ServiceFixture, SiteFixture, World, docker_host, world,
};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_deckhand");

/// How the actions get the deckhand under test: the one place in this file that knows. Every
/// workflow below passes `deckhand-path: ${{ vars.DECKHAND_PATH }}` (as a self-hosted runner's
/// would, docs/install.md), and this sets that variable to the binary: the actions run it on
/// the runner instead of fetching a released one.
fn deckhand_for(act: Act) -> Act {
    act.var("DECKHAND_PATH", BIN)
}

/// act over `workflow` of `repo` with the world's AWS environment, none of the developer's,
/// and the deckhand under test.
fn act(repo: &ActRepo, event: &str, workflow: &str) -> Act {
    let mut act = repo.act(event, workflow);
    world().clean(act.command());
    deckhand_for(act).payload(json!({"ref": "refs/heads/main"}))
}

/// A later step `id` of a user's workflow, run `if: CONDITION`, that reads the outputs `names`
/// of step `of` (`${{ steps.OF.outputs.NAME }}` through `env:`, as any workflow does) and hands
/// them on as its own outputs: what a later step sees, read back by [`seen`].
fn later_step(id: &str, condition: &str, of: &str, names: &[&str]) -> String {
    let var = |name: &str| format!("OUT_{}", name.replace('-', "_"));
    let env: String = names
        .iter()
        .map(|n| format!("          {}: ${{{{ steps.{of}.outputs.{n} }}}}\n", var(n)))
        .collect();
    format!(
        r#"      - id: {id}
        if: {condition}
        env:
{env}        run: |
          for name in {names}; do
            var="OUT_${{name//-/_}}"
            {{ echo "${{name}}<<__seen__"; printf '%s\n' "${{!var}}"; echo "__seen__"; }} >>"$GITHUB_OUTPUT"
          done
"#,
        names = names.join(" "),
    )
}

/// The outputs of the action step `of` that the later step `id` of `job` saw; panics with
/// act's log when it did not run, or when what it saw is not what GitHub would have given it:
/// the outputs the action declares, as its `value:` mappings give them ([`ActRun::outputs`]).
/// Under act a later step also sees the composite's inner step's outputs (nektos/act#2553),
/// which would hide a broken mapping.
fn seen(run: &ActRun, job: &str, id: &str, of: &str) -> BTreeMap<String, String> {
    assert!(
        run.step_ran(job, id),
        "step {job}.{id} did not run:\n{}",
        run.transcript()
    );
    let saw = run.outputs(job, id);
    let declared = run.outputs(job, of);
    for (name, value) in &saw {
        let given = declared.get(name).map_or("", String::as_str);
        assert_eq!(
            value,
            given,
            "`steps.{of}.outputs.{name}`: a later step saw {value:?} under act, but GitHub gives \
             {given:?} (is the action's `outputs.{name}.value` mapped to the output its step \
             writes?)\n{}",
            run.transcript()
        );
    }
    saw
}

/// Panics with act's log unless `text` contains `part`.
#[track_caller]
fn assert_has(run: &ActRun, what: &str, text: &str, part: &str) {
    assert!(
        text.contains(part),
        "{what} lacks `{part}`:\n{text}\n--- act's log:\n{}",
        run.transcript()
    );
}

// ---------------------------------------------------------------------------------------------
// static-site

const SITE_OUTPUTS: &[&str] = &[
    "verdict",
    "exit-code",
    "uploaded",
    "unchanged",
    "invalidation-ids",
    "invalidation-paths",
    "failure-report",
    "plan",
];

fn site_workflow(bucket: &str, distribution: &str, max_delete: &str) -> String {
    format!(
        r#"name: site
on: push
permissions:
  contents: read
jobs:
  site:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
      - id: site
        uses: ./actions/static-site
        with:
          dir: dist
          bucket: {bucket}
          distribution-id: {distribution}
          delete: true
          max-delete: "{max_delete}"
          deckhand-path: ${{{{ vars.DECKHAND_PATH }}}}
"#
    ) + &later_step("after", "always()", "site", SITE_OUTPUTS)
        + &later_step(
            "on-failure",
            "failure()",
            "site",
            &["verdict", "exit-code", "failure-report"],
        )
}

/// The bucket's objects, `(key, ETag)` in key order: one ListObjectsV2 through awscli (each
/// awscli call costs about a second; these tests keep them few).
fn objects(w: &World, site: &SiteFixture) -> Vec<(String, String)> {
    let out = w.aws(&["s3api", "list-objects-v2", "--bucket", &site.bucket]);
    out["Contents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let field = |name: &str| o[name].as_str().unwrap().to_string();
            (field("Key"), field("ETag"))
        })
        .collect()
}

#[test]
fn static_site_deploys_a_built_site_then_uploads_nothing_and_bad_input_changes_nothing() {
    let w = world();
    let site = SiteFixture::create(w, "exec-site", Some(""));
    let distribution = site.distribution.clone().unwrap();
    let workflow = ".github/workflows/site.yml";
    let repo = ActRepo::new();
    repo.write(workflow, &site_workflow(&site.bucket, &distribution, "25%"))
        .write(
            "dist/index.html",
            "<!doctype html><h1>v1</h1><script src=\"/assets/app.3f9a1c2b.js\"></script>\n",
        )
        .write("dist/assets/app.3f9a1c2b.js", "console.log('v1');\n")
        .write("dist/assets/style.css", "h1 { color: teal; }\n")
        .write(
            "dist/favicon.svg",
            "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n",
        );
    repo.commit("site v1");

    let first = act(&repo, "push", workflow).run();
    first.assert_success();
    let out = seen(&first, "site", "after", "site");
    assert_eq!(
        (out["verdict"].as_str(), out["exit-code"].as_str()),
        (("succeeded"), ("0")),
        "{out:?}"
    );
    assert_eq!(out["uploaded"], "4", "{out:?}");
    // New keys cannot be cached anywhere: nothing to invalidate.
    assert_eq!(out["invalidation-ids"], "", "{out:?}");
    assert_has(
        &first,
        "plan",
        &out["plan"],
        "+ index.html (new, entry point: last)",
    );
    assert!(!first.step_ran("site", "on-failure"));
    let summary = first.summary("site");
    assert_has(
        &first,
        "summary",
        &summary,
        "site deploy `s3://exec-site/`: succeeded",
    );
    assert_has(&first, "summary", &summary, "uploaded 4 files");
    let keys: Vec<String> = objects(w, &site).into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        keys,
        [
            ".deckhand/manifest.json",
            "assets/app.3f9a1c2b.js",
            "assets/style.css",
            "favicon.svg",
            "index.html"
        ]
    );
    let index = site.head(w, "index.html");
    assert_eq!(
        (
            index["ContentType"].as_str(),
            index["CacheControl"].as_str()
        ),
        (Some("text/html; charset=utf-8"), Some("no-cache")),
        "{index}"
    );
    let app = site.head(w, "assets/app.3f9a1c2b.js");
    assert_eq!(
        app["CacheControl"], "public, max-age=31536000, immutable",
        "{app}"
    );

    // The same workflow again (a re-run, a fresh checkout): nothing to do.
    let again = act(&repo, "push", workflow).run();
    again.assert_success();
    let out = seen(&again, "site", "after", "site");
    assert_eq!(
        (out["verdict"].as_str(), out["uploaded"].as_str()),
        ("no-change", "0"),
        "{out:?}"
    );
    assert_eq!(out["unchanged"], "4", "{out:?}");
    assert_has(&again, "summary", &again.summary("site"), ": no-change");

    // A changed page: one upload, and the cached entry point invalidated.
    repo.write(
        "dist/index.html",
        "<!doctype html><h1>v2</h1><script src=\"/assets/app.3f9a1c2b.js\"></script>\n",
    );
    repo.commit("site v2");
    let changed = act(&repo, "push", workflow).run();
    changed.assert_success();
    let out = seen(&changed, "site", "after", "site");
    assert_eq!(
        (out["verdict"].as_str(), out["uploaded"].as_str()),
        ("succeeded", "1"),
        "{out:?}"
    );
    // The only invalidation of the distribution: the first two runs made none.
    let invalidations = site.invalidations(w);
    assert_eq!(invalidations.len(), 1, "{invalidations:?}");
    assert_eq!(out["invalidation-ids"], invalidations[0], "{out:?}");
    assert_has(
        &changed,
        "invalidation-paths",
        &out["invalidation-paths"],
        "/index.html",
    );

    // A typo in an input: the step fails as bad input before anything changes, although the
    // same commit changes the page.
    let before = objects(w, &site);
    repo.write(
        workflow,
        &site_workflow(&site.bucket, &distribution, "lots"),
    )
    .write("dist/index.html", "<!doctype html><h1>v3</h1>\n");
    repo.commit("max-delete: lots");
    let bad = act(&repo, "push", workflow).run();
    bad.assert_failure();
    assert_eq!(bad.step_result("site", "site").as_deref(), Some("failure"));
    let out = seen(&bad, "site", "on-failure", "site");
    assert_eq!(
        (out["verdict"].as_str(), out["exit-code"].as_str()),
        ("invalid-input", "2"),
        "{out:?}"
    );
    assert_has(&bad, "failure-report", &out["failure-report"], "max-delete");
    assert_eq!(
        objects(w, &site),
        before,
        "no object added, replaced or deleted"
    );
    assert_eq!(site.invalidations(w), invalidations, "no new invalidation");
}

// ---------------------------------------------------------------------------------------------
// ecs-deploy

const IMAGE_V1: &str = "registry.local/shop/web:v1";
const IMAGE_V2: &str = "registry.local/shop/web:v2";
/// Tasks of this image start and exit 1 (world/README.md, "Faults").
const CRASHING: &str = "registry.local/shop/web:fault-exit";

const DEPLOY_OUTPUTS: &[&str] = &[
    "verdict",
    "exit-code",
    "task-definition-arn",
    "previous-task-definition-arn",
    "deployment-id",
    "failure-report",
    "plan",
];

fn deploy_workflow(f: &ServiceFixture, image: &str) -> String {
    format!(
        r#"name: deploy
on: push
permissions:
  contents: read
jobs:
  deploy:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
      - id: deploy
        uses: ./actions/ecs-deploy
        with:
          cluster: {cluster}
          service: {service}
          container-name: app
          image: {image}
          poll-interval: 200ms
          timeout: 60s
          deckhand-path: ${{{{ vars.DECKHAND_PATH }}}}
"#,
        cluster = f.cluster,
        service = f.service,
    ) + &later_step("after", "always()", "deploy", DEPLOY_OUTPUTS)
        + &later_step(
            "on-failure",
            "failure()",
            "deploy",
            &["verdict", "failure-report"],
        )
}

fn deploy_with_act(f: &ServiceFixture, image: &str) -> ActRun {
    let repo = ActRepo::new();
    repo.write(".github/workflows/deploy.yml", &deploy_workflow(f, image));
    repo.commit("deploy");
    act(&repo, "push", ".github/workflows/deploy.yml").run()
}

/// The service's deployments as awscli sees them.
fn deployments(w: &World, f: &ServiceFixture) -> Vec<Value> {
    f.describe(w)["deployments"].as_array().unwrap().clone()
}

#[test]
fn ecs_deploy_rolls_the_service_and_a_later_step_sees_the_new_revision() {
    let w = world();
    let f = ServiceFixture::create(
        w,
        "exec-deploy-green",
        &[ContainerSpec::new("app", IMAGE_V1)],
        1,
        Breaker::Off,
    );
    let run = deploy_with_act(&f, IMAGE_V2);
    run.assert_success();
    let out = seen(&run, "deploy", "after", "deploy");
    assert_eq!(
        (out["verdict"].as_str(), out["exit-code"].as_str()),
        ("succeeded", "0"),
        "{out:?}"
    );
    let arn = &out["task-definition-arn"];
    assert_ne!(arn, &f.initial_task_definition);
    assert_eq!(
        out["previous-task-definition-arn"],
        f.initial_task_definition
    );
    assert_eq!(out["failure-report"], "");
    assert_has(&run, "plan", &out["plan"], IMAGE_V2);
    assert!(!run.step_ran("deploy", "on-failure"));
    // The service's one deployment is ours, on the new revision, completed.
    let [primary] = deployments(w, &f).try_into().unwrap();
    assert_eq!(
        (
            primary["id"].as_str(),
            primary["taskDefinition"].as_str(),
            primary["rolloutState"].as_str()
        ),
        (
            Some(out["deployment-id"].as_str()),
            Some(arn.as_str()),
            Some("COMPLETED")
        ),
        "{primary}"
    );
    assert_eq!(
        f.task_definition(w, arn)["taskDefinition"]["containerDefinitions"][0]["image"],
        IMAGE_V2
    );
    assert_has(
        &run,
        "summary",
        &run.summary("deploy"),
        "ecs deploy `exec-deploy-green` / `exec-deploy-green`: succeeded",
    );
}

#[test]
fn ecs_deploy_of_a_crash_loop_fails_the_step_says_why_and_rolls_back() {
    let w = world();
    let f = ServiceFixture::create(
        w,
        "exec-deploy-red",
        &[ContainerSpec::new("app", IMAGE_V1)],
        1,
        Breaker::Off,
    );
    let run = deploy_with_act(&f, CRASHING);
    run.assert_failure();
    assert_eq!(
        run.step_result("deploy", "deploy").as_deref(),
        Some("failure")
    );
    assert_eq!(run.job_result("deploy").as_deref(), Some("failure"));
    let out = seen(&run, "deploy", "on-failure", "deploy");
    assert_eq!(out["verdict"], "rolled-back", "{out:?}");
    assert_has(
        &run,
        "failure-report",
        &out["failure-report"],
        "container app: exit code 1",
    );
    assert_eq!(seen(&run, "deploy", "after", "deploy")["exit-code"], "3");
    let summary = run.summary("deploy");
    assert_has(
        &run,
        "summary",
        &summary,
        "ecs deploy `exec-deploy-red` / `exec-deploy-red`: rolled-back",
    );
    assert_has(
        &run,
        "summary",
        &summary,
        "| EssentialContainerExited | Essential container in task exited |",
    );
    // Back on the revision it ran, the bad deployment drained.
    let [primary] = deployments(w, &f).try_into().unwrap();
    assert_eq!(
        primary["taskDefinition"],
        f.initial_task_definition.as_str()
    );
    assert_eq!(primary["rolloutState"], "COMPLETED", "{primary}");
}

// ---------------------------------------------------------------------------------------------
// ecs-run

/// Cluster `name` and family `name`: an essential `app` logging through awslogs, and a
/// non-essential `side` (as tests/ecs_run.rs's jobs). The revision's ARN.
fn job_definition(w: &World, name: &str) -> String {
    w.aws(&["ecs", "create-cluster", "--cluster-name", name]);
    let td = json!({
        "family": name,
        "containerDefinitions": [
            {
                "name": "app",
                "image": "registry.local/shop/backend:v1",
                "memory": 256,
                "environment": [{"name": "DECKHAND_WORLD_LOG_LINES", "value": "applying 0042_add_index\nERROR: duplicate key"}],
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

/// The migration job of a user's workflow, its container exiting `code`, and the job that
/// deploys only after it.
fn migrate_with_act(name: &str, code: u8) -> ActRun {
    let workflow = format!(
        r#"name: release
on: push
permissions:
  contents: read
jobs:
  migrate:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
      - id: migrate
        uses: ./actions/ecs-run
        with:
          cluster: {name}
          task-definition: {name}
          command: app=./migrate up
          override-environment: app:DECKHAND_WORLD_EXIT_CODE={code}
          poll-interval: 200ms
          timeout: 60s
          deckhand-path: ${{{{ vars.DECKHAND_PATH }}}}
"#
    ) + &later_step(
        "after",
        "always()",
        "migrate",
        &[
            "verdict",
            "exit-code",
            "task-arns",
            "exit-codes",
            "task-definition",
            "failure-report",
        ],
    ) + &later_step(
        "on-failure",
        "failure()",
        "migrate",
        &["verdict", "failure-report"],
    ) + r#"  deploy:
    needs: migrate
    runs-on: ubuntu-24.04
    steps:
      - id: roll
        run: echo "migrated; deploying"
"#;
    let repo = ActRepo::new();
    repo.write(".github/workflows/release.yml", &workflow);
    repo.commit("release");
    act(&repo, "push", ".github/workflows/release.yml").run()
}

fn task(w: &World, cluster: &str, arn: &str) -> Value {
    w.aws(&[
        "ecs",
        "describe-tasks",
        "--cluster",
        cluster,
        "--tasks",
        arn,
    ])["tasks"][0]
        .clone()
}

fn container<'a>(task: &'a Value, name: &str) -> &'a Value {
    task["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap()
}

#[test]
fn ecs_run_a_migration_that_exits_0_lets_the_deploy_job_run() {
    let w = world();
    let td = job_definition(w, "exec-run-green");
    let run = migrate_with_act("exec-run-green", 0);
    run.assert_success();
    let out = seen(&run, "migrate", "after", "migrate");
    assert_eq!(
        (out["verdict"].as_str(), out["exit-code"].as_str()),
        ("succeeded", "0"),
        "{out:?}"
    );
    assert_eq!(out["exit-codes"], r#"[{"app":0,"side":0}]"#);
    assert_eq!(out["task-definition"], td);
    let arns: Vec<String> = serde_json::from_str(&out["task-arns"]).unwrap();
    let [arn] = arns.try_into().unwrap();
    let task = task(w, "exec-run-green", &arn);
    assert_eq!(task["lastStatus"], "STOPPED", "{task}");
    assert_eq!(container(&task, "app")["exitCode"], 0, "{task}");
    assert_eq!(
        task["overrides"]["containerOverrides"][0]["command"],
        json!(["./migrate", "up"]),
        "{task}"
    );
    assert!(!run.step_ran("migrate", "on-failure"));
    assert_eq!(run.job_result("deploy").as_deref(), Some("success"));
    assert_has(&run, "summary", &run.summary("migrate"), "succeeded");
}

#[test]
fn ecs_run_a_migration_that_exits_3_fails_with_its_log_and_stops_the_deploy_job() {
    let w = world();
    let td = job_definition(w, "exec-run-red");
    let run = migrate_with_act("exec-run-red", 3);
    run.assert_failure();
    assert_eq!(
        run.step_result("migrate", "migrate").as_deref(),
        Some("failure")
    );
    let out = seen(&run, "migrate", "after", "migrate");
    assert_eq!(
        (out["verdict"].as_str(), out["exit-code"].as_str()),
        ("failed", "1"),
        "{out:?}"
    );
    assert_eq!(out["exit-codes"], r#"[{"app":3,"side":0}]"#);
    assert_eq!(out["task-definition"], td);
    let report = &seen(&run, "migrate", "on-failure", "migrate")["failure-report"];
    assert_has(
        &run,
        "failure-report",
        report,
        "container app (essential): exit 3",
    );
    assert_has(&run, "failure-report", report, "ERROR: duplicate key");
    assert_has(
        &run,
        "summary",
        &run.summary("migrate"),
        "ERROR: duplicate key",
    );
    let arns: Vec<String> = serde_json::from_str(&out["task-arns"]).unwrap();
    let task = task(w, "exec-run-red", &arns[0]);
    assert_eq!(container(&task, "app")["exitCode"], 3, "{task}");
    assert!(
        !run.step_ran("deploy", "roll"),
        "the deploy job ran after a failed migration:\n{}",
        run.transcript()
    );
}

// ---------------------------------------------------------------------------------------------
// ecs-wait

#[test]
fn ecs_wait_resumes_a_deploy_that_timed_out_to_its_verdict() {
    let w = world();
    let f = ServiceFixture::create(
        w,
        "exec-wait",
        &[ContainerSpec::new("app", IMAGE_V1)],
        1,
        Breaker::Off,
    );
    // The new tasks take 4 s to start and the deploy job gives up after 1 s (a job timeout, a
    // runner lost): the next job follows the same deployment to its verdict.
    let workflow = format!(
        r#"name: deploy
on: push
permissions:
  contents: read
jobs:
  deploy:
    runs-on: ubuntu-24.04
    outputs:
      verdict: ${{{{ steps.deploy.outputs.verdict }}}}
      deployment-id: ${{{{ steps.deploy.outputs.deployment-id }}}}
    steps:
      - uses: actions/checkout@v4
      - id: deploy
        uses: ./actions/ecs-deploy
        with:
          cluster: {cluster}
          service: {service}
          container-name: app
          image: {IMAGE_V2}
          environment-variables: app:DECKHAND_WORLD_START_SECONDS=4
          poll-interval: 200ms
          timeout: 1s
          deckhand-path: ${{{{ vars.DECKHAND_PATH }}}}
"#,
        cluster = f.cluster,
        service = f.service,
    ) + &later_step(
        "after",
        "always()",
        "deploy",
        &[
            "verdict",
            "exit-code",
            "deployment-id",
            "task-definition-arn",
        ],
    ) + &format!(
        r#"  resume:
    needs: deploy
    if: always() && needs.deploy.outputs.verdict == 'timed-out'
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
      - id: wait
        uses: ./actions/ecs-wait
        with:
          cluster: {cluster}
          service: {service}
          deployment: ${{{{ needs.deploy.outputs.deployment-id }}}}
          poll-interval: 200ms
          timeout: 60s
          deckhand-path: ${{{{ vars.DECKHAND_PATH }}}}
"#,
        cluster = f.cluster,
        service = f.service,
    ) + &later_step(
        "after",
        "always()",
        "wait",
        &[
            "verdict",
            "exit-code",
            "deployment-id",
            "task-definition-arn",
        ],
    );
    let repo = ActRepo::new();
    repo.write(".github/workflows/deploy.yml", &workflow);
    repo.commit("deploy");
    let run = act(&repo, "push", ".github/workflows/deploy.yml").run();

    // The deploy job is red (timed out, nothing rolled back); the resume job is green.
    assert_eq!(run.job_result("deploy").as_deref(), Some("failure"));
    let deploy = seen(&run, "deploy", "after", "deploy");
    assert_eq!(
        (deploy["verdict"].as_str(), deploy["exit-code"].as_str()),
        ("timed-out", "4"),
        "{deploy:?}"
    );
    assert_eq!(
        run.job_result("resume").as_deref(),
        Some("success"),
        "{}",
        run.transcript()
    );
    let resumed = seen(&run, "resume", "after", "wait");
    assert_eq!(
        (resumed["verdict"].as_str(), resumed["exit-code"].as_str()),
        ("succeeded", "0"),
        "{resumed:?}"
    );
    assert_eq!(resumed["deployment-id"], deploy["deployment-id"]);
    assert_eq!(
        resumed["task-definition-arn"],
        deploy["task-definition-arn"]
    );
    let [primary] = deployments(w, &f).try_into().unwrap();
    assert_eq!(
        (
            primary["id"].as_str(),
            primary["taskDefinition"].as_str(),
            primary["rolloutState"].as_str()
        ),
        (
            Some(deploy["deployment-id"].as_str()),
            Some(deploy["task-definition-arn"].as_str()),
            Some("COMPLETED")
        ),
        "{primary}"
    );
    assert_has(&run, "summary", &run.summary("resume"), "succeeded");

    // Later someone else deploys; asking by hand about the first deployment (its id from the
    // log) gives that deployment's verdict, not the service's newest, and leaves theirs alone.
    w.aws(&[
        "ecs",
        "update-service",
        "--cluster",
        &f.cluster,
        "--service",
        &f.service,
        "--task-definition",
        &f.initial_task_definition,
    ]);
    let theirs = f.wait_steady(w, std::time::Duration::from_secs(30))["deployments"][0].clone();
    let resume = format!(
        r#"name: resume
on:
  workflow_dispatch:
    inputs:
      deployment:
        description: The deployment id the deploy job printed
        required: true
jobs:
  resume:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
      - id: wait
        uses: ./actions/ecs-wait
        with:
          cluster: {cluster}
          service: {service}
          deployment: ${{{{ inputs.deployment }}}}
          poll-interval: 200ms
          timeout: 60s
          deckhand-path: ${{{{ vars.DECKHAND_PATH }}}}
"#,
        cluster = f.cluster,
        service = f.service,
    ) + &later_step(
        "after",
        "always()",
        "wait",
        &["verdict", "deployment-id", "task-definition-arn"],
    );
    repo.write(".github/workflows/resume.yml", &resume);
    repo.commit("resume by hand");
    let by_hand = act(&repo, "workflow_dispatch", ".github/workflows/resume.yml")
        .payload(json!({"inputs": {"deployment": deploy["deployment-id"]}}))
        .run();
    by_hand.assert_success();
    let out = seen(&by_hand, "resume", "after", "wait");
    assert_eq!(
        (
            out["verdict"].as_str(),
            out["deployment-id"].as_str(),
            out["task-definition-arn"].as_str()
        ),
        (
            "succeeded",
            deploy["deployment-id"].as_str(),
            deploy["task-definition-arn"].as_str()
        ),
        "{out:?}"
    );
    let [still] = deployments(w, &f).try_into().unwrap();
    assert_eq!(
        still["id"], theirs["id"],
        "their deploy was left alone: {still}"
    );
}

// ---------------------------------------------------------------------------------------------
// nginx-image

#[test]
fn nginx_image_pushes_the_page_rolls_the_service_and_a_rerun_pushes_nothing() {
    let w = world();
    let ecr = w.registry("ecr");
    let base = format!("{}/library/nginx:1.22", w.registry("hub"));
    push_nginx_base(&base);
    w.aws(&[
        "ecr",
        "create-repository",
        "--repository-name",
        "exec-front",
    ]);
    let f = ServiceFixture::create(
        w,
        "exec-front",
        &[ContainerSpec::new("nginx", "nginx:1.22")],
        1,
        Breaker::Off,
    );
    let workflow = format!(
        r#"name: front
on: push
permissions:
  contents: read
jobs:
  front:
    runs-on: ubuntu-24.04
    env:
      # The world's ECR is not an *.amazonaws.com host: say that it is ECR (credentials
      # from the AWS API), and poll the rollout often.
      DECKHAND_ECR_REGISTRY: {ecr}
      DECKHAND_POLL_INTERVAL: 200ms
    steps:
      - uses: actions/checkout@v4
      - id: image
        uses: ./actions/nginx-image
        with:
          html: nginx/html
          conf: nginx/default.conf
          base: {base}
          repository: {ecr}/exec-front
          cluster: {cluster}
          service: {service}
          timeout: 60s
          deckhand-path: ${{{{ vars.DECKHAND_PATH }}}}
"#,
        cluster = f.cluster,
        service = f.service,
    ) + &later_step(
        "after",
        "always()",
        "image",
        &[
            "verdict",
            "exit-code",
            "image",
            "digest",
            "tags",
            "bytes-uploaded",
            "deploy-verdict",
            "task-definition-arn",
            "deployment-id",
        ],
    );
    let repo = ActRepo::new();
    repo.write(".github/workflows/front.yml", &workflow)
        .write("nginx/html/index.html", "<h1>exec front</h1>\n")
        .write(
            "nginx/default.conf",
            "server {\n  listen 80;\n  location / { root /usr/share/nginx/html; }\n}\n",
        );
    let sha = repo.commit("front");
    // The runner's Docker engine (as GitHub's hosted runners have one): nginx-image's `nginx -t`
    // with the base image, and deckhand's smoke run of the built image.
    let front = |repo: &ActRepo| {
        let mut act = act(repo, "push", ".github/workflows/front.yml");
        act.command().env("DOCKER_HOST", docker_host());
        act.run()
    };

    let first = front(&repo);
    first.assert_success();
    let out = seen(&first, "front", "after", "image");
    assert_eq!(
        (
            out["verdict"].as_str(),
            out["exit-code"].as_str(),
            out["deploy-verdict"].as_str()
        ),
        ("succeeded", "0", "succeeded"),
        "{out:?}"
    );
    // Tagged with the commit, as the registry serves it to skopeo.
    let tag = format!("{ecr}/exec-front:{sha}");
    assert_eq!(out["tags"], tag);
    assert_eq!(skopeo_digest(&tag, Some(ECR_CREDS)), out["digest"]);
    assert_eq!(out["image"], format!("{ecr}/exec-front@{}", out["digest"]));
    // The service runs it, by digest.
    let [primary] = deployments(w, &f).try_into().unwrap();
    let live = primary["taskDefinition"].as_str().unwrap().to_string();
    assert_eq!(
        (Some(live.as_str()), primary["rolloutState"].as_str()),
        (Some(out["task-definition-arn"].as_str()), Some("COMPLETED")),
        "{primary}"
    );
    assert_eq!(
        f.task_definition(w, &live)["taskDefinition"]["containerDefinitions"][0]["image"],
        out["image"].as_str()
    );
    let summary = first.summary("front");
    assert_has(&first, "summary", &summary, "nginx build `");
    // On the runner's engine: deckhand has the runner's environment (DOCKER_HOST).
    assert_has(
        &first,
        "summary",
        &summary,
        "Smoke run passed: `GET :80/` answered 200 (linux/amd64, docker, ",
    );
    assert_has(
        &first,
        "summary",
        &summary,
        "Rollout of `exec-front` in `exec-front`: **succeeded**",
    );
    let pushed = w.registry_stats("ecr", "exec-front");

    // Re-run of the same commit: the tag already names this digest; nothing is pushed and
    // the service is not rolled.
    let again = front(&repo);
    again.assert_success();
    let out2 = seen(&again, "front", "after", "image");
    assert_eq!(
        (out2["verdict"].as_str(), out2["bytes-uploaded"].as_str()),
        ("no-change", "0"),
        "{out2:?}"
    );
    assert_eq!(out2["digest"], out["digest"]);
    assert_eq!(out2["deployment-id"], "", "{out2:?}");
    let stats = w.registry_stats("ecr", "exec-front");
    for counter in [
        "manifest_puts",
        "blob_uploads_completed",
        "blob_bytes_uploaded",
        "mounts",
    ] {
        assert_eq!(stats[counter], pushed[counter], "{counter}: {stats}");
    }
    // Nothing registered, nothing rolled: the family has its first revision and this one.
    assert_eq!(
        f.revisions(w),
        [f.initial_task_definition.clone(), live.clone()]
    );
    let [still] = deployments(w, &f).try_into().unwrap();
    assert_eq!(still["id"], primary["id"], "no new deployment: {still}");
}

// ---------------------------------------------------------------------------------------------
// pr-comment

#[test]
fn pr_comment_creates_the_comment_then_edits_it_in_place() {
    let fake = FakeGithub::start();
    let workflow = r#"name: plan
on: pull_request
permissions:
  pull-requests: write
jobs:
  plan:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
      - id: plan
        run: |
          {
            echo "text<<__plan__"
            cat plan.md
            echo "__plan__"
          } >>"$GITHUB_OUTPUT"
      - id: comment
        uses: ./actions/pr-comment
        with:
          body: ${{ steps.plan.outputs.text }}
          deckhand-path: ${{ vars.DECKHAND_PATH }}
"#
    .to_string()
        + &later_step(
            "after",
            "always()",
            "comment",
            &[
                "verdict",
                "exit-code",
                "action",
                "comment-id",
                "comment-url",
            ],
        );
    let repo = ActRepo::new();
    repo.write(".github/workflows/plan.yml", &workflow)
        .write("plan.md", "### deckhand plan\n\n- web: v1 -> v2\n");
    repo.commit("plan v1");
    let pull_request = || {
        act(&repo, "pull_request", ".github/workflows/plan.yml")
            .payload(json!({
                "action": "synchronize",
                "number": 42,
                "pull_request": {"number": 42},
                "repository": {"full_name": fake_github::REPO}
            }))
            .secret("GITHUB_TOKEN", fake_github::TOKEN)
            .env("GITHUB_API_URL", &fake.url)
            .env("GITHUB_REPOSITORY", fake_github::REPO)
            .run()
    };

    let first = pull_request();
    first.assert_success();
    let out = seen(&first, "plan", "after", "comment");
    assert_eq!(
        (out["verdict"].as_str(), out["action"].as_str()),
        ("succeeded", "created"),
        "{out:?}"
    );
    let [(id, author, body)] = fake.comments(42).try_into().unwrap();
    assert_eq!(out["comment-id"], id.to_string());
    assert_eq!(
        out["comment-url"],
        format!(
            "https://github.com/{}/pull/42#issuecomment-{id}",
            fake_github::REPO
        )
    );
    assert_eq!(author, fake_github::TOKEN_USER);
    assert_eq!(
        body,
        "<!-- deckhand:plan -->\n### deckhand plan\n\n- web: v1 -> v2"
    );

    repo.write("plan.md", "### deckhand plan\n\n- web: v1 -> v3\n");
    repo.commit("plan v2");
    let second = pull_request();
    second.assert_success();
    let out = seen(&second, "plan", "after", "comment");
    assert_eq!(
        (out["verdict"].as_str(), out["action"].as_str()),
        ("succeeded", "updated"),
        "{out:?}"
    );
    assert_eq!(out["comment-id"], id.to_string());
    let [(same, _, body)] = fake.comments(42).try_into().unwrap();
    assert_eq!(same, id, "edited in place");
    assert_eq!(
        body,
        "<!-- deckhand:plan -->\n### deckhand plan\n\n- web: v1 -> v3"
    );
    assert_eq!(fake.matching("POST", "/issues/42/comments").len(), 1);
    assert_eq!(
        fake.matching("PATCH", &format!("/issues/comments/{id}"))
            .len(),
        1
    );
    // The token reached GitHub and no log.
    let log = format!("{}{}", first.transcript(), second.transcript());
    assert!(
        !log.contains(fake_github::TOKEN),
        "the token is in act's log"
    );
}
