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

    /// How to fix it, when the answer says (permissions, credentials).
    pub fn hint(&self) -> Option<String> {
        access_hint(self.code.as_deref(), &self.message)
    }

    /// True when the S3 bucket does not exist.
    pub fn is_no_such_bucket(&self) -> bool {
        matches!(self.code.as_deref(), Some("NoSuchBucket" | "NotFound"))
    }
}

/// The fix for answers about who is calling, the same for every service: a missing permission,
/// credentials AWS does not take, or none found.
pub(crate) fn access_hint(code: Option<&str>, message: &str) -> Option<String> {
    match code {
        Some("AccessDenied" | "AccessDeniedException") => Some(
            "the credentials lack a permission; docs/iam.md lists what each command needs".into(),
        ),
        Some(
            "UnrecognizedClientException"
            | "InvalidSignatureException"
            | "ExpiredTokenException"
            | "InvalidAccessKeyId"
            | "SignatureDoesNotMatch"
            | "ExpiredToken",
        ) => Some(
            "check the AWS credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID or the OIDC role)".into(),
        ),
        None if message.contains("credentials") => Some(
            "no usable AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID, or assume a role with OIDC"
                .into(),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_problems_have_hints_and_others_none() {
        assert!(
            access_hint(Some("AccessDeniedException"), "")
                .unwrap()
                .contains("docs/iam.md")
        );
        assert!(
            access_hint(Some("ExpiredTokenException"), "")
                .unwrap()
                .contains("OIDC role")
        );
        assert!(
            access_hint(None, "failed to load credentials from the chain")
                .unwrap()
                .contains("AWS_PROFILE")
        );
        assert_eq!(
            access_hint(Some("ServiceNotFoundException"), "credentials"),
            None
        );
        assert_eq!(access_hint(None, "connection refused"), None);
    }
}
