//! The one verdict vocabulary. Every command's outcome is one of these, and the process exit
//! code is derived from it here and nowhere else (docs/exit-codes.md).

use serde::{Deserialize, Serialize};

/// The final word on a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// It did what it was asked: the new deployment is PRIMARY, on our task definition, and
    /// completed; the files, the image, the comment are in place; the run concluded `success`.
    Succeeded,
    /// Nothing to change.
    NoChange,
    /// `--dry-run`: the plan was shown, nothing changed.
    DryRun,
    /// `dispatch` without `--wait`: GitHub accepted the dispatch; its run was not followed.
    /// `ecs run --no-wait`: the tasks started; their exit codes were not awaited.
    Dispatched,
    /// It failed and was not rolled back (a deploy, a workflow run).
    Failed,
    /// The deploy failed and the service is verified back on the previous task definition.
    RolledBack,
    /// The deploy failed and so did the rollback.
    RollbackFailed,
    /// Someone else's newer deployment replaced ours.
    Superseded,
    /// Still in progress when the timeout ran out.
    TimedOut,
    /// The job was cancelled (SIGINT or SIGTERM) while deckhand watched: it stopped watching,
    /// started nothing more, and the deployment goes on without it (`ecs wait` resumes).
    Cancelled,
    /// `ecs run`: a task never started (`TaskFailedToStart`: the image could not be pulled, the
    /// log group is missing, no capacity), and none that ran failed.
    NotStarted,
    /// Bad input or configuration; nothing changed.
    InvalidInput,
    /// An API call or another operation failed before a verdict was reached.
    Error,
}

/// How the process exits: the documented codes (docs/exit-codes.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum ExitCode {
    /// 0: success, or nothing to do.
    Success,
    /// 1: the operation failed (an API call, the rollout, the rollback, a newer deployment
    /// replaced ours, the followed run did not succeed).
    Failed,
    /// 2: bad input or configuration; nothing was changed.
    InvalidInput,
    /// 3: rolled back: the new revision did not become healthy and the service is verified
    /// back on the previous one.
    RolledBack,
    /// 4: timed out while still in progress.
    TimedOut,
    /// 5: cancelled (SIGINT or SIGTERM) while in progress; deckhand stopped watching.
    Cancelled,
    /// 6: `ecs run`: a task never started, so its work did not run at all.
    NotStarted,
}

impl ExitCode {
    /// The number the process exits with.
    pub fn code(self) -> u8 {
        match self {
            Self::Success => 0,
            Self::Failed => 1,
            Self::InvalidInput => 2,
            Self::RolledBack => 3,
            Self::TimedOut => 4,
            Self::Cancelled => 5,
            Self::NotStarted => 6,
        }
    }
}

impl Verdict {
    /// Every verdict, in the order docs/exit-codes.md lists them.
    pub const ALL: [Self; 13] = [
        Self::Succeeded,
        Self::NoChange,
        Self::DryRun,
        Self::Dispatched,
        Self::Failed,
        Self::RolledBack,
        Self::RollbackFailed,
        Self::Superseded,
        Self::TimedOut,
        Self::Cancelled,
        Self::NotStarted,
        Self::InvalidInput,
        Self::Error,
    ];

    /// The verdict as outputs and the JSON result spell it (`succeeded`, `rolled-back`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::NoChange => "no-change",
            Self::DryRun => "dry-run",
            Self::Dispatched => "dispatched",
            Self::Failed => "failed",
            Self::RolledBack => "rolled-back",
            Self::RollbackFailed => "rollback-failed",
            Self::Superseded => "superseded",
            Self::TimedOut => "timed-out",
            Self::Cancelled => "cancelled",
            Self::NotStarted => "not-started",
            Self::InvalidInput => "invalid-input",
            Self::Error => "error",
        }
    }

    /// The verdict spelled as [`Verdict::as_str`] spells it.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == text)
    }

    /// Green verdicts: the job goes on.
    pub fn is_ok(self) -> bool {
        self.exit_code() == ExitCode::Success
    }

    /// The exit code of a command that ends with this verdict.
    pub fn exit_code(self) -> ExitCode {
        match self {
            Self::Succeeded | Self::NoChange | Self::DryRun | Self::Dispatched => ExitCode::Success,
            Self::Failed | Self::RollbackFailed | Self::Superseded | Self::Error => {
                ExitCode::Failed
            }
            Self::InvalidInput => ExitCode::InvalidInput,
            Self::RolledBack => ExitCode::RolledBack,
            Self::TimedOut => ExitCode::TimedOut,
            Self::Cancelled => ExitCode::Cancelled,
            Self::NotStarted => ExitCode::NotStarted,
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table of docs/exit-codes.md, pinned.
    #[test]
    fn every_verdict_has_its_documented_exit_code() {
        let table: Vec<(&str, u8)> = Verdict::ALL
            .iter()
            .map(|v| (v.as_str(), v.exit_code().code()))
            .collect();
        assert_eq!(
            table,
            [
                ("succeeded", 0),
                ("no-change", 0),
                ("dry-run", 0),
                ("dispatched", 0),
                ("failed", 1),
                ("rolled-back", 3),
                ("rollback-failed", 1),
                ("superseded", 1),
                ("timed-out", 4),
                ("cancelled", 5),
                ("not-started", 6),
                ("invalid-input", 2),
                ("error", 1),
            ]
        );
    }

    #[test]
    fn names_round_trip_through_text_and_serde() {
        for v in Verdict::ALL {
            assert_eq!(Verdict::parse(v.as_str()), Some(v));
            assert_eq!(
                serde_json::to_value(v).unwrap(),
                serde_json::json!(v.as_str())
            );
        }
        assert_eq!(Verdict::parse("green"), None);
    }

    #[test]
    fn only_exit_0_verdicts_are_green() {
        let green: Vec<Verdict> = Verdict::ALL.into_iter().filter(|v| v.is_ok()).collect();
        assert_eq!(
            green,
            [
                Verdict::Succeeded,
                Verdict::NoChange,
                Verdict::DryRun,
                Verdict::Dispatched
            ]
        );
    }
}
