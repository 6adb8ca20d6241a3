//! The HTTP side: octocrab for the transport (rustls, auth header, base URL), with this
//! crate's own retry rules instead of octocrab's retry layer, which retries every 5xx
//! immediately, POSTs included (a 502 on `POST /deployments` would create duplicates).
//!
//! Rules:
//! - a GET is retried on 5xx and on transport errors, with a growing pause;
//! - a POST is never retried on 5xx or transport errors (GitHub may have acted on it);
//! - any request refused by a rate limit (GitHub did not act on it) is retried after the wait
//!   GitHub asks for (`retry-after`, or `x-ratelimit-reset` when `x-ratelimit-remaining` is 0,
//!   or a minute for a secondary limit without either), when that wait is short enough;
//!   otherwise the error says until when.
//!
//! GETs carry `If-None-Match` when an earlier answer had an `ETag` (octocrab's in-memory cache),
//! so polling an unchanged run costs no rate limit.

use std::sync::Arc;
use std::time::Duration;

use http::header::{ACCEPT, HeaderName};
use octocrab::Octocrab;
use octocrab::service::middleware::cache::mem::InMemoryCache;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::GithubError;

/// Something worth telling the user while a call is in progress (a retry, a wait).
pub type NoticeFn = Arc<dyn Fn(&str) + Send + Sync>;

/// Client settings.
#[derive(Clone)]
pub struct ClientConfig {
    /// The REST API root: `https://api.github.com`, or `https://HOST/api/v3` on GitHub
    /// Enterprise Server (Actions sets `GITHUB_API_URL`).
    pub api_url: String,
    /// A token (`GITHUB_TOKEN`, a PAT, an App installation token). Sent as `Bearer`.
    pub token: String,
    /// Limit for one request.
    pub request_timeout: Duration,
    /// The longest rate-limit wait this client sits out before retrying; a longer one is an
    /// error naming the time to retry at.
    pub max_rate_limit_wait: Duration,
    /// Retries of a GET after a 5xx or a transport error.
    pub get_retries: u32,
    /// The first pause before such a retry; it doubles each time.
    pub retry_pause: Duration,
    /// Told about retries and waits.
    pub notice: Option<NoticeFn>,
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("api_url", &self.api_url)
            .field("token", &"<redacted>")
            .field("request_timeout", &self.request_timeout)
            .field("max_rate_limit_wait", &self.max_rate_limit_wait)
            .field("get_retries", &self.get_retries)
            .finish_non_exhaustive()
    }
}

impl ClientConfig {
    /// Defaults: 30 s per request, rate-limit waits up to 60 s, 3 GET retries from 1 s.
    pub fn new(api_url: impl Into<String>, token: impl Into<String>) -> Self {
        Self {
            api_url: api_url.into(),
            token: token.into(),
            request_timeout: Duration::from_secs(30),
            max_rate_limit_wait: Duration::from_secs(60),
            get_retries: 3,
            retry_pause: Duration::from_secs(1),
            notice: None,
        }
    }
}

/// A GitHub REST client for one API root and token.
#[derive(Clone)]
pub struct GithubClient {
    octo: Octocrab,
    config: ClientConfig,
}

impl std::fmt::Debug for GithubClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GithubClient")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// A 2xx answer.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: String,
    /// `Link` header, for pagination.
    pub(crate) link: Option<String>,
}

impl Answer {
    pub(crate) fn json<T: DeserializeOwned>(
        &self,
        method: &'static str,
        route: &str,
    ) -> Result<T, GithubError> {
        serde_json::from_str(&self.body).map_err(|e| GithubError::Decode {
            method,
            route: route.into(),
            status: self.status,
            reason: format!("{e}: {}", excerpt(&self.body)),
        })
    }
}

/// The HTTP methods this client uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
    Patch,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Patch => "PATCH",
        }
    }
}

/// Rate-limit signals of one response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateLimitHeaders {
    /// `retry-after` (seconds).
    pub retry_after: Option<u64>,
    /// `x-ratelimit-remaining`.
    pub remaining: Option<u64>,
    /// `x-ratelimit-reset` (UTC epoch seconds).
    pub reset: Option<i64>,
}

/// When a 403 or 429 is a rate-limit refusal, how long GitHub asks to wait; `None` when it is
/// not one (a 403 without rate-limit signals is a permission problem and is never retried).
pub fn rate_limit_wait(
    status: u16,
    headers: &RateLimitHeaders,
    message: &str,
    now_epoch: i64,
) -> Option<Duration> {
    if status != 403 && status != 429 {
        return None;
    }
    if let Some(secs) = headers.retry_after {
        return Some(Duration::from_secs(secs));
    }
    if headers.remaining == Some(0) {
        let secs = headers.reset.map_or(60, |reset| {
            u64::try_from(reset - now_epoch).unwrap_or(0) + 1
        });
        return Some(Duration::from_secs(secs));
    }
    let lower = message.to_ascii_lowercase();
    if lower.contains("secondary rate limit") || lower.contains("rate limit exceeded") {
        return Some(Duration::from_secs(60));
    }
    (status == 429).then(|| Duration::from_secs(60))
}

fn header_num<T: std::str::FromStr>(h: &http::HeaderMap, name: &str) -> Option<T> {
    h.get(name)?.to_str().ok()?.trim().parse().ok()
}

fn now_epoch() -> i64 {
    chrono::Utc::now().timestamp()
}

/// At most 300 characters of a body, on one line.
fn excerpt(body: &str) -> String {
    let one_line = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 300 {
        format!("{}...", one_line.chars().take(300).collect::<String>())
    } else {
        one_line
    }
}

/// GitHub's error body: `message`, `errors` (strings or objects), `documentation_url`.
fn parse_error_body(body: &str) -> (String, Vec<String>, Option<String>) {
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        let text = excerpt(body);
        return (
            if text.is_empty() {
                "(empty body)".into()
            } else {
                text
            },
            Vec::new(),
            None,
        );
    };
    let message = v["message"].as_str().unwrap_or("").to_string();
    let errors = v["errors"]
        .as_array()
        .map(|a| a.iter().map(describe_validation_error).collect())
        .unwrap_or_default();
    let doc = v["documentation_url"].as_str().map(str::to_string);
    (message, errors, doc)
}

/// One item of `errors`: a string, or `{resource, field, code, message, value}`.
fn describe_validation_error(e: &Value) -> String {
    if let Some(s) = e.as_str() {
        return s.to_string();
    }
    if let Some(m) = e["message"].as_str() {
        return m.to_string();
    }
    let field = e["field"].as_str().unwrap_or("");
    let code = e["code"].as_str().unwrap_or("invalid");
    let resource = e["resource"].as_str().unwrap_or("");
    match (resource.is_empty(), field.is_empty()) {
        (false, false) => format!("{resource}.{field}: {code}"),
        (true, false) => format!("{field}: {code}"),
        (false, true) => format!("{resource}: {code}"),
        (true, true) => code.to_string(),
    }
}

impl GithubClient {
    /// A client for `config.api_url` with `config.token`. Fails on an API URL that is not an
    /// `http(s)://` URL or a token that cannot be a header value.
    pub fn new(config: ClientConfig) -> Result<Self, GithubError> {
        let api_url = config.api_url.trim().trim_end_matches('/').to_string();
        if !(api_url.starts_with("https://") || api_url.starts_with("http://")) {
            return Err(GithubError::Config(format!(
                "the GitHub API URL `{api_url}` is not an http(s) URL"
            )));
        }
        let token = config.token.trim();
        if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
            // Never show the token itself.
            return Err(GithubError::Config(
                "the GitHub token is empty or has characters a token cannot have (spaces, line breaks)".into(),
            ));
        }
        // octocrab's ETag cache: a poll of an unchanged run is a `304`, which GitHub does not
        // count against the rate limit.
        let octo = Octocrab::builder()
            .base_uri(api_url.as_str())
            .map_err(|e| GithubError::Config(format!("GitHub API URL `{api_url}`: {e}")))?
            .personal_token(token.to_string())
            .add_header(ACCEPT, "application/vnd.github+json".into())
            .cache(InMemoryCache::new())
            .build()
            .map_err(|e| GithubError::Config(format!("cannot build the GitHub client: {e}")))?;
        Ok(Self {
            octo,
            config: ClientConfig {
                api_url,
                token: token.to_string(),
                ..config
            },
        })
    }

    /// The API root in use.
    pub fn api_url(&self) -> &str {
        &self.config.api_url
    }

    fn notice(&self, text: &str) {
        if let Some(n) = &self.config.notice {
            n(text);
        }
    }

    /// One request with the retry rules above. `route` is a path (with query) under the API
    /// root, or an absolute URL from a `Link` header.
    pub(crate) async fn send(
        &self,
        method: Method,
        route: &str,
        body: Option<&Value>,
    ) -> Result<Answer, GithubError> {
        let shown = route.split('?').next().unwrap_or(route).to_string();
        let m = method.as_str();
        let mut transient_retries = 0;
        let mut rate_limit_retries = 0;
        loop {
            let sent = tokio::time::timeout(self.config.request_timeout, async {
                match method {
                    Method::Get => self.octo._get(route).await,
                    Method::Post => self.octo._post(route, body).await,
                    Method::Patch => self.octo._patch(route, body).await,
                }
            })
            .await;
            let response = match sent {
                Err(_) => Err(format!(
                    "no answer within {}s",
                    self.config.request_timeout.as_secs()
                )),
                Ok(Err(e)) => Err(transport_reason(&e)),
                Ok(Ok(r)) => Ok(r),
            };
            let response = match response {
                Ok(r) => r,
                Err(reason) => {
                    if method == Method::Get && transient_retries < self.config.get_retries {
                        transient_retries += 1;
                        let pause = self.pause(transient_retries);
                        self.notice(&format!(
                            "{m} {shown}: {reason}; retrying in {}s ({transient_retries}/{})",
                            pause.as_secs_f32(),
                            self.config.get_retries
                        ));
                        tokio::time::sleep(pause).await;
                        continue;
                    }
                    let reason = if method != Method::Get {
                        format!("{reason} (not retried: GitHub may have acted on it)")
                    } else {
                        reason
                    };
                    return Err(GithubError::Transport {
                        method: m,
                        route: shown,
                        reason,
                    });
                }
            };
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body_text =
                self.octo
                    .body_to_string(response)
                    .await
                    .map_err(|e| GithubError::Transport {
                        method: m,
                        route: shown.clone(),
                        reason: format!("reading the answer ({status}): {}", transport_reason(&e)),
                    })?;
            if (200..300).contains(&status) {
                let link = headers
                    .get(HeaderName::from_static("link"))
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                return Ok(Answer {
                    status,
                    body: body_text,
                    link,
                });
            }
            let (message, errors, documentation_url) = parse_error_body(&body_text);
            let limits = RateLimitHeaders {
                retry_after: header_num(&headers, "retry-after"),
                remaining: header_num(&headers, "x-ratelimit-remaining"),
                reset: header_num(&headers, "x-ratelimit-reset"),
            };
            let now = now_epoch();
            if let Some(wait) = rate_limit_wait(status, &limits, &message, now) {
                if wait <= self.config.max_rate_limit_wait && rate_limit_retries < 2 {
                    rate_limit_retries += 1;
                    self.notice(&format!(
                        "{m} {shown}: rate limited ({status}: {message}); waiting {}s as GitHub asks",
                        wait.as_secs()
                    ));
                    tokio::time::sleep(wait).await;
                    continue;
                }
                let retry_at = i64::try_from(wait.as_secs())
                    .ok()
                    .map(|w| now + w)
                    .or(limits.reset);
                return Err(GithubError::RateLimited {
                    method: m,
                    route: shown,
                    status,
                    message,
                    retry_at_epoch: retry_at,
                });
            }
            if status >= 500 && method == Method::Get && transient_retries < self.config.get_retries
            {
                transient_retries += 1;
                let pause = self.pause(transient_retries);
                self.notice(&format!(
                    "{m} {shown}: {status}; retrying in {}s ({transient_retries}/{})",
                    pause.as_secs_f32(),
                    self.config.get_retries
                ));
                tokio::time::sleep(pause).await;
                continue;
            }
            let message = if status >= 500 && method != Method::Get {
                format!("{message} (not retried: GitHub may have acted on it)")
            } else {
                message
            };
            return Err(GithubError::Status {
                method: m,
                route: shown,
                status,
                message,
                errors,
                documentation_url,
            });
        }
    }

    fn pause(&self, attempt: u32) -> Duration {
        self.config.retry_pause * 2u32.saturating_pow(attempt.saturating_sub(1))
    }

    /// GET and decode.
    pub(crate) async fn get_json<T: DeserializeOwned>(
        &self,
        route: &str,
    ) -> Result<T, GithubError> {
        let shown = route.split('?').next().unwrap_or(route);
        self.send(Method::Get, route, None)
            .await?
            .json("GET", shown)
    }
}

/// octocrab's error, without anything that could hold a header value.
fn transport_reason(e: &octocrab::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

/// Percent-encodes a path segment or query value (RFC 3986 unreserved characters pass).
pub(crate) fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The `rel="next"` URL of a `Link` header.
pub(crate) fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"");
        is_next.then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(retry_after: Option<u64>, remaining: Option<u64>, reset: Option<i64>) -> RateLimitHeaders {
        RateLimitHeaders {
            retry_after,
            remaining,
            reset,
        }
    }

    #[test]
    fn primary_limit_waits_until_the_reset() {
        let wait = rate_limit_wait(
            403,
            &h(None, Some(0), Some(1_000_100)),
            "API rate limit exceeded for user ID 1.",
            1_000_000,
        );
        assert_eq!(wait, Some(Duration::from_secs(101)));
    }

    #[test]
    fn retry_after_wins() {
        assert_eq!(
            rate_limit_wait(429, &h(Some(3), Some(10), None), "", 0),
            Some(Duration::from_secs(3))
        );
    }

    #[test]
    fn secondary_limit_without_headers_waits_a_minute() {
        let msg = "You have exceeded a secondary rate limit. Please wait a few minutes.";
        assert_eq!(
            rate_limit_wait(403, &h(None, Some(4000), None), msg, 0),
            Some(Duration::from_secs(60))
        );
    }

    #[test]
    fn permission_403_is_not_a_rate_limit() {
        assert_eq!(
            rate_limit_wait(
                403,
                &h(None, Some(4000), Some(5)),
                "Resource not accessible by integration",
                0
            ),
            None
        );
        assert_eq!(rate_limit_wait(404, &h(Some(1), None, None), "", 0), None);
    }

    #[test]
    fn error_bodies_are_read() {
        let (m, e, d) = parse_error_body(
            r#"{"message":"Validation Failed","errors":[{"resource":"Deployment","field":"ref","code":"invalid"},"No ref found for: nope"],"documentation_url":"https://docs"}"#,
        );
        assert_eq!(m, "Validation Failed");
        assert_eq!(e, vec!["Deployment.ref: invalid", "No ref found for: nope"]);
        assert_eq!(d.as_deref(), Some("https://docs"));
        assert_eq!(parse_error_body("").0, "(empty body)");
        assert_eq!(
            parse_error_body("<html>bad gateway</html>").0,
            "<html>bad gateway</html>"
        );
    }

    #[test]
    fn link_next() {
        let link = r#"<https://api.github.com/repositories/1/actions/runs/2/jobs?page=2>; rel="next", <https://api.github.com/repositories/1/actions/runs/2/jobs?page=5>; rel="last""#;
        assert_eq!(
            next_link(link).as_deref(),
            Some("https://api.github.com/repositories/1/actions/runs/2/jobs?page=2")
        );
        assert_eq!(next_link(r#"<https://x/?page=1>; rel="prev""#), None);
    }

    #[test]
    fn encoding() {
        assert_eq!(
            encode(">=2026-07-20T10:00:00Z"),
            "%3E%3D2026-07-20T10%3A00%3A00Z"
        );
        assert_eq!(encode("feature/x y"), "feature%2Fx%20y");
    }
}
