//! What every command leaves its reader, pinned: one run of each command in a GitHub Actions
//! job against the local world (and the fake GitHub), snapshotted whole: the exit code, the end
//! of the log (error block or verdict line, and the `::error` annotation), `$GITHUB_OUTPUT`,
//! the step summary and the JSON result. Times, ports and generated ids are redacted
//! (`deckhand_testkit::snapshot`); the parts a rollout's timing decides (its polls, events and
//! stopped tasks) are omitted here and pinned from fixtures by the core's snapshots.
//!
//! The scenarios assert the behaviour the other test files assert too; what these add is that
//! no word a user reads changes without showing in review.

use deckhand_testkit::fake_github::{FakeGithub, REPO, SHA, TOKEN};
use deckhand_testkit::images::SyntheticBase;
use deckhand_testkit::snapshot::{InActions, UserView};
use deckhand_testkit::{Breaker, ContainerSpec, ServiceFixture, SiteFixture, World, world};

const BIN: &str = env!("CARGO_BIN_EXE_deckhand");
const IMAGE_V1: &str = "registry.local/shop/web:v1";
const IMAGE_V2: &str = "registry.local/shop/web:v2";

/// What a rollout's polls decide: how many requests, which events, which stopped tasks.
const ROLLOUT_TIMING: &[&str] = &[
    "/api_calls",
    "/events",
    "/stopped_tasks",
    "/rollback/deployment_id",
];

fn in_job(w: &World, args: &[&str]) -> UserView {
    InActions::new(w.command(BIN)).run(args)
}

#[track_caller]
fn assert_exit(view: &UserView, code: i32, verdict: &str) {
    view.run.assert_exit(code, verdict);
}

fn service(name: &str, breaker: Breaker) -> ServiceFixture {
    ServiceFixture::create(
        world(),
        name,
        &[ContainerSpec::new("app", IMAGE_V1)],
        1,
        breaker,
    )
}

fn ecs<'a>(verb: &'a str, f: &'a ServiceFixture, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "ecs",
        verb,
        "--cluster",
        &f.cluster,
        "--service",
        &f.service,
    ];
    if verb != "diff" {
        args.extend(["--poll-interval", "200ms", "--timeout", "60s"]);
    }
    args.extend_from_slice(extra);
    args
}

/// The step summary of a red rollout up to its tables (events and stopped tasks, whose rows
/// depend on timing).
fn summary_head(view: &mut UserView) {
    if let Some(i) = view.summary.find("\n#### ") {
        view.summary.truncate(i + 1);
        view.summary.push_str("[tables omitted]\n");
    }
}

#[test]
fn ecs_diff_deploy_and_rollback() {
    let w = world();
    let f = service("res-web", Breaker::Off);
    let image = format!("app={IMAGE_V2}");

    let diff = in_job(w, &ecs("diff", &f, &["--image", &image]));
    assert_exit(&diff, 0, "dry-run");
    insta::assert_snapshot!("ecs_diff", diff.render(&[]));

    let deploy = in_job(w, &ecs("deploy", &f, &["--image", &image]));
    assert_exit(&deploy, 0, "succeeded");
    insta::assert_snapshot!("ecs_deploy_succeeded", deploy.render(ROLLOUT_TIMING));

    let again = in_job(w, &ecs("deploy", &f, &["--image", &image]));
    assert_exit(&again, 0, "no-change");
    insta::assert_snapshot!("ecs_deploy_no_change", again.render(&[]));

    let back = in_job(w, &ecs("rollback", &f, &[]));
    assert_exit(&back, 0, "succeeded");
    insta::assert_snapshot!("ecs_rollback", back.render(ROLLOUT_TIMING));
}

#[test]
fn ecs_deploy_rolled_back_and_bad_input() {
    let w = world();
    let f = service("res-crash", Breaker::Off);
    let mut crash = in_job(
        w,
        &ecs(
            "deploy",
            &f,
            &["--image", "app=registry.local/shop/web:fault-exit"],
        ),
    );
    assert_exit(&crash, 3, "rolled-back");
    summary_head(&mut crash);
    let mut omit = ROLLOUT_TIMING.to_vec();
    omit.push("failure-report");
    insta::assert_snapshot!("ecs_deploy_rolled_back", crash.render(&omit));

    let bad = in_job(w, &ecs("deploy", &f, &["--image", "=web:v3"]));
    assert_exit(&bad, 2, "invalid-input");
    insta::assert_snapshot!("ecs_deploy_invalid_input", bad.render(&[]));

    let missing = in_job(
        w,
        &[
            "ecs",
            "deploy",
            "--cluster",
            &f.cluster,
            "--service",
            "no-such-service",
            "--image",
            IMAGE_V2,
        ],
    );
    assert_exit(&missing, 2, "invalid-input");
    insta::assert_snapshot!("ecs_deploy_service_not_found", missing.render(&[]));
}

fn write(root: &std::path::Path, key: &str, content: &str) {
    let path = root.join(key);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

#[test]
fn site_deploy_and_its_errors() {
    let w = world();
    let site = SiteFixture::create(w, "res-site", Some("/app"));
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "index.html",
        "<script src=/assets/index-Ab12.js></script>",
    );
    write(dir.path(), "assets/index-Ab12.js", "console.log(1)");
    let dist = dir.path().display().to_string();
    let distribution = site.distribution.clone().unwrap();
    let deploy = |extra: &[&str]| {
        let mut args = vec![
            "site",
            "deploy",
            "--bucket",
            &site.bucket,
            "--prefix",
            "app/",
            "--dir",
            &dist,
            "--distribution-id",
            &distribution,
        ];
        args.extend_from_slice(extra);
        in_job(w, &args)
    };
    let first = deploy(&[]).naming(&distribution, "[distribution]");
    assert_exit(&first, 0, "succeeded");
    insta::assert_snapshot!("site_deploy_first", first.render(&[]));

    write(
        dir.path(),
        "index.html",
        "<script src=/assets/index-Cd34.js></script>",
    );
    write(dir.path(), "assets/index-Cd34.js", "console.log(2)");
    let dry = deploy(&["--dry-run"]).naming(&distribution, "[distribution]");
    assert_exit(&dry, 0, "dry-run");
    insta::assert_snapshot!("site_deploy_dry_run", dry.render(&[]));

    let changed = deploy(&[]);
    assert_exit(&changed, 0, "succeeded");
    let invalidation = changed.run.json["invalidations"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let changed = changed
        .naming(&distribution, "[distribution]")
        .naming(&invalidation, "[invalidation]");
    insta::assert_snapshot!("site_deploy_changed", changed.render(&[]));

    let missing = in_job(
        w,
        &[
            "site",
            "deploy",
            "--bucket",
            "res-no-such-bucket",
            "--dir",
            &dist,
        ],
    );
    assert_exit(&missing, 2, "invalid-input");
    insta::assert_snapshot!("site_deploy_no_bucket", missing.render(&[]));
}

#[test]
fn image_and_nginx_builds() {
    let w = world();
    let hub = w.registry("hub");
    let ecr = w.registry("ecr");
    let base = format!("{hub}/library/res-base:1");
    SyntheticBase::new().push(&base, None);
    w.aws(&["ecr", "create-repository", "--repository-name", "res-front"]);
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "html/index.html", "<h1>front</h1>");
    write(dir.path(), "default.conf", "server { listen 80; }\n");
    let html = dir.path().join("html").display().to_string();
    let conf = dir.path().join("default.conf").display().to_string();
    let add = format!("{html}:/usr/share/nginx/html/");

    let tag = format!("{ecr}/res-front:image");
    let image_args = [
        "image",
        "build",
        "--base",
        &base,
        "--add",
        &add,
        "--tag",
        &tag,
        "--ecr-registry",
        &ecr,
    ];
    let image = in_job(w, &image_args);
    assert_exit(&image, 0, "succeeded");
    insta::assert_snapshot!("image_build_pushed", image.render(&[]));

    let missing_base = format!("{hub}/library/res-no-such-base:1");
    let mut args = image_args.to_vec();
    args[3] = &missing_base;
    let no_base = in_job(w, &args);
    assert_exit(&no_base, 2, "invalid-input");
    insta::assert_snapshot!("image_build_no_base", no_base.render(&[]));

    let f = ServiceFixture::create(
        w,
        "res-front",
        &[ContainerSpec::new("nginx", "nginx:1.22")],
        1,
        Breaker::Off,
    );
    let nginx_tag = format!("{ecr}/res-front:nginx");
    let nginx = in_job(
        w,
        &[
            "nginx",
            "build",
            "--html",
            &html,
            "--conf",
            &conf,
            "--base",
            &base,
            "--tag",
            &nginx_tag,
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
        ],
    );
    assert_exit(&nginx, 0, "succeeded");
    insta::assert_snapshot!(
        "nginx_build_deployed",
        nginx.render(&[
            "/api_calls",
            "/deploy/api_calls",
            "/deploy/events",
            "/deploy/stopped_tasks"
        ])
    );
}

#[test]
fn ecr_login() {
    let w = world();
    let login = in_job(w, &["ecr", "login"]);
    assert_exit(&login, 0, "succeeded");
    insta::assert_snapshot!("ecr_login", login.render(&[]));
}

#[test]
fn changes_from_a_list() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "filters.yml",
        "backend:\n  - 'app/**'\nfrontend:\n  - 'web/**'\nnginx:\n  - 'nginx/**'\n",
    );
    write(
        dir.path(),
        "changed.txt",
        "M\tapp/main.py\nA\tnginx/default.conf\nD\tdocs/old.md\n",
    );
    let run = |args: &[&str]| {
        let mut cmd = world().command(BIN);
        cmd.current_dir(dir.path());
        InActions::new(cmd).run(args)
    };
    let found = run(&[
        "changes",
        "--filters",
        "filters.yml",
        "--files-from",
        "changed.txt",
    ]);
    assert_exit(&found, 0, "succeeded");
    insta::assert_snapshot!("changes_from_a_list", found.render(&[]));

    let bad = run(&[
        "changes",
        "--filters",
        "no-such.yml",
        "--files-from",
        "changed.txt",
    ]);
    assert_exit(&bad, 2, "invalid-input");
    insta::assert_snapshot!("changes_no_filters_file", bad.render(&[]));
}

/// deckhand in a job of [`REPO`], talking to the fake GitHub.
fn github_job(fake: &FakeGithub, args: &[&str]) -> UserView {
    let mut cmd = world().command(BIN);
    cmd.env("GITHUB_API_URL", &fake.url)
        .env("GITHUB_TOKEN", TOKEN)
        .env("GITHUB_REPOSITORY", REPO)
        .env("GITHUB_SHA", SHA);
    let view = InActions::new(cmd).run(args);
    assert!(
        !view.run.stderr.contains(TOKEN) && !view.run.stdout.contains(TOKEN),
        "the token was printed"
    );
    view
}

#[test]
fn dispatch_followed_to_success_and_to_failure() {
    let fake = FakeGithub::start();
    let dispatch = |outcome: &str| {
        let input = format!("outcome={outcome}");
        github_job(
            &fake,
            &[
                "dispatch",
                "--workflow",
                "deploy.yml",
                "--ref",
                "main",
                "--input",
                "environment=staging",
                "--input",
                &input,
                "--input",
                "api_token=hunter2",
                "--wait",
                "--poll-interval",
                "100ms",
            ],
        )
    };
    let green = dispatch("success");
    assert_exit(&green, 0, "succeeded");
    insta::assert_snapshot!("dispatch_succeeded", green.render(&[]));
    let red = dispatch("failure");
    assert_exit(&red, 1, "failed");
    insta::assert_snapshot!("dispatch_failed", red.render(&[]));
}

#[test]
fn pr_comment_created() {
    let fake = FakeGithub::start();
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "body.md", "### plan\n\nnothing to change\n");
    let body = dir.path().join("body.md").display().to_string();
    let created = github_job(&fake, &["pr-comment", "--body-file", &body, "--pr", "42"]);
    assert_exit(&created, 0, "succeeded");
    insta::assert_snapshot!("pr_comment_created", created.render(&[]));
    let unchanged = github_job(&fake, &["pr-comment", "--body-file", &body, "--pr", "42"]);
    assert_exit(&unchanged, 0, "no-change");
    insta::assert_snapshot!("pr_comment_unchanged", unchanged.render(&[]));
}
