//! Registry credentials as docker has them: `deckhand image build` against throwaway CNCF
//! registries behind htpasswd Basic auth, with the credentials coming only from a real
//! credential helper program (a script written for the test, first on PATH) that docker's
//! config.json names in `credHelpers` or `credsStore`. Results are checked with skopeo.
//! No AWS: none of these registries is ECR.

use std::path::PathBuf;
use std::process::Command;

use deckhand_testkit::Run;
use deckhand_testkit::images::{ScratchRegistry, SyntheticBase, skopeo_digest};

const BIN: &str = env!("CARGO_BIN_EXE_deckhand");
const USER: &str = "builder";
/// Long and unusual, so finding it in output cannot be a coincidence.
const SECRET: &str = "hElper-s3cret-9f2c41d7";

/// A docker config dir, a helper `docker-credential-deckhandtest` that knows `host` only (and
/// answers "not found" for anything else, as real helpers do), and the log of what it was
/// asked.
struct Docker {
    dir: tempfile::TempDir,
}

impl Docker {
    fn new(config: &str, helper_host: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("bin")).unwrap();
        std::fs::create_dir_all(dir.path().join("config")).unwrap();
        std::fs::write(dir.path().join("config/config.json"), config).unwrap();
        let helper = dir.path().join("bin/docker-credential-deckhandtest");
        let log = dir.path().join("asked.log");
        std::fs::write(
            &helper,
            format!(
                r#"#!/usr/bin/env bash
set -euo pipefail
if [[ "${{1:-}}" != get ]]; then
  echo "unsupported: $*" >&2
  exit 1
fi
# Docker writes the server URL without a newline: read returns 1 at EOF, the value is kept.
IFS= read -r server || true
printf '%s\n' "$server" >>'{log}'
if [[ "$server" == '{helper_host}' ]]; then
  printf '{{"ServerURL":"%s","Username":"{USER}","Secret":"{SECRET}"}}\n' "$server"
else
  echo "credentials not found in native keychain"
  exit 1
fi
"#,
                log = log.display(),
            ),
        )
        .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        Self { dir }
    }

    fn config_dir(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    /// The server URLs the helper was asked for, in order.
    fn asked(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("asked.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// `deckhand --output json ARGS` with this docker config and the helper first on PATH, and
    /// nothing else that could hold credentials.
    fn deckhand(&self, args: &[&str], actions: bool) -> Run {
        let mut cmd = Command::new(BIN);
        for (k, _) in std::env::vars() {
            if k.starts_with("DECKHAND_") || k.starts_with("GITHUB_") {
                cmd.env_remove(k);
            }
        }
        cmd.env("DOCKER_CONFIG", self.config_dir()).env(
            "PATH",
            format!(
                "{}:{}",
                self.dir.path().join("bin").display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        );
        if actions {
            cmd.env("GITHUB_ACTIONS", "true");
        }
        let out = cmd.args(["--output", "json"]).args(args).output().unwrap();
        Run::from_output(&out)
    }
}

fn site() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "<h1>helper</h1>").unwrap();
    let add = format!("{}:/srv/", dir.path().display());
    (dir, add)
}

fn build(docker: &Docker, base: &str, add: &str, tag: &str, extra: &[&str], actions: bool) -> Run {
    let mut args = vec!["image", "build", "--base", base, "--add", add, "--tag", tag];
    args.extend_from_slice(extra);
    docker.deckhand(&args, actions)
}

/// The tag is not in the registry (skopeo, with the registry's credentials, cannot find it).
fn assert_absent(reference: &str, creds: &str) {
    let out = Command::new("skopeo")
        .args(["inspect", "--raw", "--tls-verify=false", "--creds", creds])
        .arg(format!("docker://{reference}"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("unknown"),
        "{reference} exists, or skopeo failed otherwise: {stderr}"
    );
}

fn creds() -> String {
    format!("{USER}:{SECRET}")
}

fn assert_secret_not_in(run: &Run) {
    assert!(!run.stdout.contains(SECRET), "stdout:\n{}", run.stdout);
    assert!(!run.stderr.contains(SECRET), "stderr:\n{}", run.stderr);
}

fn config_path(docker: &Docker) -> String {
    docker
        .config_dir()
        .join("config.json")
        .display()
        .to_string()
}

#[test]
fn a_cred_helpers_helper_gives_the_credentials_to_pull_and_push() {
    let registry = ScratchRegistry::start_with_basic_auth(USER, SECRET);
    let base = registry.reference("base/web:1");
    SyntheticBase::new().push(&base, Some(&creds()));
    let host = registry.host.clone();
    // credHelpers only: no `auths`, no credsStore.
    let docker = Docker::new(
        &format!(r#"{{"credHelpers": {{"{host}": "deckhandtest"}}}}"#),
        &host,
    );
    let (_site, add) = site();
    let tag = registry.reference("built/web:v1");

    let run = build(&docker, &base, &add, &tag, &["-v"], false);
    run.assert_exit(0, "succeeded");
    assert_eq!(
        skopeo_digest(&tag, Some(&creds())),
        run.json["digest"].as_str().unwrap(),
        "the push landed"
    );
    // The helper was asked for this host by its name (no scheme): once, since the base and the
    // tag share one client.
    assert_eq!(docker.asked(), vec![host.clone()]);
    assert_secret_not_in(&run);
    // The detail line says where the credentials came from (never what they are).
    assert!(
        run.stderr.contains("credentials for") && run.stderr.contains("credHelpers of"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_creds_store_serves_every_host_and_not_found_means_anonymous() {
    // The base behind auth; the target open. The helper knows the first only: for the second
    // it answers "not found", which is anonymous access, not an error.
    let private = ScratchRegistry::start_with_basic_auth(USER, SECRET);
    let open = ScratchRegistry::start();
    let base = private.reference("base/web:1");
    SyntheticBase::new().push(&base, Some(&creds()));
    let docker = Docker::new(r#"{"credsStore": "deckhandtest"}"#, &private.host);
    let (_site, add) = site();
    let tag = open.reference("built/web:v1");

    // In Actions: the password is masked before anything else could print it.
    let run = build(&docker, &base, &add, &tag, &["-v"], true);
    run.assert_exit(0, "succeeded");
    assert_eq!(
        skopeo_digest(&tag, None),
        run.json["digest"].as_str().unwrap()
    );
    let mut asked = docker.asked();
    asked.sort();
    let mut hosts = vec![private.host.clone(), open.host.clone()];
    hosts.sort();
    assert_eq!(asked, hosts);
    let mask = format!("::add-mask::{SECRET}");
    assert_eq!(
        run.stderr.matches(SECRET).count(),
        1,
        "the secret appears only in the mask command:\n{}",
        run.stderr
    );
    assert!(run.stderr.contains(&mask), "{}", run.stderr);
    assert!(!run.stdout.contains(SECRET), "{}", run.stdout);
}

#[test]
fn a_missing_helper_is_a_warning_and_the_registry_then_asks_for_credentials() {
    let registry = ScratchRegistry::start_with_basic_auth(USER, SECRET);
    let base = registry.reference("base/web:1");
    SyntheticBase::new().push(&base, Some(&creds()));
    let host = registry.host.clone();
    // `auths` has good credentials, but docker would use the helper configured for the host,
    // and so does deckhand: no silent fallback to `auths`. The helper is missing (a runner's
    // helper seen from the actions' container): a public image would still pull, this private
    // one fails with the registry's own refusal, after a warning that names the helper.
    let auth = base64_user_pass(USER, SECRET);
    let docker = Docker::new(
        &format!(
            r#"{{"credHelpers": {{"{host}": "deckhandmissing"}}, "auths": {{"{host}": {{"auth": "{auth}"}}}}}}"#
        ),
        &host,
    );
    let (_site, add) = site();
    let tag = registry.reference("built/web:v1");

    let run = build(&docker, &base, &add, &tag, &[], false);
    assert_ne!(run.code, 0, "{}", run.stderr);
    let warning = run
        .stderr
        .lines()
        .find(|l| l.starts_with("warning:"))
        .unwrap_or_default();
    assert!(
        warning.contains("`docker-credential-deckhandmissing`")
            && warning.contains("credHelpers")
            && warning.contains(&config_path(&docker))
            && warning.contains(&format!("`{host}`"))
            && warning.contains("is not on PATH")
            && warning.contains("accessed without credentials"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("install `docker-credential-deckhandmissing` on PATH"),
        "{}",
        run.stderr
    );
    assert_absent(&tag, &creds());
    assert_secret_not_in(&run);
    assert!(docker.asked().is_empty());
}

/// `user:pass` as config.json's `auth` holds it, encoded here without deckhand's code.
fn base64_user_pass(user: &str, pass: &str) -> String {
    let out = Command::new("base64")
        .arg("-w0")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(format!("{user}:{pass}").as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

/// Runs the nginx-image action's own script (the deckhand under test as its `deckhand-path`)
/// with a runner whose home holds `config_json` as `~/.docker/config.json` (no DOCKER_CONFIG
/// set) and `path_first` ahead of PATH; checks that it built and pushed with the credentials
/// that config leads to, and printed none of them.
fn nginx_image_action_with_runner_docker(
    registry: &ScratchRegistry,
    config_json: &str,
    path_first: Option<&std::path::Path>,
) {
    use deckhand_testkit::action_step::ActionStep;

    let base = registry.reference("base/nginx:1");
    SyntheticBase::new().push(&base, Some(&creds()));
    let runner_home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(runner_home.path().join(".docker")).unwrap();
    std::fs::write(runner_home.path().join(".docker/config.json"), config_json).unwrap();
    let workspace = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(workspace.path().join("html")).unwrap();
    std::fs::write(workspace.path().join("html/index.html"), "<h1>action</h1>").unwrap();
    std::fs::write(
        workspace.path().join("default.conf"),
        "server { listen 80; }\n",
    )
    .unwrap();
    let outputs = workspace.path().join("outputs");
    let repository = format!("{}/built/front", registry.host);
    let actions = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../actions");
    let mut cmd = ActionStep::load(&actions.join("nginx-image"), "deploy").command(
        &[
            ("html", "html"),
            ("conf", "default.conf"),
            ("base", &base),
            ("repository", &repository),
            ("tags", "v1"),
            ("validate", "false"),
            // A synthetic base: nothing in it runs.
            ("smoke", "false"),
        ],
        BIN,
        workspace.path(),
    );
    for (k, _) in std::env::vars() {
        if k.starts_with("DECKHAND_") || k.starts_with("GITHUB_") {
            cmd.env_remove(k);
        }
    }
    if let Some(dir) = path_first {
        cmd.env(
            "PATH",
            format!(
                "{}:{}",
                dir.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        );
    }
    cmd.env_remove("DOCKER_CONFIG")
        .env("HOME", runner_home.path())
        .env("GITHUB_WORKSPACE", workspace.path())
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &outputs);
    let run = Run::from_output(&cmd.output().unwrap());
    let written = std::fs::read_to_string(&outputs).unwrap_or_default();
    assert_eq!(run.code, 0, "{}\n{written}", run.stderr);
    assert!(written.contains("verdict=succeeded"), "{written}");
    let digest = written
        .lines()
        .find_map(|l| l.strip_prefix("digest="))
        .expect("a digest output");
    assert_eq!(
        skopeo_digest(&format!("{repository}:v1"), Some(&creds())),
        digest
    );
    // Only the mask command carries the password.
    assert!(run.stderr.matches(SECRET).count() <= 1, "{}", run.stderr);
    assert!(!run.stdout.contains(SECRET), "{}", run.stdout);
}

/// The runner's `~/.docker` reaches deckhand: `docker login`'s `auths` open a registry that
/// needs them.
#[test]
fn the_nginx_image_action_uses_the_runners_docker_login() {
    let registry = ScratchRegistry::start_with_basic_auth(USER, SECRET);
    let config = format!(
        r#"{{"auths": {{"{}": {{"auth": "{}"}}}}}}"#,
        registry.host,
        base64_user_pass(USER, SECRET)
    );
    nginx_image_action_with_runner_docker(&registry, &config, None);
}

/// A credential helper the runner's docker config names, on the runner's PATH, gives deckhand
/// the credentials: deckhand runs on the runner, where docker's helpers are (a container did
/// not have them).
#[test]
fn the_nginx_image_action_uses_the_runners_credential_helper() {
    let registry = ScratchRegistry::start_with_basic_auth(USER, SECRET);
    let docker = Docker::new("{}", &registry.host);
    let config = r#"{"credsStore": "deckhandtest"}"#;
    nginx_image_action_with_runner_docker(&registry, config, Some(&docker.dir.path().join("bin")));
    assert!(
        docker.asked().contains(&registry.host),
        "the helper was not asked: {:?}",
        docker.asked()
    );
}
