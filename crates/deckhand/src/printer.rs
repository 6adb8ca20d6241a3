//! The only writer of the terminal: progress lines and logs to stderr while a command runs,
//! and [`Printer::publish`], the one publisher of a command's [`Report`]: its last lines on
//! stderr, its `::error` annotation, `$GITHUB_OUTPUT`, the step summary, and the `--output
//! json` result on stdout.
#![allow(clippy::print_stderr, clippy::print_stdout)]

use std::sync::{Arc, Mutex};

use deckhand_core::report::{Details, Report};

use crate::cli::OutputFormat;
use crate::color::Painter;
use crate::gha::{self, Actions};

/// Writes everything the user sees.
#[derive(Debug, Clone)]
pub(crate) struct Printer {
    output: OutputFormat,
    verbose: u8,
    /// Colour for stderr (`--color`, `NO_COLOR`, a terminal): applied here, at the edge.
    painter: Painter,
    pub(crate) actions: Actions,
    /// The service a line belongs to, when several are deployed at once (`ecs deploy` with
    /// several `--service`): see [`Printer::for_service`].
    scope: Option<Arc<Scope>>,
}

/// Lines of one service of a fan-out: each prefixed with `[service]`, and held back while
/// `held` is set, so that plans made concurrently print in the order the services were given.
#[derive(Debug)]
struct Scope {
    prefix: String,
    held: Option<Mutex<String>>,
}

impl Printer {
    pub(crate) fn new(output: OutputFormat, verbose: u8, color: bool) -> Self {
        Self {
            output,
            verbose,
            painter: Painter::new(color),
            actions: Actions::from_env(),
            scope: None,
        }
    }

    /// The printer of one service of a fan-out: every line it writes starts with
    /// `[service] `, and groups become plain lines (the Actions log cannot nest or interleave
    /// groups of concurrent watches). With `hold`, lines wait in a buffer until
    /// [`Printer::release`].
    pub(crate) fn for_service(&self, service: &str, hold: bool) -> Self {
        Self {
            scope: Some(Arc::new(Scope {
                prefix: format!("[{service}] "),
                held: hold.then(|| Mutex::new(String::new())),
            })),
            ..self.clone()
        }
    }

    /// Writes the lines held back so far (see [`Printer::for_service`]).
    pub(crate) fn release(&self) {
        if let Some(held) = self.scope.as_ref().and_then(|s| s.held.as_ref()) {
            let text = std::mem::take(&mut *held.lock().unwrap_or_else(|e| e.into_inner()));
            eprint!("{text}");
        }
    }

    /// Writes `text` (whole lines) to stderr, prefixed and held as the scope says, in one
    /// write so that concurrent services' lines do not mix.
    fn emit(&self, text: &str) {
        let text = &self.painter.lines(text);
        let Some(scope) = &self.scope else {
            eprint!("{text}");
            return;
        };
        let prefixed: String = text
            .lines()
            .map(|l| format!("{}{l}\n", scope.prefix))
            .collect();
        match &scope.held {
            Some(held) => held
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push_str(&prefixed),
            None => eprint!("{prefixed}"),
        }
    }

    /// A line of human output.
    pub(crate) fn line(&self, text: &str) {
        self.emit(&format!("{text}\n"));
    }

    /// Detail shown with `-v`.
    pub(crate) fn detail(&self, text: &str) {
        if self.verbose > 0 {
            self.emit(&format!("{text}\n"));
        }
    }

    /// A multi-line block.
    pub(crate) fn block(&self, text: &str) {
        if text.ends_with('\n') {
            self.emit(text);
        } else {
            self.emit(&format!("{text}\n"));
        }
    }

    /// A warning: a `warning:` log line (and a `hint:` line), and in Actions a `::warning`
    /// annotation with the same message.
    pub(crate) fn warning(&self, title: &str, message: &str, hint: Option<&str>) {
        self.line(&format!("warning: {message}"));
        if let Some(h) = hint {
            self.line(&format!("  hint: {h}"));
        }
        self.annotate_warning(title, message);
    }

    /// The `::warning` annotation alone, for a warning the log already shows (a plan's, a
    /// poll's indented line). `title` names deckhand: `deckhand: ...` is added when it does
    /// not.
    pub(crate) fn annotate_warning(&self, title: &str, message: &str) {
        if self.actions.enabled {
            let title = if title.starts_with("deckhand") {
                title.to_string()
            } else {
                format!("deckhand: {title}")
            };
            // Workflow commands must start their line: never prefixed, never painted.
            eprintln!("{}", gha::warning_command(&title, message));
        }
    }

    /// Starts a collapsible group in Actions logs.
    pub(crate) fn group(&self, title: &str) {
        if self.actions.enabled && self.scope.is_none() {
            eprintln!("::group::{title}");
        } else {
            self.line(title);
        }
    }

    pub(crate) fn end_group(&self) {
        if self.actions.enabled && self.scope.is_none() {
            eprintln!("::endgroup::");
        }
    }

    /// Registers secret values with the runner before anything could print them.
    pub(crate) fn mask(&self, values: &[String]) {
        if self.actions.enabled {
            for v in values.iter().filter(|v| !v.is_empty()) {
                eprintln!("{}", gha::mask_command(v));
            }
        }
    }

    /// `-v` was given.
    pub(crate) fn is_verbose(&self) -> bool {
        self.verbose > 0
    }

    pub(crate) fn is_json(&self) -> bool {
        self.output == OutputFormat::Json
    }

    /// Publishes a command's report everywhere it goes: its last lines (the error block, or
    /// the failure report, or `verdict: headline`) and `::error` annotation on stderr, its
    /// outputs to `$GITHUB_OUTPUT`, its summary to `$GITHUB_STEP_SUMMARY` (a runner file that
    /// cannot be written is a warning, not a failure), and the JSON result on stdout.
    pub(crate) fn publish<D: Details>(&self, report: &Report<D>) {
        eprint!(
            "{}",
            self.painter.report(&report.render_text(), report.verdict)
        );
        if self.actions.enabled
            && let Some((title, message)) = report.error_annotation()
        {
            match report.problem.as_ref().and_then(|p| p.at.as_ref()) {
                // On the line of the file it is about (a filters file's error).
                Some(at) => eprintln!(
                    "{}",
                    gha::error_at_command(&at.file, at.line, at.column, &message)
                ),
                None => eprintln!("{}", gha::error_command(&title, &message)),
            }
        }
        if self.actions.output_file.is_some() {
            let outputs = report.outputs();
            let pairs: Vec<(&str, &str)> = outputs.iter().collect();
            if let Err(e) = self.actions.write_outputs(&pairs) {
                let file = shown(self.actions.output_file.as_deref());
                self.warning(
                    "deckhand: outputs not written",
                    &format!("cannot write GITHUB_OUTPUT ({file}): {e}"),
                    None,
                );
            }
        }
        if self.actions.summary_file.is_some()
            && let Err(e) = self.actions.write_summary(&report.summary())
        {
            let file = shown(self.actions.summary_file.as_deref());
            self.warning(
                "deckhand: step summary not written",
                &format!("cannot write GITHUB_STEP_SUMMARY ({file}): {e}"),
                None,
            );
        }
        if let Some(calls) = &report.api_calls {
            let total: u64 = calls.values().sum();
            self.detail(&format!("aws api calls: {total} {calls:?}"));
        }
        if self.is_json() {
            self.json(report);
        } else if self.actions.output_file.is_none()
            && let Some(text) = report.stdout()
        {
            println!("{text}");
        }
    }

    /// Only the JSON result, for a command line clap refused (clap prints its own text).
    pub(crate) fn publish_json_only<D: Details>(&self, report: &Report<D>) {
        self.json(report);
    }

    /// The machine result on stdout, serialized straight from `value` (no intermediate
    /// `serde_json::Value`: `changes` on 10,000 files streams its result).
    fn json<T: serde::Serialize + ?Sized>(&self, value: &T) {
        use std::io::Write;
        let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
        let written = serde_json::to_writer_pretty(&mut out, value)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out))
            .and_then(|()| out.flush());
        // A closed stdout (`| head`) is the reader's choice, not a failure of the command.
        drop(written);
    }
}

/// A runner file's path, for a message.
fn shown(path: Option<&std::path::Path>) -> String {
    path.map(|p| p.display().to_string()).unwrap_or_default()
}
