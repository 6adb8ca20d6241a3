//! ECR naming: which registry hosts are ECR, and what a repository name may be; and what `ecr
//! login` reports.

use serde::Serialize;

use crate::report::{Details, Outputs, Report, icon};

/// Outputs of `ecr login`; the password is masked before anything prints.
pub const ECR_LOGIN_OUTPUTS: &[&str] = &["registry", "username", "password"];

/// What `ecr login` hands to tools that need registry credentials (docker, buildx).
#[derive(Debug, Clone, Default, Serialize)]
pub struct EcrLogin {
    /// The registry host.
    pub registry: String,
    /// The user (`AWS`).
    pub username: String,
    /// The password, valid for 12 hours (masked in Actions before it is printed anywhere).
    pub password: String,
}

impl Details for EcrLogin {
    const OUTPUTS: &'static [&'static str] = ECR_LOGIN_OUTPUTS;

    fn subject(&self) -> String {
        String::new()
    }

    fn outputs(report: &Report<Self>, outputs: &mut Outputs) {
        let d = &report.details;
        outputs.set("registry", d.registry.clone());
        outputs.set("username", d.username.clone());
        outputs.set("password", d.password.clone());
    }

    fn summary(report: &Report<Self>) -> String {
        if report.details.registry.is_empty() {
            format!("### {} ecr login\n", icon(report.verdict))
        } else {
            format!(
                "### {} ecr login `{}`\n",
                icon(report.verdict),
                report.details.registry
            )
        }
    }

    /// Like `aws ecr get-login-password`: the password alone, for `docker login --username
    /// AWS --password-stdin`. In Actions it goes to the outputs instead.
    fn stdout(report: &Report<Self>) -> Option<String> {
        (report.verdict.is_ok() && !report.details.password.is_empty())
            .then(|| report.details.password.clone())
    }
}

/// An ECR registry host: `ACCOUNT.dkr.ecr[-fips].REGION.amazonaws.com[.cn]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcrHost {
    pub account: String,
    pub region: String,
}

/// The account and region of an ECR registry host, or None for any other host.
pub fn parse_ecr_host(host: &str) -> Option<EcrHost> {
    let host = host.strip_suffix(".cn").unwrap_or(host);
    let rest = host.strip_suffix(".amazonaws.com")?;
    let (account, rest) = rest.split_once('.')?;
    let region = rest
        .strip_prefix("dkr.ecr.")
        .or_else(|| rest.strip_prefix("dkr.ecr-fips."))?;
    let account_ok = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    let region_ok = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    (account_ok && region_ok).then(|| EcrHost {
        account: account.to_string(),
        region: region.to_string(),
    })
}

/// Validates an ECR repository name with the strictest of the rules AWS documents: 2 to 256
/// characters; lowercase letters, digits and `._-` separators between them, `/` between path
/// components; starting with a letter (CreateRepository's own wording).
pub fn validate_repository_name(name: &str) -> Result<(), String> {
    let fail = |why: &str| {
        Err(format!(
            "`{name}` is not a valid ECR repository name: {why}"
        ))
    };
    if !(2..=256).contains(&name.len()) {
        return fail("it must be 2 to 256 characters long");
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return fail("it must start with a lowercase letter");
    }
    for component in name.split('/') {
        if component.is_empty() {
            return fail("it has an empty path component (`//` or a `/` at an end)");
        }
        let mut previous_separator = true;
        for c in component.chars() {
            let separator = matches!(c, '.' | '_' | '-');
            if !(c.is_ascii_lowercase() || c.is_ascii_digit() || separator) {
                return fail(&format!(
                    "`{c}` is not allowed (lowercase letters, digits, `.`, `_`, `-` and `/`)"
                ));
            }
            if separator && previous_separator && c == '.' {
                return fail("a `.` must sit between letters or digits");
            }
            previous_separator = separator;
        }
        if previous_separator {
            return fail("a path component must end with a letter or digit");
        }
        if component.starts_with(['.', '_', '-']) {
            return fail("a path component must start with a letter or digit");
        }
        if component.contains("___")
            || component.contains("._")
            || component.contains("_.")
            || component.contains(".-")
            || component.contains("-.")
            || component.contains("_-")
            || component.contains("-_")
        {
            return fail("separators may be `.`, `_`, `__` or a run of `-`, not mixed");
        }
    }
    Ok(())
}

/// Whether `tag` is immutable in a repository with this `imageTagMutability` and these
/// exclusion filters (`*` wildcards): `IMMUTABLE_WITH_EXCLUSION` exempts the matching tags,
/// `MUTABLE_WITH_EXCLUSION` protects them.
pub fn tag_is_immutable(mutability: &str, exclusion_filters: &[String], tag: &str) -> bool {
    let excluded = || exclusion_filters.iter().any(|f| wildcard_match(f, tag));
    match mutability {
        "IMMUTABLE" => true,
        "IMMUTABLE_WITH_EXCLUSION" => !excluded(),
        "MUTABLE_WITH_EXCLUSION" => excluded(),
        _ => false,
    }
}

fn wildcard_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusion_filters_flip_mutability_for_matching_tags() {
        let filters = vec!["dev-*".to_string(), "*-rc*".to_string()];
        assert!(tag_is_immutable("IMMUTABLE", &filters, "dev-1"));
        assert!(!tag_is_immutable("MUTABLE", &filters, "v1"));
        assert!(!tag_is_immutable(
            "IMMUTABLE_WITH_EXCLUSION",
            &filters,
            "dev-1"
        ));
        assert!(!tag_is_immutable(
            "IMMUTABLE_WITH_EXCLUSION",
            &filters,
            "v2-rc1"
        ));
        assert!(tag_is_immutable("IMMUTABLE_WITH_EXCLUSION", &filters, "v2"));
        assert!(tag_is_immutable(
            "MUTABLE_WITH_EXCLUSION",
            &filters,
            "dev-x"
        ));
        assert!(!tag_is_immutable(
            "MUTABLE_WITH_EXCLUSION",
            &filters,
            "latest"
        ));
        assert!(!wildcard_match("a*b", "ab-"));
        assert!(wildcard_match("*", ""));
    }

    #[test]
    fn ecr_hosts_are_recognized() {
        assert_eq!(
            parse_ecr_host("123456789012.dkr.ecr.eu-west-1.amazonaws.com"),
            Some(EcrHost {
                account: "123456789012".into(),
                region: "eu-west-1".into()
            })
        );
        assert!(parse_ecr_host("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com").is_some());
        assert!(parse_ecr_host("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn").is_some());
        for other in [
            "public.ecr.aws",
            "12345.dkr.ecr.us-east-1.amazonaws.com",
            "ghcr.io",
            "127.0.0.1:5000",
        ] {
            assert_eq!(parse_ecr_host(other), None, "{other}");
        }
    }

    #[test]
    fn repository_names_follow_the_strictest_rule() {
        for good in ["web", "team/web-front", "a1/b_c/d__e", "app.v2", "a--b"] {
            assert_eq!(validate_repository_name(good), Ok(()), "{good}");
        }
        for (bad, why) in [
            ("a", "2 to 256"),
            ("Web", "lowercase letter"),
            ("1web", "lowercase letter"),
            ("web/", "empty path component"),
            ("we b", "` ` is not allowed"),
            ("web-", "end with a letter or digit"),
            ("team/-web", "start with a letter or digit"),
            ("a.-b", "not mixed"),
            ("a..b", "between letters"),
        ] {
            let err = validate_repository_name(bad).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }
}
