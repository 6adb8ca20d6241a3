//! What a GitHub Actions event says changed: which commits to compare (a push's `before` and
//! `after`, a pull request's base and head, a merge group's), or that everything counts as
//! changed (a manual `workflow_dispatch` means "deploy"). Read from the event payload
//! (`$GITHUB_EVENT_PATH`) as GitHub documents it.

use serde_json::Value;

/// How two commits are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Compare {
    /// `base..head`: what a push or a merge group changed.
    TwoDot,
    /// From the merge base of `base` and `head`: what a pull request adds to its base branch.
    MergeBase,
}

/// Where the changed files come from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ChangeSource {
    /// Two commits of the checkout.
    Commits {
        base: String,
        head: String,
        compare: Compare,
    },
    /// A new branch (a push whose `before` is all zeros): compared with the default branch
    /// from their merge base, as if it were a pull request.
    NewBranch {
        default_branch: String,
        head: String,
    },
    /// A force push: `before..after` when `before` is still in the checkout (or can be
    /// fetched); a rewritten `before` that is gone makes every filter count as changed, since
    /// what the push replaced cannot be known, and re-deploying an unchanged part changes
    /// nothing (a skipped deploy could leave the branch's new content undeployed).
    ForcePush { before: String, head: String },
    /// The first push of the default branch itself: there is nothing to compare with, so every
    /// tracked file counts as added (as paths-filter does).
    AllFiles { head: String },
    /// Every filter counts as changed, with no files (a manual or API-triggered run).
    Everything { reason: String },
    /// Nothing changed (a deleted branch).
    Nothing { reason: String },
}

fn is_zero_sha(sha: &str) -> bool {
    !sha.is_empty() && sha.bytes().all(|b| b == b'0')
}

fn text<'a>(payload: &'a Value, pointer: &str, event: &str) -> Result<&'a str, String> {
    payload
        .pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            format!(
                "the `{event}` event payload has no `{}`",
                pointer.trim_start_matches('/').replace('/', ".")
            )
        })
}

/// The change source of an event.
pub fn change_source(event_name: &str, payload: &Value) -> Result<ChangeSource, String> {
    match event_name {
        "push" => {
            let before = text(payload, "/before", event_name)?;
            let after = text(payload, "/after", event_name)?;
            if payload.get("deleted").and_then(Value::as_bool) == Some(true) || is_zero_sha(after) {
                return Ok(ChangeSource::Nothing {
                    reason: "the push deleted the branch".into(),
                });
            }
            if is_zero_sha(before) {
                let default_branch = text(payload, "/repository/default_branch", event_name)?;
                let pushed = payload
                    .get("ref")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if pushed == format!("refs/heads/{default_branch}") {
                    return Ok(ChangeSource::AllFiles {
                        head: after.to_string(),
                    });
                }
                return Ok(ChangeSource::NewBranch {
                    default_branch: default_branch.to_string(),
                    head: after.to_string(),
                });
            }
            if payload.get("forced").and_then(Value::as_bool) == Some(true) {
                return Ok(ChangeSource::ForcePush {
                    before: before.to_string(),
                    head: after.to_string(),
                });
            }
            Ok(ChangeSource::Commits {
                base: before.to_string(),
                head: after.to_string(),
                compare: Compare::TwoDot,
            })
        }
        "pull_request" | "pull_request_target" | "pull_request_review" => {
            Ok(ChangeSource::Commits {
                base: text(payload, "/pull_request/base/sha", event_name)?.to_string(),
                head: text(payload, "/pull_request/head/sha", event_name)?.to_string(),
                compare: Compare::MergeBase,
            })
        }
        "merge_group" => Ok(ChangeSource::Commits {
            base: text(payload, "/merge_group/base_sha", event_name)?.to_string(),
            head: text(payload, "/merge_group/head_sha", event_name)?.to_string(),
            compare: Compare::TwoDot,
        }),
        "workflow_dispatch" | "repository_dispatch" | "schedule" => Ok(ChangeSource::Everything {
            reason: format!(
                "a `{event_name}` run deploys what it is asked to: every filter counts as changed"
            ),
        }),
        other => Err(format!(
            "the `{other}` event says nothing about changed files; pass `--base` and `--head`, or `--files-from`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const A: &str = "6113728f27ae82c7b1a177c8d03f9e96e0adf246";
    const B: &str = "0ad1a1c1f5b2d3e4f5a6b7c8d9e0f1a2b3c4d5e6";
    const ZERO: &str = "0000000000000000000000000000000000000000";

    #[test]
    fn a_push_compares_before_with_after() {
        let payload = json!({"ref": "refs/heads/main", "before": A, "after": B, "created": false, "deleted": false, "forced": false,
            "repository": {"default_branch": "main", "full_name": "o/r"}});
        assert_eq!(
            change_source("push", &payload),
            Ok(ChangeSource::Commits {
                base: A.into(),
                head: B.into(),
                compare: Compare::TwoDot
            })
        );
    }

    #[test]
    fn a_force_push_is_told_apart() {
        let payload = json!({"ref": "refs/heads/main", "before": A, "after": B, "created": false, "deleted": false, "forced": true,
            "repository": {"default_branch": "main", "full_name": "o/r"}});
        assert_eq!(
            change_source("push", &payload),
            Ok(ChangeSource::ForcePush {
                before: A.into(),
                head: B.into(),
            })
        );
    }

    #[test]
    fn a_new_branch_compares_with_the_default_branch_and_a_deleted_one_changes_nothing() {
        let created = json!({"ref": "refs/heads/feature", "before": ZERO, "after": B, "created": true, "deleted": false,
            "repository": {"default_branch": "trunk"}});
        assert_eq!(
            change_source("push", &created),
            Ok(ChangeSource::NewBranch {
                default_branch: "trunk".into(),
                head: B.into()
            })
        );
        let first = json!({"ref": "refs/heads/trunk", "before": ZERO, "after": B, "created": true,
            "repository": {"default_branch": "trunk"}});
        assert_eq!(
            change_source("push", &first),
            Ok(ChangeSource::AllFiles { head: B.into() })
        );
        let deleted = json!({"ref": "refs/heads/feature", "before": A, "after": ZERO, "created": false, "deleted": true,
            "repository": {"default_branch": "main"}});
        assert!(matches!(
            change_source("push", &deleted),
            Ok(ChangeSource::Nothing { .. })
        ));
    }

    #[test]
    fn pull_requests_use_the_merge_base_and_merge_groups_their_two_shas() {
        let pr = json!({"action": "synchronize", "number": 7, "pull_request": {
            "base": {"ref": "main", "sha": A}, "head": {"ref": "feature", "sha": B}}});
        assert_eq!(
            change_source("pull_request", &pr),
            Ok(ChangeSource::Commits {
                base: A.into(),
                head: B.into(),
                compare: Compare::MergeBase
            })
        );
        let mg = json!({"action": "checks_requested", "merge_group": {"head_sha": B, "head_ref": "refs/heads/gh-readonly-queue/main/pr-7-x", "base_sha": A, "base_ref": "refs/heads/main"}});
        assert_eq!(
            change_source("merge_group", &mg),
            Ok(ChangeSource::Commits {
                base: A.into(),
                head: B.into(),
                compare: Compare::TwoDot
            })
        );
    }

    #[test]
    fn manual_runs_change_everything_and_other_events_need_flags() {
        let dispatch = json!({"inputs": {"environment": "production"}, "ref": "refs/heads/main"});
        assert!(matches!(
            change_source("workflow_dispatch", &dispatch),
            Ok(ChangeSource::Everything { .. })
        ));
        assert!(matches!(
            change_source("repository_dispatch", &json!({"action": "deploy"})),
            Ok(ChangeSource::Everything { .. })
        ));
        assert!(
            change_source("issues", &json!({}))
                .unwrap_err()
                .contains("pass `--base` and `--head`")
        );
        assert_eq!(
            change_source("pull_request", &json!({"pull_request": {"base": {}}})).unwrap_err(),
            "the `pull_request` event payload has no `pull_request.base.sha`"
        );
    }
}
