//! Post-deploy verification: after ECS says a deployment COMPLETED, is the new revision really
//! serving? (a) Every task of the deployment is `healthy` in every target group of the service
//! (elbv2 DescribeTargetHealth) within a grace period; (b) with a URL, it answers as expected
//! several times in a row. The adapters poll; the decisions are here.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::duration::humanize;
use crate::oci::smoke::StatusMatch;

/// What to verify, parsed from the flags.
#[derive(Debug, Clone)]
pub struct VerifySpec {
    /// How long the new tasks have to become healthy in their target groups.
    pub target_health_grace: Duration,
    /// The URL check, when asked for.
    pub url: Option<UrlCheck>,
}

/// `--verify-url` and its expectations.
#[derive(Debug, Clone)]
pub struct UrlCheck {
    /// The URL asked with GET.
    pub url: String,
    /// The statuses that pass.
    pub status: StatusMatch,
    /// A regex the body must match.
    pub body: Option<regex_lite::Regex>,
    /// Consecutive passing answers needed.
    pub successes: u32,
    /// How long to keep asking.
    pub timeout: Duration,
}

/// Bad verification flags (exit 2, nothing changed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct VerifyInputError {
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

impl UrlCheck {
    /// Parses the URL check's flags.
    pub fn parse(
        url: &str,
        status: &str,
        body: Option<&str>,
        successes: u32,
        timeout: Duration,
    ) -> Result<Self, VerifyInputError> {
        let url = url.trim();
        if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() < 8 {
            return Err(VerifyInputError {
                message: format!("`--verify-url {url}` is not an http:// or https:// URL"),
                hint: "for example `--verify-url https://example.com/health`".into(),
            });
        }
        let status = StatusMatch::parse(status).map_err(|e| VerifyInputError {
            // The parser is shared with the smoke run, which names its own flag.
            message: e.replace("--smoke-status", "--verify-status"),
            hint: "for example `--verify-status 2xx` or `--verify-status 200,301`".into(),
        })?;
        let body =
            match body.map(str::trim).filter(|b| !b.is_empty()) {
                None => None,
                Some(text) => Some(regex_lite::Regex::new(text).map_err(|e| {
                    VerifyInputError {
                message: format!("`--verify-body {text}` is not a valid regex: {e}"),
                hint: "the syntax is Rust's regex (`regex-lite`), e.g. `\"status\":\\s*\"ok\"`"
                    .into(),
            }
                })?),
            };
        if successes == 0 {
            return Err(VerifyInputError {
                message: "`--verify-successes` must be at least 1".into(),
                hint: "for example `--verify-successes 3`".into(),
            });
        }
        if timeout.is_zero() {
            return Err(VerifyInputError {
                message: "`--verify-timeout` must be more than 0".into(),
                hint: "for example `--verify-timeout 2m`".into(),
            });
        }
        Ok(Self {
            url: url.to_string(),
            status,
            body,
            successes,
            timeout,
        })
    }
}

// ------------------------------------------------------------------------ (a) target health

/// One `loadBalancers[]` entry of a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadBalancerBinding {
    /// The target group; `None` for a Classic Load Balancer (not verified).
    pub target_group_arn: Option<String>,
    /// The container registered.
    pub container_name: Option<String>,
    /// Its port: the target's port for `ip` targets.
    pub container_port: Option<i32>,
}

/// A running task of the verified deployment and its private address (awsvpc).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskAddress {
    /// Task id.
    pub task_id: String,
    /// Private IPv4 address; `None` when ECS shows none (not awsvpc).
    pub ip: Option<String>,
}

/// One entry of DescribeTargetHealth.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetHealthEntry {
    /// Target id: an IP address, or an instance id.
    pub id: String,
    /// Target port.
    pub port: Option<i32>,
    /// `initial`, `healthy`, `unhealthy`, `unused`, `draining`, `unavailable`, ...
    pub state: String,
    /// `Target.ResponseCodeMismatch`, ...
    pub reason: Option<String>,
    /// ELB's explanation.
    pub description: Option<String>,
}

/// The health of one task in one target group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetCheck {
    /// Target group ARN.
    pub target_group: String,
    /// Task id.
    pub task_id: String,
    /// `IP:PORT`, when known.
    pub target: Option<String>,
    /// The target's state, or `not registered`.
    pub state: String,
    /// ELB's reason code.
    pub reason: Option<String>,
    /// ELB's explanation.
    pub description: Option<String>,
}

impl TargetCheck {
    /// True when the target is `healthy`.
    pub fn is_healthy(&self) -> bool {
        self.state == "healthy"
    }

    fn sentence(&self) -> String {
        let why = match (&self.reason, &self.description) {
            (Some(r), Some(d)) => format!(" ({r}: {d})"),
            (Some(r), None) => format!(" ({r})"),
            (None, Some(d)) => format!(" ({d})"),
            (None, None) => String::new(),
        };
        format!(
            "task {} ({}) in {}: {}{why}",
            self.task_id,
            self.target.as_deref().unwrap_or("no private IP"),
            short_target_group(&self.target_group),
            self.state
        )
    }
}

/// `targetgroup/NAME/ID` -> `NAME`.
pub fn short_target_group(arn: &str) -> &str {
    arn.split(":targetgroup/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or(arn)
}

/// The target groups verification reads: those of the service's load balancers (Classic Load
/// Balancers have none and are not verified), once each. None for a service deployed with
/// `BLUE_GREEN`, `CANARY` or `LINEAR` (`strategy`): ECS registers the new revision in the
/// binding's alternate target group and swaps them, so "healthy in `targetGroupArn`" is not the
/// question, and ECS itself shifts traffic only to a revision that passed the health checks.
pub fn target_groups<'a>(
    bindings: &'a [LoadBalancerBinding],
    strategy: Option<&str>,
) -> Vec<&'a LoadBalancerBinding> {
    if !matches!(strategy, None | Some("ROLLING")) {
        return Vec::new();
    }
    let mut seen: Vec<&LoadBalancerBinding> = Vec::new();
    for b in bindings.iter().filter(|b| b.target_group_arn.is_some()) {
        if !seen.iter().any(|s| s == &b) {
            seen.push(b);
        }
    }
    seen
}

/// The health of every task of the deployment in every target group: a task is matched to the
/// target whose id is its IP and whose port is the container port.
pub fn check_targets(
    groups: &[(&LoadBalancerBinding, Vec<TargetHealthEntry>)],
    tasks: &[TaskAddress],
) -> Vec<TargetCheck> {
    let mut checks = Vec::new();
    for (binding, entries) in groups {
        let arn = binding.target_group_arn.clone().unwrap_or_default();
        for task in tasks {
            let found = task.ip.as_ref().and_then(|ip| {
                entries.iter().find(|e| {
                    &e.id == ip
                        && (binding.container_port.is_none()
                            || e.port.is_none()
                            || e.port == binding.container_port)
                })
            });
            let target = task.ip.as_ref().map(|ip| match binding.container_port {
                Some(p) => format!("{ip}:{p}"),
                None => ip.clone(),
            });
            checks.push(match found {
                Some(e) => TargetCheck {
                    target_group: arn.clone(),
                    task_id: task.task_id.clone(),
                    target,
                    state: e.state.clone(),
                    reason: e.reason.clone(),
                    description: e.description.clone(),
                },
                None => TargetCheck {
                    target_group: arn.clone(),
                    task_id: task.task_id.clone(),
                    target,
                    state: "not registered".into(),
                    reason: None,
                    description: None,
                },
            });
        }
    }
    checks
}

/// What the target health check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetHealthReport {
    /// The grace period, as given.
    pub grace: String,
    /// Every task in every target group, as last read.
    pub checks: Vec<TargetCheck>,
    /// Every check healthy.
    pub passed: bool,
}

impl TargetHealthReport {
    /// The judgement of the last read `checks` (the grace period has passed unless they are
    /// all healthy).
    pub fn judge(grace: Duration, checks: Vec<TargetCheck>) -> Self {
        let passed = checks.iter().all(TargetCheck::is_healthy);
        Self {
            grace: humanize(grace),
            checks,
            passed,
        }
    }

    /// The checks that are not healthy.
    pub fn not_healthy(&self) -> impl Iterator<Item = &TargetCheck> {
        self.checks.iter().filter(|c| !c.is_healthy())
    }

    /// Why it failed, in one sentence.
    pub fn problem(&self) -> Option<String> {
        let bad: Vec<String> = self.not_healthy().map(TargetCheck::sentence).collect();
        (!bad.is_empty()).then(|| {
            format!(
                "{} of {} targets not healthy after {}: {}",
                bad.len(),
                self.checks.len(),
                self.grace,
                bad.join("; ")
            )
        })
    }
}

// ------------------------------------------------------------------------ (b) the URL

/// One answer of the URL (or why there was none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrlAnswer {
    /// Status code; `None` when the request failed.
    pub status: Option<u16>,
    /// The start of the body.
    pub body: String,
    /// The transport error, when the request failed.
    pub error: Option<String>,
}

/// How much of a body `--verify-body` is matched against (the probe reads no more).
pub const BODY_JUDGED: usize = 64 * 1024;
/// How much of a body a report keeps.
pub const BODY_SHOWN: usize = 200;
/// How many answers a report keeps (the last ones).
const ANSWERS_KEPT: usize = 5;

impl UrlAnswer {
    /// An answer.
    pub fn answered(status: u16, body: &str) -> Self {
        Self {
            status: Some(status),
            body: body.to_string(),
            error: None,
        }
    }

    /// A request that got no answer.
    pub fn failed(error: impl Into<String>) -> Self {
        Self {
            status: None,
            body: String::new(),
            error: Some(error.into()),
        }
    }

    fn sentence(&self) -> String {
        match (self.status, &self.error) {
            (Some(s), _) => format!("{s} {:?}", self.body.trim()),
            (None, Some(e)) => format!("no answer: {e}"),
            (None, None) => "no answer".into(),
        }
    }
}

/// Why `answer` does not pass `check`, or `None` when it does.
pub fn judge_answer(check: &UrlCheck, answer: &UrlAnswer) -> Option<String> {
    let Some(status) = answer.status else {
        return Some(answer.sentence());
    };
    if !check.status.accepts(status) {
        return Some(format!("answered {status} (expected {})", check.status));
    }
    if let Some(re) = &check.body
        && !re.is_match(&answer.body)
    {
        let shown: String = answer.body.trim().chars().take(120).collect();
        return Some(format!(
            "answered {status} but the body does not match `{}`: {shown:?}",
            re.as_str()
        ));
    }
    None
}

/// The URL check's progress and result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrlReport {
    /// The URL.
    pub url: String,
    /// The statuses that pass.
    pub expected_status: String,
    /// The regex the body must match.
    pub expected_body: Option<String>,
    /// Consecutive passing answers needed.
    pub successes_needed: u32,
    /// Consecutive passing answers so far.
    pub consecutive: u32,
    /// Requests made.
    pub requests: u32,
    /// The last answers, oldest first.
    pub last_answers: Vec<UrlAnswer>,
    /// Why the last failing answer failed.
    pub last_failure: Option<String>,
    /// Enough consecutive passing answers.
    pub passed: bool,
}

impl UrlReport {
    /// A check that has asked nothing yet.
    pub fn new(check: &UrlCheck) -> Self {
        Self {
            url: check.url.clone(),
            expected_status: check.status.to_string(),
            expected_body: check.body.as_ref().map(|r| r.as_str().to_string()),
            successes_needed: check.successes,
            consecutive: 0,
            requests: 0,
            last_answers: Vec::new(),
            last_failure: None,
            passed: false,
        }
    }

    /// Counts one answer; true once enough consecutive answers passed.
    pub fn observe(&mut self, check: &UrlCheck, answer: UrlAnswer) -> bool {
        self.requests += 1;
        match judge_answer(check, &answer) {
            None => self.consecutive += 1,
            Some(why) => {
                self.consecutive = 0;
                self.last_failure = Some(why);
            }
        }
        // Judged on the whole body read; kept as much as a report shows.
        self.last_answers.push(UrlAnswer {
            body: answer.body.chars().take(BODY_SHOWN).collect(),
            ..answer
        });
        let drop = self.last_answers.len().saturating_sub(ANSWERS_KEPT);
        self.last_answers.drain(..drop);
        self.passed = self.consecutive >= self.successes_needed;
        self.passed
    }

    /// Why it failed (the timeout passed without enough consecutive passing answers).
    pub fn problem(&self, timeout: Duration) -> Option<String> {
        (!self.passed).then(|| {
            format!(
                "`{}` did not answer as expected {} times in a row within {} ({} requests; last: {})",
                self.url,
                self.successes_needed,
                humanize(timeout),
                self.requests,
                self.last_failure.as_deref().unwrap_or("no answer yet")
            )
        })
    }
}

// ------------------------------------------------------------------------ the report

/// Which deployment a verification is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VerifiedDeployment {
    /// The deploy's own deployment.
    Deploy,
    /// deckhand's rollback after a failed deploy.
    Rollback,
}

/// One post-deploy verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationReport {
    /// Of the deploy or of its rollback.
    pub of: VerifiedDeployment,
    /// The deployment verified.
    pub deployment_id: String,
    /// Its task definition.
    pub task_definition: String,
    /// Target health, when the service has target groups.
    pub target_health: Option<TargetHealthReport>,
    /// The URL check, when asked for.
    pub url: Option<UrlReport>,
    /// Everything passed.
    pub passed: bool,
    /// Why not, in one sentence.
    pub problem: Option<String>,
}

/// The one-sentence reason of a failed verification, as the deploy's failure reason.
pub fn failure_reason(report: &VerificationReport) -> String {
    format!(
        "ECS completed the rollout but its verification failed: {}",
        report.problem.as_deref().unwrap_or("unknown")
    )
}

/// The verification section of the failure report (log).
pub fn render_text(report: &VerificationReport) -> String {
    let mut out = format!(
        "\nverification of {} deployment {} ({}): {}\n",
        match report.of {
            VerifiedDeployment::Deploy => "the",
            VerifiedDeployment::Rollback => "the rollback",
        },
        report.deployment_id,
        crate::ecs::plan::short_arn(&report.task_definition),
        if report.passed { "passed" } else { "FAILED" }
    );
    if let Some(t) = &report.target_health {
        out.push_str(&format!("  target health (grace {}):\n", t.grace));
        for c in &t.checks {
            out.push_str(&format!("    {}\n", c.sentence()));
        }
    }
    if let Some(u) = &report.url {
        out.push_str(&format!(
            "  {}: {}/{} consecutive answers as expected (status {}{}), {} requests\n",
            u.url,
            u.consecutive.min(u.successes_needed),
            u.successes_needed,
            u.expected_status,
            u.expected_body
                .as_ref()
                .map(|b| format!(", body `{b}`"))
                .unwrap_or_default(),
            u.requests
        ));
        for a in &u.last_answers {
            out.push_str(&format!("    {}\n", a.sentence()));
        }
    }
    out
}

/// The verification section of the step summary (Markdown).
pub fn render_markdown(report: &VerificationReport) -> String {
    use crate::report::escape_md;
    let mut out = format!(
        "\n**Verification** of {} deployment `{}`: {}\n\n",
        match report.of {
            VerifiedDeployment::Deploy => "the",
            VerifiedDeployment::Rollback => "the rollback",
        },
        report.deployment_id,
        if report.passed { "passed" } else { "failed" }
    );
    if let Some(t) = &report.target_health {
        out.push_str(
            "| target group | task | target | state | reason |\n| --- | --- | --- | --- | --- |\n",
        );
        for c in &t.checks {
            out.push_str(&format!(
                "| {} | `{}` | {} | {} | {} |\n",
                escape_md(short_target_group(&c.target_group)),
                c.task_id,
                c.target.as_deref().unwrap_or("-"),
                c.state,
                escape_md(
                    &[c.reason.as_deref(), c.description.as_deref()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(": ")
                )
            ));
        }
    }
    if let Some(u) = &report.url {
        out.push_str(&format!(
            "\n`{}`: {}/{} consecutive answers as expected, {} requests",
            u.url,
            u.consecutive.min(u.successes_needed),
            u.successes_needed,
            u.requests
        ));
        if let Some(f) = &u.last_failure {
            out.push_str(&format!("; last failure: {}", escape_md(f)));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TG: &str =
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-tg/50dc6c495c0c9188";

    fn binding(port: i32) -> LoadBalancerBinding {
        LoadBalancerBinding {
            target_group_arn: Some(TG.into()),
            container_name: Some("app".into()),
            container_port: Some(port),
        }
    }

    fn entry(ip: &str, port: i32, state: &str, reason: Option<&str>) -> TargetHealthEntry {
        TargetHealthEntry {
            id: ip.into(),
            port: Some(port),
            state: state.into(),
            reason: reason.map(str::to_string),
            description: reason.map(|_| "Health checks failed with these codes: [500]".into()),
        }
    }

    fn task(id: &str, ip: &str) -> TaskAddress {
        TaskAddress {
            task_id: id.into(),
            ip: Some(ip.into()),
        }
    }

    #[test]
    fn every_task_must_be_healthy_on_its_port() {
        let b = binding(8080);
        let tasks = [
            task("a", "10.0.0.2"),
            task("b", "10.0.0.3"),
            task("c", "10.0.0.4"),
        ];
        let entries = vec![
            entry("10.0.0.2", 8080, "healthy", None),
            entry(
                "10.0.0.3",
                8080,
                "unhealthy",
                Some("Target.ResponseCodeMismatch"),
            ),
            // Right IP, wrong port: another container's target, not this task's.
            entry("10.0.0.4", 9090, "healthy", None),
        ];
        let report = TargetHealthReport::judge(
            Duration::from_secs(30),
            check_targets(&[(&b, entries)], &tasks),
        );
        assert!(!report.passed);
        let states: Vec<&str> = report.checks.iter().map(|c| c.state.as_str()).collect();
        assert_eq!(states, ["healthy", "unhealthy", "not registered"]);
        assert_eq!(
            report.problem().unwrap(),
            "2 of 3 targets not healthy after 30s: task b (10.0.0.3:8080) in web-tg: unhealthy \
             (Target.ResponseCodeMismatch: Health checks failed with these codes: [500]); \
             task c (10.0.0.4:8080) in web-tg: not registered"
        );
    }

    #[test]
    fn all_healthy_passes_and_no_tasks_passes() {
        let b = binding(80);
        let tasks = [task("a", "10.0.0.2")];
        let ok = check_targets(
            &[(&b, vec![entry("10.0.0.2", 80, "healthy", None)])],
            &tasks,
        );
        assert!(TargetHealthReport::judge(Duration::from_secs(1), ok).passed);
        assert!(TargetHealthReport::judge(Duration::from_secs(1), Vec::new()).passed);
    }

    #[test]
    fn classic_load_balancers_and_duplicates_are_not_read_twice() {
        let classic = LoadBalancerBinding {
            target_group_arn: None,
            container_name: Some("app".into()),
            container_port: Some(80),
        };
        let b = binding(80);
        let all = [classic, b.clone(), b.clone()];
        assert_eq!(target_groups(&all, None), vec![&b]);
        assert_eq!(target_groups(&all, Some("ROLLING")), vec![&b]);
        for other in ["BLUE_GREEN", "CANARY", "LINEAR"] {
            assert!(target_groups(&all, Some(other)).is_empty(), "{other}");
        }
        assert_eq!(short_target_group(TG), "web-tg");
        assert_eq!(short_target_group("other"), "other");
    }

    fn check(status: &str, body: Option<&str>, successes: u32) -> UrlCheck {
        UrlCheck::parse(
            "http://127.0.0.1:1/app",
            status,
            body,
            successes,
            Duration::from_secs(10),
        )
        .unwrap()
    }

    #[test]
    fn consecutive_successes_reset_on_a_bad_answer() {
        let c = check("2xx", Some("^web:2$"), 2);
        let mut r = UrlReport::new(&c);
        assert!(!r.observe(&c, UrlAnswer::answered(200, "web:2")));
        assert!(!r.observe(&c, UrlAnswer::answered(200, "web:1")));
        assert_eq!(r.consecutive, 0);
        assert_eq!(
            r.last_failure.as_deref(),
            Some("answered 200 but the body does not match `^web:2$`: \"web:1\"")
        );
        assert!(!r.observe(&c, UrlAnswer::failed("connection refused")));
        assert!(!r.observe(&c, UrlAnswer::answered(200, "web:2")));
        assert!(r.observe(&c, UrlAnswer::answered(204, "web:2")));
        assert!(r.passed);
        assert_eq!(r.requests, 5);
        assert_eq!(r.problem(Duration::from_secs(10)), None);
    }

    #[test]
    fn a_wrong_status_fails_and_says_so() {
        let c = check("200,301", None, 1);
        let mut r = UrlReport::new(&c);
        assert!(!r.observe(&c, UrlAnswer::answered(500, "boom")));
        assert_eq!(
            r.problem(Duration::from_secs(10)).unwrap(),
            "`http://127.0.0.1:1/app` did not answer as expected 1 times in a row within 10s (1 requests; last: answered 500 (expected 200,301))"
        );
    }

    /// The failure report and the step summary of a deploy whose new tasks were unhealthy in
    /// the target group and that deckhand rolled back.
    #[test]
    fn reports_name_the_unhealthy_targets_and_the_answers() {
        use crate::ecs::report::{
            DeployReport, RollbackBy, RollbackReport, render_failure_text, render_markdown,
        };
        use crate::report::Report;
        use crate::verdict::Verdict;

        let b = binding(8080);
        let tasks = [task("aaa", "10.0.0.7"), task("bbb", "10.0.0.8")];
        let entries = vec![
            entry("10.0.0.7", 8080, "healthy", None),
            entry(
                "10.0.0.8",
                8080,
                "unhealthy",
                Some("Target.ResponseCodeMismatch"),
            ),
        ];
        let targets = TargetHealthReport::judge(
            Duration::from_secs(20),
            check_targets(&[(&b, entries)], &tasks),
        );
        let c = check("2xx", Some("web:8"), 3);
        let mut url = UrlReport::new(&c);
        url.observe(&c, UrlAnswer::answered(200, "web:8\n"));
        url.observe(&c, UrlAnswer::answered(500, "oops\n"));
        let problem = targets.problem();
        let verification = VerificationReport {
            of: VerifiedDeployment::Deploy,
            deployment_id: "ecs-svc/2".into(),
            task_definition: "arn:aws:ecs:us-east-1:1:task-definition/web:8".into(),
            target_health: Some(targets),
            url: Some(url),
            passed: false,
            problem,
        };
        let rolled_back = VerificationReport {
            of: VerifiedDeployment::Rollback,
            deployment_id: "ecs-svc/3".into(),
            task_definition: "arn:aws:ecs:us-east-1:1:task-definition/web:7".into(),
            target_health: Some(TargetHealthReport::judge(
                Duration::from_secs(20),
                check_targets(
                    &[(&b, vec![entry("10.0.0.9", 8080, "healthy", None)])],
                    &[task("ccc", "10.0.0.9")],
                ),
            )),
            url: None,
            passed: true,
            problem: None,
        };
        let mut r = Report::new("ecs deploy", DeployReport::new("prod", "web"));
        r.details.deployment_id = Some("ecs-svc/2".into());
        r.details.rollback = Some(RollbackReport {
            by: RollbackBy::Deckhand,
            task_definition: "arn:aws:ecs:us-east-1:1:task-definition/web:7".into(),
            deployment_id: Some("ecs-svc/3".into()),
            completed: true,
            detail: None,
        });
        r.conclude(
            Verdict::RolledBack,
            format!(
                "deployment ecs-svc/2 of web:8 failed: {}",
                failure_reason(&verification)
            ),
        );
        r.details.verifications = vec![verification, rolled_back];
        insta::assert_snapshot!("verification_failure_text", render_failure_text(&r));
        insta::assert_snapshot!("verification_markdown", render_markdown(&r));
    }

    #[test]
    fn bad_flags_are_input_errors() {
        let t = Duration::from_secs(1);
        let e = UrlCheck::parse("http://x/", "2xx", None, 0, t).unwrap_err();
        assert_eq!(e.message, "`--verify-successes` must be at least 1");
        let e = UrlCheck::parse("http://x/", "2xx", Some("(unclosed"), 3, t).unwrap_err();
        assert!(
            e.message
                .starts_with("`--verify-body (unclosed` is not a valid regex")
        );
        let e = UrlCheck::parse("http://x/", "2xy", None, 3, t).unwrap_err();
        assert!(
            e.message.starts_with("`--verify-status 2xy`"),
            "{}",
            e.message
        );
        let e = UrlCheck::parse("ftp://x/", "2xx", None, 3, t).unwrap_err();
        assert!(e.message.contains("is not an http:// or https:// URL"));
        assert!(UrlCheck::parse("http://x/", "2xx", None, 3, Duration::ZERO).is_err());
    }
}
