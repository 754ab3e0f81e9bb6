//! Hot reload through the runtime API: state kept, lifecycle order,
//! dependency cascades, automatic and manual rollback, the version history,
//! and bursts of saves through the real file watcher.

use std::path::{Path, PathBuf};
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

mod common;

use common::notices;
use ecscope::hot_reload::history::VersionStatus;
use ecscope::hot_reload::watcher::ProjectWatcher;
use ecscope::project::Project;
use ecscope::runtime::{EventKind, Runtime, RuntimeCommand, RuntimeEvent};

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new(manifest_scripts: &[&str], files: &[(&str, &str)]) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let mut manifest = String::from("[project]\nname = \"reload\"\n");
        for script in manifest_scripts {
            manifest.push_str(&format!("[[script]]\npath = \"{script}\"\n"));
        }
        std::fs::create_dir_all(dir.path().join("scripts")).unwrap();
        std::fs::write(dir.path().join("ecscope.toml"), manifest).unwrap();
        let fixture = Fixture { dir };
        for (path, text) in files {
            fixture.write(path, text);
        }
        fixture
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, path: &str, text: &str) {
        let full: PathBuf = self.dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }

    fn open(&self) -> Runtime {
        Runtime::open(Project::open(self.root()).unwrap())
    }
}

fn logs(events: &[RuntimeEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Log { message, .. } => Some(message.replace('\t', " ")),
            _ => None,
        })
        .collect()
}

fn kinds(events: &[RuntimeEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Reloaded {
                script, version, ..
            } => Some(format!("reloaded {script} v{version}")),
            EventKind::RolledBack {
                script, version, ..
            } => Some(format!("rolled_back {script} v{version}")),
            EventKind::ScriptError(info) => Some(format!(
                "error {}:{} {}",
                info.script, info.line, info.context
            )),
            _ => None,
        })
        .collect()
}

fn counter(rt: &Runtime) -> i64 {
    rt.get(1, "Counter").unwrap().as_i64_field("n")
}

trait Field {
    fn as_i64_field(&self, name: &str) -> i64;
}

impl Field for ecscope::scripting::ScriptValue {
    fn as_i64_field(&self, name: &str) -> i64 {
        match self {
            ecscope::scripting::ScriptValue::Map(m) => m[name].as_i64().unwrap(),
            other => panic!("not a component: {other:?}"),
        }
    }
}

const LUA_V1: &str = "\
ecs.component('Counter', { n = 0 })
if not ecs.persist.id then ecs.persist.id = ecs.spawn({ Counter = {} }) end
ecs.persist.loads = (ecs.persist.loads or 0) + 1
print('top v1', ecs.persist.loads)
ecs.system('count', { 'Counter' }, function(id, c) c.n = c.n + 1 end)
function on_unload() print('unload v1') end
";

const LUA_V2: &str = "\
ecs.component('Counter', { n = 0 })
if not ecs.persist.id then ecs.persist.id = ecs.spawn({ Counter = {} }) end
ecs.persist.loads = (ecs.persist.loads or 0) + 1
print('top v2', ecs.persist.loads)
ecs.system('count', { 'Counter' }, function(id, c) c.n = c.n + 100 end)
function on_reload(persist) print('on_reload v2', persist.loads, persist.id) end
";

const PY_V1: &str = "\
import ecs
ecs.component('Counter', {'n': 0})
if 'id' not in ecs.persist:
    ecs.persist['id'] = ecs.spawn({'Counter': {}})
ecs.persist['loads'] = ecs.persist.get('loads', 0) + 1
print('top v1', ecs.persist['loads'])
@ecs.system('count', ['Counter'])
def count(id, c, dt):
    c.n += 1
def on_unload():
    print('unload v1')
";

const PY_V2: &str = "\
import ecs
ecs.component('Counter', {'n': 0})
if 'id' not in ecs.persist:
    ecs.persist['id'] = ecs.spawn({'Counter': {}})
ecs.persist['loads'] = ecs.persist.get('loads', 0) + 1
print('top v2', ecs.persist['loads'])
@ecs.system('count', ['Counter'])
def count(id, c, dt):
    c.n += 100
def on_reload(persist):
    print('on_reload v2', persist['loads'], persist['id'])
";

/// (script path, v1, v2) per language.
fn languages() -> Vec<(&'static str, &'static str, &'static str)> {
    let mut all = vec![("scripts/main.lua", LUA_V1, LUA_V2)];
    if cfg!(feature = "python") {
        all.push(("scripts/main.py", PY_V1, PY_V2));
    }
    all
}

#[test]
fn reload_keeps_persist_and_entities_in_lifecycle_order() {
    for (path, v1, v2) in languages() {
        let f = Fixture::new(&[path], &[(path, v1)]);
        let mut rt = f.open();
        rt.step();
        rt.step();
        assert_eq!(counter(&rt), 2, "{path}");
        rt.drain_events();
        f.write(path, v2);
        rt.apply(RuntimeCommand::ReloadScript {
            script: path.into(),
        })
        .unwrap();
        let events = rt.drain_events();
        assert_eq!(
            logs(&events),
            vec!["unload v1", "top v2 2", "on_reload v2 2 1"],
            "{path}: on_unload, then the new top level with the same persist, then on_reload"
        );
        assert_eq!(
            kinds(&events),
            vec![format!("reloaded {path} v2")],
            "{path}"
        );
        rt.step();
        assert_eq!(counter(&rt), 102, "{path}: the same entity, the new code");
        assert_eq!(
            rt.host().borrow().world.len(),
            1,
            "{path}: entities stay, none added"
        );
    }
}

#[test]
fn a_module_change_reloads_every_dependent_in_manifest_order() {
    let f = Fixture::new(
        &["scripts/a.lua", "scripts/b.lua", "scripts/c.lua"],
        &[
            ("scripts/util.lua", "return { k = 1 }"),
            (
                "scripts/a.lua",
                "local u = require('util')\nprint('a', u.k)",
            ),
            ("scripts/b.lua", "print('b')"),
            (
                "scripts/c.lua",
                "local u = require('util')\nprint('c', u.k)",
            ),
        ],
    );
    let mut rt = f.open();
    rt.drain_events();
    f.write("scripts/util.lua", "return { k = 2 }");
    rt.file_changed(&ecscope::hot_reload::watcher::FileChange {
        path: "scripts/util.lua".into(),
        first_seen: Instant::now(),
        settled: Instant::now(),
    });
    let events = rt.drain_events();
    assert_eq!(logs(&events), vec!["a 2", "c 2"]);
    assert_eq!(
        kinds(&events),
        vec!["reloaded scripts/a.lua v2", "reloaded scripts/c.lua v2"]
    );
}

#[cfg(feature = "python")]
#[test]
fn a_python_module_change_reloads_its_importers() {
    let f = Fixture::new(
        &["scripts/a.py"],
        &[
            ("scripts/helper.py", "K = 1\n"),
            ("scripts/a.py", "import helper\nprint('a', helper.K)\n"),
        ],
    );
    let mut rt = f.open();
    rt.drain_events();
    f.write("scripts/helper.py", "K = 2\n");
    rt.file_changed(&ecscope::hot_reload::watcher::FileChange {
        path: "scripts/helper.py".into(),
        first_seen: Instant::now(),
        settled: Instant::now(),
    });
    assert_eq!(logs(&rt.drain_events()), vec!["a 2"]);
}

#[test]
fn broken_versions_roll_back_and_the_old_version_goes_on() {
    for (path, v1, _) in languages() {
        let lua = path.ends_with(".lua");
        let broken = [
            // Does not compile.
            if lua {
                "ecs.system('count', {'Counter'}, function(id, c)\n  c.n = = 1\nend)"
            } else {
                "import ecs\ndef f(:\n    pass\n"
            },
            // Fails at load.
            if lua {
                "error('refusing to load')"
            } else {
                "raise RuntimeError('refusing to load')\n"
            },
            // Raises during its first frame.
            if lua {
                "ecs.component('Counter', { n = 0 })\necs.system('count', { 'Counter' }, function(id, c) error('first frame') end)"
            } else {
                "import ecs\necs.component('Counter', {'n': 0})\n@ecs.system('count', ['Counter'])\ndef count(id, c, dt):\n    raise ValueError('first frame')\n"
            },
        ];
        let f = Fixture::new(&[path], &[(path, v1)]);
        let mut rt = f.open();
        rt.step();
        assert_eq!(counter(&rt), 1);
        for (i, text) in broken.iter().enumerate() {
            f.write(path, text);
            rt.apply(RuntimeCommand::ReloadScript {
                script: path.into(),
            })
            .unwrap();
            rt.step();
            let events = rt.drain_events();
            let k = kinds(&events);
            assert!(
                k.iter().any(|e| e == &format!("rolled_back {path} v1")),
                "{path} case {i}: {k:?}"
            );
            // The old version's system still counts by one.
            let before = counter(&rt);
            rt.step();
            assert_eq!(counter(&rt), before + 1, "{path} case {i}: v1 runs on");
        }
        let history = rt.history(path);
        let statuses: Vec<VersionStatus> = history.iter().map(|v| v.status).collect();
        assert_eq!(
            statuses,
            vec![
                VersionStatus::Loaded,
                VersionStatus::Failed,
                VersionStatus::Failed,
                VersionStatus::RolledBack
            ],
            "{path}"
        );
        assert!(
            history[1].error.as_ref().unwrap().contains(":2:")
                || history[1].error.as_ref().unwrap().contains(":1:"),
            "{path}: {:?}",
            history[1].error
        );
        assert!(
            history[3].error.as_ref().unwrap().contains("first frame"),
            "{path}: {:?}",
            history[3].error
        );
    }
}

#[test]
fn manual_rollback_restores_the_text_and_reloads_it() {
    for (path, v1, v2) in languages() {
        let f = Fixture::new(&[path], &[(path, v1)]);
        let mut rt = f.open();
        f.write(path, v2);
        rt.apply(RuntimeCommand::ReloadScript {
            script: path.into(),
        })
        .unwrap();
        rt.step();
        assert_eq!(counter(&rt), 100, "{path}");
        rt.drain_events();
        rt.apply(RuntimeCommand::RollbackScript {
            script: path.into(),
            version: 1,
        })
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(f.root().join(path)).unwrap(),
            v1,
            "{path}: the file holds v1 again"
        );
        let events = rt.drain_events();
        assert_eq!(
            kinds(&events),
            vec![
                format!("reloaded {path} v3"),
                format!("rolled_back {path} v3")
            ],
            "{path}"
        );
        rt.step();
        assert_eq!(counter(&rt), 101, "{path}: v1's code runs");
        let history = rt.history(path);
        assert_eq!(history[2].origin, "rollback to v1");
        assert_eq!(history[2].hash, history[0].hash);
    }
}

#[test]
fn history_survives_a_restart() {
    let path = "scripts/main.lua";
    let f = Fixture::new(&[path], &[(path, LUA_V1)]);
    {
        let mut rt = f.open();
        f.write(path, LUA_V2);
        rt.apply(RuntimeCommand::ReloadScript {
            script: path.into(),
        })
        .unwrap();
        rt.step();
    }
    let mut rt = f.open();
    assert_eq!(
        rt.running_versions(),
        vec![(path.to_string(), 2)],
        "same text as v2: no new version"
    );
    assert_eq!(rt.history(path).len(), 2);
    assert_eq!(rt.version_text(path, 1).as_deref(), Some(LUA_V1));
    f.write(path, "print('v3')");
    drop(rt);
    let rt = f.open();
    assert_eq!(
        rt.running_versions(),
        vec![(path.to_string(), 3)],
        "changed while closed: a new version"
    );
}

#[test]
fn a_burst_of_saves_ends_with_the_last_version_and_a_consistent_history() {
    let path = "scripts/main.lua";
    let f = Fixture::new(&[path], &[(path, "ecs.persist.v = 0\n")]);
    let mut rt = f.open();
    let (tx, rx) = channel();
    let _watcher = ProjectWatcher::start(f.root(), move |change| {
        let _ = tx.send(change);
    })
    .unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let started = Instant::now();
    for i in 1..=100 {
        f.write(path, &format!("ecs.persist.v = {i}\nprint('v', {i})\n"));
        std::thread::sleep(Duration::from_millis(10));
    }
    let wanted = "ecs.persist.v = 100\nprint('v', 100)\n";
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last_log = String::new();
    while Instant::now() < deadline {
        while let Ok(change) = rx.try_recv() {
            rt.file_changed(&change);
        }
        rt.step();
        for line in logs(&rt.drain_events()) {
            last_log = line;
        }
        if last_log == "v 100" {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(
        last_log,
        "v 100",
        "the last save runs ({:?})",
        started.elapsed()
    );
    let history = rt.history(path);
    assert!(
        history.len() >= 2 && history.len() <= 101,
        "{}",
        history.len()
    );
    for (i, v) in history.iter().enumerate() {
        assert_eq!(v.version as usize, i + 1, "numbers are consecutive");
        let text = rt.version_text(path, v.version).unwrap();
        assert_eq!(ecscope::hot_reload::history::hash_text(&text), v.hash);
        assert_eq!(v.status, VersionStatus::Loaded, "{text}");
    }
    assert_eq!(
        rt.version_text(path, history.last().unwrap().version)
            .unwrap(),
        wanted
    );
}

fn saved(path: &str) -> ecscope::hot_reload::watcher::FileChange {
    let now = Instant::now();
    ecscope::hot_reload::watcher::FileChange {
        path: path.into(),
        first_seen: now,
        settled: now,
    }
}

#[test]
fn deleted_binary_and_half_written_saves_never_stop_the_running_version() {
    for (path, v1, v2) in languages() {
        let f = Fixture::new(&[path], &[(path, v1)]);
        let mut rt = f.open();
        rt.step();
        let runs_v1 = |rt: &mut Runtime, case: &str| {
            let before = counter(rt);
            rt.step();
            assert_eq!(counter(rt), before + 1, "{path}, {case}: v1 runs on");
        };

        // Deleted (or renamed away) while watched.
        std::fs::remove_file(f.root().join(path)).unwrap();
        rt.file_changed(&saved(path));
        let n = notices(&rt.drain_events());
        assert!(
            n.iter()
                .any(|m| m.contains(path) && m.contains("cannot read")),
            "{path}: {n:?}"
        );
        runs_v1(&mut rt, "deleted");

        // A binary file saved over the script.
        std::fs::write(f.root().join(path), [0u8, 159, 146, 150, 0xff, 0xfe, 7]).unwrap();
        rt.file_changed(&saved(path));
        let k = kinds(&rt.drain_events());
        assert!(
            k.iter().any(|e| e.starts_with(&format!("error {path}:"))),
            "{path}: {k:?}"
        );
        assert!(
            k.contains(&format!("rolled_back {path} v1")),
            "{path}: {k:?}"
        );
        runs_v1(&mut rt, "binary");

        // Half of v2, as a slow writer leaves it for a moment.
        let half = &v2[..v2.len() / 2];
        f.write(path, half);
        rt.file_changed(&saved(path));
        rt.step();
        rt.drain_events();
        runs_v1(&mut rt, "half written");

        // ...then the rest: v2 runs.
        f.write(path, v2);
        rt.file_changed(&saved(path));
        let before = counter(&rt);
        rt.step();
        assert_eq!(counter(&rt), before + 100, "{path}: the whole save runs");

        let statuses: Vec<VersionStatus> = rt.history(path).iter().map(|v| v.status).collect();
        assert_eq!(
            statuses.len(),
            4,
            "{path}: v1, binary, half, v2 ({statuses:?})"
        );
        assert_eq!(statuses[0], VersionStatus::Loaded);
        assert_eq!(statuses[1], VersionStatus::Failed, "{path}: binary");
        assert_ne!(statuses[2], VersionStatus::Loaded, "{path}: half written");
        assert_eq!(statuses[3], VersionStatus::Loaded);
        assert_eq!(rt.version_text(path, 4).as_deref(), Some(v2));
    }
}

#[test]
fn a_broken_manifest_change_is_reported_and_changes_nothing() {
    let path = "scripts/main.lua";
    let f = Fixture::new(
        &[path],
        &[
            (path, LUA_V1),
            ("scripts/extra.lua", "print('extra loaded')\n"),
        ],
    );
    let mut rt = f.open();
    rt.step();
    rt.drain_events();
    let good = std::fs::read_to_string(f.root().join("ecscope.toml")).unwrap();
    f.write("ecscope.toml", &format!("{good}[[script]]\npath = \n"));
    rt.file_changed(&saved("ecscope.toml"));
    let n = notices(&rt.drain_events());
    assert!(
        n.iter().any(|m| m.contains("ecscope.toml:6:")),
        "names the file and line: {n:?}"
    );
    let before = counter(&rt);
    rt.step();
    assert_eq!(counter(&rt), before + 1, "the project goes on");

    // Fixed: the added script loads.
    f.write(
        "ecscope.toml",
        &format!("{good}[[script]]\npath = \"scripts/extra.lua\"\n"),
    );
    rt.file_changed(&saved("ecscope.toml"));
    assert!(logs(&rt.drain_events()).contains(&"extra loaded".to_string()));
}

#[test]
fn a_corrupt_history_is_kept_aside_and_reloads_go_on() {
    let path = "scripts/main.lua";
    let f = Fixture::new(&[path], &[(path, LUA_V1)]);
    drop(f.open());
    let index = f
        .root()
        .join(".ecscope/history/scripts__main.lua/index.json");
    assert!(index.is_file());
    std::fs::write(&index, b"\x00garbage{").unwrap();
    let mut rt = f.open();
    let n = notices(&rt.drain_events());
    assert!(n.iter().any(|m| m.contains("unreadable")), "{n:?}");
    f.write(path, LUA_V2);
    rt.file_changed(&saved(path));
    rt.step();
    assert!(counter(&rt) >= 100, "v2 runs");
    let kept = std::fs::read_dir(f.root().join(".ecscope/history"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("corrupt")
        })
        .count();
    assert_eq!(kept, 1, "the damaged history is kept, not deleted");
}

#[test]
fn persist_keeps_data_and_drops_the_rest_with_a_notice_in_both_languages() {
    let cases = [
        (
            "scripts/p.lua",
            "ecs.persist.n = 3\necs.persist.list = { 1, 2 }\necs.persist.map = { a = 'x' }\necs.persist.f = function() end\n",
            "ecs.persist.f = nil\nprint(ecs.persist.n, #ecs.persist.list, ecs.persist.map.a, tostring(ecs.persist.f))\n",
            "persist.f",
        ),
        (
            "scripts/p.py",
            "import ecs\nclass Thing:\n    pass\necs.persist['n'] = 3\necs.persist['list'] = [1, 2]\necs.persist['map'] = {'a': 'x'}\necs.persist['f'] = Thing()\n",
            "import ecs\nprint(ecs.persist['n'], len(ecs.persist['list']), ecs.persist['map']['a'], ecs.persist.get('f'))\n",
            "persist[\"f\"]",
        ),
    ];
    for (path, v1, v2, dropped) in cases {
        let f = Fixture::new(&[path], &[(path, v1)]);
        let mut rt = f.open();
        rt.step();
        rt.drain_events();
        f.write(path, v2);
        rt.apply(RuntimeCommand::ReloadScript {
            script: path.into(),
        })
        .unwrap();
        let events = rt.drain_events();
        let printed = logs(&events);
        assert!(
            printed == vec!["3 2 x nil"] || printed == vec!["3 2 x None"],
            "{path}: data kept: {printed:?}"
        );
        let notices = common::notices(&events);
        assert!(
            notices.iter().any(
                |n| n.contains("ecs.persist entry not kept across the reload")
                    && n.contains(dropped)
            ),
            "{path}: {notices:?}"
        );
    }
}
