//! Post-deploy verification, for `ecs deploy` and `ecs wait` once ECS says the followed
//! deployment COMPLETED, and for deckhand's rollback after a failed one: poll target health
//! (every task of the deployment in every target group of the service) until all are healthy
//! or the grace period ends, then the `--verify-url` until enough answers in a row pass or its
//! timeout ends. Core decides what passes (`deckhand_core::ecs::verify`); this only polls.

use std::time::{Duration, Instant};

use deckhand_aws::{AwsContext, EcsAdapter, Elbv2Adapter};
use deckhand_core::duration::parse_duration;
use deckhand_core::ecs::plan::short_arn;
use deckhand_core::ecs::verify::{
    TargetHealthReport, UrlCheck, UrlReport, VerificationReport, VerifiedDeployment, VerifySpec,
    check_targets, target_groups,
};
use deckhand_http::UrlProbe;

use crate::cancel;
use crate::cli::VerifyArgs;
use crate::error::{CommandError, Result};
use crate::printer::Printer;

/// Longest wait for one answer of the URL.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Parses the verification flags. Fails before any AWS call (exit 2).
pub(super) fn load_verify(args: &VerifyArgs) -> Result<VerifySpec> {
    let d = |flag: &str, v: &str| {
        parse_duration(v).map_err(|e| {
            CommandError::invalid(format!("`--{flag}`: {e}"))
                .hint(format!("a duration like `30s` or `5m`, e.g. `--{flag} 2m`"))
        })
    };
    let target_health_grace = d("verify-grace", &args.verify_grace)?;
    let timeout = d("verify-timeout", &args.verify_timeout)?;
    let url = match args.verify_url.as_deref().map(str::trim) {
        None | Some("") => {
            // Expectations without a URL would silently check nothing.
            if args
                .verify_body
                .as_deref()
                .is_some_and(|b| !b.trim().is_empty())
            {
                return Err(
                    CommandError::invalid("`--verify-body` needs `--verify-url`").hint(
                        "give the URL to ask, e.g. `--verify-url https://example.com/health`",
                    ),
                );
            }
            None
        }
        Some(url) => Some(
            UrlCheck::parse(
                url,
                &args.verify_status,
                args.verify_body.as_deref(),
                args.verify_successes,
                timeout,
            )
            .map_err(|e| CommandError::invalid(e.message).hint(e.hint))?,
        ),
    };
    if url.is_none() && args.verify_successes == 0 {
        return Err(
            CommandError::invalid("`--verify-successes` must be at least 1")
                .hint("for example `--verify-successes 3`"),
        );
    }
    Ok(VerifySpec {
        target_health_grace,
        url,
    })
}

/// What verifies a deployment, with the clients it polls.
pub(super) struct Verifier {
    spec: VerifySpec,
    elbv2: Elbv2Adapter,
    probe: Option<UrlProbe>,
}

impl Verifier {
    pub(super) fn new(ctx: &AwsContext, spec: VerifySpec) -> Result<Self> {
        let probe = match &spec.url {
            None => None,
            Some(u) => Some(
                UrlProbe::new(REQUEST_TIMEOUT.min(u.timeout))
                    .map_err(|e| CommandError::failed(e.to_string()))?,
            ),
        };
        Ok(Self {
            elbv2: Elbv2Adapter::new(ctx),
            spec,
            probe,
        })
    }

    /// Verifies deployment `deployment_id` of `td`, which ECS says COMPLETED: `None` when there
    /// is nothing to verify (no target groups, and no URL or a rollback, which is only checked
    /// for target health: the URL's expectations are the new revision's).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn verify(
        &self,
        ecs: &EcsAdapter,
        printer: &Printer,
        (cluster, service): (&str, &str),
        deployment_id: &str,
        td: &str,
        of: VerifiedDeployment,
        poll: Duration,
    ) -> Result<Option<VerificationReport>> {
        let (bindings, strategy) = ecs.service_load_balancers(cluster, service).await?;
        let groups = target_groups(&bindings, strategy.as_deref());
        let url = match of {
            VerifiedDeployment::Deploy => self.spec.url.as_ref().zip(self.probe.as_ref()),
            VerifiedDeployment::Rollback => None,
        };
        if groups.is_empty() && url.is_none() {
            return Ok(None);
        }
        printer.group(&format!(
            "deckhand: verification of deployment {deployment_id} ({})",
            short_arn(td)
        ));
        let mut report = VerificationReport {
            of,
            deployment_id: deployment_id.to_string(),
            task_definition: td.to_string(),
            target_health: None,
            url: None,
            passed: true,
            problem: None,
        };
        if !groups.is_empty() {
            let grace = self.spec.target_health_grace;
            let deadline = Instant::now() + grace;
            let targets = loop {
                let tasks = ecs
                    .deployment_task_addresses(cluster, service, deployment_id)
                    .await?;
                let mut read = Vec::with_capacity(groups.len());
                for g in &groups {
                    let arn = g.target_group_arn.as_deref().unwrap_or_default();
                    let entries = self.elbv2.target_health(arn).await.map_err(|e| {
                        let hint = e.hint();
                        CommandError::failed(e.to_string()).on(arn).hint_opt(hint)
                    })?;
                    read.push((*g, entries));
                }
                let judged = TargetHealthReport::judge(grace, check_targets(&read, &tasks));
                let healthy = judged.checks.iter().filter(|c| c.is_healthy()).count();
                printer.line(&format!(
                    "  target health: {healthy}/{} healthy ({} tasks, {} target groups)",
                    judged.checks.len(),
                    tasks.len(),
                    groups.len()
                ));
                if judged.passed || Instant::now() >= deadline {
                    break judged;
                }
                if !sleep(poll.min(deadline - Instant::now())).await {
                    break judged;
                }
            };
            report.passed &= targets.passed;
            report.problem = targets.problem();
            report.target_health = Some(targets);
        }
        if let Some((check, probe)) = url
            && report.passed
        {
            let mut answers = UrlReport::new(check);
            let deadline = Instant::now() + check.timeout;
            loop {
                let answer = probe.get(&check.url).await;
                let passed = answers.observe(check, answer);
                printer.line(&format!(
                    "  {}: {}/{} answers in a row as expected{}",
                    check.url,
                    answers.consecutive,
                    check.successes,
                    answers
                        .last_failure
                        .as_ref()
                        .filter(|_| answers.consecutive == 0)
                        .map(|f| format!(" (last: {f})"))
                        .unwrap_or_default()
                ));
                if passed || Instant::now() >= deadline {
                    break;
                }
                if !sleep(poll.min(deadline - Instant::now())).await {
                    break;
                }
            }
            report.passed &= answers.passed;
            report.problem = answers.problem(check.timeout);
            report.url = Some(answers);
        }
        if cancel::received().is_some() && !report.passed && report.problem.is_none() {
            report.problem = Some("the job was cancelled".into());
        }
        printer.line(&match &report.problem {
            None => format!("verification passed: {}", checked(&report)),
            Some(p) => format!("verification FAILED: {p}"),
        });
        printer.end_group();
        Ok(Some(report))
    }
}

/// What was checked, for the log.
fn checked(report: &VerificationReport) -> String {
    let what: Vec<&str> = [
        report
            .target_health
            .as_ref()
            .map(|_| "every task healthy in its target groups"),
        report.url.as_ref().map(|_| "the URL answered as expected"),
    ]
    .into_iter()
    .flatten()
    .collect();
    what.join(" and ")
}

/// Sleeps `d`; false when the job was cancelled meanwhile.
async fn sleep(d: Duration) -> bool {
    tokio::select! {
        biased;
        _ = cancel::requested() => false,
        () = tokio::time::sleep(d) => true,
    }
}
