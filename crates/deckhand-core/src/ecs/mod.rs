//! ECS decisions: task definitions, deploy plans, rollout verdicts and failure reports.

pub mod model;
pub mod plan;
pub mod report;
pub mod rollout;
pub mod taskdef;
