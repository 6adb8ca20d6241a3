//! Task definitions in the shape RegisterTaskDefinition accepts.
//!
//! deckhand keeps task definitions as JSON, never as a typed struct: a typed round trip drops
//! whatever the struct does not know (the bug class behind aws-actions' `enableFaultInjection`
//! failures and sil ecs-deploy's lost `pidMode`). A task definition *file* is checked against
//! the ECS service model's RegisterTaskDefinition shape ([`super::taskdef_shape`]); a *described*
//! task definition is cloned with the classification below, which a test in `deckhand-aws`
//! checks against the SDK's model.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value, json};

use super::taskdef_shape::{self, TaskDefShapeError};
use crate::document::parse_document;
use crate::image_ref::ImageRef;
use crate::redact::{REDACTED, env_marker, looks_secret};

/// Fields DescribeTaskDefinition returns that RegisterTaskDefinition rejects.
pub const READ_ONLY_FIELDS: &[&str] = &[
    "taskDefinitionArn",
    "revision",
    "status",
    "requiresAttributes",
    "compatibilities",
    "registeredAt",
    "registeredBy",
    "deregisteredAt",
    "deleteRequestedAt",
];

/// Fields both returned by DescribeTaskDefinition and accepted by RegisterTaskDefinition: all of
/// them are carried over when a live task definition is cloned. (Files are checked against the
/// ECS model's fields instead: [`taskdef_shape::register_fields`].)
pub const REGISTER_FIELDS: &[&str] = &[
    "containerDefinitions",
    "cpu",
    "enableFaultInjection",
    "ephemeralStorage",
    "executionRoleArn",
    "family",
    "inferenceAccelerators",
    "ipcMode",
    "memory",
    "networkMode",
    "pidMode",
    "placementConstraints",
    "proxyConfiguration",
    "requiresCompatibilities",
    "runtimePlatform",
    "taskRoleArn",
    "volumes",
];

/// RegisterTaskDefinition-only: DescribeTaskDefinition returns tags beside the task definition
/// (with `include=TAGS`), not inside it.
pub const TAGS_FIELD: &str = "tags";

/// A task definition that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaskDefError {
    /// A task definition file that does not parse or does not have the RegisterTaskDefinition
    /// shape, with the line, column and field.
    #[error(transparent)]
    File(#[from] TaskDefShapeError),
    /// The document is not a task definition.
    #[error("{origin}: {problem}")]
    Shape {
        /// Where the document came from (a file path or a task definition ARN).
        origin: String,
        /// What is wrong, naming the JSON path.
        problem: String,
    },
    /// A top-level field deckhand does not know.
    #[error("{origin}: unknown field `{field}` in the task definition")]
    UnknownField {
        /// Where the document came from.
        origin: String,
        /// The field.
        field: String,
    },
    /// An override names a container the task definition does not have.
    #[error("container `{container}` is not in task definition family `{family}` (it has: {})", available.join(", "))]
    UnknownContainer {
        /// The container named by the override.
        container: String,
        /// The task definition family.
        family: String,
        /// The containers it does have.
        available: Vec<String>,
    },
    /// A bare `--image` where the container is ambiguous.
    #[error("`--image {image}` names no container, but task definition family `{family}` has {count} containers ({})", available.join(", "))]
    AmbiguousImage {
        /// The image given.
        image: String,
        /// The task definition family.
        family: String,
        /// How many containers it has.
        count: usize,
        /// The containers.
        available: Vec<String>,
    },
    /// Two overrides set different images for one container.
    #[error("container `{container}` is given two images: `{first}` and `{second}`")]
    ConflictingImages {
        /// The container.
        container: String,
        /// The first image.
        first: String,
        /// The second image.
        second: String,
    },
}

impl TaskDefError {
    /// How to fix it, when known.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::File(e) => e.hint(),
            Self::UnknownField { field, .. } => Some(taskdef_shape::unknown_field_hint(field)),
            Self::UnknownContainer { available, .. } => Some(format!(
                "use one of the container names: --image {}=IMAGE",
                available.first().map_or("NAME", String::as_str)
            )),
            Self::AmbiguousImage {
                available, image, ..
            } => Some(format!(
                "name the container: --image {}={image}",
                available.first().map_or("NAME", String::as_str)
            )),
            Self::Shape { .. } | Self::ConflictingImages { .. } => None,
        }
    }
}

/// A task definition in RegisterTaskDefinition shape (including `tags`).
#[derive(Debug, Clone, PartialEq)]
pub struct TaskDefSpec {
    fields: Map<String, Value>,
    /// Top-level fields that are neither registered nor read-only: kept, and reported, because a
    /// newer ECS may have added them.
    unknown_fields: Vec<String>,
}

/// One image override: `--image CONTAINER=IMAGE`, or a bare `--image IMAGE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageOverride {
    /// The container, or `None` for a bare image.
    pub container: Option<String>,
    /// The image.
    pub image: ImageRef,
}

/// One environment override: `--env CONTAINER:KEY=VALUE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvOverride {
    /// The container.
    pub container: String,
    /// The variable name.
    pub name: String,
    /// Its value.
    pub value: String,
}

/// Everything a deploy changes in a task definition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskDefPatch {
    /// Image overrides.
    pub images: Vec<ImageOverride>,
    /// Environment overrides.
    pub env: Vec<EnvOverride>,
}

impl TaskDefPatch {
    /// The part of the patch for a task definition with containers `names`: overrides that name
    /// another container are left out (a fan-out deploys one patch to services whose task
    /// definitions differ); a bare image stays.
    pub fn only_containers(&self, names: &[String]) -> Self {
        let has = |c: &str| names.iter().any(|n| n == c);
        Self {
            images: self
                .images
                .iter()
                .filter(|o| o.container.as_deref().is_none_or(has))
                .cloned()
                .collect(),
            env: self
                .env
                .iter()
                .filter(|e| has(&e.container))
                .cloned()
                .collect(),
        }
    }

    /// The containers the patch names, in order, each once.
    pub fn named_containers(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        let named = self
            .images
            .iter()
            .filter_map(|o| o.container.as_deref())
            .chain(self.env.iter().map(|e| e.container.as_str()));
        for n in named {
            if !names.contains(&n) {
                names.push(n);
            }
        }
        names
    }
}

impl TaskDefSpec {
    /// Builds the spec from a DescribeTaskDefinition response: `task_definition` is its
    /// `taskDefinition` member and `tags` its top-level `tags` (present with `include=TAGS`).
    /// Drops exactly the read-only fields and keeps everything else.
    pub fn from_described(
        task_definition: &Value,
        tags: Option<&Value>,
    ) -> Result<Self, TaskDefError> {
        let origin = task_definition
            .get("taskDefinitionArn")
            .and_then(Value::as_str)
            .unwrap_or("task definition")
            .to_string();
        let Value::Object(map) = task_definition else {
            return Err(shape(&origin, "the task definition is not a JSON object"));
        };
        let mut fields = Map::new();
        let mut unknown_fields = Vec::new();
        for (key, value) in map {
            if READ_ONLY_FIELDS.contains(&key.as_str()) {
                continue;
            }
            if !REGISTER_FIELDS.contains(&key.as_str()) {
                unknown_fields.push(key.clone());
            }
            fields.insert(key.clone(), value.clone());
        }
        if let Some(tags) = tags.filter(|t| t.as_array().is_some_and(|a| !a.is_empty())) {
            fields.insert(TAGS_FIELD.to_string(), tags.clone());
        }
        let spec = Self {
            fields,
            unknown_fields,
        };
        spec.check_shape(&origin)?;
        Ok(spec)
    }

    /// Builds the spec from the text of a user's file (`path` as the user named it): checks it
    /// against the RegisterTaskDefinition shape of the ECS model first
    /// ([`taskdef_shape::validate_register_document`]: unknown fields and wrong types anywhere
    /// are errors with the line, column and field), then reads it as [`Self::from_document`].
    pub fn from_file_text(path: &Path, text: &str) -> Result<Self, TaskDefError> {
        taskdef_shape::validate_register_document(path, text)?;
        let shown = path.display().to_string();
        let doc = parse_document(path, text)
            .map_err(|e| TaskDefShapeError::unparsable(e.path, e.line, e.column, e.message))?;
        Self::from_document(&doc, &shown)
    }

    /// Builds the spec from a user's file (already parsed). Accepts the RegisterTaskDefinition
    /// shape, or a whole DescribeTaskDefinition output (`{"taskDefinition": {...}, "tags": [...]}`),
    /// whose read-only fields are dropped. Top-level fields that the ECS model's
    /// RegisterTaskDefinition does not have are an error: in a file they are far more often typos
    /// than new ECS features (and new features come with a model update). Prefer
    /// [`Self::from_file_text`], which also checks every nested field and type, with positions.
    pub fn from_document(doc: &Value, origin: &str) -> Result<Self, TaskDefError> {
        let Value::Object(top) = doc else {
            return Err(shape(
                origin,
                "the document is not a mapping of task definition fields",
            ));
        };
        let (body, tags) = match top.get("taskDefinition") {
            Some(inner @ Value::Object(_)) => (inner, top.get(TAGS_FIELD)),
            _ => (doc, top.get(TAGS_FIELD)),
        };
        let Value::Object(map) = body else {
            return Err(shape(origin, "`taskDefinition` is not a mapping"));
        };
        let mut fields = Map::new();
        for (key, value) in map {
            if READ_ONLY_FIELDS.contains(&key.as_str()) {
                continue;
            }
            if key == TAGS_FIELD {
                continue;
            }
            if !taskdef_shape::is_register_field(key) {
                return Err(TaskDefError::UnknownField {
                    origin: origin.to_string(),
                    field: key.clone(),
                });
            }
            fields.insert(key.clone(), value.clone());
        }
        if let Some(tags) = tags.filter(|t| !t.is_null()) {
            fields.insert(TAGS_FIELD.to_string(), tags.clone());
        }
        // ECS takes task-level cpu and memory as strings; YAML authors write numbers.
        for key in ["cpu", "memory"] {
            if let Some(Value::Number(n)) = fields.get(key) {
                let s = n.to_string();
                fields.insert(key.to_string(), Value::String(s));
            }
        }
        let spec = Self {
            fields,
            unknown_fields: Vec::new(),
        };
        spec.check_shape(origin)?;
        Ok(spec)
    }

    fn check_shape(&self, origin: &str) -> Result<(), TaskDefError> {
        match self.fields.get("family") {
            Some(Value::String(f)) if !f.is_empty() => {}
            Some(_) => return Err(shape(origin, "`family` must be a non-empty string")),
            None => return Err(shape(origin, "`family` is missing")),
        }
        let Some(Value::Array(containers)) = self.fields.get("containerDefinitions") else {
            return Err(shape(
                origin,
                "`containerDefinitions` must be a list of containers",
            ));
        };
        if containers.is_empty() {
            return Err(shape(origin, "`containerDefinitions` is empty"));
        }
        let mut seen = Vec::new();
        for (i, c) in containers.iter().enumerate() {
            let Value::Object(c) = c else {
                return Err(shape(
                    origin,
                    &format!("`containerDefinitions[{i}]` is not a mapping"),
                ));
            };
            let Some(Value::String(name)) = c.get("name") else {
                return Err(shape(
                    origin,
                    &format!("`containerDefinitions[{i}].name` must be a string"),
                ));
            };
            if seen.contains(name) {
                return Err(shape(
                    origin,
                    &format!("container name `{name}` appears twice"),
                ));
            }
            seen.push(name.clone());
            match c.get("image") {
                Some(Value::String(image)) => {
                    ImageRef::parse(image).map_err(|e| {
                        shape(origin, &format!("`containerDefinitions[{i}].image`: {e}"))
                    })?;
                }
                _ => {
                    return Err(shape(
                        origin,
                        &format!("`containerDefinitions[{i}].image` must be a string"),
                    ));
                }
            }
            for list in ["environment", "secrets"] {
                match c.get(list) {
                    None | Some(Value::Null) => {}
                    Some(Value::Array(items)) => {
                        for (j, item) in items.iter().enumerate() {
                            if !item.get("name").is_some_and(Value::is_string) {
                                return Err(shape(
                                    origin,
                                    &format!(
                                        "`containerDefinitions[{i}].{list}[{j}].name` must be a string"
                                    ),
                                ));
                            }
                        }
                    }
                    Some(_) => {
                        return Err(shape(
                            origin,
                            &format!("`containerDefinitions[{i}].{list}` must be a list"),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// The task definition family.
    pub fn family(&self) -> &str {
        self.fields
            .get("family")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// Container names, in definition order.
    pub fn container_names(&self) -> Vec<String> {
        self.containers()
            .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_string))
            .collect()
    }

    /// `(container, image)` pairs, in definition order.
    pub fn container_images(&self) -> Vec<(String, String)> {
        self.containers()
            .map(|c| {
                (
                    c.get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    c.get("image")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                )
            })
            .collect()
    }

    /// Top-level fields that deckhand does not know but carried over.
    pub fn unknown_fields(&self) -> &[String] {
        &self.unknown_fields
    }

    /// Values of environment variables whose names look secret (for masking in CI logs).
    pub fn secret_values(&self) -> Vec<String> {
        let mut out = Vec::new();
        for c in self.containers() {
            for var in c
                .get("environment")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let name = var.get("name").and_then(Value::as_str).unwrap_or_default();
                if let Some(value) = var.get("value").and_then(Value::as_str)
                    && looks_secret(name)
                    && !value.is_empty()
                {
                    out.push(value.to_string());
                }
            }
        }
        out
    }

    /// A top-level field, as it would be registered.
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.fields.get(name)
    }

    /// The container definitions, in order.
    pub fn container_definitions(&self) -> impl Iterator<Item = &Map<String, Value>> {
        self.containers()
    }

    /// Sets the image of container `container` (a digest-pinned form of the same image).
    pub fn set_image(&mut self, container: &str, image: &str) {
        if let Some(c) = self
            .fields
            .get_mut("containerDefinitions")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
            .filter_map(Value::as_object_mut)
            .find(|c| c.get("name").and_then(Value::as_str) == Some(container))
        {
            c.insert("image".into(), Value::String(image.to_string()));
        }
    }

    fn containers(&self) -> impl Iterator<Item = &Map<String, Value>> {
        self.fields
            .get("containerDefinitions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
    }

    /// Applies image and environment overrides. Every override is checked first, so an error
    /// leaves the spec untouched.
    pub fn apply(&mut self, patch: &TaskDefPatch) -> Result<(), TaskDefError> {
        let names = self.container_names();
        let family = self.family().to_string();
        let unknown = |container: &str| TaskDefError::UnknownContainer {
            container: container.to_string(),
            family: family.clone(),
            available: names.clone(),
        };
        let mut images: BTreeMap<String, String> = BTreeMap::new();
        for o in &patch.images {
            let container = match &o.container {
                Some(c) if names.contains(c) => c.clone(),
                Some(c) => return Err(unknown(c)),
                None if names.len() == 1 => names[0].clone(),
                None => {
                    return Err(TaskDefError::AmbiguousImage {
                        image: o.image.to_string(),
                        family: family.clone(),
                        count: names.len(),
                        available: names.clone(),
                    });
                }
            };
            let image = o.image.to_string();
            if let Some(first) = images.get(&container)
                && *first != image
            {
                return Err(TaskDefError::ConflictingImages {
                    container,
                    first: first.clone(),
                    second: image,
                });
            }
            images.insert(container, image);
        }
        for e in &patch.env {
            if !names.contains(&e.container) {
                return Err(unknown(&e.container));
            }
        }
        let Some(Value::Array(containers)) = self.fields.get_mut("containerDefinitions") else {
            return Ok(());
        };
        for c in containers.iter_mut().filter_map(Value::as_object_mut) {
            let name = c
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            if let Some(image) = images.get(&name) {
                c.insert("image".to_string(), Value::String(image.clone()));
            }
            for e in patch.env.iter().filter(|e| e.container == name) {
                let env = c.entry("environment").or_insert_with(|| json!([]));
                if !env.is_array() {
                    *env = json!([]);
                }
                let list = env
                    .as_array_mut()
                    .expect("BUG: environment was just made a list");
                match list
                    .iter_mut()
                    .find(|v| v.get("name").and_then(Value::as_str) == Some(&e.name))
                {
                    Some(existing) => existing["value"] = Value::String(e.value.clone()),
                    None => list.push(json!({"name": e.name, "value": e.value})),
                }
            }
        }
        Ok(())
    }

    /// The JSON body for RegisterTaskDefinition.
    pub fn to_register_json(&self) -> Value {
        Value::Object(self.fields.clone())
    }

    /// A canonical form for comparing a spec with what ECS returns for it: defaults ECS fills
    /// in are removed, unordered lists are sorted, and empty values dropped.
    pub fn normalized(&self) -> Value {
        let mut v = Value::Object(self.fields.clone());
        normalize_task(&mut v);
        v
    }

    /// True when registering `self` would give the same task definition as `other`.
    pub fn same_as(&self, other: &Self) -> bool {
        self.normalized() == other.normalized()
    }
}

fn shape(origin: &str, problem: &str) -> TaskDefError {
    TaskDefError::Shape {
        origin: origin.to_string(),
        problem: problem.to_string(),
    }
}

fn normalize_task(v: &mut Value) {
    let Value::Object(map) = v else { return };
    let fargate_only = map
        .get("requiresCompatibilities")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|x| x == "FARGATE"));
    if !map.contains_key("networkMode") && !fargate_only {
        // ECS registers EC2 task definitions without a network mode as `bridge`.
        map.insert("networkMode".into(), json!("bridge"));
    }
    let awsvpc = map
        .get("networkMode")
        .is_some_and(|m| m == "awsvpc" || m == "host");
    if let Some(Value::Array(containers)) = map.get_mut("containerDefinitions") {
        for c in containers.iter_mut().filter_map(Value::as_object_mut) {
            // Defaults ECS writes into every container definition.
            if c.get("essential") == Some(&json!(true)) {
                c.remove("essential");
            }
            if c.get("cpu") == Some(&json!(0)) {
                c.remove("cpu");
            }
            for list in ["environment", "secrets", "environmentFiles"] {
                sort_by_key(c.get_mut(list), "name");
            }
            if let Some(Value::Array(ports)) = c.get_mut("portMappings") {
                for p in ports.iter_mut().filter_map(Value::as_object_mut) {
                    if p.get("protocol") == Some(&json!("tcp")) {
                        p.remove("protocol");
                    }
                    if awsvpc
                        && p.get("hostPort").is_some()
                        && p.get("hostPort") == p.get("containerPort")
                    {
                        p.remove("hostPort");
                    }
                }
            }
        }
    }
    sort_by_key(map.get_mut("tags"), "key");
    if let Some(Value::Array(list)) = map.get_mut("requiresCompatibilities") {
        list.sort_by_key(Value::to_string);
    }
    drop_empty(v);
}

fn sort_by_key(list: Option<&mut Value>, key: &str) {
    if let Some(Value::Array(items)) = list {
        items.sort_by(|a, b| {
            let ka = a.get(key).and_then(Value::as_str).unwrap_or_default();
            let kb = b.get(key).and_then(Value::as_str).unwrap_or_default();
            ka.cmp(kb)
        });
    }
}

/// Removes nulls, empty lists and empty mappings, recursively.
fn drop_empty(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for child in map.values_mut() {
                drop_empty(child);
            }
            map.retain(|_, child| !is_empty(child));
        }
        Value::Array(items) => {
            for child in items.iter_mut() {
                drop_empty(child);
            }
        }
        _ => {}
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}

/// A readable unified diff between two task definitions, for a plan (which reaches logs and
/// pull request comments). Empty when they are the same.
///
/// Container environment variables show their names, and instead of their values a marker
/// ([`env_marker`]) saying whether the value changed, unless `show_env_values` is true. Values
/// of secret-looking names ([`looks_secret`]) and secret references (`valueFrom`) are redacted
/// either way.
pub fn render_diff(
    old: &TaskDefSpec,
    new: &TaskDefSpec,
    old_label: &str,
    new_label: &str,
    show_env_values: bool,
) -> String {
    let mut a = old.normalized();
    let mut b = new.normalized();
    if show_env_values {
        redact_pair(&mut a, &mut b, true);
    } else {
        hide_env_values(&mut a, &mut b);
        redact_pair(&mut a, &mut b, false);
    }
    let a_text = serde_json::to_string_pretty(&a).unwrap_or_default() + "\n";
    let b_text = serde_json::to_string_pretty(&b).unwrap_or_default() + "\n";
    if a_text == b_text {
        return String::new();
    }
    similar::TextDiff::from_lines(&a_text, &b_text)
        .unified_diff()
        .context_radius(3)
        .header(old_label, new_label)
        .to_string()
}

/// Replaces every container environment value in both documents with a marker: the same
/// marker on both sides when the value is unchanged (a context line), different ones when it
/// changed (a changed line), and a marker of its own for a variable the live side lacks.
fn hide_env_values(old: &mut Value, new: &mut Value) {
    let before = env_values(old);
    let after = env_values(new);
    for (key, slot) in env_slots(new) {
        let marker = match before.get(&key) {
            None => env_marker::NEW,
            Some(value) if value.as_ref() == Some(&*slot) => env_marker::UNCHANGED,
            Some(_) => env_marker::CHANGED,
        };
        *slot = Value::String(marker.to_string());
    }
    for (key, slot) in env_slots(old) {
        let unchanged = after
            .get(&key)
            .is_some_and(|value| value.as_ref() == Some(&*slot));
        let marker = if unchanged {
            env_marker::UNCHANGED
        } else {
            env_marker::HIDDEN
        };
        *slot = Value::String(marker.to_string());
    }
}

/// A container's environment variable: (container, name, which occurrence of the name).
type EnvKey = (String, String, usize);

/// Every container environment variable's value (`None` for an entry without one).
fn env_values(v: &Value) -> BTreeMap<EnvKey, Option<Value>> {
    let mut out = BTreeMap::new();
    let containers = v
        .get("containerDefinitions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object);
    for c in containers {
        let cname = c.get("name").and_then(Value::as_str).unwrap_or_default();
        let items = c
            .get("environment")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_object);
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for item in items {
            let name = item.get("name").and_then(Value::as_str).unwrap_or_default();
            let nth = seen.entry(name).or_default();
            out.insert(
                (cname.to_string(), name.to_string(), *nth),
                item.get("value").cloned(),
            );
            *nth += 1;
        }
    }
    out
}

/// Mutable references to every container environment value, keyed as [`env_values`].
fn env_slots(v: &mut Value) -> Vec<(EnvKey, &mut Value)> {
    let mut out = Vec::new();
    let Some(Value::Array(containers)) = v.get_mut("containerDefinitions") else {
        return out;
    };
    for c in containers.iter_mut().filter_map(Value::as_object_mut) {
        let cname = c
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let Some(Value::Array(items)) = c.get_mut("environment") else {
            continue;
        };
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for item in items.iter_mut().filter_map(Value::as_object_mut) {
            let name = item
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let nth = seen.entry(name.clone()).or_default();
            let key = (cname.clone(), name, *nth);
            *nth += 1;
            if let Some(slot) = item.get_mut("value") {
                out.push((key, slot));
            }
        }
    }
    out
}

/// Replaces secret values in both documents (secret references always; values of
/// secret-looking environment variables when `environment` is true); where the value differs,
/// the new side says so, so the diff still shows *that* a secret changed without showing it.
fn redact_pair(old: &mut Value, new: &mut Value, environment: bool) {
    let old_values = secret_entries(old, environment);
    for (key, slot) in secret_slots(new, environment) {
        let changed = old_values.get(&key) != Some(&slot.clone());
        *slot = Value::String(if changed && old_values.contains_key(&key) {
            format!("{REDACTED}, changed")
        } else {
            REDACTED.to_string()
        });
    }
    for (_, slot) in secret_slots(old, environment) {
        *slot = Value::String(REDACTED.to_string());
    }
}

fn secret_entries(v: &mut Value, environment: bool) -> BTreeMap<(String, String, String), Value> {
    secret_slots(v, environment)
        .into_iter()
        .map(|(k, slot)| (k, slot.clone()))
        .collect()
}

/// Mutable references to every value to redact, keyed by (container, list, variable):
/// secret references, and when `environment` is true the values of secret-looking
/// environment variables.
fn secret_slots(v: &mut Value, environment: bool) -> Vec<((String, String, String), &mut Value)> {
    let mut out = Vec::new();
    let Some(Value::Array(containers)) = v.get_mut("containerDefinitions") else {
        return out;
    };
    for c in containers.iter_mut().filter_map(Value::as_object_mut) {
        let cname = c
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        // One pass over the container's fields: each list is borrowed once.
        for (list, value) in c.iter_mut() {
            let (field, all) = match list.as_str() {
                "environment" if environment => ("value", false),
                "secrets" => ("valueFrom", true),
                _ => continue,
            };
            let Value::Array(items) = value else { continue };
            for item in items.iter_mut().filter_map(Value::as_object_mut) {
                let name = item
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                if !(all || looks_secret(&name)) {
                    continue;
                }
                if let Some(slot) = item.get_mut(field) {
                    out.push(((cname.clone(), list.clone(), name), slot));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
