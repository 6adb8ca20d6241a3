//! The only deckhand crate that talks to AWS.
//!
//! Thin adapters: each function makes the calls one concern needs (with pagination), converts
//! SDK types into `deckhand-core` types, and wraps errors with the operation and the resource.
//! No function here decides anything; branches that depend on a rule belong in core.

pub mod calls;
pub mod cloudfront;
pub mod config;
pub mod ecr;
pub mod ecs;
pub mod ecs_service;
mod ecs_verify;
pub mod elbv2;
pub mod error;
pub mod logs;
mod raw_json;
pub mod s3;

pub use calls::ApiCalls;
pub use config::{AwsContext, load_context};
pub use ecs::{EcsAdapter, EcsError};
pub use elbv2::Elbv2Adapter;
