//! Contract tests: small projects under `tests/contract/<case>/<language>/`
//! run for the number of frames in the case's hand-worked
//! `expected_dump.json`, and their dump, log and errors must match the
//! expected files exactly. Every language variant of a case shares the same
//! expected files, so the languages cannot drift apart.

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
