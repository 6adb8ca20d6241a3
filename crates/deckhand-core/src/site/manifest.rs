//! The deploy manifest: one small object in the bucket, read once per deploy, that records what
//! deckhand uploaded. Change detection compares content hashes with it, never ETags (which are
//! not MD5s for multipart or SSE-KMS objects), and header drift is seen without a HEAD.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::rules::ObjectHeaders;

/// The manifest format version this deckhand writes and reads.
pub const MANIFEST_VERSION: u32 = 1;

/// What deckhand knows about the objects it manages under a prefix.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// [`MANIFEST_VERSION`].
    pub version: u32,
    /// Counts deploys that changed something; objects remember the last one that had them.
    pub generation: u64,
    /// Managed objects, by key relative to the prefix.
    pub objects: BTreeMap<String, ManifestEntry>,
}

/// One managed object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestEntry {
    /// sha256 of the source file (before any precompression), hex.
    pub sha256: String,
    /// [`headers_hash`] of the headers it was stored with.
    pub headers: String,
    /// Bytes stored (after precompression).
    pub size: u64,
    /// The last deploy generation whose build contained it.
    pub generation: u64,
}

/// A manifest that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// Not JSON of the manifest's shape.
    #[error("the deploy manifest is unreadable: {0}")]
    Unreadable(String),
    /// Written by a newer deckhand.
    #[error(
        "the deploy manifest has version {found}; this deckhand reads version {MANIFEST_VERSION}"
    )]
    Version {
        /// The version found.
        found: u32,
    },
}

impl Manifest {
    /// An empty manifest for a first deploy.
    pub fn new() -> Self {
        Self {
            version: MANIFEST_VERSION,
            generation: 0,
            objects: BTreeMap::new(),
        }
    }

    /// Reads a manifest object's bytes.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ManifestError> {
        let m: Self =
            serde_json::from_slice(bytes).map_err(|e| ManifestError::Unreadable(e.to_string()))?;
        if m.version != MANIFEST_VERSION {
            return Err(ManifestError::Version { found: m.version });
        }
        Ok(m)
    }

    /// The bytes to store.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("BUG: a manifest always serializes")
    }
}

/// A stable hash of the headers an object is stored with: any change to a rule's result for a
/// file changes it.
pub fn headers_hash(headers: &ObjectHeaders) -> String {
    let canonical = serde_json::to_vec(headers).expect("BUG: headers always serialize");
    hex(&Sha256::digest(canonical))
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::rules::SiteRules;

    #[test]
    fn round_trips_and_rejects_other_versions() {
        let mut m = Manifest::new();
        m.generation = 3;
        m.objects.insert(
            "index.html".into(),
            ManifestEntry {
                sha256: "ab".into(),
                headers: "cd".into(),
                size: 10,
                generation: 3,
            },
        );
        assert_eq!(Manifest::from_json(&m.to_json()).unwrap(), m);
        let newer = br#"{"version": 2, "generation": 0, "objects": {}}"#;
        assert_eq!(
            Manifest::from_json(newer).unwrap_err(),
            ManifestError::Version { found: 2 }
        );
        assert!(matches!(
            Manifest::from_json(b"<html>"),
            Err(ManifestError::Unreadable(_))
        ));
    }

    #[test]
    fn headers_hash_changes_with_any_header() {
        let rules = SiteRules::default();
        let a = rules.headers("index.html");
        let mut b = a.clone();
        assert_eq!(headers_hash(&a), headers_hash(&b));
        b.cache_control = "public, max-age=60".into();
        assert_ne!(headers_hash(&a), headers_hash(&b));
        assert_eq!(headers_hash(&a).len(), 64);
    }
}
