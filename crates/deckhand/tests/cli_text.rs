//! Snapshots of the command line itself: `--help` of every command and the errors of a
//! command line clap refuses (text, and the JSON result `--output json` still gets). A change to
//! any word of them shows in review.

use clap::CommandFactory;
use deckhand::cli::Cli;
use deckhand_testkit::snapshot::redact_text;

const BIN: &str = env!("CARGO_BIN_EXE_deckhand");

/// deckhand without this machine's `DECKHAND_*` settings (help shows their values), at a fixed
/// width (clap wraps help to the terminal).
fn deckhand() -> std::process::Command {
    let mut cmd = std::process::Command::new(BIN);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("DECKHAND_")) {
        cmd.env_remove(k);
    }
    cmd.env("COLUMNS", "100");
    cmd
}

/// Every command path with a `--help`: `deckhand`, `deckhand ecs`, `deckhand ecs deploy`, ...
fn command_paths(cmd: &clap::Command, path: &mut Vec<String>, all: &mut Vec<Vec<String>>) {
    all.push(path.clone());
    for sub in cmd.get_subcommands() {
        path.push(sub.get_name().to_string());
        command_paths(sub, path, all);
        path.pop();
    }
}

#[test]
fn help_of_every_command() {
    let mut all = Vec::new();
    command_paths(&Cli::command(), &mut Vec::new(), &mut all);
    assert!(all.len() >= 15, "{all:?}");
    for path in all {
        // The binary's own `--help`, at a fixed width (clap wraps to the terminal).
        let out = deckhand().args(&path).arg("--help").output().unwrap();
        assert!(out.status.success(), "{path:?}: {out:?}");
        let name = if path.is_empty() {
            "deckhand".to_string()
        } else {
            format!("deckhand {}", path.join(" "))
        };
        insta::assert_snapshot!(
            name.replace(' ', "_"),
            String::from_utf8_lossy(&out.stdout),
            &name
        );
    }
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = deckhand().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_missing_flag_is_exit_2_with_clap_text() {
    let (code, stdout, stderr) = run(&["ecs", "deploy", "--service", "web"]);
    assert_eq!(code, 2);
    assert_eq!(stdout, "");
    insta::assert_snapshot!(stderr);
}

#[test]
fn a_missing_flag_with_json_output_is_one_json_result() {
    let (code, stdout, stderr) = run(&["--output", "json", "site", "deploy", "--dir", "dist"]);
    assert_eq!(code, 2);
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON object");
    insta::assert_snapshot!(redact_text(&format!(
        "--- stdout\n{}\n--- stderr\n{stderr}",
        serde_json::to_string_pretty(&json).unwrap()
    )));
}

#[test]
fn an_unknown_subcommand_is_exit_2() {
    let (code, _, stderr) = run(&["ecs", "redeploy"]);
    assert_eq!(code, 2);
    insta::assert_snapshot!(stderr);
}

/// `--version` names the commit the binary was built from (git's, in a checkout) and its target.
#[test]
fn version_names_the_commit_and_the_target() {
    let (code, stdout, _) = run(&["--version"]);
    assert_eq!(code, 0);
    let line = stdout.trim();
    let re = regex_lite::Regex::new(
        r"^deckhand \d+\.\d+\.\d+ \(commit ([0-9a-f]{12}|unknown), ([a-z0-9_]+-[a-z0-9_.-]+)\)$",
    )
    .unwrap();
    let caps = re.captures(line).unwrap_or_else(|| panic!("{line:?}"));
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if let Some(head) = head {
        assert_eq!(&caps[1], head, "built from this checkout's HEAD");
    }
    assert!(caps[2].contains(std::env::consts::ARCH), "{line}");
}
