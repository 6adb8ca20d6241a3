//! Changed files: a path and how it changed, from git's name-status letters or from a
//! `--files-from` list.

use std::fmt;
use std::str::FromStr;

/// How a file changed, in the words of paths-filter's status rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeStatus {
    /// `A`
    Added,
    /// `C`
    Copied,
    /// `D`
    Deleted,
    /// `M`
    Modified,
    /// `R`
    Renamed,
    /// `U`
    Unmerged,
    /// A change no status rule names: git's `T` (type change, e.g. a file replaced by a
    /// symlink), or the API's `changed` and `unchanged`. As in paths-filter, such a file
    /// matches only rules without a status.
    Other,
}

impl ChangeStatus {
    /// Every status, in the order the words are listed in messages.
    pub const ALL: [Self; 6] = [
        Self::Added,
        Self::Copied,
        Self::Deleted,
        Self::Modified,
        Self::Renamed,
        Self::Unmerged,
    ];

    /// The word used in filter files (`added`, `modified`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "added",
            Self::Copied => "copied",
            Self::Deleted => "deleted",
            Self::Modified => "modified",
            Self::Renamed => "renamed",
            Self::Unmerged => "unmerged",
            Self::Other => "other",
        }
    }

    /// Reads a status word, in any case (`added`, `Modified`).
    pub fn from_word(word: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(word))
    }

    /// Reads a status as `git diff --name-status` prints it: one letter, and for renames and
    /// copies a similarity score (`R100`, `C075`). A type change (`T`, e.g. a file replaced by a
    /// symlink) is [`ChangeStatus::Other`], as paths-filter has it: only rules without a status
    /// see it.
    pub fn from_git(code: &str) -> Option<Self> {
        let mut chars = code.chars();
        let letter = chars.next()?;
        let score = chars.as_str();
        let scored = matches!(letter, 'R' | 'C');
        if !(score.is_empty() || scored && score.bytes().all(|b| b.is_ascii_digit())) {
            return None;
        }
        Some(match letter {
            'A' => Self::Added,
            'C' => Self::Copied,
            'D' => Self::Deleted,
            'M' => Self::Modified,
            'T' => Self::Other,
            'R' => Self::Renamed,
            'U' => Self::Unmerged,
            _ => return None,
        })
    }

    /// The words, for messages: `added, copied, deleted, modified, renamed or unmerged`.
    pub fn word_list() -> String {
        let words: Vec<&str> = Self::ALL.iter().map(|s| s.as_str()).collect();
        format!(
            "{} or {}",
            words[..words.len() - 1].join(", "),
            words[words.len() - 1]
        )
    }
}

impl fmt::Display for ChangeStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The files of a pull request as the REST API lists them (`GET .../pulls/{n}/files`: each
/// entry's `status`, `filename` and, for a rename, `previous_filename`), as paths-filter reads
/// them: a rename is the new path added plus the old path deleted, `removed` is deleted, and
/// `changed`/`unchanged` (or any status GitHub adds later) match only rules without a status.
pub fn from_api<'a>(
    entries: impl IntoIterator<Item = (&'a str, &'a str, Option<&'a str>)>,
) -> Vec<ChangedFile> {
    let mut files = Vec::new();
    for (status, filename, previous) in entries {
        match status {
            "renamed" => {
                files.push(ChangedFile::new(filename, ChangeStatus::Added));
                if let Some(old) = previous {
                    files.push(ChangedFile::new(old, ChangeStatus::Deleted));
                }
            }
            "removed" => files.push(ChangedFile::new(filename, ChangeStatus::Deleted)),
            other => files.push(ChangedFile::new(
                filename,
                ChangeStatus::from_word(other).unwrap_or(ChangeStatus::Other),
            )),
        }
    }
    files
}

/// A status that is neither a git letter nor a status word.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown change status `{0}` (expected a git letter A, C, D, M, R, T or U, or one of {list})", list = ChangeStatus::word_list())]
pub struct UnknownStatus(pub String);

impl FromStr for ChangeStatus {
    type Err = UnknownStatus;

    /// A git letter (`M`, `R100`) or a word (`modified`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_git(s)
            .or_else(|| Self::from_word(s))
            .ok_or_else(|| UnknownStatus(s.to_string()))
    }
}

/// A path that changed between two commits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct ChangedFile {
    /// Repository-relative, as git prints it (`src/main.rs`).
    pub path: String,
    /// How it changed.
    pub status: ChangeStatus,
}

impl ChangedFile {
    /// A file with `status`.
    pub fn new(path: impl Into<String>, status: ChangeStatus) -> Self {
        Self {
            path: path.into(),
            status,
        }
    }
}

/// A `--files-from` list that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}:{line}: {message}")]
pub struct FilesFromError {
    /// The list, as the user named it.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Reads a list of changed files, one `STATUS<TAB>PATH` a line, where STATUS is a git letter
/// (`M`, `R100`) or a word (`modified`). Blank lines are skipped; a trailing `\r` is dropped.
///
/// `git diff --name-status` output can be given as is: its rename and copy lines carry two paths
/// (`R100<TAB>old<TAB>new`). A rename yields both paths as renamed (the file left the old place
/// and arrived at the new one, and a filter on either should see it); a copy yields only the new
/// path, since the source did not change. Paths are taken verbatim (git's quoting of unusual
/// names is not undone).
pub fn parse_files_from(path: &str, text: &str) -> Result<Vec<ChangedFile>, FilesFromError> {
    let mut files = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() {
            continue;
        }
        let fail = |message: String| FilesFromError {
            path: path.to_string(),
            line: index + 1,
            message,
        };
        let mut fields = line.split('\t');
        let code = fields.next().unwrap_or_default();
        let paths: Vec<&str> = fields.collect();
        if paths.is_empty() {
            return Err(fail(format!(
                "expected `STATUS<TAB>PATH`, found `{line}` (the status and the path are separated by a tab)"
            )));
        }
        let status: ChangeStatus = code
            .trim()
            .parse()
            .map_err(|e: UnknownStatus| fail(e.to_string()))?;
        if let Some(empty) = paths.iter().position(|p| p.is_empty()) {
            return Err(fail(if paths.len() == 1 {
                "the path is empty".to_string()
            } else {
                format!("path {} of {} is empty", empty + 1, paths.len())
            }));
        }
        match (status, paths.as_slice()) {
            (_, [one]) => files.push(ChangedFile::new(*one, status)),
            (ChangeStatus::Renamed, [old, new]) => {
                files.push(ChangedFile::new(*old, status));
                files.push(ChangedFile::new(*new, status));
            }
            (ChangeStatus::Copied, [_source, new]) => files.push(ChangedFile::new(*new, status)),
            _ => {
                return Err(fail(format!(
                    "expected one path after `{code}` (two only for a rename or a copy), found {}",
                    paths.len()
                )));
            }
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_letters_and_words() {
        let cases: &[(&str, Option<ChangeStatus>)] = &[
            ("A", Some(ChangeStatus::Added)),
            ("C", Some(ChangeStatus::Copied)),
            ("C075", Some(ChangeStatus::Copied)),
            ("D", Some(ChangeStatus::Deleted)),
            ("M", Some(ChangeStatus::Modified)),
            ("T", Some(ChangeStatus::Other)),
            ("R", Some(ChangeStatus::Renamed)),
            ("R100", Some(ChangeStatus::Renamed)),
            ("U", Some(ChangeStatus::Unmerged)),
            ("added", Some(ChangeStatus::Added)),
            ("Modified", Some(ChangeStatus::Modified)),
            ("UNMERGED", Some(ChangeStatus::Unmerged)),
            ("M100", None),
            ("R1x", None),
            ("X", None),
            ("a", None),
            ("", None),
            ("add", None),
        ];
        for (text, expected) in cases {
            assert_eq!(text.parse::<ChangeStatus>().ok(), *expected, "{text:?}");
        }
    }

    #[test]
    fn api_renames_split_into_an_add_and_a_delete() {
        let files = from_api([
            ("added", "a.txt", None),
            ("removed", "gone.txt", None),
            ("renamed", "new/name.rs", Some("old/name.rs")),
            ("modified", "m.rs", None),
            ("copied", "copy.rs", None),
            ("changed", "mode.sh", None),
            ("unchanged", "same.txt", None),
        ]);
        let got: Vec<(&str, ChangeStatus)> =
            files.iter().map(|f| (f.path.as_str(), f.status)).collect();
        assert_eq!(
            got,
            [
                ("a.txt", ChangeStatus::Added),
                ("gone.txt", ChangeStatus::Deleted),
                ("new/name.rs", ChangeStatus::Added),
                ("old/name.rs", ChangeStatus::Deleted),
                ("m.rs", ChangeStatus::Modified),
                ("copy.rs", ChangeStatus::Copied),
                ("mode.sh", ChangeStatus::Other),
                ("same.txt", ChangeStatus::Other),
            ]
        );
    }

    #[test]
    fn unknown_status_lists_the_choices() {
        let err = "X".parse::<ChangeStatus>().unwrap_err().to_string();
        assert_eq!(
            err,
            "unknown change status `X` (expected a git letter A, C, D, M, R, T or U, or one of added, copied, deleted, modified, renamed or unmerged)"
        );
    }

    #[test]
    fn files_from_reads_letters_words_renames_and_skips_blank_lines() {
        let text = "M\tsrc/main.rs\n\nadded\tdocs/new file.md\r\nR100\told/a.rs\tnew/a.rs\nC75\tsrc/x.rs\tsrc/y.rs\n  \nD\t.github/workflows/ci.yml\n";
        let files = parse_files_from("changed.txt", text).unwrap();
        let got: Vec<(&str, ChangeStatus)> =
            files.iter().map(|f| (f.path.as_str(), f.status)).collect();
        assert_eq!(
            got,
            [
                ("src/main.rs", ChangeStatus::Modified),
                ("docs/new file.md", ChangeStatus::Added),
                ("old/a.rs", ChangeStatus::Renamed),
                ("new/a.rs", ChangeStatus::Renamed),
                ("src/y.rs", ChangeStatus::Copied),
                (".github/workflows/ci.yml", ChangeStatus::Deleted),
            ]
        );
    }

    #[test]
    fn files_from_errors_name_the_line() {
        let cases = [
            (
                "M\ta\nM b\n",
                "changed.txt:2: expected `STATUS<TAB>PATH`, found `M b` (the status and the path are separated by a tab)",
            ),
            (
                "\n\nQ\ta\n",
                "changed.txt:3: unknown change status `Q` (expected a git letter A, C, D, M, R, T or U, or one of added, copied, deleted, modified, renamed or unmerged)",
            ),
            ("M\t\n", "changed.txt:1: the path is empty"),
            (
                "M\ta\tb\n",
                "changed.txt:1: expected one path after `M` (two only for a rename or a copy), found 2",
            ),
        ];
        for (text, expected) in cases {
            let err = parse_files_from("changed.txt", text).unwrap_err();
            assert_eq!(err.to_string(), expected, "{text:?}");
        }
    }

    #[test]
    fn files_from_empty_text_is_no_files() {
        assert_eq!(parse_files_from("f", "").unwrap(), []);
        assert_eq!(parse_files_from("f", "\n \n").unwrap(), []);
    }
}
