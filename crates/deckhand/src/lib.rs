//! The `deckhand` command line: argument parsing, one module per command, the printer and its
//! one publisher, and the GitHub Actions contract. Decisions and renderers live in
//! `deckhand-core`; AWS, registry and GitHub calls in the adapters. The library form exists so
//! tests can inspect the CLI definition.

mod cancel;
pub mod cli;
pub mod color;
mod commands;
mod error;
pub mod gha;
mod git;
mod github;
mod local_files;
mod printer;
mod registry_access;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use deckhand_core::report::{Details, Outputs, Problem, Report};
use deckhand_core::verdict::Verdict;
use serde::Serialize;

use crate::cli::{Cli, OutputFormat};
use crate::printer::Printer;

/// Runs the command line and returns the process exit code.
pub fn main_entry() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    let printer = Printer::new(cli.output, cli.verbose, color::stderr_enabled(cli.color));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let mut report = Report::new(command_words(), Usage);
            report.fail(
                Verdict::Error,
                Problem::new(format!("cannot start the async runtime: {e}")),
            );
            printer.publish(&report);
            return exit(report.exit_code());
        }
    };
    exit(runtime.block_on(commands::run(cli, &printer)))
}

fn exit(code: deckhand_core::verdict::ExitCode) -> ExitCode {
    ExitCode::from(code.code())
}

/// A command line clap refused: nothing but the problem to report.
#[derive(Debug, Serialize)]
struct Usage;

impl Details for Usage {
    const OUTPUTS: &'static [&'static str] = &[];

    fn subject(&self) -> String {
        String::new()
    }

    fn outputs(_report: &Report<Self>, _outputs: &mut Outputs) {}

    fn summary(_report: &Report<Self>) -> String {
        String::new()
    }
}

/// Usage errors: clap's own message (exit 2), and a JSON result when JSON output was asked
/// for, so that `--output json` yields one JSON object on every exit path.
fn usage_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
            exit(Verdict::InvalidInput.exit_code())
        } else {
            ExitCode::SUCCESS
        };
    }
    if wants_json_from_raw_args() {
        let rendered = e.render().to_string();
        // clap's message without its usage block: "the following required arguments were not
        // provided: --cluster <CLUSTER>".
        let message = rendered
            .lines()
            .take_while(|l| !l.starts_with("Usage:"))
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
            .trim_start_matches("error: ")
            .to_string();
        let mut report = Report::new(command_words(), Usage);
        report.fail(
            Verdict::InvalidInput,
            Problem::new(message).with_hint("see `deckhand --help`"),
        );
        // clap's own message (with its usage block) is the text; the report goes to stdout.
        Printer::new(OutputFormat::Json, 0, false).publish_json_only(&report);
    }
    let _ = e.print();
    exit(Verdict::InvalidInput.exit_code())
}

/// The subcommand words of the command line (`ecs deploy`), as far as they are known.
fn command_words() -> String {
    let mut cmd = Cli::command();
    let mut words = Vec::new();
    for arg in std::env::args().skip(1) {
        if let Some(sub) = cmd.find_subcommand(&arg).cloned() {
            words.push(sub.get_name().to_string());
            cmd = sub;
        }
    }
    words.join(" ")
}

fn wants_json_from_raw_args() -> bool {
    let args: Vec<String> = std::env::args().collect();
    let flag = args
        .windows(2)
        .any(|w| w[0] == "--output" && w[1] == "json")
        || args.iter().any(|a| a == "--output=json");
    flag || std::env::var("DECKHAND_OUTPUT").is_ok_and(|v| v == "json")
}
