//! Contract tests: small projects under `tests/contract/<case>/<language>/`
//! run for the number of frames in the case's hand-worked
//! `expected_dump.json`, and their dump, log and errors must match the
//! expected files exactly. Every language variant of a case shares the same
//! expected files, so the languages cannot drift apart.

mod common;

use std::path::{Path, PathBuf};

use ecscope::project::Project;
use ecscope::runtime::{EventKind, Runtime};

fn case_dir(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/contract")
        .join(case)
}

/// Makes log lines comparable across languages: tabs and spaces are one
/// separator, `True`/`False`/`None` read as `true`/`false`/`nil`, and
/// numbers are compared by value (`2` and `2.0` are the same).
fn normalize(line: &str) -> String {
    line.split_whitespace()
        .map(|token| match token {
            "True" => "true".to_string(),
            "False" => "false".to_string(),
            "None" => "nil".to_string(),
            t => match t.parse::<f64>() {
                Ok(n) if t.chars().all(|c| c.is_ascii_digit() || "+-.eE".contains(c)) => {
                    format!("{n}")
                }
                _ => t.to_string(),
            },
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn read_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

fn run_case(case: &str, language: &str) {
    let dir = case_dir(case);
    let project_dir = dir.join(language);
    assert!(project_dir.is_dir(), "missing {}", project_dir.display());
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("expected_dump.json")).expect("expected_dump.json"),
    )
    .expect("expected_dump.json is JSON");
    let frames = expected["frame"].as_u64().expect("frame");

    let project = Project::open(&project_dir).unwrap_or_else(|e| panic!("{e}"));
    let mut runtime = Runtime::open(project);
    let mut events = runtime.drain_events();
    for _ in 0..frames {
        runtime.step();
        events.extend(runtime.drain_events());
    }
    let dump: serde_json::Value =
        serde_json::from_str(&runtime.dump_world()).expect("the dump is JSON");
    assert_eq!(dump, expected, "{case}/{language}: world dump differs");

    let logs: Vec<String> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Log { message, .. } => Some(format!("{}|{}", e.frame, normalize(message))),
            _ => None,
        })
        .collect();
    let expected_logs: Vec<String> = read_lines(&dir.join("expected_log.txt"))
        .iter()
        .map(|l| match l.split_once('|') {
            Some((frame, text)) => format!("{frame}|{}", normalize(text)),
            None => l.clone(),
        })
        .collect();
    assert_eq!(logs, expected_logs, "{case}/{language}: log differs");

    let extension = if language == "lua" { "lua" } else { "py" };
    let errors: Vec<String> = events
        .iter()
        .filter_map(|e| e.as_error().map(|info| (e.frame, info)))
        .map(|(frame, info)| format!("{frame}|{}|{}|{}", info.script, info.line, info.context))
        .collect();
    let expected_errors: Vec<String> = read_lines(&dir.join("expected_errors.txt"))
        .iter()
        .map(|l| l.replace(".lua|", &format!(".{extension}|")))
        .collect();
    assert_eq!(errors, expected_errors, "{case}/{language}: errors differ");

    let coroutine_events: Vec<String> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::CoroutineStarted { name, .. } => Some(format!("{}|started|{name}", e.frame)),
            EventKind::CoroutineFinished { name, how, .. } => {
                Some(format!("{}|finished|{name}|{how}", e.frame))
            }
            _ => None,
        })
        .collect();
    let expected_coroutines = read_lines(&dir.join("expected_coroutines.txt"));
    assert_eq!(
        coroutine_events, expected_coroutines,
        "{case}/{language}: coroutine events differ"
    );
}

macro_rules! contract {
    ($($case:ident),* $(,)?) => {
        mod lua {
            $(#[test] fn $case() { super::run_case(stringify!($case), "lua"); })*
        }
        #[cfg(feature = "python")]
        mod python {
            $(#[test] fn $case() { super::run_case(stringify!($case), "python"); })*
        }
    };
}

contract!(
    basics, order, deferred, events, query, random, types, errors, coroutines
);

/// Lua and Python in one project: components declared in one language are
/// used in the other, events go both ways, and values keep their types.
#[cfg(feature = "python")]
#[test]
fn cross_language() {
    run_case("cross", "mixed");
}

#[test]
fn same_project_gives_the_same_dump_byte_for_byte() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_projects/boids");
    let run = || {
        let mut runtime = Runtime::open(Project::open(&dir).unwrap());
        for _ in 0..30 {
            runtime.step();
        }
        runtime.dump_world()
    };
    assert_eq!(run(), run());
}

/// The log of the `misuse` case in `language`: each misuse of the `ecs`
/// API and the message it raised.
fn misuse_log(language: &str) -> Vec<String> {
    let project = Project::open(&case_dir("misuse").join(language)).unwrap();
    let mut runtime = Runtime::open(project);
    runtime.step();
    runtime
        .drain_events()
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Log { message, .. } => Some(normalize(message)),
            EventKind::ScriptError(info) => Some(format!("error: {}", info.message)),
            _ => None,
        })
        .collect()
}

/// Python's words for its types and literals, in Lua's: the one way the
/// two languages' messages may differ.
fn in_lua_words(line: &str) -> String {
    [
        ("got int ", "got number "),
        ("got float ", "got number "),
        ("got str ", "got string "),
        ("got dict", "got table"),
        (
            "a dict of component name: value",
            "a table of component name = value",
        ),
        (
            "a list of component names such as [\"Position\", \"Velocity\"]",
            "a table of component names such as {\"Position\", \"Velocity\"}",
        ),
        (
            "a list of component names and",
            "a table of component names and",
        ),
        ("a generator function", "a function"),
        ("as yield ecs.", "as ecs."),
        ("scripts/main.py", "scripts/main.lua"),
    ]
    .iter()
    .fold(line.to_string(), |line, (py, lua)| line.replace(py, lua))
}

/// Every misuse of the `ecs` API in `tests/contract/misuse` raises the same
/// message in Lua and in Python (apart from each language's names for its
/// types), and the messages are the expected ones: the sentences are
/// written once, in `ecs::api`.
#[test]
fn misuse_gives_the_same_messages_in_both_languages() {
    let expected: Vec<String> = read_lines(&case_dir("misuse").join("expected_log.txt"))
        .iter()
        .map(|l| normalize(l))
        .collect();
    assert_eq!(expected.len(), 22);
    assert_eq!(misuse_log("lua"), expected, "lua");
    if cfg!(feature = "python") {
        let python: Vec<String> = misuse_log("python")
            .iter()
            .map(|l| in_lua_words(l))
            .collect();
        assert_eq!(python, expected, "python");
    }
}

/// Runs `source` as the one script (`scripts/main.lua` or `main.py`) of a
/// project for a frame and returns its log lines.
fn logs_of_script(file: &str, source: &str) -> Vec<String> {
    let (_dir, mut runtime) = common::one_script(file, source);
    runtime.step();
    runtime
        .drain_events()
        .iter()
        .filter_map(|e| match &e.kind {
            // `ecs.log()` with nothing logs an empty line.
            EventKind::Log { message, .. } if !message.is_empty() => Some(message.clone()),
            EventKind::ScriptError(info) => Some(format!("error: {}", info.message)),
            _ => None,
        })
        .collect()
}

/// The `ecs` described once (`ecs::api::FUNCTIONS`) is the `ecs` both
/// languages have: the same names and no others, each function refuses a
/// call without its required arguments and takes one without its optional
/// ones, and a first argument of the wrong kind is named as the
/// description names it.
#[test]
fn both_languages_have_exactly_the_described_ecs() {
    use ecscope::ecs::api::{FIELDS, FUNCTIONS, Kind};
    let mut described: Vec<&str> = FUNCTIONS.iter().map(|f| f.name).collect();
    described.extend(FIELDS);
    described.sort_unstable();
    let described = described.join(" ");

    // Each function called with nothing, then with a first argument of the
    // wrong kind; a line per call: `name|ok` or `name|the message`.
    let wrong = |kind: Kind| match kind {
        Kind::Entity => Some(("\"x\"", "the entity id must be a non-negative integer")),
        Kind::Str => Some(("42", "must be a string")),
        Kind::Names => Some(("42", "of component names")),
        Kind::Components => Some(("42", "of component name")),
        _ => None,
    };
    let mut lua = String::from(
        "local names = {}\nfor k in pairs(ecs) do names[#names + 1] = k end\ntable.sort(names)\nprint(table.concat(names, \" \"))\n\
         local function try(name, ...)\n  local ok, err = pcall(ecs[name], ...)\n  print(name .. \"|\" .. (ok and \"ok\" or tostring(err)))\nend\n",
    );
    let mut python = String::from(
        "import ecs\nprint(\" \".join(sorted(n for n in dir(ecs) if not n.startswith(\"_\"))))\n\n\
         def attempt(name, *args):\n    try:\n        getattr(ecs, name)(*args)\n        print(name + \"|ok\")\n    except Exception as e:\n        print(name + \"|\" + str(e))\n\n",
    );
    // A right value of each kind, in Lua and in Python.
    let right = |kind: Kind| match kind {
        Kind::Entity | Kind::Integer | Kind::Number | Kind::Value => ("1", "1"),
        Kind::Str => ("\"Position\"", "\"Position\""),
        Kind::Names => ("{ \"Position\" }", "[\"Position\"]"),
        Kind::Components => ("{}", "{}"),
        Kind::Function => ("function() end", "lambda *a: None"),
        Kind::Options | Kind::Rest => ("nil", "None"),
    };
    let mut expected = Vec::new();
    for f in FUNCTIONS {
        let required = f.params.iter().any(|p| !p.optional);
        lua.push_str(&format!("try(\"{}\")\n", f.name));
        python.push_str(&format!("attempt(\"{}\")\n", f.name));
        expected.push((
            f.name,
            if required || f.in_coroutine {
                None
            } else {
                Some("ok")
            },
        ));
        // The first argument wrong, the other required ones right.
        let Some((first, rest)) = f.params.split_first() else {
            continue;
        };
        let Some((value, message)) = wrong(first.kind).filter(|_| !f.in_coroutine) else {
            continue;
        };
        let others = |pick: fn((&'static str, &'static str)) -> &'static str| -> String {
            rest.iter()
                .filter(|p| !p.optional)
                .map(|p| format!(", {}", pick(right(p.kind))))
                .collect()
        };
        lua.push_str(&format!(
            "try(\"{}\", {value}{})\n",
            f.name,
            others(|r| r.0)
        ));
        python.push_str(&format!(
            "attempt(\"{}\", {value}{})\n",
            f.name,
            others(|r| r.1)
        ));
        expected.push((f.name, Some(message)));
    }
    let check = |language: &str, lines: Vec<String>| {
        assert_eq!(
            lines.first().map(String::as_str),
            Some(described.as_str()),
            "{language}: {lines:?}"
        );
        assert_eq!(lines.len(), expected.len() + 1, "{language}: {lines:?}");
        for (line, (name, want)) in lines[1..].iter().zip(&expected) {
            let (called, said) = line.split_once('|').unwrap_or(("", line));
            assert_eq!(called, *name, "{language}: {line}");
            match want {
                None => assert_ne!(
                    said, "ok",
                    "{language}: ecs.{name}() with nothing was taken"
                ),
                Some("ok") => assert_eq!(said, "ok", "{language}: ecs.{name}()"),
                Some(message) => {
                    assert!(
                        said.contains(message),
                        "{language}: {line} lacks {message:?}"
                    );
                    assert!(said.contains(&format!("ecs.{name}")), "{language}: {line}");
                }
            }
        }
    };
    check("lua", logs_of_script("main.lua", &lua));
    if cfg!(feature = "python") {
        check("python", logs_of_script("main.py", &python));
    }
}
