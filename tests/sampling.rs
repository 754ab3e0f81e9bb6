//! Sampled script stacks: `ecscope run --samples` and the runtime's own
//! sampler put a system's time in its hot function and loop line, in Lua
//! (JIT-compiled loops included) and in Python; deep stacks are cut, a
//! reload mid-sample and a rate change keep sampling sound.

mod common;

use std::path::Path;
use std::process::Command;

use ecscope::profiling::samples::{CUT_FRAME, SampleSummary};
use ecscope::runtime::RuntimeCommand;

/// A project of one script, run headless for `frames` with `--samples`;
/// returns the folded stacks.
fn sampled_run(file: &str, source: &str, frames: u32) -> Vec<(String, u64)> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("scripts")).unwrap();
    std::fs::write(
        dir.path().join("ecscope.toml"),
        format!("[project]\nname = \"s\"\n[[script]]\npath = \"scripts/{file}\"\n"),
    )
    .unwrap();
    std::fs::write(dir.path().join("scripts").join(file), source).unwrap();
    folded_of(dir.path(), frames)
}

fn folded_of(dir: &Path, frames: u32) -> Vec<(String, u64)> {
    let folded = dir.join("out.folded");
    let output = Command::new(env!("CARGO_BIN_EXE_ecscope"))
        .args([
            "run",
            dir.to_str().unwrap(),
            "--frames",
            &frames.to_string(),
            "--samples",
            folded.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    parse(&std::fs::read_to_string(&folded).unwrap())
}

fn parse(text: &str) -> Vec<(String, u64)> {
    text.lines()
        .map(|line| {
            let (stack, count) = line.rsplit_once(' ').expect("STACK COUNT");
            (stack.to_string(), count.parse().expect("a count"))
        })
        .collect()
}

/// Checks that at least 70% of `root`'s samples are in `function` and at
/// its line `line`, in the export, the Functions table and the line heat.
fn assert_hot(folded: &[(String, u64)], root: &str, file: &str, function: &str, line: u32) {
    let text = || {
        folded
            .iter()
            .map(|(s, n)| format!("{s} {n}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let under_root: u64 = folded
        .iter()
        .filter(|(s, _)| s.starts_with(&format!("{root};")) || s == root)
        .map(|(_, n)| n)
        .sum();
    assert!(under_root >= 10, "too few samples:\n{}", text());
    // The export.
    let leaf = format!(";{file}:{function}:{line}");
    let at_line: u64 = folded
        .iter()
        .filter(|(s, _)| s.starts_with(root) && s.ends_with(&leaf))
        .map(|(_, n)| n)
        .sum();
    assert!(
        at_line * 10 >= under_root * 7,
        "{at_line} of {under_root} at {leaf}:\n{}",
        text()
    );
    let summary = SampleSummary::of(folded);
    // The Functions table: the hot function is first, at its hot line.
    let top = &summary.functions[0];
    assert_eq!(
        (top.file.as_str(), top.function.as_str(), top.line),
        (file, function, line),
        "{:?}",
        summary.functions
    );
    assert!(top.self_samples * 10 >= under_root * 7, "{top:?}");
    // The line heat.
    let heat = summary.heat_of(file);
    let hottest = heat.iter().max_by_key(|(_, n)| **n).unwrap();
    assert_eq!(*hottest.0, line, "{heat:?}");
    assert!(hottest.1 * 10 >= under_root * 7, "{heat:?}");
}

#[test]
fn a_lua_systems_time_lands_in_its_hot_function_and_loop_line() {
    // The loop is compiled by the JIT after a few frames; its samples must
    // still land on its line.
    let folded = sampled_run(
        "main.lua",
        "local function slow(n)\n  local total = 0\n  for i = 1, n do\n    total = total + math.sin(i) * i\n  end\n  return total\nend\n\nlocal function quick()\n  return 1\nend\n\necs.system(\"work\", function(dt)\n  slow(300000)\n  quick()\nend)\n",
        60,
    );
    assert_hot(
        &folded,
        "scripts/main.lua:work",
        "scripts/main.lua",
        "slow",
        4,
    );
    // The system's own frame is named as registered.
    assert!(
        folded
            .iter()
            .any(|(s, _)| s.starts_with("scripts/main.lua:work;scripts/main.lua:work:14;")),
        "{folded:?}"
    );
}

#[test]
fn a_python_systems_time_lands_in_its_hot_function_and_loop_line() {
    let folded = sampled_run(
        "main.py",
        "import ecs\n\ndef slow(n):\n    total = 0\n    for i in range(n):\n        total += i * i\n    return total\n\ndef quick():\n    return 1\n\n@ecs.system('work')\ndef work(dt):\n    slow(60000)\n    quick()\n",
        120,
    );
    assert_hot(
        &folded,
        "scripts/main.py:work",
        "scripts/main.py",
        "slow",
        6,
    );
}

#[test]
fn profiling_hotspots_samples_point_at_the_inner_query_loop() {
    let dir = common::copy_of_sample("profiling_hotspots");
    let folded = folded_of(dir.path(), 40);
    let total: u64 = folded.iter().map(|(_, n)| n).sum();
    let summary = SampleSummary::of(&folded);
    let top = &summary.functions[0];
    assert_eq!(
        (top.file.as_str(), top.function.as_str()),
        ("scripts/avoidance.lua", "separate_slow")
    );
    assert!(top.self_samples * 10 >= total * 8, "{summary:?}");
    // The two lines of the inner loop over every walker.
    let inner: u64 = summary
        .lines
        .iter()
        .filter(|l| l.file == "scripts/avoidance.lua" && (l.line == 21 || l.line == 22))
        .map(|l| l.samples)
        .sum();
    assert!(inner * 10 >= total * 7, "{:?}", summary.lines);
}

#[test]
fn a_recursion_ten_thousand_deep_is_cut_and_noted() {
    // A busy machine can starve the sampler's thread for a whole short run,
    // so the run is repeated (at most twice more) until a sample lands.
    let mut folded = Vec::new();
    for _ in 0..3 {
        folded = sampled_run(
            "main.lua",
            "local function down(n)\n  if n == 0 then\n    local s = 0\n    for i = 1, 20000 do s = s + i end\n    return s\n  end\n  return down(n - 1) + 0\nend\n\necs.system(\"deep\", function(dt)\n  down(10000)\nend)\n",
            30,
        );
        if folded.iter().any(|(s, _)| s.ends_with(CUT_FRAME)) {
            break;
        }
    }
    let cut: Vec<&(String, u64)> = folded
        .iter()
        .filter(|(s, _)| s.ends_with(CUT_FRAME))
        .collect();
    assert!(!cut.is_empty(), "{folded:?}");
    for (stack, _) in &cut {
        assert_eq!(
            stack.split(';').count(),
            ecscope::profiling::samples::MAX_DEPTH + 2,
            "root, the frames kept, the cut"
        );
    }
    assert!(SampleSummary::of(&folded).cut > 0);
}

#[test]
fn a_script_reloaded_while_sampled_and_a_changed_rate_keep_sampling_sound() {
    let busy = |n: u32| {
        format!(
            "ecs.system(\"busy\", function(dt)\n  local s = 0\n  for i = 1, {n} do s = s + math.sqrt(i) end\nend)\n"
        )
    };
    let (dir, mut rt) = common::one_script("main.lua", &busy(200_000));
    rt.sample_always();
    let mut before: u64 = 0;
    for frame in 0..2_000 {
        rt.step();
        before = rt.samples().iter().map(|(_, n)| n).sum();
        if frame >= 20 && before > 0 {
            break;
        }
    }
    assert!(before > 0, "sampled before the reload");
    for round in 0..5 {
        std::fs::write(dir.path().join("scripts/main.lua"), busy(200_000 + round)).unwrap();
        rt.apply(RuntimeCommand::ReloadScript {
            script: "scripts/main.lua".into(),
        })
        .unwrap();
        // The old version's samples are about lines that no longer run.
        assert!(
            rt.samples().is_empty(),
            "a reload forgets the script's samples"
        );
        for _ in 0..4 {
            rt.step();
        }
    }
    // A sample comes when the profiler's timer fires, which on a loaded
    // machine can take more frames than four: run until one lands, bounded.
    let mut after: u64 = rt.samples().iter().map(|(_, n)| n).sum();
    for _ in 0..2_000 {
        if after > 0 {
            break;
        }
        rt.step();
        after = rt.samples().iter().map(|(_, n)| n).sum();
    }
    assert!(after > 0, "sampling went on across reloads");
    assert!(
        rt.samples()
            .iter()
            .all(|(s, _)| s.starts_with("scripts/main.lua:busy")),
        "{:?}",
        rt.samples()
    );
    // Off: no more samples; a rate past the limit is refused.
    rt.apply(RuntimeCommand::SetSampleHz(0)).unwrap();
    rt.step();
    let off: u64 = rt.samples().iter().map(|(_, n)| n).sum();
    for _ in 0..10 {
        rt.step();
    }
    assert_eq!(rt.samples().iter().map(|(_, n)| n).sum::<u64>(), off);
    let err = rt.apply(RuntimeCommand::SetSampleHz(50_000)).unwrap_err();
    assert!(err.to_string().contains("10000"), "{err}");
    // Clearing the profile forgets them.
    rt.apply(RuntimeCommand::ClearProfile).unwrap();
    assert!(rt.samples().is_empty());
}
