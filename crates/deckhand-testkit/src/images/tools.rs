//! Running the tools the checks use (skopeo, umoci, htpasswd, the nginx base script), and
//! digests.

use std::io::ErrorKind;
use std::process::{Command, Output, Stdio};

use sha2::{Digest, Sha256};

/// Runs a command to completion; panics with its stderr unless it succeeded.
pub(super) fn run(cmd: &mut Command) -> Output {
    let shown = format!("{cmd:?}");
    let out = match cmd.stdin(Stdio::null()).output() {
        Ok(out) => out,
        Err(e) if e.kind() == ErrorKind::NotFound => panic!(
            "{shown}: `{}` is not installed (world/install.sh installs docker-registry, skopeo, umoci and nginx-light)",
            cmd.get_program().to_string_lossy()
        ),
        Err(e) => panic!("{shown}: cannot start: {e}"),
    };
    assert!(
        out.status.success(),
        "{shown} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    out
}

/// `docker://REF` for a reference given with or without the transport.
pub(super) fn docker_ref(reference: &str) -> String {
    if reference.contains("://") {
        reference.to_string()
    } else {
        format!("docker://{reference}")
    }
}

/// `sha256:<hex>` of some bytes.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}
