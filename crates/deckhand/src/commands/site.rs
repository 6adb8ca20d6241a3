//! `site deploy`: load -> observe -> plan -> apply (in the safe order) -> wait.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use deckhand_aws::AwsContext;
use deckhand_aws::cloudfront::CloudFrontAdapter;
use deckhand_aws::s3::{Body, PutHeaders, S3Adapter};
use deckhand_core::deployment_record::RecordSpec;
use deckhand_core::duration::parse_duration;
use deckhand_core::ecs::report::Verdict;
use deckhand_core::site::inputs::{
    caller_reference, normalize_prefix, parse_max_delete, pick_origin_path, validate_bucket_name,
};
use deckhand_core::site::invalidation::{InvalidationOptions, plan_invalidation};
use deckhand_core::site::manifest::{Manifest, hex};
use deckhand_core::site::plan::{LocalFile, RemoteObject, SitePlan, SyncOptions, plan_sync};
use deckhand_core::site::rules::{Compression, ObjectHeaders, SiteRules};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::task::JoinSet;

use super::result::Problem;
use crate::cli::SiteDeployArgs;
use crate::exit::ExitStatus;
use crate::gha::SITE_DEPLOY_OUTPUTS;
use crate::github_records;
use crate::printer::Printer;
use crate::site_files::{SourceFile, compress, walk};

/// The manifest's key under the prefix.
const MANIFEST_KEY: &str = ".deckhand/manifest.json";
/// CloudFront answers these when it wants us to come back later.
const RETRY_CODES: &[&str] = &[
    "TooManyInvalidationsInProgress",
    "Throttling",
    "ServiceUnavailable",
    "SlowDown",
];

/// One invalidation sent (or planned).
#[derive(Debug, Clone, serde::Serialize)]
struct SentInvalidation {
    distribution: String,
    paths: Vec<String>,
    caller_reference: String,
    id: Option<String>,
    status: Option<String>,
}

/// Everything known at the end of a site deploy.
#[derive(Debug)]
struct SiteResult {
    bucket: String,
    prefix: String,
    verdict: Verdict,
    headline: String,
    problem: Option<Problem>,
    plan: Option<SitePlan>,
    /// The plan as printed.
    plan_text: String,
    uploaded: u64,
    uploaded_bytes: u64,
    invalidations: Vec<SentInvalidation>,
}

impl SiteResult {
    fn fail(mut self, verdict: Verdict, problem: Problem) -> Self {
        self.verdict = verdict;
        self.headline.clone_from(&problem.message);
        self.problem = Some(problem);
        self
    }

    fn finish(self, printer: &Printer, ctx: Option<&AwsContext>, started: Instant) -> ExitStatus {
        let status = ExitStatus::from(self.verdict);
        let title = format!("deckhand site deploy s3://{}/{}", self.bucket, self.prefix);
        match &self.problem {
            Some(p) => printer.error_block(&title, &p.message, p.hint.as_deref()),
            None => printer.line(&format!("{}: {}", self.verdict.as_str(), self.headline)),
        }
        let plan = self.plan.as_ref();
        let count = |f: fn(&SitePlan) -> u64| plan.map_or(0, f);
        let ids: Vec<String> = self
            .invalidations
            .iter()
            .filter_map(|i| i.id.clone())
            .collect();
        let paths: Vec<String> = self
            .invalidations
            .first()
            .map(|i| i.paths.clone())
            .unwrap_or_default();
        let outputs = [
            ("verdict", self.verdict.as_str().to_string()),
            ("exit-code", status.code().to_string()),
            ("uploaded", self.uploaded.to_string()),
            ("uploaded-bytes", self.uploaded_bytes.to_string()),
            (
                "reheadered",
                count(|p| p.reheaders.len() as u64).to_string(),
            ),
            ("unchanged", count(|p| p.unchanged).to_string()),
            ("unchanged-bytes", count(|p| p.unchanged_bytes).to_string()),
            ("deleted", count(|p| p.deletes.len() as u64).to_string()),
            ("invalidation-ids", ids.join(",")),
            ("invalidation-paths", paths.join("\n")),
            (
                "failure-report",
                self.problem
                    .as_ref()
                    .map(|p| p.message.clone())
                    .unwrap_or_default(),
            ),
            ("plan", self.plan_text.clone()),
        ];
        let icon = if self.verdict.is_ok() { "✅" } else { "❌" };
        let mut md = format!(
            "### {icon} site deploy `s3://{}/{}`: {}\n\n{}\n\n| uploaded | bytes | re-headered | unchanged | deleted |\n|---|---|---|---|---|\n| {} | {} | {} | {} | {} |\n",
            self.bucket,
            self.prefix,
            self.verdict.as_str(),
            self.headline,
            self.uploaded,
            self.uploaded_bytes,
            count(|p| p.reheaders.len() as u64),
            count(|p| p.unchanged),
            count(|p| p.deletes.len() as u64),
        );
        for inv in &self.invalidations {
            md.push_str(&format!(
                "\nInvalidation `{}` on `{}`: {}\n",
                inv.id.as_deref().unwrap_or("-"),
                inv.distribution,
                inv.paths
                    .iter()
                    .map(|p| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if let Some(p) = &self.problem {
            md.push_str(&p.markdown());
        }
        printer.publish(&outputs, SITE_DEPLOY_OUTPUTS, &md);
        let api_calls = ctx.map(|c| c.calls.snapshot()).unwrap_or_default();
        if printer.is_json() {
            printer.json(&json!({
                "command": "site deploy",
                "bucket": self.bucket,
                "prefix": self.prefix,
                "verdict": self.verdict.as_str(),
                "exit_code": status.code(),
                "headline": self.headline,
                "plan": self.plan,
                "uploaded": self.uploaded,
                "uploaded_bytes": self.uploaded_bytes,
                "invalidations": self.invalidations,
                "error": self.problem.as_ref().map(|p| json!({"message": p.message, "hint": p.hint})),
                "api_calls": {"total": api_calls.values().sum::<u64>(), "by_operation": api_calls},
                "elapsed_seconds": started.elapsed().as_secs_f64(),
            }));
        }
        status
    }
}

struct Loaded {
    prefix: String,
    rules: SiteRules,
    sync: SyncOptions,
    wait_timeout: Duration,
    files: Vec<SourceFile>,
}

fn load(args: &SiteDeployArgs) -> Result<Loaded, Problem> {
    validate_bucket_name(&args.bucket)
        .map_err(|m| Problem::new(m, Some("check `--bucket`".into())))?;
    let prefix = normalize_prefix(&args.prefix).map_err(|m| Problem::new(m, None))?;
    let rules = match &args.config {
        None => SiteRules::default(),
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                Problem::new(
                    format!("cannot read rules file `{}`: {e}", path.display()),
                    Some("check `--config`".into()),
                )
            })?;
            SiteRules::parse(path, &text).map_err(|e| {
                Problem::new(
                    e.to_string(),
                    Some("see docs/static-site.md for the rules format".into()),
                )
            })?
        }
    };
    let max_delete =
        parse_max_delete(args.max_delete.as_deref()).map_err(|m| Problem::new(m, None))?;
    let wait_timeout = parse_duration(&args.wait_timeout)
        .map_err(|e| Problem::new(format!("`--wait-timeout`: {e}"), None))?;
    if args.concurrency == 0 {
        return Err(Problem::new("`--concurrency` must be at least 1", None));
    }
    let files = walk(&args.dir, &rules)
        .map_err(|m| Problem::new(m, Some("`--dir` must be the built site".into())))?;
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

fn put_headers(h: &ObjectHeaders) -> PutHeaders {
    PutHeaders {
        cache_control: h.cache_control.clone(),
        content_type: h.content_type.clone(),
        content_encoding: match h.compression {
            Compression::None => None,
            Compression::Gzip => Some("gzip".into()),
            Compression::Br => Some("br".into()),
        },
        content_disposition: h.content_disposition.clone(),
        content_language: h.content_language.clone(),
    }
}

/// `site deploy`, with its GitHub deployment record when one is wanted (docs/github.md).
pub(crate) async fn deploy(
    region: Option<String>,
    args: SiteDeployArgs,
    printer: &Printer,
) -> ExitStatus {
    // The site is read and hashed once, before the record: no record for a dry run or for
    // input that fails validation (nothing is changed then).
    let loaded = load(&args);
    let spec = (!args.dry_run && loaded.is_ok())
        .then(|| RecordSpec::site_deploy(&args.bucket, &args.prefix));
    github_records::recorded(
        &args.github,
        spec,
        SITE_DEPLOY_OUTPUTS,
        printer,
        async |p| deploy_once(region, &args, loaded, p).await,
    )
    .await
}

async fn deploy_once(
    region: Option<String>,
    args: &SiteDeployArgs,
    loaded: Result<Loaded, Problem>,
    printer: &Printer,
) -> ExitStatus {
    let started = Instant::now();
    let mut result = SiteResult {
        bucket: args.bucket.clone(),
        prefix: args.prefix.clone(),
        verdict: Verdict::Error,
        headline: String::new(),
        problem: None,
        plan: None,
        plan_text: String::new(),
        uploaded: 0,
        uploaded_bytes: 0,
        invalidations: Vec::new(),
    };
    let loaded = match loaded {
        Ok(l) => l,
        Err(p) => {
            return result
                .fail(Verdict::InvalidInput, p)
                .finish(printer, None, started);
        }
    };
    result.prefix.clone_from(&loaded.prefix);
    let ctx = match super::result::aws_context(region).await {
        Ok(ctx) => ctx,
        Err(p) => {
            return result
                .fail(Verdict::InvalidInput, p)
                .finish(printer, None, started);
        }
    };
    let s3 = S3Adapter::new(&ctx);
    let cf = CloudFrontAdapter::new(&ctx);
    let outcome = run(args, &loaded, &s3, &cf, printer, &mut result).await;
    if let Err((verdict, problem)) = outcome {
        result = result.fail(verdict, problem);
    }
    result.finish(printer, Some(&ctx), started)
}

type Fail = (Verdict, Problem);

fn op_error(e: &deckhand_aws::s3::S3Error) -> Fail {
    (Verdict::Error, Problem::new(e.to_string(), None))
}

async fn run(
    args: &SiteDeployArgs,
    l: &Loaded,
    s3: &S3Adapter,
    cf: &CloudFrontAdapter,
    printer: &Printer,
    result: &mut SiteResult,
) -> Result<(), Fail> {
    let bucket = &args.bucket;
    // Observe: one listing (which also says whether the bucket exists: no HeadBucket, which a
    // prefix-scoped ListBucket policy would deny), then the manifest if the listing has it.
    let manifest_key = format!("{}{MANIFEST_KEY}", l.prefix);
    let listed = match s3.list(bucket, &l.prefix).await {
        Ok(listed) => listed,
        Err(e) if e.is_no_such_bucket() => {
            return Err((
                Verdict::InvalidInput,
                Problem::new(
                    format!("bucket `{bucket}` not found"),
                    Some("check `--bucket` and `--region`".into()),
                ),
            ));
        }
        Err(e) => return Err(op_error(&e)),
    };
    let manifest = if listed.iter().any(|o| o.key == manifest_key) {
        match s3.get_small(bucket, &manifest_key).await.map_err(|e| op_error(&e))? {
            None => Manifest::new(),
            Some(bytes) => Manifest::from_json(&bytes).map_err(|e| {
                (Verdict::InvalidInput, Problem::new(format!("`s3://{bucket}/{manifest_key}`: {e}"), Some("upgrade deckhand, or remove the manifest to start over (every file is then uploaded once)".into())))
            })?,
        }
    } else {
        Manifest::new()
    };
    let remote: Vec<RemoteObject> = listed
        .into_iter()
        .filter_map(|o| {
            o.key.strip_prefix(&l.prefix).map(|k| RemoteObject {
                key: k.to_string(),
                size: o.size,
            })
        })
        .filter(|o| o.key != MANIFEST_KEY)
        .collect();
    let mut origins = BTreeMap::new();
    for d in args
        .distribution_ids
        .iter()
        .map(|d| d.trim())
        .filter(|d| !d.is_empty())
    {
        let list = cf.origins(d).await.map_err(|e| {
            let v = if e.code.as_deref() == Some("NoSuchDistribution") {
                Verdict::InvalidInput
            } else {
                Verdict::Error
            };
            (
                v,
                Problem::new(e.to_string(), Some("check `--distribution-id`".into())),
            )
        })?;
        let pairs: Vec<(String, String)> = list
            .into_iter()
            .map(|o| (o.domain, o.origin_path))
            .collect();
        let path = pick_origin_path(&pairs, bucket).unwrap_or_else(|| {
            printer.line(&format!("warning: no origin of distribution `{d}` is bucket `{bucket}`; paths are mapped without an origin path"));
            String::new()
        });
        origins.insert(d.to_string(), path);
    }

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
        .map_err(|e| (Verdict::InvalidInput, Problem::new(e.to_string(), e.hint())))?;
    let full_keys: Vec<String> = plan
        .invalidate
        .iter()
        .map(|k| format!("{}{k}", l.prefix))
        .collect();
    let change = hex(&Sha256::digest(plan.next_manifest.to_json()));
    for (d, origin_path) in &origins {
        let inv = plan_invalidation(
            full_keys.iter().map(String::as_str),
            &InvalidationOptions {
                origin_path: origin_path.clone(),
                ..Default::default()
            },
        );
        if !inv.paths.is_empty() {
            result.invalidations.push(SentInvalidation {
                distribution: d.clone(),
                caller_reference: caller_reference(d, &inv.paths, &change),
                paths: inv.paths,
                id: None,
                status: None,
            });
        }
    }
    result.plan_text = render_plan(&plan, &result.invalidations, bucket, &l.prefix);
    printer.block(&result.plan_text);
    result.plan = Some(plan.clone());
    if args.dry_run {
        result.verdict = Verdict::DryRun;
        result.headline = "dry run: the plan above was not applied".into();
        return Ok(());
    }
    if plan.is_no_op() {
        result.verdict = Verdict::NoChange;
        result.headline = format!(
            "nothing to upload: {} files already in place",
            plan.unchanged
        );
        return Ok(());
    }

    // Apply, in order: assets, entry points, invalidation, deletes, manifest.
    let sources: Arc<BTreeMap<String, SourceFile>> =
        Arc::new(l.files.iter().map(|f| (f.key.clone(), f.clone())).collect());
    for entry_phase in [false, true] {
        let stored = apply_phase(
            s3,
            bucket,
            &l.prefix,
            &plan,
            &sources,
            entry_phase,
            args.concurrency,
        )
        .await?;
        for (key, size) in stored {
            result.uploaded += 1;
            result.uploaded_bytes += size;
            if let Some(e) = plan.next_manifest.objects.get_mut(&key) {
                e.size = size;
            }
        }
    }
    for inv in &mut result.invalidations {
        let (id, status) = invalidate_with_backoff(cf, printer, inv).await?;
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
        s3.delete(bucket, &keys).await.map_err(|e| op_error(&e))?;
        printer.line(&format!("deleted {} stale objects", keys.len()));
    }
    s3.put(
        bucket,
        &manifest_key,
        Body::Bytes(plan.next_manifest.to_json()),
        &PutHeaders {
            cache_control: "no-store".into(),
            content_type: "application/json".into(),
            ..Default::default()
        },
    )
    .await
    .map_err(|e| op_error(&e))?;
    result.plan = Some(plan);
    result.verdict = Verdict::Succeeded;
    result.headline = format!(
        "uploaded {} files ({} bytes)",
        result.uploaded, result.uploaded_bytes
    );
    if args.wait && !result.invalidations.is_empty() {
        wait_for_invalidations(cf, printer, &result.invalidations, l.wait_timeout).await?;
    }
    Ok(())
}

/// Uploads and re-headers of one phase, `concurrency` at a time. Returns `(key, stored bytes)`.
async fn apply_phase(
    s3: &S3Adapter,
    bucket: &str,
    prefix: &str,
    plan: &SitePlan,
    sources: &Arc<BTreeMap<String, SourceFile>>,
    entry_phase: bool,
    concurrency: usize,
) -> Result<Vec<(String, u64)>, Fail> {
    let permits = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let mut tasks: JoinSet<Result<Option<(String, u64)>, Problem>> = JoinSet::new();
    for up in plan.uploads.iter().filter(|u| u.entry == entry_phase) {
        let (s3, bucket, key, permits, sources) = (
            s3.clone(),
            bucket.to_string(),
            up.key.clone(),
            permits.clone(),
            sources.clone(),
        );
        let headers = put_headers(&up.headers);
        let compression = up.headers.compression;
        let full = format!("{prefix}{key}");
        tasks.spawn(async move {
            let _permit = permits
                .acquire()
                .await
                .map_err(|e| Problem::new(e.to_string(), None))?;
            let src = sources
                .get(&key)
                .ok_or_else(|| Problem::new(format!("BUG: no source for `{key}`"), None))?;
            let body = if compression == Compression::None {
                Body::File(&src.path, src.size)
            } else {
                let bytes = std::fs::read(&src.path)
                    .map_err(|e| Problem::new(format!("cannot read `{key}`: {e}"), None))?;
                Body::Bytes(
                    compress(&bytes, compression)
                        .map_err(|e| Problem::new(format!("compressing `{key}`: {e}"), None))?,
                )
            };
            let stored = s3
                .put(&bucket, &full, body, &headers)
                .await
                .map_err(|e| Problem::new(e.to_string(), None))?;
            Ok(Some((key, stored)))
        });
    }
    for re in plan.reheaders.iter().filter(|r| r.entry == entry_phase) {
        let (s3, bucket, permits) = (s3.clone(), bucket.to_string(), permits.clone());
        let headers = put_headers(&re.headers);
        let full = format!("{prefix}{}", re.key);
        tasks.spawn(async move {
            let _permit = permits
                .acquire()
                .await
                .map_err(|e| Problem::new(e.to_string(), None))?;
            s3.reheader(&bucket, &full, &headers)
                .await
                .map_err(|e| Problem::new(e.to_string(), None))?;
            Ok(None)
        });
    }
    let mut stored = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(Some(s))) => stored.push(s),
            Ok(Ok(None)) => {}
            Ok(Err(p)) => {
                // Stop here: the manifest is not written, so a re-run redoes what is missing.
                tasks.abort_all();
                return Err((
                    Verdict::Error,
                    Problem::new(
                        p.message,
                        Some(
                            "re-run the deploy: it resumes, uploading only what is not in place"
                                .into(),
                        ),
                    ),
                ));
            }
            Err(e) => {
                tasks.abort_all();
                return Err((
                    Verdict::Error,
                    Problem::new(format!("an upload task failed: {e}"), None),
                ));
            }
        }
    }
    Ok(stored)
}

async fn invalidate_with_backoff(
    cf: &CloudFrontAdapter,
    printer: &Printer,
    inv: &SentInvalidation,
) -> Result<(String, String), Fail> {
    let mut delay = Duration::from_secs(1);
    for attempt in 1..=6 {
        match cf
            .invalidate(&inv.distribution, &inv.paths, &inv.caller_reference)
            .await
        {
            Ok(v) => return Ok(v),
            Err(e)
                if attempt < 6 && e.code.as_deref().is_some_and(|c| RETRY_CODES.contains(&c)) =>
            {
                printer.line(&format!(
                    "  {} (attempt {attempt}); retrying in {}s",
                    e.code.as_deref().unwrap_or_default(),
                    delay.as_secs()
                ));
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            Err(e) => return Err((Verdict::Error, Problem::new(e.to_string(), None))),
        }
    }
    unreachable!("the last attempt returns")
}

async fn wait_for_invalidations(
    cf: &CloudFrontAdapter,
    printer: &Printer,
    invalidations: &[SentInvalidation],
    timeout: Duration,
) -> Result<(), Fail> {
    let deadline = Instant::now() + timeout;
    for inv in invalidations {
        let Some(id) = &inv.id else { continue };
        loop {
            let status = cf
                .invalidation_status(&inv.distribution, id)
                .await
                .map_err(|e| op_error(&e))?;
            // CloudFront says `Completed`; moto says `COMPLETED`.
            if status.eq_ignore_ascii_case("completed") {
                printer.line(&format!("invalidation {id} completed"));
                break;
            }
            if Instant::now() >= deadline {
                return Err((
                    Verdict::TimedOut,
                    Problem::new(
                        format!(
                            "invalidation {id} on {} was still {status} after the wait timeout",
                            inv.distribution
                        ),
                        Some("raise `--wait-timeout`; the files are uploaded either way".into()),
                    ),
                ));
            }
            printer.line(&format!("  invalidation {id}: {status}"));
            tokio::time::sleep(Duration::from_secs(5).min(deadline - Instant::now())).await;
        }
    }
    Ok(())
}

fn render_plan(
    plan: &SitePlan,
    invalidations: &[SentInvalidation],
    bucket: &str,
    prefix: &str,
) -> String {
    let mut out = format!("plan for s3://{bucket}/{prefix}:\n");
    out.push_str(&format!(
        "  upload {} files, re-header {}, {} unchanged, delete {}, keep {} stale\n",
        plan.uploads.len(),
        plan.reheaders.len(),
        plan.unchanged,
        plan.deletes.len(),
        plan.retained.len()
    ));
    for u in &plan.uploads {
        let reason = serde_json::to_value(u.reason)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        out.push_str(&format!(
            "  + {}{} ({reason}{})\n",
            prefix,
            u.key,
            if u.entry { ", entry point: last" } else { "" }
        ));
    }
    for r in &plan.reheaders {
        out.push_str(&format!("  ~ {}{} (headers changed)\n", prefix, r.key));
    }
    for d in &plan.deletes {
        out.push_str(&format!("  - {prefix}{d}\n"));
    }
    for inv in invalidations {
        out.push_str(&format!(
            "  invalidate on {}: {}\n",
            inv.distribution,
            inv.paths.join(" ")
        ));
    }
    out
}
