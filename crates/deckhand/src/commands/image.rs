//! `image build` and `nginx build`: load -> observe (base, target) -> build the layer and
//! derive the image (core) -> plan the push (core) -> push -> verify the tags.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use bytes::Bytes;
use deckhand_aws::AwsContext;
use deckhand_aws::ecr::{EcrAdapter, EcrRepository};
use deckhand_core::ecs::report::Verdict;
use deckhand_core::image_ref::ImageRef;
use deckhand_core::oci::derive::{
    BuiltChild, ConfigEdits, derive_config, derive_index, derive_manifest,
};
use deckhand_core::oci::ecr::{parse_ecr_host, tag_is_immutable, validate_repository_name};
use deckhand_core::oci::layer::{AddSpec, Found, plan_layer};
use deckhand_core::oci::media::{ManifestKind, manifest_kind};
use deckhand_core::oci::plan::{
    BaseLocation, BlobAction, BlobOrigin, BlobRef, BlobStep, TagAction, TagStep, bytes_to_send,
    plan_blobs, plan_tags,
};
use deckhand_core::oci::{Digest, Platform, PlatformFilter};
use deckhand_core::site::rules::skipped_by_default;
use deckhand_oci::layer::{DEFAULT_MTIME, LayerFile, build_layer};
use deckhand_oci::{Credentials, OciError, Registry, RegistryOptions};
use futures_util::{StreamExt as _, TryStreamExt as _};
use serde_json::{Value, json};

use super::result::Problem;
use crate::cli::{PushArgs, TagMutability};
use crate::exit::ExitStatus;
use crate::gha::IMAGE_BUILD_OUTPUTS;
use crate::printer::Printer;
use crate::site_files::{is_executable, walk_with};

/// Blob transfers in flight at once (as crane).
const JOBS: usize = 4;

type Fail = (Verdict, Problem);

fn invalid(message: impl Into<String>, hint: Option<&str>) -> Fail {
    (
        Verdict::InvalidInput,
        Problem::new(message, hint.map(str::to_string)),
    )
}

fn failed(e: impl std::fmt::Display) -> Fail {
    let text = e.to_string();
    // Registry errors carry their hint on a line of their own.
    let (message, hint) = match text.split_once("\nhint: ") {
        Some((m, h)) => (m.to_string(), Some(h.to_string())),
        None => (text, None),
    };
    (Verdict::Error, Problem::new(message, hint))
}

/// What to build, validated.
pub(crate) struct BuildSpec {
    pub(crate) base: ImageRef,
    pub(crate) adds: Vec<AddSpec>,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) labels: Vec<(String, String)>,
    pub(crate) tags: Vec<ImageRef>,
    pub(crate) platforms: PlatformFilter,
    pub(crate) mtime: u64,
    pub(crate) created: Option<String>,
    /// The history entry's `created_by`.
    pub(crate) created_by: String,
}

fn key_values(values: &[String], flag: &str) -> Result<Vec<(String, String)>, Fail> {
    values
        .iter()
        .filter(|v| !v.trim().is_empty())
        .map(|v| match v.split_once('=') {
            Some((k, val)) if !k.trim().is_empty() => Ok((k.trim().to_string(), val.to_string())),
            _ => Err(invalid(format!("`{flag} {v}` is not `KEY=VALUE`"), None)),
        })
        .collect()
}

/// Validates everything that can be checked without a network.
pub(crate) fn load_spec(
    base: &str,
    adds: &[String],
    env: &[String],
    push: &PushArgs,
    created_by: String,
) -> Result<BuildSpec, Fail> {
    let base = ImageRef::parse(base).map_err(|e| invalid(e.to_string(), Some("check `--base`")))?;
    let adds = adds
        .iter()
        .filter(|a| !a.trim().is_empty())
        .map(|a| AddSpec::parse(a).map_err(|m| invalid(m, None)))
        .collect::<Result<Vec<_>, _>>()?;
    if adds.is_empty() {
        return Err(invalid("nothing to add: give `--add SRC:DEST`", None));
    }
    let mut tags = Vec::new();
    for text in push.tags.iter().filter(|t| !t.trim().is_empty()) {
        let tag =
            ImageRef::parse(text).map_err(|e| invalid(e.to_string(), Some("check `--tag`")))?;
        if tag.digest.is_some() {
            return Err(invalid(
                format!(
                    "`--tag {text}` has a digest; a tag names where to push, the digest is computed"
                ),
                None,
            ));
        }
        if tag.tag.is_none() {
            return Err(invalid(
                format!("`--tag {text}` has no tag"),
                Some("write `REGISTRY/REPOSITORY:TAG`, e.g. the commit SHA"),
            ));
        }
        if let Some(first) = tags.first() {
            let first: &ImageRef = first;
            if first.registry_host() != tag.registry_host()
                || first.registry_repository() != tag.registry_repository()
            {
                return Err(invalid(
                    format!("`--tag {text}` names another repository than `--tag {first}`"),
                    Some("every `--tag` of one build must be in one repository"),
                ));
            }
        }
        tags.push(tag);
    }
    if tags.is_empty() {
        return Err(invalid("no `--tag` given", None));
    }
    let platforms = PlatformFilter::parse(&push.platforms).map_err(|m| invalid(m, None))?;
    let (mtime, created) = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) if !v.trim().is_empty() => {
            let secs: u64 = v.trim().parse().map_err(|_| {
                invalid(
                    format!("SOURCE_DATE_EPOCH `{v}` is not a number of seconds"),
                    None,
                )
            })?;
            let ms = i64::try_from(secs)
                .ok()
                .and_then(|s| s.checked_mul(1000))
                .ok_or_else(|| invalid(format!("SOURCE_DATE_EPOCH `{v}` is out of range"), None))?;
            (secs, Some(deckhand_core::time::format_utc(ms)))
        }
        _ => (DEFAULT_MTIME, None),
    };
    Ok(BuildSpec {
        base,
        adds,
        env: key_values(env, "--env")?,
        labels: key_values(&push.labels, "--label")?,
        tags,
        platforms,
        mtime,
        created,
        created_by,
    })
}

/// Reads what each `--add` names and plans the layer's files.
fn collect_layer_files(adds: &[AddSpec]) -> Result<Vec<LayerFile>, Fail> {
    let mut found = Vec::new();
    let mut roots = Vec::new();
    for add in adds {
        let src = PathBuf::from(&add.src);
        let meta = std::fs::metadata(&src).map_err(|e| {
            invalid(
                format!(
                    "`--add {}:{}`: cannot read `{}`: {e}",
                    add.src, add.dest, add.src
                ),
                None,
            )
        })?;
        if meta.is_dir() {
            let files = walk_with(&src, &skipped_by_default)
                .map_err(|m| invalid(format!("`--add {}:{}`: {m}", add.src, add.dest), None))?;
            found.push((
                add.clone(),
                Found::Dir(
                    files
                        .iter()
                        .map(|f| (f.key.clone(), f.executable))
                        .collect(),
                ),
            ));
            roots.push(
                files
                    .into_iter()
                    .map(|f| (f.key, f.path))
                    .collect::<HashMap<_, _>>(),
            );
        } else {
            found.push((
                add.clone(),
                Found::File {
                    executable: is_executable(&meta),
                },
            ));
            roots.push(HashMap::from([(String::new(), src)]));
        }
    }
    let entries = plan_layer(&found).map_err(|m| invalid(m, None))?;
    Ok(entries
        .into_iter()
        .map(|e| LayerFile {
            path: roots[e.add][&e.rel].clone(),
            name: e.name,
            mode: e.mode,
        })
        .collect())
}

/// The result of a build, on every exit path.
#[derive(Debug)]
pub(crate) struct ImageResult {
    pub(crate) command: &'static str,
    pub(crate) repository: String,
    pub(crate) verdict: Verdict,
    pub(crate) headline: String,
    pub(crate) problem: Option<Problem>,
    pub(crate) digest: Option<Digest>,
    pub(crate) image: Option<String>,
    pub(crate) tags: Vec<String>,
    pub(crate) platforms: Vec<String>,
    pub(crate) layer: Option<Value>,
    pub(crate) blobs: Vec<BlobStep>,
    pub(crate) tag_steps: Vec<TagStep>,
    /// The push plan as printed.
    pub(crate) plan_text: String,
    pub(crate) repository_created: bool,
    pub(crate) bytes_uploaded: u64,
    pub(crate) requests: u64,
}

impl ImageResult {
    pub(crate) fn new(command: &'static str, repository: String) -> Self {
        Self {
            command,
            repository,
            verdict: Verdict::Error,
            headline: String::new(),
            problem: None,
            digest: None,
            image: None,
            tags: Vec::new(),
            platforms: Vec::new(),
            layer: None,
            blobs: Vec::new(),
            tag_steps: Vec::new(),
            plan_text: String::new(),
            repository_created: false,
            bytes_uploaded: 0,
            requests: 0,
        }
    }

    pub(crate) fn fail(mut self, (verdict, problem): Fail) -> Self {
        self.verdict = verdict;
        self.headline.clone_from(&problem.message);
        self.problem = Some(problem);
        self
    }

    fn count(&self, wanted: fn(&BlobAction) -> bool) -> usize {
        // Before the plan's execution, counts show what it would do; they are only
        // published once it ran (or as a dry run's plan).
        self.blobs.iter().filter(|s| wanted(&s.action)).count()
    }

    pub(crate) fn outputs(&self) -> Vec<(&'static str, String)> {
        let status = ExitStatus::from(self.verdict);
        vec![
            ("verdict", self.verdict.as_str().to_string()),
            ("exit-code", status.code().to_string()),
            ("image", self.image.clone().unwrap_or_default()),
            (
                "digest",
                self.digest
                    .as_ref()
                    .map(Digest::to_string)
                    .unwrap_or_default(),
            ),
            ("tags", self.tags.join("\n")),
            ("bytes-uploaded", self.bytes_uploaded.to_string()),
            (
                "blobs-uploaded",
                self.count(|a| matches!(a, BlobAction::Upload)).to_string(),
            ),
            (
                "blobs-copied",
                self.count(|a| matches!(a, BlobAction::Copy)).to_string(),
            ),
            (
                "blobs-mounted",
                self.count(|a| matches!(a, BlobAction::Mount { .. }))
                    .to_string(),
            ),
            (
                "blobs-skipped",
                self.count(|a| matches!(a, BlobAction::Present)).to_string(),
            ),
            (
                "failure-report",
                self.problem
                    .as_ref()
                    .map(|p| p.message.clone())
                    .unwrap_or_default(),
            ),
            ("plan", self.plan_text.clone()),
        ]
    }

    pub(crate) fn markdown(&self) -> String {
        let icon = if self.verdict.is_ok() { "✅" } else { "❌" };
        let mut md = format!(
            "### {icon} {} `{}`: {}\n\n{}\n",
            self.command,
            self.repository,
            self.verdict.as_str(),
            self.headline
        );
        if let Some(image) = &self.image {
            md.push_str(&format!(
                "\n| image | platforms | bytes uploaded | blobs uploaded / copied / mounted / present |\n|---|---|---|---|\n| `{image}` | {} | {} | {} / {} / {} / {} |\n",
                self.platforms.join(", "),
                self.bytes_uploaded,
                self.count(|a| matches!(a, BlobAction::Upload)),
                self.count(|a| matches!(a, BlobAction::Copy)),
                self.count(|a| matches!(a, BlobAction::Mount { .. })),
                self.count(|a| matches!(a, BlobAction::Present)),
            ));
        }
        for t in &self.tag_steps {
            let what = match t.action {
                TagAction::Unchanged => "unchanged",
                TagAction::Put => "pushed",
            };
            md.push_str(&format!("\n- tag `{}`: {what}", t.tag));
        }
        if !self.tag_steps.is_empty() {
            md.push('\n');
        }
        if let Some(p) = &self.problem {
            md.push_str(&p.markdown());
        }
        md
    }

    pub(crate) fn json(
        &self,
        status: ExitStatus,
        ctx: Option<&AwsContext>,
        started: Instant,
    ) -> Value {
        let api_calls = ctx.map(|c| c.calls.snapshot()).unwrap_or_default();
        json!({
            "command": self.command,
            "repository": self.repository,
            "verdict": self.verdict.as_str(),
            "exit_code": status.code(),
            "headline": self.headline,
            "image": self.image,
            "digest": self.digest,
            "tags": self.tag_steps,
            "platforms": self.platforms,
            "layer": self.layer,
            "repository_created": self.repository_created,
            "blobs": self.blobs,
            "bytes_to_send": bytes_to_send(&self.blobs),
            "bytes_uploaded": self.bytes_uploaded,
            "registry_requests": self.requests,
            "error": self.problem.as_ref().map(|p| json!({"message": p.message, "hint": p.hint})),
            "api_calls": {"total": api_calls.values().sum::<u64>(), "by_operation": api_calls},
            "elapsed_seconds": started.elapsed().as_secs_f64(),
        })
    }

    /// Prints and publishes; returns the exit status.
    fn finish(self, printer: &Printer, ctx: Option<&AwsContext>, started: Instant) -> ExitStatus {
        let status = ExitStatus::from(self.verdict);
        self.print_headline(printer);
        printer.publish(&self.outputs(), IMAGE_BUILD_OUTPUTS, &self.markdown());
        if printer.is_json() {
            printer.json(&self.json(status, ctx, started));
        }
        status
    }

    pub(crate) fn print_headline(&self, printer: &Printer) {
        let title = format!("deckhand {} {}", self.command, self.repository);
        match &self.problem {
            Some(p) => printer.error_block(&title, &p.message, p.hint.as_deref()),
            None => printer.line(&format!("{}: {}", self.verdict.as_str(), self.headline)),
        }
    }
}

/// Registry access for one build: which hosts are ECR, credentials (ECR's fetched once per
/// run), and one client per host.
pub(crate) struct Access {
    ecr_hosts: Vec<String>,
    options: RegistryOptions,
    region: Option<String>,
    pub(crate) ctx: Option<AwsContext>,
    ecr_credentials: Option<Credentials>,
    clients: HashMap<String, Arc<Registry>>,
}

impl Access {
    pub(crate) fn new(push: &PushArgs, region: Option<String>) -> Self {
        Self {
            ecr_hosts: push
                .ecr_registry
                .iter()
                .map(|h| h.trim().to_string())
                .filter(|h| !h.is_empty())
                .collect(),
            options: RegistryOptions {
                insecure_hosts: push
                    .insecure_registry
                    .iter()
                    .map(|h| h.trim().to_string())
                    .collect(),
                chunk_threshold: push.upload_chunk_threshold,
                ..RegistryOptions::default()
            },
            region,
            ctx: None,
            ecr_credentials: None,
            clients: HashMap::new(),
        }
    }

    pub(crate) fn is_ecr(&self, host: &str) -> bool {
        parse_ecr_host(host).is_some() || self.ecr_hosts.iter().any(|h| h == host)
    }

    pub(crate) async fn aws(&mut self) -> Result<&AwsContext, Fail> {
        if self.ctx.is_none() {
            let ctx = super::result::aws_context(self.region.clone())
                .await
                .map_err(|p| (Verdict::InvalidInput, p))?;
            self.ctx = Some(ctx);
        }
        Ok(self.ctx.as_ref().expect("set above"))
    }

    pub(crate) async fn ecr(&mut self) -> Result<EcrAdapter, Fail> {
        Ok(EcrAdapter::new(self.aws().await?))
    }

    /// ECR credentials from GetAuthorizationToken: fetched once and kept for the run (a token
    /// lives 12 hours; a build takes minutes), the password masked before anything prints.
    pub(crate) async fn ecr_credentials(&mut self, printer: &Printer) -> Result<Credentials, Fail> {
        if let Some(c) = &self.ecr_credentials {
            return Ok(c.clone());
        }
        let auth = self.ecr().await?.authorization().await.map_err(failed)?;
        let credentials = deckhand_oci::client::credentials_from_token(&auth.token)
            .map_err(|m| failed(format!("the ECR authorization token is unusable: {m}")))?;
        printer.mask(&[auth.token.clone(), credentials.password.clone()]);
        self.ecr_credentials = Some(credentials.clone());
        Ok(credentials)
    }

    async fn credentials(
        &mut self,
        host: &str,
        printer: &Printer,
    ) -> Result<Option<Credentials>, Fail> {
        if self.is_ecr(host) {
            return self.ecr_credentials(printer).await.map(Some);
        }
        Ok(docker_config_credentials(host))
    }

    pub(crate) async fn client(
        &mut self,
        host: &str,
        printer: &Printer,
    ) -> Result<Arc<Registry>, Fail> {
        if let Some(c) = self.clients.get(host) {
            return Ok(c.clone());
        }
        let credentials = self.credentials(host, printer).await?;
        let client =
            Arc::new(Registry::new(host, credentials, self.options.clone()).map_err(failed)?);
        self.clients.insert(host.to_string(), client.clone());
        Ok(client)
    }
}

/// Basic credentials for `host` from Docker's config.json (`$DOCKER_CONFIG` or `~/.docker`),
/// as `docker login` leaves them; credential helpers are not run.
fn docker_config_credentials(host: &str) -> Option<Credentials> {
    let dir = std::env::var_os("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".docker")))?;
    let text = std::fs::read_to_string(dir.join("config.json")).ok()?;
    let config: Value = serde_json::from_str(&text).ok()?;
    let auths = config.get("auths")?.as_object()?;
    let names: Vec<String> = if host == deckhand_core::image_ref::DOCKER_HUB {
        vec![
            "https://index.docker.io/v1/".into(),
            "docker.io".into(),
            host.into(),
        ]
    } else {
        vec![
            host.into(),
            format!("https://{host}"),
            format!("http://{host}"),
        ]
    };
    names.iter().find_map(|n| {
        let token = auths.get(n)?.get("auth")?.as_str()?;
        deckhand_oci::client::credentials_from_token(token).ok()
    })
}

/// The base as fetched: its top manifest, and each selected image.
struct ResolvedBase {
    top: Value,
    top_kind: ManifestKind,
    images: Vec<BaseImage>,
}

struct BaseImage {
    /// Position in the base index (0 for a single manifest).
    position: usize,
    platform: Option<Platform>,
    manifest: Value,
    kind: ManifestKind,
    config: Vec<u8>,
}

fn parse_manifest(
    bytes: &[u8],
    content_type: Option<&str>,
    what: &str,
) -> Result<(Value, ManifestKind), Fail> {
    let doc: Value =
        serde_json::from_slice(bytes).map_err(|e| failed(format!("{what} is not JSON: {e}")))?;
    let kind =
        manifest_kind(&doc, content_type).map_err(|m| invalid(format!("{what}: {m}"), None))?;
    Ok((doc, kind))
}

async fn resolve_base(
    base: &ImageRef,
    registry: &Registry,
    platforms: &PlatformFilter,
) -> Result<ResolvedBase, Fail> {
    let repo = base.registry_repository();
    let fetched = registry
        .get_manifest(&repo, base.manifest_reference())
        .await
        .map_err(|e| base_error(base, e))?;
    let (top, top_kind) = parse_manifest(
        &fetched.bytes,
        fetched.content_type.as_deref(),
        &format!("the base `{base}`"),
    )?;
    let mut images = Vec::new();
    if top_kind.is_index() {
        let entries = top
            .get("manifests")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let entry_platforms: Vec<Option<Platform>> =
            entries.iter().map(Platform::of_descriptor).collect();
        let picked = platforms
            .select(&entry_platforms)
            .map_err(|m| invalid(format!("base `{base}`: {m}"), Some("check `--platform`")))?;
        for position in picked {
            let entry = &entries[position];
            let digest = entry
                .get("digest")
                .and_then(Value::as_str)
                .and_then(|d| Digest::parse(d).ok())
                .ok_or_else(|| {
                    failed(format!(
                        "the base index `{base}` has an entry without a valid digest"
                    ))
                })?;
            let child = registry
                .get_manifest(&repo, digest.as_str())
                .await
                .map_err(|e| base_error(base, e))?;
            let (manifest, kind) = parse_manifest(
                &child.bytes,
                child.content_type.as_deref(),
                &format!("base manifest {digest}"),
            )?;
            if kind.is_index() {
                return Err(invalid(
                    format!(
                        "the base index `{base}` nests another index; deckhand builds on one level"
                    ),
                    None,
                ));
            }
            let config = fetch_config(registry, &repo, &manifest, base).await?;
            images.push(BaseImage {
                position,
                platform: entry_platforms[position].clone(),
                manifest,
                kind,
                config,
            });
        }
    } else {
        if let PlatformFilter::Only(wanted) = platforms {
            let _ = wanted; // checked against the config below
        }
        let config = fetch_config(registry, &repo, &top, base).await?;
        let platform = config_platform(&config);
        if let (PlatformFilter::Only(_), Some(p)) = (platforms, &platform) {
            platforms
                .select(std::slice::from_ref(&Some(p.clone())))
                .map_err(|m| invalid(format!("base `{base}`: {m}"), Some("check `--platform`")))?;
        }
        images.push(BaseImage {
            position: 0,
            platform,
            manifest: top.clone(),
            kind: top_kind,
            config,
        });
    }
    Ok(ResolvedBase {
        top,
        top_kind,
        images,
    })
}

fn config_platform(config: &[u8]) -> Option<Platform> {
    let v: Value = serde_json::from_slice(config).ok()?;
    Some(Platform {
        os: v.get("os")?.as_str()?.to_string(),
        architecture: v.get("architecture")?.as_str()?.to_string(),
        variant: v.get("variant").and_then(Value::as_str).map(str::to_string),
    })
}

async fn fetch_config(
    registry: &Registry,
    repo: &str,
    manifest: &Value,
    base: &ImageRef,
) -> Result<Vec<u8>, Fail> {
    let digest = manifest
        .pointer("/config/digest")
        .and_then(Value::as_str)
        .and_then(|d| Digest::parse(d).ok())
        .ok_or_else(|| {
            failed(format!(
                "a manifest of the base `{base}` has no valid config digest"
            ))
        })?;
    registry
        .get_blob(repo, &digest)
        .await
        .map_err(|e| base_error(base, e))
}

fn base_error(base: &ImageRef, e: OciError) -> Fail {
    match e.code() {
        Some("MANIFEST_UNKNOWN" | "NAME_UNKNOWN") => invalid(
            format!("the base image `{base}` was not found: {e}"),
            Some("check `--base` (name, tag, and registry)"),
        ),
        _ => failed(format!("reading the base image `{base}`: {e}")),
    }
}

/// The built image: every object it adds, and the final digest.
struct BuiltImage {
    /// Blobs in push order: base layers, the new layer, configs.
    blobs: Vec<BlobRef>,
    /// Bytes of the blobs this build made.
    built: HashMap<Digest, Bytes>,
    /// Child manifests (when the base is an index), pushed by digest before the top.
    children: Vec<(Digest, &'static str, Bytes)>,
    /// The manifest tags point at.
    top: (Digest, &'static str, Bytes),
    platforms: Vec<String>,
}

fn derive_image(
    base: &ResolvedBase,
    layer: &deckhand_oci::layer::BuiltLayer,
    spec: &BuildSpec,
) -> Result<BuiltImage, Fail> {
    let mut blobs = Vec::new();
    let mut built = HashMap::new();
    let mut children = Vec::new();
    let mut derived = Vec::new();
    let edits = ConfigEdits {
        labels: spec.labels.clone(),
        env: spec.env.clone(),
        created_by: spec.created_by.clone(),
        created: spec.created.clone(),
    };
    let layer_bytes = Bytes::from(layer.bytes.clone());
    built.insert(layer.blob.digest.clone(), layer_bytes);
    let mut platforms = Vec::new();
    for image in &base.images {
        let label = image
            .platform
            .as_ref()
            .map_or_else(|| "image".to_string(), Platform::to_string);
        platforms.push(label.clone());
        for l in image
            .manifest
            .get("layers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let digest = l
                .get("digest")
                .and_then(Value::as_str)
                .and_then(|d| Digest::parse(d).ok())
                .ok_or_else(|| failed("a base layer has no valid digest"))?;
            let size = l.get("size").and_then(Value::as_u64).unwrap_or(0);
            blobs.push(BlobRef {
                digest,
                size,
                origin: BlobOrigin::Base,
                role: format!("base layer ({label})"),
            });
        }
        let config = derive_config(&image.config, &layer.blob, &edits)
            .map_err(|m| failed(format!("base config ({label}): {m}")))?;
        let config_digest = Digest::of(&config);
        let manifest = derive_manifest(
            &image.manifest,
            image.kind,
            &config_digest,
            config.len() as u64,
            &layer.blob,
        )
        .map_err(|m| failed(format!("base manifest ({label}): {m}")))?;
        blobs.push(BlobRef {
            digest: config_digest.clone(),
            size: config.len() as u64,
            origin: BlobOrigin::Built,
            role: format!("config ({label})"),
        });
        built.insert(config_digest, Bytes::from(config));
        let digest = Digest::of(&manifest);
        derived.push(BuiltChild {
            position: image.position,
            digest: digest.clone(),
            size: manifest.len() as u64,
        });
        children.push((digest, image.kind.media_type(), Bytes::from(manifest)));
    }
    // The new layer goes after the base layers (it needs nothing) and before configs.
    let first_config = blobs
        .iter()
        .position(|b| b.origin == BlobOrigin::Built)
        .unwrap_or(blobs.len());
    blobs.insert(
        first_config,
        BlobRef {
            digest: layer.blob.digest.clone(),
            size: layer.blob.size,
            origin: BlobOrigin::Built,
            role: "layer".into(),
        },
    );
    let top = if base.top_kind.is_index() {
        let index = derive_index(&base.top, base.top_kind, &derived)
            .map_err(|m| failed(format!("base index: {m}")))?;
        (
            Digest::of(&index),
            base.top_kind.media_type(),
            Bytes::from(index),
        )
    } else {
        children.pop().expect("one image")
    };
    Ok(BuiltImage {
        blobs,
        built,
        children,
        top,
        platforms,
    })
}

/// What the target repository is, before anything is pushed.
struct Target {
    host: String,
    repo: String,
    /// ECR: the repository as DescribeRepositories shows it; None when it must be created.
    ecr: Option<Option<EcrRepository>>,
}

/// Runs a build to its result. `printer` shows progress; the caller publishes.
pub(crate) async fn run_build(
    spec: &BuildSpec,
    push: &PushArgs,
    access: &mut Access,
    printer: &Printer,
    result: &mut ImageResult,
) -> Result<(), Fail> {
    let target_ref = &spec.tags[0];
    let mut target = Target {
        host: target_ref.registry_host().to_string(),
        repo: target_ref.registry_repository(),
        ecr: None,
    };
    // Observe the target first: a missing ECR repository is bad input, found before the base
    // is downloaded.
    if access.is_ecr(&target.host) {
        validate_repository_name(&target.repo).map_err(|m| invalid(m, Some("check `--tag`")))?;
        let registry_id = parse_ecr_host(&target.host).map(|h| h.account);
        let repository = access
            .ecr()
            .await?
            .repository(&target.repo, registry_id.as_deref())
            .await
            .map_err(failed)?;
        if repository.is_none() && !push.ecr_create {
            return Err(invalid(
                format!("ECR repository `{}` does not exist", target.repo),
                Some("create it, or pass `--ecr-create` to create it on push"),
            ));
        }
        target.ecr = Some(repository);
    }

    let files = collect_layer_files(&spec.adds)?;
    let layer = build_layer(&files, spec.mtime).map_err(|e| invalid(e.to_string(), None))?;
    result.layer = Some(json!({
        "digest": layer.blob.digest,
        "diff_id": layer.blob.diff_id,
        "size": layer.blob.size,
        "files": files.len(),
    }));
    printer.line(&format!(
        "layer: {} files, {} bytes compressed ({})",
        files.len(),
        layer.blob.size,
        layer.blob.digest.short()
    ));

    let base_host = spec.base.registry_host().to_string();
    let source = access.client(&base_host, printer).await?;
    let base = resolve_base(&spec.base, &source, &spec.platforms).await?;
    let image = derive_image(&base, &layer, spec)?;
    let final_digest = image.top.0.clone();
    result.platforms.clone_from(&image.platforms);
    result.digest = Some(final_digest.clone());
    result.image = Some(format!("{}/{}@{final_digest}", target.host, target.repo));
    printer.line(&format!(
        "image: {} ({})",
        final_digest,
        image.platforms.join(", ")
    ));

    let registry = access.client(&target.host, printer).await?;
    let repository_exists = !matches!(target.ecr, Some(None));
    let mut current = Vec::new();
    for tag in &spec.tags {
        let name = tag.tag.clone().expect("validated");
        let digest = if repository_exists {
            registry
                .head_manifest(&target.repo, &name)
                .await
                .map_err(failed)?
        } else {
            None
        };
        current.push((name, digest));
    }
    let (mutability, filters) = match &target.ecr {
        Some(Some(r)) => (r.tag_mutability.clone(), r.exclusion_filters.clone()),
        _ => ("MUTABLE".to_string(), Vec::new()),
    };
    let tag_steps = plan_tags(&target.repo, &current, &final_digest, |t| {
        tag_is_immutable(&mutability, &filters, t)
    })
    .map_err(|e| {
        (
            Verdict::Failed,
            Problem::new(
                e.to_string(),
                Some(
                    "push under a new tag (for example the commit SHA), or make the tag mutable"
                        .into(),
                ),
            ),
        )
    })?;
    result.tags = spec.tags.iter().map(ToString::to_string).collect();
    result.tag_steps.clone_from(&tag_steps);
    let up_to_date = tag_steps.iter().all(|t| t.action == TagAction::Unchanged);
    if up_to_date {
        result.verdict = Verdict::NoChange;
        result.headline = format!(
            "`{}` already points at {final_digest}; nothing pushed",
            spec.tags
                .iter()
                .map(|t| t.tag.clone().unwrap_or_default())
                .collect::<Vec<_>>()
                .join("`, `")
        );
        return Ok(());
    }

    // Blobs: none are needed when the target already has the image under another tag.
    let present: BTreeSet<Digest> = if repository_exists
        && registry
            .head_manifest(&target.repo, final_digest.as_str())
            .await
            .map_err(failed)?
            .is_some()
    {
        image.blobs.iter().map(|b| b.digest.clone()).collect()
    } else if repository_exists {
        let checks = futures_util::stream::iter(unique(&image.blobs))
            .map(|d| {
                let registry = registry.clone();
                let repo = target.repo.clone();
                async move { registry.blob_exists(&repo, &d).await.map(|e| (d, e)) }
            })
            .buffer_unordered(JOBS)
            .try_collect::<Vec<_>>()
            .await
            .map_err(failed)?;
        checks
            .into_iter()
            .filter(|(_, e)| *e)
            .map(|(d, _)| d)
            .collect()
    } else {
        BTreeSet::new()
    };
    let location = if base_host == target.host {
        BaseLocation::SameRegistry {
            repository: spec.base.registry_repository(),
        }
    } else {
        BaseLocation::OtherRegistry
    };
    result.blobs = plan_blobs(&image.blobs, &present, &location);
    result.plan_text = render_plan(result, &target.repo);
    printer.group(&format!(
        "deckhand {}: plan for `{}`",
        result.command, target.repo
    ));
    printer.block(result.plan_text.trim_end());
    printer.end_group();

    if push.dry_run {
        result.verdict = Verdict::DryRun;
        result.headline = format!(
            "would push {final_digest} ({} bytes of blobs); dry run, nothing pushed",
            bytes_to_send(&result.blobs)
        );
        return Ok(());
    }

    // Apply.
    if matches!(target.ecr, Some(None)) {
        let mutability = match push.ecr_tag_mutability {
            TagMutability::Mutable => "MUTABLE",
            TagMutability::Immutable => "IMMUTABLE",
        };
        let registry_id = parse_ecr_host(&target.host).map(|h| h.account);
        access
            .ecr()
            .await?
            .create_repository(
                &target.repo,
                registry_id.as_deref(),
                mutability,
                push.ecr_scan_on_push,
            )
            .await
            .map_err(failed)?;
        result.repository_created = true;
        printer.line(&format!(
            "created ECR repository `{}` ({mutability})",
            target.repo
        ));
    }
    let mut mounted_declined = Vec::new();
    {
        let steps: Vec<BlobStep> = result.blobs.clone();
        let outcomes = futures_util::stream::iter(steps)
            .map(|step| {
                let (registry, source, repo, built) = (
                    registry.clone(),
                    source.clone(),
                    target.repo.clone(),
                    &image.built,
                );
                let base_repo = spec.base.registry_repository();
                async move {
                    let d = &step.blob.digest;
                    match &step.action {
                        BlobAction::Present => Ok(None),
                        BlobAction::Upload => registry
                            .upload_blob(&repo, d, &built[d])
                            .await
                            .map(|()| None),
                        BlobAction::Copy => registry
                            .copy_blob(&source, &base_repo, &repo, d, step.blob.size)
                            .await
                            .map(|()| None),
                        BlobAction::Mount { from } => {
                            if registry.mount_blob(&repo, d, from).await? {
                                Ok(None)
                            } else {
                                // Declined (202): the registry cannot mount it; send the bytes.
                                registry
                                    .copy_blob(&source, &base_repo, &repo, d, step.blob.size)
                                    .await
                                    .map(|()| Some(d.clone()))
                            }
                        }
                    }
                }
            })
            .buffer_unordered(JOBS)
            .try_collect::<Vec<_>>()
            .await;
        let outcomes = outcomes
            .map_err(|e| failed(format!("pushing to `{}/{}`: {e}", target.host, target.repo)))?;
        mounted_declined.extend(outcomes.into_iter().flatten());
    }
    for step in &mut result.blobs {
        if mounted_declined.contains(&step.blob.digest) {
            step.action = BlobAction::Copy;
        }
    }
    for (digest, media_type, bytes) in &image.children {
        if image.top.0 != *digest {
            registry
                .put_manifest(&target.repo, digest.as_str(), media_type, bytes)
                .await
                .map_err(failed)?;
        }
    }
    // The top manifest goes up under its tags only: a PUT by tag stores it, and there is at
    // least one tag to write (an up-to-date build returned earlier).
    let (_, top_type, top_bytes) = &image.top;
    for step in tag_steps.iter().filter(|t| t.action == TagAction::Put) {
        registry
            .put_manifest(&target.repo, &step.tag, top_type, top_bytes)
            .await
            .map_err(|e| tag_error(&step.tag, e))?;
    }
    // Verify: every tag now resolves to the digest built.
    for step in &tag_steps {
        let now = registry
            .head_manifest(&target.repo, &step.tag)
            .await
            .map_err(failed)?;
        if now.as_ref() != Some(&final_digest) {
            return Err(failed(format!(
                "after the push, tag `{}` resolves to {} instead of {final_digest}",
                step.tag,
                now.map_or_else(|| "nothing".to_string(), |d| d.to_string())
            )));
        }
    }
    result.bytes_uploaded = registry.stats.bytes_sent.load(Ordering::Relaxed);
    result.requests = registry.stats.requests.load(Ordering::Relaxed)
        + if Arc::ptr_eq(&registry, &source) {
            0
        } else {
            source.stats.requests.load(Ordering::Relaxed)
        };
    result.verdict = Verdict::Succeeded;
    result.headline = format!(
        "pushed {} ({} bytes sent) as {}",
        final_digest,
        result.bytes_uploaded,
        tag_steps
            .iter()
            .filter(|t| t.action == TagAction::Put)
            .map(|t| format!("`{}`", t.tag))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

fn tag_error(tag: &str, e: OciError) -> Fail {
    if e.code() == Some("TAG_INVALID") {
        return (Verdict::Failed, Problem::new(format!("the registry refused tag `{tag}`: {e}"), Some("the tag is immutable and was pushed concurrently with another digest; push under a new tag".into())));
    }
    failed(e)
}

fn unique(blobs: &[BlobRef]) -> Vec<Digest> {
    let mut seen = BTreeSet::new();
    blobs
        .iter()
        .filter(|b| seen.insert(b.digest.clone()))
        .map(|b| b.digest.clone())
        .collect()
}

/// The push plan: each blob and what happens to it, then each tag.
fn render_plan(result: &ImageResult, repo: &str) -> String {
    let mut out = format!("push plan for `{repo}`:\n");
    for s in &result.blobs {
        let action = match &s.action {
            BlobAction::Present => "present".to_string(),
            BlobAction::Upload => "upload".to_string(),
            BlobAction::Copy => "copy from base registry".to_string(),
            BlobAction::Mount { from } => format!("mount from `{from}`"),
        };
        out.push_str(&format!(
            "  {} {:>10} bytes  {:<24} {action}\n",
            s.blob.digest.short(),
            s.blob.size,
            s.blob.role
        ));
    }
    for t in &result.tag_steps {
        out.push_str(&format!(
            "  tag `{}`: {}\n",
            t.tag,
            match t.action {
                TagAction::Put => "push",
                TagAction::Unchanged => "unchanged",
            }
        ));
    }
    out
}

/// The history entry: what went where in the image, never where it came from on this machine
/// (a checkout path would make every build's digest differ).
fn created_by(adds: &[String]) -> String {
    let dests: Vec<String> = adds
        .iter()
        .filter_map(|a| AddSpec::parse(a).ok())
        .map(|a| {
            if a.dest_is_dir {
                format!("{}/", a.dest.trim_end_matches('/'))
            } else {
                a.dest
            }
        })
        .collect();
    format!("deckhand image build: add {}", dests.join(" "))
}

/// `image build`.
pub(crate) async fn build(
    region: Option<String>,
    args: crate::cli::ImageBuildArgs,
    printer: &Printer,
) -> ExitStatus {
    let started = Instant::now();
    let repository = args.push.tags.first().cloned().unwrap_or_default();
    let mut result = ImageResult::new("image build", repository);
    let spec = match load_spec(
        &args.base,
        &args.adds,
        &args.env,
        &args.push,
        created_by(&args.adds),
    ) {
        Ok(s) => s,
        Err(f) => return result.fail(f).finish(printer, None, started),
    };
    result.repository = format!(
        "{}/{}",
        spec.tags[0].registry_host(),
        spec.tags[0].registry_repository()
    );
    let mut access = Access::new(&args.push, region);
    if let Err(f) = run_build(&spec, &args.push, &mut access, printer, &mut result).await {
        result = result.fail(f);
    }
    result.finish(printer, access.ctx.as_ref(), started)
}
