//! The smoke run of `image build` and `nginx build`: the built image started on this machine
//! (`deckhand-smoke`) and judged (`deckhand_core::oci::smoke`) after the plan and before the
//! push; a red run ends the build with exit 2 and nothing pushed.

use std::time::Duration;

use deckhand_core::duration::parse_duration;
use deckhand_core::oci::Platform;
use deckhand_core::oci::derive::{ConfigEdits, LayerBlob};
use deckhand_core::oci::image::{ResolvedBase, layer_descriptors};
use deckhand_core::oci::smoke::{
    HttpAnswer, OUTPUT_TAIL_LINES, SmokeCheck, SmokeOutcome, SmokeResult, StatusMatch,
    image_process, judge, runnable_image, tail_lines,
};
use deckhand_oci::Registry;

use crate::cli::{SmokeArgs, SmokeRuntime};
use crate::error::{CommandError, Result};
use crate::printer::Printer;
use deckhand_smoke::Runtime;

/// The smoke run as asked, validated before anything is fetched.
#[derive(Debug, Clone)]
pub(crate) struct SmokeSettings {
    path: String,
    port: Option<u16>,
    status: StatusMatch,
    timeout: Duration,
    /// The body `GET path` must answer, and what it is.
    body: Option<(Vec<u8>, String)>,
    /// Asked for explicitly: a machine that cannot run it is an error, not a skip.
    required: bool,
    /// `None`: auto.
    runtime: Option<Runtime>,
}

impl SmokeSettings {
    /// The settings of `args`; `path_default` is the path when none is given.
    pub(crate) fn load(
        args: &SmokeArgs,
        path_default: &str,
        body: Option<(Vec<u8>, String)>,
        required: bool,
    ) -> Result<Self> {
        let path = args
            .smoke_path
            .clone()
            .unwrap_or_else(|| path_default.to_string());
        if !path.starts_with('/') || path.chars().any(char::is_whitespace) {
            return Err(CommandError::invalid(format!(
                "`--smoke-path {path}` is not an absolute URL path"
            ))
            .hint("write it as the server sees it, e.g. `/` or `/health`"));
        }
        let status = StatusMatch::parse(&args.smoke_status).map_err(CommandError::invalid)?;
        let timeout = parse_duration(&args.smoke_timeout).map_err(|e| {
            CommandError::invalid(format!("`--smoke-timeout {}`: {e}", args.smoke_timeout))
        })?;
        Ok(Self {
            path,
            port: args.smoke_port,
            status,
            timeout,
            body,
            required,
            runtime: match args.smoke_runtime {
                SmokeRuntime::Auto => None,
                SmokeRuntime::Docker => Some(Runtime::Docker),
                SmokeRuntime::Chroot => Some(Runtime::Chroot),
            },
        })
    }
}

/// A machine that cannot run the image: an error when the run was asked for, else a skip
/// that says so (`nginx build` keeps building where no runtime is).
fn skip_or_fail(settings: &SmokeSettings, why: &str, printer: &Printer) -> Result<SmokeResult> {
    if settings.required {
        return Err(CommandError::failed(format!(
            "the smoke run cannot run here: {why}"
        )));
    }
    printer.warning("deckhand: smoke run skipped", why, None);
    Ok(SmokeResult {
        outcome: SmokeOutcome::Skipped,
        reason: Some(why.to_string()),
        ..SmokeResult::default()
    })
}

/// This machine's platform in OCI words.
fn host_platform() -> Platform {
    let architecture = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    };
    Platform {
        os: std::env::consts::OS.to_string(),
        architecture: architecture.to_string(),
        variant: None,
    }
}

/// What the smoke run needs of the build.
pub(crate) struct BuiltForSmoke<'a> {
    /// The base as resolved (its per-platform manifests and configs).
    pub(crate) base: &'a ResolvedBase,
    /// Where the base's layers are fetched from.
    pub(crate) source: &'a Registry,
    pub(crate) base_repository: String,
    /// The new layer.
    pub(crate) layer: &'a LayerBlob,
    pub(crate) layer_bytes: &'a [u8],
    pub(crate) edits: &'a ConfigEdits,
}

/// Runs the image for this machine's platform and judges its answer. `Err`: the runtime could
/// not run it at all (this machine, not the image).
pub(crate) async fn run(
    settings: &SmokeSettings,
    built: BuiltForSmoke<'_>,
    printer: &Printer,
) -> Result<SmokeResult> {
    let asked = settings.runtime;
    let runtime = match tokio::task::spawn_blocking(move || deckhand_smoke::choose_runtime(asked))
        .await
        .map_err(|e| CommandError::failed(format!("the smoke run stopped: {e}")))?
    {
        Ok(r) => r,
        Err(e) => return skip_or_fail(settings, &e.to_string(), printer),
    };
    let host = host_platform();
    let platforms: Vec<Option<Platform>> = built
        .base
        .images
        .iter()
        .map(|i| i.platform.clone())
        .collect();
    let Some(index) = runnable_image(&platforms, &host) else {
        return Ok(SmokeResult {
            outcome: SmokeOutcome::Skipped,
            reason: Some(format!(
                "no {host} image was built, and only that runs here"
            )),
            ..SmokeResult::default()
        });
    };
    let image = &built.base.images[index];
    let config = deckhand_core::oci::derive::derive_config(&image.config, built.layer, built.edits)
        .map_err(CommandError::failed)?;
    let process = image_process(&config)
        .map_err(|m| CommandError::invalid(format!("the smoke run cannot start the image: {m}")))?;
    let port = settings
        .port
        .or_else(|| process.ports.first().copied())
        .unwrap_or(80);
    let mut layers = Vec::new();
    for (digest, _) in layer_descriptors(&image.manifest).map_err(CommandError::failed)? {
        layers.push(
            built
                .source
                .get_blob(&built.base_repository, &digest)
                .await?,
        );
    }
    layers.push(built.layer_bytes.to_vec());
    let request = deckhand_smoke::SmokeRequest {
        layers,
        config,
        process,
        port,
        path: settings.path.clone(),
        timeout: settings.timeout,
    };
    let attempt = tokio::task::spawn_blocking(move || deckhand_smoke::run(&request, runtime))
        .await
        .map_err(|e| CommandError::failed(format!("the smoke run stopped: {e}")))?
        .map_err(|e| {
            CommandError::failed(format!("the smoke run could not start the image: {e}"))
        })?;
    let check = SmokeCheck {
        port,
        path: settings.path.clone(),
        status: settings.status.clone(),
        body: settings.body.clone(),
    };
    let verdict = attempt
        .answer
        .as_ref()
        .map_err(Clone::clone)
        .and_then(|a: &HttpAnswer| judge(&check, a));
    Ok(SmokeResult {
        outcome: match verdict {
            Ok(()) => SmokeOutcome::Passed,
            Err(_) => SmokeOutcome::Failed,
        },
        runtime: runtime.name().to_string(),
        platform: platforms[index]
            .as_ref()
            .map_or_else(|| "image".to_string(), ToString::to_string),
        request: format!("GET :{port}{}", settings.path),
        status: attempt.answer.as_ref().ok().map(|a| a.status),
        reason: verdict.err(),
        duration_ms: u64::try_from(attempt.elapsed.as_millis()).unwrap_or(u64::MAX),
        output: tail_lines(&attempt.output, OUTPUT_TAIL_LINES),
    })
}
