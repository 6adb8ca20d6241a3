//! What `site deploy` reports: the plan as printed, the invalidations it sends (planned here,
//! from the plan and each distribution's origin path), the step summary and the outputs.

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::inputs::caller_reference;
use super::invalidation::{InvalidationOptions, plan_invalidation};
use super::manifest::hex;
use super::plan::SitePlan;
use crate::report::{Details, Outputs, Report, icon};

/// Outputs of `site deploy` (actions/static-site mirrors these).
pub const SITE_DEPLOY_OUTPUTS: &[&str] = &[
    "verdict",
    "exit-code",
    "uploaded",
    "uploaded-bytes",
    "reheadered",
    "unchanged",
    "unchanged-bytes",
    "deleted",
    "invalidation-ids",
    "invalidation-paths",
    "failure-report",
    "plan",
];

/// One CloudFront invalidation: planned, then sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SentInvalidation {
    /// The distribution.
    pub distribution: String,
    /// The paths, as CloudFront sees them (the origin path taken off).
    pub paths: Vec<String>,
    /// Names the change, so that a retried CreateInvalidation is not a second one.
    pub caller_reference: String,
    /// Its id, once sent.
    pub id: Option<String>,
    /// Its status, once sent.
    pub status: Option<String>,
}

/// The invalidations a plan needs: for each distribution (by id, with its origin path), the
/// narrowest paths covering the keys the plan changes or deletes under `prefix`. A deploy that
/// changes nothing a distribution serves sends it nothing.
pub fn plan_invalidations(
    plan: &SitePlan,
    prefix: &str,
    origin_paths: &BTreeMap<String, String>,
) -> Vec<SentInvalidation> {
    let full_keys: Vec<String> = plan
        .invalidate
        .iter()
        .map(|k| format!("{prefix}{k}"))
        .collect();
    // The same change always has the same reference: the manifest it leads to.
    let change = hex(&Sha256::digest(plan.next_manifest.to_json()));
    let mut sent = Vec::new();
    for (distribution, origin_path) in origin_paths {
        let inv = plan_invalidation(
            full_keys.iter().map(String::as_str),
            &InvalidationOptions {
                origin_path: origin_path.clone(),
                ..Default::default()
            },
        );
        if !inv.paths.is_empty() {
            sent.push(SentInvalidation {
                distribution: distribution.clone(),
                caller_reference: caller_reference(distribution, &inv.paths, &change),
                paths: inv.paths,
                id: None,
                status: None,
            });
        }
    }
    sent
}

/// Everything a site deploy reports besides its verdict and headline.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SiteReport {
    /// The bucket.
    pub bucket: String,
    /// The key prefix (normalized: empty or ending in `/`).
    pub prefix: String,
    /// The plan, once made.
    pub plan: Option<SitePlan>,
    /// Files uploaded.
    pub uploaded: u64,
    /// Bytes stored by those uploads.
    pub uploaded_bytes: u64,
    /// The invalidations, planned then sent.
    pub invalidations: Vec<SentInvalidation>,
}

impl SiteReport {
    /// The plan as printed: counts, then each upload, re-header, delete and invalidation.
    pub fn plan_text(&self) -> String {
        self.plan
            .as_ref()
            .map(|p| render_plan(p, &self.invalidations, &self.bucket, &self.prefix))
            .unwrap_or_default()
    }

    fn count(&self, f: fn(&SitePlan) -> u64) -> u64 {
        self.plan.as_ref().map_or(0, f)
    }
}

/// The plan as printed.
pub fn render_plan(
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
        out.push_str(&format!(
            "  + {prefix}{} ({}{})\n",
            u.key,
            u.reason.as_str(),
            if u.entry { ", entry point: last" } else { "" }
        ));
    }
    for r in &plan.reheaders {
        out.push_str(&format!("  ~ {prefix}{} (headers changed)\n", r.key));
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

impl Details for SiteReport {
    const OUTPUTS: &'static [&'static str] = SITE_DEPLOY_OUTPUTS;

    fn subject(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }

    fn outputs(report: &Report<Self>, outputs: &mut Outputs) {
        let d = &report.details;
        let ids: Vec<&str> = d
            .invalidations
            .iter()
            .filter_map(|i| i.id.as_deref())
            .collect();
        let paths = d
            .invalidations
            .first()
            .map(|i| i.paths.join("\n"))
            .unwrap_or_default();
        outputs.set("uploaded", d.uploaded.to_string());
        outputs.set("uploaded-bytes", d.uploaded_bytes.to_string());
        outputs.set(
            "reheadered",
            d.count(|p| p.reheaders.len() as u64).to_string(),
        );
        outputs.set("unchanged", d.count(|p| p.unchanged).to_string());
        outputs.set(
            "unchanged-bytes",
            d.count(|p| p.unchanged_bytes).to_string(),
        );
        outputs.set("deleted", d.count(|p| p.deletes.len() as u64).to_string());
        outputs.set("invalidation-ids", ids.join(","));
        outputs.set("invalidation-paths", paths);
        outputs.set("plan", d.plan_text());
    }

    fn summary(report: &Report<Self>) -> String {
        let d = &report.details;
        let mut md = format!(
            "### {} site deploy `s3://{}/{}`: {}\n\n{}\n\n| uploaded | bytes | re-headered | unchanged | deleted |\n|---|---|---|---|---|\n| {} | {} | {} | {} | {} |\n",
            icon(report.verdict),
            d.bucket,
            d.prefix,
            report.verdict,
            report.headline,
            d.uploaded,
            d.uploaded_bytes,
            d.count(|p| p.reheaders.len() as u64),
            d.count(|p| p.unchanged),
            d.count(|p| p.deletes.len() as u64),
        );
        for inv in &d.invalidations {
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
        md
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::manifest::Manifest;
    use crate::site::plan::{LocalFile, RemoteObject, SyncOptions, plan_sync};
    use crate::site::rules::SiteRules;
    use crate::verdict::Verdict;

    fn file(key: &str, body: &str) -> LocalFile {
        LocalFile {
            key: key.into(),
            sha256: hex(&Sha256::digest(body.as_bytes())),
            size: body.len() as u64,
        }
    }

    /// A redeploy of a Vite build (a new entry point and bundle) behind a distribution whose
    /// origin path is `/site`.
    fn redeploy() -> Report<SiteReport> {
        let before = [
            file("index.html", "<html>"),
            file("assets/index-4f2c1a9b.js", "js"),
            file("assets/index-77d0e1aa.css", "css"),
            file("favicon.ico", "ico"),
        ];
        let options = SyncOptions::default();
        let rules = SiteRules::default();
        let first = plan_sync(&before, &rules, &Manifest::new(), &[], &options).unwrap();
        let remote: Vec<RemoteObject> = before
            .iter()
            .map(|f| RemoteObject {
                key: f.key.clone(),
                size: f.size,
            })
            .collect();
        let after = [
            file("index.html", "<html lang=en>"),
            file("assets/index-9c0ffee1.js", "js2"),
            file("assets/index-77d0e1aa.css", "css"),
            file("favicon.ico", "ico"),
        ];
        let plan = plan_sync(&after, &rules, &first.next_manifest, &remote, &options).unwrap();
        let origins = BTreeMap::from([("E2ABCDEF123456".to_string(), "/site".to_string())]);
        let mut invalidations = plan_invalidations(&plan, "site/", &origins);
        invalidations[0].id = Some("I2J3K4L5M6N7O8".into());
        invalidations[0].status = Some("InProgress".into());
        let mut r = Report::new(
            "site deploy",
            SiteReport {
                bucket: "www-example".into(),
                prefix: "site/".into(),
                uploaded: 2,
                uploaded_bytes: 17,
                plan: Some(plan),
                invalidations,
            },
        );
        r.conclude(Verdict::Succeeded, "uploaded 2 files (17 bytes)");
        r
    }

    #[test]
    fn plan_of_a_redeploy() {
        insta::assert_snapshot!(redeploy().details.plan_text());
    }

    #[test]
    fn summary_of_a_redeploy() {
        insta::assert_snapshot!(redeploy().summary());
    }

    #[test]
    fn outputs_of_a_redeploy() {
        let r = redeploy();
        let outputs = r.outputs();
        let mut all: Vec<(&str, &str)> = outputs.iter().collect();
        all.retain(|(k, _)| *k != "plan");
        assert_eq!(
            all,
            [
                ("verdict", "succeeded"),
                ("exit-code", "0"),
                ("uploaded", "2"),
                ("uploaded-bytes", "17"),
                ("reheadered", "0"),
                ("unchanged", "2"),
                ("unchanged-bytes", "6"),
                ("deleted", "0"),
                ("invalidation-ids", "I2J3K4L5M6N7O8"),
                (
                    "invalidation-paths",
                    r.details.invalidations[0].paths.join("\n").as_str()
                ),
                ("failure-report", ""),
            ]
        );
    }

    #[test]
    fn the_same_change_has_the_same_caller_reference() {
        let a = redeploy().details.invalidations;
        let b = redeploy().details.invalidations;
        assert_eq!(a[0].caller_reference, b[0].caller_reference);
        assert!(a[0].caller_reference.starts_with("deckhand-"));
        // The origin path is taken off: CloudFront sees `/`, not `/site/`.
        assert!(
            a[0].paths.iter().all(|p| !p.starts_with("/site")),
            "{:?}",
            a[0].paths
        );
    }

    #[test]
    fn upload_reasons_read_as_their_json() {
        use crate::site::plan::UploadReason as R;
        for r in [
            R::New,
            R::ContentChanged,
            R::EncodingChanged,
            R::Missing,
            R::Unmanaged,
        ] {
            assert_eq!(
                serde_json::to_value(r).unwrap(),
                serde_json::json!(r.as_str())
            );
        }
    }
}
