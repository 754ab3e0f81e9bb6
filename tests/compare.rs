//! `ecscope compare A.puffin B.puffin`: per-scope before and after, with
//! whether each change is beyond the noise.

use std::path::Path;
use std::process::{Command, Output};

fn ecscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ecscope"))
        .args(args)
        .output()
        .expect("ecscope runs")
}

/// A project whose system `work` loops `n` times a frame, and `steady`
/// does the same work in both.
fn project(dir: &Path, name: &str, n: u32) {
    std::fs::create_dir_all(dir.join("scripts")).unwrap();
    std::fs::write(
        dir.join("ecscope.toml"),
        format!("[project]\nname = \"{name}\"\n[[script]]\npath = \"scripts/main.lua\"\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("scripts/main.lua"),
        format!(
            "ecs.system(\"work\", function()\n  local s = 0\n  for i = 1, {n} do s = s + math.sin(i) end\nend)\n\
             ecs.system(\"steady\", function()\n  local s = 0\n  for i = 1, 20000 do s = s + math.cos(i) end\nend)\n"
        ),
    )
    .unwrap();
}

fn profile(dir: &Path, out: &Path) {
    run_profiled(dir, 120, out, None);
}

/// Runs `dir` headless for `frames` frames, writing its profile to `out`
/// and, when given, its sampled stacks to `samples`.
fn run_profiled(dir: &Path, frames: u32, out: &Path, samples: Option<&Path>) {
    let frames = frames.to_string();
    let mut args = vec![
        "run",
        dir.to_str().unwrap(),
        "--frames",
        &frames,
        "--profile",
        out.to_str().unwrap(),
    ];
    if let Some(samples) = samples {
        args.extend(["--samples", samples.to_str().unwrap()]);
    }
    let run = ecscope(&args);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

#[test]
fn a_system_made_ten_times_slower_is_named_slower_and_the_json_agrees() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    project(&a, "work", 20_000);
    project(&b, "work", 200_000);
    let (pa, pb) = (tmp.path().join("a.puffin"), tmp.path().join("b.puffin"));
    profile(&a, &pa);
    profile(&b, &pb);
    let out = ecscope(&["compare", pa.to_str().unwrap(), pb.to_str().unwrap()]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("main.lua:work "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains("× slower"), "{line}");
    let out = ecscope(&[
        "compare",
        pb.to_str().unwrap(),
        pa.to_str().unwrap(),
        "--json",
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let work = json["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "main.lua:work")
        .unwrap();
    assert_eq!(work["significant"], true);
    let ratio = work["ratio"].as_f64().unwrap();
    assert!(ratio < 0.3, "{work}");
    assert!(
        work["verdict"].as_str().unwrap().ends_with("× faster"),
        "{work}"
    );
    assert_eq!(json["before"]["frames"], 120);
}

#[test]
fn different_projects_get_a_notice_and_bad_files_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    project(&a, "work", 2_000);
    let pa = tmp.path().join("a.puffin");
    profile(&a, &pa);
    let other = tmp.path().join("other");
    std::fs::create_dir_all(other.join("scripts")).unwrap();
    std::fs::write(
        other.join("ecscope.toml"),
        "[project]\nname = \"other\"\n[[script]]\npath = \"scripts/x.lua\"\n",
    )
    .unwrap();
    std::fs::write(
        other.join("scripts/x.lua"),
        "ecs.system(\"tick\", function() end)\n",
    )
    .unwrap();
    let po = tmp.path().join("other.puffin");
    profile(&other, &po);
    let out = ecscope(&["compare", pa.to_str().unwrap(), po.to_str().unwrap()]);
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("may be of different projects"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Cut short: the frames before the cut are compared, with a note.
    let bytes = std::fs::read(&pa).unwrap();
    let cut = tmp.path().join("cut.puffin");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let out = ecscope(&["compare", cut.to_str().unwrap(), pa.to_str().unwrap()]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cut short or damaged"));
    // Not a profile, or missing: exit 2, naming the file.
    let text = tmp.path().join("notes.txt");
    std::fs::write(&text, "hello").unwrap();
    for bad in [text.clone(), tmp.path().join("missing.puffin")] {
        let out = ecscope(&["compare", bad.to_str().unwrap(), pa.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2));
        assert!(
            String::from_utf8_lossy(&out.stderr)
                .contains(bad.file_name().unwrap().to_str().unwrap()),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// With the two runs' sampled stacks, the function under the system is
/// compared too, and a file that is not folded stacks exits 2 naming its
/// line.
#[test]
fn with_samples_the_function_under_a_system_is_compared_too() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |name: &str, n: u32| {
        let dir = tmp.path().join(name);
        std::fs::create_dir_all(dir.join("scripts")).unwrap();
        std::fs::write(
            dir.join("ecscope.toml"),
            "[project]\nname = \"churn\"\n[[script]]\npath = \"scripts/main.lua\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("scripts/main.lua"),
            format!(
                "local function churn()\n  local s = 0\n  for i = 1, {n} do s = s + math.sin(i) end\n  return s\nend\n\n\
                 ecs.system(\"work\", function()\n  churn()\nend)\n"
            ),
        )
        .unwrap();
        let (profile, samples) = (
            tmp.path().join(format!("{name}.puffin")),
            tmp.path().join(format!("{name}.folded")),
        );
        run_profiled(&dir, 60, &profile, Some(&samples));
        (profile, samples)
    };
    let (pa, sa) = run("a", 50_000);
    let (pb, sb) = run("b", 500_000);
    // `compare A B --samples BEFORE sb`, with `--json` when asked.
    let compare = |before: &Path, json: bool| {
        let mut args = vec![
            "compare",
            pa.to_str().unwrap(),
            pb.to_str().unwrap(),
            "--samples",
            before.to_str().unwrap(),
            sb.to_str().unwrap(),
        ];
        if json {
            args.push("--json");
        }
        ecscope(&args)
    };
    let out = compare(&sa, false);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("function (sampled, self time)"), "{text}");
    let line = text
        .lines()
        .find(|l| l.starts_with("main.lua:churn "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains("× slower"), "{line}");
    let out = compare(&sa, true);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let churn = json["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "main.lua:churn")
        .unwrap_or_else(|| panic!("{json}"));
    assert_eq!(churn["significant"], true, "{churn}");
    assert!(churn["ratio"].as_f64().unwrap() > 3.0, "{churn}");
    // The churn is nearly all of work's time, in both runs.
    let work = json["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "main.lua:work")
        .unwrap();
    let (fa, wa) = (
        churn["after"]["mean_ms"].as_f64().unwrap(),
        work["after"]["mean_ms"].as_f64().unwrap(),
    );
    assert!(fa <= wa * 1.0001 && fa > wa * 0.5, "{churn} {work}");

    let bad = tmp.path().join("bad.folded");
    std::fs::write(&bad, "main.lua:work;main.lua:churn:3 12\nnot a stack\n").unwrap();
    let out = compare(&bad, false);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.folded:2: not a folded stack"), "{err}");
    // An empty one is compared, with a notice.
    let empty = tmp.path().join("empty.folded");
    std::fs::write(&empty, "").unwrap();
    let out = compare(&empty, false);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("empty.folded holds no samples"), "{err}");
}
