//! `ecscope run` end to end: the samples, bad manifests, bad arguments and
//! bad scripts, checked through exit status, stderr, the event stream and
//! the world dump (SCRIPT_API §4).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

mod common;

fn ecscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ecscope"))
        .args(args)
        .output()
        .expect("ecscope runs")
}

fn sample(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample_projects")
        .join(name)
        .display()
        .to_string()
}

/// A project in a temporary folder: `files` are (path, contents).
fn project(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, contents) in files {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, contents).unwrap();
    }
    dir
}

const MANIFEST: &[u8] = b"[project]\nname = \"t\"\n[[script]]\npath = \"scripts/main.lua\"\n";

fn lua_project(source: &str) -> tempfile::TempDir {
    project(&[
        ("ecscope.toml", MANIFEST),
        ("scripts/main.lua", source.as_bytes()),
    ])
}

struct Run {
    output: Output,
    events: Vec<serde_json::Value>,
    dump: Option<serde_json::Value>,
}

impl Run {
    fn code(&self) -> i32 {
        self.output.status.code().unwrap_or(-1)
    }

    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).to_string()
    }

    fn errors(&self) -> Vec<&serde_json::Value> {
        self.events
            .iter()
            .filter(|e| e["kind"] == "script_error")
            .collect()
    }
}

fn run(dir: &Path, frames: u32) -> Run {
    let out_dir = tempfile::tempdir().unwrap();
    let events: PathBuf = out_dir.path().join("events.jsonl");
    let dump: PathBuf = out_dir.path().join("dump.json");
    let output = ecscope(&[
        "run",
        &dir.display().to_string(),
        "--frames",
        &frames.to_string(),
        "--events",
        &events.display().to_string(),
        "--dump-world",
        &dump.display().to_string(),
    ]);
    let events = std::fs::read_to_string(&events)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each event line is JSON"))
        .collect();
    let dump = std::fs::read_to_string(&dump)
        .ok()
        .filter(|s| !s.is_empty())
        .map(|s| serde_json::from_str(&s).expect("the dump is JSON"));
    Run {
        output,
        events,
        dump,
    }
}

#[test]
fn samples_run_cleanly() {
    for name in ["hello_lua", "boids"] {
        let r = run(Path::new(&sample(name)), 120);
        assert_eq!(r.code(), 0, "{name}: {}", r.stderr());
        let dump = r.dump.as_ref().expect("dump written");
        assert_eq!(dump["frame"], 120);
        assert!(!dump["entities"].as_array().unwrap().is_empty());
        assert!(r.errors().is_empty(), "{name}: {:?}", r.errors());
        assert!(r.events.iter().any(|e| e["kind"] == "script_loaded"));
    }
}

#[test]
fn boids_sample_has_two_thousand_moving_boids() {
    let r = run(Path::new(&sample("boids")), 2);
    let dump = r.dump.unwrap();
    let boids: Vec<_> = dump["entities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["components"].get("Boid").is_some())
        .collect();
    assert!(boids.len() >= 2000, "{} boids", boids.len());
    assert!(
        boids
            .iter()
            .all(|b| b["components"]["Velocity"]["x"].is_f64())
    );
}

#[test]
fn the_stress_samples_keep_their_entities_moving_inside_their_bounds() {
    // 100,000 particles: after 300 frames every one is still in its box.
    let r = run(Path::new(&sample("stress")), 300);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    let dump = r.dump.unwrap();
    let particles = dump["entities"].as_array().unwrap();
    assert_eq!(particles.len(), 100_000);
    let inside = |e: &serde_json::Value| {
        let p = &e["components"]["Position"];
        let (x, y) = (p["x"].as_f64().unwrap(), p["y"].as_f64().unwrap());
        (0.0..=1000.0).contains(&x) && (0.0..=600.0).contains(&y)
    };
    assert!(particles.iter().all(inside));

    // 1,000 scripts, each turning its own ring of ten around its centre.
    let r = run(Path::new(&sample("stress_scripts")), 30);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    let loaded = r
        .events
        .iter()
        .filter(|e| e["kind"] == "script_loaded")
        .count();
    assert_eq!(loaded, 1000);
    let dump = r.dump.unwrap();
    let ring = |id: u64| {
        dump["entities"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"] == id)
            .map(|e| e["components"]["Position"].clone())
            .unwrap()
    };
    // Ring 0 is centred on (0, 0), radius 8.
    let p = ring(1);
    let r0 = (p["x"].as_f64().unwrap().powi(2) + p["y"].as_f64().unwrap().powi(2)).sqrt();
    assert!((r0 - 8.0).abs() < 1e-6, "{p}");
}

#[test]
fn help_documents_every_flag() {
    let out = ecscope(&["run", "--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for flag in ["--frames", "--dump-world", "--events", "--realtime"] {
        assert!(text.contains(flag), "run --help lacks {flag}:\n{text}");
    }
    let out = ecscope(&["--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("run"), "{text}");
}

#[test]
fn bad_arguments_exit_2() {
    let hello = sample("hello_lua");
    assert_eq!(
        ecscope(&["run", &hello]).status.code(),
        Some(2),
        "no --frames"
    );
    assert_eq!(
        ecscope(&["run", &hello, "--frames", "x"]).status.code(),
        Some(2)
    );
    assert_eq!(
        ecscope(&["run", &hello, "--frames", "1", "--bogus"])
            .status
            .code(),
        Some(2)
    );
    let out = ecscope(&[
        "run",
        &hello,
        "--frames",
        "1",
        "--dump-world",
        "/nonexistent/dir/x.json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/dir/x.json"));
}

#[test]
fn bad_manifests_exit_2_naming_file_line_and_key() {
    let script = ("scripts/main.lua", b"" as &[u8]);
    type Files<'a> = Vec<(&'a str, &'a [u8])>;
    let cases: Vec<(&str, Files, &str)> = vec![
        ("missing manifest", vec![script], "ecscope.toml"),
        (
            "unknown key",
            vec![
                ("ecscope.toml", b"[project]\nname = \"t\"\nspeed = 3\n[[script]]\npath = \"scripts/main.lua\"\n"),
                script,
            ],
            "ecscope.toml:3: `project.speed`",
        ),
        (
            "wrong type",
            vec![
                ("ecscope.toml", b"[project]\nname = \"t\"\n[world]\nseed = \"many\"\n[[script]]\npath = \"scripts/main.lua\"\n"),
                script,
            ],
            "ecscope.toml:4: `world.seed`",
        ),
        (
            "missing script file",
            vec![("ecscope.toml", b"[project]\nname = \"t\"\n[[script]]\npath = \"scripts/gone.lua\"\n")],
            "ecscope.toml:4: `script[1].path`",
        ),
        (
            "invalid TOML",
            vec![("ecscope.toml", b"[project\nname = \"t\"\n"), script],
            "ecscope.toml:1",
        ),
        (
            "no scripts",
            vec![("ecscope.toml", b"[project]\nname = \"t\"\n"), script],
            "`script`",
        ),
        (
            "not a script",
            vec![
                ("ecscope.toml", b"[project]\nname = \"t\"\n[[script]]\npath = \"scripts/x.txt\"\n"),
                ("scripts/x.txt", b""),
            ],
            "ecscope.toml:4",
        ),
    ];
    for (what, files, expected) in cases {
        let dir = project(&files);
        let r = run(dir.path(), 5);
        assert_eq!(r.code(), 2, "{what}: {}", r.stderr());
        assert!(
            r.stderr().contains(expected),
            "{what}: stderr lacks {expected:?}:\n{}",
            r.stderr()
        );
        assert!(r.events.is_empty(), "{what}: nothing may run");
    }
}

/// Runs a one-script project and returns its first script error.
fn first_error(source: &str, frames: u32) -> (Run, serde_json::Value) {
    let dir = lua_project(source);
    let r = run(dir.path(), frames);
    assert_eq!(r.code(), 1, "{}", r.stderr());
    let error = r
        .errors()
        .first()
        .cloned()
        .cloned()
        .expect("a script_error event");
    (r, error)
}

#[test]
fn syntax_errors_name_script_and_line() {
    let (r, e) = first_error("local a = 1\nlocal b = = 2\n", 1);
    assert_eq!(e["script"], "scripts/main.lua");
    assert_eq!(e["line"], 2);
    assert_eq!(e["frame"], 0);
    assert!(r.stderr().contains("scripts/main.lua:2:"), "{}", r.stderr());
}

#[test]
fn runtime_errors_disable_only_the_failing_system() {
    let source = "ecs.component('C', { n = 0 })\nlocal id = ecs.spawn({ C = {} })\n\
        ecs.system('bad', function() error('boom') end)\n\
        ecs.system('good', { 'C' }, function(id, c) c.n = c.n + 1 end)\n";
    let (r, e) = first_error(source, 10);
    assert_eq!(e["line"], 3);
    assert!(e["message"].as_str().unwrap().contains("boom"));
    assert!(e["traceback"].as_str().unwrap().contains("stack traceback"));
    assert_eq!(r.errors().len(), 1, "reported once, then disabled");
    let dump = r.dump.unwrap();
    assert_eq!(
        dump["entities"][0]["components"]["C"]["n"], 10,
        "the other system ran every frame"
    );
}

#[test]
fn bad_api_calls_are_script_errors_with_lines() {
    let cases = [
        ("ecs.spawn(5)", "table of component"),
        ("ecs.spawn({ Nope = {} })", "unknown component \"Nope\""),
        (
            "ecs.spawn({ Position = { x = 'far' } })",
            "Position.x must be a number, got string",
        ),
        ("ecs.spawn({ Position = { z = 1 } })", "no field \"z\""),
        (
            "ecs.get('one', 'Position')",
            "entity id must be a non-negative integer",
        ),
        (
            "local id = ecs.spawn({})\necs.despawn(id)\necs.set(id, 'Position', {})",
            "entity 1 was despawned",
        ),
        ("ecs.set(99, 'Position', {})", "there is no entity 99"),
        (
            "ecs.component('H', { hp = 1 })\necs.component('H', { hp = 'x' })",
            "already declared",
        ),
        ("ecs.query(42)", "table of component names"),
        ("ecs.system('s', 3)", "expected a function"),
        ("ecs.emit('e', function() end)", "cannot pass a function"),
        (
            "ecs.spawn({ Shape = { kind = 'hexagon' } })",
            "\"circle\", \"rect\" or \"triangle\"",
        ),
    ];
    for (source, expected) in cases {
        let (_, e) = first_error(source, 1);
        let lines = source.lines().count() as u64;
        assert_eq!(e["line"], lines, "{source}: {e}");
        assert!(
            e["message"].as_str().unwrap().contains(expected),
            "{source}: message {:?} lacks {expected:?}",
            e["message"]
        );
    }
}

#[test]
fn despawned_ids_read_as_absent() {
    let dir = lua_project(
        "local id = ecs.spawn({ Name = 'x' })\necs.despawn(id)\n\
         print(ecs.exists(id), ecs.get(id, 'Name'), ecs.has(id, 'Name'))\necs.despawn(id)\n",
    );
    let r = run(dir.path(), 1);
    assert_eq!(r.code(), 0, "{}", r.stderr());
    let log = r.events.iter().find(|e| e["kind"] == "log").unwrap();
    assert_eq!(log["message"], "false\tnil\tfalse");
}

#[test]
fn non_utf8_and_binary_scripts_are_reported() {
    for (bytes, expected) in [
        (
            &b"print('ok')\nlocal s = '\xff\xfe'\n"[..],
            "not valid UTF-8",
        ),
        (&b"\x1bLJ\x02\x00\x00binary"[..], "binary"),
    ] {
        let dir = project(&[("ecscope.toml", MANIFEST), ("scripts/main.lua", bytes)]);
        let r = run(dir.path(), 3);
        assert_eq!(r.code(), 1, "{}", r.stderr());
        let e = r.errors()[0];
        assert!(e["message"].as_str().unwrap().contains(expected), "{e}");
        assert_eq!(r.dump.unwrap()["frame"], 3, "the run completes its frames");
    }
}

#[test]
fn endless_loops_are_stopped_and_the_run_completes() {
    for source in [
        "while true do end",
        "ecs.system('spin', function() local i = 0 while true do i = i + 1 end end)",
        "ecs.system('spin', function() pcall(function() while true do end end) while true do end end)",
    ] {
        let started = Instant::now();
        let (r, e) = first_error(source, 3);
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .contains("instruction limit exceeded"),
            "{source}: {e}"
        );
        assert_eq!(r.dump.unwrap()["frame"], 3);
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{source}: stopped"
        );
    }
}

#[test]
fn unbounded_allocation_hits_the_memory_limit() {
    let dir = project(&[
        (
            "ecscope.toml",
            b"[project]\nname = \"t\"\n[[script]]\npath = \"scripts/main.lua\"\n[limits]\nmemory_mb = 32\n",
        ),
        (
            "scripts/main.lua",
            b"local t = {}\necs.system('grow', function()\n  for i = 1, 1e9 do t[#t + 1] = string.rep('x', 64) .. i end\nend)\n",
        ),
    ]);
    let r = run(dir.path(), 2);
    assert_eq!(r.code(), 1, "{}", r.stderr());
    let e = r.errors()[0];
    assert!(e["message"].as_str().unwrap().contains("memory"), "{e}");
    assert_eq!(e["line"], 2, "placed at the system's definition: {e}");
    assert_eq!(r.dump.unwrap()["frame"], 2);
}

#[test]
fn events_stream_to_stdout() {
    let out = ecscope(&[
        "run",
        &sample("hello_lua"),
        "--frames",
        "1",
        "--events",
        "-",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let first: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert!(
        first["frame"].is_u64() && first["kind"].is_string(),
        "{first}"
    );
}

#[test]
fn stale_component_proxies_are_errors_not_memory_corruption() {
    let source = "ecs.spawn({ Position = {} })\nlocal kept\n\
        ecs.system('keep', { 'Position' }, function(id, pos) kept = pos end)\n\
        ecs.system('use', function() if ecs.frame() == 1 then return kept.x end end)\n";
    let (_, e) = first_error(source, 3);
    assert_eq!(e["line"], 4);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("used after the system"),
        "{e}"
    );
}

#[test]
fn require_loads_project_modules_and_reports_their_lines() {
    let dir = project(&[
        ("ecscope.toml", MANIFEST),
        ("scripts/main.lua", b"local util = require('util')\nprint(util.twice(4))\nutil.fail()\n"),
        ("scripts/util.lua", b"local M = {}\nfunction M.twice(x) return 2 * x end\nfunction M.fail()\n  error('in module')\nend\nreturn M\n"),
    ]);
    let r = run(dir.path(), 1);
    assert_eq!(r.code(), 1);
    assert!(
        r.events
            .iter()
            .any(|e| e["kind"] == "log" && e["message"] == "8")
    );
    let e = r.errors()[0];
    assert_eq!(e["script"], "scripts/main.lua");
    assert_eq!(e["file"], "scripts/util.lua");
    assert_eq!(e["line"], 4);
}

#[cfg(feature = "python")]
mod python {
    use super::*;

    const PY_MANIFEST: &[u8] = b"[project]\nname = \"t\"\n[[script]]\npath = \"scripts/main.py\"\n";

    fn py_project(source: &str) -> tempfile::TempDir {
        project(&[
            ("ecscope.toml", PY_MANIFEST),
            ("scripts/main.py", source.as_bytes()),
        ])
    }

    fn first_py_error(source: &str, frames: u32) -> (Run, serde_json::Value) {
        let dir = py_project(source);
        let r = run(dir.path(), frames);
        assert_eq!(r.code(), 1, "{}", r.stderr());
        let error = r
            .errors()
            .first()
            .cloned()
            .cloned()
            .expect("a script_error event");
        (r, error)
    }

    #[test]
    fn syntax_errors_name_script_and_line() {
        let (r, e) = first_py_error("import ecs\nx = (\n", 1);
        assert_eq!(e["script"], "scripts/main.py");
        assert_eq!(e["line"], 2);
        assert!(
            e["message"].as_str().unwrap().starts_with("SyntaxError"),
            "{e}"
        );
        assert!(r.stderr().contains("scripts/main.py:2:"), "{}", r.stderr());
    }

    #[test]
    fn exceptions_at_import_have_a_traceback() {
        let (_, e) = first_py_error("import ecs\n\ndef f():\n    return 1 / 0\n\nf()\n", 1);
        assert_eq!(e["line"], 4);
        assert_eq!(e["context"], "load");
        assert!(e["message"].as_str().unwrap().contains("ZeroDivisionError"));
        let tb = e["traceback"].as_str().unwrap();
        assert!(
            tb.contains("Traceback") && tb.contains("scripts/main.py"),
            "{tb}"
        );
    }

    #[test]
    fn a_failing_system_and_handler_are_disabled_and_the_rest_goes_on() {
        let source = "import ecs\necs.component('C', {'n': 0})\necs.spawn({'C': {}})\n\
            def bad(dt):\n    raise ValueError('boom')\necs.system('bad', bad)\n\
            @ecs.system('good', ['C'])\ndef good(id, c, dt):\n    c.n += 1\n    ecs.emit('e', c.n)\n\
            @ecs.on('e')\ndef handler(n):\n    raise KeyError(n)\n";
        let (r, e) = first_py_error(source, 10);
        assert_eq!(e["line"], 5);
        assert_eq!(e["context"], "system 'bad'");
        let errors = r.errors();
        assert_eq!(errors.len(), 2, "each reported once: {errors:?}");
        assert_eq!(errors[1]["line"], 13);
        assert_eq!(errors[1]["context"], "handler 'e'");
        assert_eq!(r.dump.unwrap()["entities"][0]["components"]["C"]["n"], 10);
    }

    #[test]
    fn bad_api_calls_are_script_errors_with_lines() {
        let cases = [
            ("ecs.spawn(5)", "TypeError: ecs.spawn: expected a dict"),
            ("ecs.spawn({'Nope': {}})", "unknown component \"Nope\""),
            (
                "ecs.spawn({'Position': {'x': 'far'}})",
                "Position.x must be a number, got string",
            ),
            ("ecs.spawn({'Position': {'z': 1}})", "no field \"z\""),
            (
                "ecs.get('one', 'Position')",
                "entity id must be a non-negative integer, got str \"one\"",
            ),
            (
                "i = ecs.spawn({})\necs.despawn(i)\necs.set(i, 'Position', {})",
                "entity 1 was despawned",
            ),
            ("ecs.query(42)", "list of component names"),
            ("ecs.emit('e', object())", "cannot pass a object value"),
            (
                "ecs.count(['Position'], {'withot': []})",
                "unknown option \"withot\"",
            ),
        ];
        for (body, expected) in cases {
            let source = format!("import ecs\n{body}\n");
            let (_, e) = first_py_error(&source, 1);
            assert_eq!(e["line"], source.lines().count() as u64, "{body}: {e}");
            assert!(
                e["message"].as_str().unwrap().contains(expected),
                "{body}: message {:?} lacks {expected:?}",
                e["message"]
            );
        }
    }

    #[test]
    fn sys_exit_is_a_script_error_not_an_exit() {
        let dir = py_project("import ecs, sys\necs.spawn({'Name': 'x'})\nsys.exit(3)\n");
        let r = run(dir.path(), 5);
        assert_eq!(r.code(), 1, "{}", r.stderr());
        let e = r.errors()[0];
        assert!(
            e["message"].as_str().unwrap().contains("sys.exit(3)"),
            "{e}"
        );
        assert_eq!(e["line"], 3);
        assert_eq!(r.dump.unwrap()["frame"], 5, "the host went on");
    }

    #[test]
    fn non_utf8_python_is_reported() {
        let dir = project(&[
            ("ecscope.toml", PY_MANIFEST),
            ("scripts/main.py", b"x = '\xff'\n"),
        ]);
        let r = run(dir.path(), 2);
        assert_eq!(r.code(), 1);
        assert!(
            r.errors()[0]["message"]
                .as_str()
                .unwrap()
                .contains("not valid UTF-8")
        );
    }

    #[test]
    fn endless_loops_are_stopped_and_the_run_completes() {
        for source in [
            "while True: pass\n",
            "import ecs\ndef spin(dt):\n    while True:\n        pass\necs.system('spin', spin)\n",
            "import ecs\ndef spin(dt):\n    while True:\n        try:\n            while True: pass\n        except:\n            pass\necs.system('spin', spin)\n",
        ] {
            let started = Instant::now();
            let (r, e) = first_py_error(source, 3);
            assert!(
                e["message"]
                    .as_str()
                    .unwrap()
                    .contains("instruction limit exceeded"),
                "{source}: {e}"
            );
            assert_eq!(r.dump.unwrap()["frame"], 3);
            assert!(started.elapsed() < Duration::from_secs(30), "{source}");
        }
    }

    #[test]
    fn imports_find_project_modules_first_and_the_standard_library() {
        let dir = project(&[
            ("ecscope.toml", PY_MANIFEST),
            ("scripts/main.py", b"import json, math\nimport helper\nfrom helper import twice\nprint(json.dumps([twice(2), math.floor(2.5)]))\nhelper.fail()\n"),
            ("scripts/helper.py", b"import ecs\n\ndef twice(x):\n    return 2 * x\n\ndef fail():\n    ecs.spawn(1)\n"),
        ]);
        let r = run(dir.path(), 1);
        assert_eq!(r.code(), 1, "{}", r.stderr());
        assert!(
            r.events
                .iter()
                .any(|e| e["kind"] == "log" && e["message"] == "[4, 2]"),
            "{:?}",
            r.events
        );
        let e = r.errors()[0];
        assert_eq!(e["script"], "scripts/main.py");
        assert_eq!(e["file"], "scripts/helper.py");
        assert_eq!(e["line"], 7);
    }

    #[test]
    fn print_and_log_are_tagged_with_script_and_line() {
        let dir = py_project("import ecs\nprint('a', 1, sep='-')\necs.log('b', 2.5)\n");
        let r = run(dir.path(), 1);
        assert_eq!(r.code(), 0, "{}", r.stderr());
        let logs: Vec<_> = r.events.iter().filter(|e| e["kind"] == "log").collect();
        assert_eq!(logs[0]["message"], "a-1");
        assert_eq!(logs[0]["line"], 2);
        assert_eq!(logs[1]["message"], "b 2.5");
        assert_eq!(logs[1]["line"], 3);
    }

    #[test]
    fn cross_language_sample_runs_cleanly() {
        let r = run(Path::new(&sample("cross_language")), 600);
        assert_eq!(r.code(), 0, "{}", r.stderr());
        let logs: Vec<String> = r
            .events
            .iter()
            .filter(|e| e["kind"] == "log")
            .map(|e| {
                format!(
                    "{}|{}",
                    e["script"].as_str().unwrap(),
                    e["message"].as_str().unwrap()
                )
            })
            .collect();
        assert!(
            logs.iter()
                .any(|l| l.starts_with("scripts/flight.lua|Lua saw wave 1")),
            "{logs:?}"
        );
        assert!(
            logs.iter()
                .any(|l| l.contains("scripts/director.py") && l.contains("escaped")),
            "{logs:?}"
        );
        let dump = r.dump.unwrap();
        let drone = dump["entities"]
            .as_array()
            .unwrap()
            .iter()
            .find_map(|e| e["components"].get("Drone"))
            .expect("drones in the world");
        assert!(
            drone["wave"].is_i64(),
            "an integer stays an integer: {drone}"
        );
        assert!(drone["speed"].is_f64());
    }
}

#[test]
fn bad_coroutine_use_is_reported_at_its_line() {
    let cases = [
        (
            "ecs.start('c', function()\n  ecs.wait_frames(-1)\nend)",
            2,
            "whole number of frames >= 0, got -1",
        ),
        (
            "ecs.start('c', function()\n  ecs.wait_seconds('x')\nend)",
            2,
            "number of seconds >= 0",
        ),
        (
            "ecs.wait_frames(1)",
            1,
            "only be used inside a coroutine started with ecs.start",
        ),
        (
            "ecs.start('c', function()\n  coroutine.yield(5)\nend)",
            2,
            "may yield only what ecs.wait_frames, ecs.wait_seconds or ecs.wait_event return, or nothing (a bare yield); it yielded a value of type number",
        ),
        ("ecs.stop(99)", 1, "there is no coroutine 99"),
        ("ecs.start('c', 42)", 1, "expected a function, got number"),
    ];
    for (source, line, expected) in cases {
        let (_, e) = first_error(source, 2);
        assert_eq!(e["line"], line, "{source}: {e}");
        assert!(
            e["message"].as_str().unwrap().contains(expected),
            "{source}: {e}"
        );
    }
}

#[test]
fn a_failing_coroutine_ends_alone() {
    let source = "ecs.component('C', { n = 0 })\nlocal id = ecs.spawn({ C = {} })\n\
        local bad = ecs.start('bad', function()\n  ecs.wait_frames(2)\n  error('oops')\nend)\n\
        ecs.start('good', function()\n  while true do\n    ecs.get(id, 'C')\n    local c = ecs.get(id, 'C')\n    ecs.set(id, 'C', { n = c.n + 1 })\n    coroutine.yield()\n  end\nend)\n\
        ecs.system('check', function()\n  if ecs.frame() == 4 then print('stop bad again:', ecs.stop(bad)) end\nend)\n";
    let dir = lua_project(source);
    let r = run(dir.path(), 6);
    assert_eq!(r.code(), 1);
    let e = r.errors()[0];
    assert_eq!(e["line"], 5);
    assert_eq!(e["context"], "coroutine 'bad'");
    assert_eq!(e["frame"], 2);
    assert!(
        r.events.iter().any(|e| e["kind"] == "coroutine_finished"
            && e["name"] == "bad"
            && e["how"] == "failed")
    );
    assert!(
        r.events
            .iter()
            .any(|e| e["kind"] == "log" && e["message"] == "stop bad again:\tfalse")
    );
    assert_eq!(
        r.dump.unwrap()["entities"][0]["components"]["C"]["n"],
        6,
        "the other coroutine ran every frame"
    );
}

#[cfg(feature = "python")]
#[test]
fn bad_python_coroutine_use_is_reported_at_its_line() {
    let cases = [
        (
            "import ecs\ndef c():\n    yield ecs.wait_frames(-1)\necs.start('c', c)",
            3,
            "whole number of frames >= 0",
        ),
        (
            "import ecs\ndef c():\n    yield ecs.wait_seconds('x')\necs.start('c', c)",
            3,
            "number of seconds >= 0",
        ),
        (
            "import ecs\necs.wait_frames(1)",
            2,
            "only be used inside a coroutine",
        ),
        (
            "import ecs\ndef c():\n    yield 5\necs.start('c', c)",
            3,
            "may yield only what ecs.wait_frames, ecs.wait_seconds or ecs.wait_event return, or nothing (a bare yield); it yielded a value of type int",
        ),
        (
            "import ecs\ndef f():\n    return 1\necs.start('c', f)",
            4,
            "expected a generator function",
        ),
    ];
    for (source, line, expected) in cases {
        let dir = project(&[
            (
                "ecscope.toml",
                b"[project]\nname = \"t\"\n[[script]]\npath = \"scripts/main.py\"\n",
            ),
            ("scripts/main.py", source.as_bytes()),
        ]);
        let r = run(dir.path(), 2);
        assert_eq!(r.code(), 1, "{source}: {}", r.stderr());
        let e = r.errors()[0];
        assert_eq!(e["line"], line, "{source}: {e}");
        assert!(
            e["message"].as_str().unwrap().contains(expected),
            "{source}: {e}"
        );
    }
}

#[test]
fn bench_quick_runs_and_writes_json() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("bench.json");
    let out = ecscope(&["bench", "--quick", "--json", &json.display().to_string()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(report["machine"].is_string());
    let names: Vec<&str> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"coroutine/lua/10k"), "{names:?}");
    // The names the speed contract promises, each with its native baseline.
    for (name, baseline) in [
        ("move/native_query/100k", None),
        ("move/native_flat/100k", Some("move/native_query/100k")),
        ("move/lua_entity/100k", Some("move/native_query/100k")),
        ("move/lua_batch/100k", Some("move/native_query/100k")),
        ("move/py_entity/100k", Some("move/native_query/100k")),
        ("profiler/on", Some("profiler/off")),
        ("memory_tracking/on", Some("profiler/off")),
        ("reload/p50", None),
        ("reload/p99", None),
    ] {
        let r = report["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing: {names:?}"));
        if let Some(baseline) = baseline {
            assert_eq!(r["baseline"], baseline, "{r}");
            assert!(r["ratio"].as_f64().unwrap() > 0.0, "{r}");
        }
    }
    if ecscope::bench::numpy_available() {
        assert!(names.contains(&"move/py_numpy/100k"), "{names:?}");
    }
    for name in [
        "reload/lua/write_to_active/p50",
        "reload/lua/write_to_active/p99",
        "reload/lua/watcher/p50",
        "reload/lua/compile_load/p50",
        "reload/lua/swap/p99",
        "reload/python/write_to_active/p50",
    ] {
        assert!(names.contains(&name), "{name} missing: {names:?}");
    }
    for r in report["results"].as_array().unwrap() {
        assert!(r["value"].as_f64().unwrap() > 0.0, "{r}");
        assert!(r["unit"].is_string());
    }
    assert!(String::from_utf8_lossy(&out.stdout).contains("coroutine/lua/10k"));
}

#[test]
fn watch_reloads_a_saved_script_while_it_runs() {
    let dir = lua_project(
        "ecs.system('s', function() if ecs.frame() % 30 == 0 then print('old') end end)\n",
    );
    let events = dir.path().join("events.jsonl");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ecscope"))
        .args([
            "run",
            &dir.path().display().to_string(),
            "--frames",
            "180",
            "--realtime",
            "--watch",
            "--events",
            &events.display().to_string(),
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    let saved = Instant::now();
    std::fs::write(
        dir.path().join("scripts/main.lua"),
        "ecs.system('s', function() if ecs.frame() % 30 == 0 then print('new') end end)\n",
    )
    .unwrap();
    // How fast a save is picked up is measured by `ecscope bench`
    // (`reload/*`), not asserted here: a busy machine would fail it.
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    eprintln!("the run ended {:?} after the save", saved.elapsed());
    let text = std::fs::read_to_string(&events).unwrap();
    let reloaded: serde_json::Value = serde_json::from_str(
        text.lines()
            .find(|l| l.contains("\"kind\":\"reloaded\""))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(reloaded["script"], "scripts/main.lua");
    assert_eq!(reloaded["version"], 2);
    assert!(reloaded["latency_ms"].as_f64().unwrap() >= 0.0);
    assert!(text.contains("\"message\":\"new\""), "the new code ran");
}

fn events_of(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn the_leak_detector_names_the_leaking_sample_and_is_quiet_on_the_others() {
    let out = tempfile::tempdir().unwrap();
    for name in [
        "memory_leak",
        "hello_lua",
        "boids",
        "cross_language",
        "ai_coroutines",
        "hot_reload",
        "profiling_hotspots",
    ] {
        let events = out.path().join(format!("{name}.jsonl"));
        let frames = if name == "profiling_hotspots" {
            "800"
        } else {
            "1200"
        };
        let output = ecscope(&[
            "run",
            &sample(name),
            "--frames",
            frames,
            "--events",
            &events.display().to_string(),
        ]);
        assert_eq!(output.status.code(), Some(0), "{name}");
        let leaks: Vec<serde_json::Value> = events_of(&events)
            .into_iter()
            .filter(|e| e["kind"] == "leak_suspected")
            .collect();
        if name == "memory_leak" {
            assert_eq!(leaks.len(), 1, "{leaks:?}");
            assert_eq!(leaks[0]["script"], "scripts/trails.lua");
            assert!(leaks[0]["growth_bytes"].as_u64().unwrap() > 100_000);
            assert!(
                leaks[0]["frame"].as_u64().unwrap() < 1000,
                "found within seconds"
            );
        } else {
            assert!(leaks.is_empty(), "{name}: {leaks:?}");
        }
    }
}

#[test]
fn profile_and_statistics_are_written_by_a_headless_run() {
    let out = tempfile::tempdir().unwrap();
    let profile = out.path().join("run.puffin");
    let events = out.path().join("events.jsonl");
    let output = ecscope(&[
        "run",
        &sample("hello_lua"),
        "--frames",
        "120",
        "--profile",
        &profile.display().to_string(),
        "--events",
        &events.display().to_string(),
    ]);
    assert_eq!(output.status.code(), Some(0));
    let bytes = std::fs::read(&profile).unwrap();
    let view = puffin::FrameView::read(&mut bytes.as_slice()).unwrap();
    assert_eq!(view.recent_frames().count(), 120);
    let names = ecscope::profiling::profiler::scope_names(&view);
    assert!(names.contains("hello.lua:move"), "{names:?}");

    let all = events_of(&events);
    let last = all.last().unwrap();
    assert_eq!(last["kind"], "profile_stats");
    assert_eq!(last["frames"], 120);
    let calls = last["calls"].as_array().unwrap();
    let movement = calls.iter().find(|c| c["name"] == "move").unwrap();
    assert_eq!(movement["calls"], 120);
    assert_eq!(movement["kind"], "system");
    for key in ["total_ms", "mean_ms", "p95_ms", "max_ms", "per_call_us"] {
        assert!(movement[key].as_f64().unwrap() >= 0.0, "{key}");
    }
    assert_eq!(last["scripts"][0]["script"], "scripts/hello.lua");
}

#[test]
fn serve_profile_reports_a_busy_address_and_survives_a_viewer_leaving() {
    // Busy: exit 2 with the address in the message, nothing run.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let output = ecscope(&[
        "run",
        &sample("hello_lua"),
        "--frames",
        "10",
        "--serve-profile",
        &addr,
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&addr) && stderr.contains("cannot listen"),
        "{stderr}"
    );
    drop(taken);

    // A viewer connects, receives frames with our scopes, and leaves.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = free.local_addr().unwrap().to_string();
    drop(free);
    let mut child = Command::new(env!("CARGO_BIN_EXE_ecscope"))
        .args([
            "run",
            &sample("hello_lua"),
            "--frames",
            "240",
            "--realtime",
            "--serve-profile",
            &addr,
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let client = puffin_http::Client::new(addr.clone());
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = false;
    while Instant::now() < deadline && !seen {
        std::thread::sleep(Duration::from_millis(50));
        seen = ecscope::profiling::profiler::scope_names(&client.frame_view())
            .contains("hello.lua:move");
    }
    assert!(seen, "the viewer received frames with the script's scopes");
    drop(client);
    let status = child.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(0),
        "the run finished after the viewer left"
    );
}

// Outputs fail loudly and are never lost silently: a failing write names
// its path and ends the run with a non-zero status, a closed pipe ends it
// cleanly (141), a bad output path is found before anything runs (2), and
// the dump and the profile are whole or absent.

/// Waits for `child` at most `limit` (then kills it and fails), reading its
/// stderr if it was piped.
fn wait_bounded(child: std::process::Child, limit: Duration) -> (std::process::ExitStatus, String) {
    let (status, _, stderr) = common::wait_child(child, limit);
    (status, stderr)
}

fn ecscope_command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ecscope"));
    command
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    command
}

fn dev_full() -> std::fs::File {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full")
}

/// A project that logs a line every frame.
fn chatty_project() -> tempfile::TempDir {
    lua_project("print('loaded')\necs.system('s', function() print('frame ' .. ecs.frame()) end)\n")
}

const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn failing_output_writes_exit_non_zero_naming_the_path() {
    let hello = sample("hello_lua");
    for flag in ["--events", "--dump-world", "--profile"] {
        let child = ecscope_command(&["run", &hello, "--frames", "5", flag, "/dev/full"])
            .spawn()
            .unwrap();
        let (status, stderr) = wait_bounded(child, LIMIT);
        assert_eq!(status.code(), Some(1), "{flag}: {stderr}");
        assert!(
            stderr.contains("/dev/full") && stderr.contains("cannot write"),
            "{flag}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{flag}: {stderr}");
    }

    // The events fail at load: the dump's temporary file is removed, and
    // no dump appears.
    let out = tempfile::tempdir().unwrap();
    let dump = out.path().join("dump.json");
    let child = ecscope_command(&[
        "run",
        &hello,
        "--frames",
        "5",
        "--events",
        "/dev/full",
        "--dump-world",
        &dump.display().to_string(),
    ])
    .spawn()
    .unwrap();
    let (status, stderr) = wait_bounded(child, LIMIT);
    assert_eq!(status.code(), Some(1), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(out.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_closed_stdout_pipe_ends_the_run_without_a_panic() {
    use std::io::BufRead;
    let dir = chatty_project();
    let project = dir.path().display().to_string();
    // Log lines on stdout (`| head -1`), then the events (`--events - | head -1`).
    for extra in [&[][..], &["--events", "-"][..]] {
        let mut args = vec!["run", project.as_str(), "--frames", "100000000"];
        args.extend_from_slice(extra);
        let mut child = ecscope_command(&args)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert!(!line.is_empty(), "{extra:?}: a first line");
        drop(reader);
        let (status, stderr) = wait_bounded(child, LIMIT);
        assert!(!stderr.contains("panicked"), "{extra:?}: {stderr}");
        assert_eq!(status.code(), Some(141), "{extra:?}: {stderr}");
        assert!(stderr.contains("broken pipe"), "{extra:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{extra:?}: one line: {stderr}");
    }
}

#[test]
fn stdout_and_stderr_on_a_full_disk_do_not_panic() {
    let dir = chatty_project();
    let project = dir.path().display().to_string();
    for extra in [&[][..], &["--events", "-"][..]] {
        let mut args = vec!["run", project.as_str(), "--frames", "5"];
        args.extend_from_slice(extra);
        let child = ecscope_command(&args).stdout(dev_full()).spawn().unwrap();
        let (status, stderr) = wait_bounded(child, LIMIT);
        assert!(!stderr.contains("panicked"), "{extra:?}: {stderr}");
        assert_eq!(status.code(), Some(1), "{extra:?}: {stderr}");
        assert!(
            stderr.contains("standard output") && stderr.contains("cannot write"),
            "{extra:?}: {stderr}"
        );
    }
    // Standard error full too, and a script error to report on it: the
    // status still says what happened (no 101 from a panic).
    let failing = lua_project("ecs.system('s', function() error('boom') end)\n");
    for (stdout, expected) in [(false, 1), (true, 1)] {
        let mut command = ecscope_command(&[
            "run",
            &failing.path().display().to_string(),
            "--frames",
            "3",
        ]);
        command.stderr(dev_full());
        if stdout {
            command.stdout(dev_full());
        }
        let (status, _) = wait_bounded(command.spawn().unwrap(), LIMIT);
        assert_eq!(status.code(), Some(expected), "stdout full: {stdout}");
    }
    // `bench` writes its table to a full standard output without a panic.
    let child = ecscope_command(&["bench", "--quick", "--filter", "no-such-benchmark"])
        .stdout(dev_full())
        .spawn()
        .unwrap();
    let (status, stderr) = wait_bounded(child, LIMIT);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(status.code(), Some(1), "{stderr}");
}

#[test]
fn unwritable_output_paths_exit_2_before_anything_runs() {
    let out = tempfile::tempdir().unwrap();
    let events = out.path().join("events.jsonl");
    let missing = out.path().join("no/such/dir/out.json");
    let missing = missing.display().to_string();
    let folder = out.path().display().to_string();
    let hello = sample("hello_lua");
    for (flag, path) in [
        ("--dump-world", &missing),
        ("--profile", &missing),
        ("--dump-world", &folder),
    ] {
        // An events file from before: nothing may touch it.
        std::fs::write(&events, "before\n").unwrap();
        let started = Instant::now();
        let child = ecscope_command(&[
            "run",
            &hello,
            "--frames",
            "100000000",
            "--events",
            &events.display().to_string(),
            flag,
            path,
        ])
        .spawn()
        .unwrap();
        let (status, stderr) = wait_bounded(child, LIMIT);
        assert_eq!(status.code(), Some(2), "{flag} {path}: {stderr}");
        assert!(stderr.contains(path.as_str()), "{flag} {path}: {stderr}");
        assert_eq!(
            std::fs::read_to_string(&events).unwrap(),
            "before\n",
            "{flag} {path}: nothing ran"
        );
        assert!(started.elapsed() < Duration::from_secs(30), "no frames ran");
    }
    // Only the events file is in the folder: no temporary file left.
    let names: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["events.jsonl"]);
}

#[test]
fn a_killed_run_leaves_no_partial_dump_or_profile() {
    let out = tempfile::tempdir().unwrap();
    let dump = out.path().join("world.json");
    let profile = out.path().join("run.puffin");
    let events = out.path().join("events.jsonl");
    let mut child = ecscope_command(&[
        "run",
        &sample("hello_lua"),
        "--frames",
        "100000000",
        "--dump-world",
        &dump.display().to_string(),
        "--profile",
        &profile.display().to_string(),
        "--events",
        &events.display().to_string(),
    ])
    .stderr(std::process::Stdio::null())
    .spawn()
    .unwrap();
    // Wait until the frames run (the load's events are written), then kill.
    let deadline = Instant::now() + LIMIT;
    while !std::fs::read_to_string(&events)
        .unwrap_or_default()
        .contains("script_loaded")
    {
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the run did not start");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        child.try_wait().unwrap().is_none(),
        "still running when killed"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!dump.exists(), "a partial dump at {}", dump.display());
    assert!(
        !profile.exists(),
        "a partial profile at {}",
        profile.display()
    );
    // The events written so far are whole lines.
    for line in std::fs::read_to_string(&events).unwrap().lines() {
        serde_json::from_str::<serde_json::Value>(line).expect("whole event lines");
    }

    // A run that finishes replaces an old dump whole and leaves no
    // temporary file beside it (a killed process cannot remove its own).
    let temporary = || -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(out.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        names.sort();
        names
    };
    let left_by_the_kill = temporary();
    std::fs::write(&dump, "old").unwrap();
    let child = ecscope_command(&[
        "run",
        &sample("hello_lua"),
        "--frames",
        "3",
        "--dump-world",
        &dump.display().to_string(),
    ])
    .spawn()
    .unwrap();
    let (status, stderr) = wait_bounded(child, LIMIT);
    assert_eq!(status.code(), Some(0), "{stderr}");
    let world: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&dump).unwrap()).unwrap();
    assert_eq!(world["frame"], 3);
    assert_eq!(temporary(), left_by_the_kill);
}

/// The window runs in a child process that its supervisor restarts after a
/// crash; without a display the child cannot open a window, and the
/// supervisor ends with the child's status and its one message.
#[cfg(feature = "gui")]
#[test]
fn the_window_supervisor_passes_on_how_the_window_ended() {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ecscope"));
    command
        .arg(sample("hello_lua"))
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let (status, stderr) = wait_bounded(command.spawn().unwrap(), Duration::from_secs(60));
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert_eq!(
        stderr.matches("cannot open the window").count(),
        1,
        "{stderr}"
    );
    assert!(!stderr.contains("restarting"), "{stderr}");
}
