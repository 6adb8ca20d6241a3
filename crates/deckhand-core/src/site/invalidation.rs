//! Which CloudFront paths a deploy invalidates.
//!
//! Only keys whose content changed or that were deleted: a brand-new key cannot be cached.
//! `dir/index.html` is also served as `/dir/` and `/dir`, the root one as `/`. Paths collapse
//! bottom-up into the narrowest wildcard whenever that sends fewer paths (CloudFront bills per
//! path, and a wildcard is one path), but never into `/*` unless the budget leaves no other way:
//! a typical rebuild (new hashed bundles, a changed `index.html`, old bundles deleted) sends
//! `/`, `/index.html` and `/assets/*`.

use std::collections::BTreeSet;

/// Budget and mapping settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidationOptions {
    /// The distribution origin's `OriginPath` (`/site`, or empty): CloudFront path `/x` is
    /// object key `site/x`.
    pub origin_path: String,
    /// At most this many paths in one invalidation.
    pub max_paths: usize,
    /// At most this many wildcard paths (CloudFront allows 15 in progress per distribution).
    pub max_wildcards: usize,
}

impl Default for InvalidationOptions {
    fn default() -> Self {
        Self {
            origin_path: String::new(),
            max_paths: 15,
            max_wildcards: 10,
        }
    }
}

/// The paths to invalidate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvalidationPlan {
    /// Encoded CloudFront paths, sorted; empty when nothing cached can be stale.
    pub paths: Vec<String>,
    /// Keys outside the origin path: the distribution does not serve them.
    pub not_served: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Entry {
    /// An encoded path.
    Exact(String),
    /// A wildcard: everything starting with this encoded prefix.
    Prefix(String),
}

impl Entry {
    fn render(&self) -> String {
        match self {
            Self::Exact(p) => p.clone(),
            Self::Prefix(p) => format!("{p}*"),
        }
    }
}

/// Plans the invalidation for `keys` (object keys that changed or were deleted).
pub fn plan_invalidation<'a>(
    keys: impl IntoIterator<Item = &'a str>,
    opts: &InvalidationOptions,
) -> InvalidationPlan {
    let origin = opts.origin_path.trim_matches('/');
    let mut exact = BTreeSet::new();
    let mut not_served = Vec::new();
    for key in keys {
        let served = if origin.is_empty() {
            Some(key)
        } else {
            key.strip_prefix(origin)
                .and_then(|rest| rest.strip_prefix('/'))
        };
        let Some(path) = served else {
            not_served.push(key.to_string());
            continue;
        };
        let url = format!("/{}", encode_key(path));
        if let Some(dir) = url.strip_suffix("index.html")
            && dir.ends_with('/')
        {
            exact.insert(dir.to_string());
            if dir.len() > 1 {
                exact.insert(dir.trim_end_matches('/').to_string());
            }
        }
        exact.insert(url);
    }
    let mut entries: BTreeSet<Entry> = exact.into_iter().map(Entry::Exact).collect();
    collapse(&mut entries);
    let wildcards = entries
        .iter()
        .filter(|e| matches!(e, Entry::Prefix(_)))
        .count();
    let paths = if entries.len() > opts.max_paths || wildcards > opts.max_wildcards {
        vec!["/*".to_string()]
    } else {
        let mut rendered: Vec<String> = entries.iter().map(Entry::render).collect();
        rendered.sort();
        rendered
    };
    InvalidationPlan { paths, not_served }
}

/// Bottom-up: a directory whose entries (with the directory's own no-slash URL) number two or
/// more becomes one wildcard. The root never collapses here.
fn collapse(entries: &mut BTreeSet<Entry>) {
    let mut dirs: BTreeSet<String> = BTreeSet::new();
    for e in entries.iter() {
        let path = match e {
            Entry::Exact(p) | Entry::Prefix(p) => p,
        };
        for (i, c) in path.char_indices().skip(1) {
            if c == '/' {
                dirs.insert(path[..=i].to_string());
            }
        }
    }
    let mut ordered: Vec<String> = dirs.into_iter().collect();
    ordered.sort_by_key(|d| std::cmp::Reverse(d.matches('/').count()));
    for dir in ordered {
        let members: Vec<Entry> = entries
            .iter()
            .filter(|e| match e {
                Entry::Exact(p) => p.starts_with(&dir),
                Entry::Prefix(p) => p.starts_with(&dir) && *p != dir,
            })
            .cloned()
            .collect();
        let bare = Entry::Exact(dir.trim_end_matches('/').to_string());
        let with_bare = entries.contains(&bare);
        if members.len() + usize::from(with_bare) < 2 {
            continue;
        }
        for m in &members {
            entries.remove(m);
        }
        if with_bare {
            // `/docs/guide*` covers `/docs/guide`, `/docs/guide/` and all below, in one path.
            entries.remove(&bare);
            entries.insert(Entry::Prefix(dir.trim_end_matches('/').to_string()));
        } else {
            entries.insert(Entry::Prefix(dir));
        }
    }
}

/// Percent-encodes an object key, keeping unreserved characters and `/`: for CloudFront paths
/// (s3deploy had to learn this: bep/s3deploy#46; a literal `*` becomes `%2A`, never a wildcard)
/// and for S3's `x-amz-copy-source`.
pub fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(keys: &[&str]) -> Vec<String> {
        plan_invalidation(keys.iter().copied(), &InvalidationOptions::default()).paths
    }

    #[test]
    fn path_tables() {
        let cases: &[(&str, &[&str], &[&str])] = &[
            ("nothing changed", &[], &[]),
            ("root index.html", &["index.html"], &["/", "/index.html"]),
            (
                "typical rebuild: new bundles are not sent, old ones deleted, index changed",
                &[
                    "index.html",
                    "assets/index-3f9a1c.js",
                    "assets/index-8d2b7e.css",
                ],
                &["/", "/assets/*", "/index.html"],
            ),
            (
                "one deleted deep file stays exact",
                &["img/old/hero.png"],
                &["/img/old/hero.png"],
            ),
            (
                "nested index.html",
                &["docs/guide/index.html"],
                &["/docs/guide*"],
            ),
            (
                "nested index.html beside a changed page in the same directory",
                &["docs/guide/index.html", "docs/guide/install.html"],
                &["/docs/guide*"],
            ),
            (
                "two siblings collapse to their directory",
                &["a/b/x.js", "a/c/y.js"],
                &["/a/*"],
            ),
            (
                "a directory with one change and the root stay apart",
                &["robots.txt", "a/b/x.js"],
                &["/a/b/x.js", "/robots.txt"],
            ),
            (
                "keys are percent-encoded",
                &["docs/my file+ü.html"],
                &["/docs/my%20file%2B%C3%BC.html"],
            ),
            (
                "a literal star is not a wildcard",
                &["odd*name.txt"],
                &["/odd%2Aname.txt"],
            ),
        ];
        for (name, keys, expected) in cases {
            assert_eq!(plan(keys), *expected, "{name}");
        }
    }

    #[test]
    fn a_typical_rebuild_sends_at_most_three_paths_and_no_star() {
        let mut keys = vec!["index.html".to_string()];
        keys.extend((0..40).map(|i| format!("assets/chunk-{i:04x}.js")));
        let paths = plan_invalidation(
            keys.iter().map(String::as_str),
            &InvalidationOptions::default(),
        )
        .paths;
        assert!(paths.len() <= 3, "{paths:?}");
        assert!(!paths.contains(&"/*".to_string()));
    }

    #[test]
    fn origin_path_is_stripped_and_other_keys_are_not_served() {
        let opts = InvalidationOptions {
            origin_path: "/site".into(),
            ..Default::default()
        };
        let plan = plan_invalidation(
            [
                "site/index.html",
                "site/app.js",
                "other/x.js",
                "siteextra/y.js",
            ],
            &opts,
        );
        assert_eq!(plan.paths, ["/", "/app.js", "/index.html"]);
        assert_eq!(plan.not_served, ["other/x.js", "siteextra/y.js"]);
    }

    #[test]
    fn the_budget_forces_a_single_star() {
        // 20 top-level directories with one change each: nothing narrower saves paths.
        let keys: Vec<String> = (0..20).map(|i| format!("d{i}/page.html")).collect();
        let paths = plan_invalidation(
            keys.iter().map(String::as_str),
            &InvalidationOptions::default(),
        )
        .paths;
        assert_eq!(paths, ["/*"]);
        let roomy = InvalidationOptions {
            max_paths: 20,
            ..Default::default()
        };
        assert_eq!(
            plan_invalidation(keys.iter().map(String::as_str), &roomy)
                .paths
                .len(),
            20
        );
    }

    #[test]
    fn the_wildcard_budget_is_respected() {
        // 12 directories with two changes each: 12 wildcards > 10.
        let keys: Vec<String> = (0..12)
            .flat_map(|i| [format!("d{i}/a.js"), format!("d{i}/b.js")])
            .collect();
        let paths = plan_invalidation(
            keys.iter().map(String::as_str),
            &InvalidationOptions::default(),
        )
        .paths;
        assert_eq!(paths, ["/*"]);
        let roomy = InvalidationOptions {
            max_wildcards: 15,
            ..Default::default()
        };
        let paths = plan_invalidation(keys.iter().map(String::as_str), &roomy).paths;
        assert_eq!(paths.len(), 12);
        assert!(paths.iter().all(|p| p.ends_with("/*")));
    }
}
