//! GitHub errors, each naming the request that failed (`POST /repos/o/r/deployments`) and what
//! GitHub said. The binary turns them into messages with hints; this crate never prints.

/// A GitHub call that failed.
#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    /// GitHub answered with an error status (4xx other than a rate limit, or 5xx).
    #[error("{method} {route}: {status} {message}{details}", details = details(.errors))]
    Status {
        method: &'static str,
        route: String,
        status: u16,
        /// GitHub's `message` (or the start of the body when it was not JSON).
        message: String,
        /// GitHub's `errors` (422), each as one line: `field: code` or its `message`.
        errors: Vec<String>,
        documentation_url: Option<String>,
    },
    /// Refused by a primary or secondary rate limit, and the wait was longer than this client
    /// waits (or the retries ran out).
    #[error("{method} {route}: {status} rate limited: {message}")]
    RateLimited {
        method: &'static str,
        route: String,
        status: u16,
        message: String,
        /// When GitHub says to try again (from `retry-after` or `x-ratelimit-reset`), as UTC
        /// epoch seconds.
        retry_at_epoch: Option<i64>,
    },
    /// `POST .../deployments` answered 202: GitHub merged the default branch into the ref
    /// instead of creating a deployment (`auto_merge`), or another non-201 success.
    #[error("{method} {route}: {status} no deployment was created: {message}")]
    NotCreated {
        method: &'static str,
        route: String,
        status: u16,
        message: String,
    },
    /// No answer: connection refused or dropped, TLS, or the request timed out. For a POST,
    /// GitHub may or may not have acted on it; it was not retried.
    #[error("{method} {route}: {reason}")]
    Transport {
        method: &'static str,
        route: String,
        reason: String,
    },
    /// An answer this client cannot read.
    #[error("{method} {route}: unexpected answer ({status}): {reason}")]
    Decode {
        method: &'static str,
        route: String,
        status: u16,
        reason: String,
    },
    /// Bad client settings (API URL, token).
    #[error("{0}")]
    Config(String),
}

fn details(errors: &[String]) -> String {
    if errors.is_empty() {
        String::new()
    } else {
        format!(" ({})", errors.join("; "))
    }
}

impl GithubError {
    /// The HTTP status GitHub answered with, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. }
            | Self::RateLimited { status, .. }
            | Self::NotCreated { status, .. }
            | Self::Decode { status, .. } => Some(*status),
            Self::Transport { .. } | Self::Config(_) => None,
        }
    }

    /// GitHub's own message, when it sent one.
    pub fn github_message(&self) -> Option<&str> {
        match self {
            Self::Status { message, .. }
            | Self::RateLimited { message, .. }
            | Self::NotCreated { message, .. } => Some(message),
            _ => None,
        }
    }

    /// GitHub's validation errors (422), one line each.
    pub fn validation_errors(&self) -> &[String] {
        match self {
            Self::Status { errors, .. } => errors,
            _ => &[],
        }
    }

    /// True when a rate limit refused the request.
    pub fn is_rate_limited(&self) -> bool {
        matches!(self, Self::RateLimited { .. })
    }
}
