//! The command line. Every flag can also be set through a `DECKHAND_*` environment variable,
//! which is how the GitHub Actions pass inputs (through `env:`, never through `${{ }}` in
//! scripts).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Ship to AWS from GitHub Actions: ECS deploys with true verdicts.
#[derive(Debug, Parser)]
#[command(name = "deckhand", version, about, propagate_version = true)]
pub struct Cli {
    /// AWS region (default: the SDK chain: AWS_REGION, then the profile).
    #[arg(long, global = true, env = "DECKHAND_REGION")]
    pub region: Option<String>,

    /// `text` for people (on stderr), `json` for one result object on stdout.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "text",
        env = "DECKHAND_OUTPUT"
    )]
    pub output: OutputFormat,

    /// More detail (API calls made, timings).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, env = "DECKHAND_VERBOSE")]
    pub verbose: u8,

    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Human-readable, on stderr.
    Text,
    /// One JSON object on stdout.
    Json,
}

/// Areas.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Amazon ECS services.
    #[command(subcommand)]
    Ecs(EcsCommand),
    /// Static sites on S3 and CloudFront.
    #[command(subcommand)]
    Site(SiteCommand),
}

/// Site verbs.
#[derive(Debug, Subcommand)]
pub enum SiteCommand {
    /// Sync a built site to S3 by content hash, in a safe order, and invalidate what changed.
    Deploy(SiteDeployArgs),
}

/// `site deploy`.
#[derive(Debug, Clone, Args)]
pub struct SiteDeployArgs {
    /// The built site (for example `dist/`).
    #[arg(long, value_name = "DIR", env = "DECKHAND_DIR")]
    pub dir: PathBuf,

    /// The S3 bucket.
    #[arg(long, env = "DECKHAND_BUCKET")]
    pub bucket: String,

    /// Key prefix inside the bucket (`site/`); empty for the bucket root.
    #[arg(long, default_value = "", env = "DECKHAND_PREFIX")]
    pub prefix: String,

    /// CloudFront distribution to invalidate, repeatable. From the environment: one per line.
    #[arg(
        long = "distribution-id",
        value_name = "ID",
        env = "DECKHAND_DISTRIBUTION_ID",
        value_delimiter = '\n'
    )]
    pub distribution_ids: Vec<String>,

    /// Header rules (YAML): Cache-Control, Content-Type and precompression by glob.
    #[arg(long, value_name = "FILE", env = "DECKHAND_CONFIG")]
    pub config: Option<PathBuf>,

    /// Delete objects deckhand uploaded earlier that the build no longer has.
    #[arg(long, env = "DECKHAND_DELETE")]
    pub delete: bool,

    /// Refuse (exit 2) when a deploy would delete more than this: a count, or a percentage of
    /// the managed objects (`25%`). Both defaults apply unless one is given.
    #[arg(long, value_name = "N|N%", env = "DECKHAND_MAX_DELETE")]
    pub max_delete: Option<String>,

    /// Keep the objects of this many previous deploys (for clients holding old HTML).
    #[arg(long, default_value_t = 1, env = "DECKHAND_KEEP_PREVIOUS")]
    pub keep_previous: u64,

    /// Wait until the invalidation has completed.
    #[arg(long, env = "DECKHAND_WAIT")]
    pub wait: bool,

    /// Give up waiting for the invalidation after this long (exit 4).
    #[arg(long, default_value = "15m", env = "DECKHAND_WAIT_TIMEOUT")]
    pub wait_timeout: String,

    /// Uploads in flight at once.
    #[arg(long, default_value_t = 64, env = "DECKHAND_CONCURRENCY")]
    pub concurrency: usize,

    /// Show the plan and change nothing.
    #[arg(long, env = "DECKHAND_DRY_RUN")]
    pub dry_run: bool,
}

/// ECS verbs.
#[derive(Debug, Subcommand)]
pub enum EcsCommand {
    /// Roll a service to new images or a new task definition and watch it to a true verdict.
    Deploy(DeployArgs),
    /// Show what `ecs deploy` would change, changing nothing.
    Diff(DiffArgs),
    /// Return a service to an earlier task definition revision and verify it.
    Rollback(RollbackArgs),
}

/// What to deploy where (shared by `deploy` and `diff`).
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// ECS cluster name or ARN.
    #[arg(long, env = "DECKHAND_CLUSTER")]
    pub cluster: String,

    /// ECS service name or ARN.
    #[arg(long, env = "DECKHAND_SERVICE")]
    pub service: String,

    /// `CONTAINER=IMAGE`, repeatable; a bare `IMAGE` when the task definition has one container.
    /// From the environment: one per line.
    #[arg(
        long = "image",
        value_name = "[CONTAINER=]IMAGE",
        env = "DECKHAND_IMAGE",
        value_delimiter = '\n'
    )]
    pub images: Vec<String>,

    /// A whole task definition (JSON, or YAML) in RegisterTaskDefinition shape, instead of
    /// cloning the one the service runs. `--image` and `--env` still apply to it.
    #[arg(long, value_name = "FILE", env = "DECKHAND_TASK_DEFINITION")]
    pub task_definition: Option<PathBuf>,

    /// `CONTAINER:KEY=VALUE`, repeatable: set an environment variable in a container.
    /// From the environment: one per line.
    #[arg(
        long = "env",
        value_name = "CONTAINER:KEY=VALUE",
        env = "DECKHAND_ENV",
        value_delimiter = '\n'
    )]
    pub env: Vec<String>,

    /// Set the service's desired count.
    #[arg(long, env = "DECKHAND_DESIRED_COUNT")]
    pub desired_count: Option<i32>,

    /// Start a new deployment even if the task definition is unchanged.
    #[arg(long, env = "DECKHAND_FORCE_NEW_DEPLOYMENT")]
    pub force_new_deployment: bool,
}

/// How to watch a rollout.
#[derive(Debug, Clone, Args)]
pub struct WatchArgs {
    /// Give up (exit 4) when the deployment is still in progress after this long.
    #[arg(long, default_value = "15m", env = "DECKHAND_TIMEOUT")]
    pub timeout: String,

    /// Time between DescribeServices polls.
    #[arg(long, default_value = "5s", env = "DECKHAND_POLL_INTERVAL")]
    pub poll_interval: String,

    /// With the circuit breaker off, fail once this many tasks of the new deployment have
    /// failed (0: wait for the timeout).
    #[arg(long, default_value_t = 3, env = "DECKHAND_MAX_TASK_FAILURES")]
    pub max_task_failures: u32,
}

/// `ecs deploy`.
#[derive(Debug, Clone, Args)]
pub struct DeployArgs {
    /// Target and changes.
    #[command(flatten)]
    pub target: TargetArgs,

    /// Watch settings.
    #[command(flatten)]
    pub watch: WatchArgs,

    /// Roll back to the previous task definition when the deploy fails (unless ECS already did).
    #[arg(
        long,
        value_enum,
        default_value = "on-failure",
        env = "DECKHAND_ROLLBACK"
    )]
    pub rollback: RollbackMode,

    /// Show the plan and change nothing.
    #[arg(long, env = "DECKHAND_DRY_RUN")]
    pub dry_run: bool,
}

/// `ecs diff`.
#[derive(Debug, Clone, Args)]
pub struct DiffArgs {
    /// Target and changes.
    #[command(flatten)]
    pub target: TargetArgs,
}

/// `ecs rollback`.
#[derive(Debug, Clone, Args)]
pub struct RollbackArgs {
    /// ECS cluster name or ARN.
    #[arg(long, env = "DECKHAND_CLUSTER")]
    pub cluster: String,

    /// ECS service name or ARN.
    #[arg(long, env = "DECKHAND_SERVICE")]
    pub service: String,

    /// Revision number, `family:revision` or ARN (default: the newest ACTIVE revision of the
    /// family older than the one the service runs).
    #[arg(long, value_name = "REVISION", env = "DECKHAND_TO")]
    pub to: Option<String>,

    /// Watch settings.
    #[command(flatten)]
    pub watch: WatchArgs,

    /// Show the plan and change nothing.
    #[arg(long, env = "DECKHAND_DRY_RUN")]
    pub dry_run: bool,
}

/// `--rollback`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RollbackMode {
    /// Roll back when the deploy fails and ECS did not already.
    OnFailure,
    /// Never roll back.
    Never,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }

    /// Every flag has a `DECKHAND_*` twin, so actions can pass every input through `env:`.
    #[test]
    fn every_flag_reads_an_env_var() {
        fn walk(cmd: &clap::Command, path: &str) {
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if matches!(id, "help" | "version") {
                    continue;
                }
                let env = arg.get_env().map(|e| e.to_string_lossy().to_string());
                let expected = format!(
                    "DECKHAND_{}",
                    arg.get_long()
                        .unwrap_or(id)
                        .replace('-', "_")
                        .to_ascii_uppercase()
                );
                assert_eq!(
                    env.as_deref(),
                    Some(expected.as_str()),
                    "`{path} --{id}` must read {expected}"
                );
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()));
            }
        }
        walk(&Cli::command(), "deckhand");
    }
}
