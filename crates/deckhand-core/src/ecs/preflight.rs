//! Checks before any change, decided from the task definitions: which new images must exist
//! (and get pinned to their digests), which `awslogs` log groups must exist, and whether the
//! task definition lacks the execution role it needs. The adapters look things up; what a
//! finding means is decided here.

use serde_json::Value;

use super::taskdef::TaskDefSpec;
use crate::image_ref::ImageRef;

/// A container's image the deploy introduces (the live task definition runs another, or the
/// container is new), given by tag: it must exist before anything is registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewImage {
    /// The container.
    pub container: String,
    /// Its image.
    pub image: ImageRef,
}

/// The new images of `desired`, by tag (an image given by digest names exact content already).
pub fn new_images(live: &TaskDefSpec, desired: &TaskDefSpec) -> Vec<NewImage> {
    let before = live.container_images();
    desired
        .container_images()
        .into_iter()
        .filter(|(name, image)| !before.iter().any(|(n, i)| n == name && i == image))
        .filter_map(|(container, image)| {
            let image = ImageRef::parse(&image).ok()?;
            image
                .digest
                .is_none()
                .then_some(NewImage { container, image })
        })
        .collect()
}

/// The image pinned to the digest its tag names now: `repository@sha256:...` (the tag is
/// kept in the plan, not in the reference: ECS runs exactly these bytes, on every task and
/// after every rollback).
pub fn pinned(image: &ImageRef, digest: &str) -> String {
    let pinned = ImageRef {
        tag: None,
        digest: Some(digest.to_string()),
        ..image.clone()
    };
    pinned.to_string()
}

/// An `awslogs` log group a container writes to that ECS will not create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogGroup {
    /// The container.
    pub container: String,
    /// The group.
    pub group: String,
    /// The region it is in, when the container names one.
    pub region: Option<String>,
}

/// The `awslogs` log groups of `desired` that must exist: every one whose options do not ask
/// ECS to create it (`awslogs-create-group: "true"`).
pub fn log_groups(desired: &TaskDefSpec) -> Vec<LogGroup> {
    desired
        .container_definitions()
        .filter_map(|c| {
            let logging = c.get("logConfiguration")?;
            if logging.get("logDriver").and_then(Value::as_str) != Some("awslogs") {
                return None;
            }
            let option = |k: &str| {
                logging
                    .get("options")
                    .and_then(|o| o.get(k))
                    .and_then(Value::as_str)
            };
            if option("awslogs-create-group").is_some_and(|v| v.eq_ignore_ascii_case("true")) {
                return None;
            }
            Some(LogGroup {
                container: c.get("name").and_then(Value::as_str)?.to_string(),
                group: option("awslogs-group")?.to_string(),
                region: option("awslogs-region").map(str::to_string),
            })
        })
        .collect()
}

/// Why a task definition needs an execution role it does not have, if it does: ECS uses that
/// role to pull from ECR and send `awslogs` logs on Fargate, and to read `secrets` on any
/// launch type (the ECS Developer Guide, "Amazon ECS task execution IAM role").
pub fn missing_execution_role(desired: &TaskDefSpec) -> Option<String> {
    let has_role = desired
        .field("executionRoleArn")
        .and_then(Value::as_str)
        .is_some_and(|r| !r.is_empty());
    if has_role {
        return None;
    }
    let fargate = desired
        .field("requiresCompatibilities")
        .and_then(Value::as_array)
        .is_some_and(|c| c.iter().any(|v| v.as_str() == Some("FARGATE")));
    for c in desired.container_definitions() {
        let name = c.get("name").and_then(Value::as_str).unwrap_or_default();
        let secrets = c
            .get("secrets")
            .and_then(Value::as_array)
            .is_some_and(|s| !s.is_empty());
        if secrets {
            return Some(format!("container `{name}` reads `secrets`"));
        }
        if !fargate {
            continue;
        }
        let image = c.get("image").and_then(Value::as_str).unwrap_or_default();
        let on_ecr = ImageRef::parse(image)
            .ok()
            .and_then(|i| i.registry)
            .is_some_and(|h| crate::oci::ecr::parse_ecr_host(&h).is_some());
        if on_ecr {
            return Some(format!("container `{name}` runs an ECR image on Fargate"));
        }
        let awslogs = c
            .get("logConfiguration")
            .and_then(|l| l.get("logDriver"))
            .and_then(Value::as_str)
            == Some("awslogs");
        if awslogs {
            return Some(format!("container `{name}` logs with `awslogs` on Fargate"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn spec(doc: Value) -> TaskDefSpec {
        TaskDefSpec::from_document(&doc, "test").unwrap()
    }

    fn web(image: &str) -> Value {
        json!({"family": "web", "containerDefinitions": [
            {"name": "app", "image": image},
            {"name": "proxy", "image": "envoyproxy/envoy:v1.30"},
        ]})
    }

    #[test]
    fn only_images_the_deploy_introduces_by_tag_are_checked() {
        let live = spec(web("registry.local/web:v1"));
        let images = new_images(&live, &spec(web("registry.local/web:v2")));
        assert_eq!(images.len(), 1);
        assert_eq!(images[0].container, "app");
        assert_eq!(images[0].image.to_string(), "registry.local/web:v2");
        assert!(new_images(&live, &live).is_empty());
        let by_digest = format!("registry.local/web@sha256:{}", "a".repeat(64));
        assert!(new_images(&live, &spec(web(&by_digest))).is_empty());
    }

    #[test]
    fn a_pinned_image_names_the_digest_instead_of_the_tag() {
        let image = ImageRef::parse("123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v2").unwrap();
        let digest = format!("sha256:{}", "b".repeat(64));
        assert_eq!(
            pinned(&image, &digest),
            format!("123456789012.dkr.ecr.us-east-1.amazonaws.com/web@{digest}")
        );
    }

    #[test]
    fn log_groups_ecs_does_not_create_must_exist() {
        let td = spec(json!({"family": "web", "containerDefinitions": [
            {"name": "app", "image": "web:v1", "logConfiguration": {"logDriver": "awslogs",
                "options": {"awslogs-group": "/ecs/web", "awslogs-region": "eu-west-1", "awslogs-stream-prefix": "app"}}},
            {"name": "worker", "image": "web:v1", "logConfiguration": {"logDriver": "awslogs",
                "options": {"awslogs-group": "/ecs/worker", "awslogs-create-group": "true"}}},
            {"name": "sidecar", "image": "web:v1", "logConfiguration": {"logDriver": "json-file"}},
        ]}));
        assert_eq!(
            log_groups(&td),
            [LogGroup {
                container: "app".into(),
                group: "/ecs/web".into(),
                region: Some("eu-west-1".into())
            }]
        );
    }

    #[test]
    fn the_execution_role_is_needed_for_secrets_and_for_fargate_pulls_and_logs() {
        let fargate = |container: Value, role: Option<&str>| {
            let mut doc = json!({"family": "web", "requiresCompatibilities": ["FARGATE"],
                "networkMode": "awsvpc", "cpu": "256", "memory": "512",
                "containerDefinitions": [container]});
            if let Some(r) = role {
                doc["executionRoleArn"] = json!(r);
            }
            missing_execution_role(&spec(doc))
        };
        let ecr =
            json!({"name": "app", "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v2"});
        assert_eq!(
            fargate(ecr.clone(), None).as_deref(),
            Some("container `app` runs an ECR image on Fargate")
        );
        assert_eq!(fargate(ecr, Some("arn:aws:iam::1:role/exec")), None);
        let logs = json!({"name": "app", "image": "nginx:1.27",
            "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "g"}}});
        assert!(fargate(logs, None).unwrap().contains("awslogs"));
        assert_eq!(
            fargate(json!({"name": "app", "image": "nginx:1.27"}), None),
            None
        );
        // On EC2 the instance role pulls and logs; secrets need the execution role anywhere.
        let ec2 = |container: Value| {
            missing_execution_role(&spec(
                json!({"family": "web", "containerDefinitions": [container]}),
            ))
        };
        assert_eq!(
            ec2(
                json!({"name": "app", "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v2"})
            ),
            None
        );
        assert_eq!(
            ec2(json!({"name": "app", "image": "web:v1",
                "secrets": [{"name": "DB", "valueFrom": "arn:aws:ssm:us-east-1:1:parameter/db"}]}))
            .as_deref(),
            Some("container `app` reads `secrets`")
        );
    }
}
