//! `actions/lib/install-deckhand.sh`, the way every action's step runs it: the binary taken out
//! of an image in a real registry (the world's `hub` front, which asks for anonymous Bearer
//! tokens as ghcr.io does, or a throwaway CNCF registry without auth), per platform, checked
//! against digests, cached per job; `deckhand-path`; runners it cannot serve. Then one action
//! end to end: static-site's step fetching the deckhand under test from the registry and
//! deploying to moto with credentials that only an AWS profile and its files give.
//!
//! The images are shaped like the release image (a CA layer, then `/deckhand`; an index with
//! buildx attestation entries) by `deckhand_testkit::images::BinaryImage`. Where a platform's
//! binary cannot run here (arm64), `/deckhand` is a script that names its platform.

use std::path::{Path, PathBuf};
use std::process::Command;

use deckhand_testkit::action_step::{ActionStep, parse_outputs};
use deckhand_testkit::images::{BinaryImage, PushedBinaryImage, ScratchRegistry, SyntheticBase};
use deckhand_testkit::{SiteFixture, World, repo_root, world};

const BIN: &str = env!("CARGO_BIN_EXE_deckhand");

/// A `/deckhand` that answers `--version` as deckhand does and names its platform.
fn script(platform: &str) -> String {
    format!("#!/bin/sh\necho \"deckhand 0.0.0-test (commit test, {platform})\"\n")
}

/// The installer's run: exit code, stdout (the path), stderr, and the outputs it left.
#[derive(Debug)]
struct Installed {
    code: i32,
    path: String,
    stderr: String,
    outputs: std::collections::BTreeMap<String, String>,
}

impl Installed {
    /// `--version` of the binary it handed out.
    fn version(&self) -> String {
        assert_eq!(self.code, 0, "{self:#?}");
        let out = Command::new(&self.path).arg("--version").output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn assert_refused(&self, code: i32, verdict: &str, needle: &str) {
        assert_eq!(self.code, code, "{self:#?}");
        assert!(self.path.is_empty(), "{self:#?}");
        assert!(
            self.stderr.contains("::error title=deckhand setup::") && self.stderr.contains(needle),
            "expected an ::error with {needle:?}: {self:#?}"
        );
        assert_eq!(self.outputs["verdict"], verdict, "{self:#?}");
        assert_eq!(self.outputs["exit-code"], code.to_string());
        assert!(self.outputs["failure-report"].contains(needle), "{self:#?}");
    }
}

/// One job's runner: its RUNNER_TEMP (the cache lives there) and `$GITHUB_OUTPUT`.
struct Runner {
    dir: tempfile::TempDir,
}

impl Runner {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn temp(&self) -> PathBuf {
        self.dir.path().join("runner-temp")
    }

    /// The installer at `script` (the repository's, or a copy) with `env` on a Linux X64
    /// runner, and nothing of the developer's or of a CI job's environment that it reads.
    fn run_script(&self, script: &Path, env: &[(&str, &str)]) -> Installed {
        std::fs::create_dir_all(self.temp()).unwrap();
        let outputs = self.dir.path().join("output");
        std::fs::write(&outputs, "").unwrap();
        let mut cmd = Command::new("bash");
        cmd.arg(script);
        for (k, _) in std::env::vars() {
            if ["INPUT_", "RUNNER_", "GITHUB_", "DECKHAND_"]
                .iter()
                .any(|p| k.starts_with(p))
            {
                cmd.env_remove(k);
            }
        }
        cmd.env("RUNNER_TEMP", self.temp())
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64")
            .env("GITHUB_OUTPUT", &outputs);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        Installed {
            code: out.status.code().unwrap_or(-1),
            path: String::from_utf8_lossy(&out.stdout).trim().to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).to_string(),
            outputs: parse_outputs(&std::fs::read_to_string(&outputs).unwrap()),
        }
    }

    fn run(&self, env: &[(&str, &str)]) -> Installed {
        self.run_script(&installer(), env)
    }

    /// What the job's cache holds: the binaries' directories (`sha256-...`), sorted.
    fn cached(&self) -> Vec<String> {
        let mut dirs: Vec<String> = std::fs::read_dir(self.temp().join("deckhand"))
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.starts_with("sha256-"))
                    .collect()
            })
            .unwrap_or_default();
        dirs.sort();
        dirs
    }
}

fn installer() -> PathBuf {
    repo_root().join("actions/lib/install-deckhand.sh")
}

/// Where the installer keeps the binary of `manifest` in `runner`'s job.
fn cache_path(runner: &Runner, manifest: &str) -> String {
    runner
        .temp()
        .join("deckhand")
        .join(manifest.replace(':', "-"))
        .join("deckhand")
        .display()
        .to_string()
}

/// Pushes a release-shaped index (linux/amd64 and linux/arm64 scripts, attestation entries)
/// to the world's hub front as `repo:tag`.
fn two_platform_image(w: &World, repo: &str) -> PushedBinaryImage {
    BinaryImage::new()
        .platform_script("linux/amd64", &script("linux/amd64"))
        .platform_script("linux/arm64", &script("linux/arm64"))
        .attestations()
        .push(&format!("{}/{repo}:edge", w.registry("hub")), None)
}

fn requests(w: &World, repo: &str) -> u64 {
    w.registry_stats("hub", repo)["requests"].as_u64().unwrap()
}

#[test]
fn a_tag_is_fetched_through_the_anonymous_token_flow_once_per_job() {
    let w = world();
    let image = two_platform_image(w, "install/by-tag");
    let runner = Runner::new();
    let env = [("INPUT_DECKHAND_IMAGE", image.reference.as_str())];
    let gets = || {
        w.registry_stats("hub", "install/by-tag")["by_method"]["GET"]
            .as_u64()
            .unwrap_or(0)
    };
    let gets_before = gets();

    let first = runner.run(&env);
    assert_eq!(
        first.path,
        cache_path(&runner, image.manifest("linux/amd64")),
        "{first:#?}"
    );
    assert_eq!(
        first.version(),
        "deckhand 0.0.0-test (commit test, linux/amd64)"
    );
    assert!(first.stderr.contains("fetched in"), "{first:#?}");
    assert!(first.outputs.is_empty(), "{first:#?}");
    // The hub front answers nothing without a token: one GET refused, then with the token the
    // installer asked for, the index, the linux/amd64 manifest and the one layer that holds
    // deckhand (the top one; the CA layer under it is not fetched).
    assert_eq!(gets() - gets_before, 4);
    assert!(!first.stderr.contains("Bearer"), "{first:#?}");

    // The next step of the job: no request at all, the same binary.
    let before = requests(w, "install/by-tag");
    let second = runner.run(&env);
    assert_eq!(second.path, first.path);
    assert!(second.stderr.contains("cached in this job"), "{second:#?}");
    assert_eq!(requests(w, "install/by-tag"), before);

    // Another job (another RUNNER_TEMP) fetches again.
    let other = Runner::new();
    assert!(other.run(&env).stderr.contains("fetched in"));
    assert!(requests(w, "install/by-tag") > before);
}

#[test]
fn the_runners_platform_is_taken_from_the_index() {
    let w = world();
    let image = two_platform_image(w, "install/platforms");
    let runner = Runner::new();
    let arm = runner.run(&[
        ("INPUT_DECKHAND_IMAGE", &image.reference),
        ("RUNNER_ARCH", "ARM64"),
    ]);
    assert_eq!(arm.path, cache_path(&runner, image.manifest("linux/arm64")));
    assert_eq!(
        arm.version(),
        "deckhand 0.0.0-test (commit test, linux/arm64)"
    );
    let x64 = runner.run(&[("INPUT_DECKHAND_IMAGE", &image.reference)]);
    assert_eq!(
        x64.version(),
        "deckhand 0.0.0-test (commit test, linux/amd64)"
    );
    // One cache entry per platform: a tag names a different binary on each.
    assert_eq!(runner.cached().len(), 2);

    // An index without this runner's platform: bad configuration, named, nothing cached.
    let amd64_only = BinaryImage::new()
        .platform_script("linux/amd64", &script("linux/amd64"))
        .attestations()
        .push(
            &format!("{}/install/amd64-only:edge", w.registry("hub")),
            None,
        );
    let runner = Runner::new();
    let refused = runner.run(&[
        ("INPUT_DECKHAND_IMAGE", &amd64_only.reference),
        ("RUNNER_ARCH", "ARM64"),
    ]);
    refused.assert_refused(
        2,
        "invalid-input",
        "has no linux/arm64 image (it has linux/amd64), and this runner is ARM64",
    );
    assert!(runner.cached().is_empty());

    // A single-manifest image for another platform: its config says so.
    let single = BinaryImage::new()
        .platform_script("linux/arm64", &script("linux/arm64"))
        .single_manifest()
        .push(
            &format!("{}/install/arm64-single:1", w.registry("hub")),
            None,
        );
    Runner::new()
        .run(&[("INPUT_DECKHAND_IMAGE", &single.reference)])
        .assert_refused(
            2,
            "invalid-input",
            "is a linux/arm64 image, and this runner is X64",
        );
    let runner = Runner::new();
    let arm = runner.run(&[
        ("INPUT_DECKHAND_IMAGE", &single.reference),
        ("RUNNER_ARCH", "ARM64"),
    ]);
    assert_eq!(
        arm.version(),
        "deckhand 0.0.0-test (commit test, linux/arm64)"
    );
}

#[test]
fn a_pinned_digest_is_fetched_and_checked() {
    let registry = ScratchRegistry::start();
    let image = BinaryImage::new()
        .platform_script("linux/amd64", &script("linux/amd64"))
        .platform_script("linux/arm64", &script("linux/arm64"))
        .attestations()
        .push(&registry.reference("deckhand:v1"), None);

    // By digest, and as a release pins it (`:TAG@DIGEST`: the digest decides).
    let pinned = format!("{}:v1@{}", registry.reference("deckhand"), image.digest);
    for reference in [image.by_digest(), pinned.clone()] {
        let runner = Runner::new();
        let got = runner.run(&[("INPUT_DECKHAND_IMAGE", &reference)]);
        assert_eq!(
            got.version(),
            "deckhand 0.0.0-test (commit test, linux/amd64)"
        );
    }

    // A digest the registry does not have: refused before anything is fetched.
    let wrong = format!(
        "{}@sha256:{}",
        registry.reference("deckhand"),
        "0".repeat(64)
    );
    let runner = Runner::new();
    runner
        .run(&[("INPUT_DECKHAND_IMAGE", &wrong)])
        .assert_refused(2, "invalid-input", "is not in the registry (HTTP 404");
    assert!(runner.cached().is_empty());

    // The registry serves other bytes than the pinned digest's (a tampered store, a proxy):
    // refused, nothing cached. One byte of an annotation of the index changes (the registry
    // still parses it), its length does not.
    let index = registry.blob_data(&image.digest);
    let original = std::fs::read(&index).unwrap();
    let tampered = String::from_utf8(original.clone()).unwrap().replacen(
        "attestation-manifest",
        "attestation-manifesx",
        1,
    );
    assert_ne!(tampered.as_bytes(), original.as_slice());
    std::fs::write(&index, tampered).unwrap();
    let runner = Runner::new();
    runner
        .run(&[("INPUT_DECKHAND_IMAGE", &pinned)])
        .assert_refused(
            1,
            "error",
            &format!("not the pinned {}; refusing it", image.digest),
        );
    assert!(runner.cached().is_empty());
    std::fs::write(&index, &original).unwrap();

    // The same for the layer that holds deckhand (by tag too: every blob is checked).
    let layer_digest = &image.binary_layers[0].1;
    let layer = registry.blob_data(layer_digest);
    let mut bytes = std::fs::read(&layer).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&layer, &bytes).unwrap();
    let runner = Runner::new();
    runner
        .run(&[("INPUT_DECKHAND_IMAGE", &image.reference)])
        .assert_refused(
            1,
            "error",
            &format!("the layer served as {layer_digest} hashes to"),
        );
    assert!(runner.cached().is_empty());
}

#[test]
fn the_cache_serves_the_job_with_the_registry_stopped() {
    let registry = ScratchRegistry::start();
    let image = BinaryImage::new()
        .platform_script("linux/amd64", &script("linux/amd64"))
        .push(&registry.reference("deckhand:edge"), None);
    let runner = Runner::new();
    let by_tag = [("INPUT_DECKHAND_IMAGE", image.reference.as_str())];
    let by_digest = image.by_digest();
    let first = runner.run(&by_tag);
    assert_eq!(first.code, 0, "{first:#?}");
    let pinned = runner.run(&[("INPUT_DECKHAND_IMAGE", &by_digest)]);
    assert_eq!(pinned.path, first.path, "one manifest, one cached binary");
    drop(registry);

    for env in [by_tag, [("INPUT_DECKHAND_IMAGE", by_digest.as_str())]] {
        let again = runner.run(&env);
        assert_eq!(again.path, first.path, "{again:#?}");
        assert!(again.stderr.contains("cached in this job"), "{again:#?}");
        assert_eq!(
            again.version(),
            "deckhand 0.0.0-test (commit test, linux/amd64)"
        );
    }
    // The registry is really gone: another job cannot fetch.
    Runner::new()
        .run(&by_tag)
        .assert_refused(1, "error", "cannot reach http://127.0.0.1:");
}

/// A step killed in the middle of the download (the runner's SIGKILL after a cancel) leaves
/// nothing the next step would take for a binary, and the next step fetches it whole.
#[test]
fn a_step_killed_mid_download_leaves_nothing_used() {
    let w = world();
    let image = two_platform_image(w, "install/killed");
    let runner = Runner::new();
    std::fs::create_dir_all(runner.temp()).unwrap();
    {
        // The layer GET is held 10 s, long after the kill.
        let _faults = w.faults(
            r#"{"rules": [{"service": "registry", "front": "hub", "method": "GET",
                "path_regex": "^/v2/install/killed/blobs/", "delay_ms": 10000, "count": 1}]}"#,
        );
        let mut cmd = Command::new("bash");
        cmd.arg(installer())
            .env("RUNNER_TEMP", runner.temp())
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64")
            .env("INPUT_DECKHAND_IMAGE", &image.reference)
            .env_remove("INPUT_DECKHAND_PATH")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let mut child = cmd.spawn().unwrap();
        // Until the installer is inside the download (its work directory exists and the
        // manifests are in it).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let partial = std::fs::read_dir(runner.temp().join("deckhand"))
                .into_iter()
                .flatten()
                .filter_map(|e| e.ok())
                .find(|e| e.file_name().to_string_lossy().starts_with(".partial."));
            if partial.is_some_and(|p| p.path().join("manifest.json").exists()) {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the installer never got to the layer"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        child.kill().unwrap();
        child.wait().unwrap();
    }
    assert!(runner.cached().is_empty());
    assert_eq!(
        std::fs::read_dir(runner.temp().join("deckhand/refs"))
            .unwrap()
            .count(),
        0,
        "no pointer to a binary that was never written"
    );
    let next = runner.run(&[("INPUT_DECKHAND_IMAGE", &image.reference)]);
    assert!(next.stderr.contains("fetched in"), "{next:#?}");
    assert_eq!(
        next.version(),
        "deckhand 0.0.0-test (commit test, linux/amd64)"
    );
}

/// Only a binary that was renamed into the cache whole, and answers `--version`, is handed
/// out: one cut short at the cache's path (by a writer that did not rename) is replaced.
#[test]
fn a_broken_binary_at_the_cache_path_is_replaced() {
    let registry = ScratchRegistry::start();
    let image = BinaryImage::new()
        .platform_script("linux/amd64", &script("linux/amd64"))
        .push(&registry.reference("deckhand:edge"), None);
    let runner = Runner::new();
    let env = [("INPUT_DECKHAND_IMAGE", image.reference.as_str())];
    let first = runner.run(&env);
    assert_eq!(first.code, 0, "{first:#?}");
    let whole = std::fs::read(&first.path).unwrap();
    std::fs::write(&first.path, &whole[..whole.len() / 2]).unwrap();
    // The next step: the pointer leads to it; it does not run as deckhand, so it is fetched
    // again and put in its place.
    let next = runner.run(&env);
    assert_eq!(next.path, first.path);
    assert!(next.stderr.contains("fetched in"), "{next:#?}");
    assert_eq!(
        next.version(),
        "deckhand 0.0.0-test (commit test, linux/amd64)"
    );
    assert_eq!(std::fs::read(&next.path).unwrap(), whole);
}

#[test]
fn deckhand_path_is_used_as_given_and_checked() {
    let runner = Runner::new();
    // On any system: an installed binary needs no image (self-hosted macOS, say).
    let got = runner.run(&[("INPUT_DECKHAND_PATH", BIN), ("RUNNER_OS", "macOS")]);
    assert_eq!(got.code, 0, "{got:#?}");
    assert_eq!(got.path, BIN);
    assert!(got.stderr.contains("(deckhand-path "), "{got:#?}");
    assert!(runner.cached().is_empty());

    // A command on PATH.
    let bin_dir = runner.dir.path().join("bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    std::os::unix::fs::symlink(BIN, bin_dir.join("deckhand")).unwrap();
    let path = format!("{}:/usr/bin:/bin", bin_dir.display());
    let got = runner.run(&[("INPUT_DECKHAND_PATH", "deckhand"), ("PATH", &path)]);
    assert_eq!(got.path, bin_dir.join("deckhand").display().to_string());

    let missing = runner.dir.path().join("nowhere/deckhand");
    runner
        .run(&[("INPUT_DECKHAND_PATH", missing.to_str().unwrap())])
        .assert_refused(
            2,
            "invalid-input",
            &format!(
                "input deckhand-path: {} is not an executable file",
                missing.display()
            ),
        );
    runner
        .run(&[("INPUT_DECKHAND_PATH", "/bin/true")])
        .assert_refused(2, "invalid-input", "`/bin/true --version` does not answer");
}

#[test]
fn runners_it_cannot_serve_are_refused_clearly() {
    for (os, arch, needle) in [
        (
            "Windows",
            "X64",
            "this runner runs Windows: deckhand's image has Linux binaries only",
        ),
        (
            "macOS",
            "ARM64",
            "this runner runs macOS: deckhand's image has Linux binaries only",
        ),
        (
            "Linux",
            "ARM",
            "this runner's architecture is ARM: deckhand's image has linux/amd64",
        ),
    ] {
        let runner = Runner::new();
        let got = runner.run(&[
            ("INPUT_DECKHAND_IMAGE", "127.0.0.1:9/never/asked:edge"),
            ("RUNNER_OS", os),
            ("RUNNER_ARCH", arch),
        ]);
        got.assert_refused(2, "invalid-input", needle);
        assert!(got.stderr.contains("deckhand-path"), "{got:#?}");
    }
}

#[test]
fn images_that_are_not_deckhands_or_not_public_are_refused_clearly() {
    let w = world();
    // An image without /deckhand.
    let other = SyntheticBase::new().push(
        &format!("{}/install/not-deckhand:1", w.registry("hub")),
        None,
    );
    Runner::new()
        .run(&[("INPUT_DECKHAND_IMAGE", &other.reference)])
        .assert_refused(
            2,
            "invalid-input",
            "holds /deckhand: is it deckhand's image?",
        );
    // A registry that wants a user and password (the world's ECR front).
    Runner::new()
        .run(&[(
            "INPUT_DECKHAND_IMAGE",
            &format!("{}/install/private:1", w.registry("ecr")),
        )])
        .assert_refused(
            2,
            "invalid-input",
            "the registry asks for a user and password",
        );
    // Not a reference.
    Runner::new()
        .run(&[("INPUT_DECKHAND_IMAGE", "ghcr.io/Owner/Deckhand:edge")])
        .assert_refused(2, "invalid-input", "is not an image reference");
}

/// A copy of the installer (and the release pin file beside it) under `root/actions/lib`, as
/// the runner lays out an action repository it downloaded; `pin` is the pin file's line.
fn installer_at(root: &Path, pin: Option<&str>) -> PathBuf {
    let lib = root.join("actions/lib");
    std::fs::create_dir_all(&lib).unwrap();
    std::fs::copy(installer(), lib.join("install-deckhand.sh")).unwrap();
    let mut pin_file = "# no release pin: a commit of main\n".to_string();
    if let Some(line) = pin {
        pin_file.push_str(line);
        pin_file.push('\n');
    }
    std::fs::write(lib.join("release-image"), pin_file).unwrap();
    lib.join("install-deckhand.sh")
}

#[test]
fn the_image_comes_from_the_input_the_release_pin_or_where_the_actions_come_from() {
    let runner = Runner::new();
    let work = runner.dir.path().join("_work");
    let sha = "0123456789abcdef0123456789abcdef01234567";
    let image = |script: &Path, env: &[(&str, &str)]| {
        let mut cmd = Command::new("bash");
        cmd.arg(script)
            .arg("--image")
            .env_remove("INPUT_DECKHAND_IMAGE");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    // Downloaded by the runner (`_actions/OWNER/REPO/REF/`), whatever GITHUB_REPOSITORY (the
    // workflow's repository) and GITHUB_ACTION_REPOSITORY (empty in composite steps) say.
    let other = [
        ("GITHUB_REPOSITORY", "someone/app"),
        ("GITHUB_ACTION_REPOSITORY", ""),
    ];
    let at_main = installer_at(&work.join("_actions/Deckhand-Org/Deckhand/main"), None);
    assert_eq!(
        image(&at_main, &other),
        "ghcr.io/deckhand-org/deckhand:edge"
    );
    // At a commit SHA (or through `$/`, which runs the caller's commit): edge as well.
    let at_sha = installer_at(
        &work.join(format!("_actions/Deckhand-Org/Deckhand/{sha}")),
        None,
    );
    assert_eq!(image(&at_sha, &other), "ghcr.io/deckhand-org/deckhand:edge");
    // A release commit: its pin, whatever the ref.
    let pin = format!(
        "ghcr.io/deckhand-org/deckhand:v1.2.3@sha256:{}",
        "a".repeat(64)
    );
    let released = installer_at(&work.join("_actions/deckhand-org/deckhand/v1"), Some(&pin));
    assert_eq!(image(&released, &other), pin);
    // The input over everything.
    assert_eq!(
        image(
            &released,
            &[("INPUT_DECKHAND_IMAGE", "registry.example/x/deckhand:7")]
        ),
        "registry.example/x/deckhand:7"
    );
    // A local `uses: ./actions/...` in the repository itself (its checkout): its own image.
    let local = installer_at(&runner.dir.path().join("checkout"), None);
    assert_eq!(
        image(&local, &[("GITHUB_REPOSITORY", "Me/Deckhand-Fork")]),
        "ghcr.io/me/deckhand-fork:edge"
    );
}

/// The release pin is what a released action fetches when `deckhand-image` is empty.
#[test]
fn a_release_pin_is_fetched_by_its_digest() {
    let w = world();
    let image = two_platform_image(w, "install/released");
    let pin = format!(
        "{}/install/released:v9.9.9@{}",
        w.registry("hub"),
        image.digest
    );
    let runner = Runner::new();
    let script = installer_at(
        &runner.dir.path().join("_actions/o/deckhand/v9"),
        Some(&pin),
    );
    let got = runner.run_script(&script, &[]);
    assert_eq!(got.path, cache_path(&runner, image.manifest("linux/amd64")));
    assert!(got.stderr.contains(&format!("from {pin}")), "{got:#?}");
}

/// The deckhand under test in a release-shaped image (stripped, to keep the push small; the
/// code is the same), in the world's hub registry.
fn deckhand_image(w: &World) -> PushedBinaryImage {
    let dir = tempfile::tempdir().unwrap();
    let stripped = dir.path().join("deckhand");
    std::fs::copy(BIN, &stripped).unwrap();
    let out = Command::new("strip").arg(&stripped).output().unwrap();
    assert!(out.status.success(), "strip: {out:?}");
    BinaryImage::new()
        .platform_file("linux/amd64", &stripped)
        .platform_script("linux/arm64", &script("linux/arm64"))
        .attestations()
        .push(
            &format!("{}/install/deckhand:edge", w.registry("hub")),
            None,
        )
}

/// static-site's own step as a job runs it: the installer fetches the deckhand under test from
/// the registry, and deckhand deploys with AWS settings that only `AWS_PROFILE` and the config
/// and credentials files it names give (no AWS_* key, region or endpoint variable): the
/// runner's whole environment and files reach the binary, which the old `docker run` with its
/// allow-list of variable names did not allow.
#[test]
fn the_static_site_action_fetches_deckhand_and_deploys_with_a_profile() {
    let w = world();
    let image = deckhand_image(w);
    let site = SiteFixture::create(w, "install-profile-site", None);
    let workspace = tempfile::tempdir().unwrap();
    let dist = workspace.path().join("dist");
    std::fs::create_dir_all(dist.join("assets")).unwrap();
    std::fs::write(
        dist.join("index.html"),
        "<script src=/assets/app.js></script>",
    )
    .unwrap();
    std::fs::write(dist.join("assets/app.js"), "console.log('profile')").unwrap();
    let aws = workspace.path().join("aws");
    std::fs::create_dir_all(&aws).unwrap();
    std::fs::write(
        aws.join("config"),
        format!(
            "[profile deploy]\nregion = us-east-1\nendpoint_url = {}\n",
            w.endpoint
        ),
    )
    .unwrap();
    std::fs::write(
        aws.join("credentials"),
        "[deploy]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
    )
    .unwrap();

    let actions = repo_root().join("actions");
    let mut cmd = ActionStep::load(&actions.join("static-site"), "deploy").command(
        &[
            ("dir", "dist"),
            ("bucket", &site.bucket),
            ("deckhand-image", &image.reference),
            ("deckhand-path", ""),
        ],
        BIN,
        workspace.path(),
    );
    w.clean(&mut cmd);
    for name in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL",
    ] {
        cmd.env_remove(name);
    }
    let outputs = workspace.path().join("output");
    cmd.env("AWS_PROFILE", "deploy")
        .env("AWS_CONFIG_FILE", aws.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", aws.join("credentials"))
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &outputs)
        .env("GITHUB_STEP_SUMMARY", workspace.path().join("summary"));
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let written = parse_outputs(&std::fs::read_to_string(&outputs).unwrap_or_default());
    assert_eq!(out.status.code(), Some(0), "{stderr}\n{written:?}");
    assert!(
        stderr.contains(&format!(
            "from {} (linux/amd64 {}, fetched in",
            image.reference,
            image.manifest("linux/amd64")
        )),
        "{stderr}"
    );
    assert_eq!(written["verdict"], "succeeded", "{written:?}");
    assert_eq!(written["uploaded"], "2", "{written:?}");
    let keys = site.keys(w);
    let site_keys: Vec<&str> = keys
        .iter()
        .map(String::as_str)
        .filter(|k| !k.starts_with(".deckhand/"))
        .collect();
    assert_eq!(site_keys, vec!["assets/app.js", "index.html"]);
}
