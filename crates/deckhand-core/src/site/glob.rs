//! Glob patterns for site rules, matched against object keys relative to the site root.
//!
//! `*` matches within one path segment, `**` any number of segments, `?` one character other
//! than `/`, `{a,b}` either alternative. A pattern without `/` matches the file name in any
//! directory (`*.html` matches `docs/index.html`), as in `.gitignore`.

/// A compiled glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    source: String,
    alternatives: Vec<Vec<Token>>,
    basename_only: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(char),
    Any,      // ?
    Star,     // *
    StarStar, // ** (with its following `/`, if any)
}

/// A pattern that cannot be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid glob `{pattern}`: {reason}")]
pub struct GlobError {
    /// The pattern.
    pub pattern: String,
    /// What is wrong.
    pub reason: String,
}

impl Glob {
    /// Compiles `pattern`.
    pub fn new(pattern: &str) -> Result<Self, GlobError> {
        let fail = |reason: &str| GlobError {
            pattern: pattern.to_string(),
            reason: reason.to_string(),
        };
        if pattern.is_empty() {
            return Err(fail("it is empty"));
        }
        if pattern.starts_with('/') {
            return Err(fail(
                "patterns are relative to the site root: drop the leading `/`",
            ));
        }
        let expanded = expand_braces(pattern).map_err(|r| fail(&r))?;
        let alternatives = expanded.iter().map(|p| tokenize(p)).collect();
        Ok(Self {
            source: pattern.to_string(),
            alternatives,
            basename_only: !pattern.contains('/'),
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// True when `key` (relative to the site root) matches.
    pub fn matches(&self, key: &str) -> bool {
        let subject = if self.basename_only {
            key.rsplit('/').next().unwrap_or(key)
        } else {
            key
        };
        let chars: Vec<char> = subject.chars().collect();
        self.alternatives
            .iter()
            .any(|tokens| match_tokens(tokens, &chars))
    }
}

fn expand_braces(pattern: &str) -> Result<Vec<String>, String> {
    let Some(open) = pattern.find('{') else {
        if pattern.contains('}') {
            return Err("`}` without `{`".into());
        }
        return Ok(vec![pattern.to_string()]);
    };
    let close = pattern[open..]
        .find('}')
        .map(|i| open + i)
        .ok_or("`{` without `}`")?;
    let inner = &pattern[open + 1..close];
    if inner.contains('{') {
        return Err("nested `{}` are not supported".into());
    }
    let mut out = Vec::new();
    for alt in inner.split(',') {
        let candidate = format!("{}{alt}{}", &pattern[..open], &pattern[close + 1..]);
        out.extend(expand_braces(&candidate)?);
    }
    Ok(out)
}

fn tokenize(pattern: &str) -> Vec<Token> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' if chars.get(i + 1) == Some(&'*') => {
                i += 2;
                // `**/` also matches zero directories.
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                tokens.push(Token::StarStar);
                continue;
            }
            '*' => tokens.push(Token::Star),
            '?' => tokens.push(Token::Any),
            c => tokens.push(Token::Literal(c)),
        }
        i += 1;
    }
    tokens
}

fn match_tokens(tokens: &[Token], s: &[char]) -> bool {
    match tokens.first() {
        None => s.is_empty(),
        Some(Token::Literal(c)) => s.first() == Some(c) && match_tokens(&tokens[1..], &s[1..]),
        Some(Token::Any) => {
            s.first().is_some_and(|c| *c != '/') && match_tokens(&tokens[1..], &s[1..])
        }
        Some(Token::Star) => {
            let mut i = 0;
            loop {
                if match_tokens(&tokens[1..], &s[i..]) {
                    return true;
                }
                if i == s.len() || s[i] == '/' {
                    return false;
                }
                i += 1;
            }
        }
        Some(Token::StarStar) => {
            // Zero or more whole segments: try every position that starts a segment.
            (0..=s.len())
                .any(|i| (i == 0 || s[i - 1] == '/') && match_tokens(&tokens[1..], &s[i..]))
                || (tokens.len() == 1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_table() {
        let cases: &[(&str, &str, bool)] = &[
            ("*.html", "index.html", true),
            ("*.html", "docs/guide/index.html", true),
            ("*.html", "index.htm", false),
            ("assets/*", "assets/app.js", true),
            ("assets/*", "assets/img/a.png", false),
            ("assets/**", "assets/img/a.png", true),
            ("assets/**", "assetsx/a.png", false),
            ("**/*.js", "a.js", true),
            ("**/*.js", "a/b/c.js", true),
            ("**/sw.js", "sw.js", true),
            ("docs/**/index.html", "docs/index.html", true),
            ("docs/**/index.html", "docs/a/b/index.html", true),
            ("*.{js,css}", "static/app.css", true),
            ("*.{js,css}", "static/app.map", false),
            ("img/?.png", "img/a.png", true),
            ("img/?.png", "img/ab.png", false),
            ("_next/static/**", "_next/static/chunks/main-3f.js", true),
            (".well-known/**", ".well-known/assetlinks.json", true),
        ];
        for (pattern, key, expected) in cases {
            assert_eq!(
                Glob::new(pattern).unwrap().matches(key),
                *expected,
                "{pattern} vs {key}"
            );
        }
    }

    #[test]
    fn bad_patterns() {
        for (pattern, reason) in [
            ("", "empty"),
            ("/abs/*", "leading `/`"),
            ("a{b", "without `}`"),
            ("a}b", "without `{`"),
        ] {
            let err = Glob::new(pattern).unwrap_err().to_string();
            assert!(err.contains(reason), "{pattern}: {err}");
        }
    }
}
