//! Pure decisions for deckhand.
//!
//! This crate owns every rule that decides what deckhand does: parsing and validating inputs,
//! cleaning and patching task definitions, deciding whether a deploy changes anything, and the
//! rollout verdict state machine. It performs no I/O, spawns nothing and depends on no AWS SDK,
//! HTTP client or async runtime (CI checks this with `cargo tree`), so every decision is
//! unit-testable from plain data.

pub mod changes;
pub mod deployment_record;
pub mod dispatch;
pub mod document;
pub mod duration;
pub mod ecs;
pub mod github_event;
pub mod image_ref;
pub mod oci;
pub mod pr_comment;
pub mod redact;
pub mod report;
pub mod site;
pub mod time;
pub mod verdict;
