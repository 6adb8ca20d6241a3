use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use super::*;
use crate::ecs::taskdef::{REGISTER_FIELDS, TaskDefError, TaskDefSpec};

/// A Fargate web service as `aws ecs register-task-definition --cli-input-json` takes it.
const FARGATE_JSON: &str = r#"{
  "family": "web",
  "taskRoleArn": "arn:aws:iam::123456789012:role/web-task",
  "executionRoleArn": "arn:aws:iam::123456789012:role/web-exec",
  "networkMode": "awsvpc",
  "requiresCompatibilities": ["FARGATE"],
  "cpu": "1 vCPU",
  "memory": 2048,
  "runtimePlatform": {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
  "ephemeralStorage": {"sizeInGiB": 30},
  "containerDefinitions": [
    {
      "name": "app",
      "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v1",
      "essential": true,
      "cpu": 0,
      "memory": 1536,
      "memoryReservation": 1024,
      "portMappings": [
        {"containerPort": 8080, "protocol": "tcp", "name": "http", "appProtocol": "http"},
        {"containerPort": 9090, "hostPort": 9090}
      ],
      "environment": [
        {"name": "PORT", "value": "8080"},
        {"name": "RUST_LOG", "value": "info"}
      ],
      "secrets": [
        {"name": "DATABASE_URL", "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:web/db-AbCdEf"},
        {"name": "API_TOKEN", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/web/token"}
      ],
      "logConfiguration": {
        "logDriver": "awslogs",
        "options": {
          "awslogs-group": "/ecs/web",
          "awslogs-region": "us-east-1",
          "awslogs-stream-prefix": "app",
          "awslogs-create-group": "true"
        }
      },
      "healthCheck": {
        "command": ["CMD-SHELL", "curl -fsS http://localhost:8080/health || exit 1"],
        "interval": 30,
        "timeout": 5,
        "retries": 3,
        "startPeriod": 10
      },
      "dependsOn": [{"containerName": "migrate", "condition": "SUCCESS"}],
      "ulimits": [{"name": "nofile", "softLimit": 65536, "hardLimit": 65536}],
      "dockerLabels": {"com.example.team": "web"},
      "readonlyRootFilesystem": true,
      "stopTimeout": 30
    },
    {
      "name": "migrate",
      "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v1",
      "essential": false,
      "command": ["web", "migrate"],
      "environment": [],
      "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/web", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "migrate"}}
    }
  ],
  "volumes": [],
  "tags": [{"key": "team", "value": "web"}]
}
"#;

/// The same kind of task definition as a YAML author writes it: numbers for task-level cpu and
/// memory, plain scalars, comments.
const FARGATE_YAML: &str = r#"# the web service
family: web
taskRoleArn: arn:aws:iam::123456789012:role/web-task
executionRoleArn: arn:aws:iam::123456789012:role/web-exec
networkMode: awsvpc
requiresCompatibilities: [FARGATE]
cpu: 512
memory: "1 GB"
containerDefinitions:
  - name: app
    image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v1
    essential: true
    memory: 512
    portMappings:
      - containerPort: 8080
        protocol: tcp
    environment:
      - name: PORT
        value: "8080"
      - name: FEATURE_FLAGS
        value: ""
    secrets:
      - name: DATABASE_URL
        valueFrom: arn:aws:ssm:us-east-1:123456789012:parameter/web/db
    logConfiguration:
      logDriver: awslogs
      options:
        awslogs-group: /ecs/web
        awslogs-region: us-east-1
        awslogs-stream-prefix: app
    healthCheck:
      command: [CMD-SHELL, "curl -fsS http://localhost:8080/health || exit 1"]
      interval: 30
      retries: 3
    mountPoints: []
    linuxParameters:
      initProcessEnabled: true
tags:
  - key: team
    value: web
"#;

/// `aws ecs describe-task-definition --task-definition web:7 --include TAGS`.
const DESCRIBED_JSON: &str = r#"{
    "taskDefinition": {
        "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7",
        "containerDefinitions": [
            {
                "name": "app",
                "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v1",
                "cpu": 0,
                "portMappings": [{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}],
                "essential": true,
                "environment": [{"name": "PORT", "value": "8080"}],
                "mountPoints": [],
                "volumesFrom": [],
                "secrets": [{"name": "API_TOKEN", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/token"}],
                "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/web", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "app"}, "secretOptions": []},
                "systemControls": []
            }
        ],
        "family": "web",
        "taskRoleArn": "arn:aws:iam::123456789012:role/web-task",
        "executionRoleArn": "arn:aws:iam::123456789012:role/web-exec",
        "networkMode": "awsvpc",
        "revision": 7,
        "volumes": [],
        "status": "ACTIVE",
        "requiresAttributes": [
            {"name": "com.amazonaws.ecs.capability.logging-driver.awslogs"},
            {"name": "ecs.capability.execution-role-awslogs"},
            {"name": "ecs.capability.task-eni"}
        ],
        "placementConstraints": [],
        "compatibilities": ["EC2", "FARGATE"],
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "256",
        "memory": "512",
        "registeredAt": "2025-11-02T10:15:42.123000+00:00",
        "registeredBy": "arn:aws:sts::123456789012:assumed-role/deployer/ci",
        "enableFaultInjection": false
    },
    "tags": [{"key": "team", "value": "web"}]
}
"#;

fn validate(name: &str, text: &str) -> Result<(), TaskDefShapeError> {
    validate_register_document(Path::new(name), text)
}

fn error(name: &str, text: &str) -> TaskDefShapeError {
    validate(name, text).expect_err("the document must be rejected")
}

/// The error as a user reads it, with the line it points at and a caret under its column.
fn shown(text: &str, e: &TaskDefShapeError) -> String {
    let mut out = format!("{e}\n");
    if let Some(hint) = e.hint() {
        writeln!(out, "hint: {hint}").unwrap();
    }
    if e.line > 0 {
        let line = text.lines().nth(e.line - 1).unwrap_or_default();
        writeln!(out, "  | {line}").unwrap();
        writeln!(out, "  | {}^", " ".repeat(e.column.saturating_sub(1))).unwrap();
    }
    out
}

fn with(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "fixture has no {from:?}");
    text.replacen(from, to, 1)
}

const MINIMAL_YAML: &str =
    "family: web\ncontainerDefinitions:\n  - name: app\n    image: nginx:1.27\n";

// ------------------------------------------------------------------------------- the model

#[test]
fn shapes_file_parses_and_every_reference_resolves() {
    let model: &Model = &MODEL;
    let mut referenced = BTreeSet::new();
    for (name, shape) in &model.shapes {
        let targets: Vec<&String> = match shape {
            Shape::Structure {
                members, required, ..
            } => {
                for r in required {
                    assert!(members.contains_key(r), "{name} requires unknown {r}");
                }
                members.values().collect()
            }
            Shape::List { member, .. } => vec![member],
            Shape::Map { key, value } => vec![key, value],
            _ => vec![],
        };
        for t in targets {
            assert!(model.shapes.contains_key(t), "{name} refers to missing {t}");
            referenced.insert(t.clone());
        }
    }
    referenced.insert(model.input.clone());
    let unused: Vec<&String> = model
        .shapes
        .keys()
        .filter(|k| !referenced.contains(*k))
        .collect();
    assert!(unused.is_empty(), "shapes nothing reaches: {unused:?}");
    assert!(!model.botocore.is_empty());
}

#[test]
fn task_level_cpu_and_memory_are_plain_strings_in_the_model() {
    // The TaskSize rules replace the model's type for these two members; if the model ever
    // types them differently, the rules must be revisited.
    let members = MODEL.input_members();
    for field in ["cpu", "memory"] {
        let target = &members[field];
        assert!(
            matches!(MODEL.shape(target), Shape::String { values, .. } if values.is_empty()),
            "{field} is {target}"
        );
    }
    let Shape::Structure { required, .. } = MODEL.shape(&MODEL.input) else {
        panic!("the input is a structure");
    };
    assert_eq!(required, &["containerDefinitions", "family"]);
}

#[test]
fn read_only_fields_are_the_models_describe_only_fields() {
    let model: BTreeSet<&str> = describe_only_fields().into_iter().collect();
    let ours: BTreeSet<&str> = READ_ONLY_FIELDS.iter().copied().collect();
    assert_eq!(
        ours, model,
        "READ_ONLY_FIELDS (taskdef.rs) must be the TaskDefinition members RegisterTaskDefinition does not take"
    );
}

#[test]
fn the_hand_kept_register_fields_are_all_in_the_model() {
    let model = register_fields();
    for f in REGISTER_FIELDS.iter().chain([&TAGS_FIELD]) {
        assert!(
            model.contains(f),
            "{f} is not a RegisterTaskDefinition field"
        );
    }
}

/// The committed shapes are what the generator makes from the venv's (pinned) botocore. CI has
/// the venv (scripts/test.sh installs it, and also runs the check itself).
#[test]
#[allow(clippy::print_stderr)]
fn shapes_file_is_generated_from_the_venvs_botocore() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = root.join(".venv/bin/python");
    if !python.exists() {
        eprintln!(
            "skipped: no {} (world/install.sh makes it); scripts/test.sh runs the same check",
            python.display()
        );
        return;
    }
    let out = std::process::Command::new(&python)
        .arg(root.join("scripts/ecs-taskdef-shapes.py"))
        .arg("--check")
        .output()
        .expect("the venv's python runs");
    assert!(
        out.status.success(),
        "register_task_definition.shapes.json is stale:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

// ------------------------------------------------------------------------------ valid files

#[test]
fn a_fargate_task_definition_passes_in_json_and_yaml() {
    validate("td.json", FARGATE_JSON).unwrap();
    validate("td.yaml", FARGATE_YAML).unwrap();
    validate("td.yml", MINIMAL_YAML).unwrap();
    // A .json file may also be read as YAML (JSON is YAML): the same verdict.
    validate("td.yaml", FARGATE_JSON).unwrap();
}

#[test]
fn the_loader_reads_a_valid_file_and_turns_task_size_numbers_into_strings() {
    let spec = TaskDefSpec::from_file_text(Path::new("td.yaml"), FARGATE_YAML).unwrap();
    let body = spec.to_register_json();
    assert_eq!(body["cpu"], "512");
    assert_eq!(body["memory"], "1 GB");
    assert_eq!(spec.container_names(), ["app"]);
    let spec = TaskDefSpec::from_file_text(Path::new("td.json"), FARGATE_JSON).unwrap();
    assert_eq!(spec.to_register_json()["memory"], "2048");
    assert_eq!(spec.container_names(), ["app", "migrate"]);
}

#[test]
fn describe_task_definition_output_passes_and_its_read_only_fields_are_dropped() {
    validate("web-7.json", DESCRIBED_JSON).unwrap();
    let spec = TaskDefSpec::from_file_text(Path::new("web-7.json"), DESCRIBED_JSON).unwrap();
    let body = spec.to_register_json();
    for field in READ_ONLY_FIELDS {
        assert!(body.get(field).is_none(), "{field} must be dropped");
    }
    assert_eq!(body["tags"][0]["key"], "team");
    // The inner task definition alone (`--query taskDefinition`), read-only fields and all.
    let inner: serde_json::Value = serde_json::from_str(DESCRIBED_JSON).unwrap();
    let inner = serde_json::to_string_pretty(&inner["taskDefinition"]).unwrap();
    validate("web-7.json", &inner).unwrap();
    // And as YAML (`--output yaml`): the read-only fields have their own types there.
    let yaml = "taskDefinition:\n  family: web\n  revision: 7\n  status: ACTIVE\n  compatibilities: [EC2, FARGATE]\n  registeredAt: 2025-11-02T10:15:42.123000+00:00\n  deregisteredAt: null\n  requiresAttributes:\n    - name: ecs.capability.task-eni\n  containerDefinitions:\n    - name: app\n      image: nginx:1.27\ntags: []\n";
    validate("web-7.yaml", yaml).unwrap();
}

#[test]
fn task_size_takes_integers_or_values_with_the_documented_unit() {
    for (cpu, memory) in [
        ("256", "512"),
        ("1 vCPU", "2 GB"),
        ("1 vcpu", "2GB"),
        ("0.5 vCPU", "0.5 GB"),
        (".25 vCPU", "1 gb"),
        ("16vCPU", "120 GB"),
    ] {
        let text = format!("{MINIMAL_YAML}cpu: '{cpu}'\nmemory: '{memory}'\n");
        validate("td.yaml", &text).unwrap_or_else(|e| panic!("{cpu} / {memory}: {e}"));
    }
    validate(
        "td.yaml",
        &format!("{MINIMAL_YAML}cpu: 1024\nmemory: 4096\n"),
    )
    .unwrap();
    for (field, value) in [
        ("cpu", "lots"),
        ("cpu", "1 GB"),
        ("cpu", "0.5"),
        ("cpu", "-256"),
        ("cpu", "1. vCPU"),
        ("cpu", " 256"),
        ("memory", "2 GiB"),
        ("memory", "512 MiB"),
        ("memory", "1 vCPU"),
        ("memory", "GB"),
    ] {
        let text = format!("{MINIMAL_YAML}{field}: '{value}'\n");
        let e = error("td.yaml", &text);
        assert_eq!(e.field, field, "{value}: {e}");
    }
    for value in ["0.5", "-1", "true", "[512]"] {
        let text = format!("{MINIMAL_YAML}memory: {value}\n");
        assert_eq!(error("td.yaml", &text).field, "memory", "{value}");
    }
}

#[test]
fn yaml_anchors_and_aliases_are_read() {
    let yaml = with(
        &with(
            FARGATE_YAML,
            "    logConfiguration:\n",
            "    logConfiguration: &log\n",
        ),
        "\ntags:",
        "\n  - name: sidecar\n    image: nginx:1.27\n    logConfiguration: *log\ntags:",
    );
    validate("td.yaml", &yaml).unwrap();
    let spec = TaskDefSpec::from_file_text(Path::new("td.yaml"), &yaml).unwrap();
    assert_eq!(
        spec.to_register_json()["containerDefinitions"][1]["logConfiguration"]["logDriver"],
        "awslogs"
    );
}

#[test]
fn null_stands_for_an_optional_field_that_is_not_set() {
    let text = format!("{MINIMAL_YAML}networkMode: null\nvolumes:\ntags: ~\n");
    validate("td.yaml", &text).unwrap();
    let json = r#"{"family": "web", "cpu": null, "containerDefinitions": [{"name": "a", "image": "nginx", "environment": null}]}"#;
    validate("td.json", json).unwrap();
}

// --------------------------------------------------------------------------------- positions

#[test]
fn a_wrong_type_deep_in_the_file_names_line_column_and_field() {
    let json = with(FARGATE_JSON, r#""memory": 1536"#, r#""memory": "lots""#);
    let e = error("td.json", &json);
    assert_eq!(e.field, "containerDefinitions[0].memory");
    // JSON positions are where the parser stopped: the value's last character.
    assert_eq!((e.line, e.column), (17, 22));
    assert_eq!(
        e.to_string(),
        "td.json:17:22: `containerDefinitions[0].memory`: expected an integer, found a string \"lots\""
    );
    assert_eq!(e.path, "td.json");

    let yaml = with(FARGATE_YAML, "    memory: 512", "    memory: lots");
    let e = error("task-definition.yaml", &yaml);
    assert_eq!(e.field, "containerDefinitions[0].memory");
    // YAML positions are where the value (or key) starts.
    assert_eq!((e.line, e.column), (13, 13));
    assert_eq!(
        e.to_string(),
        "task-definition.yaml:13:13: `containerDefinitions[0].memory`: expected an integer, found a string \"lots\""
    );
}

#[test]
fn an_unknown_key_is_placed_at_the_key() {
    let yaml = with(FARGATE_YAML, "    environment:", "    enviroment:");
    let e = error("td.yaml", &yaml);
    assert_eq!(e.field, "containerDefinitions[0].enviroment");
    assert_eq!((e.line, e.column), (17, 5));
    assert_eq!(e.hint().as_deref(), Some("did you mean `environment`?"));

    let json = with(FARGATE_JSON, r#""environment": ["#, r#""enviroment": ["#);
    let e = error("td.json", &json);
    assert_eq!(e.field, "containerDefinitions[0].enviroment");
    assert_eq!((e.line, e.column), (23, 18));
    assert_eq!(e.hint().as_deref(), Some("did you mean `environment`?"));
}

// ----------------------------------------------------------------------------- the messages

#[test]
fn error_messages() {
    let cases: Vec<(&str, &str, String)> = vec![
        (
            "container memory as a string (JSON)",
            "td.json",
            with(FARGATE_JSON, r#""memory": 1536"#, r#""memory": "lots""#),
        ),
        (
            "container memory as a string (YAML)",
            "td.yaml",
            with(FARGATE_YAML, "    memory: 512", "    memory: lots"),
        ),
        (
            "task-level memory that is no size",
            "task-definition.yaml",
            with(FARGATE_YAML, "memory: \"1 GB\"", "memory: lots"),
        ),
        (
            "task-level cpu as a fraction without its unit",
            "td.yaml",
            with(FARGATE_YAML, "cpu: 512", "cpu: 0.5"),
        ),
        (
            "task-level memory in MiB with a unit",
            "td.json",
            with(FARGATE_JSON, r#""memory": 2048"#, r#""memory": "2048 MiB""#),
        ),
        (
            "misspelled nested field",
            "td.yaml",
            with(FARGATE_YAML, "    environment:", "    enviroment:"),
        ),
        (
            "misspelled top-level field",
            "td.yaml",
            with(FARGATE_YAML, "networkMode: awsvpc", "netwrokMode: awsvpc"),
        ),
        (
            "CloudFormation's PascalCase",
            "td.yaml",
            with(FARGATE_YAML, "containerDefinitions:", "ContainerDefinitions:"),
        ),
        (
            "a field no member is close to",
            "td.json",
            with(FARGATE_JSON, r#""stopTimeout": 30"#, r#""gracePeriod": 30"#),
        ),
        (
            "unknown enum value",
            "td.yaml",
            with(FARGATE_YAML, "networkMode: awsvpc", "networkMode: bridged"),
        ),
        (
            "enum value in the wrong case",
            "td.yaml",
            with(FARGATE_YAML, "[FARGATE]", "[fargate]"),
        ),
        (
            "a number where a list is expected",
            "td.yaml",
            with(
                FARGATE_YAML,
                "    portMappings:\n      - containerPort: 8080\n        protocol: tcp\n",
                "    portMappings: 80\n",
            ),
        ),
        (
            "a mapping where a list is expected",
            "td.json",
            with(
                FARGATE_JSON,
                r#""dependsOn": [{"containerName": "migrate", "condition": "SUCCESS"}]"#,
                r#""dependsOn": {"containerName": "migrate", "condition": "SUCCESS"}"#,
            ),
        ),
        (
            "a boolean as a string",
            "td.json",
            with(FARGATE_JSON, r#""essential": true"#, r#""essential": "true""#),
        ),
        (
            "an integer as a string",
            "td.json",
            with(FARGATE_JSON, r#""containerPort": 9090"#, r#""containerPort": "9090""#),
        ),
        (
            "an integer out of range",
            "td.json",
            with(FARGATE_JSON, r#""containerPort": 9090"#, r#""containerPort": 4294967296"#),
        ),
        (
            "a YAML number where ECS takes a string",
            "td.yaml",
            with(FARGATE_YAML, "value: \"8080\"", "value: 8080"),
        ),
        (
            "missing containerDefinitions",
            "td.yaml",
            "family: web\ncpu: 256\n".to_string(),
        ),
        (
            "a container without a name",
            "td.yaml",
            with(FARGATE_YAML, "  - name: app\n    image:", "  - image:"),
        ),
        (
            "a required field set to null",
            "td.yaml",
            with(FARGATE_YAML, "logDriver: awslogs", "logDriver: null"),
        ),
        (
            "a null list item",
            "td.json",
            with(FARGATE_JSON, r#""volumes": []"#, r#""volumes": [null]"#),
        ),
        (
            "a field given twice",
            "td.yaml",
            with(FARGATE_YAML, "    essential: true\n", "    essential: true\n    essential: false\n"),
        ),
        (
            "a map value that is not a string",
            "td.json",
            with(FARGATE_JSON, r#""com.example.team": "web""#, r#""com.example.team": 7"#),
        ),
        (
            "a union with nothing set",
            "td.yaml",
            with(
                FARGATE_YAML,
                "    mountPoints: []\n",
                "    mountPoints: []\n    resourceRequirements:\n      - type: GPU\n        value: \"1\"\n        sharingStrategy: {}\n",
            ),
        ),
        (
            "too many tags",
            "td.json",
            with(
                FARGATE_JSON,
                r#""tags": [{"key": "team", "value": "web"}]"#,
                &format!(
                    "\"tags\": [\n{}\n  ]",
                    (0..51)
                        .map(|i| format!(r#"    {{"key": "k{i}", "value": "v"}}"#))
                        .collect::<Vec<_>>()
                        .join(",\n")
                ),
            ),
        ),
        (
            "an empty tag key",
            "td.yaml",
            with(FARGATE_YAML, "  - key: team", "  - key: ''"),
        ),
        (
            "a YAML tag",
            "td.yaml",
            with(FARGATE_YAML, "family: web", "family: !Ref Family"),
        ),
        (
            "a YAML merge key",
            "td.yaml",
            with(
                &with(FARGATE_YAML, "    logConfiguration:\n", "    logConfiguration: &log\n"),
                "\ntags:",
                "\n  - name: sidecar\n    image: nginx:1.27\n    logConfiguration:\n      <<: *log\n      options: {}\ntags:",
            ),
        ),
        (
            "wrapped and unwrapped at once",
            "td.json",
            "{\n  \"family\": \"web\",\n  \"taskDefinition\": {\n    \"family\": \"web\",\n    \"containerDefinitions\": [{\"name\": \"a\", \"image\": \"nginx\"}]\n  }\n}\n"
                .to_string(),
        ),
        (
            "a task definition field beside the wrapper",
            "td.json",
            with(DESCRIBED_JSON, r#""tags": [{"key""#, r#""cpu": "512", "tags": [{"key""#),
        ),
        (
            "tags inside the wrapper",
            "td.yaml",
            "taskDefinition:\n  family: web\n  containerDefinitions: [{name: a, image: nginx}]\n  tags: [{key: team, value: web}]\n".to_string(),
        ),
        (
            "an unknown field inside the wrapper",
            "td.json",
            with(DESCRIBED_JSON, r#""revision": 7"#, r#""revison": 7"#),
        ),
        (
            "a list as the document",
            "td.yaml",
            "- family: web\n".to_string(),
        ),
        ("an empty YAML file", "td.yaml", String::new()),
        (
            "a JSON syntax error",
            "td.json",
            "{\n  \"family\": \"web\",\n  oops\n}".to_string(),
        ),
        (
            "a YAML syntax error",
            "td.yaml",
            "family: web\ncontainerDefinitions: [\n".to_string(),
        ),
        (
            "trailing characters after the JSON document",
            "td.json",
            format!("{FARGATE_JSON}}}"),
        ),
    ];
    let mut out = String::new();
    for (title, name, text) in &cases {
        let e = validate(name, text).expect_err(title);
        writeln!(out, "## {title}\n{}", shown(text, &e)).unwrap();
    }
    insta::assert_snapshot!(out);
}

#[test]
fn the_loader_reports_shape_errors_with_their_hint() {
    let yaml = with(FARGATE_YAML, "    environment:", "    enviroment:");
    let e = TaskDefSpec::from_file_text(Path::new("td.yaml"), &yaml).unwrap_err();
    assert!(matches!(e, TaskDefError::File(_)), "{e:?}");
    assert_eq!(
        e.to_string(),
        "td.yaml:17:5: `containerDefinitions[0].enviroment`: unknown field: ContainerDefinition has no `enviroment`"
    );
    assert_eq!(e.hint().as_deref(), Some("did you mean `environment`?"));
    // What the model cannot say stays the loader's: here, an image reference.
    let e = TaskDefSpec::from_file_text(
        Path::new("td.yaml"),
        &with(MINIMAL_YAML, "nginx:1.27", "'nginx:'"),
    )
    .unwrap_err();
    assert!(matches!(e, TaskDefError::Shape { .. }), "{e:?}");
}

#[test]
fn a_field_newer_than_the_hand_kept_list_is_accepted_from_the_model() {
    // `trustedExecutionConfiguration` is in the model but not in REGISTER_FIELDS.
    assert!(!REGISTER_FIELDS.contains(&"trustedExecutionConfiguration"));
    let text = format!(
        "{MINIMAL_YAML}trustedExecutionConfiguration:\n  isolationMode: ISOLATED_SANDBOX\n"
    );
    let spec = TaskDefSpec::from_file_text(Path::new("td.yaml"), &text).unwrap();
    assert_eq!(
        spec.to_register_json()["trustedExecutionConfiguration"]["isolationMode"],
        "ISOLATED_SANDBOX"
    );
}

#[test]
fn suggestions_take_the_closest_member_within_a_few_edits() {
    assert_eq!(edit_distance("memroy", "memory"), 1);
    assert_eq!(edit_distance("enviroment", "environment"), 1);
    assert_eq!(edit_distance("", "abc"), 3);
    let members: Vec<String> = ["environment", "environmentFiles", "essential"]
        .map(String::from)
        .to_vec();
    assert_eq!(closest("enviroment", members.iter()), Some("environment"));
    assert_eq!(closest("Environment", members.iter()), Some("environment"));
    assert_eq!(closest("entrypoint", members.iter()), None);
    assert_eq!(
        unknown_field_hint("memroy"),
        "did you mean `memory`?".to_string()
    );
}
