//! Static-site decisions (`deckhand site deploy`): what each file is served as, what a deploy
//! uploads, re-heads and deletes, which CloudFront paths a change must invalidate, and the
//! report.

pub mod content_type;
pub mod glob;
pub mod inputs;
pub mod invalidation;
pub mod manifest;
pub mod plan;
pub mod report;
pub mod rules;
