//! CloudWatch Logs: whether a log group exists (the `awslogs` groups a task definition names
//! must, unless ECS is told to create them), and the last lines of a task's log stream.

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

    /// The last `lines` events of `group`/`stream`, oldest first (GetLogEvents from the end,
    /// one page). An empty list when the stream does not exist (yet).
    pub async fn tail(
        &self,
        group: &str,
        stream: &str,
        lines: u32,
    ) -> Result<Vec<String>, AwsCallError> {
        if lines == 0 {
            return Ok(Vec::new());
        }
        let resource = format!("{group}/{stream}");
        let out = match self
            .client
            .get_log_events()
            .log_group_name(group)
            .log_stream_name(stream)
            .start_from_head(false)
            .limit(i32::try_from(lines.min(10_000)).unwrap_or(10_000))
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                let error = AwsCallError::from_sdk("logs", "GetLogEvents", &resource, &e);
                if error.code.as_deref() == Some("ResourceNotFoundException") {
                    return Ok(Vec::new());
                }
                return Err(error);
            }
        };
        let events = out.events();
        let skip = events.len().saturating_sub(lines as usize);
        Ok(events[skip..]
            .iter()
            .map(|e| {
                e.message()
                    .unwrap_or_default()
                    .trim_end_matches('\n')
                    .to_string()
            })
            .collect())
    }
}
