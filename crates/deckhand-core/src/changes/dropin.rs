//! dorny/paths-filter's inputs and outputs, byte for byte, so that `actions/changes` is a
//! drop-in for it (`shared/reference/paths-filter-dropin.md`, sections 1 and 4):
//!
//! - [`is_path_input`]: whether the `filters` input names a file or holds the YAML itself;
//! - [`ListFiles`]: the `list-files` formats of `<filter>_files` (`csv`, `json`, `shell`,
//!   `escape`);
//! - [`initial_fetch_depth`]: `initial-fetch-depth` as paths-filter reads it;
//! - [`paths_filter_outputs`]: the outputs, named and ordered as paths-filter writes them.
//!
//! Deliberate differences, each where paths-filter's output is unsafe or broken:
//! - paths-filter's "safe name" tests carry JavaScript's `m` flag, so a name holding a newline
//!   is written unquoted when one of its lines is all safe characters (`a\n$(x)` in `shell`
//!   mode runs `x` when spliced into a script). Here a name is safe only as a whole.
//! - `escape` escapes per character; paths-filter escapes per UTF-16 unit, which turns a
//!   character outside the Basic Multilingual Plane (an emoji) into two lone surrogates that
//!   the runner writes as U+FFFD.

use std::fmt;
use std::str::FromStr;

use super::Evaluation;

/// True when the `filters` input is a file path rather than inline YAML: paths-filter's
/// `isPathInput` (after trimming, as `core.getInput` does): a value with no newline and no
/// colon is a path, anything else is YAML (`src: src/**` on one line is YAML).
pub fn is_path_input(text: &str) -> bool {
    let t = text.trim();
    !(t.contains('\n') || t.contains(':'))
}

/// `initial-fetch-depth` as paths-filter reads it, `parseInt(x) || 10`: the leading integer of
/// the text, and 10 when there is none or it is 0. A negative depth (which paths-filter would
/// hand to `git fetch`, failing) is 10 too.
pub fn initial_fetch_depth(text: &str) -> u32 {
    let t = text.trim_start();
    let (negative, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let end = digits
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(digits.len());
    match digits[..end].parse::<u64>() {
        Ok(0) | Err(_) => 10,
        Ok(_) if negative => 10,
        Ok(n) => u32::try_from(n).unwrap_or(u32::MAX),
    }
}

/// How `<filter>_files` lists a filter's files (paths-filter's `list-files`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum ListFiles {
    /// No `<filter>_files` output (the default).
    #[default]
    None,
    /// Comma-separated; a name with an unsafe character is double-quoted (RFC 4180).
    Csv,
    /// A compact JSON array.
    Json,
    /// Space-separated shell words, quoted as little as possible.
    Shell,
    /// Space-separated, every unsafe character escaped with a backslash.
    Escape,
}

/// A `list-files` value that is not one of the formats.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`list-files` is set to invalid value `{0}` (expected `none`, `csv`, `json`, `shell` or `escape`)"
)]
pub struct UnknownListFormat(pub String);

impl FromStr for ListFiles {
    type Err = UnknownListFormat;

    /// Case-insensitive, as paths-filter lower-cases the input first (`CSV` is `csv`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_lowercase();
        Ok(match lower.as_str() {
            "none" => Self::None,
            "csv" => Self::Csv,
            "json" => Self::Json,
            "shell" => Self::Shell,
            "escape" => Self::Escape,
            _ => return Err(UnknownListFormat(lower)),
        })
    }
}

impl ListFiles {
    /// The input's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Csv => "csv",
            Self::Json => "json",
            Self::Shell => "shell",
            Self::Escape => "escape",
        }
    }

    /// `files` in this format; `None` for [`ListFiles::None`] (no output at all).
    pub fn format(self, files: &[String]) -> Option<String> {
        Some(match self {
            Self::None => return None,
            Self::Csv => files
                .iter()
                .map(|f| csv_escape(f))
                .collect::<Vec<_>>()
                .join(","),
            Self::Json => serde_json::to_string(files).expect("BUG: paths are always valid JSON"),
            Self::Shell => files
                .iter()
                .map(|f| shell_escape(f))
                .collect::<Vec<_>>()
                .join(" "),
            Self::Escape => files
                .iter()
                .map(|f| backslash_escape(f))
                .collect::<Vec<_>>()
                .join(" "),
        })
    }
}

impl fmt::Display for ListFiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// paths-filter's safe characters in `csv` mode: `[a-zA-Z0-9._+:@%/-]` (no comma).
fn csv_safe(c: char) -> bool {
    c.is_ascii_alphanumeric() || "._+:@%/-".contains(c)
}

/// paths-filter's safe characters in `shell` and `escape` modes: `[a-zA-Z0-9,._+:@%/-]`.
fn shell_safe(c: char) -> bool {
    c.is_ascii_alphanumeric() || ",._+:@%/-".contains(c)
}

/// JavaScript's `\s`: the characters of `/[\s]/` (ECMA-262 WhiteSpace and LineTerminator).
fn js_whitespace(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{0b}' | '\u{0c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

/// True when `value` is not empty and every character passes `safe` (a whole-string match:
/// see the module's note on the `m` flag).
fn all(value: &str, safe: impl Fn(char) -> bool) -> bool {
    !value.is_empty() && value.chars().all(safe)
}

/// One name in `csv` mode: as is when safe, otherwise in double quotes with inner quotes
/// doubled.
pub fn csv_escape(value: &str) -> String {
    if value.is_empty() || all(value, csv_safe) {
        return value.to_string();
    }
    format!("\"{}\"", value.replace('"', "\"\""))
}

/// One name in `shell` mode: as is when safe; in double quotes when it holds `'` and otherwise
/// only safe characters and whitespace; split at each `'` (each part escaped, joined by `\'`)
/// when it holds `'` and other unsafe characters; in single quotes otherwise.
pub fn shell_escape(value: &str) -> String {
    if value.is_empty() || all(value, shell_safe) {
        return value.to_string();
    }
    if value.contains('\'') {
        if all(value, |c| shell_safe(c) || c == '\'' || js_whitespace(c)) {
            return format!("\"{value}\"");
        }
        return value
            .split('\'')
            .map(shell_escape)
            .collect::<Vec<_>>()
            .join("\\'");
    }
    format!("'{value}'")
}

/// One name in `escape` mode: a backslash before every character that is not safe (space,
/// quotes, `$`, non-ASCII, newline included).
pub fn backslash_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    for c in value.chars() {
        if !shell_safe(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The outputs paths-filter writes, in its order: for each filter `<name>` (`true`/`false`),
/// `<name>_count`, and `<name>_files` unless `list_files` is [`ListFiles::None`]; then
/// `changes` (the JSON array of the filters that matched), which is left out when a filter is
/// itself named `changes` (that filter's `true`/`false` is the `changes` output, as in
/// paths-filter). Then deckhand's own `filters` (`{"changes": [...], "filters": {...}}`, every
/// filter's files), unless a filter is named `filters`.
pub fn paths_filter_outputs(
    evaluation: &Evaluation,
    list_files: ListFiles,
) -> Vec<(String, String)> {
    let mut outputs = Vec::with_capacity(evaluation.filters.len() * 3 + 2);
    for (name, files) in &evaluation.filters {
        outputs.push((name.clone(), evaluation.changed(name).to_string()));
        outputs.push((format!("{name}_count"), files.len().to_string()));
        if let Some(listed) = list_files.format(files) {
            outputs.push((format!("{name}_files"), listed));
        }
    }
    let named = |n: &str| evaluation.filters.iter().any(|(name, _)| name == n);
    if !named("changes") {
        outputs.push((
            "changes".into(),
            serde_json::to_string(&evaluation.changes).expect("BUG: names are valid JSON"),
        ));
    }
    if !named("filters") {
        outputs.push((
            "filters".into(),
            serde_json::to_string(evaluation).expect("BUG: an evaluation is valid JSON"),
        ));
    }
    outputs
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference's sample files (section 4), in git's order.
    const SAMPLE: &[&str] = &[
        "src/$var.ts",
        "src/a,b.ts",
        "src/a.ts",
        "src/file with space.ts",
        "src/it's.ts",
        "src/x\"y.ts",
        "src/ü.ts",
    ];

    fn sample() -> Vec<String> {
        SAMPLE.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_reference_samples_come_out_byte_for_byte() {
        let files = sample();
        assert_eq!(
            ListFiles::Csv.format(&files).unwrap(),
            r#""src/$var.ts","src/a,b.ts",src/a.ts,"src/file with space.ts","src/it's.ts","src/x""y.ts","src/ü.ts""#
        );
        assert_eq!(
            ListFiles::Shell.format(&files).unwrap(),
            r#"'src/$var.ts' src/a,b.ts src/a.ts 'src/file with space.ts' "src/it's.ts" 'src/x"y.ts' 'src/ü.ts'"#
        );
        assert_eq!(
            ListFiles::Escape.format(&files).unwrap(),
            r#"src/\$var.ts src/a,b.ts src/a.ts src/file\ with\ space.ts src/it\'s.ts src/x\"y.ts src/\ü.ts"#
        );
        assert_eq!(
            ListFiles::Json.format(&files).unwrap(),
            r#"["src/$var.ts","src/a,b.ts","src/a.ts","src/file with space.ts","src/it's.ts","src/x\"y.ts","src/ü.ts"]"#
        );
        assert_eq!(ListFiles::None.format(&files), None);
    }

    #[test]
    fn paths_filter_unit_tests() {
        // __tests__/shell-escape.test.ts and csv-escape.test.ts.
        assert_eq!(shell_escape("file'with $quote"), "file\\''with $quote'");
        assert_eq!(shell_escape("simple-file.txt"), "simple-file.txt");
        assert_eq!(
            shell_escape("file with spaces.txt"),
            "'file with spaces.txt'"
        );
        assert_eq!(shell_escape("file'with'quotes"), "\"file'with'quotes\"");
        assert_eq!(shell_escape("'leading"), "\"'leading\"");
        assert_eq!(shell_escape("'$x"), "\\''$x'");
        assert_eq!(shell_escape(""), "");
        assert_eq!(csv_escape("path/to/file.txt"), "path/to/file.txt");
        assert_eq!(csv_escape("file with space"), "\"file with space\"");
        assert_eq!(csv_escape("file, with coma"), "\"file, with coma\"");
        assert_eq!(
            csv_escape("file \" with double quote"),
            "\"file \"\" with double quote\""
        );
        assert_eq!(
            backslash_escape("file with spaces.txt"),
            "file\\ with\\ spaces.txt"
        );
        assert_eq!(backslash_escape("normal-file.js"), "normal-file.js");
    }

    #[test]
    fn empty_lists_are_empty_text_or_an_empty_array() {
        for (format, empty) in [
            (ListFiles::Csv, ""),
            (ListFiles::Shell, ""),
            (ListFiles::Escape, ""),
            (ListFiles::Json, "[]"),
        ] {
            assert_eq!(format.format(&[]).unwrap(), empty, "{format}");
        }
    }

    #[test]
    fn a_newline_in_a_name_is_always_quoted() {
        // paths-filter writes these as is (its `m` flag): spliced into a script, the second
        // line would run.
        let files = vec!["a\n$(touch pwned)".to_string()];
        assert_eq!(
            ListFiles::Shell.format(&files).unwrap(),
            "'a\n$(touch pwned)'"
        );
        assert_eq!(
            ListFiles::Csv.format(&files).unwrap(),
            "\"a\n$(touch pwned)\""
        );
        assert_eq!(
            ListFiles::Escape.format(&files).unwrap(),
            "a\\\n\\$\\(touch\\ pwned\\)"
        );
        // A quote and whitespace only: double quotes, where the newline is literal.
        assert_eq!(shell_escape("it's\nhere"), "\"it's\nhere\"");
    }

    #[test]
    fn characters_beyond_the_basic_plane_are_escaped_whole() {
        assert_eq!(backslash_escape("doc/🚀.md"), "doc/\\🚀.md");
        assert_eq!(shell_escape("doc/🚀.md"), "'doc/🚀.md'");
    }

    #[test]
    fn list_files_is_read_case_insensitively_and_says_what_is_allowed() {
        assert_eq!("CSV".parse::<ListFiles>(), Ok(ListFiles::Csv));
        assert_eq!(" json ".parse::<ListFiles>(), Ok(ListFiles::Json));
        assert_eq!("none".parse::<ListFiles>(), Ok(ListFiles::None));
        assert_eq!(
            "Yaml".parse::<ListFiles>().unwrap_err().to_string(),
            "`list-files` is set to invalid value `yaml` (expected `none`, `csv`, `json`, `shell` or `escape`)"
        );
    }

    #[test]
    fn a_value_is_a_path_only_without_newline_and_colon() {
        assert!(is_path_input(".github/filters.yaml"));
        assert!(is_path_input("  filters.yml\n"));
        assert!(
            is_path_input("- src/**"),
            "a one-line list is a path, as in paths-filter"
        );
        assert!(!is_path_input("src: src/**"));
        assert!(!is_path_input("backend:\n  - 'backend/**'\n"));
        assert!(!is_path_input("a\nb"));
    }

    #[test]
    fn initial_fetch_depth_is_parse_int_or_ten() {
        for (text, depth) in [
            ("100", 100),
            ("", 10),
            ("0", 10),
            ("abc", 10),
            ("20 commits", 20),
            ("  7", 7),
            ("+5", 5),
            ("-5", 10),
            ("99999999999", u32::MAX),
        ] {
            assert_eq!(initial_fetch_depth(text), depth, "{text:?}");
        }
    }

    fn evaluation(filters: &[(&str, &[&str])]) -> Evaluation {
        let filters: Vec<(String, Vec<String>)> = filters
            .iter()
            .map(|(n, f)| (n.to_string(), f.iter().map(|s| s.to_string()).collect()))
            .collect();
        Evaluation {
            changes: filters
                .iter()
                .filter(|(_, f)| !f.is_empty())
                .map(|(n, _)| n.clone())
                .collect(),
            filters,
        }
    }

    #[test]
    fn outputs_come_per_filter_then_changes_then_filters() {
        let e = evaluation(&[("src", &["src/a.ts", "src/b c.ts"]), ("docs", &[])]);
        let outputs = paths_filter_outputs(&e, ListFiles::Shell);
        let names: Vec<&str> = outputs.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "src",
                "src_count",
                "src_files",
                "docs",
                "docs_count",
                "docs_files",
                "changes",
                "filters"
            ]
        );
        assert_eq!(outputs[0].1, "true");
        assert_eq!(outputs[1].1, "2");
        assert_eq!(outputs[2].1, "src/a.ts 'src/b c.ts'");
        assert_eq!(outputs[3].1, "false");
        assert_eq!(outputs[4].1, "0");
        assert_eq!(outputs[5].1, "");
        assert_eq!(outputs[6].1, r#"["src"]"#);
        assert_eq!(
            outputs[7].1,
            r#"{"changes":["src"],"filters":{"src":["src/a.ts","src/b c.ts"],"docs":[]}}"#
        );
        let none = paths_filter_outputs(&e, ListFiles::None);
        assert!(none.iter().all(|(n, _)| !n.ends_with("_files")));
    }

    #[test]
    fn a_filter_named_changes_or_filters_takes_that_output() {
        let e = evaluation(&[("changes", &["x"]), ("filters", &[])]);
        let outputs = paths_filter_outputs(&e, ListFiles::None);
        assert_eq!(
            outputs,
            [
                ("changes".to_string(), "true".to_string()),
                ("changes_count".to_string(), "1".to_string()),
                ("filters".to_string(), "false".to_string()),
                ("filters_count".to_string(), "0".to_string()),
            ]
        );
    }
}
