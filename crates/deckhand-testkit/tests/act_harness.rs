//! The act harness reports what act did: outputs of composite and JavaScript actions as later
//! steps and jobs see them, skipped steps, failed jobs and step summaries. These are the
//! executor behaviours the action tests rely on; if an act upgrade changes one, this fails first.

use deckhand_testkit::act::ActRepo;
use serde_json::json;

const COMPOSITE: &str = r#"name: greet
inputs:
  who: {required: true}
outputs:
  greeting: {value: "${{ steps.say.outputs.greeting }}"}
  # Maps to an output the step does not write: empty.
  farewell: {value: "${{ steps.say.outputs.goodbye }}"}
runs:
  using: composite
  steps:
    - id: say
      shell: bash
      env: {WHO: "${{ inputs.who }}"}
      run: |
        echo "greeting=hello ${WHO}" >> "$GITHUB_OUTPUT"
        echo "farewell=bye ${WHO}" >> "$GITHUB_OUTPUT"
        echo "undeclared=inner only" >> "$GITHUB_OUTPUT"
        echo "greeted **${WHO}**" >> "$GITHUB_STEP_SUMMARY"
        echo "said hello to ${WHO}"
"#;

// Sets an output its action.yml does not declare: only JavaScript and container actions can.
const JAVASCRIPT: &str = r#"name: dynamic
inputs:
  name: {required: true}
runs:
  using: node24
  main: index.js
"#;
const JAVASCRIPT_MAIN: &str = r#"const fs = require('fs');
fs.appendFileSync(process.env.GITHUB_OUTPUT, `${process.env.INPUT_NAME}=true\n`);
"#;

const WORKFLOW: &str = r#"on: push
jobs:
  first:
    runs-on: ubuntu-24.04
    outputs:
      greeting: ${{ steps.greet.outputs.greeting }}
      backend: ${{ steps.dynamic.outputs.backend }}
    steps:
      - uses: actions/checkout@v4
      - id: greet
        uses: ./actions/test-greet
        with: {who: world}
      - id: dynamic
        uses: ./actions/test-dynamic
        with: {name: backend}
      - id: skipped
        if: steps.dynamic.outputs.backend != 'true'
        run: echo never
      - id: seen
        env:
          GREETING: "${{ steps.greet.outputs.greeting }}"
          FAREWELL: "${{ steps.greet.outputs.farewell }}"
          UNDECLARED: "${{ steps.greet.outputs.undeclared }}"
        run: |
          echo "seen=${GREETING}" >> "$GITHUB_OUTPUT"
          echo "farewell=${FAREWELL}" >> "$GITHUB_OUTPUT"
          echo "undeclared=${UNDECLARED}" >> "$GITHUB_OUTPUT"
  second:
    needs: first
    if: needs.first.outputs.backend == 'true'
    runs-on: ubuntu-24.04
    steps:
      - id: got
        env: {GREETING: "${{ needs.first.outputs.greeting }}"}
        run: echo "got=${GREETING}" >> "$GITHUB_OUTPUT"
  broken:
    needs: first
    runs-on: ubuntu-24.04
    steps:
      - id: fail
        run: exit 3
"#;

#[test]
fn act_reports_outputs_skips_results_and_summaries() {
    let repo = ActRepo::new();
    repo.write("actions/test-greet/action.yml", COMPOSITE)
        .write("actions/test-dynamic/action.yml", JAVASCRIPT)
        .write("actions/test-dynamic/index.js", JAVASCRIPT_MAIN)
        .write(".github/workflows/t.yml", WORKFLOW);
    repo.commit("workflow");
    let run = repo
        .act("push", ".github/workflows/t.yml")
        .payload(json!({"ref": "refs/heads/main"}))
        .run();

    // One job fails on purpose: act's own status is red.
    run.assert_failure();
    assert_eq!(run.output("first", "greet", "greeting"), "hello world");
    assert_eq!(run.output("first", "dynamic", "backend"), "true");
    assert_eq!(run.output("first", "seen", "seen"), "hello world");
    // GitHub's view of the composite's outputs: only those it declares, as mapped.
    assert_eq!(
        run.outputs("first", "greet"),
        [
            ("farewell".to_string(), String::new()),
            ("greeting".to_string(), "hello world".to_string())
        ]
        .into(),
    );
    // act's own (nektos/act#2553): the inner step's outputs replayed over the declared ones.
    // When an act upgrade fixes this, `outputs` no longer needs to strip the replay.
    assert_eq!(run.output("first", "seen", "farewell"), "bye world");
    assert_eq!(run.output("first", "seen", "undeclared"), "inner only");
    assert!(!run.step_ran("first", "skipped"), "{}", run.transcript());
    assert_eq!(
        run.step_result("first", "greet").as_deref(),
        Some("success")
    );
    assert_eq!(run.job_result("first").as_deref(), Some("success"));
    assert!(run.summary("first").contains("greeted **world**"));
    assert!(run.log("first").contains("said hello to world"));
    // A composite action's output reaches `needs.<job>.outputs`.
    assert_eq!(run.output("second", "got", "got"), "hello world");
    assert_eq!(run.job_result("broken").as_deref(), Some("failure"));
    assert_eq!(
        run.step_result("broken", "fail").as_deref(),
        Some("failure")
    );
}
