//! The one comment deckhand keeps on a pull request (the plans of a dry run): which existing
//! comment is it, and does it need writing. A hidden marker line names the comment; only a
//! comment by the expected author counts, so a comment someone else starts with the marker is
//! never edited.

/// GitHub's limit for a comment body, in characters.
pub const COMMENT_MAX_CHARS: usize = 65_536;

/// What is said where a body had to be cut.
const CUT_NOTE: &str =
    "\n\n... (cut to fit GitHub's comment limit: the whole text is in the job log)\n";

/// The hidden first line that names a comment: `<!-- deckhand:NAME -->`.
pub fn marker_line(name: &str) -> String {
    format!("<!-- deckhand:{name} -->")
}

/// A marker name: 1 to 64 of `A-Z a-z 0-9 . _ -` (it sits inside an HTML comment).
pub fn validate_marker_name(name: &str) -> Result<(), String> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if name.is_empty() || name.chars().count() > 64 || !name.chars().all(ok_char) {
        return Err(format!(
            "`--marker {name}`: use 1 to 64 letters, digits, `.`, `_` or `-`"
        ));
    }
    Ok(())
}

/// The comment's full body: the marker line, then `text`, cut (on a character boundary, with
/// a note) to GitHub's limit.
pub fn comment_body(marker_name: &str, text: &str) -> String {
    let mut body = format!("{}\n{}", marker_line(marker_name), text.trim_end());
    if body.chars().count() > COMMENT_MAX_CHARS {
        let keep = COMMENT_MAX_CHARS - CUT_NOTE.chars().count();
        let end = body.char_indices().nth(keep).map_or(body.len(), |(i, _)| i);
        body.truncate(end);
        body.push_str(CUT_NOTE);
    }
    body
}

/// An existing comment, as listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExistingComment<'a> {
    /// The comment id.
    pub id: u64,
    /// Its author's login (`None` for a deleted account).
    pub author: Option<&'a str>,
    /// Its body.
    pub body: &'a str,
}

/// What to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentAction {
    /// No comment of ours yet: create one.
    Create,
    /// Ours exists with another body: edit it in place.
    Update {
        /// The comment to edit.
        id: u64,
    },
    /// Ours already says exactly this: send nothing.
    Unchanged {
        /// The comment.
        id: u64,
    },
}

/// Finds our comment (the oldest by `author` whose first line is the marker) and decides.
pub fn plan_comment(
    existing: &[ExistingComment<'_>],
    marker_name: &str,
    author: &str,
    body: &str,
) -> CommentAction {
    let marker = marker_line(marker_name);
    let ours = existing.iter().find(|c| {
        c.author.is_some_and(|a| a.eq_ignore_ascii_case(author))
            && c.body.lines().next().map(str::trim) == Some(marker.as_str())
    });
    match ours {
        None => CommentAction::Create,
        // GitHub stores line ends as sent but may hand back `\r\n`.
        Some(c) if c.body.replace("\r\n", "\n") == body => CommentAction::Unchanged { id: c.id },
        Some(c) => CommentAction::Update { id: c.id },
    }
}

/// Outputs of `pr-comment` (actions/pr-comment mirrors these).
pub const PR_COMMENT_OUTPUTS: &[&str] = &[
    "verdict",
    "exit-code",
    "action",
    "comment-id",
    "comment-url",
];

/// What `pr-comment` did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct PrCommentReport {
    /// `created`, `updated`, `unchanged`, or what a dry run would do (`create`, `update`).
    pub action: String,
    /// The comment written or found.
    pub comment_id: Option<u64>,
    /// Its URL.
    pub comment_url: Option<String>,
    /// `OWNER/REPO`.
    pub repository: String,
    /// The pull request.
    pub pr: Option<u64>,
    /// The marker's name.
    #[serde(skip)]
    pub marker: String,
}

impl crate::report::Details for PrCommentReport {
    const OUTPUTS: &'static [&'static str] = PR_COMMENT_OUTPUTS;

    fn subject(&self) -> String {
        String::new()
    }

    fn outputs(report: &crate::report::Report<Self>, outputs: &mut crate::report::Outputs) {
        let d = &report.details;
        outputs.set("action", d.action.clone());
        outputs.set(
            "comment-id",
            d.comment_id.map(|i| i.to_string()).unwrap_or_default(),
        );
        outputs.set("comment-url", d.comment_url.clone().unwrap_or_default());
    }

    fn summary(report: &crate::report::Report<Self>) -> String {
        let d = &report.details;
        if report.problem.is_some() {
            return "### deckhand pr-comment\n".into();
        }
        format!(
            "### deckhand pr-comment\n\nThe `{}` comment: {}{}\n",
            d.marker,
            d.action,
            d.comment_url
                .as_deref()
                .map(|u| format!(" ({u})"))
                .unwrap_or_default()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOT: &str = "github-actions[bot]";

    fn c<'a>(id: u64, author: &'a str, body: &'a str) -> ExistingComment<'a> {
        ExistingComment {
            id,
            author: Some(author),
            body,
        }
    }

    #[test]
    fn our_comment_is_the_oldest_by_the_author_with_the_marker() {
        let body = comment_body("plan", "new plan");
        let old = comment_body("plan", "old plan");
        let other_marker = comment_body("other", "x");
        let comments = [
            c(1, "alice", &old),      // someone else's, marker and all: never ours
            c(2, BOT, &other_marker), // another deckhand comment
            c(3, BOT, "LGTM <!-- deckhand:plan -->"), // the marker not as the first line
            c(4, BOT, &old),
            c(5, BOT, &old),
        ];
        assert_eq!(
            plan_comment(&comments, "plan", BOT, &body),
            CommentAction::Update { id: 4 }
        );
        assert_eq!(
            plan_comment(&comments[..3], "plan", BOT, &body),
            CommentAction::Create
        );
        let same = [c(9, "GitHub-Actions[bot]", &body)];
        assert_eq!(
            plan_comment(&same, "plan", BOT, &body),
            CommentAction::Unchanged { id: 9 }
        );
        let crlf = body.replace('\n', "\r\n");
        assert_eq!(
            plan_comment(&[c(9, BOT, &crlf)], "plan", BOT, &body),
            CommentAction::Unchanged { id: 9 }
        );
        let deleted_account = [ExistingComment {
            id: 7,
            author: None,
            body: &old,
        }];
        assert_eq!(
            plan_comment(&deleted_account, "plan", BOT, &body),
            CommentAction::Create
        );
    }

    #[test]
    fn a_long_body_is_cut_to_githubs_limit_on_a_character_boundary() {
        let text = "é".repeat(COMMENT_MAX_CHARS);
        let body = comment_body("plan", &text);
        assert_eq!(body.chars().count(), COMMENT_MAX_CHARS);
        assert!(body.starts_with("<!-- deckhand:plan -->\n"));
        assert!(body.ends_with("the whole text is in the job log)\n"));
        let short = comment_body("plan", "hello\n\n");
        assert_eq!(short, "<!-- deckhand:plan -->\nhello");
    }

    #[test]
    fn marker_names_are_checked() {
        assert!(validate_marker_name("plan").is_ok());
        assert!(validate_marker_name("deploy.prod_2-b").is_ok());
        for bad in ["", "a b", "x-->", &"a".repeat(65)] {
            assert!(validate_marker_name(bad).is_err(), "{bad:?}");
        }
    }
}
