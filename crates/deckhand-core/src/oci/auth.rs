//! Registry authentication challenges (`WWW-Authenticate`), as registries send them on 401:
//! `Basic realm="..."` (ECR, htpasswd) or `Bearer realm="...",service="...",scope="..."`
//! (Docker Hub's anonymous token flow, GHCR, most registries).

/// One challenge of a 401 answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
}

/// Parses a `WWW-Authenticate` value. Unknown schemes are an error naming them.
pub fn parse_challenge(header: &str) -> Result<Challenge, String> {
    let header = header.trim();
    let (scheme, rest) = header
        .split_once(char::is_whitespace)
        .unwrap_or((header, ""));
    let params = parse_params(rest);
    let get = |k: &str| {
        params
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.clone())
    };
    if scheme.eq_ignore_ascii_case("basic") {
        Ok(Challenge::Basic)
    } else if scheme.eq_ignore_ascii_case("bearer") {
        let realm =
            get("realm").ok_or_else(|| format!("bearer challenge without a realm: `{header}`"))?;
        Ok(Challenge::Bearer {
            realm,
            service: get("service"),
            scope: get("scope"),
        })
    } else {
        Err(format!(
            "unsupported authentication scheme `{scheme}` (expected Basic or Bearer)"
        ))
    }
}

/// `key="quoted, value",key2=token` pairs; commas inside quotes belong to the value.
fn parse_params(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            return out;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.peek().copied() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        out.push((key.trim().to_string(), value.trim().to_string()));
    }
}

/// The token scope a request to `repository` needs.
pub fn repository_scope(repository: &str, push: bool) -> String {
    format!(
        "repository:{repository}:{}",
        if push { "pull,push" } else { "pull" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_hub_and_ecr_challenges_parse() {
        let hub = r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull,push""#;
        assert_eq!(
            parse_challenge(hub),
            Ok(Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/nginx:pull,push".into()),
            })
        );
        let ecr = r#"Basic realm="https://123456789012.dkr.ecr.us-east-1.amazonaws.com/",service="ecr.amazonaws.com""#;
        assert_eq!(parse_challenge(ecr), Ok(Challenge::Basic));
        assert_eq!(
            parse_challenge("bearer realm=http://x/token"),
            Ok(Challenge::Bearer {
                realm: "http://x/token".into(),
                service: None,
                scope: None
            })
        );
        assert!(
            parse_challenge("Negotiate abc")
                .unwrap_err()
                .contains("`Negotiate`")
        );
        assert!(
            parse_challenge("Bearer service=\"x\"")
                .unwrap_err()
                .contains("without a realm")
        );
    }
}
