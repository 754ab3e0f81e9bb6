//! `ecscope bench --baseline OLD.json [--fail-on-regression]`: a benchmark
//! worse beyond the measured noise is flagged (exit 3 with the flag), a
//! rerun of the same code is not, and a bad baseline exits 2.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Mutex;

/// Benchmarks measure the machine: two running at once on two cores slow
/// each other by half, which is the drift a rerun must not be flagged for.
/// The tests here run in parallel threads, so their benchmark runs take
/// turns.
static ONE_RUN_AT_A_TIME: Mutex<()> = Mutex::new(());

fn bench(args: &[&str]) -> Output {
    let _turn = ONE_RUN_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    Command::new(env!("CARGO_BIN_EXE_ecscope"))
        .args(["bench", "--quick", "--filter", "move/"])
        .args(args)
        .output()
        .expect("ecscope runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn a_deliberately_slowed_benchmark_is_flagged_and_a_rerun_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.json");
    let out = bench(&["--json", first.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&first).unwrap()).unwrap();
    let results = report["results"].as_array().unwrap();
    assert!(results.len() >= 4);
    // Timings carry their noise.
    assert!(
        results.iter().all(|r| r["noise"].as_f64().is_some()),
        "{report}"
    );

    // A rerun of the same code: the benchmark is not flagged. A shared
    // machine may drift past the noise now and then; a real regression
    // shows every time, so up to three reruns decide. (Sub-nanosecond benchmarks drift
    // most; this one is a Lua system, tens of nanoseconds per entity.)
    let rerun = |baseline: &Path| {
        bench(&[
            "--baseline",
            baseline.to_str().unwrap(),
            "--fail-on-regression",
        ])
    };
    let flagged = |out: &Output| stdout(out).contains("regression: move/lua_entity/100k");
    let mut out = rerun(&first);
    for _ in 0..2 {
        if !flagged(&out) {
            break;
        }
        out = rerun(&first);
    }
    assert!(!flagged(&out), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("worse beyond the noise"),
        "{}",
        stdout(&out)
    );

    // The same code against a baseline in which one benchmark was ten
    // times as fast (far past any noise a busy machine gives): it is
    // named, with both values.
    let mut slowed = report.clone();
    for r in slowed["results"].as_array_mut().unwrap() {
        if r["name"] == "move/lua_entity/100k" {
            let v = r["value"].as_f64().unwrap();
            r["value"] = serde_json::json!(v / 10.0);
        }
    }
    let faster_before = dir.path().join("faster_before.json");
    std::fs::write(&faster_before, slowed.to_string()).unwrap();
    let out = rerun(&faster_before);
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    let text = stdout(&out);
    let line = text
        .lines()
        .find(|l| l.starts_with("regression: move/lua_entity/100k: "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains("× worse; allowed "), "{line}");
    // Without --fail-on-regression it is reported, and the run succeeds.
    let out = bench(&["--baseline", faster_before.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("regression: move/lua_entity/100k"));
}

#[test]
fn a_baseline_that_cannot_be_read_exits_2_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{ \"machine\": 3 }").unwrap();
    for path in [bad, dir.path().join("missing.json")] {
        let out = bench(&["--baseline", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(path.file_name().unwrap().to_str().unwrap()),
            "{stderr}"
        );
        assert!(stdout(&out).is_empty(), "nothing ran");
    }
    // A report that shares no benchmark: said, and nothing compared.
    let other = dir.path().join("other.json");
    std::fs::write(
        &other,
        r#"{"machine": "m", "results": [{"name": "elsewhere", "value": 1.0, "unit": "ms", "ratio": null, "baseline": null}]}"#,
    )
    .unwrap();
    let out = bench(&["--baseline", other.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("shares no benchmark"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
