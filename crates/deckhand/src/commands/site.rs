//! `site deploy`: load (flags, rules, the built files) -> observe (the listing, the manifest,
//! each distribution's origin path) -> plan (core: the sync, the invalidations) -> apply in the
//! safe order (assets, entry points, invalidation, deletes, manifest) -> wait -> report.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use deckhand_aws::cloudfront::CloudFrontAdapter;
use deckhand_aws::s3::{Body, ObjectWrite, PutHeaders, S3Adapter, Source};
use deckhand_core::deployment_record::RecordSpec;
use deckhand_core::duration::parse_duration;
use deckhand_core::report::Report;
use deckhand_core::site::inputs::{
    normalize_prefix, parse_max_delete, pick_origin_path, validate_bucket_name,
};
use deckhand_core::site::manifest::Manifest;
use deckhand_core::site::plan::{LocalFile, RemoteObject, SitePlan, SyncOptions, plan_sync};
use deckhand_core::site::report::{SentInvalidation, SiteReport, plan_invalidations};
use deckhand_core::site::rules::{Compression, SiteRules};
use deckhand_core::verdict::Verdict;

use crate::cli::SiteDeployArgs;
use crate::error::{CommandError, Result, end, fail};
use crate::github;
use crate::local_files::{SourceFile, compress, walk};
use crate::printer::Printer;

/// The manifest's key under the prefix.
const MANIFEST_KEY: &str = ".deckhand/manifest.json";
/// Time between GetInvalidation polls with `--wait`.
const INVALIDATION_POLL: Duration = Duration::from_secs(5);

/// Validated inputs, the built site read and hashed; nothing has touched AWS yet.
struct Loaded {
    prefix: String,
    rules: SiteRules,
    sync: SyncOptions,
    wait_timeout: Duration,
    files: Vec<SourceFile>,
}

fn load(args: &SiteDeployArgs) -> Result<Loaded> {
    validate_bucket_name(&args.bucket)
        .map_err(|m| CommandError::invalid(m).hint("check `--bucket`"))?;
    let prefix = normalize_prefix(&args.prefix).map_err(CommandError::invalid)?;
    let rules = match &args.config {
        None => SiteRules::default(),
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                CommandError::invalid(format!("cannot read rules file `{}`: {e}", path.display()))
                    .hint("check `--config`")
            })?;
            SiteRules::parse(path, &text).map_err(|e| {
                CommandError::invalid(e.to_string())
                    .hint("see docs/static-site.md for the rules format")
            })?
        }
    };
    let max_delete = parse_max_delete(args.max_delete.as_deref()).map_err(CommandError::invalid)?;
    let wait_timeout = parse_duration(&args.wait_timeout)
        .map_err(|e| CommandError::invalid(format!("`--wait-timeout`: {e}")))?;
    if args.concurrency == 0 {
        return Err(CommandError::invalid("`--concurrency` must be at least 1"));
    }
    let files = walk(&args.dir, &rules)
        .map_err(|m| CommandError::invalid(m).hint("`--dir` must be the built site"))?;
    Ok(Loaded {
        prefix,
        rules,
        sync: SyncOptions {
            delete: args.delete,
            max_delete,
            keep_previous: args.keep_previous,
        },
        wait_timeout,
        files,
    })
}

/// `site deploy`, with its GitHub deployment record when one is wanted (docs/github.md).
pub(crate) async fn deploy(
    region: Option<String>,
    args: SiteDeployArgs,
    printer: &Printer,
) -> Report<SiteReport> {
    // The site is read and hashed once, before the record: no record for a dry run or for
    // input that fails validation (nothing is changed then).
    let loaded = load(&args);
    let spec = (!args.dry_run && loaded.is_ok())
        .then(|| RecordSpec::site_deploy(&args.bucket, &args.prefix));
    github::recorded(&args.github, spec, printer, async || {
        deploy_once(region, &args, loaded, printer).await
    })
    .await
}

async fn deploy_once(
    region: Option<String>,
    args: &SiteDeployArgs,
    loaded: Result<Loaded>,
    printer: &Printer,
) -> Report<SiteReport> {
    let mut report = super::aws_report(
        "site deploy",
        SiteReport {
            bucket: args.bucket.clone(),
            prefix: args.prefix.clone(),
            ..SiteReport::default()
        },
    );
    let loaded = match loaded {
        Ok(l) => l,
        Err(e) => {
            fail(&mut report, e);
            return report;
        }
    };
    report.details.prefix.clone_from(&loaded.prefix);
    let ctx = match super::aws_context(region).await {
        Ok(ctx) => ctx,
        Err(e) => {
            fail(&mut report, e);
            return report;
        }
    };
    let (s3, cf) = (S3Adapter::new(&ctx), CloudFrontAdapter::new(&ctx));
    let outcome = run(args, &loaded, &s3, &cf, printer, &mut report.details).await;
    end(&mut report, outcome);
    report.api_calls = Some(ctx.calls.snapshot());
    report
}

/// Observe, plan, apply, wait: the verdict and the headline.
async fn run(
    args: &SiteDeployArgs,
    l: &Loaded,
    s3: &S3Adapter,
    cf: &CloudFrontAdapter,
    printer: &Printer,
    report: &mut SiteReport,
) -> Result<(Verdict, String)> {
    let bucket = &args.bucket;
    let (manifest, remote) = observe_bucket(s3, bucket, &l.prefix).await?;
    let origins = observe_origins(cf, &args.distribution_ids, bucket, printer).await?;

    // Plan.
    let local: Vec<LocalFile> = l
        .files
        .iter()
        .map(|f| LocalFile {
            key: f.key.clone(),
            sha256: f.sha256.clone(),
            size: f.size,
        })
        .collect();
    let mut plan = plan_sync(&local, &l.rules, &manifest, &remote, &l.sync)
        .map_err(|e| CommandError::invalid(e.to_string()).hint_opt(e.hint()))?;
    report.invalidations = plan_invalidations(&plan, &l.prefix, &origins);
    report.plan = Some(plan.clone());
    printer.block(&report.plan_text());
    if args.dry_run {
        return Ok((
            Verdict::DryRun,
            "dry run: the plan above was not applied".into(),
        ));
    }
    if plan.is_no_op() {
        return Ok((
            Verdict::NoChange,
            format!(
                "nothing to upload: {} files already in place",
                plan.unchanged
            ),
        ));
    }

    // Apply, in order: assets, entry points, invalidation, deletes, manifest. A failure stops
    // here with the manifest unwritten, so a re-run redoes exactly what is missing.
    for entry_phase in [false, true] {
        let writes = phase_writes(&plan, &l.files, &l.prefix, entry_phase);
        let stored = s3
            .write_all(bucket, writes, args.concurrency)
            .await
            .map_err(|e| {
                CommandError::from(e)
                    .hint("re-run the deploy: it resumes, uploading only what is not in place")
            })?;
        for (full_key, size) in stored {
            report.uploaded += 1;
            report.uploaded_bytes += size;
            let key = full_key.strip_prefix(&l.prefix).unwrap_or(&full_key);
            if let Some(e) = plan.next_manifest.objects.get_mut(key) {
                e.size = size;
            }
        }
    }
    for inv in &mut report.invalidations {
        let notice = |text: &str| printer.line(&format!("  {text}"));
        let (id, status) = cf
            .invalidate_with_backoff(
                &inv.distribution,
                &inv.paths,
                &inv.caller_reference,
                &notice,
            )
            .await?;
        printer.line(&format!(
            "invalidation {id} on {}: {}",
            inv.distribution,
            inv.paths.join(" ")
        ));
        inv.id = Some(id);
        inv.status = Some(status);
    }
    if !plan.deletes.is_empty() {
        let keys: Vec<String> = plan
            .deletes
            .iter()
            .map(|k| format!("{}{k}", l.prefix))
            .collect();
        s3.delete(bucket, &keys).await?;
        printer.line(&format!("deleted {} stale objects", keys.len()));
    }
    let manifest_headers = PutHeaders {
        cache_control: "no-store".into(),
        content_type: "application/json".into(),
        ..Default::default()
    };
    let manifest_key = format!("{}{MANIFEST_KEY}", l.prefix);
    let manifest_body = Body::Bytes(plan.next_manifest.to_json());
    s3.put(bucket, &manifest_key, manifest_body, &manifest_headers)
        .await?;
    report.plan = Some(plan);
    if args.wait && !report.invalidations.is_empty() {
        wait_for_invalidations(cf, printer, &report.invalidations, l.wait_timeout).await?;
    }
    Ok((
        Verdict::Succeeded,
        format!(
            "uploaded {} files ({} bytes)",
            report.uploaded, report.uploaded_bytes
        ),
    ))
}

/// One listing (which also says whether the bucket exists: no HeadBucket, which a
/// prefix-scoped ListBucket policy would deny), then the manifest when the listing has it.
async fn observe_bucket(
    s3: &S3Adapter,
    bucket: &str,
    prefix: &str,
) -> Result<(Manifest, Vec<RemoteObject>)> {
    let manifest_key = format!("{prefix}{MANIFEST_KEY}");
    let listed = match s3.list(bucket, prefix).await {
        Ok(listed) => listed,
        Err(e) if e.is_no_such_bucket() => {
            return Err(
                CommandError::invalid(format!("bucket `{bucket}` not found"))
                    .on(bucket)
                    .hint("check `--bucket` and `--region`"),
            );
        }
        Err(e) => return Err(e.into()),
    };
    let manifest = match listed.iter().any(|o| o.key == manifest_key) {
        false => Manifest::new(),
        true => match s3.get_small(bucket, &manifest_key).await? {
            None => Manifest::new(),
            Some(bytes) => Manifest::from_json(&bytes).map_err(|e| {
                CommandError::invalid(format!("`s3://{bucket}/{manifest_key}`: {e}"))
                    .on(format!("s3://{bucket}/{manifest_key}"))
                    .hint("upgrade deckhand, or remove the manifest to start over (every file is then uploaded once)")
            })?,
        },
    };
    let remote = listed
        .into_iter()
        .filter_map(|o| {
            o.key.strip_prefix(prefix).map(|k| RemoteObject {
                key: k.to_string(),
                size: o.size,
            })
        })
        .filter(|o| o.key != MANIFEST_KEY)
        .collect();
    Ok((manifest, remote))
}

/// Each distribution's origin path (the bucket's origin), by id.
async fn observe_origins(
    cf: &CloudFrontAdapter,
    distribution_ids: &[String],
    bucket: &str,
    printer: &Printer,
) -> Result<BTreeMap<String, String>> {
    let mut origins = BTreeMap::new();
    for d in distribution_ids
        .iter()
        .map(|d| d.trim())
        .filter(|d| !d.is_empty())
    {
        let list = cf.origins(d).await.map_err(|e| {
            let not_found = e.code.as_deref() == Some("NoSuchDistribution");
            let error = CommandError::from(e).hint("check `--distribution-id`");
            if not_found {
                error.with_verdict(Verdict::InvalidInput)
            } else {
                error
            }
        })?;
        let pairs: Vec<(String, String)> = list
            .into_iter()
            .map(|o| (o.domain, o.origin_path))
            .collect();
        let path = pick_origin_path(&pairs, bucket).unwrap_or_else(|| {
            printer.warning(
                "deckhand: distribution origin not found",
                &format!("no origin of distribution `{d}` is bucket `{bucket}`; paths are mapped without an origin path"),
                None,
            );
            String::new()
        });
        origins.insert(d.to_string(), path);
    }
    Ok(origins)
}

/// The uploads and re-headers of one phase (assets, or entry points) as S3 writes.
fn phase_writes(
    plan: &SitePlan,
    files: &[SourceFile],
    prefix: &str,
    entry_phase: bool,
) -> Vec<ObjectWrite> {
    let sources: BTreeMap<&str, &SourceFile> = files.iter().map(|f| (f.key.as_str(), f)).collect();
    let uploads = plan.uploads.iter().filter(|u| u.entry == entry_phase);
    let mut writes: Vec<ObjectWrite> = uploads
        .map(|up| {
            let src = sources
                .get(up.key.as_str())
                .expect("BUG: the plan uploads a file the site does not have");
            let source = match up.headers.compression {
                Compression::None => Source::File {
                    path: src.path.clone(),
                    size: src.size,
                },
                how => {
                    let (path, key) = (src.path.clone(), up.key.clone());
                    Source::Made(Box::new(move || {
                        let bytes = std::fs::read(&path)
                            .map_err(|e| format!("cannot read `{key}`: {e}"))?;
                        compress(&bytes, how).map_err(|e| format!("compressing `{key}`: {e}"))
                    }))
                }
            };
            ObjectWrite::Put {
                key: format!("{prefix}{}", up.key),
                source,
                headers: PutHeaders::from(&up.headers),
            }
        })
        .collect();
    writes.extend(
        plan.reheaders
            .iter()
            .filter(|r| r.entry == entry_phase)
            .map(|r| ObjectWrite::Reheader {
                key: format!("{prefix}{}", r.key),
                headers: PutHeaders::from(&r.headers),
            }),
    );
    writes
}

async fn wait_for_invalidations(
    cf: &CloudFrontAdapter,
    printer: &Printer,
    invalidations: &[SentInvalidation],
    timeout: Duration,
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    for inv in invalidations {
        let Some(id) = &inv.id else { continue };
        loop {
            let status = cf.invalidation_status(&inv.distribution, id).await?;
            // CloudFront says `Completed`; moto says `COMPLETED`.
            if status.eq_ignore_ascii_case("completed") {
                printer.line(&format!("invalidation {id} completed"));
                break;
            }
            if Instant::now() >= deadline {
                return Err(CommandError::failed(format!(
                    "invalidation {id} on {} was still {status} after the wait timeout",
                    inv.distribution
                ))
                .with_verdict(Verdict::TimedOut)
                .on(inv.distribution.clone())
                .hint("raise `--wait-timeout`; the files are uploaded either way"));
            }
            printer.line(&format!("  invalidation {id}: {status}"));
            tokio::time::sleep(INVALIDATION_POLL.min(deadline - Instant::now())).await;
        }
    }
    Ok(())
}
