//! Container image fixtures and checks for `deckhand image build` and `deckhand nginx build`,
//! all daemonless: there is no Docker engine on these machines.
//!
//! - Base images: [`push_nginx_base`] (a runnable nginx made from the host's Debian nginx by
//!   `scripts/nginx-base.sh`) and [`SyntheticBase`] (a hand-written multi-platform index with
//!   the shapes real bases have: Docker or OCI media types, buildx attestation entries,
//!   Docker-only config fields).
//! - Independent checks with clients deckhand did not write: skopeo ([`skopeo_inspect_raw`],
//!   [`skopeo_inspect_config`], [`skopeo_digest`]), umoci ([`unpack`]) and Debian's nginx run in
//!   a chroot of the unpacked image ([`ChrootNginx`], [`chroot_nginx_test`]).
//! - [`ScratchRegistry`]: a throwaway CNCF distribution registry of a test's own.
//! - [`BinaryImage`]: images shaped like deckhand's release image (`/deckhand` per platform),
//!   for the actions' installer.
//!
//! Every helper panics with the command and its stderr when something fails: they are for tests.

mod binary_image;
mod chroot_nginx;
mod media;
mod nginx_base;
mod scratch_registry;
mod skopeo;
mod synthetic;
mod tools;
mod unpack;

pub use self::binary_image::{BinaryImage, PushedBinaryImage};
pub use self::chroot_nginx::{
    ChrootNginx, HttpResponse, chroot_nginx_test, free_port, http_get, listen_on,
};
pub use self::media::{
    DOCKER_CONFIG, DOCKER_LAYER_GZIP, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, IN_TOTO, OCI_CONFIG,
    OCI_INDEX, OCI_LAYER_GZIP, OCI_MANIFEST,
};
pub use self::nginx_base::{push_nginx_base, push_nginx_base_with};
pub use self::scratch_registry::ScratchRegistry;
pub use self::skopeo::{
    skopeo_digest, skopeo_inspect_config, skopeo_inspect_config_raw, skopeo_inspect_raw,
    skopeo_platform_digest,
};
pub use self::synthetic::{MediaTypes, Platform, SyntheticBase, SyntheticImage, SyntheticManifest};
pub use self::tools::sha256_digest;
pub use self::unpack::{Unpacked, unpack};
