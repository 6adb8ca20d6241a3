//! `nginx build`: the nginx case of `image build` (html into `/usr/share/nginx/html/`, the
//! config as `/etc/nginx/conf.d/default.conf`), with the config checked by the real nginx
//! before anything is pushed, and the ECS service rolled to the new digest through the
//! `ecs deploy` code path.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use deckhand_core::oci::report::{ImageReport, NginxReport};
use deckhand_core::report::Report;
use deckhand_core::verdict::Verdict;

use super::image::{load_spec, run_build};
use super::smoke::SmokeSettings;
use crate::cli::{DeployArgs, EcsDeployArgs, NginxBuildArgs, TargetArgs, VerifyArgs};
use crate::error::{CommandError, Result, end};
use crate::printer::Printer;
use crate::registry_access::Access;

/// Where the image's nginx reads its files.
const HTML_DEST: &str = "/usr/share/nginx/html/";
const CONF_DEST: &str = "/etc/nginx/conf.d/default.conf";

fn invalid(message: impl Into<String>, hint: &str) -> CommandError {
    CommandError::invalid(message).hint(hint)
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
pub(crate) fn validate_conf(conf: &Path) -> Result<String> {
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
    let dir = deckhand_smoke::TempDir::new("deckhand-nginx")
        .map_err(|e| CommandError::failed(format!("cannot make a temp dir: {e}")))?;
    let mime = ["/etc/nginx/mime.types", "/usr/local/nginx/conf/mime.types"]
        .into_iter()
        .find(|p| Path::new(p).is_file())
        .map(|p| format!("    include {p};\n"))
        .unwrap_or_default();
    let main = format!(
        "# deckhand: checks default.conf as the nginx image loads it\nerror_log stderr;\npid {pid};\nevents {{}}\nhttp {{\n{mime}    include \"{conf}\";\n}}\n",
        pid = dir.path().join("nginx.pid").display(),
        conf = conf.display(),
    );
    let main_path = dir.path().join("nginx.conf");
    std::fs::write(&main_path, main)
        .map_err(|e| CommandError::failed(format!("cannot write {}: {e}", main_path.display())))?;
    let out = Command::new(&nginx)
        .arg("-t")
        .arg("-p")
        .arg(dir.path())
        .arg("-c")
        .arg(&main_path)
        .output()
        .map_err(|e| CommandError::failed(format!("cannot run {}: {e}", nginx.display())))?;
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

/// The nginx smoke run: `GET /` (or `--smoke-path`) of the built image; for `/` and
/// `/index.html` the body must be the `index.html` that was added, so a wrong `root` or
/// `index` that nginx serves as its welcome page or a 404 is caught.
fn nginx_smoke(args: &NginxBuildArgs) -> Result<SmokeSettings> {
    let path = args.smoke.smoke_path.as_deref().unwrap_or("/");
    let index = args.html.join("index.html");
    let body = match (path, std::fs::read(&index)) {
        ("/" | "/index.html", Ok(bytes)) => Some((
            bytes,
            format!("`{}` (the index.html that was added)", index.display()),
        )),
        _ => None,
    };
    SmokeSettings::load(&args.smoke, "/", body, false)
}

/// `nginx build`: the image, then (with `--deploy-*`, when the image is green) the rollout of
/// its service through `ecs deploy`, composed into one report.
pub(crate) async fn build(
    region: Option<String>,
    args: NginxBuildArgs,
    printer: &Printer,
) -> Report<NginxReport> {
    let first_tag = args.push.tags.first().cloned().unwrap_or_default();
    let mut image = super::aws_report("nginx build", ImageReport::new(first_tag));
    let mut access = Access::new(&args.push, region.clone());
    let outcome = prepare_and_push(&args, &mut access, printer, &mut image.details).await;
    end(&mut image, outcome);
    let deploy = match (
        &args.deploy_cluster,
        &args.deploy_service,
        &image.details.image,
    ) {
        (Some(cluster), Some(service), Some(digest_ref)) if image.verdict.is_ok() => {
            Some(roll_out(region, &args, cluster, service, digest_ref, printer).await)
        }
        _ => None,
    };
    let (verdict, headline, problem) = NginxReport::compose(
        image.verdict,
        &image.headline,
        image.problem.as_ref(),
        deploy.as_ref(),
    );
    let mut report = Report::new(
        "nginx build",
        NginxReport {
            image: image.details,
            image_verdict: Some((image.verdict, image.headline)),
            deploy,
        },
    );
    report.conclude(verdict, headline);
    report.problem = problem;
    report.api_calls = Some(access.api_calls());
    report
}

/// Rolls the service to the digest through `ecs deploy` (with its GitHub deployment record):
/// when the service already runs it (an unchanged rebuild), that is a no-op with no new
/// revision and no rollout.
async fn roll_out(
    region: Option<String>,
    args: &NginxBuildArgs,
    cluster: &str,
    service: &str,
    image: &str,
    printer: &Printer,
) -> Report<deckhand_core::ecs::report::DeployReport> {
    let started = Instant::now();
    let deploy = DeployArgs {
        target: TargetArgs {
            images: vec![match &args.container {
                Some(c) => format!("{c}={image}"),
                None => image.to_string(),
            }],
            // The image is given by the digest just pushed: nothing to check or pin.
            skip_image_check: true,
            pin_digests: false,
            ..TargetArgs::single(cluster, service)
        },
        watch: args.watch.clone(),
        // Target health when the service has load balancers; no URL check of its own.
        verify: VerifyArgs::default(),
        rollback: args.rollback.into(),
        dry_run: args.push.dry_run,
    };
    let args = EcsDeployArgs {
        deploy,
        github: args.github.clone(),
    };
    let mut report = super::ecs::deploy(region, args, printer).await;
    super::stamp(&mut report, started);
    report
}

async fn prepare_and_push(
    args: &NginxBuildArgs,
    access: &mut Access,
    printer: &Printer,
    report: &mut ImageReport,
) -> Result<(Verdict, String)> {
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
    let mut spec = load_spec(
        &args.base,
        &[format!("{html}:{HTML_DEST}"), format!("{conf}:{CONF_DEST}")],
        &[],
        &args.push,
        Some("deckhand nginx build: html and default.conf".to_string()),
    )?;
    report.repository = spec.repository();
    if args.skip_validate {
        printer.line("nginx config: not checked (--skip-validate)");
    } else {
        validate_conf(&args.conf)?;
        printer.line(&format!(
            "nginx config: `{}` is valid (nginx -t)",
            args.conf.display()
        ));
    }
    super::platform::from_deploy_target(args, access, &mut spec, printer).await?;
    let smoke = match args.skip_smoke {
        true => {
            printer.line("smoke run: not run (--skip-smoke)");
            None
        }
        false => Some(nginx_smoke(args)?),
    };
    run_build(
        "nginx build",
        &spec,
        &args.push,
        smoke.as_ref(),
        access,
        printer,
        report,
    )
    .await
}
