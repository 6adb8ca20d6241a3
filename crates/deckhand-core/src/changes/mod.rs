//! `deckhand changes`: which path filters match the files changed between two commits, as a
//! drop-in replacement for dorny/paths-filter.
//!
//! - [`Filters`] reads paths-filter's filter files (filter name -> globs, lists, anchors,
//!   `STATUS: glob` maps), with line numbers in every error.
//! - [`Glob`] matches with the semantics paths-filter gets from picomatch (`{ dot: true }`);
//!   the few deliberate differences are listed in [`glob`].
//! - [`ChangedFile`] is a path and its [`ChangeStatus`]; [`parse_files_from`] reads them from a
//!   `STATUS<TAB>PATH` list (which `git diff --name-status` output is).
//! - [`Filters::evaluate`] gives the [`Evaluation`]: the filters that matched and their files.
//!   By default it reproduces paths-filter exactly, including that a `!pattern` rule widens a
//!   filter under the default `some` quantifier; [`NegationMode::Exclude`] makes `!pattern`
//!   exclude, as users expect.
//!
//! - [`dropin`]: paths-filter's inputs and outputs byte for byte (the `filters` input's
//!   inline-or-path rule, the `list-files` formats, the output names and order).
//!
//! Getting the file list (git, the GitHub API) is the binary's job; this module only decides,
//! and [`crate::github_event`] decides where the list comes from.

pub mod dropin;
pub mod files;
pub mod filters;
pub mod glob;
pub mod report;

mod evaluate;

pub use dropin::{ListFiles, UnknownListFormat, is_path_input, paths_filter_outputs};
pub use evaluate::{Evaluation, NegationMode, Options, Quantifier, UnknownChoice};
pub use files::{
    ChangeStatus, ChangedFile, FilesFromError, UnknownStatus, from_api, parse_files_from,
};
pub use filters::{Filter, FilterError, Filters, Rule};
pub use glob::{Glob, GlobError};

#[cfg(test)]
mod tests;
