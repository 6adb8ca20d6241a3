//! Synthetic base images: hand-written, deterministic multi-platform indexes with the shapes
//! real bases have (Docker or OCI media types, buildx attestation entries, Docker-only config
//! fields), written as an OCI layout or pushed with skopeo.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::Path;

use flate2::{Compression, GzBuilder};
use serde_json::{Value, json};

use super::media::{
    DOCKER_CONFIG, DOCKER_LAYER_GZIP, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, IN_TOTO, OCI_CONFIG,
    OCI_INDEX, OCI_LAYER_GZIP, OCI_MANIFEST,
};
use super::tools::{push_preserving_digest, sha256_digest};

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
        push_preserving_digest(work.path(), &source, dest, creds, &image.digest);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::images::tools::run;
    use crate::images::unpack::mode;
    use crate::images::{
        ScratchRegistry, skopeo_digest, skopeo_inspect_config, skopeo_inspect_raw,
        skopeo_platform_digest, unpack,
    };
    use std::process::Command;

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
