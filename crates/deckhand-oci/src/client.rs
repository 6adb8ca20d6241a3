//! One registry host: authentication, and the distribution API calls `image build` makes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use deckhand_core::oci::Digest;
use deckhand_core::oci::auth::{Challenge, parse_challenge, repository_scope};
use deckhand_core::oci::media::MANIFEST_ACCEPT;
use futures_util::StreamExt as _;
use reqwest::{Method, RequestBuilder, Response, StatusCode, header};
use sha2::{Digest as _, Sha256};

use crate::OciError;

/// User name and password (or token) for Basic auth, or for the token endpoint.
#[derive(Clone)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the password, not even in a debug print.
        write!(f, "Credentials({}, ***)", self.username)
    }
}

/// How to talk to registries.
#[derive(Debug, Clone)]
pub struct RegistryOptions {
    /// Hosts other than loopback that are spoken to over plain HTTP.
    pub insecure_hosts: Vec<String>,
    /// Blobs larger than this are uploaded in chunks.
    pub chunk_threshold: u64,
    /// Chunk size; at least 5 MiB, since ECR refuses smaller non-final parts.
    pub chunk_size: u64,
    /// Attempts per operation for transient failures (5xx, 429, dropped connections).
    pub attempts: u32,
}

/// ECR's smallest non-final part.
pub const MIN_CHUNK: u64 = 5 * 1024 * 1024;

impl Default for RegistryOptions {
    fn default() -> Self {
        Self {
            insecure_hosts: Vec::new(),
            chunk_threshold: 256 * 1024 * 1024,
            chunk_size: 8 * 1024 * 1024,
            attempts: 3,
        }
    }
}

/// Counters of what was sent to a registry.
#[derive(Debug, Default)]
pub struct UploadStats {
    pub requests: AtomicU64,
    /// Request body bytes sent (blobs and manifests).
    pub bytes_sent: AtomicU64,
}

/// A manifest as the registry sent it.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub bytes: Vec<u8>,
    pub digest: Digest,
    pub content_type: Option<String>,
}

/// A registry host.
pub struct Registry {
    host: String,
    base: String,
    http: reqwest::Client,
    credentials: Option<Credentials>,
    options: RegistryOptions,
    /// Bearer tokens by scope.
    tokens: Mutex<HashMap<String, String>>,
    /// Set once a 401 asked for Basic: then every request carries it.
    basic: Mutex<bool>,
    pub stats: Arc<UploadStats>,
}

/// True for hosts Docker also speaks plain HTTP to: localhost and loopback addresses.
pub fn is_loopback(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    name == "localhost"
        || name == "::1"
        || name
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn install_crypto() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Whoever installs first wins; the SDK uses the same provider.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    });
}

impl Registry {
    pub fn new(
        host: &str,
        credentials: Option<Credentials>,
        options: RegistryOptions,
    ) -> Result<Self, OciError> {
        install_crypto();
        let plain = is_loopback(host) || options.insecure_hosts.iter().any(|h| h == host);
        let base = format!("{}://{host}", if plain { "http" } else { "https" });
        let http = reqwest::Client::builder()
            .user_agent(concat!("deckhand/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(15))
            .read_timeout(Duration::from_secs(120))
            // Redirects to blob storage (S3, CDNs) must not carry our Authorization.
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .map_err(|source| OciError::Transport {
                method: "CONNECT".into(),
                url: base.clone(),
                source,
                hint: None,
            })?;
        Ok(Self {
            host: host.to_string(),
            base,
            http,
            credentials,
            options,
            tokens: Mutex::new(HashMap::new()),
            basic: Mutex::new(false),
            stats: Arc::new(UploadStats::default()),
        })
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Resolves a `Location` header against the registry (it may be relative).
    fn absolute(&self, location: &str) -> String {
        if location.starts_with("http://") || location.starts_with("https://") {
            location.to_string()
        } else {
            self.url(location)
        }
    }

    fn authorize(&self, request: RequestBuilder, scope: &str) -> RequestBuilder {
        if let Some(token) = self.tokens.lock().unwrap().get(scope) {
            return request.bearer_auth(token);
        }
        if *self.basic.lock().unwrap()
            && let Some(c) = &self.credentials
        {
            return request.basic_auth(&c.username, Some(&c.password));
        }
        request
    }

    /// Sends a request built by `build`, answering one authentication challenge if the
    /// registry asks. `build` may be called twice, so it must not consume a one-shot body.
    async fn send(
        &self,
        method: Method,
        url: &str,
        scope: &str,
        build: impl Fn(RequestBuilder) -> RequestBuilder,
    ) -> Result<Response, OciError> {
        let mut challenged = false;
        loop {
            let request = build(self.authorize(self.http.request(method.clone(), url), scope));
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            let response = request.send().await.map_err(|source| OciError::Transport {
                method: method.to_string(),
                url: url.to_string(),
                source,
                hint: None,
            })?;
            if response.status() != StatusCode::UNAUTHORIZED || challenged {
                return Ok(response);
            }
            challenged = true;
            let header = response
                .headers()
                .get(header::WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            match parse_challenge(&header) {
                Ok(Challenge::Basic) => {
                    if self.credentials.is_none() {
                        return Err(self.needs_credentials());
                    }
                    *self.basic.lock().unwrap() = true;
                }
                Ok(Challenge::Bearer {
                    realm,
                    service,
                    scope: wanted,
                }) => {
                    // The registry knows best what a request needs (a mount also needs pull on
                    // its source repository): ask for the challenge's scope when it names one.
                    let scope_asked = wanted.unwrap_or_else(|| scope.to_string());
                    let token = self
                        .fetch_token(&realm, service.as_deref(), &scope_asked)
                        .await?;
                    self.tokens.lock().unwrap().insert(scope.to_string(), token);
                }
                Err(reason) => {
                    return Err(OciError::Auth {
                        registry: self.host.clone(),
                        reason: format!("{method} {url} answered 401: {reason}"),
                    });
                }
            }
        }
    }

    fn needs_credentials(&self) -> OciError {
        OciError::Auth {
            registry: self.host.clone(),
            reason: "the registry asks for credentials and none are configured".into(),
        }
    }

    async fn fetch_token(
        &self,
        realm: &str,
        service: Option<&str>,
        scope: &str,
    ) -> Result<String, OciError> {
        let mut query: Vec<(&str, &str)> = Vec::new();
        if let Some(s) = service {
            query.push(("service", s));
        }
        if !scope.is_empty() {
            query.push(("scope", scope));
        }
        let mut request = self.http.get(realm).query(&query);
        if let Some(c) = &self.credentials {
            request = request.basic_auth(&c.username, Some(&c.password));
        }
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        let response = request.send().await.map_err(|source| OciError::Transport {
            method: "GET".into(),
            url: realm.to_string(),
            source,
            hint: None,
        })?;
        if !response.status().is_success() {
            let status = response.status();
            return Err(OciError::Auth {
                registry: self.host.clone(),
                reason: format!("the token service {realm} answered {status} for scope `{scope}`"),
            });
        }
        let body: serde_json::Value =
            response
                .json_value()
                .await
                .map_err(|reason| OciError::Protocol {
                    url: realm.to_string(),
                    reason,
                })?;
        body.get("token")
            .or_else(|| body.get("access_token"))
            .and_then(|t| t.as_str())
            .map(str::to_string)
            .ok_or_else(|| OciError::Auth {
                registry: self.host.clone(),
                reason: format!("the token service {realm} answered without a token"),
            })
    }

    /// Turns a non-success answer into an error carrying the registry's code and message.
    async fn fail(method: &str, url: &str, response: Response) -> OciError {
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        let first = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("errors")?.get(0).cloned());
        let code = first
            .as_ref()
            .and_then(|e| e.get("code")?.as_str().map(str::to_string));
        let message = first
            .as_ref()
            .and_then(|e| e.get("message")?.as_str().map(str::to_string))
            .or_else(|| (!text.trim().is_empty()).then(|| text.trim().chars().take(300).collect()));
        let hint = match (status, code.as_deref()) {
            (401 | 403, _) | (_, Some("UNAUTHORIZED" | "DENIED")) => Some(
                "check the registry credentials and that they may push to this repository".into(),
            ),
            (_, Some("NAME_UNKNOWN")) | (404, None) => Some(
                "the repository does not exist; create it (for ECR: `--ecr-create`) or fix the name"
                    .into(),
            ),
            _ => None,
        };
        OciError::Status {
            method: method.to_string(),
            url: url.to_string(),
            status,
            code,
            message,
            hint,
        }
    }

    /// Retries `op` on transient failures, with a short backoff.
    async fn retry<T, F, Fut>(&self, op: F) -> Result<T, OciError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, OciError>>,
    {
        let mut attempt = 1;
        loop {
            match op().await {
                Err(e) if e.is_transient() && attempt < self.options.attempts => {
                    tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// GET a manifest by tag or digest, verifying its digest: against the reference when it
    /// is a digest, else against the `Docker-Content-Digest` the registry announces.
    pub async fn get_manifest(&self, repo: &str, reference: &str) -> Result<Fetched, OciError> {
        let url = self.url(&format!("/v2/{repo}/manifests/{reference}"));
        let scope = repository_scope(repo, false);
        self.retry(|| async {
            let response = self
                .send(Method::GET, &url, &scope, |r| {
                    r.header(header::ACCEPT, MANIFEST_ACCEPT)
                })
                .await?;
            if !response.status().is_success() {
                return Err(Self::fail("GET", &url, response).await);
            }
            let content_type = header_str(&response, header::CONTENT_TYPE);
            let announced = header_str(&response, "docker-content-digest");
            let bytes = response
                .bytes()
                .await
                .map_err(|source| OciError::Transport {
                    method: "GET".into(),
                    url: url.clone(),
                    source,
                    hint: None,
                })?;
            let digest = Digest::of(&bytes);
            let expected = if reference.starts_with("sha256:") {
                Some(reference.to_string())
            } else {
                announced
            };
            if let Some(expected) = expected
                && expected != digest.as_str()
            {
                return Err(OciError::DigestMismatch {
                    what: format!("manifest `{repo}:{reference}`"),
                    url: url.clone(),
                    expected,
                    actual: digest.to_string(),
                });
            }
            Ok(Fetched {
                bytes: bytes.to_vec(),
                digest,
                content_type,
            })
        })
        .await
    }

    /// The digest a tag (or digest) currently resolves to, or None when it does not exist.
    pub async fn head_manifest(
        &self,
        repo: &str,
        reference: &str,
    ) -> Result<Option<Digest>, OciError> {
        let url = self.url(&format!("/v2/{repo}/manifests/{reference}"));
        let scope = repository_scope(repo, false);
        self.retry(|| async {
            let response = self
                .send(Method::HEAD, &url, &scope, |r| {
                    r.header(header::ACCEPT, MANIFEST_ACCEPT)
                })
                .await?;
            match response.status() {
                StatusCode::NOT_FOUND => Ok(None),
                s if s.is_success() => match header_str(&response, "docker-content-digest") {
                    Some(d) => Digest::parse(&d)
                        .map(Some)
                        .map_err(|reason| OciError::Protocol {
                            url: url.clone(),
                            reason,
                        }),
                    // Without the header, the body tells.
                    None => Ok(Some(self.get_manifest(repo, reference).await?.digest)),
                },
                _ => Err(Self::fail("HEAD", &url, response).await),
            }
        })
        .await
    }

    /// GET a small blob (a config) whole, verifying its digest.
    pub async fn get_blob(&self, repo: &str, digest: &Digest) -> Result<Vec<u8>, OciError> {
        let url = self.url(&format!("/v2/{repo}/blobs/{digest}"));
        let scope = repository_scope(repo, false);
        self.retry(|| async {
            let response = self.send(Method::GET, &url, &scope, |r| r).await?;
            if !response.status().is_success() {
                return Err(Self::fail("GET", &url, response).await);
            }
            let bytes = response
                .bytes()
                .await
                .map_err(|source| OciError::Transport {
                    method: "GET".into(),
                    url: url.clone(),
                    source,
                    hint: None,
                })?;
            let actual = Digest::of(&bytes);
            if &actual != digest {
                return Err(OciError::DigestMismatch {
                    what: format!("blob of `{repo}`"),
                    url: url.clone(),
                    expected: digest.to_string(),
                    actual: actual.to_string(),
                });
            }
            Ok(bytes.to_vec())
        })
        .await
    }

    /// HEAD a blob: true when the repository has it.
    pub async fn blob_exists(&self, repo: &str, digest: &Digest) -> Result<bool, OciError> {
        let url = self.url(&format!("/v2/{repo}/blobs/{digest}"));
        let scope = repository_scope(repo, true);
        self.retry(|| async {
            let response = self.send(Method::HEAD, &url, &scope, |r| r).await?;
            match response.status() {
                s if s.is_success() => Ok(true),
                StatusCode::NOT_FOUND => Ok(false),
                _ => Err(Self::fail("HEAD", &url, response).await),
            }
        })
        .await
    }

    /// Starts an upload session, optionally as a mount. Some(location) is a session to upload
    /// into; None means the mount succeeded (201).
    async fn start_upload(
        &self,
        repo: &str,
        mount: Option<(&Digest, &str)>,
    ) -> Result<Option<String>, OciError> {
        let mut url = self.url(&format!("/v2/{repo}/blobs/uploads/"));
        if let Some((digest, from)) = mount {
            url.push_str(&format!("?mount={digest}&from={from}"));
        }
        let scope = repository_scope(repo, true);
        let response = self
            .send(Method::POST, &url, &scope, |r| {
                r.header(header::CONTENT_LENGTH, 0)
            })
            .await?;
        match response.status() {
            StatusCode::CREATED if mount.is_some() => Ok(None),
            StatusCode::ACCEPTED | StatusCode::CREATED => {
                let location =
                    header_str(&response, header::LOCATION).ok_or_else(|| OciError::Protocol {
                        url: url.clone(),
                        reason: "the upload session was started without a `Location`".into(),
                    })?;
                Ok(Some(self.absolute(&location)))
            }
            _ => Err(Self::fail("POST", &url, response).await),
        }
    }

    /// Mounts a blob from another repository of this registry. False when the registry
    /// declined (202): the caller uploads instead.
    pub async fn mount_blob(
        &self,
        repo: &str,
        digest: &Digest,
        from: &str,
    ) -> Result<bool, OciError> {
        self.retry(|| async {
            match self.start_upload(repo, Some((digest, from))).await? {
                None => Ok(true),
                Some(session) => {
                    // Leave no dangling session behind; a failure to cancel changes nothing.
                    let _ = self
                        .send(
                            Method::DELETE,
                            &session,
                            &repository_scope(repo, true),
                            |r| r,
                        )
                        .await;
                    Ok(false)
                }
            }
        })
        .await
    }

    /// Uploads a blob held in memory: one PUT with the whole body, or chunks above the
    /// threshold.
    pub async fn upload_blob(
        &self,
        repo: &str,
        digest: &Digest,
        bytes: &Bytes,
    ) -> Result<(), OciError> {
        self.retry(|| async {
            let session = self
                .start_upload(repo, None)
                .await?
                .expect("no mount asked");
            if bytes.len() as u64 > self.options.chunk_threshold {
                // Every part by PATCH (the last may be short), then an empty closing PUT: the
                // sequence docker itself sends, which ECR is known to take.
                let chunk = self.options.chunk_size.max(MIN_CHUNK) as usize;
                let mut location = session;
                for (i, part) in bytes.chunks(chunk).enumerate() {
                    let start = i * chunk;
                    location = self
                        .patch_chunk(
                            repo,
                            &location,
                            start as u64,
                            bytes.slice(start..start + part.len()),
                        )
                        .await?;
                }
                self.finish_upload(repo, &location, digest, None).await
            } else {
                self.finish_upload(repo, &session, digest, Some(bytes.clone()))
                    .await
            }
        })
        .await
    }

    async fn patch_chunk(
        &self,
        repo: &str,
        location: &str,
        start: u64,
        part: Bytes,
    ) -> Result<String, OciError> {
        let end = start + part.len() as u64 - 1;
        let len = part.len() as u64;
        let response = self
            .send(
                Method::PATCH,
                location,
                &repository_scope(repo, true),
                |r| {
                    r.header(header::CONTENT_TYPE, "application/octet-stream")
                        .header(header::CONTENT_RANGE, format!("{start}-{end}"))
                        .header(header::CONTENT_LENGTH, len)
                        .body(part.clone())
                },
            )
            .await?;
        self.stats.bytes_sent.fetch_add(len, Ordering::Relaxed);
        // The spec says 202; ECR answers 201. Both carry the next location.
        if !matches!(
            response.status(),
            StatusCode::ACCEPTED | StatusCode::CREATED
        ) {
            return Err(Self::fail("PATCH", location, response).await);
        }
        Ok(header_str(&response, header::LOCATION)
            .map(|l| self.absolute(&l))
            .unwrap_or_else(|| location.to_string()))
    }

    /// Closes an upload session with `PUT ?digest=`, carrying the last bytes if any.
    async fn finish_upload(
        &self,
        repo: &str,
        location: &str,
        digest: &Digest,
        body: Option<Bytes>,
    ) -> Result<(), OciError> {
        let separator = if location.contains('?') { '&' } else { '?' };
        let url = format!("{location}{separator}digest={digest}");
        let len = body.as_ref().map_or(0, |b| b.len() as u64);
        let response = self
            .send(Method::PUT, &url, &repository_scope(repo, true), |r| {
                let r = r
                    .header(header::CONTENT_TYPE, "application/octet-stream")
                    .header(header::CONTENT_LENGTH, len);
                match &body {
                    Some(b) => r.body(b.clone()),
                    None => r,
                }
            })
            .await?;
        self.stats.bytes_sent.fetch_add(len, Ordering::Relaxed);
        if response.status() != StatusCode::CREATED {
            return Err(Self::fail("PUT", &redact_query(&url), response).await);
        }
        Ok(())
    }

    /// Streams a blob from `source` (another registry) into this one, never holding it whole
    /// in memory; its digest is checked as it passes (and again by this registry on PUT).
    pub async fn copy_blob(
        &self,
        source: &Registry,
        source_repo: &str,
        repo: &str,
        digest: &Digest,
        size: u64,
    ) -> Result<(), OciError> {
        self.retry(|| async {
            let url = source.url(&format!("/v2/{source_repo}/blobs/{digest}"));
            let response = source
                .send(
                    Method::GET,
                    &url,
                    &repository_scope(source_repo, false),
                    |r| r,
                )
                .await?;
            if !response.status().is_success() {
                return Err(Self::fail("GET", &url, response).await);
            }
            let session = self
                .start_upload(repo, None)
                .await?
                .expect("no mount asked");
            let hash = Arc::new(Mutex::new(Sha256::new()));
            let seen = hash.clone();
            let stream = response.bytes_stream().map(move |chunk| {
                if let Ok(c) = &chunk {
                    seen.lock().unwrap().update(c);
                }
                chunk
            });
            if size > self.options.chunk_threshold {
                let chunk_size = self.options.chunk_size.max(MIN_CHUNK) as usize;
                let mut location = session;
                let mut buffer = Vec::with_capacity(chunk_size);
                let mut offset = 0u64;
                let mut stream = Box::pin(stream);
                while let Some(piece) = stream.next().await {
                    let piece = piece.map_err(|source| OciError::Transport {
                        method: "GET".into(),
                        url: url.clone(),
                        source,
                        hint: None,
                    })?;
                    buffer.extend_from_slice(&piece);
                    while buffer.len() >= chunk_size {
                        let rest = buffer.split_off(chunk_size);
                        let part = Bytes::from(std::mem::replace(&mut buffer, rest));
                        let len = part.len() as u64;
                        location = self.patch_chunk(repo, &location, offset, part).await?;
                        offset += len;
                    }
                }
                self.check_copied(&hash, digest, &url)?;
                if !buffer.is_empty() {
                    location = self
                        .patch_chunk(repo, &location, offset, Bytes::from(buffer))
                        .await?;
                }
                self.finish_upload(repo, &location, digest, None).await
            } else {
                let separator = if session.contains('?') { '&' } else { '?' };
                let put_url = format!("{session}{separator}digest={digest}");
                // A stream can be sent once: no challenge round trip is possible here, and
                // none is needed, since the POST above settled authentication for this scope.
                let request =
                    self.authorize(self.http.put(&put_url), &repository_scope(repo, true));
                self.stats.requests.fetch_add(1, Ordering::Relaxed);
                let response = request
                    .header(header::CONTENT_TYPE, "application/octet-stream")
                    .header(header::CONTENT_LENGTH, size)
                    .body(reqwest::Body::wrap_stream(stream))
                    .send()
                    .await
                    .map_err(|source| OciError::Transport {
                        method: "PUT".into(),
                        url: redact_query(&put_url),
                        source,
                        hint: None,
                    })?;
                self.stats.bytes_sent.fetch_add(size, Ordering::Relaxed);
                self.check_copied(&hash, digest, &url)?;
                if response.status() != StatusCode::CREATED {
                    return Err(Self::fail("PUT", &redact_query(&put_url), response).await);
                }
                Ok(())
            }
        })
        .await
    }

    fn check_copied(
        &self,
        hash: &Mutex<Sha256>,
        digest: &Digest,
        url: &str,
    ) -> Result<(), OciError> {
        let actual = Digest::from_hash(&hash.lock().unwrap().clone().finalize());
        if &actual != digest {
            return Err(OciError::DigestMismatch {
                what: "base layer".into(),
                url: url.to_string(),
                expected: digest.to_string(),
                actual: actual.to_string(),
            });
        }
        Ok(())
    }

    /// PUTs a manifest under a tag or its digest. 200, 201 and 202 are success; no `Location`
    /// is needed (ECR sends none). A `Docker-Content-Digest` that disagrees is an error.
    pub async fn put_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        bytes: &Bytes,
    ) -> Result<(), OciError> {
        let url = self.url(&format!("/v2/{repo}/manifests/{reference}"));
        let scope = repository_scope(repo, true);
        let expected = Digest::of(bytes);
        self.retry(|| async {
            let response = self
                .send(Method::PUT, &url, &scope, |r| {
                    r.header(header::CONTENT_TYPE, media_type)
                        .header(header::CONTENT_LENGTH, bytes.len())
                        .body(bytes.clone())
                })
                .await?;
            self.stats
                .bytes_sent
                .fetch_add(bytes.len() as u64, Ordering::Relaxed);
            if !matches!(response.status().as_u16(), 200..=202) {
                return Err(Self::fail("PUT", &url, response).await);
            }
            if let Some(announced) = header_str(&response, "docker-content-digest")
                && announced != expected.as_str()
            {
                return Err(OciError::DigestMismatch {
                    what: format!("manifest `{repo}:{reference}` as stored"),
                    url: url.clone(),
                    expected: expected.to_string(),
                    actual: announced,
                });
            }
            Ok(())
        })
        .await
    }
}

fn header_str(response: &Response, name: impl header::AsHeaderName) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Upload URLs carry session state (`_state=...`) that is noise in an error message.
fn redact_query(url: &str) -> String {
    url.split('?').next().unwrap_or(url).to_string()
}

trait JsonValue {
    async fn json_value(self) -> Result<serde_json::Value, String>;
}

impl JsonValue for Response {
    async fn json_value(self) -> Result<serde_json::Value, String> {
        let bytes = self.bytes().await.map_err(|e| e.to_string())?;
        serde_json::from_slice(&bytes).map_err(|e| format!("not JSON: {e}"))
    }
}

/// Basic credentials from a base64 `user:password` token (ECR's GetAuthorizationToken and
/// Docker's config.json both use this form).
pub fn credentials_from_token(token: &str) -> Result<Credentials, String> {
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .map_err(|_| "the token is not base64".to_string())?;
    let text = String::from_utf8(decoded).map_err(|_| "the token is not UTF-8".to_string())?;
    let (username, password) = text
        .split_once(':')
        .ok_or("the token is not `user:password`")?;
    Ok(Credentials {
        username: username.to_string(),
        password: password.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_plain_http_like_docker() {
        for host in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:5000",
            "127.9.9.9",
            "[::1]:5000",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "registry-1.docker.io",
            "10.0.0.1:5000",
            "localhost.example.com",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn tokens_decode_and_debug_never_shows_the_password() {
        let c = credentials_from_token("QVdTOnNlY3JldDpwYXJ0").unwrap(); // AWS:secret:part
        assert_eq!(
            (c.username.as_str(), c.password.as_str()),
            ("AWS", "secret:part")
        );
        assert!(!format!("{c:?}").contains("secret"));
        assert!(credentials_from_token("%%%").is_err());
    }
}
