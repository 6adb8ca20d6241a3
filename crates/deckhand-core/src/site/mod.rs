//! Static-site decisions (`deckhand site deploy`): what each file is served as, and which
//! CloudFront paths a change must invalidate.

pub mod content_type;
pub mod glob;
pub mod inputs;
pub mod invalidation;
pub mod manifest;
pub mod plan;
pub mod rules;
