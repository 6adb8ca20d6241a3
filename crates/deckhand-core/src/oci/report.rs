//! What `image build` and `nginx build` report: the push plan as printed, the step summary and
//! the outputs; `nginx build` adds the report of the rollout it ran (`--deploy-*`), composed
//! from that typed report.

use serde::Serialize;

use super::digest::Digest;
use super::image::PlatformSize;
use super::plan::{BlobAction, BlobStep, TagAction, TagStep, bytes_to_send};
use super::platform::PlatformOrigin;
use super::smoke::SmokeResult;
use crate::ecs::report::DeployReport;
use crate::report::{Details, Outputs, Problem, Report, escape_md, icon};
use crate::verdict::Verdict;

/// Outputs of `image build`.
pub const IMAGE_BUILD_OUTPUTS: &[&str] = &[
    "verdict",
    "exit-code",
    "image",
    "digest",
    "tags",
    "bytes-uploaded",
    "blobs-uploaded",
    "blobs-copied",
    "blobs-mounted",
    "blobs-skipped",
    "failure-report",
    "plan",
];

/// Outputs of `nginx build` (actions/nginx-image mirrors these): the image's, then the
/// rollout's when `--deploy-*` is given.
pub const NGINX_BUILD_OUTPUTS: &[&str] = &[
    "verdict",
    "exit-code",
    "image",
    "digest",
    "tags",
    "bytes-uploaded",
    "blobs-uploaded",
    "blobs-copied",
    "blobs-mounted",
    "blobs-skipped",
    "failure-report",
    "plan",
    "deploy-verdict",
    "task-definition-arn",
    "deployment-id",
];

/// The appended layer, as the result shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LayerSummary {
    /// sha256 of its gzip bytes.
    pub digest: Digest,
    /// sha256 of its tar.
    pub diff_id: Digest,
    /// Its compressed size.
    pub size: u64,
    /// Files in it.
    pub files: usize,
}

/// Everything an image build reports besides its verdict and headline.
#[derive(Debug, Clone, Default)]
pub struct ImageReport {
    /// `REGISTRY/REPOSITORY` pushed to (the first `--tag` until it is parsed).
    pub repository: String,
    /// `REGISTRY/REPOSITORY@sha256:...`, once derived.
    pub image: Option<String>,
    /// The digest tags point at, once derived.
    pub digest: Option<Digest>,
    /// The `--tag` references.
    pub tags: Vec<String>,
    /// What each tag needs (or got).
    pub tag_steps: Vec<TagStep>,
    /// The platforms built.
    pub platforms: Vec<String>,
    /// Each platform's size (its layers and config), once derived.
    pub platform_sizes: Vec<PlatformSize>,
    /// Where the platforms were chosen, once the base is known.
    pub platform_origin: Option<PlatformOrigin>,
    /// The appended layer.
    pub layer: Option<LayerSummary>,
    /// `--ecr-create` made the repository.
    pub repository_created: bool,
    /// What each blob needs (or got).
    pub blobs: Vec<BlobStep>,
    /// Bytes sent to the registry.
    pub bytes_uploaded: u64,
    /// Requests made to the registries.
    pub registry_requests: u64,
    /// The smoke run, when one ran (or was skipped with a reason).
    pub smoke: Option<SmokeResult>,
}

impl ImageReport {
    /// A build for `repository` that has learned nothing yet.
    pub fn new(repository: impl Into<String>) -> Self {
        Self {
            repository: repository.into(),
            ..Self::default()
        }
    }

    /// Blobs whose mount the registry declined were copied instead: the report says so.
    pub fn record_declined_mounts(&mut self, declined: &[Digest]) {
        for step in &mut self.blobs {
            if declined.contains(&step.blob.digest) {
                step.action = BlobAction::Copy;
            }
        }
    }

    fn count(&self, wanted: fn(&BlobAction) -> bool) -> usize {
        self.blobs.iter().filter(|s| wanted(&s.action)).count()
    }

    /// The push plan as printed: each blob and what happens to it, then each tag; empty until
    /// the plan is made.
    pub fn plan_text(&self) -> String {
        if self.blobs.is_empty() {
            return String::new();
        }
        let repo = self
            .repository
            .split_once('/')
            .map_or(self.repository.as_str(), |(_, r)| r);
        let platforms = render_platforms(self.platform_origin.as_ref(), &self.platform_sizes);
        render_push_plan(repo, &platforms, &self.blobs, &self.tag_steps)
    }

    /// The platforms column of the summary: each with its size.
    fn platforms_cell(&self) -> String {
        if self.platform_sizes.is_empty() {
            return self.platforms.join(", ");
        }
        self.platform_sizes
            .iter()
            .map(|p| format!("{} ({})", p.platform, human_bytes(p.bytes)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn fill_outputs(&self, outputs: &mut Outputs) {
        outputs.set("image", self.image.clone().unwrap_or_default());
        outputs.set(
            "digest",
            self.digest
                .as_ref()
                .map(Digest::to_string)
                .unwrap_or_default(),
        );
        outputs.set("tags", self.tags.join("\n"));
        outputs.set("bytes-uploaded", self.bytes_uploaded.to_string());
        outputs.set(
            "blobs-uploaded",
            self.count(|a| matches!(a, BlobAction::Upload)).to_string(),
        );
        outputs.set(
            "blobs-copied",
            self.count(|a| matches!(a, BlobAction::Copy)).to_string(),
        );
        outputs.set(
            "blobs-mounted",
            self.count(|a| matches!(a, BlobAction::Mount { .. }))
                .to_string(),
        );
        outputs.set(
            "blobs-skipped",
            self.count(|a| matches!(a, BlobAction::Present)).to_string(),
        );
        outputs.set("plan", self.plan_text());
    }

    fn markdown(&self, command: &str, verdict: Verdict, headline: &str) -> String {
        let mut md = format!(
            "### {} {command} `{}`: {verdict}\n\n{headline}\n",
            icon(verdict),
            self.repository,
        );
        if let Some(image) = &self.image {
            md.push_str(&format!(
                "\n| image | platforms | bytes uploaded | blobs uploaded / copied / mounted / present |\n|---|---|---|---|\n| `{image}` | {} | {} | {} / {} / {} / {} |\n",
                self.platforms_cell(),
                self.bytes_uploaded,
                self.count(|a| matches!(a, BlobAction::Upload)),
                self.count(|a| matches!(a, BlobAction::Copy)),
                self.count(|a| matches!(a, BlobAction::Mount { .. })),
                self.count(|a| matches!(a, BlobAction::Present)),
            ));
        }
        if let Some(smoke) = &self.smoke {
            md.push_str(&smoke.markdown());
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
        md
    }
}

impl Serialize for ImageReport {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Json<'a> {
            repository: &'a str,
            image: &'a Option<String>,
            digest: &'a Option<Digest>,
            tags: &'a [TagStep],
            platforms: &'a [String],
            platform_sizes: &'a [PlatformSize],
            platform_origin: &'a Option<PlatformOrigin>,
            layer: &'a Option<LayerSummary>,
            repository_created: bool,
            blobs: &'a [BlobStep],
            bytes_to_send: u64,
            bytes_uploaded: u64,
            registry_requests: u64,
            #[serde(skip_serializing_if = "Option::is_none")]
            smoke: &'a Option<SmokeResult>,
        }
        Json {
            repository: &self.repository,
            image: &self.image,
            digest: &self.digest,
            tags: &self.tag_steps,
            platforms: &self.platforms,
            platform_sizes: &self.platform_sizes,
            platform_origin: &self.platform_origin,
            layer: &self.layer,
            repository_created: self.repository_created,
            blobs: &self.blobs,
            bytes_to_send: bytes_to_send(&self.blobs),
            bytes_uploaded: self.bytes_uploaded,
            registry_requests: self.registry_requests,
            smoke: &self.smoke,
        }
        .serialize(serializer)
    }
}

/// Bytes as people read them: `812 B`, `4.3 kB`, `43.2 MB`, `1.2 GB` (powers of 1000).
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [(&str, f64); 3] = [("GB", 1e9), ("MB", 1e6), ("kB", 1e3)];
    UNITS
        .iter()
        .find(|(_, scale)| bytes as f64 >= *scale)
        .map_or_else(
            || format!("{bytes} B"),
            |(unit, scale)| format!("{:.1} {unit}", bytes as f64 / scale),
        )
}

/// The platforms part of the plan: where they were chosen, then each with its size.
pub fn render_platforms(origin: Option<&PlatformOrigin>, sizes: &[PlatformSize]) -> String {
    if sizes.is_empty() {
        return String::new();
    }
    let mut out = match origin {
        Some(o) => format!("  platforms ({}):\n", o.describe()),
        None => "  platforms:\n".to_string(),
    };
    let width = sizes.iter().map(|p| p.platform.len()).max().unwrap_or(0);
    for p in sizes {
        out.push_str(&format!(
            "    {:<width$}  {}\n",
            p.platform,
            human_bytes(p.bytes)
        ));
    }
    out
}

/// The push plan: the platforms (as [`render_platforms`] gives them), each blob and what
/// happens to it, then each tag.
pub fn render_push_plan(
    repo: &str,
    platforms: &str,
    blobs: &[BlobStep],
    tags: &[TagStep],
) -> String {
    let mut out = format!("push plan for `{repo}`:\n{platforms}");
    for s in blobs {
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
    for t in tags {
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

impl Details for ImageReport {
    const OUTPUTS: &'static [&'static str] = IMAGE_BUILD_OUTPUTS;

    fn subject(&self) -> String {
        self.repository.clone()
    }

    fn outputs(report: &Report<Self>, outputs: &mut Outputs) {
        report.details.fill_outputs(outputs);
    }

    fn summary(report: &Report<Self>) -> String {
        report
            .details
            .markdown(&report.command, report.verdict, &report.headline)
    }
}

/// What `nginx build` reports: the image, and the rollout of its service when `--deploy-*`
/// was given.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NginxReport {
    /// The image build.
    #[serde(flatten)]
    pub image: ImageReport,
    /// The image build's own verdict and headline (the report's are the whole command's).
    #[serde(skip)]
    pub image_verdict: Option<(Verdict, String)>,
    /// The rollout, when one ran.
    pub deploy: Option<Report<DeployReport>>,
}

impl NginxReport {
    /// The whole command's verdict, headline and problem from the image build's and the
    /// rollout's: the image's when it failed or nothing was rolled out; a rollout that was not
    /// green decides otherwise (a failed rollout fails the job; exit 3 when rolled back). The
    /// headline names the rollout whenever one ran.
    pub fn compose(
        image_verdict: Verdict,
        image_headline: &str,
        image_problem: Option<&Problem>,
        deploy: Option<&Report<DeployReport>>,
    ) -> (Verdict, String, Option<Problem>) {
        let Some(d) = deploy else {
            return (
                image_verdict,
                image_headline.to_string(),
                image_problem.cloned(),
            );
        };
        let headline = format!(
            "{image_headline}; the rollout of `{}`: {}: {}",
            d.details.service, d.verdict, d.headline
        );
        if image_verdict.is_ok() && !d.verdict.is_ok() {
            (d.verdict, headline, d.problem.clone())
        } else {
            (image_verdict, headline, image_problem.cloned())
        }
    }
}

impl Details for NginxReport {
    const OUTPUTS: &'static [&'static str] = NGINX_BUILD_OUTPUTS;

    fn subject(&self) -> String {
        self.image.repository.clone()
    }

    fn outputs(report: &Report<Self>, outputs: &mut Outputs) {
        let d = &report.details;
        d.image.fill_outputs(outputs);
        if let Some(deploy) = &d.deploy {
            let opt = |v: &Option<String>| v.clone().unwrap_or_default();
            outputs.set("deploy-verdict", deploy.verdict.as_str());
            outputs.set(
                "task-definition-arn",
                opt(&deploy.details.task_definition_arn),
            );
            outputs.set("deployment-id", opt(&deploy.details.deployment_id));
            // The rollout's plan follows the push plan, for the pull request's plan comment.
            let rollout_plan = deploy.details.plan_text();
            if !rollout_plan.is_empty() {
                outputs.set("plan", format!("{}\n{rollout_plan}", d.image.plan_text()));
            }
        }
    }

    fn summary(report: &Report<Self>) -> String {
        let d = &report.details;
        let (verdict, headline) = d
            .image_verdict
            .clone()
            .unwrap_or((report.verdict, report.headline.clone()));
        let mut md = d.image.markdown(&report.command, verdict, &headline);
        if let Some(deploy) = &d.deploy {
            md.push_str(&format!(
                "\nRollout of `{}` in `{}`: **{}**, {}\n",
                deploy.details.service,
                deploy.details.cluster,
                deploy.verdict,
                escape_md(&deploy.headline)
            ));
            for a in &deploy.attachments {
                md.push_str(&a.summary);
            }
        }
        md
    }

    /// A red rollout's failure report (service events, stopped tasks).
    fn failure_report(report: &Report<Self>) -> Option<String> {
        report
            .details
            .deploy
            .as_ref()
            .and_then(Report::failure_report)
    }

    fn annotation(report: &Report<Self>) -> Option<String> {
        let deploy = report.details.deploy.as_ref()?;
        (!deploy.verdict.is_ok() && deploy.problem.is_none())
            .then(|| crate::ecs::report::annotation(deploy))
            .map(|a| format!("the rollout of `{}`: {a}", deploy.details.service))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::plan::{BlobOrigin, BlobRef};

    fn step(name: &str, size: u64, role: &str, action: BlobAction) -> BlobStep {
        BlobStep {
            blob: BlobRef {
                digest: Digest::of(name.as_bytes()),
                size,
                origin: BlobOrigin::Base,
                role: role.into(),
            },
            action,
        }
    }

    fn rebuilt() -> Report<ImageReport> {
        let digest = Digest::of(b"index");
        let mut image = ImageReport::new("registry.local/shop/web-front");
        image.image = Some(format!("registry.local/shop/web-front@{digest}"));
        image.digest = Some(digest.clone());
        image.tags = vec!["registry.local/shop/web-front:4f2c1a9".into()];
        image.platforms = vec!["linux/amd64".into(), "linux/arm64".into()];
        image.platform_sizes = vec![
            PlatformSize {
                platform: "linux/amd64".into(),
                bytes: 29_136_431,
            },
            PlatformSize {
                platform: "linux/arm64".into(),
                bytes: 28_020_694,
            },
        ];
        image.platform_origin = Some(PlatformOrigin::Flag);
        image.blobs = vec![
            step(
                "base-amd64",
                29_126_148,
                "base layer (linux/amd64)",
                BlobAction::Present,
            ),
            step(
                "base-arm64",
                28_010_411,
                "base layer (linux/arm64)",
                BlobAction::Mount {
                    from: "library/nginx".into(),
                },
            ),
            step("layer", 1_873, "layer", BlobAction::Upload),
            step(
                "config-amd64",
                8_410,
                "config (linux/amd64)",
                BlobAction::Upload,
            ),
        ];
        image.tag_steps = vec![TagStep {
            tag: "4f2c1a9".into(),
            current: None,
            action: TagAction::Put,
        }];
        image.bytes_uploaded = 10_283;
        let mut r = Report::new("image build", image);
        r.conclude(
            Verdict::Succeeded,
            format!("pushed {digest} (10283 bytes sent) as `4f2c1a9`"),
        );
        r
    }

    #[test]
    fn push_plan() {
        insta::assert_snapshot!(rebuilt().details.plan_text());
    }

    #[test]
    fn the_plan_names_where_the_platforms_came_from_and_their_sizes() {
        let mut r = rebuilt();
        r.details.platforms = vec!["linux/arm64".into()];
        r.details.platform_sizes = vec![PlatformSize {
            platform: "linux/arm64".into(),
            bytes: 43_210_987,
        }];
        r.details.platform_origin = Some(PlatformOrigin::Service {
            cluster: "prod".into(),
            service: "web".into(),
            task_definition: "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7".into(),
        });
        let plan = r.details.plan_text();
        assert!(
            plan.starts_with(
                "push plan for `shop/web-front`:\n  platforms (from service `web`'s task definition `web:7`):\n    linux/arm64  43.2 MB\n"
            ),
            "{plan}"
        );
        r.details.platform_origin = Some(PlatformOrigin::Default);
        assert!(r.details.plan_text().contains(
            "  platforms (the default; `--platform` chooses others, `--platform all` every one):\n"
        ));
        let json = serde_json::to_value(&r.details).unwrap();
        assert_eq!(
            json["platform_sizes"],
            serde_json::json!([{"platform": "linux/arm64", "bytes": 43_210_987}])
        );
        assert_eq!(
            json["platform_origin"],
            serde_json::json!({"from": "default"})
        );
    }

    #[test]
    fn bytes_read_like_people_write_them() {
        let cases = [
            (0, "0 B"),
            (999, "999 B"),
            (1_000, "1.0 kB"),
            (43_210_987, "43.2 MB"),
            (1_260_000_000, "1.3 GB"),
        ];
        for (n, want) in cases {
            assert_eq!(human_bytes(n), want);
        }
    }

    #[test]
    fn summary_of_a_push() {
        insta::assert_snapshot!(rebuilt().summary());
    }

    #[test]
    fn outputs_count_blobs_by_action() {
        let outputs = rebuilt().outputs();
        let get = |k| outputs.get(k).unwrap().to_string();
        assert_eq!(
            [
                get("blobs-uploaded"),
                get("blobs-copied"),
                get("blobs-mounted"),
                get("blobs-skipped")
            ],
            ["2", "0", "1", "1"]
        );
        assert!(get("plan").starts_with("push plan for `shop/web-front`:"));
    }

    fn rollout(verdict: Verdict, headline: &str) -> Report<DeployReport> {
        let mut d = Report::new("ecs deploy", DeployReport::new("prod", "front"));
        d.details.deployment_id = Some("ecs-svc/7".into());
        d.conclude(verdict, headline);
        d
    }

    #[test]
    fn a_rollout_that_is_not_green_decides_the_verdict() {
        let (v, headline, problem) = NginxReport::compose(
            Verdict::Succeeded,
            "pushed sha256:ab",
            None,
            Some(&rollout(Verdict::RolledBack, "deployment ecs-svc/7 failed")),
        );
        assert_eq!(v, Verdict::RolledBack);
        assert_eq!(
            headline,
            "pushed sha256:ab; the rollout of `front`: rolled-back: deployment ecs-svc/7 failed"
        );
        assert!(problem.is_none());
        let green = rollout(Verdict::Succeeded, "deployment ecs-svc/7 completed");
        assert_eq!(
            NginxReport::compose(Verdict::NoChange, "nothing pushed", None, Some(&green)),
            (
                Verdict::NoChange,
                "nothing pushed; the rollout of `front`: succeeded: deployment ecs-svc/7 completed"
                    .to_string(),
                None
            )
        );
        let failed_image = Problem::new("the base image was not found");
        let (v, _, p) = NginxReport::compose(
            Verdict::InvalidInput,
            "the base image was not found",
            Some(&failed_image),
            None,
        );
        assert_eq!((v, p), (Verdict::InvalidInput, Some(failed_image)));
    }

    #[test]
    fn nginx_outputs_carry_the_rollout() {
        let image = rebuilt();
        let deploy = rollout(Verdict::Succeeded, "deployment ecs-svc/7 completed");
        let mut r = Report::new(
            "nginx build",
            NginxReport {
                image: image.details.clone(),
                image_verdict: Some((image.verdict, image.headline.clone())),
                deploy: Some(deploy),
            },
        );
        r.conclude(image.verdict, image.headline.clone());
        let outputs = r.outputs();
        assert_eq!(outputs.get("deploy-verdict"), Some("succeeded"));
        assert_eq!(outputs.get("deployment-id"), Some("ecs-svc/7"));
        assert!(r.summary().contains(
            "\nRollout of `front` in `prod`: **succeeded**, deployment ecs-svc/7 completed\n"
        ));
    }
}
