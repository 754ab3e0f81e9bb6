//! Suggestions that name the fix, through `ecscope run --suggest`: each
//! rule fires on a project with its problem, at the right system and line,
//! and every sample without the problem gets none.

mod common;

use std::path::Path;
use std::process::Command;

fn suggest(dir: &Path, frames: u32, extra: &[&str]) -> (String, std::process::Output) {
    let frames = frames.to_string();
    let mut args = vec![
        "run",
        dir.to_str().unwrap(),
        "--frames",
        &frames,
        "--suggest",
    ];
    args.extend_from_slice(extra);
    let output = Command::new(env!("CARGO_BIN_EXE_ecscope"))
        .args(&args)
        .output()
        .expect("ecscope runs");
    // Script logs share standard output: the suggestions are their lines.
    let lines: Vec<&str> = std::str::from_utf8(&output.stdout)
        .unwrap_or("")
        .lines()
        .filter(|l| l.starts_with("suggestion: ") || *l == "no suggestions")
        .collect();
    (lines.join("\n"), output)
}

#[test]
fn a_query_inside_a_loop_is_named_with_its_system_and_line_and_the_fix_silences_it() {
    let dir = common::copy_of_sample("profiling_hotspots");
    let (out, output) = suggest(dir.path(), 60, &[]);
    assert!(output.status.success(), "{output:?}");
    let line = out
        .lines()
        .find(|l| l.contains("system 'separate'"))
        .unwrap_or_else(|| panic!("no suggestion for separate: {out}"));
    assert!(
        line.starts_with("suggestion: scripts/avoidance.lua:67:"),
        "{line}"
    );
    assert!(
        line.contains("160400 entities per frame for 400 entities"),
        "{line}"
    );
    assert!(
        line.contains("see sample_projects/profiling_hotspots"),
        "{line}"
    );
    // The README's fix.
    let script = dir.path().join("scripts/avoidance.lua");
    let text = std::fs::read_to_string(&script).unwrap();
    std::fs::write(
        &script,
        text.replace("local FAST = false", "local FAST = true"),
    )
    .unwrap();
    let (out, _) = suggest(dir.path(), 60, &[]);
    assert_eq!(out.trim(), "no suggestions", "{out}");
}

#[test]
fn a_per_entity_python_system_over_many_entities_is_told_to_batch() {
    for (count, fires) in [(2000, true), (200, false)] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("scripts")).unwrap();
        std::fs::write(
            dir.path().join("ecscope.toml"),
            "[project]\nname = \"py\"\n[[script]]\npath = \"scripts/main.py\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("scripts/main.py"),
            format!(
                "import ecs\nfor i in range({count}):\n    ecs.spawn({{'Position': {{'x': i}}, 'Velocity': {{'x': 1}}}})\n\n@ecs.system('move', ['Position', 'Velocity'])\ndef move(id, pos, vel, dt):\n    pos.x += vel.x * dt\n"
            ),
        )
        .unwrap();
        let events = dir.path().join("events.jsonl");
        let (out, output) = suggest(dir.path(), 10, &["--events", events.to_str().unwrap()]);
        assert!(output.status.success(), "{output:?}");
        let suggestion = out.lines().find(|l| l.contains("system 'move'"));
        assert_eq!(suggestion.is_some(), fires, "{count} entities: {out}");
        if let Some(line) = suggestion {
            // Python counts a decorated function from its decorator.
            assert!(line.starts_with("suggestion: scripts/main.py:5:"), "{line}");
            assert!(line.contains("ecs.batch_system"), "{line}");
            assert!(line.contains("sample_projects/batch_performance"), "{line}");
            // And in the event stream, as data.
            let text = std::fs::read_to_string(&events).unwrap();
            let event: serde_json::Value = text
                .lines()
                .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
                .find(|e| e["kind"] == "suggestion")
                .expect("a suggestion event");
            assert_eq!(event["rule"], "python_per_entity");
            assert_eq!(event["line"], 5);
            assert_eq!(event["lesson"], "batch_performance");
        }
    }
}

#[test]
fn a_leak_is_named_with_what_grows_and_the_line_that_adds_to_it() {
    let dir = common::copy_of_sample("memory_leak");
    let events = dir.path().join("events.jsonl");
    // Flagged at frame 721; what grows is found four seconds later.
    let (out, _) = suggest(dir.path(), 1000, &["--events", events.to_str().unwrap()]);
    let line = out
        .lines()
        .find(|l| l.contains("scripts/trails.lua"))
        .unwrap_or_else(|| panic!("no leak suggestion: {out}"));
    // `trail[#trail + 1] = { x = pos.x, y = pos.y }`, in each firefly's list.
    assert!(
        line.starts_with("suggestion: scripts/trails.lua:15:"),
        "{line}"
    );
    assert!(line.contains("the 60 tables kept in `trails`"), "{line}");
    assert!(line.contains("sample_projects/memory_leak"), "{line}");
    let text = std::fs::read_to_string(&events).unwrap();
    let located: serde_json::Value = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|e| e["kind"] == "leak_located")
        .expect("a leak_located event");
    assert_eq!(located["script"], "scripts/trails.lua");
    assert_eq!(located["path"], "trails[*]");
    assert_eq!(located["container"], "table");
    assert_eq!(located["containers"], 60);
    assert_eq!(located["line"], 15);
    // 60 fireflies, one point each per frame, over one window.
    assert_eq!(located["growth"], 60 * 180);
}

#[test]
fn leaks_through_table_insert_and_in_python_are_found_to_the_line() {
    for (file, source, expected) in [
        (
            "main.lua",
            "local log = {}\ncache = {}\n\necs.system(\"remember\", function(dt)\n  for i = 1, 40 do\n    table.insert(log, { t = ecs.time(), i = i })\n  end\n  cache[\"f\" .. ecs.frame()] = { ecs.frame() }\nend)\n",
            ("scripts/main.lua:6:", "the table `log`"),
        ),
        (
            "main.py",
            "import ecs\n\nfor i in range(50):\n    ecs.spawn({\"Position\": {\"x\": float(i), \"y\": 0.0}})\n\nsettings = {\"speed\": 2.0}\nhistory = []\n\n\n@ecs.system(\"remember\")\ndef remember(dt):\n    for id, pos in ecs.query(\"Position\"):\n        history.append({\"id\": id, \"x\": pos[\"x\"], \"y\": pos[\"y\"]})\n",
            ("scripts/main.py:13:", "the list `history`"),
        ),
    ] {
        let dir = project(file, source, "");
        let (out, output) = suggest(dir.path(), 1200, &[]);
        assert!(output.status.success(), "{output:?}");
        let line = out
            .lines()
            .find(|l| l.contains("heap kept growing"))
            .unwrap_or_else(|| panic!("no leak suggestion: {out}"));
        assert!(
            line.starts_with(&format!("suggestion: {}", expected.0)),
            "{line}"
        );
        assert!(line.contains(expected.1), "{line}");
    }
}

#[test]
fn samples_without_the_problems_get_no_suggestion() {
    for sample in [
        "ai_coroutines",
        "asteroids",
        "batch_performance",
        "boids",
        "components_queries",
        "cross_language",
        "hello_lua",
        "hello_python",
        "hot_reload",
        "stress",
        "stress_scripts",
    ] {
        let dir = common::copy_of_sample(sample);
        // Long enough for a polling coroutine to show (120 frames in a row).
        let (out, output) = suggest(dir.path(), 200, &[]);
        assert!(output.status.success(), "{sample}: {output:?}");
        assert_eq!(out.trim(), "no suggestions", "{sample}: {out}");
    }
}

#[test]
fn a_reload_with_the_fix_clears_the_suggestion_at_once() {
    use ecscope::project::Project;
    use ecscope::runtime::{Runtime, RuntimeCommand};
    let dir = common::copy_of_sample("profiling_hotspots");
    let mut rt = Runtime::open(Project::open(dir.path()).unwrap());
    for _ in 0..3 {
        rt.step();
    }
    let rules: Vec<&str> = rt.suggestions().iter().map(|s| s.rule).collect();
    assert_eq!(rules, ["quadratic"]);
    let script = dir.path().join("scripts/avoidance.lua");
    let text = std::fs::read_to_string(&script).unwrap();
    std::fs::write(
        &script,
        text.replace("local FAST = false", "local FAST = true"),
    )
    .unwrap();
    rt.apply(RuntimeCommand::ReloadScript {
        script: "scripts/avoidance.lua".into(),
    })
    .unwrap();
    rt.step();
    assert!(rt.suggestions().is_empty(), "{:?}", rt.suggestions());
}

/// A project of one script in a temporary folder, with `extra` manifest
/// lines.
fn project(file: &str, source: &str, extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("scripts")).unwrap();
    std::fs::write(
        dir.path().join("ecscope.toml"),
        format!("[project]\nname = \"p\"\n[[script]]\npath = \"scripts/{file}\"\n{extra}"),
    )
    .unwrap();
    std::fs::write(dir.path().join("scripts").join(file), source).unwrap();
    dir
}

/// The one suggestion line of `rule`'s kind in a run, checked for its
/// place and lesson.
fn one_suggestion(dir: &Path, frames: u32, extra: &[&str], place: &str, lesson: &str) -> String {
    let (out, output) = suggest(dir, frames, extra);
    assert!(output.status.success(), "{output:?}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "{out}");
    let line = lines[0].to_string();
    assert!(line.starts_with(&format!("suggestion: {place}")), "{line}");
    assert!(
        line.contains(&format!("see sample_projects/{lesson}")),
        "{line}"
    );
    line
}

const ALLOCATING_LUA: &str = "for i = 1, 3000 do\n  ecs.spawn({ Position = { x = i, y = 0 }, Velocity = { x = 1, y = 0 } })\nend\n\necs.system(\"drift\", { \"Position\", \"Velocity\" }, function(id, pos, vel, dt)\n  local v = { x = vel.x * 0.99, y = vel.y + 0.01 }\n  ecs.set(id, \"Velocity\", v)\n  pos.x = pos.x + v.x * dt\nend)\n";

#[test]
fn a_table_made_per_entity_each_frame_is_named_and_writing_in_place_silences_it() {
    let dir = project("main.lua", ALLOCATING_LUA, "");
    // At the system's hottest sampled line, or where it is defined.
    let line = one_suggestion(dir.path(), 60, &[], "scripts/main.lua:", "memory_leak");
    let at: u32 = line["suggestion: scripts/main.lua:".len()..]
        .split(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((5..=8).contains(&at), "{line}");
    assert!(line.contains("system 'drift'"), "{line}");
    assert!(line.contains("for 3000 entities"), "{line}");
    assert!(line.contains("write fields in place"), "{line}");
    let fixed = ALLOCATING_LUA.replace(
        "  local v = { x = vel.x * 0.99, y = vel.y + 0.01 }\n  ecs.set(id, \"Velocity\", v)\n  pos.x = pos.x + v.x * dt\n",
        "  vel.x, vel.y = vel.x * 0.99, vel.y + 0.01\n  pos.x = pos.x + vel.x * dt\n",
    );
    assert_ne!(fixed, ALLOCATING_LUA);
    let dir = project("main.lua", &fixed, "");
    assert_eq!(suggest(dir.path(), 60, &[]).0, "no suggestions");
}

#[test]
fn garbage_collection_taking_a_python_systems_time_is_named() {
    let dir = project(
        "main.py",
        "import ecs\n\nhistory = []\n\n@ecs.system(\"remember\")\ndef remember(dt):\n    global history\n    history.append([{\"t\": ecs.time(), \"i\": i, \"tags\": [i, i + 1]} for i in range(3000)])\n    if len(history) > 20:\n        history = history[-20:]\n",
        "",
    );
    // With samples, the line is the hottest one: where the dicts are made.
    let folded = dir.path().join("out.folded");
    let line = one_suggestion(
        dir.path(),
        150,
        &["--samples", folded.to_str().unwrap()],
        "scripts/main.py:8:",
        "batch_performance",
    );
    assert!(line.contains("garbage collection takes"), "{line}");
}

#[test]
fn a_coroutine_that_wakes_every_frame_only_to_wait_is_told_to_wait_for_an_event() {
    for (file, source, place) in [
        (
            "main.lua",
            "ecs.persist.open = false\n\necs.start(\"doorman\", function()\n  while not ecs.persist.open do\n    coroutine.yield()\n  end\n  print(\"open\")\nend)\n",
            "scripts/main.lua:5:",
        ),
        (
            "main.py",
            "import ecs\n\nstate = {'open': False}\n\ndef doorman():\n    while not state['open']:\n        yield\n    print('open')\n\necs.start('doorman', doorman)\n",
            "scripts/main.py:7:",
        ),
    ] {
        let dir = project(file, source, "");
        let line = one_suggestion(dir.path(), 200, &[], place, "ai_coroutines");
        assert!(line.contains("coroutine 'doorman'"), "{line}");
        assert!(line.contains("ecs.wait_event"), "{line}");
        // Not before it has polled for long.
        assert_eq!(suggest(dir.path(), 60, &[]).0, "no suggestions");
    }
}

#[test]
fn a_system_over_its_budget_is_named_with_its_hottest_line() {
    let dir = project(
        "main.lua",
        "local function work(n)\n  local s = 0\n  for i = 1, n do\n    s = s + math.sin(i)\n  end\n  return s\nend\n\necs.system(\"busy\", function(dt)\n  work(100000)\nend)\n",
        "[budgets]\n\"scripts/main.lua:busy\" = 0.01\n",
    );
    let folded = dir.path().join("out.folded");
    let line = one_suggestion(
        dir.path(),
        60,
        &["--samples", folded.to_str().unwrap()],
        "scripts/main.lua:4:",
        "profiling_hotspots",
    );
    assert!(line.contains("over its budget of 0.01 ms"), "{line}");
    // A generous budget: nothing to say.
    let text = std::fs::read_to_string(dir.path().join("ecscope.toml")).unwrap();
    std::fs::write(
        dir.path().join("ecscope.toml"),
        text.replace("= 0.01", "= 1000"),
    )
    .unwrap();
    assert_eq!(suggest(dir.path(), 30, &[]).0, "no suggestions");
}
