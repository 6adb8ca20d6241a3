//! Checks and derivations for `site deploy` inputs: all before any AWS call.

use sha2::{Digest, Sha256};

use super::manifest::hex;
use super::plan::DeleteLimit;

/// Checks an S3 bucket name against S3's naming rules.
pub fn validate_bucket_name(name: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("invalid bucket name `{name}`: {why}"));
    if !(3..=63).contains(&name.len()) {
        return bad("it must be 3 to 63 characters long");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return bad("use only lowercase letters, digits, `.` and `-`");
    }
    let first_last = [name.as_bytes()[0], name.as_bytes()[name.len() - 1]];
    if !first_last
        .iter()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        return bad("it must begin and end with a letter or digit");
    }
    if name.contains("..") {
        return bad("it must not contain `..`");
    }
    if name.split('.').count() == 4 && name.split('.').all(|p| p.parse::<u8>().is_ok()) {
        return bad("it must not look like an IP address");
    }
    Ok(())
}

/// `site`, `/site/` and `site/` all mean the key prefix `site/`; empty means the bucket root.
pub fn normalize_prefix(prefix: &str) -> Result<String, String> {
    let trimmed = prefix.trim().trim_matches('/');
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    if trimmed
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Err(format!(
            "invalid prefix `{prefix}`: no empty, `.` or `..` segments"
        ));
    }
    Ok(format!("{trimmed}/"))
}

/// `--max-delete`: `N` limits the count only, `N%` the share only; absent, both defaults apply.
pub fn parse_max_delete(value: Option<&str>) -> Result<DeleteLimit, String> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(DeleteLimit::default());
    };
    let err =
        || format!("invalid `--max-delete {v}`: use a count like `200` or a percentage like `25%`");
    if let Some(p) = v.strip_suffix('%') {
        let percent: f64 = p.trim().parse().map_err(|_| err())?;
        if !(0.0..=100.0).contains(&percent) {
            return Err(err());
        }
        Ok(DeleteLimit {
            count: u64::MAX,
            percent,
        })
    } else {
        let count: u64 = v.parse().map_err(|_| err())?;
        Ok(DeleteLimit {
            count,
            percent: 100.0,
        })
    }
}

/// The origin path to map keys with: that of the origin serving `bucket` (its domain starts
/// with `bucket.`), else that of a distribution's only origin. `None` when neither applies.
pub fn pick_origin_path(origins: &[(String, String)], bucket: &str) -> Option<String> {
    let own = format!("{bucket}.");
    origins
        .iter()
        .find(|(domain, _)| domain.starts_with(&own))
        .or_else(|| (origins.len() == 1).then(|| &origins[0]))
        .map(|(_, path)| path.clone())
}

/// A CallerReference that names the change: the same deploy re-run sends the same reference,
/// and CloudFront answers with the existing invalidation instead of creating a second one.
pub fn caller_reference(distribution: &str, paths: &[String], change: &str) -> String {
    let mut h = Sha256::new();
    h.update(distribution.as_bytes());
    for p in paths {
        h.update(b"\n");
        h.update(p.as_bytes());
    }
    h.update(b"\n--\n");
    h.update(change.as_bytes());
    format!("deckhand-{}", &hex(&h.finalize())[..40])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names() {
        for ok in ["site", "my-site.example.com", "a1b"] {
            assert!(validate_bucket_name(ok).is_ok(), "{ok}");
        }
        for (bad, why) in [
            ("ab", "3 to 63"),
            ("My_Site", "lowercase"),
            ("-site", "begin and end"),
            ("site..x", "`..`"),
            ("192.168.1.1", "IP address"),
        ] {
            assert!(
                validate_bucket_name(bad).unwrap_err().contains(why),
                "{bad}"
            );
        }
    }

    #[test]
    fn prefixes() {
        assert_eq!(normalize_prefix("").unwrap(), "");
        assert_eq!(normalize_prefix("/").unwrap(), "");
        assert_eq!(normalize_prefix("/site/").unwrap(), "site/");
        assert_eq!(normalize_prefix("a/b").unwrap(), "a/b/");
        assert!(normalize_prefix("a//b").is_err());
        assert!(normalize_prefix("a/../b").is_err());
    }

    #[test]
    fn max_delete() {
        assert_eq!(parse_max_delete(None).unwrap(), DeleteLimit::default());
        assert_eq!(
            parse_max_delete(Some("200")).unwrap(),
            DeleteLimit {
                count: 200,
                percent: 100.0
            }
        );
        assert_eq!(
            parse_max_delete(Some("25%")).unwrap(),
            DeleteLimit {
                count: u64::MAX,
                percent: 25.0
            }
        );
        for bad in ["x", "150%", "-1", "1.5"] {
            assert!(parse_max_delete(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn origin_paths() {
        let two = vec![
            ("api.example.com".to_string(), String::new()),
            (
                "site.s3.us-east-1.amazonaws.com".to_string(),
                "/www".to_string(),
            ),
        ];
        assert_eq!(pick_origin_path(&two, "site").as_deref(), Some("/www"));
        assert_eq!(pick_origin_path(&two, "other"), None);
        let one = vec![("cdn-origin.example.com".to_string(), "/v2".to_string())];
        assert_eq!(pick_origin_path(&one, "site").as_deref(), Some("/v2"));
    }

    #[test]
    fn caller_reference_names_the_change() {
        let paths = vec!["/".to_string(), "/index.html".to_string()];
        let a = caller_reference("E1", &paths, "manifest-hash-1");
        assert_eq!(a, caller_reference("E1", &paths, "manifest-hash-1"));
        assert_ne!(a, caller_reference("E2", &paths, "manifest-hash-1"));
        assert_ne!(a, caller_reference("E1", &paths, "manifest-hash-2"));
        assert!(a.starts_with("deckhand-") && a.len() == 49);
    }
}
