//! Whole-image operations on top of [`Registry`], as crane keeps them in its library: resolve a
//! base (its top manifest, each selected platform's manifest and config), find which blobs a
//! target already holds, execute a push plan, and verify the tags after it. What to push is
//! decided in `deckhand_core::oci`; these only carry it out.

use std::collections::{BTreeSet, HashMap};

use bytes::Bytes;
use deckhand_core::image_ref::ImageRef;
use deckhand_core::oci::image::{BaseImage, ManifestBlob, ResolvedBase, config_platform};
use deckhand_core::oci::media::{ManifestKind, manifest_kind};
use deckhand_core::oci::plan::{BlobAction, BlobStep};
use deckhand_core::oci::platform::PlatformMismatch;
use deckhand_core::oci::{Digest, Platform, PlatformChoice};
use futures_util::{StreamExt as _, TryStreamExt as _};
use serde_json::Value;

use crate::{OciError, Registry};

/// Blob transfers in flight at once (as crane).
pub const JOBS: usize = 4;

/// Why a base could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum BaseError {
    /// The registry has no such image.
    #[error("the base image `{base}` was not found: {source}")]
    NotFound {
        /// The base as given.
        base: String,
        /// What the registry said.
        source: Box<OciError>,
    },
    /// The registry failed otherwise.
    #[error("reading the base image `{base}`: {source}")]
    Registry {
        /// The base as given.
        base: String,
        /// What the registry said.
        source: Box<OciError>,
    },
    /// A base deckhand cannot build on as asked (a platform it lacks, a nested index, a
    /// manifest kind it does not know): a question of input.
    #[error("{message}")]
    Unsupported {
        /// What is wrong.
        message: String,
        /// How to fix it.
        hint: Option<String>,
    },
    /// A base whose documents are broken.
    #[error("{0}")]
    Malformed(String),
}

impl BaseError {
    /// True when the input is what must change (exit 2), not the registry.
    pub fn is_bad_input(&self) -> bool {
        matches!(self, Self::NotFound { .. } | Self::Unsupported { .. })
    }

    /// How to fix it, when known.
    pub fn hint(&self) -> Option<&str> {
        match self {
            Self::NotFound { .. } => Some("check `--base` (name, tag, and registry)"),
            Self::Unsupported { hint, .. } => hint.as_deref(),
            Self::Registry { source, .. } => source.hint(),
            Self::Malformed(_) => None,
        }
    }

    fn of(base: &ImageRef, e: OciError) -> Self {
        match e.code() {
            Some("MANIFEST_UNKNOWN" | "NAME_UNKNOWN") => Self::NotFound {
                base: base.to_string(),
                source: Box::new(e),
            },
            _ => Self::Registry {
                base: base.to_string(),
                source: Box::new(e),
            },
        }
    }

    fn platform(m: PlatformMismatch) -> Self {
        Self::Unsupported {
            message: m.message,
            hint: Some(m.hint),
        }
    }
}

fn parse_manifest(
    bytes: &[u8],
    content_type: Option<&str>,
    what: &str,
) -> Result<(Value, ManifestKind), BaseError> {
    let doc: Value = serde_json::from_slice(bytes)
        .map_err(|e| BaseError::Malformed(format!("{what} is not JSON: {e}")))?;
    let kind = manifest_kind(&doc, content_type).map_err(|m| BaseError::Unsupported {
        message: format!("{what}: {m}"),
        hint: None,
    })?;
    Ok((doc, kind))
}

/// Fetches the base: its top manifest and, for each platform `platforms` selects, its manifest
/// and config (a single-manifest base: checked as [`PlatformChoice::check_single`] says).
/// Nothing but manifests and configs is downloaded.
pub async fn resolve_base(
    registry: &Registry,
    base: &ImageRef,
    platforms: &PlatformChoice,
) -> Result<ResolvedBase, BaseError> {
    let repo = base.registry_repository();
    let fetched = registry
        .get_manifest(&repo, base.manifest_reference())
        .await
        .map_err(|e| BaseError::of(base, e))?;
    let (top, top_kind) = parse_manifest(
        &fetched.bytes,
        fetched.content_type.as_deref(),
        &format!("the base `{base}`"),
    )?;
    let mut images = Vec::new();
    if top_kind.is_index() {
        let entries = top
            .get("manifests")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let entry_platforms: Vec<Option<Platform>> =
            entries.iter().map(Platform::of_descriptor).collect();
        let picked = platforms
            .select(&base.to_string(), &entry_platforms)
            .map_err(BaseError::platform)?;
        for position in picked {
            let digest = entries[position]
                .get("digest")
                .and_then(Value::as_str)
                .and_then(|d| Digest::parse(d).ok())
                .ok_or_else(|| {
                    BaseError::Malformed(format!(
                        "the base index `{base}` has an entry without a valid digest"
                    ))
                })?;
            let child = registry
                .get_manifest(&repo, digest.as_str())
                .await
                .map_err(|e| BaseError::of(base, e))?;
            let (manifest, kind) = parse_manifest(
                &child.bytes,
                child.content_type.as_deref(),
                &format!("base manifest {digest}"),
            )?;
            if kind.is_index() {
                return Err(BaseError::Unsupported {
                    message: format!(
                        "the base index `{base}` nests another index; deckhand builds on one level"
                    ),
                    hint: None,
                });
            }
            let config = fetch_config(registry, &repo, &manifest, base).await?;
            images.push(BaseImage {
                position,
                platform: entry_platforms[position].clone(),
                manifest,
                kind,
                config,
            });
        }
    } else {
        let config = fetch_config(registry, &repo, &top, base).await?;
        let platform = config_platform(&config);
        platforms
            .check_single(&base.to_string(), platform.as_ref())
            .map_err(BaseError::platform)?;
        images.push(BaseImage {
            position: 0,
            platform,
            manifest: top.clone(),
            kind: top_kind,
            config,
        });
    }
    Ok(ResolvedBase {
        top,
        top_kind,
        images,
    })
}

async fn fetch_config(
    registry: &Registry,
    repo: &str,
    manifest: &Value,
    base: &ImageRef,
) -> Result<Vec<u8>, BaseError> {
    let digest = manifest
        .pointer("/config/digest")
        .and_then(Value::as_str)
        .and_then(|d| Digest::parse(d).ok())
        .ok_or_else(|| {
            BaseError::Malformed(format!(
                "a manifest of the base `{base}` has no valid config digest"
            ))
        })?;
    registry
        .get_blob(repo, &digest)
        .await
        .map_err(|e| BaseError::of(base, e))
}

/// Which of `digests` the target repository holds: all of them when it already has the image
/// `top` (one HEAD), else a HEAD per blob, [`JOBS`] at a time.
pub async fn present_blobs(
    registry: &Registry,
    repo: &str,
    top: &Digest,
    digests: Vec<Digest>,
) -> Result<BTreeSet<Digest>, OciError> {
    if registry.head_manifest(repo, top.as_str()).await?.is_some() {
        return Ok(digests.into_iter().collect());
    }
    let checks = futures_util::stream::iter(digests)
        .map(|d| async move { registry.blob_exists(repo, &d).await.map(|e| (d, e)) })
        .buffer_unordered(JOBS)
        .try_collect::<Vec<_>>()
        .await?;
    Ok(checks
        .into_iter()
        .filter(|(_, e)| *e)
        .map(|(d, _)| d)
        .collect())
}

/// A push plan to carry out.
pub struct ImagePush<'a> {
    /// The registry pushed to.
    pub target: &'a Registry,
    /// The repository pushed to.
    pub repository: &'a str,
    /// The base's registry (the same client as `target` when the base lives there).
    pub source: &'a Registry,
    /// The base's repository, where copies and mounts come from.
    pub base_repository: &'a str,
    /// What each blob needs.
    pub blobs: &'a [BlobStep],
    /// The bytes of every blob the build made (the layer, the configs), by digest.
    pub built: &'a HashMap<Digest, Bytes>,
    /// Child manifests, pushed by digest before the top.
    pub children: &'a [ManifestBlob],
    /// The manifest the tags point at.
    pub top: &'a ManifestBlob,
    /// The tags to point at it (those the plan says to put).
    pub tags: &'a [String],
}

/// Where a push failed.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// Sending a blob or a child manifest.
    #[error("pushing to `{repository}`: {source}")]
    Content {
        /// The repository.
        repository: String,
        /// What the registry said.
        source: OciError,
    },
    /// Putting the manifest under a tag.
    #[error("tag `{tag}`: {source}")]
    Tag {
        /// The tag.
        tag: String,
        /// What the registry said.
        source: OciError,
    },
}

impl ImagePush<'_> {
    /// Blobs ([`JOBS`] at a time: uploads from memory, copies across registries, mounts that
    /// fall back to copies when declined), then child manifests by digest, then the top
    /// manifest under each tag (a PUT by tag stores it). Returns the blobs whose mount the
    /// registry declined, which were copied instead.
    pub async fn run(&self) -> Result<Vec<Digest>, PushError> {
        let content = |source| PushError::Content {
            repository: self.repository.to_string(),
            source,
        };
        let declined = futures_util::stream::iter(self.blobs)
            .map(|step| self.push_blob(step))
            .buffer_unordered(JOBS)
            .try_collect::<Vec<_>>()
            .await
            .map_err(content)?;
        for child in self.children {
            if child.digest != self.top.digest {
                self.target
                    .put_manifest(
                        self.repository,
                        child.digest.as_str(),
                        child.media_type,
                        &Bytes::from(child.bytes.clone()),
                    )
                    .await
                    .map_err(content)?;
            }
        }
        let top = Bytes::from(self.top.bytes.clone());
        for tag in self.tags {
            self.target
                .put_manifest(self.repository, tag, self.top.media_type, &top)
                .await
                .map_err(|source| PushError::Tag {
                    tag: tag.clone(),
                    source,
                })?;
        }
        Ok(declined.into_iter().flatten().collect())
    }

    /// One blob; `Some(digest)` when a mount was declined and the bytes were copied.
    async fn push_blob(&self, step: &BlobStep) -> Result<Option<Digest>, OciError> {
        let d = &step.blob.digest;
        let copy = || {
            self.target.copy_blob(
                self.source,
                self.base_repository,
                self.repository,
                d,
                step.blob.size,
            )
        };
        match &step.action {
            BlobAction::Present => Ok(None),
            BlobAction::Upload => {
                let bytes = self.built.get(d).ok_or_else(|| OciError::Protocol {
                    url: self.repository.to_string(),
                    reason: format!("BUG: no bytes for the built blob {d}"),
                })?;
                self.target
                    .upload_blob(self.repository, d, bytes)
                    .await
                    .map(|()| None)
            }
            BlobAction::Copy => copy().await.map(|()| None),
            BlobAction::Mount { from } => {
                if self.target.mount_blob(self.repository, d, from).await? {
                    Ok(None)
                } else {
                    copy().await.map(|()| Some(d.clone()))
                }
            }
        }
    }
}

/// After a push, each tag resolves to `digest`; the first that does not is an error naming
/// what it resolves to.
pub async fn verify_tags(
    registry: &Registry,
    repo: &str,
    tags: &[String],
    digest: &Digest,
) -> Result<(), String> {
    for tag in tags {
        let now = registry
            .head_manifest(repo, tag)
            .await
            .map_err(|e| e.to_string())?;
        if now.as_ref() != Some(digest) {
            return Err(format!(
                "after the push, tag `{tag}` resolves to {} instead of {digest}",
                now.map_or_else(|| "nothing".to_string(), |d| d.to_string())
            ));
        }
    }
    Ok(())
}
