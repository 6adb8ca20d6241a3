//! The service deployment of a BLUE_GREEN, CANARY or LINEAR deployment: where ECS's record says
//! the deployment of `ecs-svc/N` stands (`lifecycleStage`, traffic weights, status).

use aws_sdk_ecs::types::ServiceDeployment;
use deckhand_core::ecs::strategy::{StageView, Strategy, weight_tenths};

use super::{EcsAdapter, EcsError, api_error};

/// How many of the newest service deployments are searched for the one of `ecs-svc/N`.
const SEARCHED: i32 = 20;

impl EcsAdapter {
    /// DescribeServiceDeployments of the service deployment that deployed `deployment_id`
    /// (`ecs-svc/N`: its target revision ends in `/N`). `known_arn` skips the search
    /// (ListServiceDeployments) once a previous call found it. `None` when ECS has no such
    /// record (yet), or no service deployments at all here.
    pub async fn observe_stage(
        &self,
        cluster: &str,
        service: &str,
        deployment_id: &str,
        known_arn: Option<&str>,
    ) -> Result<Option<StageView>, EcsError> {
        let resource = format!("{cluster}/{service}");
        let arn = match known_arn {
            Some(a) => a.to_string(),
            None => {
                let Some(number) = deployment_id.strip_prefix("ecs-svc/") else {
                    return Ok(None);
                };
                let suffix = format!("/{number}");
                let listed = self
                    .client
                    .list_service_deployments()
                    .cluster(cluster)
                    .service(service)
                    .max_results(SEARCHED)
                    .send()
                    .await
                    .map_err(|e| api_error("ListServiceDeployments", &resource, e))?;
                let found = listed.service_deployments().iter().find(|d| {
                    d.target_service_revision_arn()
                        .is_some_and(|r| r.ends_with(&suffix))
                });
                match found.and_then(|d| d.service_deployment_arn()) {
                    Some(a) => a.to_string(),
                    None => return Ok(None),
                }
            }
        };
        let out = self
            .client
            .describe_service_deployments()
            .service_deployment_arns(&arn)
            .send()
            .await
            .map_err(|e| api_error("DescribeServiceDeployments", &resource, e))?;
        Ok(out.service_deployments().first().map(stage_view))
    }
}

fn stage_view(d: &ServiceDeployment) -> StageView {
    let config = d.deployment_configuration();
    StageView {
        arn: d.service_deployment_arn().unwrap_or_default().to_string(),
        status: d
            .status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        status_reason: d.status_reason().map(str::to_string),
        lifecycle_stage: d.lifecycle_stage().map(|s| s.as_str().to_string()),
        strategy: config
            .and_then(|c| c.strategy())
            .and_then(|s| Strategy::parse(s.as_str())),
        production_weight_tenths: d
            .target_service_revision()
            .and_then(|t| t.requested_production_traffic_weight())
            .and_then(weight_tenths),
        bake_minutes: config.and_then(|c| c.bake_time_in_minutes()),
        canary_bake_minutes: config
            .and_then(|c| c.canary_configuration())
            .and_then(|c| c.canary_bake_time_in_minutes()),
        step_bake_minutes: config
            .and_then(|c| c.linear_configuration())
            .and_then(|c| c.step_bake_time_in_minutes()),
    }
}
