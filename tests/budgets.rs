//! `[budgets]` and `ecscope run --check-budgets` (SCRIPT_API §7): exit 3
//! naming each exceeded budget with the measured and allowed values, the
//! other exit statuses, and bad budgets.

use std::path::Path;
use std::process::{Command, Output};

mod common;

fn ecscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ecscope"))
        .args(args)
        .output()
        .expect("ecscope runs")
}

/// A copy of `boids` with `budgets` as its `[budgets]` table.
fn boids_with(budgets: &str) -> tempfile::TempDir {
    let copy = common::copy_of_project(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_projects/boids"),
    );
    let manifest = copy.path().join("ecscope.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, format!("{text}\n[budgets]\n{budgets}")).unwrap();
    copy
}

fn check(dir: &Path) -> (Option<i32>, String) {
    let out = ecscope(&[
        "run",
        dir.to_str().unwrap(),
        "--frames",
        "30",
        "--check-budgets",
    ]);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// The line `key` is on in the copy's manifest.
fn line_of(dir: &Path, key: &str) -> usize {
    std::fs::read_to_string(dir.join("ecscope.toml"))
        .unwrap()
        .lines()
        .position(|l| l.trim_start().starts_with(key))
        .unwrap()
        + 1
}

#[test]
fn an_exceeded_budget_exits_3_naming_it_with_the_measured_and_allowed_values() {
    let dir = boids_with("frame_ms = 1000\n\"scripts/flock.lua:steer\" = 0.001\n");
    let (code, stderr) = check(dir.path());
    assert_eq!(code, Some(3), "{stderr}");
    let line = line_of(dir.path(), "\"scripts/flock.lua:steer\"");
    let over = stderr
        .lines()
        .find(|l| l.starts_with("over budget: scripts/flock.lua:steer: p95 "))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(
        over.ends_with(&format!(
            "ms per frame, over its budget of 0.001 ms (ecscope.toml:{line})"
        )),
        "{over}"
    );
    // The budget that was met is said too, and not as exceeded.
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("budget: frame time: p95 ")
                && l.contains("within its budget of 1000 ms")),
        "{stderr}"
    );
}

#[test]
fn budgets_that_are_met_exit_0() {
    let dir = boids_with("frame_ms = 1000\n\"scripts/flock.lua:steer\" = 1000\n");
    let (code, stderr) = check(dir.path());
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains("over budget"), "{stderr}");
}

#[test]
fn a_script_error_exits_1_even_over_budget() {
    let dir = boids_with("frame_ms = 0.001\n");
    let flock = dir.path().join("scripts/flock.lua");
    let text = std::fs::read_to_string(&flock).unwrap();
    std::fs::write(
        &flock,
        format!("{text}\necs.system(\"oops\", function() error(\"oops\") end)\n"),
    )
    .unwrap();
    let (code, stderr) = check(dir.path());
    assert_eq!(code, Some(1), "{stderr}");
}

#[test]
fn a_budget_naming_no_system_is_a_warning_with_its_line() {
    let dir = boids_with("\"scripts/flock.lua:stear\" = 2.0\n");
    let (code, stderr) = check(dir.path());
    assert_eq!(code, Some(0), "{stderr}");
    let line = line_of(dir.path(), "\"scripts/flock.lua:stear\"");
    assert!(
        stderr.contains(&format!(
            "ecscope.toml:{line}: [budgets] \"scripts/flock.lua:stear\" names no system (systems: scripts/flock.lua:steer, scripts/flock.lua:move)"
        )),
        "{stderr}"
    );
}

#[test]
fn bad_budgets_and_a_missing_table_exit_2() {
    for (budgets, expected) in [
        (
            "frame_ms = -1\n",
            "must be a finite number of milliseconds above 0, got -1",
        ),
        ("frame_ms = \"fast\"\n", "invalid type: string \"fast\""),
        ("steer = 2.0\n", "\"script:system\""),
    ] {
        let dir = boids_with(budgets);
        let (code, stderr) = check(dir.path());
        assert_eq!(code, Some(2), "{budgets}: {stderr}");
        let line = line_of(dir.path(), budgets.split(' ').next().unwrap());
        assert!(
            stderr.contains(&format!("ecscope.toml:{line}: `budgets."))
                && stderr.contains(expected),
            "{budgets}: {stderr}"
        );
    }
    let out = ecscope(&[
        "run",
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("sample_projects/boids")
            .display()
            .to_string(),
        "--frames",
        "3",
        "--check-budgets",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--check-budgets needs a [budgets] table in")
    );
}
