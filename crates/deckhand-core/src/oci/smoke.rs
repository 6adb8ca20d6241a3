//! The smoke run: the built image started locally and asked one HTTP question before its tag
//! is pushed or its service rolled. This module decides what to start (from the image's
//! config), what answer proves the image serves, and how the result reads; starting the
//! process and asking live in `deckhand-smoke`.

use serde::Serialize;
use serde_json::Value;

use super::platform::Platform;

/// The process an image's config starts, as a container runtime would start it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageProcess {
    /// `Entrypoint` followed by `Cmd`.
    pub argv: Vec<String>,
    /// `Env`, in order.
    pub env: Vec<(String, String)>,
    /// `WorkingDir` (`/` when unset).
    pub workdir: String,
    /// `User` (`None`: root).
    pub user: Option<String>,
    /// The TCP ports of `ExposedPorts`, lowest first.
    pub ports: Vec<u16>,
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

/// What `config` (an image config blob) starts. An image with neither `Entrypoint` nor `Cmd`
/// starts nothing: that is an error, as it is for `docker run`.
pub fn image_process(config: &[u8]) -> Result<ImageProcess, String> {
    let doc: Value =
        serde_json::from_slice(config).map_err(|e| format!("the image config is not JSON: {e}"))?;
    let c = doc.get("config").unwrap_or(&Value::Null);
    let mut argv = strings(c.get("Entrypoint"));
    argv.extend(strings(c.get("Cmd")));
    if argv.is_empty() {
        return Err("the image config has no Entrypoint and no Cmd: nothing to start".into());
    }
    let env = strings(c.get("Env"))
        .into_iter()
        .map(|e| match e.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (e, String::new()),
        })
        .collect();
    let workdir = c
        .get("WorkingDir")
        .and_then(Value::as_str)
        .filter(|w| !w.is_empty())
        .unwrap_or("/")
        .to_string();
    let user = c
        .get("User")
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty())
        .map(str::to_string);
    let mut ports: Vec<u16> = c
        .get("ExposedPorts")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|m| m.keys())
        .filter_map(|k| match k.split_once('/') {
            Some((p, "tcp")) => p.parse().ok(),
            Some(_) => None,
            None => k.parse().ok(),
        })
        .collect();
    ports.sort_unstable();
    ports.dedup();
    Ok(ImageProcess {
        argv,
        env,
        workdir,
        user,
        ports,
    })
}

/// Which of the built images the smoke run starts: the one for `host` (its binaries must run
/// here), else one that names no platform. `platforms` are the built images' platforms in
/// order. `None`: none runs on this machine (the run is skipped and says so).
pub fn runnable_image(platforms: &[Option<Platform>], host: &Platform) -> Option<usize> {
    platforms
        .iter()
        .position(|p| {
            p.as_ref()
                .is_some_and(|p| p.os == host.os && p.architecture == host.architecture)
        })
        .or_else(|| platforms.iter().position(Option::is_none))
}

/// The status codes that pass: `2xx`, `200`, `200,301`, `2xx,404`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusMatch(Vec<(u16, u16)>);

impl StatusMatch {
    /// Parses `--smoke-status`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut ranges = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let range = match part.strip_suffix("xx") {
                Some(d) if d.len() == 1 && matches!(d, "1" | "2" | "3" | "4" | "5") => {
                    let d: u16 = d.parse().expect("a digit");
                    (d * 100, d * 100 + 99)
                }
                _ => match part.parse::<u16>() {
                    Ok(code) if (100..=599).contains(&code) => (code, code),
                    _ => {
                        return Err(format!(
                            "`--smoke-status {text}`: `{part}` is not a status code (100-599) or a class like `2xx`"
                        ));
                    }
                },
            };
            ranges.push(range);
        }
        if ranges.is_empty() {
            return Err(format!("`--smoke-status {text}` names no status"));
        }
        Ok(Self(ranges))
    }

    /// Whether `status` passes.
    pub fn accepts(&self, status: u16) -> bool {
        self.0.iter().any(|(lo, hi)| (*lo..=*hi).contains(&status))
    }
}

impl std::fmt::Display for StatusMatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|(lo, hi)| match lo == hi {
                true => lo.to_string(),
                false => format!("{}xx", lo / 100),
            })
            .collect();
        f.write_str(&parts.join(","))
    }
}

/// The question the smoke run asks and the answer that passes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmokeCheck {
    /// The container port asked (`--smoke-port`, else the image's lowest exposed TCP port).
    pub port: u16,
    /// The path of the GET, from `/`.
    pub path: String,
    /// The statuses that pass.
    pub status: StatusMatch,
    /// The body the answer must carry (nginx: the `index.html` that was added), and what it
    /// is, for messages.
    pub body: Option<(Vec<u8>, String)>,
}

/// An HTTP answer, as much of it as the smoke run judges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpAnswer {
    /// Status code.
    pub status: u16,
    /// Body.
    pub body: Vec<u8>,
}

/// Why the smoke run is red, or `Ok` when `answer` passes `check`.
pub fn judge(check: &SmokeCheck, answer: &HttpAnswer) -> Result<(), String> {
    if !check.status.accepts(answer.status) {
        return Err(format!(
            "GET {} answered {} (expected {})",
            check.path, answer.status, check.status
        ));
    }
    if let Some((want, what)) = &check.body
        && &answer.body != want
    {
        let got = String::from_utf8_lossy(&answer.body);
        let got: String = got.chars().take(120).collect();
        return Err(format!(
            "GET {} answered {} but the body is not {what} ({} bytes, expected {}): {:?}",
            check.path,
            answer.status,
            answer.body.len(),
            want.len(),
            got.trim()
        ));
    }
    Ok(())
}

/// Lines of the container's output kept in the report.
pub const OUTPUT_TAIL_LINES: usize = 20;

/// The last `n` non-empty lines of `text`.
pub fn tail_lines(text: &str, n: usize) -> Vec<String> {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|l| (*l).to_string())
        .collect()
}

/// What the smoke run did and found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SmokeResult {
    /// `passed`, `failed` or `skipped`.
    pub outcome: SmokeOutcome,
    /// `chroot` (the daemonless runtime) or `docker`.
    pub runtime: String,
    /// The platform of the image that ran.
    pub platform: String,
    /// `GET :PORT/PATH`.
    pub request: String,
    /// The answer's status, when one came.
    pub status: Option<u16>,
    /// Why it failed or was skipped.
    pub reason: Option<String>,
    /// From the start of the process to the verdict.
    pub duration_ms: u64,
    /// The last lines the container wrote (stdout and stderr).
    pub output: Vec<String>,
}

/// The smoke run's outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SmokeOutcome {
    /// The answer passed.
    Passed,
    /// No answer, or the wrong one.
    #[default]
    Failed,
    /// Not run (no image for this machine's platform).
    Skipped,
}

impl SmokeResult {
    fn reason(&self) -> &str {
        self.reason.as_deref().unwrap_or("no reason")
    }

    /// `(linux/amd64, chroot, 31 ms)`: where and how long it ran.
    fn ran(&self) -> String {
        format!(
            "({}, {}, {} ms)",
            self.platform, self.runtime, self.duration_ms
        )
    }

    /// The log line.
    pub fn line(&self) -> String {
        match self.outcome {
            SmokeOutcome::Passed => format!(
                "smoke run: {} answered {} {}",
                self.request,
                self.status.unwrap_or_default(),
                self.ran()
            ),
            SmokeOutcome::Failed => format!(
                "smoke run: {} failed: {} {}",
                self.request,
                self.reason(),
                self.ran()
            ),
            SmokeOutcome::Skipped => format!("smoke run: skipped: {}", self.reason()),
        }
    }

    /// The failure message: what failed, then the container's last lines.
    pub fn failure_message(&self, image: &str) -> String {
        let mut text = format!(
            "the smoke run of {image} failed: {}; nothing was pushed",
            self.reason()
        );
        if !self.output.is_empty() {
            text.push_str("\nthe container's last lines:\n");
            for l in &self.output {
                text.push_str("  ");
                text.push_str(l);
                text.push('\n');
            }
        }
        text.trim_end().to_string()
    }

    /// The step summary's line.
    pub fn markdown(&self) -> String {
        let what = match self.outcome {
            SmokeOutcome::Passed => format!(
                "passed: `{}` answered {} {}",
                self.request,
                self.status.unwrap_or_default(),
                self.ran()
            ),
            SmokeOutcome::Failed => format!("**failed**: `{}`: {}", self.request, self.reason()),
            SmokeOutcome::Skipped => format!("skipped: {}", self.reason()),
        };
        format!("\nSmoke run {what}\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nginx_config() -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "architecture": "amd64", "os": "linux",
            "config": {
                "Cmd": ["nginx", "-g", "daemon off;"],
                "Env": ["PATH=/usr/sbin:/usr/bin", "NGINX_VERSION=1.22"],
                "ExposedPorts": {"8443/tcp": {}, "80/tcp": {}, "53/udp": {}},
                "StopSignal": "SIGQUIT"
            }
        }))
        .unwrap()
    }

    #[test]
    fn the_process_is_entrypoint_then_cmd_with_the_config_env() {
        let p = image_process(&nginx_config()).unwrap();
        assert_eq!(p.argv, ["nginx", "-g", "daemon off;"]);
        assert_eq!(p.env[1], ("NGINX_VERSION".into(), "1.22".into()));
        assert_eq!(p.workdir, "/");
        assert_eq!(p.user, None);
        assert_eq!(p.ports, [80, 8443], "tcp only, lowest first");

        let with_entrypoint = serde_json::json!({"config": {
            "Entrypoint": ["/docker-entrypoint.sh"], "Cmd": ["nginx"],
            "WorkingDir": "/app", "User": "101:101"
        }});
        let p = image_process(&serde_json::to_vec(&with_entrypoint).unwrap()).unwrap();
        assert_eq!(p.argv, ["/docker-entrypoint.sh", "nginx"]);
        assert_eq!(
            (p.workdir.as_str(), p.user.as_deref()),
            ("/app", Some("101:101"))
        );
    }

    #[test]
    fn an_image_that_starts_nothing_is_an_error() {
        let err = image_process(br#"{"config":{"Env":["A=1"]}}"#).unwrap_err();
        assert!(err.contains("no Entrypoint and no Cmd"), "{err}");
        assert!(image_process(b"not json").is_err());
    }

    #[test]
    fn the_image_for_this_machine_runs_else_one_without_a_platform() {
        let p = |s: &str| Some(Platform::parse(s).unwrap());
        let host = Platform::parse("linux/amd64").unwrap();
        assert_eq!(
            runnable_image(&[p("linux/arm64"), p("linux/amd64/v2")], &host),
            Some(1),
            "the variant does not matter"
        );
        assert_eq!(runnable_image(&[p("linux/arm64"), None], &host), Some(1));
        assert_eq!(runnable_image(&[p("linux/arm64")], &host), None);
    }

    #[test]
    fn status_classes_and_codes() {
        let m = StatusMatch::parse("2xx").unwrap();
        assert!(m.accepts(200) && m.accepts(204) && !m.accepts(301) && !m.accepts(404));
        let m = StatusMatch::parse("200, 301").unwrap();
        assert!(m.accepts(301) && !m.accepts(302));
        assert_eq!(m.to_string(), "200,301");
        assert_eq!(
            StatusMatch::parse("2xx,404").unwrap().to_string(),
            "2xx,404"
        );
        for bad in ["", "ok", "6xx", "99", "2x"] {
            assert!(StatusMatch::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn judging_an_answer() {
        let check = SmokeCheck {
            port: 80,
            path: "/".into(),
            status: StatusMatch::parse("2xx").unwrap(),
            body: Some((
                b"<h1>hi</h1>\n".to_vec(),
                "the index.html that was added".into(),
            )),
        };
        let ok = HttpAnswer {
            status: 200,
            body: b"<h1>hi</h1>\n".to_vec(),
        };
        assert_eq!(judge(&check, &ok), Ok(()));
        let not_found = HttpAnswer {
            status: 404,
            body: b"<html>404 Not Found</html>".to_vec(),
        };
        assert_eq!(
            judge(&check, &not_found).unwrap_err(),
            "GET / answered 404 (expected 2xx)"
        );
        let welcome = HttpAnswer {
            status: 200,
            body: b"Welcome to nginx!".to_vec(),
        };
        assert_eq!(
            judge(&check, &welcome).unwrap_err(),
            "GET / answered 200 but the body is not the index.html that was added (17 bytes, expected 12): \"Welcome to nginx!\""
        );
    }

    #[test]
    fn the_failure_message_ends_with_the_container_output() {
        let r = SmokeResult {
            outcome: SmokeOutcome::Failed,
            runtime: "chroot".into(),
            platform: "linux/amd64".into(),
            request: "GET :80/".into(),
            status: Some(404),
            reason: Some("GET / answered 404 (expected 2xx)".into()),
            duration_ms: 310,
            output: tail_lines("\n[error] open() \"/srv/www/index.html\" failed\n\n", 20),
        };
        assert_eq!(
            r.failure_message("r/web@sha256:abc"),
            "the smoke run of r/web@sha256:abc failed: GET / answered 404 (expected 2xx); nothing was pushed\nthe container's last lines:\n  [error] open() \"/srv/www/index.html\" failed"
        );
        assert_eq!(
            r.line(),
            "smoke run: GET :80/ failed: GET / answered 404 (expected 2xx) (linux/amd64, chroot, 310 ms)"
        );
        assert_eq!(tail_lines("a\nb\nc\n", 2), ["b", "c"]);
    }
}
