//! The smoke run's runtime: an image, given as its layers and its process, started on this
//! machine and asked one HTTP question, before anything is pushed or rolled.
//!
//! The runtime is daemonless: the layers are unpacked into a directory and the process runs
//! there as a container would, in its own network, mount and PID namespaces (`unshare`, from
//! util-linux), so it listens on its own port 80 beside anything else on this machine, and every
//! process it starts dies with it. It needs root (a GitHub-hosted runner's `sudo`, the test
//! machines, CI). The question is asked from a thread that joined the container's network
//! namespace. What counts as a good answer is decided in `deckhand_core::oci::smoke`.

pub mod docker;
pub mod docker_archive;
pub mod rootfs;

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use deckhand_core::oci::smoke::{HttpAnswer, ImageProcess};

/// How the image is started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    /// Daemonless: the unpacked layers in their own namespaces (needs root).
    Chroot,
    /// A Docker engine, through the `docker` CLI (`docker load`, `docker run`).
    Docker,
}

impl Runtime {
    /// Its name in reports and flags.
    pub fn name(self) -> &'static str {
        match self {
            Self::Chroot => "chroot",
            Self::Docker => "docker",
        }
    }
}

/// `--smoke-runtime`: a runtime, or `auto` (`None`): Docker when an engine answers, else the
/// daemonless runtime when this machine can run it.
pub fn choose_runtime(asked: Option<Runtime>) -> Result<Runtime, RuntimeError> {
    match asked {
        Some(Runtime::Chroot) => check_runtime().map(|()| Runtime::Chroot),
        Some(Runtime::Docker) => docker::check().map(|()| Runtime::Docker),
        None => match docker::check() {
            Ok(()) => Ok(Runtime::Docker),
            Err(docker) => check_runtime().map(|()| Runtime::Chroot).map_err(|chroot| {
                RuntimeError(format!("{chroot} (and no Docker engine: {docker})"))
            }),
        },
    }
}

/// A directory removed on drop.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// A new empty directory under the system's temp dir, named after `prefix`.
    pub fn new(prefix: &str) -> io::Result<Self> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let path = std::env::temp_dir().join(format!("{prefix}-{}-{nanos}", std::process::id()));
        fs::create_dir(&path)?;
        Ok(Self(path))
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Why the runtime could not run the image at all (the image may be fine: this machine is not).
#[derive(Debug)]
pub struct RuntimeError(pub String);

impl std::fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RuntimeError {}

pub(crate) fn err(context: &str) -> impl FnOnce(io::Error) -> RuntimeError + '_ {
    move |e| RuntimeError(format!("{context}: {e}"))
}

/// A host tool on PATH, or where Debian puts it.
pub(crate) fn host_tool(name: &str) -> Option<PathBuf> {
    let on_path: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| d.join(name)).collect())
        .unwrap_or_default();
    on_path
        .into_iter()
        .chain(["/usr/bin", "/usr/sbin", "/bin", "/sbin"].map(|d| Path::new(d).join(name)))
        .find(|p| p.is_file())
}

/// Whether this machine can run the daemonless runtime, or why not (with what to do).
pub fn check_runtime() -> Result<(), RuntimeError> {
    if !rustix::process::geteuid().is_root() {
        return Err(RuntimeError(
            "the smoke run's daemonless runtime needs root (it makes network and mount namespaces); run deckhand as root (GitHub-hosted runners: `sudo`), or pass `--skip-smoke`".into(),
        ));
    }
    for tool in ["unshare", "setpriv", "ip", "mount"] {
        if host_tool(tool).is_none() {
            return Err(RuntimeError(format!(
                "the smoke run needs `{tool}` (Debian: util-linux, mount and iproute2), which is not installed; install it, or pass `--skip-smoke`"
            )));
        }
    }
    Ok(())
}

/// What the image was asked to do.
#[derive(Debug, Clone)]
pub struct SmokeRequest {
    /// The image's layers, lowest first (gzip or plain tar).
    pub layers: Vec<Vec<u8>>,
    /// The image's config blob (its `diff_ids` name the layers).
    pub config: Vec<u8>,
    /// What it starts.
    pub process: ImageProcess,
    /// The port it is asked on, inside its network namespace.
    pub port: u16,
    /// The path of the GET.
    pub path: String,
    /// How long the process has to answer.
    pub timeout: Duration,
}

/// What happened.
#[derive(Debug, Clone)]
pub struct SmokeAttempt {
    /// The answer, or why none came (refused until the timeout, the process exited...).
    pub answer: Result<HttpAnswer, String>,
    /// What the process wrote (stdout and stderr, interleaved).
    pub output: String,
    /// From the start of the process to the answer (or to giving up).
    pub elapsed: Duration,
}

/// Starts the image with `runtime` (one [`choose_runtime`] gave: it has checked that this
/// machine can run it), asks `GET path` on `port` until it answers or `timeout` passes, then
/// removes it and everything it started. Blocking.
pub fn run(request: &SmokeRequest, runtime: Runtime) -> Result<SmokeAttempt, RuntimeError> {
    match runtime {
        Runtime::Chroot => run_chroot(request),
        Runtime::Docker => docker::run(request),
    }
}

/// Unpacks the image, starts it in its namespaces, and asks it from inside them.
fn run_chroot(request: &SmokeRequest) -> Result<SmokeAttempt, RuntimeError> {
    let dir = TempDir::new("deckhand-smoke").map_err(err("cannot make a temp dir"))?;
    let root = dir.path().join("rootfs");
    fs::create_dir(&root).map_err(err("cannot make the root directory"))?;
    for (i, layer) in request.layers.iter().enumerate() {
        rootfs::apply_layer(&root, layer).map_err(|e| {
            RuntimeError(format!("cannot unpack layer {} of the image: {e}", i + 1))
        })?;
    }
    for d in ["proc", "dev", "tmp"] {
        // An image without them still gets them, as a container does.
        fs::create_dir_all(root.join(d)).map_err(err("cannot prepare the root directory"))?;
    }
    let log_path = dir.path().join("output.log");
    let log = File::create(&log_path).map_err(err("cannot make the output file"))?;
    let started = Instant::now();
    let mut child = spawn(&root, &request.process, &log)?;
    let answer = ask(&mut child, request);
    // SIGKILL to unshare; `--kill-child` takes the namespace's init and so every process in it.
    let _ = child.kill();
    let _ = child.wait();
    let elapsed = started.elapsed();
    let mut output = String::new();
    let _ = File::open(&log_path).and_then(|mut f| f.read_to_string(&mut output));
    Ok(SmokeAttempt {
        answer,
        output,
        elapsed,
    })
}

/// `uid:gid` for the image's `User` (`name`, `uid`, `name:group`, `uid:gid`), from the image's
/// own /etc/passwd and /etc/group, as runc resolves it.
fn resolve_user(root: &Path, user: &str) -> Result<(u32, u32), String> {
    let (u, g) = match user.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (user, None),
    };
    let lookup = |file: &str, name: &str| -> Option<(u32, u32)> {
        let text = fs::read_to_string(root.join(file)).ok()?;
        text.lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.first() == Some(&name) && f.len() > 3)
                .then(|| Some((f[2].parse().ok()?, f[3].parse().unwrap_or(0))))
                .flatten()
        })
    };
    let (uid, primary) = match u.parse::<u32>() {
        Ok(uid) => (uid, 0),
        Err(_) => lookup("etc/passwd", u)
            .ok_or_else(|| format!("the image's User `{u}` is not in its /etc/passwd"))?,
    };
    let gid = match g {
        None => primary,
        Some(g) => match g.parse::<u32>() {
            Ok(gid) => gid,
            Err(_) => lookup("etc/group", g)
                .map(|(gid, _)| gid)
                .ok_or_else(|| format!("the image's group `{g}` is not in its /etc/group"))?,
        },
    };
    Ok((uid, gid))
}

/// The setup inside the new namespaces, run by the host's shell: loopback up, /proc of the new
/// PID namespace and the host's /dev mounted into the root (both vanish with the mount
/// namespace), then the image's process with the root and working directory of the image.
const SETUP: &str = r#"set -e
ip="$1"; mount="$2"; unshare="$3"; root="$4"; shift 4
"$ip" link set lo up
"$mount" -t proc proc "$root/proc"
"$mount" --rbind /dev "$root/dev"
exec "$unshare" --root="$root" "$@"
"#;

fn spawn(root: &Path, process: &ImageProcess, log: &File) -> Result<Child, RuntimeError> {
    let tool = |name: &str| {
        host_tool(name).ok_or_else(|| RuntimeError(format!("`{name}` is not installed")))
    };
    let (setpriv, unshare, ip, mount) = (
        tool("setpriv")?,
        tool("unshare")?,
        tool("ip")?,
        tool("mount")?,
    );
    let mut inner: Vec<String> = vec![format!("--wd={}", process.workdir)];
    if let Some(user) = &process.user {
        let (uid, gid) = resolve_user(root, user).map_err(RuntimeError)?;
        inner.extend([format!("--setgid={gid}"), format!("--setuid={uid}")]);
    }
    inner.push("--".into());
    inner.extend(process.argv.iter().cloned());
    let mut cmd = Command::new(setpriv);
    // If deckhand dies (SIGKILL included), the kernel kills unshare, and `--kill-child` the rest.
    cmd.args(["--pdeathsig", "KILL", "--"])
        .arg(&unshare)
        .args(["--net", "--mount", "--pid", "--fork", "--kill-child", "--"])
        .args(["/bin/sh", "-c", SETUP, "deckhand-smoke"])
        .arg(&ip)
        .arg(&mount)
        .arg(&unshare)
        .arg(root)
        .args(&inner);
    // The image's environment only, as a container gets it (PATH defaults as docker's does).
    cmd.env_clear();
    if !process.env.iter().any(|(k, _)| k == "PATH") {
        cmd.env(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        );
    }
    cmd.envs(process.env.iter().map(|(k, v)| (k, v)));
    let out = log
        .try_clone()
        .map_err(err("cannot share the output file"))?;
    let err_out = log
        .try_clone()
        .map_err(err("cannot share the output file"))?;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err_out));
    cmd.spawn().map_err(err("cannot start unshare"))
}

fn netns_inode(pid: u32) -> Option<u64> {
    fs::metadata(format!("/proc/{pid}/ns/net"))
        .ok()
        .map(|m| m.ino())
}

/// Asks until an answer, the timeout, or the process's end.
fn ask(child: &mut Child, request: &SmokeRequest) -> Result<HttpAnswer, String> {
    let deadline = Instant::now() + request.timeout;
    // unshare moves itself into the new network namespace right after it starts; until then
    // its /proc entry shows ours, and a question asked there would reach this machine's port.
    let ours = netns_inode(std::process::id());
    let pid = child.id();
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Err(format!(
                "the process ended ({status}) before it could be asked"
            ));
        }
        if netns_inode(pid).is_some_and(|n| Some(n) != ours) {
            break;
        }
        if Instant::now() > deadline {
            return Err("the namespaces were not ready before the timeout".into());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let ns = File::open(format!("/proc/{pid}/ns/net"))
        .map_err(|e| format!("cannot open the container's network namespace: {e}"))?;
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel();
    let (port, path, stop_probe) = (request.port, request.path.clone(), stop.clone());
    let probe = std::thread::spawn(move || {
        let result = rustix::thread::move_into_link_name_space(
            ns.as_fd(),
            Some(rustix::thread::LinkNameSpaceType::Network),
        )
        .map_err(|e| format!("cannot join the container's network namespace: {e}"))
        .and_then(|()| probe_until(port, &path, deadline, &stop_probe));
        let _ = tx.send(result);
    });
    let result = loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(result) => break result,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                break Err("the probe thread ended without an answer".into());
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if let Ok(Some(status)) = child.try_wait() {
            stop.store(true, Ordering::Relaxed);
            break Err(format!("the process exited ({status}) without answering"));
        }
    };
    stop.store(true, Ordering::Relaxed);
    let _ = probe.join();
    result
}

/// Connects to 127.0.0.1:`port` until something listens, then GETs `path`.
pub(crate) fn probe_until(
    port: u16,
    path: &str,
    deadline: Instant,
    stop: &AtomicBool,
) -> Result<HttpAnswer, String> {
    let mut last = String::from("nothing listened");
    while Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
        match TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(500))
        {
            Ok(stream) => return get(stream, path),
            Err(e) => last = e.to_string(),
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(format!(
        "nothing answered on port {port} within the timeout (last: {last})"
    ))
}

/// An HTTP/1.0 GET (the answer is never chunked and ends when the server closes).
pub(crate) fn get(mut stream: TcpStream, path: &str) -> Result<HttpAnswer, String> {
    let fail = |e: io::Error| format!("GET {path}: {e}");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(fail)?;
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: localhost\r\nUser-Agent: deckhand-smoke\r\n\r\n"
    )
    .map_err(fail)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).map_err(fail)?;
    parse_response(&response).ok_or_else(|| {
        format!(
            "GET {path}: not an HTTP answer: {:?}",
            String::from_utf8_lossy(&response[..response.len().min(80)])
        )
    })
}

fn parse_response(response: &[u8]) -> Option<HttpAnswer> {
    let split = response.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&response[..split]).ok()?;
    let status = head.lines().next()?.split(' ').nth(1)?.parse().ok()?;
    Some(HttpAnswer {
        status,
        body: response[split + 4..].to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_resolve_from_the_image_files() {
        let root = tempfile::tempdir().unwrap();
        fs::create_dir(root.path().join("etc")).unwrap();
        fs::write(
            root.path().join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\nnginx:x:101:102:nginx:/nonexistent:/bin/false\n",
        )
        .unwrap();
        fs::write(root.path().join("etc/group"), "root:x:0:\nweb:x:33:\n").unwrap();
        let r = |u: &str| resolve_user(root.path(), u);
        assert_eq!(r("nginx"), Ok((101, 102)));
        assert_eq!(r("nginx:web"), Ok((101, 33)));
        assert_eq!(r("1000"), Ok((1000, 0)));
        assert_eq!(r("1000:1001"), Ok((1000, 1001)));
        assert!(r("nobody").unwrap_err().contains("not in its /etc/passwd"));
        assert!(r("nginx:staff").unwrap_err().contains("/etc/group"));
    }

    #[test]
    fn answers_parse_status_and_body() {
        let a =
            parse_response(b"HTTP/1.1 404 Not Found\r\nServer: nginx\r\n\r\n<h1>no</h1>").unwrap();
        assert_eq!((a.status, a.body.as_slice()), (404, &b"<h1>no</h1>"[..]));
        assert!(parse_response(b"SSH-2.0-OpenSSH\r\n").is_none());
    }
}
