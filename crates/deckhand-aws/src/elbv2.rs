//! Elastic Load Balancing (v2): the health of a target group's targets, for post-deploy
//! verification (`deckhand_core::ecs::verify` decides what it means).

use aws_sdk_elasticloadbalancingv2::Client;
use deckhand_core::ecs::verify::TargetHealthEntry;

use crate::config::AwsContext;
use crate::error::AwsCallError;

/// The load balancer side of a deploy.
#[derive(Debug, Clone)]
pub struct Elbv2Adapter {
    client: Client,
}

impl Elbv2Adapter {
    /// Builds the adapter for `ctx`'s region; every request is counted.
    pub fn new(ctx: &AwsContext) -> Self {
        let config = aws_sdk_elasticloadbalancingv2::config::Builder::from(&ctx.sdk)
            .interceptor(ctx.calls.clone())
            .build();
        Self {
            client: Client::from_conf(config),
        }
    }

    /// DescribeTargetHealth of every registered target of `target_group_arn` (one call: the
    /// operation is not paginated).
    pub async fn target_health(
        &self,
        target_group_arn: &str,
    ) -> Result<Vec<TargetHealthEntry>, AwsCallError> {
        let out = self
            .client
            .describe_target_health()
            .target_group_arn(target_group_arn)
            .send()
            .await
            .map_err(|e| {
                AwsCallError::from_sdk(
                    "elasticloadbalancing",
                    "DescribeTargetHealth",
                    target_group_arn,
                    &e,
                )
            })?;
        Ok(out
            .target_health_descriptions()
            .iter()
            .map(|d| {
                let health = d.target_health();
                TargetHealthEntry {
                    id: d
                        .target()
                        .and_then(|t| t.id())
                        .unwrap_or_default()
                        .to_string(),
                    port: d.target().and_then(|t| t.port()),
                    state: health
                        .and_then(|h| h.state())
                        .map_or_else(|| "unknown".to_string(), |s| s.as_str().to_string()),
                    reason: health
                        .and_then(|h| h.reason())
                        .map(|r| r.as_str().to_string()),
                    description: health.and_then(|h| h.description()).map(str::to_string),
                }
            })
            .collect())
    }
}
