//! The Docker runtime: the image handed to a Docker engine with `docker load` (no registry, no
//! credentials: deckhand has the blobs already), started with `docker run` publishing its port
//! on 127.0.0.1, asked from this machine, then removed with its image.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::{RuntimeError, SmokeAttempt, SmokeRequest, TempDir, err, get, host_tool};

fn docker(args: &[&str]) -> Result<Output, RuntimeError> {
    let bin =
        host_tool("docker").ok_or_else(|| RuntimeError("`docker` is not installed".into()))?;
    Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(err("cannot run docker"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim().to_string()
}

/// Whether a Docker engine answers (`docker version` reaches the server).
pub fn check() -> Result<(), RuntimeError> {
    let out = docker(&["version", "--format", "{{.Server.Version}}"])?;
    match out.status.success() && !text(&out.stdout).is_empty() {
        true => Ok(()),
        false => Err(RuntimeError(format!(
            "no Docker engine answers: {}",
            text(&out.stderr)
        ))),
    }
}

/// Removes the container and the image whatever happened.
struct Cleanup {
    container: Option<String>,
    image: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(id) = &self.container {
            let _ = docker(&["rm", "-f", id]);
        }
        let _ = docker(&["rmi", "-f", &self.image]);
    }
}

/// The label naming the deckhand process that started a smoke container.
const OWNER_LABEL: &str = "deckhand.smoke.owner";

/// Removes the smoke containers (and their images) of deckhand processes that are gone: a
/// SIGKILLed deckhand cannot clean up after itself, so the next run on the engine does.
fn remove_orphans() {
    let format = format!("{{{{.ID}}}} {{{{.Image}}}} {{{{.Label \"{OWNER_LABEL}\"}}}}");
    let filter = format!("label={OWNER_LABEL}");
    let Ok(listed) = docker(&["ps", "--all", "--filter", &filter, "--format", &format]) else {
        return;
    };
    for line in text(&listed.stdout).lines() {
        let mut fields = line.split_whitespace();
        let (Some(id), Some(image), Some(owner)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if !std::path::Path::new(&format!("/proc/{owner}")).exists() {
            let _ = docker(&["rm", "-f", id]);
            let _ = docker(&["rmi", "-f", image]);
        }
    }
}

/// Loads, starts and asks the image (through [`crate::run`], after [`check`]).
pub(crate) fn run(request: &SmokeRequest) -> Result<SmokeAttempt, RuntimeError> {
    remove_orphans();
    let dir = TempDir::new("deckhand-smoke-docker").map_err(err("cannot make a temp dir"))?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let name = format!("deckhand-smoke-{}-{nanos}", std::process::id());
    let image = format!("deckhand-smoke:{}-{nanos}", std::process::id());
    let archive = dir.path().join("image.tar");
    let file = std::fs::File::create(&archive).map_err(err("cannot write the image archive"))?;
    crate::docker_archive::write(
        std::io::BufWriter::new(file),
        &image,
        &request.config,
        &request.layers,
    )
    .map_err(err("cannot write the image archive"))?;
    let mut cleanup = Cleanup {
        container: None,
        image: image.clone(),
    };
    let archive = archive.display().to_string();
    let loaded = docker(&["load", "--quiet", "--input", &archive])?;
    if !loaded.status.success() {
        return Err(RuntimeError(format!(
            "docker load refused the image: {}",
            text(&loaded.stderr)
        )));
    }
    let publish = format!("127.0.0.1::{}/tcp", request.port);
    let started = Instant::now();
    let owner = format!("{OWNER_LABEL}={}", std::process::id());
    let run = docker(&[
        "run",
        "--detach",
        "--name",
        &name,
        "--label",
        &owner,
        "--publish",
        &publish,
        &image,
    ])?;
    if !run.status.success() {
        return Err(RuntimeError(format!(
            "docker run could not start the image: {}",
            text(&run.stderr)
        )));
    }
    cleanup.container = Some(name.clone());
    let answer = ask(&name, request, started);
    let logs = docker(&["logs", &name])?;
    let output = format!("{}{}", text(&logs.stdout), text(&logs.stderr));
    Ok(SmokeAttempt {
        answer,
        output,
        elapsed: started.elapsed(),
    })
}

/// Asks the published port until an answer, the timeout, or the container's end.
fn ask(name: &str, request: &SmokeRequest, started: Instant) -> Result<crate::HttpAnswer, String> {
    let deadline = started + request.timeout;
    let port_spec = format!("{}/tcp", request.port);
    let mut last = String::from("nothing listened");
    while Instant::now() < deadline {
        let state = docker(&[
            "inspect",
            "--format",
            "{{.State.Running}} {{.State.ExitCode}}",
            name,
        ])
        .map_err(|e| e.0)?;
        let state = text(&state.stdout);
        if let Some(code) = state.strip_prefix("false ") {
            return Err(format!(
                "the process exited (exit status: {code}) without answering"
            ));
        }
        let port = docker(&["port", name, &port_spec]).map_err(|e| e.0)?;
        if let Some(addr) = text(&port.stdout)
            .lines()
            .find_map(|l| l.parse::<std::net::SocketAddr>().ok())
        {
            match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(500)) {
                Ok(stream) => return get(stream, &request.path),
                Err(e) => last = e.to_string(),
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!(
        "nothing answered on port {} within the timeout (last: {last})",
        request.port
    ))
}
