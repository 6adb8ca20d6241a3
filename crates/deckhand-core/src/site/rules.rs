//! Which headers each object gets, which files are entry points (uploaded last), and which
//! files are skipped: from an optional rules file, over defaults that suit Vite, CRA and Next
//! static builds.
//!
//! ```yaml
//! entry: ["*.html", "sw.js"]          # replaces the default entry list
//! include: [".well-known/**"]         # uploads files that are skipped by default
//! exclude: ["**/*.map"]
//! rules:                              # per header, the first rule that matches and sets it wins
//!   - match: "assets/**"
//!     cache-control: "public, max-age=31536000, immutable"
//!   - match: ["*.json", "*.txt"]
//!     compress: gzip
//! ```

use std::path::Path;

use serde::Deserialize;

use super::content_type::media_type;
use super::glob::{Glob, GlobError};
use crate::document::{DocumentError, parse_yaml_as};

/// Cache-Control for content-hashed assets.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Cache-Control for everything else: always revalidated, never stale.
pub const REVALIDATE: &str = "no-cache";

const DEFAULT_ENTRY: &[&str] = &[
    "*.html",
    "*.htm",
    "sw.js",
    "service-worker.js",
    "*-sw.js",
    "manifest.json",
    "asset-manifest.json",
    "*.webmanifest",
];
/// Skipped unless a rule includes them: version control, OS litter and secrets.
const DEFAULT_SKIP: &[&str] = &[".git/**", "**/.git/**", ".DS_Store", ".env*", "Thumbs.db"];
/// Where Vite (`assets/`), CRA (`static/`) and Next (`_next/static/`) put hashed files.
const HASHED_DIRS: &[&str] = &["assets/", "static/", "_next/static/"];

/// Precompression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// `Content-Encoding: gzip`.
    Gzip,
    /// `Content-Encoding: br`.
    Br,
    /// Stored as is.
    None,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(s) => vec![s],
            Self::Many(v) => v,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RulesFile {
    #[serde(default)]
    entry: Option<Vec<String>>,
    #[serde(default)]
    include: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default)]
    rules: Vec<RuleSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RuleSpec {
    #[serde(rename = "match")]
    pattern: OneOrMany,
    cache_control: Option<String>,
    content_type: Option<String>,
    content_disposition: Option<String>,
    content_language: Option<String>,
    compress: Option<Compression>,
}

#[derive(Debug, Clone)]
struct Rule {
    globs: Vec<Glob>,
    cache_control: Option<String>,
    content_type: Option<String>,
    content_disposition: Option<String>,
    content_language: Option<String>,
    compress: Option<Compression>,
}

/// A rules file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    /// Not valid YAML, or an unknown key or a wrong type.
    #[error("rules file {0}")]
    Document(String),
    /// A glob that cannot be compiled.
    #[error("rules file `{path}`: {source}")]
    Glob {
        /// The file.
        path: String,
        /// The glob problem.
        source: GlobError,
    },
}

impl From<DocumentError> for RulesError {
    fn from(e: DocumentError) -> Self {
        Self::Document(e.to_string())
    }
}

/// Compiled rules.
#[derive(Debug, Clone)]
pub struct SiteRules {
    entry: Vec<Glob>,
    include: Vec<Glob>,
    exclude: Vec<Glob>,
    skip: Vec<Glob>,
    rules: Vec<Rule>,
}

/// The headers an object is stored with.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct ObjectHeaders {
    /// Cache-Control.
    pub cache_control: String,
    /// Content-Type.
    pub content_type: String,
    /// Content-Disposition.
    pub content_disposition: Option<String>,
    /// Content-Language.
    pub content_language: Option<String>,
    /// Precompression (gives Content-Encoding).
    pub compression: Compression,
}

fn globs(path: &str, patterns: &[String]) -> Result<Vec<Glob>, RulesError> {
    patterns
        .iter()
        .map(|p| {
            Glob::new(p).map_err(|source| RulesError::Glob {
                path: path.to_string(),
                source,
            })
        })
        .collect()
}

fn defaults(list: &[&str]) -> Vec<Glob> {
    list.iter()
        .map(|p| Glob::new(p).expect("BUG: built-in glob is valid"))
        .collect()
}

impl Default for SiteRules {
    fn default() -> Self {
        Self {
            entry: defaults(DEFAULT_ENTRY),
            include: Vec::new(),
            exclude: Vec::new(),
            skip: defaults(DEFAULT_SKIP),
            rules: Vec::new(),
        }
    }
}

/// True for what no upload should carry unless asked: version control, OS litter, secrets
/// (`.env*`). Image layers use the same rule as site deploys.
pub fn skipped_by_default(key: &str) -> bool {
    defaults(DEFAULT_SKIP).iter().any(|g| g.matches(key))
}

impl SiteRules {
    /// Reads a rules file (YAML, strict: unknown keys are errors with their line).
    pub fn parse(path: &Path, text: &str) -> Result<Self, RulesError> {
        let file: RulesFile = parse_yaml_as(path, text)?;
        let shown = path.display().to_string();
        let mut rules = Vec::new();
        for spec in file.rules {
            rules.push(Rule {
                globs: globs(&shown, &spec.pattern.into_vec())?,
                cache_control: spec.cache_control,
                content_type: spec.content_type,
                content_disposition: spec.content_disposition,
                content_language: spec.content_language,
                compress: spec.compress,
            });
        }
        Ok(Self {
            entry: match file.entry {
                Some(list) => globs(&shown, &list)?,
                None => defaults(DEFAULT_ENTRY),
            },
            include: globs(&shown, &file.include)?,
            exclude: globs(&shown, &file.exclude)?,
            skip: defaults(DEFAULT_SKIP),
            rules,
        })
    }

    /// True when `key` is not uploaded: excluded by the file, or skipped by default and not
    /// included.
    pub fn is_skipped(&self, key: &str) -> bool {
        let any = |g: &[Glob]| g.iter().any(|g| g.matches(key));
        any(&self.exclude) || (any(&self.skip) && !any(&self.include))
    }

    /// True for entry points (HTML, service workers, manifests): uploaded after everything else.
    pub fn is_entry(&self, key: &str) -> bool {
        self.entry.iter().any(|g| g.matches(key))
    }

    /// The headers for `key`.
    pub fn headers(&self, key: &str) -> ObjectHeaders {
        let matching: Vec<&Rule> = self
            .rules
            .iter()
            .filter(|r| r.globs.iter().any(|g| g.matches(key)))
            .collect();
        let pick = |f: fn(&Rule) -> Option<&String>| matching.iter().find_map(|r| f(r)).cloned();
        let media = media_type(key);
        let compression = matching
            .iter()
            .find_map(|r| r.compress)
            .unwrap_or(Compression::None);
        ObjectHeaders {
            cache_control: pick(|r| r.cache_control.as_ref()).unwrap_or_else(|| {
                if !self.is_entry(key) && looks_content_hashed(key) {
                    IMMUTABLE.into()
                } else {
                    REVALIDATE.into()
                }
            }),
            content_type: pick(|r| r.content_type.as_ref()).unwrap_or(media.content_type),
            content_disposition: pick(|r| r.content_disposition.as_ref()),
            content_language: pick(|r| r.content_language.as_ref()),
            // Compressing a PNG or a WOFF2 again only costs CPU.
            compression: if media.compressible {
                compression
            } else {
                Compression::None
            },
        }
    }
}

/// True when the file name carries a content hash, so the file can be cached forever: the last
/// name token before the extension (`main.3f9a1c2b.js`, `index-BxT3n9aQ.js`) is at least 8
/// characters. Hex hashes (webpack, CRA, Parcel) count anywhere; base64url hashes (Vite, Next)
/// only in the directories those tools write them to, where a mixed-case word is unlikely.
pub fn looks_content_hashed(key: &str) -> bool {
    let name = key.rsplit('/').next().unwrap_or(key);
    let Some((stem, _ext)) = name.rsplit_once('.') else {
        return false;
    };
    // The token after the last `.` or `-` (`main.3f9a1c2b`, `index-2c5ba0f3b7e2f9c1`), or the
    // last 8 characters after a `-` or `.`: Vite's base64url hashes may contain `-` themselves
    // (`index-D-vY0C-J`).
    let after_separator = stem
        .rsplit(['.', '-'])
        .next()
        .filter(|t| t.len() < stem.len());
    let vite_tail = (stem.len() > 9 && stem.is_char_boundary(stem.len() - 9))
        .then(|| &stem[stem.len() - 9..])
        .and_then(|t| t.strip_prefix('-').or_else(|| t.strip_prefix('.')));
    let in_hashed_dir = HASHED_DIRS
        .iter()
        .any(|d| key.starts_with(d) || key.contains(&format!("/{d}")));
    [after_separator, vite_tail]
        .into_iter()
        .flatten()
        .any(|token| {
            if token.len() < 8 {
                return false;
            }
            let hex = token.bytes().all(|b| b.is_ascii_hexdigit())
                && token.bytes().any(|b| b.is_ascii_digit());
            let base64url = token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                && (token.bytes().any(|b| b.is_ascii_digit())
                    || (token.bytes().any(|b| b.is_ascii_uppercase())
                        && token.bytes().any(|b| b.is_ascii_lowercase())));
            hex || (base64url && in_hashed_dir)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names() {
        let cases = [
            ("assets/index-BxT3n9aQ.js", true),
            // The demo's own Vite 7 build: hashes with `-` inside.
            ("assets/index-D-vY0C-J.js", true),
            ("assets/index-BBAZx0L-.css", true),
            ("assets/index-DiwrgTda.css", true),
            ("static/js/main.3f9a1c2b.js", true),
            (
                "static/media/logo.6ce24c58023cc2f8fd88fe9d219db6c6.svg",
                true,
            ),
            ("_next/static/chunks/pages/index-2c5ba0f3b7e2f9c1.js", true),
            ("main.3f9a1c2b.js", true),
            ("favicon.ico", false),
            ("index.html", false),
            ("MyComponent.js", false),
            ("img/DataGrid-preview.png", false),
            ("assets/vendor.js", false),
            ("js/index-DataGrid.js", false),
        ];
        for (key, expected) in cases {
            assert_eq!(looks_content_hashed(key), expected, "{key}");
        }
    }

    #[test]
    fn defaults_suit_a_vite_build() {
        let rules = SiteRules::default();
        let h = rules.headers("assets/index-BxT3n9aQ.js");
        assert_eq!(
            (h.cache_control.as_str(), h.content_type.as_str()),
            (IMMUTABLE, "text/javascript; charset=utf-8")
        );
        for entry in [
            "index.html",
            "docs/index.html",
            "sw.js",
            "manifest.json",
            "site.webmanifest",
        ] {
            assert!(rules.is_entry(entry), "{entry}");
            assert_eq!(rules.headers(entry).cache_control, REVALIDATE, "{entry}");
        }
        assert_eq!(rules.headers("favicon.ico").cache_control, REVALIDATE);
        assert!(!rules.is_entry("assets/index-BxT3n9aQ.js"));
        for skipped in [
            ".env",
            ".env.production",
            ".git/config",
            "sub/.git/HEAD",
            ".DS_Store",
        ] {
            assert!(rules.is_skipped(skipped), "{skipped}");
        }
        assert!(!rules.is_skipped(".well-known/security.txt"));
    }

    #[test]
    fn rules_file_sets_headers_first_match_per_field() {
        let text = r#"
include: [".env.public"]
exclude: ["**/*.map"]
rules:
  - match: "docs/**"
    content-language: en
  - match: ["*.json", "*.html"]
    compress: gzip
    cache-control: "public, max-age=60"
  - match: "*.html"
    cache-control: "ignored: an earlier rule set it"
    content-disposition: inline
  - match: "*.png"
    compress: br
"#;
        let rules = SiteRules::parse(Path::new("site.yml"), text).unwrap();
        let h = rules.headers("docs/index.html");
        assert_eq!(h.cache_control, "public, max-age=60");
        assert_eq!(h.content_language.as_deref(), Some("en"));
        assert_eq!(h.content_disposition.as_deref(), Some("inline"));
        assert_eq!(h.compression, Compression::Gzip);
        assert_eq!(
            rules.headers("img/a.png").compression,
            Compression::None,
            "never on compressed types"
        );
        assert!(rules.is_skipped("assets/app.js.map"));
        assert!(!rules.is_skipped(".env.public"));
        assert!(rules.is_skipped(".env"));
    }

    #[test]
    fn unknown_keys_are_rejected_with_their_line() {
        let err = SiteRules::parse(
            Path::new("site.yml"),
            "rules:\n  - match: '*.js'\n    cache_control: x\n",
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("rules file site.yml:3:"), "{text}");
        assert!(text.contains("unknown field `cache_control`"), "{text}");
        // The mapping's path, as serde_yaml gave it.
        assert!(text.contains(":3:5: rules[0]: unknown field"), "{text}");
        let err =
            SiteRules::parse(Path::new("site.yml"), "rules:\n  - match: '/abs/*'\n").unwrap_err();
        assert!(err.to_string().contains("drop the leading `/`"), "{err}");
        let err = SiteRules::parse(
            Path::new("site.yml"),
            "rules:\n  - match: '*.js'\n    compress: zstd\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("site.yml:3:"), "{err}");
        assert!(err.to_string().contains("rules[0].compress: "), "{err}");
    }
}
