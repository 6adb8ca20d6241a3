//! What a site deploy does, decided from the local build, the manifest and one bucket listing.
//!
//! The order of operations is part of the plan: new and changed non-entry files first, entry
//! points (HTML, service workers, manifests) after them, then the invalidation, then deletes,
//! then the manifest. A reader that fetches `index.html` and then its assets during a deploy
//! never finds an asset missing.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::manifest::{Manifest, ManifestEntry, headers_hash};
use super::rules::{ObjectHeaders, SiteRules};

/// A file of the local build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalFile {
    /// Key relative to the prefix (`/`-separated, no leading `/`).
    pub key: String,
    /// sha256 of its bytes, hex.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
}

/// An object of the one ListObjectsV2 pass (key relative to the prefix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteObject {
    /// Key relative to the prefix.
    pub key: String,
    /// Stored size.
    pub size: u64,
}

/// Why a file is uploaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UploadReason {
    /// Not in the bucket.
    New,
    /// Its content changed.
    ContentChanged,
    /// Its headers changed in a way that changes the stored bytes (precompression).
    EncodingChanged,
    /// The manifest lists it but the bucket does not have it (or has other bytes).
    Missing,
    /// In the bucket, but not uploaded by deckhand: its content is unknown.
    Unmanaged,
}

impl UploadReason {
    /// The reason as the plan and the JSON result spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::ContentChanged => "content-changed",
            Self::EncodingChanged => "encoding-changed",
            Self::Missing => "missing",
            Self::Unmanaged => "unmanaged",
        }
    }
}

/// One upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Upload {
    /// Key relative to the prefix.
    pub key: String,
    /// Why.
    pub reason: UploadReason,
    /// Uploaded in the entry-point phase.
    pub entry: bool,
    /// The headers to store it with.
    pub headers: ObjectHeaders,
    /// Source size in bytes.
    pub size: u64,
}

/// Same bytes, new headers: a server-side copy onto itself, no data sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reheader {
    /// Key relative to the prefix.
    pub key: String,
    /// In the entry-point phase.
    pub entry: bool,
    /// The new headers.
    pub headers: ObjectHeaders,
}

/// The delete guard.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeleteLimit {
    /// At most this many deletes.
    pub count: u64,
    /// At most this share (0-100) of the managed objects.
    pub percent: f64,
}

impl Default for DeleteLimit {
    fn default() -> Self {
        Self {
            count: 1000,
            percent: 50.0,
        }
    }
}

/// Sync settings.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SyncOptions {
    /// Delete stale managed objects (`--delete`).
    pub delete: bool,
    /// The delete guard.
    pub max_delete: DeleteLimit,
    /// Keep the objects of this many previous deploys, for clients that still hold old HTML.
    pub keep_previous: u64,
}

/// A deploy that must not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SyncError {
    /// More deletes than the guard allows.
    #[error("the deploy would delete {deletes} of {managed} managed objects, over the limit of {} ({}%)", limit.count, limit.percent)]
    TooManyDeletes {
        /// Deletes planned.
        deletes: u64,
        /// Objects deckhand manages under the prefix.
        managed: u64,
        /// The limit.
        limit: DeleteLimit,
    },
    /// Two local files map to one key.
    #[error("two local files map to the key `{0}`")]
    DuplicateKey(String),
}

impl SyncError {
    /// How to fix it.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::TooManyDeletes { .. } => Some(
                "check `--dir` points at the whole build; raise `--max-delete` if this many deletes are intended".into(),
            ),
            Self::DuplicateKey(_) => None,
        }
    }
}

/// Everything a site deploy will do, in order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SitePlan {
    /// Uploads: non-entry files first, entry points last.
    pub uploads: Vec<Upload>,
    /// Header-only changes, in the same phase order.
    pub reheaders: Vec<Reheader>,
    /// Files already in place.
    pub unchanged: u64,
    /// Their bytes.
    pub unchanged_bytes: u64,
    /// Stale managed objects deleted after the invalidation.
    pub deletes: Vec<String>,
    /// Stale managed objects kept for clients of previous deploys (or because `--delete` is off).
    pub retained: Vec<String>,
    /// Keys whose cached copies may be stale (changed or deleted; new keys cannot be cached).
    pub invalidate: Vec<String>,
    /// The manifest to store last.
    #[serde(skip)]
    pub next_manifest: Manifest,
}

impl SitePlan {
    /// True when nothing in the bucket changes.
    pub fn is_no_op(&self) -> bool {
        self.uploads.is_empty() && self.reheaders.is_empty() && self.deletes.is_empty()
    }
}

/// Plans a deploy of `local` over what `manifest` and `remote` say is in the bucket.
pub fn plan_sync(
    local: &[LocalFile],
    rules: &SiteRules,
    manifest: &Manifest,
    remote: &[RemoteObject],
    opts: &SyncOptions,
) -> Result<SitePlan, SyncError> {
    let remote: BTreeMap<&str, u64> = remote.iter().map(|o| (o.key.as_str(), o.size)).collect();
    let next_generation = manifest.generation + 1;
    let mut next = Manifest {
        generation: next_generation,
        ..Manifest::new()
    };
    let mut uploads = Vec::new();
    let mut reheaders = Vec::new();
    let mut invalidate = BTreeSet::new();
    let (mut unchanged, mut unchanged_bytes) = (0, 0);
    let mut seen = BTreeSet::new();

    for file in local {
        if !seen.insert(file.key.as_str()) {
            return Err(SyncError::DuplicateKey(file.key.clone()));
        }
        let headers = rules.headers(&file.key);
        let hash = headers_hash(&headers);
        let entry = rules.is_entry(&file.key);
        let known = manifest.objects.get(&file.key);
        let in_bucket = remote.get(file.key.as_str()).copied();
        let reason = match (known, in_bucket) {
            (_, None) if known.is_some() => Some(UploadReason::Missing),
            (None, None) => Some(UploadReason::New),
            (None, Some(_)) => Some(UploadReason::Unmanaged),
            (Some(k), Some(size)) if size != k.size => Some(UploadReason::Missing),
            (Some(k), Some(_)) if k.sha256 != file.sha256 => Some(UploadReason::ContentChanged),
            (Some(k), Some(_)) if k.headers != hash && encoding_changed(k, &headers) => {
                Some(UploadReason::EncodingChanged)
            }
            _ => None,
        };
        let stored_size = match reason {
            Some(r) => {
                if r != UploadReason::New {
                    invalidate.insert(file.key.clone());
                }
                uploads.push(Upload {
                    key: file.key.clone(),
                    reason: r,
                    entry,
                    headers: headers.clone(),
                    size: file.size,
                });
                // The adapter reports the stored size after precompression; until then the
                // source size stands in, and a mismatch only costs one extra upload.
                file.size
            }
            None => {
                let k = known.expect("BUG: no upload reason implies a manifest entry");
                if k.headers == hash {
                    unchanged += 1;
                    unchanged_bytes += file.size;
                } else {
                    invalidate.insert(file.key.clone());
                    reheaders.push(Reheader {
                        key: file.key.clone(),
                        entry,
                        headers: headers.clone(),
                    });
                }
                k.size
            }
        };
        next.objects.insert(
            file.key.clone(),
            ManifestEntry {
                sha256: file.sha256.clone(),
                headers: hash,
                size: stored_size,
                generation: next_generation,
            },
        );
    }

    // Stale: managed, no longer built. Objects deckhand did not upload are never touched.
    let mut deletes = Vec::new();
    let mut retained = Vec::new();
    for (key, entry) in &manifest.objects {
        if seen.contains(key.as_str()) {
            continue;
        }
        let old_enough = next_generation.saturating_sub(entry.generation) > opts.keep_previous;
        if opts.delete && old_enough {
            deletes.push(key.clone());
            if remote.contains_key(key.as_str()) {
                invalidate.insert(key.clone());
            }
        } else {
            retained.push(key.clone());
            next.objects.insert(key.clone(), entry.clone());
        }
    }
    let managed = manifest.objects.len() as u64;
    let count = deletes.len() as u64;
    #[allow(clippy::cast_precision_loss)]
    let share = if managed == 0 {
        0.0
    } else {
        count as f64 * 100.0 / managed as f64
    };
    if count > opts.max_delete.count || (count > 0 && share > opts.max_delete.percent) {
        return Err(SyncError::TooManyDeletes {
            deletes: count,
            managed,
            limit: opts.max_delete,
        });
    }

    // Non-entry files before entry points; stable by key within a phase.
    uploads.sort_by(|a, b| (a.entry, &a.key).cmp(&(b.entry, &b.key)));
    reheaders.sort_by(|a, b| (a.entry, &a.key).cmp(&(b.entry, &b.key)));
    let mut plan = SitePlan {
        uploads,
        reheaders,
        unchanged,
        unchanged_bytes,
        deletes,
        retained,
        invalidate: invalidate.into_iter().collect(),
        next_manifest: next,
    };
    if plan.is_no_op() {
        // Nothing changes in the bucket: the manifest stays as it is (and so does the
        // generation, so `keep_previous` counts deploys that changed something).
        plan.next_manifest = manifest.clone();
    }
    Ok(plan)
}

/// Precompression changes the stored bytes, so a compression change needs an upload, not a
/// header-only copy. The manifest keeps only a hash of the old headers, so the old encoding is
/// recovered by comparing against both possibilities.
fn encoding_changed(known: &ManifestEntry, headers: &ObjectHeaders) -> bool {
    use super::rules::Compression;
    [Compression::None, Compression::Gzip, Compression::Br]
        .into_iter()
        .filter(|c| *c != headers.compression)
        .any(|c| {
            headers_hash(&ObjectHeaders {
                compression: c,
                ..headers.clone()
            }) == known.headers
        })
}

#[cfg(test)]
mod tests;
