//! `nginx build`: the nginx case of `image build` (html into `/usr/share/nginx/html/`, the
//! config as `/etc/nginx/conf.d/default.conf`), with the config checked by the real nginx
//! before anything is pushed, and the ECS service rolled to the new digest through the
//! `ecs deploy` code path.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use deckhand_core::ecs::report::Verdict;
use serde_json::Value;

use super::image::{Access, ImageResult, load_spec, run_build};
use super::result::Problem;
use crate::cli::{DeployArgs, EcsDeployArgs, NginxBuildArgs, TargetArgs};
use crate::exit::ExitStatus;
use crate::gha::NGINX_BUILD_OUTPUTS;
use crate::printer::Printer;

/// Where the image's nginx reads its files.
const HTML_DEST: &str = "/usr/share/nginx/html/";
const CONF_DEST: &str = "/etc/nginx/conf.d/default.conf";

fn invalid(message: impl Into<String>, hint: &str) -> (Verdict, Problem) {
    (
        Verdict::InvalidInput,
        Problem::new(message, Some(hint.to_string())),
    )
}

/// The nginx binary: on PATH, or where Debian and the official packages put it.
fn find_nginx() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").into_iter().flat_map(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("nginx"))
            .collect::<Vec<_>>()
    });
    on_path
        .chain(
            [
                "/usr/sbin/nginx",
                "/usr/local/sbin/nginx",
                "/usr/local/nginx/sbin/nginx",
            ]
            .map(PathBuf::from),
        )
        .find(|p| p.is_file())
}

/// `nginx -t` on a main config that includes `conf` inside `http {}`, as the official image's
/// nginx.conf does. Errors carry nginx's own words (file and line).
pub(crate) fn validate_conf(conf: &Path) -> Result<String, (Verdict, Problem)> {
    let Some(nginx) = find_nginx() else {
        return Err(invalid(
            format!(
                "nginx is not installed here, so `{}` cannot be checked before the push",
                conf.display()
            ),
            "install nginx (Debian/Ubuntu: `apt-get install nginx-light`), or pass `--skip-validate`",
        ));
    };
    let conf = conf.canonicalize().map_err(|e| {
        invalid(
            format!("cannot read `{}`: {e}", conf.display()),
            "check `--conf`",
        )
    })?;
    let dir = tempfile_dir().map_err(|e| {
        (
            Verdict::Error,
            Problem::new(format!("cannot make a temp dir: {e}"), None),
        )
    })?;
    let mime = ["/etc/nginx/mime.types", "/usr/local/nginx/conf/mime.types"]
        .into_iter()
        .find(|p| Path::new(p).is_file())
        .map(|p| format!("    include {p};\n"))
        .unwrap_or_default();
    let main = format!(
        "# deckhand: checks default.conf as the nginx image loads it\nerror_log stderr;\npid {pid};\nevents {{}}\nhttp {{\n{mime}    include \"{conf}\";\n}}\n",
        pid = dir.0.join("nginx.pid").display(),
        conf = conf.display(),
    );
    let main_path = dir.0.join("nginx.conf");
    std::fs::write(&main_path, main).map_err(|e| {
        (
            Verdict::Error,
            Problem::new(format!("cannot write {}: {e}", main_path.display()), None),
        )
    })?;
    let out = Command::new(&nginx)
        .arg("-t")
        .arg("-p")
        .arg(&dir.0)
        .arg("-c")
        .arg(&main_path)
        .output()
        .map_err(|e| {
            (
                Verdict::Error,
                Problem::new(format!("cannot run {}: {e}", nginx.display()), None),
            )
        })?;
    let text = String::from_utf8_lossy(&out.stderr).trim().to_string();
    if out.status.success() {
        return Ok(text);
    }
    // "2026/11/23 17:51:44 [emerg] 861#861: unknown directive ..." -> "[emerg] unknown ...".
    let errors: Vec<String> = text
        .lines()
        .filter(|l| !l.contains("configuration file"))
        .map(|l| match l.find('[') {
            Some(i) => {
                let rest = &l[i..];
                match rest.split_once("] ").and_then(|(level, tail)| {
                    tail.split_once(": ")
                        .filter(|(pid, _)| pid.contains('#'))
                        .map(|(_, msg)| format!("{level}] {msg}"))
                }) {
                    Some(clean) => clean,
                    None => rest.to_string(),
                }
            }
            None => l.to_string(),
        })
        .collect();
    Err(invalid(
        format!(
            "`{}` is not a valid nginx config; nothing was pushed:\n{}",
            conf.display(),
            errors.join("\n")
        ),
        "fix the line nginx names, then run again",
    ))
}

/// A temp directory removed on drop (std only: the binary does not depend on tempfile).
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tempfile_dir() -> std::io::Result<TempDir> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let path = std::env::temp_dir().join(format!("deckhand-nginx-{}-{nanos}", std::process::id()));
    std::fs::create_dir(&path)?;
    Ok(TempDir(path))
}

/// `nginx build`.
pub(crate) async fn build(
    region: Option<String>,
    args: NginxBuildArgs,
    printer: &Printer,
) -> ExitStatus {
    let started = Instant::now();
    let mut result = ImageResult::new(
        "nginx build",
        args.push.tags.first().cloned().unwrap_or_default(),
    );
    let mut access = Access::new(&args.push, region.clone());
    let outcome = prepare_and_push(&args, &mut access, printer, &mut result).await;
    if let Err(f) = outcome {
        result = result.fail(f);
        return finish(result, None, printer, &access, started);
    }
    let (Some(cluster), Some(service)) = (&args.deploy_cluster, &args.deploy_service) else {
        return finish(result, None, printer, &access, started);
    };
    // Roll the service to the digest, through `ecs deploy`: when the service already runs it
    // (an unchanged rebuild), that is a no-op with no new revision and no rollout.
    let image = result
        .image
        .clone()
        .expect("a pushed or planned image has a reference");
    let deploy_args = DeployArgs {
        target: TargetArgs {
            cluster: cluster.clone(),
            service: service.clone(),
            images: vec![match &args.container {
                Some(c) => format!("{c}={image}"),
                None => image,
            }],
            task_definition: None,
            env: Vec::new(),
            desired_count: None,
            force_new_deployment: false,
        },
        watch: args.watch.clone(),
        rollback: args.rollback,
        dry_run: args.push.dry_run,
    };
    let (nested, captured) = printer.nested();
    let deploy_args = EcsDeployArgs {
        deploy: deploy_args,
        github: args.github.clone(),
    };
    super::ecs::deploy(region, deploy_args, &nested).await;
    let mut captured = std::mem::take(&mut *captured.lock().unwrap_or_else(|p| p.into_inner()));
    // The rollout's plan follows the push plan in the `plan` output.
    if let Some((_, rollout_plan)) = captured.outputs.iter().find(|(k, _)| k == "plan")
        && !rollout_plan.is_empty()
    {
        result.plan_text = format!("{}\n{rollout_plan}", result.plan_text);
    }
    finish(result, captured.json.take(), printer, &access, started)
}

async fn prepare_and_push(
    args: &NginxBuildArgs,
    access: &mut Access,
    printer: &Printer,
    result: &mut ImageResult,
) -> Result<(), (Verdict, Problem)> {
    if !args.html.is_dir() {
        return Err(invalid(
            format!("`{}` is not a directory", args.html.display()),
            "`--html` is the site's directory (its index.html and assets)",
        ));
    }
    if !args.conf.is_file() {
        return Err(invalid(
            format!("`{}` is not a file", args.conf.display()),
            "`--conf` is the server config that becomes default.conf",
        ));
    }
    let html = args
        .html
        .to_string_lossy()
        .trim_end_matches('/')
        .to_string();
    let conf = args.conf.to_string_lossy().to_string();
    let spec = load_spec(
        &args.base,
        &[format!("{html}:{HTML_DEST}"), format!("{conf}:{CONF_DEST}")],
        &[],
        &args.push,
        "deckhand nginx build: html and default.conf".to_string(),
    )?;
    result.repository = format!(
        "{}/{}",
        spec.tags[0].registry_host(),
        spec.tags[0].registry_repository()
    );
    if args.skip_validate {
        printer.line("nginx config: not checked (--skip-validate)");
    } else {
        validate_conf(&args.conf)?;
        printer.line(&format!(
            "nginx config: `{}` is valid (nginx -t)",
            args.conf.display()
        ));
    }
    run_build(&spec, &args.push, access, printer, result).await
}

fn finish(
    mut result: ImageResult,
    deploy: Option<Value>,
    printer: &Printer,
    access: &Access,
    started: Instant,
) -> ExitStatus {
    let field = |v: &Option<Value>, k: &str| {
        v.as_ref()
            .and_then(|d| d.get(k))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let deploy_verdict = field(&deploy, "verdict");
    // The overall verdict: the image's when it failed or nothing was deployed, else the
    // rollout's (a failed rollout fails the job; exit 3 when it was rolled back).
    let mut status = ExitStatus::from(result.verdict);
    if result.verdict.is_ok()
        && let Some(d) = &deploy
    {
        let code = d.get("exit_code").and_then(Value::as_u64).unwrap_or(1);
        status = match code {
            0 => ExitStatus::Success,
            2 => ExitStatus::InvalidInput,
            3 => ExitStatus::RolledBack,
            4 => ExitStatus::TimedOut,
            _ => ExitStatus::Failed,
        };
        if code != 0 {
            let headline = field(&deploy, "headline");
            result.headline = format!(
                "{}; the rollout of `{}`: {deploy_verdict}: {headline}",
                result.headline,
                field(&deploy, "service")
            );
        }
    }
    result.print_headline(printer);
    let mut outputs = result.outputs();
    if status != ExitStatus::from(result.verdict) {
        outputs[0].1 = deploy_verdict.clone();
        outputs[1].1 = status.code().to_string();
        if outputs[10].1.is_empty() {
            outputs[10].1 = deploy
                .as_ref()
                .and_then(|d| {
                    d.pointer("/error/message")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .unwrap_or_else(|| field(&deploy, "headline"));
        }
    }
    outputs.push(("deploy-verdict", deploy_verdict));
    outputs.push(("task-definition-arn", field(&deploy, "task_definition_arn")));
    outputs.push(("deployment-id", field(&deploy, "deployment_id")));
    let mut md = result.markdown();
    if let Some(d) = &deploy {
        md.push_str(&format!(
            "\nRollout of `{}` in `{}`: **{}**, {}\n",
            field(&deploy, "service"),
            field(&deploy, "cluster"),
            field(&deploy, "verdict"),
            d.get("headline")
                .and_then(Value::as_str)
                .unwrap_or_default()
        ));
    }
    printer.publish(&outputs, NGINX_BUILD_OUTPUTS, &md);
    if printer.is_json() {
        let mut value = result.json(status, access.ctx.as_ref(), started);
        value["verdict"] = Value::from(outputs[0].1.clone());
        value["exit_code"] = Value::from(status.code());
        value["deploy"] = deploy.unwrap_or(Value::Null);
        printer.json(&value);
    }
    status
}
