//! Which filters match a list of changed files.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::files::ChangedFile;
use super::filters::{Filter, FilterError, Filters, Rule};

/// How a filter's rules combine for one file (paths-filter's `predicate-quantifier`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Quantifier {
    /// A file matches when any rule matches it.
    #[default]
    Some,
    /// A file matches when every rule matches it.
    Every,
}

/// What a `!pattern` rule means.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum NegationMode {
    /// paths-filter's behaviour: `!pattern` is a rule like any other that matches every file
    /// the pattern does not match. Under [`Quantifier::Some`] it therefore widens the filter
    /// (`['src/**', '!**/*.md']` matches `docs/intro.md`: paths-filter issue #260).
    #[default]
    Paths,
    /// What users usually mean: a file matches when it matches the positive rules (any, or
    /// every, per the quantifier) and none of the `!` patterns, whatever their order. A filter
    /// made only of `!` patterns is an error.
    Exclude,
}

/// How filters are evaluated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Options {
    /// How rules combine.
    pub quantifier: Quantifier,
    /// What `!pattern` means.
    pub negation: NegationMode,
}

/// A value that is not one of the choices of an option.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {option} `{value}` (expected {expected})")]
pub struct UnknownChoice {
    /// The option.
    pub option: &'static str,
    /// What was given.
    pub value: String,
    /// The choices, for the message.
    pub expected: &'static str,
}

impl Quantifier {
    /// `some` or `every`, as paths-filter spells them.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Some => "some",
            Self::Every => "every",
        }
    }
}

impl FromStr for Quantifier {
    type Err = UnknownChoice;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "some" => Ok(Self::Some),
            "every" => Ok(Self::Every),
            _ => Err(UnknownChoice {
                option: "quantifier",
                value: s.to_string(),
                expected: "`some` or `every`",
            }),
        }
    }
}

impl fmt::Display for Quantifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl NegationMode {
    /// `paths` or `exclude`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Paths => "paths",
            Self::Exclude => "exclude",
        }
    }
}

impl FromStr for NegationMode {
    type Err = UnknownChoice;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "paths" => Ok(Self::Paths),
            "exclude" => Ok(Self::Exclude),
            _ => Err(UnknownChoice {
                option: "negation mode",
                value: s.to_string(),
                expected: "`paths` or `exclude`",
            }),
        }
    }
}

impl fmt::Display for NegationMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which filters matched, and the files each matched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Evaluation {
    /// Names of the filters that matched at least one file, in file order (paths-filter's
    /// `changes` output).
    pub changes: Vec<String>,
    /// Every filter in file order, with the paths it matched in input order, each once.
    pub filters: Vec<(String, Vec<String>)>,
}

impl Evaluation {
    /// Every filter counts as changed, with no files: for runs that deploy everything
    /// (`workflow_dispatch`), where there is no diff to filter.
    pub fn all_changed(filters: &Filters) -> Self {
        Self {
            changes: filters.names().map(str::to_string).collect(),
            filters: filters
                .names()
                .map(|name| (name.to_string(), Vec::new()))
                .collect(),
        }
    }

    /// True when the filter called `name` is among [`Evaluation::changes`].
    pub fn changed(&self, name: &str) -> bool {
        self.changes.iter().any(|c| c == name)
    }

    /// The paths the filter called `name` matched.
    pub fn files(&self, name: &str) -> Option<&[String]> {
        self.filters
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, files)| files.as_slice())
    }

    /// `{"changes": [...], "filters": {"name": [...], ...}}`, filters in file order.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("BUG: an evaluation is always valid JSON")
    }
}

impl Serialize for Evaluation {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct FilterFiles<'a>(&'a [(String, Vec<String>)]);
        impl Serialize for FilterFiles<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(self.0.len()))?;
                for (name, files) in self.0 {
                    map.serialize_entry(name, files)?;
                }
                map.end()
            }
        }
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("changes", &self.changes)?;
        map.serialize_entry("filters", &FilterFiles(&self.filters))?;
        map.end()
    }
}

impl Filters {
    /// Checks that the filters make sense under `mode`: in exclude mode, every filter needs a
    /// positive glob (one made only of `!` patterns could never match).
    pub fn validate(&self, mode: NegationMode) -> Result<(), FilterError> {
        if mode == NegationMode::Exclude
            && let Some(filter) = self.iter().find(|f| !f.has_positive_glob())
        {
            return Err(FilterError::OnlyNegations {
                path: self.path().to_string(),
                filter: filter.name().to_string(),
            });
        }
        Ok(())
    }

    /// Matches `files` against every filter. Fails only when [`Filters::validate`] does.
    pub fn evaluate(
        &self,
        files: &[ChangedFile],
        options: &Options,
    ) -> Result<Evaluation, FilterError> {
        self.validate(options.negation)?;
        // A path listed twice (say deleted, then added back) is reported once per filter, at
        // its first matching entry. Each entry is given the index of the first entry with the
        // same path, once, so that a filter needs only a flag per path (none if no path repeats).
        let mut first_entry = HashMap::with_capacity(files.len());
        let path_ids: Vec<usize> = files
            .iter()
            .enumerate()
            .map(|(k, file)| *first_entry.entry(file.path.as_str()).or_insert(k))
            .collect();
        let repeats = first_entry.len() < files.len();
        let mut reported = vec![false; if repeats { files.len() } else { 0 }];
        let mut evaluation = Evaluation::default();
        for filter in self {
            reported.fill(false);
            let matched: Vec<String> = files
                .iter()
                .zip(&path_ids)
                .filter(|(file, _)| filter.matches(file, options))
                .filter(|&(_, &id)| !repeats || !std::mem::replace(&mut reported[id], true))
                .map(|(file, _)| file.path.clone())
                .collect();
            if !matched.is_empty() {
                evaluation.changes.push(filter.name().to_string());
            }
            evaluation
                .filters
                .push((filter.name().to_string(), matched));
        }
        Ok(evaluation)
    }
}

impl Filter {
    /// True when `file` matches the filter.
    pub fn matches(&self, file: &ChangedFile, options: &Options) -> bool {
        let path = file.path.as_str();
        match options.negation {
            NegationMode::Paths => {
                // paths-filter: a rule matches when the status fits and any of its globs
                // matches, where a `!` glob matches everything it does not name. So under
                // `some`, `['src/**', '!**/*.md']` matches every file in `src` and every file
                // anywhere that is not markdown (issue #260).
                let rule_matches = |rule: &Rule| {
                    rule.accepts(file.status) && rule.globs().iter().any(|g| g.matches(path))
                };
                match options.quantifier {
                    Quantifier::Some => self.rules().iter().any(rule_matches),
                    Quantifier::Every => self.rules().iter().all(rule_matches),
                }
            }
            NegationMode::Exclude => {
                // A rule counts by its positive globs; one made only of `!` globs only excludes.
                let mut positive = self
                    .rules()
                    .iter()
                    .filter(|rule| rule.globs().iter().any(|g| !g.is_negated()));
                let includes = |rule: &Rule| {
                    rule.accepts(file.status)
                        && rule
                            .globs()
                            .iter()
                            .any(|g| !g.is_negated() && g.matches(path))
                };
                let included = match options.quantifier {
                    Quantifier::Some => positive.any(includes),
                    Quantifier::Every => positive.all(includes),
                };
                // Exclusions are checked last: most files are not included in the first place.
                included
                    && !self.rules().iter().any(|rule| {
                        rule.accepts(file.status)
                            && rule
                                .globs()
                                .iter()
                                .any(|g| g.is_negated() && g.matches_unnegated(path))
                    })
            }
        }
    }
}
