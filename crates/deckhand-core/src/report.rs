//! What every command returns: a typed [`Report`], the verdict and headline every command has
//! around the details only it has. The binary's one publisher writes a report to the log, to
//! `--output json`, to `$GITHUB_OUTPUT`, to the step summary and as annotations, all from the
//! renderers here and in each area's `report` module. Commands compose by embedding each
//! other's reports (`nginx build` holds its rollout's), never by reading printed output.

use std::collections::BTreeMap;

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use crate::verdict::{ExitCode, Verdict};

/// The version of the `--output json` result's shape. Raised when a field changes meaning or
/// disappears; new fields do not raise it.
pub const SCHEMA_VERSION: u32 = 1;

/// Why a command stopped before its verdict: what failed, on which resource, and how to fix it
/// when that is known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// What failed, in one sentence (lowercase, identifiers in backticks).
    pub message: String,
    /// The resource it failed on (`prod/web`, `s3://site/index.html`, a file), when one did.
    pub resource: Option<String>,
    /// How to fix it, when known.
    pub hint: Option<String>,
    /// The line of a file the problem is on (a malformed filters file), for an annotation
    /// that points at it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<FileSpot>,
}

/// A place in a file: the workspace-relative path, 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSpot {
    /// The file, relative to the workspace when it is inside it.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

impl Problem {
    /// A problem without a hint.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            resource: None,
            hint: None,
            at: None,
        }
    }

    /// Pointing at a place in a file.
    #[must_use]
    pub fn at(mut self, spot: FileSpot) -> Self {
        self.at = Some(spot);
        self
    }

    /// With a hint.
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// With a hint when there is one.
    #[must_use]
    pub fn with_hint_opt(mut self, hint: Option<String>) -> Self {
        if hint.is_some() {
            self.hint = hint;
        }
        self
    }

    /// Naming the resource it failed on.
    #[must_use]
    pub fn on(mut self, resource: impl Into<String>) -> Self {
        self.resource = Some(resource.into());
        self
    }

    /// The problem as step-summary Markdown.
    pub fn markdown(&self) -> String {
        let hint = self
            .hint
            .as_ref()
            .map(|h| format!("\n**hint:** {h}\n"))
            .unwrap_or_default();
        format!("\n**error:** {}\n{hint}", self.message)
    }
}

/// A command's `$GITHUB_OUTPUT` values: exactly the names it declares (which its action
/// mirrors), in that order, then any whose names depend on the input (`changes`' filters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outputs {
    declared: &'static [&'static str],
    values: Vec<(String, String)>,
}

impl Outputs {
    /// Every declared output, empty.
    pub fn new(declared: &'static [&'static str]) -> Self {
        Self {
            declared,
            values: declared
                .iter()
                .map(|n| ((*n).to_string(), String::new()))
                .collect(),
        }
    }

    /// Sets a declared output.
    ///
    /// # Panics
    /// When `name` is not declared: the action would never see it, a bug to catch in tests.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        let declared = self.declared.len();
        match self.values[..declared].iter_mut().find(|(k, _)| k == name) {
            Some(slot) => slot.1 = value.into(),
            None => panic!("BUG: output `{name}` is not declared ({:?})", self.declared),
        }
    }

    /// Adds an output whose name depends on the input, after the declared ones.
    pub fn push_dynamic(&mut self, name: String, value: String) {
        self.values.push((name, value));
    }

    /// A value, by name.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the command declares `name`.
    pub fn declares(&self, name: &str) -> bool {
        self.declared.contains(&name)
    }

    /// Every output, declared ones first, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// What only one command knows, and how it shows it: the typed half of a [`Report`].
pub trait Details: Serialize + Sized {
    /// The outputs written to `$GITHUB_OUTPUT`, in order; the command's action mirrors them.
    const OUTPUTS: &'static [&'static str];

    /// What the command acted on, for titles: `prod/web`, `s3://site/`, a repository.
    fn subject(&self) -> String;

    /// Fills the command's own outputs. `verdict`, `exit-code` and `failure-report` are filled
    /// already when declared.
    fn outputs(report: &Report<Self>, outputs: &mut Outputs);

    /// The step summary's Markdown (the problem, when there is one, is appended after it).
    fn summary(report: &Report<Self>) -> String;

    /// The long account of a red verdict for the log and the `failure-report` output (ECS:
    /// service events and stopped tasks).
    fn failure_report(_report: &Report<Self>) -> Option<String> {
        None
    }

    /// The `::error` line of a red verdict that has no problem, when it says more than the
    /// headline.
    fn annotation(_report: &Report<Self>) -> Option<String> {
        None
    }

    /// The hint shown with a red verdict that has no problem (where to look next).
    fn hint(_report: &Report<Self>) -> Option<String> {
        None
    }

    /// What text mode writes to stdout when no runner reads the outputs (`ecr login`'s
    /// password, for `docker login --password-stdin`).
    fn stdout(_report: &Report<Self>) -> Option<String> {
        None
    }
}

/// A JSON field and a summary section a wrapper adds to the report it wraps (the GitHub
/// deployment record around a deploy).
#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    /// The field of the JSON result.
    pub key: &'static str,
    /// Its value.
    pub json: Value,
    /// Markdown appended to the step summary.
    pub summary: String,
}

/// Requests made, by operation (`ECS.UpdateService`), from the adapters' counters.
pub type ApiCalls = BTreeMap<String, u64>;

/// Everything a command knows when it ends.
#[derive(Debug, Clone)]
pub struct Report<D> {
    /// `ecs deploy`, `site deploy`, ...
    pub command: String,
    /// The verdict.
    pub verdict: Verdict,
    /// One sentence saying what happened.
    pub headline: String,
    /// Why it stopped before its verdict, when it did.
    pub problem: Option<Problem>,
    /// What only this command knows.
    pub details: D,
    /// AWS requests made, when the command talks to AWS.
    pub api_calls: Option<ApiCalls>,
    /// Wall time of the command.
    pub elapsed_seconds: f64,
    /// When the verdict was reached (epoch milliseconds).
    pub decided_at_ms: i64,
    /// What wrappers added.
    pub attachments: Vec<Attachment>,
}

impl<D: Details> Report<D> {
    /// A report that has reached nothing yet (`error` until a verdict is set).
    pub fn new(command: impl Into<String>, details: D) -> Self {
        Self {
            command: command.into(),
            verdict: Verdict::Error,
            headline: String::new(),
            problem: None,
            details,
            api_calls: None,
            elapsed_seconds: 0.0,
            decided_at_ms: 0,
            attachments: Vec::new(),
        }
    }

    /// Sets the verdict and the headline.
    pub fn conclude(&mut self, verdict: Verdict, headline: impl Into<String>) {
        self.verdict = verdict;
        self.headline = headline.into();
    }

    /// Ends with a problem: the verdict (bad input, an error, a timeout) and the problem, whose
    /// message becomes the headline.
    pub fn fail(&mut self, verdict: Verdict, problem: Problem) {
        self.verdict = verdict;
        self.headline.clone_from(&problem.message);
        self.problem = Some(problem);
    }

    /// The exit code.
    pub fn exit_code(&self) -> ExitCode {
        self.verdict.exit_code()
    }

    /// `deckhand ecs deploy prod/web`: the title of annotations and errors.
    pub fn title(&self) -> String {
        let subject = self.details.subject();
        if subject.is_empty() {
            format!("deckhand {}", self.command)
        } else {
            format!("deckhand {} {subject}", self.command)
        }
    }

    /// The long account of a red verdict without a problem.
    pub fn failure_report(&self) -> Option<String> {
        if self.verdict.is_ok() || self.problem.is_some() {
            return None;
        }
        D::failure_report(self)
    }

    /// The outputs, in the declared order.
    pub fn outputs(&self) -> Outputs {
        let mut outputs = Outputs::new(D::OUTPUTS);
        if outputs.declares("verdict") {
            outputs.set("verdict", self.verdict.as_str());
        }
        if outputs.declares("exit-code") {
            outputs.set("exit-code", self.exit_code().code().to_string());
        }
        if outputs.declares("failure-report") {
            let text = match &self.problem {
                Some(p) => p.message.clone(),
                None => self.failure_report().unwrap_or_default(),
            };
            outputs.set("failure-report", text);
        }
        D::outputs(self, &mut outputs);
        outputs
    }

    /// The step summary: the command's, its problem, then what wrappers added.
    pub fn summary(&self) -> String {
        let mut md = D::summary(self);
        if let Some(p) = &self.problem {
            md.push_str(&p.markdown());
        }
        for a in &self.attachments {
            md.push_str(&a.summary);
        }
        md
    }

    /// The `::error` annotation of a red verdict: (title, message).
    pub fn error_annotation(&self) -> Option<(String, String)> {
        if self.verdict.is_ok() {
            return None;
        }
        let message = match &self.problem {
            Some(p) => p.message.clone(),
            None => D::annotation(self).unwrap_or_else(|| self.headline.clone()),
        };
        Some((self.title(), message))
    }

    /// What the log shows when the command ends: the problem as an error block (`error:` and
    /// `hint:` lines, as cargo prints them), or a red verdict's failure report and error line,
    /// or `verdict: headline`.
    pub fn render_text(&self) -> String {
        let error_block = |message: &str, hint: Option<&str>| {
            let mut out = format!("error: {message}\n");
            if let Some(h) = hint {
                out.push_str(&format!("  hint: {h}\n"));
            }
            out
        };
        if let Some(p) = &self.problem {
            return error_block(&p.message, p.hint.as_deref());
        }
        if self.verdict.is_ok() {
            return format!("{}: {}\n", self.verdict, self.headline);
        }
        let mut out = String::new();
        if let Some(report) = self.failure_report() {
            out.push('\n');
            out.push_str(&report);
            if !report.ends_with('\n') {
                out.push('\n');
            }
        }
        let line = D::annotation(self).unwrap_or_else(|| self.headline.clone());
        out.push_str(&error_block(&line, D::hint(self).as_deref()));
        out
    }

    /// What text mode writes to stdout when no runner reads the outputs.
    pub fn stdout(&self) -> Option<String> {
        D::stdout(self)
    }

    /// Adds a wrapper's JSON field and summary section.
    pub fn attach(&mut self, attachment: Attachment) {
        self.attachments.push(attachment);
    }
}

impl<D: Serialize> Serialize for Report<D> {
    /// The `--output json` result: the common fields, the command's own fields, then what
    /// wrappers attached and the request counts.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Json<'a, D> {
            schema_version: u32,
            command: &'a str,
            verdict: Verdict,
            exit_code: u8,
            headline: &'a str,
            #[serde(flatten)]
            details: &'a D,
            error: Option<&'a Problem>,
            #[serde(flatten)]
            attachments: Attached<'a>,
            #[serde(skip_serializing_if = "Option::is_none")]
            api_calls: Option<CallsJson<'a>>,
            elapsed_seconds: f64,
            decided_at_ms: i64,
        }
        #[derive(Serialize)]
        struct CallsJson<'a> {
            total: u64,
            by_operation: &'a ApiCalls,
        }
        struct Attached<'a>(&'a [Attachment]);
        impl Serialize for Attached<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(self.0.len()))?;
                for a in self.0 {
                    map.serialize_entry(a.key, &a.json)?;
                }
                map.end()
            }
        }
        Json {
            schema_version: SCHEMA_VERSION,
            command: &self.command,
            verdict: self.verdict,
            exit_code: self.verdict.exit_code().code(),
            headline: &self.headline,
            details: &self.details,
            error: self.problem.as_ref(),
            attachments: Attached(&self.attachments),
            api_calls: self.api_calls.as_ref().map(|calls| CallsJson {
                total: calls.values().sum(),
                by_operation: calls,
            }),
            elapsed_seconds: self.elapsed_seconds,
            decided_at_ms: self.decided_at_ms,
        }
        .serialize(serializer)
    }
}

/// A table cell or one-line Markdown text: pipes escaped, newlines flattened.
pub fn escape_md(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// `✅` for a green verdict, `❌` for a red one: the mark of a summary's heading.
pub fn icon(verdict: Verdict) -> &'static str {
    if verdict.is_ok() { "✅" } else { "❌" }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small command for the envelope's tests.
    #[derive(Debug, Clone, Serialize)]
    struct Probe {
        target: String,
        long_report: Option<String>,
    }

    impl Details for Probe {
        const OUTPUTS: &'static [&'static str] =
            &["verdict", "exit-code", "target", "failure-report"];

        fn subject(&self) -> String {
            self.target.clone()
        }

        fn outputs(report: &Report<Self>, outputs: &mut Outputs) {
            outputs.set("target", report.details.target.clone());
        }

        fn summary(report: &Report<Self>) -> String {
            format!(
                "### {} probe `{}`: {}\n",
                icon(report.verdict),
                report.details.target,
                report.verdict
            )
        }

        fn failure_report(report: &Report<Self>) -> Option<String> {
            report.details.long_report.clone()
        }

        fn hint(_report: &Report<Self>) -> Option<String> {
            Some("see the probe's log".into())
        }
    }

    fn probe() -> Report<Probe> {
        Report::new(
            "probe run",
            Probe {
                target: "prod/web".into(),
                long_report: Some("events:\n  task stopped\n".into()),
            },
        )
    }

    #[test]
    fn a_green_report_is_one_line_and_no_annotation() {
        let mut r = probe();
        r.conclude(Verdict::Succeeded, "it worked");
        assert_eq!(r.render_text(), "succeeded: it worked\n");
        assert_eq!(r.error_annotation(), None);
        assert_eq!(r.outputs().get("failure-report"), Some(""));
    }

    #[test]
    fn a_problem_is_an_error_block_and_its_message_is_everywhere() {
        let mut r = probe();
        r.fail(
            Verdict::InvalidInput,
            Problem::new("`--cluster` is empty")
                .with_hint("name the cluster")
                .on("prod"),
        );
        assert_eq!(
            r.render_text(),
            "error: `--cluster` is empty\n  hint: name the cluster\n"
        );
        assert_eq!(
            r.error_annotation(),
            Some((
                "deckhand probe run prod/web".into(),
                "`--cluster` is empty".into()
            ))
        );
        let outputs = r.outputs();
        assert_eq!(
            outputs.iter().collect::<Vec<_>>(),
            [
                ("verdict", "invalid-input"),
                ("exit-code", "2"),
                ("target", "prod/web"),
                ("failure-report", "`--cluster` is empty"),
            ]
        );
        assert!(
            r.summary()
                .ends_with("\n**error:** `--cluster` is empty\n\n**hint:** name the cluster\n")
        );
    }

    #[test]
    fn a_red_verdict_without_a_problem_shows_its_failure_report_then_the_error_line() {
        let mut r = probe();
        r.conclude(Verdict::RolledBack, "deployment 2 failed");
        assert_eq!(
            r.render_text(),
            "\nevents:\n  task stopped\nerror: deployment 2 failed\n  hint: see the probe's log\n"
        );
        assert_eq!(
            r.outputs().get("failure-report"),
            Some("events:\n  task stopped\n")
        );
        assert_eq!(r.exit_code().code(), 3);
    }

    #[test]
    fn the_json_result_has_the_common_fields_the_details_and_the_attachments() {
        let mut r = probe();
        r.conclude(Verdict::NoChange, "nothing to do");
        r.api_calls = Some(ApiCalls::from([("ECS.DescribeServices".to_string(), 2)]));
        r.attach(Attachment {
            key: "github_deployment",
            json: serde_json::json!({"id": 7}),
            summary: "\nrecorded\n".into(),
        });
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "schema_version": 1,
                "command": "probe run",
                "verdict": "no-change",
                "exit_code": 0,
                "headline": "nothing to do",
                "target": "prod/web",
                "long_report": "events:\n  task stopped\n",
                "error": null,
                "github_deployment": {"id": 7},
                "api_calls": {"total": 2, "by_operation": {"ECS.DescribeServices": 2}},
                "elapsed_seconds": 0.0,
                "decided_at_ms": 0,
            })
        );
        let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
        assert_eq!(
            keys[..5],
            [
                "schema_version",
                "command",
                "verdict",
                "exit_code",
                "headline"
            ]
        );
        assert!(r.summary().ends_with("\nrecorded\n"));
    }

    #[test]
    #[should_panic(expected = "output `nope` is not declared")]
    fn an_undeclared_output_is_a_bug() {
        Outputs::new(&["verdict"]).set("nope", "x");
    }

    #[test]
    fn dynamic_outputs_follow_the_declared_ones() {
        let mut o = Outputs::new(&["changes"]);
        o.push_dynamic("backend".into(), "true".into());
        o.set("changes", "[\"backend\"]");
        assert_eq!(
            o.iter().collect::<Vec<_>>(),
            [("changes", "[\"backend\"]"), ("backend", "true")]
        );
    }
}
