//! CloudFront: the origins of a distribution, invalidations.

use aws_sdk_cloudfront::Client;
use aws_sdk_cloudfront::types::{InvalidationBatch, Paths};

use crate::config::AwsContext;
use crate::error::AwsCallError;

/// A CloudFront call that failed.
pub type CloudFrontError = AwsCallError;

/// CloudFront answers these when it wants the caller to come back later.
const RETRY_CODES: &[&str] = &[
    "TooManyInvalidationsInProgress",
    "Throttling",
    "ServiceUnavailable",
    "SlowDown",
];

/// Attempts of one CreateInvalidation: 1 s, 2 s, 4 s, 8 s and 16 s apart (31 s in all, about
/// what CloudFront needs to finish one of the 15 wildcard invalidations it allows at once).
const INVALIDATE_ATTEMPTS: u32 = 6;

/// An origin of a distribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `DomainName`, e.g. `site.s3.us-east-1.amazonaws.com`.
    pub domain: String,
    /// `OriginPath`, e.g. `/site` or empty.
    pub origin_path: String,
}

/// The CloudFront side of a site deploy.
#[derive(Debug, Clone)]
pub struct CloudFrontAdapter {
    client: Client,
}

fn cf_error<E, R>(
    operation: &'static str,
    resource: &str,
    err: aws_sdk_cloudfront::error::SdkError<E, R>,
) -> CloudFrontError
where
    E: aws_sdk_cloudfront::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    AwsCallError::from_sdk("cloudfront", operation, resource, &err)
}

impl CloudFrontAdapter {
    /// Builds the adapter; every request is counted.
    pub fn new(ctx: &AwsContext) -> Self {
        let config = aws_sdk_cloudfront::config::Builder::from(&ctx.sdk)
            .interceptor(ctx.calls.clone())
            .build();
        Self {
            client: Client::from_conf(config),
        }
    }

    /// GetDistribution: its origins.
    pub async fn origins(&self, distribution: &str) -> Result<Vec<Origin>, CloudFrontError> {
        let out = self
            .client
            .get_distribution()
            .id(distribution)
            .send()
            .await
            .map_err(|e| cf_error("GetDistribution", distribution, e))?;
        let origins = out
            .distribution()
            .and_then(|d| d.distribution_config())
            .and_then(|c| c.origins())
            .map(|o| o.items().to_vec())
            .unwrap_or_default();
        Ok(origins
            .iter()
            .map(|o| Origin {
                domain: o.domain_name().to_string(),
                origin_path: o.origin_path().unwrap_or_default().to_string(),
            })
            .collect())
    }

    /// CreateInvalidation. Returns its id and status.
    pub async fn invalidate(
        &self,
        distribution: &str,
        paths: &[String],
        caller_reference: &str,
    ) -> Result<(String, String), CloudFrontError> {
        let build_err = |e: aws_sdk_cloudfront::error::BuildError| AwsCallError {
            service: "cloudfront",
            operation: "CreateInvalidation",
            resource: distribution.to_string(),
            code: None,
            message: e.to_string(),
        };
        let quantity = i32::try_from(paths.len()).unwrap_or(i32::MAX);
        let batch = InvalidationBatch::builder()
            .paths(
                Paths::builder()
                    .quantity(quantity)
                    .set_items(Some(paths.to_vec()))
                    .build()
                    .map_err(build_err)?,
            )
            .caller_reference(caller_reference)
            .build()
            .map_err(build_err)?;
        let out = self
            .client
            .create_invalidation()
            .distribution_id(distribution)
            .invalidation_batch(batch)
            .send()
            .await
            .map_err(|e| cf_error("CreateInvalidation", distribution, e))?;
        let inv = out.invalidation();
        Ok((
            inv.map(|i| i.id().to_string()).unwrap_or_default(),
            inv.map(|i| i.status().to_string()).unwrap_or_default(),
        ))
    }

    /// CreateInvalidation, retried with exponential backoff while CloudFront answers that it
    /// is busy (too many invalidations in progress, throttling); `notice` hears of each retry.
    /// The caller reference makes a retry of an invalidation CloudFront did create return it
    /// instead of a second one.
    pub async fn invalidate_with_backoff(
        &self,
        distribution: &str,
        paths: &[String],
        caller_reference: &str,
        notice: &(dyn Fn(&str) + Sync),
    ) -> Result<(String, String), CloudFrontError> {
        let mut delay = std::time::Duration::from_secs(1);
        let mut attempt = 1;
        loop {
            match self.invalidate(distribution, paths, caller_reference).await {
                Err(e)
                    if attempt < INVALIDATE_ATTEMPTS
                        && e.code.as_deref().is_some_and(|c| RETRY_CODES.contains(&c)) =>
                {
                    notice(&format!(
                        "{} (attempt {attempt}); retrying in {}s",
                        e.code.as_deref().unwrap_or_default(),
                        delay.as_secs()
                    ));
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                    attempt += 1;
                }
                done => return done,
            }
        }
    }

    /// GetInvalidation: its status (`InProgress`, `Completed`; moto says `COMPLETED`).
    pub async fn invalidation_status(
        &self,
        distribution: &str,
        id: &str,
    ) -> Result<String, CloudFrontError> {
        let out = self
            .client
            .get_invalidation()
            .distribution_id(distribution)
            .id(id)
            .send()
            .await
            .map_err(|e| cf_error("GetInvalidation", &format!("{distribution}/{id}"), e))?;
        Ok(out
            .invalidation()
            .map(|i| i.status().to_string())
            .unwrap_or_default())
    }
}
