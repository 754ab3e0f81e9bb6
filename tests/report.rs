//! `ecscope report DIR --frames N -o report.html`: one self-contained HTML
//! file (nothing fetched from a network) with every section, rendered by a
//! real browser (Debian's Chromium, headless).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

fn ecscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ecscope"))
        .args(args)
        .output()
        .expect("ecscope runs")
}

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample_projects")
        .join(name)
}

#[test]
fn a_report_has_every_section_inline_and_chromium_renders_it() {
    let copy = common::copy_of_project(&sample("boids"));
    let out_dir = tempfile::tempdir().unwrap();
    let html = out_dir.path().join("report.html");
    let out = ecscope(&[
        "report",
        copy.path().to_str().unwrap(),
        "--frames",
        "120",
        "-o",
        html.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&html).unwrap();
    for section in [
        "<h2>Budgets</h2>",
        "<h2>Frame time</h2>",
        "<h2>Flame graph (sampled script stacks)</h2>",
        "<h2>Systems, handlers and coroutines</h2>",
        "<h2>Script functions (sampled)</h2>",
        "<h2>Suggestions</h2>",
        "<h2>Memory</h2>",
    ] {
        assert!(text.contains(section), "{section}");
    }
    assert!(text.contains("flock.lua:steer") || text.contains("scripts/flock.lua:steer"));
    // The frame chart, the flame graph and the memory chart are inline SVG.
    assert!(text.matches("<svg").count() >= 3);
    assert!(text.contains("Sampled script stacks"));
    // Nothing is fetched: no external scripts, styles, images or fonts.
    for fetch in ["src=\"http", "href=\"http", "<link", "url(http", "@import"] {
        assert!(!text.contains(fetch), "the report fetches {fetch}");
    }

    // A real browser draws it.
    let shot = out_dir.path().join("report.png");
    let browser = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .expect("Chromium is needed for this test (.ci/run installs Debian's chromium)");
    let rendered = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            &format!("--screenshot={}", shot.display()),
            "--window-size=1400,1000",
        ])
        .arg(format!("file://{}", html.display()))
        .env("HOME", out_dir.path())
        .output()
        .unwrap();
    assert!(
        shot.is_file(),
        "{}",
        String::from_utf8_lossy(&rendered.stderr)
    );
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    // A page with charts and tables, not a blank one.
    assert!(png.len() > 30_000, "{} bytes", png.len());
    if let Ok(dir) = std::env::var("ECSCOPE_KEEP_REPORT") {
        std::fs::copy(&shot, Path::new(&dir).join("report.png")).unwrap();
        std::fs::copy(&html, Path::new(&dir).join("report.html")).unwrap();
    }
}

#[test]
fn bad_output_and_budgets_over_give_their_exit_statuses() {
    let out_dir = tempfile::tempdir().unwrap();
    let bad = out_dir.path().join("no/such/folder/report.html");
    let out = ecscope(&[
        "report",
        sample("hello_lua").to_str().unwrap(),
        "--frames",
        "5",
        "-o",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("report.html"));
    assert!(!out_dir.path().join("no").exists());

    let copy = common::copy_of_project(&sample("boids"));
    let manifest = copy.path().join("ecscope.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, format!("{text}\n[budgets]\nframe_ms = 0.001\n")).unwrap();
    let html = out_dir.path().join("over.html");
    let out = ecscope(&[
        "report",
        copy.path().to_str().unwrap(),
        "--frames",
        "30",
        "-o",
        html.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(3));
    let text = std::fs::read_to_string(&html).unwrap();
    assert!(text.contains("over budget"));
}
