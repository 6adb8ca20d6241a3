//! `image build` (and the image half of `nginx build`): load -> observe (the target repository,
//! the base) -> build the layer and derive the image (core) -> plan the push (core) -> push
//! (`deckhand-oci`) -> verify the tags -> report.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use deckhand_aws::ecr::EcrRepository;
use deckhand_core::image_ref::ImageRef;
use deckhand_core::oci::derive::ConfigEdits;
use deckhand_core::oci::ecr::{parse_ecr_host, tag_is_immutable, validate_repository_name};
use deckhand_core::oci::image::{created_by, derive_image, unique_digests};
use deckhand_core::oci::layer::AddSpec;
use deckhand_core::oci::plan::{BaseLocation, TagAction, bytes_to_send, plan_blobs, plan_tags};
use deckhand_core::oci::report::{ImageReport, LayerSummary};
use deckhand_core::oci::smoke::SmokeOutcome;
use deckhand_core::oci::{Digest, PlatformChoice};
use deckhand_core::report::Report;
use deckhand_core::verdict::Verdict;
use deckhand_oci::image::{ImagePush, present_blobs, resolve_base, verify_tags};
use deckhand_oci::layer::{DEFAULT_MTIME, build_layer};

use super::smoke::{BuiltForSmoke, SmokeSettings};
use crate::cli::{ImageBuildArgs, PushArgs, TagMutability};
use crate::error::{CommandError, Result, end, fail};
use crate::local_files::layer_files;
use crate::printer::Printer;
use crate::registry_access::Access;

/// What to build, validated.
pub(crate) struct BuildSpec {
    pub(crate) base: ImageRef,
    pub(crate) adds: Vec<AddSpec>,
    pub(crate) tags: Vec<ImageRef>,
    pub(crate) platforms: PlatformChoice,
    pub(crate) mtime: u64,
    pub(crate) edits: ConfigEdits,
}

impl BuildSpec {
    /// `REGISTRY/REPOSITORY` of the tags.
    pub(crate) fn repository(&self) -> String {
        let t = &self.tags[0];
        format!("{}/{}", t.registry_host(), t.registry_repository())
    }
}

fn key_values(values: &[String], flag: &str) -> Result<Vec<(String, String)>> {
    values
        .iter()
        .filter(|v| !v.trim().is_empty())
        .map(|v| match v.split_once('=') {
            Some((k, val)) if !k.trim().is_empty() => Ok((k.trim().to_string(), val.to_string())),
            _ => Err(CommandError::invalid(format!(
                "`{flag} {v}` is not `KEY=VALUE`"
            ))),
        })
        .collect()
}

/// Validates everything that can be checked without a network. `created_by` names the
/// history entry (`None`: what the adds put where).
pub(crate) fn load_spec(
    base: &str,
    adds: &[String],
    env: &[String],
    push: &PushArgs,
    created: Option<String>,
) -> Result<BuildSpec> {
    let base = ImageRef::parse(base)
        .map_err(|e| CommandError::invalid(e.to_string()).hint("check `--base`"))?;
    let adds = adds
        .iter()
        .filter(|a| !a.trim().is_empty())
        .map(|a| AddSpec::parse(a).map_err(CommandError::invalid))
        .collect::<Result<Vec<_>>>()?;
    if adds.is_empty() {
        return Err(CommandError::invalid(
            "nothing to add: give `--add SRC:DEST`",
        ));
    }
    let mut tags: Vec<ImageRef> = Vec::new();
    for text in push.tags.iter().filter(|t| !t.trim().is_empty()) {
        let tag = ImageRef::parse(text)
            .map_err(|e| CommandError::invalid(e.to_string()).hint("check `--tag`"))?;
        if tag.digest.is_some() {
            return Err(CommandError::invalid(format!(
                "`--tag {text}` has a digest; a tag names where to push, the digest is computed"
            )));
        }
        if tag.tag.is_none() {
            return Err(CommandError::invalid(format!("`--tag {text}` has no tag"))
                .hint("write `REGISTRY/REPOSITORY:TAG`, e.g. the commit SHA"));
        }
        if let Some(first) = tags.first()
            && (first.registry_host() != tag.registry_host()
                || first.registry_repository() != tag.registry_repository())
        {
            return Err(CommandError::invalid(format!(
                "`--tag {text}` names another repository than `--tag {first}`"
            ))
            .hint("every `--tag` of one build must be in one repository"));
        }
        tags.push(tag);
    }
    if tags.is_empty() {
        return Err(CommandError::invalid("no `--tag` given"));
    }
    let platforms = PlatformChoice::from_flag(&push.platforms).map_err(CommandError::invalid)?;
    let (mtime, created_at) = source_date_epoch()?;
    Ok(BuildSpec {
        edits: ConfigEdits {
            labels: key_values(&push.labels, "--label")?,
            env: key_values(env, "--env")?,
            created_by: created.unwrap_or_else(|| created_by(&adds)),
            created: created_at,
        },
        base,
        adds,
        tags,
        platforms,
        mtime,
    })
}

/// `SOURCE_DATE_EPOCH`: the layer's mtime and the image's `created`, for reproducible builds.
fn source_date_epoch() -> Result<(u64, Option<String>)> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) if !v.trim().is_empty() => {
            let secs: u64 = v.trim().parse().map_err(|_| {
                CommandError::invalid(format!(
                    "SOURCE_DATE_EPOCH `{v}` is not a number of seconds"
                ))
            })?;
            let ms = i64::try_from(secs)
                .ok()
                .and_then(|s| s.checked_mul(1000))
                .ok_or_else(|| {
                    CommandError::invalid(format!("SOURCE_DATE_EPOCH `{v}` is out of range"))
                })?;
            Ok((secs, Some(deckhand_core::time::format_utc(ms))))
        }
        _ => Ok((DEFAULT_MTIME, None)),
    }
}

/// The target repository before anything is pushed: ECR's as DescribeRepositories shows it
/// (`Some(None)`: it must be created), nothing for other registries.
async fn observe_target(
    access: &mut Access,
    host: &str,
    repo: &str,
    push: &PushArgs,
) -> Result<Option<Option<EcrRepository>>> {
    if !access.is_ecr(host) {
        return Ok(None);
    }
    validate_repository_name(repo).map_err(|m| CommandError::invalid(m).hint("check `--tag`"))?;
    let registry_id = parse_ecr_host(host).map(|h| h.account);
    let repository = access
        .ecr()
        .await?
        .repository(repo, registry_id.as_deref())
        .await?;
    if repository.is_none() && !push.ecr_create {
        return Err(
            CommandError::invalid(format!("ECR repository `{repo}` does not exist"))
                .on(repo)
                .hint("create it, or pass `--ecr-create` to create it on push"),
        );
    }
    Ok(Some(repository))
}

/// Runs a build to its verdict; `report` learns the image, the plan and what was sent.
/// `command` names it in the log.
pub(crate) async fn run_build(
    command: &str,
    spec: &BuildSpec,
    push: &PushArgs,
    smoke: Option<&SmokeSettings>,
    access: &mut Access,
    printer: &Printer,
    report: &mut ImageReport,
) -> Result<(Verdict, String)> {
    let (host, repo) = (
        spec.tags[0].registry_host().to_string(),
        spec.tags[0].registry_repository(),
    );
    // Observe the target first: a missing ECR repository is bad input, found before the base
    // is downloaded.
    let ecr = observe_target(access, &host, &repo, push).await?;
    let repository_exists = !matches!(ecr, Some(None));

    let files = layer_files(&spec.adds)?;
    let layer =
        build_layer(&files, spec.mtime).map_err(|e| CommandError::invalid(e.to_string()))?;
    report.layer = Some(LayerSummary {
        digest: layer.blob.digest.clone(),
        diff_id: layer.blob.diff_id.clone(),
        size: layer.blob.size,
        files: files.len(),
    });
    printer.line(&format!(
        "layer: {} files, {} bytes compressed ({})",
        files.len(),
        layer.blob.size,
        layer.blob.digest.short()
    ));

    let base_host = spec.base.registry_host().to_string();
    let source = access.client(&base_host, printer).await?;
    let base = resolve_base(&source, &spec.base, &spec.platforms).await?;
    let image = derive_image(&base, &layer.blob, &spec.edits).map_err(CommandError::failed)?;
    let digest = image.top.digest.clone();
    report.platforms.clone_from(&image.platforms);
    report.platform_sizes.clone_from(&image.platform_sizes);
    report.platform_origin = Some(spec.platforms.origin_for(base.top_kind.is_index()));
    report.digest = Some(digest.clone());
    report.image = Some(format!("{host}/{repo}@{digest}"));
    printer.line(&format!("image: {digest} ({})", image.platforms.join(", ")));

    let registry = access.client(&host, printer).await?;
    let mut current = Vec::new();
    for tag in &spec.tags {
        let name = tag.tag.clone().expect("validated");
        let now = match repository_exists {
            true => registry.head_manifest(&repo, &name).await?,
            false => None,
        };
        current.push((name, now));
    }
    let (mutability, filters) = match &ecr {
        Some(Some(r)) => (r.tag_mutability.clone(), r.exclusion_filters.clone()),
        _ => ("MUTABLE".to_string(), Vec::new()),
    };
    let tag_steps = plan_tags(&repo, &current, &digest, |t| {
        tag_is_immutable(&mutability, &filters, t)
    })
    .map_err(|e| {
        CommandError::failed(e.to_string())
            .with_verdict(Verdict::Failed)
            .hint("push under a new tag (for example the commit SHA), or make the tag mutable")
    })?;
    report.tags = spec.tags.iter().map(ToString::to_string).collect();
    report.tag_steps.clone_from(&tag_steps);
    if tag_steps.iter().all(|t| t.action == TagAction::Unchanged) {
        let names: Vec<&str> = tag_steps.iter().map(|t| t.tag.as_str()).collect();
        return Ok((
            Verdict::NoChange,
            format!(
                "`{}` already points at {digest}; nothing pushed",
                names.join("`, `")
            ),
        ));
    }

    // Plan the blobs: none are needed when the target already has the image under another tag.
    let present = match repository_exists {
        true => present_blobs(&registry, &repo, &digest, unique_digests(&image.blobs)).await?,
        false => BTreeSet::new(),
    };
    let location = if base_host == host {
        BaseLocation::SameRegistry {
            repository: spec.base.registry_repository(),
        }
    } else {
        BaseLocation::OtherRegistry
    };
    report.blobs = plan_blobs(&image.blobs, &present, &location);
    printer.group(&format!("deckhand {command}: plan for `{repo}`"));
    printer.block(report.plan_text().trim_end());
    printer.end_group();

    // The smoke run, after the plan (so a dry run proves the image serves too) and before the
    // push: a red run leaves the registry and the service as they were.
    if let Some(settings) = smoke {
        let built = BuiltForSmoke {
            base: &base,
            source: &source,
            base_repository: spec.base.registry_repository(),
            layer: &layer.blob,
            layer_bytes: &layer.bytes,
            edits: &spec.edits,
        };
        let result = super::smoke::run(settings, built, printer).await?;
        printer.line(&result.line());
        let failed = result.outcome == SmokeOutcome::Failed;
        let message = result.failure_message(&format!("{host}/{repo}@{digest}"));
        report.smoke = Some(result);
        if failed {
            return Err(CommandError::invalid(message).on(format!("{host}/{repo}")).hint(
                "run the image as the smoke run did and fix what it says (nginx: `root`, `index`, `listen` and the html directory), or pass `--skip-smoke`",
            ));
        }
    }
    if push.dry_run {
        return Ok((
            Verdict::DryRun,
            format!(
                "would push {digest} ({} bytes of blobs); dry run, nothing pushed",
                bytes_to_send(&report.blobs)
            ),
        ));
    }

    // Apply.
    if matches!(ecr, Some(None)) {
        let mutability = match push.ecr_tag_mutability {
            TagMutability::Mutable => "MUTABLE",
            TagMutability::Immutable => "IMMUTABLE",
        };
        let registry_id = parse_ecr_host(&host).map(|h| h.account);
        access
            .ecr()
            .await?
            .create_repository(
                &repo,
                registry_id.as_deref(),
                mutability,
                push.ecr_scan_on_push,
            )
            .await?;
        report.repository_created = true;
        printer.line(&format!("created ECR repository `{repo}` ({mutability})"));
    }
    let mut built: HashMap<Digest, Bytes> = image
        .configs
        .iter()
        .map(|(d, b)| (d.clone(), Bytes::from(b.clone())))
        .collect();
    built.insert(layer.blob.digest.clone(), Bytes::from(layer.bytes));
    let put_tags: Vec<String> = tag_steps
        .iter()
        .filter(|t| t.action == TagAction::Put)
        .map(|t| t.tag.clone())
        .collect();
    let declined = ImagePush {
        target: &registry,
        repository: &repo,
        source: &source,
        base_repository: &spec.base.registry_repository(),
        blobs: &report.blobs,
        built: &built,
        children: &image.children,
        top: &image.top,
        tags: &put_tags,
    }
    .run()
    .await?;
    report.record_declined_mounts(&declined);
    let all_tags: Vec<String> = tag_steps.iter().map(|t| t.tag.clone()).collect();
    verify_tags(&registry, &repo, &all_tags, &digest)
        .await
        .map_err(CommandError::failed)?;
    report.bytes_uploaded = registry.stats.bytes_sent.load(Ordering::Relaxed);
    report.registry_requests = registry.stats.requests.load(Ordering::Relaxed)
        + if Arc::ptr_eq(&registry, &source) {
            0
        } else {
            source.stats.requests.load(Ordering::Relaxed)
        };
    let pushed: Vec<String> = put_tags.iter().map(|t| format!("`{t}`")).collect();
    Ok((
        Verdict::Succeeded,
        format!(
            "pushed {digest} ({} bytes sent) as {}",
            report.bytes_uploaded,
            pushed.join(", ")
        ),
    ))
}

/// `image build`.
pub(crate) async fn build(
    region: Option<String>,
    args: ImageBuildArgs,
    printer: &Printer,
) -> Report<ImageReport> {
    let first_tag = args.push.tags.first().cloned().unwrap_or_default();
    let mut report = super::aws_report("image build", ImageReport::new(first_tag));
    let spec = match load_spec(&args.base, &args.adds, &args.env, &args.push, None) {
        Ok(s) => s,
        Err(e) => {
            fail(&mut report, e);
            return report;
        }
    };
    report.details.repository = spec.repository();
    // `image build` runs the smoke run only when asked: an arbitrary image may not serve HTTP.
    let asked = args.smoke.smoke_path.is_some() || args.smoke.smoke_port.is_some();
    let smoke = match asked.then(|| SmokeSettings::load(&args.smoke, "/", None, true)) {
        Some(Err(e)) => {
            fail(&mut report, e);
            return report;
        }
        Some(Ok(s)) => Some(s),
        None => None,
    };
    let mut access = Access::new(&args.push, region);
    let details = &mut report.details;
    let outcome = run_build(
        "image build",
        &spec,
        &args.push,
        smoke.as_ref(),
        &mut access,
        printer,
        details,
    )
    .await;
    end(&mut report, outcome);
    report.api_calls = Some(access.api_calls());
    report
}
