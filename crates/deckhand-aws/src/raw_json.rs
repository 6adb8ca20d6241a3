//! Task definitions travel as raw JSON: the response body of DescribeTaskDefinition is read as
//! sent, and the request body of RegisterTaskDefinition is written as deckhand built it. A typed
//! SDK round trip would silently drop any field the SDK's model does not have yet.

use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextMut,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;

/// Keeps a copy of the last response body of the operation it is attached to.
#[derive(Debug, Clone, Default)]
pub(crate) struct CaptureResponse {
    body: Arc<Mutex<Option<Vec<u8>>>>,
}

impl CaptureResponse {
    pub(crate) fn take(&self) -> Option<Vec<u8>> {
        self.body.lock().ok().and_then(|mut b| b.take())
    }
}

impl Intercept for CaptureResponse {
    fn name(&self) -> &'static str {
        "deckhand-capture-response"
    }

    // After deserialization: the orchestrator has buffered the body by then (before, it is
    // still a stream).
    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(bytes) = context.response().body().bytes()
            && let Ok(mut slot) = self.body.lock()
        {
            *slot = Some(bytes.to_vec());
        }
        Ok(())
    }
}

/// Replaces the request body (before signing, so the signature covers it).
#[derive(Debug, Clone)]
pub(crate) struct ReplaceRequestBody {
    body: Vec<u8>,
}

impl ReplaceRequestBody {
    pub(crate) fn new(body: Vec<u8>) -> Self {
        Self { body }
    }
}

impl Intercept for ReplaceRequestBody {
    fn name(&self) -> &'static str {
        "deckhand-replace-request-body"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request_mut();
        request
            .headers_mut()
            .insert("content-length", self.body.len().to_string());
        *request.body_mut() = SdkBody::from(self.body.clone());
        Ok(())
    }
}
