//! Images shaped like deckhand's release image (the Dockerfile's `FROM scratch` stage): per
//! platform, a layer of CA certificates and a layer holding `/deckhand`, in an OCI index with
//! buildx's attestation entries, as `docker buildx` pushes it; or one manifest alone. For the
//! actions' installer (`actions/lib/install-deckhand.sh`), which takes the binary out.
//!
//! Layers are made by the system's tar and gzip and hashed by sha256sum (a debug deckhand is
//! large, and this crate is not optimised), written as an OCI layout and pushed with
//! `skopeo copy --all --preserve-digests`: the registry holds exactly these bytes.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use super::media::{IN_TOTO, OCI_CONFIG, OCI_INDEX, OCI_LAYER_GZIP, OCI_MANIFEST};
use super::synthetic::Platform;
use super::tools::{docker_ref, run};

/// What one platform's `/deckhand` is: a file to copy in, or a script's text.
#[derive(Debug, Clone)]
enum Binary {
    File(PathBuf),
    Text(String),
}

/// An image holding `/deckhand` for one or more platforms (see the module documentation).
#[derive(Debug, Clone, Default)]
pub struct BinaryImage {
    platforms: Vec<(Platform, Binary)>,
    single_manifest: bool,
    attestations: bool,
}

/// What [`BinaryImage::push`] pushed.
#[derive(Debug, Clone)]
pub struct PushedBinaryImage {
    /// `HOST:PORT/REPO:TAG` as pushed.
    pub reference: String,
    /// The top-level digest: the index, or the one manifest.
    pub digest: String,
    /// Each platform's image manifest digest, in the order given.
    pub manifests: Vec<(String, String)>,
    /// Each platform's layer holding `/deckhand` (digest), in the order given.
    pub binary_layers: Vec<(String, String)>,
}

impl PushedBinaryImage {
    /// `HOST:PORT/REPO@DIGEST` of the top-level object.
    pub fn by_digest(&self) -> String {
        format!("{}@{}", repository_of(&self.reference), self.digest)
    }

    /// The image manifest digest of `platform` (`linux/arm64`).
    pub fn manifest(&self, platform: &str) -> &str {
        &self
            .manifests
            .iter()
            .find(|(p, _)| p == platform)
            .unwrap_or_else(|| panic!("no {platform} in {:?}", self.manifests))
            .1
    }
}

impl BinaryImage {
    /// No platform yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// `platform` (`linux/amd64`) with `path`'s bytes as `/deckhand`.
    pub fn platform_file(mut self, platform: &str, path: &Path) -> Self {
        self.platforms
            .push((Platform::parse(platform), Binary::File(path.to_path_buf())));
        self
    }

    /// `platform` with a `/deckhand` script (mode 0755) of this text.
    pub fn platform_script(mut self, platform: &str, text: &str) -> Self {
        self.platforms
            .push((Platform::parse(platform), Binary::Text(text.to_string())));
        self
    }

    /// Pushes the one platform's manifest alone, without an index.
    pub fn single_manifest(mut self) -> Self {
        self.single_manifest = true;
        self
    }

    /// Adds a buildx-style attestation entry (`unknown/unknown`) per platform to the index.
    pub fn attestations(mut self) -> Self {
        self.attestations = true;
        self
    }

    /// Pushes to `dest` (`HOST:PORT/REPO:TAG`, plain HTTP), anonymously or with `creds`
    /// (`user:pass`); skopeo does a registry's token flow by itself.
    pub fn push(&self, dest: &str, creds: Option<&str>) -> PushedBinaryImage {
        assert!(!self.platforms.is_empty(), "an image needs a platform");
        assert!(
            !self.single_manifest || self.platforms.len() == 1,
            "a single-manifest image has exactly one platform"
        );
        let work = tempfile::tempdir().expect("temp dir");
        let layout = work.path().join("layout");
        let blobs = layout.join("blobs/sha256");
        fs::create_dir_all(&blobs).expect("layout");
        let mut entries = Vec::new();
        let mut attestation_entries = Vec::new();
        let mut manifests = Vec::new();
        let mut binary_layers = Vec::new();
        for (n, (platform, binary)) in self.platforms.iter().enumerate() {
            let root = work.path().join(format!("root-{n}"));
            fs::create_dir_all(root.join("etc/ssl/certs")).expect("root");
            fs::write(
                root.join("etc/ssl/certs/ca-certificates.crt"),
                format!("# certificates of {platform}\n"),
            )
            .expect("certs");
            let deckhand = root.join("deckhand");
            match binary {
                Binary::File(path) => {
                    fs::copy(path, &deckhand).expect("copy the binary");
                }
                Binary::Text(text) => fs::write(&deckhand, text).expect("write the script"),
            }
            run(Command::new("chmod").arg("0755").arg(&deckhand));
            let certs = layer(&root, "etc", &blobs);
            let bin = layer(&root, "deckhand", &blobs);
            let mut config = json!({
                "architecture": platform.architecture,
                "os": platform.os,
                "config": {
                    "Entrypoint": ["/deckhand"],
                    "Env": ["SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"],
                },
                "rootfs": {"type": "layers", "diff_ids": [certs.diff_id, bin.diff_id]},
            });
            if let Some(v) = &platform.variant {
                config["variant"] = json!(v);
            }
            let config = put(
                &blobs,
                OCI_CONFIG,
                &serde_json::to_vec(&config).expect("json"),
            );
            let manifest = json!({
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": config,
                "layers": [certs.descriptor, bin.descriptor],
            });
            let mut entry = put(
                &blobs,
                OCI_MANIFEST,
                &serde_json::to_vec(&manifest).expect("json"),
            );
            let digest = entry["digest"].as_str().expect("digest").to_string();
            entry["platform"] = json!({"os": platform.os, "architecture": platform.architecture});
            if let Some(v) = &platform.variant {
                entry["platform"]["variant"] = json!(v);
            }
            if self.attestations {
                attestation_entries.push(attestation(&blobs, &digest));
            }
            manifests.push((platform.to_string(), digest));
            binary_layers.push((
                platform.to_string(),
                bin.descriptor["digest"]
                    .as_str()
                    .expect("digest")
                    .to_string(),
            ));
            entries.push(entry);
        }
        let top = if self.single_manifest {
            entries.remove(0)
        } else {
            entries.extend(attestation_entries);
            let index = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries});
            put(
                &blobs,
                OCI_INDEX,
                &serde_json::to_vec(&index).expect("json"),
            )
        };
        let mut named = top.clone();
        if let Some(p) = named.as_object_mut() {
            p.remove("platform");
        }
        named["annotations"] = json!({"org.opencontainers.image.ref.name": "image"});
        fs::write(
            layout.join("index.json"),
            serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": [named]})).expect("json"),
        )
        .expect("index.json");
        fs::write(
            layout.join("oci-layout"),
            r#"{"imageLayoutVersion":"1.0.0"}"#,
        )
        .expect("oci-layout");

        let digestfile = work.path().join("digest");
        let mut cmd = Command::new("skopeo");
        cmd.args(["copy", "--quiet", "--all", "--preserve-digests"])
            .arg("--dest-tls-verify=false")
            .arg("--digestfile")
            .arg(&digestfile);
        if let Some(c) = creds {
            cmd.args(["--dest-creds", c]);
        }
        cmd.arg(format!("oci:{}:image", layout.display()))
            .arg(docker_ref(dest));
        run(&mut cmd);
        let digest = top["digest"].as_str().expect("digest").to_string();
        let pushed = fs::read_to_string(&digestfile).expect("skopeo --digestfile");
        assert_eq!(
            pushed.trim(),
            digest,
            "skopeo pushed {dest} under another digest"
        );
        PushedBinaryImage {
            reference: dest.trim_start_matches("docker://").to_string(),
            digest,
            manifests,
            binary_layers,
        }
    }
}

/// A gzip layer of `root`'s `member` (tar by the system, sorted, owned by 0:0, dated 0).
struct Layer {
    descriptor: Value,
    diff_id: String,
}

fn layer(root: &Path, member: &str, blobs: &Path) -> Layer {
    let tar = root.join(format!("{member}.layer.tar"));
    run(Command::new("tar")
        .args([
            "--sort=name",
            "--owner=0",
            "--group=0",
            "--numeric-owner",
            "--mtime=@0",
        ])
        .arg("-C")
        .arg(root)
        .arg("-cf")
        .arg(&tar)
        .arg(member));
    let diff_id = sha256_file(&tar);
    // -1: fast; -n: no name or time in the header, so the same tar gives the same blob.
    run(Command::new("gzip").args(["-1", "-n", "-f"]).arg(&tar));
    let gz = PathBuf::from(format!("{}.gz", tar.display()));
    let digest = sha256_file(&gz);
    let size = fs::metadata(&gz).expect("layer size").len();
    fs::rename(&gz, blobs.join(digest.trim_start_matches("sha256:"))).expect("move the layer");
    Layer {
        descriptor: json!({"mediaType": OCI_LAYER_GZIP, "digest": digest, "size": size}),
        diff_id,
    }
}

/// Writes a small blob; its descriptor.
fn put(blobs: &Path, media_type: &str, bytes: &[u8]) -> Value {
    let digest = super::tools::sha256_digest(bytes);
    fs::write(blobs.join(digest.trim_start_matches("sha256:")), bytes).expect("blob");
    json!({"mediaType": media_type, "digest": digest, "size": bytes.len()})
}

/// `sha256:HEX` of a file, by sha256sum.
fn sha256_file(path: &Path) -> String {
    let out = run(Command::new("sha256sum").arg(path));
    let text = String::from_utf8_lossy(&out.stdout);
    format!(
        "sha256:{}",
        text.split_whitespace().next().expect("sha256sum")
    )
}

/// A buildx-style attestation entry for the manifest `subject`: `unknown/unknown`, one in-toto
/// layer, the annotations buildx writes.
fn attestation(blobs: &Path, subject: &str) -> Value {
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://slsa.dev/provenance/v0.2",
        "subject": [{"name": "pkg:docker/deckhand", "digest": {"sha256": subject.trim_start_matches("sha256:")}}],
        "predicate": {"builder": {"id": "deckhand-testkit"}},
    });
    let statement = serde_json::to_vec(&statement).expect("json");
    let layer = put(blobs, IN_TOTO, &statement);
    let config = json!({"architecture": "unknown", "os": "unknown", "config": {},
        "rootfs": {"type": "layers", "diff_ids": [layer["digest"]]}});
    let config = put(
        blobs,
        OCI_CONFIG,
        &serde_json::to_vec(&config).expect("json"),
    );
    let manifest =
        json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config, "layers": [layer]});
    let mut entry = put(
        blobs,
        OCI_MANIFEST,
        &serde_json::to_vec(&manifest).expect("json"),
    );
    entry["platform"] = json!({"os": "unknown", "architecture": "unknown"});
    entry["annotations"] = json!({
        "vnd.docker.reference.digest": subject,
        "vnd.docker.reference.type": "attestation-manifest",
    });
    entry
}

/// `HOST:PORT/REPO` of `HOST:PORT/REPO:TAG`.
fn repository_of(reference: &str) -> &str {
    match reference.rfind(':') {
        Some(colon) if colon > reference.rfind('/').unwrap_or(0) => &reference[..colon],
        _ => reference,
    }
}
