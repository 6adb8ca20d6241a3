//! The command line. Every flag can also be set through a `DECKHAND_*` environment variable,
//! which is how the GitHub Actions pass inputs (through `env:`, never through `${{ }}` in
//! scripts).

use std::path::PathBuf;

mod ecs_run;
mod examples;
pub use ecs_run::EcsRunArgs;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Ship to AWS from GitHub Actions: ECS deploys with true verdicts.
#[derive(Debug, Parser)]
#[command(
    name = "deckhand",
    version = concat!(
        env!("CARGO_PKG_VERSION"),
        " (commit ",
        env!("DECKHAND_COMMIT"),
        ", ",
        env!("DECKHAND_TARGET"),
        ")"
    ),
    about,
    propagate_version = true,
    after_help = examples::DECKHAND
)]
pub struct Cli {
    /// AWS region (default: the SDK chain: AWS_REGION, then the profile).
    #[arg(help_heading = "AWS", long, global = true, env = "DECKHAND_REGION")]
    pub region: Option<String>,

    /// `text` for people (on stderr), `json` for one result object on stdout.
    #[arg(
        help_heading = "Output",
        long,
        global = true,
        value_enum,
        default_value = "text",
        env = "DECKHAND_OUTPUT"
    )]
    pub output: OutputFormat,

    /// More detail (API calls made, timings).
    #[arg(help_heading = "Output", short, long, global = true, action = clap::ArgAction::Count, env = "DECKHAND_VERBOSE")]
    pub verbose: u8,

    /// Colour on stderr: `auto` colours a terminal unless `NO_COLOR` is set (not empty) or
    /// `TERM` is `dumb`; `always` and `never` override both.
    #[arg(
        help_heading = "Output",
        long,
        global = true,
        value_enum,
        value_name = "WHEN",
        default_value = "auto",
        env = "DECKHAND_COLOR"
    )]
    pub color: crate::color::ColorChoice,

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
    #[command(subcommand, after_help = examples::ECS)]
    Ecs(EcsCommand),
    /// Static sites on S3 and CloudFront.
    #[command(subcommand, after_help = examples::SITE)]
    Site(SiteCommand),
    /// Container images, built and pushed without a Docker daemon.
    #[command(subcommand, after_help = examples::IMAGE)]
    Image(ImageCommand),
    /// The nginx front: its image, validated, pushed and rolled out.
    #[command(subcommand, after_help = examples::NGINX)]
    Nginx(NginxCommand),
    /// Amazon ECR.
    #[command(subcommand, after_help = examples::ECR)]
    Ecr(EcrCommand),
    /// Which path filters match the changes between two commits (dorny/paths-filter's format)
    ///
    /// paths-filter's outputs too. In Actions the event says what changed, as paths-filter reads
    /// it; on a pull request event with GITHUB_TOKEN set, the pull request's files come from the
    /// GitHub API.
    #[command(after_help = examples::CHANGES)]
    Changes(ChangesArgs),
    /// Run a workflow (`workflow_dispatch`, or `repository_dispatch` with `--event-type`) and
    /// optionally follow its run to a verdict.
    #[command(after_help = examples::DISPATCH)]
    Dispatch(DispatchArgs),
    /// Keep one comment on a pull request (a dry run's plans): create it, or edit it in place.
    #[command(after_help = examples::PR_COMMENT)]
    PrComment(PrCommentArgs),
}

/// `dispatch`.
#[derive(Debug, Clone, Args)]
pub struct DispatchArgs {
    /// The repository: `OWNER/REPO` (default: GITHUB_REPOSITORY).
    #[arg(
        help_heading = "Workflow",
        long,
        value_name = "OWNER/REPO",
        env = "DECKHAND_REPO"
    )]
    pub repo: Option<String>,

    /// The workflow to run: its file name (`deploy.yml`) or numeric id.
    #[arg(
        help_heading = "Workflow",
        long,
        value_name = "FILE",
        required_unless_present = "event_type",
        env = "DECKHAND_WORKFLOW"
    )]
    pub workflow: Option<String>,

    /// The branch or tag to run the workflow on.
    #[arg(
        help_heading = "Workflow",
        long = "ref",
        value_name = "REF",
        required_unless_present = "event_type",
        env = "DECKHAND_REF"
    )]
    pub git_ref: Option<String>,

    /// `KEY=VALUE` workflow input (the `client_payload` with `--event-type`), repeatable. From
    /// the environment: one per line.
    #[arg(
        help_heading = "Workflow",
        long = "input",
        value_name = "KEY=VALUE",
        env = "DECKHAND_INPUT",
        value_delimiter = '\n'
    )]
    pub inputs: Vec<String>,

    /// Send a `repository_dispatch` event of this type instead of dispatching `--workflow`
    /// (the run starts on the default branch).
    #[arg(help_heading = "Workflow", long, value_name = "TYPE", conflicts_with_all = ["workflow", "git_ref"], env = "DECKHAND_EVENT_TYPE")]
    pub event_type: Option<String>,

    /// Follow the run until it completes; the exit code is its conclusion.
    #[arg(help_heading = "Following the run", long, env = "DECKHAND_WAIT")]
    pub wait: bool,

    /// With `--wait`: give up (exit 4) when the run is still going after this long.
    #[arg(
        help_heading = "Following the run",
        long,
        default_value = "30m",
        env = "DECKHAND_TIMEOUT"
    )]
    pub timeout: String,

    /// With `--wait`: time between polls of the run and its jobs.
    #[arg(
        help_heading = "Following the run",
        long,
        default_value = "10s",
        env = "DECKHAND_POLL_INTERVAL"
    )]
    pub poll_interval: String,

    /// Check the inputs and show what would be dispatched; send nothing.
    #[arg(long, env = "DECKHAND_DRY_RUN")]
    pub dry_run: bool,
}

/// `changes`.
#[derive(Debug, Clone, Args)]
pub struct ChangesArgs {
    /// The filters: a file (paths-filter's YAML: filter name -> globs), or the YAML itself (a
    /// value with a newline or a colon, as in paths-filter's `filters` input).
    #[arg(
        help_heading = "Filters",
        long,
        value_name = "FILE|YAML",
        env = "DECKHAND_FILTERS"
    )]
    pub filters: String,

    /// `some`: a file matches a filter when any of its rules match; `every`: when all do
    /// (paths-filter's `predicate-quantifier`).
    #[arg(
        help_heading = "Filters",
        long,
        default_value = "some",
        env = "DECKHAND_QUANTIFIER"
    )]
    pub quantifier: String,

    /// `paths`: `!glob` rules mean what they mean in paths-filter (with `some`, a negation
    /// widens the filter); `exclude`: `!glob` rules remove files from the filter.
    #[arg(
        help_heading = "Filters",
        long,
        default_value = "paths",
        env = "DECKHAND_NEGATION"
    )]
    pub negation: String,

    /// What to compare with: a commit (`BASE..HEAD`), a branch or tag (from the merge base),
    /// the same branch as the head (from the push's `before`), or `HEAD` (the checkout's
    /// uncommitted changes). Default in Actions: the repository's default branch.
    #[arg(
        help_heading = "Changes",
        long,
        value_name = "REF",
        env = "DECKHAND_BASE"
    )]
    pub base: Option<String>,

    /// What to compare (paths-filter's `ref`). Default: GITHUB_REF, else the checkout's branch.
    #[arg(
        help_heading = "Changes",
        long,
        visible_alias = "ref",
        value_name = "REF",
        env = "DECKHAND_HEAD"
    )]
    pub head: Option<String>,

    /// The changed files instead of git: lines `STATUS<TAB>PATH` (`-` for stdin).
    #[arg(help_heading = "Changes", long, value_name = "FILE", conflicts_with_all = ["base", "head"], env = "DECKHAND_FILES_FROM")]
    pub files_from: Option<String>,

    /// The git checkout to read the changes from.
    #[arg(
        help_heading = "Changes",
        long,
        value_name = "DIR",
        default_value = ".",
        env = "DECKHAND_CHECKOUT"
    )]
    pub checkout: PathBuf,

    /// How `<filter>_files` lists each filter's files: `none` (no such output), `csv`,
    /// `json`, `shell` or `escape` (paths-filter's `list-files`).
    #[arg(
        help_heading = "Output",
        long,
        value_name = "FORMAT",
        default_value = "none",
        env = "DECKHAND_LIST_FILES"
    )]
    pub list_files: String,

    /// Commits fetched first when a shallow clone lacks the merge base (then doubled until it
    /// is found; paths-filter's `initial-fetch-depth`).
    #[arg(
        help_heading = "Changes",
        long,
        value_name = "N",
        default_value = "100",
        env = "DECKHAND_INITIAL_FETCH_DEPTH"
    )]
    pub initial_fetch_depth: String,
}

/// Image verbs.
#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Append files as one deterministic layer to a base image and push it.
    #[command(after_help = examples::IMAGE_BUILD)]
    Build(ImageBuildArgs),
}

/// nginx verbs.
#[derive(Debug, Subcommand)]
pub enum NginxCommand {
    /// Build the nginx image (base + html + default.conf), validate the config, push it, and
    /// optionally roll the ECS service that runs it.
    #[command(after_help = examples::NGINX_BUILD)]
    Build(NginxBuildArgs),
}

/// ECR verbs.
#[derive(Debug, Subcommand)]
pub enum EcrCommand {
    /// Registry credentials for tools that need them (docker, buildx): masked in Actions.
    #[command(after_help = examples::ECR_LOGIN)]
    Login(EcrLoginArgs),
    /// Before a Dockerfile build: the repository's full URI (created with `--create`), and
    /// whether its first tag already names an immutable image to deploy instead of building.
    #[command(after_help = examples::ECR_PREPARE)]
    Prepare(EcrPrepareArgs),
}

/// Where and how an image is pushed (shared by `image build` and `nginx build`).
#[derive(Debug, Clone, Args)]
pub struct PushArgs {
    /// Target `REGISTRY/REPOSITORY:TAG`, repeatable (one repository). From the environment:
    /// one per line.
    #[arg(
        help_heading = "Push",
        long = "tag",
        value_name = "REF",
        required = true,
        env = "DECKHAND_TAG",
        value_delimiter = '\n'
    )]
    pub tags: Vec<String>,

    /// Platforms of a multi-platform base to build: `OS/ARCH[/VARIANT]` (repeatable or
    /// comma-separated) or `all`. Default: `linux/amd64`; for `nginx build --deploy-*`, the
    /// platform the service's task definition runs (`runtimePlatform`).
    #[arg(
        help_heading = "Push",
        long = "platform",
        value_name = "all|OS/ARCH",
        env = "DECKHAND_PLATFORM",
        value_delimiter = '\n'
    )]
    pub platforms: Vec<String>,

    /// `KEY=VALUE` image label, repeatable. From the environment: one per line.
    #[arg(
        help_heading = "Push",
        long = "label",
        value_name = "KEY=VALUE",
        env = "DECKHAND_LABEL",
        value_delimiter = '\n'
    )]
    pub labels: Vec<String>,

    /// Create the ECR repository when it does not exist.
    #[arg(help_heading = "Registry", long, env = "DECKHAND_ECR_CREATE")]
    pub ecr_create: bool,

    /// Tag mutability of a repository created by `--ecr-create`.
    #[arg(
        help_heading = "Registry",
        long,
        value_enum,
        default_value = "mutable",
        env = "DECKHAND_ECR_TAG_MUTABILITY"
    )]
    pub ecr_tag_mutability: TagMutability,

    /// Scan on push, for a repository created by `--ecr-create`.
    #[arg(help_heading = "Registry", long, env = "DECKHAND_ECR_SCAN_ON_PUSH")]
    pub ecr_scan_on_push: bool,

    /// A registry host to treat as ECR (credentials from GetAuthorizationToken, repositories
    /// through the ECR API) besides `*.dkr.ecr.*.amazonaws.com`: for proxies and emulators.
    #[arg(
        help_heading = "Registry",
        long,
        value_name = "HOST",
        env = "DECKHAND_ECR_REGISTRY",
        value_delimiter = ','
    )]
    pub ecr_registry: Vec<String>,

    /// A registry host (not loopback) to speak plain HTTP to.
    #[arg(
        help_heading = "Registry",
        long,
        value_name = "HOST",
        env = "DECKHAND_INSECURE_REGISTRY",
        value_delimiter = ','
    )]
    pub insecure_registry: Vec<String>,

    /// Blobs above this many bytes are uploaded in chunks (of at least 5 MiB).
    #[arg(long, hide = true, default_value_t = 256 * 1024 * 1024, env = "DECKHAND_UPLOAD_CHUNK_THRESHOLD")]
    pub upload_chunk_threshold: u64,

    /// Show the plan and push nothing.
    #[arg(long, env = "DECKHAND_DRY_RUN")]
    pub dry_run: bool,
}

/// The smoke run: the built image started on this machine and asked one HTTP question before
/// its tag is pushed or its service rolled (shared by `image build` and `nginx build`).
#[derive(Debug, Clone, Args)]
pub struct SmokeArgs {
    /// The path the smoke run GETs (`nginx build`: on by default with `/`, whose body must be
    /// the `index.html` that was added; `image build`: giving it turns the smoke run on).
    #[arg(
        help_heading = "Smoke run",
        long,
        value_name = "PATH",
        env = "DECKHAND_SMOKE_PATH"
    )]
    pub smoke_path: Option<String>,

    /// The container port asked (default: the image's lowest exposed TCP port, else 80).
    /// `image build`: giving it turns the smoke run on.
    #[arg(
        help_heading = "Smoke run",
        long,
        value_name = "PORT",
        env = "DECKHAND_SMOKE_PORT"
    )]
    pub smoke_port: Option<u16>,

    /// The statuses that pass: `2xx`, `200`, `200,301`.
    #[arg(
        help_heading = "Smoke run",
        long,
        value_name = "CODES",
        default_value = "2xx",
        env = "DECKHAND_SMOKE_STATUS"
    )]
    pub smoke_status: String,

    /// How the image is started: `docker` (a Docker engine), `chroot` (daemonless, in its own
    /// namespaces; needs root), or `auto`: Docker when an engine answers, else chroot.
    #[arg(
        help_heading = "Smoke run",
        long,
        value_enum,
        default_value = "auto",
        env = "DECKHAND_SMOKE_RUNTIME"
    )]
    pub smoke_runtime: SmokeRuntime,

    /// How long the image has to answer, from its start.
    #[arg(
        help_heading = "Smoke run",
        long,
        value_name = "DURATION",
        default_value = "30s",
        env = "DECKHAND_SMOKE_TIMEOUT"
    )]
    pub smoke_timeout: String,
}

/// `--smoke-runtime`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SmokeRuntime {
    Auto,
    Docker,
    Chroot,
}

/// `--ecr-tag-mutability`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TagMutability {
    Mutable,
    Immutable,
}

/// `image build`.
#[derive(Debug, Clone, Args)]
pub struct ImageBuildArgs {
    /// The base image (`nginx:1.27`, `REGISTRY/REPO@sha256:...`).
    #[arg(
        help_heading = "Image",
        long,
        value_name = "REF",
        env = "DECKHAND_BASE"
    )]
    pub base: String,

    /// `SRC:DEST`, repeatable: a file or directory and where it goes in the image (a DEST
    /// ending in `/` receives a file under its own name). From the environment: one per line.
    #[arg(
        help_heading = "Image",
        long = "add",
        value_name = "SRC:DEST",
        required = true,
        env = "DECKHAND_ADD",
        value_delimiter = '\n'
    )]
    pub adds: Vec<String>,

    /// `KEY=VALUE` environment variable of the image, repeatable.
    #[arg(
        help_heading = "Image",
        long = "env",
        value_name = "KEY=VALUE",
        env = "DECKHAND_ENV",
        value_delimiter = '\n'
    )]
    pub env: Vec<String>,

    /// Target and push settings.
    #[command(flatten)]
    pub push: PushArgs,

    /// The smoke run (off unless `--smoke-path` or `--smoke-port` is given).
    #[command(flatten)]
    pub smoke: SmokeArgs,
}

/// `nginx build`.
#[derive(Debug, Clone, Args)]
pub struct NginxBuildArgs {
    /// The site: its files go to `/usr/share/nginx/html/`.
    #[arg(
        help_heading = "Image",
        long,
        value_name = "DIR",
        env = "DECKHAND_HTML"
    )]
    pub html: PathBuf,

    /// The server config: it becomes `/etc/nginx/conf.d/default.conf`.
    #[arg(
        help_heading = "Image",
        long,
        value_name = "FILE",
        env = "DECKHAND_CONF"
    )]
    pub conf: PathBuf,

    /// The nginx base image.
    #[arg(
        help_heading = "Image",
        long,
        value_name = "REF",
        default_value = "nginx:stable",
        env = "DECKHAND_BASE"
    )]
    pub base: String,

    /// Push without checking the config with `nginx -t` (when nginx is not installed).
    #[arg(help_heading = "Image", long, env = "DECKHAND_SKIP_VALIDATE")]
    pub skip_validate: bool,

    /// Push without the smoke run (the image started here and `GET /` answered with the
    /// `index.html` that was added).
    #[arg(help_heading = "Image", long, env = "DECKHAND_SKIP_SMOKE")]
    pub skip_smoke: bool,

    /// The smoke run.
    #[command(flatten)]
    pub smoke: SmokeArgs,

    /// ECS cluster of the service to roll to the new image.
    #[arg(
        help_heading = "Rollout",
        long,
        value_name = "CLUSTER",
        requires = "deploy_service",
        env = "DECKHAND_DEPLOY_CLUSTER"
    )]
    pub deploy_cluster: Option<String>,

    /// ECS service to roll to the new image (only when its image changed).
    #[arg(
        help_heading = "Rollout",
        long,
        value_name = "SERVICE",
        requires = "deploy_cluster",
        env = "DECKHAND_DEPLOY_SERVICE"
    )]
    pub deploy_service: Option<String>,

    /// The nginx container of that service (needed when its task has several containers).
    #[arg(
        help_heading = "Rollout",
        long,
        value_name = "NAME",
        requires = "deploy_service",
        env = "DECKHAND_CONTAINER"
    )]
    pub container: Option<String>,

    /// Watch settings of the rollout.
    #[command(flatten)]
    pub watch: WatchArgs,

    /// Roll back when the rollout fails (unless ECS already did).
    #[arg(
        help_heading = "Rollout",
        long,
        value_enum,
        default_value = "on-failure",
        env = "DECKHAND_ROLLBACK"
    )]
    pub rollback: RollbackMode,

    /// Target and push settings.
    #[command(flatten)]
    pub push: PushArgs,

    /// The GitHub deployment record of the service rollout (`--deploy-*`).
    #[command(flatten)]
    pub github: GithubDeploymentArgs,
}

/// `ecr login`.
#[derive(Debug, Clone, Args)]
pub struct EcrLoginArgs {
    /// The registry host to log in to (default: the caller's account registry, as
    /// GetAuthorizationToken reports it).
    #[arg(
        help_heading = "Registry",
        long,
        value_name = "HOST",
        env = "DECKHAND_REGISTRY"
    )]
    pub registry: Option<String>,
}

/// `ecr prepare`.
#[derive(Debug, Clone, Args)]
pub struct EcrPrepareArgs {
    /// The repository: a name (in the account and region of the credentials) or a full URI
    /// (`ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME`).
    #[arg(
        help_heading = "Repository",
        long,
        value_name = "NAME|URI",
        env = "DECKHAND_REPOSITORY"
    )]
    pub repository: String,

    /// A tag the build will push, repeatable; the first is looked up (the commit SHA, say).
    /// From the environment: one per line.
    #[arg(
        help_heading = "Repository",
        long = "tag",
        value_name = "TAG",
        required = true,
        env = "DECKHAND_TAG",
        value_delimiter = '\n'
    )]
    pub tags: Vec<String>,

    /// Create the repository when it does not exist (not in a dry run).
    #[arg(help_heading = "Repository", long, env = "DECKHAND_CREATE")]
    pub create: bool,

    /// Tag mutability of a repository created by `--create`.
    #[arg(
        help_heading = "Repository",
        long,
        value_enum,
        default_value = "mutable",
        env = "DECKHAND_TAG_MUTABILITY"
    )]
    pub tag_mutability: TagMutability,

    /// Scan on push, for a repository created by `--create`.
    #[arg(help_heading = "Repository", long, env = "DECKHAND_SCAN_ON_PUSH")]
    pub scan_on_push: bool,

    /// Look everything up, create nothing.
    #[arg(long, env = "DECKHAND_DRY_RUN")]
    pub dry_run: bool,
}

/// Site verbs.
#[derive(Debug, Subcommand)]
pub enum SiteCommand {
    /// Sync a built site to S3 by content hash, in a safe order, and invalidate what changed.
    #[command(after_help = examples::SITE_DEPLOY)]
    Deploy(SiteDeployArgs),
}

/// `site deploy`.
#[derive(Debug, Clone, Args)]
pub struct SiteDeployArgs {
    /// The built site (for example `dist/`).
    #[arg(
        help_heading = "Target",
        long,
        value_name = "DIR",
        env = "DECKHAND_DIR"
    )]
    pub dir: PathBuf,

    /// The S3 bucket.
    #[arg(help_heading = "Target", long, env = "DECKHAND_BUCKET")]
    pub bucket: String,

    /// Key prefix inside the bucket (`site/`); empty for the bucket root.
    #[arg(
        help_heading = "Target",
        long,
        default_value = "",
        env = "DECKHAND_PREFIX"
    )]
    pub prefix: String,

    /// CloudFront distribution to invalidate, repeatable. From the environment: one per line.
    #[arg(
        help_heading = "Target",
        long = "distribution-id",
        value_name = "ID",
        env = "DECKHAND_DISTRIBUTION_ID",
        value_delimiter = '\n'
    )]
    pub distribution_ids: Vec<String>,

    /// Header rules (YAML): Cache-Control, Content-Type and precompression by glob.
    #[arg(
        help_heading = "Upload",
        long,
        value_name = "FILE",
        env = "DECKHAND_CONFIG"
    )]
    pub config: Option<PathBuf>,

    /// Delete objects deckhand uploaded earlier that the build no longer has.
    #[arg(help_heading = "Upload", long, env = "DECKHAND_DELETE")]
    pub delete: bool,

    /// Refuse (exit 2) when a deploy would delete more than this: a count, or a percentage of
    /// the managed objects (`25%`). Both defaults apply unless one is given.
    #[arg(
        help_heading = "Upload",
        long,
        value_name = "N|N%",
        env = "DECKHAND_MAX_DELETE"
    )]
    pub max_delete: Option<String>,

    /// Keep the objects of this many previous deploys (for clients holding old HTML).
    #[arg(
        help_heading = "Upload",
        long,
        default_value_t = 1,
        env = "DECKHAND_KEEP_PREVIOUS"
    )]
    pub keep_previous: u64,

    /// Wait until the invalidation has completed.
    #[arg(help_heading = "Invalidation", long, env = "DECKHAND_WAIT")]
    pub wait: bool,

    /// Give up waiting for the invalidation after this long (exit 4).
    #[arg(
        help_heading = "Invalidation",
        long,
        default_value = "15m",
        env = "DECKHAND_WAIT_TIMEOUT"
    )]
    pub wait_timeout: String,

    /// Uploads in flight at once.
    #[arg(
        help_heading = "Upload",
        long,
        default_value_t = 64,
        env = "DECKHAND_CONCURRENCY"
    )]
    pub concurrency: usize,

    /// Show the plan and change nothing.
    #[arg(long, env = "DECKHAND_DRY_RUN")]
    pub dry_run: bool,

    /// The GitHub deployment record.
    #[command(flatten)]
    pub github: GithubDeploymentArgs,
}

/// ECS verbs.
#[derive(Debug, Subcommand)]
pub enum EcsCommand {
    /// Roll a service to new images or a new task definition and watch it to a true verdict.
    #[command(after_help = examples::ECS_DEPLOY)]
    Deploy(EcsDeployArgs),
    /// Show what `ecs deploy` would change, changing nothing.
    #[command(after_help = examples::ECS_DIFF)]
    Diff(DiffArgs),
    /// Return a service to an earlier task definition revision and verify it.
    #[command(after_help = examples::ECS_ROLLBACK)]
    Rollback(RollbackArgs),
    /// Re-attach to a service's deployment (its in-flight one, or `--deployment`) and give the
    /// verdict `ecs deploy` would have given: for a job that was cancelled, killed or timed out.
    #[command(after_help = examples::ECS_WAIT)]
    Wait(WaitArgs),
    /// Run one-off tasks (a migration, a job) and wait for their exit codes and last log lines.
    #[command(after_help = examples::ECS_RUN)]
    Run(EcsRunArgs),
}

/// `ecs wait`.
#[derive(Debug, Clone, Args)]
pub struct WaitArgs {
    /// ECS cluster name or ARN.
    #[arg(help_heading = "Target", long, env = "DECKHAND_CLUSTER")]
    pub cluster: String,

    /// ECS service name or ARN.
    #[arg(help_heading = "Target", long, env = "DECKHAND_SERVICE")]
    pub service: String,

    /// The deployment to follow (`ecs-svc/...`, as `ecs deploy` printed it); default: the
    /// service's PRIMARY deployment.
    #[arg(
        help_heading = "Target",
        long,
        value_name = "ID",
        env = "DECKHAND_DEPLOYMENT"
    )]
    pub deployment: Option<String>,

    /// Watch settings.
    #[command(flatten)]
    pub watch: WatchArgs,

    /// Post-deploy verification of a deployment followed to completion.
    #[command(flatten)]
    pub verify: VerifyArgs,

    /// Roll back to the last revision that ran to completion when the deployment fails
    /// (unless ECS already did), as `ecs deploy` would have.
    #[arg(
        help_heading = "Rollout",
        long,
        value_enum,
        default_value = "on-failure",
        env = "DECKHAND_ROLLBACK"
    )]
    pub rollback: RollbackMode,
}

/// What to deploy where (shared by `deploy` and `diff`).
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// ECS cluster name or ARN.
    #[arg(help_heading = "Target", long, env = "DECKHAND_CLUSTER")]
    pub cluster: String,

    /// ECS service name or ARN. `ecs deploy` takes it repeatedly, to deploy several services
    /// of the cluster together (docs/ecs-deploy.md, "Several services"). From the environment:
    /// one per line.
    #[arg(
        help_heading = "Target",
        long = "service",
        value_name = "SERVICE",
        required = true,
        env = "DECKHAND_SERVICE",
        value_delimiter = '\n'
    )]
    pub services: Vec<String>,

    /// `CONTAINER=IMAGE`, repeatable; a bare `IMAGE` when the task definition has one container.
    /// From the environment: one per line.
    #[arg(
        help_heading = "Changes",
        long = "image",
        value_name = "[CONTAINER=]IMAGE",
        env = "DECKHAND_IMAGE",
        value_delimiter = '\n'
    )]
    pub images: Vec<String>,

    /// A whole task definition (JSON, or YAML) in RegisterTaskDefinition shape, instead of
    /// cloning the one the service runs. `--image` and `--env` still apply to it.
    #[arg(
        help_heading = "Changes",
        long,
        value_name = "FILE",
        env = "DECKHAND_TASK_DEFINITION"
    )]
    pub task_definition: Option<PathBuf>,

    /// A service definition (JSON, or YAML) in CreateService shape: the service is created from
    /// it when it does not exist; otherwise the settings it names are diffed and changed with the
    /// deploy. The deploy's task definition wins over the file's `taskDefinition`.
    #[arg(
        help_heading = "Changes",
        long,
        value_name = "FILE",
        env = "DECKHAND_SERVICE_DEFINITION"
    )]
    pub service_definition: Option<PathBuf>,

    /// `CONTAINER:KEY=VALUE`, repeatable: set an environment variable in a container.
    /// From the environment: one per line.
    #[arg(
        help_heading = "Changes",
        long = "env",
        value_name = "CONTAINER:KEY=VALUE",
        env = "DECKHAND_ENV",
        value_delimiter = '\n'
    )]
    pub env: Vec<String>,

    /// Set the service's desired count.
    #[arg(help_heading = "Changes", long, env = "DECKHAND_DESIRED_COUNT")]
    pub desired_count: Option<i32>,

    /// Start a new deployment even if the task definition is unchanged.
    #[arg(help_heading = "Changes", long, env = "DECKHAND_FORCE_NEW_DEPLOYMENT")]
    pub force_new_deployment: bool,

    /// Do not ask registries whether new images exist (and do not pin them to digests).
    #[arg(help_heading = "Image", long, env = "DECKHAND_SKIP_IMAGE_CHECK")]
    pub skip_image_check: bool,

    /// Register each new image by the digest its tag names at deploy time, so every task, a
    /// scale-out and a rollback run the same bytes (`--pin-digests=false` registers tags).
    #[arg(
        help_heading = "Image",
        long,
        value_name = "BOOL",
        default_value_t = true,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        action = clap::ArgAction::Set,
        value_parser = clap::builder::BoolishValueParser::new(),
        env = "DECKHAND_PIN_DIGESTS"
    )]
    pub pin_digests: bool,

    /// After a green deploy, deregister the family's ACTIVE revisions older than the newest N;
    /// never the one running, the last good one, or one a service of the cluster runs.
    #[arg(
        help_heading = "Rollout",
        long,
        value_name = "N",
        env = "DECKHAND_KEEP_REVISIONS"
    )]
    pub keep_revisions: Option<u32>,

    /// Show environment variable values in the plan (they are hidden by default: plans reach
    /// logs and pull request comments).
    #[arg(help_heading = "Output", long, env = "DECKHAND_SHOW_ENV_VALUES")]
    pub show_env_values: bool,
}

impl TargetArgs {
    /// A target of one service: `service`, with everything else as given.
    pub fn single(cluster: &str, service: &str) -> Self {
        Self {
            cluster: cluster.to_string(),
            services: vec![service.to_string()],
            images: Vec::new(),
            task_definition: None,
            service_definition: None,
            env: Vec::new(),
            desired_count: None,
            force_new_deployment: false,
            skip_image_check: false,
            pin_digests: true,
            keep_revisions: None,
            show_env_values: false,
        }
    }

    /// The services named, without the empty lines an environment variable may carry
    /// (`DECKHAND_SERVICE` with a trailing newline).
    pub fn service_names(&self) -> Vec<&str> {
        let names: Vec<&str> = self
            .services
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .collect();
        names
    }

    /// Whether several services are named (a fan-out).
    pub fn is_fan_out(&self) -> bool {
        self.service_names().len() > 1
    }

    /// The service of a one-service target (`ecs diff`, `nginx build`'s rollout, and each
    /// service of a fan-out, which gets a target of its own). Commands refuse a target of
    /// several services before they use this.
    pub fn service(&self) -> &str {
        debug_assert!(
            !self.is_fan_out(),
            "BUG: a one-service step got several services: {:?}",
            self.services
        );
        match self.service_names().first() {
            Some(name) => name,
            // Only empty lines: kept as given, so the error names what was given.
            None => self.services.first().map_or("", String::as_str),
        }
    }
}

/// How to watch a rollout.
#[derive(Debug, Clone, Args)]
pub struct WatchArgs {
    /// Give up (exit 4) when the deployment is still in progress after this long.
    #[arg(
        help_heading = "Rollout",
        long,
        default_value = "15m",
        env = "DECKHAND_TIMEOUT"
    )]
    pub timeout: String,

    /// Time between DescribeServices polls.
    #[arg(
        help_heading = "Rollout",
        long,
        default_value = "5s",
        env = "DECKHAND_POLL_INTERVAL"
    )]
    pub poll_interval: String,

    /// With the circuit breaker off, fail once this many tasks of the new deployment have
    /// failed (0: wait for the timeout).
    #[arg(
        help_heading = "Rollout",
        long,
        default_value_t = 3,
        env = "DECKHAND_MAX_TASK_FAILURES"
    )]
    pub max_task_failures: u32,
}

/// Post-deploy verification, after ECS says the deployment COMPLETED (docs/ecs-deploy.md,
/// "Verification"). A failed verification is a failed deploy.
#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    /// When the service has load balancers: how long every new task has to become `healthy`
    /// in every target group.
    #[arg(
        help_heading = "Verification",
        long,
        value_name = "DURATION",
        default_value = "5m",
        env = "DECKHAND_VERIFY_GRACE"
    )]
    pub verify_grace: String,

    /// GET this URL until `--verify-successes` answers in a row are as expected.
    #[arg(
        help_heading = "Verification",
        long,
        value_name = "URL",
        env = "DECKHAND_VERIFY_URL"
    )]
    pub verify_url: Option<String>,

    /// The statuses `--verify-url` must answer: `2xx`, `200`, `200,301`.
    #[arg(
        help_heading = "Verification",
        long,
        value_name = "STATUSES",
        default_value = "2xx",
        env = "DECKHAND_VERIFY_STATUS"
    )]
    pub verify_status: String,

    /// A regex the body `--verify-url` answers must match.
    #[arg(
        help_heading = "Verification",
        long,
        value_name = "REGEX",
        env = "DECKHAND_VERIFY_BODY"
    )]
    pub verify_body: Option<String>,

    /// How many expected answers in a row `--verify-url` needs.
    #[arg(
        help_heading = "Verification",
        long,
        value_name = "N",
        default_value_t = 3,
        env = "DECKHAND_VERIFY_SUCCESSES"
    )]
    pub verify_successes: u32,

    /// How long `--verify-url` may take to give them.
    #[arg(
        help_heading = "Verification",
        long,
        value_name = "DURATION",
        default_value = "2m",
        env = "DECKHAND_VERIFY_TIMEOUT"
    )]
    pub verify_timeout: String,
}

impl Default for VerifyArgs {
    /// The flags' defaults: target health when the service has load balancers, no URL.
    fn default() -> Self {
        Self {
            verify_grace: "5m".into(),
            verify_url: None,
            verify_status: "2xx".into(),
            verify_body: None,
            verify_successes: 3,
            verify_timeout: "2m".into(),
        }
    }
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

    /// Post-deploy verification.
    #[command(flatten)]
    pub verify: VerifyArgs,

    /// Roll back to the previous task definition when the deploy fails (unless ECS already did).
    /// With several services, `on-failure` rolls back only the service that failed; `all` also
    /// rolls back every other service the deploy changed.
    #[arg(
        help_heading = "Rollout",
        long,
        value_enum,
        default_value = "on-failure",
        env = "DECKHAND_ROLLBACK"
    )]
    pub rollback: DeployRollbackMode,

    /// Show the plan and change nothing.
    #[arg(long, env = "DECKHAND_DRY_RUN")]
    pub dry_run: bool,
}

/// `ecs deploy --rollback`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeployRollbackMode {
    /// Roll back when the deploy fails and ECS did not already.
    OnFailure,
    /// Never roll back.
    Never,
    /// As `on-failure`; and when any service of a fan-out fails, also roll back every other
    /// service that the deploy changed. For one service, the same as `on-failure`.
    All,
}

impl From<RollbackMode> for DeployRollbackMode {
    fn from(mode: RollbackMode) -> Self {
        match mode {
            RollbackMode::OnFailure => Self::OnFailure,
            RollbackMode::Never => Self::Never,
        }
    }
}

impl From<DeployRollbackMode> for deckhand_core::ecs::report::RollbackPolicy {
    /// The policy of each service's own failure (`all` adds the others, in the fan-out).
    fn from(mode: DeployRollbackMode) -> Self {
        match mode {
            DeployRollbackMode::OnFailure | DeployRollbackMode::All => Self::OnFailure,
            DeployRollbackMode::Never => Self::Never,
        }
    }
}

/// `ecs deploy` on the command line: the deploy, and its GitHub deployment record.
/// (`nginx build` runs the deploy with [`DeployArgs`] alone, without a record.)
#[derive(Debug, Clone, Args)]
pub struct EcsDeployArgs {
    /// The deploy.
    #[command(flatten)]
    pub deploy: DeployArgs,

    /// The GitHub deployment record.
    #[command(flatten)]
    pub github: GithubDeploymentArgs,
}

impl From<DeployArgs> for EcsDeployArgs {
    /// A deploy run by another command: no GitHub deployment record of its own.
    fn from(deploy: DeployArgs) -> Self {
        Self {
            deploy,
            github: GithubDeploymentArgs {
                github_deployment: false,
                environment: None,
                environment_url: None,
            },
        }
    }
}

/// `pr-comment`.
#[derive(Debug, Clone, Args)]
pub struct PrCommentArgs {
    /// The comment's Markdown (`-` for stdin).
    #[arg(
        help_heading = "Comment",
        long,
        value_name = "FILE",
        env = "DECKHAND_BODY_FILE"
    )]
    pub body_file: String,

    /// Names the comment (a hidden first line), so each run edits the same one.
    #[arg(
        help_heading = "Comment",
        long,
        value_name = "NAME",
        default_value = "plan",
        env = "DECKHAND_MARKER"
    )]
    pub marker: String,

    /// The pull request number (default: the `pull_request` event's).
    #[arg(help_heading = "Target", long, value_name = "N", env = "DECKHAND_PR")]
    pub pr: Option<u64>,

    /// The repository (default: GITHUB_REPOSITORY).
    #[arg(
        help_heading = "Target",
        long,
        value_name = "OWNER/REPO",
        env = "DECKHAND_REPO"
    )]
    pub repo: Option<String>,

    /// Whose comment to edit: the token's user (GITHUB_TOKEN comments as
    /// `github-actions[bot]`). Another author's comment is never edited.
    #[arg(
        help_heading = "Target",
        long,
        value_name = "LOGIN",
        default_value = "github-actions[bot]",
        env = "DECKHAND_AUTHOR"
    )]
    pub author: String,

    /// Show what would be written and send nothing but the listing.
    #[arg(long, env = "DECKHAND_DRY_RUN")]
    pub dry_run: bool,
}

/// A GitHub deployment record around a deploy (docs/github.md).
#[derive(Debug, Clone, Args)]
pub struct GithubDeploymentArgs {
    /// Record the deploy as a GitHub deployment (created at the start, its status set from
    /// the verdict at the end) when GITHUB_TOKEN and GITHUB_REPOSITORY are set. Turn it off
    /// with `--github-deployment=false` when the job has an `environment:` (GitHub then
    /// records one itself).
    #[arg(
        help_heading = "GitHub",
        long,
        value_name = "BOOL",
        default_value_t = true,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        action = clap::ArgAction::Set,
        value_parser = clap::builder::BoolishValueParser::new(),
        env = "DECKHAND_GITHUB_DEPLOYMENT"
    )]
    pub github_deployment: bool,

    /// The GitHub environment of the deployment record (default: `CLUSTER-SERVICE`, with the
    /// names taken from ARNs).
    #[arg(
        help_heading = "GitHub",
        long,
        value_name = "NAME",
        env = "DECKHAND_ENVIRONMENT"
    )]
    pub environment: Option<String>,

    /// The URL the deployed environment serves, shown on the GitHub deployment.
    #[arg(
        help_heading = "GitHub",
        long,
        value_name = "URL",
        env = "DECKHAND_ENVIRONMENT_URL"
    )]
    pub environment_url: Option<String>,
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
    #[arg(help_heading = "Target", long, env = "DECKHAND_CLUSTER")]
    pub cluster: String,

    /// ECS service name or ARN.
    #[arg(help_heading = "Target", long, env = "DECKHAND_SERVICE")]
    pub service: String,

    /// Revision number, `family:revision` or ARN (default: the newest ACTIVE revision of the
    /// family older than the one the service runs).
    #[arg(
        help_heading = "Target",
        long,
        value_name = "REVISION",
        env = "DECKHAND_TO"
    )]
    pub to: Option<String>,

    /// Watch settings.
    #[command(flatten)]
    pub watch: WatchArgs,

    /// Show the plan and change nothing.
    #[arg(long, env = "DECKHAND_DRY_RUN")]
    pub dry_run: bool,

    /// The GitHub deployment record.
    #[command(flatten)]
    pub github: GithubDeploymentArgs,
}

/// `--rollback`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RollbackMode {
    /// Roll back when the deploy fails and ECS did not already.
    OnFailure,
    /// Never roll back.
    Never,
}

impl From<RollbackMode> for deckhand_core::ecs::report::RollbackPolicy {
    fn from(mode: RollbackMode) -> Self {
        match mode {
            RollbackMode::OnFailure => Self::OnFailure,
            RollbackMode::Never => Self::Never,
        }
    }
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
