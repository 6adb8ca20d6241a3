//! `pr-comment`: keep one comment on a pull request. load (body, PR, repository, token) ->
//! observe (list the PR's comments) -> plan (core: create, edit in place, or leave as is) ->
//! apply (one POST or PATCH, never retried on 5xx) -> report.

use deckhand_core::pr_comment::{
    CommentAction, ExistingComment, PrCommentReport, comment_body, plan_comment,
    validate_marker_name,
};
use deckhand_core::report::Report;
use deckhand_core::verdict::Verdict;
use deckhand_github::{IssueComment, Repo};
use serde_json::Value;

use super::read_file_or_stdin;
use crate::cli::PrCommentArgs;
use crate::error::{CommandError, Result, end};
use crate::github::{self, Doing, GithubEnv};
use crate::printer::Printer;

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

fn load(args: &PrCommentArgs, report: &mut PrCommentReport) -> Result<Loaded> {
    validate_marker_name(&args.marker).map_err(CommandError::invalid)?;
    let env = GithubEnv::read();
    let repository =
        args.repo.clone().or(env.repository).ok_or_else(|| {
            CommandError::invalid("no repository").hint("pass `--repo OWNER/REPO`")
        })?;
    report.repository.clone_from(&repository);
    let repo: Repo = repository
        .parse()
        .map_err(|e| CommandError::invalid(format!("`--repo`: {e}")))?;
    let pr = args.pr.or_else(pr_from_event).ok_or_else(|| {
        CommandError::invalid("no pull request number")
            .hint("pass `--pr N`; in Actions, a `pull_request` event gives it")
    })?;
    report.pr = Some(pr);
    let text = read_file_or_stdin(&args.body_file, "body", "--body-file")?;
    if text.trim().is_empty() {
        return Err(
            CommandError::invalid(format!("the body in `{}` is empty", args.body_file))
                .hint("an empty comment says nothing; GitHub refuses it"),
        );
    }
    let (_, token) = github::token_from(&["GITHUB_TOKEN", "GH_TOKEN"]).ok_or_else(|| {
        CommandError::invalid("no GitHub token").hint(
            "set GITHUB_TOKEN (in a workflow: `env: GITHUB_TOKEN: ${{ github.token }}` with `pull-requests: write`)",
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

/// Observe, plan, apply; the verdict and headline.
async fn run(
    args: &PrCommentArgs,
    l: &Loaded,
    printer: &Printer,
    report: &mut PrCommentReport,
) -> Result<(Verdict, String)> {
    let repo_text = l.repo.to_string();
    let github_error = |e| github::command_error(&e, Doing::Comment, &repo_text);
    let client = github::client(&l.api_url, l.token.clone(), printer).map_err(github_error)?;
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
    let marker = &args.marker;
    if let CommentAction::Update { id } | CommentAction::Unchanged { id } = action {
        report.comment_id = Some(id);
        report.comment_url = url_of(id);
    }
    if args.dry_run {
        report.action = match action {
            CommentAction::Create => "create",
            CommentAction::Update { .. } => "update",
            CommentAction::Unchanged { .. } => "unchanged",
        }
        .into();
        printer.line(&format!(
            "dry run: would {} the `{marker}` comment on {target}:",
            report.action
        ));
        printer.block(&l.body);
        return Ok((
            Verdict::DryRun,
            format!(
                "dry run: would {} the `{marker}` comment on {target}; nothing sent",
                report.action
            ),
        ));
    }
    let written: IssueComment = match action {
        CommentAction::Unchanged { .. } => {
            report.action = "unchanged".into();
            return Ok((
                Verdict::NoChange,
                format!("the `{marker}` comment on {target} already says this: nothing sent"),
            ));
        }
        CommentAction::Create => {
            report.action = "created".into();
            client
                .create_issue_comment(&l.repo, l.pr, &l.body)
                .await
                .map_err(github_error)?
        }
        CommentAction::Update { id } => {
            report.action = "updated".into();
            client
                .update_issue_comment(&l.repo, id, &l.body)
                .await
                .map_err(github_error)?
        }
    };
    report.comment_id = Some(written.id);
    report.comment_url.clone_from(&written.html_url);
    Ok((
        Verdict::Succeeded,
        format!(
            "{} the `{marker}` comment on {target}: {}",
            report.action,
            written.html_url.as_deref().unwrap_or("(no URL)")
        ),
    ))
}

pub(crate) async fn pr_comment(args: PrCommentArgs, printer: &Printer) -> Report<PrCommentReport> {
    let mut details = PrCommentReport {
        marker: args.marker.clone(),
        ..PrCommentReport::default()
    };
    let outcome = match load(&args, &mut details) {
        Ok(loaded) => run(&args, &loaded, printer, &mut details).await,
        Err(e) => Err(e),
    };
    let mut report = Report::new("pr-comment", details);
    end(&mut report, outcome);
    report
}
