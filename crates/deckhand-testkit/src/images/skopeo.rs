//! Checking images with skopeo, a client deckhand did not write: manifests and configs byte for
//! byte as the registry serves them, and their digests.

use std::process::Command;

use serde_json::Value;

use super::tools::{docker_ref, run, sha256_digest};

fn skopeo_inspect(
    reference: &str,
    creds: Option<&str>,
    platform: Option<(&str, &str)>,
    what: &[&str],
) -> Vec<u8> {
    let mut cmd = Command::new("skopeo");
    cmd.arg("inspect").args(what).arg("--tls-verify=false");
    if let Some(c) = creds {
        cmd.args(["--creds", c]);
    }
    if let Some((os, arch)) = platform {
        cmd.args(["--override-os", os, "--override-arch", arch]);
    }
    cmd.arg(docker_ref(reference));
    run(&mut cmd).stdout
}

/// The manifest (or index) bytes exactly as the registry serves them for `reference`
/// (`HOST:PORT/REPO:TAG` or `...@sha256:...`).
pub fn skopeo_inspect_raw(reference: &str, creds: Option<&str>) -> Vec<u8> {
    skopeo_inspect(reference, creds, None, &["--raw"])
}

/// The image config blob of `reference`, byte for byte; for an index, of the manifest for
/// `platform` (`(os, arch)`, default: this host's).
pub fn skopeo_inspect_config_raw(
    reference: &str,
    creds: Option<&str>,
    platform: Option<(&str, &str)>,
) -> Vec<u8> {
    // `--raw`: without it skopeo re-encodes the config through its OCI type, which drops
    // Docker-only fields such as `Healthcheck`.
    skopeo_inspect(reference, creds, platform, &["--config", "--raw"])
}

/// [`skopeo_inspect_config_raw`] parsed: every field the config has, Docker-only ones included.
pub fn skopeo_inspect_config(
    reference: &str,
    creds: Option<&str>,
    platform: Option<(&str, &str)>,
) -> Value {
    let out = skopeo_inspect_config_raw(reference, creds, platform);
    serde_json::from_slice(&out)
        .unwrap_or_else(|e| panic!("skopeo inspect --config --raw {reference}: {e}"))
}

/// The digest the registry serves `reference` under: sha256 of its manifest (or index) bytes.
pub fn skopeo_digest(reference: &str, creds: Option<&str>) -> String {
    sha256_digest(&skopeo_inspect_raw(reference, creds))
}

/// The digest of the `(os, arch)` image manifest that the index at `reference` lists (the
/// reference's own digest when it is a single manifest of that platform).
pub fn skopeo_platform_digest(
    reference: &str,
    creds: Option<&str>,
    platform: (&str, &str),
) -> String {
    let raw = skopeo_inspect_raw(reference, creds);
    let top: Value = serde_json::from_slice(&raw).expect("manifest JSON");
    let Some(entries) = top["manifests"].as_array() else {
        let config = skopeo_inspect_config(reference, creds, None);
        assert_eq!(
            (config["os"].as_str(), config["architecture"].as_str()),
            (Some(platform.0), Some(platform.1)),
            "{reference} is a single manifest of another platform"
        );
        return sha256_digest(&raw);
    };
    entries
        .iter()
        .find(|e| e["platform"]["os"] == platform.0 && e["platform"]["architecture"] == platform.1)
        .and_then(|e| e["digest"].as_str())
        .unwrap_or_else(|| {
            panic!(
                "{reference} lists no {}/{} manifest: {top}",
                platform.0, platform.1
            )
        })
        .to_string()
}
