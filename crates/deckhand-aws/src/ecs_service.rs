//! ECS services from a service definition file: DescribeServices as sent (the settings a file
//! is diffed with), CreateService and UpdateService with the bodies deckhand-core built, and
//! TagResource. Bodies travel as raw JSON, like task definitions (`raw_json`): a typed SDK
//! round trip would drop any member the SDK's model does not have yet.

use aws_sdk_ecs::types::{ServiceField, Tag};
use deckhand_core::ecs::model::ServiceSnapshot;
use serde_json::Value;

use crate::ecs::{EcsAdapter, EcsError, api_error, service_snapshot};
use crate::raw_json::{CaptureResponse, ReplaceRequestBody};

fn unreadable(operation: &'static str, resource: &str, problem: &str) -> EcsError {
    EcsError::Unreadable {
        operation,
        resource: resource.to_string(),
        problem: problem.to_string(),
    }
}

fn body_of(operation: &'static str, resource: &str, body: &Value) -> Result<Vec<u8>, EcsError> {
    serde_json::to_vec(body).map_err(|e| unreadable(operation, resource, &e.to_string()))
}

impl EcsAdapter {
    /// DescribeServices for one service with its tags, the `service` member as ECS sent it.
    /// `None` when it does not exist (ECS reports it MISSING).
    pub async fn describe_service_document(
        &self,
        cluster: &str,
        service: &str,
    ) -> Result<Option<Value>, EcsError> {
        let resource = format!("{cluster}/{service}");
        let capture = CaptureResponse::default();
        self.client
            .describe_services()
            .cluster(cluster)
            .services(service)
            .include(ServiceField::Tags)
            .customize()
            .interceptor(capture.clone())
            .send()
            .await
            .map_err(|e| api_error("DescribeServices", &resource, e))?;
        let body = capture.take().ok_or_else(|| {
            unreadable(
                "DescribeServices",
                &resource,
                "the response body was not captured",
            )
        })?;
        let mut doc: Value = serde_json::from_slice(&body)
            .map_err(|e| unreadable("DescribeServices", &resource, &e.to_string()))?;
        Ok(doc
            .get_mut("services")
            .and_then(Value::as_array_mut)
            .and_then(|s| s.first_mut())
            .map(Value::take))
    }

    /// CreateService with `body` (a CreateService input) sent as is. Returns the service as ECS
    /// answered, whose PRIMARY deployment is its first.
    pub async fn create_service(&self, body: &Value) -> Result<ServiceSnapshot, EcsError> {
        let name = body
            .get("serviceName")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let cluster = body
            .get("cluster")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let resource = format!("{cluster}/{name}");
        let bytes = body_of("CreateService", &resource, body)?;
        // The builder needs its required member to build; the interceptor then sends our body.
        let out = self
            .client
            .create_service()
            .service_name(&name)
            .customize()
            .interceptor(ReplaceRequestBody::new(bytes))
            .send()
            .await
            .map_err(|e| api_error("CreateService", &resource, e))?;
        out.service()
            .map(service_snapshot)
            .ok_or_else(|| unreadable("CreateService", &resource, "no service in the response"))
    }

    /// UpdateService with `body` (an UpdateService input: target, settings, task definition)
    /// sent as is. Returns the service as ECS answered.
    pub async fn update_service_document(&self, body: &Value) -> Result<ServiceSnapshot, EcsError> {
        let text = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or_default();
        let (cluster, service) = (text("cluster"), text("service"));
        let resource = format!("{cluster}/{service}");
        let bytes = body_of("UpdateService", &resource, body)?;
        let out = self
            .client
            .update_service()
            .cluster(cluster)
            .service(service)
            .customize()
            .interceptor(ReplaceRequestBody::new(bytes))
            .send()
            .await
            .map_err(|e| api_error("UpdateService", &resource, e))?;
        out.service()
            .map(service_snapshot)
            .ok_or_else(|| unreadable("UpdateService", &resource, "no service in the response"))
    }

    /// TagResource: adds `tags` to the resource, or sets their values. Other tags stay.
    pub async fn tag_resource(&self, arn: &str, tags: &[(String, String)]) -> Result<(), EcsError> {
        let tags = tags
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect();
        self.client
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(|e| api_error("TagResource", arn, e))?;
        Ok(())
    }
}
