//! CloudWatch Logs: whether a log group exists (the `awslogs` groups a task definition names
//! must, unless ECS is told to create them).

use aws_sdk_cloudwatchlogs::Client;

use crate::config::AwsContext;
use crate::error::AwsCallError;

/// The CloudWatch Logs side of a deploy.
#[derive(Debug, Clone)]
pub struct LogsAdapter {
    client: Client,
}

impl LogsAdapter {
    /// Builds the adapter for `ctx`'s region; every request is counted.
    pub fn new(ctx: &AwsContext) -> Self {
        let config = aws_sdk_cloudwatchlogs::config::Builder::from(&ctx.sdk)
            .interceptor(ctx.calls.clone())
            .build();
        Self {
            client: Client::from_conf(config),
        }
    }

    /// DescribeLogGroups by prefix, then an exact match: true when `name` exists.
    pub async fn log_group_exists(&self, name: &str) -> Result<bool, AwsCallError> {
        let mut pages = self
            .client
            .describe_log_groups()
            .log_group_name_prefix(name)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| AwsCallError::from_sdk("logs", "DescribeLogGroups", name, &e))?;
            if page
                .log_groups()
                .iter()
                .any(|g| g.log_group_name() == Some(name))
            {
                return Ok(true);
            }
        }
        Ok(false)
    }
}
