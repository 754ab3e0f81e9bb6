//! Systems in parallel (SCRIPT_API §5): which systems run together, and
//! that a run gives the same world and event stream whatever the thread
//! count.

mod common;

use std::path::Path;

use ecscope::project::Project;
use ecscope::runtime::Runtime;
use ecscope::runtime::parallel::{Alone, group_len, joins};

/// A project of these scripts, with `manifest_extra` appended to its
/// manifest.
fn project(scripts: &[(&str, &str)], manifest_extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("scripts")).unwrap();
    let mut manifest = String::from("[project]\nname = \"parallel\"\n");
    for (file, source) in scripts {
        manifest.push_str(&format!("[[script]]\npath = \"scripts/{file}\"\n"));
        std::fs::write(dir.path().join("scripts").join(file), source).unwrap();
    }
    manifest.push_str(manifest_extra);
    std::fs::write(dir.path().join("ecscope.toml"), manifest).unwrap();
    dir
}

/// What a run of `frames` frames on `threads` threads gives: the world
/// dump, the event stream as JSON lines (measured times left out), and
/// how many groups ran on the workers.
fn run(dir: &Path, threads: u32, frames: u64) -> (String, Vec<String>, u64) {
    let mut project = Project::open(dir).unwrap_or_else(|e| panic!("{e}"));
    project.manifest.runtime.threads = Some(threads);
    let mut runtime = Runtime::open(project);
    let mut events = runtime.drain_events();
    for _ in 0..frames {
        runtime.step();
        events.extend(runtime.drain_events());
    }
    let lines = events
        .iter()
        .map(|e| {
            let mut value = serde_json::to_value(e).unwrap();
            if let Some(map) = value.as_object_mut() {
                map.retain(|k, _| !k.ends_with("_ms"));
            }
            value.to_string()
        })
        .collect();
    (runtime.dump_world(), lines, runtime.groups_on_workers())
}

/// A Lua script whose one system works on its own component: heavy work,
/// random numbers, spawns, despawns, events and log lines.
fn worker(n: usize, work: usize) -> String {
    format!(
        r#"ecs.component("Cell{n}", {{ v = 0, born = 0 }})
for k = 1, 3 do ecs.spawn({{ Cell{n} = {{ v = k }} }}) end
ecs.system("work", {{ "Cell{n}" }}, function(id, cell, dt)
  local s = 0
  for i = 1, {work} do s = s + math.sin(i * cell.v) end
  cell.v = cell.v + s * 1e-9 + ecs.random()
  if ecs.frame() % 7 == {n} % 7 and cell.born == 0 then
    local child = ecs.spawn({{ Cell{n} = {{ v = ecs.random_range(0, 1), born = ecs.frame() }} }})
    ecs.log("script {n} spawned", child, "at frame", ecs.frame())
    ecs.emit("born", {{ by = {n}, id = child }})
  end
  if cell.born > 0 and ecs.frame() - cell.born > 20 then ecs.despawn(id) end
end, {{ writes = {{}} }})
"#
    )
}

/// A Python script doing the same on its own component.
const PYTHON_WORKER: &str = r#"import ecs

ecs.component("PyCell", {"v": 0.0, "born": 0})
for k in range(3):
    ecs.spawn({"PyCell": {"v": float(k)}})

@ecs.system("work", ["PyCell"], writes=[])
def work(id, cell, dt):
    cell.v = cell.v + ecs.random()
    if ecs.frame() % 5 == 0 and cell.born == 0:
        child = ecs.spawn({"PyCell": {"v": ecs.random_range(0, 1), "born": ecs.frame()}})
        ecs.log("python spawned", child, "at frame", ecs.frame())
        ecs.emit("born", {"by": "python", "id": child})

@ecs.on("born")
def born(payload):
    ecs.log("born", payload["id"])
"#;

fn scripts(work: usize) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = (0..4)
        .map(|n| (format!("w{n}.lua"), worker(n, work * (4 - n))))
        .collect();
    all.insert(2, ("py.py".into(), PYTHON_WORKER.into()));
    all
}

#[test]
fn declared_systems_of_different_scripts_run_together_and_give_the_same_run_on_1_2_and_4_threads() {
    let owned = scripts(20_000);
    let files: Vec<(&str, &str)> = owned
        .iter()
        .map(|(f, s)| (f.as_str(), s.as_str()))
        .collect();
    let dir = project(&files, "");
    let (dump1, events1, groups1) = run(dir.path(), 1, 60);
    assert_eq!(groups1, 0, "one thread runs every group here");
    assert!(
        !events1.iter().any(|e| e.contains("script_error")),
        "{events1:#?}"
    );
    assert!(events1.iter().any(|e| e.contains("script 0 spawned")));
    assert!(events1.iter().any(|e| e.contains("python spawned")));
    for threads in [2, 4] {
        let (dump, events, groups) = run(dir.path(), threads, 60);
        assert!(groups > 0, "{threads} threads: no group ran on the workers");
        assert_eq!(
            events, events1,
            "{threads} threads: the event stream differs"
        );
        assert_eq!(dump, dump1, "{threads} threads: the world differs");
    }
}

#[test]
fn ids_follow_registration_order_when_a_later_system_spawns_first() {
    // The first script spawns only after long work; the second at once.
    // Registration order decides the ids, not which thread got there first.
    let slow = r#"ecs.component("A", { n = 0 })
ecs.spawn({ A = {} })
ecs.system("slow", function(dt)
  local s = 0
  for i = 1, 300000 do s = s + math.sqrt(i) end
  if ecs.frame() < 3 then ecs.log("slow spawned", ecs.spawn({ A = { n = s % 2 } })) end
end, { writes = { "A" } })
"#;
    let quick = r#"ecs.component("B", { n = 0 })
ecs.spawn({ B = {} })
ecs.system("quick", function(dt)
  if ecs.frame() < 3 then ecs.log("quick spawned", ecs.spawn({ B = {} })) end
end, { writes = { "B" } })
"#;
    let dir = project(&[("slow.lua", slow), ("quick.lua", quick)], "");
    let (dump1, events1, _) = run(dir.path(), 1, 4);
    let (dump2, events2, groups) = run(dir.path(), 2, 4);
    assert!(groups > 0);
    assert_eq!(events2, events1);
    assert_eq!(dump2, dump1);
    let logs: Vec<_> = events1.iter().filter(|e| e.contains("spawned")).collect();
    assert!(logs[0].contains("slow spawned 3"), "{logs:#?}");
    assert!(logs[1].contains("quick spawned 4"), "{logs:#?}");
}

#[test]
fn systems_that_conflict_share_a_script_or_declare_nothing_run_alone_and_say_why() {
    let a = r#"ecs.component("A", {})
ecs.component("Shared", {})
ecs.system("a", { "A" }, function(id, a, dt) end, { reads = { "Shared" } })
ecs.system("a2", { "A" }, function(id, a, dt) end, { writes = {} })
"#;
    let b = r#"ecs.component("B", {})
ecs.system("b", { "B" }, function(id, b, dt) end, { writes = { "Shared" } })
ecs.system("b2", function(dt) end)
"#;
    let c = r#"ecs.component("C", {})
ecs.system("c", { "C" }, function(id, c, dt) end, { reads = { "Shared" } })
"#;
    let dir = project(&[("a.lua", a), ("b.lua", b), ("c.lua", c)], "");
    let project = Project::open(dir.path()).unwrap();
    let runtime = Runtime::open(project);
    let host = runtime.host().borrow();
    let systems = host.systems();
    let names: Vec<_> = systems.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["a", "a2", "b", "b2", "c"]);
    // a2 is a's script's; b writes what a reads; b2 declares nothing.
    assert_eq!(joins(&systems[..1], &systems[1]), Err(Alone::SameScript));
    let shared = host.world.key("Shared").unwrap();
    assert_eq!(
        joins(&systems[..1], &systems[2]),
        Err(Alone::Conflict(shared))
    );
    assert_eq!(
        joins(&systems[2..3], &systems[3]),
        Err(Alone::DeclaresNothing)
    );
    assert_eq!(group_len(systems, 0), 1);
    // a2 and b touch nothing in common; b2 declares nothing.
    assert_eq!(group_len(systems, 1), 2);
    assert_eq!(group_len(systems, 3), 1);
    // c reads Shared as a does: reading together is no conflict.
    assert_eq!(joins(&systems[..1], &systems[4]), Ok(()));
}

#[test]
fn every_sample_and_contract_case_gives_the_same_run_on_1_2_and_4_threads() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(root.join("sample_projects")).unwrap() {
        let path = entry.unwrap().path();
        if path.join("ecscope.toml").is_file() {
            dirs.push(path);
        }
    }
    for case in std::fs::read_dir(root.join("tests/contract")).unwrap() {
        for language in ["lua", "python"] {
            let path = case.as_ref().unwrap().path().join(language);
            if path.join("ecscope.toml").is_file() {
                dirs.push(path);
            }
        }
    }
    dirs.sort();
    assert!(dirs.len() > 20, "{dirs:?}");
    for dir in dirs {
        let copy = common::copy_of_project(&dir);
        let frames = if dir.ends_with("stress") || dir.ends_with("stress_scripts") {
            5
        } else {
            40
        };
        let (dump1, events1, _) = run(copy.path(), 1, frames);
        for threads in [2, 4] {
            let (dump, events, _) = run(copy.path(), threads, frames);
            assert_eq!(events, events1, "{}: {threads} threads", dir.display());
            assert_eq!(dump, dump1, "{}: {threads} threads", dir.display());
        }
    }
}

#[test]
fn a_bad_thread_count_is_a_manifest_error_at_its_line_and_a_bad_flag_exits_2() {
    let lua = "ecs.log('hi')\n";
    for (value, says) in [
        ("0", "from 1 to 256, got 0"),
        ("-3", "from 1 to 256, got -3"),
        ("300", "from 1 to 256, got 300"),
        ("\"four\"", "threads"),
        ("2.5", "threads"),
    ] {
        let dir = project(
            &[("m.lua", lua)],
            &format!("[runtime]\nthreads = {value}\n"),
        );
        let err = Project::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("ecscope.toml:6"), "{value}: {err}");
        assert!(err.contains(says), "{value}: {err}");
    }
    let dir = project(&[("m.lua", lua)], "[runtime]\nthreads = 3\n");
    let project = Project::open(dir.path()).unwrap();
    assert_eq!(project.manifest.runtime.threads(), 3);
    for flag in ["0", "-1", "257", "two"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ecscope"))
            .args(["run", "--frames", "1", "--threads", flag])
            .arg(dir.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag}: {stderr}");
        assert!(stderr.contains("--threads"), "{flag}: {stderr}");
        assert!(stderr.contains("from 1 to 256"), "{flag}: {stderr}");
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ecscope"))
        .args(["run", "--frames", "2", "--threads", "2"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn systems_that_ran_on_workers_have_their_own_lanes_in_the_flame_graph() {
    let dir = project(
        &[("a.lua", &worker(0, 20_000)), ("b.lua", &worker(1, 20_000))],
        "",
    );
    let mut project = Project::open(dir.path()).unwrap();
    project.manifest.runtime.threads = Some(2);
    let mut runtime = Runtime::open(project);
    for _ in 0..5 {
        runtime.step();
    }
    assert_eq!(runtime.groups_on_workers(), 5);
    let frames = runtime.profile_frames();
    let lanes = ecscope::profiling::profiler::lanes(&frames.lock().unwrap());
    let workers: std::collections::BTreeSet<String> = lanes
        .iter()
        .filter(|(thread, _)| thread.starts_with("ecscope-worker-"))
        .flat_map(|(_, scopes)| scopes.iter().cloned())
        .collect();
    // Both systems show on the workers' lanes; the runtime's lane has the
    // frame.
    assert!(workers.contains("a.lua:work"), "{lanes:?}");
    assert!(workers.contains("b.lua:work"), "{lanes:?}");
    assert!(
        lanes.values().any(|scopes| scopes.contains("frame")),
        "{lanes:?}"
    );
}
