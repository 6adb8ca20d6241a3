//! `deckhand image build` / `nginx build` / `ecr login` against the local world: moto's ECR
//! control plane, the world's ECR registry front (Basic auth with moto's token, ECR's quirks)
//! and its Docker-Hub-like front (anonymous bearer tokens), both real CNCF registries.
//! Results are checked with skopeo and umoci, and the nginx image is run from a chroot.

use std::path::PathBuf;
use std::sync::OnceLock;

use deckhand_testkit::images::{
    ChrootNginx, SyntheticBase, free_port, listen_on, push_nginx_base, skopeo_digest,
    skopeo_inspect_config, skopeo_inspect_raw, unpack,
};
use deckhand_testkit::{ECR_CREDS, Run, ServiceFixture, World, world};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_deckhand");

fn ecr(w: &World) -> String {
    w.registry("ecr")
}

fn hub(w: &World) -> String {
    w.registry("hub")
}

/// An ECR repository in moto (the world's ECR front refuses pushes to others).
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

/// The real nginx base (Debian's nginx, built by scripts/nginx-base.sh), pushed once per run.
fn nginx_base(w: &World) -> String {
    static BASE: OnceLock<String> = OnceLock::new();
    BASE.get_or_init(|| {
        let reference = format!("{}/library/nginx:1.22", hub(w));
        push_nginx_base(&reference);
        reference
    })
    .clone()
}

/// A two-platform OCI base with buildx attestations and a Healthcheck, pushed once per run.
fn two_platform_base(w: &World) -> String {
    static BASE: OnceLock<String> = OnceLock::new();
    BASE.get_or_init(|| {
        let reference = format!("{}/library/multi:1", hub(w));
        SyntheticBase::new()
            .attestations(true)
            .push(&reference, None);
        reference
    })
    .clone()
}

struct Site {
    dir: tempfile::TempDir,
}

impl Site {
    fn new(index: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let s = Self { dir };
        s.write("html/index.html", index);
        s.write("html/assets/app-1a2b3c.js", "console.log('app')");
        s.write("html/.env", "SECRET=1");
        s.write(
            "default.conf",
            "server {\n  listen 80;\n  location / { root /usr/share/nginx/html; }\n}\n",
        );
        s
    }

    fn write(&self, rel: &str, content: &str) {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }

    fn html(&self) -> PathBuf {
        self.dir.path().join("html")
    }

    fn conf(&self) -> PathBuf {
        self.dir.path().join("default.conf")
    }

    fn add_html(&self) -> String {
        format!("{}:/usr/share/nginx/html/", self.html().display())
    }
}

/// The smoke run's runtime of these tests unless one says otherwise: the daemonless one, so
/// that a Docker engine on the machine does not change what they check.
const CHROOT: &[(&str, &str)] = &[("DECKHAND_SMOKE_RUNTIME", "chroot")];

fn run(w: &World, args: &[&str]) -> Run {
    run_in(w, args, CHROOT)
}

fn run_in(w: &World, args: &[&str], env: &[(&str, &str)]) -> Run {
    let out = w
        .command(BIN)
        .args(["--output", "json"])
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    Run::from_output(&out)
}

/// `image build` into the world's ECR front (`--ecr-registry` marks it as ECR).
fn image_build(w: &World, base: &str, adds: &[String], tags: &[&str], extra: &[&str]) -> Run {
    image_build_in(w, base, adds, tags, extra, CHROOT)
}

fn image_build_in(
    w: &World,
    base: &str,
    adds: &[String],
    tags: &[&str],
    extra: &[&str],
    env: &[(&str, &str)],
) -> Run {
    let ecr = ecr(w);
    let mut args: Vec<String> = vec![
        "image".into(),
        "build".into(),
        "--base".into(),
        base.into(),
        "--ecr-registry".into(),
        ecr,
    ];
    for a in adds {
        args.extend(["--add".into(), a.clone()]);
    }
    for t in tags {
        args.extend(["--tag".into(), t.to_string()]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    run_in(w, &refs, env)
}

fn nginx_build(w: &World, site: &Site, tag: &str, extra: &[&str]) -> Run {
    nginx_build_in(w, site, tag, extra, CHROOT)
}

fn nginx_build_in(w: &World, site: &Site, tag: &str, extra: &[&str], env: &[(&str, &str)]) -> Run {
    let ecr = ecr(w);
    let base = nginx_base(w);
    let html = site.html().display().to_string();
    let conf = site.conf().display().to_string();
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
        tag,
        "--ecr-registry",
        &ecr,
    ];
    args.extend_from_slice(extra);
    run_in(w, &args, env)
}

fn num(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or(0)
}

fn digest_of(run: &Run) -> String {
    run.json["digest"].as_str().unwrap_or_default().to_string()
}

#[test]
fn an_unchanged_rebuild_has_the_same_digest_and_sends_nothing() {
    let w = world();
    create_repository(w, "same", "MUTABLE");
    create_repository(w, "same-twin", "MUTABLE");
    let site = Site::new("<h1>v1</h1>");
    let tag = format!("{}/same:v1", ecr(w));
    let first = image_build(w, &nginx_base(w), &[site.add_html()], &[tag.as_str()], &[]);
    first.assert_exit(0, "succeeded");
    let before = w.registry_stats("ecr", "same");

    // A fresh checkout: same bytes, new mtimes.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let again = Site::new("<h1>v1</h1>");
    let second = image_build(w, &nginx_base(w), &[again.add_html()], &[tag.as_str()], &[]);
    second.assert_exit(0, "no-change");
    assert_eq!(digest_of(&second), digest_of(&first));
    assert_eq!(second.json["bytes_uploaded"], 0);
    let after = w.registry_stats("ecr", "same");
    assert_eq!(
        num(&after, "bytes_received"),
        num(&before, "bytes_received"),
        "nothing sent: {after}"
    );
    assert_eq!(
        num(&after, "blob_heads"),
        num(&before, "blob_heads"),
        "not even a blob HEAD"
    );
    assert_eq!(num(&after, "manifest_puts"), num(&before, "manifest_puts"));
    assert_eq!(skopeo_digest(&tag, Some(ECR_CREDS)), digest_of(&first));

    // Another repository, another day: the same inputs are the same image.
    let twin = image_build(
        w,
        &nginx_base(w),
        &[again.add_html()],
        &[format!("{}/same-twin:x", ecr(w)).as_str()],
        &[],
    );
    twin.assert_exit(0, "succeeded");
    assert_eq!(digest_of(&twin), digest_of(&first));
}

#[test]
fn a_changed_page_sends_only_the_new_layer_and_config() {
    let w = world();
    create_repository(w, "changed", "MUTABLE");
    let site = Site::new("<h1>v1</h1>");
    let tag = format!("{}/changed:main", ecr(w));
    image_build(w, &nginx_base(w), &[site.add_html()], &[tag.as_str()], &[])
        .assert_exit(0, "succeeded");
    let before = w.registry_stats("ecr", "changed");
    site.write("html/index.html", "<h1>v2</h1>");
    let second = image_build(w, &nginx_base(w), &[site.add_html()], &[tag.as_str()], &[]);
    second.assert_exit(0, "succeeded");
    let after = w.registry_stats("ecr", "changed");
    let layer_size = second.json["layer"]["size"].as_u64().unwrap();
    let received = num(&after, "bytes_received") - num(&before, "bytes_received");
    assert!(
        received <= layer_size + 16 * 1024,
        "received {received} bytes for a {layer_size}-byte layer"
    );
    assert_eq!(
        num(&after, "blob_uploads_completed") - num(&before, "blob_uploads_completed"),
        2,
        "the layer and the config"
    );
    let actions: Vec<&str> = second.json["blobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["present", "upload", "upload"],
        "{}",
        second.stdout
    );
    // skopeo sees the new layer on top of the base's.
    let manifest: Value =
        serde_json::from_slice(&skopeo_inspect_raw(&tag, Some(ECR_CREDS))).unwrap();
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(
        layers.last().unwrap()["digest"],
        second.json["layer"]["digest"]
    );
    assert_eq!(layers.len(), 2);
    // The .env file was not packed.
    assert_eq!(second.json["layer"]["files"], 2);
}

#[test]
fn every_platform_of_an_index_gets_the_layer_and_attestations_are_dropped() {
    let w = world();
    create_repository(w, "multi", "MUTABLE");
    let site = Site::new("<h1>multi</h1>");
    let tag = format!("{}/multi:v1", ecr(w));
    let built = image_build(
        w,
        &two_platform_base(w),
        &[site.add_html()],
        &[tag.as_str()],
        &[
            "--label",
            "org.opencontainers.image.revision=abc123",
            "--platform",
            "all",
        ],
    );
    built.assert_exit(0, "succeeded");
    assert_eq!(
        built.json["platform_origin"],
        serde_json::json!({"from": "flag"})
    );
    let index: Value = serde_json::from_slice(&skopeo_inspect_raw(&tag, Some(ECR_CREDS))).unwrap();
    assert_eq!(
        index["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    let platforms: Vec<String> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            format!(
                "{}/{}",
                m["platform"]["os"].as_str().unwrap(),
                m["platform"]["architecture"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        platforms,
        ["linux/amd64", "linux/arm64"],
        "attestations are gone"
    );
    let layer = built.json["layer"]["digest"].as_str().unwrap().to_string();
    let diff_id = built.json["layer"]["diff_id"].as_str().unwrap().to_string();
    for (os, arch) in [("linux", "amd64"), ("linux", "arm64")] {
        let config = skopeo_inspect_config(&tag, Some(ECR_CREDS), Some((os, arch)));
        assert_eq!(config["architecture"], arch);
        assert_eq!(
            config["rootfs"]["diff_ids"]
                .as_array()
                .unwrap()
                .last()
                .unwrap(),
            &diff_id
        );
        assert_eq!(
            config["config"]["Healthcheck"]["Test"][0], "CMD",
            "Docker-only fields survive"
        );
        assert_eq!(
            config["config"]["Labels"]["org.opencontainers.image.revision"],
            "abc123"
        );
        assert_eq!(config["config"]["Labels"]["com.example.base"], "true");
        let unpacked = unpack(&tag, Some(ECR_CREDS), Some((os, arch)));
        let rootfs = unpacked.rootfs();
        assert_eq!(
            std::fs::read_to_string(rootfs.join("usr/share/nginx/html/index.html")).unwrap(),
            "<h1>multi</h1>"
        );
        assert_eq!(
            std::fs::read_to_string(rootfs.join("etc/synthetic-base/platform"))
                .unwrap()
                .trim(),
            format!("{os}/{arch}")
        );
    }
    let layer_uploads = built.json["blobs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["digest"] == layer.as_str())
        .count();
    assert_eq!(layer_uploads, 1, "one layer blob serves both platforms");

    // One platform only.
    create_repository(w, "multi-arm", "MUTABLE");
    let arm_tag = format!("{}/multi-arm:v1", ecr(w));
    let arm = image_build(
        w,
        &two_platform_base(w),
        &[site.add_html()],
        &[arm_tag.as_str()],
        &["--platform", "linux/arm64"],
    );
    arm.assert_exit(0, "succeeded");
    assert_eq!(arm.json["platforms"], serde_json::json!(["linux/arm64"]));
    let index: Value =
        serde_json::from_slice(&skopeo_inspect_raw(&arm_tag, Some(ECR_CREDS))).unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 1);
    let missing = image_build(
        w,
        &two_platform_base(w),
        &[site.add_html()],
        &[&arm_tag],
        &["--platform", "linux/s390x"],
    );
    missing.assert_exit(2, "invalid-input");
    assert!(
        missing
            .stderr
            .contains("has no `linux/s390x` image; it has: linux/amd64, linux/arm64"),
        "{}",
        missing.stderr
    );
}

/// The platform sizes a build reports, as the pushed manifest of that platform (read back
/// with skopeo) adds up: its layers and its config.
fn pushed_platform_size(repository_ref: &str, child_digest: &str) -> u64 {
    let manifest: Value = serde_json::from_slice(&skopeo_inspect_raw(
        &format!("{repository_ref}@{child_digest}"),
        Some(ECR_CREDS),
    ))
    .unwrap();
    let layers: u64 = manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["size"].as_u64().unwrap())
        .sum();
    layers + manifest["config"]["size"].as_u64().unwrap()
}

#[test]
fn without_platform_a_multi_platform_base_gives_linux_amd64_only() {
    let w = world();
    create_repository(w, "multi-default", "MUTABLE");
    let site = Site::new("<h1>default platform</h1>");
    let repository = format!("{}/multi-default", ecr(w));
    let tag = format!("{repository}:v1");
    let built = image_build(
        w,
        &two_platform_base(w),
        &[site.add_html()],
        &[tag.as_str()],
        &[],
    );
    built.assert_exit(0, "succeeded");
    assert_eq!(built.json["platforms"], serde_json::json!(["linux/amd64"]));
    assert_eq!(
        built.json["platform_origin"],
        serde_json::json!({"from": "default"})
    );
    // What ECR holds: an index of one entry, as `--platform linux/amd64` gives (the base's
    // media type family kept; ECS runs an index by its linux/amd64 entry).
    let index: Value = serde_json::from_slice(&skopeo_inspect_raw(&tag, Some(ECR_CREDS))).unwrap();
    assert_eq!(
        index["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    let entries = index["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{index:#}");
    assert_eq!(
        entries[0]["platform"],
        serde_json::json!({"os": "linux", "architecture": "amd64"})
    );
    // No blob of another platform was planned.
    let roles: Vec<&str> = built.json["blobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["role"].as_str().unwrap())
        .collect();
    assert!(roles.iter().all(|r| !r.contains("arm64")), "{roles:?}");
    // The size shown is the pushed manifest's layers and config.
    let size = pushed_platform_size(&repository, entries[0]["digest"].as_str().unwrap());
    assert_eq!(
        built.json["platform_sizes"],
        serde_json::json!([{"platform": "linux/amd64", "bytes": size}])
    );
    assert!(
        built
            .stderr
            .contains("  platforms (the default; `--platform` chooses others, `--platform all` every one):\n    linux/amd64  "),
        "{}",
        built.stderr
    );

    // A base without linux/amd64: the default says so, and what to pass.
    let arm_base = format!("{}/library/arm-only:1", hub(w));
    SyntheticBase::new()
        .platforms(&["linux/arm64"])
        .push(&arm_base, None);
    let refused = image_build(
        w,
        &arm_base,
        &[site.add_html()],
        &[format!("{repository}:arm").as_str()],
        &[],
    );
    refused.assert_exit(2, "invalid-input");
    assert!(
        refused.stderr.contains(&format!(
            "base `{arm_base}` has no `linux/amd64` image; it has: linux/arm64; `linux/amd64` is the default platform (no `--platform` given)"
        )),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("`--platform all`"),
        "{}",
        refused.stderr
    );
}

#[test]
fn a_docker_v2_base_gets_a_docker_layer() {
    let w = world();
    create_repository(w, "dockerish", "MUTABLE");
    let base = format!("{}/library/dockerish:1", hub(w));
    SyntheticBase::new()
        .docker()
        .platforms(&["linux/amd64"])
        .single_manifest()
        .push(&base, None);
    let site = Site::new("<h1>docker</h1>");
    let tag = format!("{}/dockerish:v1", ecr(w));
    image_build(w, &base, &[site.add_html()], &[tag.as_str()], &[]).assert_exit(0, "succeeded");
    let manifest: Value =
        serde_json::from_slice(&skopeo_inspect_raw(&tag, Some(ECR_CREDS))).unwrap();
    assert_eq!(
        manifest["mediaType"],
        "application/vnd.docker.distribution.manifest.v2+json"
    );
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.docker.container.image.v1+json"
    );
    for layer in manifest["layers"].as_array().unwrap() {
        assert_eq!(
            layer["mediaType"],
            "application/vnd.docker.image.rootfs.diff.tar.gzip"
        );
    }
}

#[test]
fn the_built_nginx_image_serves_the_new_page() {
    let w = world();
    create_repository(w, "front", "MUTABLE");
    let port = free_port();
    let site = Site::new("<h1>served from the built image</h1>");
    let tag = format!("{}/front:v1", ecr(w));
    let built = nginx_build(w, &site, &tag, &[]);
    built.assert_exit(0, "succeeded");
    let unpacked = unpack(&tag, Some(ECR_CREDS), None);
    let rootfs = unpacked.rootfs();
    let meta = std::fs::metadata(rootfs.join("usr/share/nginx/html/index.html")).unwrap();
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    assert_eq!(
        (meta.uid(), meta.gid(), meta.permissions().mode() & 0o777),
        (0, 0, 0o644)
    );
    assert!(
        !rootfs.join("usr/share/nginx/html/.env").exists(),
        ".env files are not packed"
    );
    // The base's own files are still there (the layer wrote no directory entries over them).
    assert!(rootfs.join("etc/nginx/nginx.conf").is_file());
    listen_on(&rootfs, port);
    let nginx = ChrootNginx::start(&rootfs, port);
    let page = nginx.get("/");
    assert_eq!(page.status, 200);
    assert_eq!(page.text(), "<h1>served from the built image</h1>");
    assert_eq!(
        nginx.get("/assets/app-1a2b3c.js").text(),
        "console.log('app')"
    );
}

#[test]
fn a_broken_nginx_config_exits_2_and_pushes_nothing() {
    let w = world();
    let site = Site::new("<h1>x</h1>");
    site.write(
        "default.conf",
        "server {\n  listen 80;\n  servr_name example.com;\n}\n",
    );
    let tag = format!("{}/broken-conf:v1", ecr(w));
    let run = nginx_build(w, &site, &tag, &["--ecr-create"]);
    run.assert_exit(2, "invalid-input");
    assert!(
        run.stderr.contains("unknown directive \"servr_name\""),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("default.conf:3"),
        "the file and line: {}",
        run.stderr
    );
    assert_eq!(num(&w.registry_stats("ecr", "broken-conf"), "requests"), 0);
    let repos = w.try_aws(&[
        "ecr",
        "describe-repositories",
        "--repository-names",
        "broken-conf",
    ]);
    assert!(repos.is_err(), "no repository was created");
}

#[test]
fn an_immutable_tag_rerun_succeeds_and_a_moved_tag_fails_clearly() {
    let w = world();
    create_repository(w, "frozen", "IMMUTABLE");
    let site = Site::new("<h1>v1</h1>");
    let tag = format!("{}/frozen:release-1", ecr(w));
    let first = image_build(w, &nginx_base(w), &[site.add_html()], &[tag.as_str()], &[]);
    first.assert_exit(0, "succeeded");
    // The front refuses any PUT to an existing immutable tag: a re-run must write none.
    let again = image_build(w, &nginx_base(w), &[site.add_html()], &[tag.as_str()], &[]);
    again.assert_exit(0, "no-change");
    site.write("html/index.html", "<h1>v2</h1>");
    let moved = image_build(w, &nginx_base(w), &[site.add_html()], &[tag.as_str()], &[]);
    moved.assert_exit(1, "failed");
    let message = moved.json["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("tag `release-1` of the immutable repository `frozen` already points at"),
        "{message}"
    );
    assert!(
        message.contains(&digest_of(&first)) && message.contains(&digest_of(&moved)),
        "{message}"
    );
    assert_eq!(
        skopeo_digest(&tag, Some(ECR_CREDS)),
        digest_of(&first),
        "the tag did not move"
    );
    // A new tag in the same repository is fine.
    let new_tag = format!("{}/frozen:release-2", ecr(w));
    image_build(w, &nginx_base(w), &[site.add_html()], &[&new_tag], &[])
        .assert_exit(0, "succeeded");
}

#[test]
fn a_missing_ecr_repository_is_bad_input_unless_created() {
    let w = world();
    let site = Site::new("<h1>x</h1>");
    let tag = format!("{}/made-on-push:v1", ecr(w));
    let missing = image_build(w, &nginx_base(w), &[site.add_html()], &[tag.as_str()], &[]);
    missing.assert_exit(2, "invalid-input");
    assert!(
        missing
            .stderr
            .contains("ECR repository `made-on-push` does not exist"),
        "{}",
        missing.stderr
    );
    assert!(
        missing.stderr.contains("--ecr-create"),
        "{}",
        missing.stderr
    );
    assert_eq!(num(&w.registry_stats("ecr", "made-on-push"), "requests"), 0);
    let created = image_build(
        w,
        &nginx_base(w),
        &[site.add_html()],
        &[tag.as_str()],
        &["--ecr-create", "--ecr-tag-mutability", "immutable"],
    );
    created.assert_exit(0, "succeeded");
    assert_eq!(created.json["repository_created"], true);
    let repo = w.aws(&[
        "ecr",
        "describe-repositories",
        "--repository-names",
        "made-on-push",
    ]);
    assert_eq!(repo["repositories"][0]["imageTagMutability"], "IMMUTABLE");
    assert_eq!(skopeo_digest(&tag, Some(ECR_CREDS)), digest_of(&created));
    let bad_name = image_build(
        w,
        &nginx_base(w),
        &[site.add_html()],
        &[format!("{}/Bad_Name-:v1", ecr(w)).as_str()],
        &["--ecr-create"],
    );
    bad_name.assert_exit(2, "invalid-input");
}

#[test]
fn layer_escapes_are_refused_before_anything_is_pushed() {
    let w = world();
    create_repository(w, "escapes", "MUTABLE");
    let site = Site::new("<h1>x</h1>");
    let tag = format!("{}/escapes:v1", ecr(w));
    std::os::unix::fs::symlink("/etc/passwd", site.html().join("passwd")).unwrap();
    let symlink = image_build(w, &nginx_base(w), &[site.add_html()], &[tag.as_str()], &[]);
    symlink.assert_exit(2, "invalid-input");
    assert!(
        symlink.stderr.contains("leads outside"),
        "{}",
        symlink.stderr
    );
    std::fs::remove_file(site.html().join("passwd")).unwrap();
    let dotdot = image_build(
        w,
        &nginx_base(w),
        &[format!("{}:/usr/share/../../etc/", site.html().display())],
        &[tag.as_str()],
        &[],
    );
    dotdot.assert_exit(2, "invalid-input");
    assert!(dotdot.stderr.contains("contains `..`"), "{}", dotdot.stderr);
    let relative = image_build(
        w,
        &nginx_base(w),
        &[format!("{}:srv", site.html().display())],
        &[&tag],
        &[],
    );
    relative.assert_exit(2, "invalid-input");
    assert_eq!(num(&w.registry_stats("ecr", "escapes"), "requests"), 0);
}

#[test]
fn dropped_connections_and_registry_errors_mid_push_then_a_rerun_completes() {
    let w = world();
    create_repository(w, "flaky", "MUTABLE");
    let site = Site::new("<h1>flaky</h1>");
    let tag = format!("{}/flaky:v1", ecr(w));
    let planned = image_build(
        w,
        &nginx_base(w),
        &[site.add_html()],
        &[tag.as_str()],
        &["--dry-run"],
    );
    planned.assert_exit(0, "dry-run");
    // One dropped upload and one 500 on a manifest PUT: retried within the run.
    {
        let _faults = w.faults(r#"{"rules": [
            {"service": "registry", "front": "ecr", "method": "PUT", "path_regex": "^/v2/flaky/blobs/uploads/", "drop": true, "count": 1},
            {"service": "registry", "front": "ecr", "method": "PUT", "path_regex": "^/v2/flaky/manifests/", "status": 500, "code": "UNKNOWN", "count": 1}
        ]}"#);
        let survived = image_build(w, &nginx_base(w), &[site.add_html()], &[tag.as_str()], &[]);
        survived.assert_exit(0, "succeeded");
        assert_eq!(digest_of(&survived), digest_of(&planned));
    }
    // Every upload dropped: the run fails, the tag is not written; the re-run completes.
    site.write("html/index.html", "<h1>flaky v2</h1>");
    let failed = {
        let _faults = w.faults(r#"{"rules": [{"service": "registry", "front": "ecr", "method": "PUT", "path_regex": "^/v2/flaky/blobs/uploads/", "drop": true, "count": 1000}]}"#);
        image_build(w, &nginx_base(w), &[site.add_html()], &[tag.as_str()], &[])
    };
    failed.assert_exit(1, "error");
    assert_ne!(
        skopeo_digest(&tag, Some(ECR_CREDS)),
        digest_of(&failed),
        "the tag still names the old image"
    );
    let rerun = image_build(w, &nginx_base(w), &[site.add_html()], &[tag.as_str()], &[]);
    rerun.assert_exit(0, "succeeded");
    assert_eq!(skopeo_digest(&tag, Some(ECR_CREDS)), digest_of(&failed));
    let unpacked = unpack(&tag, Some(ECR_CREDS), None);
    assert_eq!(
        std::fs::read_to_string(unpacked.rootfs().join("usr/share/nginx/html/index.html")).unwrap(),
        "<h1>flaky v2</h1>"
    );
}

/// Incompressible bytes, so the gzip layer stays as large as the file.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn large_base_layers_are_streamed_across_in_ecr_sized_chunks() {
    let w = world();
    create_repository(w, "chunky", "MUTABLE");
    let base = format!("{}/library/chunky:1", hub(w));
    SyntheticBase::new()
        .platforms(&["linux/amd64"])
        .single_manifest()
        .file("opt/big.bin", &noise(12 * 1024 * 1024, 7), 0o644)
        .push(&base, None);
    let site = Site::new("<h1>chunky</h1>");
    let tag = format!("{}/chunky:v1", ecr(w));
    // Chunked above 1 MiB: the big base layer goes up as PATCHes of 8 MiB then 4 MiB and an
    // empty closing PUT, which the ECR front answers 201 (PATCH) and would refuse if a
    // non-final part were under 5 MiB.
    let built = image_build(
        w,
        &base,
        &[site.add_html()],
        &[tag.as_str()],
        &["--upload-chunk-threshold", "1048576"],
    );
    built.assert_exit(0, "succeeded");
    let stats = w.registry_stats("ecr", "chunky");
    assert_eq!(num(&stats["by_method"], "PATCH"), 2, "{stats}");
    let copied = built.json["blobs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["action"] == "copy")
        .count();
    assert!(copied >= 1, "{}", built.stdout);
    let unpacked = unpack(&tag, Some(ECR_CREDS), None);
    assert_eq!(
        std::fs::read(unpacked.rootfs().join("opt/big.bin")).unwrap(),
        noise(12 * 1024 * 1024, 7)
    );
}

#[test]
fn a_base_in_the_same_registry_is_mounted_not_copied() {
    let w = world();
    create_repository(w, "mirror/nginx", "MUTABLE");
    create_repository(w, "mounted", "MUTABLE");
    let mirror = format!("{}/mirror/nginx:1.22", ecr(w));
    deckhand_testkit::images::push_nginx_base_with(&mirror, Some(ECR_CREDS), None);
    let site = Site::new("<h1>mounted</h1>");
    let built = image_build(
        w,
        &mirror,
        &[site.add_html()],
        &[format!("{}/mounted:v1", ecr(w)).as_str()],
        &[],
    );
    built.assert_exit(0, "succeeded");
    let stats = w.registry_stats("ecr", "mounted");
    assert!(num(&stats, "mounts") >= 1, "{stats}");
    let layer_size = built.json["layer"]["size"].as_u64().unwrap();
    assert!(
        num(&stats, "bytes_received") <= layer_size + 16 * 1024,
        "{stats}"
    );
}

#[test]
fn dry_run_pushes_nothing_and_shows_the_plan() {
    let w = world();
    create_repository(w, "dry", "MUTABLE");
    let site = Site::new("<h1>dry</h1>");
    let run = image_build(
        w,
        &nginx_base(w),
        &[site.add_html()],
        &[format!("{}/dry:v1", ecr(w)).as_str()],
        &["--dry-run"],
    );
    run.assert_exit(0, "dry-run");
    assert!(run.json["bytes_to_send"].as_u64().unwrap() > 0);
    let stats = w.registry_stats("ecr", "dry");
    assert_eq!(
        num(&stats, "manifest_puts")
            + num(&stats, "blob_uploads_completed")
            + num(&stats["by_method"], "POST"),
        0,
        "{stats}"
    );
}

#[test]
fn nginx_build_rolls_the_service_only_when_the_image_changed() {
    let w = world();
    create_repository(w, "edge", "MUTABLE");
    let svc = ServiceFixture::create(
        w,
        "edge",
        &[deckhand_testkit::ContainerSpec::new("nginx", "nginx:1.22")],
        1,
        deckhand_testkit::Breaker::Off,
    );
    let site = Site::new("<h1>edge v1</h1>");
    let tag = format!("{}/edge:main", ecr(w));
    let deploy = [
        "--deploy-cluster",
        svc.cluster.as_str(),
        "--deploy-service",
        svc.service.as_str(),
        "--poll-interval",
        "200ms",
        "--timeout",
        "60s",
    ];
    let first = nginx_build(w, &site, &tag, &deploy);
    first.assert_exit(0, "succeeded");
    assert_eq!(
        first.json["deploy"]["verdict"], "succeeded",
        "{}",
        first.stdout
    );
    let image = first.json["image"].as_str().unwrap().to_string();
    let live = svc.task_definition(w, &svc.primary_task_definition(w));
    assert_eq!(
        live["taskDefinition"]["containerDefinitions"][0]["image"],
        image.as_str(),
        "pinned by digest"
    );
    let revisions = svc.revisions(w).len();

    let unchanged = nginx_build(w, &site, &tag, &deploy);
    unchanged.assert_exit(0, "no-change");
    assert_eq!(unchanged.json["deploy"]["verdict"], "no-change");
    assert_eq!(unchanged.json["bytes_uploaded"], 0);
    assert_eq!(svc.revisions(w).len(), revisions, "no new revision");
    assert_eq!(
        unchanged.json["deploy"]["api_calls"]["by_operation"]["ECS.UpdateService"],
        Value::Null,
        "no rollout"
    );

    site.write("html/index.html", "<h1>edge v2</h1>");
    let changed = nginx_build(w, &site, &tag, &deploy);
    changed.assert_exit(0, "succeeded");
    assert_eq!(changed.json["deploy"]["verdict"], "succeeded");
    assert_eq!(svc.revisions(w).len(), revisions + 1);
    assert_ne!(changed.json["image"], first.json["image"]);
}

/// `nginx build` of `base` into `tag`, rolling `svc` (its `--deploy-*` flags).
fn nginx_build_onto(w: &World, site: &Site, base: &str, tag: &str, svc: &ServiceFixture) -> Run {
    let (ecr, html, conf) = (
        ecr(w),
        site.html().display().to_string(),
        site.conf().display().to_string(),
    );
    run(
        w,
        &[
            "nginx",
            "build",
            "--html",
            &html,
            "--conf",
            &conf,
            "--base",
            base,
            "--tag",
            tag,
            "--ecr-registry",
            &ecr,
            "--deploy-cluster",
            &svc.cluster,
            "--deploy-service",
            &svc.service,
            "--poll-interval",
            "200ms",
            "--timeout",
            "60s",
        ],
    )
}

#[test]
fn nginx_build_builds_the_platform_its_service_runs() {
    let w = world();
    create_repository(w, "graviton", "MUTABLE");
    let svc = ServiceFixture::create_with(
        w,
        "graviton",
        &[deckhand_testkit::ContainerSpec::new("nginx", "nginx:1.22")],
        1,
        deckhand_testkit::Breaker::Off,
        &[
            "--runtime-platform",
            "cpuArchitecture=ARM64,operatingSystemFamily=LINUX",
        ],
    );
    let live = svc.task_definition(w, &svc.initial_task_definition);
    assert_eq!(
        live["taskDefinition"]["runtimePlatform"]["cpuArchitecture"], "ARM64",
        "the world keeps runtimePlatform: {live:#}"
    );
    let site = Site::new("<h1>graviton</h1>");
    let tag = format!("{}/graviton:main", ecr(w));

    // A missing service is bad input, found before anything is pushed.
    let missing = ServiceFixture {
        service: "no-such-service".into(),
        ..svc.clone()
    };
    let refused = nginx_build_onto(w, &site, &two_platform_base(w), &tag, &missing);
    refused.assert_exit(2, "invalid-input");
    let stats = w.registry_stats("ecr", "graviton");
    assert_eq!(num(&stats, "manifest_puts"), 0, "{stats}");
    assert_eq!(num(&stats, "blob_uploads_completed"), 0, "{stats}");

    let built = nginx_build_onto(w, &site, &two_platform_base(w), &tag, &svc);
    built.assert_exit(0, "succeeded");
    assert_eq!(
        built.json["deploy"]["verdict"], "succeeded",
        "{}",
        built.stdout
    );
    assert_eq!(built.json["platforms"], serde_json::json!(["linux/arm64"]));
    assert_eq!(
        built.json["platform_origin"],
        serde_json::json!({
            "from": "service",
            "cluster": "graviton",
            "service": "graviton",
            "task_definition": svc.initial_task_definition,
        })
    );
    let index: Value = serde_json::from_slice(&skopeo_inspect_raw(&tag, Some(ECR_CREDS))).unwrap();
    let entries = index["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{index:#}");
    assert_eq!(entries[0]["platform"]["architecture"], "arm64");
    let config = skopeo_inspect_config(&tag, Some(ECR_CREDS), Some(("linux", "arm64")));
    assert_eq!(config["architecture"], "arm64");
    assert!(
        built.stderr.contains(
            "platform: linux/arm64 (from service `graviton`'s task definition `graviton:"
        ),
        "{}",
        built.stderr
    );
    let rolled = svc.task_definition(w, &svc.primary_task_definition(w));
    assert_eq!(
        rolled["taskDefinition"]["containerDefinitions"][0]["image"], built.json["image"],
        "the service runs the arm64 build"
    );

    // A single-platform base of another architecture: refused for this service, with a hint.
    let amd_only = format!("{}/library/amd-only:1", hub(w));
    SyntheticBase::new()
        .platforms(&["linux/amd64"])
        .single_manifest()
        .push(&amd_only, None);
    let wrong = nginx_build_onto(w, &site, &amd_only, &tag, &svc);
    wrong.assert_exit(2, "invalid-input");
    assert!(
        wrong.stderr.contains(&format!(
            "base `{amd_only}` has no `linux/arm64` image; it has: linux/amd64; `linux/arm64` is the platform service `graviton` runs"
        )),
        "{}",
        wrong.stderr
    );
    assert!(
        wrong
            .stderr
            .contains("or pass `--platform linux/amd64` to build it anyway"),
        "{}",
        wrong.stderr
    );
}

#[test]
fn ecr_login_hands_out_moto_token_and_masks_it_in_actions() {
    let w = world();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let plain = w
        .command(BIN)
        .args(["ecr", "login", "--registry", &ecr(w)])
        .output()
        .unwrap();
    assert!(
        plain.status.success(),
        "{}",
        String::from_utf8_lossy(&plain.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&plain.stdout).trim(),
        "123456789012-auth-token"
    );
    let actions = w
        .command(BIN)
        .args(["ecr", "login", "--registry", &ecr(w)])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &out)
        .output()
        .unwrap();
    assert!(actions.status.success());
    assert!(
        actions.stdout.is_empty(),
        "no password on stdout in Actions"
    );
    let stderr = String::from_utf8_lossy(&actions.stderr);
    let mask = stderr
        .find("::add-mask::123456789012-auth-token")
        .expect("masked");
    assert!(!stderr[..mask].contains("123456789012-auth-token"));
    let outputs = std::fs::read_to_string(&out).unwrap();
    assert!(
        outputs.contains(&format!("registry={}", ecr(w))),
        "{outputs}"
    );
    assert!(
        outputs.contains("username=AWS") && outputs.contains("password=123456789012-auth-token"),
        "{outputs}"
    );
}

/// Processes whose root directory is a smoke run's (a leftover would keep serving).
fn smoke_processes() -> Vec<String> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| {
            let e = e.ok()?;
            let root = std::fs::read_link(e.path().join("root")).ok()?;
            root.to_string_lossy()
                .contains("deckhand-smoke")
                .then(|| e.file_name().to_string_lossy().into_owned())
        })
        .collect()
}

fn assert_nothing_pushed(w: &World, repo: &str, tag: &str) {
    let stats = w.registry_stats("ecr", repo);
    assert_eq!(
        (
            num(&stats, "blob_uploads_completed"),
            num(&stats, "manifest_puts"),
            num(&stats, "mounts")
        ),
        (0, 0, 0),
        "nothing was pushed: {stats}"
    );
    let inspect = std::process::Command::new("skopeo")
        .args([
            "inspect",
            "--tls-verify=false",
            "--creds",
            ECR_CREDS,
            "--raw",
        ])
        .arg(format!("docker://{tag}"))
        .output()
        .unwrap();
    assert!(!inspect.status.success(), "the tag does not exist: {tag}");
}

#[test]
fn the_smoke_run_gets_the_added_index_html_from_the_built_image_before_the_push() {
    let w = world();
    create_repository(w, "smoke-ok", "MUTABLE");
    let site = Site::new("<h1>smoke-tested</h1>");
    let tag = format!("{}/smoke-ok:v1", ecr(w));
    let built = nginx_build(w, &site, &tag, &[]);
    built.assert_exit(0, "succeeded");
    let smoke = &built.json["smoke"];
    assert_eq!(smoke["outcome"], "passed", "{smoke}");
    assert_eq!(
        (
            smoke["status"].as_u64(),
            smoke["runtime"].as_str(),
            smoke["request"].as_str()
        ),
        (Some(200), Some("chroot"), Some("GET :80/"))
    );
    // The image's own access log line: the answer came from the nginx of the built image.
    assert!(
        smoke["output"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l.as_str().unwrap().contains("\"GET / HTTP/1.0\" 200")),
        "{smoke}"
    );
    assert!(
        built.stderr.contains("smoke run: GET :80/ answered 200"),
        "{}",
        built.stderr
    );
    assert_eq!(skopeo_digest(&tag, Some(ECR_CREDS)), digest_of(&built));
    assert!(
        smoke_processes().is_empty(),
        "the smoke run left processes behind"
    );

    // The same build again: the tag already points at the digest, so there is nothing to
    // prove or push.
    let again = nginx_build(w, &site, &tag, &[]);
    again.assert_exit(0, "no-change");
    assert!(again.json["smoke"].is_null(), "{}", again.json);
}

#[test]
fn a_wrong_root_passes_nginx_t_but_the_smoke_run_stops_the_push_with_nginx_s_words() {
    let w = world();
    create_repository(w, "smoke-root", "MUTABLE");
    let site = Site::new("<h1>x</h1>");
    site.write(
        "default.conf",
        "server {\n  listen 80;\n  location / { root /usr/share/nginx/site; }\n}\n",
    );
    let tag = format!("{}/smoke-root:v1", ecr(w));
    for extra in [&[][..], &["--dry-run"][..]] {
        let run = nginx_build(w, &site, &tag, extra);
        run.assert_exit(2, "invalid-input");
        assert!(
            run.stderr.contains("GET / answered 404 (expected 2xx)"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("nothing was pushed"), "{}", run.stderr);
        // nginx's own error line, from the container's output.
        assert!(
            run.stderr
                .contains("\"/usr/share/nginx/site/index.html\" is not found"),
            "{}",
            run.stderr
        );
        assert_eq!(run.json["smoke"]["outcome"], "failed");
    }
    assert_nothing_pushed(w, "smoke-root", &tag);
    assert!(smoke_processes().is_empty());

    // `--skip-smoke` pushes it (the user's call).
    let skipped = nginx_build(w, &site, &tag, &["--skip-smoke"]);
    skipped.assert_exit(0, "succeeded");
    assert!(skipped.stderr.contains("smoke run: not run (--skip-smoke)"));
}

#[test]
fn a_page_that_is_not_the_added_index_html_fails_the_smoke_run() {
    let w = world();
    create_repository(w, "smoke-body", "MUTABLE");
    let site = Site::new("<h1>the real page</h1>");
    // A stub answer shadows the page: 200, but not the site.
    site.write(
        "default.conf",
        "server {\n  listen 80;\n  location = / { return 200 \"ok\"; }\n  location / { root /usr/share/nginx/html; }\n}\n",
    );
    let tag = format!("{}/smoke-body:v1", ecr(w));
    let run = nginx_build(w, &site, &tag, &[]);
    run.assert_exit(2, "invalid-input");
    assert!(
        run.stderr
            .contains("GET / answered 200 but the body is not"),
        "{}",
        run.stderr
    );
    assert_nothing_pushed(w, "smoke-body", &tag);
    // Another path is judged by its status only.
    let health = nginx_build(w, &site, &tag, &["--smoke-path", "/index.html"]);
    health.assert_exit(0, "succeeded");
}

#[test]
fn image_build_runs_the_smoke_run_only_when_asked_and_an_image_that_never_listens_fails_it() {
    let w = world();
    create_repository(w, "smoke-image", "MUTABLE");
    let site = Site::new("<h1>image build</h1>");
    let tag = format!("{}/smoke-image:v1", ecr(w));
    let base = nginx_base(w);
    let plain = image_build(w, &base, &[site.add_html()], &[&tag], &["--dry-run"]);
    plain.assert_exit(0, "dry-run");
    assert!(plain.json["smoke"].is_null(), "not asked, not run");

    // Nothing listens on 8080: the run gives up at its timeout with the reason.
    let deaf = image_build(
        w,
        &base,
        &[site.add_html()],
        &[&tag],
        &["--smoke-port", "8080", "--smoke-timeout", "2s"],
    );
    deaf.assert_exit(2, "invalid-input");
    assert!(
        deaf.stderr.contains("nothing answered on port 8080"),
        "{}",
        deaf.stderr
    );
    assert_nothing_pushed(w, "smoke-image", &tag);

    let asked = image_build(
        w,
        &base,
        &[site.add_html()],
        &[&tag],
        &["--smoke-path", "/"],
    );
    asked.assert_exit(0, "succeeded");
    assert_eq!(asked.json["smoke"]["outcome"], "passed");

    let bad = image_build(
        w,
        &base,
        &[site.add_html()],
        &[&tag],
        &["--smoke-path", "/", "--smoke-status", "ok"],
    );
    bad.assert_exit(2, "invalid-input");
    assert!(bad.stderr.contains("`--smoke-status ok`"), "{}", bad.stderr);
}

#[test]
fn killing_deckhand_mid_smoke_run_takes_the_container_with_it() {
    let w = world();
    create_repository(w, "smoke-kill", "MUTABLE");
    let site = Site::new("<h1>k</h1>");
    let tag = format!("{}/smoke-kill:v1", ecr(w));
    let ecr_host = ecr(w);
    let base = nginx_base(w);
    let mut child = w
        .command(BIN)
        .args(["nginx", "build", "--html"])
        .arg(site.html())
        .arg("--conf")
        .arg(site.conf())
        .args(["--base", &base, "--tag", &tag, "--ecr-registry", &ecr_host])
        .args(["--smoke-port", "8080", "--smoke-timeout", "120s"])
        .envs(CHROOT.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while smoke_processes().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the smoke run never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !smoke_processes().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the container outlived deckhand: {:?}",
            smoke_processes()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_nothing_pushed(w, "smoke-kill", &tag);
}

#[test]
fn without_root_nginx_build_skips_the_smoke_run_with_a_warning_and_an_asked_one_is_an_error() {
    use std::os::unix::fs::PermissionsExt;
    let w = world();
    create_repository(w, "smoke-noroot", "MUTABLE");
    let site = Site::new("<h1>n</h1>");
    for dir in [site.dir.path().to_path_buf(), site.html()] {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let tag = format!("{}/smoke-noroot:v1", ecr(w));
    let (ecr_host, base) = (ecr(w), nginx_base(w));
    let as_nobody = |args: &[&str]| {
        let mut cmd = w.command("setpriv");
        cmd.args([
            "--reuid",
            "65534",
            "--regid",
            "65534",
            "--clear-groups",
            "--",
        ])
        .arg(BIN)
        .args(["--output", "json"])
        .args(args)
        .env("HOME", "/nonexistent")
        .env("GITHUB_ACTIONS", "true");
        Run::from_output(&cmd.output().unwrap())
    };
    let (html, conf) = (
        site.html().display().to_string(),
        site.conf().display().to_string(),
    );
    let common = [
        "--base",
        &base,
        "--tag",
        &tag,
        "--ecr-registry",
        &ecr_host,
        "--dry-run",
    ];
    let mut nginx = vec![
        "nginx",
        "build",
        "--html",
        &html,
        "--conf",
        &conf,
        "--skip-validate",
    ];
    nginx.extend(common);
    let skipped = as_nobody(&nginx);
    skipped.assert_exit(0, "dry-run");
    assert_eq!(
        skipped.json["smoke"]["outcome"], "skipped",
        "{}",
        skipped.json
    );
    assert!(
        skipped.stderr.contains(
            "::warning title=deckhand%3A smoke run skipped::the smoke run's daemonless runtime needs root"
        ),
        "{}",
        skipped.stderr
    );
    let add = site.add_html();
    let mut image = vec!["image", "build", "--add", &add, "--smoke-path", "/"];
    image.extend(common);
    let refused = as_nobody(&image);
    refused.assert_exit(1, "error");
    assert!(
        refused.stderr.contains("the smoke run cannot run here"),
        "{}",
        refused.stderr
    );
}

#[test]
fn the_docker_runtime_without_an_engine_is_a_skip_for_nginx_and_an_error_when_asked() {
    let w = world();
    create_repository(w, "smoke-docker", "MUTABLE");
    let site = Site::new("<h1>d</h1>");
    let tag = format!("{}/smoke-docker:v1", ecr(w));
    // No engine behind DOCKER_HOST: `auto` falls back to the daemonless runtime, `docker`
    // cannot run.
    let no_engine: &[(&str, &str)] = &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")];
    let nginx = nginx_build_in(
        w,
        &site,
        &tag,
        &["--smoke-runtime", "docker", "--dry-run"],
        no_engine,
    );
    nginx.assert_exit(0, "dry-run");
    assert_eq!(nginx.json["smoke"]["outcome"], "skipped", "{}", nginx.json);
    assert!(
        nginx.json["smoke"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("docker")),
        "{}",
        nginx.json
    );
    let auto = nginx_build_in(
        w,
        &site,
        &tag,
        &["--smoke-runtime", "auto", "--dry-run"],
        no_engine,
    );
    assert_eq!(auto.json["smoke"]["runtime"], "chroot", "{}", auto.json);
    let asked = image_build_in(
        w,
        &nginx_base(w),
        &[site.add_html()],
        &[&tag],
        &[
            "--smoke-path",
            "/",
            "--smoke-runtime",
            "docker",
            "--dry-run",
        ],
        no_engine,
    );
    asked.assert_exit(1, "error");
    assert!(
        asked.stderr.contains("the smoke run cannot run here"),
        "{}",
        asked.stderr
    );
    assert_nothing_pushed(w, "smoke-docker", &tag);
}

/// The tests on the shared engine look at everything on it (what is left behind), so they take
/// turns.
static ENGINE: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn the_docker_runtime_loads_and_runs_the_built_image_on_a_real_engine() {
    let _engine = ENGINE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let w = world();
    let docker: &[(&str, &str)] = &[
        ("DOCKER_HOST", deckhand_testkit::docker_host()),
        ("DECKHAND_SMOKE_RUNTIME", "docker"),
    ];
    create_repository(w, "smoke-engine", "MUTABLE");
    let site = Site::new("<h1>served by docker</h1>");
    let tag = format!("{}/smoke-engine:v1", ecr(w));
    let good = nginx_build_in(w, &site, &tag, &[], docker);
    good.assert_exit(0, "succeeded");
    let smoke = &good.json["smoke"];
    assert_eq!(
        (
            smoke["outcome"].as_str(),
            smoke["runtime"].as_str(),
            smoke["status"].as_u64()
        ),
        (Some("passed"), Some("docker"), Some(200)),
        "{smoke}"
    );
    // Its access log line, from `docker logs`.
    assert!(
        smoke["output"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l.as_str().unwrap().contains("\"GET / HTTP/1.0\" 200")),
        "{smoke}"
    );

    let broken = Site::new("<h1>x</h1>");
    broken.write(
        "default.conf",
        "server {\n  listen 80;\n  location / { root /usr/share/nginx/site; }\n}\n",
    );
    let tag2 = format!("{}/smoke-engine:v2", ecr(w));
    let red = nginx_build_in(w, &broken, &tag2, &[], docker);
    red.assert_exit(2, "invalid-input");
    assert!(
        red.stderr.contains("GET / answered 404 (expected 2xx)")
            && red
                .stderr
                .contains("\"/usr/share/nginx/site/index.html\" is not found"),
        "{}",
        red.stderr
    );
    // No container of the runs is left on the engine. (Loaded images are removed too, but one
    // image of a smoke run was seen left behind in a full CI run, not reproduced alone; not
    // asserted until that is understood.)
    let leftovers = std::process::Command::new("docker")
        .env("DOCKER_HOST", deckhand_testkit::docker_host())
        .args([
            "ps",
            "--all",
            "--quiet",
            "--filter",
            "label=deckhand.smoke.owner",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&leftovers.stdout).trim(), "");
}

#[test]
fn a_container_left_by_a_killed_deckhand_is_removed_by_the_next_docker_smoke_run() {
    let _engine = ENGINE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let w = world();
    let host = deckhand_testkit::docker_host();
    let engine = |args: &[&str]| {
        let out = std::process::Command::new("docker")
            .env("DOCKER_HOST", host)
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    create_repository(w, "smoke-orphan", "MUTABLE");
    let site = Site::new("<h1>o</h1>");
    let tag = format!("{}/smoke-orphan:v1", ecr(w));
    let (ecr_host, base) = (ecr(w), nginx_base(w));
    let mut child = w
        .command(BIN)
        .args(["nginx", "build", "--html"])
        .arg(site.html())
        .arg("--conf")
        .arg(site.conf())
        .args(["--base", &base, "--tag", &tag, "--ecr-registry", &ecr_host])
        .args([
            "--smoke-port",
            "8080",
            "--smoke-timeout",
            "120s",
            "--smoke-runtime",
            "docker",
        ])
        .env("DOCKER_HOST", host)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let owner = format!("label=deckhand.smoke.owner={}", child.id());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while engine(&["ps", "--quiet", "--filter", &owner]).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the container never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !engine(&["ps", "--all", "--quiet", "--filter", &owner]).is_empty(),
        "a SIGKILLed deckhand cannot remove its container"
    );
    let next = nginx_build_in(
        w,
        &site,
        &tag,
        &["--dry-run"],
        &[("DOCKER_HOST", host), ("DECKHAND_SMOKE_RUNTIME", "docker")],
    );
    next.assert_exit(0, "dry-run");
    assert_eq!(
        engine(&["ps", "--all", "--quiet", "--filter", &owner]),
        "",
        "the next run removed the orphan"
    );
    assert_nothing_pushed(w, "smoke-orphan", &tag);
}
