//! Platforms (`os/arch[/variant]`) and which of a base index's entries a build covers.

use std::fmt;

/// One platform of an image.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl Platform {
    /// Parses `os/arch[/variant]`, e.g. `linux/arm64/v8`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let parts: Vec<&str> = text.split('/').collect();
        let ok = |s: &&str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        };
        if !(2..=3).contains(&parts.len()) || !parts.iter().all(ok) {
            return Err(format!(
                "platform `{text}` is not `OS/ARCH` or `OS/ARCH/VARIANT` (e.g. `linux/amd64`, `linux/arm64/v8`)"
            ));
        }
        Ok(Self {
            os: parts[0].to_string(),
            architecture: parts[1].to_string(),
            variant: parts.get(2).map(|v| v.to_string()),
        })
    }

    /// The platform of an index entry (`platform` object), if it has one.
    pub fn of_descriptor(descriptor: &serde_json::Value) -> Option<Self> {
        let p = descriptor.get("platform")?;
        Some(Self {
            os: p.get("os")?.as_str()?.to_string(),
            architecture: p.get("architecture")?.as_str()?.to_string(),
            variant: p
                .get("variant")
                .and_then(|v| v.as_str())
                .map(str::to_string),
        })
    }

    /// Attestation manifests (buildx provenance and SBOMs) are listed as `unknown/unknown`.
    pub fn is_attestation(&self) -> bool {
        self.os == "unknown" && self.architecture == "unknown"
    }

    /// True when a wanted platform selects this one: a wanted platform without a variant
    /// matches every variant (`linux/arm64` selects `linux/arm64/v8`).
    fn selected_by(&self, wanted: &Platform) -> bool {
        self.os == wanted.os
            && self.architecture == wanted.architecture
            && (wanted.variant.is_none() || wanted.variant == self.variant)
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// Which platforms of a multi-platform base a build covers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PlatformFilter {
    /// Every platform of the base (attestations excepted).
    #[default]
    All,
    /// These; each must exist in the base.
    Only(Vec<Platform>),
}

impl PlatformFilter {
    /// From the `--platform` values: `all`, or `OS/ARCH[/VARIANT]` each (commas allowed).
    pub fn parse(values: &[String]) -> Result<Self, String> {
        let items: Vec<&str> = values
            .iter()
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect();
        if items.is_empty() || items == ["all"] {
            return Ok(Self::All);
        }
        if items.contains(&"all") {
            return Err("`--platform all` cannot be combined with named platforms".to_string());
        }
        items
            .into_iter()
            .map(Platform::parse)
            .collect::<Result<_, _>>()
            .map(Self::Only)
    }

    /// The index entries (positions in `platforms`) to build, or an error naming a wanted
    /// platform the base lacks. `platforms` holds each entry's platform (None when absent).
    pub fn select(&self, platforms: &[Option<Platform>]) -> Result<Vec<usize>, String> {
        self.pick(platforms).map_err(|m| match m {
            Pick::Empty => "the base index lists no image (only attestations)".to_string(),
            Pick::Missing { wanted, available } => {
                format!("the base has no `{wanted}` image; it has: {available}")
            }
        })
    }

    fn pick(&self, platforms: &[Option<Platform>]) -> Result<Vec<usize>, Pick> {
        let available = || {
            let listed: Vec<String> = platforms
                .iter()
                .flatten()
                .filter(|p| !p.is_attestation())
                .map(Platform::to_string)
                .collect();
            if listed.is_empty() {
                "no platform listed".to_string()
            } else {
                listed.join(", ")
            }
        };
        match self {
            Self::All => {
                let picked: Vec<usize> = platforms
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.as_ref().is_none_or(|p| !p.is_attestation()))
                    .map(|(i, _)| i)
                    .collect();
                if picked.is_empty() {
                    return Err(Pick::Empty);
                }
                Ok(picked)
            }
            Self::Only(wanted) => {
                let mut picked = Vec::new();
                for w in wanted {
                    let matches: Vec<usize> = platforms
                        .iter()
                        .enumerate()
                        .filter(|(_, p)| p.as_ref().is_some_and(|p| p.selected_by(w)))
                        .map(|(i, _)| i)
                        .collect();
                    if matches.is_empty() {
                        return Err(Pick::Missing {
                            wanted: w.clone(),
                            available: available(),
                        });
                    }
                    picked.extend(matches);
                }
                picked.sort_unstable();
                picked.dedup();
                Ok(picked)
            }
        }
    }
}

/// Why a filter picked nothing.
enum Pick {
    /// The index lists only attestations.
    Empty,
    /// A wanted platform is not in the base.
    Missing { wanted: Platform, available: String },
}

/// The platform ECS runs a task definition's containers on, from its `runtimePlatform`
/// (`operatingSystemFamily`, `cpuArchitecture`): `LINUX`/`X86_64` is `linux/amd64`, `ARM64`
/// is `linux/arm64`, the `WINDOWS_SERVER_*` families are `windows`; without it (or without
/// either field) ECS runs `LINUX` on `X86_64`. An architecture or family ECS does not define
/// is an error.
pub fn runtime_platform(runtime_platform: Option<&serde_json::Value>) -> Result<Platform, String> {
    let field = |name: &str| {
        runtime_platform
            .and_then(|r| r.get(name))
            .and_then(serde_json::Value::as_str)
    };
    let os = match field("operatingSystemFamily") {
        None | Some("LINUX") => "linux",
        Some(f) if f.starts_with("WINDOWS_SERVER_") => "windows",
        Some(other) => {
            return Err(format!(
                "its `runtimePlatform.operatingSystemFamily` is `{other}`, which deckhand does not know (`LINUX`, `WINDOWS_SERVER_*`)"
            ));
        }
    };
    let architecture = match field("cpuArchitecture") {
        None | Some("X86_64") => "amd64",
        Some("ARM64") => "arm64",
        Some(other) => {
            return Err(format!(
                "its `runtimePlatform.cpuArchitecture` is `{other}`, which deckhand does not know (`X86_64`, `ARM64`)"
            ));
        }
    };
    Ok(Platform {
        os: os.to_string(),
        architecture: architecture.to_string(),
        variant: None,
    })
}

/// Where the platforms a build covers were decided.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum PlatformOrigin {
    /// `--platform`.
    Flag,
    /// The platform of the service the image is rolled to (`nginx build --deploy-*`): its
    /// task definition's `runtimePlatform`.
    Service {
        cluster: String,
        service: String,
        task_definition: String,
    },
    /// Nothing chose: `linux/amd64`, what ECS runs a task definition without `runtimePlatform` on.
    Default,
    /// A single-platform base without `--platform` or a service: built as it is.
    Base,
}

impl PlatformOrigin {
    /// How the plan names it, e.g. `from service `web`'s task definition `web:3``.
    pub fn describe(&self) -> String {
        match self {
            Self::Flag => "chosen by `--platform`".to_string(),
            Self::Service {
                service,
                task_definition,
                ..
            } => format!(
                "from service `{service}`'s task definition `{}`",
                short_task_definition(task_definition)
            ),
            Self::Default => {
                "the default; `--platform` chooses others, `--platform all` every one".to_string()
            }
            Self::Base => "the base's only image".to_string(),
        }
    }
}

/// `family:revision` of a task definition ARN (the text itself when it is not an ARN).
fn short_task_definition(arn: &str) -> &str {
    arn.rsplit_once('/').map_or(arn, |(_, tail)| tail)
}

/// The platform used when neither `--platform` nor a service says: what ECS runs by default.
pub fn default_platform() -> Platform {
    Platform {
        os: "linux".into(),
        architecture: "amd64".into(),
        variant: None,
    }
}

/// A base that cannot serve the platforms chosen: what is wrong and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformMismatch {
    pub message: String,
    pub hint: String,
}

/// The platforms a build covers and where that was decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformChoice {
    pub filter: PlatformFilter,
    pub origin: PlatformOrigin,
}

impl PlatformChoice {
    /// From the `--platform` values: those when given (`all` included), else the default
    /// (`linux/amd64`), which a deploy may replace with its service's platform
    /// ([`Self::for_service`]).
    pub fn from_flag(values: &[String]) -> Result<Self, String> {
        let given = values
            .iter()
            .any(|v| !v.trim().trim_matches(',').is_empty());
        if given {
            return PlatformFilter::parse(values).map(|filter| Self {
                filter,
                origin: PlatformOrigin::Flag,
            });
        }
        Ok(Self {
            filter: PlatformFilter::Only(vec![default_platform()]),
            origin: PlatformOrigin::Default,
        })
    }

    /// The platform a service's task definition runs (its `runtimePlatform`).
    pub fn for_service(
        cluster: &str,
        service: &str,
        task_definition: &str,
        runtime: Option<&serde_json::Value>,
    ) -> Result<Self, String> {
        let platform = runtime_platform(runtime).map_err(|m| {
            format!(
                "cannot tell the platform service `{service}` runs: task definition `{}`: {m}",
                short_task_definition(task_definition)
            )
        })?;
        Ok(Self {
            filter: PlatformFilter::Only(vec![platform]),
            origin: PlatformOrigin::Service {
                cluster: cluster.to_string(),
                service: service.to_string(),
                task_definition: task_definition.to_string(),
            },
        })
    }

    /// True when nothing chose (no `--platform`): a deploy target may decide instead.
    pub fn is_default(&self) -> bool {
        self.origin == PlatformOrigin::Default
    }

    /// Where the platforms of a build on this base were decided, as reported: the default
    /// does not apply to a single-platform base (see [`Self::check_single`]).
    pub fn origin_for(&self, base_is_index: bool) -> PlatformOrigin {
        match &self.origin {
            PlatformOrigin::Default if !base_is_index => PlatformOrigin::Base,
            other => other.clone(),
        }
    }

    /// The entries of a base index to build (see [`PlatformFilter::select`]); `base` names
    /// the base in the error.
    pub fn select(
        &self,
        base: &str,
        platforms: &[Option<Platform>],
    ) -> Result<Vec<usize>, PlatformMismatch> {
        self.filter.pick(platforms).map_err(|m| match m {
            Pick::Empty => PlatformMismatch {
                message: format!("base `{base}`: its index lists no image (only attestations)"),
                hint: "use another base".to_string(),
            },
            Pick::Missing { wanted, available } => self.missing(base, &wanted, &available),
        })
    }

    /// A single-manifest base (no index) is one platform, which its config names: with
    /// `--platform` or a service's platform, that one must be chosen; by default it is built
    /// as it is (the default picks from an index, it does not judge a base that has one image).
    /// A config that names no platform is not checked.
    pub fn check_single(
        &self,
        base: &str,
        config_platform: Option<&Platform>,
    ) -> Result<(), PlatformMismatch> {
        let Some(p) = config_platform else {
            return Ok(());
        };
        if self.origin == PlatformOrigin::Default {
            return Ok(());
        }
        match self.filter.pick(std::slice::from_ref(&Some(p.clone()))) {
            Ok(_) => Ok(()),
            Err(Pick::Missing { wanted, .. }) => {
                let mut m = self.missing(base, &wanted, &p.to_string());
                if let PlatformOrigin::Service { .. } = self.origin {
                    m.hint = format!(
                        "use a base built for {wanted} (or a multi-platform one), or pass `--platform {p}` to build it anyway"
                    );
                }
                Err(m)
            }
            Err(Pick::Empty) => Ok(()),
        }
    }

    fn missing(&self, base: &str, wanted: &Platform, available: &str) -> PlatformMismatch {
        let message = format!("base `{base}` has no `{wanted}` image; it has: {available}");
        match &self.origin {
            PlatformOrigin::Flag | PlatformOrigin::Base => PlatformMismatch {
                message,
                hint: "pass `--platform` with platforms the base has, or `--platform all`"
                    .to_string(),
            },
            PlatformOrigin::Service {
                service,
                task_definition,
                ..
            } => PlatformMismatch {
                message: format!(
                    "{message}; `{wanted}` is the platform service `{service}` runs (`runtimePlatform` of task definition `{}`)",
                    short_task_definition(task_definition)
                ),
                hint: format!(
                    "use a base that has a `{wanted}` image, or pass `--platform` to build another platform anyway (the service cannot run it)"
                ),
            },
            PlatformOrigin::Default => PlatformMismatch {
                message: format!(
                    "{message}; `{wanted}` is the default platform (no `--platform` given)"
                ),
                hint: "pass `--platform` with the platform to build (for example `--platform linux/arm64`), or `--platform all`".to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Option<Platform> {
        Some(Platform::parse(text).unwrap())
    }

    #[test]
    fn all_skips_attestations_and_named_platforms_must_exist() {
        let base = [
            p("linux/amd64"),
            p("linux/arm64/v8"),
            p("unknown/unknown"),
            p("unknown/unknown"),
        ];
        assert_eq!(PlatformFilter::All.select(&base), Ok(vec![0, 1]));
        let arm = PlatformFilter::parse(&["linux/arm64".to_string()]).unwrap();
        assert_eq!(arm.select(&base), Ok(vec![1]));
        let both = PlatformFilter::parse(&["linux/arm64/v8,linux/amd64".to_string()]).unwrap();
        assert_eq!(both.select(&base), Ok(vec![0, 1]));
        let missing = PlatformFilter::parse(&["linux/s390x".to_string()]).unwrap();
        assert_eq!(
            missing.select(&base).unwrap_err(),
            "the base has no `linux/s390x` image; it has: linux/amd64, linux/arm64/v8"
        );
    }

    #[test]
    fn bad_platforms_are_refused() {
        for bad in ["linux", "linux/", "a/b/c/d", "linux/amd 64"] {
            assert!(Platform::parse(bad).is_err(), "{bad}");
        }
        assert!(PlatformFilter::parse(&["all".into(), "linux/amd64".into()]).is_err());
        assert_eq!(PlatformFilter::parse(&[]), Ok(PlatformFilter::All));
    }

    #[test]
    fn runtime_platform_maps_to_the_platform_ecs_runs() {
        use serde_json::json;
        let cases = [
            (None, "linux/amd64"),
            (Some(json!({})), "linux/amd64"),
            (
                Some(json!({"operatingSystemFamily": "LINUX"})),
                "linux/amd64",
            ),
            (
                Some(json!({"operatingSystemFamily": "LINUX", "cpuArchitecture": "X86_64"})),
                "linux/amd64",
            ),
            (
                Some(json!({"operatingSystemFamily": "LINUX", "cpuArchitecture": "ARM64"})),
                "linux/arm64",
            ),
            (Some(json!({"cpuArchitecture": "ARM64"})), "linux/arm64"),
            (
                Some(
                    json!({"operatingSystemFamily": "WINDOWS_SERVER_2022_CORE", "cpuArchitecture": "X86_64"}),
                ),
                "windows/amd64",
            ),
        ];
        for (runtime, want) in cases {
            assert_eq!(
                runtime_platform(runtime.as_ref()).map(|p| p.to_string()),
                Ok(want.to_string()),
                "{runtime:?}"
            );
        }
        assert_eq!(
            runtime_platform(Some(&json!({"cpuArchitecture": "RISCV"}))).unwrap_err(),
            "its `runtimePlatform.cpuArchitecture` is `RISCV`, which deckhand does not know (`X86_64`, `ARM64`)"
        );
        assert!(runtime_platform(Some(&json!({"operatingSystemFamily": "BSD"}))).is_err());
    }

    #[test]
    fn the_default_is_linux_amd64_unless_the_flag_or_a_service_says() {
        let none = PlatformChoice::from_flag(&[]).unwrap();
        assert_eq!(none.filter, PlatformFilter::Only(vec![default_platform()]));
        assert!(none.is_default());
        // The action passes an empty input as an empty value.
        assert!(
            PlatformChoice::from_flag(&[String::new()])
                .unwrap()
                .is_default()
        );
        let all = PlatformChoice::from_flag(&["all".into()]).unwrap();
        assert_eq!(
            (all.filter, all.origin),
            (PlatformFilter::All, PlatformOrigin::Flag)
        );
        let arm = PlatformChoice::from_flag(&["linux/arm64".into()]).unwrap();
        assert_eq!(arm.origin, PlatformOrigin::Flag);
        assert!(!arm.is_default());
        let service = PlatformChoice::for_service(
            "prod",
            "web",
            "arn:aws:ecs:us-east-1:123456789012:task-definition/web:3",
            Some(
                &serde_json::json!({"operatingSystemFamily": "LINUX", "cpuArchitecture": "ARM64"}),
            ),
        )
        .unwrap();
        assert_eq!(
            service.filter,
            PlatformFilter::Only(vec![Platform::parse("linux/arm64").unwrap()])
        );
        assert_eq!(
            service.origin.describe(),
            "from service `web`'s task definition `web:3`"
        );
        let unknown = PlatformChoice::for_service(
            "prod",
            "web",
            "web:3",
            Some(&serde_json::json!({"cpuArchitecture": "MIPS"})),
        )
        .unwrap_err();
        assert!(
            unknown.starts_with(
                "cannot tell the platform service `web` runs: task definition `web:3`: "
            ),
            "{unknown}"
        );
    }

    #[test]
    fn a_missing_platform_says_where_the_choice_came_from() {
        let base = [p("linux/amd64"), p("unknown/unknown")];
        let service = PlatformChoice::for_service(
            "prod",
            "web",
            "arn:aws:ecs:us-east-1:123456789012:task-definition/web:3",
            Some(&serde_json::json!({"cpuArchitecture": "ARM64"})),
        )
        .unwrap();
        let err = service.select("nginx:stable", &base).unwrap_err();
        assert_eq!(
            err.message,
            "base `nginx:stable` has no `linux/arm64` image; it has: linux/amd64; `linux/arm64` is the platform service `web` runs (`runtimePlatform` of task definition `web:3`)"
        );
        assert!(err.hint.contains("`--platform`"), "{}", err.hint);
        let arm_only = [p("linux/arm64/v8")];
        let default = PlatformChoice::from_flag(&[]).unwrap();
        let err = default.select("nginx:stable", &arm_only).unwrap_err();
        assert_eq!(
            err.message,
            "base `nginx:stable` has no `linux/amd64` image; it has: linux/arm64/v8; `linux/amd64` is the default platform (no `--platform` given)"
        );
        assert!(err.hint.contains("`--platform all`"), "{}", err.hint);
        assert_eq!(service.select("nginx:stable", &arm_only), Ok(vec![0]));
        let flag = PlatformChoice::from_flag(&["linux/s390x".into()]).unwrap();
        assert_eq!(
            flag.select("b", &base).unwrap_err().message,
            "base `b` has no `linux/s390x` image; it has: linux/amd64"
        );
    }

    #[test]
    fn a_single_platform_base_is_checked_against_a_chosen_platform_only() {
        let arm = Platform::parse("linux/arm64").unwrap();
        let default = PlatformChoice::from_flag(&[]).unwrap();
        assert_eq!(default.check_single("b", Some(&arm)), Ok(()));
        assert_eq!(default.origin_for(false), PlatformOrigin::Base);
        assert_eq!(default.origin_for(true), PlatformOrigin::Default);
        let service = PlatformChoice::for_service("prod", "web", "web:3", None).unwrap();
        let err = service.check_single("b", Some(&arm)).unwrap_err();
        assert_eq!(
            err.message,
            "base `b` has no `linux/amd64` image; it has: linux/arm64; `linux/amd64` is the platform service `web` runs (`runtimePlatform` of task definition `web:3`)"
        );
        assert_eq!(
            err.hint,
            "use a base built for linux/amd64 (or a multi-platform one), or pass `--platform linux/arm64` to build it anyway"
        );
        assert_eq!(service.check_single("b", None), Ok(()));
        assert_eq!(service.origin_for(false), service.origin);
        let flag = PlatformChoice::from_flag(&["linux/amd64".into()]).unwrap();
        assert!(flag.check_single("b", Some(&arm)).is_err());
        assert_eq!(
            PlatformChoice::from_flag(&["linux/arm64".into()])
                .unwrap()
                .check_single("b", Some(&arm)),
            Ok(())
        );
    }
}
