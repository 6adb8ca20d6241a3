//! Filter files, change lists and evaluation, including paths-filter's own test scenarios.

use std::path::Path;

use super::*;

fn parse(yaml: &str) -> Filters {
    Filters::parse(Path::new("filters.yml"), yaml).unwrap_or_else(|e| panic!("{e}"))
}

fn modified(paths: &[&str]) -> Vec<ChangedFile> {
    paths
        .iter()
        .map(|p| ChangedFile::new(*p, ChangeStatus::Modified))
        .collect()
}

const PATHS_SOME: Options = Options {
    quantifier: Quantifier::Some,
    negation: NegationMode::Paths,
};
const PATHS_EVERY: Options = Options {
    quantifier: Quantifier::Every,
    negation: NegationMode::Paths,
};
const EXCLUDE_SOME: Options = Options {
    quantifier: Quantifier::Some,
    negation: NegationMode::Exclude,
};
const EXCLUDE_EVERY: Options = Options {
    quantifier: Quantifier::Every,
    negation: NegationMode::Exclude,
};

/// The paths `filter` matches among `files`.
fn matched(yaml: &str, filter: &str, files: &[ChangedFile], options: Options) -> Vec<String> {
    let evaluation = parse(yaml).evaluate(files, &options).unwrap();
    evaluation.files(filter).unwrap().to_vec()
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

#[test]
fn rules_come_as_a_glob_a_list_nested_lists_and_status_maps() {
    let filters = parse(
        "
shared: &shared
  - 'common/**'
  - 'config/**'
src:
  - *shared
  - 'src/**'
  - [['deep/**']]
inline: 'lib/**'
docs:
  - added|Modified : '**/*.md'
  - deleted: ['docs/**', ['README.md']]
  - '*.txt'
",
    );
    assert_eq!(
        filters.names().collect::<Vec<_>>(),
        ["shared", "src", "inline", "docs"],
        "file order is kept"
    );
    let globs = |name: &str| -> Vec<(Option<Vec<ChangeStatus>>, Vec<&str>)> {
        filters
            .get(name)
            .unwrap()
            .rules()
            .iter()
            .map(|r| {
                (
                    r.statuses().map(<[ChangeStatus]>::to_vec),
                    r.globs().iter().map(Glob::as_str).collect(),
                )
            })
            .collect()
    };
    assert_eq!(
        globs("src"),
        [
            (None, vec!["common/**"]),
            (None, vec!["config/**"]),
            (None, vec!["src/**"]),
            (None, vec!["deep/**"]),
        ]
    );
    assert_eq!(globs("inline"), [(None, vec!["lib/**"])]);
    assert_eq!(
        globs("docs"),
        [
            (
                Some(vec![ChangeStatus::Added, ChangeStatus::Modified]),
                vec!["**/*.md"]
            ),
            (
                Some(vec![ChangeStatus::Deleted]),
                vec!["docs/**", "README.md"]
            ),
            (None, vec!["*.txt"]),
        ]
    );
    assert_eq!(filters.len(), 4);
    assert_eq!(filters.path(), "filters.yml");
}

#[test]
fn names_that_yaml_reads_as_numbers_or_booleans_are_names() {
    let filters = parse("2024: 'archive/2024/**'\ntrue: 'x'\n");
    assert_eq!(filters.names().collect::<Vec<_>>(), ["2024", "true"]);
}

#[test]
fn malformed_files_say_where() {
    let cases = [
        ("not a mapping", "not a dictionary\n"),
        ("a list at the root", "- 'src/**'\n"),
        ("empty file", ""),
        ("only comments", "# nothing yet\n"),
        ("empty mapping", "{}\n"),
        ("yaml syntax", "src:\n  - 'a/**'\n bad: [\n"),
        ("unquoted leading star", "src:\n  - *.js\n"),
        ("unquoted globstar", "src: **/*.js\n"),
        ("alias to a missing anchor", "src:\n  - *shared\n"),
        ("empty filter name", "'': 'src/**'\n"),
        (
            "duplicate filter",
            "src: 'a/**'\nlib: 'b/**'\nsrc: 'c/**'\n",
        ),
        ("filter with nothing", "backend:\nfrontend: 'web/**'\n"),
        ("filter with an empty list", "backend: []\n"),
        ("null in a list", "backend:\n  - 'a/**'\n  -\n"),
        ("number rule", "backend:\n  - 'a/**'\n  - 2024\n"),
        ("boolean rule", "backend: true\n"),
        ("unknown status", "backend:\n  - added|changed: 'src/**'\n"),
        (
            "status key without status",
            "backend:\n  - ' | ': 'src/**'\n",
        ),
        ("status without globs", "backend:\n  - added: []\n"),
        (
            "status with a map",
            "backend:\n  - added:\n      some: value\n",
        ),
        ("status with null", "backend:\n  - deleted:\n"),
        ("empty status map", "backend:\n  - {}\n"),
        ("bad glob", "backend:\n  - 'src/**'\n  - '@(a|b'\n"),
        (
            "bad glob in a status list",
            "backend:\n  - modified: ['ok/**', '[z-a]']\n",
        ),
        ("empty glob", "backend: ''\n"),
        (
            "error inside an anchor used later",
            "shared: &shared\n  - unmerged|nope: 'x'\nsrc:\n  - *shared\n",
        ),
    ];
    let report: Vec<String> = cases
        .iter()
        .map(|(what, yaml)| {
            let err = Filters::parse(Path::new(".github/filters.yml"), yaml).unwrap_err();
            format!("{what}:\n{err}\n")
        })
        .collect();
    insta::assert_snapshot!(report.join("\n"));
}

#[test]
fn errors_carry_line_and_column() {
    let err = Filters::parse(
        Path::new("f.yml"),
        "ok: 'a/**'\nbackend:\n  - 'src/**'\n  - removed: 'x'\n",
    )
    .unwrap_err();
    let FilterError::Invalid {
        path, line, column, ..
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!((path.as_str(), *line, *column), ("f.yml", 4, 5), "{err}");
    assert_eq!(err.filter(), None);
}

// ---------------------------------------------------------------------------------------------
// Evaluation: paths-filter's behaviour (the default)
// ---------------------------------------------------------------------------------------------

#[test]
fn paths_filter_matching_scenarios() {
    let yaml = "
src:
  - 'src/**/*.js'
test:
  - 'test/**/*.js'
both:
  - 'src/**/*.js'
  - 'test/**/*.js'
any: '**'
dot: '**/*.js'
";
    let files = modified(&["test/test.js", ".test/.test.js", "not_src/other_file.js"]);
    let evaluation = parse(yaml).evaluate(&files, &Options::default()).unwrap();
    assert_eq!(evaluation.files("src").unwrap(), [] as [String; 0]);
    assert_eq!(evaluation.files("test").unwrap(), ["test/test.js"]);
    assert_eq!(evaluation.files("both").unwrap(), ["test/test.js"]);
    assert_eq!(
        evaluation.files("any").unwrap(),
        ["test/test.js", ".test/.test.js", "not_src/other_file.js"]
    );
    assert_eq!(
        evaluation.files("dot").unwrap(),
        ["test/test.js", ".test/.test.js", "not_src/other_file.js"]
    );
    assert_eq!(evaluation.changes, ["test", "both", "any", "dot"]);
}

#[test]
fn anchors_include_another_filter_s_rules() {
    let yaml = "
shared: &shared
  - 'common/**/*'
  - 'config/**/*'
src:
  - *shared
  - 'src/**/*'
statuses:
  - modified: *shared
";
    let files = modified(&["config/settings.yml", "common/anotherFile.js"]);
    let evaluation = parse(yaml).evaluate(&files, &Options::default()).unwrap();
    assert_eq!(
        evaluation.files("src").unwrap(),
        ["config/settings.yml", "common/anotherFile.js"]
    );
    assert_eq!(
        evaluation.files("statuses").unwrap(),
        ["config/settings.yml", "common/anotherFile.js"]
    );
}

#[test]
fn status_rules_match_only_their_statuses() {
    let yaml = "
add:
  - added: '**/*'
addOrModify:
  - added|modified: '**/*'
deletedDocs:
  - deleted: 'docs/**'
";
    let files = vec![
        ChangedFile::new("file.js", ChangeStatus::Modified),
        ChangedFile::new("new.js", ChangeStatus::Added),
        ChangedFile::new("docs/old.md", ChangeStatus::Deleted),
        ChangedFile::new("docs/kept.md", ChangeStatus::Renamed),
    ];
    let evaluation = parse(yaml).evaluate(&files, &Options::default()).unwrap();
    assert_eq!(evaluation.files("add").unwrap(), ["new.js"]);
    assert_eq!(
        evaluation.files("addOrModify").unwrap(),
        ["file.js", "new.js"]
    );
    assert_eq!(evaluation.files("deletedDocs").unwrap(), ["docs/old.md"]);
}

/// paths-filter issue #260, reproduced on purpose: under `some`, a `!pattern` rule is just
/// another rule, and it matches every file it does not name. So "src except markdown" written
/// as two rules matches markdown in `src` (through `src/**`) and every non-markdown file
/// anywhere (through `!**/*.md`): the negation widens the filter.
#[test]
fn negation_widens_a_filter_under_some_as_in_paths_filter() {
    let yaml = "src:\n  - 'src/**'\n  - '!**/*.md'\n";
    let files = modified(&[
        "src/README.md",
        "other/file.txt",
        "src/index.ts",
        "docs/a.md",
    ]);
    assert_eq!(
        matched(yaml, "src", &files, PATHS_SOME),
        ["src/README.md", "other/file.txt", "src/index.ts"]
    );
    // The fix users expect is opt-in.
    assert_eq!(matched(yaml, "src", &files, EXCLUDE_SOME), ["src/index.ts"]);
    // paths-filter's README workaround: `every`.
    assert_eq!(matched(yaml, "src", &files, PATHS_EVERY), ["src/index.ts"]);
}

#[test]
fn globs_of_one_status_key_are_ored_in_paths_mode() {
    // One status key is one rule whose globs are OR-ed, so the negation widens it as well.
    let yaml = "src:\n  - added|modified: ['src/**', '!**/*.md']\n";
    let files = vec![
        ChangedFile::new("src/README.md", ChangeStatus::Added),
        ChangedFile::new("other/file.txt", ChangeStatus::Added),
        ChangedFile::new("src/index.ts", ChangeStatus::Deleted),
    ];
    assert_eq!(
        matched(yaml, "src", &files, PATHS_SOME),
        ["src/README.md", "other/file.txt"]
    );
    assert_eq!(
        matched(yaml, "src", &files, EXCLUDE_SOME),
        [] as [String; 0]
    );
}

#[test]
fn every_requires_every_rule() {
    let yaml = "backend:\n  - 'pkg/a/b/c/**'\n  - '!**/*.jpeg'\n  - '!**/*.md'\n";
    let files = modified(&[
        "pkg/a/b/c/some-class.ts",
        "pkg/a/b/c/src/main/some-class.ts",
        "pkg/x/y/z/some-class.ts",
        "pkg/x/y/z/some-pic.jpeg",
        "pkg/a/b/c/some-pics.jpeg",
        "pkg/a/b/c/src/main/some-docs.md",
    ]);
    let expected = [
        "pkg/a/b/c/some-class.ts",
        "pkg/a/b/c/src/main/some-class.ts",
    ];
    assert_eq!(matched(yaml, "backend", &files, PATHS_EVERY), expected);
    assert_eq!(matched(yaml, "backend", &files, EXCLUDE_SOME), expected);
    assert_eq!(matched(yaml, "backend", &files, EXCLUDE_EVERY), expected);
}

#[test]
fn every_cannot_express_a_union_but_exclude_mode_can() {
    let yaml = "
mobile:
  - 'mobile/**'
  - '!mobile/**/*.md'
  - '!mobile/.config/**'
  - '.github/workflows/test_mobile.yml'
";
    let files = modified(&[
        "mobile/main.kt",
        "mobile/src/some/Activity.kt",
        ".github/workflows/test_mobile.yml",
        "mobile/README.md",
        "mobile/docs/some/page.md",
        "mobile/.config/lint.json",
        "backend/main.go",
        ".github/workflows/test_backend.yml",
    ]);
    assert_eq!(
        matched(yaml, "mobile", &files, EXCLUDE_SOME),
        [
            "mobile/main.kt",
            "mobile/src/some/Activity.kt",
            ".github/workflows/test_mobile.yml"
        ]
    );
    // Under `every`, the workflow file fails `mobile/**`.
    assert_eq!(
        matched(yaml, "mobile", &files, PATHS_EVERY),
        [] as [String; 0]
    );
}

// ---------------------------------------------------------------------------------------------
// Evaluation: exclude mode
// ---------------------------------------------------------------------------------------------

#[test]
fn exclusions_win_whatever_their_order() {
    let yaml = "
excludeFirst:
  - '!**/*.md'
  - 'src/**'
excludeLast:
  - 'src/**'
  - '!**/*.md'
reincluded:
  - 'src/**'
  - '!**/*.md'
  - 'src/docs/**'
";
    let files = modified(&[
        "src/index.ts",
        "src/README.md",
        "src/docs/guide.md",
        "src/docs/logo.png",
    ]);
    let evaluation = parse(yaml).evaluate(&files, &EXCLUDE_SOME).unwrap();
    let expected = ["src/index.ts", "src/docs/logo.png"];
    assert_eq!(evaluation.files("excludeFirst").unwrap(), expected);
    assert_eq!(evaluation.files("excludeLast").unwrap(), expected);
    assert_eq!(evaluation.files("reincluded").unwrap(), expected);
}

#[test]
fn exclusions_respect_their_status() {
    let yaml = "src:\n  - 'src/**'\n  - deleted: '!src/generated/**'\n";
    let files = vec![
        ChangedFile::new("src/generated/api.ts", ChangeStatus::Deleted),
        ChangedFile::new("src/generated/client.ts", ChangeStatus::Modified),
    ];
    assert_eq!(
        matched(yaml, "src", &files, EXCLUDE_SOME),
        ["src/generated/client.ts"]
    );
}

#[test]
fn exclude_mode_splits_a_status_key_into_includes_and_excludes() {
    let yaml = "
src:
  - added|modified: 'src/**'
  - added|modified: ['!**/*.md']
";
    let files = vec![
        ChangedFile::new("src/index.ts", ChangeStatus::Added),
        ChangedFile::new("src/README.md", ChangeStatus::Added),
        ChangedFile::new("src/legacy.ts", ChangeStatus::Deleted),
    ];
    assert_eq!(matched(yaml, "src", &files, EXCLUDE_SOME), ["src/index.ts"]);
}

#[test]
fn a_negated_group_is_a_positive_pattern() {
    let yaml = "backend:\n  - '!(**/*.tsx|**/*.less)'\n";
    let files = modified(&["src/server.py", "src/ui.tsx", "src/ui.less"]);
    assert_eq!(
        matched(yaml, "backend", &files, EXCLUDE_SOME),
        ["src/server.py"]
    );
    assert_eq!(
        matched(yaml, "backend", &files, PATHS_SOME),
        ["src/server.py"]
    );
}

#[test]
fn a_filter_of_only_negations_is_an_error_in_exclude_mode_only() {
    let yaml = "src: 'src/**'\ndocs:\n  - '!**/*.md'\n  - deleted: '!**/*.txt'\n";
    let filters = parse(yaml);
    let files = modified(&["a.md", "b.rs"]);
    // paths-filter: the negation is a complement, so the filter matches `b.rs`.
    let evaluation = filters.evaluate(&files, &PATHS_SOME).unwrap();
    assert_eq!(evaluation.files("docs").unwrap(), ["b.rs"]);
    assert_eq!(filters.validate(NegationMode::Paths), Ok(()));

    let err = filters.evaluate(&files, &EXCLUDE_SOME).unwrap_err();
    assert_eq!(err, filters.validate(NegationMode::Exclude).unwrap_err());
    assert_eq!(err.filter(), Some("docs"));
    assert_eq!(
        err.to_string(),
        "filters.yml: filter `docs` has only negative (`!`) patterns, so in exclude mode no file can match it\nhint: list what the filter covers first (e.g. `- 'src/**'`), then the `!` patterns to leave out"
    );
}

// ---------------------------------------------------------------------------------------------
// The result
// ---------------------------------------------------------------------------------------------

#[test]
fn results_keep_file_order_and_input_order_and_list_each_path_once() {
    let yaml = "web: 'web/**'\napi: 'api/**'\nadded: {added: '**'}\nnone: 'nothing/**'\n";
    let files = vec![
        ChangedFile::new("web/b.ts", ChangeStatus::Modified),
        ChangedFile::new("api/x.rs", ChangeStatus::Deleted),
        ChangedFile::new("web/a.ts", ChangeStatus::Modified),
        ChangedFile::new("api/x.rs", ChangeStatus::Added),
        ChangedFile::new("web/b.ts", ChangeStatus::Deleted),
    ];
    let evaluation = parse(yaml).evaluate(&files, &Options::default()).unwrap();
    assert_eq!(evaluation.changes, ["web", "api", "added"]);
    assert_eq!(
        evaluation.filters,
        [
            (
                "web".to_string(),
                vec!["web/b.ts".to_string(), "web/a.ts".to_string()]
            ),
            ("api".to_string(), vec!["api/x.rs".to_string()]),
            // Only the second entry of `api/x.rs` is an addition: a path is listed at its
            // first *matching* entry.
            ("added".to_string(), vec!["api/x.rs".to_string()]),
            ("none".to_string(), vec![]),
        ]
    );
    assert!(evaluation.changed("api"));
    assert!(!evaluation.changed("none"));
    assert_eq!(evaluation.files("missing"), None);
    assert_eq!(
        evaluation.to_json().to_string(),
        r#"{"changes":["web","api","added"],"filters":{"web":["web/b.ts","web/a.ts"],"api":["api/x.rs"],"added":["api/x.rs"],"none":[]}}"#
    );
}

#[test]
fn json_keeps_filters_in_file_order_even_when_names_sort_differently() {
    let yaml = "zeta: '**'\nalpha: '**'\n10: '**'\n9: '**'\n";
    let evaluation = parse(yaml)
        .evaluate(&modified(&["a"]), &Options::default())
        .unwrap();
    assert_eq!(
        evaluation.to_json().to_string(),
        r#"{"changes":["zeta","alpha","10","9"],"filters":{"zeta":["a"],"alpha":["a"],"10":["a"],"9":["a"]}}"#
    );
}

#[test]
fn all_changed_counts_every_filter_with_no_files() {
    let filters = parse("web: 'web/**'\napi: 'api/**'\n");
    let evaluation = Evaluation::all_changed(&filters);
    assert_eq!(evaluation.changes, ["web", "api"]);
    assert_eq!(
        evaluation.to_json().to_string(),
        r#"{"changes":["web","api"],"filters":{"web":[],"api":[]}}"#
    );
}

#[test]
fn no_files_change_nothing() {
    let evaluation = parse("web: '**'\n")
        .evaluate(&[], &Options::default())
        .unwrap();
    assert_eq!(evaluation.changes, [] as [String; 0]);
    assert_eq!(
        evaluation.to_json().to_string(),
        r#"{"changes":[],"filters":{"web":[]}}"#
    );
}

#[test]
fn option_values_parse_like_the_action_inputs() {
    assert_eq!("some".parse(), Ok(Quantifier::Some));
    assert_eq!("every".parse(), Ok(Quantifier::Every));
    assert_eq!("paths".parse(), Ok(NegationMode::Paths));
    assert_eq!("exclude".parse(), Ok(NegationMode::Exclude));
    assert_eq!(
        "all".parse::<Quantifier>().unwrap_err().to_string(),
        "unknown quantifier `all` (expected `some` or `every`)"
    );
    assert_eq!(
        "gitignore".parse::<NegationMode>().unwrap_err().to_string(),
        "unknown negation mode `gitignore` (expected `paths` or `exclude`)"
    );
    assert_eq!(Options::default(), PATHS_SOME);
}

#[test]
fn files_from_feeds_evaluation() {
    let files = parse_files_from(
        "changed.txt",
        "M\tweb/index.html\nR100\tapi/old.rs\tlib/new.rs\nD\tdocs/x.md\n",
    )
    .unwrap();
    let yaml = "web: 'web/**'\napi:\n  - renamed: 'api/**'\nlib: 'lib/**'\ndocs:\n  - deleted: 'docs/**'\n";
    let evaluation = parse(yaml).evaluate(&files, &Options::default()).unwrap();
    assert_eq!(evaluation.changes, ["web", "api", "lib", "docs"]);
}

/// Not a timing assertion (those belong in benchmarks): a sanity check that evaluation work
/// grows with files x rules and nothing worse. 10,000 files x 50 filters must finish well within
/// the test timeout even unoptimized, and every count is checked so the work is not skipped.
#[test]
fn ten_thousand_files_by_fifty_filters() {
    let dirs = [
        "src",
        "crates/core/src",
        "web/app/components",
        "docs/guide",
        ".github/workflows",
    ];
    let exts = ["rs", "ts", "tsx", "md", "json"];
    let files: Vec<ChangedFile> = (0..10_000)
        .map(|i| {
            let path = format!("{}/m{}/file_{i}.{}", dirs[i % 5], i % 7, exts[(i / 5) % 5]);
            ChangedFile::new(path, ChangeStatus::Modified)
        })
        .collect();
    let mut yaml = String::new();
    for f in 0..50 {
        let dir = dirs[f % 5];
        yaml.push_str(&format!(
            "f{f}:\n  - '{dir}/m{}/**'\n  - '**/*.{{json,md}}'\n  - modified: '{dir}/**/*.@(ts|tsx)'\n  - '!**/*.test.ts'\n",
            f % 7
        ));
    }
    let filters = parse(&yaml);
    let evaluation = filters.evaluate(&files, &EXCLUDE_SOME).unwrap();
    let total: usize = evaluation.filters.iter().map(|(_, f)| f.len()).sum();
    // Per filter: json/md files (4,000), plus its directory's other files in its `m` folder,
    // plus ts/tsx files of its directory.
    let expected: usize = (0..50)
        .map(|f| {
            files
                .iter()
                .filter(|file| {
                    let p = &file.path;
                    let dir = dirs[f % 5];
                    p.ends_with(".json")
                        || p.ends_with(".md")
                        || p.starts_with(&format!("{dir}/m{}/", f % 7))
                        || (p.starts_with(&format!("{dir}/"))
                            && (p.ends_with(".ts") || p.ends_with(".tsx")))
                })
                .count()
        })
        .sum();
    assert_eq!(total, expected);
    assert_eq!(evaluation.changes.len(), 50);
}
