//! One module per command area; each command returns the exit status.

mod changes;
mod dispatch;
mod ecr;
mod ecs;
mod image;
mod nginx;
mod pr_comment;
mod result;
mod site;

use crate::cli::{Cli, Command, EcrCommand, EcsCommand, ImageCommand, NginxCommand, SiteCommand};
use crate::exit::ExitStatus;
use crate::printer::Printer;

pub(crate) async fn run(cli: Cli, printer: &Printer) -> ExitStatus {
    let region = cli.region.clone();
    match cli.command {
        Command::Ecs(EcsCommand::Deploy(args)) => ecs::deploy(region, args, printer).await,
        Command::Ecs(EcsCommand::Diff(args)) => ecs::diff(region, args, printer).await,
        Command::Ecs(EcsCommand::Rollback(args)) => ecs::rollback(region, args, printer).await,
        Command::Site(SiteCommand::Deploy(args)) => site::deploy(region, args, printer).await,
        Command::Image(ImageCommand::Build(args)) => image::build(region, args, printer).await,
        Command::Nginx(NginxCommand::Build(args)) => nginx::build(region, args, printer).await,
        Command::Ecr(EcrCommand::Login(args)) => ecr::login(region, args, printer).await,
        Command::Changes(args) => changes::changes(args, printer),
        Command::Dispatch(args) => dispatch::dispatch(args, printer).await,
        Command::PrComment(args) => pr_comment::pr_comment(args, printer).await,
    }
}
