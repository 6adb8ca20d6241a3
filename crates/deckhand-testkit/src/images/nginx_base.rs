//! The nginx base image: a runnable nginx made from the host's Debian nginx by
//! `scripts/nginx-base.sh`.

use std::process::Command;

use super::tools::run;
use crate::repo_root;

/// Builds the nginx base image (`scripts/nginx-base.sh`) and pushes it to `dest`
/// (`HOST:PORT/REPO:TAG`, plain HTTP); returns the pushed manifest digest.
pub fn push_nginx_base(dest: &str) -> String {
    push_nginx_base_with(dest, None, None)
}

/// [`push_nginx_base`] with registry credentials (`user:pass`) and the architecture the image
/// claims (the binaries are always the host's).
pub fn push_nginx_base_with(
    dest: &str,
    creds: Option<&str>,
    platform_arch: Option<&str>,
) -> String {
    let mut cmd = Command::new("bash");
    cmd.arg(repo_root().join("scripts/nginx-base.sh")).arg(dest);
    if let Some(arch) = platform_arch {
        cmd.args(["--platform-arch", arch]);
    }
    match creds {
        Some(c) => cmd.env("NGINX_BASE_CREDS", c),
        None => cmd.env_remove("NGINX_BASE_CREDS"),
    };
    let out = run(&mut cmd);
    let digest = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "scripts/nginx-base.sh printed {digest:?}, not a digest"
    );
    digest
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::net::TcpStream;
    use std::os::unix::fs::MetadataExt;

    use serde_json::{Value, json};

    use super::*;
    use crate::images::unpack::mode;
    use crate::images::{
        ChrootNginx, OCI_MANIFEST, ScratchRegistry, chroot_nginx_test, free_port, listen_on,
        skopeo_digest, skopeo_inspect_config, skopeo_inspect_raw, unpack,
    };

    #[test]
    fn nginx_base_pushes_unpacks_and_serves_from_a_chroot() {
        let registry = ScratchRegistry::start();
        let reference = registry.reference("library/nginx:1.22");
        let digest = push_nginx_base(&reference);
        assert_eq!(skopeo_digest(&reference, None), digest);

        // Same host packages, same bytes: a second build pushes the same digest.
        let again = registry.reference("library/nginx:again");
        assert_eq!(
            push_nginx_base(&again),
            digest,
            "the base build is not deterministic"
        );

        let manifest: Value =
            serde_json::from_slice(&skopeo_inspect_raw(&reference, None)).expect("manifest");
        assert_eq!(manifest["mediaType"], OCI_MANIFEST);
        let config = skopeo_inspect_config(&reference, None, None);
        assert_eq!(config["os"], "linux");
        assert_eq!(
            config["config"]["Cmd"],
            json!(["nginx", "-g", "daemon off;"])
        );
        assert_eq!(config["config"]["ExposedPorts"], json!({"80/tcp": {}}));
        assert_eq!(config["config"]["StopSignal"], "SIGQUIT");
        assert_eq!(
            config["config"]["Labels"]["org.opencontainers.image.title"],
            "deckhand nginx base"
        );
        let env: Vec<&str> = config["config"]["Env"]
            .as_array()
            .expect("Env")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(env.iter().any(|e| e.starts_with("PATH=")), "{env:?}");
        assert!(
            env.iter().any(|e| e.starts_with("NGINX_VERSION=1.")),
            "{env:?}"
        );

        let image = unpack(&reference, None, None);
        let rootfs = image.rootfs();
        let nginx = fs::metadata(rootfs.join("usr/sbin/nginx")).expect("usr/sbin/nginx");
        assert_eq!((nginx.uid(), nginx.gid()), (0, 0));
        assert_eq!(mode(&rootfs.join("usr/sbin/nginx")), 0o755);
        assert_eq!(mode(&rootfs.join("tmp")), 0o1777);
        assert_eq!(mode(&rootfs.join("usr/share/nginx/html/index.html")), 0o644);
        for dir in [
            "var/log/nginx",
            "var/lib/nginx/body",
            "run",
            "etc/nginx/conf.d",
        ] {
            assert!(rootfs.join(dir).is_dir(), "{dir} is missing");
        }
        let passwd = fs::read_to_string(rootfs.join("etc/passwd")).expect("etc/passwd");
        assert!(passwd.contains("nobody:x:65534"), "{passwd}");
        let index =
            fs::read_to_string(rootfs.join("usr/share/nginx/html/index.html")).expect("index.html");

        chroot_nginx_test(&rootfs).unwrap_or_else(|e| panic!("nginx -t refused the base: {e}"));
        let port = free_port();
        assert_eq!(listen_on(&rootfs, port), 1);
        let server = ChrootNginx::start(&rootfs, port);
        let page = server.get("/");
        assert_eq!(page.status, 200, "{}", server.stderr());
        assert_eq!(page.header("content-type"), Some("text/html"));
        assert_eq!(page.text(), index);
        assert!(page.text().contains("Welcome to nginx!"));
        assert_eq!(server.get("/missing").status, 404);
        assert!(
            server.access_log().contains("\"GET / HTTP/1.0\" 200"),
            "{}",
            server.access_log()
        );
        drop(server);
        assert!(
            TcpStream::connect(("127.0.0.1", port)).is_err(),
            "nginx still listens after drop"
        );

        // A broken config is refused by the same check.
        fs::write(
            rootfs.join("etc/nginx/conf.d/default.conf"),
            "server { listen 80 }\n",
        )
        .expect("write conf");
        assert!(chroot_nginx_test(&rootfs).is_err());
    }

    #[test]
    fn nginx_base_pushes_with_basic_auth_and_another_arch() {
        let registry = ScratchRegistry::start_with_basic_auth("AWS", "123456789012-auth-token");
        let creds = registry.creds.clone();
        let reference = registry.reference("library/nginx:arm64");
        let digest = push_nginx_base_with(&reference, creds.as_deref(), Some("arm64"));
        assert_eq!(skopeo_digest(&reference, creds.as_deref()), digest);
        let config = skopeo_inspect_config(&reference, creds.as_deref(), None);
        assert_eq!(config["architecture"], "arm64");
    }
}
