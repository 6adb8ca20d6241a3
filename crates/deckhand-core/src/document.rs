//! Reading user documents (JSON or YAML) into a JSON value.
//!
//! All YAML in deckhand goes through this module: serde_yaml is deprecated upstream, and keeping
//! it behind one function makes a later switch a one-file change.

use std::path::Path;

use serde_json::Value;

/// A document that could not be parsed, with the place the parser stopped.
#[derive(Debug, thiserror::Error)]
#[error("{path}:{line}:{column}: {message}")]
pub struct DocumentError {
    /// The file, as the user named it.
    pub path: String,
    /// 1-based line of the error (0 when the parser gave none).
    pub line: usize,
    /// 1-based column of the error (0 when the parser gave none).
    pub column: usize,
    /// What the parser said.
    pub message: String,
}

/// Parses `text` as JSON when `path` ends in `.json`, otherwise as YAML.
///
/// JSON files are read with the JSON parser (not as YAML) so that their errors read as JSON
/// errors with JSON positions.
pub fn parse_document(path: &Path, text: &str) -> Result<Value, DocumentError> {
    let shown = path.display().to_string();
    if is_json_path(path) {
        serde_json::from_str(text).map_err(|e| DocumentError {
            path: shown,
            line: e.line(),
            column: e.column(),
            message: strip_position(&e.to_string()),
        })
    } else {
        serde_yaml::from_str::<Value>(text).map_err(|e| {
            let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
            DocumentError {
                path: shown,
                line,
                column,
                message: strip_position(&e.to_string()),
            }
        })
    }
}

/// True when a document at `path` is read as JSON (it ends in `.json`); YAML otherwise.
pub(crate) fn is_json_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// Parses a YAML document into `T`, strictly (types with `deny_unknown_fields` reject unknown
/// keys), with the line and column of the first problem.
pub fn parse_yaml_as<T: serde::de::DeserializeOwned>(
    path: &Path,
    text: &str,
) -> Result<T, DocumentError> {
    serde_yaml::from_str::<T>(text).map_err(|e| {
        let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
        DocumentError {
            path: path.display().to_string(),
            line,
            column,
            message: strip_position(&e.to_string()),
        }
    })
}

/// Both parsers append " at line L column C" to their messages; we print the position once.
pub(crate) fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_error_has_line_and_column() {
        let err = parse_document(Path::new("td.json"), "{\n  \"family\": \"web\",\n  oops\n}")
            .unwrap_err();
        assert_eq!((err.line, err.column), (3, 3));
        assert!(
            err.to_string()
                .starts_with("td.json:3:3: key must be a string"),
            "{err}"
        );
    }

    #[test]
    fn yaml_error_has_line_and_column() {
        let err = parse_document(
            Path::new("td.yaml"),
            "family: web\ncontainerDefinitions: [\n",
        )
        .unwrap_err();
        assert_eq!(err.line, 3, "{err}");
        assert!(err.to_string().starts_with("td.yaml:3:"), "{err}");
    }

    #[test]
    fn yaml_and_json_give_the_same_value() {
        let a = parse_document(Path::new("a.yml"), "family: web\ncpu: '256'\n").unwrap();
        let b = parse_document(Path::new("a.json"), r#"{"family":"web","cpu":"256"}"#).unwrap();
        assert_eq!(a, b);
    }
}
