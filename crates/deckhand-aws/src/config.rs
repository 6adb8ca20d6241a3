//! Loading AWS settings the way every AWS tool does.

use aws_config::{AppName, BehaviorVersion, Region, SdkConfig, retry::RetryConfig};

use crate::calls::ApiCalls;

/// The SDK configuration plus deckhand's request counter.
#[derive(Debug, Clone)]
pub struct AwsContext {
    /// Shared SDK configuration (region, credentials, endpoint).
    pub sdk: SdkConfig,
    /// Requests made through clients built from this context.
    pub calls: ApiCalls,
}

impl AwsContext {
    /// The same settings and counter in `region` (an ECR registry or a log group of another
    /// region than the deploy's).
    pub fn in_region(&self, region: &str) -> AwsContext {
        if self.sdk.region().is_some_and(|r| r.as_ref() == region) {
            return self.clone();
        }
        AwsContext {
            sdk: self
                .sdk
                .to_builder()
                .region(Region::new(region.to_string()))
                .build(),
            calls: self.calls.clone(),
        }
    }
}

/// Loads the standard chain: `--region` over `AWS_REGION`/profile, credentials from env,
/// profile, SSO, web identity (GitHub OIDC) or instance metadata, and `AWS_ENDPOINT_URL` (how
/// the local world is reached). Retries use the standard mode with backoff for throttling.
pub async fn load_context(region: Option<String>) -> AwsContext {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .app_name(AppName::new("deckhand").expect("BUG: static app name is valid"))
        .retry_config(RetryConfig::standard().with_max_attempts(5));
    if let Some(r) = region {
        loader = loader.region(Region::new(r));
    }
    AwsContext {
        sdk: loader.load().await,
        calls: ApiCalls::default(),
    }
}
