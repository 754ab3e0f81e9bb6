//! The profiler and the memory view through the runtime API: scope names
//! in both languages, statistics, saving and reading `.puffin` files, and
//! bounded behaviour with too many scopes.

use std::collections::BTreeSet;

use ecscope::profiling::CallKind;
use ecscope::profiling::profiler::{MAX_SCOPES_PER_FRAME, read_profile, write_profile};
use ecscope::project::Project;
use ecscope::runtime::{EventKind, Runtime, RuntimeCommand};
use puffin::{FrameView, Reader, Stream};

/// A project of `files` (name, text) in a temporary folder, scripts in
/// manifest order.
fn project(files: &[(&str, &str)]) -> (tempfile::TempDir, Runtime) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("scripts")).unwrap();
    let mut manifest = String::from("[project]\nname = \"p\"\n");
    for (file, text) in files {
        manifest.push_str(&format!("[[script]]\npath = \"scripts/{file}\"\n"));
        std::fs::write(dir.path().join("scripts").join(file), text).unwrap();
    }
    std::fs::write(dir.path().join("ecscope.toml"), manifest).unwrap();
    let runtime = Runtime::open(Project::open(dir.path()).unwrap());
    assert_eq!(runtime.error_count(), 0);
    (dir, runtime)
}

fn collect(stream: &Stream, offset: u64, out: &mut Vec<puffin::ScopeId>) {
    let scopes = Reader::with_offset(stream, offset)
        .unwrap()
        .read_top_scopes()
        .unwrap();
    for scope in scopes {
        out.push(scope.id);
        collect(stream, scope.child_begin_position, out);
    }
}

/// The names of the scopes recorded in the frames (not just registered).
fn recorded_names(view: &FrameView) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for frame in view.recent_frames() {
        let frame = frame.unpacked().unwrap();
        for stream in frame.thread_streams.values() {
            let mut ids = Vec::new();
            collect(&stream.stream, 0, &mut ids);
            for id in ids {
                if let Some(details) = view.scope_collection().fetch_by_id(&id) {
                    names.insert(details.name().to_string());
                }
            }
        }
    }
    names
}

const LUA: &str = "\
ecs.component('Counter', { n = 0 })
ecs.spawn({ Counter = {} })
ecs.system('count', { 'Counter' }, function(id, c) c.n = c.n + 1 end)
ecs.system('ping', function() ecs.emit('ping', {}) end)
ecs.on('ping', function(e) end)
ecs.start('walker', function() while true do coroutine.yield() end end)
";

const PY: &str = "\
import ecs

@ecs.system('tally', ['Counter'])
def tally(id, c, dt):
    c.n += 1

@ecs.on('ping')
def pong(event):
    pass

def stroll():
    while True:
        yield

ecs.start('stroller', stroll)
";

#[test]
fn scopes_name_every_system_handler_and_coroutine_in_both_languages() {
    let mut files = vec![("main.lua", LUA)];
    if cfg!(feature = "python") {
        files.push(("helper.py", PY));
    }
    let (_dir, mut rt) = project(&files);
    for _ in 0..5 {
        rt.step();
    }
    let frames = rt.profile_frames();
    let names = recorded_names(&frames.lock().unwrap());
    let mut expected = vec![
        "frame",
        "events",
        "systems",
        "coroutines",
        "memory",
        "main.lua:count",
        "main.lua:ping",
        "main.lua:on ping",
        "main.lua:coroutine walker",
    ];
    if cfg!(feature = "python") {
        expected.extend([
            "helper.py:tally",
            "helper.py:on ping",
            "helper.py:coroutine stroller",
        ]);
    }
    for name in expected {
        assert!(names.contains(name), "{name} missing from {names:?}");
    }

    let table = rt.stats_table();
    let count = table
        .rows
        .iter()
        .find(|r| r.name == "count" && r.kind == Some(CallKind::System))
        .expect("a row for the count system");
    assert_eq!(count.calls, 5);
    assert_eq!(count.script, "scripts/main.lua");
    let handler = table
        .rows
        .iter()
        .find(|r| r.name == "on ping" && r.script == "scripts/main.lua");
    assert_eq!(
        handler.map(|r| r.calls),
        Some(4),
        "events reach handlers a frame later"
    );
    assert!(table.scripts.iter().any(|s| s.script == "scripts/main.lua"));
}

#[test]
fn the_statistics_rank_a_slow_system_first() {
    let (_dir, mut rt) = project(&[(
        "main.lua",
        "ecs.system('quick', function() end)\n\
         ecs.system('slow', function() local s = 0 for i = 1, 2000000 do s = s + i % 7 end end)\n\
         ecs.system('quick2', function() end)\n",
    )]);
    for _ in 0..10 {
        rt.step();
    }
    let table = rt.stats_table();
    assert_eq!(table.rows[0].name, "slow", "{:?}", table.rows);
    assert!(table.rows[0].share > 0.5, "{:?}", table.rows[0]);
    assert!(table.rows[0].p95_ms >= table.rows[0].mean_ms * 0.5);
    let summary = rt.stats_summary();
    assert_eq!(summary["frames"], 10);
    assert_eq!(summary["calls"][0]["name"], "slow");
}

#[test]
fn switched_off_the_profiler_records_nothing() {
    let (_dir, mut rt) = project(&[("main.lua", LUA)]);
    rt.apply(RuntimeCommand::SetProfiling(false)).unwrap();
    for _ in 0..5 {
        rt.step();
    }
    assert!(rt.profile_frames().lock().unwrap().is_empty());
    assert!(rt.stats_table().rows.is_empty());
    rt.apply(RuntimeCommand::SetProfiling(true)).unwrap();
    rt.step();
    assert!(!rt.profile_frames().lock().unwrap().is_empty());
}

#[test]
fn a_saved_profile_reads_back_with_puffins_own_reader() {
    let (dir, mut rt) = project(&[("main.lua", LUA)]);
    for _ in 0..20 {
        rt.step();
    }
    let path = dir.path().join("run.puffin");
    let frames = rt.profile_frames();
    write_profile(&frames.lock().unwrap(), &path).unwrap();

    let bytes = std::fs::read(&path).unwrap();
    let view = FrameView::read(&mut bytes.as_slice()).expect("puffin reads it");
    assert_eq!(view.recent_frames().count(), 20);
    assert!(recorded_names(&view).contains("main.lua:count"));

    let (ours, warning) = read_profile(&path).unwrap();
    assert!(warning.is_none());
    assert_eq!(ours.recent_frames().count(), 20);
}

#[test]
fn corrupt_truncated_and_foreign_profiles_are_clear_errors() {
    let (dir, mut rt) = project(&[("main.lua", LUA)]);
    for _ in 0..10 {
        rt.step();
    }
    let good = dir.path().join("good.puffin");
    write_profile(&rt.profile_frames().lock().unwrap(), &good).unwrap();
    let bytes = std::fs::read(&good).unwrap();

    // Cut in the middle of the last frame: the frames before it are kept.
    let cut = dir.path().join("cut.puffin");
    std::fs::write(&cut, &bytes[..bytes.len() - 10]).unwrap();
    let (view, warning) = read_profile(&cut).unwrap();
    assert_eq!(view.recent_frames().count(), 9);
    assert!(warning.unwrap().contains("cut short"));

    for (name, content, expected) in [
        ("empty.puffin", Vec::new(), "not a .puffin profile"),
        (
            "text.puffin",
            b"hello world".to_vec(),
            "not a .puffin profile",
        ),
        ("header.puffin", b"PUF0".to_vec(), "no readable frames"),
        // A frame header that claims 4 GB of data.
        (
            "huge.puffin",
            [b"PUF0PFD4".as_slice(), &[0xff; 16]].concat(),
            "no readable frames",
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        let err = read_profile(&path)
            .err()
            .unwrap_or_else(|| panic!("{name} read"));
        assert!(
            err.contains(name) && err.contains(expected),
            "{name}: {err}"
        );
    }
    let err = read_profile(&dir.path().join("missing.puffin"))
        .err()
        .unwrap();
    assert!(err.contains("missing.puffin"), "{err}");
}

#[test]
fn ten_thousand_scopes_a_frame_are_capped_and_said_once() {
    let (_dir, mut rt) = project(&[(
        "main.lua",
        "for i = 1, 10000 do ecs.start('c', function() while true do coroutine.yield() end end) end\n",
    )]);
    for _ in 0..3 {
        rt.step();
    }
    let notices: Vec<String> = rt
        .drain_events()
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::Notice { message } => Some(message),
            _ => None,
        })
        .collect();
    assert_eq!(
        notices.iter().filter(|m| m.contains("scopes")).count(),
        1,
        "{notices:?}"
    );
    let frames = rt.profile_frames();
    let view = frames.lock().unwrap();
    for frame in view.recent_frames() {
        let scopes = frame.meta().num_scopes;
        assert!(
            scopes <= MAX_SCOPES_PER_FRAME as usize + 8,
            "{scopes} scopes"
        );
    }
    // The statistics still count every resume.
    let table = rt.stats_table();
    let resumes = table
        .rows
        .iter()
        .find(|r| r.kind == Some(CallKind::Coroutine))
        .unwrap();
    assert_eq!(resumes.calls, 30_000);
}

#[test]
fn memory_series_cover_each_lua_state_and_the_world() {
    let (_dir, mut rt) = project(&[("main.lua", LUA)]);
    for _ in 0..10 {
        rt.step();
    }
    let view = rt.memory_view();
    let names: Vec<&str> = view.series.iter().map(|s| s.name.as_str()).collect();
    for name in ["lua scripts/main.lua", "rust", "entities", "components"] {
        assert!(names.contains(&name), "{name} missing: {names:?}");
    }
    let lua = view
        .series
        .iter()
        .find(|s| s.name == "lua scripts/main.lua")
        .unwrap();
    assert_eq!(lua.samples.len(), 10);
    assert!(
        lua.current() > 10_000.0,
        "a Lua state holds more than 10 KB"
    );
    let entities = view.series.iter().find(|s| s.name == "entities").unwrap();
    assert_eq!(entities.current(), 1.0);
}
