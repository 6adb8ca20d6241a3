//! What `changes` reports: the evaluation (its JSON result is paths-filter's `{"changes": [...],
//! "filters": {...}}` plus the common fields), the log lines, the step summary, and the outputs
//! paths-filter users gate jobs on (`<filter>`, `<filter>_count`, `<filter>_files`).

use serde::Serialize;

use super::{Evaluation, ListFiles, paths_filter_outputs};
use crate::report::{Details, Outputs, Report};

/// The outputs of `changes` whose names do not depend on the filters (actions/changes declares
/// these); besides them, one `<filter>`, `<filter>_count` and (with `list-files`)
/// `<filter>_files` per filter. All are written in paths-filter's order
/// ([`paths_filter_outputs`]), so none is a declared output of the report.
pub const CHANGES_OUTPUTS: &[&str] = &["changes", "filters"];

/// How many matched paths of a filter `-v` lists in the log.
const LISTED_FILES: usize = 20;

/// The result of `changes`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ChangesReport {
    /// The filters that matched, and every filter's files (absent when it ended before).
    #[serde(flatten)]
    pub evaluation: Option<Evaluation>,
    /// Where the changed files came from (`git: a..b`, `the push event`, ...).
    #[serde(skip)]
    pub source: String,
    /// How many changed files there were (0 when every filter counts as changed).
    #[serde(skip)]
    pub changed_files: usize,
    /// How `<filter>_files` lists the files (`list-files`).
    #[serde(skip)]
    pub list_files: ListFiles,
}

impl ChangesReport {
    /// The verdict's headline: which filters changed.
    pub fn headline(&self) -> String {
        let Some(e) = &self.evaluation else {
            return String::new();
        };
        let names: Vec<String> = e.changes.iter().map(|n| format!("`{n}`")).collect();
        match names.len() {
            0 => format!("no filter of {} changed", e.filters.len()),
            n => format!(
                "{n} of {} filters changed: {}",
                e.filters.len(),
                names.join(", ")
            ),
        }
    }

    /// The log lines: the source, then one line per filter; with `verbose`, up to 20 of each
    /// filter's files.
    pub fn render_lines(&self, verbose: bool) -> String {
        let Some(e) = &self.evaluation else {
            return String::new();
        };
        let mut out = format!(
            "changes from {} ({} files)\n",
            self.source, self.changed_files
        );
        for (name, files) in &e.filters {
            let mark = if e.changed(name) { "changed" } else { "-" };
            out.push_str(&format!("  {name:<24} {mark:<8} {} files\n", files.len()));
            if verbose {
                for f in files.iter().take(LISTED_FILES) {
                    out.push_str(&format!("      {f}\n"));
                }
            }
        }
        if e.filters.iter().any(|(n, _)| n == "changes") {
            out.push_str("note: a filter is named `changes`: its outputs replace the `changes` list (as in paths-filter)\n");
        }
        out
    }
}

impl Details for ChangesReport {
    // paths-filter writes `changes` after the per-filter outputs, and not at all when a filter
    // is named `changes`: every output is one whose presence and place depend on the filters.
    const OUTPUTS: &'static [&'static str] = &[];

    fn subject(&self) -> String {
        String::new()
    }

    /// paths-filter's outputs, then deckhand's `filters`; nothing when the command ended before
    /// evaluating (as paths-filter writes nothing when it fails).
    fn outputs(report: &Report<Self>, outputs: &mut Outputs) {
        let Some(e) = &report.details.evaluation else {
            return;
        };
        for (name, value) in paths_filter_outputs(e, report.details.list_files) {
            outputs.push_dynamic(name, value);
        }
    }

    fn summary(report: &Report<Self>) -> String {
        let d = &report.details;
        let Some(e) = &d.evaluation else {
            return "### deckhand changes\n".into();
        };
        let mut md = format!(
            "### deckhand changes\n\nChanges from {} ({} files).\n\n| filter | changed | files |\n|---|---|---|\n",
            d.source, d.changed_files
        );
        for (name, files) in &e.filters {
            md.push_str(&format!(
                "| `{name}` | {} | {} |\n",
                if e.changed(name) { "yes" } else { "no" },
                files.len()
            ));
        }
        md
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verdict::Verdict;

    fn report() -> Report<ChangesReport> {
        let mut r = Report::new(
            "changes",
            ChangesReport {
                evaluation: Some(Evaluation {
                    changes: vec!["backend".into(), "nginx".into()],
                    filters: vec![
                        (
                            "backend".into(),
                            vec!["app/main.py".into(), "app/Dockerfile".into()],
                        ),
                        ("frontend".into(), vec![]),
                        ("nginx".into(), vec!["nginx/default.conf".into()]),
                    ],
                }),
                source: "git: 1a2b3c..4d5e6f".into(),
                changed_files: 3,
                list_files: ListFiles::Json,
            },
        );
        let headline = r.details.headline();
        r.conclude(Verdict::Succeeded, headline);
        r
    }

    #[test]
    fn log_lines_and_headline() {
        let r = report();
        insta::assert_snapshot!(format!(
            "{}{}",
            r.details.render_lines(true),
            r.render_text()
        ));
    }

    #[test]
    fn summary() {
        insta::assert_snapshot!(report().summary());
    }

    #[test]
    fn outputs_are_paths_filters() {
        let outputs = report().outputs();
        let all: Vec<(&str, &str)> = outputs.iter().collect();
        assert_eq!(
            all,
            [
                ("backend", "true"),
                ("backend_count", "2"),
                ("backend_files", r#"["app/main.py","app/Dockerfile"]"#),
                ("frontend", "false"),
                ("frontend_count", "0"),
                ("frontend_files", "[]"),
                ("nginx", "true"),
                ("nginx_count", "1"),
                ("nginx_files", r#"["nginx/default.conf"]"#),
                ("changes", r#"["backend","nginx"]"#),
                (
                    "filters",
                    r#"{"changes":["backend","nginx"],"filters":{"backend":["app/main.py","app/Dockerfile"],"frontend":[],"nginx":["nginx/default.conf"]}}"#
                ),
            ]
        );
    }

    #[test]
    fn the_json_result_keeps_paths_filters_shape() {
        let json = serde_json::to_value(report()).unwrap();
        assert_eq!(json["changes"], serde_json::json!(["backend", "nginx"]));
        assert_eq!(
            json["filters"]["nginx"],
            serde_json::json!(["nginx/default.conf"])
        );
        assert_eq!(json["verdict"], "succeeded");
        assert_eq!(json["schema_version"], 1);
        assert!(json.get("source").is_none());
    }
}
