//! `ecr login`: registry, user and password for tools that need them (docker, buildx), the
//! password masked before anything could print it.

use deckhand_aws::ecr::EcrAdapter;
use deckhand_core::oci::ecr::EcrLogin;
use deckhand_core::report::Report;
use deckhand_core::verdict::Verdict;

use crate::cli::EcrLoginArgs;
use crate::error::{CommandError, Result, fail};
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
