//! Container image fixtures and checks for `deckhand image build` and `deckhand nginx build`,
//! all daemonless: there is no Docker engine on these machines.
//!
//! - Base images: [`push_nginx_base`] (a runnable nginx made from the host's Debian nginx by
//!   `scripts/nginx-base.sh`) and [`SyntheticBase`] (a hand-written multi-platform index with
//!   the shapes real bases have: Docker or OCI media types, buildx attestation entries,
//!   Docker-only config fields).
//! - Independent checks with clients deckhand did not write: skopeo ([`skopeo_inspect_raw`],
//!   [`skopeo_inspect_config`], [`skopeo_digest`]), umoci ([`unpack`]) and Debian's nginx run in
//!   a chroot of the unpacked image ([`ChrootNginx`], [`chroot_nginx_test`]).
//! - [`ScratchRegistry`]: a throwaway CNCF distribution registry of a test's own.
//!
//! Every helper panics with the command and its stderr when something fails: they are for tests.

use std::collections::BTreeMap;
use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use flate2::{Compression, GzBuilder};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tempfile::TempDir;

use crate::repo_root;

/// OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image config.
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// OCI gzip layer.
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// Docker manifest list.
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Docker image manifest (schema 2).
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker image config.
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// Docker gzip layer.
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/// An in-toto attestation blob, as buildx stores them.
pub const IN_TOTO: &str = "application/vnd.in-toto+json";

// ------------------------------------------------------------------------------------------------
// Running tools

/// Runs a command to completion; panics with its stderr unless it succeeded.
fn run(cmd: &mut Command) -> Output {
    let shown = format!("{cmd:?}");
    let out = match cmd.stdin(Stdio::null()).output() {
        Ok(out) => out,
        Err(e) if e.kind() == ErrorKind::NotFound => panic!(
            "{shown}: `{}` is not installed (world/install.sh installs docker-registry, skopeo, umoci and nginx-light)",
            cmd.get_program().to_string_lossy()
        ),
        Err(e) => panic!("{shown}: cannot start: {e}"),
    };
    assert!(
        out.status.success(),
        "{shown} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    out
}

/// `docker://REF` for a reference given with or without the transport.
fn docker_ref(reference: &str) -> String {
    if reference.contains("://") {
        reference.to_string()
    } else {
        format!("docker://{reference}")
    }
}

/// `sha256:<hex>` of some bytes.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

// ------------------------------------------------------------------------------------------------
// The nginx base image

/// Builds the nginx base image (`scripts/nginx-base.sh`) and pushes it to `dest`
/// (`HOST:PORT/REPO:TAG`, plain HTTP); returns the pushed manifest digest.
pub fn push_nginx_base(dest: &str) -> String {
    push_nginx_base_with(dest, None, None)
}

/// [`push_nginx_base`] with registry credentials (`user:pass`) and the architecture the image
/// claims (the binaries are always the host's).
pub fn push_nginx_base_with(
    dest: &str,
    creds: Option<&str>,
    platform_arch: Option<&str>,
) -> String {
    let mut cmd = Command::new("bash");
    cmd.arg(repo_root().join("scripts/nginx-base.sh")).arg(dest);
    if let Some(arch) = platform_arch {
        cmd.args(["--platform-arch", arch]);
    }
    match creds {
        Some(c) => cmd.env("NGINX_BASE_CREDS", c),
        None => cmd.env_remove("NGINX_BASE_CREDS"),
    };
    let out = run(&mut cmd);
    let digest = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "scripts/nginx-base.sh printed {digest:?}, not a digest"
    );
    digest
}

// ------------------------------------------------------------------------------------------------
// Synthetic base images

/// Which media types a [`SyntheticBase`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaTypes {
    /// OCI index, manifests, configs and layers.
    Oci,
    /// Docker manifest list, schema 2 manifests, Docker configs and layers (what `docker push`
    /// of a classic build and many Docker Hub images have).
    Docker,
}

/// An `os/architecture[/variant]` platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    /// `linux`, or `unknown` on an attestation entry.
    pub os: String,
    /// `amd64`, `arm64`, ...
    pub architecture: String,
    /// `v8`, `v7`, ...
    pub variant: Option<String>,
}

impl Platform {
    /// Parses `os/arch` or `os/arch/variant`.
    pub fn parse(s: &str) -> Self {
        let parts: Vec<&str> = s.split('/').collect();
        assert!(
            (2..=3).contains(&parts.len()) && parts.iter().all(|p| !p.is_empty()),
            "platform {s:?} is not os/arch[/variant]"
        );
        Self {
            os: parts[0].into(),
            architecture: parts[1].into(),
            variant: parts.get(2).map(|v| (*v).to_string()),
        }
    }

    fn to_json(&self) -> Value {
        let mut p = json!({"architecture": self.architecture, "os": self.os});
        if let Some(v) = &self.variant {
            p["variant"] = json!(v);
        }
        p
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// A hand-written base image: an index of one or more platforms, each a manifest with its own
/// config and small gzip layers, optionally with buildx-style attestation entries.
///
/// Everything is deterministic (fixed times, sorted tar entries, gzip without a timestamp), so
/// the same builder always gives the same digests. Defaults: OCI media types, `linux/amd64` and
/// `linux/arm64`, two layers per platform, no attestation.
///
/// Each platform's first layer holds `etc/synthetic-base/platform` (its platform, so layers
/// differ between platforms) and `etc/synthetic-base/os-release`; the second holds
/// `usr/share/synthetic-base/README` (mode 0644) and `usr/local/bin/hello` (a 0755 shell script);
/// files added with [`SyntheticBase::file`] go into the last layer.
#[derive(Debug, Clone)]
pub struct SyntheticBase {
    media_types: MediaTypes,
    platforms: Vec<Platform>,
    layers: usize,
    attestations: bool,
    single_manifest: bool,
    labels: BTreeMap<String, String>,
    files: Vec<(String, Vec<u8>, u32)>,
}

impl Default for SyntheticBase {
    fn default() -> Self {
        Self::new()
    }
}

/// One manifest of a pushed (or written) image.
#[derive(Debug, Clone)]
pub struct SyntheticManifest {
    /// Manifest digest.
    pub digest: String,
    /// Manifest media type.
    pub media_type: String,
    /// The platform of its index entry (`unknown/unknown` for an attestation).
    pub platform: Platform,
    /// Config digest.
    pub config_digest: String,
    /// Layer digests, bottom first.
    pub layer_digests: Vec<String>,
    /// For an attestation manifest, the digest of the image manifest it describes.
    pub attests: Option<String>,
    /// The manifest bytes.
    pub raw: Vec<u8>,
}

/// What [`SyntheticBase::write_layout`] wrote or [`SyntheticBase::push`] pushed.
#[derive(Debug, Clone)]
pub struct SyntheticImage {
    /// The top-level digest: the index, or the manifest of a single-manifest image.
    pub digest: String,
    /// Its media type.
    pub media_type: String,
    /// Its bytes.
    pub raw: Vec<u8>,
    /// The index's manifests in index order (image manifests, then attestations), or the one
    /// manifest of a single-manifest image.
    pub manifests: Vec<SyntheticManifest>,
    /// Where it was pushed (`HOST:PORT/REPO:TAG`), empty when only written.
    pub reference: String,
}

impl SyntheticImage {
    /// The image manifest for a platform (`linux/arm64`); panics when there is none.
    pub fn platform(&self, platform: &str) -> &SyntheticManifest {
        let want = Platform::parse(platform);
        self.manifests
            .iter()
            .find(|m| {
                m.attests.is_none()
                    && m.platform.os == want.os
                    && m.platform.architecture == want.architecture
                    && (want.variant.is_none() || m.platform.variant == want.variant)
            })
            .unwrap_or_else(|| panic!("no {platform} manifest in {:?}", self.manifests))
    }

    /// The attestation manifests.
    pub fn attestations(&self) -> Vec<&SyntheticManifest> {
        self.manifests
            .iter()
            .filter(|m| m.attests.is_some())
            .collect()
    }

    /// `HOST:PORT/REPO@DIGEST` of the pushed top-level object.
    pub fn by_digest(&self) -> String {
        self.reference_at(&self.digest)
    }

    /// `HOST:PORT/REPO@DIGEST` for any digest in the pushed repository.
    pub fn reference_at(&self, digest: &str) -> String {
        assert!(!self.reference.is_empty(), "the image was not pushed");
        format!("{}@{digest}", repository_of(&self.reference))
    }
}

/// `HOST:PORT/REPO` of `HOST:PORT/REPO:TAG` or `HOST:PORT/REPO@DIGEST`.
fn repository_of(reference: &str) -> &str {
    let reference = reference.trim_start_matches("docker://");
    if let Some((repo, _)) = reference.split_once('@') {
        return repo;
    }
    // A colon after the last slash starts the tag; one before it is the port.
    match reference.rfind(':') {
        Some(colon) if colon > reference.rfind('/').unwrap_or(0) => &reference[..colon],
        _ => reference,
    }
}

/// Every blob of an image (layers, configs, manifests, the index) by digest.
#[derive(Default)]
struct Blobs(BTreeMap<String, Vec<u8>>);

impl Blobs {
    /// Stores bytes; returns a descriptor `{mediaType, digest, size}`.
    fn put(&mut self, media_type: &str, bytes: Vec<u8>) -> Value {
        let digest = sha256_digest(&bytes);
        let d = json!({"mediaType": media_type, "digest": digest, "size": bytes.len()});
        self.0.insert(digest, bytes);
        d
    }
}

/// A fixed creation time: the same builder gives the same digests on every run.
const CREATED: &str = "2024-01-01T00:00:00Z";
/// The mtime of every tar entry (the same instant).
const MTIME: u64 = 1_704_067_200;

impl SyntheticBase {
    /// The defaults (see the type's documentation).
    pub fn new() -> Self {
        Self {
            media_types: MediaTypes::Oci,
            platforms: vec![
                Platform::parse("linux/amd64"),
                Platform::parse("linux/arm64"),
            ],
            layers: 2,
            attestations: false,
            single_manifest: false,
            labels: BTreeMap::from([
                (
                    "org.opencontainers.image.title".into(),
                    "synthetic base".into(),
                ),
                ("com.example.base".into(), "true".into()),
            ]),
            files: Vec::new(),
        }
    }

    /// Docker or OCI media types.
    pub fn media_types(mut self, media_types: MediaTypes) -> Self {
        self.media_types = media_types;
        self
    }

    /// Docker v2 media types (manifest list, schema 2 manifests, Docker configs and layers).
    pub fn docker(self) -> Self {
        self.media_types(MediaTypes::Docker)
    }

    /// The platforms, as `os/arch[/variant]`, in index order.
    pub fn platforms(mut self, platforms: &[&str]) -> Self {
        assert!(!platforms.is_empty(), "a base needs at least one platform");
        self.platforms = platforms.iter().map(|p| Platform::parse(p)).collect();
        self
    }

    /// Layers per platform (1 or more).
    pub fn layers(mut self, layers: usize) -> Self {
        assert!(layers >= 1, "a base needs at least one layer");
        self.layers = layers;
        self
    }

    /// Adds, after the image manifests, one buildx-style attestation manifest per platform:
    /// an OCI manifest whose layer is an in-toto statement (`application/vnd.in-toto+json`),
    /// in the index as platform `unknown/unknown` with the annotations
    /// `vnd.docker.reference.type: attestation-manifest` and `vnd.docker.reference.digest`.
    pub fn attestations(mut self, on: bool) -> Self {
        self.attestations = on;
        self
    }

    /// Pushes the one platform's manifest alone, without an index.
    pub fn single_manifest(mut self) -> Self {
        self.single_manifest = true;
        self
    }

    /// Adds or replaces a config label.
    pub fn label(mut self, key: &str, value: &str) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// Adds a file (a path relative to the root, mode e.g. 0o644) to every platform's last layer.
    pub fn file(mut self, path: &str, contents: &[u8], mode: u32) -> Self {
        let path = path.trim_start_matches('/');
        assert!(
            !path.is_empty() && !path.split('/').any(|c| c == ".." || c.is_empty()),
            "bad path {path:?}"
        );
        self.files.push((path.into(), contents.to_vec(), mode));
        self
    }

    fn types(&self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self.media_types {
            MediaTypes::Oci => (OCI_INDEX, OCI_MANIFEST, OCI_CONFIG, OCI_LAYER_GZIP),
            MediaTypes::Docker => (
                DOCKER_MANIFEST_LIST,
                DOCKER_MANIFEST,
                DOCKER_CONFIG,
                DOCKER_LAYER_GZIP,
            ),
        }
    }

    /// The files of layer `n` (0-based) of a platform.
    fn layer_files(&self, platform: &Platform, n: usize) -> Vec<TarEntry> {
        let last = n + 1 == self.layers;
        let mut files = Vec::new();
        match n {
            0 => {
                files.push(TarEntry::file(
                    "etc/synthetic-base/platform",
                    format!("{platform}\n").as_bytes(),
                    0o644,
                ));
                files.push(TarEntry::file(
                    "etc/synthetic-base/os-release",
                    b"NAME=\"synthetic base\"\nID=synthetic\n",
                    0o644,
                ));
            }
            1 => {
                files.push(TarEntry::file(
                    "usr/share/synthetic-base/README",
                    b"a base image written by deckhand-testkit\n",
                    0o644,
                ));
                files.push(TarEntry::file(
                    "usr/local/bin/hello",
                    b"#!/bin/sh\necho hello\n",
                    0o755,
                ));
            }
            _ => files.push(TarEntry::file(
                &format!("usr/share/synthetic-base/layer-{n}"),
                format!("layer {n}\n").as_bytes(),
                0o644,
            )),
        }
        if last {
            for (path, contents, mode) in &self.files {
                files.push(TarEntry::file(path, contents, *mode));
            }
        }
        files
    }

    /// Builds every blob; returns them with the top-level description.
    fn build(&self) -> (Blobs, SyntheticImage) {
        assert!(
            !self.single_manifest || self.platforms.len() == 1,
            "a single-manifest image has exactly one platform"
        );
        assert!(
            !(self.single_manifest && self.attestations),
            "attestations live in an index"
        );
        let (index_type, manifest_type, config_type, layer_type) = self.types();
        let mut blobs = Blobs::default();
        let mut manifests = Vec::new();
        for platform in &self.platforms {
            let mut layer_descs = Vec::new();
            let mut diff_ids = Vec::new();
            let mut history = Vec::new();
            for n in 0..self.layers {
                let tar = tar_bytes(&self.layer_files(platform, n));
                diff_ids.push(sha256_digest(&tar));
                layer_descs.push(blobs.put(layer_type, gzip(&tar)));
                history.push(json!({
                    "created": CREATED,
                    "created_by": format!("deckhand-testkit synthetic layer {n}"),
                }));
            }
            let mut config = json!({
                "created": CREATED,
                "architecture": platform.architecture,
                "os": platform.os,
                "config": {
                    "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                    "Cmd": ["/usr/local/bin/hello"],
                    "WorkingDir": "/",
                    "Labels": self.labels,
                    // Docker-only (not in the OCI config spec): must survive a rebuild.
                    "Healthcheck": {"Test": ["CMD", "true"], "Interval": 30_000_000_000_u64},
                },
                "rootfs": {"type": "layers", "diff_ids": diff_ids},
                "history": history,
            });
            if let Some(v) = &platform.variant {
                config["variant"] = json!(v);
            }
            let config_desc = blobs.put(config_type, serde_json::to_vec(&config).expect("json"));
            let manifest = json!({
                "schemaVersion": 2,
                "mediaType": manifest_type,
                "config": config_desc,
                "layers": layer_descs,
            });
            let raw = serde_json::to_vec(&manifest).expect("json");
            let desc = blobs.put(manifest_type, raw.clone());
            manifests.push(SyntheticManifest {
                digest: desc["digest"].as_str().unwrap_or_default().into(),
                media_type: manifest_type.into(),
                platform: platform.clone(),
                config_digest: config_desc["digest"].as_str().unwrap_or_default().into(),
                layer_digests: layer_descs
                    .iter()
                    .map(|d| d["digest"].as_str().unwrap_or_default().into())
                    .collect(),
                attests: None,
                raw,
            });
        }
        if self.attestations {
            let images = manifests.clone();
            for image in &images {
                manifests.push(attestation_manifest(&mut blobs, image));
            }
        }

        if self.single_manifest {
            let m = manifests.remove(0);
            let image = SyntheticImage {
                digest: m.digest.clone(),
                media_type: m.media_type.clone(),
                raw: m.raw.clone(),
                manifests: vec![m],
                reference: String::new(),
            };
            return (blobs, image);
        }
        let entries: Vec<Value> = manifests
            .iter()
            .map(|m| {
                let mut e = json!({
                    "mediaType": m.media_type,
                    "digest": m.digest,
                    "size": m.raw.len(),
                    "platform": m.platform.to_json(),
                });
                if let Some(child) = &m.attests {
                    e["annotations"] = json!({
                        "vnd.docker.reference.digest": child,
                        "vnd.docker.reference.type": "attestation-manifest",
                    });
                }
                e
            })
            .collect();
        let index = json!({"schemaVersion": 2, "mediaType": index_type, "manifests": entries});
        let raw = serde_json::to_vec(&index).expect("json");
        let desc = blobs.put(index_type, raw.clone());
        let image = SyntheticImage {
            digest: desc["digest"].as_str().unwrap_or_default().into(),
            media_type: index_type.into(),
            raw,
            manifests,
            reference: String::new(),
        };
        (blobs, image)
    }

    /// Writes an OCI image layout (`oci-layout`, `index.json` naming the image `tag`,
    /// `blobs/sha256/...`) at `dir`. With Docker media types the layout is valid but skopeo
    /// reads only OCI-typed entries of `index.json`; [`SyntheticBase::push`] handles that.
    pub fn write_layout(&self, dir: &Path, tag: &str) -> SyntheticImage {
        let (blobs, image) = self.build();
        write_oci_layout(dir, tag, &blobs, &image);
        image
    }

    /// Pushes the image to `dest` (`HOST:PORT/REPO:TAG`, with or without `docker://`; plain
    /// HTTP) with `skopeo copy --all --preserve-digests`, so the registry holds exactly these
    /// bytes and digests. `creds` is `user:pass`.
    pub fn push(&self, dest: &str, creds: Option<&str>) -> SyntheticImage {
        let (blobs, mut image) = self.build();
        let work = tempfile::tempdir().expect("temp dir");
        // skopeo 1.9's `oci:` transport only resolves index.json entries with OCI media types
        // ("no descriptor found for reference"), so Docker-typed images go through its `dir:`
        // transport instead, which takes any manifest type and keeps the bytes.
        let source = match self.media_types {
            MediaTypes::Oci => {
                let layout = work.path().join("layout");
                write_oci_layout(&layout, "image", &blobs, &image);
                format!("oci:{}:image", layout.display())
            }
            MediaTypes::Docker => {
                let dir = work.path().join("dir");
                write_dir_transport(&dir, &blobs, &image);
                format!("dir:{}", dir.display())
            }
        };
        let digestfile = work.path().join("digest");
        let mut cmd = Command::new("skopeo");
        cmd.args(["copy", "--quiet", "--all", "--preserve-digests"])
            .arg("--dest-tls-verify=false")
            .arg("--digestfile")
            .arg(&digestfile);
        if let Some(c) = creds {
            cmd.args(["--dest-creds", c]);
        }
        cmd.arg(&source).arg(docker_ref(dest));
        run(&mut cmd);
        let pushed = fs::read_to_string(&digestfile).expect("skopeo --digestfile");
        assert_eq!(
            pushed.trim(),
            image.digest,
            "skopeo pushed {dest} under another digest than the one written"
        );
        image.reference = dest.trim_start_matches("docker://").into();
        image
    }
}

/// A buildx-style attestation manifest for `image`: an image config for `unknown/unknown` (only
/// there for compatibility, buildkit says) and one in-toto statement layer.
fn attestation_manifest(blobs: &mut Blobs, image: &SyntheticManifest) -> SyntheticManifest {
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://slsa.dev/provenance/v0.2",
        "subject": [{
            "name": "pkg:docker/synthetic-base",
            "digest": {"sha256": image.digest.trim_start_matches("sha256:")},
        }],
        "predicate": {"builder": {"id": "deckhand-testkit"}, "buildType": "synthetic"},
    });
    let statement = serde_json::to_vec(&statement).expect("json");
    let diff_id = sha256_digest(&statement);
    let mut layer = blobs.put(IN_TOTO, statement);
    layer["annotations"] = json!({"in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"});
    let config = json!({
        "architecture": "unknown",
        "os": "unknown",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    });
    let config_desc = blobs.put(OCI_CONFIG, serde_json::to_vec(&config).expect("json"));
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config_desc,
        "layers": [layer],
    });
    let raw = serde_json::to_vec(&manifest).expect("json");
    let desc = blobs.put(OCI_MANIFEST, raw.clone());
    SyntheticManifest {
        digest: desc["digest"].as_str().unwrap_or_default().into(),
        media_type: OCI_MANIFEST.into(),
        platform: Platform::parse("unknown/unknown"),
        config_digest: config_desc["digest"].as_str().unwrap_or_default().into(),
        layer_digests: vec![layer["digest"].as_str().unwrap_or_default().into()],
        attests: Some(image.digest.clone()),
        raw,
    }
}

fn write_oci_layout(dir: &Path, tag: &str, blobs: &Blobs, image: &SyntheticImage) {
    let blob_dir = dir.join("blobs/sha256");
    fs::create_dir_all(&blob_dir).expect("create layout");
    for (digest, bytes) in &blobs.0 {
        fs::write(blob_dir.join(digest.trim_start_matches("sha256:")), bytes).expect("write blob");
    }
    fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).expect("oci-layout");
    let index = json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": image.media_type,
            "digest": image.digest,
            "size": image.raw.len(),
            "annotations": {"org.opencontainers.image.ref.name": tag},
        }],
    });
    fs::write(dir.join("index.json"), index.to_string()).expect("index.json");
}

/// containers/image's `dir:` transport (version 1.1): `manifest.json` is the top-level
/// manifest, `<hex>.manifest.json` each instance of a list, and every other blob `<hex>`.
fn write_dir_transport(dir: &Path, blobs: &Blobs, image: &SyntheticImage) {
    fs::create_dir_all(dir).expect("create dir transport");
    fs::write(dir.join("version"), "Directory Transport Version: 1.1\n").expect("version");
    let manifest_digests: Vec<&str> = image.manifests.iter().map(|m| m.digest.as_str()).collect();
    for (digest, bytes) in &blobs.0 {
        let hex = digest.trim_start_matches("sha256:");
        let name = if *digest == image.digest {
            "manifest.json".to_string()
        } else if manifest_digests.contains(&digest.as_str()) {
            format!("{hex}.manifest.json")
        } else {
            hex.to_string()
        };
        fs::write(dir.join(name), bytes).expect("write blob");
    }
}

/// One entry of a hand-written tar layer.
struct TarEntry {
    path: String,
    contents: Vec<u8>,
    mode: u32,
    dir: bool,
}

impl TarEntry {
    fn file(path: &str, contents: &[u8], mode: u32) -> Self {
        Self {
            path: path.into(),
            contents: contents.to_vec(),
            mode,
            dir: false,
        }
    }
}

/// A ustar archive of the entries, with their parent directories (0755) added, sorted by path,
/// owned by 0:0 and dated [`MTIME`]: the same entries always give the same bytes.
fn tar_bytes(entries: &[TarEntry]) -> Vec<u8> {
    let mut all: BTreeMap<String, &TarEntry> = BTreeMap::new();
    let dirs: Vec<TarEntry> = entries
        .iter()
        .flat_map(|e| {
            let parts: Vec<&str> = e.path.split('/').collect();
            (1..parts.len())
                .map(|n| TarEntry {
                    path: format!("{}/", parts[..n].join("/")),
                    contents: Vec::new(),
                    mode: 0o755,
                    dir: true,
                })
                .collect::<Vec<_>>()
        })
        .collect();
    for e in dirs.iter().chain(entries) {
        all.insert(e.path.clone(), e);
    }
    let mut out = Vec::new();
    for e in all.values() {
        assert!(
            e.path.len() < 100,
            "tar path too long for ustar: {}",
            e.path
        );
        let mut h = [0u8; 512];
        h[..e.path.len()].copy_from_slice(e.path.as_bytes());
        let octal = |h: &mut [u8; 512], at: usize, width: usize, value: u64| {
            let s = format!("{value:0w$o}\0", w = width - 1);
            h[at..at + width].copy_from_slice(s.as_bytes());
        };
        octal(&mut h, 100, 8, u64::from(e.mode));
        octal(&mut h, 108, 8, 0);
        octal(&mut h, 116, 8, 0);
        octal(&mut h, 124, 12, e.contents.len() as u64);
        octal(&mut h, 136, 12, MTIME);
        h[156] = if e.dir { b'5' } else { b'0' };
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[265..269].copy_from_slice(b"root");
        h[297..301].copy_from_slice(b"root");
        // The checksum is computed with its own field as spaces.
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        out.extend_from_slice(&h);
        out.extend_from_slice(&e.contents);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

/// gzip without a timestamp or file name, so the same tar always gives the same blob.
fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), Compression::default());
    gz.write_all(bytes).expect("gzip");
    gz.finish().expect("gzip")
}

// ------------------------------------------------------------------------------------------------
// Checking with skopeo

fn skopeo_inspect(
    reference: &str,
    creds: Option<&str>,
    platform: Option<(&str, &str)>,
    what: &[&str],
) -> Vec<u8> {
    let mut cmd = Command::new("skopeo");
    cmd.arg("inspect").args(what).arg("--tls-verify=false");
    if let Some(c) = creds {
        cmd.args(["--creds", c]);
    }
    if let Some((os, arch)) = platform {
        cmd.args(["--override-os", os, "--override-arch", arch]);
    }
    cmd.arg(docker_ref(reference));
    run(&mut cmd).stdout
}

/// The manifest (or index) bytes exactly as the registry serves them for `reference`
/// (`HOST:PORT/REPO:TAG` or `...@sha256:...`).
pub fn skopeo_inspect_raw(reference: &str, creds: Option<&str>) -> Vec<u8> {
    skopeo_inspect(reference, creds, None, &["--raw"])
}

/// The image config blob of `reference`, byte for byte; for an index, of the manifest for
/// `platform` (`(os, arch)`, default: this host's).
pub fn skopeo_inspect_config_raw(
    reference: &str,
    creds: Option<&str>,
    platform: Option<(&str, &str)>,
) -> Vec<u8> {
    // `--raw`: without it skopeo re-encodes the config through its OCI type, which drops
    // Docker-only fields such as `Healthcheck`.
    skopeo_inspect(reference, creds, platform, &["--config", "--raw"])
}

/// [`skopeo_inspect_config_raw`] parsed: every field the config has, Docker-only ones included.
pub fn skopeo_inspect_config(
    reference: &str,
    creds: Option<&str>,
    platform: Option<(&str, &str)>,
) -> Value {
    let out = skopeo_inspect_config_raw(reference, creds, platform);
    serde_json::from_slice(&out)
        .unwrap_or_else(|e| panic!("skopeo inspect --config --raw {reference}: {e}"))
}

/// The digest the registry serves `reference` under: sha256 of its manifest (or index) bytes.
pub fn skopeo_digest(reference: &str, creds: Option<&str>) -> String {
    sha256_digest(&skopeo_inspect_raw(reference, creds))
}

/// The digest of the `(os, arch)` image manifest that the index at `reference` lists (the
/// reference's own digest when it is a single manifest of that platform).
pub fn skopeo_platform_digest(
    reference: &str,
    creds: Option<&str>,
    platform: (&str, &str),
) -> String {
    let raw = skopeo_inspect_raw(reference, creds);
    let top: Value = serde_json::from_slice(&raw).expect("manifest JSON");
    let Some(entries) = top["manifests"].as_array() else {
        let config = skopeo_inspect_config(reference, creds, None);
        assert_eq!(
            (config["os"].as_str(), config["architecture"].as_str()),
            (Some(platform.0), Some(platform.1)),
            "{reference} is a single manifest of another platform"
        );
        return sha256_digest(&raw);
    };
    entries
        .iter()
        .find(|e| e["platform"]["os"] == platform.0 && e["platform"]["architecture"] == platform.1)
        .and_then(|e| e["digest"].as_str())
        .unwrap_or_else(|| {
            panic!(
                "{reference} lists no {}/{} manifest: {top}",
                platform.0, platform.1
            )
        })
        .to_string()
}

// ------------------------------------------------------------------------------------------------
// Unpacking with umoci

/// An image unpacked into a runtime bundle (removed on drop).
#[derive(Debug)]
pub struct Unpacked {
    dir: TempDir,
}

impl Unpacked {
    /// The umoci bundle (`config.json`, `rootfs/`, umoci's metadata).
    pub fn bundle(&self) -> PathBuf {
        self.dir.path().join("bundle")
    }

    /// The image's root filesystem: every layer applied, with the owners and modes the layers
    /// carry (as root, umoci unpacks without its rootless mapping).
    pub fn rootfs(&self) -> PathBuf {
        self.bundle().join("rootfs")
    }

    /// The OCI layout skopeo copied the image into (converted to OCI media types).
    pub fn layout(&self) -> PathBuf {
        self.dir.path().join("layout")
    }
}

/// Copies `reference` (for an index: the `(os, arch)` manifest, default this host's) into an
/// OCI layout with skopeo, and unpacks it with umoci.
pub fn unpack(reference: &str, creds: Option<&str>, platform: Option<(&str, &str)>) -> Unpacked {
    let dir = tempfile::tempdir().expect("temp dir");
    let layout = dir.path().join("layout");
    let mut copy = Command::new("skopeo");
    copy.args(["copy", "--quiet", "--src-tls-verify=false"]);
    if let Some(c) = creds {
        copy.args(["--src-creds", c]);
    }
    if let Some((os, arch)) = platform {
        copy.args(["--override-os", os, "--override-arch", arch]);
    }
    copy.arg(docker_ref(reference))
        .arg(format!("oci:{}:image", layout.display()));
    run(&mut copy);
    let mut umoci = Command::new("umoci");
    umoci.arg("unpack");
    // Only root can give files their real owners; anyone else needs umoci's rootless mode.
    if !is_root() {
        umoci.arg("--rootless");
    }
    umoci
        .arg("--image")
        .arg(format!("{}:image", layout.display()))
        .arg(dir.path().join("bundle"));
    run(&mut umoci);
    Unpacked { dir }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

// ------------------------------------------------------------------------------------------------
// Running nginx from an unpacked image

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

/// `chroot ROOTFS /usr/sbin/nginx -t`: `Ok(output)` when nginx accepts the image's
/// configuration, `Err(output)` (its messages) when it does not.
pub fn chroot_nginx_test(rootfs: &Path) -> std::result::Result<String, String> {
    let out = Command::new("chroot")
        .arg(rootfs)
        .args(["/usr/sbin/nginx", "-t"])
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("chroot {} /usr/sbin/nginx -t: {e}", rootfs.display()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(text)
    }
}

/// Rewrites every `listen` of `etc/nginx/conf.d/*.conf` in `rootfs` to `127.0.0.1:PORT`
/// (keeping flags such as `default_server`) and drops IPv6 listens, so the image's server can
/// run beside others on this machine. Returns how many listens now use the port.
pub fn listen_on(rootfs: &Path, port: u16) -> usize {
    let conf_d = rootfs.join("etc/nginx/conf.d");
    let mut count = 0;
    let mut entries: Vec<PathBuf> = fs::read_dir(&conf_d)
        .unwrap_or_else(|e| panic!("{}: {e}", conf_d.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "conf"))
        .collect();
    entries.sort();
    for path in entries {
        let text = fs::read_to_string(&path).expect("read conf");
        let mut out = String::new();
        for line in text.lines() {
            let trimmed = line.trim_start();
            let indent = &line[..line.len() - trimmed.len()];
            let mut words = trimmed.split_whitespace();
            if words.next() == Some("listen") {
                let addr = words.next().unwrap_or_default();
                if addr.starts_with('[') {
                    continue;
                }
                let rest: Vec<&str> = words.collect();
                let rest = rest.join(" ");
                let rest = rest.trim_end_matches(';').trim();
                let sep = if rest.is_empty() { "" } else { " " };
                out.push_str(&format!("{indent}listen 127.0.0.1:{port}{sep}{rest};\n"));
                count += 1;
            } else {
                out.push_str(line);
                out.push('\n');
            }
        }
        fs::write(&path, out).expect("write conf");
    }
    count
}

/// A status, headers (names lowercased) and body.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers in order, names lowercased.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header of that (lowercase) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// An HTTP/1.0 GET of `path` on 127.0.0.1:`port` (1.0: the body is never chunked).
pub fn http_get(port: u16, path: &str) -> HttpResponse {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .unwrap_or_else(|e| panic!("connect 127.0.0.1:{port}: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(stream, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").expect("send request");
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .unwrap_or_else(|e| panic!("GET {path} on port {port}: {e}"));
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("GET {path}: no end of headers"));
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("GET {path}: bad status line in {head:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    HttpResponse {
        status,
        headers,
        body: response[split + 4..].to_vec(),
    }
}

/// nginx from an unpacked image, run as the image runs it (`nginx -g 'daemon off;'`, master and
/// workers, workers as the configured user) inside `chroot ROOTFS`; stopped on drop.
///
/// The configuration must listen on 127.0.0.1:`port` ([`listen_on`] rewrites an image's).
#[derive(Debug)]
pub struct ChrootNginx {
    child: Child,
    port: u16,
    rootfs: PathBuf,
    stderr: tempfile::NamedTempFile,
}

impl ChrootNginx {
    /// Starts nginx and waits (up to 10 s) until `port` accepts connections; panics with
    /// nginx's messages when it exits first.
    pub fn start(rootfs: &Path, port: u16) -> Self {
        let stderr = tempfile::NamedTempFile::new().expect("temp file");
        let child = Command::new("chroot")
            .arg(rootfs)
            .args(["/usr/sbin/nginx", "-g", "daemon off;"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr.reopen().expect("reopen temp file"))
            .spawn()
            .unwrap_or_else(|e| panic!("chroot {} /usr/sbin/nginx: {e}", rootfs.display()));
        let mut nginx = Self {
            child,
            port,
            rootfs: rootfs.to_path_buf(),
            stderr,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        loop {
            if let Ok(Some(status)) = nginx.child.try_wait() {
                panic!(
                    "nginx in {} exited ({status}) before listening on {port}:\n{}",
                    rootfs.display(),
                    nginx.stderr()
                );
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return nginx;
            }
            assert!(
                Instant::now() < deadline,
                "nginx in {} is not listening on {port} after 10 s:\n{}",
                rootfs.display(),
                nginx.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// GET `path` from it.
    pub fn get(&self, path: &str) -> HttpResponse {
        http_get(self.port, path)
    }

    /// What nginx wrote to stderr (the base image's `error_log stderr`).
    pub fn stderr(&self) -> String {
        fs::read_to_string(self.stderr.path()).unwrap_or_default()
    }

    /// The access log of the base image's `access_log /dev/stdout`: a chroot has no /dev, so
    /// nginx created it as a plain file in the image's root.
    pub fn access_log(&self) -> String {
        fs::read_to_string(self.rootfs.join("dev/stdout")).unwrap_or_default()
    }
}

impl Drop for ChrootNginx {
    fn drop(&mut self) {
        // SIGTERM to the master stops the workers too; SIGKILL would leave them serving.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ------------------------------------------------------------------------------------------------
// A registry of a test's own

/// A throwaway CNCF distribution registry (`docker-registry serve`) on 127.0.0.1, plain HTTP,
/// storing blobs in a temp dir, optionally behind htpasswd Basic auth as ECR is; killed on drop.
#[derive(Debug)]
pub struct ScratchRegistry {
    /// `127.0.0.1:PORT`.
    pub host: String,
    /// `user:pass` when the registry requires Basic auth.
    pub creds: Option<String>,
    child: Child,
    dir: TempDir,
}

impl ScratchRegistry {
    /// An open registry (no auth).
    pub fn start() -> Self {
        Self::start_with(None)
    }

    /// A registry that requires Basic auth with `user`/`password` (the htpasswd file is made
    /// with `htpasswd -B`, from apache2-utils).
    pub fn start_with_basic_auth(user: &str, password: &str) -> Self {
        Self::start_with(Some((user, password)))
    }

    fn start_with(auth: Option<(&str, &str)>) -> Self {
        // The port can be taken between free_port() and the registry's bind: try a few.
        let mut last_error = String::new();
        for _ in 0..3 {
            match Self::try_start(auth) {
                Ok(r) => return r,
                Err(e) => last_error = e,
            }
        }
        panic!("cannot start docker-registry: {last_error}");
    }

    fn try_start(auth: Option<(&str, &str)>) -> std::result::Result<Self, String> {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let host = format!("127.0.0.1:{port}");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n\
             storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
             http:\n  addr: {host}\n",
            dir.path().join("data").display()
        );
        if let Some((user, password)) = auth {
            let out = run(Command::new("htpasswd").args(["-Bbn", user, password]));
            let htpasswd = dir.path().join("htpasswd");
            fs::write(&htpasswd, out.stdout).expect("write htpasswd");
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: deckhand-test\n    path: {}\n",
                htpasswd.display()
            ));
        }
        let config_path = dir.path().join("config.yml");
        fs::write(&config_path, config).expect("write registry config");
        let log = fs::File::create(dir.path().join("registry.log")).expect("registry log");
        let child = match Command::new("docker-registry")
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
        {
            Ok(c) => c,
            Err(e) if e.kind() == ErrorKind::NotFound => panic!(
                "`docker-registry` is not installed (world/install.sh installs Debian's docker-registry)"
            ),
            Err(e) => panic!("cannot start docker-registry: {e}"),
        };
        let mut registry = Self {
            host,
            creds: auth.map(|(u, p)| format!("{u}:{p}")),
            child,
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = registry.child.try_wait() {
                return Err(format!("exited ({status}):\n{}", registry.log()));
            }
            // Any HTTP answer on /v2/ (200, or 401 behind auth) means it serves.
            if registry.v2_status().is_some() {
                return Ok(registry);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!("not serving after 10 s:\n{}", registry.log()))
    }

    fn v2_status(&self) -> Option<u16> {
        let mut stream = TcpStream::connect(&self.host).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        write!(stream, "GET /v2/ HTTP/1.0\r\nHost: {}\r\n\r\n", self.host).ok()?;
        let mut head = String::new();
        stream.read_to_string(&mut head).ok()?;
        head.split(' ').nth(1)?.parse().ok()
    }

    /// `HOST:PORT/REPO:TAG` for `REPO:TAG` on this registry.
    pub fn reference(&self, repo_and_tag: &str) -> String {
        format!("{}/{repo_and_tag}", self.host)
    }

    /// The registry's log (errors only).
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }
}

impl Drop for ScratchRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::symlink_metadata(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .permissions()
            .mode()
            & 0o7777
    }

    #[test]
    fn tar_layers_are_deterministic_and_readable() {
        let entries = [
            TarEntry::file("b/c.txt", b"hello", 0o644),
            TarEntry::file("a.sh", b"#!/bin/sh\n", 0o755),
        ];
        let tar = tar_bytes(&entries);
        assert_eq!(tar, tar_bytes(&entries));
        assert_eq!(gzip(&tar), gzip(&tar));
        // GNU tar, a reader deckhand did not write, lists the entries with their modes.
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("layer.tar");
        fs::write(&file, &tar).expect("write tar");
        let out = run(Command::new("tar").arg("-tvf").arg(&file).env("TZ", "UTC"));
        let listing = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = listing.lines().collect();
        assert_eq!(lines.len(), 3, "{listing}");
        assert!(lines[0].starts_with("-rwxr-xr-x root/root") && lines[0].ends_with(" a.sh"));
        assert!(lines[1].starts_with("drwxr-xr-x root/root") && lines[1].ends_with(" b/"));
        assert!(
            lines[2].contains(" 5 2024-01-01 00:00 b/c.txt"),
            "{listing}"
        );
    }

    #[test]
    fn repository_of_strips_tag_or_digest_but_not_port() {
        assert_eq!(repository_of("127.0.0.1:5000/a/b:t"), "127.0.0.1:5000/a/b");
        assert_eq!(
            repository_of("docker://127.0.0.1:5000/a/b@sha256:00"),
            "127.0.0.1:5000/a/b"
        );
        assert_eq!(repository_of("127.0.0.1:5000/a/b"), "127.0.0.1:5000/a/b");
    }

    #[test]
    fn nginx_base_pushes_unpacks_and_serves_from_a_chroot() {
        let registry = ScratchRegistry::start();
        let reference = registry.reference("library/nginx:1.22");
        let digest = push_nginx_base(&reference);
        assert_eq!(skopeo_digest(&reference, None), digest);

        // Same host packages, same bytes: a second build pushes the same digest.
        let again = registry.reference("library/nginx:again");
        assert_eq!(
            push_nginx_base(&again),
            digest,
            "the base build is not deterministic"
        );

        let manifest: Value =
            serde_json::from_slice(&skopeo_inspect_raw(&reference, None)).expect("manifest");
        assert_eq!(manifest["mediaType"], OCI_MANIFEST);
        let config = skopeo_inspect_config(&reference, None, None);
        assert_eq!(config["os"], "linux");
        assert_eq!(
            config["config"]["Cmd"],
            json!(["nginx", "-g", "daemon off;"])
        );
        assert_eq!(config["config"]["ExposedPorts"], json!({"80/tcp": {}}));
        assert_eq!(config["config"]["StopSignal"], "SIGQUIT");
        assert_eq!(
            config["config"]["Labels"]["org.opencontainers.image.title"],
            "deckhand nginx base"
        );
        let env: Vec<&str> = config["config"]["Env"]
            .as_array()
            .expect("Env")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(env.iter().any(|e| e.starts_with("PATH=")), "{env:?}");
        assert!(
            env.iter().any(|e| e.starts_with("NGINX_VERSION=1.")),
            "{env:?}"
        );

        let image = unpack(&reference, None, None);
        let rootfs = image.rootfs();
        let nginx = fs::metadata(rootfs.join("usr/sbin/nginx")).expect("usr/sbin/nginx");
        assert_eq!((nginx.uid(), nginx.gid()), (0, 0));
        assert_eq!(mode(&rootfs.join("usr/sbin/nginx")), 0o755);
        assert_eq!(mode(&rootfs.join("tmp")), 0o1777);
        assert_eq!(mode(&rootfs.join("usr/share/nginx/html/index.html")), 0o644);
        for dir in [
            "var/log/nginx",
            "var/lib/nginx/body",
            "run",
            "etc/nginx/conf.d",
        ] {
            assert!(rootfs.join(dir).is_dir(), "{dir} is missing");
        }
        let passwd = fs::read_to_string(rootfs.join("etc/passwd")).expect("etc/passwd");
        assert!(passwd.contains("nobody:x:65534"), "{passwd}");
        let index =
            fs::read_to_string(rootfs.join("usr/share/nginx/html/index.html")).expect("index.html");

        chroot_nginx_test(&rootfs).unwrap_or_else(|e| panic!("nginx -t refused the base: {e}"));
        let port = free_port();
        assert_eq!(listen_on(&rootfs, port), 1);
        let server = ChrootNginx::start(&rootfs, port);
        let page = server.get("/");
        assert_eq!(page.status, 200, "{}", server.stderr());
        assert_eq!(page.header("content-type"), Some("text/html"));
        assert_eq!(page.text(), index);
        assert!(page.text().contains("Welcome to nginx!"));
        assert_eq!(server.get("/missing").status, 404);
        assert!(
            server.access_log().contains("\"GET / HTTP/1.0\" 200"),
            "{}",
            server.access_log()
        );
        drop(server);
        assert!(
            TcpStream::connect(("127.0.0.1", port)).is_err(),
            "nginx still listens after drop"
        );

        // A broken config is refused by the same check.
        fs::write(
            rootfs.join("etc/nginx/conf.d/default.conf"),
            "server { listen 80 }\n",
        )
        .expect("write conf");
        assert!(chroot_nginx_test(&rootfs).is_err());
    }

    #[test]
    fn nginx_base_pushes_with_basic_auth_and_another_arch() {
        let registry = ScratchRegistry::start_with_basic_auth("AWS", "123456789012-auth-token");
        let creds = registry.creds.clone();
        let reference = registry.reference("library/nginx:arm64");
        let digest = push_nginx_base_with(&reference, creds.as_deref(), Some("arm64"));
        assert_eq!(skopeo_digest(&reference, creds.as_deref()), digest);
        let config = skopeo_inspect_config(&reference, creds.as_deref(), None);
        assert_eq!(config["architecture"], "arm64");
    }

    /// Pushes a two-platform base and checks it through skopeo, platform by platform.
    fn check_two_platform_index(base: SyntheticBase, index_type: &str, manifest_type: &str) {
        let registry = ScratchRegistry::start();
        let written = base.write_layout(&tempfile::tempdir().expect("dir").path().join("l"), "t");
        let pushed = base.push(&registry.reference("synthetic/base:1"), None);
        assert_eq!(
            written.digest, pushed.digest,
            "the builder is not deterministic"
        );

        let raw = skopeo_inspect_raw(&pushed.reference, None);
        assert_eq!(raw, pushed.raw, "the registry serves other index bytes");
        assert_eq!(skopeo_digest(&pushed.reference, None), pushed.digest);
        let index: Value = serde_json::from_slice(&raw).expect("index");
        assert_eq!(index["mediaType"], index_type);

        for (arch, other) in [("amd64", "arm64"), ("arm64", "amd64")] {
            let m = pushed.platform(&format!("linux/{arch}"));
            assert_eq!(m.media_type, manifest_type);
            assert_eq!(
                skopeo_platform_digest(&pushed.reference, None, ("linux", arch)),
                m.digest
            );
            let by_digest = pushed.reference_at(&m.digest);
            assert_eq!(skopeo_inspect_raw(&by_digest, None), m.raw);
            let config = skopeo_inspect_config(&pushed.reference, None, Some(("linux", arch)));
            assert_eq!(config["architecture"], arch);
            assert_eq!(
                config["config"]["Healthcheck"],
                json!({"Test": ["CMD", "true"], "Interval": 30_000_000_000_u64})
            );
            assert_eq!(config["config"]["Labels"]["com.example.base"], "true");
            assert_eq!(
                config["rootfs"]["diff_ids"].as_array().map(Vec::len),
                Some(2)
            );

            let image = unpack(&pushed.reference, None, Some(("linux", arch)));
            let rootfs = image.rootfs();
            let platform = fs::read_to_string(rootfs.join("etc/synthetic-base/platform"))
                .expect("platform file");
            assert_eq!(platform, format!("linux/{arch}\n"));
            assert!(!platform.contains(other));
            assert_eq!(mode(&rootfs.join("usr/local/bin/hello")), 0o755);
            assert_eq!(
                fs::read(rootfs.join("srv/extra.txt")).expect("extra file"),
                b"extra\n"
            );
        }
    }

    #[test]
    fn synthetic_oci_index_pushes_and_each_platform_inspects() {
        let base = SyntheticBase::new().file("srv/extra.txt", b"extra\n", 0o644);
        check_two_platform_index(base, OCI_INDEX, OCI_MANIFEST);
    }

    #[test]
    fn synthetic_docker_manifest_list_pushes_and_each_platform_inspects() {
        let base = SyntheticBase::new()
            .docker()
            .file("srv/extra.txt", b"extra\n", 0o644);
        check_two_platform_index(base, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST);
    }

    fn check_attestations_survive(base: SyntheticBase) {
        let registry = ScratchRegistry::start_with_basic_auth("user", "secret");
        let creds = registry.creds.clone();
        let pushed = base.push(
            &registry.reference("synthetic/attested:1"),
            creds.as_deref(),
        );
        let index: Value =
            serde_json::from_slice(&skopeo_inspect_raw(&pushed.reference, creds.as_deref()))
                .expect("index");
        let entries = index["manifests"].as_array().expect("manifests");
        assert_eq!(entries.len(), 4, "{index:#}");
        for (image, attestation) in entries[..2].iter().zip(&entries[2..]) {
            assert_eq!(
                attestation["platform"],
                json!({"architecture": "unknown", "os": "unknown"})
            );
            assert_eq!(
                attestation["annotations"]["vnd.docker.reference.type"],
                "attestation-manifest"
            );
            assert_eq!(
                attestation["annotations"]["vnd.docker.reference.digest"],
                image["digest"]
            );
            let digest = attestation["digest"].as_str().expect("digest");
            let manifest: Value = serde_json::from_slice(&skopeo_inspect_raw(
                &pushed.reference_at(digest),
                creds.as_deref(),
            ))
            .expect("attestation manifest");
            assert_eq!(manifest["layers"][0]["mediaType"], IN_TOTO);
        }
        assert_eq!(pushed.attestations().len(), 2);
        // A client that picks a platform skips the attestations.
        let config = skopeo_inspect_config(
            &pushed.reference,
            creds.as_deref(),
            Some(("linux", "arm64")),
        );
        assert_eq!(config["architecture"], "arm64");
    }

    #[test]
    fn oci_attestation_entries_survive_the_push() {
        check_attestations_survive(SyntheticBase::new().attestations(true));
    }

    #[test]
    fn docker_list_with_attestation_entries_survives_the_push() {
        check_attestations_survive(SyntheticBase::new().docker().attestations(true));
    }

    #[test]
    fn single_manifest_docker_image_pushes() {
        let registry = ScratchRegistry::start();
        let pushed = SyntheticBase::new()
            .docker()
            .platforms(&["linux/arm64/v8"])
            .layers(1)
            .single_manifest()
            .push(&registry.reference("synthetic/single:1"), None);
        let raw = skopeo_inspect_raw(&pushed.reference, None);
        let manifest: Value = serde_json::from_slice(&raw).expect("manifest");
        assert_eq!(manifest["mediaType"], DOCKER_MANIFEST);
        assert_eq!(skopeo_digest(&pushed.reference, None), pushed.digest);
        assert_eq!(
            skopeo_platform_digest(&pushed.reference, None, ("linux", "arm64")),
            pushed.digest
        );
        let config = skopeo_inspect_config(&pushed.reference, None, None);
        assert_eq!(config["variant"], "v8");
        assert_eq!(
            config["rootfs"]["diff_ids"].as_array().map(Vec::len),
            Some(1)
        );
    }
}
