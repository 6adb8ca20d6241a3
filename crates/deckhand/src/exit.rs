//! Exit codes: the one place they are defined (documented in docs/exit-codes.md).

use std::process::ExitCode;

use deckhand_core::ecs::report::Verdict;

/// How deckhand exits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: success, or nothing to do.
    Success,
    /// 1: the operation failed (an AWS call, the rollout, the rollback, or a newer deployment
    /// replaced ours).
    Failed,
    /// 2: bad input or configuration; nothing was changed.
    InvalidInput,
    /// 3: rolled back: the new revision did not become healthy and the service is verified back
    /// on the previous one.
    RolledBack,
    /// 4: timed out while the deployment was still in progress.
    TimedOut,
}

impl ExitStatus {
    /// The numeric code.
    pub fn code(self) -> u8 {
        match self {
            Self::Success => 0,
            Self::Failed => 1,
            Self::InvalidInput => 2,
            Self::RolledBack => 3,
            Self::TimedOut => 4,
        }
    }
}

impl From<Verdict> for ExitStatus {
    fn from(v: Verdict) -> Self {
        match v {
            Verdict::Succeeded | Verdict::NoChange | Verdict::DryRun => Self::Success,
            Verdict::Failed | Verdict::RollbackFailed | Verdict::Superseded | Verdict::Error => {
                Self::Failed
            }
            Verdict::InvalidInput => Self::InvalidInput,
            Verdict::RolledBack => Self::RolledBack,
            Verdict::TimedOut => Self::TimedOut,
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(s: ExitStatus) -> Self {
        ExitCode::from(s.code())
    }
}
