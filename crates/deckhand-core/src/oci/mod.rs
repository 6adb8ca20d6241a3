//! OCI image math: what `image build` derives from a base image and how it pushes it, decided
//! from plain data (raw manifests and configs as fetched, file lists, what the target registry
//! already holds). Fetching, tar writing and HTTP live in `deckhand-oci`.

pub mod auth;
pub mod derive;
pub mod digest;
pub mod ecr;
pub mod ecr_prepare;
pub mod image;
pub mod layer;
pub mod media;
pub mod plan;
pub mod platform;
pub mod report;
pub mod smoke;

pub use digest::Digest;
pub use platform::{Platform, PlatformChoice, PlatformFilter, PlatformOrigin};
