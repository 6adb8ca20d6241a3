//! Validation of a `--task-definition` file against the RegisterTaskDefinition shape of the ECS
//! service model, before any request.
//!
//! The shapes come from the model the AWS SDKs are generated from (botocore's
//! `ecs/2014-11-13/service-2.json`), reduced by `scripts/ecs-taskdef-shapes.py` to
//! `register_task_definition.shapes.json` beside this file. Nothing here lists ECS field names:
//! when the model is updated, new fields are accepted.
//!
//! The file's text is *deserialized* with a [`DeserializeSeed`] that walks the shapes, rather
//! than parsed into a value and checked afterwards: parsed values carry no positions, while
//! serde_json and serde_yaml both report the line and column where a deserializer stopped. Each
//! check returns `serde::de::Error::custom` at the first problem, and records the field path and
//! a hint beside it (the error types carry only a message).

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::LazyLock;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, EnumAccess, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::taskdef::{READ_ONLY_FIELDS, TAGS_FIELD};
use crate::document::{is_json_path, strip_position};

/// The member of DescribeTaskDefinition's output that holds the task definition.
pub const WRAPPER_FIELD: &str = "taskDefinition";

/// Members the model does not mark required that deckhand requires: a container's `name` and
/// `image` (deckhand finds containers by name to patch their images, and the loader,
/// `TaskDefSpec::from_document`, rejects a container without them). Required here, the error
/// points at the container in the file.
const ALSO_REQUIRED: &[(&str, &str)] = &[
    ("ContainerDefinition", "name"),
    ("ContainerDefinition", "image"),
];

const SHAPES_JSON: &str = include_str!("register_task_definition.shapes.json");

static MODEL: LazyLock<Model> = LazyLock::new(|| {
    serde_json::from_str(SHAPES_JSON)
        .expect("BUG: register_task_definition.shapes.json does not parse (a test checks it)")
});

/// A task definition file that does not have the RegisterTaskDefinition shape, or does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}{}: {}{message}", position(*.line, *.column), field_lead(.field))]
pub struct TaskDefShapeError {
    /// The file, as the user named it.
    pub path: String,
    /// 1-based line of the problem (0 when the parser gave none).
    pub line: usize,
    /// 1-based column of the problem (0 when the parser gave none).
    pub column: usize,
    /// The field path, like `containerDefinitions[0].portMappings[1].containerPort`; empty for
    /// the document itself and for syntax errors.
    pub field: String,
    /// What is wrong.
    pub message: String,
    hint: Option<String>,
}

impl TaskDefShapeError {
    /// How to fix it, when known.
    pub fn hint(&self) -> Option<String> {
        self.hint.clone()
    }

    /// The same error for a file the parser could not read.
    pub(crate) fn unparsable(path: String, line: usize, column: usize, message: String) -> Self {
        Self {
            path,
            line,
            column,
            field: String::new(),
            message,
            hint: Some(SYNTAX_HINT.to_string()),
        }
    }
}

const SYNTAX_HINT: &str = "the file must be JSON (`.json`) or YAML in RegisterTaskDefinition shape";

fn position(line: usize, column: usize) -> String {
    if line == 0 {
        String::new()
    } else {
        format!(":{line}:{column}")
    }
}

fn field_lead(field: &str) -> String {
    if field.is_empty() {
        String::new()
    } else {
        format!("`{field}`: ")
    }
}

/// Checks a task definition file's text against the RegisterTaskDefinition shape: JSON when
/// `path` ends in `.json`, YAML otherwise (as [`crate::document::parse_document`] reads it).
///
/// Accepts what [`super::taskdef::TaskDefSpec::from_document`] accepts: the RegisterTaskDefinition
/// fields (with `tags`), or a DescribeTaskDefinition output `{"taskDefinition": {...}, "tags":
/// [...]}`; the read-only fields of a described task definition ([`READ_ONLY_FIELDS`]) are
/// ignored wherever the task definition is; task-level `cpu` and `memory` may be numbers. A
/// `null` stands for a field that is not set, except where the field is required.
pub fn validate_register_document(path: &Path, text: &str) -> Result<(), TaskDefShapeError> {
    let yaml = !is_json_path(path);
    let ctx = Ctx {
        model: &MODEL,
        yaml,
        problem: RefCell::new(None),
    };
    let root = Node {
        ctx: &ctx,
        kind: Kind::Document,
        path: String::new(),
        nullable: false,
    };
    let shown = path.display().to_string();
    if !yaml {
        let mut de = serde_json::Deserializer::from_str(text);
        root.deserialize(&mut de)
            .and_then(|_| de.end())
            .map_err(|e| ctx.error(shown, e.line(), e.column(), &e.to_string()))
    } else {
        root.deserialize(serde_yaml::Deserializer::from_str(text))
            .map(drop)
            .map_err(|e| {
                let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
                ctx.error(shown, line, column, &e.to_string())
            })
    }
}

/// The RegisterTaskDefinition fields the model knows, sorted.
pub fn register_fields() -> Vec<&'static str> {
    MODEL.input_members().keys().map(String::as_str).collect()
}

/// True when `field` is a RegisterTaskDefinition field of the model.
pub fn is_register_field(field: &str) -> bool {
    MODEL.input_members().contains_key(field)
}

/// The members of a described task definition that RegisterTaskDefinition does not take,
/// according to the model (a test checks [`READ_ONLY_FIELDS`] against them).
pub fn describe_only_fields() -> Vec<&'static str> {
    MODEL.describe_only.iter().map(String::as_str).collect()
}

/// A hint for a top-level field that is not a RegisterTaskDefinition field: the closest field,
/// or the list of them.
pub fn unknown_field_hint(field: &str) -> String {
    let members = MODEL.input_members();
    unknown_member_hint(field, members.keys(), &[], "RegisterTaskDefinition")
}

// ---------------------------------------------------------------------------------- the model

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Model {
    botocore: String,
    describe_only: Vec<String>,
    input: String,
    shapes: BTreeMap<String, Shape>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
enum Shape {
    Structure {
        members: BTreeMap<String, String>,
        #[serde(default)]
        required: Vec<String>,
        #[serde(default)]
        union: bool,
    },
    List {
        member: String,
        min: Option<u64>,
        max: Option<u64>,
    },
    Map {
        key: String,
        value: String,
    },
    String {
        #[serde(default, rename = "enum")]
        values: Vec<String>,
        min: Option<u64>,
        max: Option<u64>,
    },
    Integer {
        min: Option<i64>,
        max: Option<i64>,
    },
    Long {
        min: Option<i64>,
        max: Option<i64>,
    },
    Double {
        min: Option<f64>,
        max: Option<f64>,
    },
    Float {
        min: Option<f64>,
        max: Option<f64>,
    },
    Boolean,
    Timestamp,
}

impl Model {
    fn shape(&self, name: &str) -> &Shape {
        self.shapes.get(name).unwrap_or_else(|| {
            panic!("BUG: shape `{name}` is not in the shapes file (a test checks every reference)")
        })
    }

    fn input_members(&self) -> &BTreeMap<String, String> {
        match self.shape(&self.input) {
            Shape::Structure { members, .. } => members,
            _ => panic!("BUG: the RegisterTaskDefinition input is not a structure"),
        }
    }

    /// How messages name a structure: the input by its operation, others by their shape name
    /// (the API reference's name for them).
    fn display_name<'a>(&self, name: &'a str) -> &'a str {
        if name == self.input {
            "RegisterTaskDefinition"
        } else {
            name
        }
    }
}

// ------------------------------------------------------------------------------ the validator

/// The first problem, recorded where it is found (the serde error carries only its message).
struct Problem {
    field: String,
    message: String,
    hint: Option<String>,
}

struct Ctx<'m> {
    model: &'m Model,
    /// Whether the file is YAML (hints about quoting say why).
    yaml: bool,
    problem: RefCell<Option<Problem>>,
}

impl Ctx<'_> {
    fn fail<E: de::Error>(&self, field: &str, message: String, hint: Option<String>) -> E {
        let mut slot = self.problem.borrow_mut();
        if slot.is_none() {
            *slot = Some(Problem {
                field: field.to_string(),
                message: message.clone(),
                hint,
            });
        }
        E::custom(message)
    }

    fn error(&self, path: String, line: usize, column: usize, parser: &str) -> TaskDefShapeError {
        match self.problem.borrow_mut().take() {
            Some(p) => TaskDefShapeError {
                path,
                line,
                column,
                field: p.field,
                message: p.message,
                hint: p.hint,
            },
            // Not one of ours: a syntax error (or a value no task definition field takes).
            None => TaskDefShapeError::unparsable(path, line, column, strip_position(parser)),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Kind<'m> {
    /// A shape of the model, by name.
    Shape(&'m str),
    /// Task-level `cpu` or `memory`: a string in the model, with rules of its own.
    TaskSize(TaskSize),
    /// A task definition: the RegisterTaskDefinition input, plus ignored read-only fields.
    Body,
    /// The whole document: a task definition, or a DescribeTaskDefinition output wrapping one.
    Document,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TaskSize {
    Cpu,
    Memory,
}

/// What the document has where a value is expected.
#[derive(Debug, Clone, Copy)]
enum Found<'a> {
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(&'a str),
    Null,
    List,
    Mapping,
    Tagged,
}

impl fmt::Display for Found<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bool(b) => write!(f, "a boolean {b}"),
            Self::Int(n) => write!(f, "an integer {n}"),
            Self::Float(x) => write!(f, "a number {x}"),
            Self::Str(s) => write!(f, "a string {}", quoted(s)),
            Self::Null => f.write_str("null"),
            Self::List => f.write_str("a list"),
            Self::Mapping => f.write_str("a mapping"),
            Self::Tagged => f.write_str("a tagged YAML value (`!Tag value`)"),
        }
    }
}

/// A string as JSON writes it, shortened when long.
fn quoted(s: &str) -> String {
    const MAX: usize = 60;
    if s.chars().count() <= MAX {
        serde_json::to_string(s).unwrap_or_default()
    } else {
        let head: String = s.chars().take(MAX).collect();
        format!("{}...", serde_json::to_string(&head).unwrap_or_default())
    }
}

/// The seed for one value: what is expected there, and where it is.
struct Node<'c, 'm> {
    ctx: &'c Ctx<'m>,
    kind: Kind<'m>,
    path: String,
    /// Whether `null` is accepted (as "not set"): structure members that are not required.
    nullable: bool,
}

impl<'c, 'm> Node<'c, 'm> {
    fn model(&self) -> &'m Model {
        self.ctx.model
    }

    fn fail<E: de::Error>(&self, message: String, hint: Option<String>) -> E {
        self.ctx.fail(&self.path, message, hint)
    }

    fn child(&self, kind: Kind<'m>, path: String, nullable: bool) -> Node<'c, 'm> {
        Node {
            ctx: self.ctx,
            kind,
            path,
            nullable,
        }
    }

    /// What is expected, as messages say it: "an integer", "a list of mappings (PortMapping)".
    fn expected(&self) -> String {
        match self.kind {
            Kind::Body | Kind::Document => "a mapping of task definition fields".to_string(),
            Kind::TaskSize(TaskSize::Cpu) => {
                "CPU units as an integer (`1024`) or vCPUs with the unit (`1 vCPU`)".to_string()
            }
            Kind::TaskSize(TaskSize::Memory) => {
                "MiB as an integer (`2048`) or GB with the unit (`2 GB`)".to_string()
            }
            Kind::Shape(name) => describe_shape(self.model(), name),
        }
    }

    fn mismatch<E: de::Error>(&self, found: Found<'_>) -> E {
        if self.path.is_empty() && matches!(found, Found::Null) {
            return self.fail(
                format!("the document is empty; expected {}", self.expected()),
                None,
            );
        }
        let hint = self.mismatch_hint(found);
        self.fail(format!("expected {}, found {found}", self.expected()), hint)
    }

    fn mismatch_hint(&self, found: Found<'_>) -> Option<String> {
        let shape = match self.kind {
            Kind::Shape(name) => self.model().shape(name),
            Kind::TaskSize(size) => return task_size_hint(size, found),
            Kind::Body | Kind::Document => return None,
        };
        match (shape, found) {
            (Shape::String { values, .. }, Found::Int(_) | Found::Float(_) | Found::Bool(_))
                if values.is_empty() =>
            {
                let raw = match found {
                    Found::Int(n) => n.to_string(),
                    Found::Float(x) => x.to_string(),
                    Found::Bool(b) => b.to_string(),
                    _ => String::new(),
                };
                let why = if !self.ctx.yaml {
                    String::new()
                } else if matches!(found, Found::Bool(_)) {
                    format!(" (YAML reads an unquoted {raw} as a boolean)")
                } else {
                    format!(" (YAML reads an unquoted {raw} as a number)")
                };
                Some(format!("write it as a string, in quotes: `\"{raw}\"`{why}"))
            }
            (
                Shape::Integer { .. }
                | Shape::Long { .. }
                | Shape::Double { .. }
                | Shape::Float { .. },
                Found::Str(s),
            ) if s.trim().parse::<f64>().is_ok() => {
                Some(format!("write the number without quotes: `{}`", s.trim()))
            }
            (Shape::Integer { .. } | Shape::Long { .. }, Found::Float(x)) if x.fract() == 0.0 => {
                Some(format!("write it as an integer: `{x:.0}`"))
            }
            (Shape::Boolean, Found::Str(s)) if matches!(s.trim(), "true" | "false") => {
                Some(format!("write the boolean without quotes: `{}`", s.trim()))
            }
            (Shape::List { .. }, Found::Mapping) => Some(
                "make it a list: in YAML, start each item with `- `; in JSON, wrap the items in `[ ]`"
                    .to_string(),
            ),
            _ => None,
        }
    }

    /// Checks a scalar (or null) against what is expected.
    fn scalar<E: de::Error>(self, found: Found<'_>) -> Result<bool, E> {
        if matches!(found, Found::Null) {
            return if self.nullable {
                Ok(false)
            } else {
                Err(self.mismatch(found))
            };
        }
        let name = match self.kind {
            Kind::Body | Kind::Document => return Err(self.mismatch(found)),
            Kind::TaskSize(size) => {
                return if task_size_ok(size, found) {
                    Ok(true)
                } else {
                    Err(self.mismatch(found))
                };
            }
            Kind::Shape(name) => name,
        };
        match (self.model().shape(name), found) {
            (Shape::String { values, min, max }, Found::Str(s)) => {
                if !values.is_empty() && !values.iter().any(|v| v == s) {
                    let hint = closest(s, values.iter()).map(|c| format!("did you mean `{c}`?"));
                    return Err(self.fail(
                        format!("expected one of {}, found {found}", backticked(values)),
                        hint,
                    ));
                }
                let len = s.chars().count() as u64;
                if min.is_some_and(|m| len < m) || max.is_some_and(|m| len > m) {
                    return Err(self.fail(
                        format!(
                            "expected a string of {} characters, found {len}",
                            bounds_text(*min, *max)
                        ),
                        None,
                    ));
                }
                Ok(true)
            }
            (Shape::Integer { min, max }, Found::Int(n)) => {
                self.int_in_range(n, i128::from(i32::MIN), i128::from(i32::MAX), *min, *max)
            }
            (Shape::Long { min, max }, Found::Int(n)) => {
                self.int_in_range(n, i128::from(i64::MIN), i128::from(i64::MAX), *min, *max)
            }
            (
                Shape::Double { min, max } | Shape::Float { min, max },
                Found::Int(_) | Found::Float(_),
            ) => {
                let x = match found {
                    Found::Int(n) => n as f64,
                    Found::Float(x) => x,
                    _ => 0.0,
                };
                if min.is_some_and(|m| x < m) || max.is_some_and(|m| x > m) {
                    return Err(self.fail(
                        format!(
                            "expected a number {}, found {found}",
                            range_text(*min, *max)
                        ),
                        None,
                    ));
                }
                Ok(true)
            }
            (Shape::Boolean, Found::Bool(_))
            | (Shape::Timestamp, Found::Int(_) | Found::Float(_) | Found::Str(_)) => Ok(true),
            _ => Err(self.mismatch(found)),
        }
    }

    fn int_in_range<E: de::Error>(
        &self,
        n: i128,
        type_min: i128,
        type_max: i128,
        min: Option<i64>,
        max: Option<i64>,
    ) -> Result<bool, E> {
        let lo = min.map_or(type_min, i128::from).max(type_min);
        let hi = max.map_or(type_max, i128::from).min(type_max);
        if n < lo || n > hi {
            return Err(self.fail(
                format!(
                    "expected an integer from {lo} to {hi}, found {}",
                    Found::Int(n)
                ),
                None,
            ));
        }
        Ok(true)
    }

    /// A structure (or the task definition body): each key against the members, each value
    /// against its member's shape, then the required members and unions.
    fn structure<'de, A: MapAccess<'de>>(
        self,
        mut map: A,
        name: &'m str,
        ignored: &'static [&'static str],
    ) -> Result<bool, A::Error> {
        let model = self.model();
        let Shape::Structure {
            members,
            required,
            union,
        } = model.shape(name)
        else {
            return Err(self.mismatch(Found::Mapping));
        };
        let required = required_members(name, required);
        let seen = RefCell::new(Vec::new());
        let mut set: Vec<&str> = Vec::new();
        let wrapped = matches!(self.kind, Kind::Body);
        let check = |key: &str| -> Result<(), KeyProblem> {
            if wrapped && key == TAGS_FIELD {
                // The loader reads the tags beside `taskDefinition`, as DescribeTaskDefinition
                // returns them; tags inside would be dropped without a word.
                return Err((
                    format!(
                        "in a DescribeTaskDefinition output, `{TAGS_FIELD}` goes beside `{WRAPPER_FIELD}`, not inside it"
                    ),
                    Some(format!("move `{TAGS_FIELD}` to the top level")),
                ));
            }
            if members.contains_key(key) || ignored.contains(&key) {
                Ok(())
            } else {
                Err(unknown_member(model, name, members, ignored, key))
            }
        };
        while let Some(key) = map.next_key_seed(FieldKey {
            ctx: self.ctx,
            path: &self.path,
            seen: &seen,
            check: &check,
        })? {
            let Some((member, target)) = members.get_key_value(&key) else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            let kind = self.member_kind(name, member, target);
            let nullable = !required.contains(&member.as_str());
            let child = self.child(kind, join(&self.path, member), nullable);
            if map.next_value_seed(child)? {
                set.push(member);
            }
        }
        self.finish_structure(name, &required, *union, &set, &seen.borrow())
    }

    fn member_kind(&self, structure: &str, member: &'m str, target: &'m str) -> Kind<'m> {
        if structure == self.model().input {
            match member {
                "cpu" => return Kind::TaskSize(TaskSize::Cpu),
                "memory" => return Kind::TaskSize(TaskSize::Memory),
                _ => {}
            }
        }
        Kind::Shape(target)
    }

    fn finish_structure<E: de::Error>(
        &self,
        name: &str,
        required: &[&str],
        union: bool,
        set: &[&str],
        seen: &[String],
    ) -> Result<bool, E> {
        for r in required {
            if !set.contains(r) {
                let state = if seen.iter().any(|s| s == r) {
                    "null"
                } else {
                    "missing"
                };
                return Err(self.ctx.fail(
                    &join(&self.path, r),
                    format!(
                        "required by {}, but {state}",
                        self.model().display_name(name)
                    ),
                    None,
                ));
            }
        }
        if union && set.len() != 1 {
            let Shape::Structure { members, .. } = self.model().shape(name) else {
                return Ok(true);
            };
            let found = if set.is_empty() {
                "none is".to_string()
            } else {
                format!("{} are", backticked(set))
            };
            return Err(self.fail(
                format!(
                    "{name} takes exactly one of {}, but {found} set",
                    backticked(members.keys())
                ),
                None,
            ));
        }
        Ok(true)
    }

    /// The whole document: the task definition's fields, or `taskDefinition` (wrapping them)
    /// beside `tags`, as DescribeTaskDefinition returns it.
    fn document<'de, A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let model = self.model();
        let input = model.input.as_str();
        let members = model.input_members();
        let Shape::Structure {
            required, union, ..
        } = model.shape(input)
        else {
            return Err(self.mismatch(Found::Mapping));
        };
        let required = required_members(input, required);
        // What the top level takes besides the task definition's fields.
        let extras: Vec<&str> = std::iter::once(WRAPPER_FIELD)
            .chain(READ_ONLY_FIELDS.iter().copied())
            .collect();
        // Some(true) once `taskDefinition` is seen, Some(false) once a task definition field is.
        let wrapped: Cell<Option<bool>> = Cell::new(None);
        let seen = RefCell::new(Vec::new());
        let mut set: Vec<&str> = Vec::new();
        let check = |key: &str| -> Result<(), KeyProblem> {
            if key == WRAPPER_FIELD {
                if wrapped.get() == Some(false) {
                    return Err((
                        "wraps a whole task definition (DescribeTaskDefinition output), but the top level also has task definition fields"
                            .to_string(),
                        Some(format!(
                            "keep either the task definition's fields alone, or `{WRAPPER_FIELD}` and `{TAGS_FIELD}` as `aws ecs describe-task-definition --include TAGS` prints them"
                        )),
                    ));
                }
                wrapped.set(Some(true));
                return Ok(());
            }
            if key == TAGS_FIELD {
                return Ok(());
            }
            if wrapped.get() == Some(true) {
                return Err((
                    format!(
                        "beside `{WRAPPER_FIELD}` (DescribeTaskDefinition output), the top level takes only `{TAGS_FIELD}`"
                    ),
                    Some(if members.contains_key(key) {
                        format!("move `{key}` into `{WRAPPER_FIELD}`")
                    } else {
                        format!("remove `{key}`")
                    }),
                ));
            }
            if members.contains_key(key) || READ_ONLY_FIELDS.contains(&key) {
                wrapped.set(Some(false));
                return Ok(());
            }
            Err(unknown_member(model, input, members, &extras, key))
        };
        while let Some(key) = map.next_key_seed(FieldKey {
            ctx: self.ctx,
            path: &self.path,
            seen: &seen,
            check: &check,
        })? {
            if key == WRAPPER_FIELD {
                let child = self.child(Kind::Body, join(&self.path, WRAPPER_FIELD), false);
                map.next_value_seed(child)?;
                continue;
            }
            let Some((member, target)) = members.get_key_value(&key) else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            let kind = self.member_kind(input, member, target);
            let nullable = !required.contains(&member.as_str());
            let child = self.child(kind, join(&self.path, member), nullable);
            if map.next_value_seed(child)? {
                set.push(member);
            }
        }
        if wrapped.get() == Some(true) {
            return Ok(true);
        }
        self.finish_structure(input, &required, *union, &set, &seen.borrow())
    }

    fn map_of<'de, A: MapAccess<'de>>(
        self,
        mut map: A,
        key_shape: &'m str,
        value_shape: &'m str,
    ) -> Result<bool, A::Error> {
        let seen = RefCell::new(Vec::new());
        let model = self.model();
        let check = |key: &str| -> Result<(), KeyProblem> {
            match model.shape(key_shape) {
                Shape::String { values, .. }
                    if !values.is_empty() && !values.iter().any(|v| v == key) =>
                {
                    Err((
                        format!("expected a key that is one of {}", backticked(values)),
                        closest(key, values.iter()).map(|c| format!("did you mean `{c}`?")),
                    ))
                }
                _ => Ok(()),
            }
        };
        while let Some(key) = map.next_key_seed(FieldKey {
            ctx: self.ctx,
            path: &self.path,
            seen: &seen,
            check: &check,
        })? {
            let child = self.child(Kind::Shape(value_shape), map_entry(&self.path, &key), false);
            map.next_value_seed(child)?;
        }
        Ok(true)
    }
}

/// The model's required members of a structure, and [`ALSO_REQUIRED`].
fn required_members<'a>(structure: &str, model_required: &'a [String]) -> Vec<&'a str> {
    let mut out: Vec<&str> = model_required.iter().map(String::as_str).collect();
    for (s, member) in ALSO_REQUIRED {
        if *s == structure && !out.contains(member) {
            out.push(member);
        }
    }
    out
}

impl<'de> DeserializeSeed<'de> for Node<'_, '_> {
    /// Whether the value is set (not null).
    type Value = bool;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_, '_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.expected())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        self.scalar(Found::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
        self.scalar(Found::Int(i128::from(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
        self.scalar(Found::Int(i128::from(v)))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<bool, E> {
        self.scalar(Found::Int(v))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<bool, E> {
        self.scalar(Found::Int(i128::try_from(v).unwrap_or(i128::MAX)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<bool, E> {
        self.scalar(Found::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        self.scalar(Found::Str(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        self.scalar(Found::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<bool, E> {
        self.scalar(Found::Null)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_newtype_struct<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<bool, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_enum<A: EnumAccess<'de>>(self, _data: A) -> Result<bool, A::Error> {
        Err(self.mismatch(Found::Tagged))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        let Kind::Shape(name) = self.kind else {
            return Err(self.mismatch(Found::List));
        };
        let Shape::List { member, min, max } = self.model().shape(name) else {
            return Err(self.mismatch(Found::List));
        };
        let mut count: u64 = 0;
        while seq
            .next_element_seed(self.child(
                Kind::Shape(member),
                format!("{}[{count}]", self.path),
                false,
            ))?
            .is_some()
        {
            count += 1;
        }
        if min.is_some_and(|m| count < m) || max.is_some_and(|m| count > m) {
            return Err(self.fail(
                format!(
                    "expected a list of {} items, found {count}",
                    bounds_text(*min, *max)
                ),
                None,
            ));
        }
        Ok(true)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<bool, A::Error> {
        match self.kind {
            Kind::Document => self.document(map),
            Kind::Body => {
                let input = self.model().input.as_str();
                self.structure(map, input, READ_ONLY_FIELDS)
            }
            Kind::TaskSize(_) => Err(self.mismatch(Found::Mapping)),
            Kind::Shape(name) => match self.model().shape(name) {
                Shape::Structure { .. } => self.structure(map, name, &[]),
                Shape::Map { key, value } => self.map_of(map, key, value),
                _ => Err(self.mismatch(Found::Mapping)),
            },
        }
    }
}

/// The seed for a mapping's key: a string, not seen before in this mapping, that `check`
/// accepts. Keys are checked here, not after, so that the error is placed at the key.
struct FieldKey<'a, 'm> {
    ctx: &'a Ctx<'m>,
    /// The mapping's path.
    path: &'a str,
    seen: &'a RefCell<Vec<String>>,
    check: &'a dyn Fn(&str) -> Result<(), KeyProblem>,
}

/// Why a key is refused: the message, and a hint.
type KeyProblem = (String, Option<String>);

impl FieldKey<'_, '_> {
    fn not_a_name<E: de::Error>(&self, found: Found<'_>) -> E {
        self.ctx.fail(
            self.path,
            format!("expected a field name (a string), found {found}"),
            None,
        )
    }
}

impl<'de> DeserializeSeed<'de> for FieldKey<'_, '_> {
    type Value = String;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FieldKey<'_, '_> {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<String, E> {
        if self.seen.borrow().iter().any(|k| k == key) {
            return Err(self.ctx.fail(
                &map_entry(self.path, key),
                "appears twice in the same mapping".to_string(),
                Some("keep one of them".to_string()),
            ));
        }
        if let Err((message, hint)) = (self.check)(key) {
            return Err(self.ctx.fail(&map_entry(self.path, key), message, hint));
        }
        self.seen.borrow_mut().push(key.to_string());
        Ok(key.to_string())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Err(self.not_a_name(Found::Bool(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Err(self.not_a_name(Found::Int(i128::from(v))))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Err(self.not_a_name(Found::Int(i128::from(v))))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Err(self.not_a_name(Found::Float(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<String, E> {
        Err(self.not_a_name(Found::Null))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<String, A::Error> {
        Err(self.not_a_name(Found::List))
    }

    fn visit_map<A: MapAccess<'de>>(self, _map: A) -> Result<String, A::Error> {
        Err(self.not_a_name(Found::Mapping))
    }
}

// ------------------------------------------------------------------ task-level cpu and memory

// ECS documents task-level `cpu` and `memory` as strings that hold either an integer or a value
// with a unit, and converts them to integers when the task definition is registered: "It can be
// expressed as an integer using CPU units (for example, `1024`) or as a string using vCPUs (for
// example, `1 vCPU` or `1 vcpu`)" and "It can be expressed as an integer using MiB (for example,
// `1024`) or as a string using GB (for example, `1GB` or `1 GB`)" (the model's documentation of
// RegisterTaskDefinitionRequest `cpu` and `memory`; also "Task size" in
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#task_size
// and https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-cpu-memory-error.html).
// Anything else fails at RegisterTaskDefinition ("Invalid 'cpu' setting for task"). Which
// values a launch type supports (Fargate's table of pairs) is left to ECS.

fn task_size_ok(size: TaskSize, found: Found<'_>) -> bool {
    match found {
        Found::Int(n) => n >= 0,
        Found::Str(s) => is_digits(s) || with_unit(size, s).is_some_and(is_decimal),
        _ => false,
    }
}

/// The number before the size's unit (`vCPU` or `GB`, any case, optionally after spaces).
fn with_unit(size: TaskSize, s: &str) -> Option<&str> {
    let unit = match size {
        TaskSize::Cpu => "vcpu",
        TaskSize::Memory => "gb",
    };
    let cut = s.len().checked_sub(unit.len())?;
    let (number, suffix) = (s.get(..cut)?, s.get(cut..)?);
    suffix
        .eq_ignore_ascii_case(unit)
        .then(|| number.trim_end_matches(' '))
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `1`, `0.5`, `.25`: what ECS shows before a unit.
fn is_decimal(s: &str) -> bool {
    let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    digits(whole)
        && digits(fraction)
        && (!whole.is_empty() || !fraction.is_empty())
        && !(s.ends_with('.'))
}

fn task_size_hint(size: TaskSize, found: Found<'_>) -> Option<String> {
    let (field, unit, base) = match size {
        TaskSize::Cpu => ("cpu", "vCPU", "CPU units"),
        TaskSize::Memory => ("memory", "GB", "MiB"),
    };
    let number = match found {
        Found::Float(x) => Some(x),
        Found::Str(s) if is_decimal(s.trim()) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    if let Some(x) = number {
        let scaled = x * 1024.0;
        return Some(if scaled.fract() == 0.0 && scaled >= 0.0 {
            format!("write `{x} {unit}`, or `{scaled:.0}` ({base})")
        } else {
            format!("write `{x} {unit}`")
        });
    }
    if let (TaskSize::Memory, Found::Str(s)) = (size, found) {
        let lower = s.to_ascii_lowercase();
        if let Some(n) = ["mib", "mb", "m"]
            .iter()
            .find_map(|u| lower.strip_suffix(u).map(str::trim_end))
            .filter(|n| is_digits(n))
        {
            return Some(format!("MiB take no unit: write `{n}`"));
        }
    }
    Some(format!(
        "the `{field}` values each launch type supports are under \"Task size\" in the ECS Developer Guide: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#task_size"
    ))
}

// ------------------------------------------------------------------------------------ wording

fn describe_shape(model: &Model, name: &str) -> String {
    match model.shape(name) {
        Shape::Structure { .. } => format!("a mapping ({})", model.display_name(name)),
        Shape::List { member, .. } => match model.shape(member) {
            Shape::Structure { .. } => format!("a list of mappings ({member})"),
            Shape::String { values, .. } if values.is_empty() => "a list of strings".to_string(),
            Shape::String { values, .. } => format!("a list of {}", backticked(values)),
            Shape::Integer { .. } | Shape::Long { .. } => "a list of integers".to_string(),
            _ => format!("a list ({name})"),
        },
        Shape::Map { key, value } => match (model.shape(key), model.shape(value)) {
            (Shape::String { .. }, Shape::String { .. }) => {
                "a mapping of strings to strings".to_string()
            }
            _ => format!("a mapping ({name})"),
        },
        Shape::String { values, .. } if !values.is_empty() => {
            format!("one of {}", backticked(values))
        }
        Shape::String { .. } => "a string".to_string(),
        Shape::Integer { .. } | Shape::Long { .. } => "an integer".to_string(),
        Shape::Double { .. } | Shape::Float { .. } => "a number".to_string(),
        Shape::Boolean => "a boolean (`true` or `false`)".to_string(),
        Shape::Timestamp => "a timestamp".to_string(),
    }
}

fn unknown_member(
    model: &Model,
    structure: &str,
    members: &BTreeMap<String, String>,
    also: &[&str],
    key: &str,
) -> KeyProblem {
    let shown = model.display_name(structure);
    if key == "<<" {
        // serde_yaml, like the loader (`document::parse_document`), does not apply merge keys.
        return (
            "YAML merge keys (`<<`) are not supported in a task definition file".to_string(),
            Some("write the merged fields out (anchors and aliases `*name` do work)".to_string()),
        );
    }
    (
        format!("unknown field: {shown} has no `{key}`"),
        Some(unknown_member_hint(key, members.keys(), also, shown)),
    )
}

/// The closest of `members` and `also` (fields that are accepted but ignored), or the list of
/// `members`.
fn unknown_member_hint<'a>(
    key: &str,
    members: impl Iterator<Item = &'a String> + Clone,
    also: &[&'a str],
    shown: &str,
) -> String {
    let candidates = members
        .clone()
        .map(String::as_str)
        .chain(also.iter().copied());
    match closest(key, candidates) {
        Some(c) if c.eq_ignore_ascii_case(key) => format!(
            "did you mean `{c}`? Field names are case-sensitive: the API's camelCase, not CloudFormation's PascalCase"
        ),
        Some(c) => format!("did you mean `{c}`?"),
        None => format!(
            "{shown} takes: {} (the ECS model of botocore {})",
            members.map(String::as_str).collect::<Vec<_>>().join(", "),
            MODEL.botocore
        ),
    }
}

/// The candidate closest to `word` (ignoring case) when it is close enough to be a typo.
fn closest<'a, S: AsRef<str> + ?Sized + 'a>(
    word: &str,
    candidates: impl Iterator<Item = &'a S>,
) -> Option<&'a str> {
    let lower = word.to_lowercase();
    let limit = (word.chars().count() / 3).clamp(1, 3);
    candidates
        .map(|c| {
            (
                edit_distance(&lower, &c.as_ref().to_lowercase()),
                c.as_ref(),
            )
        })
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edit distance with adjacent transpositions (optimal string alignment): `memroy` is one edit
/// from `memory`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

fn backticked<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> String {
    items
        .into_iter()
        .map(|s| format!("`{}`", s.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn bounds_text(min: Option<u64>, max: Option<u64>) -> String {
    match (min.filter(|m| *m > 0), max) {
        (Some(lo), Some(hi)) => format!("{lo} to {hi}"),
        (Some(lo), None) => format!("at least {lo}"),
        (None, Some(hi)) => format!("at most {hi}"),
        (None, None) => "any number of".to_string(),
    }
}

fn range_text(min: Option<f64>, max: Option<f64>) -> String {
    match (min, max) {
        (Some(lo), Some(hi)) => format!("from {lo} to {hi}"),
        (Some(lo), None) => format!("of at least {lo}"),
        (None, Some(hi)) => format!("of at most {hi}"),
        (None, None) => String::new(),
    }
}

/// `a.b` for a member of the structure at `a` (just `b` at the top).
fn join(path: &str, member: &str) -> String {
    if path.is_empty() {
        member.to_string()
    } else {
        format!("{path}.{member}")
    }
}

/// A map entry: `dockerLabels.team`, or `dockerLabels["com.example.team"]` when the key is not
/// a plain name.
fn map_entry(path: &str, key: &str) -> String {
    let plain = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain {
        join(path, key)
    } else {
        format!("{path}[{}]", quoted(key))
    }
}

#[cfg(test)]
mod tests;
