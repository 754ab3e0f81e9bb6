//! The Debug Adapter Protocol server (SCRIPT_API §6): driven by VS Code's
//! own test client (`tests/dap/debug_client.js`), and request by request
//! over `ecscope dap`'s standard input and output, and over TCP with
//! `ecscope run --dap`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::dap::{BIN, Client, PATIENCE, framed};
use serde_json::{Value, json};

fn script(dir: &Path, name: &str) -> String {
    dir.join("scripts").join(name).display().to_string()
}

/// A project whose Lua and Python systems raise.
fn failing_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("scripts")).unwrap();
    std::fs::write(
        dir.path().join("ecscope.toml"),
        "[project]\nname = \"errors\"\n[[script]]\npath = \"scripts/fails.lua\"\n[[script]]\npath = \"scripts/fails.py\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("scripts/fails.lua"),
        "ecs.system(\"fails\", function(dt)\n  if ecs.frame() == 3 then\n    error(\"lua says no\")\n  end\nend)\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("scripts/fails.py"),
        "import ecs\n\n\n@ecs.system(\"fails_too\")\ndef fails_too(dt):\n    if ecs.frame() == 5: raise ValueError(\"python says no\")\n",
    )
    .unwrap();
    dir
}

#[test]
fn vscodes_debug_client_drives_lua_and_python_systems_and_coroutines() {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dap");
    assert!(
        tests
            .join("node_modules/@vscode/debugadapter-testsupport")
            .is_dir(),
        "the DebugClient is needed: npm ci --prefix tests/dap (.ci/run does it)"
    );
    let samples: Vec<(&str, tempfile::TempDir)> = ["hello_lua", "hello_python", "ai_coroutines"]
        .into_iter()
        .map(|name| (name, common::copy_of_sample(name)))
        .chain([("errors", failing_project())])
        .collect();
    let projects: serde_json::Map<String, Value> = samples
        .iter()
        .map(|(name, dir)| {
            let root: PathBuf = dir.path().canonicalize().unwrap();
            (name.to_string(), json!(root.display().to_string()))
        })
        .collect();
    let child = Command::new("node")
        .arg(tests.join("debug_client.js"))
        .current_dir(&tests)
        .env("ECSCOPE_BIN", BIN)
        .env("ECSCOPE_DAP_PROJECTS", Value::Object(projects).to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node is needed to run VS Code's DebugClient (.ci/run installs it)");
    let (status, out, err) = common::wait_child(child, Duration::from_secs(600));
    println!("{out}");
    assert!(status.success(), "DebugClient tests failed:\n{out}\n{err}");
    for name in [
        "lua_system",
        "coroutines_in_both_languages",
        "python_system",
        "exceptions",
        "entry_pause_and_bad_requests",
        "step_latency",
    ] {
        assert!(
            out.contains(&format!("ok {name} ")),
            "{name} did not run:\n{out}"
        );
    }
}

#[test]
fn malformed_messages_get_error_responses_and_the_adapter_goes_on() {
    let mut c = Client::stdio();
    // Before initialize.
    let early = c.request("threads", json!({}));
    assert_eq!(early["success"], false);
    assert!(
        early["message"]
            .as_str()
            .unwrap()
            .contains("before 'initialize'"),
        "{early}"
    );
    // A length that is not one, then JSON that is not, then not an object.
    c.raw(b"Content-Length: twelve\r\n\r\n{}");
    let bad = c.wait("bad length", |m| {
        m["success"] == false && m["request_seq"] == 0
    });
    assert!(
        bad["message"].as_str().unwrap().contains("'twelve'"),
        "{bad}"
    );
    c.raw(&framed("{\"seq\": 5, \"type\": \"request\""));
    let bad = c.wait("bad JSON", |m| {
        m["success"] == false && m["request_seq"] == 0
    });
    assert!(
        bad["message"].as_str().unwrap().contains("not valid JSON"),
        "{bad}"
    );
    c.raw(&framed("[1, 2, 3]"));
    let bad = c.wait("not an object", |m| {
        m["success"] == false && m["request_seq"] == 0
    });
    assert!(
        bad["message"].as_str().unwrap().contains("not an object"),
        "{bad}"
    );
    // Still answering.
    c.initialize();
    let unknown = c.request("frobnicate", json!({}));
    assert_eq!(unknown["success"], false);
    assert!(
        unknown["message"]
            .as_str()
            .unwrap()
            .contains("'frobnicate'")
    );
    let again = c.request("initialize", json!({}));
    assert_eq!(again["success"], false);
    // A launch without a project, or with a bad manifest: the file and line.
    let missing = c.request("launch", json!({}));
    assert!(
        missing["message"].as_str().unwrap().contains("\"project\""),
        "{missing}"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ecscope.toml"), "[project]\nname = 3\n").unwrap();
    let bad = c.request("launch", json!({"project": dir.path()}));
    assert_eq!(bad["success"], false);
    let message = bad["message"].as_str().unwrap();
    assert!(message.contains("ecscope.toml:2"), "{message}");
    let frames = c.request("launch", json!({"project": dir.path(), "frames": -1}));
    assert_eq!(frames["success"], false);
    c.ok("disconnect", json!({}));
}

#[test]
fn a_breakpoint_outside_the_project_or_with_a_bad_hit_count_is_not_verified() {
    let sample = common::copy_of_sample("hello_lua");
    let mut c = Client::stdio();
    c.initialize();
    c.ok("launch", json!({"project": sample.path(), "frames": 5}));
    let outside = c.ok(
        "setBreakpoints",
        json!({"source": {"path": "/etc/passwd"}, "breakpoints": [{"line": 1}]}),
    );
    let b = &outside["body"]["breakpoints"][0];
    assert_eq!(b["verified"], false);
    assert!(
        b["message"]
            .as_str()
            .unwrap()
            .contains("not a file of the project")
    );
    let hello = script(&sample.path().canonicalize().unwrap(), "hello.lua");
    let counted = c.ok(
        "setBreakpoints",
        json!({"source": {"path": hello}, "breakpoints": [{"line": 36, "hitCondition": "sometimes"}]}),
    );
    assert_eq!(counted["body"]["breakpoints"][0]["verified"], false);
    let past_end = c.ok(
        "setBreakpoints",
        json!({"source": {"path": hello}, "breakpoints": [{"line": 36, "hitCondition": "sometimes"}, {"line": 5000}]}),
    );
    assert_eq!(past_end["body"]["breakpoints"][1]["verified"], false);
    assert!(
        past_end["body"]["breakpoints"][1]["message"]
            .as_str()
            .unwrap()
            .contains("past the end of the file"),
        "{past_end}"
    );
    c.ok("configurationDone", json!({}));
    // The bad hit count never stops the run: it ends.
    c.event("terminated");
    // Then there is nothing to pause or continue.
    let late = c.request("pause", json!({"threadId": 1}));
    assert_eq!(late["success"], false);
    assert!(
        late["message"]
            .as_str()
            .unwrap()
            .contains("the run has ended")
    );
    c.ok("disconnect", json!({}));
}

#[test]
fn terminate_ends_a_launched_run_at_once() {
    let sample = common::copy_of_sample("hello_lua");
    let mut c = Client::stdio();
    c.initialize();
    c.ok(
        "launch",
        json!({"project": sample.path(), "realtime": true}),
    );
    c.ok("configurationDone", json!({}));
    // It runs (hello_lua prints at load).
    c.wait("output", |m| m["event"] == "output");
    c.ok("terminate", json!({}));
    c.event("terminated");
    c.seen.clear();
    // Nothing runs any more: no output in the next half second.
    std::thread::sleep(std::time::Duration::from_millis(500));
    while let Ok(m) = c.messages.try_recv() {
        assert!(
            m["event"] != "output" && m["event"] != "stopped",
            "after terminate: {m}"
        );
    }
    c.ok("disconnect", json!({}));
}

#[test]
fn a_top_level_line_stops_while_the_script_loads() {
    let sample = common::copy_of_sample("hello_python");
    let root = sample.path().canonicalize().unwrap();
    let mut c = Client::stdio();
    c.initialize();
    c.ok("launch", json!({"project": root, "frames": 5}));
    c.ok(
        "setBreakpoints",
        json!({"source": {"path": script(&root, "tank.py")}, "breakpoints": [{"line": 65}]}),
    );
    c.ok("configurationDone", json!({}));
    let stop = c.event("stopped");
    assert_eq!(stop["body"]["reason"], "breakpoint");
    let trace = c.ok("stackTrace", json!({"threadId": 1}));
    assert_eq!(trace["body"]["stackFrames"][0]["line"], 65);
    c.ok("continue", json!({"threadId": 1}));
    c.event("terminated");
}

#[test]
fn run_dap_takes_one_client_at_a_time_and_a_disconnect_mid_stop_resumes() {
    let sample = common::copy_of_sample("hello_lua");
    let root = sample.path().canonicalize().unwrap();
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let address = format!("127.0.0.1:{port}");
    let child = Command::new(BIN)
        .args(["run"])
        .arg(&root)
        .args(["--dap", &address, "--realtime", "--events", "-"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = Client::tcp(&address);
    first.initialize();
    let mut second = Client::tcp(&address);
    let refused = second.request("initialize", json!({"adapterID": "ecscope"}));
    assert_eq!(refused["success"], false);
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("one debug client at a time")
    );
    first.ok("attach", json!({}));
    first.ok(
        "setBreakpoints",
        json!({"source": {"path": script(&root, "hello.lua")}, "breakpoints": [{"line": 36}]}),
    );
    first.ok("configurationDone", json!({}));
    let stop = first.event("stopped");
    assert_eq!(stop["body"]["reason"], "breakpoint");
    // Gone while stopped: the world runs on without its breakpoints.
    first.ok("disconnect", json!({}));
    drop(first);
    let mut third = Client::tcp(&address);
    third.initialize();
    third.ok("attach", json!({}));
    // Nothing is stopped: evaluate says so rather than hanging.
    let seq = third.send("evaluate", json!({"expression": "1", "context": "repl"}));
    let answer = third.response(seq);
    assert_eq!(answer["success"], false);
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("nothing is stopped")
    );
    third.ok("terminate", json!({}));
    let (status, out, err) = common::wait_child(child, PATIENCE);
    assert!(status.success(), "{err}");
    let frames: Vec<u64> = out
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|e| e["frame"].as_u64())
        .collect();
    assert!(!frames.is_empty(), "the events were written: {out}");
    assert!(err.contains("waiting for a debug client"), "{err}");
}

#[test]
fn run_dap_refuses_outputs_it_cannot_write() {
    let sample = common::copy_of_sample("hello_lua");
    let child = Command::new(BIN)
        .arg("run")
        .arg(sample.path())
        .args(["--dap", "127.0.0.1:0", "--dump-world", "w.json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (status, _, err) = common::wait_child(child, PATIENCE);
    assert_eq!(status.code(), Some(2));
    assert!(
        err.contains("--dump-world cannot be used with --dap"),
        "{err}"
    );
}

#[test]
fn the_vscode_extension_starts_the_adapter_and_writes_the_typings() {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dap");
    let sample = common::copy_of_sample("ai_coroutines");
    let root = sample.path().canonicalize().unwrap();
    let child = Command::new("node")
        .arg(tests.join("editors.js"))
        .env("ECSCOPE_BIN", BIN)
        .env("ECSCOPE_PROJECT", &root)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node is needed (.ci/run installs it)");
    let (status, out, err) = common::wait_child(child, Duration::from_secs(120));
    assert!(
        status.success() && out.contains("ok vscode_extension"),
        "{out}\n{err}"
    );
}

#[test]
fn the_nvim_dap_snippet_configures_the_adapter_for_both_languages() {
    let lua = mlua::Lua::new();
    // Stand-ins for nvim-dap's module.
    lua.load(
        r#"
        dap = { adapters = {}, configurations = { python = { { name = "theirs" } } } }
        package.loaded["dap"] = dap
        "#,
    )
    .exec()
    .unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("editors/nvim/ecscope.lua");
    let text = std::fs::read_to_string(&path).unwrap();
    lua.load(&text).set_name("ecscope.lua").exec().unwrap();
    let checked: String = lua
        .load(
            r#"
            local got = {}
            dap.adapters.ecscope(function(a) got.launch = a end, { request = "launch" })
            dap.adapters.ecscope(function(a) got.attach = a end, { request = "attach", port = 4800 })
            assert(got.launch.type == "executable" and got.launch.command == "ecscope" and got.launch.args[1] == "dap")
            assert(got.attach.type == "server" and got.attach.port == 4800 and got.attach.host == "127.0.0.1")
            assert(#dap.configurations.lua == 2 and dap.configurations.lua[1].project == "${workspaceFolder}")
            assert(#dap.configurations.python == 3 and dap.configurations.python[1].name == "theirs")
            return "ok"
            "#,
        )
        .eval()
        .unwrap();
    assert_eq!(checked, "ok");
}
