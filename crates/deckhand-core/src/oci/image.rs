//! The new image, derived from the base as fetched and the appended layer: every config,
//! manifest and index it adds, its blobs in push order, and the digest its tags will name. All
//! of it is known before anything is pushed.

use std::collections::BTreeMap;

use serde_json::Value;

use super::derive::{
    BuiltChild, ConfigEdits, LayerBlob, derive_config, derive_index, derive_manifest,
};
use super::digest::Digest;
use super::layer::AddSpec;
use super::media::ManifestKind;
use super::plan::{BlobOrigin, BlobRef};
use super::platform::Platform;

/// The base as fetched: its top manifest (an index or one image manifest) and each selected
/// image under it.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedBase {
    /// The top manifest, parsed.
    pub top: Value,
    /// What it is.
    pub top_kind: ManifestKind,
    /// The images built on, in index order.
    pub images: Vec<BaseImage>,
}

/// One image of the base.
#[derive(Debug, Clone, PartialEq)]
pub struct BaseImage {
    /// Position in the base index (0 for a single manifest).
    pub position: usize,
    /// Its platform, as the index or its config says.
    pub platform: Option<Platform>,
    /// Its manifest, parsed.
    pub manifest: Value,
    /// What its manifest is.
    pub kind: ManifestKind,
    /// Its config's bytes.
    pub config: Vec<u8>,
}

/// A manifest to push: its digest, media type and bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestBlob {
    /// The digest of `bytes`.
    pub digest: Digest,
    /// Its media type.
    pub media_type: &'static str,
    /// The bytes, as pushed.
    pub bytes: Vec<u8>,
}

impl ManifestBlob {
    fn of(media_type: &'static str, bytes: Vec<u8>) -> Self {
        Self {
            digest: Digest::of(&bytes),
            media_type,
            bytes,
        }
    }
}

/// The derived image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltImage {
    /// Every blob it references, in push order: base layers, the new layer, configs.
    pub blobs: Vec<BlobRef>,
    /// Bytes of the configs this build made, by digest (the layer's bytes are the caller's).
    pub configs: BTreeMap<Digest, Vec<u8>>,
    /// Child manifests (when the base is an index), pushed by digest before the top.
    pub children: Vec<ManifestBlob>,
    /// The manifest the tags point at: the new index, or the one image manifest.
    pub top: ManifestBlob,
    /// Each image's platform, as shown (`linux/amd64`, or `image` when unknown).
    pub platforms: Vec<String>,
    /// Each image's size, in the order of `platforms`.
    pub platform_sizes: Vec<PlatformSize>,
}

/// One platform of the built image and its size: its layers (the base's and the new one)
/// and its config, as its manifest lists them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PlatformSize {
    /// `linux/amd64` (or `image` when unknown).
    pub platform: String,
    /// Bytes: the sum of the layer sizes and the config size.
    pub bytes: u64,
}

/// The layers an image manifest lists, lowest first: digest and size.
pub fn layer_descriptors(manifest: &Value) -> Result<Vec<(Digest, u64)>, String> {
    manifest
        .get("layers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|l| {
            let digest = l
                .get("digest")
                .and_then(Value::as_str)
                .and_then(|d| Digest::parse(d).ok())
                .ok_or("a base layer has no valid digest")?;
            Ok((digest, l.get("size").and_then(Value::as_u64).unwrap_or(0)))
        })
        .collect()
}

/// The new image: each selected image of `base` with `layer` appended and its config edited,
/// then the index listing them (when the base is an index).
pub fn derive_image(
    base: &ResolvedBase,
    layer: &LayerBlob,
    edits: &ConfigEdits,
) -> Result<BuiltImage, String> {
    let mut blobs = Vec::new();
    let mut configs = BTreeMap::new();
    let mut children = Vec::new();
    let mut derived = Vec::new();
    let mut platforms = Vec::new();
    let mut platform_sizes = Vec::new();
    for image in &base.images {
        let label = image
            .platform
            .as_ref()
            .map_or_else(|| "image".to_string(), Platform::to_string);
        platforms.push(label.clone());
        let mut bytes = layer.size;
        for (digest, size) in layer_descriptors(&image.manifest)? {
            bytes += size;
            blobs.push(BlobRef {
                digest,
                size,
                origin: BlobOrigin::Base,
                role: format!("base layer ({label})"),
            });
        }
        let config = derive_config(&image.config, layer, edits)
            .map_err(|m| format!("base config ({label}): {m}"))?;
        let config_digest = Digest::of(&config);
        let manifest = derive_manifest(
            &image.manifest,
            image.kind,
            &config_digest,
            config.len() as u64,
            layer,
        )
        .map_err(|m| format!("base manifest ({label}): {m}"))?;
        blobs.push(BlobRef {
            digest: config_digest.clone(),
            size: config.len() as u64,
            origin: BlobOrigin::Built,
            role: format!("config ({label})"),
        });
        platform_sizes.push(PlatformSize {
            platform: label.clone(),
            bytes: bytes + config.len() as u64,
        });
        configs.insert(config_digest, config);
        let child = ManifestBlob::of(image.kind.media_type(), manifest);
        derived.push(BuiltChild {
            position: image.position,
            digest: child.digest.clone(),
            size: child.bytes.len() as u64,
        });
        children.push(child);
    }
    // The new layer goes after the base layers (it needs nothing) and before configs.
    let first_config = blobs
        .iter()
        .position(|b| b.origin == BlobOrigin::Built)
        .unwrap_or(blobs.len());
    blobs.insert(
        first_config,
        BlobRef {
            digest: layer.digest.clone(),
            size: layer.size,
            origin: BlobOrigin::Built,
            role: "layer".into(),
        },
    );
    let top = if base.top_kind.is_index() {
        let index = derive_index(&base.top, base.top_kind, &derived)
            .map_err(|m| format!("base index: {m}"))?;
        ManifestBlob::of(base.top_kind.media_type(), index)
    } else {
        children.pop().ok_or("the base has no image to build on")?
    };
    Ok(BuiltImage {
        blobs,
        configs,
        children,
        top,
        platforms,
        platform_sizes,
    })
}

/// The platform an image config declares (`os`, `architecture`, `variant`).
pub fn config_platform(config: &[u8]) -> Option<Platform> {
    let v: Value = serde_json::from_slice(config).ok()?;
    Some(Platform {
        os: v.get("os")?.as_str()?.to_string(),
        architecture: v.get("architecture")?.as_str()?.to_string(),
        variant: v.get("variant").and_then(Value::as_str).map(str::to_string),
    })
}

/// The history entry's `created_by`: what went where in the image, never where it came from
/// on this machine (a checkout path would make every build's digest differ).
pub fn created_by(adds: &[AddSpec]) -> String {
    let dests: Vec<String> = adds
        .iter()
        .map(|a| {
            if a.dest_is_dir {
                format!("{}/", a.dest.trim_end_matches('/'))
            } else {
                a.dest.clone()
            }
        })
        .collect();
    format!("deckhand image build: add {}", dests.join(" "))
}

/// Each digest once, in first-seen order: what a HEAD pass over the image's blobs asks about.
pub fn unique_digests(blobs: &[BlobRef]) -> Vec<Digest> {
    let mut seen = std::collections::BTreeSet::new();
    blobs
        .iter()
        .filter(|b| seen.insert(b.digest.clone()))
        .map(|b| b.digest.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn layer() -> LayerBlob {
        LayerBlob {
            digest: Digest::of(b"layer"),
            diff_id: Digest::of(b"tar"),
            size: 5,
        }
    }

    fn image(position: usize, arch: &str) -> BaseImage {
        BaseImage {
            position,
            platform: Some(Platform {
                os: "linux".into(),
                architecture: arch.into(),
                variant: None,
            }),
            manifest: json!({
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": Digest::of(arch.as_bytes()), "size": 2},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": Digest::of(b"base"), "size": 100}],
            }),
            kind: ManifestKind::OciManifest,
            config: serde_json::to_vec(&json!({"os": "linux", "architecture": arch, "rootfs": {"type": "layers", "diff_ids": []}})).unwrap(),
        }
    }

    fn index_base() -> ResolvedBase {
        ResolvedBase {
            top: json!({
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "manifests": [
                    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": Digest::of(b"a"), "size": 1, "platform": {"os": "linux", "architecture": "amd64"}},
                    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": Digest::of(b"b"), "size": 1, "platform": {"os": "linux", "architecture": "arm64"}},
                ],
            }),
            top_kind: ManifestKind::OciIndex,
            images: vec![image(0, "amd64"), image(1, "arm64")],
        }
    }

    #[test]
    fn the_layer_goes_before_the_first_config_and_is_shared_by_platforms() {
        let built = derive_image(&index_base(), &layer(), &ConfigEdits::default()).unwrap();
        let roles: Vec<&str> = built.blobs.iter().map(|b| b.role.as_str()).collect();
        assert_eq!(
            roles,
            [
                "base layer (linux/amd64)",
                "layer",
                "config (linux/amd64)",
                "base layer (linux/arm64)",
                "config (linux/arm64)"
            ]
        );
        assert_eq!(built.platforms, ["linux/amd64", "linux/arm64"]);
        let sizes: Vec<(&str, u64)> = built
            .platform_sizes
            .iter()
            .map(|p| (p.platform.as_str(), p.bytes))
            .collect();
        let config_size = |i: usize| built.configs[&built.blobs[[2, 4][i]].digest].len() as u64;
        assert_eq!(
            sizes,
            [
                ("linux/amd64", 100 + 5 + config_size(0)),
                ("linux/arm64", 100 + 5 + config_size(1))
            ],
            "base layers + the new layer + the config"
        );
        assert_eq!(built.children.len(), 2);
        assert_eq!(built.configs.len(), 2);
        assert_eq!(
            built.top.media_type,
            "application/vnd.oci.image.index.v1+json"
        );
        assert_eq!(
            unique_digests(&built.blobs).len(),
            4,
            "the base layer is one blob"
        );
    }

    #[test]
    fn the_same_inputs_give_the_same_digest() {
        let a = derive_image(&index_base(), &layer(), &ConfigEdits::default()).unwrap();
        let b = derive_image(&index_base(), &layer(), &ConfigEdits::default()).unwrap();
        assert_eq!(a.top.digest, b.top.digest);
        let edited = ConfigEdits {
            labels: vec![("org.opencontainers.image.revision".into(), "abc".into())],
            ..ConfigEdits::default()
        };
        let c = derive_image(&index_base(), &layer(), &edited).unwrap();
        assert_ne!(a.top.digest, c.top.digest);
    }

    #[test]
    fn a_single_manifest_base_gives_a_single_manifest() {
        let base = ResolvedBase {
            top: image(0, "amd64").manifest,
            top_kind: ManifestKind::OciManifest,
            images: vec![image(0, "amd64")],
        };
        let built = derive_image(&base, &layer(), &ConfigEdits::default()).unwrap();
        assert!(built.children.is_empty());
        assert_eq!(
            built.top.media_type,
            "application/vnd.oci.image.manifest.v1+json"
        );
    }

    #[test]
    fn created_by_names_destinations_only() {
        let adds = [
            AddSpec::parse("/home/me/site:/usr/share/nginx/html/").unwrap(),
            AddSpec::parse("conf/default.conf:/etc/nginx/conf.d/default.conf").unwrap(),
        ];
        assert_eq!(
            created_by(&adds),
            "deckhand image build: add /usr/share/nginx/html/ /etc/nginx/conf.d/default.conf"
        );
    }
}
