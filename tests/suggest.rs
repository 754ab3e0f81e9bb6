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
fn a_leak_is_named_with_its_script() {
    let dir = common::copy_of_sample("memory_leak");
    let (out, _) = suggest(dir.path(), 1500, &[]);
    let line = out
        .lines()
        .find(|l| l.contains("scripts/trails.lua"))
        .unwrap_or_else(|| panic!("no leak suggestion: {out}"));
    assert!(line.contains("sample_projects/memory_leak"), "{line}");
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
        let (out, output) = suggest(dir.path(), 120, &[]);
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

#[test]
fn samples_put_a_python_systems_time_in_its_hot_function_and_loop_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("scripts")).unwrap();
    std::fs::write(
        dir.path().join("ecscope.toml"),
        "[project]\nname = \"s\"\n[[script]]\npath = \"scripts/main.py\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("scripts/main.py"),
        "import ecs\n\ndef slow(n):\n    total = 0\n    for i in range(n):\n        total += i * i\n    return total\n\ndef quick():\n    return 1\n\n@ecs.system('work')\ndef work(dt):\n    slow(60000)\n    quick()\n",
    )
    .unwrap();
    let folded = dir.path().join("out.folded");
    let output = Command::new(env!("CARGO_BIN_EXE_ecscope"))
        .args([
            "run",
            dir.path().to_str().unwrap(),
            "--frames",
            "120",
            "--samples",
            folded.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = std::fs::read_to_string(&folded).unwrap();
    let mut total = 0u64;
    let mut hot = 0u64;
    for line in text.lines() {
        let (stack, count) = line.rsplit_once(' ').expect("stack COUNT");
        let count: u64 = count.parse().unwrap();
        assert!(stack.starts_with("scripts/main.py:work;"), "{line}");
        total += count;
        if stack.ends_with(";scripts/main.py:slow:6") {
            hot += count;
        }
    }
    assert!(total >= 10, "too few samples: {text}");
    assert!(hot * 10 >= total * 7, "{hot} of {total} in slow:6\n{text}");
}

#[test]
fn samples_give_each_lua_system_its_share() {
    let dir = common::copy_of_sample("profiling_hotspots");
    let folded = dir.path().join("out.folded");
    let output = Command::new(env!("CARGO_BIN_EXE_ecscope"))
        .args([
            "run",
            dir.path().to_str().unwrap(),
            "--frames",
            "60",
            "--samples",
            folded.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("reads Python stacks only"),
        "the run says what is not read"
    );
    let text = std::fs::read_to_string(&folded).unwrap();
    let count = |root: &str| -> u64 {
        text.lines()
            .filter(|l| l.starts_with(root))
            .map(|l| l.rsplit_once(' ').unwrap().1.parse::<u64>().unwrap())
            .sum()
    };
    let total: u64 = text
        .lines()
        .map(|l| l.rsplit_once(' ').unwrap().1.parse::<u64>().unwrap())
        .sum();
    // separate takes nearly all of each frame.
    assert!(
        count("scripts/avoidance.lua:separate") * 10 >= total * 8,
        "{text}"
    );
}
