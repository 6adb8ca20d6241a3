//! `ecs run`'s flags (docs/ecs-run.md).

use clap::Args;

/// `ecs run`: run one-off tasks of a task definition and wait for their exit codes.
#[derive(Debug, Clone, Args)]
pub struct EcsRunArgs {
    /// ECS cluster name or ARN.
    #[arg(help_heading = "Target", long, env = "DECKHAND_CLUSTER")]
    pub cluster: String,

    /// The task definition to run: a family (its newest ACTIVE revision), `family:revision` or
    /// an ARN. Default: the one `--service` runs.
    #[arg(
        help_heading = "Target",
        long,
        value_name = "FAMILY[:REVISION]|ARN",
        required_unless_present = "service",
        env = "DECKHAND_TASK_DEFINITION"
    )]
    pub task_definition: Option<String>,

    /// A service to copy the placement from (launch type or capacity provider strategy,
    /// platform version, subnets, security groups, public IP) and, without
    /// `--task-definition`, the task definition it runs.
    #[arg(help_heading = "Target", long, env = "DECKHAND_SERVICE")]
    pub service: Option<String>,

    /// `CONTAINER=IMAGE`, repeatable, as `ecs deploy --image`: runs a patched revision (see
    /// `--register`). From the environment: one per line.
    #[arg(
        help_heading = "Revision",
        long = "image",
        value_name = "[CONTAINER=]IMAGE",
        env = "DECKHAND_IMAGE",
        value_delimiter = '\n'
    )]
    pub images: Vec<String>,

    /// `CONTAINER:KEY=VALUE`, repeatable, as `ecs deploy --env`: set in a patched revision
    /// (see `--register`). For this run only, use `--override-env`. From the environment: one
    /// per line.
    #[arg(
        help_heading = "Revision",
        long = "env",
        value_name = "CONTAINER:KEY=VALUE",
        env = "DECKHAND_ENV",
        value_delimiter = '\n'
    )]
    pub env: Vec<String>,

    /// Keep the revision `--image`/`--env` registered (default: it is deregistered once the
    /// tasks have started; running tasks are not affected).
    #[arg(help_heading = "Revision", long, env = "DECKHAND_REGISTER")]
    pub register: bool,

    /// `CONTAINER=COMMAND`, repeatable: replace a container's command for this run. COMMAND is
    /// a JSON array (`["rake","db:migrate"]`) or words separated by spaces.
    /// From the environment: one per line.
    #[arg(
        help_heading = "Overrides",
        long = "command",
        value_name = "CONTAINER=COMMAND",
        env = "DECKHAND_COMMAND",
        value_delimiter = '\n'
    )]
    pub commands: Vec<String>,

    /// `CONTAINER:KEY=VALUE`, repeatable: an environment variable for this run only (RunTask
    /// overrides; nothing is registered). From the environment: one per line.
    #[arg(
        help_heading = "Overrides",
        long = "override-env",
        value_name = "CONTAINER:KEY=VALUE",
        env = "DECKHAND_OVERRIDE_ENV",
        value_delimiter = '\n'
    )]
    pub override_env: Vec<String>,

    /// `CONTAINER=UNITS`, repeatable: a container's CPU units for this run.
    #[arg(
        help_heading = "Overrides",
        long = "cpu",
        value_name = "CONTAINER=UNITS",
        env = "DECKHAND_CPU",
        value_delimiter = '\n'
    )]
    pub cpu: Vec<String>,

    /// `CONTAINER=MIB`, repeatable: a container's memory for this run.
    #[arg(
        help_heading = "Overrides",
        long = "memory",
        value_name = "CONTAINER=MIB",
        env = "DECKHAND_MEMORY",
        value_delimiter = '\n'
    )]
    pub memory: Vec<String>,

    /// How many tasks to start (1 to 10).
    #[arg(
        help_heading = "Overrides",
        long,
        default_value_t = 1,
        env = "DECKHAND_COUNT"
    )]
    pub count: i32,

    /// `FARGATE`, `EC2` or `EXTERNAL` (over the service's).
    #[arg(
        help_heading = "Placement",
        long,
        value_name = "TYPE",
        env = "DECKHAND_LAUNCH_TYPE"
    )]
    pub launch_type: Option<String>,

    /// `PROVIDER[:WEIGHT[:BASE]]`, repeatable: a capacity provider strategy (over the
    /// service's). From the environment: one per line.
    #[arg(
        help_heading = "Placement",
        long = "capacity-provider",
        value_name = "PROVIDER[:WEIGHT[:BASE]]",
        env = "DECKHAND_CAPACITY_PROVIDER",
        value_delimiter = '\n'
    )]
    pub capacity_providers: Vec<String>,

    /// Fargate platform version (over the service's).
    #[arg(
        help_heading = "Placement",
        long,
        value_name = "VERSION",
        env = "DECKHAND_PLATFORM_VERSION"
    )]
    pub platform_version: Option<String>,

    /// Subnet id, repeatable or comma-separated (awsvpc; over the service's).
    #[arg(
        help_heading = "Placement",
        long = "subnet",
        value_name = "ID",
        env = "DECKHAND_SUBNET",
        value_delimiter = ','
    )]
    pub subnets: Vec<String>,

    /// Security group id, repeatable or comma-separated (awsvpc; over the service's).
    #[arg(
        help_heading = "Placement",
        long = "security-group",
        value_name = "ID",
        env = "DECKHAND_SECURITY_GROUP",
        value_delimiter = ','
    )]
    pub security_groups: Vec<String>,

    /// Give the tasks a public IP (awsvpc; over the service's).
    #[arg(help_heading = "Placement", long, env = "DECKHAND_ASSIGN_PUBLIC_IP")]
    pub assign_public_ip: bool,

    /// RunTask's `startedBy` (up to 36 letters, digits, `-` and `_`): finds the run's tasks in
    /// `aws ecs list-tasks --started-by`.
    #[arg(
        help_heading = "Waiting",
        long,
        default_value = "deckhand-run",
        env = "DECKHAND_STARTED_BY"
    )]
    pub started_by: String,

    /// Start the tasks and return their ARNs without waiting for them to stop.
    #[arg(help_heading = "Waiting", long, env = "DECKHAND_NO_WAIT")]
    pub no_wait: bool,

    /// Give up waiting (exit 4) after this long; the tasks are stopped unless
    /// `--leave-tasks-running`.
    #[arg(
        help_heading = "Waiting",
        long,
        default_value = "30m",
        env = "DECKHAND_TIMEOUT"
    )]
    pub timeout: String,

    /// Time between DescribeTasks polls.
    #[arg(
        help_heading = "Waiting",
        long,
        default_value = "5s",
        env = "DECKHAND_POLL_INTERVAL"
    )]
    pub poll_interval: String,

    /// The last N lines of each container's CloudWatch Logs stream (awslogs driver) in the
    /// result; 0 reads none.
    #[arg(
        help_heading = "Waiting",
        long,
        value_name = "N",
        default_value_t = 20,
        env = "DECKHAND_LOG_LINES"
    )]
    pub log_lines: u32,

    /// When the job is cancelled (SIGINT/SIGTERM) or the timeout runs out, leave the started
    /// tasks running instead of stopping them.
    #[arg(help_heading = "Waiting", long, env = "DECKHAND_LEAVE_TASKS_RUNNING")]
    pub leave_tasks_running: bool,

    /// Show the plan and start nothing.
    #[arg(long, env = "DECKHAND_DRY_RUN")]
    pub dry_run: bool,
}
