use std::path::Path;

use serde_json::json;

use super::*;

const FILE: &str = "\
serviceName: web
desiredCount: 2
launchType: FARGATE
taskDefinition: web
deploymentConfiguration:
  maximumPercent: 200
  minimumHealthyPercent: 50
  deploymentCircuitBreaker: {enable: true, rollback: true}
networkConfiguration:
  awsvpcConfiguration:
    subnets: [subnet-1]
    assignPublicIp: DISABLED
tags:
  - {key: team, value: shop}
";

fn def(text: &str) -> ServiceDefinition {
    ServiceDefinition::from_file_text(Path::new("svc.yaml"), text, "prod", "web").unwrap()
}

fn err(name: &str, text: &str) -> ServiceDefError {
    ServiceDefinition::from_file_text(Path::new(name), text, "prod", "web").unwrap_err()
}

/// A DescribeServices `service` as ECS sends it for the file above (with defaults it fills in).
fn live() -> serde_json::Value {
    json!({
        "serviceName": "web",
        "serviceArn": "arn:aws:ecs:eu-west-1:123456789012:service/prod/web",
        "desiredCount": 2,
        "launchType": "FARGATE",
        "schedulingStrategy": "REPLICA",
        "deploymentConfiguration": {
            "maximumPercent": 200, "minimumHealthyPercent": 50, "strategy": "ROLLING",
            "deploymentCircuitBreaker": {"enable": true, "rollback": true}
        },
        "networkConfiguration": {"awsvpcConfiguration": {
            "subnets": ["subnet-1"], "securityGroups": [], "assignPublicIp": "DISABLED"
        }},
        "deployments": [{"status": "PRIMARY", "taskDefinition": "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:3"}],
        "tags": [{"key": "team", "value": "shop"}, {"key": "owner", "value": "ops"}]
    })
}

#[test]
fn the_same_settings_are_no_change_even_with_defaults_ecs_added() {
    let plan = def(FILE).plan_update(&live(), None);
    assert!(plan.is_no_op(), "{plan:#?}");
    assert!(plan.cannot_change.is_empty());
}

#[test]
fn changed_settings_are_diffed_and_sent_with_the_deploy() {
    let changed = FILE
        .replace("desiredCount: 2", "desiredCount: 3")
        .replace("minimumHealthyPercent: 50", "minimumHealthyPercent: 100")
        .replace("value: shop", "value: checkout");
    let plan = def(&changed).plan_update(&live(), None);
    let fields: Vec<&str> = plan.changes.iter().map(|c| c.field.as_str()).collect();
    // The desired count is the deploy plan's (so that a rollback restores it), not a setting.
    assert_eq!(fields, ["deploymentConfiguration"]);
    assert_eq!(def(&changed).desired_count(), Some(3));
    assert_eq!(plan.tags, [("team".to_string(), "checkout".to_string())]);
    let settings = plan.update_settings().unwrap();
    let body = update_input("prod", "web", &settings, Some("web:4"), Some(3), false);
    assert_eq!(body["desiredCount"], 3);
    assert_eq!(
        body["deploymentConfiguration"]["minimumHealthyPercent"],
        100
    );
    assert_eq!(body["taskDefinition"], "web:4");
    assert_eq!(body["service"], "web");
    assert!(body.get("tags").is_none(), "tags go through TagResource");
    assert!(
        body.get("launchType").is_none(),
        "unchanged settings are not sent"
    );
}

#[test]
fn the_desired_count_flag_wins_over_the_file() {
    let plan = def(FILE).plan_update(&live(), Some(5));
    assert!(plan.changes.is_empty());
    assert!(
        plan.notes
            .iter()
            .any(|n| n
                .contains("`desiredCount: 2` of the file is overridden by `--desired-count 5`")),
        "{plan:#?}"
    );
    let create = def(FILE).plan_create(Some(5));
    let count = create
        .changes
        .iter()
        .find(|c| c.field == "desiredCount")
        .unwrap();
    assert_eq!(count.wanted, json!(5));
}

#[test]
fn a_setting_update_service_cannot_change_is_reported() {
    let plan = def(&FILE.replace("FARGATE", "EC2")).plan_update(&live(), None);
    assert_eq!(plan.cannot_change.len(), 1);
    assert_eq!(plan.cannot_change[0].field, "launchType");
    let e = plan.recreate_error("prod", "web").unwrap();
    assert!(e.contains("`launchType`"), "{e}");
}

#[test]
fn a_role_name_matches_the_live_role_arn() {
    let mut live = live();
    live["roleArn"] = json!("arn:aws:iam::123456789012:role/ecsServiceRole");
    let plan = def(&format!("{FILE}role: ecsServiceRole\n")).plan_update(&live, None);
    assert!(
        plan.is_no_op() && plan.cannot_change.is_empty(),
        "{plan:#?}"
    );
}

#[test]
fn the_target_must_agree_with_the_flags() {
    let e = err("svc.yaml", "serviceName: api\n");
    assert!(
        matches!(
            e,
            ServiceDefError::TargetMismatch {
                field: "serviceName",
                ..
            }
        ),
        "{e}"
    );
    assert!(e.hint().unwrap().contains("--service api"));
    let e = err("svc.yaml", "serviceName: web\ncluster: staging\n");
    assert!(e.to_string().contains("`cluster` is `staging`"), "{e}");
    // An ARN naming the same target is the same target.
    def("serviceName: web\ncluster: arn:aws:ecs:eu-west-1:123456789012:cluster/prod\n");
}

#[test]
fn shape_errors_name_the_file_line_and_field() {
    let e = err(
        "svc.yaml",
        "serviceName: web\ndeploymentConfiguration:\n  maximumPercnt: 200\n",
    );
    let shown = e.to_string();
    assert!(shown.starts_with("svc.yaml:3:"), "{shown}");
    assert!(
        shown.contains("`deploymentConfiguration.maximumPercnt`"),
        "{shown}"
    );
    assert_eq!(e.hint().as_deref(), Some("did you mean `maximumPercent`?"));
    let e = err(
        "svc.json",
        r#"{"serviceName": "web", "desiredCount": "two"}"#,
    );
    assert!(
        e.to_string()
            .contains("`desiredCount`: expected an integer"),
        "{e}"
    );
    let e = err("svc.yaml", "desiredCount: 1\n");
    assert!(
        e.to_string()
            .contains("`serviceName`: required by CreateService"),
        "{e}"
    );
    let e = err("svc.yaml", "serviceName: web\nlaunchTyp: FARGATE\n");
    assert!(
        e.to_string()
            .contains("unknown field: CreateService has no `launchTyp`"),
        "{e}"
    );
    let e = err(
        "svc.yaml",
        "serviceName: web\ndeploymentController: {type: CODE_DEPLOY}\n",
    );
    assert!(matches!(e, ServiceDefError::Controller { .. }), "{e}");
}

#[test]
fn the_create_input_takes_the_target_and_task_definition_from_the_deploy() {
    let d = def(FILE);
    assert_eq!(d.task_definition(), Some("web"));
    let body = d.create_input("prod", "web", "arn:aws:ecs:r:1:task-definition/web:1", None);
    assert_eq!(body["cluster"], "prod");
    assert_eq!(
        body["taskDefinition"],
        "arn:aws:ecs:r:1:task-definition/web:1"
    );
    assert_eq!(body["tags"][0]["key"], "team");
    assert_eq!(body["desiredCount"], 2);
    assert_eq!(
        d.create_input("prod", "web", "web:1", Some(4))["desiredCount"],
        4
    );
}

#[test]
fn every_updatable_member_is_a_create_service_member() {
    let members = SERVICE_MODEL.input_members();
    for f in &SERVICE_MODEL.updatable {
        assert!(members.contains_key(f), "{f}");
    }
    for f in ["launchType", "schedulingStrategy", "role", "serviceName"] {
        assert!(
            !SERVICE_MODEL.updatable.iter().any(|u| u == f),
            "{f} is updatable now"
        );
    }
}

#[test]
fn plans_render() {
    let d = def(FILE);
    let create = d.plan_create(None);
    let changed = FILE
        .replace("desiredCount: 2", "desiredCount: 3")
        .replace("minimumHealthyPercent: 50", "minimumHealthyPercent: 100")
        .replace("FARGATE", "EC2");
    let update = def(&changed).plan_update(&live(), None);
    let same = d.plan_update(&live(), None);
    insta::assert_snapshot!(format!(
        "{}\n{}\n{}",
        render_service_plan(
            &create,
            "prod",
            "web",
            Some("arn:aws:ecs:r:1:task-definition/web:1")
        ),
        render_service_plan(&update, "prod", "web", None),
        render_service_plan(&same, "prod", "web", None),
    ));
}

#[test]
fn the_example_service_and_task_definitions_are_valid() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo/ecs/service-front.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let d = ServiceDefinition::from_file_text(&path, &text, "demo", "front").unwrap();
    assert_eq!(d.task_definition(), Some("front"));
    let td = path.with_file_name("taskdef-front.json");
    let text = std::fs::read_to_string(&td).unwrap();
    crate::ecs::taskdef_shape::validate_register_document(&td, &text).unwrap();
}
