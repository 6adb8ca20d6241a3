//! The Dockerfile build of actions/ecs-deploy, against the local world: `deckhand ecr prepare`
//! (the repository's URI, created on request; whether the first tag already names an immutable
//! image to deploy instead of building), then the action's own `prep` and `deploy` step
//! scripts, executed with the deckhand under test as their `deckhand-path`.
//!
//! docker/build-push-action itself cannot run here (no Docker engine): the tests check the
//! outputs of `prep` that feed it, and `action_contract.rs` checks that the login, buildx and
//! build steps run only when `prep` says `build=true`. Images are put into moto's ECR with
//! `aws ecr put-image`, which DescribeImages then reports, as ECR does after a push.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use deckhand_testkit::action_step::{ActionStep, parse_outputs};
use deckhand_testkit::{Breaker, ContainerSpec, Run, ServiceFixture, World, world};

const BIN: &str = env!("CARGO_BIN_EXE_deckhand");
const ECR: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";

/// `deckhand --output json ecr prepare ARGS` with `$GITHUB_OUTPUT`; the run and its outputs.
fn prepare(w: &World, args: &[&str]) -> (Run, BTreeMap<String, String>) {
    let dir = tempfile::tempdir().unwrap();
    let outputs = dir.path().join("output");
    let out = w
        .command(BIN)
        .args(["--output", "json", "ecr", "prepare"])
        .args(args)
        .env("GITHUB_OUTPUT", &outputs)
        .output()
        .expect("run deckhand");
    let written = std::fs::read_to_string(&outputs).unwrap_or_default();
    (Run::from_output(&out), parse_outputs(&written))
}

/// Puts a small image under `tag` in moto's ECR (`config` makes its digest differ); its digest.
fn put_image(w: &World, repository: &str, tag: &str, config: &str) -> String {
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:{config:0>64}","size":2}},"layers":[]}}"#
    );
    w.aws(&[
        "ecr",
        "put-image",
        "--repository-name",
        repository,
        "--image-tag",
        tag,
        "--image-manifest",
        &manifest,
    ])["image"]["imageId"]["imageDigest"]
        .as_str()
        .expect("put-image digest")
        .to_string()
}

fn create_repository(w: &World, name: &str, mutability: &str) {
    w.aws(&[
        "ecr",
        "create-repository",
        "--repository-name",
        name,
        "--image-tag-mutability",
        mutability,
    ]);
}

/// The repository as awscli sees it, or None.
fn describe_repository(w: &World, name: &str) -> Option<serde_json::Value> {
    w.try_aws(&["ecr", "describe-repositories", "--repository-names", name])
        .ok()
        .map(|v| v["repositories"][0].clone())
}

#[test]
fn a_missing_repository_is_bad_input_and_nothing_is_created() {
    let w = world();
    let (run, outputs) = prepare(w, &["--repository", "prep-missing", "--tag", "abc123"]);
    run.assert_exit(2, "invalid-input");
    assert_eq!(
        run.json["error"]["message"],
        "ECR repository `prep-missing` does not exist"
    );
    assert!(
        run.json["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("`--create`"),
        "{}",
        run.json
    );
    assert!(run.stderr.contains("hint:"), "{}", run.stderr);
    assert_eq!(outputs["verdict"], "invalid-input");
    assert_eq!(outputs["exists"], "");
    assert_eq!(run.api_calls("ECR.CreateRepository"), 0);
    assert_eq!(describe_repository(w, "prep-missing"), None);

    // A dry run with `--create` says what it would create, with the URI, and creates nothing.
    let (run, outputs) = prepare(
        w,
        &[
            "--repository",
            "prep-missing",
            "--tag",
            "abc123",
            "--create",
            "--dry-run",
        ],
    );
    run.assert_exit(0, "dry-run");
    assert_eq!(run.json["would_create"], true);
    assert_eq!(outputs["repository"], format!("{ECR}/prep-missing"));
    assert_eq!(outputs["exists"], "false");
    assert_eq!(outputs["created"], "false");
    assert_eq!(run.api_calls("ECR.CreateRepository"), 0);
    assert_eq!(describe_repository(w, "prep-missing"), None);
}

#[test]
fn bad_flags_are_bad_input_before_any_request() {
    let w = world();
    for (args, needle) in [
        (
            &["--repository", "ghcr.io/team/web", "--tag", "v1"][..],
            "is not an ECR registry",
        ),
        (
            &["--repository", "web:v1", "--tag", "v1"][..],
            "names an image",
        ),
        (
            &["--repository", "web", "--tag", "web:v1"][..],
            "give the tag alone",
        ),
        (&["--repository", "web", "--tag", ""][..], "no tag given"),
        (
            &[
                "--repository",
                "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web",
                "--tag",
                "v1",
                "--region",
                "us-east-1",
            ][..],
            "is in eu-west-1, but `--region` is us-east-1",
        ),
    ] {
        let (run, _) = prepare(w, args);
        run.assert_exit(2, "invalid-input");
        let message = run.json["error"]["message"].as_str().unwrap();
        assert!(message.contains(needle), "{args:?}: {message}");
        assert_eq!(run.json["api_calls"]["total"], 0, "{args:?}");
    }
}

#[test]
fn create_makes_the_repository_with_the_mutability_asked() {
    let w = world();
    let (run, outputs) = prepare(
        w,
        &[
            "--repository",
            "prep-create",
            "--tag",
            "abc123",
            "--tag",
            "stable",
            "--create",
            "--tag-mutability",
            "immutable",
        ],
    );
    run.assert_exit(0, "succeeded");
    let repo = describe_repository(w, "prep-create").expect("created");
    assert_eq!(repo["imageTagMutability"], "IMMUTABLE");
    let uri = repo["repositoryUri"].as_str().unwrap();
    assert_eq!(outputs["repository"], uri);
    assert_eq!(outputs["registry"], ECR);
    assert_eq!(outputs["created"], "true");
    assert_eq!(outputs["exists"], "false");
    assert_eq!(outputs["reuse"], "false");
    assert_eq!(outputs["digest"], "");
    assert_eq!(outputs["tags"], format!("{uri}:abc123\n{uri}:stable"));
    assert_eq!(run.api_calls("ECR.CreateRepository"), 1);

    // Again: it exists now, nothing is created.
    let (again, outputs) = prepare(
        w,
        &["--repository", "prep-create", "--tag", "abc123", "--create"],
    );
    again.assert_exit(0, "succeeded");
    assert_eq!(outputs["created"], "false");
    assert_eq!(again.api_calls("ECR.CreateRepository"), 0);
}

/// The heart of the IMMUTABLE re-run: the first tag exists and cannot have moved, so its digest
/// is reused; an absent tag is built; an existing mutable tag is built again (it may have
/// moved); a later tag that exists and is immutable would make the push fail: bad input first.
#[test]
fn an_existing_immutable_first_tag_is_reused_and_others_are_built() {
    let w = world();
    create_repository(w, "prep-immutable", "IMMUTABLE");
    let digest = put_image(w, "prep-immutable", "c0ffee", "1");
    let uri = format!("{ECR}/prep-immutable");

    let (run, outputs) = prepare(w, &["--repository", &uri, "--tag", "c0ffee\nrelease-9"]);
    run.assert_exit(0, "succeeded");
    assert_eq!(outputs["exists"], "true");
    assert_eq!(outputs["reuse"], "true");
    assert_eq!(outputs["digest"], digest);
    assert_eq!(outputs["image"], format!("{uri}@{digest}"));
    assert_eq!(run.json["tags"][0]["immutable"], true);
    assert_eq!(run.json["tags"][1]["digest"], serde_json::Value::Null);
    // The second tag is not pushed when the build is skipped: said, not hidden.
    assert!(
        run.stderr.contains("warning: tag `release-9` is not in"),
        "{}",
        run.stderr
    );
    assert_eq!(run.api_calls("ECR.DescribeImages"), 2);

    let (run, outputs) = prepare(w, &["--repository", "prep-immutable", "--tag", "d00d"]);
    run.assert_exit(0, "succeeded");
    assert_eq!(outputs["exists"], "false");
    assert_eq!(outputs["reuse"], "false");
    assert_eq!(outputs["digest"], "");
    assert_eq!(outputs["image"], "");

    let (run, _) = prepare(
        w,
        &[
            "--repository",
            "prep-immutable",
            "--tag",
            "d00d",
            "--tag",
            "c0ffee",
        ],
    );
    run.assert_exit(2, "invalid-input");
    assert!(
        run.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("tag `c0ffee` already exists"),
        "{}",
        run.json
    );

    create_repository(w, "prep-mutable", "MUTABLE");
    let moved = put_image(w, "prep-mutable", "latest", "2");
    let (run, outputs) = prepare(w, &["--repository", "prep-mutable", "--tag", "latest"]);
    run.assert_exit(0, "succeeded");
    assert_eq!(outputs["exists"], "true");
    assert_eq!(outputs["reuse"], "false");
    assert_eq!(outputs["digest"], moved);
}

/// The runner's files for one action step.
struct Runner {
    dir: tempfile::TempDir,
}

impl Runner {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn outputs_path(&self, step: &str) -> PathBuf {
        self.dir.path().join(format!("output-{step}"))
    }

    /// Runs `step` of actions/ecs-deploy with `inputs` (and `earlier` steps' outputs); its run
    /// and the outputs it wrote.
    fn run(
        &self,
        w: &World,
        step: &str,
        inputs: &[(&str, &str)],
        earlier: &[(&str, &BTreeMap<String, String>)],
    ) -> (Run, BTreeMap<String, String>) {
        let actions = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../actions");
        let mut action = ActionStep::load(&actions.join("ecs-deploy"), step);
        for (id, outputs) in earlier {
            action = action.with_step_outputs(id, outputs);
        }
        let mut cmd = action.command(inputs, BIN, self.dir.path());
        w.clean(&mut cmd);
        let outputs = self.outputs_path(step);
        cmd.env("DECKHAND_OUTPUT", "json")
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_OUTPUT", &outputs)
            .env("GITHUB_STEP_SUMMARY", self.dir.path().join("summary"))
            .env("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
            .env("RUNNER_TEMP", self.dir.path());
        let run = Run::from_output(&cmd.output().unwrap());
        let written = std::fs::read_to_string(&outputs).unwrap_or_default();
        (run, parse_outputs(&written))
    }
}

/// A re-run of a commit whose image is already in an IMMUTABLE repository: `prep` finds the
/// tag, says the build is skipped (so build-push-action never tries to push over the tag, which
/// ECR refuses), and `deploy` rolls the service to that digest, green.
#[test]
fn the_action_skips_the_build_for_an_existing_immutable_tag_and_deploys_its_digest() {
    let w = world();
    let f = ServiceFixture::create(
        w,
        "action-build-reuse",
        &[ContainerSpec::new("app", "registry.local/shop/web:v1")],
        1,
        Breaker::Off,
    );
    create_repository(w, "action-build-reuse", "IMMUTABLE");
    let sha = "0123456789abcdef0123456789abcdef01234567";
    let digest = put_image(w, "action-build-reuse", sha, "3");
    let uri = format!("{ECR}/action-build-reuse");

    let runner = Runner::new();
    let context = runner.dir.path().join("backend");
    std::fs::create_dir_all(&context).unwrap();
    std::fs::write(context.join("Dockerfile"), "FROM scratch\n").unwrap();
    let context = context.to_string_lossy().into_owned();
    let (prep_run, prep) = runner.run(
        w,
        "prep",
        &[
            ("build-context", &context),
            ("build-repository", "action-build-reuse"),
            ("build-cache", "false"),
        ],
        &[],
    );
    assert_eq!(prep_run.code, 0, "{}\n{}", prep_run.stderr, prep_run.stdout);
    assert_eq!(prep["enabled"], "true");
    assert_eq!(prep["build"], "false", "{prep:?}");
    assert_eq!(prep["reuse"], "true");
    assert_eq!(prep["repository"], uri);
    assert_eq!(prep["digest"], digest);
    assert_eq!(prep["tags"], format!("{uri}:{sha}"));
    assert_eq!(
        prep_run.json["api_calls"]["by_operation"]["ECR.CreateRepository"],
        serde_json::Value::Null
    );

    // The build step was skipped: the steps context has no outputs of it.
    let (run, deploy) = runner.run(
        w,
        "deploy",
        &[
            ("cluster", &f.cluster),
            ("service", &f.service),
            ("container-name", "app"),
            ("poll-interval", "200ms"),
            ("timeout", "60s"),
        ],
        &[("prep", &prep)],
    );
    run.assert_exit(0, "succeeded");
    let image = format!("{uri}@{digest}");
    assert_eq!(deploy["image"], image);
    assert_eq!(deploy["digest"], digest);
    assert_eq!(deploy["verdict"], "succeeded");
    let running = f.primary_task_definition(w);
    assert_eq!(
        f.task_definition(w, &running)["taskDefinition"]["containerDefinitions"][0]["image"],
        image.as_str()
    );
}

/// A new commit: the tag is absent, so `prep` says build, with the `REPOSITORY:TAG` lines and
/// the registry cache refs build-push-action takes; with `build-create-repository` the
/// repository is made first. The deploy step then takes the build's digest, not prep's.
#[test]
fn the_action_builds_when_the_tag_is_absent_and_deploys_the_built_digest() {
    let w = world();
    let runner = Runner::new();
    let context = runner.dir.path().join("backend");
    std::fs::create_dir_all(&context).unwrap();
    let context = context.to_string_lossy().into_owned();
    let uri = format!("{ECR}/action-build-new");

    // Missing, and not to be created: exit 2 before any build, nothing created.
    let (run, prep) = runner.run(
        w,
        "prep",
        &[
            ("build-context", &context),
            ("build-repository", "action-build-new"),
            ("build-tags", "v7\nlatest"),
        ],
        &[],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(prep["verdict"], "invalid-input");
    assert!(!prep.contains_key("build"), "{prep:?}");
    assert_eq!(describe_repository(w, "action-build-new"), None);

    std::fs::write(runner.outputs_path("prep"), "").unwrap();
    let (run, prep) = runner.run(
        w,
        "prep",
        &[
            ("build-context", &context),
            ("build-repository", "action-build-new"),
            ("build-tags", "v7\nlatest"),
            ("build-create-repository", "true"),
        ],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        describe_repository(w, "action-build-new").unwrap()["imageTagMutability"],
        "MUTABLE"
    );
    assert_eq!(prep["build"], "true");
    assert_eq!(prep["exists"], "false");
    assert_eq!(prep["push"], "true");
    assert_eq!(prep["registry"], ECR);
    assert_eq!(prep["tags"], format!("{uri}:v7\n{uri}:latest"));
    assert_eq!(prep["dockerfile"], format!("{context}/Dockerfile"));
    assert_eq!(
        prep["cache-from"],
        format!("type=registry,ref={uri}:buildcache")
    );
    assert_eq!(
        prep["cache-to"],
        format!(
            "type=registry,ref={uri}:buildcache,mode=max,image-manifest=true,oci-mediatypes=true"
        )
    );

    // What build-push-action hands on (it cannot run here): its digest is the one deployed.
    let f = ServiceFixture::create(
        w,
        "action-build-new",
        &[ContainerSpec::new("app", "registry.local/shop/web:v1")],
        1,
        Breaker::Off,
    );
    let built = format!("sha256:{}", "b".repeat(64));
    let build = BTreeMap::from([("digest".to_string(), built.clone())]);
    let service = [
        ("cluster", f.cluster.as_str()),
        ("service", f.service.as_str()),
        ("poll-interval", "200ms"),
        ("timeout", "60s"),
    ];
    let (run, deploy) = runner.run(w, "deploy", &service, &[("prep", &prep), ("build", &build)]);
    run.assert_exit(0, "succeeded");
    let image = format!("{uri}@{built}");
    assert_eq!(deploy["image"], image);
    assert_eq!(deploy["digest"], built);
    let running = f.primary_task_definition(w);
    assert_eq!(
        f.task_definition(w, &running)["taskDefinition"]["containerDefinitions"][0]["image"],
        image.as_str()
    );

    // A built image and `image` both: bad input, named, nothing registered.
    std::fs::write(runner.outputs_path("deploy"), "").unwrap();
    let mut both = service.to_vec();
    both.push(("image", "registry.local/shop/web:v2"));
    let (run, deploy) = runner.run(w, "deploy", &both, &[("prep", &prep), ("build", &build)]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        deploy["failure-report"].contains("inputs image and build-context are both set"),
        "{deploy:?}"
    );
    assert_eq!(f.primary_task_definition(w), running);

    // A build that ran but named no digest is an error, never a deploy of something else.
    std::fs::write(runner.outputs_path("deploy"), "").unwrap();
    let (run, deploy) = runner.run(w, "deploy", &service, &[("prep", &prep)]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout.contains("the build step gave no digest"),
        "{}",
        run.stdout
    );
    assert!(!deploy.contains_key("image"));
    assert_eq!(f.primary_task_definition(w), running);
}
