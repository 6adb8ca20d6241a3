//! Glob semantics, case by case. Every row of the `picomatch` tables gives the result that
//! picomatch 2.3.1 (the version paths-filter bundles) returns with `{ dot: true }`; the
//! `DIVERGENCES` table lists where this matcher deliberately differs, with picomatch's answer.

use super::*;

/// `(pattern, path, matches)`
type Case = (&'static str, &'static str, bool);

fn check(table: &str, cases: &[Case]) {
    let mut failures = Vec::new();
    for &(pattern, path, expected) in cases {
        let glob = Glob::new(pattern).unwrap_or_else(|e| panic!("{table}: {e}"));
        if glob.matches(path) != expected {
            failures.push(format!("{pattern:?} vs {path:?}: expected {expected}"));
        }
    }
    assert!(failures.is_empty(), "{table}:\n{}", failures.join("\n"));
}

#[test]
fn paths_filter_readme_and_tests() {
    check(
        "paths-filter",
        &[
            // `*` does not cross `/`; `**` does.
            ("src/**/*.js", "src/app/module/file.js", true),
            ("src/**/*.js", "not_src/other_file.js", false),
            ("src/**/*.js", "src/file.js", true),
            ("*.md", "README.md", true),
            ("*.md", "docs/a.md", false),
            ("**", "test/test.js", true),
            // dot: true — dot files and dot folders are matched by wildcards.
            ("**/*.js", ".test/.test.js", true),
            ("**", ".github/workflows/ci.yml", true),
            ("**/*.yml", ".github/workflows/ci.yml", true),
            // A bare directory name is not a prefix.
            ("src/package1", "src/package1", true),
            ("src/package1", "src/package1/a.rs", false),
            ("src/package1/**", "src/package1/a.rs", true),
            // Negating a group with OR-ed parts, one pattern.
            ("!(**/*.tsx|**/*.less)", "src/ui.tsx", false),
            ("!(**/*.tsx|**/*.less)", "src/ui.less", false),
            ("!(**/*.tsx|**/*.less)", "src/server.py", true),
            // The negation pattern of issue #260 is a complement.
            ("!**/*.md", "src/README.md", false),
            ("!**/*.md", "other/file.txt", true),
            ("!mobile/**/*.md", "mobile/docs/page.md", false),
            ("!mobile/**/*.md", "backend/main.go", true),
        ],
    );
}

#[test]
fn picomatch_stars_and_dots() {
    check(
        "stars",
        &[
            ("*", "a", true),
            ("*", ".dotfile", true),
            ("*", "a/b", false),
            ("*.md", ".md", true),
            ("*.md", "foo.md", true),
            ("*.md", ".verb.txt", false),
            ("*.md", "a/b/c/.dotfile.md", false),
            ("*.*", ".dotfile", true),
            ("*.*", "c", false),
            (".*", ".a", true),
            (".*.md", ".dotfile.md", true),
            ("a/.*", "a/.b", true),
            ("a/*/b", "a/.d/b", true),
            ("a/*/b", "a/c/b", true),
            ("a/*/b", "a/c/d/b", false),
            ("*dot", ".dot", true),
            ("?dot", ".dot", true),
            ("**/*dot", "a/b/.dot", true),
            ("**/?dot", "a/b/.dot", true),
            ("**/.[d]ot", "a/b/.dot", true),
            ("a*", "abc", true),
            ("*c", "abc", true),
            ("a*c", "abc", true),
            ("a*c", "ab/c", false),
            ("*/*", "a/b", true),
            ("*/*", "a/b/c", false),
            ("a/*/c/*.md", "a/bb.bb/c/xyz.md", true),
            ("[a]*", "aaa", true),
            ("[a]*", "a/b", false),
            // Case-sensitive.
            ("*.MD", "a.md", false),
            ("Src/**", "src/a", false),
        ],
    );
}

#[test]
fn picomatch_globstars() {
    check(
        "globstars",
        &[
            ("**/*.js", "a.js", true),
            ("**/a*", "a.js", true),
            ("**/abc", "abc", true),
            ("**", "a", true),
            ("**", "a/b/c/d", true),
            ("**/**", "a", true),
            ("**/**/*", "a/b", true),
            ("**/**/a", "a", true),
            ("**/a", "a", true),
            ("**/a/**", "a", true),
            ("a/**", "a", true),
            ("a/**", "a/b", true),
            ("a/**", "a/b/c/d", true),
            ("a/**", "ab", false),
            ("a/**/*", "a", false),
            ("a/**/*", "a/b", true),
            ("a/**/*", "a/b/c/d", true),
            ("a/**/**/*", "a/b/c", true),
            ("a/**/b", "a/b", true),
            ("a/**/b", "a/x/y/b", true),
            ("**/b", "a/b", true),
            ("**/b", "a/b/c", false),
            ("**/b/*", "a/b/c", true),
            ("**/b/*/*", "a/b/c/d", true),
            ("**/d", "a/b/c/d", true),
            ("*/b/**", "a/b/c/d", true),
            ("b/**", "a/b", false),
            ("**/**/b", "a/b/c", false),
            ("**/", "a", false),
            ("a/**/", "a/b", false),
            ("*/**", "a/b/c", true),
            ("a/**/j/**/z/*.md", "a/b/c/d/e/j/n/p/o/z/c.md", true),
            ("a/**/j/**/z/*.md", "a/b/c/j/e/z/c.txt", false),
            ("a/**/z/*.md", "a/b/c/d/e/z/c.md", true),
            ("a/**/c/*.md", "a/bb.bb/aa/b.b/aa/c/xyz.md", true),
            ("a/b/**/*.js", "a/b/z.js", true),
            ("a/b/**/c{d,e}/**/xyz.md", "a/b/c/xyz.md", false),
            (
                "foo/bar/**/one/**/*.*",
                "foo/bar/baz/one/two/three/image.png",
                true,
            ),
            ("a/b/**/d/**/*.*", "a/b/c/d/g/e.f", true),
            ("**/.*.md", "a/b/z/.dotfile.md", true),
            (".md/**/.md", ".md/foo/.md", true),
            ("**/.md", "a/b/.md", true),
            ("a/**/**", "a", true),
            ("a/**/**/b", "a/b", true),
            // `**` next to other characters is a single star.
            ("a/**b", "a/b", true),
            ("a/**b", "a/x/b", false),
            ("aaa/**b**/ccc", "aaa/bba/ccc", true),
            ("a/**b**/c", "a/b/c/b/c", false),
            ("a/**c", "a/b/c", false),
            ("**c", "a/b/c", false),
            ("a/b/c**/*.js", "a/b/c/d.js", true),
            ("a/b/c**/*.js", "a/b/c/d/e.js", false),
            ("a/***/b", "a/x/b", true),
            ("a/***/b", "a/x/y/b", false),
        ],
    );
}

#[test]
fn picomatch_question_marks_and_classes() {
    check(
        "qmarks and classes",
        &[
            ("?", "a", true),
            ("?", "aa", false),
            ("?", "/", false),
            ("??", "ab", true),
            ("a?c", "abc", true),
            ("a?c", "a/c", false),
            ("img/?.png", "img/a.png", true),
            ("?", "é", true),
            ("[abc]", "b", true),
            ("[abc]", "d", false),
            ("[a-z]*", "zzz", true),
            ("[a-c]x", "dx", false),
            ("[^a]", "b", true),
            ("[^a]", "a", false),
            ("[^a]", "/", false),
            ("[]a]", "]", true),
            ("[a-]", "-", true),
            ("foo[/]bar", "foo/bar", true),
            ("[[:digit:]]", "7", true),
            ("[[:alpha:]]x", "ax", true),
            ("[[:upper:]]*", "Makefile", true),
            ("[[:upper:]]*", "makefile", false),
            ("v[0-9].[0-9]", "v1.2", true),
            ("[é-ê]", "ê", true),
            // A class of plain characters also matches its own text (Next.js routes).
            ("pages/[id].js", "pages/[id].js", true),
            ("pages/[id].js", "pages/i.js", true),
            ("pages/[id].js", "pages/x.js", false),
            ("*[id]", "x[id]", true),
            ("*[a-c]", "x[a-c]", false),
            // No closing bracket: literal.
            ("[a", "[a", true),
            ("a]", "a]", true),
        ],
    );
}

#[test]
fn picomatch_braces() {
    check(
        "braces",
        &[
            ("*.{js,ts}", "a.ts", true),
            ("*.{js,ts}", "a.tsx", false),
            ("{src,lib}/**", "lib/a/b", true),
            ("{src,lib}/**", "test/a", false),
            ("a/{b,c/d}/e", "a/c/d/e", true),
            ("{a,{b,c}}", "c", true),
            ("{a,b}{c,d}", "bd", true),
            ("a{,/**}", "a", true),
            ("a{,/**}", "a/b/c", true),
            ("a/{.*,**}", "a/.b", true),
            ("{.*,**}", ".a/.b", true),
            ("{1..3}", "2", true),
            ("{1..3}", "4", false),
            ("{3..1}", "1", true),
            ("file{a..c}", "fileb", true),
            ("file{a..c}", "filed", false),
            // Without a comma or a range, braces are literal.
            ("{a}", "{a}", true),
            ("{a}", "a", false),
            ("a{b", "a{b", true),
            ("a}b", "a}b", true),
            ("\\{a,b}", "{a,b}", true),
            ("[{]a", "{a", true),
        ],
    );
}

#[test]
fn picomatch_extglobs() {
    check(
        "extglobs",
        &[
            ("@(a|b)", "a", true),
            ("@(a|b)", "ab", false),
            ("(a|b)/c", "a/c", true),
            ("(a|b)/c", "c/c", false),
            ("@(src|lib)/**", "lib/x.js", true),
            ("*.@(js|ts)", "a.ts", true),
            ("*.@(js|ts)", "a.md", false),
            ("?(a|b)c", "c", true),
            ("?(a|b)c", "ac", true),
            ("?(a|b)c", "abc", false),
            ("+(a|b)", "abba", true),
            ("+(a|b)", "", false),
            ("+(a|b)", "abc", false),
            ("a*(z)", "a", true),
            ("a*(z)", "azzz", true),
            ("a*(z)", "azb", false),
            ("*(a|b)x", "abax", true),
            ("!(a|b)", "c", true),
            ("!(a|b)", "a", false),
            ("!(a|b)", "ab", true),
            ("!(*.md)", "a.md", false),
            ("!(*.md)", "a.js", true),
            ("!(*.md)", "docs/a.js", false),
            ("*.!(md)", "a.mdx", true),
            ("*.!(md)", "a.md", false),
            ("!(*.d).ts", "a.d.ts", false),
            ("!(*.d).ts", "a.ts", true),
            ("**/!(*.test).ts", "src/a.test.ts", false),
            ("**/!(*.test).ts", "src/a.ts", true),
            ("!(foo).!(bar)", "foo.bar", false),
            ("!(!(foo)).!(!(bar))", "foo.bar", true),
            ("@(a|b/c)/d", "b/c/d", true),
            ("a!(b)c", "abc", false),
            ("a!(b)c", "axc", true),
        ],
    );
}

#[test]
fn picomatch_negation_prefixes_and_escapes() {
    check(
        "negation, ./, escapes",
        &[
            ("!a", "a", false),
            ("!a", "b", true),
            ("!!a", "a", true),
            ("!!!a", "a", false),
            ("!*.md", "a.md", false),
            ("!*.md", "a.js", true),
            ("!*.md", "docs/a.md", true),
            ("!.*", ".a", false),
            ("!.*", "c.md", true),
            ("!src/**", "src/a", false),
            ("!src/**", "docs/a", true),
            ("!(a)", "a", false),
            ("!!(a)", "a", true),
            ("./src/*.js", "src/a.js", true),
            ("!./dist/**", "dist/a.js", false),
            ("./!dist/**", "dist/a.js", false),
            ("\\*a", "*a", true),
            ("\\*a", "ba", false),
            ("a\\?", "a?", true),
            ("a\\?", "ab", false),
            ("\"a*\"b", "a*b", true),
            ("\"a*\"b", "axb", false),
            ("a+b", "a+b", true),
            ("a@b", "a@b", true),
            ("a|b", "a|b", true),
            ("a|b", "a", false),
            ("a/(b", "a/(b", true),
            ("a)b", "a)b", true),
            ("$a^", "$a^", true),
            // A path equal to the pattern text always matches, as in picomatch.
            ("src/*.js", "src/*.js", true),
            ("app/(marketing)/page.tsx", "app/(marketing)/page.tsx", true),
            ("app/(marketing)/page.tsx", "app/marketing/page.tsx", true),
            ("app/\\(marketing\\)/**", "app/(marketing)/page.tsx", true),
        ],
    );
}

/// Where picomatch's regular expressions contradict its own documentation, this matcher
/// follows the documentation (see the module docs); `picomatch` is what picomatch 2.3.1 says.
#[test]
fn deliberate_divergences_from_picomatch() {
    // (pattern, path, deckhand, picomatch)
    let cases: &[(&str, &str, bool, bool)] = &[
        // `[!a]` is a negated class (picomatch: the class of `!` and `a`).
        ("[!a]", "b", true, false),
        ("[!a]", "!", true, true),
        ("[!a]", "a", false, true),
        ("[!a]", "/", false, false),
        // `!(…)` rejects only a part that matches an alternative as a whole.
        ("a/!(b)/c", "a/bc/c", true, false),
        ("src/!(generated)/**", "src/generated-api/a.ts", true, false),
        ("src/!(generated)/**", "src/generated/a.ts", false, false),
        ("!(foo)*", "foobar", true, false),
        // `**` after `|` is a globstar too.
        ("!(**/*.tsx|**/*.less)", "a/b/c.less", false, true),
        ("!(**/*.tsx|**/*.less)", "c.tsx", false, true),
        ("@(a|**)", "x/y", true, false),
        // Numeric ranges are numbers (picomatch: the class `[1-12]`, a `1` or a `2`).
        ("{1..12}", "7", true, false),
        ("{1..12}", "12", true, false),
        ("v{08..10}", "v09", true, false),
        // `a/**/X` needs the `/` even when X can match nothing.
        ("a/**/!(a)", "a", false, true),
    ];
    let mut failures = Vec::new();
    for &(pattern, path, expected, _picomatch) in cases {
        if Glob::new(pattern).unwrap().matches(path) != expected {
            failures.push(format!("{pattern:?} vs {path:?}: expected {expected}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn negation_is_reported_and_the_unnegated_body_is_available() {
    let glob = Glob::new("!**/*.md").unwrap();
    assert!(glob.is_negated());
    assert!(glob.matches_unnegated("docs/a.md"));
    assert!(!glob.matches("docs/a.md"));
    assert_eq!(glob.as_str(), "!**/*.md");
    for positive in ["!(a)", "!!a", "a!", "src/**"] {
        assert!(!Glob::new(positive).unwrap().is_negated(), "{positive}");
    }
}

#[test]
fn invalid_patterns() {
    let cases = [
        ("", "invalid glob ``: the pattern is empty"),
        (
            "!",
            "invalid glob `!`: there is nothing to match after `!` or `./`",
        ),
        (
            "./",
            "invalid glob `./`: there is nothing to match after `!` or `./`",
        ),
        (
            "[z-a]",
            "invalid glob `[z-a]`: the range `z-a` is out of order",
        ),
        (
            "@(a|b",
            "invalid glob `@(a|b`: `@(` is not closed (write `\\(` for a literal parenthesis)",
        ),
        (
            "x/!(a",
            "invalid glob `x/!(a`: `!(` is not closed (write `\\(` for a literal parenthesis)",
        ),
        (
            "*(a",
            "invalid glob `*(a`: `*(` is not closed (write `\\(` for a literal parenthesis)",
        ),
        (
            "{1..5000}",
            "invalid glob `{1..5000}`: the range `{1..5000}` has more than 1024 numbers",
        ),
        (
            "{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}",
            "invalid glob `{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}`: its braces expand to more than 1024 alternatives",
        ),
    ];
    for (pattern, expected) in cases {
        assert_eq!(
            Glob::new(pattern).unwrap_err().to_string(),
            expected,
            "{pattern:?}"
        );
    }
}

/// Not a timing assertion: patterns that make naive backtracking explode (many stars in one
/// segment, many globstars) still finish, because failed (token, position) pairs are
/// remembered; if they did not, this test would run for hours.
#[test]
fn backtracking_stays_polynomial() {
    let long_segment = format!("{}b", "a".repeat(400));
    assert!(
        Glob::new("*a*a*a*a*a*a*a*a*a*a*")
            .unwrap()
            .matches(&long_segment)
    );
    assert!(
        !Glob::new("*a*a*a*a*a*a*a*a*a*a*c*")
            .unwrap()
            .matches(&long_segment)
    );
    let deep = format!("{}x.rs", "d/".repeat(200));
    assert!(
        !Glob::new("**/**/**/**/**/**/**/**/y*")
            .unwrap()
            .matches(&deep)
    );
    assert!(Glob::new("**/d/**/d/**/d/**/*.rs").unwrap().matches(&deep));
    assert!(!Glob::new("**/d/**/d/**/e/**/*.rs").unwrap().matches(&deep));
}
