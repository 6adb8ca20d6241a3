//! `ecr login`: registry, user and password for tools that need them (docker, buildx), the
//! password masked before anything could print it. `ecr prepare`: the repository and tags a
//! Dockerfile build pushes to, before it runs.

use deckhand_aws::ecr::EcrAdapter;
use deckhand_core::oci::ecr::EcrLogin;
use deckhand_core::report::Report;
use deckhand_core::verdict::Verdict;

use deckhand_core::oci::ecr::tag_is_immutable;
use deckhand_core::oci::ecr_prepare::{
    EcrPrepare, RepositoryArg, TagState, decide, parse_repository_arg, parse_tags,
};

use crate::cli::{EcrLoginArgs, EcrPrepareArgs, TagMutability};
use crate::error::{CommandError, Result, end, fail};
use crate::printer::Printer;

pub(crate) async fn login(
    region: Option<String>,
    args: EcrLoginArgs,
    printer: &Printer,
) -> Report<EcrLogin> {
    let mut report = super::aws_report("ecr login", EcrLogin::default());
    let ctx = match super::aws_context(region).await {
        Ok(ctx) => ctx,
        Err(e) => {
            fail(&mut report, e);
            return report;
        }
    };
    match fetch(&ctx, &args, printer).await {
        Ok(login) => {
            let headline = format!(
                "registry `{}`, user `{}` (the password is valid for 12 hours)",
                login.registry, login.username
            );
            report.details = login;
            report.conclude(Verdict::Succeeded, headline);
        }
        Err(e) => fail(&mut report, e),
    }
    report.api_calls = Some(ctx.calls.snapshot());
    report
}

async fn fetch(
    ctx: &deckhand_aws::AwsContext,
    args: &EcrLoginArgs,
    printer: &Printer,
) -> Result<EcrLogin> {
    let auth = EcrAdapter::new(ctx).authorization().await.map_err(|e| {
        CommandError::from(e).hint("the role needs `ecr:GetAuthorizationToken` on `*`")
    })?;
    let credentials = deckhand_oci::client::credentials_from_token(&auth.token).map_err(|m| {
        CommandError::failed(format!("the ECR authorization token is unusable: {m}"))
    })?;
    printer.mask(&[auth.token.clone(), credentials.password.clone()]);
    let registry = args.registry.clone().unwrap_or_else(|| {
        auth.proxy_endpoint
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string()
    });
    Ok(EcrLogin {
        registry,
        username: credentials.username,
        password: credentials.password,
    })
}

/// `ecr prepare`: load (the repository and tags) -> observe (DescribeRepositories,
/// DescribeImages per tag) -> decide (core: reuse the first tag's image or build) -> apply
/// (CreateRepository with `--create`, not in a dry run) -> report.
pub(crate) async fn prepare(
    region: Option<String>,
    args: EcrPrepareArgs,
    printer: &Printer,
) -> Report<EcrPrepare> {
    let mut report = super::aws_report("ecr prepare", EcrPrepare::default());
    report.details.name = args.repository.trim().to_string();
    let loaded = load_prepare(region, &args);
    let (repository, tags, region) = match loaded {
        Ok(l) => l,
        Err(e) => {
            fail(&mut report, e);
            return report;
        }
    };
    report.details.name = repository.name().to_string();
    let ctx = match super::aws_context(region).await {
        Ok(ctx) => ctx,
        Err(e) => {
            fail(&mut report, e);
            return report;
        }
    };
    let outcome = run_prepare(
        &ctx,
        &args,
        &repository,
        &tags,
        printer,
        &mut report.details,
    )
    .await;
    end(&mut report, outcome);
    report.api_calls = Some(ctx.calls.snapshot());
    report
}

/// Validates the flags before any request: the repository, the tags, and the region (a URI
/// names its own; `--region` may not contradict it).
fn load_prepare(
    region: Option<String>,
    args: &EcrPrepareArgs,
) -> Result<(RepositoryArg, Vec<String>, Option<String>)> {
    let repository = parse_repository_arg(&args.repository)
        .map_err(|m| CommandError::invalid(m).hint("check `--repository`"))?;
    let tags =
        parse_tags(&args.tags).map_err(|m| CommandError::invalid(m).hint("check `--tag`"))?;
    let region = match (region, repository.region()) {
        (Some(given), Some(named)) if given != named => {
            return Err(CommandError::invalid(format!(
                "`--repository {}` is in {named}, but `--region` is {given}",
                args.repository.trim()
            ))
            .hint("drop `--region` (the URI names the region), or give the repository by name"));
        }
        (given, named) => given.or_else(|| named.map(str::to_string)),
    };
    Ok((repository, tags, region))
}

async fn run_prepare(
    ctx: &deckhand_aws::AwsContext,
    args: &EcrPrepareArgs,
    repository: &RepositoryArg,
    tags: &[String],
    printer: &Printer,
    details: &mut EcrPrepare,
) -> Result<(Verdict, String)> {
    let ecr = EcrAdapter::new(ctx);
    let name = repository.name();
    let registry_id = repository.registry_id();
    let wanted_mutability = match args.tag_mutability {
        TagMutability::Mutable => "MUTABLE",
        TagMutability::Immutable => "IMMUTABLE",
    };
    let found = ecr.repository(name, registry_id).await.map_err(|e| {
        CommandError::from(e).hint("the role needs `ecr:DescribeRepositories` on the repository")
    })?;
    let missing = found.is_none();
    let (uri, mutability, filters) = match found {
        Some(r) => (r.uri, r.tag_mutability, r.exclusion_filters),
        None if !args.create => {
            return Err(
                CommandError::invalid(format!("ECR repository `{name}` does not exist"))
                    .on(name.to_string())
                    .hint("create it, or pass `--create` (actions/ecs-deploy: `build-create-repository: true`)"),
            );
        }
        None => {
            let uri = match repository {
                RepositoryArg::Uri { host, .. } => format!("{host}/{name}"),
                RepositoryArg::Name(_) => format!("{}/{name}", caller_registry(&ecr).await?),
            };
            (uri, wanted_mutability.to_string(), Vec::new())
        }
    };
    details.repository.clone_from(&uri);
    details.registry = uri.split('/').next().unwrap_or_default().to_string();
    details.tag_mutability = Some(mutability.clone());

    // Observe the tags (a repository about to be created has none).
    for tag in tags {
        let digest = if missing {
            None
        } else {
            ecr.image_digest(name, registry_id, tag)
                .await
                .map_err(|e| {
                    CommandError::from(e)
                        .hint("the role needs `ecr:DescribeImages` on the repository")
                })?
        };
        details.tags.push(TagState {
            tag: tag.clone(),
            digest,
            immutable: tag_is_immutable(&mutability, &filters, tag),
        });
    }
    let decision = decide(&uri, &details.tags).map_err(|p| CommandError {
        verdict: Verdict::InvalidInput,
        problem: p,
    })?;
    details.exists = decision.exists;
    details.reuse = decision.reuse;
    details.image = decision.digest.as_ref().map(|d| format!("{uri}@{d}"));
    details.digest = decision.digest;
    for w in &decision.warnings {
        printer.warning("deckhand ecr prepare", w, None);
    }
    details.warnings = decision.warnings;

    let first = format!("{uri}:{}", tags[0]);
    let what = match (&details.digest, details.reuse) {
        (Some(d), true) => format!("`{first}` exists and is immutable: reuse {d}, no build"),
        (Some(d), false) => {
            format!("`{first}` exists ({d}) but is mutable, so it may have moved: build it again")
        }
        (None, _) => format!("`{first}` does not exist yet: build and push it"),
    };

    // Apply.
    if missing {
        if args.dry_run {
            details.would_create = true;
            return Ok((
                Verdict::DryRun,
                format!(
                    "would create ECR repository `{name}` ({wanted_mutability}); dry run, nothing created; {what}"
                ),
            ));
        }
        let created = ecr
            .create_repository(name, registry_id, wanted_mutability, args.scan_on_push)
            .await
            .map_err(|e| {
                CommandError::from(e).hint("the role needs `ecr:CreateRepository` for `--create`")
            })?;
        if !created.uri.is_empty() && created.uri != uri {
            details.repository.clone_from(&created.uri);
            details.registry = created
                .uri
                .split('/')
                .next()
                .unwrap_or_default()
                .to_string();
        }
        details.created = true;
        printer.line(&format!(
            "created ECR repository `{name}` ({wanted_mutability})"
        ));
        return Ok((
            Verdict::Succeeded,
            format!("created ECR repository `{name}` ({wanted_mutability}); {what}"),
        ));
    }
    Ok((Verdict::Succeeded, what))
}

/// The caller's own registry host, from GetAuthorizationToken's proxy endpoint (the token
/// itself is dropped unread): where a repository given by name will live.
async fn caller_registry(ecr: &EcrAdapter) -> Result<String> {
    let auth = ecr.authorization().await.map_err(|e| {
        CommandError::from(e).hint("the role needs `ecr:GetAuthorizationToken` on `*`")
    })?;
    let host = auth
        .proxy_endpoint
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    if host.is_empty() {
        return Err(CommandError::failed(
            "GetAuthorizationToken named no registry endpoint",
        ));
    }
    Ok(host)
}
