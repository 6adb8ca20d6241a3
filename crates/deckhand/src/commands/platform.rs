//! The platform `nginx build --deploy-*` builds when `--platform` is not given: the one its
//! service runs (its live task definition's `runtimePlatform`), so a first push copies that
//! platform of the base, not all of them. The mapping is core's
//! ([`deckhand_core::oci::platform::runtime_platform`]).

use deckhand_aws::EcsAdapter;
use deckhand_core::oci::PlatformChoice;

use super::image::BuildSpec;
use crate::cli::NginxBuildArgs;
use crate::error::{CommandError, Result};
use crate::printer::Printer;
use crate::registry_access::Access;

/// With `--deploy-cluster`/`--deploy-service` and no `--platform`: observes the service (a
/// missing cluster or service is bad input, found before anything is pushed) and builds the
/// platform its task definition runs.
pub(crate) async fn from_deploy_target(
    args: &NginxBuildArgs,
    access: &mut Access,
    spec: &mut BuildSpec,
    printer: &Printer,
) -> Result<()> {
    let (Some(cluster), Some(service)) = (&args.deploy_cluster, &args.deploy_service) else {
        return Ok(());
    };
    if !spec.platforms.is_default() {
        return Ok(());
    }
    let ecs = EcsAdapter::new(access.aws().await?);
    let observed = super::ecs::observe(&ecs, cluster, service).await?;
    spec.platforms = PlatformChoice::for_service(
        cluster,
        service,
        &observed.live_arn,
        observed.live.field("runtimePlatform"),
    )
    .map_err(|m| {
        CommandError::invalid(m)
            .on(observed.live_arn.clone())
            .hint("pass `--platform OS/ARCH` to choose the platform to build")
    })?;
    if let deckhand_core::oci::PlatformFilter::Only(p) = &spec.platforms.filter {
        let names: Vec<String> = p.iter().map(ToString::to_string).collect();
        printer.line(&format!(
            "platform: {} ({})",
            names.join(", "),
            spec.platforms.origin.describe()
        ));
    }
    Ok(())
}
