//! Several services deployed together (`ecs deploy` with several `--service`): which names
//! make a fan-out, the order that makes one verdict of many, and the one report that shows
//! them. Each service keeps its own [`DeployReport`] (plan, verdict, rollback, failure report);
//! this composes them.

use serde::Serialize;
use serde_json::json;

use super::plan::short_arn;
use super::report::{DeployReport, ECS_DEPLOY_OUTPUTS, render_failure_text, render_markdown};
use crate::report::{Details, Outputs, Report, escape_md, icon};
use crate::verdict::Verdict;

/// Outputs of `ecs deploy`: the one-service outputs, and `services`, the JSON list of every
/// service's result (written by a fan-out only). actions/ecs-deploy mirrors them.
pub const ECS_FANOUT_OUTPUTS: &[&str] = &[
    "verdict",
    "exit-code",
    "task-definition-arn",
    "previous-task-definition-arn",
    "deployment-id",
    "failure-report",
    "plan",
    "services",
];

// The one-service outputs are the fan-out's first ones, in order: an action declares the
// fan-out's list and gets every output of a one-service deploy.
const _: () = {
    let mut i = 0;
    while i < ECS_DEPLOY_OUTPUTS.len() {
        assert!(const_eq(ECS_DEPLOY_OUTPUTS[i], ECS_FANOUT_OUTPUTS[i]));
        i += 1;
    }
};

const fn const_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Why a list of services is not a fan-out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FanoutError {
    /// The same service twice.
    #[error("service `{0}` is given more than once")]
    Repeated(String),
}

impl FanoutError {
    /// How to fix it.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Repeated(_) => Some("name each service once in `--service`".into()),
        }
    }
}

/// The name of a service given as a name or an ARN (`arn:...:service/CLUSTER/NAME`, or the
/// old `arn:...:service/NAME`).
pub fn service_name(service: &str) -> &str {
    if service.starts_with("arn:") {
        short_arn(service)
    } else {
        service
    }
}

/// Checks the services of a fan-out: each one once (by name, whether given as a name or an
/// ARN).
pub fn check_services(services: &[&str]) -> Result<(), FanoutError> {
    for (i, s) in services.iter().enumerate() {
        if services[..i]
            .iter()
            .any(|earlier| service_name(earlier) == service_name(s))
        {
            return Err(FanoutError::Repeated(service_name(s).to_string()));
        }
    }
    Ok(())
}

/// The verdicts from the worst to the best: the composite verdict of a fan-out is the one of
/// its services that comes first here, and its exit code that verdict's. The order is "how
/// far from known and safe": a failed rollback (a service may serve nothing good) first; then
/// a failure left in place, an error (deckhand lost track), a deployment someone else replaced;
/// then deployments still in progress and not judged (timed out, cancelled; `ecs wait`
/// resumes them); then rolled back (red, but verified back on the previous revision); bad input
/// (nothing changed anywhere); and the green ones, a change before no change.
pub const SEVERITY: [Verdict; 13] = [
    Verdict::RollbackFailed,
    Verdict::Failed,
    // `ecs run`'s; a deploy never ends with it, but the order covers every verdict.
    Verdict::NotStarted,
    Verdict::Error,
    Verdict::Superseded,
    Verdict::TimedOut,
    Verdict::Cancelled,
    Verdict::RolledBack,
    Verdict::InvalidInput,
    Verdict::Succeeded,
    Verdict::DryRun,
    Verdict::NoChange,
    Verdict::Dispatched,
];

fn rank(v: Verdict) -> usize {
    SEVERITY
        .iter()
        .position(|s| *s == v)
        .expect("BUG: every verdict is ranked")
}

/// The worst of `verdicts` by [`SEVERITY`]; `no-change` for none.
pub fn worst(verdicts: impl IntoIterator<Item = Verdict>) -> Verdict {
    verdicts
        .into_iter()
        .min_by_key(|v| rank(*v))
        .unwrap_or(Verdict::NoChange)
}

/// Whether a service's verdict makes `--rollback all` roll back the others: it did not end
/// green and was not merely cancelled (a cancelled job starts nothing more).
pub fn triggers_rollback_all(verdict: Verdict) -> bool {
    !verdict.is_ok() && verdict != Verdict::Cancelled && verdict != Verdict::InvalidInput
}

/// One report for the services of a fan-out.
#[derive(Debug, Clone, Serialize)]
pub struct FanoutReport {
    /// The cluster.
    pub cluster: String,
    /// Task definitions registered, once each, for the services that deploy them.
    pub registered_task_definitions: Vec<String>,
    /// Each service's own result, in the order the services were given.
    pub services: Vec<Report<DeployReport>>,
}

impl FanoutReport {
    /// A fan-out over `services` of `cluster` that has learned nothing yet.
    pub fn new(cluster: &str, services: Vec<Report<DeployReport>>) -> Self {
        Self {
            cluster: cluster.to_string(),
            registered_task_definitions: Vec::new(),
            services,
        }
    }

    /// The composite verdict and its headline: the worst verdict, and which services ended
    /// how (the worst first).
    pub fn verdict(&self) -> (Verdict, String) {
        let verdict = worst(self.services.iter().map(|r| r.verdict));
        let mut groups: Vec<(Verdict, Vec<String>)> = Vec::new();
        for r in &self.services {
            let name = format!("`{}`", r.details.service);
            match groups.iter_mut().find(|(v, _)| *v == r.verdict) {
                Some((_, names)) => names.push(name),
                None => groups.push((r.verdict, vec![name])),
            }
        }
        groups.sort_by_key(|(v, _)| rank(*v));
        let parts: Vec<String> = groups
            .iter()
            .map(|(v, names)| format!("{} {v}", names.join(", ")))
            .collect();
        let headline = format!("{} services: {}", self.services.len(), parts.join("; "));
        (verdict, headline)
    }

    /// The plans as printed, one service after the other.
    pub fn plan_text(&self) -> String {
        self.services
            .iter()
            .map(|r| r.details.plan_text())
            .collect::<Vec<_>>()
            .join("")
    }

    /// Each service's result in brief, for the `services` output.
    pub fn services_json(&self) -> serde_json::Value {
        self.services
            .iter()
            .map(|r| {
                let d = &r.details;
                json!({
                    "service": d.service,
                    "verdict": r.verdict,
                    "exit_code": r.exit_code().code(),
                    "headline": r.headline,
                    "task_definition_arn": d.task_definition_arn,
                    "previous_task_definition_arn": d.previous_task_definition_arn,
                    "deployment_id": d.deployment_id,
                    "resume_command": d.resume_command,
                })
            })
            .collect()
    }
}

fn duration(seconds: f64) -> String {
    format!("{seconds:.1}s")
}

/// The table of a fan-out for the log: one line per service.
pub fn render_table_text(report: &FanoutReport) -> String {
    let rows: Vec<[String; 5]> = report
        .services
        .iter()
        .map(|r| {
            let d = &r.details;
            [
                d.service.clone(),
                r.verdict.to_string(),
                d.task_definition_arn
                    .as_deref()
                    .map_or("-".into(), |a| short_arn(a).to_string()),
                d.deployment_id.clone().unwrap_or_else(|| "-".into()),
                duration(r.elapsed_seconds),
            ]
        })
        .collect();
    let header = [
        "service",
        "verdict",
        "task definition",
        "deployment",
        "duration",
    ];
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::from("  ");
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<w$}  "));
            }
        }
        out.trim_end().to_string() + "\n"
    };
    let mut out = format!("services of cluster `{}`:\n", report.cluster);
    out.push_str(&line(header.to_vec()));
    for row in &rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

/// The Markdown step summary: one table of the services, then the report of each red one.
pub fn render_fanout_markdown(report: &Report<FanoutReport>) -> String {
    let d = &report.details;
    let mut out = format!(
        "### {} {} `{}`: {} services, {}\n\n{}\n\n",
        icon(report.verdict),
        report.command,
        d.cluster,
        d.services.len(),
        report.verdict,
        escape_md(&report.headline)
    );
    out.push_str("| service | verdict | task definition | deployment | duration |\n");
    out.push_str("|---|---|---|---|---|\n");
    for r in &d.services {
        let s = &r.details;
        let code = |v: Option<&str>| v.map_or("-".to_string(), |v| format!("`{v}`"));
        out.push_str(&format!(
            "| `{}` | {} {} | {} | {} | {} |\n",
            s.service,
            icon(r.verdict),
            r.verdict,
            code(s.task_definition_arn.as_deref().map(short_arn)),
            code(s.deployment_id.as_deref()),
            duration(r.elapsed_seconds)
        ));
    }
    for r in d.services.iter().filter(|r| !r.verdict.is_ok()) {
        out.push('\n');
        out.push_str(&render_markdown(r));
        if let Some(p) = &r.problem {
            out.push_str(&p.markdown());
        }
    }
    out
}

impl Details for FanoutReport {
    const OUTPUTS: &'static [&'static str] = ECS_FANOUT_OUTPUTS;

    fn subject(&self) -> String {
        let names: Vec<&str> = self
            .services
            .iter()
            .map(|r| r.details.service.as_str())
            .collect();
        format!("{}/{{{}}}", self.cluster, names.join(","))
    }

    fn outputs(report: &Report<Self>, outputs: &mut Outputs) {
        // The one-service outputs name one revision and one deployment: a fan-out has one per
        // service, in `services`.
        outputs.set("plan", report.details.plan_text());
        outputs.set("services", report.details.services_json().to_string());
    }

    fn summary(report: &Report<Self>) -> String {
        render_fanout_markdown(report)
    }

    fn failure_report(report: &Report<Self>) -> Option<String> {
        let red: Vec<String> = report
            .details
            .services
            .iter()
            .filter(|r| !r.verdict.is_ok() && r.verdict != Verdict::Cancelled)
            .map(|r| match &r.problem {
                Some(p) => format!(
                    "deploy of `{}` in cluster `{}`: {}\n",
                    r.details.service, r.details.cluster, p.message
                ),
                None => render_failure_text(r),
            })
            .collect();
        (!red.is_empty()).then(|| red.join("\n"))
    }

    fn hint(report: &Report<Self>) -> Option<String> {
        let resume: Vec<String> = report
            .details
            .services
            .iter()
            .filter_map(|r| r.details.resume_command.as_ref())
            .map(|c| format!("`{c}`"))
            .collect();
        (!resume.is_empty()).then(|| format!("resume watching with {}", resume.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(name: &str, verdict: Verdict, headline: &str) -> Report<DeployReport> {
        let mut r = Report::new("ecs deploy", DeployReport::new("prod", name));
        r.conclude(verdict, headline);
        r
    }

    /// The order is pinned: docs/ecs-deploy.md ("Several services") lists it.
    #[test]
    fn the_worst_verdict_decides_the_exit_code() {
        use Verdict::*;
        let cases: &[(&[Verdict], Verdict, u8)] = &[
            (&[Succeeded, RolledBack, Succeeded], RolledBack, 3),
            (&[RolledBack, Failed], Failed, 1),
            (&[RolledBack, RollbackFailed, Failed], RollbackFailed, 1),
            (&[Succeeded, TimedOut, RolledBack], TimedOut, 4),
            (&[Cancelled, RolledBack], Cancelled, 5),
            (&[Cancelled, TimedOut], TimedOut, 4),
            (&[Cancelled, Succeeded], Cancelled, 5),
            (&[Superseded, TimedOut], Superseded, 1),
            (&[Error, Superseded], Error, 1),
            (&[InvalidInput, DryRun], InvalidInput, 2),
            (&[NoChange, Succeeded], Succeeded, 0),
            (&[NoChange, NoChange], NoChange, 0),
            (&[DryRun, NoChange], DryRun, 0),
        ];
        for (verdicts, expected, code) in cases {
            let got = worst(verdicts.iter().copied());
            assert_eq!(
                (got, got.exit_code().code()),
                (*expected, *code),
                "{verdicts:?}"
            );
        }
        let mut ranked = SEVERITY.to_vec();
        ranked.sort_by_key(|v| v.as_str());
        let mut all = Verdict::ALL.to_vec();
        all.sort_by_key(|v| v.as_str());
        assert_eq!(ranked, all, "every verdict is ranked once");
    }

    #[test]
    fn a_service_is_named_once_whether_by_name_or_arn() {
        assert_eq!(check_services(&["web", "worker"]), Ok(()));
        assert_eq!(
            check_services(&["web", "arn:aws:ecs:us-east-1:1:service/prod/web"]),
            Err(FanoutError::Repeated("web".into()))
        );
    }

    #[test]
    fn only_a_red_verdict_that_was_judged_rolls_back_the_others() {
        use Verdict::*;
        let triggering: Vec<Verdict> = Verdict::ALL
            .into_iter()
            .filter(|v| triggers_rollback_all(*v))
            .collect();
        assert_eq!(
            triggering,
            [
                Failed,
                RolledBack,
                RollbackFailed,
                Superseded,
                TimedOut,
                NotStarted,
                Error
            ]
        );
    }

    fn composed() -> Report<FanoutReport> {
        let mut web = service(
            "web",
            Verdict::Succeeded,
            "deployment ecs-svc/1 of web:8 completed",
        );
        web.details.task_definition_arn =
            Some("arn:aws:ecs:us-east-1:1:task-definition/web:8".into());
        web.details.deployment_id = Some("ecs-svc/1".into());
        web.elapsed_seconds = 8.25;
        let mut worker = service("worker", Verdict::NoChange, "service already runs web:8");
        worker.details.task_definition_arn =
            Some("arn:aws:ecs:us-east-1:1:task-definition/web:8".into());
        worker.elapsed_seconds = 0.4;
        let mut jobs = service(
            "jobs",
            Verdict::RolledBack,
            "deployment ecs-svc/2 of jobs:4 failed: 3 tasks failed; rolled back",
        );
        jobs.details.task_definition_arn =
            Some("arn:aws:ecs:us-east-1:1:task-definition/jobs:4".into());
        jobs.details.deployment_id = Some("ecs-svc/2".into());
        jobs.elapsed_seconds = 12.0;
        let details = FanoutReport::new("prod", vec![web, worker, jobs]);
        let (verdict, headline) = details.verdict();
        let mut r = Report::new("ecs deploy", details);
        r.conclude(verdict, headline);
        r
    }

    #[test]
    fn one_table_and_the_worst_verdict() {
        let r = composed();
        assert_eq!(r.verdict, Verdict::RolledBack);
        assert_eq!(
            r.headline,
            "3 services: `jobs` rolled-back; `web` succeeded; `worker` no-change"
        );
        insta::assert_snapshot!(render_table_text(&r.details), @r"
        services of cluster `prod`:
          service  verdict      task definition  deployment  duration
          web      succeeded    web:8            ecs-svc/1   8.2s
          worker   no-change    web:8            -           0.4s
          jobs     rolled-back  jobs:4           ecs-svc/2   12.0s
        ");
        insta::assert_snapshot!(render_fanout_markdown(&r));
        let outputs = r.outputs();
        assert_eq!(outputs.get("verdict"), Some("rolled-back"));
        assert_eq!(outputs.get("exit-code"), Some("3"));
        assert_eq!(outputs.get("task-definition-arn"), Some(""));
        let services: serde_json::Value =
            serde_json::from_str(outputs.get("services").unwrap()).unwrap();
        assert_eq!(services[2]["service"], "jobs");
        assert_eq!(services[2]["exit_code"], 3);
        assert!(
            outputs
                .get("failure-report")
                .unwrap()
                .starts_with("deploy of `jobs` in cluster `prod`:")
        );
    }
}
