//! `ecr prepare`: before a Dockerfile build pushes to ECR, which repository (its full URI),
//! whether it exists (or is to be created), and whether the build can be skipped because its
//! first tag already names an image that cannot have moved.
//!
//! The rule ([`decide`]): the build is skipped (`reuse`) exactly when the FIRST tag exists and
//! is immutable in the repository. An immutable tag names the bytes pushed under it once, so
//! a re-run of the same commit deploys that digest instead of failing to push over it
//! (docker/build-push-action#1042). A mutable tag that exists may have been moved by anyone,
//! so the image is built again. A build that would push a later tag which already exists and
//! is immutable would fail after the whole build: that is bad input, found first.

use serde::Serialize;

use super::ecr::{EcrHost, parse_ecr_host, validate_repository_name};
use crate::image_ref::validate_tag;
use crate::report::{Details, Outputs, Problem, Report, escape_md, icon};

/// Outputs of `ecr prepare`.
pub const ECR_PREPARE_OUTPUTS: &[&str] = &[
    "verdict",
    "exit-code",
    "repository",
    "registry",
    "exists",
    "reuse",
    "digest",
    "image",
    "tags",
    "created",
    "failure-report",
];

/// `--repository` as given: a bare name in the caller's registry, or a full ECR URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepositoryArg {
    /// `team/web`: the account and region of the credentials.
    Name(String),
    /// `ACCOUNT.dkr.ecr.REGION.amazonaws.com/team/web`.
    Uri {
        /// The registry host.
        host: String,
        /// Its account and region.
        ecr: EcrHost,
        /// The repository name.
        name: String,
    },
}

impl RepositoryArg {
    /// The repository name.
    pub fn name(&self) -> &str {
        match self {
            Self::Name(n) | Self::Uri { name: n, .. } => n,
        }
    }

    /// The registry id (account) to ask, when the URI names one.
    pub fn registry_id(&self) -> Option<&str> {
        match self {
            Self::Name(_) => None,
            Self::Uri { ecr, .. } => Some(&ecr.account),
        }
    }

    /// The region the URI names.
    pub fn region(&self) -> Option<&str> {
        match self {
            Self::Name(_) => None,
            Self::Uri { ecr, .. } => Some(&ecr.region),
        }
    }
}

/// Parses `--repository`: a first path component with a `.` or `:` is a registry host, which
/// must be an ECR host; the rest is the repository name, validated as ECR validates it.
pub fn parse_repository_arg(text: &str) -> Result<RepositoryArg, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("the repository is empty".into());
    }
    if text.contains(['@'])
        || text
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains(':'))
    {
        return Err(format!(
            "`{text}` names an image, not a repository: give the repository without a tag or digest"
        ));
    }
    let arg = match text.split_once('/') {
        Some((host, name)) if host.contains('.') || host.contains(':') || host == "localhost" => {
            let ecr = parse_ecr_host(host).ok_or_else(|| {
                format!("`{host}` is not an ECR registry (`ACCOUNT.dkr.ecr.REGION.amazonaws.com`)")
            })?;
            RepositoryArg::Uri {
                host: host.to_string(),
                ecr,
                name: name.to_string(),
            }
        }
        _ => RepositoryArg::Name(text.to_string()),
    };
    validate_repository_name(arg.name())?;
    Ok(arg)
}

/// Validates the `--tag` values (bare tags, not references); at least one.
pub fn parse_tags(values: &[String]) -> Result<Vec<String>, String> {
    let tags: Vec<String> = values
        .iter()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect();
    if tags.is_empty() {
        return Err(
            "no tag given: the first tag is the one looked up (the commit SHA, say)".into(),
        );
    }
    for t in &tags {
        if t.contains(['/', ':', '@']) {
            return Err(format!(
                "`--tag {t}` is a reference; give the tag alone (`--repository` names the repository)"
            ));
        }
        validate_tag(t)?;
    }
    Ok(tags)
}

/// A tag as the repository has it now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagState {
    /// The tag.
    pub tag: String,
    /// The digest it names, when it exists.
    pub digest: Option<String>,
    /// Whether the repository's mutability settings make it immutable.
    pub immutable: bool,
}

/// What the tags say about the build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The first tag exists.
    pub exists: bool,
    /// Skip the build and deploy `digest`: the first tag exists and is immutable.
    pub reuse: bool,
    /// The digest of the first tag, when it exists.
    pub digest: Option<String>,
    /// Tags the skipped build leaves as they are although they do not name `digest`.
    pub warnings: Vec<String>,
}

/// Decides from the tags' states (the first tag first) in `repository` (for messages).
pub fn decide(repository: &str, tags: &[TagState]) -> Result<Decision, Problem> {
    let Some(first) = tags.first() else {
        return Err(Problem::new("no tag given"));
    };
    let exists = first.digest.is_some();
    let reuse = exists && first.immutable;
    let mut warnings = Vec::new();
    if reuse {
        let digest = first.digest.as_deref().unwrap_or_default();
        for t in &tags[1..] {
            match &t.digest {
                None => warnings.push(format!(
                    "tag `{}` is not in `{repository}` and is not pushed: the build is skipped because `{}` already exists",
                    t.tag, first.tag
                )),
                Some(d) if d != digest => warnings.push(format!(
                    "tag `{}` names {d}, not {digest}, and is left as it is: the build is skipped because `{}` already exists",
                    t.tag, first.tag
                )),
                Some(_) => {}
            }
        }
    } else if let Some(t) = tags.iter().find(|t| t.immutable && t.digest.is_some()) {
        return Err(Problem::new(format!(
            "tag `{}` already exists in `{repository}` ({}) and is immutable, so pushing a new build under it would fail",
            t.tag,
            t.digest.as_deref().unwrap_or_default()
        ))
        .on(format!("{repository}:{}", t.tag))
        .with_hint(format!(
            "drop `{}` from the tags, or put it first (a first tag that exists is reused, not rebuilt), or exempt it from immutability (IMMUTABLE_WITH_EXCLUSION)",
            t.tag
        )));
    }
    Ok(Decision {
        exists,
        reuse,
        digest: first.digest.clone(),
        warnings,
    })
}

/// What `ecr prepare` reports besides its verdict and headline.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EcrPrepare {
    /// `REGISTRY/NAME`, once known.
    pub repository: String,
    /// The registry host.
    pub registry: String,
    /// The repository name.
    pub name: String,
    /// Its tag mutability (`MUTABLE`, `IMMUTABLE`, ...), once known.
    pub tag_mutability: Option<String>,
    /// This run created it.
    pub created: bool,
    /// A dry run that would have created it.
    pub would_create: bool,
    /// Each tag, the first one first.
    pub tags: Vec<TagState>,
    /// The first tag exists.
    pub exists: bool,
    /// Skip the build and deploy `image`.
    pub reuse: bool,
    /// The digest of the first tag, when it exists.
    pub digest: Option<String>,
    /// `REPOSITORY@DIGEST`, when the first tag exists.
    pub image: Option<String>,
    /// Tags a skipped build leaves not naming `digest`.
    pub warnings: Vec<String>,
}

impl EcrPrepare {
    /// `REPOSITORY:TAG` for each tag, one per line (build-push-action's `tags`).
    pub fn tag_refs(&self) -> String {
        if self.repository.is_empty() {
            return String::new();
        }
        self.tags
            .iter()
            .map(|t| format!("{}:{}", self.repository, t.tag))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Details for EcrPrepare {
    const OUTPUTS: &'static [&'static str] = ECR_PREPARE_OUTPUTS;

    fn subject(&self) -> String {
        if self.repository.is_empty() {
            self.name.clone()
        } else {
            self.repository.clone()
        }
    }

    fn outputs(report: &Report<Self>, outputs: &mut Outputs) {
        let d = &report.details;
        let known = report.verdict.is_ok();
        outputs.set("repository", d.repository.clone());
        outputs.set("registry", d.registry.clone());
        if known {
            outputs.set("exists", d.exists.to_string());
            outputs.set("reuse", d.reuse.to_string());
            outputs.set("tags", d.tag_refs());
        }
        outputs.set("digest", d.digest.clone().unwrap_or_default());
        outputs.set("image", d.image.clone().unwrap_or_default());
        outputs.set("created", d.created.to_string());
    }

    fn summary(report: &Report<Self>) -> String {
        let d = &report.details;
        let mut md = format!(
            "### {} ecr prepare `{}`: {}\n\n{}\n",
            icon(report.verdict),
            escape_md(&report.details.subject()),
            report.verdict,
            escape_md(&report.headline)
        );
        if !d.tags.is_empty() && report.verdict.is_ok() {
            md.push_str("\n| tag | digest | immutable |\n| --- | --- | --- |\n");
            for t in &d.tags {
                md.push_str(&format!(
                    "| `{}` | {} | {} |\n",
                    escape_md(&t.tag),
                    t.digest
                        .as_deref()
                        .map_or("(absent)".to_string(), |d| format!("`{d}`")),
                    if t.immutable { "yes" } else { "no" }
                ));
            }
        }
        for w in &d.warnings {
            md.push_str(&format!("\n**warning:** {}\n", escape_md(w)));
        }
        md
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(tag: &str, digest: Option<&str>, immutable: bool) -> TagState {
        TagState {
            tag: tag.into(),
            digest: digest.map(str::to_string),
            immutable,
        }
    }

    #[test]
    fn repository_args_are_names_or_ecr_uris() {
        assert_eq!(
            parse_repository_arg("team/web"),
            Ok(RepositoryArg::Name("team/web".into()))
        );
        let uri =
            parse_repository_arg("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/web").unwrap();
        assert_eq!(uri.name(), "team/web");
        assert_eq!(uri.registry_id(), Some("123456789012"));
        assert_eq!(uri.region(), Some("eu-west-1"));
        for (bad, why) in [
            ("", "empty"),
            ("ghcr.io/team/web", "not an ECR registry"),
            ("team/web:v1", "names an image"),
            ("team/web@sha256:00", "names an image"),
            ("Team/web", "lowercase"),
        ] {
            let err = parse_repository_arg(bad).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn tags_are_bare_and_at_least_one() {
        assert_eq!(
            parse_tags(&["abc123\n".into(), String::new(), "latest".into()]),
            Ok(vec!["abc123".to_string(), "latest".to_string()])
        );
        assert!(parse_tags(&[]).unwrap_err().contains("no tag"));
        assert!(
            parse_tags(&["repo:v1".into()])
                .unwrap_err()
                .contains("give the tag alone")
        );
        assert!(parse_tags(&["-x".into()]).unwrap_err().contains("must be"));
    }

    #[test]
    fn an_existing_immutable_first_tag_is_reused() {
        let d = decide(
            "r",
            &[
                state("sha", Some("sha256:a"), true),
                state("v1", None, true),
                state("latest", Some("sha256:b"), false),
            ],
        )
        .unwrap();
        assert!(d.exists && d.reuse);
        assert_eq!(d.digest.as_deref(), Some("sha256:a"));
        assert_eq!(d.warnings.len(), 2, "{:?}", d.warnings);
        assert!(d.warnings[0].contains("`v1` is not in `r`"));
        assert!(d.warnings[1].contains("`latest` names sha256:b"));
    }

    #[test]
    fn an_existing_mutable_first_tag_is_rebuilt() {
        let d = decide("r", &[state("latest", Some("sha256:a"), false)]).unwrap();
        assert!(d.exists && !d.reuse);
        assert!(d.warnings.is_empty());
        let d = decide("r", &[state("sha", None, true)]).unwrap();
        assert!(!d.exists && !d.reuse && d.digest.is_none());
    }

    #[test]
    fn a_build_that_would_push_over_an_immutable_tag_is_bad_input() {
        let p = decide(
            "r",
            &[
                state("sha", None, true),
                state("stable", Some("sha256:b"), true),
            ],
        )
        .unwrap_err();
        assert!(p.message.contains("tag `stable` already exists in `r`"));
        assert_eq!(p.resource.as_deref(), Some("r:stable"));
        assert!(p.hint.unwrap().contains("put it first"));
    }
}
