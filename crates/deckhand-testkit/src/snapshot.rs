//! Snapshots of everything a user reads from one deckhand run, with shared redactions: the
//! values that differ from run to run (times, ports, generated ids, temporary paths) become
//! names, so a snapshot changes when a word of the output does and never otherwise.
//!
//! [`InActions`] runs deckhand as the GitHub Actions runner does (`GITHUB_ACTIONS=true`, an
//! outputs file and a step summary file); [`UserView`] renders what that run left for people
//! and machines: the exit code, the end of the log (the error block, or the verdict line, and
//! the annotation), the outputs, the step summary and the JSON result.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use regex_lite::Regex;
use serde_json::Value;

use crate::Run;

/// Replaces what changes from run to run in a text.
pub fn redact_text(text: &str) -> String {
    static RULES: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    let rules = RULES.get_or_init(|| {
        [
            // ISO 8601 instants (GitHub, the step summary's event table).
            (
                r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
                "[time]",
            ),
            // Clock times of log lines.
            (r"\b\d{2}:\d{2}:\d{2}\b", "[clock]"),
            // Ports of the local world and the fakes (also escaped, in annotation titles).
            (r"(127\.0\.0\.1|localhost)(:|%3A)\d+", "$1$2[port]"),
            // ECS deployment ids and task ids (moto's extension numbers and hashes them).
            (r"ecs-svc/\d+", "ecs-svc/[id]"),
            (r"\b[0-9a-f]{32}\b", "[task]"),
            // Temporary directories.
            (r"/tmp/\.tmp[A-Za-z0-9]+", "[tmp]"),
            (r"/tmp/tmp\.[A-Za-z0-9]+", "[tmp]"),
            // CloudFront caller references (they hash the run's distribution id).
            (r"deckhand-[0-9a-f]{40}", "deckhand-[caller-reference]"),
            // $GITHUB_OUTPUT heredoc delimiters (a time and a process id).
            (r"ghadelimiter_[0-9a-f]+_\d+", "ghadelimiter_[id]"),
        ]
        .into_iter()
        .map(|(pattern, with)| (Regex::new(pattern).expect("a valid pattern"), with))
        .collect()
    });
    let mut out = text.to_string();
    for (re, with) in rules {
        out = re.replace_all(&out, *with).into_owned();
    }
    out
}

/// Keys whose values are a time or a duration of this run.
const TIME_KEYS: &[&str] = &[
    "elapsed_seconds",
    "decided_at_ms",
    "created_at_ms",
    "stopped_at_ms",
];

/// Redacts a JSON result: times by key, every string through [`redact_text`], and the values
/// at `omit` (JSON pointers: `/events`, `/deploy/api_calls`) replaced by `"[omitted]"` (the
/// parts a scenario cannot pin, such as the polls of a rollout).
pub fn redact_json(value: &Value, omit: &[&str]) -> Value {
    let mut value = value.clone();
    for pointer in omit {
        if let Some(v) = value.pointer_mut(pointer) {
            *v = Value::String("[omitted]".into());
        }
    }
    walk(&mut value);
    value
}

fn walk(value: &mut Value) {
    match value {
        Value::String(s) => *s = redact_text(s),
        Value::Array(items) => items.iter_mut().for_each(walk),
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if TIME_KEYS.contains(&k.as_str()) && !v.is_null() {
                    *v = Value::String("[time]".into());
                } else {
                    walk(v);
                }
            }
        }
        _ => {}
    }
}

/// Reads a `$GITHUB_OUTPUT` file: `name=value` lines and `name<<DELIMITER` blocks.
pub fn parse_github_output(text: &str) -> Vec<(String, String)> {
    let mut outputs = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delimiter)) = line.split_once("<<") {
            let mut value = Vec::new();
            for l in lines.by_ref() {
                if l == delimiter {
                    break;
                }
                value.push(l);
            }
            outputs.push((name.to_string(), value.join("\n")));
        } else if let Some((name, value)) = line.split_once('=') {
            outputs.push((name.to_string(), value.to_string()));
        }
    }
    outputs
}

/// A deckhand command run as the Actions runner runs a step.
pub struct InActions {
    dir: tempfile::TempDir,
    /// The command, ready for its arguments.
    pub command: Command,
}

impl InActions {
    /// `command` (deckhand, with `--output json` to come) in a job: `GITHUB_ACTIONS=true`, and
    /// fresh outputs and step summary files.
    pub fn new(mut command: Command) -> Self {
        let dir = tempfile::tempdir().expect("a temp dir");
        command
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_OUTPUT", dir.path().join("output"))
            .env("GITHUB_STEP_SUMMARY", dir.path().join("summary"));
        Self { dir, command }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs it with `args` after `--output json`; what it left.
    pub fn run(mut self, args: &[&str]) -> UserView {
        let out = self
            .command
            .arg("--output")
            .arg("json")
            .args(args)
            .output()
            .expect("run deckhand");
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        UserView {
            run: Run::from_output(&out),
            outputs: parse_github_output(&read(&self.file("output"))),
            summary: read(&self.file("summary")),
            names: Vec::new(),
        }
    }
}

/// What one run left for its reader.
#[derive(Debug)]
pub struct UserView {
    /// The process: exit code, streams, JSON result.
    pub run: Run,
    /// `$GITHUB_OUTPUT`, in order.
    pub outputs: Vec<(String, String)>,
    /// `$GITHUB_STEP_SUMMARY`.
    pub summary: String,
    /// Generated values to show by a name (an id the emulator made up), wherever they appear.
    names: Vec<(String, String)>,
}

impl UserView {
    /// Shows `value` (an id generated for this run, such as a CloudFront distribution's) as
    /// `name` wherever it appears.
    #[must_use]
    pub fn naming(mut self, value: &str, name: &str) -> Self {
        if !value.is_empty() {
            self.names.push((value.to_string(), name.to_string()));
        }
        self
    }

    /// The end of the log: from the error block (`error: ...`) or the verdict line the run
    /// ended with, to the end, with the `::error` annotation. A failure report before an
    /// error line (events, stopped tasks) is left out: its format is pinned by the core's
    /// snapshots from fixtures; here its content depends on the rollout's timing.
    pub fn log_end(&self) -> String {
        let verdict = self.run.json["verdict"].as_str().unwrap_or_default();
        let lines: Vec<&str> = self.run.stderr.lines().collect();
        let start = lines
            .iter()
            .rposition(|l| l.starts_with("error: ") || l.starts_with(&format!("{verdict}: ")))
            .unwrap_or(lines.len());
        lines[start..].join("\n")
    }

    /// Everything a user reads, redacted: exit code, the end of the log, the outputs, the step
    /// summary and the JSON result. `omit` names JSON pointers and output names a scenario
    /// cannot pin (their content depends on timing).
    pub fn render(&self, omit: &[&str]) -> String {
        let outputs: Vec<String> = self
            .outputs
            .iter()
            .map(|(k, v)| {
                let v = if omit.contains(&k.as_str()) {
                    "[omitted]".to_string()
                } else {
                    v.clone()
                };
                if v.contains('\n') {
                    format!("{k}<<\n{v}\n>>")
                } else {
                    format!("{k}={v}")
                }
            })
            .collect();
        let pointers: Vec<&str> = omit
            .iter()
            .copied()
            .filter(|o| o.starts_with('/'))
            .collect();
        let json = serde_json::to_string_pretty(&redact_json(&self.run.json, &pointers))
            .unwrap_or_default();
        let mut text = format!(
            "exit code: {}\n\n--- log (end)\n{}\n\n--- outputs\n{}\n\n--- step summary\n{}\n--- json\n{json}\n",
            self.run.code,
            self.log_end(),
            outputs.join("\n"),
            self.summary,
        );
        for (value, name) in &self.names {
            text = text.replace(value, name);
        }
        redact_text(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_ports_and_ids_are_named() {
        assert_eq!(
            redact_text(
                "2026-12-07T14:07:24Z 14:07:24 http://127.0.0.1:41235/x ecs-svc/1733581 task 0f1e2d3c4b5a69788796a5b4c3d2e1f0"
            ),
            "[time] [clock] http://127.0.0.1:[port]/x ecs-svc/[id] task [task]"
        );
        // A digest is content, not an id of the run: it stays.
        let digest = "sha256:1bc04b5291c26a46d918139138b992d2de976d6851d0893b0476b85bfbdfc6e6";
        assert_eq!(redact_text(digest), digest);
    }

    #[test]
    fn json_times_go_by_key_and_omitted_parts_by_pointer() {
        let v = serde_json::json!({
            "elapsed_seconds": 1.5, "decided_at_ms": 17, "events": [1, 2], "run_url": "http://localhost:9/r"
        });
        assert_eq!(
            redact_json(&v, &["/events"]),
            serde_json::json!({
                "elapsed_seconds": "[time]", "decided_at_ms": "[time]", "events": "[omitted]", "run_url": "http://localhost:[port]/r"
            })
        );
    }

    #[test]
    fn github_output_files_are_read_with_their_heredocs() {
        let text = "verdict=succeeded\nplan<<ghadelimiter_1_2\nline one\nline two\nghadelimiter_1_2\nexit-code=0\n";
        assert_eq!(
            parse_github_output(text),
            [
                ("verdict".to_string(), "succeeded".to_string()),
                ("plan".to_string(), "line one\nline two".to_string()),
                ("exit-code".to_string(), "0".to_string()),
            ]
        );
    }
}
