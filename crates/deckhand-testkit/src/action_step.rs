//! One step of a composite action (`actions/*/action.yml`) run the way the GitHub runner runs
//! it: its `run:` script in `bash -e {0}` with the step's `env:`, inputs filled in from `with:`
//! values or the action's defaults. `docker` on the script's PATH is a stand-in that runs the
//! deckhand binary under test on this machine (there is no Docker engine here), with exactly
//! the environment `docker run -e NAME` would give the container, and receives signals as the
//! container's `--init` would hand them on: it `exec`s deckhand.
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
    /// runs for `shell: bash`), in `workdir`, with the step's environment for `inputs` and
    /// `docker` standing for `deckhand`. Add the world's and the runner's variables to it.
    pub fn command(&self, inputs: &[(&str, &str)], deckhand: &str, workdir: &Path) -> Command {
        let bin = workdir.join(".action-bin");
        std::fs::create_dir_all(&bin).unwrap();
        write_docker_stand_in(&bin, deckhand);
        let script = workdir.join(".action-step.sh");
        std::fs::write(&script, &self.script).unwrap();

        let mut cmd = Command::new("bash");
        cmd.args(["--noprofile", "--norc", "-eo", "pipefail"])
            .arg(&script)
            .current_dir(workdir)
            .env("GITHUB_WORKSPACE", workdir)
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    bin.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            );
        for (name, value) in &self.env {
            cmd.env(name, self.evaluate(value, inputs));
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

/// `docker run [flags] IMAGE ARGS...` as the actions call it, run here: `deckhand ARGS...` with
/// only the variables named by `-e NAME` (valued from the caller) or `-e NAME=VALUE`, and a
/// `HOME` of its own, as in a container. Mounts (`-v SRC:DEST[:ro]`) must be at the same path
/// (the host path is then the one used). Unknown flags fail as docker would (exit 125), so a
/// script that starts passing something new is noticed.
fn write_docker_stand_in(bin: &Path, deckhand: &str) {
    let path = bin.join("docker");
    let home = bin.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let script = format!(
        r#"#!/usr/bin/env bash
set -euo pipefail
if [[ "${{1:-}}" != run ]]; then
  echo "docker stand-in: only 'docker run' is known, got: $*" >&2
  exit 125
fi
shift
vars=("HOME={home}" "PATH=/usr/bin:/bin")
while [[ $# -gt 0 ]]; do
  case "$1" in
    -e)
      if [[ "$2" == *=* ]]; then vars+=("$2"); else vars+=("$2=${{!2-}}"); fi
      shift 2 ;;
    -v)
      # The actions mount host paths at the same path inside, so a path handed over in a
      # variable (DOCKER_CONFIG, GITHUB_OUTPUT) means the same here; a mount elsewhere would
      # not, and is refused so that a script doing that is noticed.
      IFS=: read -r src dest _ <<<"$2"
      if [[ "$src" != "$dest" ]]; then
        echo "docker stand-in: -v $2 mounts at another path; only same-path mounts are known" >&2
        exit 125
      fi
      shift 2 ;;
    -w|--user|--network) shift 2 ;;
    --rm|--init) shift ;;
    -*) echo "docker stand-in: unknown flag $1" >&2; exit 125 ;;
    *) shift; break ;;
  esac
done
exec env -i "${{vars[@]}}" "{deckhand}" "$@"
"#,
        home = home.display(),
    );
    std::fs::write(&path, script).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}
