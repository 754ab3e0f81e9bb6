//! The attack suite: what a hostile project author tried, one test per
//! class, each checking the safe outcome. Nothing outside the project is
//! touched, no secret is printed, nothing crashes or hangs, and the attempt
//! is reported. Every case that could hang runs in a child process with a
//! bound on its wall time, so the suite itself never hangs.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ecscope::project::Project;
use ecscope::runtime::{Runtime, RuntimeEvent};

mod common;
use common::{errors, logs, notices};

/// A project with `files` (path, text) and the manifest listing `scripts`.
fn project(manifest_extra: &str, scripts: &[&str], files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut manifest = format!("[project]\nname = \"attack\"\n{manifest_extra}\n");
    for script in scripts {
        manifest.push_str(&format!("[[script]]\npath = \"{script}\"\n"));
    }
    std::fs::write(dir.path().join("ecscope.toml"), manifest).unwrap();
    for (path, text) in files {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }
    dir
}

/// One Lua script, restricted (as an untrusted project opens).
fn lua(manifest_extra: &str, source: &str) -> tempfile::TempDir {
    project(
        manifest_extra,
        &["scripts/main.lua"],
        &[("scripts/main.lua", source)],
    )
}

fn run(dir: &Path, restricted: bool, frames: u64) -> Vec<RuntimeEvent> {
    let mut project = Project::open(dir).unwrap();
    if restricted {
        project = project.restricted();
    }
    let mut runtime = Runtime::open(project);
    let mut events = runtime.drain_events();
    for _ in 0..frames {
        runtime.step();
        events.extend(runtime.drain_events());
    }
    events
}

/// `ecscope run` in a child process, killed (and the test failed) after
/// `limit`. Returns the exit code, stdout and stderr.
fn run_bounded(args: &[&str], limit: Duration) -> (Option<i32>, String, String) {
    let child = Command::new(env!("CARGO_BIN_EXE_ecscope"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (status, out, err) = common::wait_child(child, limit);
    (status.code(), out, err)
}

/// `ecscope run DIR --frames N`, bounded at two minutes.
fn run_frames(dir: &Path, frames: &str) -> (Option<i32>, String, String) {
    run_bounded(
        &["run", &path_arg(dir), "--frames", frames],
        Duration::from_secs(120),
    )
}

fn path_arg(dir: &Path) -> String {
    dir.display().to_string()
}

// ----- 1. runtime code never calls what a script replaced -------------------

/// Every global and library function a script can replace, replaced by a
/// trap that counts its calls and records what it was handed; then the
/// script uses every part of the runtime that runs Lua code of its own.
const TRAP_EVERYTHING: &str = r##"
local print, pairs, type, tostring, format, select = print, pairs, type, tostring, string.format, select
local calls, handed = 0, {}
local function trap(...)
  calls = calls + 1
  for i = 1, select("#", ...) do handed[#handed + 1] = type((select(i, ...))) end
  return function() end
end
local saved = {}
for name, value in pairs(_G) do
  if type(value) == "function" and name ~= "print" then saved[name] = value end
end
for _, lib in pairs({ string, table, math, coroutine, io, os }) do
  for name, value in pairs(lib) do
    if type(value) == "function" then lib[name] = trap end
  end
end
ecs.component("Pos", { x = 0.5, y = 0.5 })
ecs.component("Tag", { name = "t" })
ecs.spawn({ Pos = { x = 1.5, y = 2.5 }, Tag = { name = "a" } })
for name in pairs(saved) do _G[name] = trap end
ecs.system("move", { "Pos" }, function(id, pos, dt) pos.x = pos.x + 1 end)
ecs.batch_system("batch", { "Pos" }, function(view, dt) view.Pos.y[0] = view.Pos.y[0] + 1 end)
ecs.system("loop", function(dt)
  for id, pos, tag in ecs.query({ "Pos", "Tag" }) do pos.y = pos.y + #tag.name end
  ecs.set(1, "Pos", { x = 5.5, y = 6.5 })
  ecs.emit("ping", { n = 1 })
end)
ecs.on("ping", function(payload) end)
ecs.start("walker", function()
  while true do ecs.wait_frames(1) end
end)
ecs.system("report", function(dt)
  if ecs.frame() == 3 then print(format("trapped %d", calls), #handed) end
end)
"##;

#[test]
fn runtime_code_never_calls_what_a_script_replaced() {
    let dir = lua("", TRAP_EVERYTHING);
    let events = run(dir.path(), true, 4);
    assert!(errors(&events).is_empty(), "{:#?}", errors(&events));
    assert!(
        logs(&events).iter().any(|l| l == "trapped 0\t0"),
        "{:#?}",
        logs(&events)
    );
}

/// The first repro: a replaced `loadstring` received the prelude's `ffi.cast`
/// when a system was registered; with it a script could call `system()`.
#[test]
fn a_replaced_loadstring_gets_nothing_from_the_runtime() {
    let dir = lua(
        "",
        r##"
local got = {}
loadstring = function(src, name, ...) got[#got + 1] = select("#", ...) return function(...) got[#got + 1] = select("#", ...) end end
ecs.component("Pos", { x = 0.5 })
ecs.spawn({ Pos = { x = 1.5 } })
ecs.system("move", { "Pos" }, function(id, pos, dt) pos.x = pos.x + 1 end)
print("calls", #got)
print("ffi", type(ffi), type(package.loaded.ffi), pcall(require, "ffi"))
print("debug", type(debug), type(package.loaded.debug))
"##,
    );
    let events = run(dir.path(), true, 2);
    let logs = logs(&events);
    assert_eq!(logs[0], "calls\t0", "{logs:#?}");
    assert!(logs[1].starts_with("ffi\tnil\tnil\tfalse"), "{logs:#?}");
    assert_eq!(logs[2], "debug\tnil\tnil", "{logs:#?}");
}

#[test]
fn of_jit_scripts_keep_only_what_is_harmless() {
    let dir = lua(
        "",
        r##"
local names = {}
for name in pairs(jit) do names[#names + 1] = name end
table.sort(names)
print(table.concat(names, ","))
print(pcall(require, "jit.util"), pcall(require, "jit.profile"), newproxy)
jit.off() jit.on() jit.flush()
"##,
    );
    let events = run(dir.path(), true, 1);
    let logs = logs(&events);
    assert_eq!(logs[0], "arch,flush,off,on,os,status,version,version_num");
    assert!(logs[1].starts_with("false"), "{logs:#?}");
    assert!(logs[1].ends_with("nil"), "{logs:#?}");
    assert!(errors(&events).is_empty());
}

// ----- 2. bytecode -----------------------------------------------------------

#[test]
fn loading_is_text_only_in_every_form() {
    let dir = lua(
        "",
        r##"
local code = string.dump(function() return 1 end)
local i = 0
print("reader", load(function() i = i + 1 if i == 1 then return code end end))
print("mode b", load(code, "x", "b"))
string.byte = function() return 65 end
print("byte replaced", pcall(loadstring, code))
print("text", loadstring("return 40 + 2")())
"##,
    );
    for restricted in [true, false] {
        let events = run(dir.path(), restricted, 1);
        let logs = logs(&events);
        assert!(
            logs[0].starts_with("reader\tnil\tload: precompiled bytecode"),
            "{logs:#?}"
        );
        assert!(
            logs[1].starts_with("mode b\tnil\tload: precompiled bytecode"),
            "{logs:#?}"
        );
        assert!(
            logs[2].starts_with("byte replaced\ttrue\tnil\tloadstring: precompiled"),
            "{logs:#?}"
        );
        assert_eq!(logs[3], "text\t42");
        let notices = notices(&events);
        assert!(
            notices
                .iter()
                .any(|n| n.starts_with("sandbox: denied load at scripts/main.lua:4")),
            "{notices:#?}"
        );
        assert!(
            notices
                .iter()
                .any(|n| n.starts_with("sandbox: denied loadstring at")),
            "{notices:#?}"
        );
    }
}

// ----- 3. batch arrays ------------------------------------------------------

#[test]
fn batch_indices_are_whole_numbers_in_range() {
    let dir = lua(
        "",
        r##"
ecs.component("Shade", { a = 0.5 })
for i = 1, 3 do ecs.spawn({ Shade = { a = i + 0.5 } }) end
ecs.batch_system("poke", { "Shade" }, function(v, dt)
  local n = v.n
  for _, i in ipairs({ n - 0.01, -0.5, 0 / 0, 1e300, n, -1, 0.5, 2 ^ 53 }) do
    print("read", i, pcall(function() return v.Shade.a[i] end))
    print("write", i, pcall(function() v.Shade.a[i] = 99 end))
  end
end)
"##,
    );
    let events = run(dir.path(), true, 1);
    let logs = logs(&events);
    assert_eq!(logs.len(), 16, "{logs:#?}");
    for line in &logs {
        assert!(line.contains("\tfalse\t"), "{line}");
    }
    assert!(logs[0].contains("whole numbers"), "{logs:#?}");
    assert!(logs[6].contains("out of range"), "{logs:#?}");
    let mut runtime = Runtime::open(Project::open(dir.path()).unwrap().restricted());
    runtime.step();
    let dump = runtime.dump_world();
    assert!(!dump.contains("99"), "{dump}");
}

// ----- 4. files outside the project -----------------------------------------

#[cfg(unix)]
#[test]
fn links_cannot_reach_outside_the_project() {
    use std::os::unix::fs::symlink;
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.lua");
    std::fs::write(&secret, "print('outside code ran')\nreturn {}\n").unwrap();
    let created = outside.path().join("created.txt");

    // A dangling link: writing through it would create the file outside.
    let dir = lua(
        "",
        r##"
print(pcall(function() return assert(io.open("data/new.txt", "w")) end))
print(pcall(require, "evil"))
"##,
    );
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    symlink(&created, dir.path().join("data/new.txt")).unwrap();
    symlink(&secret, dir.path().join("scripts/evil.lua")).unwrap();
    for restricted in [true, false] {
        let events = run(dir.path(), restricted, 1);
        let logs = logs(&events);
        assert!(!created.exists(), "a file was created outside");
        assert!(
            !logs.iter().any(|l| l.contains("outside code ran")),
            "{logs:#?}"
        );
        assert!(logs[1].starts_with("false"), "{logs:#?}");
        assert!(logs[1].contains("outside the project folder"), "{logs:#?}");
        if restricted {
            assert!(logs[0].starts_with("false"), "{logs:#?}");
            assert!(logs[0].contains("points to nothing"), "{logs:#?}");
        }
    }

    // A manifest script that links out is refused before anything runs,
    // so its text never reaches the history either.
    let linked = project("", &["scripts/a.lua"], &[]);
    std::fs::create_dir_all(linked.path().join("scripts")).unwrap();
    symlink(&secret, linked.path().join("scripts/a.lua")).unwrap();
    let err = Project::open(linked.path()).unwrap_err().to_string();
    assert!(err.contains("ecscope.toml:"), "{err}");
    assert!(err.contains("outside the project folder"), "{err}");
    assert!(!linked.path().join(".ecscope").exists());
}

/// `fopen` stops at a NUL byte, and numbers are file names to `io.open`:
/// neither gets past the check.
#[test]
fn nul_bytes_and_numbers_do_not_slip_past_the_path_check() {
    let outside = tempfile::tempdir().unwrap();
    let dir = lua(
        "",
        r##"
print(pcall(function() return assert(io.open("ecscope.toml\0", "w")) end))
print(pcall(function() return assert(io.open("out\0", "w")) end))
local f = assert(io.open(4242, "w")) f:write("inside") f:close()
"##,
    );
    #[cfg(unix)]
    std::os::unix::fs::symlink(outside.path().join("made.txt"), dir.path().join("out")).unwrap();
    let before = std::fs::read_to_string(dir.path().join("ecscope.toml")).unwrap();
    let events = run(dir.path(), true, 1);
    let logs = logs(&events);
    assert!(
        logs[0].starts_with("false") && logs[0].contains("NUL"),
        "{logs:#?}"
    );
    assert!(logs[1].starts_with("false"), "{logs:#?}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("ecscope.toml")).unwrap(),
        before
    );
    assert!(!outside.path().join("made.txt").exists());
    // The number names a file in the project, whatever the working folder.
    assert_eq!(
        std::fs::read_to_string(dir.path().join("4242")).unwrap(),
        "inside"
    );
}

/// A `load` reader is ordinary Lua: the instruction limit fires in it and
/// keeps working afterwards.
#[test]
fn the_limit_survives_a_load_reader() {
    let dir = project(
        "[limits]\ninstructions_per_frame = 2000000\n",
        &["scripts/main.lua"],
        &[(
            "scripts/main.lua",
            "ecs.system(\"s\", function()\n  pcall(load, function() while true do end end)\n  while true do end\nend)\necs.system(\"later\", function() if ecs.frame() == 1 then local n = 0 while true do n = n + 1 end end end)\n",
        )],
    );
    let (code, _, err) = run_frames(dir.path(), "3");
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(
        err.matches("instruction limit exceeded").count(),
        2,
        "{err}"
    );
    assert!(!err.contains("cannot be stopped"), "{err}");
}

// ----- 5. a script cannot change its own trust --------------------------------

#[test]
fn a_sandboxed_script_cannot_rewrite_the_manifest_or_ecscope_data() {
    let dir = lua(
        "",
        r##"
print(pcall(function() return assert(io.open("ecscope.toml", "w")) end))
print(pcall(function() return assert(io.open("./scripts/../ecscope.toml", "a")) end))
print(pcall(io.output, "ecscope.toml"))
print(pcall(function() return assert(io.open(".ecscope/history/x", "w")) end))
print(pcall(function() return assert(io.open(".ecscope/history/index.json", "r")) end))
print(io.open("ecscope.toml", "r") ~= nil)
"##,
    );
    let before = std::fs::read_to_string(dir.path().join("ecscope.toml")).unwrap();
    let events = run(dir.path(), true, 1);
    let logs = logs(&events);
    for line in &logs[..5] {
        assert!(line.starts_with("false"), "{logs:#?}");
    }
    assert!(logs[0].contains("manifest cannot be changed"), "{logs:#?}");
    assert!(logs[3].contains(".ecscope folder"), "{logs:#?}");
    assert_eq!(logs[5], "true", "reading the manifest is fine");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("ecscope.toml")).unwrap(),
        before
    );
    assert!(!dir.path().join(".ecscope/history/x").exists());
    assert!(
        notices(&events)
            .iter()
            .filter(|n| n.starts_with("sandbox: denied io."))
            .count()
            >= 5
    );
}

// ----- 6. crashes -------------------------------------------------------------

#[test]
fn nested_resumes_are_limited_instead_of_overflowing_the_stack() {
    let dir = lua(
        "",
        r##"
local depth = 0
local function wrap() depth = depth + 1 coroutine.wrap(wrap)() end
print("wrap", pcall(wrap))
local d2 = 0
local function resume() d2 = d2 + 1 local ok, e = coroutine.resume(coroutine.create(resume)) if not ok then error(e, 0) end end
print("resume", pcall(resume))
print("depths", depth, d2)
print("still fine", coroutine.wrap(function() return 7 end)())
"##,
    );
    // In a child process: a regression would overflow the stack and kill it.
    let (code, out, err) = run_frames(dir.path(), "1");
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(
        out.contains("wrap\tfalse") && out.contains("more than 16 coroutines"),
        "{out}"
    );
    assert!(out.contains("resume\tfalse"), "{out}");
    assert!(out.contains("depths\t17\t17"), "{out}");
    assert!(out.contains("still fine\t7"), "{out}");
}

/// Each coroutine may nest thousands of C calls (here `table.sort`
/// comparators), all on one native stack: the nesting stops with an error
/// before the stack runs out.
#[test]
fn deep_c_nesting_across_coroutines_does_not_overflow_the_stack() {
    // The dive takes about a second here, in C calls that no limit can
    // interrupt; a ten times larger budget gives the stuck-call report
    // ten times the patience, so a busy machine does not end it first.
    let dir = lua(
        "[limits]\ninstructions_per_frame = 200000000",
        r##"
local levels = 0
local function dive(n)
  if n == 0 then
    levels = levels + 1
    if levels > 38 then return end
    local co = coroutine.create(function() return dive(4000) end)
    local ok, r = coroutine.resume(co)
    if not ok then error(r, 0) end
    return
  end
  table.sort({1, 2}, function(a, b) dive(n - 1) return a < b end)
end
print(pcall(dive, 4000))
print("levels", levels)
"##,
    );
    let (code, out, err) = run_frames(dir.path(), "1");
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(out.contains("levels\t17"), "{out}");
    assert!(!err.contains("crashed"), "{err}");
}

#[test]
fn host_memory_a_script_causes_counts_against_its_limit() {
    let dir = project(
        "[limits]\nmemory_mb = 8\ninstructions_per_frame = 100000000\n",
        &["scripts/flood.lua", "scripts/canary.lua"],
        &[
            (
                "scripts/flood.lua",
                r##"
local big = string.rep("x", 100000)
ecs.system("emit", function() while true do ecs.emit("e", big) end end)
ecs.system("log", function() while true do print(big) end end)
ecs.component("Note", { text = "" })
ecs.system("spawn", function() while true do ecs.spawn({ Note = { text = big } }) end end)
"##,
            ),
            (
                "scripts/canary.lua",
                "ecs.system('alive', function() if ecs.frame() == 2 then print('canary alive') end end)\n",
            ),
        ],
    );
    let (code, out, err) = run_frames(dir.path(), "3");
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(
        err.matches("out of memory: this script made ECScope hold more than 8 MiB")
            .count(),
        3,
        "{err}"
    );
    assert!(out.contains("canary alive"), "{out}");
}

#[test]
fn a_world_takes_a_bounded_number_of_component_types() {
    let dir = lua(
        "",
        r##"
local ok, err = pcall(function() for i = 1, 20000 do ecs.component("T" .. i, { v = 0.5 }) end end)
print(ok, err)
print(pcall(ecs.component, "T1", { v = 1.5 }))
"##,
    );
    let events = run(dir.path(), true, 1);
    let logs = logs(&events);
    assert!(logs[0].starts_with("false"), "{logs:#?}");
    assert!(
        logs[0].contains("already has 10000 component types"),
        "{logs:#?}"
    );
    assert!(
        logs[1].starts_with("true"),
        "redeclaring one is fine: {logs:#?}"
    );
}

#[test]
fn an_entity_takes_a_bounded_number_of_components() {
    let dir = lua(
        "",
        r##"
local id = ecs.spawn({})
local ok, err = pcall(function()
  for i = 1, 10000 do
    ecs.component("C" .. i, { v = 0.5 })
    ecs.set(id, "C" .. i, { v = 1.5 })
  end
end)
print(ok, err)
local n = 0
for i = 1, 256 do if ecs.has(id, "C" .. i) then n = n + 1 end end
print("components", n)
"##,
    );
    let events = run(dir.path(), true, 1);
    let logs = logs(&events);
    assert!(logs[0].starts_with("false"), "{logs:#?}");
    assert!(logs[0].contains("already has 256 components"), "{logs:#?}");
    assert_eq!(logs[1], "components\t256");
}

#[test]
fn python_threads_get_an_error_instead_of_a_panic() {
    let dir = project(
        "",
        &["scripts/main.py"],
        &[(
            "scripts/main.py",
            r##"import ecs, threading
seen = []
def worker():
    for call in (lambda: ecs.spawn({}), lambda: print("from a thread")):
        try:
            call()
        except RuntimeError as e:
            seen.append(str(e))
t = threading.Thread(target=worker)
t.start()
t.join()
print(len(seen), seen[0])
"##,
        )],
    );
    let (code, out, err) = run_frames(dir.path(), "1");
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        out.contains("2 ecs and print can only be used on the thread that runs the scripts"),
        "{out}"
    );
}

/// ECScope's other Python objects (a decorator, batch views) used from a
/// thread panic inside pyo3; raised again in a system, that is a script
/// error, not the end of the process.
#[test]
fn a_python_panic_from_a_thread_is_a_script_error() {
    let dir = project(
        "",
        &["scripts/main.py"],
        &[(
            "scripts/main.py",
            "import ecs, threading\ndeco = ecs.system(\"later\")\ncaught = []\ndef t():\n    try:\n        deco(lambda dt: None)\n    except BaseException as e:\n        caught.append(e)\nth = threading.Thread(target=t)\nth.start()\nth.join()\n@ecs.system(\"s\")\ndef s(dt):\n    raise caught[0]\n",
        )],
    );
    let (code, _, err) = run_frames(dir.path(), "2");
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("error: scripts/main.py"), "{err}");
    assert!(err.contains("system 's'"), "{err}");
}

#[test]
fn a_python_heap_flood_is_a_memory_error_and_the_host_goes_on() {
    let dir = project(
        "[limits]\nmemory_mb = 32\n",
        &["scripts/fill.py", "scripts/canary.lua"],
        &[
            (
                "scripts/fill.py",
                "import ecs\nkeep = []\n@ecs.system(\"fill\")\ndef fill(dt):\n    while True:\n        keep.append(\"a\" * 1000000)\n",
            ),
            (
                "scripts/canary.lua",
                "ecs.system('alive', function() if ecs.frame() == 2 then print('canary alive') end end)\n",
            ),
        ],
    );
    let (code, out, err) = run_frames(dir.path(), "3");
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("scripts/fill.py:6: out of memory: the script's calls grew the Python heap past its limit"), "{err}");
    assert!(out.contains("canary alive"), "{out}");
}

// ----- 7. hangs -------------------------------------------------------------

#[test]
fn a_caught_limit_still_stops_the_system() {
    let dir = project(
        "[limits]\ninstructions_per_frame = 2000000\n",
        &["scripts/spin.lua", "scripts/spin.py", "scripts/canary.lua"],
        &[
            (
                "scripts/spin.lua",
                r##"
ecs.system("pcall", function() while true do pcall(function() while true do end end) end end)
ecs.system("xpcall", function() while true do xpcall(function() while true do end end, function() while true do end end) end end)
ecs.system("resume", function() while true do coroutine.resume(coroutine.create(function() while true do end end)) end end)
ecs.system("wrap", function() while true do pcall(coroutine.wrap(function() while true do end end)) end end)
"##,
            ),
            (
                "scripts/spin.py",
                "import ecs\n@ecs.system(\"catch\")\ndef catch(dt):\n    while True:\n        try:\n            while True:\n                pass\n        except BaseException:\n            pass\n",
            ),
            (
                "scripts/canary.lua",
                "ecs.system('alive', function() if ecs.frame() == 2 then print('canary alive') end end)\n",
            ),
        ],
    );
    let (code, out, err) = run_frames(dir.path(), "3");
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(
        err.matches("instruction limit exceeded").count(),
        5,
        "{err}"
    );
    for system in ["pcall", "xpcall", "resume", "wrap", "catch"] {
        assert!(
            err.contains(&format!("system '{system}')")),
            "{system}: {err}"
        );
    }
    assert!(out.contains("canary alive"), "{out}");
}

#[test]
fn hangs_in_c_end_the_run_with_the_script_named() {
    let cases: [(&str, &str, &str); 4] = [
        (
            "sleep.py",
            "import ecs, time\n@ecs.system(\"s\")\ndef s(dt):\n    time.sleep(100)\n",
            "scripts/sleep.py",
        ),
        (
            "sum.py",
            "import ecs\n@ecs.system(\"s\")\ndef s(dt):\n    sum(range(10**12))\n",
            "scripts/sum.py",
        ),
        (
            "regex.py",
            "import ecs, re\n@ecs.system(\"s\")\ndef s(dt):\n    re.match(r\"(a+)+$\", \"a\" * 64 + \"b\")\n",
            "scripts/regex.py",
        ),
        (
            "strerr.py",
            "import ecs\nclass E(Exception):\n    def __str__(self):\n        while True:\n            pass\n@ecs.system(\"s\")\ndef s(dt):\n    raise E()\n",
            "scripts/strerr.py",
        ),
    ];
    for (file, source, named) in cases {
        let path = format!("scripts/{file}");
        let dir = project("", &[&path], &[(&path, source)]);
        let started = Instant::now();
        let (code, _out, err) = run_frames(dir.path(), "2");
        assert_eq!(code, Some(1), "{file}: {err}");
        assert!(err.contains(named), "{file}: {err}");
        if file == "sleep.py" {
            // Asleep, the call lets go of Python: its line is known.
            assert!(
                err.contains("scripts/sleep.py:4: a call into this script"),
                "{err}"
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{file} took {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn a_native_crash_names_the_script_and_exits_1() {
    for (body, signal) in [
        ("ctypes.string_at(0)", "SIGSEGV"),
        ("os.abort()", "SIGABRT"),
    ] {
        let source = format!(
            "import ecs, ctypes, os\n@ecs.system(\"boom\")\ndef boom(dt):\n    if ecs.frame() == 2:\n        {body}\n"
        );
        let dir = project("", &["scripts/crash.py"], &[("scripts/crash.py", &source)]);
        let (code, _, err) = run_frames(dir.path(), "5");
        assert_eq!(code, Some(1), "{err}");
        assert!(
            err.contains(&format!(
                "error: scripts/crash.py: ECScope crashed ({signal}"
            )),
            "{err}"
        );
        assert!(err.contains("during a call into this script"), "{err}");
    }
}

/// A thread the script started holds Python's lock in a long C call: the
/// scripts' thread waits for it, and that wait is reported as stuck.
#[test]
fn a_python_thread_holding_the_lock_is_reported_as_stuck() {
    let dir = project(
        "",
        &["scripts/main.py"],
        &[(
            "scripts/main.py",
            "import ecs, threading, time\n_sum, _range, _sleep = sum, range, time.sleep\ndef hog():\n    _sleep(0.3)\n    _sum(_range(10**13))\nthreading.Thread(target=hog, daemon=True).start()\n@ecs.system(\"tick\")\ndef tick(dt):\n    pass\n",
        )],
    );
    let started = Instant::now();
    let (code, _, err) = run_bounded(
        &[
            "run",
            &path_arg(dir.path()),
            "--frames",
            "600",
            "--realtime",
        ],
        Duration::from_secs(60),
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("scripts/main.py: a call into this script has run for"),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_catastrophic_lua_pattern_is_stopped() {
    let dir = project(
        "[limits]\ninstructions_per_frame = 2000000\n",
        &["scripts/pattern.lua", "scripts/fine.lua"],
        &[
            (
                "scripts/pattern.lua",
                r##"
ecs.system("find", function() string.find(string.rep("a", 40), "a-a-a-a-a-a-a-a-a-a-a-b") end)
ecs.system("caught", function() while true do pcall(string.match, string.rep("a", 40), ".-.-.-.-.-.-.-.-x") end end)
"##,
            ),
            (
                "scripts/fine.lua",
                r##"ecs.system("ok", function() if ecs.frame() == 1 then print(("hello world"):find("o w"), ("k=v"):match("(%w+)=(%w+)")) end end)"##,
            ),
        ],
    );
    let (code, out, err) = run_frames(dir.path(), "2");
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("system 'find')"), "{err}");
    assert!(err.contains("system 'caught')"), "{err}");
    assert!(out.contains("5\tk\tv"), "{out}");
}

#[test]
fn gc_metamethods_that_loop_cannot_be_made() {
    let dir = lua(
        "",
        "print(newproxy, pcall(setmetatable, {}, { __gc = function() while true do end end }))\ncollectgarbage()\n",
    );
    let (code, out, err) = run_frames(dir.path(), "2");
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("nil\ttrue"), "{out}");
}

// ----- 9. determinism ----------------------------------------------------------

const ORDERS: &str = r##"
local function order(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = tostring(k) end
  return table.concat(keys, ",")
end
local NAMES = { "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
  "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon" }
local words = {}
for _, w in ipairs(NAMES) do words[w] = true end
ecs.component("Stats", { hp = 1.5, mp = 2.5, speed = 0.5, title = "x", alive = true })
ecs.spawn({ Stats = {} })
ecs.system("orders", function(dt)
  -- Keys chosen by frame, and garbage, so collections run at different
  -- points from frame to frame.
  local made, junk = {}, {}
  for i = 1, 200 do
    made[NAMES[(ecs.frame() * 7 + i) % #NAMES + 1]] = i
    junk[i] = { tostring(i) .. "!" }
  end
  local mixed = { [1.5] = 1, [true] = 2, [false] = 3, [-2.25] = 4, name = 5, [1e10] = 6 }
  ecs.log(order(words) .. " | " .. order(made) .. " | " .. order(mixed) .. " | " .. order(ecs.get(1, "Stats")))
end)
"##;

#[test]
fn pairs_and_sets_iterate_the_same_on_every_run() {
    let dir = project(
        "",
        &["scripts/orders.lua", "scripts/orders.py"],
        &[
            ("scripts/orders.lua", ORDERS),
            (
                "scripts/orders.py",
                "import ecs\nwords = {\"alpha\", \"beta\", \"gamma\", \"delta\", \"epsilon\", \"zeta\"}\n@ecs.system(\"orders\")\ndef orders(dt):\n    made = {\"key%d\" % ((ecs.frame() * 7 + i) % 37) for i in range(200)}\n    ecs.log(\",\".join(words) + \" | \" + \",\".join(made) + \" | \" + \",\".join(str(x) for x in {1.5, True, -2.25, \"name\"}))\n",
            ),
        ],
    );
    // The same project from a folder with a longer path: where the files
    // are changes nothing.
    let elsewhere = tempfile::tempdir().unwrap();
    let moved = elsewhere
        .path()
        .join("a-much-longer-folder-name-for-the-same-project");
    std::fs::create_dir_all(moved.join("scripts")).unwrap();
    for file in ["ecscope.toml", "scripts/orders.lua", "scripts/orders.py"] {
        std::fs::copy(dir.path().join(file), moved.join(file)).unwrap();
    }
    let mut runs = Vec::new();
    for folder in [dir.path(), dir.path(), dir.path(), moved.as_path()] {
        let events = folder.join("events.jsonl");
        let (code, _, err) = run_bounded(
            &[
                "run",
                &path_arg(folder),
                "--frames",
                "20",
                "--events",
                &events.display().to_string(),
            ],
            Duration::from_secs(60),
        );
        assert_eq!(code, Some(0), "{err}");
        // The log lines; the closing statistics hold timings.
        let text = std::fs::read_to_string(&events).unwrap();
        runs.push(
            text.lines()
                .filter(|l| l.contains("\"kind\":\"log\""))
                .collect::<Vec<_>>()
                .join("\n"),
        );
    }
    assert!(runs[0].lines().count() >= 40, "{}", runs[0]);
    for run in &runs[1..] {
        assert_eq!(&runs[0], run);
    }
}

/// Every sample's world dump, twice, in separate processes.
#[test]
fn every_sample_dumps_the_same_world_on_every_run() {
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_projects");
    let mut folders: Vec<PathBuf> = std::fs::read_dir(&samples)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("ecscope.toml").is_file())
        .collect();
    folders.sort();
    assert!(folders.len() >= 10);
    let out = tempfile::tempdir().unwrap();
    for folder in folders {
        let name = folder.file_name().unwrap().to_string_lossy().into_owned();
        let frames = if name.starts_with("stress") {
            "5"
        } else {
            "60"
        };
        let mut dumps = Vec::new();
        for run in 0..2 {
            let dump = out.path().join(format!("{name}-{run}.json"));
            let (code, _, err) = run_bounded(
                &[
                    "run",
                    &path_arg(&folder),
                    "--frames",
                    frames,
                    "--dump-world",
                    &dump.display().to_string(),
                ],
                Duration::from_secs(300),
            );
            assert!(matches!(code, Some(0 | 1)), "{name}: {err}");
            dumps.push(std::fs::read(&dump).unwrap());
        }
        assert!(
            dumps[0] == dumps[1],
            "{name}: the dumps differ between runs"
        );
    }
}

// ----- 7. weak messages ----------------------------------------------------

#[test]
fn weak_messages_say_what_is_wrong() {
    // A byte order mark is accepted in both languages.
    let dir = project(
        "",
        &["scripts/a.lua", "scripts/b.py"],
        &[
            (
                "scripts/a.lua",
                "\u{feff}print('lua bom')\nprint(pcall(ecs.stop, nil))\nprint(pcall(ecs.emit, 'e', {1, nil, 3}))\n",
            ),
            (
                "scripts/b.py",
                "\u{feff}import ecs\nprint('python bom')\ntry:\n    ecs.stop(None)\nexcept TypeError as e:\n    print(e)\n",
            ),
        ],
    );
    let events = run(dir.path(), false, 1);
    let logs = logs(&events);
    assert!(errors(&events).is_empty(), "{:#?}", errors(&events));
    assert_eq!(logs[0], "lua bom");
    assert!(
        logs[1]
            .contains("ecs.stop: expected a coroutine id (the number ecs.start returned), got nil"),
        "{logs:#?}"
    );
    assert!(
        logs[2].contains("a list cannot hold nil: item 2 is nil"),
        "{logs:#?}"
    );
    assert_eq!(logs[3], "python bom");
    assert!(
        logs[4].starts_with("ecs.stop: expected a coroutine id"),
        "{logs:#?}"
    );

    // A folder as a script, and one script under two spellings.
    let folder = project("", &["scripts/dir.lua"], &[("scripts/dir.lua/x", "")]);
    let err = Project::open(folder.path()).unwrap_err().to_string();
    assert!(
        err.contains("ecscope.toml:5") && err.contains("is a folder, not a script file"),
        "{err}"
    );
    let twice = project(
        "",
        &["scripts/a.lua", "./scripts/a.lua"],
        &[("scripts/a.lua", "")],
    );
    let err = Project::open(twice.path()).unwrap_err().to_string();
    assert!(
        err.contains("ecscope.toml:7") && err.contains("`scripts/a.lua` is listed twice"),
        "{err}"
    );
}

// ----- 8. a fuzz-style property over the sandbox's own globals ------------

mod generated {
    use super::*;
    use proptest::prelude::*;

    /// Globals and library fields the runtime's Lua code could be tempted
    /// to look up, and the string metatable's `__index`.
    const TARGETS: &[&str] = &[
        "loadstring",
        "load",
        "pcall",
        "xpcall",
        "error",
        "type",
        "select",
        "unpack",
        "tostring",
        "tonumber",
        "pairs",
        "ipairs",
        "next",
        "setmetatable",
        "getmetatable",
        "rawset",
        "rawget",
        "assert",
        "require",
        "collectgarbage",
        "string.find",
        "string.sub",
        "string.format",
        "string.byte",
        "string.rep",
        "string.gsub",
        "string.match",
        "table.concat",
        "table.insert",
        "table.sort",
        "math.floor",
        "math.max",
        "coroutine.create",
        "coroutine.resume",
        "coroutine.yield",
        "coroutine.status",
        "coroutine.running",
        "coroutine.wrap",
        "io.open",
        "os.clock",
        "getmetatable('').__index",
        "jit.off",
        "package.loaders",
    ];

    /// What a target is replaced with (the trap counts its calls).
    const VALUES: &[&str] = &[
        "trap",
        "nil",
        "42",
        "'text'",
        "{}",
        "function() error('replaced') end",
    ];

    fn source(replacements: &[(usize, usize)]) -> String {
        let mut lua = String::from(
            r##"
local log, frame, calls = ecs.log, ecs.frame, { n = 0 }
local function trap() calls.n = calls.n + 1 end
ecs.component("Pos", { x = 0.5, y = 0.5 })
ecs.spawn({ Pos = { x = 1.5, y = 2.5 } })
local mt = getmetatable("")
"##,
        );
        for &(target, value) in replacements {
            let target = TARGETS[target].replace("getmetatable('')", "mt");
            lua.push_str(&format!("{target} = {}\n", VALUES[value]));
        }
        lua.push_str(
            r##"
ecs.system("move", { "Pos" }, function(id, pos, dt) pos.x = pos.x + 1 end)
ecs.batch_system("batch", { "Pos" }, function(view, dt) view.Pos.y[0] = view.Pos.y[0] + 1 end)
ecs.system("loop", function(dt)
  for id, pos in ecs.query({ "Pos" }) do pos.y = pos.y + 1 end
  ecs.set(1, "Pos", { x = 5.5, y = 6.5 })
  ecs.emit("ping", { n = 1 })
end)
ecs.on("ping", function(payload) end)
ecs.start("walker", function() while true do ecs.wait_frames(1) end end)
ecs.system("report", function(dt) if frame() == 2 then log("calls " .. calls.n) end end)
"##,
        );
        lua
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

        /// Whatever a script does to its globals, the runtime's own code
        /// never calls or trips over the replacements: no error, no call.
        #[test]
        fn replaced_globals_never_reach_the_runtime(
            replacements in proptest::collection::vec((0..TARGETS.len(), 0..VALUES.len()), 1..12)
        ) {
            let dir = lua("", &source(&replacements));
            let events = run(dir.path(), true, 3);
            prop_assert!(errors(&events).is_empty(), "{:#?}", errors(&events));
            prop_assert_eq!(logs(&events), vec!["calls 0".to_string()]);
        }
    }
}

// ----- the debugger ------------------------------------------------------------

/// A Lua project stopped at its line 2 with `probe` asking the debugger's
/// frame access; the answers come back.
fn debugger_answers(source: &str, probe: &'static str) -> Result<String, String> {
    use ecscope::runtime::RuntimeCommand;
    use ecscope::scripting::debugger::{BreakInfo, DebugAction, FrameAccess};
    let dir = lua("", source);
    let mut rt = Runtime::open(Project::open(dir.path()).unwrap());
    rt.apply(RuntimeCommand::SetBreakpoint {
        file: "scripts/main.lua".into(),
        line: 2,
        on: true,
    })
    .unwrap();
    let answer = std::rc::Rc::new(std::cell::RefCell::new(None));
    let out = std::rc::Rc::clone(&answer);
    rt.debugger().set_handler(Some(Box::new(
        move |_: &BreakInfo, access: &mut dyn FrameAccess| {
            *out.borrow_mut() = Some(access.evaluate(0, probe).map(|v| v.value));
            DebugAction::Continue
        },
    )));
    rt.step();
    let taken = answer.borrow_mut().take();
    taken.expect("the line was reached")
}

#[test]
fn the_debugger_evaluates_text_never_bytecode() {
    // A condition saved in a project's breakpoints file, or typed, that is
    // a precompiled chunk is refused like any other load.
    let answer = debugger_answers(
        "ecs.system('s', function(dt)\n  local x = 1\nend)\n",
        "\u{1b}LJ\u{2}\u{0}\u{0}junk",
    );
    let err = answer.unwrap_err();
    assert!(err.contains("wrong mode"), "{err}");
}

#[test]
fn break_on_error_survives_an_error_value_that_never_prints() {
    use ecscope::runtime::RuntimeCommand;
    use ecscope::scripting::debugger::{BreakInfo, DebugAction, FrameAccess};
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let dir = lua(
            "",
            "ecs.system('s', function(dt)\n  error(setmetatable({}, { __tostring = function() while true do end end }))\nend)\n",
        );
        let mut rt = Runtime::open(Project::open(dir.path()).unwrap());
        rt.apply(RuntimeCommand::SetBreakOnError(true)).unwrap();
        rt.debugger()
            .set_handler(Some(Box::new(|_: &BreakInfo, _: &mut dyn FrameAccess| {
                DebugAction::Continue
            })));
        rt.step();
        let _ = tx.send(rt.error_count());
    });
    let errors = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the frame ended: the endless __tostring was stopped");
    assert_eq!(errors, 1);
}

#[test]
fn a_chunk_named_after_a_file_outside_the_project_shows_nothing_of_it_when_sampled() {
    // The sampler and the debugger name a function from its defining line;
    // a script chooses its chunks' names, and must not make the host read
    // a file outside the project and show a piece of it.
    let secret_dir = tempfile::tempdir().unwrap();
    let secret = secret_dir.path().join("secret.lua");
    std::fs::write(&secret, "local function the_secret_word(x)\n").unwrap();
    let dir = lua(
        "",
        &format!(
            // Registered as the system itself, the loaded function has no
            // name of its own: it would be named from its defining line.
            "local f = load(\"return function(dt) local x = 0 for i = 1, 300000 do x = x + math.sin(i) end return x end\", \"@{}\")()\necs.system('s', f)\n",
            secret.display()
        ),
    );
    let mut runtime = Runtime::open(Project::open(dir.path()).unwrap());
    runtime.sample_always();
    for _ in 0..30 {
        runtime.step();
    }
    let samples = runtime.samples();
    assert!(!samples.is_empty(), "sampled");
    assert!(
        samples.iter().all(|(s, _)| !s.contains("the_secret_word")),
        "{samples:?}"
    );
    // The chunk's frames are there, only not named from the outside file.
    assert!(
        samples
            .iter()
            .any(|(s, _)| s.contains("secret.lua:function@1:")),
        "{samples:?}"
    );
    assert_eq!(runtime.error_count(), 0);
}

#[test]
fn a_script_that_tampers_with_the_leak_watch_only_hurts_itself() {
    // While a leak is hunted, the growing tables get a metatable and
    // `table.insert` a wrapper; a script that finds and breaks them gets
    // an error at its own line, and the host goes on and cleans up.
    let dir = lua(
        "",
        "local log = {}\nlocal spoiled = false\necs.system('grow', function(dt)\n  local mt = getmetatable(log)\n  if mt and not spoiled then\n    spoiled = true\n    mt.__newindex = function() error('spoiled') end\n    table.insert = function() error('spoiled too') end\n  end\n  for i = 1, 40 do log[#log + 1] = { ecs.time(), i } end\nend)\n",
    );
    let mut runtime = Runtime::open(Project::open(dir.path()).unwrap());
    for _ in 0..1300 {
        runtime.step();
    }
    let events = runtime.drain_events();
    let errors = errors(&events);
    assert!(
        errors.iter().any(|e| e.contains("spoiled")),
        "the watch was reached and broken: {errors:?}"
    );
    assert!(
        errors.iter().all(|e| e.starts_with("scripts/main.lua:")),
        "{errors:?}"
    );
    // The host kept running frames to the end.
    assert_eq!(runtime.frame(), 1300);
}

/// A debug client can run code in the project: `--dap` listens on this
/// machine only.
#[test]
fn a_debug_listener_is_refused_off_this_machine() {
    let dir = project("", &["scripts/main.lua"], &[("scripts/main.lua", "")]);
    let out = Command::new(env!("CARGO_BIN_EXE_ecscope"))
        .arg("run")
        .arg(dir.path())
        .args(["--dap", "0.0.0.0:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (status, _, err) = common::wait_child(out, Duration::from_secs(30));
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(err.contains("not a loopback address"), "{err}");
}

/// An editor launching an untrusted project with `restricted`: Python is
/// not run, and code evaluated at a Lua stop is still sandboxed.
#[test]
fn a_restricted_launch_from_an_editor_keeps_the_sandbox() {
    use serde_json::json;
    let outside = tempfile::tempdir().unwrap();
    let stolen = outside.path().join("stolen.txt");
    let marker = outside.path().join("python-ran.txt");
    let dir = project(
        "",
        &["scripts/main.lua", "scripts/p.py"],
        &[
            (
                "scripts/main.lua",
                "ecs.system(\"s\", function(dt)\n  local x = 1\nend)\n",
            ),
            (
                "scripts/p.py",
                &format!(
                    "open({:?}, 'w').write('ran')\n",
                    marker.display().to_string()
                ),
            ),
        ],
    );
    let root = dir.path().canonicalize().unwrap();
    let mut c = common::dap::Client::stdio();
    c.initialize();
    c.ok(
        "launch",
        json!({"project": root, "frames": 5, "restricted": true}),
    );
    c.ok(
        "setBreakpoints",
        json!({"source": {"path": root.join("scripts/main.lua")}, "breakpoints": [{"line": 2}]}),
    );
    c.ok("configurationDone", json!({}));
    c.event("stopped");
    let code = format!("io.open({:?}, 'w')", stolen.display().to_string());
    let answer = c.request(
        "evaluate",
        json!({"expression": code, "frameId": 1, "context": "repl"}),
    );
    assert!(
        answer["success"] == false || answer["body"]["result"] == "nil",
        "{answer}"
    );
    c.ok(
        "setBreakpoints",
        json!({"source": {"path": root.join("scripts/main.lua")}, "breakpoints": []}),
    );
    c.ok("continue", json!({"threadId": 1}));
    c.event("terminated");
    assert!(
        !stolen.exists(),
        "the evaluated code wrote outside the project"
    );
    assert!(!marker.exists(), "Python ran in a restricted launch");
}

/// A value whose `keys()` never returns, expanded by the debugger: the
/// listing is bounded like any evaluation, and the run goes on.
#[test]
fn expanding_a_hostile_record_in_the_debugger_is_bounded() {
    use serde_json::json;
    let dir = project(
        "",
        &["scripts/p.py"],
        &[(
            "scripts/p.py",
            "import ecs\n\n\nclass Trap:\n    def keys(self):\n        while True:\n            pass\n\n    def __getitem__(self, k):\n        return 0\n\n\n@ecs.system(\"s\")\ndef s(dt):\n    trap = Trap()\n    return trap\n",
        )],
    );
    let root = dir.path().canonicalize().unwrap();
    let mut c = common::dap::Client::stdio();
    c.initialize();
    c.ok("launch", json!({"project": root, "frames": 3}));
    c.ok(
        "setBreakpoints",
        json!({"source": {"path": root.join("scripts/p.py")}, "breakpoints": [{"line": 16}]}),
    );
    c.ok("configurationDone", json!({}));
    c.event("stopped");
    let scopes = c.ok("scopes", json!({"frameId": 1}));
    let locals = scopes["body"]["scopes"][0]["variablesReference"].clone();
    let vars = c.ok("variables", json!({"variablesReference": locals}));
    let trap = vars["body"]["variables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "trap")
        .cloned()
        .expect("trap listed");
    let started = Instant::now();
    let expanded = c.request(
        "variables",
        json!({"variablesReference": trap["variablesReference"]}),
    );
    assert_eq!(expanded["success"], false, "{expanded}");
    assert!(
        expanded["message"].as_str().unwrap().contains("steps"),
        "{expanded}"
    );
    assert!(started.elapsed() < Duration::from_secs(20));
    c.ok(
        "setBreakpoints",
        json!({"source": {"path": root.join("scripts/p.py")}, "breakpoints": []}),
    );
    c.ok("continue", json!({"threadId": 1}));
    c.event("terminated");
}

// ----- systems on worker threads ------------------------------------------------

/// Systems that run together on the workers (SCRIPT_API §5) keep every
/// limit and the sandbox: an endless loop, a flood of host memory and a
/// write outside the project each stop at their line, and the other
/// systems of the group go on.
#[test]
fn systems_on_worker_threads_keep_their_limits_and_the_sandbox() {
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("escaped.txt");
    let escape = format!(
        "ecs.system('escape', function()\n  local f = io.open({:?}, 'w')\n  f:write('out')\nend, {{ writes = {{}} }})\n",
        target.display().to_string()
    );
    let dir = project(
        "[limits]\nmemory_mb = 8\ninstructions_per_frame = 2000000\n[runtime]\nthreads = 2\n",
        &[
            "scripts/spin.lua",
            "scripts/flood.lua",
            "scripts/escape.lua",
            "scripts/canary.lua",
        ],
        &[
            (
                "scripts/spin.lua",
                "ecs.system('spin', function()\n  while true do end\nend, { writes = {} })\n",
            ),
            (
                "scripts/flood.lua",
                "local big = string.rep('x', 100000)\necs.system('flood', function()\n  while true do ecs.emit('e', big) end\nend, { writes = {} })\n",
            ),
            ("scripts/escape.lua", &escape),
            (
                "scripts/canary.lua",
                "ecs.system('alive', function()\n  print('canary alive', ecs.frame())\nend, { writes = {} })\n",
            ),
        ],
    );
    let project = Project::open(dir.path()).unwrap().restricted();
    let mut runtime = Runtime::open(project);
    let mut events = runtime.drain_events();
    for _ in 0..3 {
        runtime.step();
        events.extend(runtime.drain_events());
    }
    assert!(
        runtime.groups_on_workers() > 0,
        "the group ran on one thread"
    );
    let errors = errors(&events);
    let at = |needle: &str| errors.iter().filter(|e| e.contains(needle)).count();
    assert_eq!(at("scripts/spin.lua:2"), 1, "{errors:#?}");
    assert_eq!(at("instruction limit exceeded"), 1, "{errors:#?}");
    assert_eq!(at("scripts/flood.lua:3"), 1, "{errors:#?}");
    assert_eq!(at("out of memory"), 1, "{errors:#?}");
    assert_eq!(at("scripts/escape.lua:2"), 1, "{errors:#?}");
    assert!(
        !target.exists(),
        "a sandboxed system wrote outside the project"
    );
    let logs = logs(&events);
    for frame in 0..3 {
        assert!(
            logs.iter().any(|l| *l == format!("canary alive\t{frame}")),
            "{logs:#?}"
        );
    }
}

/// The `ecs` misuse messages quote what a script passed (names, strings):
/// a megabyte-long name gives a message of a line, in both languages, and
/// the host goes on.
#[test]
fn huge_names_in_misused_calls_give_messages_of_a_line() {
    let lua_source = r#"
local huge = string.rep("x", 1000000)
for _, call in ipairs({
  function() ecs.start(huge, 42) end,
  function() ecs.system(huge, 3) end,
  function() ecs.emit(huge, function() end) end,
  function() ecs.get(huge, "Position") end,
  function() ecs.start(42, 42) end,
}) do
  local ok, err = pcall(call)
  print(ok, #tostring(err):match("^[^\n]*"))
end
"#;
    let python_source = r#"import ecs
huge = "x" * 1000000
for call in [
    lambda: ecs.start(huge, 42),
    lambda: ecs.system(huge, 3),
    lambda: ecs.emit(huge, lambda: 0),
    lambda: ecs.get(huge, "Position"),
]:
    try:
        call()
        print(True, 0)
    except Exception as e:
        print(False, len(str(e)))
"#;
    let lua_dir = lua("", lua_source);
    let python_dir = project(
        "",
        &["scripts/main.py"],
        &[("scripts/main.py", python_source)],
    );
    for (dir, restricted, expected) in [(&lua_dir, true, 5), (&python_dir, false, 4)] {
        let events = run(dir.path(), restricted, 2);
        assert!(errors(&events).is_empty(), "{:?}", errors(&events));
        let lines = logs(&events);
        assert_eq!(lines.len(), expected, "{lines:?}");
        for line in &lines {
            let mut parts = line.split_whitespace();
            assert_eq!(
                parts.next().map(str::to_lowercase).as_deref(),
                Some("false"),
                "every call is refused: {line}"
            );
            let len: usize = parts.next().unwrap().parse().unwrap();
            assert!(len < 400, "a message of {len} bytes");
        }
    }
}
