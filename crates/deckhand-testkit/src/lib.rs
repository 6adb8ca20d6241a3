//! Test support for deckhand: the local world (moto with deckhand's ECS rollout extension, see
//! `world/README.md`) started as an ordinary process on 127.0.0.1, and fixtures built and
//! checked with awscli, a client deckhand did not write.
//!
//! One world is started per test binary and shared by its tests; tests isolate themselves by
//! using their own cluster and service names. The server exits when the test binary does (it
//! watches its stdin, which only this process holds).

pub mod act;
pub mod action_step;
pub mod fake_github;
pub mod images;
pub mod snapshot;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

/// Fault rules in force on a world; dropping this clears them and passes the turn on.
pub struct Faults<'w> {
    world: &'w World,
    _turn: MutexGuard<'w, ()>,
}

impl Faults<'_> {
    /// The rules with their `remaining`, `matched` and `failed` counters.
    pub fn rules(&self) -> Vec<Value> {
        let (status, body) = self
            .world
            .get("/_deckhand/faults")
            .expect("reading fault rules");
        assert_eq!(status, 200, "GET /_deckhand/faults");
        let answer: Value = serde_json::from_slice(&body).expect("fault rules are JSON");
        answer["rules"].as_array().cloned().unwrap_or_default()
    }
}

impl Drop for Faults<'_> {
    fn drop(&mut self) {
        // Not a panic in drop: a failure here surfaces in the next test that sets rules.
        let _ = self.world.post("/_deckhand/faults", r#"{"rules": []}"#);
    }
}

/// The one credential the world's ECR front accepts: what moto's GetAuthorizationToken hands
/// out for account 123456789012 (`user:password`, as skopeo's `--creds` takes it).
pub const ECR_CREDS: &str = "AWS:123456789012-auth-token";

/// Timings used by the tests: fast, but slow enough that a 200 ms poll sees every phase.
pub const FAST_TIMINGS: &str = r#"{"task_start_seconds": 0.6, "task_fail_seconds": 0.6, "drain_seconds": 0.4, "replace_seconds": 0.3}"#;

/// A running local world.
pub struct World {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    root: PathBuf,
    _child: Mutex<Child>,
    _stdin: Mutex<ChildStdin>,
    /// Held by the test whose fault rules are in force (see [`World::faults`]).
    fault_turn: Mutex<()>,
}

static WORLD: OnceLock<World> = OnceLock::new();

/// The repository root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

/// A command that was sent a signal mid-run: its output (`stderr` is the whole log, read while
/// waiting) and the time from the signal to its exit.
#[derive(Debug)]
pub struct Signalled {
    /// The exit status, stdout, and every stderr line.
    pub out: Output,
    /// From the signal to the exit.
    pub took: Duration,
}

/// Starts `cmd`, waits until `times` of its stderr lines contained `marker`, waits `settle`,
/// then sends `signal` (`TERM`, `INT`, ...) to the process itself (as GitHub's runner signals a
/// step's shell) and collects the rest. Panics when it ends before the marker.
pub fn signal_after_line(
    cmd: &mut Command,
    marker: &str,
    times: usize,
    settle: Duration,
    signal: &str,
) -> Signalled {
    use std::io::{BufRead, BufReader, Read};
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the command");
    let mut stderr = BufReader::new(child.stderr.take().expect("piped stderr"));
    let mut log = String::new();
    let mut seen = 0;
    while seen < times {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).expect("read stderr") > 0,
            "ended early:\n{log}"
        );
        seen += usize::from(line.contains(marker));
        log.push_str(&line);
    }
    std::thread::sleep(settle);
    let sent = std::time::Instant::now();
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{signal} failed");
    stderr.read_to_string(&mut log).expect("read stderr");
    let mut out = child.wait_with_output().expect("wait for the command");
    let took = sent.elapsed();
    out.stderr = log.into_bytes();
    Signalled { out, took }
}

/// `DOCKER_HOST` of a Docker engine on a private socket (world/dockerd.sh, Debian's docker.io
/// with the vfs driver), started on first use and reused across test binaries. Panics when it
/// cannot start: a test that needs an engine must not pass without one.
pub fn docker_host() -> &'static str {
    static HOST: OnceLock<String> = OnceLock::new();
    HOST.get_or_init(|| {
        let out = Command::new("bash")
            .arg(repo_root().join("world/dockerd.sh"))
            .arg("start")
            .output()
            .expect("run world/dockerd.sh");
        assert!(
            out.status.success(),
            "world/dockerd.sh start failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .strip_prefix("export DOCKER_HOST=")
            .expect("world/dockerd.sh prints export DOCKER_HOST=...")
            .to_string()
    })
}

/// The world for this test binary, started on first use with [`FAST_TIMINGS`].
pub fn world() -> &'static World {
    WORLD.get_or_init(|| {
        let w = World::start().unwrap_or_else(|e| panic!("cannot start the local world: {e:#}"));
        w.post("/_deckhand/config", FAST_TIMINGS)
            .expect("configure world timings");
        w
    })
}

impl World {
    /// A world of its own (not shared with other tests), with extra server flags such as
    /// `--s3-max-keys 2`; it stops when dropped.
    pub fn start_isolated(extra_args: &[&str]) -> Self {
        let w = Self::start_with(extra_args)
            .unwrap_or_else(|e| panic!("cannot start a local world: {e:#}"));
        w.post("/_deckhand/config", FAST_TIMINGS)
            .expect("configure world timings");
        w
    }

    fn start() -> Result<Self> {
        // With the registries (world/README.md, "Registries"): two docker-registry children
        // and their fronts, a fraction of a second to start.
        Self::start_with(&["--registry"])
    }

    /// `host:port` of a registry front of this world: `ecr` (Basic auth with moto's ECR token)
    /// or `hub` (anonymous bearer tokens).
    pub fn registry(&self, name: &str) -> String {
        let (status, body) = self
            .get("/_deckhand/registries")
            .expect("GET /_deckhand/registries");
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let all: Value = serde_json::from_slice(&body).expect("registries are JSON");
        all[name]
            .as_str()
            .unwrap_or_else(|| panic!("no registry `{name}` in {all}"))
            .to_string()
    }

    /// The registry fronts' counters for one repository (`requests`, `bytes_received`,
    /// `blob_uploads_completed`, `blob_bytes_uploaded`, `manifest_puts`, `mounts`,
    /// `blob_heads`, `by_method`); zeros when it saw nothing.
    pub fn registry_stats(&self, front: &str, repository: &str) -> Value {
        let (status, body) = self
            .get("/_deckhand/registry-stats")
            .expect("GET /_deckhand/registry-stats");
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let all: Value = serde_json::from_slice(&body).expect("stats are JSON");
        let repo = &all[front]["repositories"][repository];
        if repo.is_null() {
            json!({"requests": 0, "bytes_received": 0, "blob_uploads_completed": 0, "blob_bytes_uploaded": 0, "manifest_puts": 0, "mounts": 0, "blob_heads": 0})
        } else {
            repo.clone()
        }
    }

    fn start_with(extra_args: &[&str]) -> Result<Self> {
        let root = repo_root();
        let install = Command::new("bash")
            .arg(root.join("world/install.sh"))
            .current_dir(&root)
            .output()
            .context("running world/install.sh")?;
        if !install.status.success() {
            bail!(
                "world/install.sh failed:\n{}",
                String::from_utf8_lossy(&install.stderr)
            );
        }
        let mut child = Command::new(root.join(".venv/bin/python"))
            .args([
                "-m",
                "deckhand_world",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--exit-on-stdin-eof",
            ])
            .args(extra_args)
            .env("PYTHONPATH", root.join("world"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("starting the world server (.venv/bin/python -m deckhand_world)")?;
        let stdin = child.stdin.take().context("world stdin")?;
        let stdout = child.stdout.take().context("world stdout")?;
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .context("reading the world's listening line")?;
        let endpoint = line
            .trim()
            .rsplit(' ')
            .next()
            .filter(|u| u.starts_with("http://"))
            .with_context(|| format!("unexpected first line from the world: {line:?}"))?
            .to_string();
        Ok(Self {
            endpoint,
            root,
            _child: Mutex::new(child),
            _stdin: Mutex::new(stdin),
            fault_turn: Mutex::new(()),
        })
    }

    /// `host:port` of the server.
    fn authority(&self) -> &str {
        self.endpoint.trim_start_matches("http://")
    }

    /// A plain HTTP/1.1 POST to the control API; returns the body.
    pub fn post(&self, path: &str, body: &str) -> Result<String> {
        let mut stream = TcpStream::connect(self.authority())?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        write!(
            stream,
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.authority(),
            body.len()
        )?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        let status_ok =
            response.starts_with("HTTP/1.1 200") || response.starts_with("HTTP/1.0 200");
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        if !status_ok {
            bail!(
                "POST {path}: {}",
                response.lines().next().unwrap_or_default()
            );
        }
        Ok(body)
    }

    /// Puts fault rules (`{"rules": [...]}`, see world/README.md) in force until the returned
    /// guard drops. POST replaces the world's whole rule list and the tests of a binary share
    /// one world, so tests that inject faults take turns: each waits for the previous guard.
    pub fn faults(&self, rules: &str) -> Faults<'_> {
        // A test that panicked while holding the turn cleared its rules on drop all the same.
        let turn = self
            .fault_turn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.post("/_deckhand/faults", rules)
            .unwrap_or_else(|e| panic!("setting fault rules {rules}: {e:#}"));
        Faults {
            world: self,
            _turn: turn,
        }
    }

    /// A plain HTTP/1.1 GET of a path on the world (moto serves S3 objects path-style without
    /// checking signatures): the status code and the body.
    pub fn get(&self, path: &str) -> Result<(u16, Vec<u8>)> {
        let mut stream = TcpStream::connect(self.authority())?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.authority()
        )?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response)?;
        let split = response
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .context("no end of headers")?;
        let head = String::from_utf8_lossy(&response[..split]);
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .context("no status")?;
        let chunked = head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked");
        let body = response[split + 4..].to_vec();
        Ok((status, if chunked { dechunk(&body) } else { body }))
    }

    /// Environment for any AWS client pointed at this world (fake credentials: a test can never
    /// reach a real account through a developer's profile).
    pub fn aws_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_DEFAULT_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }

    /// Gives `cmd` the world's AWS environment and none of the developer's (`DECKHAND_*`,
    /// AWS profiles, a CI job's GitHub variables).
    pub fn clean(&self, cmd: &mut Command) {
        for var in [
            "AWS_PROFILE",
            "AWS_SESSION_TOKEN",
            "AWS_CA_BUNDLE",
            "AWS_CONFIG_FILE",
            "AWS_SHARED_CREDENTIALS_FILE",
            "GITHUB_ACTIONS",
            "GITHUB_OUTPUT",
            "GITHUB_STEP_SUMMARY",
            // A CI job's token must never make a test talk to the real GitHub.
            "GITHUB_TOKEN",
            "GH_TOKEN",
            "GITHUB_REPOSITORY",
            "GITHUB_API_URL",
            "GITHUB_EVENT_NAME",
            "GITHUB_EVENT_PATH",
        ] {
            cmd.env_remove(var);
        }
        cmd.env_clear_deckhand();
        for (k, v) in self.aws_env() {
            cmd.env(k, v);
        }
        // The SDK would look for ~/.aws; point it at nothing.
        cmd.env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    }

    /// `aws ... --output json` (awscli from the project venv); the parsed JSON output.
    pub fn aws(&self, args: &[&str]) -> Value {
        self.try_aws(args)
            .unwrap_or_else(|e| panic!("aws {}: {e}", args.join(" ")))
    }

    /// Like [`World::aws`], returning the error text instead of panicking.
    pub fn try_aws(&self, args: &[&str]) -> std::result::Result<Value, String> {
        let mut cmd = Command::new(self.root.join(".venv/bin/aws"));
        self.clean(&mut cmd);
        cmd.args(args).args(["--output", "json"]);
        let out = cmd.output().map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).to_string());
        }
        let text = String::from_utf8_lossy(&out.stdout);
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))
    }

    /// A command running `binary` (the deckhand under test) against this world.
    pub fn command(&self, binary: &str) -> Command {
        let mut cmd = Command::new(binary);
        self.clean(&mut cmd);
        cmd
    }
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = body.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&body[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = eol + 2;
        out.extend_from_slice(&body[start..(start + size).min(body.len())]);
        body = &body[(start + size + 2).min(body.len())..];
    }
    out
}

trait EnvClear {
    fn env_clear_deckhand(&mut self) -> &mut Self;
}

impl EnvClear for Command {
    /// A developer's `DECKHAND_*` variables must not leak into tests.
    fn env_clear_deckhand(&mut self) -> &mut Self {
        for (k, _) in std::env::vars() {
            if k.starts_with("DECKHAND_") {
                self.env_remove(k);
            }
        }
        self
    }
}

/// A container of a fixture task definition.
#[derive(Debug, Clone)]
pub struct ContainerSpec {
    /// Name.
    pub name: String,
    /// Image.
    pub image: String,
}

impl ContainerSpec {
    /// `name` running `image`.
    pub fn new(name: &str, image: &str) -> Self {
        Self {
            name: name.into(),
            image: image.into(),
        }
    }
}

/// A cluster with one service, created through awscli and settled (its first deployment
/// COMPLETED).
#[derive(Debug, Clone)]
pub struct ServiceFixture {
    /// Cluster name.
    pub cluster: String,
    /// Service name.
    pub service: String,
    /// Task definition family.
    pub family: String,
    /// The task definition the service started with.
    pub initial_task_definition: String,
}

/// Circuit breaker settings for a fixture.
#[derive(Debug, Clone, Copy)]
pub enum Breaker {
    /// No circuit breaker.
    Off,
    /// Breaker on, rollback off.
    On,
    /// Breaker on with rollback.
    WithRollback,
    /// Breaker on with rollback, its count restarting each time a task runs
    /// (`resetOnHealthyTask`): a crash loop whose tasks run a while never trips it.
    WithRollbackResetting,
}

impl ServiceFixture {
    /// `BIN --output json ecs deploy` of this service (`bin`: the deckhand under test), polling
    /// every 200 ms and, unless `extra` sets `--timeout`, giving up after a minute: a hung
    /// scenario fails in a minute rather than the 15-minute default.
    pub fn deploy(&self, w: &World, bin: &str, extra: &[&str]) -> Run {
        let mut cmd = w.command(bin);
        cmd.args([
            "--output",
            "json",
            "ecs",
            "deploy",
            "--cluster",
            &self.cluster,
        ])
        .args(["--service", &self.service, "--poll-interval", "200ms"]);
        if !extra.contains(&"--timeout") {
            cmd.args(["--timeout", "60s"]);
        }
        Run::from_output(&cmd.args(extra).output().expect("run deckhand"))
    }

    /// Creates cluster `name`, family `name`, and service `name` with `desired` tasks.
    pub fn create(
        world: &World,
        name: &str,
        containers: &[ContainerSpec],
        desired: i32,
        breaker: Breaker,
    ) -> Self {
        Self::create_with(world, name, containers, desired, breaker, &[])
    }

    /// [`Self::create`] with more `aws ecs register-task-definition` arguments for its task
    /// definition (e.g. `--runtime-platform cpuArchitecture=ARM64,operatingSystemFamily=LINUX`).
    pub fn create_with(
        world: &World,
        name: &str,
        containers: &[ContainerSpec],
        desired: i32,
        breaker: Breaker,
        task_definition_args: &[&str],
    ) -> Self {
        world.aws(&["ecs", "create-cluster", "--cluster-name", name]);
        let defs: Vec<Value> = containers
            .iter()
            .map(|c| json!({"name": c.name, "image": c.image, "memory": 128, "essential": true}))
            .collect();
        let definitions = Value::Array(defs).to_string();
        let mut register = vec![
            "ecs",
            "register-task-definition",
            "--family",
            name,
            "--container-definitions",
            &definitions,
            "--tags",
            r#"[{"key":"team","value":"platform"}]"#,
        ];
        register.extend_from_slice(task_definition_args);
        let td = world.aws(&register);
        let td_arn = td["taskDefinition"]["taskDefinitionArn"]
            .as_str()
            .expect("registered arn")
            .to_string();
        let breaker = match breaker {
            Breaker::Off => json!({"enable": false, "rollback": false}),
            Breaker::On => json!({"enable": true, "rollback": false}),
            Breaker::WithRollback => json!({"enable": true, "rollback": true}),
            Breaker::WithRollbackResetting => {
                json!({"enable": true, "rollback": true, "resetOnHealthyTask": true})
            }
        };
        let config = json!({
            "deploymentCircuitBreaker": breaker,
            "maximumPercent": 200,
            "minimumHealthyPercent": 100
        });
        world.aws(&[
            "ecs",
            "create-service",
            "--cluster",
            name,
            "--service-name",
            name,
            "--task-definition",
            &td_arn,
            "--desired-count",
            &desired.to_string(),
            "--deployment-configuration",
            &config.to_string(),
        ]);
        let fixture = Self {
            cluster: name.into(),
            service: name.into(),
            family: name.into(),
            initial_task_definition: td_arn,
        };
        fixture.wait_steady(world, Duration::from_secs(30));
        fixture
    }

    /// DescribeServices through awscli: the service object.
    pub fn describe(&self, world: &World) -> Value {
        let out = world.aws(&[
            "ecs",
            "describe-services",
            "--cluster",
            &self.cluster,
            "--services",
            &self.service,
        ]);
        out["services"][0].clone()
    }

    /// Waits until the service has one deployment, COMPLETED.
    pub fn wait_steady(&self, world: &World, timeout: Duration) -> Value {
        let start = Instant::now();
        loop {
            let s = self.describe(world);
            let deployments = s["deployments"].as_array().cloned().unwrap_or_default();
            if deployments.len() == 1 && deployments[0]["rolloutState"] == "COMPLETED" {
                return s;
            }
            assert!(
                start.elapsed() < timeout,
                "service {} did not settle: {s:#}",
                self.service
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The PRIMARY deployment's task definition ARN.
    pub fn primary_task_definition(&self, world: &World) -> String {
        let s = self.describe(world);
        s["deployments"]
            .as_array()
            .and_then(|d| d.iter().find(|d| d["status"] == "PRIMARY"))
            .and_then(|d| d["taskDefinition"].as_str())
            .unwrap_or_default()
            .to_string()
    }

    /// ARNs of the family's ACTIVE revisions.
    pub fn revisions(&self, world: &World) -> Vec<String> {
        let out = world.aws(&[
            "ecs",
            "list-task-definitions",
            "--family-prefix",
            &self.family,
        ]);
        out["taskDefinitionArns"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// DescribeTaskDefinition (with tags) through awscli.
    pub fn task_definition(&self, world: &World, arn: &str) -> Value {
        world.aws(&[
            "ecs",
            "describe-task-definition",
            "--task-definition",
            arn,
            "--include",
            "TAGS",
        ])
    }
}

/// The output of a finished deckhand run, with its JSON result parsed.
#[derive(Debug)]
pub struct Run {
    /// Exit code.
    pub code: i32,
    /// stdout.
    pub stdout: String,
    /// stderr (human output and logs).
    pub stderr: String,
    /// The `--output json` object, when stdout held one.
    pub json: Value,
}

impl Run {
    /// Asserts the exit code and the JSON result's verdict, showing both streams when they differ.
    #[track_caller]
    pub fn assert_exit(&self, code: i32, verdict: &str) {
        assert_eq!(
            (self.code, self.json["verdict"].as_str().unwrap_or_default()),
            (code, verdict),
            "stderr:\n{}\nstdout:\n{}",
            self.stderr,
            self.stdout
        );
    }

    /// Requests the run made for one operation (`ECS.UpdateService`, `S3.PutObject`), from its
    /// JSON result.
    pub fn api_calls(&self, operation: &str) -> u64 {
        self.json["api_calls"]["by_operation"][operation]
            .as_u64()
            .unwrap_or(0)
    }

    /// Wraps a finished process.
    pub fn from_output(out: &Output) -> Self {
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        Self {
            code: out.status.code().unwrap_or(-1),
            json: serde_json::from_str(&stdout).unwrap_or(Value::Null),
            stdout,
            stderr: String::from_utf8_lossy(&out.stderr).to_string(),
        }
    }
}

/// A bucket (and optionally a CloudFront distribution in front of it), created with awscli.
#[derive(Debug, Clone)]
pub struct SiteFixture {
    /// Bucket name.
    pub bucket: String,
    /// Distribution id, when one was created.
    pub distribution: Option<String>,
}

impl SiteFixture {
    /// Creates bucket `bucket` and a distribution whose origin is that bucket at `origin_path`.
    pub fn create(world: &World, bucket: &str, origin_path: Option<&str>) -> Self {
        world.aws(&["s3api", "create-bucket", "--bucket", bucket]);
        let distribution = origin_path.map(|path| {
            let config = json!({
                "CallerReference": format!("fixture-{bucket}"),
                "Origins": {"Quantity": 1, "Items": [{
                    "Id": "s3", "DomainName": format!("{bucket}.s3.us-east-1.amazonaws.com"), "OriginPath": path,
                    "S3OriginConfig": {"OriginAccessIdentity": ""}
                }]},
                "DefaultCacheBehavior": {
                    "TargetOriginId": "s3", "ViewerProtocolPolicy": "allow-all",
                    "ForwardedValues": {"QueryString": false, "Cookies": {"Forward": "none"}},
                    "MinTTL": 0, "TrustedSigners": {"Enabled": false, "Quantity": 0}
                },
                "Comment": "", "Enabled": true
            });
            let out = world.aws(&["cloudfront", "create-distribution", "--distribution-config", &config.to_string()]);
            out["Distribution"]["Id"].as_str().expect("distribution id").to_string()
        });
        Self {
            bucket: bucket.into(),
            distribution,
        }
    }

    /// Every key in the bucket, sorted.
    pub fn keys(&self, world: &World) -> Vec<String> {
        let out = world.aws(&["s3api", "list-objects-v2", "--bucket", &self.bucket]);
        let mut keys: Vec<String> = out["Contents"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|o| o["Key"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        keys.sort();
        keys
    }

    /// HeadObject through awscli.
    pub fn head(&self, world: &World, key: &str) -> Value {
        world.aws(&[
            "s3api",
            "head-object",
            "--bucket",
            &self.bucket,
            "--key",
            key,
        ])
    }

    /// The invalidations of the distribution (their ids), newest first as CloudFront lists them.
    pub fn invalidations(&self, world: &World) -> Vec<String> {
        let Some(d) = &self.distribution else {
            return Vec::new();
        };
        let out = world.aws(&["cloudfront", "list-invalidations", "--distribution-id", d]);
        out["InvalidationList"]["Items"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|i| i["Id"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
}
