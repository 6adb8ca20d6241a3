//! The HTTP side of post-deploy verification: GET a deployed service's URL and hand back the
//! answer (status and the start of the body) or why there was none. Whether the answer passes
//! is decided in `deckhand_core::ecs::verify`.

use std::sync::Once;
use std::time::Duration;

use deckhand_core::ecs::verify::{BODY_JUDGED, UrlAnswer};

/// A client for one URL check.
#[derive(Debug, Clone)]
pub struct UrlProbe {
    http: reqwest::Client,
}

/// The probe's HTTP client could not be built (TLS set-up).
#[derive(Debug, thiserror::Error)]
#[error("cannot build the HTTP client for `--verify-url`: {0}")]
pub struct ProbeError(String);

fn install_crypto() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Whoever installs first wins; the AWS SDK and the registry client use the same one.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    });
}

impl UrlProbe {
    /// A client that gives each request `request_timeout` and follows up to 5 redirects.
    pub fn new(request_timeout: Duration) -> Result<Self, ProbeError> {
        install_crypto();
        let http = reqwest::Client::builder()
            .user_agent(concat!("deckhand/", env!("CARGO_PKG_VERSION"), " (verify)"))
            .connect_timeout(request_timeout)
            .timeout(request_timeout)
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .map_err(|e| ProbeError(e.to_string()))?;
        Ok(Self { http })
    }

    /// One GET of `url`.
    pub async fn get(&self, url: &str) -> UrlAnswer {
        let response = match self.http.get(url).send().await {
            Ok(r) => r,
            Err(e) => return UrlAnswer::failed(error_chain(&e)),
        };
        let status = response.status().as_u16();
        // Only the start of the body is judged; the rest is not read.
        let mut body = Vec::new();
        let mut response = response;
        while body.len() < BODY_JUDGED {
            match response.chunk().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(e) => return UrlAnswer::failed(error_chain(&e)),
            }
        }
        body.truncate(BODY_JUDGED);
        UrlAnswer::answered(status, &String::from_utf8_lossy(&body))
    }
}

/// "error sending request: connection refused", not just the outermost message.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}
