//! What a real consumer of Chrome Trace Event JSON makes of a trace: the
//! trace engine of Chrome DevTools' Performance panel, from npm
//! (`tests/trace_viewer`, installed by `.ci/run`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// What the trace engine of Chrome DevTools' Performance panel makes of
/// each of `traces`: a real consumer of the format, from npm
/// (`tests/trace_viewer`, installed by `.ci/run`). One value a file: the
/// process names, and each thread's name, span count and nesting.
pub fn read(traces: &[PathBuf]) -> Vec<Value> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/trace_viewer");
    assert!(
        dir.join("node_modules/@paulirish/trace_engine").is_dir(),
        "DevTools' trace engine is needed: npm ci --prefix tests/trace_viewer (.ci/run does it)"
    );
    let out = std::process::Command::new("node")
        .arg(dir.join("read_trace.mjs"))
        .args(traces)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "DevTools' trace engine failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(read.len(), traces.len());
    read
}

/// Checks that DevTools read `trace` (`frames` frames) as written: the
/// process's name, every thread by its name with every one of its spans,
/// and the frames as the roots of the runtime's track with the phases
/// under them.
pub fn agrees(what: &str, trace: &Value, theirs: &Value, frames: u64) {
    let events = trace["traceEvents"].as_array().expect("traceEvents");
    let of = |phase: &'static str| events.iter().filter(move |e| e["ph"] == phase);
    let process = of("M").find(|e| e["name"] == "process_name").unwrap();
    assert_eq!(
        theirs["process_names"][process["pid"].to_string()],
        process["args"]["name"],
        "{what}: {theirs}"
    );
    let mut spans: BTreeMap<u64, usize> = BTreeMap::new();
    for span in of("X") {
        *spans.entry(span["tid"].as_u64().unwrap()).or_default() += 1;
    }
    let threads = theirs["threads"].as_array().unwrap();
    for (tid, count) in spans {
        let name = of("M")
            .find(|e| e["name"] == "thread_name" && e["tid"] == tid)
            .map(|e| e["args"]["name"].clone())
            .unwrap_or_else(|| panic!("{what}: thread {tid} has no name"));
        let thread = threads
            .iter()
            .find(|t| t["tid"] == tid)
            .unwrap_or_else(|| panic!("{what}: DevTools has no thread {tid}: {theirs}"));
        assert_eq!(thread["name"], name, "{what}");
        assert_eq!(
            thread["entries"].as_u64(),
            Some(count as u64),
            "{what}: DevTools took in every span of {name}"
        );
        if name == "ecscope-runtime" {
            assert_eq!(thread["roots"]["frame"].as_u64(), Some(frames), "{what}");
            assert_eq!(
                thread["parents"]["systems"],
                serde_json::json!({ "frame": frames }),
                "{what}: each frame's systems phase is under it"
            );
        }
    }
}
