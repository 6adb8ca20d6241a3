//! The contract between the published actions (`actions/*/action.yml`) and the binary:
//!
//! - every input reaches the binary through a step's `env:` as a `DECKHAND_*` variable that a
//!   flag of the command the action runs reads (a few explicit exceptions below);
//! - no `${{ inputs.* }}` appears inside a `run:` script (script injection);
//! - the action's outputs are exactly the outputs the binary writes to `$GITHUB_OUTPUT`;
//! - every step that runs the binary gets it from `actions/lib/install-deckhand.sh`, with the
//!   `deckhand-image` and `deckhand-path` inputs under the names that script reads.
//!
//! A JavaScript action (`actions/changes`, whose outputs are named after the user's filters, which
//! a composite action cannot expose) keeps its own contract ([`NodeContract`]): `runs.using:
//! node24`, no dependency beyond Node's own modules, every input either in its `FLAG_INPUTS`
//! table (input -> the `DECKHAND_*` variable a flag reads, same default) or used as its contract
//! says, and its declared outputs exactly the binary's fixed ones, without `value:`.
//!
//! The flags are read from the clap definition itself, so renaming a flag or an output in the
//! binary without updating the action fails here. The `mutation_*` tests break the real
//! `action.yml` in memory and check that each rule catches it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use serde_json::Value;

/// What an action promises, beside its `action.yml`.
struct Contract {
    /// Its directory under `actions/`.
    action: &'static str,
    /// The `deckhand` subcommand it runs.
    command: &'static [&'static str],
    /// The outputs that subcommand writes to `$GITHUB_OUTPUT`.
    outputs: &'static [&'static str],
    /// Inputs the step's script combines into one `DECKHAND_*` variable: (input, variable).
    combined: &'static [(&'static str, &'static str)],
    /// Inputs of the optional image build that runs before the command (`prep` step:
    /// `deckhand ecr prepare`, then ECR login and docker/build-push-action): each must reach
    /// that step's script through its `env:`.
    build_inputs: &'static [&'static str],
    /// Inputs handed unchanged to a `uses:` step's `with:` (data for an action, never a
    /// script): (input, step id, `with:` key).
    with_inputs: &'static [(&'static str, &'static str, &'static str)],
    /// Outputs a step's script writes itself, beside the command's: (output, step id).
    script_outputs: &'static [(&'static str, &'static str)],
    /// The steps between `prep` and the command that run only when `prep` says to build, and
    /// the `if:` each must have.
    build_steps: &'static [&'static str],
}

/// The `if:` of the steps of an optional build (`prep` writes `build=true` only when there is
/// something to build: not when the first tag already names an immutable image).
const BUILD_IF: &str = "steps.prep.outputs.build == 'true'";

const CONTRACTS: &[Contract] = &[
    Contract {
        action: "ecs-deploy",
        command: &["ecs", "deploy"],
        outputs: deckhand::gha::ECS_FANOUT_OUTPUTS,
        // `container-name` + `image` (the names aws-actions users know) and `images` become the
        // newline-separated list `--image` reads from DECKHAND_IMAGE; `service` and `services`
        // the list `--service` reads from DECKHAND_SERVICE.
        combined: &[
            ("container-name", "DECKHAND_IMAGE"),
            ("image", "DECKHAND_IMAGE"),
            ("images", "DECKHAND_IMAGE"),
            ("service", "DECKHAND_SERVICE"),
            ("services", "DECKHAND_SERVICE"),
        ],
        build_inputs: &[
            "build-context",
            "build-dockerfile",
            "build-repository",
            "build-tags",
            "build-args",
            "build-cache",
            "build-create-repository",
        ],
        with_inputs: &[
            ("build-platforms", "build", "platforms"),
            ("build-target", "build", "target"),
            ("build-secrets", "build", "secrets"),
        ],
        script_outputs: &[("image", "deploy"), ("digest", "deploy")],
        build_steps: &["login", "Set up Docker Buildx", "build"],
    },
    Contract {
        action: "ecs-wait",
        command: &["ecs", "wait"],
        outputs: deckhand::gha::ECS_DEPLOY_OUTPUTS,
        combined: &[],
        build_inputs: &[],
        with_inputs: &[],
        script_outputs: &[],
        build_steps: &[],
    },
    Contract {
        action: "ecs-run",
        command: &["ecs", "run"],
        outputs: deckhand::gha::ECS_RUN_OUTPUTS,
        combined: &[],
        build_inputs: &[],
        with_inputs: &[],
        script_outputs: &[],
        build_steps: &[],
    },
    Contract {
        action: "static-site",
        command: &["site", "deploy"],
        outputs: deckhand::gha::SITE_DEPLOY_OUTPUTS,
        // `distribution-id` is already the newline-separated list DECKHAND_DISTRIBUTION_ID takes.
        combined: &[],
        build_inputs: &[],
        with_inputs: &[],
        script_outputs: &[],
        build_steps: &[],
    },
    Contract {
        action: "nginx-image",
        command: &["nginx", "build"],
        outputs: deckhand::gha::NGINX_BUILD_OUTPUTS,
        // `repository` (+ `registry` when it is a bare name) and `tags` become the
        // `REGISTRY/REPOSITORY:TAG` lines of DECKHAND_TAG; `validate` runs `nginx -t` of the
        // base itself in the script (the runner's nginx may be another one), so the binary skips its
        // own check.
        combined: &[
            ("repository", "DECKHAND_TAG"),
            ("registry", "DECKHAND_TAG"),
            ("tags", "DECKHAND_TAG"),
            ("validate", "DECKHAND_SKIP_VALIDATE"),
            ("smoke", "DECKHAND_SKIP_SMOKE"),
        ],
        build_inputs: &[],
        with_inputs: &[],
        script_outputs: &[],
        build_steps: &[],
    },
    Contract {
        action: "pr-comment",
        command: &["pr-comment"],
        outputs: deckhand::gha::PR_COMMENT_OUTPUTS,
        // `body` is written to a file whose path is DECKHAND_BODY_FILE.
        combined: &[("body", "DECKHAND_BODY_FILE")],
        build_inputs: &[],
        with_inputs: &[],
        script_outputs: &[],
        build_steps: &[],
    },
];

/// What a JavaScript action promises: it runs `main` with node (no dependencies: only Node's
/// own `node:` modules), maps each input that is a flag to the variable the flag reads in a
/// table (`const FLAG_INPUTS = { input: 'DECKHAND_X', ... }`), runs the command, and lets the
/// binary write the outputs, which may be more than the action declares (a composite action
/// could not expose those).
struct NodeContract {
    /// Its directory under `actions/`.
    action: &'static str,
    /// The `deckhand` subcommand it runs.
    command: &'static [&'static str],
    /// The outputs whose names do not depend on the input: the action declares exactly these.
    outputs: &'static [&'static str],
    /// Inputs that are not flags, each with how `main` must use it (a text it must contain).
    other_inputs: &'static [(&'static str, &'static str)],
}

/// The runtime of the JavaScript actions (paths-filter v4's; node20 leaves runners in 2026).
const NODE_RUNTIME: &str = "node24";

const NODE_CONTRACTS: &[NodeContract] = &[NodeContract {
    action: "changes",
    command: &["changes"],
    outputs: deckhand::gha::CHANGES_OUTPUTS,
    other_inputs: &[
        // paths-filter's `token`: the binary reads GITHUB_TOKEN, by name, never an argument.
        ("token", "env.GITHUB_TOKEN = token"),
        // paths-filter's `working-directory`: where the binary runs.
        ("working-directory", "cwd: workingDirectory"),
        // The binary itself: given, or from the shared installer with the image.
        ("deckhand-path", "INPUT_DECKHAND_PATH"),
        ("deckhand-image", "INPUT_DECKHAND_IMAGE"),
    ],
}];

/// The inputs that say where the deckhand binary comes from, and the variables
/// `actions/lib/install-deckhand.sh` reads them from. They are not flags of the binary: each step
/// that runs it must hand both to the installer.
const INSTALLER_INPUTS: &[(&str, &str)] = &[
    ("deckhand-image", "INPUT_DECKHAND_IMAGE"),
    ("deckhand-path", "INPUT_DECKHAND_PATH"),
];

/// How a step's script gets the binary it runs as `"${deckhand}"`.
const INSTALLER_CALL: &str = r#"deckhand="$("${GITHUB_ACTION_PATH}/../lib/install-deckhand.sh")""#;

/// True when `script` runs `"${deckhand}" COMMAND` (followed by its end, a space, or `)`).
fn runs_command(script: &str, command: &str) -> bool {
    let call = format!("\"${{deckhand}}\" {command}");
    script.match_indices(&call).any(|(i, m)| {
        script[i + m.len()..]
            .chars()
            .next()
            .is_none_or(|c| c == '\n' || c == ' ' || c == ')')
    })
}

/// The token for GitHub deployment records: it reaches the binary as `GITHUB_TOKEN` (the name
/// the binary reads, like every GitHub tool), exported by the script, never on a command line.
const GITHUB_TOKEN_INPUT: &str = "github-token";

/// Inputs whose default differs from the flag's on purpose: (input, action default, why).
const DELIBERATE_DEFAULTS: &[(&str, &str, &str)] = &[(
    "github-deployment",
    "false",
    "in a workflow the job's `environment:` usually records the deployment already",
)];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `actions/*/action.yml` (or `.yaml`), by action directory name.
fn action_files() -> Vec<(String, PathBuf)> {
    let dir = repo_root().join("actions");
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display())) {
        let path = entry.expect("directory entry").path();
        for file in ["action.yml", "action.yaml"] {
            if path.join(file).is_file() {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                found.push((name, path.join(file)));
            }
        }
    }
    found.sort();
    found
}

fn load(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    deckhand_core::document::parse_document(path, &text).unwrap_or_else(|e| panic!("parse {e}"))
}

/// The `DECKHAND_*` variables read by the flags of `deckhand <command...>` (its own flags and
/// the global ones), each with the flag's default value if it has one.
fn flag_envs(command: &[&str]) -> BTreeMap<String, Option<String>> {
    let mut cli = deckhand::cli::Cli::command();
    // Building propagates the global flags into the subcommands and fills implicit defaults.
    cli.build();
    let mut cmd = &cli;
    for name in command {
        cmd = cmd
            .find_subcommand(name)
            .unwrap_or_else(|| panic!("`deckhand {}` has no such subcommand", command.join(" ")));
    }
    cmd.get_arguments()
        .filter_map(|arg| {
            let env = arg.get_env()?.to_string_lossy().into_owned();
            let default = arg
                .get_default_values()
                .first()
                .map(|v| v.to_string_lossy().into_owned());
            Some((env, default))
        })
        .collect()
}

/// The `${{ ... }}` expressions in `text`, trimmed.
fn expressions(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${{") {
        let after = &rest[start + 3..];
        let Some(end) = after.find("}}") else {
            out.push(after.trim().to_string());
            break;
        };
        out.push(after[..end].trim().to_string());
        rest = &after[end + 2..];
    }
    out
}

/// True when `expr` reads any input, in any notation.
fn mentions_inputs(expr: &str) -> bool {
    expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .any(|word| word == "inputs")
}

/// The input names `expr` reads as `inputs.NAME`.
fn inputs_read(expr: &str) -> Vec<String> {
    expr.match_indices("inputs.")
        .filter(|(i, _)| {
            !expr[..*i]
                .ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
        })
        .map(|(i, m)| {
            expr[i + m.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect()
        })
        .collect()
}

/// True when some expression in `text` reads input `name`.
fn reads_input(text: &str, name: &str) -> bool {
    expressions(text)
        .iter()
        .any(|e| inputs_read(e).iter().any(|n| n == name))
}

/// `NAME` when `value` is exactly `${{ inputs.NAME }}`.
fn input_passthrough(value: &str) -> Option<String> {
    let v = value.trim();
    let inner = v.strip_prefix("${{")?.strip_suffix("}}")?.trim();
    let name = inner.strip_prefix("inputs.")?;
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    valid.then(|| name.to_string())
}

/// True when `script` reads the shell variable `name`.
fn reads_var(script: &str, name: &str) -> bool {
    script.contains(&format!("${{{name}}}"))
        || script.contains(&format!("${{{name}:"))
        || script.match_indices(&format!("${name}")).any(|(i, m)| {
            !script[i + m.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        })
}

fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// One step of `runs.steps`, as far as the contract cares.
struct Step {
    id: Option<String>,
    /// `name:`, for steps without an id.
    name: Option<String>,
    /// `if:`.
    condition: Option<String>,
    /// `with:`, when the step `uses:` an action.
    with: BTreeMap<String, String>,
    env: Vec<(String, String)>,
    run: Option<String>,
    /// Every string in the step except its `run:` (for stray `inputs` references).
    other_text: Vec<String>,
}

fn steps(action: &Value) -> Vec<Step> {
    let mut out = Vec::new();
    for step in action["runs"]["steps"].as_array().into_iter().flatten() {
        let env = step["env"]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), as_text(v))).collect())
            .unwrap_or_default();
        let mut other_text = Vec::new();
        if let Some(map) = step.as_object() {
            for (k, v) in map {
                if k != "run" && k != "env" {
                    collect_strings(v, &mut other_text);
                }
            }
        }
        let with = step["with"]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), as_text(v))).collect())
            .unwrap_or_default();
        out.push(Step {
            id: step["id"].as_str().map(str::to_string),
            name: step["name"].as_str().map(str::to_string),
            condition: step["if"].as_str().map(|c| c.trim().to_string()),
            with,
            env,
            run: step["run"].as_str().map(str::to_string),
            other_text,
        });
    }
    out
}

fn collect_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        Value::Object(m) => m.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}

/// Everything wrong with `action` against `contract`; empty when it holds.
fn check(contract: &Contract, action: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let command = contract.command.join(" ");
    let flags = flag_envs(contract.command);
    let steps = steps(action);

    if action["runs"]["using"].as_str() != Some("composite") {
        problems.push("runs.using must be `composite`".to_string());
    }

    // Every DECKHAND_* variable a step sets must be read by a flag of the command, and a step
    // that sets any must run that command.
    for step in &steps {
        let deckhand_keys: Vec<&str> = step
            .env
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| k.starts_with("DECKHAND_"))
            .collect();
        for key in &deckhand_keys {
            if !flags.contains_key(*key) {
                problems.push(format!(
                    "env `{key}` is not read by any flag of `deckhand {command}`"
                ));
            }
        }
        // `"${deckhand}" ecs deploy` (a comment that names the command does not count).
        if !deckhand_keys.is_empty()
            && !step
                .run
                .as_deref()
                .is_some_and(|r| runs_command(r, &command))
        {
            problems.push(format!(
                "the step that sets {deckhand_keys:?} does not run `{command}`"
            ));
        }
    }

    // Every step that runs the binary gets it from the installer, with both of its inputs.
    for step in &steps {
        let Some(run) = &step.run else { continue };
        if !run.contains("\"${deckhand}\"") {
            continue;
        }
        let label = step.id.as_deref().or(step.name.as_deref()).unwrap_or("?");
        if !run.contains(INSTALLER_CALL) {
            problems.push(format!(
                "step `{label}` runs \"${{deckhand}}\" without `{INSTALLER_CALL}`"
            ));
        }
        for (input, key) in INSTALLER_INPUTS {
            let passed = step
                .env
                .iter()
                .any(|(k, v)| k == key && input_passthrough(v).as_deref() == Some(*input));
            if !passed {
                problems.push(format!(
                    "step `{label}` runs deckhand without `{key}: ${{{{ inputs.{input} }}}}` in its env (the installer reads it)"
                ));
            }
        }
    }

    // (b) no input inside a script.
    for step in &steps {
        if let Some(run) = &step.run {
            for expr in expressions(run).iter().filter(|e| mentions_inputs(e)) {
                problems.push(format!(
                    "`${{{{ {expr} }}}}` inside a `run:` script; pass the input through `env:`"
                ));
            }
        }
    }

    // (a) every input reaches the binary through `env:`.
    let inputs: BTreeMap<String, Value> = action["inputs"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    for (name, spec) in &inputs {
        // Exact pass-throughs into a step's env: (step, env key).
        let mut refs: Vec<(&Step, &str)> = Vec::new();
        for step in &steps {
            for (key, value) in &step.env {
                if input_passthrough(value).as_deref() == Some(name.as_str()) {
                    refs.push((step, key));
                } else if reads_input(value, name) {
                    problems.push(format!(
                        "env `{key}` computes from input `{name}`; pass it through unchanged as `${{{{ inputs.{name} }}}}` and let the binary decide"
                    ));
                }
            }
            let handed_on = contract.with_inputs.iter().any(|(input, id, key)| {
                input == name
                    && step.id.as_deref() == Some(*id)
                    && step
                        .with
                        .get(*key)
                        .and_then(|v| input_passthrough(v))
                        .as_deref()
                        == Some(name.as_str())
            });
            for text in &step.other_text {
                if reads_input(text, name) && !handed_on {
                    problems.push(format!("input `{name}` is used outside `env:` (`{text}`)"));
                }
            }
        }
        let script_of = |step: &Step| step.run.clone().unwrap_or_default();
        let combined_into = contract
            .combined
            .iter()
            .find(|(input, _)| input == name)
            .map(|(_, var)| *var);

        let ok = if contract.build_inputs.contains(&name.as_str()) {
            refs.iter().any(|(step, key)| {
                let script = script_of(step);
                !key.starts_with("DECKHAND_")
                    && script.contains("ecr prepare")
                    && reads_var(&script, key)
            })
        } else if let Some((_, id, key)) = contract.with_inputs.iter().find(|(i, ..)| i == name) {
            steps.iter().any(|step| {
                step.id.as_deref() == Some(*id)
                    && step.run.is_none()
                    && step
                        .with
                        .get(*key)
                        .and_then(|v| input_passthrough(v))
                        .as_deref()
                        == Some(name.as_str())
            })
        } else if let Some((_, var)) = INSTALLER_INPUTS.iter().find(|(i, _)| i == name) {
            refs.iter()
                .any(|(step, key)| key == var && script_of(step).contains(INSTALLER_CALL))
        } else if name == GITHUB_TOKEN_INPUT {
            refs.iter().any(|(step, key)| {
                let script = script_of(step);
                !key.starts_with("DECKHAND_")
                    && reads_var(&script, key)
                    && script.contains(&format!("export GITHUB_TOKEN=\"${{{key}}}\""))
            })
        } else if let Some(var) = combined_into {
            if !flags.contains_key(var) {
                problems.push(format!(
                    "input `{name}` is combined into `{var}`, which no flag of `deckhand {command}` reads"
                ));
            }
            refs.iter().any(|(step, key)| {
                let script = script_of(step);
                !key.starts_with("DECKHAND_")
                    && reads_var(&script, key)
                    && script.contains(&format!("{var}="))
            })
        } else {
            let mut ok = false;
            for (step, key) in &refs {
                if let Some(default) = flags.get(*key) {
                    ok |= step.run.is_some();
                    let action_default = spec.get("default").map(as_text).unwrap_or_default();
                    let deliberate = DELIBERATE_DEFAULTS
                        .iter()
                        .any(|(i, d, _)| i == name && *d == action_default);
                    if let Some(flag_default) = default
                        && !action_default.is_empty()
                        && &action_default != flag_default
                        && !deliberate
                    {
                        problems.push(format!(
                            "input `{name}` defaults to `{action_default}` but `{key}` defaults to `{flag_default}` in the binary"
                        ));
                    }
                }
            }
            ok
        };
        if !ok {
            problems.push(format!(
                "input `{name}` does not reach `deckhand {command}` through a step's `env:` \
                 (expected `SOME_DECKHAND_VAR: ${{{{ inputs.{name} }}}}` with a variable a flag reads)"
            ));
        }
    }

    // (c) outputs mirror the binary's.
    let run_step_ids: BTreeSet<String> = steps
        .iter()
        .filter(|s| s.run.is_some())
        .filter_map(|s| s.id.clone())
        .collect();
    let outputs: BTreeMap<String, Value> = action["outputs"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    for (key, spec) in &outputs {
        let value = spec["value"]
            .as_str()
            .unwrap_or_default()
            .trim()
            .to_string();
        let inner = value
            .strip_prefix("${{")
            .and_then(|v| v.strip_suffix("}}"))
            .map(str::trim);
        let parts: Option<(String, String)> = inner.and_then(|i| {
            let rest = i.strip_prefix("steps.")?;
            let (step, output) = rest.split_once(".outputs.")?;
            Some((step.to_string(), output.to_string()))
        });
        match parts {
            None => problems.push(format!(
                "output `{key}` is `{value}`, not `${{{{ steps.<id>.outputs.<name> }}}}`"
            )),
            Some((step, output))
                if contract
                    .script_outputs
                    .iter()
                    .any(|(o, id)| *o == key.as_str() && *id == step) =>
            {
                let script = steps
                    .iter()
                    .find(|s| s.id.as_deref() == Some(step.as_str()))
                    .and_then(|s| s.run.clone())
                    .unwrap_or_default();
                let writes = script
                    .lines()
                    .any(|l| l.contains(&format!("{key}=")) && l.contains("GITHUB_OUTPUT"));
                if output != *key || !writes {
                    problems.push(format!(
                        "output `{key}` must be written as `{key}=` by the script of step `{step}`"
                    ));
                }
            }
            Some((step, output)) => {
                if !contract.outputs.contains(&output.as_str()) {
                    problems.push(format!(
                        "output `{key}` reads `{output}`, which `deckhand {command}` does not write (it writes {:?})",
                        contract.outputs
                    ));
                }
                if output != *key {
                    problems.push(format!(
                        "output `{key}` reads `{output}`; name it as the binary does"
                    ));
                }
                if !run_step_ids.contains(&step) {
                    problems.push(format!(
                        "output `{key}` reads step `{step}`, which is not a `run:` step of this action"
                    ));
                }
            }
        }
    }
    for (name, _) in contract.script_outputs {
        if !outputs.contains_key(*name) {
            problems.push(format!(
                "the action's script writes output `{name}` but the action does not expose it"
            ));
        }
    }

    // (d) the optional build's steps run only when prep says to build.
    for wanted in contract.build_steps {
        let step = steps
            .iter()
            .find(|s| s.id.as_deref() == Some(*wanted) || s.name.as_deref() == Some(*wanted));
        match step {
            None => problems.push(format!("no build step `{wanted}`")),
            Some(step) if step.condition.as_deref() != Some(BUILD_IF) => problems.push(format!(
                "build step `{wanted}` has `if: {}`, not `if: {BUILD_IF}`",
                step.condition.as_deref().unwrap_or("(none)")
            )),
            Some(_) => {}
        }
    }

    for name in contract.outputs {
        if !outputs.contains_key(*name) {
            problems.push(format!(
                "`deckhand {command}` writes output `{name}` but the action does not expose it"
            ));
        }
    }
    problems
}

fn contract_for(action: &str) -> Option<&'static Contract> {
    CONTRACTS.iter().find(|c| c.action == action)
}

fn node_contract_for(action: &str) -> Option<&'static NodeContract> {
    NODE_CONTRACTS.iter().find(|c| c.action == action)
}

/// The `input: 'VARIABLE'` pairs of `const FLAG_INPUTS = { ... };` in a JavaScript action.
fn flag_inputs_table(main: &str) -> Option<Vec<(String, String)>> {
    let start = main.find("const FLAG_INPUTS = {")?;
    let body = &main[start..];
    let body = &body[body.find('{')? + 1..body.find("};")?];
    Some(
        body.lines()
            .filter_map(|l| {
                let (key, value) = l.trim().trim_end_matches(',').split_once(':')?;
                let unquote =
                    |t: &str| t.trim().trim_matches(|c| c == '\'' || c == '"').to_string();
                Some((unquote(key), unquote(value)))
            })
            .collect(),
    )
}

/// The modules `main` requires (`require('m')`) or imports (`import ... from 'm'`), comments
/// left out.
fn required_modules(main: &str) -> Vec<String> {
    let mut found = Vec::new();
    let quoted = |rest: &str| {
        let rest = rest.trim_start();
        let quote = rest
            .chars()
            .next()
            .filter(|c| matches!(c, '\'' | '"' | '`'))?;
        rest[1..]
            .find(quote)
            .map(|end| rest[1..1 + end].to_string())
    };
    for line in main.lines().map(str::trim_start) {
        if line.starts_with("//") {
            continue;
        }
        for (i, m) in line.match_indices("require(") {
            found.extend(quoted(&line[i + m.len()..]));
        }
        if let Some(imported) = line.strip_prefix("import ") {
            match imported.rfind(" from ") {
                Some(i) => found.extend(quoted(&imported[i + 6..])),
                None => found.extend(quoted(imported)),
            }
        }
    }
    found
}

/// Everything wrong with a JavaScript action (`action`, its `main` file's text) against
/// `contract`; empty when it holds.
fn check_node(contract: &NodeContract, action: &Value, main: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let command = contract.command.join(" ");
    if action["runs"]["using"].as_str() != Some(NODE_RUNTIME) {
        problems.push(format!(
            "runs.using must be `{NODE_RUNTIME}`: a composite action exposes only the outputs it declares, never the per-filter ones"
        ));
    }
    if action["runs"]["main"].as_str() != Some("index.js") {
        problems.push("runs.main must be `index.js`".to_string());
    }
    for module in required_modules(main) {
        if !module.starts_with("node:") {
            problems.push(format!(
                "index.js requires `{module}`: only Node's own `node:` modules (nothing is installed or bundled)"
            ));
        }
    }
    let runs_it = format!(
        "[{}]",
        contract
            .command
            .iter()
            .map(|c| format!("'{c}'"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if !main.contains(&format!("spawnSync(bin, {runs_it}")) {
        problems.push(format!("index.js does not run `deckhand {command}`"));
    }
    let flags = flag_envs(contract.command);
    let Some(table) = flag_inputs_table(main) else {
        problems.push("index.js has no `const FLAG_INPUTS = { ... };` table".to_string());
        return problems;
    };
    let inputs: BTreeMap<String, Value> = action["inputs"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    for (input, variable) in &table {
        if !inputs.contains_key(input) {
            problems.push(format!(
                "FLAG_INPUTS maps `{input}`, which action.yml does not declare"
            ));
        }
        match flags.get(variable) {
            None => problems.push(format!(
                "FLAG_INPUTS maps input `{input}` to `{variable}`, which no flag of `deckhand {command}` reads"
            )),
            Some(flag_default) => {
                let action_default = inputs
                    .get(input)
                    .and_then(|spec| spec.get("default"))
                    .map(as_text)
                    .unwrap_or_default();
                if let Some(flag_default) = flag_default
                    && !action_default.is_empty()
                    && &action_default != flag_default
                {
                    problems.push(format!(
                        "input `{input}` defaults to `{action_default}` but `{variable}` defaults to `{flag_default}` in the binary"
                    ));
                }
            }
        }
    }
    for name in inputs.keys() {
        if let Some((_, usage)) = contract.other_inputs.iter().find(|(i, _)| i == name) {
            if !main.contains(&format!("input('{name}')")) || !main.contains(usage) {
                problems.push(format!(
                    "input `{name}` is not used by index.js as it must be (`input('{name}')`, `{usage}`)"
                ));
            }
        } else if !table.iter().any(|(i, _)| i == name) {
            problems.push(format!(
                "input `{name}` does not reach `deckhand {command}`: add it to FLAG_INPUTS with the variable its flag reads"
            ));
        }
    }
    let outputs: BTreeMap<String, Value> = action["outputs"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    for (name, spec) in &outputs {
        if !contract.outputs.contains(&name.as_str()) {
            problems.push(format!(
                "output `{name}` is not one `deckhand {command}` always writes ({:?})",
                contract.outputs
            ));
        }
        if spec.get("value").is_some() {
            problems.push(format!(
                "output `{name}` has a `value:`: a JavaScript action's outputs are what the binary writes"
            ));
        }
    }
    for name in contract.outputs {
        if !outputs.contains_key(*name) {
            problems.push(format!(
                "`deckhand {command}` writes output `{name}` but the action does not declare it"
            ));
        }
    }
    problems
}

/// A JavaScript action's `action.yml` and `main` file.
fn load_node(action: &str) -> (Value, String) {
    let dir = repo_root().join(format!("actions/{action}"));
    let action_yml = load(&dir.join("action.yml"));
    let main_file = action_yml["runs"]["main"].as_str().unwrap_or("index.js");
    let main = std::fs::read_to_string(dir.join(main_file))
        .unwrap_or_else(|e| panic!("read actions/{action}/{main_file}: {e}"));
    (action_yml, main)
}

#[test]
fn every_action_keeps_its_contract() {
    let files = action_files();
    // A contract without its action would make this test pass on nothing.
    for contract in CONTRACTS {
        assert!(
            files.iter().any(|(name, _)| name == contract.action),
            "actions/{}/action.yml not found under {}",
            contract.action,
            repo_root().display()
        );
    }
    for contract in NODE_CONTRACTS {
        assert!(
            files.iter().any(|(name, _)| name == contract.action),
            "actions/{}/action.yml not found",
            contract.action
        );
    }
    let mut problems = Vec::new();
    for (name, path) in &files {
        if let Some(contract) = node_contract_for(name) {
            let (action, main) = load_node(name);
            for p in check_node(contract, &action, &main) {
                problems.push(format!("actions/{name}: {p}"));
            }
            continue;
        }
        let Some(contract) = contract_for(name) else {
            problems.push(format!(
                "actions/{name}: no contract in {}: add which command it runs and which outputs it mirrors",
                file!()
            ));
            continue;
        };
        for p in check(contract, &load(path)) {
            problems.push(format!("actions/{name}: {p}"));
        }
    }
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}

#[test]
fn the_flag_walk_sees_command_and_global_flags() {
    let flags = flag_envs(&["ecs", "deploy"]);
    for env in [
        "DECKHAND_CLUSTER",
        "DECKHAND_IMAGE",
        "DECKHAND_ROLLBACK",
        "DECKHAND_REGION",
    ] {
        assert!(flags.contains_key(env), "{env} missing from {flags:?}");
    }
    assert!(
        !flags.contains_key("DECKHAND_TO"),
        "`--to` belongs to `ecs rollback`"
    );
    assert_eq!(flags["DECKHAND_TIMEOUT"].as_deref(), Some("15m"));

    let flags = flag_envs(&["site", "deploy"]);
    for env in [
        "DECKHAND_DIR",
        "DECKHAND_BUCKET",
        "DECKHAND_DISTRIBUTION_ID",
        "DECKHAND_DRY_RUN",
        "DECKHAND_REGION",
    ] {
        assert!(flags.contains_key(env), "{env} missing from {flags:?}");
    }
    assert!(
        !flags.contains_key("DECKHAND_CLUSTER"),
        "`--cluster` belongs to `ecs deploy`"
    );
    assert_eq!(flags["DECKHAND_WAIT_TIMEOUT"].as_deref(), Some("15m"));
    assert_eq!(flags["DECKHAND_KEEP_PREVIOUS"].as_deref(), Some("1"));
}

#[test]
fn contracts_name_distinct_actions_and_commands() {
    let actions: BTreeSet<&str> = CONTRACTS.iter().map(|c| c.action).collect();
    let commands: BTreeSet<String> = CONTRACTS.iter().map(|c| c.command.join(" ")).collect();
    assert_eq!(
        actions.len(),
        CONTRACTS.len(),
        "an action has two contracts"
    );
    assert_eq!(
        commands.len(),
        CONTRACTS.len(),
        "two actions run one command"
    );
}

// Each rule, shown to fail on a broken copy of the real action.yml.

/// The contract of `action` and its real `action.yml`, which must pass before it is broken.
fn real(action: &str) -> (&'static Contract, Value) {
    let contract = contract_for(action).unwrap_or_else(|| panic!("{action} contract"));
    let action_yml = load(&repo_root().join(format!("actions/{action}/action.yml")));
    let problems = check(contract, &action_yml);
    assert!(
        problems.is_empty(),
        "the real actions/{action}/action.yml must pass before it is broken: {problems:#?}"
    );
    (contract, action_yml)
}

fn ecs_deploy() -> (&'static Contract, Value) {
    real("ecs-deploy")
}

fn static_site() -> (&'static Contract, Value) {
    real("static-site")
}

fn deploy_step(action: &mut Value) -> &mut Value {
    action["runs"]["steps"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|s| s["id"] == "deploy")
        .expect("step `deploy`")
}

fn assert_caught(contract: &Contract, action: &Value, needle: &str) {
    let problems = check(contract, action);
    assert!(
        problems.iter().any(|p| p.contains(needle)),
        "expected a problem containing {needle:?}, got {problems:#?}"
    );
}

#[test]
fn mutation_input_inside_a_script_is_caught() {
    let (contract, mut action) = ecs_deploy();
    let step = deploy_step(&mut action);
    let run = step["run"].as_str().unwrap().to_string();
    step["run"] = Value::String(format!("echo \"${{{{ inputs.cluster }}}}\"\n{run}"));
    assert_caught(contract, &action, "inside a `run:` script");
}

#[test]
fn mutation_input_not_passed_is_caught() {
    let (contract, mut action) = ecs_deploy();
    deploy_step(&mut action)["env"]
        .as_object_mut()
        .unwrap()
        .remove("DECKHAND_TIMEOUT");
    assert_caught(contract, &action, "input `timeout` does not reach");
}

#[test]
fn mutation_input_under_a_name_no_flag_reads_is_caught() {
    let (contract, mut action) = ecs_deploy();
    let env = deploy_step(&mut action)["env"].as_object_mut().unwrap();
    let v = env.remove("DECKHAND_MAX_TASK_FAILURES").unwrap();
    env.insert("DECKHAND_MAX_FAILURES".into(), v);
    assert_caught(
        contract,
        &action,
        "`DECKHAND_MAX_FAILURES` is not read by any flag",
    );
    assert_caught(
        contract,
        &action,
        "input `max-task-failures` does not reach",
    );
}

#[test]
fn mutation_input_the_action_declares_but_never_uses_is_caught() {
    let (contract, mut action) = ecs_deploy();
    action["inputs"]["wait-for-service-stability"] =
        serde_json::json!({"description": "unused", "default": "true"});
    assert_caught(
        contract,
        &action,
        "input `wait-for-service-stability` does not reach",
    );
}

#[test]
fn mutation_combined_input_not_reaching_deckhand_image_is_caught() {
    let (contract, mut action) = ecs_deploy();
    let step = deploy_step(&mut action);
    let run = step["run"]
        .as_str()
        .unwrap()
        .replace("DECKHAND_IMAGE=", "IMAGES_FOR_LATER=");
    step["run"] = Value::String(run);
    assert_caught(contract, &action, "input `image` does not reach");
}

#[test]
fn mutation_default_drifting_from_the_binary_is_caught() {
    let (contract, mut action) = ecs_deploy();
    action["inputs"]["timeout"]["default"] = Value::String("10m".into());
    assert_caught(contract, &action, "defaults to `10m`");
}

#[test]
fn mutation_output_missing_or_misnamed_is_caught() {
    let (contract, mut action) = ecs_deploy();
    let outputs = action["outputs"].as_object_mut().unwrap();
    outputs.remove("deployment-id");
    outputs["verdict"]["value"] = Value::String("${{ steps.deploy.outputs.result }}".into());
    assert_caught(
        contract,
        &action,
        "writes output `deployment-id` but the action does not expose it",
    );
    assert_caught(
        contract,
        &action,
        "reads `result`, which `deckhand ecs deploy` does not write",
    );
}

#[test]
fn mutation_output_not_from_a_step_is_caught() {
    let (contract, mut action) = ecs_deploy();
    action["outputs"]["exit-code"]["value"] = Value::String("${{ inputs.rollback }}".into());
    assert_caught(
        contract,
        &action,
        "output `exit-code` is `${{ inputs.rollback }}`",
    );
}

// The same rules on every action, so a new action cannot pass by having its rules missed.

/// A contract with its real action.yml.
struct RealAction {
    contract: &'static Contract,
    action: Value,
    /// The inputs that pass straight through into a `DECKHAND_*` variable of the `deploy`
    /// step: (input, variable).
    passthroughs: Vec<(String, String)>,
}

fn every_real_action() -> Vec<RealAction> {
    CONTRACTS
        .iter()
        .map(|c| {
            let (contract, mut action) = real(c.action);
            let passthroughs: Vec<(String, String)> = deploy_step(&mut action)["env"]
                .as_object()
                .expect("step `deploy` has env")
                .iter()
                .filter(|(key, _)| key.starts_with("DECKHAND_"))
                .filter_map(|(key, value)| {
                    let input = input_passthrough(value.as_str()?)?;
                    Some((input, key.clone()))
                })
                .collect();
            assert!(
                !passthroughs.is_empty(),
                "actions/{}: no input passes into a DECKHAND_* variable",
                c.action
            );
            RealAction {
                contract,
                action,
                passthroughs,
            }
        })
        .collect()
}

#[test]
fn mutation_every_action_catches_an_input_inside_its_script() {
    for RealAction {
        contract,
        mut action,
        passthroughs,
    } in every_real_action()
    {
        for (input, _) in &passthroughs {
            let mut broken = action.clone();
            let step = deploy_step(&mut broken);
            let run = step["run"].as_str().unwrap().to_string();
            step["run"] = Value::String(format!("echo \"${{{{ inputs.{input} }}}}\"\n{run}"));
            assert_caught(contract, &broken, "inside a `run:` script");
        }
        // Any notation of `inputs` counts, not only `inputs.NAME`.
        let step = deploy_step(&mut action);
        let run = step["run"].as_str().unwrap().to_string();
        step["run"] = Value::String(format!("echo \"${{{{ toJSON(inputs) }}}}\"\n{run}"));
        assert_caught(contract, &action, "inside a `run:` script");
    }
}

#[test]
fn mutation_every_action_catches_each_input_not_passed() {
    for RealAction {
        contract,
        action,
        passthroughs,
    } in every_real_action()
    {
        for (input, key) in &passthroughs {
            let mut broken = action.clone();
            deploy_step(&mut broken)["env"]
                .as_object_mut()
                .unwrap()
                .remove(key);
            assert_caught(
                contract,
                &broken,
                &format!("input `{input}` does not reach"),
            );
        }
    }
}

#[test]
fn mutation_every_action_catches_each_output_missing() {
    for RealAction {
        contract, action, ..
    } in every_real_action()
    {
        for output in contract.outputs {
            let mut broken = action.clone();
            broken["outputs"].as_object_mut().unwrap().remove(*output);
            assert_caught(
                contract,
                &broken,
                &format!("writes output `{output}` but the action does not expose it"),
            );
        }
    }
}

#[test]
fn mutation_every_action_catches_running_another_command() {
    for RealAction {
        contract,
        mut action,
        ..
    } in every_real_action()
    {
        let command = contract.command.join(" ");
        let other = CONTRACTS
            .iter()
            .map(|c| c.command.join(" "))
            .find(|c| *c != command)
            .expect("a second contract");
        let step = deploy_step(&mut action);
        let run = step["run"].as_str().unwrap().replace(
            &format!("\"${{deckhand}}\" {command}"),
            &format!("\"${{deckhand}}\" {other}"),
        );
        assert_ne!(
            step["run"].as_str().unwrap(),
            run,
            "actions/{}: the script does not run `\"${{deckhand}}\" {command}`",
            contract.action
        );
        step["run"] = Value::String(run);
        assert_caught(contract, &action, &format!("does not run `{command}`"));
    }
}

#[test]
fn mutation_static_site_default_drifting_from_the_binary_is_caught() {
    let (contract, mut action) = static_site();
    action["inputs"]["wait-timeout"]["default"] = Value::String("10m".into());
    action["inputs"]["keep-previous"]["default"] = Value::String("3".into());
    assert_caught(contract, &action, "input `wait-timeout` defaults to `10m`");
    assert_caught(contract, &action, "input `keep-previous` defaults to `3`");
}

#[test]
fn mutation_static_site_ecs_only_variable_is_caught() {
    // A variable of another command's flag is a typo here, even though the binary knows it.
    let (contract, mut action) = static_site();
    deploy_step(&mut action)["env"]
        .as_object_mut()
        .unwrap()
        .insert(
            "DECKHAND_CLUSTER".into(),
            Value::String("${{ inputs.bucket }}".into()),
        );
    assert_caught(
        contract,
        &action,
        "env `DECKHAND_CLUSTER` is not read by any flag of `deckhand site deploy`",
    );
}

#[test]
fn mutation_build_input_not_reaching_the_prep_step_is_caught() {
    let (contract, mut action) = ecs_deploy();
    let prep = action["runs"]["steps"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|s| s["id"] == "prep")
        .expect("step `prep`");
    prep["env"]
        .as_object_mut()
        .unwrap()
        .remove("INPUT_BUILD_REPOSITORY");
    assert_caught(contract, &action, "input `build-repository` does not reach");
}

#[test]
fn mutation_build_steps_without_their_condition_are_caught() {
    for (id, needle) in [
        ("build", "build step `build` has `if: (none)`"),
        ("login", "build step `login` has `if: (none)`"),
    ] {
        let (contract, mut action) = ecs_deploy();
        let step = action["runs"]["steps"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|s| s["id"] == id)
            .unwrap();
        step.as_object_mut().unwrap().remove("if");
        assert_caught(contract, &action, needle);
    }
    // The old condition built even when prep found the image already there.
    let (contract, mut action) = ecs_deploy();
    for step in action["runs"]["steps"].as_array_mut().unwrap() {
        if step["if"].is_string() {
            step["if"] = Value::String("steps.prep.outputs.enabled == 'true'".into());
        }
    }
    assert_caught(
        contract,
        &action,
        "has `if: steps.prep.outputs.enabled == 'true'`",
    );
}

#[test]
fn mutation_build_inputs_handed_to_build_push_action_are_checked() {
    let (contract, mut action) = ecs_deploy();
    let build = action["runs"]["steps"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|s| s["id"] == "build")
        .unwrap();
    build["with"].as_object_mut().unwrap().remove("secrets");
    build["with"]["target"] = Value::String("${{ inputs.build-target || 'prod' }}".into());
    assert_caught(contract, &action, "input `build-secrets` does not reach");
    assert_caught(
        contract,
        &action,
        "input `build-target` is used outside `env:`",
    );
}

#[test]
fn mutation_image_outputs_not_written_by_the_deploy_script_are_caught() {
    let (contract, mut action) = ecs_deploy();
    let step = deploy_step(&mut action);
    let run = step["run"]
        .as_str()
        .unwrap()
        .replace("image=%s", "built=%s");
    step["run"] = Value::String(run);
    assert_caught(
        contract,
        &action,
        "output `image` must be written as `image=` by the script of step `deploy`",
    );
    let (contract, mut action) = ecs_deploy();
    action["outputs"].as_object_mut().unwrap().remove("digest");
    assert_caught(contract, &action, "writes output `digest` but the action");
}

#[test]
fn mutation_github_token_not_reaching_the_binary_is_caught() {
    let mut checked = 0;
    for RealAction {
        contract, action, ..
    } in every_real_action()
    {
        if action["inputs"].get(GITHUB_TOKEN_INPUT).is_none() {
            continue;
        }
        checked += 1;
        let mut broken = action.clone();
        let step = deploy_step(&mut broken);
        let run = step["run"].as_str().unwrap().to_string();
        let export = r#"export GITHUB_TOKEN="${INPUT_GITHUB_TOKEN}""#;
        assert!(run.contains(export), "{}", contract.action);
        step["run"] = Value::String(run.replace(export, ":"));
        assert_caught(contract, &broken, "input `github-token` does not reach");
    }
    assert_eq!(
        checked, 4,
        "ecs-deploy, static-site and nginx-image (deployment records) and pr-comment"
    );
}

#[test]
fn mutation_github_deployment_default_other_than_the_deliberate_one_is_caught() {
    let (contract, mut action) = static_site();
    action["inputs"]["github-deployment"]["default"] = Value::String("no".into());
    assert_caught(
        contract,
        &action,
        "input `github-deployment` defaults to `no` but `DECKHAND_GITHUB_DEPLOYMENT` defaults to `true`",
    );
}

// The JavaScript action's rules, each shown to fail on a broken copy of the real one.

fn real_node(action: &str) -> (&'static NodeContract, Value, String) {
    let contract = node_contract_for(action).unwrap_or_else(|| panic!("{action} contract"));
    let (action_yml, main) = load_node(action);
    let problems = check_node(contract, &action_yml, &main);
    assert!(
        problems.is_empty(),
        "the real actions/{action} must pass before it is broken: {problems:#?}"
    );
    (contract, action_yml, main)
}

fn assert_node_caught(contract: &NodeContract, action: &Value, main: &str, needle: &str) {
    let problems = check_node(contract, action, main);
    assert!(
        problems.iter().any(|p| p.contains(needle)),
        "expected a problem containing {needle:?}, got {problems:#?}"
    );
}

#[test]
fn mutation_changes_as_a_composite_action_is_caught() {
    let (contract, mut action, main) = real_node("changes");
    action["runs"] = serde_json::json!({"using": "composite", "steps": []});
    assert_node_caught(contract, &action, &main, "a composite action exposes only");
}

#[test]
fn mutation_changes_input_missing_from_the_table_is_caught() {
    let (contract, action, main) = real_node("changes");
    for (input, variable) in flag_inputs_table(&main).unwrap() {
        let line = if input.contains('-') {
            format!("  '{input}': '{variable}',\n")
        } else {
            format!("  {input}: '{variable}',\n")
        };
        assert!(main.contains(&line), "{line:?} not in index.js");
        let broken = main.replace(&line, "");
        assert_node_caught(
            contract,
            &action,
            &broken,
            &format!("input `{input}` does not reach"),
        );
    }
}

#[test]
fn mutation_changes_variable_no_flag_reads_is_caught() {
    let (contract, action, main) = real_node("changes");
    let broken = main.replace("'DECKHAND_LIST_FILES'", "'DECKHAND_LIST'");
    assert_node_caught(
        contract,
        &action,
        &broken,
        "which no flag of `deckhand changes` reads",
    );
}

#[test]
fn mutation_changes_default_drifting_from_the_binary_is_caught() {
    let (contract, mut action, main) = real_node("changes");
    action["inputs"]["initial-fetch-depth"]["default"] = Value::String("50".into());
    assert_node_caught(contract, &action, &main, "defaults to `50`");
}

#[test]
fn mutation_changes_dependency_or_other_command_or_token_on_argv_is_caught() {
    let (contract, action, main) = real_node("changes");
    let broken = main.replace(
        "const path = require('node:path');",
        "const path = require('node:path');\nconst core = require('@actions/core');",
    );
    assert_node_caught(contract, &action, &broken, "requires `@actions/core`");
    let broken = main.replace("['changes']", "['dispatch']");
    assert_node_caught(
        contract,
        &action,
        &broken,
        "does not run `deckhand changes`",
    );
    let broken = main.replace("env.GITHUB_TOKEN = token", "args.push(token)");
    assert_node_caught(contract, &action, &broken, "input `token` is not used");
}

#[test]
fn mutation_changes_output_with_a_value_or_missing_is_caught() {
    let (contract, mut action, main) = real_node("changes");
    action["outputs"]["changes"]["value"] = Value::String("${{ steps.x.outputs.changes }}".into());
    assert_node_caught(contract, &action, &main, "has a `value:`");
    action["outputs"].as_object_mut().unwrap().remove("filters");
    assert_node_caught(contract, &action, &main, "writes output `filters`");
}
#[test]
fn mutation_every_step_running_deckhand_without_the_installer_or_its_inputs_is_caught() {
    for RealAction {
        contract, action, ..
    } in every_real_action()
    {
        // The binary from anywhere else (a copy of old habits: a fixed path, `docker run`).
        let mut broken = action.clone();
        let step = deploy_step(&mut broken);
        let run = step["run"]
            .as_str()
            .unwrap()
            .replace(INSTALLER_CALL, "deckhand=/usr/local/bin/deckhand");
        step["run"] = Value::String(run);
        assert_caught(contract, &broken, "without `deckhand=");

        for (input, key) in INSTALLER_INPUTS {
            let mut broken = action.clone();
            deploy_step(&mut broken)["env"]
                .as_object_mut()
                .unwrap()
                .remove(*key);
            assert_caught(
                contract,
                &broken,
                &format!("runs deckhand without `{key}: ${{{{ inputs.{input} }}}}`"),
            );
        }
    }
    // The other steps of ecs-deploy that run deckhand (ecr prepare, ecr login) too.
    for id in ["prep", "login"] {
        let (contract, mut action) = ecs_deploy();
        let step = action["runs"]["steps"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|s| s["id"] == id)
            .unwrap();
        step["env"]
            .as_object_mut()
            .unwrap()
            .remove("INPUT_DECKHAND_PATH");
        assert_caught(
            contract,
            &action,
            &format!("step `{id}` runs deckhand without `INPUT_DECKHAND_PATH"),
        );
    }
}
