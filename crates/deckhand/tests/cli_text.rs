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

/// The `deckhand ...` lines of a command's `Examples:` section, each split into words as a
/// shell would (single and double quotes group words).
fn examples(cmd: &clap::Command) -> Vec<Vec<String>> {
    let Some(after) = cmd.get_after_help() else {
        return Vec::new();
    };
    let text = after.to_string();
    let Some((_, section)) = text.split_once("Examples:\n") else {
        return Vec::new();
    };
    // A line ending in ` \` goes on on the next one, as in a shell.
    let joined = section.replace("\\\n", " ");
    joined
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("deckhand "))
        .map(shell_words)
        .collect()
}

fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    assert!(quote.is_none(), "unclosed quote in {line:?}");
    if in_word {
        words.push(word);
    }
    words
}

/// The command line without its `DECKHAND_*` variables: one set where the test runs would fill
/// in what an example leaves out.
fn without_env(cmd: clap::Command) -> clap::Command {
    let subs: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    let mut cmd = cmd.mut_args(|a| a.env(None::<&'static str>));
    for name in subs {
        cmd = cmd.mut_subcommand(name, without_env);
    }
    cmd
}

/// Every command's help ends with 1 to 3 examples, and each of them is a command line clap
/// accepts, under the command it documents.
#[test]
fn every_command_has_examples_that_parse() {
    fn walk(cmd: &clap::Command, path: &[String], checked: &mut usize) {
        let shown = format!("deckhand {}", path.join(" "));
        let lines = examples(cmd);
        if let Some(after) = cmd.get_after_help() {
            for line in after.to_string().lines() {
                assert!(
                    line.chars().count() <= 80,
                    "`{}`: an example line is wider than 80 columns (clap wraps it): {line:?}",
                    shown.trim()
                );
            }
        }
        assert!(
            (1..=3).contains(&lines.len()),
            "`{}` must end its help with an `Examples:` section of 1 to 3 `deckhand ...` lines, has {}",
            shown.trim(),
            lines.len()
        );
        for argv in lines {
            assert!(
                argv[1..].starts_with(path),
                "an example of `{}` runs another command: {argv:?}",
                shown.trim()
            );
            if let Err(e) = without_env(Cli::command()).try_get_matches_from(&argv) {
                panic!("example {argv:?} does not parse:\n{e}");
            }
            *checked += 1;
        }
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let mut path = path.to_vec();
            path.push(sub.get_name().to_string());
            walk(sub, &path, checked);
        }
    }
    let mut checked = 0;
    walk(&Cli::command(), &[], &mut checked);
    assert!(checked >= 30, "{checked} examples");
}

/// A filters file and a list of changed files: `deckhand changes` on them needs no network.
fn changes_inputs() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("filters.yml"), "backend: 'app/**'\n").unwrap();
    std::fs::write(dir.path().join("changed.txt"), "M\tapp/main.py\n").unwrap();
    dir
}

const ESC: char = '\u{1b}';

#[test]
fn color_always_paints_verdicts_and_errors_and_nothing_else() {
    let dir = changes_inputs();
    let changes = |color: &str, filters: &str| {
        let out = deckhand()
            .current_dir(dir.path())
            .env_remove("NO_COLOR")
            .env("GITHUB_OUTPUT", dir.path().join("out"))
            .env("GITHUB_STEP_SUMMARY", dir.path().join("summary"))
            .args(["--color", color, "changes", "--filters", filters])
            .args(["--files-from", "changed.txt"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let green = changes("always", "filters.yml");
    assert!(
        green.contains("\x1b[1;32msucceeded:\x1b[0m 1 of 1 filters changed"),
        "{green:?}"
    );
    let red = changes("always", "no-such.yml");
    assert!(red.contains("\x1b[1;31merror:\x1b[0m "), "{red:?}");
    // The runner's files are never painted, whatever --color says.
    for file in ["out", "summary"] {
        let text = std::fs::read_to_string(dir.path().join(file)).unwrap();
        assert!(!text.is_empty() && !text.contains(ESC), "{file}: {text:?}");
    }
    // Into a pipe: `auto` is plain, as `never` is.
    for color in ["auto", "never"] {
        let plain = changes(color, "filters.yml");
        assert!(!plain.contains(ESC), "--color {color}: {plain:?}");
        assert!(
            plain.contains("succeeded: 1 of 1 filters changed"),
            "{plain:?}"
        );
    }
}

/// On a terminal (a pty from util-linux's `script`), `auto` colours unless `NO_COLOR` is set.
#[test]
fn no_color_turns_colour_off_on_a_terminal() {
    let dir = changes_inputs();
    let on_a_pty = |no_color: Option<&str>| {
        let line =
            format!("{BIN} --color auto changes --filters filters.yml --files-from changed.txt");
        let mut cmd = std::process::Command::new("script");
        cmd.args(["-q", "-e", "-c", &line, "/dev/null"])
            .current_dir(dir.path())
            .env("TERM", "xterm")
            .env_remove("NO_COLOR")
            .env_remove("GITHUB_ACTIONS")
            .env_remove("DECKHAND_COLOR");
        if let Some(v) = no_color {
            cmd.env("NO_COLOR", v);
        }
        let out = cmd
            .output()
            .expect("util-linux's `script` (world/install.sh installs it)");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let coloured = on_a_pty(None);
    assert!(coloured.contains("\x1b[1;32msucceeded:"), "{coloured:?}");
    // no-color.org: an empty NO_COLOR is as if it were unset.
    assert!(on_a_pty(Some("")).contains(ESC));
    let plain = on_a_pty(Some("1"));
    assert!(plain.contains("succeeded: 1 of 1"), "{plain:?}");
    assert!(!plain.contains(ESC), "{plain:?}");
}

/// In Actions, a warning is also a `::warning` annotation titled `deckhand...`, its message
/// escaped by GitHub's rules (`%`, CR, LF): here, the runner's output file cannot be written,
/// and its path holds a `%` and a line break.
#[test]
fn warnings_are_annotations_in_actions() {
    let dir = changes_inputs();
    let unwritable = dir.path().join("no such dir 100%\nreally").join("out");
    let out = deckhand()
        .current_dir(dir.path())
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &unwritable)
        .args([
            "changes",
            "--filters",
            "filters.yml",
            "--files-from",
            "changed.txt",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // The log line, as before.
    assert!(
        stderr.contains("warning: cannot write GITHUB_OUTPUT ("),
        "{stderr}"
    );
    let annotation = stderr
        .lines()
        .find(|l| l.starts_with("::warning "))
        .unwrap_or_else(|| panic!("no ::warning line in {stderr}"));
    assert!(
        annotation.starts_with(
            "::warning title=deckhand%3A outputs not written::cannot write GITHUB_OUTPUT ("
        ),
        "{annotation}"
    );
    assert!(
        annotation.contains("no such dir 100%25%0Areally/out): "),
        "{annotation}"
    );
    // Outside Actions: the log line only.
    let out = deckhand()
        .current_dir(dir.path())
        .env_remove("GITHUB_ACTIONS")
        .env("GITHUB_OUTPUT", &unwritable)
        .args([
            "changes",
            "--filters",
            "filters.yml",
            "--files-from",
            "changed.txt",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: cannot write GITHUB_OUTPUT"),
        "{stderr}"
    );
    assert!(!stderr.contains("::warning"), "{stderr}");
}
