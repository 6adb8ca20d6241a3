//! Where `changes` finds the changed files, decided the way dorny/paths-filter decides it
//! (`shared/reference/paths-filter-dropin.md`, section 3), from the event name, its payload
//! (`$GITHUB_EVENT_PATH`), `GITHUB_REF` and the inputs `base` and `ref`:
//!
//! 0. `base: HEAD`: the checkout's staged and unstaged changes;
//! 1. a pull request event with a token: the pull request's files from the REST API (no
//!    checkout needed); without a token, `base` (or the PR's base SHA)`..`the checked-out
//!    commit;
//! 2. `merge_group`: its `base_sha` and `head_sha`, then as 3;
//! 3. anything else, with `head` = `ref` or `GITHUB_REF` or the checked-out ref, and `base` =
//!    `base` or the repository's default branch:
//!    - `base` a SHA, or the same branch as `head` (a push to the default branch): from `base`,
//!      or from the push's `before`; with no `before`, the last commit; with an all-zeros
//!      `before` (a new branch), from its merge base with the default branch, or every file
//!      when it is the default branch itself;
//!    - `base` another branch or tag: from the merge base of the two.
//!
//! Deliberate differences, each where paths-filter fails: a push that deleted its branch
//! changes nothing; a force push whose `before` is gone from the checkout and from `origin`
//! makes every filter count as changed (what it replaced cannot be known); a short SHA (7 to
//! 39 hex digits) counts as a SHA, where paths-filter would look for a branch of that name.

use serde_json::Value;

/// The events whose changes are a pull request's.
pub const PULL_REQUEST_EVENTS: &[&str] = &[
    "pull_request",
    "pull_request_review",
    "pull_request_review_comment",
    "pull_request_target",
];

/// What `git push` sends as `before` for a new branch and as `after` for a deleted one.
pub const NULL_SHA: &str = "0000000000000000000000000000000000000000";

/// What `changes` was given to decide from.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// `GITHUB_EVENT_NAME`, when in Actions.
    pub event_name: Option<&'a str>,
    /// The event payload (`Value::Null` outside Actions).
    pub payload: &'a Value,
    /// The `base` input (`--base`), when given.
    pub base: Option<&'a str>,
    /// The `ref` input (`--head`), when given.
    pub head: Option<&'a str>,
    /// A GitHub token is set (the pull request's files then come from the API).
    pub token: bool,
    /// `GITHUB_REF`.
    pub github_ref: Option<&'a str>,
}

/// Where the changed files come from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Source {
    /// `git diff HEAD`: staged and unstaged changes; untracked files are not listed.
    Local,
    /// The pull request's files from the REST API.
    PullRequestFiles {
        /// The pull request.
        number: u64,
    },
    /// `base..head`: two trees compared, no history needed (each is fetched by name when it
    /// is not in the checkout).
    TwoDot {
        /// The commit, branch or tag to compare from.
        base: String,
        /// The one to compare to.
        head: String,
    },
    /// The files of the checked-out commit (`git log -n 1`).
    LastCommit,
    /// Every tracked file, as added.
    AllFiles,
    /// `base...head`: what `head` adds since its merge base with `base` (a shallow clone is
    /// deepened until the merge base is in it).
    MergeBase {
        /// The branch or tag to compare with.
        base: String,
        /// The one to compare.
        head: String,
    },
    /// A force push: `before..head` when `before` is in the checkout or `origin` serves it;
    /// otherwise every filter counts as changed.
    ForcePush {
        /// The replaced head.
        before: String,
        /// The pushed branch.
        head: String,
    },
    /// Nothing changed (a push that deleted its branch).
    Nothing,
}

/// The decision, with what paths-filter would warn about on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Where the files come from.
    pub source: Source,
    /// Warnings, in paths-filter's words (`::warning` in Actions).
    pub warnings: Vec<String>,
    /// For the log and the summary: `the push event: 1a2b..main`.
    pub description: String,
}

/// True when `rev` is taken as a commit SHA: paths-filter's test (40 lower-case letters or
/// digits), or 7 to 39 lower-case hex digits.
pub fn is_sha(rev: &str) -> bool {
    let len = rev.len();
    (len == 40
        && rev
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
        || ((7..40).contains(&len) && rev.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

/// A ref without `refs/heads/` or `refs/tags/` (paths-filter's `getShortName`).
pub fn short_name(rev: &str) -> &str {
    rev.strip_prefix("refs/heads/")
        .or_else(|| rev.strip_prefix("refs/tags/"))
        .unwrap_or(rev)
}

fn text<'a>(payload: &'a Value, pointer: &str) -> Option<&'a str> {
    payload
        .pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn plan(source: Source, warnings: Vec<String>, description: String) -> Plan {
    Plan {
        source,
        warnings,
        description,
    }
}

/// Where the changed files come from. `current_ref` is the checked-out branch, else the tag
/// it is on, else its SHA (paths-filter's `getCurrentRef`); it is asked only when needed, so a
/// pull request read from the API needs no checkout. The error is bad input.
pub fn decide(
    inputs: &Inputs<'_>,
    current_ref: &dyn Fn() -> Option<String>,
) -> Result<Plan, String> {
    let mut warnings = Vec::new();
    let event = inputs.event_name.unwrap_or_default();
    let payload = inputs.payload;
    if inputs.base == Some("HEAD") {
        if inputs.head.is_some() {
            warnings.push("'ref' input parameter is ignored when 'base' is set to HEAD".into());
        }
        return Ok(plan(
            Source::Local,
            warnings,
            "local changes: staged and unstaged, against HEAD".into(),
        ));
    }
    if PULL_REQUEST_EVENTS.contains(&event) {
        return pull_request(inputs, event, current_ref, warnings);
    }
    let (mut base, mut head) = (inputs.base, inputs.head);
    if event == "merge_group" {
        base = base.or_else(|| text(payload, "/merge_group/base_sha"));
        head = head.or_else(|| text(payload, "/merge_group/head_sha"));
    }
    if event == "push"
        && (payload.get("deleted").and_then(Value::as_bool) == Some(true)
            || text(payload, "/after") == Some(NULL_SHA))
    {
        return Ok(plan(
            Source::Nothing,
            warnings,
            "the push deleted its branch: nothing changed".into(),
        ));
    }
    let current = std::cell::OnceCell::new();
    let current = || current.get_or_init(current_ref).clone();
    let head = match head.or(inputs.github_ref) {
        Some(h) => short_name(h).to_string(),
        None => current().ok_or_else(|| {
            "cannot tell which commit to look at: no `ref`, no GITHUB_REF, and the checked-out commit is unknown (is this a git checkout?)".to_string()
        })?,
    };
    let default_branch = text(payload, "/repository/default_branch");
    let Some(base) = base.or(default_branch).map(short_name) else {
        return Err(if inputs.event_name.is_none() {
            "no changes to look at: pass `--base REF` (a commit, or a branch to compare with from the merge base), or `--files-from FILE`; in GitHub Actions the event says".into()
        } else {
            format!(
                "this action requires 'base' input to be configured or 'repository.default_branch' to be set in the event payload (the `{event}` event has none)"
            )
        });
    };
    let before = if event == "push" {
        text(payload, "/before")
    } else {
        None
    };
    let on = if event.is_empty() {
        "git".to_string()
    } else {
        format!("the `{event}` event")
    };
    if !(is_sha(base) || base == head) {
        return Ok(plan(
            Source::MergeBase {
                base: base.to_string(),
                head: head.clone(),
            },
            warnings,
            format!("{on}: {head} since its merge base with {base}"),
        ));
    }
    let base_sha = if is_sha(base) { Some(base) } else { before };
    let Some(base_sha) = base_sha else {
        warnings.push(
            "'before' field is missing in event payload - changes will be detected from last commit"
                .into(),
        );
        if current().as_deref() != Some(head.as_str()) {
            warnings.push(format!(
                "Ref {head} is not checked out - results might be incorrect!"
            ));
        }
        return Ok(plan(
            Source::LastCommit,
            warnings,
            format!("{on}: the last commit"),
        ));
    };
    if base_sha == NULL_SHA {
        return Ok(match default_branch {
            Some(default) if base != default => plan(
                Source::MergeBase {
                    base: default.to_string(),
                    head: head.clone(),
                },
                warnings,
                format!("{on}: the first push of {head}, since its merge base with {default}"),
            ),
            _ => plan(
                Source::AllFiles,
                warnings,
                format!("{on}: the first push, every tracked file as added"),
            ),
        });
    }
    if !is_sha(base) && payload.get("forced").and_then(Value::as_bool) == Some(true) {
        return Ok(plan(
            Source::ForcePush {
                before: base_sha.to_string(),
                head: head.clone(),
            },
            warnings,
            format!("{on} (a force push): {base_sha}..{head}"),
        ));
    }
    Ok(plan(
        Source::TwoDot {
            base: base_sha.to_string(),
            head: head.clone(),
        },
        warnings,
        format!("{on}: {base_sha}..{head}"),
    ))
}

fn pull_request(
    inputs: &Inputs<'_>,
    event: &str,
    current_ref: &dyn Fn() -> Option<String>,
    mut warnings: Vec<String>,
) -> Result<Plan, String> {
    let payload = inputs.payload;
    if inputs.head.is_some() {
        warnings.push(
            "'ref' input parameter is ignored when action is triggered by pull request event"
                .into(),
        );
    }
    if inputs.token {
        if inputs.base.is_some() {
            warnings.push(
                "'base' input parameter is ignored when action is triggered by pull request event"
                    .into(),
            );
        }
        let number = payload
            .pointer("/pull_request/number")
            .or_else(|| payload.get("number"))
            .and_then(Value::as_u64)
            .ok_or_else(|| format!("the `{event}` event payload has no `pull_request.number`"))?;
        return Ok(plan(
            Source::PullRequestFiles { number },
            warnings,
            format!("the files of pull request #{number} (GitHub API)"),
        ));
    }
    if event == "pull_request_target" {
        return Err("'token' input parameter is required if action is triggered by 'pull_request_target' event (the checkout is the base branch, so git cannot see the pull request's changes)".into());
    }
    let base = inputs
        .base
        .or_else(|| text(payload, "/pull_request/base/sha"))
        .or_else(|| text(payload, "/repository/default_branch"))
        .ok_or_else(|| {
            format!(
                "the `{event}` event payload has no `pull_request.base.sha`; set `base`, or a token to read the pull request's files from the API"
            )
        })?;
    let head = current_ref().ok_or_else(|| {
        "cannot read the checked-out commit: without a token, a pull request's changes are read with git from the checkout (actions/checkout)".to_string()
    })?;
    Ok(plan(
        Source::TwoDot {
            base: base.to_string(),
            head: head.clone(),
        },
        warnings,
        format!("the `{event}` event, with git: {base}..{head}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const A: &str = "6113728f27ae82c7b1a177c8d03f9e96e0adf246";
    const B: &str = "0ad1a1c1f5b2d3e4f5a6b7c8d9e0f1a2b3c4d5e6";

    fn inputs<'a>(event: &'a str, payload: &'a Value) -> Inputs<'a> {
        Inputs {
            event_name: Some(event),
            payload,
            base: None,
            head: None,
            token: false,
            github_ref: None,
        }
    }

    fn on_main() -> Option<String> {
        Some("main".into())
    }

    fn nothing_checked_out() -> Option<String> {
        None
    }

    fn source(i: &Inputs<'_>) -> Source {
        decide(i, &on_main).unwrap().source
    }

    #[test]
    fn a_push_to_the_default_branch_compares_before_with_the_branch() {
        let payload = json!({"ref": "refs/heads/main", "before": A, "after": B,
            "repository": {"default_branch": "main"}});
        let i = Inputs {
            github_ref: Some("refs/heads/main"),
            ..inputs("push", &payload)
        };
        assert_eq!(
            source(&i),
            Source::TwoDot {
                base: A.into(),
                head: "main".into()
            }
        );
        // `base: ${{ github.ref }}` (README example 7) is the same branch.
        let i = Inputs {
            base: Some("refs/heads/main"),
            ..i
        };
        assert_eq!(
            source(&i),
            Source::TwoDot {
                base: A.into(),
                head: "main".into()
            }
        );
    }

    #[test]
    fn a_push_to_another_branch_compares_from_the_merge_base() {
        let payload = json!({"ref": "refs/heads/feature/x", "before": A, "after": B,
            "repository": {"default_branch": "main"}});
        let i = Inputs {
            github_ref: Some("refs/heads/feature/x"),
            ..inputs("push", &payload)
        };
        assert_eq!(
            source(&i),
            Source::MergeBase {
                base: "main".into(),
                head: "feature/x".into()
            }
        );
        let i = Inputs {
            base: Some("develop"),
            ..i
        };
        assert_eq!(
            source(&i),
            Source::MergeBase {
                base: "develop".into(),
                head: "feature/x".into()
            }
        );
    }

    #[test]
    fn first_pushes_compare_with_the_default_branch_or_list_everything() {
        let created = json!({"ref": "refs/heads/feature", "before": NULL_SHA, "after": B,
            "repository": {"default_branch": "trunk"}});
        let i = Inputs {
            base: Some("feature"),
            github_ref: Some("refs/heads/feature"),
            ..inputs("push", &created)
        };
        assert_eq!(
            source(&i),
            Source::MergeBase {
                base: "trunk".into(),
                head: "feature".into()
            }
        );
        let first = json!({"ref": "refs/heads/trunk", "before": NULL_SHA, "after": B,
            "repository": {"default_branch": "trunk"}});
        let i = Inputs {
            github_ref: Some("refs/heads/trunk"),
            ..inputs("push", &first)
        };
        assert_eq!(source(&i), Source::AllFiles);
    }

    #[test]
    fn a_deleted_branch_changes_nothing_and_a_force_push_is_told_apart() {
        let deleted = json!({"ref": "refs/heads/f", "before": A, "after": NULL_SHA, "deleted": true,
            "repository": {"default_branch": "main"}});
        assert_eq!(source(&inputs("push", &deleted)), Source::Nothing);
        let forced = json!({"ref": "refs/heads/main", "before": A, "after": B, "forced": true,
            "repository": {"default_branch": "main"}});
        let i = Inputs {
            github_ref: Some("refs/heads/main"),
            ..inputs("push", &forced)
        };
        assert_eq!(
            source(&i),
            Source::ForcePush {
                before: A.into(),
                head: "main".into()
            }
        );
    }

    #[test]
    fn no_before_means_the_last_commit_with_paths_filters_warnings() {
        let dispatch = json!({"ref": "refs/heads/main", "repository": {"default_branch": "main"}});
        let i = Inputs {
            github_ref: Some("refs/heads/main"),
            ..inputs("workflow_dispatch", &dispatch)
        };
        let p = decide(&i, &on_main).unwrap();
        assert_eq!(p.source, Source::LastCommit);
        assert_eq!(
            p.warnings,
            [
                "'before' field is missing in event payload - changes will be detected from last commit"
            ]
        );
        let p = decide(&i, &|| Some("other".into())).unwrap();
        assert_eq!(
            p.warnings[1],
            "Ref main is not checked out - results might be incorrect!"
        );
    }

    #[test]
    fn a_sha_base_is_two_dot_on_any_event_and_a_schedule_needs_a_base() {
        let schedule = json!({"schedule": "0 0 * * *"});
        let i = Inputs {
            github_ref: Some("refs/heads/main"),
            ..inputs("schedule", &schedule)
        };
        assert!(
            decide(&i, &on_main)
                .unwrap_err()
                .contains("requires 'base' input")
        );
        let i = Inputs { base: Some(A), ..i };
        assert_eq!(
            source(&i),
            Source::TwoDot {
                base: A.into(),
                head: "main".into()
            }
        );
        let i = Inputs {
            base: Some("6113728"),
            ..i
        };
        assert!(matches!(source(&i), Source::TwoDot { .. }), "a short SHA");
    }

    #[test]
    fn pull_requests_use_the_api_with_a_token_and_git_without() {
        let pr = json!({"number": 7, "pull_request": {"number": 7, "base": {"sha": A}},
            "repository": {"default_branch": "main"}});
        let i = Inputs {
            token: true,
            base: Some("develop"),
            ..inputs("pull_request", &pr)
        };
        // No checkout is needed: the current ref is never asked for.
        let p = decide(&i, &nothing_checked_out).unwrap();
        assert_eq!(p.source, Source::PullRequestFiles { number: 7 });
        assert_eq!(p.warnings.len(), 1, "base is ignored: {:?}", p.warnings);
        let i = Inputs {
            token: false,
            base: None,
            ..i
        };
        assert_eq!(
            decide(&i, &|| Some(B.into())).unwrap().source,
            Source::TwoDot {
                base: A.into(),
                head: B.into()
            }
        );
        assert!(
            decide(
                &Inputs {
                    ..inputs("pull_request_target", &pr)
                },
                &on_main
            )
            .unwrap_err()
            .contains("'token' input parameter is required")
        );
    }

    #[test]
    fn merge_groups_compare_their_two_shas() {
        let mg = json!({"merge_group": {"base_sha": A, "head_sha": B},
            "repository": {"default_branch": "main"}});
        assert_eq!(
            source(&inputs("merge_group", &mg)),
            Source::TwoDot {
                base: A.into(),
                head: B.into()
            }
        );
    }

    #[test]
    fn base_head_means_local_changes_on_any_event() {
        let payload = json!({});
        let i = Inputs {
            base: Some("HEAD"),
            head: Some("main"),
            ..inputs("push", &payload)
        };
        let p = decide(&i, &nothing_checked_out).unwrap();
        assert_eq!(p.source, Source::Local);
        assert_eq!(p.warnings.len(), 1);
    }

    #[test]
    fn outside_actions_base_and_head_are_enough() {
        let none = Value::Null;
        let i = Inputs {
            event_name: None,
            payload: &none,
            base: Some("main"),
            head: Some("feature"),
            token: false,
            github_ref: None,
        };
        assert_eq!(
            source(&i),
            Source::MergeBase {
                base: "main".into(),
                head: "feature".into()
            }
        );
        let i = Inputs { base: None, ..i };
        assert!(decide(&i, &on_main).unwrap_err().contains("--base"));
    }

    #[test]
    fn shas_and_short_names() {
        assert!(is_sha(A));
        assert!(is_sha("6113728"));
        assert!(!is_sha("main"));
        assert!(!is_sha("cafe12"), "too short");
        assert!(!is_sha("6113728F"), "upper case is a name");
        assert_eq!(short_name("refs/heads/feature/x"), "feature/x");
        assert_eq!(short_name("refs/tags/v1"), "v1");
        assert_eq!(short_name("refs/pull/7/merge"), "refs/pull/7/merge");
    }
}
