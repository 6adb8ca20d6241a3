//! `ecr login`: registry, user and password for tools that need them (docker, buildx), the
//! password masked before anything could print it.
#![allow(clippy::print_stdout)]

use deckhand_aws::ecr::EcrAdapter;
use serde_json::json;

use crate::cli::EcrLoginArgs;
use crate::exit::ExitStatus;
use crate::gha::ECR_LOGIN_OUTPUTS;
use crate::printer::Printer;

pub(crate) async fn login(
    region: Option<String>,
    args: EcrLoginArgs,
    printer: &Printer,
) -> ExitStatus {
    let title = "deckhand ecr login";
    let ctx = match super::result::aws_context(region).await {
        Ok(ctx) => ctx,
        Err(p) => {
            printer.error_block(title, &p.message, p.hint.as_deref());
            return ExitStatus::InvalidInput;
        }
    };
    let auth = match EcrAdapter::new(&ctx).authorization().await {
        Ok(a) => a,
        Err(e) => {
            printer.error_block(
                title,
                &e.to_string(),
                Some("the role needs `ecr:GetAuthorizationToken` on `*`"),
            );
            return ExitStatus::Failed;
        }
    };
    let credentials = match deckhand_oci::client::credentials_from_token(&auth.token) {
        Ok(c) => c,
        Err(m) => {
            printer.error_block(
                title,
                &format!("the ECR authorization token is unusable: {m}"),
                None,
            );
            return ExitStatus::Failed;
        }
    };
    printer.mask(&[auth.token.clone(), credentials.password.clone()]);
    let registry = args.registry.clone().unwrap_or_else(|| {
        auth.proxy_endpoint
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string()
    });
    printer.line(&format!(
        "registry `{registry}`, user `{}` (the password is valid for 12 hours)",
        credentials.username
    ));
    let outputs = [
        ("registry", registry.clone()),
        ("username", credentials.username.clone()),
        ("password", credentials.password.clone()),
    ];
    printer.publish(
        &outputs,
        ECR_LOGIN_OUTPUTS,
        &format!("### ✅ ecr login `{registry}`\n"),
    );
    if printer.is_json() {
        printer.json(&json!({"registry": registry, "username": credentials.username, "password": credentials.password}));
    } else if printer.actions.output_file.is_none() {
        // Like `aws ecr get-login-password`: the password alone on stdout, for
        // `docker login --username AWS --password-stdin`. In Actions it goes to the outputs.
        println!("{}", credentials.password);
    }
    ExitStatus::Success
}
