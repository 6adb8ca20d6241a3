//! The push plan: from the built image and what the target registry already holds, what to
//! send. Decided before anything is uploaded, so a re-run of an unchanged build sends nothing
//! and an immutable tag that would have to move fails before any byte moves.

use std::collections::BTreeSet;

use super::digest::Digest;

/// Where a blob of the new image comes from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BlobOrigin {
    /// Made by this build (the layer, the configs): uploaded from memory.
    Built,
    /// A base layer, in `repository` of the base's registry.
    Base,
}

/// One blob the new image references.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BlobRef {
    pub digest: Digest,
    pub size: u64,
    pub origin: BlobOrigin,
    /// What it is, for the plan's reader (`layer`, `config linux/amd64`, `base layer`).
    pub role: String,
}

/// What to do with one blob.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum BlobAction {
    /// The target has it (HEAD answered 200).
    Present,
    /// Mount it from the base's repository: same registry, no bytes move.
    Mount { from: String },
    /// Stream it from the base's registry into the target.
    Copy,
    /// Upload it from memory.
    Upload,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BlobStep {
    #[serde(flatten)]
    pub blob: BlobRef,
    #[serde(flatten)]
    pub action: BlobAction,
}

/// Where the base lives relative to the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BaseLocation {
    /// The same registry host: base layers can be mounted from `repository`.
    SameRegistry { repository: String },
    /// Another registry: base layers are streamed across.
    OtherRegistry,
}

/// What each blob needs, given the digests the target already has.
pub fn plan_blobs(
    blobs: &[BlobRef],
    present: &BTreeSet<Digest>,
    base: &BaseLocation,
) -> Vec<BlobStep> {
    let mut seen = BTreeSet::new();
    blobs
        .iter()
        // The same blob can appear on several platforms (the appended layer does): once.
        .filter(|b| seen.insert(b.digest.clone()))
        .map(|blob| {
            let action = if present.contains(&blob.digest) {
                BlobAction::Present
            } else {
                match (&blob.origin, base) {
                    (BlobOrigin::Built, _) => BlobAction::Upload,
                    (BlobOrigin::Base, BaseLocation::SameRegistry { repository }) => {
                        BlobAction::Mount {
                            from: repository.clone(),
                        }
                    }
                    (BlobOrigin::Base, BaseLocation::OtherRegistry) => BlobAction::Copy,
                }
            };
            BlobStep {
                blob: blob.clone(),
                action,
            }
        })
        .collect()
}

/// What one tag needs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TagAction {
    /// Already points at the new digest: nothing to write (also on an immutable repository).
    Unchanged,
    /// New or moving: PUT the manifest under it.
    Put,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TagStep {
    pub tag: String,
    /// The digest it points at now, if it exists.
    pub current: Option<Digest>,
    pub action: TagAction,
}

/// An immutable tag that would have to move.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "tag `{tag}` of the immutable repository `{repository}` already points at {current}, and this build is {new}"
)]
pub struct ImmutableTagConflict {
    pub repository: String,
    pub tag: String,
    pub current: Digest,
    pub new: Digest,
}

/// What each tag needs. On an immutable repository a tag that exists with another digest is
/// an error before anything is pushed; with the same digest it is simply left alone.
pub fn plan_tags(
    repository: &str,
    tags: &[(String, Option<Digest>)],
    new: &Digest,
    immutable: impl Fn(&str) -> bool,
) -> Result<Vec<TagStep>, ImmutableTagConflict> {
    tags.iter()
        .map(|(tag, current)| {
            let action = match current {
                Some(c) if c == new => TagAction::Unchanged,
                Some(c) if immutable(tag) => {
                    return Err(ImmutableTagConflict {
                        repository: repository.to_string(),
                        tag: tag.clone(),
                        current: c.clone(),
                        new: new.clone(),
                    });
                }
                _ => TagAction::Put,
            };
            Ok(TagStep {
                tag: tag.clone(),
                current: current.clone(),
                action,
            })
        })
        .collect()
}

/// Bytes the plan sends (uploads and copies; mounts move none).
pub fn bytes_to_send(blobs: &[BlobStep]) -> u64 {
    blobs
        .iter()
        .filter(|s| matches!(s.action, BlobAction::Upload | BlobAction::Copy))
        .map(|s| s.blob.size)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(name: &str, origin: BlobOrigin) -> BlobRef {
        BlobRef {
            digest: Digest::of(name.as_bytes()),
            size: name.len() as u64,
            origin,
            role: name.into(),
        }
    }

    #[test]
    fn blobs_are_skipped_mounted_copied_or_uploaded_once_each() {
        let blobs = [
            blob("base-1", BlobOrigin::Base),
            blob("base-2", BlobOrigin::Base),
            blob("layer", BlobOrigin::Built),
            blob("config-amd64", BlobOrigin::Built),
            blob("layer", BlobOrigin::Built),
        ];
        let present: BTreeSet<Digest> = [Digest::of(b"base-1")].into();
        let other = plan_blobs(&blobs, &present, &BaseLocation::OtherRegistry);
        let actions: Vec<(&str, &BlobAction)> = other
            .iter()
            .map(|s| (s.blob.role.as_str(), &s.action))
            .collect();
        assert_eq!(
            actions,
            [
                ("base-1", &BlobAction::Present),
                ("base-2", &BlobAction::Copy),
                ("layer", &BlobAction::Upload),
                ("config-amd64", &BlobAction::Upload),
            ]
        );
        assert_eq!(bytes_to_send(&other), 6 + 5 + 12);
        let same = plan_blobs(
            &blobs,
            &present,
            &BaseLocation::SameRegistry {
                repository: "library/nginx".into(),
            },
        );
        assert_eq!(
            same[1].action,
            BlobAction::Mount {
                from: "library/nginx".into()
            }
        );
        assert_eq!(bytes_to_send(&same), 5 + 12);
    }

    #[test]
    fn an_immutable_tag_may_stay_but_never_move() {
        let new = Digest::of(b"new");
        let old = Digest::of(b"old");
        let tags = vec![
            ("v1".to_string(), Some(new.clone())),
            ("latest".to_string(), None),
        ];
        let steps = plan_tags("web", &tags, &new, |_| true).unwrap();
        assert_eq!(steps[0].action, TagAction::Unchanged);
        assert_eq!(steps[1].action, TagAction::Put);
        let moving = vec![("v1".to_string(), Some(old.clone()))];
        assert_eq!(
            plan_tags("web", &moving, &new, |_| false).unwrap()[0].action,
            TagAction::Put
        );
        let err = plan_tags("web", &moving, &new, |t| t == "v1").unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "tag `v1` of the immutable repository `web` already points at {old}, and this build is {new}"
            )
        );
    }
}
