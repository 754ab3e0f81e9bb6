//! `ecscope run --trace` (SCRIPT_API §7): Chrome Trace Event JSON that
//! ui.perfetto.dev and chrome://tracing open. Each sample's trace is
//! checked against the format's documented schema: every event has its
//! phase's fields, spans nest properly on each thread's track, frames
//! follow each other in time, threads and the process are named, and the
//! counters and instants are there. Then a real consumer reads them: the
//! trace engine of Chrome DevTools' Performance panel, which must find
//! every thread and span and nest them the same way.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use ecscope::headless::{RunError, RunOptions, run};
use serde_json::Value;

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample_projects")
        .join(name)
}

/// Runs `project` for `frames` frames with `--trace` and returns the trace.
fn trace_of(project: &Path, frames: u64) -> Value {
    let out = tempfile::tempdir().unwrap();
    trace_into(project, frames, &out.path().join("trace.json"))
}

/// Runs `project` for `frames` frames with `--trace path` and returns the
/// trace.
fn trace_into(project: &Path, frames: u64, path: &Path) -> Value {
    let path = path.to_path_buf();
    run(&RunOptions {
        project: project.to_path_buf(),
        frames: Some(frames),
        trace: Some(path.clone()),
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("{}: {e}", project.display()));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).expect("the trace is JSON")
}

fn number(event: &Value, key: &str) -> f64 {
    event[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is not a number in {event}"))
}

/// Checks `trace` against the Trace Event format and returns its events by
/// phase.
fn check(trace: &Value, what: &str) -> BTreeMap<String, Vec<Value>> {
    assert_eq!(trace["displayTimeUnit"], "ms", "{what}");
    let events = trace["traceEvents"].as_array().expect("traceEvents");
    let mut by_phase: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for event in events {
        let phase = event["ph"]
            .as_str()
            .unwrap_or_else(|| panic!("{what}: no ph in {event}"));
        assert!(event["name"].is_string(), "{what}: {event}");
        assert!(
            event["pid"].is_u64() && event["tid"].is_u64(),
            "{what}: {event}"
        );
        match phase {
            "X" => {
                assert!(
                    number(event, "ts") >= 0.0 && number(event, "dur") >= 0.0,
                    "{what}: {event}"
                );
                assert!(event["cat"].is_string(), "{what}: {event}");
            }
            "i" => {
                assert!(number(event, "ts") >= 0.0, "{what}: {event}");
                assert!(
                    ["t", "p", "g"].contains(&event["s"].as_str().unwrap()),
                    "{what}: {event}"
                );
            }
            "C" => {
                assert!(number(event, "ts") >= 0.0, "{what}: {event}");
                let args = event["args"].as_object().expect("counter args");
                assert!(
                    !args.is_empty() && args.values().all(Value::is_number),
                    "{what}: {event}"
                );
            }
            "M" => assert!(event["args"].is_object(), "{what}: {event}"),
            other => panic!("{what}: unexpected phase {other}"),
        }
        by_phase
            .entry(phase.to_string())
            .or_default()
            .push(event.clone());
    }
    // Spans nest on each thread's track: one ends before the next begins,
    // or contains it.
    let mut tracks: BTreeMap<u64, Vec<(f64, f64, String)>> = BTreeMap::new();
    for span in by_phase.get("X").into_iter().flatten() {
        let (ts, dur) = (number(span, "ts"), number(span, "dur"));
        let name = span["name"].as_str().unwrap().to_string();
        tracks
            .entry(span["tid"].as_u64().unwrap())
            .or_default()
            .push((ts, ts + dur, name));
    }
    const SLACK: f64 = 0.002; // µs: the nanosecond rounding of ts and dur
    for (tid, spans) in &mut tracks {
        spans.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
        let mut open: Vec<(f64, String)> = Vec::new();
        for (start, end, name) in spans.iter() {
            while open.last().is_some_and(|(e, _)| *e <= start + SLACK) {
                open.pop();
            }
            if let Some((outer_end, outer)) = open.last() {
                assert!(
                    *end <= outer_end + SLACK,
                    "{what}: on track {tid}, {name} ({start}–{end}) overlaps {outer} (ends {outer_end})"
                );
            }
            open.push((*end, name.clone()));
        }
    }
    by_phase
}

#[test]
fn every_sample_s_trace_is_well_formed_with_frames_threads_and_counters() {
    let mut samples: Vec<PathBuf> = std::fs::read_dir(sample(""))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("ecscope.toml").is_file())
        .collect();
    samples.sort();
    assert!(samples.len() >= 14);
    let files = tempfile::tempdir().unwrap();
    let mut written = Vec::new();
    for project in samples {
        let copy = common::copy_of_project(&project);
        let what = project.file_name().unwrap().to_string_lossy().to_string();
        let frames = if what.starts_with("stress") { 5 } else { 40 };
        let path = files.path().join(format!("{what}.json"));
        let trace = trace_into(copy.path(), frames, &path);
        let events = check(&trace, &what);
        // One frame span a frame, in order, each after the one before.
        let frame_spans: Vec<&Value> = events["X"]
            .iter()
            .filter(|e| e["name"] == "frame")
            .collect();
        assert_eq!(frame_spans.len() as u64, frames, "{what}");
        for pair in frame_spans.windows(2) {
            assert!(
                number(pair[1], "ts") >= number(pair[0], "ts") + number(pair[0], "dur") - 0.002,
                "{what}"
            );
            assert_eq!(
                pair[1]["args"]["frame"].as_u64(),
                pair[0]["args"]["frame"].as_u64().map(|f| f + 1),
                "{what}"
            );
        }
        // The phases and the scripts' calls are spans too.
        let names: BTreeSet<&str> = events["X"]
            .iter()
            .filter_map(|e| e["name"].as_str())
            .collect();
        assert!(names.contains("systems"), "{what}: {names:?}");
        assert!(events["X"].iter().any(|e| e["cat"] == "script"), "{what}");
        // The process and the runtime's thread are named.
        let meta = &events["M"];
        assert!(
            meta.iter().any(|e| e["name"] == "process_name"
                && e["args"]["name"].as_str().unwrap().starts_with("ecscope: ")),
            "{what}"
        );
        assert!(meta.iter().any(|e| e["name"] == "thread_name"), "{what}");
        // Entity counts and memory are counter tracks.
        let counters: BTreeSet<&str> = events["C"]
            .iter()
            .filter_map(|e| e["name"].as_str())
            .collect();
        assert!(counters.contains("entities"), "{what}: {counters:?}");
        assert!(counters.contains("memory (bytes)"), "{what}: {counters:?}");
        written.push((what, path, trace, frames));
    }
    // A real consumer reads them all the same way.
    let paths: Vec<PathBuf> = written.iter().map(|(_, path, ..)| path.clone()).collect();
    for ((what, _, trace, frames), theirs) in written.iter().zip(common::devtools::read(&paths)) {
        common::devtools::agrees(what, trace, &theirs, *frames);
    }
}

#[test]
fn systems_on_worker_threads_have_tracks_of_their_own() {
    let copy = common::copy_of_project(&sample("parallel_systems"));
    let manifest = copy.path().join("ecscope.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace("# [runtime]\n# threads = 2", "[runtime]\nthreads = 2"),
    )
    .unwrap();
    let trace = trace_of(copy.path(), 10);
    let events = check(&trace, "parallel_systems");
    let threads: BTreeMap<u64, String> = events["M"]
        .iter()
        .filter(|e| e["name"] == "thread_name")
        .map(|e| {
            (
                e["tid"].as_u64().unwrap(),
                e["args"]["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let workers: BTreeSet<u64> = threads
        .iter()
        .filter(|(_, name)| name.starts_with("ecscope-worker-"))
        .map(|(tid, _)| *tid)
        .collect();
    assert_eq!(workers.len(), 2, "{threads:?}");
    let on_workers: BTreeSet<&str> = events["X"]
        .iter()
        .filter(|e| workers.contains(&e["tid"].as_u64().unwrap()))
        .filter_map(|e| e["name"].as_str())
        .collect();
    for think in ["fish.lua:think", "birds.lua:think", "ants.lua:think"] {
        assert!(on_workers.contains(think), "{on_workers:?}");
    }
}

#[test]
fn errors_are_instants_at_their_frame() {
    let dir = common::project_of(&[(
        "main.lua",
        "ecs.system(\"tick\", function()\n  if ecs.frame() == 3 then error(\"boom\") end\nend)\n",
    )]);
    let trace = trace_of(dir.path(), 6);
    let events = check(&trace, "boom");
    let errors: Vec<&Value> = events["i"].iter().filter(|e| e["cat"] == "error").collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0]["name"].as_str().unwrap().contains("boom"),
        "{}",
        errors[0]
    );
    assert_eq!(errors[0]["args"]["frame"], 3);
    // It lies within the fourth frame (frame 3), at its end.
    let fourth = events["X"]
        .iter()
        .find(|e| e["name"] == "frame" && e["args"]["frame"].as_u64() == Some(3));
    let fourth = fourth.expect("frame 3");
    assert!(number(errors[0], "ts") >= number(fourth, "ts"));
}

#[test]
fn an_unwritable_trace_path_is_refused_before_anything_runs() {
    let out = tempfile::tempdir().unwrap();
    let result = run(&RunOptions {
        project: sample("hello_lua"),
        frames: Some(3),
        trace: Some(out.path().join("no/such/folder/trace.json")),
        ..Default::default()
    });
    let Err(error) = result else {
        panic!("the run went ahead");
    };
    assert!(matches!(error, RunError::Output { .. }), "{error:?}");
    assert!(error.to_string().contains("trace.json"), "{error}");
    assert!(!out.path().join("no").exists());
}

/// The sampler's script frames sit under the calls they were taken in, in
/// both languages: a system's helper function is a span inside the
/// system's span, named like the flame graph's scopes.
#[test]
fn sampled_script_frames_nest_under_their_calls_in_both_languages() {
    let dir = common::project_of(&[
        (
            "busy.lua",
            "local function churn()\n  local s = 0\n  for i = 1, 3000000 do s = (s + i * 7) % 1000003 end\n  return s\nend\n\necs.system(\"tick\", function()\n  churn()\nend)\n",
        ),
        (
            "busy.py",
            "import ecs\n\n\ndef churn():\n    s = 0\n    for i in range(150000):\n        s = (s + i * 7) % 1000003\n    return s\n\n\n@ecs.system(\"tock\")\ndef tock(dt):\n    churn()\n",
        ),
    ]);
    let trace = trace_of(dir.path(), 30);
    let events = check(&trace, "busy");
    let spans = &events["X"];
    let calls: Vec<(f64, f64, &str)> = spans
        .iter()
        .filter(|e| e["cat"] == "script" && e["tid"] == 1)
        .map(|e| {
            let ts = number(e, "ts");
            (ts, ts + number(e, "dur"), e["name"].as_str().unwrap())
        })
        .collect();
    for (helper, caller) in [
        ("busy.lua:churn", "busy.lua:tick"),
        ("busy.py:churn", "busy.py:tock"),
    ] {
        let sampled: Vec<&Value> = spans
            .iter()
            .filter(|e| e["cat"] == "sample" && e["name"] == helper)
            .collect();
        assert!(!sampled.is_empty(), "{helper} was never sampled");
        for span in sampled {
            let (ts, end) = (number(span, "ts"), number(span, "ts") + number(span, "dur"));
            assert_eq!(span["tid"], 1, "{span}");
            assert!(span["args"]["samples"].as_u64().unwrap() >= 1, "{span}");
            assert!(
                calls
                    .iter()
                    .any(|(a, b, name)| *name == caller && *a <= ts + 0.002 && end <= b + 0.002),
                "{helper} at {ts}–{end} is not inside a {caller} call"
            );
        }
    }
}
