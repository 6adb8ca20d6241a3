//! One module per command. Each command returns its typed [`Report`]; this module stamps it
//! (elapsed time, when the verdict was reached), hands it to the one publisher, and turns its
//! verdict into the exit code.

mod changes;
mod dispatch;
mod ecr;
mod ecs;
mod image;
mod nginx;
mod platform;
mod pr_comment;
mod site;
mod smoke;

use std::time::Instant;

use deckhand_core::report::{Details, Report};
use deckhand_core::verdict::ExitCode;

use crate::cli::{Cli, Command, EcrCommand, EcsCommand, ImageCommand, NginxCommand, SiteCommand};
use crate::error::{CommandError, Result};
use crate::printer::Printer;

/// Runs the command, publishes its report, returns the exit code.
pub(crate) async fn run(cli: Cli, printer: &Printer) -> ExitCode {
    let started = Instant::now();
    let region = cli.region.clone();
    match cli.command {
        // Several services: one composed report around each service's own deploy steps.
        Command::Ecs(EcsCommand::Deploy(args)) if args.deploy.target.is_fan_out() => publish(
            printer,
            started,
            ecs::deploy_services(region, args, printer).await,
        ),
        Command::Ecs(EcsCommand::Deploy(args)) => {
            publish(printer, started, ecs::deploy(region, args, printer).await)
        }
        Command::Ecs(EcsCommand::Diff(args)) => {
            publish(printer, started, ecs::diff(region, args, printer).await)
        }
        Command::Ecs(EcsCommand::Rollback(args)) => {
            publish(printer, started, ecs::rollback(region, args, printer).await)
        }
        Command::Ecs(EcsCommand::Wait(args)) => {
            publish(printer, started, ecs::wait(region, args, printer).await)
        }
        Command::Ecs(EcsCommand::Run(args)) => {
            publish(printer, started, ecs::run(region, args, printer).await)
        }
        Command::Site(SiteCommand::Deploy(args)) => {
            publish(printer, started, site::deploy(region, args, printer).await)
        }
        Command::Image(ImageCommand::Build(args)) => {
            publish(printer, started, image::build(region, args, printer).await)
        }
        Command::Nginx(NginxCommand::Build(args)) => {
            publish(printer, started, nginx::build(region, args, printer).await)
        }
        Command::Ecr(EcrCommand::Login(args)) => {
            publish(printer, started, ecr::login(region, args, printer).await)
        }
        Command::Ecr(EcrCommand::Prepare(args)) => {
            publish(printer, started, ecr::prepare(region, args, printer).await)
        }
        Command::Changes(args) => publish(printer, started, changes::changes(args, printer).await),
        Command::Dispatch(args) => {
            publish(printer, started, dispatch::dispatch(args, printer).await)
        }
        Command::PrComment(args) => publish(
            printer,
            started,
            pr_comment::pr_comment(args, printer).await,
        ),
    }
}

/// A report of a command that talks to AWS: its request counts start at zero, so a run that
/// ends before its first call says so (`"api_calls": {"total": 0}`).
pub(crate) fn aws_report<D: Details>(command: &str, details: D) -> Report<D> {
    let mut report = Report::new(command, details);
    report.api_calls = Some(deckhand_core::report::ApiCalls::new());
    report
}

/// Stamps and publishes a report; its exit code.
pub(crate) fn publish<D: Details>(
    printer: &Printer,
    started: Instant,
    mut report: Report<D>,
) -> ExitCode {
    stamp(&mut report, started);
    printer.publish(&report);
    report.exit_code()
}

/// Records how long a command took and when its verdict was reached.
pub(crate) fn stamp<D: Details>(report: &mut Report<D>, started: Instant) {
    report.elapsed_seconds = started.elapsed().as_secs_f64();
    report.decided_at_ms = now_ms();
}

/// This machine's clock, in epoch milliseconds.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The text of a file flag, where `-` means stdin; `what` names the content and `flag` the
/// flag in the errors (both bad input).
pub(crate) fn read_file_or_stdin(path: &str, what: &str, flag: &str) -> Result<String> {
    if path == "-" {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).map_err(|e| {
            CommandError::invalid(format!("cannot read the {what} from stdin: {e}"))
        })?;
        return Ok(text);
    }
    std::fs::read_to_string(path).map_err(|e| {
        CommandError::invalid(format!("cannot read `{path}`: {e}")).hint(format!("check `{flag}`"))
    })
}

/// Loads the AWS settings; a missing region is bad configuration (exit 2), caught before any
/// call.
pub(crate) async fn aws_context(region: Option<String>) -> Result<deckhand_aws::AwsContext> {
    let ctx = deckhand_aws::load_context(region).await;
    if ctx.sdk.region().is_none() {
        return Err(CommandError::invalid("no AWS region is set").hint(
            "pass `--region`, or set AWS_REGION (aws-actions/configure-aws-credentials sets it)",
        ));
    }
    Ok(ctx)
}
