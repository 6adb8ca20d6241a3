//! What a GitHub deployment record of a deploy says: its default environment, description and
//! payload per command, and the state a verdict ends it in (docs/github.md). The binary sends
//! it through `deckhand-github`; everything decided about it is here.

use serde_json::{Value, json};

use crate::ecs::plan::short_arn;
use crate::verdict::Verdict;

/// The states deckhand gives a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordState {
    /// The deploy is running.
    InProgress,
    /// The deploy succeeded, or had nothing to change.
    Success,
    /// The deploy itself failed (failed, rolled back, superseded, timed out).
    Failure,
    /// Something around the deploy failed (bad input, an AWS error).
    Error,
    /// Not deployed (a dry run).
    Inactive,
}

impl RecordState {
    /// The state a deploy's verdict ends its record in: succeeded and no-change are `success`;
    /// the deploy's own failures are `failure`; problems around it are `error`.
    pub fn for_verdict(verdict: Verdict) -> Self {
        match verdict {
            // `dispatched` belongs to `dispatch`, which makes no record; it is a green exit.
            Verdict::Succeeded | Verdict::NoChange | Verdict::Dispatched => Self::Success,
            Verdict::Failed
            | Verdict::RolledBack
            | Verdict::RollbackFailed
            | Verdict::Superseded
            | Verdict::TimedOut
            | Verdict::NotStarted => Self::Failure,
            // The job stopped watching; the deployment's end is unknown to this record.
            Verdict::Cancelled => Self::Inactive,
            Verdict::InvalidInput | Verdict::Error => Self::Error,
            // A dry run makes no record; should one exist, it did not deploy.
            Verdict::DryRun => Self::Inactive,
        }
    }
}

/// What to record for one deploy.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordSpec {
    /// The environment when `--environment` is not given.
    pub default_environment: String,
    /// The deployment's description.
    pub description: String,
    /// The deployment's payload (`{"deckhand": {...}}`).
    pub payload: Value,
}

impl RecordSpec {
    /// `ecs deploy` (and `nginx build --deploy-*`): environment `CLUSTER-SERVICE`, since a
    /// job's environment is not visible to its steps, the cluster alone would make every
    /// service's deploy mark the previous one inactive, and GitHub's default (`production`)
    /// would file a staging deploy as production.
    pub fn ecs_deploy(cluster: &str, service: &str, images: &[String]) -> Self {
        Self::ecs("ecs deploy", cluster, service, json!({"images": images}))
    }

    /// `ecs rollback`: the same environment as the deploys it undoes.
    pub fn ecs_rollback(cluster: &str, service: &str, to: Option<&str>) -> Self {
        Self::ecs("ecs rollback", cluster, service, json!({"to": to}))
    }

    fn ecs(command: &str, cluster_arg: &str, service_arg: &str, extra: Value) -> Self {
        let (cluster, service) = (short_arn(cluster_arg), short_arn(service_arg));
        let mut payload = json!({
            "command": command,
            "cluster": cluster_arg,
            "service": service_arg,
        });
        if let (Some(p), Some(e)) = (payload.as_object_mut(), extra.as_object()) {
            p.extend(e.clone());
        }
        Self {
            default_environment: format!("{cluster}-{service}"),
            description: format!("deckhand {command}: service `{service}` in cluster `{cluster}`"),
            payload: json!({ "deckhand": payload }),
        }
    }

    /// `site deploy`: environment `BUCKET`, or `BUCKET-PREFIX` (slashes as `-`).
    pub fn site_deploy(bucket: &str, prefix: &str) -> Self {
        let prefix_name = prefix.trim_matches('/').replace('/', "-");
        let default_environment = if prefix_name.is_empty() {
            bucket.to_string()
        } else {
            format!("{bucket}-{prefix_name}")
        };
        Self {
            default_environment,
            description: format!("deckhand site deploy: s3://{bucket}/{prefix}"),
            payload: json!({"deckhand": {
                "command": "site deploy",
                "bucket": bucket,
                "prefix": prefix,
            }}),
        }
    }
}

/// The final status's description: the verdict and the headline.
pub fn final_description(verdict: Verdict, headline: &str) -> String {
    format!("{}: {headline}", verdict.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_map_to_states() {
        use RecordState as S;
        let cases = [
            (Verdict::Succeeded, S::Success),
            (Verdict::NoChange, S::Success),
            (Verdict::DryRun, S::Inactive),
            (Verdict::Dispatched, S::Success),
            (Verdict::Failed, S::Failure),
            (Verdict::RolledBack, S::Failure),
            (Verdict::RollbackFailed, S::Failure),
            (Verdict::Superseded, S::Failure),
            (Verdict::TimedOut, S::Failure),
            (Verdict::Cancelled, S::Inactive),
            (Verdict::InvalidInput, S::Error),
            (Verdict::Error, S::Error),
        ];
        for (v, s) in cases {
            assert_eq!(RecordState::for_verdict(v), s, "{v:?}");
        }
    }

    #[test]
    fn ecs_environments_name_cluster_and_service_from_arns() {
        let spec = RecordSpec::ecs_deploy(
            "arn:aws:ecs:us-east-1:1:cluster/prod",
            "arn:aws:ecs:us-east-1:1:service/prod/web",
            &["app=web:v2".to_string()],
        );
        assert_eq!(spec.default_environment, "prod-web");
        assert_eq!(
            spec.description,
            "deckhand ecs deploy: service `web` in cluster `prod`"
        );
        assert_eq!(spec.payload["deckhand"]["images"], json!(["app=web:v2"]));
        assert_eq!(
            spec.payload["deckhand"]["cluster"],
            "arn:aws:ecs:us-east-1:1:cluster/prod"
        );
        let back = RecordSpec::ecs_rollback("prod", "web", Some("7"));
        assert_eq!(back.default_environment, "prod-web");
        assert_eq!(back.payload["deckhand"]["command"], "ecs rollback");
        assert_eq!(back.payload["deckhand"]["to"], "7");
    }

    #[test]
    fn site_environments_name_bucket_and_prefix() {
        assert_eq!(
            RecordSpec::site_deploy("www", "").default_environment,
            "www"
        );
        assert_eq!(
            RecordSpec::site_deploy("www", "site/v2/").default_environment,
            "www-site-v2"
        );
    }
}
