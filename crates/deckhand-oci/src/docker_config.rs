//! Registry credentials found the way the docker CLI finds them, so a machine that can
//! `docker pull` an image can build from it with deckhand too.
//!
//! The config is `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. For a registry
//! host docker picks ONE store, in this order (docker/cli `configfile.GetCredentialsStore`):
//! 1. `credHelpers[host]`: the helper `docker-credential-<name>`;
//! 2. `credsStore`: the helper `docker-credential-<name>` for every host;
//! 3. `auths`: the entry whose key names the host (`https://host/`, `host`, ...), Docker Hub's
//!    being `https://index.docker.io/v1/`.
//!
//! A chosen helper that knows nothing of the host means anonymous access: docker does not fall
//! back to `auths` then, and neither does deckhand. The lookup ([`DockerConfig::lookup`]) is
//! pure; [`run_helper`] runs the helper process (`get`, server URL on stdin, JSON on stdout).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::Credentials;

/// The key Docker Hub's credentials are stored under, and the server URL its helpers are asked for.
pub const DOCKER_HUB_SERVER: &str = "https://index.docker.io/v1/";

/// What a credential helper prints when it has nothing for the server (docker-credential-helpers
/// `credentials.errCredentialsNotFoundMessage`): anonymous access, not a failure.
const NOT_FOUND: &str = "credentials not found in native keychain";

/// How long a helper may take: a helper waiting for a passphrase prompt nobody answers
/// (`pass` with a locked GPG key) must not hang a CI job.
const HELPER_TIMEOUT: Duration = Duration::from_secs(60);

/// Credentials for a registry host as docker would use them.
#[derive(Debug)]
pub enum HostCredentials {
    /// Nothing configured for the host: anonymous access.
    Anonymous,
    /// A user name and password (or access token) for Basic auth and the token service.
    Basic {
        credentials: Credentials,
        from: String,
    },
    /// An identity (OAuth2 refresh) token, which only an OAuth2 token exchange can use; this
    /// client fetches tokens with Basic credentials only, so the caller warns and goes
    /// anonymous. `from` says where it was found.
    IdentityToken { from: String },
}

/// Why credentials could not be looked up. Nothing has been sent to a registry yet.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// config.json exists but cannot be read or is not docker's format.
    #[error("docker config {path}: {reason}")]
    Config { path: String, reason: String },
    /// The helper's program is not on PATH.
    #[error(
        "credential helper `docker-credential-{helper}` ({origin} of {path}) for `{host}` is not on PATH"
    )]
    HelperMissing {
        helper: String,
        origin: &'static str,
        path: String,
        host: String,
    },
    /// The helper ran and failed, or answered something unreadable.
    #[error(
        "credential helper `docker-credential-{helper}` ({origin} of {path}) failed for `{host}`: {reason}"
    )]
    HelperFailed {
        helper: String,
        origin: &'static str,
        path: String,
        host: String,
        reason: String,
    },
}

impl CredentialError {
    /// The docker config file concerned.
    pub fn path(&self) -> &str {
        match self {
            Self::Config { path, .. }
            | Self::HelperMissing { path, .. }
            | Self::HelperFailed { path, .. } => path,
        }
    }

    /// How to fix it.
    pub fn hint(&self) -> String {
        match self {
            Self::Config { .. } => {
                "fix the JSON, or point DOCKER_CONFIG at a directory with a valid config.json"
                    .into()
            }
            Self::HelperMissing { helper, origin, .. } => format!(
                "install `docker-credential-{helper}` on PATH where deckhand runs (inside the deckhand container it is not), or remove the `{origin}` entry and `docker login` so that `auths` holds the credentials"
            ),
            Self::HelperFailed { helper, host, .. } => format!(
                "check that `echo {} | docker-credential-{helper} get` works on this machine",
                server_url(host)
            ),
        }
    }
}

/// Which store docker uses for a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// Nothing configured for the host.
    None,
    /// Ask `docker-credential-<helper>` for `server_url`.
    Helper {
        helper: String,
        /// `credHelpers` or `credsStore`.
        origin: &'static str,
        server_url: String,
    },
    /// An `auths` entry with a user name and password.
    Basic { username: String, password: String },
    /// An `auths` entry with an identity token only.
    IdentityToken,
}

/// The parts of config.json that say where credentials are.
#[derive(Debug, Clone)]
pub struct DockerConfig {
    pub path: PathBuf,
    auths: serde_json::Map<String, Value>,
    creds_store: Option<String>,
    cred_helpers: BTreeMap<String, String>,
}

/// The directory docker reads its config from: `$DOCKER_CONFIG`, else `~/.docker`.
pub fn config_dir() -> Option<PathBuf> {
    std::env::var_os("DOCKER_CONFIG")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".docker")))
}

/// The server URL helpers and `auths` know a host by: Docker Hub's v1 URL, else the host.
pub fn server_url(host: &str) -> String {
    if is_docker_hub(host) {
        DOCKER_HUB_SERVER.to_string()
    } else {
        host.to_string()
    }
}

fn is_docker_hub(host: &str) -> bool {
    matches!(
        host,
        deckhand_core::image_ref::DOCKER_HUB | "docker.io" | "index.docker.io"
    )
}

/// The host a config key names, as docker's `ConvertToHostname`: `https://host/v1/` -> `host`.
fn key_host(key: &str) -> &str {
    let rest = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    rest.split('/').next().unwrap_or(rest)
}

/// True when a config key names `host` (Docker Hub under any of its names).
fn key_matches(key: &str, host: &str) -> bool {
    let named = key_host(key);
    named == host || (is_docker_hub(host) && is_docker_hub(named))
}

impl DockerConfig {
    /// Parses config.json's text; `path` is for messages.
    pub fn parse(path: &Path, text: &str) -> Result<Self, CredentialError> {
        let invalid = |reason: String| CredentialError::Config {
            path: path.display().to_string(),
            reason,
        };
        let doc: Value =
            serde_json::from_str(text).map_err(|e| invalid(format!("not JSON: {e}")))?;
        let Some(doc) = doc.as_object() else {
            return Err(invalid("not a JSON object".into()));
        };
        let auths = match doc.get("auths") {
            None | Some(Value::Null) => serde_json::Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(_) => return Err(invalid("`auths` is not an object".into())),
        };
        let creds_store = match doc.get("credsStore") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.is_empty() => None,
            Some(Value::String(s)) => Some(helper_name(s).map_err(&invalid)?),
            Some(_) => return Err(invalid("`credsStore` is not a string".into())),
        };
        let mut cred_helpers = BTreeMap::new();
        match doc.get("credHelpers") {
            None | Some(Value::Null) => {}
            Some(Value::Object(m)) => {
                for (host, helper) in m {
                    let Some(helper) = helper.as_str() else {
                        return Err(invalid(format!("`credHelpers.{host}` is not a string")));
                    };
                    cred_helpers.insert(host.clone(), helper_name(helper).map_err(&invalid)?);
                }
            }
            Some(_) => return Err(invalid("`credHelpers` is not an object".into())),
        }
        Ok(Self {
            path: path.to_path_buf(),
            auths,
            creds_store,
            cred_helpers,
        })
    }

    /// Reads `dir/config.json`; `None` when there is none (docker then has no credentials).
    pub fn load(dir: &Path) -> Result<Option<Self>, CredentialError> {
        let path = dir.join("config.json");
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::parse(&path, &text).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(CredentialError::Config {
                path: path.display().to_string(),
                reason: e.to_string(),
            }),
        }
    }

    /// Which store holds `host`'s credentials, in docker's order.
    pub fn lookup(&self, host: &str) -> Lookup {
        let helper = |helper: &str, origin| Lookup::Helper {
            helper: helper.to_string(),
            origin,
            server_url: server_url(host),
        };
        if let Some((_, h)) = self.cred_helpers.iter().find(|(k, _)| key_matches(k, host)) {
            return helper(h, "credHelpers");
        }
        if let Some(h) = &self.creds_store {
            return helper(h, "credsStore");
        }
        // An exact key first (`host`, or Hub's v1 URL), then any key naming the host.
        let exact = self.auths.get(&server_url(host));
        let entry = exact.or_else(|| {
            self.auths
                .iter()
                .find(|(k, _)| key_matches(k, host))
                .map(|(_, v)| v)
        });
        let Some(entry) = entry else {
            return Lookup::None;
        };
        let text = |field: &str| {
            entry
                .get(field)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        let basic = text("auth")
            .and_then(|a| crate::client::credentials_from_token(a).ok())
            .map(|c| (c.username, c.password))
            .or_else(|| Some((text("username")?.into(), text("password")?.into())))
            .filter(|(u, p)| !u.is_empty() && !p.is_empty());
        match basic {
            Some((username, password)) => Lookup::Basic { username, password },
            None if text("identitytoken").is_some() => Lookup::IdentityToken,
            None => Lookup::None,
        }
    }

    /// The credentials for `host`: the lookup, with the helper run when one is chosen.
    pub fn credentials(&self, host: &str) -> Result<HostCredentials, CredentialError> {
        let path = self.path.display().to_string();
        match self.lookup(host) {
            Lookup::None => Ok(HostCredentials::Anonymous),
            Lookup::IdentityToken => Ok(HostCredentials::IdentityToken {
                from: format!("`auths` of {path}"),
            }),
            Lookup::Basic { username, password } => Ok(HostCredentials::Basic {
                credentials: Credentials { username, password },
                from: format!("`auths` of {path}"),
            }),
            Lookup::Helper {
                helper,
                origin,
                server_url,
            } => {
                let from = format!("`docker-credential-{helper}` ({origin} of {path})");
                let answer = run_helper(&helper, &server_url).map_err(|e| match e {
                    HelperError::Missing => CredentialError::HelperMissing {
                        helper: helper.clone(),
                        origin,
                        path: path.clone(),
                        host: host.to_string(),
                    },
                    HelperError::Failed(reason) => CredentialError::HelperFailed {
                        helper: helper.clone(),
                        origin,
                        path: path.clone(),
                        host: host.to_string(),
                        reason,
                    },
                })?;
                Ok(match answer {
                    None => HostCredentials::Anonymous,
                    Some(c) if c.username == "<token>" => HostCredentials::IdentityToken { from },
                    Some(credentials) => HostCredentials::Basic { credentials, from },
                })
            }
        }
    }
}

/// A helper name is the suffix of a program on PATH; a `/` would make it a path instead.
fn helper_name(name: &str) -> Result<String, String> {
    if name.contains('/') || name.chars().any(char::is_whitespace) {
        return Err(format!(
            "credential helper name `{name}` is not a name (`docker-credential-<name>` is looked up on PATH)"
        ));
    }
    Ok(name.to_string())
}

/// The credentials for `host` from the docker config of this environment (none when there is
/// no config).
pub fn host_credentials(host: &str) -> Result<HostCredentials, CredentialError> {
    let Some(dir) = config_dir() else {
        return Ok(HostCredentials::Anonymous);
    };
    match DockerConfig::load(&dir)? {
        Some(config) => config.credentials(host),
        None => Ok(HostCredentials::Anonymous),
    }
}

/// A helper run that gave no credentials and no "not found".
#[derive(Debug)]
pub enum HelperError {
    /// `docker-credential-<name>` is not on PATH.
    Missing,
    /// It failed; why (never its secret).
    Failed(String),
}

/// Runs `docker-credential-<helper> get` with `server_url` on stdin: the credentials, or `None`
/// when the helper has none for it.
pub fn run_helper(helper: &str, server_url: &str) -> Result<Option<Credentials>, HelperError> {
    let program = format!("docker-credential-{helper}");
    let mut child = match Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(HelperError::Missing),
        Err(e) => return Err(HelperError::Failed(format!("cannot start it: {e}"))),
    };
    // Readers on their own threads, so a helper writing more than a pipe holds cannot block.
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading its input is judged by its answer, not this.
        let _ = stdin.write_all(server_url.as_bytes());
    }
    let deadline = Instant::now() + HELPER_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(HelperError::Failed(format!(
                    "no answer within {} s",
                    HELPER_TIMEOUT.as_secs()
                )));
            }
            Err(e) => return Err(HelperError::Failed(e.to_string())),
        }
    };
    let out = stdout.join().unwrap_or_default();
    let err = stderr.join().unwrap_or_default();
    parse_helper_answer(status.success(), &out, &err)
}

fn drain<R: std::io::Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut buf);
        }
        buf
    })
}

/// Reads a helper's answer: `{"ServerURL","Username","Secret"}` on success; on failure its
/// message, "not found" being no credentials.
pub fn parse_helper_answer(
    success: bool,
    stdout: &[u8],
    stderr: &[u8],
) -> Result<Option<Credentials>, HelperError> {
    let out = String::from_utf8_lossy(stdout);
    let err = String::from_utf8_lossy(stderr);
    if !success {
        if out.trim() == NOT_FOUND || err.trim() == NOT_FOUND {
            return Ok(None);
        }
        // A failing helper prints its error; a secret is only ever in a JSON answer, so a
        // JSON stdout is never repeated.
        let mut message = err.trim().to_string();
        if serde_json::from_str::<Value>(&out).is_err() && !out.trim().is_empty() {
            if !message.is_empty() {
                message.push_str("; ");
            }
            message.push_str(out.trim());
        }
        let message: String = message.chars().take(300).collect();
        return Err(HelperError::Failed(if message.is_empty() {
            "it exited unsuccessfully without a message".into()
        } else {
            message
        }));
    }
    let answer: Value = serde_json::from_str(&out).map_err(|_| {
        HelperError::Failed("its answer is not JSON with `Username` and `Secret`".into())
    })?;
    let field = |name: &str| answer.get(name).and_then(Value::as_str).unwrap_or("");
    let (username, secret) = (field("Username"), field("Secret"));
    if secret.is_empty() {
        // Some helpers answer an empty record instead of "not found".
        return Ok(None);
    }
    Ok(Some(Credentials {
        username: username.to_string(),
        password: secret.to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> DockerConfig {
        DockerConfig::parse(Path::new("/cfg/config.json"), json).unwrap()
    }

    fn helper(name: &str, origin: &'static str, url: &str) -> Lookup {
        Lookup::Helper {
            helper: name.into(),
            origin,
            server_url: url.into(),
        }
    }

    fn basic(u: &str, p: &str) -> Lookup {
        Lookup::Basic {
            username: u.into(),
            password: p.into(),
        }
    }

    const ECR: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";

    #[test]
    fn cred_helpers_win_then_creds_store_then_auths() {
        // dXNlcjpwYXNz = user:pass
        let all = config(&format!(
            r#"{{"auths": {{"{ECR}": {{"auth": "dXNlcjpwYXNz"}}, "ghcr.io": {{"auth": "dXNlcjpwYXNz"}}}},
                "credsStore": "desktop", "credHelpers": {{"{ECR}": "ecr-login"}}}}"#
        ));
        assert_eq!(all.lookup(ECR), helper("ecr-login", "credHelpers", ECR));
        // credsStore covers every other host, even one `auths` names (docker reads `auths`
        // only when no store is configured).
        assert_eq!(
            all.lookup("ghcr.io"),
            helper("desktop", "credsStore", "ghcr.io")
        );
        let no_store = config(&format!(
            r#"{{"auths": {{"ghcr.io": {{"auth": "dXNlcjpwYXNz"}}}}, "credHelpers": {{"{ECR}": "ecr-login"}}}}"#
        ));
        assert_eq!(
            no_store.lookup(ECR),
            helper("ecr-login", "credHelpers", ECR)
        );
        assert_eq!(no_store.lookup("ghcr.io"), basic("user", "pass"));
        assert_eq!(no_store.lookup("quay.io"), Lookup::None);
    }

    #[test]
    fn docker_hub_is_asked_for_by_its_v1_url_under_any_of_its_names() {
        let store = config(r#"{"credsStore": "osxkeychain"}"#);
        for host in ["registry-1.docker.io", "docker.io", "index.docker.io"] {
            assert_eq!(
                store.lookup(host),
                helper("osxkeychain", "credsStore", DOCKER_HUB_SERVER),
                "{host}"
            );
        }
        let per_host = config(r#"{"credHelpers": {"index.docker.io": "pass"}}"#);
        assert_eq!(
            per_host.lookup("registry-1.docker.io"),
            helper("pass", "credHelpers", DOCKER_HUB_SERVER)
        );
        for key in [
            "https://index.docker.io/v1/",
            "docker.io",
            "index.docker.io",
        ] {
            let auths = config(&format!(
                r#"{{"auths": {{"{key}": {{"auth": "dXNlcjpwYXNz"}}}}}}"#
            ));
            assert_eq!(
                auths.lookup("registry-1.docker.io"),
                basic("user", "pass"),
                "{key}"
            );
        }
    }

    #[test]
    fn auths_keys_match_by_host_as_docker_normalises_them() {
        for key in [
            "localhost:5000",
            "https://localhost:5000",
            "http://localhost:5000/",
            "https://localhost:5000/v2/",
        ] {
            let c = config(&format!(
                r#"{{"auths": {{"{key}": {{"auth": "dXNlcjpwYXNz"}}}}}}"#
            ));
            assert_eq!(c.lookup("localhost:5000"), basic("user", "pass"), "{key}");
            assert_eq!(c.lookup("localhost:5001"), Lookup::None, "{key}");
            assert_eq!(c.lookup("localhost"), Lookup::None, "{key}");
        }
    }

    #[test]
    fn auths_entries_plain_fields_identity_tokens_and_empty_ones() {
        let c = config(
            r#"{"auths": {
                "plain.example": {"username": "u", "password": "p"},
                "token.example": {"auth": "", "identitytoken": "refresh"},
                "empty.example": {},
                "nopass.example": {"auth": "dXNlcjo="}
            }}"#,
        );
        assert_eq!(c.lookup("plain.example"), basic("u", "p"));
        assert_eq!(c.lookup("token.example"), Lookup::IdentityToken);
        assert_eq!(c.lookup("empty.example"), Lookup::None);
        assert_eq!(c.lookup("nopass.example"), Lookup::None, "user: alone");
    }

    #[test]
    fn a_config_that_is_not_dockers_format_is_an_error_naming_the_file() {
        for (json, why) in [
            ("{", "not JSON"),
            ("[]", "not a JSON object"),
            (r#"{"auths": []}"#, "`auths` is not an object"),
            (r#"{"credsStore": 1}"#, "`credsStore` is not a string"),
            (
                r#"{"credHelpers": {"h": 1}}"#,
                "`credHelpers.h` is not a string",
            ),
            (r#"{"credsStore": "../x"}"#, "is not a name"),
        ] {
            let e = DockerConfig::parse(Path::new("/cfg/config.json"), json).unwrap_err();
            let text = e.to_string();
            assert!(
                text.starts_with("docker config /cfg/config.json: "),
                "{text}"
            );
            assert!(text.contains(why), "{json}: {text}");
        }
        // Nothing configured, and an empty credsStore, are no credentials.
        let empty = config(r#"{"credsStore": "", "auths": {}}"#);
        assert_eq!(empty.lookup("ghcr.io"), Lookup::None);
    }

    #[test]
    fn helper_answers() {
        let ok = parse_helper_answer(
            true,
            br#"{"ServerURL":"h","Username":"AWS","Secret":"s3cret"}"#,
            b"",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            (ok.username.as_str(), ok.password.as_str()),
            ("AWS", "s3cret")
        );
        assert!(
            parse_helper_answer(false, b"credentials not found in native keychain\n", b"")
                .unwrap()
                .is_none()
        );
        assert!(
            parse_helper_answer(true, br#"{"Username":"","Secret":""}"#, b"")
                .unwrap()
                .is_none()
        );
        let Err(HelperError::Failed(why)) =
            parse_helper_answer(false, b"", b"error getting credentials - err: locked\n")
        else {
            panic!("a failure")
        };
        assert_eq!(why, "error getting credentials - err: locked");
        // A JSON answer on a failed run is never repeated: it may carry the secret.
        let Err(HelperError::Failed(why)) =
            parse_helper_answer(false, br#"{"Secret":"s3cret"}"#, b"")
        else {
            panic!("a failure")
        };
        assert!(!why.contains("s3cret"), "{why}");
        assert!(matches!(
            parse_helper_answer(true, b"s3cret", b""),
            Err(HelperError::Failed(w)) if !w.contains("s3cret")
        ));
    }

    #[test]
    fn a_missing_helper_is_its_own_error() {
        assert!(matches!(
            run_helper("deckhand-surely-not-installed", "h"),
            Err(HelperError::Missing)
        ));
    }
}
