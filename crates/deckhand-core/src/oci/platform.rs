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
        let available = || {
            platforms
                .iter()
                .flatten()
                .filter(|p| !p.is_attestation())
                .map(Platform::to_string)
                .collect::<Vec<_>>()
                .join(", ")
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
                    return Err("the base index lists no image (only attestations)".to_string());
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
                        return Err(format!(
                            "the base has no `{w}` image; it has: {}",
                            available()
                        ));
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
}
