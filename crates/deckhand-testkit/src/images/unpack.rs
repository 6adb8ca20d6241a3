//! Unpacking an image with umoci, a client deckhand did not write.

use std::path::PathBuf;
use std::process::Command;

use tempfile::TempDir;

use super::tools::{docker_ref, run};

/// An image unpacked into a runtime bundle (removed on drop).
#[derive(Debug)]
pub struct Unpacked {
    dir: TempDir,
}

impl Unpacked {
    /// The umoci bundle (`config.json`, `rootfs/`, umoci's metadata).
    pub fn bundle(&self) -> PathBuf {
        self.dir.path().join("bundle")
    }

    /// The image's root filesystem: every layer applied, with the owners and modes the layers
    /// carry (as root, umoci unpacks without its rootless mapping).
    pub fn rootfs(&self) -> PathBuf {
        self.bundle().join("rootfs")
    }

    /// The OCI layout skopeo copied the image into (converted to OCI media types).
    pub fn layout(&self) -> PathBuf {
        self.dir.path().join("layout")
    }
}

/// Copies `reference` (for an index: the `(os, arch)` manifest, default this host's) into an
/// OCI layout with skopeo, and unpacks it with umoci.
pub fn unpack(reference: &str, creds: Option<&str>, platform: Option<(&str, &str)>) -> Unpacked {
    let dir = tempfile::tempdir().expect("temp dir");
    let layout = dir.path().join("layout");
    let mut copy = Command::new("skopeo");
    copy.args(["copy", "--quiet", "--src-tls-verify=false"]);
    if let Some(c) = creds {
        copy.args(["--src-creds", c]);
    }
    if let Some((os, arch)) = platform {
        copy.args(["--override-os", os, "--override-arch", arch]);
    }
    copy.arg(docker_ref(reference))
        .arg(format!("oci:{}:image", layout.display()));
    run(&mut copy);
    let mut umoci = Command::new("umoci");
    umoci.arg("unpack");
    // Only root can give files their real owners; anyone else needs umoci's rootless mode.
    if !is_root() {
        umoci.arg("--rootless");
    }
    umoci
        .arg("--image")
        .arg(format!("{}:image", layout.display()))
        .arg(dir.path().join("bundle"));
    run(&mut umoci);
    Unpacked { dir }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// The permission bits (with setuid, setgid and sticky) of a path, not following a symlink.
#[cfg(test)]
pub(super) fn mode(path: &std::path::Path) -> u32 {
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    fs::symlink_metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}
