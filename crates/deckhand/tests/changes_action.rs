//! `actions/changes` as a drop-in for dorny/paths-filter, proven by running paths-filter's
//! README examples through a real GitHub Actions executor (nektos/act, host mode:
//! `deckhand_testkit::act`) against git histories made here, and the fake GitHub API for the
//! pull request's files.
//!
//! Each example is paths-filter's README text (v3, "Examples" section), unchanged but for:
//! - `uses: dorny/paths-filter@v3` -> `uses: ./actions/changes`, and `deckhand-path:` (the
//!   binary under test) added at the top of its `with:` ([`drop_in`]). In the jobs without a
//!   checkout (examples 3 and 4) a local action cannot be found, on GitHub as under act: they
//!   name it as a user does, `deckhand-dev/deckhand/actions/changes@v0`, which act serves from
//!   this test's repository (`--local-repository`);
//! - the README's placeholders, which no executor can run: `run: ...` and `- ...` become
//!   `run: echo ok`, and `filters: ... # Configure your filters` becomes the filters named in
//!   the test;
//! - the fragments that are not whole workflows (examples 1 and 9-14) are put in a job after
//!   `actions/checkout`, and the examples without `on:` get one ([`job`]); in examples 9-12 the
//!   `- uses:` line is indented like the lines under it (as printed it does not parse);
//! - what each test says where it must do more (a remote action replaced by a `run:` step or a
//!   local action, a `npx` command replaced by `printf`).
//!
//! Every test asserts the outputs' exact values and which downstream steps and jobs ran: a
//! composite action would expose no per-filter output on GitHub, and every `if:` on one would
//! be false. act does not show that (it leaks a composite action's undeclared inner outputs to
//! `steps.<id>.outputs`: nektos/act#2553, open), so `action_contract.rs` requires the action to
//! be a JavaScript one; these tests prove what that action does with the outputs.

use deckhand_testkit::act::{ActRepo, ActRun};
use deckhand_testkit::fake_github::{FakeGithub, TOKEN};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_deckhand");

/// The action as a user's workflow names it, served by act from this test's repository
/// ([`deckhand_testkit::act::Act::local_repository`]): what a job without a checkout uses.
const PUBLISHED: &str = "deckhand-dev/deckhand/actions/changes@v0";
const PUBLISHED_REPOSITORY: &str = "deckhand-dev/deckhand@v0";

/// paths-filter's README text made runnable here: its `uses:` replaced, `deckhand-path` added,
/// its placeholders filled (see the module's notes).
fn drop_in(readme: &str) -> String {
    drop_in_as(readme, "./actions/changes")
}

/// [`drop_in`] with the action named `uses`.
fn drop_in_as(readme: &str, uses: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut lines = readme.lines().peekable();
    let mut in_action = false;
    while let Some(line) = lines.next() {
        let indent = line.len() - line.trim_start().len();
        let text = line.trim_start();
        if text.trim_start_matches("- ") == "uses: dorny/paths-filter@v3" {
            out.push(line.replace("dorny/paths-filter@v3", uses));
            in_action = true;
            continue;
        }
        if in_action && text == "with:" {
            out.push(line.to_string());
            // The keys under `with:` start on the next line: `deckhand-path` goes first, at
            // their indentation.
            let next = lines.peek().copied().unwrap_or_default();
            let key_indent = next.len() - next.trim_start().len();
            out.push(format!("{}deckhand-path: {BIN}", " ".repeat(key_indent)));
            in_action = false;
            continue;
        }
        if text == "run: ..." {
            out.push(line.replace("run: ...", "run: echo ok"));
        } else if text == "- ..." {
            out.push(format!("{}- run: echo ok", " ".repeat(indent)));
        } else {
            out.push(line.to_string());
        }
    }
    out.join("\n") + "\n"
}

/// A README fragment made of steps, as a whole workflow: one job `tests` on `on`, which checks
/// out the repository, then runs the fragment.
fn job(on: &str, steps: &str) -> String {
    let indented: String = steps
        .lines()
        .map(|l| {
            if l.is_empty() {
                "\n".to_string()
            } else {
                format!("    {l}\n")
            }
        })
        .collect();
    format!(
        "on: {on}\njobs:\n  tests:\n    runs-on: ubuntu-latest\n    steps:\n    - uses: actions/checkout@v4\n{indented}"
    )
}

/// `filters: ... # Configure your filters` with real filters.
fn configure(readme: &str, filters: &str) -> String {
    let line = readme
        .lines()
        .find(|l| l.trim_start().starts_with("filters: ..."))
        .expect("the example has a filters placeholder");
    let indent = " ".repeat(line.len() - line.trim_start().len());
    let block: String = std::iter::once(format!("{indent}filters: |"))
        .chain(filters.lines().map(|l| format!("{indent}  {l}")))
        .collect::<Vec<_>>()
        .join("\n");
    readme.replace(line, &block)
}

/// The push event GitHub sends for a push of `before..after` to `branch` of a repository whose
/// default branch is `main`.
fn push_event(branch: &str, before: &str, after: &str) -> Value {
    json!({
        "ref": format!("refs/heads/{branch}"),
        "before": before,
        "after": after,
        "created": before.bytes().all(|b| b == b'0'),
        "deleted": false,
        "forced": false,
        "repository": {"full_name": "octo-org/octo-repo", "default_branch": "main"},
    })
}

/// The pull request event of pull request `number`, from `head` (a branch) into `base`.
fn pull_request_event(number: u64, base: &str, base_sha: &str, head_sha: &str) -> Value {
    json!({
        "action": "synchronize",
        "number": number,
        "pull_request": {
            "number": number,
            "base": {"ref": base, "sha": base_sha},
            "head": {"ref": "feature", "sha": head_sha},
        },
        "repository": {"full_name": "octo-org/octo-repo", "default_branch": "main"},
    })
}

/// Writes `files` and commits them; returns the commit.
fn commit(repo: &ActRepo, message: &str, files: &[(&str, &str)]) -> String {
    for (path, content) in files {
        repo.write(path, content);
    }
    repo.commit(message)
}

fn head(repo: &ActRepo) -> String {
    repo.git(&["rev-parse", "HEAD"]).trim().to_string()
}

/// The workflow at `.github/workflows/t.yml`, committed (the pushed commit carries it).
fn with_workflow(repo: &ActRepo, workflow: &str) {
    repo.write(".github/workflows/t.yml", workflow);
}

fn outputs(run: &ActRun, job: &str, step: &str) -> Value {
    serde_json::to_value(run.outputs(job, step)).unwrap()
}

/// One push of the commits after `before` on `main`, run through act.
fn run_push(repo: &ActRepo, branch: &str, before: &str) -> ActRun {
    repo.push(&[branch]);
    let after = head(repo);
    repo.act("push", ".github/workflows/t.yml")
        .payload(push_event(branch, before, &after))
        .run()
}

// ---------------------------------------------------------------------------------------------
// 1. The top example.
// ---------------------------------------------------------------------------------------------

const EXAMPLE_1: &str = "\
- uses: dorny/paths-filter@v3
  id: changes
  with:
    filters: |
      src:
        - 'src/**'

  # run only if some file in 'src' folder was changed
- if: steps.changes.outputs.src == 'true'
  run: ...
";

#[test]
fn example_1_the_top_example_gates_a_step_on_src() {
    let repo = ActRepo::new();
    let before = head(&repo);
    with_workflow(&repo, &job("push", &drop_in(EXAMPLE_1)));
    commit(&repo, "src", &[("src/main.rs", "fn main() {}")]);
    let run = run_push(&repo, "main", &before);
    run.assert_success();
    assert_eq!(
        outputs(&run, "tests", "changes"),
        json!({
            "src": "true",
            "src_count": "1",
            "changes": "[\"src\"]",
            "filters": "{\"changes\":[\"src\"],\"filters\":{\"src\":[\"src/main.rs\"]}}",
        })
    );
    assert!(run.step_ran("tests", "2"), "the gated step (the third) ran");

    // A push that does not touch src/: the step is skipped.
    let before = head(&repo);
    commit(&repo, "docs", &[("README.md", "hello")]);
    let run = run_push(&repo, "main", &before);
    run.assert_success();
    assert_eq!(run.output("tests", "changes", "src"), "false");
    assert_eq!(run.output("tests", "changes", "changes"), "[]");
    assert!(!run.step_ran("tests", "2"));
}

// ---------------------------------------------------------------------------------------------
// 2. Step conditions.
// ---------------------------------------------------------------------------------------------

const EXAMPLE_2: &str = "\
jobs:
  tests:
    runs-on: ubuntu-latest
    steps:
    - uses: actions/checkout@v4
    - uses: dorny/paths-filter@v3
      id: filter
      with:
        filters: |
          backend:
            - 'backend/**'
          frontend:
            - 'frontend/**'

    # run only if 'backend' files were changed
    - name: backend tests
      if: steps.filter.outputs.backend == 'true'
      run: ...

    # run only if 'frontend' files were changed
    - name: frontend tests
      if: steps.filter.outputs.frontend == 'true'
      run: ...

    # run if 'backend' or 'frontend' files were changed
    - name: e2e tests
      if: steps.filter.outputs.backend == 'true' || steps.filter.outputs.frontend == 'true'
      run: ...
";

#[test]
fn example_2_step_conditions_run_the_steps_of_what_changed() {
    let repo = ActRepo::new();
    let before = head(&repo);
    with_workflow(&repo, &format!("on: push\n{}", drop_in(EXAMPLE_2)));
    commit(
        &repo,
        "backend",
        &[("backend/api.py", "print()"), ("docs/x.md", "x")],
    );
    let run = run_push(&repo, "main", &before);
    run.assert_success();
    assert_eq!(
        outputs(&run, "tests", "filter"),
        json!({
            "backend": "true",
            "backend_count": "1",
            "frontend": "false",
            "frontend_count": "0",
            "changes": "[\"backend\"]",
            "filters": "{\"changes\":[\"backend\"],\"filters\":{\"backend\":[\"backend/api.py\"],\"frontend\":[]}}",
        })
    );
    assert!(run.step_ran("tests", "backend tests"));
    assert!(!run.step_ran("tests", "frontend tests"));
    assert!(run.step_ran("tests", "e2e tests"));

    let before = head(&repo);
    commit(&repo, "frontend", &[("frontend/app.js", "1")]);
    let run = run_push(&repo, "main", &before);
    run.assert_success();
    assert!(!run.step_ran("tests", "backend tests"));
    assert!(run.step_ran("tests", "frontend tests"));
    assert!(run.step_ran("tests", "e2e tests"));
}

// ---------------------------------------------------------------------------------------------
// 3. Job conditions: a pull request, no checkout, the files from the API.
// ---------------------------------------------------------------------------------------------

const EXAMPLE_3: &str = "\
jobs:
  # JOB to run change detection
  changes:
    runs-on: ubuntu-latest
    # Required permissions
    permissions:
      pull-requests: read
    # Set job outputs to values from filter step
    outputs:
      backend: ${{ steps.filter.outputs.backend }}
      frontend: ${{ steps.filter.outputs.frontend }}
    steps:
    # For pull requests it's not necessary to checkout the code
    - uses: dorny/paths-filter@v3
      id: filter
      with:
        filters: |
          backend:
            - 'backend/**'
          frontend:
            - 'frontend/**'

  # JOB to build and test backend code
  backend:
    needs: changes
    if: ${{ needs.changes.outputs.backend == 'true' }}
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - ...

  # JOB to build and test frontend code
  frontend:
    needs: changes
    if: ${{ needs.changes.outputs.frontend == 'true' }}
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - ...
";

/// A pull request run: the token is `github.token` (a secret in act), the API the fake's.
fn run_pull_request(repo: &ActRepo, fake: &FakeGithub, number: u64, token: bool) -> ActRun {
    let base = repo.git(&["rev-parse", "main"]).trim().to_string();
    let mut act = repo
        .act("pull_request", ".github/workflows/t.yml")
        .payload(pull_request_event(number, "main", &base, &head(repo)))
        .env("GITHUB_API_URL", &fake.url)
        .local_repository(PUBLISHED_REPOSITORY, repo.path());
    if token {
        act = act.secret("GITHUB_TOKEN", TOKEN);
    }
    act.run()
}

#[test]
fn example_3_job_conditions_read_the_pull_request_from_the_api_without_a_checkout() {
    let fake = FakeGithub::start();
    fake.set_pull_files(7, &[("modified", "frontend/app.js", None)]);
    let repo = ActRepo::new();
    with_workflow(
        &repo,
        &format!("on: pull_request\n{}", drop_in_as(EXAMPLE_3, PUBLISHED)),
    );
    repo.commit("the workflow");
    let run = run_pull_request(&repo, &fake, 7, true);
    run.assert_success();
    assert_eq!(run.output("changes", "filter", "frontend"), "true");
    assert_eq!(run.output("changes", "filter", "backend"), "false");
    assert_eq!(run.job_result("frontend").as_deref(), Some("success"));
    assert_eq!(
        run.job_result("backend"),
        None,
        "the backend job is skipped"
    );
    let listed = fake.matching("GET", "/pulls/7/files");
    assert_eq!(listed.len(), 1, "one page of the pull request's files");
    assert_eq!(
        listed[0].query.get("per_page").map(String::as_str),
        Some("100")
    );
    assert_eq!(
        listed[0].headers.get("authorization").map(String::as_str),
        Some(format!("Bearer {TOKEN}").as_str())
    );
}

// ---------------------------------------------------------------------------------------------
// 4. A matrix from `changes`.
// ---------------------------------------------------------------------------------------------

const EXAMPLE_4: &str = "\
jobs:
  # JOB to run change detection
  changes:
    runs-on: ubuntu-latest
    # Required permissions
    permissions:
      pull-requests: read
    outputs:
      # Expose matched filters as job 'packages' output variable
      packages: ${{ steps.filter.outputs.changes }}
    steps:
    # For pull requests it's not necessary to checkout the code
    - uses: dorny/paths-filter@v3
      id: filter
      with:
        filters: |
          package1: src/package1
          package2: src/package2

  # JOB to build and test each of modified packages
  build:
    needs: changes
    strategy:
      matrix:
        # Parse JSON array containing names of all filters matching any of changed files
        # e.g. ['package1', 'package2'] if both package folders contains changes
        package: ${{ fromJSON(needs.changes.outputs.packages) }}
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - ...
";

#[test]
fn example_4_the_matrix_has_one_build_per_changed_filter() {
    let fake = FakeGithub::start();
    // `src/package1` is a one-glob filter: it matches the path `src/package1` itself, not the
    // files under it (paths-filter's picomatch does the same).
    fake.set_pull_files(
        42,
        &[
            ("modified", "src/package1", None),
            ("added", "src/package2/lib.js", None),
        ],
    );
    let repo = ActRepo::new();
    with_workflow(
        &repo,
        &format!("on: pull_request\n{}", drop_in_as(EXAMPLE_4, PUBLISHED)),
    );
    repo.commit("the workflow");
    let run = run_pull_request(&repo, &fake, 42, true);
    run.assert_success();
    assert_eq!(run.output("changes", "filter", "changes"), "[\"package1\"]");
    assert_eq!(run.matrices("build"), [json!({"package": "package1"})]);

    fake.set_pull_files(
        42,
        &[
            ("modified", "src/package2", None),
            ("removed", "src/package1", None),
        ],
    );
    let run = run_pull_request(&repo, &fake, 42, true);
    run.assert_success();
    assert_eq!(
        run.output("changes", "filter", "changes"),
        "[\"package1\",\"package2\"]"
    );
    assert_eq!(
        run.matrices("build"),
        [
            json!({"package": "package1"}),
            json!({"package": "package2"})
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// 5. Pull requests, checked out; without a token, the changes come from git.
// ---------------------------------------------------------------------------------------------

const EXAMPLE_5: &str = "\
on:
  pull_request:
    branches: # PRs to the following branches will trigger the workflow
      - master
      - develop
jobs:
  build:
    runs-on: ubuntu-latest
    # Required permissions
    permissions:
      pull-requests: read
    steps:
    - uses: actions/checkout@v4
    - uses: dorny/paths-filter@v3
      id: filter
      with:
        filters: ... # Configure your filters
";

const BACKEND_FRONTEND: &str = "backend:\n  - 'backend/**'\nfrontend:\n  - 'frontend/**'\n";

#[test]
fn example_5_a_pull_request_without_a_token_compares_its_base_sha_with_the_checkout() {
    let repo = ActRepo::new();
    repo.git(&["checkout", "-q", "-b", "develop"]);
    let base = commit(&repo, "develop", &[("frontend/app.js", "1")]);
    repo.push(&["develop"]);
    repo.git(&["checkout", "-q", "-b", "feature"]);
    with_workflow(&repo, &configure(&drop_in(EXAMPLE_5), BACKEND_FRONTEND));
    commit(&repo, "feature", &[("backend/api.py", "x")]);
    repo.push(&["feature"]);
    // No GITHUB_TOKEN secret: `github.token` is empty, so is the `token` input, and paths-filter
    // then reads `pull_request.base.sha..HEAD` with git.
    let run = repo
        .act("pull_request", ".github/workflows/t.yml")
        .payload(pull_request_event(3, "develop", &base, &head(&repo)))
        .run();
    run.assert_success();
    assert_eq!(
        outputs(&run, "build", "filter"),
        json!({
            "backend": "true",
            "backend_count": "1",
            "frontend": "false",
            "frontend_count": "0",
            "changes": "[\"backend\"]",
            "filters": "{\"changes\":[\"backend\"],\"filters\":{\"backend\":[\"backend/api.py\"],\"frontend\":[]}}",
        })
    );
}

// ---------------------------------------------------------------------------------------------
// 6. A feature branch against `base: develop`, from the merge base.
// ---------------------------------------------------------------------------------------------

const EXAMPLE_6: &str = "\
on:
  push:
    branches: # Push to following branches will trigger the workflow
      - feature/**
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
    - uses: actions/checkout@v4
      with:
        # This may save additional git fetch roundtrip if
        # merge-base is found within latest 20 commits
        fetch-depth: 20
    - uses: dorny/paths-filter@v3
      id: filter
      with:
        base: develop # Change detection against merge-base with this branch
        filters: ... # Configure your filters
";

#[test]
fn example_6_a_feature_branch_compares_from_its_merge_base_with_develop() {
    let repo = ActRepo::new();
    repo.git(&["checkout", "-q", "-b", "develop"]);
    commit(&repo, "develop 1", &[("docs/a.md", "1")]);
    repo.git(&["checkout", "-q", "-b", "feature/login"]);
    with_workflow(&repo, &configure(&drop_in(EXAMPLE_6), BACKEND_FRONTEND));
    let first = commit(&repo, "feature 1", &[("backend/login.py", "1")]);
    commit(&repo, "feature 2", &[("backend/login.py", "2")]);
    // develop moves on after the branch point: not the feature's change.
    repo.git(&["checkout", "-q", "develop"]);
    commit(&repo, "develop 2", &[("frontend/app.js", "1")]);
    repo.push(&["develop"]);
    repo.git(&["checkout", "-q", "feature/login"]);
    // The push of the second commit only: `before` is the first, but a feature branch is
    // compared with its base branch, from the merge base.
    let run = run_push(&repo, "feature/login", &first);
    run.assert_success();
    assert_eq!(run.output("build", "filter", "changes"), "[\"backend\"]");
    assert_eq!(run.output("build", "filter", "backend_count"), "1");
    assert_eq!(run.output("build", "filter", "frontend"), "false");
}

// ---------------------------------------------------------------------------------------------
// 7. Long-lived branches: `base: ${{ github.ref }}`, from the push's `before`.
// ---------------------------------------------------------------------------------------------

const EXAMPLE_7: &str = "\
on:
  push:
    branches: # Push to the following branches will trigger the workflow
      - master
      - develop
      - release/**
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
    - uses: actions/checkout@v4
    - uses: dorny/paths-filter@v3
      id: filter
      with:
        # Use context to get the branch where commits were pushed.
        # If there is only one long-lived branch (e.g. master),
        # you can specify it directly.
        # If it's not configured, the repository default branch is used.
        base: ${{ github.ref }}
        filters: ... # Configure your filters
";

#[test]
fn example_7_a_long_lived_branch_compares_with_the_commit_before_the_push() {
    let repo = ActRepo::new();
    repo.git(&["checkout", "-q", "-b", "release/1.x"]);
    with_workflow(&repo, &configure(&drop_in(EXAMPLE_7), BACKEND_FRONTEND));
    commit(&repo, "release 1", &[("backend/api.py", "1")]);
    repo.push(&["release/1.x"]);
    let before = head(&repo);
    commit(&repo, "release 2", &[("frontend/app.js", "2")]);
    let run = run_push(&repo, "release/1.x", &before);
    run.assert_success();
    assert_eq!(
        run.output("build", "filter", "changes"),
        "[\"frontend\"]",
        "only what this push brought, not the branch's earlier backend commit"
    );
}

// ---------------------------------------------------------------------------------------------
// 8. Local changes: `base: HEAD`.
// ---------------------------------------------------------------------------------------------

const EXAMPLE_8: &str = "\
on:
  push:
    branches: # Push to following branches will trigger the workflow
      - master
      - develop
      - release/**
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
    - uses: actions/checkout@v4

      # Some action that modifies files tracked by git (e.g. code linter)
    - uses: johndoe/some-action@v1

      # Filter to detect which files were modified
      # Changes could be, for example, automatically committed
    - uses: dorny/paths-filter@v3
      id: filter
      with:
        base: HEAD
        filters: ... # Configure your filters
";

#[test]
fn example_8_local_changes_are_the_working_tree_against_head() {
    let repo = ActRepo::new();
    repo.git(&["checkout", "-q", "-b", "develop"]);
    commit(
        &repo,
        "tracked",
        &[("backend/api.py", "1"), ("frontend/app.js", "1")],
    );
    // act cannot fetch johndoe/some-action: a `run:` step edits a tracked file and stages
    // another, as a linter would; an untracked file is not a change to paths-filter.
    let example = drop_in(EXAMPLE_8).replace(
        "- uses: johndoe/some-action@v1",
        "- run: |\n        echo fixed > backend/api.py\n        echo fixed > frontend/app.js && git add frontend/app.js\n        mkdir -p docs && echo new > docs/untracked.md",
    );
    with_workflow(
        &repo,
        &configure(
            &example,
            &format!("{BACKEND_FRONTEND}docs:\n  - 'docs/**'\n"),
        ),
    );
    let before = head(&repo);
    commit(&repo, "the workflow", &[]);
    let run = run_push(&repo, "develop", &before);
    run.assert_success();
    assert_eq!(
        outputs(&run, "build", "filter"),
        json!({
            "backend": "true",
            "backend_count": "1",
            "frontend": "true",
            "frontend_count": "1",
            "docs": "false",
            "docs_count": "0",
            "changes": "[\"backend\",\"frontend\"]",
            "filters": "{\"changes\":[\"backend\",\"frontend\"],\"filters\":{\"backend\":[\"backend/api.py\"],\"frontend\":[\"frontend/app.js\"],\"docs\":[]}}",
        })
    );
}

// ---------------------------------------------------------------------------------------------
// 9-12. Advanced options.
// ---------------------------------------------------------------------------------------------

/// The advanced snippets as printed put `- uses:` at column 0 and its keys at column 6: the
/// keys are moved under it (the only change besides [`drop_in`]'s).
fn advanced(snippet: &str) -> String {
    let fixed: Vec<&str> = snippet
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                l
            } else {
                l.strip_prefix("    ").unwrap_or(l)
            }
        })
        .collect();
    drop_in(&(fixed.join("\n") + "\n"))
}

const EXAMPLE_9: &str = "\
- uses: dorny/paths-filter@v3
      id: filter
      with:
        # Path to file where filters are defined
        filters: .github/filters.yaml
";

#[test]
fn example_9_filters_from_a_file() {
    let repo = ActRepo::new();
    repo.write(".github/filters.yaml", BACKEND_FRONTEND);
    with_workflow(&repo, &job("push", &advanced(EXAMPLE_9)));
    let before = head(&repo);
    commit(&repo, "frontend", &[("frontend/index.html", "<p>")]);
    let run = run_push(&repo, "main", &before);
    run.assert_success();
    assert_eq!(run.output("tests", "filter", "frontend"), "true");
    assert_eq!(run.output("tests", "filter", "backend"), "false");
    assert_eq!(run.output("tests", "filter", "changes"), "[\"frontend\"]");
}

const EXAMPLE_10: &str = "\
- uses: dorny/paths-filter@v3
      id: filter
      with:
        # &shared is YAML anchor,
        # *shared references previously defined anchor
        # src filter will match any path under common, config and src folders
        filters: |
          shared: &shared
            - common/**
            - config/**
          src:
            - *shared
            - src/**
";

#[test]
fn example_10_anchors_reuse_rules() {
    let repo = ActRepo::new();
    with_workflow(&repo, &job("push", &advanced(EXAMPLE_10)));
    let before = head(&repo);
    commit(&repo, "config", &[("config/app.toml", "x")]);
    let run = run_push(&repo, "main", &before);
    run.assert_success();
    assert_eq!(
        outputs(&run, "tests", "filter"),
        json!({
            "shared": "true",
            "shared_count": "1",
            "src": "true",
            "src_count": "1",
            "changes": "[\"shared\",\"src\"]",
            "filters": "{\"changes\":[\"shared\",\"src\"],\"filters\":{\"shared\":[\"config/app.toml\"],\"src\":[\"config/app.toml\"]}}",
        })
    );
}

const EXAMPLE_11: &str = "\
- uses: dorny/paths-filter@v3
      id: filter
      with:
        # Changed file can be 'added', 'modified', or 'deleted'.
        # By default, the type of change is not considered.
        # Optionally, it's possible to specify it using nested
        # dictionary, where the type of change composes the key.
        # Multiple change types can be specified using `|` as the delimiter.
        filters: |
          shared: &shared
            - common/**
            - config/**
          addedOrModified:
            - added|modified: '**'
          allChanges:
            - added|deleted|modified: '**'
          addedOrModifiedAnchors:
            - added|modified: *shared
";

#[test]
fn example_11_change_types() {
    let repo = ActRepo::new();
    commit(
        &repo,
        "before",
        &[("common/old.txt", "x"), ("LICENSE", "v1")],
    );
    repo.push(&["main"]);
    let before = head(&repo);
    with_workflow(&repo, &job("push", &advanced(EXAMPLE_11)));
    repo.remove("common/old.txt");
    // The workflow file itself is added too.
    commit(&repo, "change types", &[("LICENSE", "v2")]);
    let run = run_push(&repo, "main", &before);
    run.assert_success();
    assert_eq!(
        outputs(&run, "tests", "filter"),
        json!({
            "shared": "true",
            "shared_count": "1",
            "addedOrModified": "true",
            "addedOrModified_count": "2",
            "allChanges": "true",
            "allChanges_count": "3",
            "addedOrModifiedAnchors": "false",
            "addedOrModifiedAnchors_count": "0",
            "changes": "[\"shared\",\"addedOrModified\",\"allChanges\"]",
            "filters": "{\"changes\":[\"shared\",\"addedOrModified\",\"allChanges\"],\"filters\":{\"shared\":[\"common/old.txt\"],\"addedOrModified\":[\".github/workflows/t.yml\",\"LICENSE\"],\"allChanges\":[\".github/workflows/t.yml\",\"LICENSE\",\"common/old.txt\"],\"addedOrModifiedAnchors\":[]}}",
        })
    );
}

const EXAMPLE_12: &str = "\
- uses: dorny/paths-filter@v3
      id: filter
      with:
        # This makes it so that all the patterns have to match a file for it to be
        # considered changed. Because we have the exclusions for .jpeg and .md files
        # the end result is that if those files are changed they will be ignored
        # because they don't match the respective rules excluding them.
        #
        # This can be leveraged to ensure that you only build & test software changes
        # that have real impact on the behavior of the code, e.g. you can set up your
        # build to run when Typescript/Rust/etc. files are changed but markdown
        # changes in the diff will be ignored and you consume less resources to build.
        predicate-quantifier: 'every'
        filters: |
          backend:
            - 'pkg/a/b/c/**'
            - '!**/*.jpeg'
            - '!**/*.md'
";

#[test]
fn example_12_every_rule_must_match() {
    let repo = ActRepo::new();
    with_workflow(&repo, &job("push", &advanced(EXAMPLE_12)));
    let before = head(&repo);
    commit(
        &repo,
        "docs and images",
        &[("pkg/a/b/c/README.md", "x"), ("pkg/a/b/c/logo.jpeg", "x")],
    );
    let run = run_push(&repo, "main", &before);
    run.assert_success();
    assert_eq!(run.output("tests", "filter", "backend"), "false");

    let before = head(&repo);
    commit(
        &repo,
        "code",
        &[("pkg/a/b/c/main.ts", "x"), ("pkg/a/b/c/NOTES.md", "x")],
    );
    let run = run_push(&repo, "main", &before);
    run.assert_success();
    assert_eq!(run.output("tests", "filter", "backend"), "true");
    assert_eq!(run.output("tests", "filter", "backend_count"), "1");
}

// ---------------------------------------------------------------------------------------------
// 13. A shell list spliced into a script.
// ---------------------------------------------------------------------------------------------

const EXAMPLE_13: &str = "\
- uses: dorny/paths-filter@v3
  id: filter
  with:
    # Enable listing of files matching each filter.
    # Paths to files will be available in `${FILTER_NAME}_files` output variable.
    # Paths will be escaped and space-delimited.
    # Output is usable as command-line argument list in Linux shell
    list-files: shell

    # In this example changed files will be checked by linter.
    # It doesn't make sense to lint deleted files.
    # Therefore we specify we are only interested in added or modified files.
    filters: |
      markdown:
        - added|modified: '*.md'
- name: Lint Markdown
  if: ${{ steps.filter.outputs.markdown == 'true' }}
  run: npx textlint ${{ steps.filter.outputs.markdown_files }}
";

#[test]
fn example_13_the_shell_list_splices_into_a_script_as_one_argument_per_file() {
    let repo = ActRepo::new();
    commit(&repo, "old", &[("OLD.md", "x")]);
    repo.push(&["main"]);
    let before = head(&repo);
    // No npm here: `printf` shows the arguments the shell made of the spliced list.
    with_workflow(
        &repo,
        &job(
            "push",
            &drop_in(EXAMPLE_13).replace("npx textlint", "printf '<%s>\\n'"),
        ),
    );
    repo.remove("OLD.md");
    commit(
        &repo,
        "markdown",
        &[
            ("README.md", "x"),
            ("it's here.md", "x"),
            ("cost $HOME `id`.md", "x"),
            ("docs/nested.md", "x"),
        ],
    );
    let run = run_push(&repo, "main", &before);
    run.assert_success();
    assert_eq!(
        run.output("tests", "filter", "markdown_files"),
        r#"README.md 'cost $HOME `id`.md' "it's here.md""#
    );
    assert_eq!(run.output("tests", "filter", "markdown_count"), "3");
    assert!(run.step_ran("tests", "Lint Markdown"));
    let log = run.log("tests");
    for arg in ["<cost $HOME `id`.md>", "<it's here.md>", "<README.md>"] {
        assert!(log.contains(arg), "`{arg}` not an argument in:\n{log}");
    }
}

// ---------------------------------------------------------------------------------------------
// 14. A JSON list handed to another action.
// ---------------------------------------------------------------------------------------------

const EXAMPLE_14: &str = "\
- uses: dorny/paths-filter@v3
  id: filter
  with:
    # Enable listing of files matching each filter.
    # Paths to files will be available in `${FILTER_NAME}_files` output variable.
    # Paths will be formatted as JSON array
    list-files: json

    # In this example all changed files are passed to the following action to do
    # some custom processing.
    filters: |
      changed:
        - '**'
- name: Lint Markdown
  uses: johndoe/some-action@v1
  with:
    files: ${{ steps.filter.outputs.changed_files }}
";

/// `johndoe/some-action` cannot be fetched: a local action of this repository stands in for it
/// and prints the files it was given, one a line, from the JSON array.
const SOME_ACTION: &str = "\
name: some action
inputs:
  files:
    required: true
runs:
  using: composite
  steps:
    - shell: bash
      env:
        FILES: ${{ inputs.files }}
      run: |
        node -e 'for (const f of JSON.parse(process.env.FILES)) console.log(`file: ${f}`)'
";

#[test]
fn example_14_the_json_list_is_handed_to_another_action() {
    let repo = ActRepo::new();
    repo.write(".github/actions/some-action/action.yml", SOME_ACTION);
    with_workflow(
        &repo,
        &job(
            "push",
            &drop_in(EXAMPLE_14).replace("johndoe/some-action@v1", "./.github/actions/some-action"),
        ),
    );
    commit(&repo, "setup", &[]);
    repo.push(&["main"]);
    let before = head(&repo);
    commit(
        &repo,
        "files",
        &[("a \"quoted\" name.txt", "x"), ("src/ü.rs", "x")],
    );
    let run = run_push(&repo, "main", &before);
    run.assert_success();
    assert_eq!(
        run.output("tests", "filter", "changed_files"),
        r#"["a \"quoted\" name.txt","src/ü.rs"]"#
    );
    let log = run.log("tests");
    for line in ["file: a \"quoted\" name.txt", "file: src/ü.rs"] {
        assert!(log.contains(line), "`{line}` not in:\n{log}");
    }
}

// ---------------------------------------------------------------------------------------------
// Beyond the README.
// ---------------------------------------------------------------------------------------------

#[test]
fn a_malformed_filters_file_is_an_error_annotation_on_its_line() {
    let repo = ActRepo::new();
    repo.write(
        ".github/filters.yaml",
        "backend:\n  - 'backend/**'\nfrontend:\n  - modified|typo: 'frontend/**'\n",
    );
    with_workflow(&repo, &job("push", &advanced(EXAMPLE_9)));
    let before = head(&repo);
    commit(&repo, "frontend", &[("frontend/index.html", "<p>")]);
    let run = run_push(&repo, "main", &before);
    run.assert_failure();
    assert_eq!(
        run.step_result("tests", "filter").as_deref(),
        Some("failure")
    );
    let annotations = run.annotations("tests");
    assert!(
        annotations.iter().any(
            |a| a.starts_with("::error file=.github/filters.yaml,line=4,col=")
                && a.contains("unknown change status `typo`")
        ),
        "{annotations:#?}"
    );
    assert!(
        run.outputs("tests", "filter").is_empty(),
        "no outputs on failure"
    );
}

#[test]
fn bad_input_fails_the_step_with_an_error_annotation() {
    let repo = ActRepo::new();
    let example = drop_in(EXAMPLE_13).replace("list-files: shell", "list-files: yaml");
    with_workflow(&repo, &job("push", &example));
    let before = head(&repo);
    commit(&repo, "x", &[("README.md", "x")]);
    let run = run_push(&repo, "main", &before);
    run.assert_failure();
    assert!(
        run.annotations("tests")
            .iter()
            .any(|a| a.starts_with("::error")
                && a.contains("`list-files` is set to invalid value `yaml`")),
        "{:#?}",
        run.annotations("tests")
    );
    assert!(!run.step_ran("tests", "Lint Markdown"));
}

/// A pull request of 150 files (two pages of the API) with a rename, read without a checkout:
/// the rename is the new path added and the old one deleted, as paths-filter splits it.
#[test]
fn a_pull_request_is_read_from_the_api_across_pages_with_renames_split() {
    let fake = FakeGithub::start();
    let many: Vec<String> = (0..148).map(|i| format!("docs/page-{i:03}.md")).collect();
    let mut files: Vec<(&str, &str, Option<&str>)> =
        many.iter().map(|p| ("added", p.as_str(), None)).collect();
    files.push(("renamed", "src/new_name.rs", Some("lib/old_name.rs")));
    files.push(("removed", "lib/gone.rs", None));
    fake.set_pull_files(7, &files);
    let repo = ActRepo::new();
    with_workflow(
        &repo,
        "on: pull_request
jobs:
  changes:
    runs-on: ubuntu-latest
    steps:
    - uses: PUBLISHED
      id: filter
      with:
        deckhand-path: BIN
        list-files: csv
        filters: |
          src:
            - added: 'src/**'
          lib:
            - deleted: 'lib/**'
          renamed:
            - renamed: '**'
          docs: 'docs/**'
"
        .replace("BIN", BIN)
        .replace("PUBLISHED", PUBLISHED)
        .as_str(),
    );
    repo.commit("the workflow");
    let run = run_pull_request(&repo, &fake, 7, true);
    run.assert_success();
    let out = run.outputs("changes", "filter");
    assert_eq!(out["src_files"], "src/new_name.rs");
    assert_eq!(out["lib_files"], "lib/old_name.rs,lib/gone.rs");
    assert_eq!(out["renamed"], "false", "a rename is never `renamed`");
    assert_eq!(out["docs_count"], "148");
    assert_eq!(out["changes"], "[\"src\",\"lib\",\"docs\"]");
    let pages = fake.matching("GET", "/pulls/7/files");
    assert_eq!(pages.len(), 2, "the Link header's next page was followed");
    assert_eq!(pages[1].query.get("page").map(String::as_str), Some("2"));
}

#[test]
fn a_filter_named_changes_takes_the_changes_output() {
    let repo = ActRepo::new();
    with_workflow(
        &repo,
        &job(
            "push",
            &drop_in(
                "\
- uses: dorny/paths-filter@v3
  id: filter
  with:
    filters: |
      changes:
        - 'src/**'
      docs:
        - 'docs/**'
- name: on changes
  if: steps.filter.outputs.changes == 'true'
  run: echo ok
",
            ),
        ),
    );
    let before = head(&repo);
    commit(&repo, "src", &[("src/a.rs", "x")]);
    let run = run_push(&repo, "main", &before);
    run.assert_success();
    assert_eq!(
        outputs(&run, "tests", "filter"),
        json!({
            "changes": "true",
            "changes_count": "1",
            "docs": "false",
            "docs_count": "0",
            "filters": "{\"changes\":[\"changes\"],\"filters\":{\"changes\":[\"src/a.rs\"],\"docs\":[]}}",
        })
    );
    assert!(run.step_ran("tests", "on changes"));
}

/// A merge queue's group: its `base_sha..head_sha`.
#[test]
fn a_merge_group_compares_its_two_shas() {
    let repo = ActRepo::new();
    with_workflow(&repo, &job("merge_group", &drop_in(EXAMPLE_1)));
    let base = commit(&repo, "base", &[]);
    commit(&repo, "queued", &[("src/queued.rs", "x")]);
    repo.push(&["main"]);
    let run = repo
        .act("merge_group", ".github/workflows/t.yml")
        .payload(json!({
            "action": "checks_requested",
            "merge_group": {"base_sha": base, "head_sha": head(&repo),
                "base_ref": "refs/heads/main", "head_ref": "refs/heads/gh-readonly-queue/main/pr-7-x"},
            "repository": {"full_name": "octo-org/octo-repo", "default_branch": "main"},
        }))
        .run();
    run.assert_success();
    assert_eq!(run.output("tests", "changes", "src"), "true");
    assert_eq!(
        run.output("tests", "changes", "filters"),
        "{\"changes\":[\"src\"],\"filters\":{\"src\":[\"src/queued.rs\"]}}"
    );
}

/// The README's example 3 without `pull-requests: read` on a private repository: GitHub answers
/// 403, and the error says which permission to give (or `token: ''`).
#[test]
fn a_pull_request_the_token_cannot_read_names_the_permission() {
    let fake = FakeGithub::start();
    fake.set_pull_files(7, &[("modified", "backend/app.py", None)]);
    fake.fail(
        "GET",
        "/pulls/7/files",
        1,
        403,
        &[],
        json!({"message": "Resource not accessible by integration", "status": "403"}),
    );
    let repo = ActRepo::new();
    with_workflow(
        &repo,
        &format!("on: pull_request\n{}", drop_in_as(EXAMPLE_3, PUBLISHED)),
    );
    repo.commit("the workflow");
    let run = run_pull_request(&repo, &fake, 7, true);
    run.assert_failure();
    assert_eq!(run.job_result("backend"), None);
    assert_eq!(run.job_result("frontend"), None);
    // The whole transcript: act shows an `::error` line as an annotation, not as the step's
    // raw output, and which of the two carries the text first is not fixed.
    let log = run.transcript();
    assert!(
        log.contains("Resource not accessible by integration")
            && log.contains("`permissions: pull-requests: read`"),
        "{log}"
    );
}
