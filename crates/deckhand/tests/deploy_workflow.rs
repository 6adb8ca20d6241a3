//! `.github/workflows/deploy.yml` (the reusable chain) and its example caller, checked and run
//! piece by piece:
//!
//! - the contract with the actions: every `with:` of a `uses: $/actions/X` step names an input
//!   of `actions/X/action.yml`, every required input is passed, and `deckhand-image` reaches
//!   every action; every workflow input is used, described and documented in docs/workflow.md;
//!   the example caller passes only inputs the workflow declares, and every required one;
//! - the expressions that decide where and how a job runs (its runner, its environment, its
//!   concurrency group, the role it assumes, whether it runs, what the backend deploy step is
//!   given), evaluated with GitHub's rules (`&&` and `||` return an operand, `''` is false) for
//!   real deploys and dry runs;
//! - the `run:` scripts that hold logic, executed with bash as the runner runs them, their
//!   `env:` evaluated from the workflow's inputs: which parts deploy, the backend image built
//!   before a migration (against the local world's ECR, with awscli), the frontend build
//!   (a real `npm ci` and build), the plan comment.
//!
//! No workflow executor runs here: the jobs' `uses:` steps (checkout, setup-node, BuildKit, the
//! artifact actions) do not run; their inputs are what the expressions give them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use deckhand_testkit::action_step::parse_outputs;
use deckhand_testkit::{ECR_CREDS, world};
use serde_json::{Value, json};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn load(relative: &str) -> Value {
    let path = repo_root().join(relative);
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    deckhand_core::document::parse_document(&path, &text)
        .unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

fn deploy_yml() -> Value {
    load(".github/workflows/deploy.yml")
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The `workflow_call` inputs of a workflow.
fn workflow_inputs(wf: &Value) -> serde_json::Map<String, Value> {
    wf["on"]["workflow_call"]["inputs"]
        .as_object()
        .cloned()
        .expect("on.workflow_call.inputs")
}

fn jobs(wf: &Value) -> &serde_json::Map<String, Value> {
    wf["jobs"].as_object().expect("jobs")
}

/// Step `id` of job `job`.
fn step<'a>(wf: &'a Value, job: &str, id: &str) -> &'a Value {
    wf["jobs"][job]["steps"]
        .as_array()
        .unwrap_or_else(|| panic!("job `{job}` has no steps"))
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("job `{job}` has no step `{id}`"))
}

// GitHub Actions expressions, as the runner evaluates them
// (docs: "Evaluate expressions in workflows and actions"): `&&` and `||` return one of their
// operands, `null`, `false`, `0` and `''` are falsy, `==` compares strings ignoring case and
// coerces mismatched types to numbers, a missing property is `null`.
mod expr {
    use serde_json::Value;

    #[derive(Debug, Clone, PartialEq)]
    enum Tok {
        Num(f64),
        Str(String),
        Ident(String),
        Op(&'static str),
    }

    const OPS: &[&str] = &[
        "&&", "||", "==", "!=", "<=", ">=", "<", ">", "!", "(", ")", "[", "]", ".", ",",
    ];

    fn lex(src: &str) -> Vec<Tok> {
        let chars: Vec<char> = src.chars().collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c.is_whitespace() {
                i += 1;
            } else if c == '\'' {
                let mut s = String::new();
                i += 1;
                loop {
                    assert!(i < chars.len(), "unclosed string in `{src}`");
                    if chars[i] == '\'' {
                        if chars.get(i + 1) == Some(&'\'') {
                            s.push('\'');
                            i += 2;
                            continue;
                        }
                        i += 1;
                        break;
                    }
                    s.push(chars[i]);
                    i += 1;
                }
                out.push(Tok::Str(s));
            } else if c.is_ascii_digit() {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                    i += 1;
                }
                let s: String = chars[start..i].iter().collect();
                out.push(Tok::Num(
                    s.parse()
                        .unwrap_or_else(|_| panic!("number `{s}` in `{src}`")),
                ));
            } else if c.is_ascii_alphabetic() || c == '_' {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == '-')
                {
                    i += 1;
                }
                out.push(Tok::Ident(chars[start..i].iter().collect()));
            } else {
                let rest: String = chars[i..].iter().take(2).collect();
                let op = OPS
                    .iter()
                    .find(|op| rest.starts_with(**op))
                    .unwrap_or_else(|| panic!("unexpected `{c}` in `{src}`"));
                out.push(Tok::Op(op));
                i += op.len();
            }
        }
        out
    }

    #[derive(Debug)]
    enum Ast {
        Lit(Value),
        Name(String),
        Prop(Box<Ast>, String),
        Index(Box<Ast>, Box<Ast>),
        Not(Box<Ast>),
        Bin(&'static str, Box<Ast>, Box<Ast>),
        Call(String, Vec<Ast>),
    }

    struct Parser {
        toks: Vec<Tok>,
        pos: usize,
        src: String,
    }

    impl Parser {
        fn peek(&self) -> Option<&Tok> {
            self.toks.get(self.pos)
        }
        fn eat(&mut self, op: &str) -> bool {
            if self.peek() == Some(&Tok::Op(OPS.iter().find(|o| **o == op).unwrap())) {
                self.pos += 1;
                true
            } else {
                false
            }
        }
        fn expect(&mut self, op: &str) {
            assert!(self.eat(op), "expected `{op}` in `{}`", self.src);
        }
        fn binary(&mut self, ops: &[&'static str], next: fn(&mut Self) -> Ast) -> Ast {
            let mut left = next(self);
            'outer: loop {
                for op in ops {
                    if self.eat(op) {
                        left = Ast::Bin(op, Box::new(left), Box::new(next(self)));
                        continue 'outer;
                    }
                }
                return left;
            }
        }
        fn or(&mut self) -> Ast {
            self.binary(&["||"], Self::and)
        }
        fn and(&mut self) -> Ast {
            self.binary(&["&&"], Self::equality)
        }
        fn equality(&mut self) -> Ast {
            self.binary(&["==", "!="], Self::comparison)
        }
        fn comparison(&mut self) -> Ast {
            self.binary(&["<=", ">=", "<", ">"], Self::unary)
        }
        fn unary(&mut self) -> Ast {
            if self.eat("!") {
                return Ast::Not(Box::new(self.unary()));
            }
            self.postfix()
        }
        fn postfix(&mut self) -> Ast {
            let mut e = self.primary();
            loop {
                if self.eat(".") {
                    match self.toks.get(self.pos).cloned() {
                        Some(Tok::Ident(name)) => {
                            self.pos += 1;
                            e = Ast::Prop(Box::new(e), name);
                        }
                        other => panic!("property expected, got {other:?} in `{}`", self.src),
                    }
                } else if self.eat("[") {
                    let index = self.or();
                    self.expect("]");
                    e = Ast::Index(Box::new(e), Box::new(index));
                } else {
                    return e;
                }
            }
        }
        fn primary(&mut self) -> Ast {
            let tok = self
                .toks
                .get(self.pos)
                .cloned()
                .unwrap_or_else(|| panic!("unexpected end of `{}`", self.src));
            self.pos += 1;
            match tok {
                Tok::Num(n) => Ast::Lit(serde_json::json!(n)),
                Tok::Str(s) => Ast::Lit(Value::String(s)),
                Tok::Op("(") => {
                    let e = self.or();
                    self.expect(")");
                    e
                }
                Tok::Ident(name) => match name.as_str() {
                    "true" => Ast::Lit(Value::Bool(true)),
                    "false" => Ast::Lit(Value::Bool(false)),
                    "null" => Ast::Lit(Value::Null),
                    _ if self.eat("(") => {
                        let mut args = Vec::new();
                        if !self.eat(")") {
                            loop {
                                args.push(self.or());
                                if self.eat(")") {
                                    break;
                                }
                                self.expect(",");
                            }
                        }
                        Ast::Call(name, args)
                    }
                    _ => Ast::Name(name),
                },
                other => panic!("unexpected {other:?} in `{}`", self.src),
            }
        }
    }

    pub(crate) fn truthy(v: &Value) -> bool {
        match v {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
            Value::String(s) => !s.is_empty(),
            _ => true,
        }
    }

    fn number(v: &Value) -> f64 {
        match v {
            Value::Null => 0.0,
            Value::Bool(b) => f64::from(u8::from(*b)),
            Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
            Value::String(s) if s.trim().is_empty() => 0.0,
            Value::String(s) => s.trim().parse().unwrap_or(f64::NAN),
            _ => f64::NAN,
        }
    }

    fn loose_eq(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::String(x), Value::String(y)) => x.eq_ignore_ascii_case(y),
            (Value::Null, Value::Null) => true,
            (Value::Bool(x), Value::Bool(y)) => x == y,
            (Value::Array(_) | Value::Object(_), _) | (_, Value::Array(_) | Value::Object(_)) => {
                false
            }
            _ => number(a) == number(b),
        }
    }

    /// A value as the runner writes it into a string.
    pub(crate) fn render(v: &Value) -> String {
        match v {
            Value::Null => String::new(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => match n.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
                _ => n.to_string(),
            },
            Value::String(s) => s.clone(),
            other => serde_json::to_string_pretty(other).unwrap(),
        }
    }

    fn get(v: &Value, key: &str) -> Value {
        match v {
            Value::Object(m) => m
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map_or(Value::Null, |(_, v)| v.clone()),
            _ => Value::Null,
        }
    }

    fn eval(ast: &Ast, root: &Value) -> Value {
        match ast {
            Ast::Lit(v) => v.clone(),
            Ast::Name(n) => get(root, n),
            Ast::Prop(e, p) => get(&eval(e, root), p),
            Ast::Index(e, i) => {
                let base = eval(e, root);
                match eval(i, root) {
                    Value::String(k) => get(&base, &k),
                    n => base
                        .get(number(&n) as usize)
                        .cloned()
                        .unwrap_or(Value::Null),
                }
            }
            Ast::Not(e) => Value::Bool(!truthy(&eval(e, root))),
            Ast::Bin(op, l, r) => {
                let left = eval(l, root);
                match *op {
                    "&&" if !truthy(&left) => left,
                    "&&" => eval(r, root),
                    "||" if truthy(&left) => left,
                    "||" => eval(r, root),
                    "==" => Value::Bool(loose_eq(&left, &eval(r, root))),
                    "!=" => Value::Bool(!loose_eq(&left, &eval(r, root))),
                    cmp => {
                        let (a, b) = (number(&left), number(&eval(r, root)));
                        Value::Bool(match cmp {
                            "<" => a < b,
                            "<=" => a <= b,
                            ">" => a > b,
                            _ => a >= b,
                        })
                    }
                }
            }
            Ast::Call(name, args) => {
                let args: Vec<Value> = args.iter().map(|a| eval(a, root)).collect();
                let s = |i: usize| render(args.get(i).unwrap_or(&Value::Null));
                match name.to_ascii_lowercase().as_str() {
                    "format" => {
                        let mut out = s(0);
                        for i in 1..args.len() {
                            out = out.replace(&format!("{{{}}}", i - 1), &s(i));
                        }
                        Value::String(out)
                    }
                    "startswith" => {
                        Value::Bool(s(0).to_lowercase().starts_with(&s(1).to_lowercase()))
                    }
                    "endswith" => Value::Bool(s(0).to_lowercase().ends_with(&s(1).to_lowercase())),
                    "contains" => match &args[0] {
                        Value::Array(items) => {
                            Value::Bool(items.iter().any(|i| loose_eq(i, &args[1])))
                        }
                        _ => Value::Bool(s(0).to_lowercase().contains(&s(1).to_lowercase())),
                    },
                    "fromjson" => serde_json::from_str(&s(0))
                        .unwrap_or_else(|e| panic!("fromJSON('{}'): {e}", s(0))),
                    "tojson" => Value::String(serde_json::to_string_pretty(&args[0]).unwrap()),
                    "hashfiles" => Value::String(format!("hash-of-{}", s(0))),
                    "always" => Value::Bool(true),
                    "success" => Value::Bool(get(root, "__status") != "failure"),
                    "failure" => Value::Bool(get(root, "__status") == "failure"),
                    "cancelled" => Value::Bool(get(root, "__status") == "cancelled"),
                    other => panic!("function `{other}` is not known here"),
                }
            }
        }
    }

    /// One expression (the text between `${{` and `}}`, or an `if:` without them).
    pub(crate) fn evaluate(src: &str, root: &Value) -> Value {
        let mut p = Parser {
            toks: lex(src),
            pos: 0,
            src: src.to_string(),
        };
        let ast = p.or();
        assert!(p.pos == p.toks.len(), "trailing tokens in `{src}`");
        eval(&ast, root)
    }

    /// A workflow value: a single `${{ }}` keeps the expression's type (a `runs-on` list, a
    /// boolean); text with expressions in it is a string.
    pub(crate) fn template(value: &str, root: &Value) -> Value {
        let t = value.trim();
        if let Some(inner) = t.strip_prefix("${{").and_then(|r| r.strip_suffix("}}"))
            && !inner.contains("${{")
        {
            return evaluate(inner, root);
        }
        let mut out = String::new();
        let mut rest = value;
        while let Some(start) = rest.find("${{") {
            out.push_str(&rest[..start]);
            let end = rest[start..]
                .find("}}")
                .map(|e| start + e)
                .unwrap_or_else(|| panic!("unclosed expression in `{value}`"));
            out.push_str(&render(&evaluate(&rest[start + 3..end], root)));
            rest = &rest[end + 2..];
        }
        out.push_str(rest);
        Value::String(out)
    }

    /// An `if:`: `${{ }}` optional; without a status function, `success() &&` is implied.
    pub(crate) fn condition(value: &str, root: &Value) -> bool {
        let t = value.trim();
        let inner = t
            .strip_prefix("${{")
            .and_then(|r| r.strip_suffix("}}"))
            .unwrap_or(t);
        let status_fn = ["success(", "failure(", "cancelled(", "always("]
            .iter()
            .any(|f| inner.contains(f));
        let v = truthy(&evaluate(inner, root));
        if status_fn {
            v
        } else {
            v && get(root, "__status") != "failure" && get(root, "__status") != "cancelled"
        }
    }
}

/// The evaluator the tests below rely on, against GitHub's documented rules.
#[test]
fn the_expression_evaluator_follows_githubs_rules() {
    let root = json!({"inputs": {"empty": "", "x": "x", "yes": true, "no": false}});
    for (src, expected) in [
        // `&&` and `||` return an operand; `''` is false: `a && b || c` gives c when b is ''.
        ("inputs.no && 'x' || 'y'", json!("y")),
        ("inputs.yes && inputs.empty || 'y'", json!("y")),
        ("inputs.yes && inputs.x || 'y'", json!("x")),
        ("inputs.yes && inputs.empty", json!("")),
        ("!inputs.empty", json!(true)),
        ("inputs.missing", Value::Null),
        // `==`: strings ignore case; other types compare as numbers.
        ("'ABC' == 'abc'", json!(true)),
        ("inputs.missing == ''", json!(true)),
        ("inputs.yes == 'true'", json!(false)),
        ("inputs.yes == true", json!(true)),
        ("1 < 2", json!(true)),
        ("format('{0}-{1}', 'a', 7)", json!("a-7")),
        ("startsWith('[\"a\"]', '[')", json!(true)),
        ("fromJSON('[\"a\", 1]')", json!(["a", 1])),
        ("(inputs.no || inputs.yes) && 'z'", json!("z")),
    ] {
        assert_eq!(expr::evaluate(src, &root), expected, "{src}");
    }
    assert_eq!(
        expr::template("migrate-${{ inputs.x }}-${{ inputs.yes }}", &root),
        json!("migrate-x-true")
    );
    assert!(expr::condition("inputs.x != ''", &root));
    assert!(!expr::condition("${{ inputs.empty }}", &root));
}

/// The contexts an expression of deploy.yml sees: `inputs` (the caller's `given`, the declared
/// defaults otherwise, booleans as booleans), `github`, and whatever `extra` adds (`steps`,
/// `needs`, `runner`).
fn context(given: &[(&str, &str)], extra: Value) -> Value {
    let wf = deploy_yml();
    let declared = workflow_inputs(&wf);
    let mut inputs = serde_json::Map::new();
    for (name, spec) in &declared {
        let boolean = spec["type"] == "boolean";
        let raw = given
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| Value::String((*v).to_string()))
            .unwrap_or_else(|| spec["default"].clone());
        let value = match (boolean, raw) {
            (true, Value::String(s)) => Value::Bool(s == "true"),
            (true, Value::Null) => Value::Bool(false),
            (false, Value::Null) => Value::String(String::new()),
            (false, Value::Bool(b)) => Value::String(b.to_string()),
            (_, v) => v,
        };
        inputs.insert(name.clone(), value);
    }
    for (name, _) in given {
        assert!(
            declared.contains_key(*name),
            "deploy.yml has no input `{name}`"
        );
    }
    let mut root = json!({
        "inputs": inputs,
        "github": {
            "event_name": "push",
            "ref": "refs/heads/main",
            "repository": "octo-org/octo-repo",
            "run_id": 4242,
            "run_attempt": 1,
            "server_url": "https://github.com",
        },
        "runner": {"temp": "/runner/temp", "os": "Linux", "arch": "X64"},
    });
    if let Value::Object(extra) = extra {
        for (k, v) in extra {
            root[k] = v;
        }
    }
    root
}

/// `value` (a string of deploy.yml) evaluated in `root`; `null` is `''`, as the runner hands it
/// to an action or a script.
fn eval(value: &Value, root: &Value) -> Value {
    match expr::template(
        value
            .as_str()
            .unwrap_or_else(|| panic!("{value} is not text")),
        root,
    ) {
        Value::Null => Value::String(String::new()),
        v => v,
    }
}

// The contract with the actions.

/// `(job, step id or name, action directory, with:)` of every `uses: $/actions/X` step.
fn action_steps(wf: &Value) -> Vec<(String, String, String, serde_json::Map<String, Value>)> {
    let mut out = Vec::new();
    for (job, spec) in jobs(wf) {
        for (i, s) in spec["steps"].as_array().into_iter().flatten().enumerate() {
            let Some(action) = s["uses"]
                .as_str()
                .and_then(|u| u.strip_prefix("$/actions/"))
            else {
                continue;
            };
            let name = s["id"]
                .as_str()
                .or_else(|| s["name"].as_str())
                .map_or_else(|| format!("#{i}"), str::to_string);
            let with = s["with"].as_object().cloned().unwrap_or_default();
            out.push((job.clone(), name, action.to_string(), with));
        }
    }
    out
}

/// Everything wrong with the `$/actions/...` steps of `wf`: inputs the action does not declare,
/// required inputs not passed, `deckhand-image` not handed on.
fn action_contract_problems(wf: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let steps = action_steps(wf);
    if steps.is_empty() {
        problems.push("no step uses `$/actions/...`".to_string());
    }
    for (job, name, action, with) in steps {
        let spec = load(&format!("actions/{action}/action.yml"));
        let inputs = spec["inputs"].as_object().cloned().unwrap_or_default();
        for key in with.keys() {
            if !inputs.contains_key(key) {
                problems.push(format!(
                    "{job}/{name}: `{key}` is not an input of actions/{action}"
                ));
            }
        }
        for (input, s) in &inputs {
            if s["required"] == true && !with.contains_key(input) {
                problems.push(format!(
                    "{job}/{name}: required input `{input}` of actions/{action} is not passed"
                ));
            }
        }
        for handed in ["deckhand-image", "deckhand-path"] {
            let wanted = format!("${{{{ inputs.{handed} }}}}");
            if with.get(handed).map(text).as_deref() != Some(wanted.as_str()) {
                problems.push(format!(
                    "{job}/{name}: actions/{action} is not given `{handed}: {wanted}`"
                ));
            }
        }
    }
    problems
}

#[test]
fn every_action_step_passes_declared_inputs_every_required_one_and_the_deckhand_image() {
    let wf = deploy_yml();
    let problems = action_contract_problems(&wf);
    assert!(problems.is_empty(), "{problems:#?}");
    // Every action the chain uses, so none is left out of the check.
    let used: BTreeSet<String> = action_steps(&wf).into_iter().map(|s| s.2).collect();
    let expected: BTreeSet<String> = [
        "changes",
        "ecs-deploy",
        "ecs-run",
        "nginx-image",
        "pr-comment",
        "static-site",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(used, expected);
}

#[test]
fn mutation_a_wrong_input_a_missing_required_one_and_a_missing_image_are_caught() {
    let wf = deploy_yml();
    let find = |wf: &mut Value, job: &str, id: &str| -> serde_json::Map<String, Value> {
        let s = wf["jobs"][job]["steps"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|s| s["id"] == id)
            .unwrap();
        s["with"].as_object().unwrap().clone()
    };
    let set = |wf: &mut Value, job: &str, id: &str, with: serde_json::Map<String, Value>| {
        let s = wf["jobs"][job]["steps"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|s| s["id"] == id)
            .unwrap();
        s["with"] = Value::Object(with);
    };

    let mut broken = wf.clone();
    let mut with = find(&mut broken, "backend", "migrate");
    let v = with.remove("timeout").unwrap();
    with.insert("wait-timeout".into(), v);
    set(&mut broken, "backend", "migrate", with);
    let problems = action_contract_problems(&broken);
    assert!(
        problems
            .iter()
            .any(|p| p == "backend/migrate: `wait-timeout` is not an input of actions/ecs-run"),
        "{problems:#?}"
    );

    let mut broken = wf.clone();
    let mut with = find(&mut broken, "frontend", "deploy");
    with.remove("bucket");
    set(&mut broken, "frontend", "deploy", with);
    let problems = action_contract_problems(&broken);
    assert!(
        problems.iter().any(|p| p
            == "frontend/deploy: required input `bucket` of actions/static-site is not passed"),
        "{problems:#?}"
    );

    let mut broken = wf;
    let mut with = find(&mut broken, "nginx", "deploy");
    with.remove("deckhand-image");
    set(&mut broken, "nginx", "deploy", with);
    let problems = action_contract_problems(&broken);
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("nginx/deploy: actions/nginx-image is not given")),
        "{problems:#?}"
    );
}

/// The input names `text` reads as `inputs.NAME`.
fn inputs_read(text: &str) -> BTreeSet<String> {
    text.match_indices("inputs.")
        .filter(|(i, _)| {
            !text[..*i].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        })
        .map(|(i, m)| {
            text[i + m.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect()
        })
        .collect()
}

fn all_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| all_strings(x, out)),
        Value::Object(m) => m.values().for_each(|x| all_strings(x, out)),
        _ => {}
    }
}

#[test]
fn every_input_is_described_used_and_documented_and_nothing_else_is_read() {
    let wf = deploy_yml();
    let declared = workflow_inputs(&wf);
    let mut strings = Vec::new();
    all_strings(&wf["jobs"], &mut strings);
    let read: BTreeSet<String> = strings.iter().flat_map(|s| inputs_read(s)).collect();
    let docs = std::fs::read_to_string(repo_root().join("docs/workflow.md")).unwrap();
    for (name, spec) in &declared {
        assert!(
            spec["description"].as_str().is_some_and(|d| !d.is_empty()),
            "input `{name}` has no description"
        );
        assert!(
            read.contains(name),
            "input `{name}` is declared but never used"
        );
        assert!(
            docs_table_of_inputs(&docs)
                .iter()
                .any(|row| row.starts_with(&format!("| `{name}` |"))),
            "input `{name}` is not in docs/workflow.md's table of inputs"
        );
    }
    for name in &read {
        assert!(
            declared.contains_key(name),
            "`inputs.{name}` is read but not declared"
        );
    }
    // And the docs' table lists no input that does not exist.
    for row in docs_table_of_inputs(&docs) {
        let name = row[3..].split('`').next().unwrap();
        assert!(
            declared.contains_key(name),
            "docs/workflow.md documents `{name}`, which deploy.yml does not declare"
        );
    }
}

/// The rows of docs/workflow.md's table of deploy.yml's inputs (between its heading and the
/// next heading).
fn docs_table_of_inputs(docs: &str) -> Vec<String> {
    let start = docs
        .find("## The inputs")
        .expect("docs/workflow.md has a `## The inputs` section");
    let section = &docs[start..];
    let end = section[3..].find("\n## ").map_or(section.len(), |e| e + 3);
    section[..end]
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_example_caller_passes_declared_inputs_and_every_required_one() {
    let wf = deploy_yml();
    let declared = workflow_inputs(&wf);
    let example = load(".github/workflows/deploy-example.yml");
    let call = &example["jobs"]["deploy"];
    assert_eq!(call["uses"], "$/.github/workflows/deploy.yml");
    let with = call["with"].as_object().expect("with:");
    for key in with.keys() {
        assert!(
            declared.contains_key(key),
            "deploy-example.yml passes `{key}`, which deploy.yml does not declare"
        );
    }
    for (name, spec) in &declared {
        if spec["required"] == true {
            assert!(
                with.contains_key(name),
                "deploy-example.yml does not pass required `{name}`"
            );
        }
    }
    // The example uses what it demonstrates.
    for key in [
        "frontend-build-command",
        "frontend-directory",
        "backend-container",
        "migration-command",
        "dry-run-role-to-assume",
    ] {
        assert!(
            with.contains_key(key),
            "deploy-example.yml does not show `{key}`"
        );
    }
}

#[test]
fn no_expression_inside_a_run_script() {
    let wf = deploy_yml();
    for (job, spec) in jobs(&wf) {
        for s in spec["steps"].as_array().into_iter().flatten() {
            if let Some(run) = s["run"].as_str() {
                assert!(
                    !run.contains("${{"),
                    "{job}/{}: an expression inside `run:`; pass it through `env:`",
                    text(&s["id"])
                );
                assert_eq!(
                    s["shell"],
                    "bash",
                    "{job}/{}: `shell: bash`",
                    text(&s["id"])
                );
            }
        }
    }
}

// The expressions that decide where and how each job runs.

const DEPLOY_JOBS: [&str; 3] = ["backend", "nginx", "frontend"];

#[test]
fn every_job_runs_on_the_runs_on_input_a_label_or_a_json_list_or_object() {
    let wf = deploy_yml();
    for (runs_on, expected) in [
        ("", json!("ubuntu-24.04")), // not given: the default
        ("ubuntu-24.04-arm", json!("ubuntu-24.04-arm")),
        (
            r#"["self-hosted", "linux", "x64"]"#,
            json!(["self-hosted", "linux", "x64"]),
        ),
        (
            r#"{"group": "deployers", "labels": ["linux"]}"#,
            json!({"group": "deployers", "labels": ["linux"]}),
        ),
    ] {
        let given: Vec<(&str, &str)> = if runs_on.is_empty() {
            vec![]
        } else {
            vec![("runs-on", runs_on)]
        };
        let root = context(&given, json!({}));
        for (job, spec) in jobs(&wf) {
            assert_eq!(
                eval(&spec["runs-on"], &root),
                expected,
                "job `{job}` with runs-on `{runs_on}`"
            );
        }
    }
}

#[test]
fn a_dry_run_has_its_own_environment_concurrency_group_and_role() {
    let wf = deploy_yml();
    let base = [
        ("environment", "production"),
        ("role-to-assume", "arn:aws:iam::1:role/deploy"),
    ];
    let pr = json!({"github": {"event_name": "pull_request", "ref": "refs/pull/7/merge", "run_id": 1, "run_attempt": 1}});
    for job in DEPLOY_JOBS {
        let spec = &wf["jobs"][job];
        let role_of = |root: &Value| -> Value {
            let s = spec["steps"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| text(&s["uses"]).starts_with("aws-actions/configure-aws-credentials@"))
                .expect("configure-aws-credentials");
            eval(&s["with"]["role-to-assume"], root)
        };

        // A real deploy: its environment, the part's group, never cancelled, the deploy role.
        let root = context(&base, json!({}));
        assert_eq!(eval(&spec["environment"], &root), "production", "{job}");
        assert_eq!(
            eval(&spec["concurrency"]["group"], &root),
            format!("deploy-production-{job}"),
            "{job}"
        );
        assert_eq!(
            eval(&spec["concurrency"]["cancel-in-progress"], &root),
            false
        );
        assert_eq!(role_of(&root), "arn:aws:iam::1:role/deploy");

        // A dry run: no environment (protection rules never hold it), a group per ref of its
        // own (it never replaces a pending deploy; a newer push replaces its older plan).
        let dry = [&base[..], &[("dry-run", "true")]].concat();
        let root = context(&dry, pr.clone());
        assert_eq!(eval(&spec["environment"], &root), "", "{job}");
        let group = eval(&spec["concurrency"]["group"], &root);
        assert_eq!(
            group,
            format!("deckhand-plan-production-{job}-refs/pull/7/merge"),
            "{job}"
        );
        assert_ne!(group, format!("deploy-production-{job}"));
        assert_eq!(
            eval(&spec["concurrency"]["cancel-in-progress"], &root),
            true
        );
        assert_eq!(role_of(&root), "arn:aws:iam::1:role/deploy");

        // With a dry-run environment and a plan role.
        let planned = [
            &dry[..],
            &[
                ("dry-run-environment", "plan"),
                ("dry-run-role-to-assume", "arn:aws:iam::1:role/plan"),
            ],
        ]
        .concat();
        let root = context(&planned, pr.clone());
        assert_eq!(eval(&spec["environment"], &root), "plan", "{job}");
        assert_eq!(role_of(&root), "arn:aws:iam::1:role/plan");

        // A plan role is for dry runs only: a real deploy keeps the deploy role.
        let real = [
            &base[..],
            &[
                ("dry-run-environment", "plan"),
                ("dry-run-role-to-assume", "arn:aws:iam::1:role/plan"),
            ],
        ]
        .concat();
        let root = context(&real, json!({}));
        assert_eq!(eval(&spec["environment"], &root), "production", "{job}");
        assert_eq!(role_of(&root), "arn:aws:iam::1:role/deploy");
    }
    // The jobs without AWS access have no environment and no role at all.
    for job in ["changes", "frontend-build", "plan-comment"] {
        let spec = &wf["jobs"][job];
        assert!(spec["environment"].is_null(), "{job}");
        assert!(spec["permissions"]["id-token"].is_null(), "{job}");
    }
}

#[test]
fn the_backend_deploy_builds_itself_or_deploys_the_image_built_for_the_migration() {
    let wf = deploy_yml();
    let deploy = &step(&wf, "backend", "deploy")["with"];
    let migrate = step(&wf, "backend", "migrate");
    let base = [
        ("environment", "production"),
        ("backend-service", "api"),
        ("backend-container", "app"),
        ("backend-context", "services/api"),
        ("backend-repository", "api"),
    ];

    // No migration: ecs-deploy builds from the context, into the container.
    let root = context(&base, json!({"steps": {}}));
    assert!(!expr::condition(migrate["if"].as_str().unwrap(), &root));
    assert!(!expr::condition(
        step(&wf, "backend", "image")["if"].as_str().unwrap(),
        &root
    ));
    assert_eq!(eval(&deploy["build-context"], &root), "services/api");
    assert_eq!(eval(&deploy["image"], &root), "");
    assert_eq!(eval(&deploy["container-name"], &root), "app");

    // A migration: the image built before it is the one migrated and deployed, by digest.
    let image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/api@sha256:abc";
    let with_migration = [&base[..], &[("migration-command", "./migrate up")]].concat();
    let root = context(
        &with_migration,
        json!({"steps": {"built": {"outputs": {"image": image}}}}),
    );
    assert!(expr::condition(migrate["if"].as_str().unwrap(), &root));
    assert_eq!(
        eval(&migrate["with"]["images"], &root),
        format!("app={image}")
    );
    assert_eq!(eval(&migrate["with"]["command"], &root), "app=./migrate up");
    assert_eq!(eval(&migrate["with"]["service"], &root), "api");
    assert_eq!(
        eval(&migrate["with"]["started-by"], &root),
        "migrate-4242-1"
    );
    assert_eq!(eval(&migrate["with"]["timeout"], &root), "30m");
    assert_eq!(eval(&deploy["build-context"], &root), "");
    assert_eq!(eval(&deploy["image"], &root), image);
    assert_eq!(eval(&deploy["container-name"], &root), "app");

    // A migration without a build context: it runs the service's task definition as it is,
    // and the deploy step is given no container without an image (ecs-deploy refuses that).
    let no_build = [
        ("environment", "production"),
        ("backend-service", "api"),
        ("backend-container", "app"),
        ("migration-command", "./migrate up"),
    ];
    let root = context(&no_build, json!({"steps": {}}));
    assert_eq!(eval(&migrate["with"]["images"], &root), "");
    assert_eq!(eval(&deploy["container-name"], &root), "");
    assert_eq!(eval(&deploy["image"], &root), "");
}

#[test]
fn the_frontend_deploys_after_its_build_or_as_committed_and_never_after_a_failed_build() {
    let wf = deploy_yml();
    let frontend = &wf["jobs"]["frontend"];
    let build_job = &wf["jobs"]["frontend-build"];
    let deploy = &step(&wf, "frontend", "deploy")["with"];
    let changed = json!({"result": "success", "outputs": {"frontend": "true"}});
    let runs = |given: &[(&str, &str)], build: &str| -> bool {
        let root = context(
            given,
            json!({"needs": {"changes": changed, "frontend-build": {"result": build}}}),
        );
        expr::condition(frontend["if"].as_str().unwrap(), &root)
    };
    let built = [
        ("environment", "production"),
        ("site-bucket", "www"),
        ("site-dir", "web/dist"),
        ("frontend-build-command", "npm run build"),
    ];
    let committed = [
        ("environment", "production"),
        ("site-bucket", "www"),
        ("site-dir", "site"),
    ];
    assert!(runs(&built, "success"));
    assert!(
        !runs(&built, "failure"),
        "a failed build must stop the deploy"
    );
    assert!(!runs(&built, "skipped"));
    assert!(!runs(&built, "cancelled"));
    assert!(runs(&committed, "skipped"));

    let root = context(&built, json!({"needs": {"changes": changed}}));
    assert!(expr::condition(build_job["if"].as_str().unwrap(), &root));
    assert_eq!(eval(&deploy["dir"], &root), "/runner/temp/deckhand-site");
    let root = context(&committed, json!({"needs": {"changes": changed}}));
    assert!(!expr::condition(build_job["if"].as_str().unwrap(), &root));
    assert_eq!(eval(&deploy["dir"], &root), "site");

    // The build job holds no deploy credential: no environment, no OIDC token.
    assert_eq!(build_job["permissions"], json!({"contents": "read"}));
}

// The run: scripts, executed.

/// A step's script run as the runner runs `shell: bash` (`bash --noprofile --norc -eo pipefail
/// FILE`), in `workdir`, its `env:` evaluated in `root`; `path` goes in front of PATH.
struct StepRun {
    out: Output,
    outputs: BTreeMap<String, String>,
    summary: String,
}

impl StepRun {
    fn code(&self) -> i32 {
        self.out.status.code().unwrap_or(-1)
    }
    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }
    fn log(&self) -> String {
        format!("{}{}", self.stdout(), self.stderr())
    }
    fn ok(&self) -> &Self {
        assert_eq!(self.code(), 0, "{}", self.log());
        self
    }
}

fn run_step(
    mut cmd: Command,
    job: &str,
    id: &str,
    root: &Value,
    workdir: &Path,
    path: &[&Path],
) -> StepRun {
    let wf = deploy_yml();
    let s = step(&wf, job, id);
    assert_eq!(s["shell"], "bash");
    let files = tempfile::tempdir().unwrap();
    let script = files.path().join("step.sh");
    std::fs::write(&script, s["run"].as_str().expect("run:")).unwrap();
    let output = files.path().join("output");
    let summary = files.path().join("summary");
    std::fs::write(&output, "").unwrap();
    std::fs::write(&summary, "").unwrap();
    let mut search: Vec<String> = path.iter().map(|p| p.display().to_string()).collect();
    search.push(std::env::var("PATH").unwrap_or_default());
    cmd.args(["--noprofile", "--norc", "-eo", "pipefail"])
        .arg(&script)
        .current_dir(workdir)
        .env("PATH", search.join(":"))
        .env("GITHUB_WORKSPACE", workdir)
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
        .env("RUNNER_TEMP", files.path());
    for (name, value) in s["env"].as_object().into_iter().flatten() {
        cmd.env(name, expr::render(&eval(value, root)));
    }
    let out = cmd.output().expect("run bash");
    StepRun {
        out,
        outputs: parse_outputs(&std::fs::read_to_string(&output).unwrap()),
        summary: std::fs::read_to_string(&summary).unwrap(),
    }
}

/// bash with none of the developer's AWS, GitHub or deckhand variables.
fn bash() -> Command {
    let mut cmd = Command::new("bash");
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") || k.starts_with("GITHUB_") || k.starts_with("DECKHAND_") {
            cmd.env_remove(k);
        }
    }
    cmd
}

fn parts(given_parts: &str, changes: &str) -> StepRun {
    let root = context(
        &[("environment", "production"), ("parts", given_parts)],
        json!({"steps": {"filter": {"outputs": {"changes": changes}}}}),
    );
    let dir = tempfile::tempdir().unwrap();
    run_step(bash(), "changes", "parts", &root, dir.path(), &[])
}

#[test]
fn parts_follow_the_filters_or_the_list_asked_for_and_a_misspelt_part_is_refused() {
    for (given, changes, expected) in [
        ("auto", r#"["backend","frontend"]"#, [true, false, true]),
        ("", r#"["nginx"]"#, [false, true, false]), // empty is auto
        ("auto", "[]", [false, false, false]),
        ("all", "[]", [true, true, true]),
        ("nginx, frontend", r#"["backend"]"#, [false, true, true]),
        ("backend", "[]", [true, false, false]),
    ] {
        let run = parts(given, changes);
        run.ok();
        let got: Vec<bool> = ["backend", "nginx", "frontend"]
            .iter()
            .map(|p| run.outputs[*p] == "true")
            .collect();
        assert_eq!(got, expected, "parts `{given}`, changes {changes}");
        assert!(run.summary.contains("- backend: "), "{}", run.summary);
    }

    for (given, shown) in [
        ("fronted", "`fronted`"),
        ("backend,all", "`all`"),
        ("nginx,$(id)", "`??id?`"),
    ] {
        let run = parts(given, "[]");
        assert_eq!(run.code(), 2, "parts `{given}`: {}", run.log());
        assert!(
            run.stdout().contains(&format!(
                "::error title=deckhand deploy::input parts: {shown} is not a part"
            )),
            "{}",
            run.log()
        );
        assert!(run.outputs.is_empty(), "nothing decided: {:?}", run.outputs);
    }
}

/// `docker` for the image step: `docker login` records its arguments and the password it read
/// on stdin (what docker's credential store would keep); anything else fails.
fn docker_login_stand_in(bin: &Path, record: &Path) {
    let script = format!(
        r#"#!/usr/bin/env bash
set -euo pipefail
if [[ "${{1:-}}" != login ]]; then echo "docker stand-in: only login, got: $*" >&2; exit 125; fi
shift
printf '%s\n' "$*" >"{record}.args"
cat >"{record}.password"
echo "Login Succeeded"
"#,
        record = record.display()
    );
    let path = bin.join("docker");
    std::fs::write(&path, script).unwrap();
    make_executable(&path);
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

struct ImageStep {
    run: StepRun,
    login_args: Option<String>,
    login_password: Option<String>,
}

/// The backend's `image` step against the local world (awscli from the project venv, docker's
/// login stood in for), in a git checkout whose last commit is at `epoch`.
fn image_step(given: &[(&str, &str)], epoch: i64) -> ImageStep {
    let w = world();
    let work = tempfile::tempdir().unwrap();
    let bin = work.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let record = work.path().join("docker-login");
    docker_login_stand_in(&bin, &record);
    let checkout = work.path().join("checkout");
    std::fs::create_dir_all(checkout.join("services/api")).unwrap();
    std::fs::write(checkout.join("services/api/Dockerfile"), "FROM scratch\n").unwrap();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args(args)
            .current_dir(&checkout)
            .env("GIT_AUTHOR_DATE", format!("@{epoch} +0000"))
            .env("GIT_COMMITTER_DATE", format!("@{epoch} +0000"))
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "api"]);

    let mut all = vec![
        ("environment", "production"),
        ("aws-region", "us-east-1"),
        ("backend-service", "api"),
        ("backend-container", "app"),
        ("backend-context", "services/api"),
        ("migration-command", "./migrate up"),
    ];
    for (k, v) in given {
        all.retain(|(n, _)| n != k);
        all.push((k, v));
    }
    let root = context(&all, json!({}));
    let venv = repo_root().join(".venv/bin");
    let run = run_step(
        w.command("bash"),
        "backend",
        "image",
        &root,
        &checkout,
        &[&bin, &venv],
    );
    let read =
        |suffix: &str| std::fs::read_to_string(format!("{}.{suffix}", record.display())).ok();
    ImageStep {
        login_args: read("args").map(|s| s.trim().to_string()),
        login_password: read("password"),
        run,
    }
}

fn create_repository(name: &str, mutability: &str) -> String {
    let w = world();
    if w.try_aws(&["ecr", "describe-repositories", "--repository-names", name])
        .is_err()
    {
        w.aws(&[
            "ecr",
            "create-repository",
            "--repository-name",
            name,
            "--image-tag-mutability",
            mutability,
        ]);
    }
    w.aws(&["ecr", "describe-repositories", "--repository-names", name])["repositories"][0]
        ["repositoryUri"]
        .as_str()
        .unwrap()
        .to_string()
}

fn put_image(repository: &str, tag: &str) -> String {
    let manifest = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#;
    world().aws(&[
        "ecr",
        "put-image",
        "--repository-name",
        repository,
        "--image-tag",
        tag,
        "--image-manifest",
        manifest,
    ])["image"]["imageId"]["imageDigest"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn the_image_for_a_migration_is_built_in_its_repository_with_docker_logged_in() {
    let uri = create_repository("wf-mutable", "MUTABLE");
    let step = image_step(
        &[
            ("backend-repository", "wf-mutable"),
            ("image-tag", "4f2c1a9"),
        ],
        1_700_000_000,
    );
    let run = step.run.ok();
    let o = &run.outputs;
    assert_eq!(o["build"], "true");
    assert_eq!(o["push"], "true");
    assert_eq!(o["repository"], uri);
    assert_eq!(o["digest"], "");
    assert_eq!(o["tags"], format!("{uri}:4f2c1a9"));
    assert_eq!(o["context"], "services/api");
    assert_eq!(o["dockerfile"], "services/api/Dockerfile");
    assert_eq!(o["source-date-epoch"], "1700000000");
    assert_eq!(
        o["cache-from"],
        format!("type=registry,ref={uri}:buildcache")
    );
    assert_eq!(
        o["cache-to"],
        format!(
            "type=registry,ref={uri}:buildcache,mode=max,image-manifest=true,oci-mediatypes=true"
        )
    );
    // docker logged in to the repository's registry with ECR's password, which no log shows.
    let registry = uri.split('/').next().unwrap();
    assert_eq!(
        step.login_args.as_deref(),
        Some(format!("--username AWS --password-stdin {registry}").as_str())
    );
    let password = ECR_CREDS.split_once(':').unwrap().1;
    assert_eq!(
        step.login_password.as_deref().map(str::trim),
        Some(password)
    );
    assert!(!run.log().contains(password), "{}", run.log());

    // A dry run builds (a pull request proves the image builds) and pushes nothing; without
    // image-tag the commit SHA is the tag; a full URI names the repository too.
    let step = image_step(
        &[("backend-repository", uri.as_str()), ("dry-run", "true")],
        1_700_000_000,
    );
    let o = &step.run.ok().outputs;
    assert_eq!(o["build"], "true");
    assert_eq!(o["push"], "false");
    assert_eq!(o["repository"], uri);
    assert_eq!(
        o["tags"],
        format!("{uri}:0123456789abcdef0123456789abcdef01234567")
    );
}

#[test]
fn an_existing_immutable_tag_is_deployed_again_instead_of_built() {
    let uri = create_repository("wf-immutable", "IMMUTABLE");
    let digest = put_image("wf-immutable", "v7");

    let step = image_step(
        &[("backend-repository", "wf-immutable"), ("image-tag", "v7")],
        1_700_000_000,
    );
    let o = &step.run.ok().outputs;
    assert_eq!(o["build"], "false");
    assert_eq!(o["digest"], digest);
    assert_eq!(o["repository"], uri);
    assert!(step.login_args.is_none(), "no build, no login");

    // A tag not there yet is built, without the registry cache (its tag cannot move here).
    let step = image_step(
        &[("backend-repository", "wf-immutable"), ("image-tag", "v8")],
        1_700_000_000,
    );
    let o = &step.run.ok().outputs;
    assert_eq!(o["build"], "true");
    assert_eq!(o["digest"], "");
    assert_eq!(o["cache-to"], "");
    assert!(step.login_args.is_some());
}

#[test]
fn bad_input_for_the_migration_image_is_exit_2_before_any_build() {
    for (given, needle) in [
        (
            vec![("backend-container", ""), ("backend-repository", "wf-any")],
            "input migration-command needs backend-container",
        ),
        (
            vec![("backend-repository", "")],
            "input backend-repository is empty",
        ),
        (
            vec![("backend-repository", "wf-missing-repo")],
            "ECR repository `wf-missing-repo` does not exist in us-east-1",
        ),
        (
            vec![("backend-repository", "wf-any"), ("image-tag", "feature/x")],
            "input image-tag `feature?x` is not a Docker tag",
        ),
    ] {
        let step = image_step(&given, 0);
        assert_eq!(step.run.code(), 2, "{given:?}: {}", step.run.log());
        assert!(
            step.run.stdout().contains(&format!(
                "::error title=deckhand deploy (backend)::{needle}"
            )),
            "{given:?}: {}",
            step.run.log()
        );
        assert!(step.login_args.is_none(), "{given:?}");
        assert!(
            step.run.outputs.is_empty(),
            "{given:?}: {:?}",
            step.run.outputs
        );
    }

    // No build context: nothing to build, the migration runs the service's task definition.
    let step = image_step(&[("backend-context", "")], 0);
    assert_eq!(step.run.ok().outputs["build"], "false");
    assert!(!step.run.outputs.contains_key("repository"));
}

#[test]
fn the_built_image_is_named_by_its_digest() {
    let run_built = |built: &str, reused: &str| {
        let root = context(
            &[("environment", "production")],
            json!({"steps": {
                "image": {"outputs": {"repository": "r.example/api", "digest": reused}},
                "build": {"outputs": {"digest": built}},
            }}),
        );
        let dir = tempfile::tempdir().unwrap();
        run_step(bash(), "backend", "built", &root, dir.path(), &[])
    };
    let run = run_built("sha256:b1", "");
    assert_eq!(run.ok().outputs["image"], "r.example/api@sha256:b1");
    let run = run_built("", "sha256:r1");
    assert_eq!(run.ok().outputs["image"], "r.example/api@sha256:r1");
    let run = run_built("", "");
    assert_eq!(run.code(), 1, "{}", run.log());
    assert!(run.stdout().contains("the build gave no image digest"));
    assert!(run.outputs.is_empty());
}

/// Stand-ins for corepack, pnpm and yarn (not installed here, and corepack would write next to
/// the system's node): they record what they are asked and answer as the real tools do.
fn package_manager_stand_ins(bin: &Path, yarn_version: &str) {
    let log = bin.join("calls");
    for (name, body) in [
        ("corepack", "echo \"corepack $*\" >>\"$LOG\"".to_string()),
        (
            "pnpm",
            "echo \"pnpm $*\" >>\"$LOG\"\n[[ \"$*\" == 'store path --silent' ]] && echo /home/runner/.local/share/pnpm/store/v10\ntrue".to_string(),
        ),
        (
            "yarn",
            format!(
                "echo \"yarn $*\" >>\"$LOG\"\ncase \"$*\" in\n  --version) echo {yarn_version} ;;\n  'cache dir') echo /home/runner/.cache/yarn/v6 ;;\n  'config get cacheFolder') echo /home/runner/.yarn/berry/cache ;;\nesac"
            ),
        ),
    ] {
        let path = bin.join(name);
        std::fs::write(
            &path,
            format!(
                "#!/usr/bin/env bash\nset -euo pipefail\nLOG={}\n{body}\n",
                log.display()
            ),
        )
        .unwrap();
        make_executable(&path);
    }
}

fn tool_step(checkout: &Path, given: &[(&str, &str)], bin: &Path, npm_cache: &Path) -> StepRun {
    let mut all = vec![
        ("environment", "production"),
        ("site-bucket", "www"),
        ("site-dir", "web/dist"),
        ("frontend-directory", "web"),
        ("frontend-build-command", "npm run build"),
    ];
    for (k, v) in given {
        all.retain(|(n, _)| n != k);
        all.push((k, v));
    }
    let root = context(&all, json!({}));
    let mut cmd = bash();
    cmd.env("npm_config_cache", npm_cache)
        .env("npm_config_update_notifier", "false");
    run_step(cmd, "frontend-build", "tool", &root, checkout, &[bin])
}

#[test]
fn the_package_manager_comes_from_the_lockfile_with_its_install_and_cache() {
    let work = tempfile::tempdir().unwrap();
    let checkout = work.path().join("checkout");
    let web = checkout.join("web");
    std::fs::create_dir_all(&web).unwrap();
    let bin = work.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let npm_cache = work.path().join("npm-cache");
    let calls = || std::fs::read_to_string(bin.join("calls")).unwrap_or_default();

    // npm, the real one.
    std::fs::write(web.join("package-lock.json"), "{}").unwrap();
    let run = tool_step(&checkout, &[], &bin, &npm_cache);
    let o = &run.ok().outputs;
    assert_eq!(o["manager"], "npm");
    assert_eq!(o["lockfile"], "web/package-lock.json");
    assert_eq!(o["install"], "npm ci");
    assert_eq!(o["cache-dir"], npm_cache.display().to_string());
    // A given install command wins.
    let run = tool_step(
        &checkout,
        &[("frontend-install-command", "npm ci --ignore-scripts")],
        &bin,
        &npm_cache,
    );
    assert_eq!(run.ok().outputs["install"], "npm ci --ignore-scripts");

    // pnpm, through corepack.
    package_manager_stand_ins(&bin, "1.22.22");
    std::fs::remove_file(web.join("package-lock.json")).unwrap();
    std::fs::write(web.join("pnpm-lock.yaml"), "lockfileVersion: '9.0'\n").unwrap();
    let run = tool_step(&checkout, &[], &bin, &npm_cache);
    let o = &run.ok().outputs;
    assert_eq!(o["manager"], "pnpm");
    assert_eq!(o["lockfile"], "web/pnpm-lock.yaml");
    assert_eq!(o["install"], "pnpm install --frozen-lockfile");
    assert_eq!(o["cache-dir"], "/home/runner/.local/share/pnpm/store/v10");
    assert!(calls().starts_with("corepack enable pnpm\n"), "{}", calls());

    // yarn 1, then yarn 4, through corepack.
    std::fs::remove_file(web.join("pnpm-lock.yaml")).unwrap();
    std::fs::write(web.join("yarn.lock"), "# yarn lockfile v1\n").unwrap();
    let run = tool_step(&checkout, &[], &bin, &npm_cache);
    let o = &run.ok().outputs;
    assert_eq!(o["manager"], "yarn");
    assert_eq!(o["install"], "yarn install --frozen-lockfile");
    assert_eq!(o["cache-dir"], "/home/runner/.cache/yarn/v6");
    assert!(calls().contains("corepack enable yarn\n"), "{}", calls());
    package_manager_stand_ins(&bin, "4.9.1");
    let run = tool_step(&checkout, &[], &bin, &npm_cache);
    let o = &run.ok().outputs;
    assert_eq!(o["install"], "yarn install --immutable");
    assert_eq!(o["cache-dir"], "/home/runner/.yarn/berry/cache");

    // Two lockfiles: the first decides, with a warning.
    std::fs::write(web.join("package-lock.json"), "{}").unwrap();
    let run = tool_step(&checkout, &[], &bin, &npm_cache);
    assert_eq!(run.ok().outputs["manager"], "npm");
    assert!(
        run.stdout()
            .contains("::warning title=deckhand deploy (frontend build)::`web` has package-lock.json yarn.lock; package-lock.json decides"),
        "{}",
        run.log()
    );
}

#[test]
fn bad_frontend_input_is_exit_2_before_any_install() {
    let work = tempfile::tempdir().unwrap();
    let checkout = work.path().join("checkout");
    std::fs::create_dir_all(checkout.join("web")).unwrap();
    let bin = work.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    package_manager_stand_ins(&bin, "1.22.22");
    let npm_cache = work.path().join("npm-cache");
    for (given, needle) in [
        (vec![("site-dir", "")], "input site-dir is empty"),
        (
            vec![("frontend-directory", "webb")],
            "input frontend-directory: `webb` is not a directory of the checkout",
        ),
        (vec![], "no lockfile in `web`"),
    ] {
        let run = tool_step(&checkout, &given, &bin, &npm_cache);
        assert_eq!(run.code(), 2, "{given:?}: {}", run.log());
        assert!(
            run.stdout().contains(&format!(
                "::error title=deckhand deploy (frontend build)::{needle}"
            )),
            "{given:?}: {}",
            run.log()
        );
        assert!(run.outputs.is_empty());
        assert!(!bin.join("calls").exists(), "nothing was run");
    }
}

fn build_step(checkout: &Path, build_command: &str, site_dir: &str, npm_cache: &Path) -> StepRun {
    let root = context(
        &[
            ("environment", "production"),
            ("frontend-directory", "web"),
            ("frontend-build-command", build_command),
            ("site-dir", site_dir),
        ],
        json!({"steps": {"tool": {"outputs": {"install": "npm ci"}}}}),
    );
    let mut cmd = bash();
    cmd.env("npm_config_cache", npm_cache)
        .env("npm_config_audit", "false")
        .env("npm_config_fund", "false")
        .env("npm_config_update_notifier", "false")
        .env("npm_config_offline", "true");
    run_step(cmd, "frontend-build", "build", &root, checkout, &[])
}

#[test]
fn the_frontend_is_installed_and_built_by_the_real_npm_into_site_dir() {
    let work = tempfile::tempdir().unwrap();
    let checkout = work.path().join("checkout");
    let web = checkout.join("web");
    std::fs::create_dir_all(&web).unwrap();
    let npm_cache = work.path().join("npm-cache");
    // A package without dependencies: `npm ci` needs no network.
    std::fs::write(
        web.join("package.json"),
        r#"{"name": "site", "version": "1.0.0", "private": true, "scripts": {"build": "node build.mjs"}}"#,
    )
    .unwrap();
    std::fs::write(
        web.join("package-lock.json"),
        r#"{"name": "site", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": {"": {"name": "site", "version": "1.0.0"}}}"#,
    )
    .unwrap();
    std::fs::write(
        web.join("build.mjs"),
        "import fs from 'node:fs';\nfs.mkdirSync('dist/assets', {recursive: true});\nfs.writeFileSync('dist/index.html', '<h1>built</h1>');\nfs.writeFileSync('dist/assets/app.js', 'x');\n",
    )
    .unwrap();

    let run = build_step(&checkout, "npm run build", "web/dist", &npm_cache);
    run.ok();
    assert_eq!(
        std::fs::read_to_string(web.join("dist/index.html")).unwrap(),
        "<h1>built</h1>"
    );
    assert!(
        run.stdout().contains("::group::install: npm ci"),
        "{}",
        run.log()
    );
    assert!(
        run.stdout().contains("built 2 files into web/dist"),
        "{}",
        run.log()
    );
    assert!(run.stdout().contains("::group::build: npm run build"));

    // A site-dir the build does not write: exit 2, naming it.
    let run = build_step(&checkout, "npm run build", "web/build", &npm_cache);
    assert_eq!(run.code(), 2, "{}", run.log());
    assert!(
        run.stdout()
            .contains("the build ran, but site-dir `web/build` is missing or empty"),
        "{}",
        run.log()
    );

    // A failing build fails the step with its own exit code.
    let run = build_step(
        &checkout,
        "node -e 'process.exit(3)'",
        "web/dist",
        &npm_cache,
    );
    assert_eq!(run.code(), 3, "{}", run.log());
}

#[test]
fn the_plan_comment_has_a_row_per_part_the_migration_when_there_is_one_and_cut_plans() {
    let body = |needs: Value| {
        let root = context(&[("environment", "production")], json!({"needs": needs}));
        let dir = tempfile::tempdir().unwrap();
        let run = run_step(bash(), "plan-comment", "body", &root, dir.path(), &[]);
        run.ok();
        run.outputs["body"].clone()
    };
    let long_plan = "x".repeat(20_000);
    let text = body(json!({
        "changes": {"outputs": {"changes": "[\"backend\",\"frontend\"]"}},
        "backend": {"result": "success", "outputs": {"verdict": "dry-run", "migration": "dry-run", "plan": "register web:8"}},
        "nginx": {"result": "skipped", "outputs": {}},
        "frontend-build": {"result": "success"},
        "frontend": {"result": "success", "outputs": {"verdict": "dry-run", "plan": long_plan}},
    }));
    let table = "| part | job | verdict |\n|---|---|---|\n| backend migration | success | dry-run |\n| backend | success | dry-run |\n| nginx | skipped |  |\n| frontend | success | dry-run |\n";
    assert!(text.contains(table), "{text}");
    assert!(text.contains("Filters that matched: `[\"backend\",\"frontend\"]`"));
    assert!(
        text.contains("<details><summary>backend plan</summary>\n\n~~~~text\nregister web:8\n~~~~")
    );
    assert!(text.contains("... (cut: the whole plan is in the job log)"));
    assert!(!text.contains(&"x".repeat(18_001)));
    assert!(!text.contains("nginx plan"));
    assert!(text.ends_with("Run: https://github.com/octo-org/octo-repo/actions/runs/4242"));

    // Without a migration there is no migration row; a failed build shows as such.
    let text = body(json!({
        "changes": {"outputs": {"changes": "[\"frontend\"]"}},
        "backend": {"result": "skipped", "outputs": {}},
        "nginx": {"result": "skipped", "outputs": {}},
        "frontend-build": {"result": "failure"},
        "frontend": {"result": "skipped", "outputs": {}},
    }));
    assert!(!text.contains("migration"), "{text}");
    assert!(text.contains("| frontend | build failed |  |\n"), "{text}");
}
