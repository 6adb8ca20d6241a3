//! Registry access for one image build: which hosts are ECR (credentials from
//! GetAuthorizationToken through `deckhand-aws`, handed to `deckhand-oci` as Basic auth), the
//! others' credentials as docker finds them (config.json's `credHelpers`, `credsStore`, then
//! `auths`), and one client per host.

use std::collections::HashMap;
use std::sync::Arc;

use deckhand_aws::AwsContext;
use deckhand_aws::ecr::EcrAdapter;
use deckhand_core::oci::ecr::parse_ecr_host;
use deckhand_oci::docker_config::{CredentialError, HostCredentials, host_credentials};
use deckhand_oci::{Credentials, Registry, RegistryOptions};

use crate::cli::PushArgs;
use crate::error::{CommandError, Result};
use crate::printer::Printer;

/// Registry clients and credentials, made on first use and kept for the run.
pub(crate) struct Access {
    ecr_hosts: Vec<String>,
    options: RegistryOptions,
    region: Option<String>,
    /// The AWS settings, once an ECR host needed them.
    pub(crate) ctx: Option<AwsContext>,
    ecr_credentials: Option<Credentials>,
    clients: HashMap<String, Arc<Registry>>,
}

impl Access {
    pub(crate) fn new(push: &PushArgs, region: Option<String>) -> Self {
        let hosts = |list: &[String]| -> Vec<String> {
            list.iter()
                .map(|h| h.trim().to_string())
                .filter(|h| !h.is_empty())
                .collect()
        };
        Self {
            ecr_hosts: hosts(&push.ecr_registry),
            options: RegistryOptions {
                insecure_hosts: hosts(&push.insecure_registry),
                chunk_threshold: push.upload_chunk_threshold,
                ..RegistryOptions::default()
            },
            region,
            ctx: None,
            ecr_credentials: None,
            clients: HashMap::new(),
        }
    }

    /// AWS requests made so far (none when no ECR host was used).
    pub(crate) fn api_calls(&self) -> deckhand_core::report::ApiCalls {
        self.ctx
            .as_ref()
            .map(|c| c.calls.snapshot())
            .unwrap_or_default()
    }

    /// `*.dkr.ecr.*.amazonaws.com`, or a host named with `--ecr-registry`.
    pub(crate) fn is_ecr(&self, host: &str) -> bool {
        parse_ecr_host(host).is_some() || self.ecr_hosts.iter().any(|h| h == host)
    }

    /// The AWS settings, loaded on first use (their calls are counted with the build's).
    pub(crate) async fn aws(&mut self) -> Result<&AwsContext> {
        if self.ctx.is_none() {
            self.ctx = Some(crate::commands::aws_context(self.region.clone()).await?);
        }
        Ok(self.ctx.as_ref().expect("set above"))
    }

    /// The ECR adapter (loading the AWS settings on first use).
    pub(crate) async fn ecr(&mut self) -> Result<EcrAdapter> {
        Ok(EcrAdapter::new(self.aws().await?))
    }

    /// ECR credentials from GetAuthorizationToken: fetched once and kept for the run (a token
    /// lives 12 hours; a build takes minutes), the password masked before anything prints.
    async fn ecr_credentials(&mut self, printer: &Printer) -> Result<Credentials> {
        if let Some(c) = &self.ecr_credentials {
            return Ok(c.clone());
        }
        let auth = self.ecr().await?.authorization().await?;
        let credentials =
            deckhand_oci::client::credentials_from_token(&auth.token).map_err(|m| {
                CommandError::failed(format!("the ECR authorization token is unusable: {m}"))
            })?;
        printer.mask(&[auth.token.clone(), credentials.password.clone()]);
        self.ecr_credentials = Some(credentials.clone());
        Ok(credentials)
    }

    /// The client for `host`, with its credentials.
    pub(crate) async fn client(&mut self, host: &str, printer: &Printer) -> Result<Arc<Registry>> {
        if let Some(c) = self.clients.get(host) {
            return Ok(c.clone());
        }
        let credentials = if self.is_ecr(host) {
            Some(self.ecr_credentials(printer).await?)
        } else {
            docker_credentials(host, printer)?
        };
        let client = Arc::new(Registry::new(host, credentials, self.options.clone())?);
        self.clients.insert(host.to_string(), client.clone());
        Ok(client)
    }
}

/// `host`'s credentials from the docker config, the password masked before anything prints.
/// A helper that is missing or fails is a configuration error (exit 2, before anything is
/// pushed), as `docker pull` fails then too: going on anonymously would turn it into a
/// confusing "the registry asks for credentials" later, or a pull of what an anonymous user
/// sees.
pub(crate) fn docker_credentials(host: &str, printer: &Printer) -> Result<Option<Credentials>> {
    let found = match host_credentials(host) {
        // A helper configured for a machine this binary does not run on (the runner's, seen
        // from the actions' container; Docker Desktop's `credsStore`): a public image still
        // pulls, and a private one fails with the registry's "credentials needed" after this.
        Err(e @ CredentialError::HelperMissing { .. }) => {
            let hint = e.hint();
            printer.warning(
                "deckhand: credential helper not found",
                &format!("{e}; `{host}` is accessed without credentials"),
                Some(&hint),
            );
            return Ok(None);
        }
        other => other.map_err(credential_error)?,
    };
    match found {
        HostCredentials::Anonymous => Ok(None),
        HostCredentials::Basic { credentials, from } => {
            printer.mask(std::slice::from_ref(&credentials.password));
            printer.detail(&format!("credentials for `{host}` from {from}"));
            Ok(Some(credentials))
        }
        HostCredentials::IdentityToken { from } => {
            printer.warning(
                "deckhand: identity token not used",
                &format!(
                    "{from} holds an identity token for `{host}`, which deckhand cannot exchange (it fetches registry tokens with a user name and password only); `{host}` is accessed anonymously"
                ),
                Some("log in with a user name and a password or access token (`docker login -u USER --password-stdin`), so that the registry's credentials are a user and password"),
            );
            Ok(None)
        }
    }
}

/// A credential lookup that failed: bad configuration, naming the config file.
pub(crate) fn credential_error(e: CredentialError) -> CommandError {
    let hint = e.hint();
    let path = e.path().to_string();
    CommandError::invalid(e.to_string()).on(path).hint(hint)
}
