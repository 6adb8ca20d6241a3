//! The only writer of the terminal: human output and logs to stderr, `--output json` to stdout.
#![allow(clippy::print_stderr, clippy::print_stdout)]

use std::sync::{Arc, Mutex};

use crate::cli::OutputFormat;
use crate::gha::{self, Actions};

/// What a nested command would have published (see [`Printer::nested`]).
#[derive(Debug, Default)]
pub(crate) struct Captured {
    pub(crate) outputs: Vec<(String, String)>,
    pub(crate) summary: String,
    pub(crate) json: Option<serde_json::Value>,
}

/// Writes everything the user sees.
#[derive(Debug, Clone)]
pub(crate) struct Printer {
    output: OutputFormat,
    verbose: u8,
    pub(crate) actions: Actions,
    /// Set for a command run inside another (`nginx build --deploy-*` runs `ecs deploy`): its
    /// outputs, summary and JSON are kept for the outer command to publish as one result.
    captured: Option<Arc<Mutex<Captured>>>,
}

impl Printer {
    pub(crate) fn new(output: OutputFormat, verbose: u8) -> Self {
        Self {
            output,
            verbose,
            actions: Actions::from_env(),
            captured: None,
        }
    }

    /// A printer for a command nested in this one: lines and annotations go out as usual;
    /// outputs, summary and the JSON result are captured.
    pub(crate) fn nested(&self) -> (Self, Arc<Mutex<Captured>>) {
        let captured = Arc::new(Mutex::new(Captured::default()));
        let mut printer = self.clone();
        printer.captured = Some(captured.clone());
        // The outer command reads the nested result from its JSON.
        printer.output = OutputFormat::Json;
        (printer, captured)
    }

    /// A line of human output.
    pub(crate) fn line(&self, text: &str) {
        eprintln!("{text}");
    }

    /// Detail shown with `-v`.
    pub(crate) fn detail(&self, text: &str) {
        if self.verbose > 0 {
            eprintln!("{text}");
        }
    }

    /// A multi-line block.
    pub(crate) fn block(&self, text: &str) {
        eprint!("{text}");
        if !text.ends_with('\n') {
            eprintln!();
        }
    }

    /// `error: ...` with an optional `hint:` line, as cargo prints them.
    pub(crate) fn error_block(&self, title: &str, message: &str, hint: Option<&str>) {
        eprintln!("error: {message}");
        if let Some(h) = hint {
            eprintln!("  hint: {h}");
        }
        if self.actions.enabled {
            eprintln!("{}", gha::error_command(title, message));
        }
    }

    /// Starts a collapsible group in Actions logs.
    pub(crate) fn group(&self, title: &str) {
        if self.actions.enabled {
            eprintln!("::group::{title}");
        } else {
            eprintln!("{title}");
        }
    }

    pub(crate) fn end_group(&self) {
        if self.actions.enabled {
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

    /// Writes a command's outputs (which must be exactly the `declared` ones, in order) and its
    /// step summary; a runner file that cannot be written is a warning, not a failure.
    pub(crate) fn publish(&self, outputs: &[(&str, String)], declared: &[&str], summary: &str) {
        debug_assert_eq!(
            outputs.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
            declared
        );
        if let Some(c) = &self.captured {
            c.lock().unwrap_or_else(|p| p.into_inner()).outputs = outputs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect();
        } else if let Err(e) = self.actions.write_outputs(outputs) {
            self.line(&format!("warning: cannot write GITHUB_OUTPUT: {e}"));
        }
        self.summary(summary);
    }

    /// Appends to the step summary: the outer command's, when captured, else
    /// `$GITHUB_STEP_SUMMARY` (a file that cannot be written is a warning).
    pub(crate) fn summary(&self, markdown: &str) {
        if let Some(c) = &self.captured {
            c.lock()
                .unwrap_or_else(|p| p.into_inner())
                .summary
                .push_str(markdown);
            return;
        }
        if let Err(e) = self.actions.write_summary(markdown) {
            self.line(&format!("warning: cannot write GITHUB_STEP_SUMMARY: {e}"));
        }
    }

    /// Writes outputs whose names depend on the input (one set per filter of `changes`).
    pub(crate) fn publish_extra(&self, outputs: &[(String, String)]) {
        if self.captured.is_some() {
            return;
        }
        if let Err(e) = self.actions.write_outputs(outputs) {
            self.line(&format!("warning: cannot write GITHUB_OUTPUT: {e}"));
        }
    }

    /// True when [`Printer::publish`] would write outputs somewhere (a runner's
    /// `$GITHUB_OUTPUT`, or an outer command capturing them): large outputs are built only then.
    pub(crate) fn wants_outputs(&self) -> bool {
        self.captured.is_some() || self.actions.output_file.is_some()
    }

    pub(crate) fn is_json(&self) -> bool {
        self.output == OutputFormat::Json
    }

    /// The machine result on stdout, serialized straight from `value` (no intermediate
    /// `serde_json::Value` needed: `changes` on 10,000 files streams its result).
    pub(crate) fn json<T: serde::Serialize + ?Sized>(&self, value: &T) {
        if let Some(c) = &self.captured {
            c.lock().unwrap_or_else(|p| p.into_inner()).json = serde_json::to_value(value).ok();
            return;
        }
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
