//! A registry of a test's own: a throwaway CNCF distribution registry.

use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::chroot_nginx::free_port;
use super::tools::run;

/// A throwaway CNCF distribution registry (`docker-registry serve`) on 127.0.0.1, plain HTTP,
/// storing blobs in a temp dir, optionally behind htpasswd Basic auth as ECR is; killed on drop.
#[derive(Debug)]
pub struct ScratchRegistry {
    /// `127.0.0.1:PORT`.
    pub host: String,
    /// `user:pass` when the registry requires Basic auth.
    pub creds: Option<String>,
    child: Child,
    dir: TempDir,
}

impl ScratchRegistry {
    /// An open registry (no auth).
    pub fn start() -> Self {
        Self::start_with(None)
    }

    /// A registry that requires Basic auth with `user`/`password` (the htpasswd file is made
    /// with `htpasswd -B`, from apache2-utils).
    pub fn start_with_basic_auth(user: &str, password: &str) -> Self {
        Self::start_with(Some((user, password)))
    }

    fn start_with(auth: Option<(&str, &str)>) -> Self {
        // The port can be taken between free_port() and the registry's bind: try a few.
        let mut last_error = String::new();
        for _ in 0..3 {
            match Self::try_start(auth) {
                Ok(r) => return r,
                Err(e) => last_error = e,
            }
        }
        panic!("cannot start docker-registry: {last_error}");
    }

    fn try_start(auth: Option<(&str, &str)>) -> std::result::Result<Self, String> {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let host = format!("127.0.0.1:{port}");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n\
             storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
             http:\n  addr: {host}\n",
            dir.path().join("data").display()
        );
        if let Some((user, password)) = auth {
            let out = run(Command::new("htpasswd").args(["-Bbn", user, password]));
            let htpasswd = dir.path().join("htpasswd");
            fs::write(&htpasswd, out.stdout).expect("write htpasswd");
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: deckhand-test\n    path: {}\n",
                htpasswd.display()
            ));
        }
        let config_path = dir.path().join("config.yml");
        fs::write(&config_path, config).expect("write registry config");
        let log = fs::File::create(dir.path().join("registry.log")).expect("registry log");
        let child = match Command::new("docker-registry")
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
        {
            Ok(c) => c,
            Err(e) if e.kind() == ErrorKind::NotFound => panic!(
                "`docker-registry` is not installed (world/install.sh installs Debian's docker-registry)"
            ),
            Err(e) => panic!("cannot start docker-registry: {e}"),
        };
        let mut registry = Self {
            host,
            creds: auth.map(|(u, p)| format!("{u}:{p}")),
            child,
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = registry.child.try_wait() {
                return Err(format!("exited ({status}):\n{}", registry.log()));
            }
            // Any HTTP answer on /v2/ (200, or 401 behind auth) means it serves.
            if registry.v2_status().is_some() {
                return Ok(registry);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!("not serving after 10 s:\n{}", registry.log()))
    }

    fn v2_status(&self) -> Option<u16> {
        let mut stream = TcpStream::connect(&self.host).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        write!(stream, "GET /v2/ HTTP/1.0\r\nHost: {}\r\n\r\n", self.host).ok()?;
        let mut head = String::new();
        stream.read_to_string(&mut head).ok()?;
        head.split(' ').nth(1)?.parse().ok()
    }

    /// `HOST:PORT/REPO:TAG` for `REPO:TAG` on this registry.
    pub fn reference(&self, repo_and_tag: &str) -> String {
        format!("{}/{repo_and_tag}", self.host)
    }

    /// Where the registry stores the bytes of a blob (a layer, a config or a manifest): a
    /// test that overwrites it plays a registry (or a storage, or a proxy) that serves other
    /// bytes than the digest it is asked by.
    pub fn blob_data(&self, digest: &str) -> std::path::PathBuf {
        let hex = digest.trim_start_matches("sha256:");
        self.dir
            .path()
            .join("data/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    /// The registry's log (errors only).
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }
}

impl Drop for ScratchRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
