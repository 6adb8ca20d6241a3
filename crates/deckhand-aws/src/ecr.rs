//! ECR's control plane: registry credentials, and repositories (exists? immutable? create).
//! Pushing goes through the registry API (`deckhand-oci`), as every image tool does.

use std::time::SystemTime;

use aws_sdk_ecr::Client;
use aws_sdk_ecr::types::{ImageScanningConfiguration, ImageTagMutability};

use crate::config::AwsContext;
use crate::error::AwsCallError;

/// What GetAuthorizationToken hands out.
#[derive(Clone)]
pub struct EcrAuthorization {
    /// base64 of `AWS:<password>`.
    pub token: String,
    /// When it stops working (12 hours on AWS).
    pub expires_at: Option<SystemTime>,
    /// `https://ACCOUNT.dkr.ecr.REGION.amazonaws.com`.
    pub proxy_endpoint: String,
}

impl std::fmt::Debug for EcrAuthorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EcrAuthorization({}, ***)", self.proxy_endpoint)
    }
}

/// A repository as DescribeRepositories shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcrRepository {
    pub name: String,
    pub uri: String,
    /// `MUTABLE`, `IMMUTABLE`, or one of the `*_WITH_EXCLUSION` forms.
    pub tag_mutability: String,
    /// The wildcard filters of a `*_WITH_EXCLUSION` mutability.
    pub exclusion_filters: Vec<String>,
}

/// The ECR side of an image push.
#[derive(Debug, Clone)]
pub struct EcrAdapter {
    client: Client,
}

fn ecr_error<E, R>(
    operation: &'static str,
    resource: &str,
    err: aws_sdk_ecr::error::SdkError<E, R>,
) -> AwsCallError
where
    E: aws_sdk_ecr::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    AwsCallError::from_sdk("ecr", operation, resource, &err)
}

impl EcrAdapter {
    /// Builds the adapter; every request is counted.
    pub fn new(ctx: &AwsContext) -> Self {
        let config = aws_sdk_ecr::config::Builder::from(&ctx.sdk)
            .interceptor(ctx.calls.clone())
            .build();
        Self {
            client: Client::from_conf(config),
        }
    }

    /// DescribeImages for one tag: the digest it names, or `None` when the repository has no
    /// such tag (or there is no such repository).
    pub async fn image_digest(
        &self,
        repository: &str,
        registry_id: Option<&str>,
        tag: &str,
    ) -> Result<Option<String>, AwsCallError> {
        let resource = format!("{repository}:{tag}");
        let out = self
            .client
            .describe_images()
            .repository_name(repository)
            .set_registry_id(registry_id.map(str::to_string))
            .image_ids(
                aws_sdk_ecr::types::ImageIdentifier::builder()
                    .image_tag(tag)
                    .build(),
            )
            .send()
            .await;
        match out {
            Ok(out) => Ok(out
                .image_details()
                .first()
                .and_then(|d| d.image_digest())
                .map(str::to_string)),
            Err(e) => {
                let error = ecr_error("DescribeImages", &resource, e);
                match error.code.as_deref() {
                    Some("ImageNotFoundException" | "RepositoryNotFoundException") => Ok(None),
                    _ => Err(error),
                }
            }
        }
    }

    /// GetAuthorizationToken: one token for every registry the caller may use.
    pub async fn authorization(&self) -> Result<EcrAuthorization, AwsCallError> {
        let resource = "registry";
        let out = self
            .client
            .get_authorization_token()
            .send()
            .await
            .map_err(|e| ecr_error("GetAuthorizationToken", resource, e))?;
        let data = out
            .authorization_data()
            .first()
            .ok_or_else(|| AwsCallError {
                service: "ecr",
                operation: "GetAuthorizationToken",
                resource: resource.to_string(),
                code: None,
                message: "the answer holds no authorization data".into(),
            })?;
        Ok(EcrAuthorization {
            token: data.authorization_token().unwrap_or_default().to_string(),
            expires_at: data
                .expires_at()
                .and_then(|t| SystemTime::try_from(*t).ok()),
            proxy_endpoint: data.proxy_endpoint().unwrap_or_default().to_string(),
        })
    }

    /// DescribeRepositories for one name; None when it does not exist.
    pub async fn repository(
        &self,
        name: &str,
        registry_id: Option<&str>,
    ) -> Result<Option<EcrRepository>, AwsCallError> {
        let result = self
            .client
            .describe_repositories()
            .repository_names(name)
            .set_registry_id(registry_id.map(str::to_string))
            .send()
            .await;
        let out = match result {
            Ok(out) => out,
            Err(e) => {
                let err = ecr_error("DescribeRepositories", name, e);
                if err.code.as_deref() == Some("RepositoryNotFoundException") {
                    return Ok(None);
                }
                return Err(err);
            }
        };
        Ok(out.repositories().first().map(|r| EcrRepository {
            name: r.repository_name().unwrap_or(name).to_string(),
            uri: r.repository_uri().unwrap_or_default().to_string(),
            tag_mutability: r
                .image_tag_mutability()
                .map_or("MUTABLE", |m| m.as_str())
                .to_string(),
            exclusion_filters: r
                .image_tag_mutability_exclusion_filters()
                .iter()
                .map(|f| f.filter().to_string())
                .collect(),
        }))
    }

    /// CreateRepository.
    pub async fn create_repository(
        &self,
        name: &str,
        registry_id: Option<&str>,
        tag_mutability: &str,
        scan_on_push: bool,
    ) -> Result<EcrRepository, AwsCallError> {
        let out = self
            .client
            .create_repository()
            .repository_name(name)
            .set_registry_id(registry_id.map(str::to_string))
            .image_tag_mutability(ImageTagMutability::from(tag_mutability))
            .image_scanning_configuration(
                ImageScanningConfiguration::builder()
                    .scan_on_push(scan_on_push)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| ecr_error("CreateRepository", name, e))?;
        let r = out.repository();
        Ok(EcrRepository {
            name: name.to_string(),
            uri: r
                .and_then(|r| r.repository_uri())
                .unwrap_or_default()
                .to_string(),
            tag_mutability: tag_mutability.to_string(),
            exclusion_filters: Vec::new(),
        })
    }
}
