//! Glob patterns for path filters, with the meaning dorny/paths-filter gives them: it matches
//! with picomatch and the option `{ dot: true }`. Paths are repository-relative, as git reports
//! them (`src/app/main.rs`, no leading `./` or `/`). Matching is case-sensitive.
//!
//! | syntax | matches |
//! | --- | --- |
//! | `*` | any characters except `/`, dot files included (`*.md` matches `.md`) |
//! | `**` as a whole segment | zero or more whole segments, dot folders included: `a/**` matches `a`, `a/b/c`; `**/x` matches `x`, `a/b/x`; `a/**/x` matches `a/x` |
//! | `**` next to other characters | the same as `*` (`a/**b` is `a/*b`); three or more stars are one `*` |
//! | `?` | one character except `/` |
//! | `[abc]`, `[a-z]`, `[[:digit:]]` | one character of the class; a class may list `/` |
//! | `[!a]`, `[^a]` | one character not in the class, never `/` |
//! | `{a,b}`, `{1..12}`, `{a..f}` | each alternative / each number or letter of the range |
//! | `@(a\|b)`, `(a\|b)` | exactly one of the alternatives |
//! | `?(…)`, `+(…)`, `*(…)` | zero or one, one or more, zero or more of the alternatives |
//! | `!(a\|b)` | a part of a segment that is none of the alternatives (of the path, when an alternative can match `/`) |
//! | `\*`, `"a*"` | the characters themselves |
//! | `!` at the start | every path the rest does not match (`!!a` is `a`); `!(` at the start is the group above |
//!
//! A leading `./` is ignored. A bare directory name is not a prefix: `src` matches only the path
//! `src`, never `src/main.rs` (write `src/**`). As in picomatch, a path equal to the pattern text
//! always matches, and a class made only of plain characters also matches its own text, so
//! `pages/[id].js` matches the Next.js file `pages/[id].js` as well as `pages/i.js`.
//!
//! Where picomatch's translation to a regular expression gives results that contradict its own
//! documentation, this module follows the documented meaning (the results were compared with
//! picomatch 2.3.1, the version paths-filter bundles):
//! - `[!a]` is a negated class, as in bash, git and minimatch; picomatch reads it as the class
//!   of `!` and `a` unless its `posix` option is set.
//! - `!(…)` follows bash: the part it covers must not match any alternative as a whole. picomatch
//!   compiles it to a look-ahead, which also rejects a part that merely starts with an
//!   alternative: there `a/!(b)/c` does not match `a/bc/c`, and `!(foo)*` matches nothing
//!   that starts with `foo`.
//! - Inside `(…)`, `**` obeys the same segment rules as at the top level. picomatch treats a
//!   `**` that follows `|` as `*`, so paths-filter's README example `!(**/*.tsx|**/*.less)`
//!   still matches `a/b/c.less` there; here it excludes every `.tsx` and `.less` file.
//! - `{1..12}` is the numbers 1 to 12; picomatch turns it into the class `[1-12]` (a `1` or a
//!   `2`). Single-character ranges behave the same in both.
//! - A `(` opened by `@`, `?`, `+`, `*` or `!` that is never closed is an error (picomatch
//!   produces a broken expression); a plain unclosed `(` is literal, as in picomatch.
//! - In `a/**/X`, the `/` after `a` is needed even when `X` can match nothing: `a/**/!(b)` does
//!   not match `a` (in picomatch it does; `a/**/*` does not match `a` in either).
//! - picomatch's special handling of `.` and `..` segments, of empty segments and of trailing
//!   `/` is not reproduced: git never reports such paths.
//!
//! Patterns are compiled once into tokens and matched by backtracking over the path's bytes.
//! The common forms (`Cargo.lock`, `dir/**`, `**/*.ext`, `**`) are matched directly; otherwise a
//! literal prefix or suffix rejects most paths before any backtracking, and patterns with three
//! or more wildcards remember failed attempts, so that `*a*a*a*a*` stays polynomial (only
//! repetition groups such as `+(a|aa)` can still backtrack exponentially).

use std::fmt;

/// Braces may not multiply a pattern into more alternatives than this.
const MAX_ALTERNATIVES: usize = 1024;

/// A pattern that cannot be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid glob `{pattern}`: {reason}")]
pub struct GlobError {
    /// The pattern as written.
    pub pattern: String,
    /// What is wrong.
    pub reason: String,
}

/// A compiled glob.
#[derive(Clone)]
pub struct Glob {
    source: String,
    negated: bool,
    /// One sequence per brace alternative; the glob matches when any of them does.
    alternatives: Vec<Sequence>,
}

impl fmt::Debug for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Glob({:?})", self.source)
    }
}

impl PartialEq for Glob {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for Glob {}

impl Glob {
    /// Compiles `pattern`.
    pub fn new(pattern: &str) -> Result<Self, GlobError> {
        let fail = |reason: String| GlobError {
            pattern: pattern.to_string(),
            reason,
        };
        if pattern.is_empty() {
            return Err(fail("the pattern is empty".into()));
        }
        let (negated, body) = split_negation(pattern);
        if body.is_empty() {
            return Err(fail("there is nothing to match after `!` or `./`".into()));
        }
        let chars: Vec<char> = body.chars().collect();
        let mut expanded = Vec::new();
        expand_braces(chars, 0, &mut expanded).map_err(fail)?;
        let alternatives = expanded
            .into_iter()
            .map(|chars| Parser { chars, pos: 0 }.pattern().map(Sequence::new))
            .collect::<Result<Vec<_>, String>>()
            .map_err(fail)?;
        Ok(Self {
            source: pattern.to_string(),
            negated,
            alternatives,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// True for a negation pattern (a leading `!` that does not open `!(…)`).
    pub fn is_negated(&self) -> bool {
        self.negated
    }

    /// True when `path` matches, as picomatch decides it: for a negation pattern, when the path
    /// does not match what follows the `!`.
    pub fn matches(&self, path: &str) -> bool {
        path == self.source || self.matches_unnegated(path) != self.negated
    }

    /// True when `path` matches the pattern with its leading `!` removed: the paths a negation
    /// pattern names (and excludes, in exclude mode).
    pub fn matches_unnegated(&self, path: &str) -> bool {
        self.alternatives.iter().any(|seq| seq.matches(path))
    }
}

/// Removes a leading `./` and the leading `!`s, and says whether their number is odd. A `!`
/// followed by `(` opens a group and is kept. Like picomatch, a `./` right after the `!`s is
/// dropped too (`!./dist/**`).
fn split_negation(pattern: &str) -> (bool, &str) {
    let body = pattern.strip_prefix("./").unwrap_or(pattern);
    let mut bangs = body.bytes().take_while(|&b| b == b'!').count();
    if bangs > 0 && body[bangs..].starts_with('(') {
        bangs -= 1;
    }
    let rest = &body[bangs..];
    (bangs % 2 == 1, rest.strip_prefix("./").unwrap_or(rest))
}

// ---------------------------------------------------------------------------------------------
// Brace expansion
// ---------------------------------------------------------------------------------------------

/// Expands the first brace group at or after `from` and recurses into each result; a text
/// without brace groups is pushed as is. Escapes, quotes and classes are skipped so that
/// `\{`, `"{"` and `[{]` stay literal. A `{…}` with neither a top-level comma nor a range is
/// literal, as in picomatch.
fn expand_braces(text: Vec<char>, from: usize, out: &mut Vec<Vec<char>>) -> Result<(), String> {
    let mut i = from;
    while i < text.len() {
        match text[i] {
            '\\' => i += 2,
            '"' => i = quote_end(&text, i),
            '[' => i = class_end(&text, i).unwrap_or(i + 1),
            '{' => {
                let Some((close, parts)) = brace_group(&text, i) else {
                    i += 1;
                    continue;
                };
                let replacements = if parts.len() > 1 {
                    parts
                } else {
                    match brace_range(&parts[0]) {
                        Some(range) => range?,
                        None => {
                            i += 1;
                            continue;
                        }
                    }
                };
                for replacement in replacements {
                    let mut next = text[..i].to_vec();
                    next.extend(replacement);
                    next.extend_from_slice(&text[close + 1..]);
                    // The replacement may itself hold braces, so scanning resumes where it starts.
                    expand_braces(next, i, out)?;
                }
                return Ok(());
            }
            _ => i += 1,
        }
    }
    if out.len() == MAX_ALTERNATIVES {
        return Err(format!(
            "its braces expand to more than {MAX_ALTERNATIVES} alternatives"
        ));
    }
    out.push(text);
    Ok(())
}

/// The index after the quoted text whose `"` is at `open` (the end, for an unclosed quote).
fn quote_end(text: &[char], open: usize) -> usize {
    text[open + 1..]
        .iter()
        .position(|&c| c == '"')
        .map_or(text.len(), |p| open + p + 2)
}

/// The `}` that closes the brace at `open`, and the top-level comma-separated parts in between.
fn brace_group(text: &[char], open: usize) -> Option<(usize, Vec<Vec<char>>)> {
    let mut depth = 0;
    let mut parts = Vec::new();
    let mut part_start = open + 1;
    let mut i = open + 1;
    while i < text.len() {
        match text[i] {
            '\\' => i += 1,
            '"' => {
                i = quote_end(text, i);
                continue;
            }
            '[' => {
                if let Some(end) = class_end(text, i) {
                    i = end;
                    continue;
                }
            }
            '{' => depth += 1,
            '}' if depth > 0 => depth -= 1,
            '}' => {
                parts.push(text[part_start..i].to_vec());
                return Some((i, parts));
            }
            ',' if depth == 0 => {
                parts.push(text[part_start..i].to_vec());
                part_start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The alternatives of a range `{X..Y}`: the integers from X to Y (zero-padded when an end is),
/// or one class `[X-Y]` for two letters. `None` when the text is not a range.
fn brace_range(inner: &[char]) -> Option<Result<Vec<Vec<char>>, String>> {
    let inner: String = inner.iter().collect();
    let (lo, hi) = inner.split_once("..")?;
    if let (Ok(a), Ok(b)) = (lo.parse::<i64>(), hi.parse::<i64>()) {
        let count = a.abs_diff(b) + 1;
        if count > MAX_ALTERNATIVES as u64 {
            return Some(Err(format!(
                "the range `{{{inner}}}` has more than {MAX_ALTERNATIVES} numbers"
            )));
        }
        let padded = |s: &str| {
            s.trim_start_matches('-').len() > 1 && s.trim_start_matches('-').starts_with('0')
        };
        let width = if padded(lo) || padded(hi) {
            lo.len().max(hi.len())
        } else {
            0
        };
        let numbers = if a <= b {
            (a..=b).collect::<Vec<_>>()
        } else {
            (b..=a).rev().collect()
        };
        return Some(Ok(numbers
            .into_iter()
            .map(|n| format!("{n:0width$}").chars().collect())
            .collect()));
    }
    let (mut a, mut b) = (single_letter(lo)?, single_letter(hi)?);
    if a > b {
        std::mem::swap(&mut a, &mut b);
    }
    Some(Ok(vec![format!("[{a}-{b}]").chars().collect()]))
}

fn single_letter(s: &str) -> Option<char> {
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if c.is_ascii_alphabetic() => Some(c),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Token {
    Literal(Box<str>),
    /// `?`
    AnyChar,
    /// `*`: any run of characters other than `/`.
    Star,
    Class(Box<Class>),
    /// `**` as the whole pattern (or alternative): any characters, `/` included.
    GlobStarAll,
    /// `**/` at the start: nothing, or any characters that end with `/`.
    /// `rest_spans_slash` is false when the tokens after it cannot match a `/`, so only the last
    /// segment of the path needs trying.
    LeadingGlobStar {
        rest_spans_slash: bool,
    },
    /// `/**/` in the middle: `/`, then zero or more whole segments, each followed by `/`.
    MiddleGlobStar {
        rest_spans_slash: bool,
    },
    /// `/**` at the end: the end of the path, or `/` and anything after it.
    TrailingGlobStar,
    Group(Box<Group>),
}

#[derive(Debug, Clone)]
struct Class {
    negated: bool,
    items: Vec<ClassItem>,
    /// picomatch also matches the bracket text itself when the class holds only plain
    /// characters (`[id]` matches `[id]`), for frameworks that put brackets in file names.
    literal: Option<Box<str>>,
}

#[derive(Debug, Clone, Copy)]
enum ClassItem {
    Char(char),
    Range(char, char),
    Posix(fn(char) -> bool),
}

impl Class {
    fn matches(&self, c: char) -> bool {
        // A negated class never matches `/`: a class stands for one character of a segment.
        if self.negated && c == '/' {
            return false;
        }
        let listed = self.items.iter().any(|item| match *item {
            ClassItem::Char(x) => x == c,
            ClassItem::Range(lo, hi) => (lo..=hi).contains(&c),
            ClassItem::Posix(is) => is(c),
        });
        listed != self.negated
    }

    fn can_match_slash(&self) -> bool {
        self.matches('/') || self.literal.as_deref().is_some_and(|l| l.contains('/'))
    }
}

#[derive(Debug, Clone)]
struct Group {
    kind: GroupKind,
    alternatives: Vec<Vec<Token>>,
    /// Whether an alternative can match `/`: the group's match may then span segments.
    spans_slash: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GroupKind {
    /// `@(…)` and a plain `(…)`.
    One,
    /// `?(…)`
    ZeroOrOne,
    /// `+(…)`
    OneOrMore,
    /// `*(…)`
    ZeroOrMore,
    /// `!(…)`
    Not,
}

fn can_match_slash(tokens: &[Token]) -> bool {
    tokens.iter().any(|t| match t {
        Token::Literal(l) => l.contains('/'),
        Token::AnyChar | Token::Star => false,
        Token::Class(c) => c.can_match_slash(),
        Token::GlobStarAll
        | Token::LeadingGlobStar { .. }
        | Token::MiddleGlobStar { .. }
        | Token::TrailingGlobStar => true,
        Token::Group(g) => g.spans_slash,
    })
}

/// Characters that make picomatch treat a bracket as a pure regex class (no literal match).
const REGEX_SPECIAL: &[char] = &[
    '-', '*', '+', '?', '.', '^', '$', '{', '}', '(', '|', ')', '[', ']',
];

fn posix_class(name: &str) -> Option<fn(char) -> bool> {
    Some(match name {
        "alnum" => |c: char| c.is_ascii_alphanumeric(),
        "alpha" => |c: char| c.is_ascii_alphabetic(),
        "ascii" => |c: char| c.is_ascii(),
        "blank" => |c: char| c == ' ' || c == '\t',
        "cntrl" => |c: char| c.is_ascii_control(),
        "digit" => |c: char| c.is_ascii_digit(),
        "graph" => |c: char| c.is_ascii_graphic(),
        "lower" => |c: char| c.is_ascii_lowercase(),
        "print" => |c: char| c.is_ascii_graphic() || c == ' ',
        "punct" => |c: char| c.is_ascii_punctuation(),
        "space" => |c: char| c.is_ascii_whitespace() || c == '\u{b}',
        "upper" => |c: char| c.is_ascii_uppercase(),
        "word" => |c: char| c.is_ascii_alphanumeric() || c == '_',
        "xdigit" => |c: char| c.is_ascii_hexdigit(),
        _ => return None,
    })
}

/// The index after the class that starts at `open`, if `[` opens one (it needs a closing `]`).
fn class_end(text: &[char], open: usize) -> Option<usize> {
    parse_class(text, open).ok().flatten().map(|(_, end)| end)
}

/// Parses the class at `open`: `Ok(None)` when the `[` is literal (no closing `]`).
fn parse_class(text: &[char], open: usize) -> Result<Option<(Class, usize)>, String> {
    let mut i = open + 1;
    let negated = matches!(text.get(i), Some('!' | '^'));
    if negated {
        i += 1;
    }
    let inner_start = open + 1;
    let mut items = Vec::new();
    let mut first = true;
    loop {
        let Some(&c) = text.get(i) else {
            return Ok(None);
        };
        let member = match c {
            ']' if !first => break,
            '\\' => {
                let Some(&escaped) = text.get(i + 1) else {
                    return Ok(None);
                };
                i += 2;
                escaped
            }
            '[' if text.get(i + 1) == Some(&':') => {
                let name_start = i + 2;
                let close = text[name_start..]
                    .windows(2)
                    .position(|w| w == [':', ']'])
                    .map(|p| name_start + p);
                let posix = close.and_then(|close| {
                    posix_class(&text[name_start..close].iter().collect::<String>())
                        .map(|is| (is, close))
                });
                if let Some((is, close)) = posix {
                    items.push(ClassItem::Posix(is));
                    i = close + 2;
                    first = false;
                    continue;
                }
                i += 1;
                c
            }
            _ => {
                i += 1;
                c
            }
        };
        // `x-y` is a range unless the `-` is the last character before `]`.
        if text.get(i) == Some(&'-') && text.get(i + 1).is_some_and(|&n| n != ']') {
            let (hi, next) = match text[i + 1] {
                '\\' => match text.get(i + 2) {
                    Some(&h) => (h, i + 3),
                    None => return Ok(None),
                },
                h => (h, i + 2),
            };
            if member > hi {
                return Err(format!("the range `{member}-{hi}` is out of order"));
            }
            items.push(ClassItem::Range(member, hi));
            i = next;
        } else {
            items.push(ClassItem::Char(member));
        }
        first = false;
    }
    let inner: String = text[inner_start..i].iter().collect();
    let literal = (!inner.contains(REGEX_SPECIAL)).then(|| format!("[{inner}]").into_boxed_str());
    Ok(Some((
        Class {
            negated,
            items,
            literal,
        },
        i + 1,
    )))
}

// ---------------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------------

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    /// The whole (brace-expanded) pattern: `|` and `)` are literal at this level.
    fn pattern(mut self) -> Result<Vec<Token>, String> {
        self.sequence(false)
    }

    /// Tokens up to the end, or, inside a group, up to the `|` or `)` that ends the alternative.
    fn sequence(&mut self, in_group: bool) -> Result<Vec<Token>, String> {
        let mut tokens: Vec<Token> = Vec::new();
        let mut literal = String::new();
        let flush = |tokens: &mut Vec<Token>, literal: &mut String| {
            if !literal.is_empty() {
                tokens.push(Token::Literal(std::mem::take(literal).into_boxed_str()));
            }
        };
        while let Some(c) = self.peek(0) {
            if in_group && (c == '|' || c == ')') {
                break;
            }
            let opens_group = self.peek(1) == Some('(') && self.peek(2) != Some('?');
            match c {
                '\\' => {
                    literal.push(self.peek(1).unwrap_or('\\'));
                    self.pos += 2;
                }
                '"' => {
                    // Quoted text is literal; an unclosed quote runs to the end (as in picomatch).
                    let body = self.pos + 1;
                    let close = self.chars[body..]
                        .iter()
                        .position(|&c| c == '"')
                        .map(|p| body + p);
                    literal.extend(&self.chars[body..close.unwrap_or(self.chars.len())]);
                    self.pos = close.map_or(self.chars.len(), |c| c + 1);
                }
                '*' => {
                    let segment_start = if literal.is_empty() {
                        tokens.is_empty()
                    } else {
                        literal.ends_with('/')
                    };
                    self.stars(&mut tokens, &mut literal, segment_start, in_group)?;
                }
                '?' | '+' | '@' | '!' if opens_group => {
                    let kind = match c {
                        '?' => GroupKind::ZeroOrOne,
                        '+' => GroupKind::OneOrMore,
                        '@' => GroupKind::One,
                        _ => GroupKind::Not,
                    };
                    flush(&mut tokens, &mut literal);
                    self.pos += 1;
                    let group = self.group(kind)?.ok_or_else(|| unclosed(c))?;
                    tokens.push(Token::Group(Box::new(group)));
                }
                '?' => {
                    flush(&mut tokens, &mut literal);
                    tokens.push(Token::AnyChar);
                    self.pos += 1;
                }
                '(' => match self.group(GroupKind::One)? {
                    Some(group) => {
                        flush(&mut tokens, &mut literal);
                        tokens.push(Token::Group(Box::new(group)));
                    }
                    None => {
                        literal.push('(');
                        self.pos += 1;
                    }
                },
                '[' => match parse_class(&self.chars, self.pos)? {
                    Some((class, end)) => {
                        flush(&mut tokens, &mut literal);
                        tokens.push(Token::Class(Box::new(class)));
                        self.pos = end;
                    }
                    None => {
                        literal.push('[');
                        self.pos += 1;
                    }
                },
                _ => {
                    literal.push(c);
                    self.pos += 1;
                }
            }
        }
        flush(&mut tokens, &mut literal);
        mark_globstar_rests(&mut tokens);
        Ok(tokens)
    }

    /// A run of `*` at `self.pos`: a globstar when it is exactly `**` filling a whole segment,
    /// else one `*`; a last `*` followed by `(` opens `*(…)`.
    fn stars(
        &mut self,
        tokens: &mut Vec<Token>,
        literal: &mut String,
        segment_start: bool,
        in_group: bool,
    ) -> Result<(), String> {
        let run = self.chars[self.pos..]
            .iter()
            .take_while(|&&c| c == '*')
            .count();
        let opens_group =
            self.peek(run) == Some('(') && self.peek(run + 1).is_some_and(|c| c != '?');
        let stars = if opens_group { run - 1 } else { run };
        self.pos += stars;
        let segment_end = |p: &Self| match p.peek(0) {
            None => true,
            Some('/') => true,
            Some('|' | ')') => in_group,
            _ => false,
        };
        if stars == 2 && segment_start && segment_end(self) {
            // `/**/**/` is `/**/`, and `a/**/**` is `a/**` (as picomatch strips them).
            while self.peek(0) == Some('/')
                && self.peek(1) == Some('*')
                && self.peek(2) == Some('*')
            {
                let after = self.chars.get(self.pos + 3).copied();
                let ends_segment = match after {
                    None | Some('/') => true,
                    Some('|' | ')') => in_group,
                    _ => false,
                };
                if !ends_segment {
                    break;
                }
                self.pos += 3;
            }
            let at_end = self.peek(0) != Some('/');
            let token = if literal.is_empty() && tokens.is_empty() {
                if at_end {
                    Token::GlobStarAll
                } else {
                    self.pos += 1;
                    Token::LeadingGlobStar {
                        rest_spans_slash: true,
                    }
                }
            } else {
                // The segment starts after a `/` held at the end of the pending literal: the
                // globstar token owns that slash.
                literal.pop();
                if at_end {
                    Token::TrailingGlobStar
                } else {
                    self.pos += 1;
                    Token::MiddleGlobStar {
                        rest_spans_slash: true,
                    }
                }
            };
            if !literal.is_empty() {
                tokens.push(Token::Literal(std::mem::take(literal).into_boxed_str()));
            }
            tokens.push(token);
        } else if stars > 0 {
            if !literal.is_empty() {
                tokens.push(Token::Literal(std::mem::take(literal).into_boxed_str()));
            }
            // `*` right after `*` adds nothing.
            if !matches!(tokens.last(), Some(Token::Star)) {
                tokens.push(Token::Star);
            }
        }
        if opens_group {
            if !literal.is_empty() {
                tokens.push(Token::Literal(std::mem::take(literal).into_boxed_str()));
            }
            self.pos += 1;
            let group = self
                .group(GroupKind::ZeroOrMore)?
                .ok_or_else(|| unclosed('*'))?;
            tokens.push(Token::Group(Box::new(group)));
        }
        Ok(())
    }

    /// The group whose `(` is at `self.pos`; `None` (position unchanged) when it is not closed.
    fn group(&mut self, kind: GroupKind) -> Result<Option<Group>, String> {
        let open = self.pos;
        self.pos += 1;
        let mut alternatives = Vec::new();
        loop {
            alternatives.push(self.sequence(true)?);
            match self.peek(0) {
                Some('|') => self.pos += 1,
                Some(')') => {
                    self.pos += 1;
                    break;
                }
                _ => {
                    self.pos = open;
                    return Ok(None);
                }
            }
        }
        let spans_slash = alternatives.iter().any(|alt| can_match_slash(alt));
        Ok(Some(Group {
            kind,
            alternatives,
            spans_slash,
        }))
    }
}

fn unclosed(opener: char) -> String {
    format!("`{opener}(` is not closed (write `\\(` for a literal parenthesis)")
}

/// Records, on each leading or middle globstar, whether the tokens after it can match `/`.
fn mark_globstar_rests(tokens: &mut [Token]) {
    for i in 0..tokens.len() {
        let spans = can_match_slash(&tokens[i + 1..]);
        if let Token::LeadingGlobStar { rest_spans_slash }
        | Token::MiddleGlobStar { rest_spans_slash } = &mut tokens[i]
        {
            *rest_spans_slash = spans;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------------------------

/// One brace alternative of a glob.
#[derive(Debug, Clone)]
struct Sequence {
    tokens: Vec<Token>,
    shape: Shape,
    /// Whether to remember failed (token, position) pairs while matching. Worth its allocation
    /// only for patterns with several wildcards, where plain backtracking could revisit the
    /// same pair exponentially often (`*a*a*a*`).
    memoize: bool,
}

/// The forms most filters are written in, matched without running the general matcher.
#[derive(Debug, Clone)]
enum Shape {
    /// `**`
    Anything,
    /// No wildcard at all: `Cargo.lock`.
    Exact(Box<str>),
    /// `dir/**`: `dir` itself or anything under it.
    Under(Box<str>),
    /// `**/*.ext` (and `**/*tail` for any `tail` without `/`): a last segment ending in `tail`.
    EndsWith(Box<str>),
    /// Anything else.
    General,
}

impl Sequence {
    fn new(tokens: Vec<Token>) -> Self {
        let shape = match tokens.as_slice() {
            [Token::GlobStarAll] => Shape::Anything,
            [Token::Literal(exact)] => Shape::Exact(exact.clone()),
            [Token::Literal(dir), Token::TrailingGlobStar] => Shape::Under(dir.clone()),
            [
                Token::LeadingGlobStar { .. },
                Token::Star,
                Token::Literal(tail),
            ] if !tail.contains('/') => Shape::EndsWith(tail.clone()),
            _ => Shape::General,
        };
        let wildcards = tokens
            .iter()
            .filter(|t| !matches!(t, Token::Literal(_) | Token::AnyChar | Token::Class(_)))
            .count();
        Self {
            tokens,
            shape,
            memoize: wildcards >= 3,
        }
    }

    fn matches(&self, path: &str) -> bool {
        let bytes = path.as_bytes();
        match &self.shape {
            Shape::Anything => return true,
            Shape::Exact(exact) => return path == &**exact,
            Shape::Under(dir) => {
                return starts_with(bytes, dir.as_bytes())
                    && bytes.get(dir.len()).is_none_or(|&b| b == b'/');
            }
            Shape::EndsWith(tail) => return ends_with(bytes, tail.as_bytes()),
            Shape::General => {}
        }
        // A match is anchored at both ends, so a leading or trailing literal rejects most paths
        // before any backtracking.
        if let Some(Token::Literal(prefix)) = self.tokens.first()
            && !starts_with(bytes, prefix.as_bytes())
        {
            return false;
        }
        if let Some(Token::Literal(suffix)) = self.tokens.last()
            && !ends_with(bytes, suffix.as_bytes())
        {
            return false;
        }
        let mut search = Search {
            path,
            failed: if self.memoize {
                vec![false; (self.tokens.len() + 1) * (path.len() + 1)]
            } else {
                Vec::new()
            },
        };
        search.tokens(&self.tokens, 0, path.len(), true)
    }
}

/// One match attempt of a path.
struct Search<'p> {
    path: &'p str,
    /// With memoization: `failed[remaining_tokens * (len + 1) + i]` is set once matching the last
    /// `remaining_tokens` tokens of the top-level sequence from `i` has been tried. A second
    /// attempt must fail too, since a success ends the whole search. Empty without memoization.
    failed: Vec<bool>,
}

impl Search<'_> {
    /// True when `tokens` match all of `path[i..end]`. `top` is true when `tokens` is a suffix of
    /// the top-level sequence (the only one the memo describes).
    fn tokens(&mut self, tokens: &[Token], mut i: usize, end: usize, top: bool) -> bool {
        let path = self.path;
        let bytes = path.as_bytes();
        if top && !self.failed.is_empty() {
            let slot = tokens.len() * (path.len() + 1) + i;
            if std::mem::replace(&mut self.failed[slot], true) {
                return false;
            }
        }
        for (t, token) in tokens.iter().enumerate() {
            let rest = &tokens[t + 1..];
            match token {
                Token::Literal(lit) => {
                    if !starts_with(&bytes[i..end], lit.as_bytes()) {
                        return false;
                    }
                    i += lit.len();
                }
                Token::AnyChar => match path[i..end].chars().next() {
                    Some(c) if c != '/' => i += c.len_utf8(),
                    _ => return false,
                },
                Token::Class(class) => {
                    if let Some(lit) = &class.literal
                        && starts_with(&bytes[i..end], lit.as_bytes())
                        && self.tokens(rest, i + lit.len(), end, top)
                    {
                        return true;
                    }
                    match path[i..end].chars().next() {
                        Some(c) if class.matches(c) => i += c.len_utf8(),
                        _ => return false,
                    }
                }
                Token::Star => {
                    let stop = segment_end(bytes, i, end);
                    if rest.is_empty() {
                        return stop == end;
                    }
                    // Only positions where the next literal can start are worth trying.
                    let first_byte = match rest.first() {
                        Some(Token::Literal(l)) => l.as_bytes().first().copied(),
                        _ => None,
                    };
                    return (i..=stop)
                        .filter(|&j| first_byte.is_none_or(|b| bytes.get(j) == Some(&b)))
                        .filter(|&j| path.is_char_boundary(j))
                        .any(|j| self.tokens(rest, j, end, top));
                }
                Token::GlobStarAll => {
                    return rest.is_empty()
                        || (i..=end)
                            .filter(|&j| path.is_char_boundary(j))
                            .any(|j| self.tokens(rest, j, end, top));
                }
                Token::LeadingGlobStar { rest_spans_slash } => {
                    return globstar_starts(bytes, Some(i), i, end, *rest_spans_slash)
                        .any(|j| self.tokens(rest, j, end, top));
                }
                Token::MiddleGlobStar { rest_spans_slash } => {
                    if i >= end || bytes[i] != b'/' {
                        return false;
                    }
                    return globstar_starts(bytes, None, i, end, *rest_spans_slash)
                        .any(|j| self.tokens(rest, j, end, top));
                }
                Token::TrailingGlobStar => return i == end || bytes[i] == b'/',
                Token::Group(group) => return self.group(group, rest, i, end, top),
            }
        }
        i == end
    }

    /// True when some alternative of `group` matches all of `path[i..e]`.
    fn alternative(&mut self, group: &Group, i: usize, e: usize) -> bool {
        group
            .alternatives
            .iter()
            .any(|alt| self.tokens(alt, i, e, false))
    }

    /// Ends `e` in `[from, limit]` at which some alternative matches `path[i..e]`.
    fn alternative_ends(
        &mut self,
        group: &Group,
        i: usize,
        from: usize,
        limit: usize,
    ) -> Vec<usize> {
        let path = self.path;
        (from..=limit)
            .filter(|&e| path.is_char_boundary(e))
            .filter(|&e| self.alternative(group, i, e))
            .collect()
    }

    /// `group` at `i`, then `rest` (a suffix of the same sequence, so `top` carries over).
    fn group(&mut self, group: &Group, rest: &[Token], i: usize, end: usize, top: bool) -> bool {
        let path = self.path;
        let limit = if group.spans_slash {
            end
        } else {
            segment_end(path.as_bytes(), i, end)
        };
        match group.kind {
            GroupKind::One => self
                .alternative_ends(group, i, i, limit)
                .into_iter()
                .any(|e| self.tokens(rest, e, end, top)),
            GroupKind::ZeroOrOne => {
                self.tokens(rest, i, end, top)
                    || self
                        .alternative_ends(group, i, i, limit)
                        .into_iter()
                        .any(|e| self.tokens(rest, e, end, top))
            }
            GroupKind::OneOrMore => self.repeat(group, rest, i, end, limit, true, top),
            GroupKind::ZeroOrMore => self.repeat(group, rest, i, end, limit, false, top),
            GroupKind::Not => (i..=limit)
                .filter(|&e| path.is_char_boundary(e))
                .any(|e| !self.alternative(group, i, e) && self.tokens(rest, e, end, top)),
        }
    }

    /// Repetitions of a group's alternatives from `i`, then `rest`. Only repetitions that
    /// consume something are iterated (an empty one cannot make progress); one that matches
    /// nothing still counts as the "one" of `+(…)`.
    #[allow(clippy::too_many_arguments)]
    fn repeat(
        &mut self,
        group: &Group,
        rest: &[Token],
        i: usize,
        end: usize,
        limit: usize,
        need_one: bool,
        top: bool,
    ) -> bool {
        let satisfied = !need_one || self.alternative(group, i, i);
        if satisfied && self.tokens(rest, i, end, top) {
            return true;
        }
        self.alternative_ends(group, i, i + 1, limit)
            .into_iter()
            .any(|e| self.repeat(group, rest, e, end, limit, false, top))
    }
}

/// `hay.starts_with(prefix)`, compared inline: literals are short, and a call to `memcmp` per
/// comparison was the largest single cost of matching.
#[inline]
fn starts_with(hay: &[u8], prefix: &[u8]) -> bool {
    hay.len() >= prefix.len() && same_bytes(&hay[..prefix.len()], prefix)
}

#[inline]
fn ends_with(hay: &[u8], suffix: &[u8]) -> bool {
    hay.len() >= suffix.len() && same_bytes(&hay[hay.len() - suffix.len()..], suffix)
}

#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// The end of the segment that contains `i` (the next `/`, or `end`).
fn segment_end(bytes: &[u8], i: usize, end: usize) -> usize {
    bytes[i..end]
        .iter()
        .position(|&b| b == b'/')
        .map_or(end, |p| i + p)
}

/// Where the tokens after a leading or middle globstar may start: `first` (if any), and after
/// each `/` in `[from, end)`. When those tokens cannot match `/`, only the position after the
/// last slash can work, so only it is tried.
fn globstar_starts(
    bytes: &[u8],
    first: Option<usize>,
    from: usize,
    end: usize,
    rest_spans_slash: bool,
) -> impl Iterator<Item = usize> + '_ {
    let last_slash = bytes[from..end]
        .iter()
        .rposition(|&b| b == b'/')
        .map(|p| from + p);
    let only_last = !rest_spans_slash;
    let first = first.filter(|_| !only_last || last_slash.is_none());
    let after_slashes = (from..end)
        .filter(move |&k| bytes[k] == b'/')
        .filter(move |&k| !only_last || Some(k) == last_slash)
        .map(|k| k + 1);
    first.into_iter().chain(after_slashes)
}

#[cfg(test)]
mod tests;
