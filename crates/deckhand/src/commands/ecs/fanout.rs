//! `ecs deploy` of several services (`--service` repeated): load once -> observe and plan every
//! service concurrently -> print each plan -> register each distinct task definition once ->
//! UpdateService for each -> follow every rollout concurrently, each to its own verdict and
//! rollback -> with `--rollback all`, roll back the services that changed when any failed ->
//! one composed report (core: `deckhand_core::ecs::fanout`). Each service goes through the
//! one-service steps ([`super::prepare`], [`follow`], [`roll_back`]) with a printer that
//! prefixes its lines with `[service]`.

use std::collections::BTreeMap;
use std::time::Instant;

use deckhand_aws::ecs::ServiceUpdate;
use deckhand_aws::{AwsContext, EcsAdapter};
use deckhand_core::deployment_record::RecordSpec;
use deckhand_core::ecs::fanout::{
    FanoutReport, check_services, render_table_text, triggers_rollback_all,
};
use deckhand_core::ecs::model::Deployment;
use deckhand_core::ecs::plan::{DeployPlan, DeploymentStep, short_arn};
use deckhand_core::ecs::report::{DeployReport, resume_command};
use deckhand_core::ecs::rollback::fallback_rollback_target;
use deckhand_core::ecs::taskdef::TaskDefSpec;
use deckhand_core::report::{Problem, Report};
use deckhand_core::verdict::Verdict;
use futures_util::future::join_all;

use super::follow::{Followed, follow};
use super::rollback::{last_good_or, roll_back};
use super::verify::{Verifier, load_verify};
use super::{DeployInputs, Observed, WatchTiming, aws, load_inputs, load_timing, secret_inputs};
use crate::cancel;
use crate::cli::{DeployArgs, DeployRollbackMode, EcsDeployArgs, TargetArgs};
use crate::commands::{aws_report, now_ms};
use crate::error::{CommandError, Result, fail};
use crate::github;
use crate::printer::Printer;
use deckhand_core::ecs::verify::VerifySpec;

/// `ecs deploy` with several services. A GitHub deployment record is made only when
/// `--environment` names the environment the services form together (docs/github.md).
pub(crate) async fn deploy_services(
    region: Option<String>,
    args: EcsDeployArgs,
    printer: &Printer,
) -> Report<FanoutReport> {
    let EcsDeployArgs {
        deploy: args,
        github,
    } = args;
    let names: Vec<String> = args
        .target
        .service_names()
        .into_iter()
        .map(str::to_string)
        .collect();
    let loaded = load(&args, &names);
    let will_deploy = !args.dry_run && loaded.is_ok() && github.environment.is_some();
    let spec = will_deploy.then(|| {
        RecordSpec::ecs_deploy_services(&args.target.cluster, &names, &args.target.images)
    });
    github::recorded(&github, spec, printer, async || {
        fan_out(region, &args, &names, loaded, printer).await
    })
    .await
}

/// The inputs, checked once for every service.
fn load(args: &DeployArgs, names: &[String]) -> Result<(DeployInputs, WatchTiming, VerifySpec)> {
    let t = &args.target;
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    check_services(&refs).map_err(|e| {
        CommandError::invalid(e.to_string())
            .on(t.cluster.clone())
            .hint_opt(e.hint())
    })?;
    if t.service_definition.is_some() {
        return Err(CommandError::invalid(format!(
            "`--service-definition` describes one service; {} services were given",
            names.len()
        ))
        .hint("deploy a service that has a service definition on its own"));
    }
    if t.keep_revisions.is_some() {
        // Each service's cleanup would be planned without the revisions the others are
        // about to leave or roll back to.
        return Err(CommandError::invalid(format!(
            "`--keep-revisions` deregisters revisions of one service's family; {} services were given",
            names.len()
        ))
        .hint("run the deploy without `--keep-revisions`, then one deploy of a service with it"));
    }
    let mut inputs = load_inputs(t)?;
    inputs.fan_out = true;
    Ok((
        inputs,
        load_timing(&args.watch)?,
        load_verify(&args.verify)?,
    ))
}

/// A one-service target for each service of the fan-out.
fn targets(t: &TargetArgs, names: &[String]) -> Vec<TargetArgs> {
    names
        .iter()
        .map(|n| TargetArgs {
            services: vec![n.clone()],
            ..t.clone()
        })
        .collect()
}

async fn fan_out(
    region: Option<String>,
    args: &DeployArgs,
    names: &[String],
    loaded: Result<(DeployInputs, WatchTiming, VerifySpec)>,
    printer: &Printer,
) -> Report<FanoutReport> {
    cancel::listen();
    let started = Instant::now();
    let targets = targets(&args.target, names);
    let services = targets
        .iter()
        .map(|t| Report::new("ecs deploy", DeployReport::new(&t.cluster, t.service())))
        .collect();
    let mut report = aws_report(
        "ecs deploy",
        FanoutReport::new(&args.target.cluster, services),
    );
    let setup = async {
        let (inputs, timing, verify) = loaded?;
        printer.mask(&secret_inputs(&inputs.patch));
        let (ctx, ecs) = aws(region).await?;
        let verifier = Verifier::new(&ctx, verify)?;
        Ok::<_, CommandError>((inputs, timing, verifier, ctx, ecs))
    };
    let (inputs, timing, verifier, ctx, ecs) = match setup.await {
        Ok(v) => v,
        Err(e) => {
            fail(&mut report, e);
            return report;
        }
    };
    let mut run = FanOut {
        ctx: &ctx,
        ecs: &ecs,
        args,
        inputs: &inputs,
        timing: &timing,
        verifier: &verifier,
        printer,
        targets: &targets,
        started,
    };
    match run.apply(&mut report.details).await {
        Ok(()) => {
            let (verdict, headline) = report.details.verdict();
            report.conclude(verdict, headline);
        }
        Err(e) => fail(&mut report, e),
    }
    printer.block(&render_table_text(&report.details));
    report.api_calls = Some(ctx.calls.snapshot());
    report
}

/// One service's plan and what it was planned from.
struct Planned {
    plan: DeployPlan,
    observed: Observed,
    desired: TaskDefSpec,
}

struct FanOut<'a> {
    ctx: &'a AwsContext,
    ecs: &'a EcsAdapter,
    args: &'a DeployArgs,
    inputs: &'a DeployInputs,
    timing: &'a WatchTiming,
    verifier: &'a Verifier,
    printer: &'a Printer,
    targets: &'a [TargetArgs],
    started: Instant,
}

impl FanOut<'_> {
    /// Concludes one service's report, stamping its duration.
    fn conclude(&self, r: &mut Report<DeployReport>, verdict: Verdict, headline: String) {
        r.conclude(verdict, headline);
        self.stamp(r);
    }

    fn stamp(&self, r: &mut Report<DeployReport>) {
        r.elapsed_seconds = self.started.elapsed().as_secs_f64();
        r.decided_at_ms = now_ms();
    }

    /// Every step after loading. An error ends the whole fan-out (nothing was changed when it
    /// comes before the updates); each service's own verdict is set on its report.
    async fn apply(&mut self, report: &mut FanoutReport) -> Result<()> {
        let planned = self.plan_all(&mut report.services).await;
        let Some(planned) = self.check_plans(&mut report.services, planned)? else {
            return Ok(());
        };
        if self.args.dry_run {
            for r in &mut report.services {
                self.conclude(
                    r,
                    Verdict::DryRun,
                    "dry run: the plan above was not applied".into(),
                );
            }
            return Ok(());
        }
        let mut changing: Vec<(usize, Planned)> = Vec::new();
        for (i, p) in planned.into_iter().enumerate() {
            let r = &mut report.services[i];
            if p.plan.is_no_op() {
                self.conclude(
                    r,
                    Verdict::NoChange,
                    format!(
                        "service already runs {} and its deployment completed; nothing registered, nothing updated",
                        short_arn(&p.observed.live_arn)
                    ),
                );
            } else {
                changing.push((i, p));
            }
        }
        if let Some(signal) = cancel::received() {
            for (i, _) in &changing {
                self.conclude(
                    &mut report.services[*i],
                    Verdict::Cancelled,
                    format!("cancelled ({signal}) before any change: nothing registered, nothing updated"),
                );
            }
            return Ok(());
        }
        let arns = self.register(&changing, report).await?;
        if let Some(signal) = cancel::received() {
            for (i, _) in &changing {
                self.conclude(
                    &mut report.services[*i],
                    Verdict::Cancelled,
                    format!("cancelled ({signal}) after registering: the service was not updated"),
                );
            }
            return Ok(());
        }
        self.roll_out(changing, arns, report).await;
        if self.args.rollback == DeployRollbackMode::All {
            self.roll_back_all(report).await;
        }
        Ok(())
    }

    /// Observes and plans every service at once; each service's lines are held and printed
    /// in the order the services were given.
    async fn plan_all(
        &self,
        services: &mut [Report<DeployReport>],
    ) -> Vec<Result<(DeployPlan, Observed, TaskDefSpec)>> {
        let printers: Vec<Printer> = self
            .targets
            .iter()
            .map(|t| self.printer.for_service(t.service(), true))
            .collect();
        let planned = join_all(self.targets.iter().zip(&printers).zip(services).map(
            |((t, p), r)| async move {
                p.group(&format!(
                    "deckhand ecs deploy: plan for `{}` in `{}`",
                    t.service(),
                    t.cluster
                ));
                let planned =
                    super::prepare(self.ctx, self.ecs, t, self.inputs, p, &mut r.details).await;
                p.end_group();
                planned
            },
        ))
        .await;
        for p in &printers {
            p.release();
        }
        planned
    }

    /// Keeps the plans when every service planned; otherwise ends the fan-out before any
    /// change: the services that failed have their problem, the others are not applied.
    fn check_plans(
        &self,
        services: &mut [Report<DeployReport>],
        planned: Vec<Result<(DeployPlan, Observed, TaskDefSpec)>>,
    ) -> Result<Option<Vec<Planned>>> {
        let mut ok = Vec::new();
        let mut first_error: Option<(String, CommandError)> = None;
        for (r, p) in services.iter_mut().zip(planned) {
            match p {
                Ok((plan, observed, desired)) => {
                    r.details.plan = Some(plan.clone());
                    r.details.task_definition_arn = Some(observed.live_arn.clone());
                    ok.push(Planned {
                        plan,
                        observed,
                        desired,
                    });
                }
                Err(e) => {
                    fail(r, e.clone());
                    self.stamp(r);
                    if first_error.is_none() {
                        first_error = Some((r.details.service.clone(), e));
                    }
                }
            }
        }
        // An override naming a container that no service's task definition has is a typo,
        // not a container another service happens to lack.
        if first_error.is_none() {
            let containers: Vec<String> = ok
                .iter()
                .flat_map(|p| p.desired.container_names())
                .collect();
            if let Some(missing) = self
                .inputs
                .patch
                .named_containers()
                .into_iter()
                .find(|c| !containers.iter().any(|n| n == c))
            {
                let mut all = containers.clone();
                all.sort();
                all.dedup();
                let e = CommandError::invalid(format!(
                    "container `{missing}` is in none of the task definitions of the {} services",
                    self.targets.len()
                ))
                .on(self.args.target.cluster.clone())
                .hint(format!("their containers: {}", all.join(", ")));
                for r in services.iter_mut() {
                    self.not_applied(
                        r,
                        "a container override names no container of these services",
                    );
                }
                return Err(e);
            }
        }
        let Some((service, e)) = first_error else {
            return Ok(Some(ok));
        };
        for r in services.iter_mut().filter(|r| r.problem.is_none()) {
            self.not_applied(r, &format!("service `{service}` could not be planned"));
        }
        let problem = Problem {
            message: format!(
                "service `{service}`: {}; nothing was registered or updated for any service",
                e.problem.message
            ),
            ..e.problem
        };
        Err(CommandError {
            verdict: e.verdict,
            problem,
        })
    }

    /// A service that planned but is not applied because the fan-out stopped first: its plan
    /// was shown and nothing changed, as in a dry run.
    fn not_applied(&self, r: &mut Report<DeployReport>, why: &str) {
        self.conclude(
            r,
            Verdict::DryRun,
            format!("not applied: {why}; nothing changed"),
        );
    }

    /// Registers each distinct desired task definition once (equal register requests are one
    /// revision, whichever services want it). Returns each changing service's target revision.
    async fn register(
        &self,
        changing: &[(usize, Planned)],
        report: &mut FanoutReport,
    ) -> Result<BTreeMap<usize, String>> {
        let mut arns = BTreeMap::new();
        let mut registered: Vec<(String, String)> = Vec::new();
        for (i, p) in changing {
            let d = &mut report.services[*i].details;
            let arn = if p.plan.register {
                let body = p.desired.to_register_json();
                let key = body.to_string();
                let arn = match registered.iter().find(|(k, _)| *k == key) {
                    Some((_, arn)) => arn.clone(),
                    None => {
                        let arn = self.ecs.register_task_definition(&body).await?;
                        self.printer
                            .line(&format!("registered {}", short_arn(&arn)));
                        report.registered_task_definitions.push(arn.clone());
                        registered.push((key, arn.clone()));
                        arn
                    }
                };
                d.registered = true;
                arn
            } else if let Some(arn) = &p.plan.reuse {
                arn.clone()
            } else {
                p.observed.live_arn.clone()
            };
            d.task_definition_arn = Some(arn.clone());
            arns.insert(*i, arn);
        }
        Ok(arns)
    }

    /// Updates every changing service, then follows every rollout, all at once.
    async fn roll_out(
        &self,
        changing: Vec<(usize, Planned)>,
        arns: BTreeMap<usize, String>,
        report: &mut FanoutReport,
    ) {
        let mut slots: Vec<Option<&mut Report<DeployReport>>> =
            report.services.iter_mut().map(Some).collect();
        let jobs = changing.into_iter().map(|(i, p)| {
            let r = slots[i]
                .take()
                .expect("BUG: each service is rolled out once");
            let target = arns[&i].clone();
            let t = &self.targets[i];
            async move {
                let printer = self.printer.for_service(t.service(), false);
                if let Err(e) = self.roll_out_one(t, p, target, &printer, r).await {
                    fail(r, e);
                }
                self.stamp(r);
            }
        });
        join_all(jobs).await;
    }

    async fn roll_out_one(
        &self,
        t: &TargetArgs,
        p: Planned,
        target_arn: String,
        printer: &Printer,
        report: &mut Report<DeployReport>,
    ) -> Result<()> {
        let Planned { plan, observed, .. } = p;
        let rollback_to = fallback_rollback_target(&observed.service, &target_arn);
        let ours: Deployment = match &plan.deployment {
            DeploymentStep::Attach { deployment_id } => {
                if let Some((_, to)) = plan.desired_count {
                    let count = ServiceUpdate {
                        task_definition: None,
                        desired_count: Some(to),
                        force_new_deployment: false,
                    };
                    self.ecs
                        .update_service(&t.cluster, t.service(), &count)
                        .await?;
                }
                printer.line(&format!(
                    "deployment {deployment_id} of {} is still in progress: watching it to its verdict",
                    short_arn(&target_arn)
                ));
                observed
                    .service
                    .deployment(deployment_id)
                    .cloned()
                    .expect("BUG: the plan attaches to a deployment the service has")
            }
            _ => {
                let update = super::service_update(&plan, &target_arn);
                let response = self
                    .ecs
                    .update_service(&t.cluster, t.service(), &update)
                    .await?;
                super::started_deployment(&response, t.service(), &target_arn, printer)?
            }
        };
        let followed = Followed {
            cluster: &t.cluster,
            service: t.service(),
            deployment: ours,
            task_definition: target_arn,
            rollback_to,
            restore_count: plan.desired_count.map(|(from, _)| from),
            scale_only: plan.scale_only,
            ecs_rollback: false,
            verify: Some(self.verifier),
        };
        let policy = self.args.rollback.into();
        follow(self.ecs, printer, followed, self.timing, policy, report).await
    }

    /// `--rollback all`: when a service failed, every service that succeeded goes back to the
    /// revision it ran before (each rollback watched and verified, all at once).
    async fn roll_back_all(&self, report: &mut FanoutReport) {
        let failed: Vec<String> = report
            .services
            .iter()
            .filter(|r| triggers_rollback_all(r.verdict))
            .map(|r| format!("`{}`", r.details.service))
            .collect();
        if failed.is_empty() || cancel::received().is_some() {
            return;
        }
        let why = failed.join(", ");
        let jobs = report
            .services
            .iter_mut()
            .zip(self.targets)
            .filter(|(r, _)| r.verdict == Verdict::Succeeded)
            .map(|(r, t)| {
                let why = why.clone();
                async move {
                    let printer = self.printer.for_service(t.service(), false);
                    self.roll_back_one(t, &why, &printer, r).await;
                    self.stamp(r);
                }
            });
        join_all(jobs).await;
    }

    async fn roll_back_one(
        &self,
        t: &TargetArgs,
        why: &str,
        printer: &Printer,
        r: &mut Report<DeployReport>,
    ) {
        let (cluster, service) = (t.cluster.as_str(), t.service());
        let d = &r.details;
        let deployed = d.task_definition_arn.clone().unwrap_or_default();
        let previous = d.previous_task_definition_arn.clone();
        let restore = d
            .plan
            .as_ref()
            .and_then(|p| p.desired_count)
            .map(|(from, _)| from);
        let Some(target) = last_good_or(self.ecs, cluster, service, &deployed, previous).await
        else {
            let headline = format!(
                "{}; not rolled back after {why} failed: no earlier revision of the service ran to completion",
                r.headline
            );
            r.conclude(Verdict::Failed, headline);
            return;
        };
        let rollback = roll_back(
            self.ecs,
            printer,
            (cluster, service),
            &target,
            restore,
            self.timing,
        )
        .await;
        let verdict = match (rollback.completed, cancel::received()) {
            (true, _) => Verdict::RolledBack,
            (false, Some(_)) => {
                let id = rollback.deployment_id.clone().unwrap_or_default();
                r.details.resume_command = Some(resume_command(cluster, service, &id));
                Verdict::Cancelled
            }
            (false, None) => Verdict::RollbackFailed,
        };
        let headline = format!(
            "{}; rolled back to {} because {why} failed (`--rollback all`)",
            r.headline,
            short_arn(&target)
        );
        r.details.rollback = Some(rollback);
        r.conclude(verdict, headline);
    }
}
