//! Filter files in dorny/paths-filter's format: a mapping from filter name to rules.
//!
//! ```yaml
//! shared: &shared            # a filter, and an anchor other filters can include
//!   - 'Cargo.lock'
//!   - 'crates/core/**'
//! backend:
//!   - *shared                # nested lists are flattened
//!   - 'crates/server/**'
//! frontend: 'web/**'         # one glob on its own
//! docs:
//!   - added|modified: '**/*.md'        # only files with one of these statuses
//!   - deleted: ['docs/**', 'README.md']
//! ```
//!
//! A rule is a glob, a list of rules, or a map from `STATUS` (a `|`-separated list of `added`,
//! `copied`, `deleted`, `modified`, `renamed`, `unmerged`, in any case) to a glob or a list of
//! globs. As in paths-filter, each key of a status map is one rule whose globs are OR-ed.
//!
//! Stricter than paths-filter, which accepts these silently and then never matches them: an
//! unknown status, an empty status list, a filter or status key with no globs, an empty filter
//! name, a duplicate filter, a glob that cannot be compiled. Each error carries the line and
//! column, and the path to the value (`backend[1].added`), which starts with the
//! filter's name.

use std::cell::RefCell;
use std::fmt;
use std::path::Path;

use serde::de::{
    self, DeserializeSeed, Deserializer, Expected, MapAccess, SeqAccess, Unexpected, Visitor,
};

use super::files::ChangeStatus;
use super::glob::Glob;
use crate::document::{DocumentError, DuplicateKeys, deserialize_yaml};

/// The filters of one file, in the order they are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filters {
    path: String,
    filters: Vec<Filter>,
}

/// One named filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    name: String,
    rules: Vec<Rule>,
}

/// One rule of a filter: globs, optionally restricted to some change statuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    statuses: Option<Vec<ChangeStatus>>,
    globs: Vec<Glob>,
}

/// A filter file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// Not YAML, or not in the filter format; `message` names the filter where there is one.
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        /// The file, as the user named it.
        path: String,
        /// 1-based line (0 when unknown).
        line: usize,
        /// 1-based column (0 when unknown).
        column: usize,
        /// What is wrong, with a `hint:` line when the fix is known.
        message: String,
    },
    /// In exclude mode, a filter made only of `!` patterns: nothing can match it.
    #[error(
        "{path}: filter `{filter}` has only negative (`!`) patterns, so in exclude mode no file can match it\nhint: list what the filter covers first (e.g. `- 'src/**'`), then the `!` patterns to leave out"
    )]
    OnlyNegations {
        /// The file, as the user named it.
        path: String,
        /// The filter.
        filter: String,
    },
}

impl FilterError {
    /// The filter the error is about, when it is about one filter as a whole.
    pub fn filter(&self) -> Option<&str> {
        match self {
            Self::Invalid { .. } => None,
            Self::OnlyNegations { filter, .. } => Some(filter),
        }
    }
}

impl From<DocumentError> for FilterError {
    fn from(e: DocumentError) -> Self {
        let mut message = e.message;
        // YAML reads an unquoted value that starts with `*` as an alias (`*name`), and fails on
        // the glob characters that follow, or on the anchor that does not exist.
        let alias_trouble = [
            "alias",
            "anchor",
            "did not find expected alphabetic or numeric character",
        ];
        if alias_trouble.iter().any(|m| message.contains(m)) {
            message.push_str(
                "\nhint: YAML reads a value that starts with `*` as an alias: quote globs, e.g. `- '**/*.js'`",
            );
        }
        Self::Invalid {
            path: e.path,
            line: e.line,
            column: e.column,
            message,
        }
    }
}

impl Filters {
    /// Reads a filter file. `path` is only used in messages.
    pub fn parse(path: &Path, text: &str) -> Result<Self, FilterError> {
        let failed_at = RefCell::new(None);
        let seed = FileSeed {
            failed_at: &failed_at,
        };
        let filters = deserialize_yaml(text, seed, DuplicateKeys::ToVisitor).map_err(|e| {
            let mut message = e.message;
            // A check of ours or a wrong type names the value it is about, by its path from the
            // filter's name (`backend[1].added`); syntax errors have only their position.
            if e.from_visitor
                && let Some(at) = failed_at.take().filter(|p: &String| !p.is_empty())
            {
                message = format!("{at}: {message}");
            }
            FilterError::from(DocumentError {
                path: path.display().to_string(),
                line: e.line,
                column: e.column,
                message,
            })
        })?;
        Ok(Self {
            path: path.display().to_string(),
            filters,
        })
    }

    /// The file, as given to [`Filters::parse`].
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The filters, in file order.
    pub fn iter(&self) -> std::slice::Iter<'_, Filter> {
        self.filters.iter()
    }

    /// The filter names, in file order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.filters.iter().map(|f| f.name.as_str())
    }

    /// The filter called `name`.
    pub fn get(&self, name: &str) -> Option<&Filter> {
        self.filters.iter().find(|f| f.name == name)
    }

    /// The number of filters (never zero for a parsed file).
    pub fn len(&self) -> usize {
        self.filters.len()
    }

    /// True when there are no filters (never for a parsed file).
    pub fn is_empty(&self) -> bool {
        self.filters.is_empty()
    }
}

impl<'a> IntoIterator for &'a Filters {
    type Item = &'a Filter;
    type IntoIter = std::slice::Iter<'a, Filter>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl Filter {
    /// The filter's name (an output name in the workflow).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its rules, flattened, in file order (never empty).
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// True when some glob of the filter is not a negation.
    pub fn has_positive_glob(&self) -> bool {
        self.rules
            .iter()
            .any(|r| r.globs.iter().any(|g| !g.is_negated()))
    }
}

impl Rule {
    /// The statuses the rule is restricted to; `None` for any status.
    pub fn statuses(&self) -> Option<&[ChangeStatus]> {
        self.statuses.as_deref()
    }

    /// Its globs (one for a plain glob; one or more for a status key).
    pub fn globs(&self) -> &[Glob] {
        &self.globs
    }

    /// True when the rule applies to a file with `status`.
    pub fn accepts(&self, status: ChangeStatus) -> bool {
        self.statuses.as_ref().is_none_or(|s| s.contains(&status))
    }
}

// ---------------------------------------------------------------------------------------------
// Deserialization. Checks run inside the visitors, so that the YAML reader attaches the line and
// column of the offending node to the error; each seed records the path of the innermost value
// that failed (`failed_at`), which starts with the filter's name. Wrong types are reported with
// `custom` errors, placed at the value (serde's `invalid_type` is placed at the mapping key).
// ---------------------------------------------------------------------------------------------

/// Where the first failure happened: the path of the innermost value whose seed failed.
type FailedAt = RefCell<Option<String>>;

/// Runs `deserialize` for the value at `path`, noting `path` if it fails first.
fn noting<T, E>(failed_at: &FailedAt, path: &str, result: Result<T, E>) -> Result<T, E> {
    if result.is_err() {
        failed_at
            .borrow_mut()
            .get_or_insert_with(|| path.to_string());
    }
    result
}

/// `invalid type: boolean `true`, expected ...`, as serde words it, placed at the value.
fn wrong_type<E: de::Error>(found: Unexpected<'_>, expected: &dyn Expected) -> E {
    E::custom(format_args!("invalid type: {found}, expected {expected}"))
}

struct FileSeed<'a> {
    failed_at: &'a FailedAt,
}

impl<'de> DeserializeSeed<'de> for FileSeed<'_> {
    type Value = Vec<Filter>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        let failed_at = self.failed_at;
        noting(failed_at, "", deserializer.deserialize_any(self))
    }
}

const NO_FILTERS: &str = "the file defines no filters\nhint: map each filter name to its globs, e.g. `backend: ['src/**']`";

impl<'de> Visitor<'de> for FileSeed<'_> {
    type Value = Vec<Filter>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping from filter names to rules")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Err(E::custom(NO_FILTERS))
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Err(E::custom(NO_FILTERS))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Err(wrong_type(Unexpected::Bool(v), &self))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Err(wrong_type(Unexpected::Signed(v), &self))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Err(wrong_type(Unexpected::Unsigned(v), &self))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Err(wrong_type(Unexpected::Float(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Err(wrong_type(Unexpected::Str(v), &self))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<Self::Value, A::Error> {
        Err(wrong_type(Unexpected::Seq, &self))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut filters: Vec<Filter> = Vec::new();
        while let Some(name) = map.next_key_seed(FilterName {
            taken: &filters,
            failed_at: self.failed_at,
        })? {
            let rules = map.next_value_seed(Rules {
                top: true,
                path: name.clone(),
                failed_at: self.failed_at,
            })?;
            filters.push(Filter { name, rules });
        }
        if filters.is_empty() {
            return Err(de::Error::custom(NO_FILTERS));
        }
        Ok(filters)
    }
}

/// A filter name: not empty, no control characters (it becomes a workflow output name), unique.
struct FilterName<'a> {
    taken: &'a [Filter],
    failed_at: &'a FailedAt,
}

impl<'de> DeserializeSeed<'de> for FilterName<'_> {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        // A key's problems are placed at the key, and named without a path (as the file's).
        let failed_at = self.failed_at;
        noting(failed_at, "", deserializer.deserialize_str(self))
    }
}

impl<'de> Visitor<'de> for FilterName<'_> {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a filter name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<String, E> {
        if name.trim().is_empty() {
            return Err(E::custom("a filter name is empty"));
        }
        if name.chars().any(char::is_control) {
            return Err(E::custom(format!(
                "filter name {name:?} contains a control character"
            )));
        }
        if self.taken.iter().any(|f| f.name == name) {
            return Err(E::custom(format!("filter `{name}` is defined twice")));
        }
        Ok(name.to_string())
    }
}

/// The rules under a filter name, or one element of a rule list.
struct Rules<'a> {
    /// True for the value right under the filter name, which must hold at least one rule
    /// (a nested empty list, e.g. an anchor to `[]`, just adds nothing).
    top: bool,
    /// The value's path: `backend`, `backend[1]`.
    path: String,
    failed_at: &'a FailedAt,
}

const NO_RULES: &str = "the filter has no rules\nhint: give a glob, a list of globs or a `STATUS: glob` map, e.g. `backend: ['src/**']`";

impl<'de> DeserializeSeed<'de> for Rules<'_> {
    type Value = Vec<Rule>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<Rule>, D::Error> {
        let (failed_at, path) = (self.failed_at, self.path.clone());
        noting(failed_at, &path, deserializer.deserialize_any(self))
    }
}

impl<'de> Visitor<'de> for Rules<'_> {
    type Value = Vec<Rule>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a glob (quoted if YAML would read it as a number or a boolean), a list of rules or a `STATUS: glob` map")
    }

    fn visit_str<E: de::Error>(self, pattern: &str) -> Result<Vec<Rule>, E> {
        Ok(vec![Rule {
            statuses: None,
            globs: vec![compile(pattern)?],
        }])
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Vec<Rule>, E> {
        Err(wrong_type(Unexpected::Bool(v), &self))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Vec<Rule>, E> {
        Err(wrong_type(Unexpected::Signed(v), &self))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Vec<Rule>, E> {
        Err(wrong_type(Unexpected::Unsigned(v), &self))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Vec<Rule>, E> {
        Err(wrong_type(Unexpected::Float(v), &self))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Vec<Rule>, E> {
        if self.top {
            Err(E::custom(NO_RULES))
        } else {
            Err(E::custom("a rule is empty (null)"))
        }
    }

    fn visit_none<E: de::Error>(self) -> Result<Vec<Rule>, E> {
        self.visit_unit()
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Rule>, A::Error> {
        let mut rules = Vec::new();
        let mut index = 0usize;
        while let Some(nested) = seq.next_element_seed(Rules {
            top: false,
            path: format!("{}[{index}]", self.path),
            failed_at: self.failed_at,
        })? {
            rules.extend(nested);
            index += 1;
        }
        if self.top && rules.is_empty() {
            return Err(de::Error::custom(NO_RULES));
        }
        Ok(rules)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<Rule>, A::Error> {
        let mut rules = Vec::new();
        while let Some((key, statuses)) = map.next_key_seed(StatusKey {
            path: &self.path,
            failed_at: self.failed_at,
        })? {
            let globs = map.next_value_seed(StatusGlobs {
                key: &key,
                top: true,
                path: format!("{}.{key}", self.path),
                failed_at: self.failed_at,
            })?;
            rules.push(Rule {
                statuses: Some(statuses),
                globs,
            });
        }
        if rules.is_empty() {
            return Err(de::Error::custom(
                "a status map is empty\nhint: write `STATUS: glob`, e.g. `added|modified: 'src/**'`",
            ));
        }
        Ok(rules)
    }
}

fn compile<E: de::Error>(pattern: &str) -> Result<Glob, E> {
    Glob::new(pattern).map_err(E::custom)
}

/// A status map key: `added`, `added|modified`; returns the key as written too, for messages.
struct StatusKey<'a> {
    /// The status map's path (a key's problems are named by its mapping's path).
    path: &'a str,
    failed_at: &'a FailedAt,
}

impl<'de> DeserializeSeed<'de> for StatusKey<'_> {
    type Value = (String, Vec<ChangeStatus>);

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        let (failed_at, path) = (self.failed_at, self.path);
        noting(failed_at, path, deserializer.deserialize_str(self))
    }
}

impl<'de> Visitor<'de> for StatusKey<'_> {
    type Value = (String, Vec<ChangeStatus>);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a change status such as `added` or `added|modified`")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
        let mut statuses = Vec::new();
        // As paths-filter does: split on `|`, trim, skip empty parts, ignore case.
        for word in key.split('|').map(str::trim).filter(|w| !w.is_empty()) {
            let status = ChangeStatus::from_word(word).ok_or_else(|| {
                E::custom(format!(
                    "unknown change status `{word}` in `{key}` (expected {})",
                    ChangeStatus::word_list()
                ))
            })?;
            if !statuses.contains(&status) {
                statuses.push(status);
            }
        }
        if statuses.is_empty() {
            return Err(E::custom(format!(
                "the status key `{key}` names no change status (expected {})",
                ChangeStatus::word_list()
            )));
        }
        Ok((key.to_string(), statuses))
    }
}

/// The globs under a status key: one glob or a (nested) list of globs.
struct StatusGlobs<'a> {
    key: &'a str,
    top: bool,
    /// The value's path: `backend[0].added`, `backend[0].added[1]`.
    path: String,
    failed_at: &'a FailedAt,
}

impl<'de> DeserializeSeed<'de> for StatusGlobs<'_> {
    type Value = Vec<Glob>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<Glob>, D::Error> {
        let (failed_at, path) = (self.failed_at, self.path.clone());
        noting(failed_at, &path, deserializer.deserialize_any(self))
    }
}

impl<'de> Visitor<'de> for StatusGlobs<'_> {
    type Value = Vec<Glob>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a glob or a list of globs for `{}`", self.key)
    }

    fn visit_str<E: de::Error>(self, pattern: &str) -> Result<Vec<Glob>, E> {
        Ok(vec![compile(pattern)?])
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Vec<Glob>, E> {
        Err(wrong_type(Unexpected::Bool(v), &self))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Vec<Glob>, E> {
        Err(wrong_type(Unexpected::Signed(v), &self))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Vec<Glob>, E> {
        Err(wrong_type(Unexpected::Unsigned(v), &self))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Vec<Glob>, E> {
        Err(wrong_type(Unexpected::Float(v), &self))
    }

    fn visit_map<A: MapAccess<'de>>(self, _map: A) -> Result<Vec<Glob>, A::Error> {
        Err(wrong_type(Unexpected::Map, &self))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Vec<Glob>, E> {
        Err(E::custom(format!("`{}` has no globs", self.key)))
    }

    fn visit_none<E: de::Error>(self) -> Result<Vec<Glob>, E> {
        self.visit_unit()
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Glob>, A::Error> {
        let mut globs = Vec::new();
        let mut index = 0usize;
        while let Some(nested) = seq.next_element_seed(StatusGlobs {
            key: self.key,
            top: false,
            path: format!("{}[{index}]", self.path),
            failed_at: self.failed_at,
        })? {
            globs.extend(nested);
            index += 1;
        }
        if self.top && globs.is_empty() {
            return Err(de::Error::custom(format!("`{}` has no globs", self.key)));
        }
        Ok(globs)
    }
}
