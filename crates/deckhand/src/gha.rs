//! The GitHub Actions contract: outputs, step summary, groups, annotations and masking.
//!
//! Workflow commands go to stderr (the runner reads commands from both streams) so stdout stays
//! reserved for `--output json`.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

// The outputs each command declares (its action mirrors them; `action_contract.rs` checks).
// They are defined beside the report that fills them, in `deckhand-core`.

/// Outputs of `ecs deploy`, `ecs diff` and `ecs rollback`.
pub const ECS_DEPLOY_OUTPUTS: &[&str] = deckhand_core::ecs::report::ECS_DEPLOY_OUTPUTS;
/// Outputs of `ecs run` (actions/ecs-run mirrors these).
pub const ECS_RUN_OUTPUTS: &[&str] = deckhand_core::ecs::run::ECS_RUN_OUTPUTS;
/// Outputs of `ecs deploy` (actions/ecs-deploy): the above and `services`, a fan-out's
/// per-service results.
pub const ECS_FANOUT_OUTPUTS: &[&str] = deckhand_core::ecs::fanout::ECS_FANOUT_OUTPUTS;
/// Outputs of `site deploy` (actions/static-site mirrors these).
pub const SITE_DEPLOY_OUTPUTS: &[&str] = deckhand_core::site::report::SITE_DEPLOY_OUTPUTS;
/// Outputs of `image build`.
pub const IMAGE_BUILD_OUTPUTS: &[&str] = deckhand_core::oci::report::IMAGE_BUILD_OUTPUTS;
/// Outputs of `nginx build` (actions/nginx-image mirrors these): the image's, then the
/// rollout's when `--deploy-*` is given.
pub const NGINX_BUILD_OUTPUTS: &[&str] = deckhand_core::oci::report::NGINX_BUILD_OUTPUTS;
/// The fixed outputs of `changes` (actions/changes mirrors these); besides them, one
/// `<filter>`, `<filter>_count` and `<filter>_files` per filter.
pub const CHANGES_OUTPUTS: &[&str] = deckhand_core::changes::report::CHANGES_OUTPUTS;
/// Outputs of `pr-comment` (actions/pr-comment mirrors these).
pub const PR_COMMENT_OUTPUTS: &[&str] = deckhand_core::pr_comment::PR_COMMENT_OUTPUTS;
/// Outputs of `dispatch`.
pub const DISPATCH_OUTPUTS: &[&str] = deckhand_core::dispatch::DISPATCH_OUTPUTS;
/// Outputs of `ecr login`; the password is masked first.
pub const ECR_LOGIN_OUTPUTS: &[&str] = deckhand_core::oci::ecr::ECR_LOGIN_OUTPUTS;

/// Where the Actions runner wants things, read from the environment.
#[derive(Debug, Clone, Default)]
pub struct Actions {
    /// Running inside GitHub Actions (`GITHUB_ACTIONS=true`): emit workflow commands.
    pub enabled: bool,
    /// `$GITHUB_OUTPUT`.
    pub output_file: Option<PathBuf>,
    /// `$GITHUB_STEP_SUMMARY`.
    pub summary_file: Option<PathBuf>,
}

impl Actions {
    /// Reads the runner's environment.
    pub fn from_env() -> Self {
        let path = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        Self {
            enabled: std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true"),
            output_file: path("GITHUB_OUTPUT"),
            summary_file: path("GITHUB_STEP_SUMMARY"),
        }
    }

    /// Appends outputs to `$GITHUB_OUTPUT`; multi-line values use the heredoc form with a
    /// delimiter that does not occur in the value.
    pub fn write_outputs<K: AsRef<str>, V: AsRef<str>>(
        &self,
        outputs: &[(K, V)],
    ) -> std::io::Result<()> {
        let Some(path) = &self.output_file else {
            return Ok(());
        };
        let mut text = String::new();
        for (name, value) in outputs {
            text.push_str(&format_output(name.as_ref(), value.as_ref()));
        }
        append(path, &text)
    }

    /// Appends Markdown to `$GITHUB_STEP_SUMMARY`.
    pub fn write_summary(&self, markdown: &str) -> std::io::Result<()> {
        let Some(path) = &self.summary_file else {
            return Ok(());
        };
        append(path, markdown)
    }
}

fn append(path: &PathBuf, text: &str) -> std::io::Result<()> {
    let mut f = OpenOptions::new().create(true).append(true).open(path)?;
    f.write_all(text.as_bytes())
}

/// One output in `$GITHUB_OUTPUT` syntax.
pub fn format_output(name: &str, value: &str) -> String {
    if !value.contains('\n') && !value.contains('\r') {
        return format!("{name}={value}\n");
    }
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut delimiter = format!("ghadelimiter_{seed:x}_{}", std::process::id());
    while value.lines().any(|l| l == delimiter) {
        delimiter.push('_');
    }
    format!("{name}<<{delimiter}\n{value}\n{delimiter}\n")
}

/// Escapes a workflow command's message.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// `::error title=...::message`.
pub fn error_command(title: &str, message: &str) -> String {
    format!(
        "::error title={}::{}",
        escape_property(title),
        escape_data(message)
    )
}

/// `::error file=F,line=L,col=C::message`: an annotation on a line of a file of the
/// repository (a malformed filters file), shown on that line in a pull request's diff.
pub fn error_at_command(file: &str, line: usize, column: usize, message: &str) -> String {
    format!(
        "::error file={},line={line},col={column}::{}",
        escape_property(file),
        escape_data(message)
    )
}

/// `::warning title=...::message`.
pub fn warning_command(title: &str, message: &str) -> String {
    format!(
        "::warning title={}::{}",
        escape_property(title),
        escape_data(message)
    )
}

/// `::add-mask::value`.
pub fn mask_command(value: &str) -> String {
    format!("::add-mask::{}", escape_data(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_line_output() {
        assert_eq!(format_output("verdict", "succeeded"), "verdict=succeeded\n");
    }

    #[test]
    fn multi_line_output_uses_a_heredoc() {
        let out = format_output("failure-report", "line one\nline two");
        let mut lines = out.lines();
        let first = lines.next().unwrap();
        let delimiter = first.strip_prefix("failure-report<<").unwrap();
        assert_eq!(lines.next(), Some("line one"));
        assert_eq!(lines.next(), Some("line two"));
        assert_eq!(lines.next(), Some(delimiter));
        assert_eq!(lines.next(), None);
    }

    #[test]
    fn commands_are_escaped() {
        assert_eq!(
            error_command("deploy: web, prod", "50% failed\nsee log"),
            "::error title=deploy%3A web%2C prod::50%25 failed%0Asee log"
        );
        assert_eq!(mask_command("a\nb"), "::add-mask::a%0Ab");
        assert_eq!(
            error_at_command(".github/filters.yml", 3, 5, "bad, very\nbad"),
            "::error file=.github/filters.yml,line=3,col=5::bad, very%0Abad"
        );
        // GitHub's rules: `%`, CR and LF in the data; also `:` and `,` in properties.
        assert_eq!(
            warning_command("deckhand: plan", "100% of\r\nthe tasks: a,b"),
            "::warning title=deckhand%3A plan::100%25 of%0D%0Athe tasks: a,b"
        );
    }
}
