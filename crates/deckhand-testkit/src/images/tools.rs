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
/// `skopeo copy --all --preserve-digests SOURCE DEST` (with `creds` for the destination, TLS
/// unverified: the world's registries are plain HTTP); panics unless the pushed digest is
/// `digest`, so a test never runs against an image other than the one it wrote.
pub(super) fn push_preserving_digest(
    work: &std::path::Path,
    source: &str,
    dest: &str,
    creds: Option<&str>,
    digest: &str,
) {
    let digestfile = work.join("digest");
    let mut cmd = Command::new("skopeo");
    cmd.args(["copy", "--quiet", "--all", "--preserve-digests"])
        .arg("--dest-tls-verify=false")
        .arg("--digestfile")
        .arg(&digestfile);
    if let Some(c) = creds {
        cmd.args(["--dest-creds", c]);
    }
    cmd.arg(source).arg(docker_ref(dest));
    run(&mut cmd);
    let pushed = std::fs::read_to_string(&digestfile).expect("skopeo --digestfile");
    assert_eq!(
        pushed.trim(),
        digest,
        "skopeo pushed {dest} under another digest than the one written"
    );
}

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
