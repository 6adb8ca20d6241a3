//! `pr-comment`: keep one comment on a pull request. load (body, PR, repository, token) ->
//! observe (list the PR's comments) -> plan (core: create, edit in place, or leave as is) ->
//! apply (one POST or PATCH, never retried on 5xx).

use deckhand_core::pr_comment::{
    CommentAction, ExistingComment, comment_body, plan_comment, validate_marker_name,
};
use deckhand_github::{GithubClient, IssueComment, Repo};
use serde_json::{Value, json};

use super::result::{Problem, invalid_input as invalid, read_file_or_stdin};
use crate::cli::PrCommentArgs;
use crate::exit::ExitStatus;
use crate::gha::PR_COMMENT_OUTPUTS;
use crate::github_records::{self, Doing, GithubEnv};
use crate::printer::Printer;

/// What the command knows when it ends.
#[derive(Debug, Default)]
struct Outcome {
    /// `succeeded`, `no-change`, `dry-run`, `invalid-input`, `error`.
    verdict: &'static str,
    status: Option<ExitStatus>,
    /// `created`, `updated`, `unchanged`, or what a dry run would do.
    action: String,
    comment_id: Option<u64>,
    comment_url: Option<String>,
    repo: String,
    pr: Option<u64>,
    problem: Option<Problem>,
}

impl Outcome {
    fn fail(mut self, status: ExitStatus, problem: Problem) -> Self {
        self.verdict = if status == ExitStatus::InvalidInput {
            "invalid-input"
        } else {
            "error"
        };
        self.status = Some(status);
        self.problem = Some(problem);
        self
    }
}

/// The validated inputs.
struct Loaded {
    repo: Repo,
    pr: u64,
    body: String,
    token: String,
    api_url: String,
}

/// The pull request of the event that started the run (`pull_request`, `pull_request_target`
/// and `issue_comment` on a pull request).
fn pr_from_event() -> Option<u64> {
    let path = std::env::var("GITHUB_EVENT_PATH").ok()?;
    let payload: Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    payload
        .pointer("/pull_request/number")
        .or_else(|| {
            payload
                .pointer("/issue/pull_request")
                .and_then(|_| payload.pointer("/issue/number"))
        })
        .and_then(Value::as_u64)
}

fn load(args: &PrCommentArgs, outcome: &mut Outcome) -> Result<Loaded, (ExitStatus, Problem)> {
    validate_marker_name(&args.marker).map_err(|m| invalid(m, None))?;
    let env = GithubEnv::read();
    let repository = args
        .repo
        .clone()
        .or(env.repository)
        .ok_or_else(|| invalid("no repository", Some("pass `--repo OWNER/REPO`")))?;
    outcome.repo.clone_from(&repository);
    let repo: Repo = repository
        .parse()
        .map_err(|e| invalid(format!("`--repo`: {e}"), None))?;
    let pr = args.pr.or_else(pr_from_event).ok_or_else(|| {
        invalid(
            "no pull request number",
            Some("pass `--pr N`; in Actions, a `pull_request` event gives it"),
        )
    })?;
    outcome.pr = Some(pr);
    let text = read_file_or_stdin(&args.body_file, "body", "--body-file")?;
    if text.trim().is_empty() {
        return Err(invalid(
            format!("the body in `{}` is empty", args.body_file),
            Some("an empty comment says nothing; GitHub refuses it"),
        ));
    }
    let (_, token) = github_records::token_from(&["GITHUB_TOKEN", "GH_TOKEN"]).ok_or_else(|| {
        invalid(
            "no GitHub token",
            Some("set GITHUB_TOKEN (in a workflow: `env: GITHUB_TOKEN: ${{ github.token }}` with `pull-requests: write`)"),
        )
    })?;
    Ok(Loaded {
        repo,
        pr,
        body: comment_body(&args.marker, &text),
        token,
        api_url: env.api_url,
    })
}

async fn run(
    args: &PrCommentArgs,
    l: &Loaded,
    printer: &Printer,
    outcome: &mut Outcome,
) -> Result<(), (ExitStatus, Problem)> {
    let github_error = |e: deckhand_github::GithubError| {
        let (message, hint) = github_records::explain(&e, Doing::Comment, &l.repo.to_string());
        let status = match &e {
            deckhand_github::GithubError::Status {
                status: 401 | 403 | 404 | 422,
                ..
            } => ExitStatus::InvalidInput,
            _ => ExitStatus::Failed,
        };
        (status, Problem::new(message, hint))
    };
    let client: GithubClient =
        github_records::client(&l.api_url, l.token.clone(), printer).map_err(github_error)?;
    let listed = client
        .list_issue_comments(&l.repo, l.pr)
        .await
        .map_err(github_error)?;
    let existing: Vec<ExistingComment<'_>> = listed
        .iter()
        .map(|c| ExistingComment {
            id: c.id,
            author: c.user.as_ref().map(|u| u.login.as_str()),
            body: c.body.as_deref().unwrap_or_default(),
        })
        .collect();
    let action = plan_comment(&existing, &args.marker, &args.author, &l.body);
    let url_of = |id: u64| {
        listed
            .iter()
            .find(|c| c.id == id)
            .and_then(|c| c.html_url.clone())
    };
    let target = format!("pull request #{} of {}", l.pr, l.repo);
    if args.dry_run {
        outcome.verdict = "dry-run";
        outcome.action = match action {
            CommentAction::Create => "create".into(),
            CommentAction::Update { id } => {
                outcome.comment_id = Some(id);
                outcome.comment_url = url_of(id);
                "update".into()
            }
            CommentAction::Unchanged { id } => {
                outcome.comment_id = Some(id);
                outcome.comment_url = url_of(id);
                "unchanged".into()
            }
        };
        printer.line(&format!(
            "dry run: would {} the `{}` comment on {target}:",
            outcome.action, args.marker
        ));
        printer.block(&l.body);
        return Ok(());
    }
    let written: IssueComment = match action {
        CommentAction::Unchanged { id } => {
            outcome.verdict = "no-change";
            outcome.action = "unchanged".into();
            outcome.comment_id = Some(id);
            outcome.comment_url = url_of(id);
            printer.line(&format!(
                "the `{}` comment on {target} already says this: nothing sent",
                args.marker
            ));
            return Ok(());
        }
        CommentAction::Create => {
            outcome.action = "created".into();
            client
                .create_issue_comment(&l.repo, l.pr, &l.body)
                .await
                .map_err(github_error)?
        }
        CommentAction::Update { id } => {
            outcome.action = "updated".into();
            client
                .update_issue_comment(&l.repo, id, &l.body)
                .await
                .map_err(github_error)?
        }
    };
    outcome.verdict = "succeeded";
    outcome.comment_id = Some(written.id);
    outcome.comment_url.clone_from(&written.html_url);
    printer.line(&format!(
        "{} the `{}` comment on {target}: {}",
        outcome.action,
        args.marker,
        written.html_url.as_deref().unwrap_or("(no URL)")
    ));
    Ok(())
}

pub(crate) async fn pr_comment(args: PrCommentArgs, printer: &Printer) -> ExitStatus {
    let mut outcome = Outcome::default();
    let result = match load(&args, &mut outcome) {
        Ok(loaded) => run(&args, &loaded, printer, &mut outcome).await,
        Err(e) => Err(e),
    };
    if let Err((status, problem)) = result {
        outcome = outcome.fail(status, problem);
    }
    finish(&args, outcome, printer)
}

fn finish(args: &PrCommentArgs, outcome: Outcome, printer: &Printer) -> ExitStatus {
    let status = outcome.status.unwrap_or(ExitStatus::Success);
    if let Some(p) = &outcome.problem {
        printer.error_block("deckhand pr-comment", &p.message, p.hint.as_deref());
    }
    let id = outcome
        .comment_id
        .map(|i| i.to_string())
        .unwrap_or_default();
    let url = outcome.comment_url.clone().unwrap_or_default();
    let outputs = [
        ("verdict", outcome.verdict.to_string()),
        ("exit-code", status.code().to_string()),
        ("action", outcome.action.clone()),
        ("comment-id", id),
        ("comment-url", url.clone()),
    ];
    let summary = match &outcome.problem {
        Some(p) => format!("### deckhand pr-comment\n{}", p.markdown()),
        None => format!(
            "### deckhand pr-comment\n\nThe `{}` comment: {}{}\n",
            args.marker,
            outcome.action,
            if url.is_empty() {
                String::new()
            } else {
                format!(" ({url})")
            }
        ),
    };
    printer.publish(&outputs, PR_COMMENT_OUTPUTS, &summary);
    if printer.is_json() {
        printer.json(&json!({
            "verdict": outcome.verdict,
            "exit_code": status.code(),
            "action": outcome.action,
            "comment_id": outcome.comment_id,
            "comment_url": outcome.comment_url,
            "repository": outcome.repo,
            "pr": outcome.pr,
            "error": outcome.problem.as_ref().map(|p| json!({"message": p.message, "hint": p.hint})),
        }));
    }
    status
}
