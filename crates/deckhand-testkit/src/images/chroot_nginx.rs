//! Running nginx from an unpacked image in a chroot (Debian's nginx, as the image runs it), and
//! the plain HTTP client that talks to it.

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

/// `chroot ROOTFS /usr/sbin/nginx -t`: `Ok(output)` when nginx accepts the image's
/// configuration, `Err(output)` (its messages) when it does not.
pub fn chroot_nginx_test(rootfs: &Path) -> std::result::Result<String, String> {
    let out = Command::new("chroot")
        .arg(rootfs)
        .args(["/usr/sbin/nginx", "-t"])
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("chroot {} /usr/sbin/nginx -t: {e}", rootfs.display()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(text)
    }
}

/// Rewrites every `listen` of `etc/nginx/conf.d/*.conf` in `rootfs` to `127.0.0.1:PORT`
/// (keeping flags such as `default_server`) and drops IPv6 listens, so the image's server can
/// run beside others on this machine. Returns how many listens now use the port.
pub fn listen_on(rootfs: &Path, port: u16) -> usize {
    let conf_d = rootfs.join("etc/nginx/conf.d");
    let mut count = 0;
    let mut entries: Vec<PathBuf> = fs::read_dir(&conf_d)
        .unwrap_or_else(|e| panic!("{}: {e}", conf_d.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "conf"))
        .collect();
    entries.sort();
    for path in entries {
        let text = fs::read_to_string(&path).expect("read conf");
        let mut out = String::new();
        for line in text.lines() {
            let trimmed = line.trim_start();
            let indent = &line[..line.len() - trimmed.len()];
            let mut words = trimmed.split_whitespace();
            if words.next() == Some("listen") {
                let addr = words.next().unwrap_or_default();
                if addr.starts_with('[') {
                    continue;
                }
                let rest: Vec<&str> = words.collect();
                let rest = rest.join(" ");
                let rest = rest.trim_end_matches(';').trim();
                let sep = if rest.is_empty() { "" } else { " " };
                out.push_str(&format!("{indent}listen 127.0.0.1:{port}{sep}{rest};\n"));
                count += 1;
            } else {
                out.push_str(line);
                out.push('\n');
            }
        }
        fs::write(&path, out).expect("write conf");
    }
    count
}

/// A status, headers (names lowercased) and body.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Headers in order, names lowercased.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header of that (lowercase) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// An HTTP/1.0 GET of `path` on 127.0.0.1:`port` (1.0: the body is never chunked).
pub fn http_get(port: u16, path: &str) -> HttpResponse {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .unwrap_or_else(|e| panic!("connect 127.0.0.1:{port}: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(stream, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").expect("send request");
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .unwrap_or_else(|e| panic!("GET {path} on port {port}: {e}"));
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("GET {path}: no end of headers"));
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("GET {path}: bad status line in {head:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    HttpResponse {
        status,
        headers,
        body: response[split + 4..].to_vec(),
    }
}

/// nginx from an unpacked image, run as the image runs it (`nginx -g 'daemon off;'`, master and
/// workers, workers as the configured user) inside `chroot ROOTFS`; stopped on drop.
///
/// The configuration must listen on 127.0.0.1:`port` ([`listen_on`] rewrites an image's).
#[derive(Debug)]
pub struct ChrootNginx {
    child: Child,
    port: u16,
    rootfs: PathBuf,
    stderr: tempfile::NamedTempFile,
}

impl ChrootNginx {
    /// Starts nginx and waits (up to 10 s) until `port` accepts connections; panics with
    /// nginx's messages when it exits first.
    pub fn start(rootfs: &Path, port: u16) -> Self {
        let stderr = tempfile::NamedTempFile::new().expect("temp file");
        let child = Command::new("chroot")
            .arg(rootfs)
            .args(["/usr/sbin/nginx", "-g", "daemon off;"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr.reopen().expect("reopen temp file"))
            .spawn()
            .unwrap_or_else(|e| panic!("chroot {} /usr/sbin/nginx: {e}", rootfs.display()));
        let mut nginx = Self {
            child,
            port,
            rootfs: rootfs.to_path_buf(),
            stderr,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        loop {
            if let Ok(Some(status)) = nginx.child.try_wait() {
                panic!(
                    "nginx in {} exited ({status}) before listening on {port}:\n{}",
                    rootfs.display(),
                    nginx.stderr()
                );
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return nginx;
            }
            assert!(
                Instant::now() < deadline,
                "nginx in {} is not listening on {port} after 10 s:\n{}",
                rootfs.display(),
                nginx.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// GET `path` from it.
    pub fn get(&self, path: &str) -> HttpResponse {
        http_get(self.port, path)
    }

    /// What nginx wrote to stderr (the base image's `error_log stderr`).
    pub fn stderr(&self) -> String {
        fs::read_to_string(self.stderr.path()).unwrap_or_default()
    }

    /// The access log of the base image's `access_log /dev/stdout`: a chroot has no /dev, so
    /// nginx created it as a plain file in the image's root.
    pub fn access_log(&self) -> String {
        fs::read_to_string(self.rootfs.join("dev/stdout")).unwrap_or_default()
    }
}

impl Drop for ChrootNginx {
    fn drop(&mut self) {
        // SIGTERM to the master stops the workers too; SIGKILL would leave them serving.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
