//! Media types of the two manifest families a base image can come in: OCI and Docker v2.

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/// The `Accept` header for a manifest fetch: every kind this tool can build on.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

/// What a fetched manifest document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestKind {
    OciIndex,
    DockerList,
    OciManifest,
    DockerManifest,
}

impl ManifestKind {
    /// From a media type; `None` for kinds deckhand cannot build on (schema 1, artifacts).
    pub fn from_media_type(media_type: &str) -> Option<Self> {
        // Registries may add parameters (`; charset=utf-8`).
        match media_type.split(';').next().unwrap_or("").trim() {
            OCI_INDEX => Some(Self::OciIndex),
            DOCKER_LIST => Some(Self::DockerList),
            OCI_MANIFEST => Some(Self::OciManifest),
            DOCKER_MANIFEST => Some(Self::DockerManifest),
            _ => None,
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Self::OciIndex => OCI_INDEX,
            Self::DockerList => DOCKER_LIST,
            Self::OciManifest => OCI_MANIFEST,
            Self::DockerManifest => DOCKER_MANIFEST,
        }
    }

    pub fn is_index(self) -> bool {
        matches!(self, Self::OciIndex | Self::DockerList)
    }

    /// The layer media type a layer appended to this manifest must have: mixing Docker and
    /// OCI layer types in one manifest is refused by some registries.
    pub fn layer_media_type(self) -> &'static str {
        match self {
            Self::DockerManifest | Self::DockerList => DOCKER_LAYER_GZIP,
            Self::OciManifest | Self::OciIndex => OCI_LAYER_GZIP,
        }
    }
}

/// The kind of a manifest, from its own `mediaType` field first (it is what the bytes say,
/// and what the digest covers), else from the Content-Type the registry answered with.
pub fn manifest_kind(
    doc: &serde_json::Value,
    content_type: Option<&str>,
) -> Result<ManifestKind, String> {
    let declared = doc.get("mediaType").and_then(|m| m.as_str());
    let media_type = declared.or(content_type).unwrap_or("");
    if let Some(kind) = ManifestKind::from_media_type(media_type) {
        return Ok(kind);
    }
    // An OCI document may omit mediaType; its shape tells.
    if declared.is_none() && doc.get("schemaVersion").and_then(|v| v.as_u64()) == Some(2) {
        if doc.get("manifests").is_some() {
            return Ok(ManifestKind::OciIndex);
        }
        if doc.get("layers").is_some() && doc.get("config").is_some() {
            return Ok(ManifestKind::OciManifest);
        }
    }
    Err(if media_type.is_empty() {
        "the manifest has no media type and is neither an image index nor an image manifest"
            .to_string()
    } else {
        format!(
            "media type `{media_type}` is not an image index or image manifest (OCI or Docker v2)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kind_comes_from_the_document_then_the_header_then_the_shape() {
        let doc = json!({"schemaVersion": 2, "mediaType": DOCKER_MANIFEST});
        assert_eq!(
            manifest_kind(&doc, Some(OCI_MANIFEST)),
            Ok(ManifestKind::DockerManifest)
        );
        let bare = json!({"schemaVersion": 2, "config": {}, "layers": []});
        assert_eq!(
            manifest_kind(&bare, Some(&format!("{OCI_MANIFEST}; charset=utf-8"))),
            Ok(ManifestKind::OciManifest)
        );
        assert_eq!(manifest_kind(&bare, None), Ok(ManifestKind::OciManifest));
        let schema1 = json!({"schemaVersion": 1, "mediaType": "application/vnd.docker.distribution.manifest.v1+prettyjws"});
        assert!(
            manifest_kind(&schema1, None)
                .unwrap_err()
                .contains("v1+prettyjws")
        );
    }
}
