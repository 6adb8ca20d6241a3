//! deckhand's GitHub side, against a fake GitHub: `deckhand dispatch` (workflow dispatch, run
//! and job following, errors) and the deployment records of `ecs deploy` (against the local
//! world for AWS).
//!
//! GitHub cannot be reached from here, so the tests talk to `deckhand_testkit::fake_github`, a
//! small GitHub of its own on 127.0.0.1 (its module documentation says what it serves and how it
//! validates, records and fails requests).

use deckhand_testkit::fake_github::{self as fake, FakeGithub, REPO, SHA, TOKEN};
use deckhand_testkit::images::SyntheticBase;
use deckhand_testkit::{Breaker, ContainerSpec, Run, ServiceFixture, SiteFixture, World, world};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_deckhand");

/// `deckhand --output json ARGS` with GitHub pointed at the fake, and nothing else of the
/// machine's GitHub or deckhand settings.
fn deckhand_with(fake: &FakeGithub, args: &[&str], env: &[(&str, &str)]) -> Run {
    run_against_fake(std::process::Command::new(BIN), fake, args, env)
}

/// Runs `cmd --output json ARGS` with GitHub pointed at the fake and the token set, none of
/// the machine's own GitHub or deckhand settings, then `env` (which may override the token).
fn run_against_fake(
    mut cmd: std::process::Command,
    fake: &FakeGithub,
    args: &[&str],
    env: &[(&str, &str)],
) -> Run {
    for (k, _) in std::env::vars() {
        if k.starts_with("DECKHAND_") || k.starts_with("GITHUB_") || k == "GH_TOKEN" {
            cmd.env_remove(k);
        }
    }
    cmd.env("GITHUB_API_URL", &fake.url)
        .env("GITHUB_TOKEN", TOKEN);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .args(["--output", "json"])
        .args(args)
        .output()
        .expect("run deckhand");
    let run = Run::from_output(&out);
    assert_token_never_printed(&run);
    run
}

fn dispatch(fake: &FakeGithub, extra: &[&str]) -> Run {
    let mut args = vec!["dispatch", "--repo", REPO, "--poll-interval", "100ms"];
    args.extend_from_slice(extra);
    deckhand_with(fake, &args, &[])
}

#[track_caller]
fn assert_token_never_printed(run: &Run) {
    assert!(
        !run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN),
        "the token was printed:\n{}\n{}",
        run.stderr,
        run.stdout
    );
}

/// Every request carried the token as a Bearer header and asked for GitHub's JSON.
#[track_caller]
fn assert_authenticated(fake: &FakeGithub) {
    let requests = fake.requests();
    assert!(!requests.is_empty());
    for r in &requests {
        assert_eq!(
            r.headers.get("authorization").map(String::as_str),
            Some(format!("Bearer {TOKEN}").as_str()),
            "{} {}",
            r.method,
            r.path
        );
        assert_eq!(
            r.headers.get("accept").map(String::as_str),
            Some("application/vnd.github+json"),
            "{} {}",
            r.method,
            r.path
        );
        assert_eq!(
            r.headers.get("x-github-api-version").map(String::as_str),
            Some("2022-11-28"),
            "{} {}",
            r.method,
            r.path
        );
    }
}

#[track_caller]
fn assert_stderr(run: &Run, needle: &str) {
    assert!(
        run.stderr.contains(needle),
        "stderr lacks {needle:?}:\n{}",
        run.stderr
    );
}

const DISPATCHES: &str = "/actions/workflows/deploy.yml/dispatches";

// ---------------------------------------------------------------------------------------------
// dispatch

#[test]
fn dispatch_follows_the_run_job_by_job_to_success() {
    let fake = FakeGithub::start();
    let run = dispatch(
        &fake,
        &[
            "--workflow",
            "deploy.yml",
            "--ref",
            "main",
            "--input",
            "environment=staging",
            "--input",
            "api_token=s3cr3t-value",
            "--wait",
        ],
    );
    run.assert_exit(0, "succeeded");
    assert_authenticated(&fake);

    // One dispatch with the ref, the inputs as strings and the run details asked for.
    let posts = fake.matching("POST", DISPATCHES);
    assert_eq!(posts.len(), 1);
    assert_eq!(
        posts[0].body,
        json!({"ref": "main", "inputs": {"environment": "staging", "api_token": "s3cr3t-value"}, "return_run_details": true})
    );
    assert_eq!(posts[0].path, format!("/repos/{REPO}{DISPATCHES}"));
    // The run id came with the answer: no listing.
    assert!(fake.matching("GET", "/runs").is_empty());
    let run_id = fake.run_ids()[0];
    assert_eq!(run.json["run_id"], run_id);
    assert_eq!(
        run.json["run_url"],
        format!("https://github.com/{REPO}/actions/runs/{run_id}")
    );
    assert_eq!(run.json["conclusion"], "success");
    assert_eq!(run.json["status"], "completed");
    let jobs: Vec<(String, String)> = run.json["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| {
            (
                j["name"].as_str().unwrap().to_string(),
                j["conclusion"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        jobs,
        vec![
            ("build".to_string(), "success".to_string()),
            ("deploy".to_string(), "success".to_string())
        ]
    );
    // Polled until completed: the run and its jobs, each read once per poll.
    let run_reads = fake
        .matching("GET", &format!("/actions/runs/{run_id}"))
        .len();
    assert_eq!(run_reads, 4, "queued, build, deploy, completed");
    assert_eq!(
        fake.matching("GET", &format!("/actions/runs/{run_id}/jobs"))
            .len(),
        run_reads
    );
    assert_eq!(
        fake.matching("GET", "/jobs")[0]
            .query
            .get("per_page")
            .map(String::as_str),
        Some("100")
    );
    // Job by job, in order, each change once.
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("job `") || l.contains(&format!("run {run_id}: ")))
        .map(|l| l.split("] ").nth(1).unwrap_or(l).trim())
        .collect();
    assert_eq!(
        lines,
        vec![
            format!("run {run_id}: queued").as_str(),
            "job `build`: queued",
            "job `deploy`: queued",
            format!("run {run_id}: in_progress").as_str(),
            "job `build`: in_progress",
            "job `build`: completed (success)",
            "job `deploy`: in_progress",
            format!("run {run_id}: completed (success)").as_str(),
            "job `deploy`: completed (success)",
        ],
        "{}",
        run.stderr
    );
    // A secret-looking input's value is shown nowhere.
    assert!(!run.stderr.contains("s3cr3t-value") && !run.stdout.contains("s3cr3t-value"));
    assert_eq!(run.json["inputs"]["api_token"], "(redacted)");
    assert_eq!(run.json["inputs"]["environment"], "staging");
}

#[test]
fn a_failed_run_is_exit_1_naming_the_failed_job_in_the_outputs() {
    let fake = FakeGithub::start();
    let dir = tempfile::tempdir().unwrap();
    let outputs = dir.path().join("output");
    let run = deckhand_with(
        &fake,
        &[
            "dispatch",
            "--repo",
            REPO,
            "--workflow",
            "deploy.yml",
            "--ref",
            "release/1.2",
            "--input",
            "outcome=failure",
            "--wait",
            "--poll-interval",
            "100ms",
        ],
        &[
            ("GITHUB_OUTPUT", outputs.to_str().unwrap()),
            ("GITHUB_ACTIONS", "true"),
        ],
    );
    run.assert_exit(1, "failed");
    assert_eq!(run.json["conclusion"], "failure");
    assert_eq!(run.json["jobs"][1]["conclusion"], "failure");
    let headline = run.json["headline"].as_str().unwrap();
    assert!(
        headline.contains("concluded `failure`: `deploy` (failure)"),
        "{headline}"
    );
    assert_stderr(&run, "::error title=deckhand dispatch deploy.yml::");
    let out = std::fs::read_to_string(&outputs).unwrap();
    let run_id = fake.run_ids()[0];
    assert!(out.contains("verdict=failed\n"), "{out}");
    assert!(out.contains("exit-code=1\n"), "{out}");
    assert!(out.contains(&format!("run-id={run_id}\n")), "{out}");
    assert!(out.contains("conclusion=failure\n"), "{out}");
    assert_eq!(
        fake.matching("POST", DISPATCHES)[0].body["ref"],
        "release/1.2"
    );
}

#[test]
fn a_cancelled_run_is_exit_1() {
    let fake = FakeGithub::start();
    let run = dispatch(
        &fake,
        &[
            "--workflow",
            "deploy.yml",
            "--ref",
            "main",
            "--input",
            "outcome=cancelled",
            "--wait",
        ],
    );
    run.assert_exit(1, "failed");
    assert_eq!(run.json["conclusion"], "cancelled");
}

#[test]
fn without_run_details_the_run_is_found_by_listing() {
    let fake = FakeGithub::start();
    fake.without_run_details();
    // Older runs that are not ours: the same workflow an hour ago, and one on another branch.
    let old = fake.add_run(
        "deploy.yml",
        "workflow_dispatch",
        "main",
        fake::now_epoch() - 3600,
    );
    let other = fake.add_run(
        "deploy.yml",
        "workflow_dispatch",
        "release/1.2",
        fake::now_epoch(),
    );
    let run = dispatch(
        &fake,
        &["--workflow", "deploy.yml", "--ref", "main", "--wait"],
    );
    run.assert_exit(0, "succeeded");
    let ours = *fake.run_ids().last().unwrap();
    assert!(ours != old && ours != other);
    assert_eq!(run.json["run_id"], ours);
    let lists = fake.matching("GET", "/actions/workflows/deploy.yml/runs");
    assert!(!lists.is_empty());
    let q = &lists[0].query;
    assert_eq!(
        q.get("event").map(String::as_str),
        Some("workflow_dispatch")
    );
    assert_eq!(q.get("branch").map(String::as_str), Some("main"));
    let created = q.get("created").expect("a created filter");
    assert!(created.starts_with(">=20"), "{created}");
    // The older runs were never followed.
    assert!(fake.matching("GET", &format!("/runs/{old}")).is_empty());
    assert!(fake.matching("GET", &format!("/runs/{other}")).is_empty());
}

#[test]
fn a_github_that_refuses_return_run_details_gets_the_dispatch_without_it() {
    let fake = FakeGithub::start();
    fake.refusing_run_details();
    let run = dispatch(
        &fake,
        &["--workflow", "deploy.yml", "--ref", "main", "--wait"],
    );
    run.assert_exit(0, "succeeded");
    let posts = fake.matching("POST", DISPATCHES);
    assert_eq!(
        posts.len(),
        2,
        "refused once, then sent without the parameter"
    );
    assert_eq!(posts[0].body["return_run_details"], true);
    assert_eq!(posts[1].body, json!({"ref": "main", "inputs": {}}));
    assert_eq!(fake.run_ids().len(), 1, "one run started");
    assert_eq!(run.json["run_id"], fake.run_ids()[0]);
}

#[test]
fn without_wait_an_accepted_dispatch_is_exit_0_and_nothing_is_polled() {
    let fake = FakeGithub::start();
    // GH_TOKEN alone, and the repository from GITHUB_REPOSITORY.
    let run = deckhand_with(
        &fake,
        &["dispatch", "--workflow", "deploy.yml", "--ref", "main"],
        &[
            ("GITHUB_TOKEN", ""),
            ("GH_TOKEN", TOKEN),
            ("GITHUB_REPOSITORY", REPO),
        ],
    );
    run.assert_exit(0, "dispatched");
    assert_authenticated(&fake);
    assert_eq!(fake.requests().len(), 1);
    assert_eq!(run.json["run_id"], fake.run_ids()[0]);
}

#[test]
fn wait_timeout_while_the_run_is_in_progress_is_exit_4() {
    let fake = FakeGithub::start();
    let run = dispatch(
        &fake,
        &[
            "--workflow",
            "slow.yml",
            "--ref",
            "main",
            "--wait",
            "--timeout",
            "1s",
        ],
    );
    run.assert_exit(4, "timed-out");
    let headline = run.json["headline"].as_str().unwrap();
    assert!(
        headline.contains("still in_progress after 1s; it was not cancelled"),
        "{headline}"
    );
    assert_eq!(run.json["jobs"][0]["status"], "in_progress");
    // Polls of the unchanged run were conditional and answered 304 (free of rate limit).
    let conditional = fake
        .requests()
        .iter()
        .filter(|r| r.headers.contains_key("if-none-match"))
        .count();
    assert!(conditional >= 2, "{conditional} conditional reads");
    assert!(
        fake.not_modified() >= 2,
        "{} answers 304",
        fake.not_modified()
    );
    // Nothing cancelled it.
    assert!(fake.requests().iter().all(|r| !r.path.ends_with("/cancel")));
}

#[test]
fn an_unknown_workflow_is_404_exit_2_with_a_hint() {
    let fake = FakeGithub::start();
    let run = dispatch(
        &fake,
        &["--workflow", "nope.yml", "--ref", "main", "--wait"],
    );
    run.assert_exit(2, "invalid-input");
    assert_stderr(
        &run,
        "the workflow or the repository `octo-org/octo-repo` was not found",
    );
    assert_stderr(&run, "404 Not Found");
    assert_stderr(&run, "hint: check `--workflow`");
    assert_eq!(
        fake.requests().len(),
        1,
        "one POST, not retried, no polling"
    );
}

#[test]
fn a_bad_ref_is_422_with_githubs_message() {
    let fake = FakeGithub::start();
    let run = dispatch(
        &fake,
        &["--workflow", "deploy.yml", "--ref", "nope", "--wait"],
    );
    run.assert_exit(2, "invalid-input");
    assert_stderr(&run, "422 No ref found for: nope");
    assert_stderr(&run, "hint: check `--ref`");
    assert!(
        run.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("No ref found for: nope")
    );
}

#[test]
fn bad_inputs_and_a_workflow_without_a_dispatch_trigger_are_422() {
    let fake = FakeGithub::start();
    let run = dispatch(
        &fake,
        &[
            "--workflow",
            "deploy.yml",
            "--ref",
            "main",
            "--input",
            "bogus=1",
        ],
    );
    run.assert_exit(2, "invalid-input");
    assert_stderr(&run, "Unexpected inputs provided: [\"bogus\"]");

    let run = dispatch(&fake, &["--workflow", "ci.yml", "--ref", "main"]);
    run.assert_exit(2, "invalid-input");
    assert_stderr(&run, "Workflow does not have 'workflow_dispatch' trigger");

    // A validation error with GitHub's `errors` list: each error is shown.
    fake.fail(
        "POST",
        DISPATCHES,
        1,
        422,
        &[],
        json!({"message": "Validation Failed", "errors": [{"resource": "WorkflowDispatch", "field": "inputs", "code": "invalid"}, "environment must be one of staging, production"], "documentation_url": "https://docs.github.com/rest", "status": "422"}),
    );
    let run = dispatch(
        &fake,
        &[
            "--workflow",
            "deploy.yml",
            "--ref",
            "main",
            "--input",
            "environment=qa",
        ],
    );
    run.assert_exit(2, "invalid-input");
    assert_stderr(
        &run,
        "422 Validation Failed (WorkflowDispatch.inputs: invalid; environment must be one of staging, production)",
    );
}

#[test]
fn a_bad_token_is_401_exit_2_and_never_printed() {
    let fake = FakeGithub::start();
    let wrong = "ghp_WrongTokenWrongTokenWrongToken0000";
    let run = deckhand_with(
        &fake,
        &[
            "dispatch",
            "--repo",
            REPO,
            "--workflow",
            "deploy.yml",
            "--ref",
            "main",
        ],
        &[("GITHUB_TOKEN", wrong)],
    );
    run.assert_exit(2, "invalid-input");
    assert_stderr(&run, "GitHub rejected the token");
    assert_stderr(&run, "401 Bad credentials");
    assert!(!run.stderr.contains(wrong) && !run.stdout.contains(wrong));
    assert_eq!(
        fake.requests()[0].headers["authorization"],
        format!("Bearer {wrong}")
    );
}

#[test]
fn a_permission_403_is_exit_2_naming_the_permission() {
    let fake = FakeGithub::start();
    fake.fail(
        "POST",
        DISPATCHES,
        1,
        403,
        &[],
        json!({"message": "Resource not accessible by integration", "documentation_url": "https://docs.github.com/rest/actions/workflows#create-a-workflow-dispatch-event", "status": "403"}),
    );
    let run = dispatch(&fake, &["--workflow", "deploy.yml", "--ref", "main"]);
    run.assert_exit(2, "invalid-input");
    assert_stderr(&run, "403 Resource not accessible by integration");
    assert_stderr(&run, "it needs `actions: write`");
    assert_eq!(fake.requests().len(), 1, "a permission 403 is not retried");
}

#[test]
fn a_primary_rate_limit_names_the_reset_time_and_is_not_waited_for_an_hour() {
    let fake = FakeGithub::start();
    let reset = fake::now_epoch() + 3600;
    fake.fail(
        "POST",
        DISPATCHES,
        1,
        403,
        &[
            ("x-ratelimit-remaining", "0".into()),
            ("x-ratelimit-reset", reset.to_string()),
        ],
        json!({"message": "API rate limit exceeded for installation ID 42.", "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}),
    );
    let run = dispatch(
        &fake,
        &["--workflow", "deploy.yml", "--ref", "main", "--wait"],
    );
    run.assert_exit(1, "error");
    let until = fake::iso(reset + 1);
    let until_alt = fake::iso(reset);
    assert!(
        run.stderr
            .contains(&format!("rate limited by GitHub until {until}"))
            || run
                .stderr
                .contains(&format!("rate limited by GitHub until {until_alt}")),
        "{}",
        run.stderr
    );
    assert_stderr(&run, "API rate limit exceeded for installation ID 42.");
    assert_eq!(fake.requests().len(), 1);
}

#[test]
fn a_short_retry_after_is_waited_out() {
    let fake = FakeGithub::start();
    // The first read of the run is refused with a secondary limit asking for one second.
    fake.fail(
        "GET",
        "/actions/runs/30433643",
        1,
        429,
        &[("retry-after", "1".into())],
        json!({"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}),
    );
    let run = dispatch(
        &fake,
        &["--workflow", "deploy.yml", "--ref", "main", "--wait"],
    );
    run.assert_exit(0, "succeeded");
    assert_eq!(fake.run_ids(), vec![30_433_643]);
    assert_stderr(&run, "rate limited (429");
    assert_stderr(&run, "waiting 1s as GitHub asks");
    // The refused read and the four that followed it.
    assert_eq!(fake.matching("GET", "/actions/runs/30433643").len(), 5);
}

#[test]
fn a_5xx_on_the_dispatch_is_not_retried() {
    let fake = FakeGithub::start();
    fake.fail(
        "POST",
        DISPATCHES,
        3,
        502,
        &[],
        json!({"message": "Server Error"}),
    );
    let run = dispatch(
        &fake,
        &["--workflow", "deploy.yml", "--ref", "main", "--wait"],
    );
    run.assert_exit(1, "error");
    assert_stderr(
        &run,
        "502 Server Error (not retried: GitHub may have acted on it)",
    );
    assert_stderr(&run, "GitHub may or may not have started the run");
    assert_eq!(fake.matching("POST", DISPATCHES).len(), 1);
}

#[test]
fn a_5xx_while_following_is_retried_for_gets() {
    let fake = FakeGithub::start();
    fake.fail(
        "GET",
        "/actions/runs/30433643/jobs",
        1,
        503,
        &[],
        json!({"message": "Service Unavailable"}),
    );
    let run = dispatch(
        &fake,
        &["--workflow", "deploy.yml", "--ref", "main", "--wait"],
    );
    run.assert_exit(0, "succeeded");
    assert_stderr(&run, "503; retrying in 1s (1/3)");
}

#[test]
fn bad_input_is_exit_2_before_any_request() {
    let fake = FakeGithub::start();
    /// Arguments, environment, what stderr says.
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case] = &[
        (
            &[
                "dispatch",
                "--repo",
                "not-a-repo",
                "--workflow",
                "deploy.yml",
                "--ref",
                "main",
            ],
            &[],
            "is not `OWNER/REPO`",
        ),
        (
            &[
                "dispatch",
                "--repo",
                REPO,
                "--workflow",
                "deploy.yml",
                "--ref",
                "main",
                "--input",
                "novalue",
            ],
            &[],
            "`--input novalue` is not `KEY=VALUE`",
        ),
        (
            &[
                "dispatch",
                "--repo",
                REPO,
                "--workflow",
                "deploy.yml",
                "--ref",
                "main",
                "--wait",
                "--timeout",
                "soon",
            ],
            &[],
            "`--timeout`: invalid duration `soon`",
        ),
        (
            &[
                "dispatch",
                "--repo",
                REPO,
                "--workflow",
                "deploy.yml",
                "--ref",
                "main",
            ],
            &[("GITHUB_TOKEN", "")],
            "no GitHub token",
        ),
    ];
    for (args, env, needle) in cases {
        let run = deckhand_with(&fake, args, env);
        run.assert_exit(2, "invalid-input");
        assert_stderr(&run, needle);
        assert_stderr(&run, "hint:");
    }
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
}

#[test]
fn dry_run_checks_the_inputs_and_sends_nothing() {
    let fake = FakeGithub::start();
    let run = dispatch(
        &fake,
        &[
            "--workflow",
            "deploy.yml",
            "--ref",
            "main",
            "--input",
            "environment=staging",
            "--wait",
            "--dry-run",
        ],
    );
    run.assert_exit(0, "dry-run");
    assert_stderr(
        &run,
        "would dispatch workflow `deploy.yml` on `main` in octo-org/octo-repo with environment=staging",
    );
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
}

#[test]
fn inputs_come_from_the_environment_one_per_line() {
    let fake = FakeGithub::start();
    let run = deckhand_with(
        &fake,
        &["dispatch"],
        &[
            ("DECKHAND_REPO", REPO),
            ("DECKHAND_WORKFLOW", "deploy.yml"),
            ("DECKHAND_REF", "main"),
            ("DECKHAND_INPUT", "environment=staging\noutcome=success\n"),
            ("DECKHAND_WAIT", "true"),
            ("DECKHAND_POLL_INTERVAL", "100ms"),
        ],
    );
    run.assert_exit(0, "succeeded");
    assert_eq!(
        fake.matching("POST", DISPATCHES)[0].body["inputs"],
        json!({"environment": "staging", "outcome": "success"})
    );
}

#[test]
fn repository_dispatch_sends_the_event_and_follows_its_run() {
    let fake = FakeGithub::start();
    let run = dispatch(
        &fake,
        &[
            "--event-type",
            "deploy-web",
            "--input",
            "environment=staging",
            "--wait",
        ],
    );
    run.assert_exit(0, "succeeded");
    let posts = fake.matching("POST", &format!("/repos/{REPO}/dispatches"));
    assert_eq!(posts.len(), 1);
    assert_eq!(
        posts[0].body,
        json!({"event_type": "deploy-web", "client_payload": {"environment": "staging"}})
    );
    let lists = fake.matching("GET", &format!("/repos/{REPO}/actions/runs"));
    assert_eq!(
        lists[0].query.get("event").map(String::as_str),
        Some("repository_dispatch")
    );
    assert_eq!(run.json["run_id"], fake.run_ids()[0]);
}

// ---------------------------------------------------------------------------------------------
// ecs deploy: GitHub deployment records

const IMAGE_V1: &str = "registry.local/shop/web:v1";
const IMAGE_V2: &str = "registry.local/shop/web:v2";

fn service(name: &str, breaker: Breaker) -> ServiceFixture {
    ServiceFixture::create(
        world(),
        name,
        &[ContainerSpec::new("app", IMAGE_V1)],
        1,
        breaker,
    )
}

/// deckhand in a GitHub Actions job: the world's AWS, the fake's GitHub.
fn in_job(w: &World, fake: &FakeGithub, args: &[&str], env: &[(&str, &str)]) -> Run {
    let job = [
        ("GITHUB_REPOSITORY", REPO),
        ("GITHUB_SHA", SHA),
        ("GITHUB_REF", "refs/heads/main"),
        ("GITHUB_SERVER_URL", "https://github.com"),
        ("GITHUB_RUN_ID", "4242"),
    ];
    let env: Vec<(&str, &str)> = job.iter().chain(env).copied().collect();
    run_against_fake(w.command(BIN), fake, args, &env)
}

/// `ecs deploy` in a GitHub Actions job.
fn ecs_deploy(
    w: &World,
    fake: &FakeGithub,
    f: &ServiceFixture,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Run {
    let mut args = vec![
        "ecs",
        "deploy",
        "--cluster",
        &f.cluster,
        "--service",
        &f.service,
        "--poll-interval",
        "200ms",
        "--timeout",
        "60s",
    ];
    args.extend_from_slice(extra);
    in_job(w, fake, &args, env)
}

fn states(statuses: &[Value]) -> Vec<&str> {
    statuses
        .iter()
        .map(|s| s["state"].as_str().unwrap())
        .collect()
}

#[test]
fn a_green_deploy_records_a_deployment_in_progress_then_success() {
    let w = world();
    let fake = FakeGithub::start();
    let f = service("gh-green", Breaker::WithRollback);
    let run = ecs_deploy(
        w,
        &fake,
        &f,
        &[
            "--image",
            &format!("app={IMAGE_V2}"),
            "--environment",
            "staging",
            "--environment-url",
            "https://staging.example.com",
        ],
        &[],
    );
    run.assert_exit(0, "succeeded");
    assert_authenticated(&fake);

    let posts = fake.matching("POST", "/deployments");
    assert_eq!(posts.len(), 1);
    let body = &posts[0].body;
    assert_eq!(body["ref"], SHA);
    assert_eq!(body["environment"], "staging");
    assert_eq!(body["auto_merge"], false);
    assert_eq!(body["required_contexts"], json!([]));
    assert_eq!(body["transient_environment"], false);
    assert_eq!(body["production_environment"], false);
    assert_eq!(body["task"], "deploy");
    assert_eq!(body["payload"]["deckhand"]["service"], "gh-green");
    assert_eq!(
        body["description"],
        "deckhand ecs deploy: service `gh-green` in cluster `gh-green`"
    );

    let deployments = fake.deployments();
    assert_eq!(deployments.len(), 1);
    let (id, environment, statuses) = &deployments[0];
    assert_eq!(environment, "staging");
    assert_eq!(states(statuses), vec!["in_progress", "success"]);
    for s in statuses {
        assert_eq!(
            s["log_url"],
            format!("https://github.com/{REPO}/actions/runs/4242")
        );
        assert_eq!(s["environment_url"], "https://staging.example.com");
    }
    let last = statuses[1]["description"].as_str().unwrap();
    assert!(last.starts_with("succeeded: deployment "), "{last}");
    assert!(last.chars().count() <= 140);

    assert_eq!(run.json["github_deployment"]["id"], *id);
    assert_eq!(run.json["github_deployment"]["state"], "success");
    assert_eq!(run.json["github_deployment"]["environment"], "staging");
    // The deploy's own result is all there.
    assert!(
        run.json["task_definition_arn"]
            .as_str()
            .unwrap()
            .ends_with("gh-green:2")
    );
    assert_stderr(
        &run,
        &format!("github deployment {id} to `staging`: success"),
    );
}

#[test]
fn a_rolled_back_deploy_is_a_failure_record_and_keeps_exit_3() {
    let w = world();
    let fake = FakeGithub::start();
    let f = service("gh-rollback", Breaker::WithRollback);
    let dir = tempfile::tempdir().unwrap();
    let (outputs, summary) = (dir.path().join("output"), dir.path().join("summary"));
    let run = ecs_deploy(
        w,
        &fake,
        &f,
        &["--image", "app=registry.local/shop/web:fault-exit"],
        &[
            ("GITHUB_OUTPUT", outputs.to_str().unwrap()),
            ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
        ],
    );
    run.assert_exit(3, "rolled-back");
    let deployments = fake.deployments();
    let (_, environment, statuses) = &deployments[0];
    // Default environment: CLUSTER-SERVICE.
    assert_eq!(environment, "gh-rollback-gh-rollback");
    assert_eq!(states(statuses), vec!["in_progress", "failure"]);
    assert!(
        statuses[1]["description"]
            .as_str()
            .unwrap()
            .starts_with("rolled-back: "),
        "{}",
        statuses[1]
    );
    assert_eq!(run.json["github_deployment"]["state"], "failure");
    // The deploy's outputs and summary were still published, once.
    let out = std::fs::read_to_string(&outputs).unwrap();
    assert_eq!(out.matches("verdict=rolled-back\n").count(), 1, "{out}");
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.contains("GitHub deployment `"), "{md}");
    assert!(md.contains("**failure**"), "{md}");
}

#[test]
fn a_502_on_create_deployment_is_not_retried_and_the_deploy_goes_on() {
    let w = world();
    let fake = FakeGithub::start();
    fake.fail(
        "POST",
        &format!("/repos/{REPO}/deployments"),
        5,
        502,
        &[],
        json!({"message": "Server Error"}),
    );
    let f = service("gh-502", Breaker::WithRollback);
    let run = ecs_deploy(w, &fake, &f, &["--image", &format!("app={IMAGE_V2}")], &[]);
    run.assert_exit(0, "succeeded");
    assert_eq!(
        fake.matching("POST", "/deployments").len(),
        1,
        "exactly one POST /deployments"
    );
    assert!(fake.matching("POST", "/statuses").is_empty());
    assert_stderr(&run, "warning: GitHub deployment record: GitHub failed");
    assert_stderr(&run, "the deploy goes on");
    assert!(run.json.get("github_deployment").is_none());
}

#[test]
fn a_failed_status_update_does_not_change_the_verdict() {
    let w = world();
    let fake = FakeGithub::start();
    let f = service("gh-status", Breaker::WithRollback);
    // The in_progress status is refused; the final one goes through.
    fake.fail(
        "POST",
        "/statuses",
        1,
        403,
        &[],
        json!({"message": "Resource not accessible by integration"}),
    );
    let run = ecs_deploy(w, &fake, &f, &["--image", &format!("app={IMAGE_V2}")], &[]);
    run.assert_exit(0, "succeeded");
    assert_stderr(&run, "it needs `deployments: write`");
    let (_, _, statuses) = &fake.deployments()[0];
    assert_eq!(states(statuses), vec!["success"]);
}

#[test]
fn no_record_when_turned_off_for_a_dry_run_or_for_bad_input() {
    let w = world();
    let fake = FakeGithub::start();
    let f = service("gh-off", Breaker::WithRollback);
    let image = format!("app={IMAGE_V2}");
    let off = ecs_deploy(
        w,
        &fake,
        &f,
        &["--image", &image, "--github-deployment=false"],
        &[],
    );
    off.assert_exit(0, "succeeded");
    let dry = ecs_deploy(
        w,
        &fake,
        &f,
        &["--image", "app=registry.local/shop/web:v3", "--dry-run"],
        &[],
    );
    dry.assert_exit(0, "dry-run");
    let bad = ecs_deploy(w, &fake, &f, &["--image", "app=Not An Image"], &[]);
    bad.assert_exit(2, "invalid-input");
    let env_off = ecs_deploy(
        w,
        &fake,
        &f,
        &["--image", "app=registry.local/shop/web:v4"],
        &[("DECKHAND_GITHUB_DEPLOYMENT", "false")],
    );
    env_off.assert_exit(0, "succeeded");
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
}

#[test]
fn without_a_token_no_record_is_attempted() {
    let w = world();
    let fake = FakeGithub::start();
    let f = service("gh-notoken", Breaker::WithRollback);
    let run = ecs_deploy(
        w,
        &fake,
        &f,
        &["--image", &format!("app={IMAGE_V2}")],
        &[("GITHUB_TOKEN", "")],
    );
    run.assert_exit(0, "succeeded");
    assert!(fake.requests().is_empty());
    assert!(!run.stderr.contains("GitHub deployment"), "{}", run.stderr);
    assert!(run.json.get("github_deployment").is_none());
}

#[test]
fn a_site_deploy_records_a_deployment_named_after_its_bucket() {
    let w = world();
    let fake = FakeGithub::start();
    let site = SiteFixture::create(w, "gh-site", None);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "<h1>v1</h1>").unwrap();
    let dir_arg = dir.path().display().to_string();
    let deploy = |extra: &[&str]| {
        let mut args = vec!["site", "deploy", "--bucket", "gh-site", "--dir", &dir_arg];
        args.extend_from_slice(extra);
        in_job(w, &fake, &args, &[])
    };
    let run = deploy(&["--environment-url", "https://www.example.com"]);
    run.assert_exit(0, "succeeded");
    assert!(site.keys(w).contains(&"index.html".to_string()));
    let posts = fake.matching("POST", "/deployments");
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].body["ref"], SHA);
    assert_eq!(
        posts[0].body["payload"]["deckhand"]["command"],
        "site deploy"
    );
    assert_eq!(posts[0].body["payload"]["deckhand"]["bucket"], "gh-site");
    let deployments = fake.deployments();
    let (id, environment, statuses) = &deployments[0];
    assert_eq!(environment, "gh-site", "default environment: the bucket");
    assert_eq!(states(statuses), vec!["in_progress", "success"]);
    assert_eq!(statuses[1]["environment_url"], "https://www.example.com");
    assert_eq!(run.json["github_deployment"]["id"], *id);
    assert_eq!(run.json["github_deployment"]["state"], "success");
    assert_eq!(run.json["uploaded"], 1, "{}", run.stdout);

    // A dry run and bad input change nothing, in AWS or on GitHub.
    let keys = site.keys(w);
    deploy(&["--dry-run"]).assert_exit(0, "dry-run");
    deploy(&["--max-delete", "lots"]).assert_exit(2, "invalid-input");
    assert_eq!(fake.deployments().len(), 1);
    assert_eq!(site.keys(w), keys);

    // A re-run with nothing to upload is still a deploy: recorded as a success.
    let again = deploy(&["--environment", "www"]);
    again.assert_exit(0, "no-change");
    let deployments = fake.deployments();
    assert_eq!(deployments.len(), 2);
    assert_eq!(deployments[1].1, "www");
    assert_eq!(states(&deployments[1].2), vec!["in_progress", "success"]);
    let last = deployments[1].2[1]["description"].as_str().unwrap();
    assert!(last.starts_with("no-change: "), "{last}");
}

#[test]
fn a_rollback_is_recorded_to_the_services_environment() {
    let w = world();
    let fake = FakeGithub::start();
    let f = service("gh-back", Breaker::WithRollback);
    let image = format!("app={IMAGE_V2}");
    ecs_deploy(
        w,
        &fake,
        &f,
        &["--image", &image, "--github-deployment=false"],
        &[],
    )
    .assert_exit(0, "succeeded");
    assert!(fake.requests().is_empty());
    let run = in_job(
        w,
        &fake,
        &[
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
        ],
        &[],
    );
    run.assert_exit(0, "succeeded");
    assert!(f.primary_task_definition(w).ends_with("gh-back:1"));
    let posts = fake.matching("POST", "/deployments");
    assert_eq!(posts.len(), 1);
    assert_eq!(
        posts[0].body["payload"]["deckhand"]["command"],
        "ecs rollback"
    );
    assert_eq!(
        posts[0].body["description"],
        "deckhand ecs rollback: service `gh-back` in cluster `gh-back`"
    );
    let deployments = fake.deployments();
    let (_, environment, statuses) = &deployments[0];
    assert_eq!(environment, "gh-back-gh-back", "the deploys' environment");
    assert_eq!(states(statuses), vec!["in_progress", "success"]);
    assert_eq!(run.json["github_deployment"]["state"], "success");
}

#[test]
fn nginx_build_records_the_rollout_of_its_service() {
    let w = world();
    let fake = FakeGithub::start();
    w.aws(&["ecr", "create-repository", "--repository-name", "gh-edge"]);
    let base = format!("{}/library/gh-edge-base:1", w.registry("hub"));
    SyntheticBase::new().push(&base, None);
    let f = ServiceFixture::create(
        w,
        "gh-edge",
        &[ContainerSpec::new("nginx", "nginx:1.22")],
        1,
        Breaker::Off,
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("html")).unwrap();
    std::fs::write(dir.path().join("html/index.html"), "<h1>edge</h1>").unwrap();
    std::fs::write(dir.path().join("default.conf"), "server { listen 80; }\n").unwrap();
    let (html, conf) = (
        dir.path().join("html").display().to_string(),
        dir.path().join("default.conf").display().to_string(),
    );
    let ecr = w.registry("ecr");
    let tag = format!("{ecr}/gh-edge:main");
    let out_dir = tempfile::tempdir().unwrap();
    let outputs = out_dir.path().join("output");
    let outputs_env = outputs.display().to_string();
    let build = |extra: &[&str]| {
        let mut args = vec![
            "nginx",
            "build",
            "--html",
            &html,
            "--conf",
            &conf,
            "--base",
            &base,
            "--tag",
            &tag,
            "--ecr-registry",
            &ecr,
            "--skip-validate",
            // A synthetic base: nothing in it runs.
            "--skip-smoke",
            "--deploy-cluster",
            &f.cluster,
            "--deploy-service",
            &f.service,
            "--poll-interval",
            "200ms",
            "--timeout",
            "60s",
        ];
        args.extend_from_slice(extra);
        in_job(w, &fake, &args, &[("GITHUB_OUTPUT", &outputs_env)])
    };
    let run = build(&["--environment", "edge"]);
    run.assert_exit(0, "succeeded");
    // One set of outputs (the rollout's record wraps a nested deploy), whose `plan` is the
    // push plan, then the rollout's.
    let written = std::fs::read_to_string(&outputs).unwrap();
    assert_eq!(
        written.matches("\nverdict=").count() + usize::from(written.starts_with("verdict=")),
        1,
        "{written}"
    );
    let plan = written
        .split_once("plan<<")
        .map(|(_, p)| p)
        .unwrap_or_default();
    let push = plan.find("push plan for `").expect("the push plan");
    let rollout = plan
        .find("plan for service `gh-edge` in cluster `gh-edge`:")
        .expect("the rollout plan");
    assert!(push < rollout, "{plan}");
    let deployments = fake.deployments();
    assert_eq!(deployments.len(), 1);
    let (id, environment, statuses) = &deployments[0];
    assert_eq!(environment, "edge");
    assert_eq!(states(statuses), vec!["in_progress", "success"]);
    let posts = fake.matching("POST", "/deployments");
    let images = &posts[0].body["payload"]["deckhand"]["images"];
    assert!(
        images[0].as_str().unwrap().contains("/gh-edge@sha256:"),
        "the service is rolled to the digest: {images}"
    );
    assert_eq!(run.json["deploy"]["github_deployment"]["id"], *id);

    // Turned off: no record, the rollout still happens.
    std::fs::write(dir.path().join("html/index.html"), "<h1>edge 2</h1>").unwrap();
    build(&["--github-deployment=false"]).assert_exit(0, "succeeded");
    assert_eq!(fake.deployments().len(), 1);
}

// ---------------------------------------------------------------------------------------------
// pr-comment

const MARKER: &str = "<!-- deckhand:plan -->";

fn pr_comment(fake: &FakeGithub, body: &str, extra: &[&str], env: &[(&str, &str)]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("body.md");
    std::fs::write(&file, body).unwrap();
    let file = file.display().to_string();
    let mut args = vec!["pr-comment", "--body-file", &file];
    if !extra.contains(&"--repo") {
        args.extend(["--repo", REPO]);
    }
    args.extend_from_slice(extra);
    deckhand_with(fake, &args, env)
}

#[test]
fn pr_comment_is_created_once_then_edited_in_place_and_never_someone_elses() {
    let fake = FakeGithub::start();
    // Enough comments for two pages, and one by a person that starts with the marker.
    for i in 0..120 {
        fake.add_comment(42, "octocat", &format!("comment {i}"));
    }
    let spoof = fake.add_comment(42, "mallory", &format!("{MARKER}\nnot deckhand's"));
    let first = pr_comment(&fake, "### plan v1\n", &["--pr", "42"], &[]);
    first.assert_exit(0, "succeeded");
    assert_authenticated(&fake);
    assert_eq!(first.json["action"], "created");
    let posts = fake.matching("POST", "/issues/42/comments");
    assert_eq!(posts.len(), 1);
    assert_eq!(
        posts[0].body,
        json!({"body": format!("{MARKER}\n### plan v1")})
    );
    // Both pages were read before deciding.
    let lists = fake.matching("GET", "/issues/42/comments");
    assert_eq!(lists.len(), 2, "{lists:?}");
    assert_eq!(
        lists[0].query.get("per_page").map(String::as_str),
        Some("100")
    );
    assert_eq!(lists[1].query.get("page").map(String::as_str), Some("2"));
    let id = first.json["comment_id"].as_u64().unwrap();
    assert_eq!(
        first.json["comment_url"],
        format!("https://github.com/{REPO}/pull/42#issuecomment-{id}")
    );

    // A new plan edits the same comment; the spoof is untouched.
    let second = pr_comment(&fake, "### plan v2\n", &["--pr", "42"], &[]);
    second.assert_exit(0, "succeeded");
    assert_eq!(second.json["action"], "updated");
    assert_eq!(second.json["comment_id"], id);
    let patches = || {
        fake.requests()
            .into_iter()
            .filter(|r| r.method == "PATCH")
            .collect::<Vec<_>>()
    };
    let patches_sent = patches();
    assert_eq!(patches_sent.len(), 1);
    assert_eq!(
        patches_sent[0].path,
        format!("/repos/{REPO}/issues/comments/{id}")
    );
    assert_eq!(
        fake.matching("POST", "/issues/42/comments").len(),
        1,
        "no second comment"
    );
    let comments = fake.comments(42);
    let ours: Vec<_> = comments
        .iter()
        .filter(|c| c.2.starts_with(MARKER))
        .collect();
    assert_eq!(ours.len(), 2, "ours and the spoof");
    assert!(
        ours.iter()
            .any(|c| c.0 == spoof && c.2.ends_with("not deckhand's"))
    );
    assert!(
        ours.iter()
            .any(|c| c.0 == id && c.2.ends_with("### plan v2"))
    );

    // The same plan again: nothing is written.
    let third = pr_comment(&fake, "### plan v2", &["--pr", "42"], &[]);
    third.assert_exit(0, "no-change");
    assert_eq!(third.json["action"], "unchanged");
    assert_eq!(patches().len(), 1);
    assert_eq!(fake.matching("POST", "/issues/42/comments").len(), 1);

    // Another marker is another comment.
    let other = pr_comment(&fake, "hello", &["--pr", "42", "--marker", "summary"], &[]);
    other.assert_exit(0, "succeeded");
    assert_eq!(other.json["action"], "created");
}

#[test]
fn pr_comment_finds_the_pull_request_in_the_event_and_writes_its_outputs() {
    let fake = FakeGithub::start();
    let dir = tempfile::tempdir().unwrap();
    let event = dir.path().join("event.json");
    std::fs::write(
        &event,
        json!({"action": "synchronize", "number": 7, "pull_request": {"number": 7, "head": {"sha": SHA}}}).to_string(),
    )
    .unwrap();
    let outputs = dir.path().join("output");
    let run = pr_comment(
        &fake,
        "plan",
        &[],
        &[
            ("GITHUB_EVENT_NAME", "pull_request"),
            ("GITHUB_EVENT_PATH", event.to_str().unwrap()),
            ("GITHUB_OUTPUT", outputs.to_str().unwrap()),
        ],
    );
    run.assert_exit(0, "succeeded");
    assert_eq!(run.json["pr"], 7);
    assert_eq!(fake.comments(7).len(), 1);
    let written = std::fs::read_to_string(&outputs).unwrap();
    for name in deckhand::gha::PR_COMMENT_OUTPUTS {
        assert!(written.contains(&format!("{name}=")), "{name}: {written}");
    }
    assert!(written.contains("action=created\n"), "{written}");
}

#[test]
fn pr_comment_bad_input_is_exit_2_before_any_request() {
    let fake = FakeGithub::start();
    let cases: [(&str, &[&str], &str); 4] = [
        ("plan", &[], "no pull request number"),
        ("  \n", &["--pr", "42"], "is empty"),
        ("plan", &["--pr", "42", "--marker", "a b"], "`--marker a b`"),
        ("plan", &["--pr", "42", "--repo", "not-a-repo"], "`--repo`"),
    ];
    for (body, extra, needle) in cases {
        let run = pr_comment(&fake, body, extra, &[]);
        run.assert_exit(2, "invalid-input");
        assert_stderr(&run, needle);
    }
    let no_token = pr_comment(&fake, "plan", &["--pr", "42"], &[("GITHUB_TOKEN", "")]);
    no_token.assert_exit(2, "invalid-input");
    assert_stderr(&no_token, "no GitHub token");
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
}

#[test]
fn pr_comment_dry_run_only_reads() {
    let fake = FakeGithub::start();
    let run = pr_comment(&fake, "### the plan", &["--pr", "42", "--dry-run"], &[]);
    run.assert_exit(0, "dry-run");
    assert_eq!(run.json["action"], "create");
    assert_stderr(&run, "### the plan");
    assert!(fake.requests().iter().all(|r| r.method == "GET"));
    assert!(fake.comments(42).is_empty());
}

#[test]
fn pr_comment_refusals_name_the_permission_and_a_5xx_post_is_not_retried() {
    let fake = FakeGithub::start();
    fake.fail(
        "POST",
        "/issues/42/comments",
        1,
        403,
        &[],
        json!({"message": "Resource not accessible by integration", "documentation_url": "https://docs.github.com/rest/issues/comments#create-an-issue-comment", "status": "403"}),
    );
    let refused = pr_comment(&fake, "plan", &["--pr", "42"], &[]);
    refused.assert_exit(2, "invalid-input");
    assert_stderr(&refused, "Resource not accessible by integration");
    assert_stderr(&refused, "`pull-requests: write`");

    let unknown = pr_comment(&fake, "plan", &["--pr", "404"], &[]);
    unknown.assert_exit(2, "invalid-input");
    assert_stderr(&unknown, "check `--pr`");

    fake.fail(
        "POST",
        "/issues/42/comments",
        1,
        502,
        &[],
        json!({"message": "Bad Gateway"}),
    );
    let before = fake.matching("POST", "/issues/42/comments").len();
    let gateway = pr_comment(&fake, "plan", &["--pr", "42"], &[]);
    gateway.assert_exit(1, "error");
    assert_eq!(
        fake.matching("POST", "/issues/42/comments").len(),
        before + 1,
        "a POST is sent once: GitHub may have acted on it"
    );
    assert!(fake.comments(42).is_empty());
}
