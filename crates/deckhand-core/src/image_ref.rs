//! Container image references (`[registry/]repository[:tag][@digest]`), validated with the
//! grammar of the distribution reference spec so a typo fails before anything is registered.

use std::fmt;

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// Registry host (with port), when the reference names one.
    pub registry: Option<String>,
    /// Repository path, e.g. `library/nginx` or `team/web`.
    pub repository: String,
    /// Tag, when given.
    pub tag: Option<String>,
    /// Digest (`sha256:<64 hex>`), when given.
    pub digest: Option<String>,
}

/// Why an image reference is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid image reference `{reference}`: {reason}")]
pub struct ImageRefError {
    /// The reference as given.
    pub reference: String,
    /// What is wrong with it.
    pub reason: String,
}

impl ImageRef {
    /// Parses and validates `reference`.
    pub fn parse(reference: &str) -> Result<Self, ImageRefError> {
        let fail = |reason: &str| ImageRefError {
            reference: reference.to_string(),
            reason: reason.to_string(),
        };
        if reference.is_empty() {
            return Err(fail("it is empty"));
        }
        if reference.chars().any(char::is_whitespace) {
            return Err(fail("it contains white space"));
        }
        let (rest, digest) = match reference.split_once('@') {
            Some((r, d)) => (r, Some(d)),
            None => (reference, None),
        };
        if let Some(d) = digest {
            validate_digest(d).map_err(|r| fail(&r))?;
        }
        // A tag is the part after the last ':' when that part has no '/': `host:5000/repo` has a
        // port, not a tag.
        let (name, tag) = match rest.rfind(':') {
            Some(i) if !rest[i + 1..].contains('/') => (&rest[..i], Some(&rest[i + 1..])),
            _ => (rest, None),
        };
        if let Some(t) = tag {
            validate_tag(t).map_err(|r| fail(&r))?;
        }
        if name.len() > 255 {
            return Err(fail("the name is longer than 255 characters"));
        }
        let mut parts: Vec<&str> = name.split('/').collect();
        let registry = if parts.len() > 1
            && (parts[0].contains('.') || parts[0].contains(':') || parts[0] == "localhost")
        {
            let host = parts.remove(0);
            validate_registry(host).map_err(|r| fail(&r))?;
            Some(host.to_string())
        } else {
            None
        };
        for part in &parts {
            validate_path_component(part).map_err(|r| fail(&r))?;
        }
        Ok(Self {
            registry,
            repository: parts.join("/"),
            tag: tag.map(str::to_string),
            digest: digest.map(str::to_string),
        })
    }
}

/// Docker Hub's registry API host; references without a registry live there.
pub const DOCKER_HUB: &str = "registry-1.docker.io";

impl ImageRef {
    /// The registry host to speak the distribution API to (Docker Hub for none).
    pub fn registry_host(&self) -> &str {
        match self.registry.as_deref() {
            None | Some("docker.io" | "index.docker.io" | "registry-1.docker.io") => DOCKER_HUB,
            Some(host) => host,
        }
    }

    /// The repository path on that registry: Docker Hub's official images live under
    /// `library/` (`nginx` is `library/nginx`).
    pub fn registry_repository(&self) -> String {
        if self.registry_host() == DOCKER_HUB && !self.repository.contains('/') {
            format!("library/{}", self.repository)
        } else {
            self.repository.clone()
        }
    }

    /// What to fetch: the digest when pinned, else the tag (`latest` when neither is given).
    pub fn manifest_reference(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("latest")
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(r) = &self.registry {
            write!(f, "{r}/")?;
        }
        f.write_str(&self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

fn validate_digest(d: &str) -> Result<(), String> {
    let Some((alg, hex)) = d.split_once(':') else {
        return Err(format!(
            "digest `{d}` must look like `sha256:<64 hex digits>`"
        ));
    };
    let expected_len = match alg {
        "sha256" => 64,
        "sha512" => 128,
        _ => return Err(format!("digest algorithm `{alg}` is not sha256 or sha512")),
    };
    if hex.len() != expected_len
        || !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(format!(
            "digest `{d}` must have {expected_len} lowercase hex digits"
        ));
    }
    Ok(())
}

/// Validates a tag: 1-128 letters, digits, `_`, `.` and `-`, not starting with `.` or `-`.
pub fn validate_tag(t: &str) -> Result<(), String> {
    let ok = !t.is_empty()
        && t.len() <= 128
        && t.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        && t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "tag `{t}` must be 1-128 characters of letters, digits, `_`, `.` and `-`, not starting with `.` or `-`"
        ))
    }
}

fn validate_registry(host: &str) -> Result<(), String> {
    let (name, port) = match host.rsplit_once(':') {
        Some((n, p)) => (n, Some(p)),
        None => (host, None),
    };
    if let Some(p) = port
        && (p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(format!("registry port `{p}` is not a number"));
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if name.split('.').all(label_ok) {
        Ok(())
    } else {
        Err(format!("registry host `{host}` is not a valid host name"))
    }
}

fn validate_path_component(part: &str) -> Result<(), String> {
    // [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)*
    let bytes = part.as_bytes();
    let is_alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bad = || {
        if part.is_empty() {
            "the repository has an empty path component (`//` or a trailing `/`)".to_string()
        } else if part.bytes().any(|b| b.is_ascii_uppercase()) {
            format!("repository component `{part}` must be lowercase")
        } else {
            format!(
                "repository component `{part}` must be lowercase letters and digits separated by `.`, `_`, `__` or `-`"
            )
        }
    };
    let mut i = 0;
    loop {
        let start = i;
        while i < bytes.len() && is_alnum(bytes[i]) {
            i += 1;
        }
        if i == start {
            return Err(bad());
        }
        if i == bytes.len() {
            return Ok(());
        }
        let sep_start = i;
        while i < bytes.len() && !is_alnum(bytes[i]) {
            i += 1;
        }
        let sep = &part[sep_start..i];
        let sep_ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-');
        if !sep_ok || i == bytes.len() {
            return Err(bad());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_references_round_trip() {
        for r in [
            "nginx",
            "nginx:1.27",
            "library/nginx:latest",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/web:sha-1a2b3c",
            "localhost:5000/web",
            "127.0.0.1:5000/web:v1",
            "ghcr.io/org/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "ghcr.io/org/app:v2@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "a__b/c-d.e_f",
        ] {
            let parsed = ImageRef::parse(r).unwrap_or_else(|e| panic!("{r}: {e}"));
            assert_eq!(parsed.to_string(), r);
        }
    }

    #[test]
    fn docker_hub_names_resolve_to_its_registry_and_library() {
        let nginx = ImageRef::parse("nginx:1.27").unwrap();
        assert_eq!(
            (nginx.registry_host(), nginx.registry_repository().as_str()),
            (DOCKER_HUB, "library/nginx")
        );
        let team = ImageRef::parse("docker.io/team/web").unwrap();
        assert_eq!(
            (team.registry_host(), team.registry_repository().as_str()),
            (DOCKER_HUB, "team/web")
        );
        assert_eq!(team.manifest_reference(), "latest");
        let local = ImageRef::parse("127.0.0.1:5000/web").unwrap();
        assert_eq!(
            (local.registry_host(), local.registry_repository().as_str()),
            ("127.0.0.1:5000", "web")
        );
    }

    #[test]
    fn port_is_not_a_tag() {
        let r = ImageRef::parse("localhost:5000/web").unwrap();
        assert_eq!(r.registry.as_deref(), Some("localhost:5000"));
        assert_eq!(r.tag, None);
    }

    #[test]
    fn invalid_references_say_why() {
        let cases = [
            ("", "it is empty"),
            ("Web:latest", "must be lowercase"),
            ("web:", "tag ``"),
            ("web:-bad", "tag `-bad`"),
            ("web@sha256:abc", "64 lowercase hex"),
            ("web@md5:abc", "not sha256"),
            ("team//web", "empty path component"),
            ("web app:1", "white space"),
            ("host:port/web", "registry port `port`"),
            ("web..x", "repository component `web..x`"),
        ];
        for (input, needle) in cases {
            let err = ImageRef::parse(input).expect_err(input).to_string();
            assert!(err.contains(needle), "{input}: {err}");
        }
    }
}
