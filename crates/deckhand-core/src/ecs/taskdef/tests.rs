use serde_json::json;

use super::*;

/// A DescribeTaskDefinition `taskDefinition` as ECS returns it, with every read-only field.
fn described() -> Value {
    json!({
        "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7",
        "family": "web",
        "revision": 7,
        "status": "ACTIVE",
        "requiresAttributes": [{"name": "com.amazonaws.ecs.capability.docker-remote-api.1.18"}],
        "compatibilities": ["EC2", "FARGATE"],
        "registeredAt": 1_700_000_000.0,
        "registeredBy": "arn:aws:iam::123456789012:role/deployer",
        "deregisteredAt": null,
        "deleteRequestedAt": null,
        "requiresCompatibilities": ["FARGATE"],
        "networkMode": "awsvpc",
        "cpu": "256",
        "memory": "512",
        "pidMode": "task",
        "taskRoleArn": "arn:aws:iam::123456789012:role/web-task",
        "executionRoleArn": "arn:aws:iam::123456789012:role/web-exec",
        "ipcMode": "none",
        "enableFaultInjection": true,
        "ephemeralStorage": {"sizeInGiB": 30},
        "runtimePlatform": {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
        "proxyConfiguration": {"type": "APPMESH", "containerName": "envoy"},
        "inferenceAccelerators": [{"deviceName": "d1", "deviceType": "eia2.medium"}],
        "volumes": [{"name": "data"}],
        "placementConstraints": [{"type": "memberOf", "expression": "attribute:x == y"}],
        "containerDefinitions": [
            {
                "name": "app",
                "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v1",
                "essential": true,
                "cpu": 0,
                "portMappings": [{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}],
                "environment": [
                    {"name": "PORT", "value": "8080"},
                    {"name": "DB_PASSWORD", "value": "hunter2"}
                ],
                "secrets": [{"name": "API_TOKEN", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/token"}],
                "mountPoints": [],
                "volumesFrom": []
            },
            {"name": "envoy", "image": "envoyproxy/envoy:v1.30", "essential": true}
        ]
    })
}

fn spec() -> TaskDefSpec {
    TaskDefSpec::from_described(
        &described(),
        Some(&json!([{"key": "team", "value": "web"}])),
    )
    .unwrap()
}

fn image(container: Option<&str>, image: &str) -> ImageOverride {
    ImageOverride {
        container: container.map(str::to_string),
        image: ImageRef::parse(image).unwrap(),
    }
}

#[test]
fn clone_drops_exactly_the_read_only_fields_and_keeps_the_rest() {
    let body = spec().to_register_json();
    let obj = body.as_object().unwrap();
    for field in READ_ONLY_FIELDS {
        assert!(!obj.contains_key(*field), "{field} must be dropped");
    }
    for field in REGISTER_FIELDS {
        assert!(obj.contains_key(*field), "{field} must be kept");
    }
    assert_eq!(body["tags"], json!([{"key": "team", "value": "web"}]));
    assert_eq!(body["enableFaultInjection"], json!(true));
}

#[test]
fn read_only_and_register_fields_do_not_overlap() {
    for f in READ_ONLY_FIELDS {
        assert!(!REGISTER_FIELDS.contains(f), "{f} is in both lists");
    }
    assert!(!REGISTER_FIELDS.contains(&TAGS_FIELD));
}

#[test]
fn unknown_live_fields_are_carried_over_and_reported() {
    let mut td = described();
    td["someNewEcsFeature"] = json!({"on": true});
    let spec = TaskDefSpec::from_described(&td, None).unwrap();
    assert_eq!(spec.unknown_fields(), ["someNewEcsFeature"]);
    assert_eq!(
        spec.to_register_json()["someNewEcsFeature"],
        json!({"on": true})
    );
}

#[test]
fn unknown_file_fields_are_rejected() {
    let doc = json!({"family": "web", "memroy": "512", "containerDefinitions": [{"name": "a", "image": "nginx"}]});
    let err = TaskDefSpec::from_document(&doc, "td.yaml").unwrap_err();
    assert_eq!(
        err.to_string(),
        "td.yaml: unknown field `memroy` in the task definition"
    );
    assert!(err.hint().unwrap().contains("memory"));
}

#[test]
fn file_may_be_a_describe_output_and_numbers_become_strings() {
    let doc = json!({"taskDefinition": described(), "tags": [{"key": "a", "value": "b"}]});
    let spec = TaskDefSpec::from_document(&doc, "td.json").unwrap();
    assert_eq!(
        spec.to_register_json()["tags"],
        json!([{"key": "a", "value": "b"}])
    );
    let doc = json!({"family": "web", "cpu": 256, "memory": 512, "containerDefinitions": [{"name": "a", "image": "nginx"}]});
    let body = TaskDefSpec::from_document(&doc, "td.yaml")
        .unwrap()
        .to_register_json();
    assert_eq!(
        (body["cpu"].clone(), body["memory"].clone()),
        (json!("256"), json!("512"))
    );
}

#[test]
fn file_shape_errors_name_the_path() {
    let cases = [
        (
            json!([1, 2]),
            "td.yaml: the document is not a mapping of task definition fields",
        ),
        (
            json!({"containerDefinitions": []}),
            "td.yaml: `family` is missing",
        ),
        (
            json!({"family": "web", "containerDefinitions": []}),
            "td.yaml: `containerDefinitions` is empty",
        ),
        (
            json!({"family": "web", "containerDefinitions": [{"name": "a"}]}),
            "td.yaml: `containerDefinitions[0].image` must be a string",
        ),
        (
            json!({"family": "web", "containerDefinitions": [{"name": "a", "image": "Bad Image"}]}),
            "td.yaml: `containerDefinitions[0].image`: invalid image reference `Bad Image`: it contains white space",
        ),
        (
            json!({"family": "web", "containerDefinitions": [{"name": "a", "image": "x"}, {"name": "a", "image": "y"}]}),
            "td.yaml: container name `a` appears twice",
        ),
    ];
    for (doc, message) in cases {
        assert_eq!(
            TaskDefSpec::from_document(&doc, "td.yaml")
                .unwrap_err()
                .to_string(),
            message
        );
    }
}

#[test]
fn images_are_set_per_container() {
    let mut s = spec();
    s.apply(&TaskDefPatch {
        images: vec![
            image(Some("app"), "registry.local/web:v2"),
            image(Some("envoy"), "envoyproxy/envoy:v1.31"),
        ],
        env: vec![],
    })
    .unwrap();
    assert_eq!(
        s.container_images(),
        [
            ("app".to_string(), "registry.local/web:v2".to_string()),
            ("envoy".to_string(), "envoyproxy/envoy:v1.31".to_string())
        ]
    );
}

#[test]
fn bare_image_needs_exactly_one_container() {
    let err = spec()
        .apply(&TaskDefPatch {
            images: vec![image(None, "web:v2")],
            env: vec![],
        })
        .unwrap_err();
    assert!(
        matches!(err, TaskDefError::AmbiguousImage { count: 2, .. }),
        "{err}"
    );
    assert_eq!(
        err.hint().unwrap(),
        "name the container: --image app=web:v2"
    );

    let mut single = TaskDefSpec::from_document(
        &json!({"family": "one", "containerDefinitions": [{"name": "only", "image": "a:1"}]}),
        "x",
    )
    .unwrap();
    single
        .apply(&TaskDefPatch {
            images: vec![image(None, "a:2")],
            env: vec![],
        })
        .unwrap();
    assert_eq!(single.container_images()[0].1, "a:2");
}

#[test]
fn unknown_container_is_an_error_and_changes_nothing() {
    let mut s = spec();
    let before = s.clone();
    let err = s
        .apply(&TaskDefPatch {
            images: vec![
                image(Some("app"), "web:v2"),
                image(Some("worker"), "web:v2"),
            ],
            env: vec![],
        })
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "container `worker` is not in task definition family `web` (it has: app, envoy)"
    );
    assert_eq!(s, before);
}

#[test]
fn conflicting_images_for_one_container() {
    let err = spec()
        .apply(&TaskDefPatch {
            images: vec![image(Some("app"), "a:1"), image(Some("app"), "a:2")],
            env: vec![],
        })
        .unwrap_err();
    assert!(matches!(err, TaskDefError::ConflictingImages { .. }));
}

#[test]
fn env_overrides_update_or_append() {
    let mut s = spec();
    s.apply(&TaskDefPatch {
        images: vec![],
        env: vec![
            EnvOverride {
                container: "app".into(),
                name: "PORT".into(),
                value: "9090".into(),
            },
            EnvOverride {
                container: "envoy".into(),
                name: "LOG".into(),
                value: "debug".into(),
            },
        ],
    })
    .unwrap();
    let body = s.to_register_json();
    assert_eq!(
        body["containerDefinitions"][0]["environment"][0],
        json!({"name": "PORT", "value": "9090"})
    );
    assert_eq!(
        body["containerDefinitions"][1]["environment"],
        json!([{"name": "LOG", "value": "debug"}])
    );
}

#[test]
fn same_image_is_a_no_op_even_against_ecs_filled_defaults() {
    let live = spec();
    let mut patched = live.clone();
    patched
        .apply(&TaskDefPatch {
            images: vec![image(
                Some("app"),
                "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v1",
            )],
            env: vec![],
        })
        .unwrap();
    assert!(patched.same_as(&live));

    // A file without the defaults ECS adds compares equal to what ECS returns for it.
    let file = TaskDefSpec::from_document(
        &json!({"family": "f", "containerDefinitions": [{"name": "a", "image": "nginx", "environment": [{"name": "B", "value": "2"}, {"name": "A", "value": "1"}]}]}),
        "f.yaml",
    )
    .unwrap();
    let registered = TaskDefSpec::from_described(
        &json!({"family": "f", "revision": 1, "networkMode": "bridge", "compatibilities": ["EC2"], "containerDefinitions": [{
            "name": "a", "image": "nginx", "cpu": 0, "essential": true, "portMappings": [], "mountPoints": [], "volumesFrom": [],
            "environment": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}]}),
        None,
    )
    .unwrap();
    assert!(file.same_as(&registered));
}

#[test]
fn a_changed_env_value_is_a_change() {
    let live = spec();
    let mut patched = live.clone();
    patched
        .apply(&TaskDefPatch {
            images: vec![],
            env: vec![EnvOverride {
                container: "app".into(),
                name: "PORT".into(),
                value: "1".into(),
            }],
        })
        .unwrap();
    assert!(!patched.same_as(&live));
}

#[test]
fn diff_shows_the_image_and_hides_secrets() {
    let live = spec();
    let mut patched = live.clone();
    patched
        .apply(&TaskDefPatch {
            images: vec![image(
                Some("app"),
                "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v2",
            )],
            env: vec![EnvOverride {
                container: "app".into(),
                name: "DB_PASSWORD".into(),
                value: "correct-horse".into(),
            }],
        })
        .unwrap();
    let diff = render_diff(&live, &patched, "web:7 (live)", "web (new revision)", false);
    assert!(
        !diff.contains("hunter2") && !diff.contains("correct-horse"),
        "{diff}"
    );
    assert!(!diff.contains("8080\""), "{diff}");
    assert!(!diff.contains("parameter/token"), "{diff}");
    insta::assert_snapshot!(diff);
}

#[test]
fn diff_of_equal_specs_is_empty() {
    assert_eq!(render_diff(&spec(), &spec(), "a", "b", false), "");
    assert_eq!(render_diff(&spec(), &spec(), "a", "b", true), "");
}

/// `spec()` with the `app` container's environment replaced.
fn with_env(env: &[(&str, &str)]) -> TaskDefSpec {
    let mut doc = described();
    doc["containerDefinitions"][0]["environment"] = env
        .iter()
        .map(|(name, value)| json!({"name": name, "value": value}))
        .collect();
    TaskDefSpec::from_described(&doc, None).unwrap()
}

const LIVE_ENV: &[(&str, &str)] = &[
    ("PORT", "8080"),
    ("LOG_LEVEL", "info"),
    ("DB_PASSWORD", "hunter2"),
    ("FEATURE_FLAGS", "beta-checkout"),
];

/// Changes PORT and DB_PASSWORD, keeps LOG_LEVEL, removes FEATURE_FLAGS, adds REDIS_URL and a
/// Stripe key under a plain name.
const NEW_ENV: &[(&str, &str)] = &[
    ("PORT", "9090"),
    ("LOG_LEVEL", "info"),
    ("DB_PASSWORD", "correct-horse"),
    ("REDIS_URL", "redis://:s3cret-pw@cache:6379"),
    ("STRIPE", "sk_live_51Habc"),
];

const VALUES: &[&str] = &[
    "8080",
    "9090",
    "\"info\"",
    "hunter2",
    "correct-horse",
    "beta-checkout",
    "s3cret-pw",
    "sk_live_51Habc",
];

/// The live and the new side of a unified diff (context lines on both), without headers.
fn sides(diff: &str) -> (Vec<&str>, Vec<&str>) {
    let (mut old, mut new) = (Vec::new(), Vec::new());
    for line in diff.lines() {
        if line.starts_with("---") || line.starts_with("+++") || line.starts_with("@@") {
            continue;
        }
        let (prefix, text) = line.split_at(1);
        match prefix {
            " " => {
                old.push(text);
                new.push(text);
            }
            "-" => old.push(text),
            "+" => new.push(text),
            _ => panic!("not a diff line: {line}"),
        }
    }
    (old, new)
}

/// The value shown after variable `name` on one side of a diff, when the side shows it.
fn shown_value<'a>(side: &[&'a str], name: &str) -> Option<&'a str> {
    let at = side
        .iter()
        .position(|l| l.trim() == format!("\"name\": \"{name}\","))?;
    side.get(at + 1)?
        .trim()
        .strip_prefix("\"value\": ")
        .map(|v| v.trim_matches('"'))
}

/// The diff's changed (`-` and `+`) lines.
fn changed_lines(diff: &str) -> Vec<&str> {
    diff.lines()
        .filter(|l| !l.starts_with("---") && !l.starts_with("+++"))
        .filter(|l| l.starts_with('-') || l.starts_with('+'))
        .collect()
}

#[test]
fn diff_hides_every_env_value_and_says_which_changed() {
    let diff = render_diff(
        &with_env(LIVE_ENV),
        &with_env(NEW_ENV),
        "web:7 (live)",
        "web (new revision)",
        false,
    );
    for value in VALUES {
        assert!(!diff.contains(value), "{value} is shown:\n{diff}");
    }
    let (old, new) = sides(&diff);
    // Changed, secret-looking or not: a changed line.
    for name in ["PORT", "DB_PASSWORD"] {
        assert_eq!(shown_value(&old, name), Some("(hidden)"), "{diff}");
        assert_eq!(shown_value(&new, name), Some("(changed)"), "{diff}");
    }
    // New: added lines, naming the variable.
    for name in ["REDIS_URL", "STRIPE"] {
        assert_eq!(shown_value(&old, name), None, "{diff}");
        assert_eq!(shown_value(&new, name), Some("(new)"), "{diff}");
        assert!(
            diff.contains(&format!("+          \"name\": \"{name}\",")),
            "{diff}"
        );
    }
    // Removed: removed lines.
    assert_eq!(shown_value(&old, "FEATURE_FLAGS"), Some("(hidden)"));
    assert_eq!(shown_value(&new, "FEATURE_FLAGS"), None);
    // Unchanged: never a changed line.
    for line in changed_lines(&diff) {
        assert!(
            !line.contains("LOG_LEVEL") && !line.contains("(unchanged)"),
            "{line}\n{diff}"
        );
    }
    insta::assert_snapshot!(diff);
}

/// Every value is replaced on both sides; an unchanged one by the same marker (so it is a
/// context line wherever the diff shows it).
#[test]
fn hidden_values_are_markers_on_both_sides() {
    let mut old = with_env(LIVE_ENV).normalized();
    let mut new = with_env(NEW_ENV).normalized();
    hide_env_values(&mut old, &mut new);
    let env = |v: &Value| -> Vec<(String, String)> {
        v["containerDefinitions"][0]["environment"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["name"].as_str().unwrap().to_string(),
                    e["value"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let pairs = |l: &[(&str, &str)]| -> Vec<(String, String)> {
        l.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    };
    assert_eq!(
        env(&old),
        pairs(&[
            ("DB_PASSWORD", "(hidden)"),
            ("FEATURE_FLAGS", "(hidden)"),
            ("LOG_LEVEL", "(unchanged)"),
            ("PORT", "(hidden)"),
        ])
    );
    assert_eq!(
        env(&new),
        pairs(&[
            ("DB_PASSWORD", "(changed)"),
            ("LOG_LEVEL", "(unchanged)"),
            ("PORT", "(changed)"),
            ("REDIS_URL", "(new)"),
            ("STRIPE", "(new)"),
        ])
    );
}

#[test]
fn an_unchanged_value_next_to_a_change_is_context() {
    let diff = render_diff(
        &with_env(&[("PORT", "8080")]),
        &with_env(&[("PORT", "8080"), ("WORKERS", "4")]),
        "a",
        "b",
        false,
    );
    assert!(
        diff.contains("\n           \"value\": \"(unchanged)\"\n"),
        "{diff}"
    );
    assert!(diff.contains("+          \"value\": \"(new)\""), "{diff}");
    assert!(!diff.contains("8080") && !diff.contains("\"4\""), "{diff}");
}

#[test]
fn an_env_value_change_alone_is_a_diff() {
    let diff = render_diff(
        &with_env(&[("PORT", "8080")]),
        &with_env(&[("PORT", "9090")]),
        "a",
        "b",
        false,
    );
    assert!(
        diff.contains("+          \"value\": \"(changed)\""),
        "{diff}"
    );
    assert!(!diff.contains("8080") && !diff.contains("9090"), "{diff}");
}

#[test]
fn a_repeated_name_is_compared_occurrence_by_occurrence() {
    let mut old = with_env(&[("A", "1"), ("A", "2")]).normalized();
    let mut new = with_env(&[("A", "1"), ("A", "3")]).normalized();
    hide_env_values(&mut old, &mut new);
    let values = |v: &Value| v["containerDefinitions"][0]["environment"].clone();
    assert_eq!(
        values(&new),
        json!([{"name": "A", "value": "(unchanged)"}, {"name": "A", "value": "(changed)"}])
    );
    assert_eq!(
        values(&old),
        json!([{"name": "A", "value": "(unchanged)"}, {"name": "A", "value": "(hidden)"}])
    );
}

#[test]
fn diff_shows_env_values_when_asked_but_never_secrets() {
    let diff = render_diff(
        &with_env(LIVE_ENV),
        &with_env(NEW_ENV),
        "web:7 (live)",
        "web (new revision)",
        true,
    );
    for shown in [
        "-          \"value\": \"8080\"",
        "+          \"value\": \"9090\"",
        "+          \"value\": \"redis://:s3cret-pw@cache:6379\"",
        "+          \"value\": \"sk_live_51Habc\"",
        "-          \"value\": \"beta-checkout\"",
        // Secret-looking names stay redacted.
        "-          \"value\": \"(redacted)\"",
        "+          \"value\": \"(redacted), changed\"",
    ] {
        assert!(diff.contains(shown), "{shown} is missing:\n{diff}");
    }
    for hidden in ["hunter2", "correct-horse", "parameter/token"] {
        assert!(!diff.contains(hidden), "{hidden} is shown:\n{diff}");
    }
    assert!(
        !diff.contains("(unchanged)") && !diff.contains("(hidden)"),
        "{diff}"
    );
}

#[test]
fn secret_values_are_listed_for_masking() {
    assert_eq!(spec().secret_values(), ["hunter2"]);
}
