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
    let diff = render_diff(&live, &patched, "web:7 (live)", "web (new revision)");
    assert!(
        !diff.contains("hunter2") && !diff.contains("correct-horse"),
        "{diff}"
    );
    assert!(!diff.contains("parameter/token"), "{diff}");
    insta::assert_snapshot!(diff);
}

#[test]
fn diff_of_equal_specs_is_empty() {
    assert_eq!(render_diff(&spec(), &spec(), "a", "b"), "");
}

#[test]
fn secret_values_are_listed_for_masking() {
    assert_eq!(spec().secret_values(), ["hunter2"]);
}
