//! S3: list a prefix, read and write the manifest, upload (streamed, multipart above a fixed
//! size), re-header in place, delete in batches.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_sdk_s3::Client;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    CompletedMultipartUpload, CompletedPart, Delete, MetadataDirective, ObjectIdentifier,
};

use deckhand_core::site::invalidation::encode_key;
use deckhand_core::site::rules::{Compression, ObjectHeaders};

use crate::config::AwsContext;
use crate::error::AwsCallError;

/// Files above this size are uploaded in parts of this size (S3's minimum part is 5 MiB).
pub const PART_SIZE: u64 = 8 * 1024 * 1024;
/// DeleteObjects takes at most this many keys.
const DELETE_BATCH: usize = 1000;

/// An S3 call that failed.
pub type S3Error = AwsCallError;

pub(crate) fn sdk_error<E, R>(
    operation: &'static str,
    resource: &str,
    err: SdkError<E, R>,
) -> S3Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    AwsCallError::from_sdk("s3", operation, resource, &err)
}

/// Sets the stored headers on any of the three S3 builders that take them (PutObject,
/// CreateMultipartUpload, CopyObject): one list, so no upload path can miss a header.
macro_rules! with_headers {
    ($builder:expr, $h:expr) => {
        $builder
            .cache_control(&$h.cache_control)
            .content_type(&$h.content_type)
            .set_content_encoding($h.content_encoding.clone())
            .set_content_disposition($h.content_disposition.clone())
            .set_content_language($h.content_language.clone())
    };
}

/// Headers to store an object with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PutHeaders {
    /// Cache-Control.
    pub cache_control: String,
    /// Content-Type.
    pub content_type: String,
    /// Content-Encoding (`gzip`, `br`), when precompressed.
    pub content_encoding: Option<String>,
    /// Content-Disposition.
    pub content_disposition: Option<String>,
    /// Content-Language.
    pub content_language: Option<String>,
}

impl From<&ObjectHeaders> for PutHeaders {
    /// The headers a site rule gives an object, as S3 stores them.
    fn from(h: &ObjectHeaders) -> Self {
        Self {
            cache_control: h.cache_control.clone(),
            content_type: h.content_type.clone(),
            content_encoding: match h.compression {
                Compression::None => None,
                Compression::Gzip => Some("gzip".into()),
                Compression::Br => Some("br".into()),
            },
            content_disposition: h.content_disposition.clone(),
            content_language: h.content_language.clone(),
        }
    }
}

/// What to upload.
#[derive(Debug)]
pub enum Body<'a> {
    /// A file, streamed from disk.
    File(&'a Path, u64),
    /// Bytes in memory (precompressed files, the manifest).
    Bytes(Vec<u8>),
}

/// Where the bytes of one upload of [`S3Adapter::write_all`] come from.
pub enum Source {
    /// A file, streamed from disk.
    File {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
    },
    /// Bytes made when the upload starts (a precompressed file), in the upload's own task.
    Made(Box<dyn FnOnce() -> Result<Vec<u8>, String> + Send>),
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File { path, size } => write!(f, "File({}, {size})", path.display()),
            Self::Made(_) => f.write_str("Made(..)"),
        }
    }
}

/// One write of [`S3Adapter::write_all`].
#[derive(Debug)]
pub enum ObjectWrite {
    /// Upload an object.
    Put {
        /// Its full key.
        key: String,
        /// Its bytes.
        source: Source,
        /// Its headers.
        headers: PutHeaders,
    },
    /// Replace an object's headers without sending its bytes.
    Reheader {
        /// Its full key.
        key: String,
        /// The new headers.
        headers: PutHeaders,
    },
}

/// An object from ListObjectsV2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedObject {
    /// Full key.
    pub key: String,
    /// Size.
    pub size: u64,
}

/// The S3 side of a site deploy.
#[derive(Debug, Clone)]
pub struct S3Adapter {
    client: Client,
}

impl S3Adapter {
    /// Builds the adapter; path-style addressing when an endpoint override (an emulator, a
    /// proxy) is configured, virtual-hosted otherwise, as AWS recommends.
    pub fn new(ctx: &AwsContext) -> Self {
        let config = aws_sdk_s3::config::Builder::from(&ctx.sdk)
            .force_path_style(ctx.sdk.endpoint_url().is_some())
            .interceptor(ctx.calls.clone())
            .build();
        Self {
            client: Client::from_conf(config),
        }
    }

    /// Every object under `prefix`, in one ListObjectsV2 pass (1,000 keys a page).
    pub async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<ListedObject>, S3Error> {
        let mut out = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_error("ListObjectsV2", bucket, e))?;
            out.extend(page.contents().iter().map(|o| ListedObject {
                key: o.key().unwrap_or_default().to_string(),
                size: u64::try_from(o.size().unwrap_or(0)).unwrap_or(0),
            }));
        }
        Ok(out)
    }

    /// GetObject into memory; `None` when the key does not exist.
    pub async fn get_small(&self, bucket: &str, key: &str) -> Result<Option<Vec<u8>>, S3Error> {
        let resource = format!("{bucket}/{key}");
        match self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => {
                let bytes = out.body.collect().await.map_err(|e| S3Error {
                    service: "s3",
                    operation: "GetObject",
                    resource,
                    code: None,
                    message: e.to_string(),
                })?;
                Ok(Some(bytes.into_bytes().to_vec()))
            }
            Err(e) => {
                let err = sdk_error("GetObject", &resource, e);
                if err.code.as_deref() == Some("NoSuchKey") {
                    Ok(None)
                } else {
                    Err(err)
                }
            }
        }
    }

    /// PutObject, or a multipart upload in [`PART_SIZE`] parts for large files. Returns the
    /// bytes stored.
    pub async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Body<'_>,
        headers: &PutHeaders,
    ) -> Result<u64, S3Error> {
        let resource = format!("{bucket}/{key}");
        match body {
            Body::File(path, size) if size > PART_SIZE => self
                .put_multipart(bucket, key, path, size, headers)
                .await
                .map(|()| size),
            Body::File(path, size) => {
                let stream = ByteStream::from_path(path).await.map_err(|e| S3Error {
                    service: "s3",
                    operation: "PutObject",
                    resource: resource.clone(),
                    code: None,
                    message: format!("reading `{}`: {e}", path.display()),
                })?;
                self.put_stream(bucket, key, stream, headers)
                    .await
                    .map_err(|e| sdk_error("PutObject", &resource, e))?;
                Ok(size)
            }
            Body::Bytes(bytes) => {
                let size = bytes.len() as u64;
                self.put_stream(bucket, key, ByteStream::from(bytes), headers)
                    .await
                    .map_err(|e| sdk_error("PutObject", &resource, e))?;
                Ok(size)
            }
        }
    }

    async fn put_stream(
        &self,
        bucket: &str,
        key: &str,
        body: ByteStream,
        h: &PutHeaders,
    ) -> Result<
        (),
        SdkError<
            aws_sdk_s3::operation::put_object::PutObjectError,
            aws_sdk_s3::config::http::HttpResponse,
        >,
    > {
        with_headers!(
            self.client.put_object().bucket(bucket).key(key).body(body),
            h
        )
        .send()
        .await
        .map(|_| ())
    }

    async fn put_multipart(
        &self,
        bucket: &str,
        key: &str,
        path: &Path,
        size: u64,
        h: &PutHeaders,
    ) -> Result<(), S3Error> {
        let resource = format!("{bucket}/{key}");
        let created = self
            .client
            .create_multipart_upload()
            .bucket(bucket)
            .key(key);
        let created = with_headers!(created, h)
            .send()
            .await
            .map_err(|e| sdk_error("CreateMultipartUpload", &resource, e))?;
        let upload_id = created.upload_id().unwrap_or_default().to_string();
        let result = async {
            let mut parts = Vec::new();
            let mut offset = 0;
            let mut number = 1;
            while offset < size {
                let length = PART_SIZE.min(size - offset);
                let stream = ByteStream::read_from()
                    .path(path)
                    .offset(offset)
                    .length(aws_sdk_s3::primitives::Length::Exact(length))
                    .build()
                    .await
                    .map_err(|e| S3Error {
                        service: "s3",
                        operation: "UploadPart",
                        resource: resource.clone(),
                        code: None,
                        message: format!("reading `{}`: {e}", path.display()),
                    })?;
                let part = self
                    .client
                    .upload_part()
                    .bucket(bucket)
                    .key(key)
                    .upload_id(&upload_id)
                    .part_number(number)
                    .body(stream)
                    .send()
                    .await
                    .map_err(|e| sdk_error("UploadPart", &resource, e))?;
                parts.push(
                    CompletedPart::builder()
                        .part_number(number)
                        .set_e_tag(part.e_tag().map(str::to_string))
                        .build(),
                );
                offset += length;
                number += 1;
            }
            self.client
                .complete_multipart_upload()
                .bucket(bucket)
                .key(key)
                .upload_id(&upload_id)
                .multipart_upload(
                    CompletedMultipartUpload::builder()
                        .set_parts(Some(parts))
                        .build(),
                )
                .send()
                .await
                .map_err(|e| sdk_error("CompleteMultipartUpload", &resource, e))?;
            Ok(())
        }
        .await;
        if result.is_err() {
            // Leave no orphaned parts to be billed for.
            let _ = self
                .client
                .abort_multipart_upload()
                .bucket(bucket)
                .key(key)
                .upload_id(&upload_id)
                .send()
                .await;
        }
        result
    }

    /// Replaces an object's headers without sending its bytes (CopyObject onto itself).
    pub async fn reheader(&self, bucket: &str, key: &str, h: &PutHeaders) -> Result<(), S3Error> {
        let resource = format!("{bucket}/{key}");
        let copy = self
            .client
            .copy_object()
            .bucket(bucket)
            .key(key)
            .copy_source(format!("{bucket}/{}", encode_key(key)))
            .metadata_directive(MetadataDirective::Replace);
        with_headers!(copy, h)
            .send()
            .await
            .map_err(|e| sdk_error("CopyObject", &resource, e))?;
        Ok(())
    }

    /// DeleteObjects in batches of 1,000; every key S3 reports as not deleted is an error.
    pub async fn delete(&self, bucket: &str, keys: &[String]) -> Result<(), S3Error> {
        for batch in keys.chunks(DELETE_BATCH) {
            let objects: Vec<ObjectIdentifier> = batch
                .iter()
                .filter_map(|k| ObjectIdentifier::builder().key(k).build().ok())
                .collect();
            let delete = Delete::builder()
                .set_objects(Some(objects))
                .quiet(true)
                .build()
                .map_err(|e| S3Error {
                    service: "s3",
                    operation: "DeleteObjects",
                    resource: bucket.to_string(),
                    code: None,
                    message: e.to_string(),
                })?;
            let out = self
                .client
                .delete_objects()
                .bucket(bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| sdk_error("DeleteObjects", bucket, e))?;
            if let Some(first) = out.errors().first() {
                return Err(S3Error {
                    service: "s3",
                    operation: "DeleteObjects",
                    resource: format!("{bucket}/{}", first.key().unwrap_or_default()),
                    code: first.code().map(str::to_string),
                    message: first.message().unwrap_or_default().to_string(),
                });
            }
        }
        Ok(())
    }

    /// Runs `writes`, `concurrency` at a time. Returns each upload's full key and stored bytes
    /// (re-headers return nothing). The first failure stops the rest and is returned: what
    /// was written stays written, so a caller that records progress elsewhere (the site
    /// manifest) can resume.
    pub async fn write_all(
        &self,
        bucket: &str,
        writes: Vec<ObjectWrite>,
        concurrency: usize,
    ) -> Result<Vec<(String, u64)>, S3Error> {
        let permits = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
        let mut tasks: tokio::task::JoinSet<Result<Option<(String, u64)>, S3Error>> =
            tokio::task::JoinSet::new();
        for write in writes {
            let (s3, bucket, permits) = (self.clone(), bucket.to_string(), permits.clone());
            tasks.spawn(async move {
                let _permit = permits.acquire_owned().await.ok();
                match write {
                    ObjectWrite::Put {
                        key,
                        source,
                        headers,
                    } => {
                        let stored = match source {
                            Source::File { path, size } => {
                                s3.put(&bucket, &key, Body::File(&path, size), &headers)
                                    .await?
                            }
                            Source::Made(make) => {
                                let bytes = make().map_err(|message| S3Error {
                                    service: "s3",
                                    operation: "PutObject",
                                    resource: format!("{bucket}/{key}"),
                                    code: None,
                                    message,
                                })?;
                                s3.put(&bucket, &key, Body::Bytes(bytes), &headers).await?
                            }
                        };
                        Ok(Some((key, stored)))
                    }
                    ObjectWrite::Reheader { key, headers } => {
                        s3.reheader(&bucket, &key, &headers).await?;
                        Ok(None)
                    }
                }
            });
        }
        let mut stored = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            let outcome = joined.unwrap_or_else(|e| {
                Err(S3Error {
                    service: "s3",
                    operation: "PutObject",
                    resource: bucket.to_string(),
                    code: None,
                    message: format!("an upload task failed: {e}"),
                })
            });
            match outcome {
                Ok(Some(s)) => stored.push(s),
                Ok(None) => {}
                Err(e) => {
                    tasks.abort_all();
                    return Err(e);
                }
            }
        }
        Ok(stored)
    }
}
