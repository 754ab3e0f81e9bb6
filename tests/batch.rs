//! Batch systems (`ecs.batch_system`): the same workload gives the same
//! world as per-entity systems in both languages, both when the columns are
//! handed over in place (one storage table of built-in components) and when
//! they are gathered (several tables, script components); views refuse use
//! after their system returned, and bad input is a clear error.

use ecscope::project::Project;
mod common;

use common::{errors, logs};
use ecscope::runtime::{Runtime, RuntimeEvent};

const FRAMES: usize = 40;

/// Runs a one-script project for `frames` frames: its world dump (the
/// entities only) and every event.
fn run(file: &str, source: &str, frames: usize) -> (serde_json::Value, Vec<RuntimeEvent>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("scripts")).unwrap();
    std::fs::write(
        dir.path().join("ecscope.toml"),
        format!("[project]\nname = \"batch\"\n[[script]]\npath = \"scripts/{file}\"\n"),
    )
    .unwrap();
    std::fs::write(dir.path().join("scripts").join(file), source).unwrap();
    let mut runtime = Runtime::open(Project::open(dir.path()).unwrap());
    let mut events = runtime.drain_events();
    for _ in 0..frames {
        runtime.step();
        events.extend(runtime.drain_events());
    }
    let dump: serde_json::Value = serde_json::from_str(&runtime.dump_world()).unwrap();
    (dump["entities"].clone(), events)
}

/// Spawns movers; with `mixed`, every third also has a script component
/// (a second storage table, and a component the runtime copies), and an
/// entity is despawned and another spawned part-way.
fn lua_setup(mixed: bool) -> String {
    format!(
        r#"
local MIXED = {mixed}
ecs.component("Spin", {{ angle = 0, rate = 1, label = "s" }})
for i = 1, 60 do
  local c = {{ Position = {{ x = i, y = -i }}, Velocity = {{ x = i % 7 - 3, y = 0.5 * (i % 5) }} }}
  if MIXED and i % 3 == 0 then c.Spin = {{ rate = i / 10 }} end
  ecs.spawn(c)
end
ecs.system("churn", function()
  if MIXED and ecs.frame() == 5 then
    ecs.despawn(4)
    ecs.spawn({{ Position = {{ x = 0, y = 0 }}, Velocity = {{ x = 1, y = 1 }}, Spin = {{}} }})
  end
end)
"#
    )
}

const LUA_ENTITY: &str = r#"
ecs.system("move", { "Position", "Velocity" }, function(id, p, v, dt)
  p.x = p.x + v.x * dt
  p.y = p.y + v.y * dt
  v.x = v.x * 0.99
end)
ecs.system("spin", { "Spin" }, function(id, s, dt)
  s.angle = s.angle + s.rate * dt
end)
"#;

const LUA_BATCH: &str = r#"
ecs.batch_system("move", { "Position", "Velocity" }, function(view, dt)
  local px, py, vx, vy = view.Position.x, view.Position.y, view.Velocity.x, view.Velocity.y
  for i = 0, view.n - 1 do
    px[i] = px[i] + vx[i] * dt
    py[i] = py[i] + vy[i] * dt
    vx[i] = vx[i] * 0.99
  end
end)
ecs.batch_system("spin", { "Spin" }, function(view, dt)
  local angle, rate = view.Spin.angle, view.Spin.rate
  for i = 0, #angle - 1 do angle[i] = angle[i] + rate[i] * dt end
end)
"#;

fn py_setup(mixed: bool) -> String {
    format!(
        r#"import ecs
MIXED = {}
ecs.component("Spin", {{"angle": 0, "rate": 1, "label": "s"}})
for i in range(1, 61):
    c = {{"Position": {{"x": i, "y": -i}}, "Velocity": {{"x": i % 7 - 3, "y": 0.5 * (i % 5)}}}}
    if MIXED and i % 3 == 0:
        c["Spin"] = {{"rate": i / 10}}
    ecs.spawn(c)

@ecs.system("churn")
def churn(dt):
    if MIXED and ecs.frame() == 5:
        ecs.despawn(4)
        ecs.spawn({{"Position": {{"x": 0, "y": 0}}, "Velocity": {{"x": 1, "y": 1}}, "Spin": {{}}}})
"#,
        if mixed { "True" } else { "False" }
    )
}

const PY_ENTITY: &str = r#"
@ecs.system("move", ["Position", "Velocity"])
def move(id, p, v, dt):
    p.x = p.x + v.x * dt
    p.y = p.y + v.y * dt
    v.x = v.x * 0.99

@ecs.system("spin", ["Spin"])
def spin(id, s, dt):
    s.angle = s.angle + s.rate * dt
"#;

const PY_BATCH: &str = r#"
@ecs.batch_system("move", ["Position", "Velocity"])
def move(view, dt):
    px, py, vx, vy = view.Position.x, view.Position.y, view.Velocity.x, view.Velocity.y
    for i in range(view.n):
        px[i] = px[i] + vx[i] * dt
        py[i] = py[i] + vy[i] * dt
        vx[i] = vx[i] * 0.99

@ecs.batch_system("spin", ["Spin"])
def spin(view, dt):
    angle, rate = view.Spin.angle, view.Spin.rate
    for i in range(len(angle)):
        angle[i] = angle[i] + rate[i] * dt
"#;

const PY_NUMPY: &str = r#"
import numpy as np

@ecs.batch_system("move", ["Position", "Velocity"])
def move(view, dt):
    px, py = np.asarray(view.Position.x), np.asarray(view.Position.y)
    vx, vy = np.asarray(view.Velocity.x), np.asarray(view.Velocity.y)
    px += vx * dt
    py += vy * dt
    vx *= 0.99

@ecs.batch_system("spin", ["Spin"])
def spin(view, dt):
    angle = np.asarray(view.Spin.angle)
    angle += np.asarray(view.Spin.rate) * dt
"#;

fn assert_same_world(mixed: bool) {
    let (lua_entity, events) = run("main.lua", &(lua_setup(mixed) + LUA_ENTITY), FRAMES);
    assert_eq!(errors(&events), Vec::<String>::new());
    let moved = lua_entity.as_array().unwrap().len();
    assert!(moved >= 60, "{lua_entity}");

    let mut variants = vec![
        (
            "lua batch",
            run("main.lua", &(lua_setup(mixed) + LUA_BATCH), FRAMES),
        ),
        (
            "python per entity",
            run("main.py", &(py_setup(mixed) + PY_ENTITY), FRAMES),
        ),
        (
            "python batch",
            run("main.py", &(py_setup(mixed) + PY_BATCH), FRAMES),
        ),
    ];
    if ecscope::bench::numpy_available() {
        variants.push((
            "python numpy",
            run("main.py", &(py_setup(mixed) + PY_NUMPY), FRAMES),
        ));
    }
    for (name, (world, events)) in variants {
        assert_eq!(errors(&events), Vec::<String>::new(), "{name}");
        assert_eq!(
            world, lua_entity,
            "{name} differs from Lua per entity (mixed: {mixed})"
        );
    }
}

#[test]
fn batch_equals_per_entity_in_one_table() {
    assert_same_world(false);
}

#[test]
fn batch_equals_per_entity_across_tables_and_script_components() {
    assert_same_world(true);
}

#[test]
fn lua_views_report_misuse_clearly() {
    let source = lua_setup(true)
        + r#"
local kept
local function try(f) local ok, e = pcall(f) print(e) end
ecs.batch_system("misuse", { "Spin" }, function(view, dt)
  kept = view.Spin.angle
  local f = ecs.frame()
  if f == 0 then try(function() return view.Spin.label end) end
  if f == 1 then try(function() view.Spin.angle[view.n] = 1 end) end
  if f == 2 then try(function() view.ids[0] = 1 end) end
  if f == 3 then try(function() return view.Position end) end
  if f == 4 then try(function() view.Spin.angle[0] = "fast" end) end
  if f == 5 then try(function() view.Spin.angle = {} end) end
end)
ecs.system("later", function()
  if ecs.frame() == 6 then try(function() return kept[0] end) end
end)
"#;
    let (_, events) = run("main.lua", &source, 8);
    assert_eq!(errors(&events), Vec::<String>::new());
    let logs = logs(&events);
    let expected = [
        "view.Spin.label is a string: batch views hold numeric fields only",
        "view.Spin.angle[20]: index out of range (view.n = 20, indices 0 to 19)",
        "view.ids is read-only",
        "view.Position: not a component of this batch system (it has Spin)",
        "view.Spin.angle[0] = string: batch arrays hold numbers only",
        "view.Spin.angle cannot be replaced",
        "view.Spin.angle was used after its batch system returned; a view is valid only during the call",
    ];
    assert_eq!(logs.len(), expected.len(), "{logs:#?}");
    for (log, expected) in logs.iter().zip(expected) {
        assert!(log.contains(expected), "{log:?} should say {expected:?}");
        assert!(log.contains("scripts/main.lua:"), "{log:?} names the line");
    }
}

#[test]
fn python_views_report_misuse_clearly() {
    let source = py_setup(true)
        + r#"
kept = {}

def attempt(f):
    try:
        f()
    except Exception as e:
        print(type(e).__name__, e)

@ecs.batch_system("misuse", ["Spin"])
def misuse(view, dt):
    kept["angle"] = view.Spin.angle
    f = ecs.frame()
    if f == 0: attempt(lambda: view.Spin.label)
    if f == 1: attempt(lambda: view.Spin.angle.__setitem__(view.n, 1))
    if f == 2: attempt(lambda: view.ids.__setitem__(0, 1))
    if f == 3: attempt(lambda: view.Position)
    if f == 4: attempt(lambda: view.Spin.angle.__setitem__(0, "fast"))
    if f == 5: attempt(lambda: view.Spin.angle.__delitem__(0))

@ecs.system("later")
def later(dt):
    if ecs.frame() == 6:
        attempt(lambda: kept["angle"][0])
"#;
    let (_, events) = run("main.py", &source, 8);
    assert_eq!(errors(&events), Vec::<String>::new());
    let logs = logs(&events);
    let expected = [
        "AttributeError view.Spin.label is a string: batch views hold numeric fields only",
        "IndexError view.Spin.angle[20]: index out of range (view.n = 20)",
        "TypeError view.ids is read-only",
        "AttributeError view.Position: not a component of this batch system (it has Spin)",
        "TypeError view.Spin.angle[0] = str: batch arrays hold numbers only",
        "TypeError view.Spin.angle: batch arrays have a fixed size (view.n)",
        "RuntimeError view.Spin.angle was used after its batch system returned; a view is valid only during the call",
    ];
    assert_eq!(logs.len(), expected.len(), "{logs:#?}");
    for (log, expected) in logs.iter().zip(expected) {
        assert!(log.contains(expected), "{log:?} should say {expected:?}");
    }
}

#[test]
fn numpy_arrays_are_views_and_cannot_resize_or_outlive_their_data() {
    if !ecscope::bench::numpy_available() {
        eprintln!("skipped: numpy is not installed");
        return;
    }
    let source = py_setup(false)
        + r#"
import numpy as np
kept = {}

@ecs.batch_system("look", ["Position"])
def look(view, dt):
    x = np.asarray(view.Position.x)
    if ecs.frame() == 0:
        print("shares", not x.flags["OWNDATA"], x.dtype, len(x) == view.n)
        try:
            x.resize(1000)
        except ValueError as e:
            print("resize", e)
        kept["x"] = x
        x[0] = 1000.0

@ecs.system("later")
def later(dt):
    if ecs.frame() == 1:
        # The kept numpy array still holds frame 0's values; writing to it
        # no longer reaches the world.
        kept["x"][0] = -5.0
        print("kept", kept["x"][0], ecs.get(1, "Position")["x"])
"#;
    let (_, events) = run("main.py", &source, 3);
    assert_eq!(errors(&events), Vec::<String>::new());
    let logs = logs(&events);
    assert!(logs[0].starts_with("shares True float64 True"), "{logs:?}");
    assert!(logs[1].starts_with("resize "), "{logs:?}");
    assert_eq!(logs[2], "kept -5.0 1000.0", "{logs:?}");
}

#[test]
fn an_uncaught_batch_error_names_the_line_and_stops_only_that_system() {
    let source = lua_setup(false)
        + r#"
ecs.batch_system("bad", { "Position" }, function(view, dt)
  view.Position.x[view.n + 5] = 0
end)
ecs.system("alive", function() if ecs.frame() == 3 then print("still running") end end)
"#;
    let (_, events) = run("main.lua", &source, 5);
    let errors = errors(&events);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("scripts/main.lua:17: ") && errors[0].contains("index out of range"),
        "{errors:?}"
    );
    assert_eq!(logs(&events), vec!["still running".to_string()]);
}

#[test]
fn scripts_cannot_reach_the_storage_behind_arrays_or_live_components() {
    let source = r#"
ecs.component("Weapon", { id = 7, gen = 2, p = 3, n = 4 })
ecs.spawn({ Weapon = {}, Position = { x = 1, y = 2 } })
local function try(f) local ok, e = pcall(f) print(ok, e) end
for id, w in ecs.query({ "Weapon" }) do
  -- Fields named like the runtime's own never collide with them.
  print(w.id, w.gen, w.p, w.n)
end
for id, pos in ecs.query({ "Position" }) do
  try(function() return pos.__ecscope_p[0] end)
  try(function() pos.__ecscope_gen = 0 end)
end
ecs.batch_system("b", { "Position" }, function(view)
  local x = view.Position.x
  try(function() x.n = 1000 end)
  try(function() return x.p[0] end)
  try(function() return x.p + 8 end)
  try(function() x.gen = 0 end)
end)
"#;
    let (_, events) = run("main.lua", source, 1);
    assert_eq!(errors(&events), Vec::<String>::new());
    let logs = logs(&events);
    assert_eq!(logs[0], "7\t2\t3\t4");
    assert_eq!(logs.len(), 7, "{logs:#?}");
    for log in &logs[1..] {
        assert!(log.starts_with("false\t"), "{log}");
        assert!(
            log.contains("constant location")
                || log.contains("size of C type is unknown")
                || log.contains("attempt to perform arithmetic"),
            "{log}"
        );
    }
}
