//! Deriving the new image from the base: config, manifest and index edited as JSON values, so
//! every field the base carries (Docker's `Healthcheck`, layer `urls`, annotations) survives,
//! in its order. Output is compact JSON, the same bytes for the same inputs.

use serde_json::{Map, Value, json};

use super::digest::Digest;
use super::media::ManifestKind;

/// The appended layer, as computed in one pass over its bytes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LayerBlob {
    /// sha256 of the gzip bytes.
    pub digest: Digest,
    /// sha256 of the uncompressed tar (the config's `rootfs.diff_ids` entry).
    pub diff_id: Digest,
    /// Size of the gzip bytes.
    pub size: u64,
}

/// What a build changes in each platform's config besides the layer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigEdits {
    /// `config.Labels` set (added or replaced).
    pub labels: Vec<(String, String)>,
    /// `config.Env` entries set (an existing `KEY=` entry is replaced in place).
    pub env: Vec<(String, String)>,
    /// The history entry's `created_by`.
    pub created_by: String,
    /// RFC 3339 time for the history entry and the image `created` (from `SOURCE_DATE_EPOCH`);
    /// None keeps the base's `created`, so the same inputs give the same digest.
    pub created: Option<String>,
}

fn object<'a>(value: &'a mut Value, what: &str) -> Result<&'a mut Map<String, Value>, String> {
    value
        .as_object_mut()
        .ok_or_else(|| format!("{what} is not a JSON object"))
}

/// The new config: the base's, plus the layer's diff_id, a history entry and the edits.
pub fn derive_config(
    base: &[u8],
    layer: &LayerBlob,
    edits: &ConfigEdits,
) -> Result<Vec<u8>, String> {
    let mut config: Value =
        serde_json::from_slice(base).map_err(|e| format!("the base config is not JSON: {e}"))?;
    let root = object(&mut config, "the base config")?;
    let created = edits.created.clone().or_else(|| {
        root.get("created")
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    if let Some(c) = &edits.created {
        root.insert("created".into(), json!(c));
    }
    let rootfs = root
        .entry("rootfs")
        .or_insert_with(|| json!({"type": "layers", "diff_ids": []}));
    let diff_ids = object(rootfs, "the base config's `rootfs`")?
        .entry("diff_ids")
        .or_insert_with(|| json!([]));
    diff_ids
        .as_array_mut()
        .ok_or("the base config's `rootfs.diff_ids` is not an array")?
        .push(json!(layer.diff_id));
    let mut entry = Map::new();
    if let Some(c) = created {
        entry.insert("created".into(), json!(c));
    }
    entry.insert("created_by".into(), json!(edits.created_by));
    root.entry("history")
        .or_insert_with(|| json!([]))
        .as_array_mut()
        .ok_or("the base config's `history` is not an array")?
        .push(Value::Object(entry));
    if !edits.labels.is_empty() || !edits.env.is_empty() {
        let runtime = object(
            root.entry("config").or_insert_with(|| json!({})),
            "the base config's `config`",
        )?;
        if !edits.labels.is_empty() {
            let labels = runtime.entry("Labels").or_insert_with(|| json!({}));
            if labels.is_null() {
                *labels = json!({});
            }
            let labels = object(labels, "the base config's `config.Labels`")?;
            for (k, v) in &edits.labels {
                labels.insert(k.clone(), json!(v));
            }
        }
        if !edits.env.is_empty() {
            let env = runtime.entry("Env").or_insert_with(|| json!([]));
            if env.is_null() {
                *env = json!([]);
            }
            let env = env
                .as_array_mut()
                .ok_or("the base config's `config.Env` is not an array")?;
            for (k, v) in &edits.env {
                let line = json!(format!("{k}={v}"));
                let prefix = format!("{k}=");
                match env
                    .iter_mut()
                    .find(|e| e.as_str().is_some_and(|s| s.starts_with(&prefix)))
                {
                    Some(existing) => *existing = line,
                    None => env.push(line),
                }
            }
        }
    }
    serde_json::to_vec(&config).map_err(|e| e.to_string())
}

/// The new image manifest: the base's with the new config and the layer appended. Base layer
/// descriptors are kept as they are; `mediaType` is always written (ECR refuses OCI manifests
/// without it).
pub fn derive_manifest(
    base: &Value,
    kind: ManifestKind,
    config_digest: &Digest,
    config_size: u64,
    layer: &LayerBlob,
) -> Result<Vec<u8>, String> {
    let mut manifest = base.clone();
    let root = object(&mut manifest, "the base manifest")?;
    root.insert("mediaType".into(), json!(kind.media_type()));
    let config = object(
        root.get_mut("config")
            .ok_or("the base manifest has no `config`")?,
        "the base manifest's `config`",
    )?;
    config.insert("digest".into(), json!(config_digest));
    config.insert("size".into(), json!(config_size));
    root.get_mut("layers")
        .and_then(Value::as_array_mut)
        .ok_or("the base manifest has no `layers` array")?
        .push(json!({
            "mediaType": kind.layer_media_type(),
            "digest": layer.digest,
            "size": layer.size,
        }));
    // Ordered like the base: if `mediaType` was absent it went last; put it after schemaVersion.
    let reordered = reorder_media_type(manifest);
    serde_json::to_vec(&reordered).map_err(|e| e.to_string())
}

fn reorder_media_type(value: Value) -> Value {
    let Value::Object(map) = value else {
        return value;
    };
    if map.keys().position(|k| k == "mediaType") == Some(1) {
        return Value::Object(map);
    }
    let mut out = Map::new();
    let media_type = map.get("mediaType").cloned();
    for (k, v) in map {
        if k == "mediaType" {
            continue;
        }
        let first = out.is_empty();
        out.insert(k, v);
        if first && let Some(m) = &media_type {
            out.insert("mediaType".into(), m.clone());
        }
    }
    Value::Object(out)
}

/// One built child of an index: its position in the base index and its new manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltChild {
    pub position: usize,
    pub digest: Digest,
    pub size: u64,
}

/// The new index: the base's, listing only the built children (attestations and unselected
/// platforms dropped), each with its platform and annotations kept.
pub fn derive_index(
    base: &Value,
    kind: ManifestKind,
    children: &[BuiltChild],
) -> Result<Vec<u8>, String> {
    let mut index = base.clone();
    let root = object(&mut index, "the base index")?;
    root.insert("mediaType".into(), json!(kind.media_type()));
    let base_entries = root
        .get("manifests")
        .and_then(Value::as_array)
        .ok_or("the base index has no `manifests` array")?
        .clone();
    let mut entries = Vec::new();
    for child in children {
        let mut entry = base_entries
            .get(child.position)
            .cloned()
            .ok_or_else(|| format!("the base index has no entry {}", child.position))?;
        let e = object(&mut entry, "a base index entry")?;
        e.insert("digest".into(), json!(child.digest));
        e.insert("size".into(), json!(child.size));
        entries.push(entry);
    }
    root.insert("manifests".into(), Value::Array(entries));
    serde_json::to_vec(&reorder_media_type(index)).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::media::*;

    fn layer() -> LayerBlob {
        LayerBlob {
            digest: Digest::of(b"gz"),
            diff_id: Digest::of(b"tar"),
            size: 2,
        }
    }

    #[test]
    fn config_keeps_docker_only_fields_and_appends_layer_and_history() {
        let base = br#"{"architecture":"amd64","config":{"Env":["PATH=/usr/bin","NGINX_VERSION=1.27"],"Healthcheck":{"Test":["CMD","true"],"Interval":30000000000},"Labels":null},"created":"2024-01-01T00:00:00Z","history":[{"created":"2024-01-01T00:00:00Z","created_by":"base"}],"os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:aaaa"]}}"#;
        let edits = ConfigEdits {
            labels: vec![("org.opencontainers.image.revision".into(), "abc".into())],
            env: vec![
                ("NGINX_VERSION".into(), "9".into()),
                ("SITE".into(), "x".into()),
            ],
            created_by: "deckhand image build: add /usr/share/nginx/html".into(),
            created: None,
        };
        let out: Value =
            serde_json::from_slice(&derive_config(base, &layer(), &edits).unwrap()).unwrap();
        assert_eq!(out["config"]["Healthcheck"]["Interval"], 30000000000u64);
        assert_eq!(
            out["config"]["Env"],
            json!(["PATH=/usr/bin", "NGINX_VERSION=9", "SITE=x"])
        );
        assert_eq!(
            out["config"]["Labels"],
            json!({"org.opencontainers.image.revision": "abc"})
        );
        assert_eq!(out["rootfs"]["diff_ids"][1], json!(Digest::of(b"tar")));
        assert_eq!(
            out["history"][1],
            json!({"created": "2024-01-01T00:00:00Z", "created_by": "deckhand image build: add /usr/share/nginx/html"})
        );
        assert_eq!(
            out["created"], "2024-01-01T00:00:00Z",
            "the base's time is kept without SOURCE_DATE_EPOCH"
        );
        // Field order is the base's.
        let keys: Vec<&String> = out.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "architecture",
                "config",
                "created",
                "history",
                "os",
                "rootfs"
            ]
        );
        let again = derive_config(base, &layer(), &edits).unwrap();
        assert_eq!(again, derive_config(base, &layer(), &edits).unwrap());
    }

    #[test]
    fn manifest_keeps_base_layers_and_always_has_a_media_type() {
        let base = json!({"schemaVersion": 2, "config": {"mediaType": OCI_CONFIG, "digest": "sha256:c", "size": 1},
            "layers": [{"mediaType": OCI_LAYER_GZIP, "digest": "sha256:l", "size": 9, "urls": ["https://x"], "annotations": {"a": "b"}}],
            "annotations": {"org.opencontainers.image.base.name": "x"}});
        let cd = Digest::of(b"cfg");
        let raw = derive_manifest(&base, ManifestKind::OciManifest, &cd, 3, &layer()).unwrap();
        let text = String::from_utf8(raw).unwrap();
        assert!(text.starts_with(&format!(r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"{OCI_CONFIG}","digest":"{cd}","size":3}}"#)), "{text}");
        let out: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(out["layers"][0], base["layers"][0]);
        assert_eq!(
            out["layers"][1],
            json!({"mediaType": OCI_LAYER_GZIP, "digest": Digest::of(b"gz"), "size": 2})
        );
        assert_eq!(out["annotations"], base["annotations"]);
        let docker = json!({"schemaVersion": 2, "mediaType": DOCKER_MANIFEST, "config": {"mediaType": DOCKER_CONFIG, "digest": "sha256:c", "size": 1}, "layers": []});
        let out: Value = serde_json::from_slice(
            &derive_manifest(&docker, ManifestKind::DockerManifest, &cd, 3, &layer()).unwrap(),
        )
        .unwrap();
        assert_eq!(out["layers"][0]["mediaType"], DOCKER_LAYER_GZIP);
        assert_eq!(out["config"]["mediaType"], DOCKER_CONFIG);
    }

    #[test]
    fn index_lists_only_built_children_with_their_platforms() {
        let base = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
            {"mediaType": OCI_MANIFEST, "digest": "sha256:a", "size": 1, "platform": {"architecture": "amd64", "os": "linux"}},
            {"mediaType": OCI_MANIFEST, "digest": "sha256:b", "size": 1, "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}},
            {"mediaType": OCI_MANIFEST, "digest": "sha256:att", "size": 1, "platform": {"architecture": "unknown", "os": "unknown"},
             "annotations": {"vnd.docker.reference.type": "attestation-manifest"}}]});
        let children = [
            BuiltChild {
                position: 0,
                digest: Digest::of(b"0"),
                size: 10,
            },
            BuiltChild {
                position: 1,
                digest: Digest::of(b"1"),
                size: 11,
            },
        ];
        let out: Value = serde_json::from_slice(
            &derive_index(&base, ManifestKind::OciIndex, &children).unwrap(),
        )
        .unwrap();
        let manifests = out["manifests"].as_array().unwrap();
        assert_eq!(manifests.len(), 2);
        assert_eq!(manifests[1]["platform"]["variant"], "v8");
        assert_eq!(manifests[1]["digest"], json!(Digest::of(b"1")));
        assert_eq!(manifests[0]["size"], 10);
    }
}
