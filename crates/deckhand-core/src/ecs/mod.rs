//! ECS decisions: task definitions, deploy plans, rollout verdicts, rollback targets and
//! failure reports.

pub mod cleanup;
pub mod fanout;
pub mod history;
pub mod model;
pub mod plan;
pub mod preflight;
pub mod report;
pub mod rollback;
pub mod rollout;
pub mod run;
pub mod service_def;
pub mod strategy;
pub mod taskdef;
pub mod taskdef_shape;
pub mod verify;
