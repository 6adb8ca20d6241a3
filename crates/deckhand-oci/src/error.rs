//! Registry errors, each naming the registry, the request and what to do.

/// A registry operation that failed. Its message names the request and what the registry said;
/// how to fix it is data ([`OciError::hint`]), never part of the message.
#[derive(Debug, thiserror::Error)]
pub enum OciError {
    /// The registry answered with an error status.
    #[error("{method} {url}: {status}{detail}", detail = code_message(.code, .message))]
    Status {
        method: String,
        url: String,
        status: u16,
        /// The first registry error code (`NAME_UNKNOWN`, `TAG_INVALID`, ...), if any.
        code: Option<String>,
        message: Option<String>,
        hint: Option<String>,
    },
    /// The request never got an answer (connection refused or dropped, TLS, timeout).
    #[error("{method} {url}: {source}", source = error_chain(.source))]
    Transport {
        method: String,
        url: String,
        source: reqwest::Error,
        hint: Option<String>,
    },
    /// Content that does not hash to the digest it was asked for or announced with.
    #[error(
        "{what} from {url} has digest {actual}, expected {expected}; the registry or something between is corrupting content"
    )]
    DigestMismatch {
        what: String,
        url: String,
        expected: String,
        actual: String,
    },
    /// Authentication could not be completed.
    #[error("{registry}: {reason}")]
    Auth { registry: String, reason: String },
    /// A registry answer that makes no sense to this client.
    #[error("{url}: {reason}")]
    Protocol { url: String, reason: String },
    /// A local file could not be read.
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl OciError {
    /// True for failures worth one more try: 5xx, 429 and dropped connections.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Status { status, .. } => *status == 429 || *status >= 500,
            Self::Transport { source, .. } => !source.is_builder(),
            _ => false,
        }
    }

    /// How to fix it, when known.
    pub fn hint(&self) -> Option<&str> {
        match self {
            Self::Status { hint, .. } | Self::Transport { hint, .. } => hint.as_deref(),
            _ => None,
        }
    }

    /// The registry's error code, if it sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Status { code, .. } => code.as_deref(),
            _ => None,
        }
    }
}

fn code_message(code: &Option<String>, message: &Option<String>) -> String {
    match (code, message) {
        (Some(c), Some(m)) => format!(" {c}: {m}"),
        (Some(c), None) => format!(" {c}"),
        (None, Some(m)) => format!(": {m}"),
        (None, None) => String::new(),
    }
}

/// reqwest's Display hides the cause ("error sending request"); the chain says what happened.
fn error_chain(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}
