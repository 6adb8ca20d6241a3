//! Service definition files (`ecs deploy --service-definition FILE`): a CreateService input in
//! JSON or YAML, checked against the CreateService shape of the ECS model; the plan that creates
//! the service, or that diffs the settings the file names against the live service (a
//! DescribeServices `service`, as sent); and the CreateService / UpdateService / TagResource
//! inputs as data.
//!
//! Rules (docs/ecs-service-definition.md):
//! - Only the settings the file names are compared and sent. A setting the file leaves out is
//!   left as the service has it; inside a mapping, a member the file leaves out is not compared
//!   either (ECS fills in defaults the file need not repeat).
//! - `cluster` and `serviceName` may be left out (the flags name the target); when given they
//!   must name the same target as `--cluster` and `--service`.
//! - `taskDefinition` is the deploy's to decide: with `--task-definition FILE`, or on an existing
//!   service, the file's is not used. Only when a service is created without `--task-definition`
//!   does it name the revision to start from.
//! - `desiredCount`: `--desired-count` wins over the file. Either way the count goes through the
//!   deploy plan's own desired count (`DeployOptions::desired_count`), so that a rollback
//!   restores it; it is not one of the settings diffed here.
//! - A setting UpdateService cannot change (the model's CreateService members that
//!   UpdateService does not take: `launchType`, `schedulingStrategy`, `role`) that differs from
//!   the live service stops the deploy before any change: the service must be recreated.
//! - Tags the file names are added or set with TagResource; tags it does not name are left alone
//!   (never removed).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::plan::short_arn;
use super::taskdef_shape::{SERVICE_MODEL, TaskDefShapeError, validate_create_service_document};
use crate::document::parse_document;

/// Fields that name the target or the deploy's task definition: never diffed as settings.
const TARGET_FIELDS: &[&str] = &["cluster", "serviceName", "taskDefinition", "clientToken"];
/// The member that holds tags; they are applied with TagResource, not UpdateService.
const TAGS: &str = "tags";
/// The member that holds the desired count (`--desired-count` wins over it).
const DESIRED_COUNT: &str = "desiredCount";

/// A service definition file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceDefError {
    /// Not in CreateService shape, or not JSON/YAML.
    #[error(transparent)]
    Shape(#[from] TaskDefShapeError),
    /// `cluster` or `serviceName` names another target than the flags.
    #[error("{path}: `{field}` is `{in_file}`, but the deploy targets `{flag_value}` (`--{flag}`)")]
    TargetMismatch {
        /// The file.
        path: String,
        /// `cluster` or `serviceName`.
        field: &'static str,
        /// What the file says.
        in_file: String,
        /// The flag.
        flag: &'static str,
        /// What the flag says.
        flag_value: String,
    },
    /// A deployment controller deckhand does not roll.
    #[error(
        "{path}: `deploymentController.type` is `{controller}`; `deckhand ecs deploy` rolls `ECS` (rolling update) services"
    )]
    Controller {
        /// The file.
        path: String,
        /// The controller named.
        controller: String,
    },
}

impl ServiceDefError {
    /// How to fix it, when known.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Shape(e) => e.hint(),
            Self::TargetMismatch {
                field,
                in_file,
                flag,
                ..
            } => Some(format!(
                "remove `{field}` from the file (the flags name the target), or pass `--{flag} {in_file}`"
            )),
            Self::Controller { .. } => Some(
                "remove `deploymentController` or set its `type` to `ECS`; blue/green services are deployed by CodeDeploy"
                    .into(),
            ),
        }
    }

    /// The file.
    pub fn path(&self) -> &str {
        match self {
            Self::Shape(e) => &e.path,
            Self::TargetMismatch { path, .. } | Self::Controller { path, .. } => path,
        }
    }
}

/// A service definition file that passed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceDefinition {
    /// The file, as the user named it.
    pub path: String,
    /// Its fields, without the ones set to `null` (not set).
    fields: Map<String, Value>,
}

impl ServiceDefinition {
    /// Reads a file's text: CreateService shape (checked against the model, with file, line,
    /// column and field in errors), and a target that agrees with `--cluster` and `--service`.
    pub fn from_file_text(
        path: &Path,
        text: &str,
        cluster: &str,
        service: &str,
    ) -> Result<Self, ServiceDefError> {
        validate_create_service_document(path, text)?;
        let value = parse_document(path, text)
            .map_err(|e| TaskDefShapeError::unparsable(e.path, e.line, e.column, e.message))?;
        let shown = path.display().to_string();
        let fields: Map<String, Value> = match value {
            Value::Object(m) => m.into_iter().filter(|(_, v)| !v.is_null()).collect(),
            _ => unreachable!("BUG: the shape check accepted a document that is not a mapping"),
        };
        let def = Self {
            path: shown,
            fields,
        };
        def.check_target(cluster, service)?;
        if let Some(controller) = def
            .fields
            .get("deploymentController")
            .and_then(|c| c.get("type"))
            .and_then(Value::as_str)
            .filter(|t| *t != "ECS")
        {
            return Err(ServiceDefError::Controller {
                path: def.path.clone(),
                controller: controller.to_string(),
            });
        }
        Ok(def)
    }

    fn check_target(&self, cluster: &str, service: &str) -> Result<(), ServiceDefError> {
        for (field, flag, flag_value) in [
            ("cluster", "cluster", cluster),
            ("serviceName", "service", service),
        ] {
            if let Some(in_file) = self.fields.get(field).and_then(Value::as_str)
                && !same_name(in_file, flag_value)
            {
                return Err(ServiceDefError::TargetMismatch {
                    path: self.path.clone(),
                    field,
                    in_file: in_file.to_string(),
                    flag,
                    flag_value: flag_value.to_string(),
                });
            }
        }
        Ok(())
    }

    /// The file's `taskDefinition` (family, `family:revision` or ARN), when it names one.
    pub fn task_definition(&self) -> Option<&str> {
        self.fields.get("taskDefinition").and_then(Value::as_str)
    }

    /// The tags the file names, in its order.
    pub fn tags(&self) -> Vec<(String, String)> {
        tag_pairs(self.fields.get(TAGS))
    }

    /// The file's `desiredCount`.
    pub fn desired_count(&self) -> Option<i32> {
        self.fields
            .get(DESIRED_COUNT)
            .and_then(Value::as_i64)
            .and_then(|n| i32::try_from(n).ok())
    }

    /// The settings the file names: everything but the target, the task definition, the
    /// desired count (the deploy plan's) and tags.
    fn settings(&self) -> BTreeMap<&str, Value> {
        self.fields
            .iter()
            .filter(|(k, _)| {
                !TARGET_FIELDS.contains(&k.as_str()) && k.as_str() != TAGS && k != &DESIRED_COUNT
            })
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect()
    }

    fn count_notes(&self, flag: Option<i32>) -> Vec<String> {
        match (self.desired_count(), flag) {
            (Some(file), Some(flag)) if file != flag => vec![format!(
                "`{DESIRED_COUNT}: {file}` of the file is overridden by `--desired-count {flag}`"
            )],
            _ => Vec::new(),
        }
    }

    /// The CreateService input: the file with the target from the flags and the deploy's task
    /// definition (`--desired-count` wins over the file's `desiredCount`).
    pub fn create_input(
        &self,
        cluster: &str,
        service: &str,
        task_definition: &str,
        desired_count: Option<i32>,
    ) -> Value {
        let mut body = self.fields.clone();
        body.insert("cluster".into(), json!(cluster));
        body.insert("serviceName".into(), json!(service));
        body.insert("taskDefinition".into(), json!(task_definition));
        if let Some(count) = desired_count {
            body.insert(DESIRED_COUNT.into(), json!(count));
        }
        Value::Object(body)
    }

    /// The plan for a service that does not exist yet; `flag_count` is `--desired-count`.
    pub fn plan_create(&self, flag_count: Option<i32>) -> ServicePlan {
        let mut settings = self.settings();
        if let Some(count) = flag_count.or(self.desired_count()) {
            settings.insert(DESIRED_COUNT, json!(count));
        }
        let notes = self.count_notes(flag_count);
        ServicePlan {
            file: self.path.clone(),
            create: true,
            changes: settings
                .into_iter()
                .map(|(field, wanted)| SettingChange {
                    field: field.to_string(),
                    live: None,
                    wanted,
                })
                .collect(),
            cannot_change: Vec::new(),
            tags: self.tags(),
            notes,
        }
    }

    /// Diffs the settings the file names against `live` (the `service` of DescribeServices,
    /// with its `tags`); `flag_count` is `--desired-count`.
    pub fn plan_update(&self, live: &Value, flag_count: Option<i32>) -> ServicePlan {
        let updatable = &SERVICE_MODEL.updatable;
        let mut changes = Vec::new();
        let mut cannot_change = Vec::new();
        for (field, wanted) in self.settings() {
            let live_value = live_setting(live, field);
            let same = match (field, live_value) {
                ("role", Some(Value::String(arn))) => {
                    wanted.as_str().is_some_and(|w| same_name(w, arn))
                }
                (_, Some(l)) => covers(&wanted, l),
                (_, None) => false,
            };
            if same {
                continue;
            }
            let change = SettingChange {
                field: field.to_string(),
                live: live_value.cloned(),
                wanted,
            };
            if updatable.iter().any(|u| u == field) {
                changes.push(change);
            } else {
                cannot_change.push(change);
            }
        }
        let live_tags: BTreeMap<String, String> = tag_pairs(live.get(TAGS)).into_iter().collect();
        let tags = self
            .tags()
            .into_iter()
            .filter(|(k, v)| live_tags.get(k) != Some(v))
            .collect();
        let mut notes = Vec::new();
        if let Some(td) = self.task_definition() {
            notes.push(format!(
                "`taskDefinition` ({td}) of the file is not used: the deploy's task definition is"
            ));
        }
        notes.extend(self.count_notes(flag_count));
        ServicePlan {
            file: self.path.clone(),
            create: false,
            changes,
            cannot_change,
            tags,
            notes,
        }
    }
}

/// One setting the file names that differs from the live service (or that a create sets).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingChange {
    /// The CreateService member.
    pub field: String,
    /// The live value; `None` when the service does not report one (or does not exist).
    pub live: Option<Value>,
    /// The file's value.
    pub wanted: Value,
}

/// What a service definition file changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServicePlan {
    /// The file.
    pub file: String,
    /// CreateService creates the service.
    pub create: bool,
    /// Settings that UpdateService changes (or CreateService sets).
    pub changes: Vec<SettingChange>,
    /// Settings that differ and that UpdateService cannot change: the deploy stops.
    pub cannot_change: Vec<SettingChange>,
    /// Tags TagResource adds or sets (new keys, or new values).
    pub tags: Vec<(String, String)>,
    /// Things the user should know.
    pub notes: Vec<String>,
}

impl ServicePlan {
    /// True when the service already has every setting and tag the file names.
    pub fn is_no_op(&self) -> bool {
        !self.create && self.changes.is_empty() && self.tags.is_empty()
    }

    /// The settings that differ, as UpdateService members (`None` when none differ).
    pub fn update_settings(&self) -> Option<Map<String, Value>> {
        (!self.changes.is_empty()).then(|| {
            self.changes
                .iter()
                .map(|c| (c.field.clone(), c.wanted.clone()))
                .collect()
        })
    }

    /// Why the deploy cannot go on, when a setting cannot change in place.
    pub fn recreate_error(&self, cluster: &str, service: &str) -> Option<String> {
        let fields: Vec<String> = self
            .cannot_change
            .iter()
            .map(|c| format!("`{}`", c.field))
            .collect();
        (!fields.is_empty()).then(|| {
            format!(
                "{}: {} of service `{service}` in cluster `{cluster}` cannot change in place",
                self.file,
                fields.join(", ")
            )
        })
    }
}

/// The UpdateService input: the target, the changed settings, and the deploy's own members
/// (task definition, desired count, forced deployment), in one call so that one deployment
/// carries them all.
pub fn update_input(
    cluster: &str,
    service: &str,
    settings: &Map<String, Value>,
    task_definition: Option<&str>,
    desired_count: Option<i32>,
    force_new_deployment: bool,
) -> Value {
    let mut body = settings.clone();
    body.insert("cluster".into(), json!(cluster));
    body.insert("service".into(), json!(service));
    if let Some(td) = task_definition {
        body.insert("taskDefinition".into(), json!(td));
    }
    if let Some(count) = desired_count {
        body.insert(DESIRED_COUNT.into(), json!(count));
    }
    if force_new_deployment {
        body.insert("forceNewDeployment".into(), json!(true));
    }
    Value::Object(body)
}

/// The plan's lines for people. `task_definition` is what the service is created with (for a
/// create).
pub fn render_service_plan(
    plan: &ServicePlan,
    cluster: &str,
    service: &str,
    task_definition: Option<&str>,
) -> String {
    let mut out = String::new();
    if plan.create {
        out.push_str(&format!(
            "plan for service `{service}` in cluster `{cluster}` (from {}):\n",
            plan.file
        ));
        out.push_str("  create the service (it does not exist) and watch its first deployment\n");
        if let Some(td) = task_definition {
            out.push_str(&format!("  task definition: {}\n", short_arn(td)));
        }
        for c in &plan.changes {
            out.push_str(&format!("  {}: {}\n", c.field, compact(&c.wanted)));
        }
    } else {
        out.push_str(&format!("service settings from {}:\n", plan.file));
        if plan.is_no_op() && plan.cannot_change.is_empty() {
            out.push_str("  no change: the service has every setting and tag the file names\n");
        }
        for c in &plan.cannot_change {
            out.push_str(&format!(
                "  cannot change {} in place: recreate the service ({} -> {})\n",
                c.field,
                c.live.as_ref().map_or("not set".into(), compact),
                compact(&c.wanted)
            ));
        }
        for c in &plan.changes {
            match &c.live {
                None => out.push_str(&format!(
                    "  {}: (ECS does not report it) -> {}\n",
                    c.field,
                    compact(&c.wanted)
                )),
                Some(live) => {
                    for (path, from, to) in differences(&c.field, &c.wanted, live) {
                        out.push_str(&format!("  {path}: {from} -> {to}\n"));
                    }
                }
            }
        }
        if !plan.changes.is_empty() && plan.cannot_change.is_empty() {
            out.push_str(
                "  UpdateService sends these settings (with the task definition, in one call)\n",
            );
        }
    }
    for (k, v) in &plan.tags {
        out.push_str(&format!("  tag {k}={v}\n"));
    }
    for n in &plan.notes {
        out.push_str(&format!("  note: {n}\n"));
    }
    out
}

/// Where `wanted` and `live` differ, member by member inside mappings: `(path, live, wanted)`,
/// so that one changed member of a large setting reads as one line.
fn differences(path: &str, wanted: &Value, live: &Value) -> Vec<(String, String, String)> {
    match (wanted, live) {
        (Value::Object(w), Value::Object(l)) => w
            .iter()
            .filter(|(_, wv)| !wv.is_null())
            .flat_map(|(k, wv)| {
                let at = format!("{path}.{k}");
                match l.get(k) {
                    Some(lv) => differences(&at, wv, lv),
                    None => vec![(at, "not set".to_string(), compact(wv))],
                }
            })
            .collect(),
        _ if covers(wanted, live) => Vec::new(),
        _ => vec![(path.to_string(), compact(live), compact(wanted))],
    }
}

/// A value on one line, as JSON.
fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// The live value of a CreateService member: the service's own member, else the PRIMARY
/// deployment's (ECS reports Service Connect, volume and VPC Lattice settings per deployment).
fn live_setting<'a>(live: &'a Value, field: &str) -> Option<&'a Value> {
    let name = if field == "role" { "roleArn" } else { field };
    live.get(name).filter(|v| !v.is_null()).or_else(|| {
        live.get("deployments")
            .and_then(Value::as_array)
            .and_then(|ds| {
                ds.iter()
                    .find(|d| d.get("status").and_then(Value::as_str) == Some("PRIMARY"))
            })
            .and_then(|d| d.get(name))
            .filter(|v| !v.is_null())
    })
}

/// True when `live` has everything `wanted` names: mappings compare only the members `wanted`
/// names, lists compare item by item (same length), numbers by value.
fn covers(wanted: &Value, live: &Value) -> bool {
    match (wanted, live) {
        (Value::Object(w), Value::Object(l)) => w
            .iter()
            .all(|(k, wv)| wv.is_null() || l.get(k).is_some_and(|lv| covers(wv, lv))),
        (Value::Array(w), Value::Array(l)) => {
            w.len() == l.len() && w.iter().zip(l).all(|(a, b)| covers(a, b))
        }
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => wanted == live,
    }
}

/// `name` and `name_or_arn` name the same thing: equal, or an ARN ending in `/name`.
fn same_name(a: &str, b: &str) -> bool {
    let last = |s: &str| s.rsplit('/').next().unwrap_or(s).to_string();
    a == b || last(a) == last(b)
}

fn tag_pairs(tags: Option<&Value>) -> Vec<(String, String)> {
    tags.and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|t| {
                    let k = t.get("key")?.as_str()?;
                    let v = t.get("value").and_then(Value::as_str).unwrap_or_default();
                    Some((k.to_string(), v.to_string()))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
