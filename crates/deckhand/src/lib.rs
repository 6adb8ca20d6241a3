//! The `deckhand` command line: argument parsing, one module per command, the printer, exit
//! codes and the GitHub Actions contract. Decisions live in `deckhand-core`; AWS calls in
//! `deckhand-aws`. The library form exists so tests can inspect the CLI definition.

pub mod cli;
mod commands;
pub mod exit;
pub mod gha;
mod git;
mod github_records;
mod printer;
mod site_files;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, OutputFormat};
use crate::exit::ExitStatus;
use crate::printer::Printer;

/// Runs the command line and returns the process exit code.
pub fn main_entry() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    let printer = Printer::new(cli.output, cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            printer.error_block(
                "error",
                &format!("cannot start the async runtime: {e}"),
                None,
            );
            return ExitStatus::Failed.into();
        }
    };
    let status = runtime.block_on(commands::run(cli, &printer));
    status.into()
}

/// Usage errors: clap's own message (exit 2), or a JSON result when JSON output was asked for,
/// so that `--output json` yields one JSON object on every exit path.
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
            ExitStatus::InvalidInput.into()
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
        let result = serde_json::json!({
            "verdict": "invalid-input",
            "exit_code": ExitStatus::InvalidInput.code(),
            "error": { "message": message, "hint": "see `deckhand --help`" },
        });
        let printer = Printer::new(OutputFormat::Json, 0);
        printer.json(&result);
        let _ = e.print();
    } else {
        let _ = e.print();
    }
    ExitStatus::InvalidInput.into()
}

fn wants_json_from_raw_args() -> bool {
    let args: Vec<String> = std::env::args().collect();
    let flag = args
        .windows(2)
        .any(|w| w[0] == "--output" && w[1] == "json")
        || args.iter().any(|a| a == "--output=json");
    flag || std::env::var("DECKHAND_OUTPUT").is_ok_and(|v| v == "json")
}
