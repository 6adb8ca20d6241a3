//! One step of a composite action (`actions/*/action.yml`) run the way the GitHub runner runs
//! it: its `run:` script in `bash -e {0}` with the step's `env:`, inputs filled in from `with:`
//! values or the action's defaults, `GITHUB_ACTION_PATH` pointing at the action's directory
//! (the scripts call `../lib/install-deckhand.sh` through it), a `RUNNER_TEMP` and a `HOME` of
//! the step's own. Unless the test gives `deckhand-path` itself, that input names the deckhand
//! binary under test (the scripts run it directly, as they run a fetched one).
//!
//! This is not a workflow executor: expressions other than `${{ inputs.NAME }}` and
//! `${{ steps.ID.outputs.NAME }}` (from outputs a test hands over with
//! [`ActionStep::with_step_outputs`], as the runner's `steps` context would) evaluate to the
//! empty string, `if:` is not evaluated, and only one step runs. It exists so the scripts' own
//! logic (signals, exit codes, outputs) is executed by tests.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// A step of an action, read from its `action.yml`.
pub struct ActionStep {
    /// The action's directory (`GITHUB_ACTION_PATH`).
    dir: std::path::PathBuf,
    script: String,
    env: Vec<(String, String)>,
    defaults: BTreeMap<String, String>,
    /// Earlier steps' outputs, by `ID.NAME`.
    steps: BTreeMap<String, String>,
}

impl ActionStep {
    /// The step `step_id` of the action in `action_dir` (`actions/ecs-deploy`).
    pub fn load(action_dir: &Path, step_id: &str) -> Self {
        let path = action_dir.join("action.yml");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let action: Value = deckhand_core::document::parse_document(&path, &text)
            .unwrap_or_else(|e| panic!("parsing {e}"));
        let defaults = action["inputs"]
            .as_object()
            .map(|inputs| {
                inputs
                    .iter()
                    .map(|(name, spec)| (name.clone(), scalar(&spec["default"])))
                    .collect()
            })
            .unwrap_or_default();
        let step = action["runs"]["steps"]
            .as_array()
            .and_then(|steps| steps.iter().find(|s| s["id"] == step_id))
            .unwrap_or_else(|| panic!("{} has no step `{step_id}`", path.display()));
        let env = step["env"]
            .as_object()
            .map(|env| env.iter().map(|(k, v)| (k.clone(), scalar(v))).collect())
            .unwrap_or_default();
        Self {
            dir: action_dir.to_path_buf(),
            script: step["run"]
                .as_str()
                .expect("the step has a run: script")
                .to_string(),
            env,
            defaults,
            steps: BTreeMap::new(),
        }
    }

    /// The outputs of an earlier step `id` (as [`parse_outputs`] reads them from its
    /// `$GITHUB_OUTPUT`), for `${{ steps.ID.outputs.NAME }}` in this step's `env:`.
    #[must_use]
    pub fn with_step_outputs(mut self, id: &str, outputs: &BTreeMap<String, String>) -> Self {
        for (name, value) in outputs {
            self.steps.insert(format!("{id}.{name}"), value.clone());
        }
        self
    }

    /// The script as a command: `bash --noprofile --norc -eo pipefail SCRIPT` (what the runner
    /// runs for `shell: bash`), in `workdir` (the workspace), with the step's environment for
    /// `inputs`, `deckhand-path` defaulting to `deckhand`, `RUNNER_TEMP` at
    /// `workdir/.runner-temp` and `HOME` at `workdir/.home`. Add the world's and the runner's
    /// variables to it (a later `env` replaces these).
    pub fn command(&self, inputs: &[(&str, &str)], deckhand: &str, workdir: &Path) -> Command {
        let script = workdir.join(".action-step.sh");
        std::fs::write(&script, &self.script).unwrap();
        let runner_temp = workdir.join(".runner-temp");
        let home = workdir.join(".home");
        std::fs::create_dir_all(&runner_temp).unwrap();
        std::fs::create_dir_all(&home).unwrap();

        let mut inputs = inputs.to_vec();
        if !inputs.iter().any(|(name, _)| *name == "deckhand-path") {
            inputs.push(("deckhand-path", deckhand));
        }
        let mut cmd = Command::new("bash");
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&script)
            .current_dir(workdir)
            .env("GITHUB_WORKSPACE", workdir)
            .env("GITHUB_ACTION_PATH", &self.dir)
            .env("RUNNER_TEMP", &runner_temp)
            .env("HOME", &home);
        for (name, value) in &self.env {
            cmd.env(name, self.evaluate(value, &inputs));
        }
        cmd
    }

    /// `${{ inputs.NAME }}` from `inputs` or the action's default; any other expression is empty.
    fn evaluate(&self, value: &str, inputs: &[(&str, &str)]) -> String {
        let mut out = String::new();
        let mut rest = value;
        while let Some(start) = rest.find("${{") {
            out.push_str(&rest[..start]);
            let end = rest[start..]
                .find("}}")
                .map(|e| start + e + 2)
                .unwrap_or_else(|| panic!("unclosed expression in `{value}`"));
            let expr = rest[start + 3..end - 2].trim();
            if let Some(name) = expr.strip_prefix("inputs.") {
                let given = inputs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
                let value = match given {
                    Some(v) => v.to_string(),
                    None => {
                        let default = self
                            .defaults
                            .get(name)
                            .unwrap_or_else(|| panic!("the action has no input `{name}`"));
                        // A default that is itself an expression (`${{ github.token }}`).
                        if default.contains("${{") {
                            String::new()
                        } else {
                            default.clone()
                        }
                    }
                };
                out.push_str(&value);
            } else if let Some((id, name)) = expr
                .strip_prefix("steps.")
                .and_then(|e| e.split_once(".outputs."))
                && let Some(v) = self.steps.get(&format!("{id}.{name}"))
            {
                out.push_str(v);
            }
            rest = &rest[end..];
        }
        out.push_str(rest);
        out
    }
}

/// The outputs a step wrote to its `$GITHUB_OUTPUT` file, as the runner reads them:
/// `NAME=VALUE` lines and `NAME<<DELIMITER` blocks; a later value of a name wins.
///
/// # Panics
/// On a line that is neither, or a block without its delimiter (the runner fails the step).
pub fn parse_outputs(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.is_empty() {
            continue;
        }
        let heredoc = line.split_once("<<");
        let assign = line.split_once('=');
        match (heredoc, assign) {
            (Some((name, delimiter)), a) if a.is_none_or(|(n, _)| n.len() > name.len()) => {
                let mut value = Vec::new();
                loop {
                    let l = lines
                        .next()
                        .unwrap_or_else(|| panic!("output `{name}`: no closing `{delimiter}`"));
                    if l == delimiter {
                        break;
                    }
                    value.push(l);
                }
                out.insert(name.to_string(), value.join("\n"));
            }
            (_, Some((name, value))) => {
                out.insert(name.to_string(), value.to_string());
            }
            _ => panic!("not an output line: `{line}`"),
        }
    }
    out
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
