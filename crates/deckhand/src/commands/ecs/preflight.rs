//! Preflight of `ecs deploy` and `ecs diff`, before any change (core decides what to check):
//! the execution role the task definition needs, the `awslogs` log groups, and each image the
//! deploy introduces, pinned to the digest its tag names now. A finding is bad input (exit 2,
//! nothing registered); a registry deckhand cannot ask (private without credentials here,
//! unreachable) is a warning, and its images go out as given.

use deckhand_aws::AwsContext;
use deckhand_aws::ecr::EcrAdapter;
use deckhand_aws::logs::LogsAdapter;
use deckhand_core::ecs::plan::PinnedImage;
use deckhand_core::ecs::preflight::{
    NewImage, log_groups, missing_execution_role, new_images, pinned,
};
use deckhand_core::ecs::taskdef::TaskDefSpec;
use deckhand_core::oci::ecr::parse_ecr_host;
use deckhand_oci::{Registry, RegistryOptions};

use crate::error::{CommandError, Result};
use crate::printer::Printer;

/// How images are checked.
#[derive(Debug, Clone, Copy)]
pub(super) struct ImageChecks {
    /// Skip asking registries (`--skip-image-check`).
    pub(super) skip: bool,
    /// Register images by digest (`--pin-digests`, on by default).
    pub(super) pin: bool,
}

/// Runs every check; pins `desired`'s new images when asked. Returns the pins made.
pub(super) async fn preflight(
    ctx: &AwsContext,
    live: &TaskDefSpec,
    desired: &mut TaskDefSpec,
    images: ImageChecks,
    printer: &Printer,
) -> Result<Vec<PinnedImage>> {
    if let Some(why) = missing_execution_role(desired) {
        return Err(CommandError::invalid(format!(
            "task definition `{}` has no `executionRoleArn`, and {why}",
            desired.family()
        ))
        .hint("set `executionRoleArn` to the role ECS uses to pull images, send logs and read secrets (the ECS Developer Guide: task execution IAM role)"));
    }
    let home = ctx.sdk.region().map(|r| r.to_string()).unwrap_or_default();
    for lg in log_groups(desired) {
        let region = lg.region.clone().unwrap_or_else(|| home.clone());
        let logs = LogsAdapter::new(&ctx.in_region(&region));
        if !logs.log_group_exists(&lg.group).await? {
            return Err(CommandError::invalid(format!(
                "container `{}` logs to the awslogs group `{}`, which does not exist in {region}",
                lg.container, lg.group
            ))
            .on(lg.group.clone())
            .hint(format!(
                "create it (`aws logs create-log-group --log-group-name {}`), or set `awslogs-create-group: \"true\"` in the container's log options (the execution role then needs logs:CreateLogGroup)",
                lg.group
            )));
        }
    }
    if images.skip {
        return Ok(Vec::new());
    }
    let mut pins = Vec::new();
    for new in new_images(live, desired) {
        let Some(digest) = resolve(ctx, &new, printer).await? else {
            continue;
        };
        if images.pin {
            desired.set_image(&new.container, &pinned(&new.image, &digest));
            pins.push(PinnedImage {
                container: new.container,
                image: new.image.to_string(),
                digest,
            });
        }
    }
    Ok(pins)
}

/// The digest `new.image` names now; an error when it does not exist; `None` (with a warning)
/// when its registry cannot be asked.
async fn resolve(ctx: &AwsContext, new: &NewImage, printer: &Printer) -> Result<Option<String>> {
    let image = &new.image;
    let tag = image.tag.as_deref().unwrap_or("latest");
    let missing = |where_: String| {
        CommandError::invalid(format!(
            "image `{image}` of container `{}` does not exist: {where_}",
            new.container
        ))
        .on(image.to_string())
        .hint("push it first (the build step), or check `--image`; nothing was registered")
    };
    let host = image.registry_host();
    if let Some(ecr) = parse_ecr_host(host) {
        let adapter = EcrAdapter::new(&ctx.in_region(&ecr.region));
        let repo = image.registry_repository();
        return match adapter.image_digest(&repo, Some(&ecr.account), tag).await? {
            Some(digest) => Ok(Some(digest)),
            None => Err(missing(format!(
                "ECR repository `{repo}` has no tag `{tag}`"
            ))),
        };
    }
    let options = RegistryOptions {
        // One try: a registry that cannot be reached only costs a warning.
        attempts: 1,
        ..RegistryOptions::default()
    };
    // Credentials as docker finds them; a helper that cannot run makes the registry one that
    // cannot be asked (the check is a courtesy: the deploy goes on, by tag, with a warning).
    let credentials = match crate::registry_access::docker_credentials(host, printer) {
        Ok(c) => c,
        Err(e) => {
            printer.warning(
                "deckhand: image not checked",
                &format!(
                    "image `{image}` of container `{}` was not checked ({}); it is deployed as given, by tag",
                    new.container, e.problem.message
                ),
                e.problem.hint.as_deref(),
            );
            return Ok(None);
        }
    };
    let asked = match Registry::new(host, credentials, options) {
        Ok(registry) => {
            registry
                .head_manifest(&image.registry_repository(), tag)
                .await
        }
        Err(e) => Err(e),
    };
    match asked {
        Ok(Some(digest)) => Ok(Some(digest.to_string())),
        Ok(None) => Err(missing(format!(
            "`{host}` has no tag `{tag}` of `{}`",
            image.repository
        ))),
        Err(e) if e.code() == Some("MANIFEST_UNKNOWN") || e.code() == Some("NAME_UNKNOWN") => {
            Err(missing(e.to_string()))
        }
        Err(e) => {
            printer.warning(
                "deckhand: image not checked",
                &format!(
                    "image `{image}` of container `{}` was not checked (its registry could not be asked: {e}); it is deployed as given, by tag",
                    new.container
                ),
                Some("a private registry needs `docker login` on the runner; `--skip-image-check` skips the check"),
            );
            Ok(None)
        }
    }
}
