//! deckhand's registry client over the OCI distribution API, and the deterministic layer writer.
//!
//! The client does exactly what `image build` needs and what the big registries demand:
//! manifests fetched with every supported media type and their digests verified; HEAD before
//! every blob; cross-repository mounts; uploads in one request (chunked only above a large
//! size, in chunks of at least 5 MiB, accepting 201 as well as 202 as ECR answers); manifest
//! PUTs that do not rely on a `Location` header; Basic and bearer-token authentication.
//! Decisions (what to push, what the result is) are made in `deckhand_core::oci`; [`image`]
//! carries them out on whole images (resolve a base, push a plan, verify the tags).

pub mod client;
pub mod docker_config;
pub mod error;
pub mod image;
pub mod layer;

pub use client::{Credentials, Fetched, Registry, RegistryOptions, UploadStats};
pub use error::OciError;
pub use image::{BaseError, ImagePush, PushError};
