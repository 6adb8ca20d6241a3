//! Colour at the output edge. `deckhand-core` renders plain text (its snapshots are plain); the
//! printer paints the lines it writes to stderr when colour is on: the verdict word (green,
//! red, or yellow for a verdict that is neither a success nor a failure of the change itself),
//! `error:` and `warning:`, and the `+`/`-` lines of a plan's diff. Nothing else is ever
//! painted: not stdout (`--output json`, text results), not `$GITHUB_OUTPUT`, not the step
//! summary.

use std::ffi::OsStr;

use deckhand_core::verdict::Verdict;

/// `--color`: clap's convention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when stderr is a terminal, `NO_COLOR` is unset or empty and `TERM` is not `dumb`.
    Auto,
    /// Always colour (even into a pipe or a file, and despite `NO_COLOR`).
    Always,
    /// Never colour.
    Never,
}

/// Whether to colour a stream: `--color always|never` decide; `auto` colours a terminal unless
/// `NO_COLOR` is set to a non-empty value (https://no-color.org) or `TERM` is `dumb`.
pub fn enabled(
    choice: ColorChoice,
    is_terminal: bool,
    no_color: Option<&OsStr>,
    term: Option<&OsStr>,
) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            is_terminal && no_color.is_none_or(OsStr::is_empty) && term.is_none_or(|t| t != "dumb")
        }
    }
}

/// Whether to colour stderr, from the environment.
pub(crate) fn stderr_enabled(choice: ColorChoice) -> bool {
    use std::io::IsTerminal;
    enabled(
        choice,
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
        std::env::var_os("TERM").as_deref(),
    )
}

const RESET: &str = "\x1b[0m";
const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const CYAN: &str = "\x1b[36m";
const BOLD: &str = "\x1b[1m";
const BOLD_RED: &str = "\x1b[1;31m";
const BOLD_GREEN: &str = "\x1b[1;32m";
const BOLD_YELLOW: &str = "\x1b[1;33m";

/// Paints plain text for a terminal, or passes it through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Painter {
    on: bool,
}

impl Painter {
    pub(crate) fn new(on: bool) -> Self {
        Self { on }
    }

    /// `text` (whole lines) with `error:`, `warning:` and diff lines painted. A diff is a `--- `
    /// line followed by a `+++ ` line, and runs while lines start as a unified diff's do.
    pub(crate) fn lines(&self, text: &str) -> String {
        if !self.on {
            return text.to_string();
        }
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        let mut out = String::with_capacity(text.len() + 16 * lines.len());
        let mut in_diff = false;
        for (i, raw) in lines.iter().enumerate() {
            let (line, end) = match raw.strip_suffix('\n') {
                Some(l) => (l, "\n"),
                None => (*raw, ""),
            };
            let next_is_new = lines
                .get(i + 1)
                .is_some_and(|n| n.starts_with("+++ ") || n.trim_end() == "+++");
            if line.starts_with("--- ") && next_is_new {
                in_diff = true;
            } else if in_diff && !matches!(line.chars().next(), Some(' ' | '+' | '-' | '@' | '\\'))
            {
                in_diff = false;
            }
            if in_diff {
                let color = if line.starts_with("--- ") || line.starts_with("+++ ") {
                    BOLD
                } else if line.starts_with("@@") {
                    CYAN
                } else if line.starts_with('+') {
                    GREEN
                } else if line.starts_with('-') {
                    RED
                } else {
                    ""
                };
                if color.is_empty() {
                    out.push_str(line);
                } else {
                    out.push_str(&format!("{color}{line}{RESET}"));
                }
            } else {
                out.push_str(&self.keyword(line));
            }
            out.push_str(end);
        }
        out
    }

    /// A line with its leading `error:` or `warning:` (after indentation) painted.
    fn keyword(&self, line: &str) -> String {
        let body = line.trim_start();
        let indent = &line[..line.len() - body.len()];
        for (word, color) in [("error:", BOLD_RED), ("warning:", BOLD_YELLOW)] {
            if let Some(rest) = body.strip_prefix(word) {
                return format!("{indent}{color}{word}{RESET}{rest}");
            }
        }
        line.to_string()
    }

    /// A report's last lines: the verdict word of `verdict: headline` in the verdict's colour,
    /// then as [`Painter::lines`].
    pub(crate) fn report(&self, text: &str, verdict: Verdict) -> String {
        if !self.on {
            return text.to_string();
        }
        let word = format!("{verdict}:");
        if let Some(rest) = text.strip_prefix(&word) {
            let color = verdict_color(verdict);
            return format!("{color}{word}{RESET}{}", self.lines(rest));
        }
        self.lines(text)
    }
}

/// Green for a success, red for a failure, yellow for the verdicts in between: the change was
/// not judged (timed out, cancelled, replaced by someone else's).
fn verdict_color(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Succeeded | Verdict::NoChange | Verdict::DryRun | Verdict::Dispatched => {
            BOLD_GREEN
        }
        Verdict::TimedOut | Verdict::Cancelled | Verdict::Superseded => BOLD_YELLOW,
        Verdict::Failed
        | Verdict::RolledBack
        | Verdict::RollbackFailed
        | Verdict::NotStarted
        | Verdict::InvalidInput
        | Verdict::Error => BOLD_RED,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_colours_a_terminal_unless_no_color_or_a_dumb_terminal() {
        let auto = |tty, no_color: Option<&str>, term: Option<&str>| {
            enabled(
                ColorChoice::Auto,
                tty,
                no_color.map(OsStr::new),
                term.map(OsStr::new),
            )
        };
        assert!(auto(true, None, Some("xterm-256color")));
        assert!(auto(true, None, None));
        // no-color.org: set and not empty disables it; empty is as if unset.
        assert!(!auto(true, Some("1"), Some("xterm")));
        assert!(!auto(true, Some("0"), Some("xterm")));
        assert!(auto(true, Some(""), Some("xterm")));
        assert!(!auto(true, None, Some("dumb")));
        assert!(!auto(false, None, Some("xterm")));
        // `--color` overrides all of it.
        assert!(enabled(
            ColorChoice::Always,
            false,
            Some(OsStr::new("1")),
            Some(OsStr::new("dumb"))
        ));
        assert!(!enabled(
            ColorChoice::Never,
            true,
            None,
            Some(OsStr::new("xterm"))
        ));
    }

    #[test]
    fn paints_keywords_verdicts_and_diffs_only() {
        let p = Painter::new(true);
        assert_eq!(
            p.lines("error: no such service\n  hint: check --cluster\n"),
            "\x1b[1;31merror:\x1b[0m no such service\n  hint: check --cluster\n"
        );
        assert_eq!(
            p.lines("  warning: poll failed\n"),
            "  \x1b[1;33mwarning:\x1b[0m poll failed\n"
        );
        let plan = "plan:\n  - a list item\n\n--- web:1 (live)\n+++ web (new)\n@@ -1,2 +1,2 @@\n   \"a\": 1,\n-  \"b\": 1\n+  \"b\": 2\n\nafter\n- not a diff\n";
        let painted = p.lines(plan);
        assert!(
            painted.starts_with("plan:\n  - a list item\n\n\x1b[1m--- web:1"),
            "{painted}"
        );
        assert!(
            painted.contains("\x1b[31m-  \"b\": 1\x1b[0m\n\x1b[32m+  \"b\": 2\x1b[0m\n"),
            "{painted}"
        );
        assert!(painted.ends_with("\nafter\n- not a diff\n"), "{painted}");
        assert_eq!(
            p.report("succeeded: deployed\n", Verdict::Succeeded),
            "\x1b[1;32msucceeded:\x1b[0m deployed\n"
        );
        assert!(
            p.report("timed-out: still going\n", Verdict::TimedOut)
                .starts_with("\x1b[1;33m")
        );

        let off = Painter::new(false);
        assert_eq!(off.lines(plan), plan);
        assert_eq!(
            off.report("succeeded: x\n", Verdict::Succeeded),
            "succeeded: x\n"
        );
    }
}
