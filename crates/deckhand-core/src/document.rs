//! Reading user documents (JSON or YAML) into a JSON value, or into a type.
//!
//! All YAML in deckhand goes through this module. It is read by serde-saphyr, a YAML parser in
//! safe Rust (serde_yaml is deprecated upstream and parsed with `unsafe-libyaml`, a machine
//! translation of libyaml's C), always with the options below, so that a task definition, a
//! service definition, a filter file and a site rules file read YAML the same way:
//!
//! - YAML 1.2 scalars, as serde_yaml read them: `yes`, `on`, `no` and `off`
//!   are strings, not booleans; `0755` and `1_000` stay strings (an environment value, a glob).
//! - A tag (`!Ref Family`) is an error: serde-saphyr would otherwise drop it and read `Family`,
//!   and a CloudFormation function would reach ECS as a plain string.
//! - Merge keys (`<<`) are ordinary keys, as serde_yaml read them: the readers that know the
//!   shape say they are not supported (anchors and aliases are).
//! - Duplicate keys: readers with a visitor of their own (the shape validator, filter files)
//!   see both and say which; into a plain value, a duplicate is an error (serde_yaml kept the
//!   last one).
//! - A budget: at most [`MAX_ALIAS_EVENTS`] events replayed through aliases and [`MAX_NODES`]
//!   nodes, so that a "billion laughs" document (aliases of aliases) from a pull request is
//!   refused in milliseconds instead of expanding into gigabytes.

use std::path::Path;

use serde::de::DeserializeSeed;
use serde::de::value::UnitDeserializer;
use serde_json::Value;
use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::options::{DuplicateKeyPolicy, MergeKeyPolicy, NonFiniteFloatPolicy};
use serde_saphyr::{DefaultMessageFormatter, Error as YamlParseError, MessageFormatter};

/// Events (scalars, collection starts and ends) that aliases may replay in one document. A task
/// definition with every container sharing an anchored `logConfiguration` replays a few hundred;
/// reaching the limit takes about 50 ms in a release build.
pub const MAX_ALIAS_EVENTS: usize = 50_000;

/// Nodes (scalars and collections, aliases expanded) in one document: a large task definition
/// has a few thousand.
pub const MAX_NODES: usize = 100_000;

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

/// A YAML text that could not be read: where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct YamlError {
    /// 1-based line (0 when unknown).
    pub(crate) line: usize,
    /// 1-based column (0 when unknown).
    pub(crate) column: usize,
    /// What is wrong, with a `hint:` line when the fix is known.
    pub(crate) message: String,
    /// True when a visitor raised it (a check of the reader's type, or a wrong type), false
    /// for the parser's own errors (syntax, aliases, limits).
    pub(crate) from_visitor: bool,
    /// The tag, when the error is a tagged value (`!Ref`); the position is the tag's.
    pub(crate) tag: Option<String>,
}

impl YamlError {
    fn into_document_error(self, path: &Path) -> DocumentError {
        DocumentError {
            path: path.display().to_string(),
            line: self.line,
            column: self.column,
            message: self.message,
        }
    }
}

/// Parses `text` as JSON when `path` ends in `.json`, otherwise as YAML.
///
/// JSON files are read with the JSON parser (not as YAML) so that their errors read as JSON
/// errors with JSON positions.
pub fn parse_document(path: &Path, text: &str) -> Result<Value, DocumentError> {
    if is_json_path(path) {
        serde_json::from_str(text).map_err(|e| DocumentError {
            path: path.display().to_string(),
            line: e.line(),
            column: e.column(),
            message: strip_position(&e.to_string()),
        })
    } else {
        deserialize_yaml(
            text,
            std::marker::PhantomData::<Value>,
            DuplicateKeys::Refuse,
        )
        .map_err(|e| e.into_document_error(path))
    }
}

/// True when a document at `path` is read as JSON (it ends in `.json`); YAML otherwise.
pub(crate) fn is_json_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// Parses a YAML document into `T`, strictly (types with `deny_unknown_fields` reject unknown
/// keys), with the line and column of the first problem, and the path of the value when `T`
/// refused it (`rules[0].compress: unknown variant ...`). A key given twice reaches `T`, which
/// says so (a derived struct: "duplicate field").
pub fn parse_yaml_as<T: serde::de::DeserializeOwned>(
    path: &Path,
    text: &str,
) -> Result<T, DocumentError> {
    let mut track = serde_path_to_error::Track::new();
    let seed = Tracked {
        seed: std::marker::PhantomData::<T>,
        track: &mut track,
    };
    deserialize_yaml(text, seed, DuplicateKeys::ToVisitor).map_err(|mut e| {
        let mut at = track.path().to_string();
        // An unknown field is named by the mapping it is in (`rules[0]: unknown field
        // `cache_control``), as serde_yaml named it; the tracker's path ends with the field.
        if let Some(field) = e
            .message
            .strip_prefix("unknown field `")
            .and_then(|rest| rest.split('`').next())
            && let Some(parent) = at.strip_suffix(field)
        {
            at = parent.trim_end_matches('.').to_string();
        }
        if e.from_visitor && !at.is_empty() && at != "." {
            e.message = format!("{at}: {}", e.message);
        }
        e.into_document_error(path)
    })
}

/// A seed deserialized through serde_path_to_error, which records where it failed.
struct Tracked<'t, S> {
    seed: S,
    track: &'t mut serde_path_to_error::Track,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Tracked<'_, S> {
    type Value = S::Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, de: D) -> Result<S::Value, D::Error> {
        self.seed
            .deserialize(serde_path_to_error::Deserializer::new(de, self.track))
    }
}

/// Who handles a key given twice in one mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DuplicateKeys {
    /// The parser refuses the document (for values that would keep only one of them).
    Refuse,
    /// The visitor sees both (it names the key and the field path).
    ToVisitor,
}

/// Deserializes one YAML document through `seed`, with deckhand's options (the module's doc).
pub(crate) fn deserialize_yaml<'de, S: DeserializeSeed<'de>>(
    text: &'de str,
    seed: S,
    duplicates: DuplicateKeys,
) -> Result<S::Value, YamlError> {
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_nodes: MAX_NODES,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: MAX_ALIAS_EVENTS,
        },
        duplicate_keys: match duplicates {
            DuplicateKeys::Refuse => DuplicateKeyPolicy::Error,
            DuplicateKeys::ToVisitor => DuplicateKeyPolicy::PassThrough,
        },
        merge_keys: MergeKeyPolicy::AsOrdinary,
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
        underscored_numbers_as_strings: true,
        non_finite_float_policy: NonFiniteFloatPolicy::PassThrough,
        reject_unsupported_tags: true,
        with_snippet: false,
    };
    if is_empty_document(text) {
        // serde-saphyr turns any error about an empty document into "unexpected end of input";
        // the reader's own word for it ("the file defines no filters") says more.
        let (line, column) = end_position(text);
        return seed
            .deserialize(UnitDeserializer::<serde::de::value::Error>::new())
            .map_err(|e| YamlError {
                line,
                column,
                message: e.to_string(),
                from_visitor: true,
                tag: None,
            });
    }
    serde_saphyr::with_deserializer_from_str_with_options(text, options, |de| seed.deserialize(de))
        .map_err(|e| yaml_error(text, &e))
}

/// The position and message of a parser error, worded for the file's author.
fn yaml_error(text: &str, error: &YamlParseError) -> YamlError {
    let error = error.without_snippet();
    // An error inside an anchor's value reached through an alias: report the value that failed
    // (where the anchor is defined), as serde_yaml did; the alias is one of its uses.
    let (inner, defined) = match error {
        YamlParseError::AliasError {
            error, locations, ..
        } => (error.as_ref(), Some(locations.defined_location)),
        other => (other, None),
    };
    let location = inner
        .location()
        .filter(|l| l.line() > 0)
        .or(defined.filter(|l| l.line() > 0));
    let (line, column) = match location {
        Some(l) => (
            usize::try_from(l.line()).unwrap_or(usize::MAX),
            usize::try_from(l.column()).unwrap_or(usize::MAX),
        ),
        // serde-saphyr places nothing on errors about the document's root value (a list where
        // a mapping is expected, a required field missing): they are about the root node.
        None => first_node_position(text),
    };
    let from_visitor = matches!(
        inner,
        YamlParseError::Message { .. }
            | YamlParseError::SerdeInvalidType { .. }
            | YamlParseError::SerdeInvalidValue { .. }
            | YamlParseError::SerdeInvalidLength { .. }
            | YamlParseError::SerdeUnknownVariant { .. }
            | YamlParseError::SerdeUnknownField { .. }
            | YamlParseError::SerdeMissingField { .. }
    );
    let mut out = YamlError {
        line,
        column,
        message: message(inner),
        from_visitor,
        tag: None,
    };
    if let YamlParseError::UnsupportedTag { tag, .. } = inner {
        // The parser points at the tagged value; the tag, written before it on the line, is
        // what to remove.
        if let Some(col) = tag_column(text, line, column) {
            out.column = col;
        }
        out.tag = Some(tag.clone());
    }
    out
}

/// True when `text` holds no YAML node: only blank lines, comments, directives and document
/// markers.
fn is_empty_document(text: &str) -> bool {
    text.trim_start_matches('\u{feff}').lines().all(|line| {
        let line = line.trim();
        let rest = line
            .strip_prefix("---")
            .or_else(|| line.strip_prefix("..."))
            .filter(|r| r.is_empty() || r.starts_with(char::is_whitespace))
            .map_or(line, str::trim_start);
        rest.is_empty() || rest.starts_with('#') || line.starts_with('%')
    })
}

/// The 1-based line and column just past the end of `text` (where an empty document ends).
fn end_position(text: &str) -> (usize, usize) {
    let line = text.matches('\n').count() + 1;
    let last = text.rsplit('\n').next().unwrap_or("");
    (line, last.chars().count() + 1)
}

/// The 1-based line and column of the document's first node: the first character that is not
/// blank, a comment, a directive or the `---` marker.
fn first_node_position(text: &str) -> (usize, usize) {
    for (i, raw) in text.trim_start_matches('\u{feff}').lines().enumerate() {
        if raw.starts_with('%') {
            continue;
        }
        let (offset, rest) = match raw.strip_prefix("---") {
            Some(r) if r.is_empty() || r.starts_with(char::is_whitespace) => (3, r),
            _ => (0, raw),
        };
        let content = rest.trim_start();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let column = offset + rest[..rest.len() - content.len()].chars().count() + 1;
        return (i + 1, column);
    }
    end_position(text)
}

fn message(error: &YamlParseError) -> String {
    match error {
        // Ours, from a visitor: verbatim (it may carry a `hint:` line).
        YamlParseError::Message { msg, .. } => msg.clone(),
        YamlParseError::DuplicateMappingKey { key, .. } => format!(
            "{} appears twice in the same mapping\nhint: keep one of them",
            key.as_deref()
                .map_or_else(|| "a key".to_string(), |k| format!("`{}`", escape(k)))
        ),
        YamlParseError::UnsupportedTag { tag, .. } => format!(
            "a tagged YAML value (`{} value`) is not supported\nhint: write the value itself, without the tag",
            escape(tag)
        ),
        YamlParseError::Budget {
            breach: BudgetBreach::Nodes { .. },
            ..
        }
        | YamlParseError::AliasReplayLimitExceeded { .. }
        | YamlParseError::AliasExpansionLimitExceeded { .. }
        | YamlParseError::AliasReplayStackDepthExceeded { .. }
        | YamlParseError::AliasReplayCounterOverflow { .. } => format!(
            "the document is too large once its aliases are expanded (deckhand reads at most {MAX_NODES} values, {MAX_ALIAS_EVENTS} of them through aliases)\nhint: aliases (`*name`) of values that hold aliases multiply; write the values out"
        ),
        YamlParseError::Budget { .. } => format!(
            "the document is beyond what deckhand reads: {}\nhint: a task definition, service definition, filter or rules file is far smaller; check that this is the right file",
            escape(&DefaultMessageFormatter.format_message(error))
        ),
        YamlParseError::MultipleDocuments { .. } => {
            "the file holds more than one YAML document\nhint: keep one document: remove the `---` line and what follows, or split the file".to_string()
        }
        other => escape(&DefaultMessageFormatter.format_message(other)),
    }
}

/// The 1-based column of the tag written just before the value at `line`:`column`, when it is
/// on the same line (`family: !Ref Family`).
fn tag_column(text: &str, line: usize, column: usize) -> Option<usize> {
    let row = text.lines().nth(line.checked_sub(1)?)?;
    let before: String = row.chars().take(column.saturating_sub(1)).collect();
    let trimmed = before.trim_end();
    let token_start = trimmed
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace() || matches!(c, '[' | '{' | ','))
        .map_or(0, |(i, c)| i + c.len_utf8());
    trimmed[token_start..]
        .starts_with('!')
        .then(|| trimmed[..token_start].chars().count() + 1)
}

/// Control characters from the document, as escapes: messages reach terminals and annotations.
fn escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_debug().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

/// serde_json appends " at line L column C" to its messages; we print the position once.
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
        // At the bracket that is never closed (serde_yaml pointed past the end of the file).
        assert_eq!((err.line, err.column), (2, 23), "{err}");
        assert!(
            err.to_string()
                .starts_with("td.yaml:2:23: unclosed bracket '['"),
            "{err}"
        );
    }

    #[test]
    fn yaml_and_json_give_the_same_value() {
        let a = parse_document(Path::new("a.yml"), "family: web\ncpu: '256'\n").unwrap();
        let b = parse_document(Path::new("a.json"), r#"{"family":"web","cpu":"256"}"#).unwrap();
        assert_eq!(a, b);
    }

    /// Nine levels of nine aliases each: 9^9 (387 million) strings once expanded.
    fn billion_laughs() -> String {
        let mut text = String::from("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for (prev, name) in ["a", "b", "c", "d", "e", "f", "g", "h"]
            .iter()
            .zip(["b", "c", "d", "e", "f", "g", "h", "i"])
        {
            let refs = vec![format!("*{prev}"); 9].join(", ");
            text.push_str(&format!("{name}: &{name} [{refs}]\n"));
        }
        text
    }

    #[test]
    fn a_billion_laughs_is_refused_quickly() {
        let text = billion_laughs();
        let started = std::time::Instant::now();
        let err = parse_document(Path::new("laughs.yml"), &text).unwrap_err();
        let took = started.elapsed();
        assert!(
            err.message
                .starts_with("the document is too large once its aliases are expanded"),
            "{err}"
        );
        assert!(err.message.contains("\nhint: "), "{err}");
        assert!(err.line > 0, "{err}");
        // Refused by the budget, not after expanding (which takes minutes and gigabytes): about
        // 50 ms optimised, under a second in a test build; the bound leaves room for a busy CI.
        assert!(took < std::time::Duration::from_secs(10), "took {took:?}");

        // The same limit guards the typed readers (filter files come from pull requests).
        let typed = parse_yaml_as::<std::collections::BTreeMap<String, Value>>(
            Path::new("laughs.yml"),
            &text,
        )
        .unwrap_err();
        assert!(
            typed.message.starts_with("the document is too large"),
            "{typed}"
        );
    }

    #[test]
    fn the_alias_limit_is_deckhands() {
        // An anchored list of 1,000 globs, used `uses` times: about 1,000 replayed events a use.
        let text = |uses: usize| {
            let globs = (0..1000).map(|i| format!("g{i}")).collect::<Vec<_>>();
            let mut text = format!("shared: &shared [{}]\n", globs.join(", "));
            for i in 0..uses {
                text.push_str(&format!("f{i}: *shared\n"));
            }
            text
        };
        let under = parse_document(Path::new("f.yml"), &text(MAX_ALIAS_EVENTS / 1000 - 5));
        assert!(under.is_ok(), "{under:?}");
        let err =
            parse_document(Path::new("f.yml"), &text(MAX_ALIAS_EVENTS / 1000 + 5)).unwrap_err();
        assert!(
            err.message.starts_with("the document is too large"),
            "{err}"
        );
    }

    #[test]
    fn anchors_and_aliases_are_expanded() {
        // dorny/paths-filter's README: a filter that includes another one through an anchor.
        let text = "shared: &shared\n  - common/**\n  - config/**\nsrc:\n  - *shared\n  - src/**\n";
        let value = parse_document(Path::new("filters.yml"), text).unwrap();
        assert_eq!(
            value,
            serde_json::json!({
                "shared": ["common/**", "config/**"],
                "src": [["common/**", "config/**"], "src/**"],
            })
        );
        // A mapping through an alias, and an alias used before its anchor is an error there.
        let text = "log: &log {logDriver: awslogs}\nc: [{name: a, logConfiguration: *log}]\n";
        let value = parse_document(Path::new("td.yaml"), text).unwrap();
        assert_eq!(value["c"][0]["logConfiguration"]["logDriver"], "awslogs");
        let err = parse_document(Path::new("td.yaml"), "a: *later\nb: &later 1\n").unwrap_err();
        assert_eq!((err.line, err.column), (1, 4), "{err}");
        assert!(err.message.contains("unknown anchor"), "{err}");
    }

    #[test]
    fn scalars_read_as_yaml_1_2_and_serde_yaml_did() {
        let text = "a: yes\nb: on\nc: 0755\nd: 1_000\ne: true\nf: 0x1F\ng: ~\nh: 2.5\n";
        let value = parse_document(Path::new("v.yaml"), text).unwrap();
        assert_eq!(
            value,
            serde_json::json!({
                "a": "yes", "b": "on", "c": "0755", "d": "1_000",
                "e": true, "f": 31, "g": null, "h": 2.5,
            })
        );
    }

    #[test]
    fn a_duplicate_key_a_tag_and_a_second_document_are_errors_with_positions() {
        let err = parse_document(Path::new("v.yaml"), "family: web\nfamily: api\n").unwrap_err();
        assert_eq!((err.line, err.column), (2, 1), "{err}");
        assert_eq!(
            err.message,
            "`family` appears twice in the same mapping\nhint: keep one of them"
        );

        let err = parse_document(Path::new("v.yaml"), "family: !Ref Family\n").unwrap_err();
        assert_eq!((err.line, err.column), (1, 9), "{err}");
        assert!(
            err.message
                .starts_with("a tagged YAML value (`!Ref value`) is not supported\nhint: "),
            "{err}"
        );

        let err = parse_document(Path::new("v.yaml"), "a: 1\n---\nb: 2\n").unwrap_err();
        // At the second document's first node.
        assert_eq!((err.line, err.column), (3, 1), "{err}");
        assert!(
            err.message
                .starts_with("the file holds more than one YAML document"),
            "{err}"
        );
    }

    #[test]
    fn merge_keys_stay_keys() {
        let value = parse_document(Path::new("v.yaml"), "b: &b {x: 1}\nd:\n  <<: *b\n").unwrap();
        assert_eq!(value["d"]["<<"]["x"], 1);
    }

    #[test]
    fn an_empty_document_is_null_and_root_errors_point_at_the_root() {
        for text in ["", "# nothing\n", "---\n", "--- # c\n...\n"] {
            assert_eq!(
                parse_document(Path::new("e.yaml"), text).unwrap(),
                Value::Null,
                "{text:?}"
            );
        }
        assert_eq!(first_node_position("# c\n\n---\n  - a\n"), (4, 3));
        assert_eq!(first_node_position("--- [a]\n"), (1, 5));
        assert_eq!(end_position("# c\n"), (2, 1));
    }
}
