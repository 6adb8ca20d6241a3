//! The command layer's one error type: what failed, on which resource, how to fix it, and the
//! verdict it ends the command with. Library errors convert into it with `?`, bringing their
//! resource and hint as data; a report ends with it through [`fail`].

use deckhand_core::report::{Details, Problem, Report};
use deckhand_core::verdict::Verdict;

/// Why a command stopped before its verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CommandError {
    /// How the command ends: `invalid-input` (exit 2, nothing changed), `error`, `failed` or
    /// `timed-out`.
    pub(crate) verdict: Verdict,
    /// What failed, where, and the hint.
    pub(crate) problem: Problem,
}

impl CommandError {
    /// Bad input or configuration, found before anything changed (exit 2).
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self {
            verdict: Verdict::InvalidInput,
            problem: Problem::new(message),
        }
    }

    /// An operation that failed (exit 1).
    pub(crate) fn failed(message: impl Into<String>) -> Self {
        Self {
            verdict: Verdict::Error,
            problem: Problem::new(message),
        }
    }

    /// With a hint.
    #[must_use]
    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.problem = self.problem.with_hint(hint);
        self
    }

    /// With a hint when there is one.
    #[must_use]
    pub(crate) fn hint_opt(mut self, hint: Option<String>) -> Self {
        self.problem = self.problem.with_hint_opt(hint);
        self
    }

    /// Naming the resource.
    #[must_use]
    pub(crate) fn on(mut self, resource: impl Into<String>) -> Self {
        self.problem = self.problem.on(resource);
        self
    }

    /// Ending with another verdict (the same problem).
    #[must_use]
    pub(crate) fn with_verdict(mut self, verdict: Verdict) -> Self {
        self.verdict = verdict;
        self
    }
}

/// Ends `report` with `error`.
pub(crate) fn fail<D: Details>(report: &mut Report<D>, error: CommandError) {
    report.fail(error.verdict, error.problem);
}

/// Ends `report` with the outcome of a command's run: its verdict and headline, or the error
/// that stopped it.
pub(crate) fn end<D: Details>(report: &mut Report<D>, outcome: Result<(Verdict, String)>) {
    match outcome {
        Ok((verdict, headline)) => report.conclude(verdict, headline),
        Err(error) => fail(report, error),
    }
}

/// The outcome of a command step.
pub(crate) type Result<T, E = CommandError> = std::result::Result<T, E>;

impl From<deckhand_aws::EcsError> for CommandError {
    fn from(e: deckhand_aws::EcsError) -> Self {
        Self::failed(e.to_string())
            .on(e.resource())
            .hint_opt(e.hint())
    }
}

impl From<deckhand_aws::error::AwsCallError> for CommandError {
    fn from(e: deckhand_aws::error::AwsCallError) -> Self {
        Self::failed(e.to_string())
            .on(e.resource.clone())
            .hint_opt(e.hint())
    }
}

impl From<deckhand_oci::OciError> for CommandError {
    fn from(e: deckhand_oci::OciError) -> Self {
        let hint = e.hint().map(str::to_string);
        Self::failed(e.to_string()).hint_opt(hint)
    }
}

impl From<deckhand_oci::BaseError> for CommandError {
    fn from(e: deckhand_oci::BaseError) -> Self {
        let hint = e.hint().map(str::to_string);
        let error = if e.is_bad_input() {
            Self::invalid(e.to_string())
        } else {
            Self::failed(e.to_string())
        };
        error.hint_opt(hint)
    }
}

impl From<deckhand_oci::PushError> for CommandError {
    fn from(e: deckhand_oci::PushError) -> Self {
        match &e {
            deckhand_oci::PushError::Tag { tag, source } if source.code() == Some("TAG_INVALID") => {
                Self::failed(format!("the registry refused tag `{tag}`: {source}"))
                    .with_verdict(Verdict::Failed)
                    .hint("the tag is immutable and was pushed concurrently with another digest; push under a new tag")
            }
            deckhand_oci::PushError::Tag { source, .. } | deckhand_oci::PushError::Content { source, .. } => {
                let hint = source.hint().map(str::to_string);
                Self::failed(e.to_string()).hint_opt(hint)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_hints_arrive_as_data() {
        let e = deckhand_aws::error::AwsCallError {
            service: "s3",
            operation: "PutObject",
            resource: "site/index.html".into(),
            code: Some("AccessDenied".into()),
            message: "Access Denied".into(),
        };
        let c = CommandError::from(e);
        assert_eq!(c.verdict, Verdict::Error);
        assert_eq!(c.problem.resource.as_deref(), Some("site/index.html"));
        assert!(c.problem.hint.unwrap().contains("docs/iam.md"));
        assert!(!c.problem.message.contains("hint"), "{}", c.problem.message);
    }
}
