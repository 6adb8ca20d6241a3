//! `deckhand changes` on real temporary git repositories: commit ranges, merge bases, renames,
//! new branches, force pushes and shallow clones; GitHub event payloads as GitHub sends them,
//! read the way dorny/paths-filter reads them; paths-filter's outputs. (The action, run by a
//! workflow executor on paths-filter's own README examples: `changes_action.rs`.)

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_deckhand");

const FILTERS: &str = "\
backend:
  - 'services/api/**'
  - Cargo.toml
nginx:
  - nginx/**
  - site/index.html
frontend:
  - 'site/**'
renamed_away:
  - deleted: 'site/old-name.js'
";

struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> Self {
        let repo = Self {
            dir: tempfile::tempdir().unwrap(),
        };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.commit(
            "initial",
            &[
                ("Cargo.toml", "[workspace]"),
                ("services/api/main.rs", "fn main() {}"),
                ("nginx/default.conf", "server {}"),
                ("site/index.html", "v1"),
                ("site/old-name.js", "x"),
            ],
        );
        repo
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn git(&self, args: &[&str]) -> String {
        git_in(self.path(), args)
    }

    fn commit(&self, message: &str, files: &[(&str, &str)]) -> String {
        for (path, content) in files {
            let p = self.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, content).unwrap();
        }
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
        self.git(&["rev-parse", "HEAD"]).trim().to_string()
    }
}

fn git_in(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn filters_file(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("filters.yml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `deckhand --output json changes` in `checkout` with a clean environment.
fn changes(checkout: &Path, filters: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    for (k, _) in std::env::vars() {
        if k.starts_with("DECKHAND_") || k.starts_with("GITHUB_") {
            cmd.env_remove(k);
        }
    }
    cmd.args(["--output", "json", "changes", "--filters"])
        .arg(filters)
        .arg("--checkout")
        .arg(checkout)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "stdout is not JSON: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// A green run's result: paths-filter's `{"changes", "filters"}`, after checking the common
/// fields every result carries.
fn ok(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "exit {:?}\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    let result = json_of(out);
    assert_eq!(
        (
            &result["schema_version"],
            &result["command"],
            &result["verdict"],
            &result["exit_code"]
        ),
        (&json!(1), &json!("changes"), &json!("succeeded"), &json!(0)),
        "{result}"
    );
    json!({"changes": result["changes"], "filters": result["filters"]})
}

#[test]
fn a_sha_base_diffs_two_dot_and_renames_are_a_delete_plus_an_add() {
    let repo = Repo::new();
    let base = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    repo.git(&["mv", "site/old-name.js", "site/new-name.js"]);
    let head = repo.commit("rename and change the page", &[("site/index.html", "v2")]);
    let filters = filters_file(repo.path(), FILTERS);
    let result = ok(&changes(
        repo.path(),
        &filters,
        &["--base", &base, "--head", &head],
        &[],
    ));
    assert_eq!(
        result,
        json!({
            "changes": ["nginx", "frontend", "renamed_away"],
            "filters": {
                "backend": [],
                "nginx": ["site/index.html"],
                "frontend": ["site/index.html", "site/new-name.js", "site/old-name.js"],
                "renamed_away": ["site/old-name.js"],
            }
        })
    );
}

#[test]
fn a_branch_base_compares_from_the_merge_base() {
    let repo = Repo::new();
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.commit("feature: api", &[("services/api/handler.rs", "// new")]);
    repo.git(&["checkout", "-q", "main"]);
    // main moves on after the branch point: not the feature's change.
    repo.commit(
        "main: nginx",
        &[("nginx/default.conf", "server { listen 80; }")],
    );
    let filters = filters_file(repo.path(), FILTERS);
    let result = ok(&changes(
        repo.path(),
        &filters,
        &["--base", "main", "--head", "feature"],
        &[],
    ));
    assert_eq!(result["changes"], json!(["backend"]));
    assert_eq!(
        result["filters"]["backend"],
        json!(["services/api/handler.rs"])
    );
}

fn event_file(dir: &Path, payload: &Value) -> PathBuf {
    let path = dir.join("event.json");
    std::fs::write(&path, payload.to_string()).unwrap();
    path
}

#[test]
fn push_and_pull_request_events_pick_their_commits() {
    let repo = Repo::new();
    let before = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    let after = repo.commit(
        "nginx",
        &[("nginx/default.conf", "server { listen 8080; }")],
    );
    // Outside the checkout: branch switches below must not touch it.
    let events = tempfile::tempdir().unwrap();
    let filters = filters_file(events.path(), FILTERS);
    let push = event_file(
        events.path(),
        &json!({"ref": "refs/heads/main", "before": before, "after": after, "created": false, "deleted": false, "repository": {"default_branch": "main"}}),
    );
    let push = push.to_str().unwrap();
    let result = ok(&changes(
        repo.path(),
        &filters,
        &[],
        &[
            ("GITHUB_EVENT_NAME", "push"),
            ("GITHUB_EVENT_PATH", push),
            ("GITHUB_REF", "refs/heads/main"),
        ],
    ));
    assert_eq!(result["changes"], json!(["nginx"]));

    repo.git(&["checkout", "-q", "-b", "feature"]);
    let head = repo.commit("site", &[("site/app.js", "1")]);
    repo.git(&["checkout", "-q", "main"]);
    repo.commit("main moves", &[("Cargo.toml", "[workspace]\nmembers = []")]);
    let main = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    let pr = event_file(
        events.path(),
        &json!({"action": "synchronize", "number": 3, "pull_request": {"base": {"ref": "main", "sha": main}, "head": {"ref": "feature", "sha": head}}}),
    );
    // What actions/checkout checks out for a pull request: its merge into the base, detached.
    // Without a token (none is set here) paths-filter compares `pull_request.base.sha` with it.
    repo.git(&["checkout", "-q", "--detach", "main"]);
    repo.git(&["merge", "-q", "--no-ff", "-m", "merge", "feature"]);
    let result = ok(&changes(
        repo.path(),
        &filters,
        &[],
        &[
            ("GITHUB_EVENT_NAME", "pull_request"),
            ("GITHUB_EVENT_PATH", pr.to_str().unwrap()),
            ("GITHUB_REF", "refs/pull/3/merge"),
        ],
    ));
    assert_eq!(
        result["changes"],
        json!(["frontend"]),
        "main's own change is not the PR's"
    );
}

#[test]
fn a_new_branch_compares_with_the_default_branch_and_the_first_push_with_nothing() {
    let origin = Repo::new();
    origin.commit("main 2", &[("nginx/default.conf", "server { listen 81; }")]);
    let clones = tempfile::tempdir().unwrap();
    let clone = clones.path().join("clone");
    git_in(
        clones.path(),
        &[
            "clone",
            "-q",
            origin.path().to_str().unwrap(),
            clone.to_str().unwrap(),
        ],
    );
    git_in(&clone, &["checkout", "-q", "-b", "feature"]);
    std::fs::write(clone.join("site/extra.html"), "x").unwrap();
    git_in(&clone, &["add", "-A"]);
    git_in(&clone, &["commit", "-q", "-m", "feature"]);
    let head = git_in(&clone, &["rev-parse", "HEAD"]).trim().to_string();
    let zero = "0".repeat(40);
    let filters = filters_file(clones.path(), FILTERS);
    let event = event_file(
        clones.path(),
        &json!({"ref": "refs/heads/feature", "before": zero, "after": head, "created": true, "deleted": false, "repository": {"default_branch": "main"}}),
    );
    let env = [
        ("GITHUB_EVENT_NAME", "push"),
        ("GITHUB_EVENT_PATH", event.to_str().unwrap()),
        ("GITHUB_REF", "refs/heads/feature"),
    ];
    let result = ok(&changes(&clone, &filters, &[], &env));
    assert_eq!(result["changes"], json!(["frontend"]));
    assert_eq!(result["filters"]["frontend"], json!(["site/extra.html"]));

    let first = event_file(
        clones.path(),
        &json!({"ref": "refs/heads/main", "before": zero, "after": head, "created": true, "repository": {"default_branch": "main"}}),
    );
    let result = ok(&changes(
        &clone,
        &filters,
        &[],
        &[
            ("GITHUB_EVENT_NAME", "push"),
            ("GITHUB_EVENT_PATH", first.to_str().unwrap()),
            ("GITHUB_REF", "refs/heads/main"),
        ],
    ));
    assert_eq!(
        result["changes"],
        json!(["backend", "nginx", "frontend"]),
        "every file counts as added"
    );
}

fn shallow_clone(origin: &Repo, branch: &str, into: &Path) -> PathBuf {
    let clone = into.join("shallow");
    git_in(
        into,
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            "--no-single-branch",
            "--branch",
            branch,
            &format!("file://{}", origin.path().display()),
            clone.to_str().unwrap(),
        ],
    );
    assert_eq!(
        git_in(&clone, &["rev-parse", "--is-shallow-repository"]).trim(),
        "true"
    );
    clone
}

/// As paths-filter: a SHA base needs no history (both commits are fetched by name, one deep);
/// a branch base is compared from the merge base, which a shallow clone is deepened for
/// (`--initial-fetch-depth`, then doubling); a commit that is nowhere says how to fix it.
#[test]
fn a_shallow_clone_fetches_what_it_lacks_and_an_unreachable_base_says_how_to_fix_the_checkout() {
    let origin = Repo::new();
    let base = origin.git(&["rev-parse", "HEAD"]).trim().to_string();
    origin.git(&["checkout", "-q", "-b", "feature"]);
    for i in 0..8 {
        origin.commit(&format!("c{i}"), &[("site/index.html", &format!("v{i}"))]);
    }
    let head = origin.commit("app", &[("site/app.js", "1")]);
    // main moves on after the branch point: not the feature's change.
    origin.git(&["checkout", "-q", "main"]);
    origin.commit("main", &[("services/api/y.rs", "1")]);
    let clones = tempfile::tempdir().unwrap();
    let clone = shallow_clone(&origin, "feature", clones.path());
    let filters = filters_file(clones.path(), FILTERS);
    let result = ok(&changes(
        &clone,
        &filters,
        &["--base", &base, "--head", &head],
        &[],
    ));
    assert_eq!(result["changes"], json!(["nginx", "frontend"]));
    assert_eq!(
        git_in(&clone, &["rev-list", "--count", "HEAD"]).trim(),
        "1",
        "a two-dot diff fetched no history"
    );

    let result = ok(&changes(
        &clone,
        &filters,
        &[
            "--base",
            "main",
            "--head",
            "feature",
            "--initial-fetch-depth",
            "2",
        ],
        &[],
    ));
    assert_eq!(
        result["changes"],
        json!(["nginx", "frontend"]),
        "main's own backend change is not the feature's"
    );
    assert!(
        git_in(&clone, &["merge-base", "origin/main", "origin/feature"])
            .trim()
            .starts_with(&base[..7]),
        "the clone was deepened down to the merge base"
    );

    // A force-pushed `before` that no ref reaches any more.
    let gone = "1234567890abcdef1234567890abcdef12345678";
    let out = changes(&clone, &filters, &["--base", gone, "--head", &head], &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("cannot find `{gone}`")),
        "{stderr}"
    );
    assert!(stderr.contains("hint:"), "{stderr}");
}

/// A manual run has no `before`: as paths-filter, the last commit, with its warning; and the
/// outputs are paths-filter's, in its order, each file list in the `list-files` format.
#[test]
fn a_manual_run_reads_the_last_commit_and_writes_paths_filters_outputs() {
    let repo = Repo::new();
    repo.commit(
        "nginx and a page",
        &[
            ("nginx/default.conf", "server { listen 81; }"),
            ("site/it's new.html", "x"),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let filters = filters_file(dir.path(), FILTERS);
    let event = event_file(
        dir.path(),
        &json!({"inputs": {"environment": "production"}, "ref": "refs/heads/main",
            "repository": {"default_branch": "main"}}),
    );
    let outputs = dir.path().join("outputs");
    let summary = dir.path().join("summary");
    std::fs::write(&outputs, "").unwrap();
    let out = changes(
        repo.path(),
        &filters,
        &["--list-files", "shell"],
        &[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_EVENT_NAME", "workflow_dispatch"),
            ("GITHUB_EVENT_PATH", event.to_str().unwrap()),
            ("GITHUB_REF", "refs/heads/main"),
            ("GITHUB_OUTPUT", outputs.to_str().unwrap()),
            ("GITHUB_STEP_SUMMARY", summary.to_str().unwrap()),
        ],
    );
    let result = ok(&out);
    assert_eq!(result["changes"], json!(["nginx", "frontend"]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("::warning title=deckhand changes::'before' field is missing in event payload - changes will be detected from last commit"),
        "{stderr}"
    );
    let written = std::fs::read_to_string(&outputs).unwrap();
    let expected = [
        "backend=false",
        "backend_count=0",
        "backend_files=",
        "nginx=true",
        "nginx_count=1",
        "nginx_files=nginx/default.conf",
        "frontend=true",
        "frontend_count=1",
        "frontend_files=\"site/it's new.html\"",
        "renamed_away=false",
        "renamed_away_count=0",
        "renamed_away_files=",
        "changes=[\"nginx\",\"frontend\"]",
        "filters={\"changes\":[\"nginx\",\"frontend\"],\"filters\":{\"backend\":[],\"nginx\":[\"nginx/default.conf\"],\"frontend\":[\"site/it's new.html\"],\"renamed_away\":[]}}",
    ];
    assert_eq!(written.lines().collect::<Vec<_>>(), expected);
    assert!(
        std::fs::read_to_string(&summary)
            .unwrap()
            .contains("| `nginx` | yes | 1 |")
    );
}

#[test]
fn bad_filters_and_bad_input_exit_2_naming_the_problem() {
    let repo = Repo::new();
    let head = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    let broken = filters_file(
        repo.path(),
        "backend:\n  - 'services/**'\nnginx:\n  modified|typo: nginx/**\n",
    );
    let out = changes(
        repo.path(),
        &broken,
        &["--base", &head, "--head", &head],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(":4:") && stderr.contains("typo"),
        "{stderr}"
    );
    assert_eq!(json_of(&out)["verdict"], "invalid-input");

    let only_negations = filters_file(repo.path(), "docs:\n  - '!**/*.md'\n");
    let out = changes(
        repo.path(),
        &only_negations,
        &["--base", &head, "--head", &head, "--negation", "exclude"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("docs"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let filters = filters_file(repo.path(), FILTERS);
    let out = changes(repo.path(), &filters, &[], &[]);
    assert_eq!(out.status.code(), Some(2), "no source of changes");
    let out = changes(
        repo.path(),
        &filters,
        &["--files-from", "/nonexistent"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn negation_exclude_removes_files_where_paths_filter_would_widen() {
    let repo = Repo::new();
    let filters = filters_file(repo.path(), "site:\n  - 'site/**'\n  - '!site/**/*.md'\n");
    let list = repo.path().join("changed.txt");
    std::fs::write(
        &list,
        "M\tsite/README.md\nA\tsite/app.js\nM\tservices/api/main.rs\n",
    )
    .unwrap();
    let list = list.to_str().unwrap();
    let widened = ok(&changes(
        repo.path(),
        &filters,
        &["--files-from", list],
        &[],
    ));
    // paths-filter semantics (issue #260): the negation matches every file it does not name.
    assert_eq!(
        widened["filters"]["site"],
        json!(["site/README.md", "site/app.js", "services/api/main.rs"])
    );
    let excluded = ok(&changes(
        repo.path(),
        &filters,
        &["--files-from", list, "--negation", "exclude"],
        &[],
    ));
    assert_eq!(excluded["filters"]["site"], json!(["site/app.js"]));
}

/// A force push rewrites history: its `before` can be on no branch any more. When the checkout
/// (or origin) still has it, the diff is `before..after`; when it is gone, every filter counts
/// as changed rather than failing the workflow or skipping a part the push changed.
#[test]
fn a_force_push_diffs_from_before_when_it_is_known_and_deploys_everything_when_it_is_gone() {
    let origin = Repo::new();
    let base = origin.git(&["rev-parse", "HEAD"]).trim().to_string();
    let amended_away = origin.commit("site", &[("site/index.html", "v2")]);
    // The branch is rewritten: the site commit is replaced by an nginx one.
    origin.git(&["reset", "-q", "--hard", &base]);
    let after = origin.commit("nginx", &[("nginx/default.conf", "server { listen 81; }")]);
    let events = tempfile::tempdir().unwrap();
    let filters = filters_file(events.path(), FILTERS);
    let push = |before: &str| {
        event_file(
            events.path(),
            &json!({"ref": "refs/heads/main", "before": before, "after": after, "created": false,
                "deleted": false, "forced": true, "repository": {"default_branch": "main"}}),
        )
    };

    // The origin itself still has the replaced commit (as a host does until it collects it).
    let known = push(&amended_away);
    let result = ok(&changes(
        origin.path(),
        &filters,
        &[],
        &[
            ("GITHUB_EVENT_NAME", "push"),
            ("GITHUB_EVENT_PATH", known.to_str().unwrap()),
        ],
    ));
    assert_eq!(
        result["changes"],
        json!(["nginx", "frontend"]),
        "what the push replaced (the site) and what it brought (nginx)"
    );

    // A fresh clone never saw it, and origin cannot serve a commit it no longer has.
    let clones = tempfile::tempdir().unwrap();
    let clone = clones.path().join("clone");
    git_in(
        clones.path(),
        &[
            "clone",
            "-q",
            &format!("file://{}", origin.path().display()),
            clone.to_str().unwrap(),
        ],
    );
    let gone = push("1234567890abcdef1234567890abcdef12345678");
    let out = changes(
        &clone,
        &filters,
        &[],
        &[
            ("GITHUB_EVENT_NAME", "push"),
            ("GITHUB_EVENT_PATH", gone.to_str().unwrap()),
        ],
    );
    let result = ok(&out);
    assert_eq!(
        result["changes"],
        json!(["backend", "nginx", "frontend", "renamed_away"]),
        "every filter counts as changed"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("a force push whose replaced head"),
        "{stderr}"
    );
}

/// paths-filter's `filters` input holds the YAML itself when it has a newline or a colon;
/// `--base HEAD` is the working tree's staged and unstaged changes (untracked files are not);
/// `--head HEAD` (or any revision git knows) names the checkout's commit.
#[test]
fn inline_filters_local_changes_and_a_revision_as_head() {
    let repo = Repo::new();
    std::fs::write(
        repo.path().join("nginx/default.conf"),
        "server { listen 9; }",
    )
    .unwrap();
    std::fs::write(repo.path().join("site/untracked.js"), "x").unwrap();
    let inline = "nginx: 'nginx/**'\nsite: 'site/**'\n";
    let run = |args: &[&str]| {
        let mut cmd = Command::new(BIN);
        for (k, _) in std::env::vars() {
            if k.starts_with("DECKHAND_") || k.starts_with("GITHUB_") {
                cmd.env_remove(k);
            }
        }
        cmd.args([
            "--output",
            "json",
            "changes",
            "--filters",
            inline,
            "--checkout",
        ])
        .arg(repo.path())
        .args(args)
        .output()
        .unwrap()
    };
    let result = ok(&run(&["--base", "HEAD"]));
    assert_eq!(
        result["changes"],
        json!(["nginx"]),
        "untracked files are not changes"
    );

    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.commit("site", &[("site/app.js", "1")]);
    let result = ok(&run(&["--base", "main", "--head", "HEAD"]));
    // The commit took the working tree's edits along (`git add -A`).
    assert_eq!(result["changes"], json!(["nginx", "site"]));
    assert_eq!(
        result["filters"]["site"],
        json!(["site/app.js", "site/untracked.js"])
    );

    // One line without a colon is a path, as in paths-filter: here, one that does not exist.
    let out = Command::new(BIN)
        .args([
            "changes",
            "--filters=- 'src/**'",
            "--base",
            "HEAD",
            "--checkout",
        ])
        .arg(repo.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot read filters file `- 'src/**'`"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
