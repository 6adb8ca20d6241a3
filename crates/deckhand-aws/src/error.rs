//! The error of one AWS call: service, operation, resource, and what AWS said.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// An AWS call that failed.
#[derive(Debug, thiserror::Error)]
#[error("`{service}:{operation}` failed for `{resource}`: {message}")]
pub struct AwsCallError {
    /// `s3`, `cloudfront`, `ecr`.
    pub service: &'static str,
    /// The operation.
    pub operation: &'static str,
    /// What it was called on (bucket/key, distribution, repository).
    pub resource: String,
    /// The error code AWS returned, when it returned one.
    pub code: Option<String>,
    /// AWS's message, or the transport error.
    pub message: String,
}

impl AwsCallError {
    pub(crate) fn from_sdk<E, R>(
        service: &'static str,
        operation: &'static str,
        resource: &str,
        err: &SdkError<E, R>,
    ) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        let (code, message) = crate::ecs::error_parts(err);
        Self {
            service,
            operation,
            resource: resource.to_string(),
            code,
            message,
        }
    }

    /// True when the S3 bucket does not exist.
    pub fn is_no_such_bucket(&self) -> bool {
        matches!(self.code.as_deref(), Some("NoSuchBucket" | "NotFound"))
    }
}
