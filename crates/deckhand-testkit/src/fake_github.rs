//! A fake GitHub REST API for deckhand's tests, over `std::net`, one request per connection.
//!
//! GitHub cannot be reached from here, so [`FakeGithub`] is a small GitHub of its own on
//! 127.0.0.1: one repository ([`REPO`]) with workflows, refs and a token ([`TOKEN`]), whose runs
//! progress a step each time they are read, pull requests whose files it lists
//! ([`FakeGithub::set_pull_files`]), with answers shaped as GitHub's REST reference
//! documents them (`shared/reference/github-api.md`). It validates requests the way GitHub does
//! (unknown workflow 404, unknown ref 422, bad token 401, description over 140 characters 422),
//! records every request ([`Request`]), and can be told to answer a status of our choosing (rate
//! limits, 5xx) to the next requests matching a method and path ([`FakeGithub::fail`]).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

/// The one token the fake accepts (`Authorization: Bearer TOKEN` or `token TOKEN`); any other
/// is 401 `Bad credentials`.
pub const TOKEN: &str = "ghs_fAkEt0kEn4deckhandTESTS0nly123456";
/// The one repository the fake serves (`OWNER/REPO`); requests for any other are 404.
pub const REPO: &str = "octo-org/octo-repo";
/// A commit of [`REPO`]: the `head_sha` of every run and job and the `sha` of every deployment.
pub const SHA: &str = "a84d88e7554fc1fa21bcbc4efae3c782a70d2b9d";

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The decoded path, without the query.
    pub path: String,
    /// Decoded query parameters.
    pub query: BTreeMap<String, String>,
    /// Lowercased names.
    pub headers: BTreeMap<String, String>,
    /// The JSON body (`Null` when there was none).
    pub body: Value,
}

/// A canned answer to the next `times` requests matching `method` and a path suffix.
#[derive(Debug, Clone)]
struct Fault {
    method: String,
    path_suffix: String,
    times: u32,
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

#[derive(Debug, Clone)]
struct Workflow {
    id: u64,
    file: &'static str,
    name: &'static str,
    dispatchable: bool,
    inputs: &'static [&'static str],
    jobs: &'static [&'static str],
    /// Stays in its first job forever.
    never_ends: bool,
}

const WORKFLOWS: &[Workflow] = &[
    Workflow {
        id: 161_335,
        file: "deploy.yml",
        name: "Deploy",
        dispatchable: true,
        inputs: &["environment", "outcome", "api_token"],
        jobs: &["build", "deploy"],
        never_ends: false,
    },
    Workflow {
        id: 161_336,
        file: "slow.yml",
        name: "Slow",
        dispatchable: true,
        inputs: &[],
        jobs: &["soak"],
        never_ends: true,
    },
    Workflow {
        id: 161_337,
        file: "ci.yml",
        name: "CI",
        dispatchable: false,
        inputs: &[],
        jobs: &["test"],
        never_ends: false,
    },
];

const REFS: &[&str] = &["main", "release/1.2"];

#[derive(Debug, Clone)]
struct RunSim {
    id: u64,
    workflow: usize,
    event: String,
    branch: String,
    created_at: String,
    /// `success`, `failure`, `cancelled`: what the last job concludes.
    outcome: String,
    /// Times the run was read.
    reads: usize,
}

#[derive(Debug, Clone)]
struct DeploymentSim {
    id: u64,
    environment: String,
    statuses: Vec<Value>,
}

/// Pull requests of the repository.
const PULLS: &[u64] = &[7, 42];
/// Who GITHUB_TOKEN comments as.
pub const TOKEN_USER: &str = "github-actions[bot]";
/// GitHub's limit for a comment body.
const COMMENT_MAX: usize = 65_536;

#[derive(Debug, Clone)]
struct CommentSim {
    id: u64,
    pr: u64,
    author: String,
    body: String,
}

#[derive(Debug, Default)]
struct State {
    requests: Vec<Request>,
    comments: Vec<CommentSim>,
    faults: Vec<Fault>,
    runs: Vec<RunSim>,
    deployments: Vec<DeploymentSim>,
    next_id: u64,
    /// `return_run_details` is an unknown key: 422.
    refuse_run_details: bool,
    /// `304 Not Modified` answers given.
    not_modified: usize,
    /// `return_run_details: true` answers 200 with the run (else 204, like GitHub
    /// Enterprise Server before the parameter existed).
    run_details: bool,
    /// The files of each pull request, as `GET .../pulls/{n}/files` lists them.
    pull_files: BTreeMap<u64, Vec<Value>>,
}

/// The fake, serving until the test ends.
pub struct FakeGithub {
    /// `http://127.0.0.1:PORT`: the API URL to give deckhand (`GITHUB_API_URL`).
    pub url: String,
    state: Arc<Mutex<State>>,
}

/// Now, in seconds since the Unix epoch.
pub fn now_epoch() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}

/// Seconds since the Unix epoch as GitHub writes times (`2026-12-05T08:00:00Z`).
pub fn iso(epoch: i64) -> String {
    deckhand_core::time::format_utc(epoch * 1000)
}

impl FakeGithub {
    /// Starts the fake on a free port of 127.0.0.1; it serves until the test binary exits.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fake GitHub");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State {
            next_id: 30_433_642,
            run_details: true,
            ..State::default()
        }));
        let shared = state.clone();
        let base = url.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = shared.clone();
                let base = base.clone();
                std::thread::spawn(move || {
                    let _ = serve(stream, &state, &base);
                });
            }
        });
        Self { url, state }
    }

    /// Answer the workflow dispatch with 204 and no run details.
    pub fn without_run_details(&self) {
        self.state.lock().unwrap().run_details = false;
    }

    /// Refuse `return_run_details` as an unknown key (422), like a GitHub that predates it.
    pub fn refusing_run_details(&self) {
        let mut s = self.state.lock().unwrap();
        s.run_details = false;
        s.refuse_run_details = true;
    }

    /// The next `times` requests `method .../path_suffix` get `status` with `headers` and
    /// `body`.
    pub fn fail(
        &self,
        method: &str,
        path_suffix: &str,
        times: u32,
        status: u16,
        headers: &[(&str, String)],
        body: Value,
    ) {
        self.state.lock().unwrap().faults.push(Fault {
            method: method.into(),
            path_suffix: path_suffix.into(),
            times,
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            body: body.to_string(),
        });
    }

    /// A run that exists before the test dispatches anything.
    pub fn add_run(&self, workflow: &str, event: &str, branch: &str, created_epoch: i64) -> u64 {
        let mut s = self.state.lock().unwrap();
        let w = WORKFLOWS.iter().position(|w| w.file == workflow).unwrap();
        s.next_id += 1;
        let id = s.next_id;
        s.runs.push(RunSim {
            id,
            workflow: w,
            event: event.into(),
            branch: branch.into(),
            created_at: iso(created_epoch),
            outcome: "success".into(),
            reads: 0,
        });
        id
    }

    /// A comment someone already left on pull request `pr`.
    pub fn add_comment(&self, pr: u64, author: &str, body: &str) -> u64 {
        let mut s = self.state.lock().unwrap();
        s.next_id += 1;
        let id = s.next_id;
        s.comments.push(CommentSim {
            id,
            pr,
            author: author.into(),
            body: body.into(),
        });
        id
    }

    /// The comments of pull request `pr`, oldest first: (id, author, body).
    pub fn comments(&self, pr: u64) -> Vec<(u64, String, String)> {
        self.state
            .lock()
            .unwrap()
            .comments
            .iter()
            .filter(|c| c.pr == pr)
            .map(|c| (c.id, c.author.clone(), c.body.clone()))
            .collect()
    }

    /// The files pull request `pr` changes, in the order GitHub lists them: (status, filename,
    /// previous filename of a rename). Statuses are the API's: `added`, `removed`, `modified`,
    /// `renamed`, `copied`, `changed`, `unchanged`.
    pub fn set_pull_files(&self, pr: u64, files: &[(&str, &str, Option<&str>)]) {
        let listed = files
            .iter()
            .enumerate()
            .map(|(i, (status, filename, previous))| {
                let mut f = json!({
                    "sha": format!("{:040x}", i + 1),
                    "filename": filename,
                    "status": status,
                    "additions": 1, "deletions": 0, "changes": 1,
                    "blob_url": format!("https://github.com/{REPO}/blob/{SHA}/{filename}"),
                    "raw_url": format!("https://github.com/{REPO}/raw/{SHA}/{filename}"),
                    "contents_url": format!("https://api.github.com/repos/{REPO}/contents/{filename}?ref={SHA}"),
                    "patch": "@@ -0,0 +1 @@\n+x",
                });
                if let Some(old) = previous {
                    f["previous_filename"] = json!(old);
                }
                f
            })
            .collect();
        self.state.lock().unwrap().pull_files.insert(pr, listed);
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Requests with this method whose path ends with `suffix`.
    pub fn matching(&self, method: &str, suffix: &str) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == method && r.path.ends_with(suffix))
            .collect()
    }

    /// (deployment id, environment, statuses posted) of every deployment created.
    pub fn deployments(&self) -> Vec<(u64, String, Vec<Value>)> {
        self.state
            .lock()
            .unwrap()
            .deployments
            .iter()
            .map(|d| (d.id, d.environment.clone(), d.statuses.clone()))
            .collect()
    }

    /// How many reads were answered `304 Not Modified`.
    pub fn not_modified(&self) -> usize {
        self.state.lock().unwrap().not_modified
    }

    /// Ids of the runs dispatched or added.
    pub fn run_ids(&self) -> Vec<u64> {
        self.state
            .lock()
            .unwrap()
            .runs
            .iter()
            .map(|r| r.id)
            .collect()
    }
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn read_request(stream: &mut TcpStream) -> std::io::Result<Request> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("/").to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h)?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let mut body = Vec::new();
    if let Some(len) = headers
        .get("content-length")
        .and_then(|l| l.parse::<usize>().ok())
    {
        body.resize(len, 0);
        reader.read_exact(&mut body)?;
    } else if headers
        .get("transfer-encoding")
        .is_some_and(|t| t.contains("chunked"))
    {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            let mut chunk = vec![0; n + 2];
            reader.read_exact(&mut chunk)?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    }
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let query = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect();
    Ok(Request {
        method,
        path: decode(path),
        query,
        headers,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    })
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

fn reply(status: u16, body: Value) -> Reply {
    Reply {
        status,
        headers: Vec::new(),
        body: if status == 204 {
            String::new()
        } else {
            body.to_string()
        },
    }
}

fn error(status: u16, message: &str) -> Reply {
    reply(
        status,
        json!({"message": message, "documentation_url": "https://docs.github.com/rest", "status": status.to_string()}),
    )
}

fn serve(mut stream: TcpStream, state: &Arc<Mutex<State>>, base: &str) -> std::io::Result<()> {
    let req = read_request(&mut stream)?;
    let r = {
        let mut s = state.lock().unwrap();
        s.requests.push(req.clone());
        let mut r = handle(&mut s, &req, base);
        // ETags on reads, and `304 Not Modified` for an unchanged answer, as GitHub does.
        if req.method == "GET" && r.status == 200 {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            r.body.hash(&mut h);
            let etag = format!("W/\"{:016x}\"", h.finish());
            if req.headers.get("if-none-match") == Some(&etag) {
                s.not_modified += 1;
                r = Reply {
                    status: 304,
                    headers: Vec::new(),
                    body: String::new(),
                };
            }
            r.headers.push(("etag".into(), etag));
        }
        r
    };
    let reason = match r.status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        304 => "Not Modified",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        _ => "Status",
    };
    let mut head = format!("HTTP/1.1 {} {reason}\r\n", r.status);
    let mut rate = vec![
        ("x-ratelimit-limit".to_string(), "1000".to_string()),
        ("x-ratelimit-remaining".to_string(), "987".to_string()),
        (
            "x-ratelimit-reset".to_string(),
            (now_epoch() + 3000).to_string(),
        ),
        ("x-ratelimit-used".to_string(), "13".to_string()),
        ("x-ratelimit-resource".to_string(), "core".to_string()),
    ];
    // A fault's own rate-limit headers replace the defaults.
    rate.retain(|(k, _)| !r.headers.iter().any(|(h, _)| h == k));
    for (k, v) in rate.iter().chain(r.headers.iter()) {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if r.status != 204 && r.status != 304 {
        head.push_str("content-type: application/json; charset=utf-8\r\n");
    }
    head.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        r.body.len()
    ));
    stream.write_all(head.as_bytes())?;
    stream.write_all(r.body.as_bytes())?;
    stream.flush()
}

fn handle(s: &mut State, req: &Request, base: &str) -> Reply {
    let auth = req
        .headers
        .get("authorization")
        .cloned()
        .unwrap_or_default();
    let Some(token) = auth
        .strip_prefix("Bearer ")
        .or_else(|| auth.strip_prefix("token "))
    else {
        return error(401, "Requires authentication");
    };
    if token != TOKEN {
        return error(401, "Bad credentials");
    }
    if let Some(f) = s
        .faults
        .iter_mut()
        .find(|f| f.times > 0 && f.method == req.method && req.path.ends_with(&f.path_suffix))
    {
        f.times -= 1;
        return Reply {
            status: f.status,
            headers: f.headers.clone(),
            body: f.body.clone(),
        };
    }
    let prefix = format!("/repos/{REPO}/");
    let Some(rest) = req.path.strip_prefix(&prefix) else {
        return error(404, "Not Found");
    };
    let segs: Vec<&str> = rest.split('/').collect();
    match (req.method.as_str(), segs.as_slice()) {
        ("POST", ["deployments"]) => create_deployment(s, req, base),
        ("POST", ["deployments", id, "statuses"]) => create_status(s, req, id, base),
        ("POST", ["actions", "workflows", wf, "dispatches"]) => dispatch(s, req, wf, base),
        ("POST", ["dispatches"]) => repository_dispatch(s, req),
        ("GET", ["issues", n, "comments"]) => list_comments(s, req, n, base),
        ("GET", ["pulls", n, "files"]) => list_pull_files(s, req, n, base),
        ("POST", ["issues", n, "comments"]) => create_comment(s, req, n),
        ("PATCH", ["issues", "comments", id]) => update_comment(s, req, id),
        ("GET", ["actions", "workflows", wf, "runs"]) => match find_workflow(wf) {
            Some(w) => list_runs(s, req, Some(w), base),
            None => error(404, "Not Found"),
        },
        ("GET", ["actions", "runs"]) => list_runs(s, req, None, base),
        ("GET", ["actions", "runs", id]) => {
            match s.runs.iter_mut().find(|r| r.id.to_string() == *id) {
                Some(run) => {
                    run.reads += 1;
                    let run = run.clone();
                    reply(200, run_json(&run, base))
                }
                None => error(404, "Not Found"),
            }
        }
        ("GET", ["actions", "runs", id, "jobs"]) => {
            match s.runs.iter().find(|r| r.id.to_string() == *id) {
                Some(run) => {
                    let jobs = jobs_json(run, base);
                    reply(200, json!({"total_count": jobs.len(), "jobs": jobs}))
                }
                None => error(404, "Not Found"),
            }
        }
        _ => error(404, "Not Found"),
    }
}

fn comment_json(c: &CommentSim) -> Value {
    json!({
        "id": c.id, "node_id": "IC_kwDOAbcd", "url": format!("https://api.github.com/repos/{REPO}/issues/comments/{}", c.id),
        "html_url": format!("https://github.com/{REPO}/pull/{}#issuecomment-{}", c.pr, c.id),
        "body": c.body,
        "user": {"login": c.author, "id": 41_898_282, "type": if c.author.ends_with("[bot]") { "Bot" } else { "User" }},
        "created_at": "2026-12-05T08:00:00Z", "updated_at": "2026-12-05T08:00:00Z",
        "author_association": "NONE",
        "issue_url": format!("https://api.github.com/repos/{REPO}/issues/{}", c.pr),
    })
}

fn pull(n: &str) -> Option<u64> {
    n.parse().ok().filter(|n| PULLS.contains(n))
}

/// Pages of `per_page` (default 30, at most 100), with a `Link` header, as GitHub pages.
fn list_comments(s: &State, req: &Request, n: &str, base: &str) -> Reply {
    let Some(pr) = pull(n) else {
        return error(404, "Not Found");
    };
    let per_page = req
        .query
        .get("per_page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page = req
        .query
        .get("page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let all: Vec<&CommentSim> = s.comments.iter().filter(|c| c.pr == pr).collect();
    let items: Vec<Value> = all
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|c| comment_json(c))
        .collect();
    let last = all.len().div_ceil(per_page).max(1);
    let mut r = reply(200, Value::Array(items));
    if page < last {
        let url = |p: usize| {
            format!("<{base}/repos/{REPO}/issues/{pr}/comments?per_page={per_page}&page={p}>")
        };
        r.headers.push((
            "link".into(),
            format!(
                "{}; rel=\"next\", {}; rel=\"last\"",
                url(page + 1),
                url(last)
            ),
        ));
    }
    r
}

/// A pull request's files, paged as GitHub pages them (`per_page` default 30, at most 100,
/// `Link: rel="next"`): a pull request the fake has no files for is 404.
fn list_pull_files(s: &State, req: &Request, n: &str, base: &str) -> Reply {
    let Some(files) = n.parse::<u64>().ok().and_then(|pr| s.pull_files.get(&pr)) else {
        return error(404, "Not Found");
    };
    let per_page = req
        .query
        .get("per_page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page = req
        .query
        .get("page")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let items: Vec<Value> = files
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .cloned()
        .collect();
    let last = files.len().div_ceil(per_page).max(1);
    let mut r = reply(200, Value::Array(items));
    if page < last {
        let url = |p: usize| {
            format!("<{base}/repos/{REPO}/pulls/{n}/files?per_page={per_page}&page={p}>")
        };
        r.headers.push((
            "link".into(),
            format!(
                "{}; rel=\"next\", {}; rel=\"last\"",
                url(page + 1),
                url(last)
            ),
        ));
    }
    r
}

fn comment_text(req: &Request) -> Result<String, Reply> {
    match req.body["body"].as_str() {
        None | Some("") => Err(error(422, "Invalid request.\n\nNo body was supplied.")),
        Some(b) if b.chars().count() > COMMENT_MAX => Err(error(
            422,
            "Validation Failed: body is too long (maximum is 65536 characters)",
        )),
        Some(b) => Ok(b.to_string()),
    }
}

fn create_comment(s: &mut State, req: &Request, n: &str) -> Reply {
    let Some(pr) = pull(n) else {
        return error(404, "Not Found");
    };
    let body = match comment_text(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    s.next_id += 1;
    let c = CommentSim {
        id: s.next_id,
        pr,
        author: TOKEN_USER.into(),
        body,
    };
    s.comments.push(c.clone());
    reply(201, comment_json(&c))
}

fn update_comment(s: &mut State, req: &Request, id: &str) -> Reply {
    let body = match comment_text(req) {
        Ok(b) => b,
        Err(r) => return r,
    };
    match s.comments.iter_mut().find(|c| c.id.to_string() == id) {
        Some(c) => {
            c.body = body;
            let c = c.clone();
            reply(200, comment_json(&c))
        }
        None => error(404, "Not Found"),
    }
}

fn find_workflow(name_or_id: &str) -> Option<usize> {
    WORKFLOWS
        .iter()
        .position(|w| w.file == name_or_id || w.id.to_string() == name_or_id)
}

fn ref_exists(r: &str) -> bool {
    REFS.contains(&r)
        || REFS.iter().any(|b| r == format!("refs/heads/{b}"))
        || (r.len() == 40 && r.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn create_deployment(s: &mut State, req: &Request, base: &str) -> Reply {
    let Some(r) = req.body["ref"].as_str() else {
        return error(422, "Invalid request.\n\n\"ref\" wasn't supplied.");
    };
    if !ref_exists(r) {
        return error(422, &format!("No ref found for: {r}"));
    }
    if req.body["auto_merge"] != json!(false) {
        // The documented default: the default branch is merged into the ref instead.
        return reply(
            202,
            json!({"message": format!("Auto-merged main into {r} on deployment.")}),
        );
    }
    s.next_id += 1;
    let id = s.next_id;
    let environment = req.body["environment"]
        .as_str()
        .unwrap_or("production")
        .to_string();
    s.deployments.push(DeploymentSim {
        id,
        environment: environment.clone(),
        statuses: Vec::new(),
    });
    let url = format!("{base}/repos/{REPO}/deployments/{id}");
    reply(
        201,
        json!({
            "url": url, "id": id, "node_id": "MDEwOkRlcGxveW1lbnQx", "sha": SHA, "ref": r,
            "task": req.body["task"].as_str().unwrap_or("deploy"),
            "payload": req.body["payload"].clone(),
            "original_environment": environment, "environment": environment,
            "description": req.body["description"].clone(),
            "creator": {"login": "github-actions[bot]", "id": 41_898_282, "type": "Bot", "site_admin": false},
            "created_at": iso(now_epoch()), "updated_at": iso(now_epoch()),
            "statuses_url": format!("{url}/statuses"),
            "repository_url": format!("{base}/repos/{REPO}"),
            "transient_environment": req.body["transient_environment"].as_bool().unwrap_or(false),
            "production_environment": req.body["production_environment"].as_bool().unwrap_or(environment == "production"),
        }),
    )
}

fn create_status(s: &mut State, req: &Request, id: &str, base: &str) -> Reply {
    let Some(d) = s.deployments.iter_mut().find(|d| d.id.to_string() == id) else {
        return error(404, "Not Found");
    };
    let state = req.body["state"].as_str().unwrap_or("");
    if ![
        "error",
        "failure",
        "inactive",
        "in_progress",
        "queued",
        "pending",
        "success",
    ]
    .contains(&state)
    {
        return error(422, "Validation Failed");
    }
    if req.body["description"]
        .as_str()
        .is_some_and(|t| t.chars().count() > 140)
    {
        return reply(
            422,
            json!({"message": "Validation Failed", "errors": [{"resource": "DeploymentStatus", "field": "description", "code": "custom", "message": "description is too long (maximum is 140 characters)"}], "documentation_url": "https://docs.github.com/rest", "status": "422"}),
        );
    }
    d.statuses.push(req.body.clone());
    let n = d.statuses.len();
    reply(
        201,
        json!({
            "url": format!("{base}/repos/{REPO}/deployments/{id}/statuses/{n}"),
            "id": n, "node_id": "MDE2OkRlcGxveW1lbnRTdGF0dXMx", "state": state,
            "description": req.body["description"].clone(), "environment": d.environment,
            "target_url": req.body["log_url"].clone(), "log_url": req.body["log_url"].clone(),
            "environment_url": req.body["environment_url"].clone(),
            "created_at": iso(now_epoch()), "updated_at": iso(now_epoch()),
            "deployment_url": format!("{base}/repos/{REPO}/deployments/{id}"),
            "repository_url": format!("{base}/repos/{REPO}"),
        }),
    )
}

fn dispatch(s: &mut State, req: &Request, wf: &str, base: &str) -> Reply {
    let Some(w) = find_workflow(wf) else {
        return error(404, "Not Found");
    };
    let workflow = &WORKFLOWS[w];
    if s.refuse_run_details && req.body.get("return_run_details").is_some() {
        return error(
            422,
            "Invalid request.\n\n\"return_run_details\" is not a permitted key.",
        );
    }
    let Some(r) = req.body["ref"].as_str() else {
        return error(422, "Invalid request.\n\n\"ref\" wasn't supplied.");
    };
    if !workflow.dispatchable {
        return error(422, "Workflow does not have 'workflow_dispatch' trigger");
    }
    if !ref_exists(r) {
        return error(422, &format!("No ref found for: {r}"));
    }
    let inputs = req.body["inputs"].as_object().cloned().unwrap_or_default();
    let unexpected: Vec<&String> = inputs
        .keys()
        .filter(|k| !workflow.inputs.contains(&k.as_str()))
        .collect();
    if !unexpected.is_empty() {
        return error(422, &format!("Unexpected inputs provided: {unexpected:?}"));
    }
    s.next_id += 1;
    let id = s.next_id;
    s.runs.push(RunSim {
        id,
        workflow: w,
        event: "workflow_dispatch".into(),
        branch: r.trim_start_matches("refs/heads/").into(),
        created_at: iso(now_epoch()),
        outcome: inputs
            .get("outcome")
            .and_then(Value::as_str)
            .unwrap_or("success")
            .into(),
        reads: 0,
    });
    if s.run_details && req.body["return_run_details"] == json!(true) {
        reply(
            200,
            json!({
                "workflow_run_id": id,
                "run_url": format!("{base}/repos/{REPO}/actions/runs/{id}"),
                "html_url": format!("https://github.com/{REPO}/actions/runs/{id}"),
            }),
        )
    } else {
        reply(204, Value::Null)
    }
}

fn repository_dispatch(s: &mut State, req: &Request) -> Reply {
    let Some(event_type) = req.body["event_type"].as_str() else {
        return reply(
            422,
            json!({"message": "Validation Failed", "errors": [{"resource": "Repository", "field": "event_type", "code": "missing_field"}], "documentation_url": "https://docs.github.com/rest", "status": "422"}),
        );
    };
    if event_type.is_empty() || event_type.len() > 100 {
        return error(422, "Validation Failed");
    }
    s.next_id += 1;
    let id = s.next_id;
    s.runs.push(RunSim {
        id,
        workflow: 0,
        event: "repository_dispatch".into(),
        branch: "main".into(),
        created_at: iso(now_epoch()),
        outcome: "success".into(),
        reads: 0,
    });
    reply(204, Value::Null)
}

fn list_runs(s: &State, req: &Request, workflow: Option<usize>, base: &str) -> Reply {
    let q = &req.query;
    let since = q
        .get("created")
        .and_then(|c| c.strip_prefix(">="))
        .map(str::to_string);
    let mut runs: Vec<&RunSim> = s
        .runs
        .iter()
        .filter(|r| workflow.is_none_or(|w| r.workflow == w))
        .filter(|r| q.get("event").is_none_or(|e| &r.event == e))
        .filter(|r| q.get("branch").is_none_or(|b| &r.branch == b))
        .filter(|r| since.as_ref().is_none_or(|t| r.created_at >= *t))
        .collect();
    runs.sort_by(|a, b| (&b.created_at, b.id).cmp(&(&a.created_at, a.id)));
    let runs: Vec<Value> = runs.iter().map(|r| run_json(r, base)).collect();
    reply(
        200,
        json!({"total_count": runs.len(), "workflow_runs": runs}),
    )
}

/// Phase of a run from the times it was read: 1st read queued; then one job at a time.
/// A status and its conclusion once completed.
type Phase = (String, Option<String>);

/// The run's phase and its jobs' phases.
fn progress(run: &RunSim) -> (String, Option<String>, Vec<Phase>) {
    let w = &WORKFLOWS[run.workflow];
    let n = w.jobs.len();
    let step = if w.never_ends {
        run.reads.min(2)
    } else {
        run.reads
    };
    let jobs: Vec<Phase> = (0..n)
        .map(|i| {
            // Job i runs during step i + 2 and is done after it.
            if step < i + 2 {
                ("queued".to_string(), None)
            } else if step == i + 2 {
                ("in_progress".to_string(), None)
            } else {
                let c = if i + 1 == n {
                    run.outcome.clone()
                } else {
                    "success".into()
                };
                ("completed".to_string(), Some(c))
            }
        })
        .collect();
    if step <= 1 {
        ("queued".into(), None, jobs)
    } else if step < n + 2 {
        ("in_progress".into(), None, jobs)
    } else {
        ("completed".into(), Some(run.outcome.clone()), jobs)
    }
}

fn run_json(run: &RunSim, base: &str) -> Value {
    let w = &WORKFLOWS[run.workflow];
    let (status, conclusion, _) = progress(run);
    let api = format!("{base}/repos/{REPO}/actions/runs/{}", run.id);
    json!({
        "id": run.id, "name": w.name, "node_id": "MDEyOldvcmtmbG93IFJ1bjI2OTI4OQ==",
        "check_suite_id": 42, "head_branch": run.branch, "head_sha": SHA,
        "path": format!(".github/workflows/{}@{}", w.file, run.branch),
        "run_number": run.id - 30_433_000, "event": run.event, "display_title": w.name,
        "status": status, "conclusion": conclusion, "workflow_id": w.id,
        "url": api, "html_url": format!("https://github.com/{REPO}/actions/runs/{}", run.id),
        "pull_requests": [], "created_at": run.created_at, "updated_at": run.created_at,
        "actor": {"login": "octocat", "id": 1, "type": "User", "site_admin": false},
        "run_attempt": 1, "run_started_at": run.created_at,
        "jobs_url": format!("{api}/jobs"), "logs_url": format!("{api}/logs"),
        "workflow_url": format!("{base}/repos/{REPO}/actions/workflows/{}", w.id),
        "head_commit": {"id": SHA, "tree_id": SHA, "message": "Deploy", "timestamp": run.created_at,
            "author": {"name": "Octo Cat", "email": "octocat@github.com"},
            "committer": {"name": "GitHub", "email": "noreply@github.com"}},
        "repository": {"id": 1_296_269, "name": "octo-repo", "full_name": REPO,
            "url": format!("{base}/repos/{REPO}")},
    })
}

fn jobs_json(run: &RunSim, base: &str) -> Vec<Value> {
    let w = &WORKFLOWS[run.workflow];
    let (_, _, jobs) = progress(run);
    jobs.into_iter()
        .enumerate()
        .map(|(i, (status, conclusion))| {
            let id = run.id * 10 + i as u64;
            let started = (status != "queued").then(|| run.created_at.clone());
            let completed = conclusion.as_ref().map(|_| run.created_at.clone());
            json!({
                "id": id, "run_id": run.id,
                "run_url": format!("{base}/repos/{REPO}/actions/runs/{}", run.id),
                "node_id": "MDEyOldvcmtmbG93IEpvYjM5OTQ0NDQ5Ng==", "head_sha": SHA,
                "url": format!("{base}/repos/{REPO}/actions/jobs/{id}"),
                "html_url": format!("https://github.com/{REPO}/actions/runs/{}/job/{id}", run.id),
                "status": status, "conclusion": conclusion,
                "created_at": run.created_at, "started_at": started, "completed_at": completed,
                "name": w.jobs[i], "steps": [], "labels": ["ubuntu-latest"],
                "runner_id": null, "runner_name": null, "run_attempt": 1,
                "workflow_name": w.name, "head_branch": run.branch,
            })
        })
        .collect()
}
