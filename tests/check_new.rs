//! `ecscope new` makes a project that runs and checks clean, and refuses
//! a folder that exists; `ecscope check` reports every error of the
//! manifest and of both languages in one pass, as text and as JSON, with
//! its exit status.

use std::path::Path;
use std::process::{Command, Output};

fn ecscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ecscope"))
        .args(args)
        .output()
        .expect("ecscope runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_new_project_runs_at_once_and_checks_clean_in_both_languages() {
    let dir = tempfile::tempdir().unwrap();
    for (name, extra, script) in [
        ("lua_game", None, "scripts/main.lua"),
        ("py_game", Some("--python"), "scripts/main.py"),
    ] {
        let project = dir.path().join(name);
        let project_arg = project.to_str().unwrap();
        let mut args = vec!["new", project_arg];
        args.extend(extra);
        let made = ecscope(&args);
        assert!(made.status.success(), "{made:?}");
        for file in [
            "ecscope.toml",
            "README.md",
            ".gitignore",
            ".luarc.json",
            "mypy.ini",
            "pyrightconfig.json",
            ".ecscope/types/ecs.lua",
            ".ecscope/types/ecs.pyi",
            script,
        ] {
            assert!(project.join(file).is_file(), "{name}: {file}");
        }
        let ignore = std::fs::read_to_string(project.join(".gitignore")).unwrap();
        assert!(ignore.lines().any(|l| l == ".ecscope/"), "{ignore}");
        let dump = dir.path().join(format!("{name}.json"));
        let run = ecscope(&[
            "run",
            project_arg,
            "--frames",
            "30",
            "--dump-world",
            dump.to_str().unwrap(),
        ]);
        assert!(run.status.success(), "{name}: {run:?}");
        let out = text(&run.stdout);
        assert!(out.contains("hello from 8 movers"), "{name}: {out}");
        let world = std::fs::read_to_string(&dump).unwrap();
        assert!(world.contains("mover-8"), "{name}: {world}");
        if script.ends_with(".py") {
            // Its editor settings find the stub, and the script checks clean.
            let mypy = Command::new("python3")
                .args(["-m", "mypy", "--config-file", "mypy.ini", "scripts"])
                .current_dir(&project)
                .output()
                .unwrap();
            assert!(mypy.status.success(), "{}", text(&mypy.stdout));
        }
        let check = ecscope(&["check", project_arg]);
        assert!(check.status.success(), "{name}: {check:?}");
        assert_eq!(
            text(&check.stdout).trim(),
            "ok: the manifest and 1 script compile"
        );
    }
}

#[test]
fn new_over_an_existing_folder_refuses_and_touches_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("taken");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(project.join("notes.txt"), "mine").unwrap();
    let out = ecscope(&["new", project.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(text(&out.stderr).contains("already exists"), "{out:?}");
    let left: Vec<_> = std::fs::read_dir(&project).unwrap().flatten().collect();
    assert_eq!(left.len(), 1, "nothing added");
    assert_eq!(
        std::fs::read_to_string(project.join("notes.txt")).unwrap(),
        "mine"
    );
}

fn broken_project(dir: &Path, manifest: &str) {
    std::fs::create_dir_all(dir.join("scripts/lib")).unwrap();
    std::fs::write(dir.join("ecscope.toml"), manifest).unwrap();
    std::fs::write(
        dir.join("scripts/a.lua"),
        "ecs.system('s', function(dt)\n  local x = 1 +\nend)\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("scripts/b.py"),
        "import ecs\n\ndef f(:\n    pass\n",
    )
    .unwrap();
    // A module no manifest names: checked too.
    std::fs::write(dir.join("scripts/lib/util.lua"), "return {\n").unwrap();
    std::fs::write(dir.join("scripts/fine.lua"), "return 1\n").unwrap();
}

#[test]
fn check_reports_every_error_in_one_pass_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    broken_project(
        dir.path(),
        "[project]\nname = \"broken\"\n[[script]]\npath = \"scripts/a.lua\"\n[[script]]\npath = \"scripts/b.py\"\n",
    );
    let out = ecscope(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let lines: Vec<String> = text(&out.stdout).lines().map(str::to_string).collect();
    assert!(lines[0].starts_with("scripts/a.lua:3: "), "{lines:?}");
    assert!(
        lines[1].starts_with("scripts/b.py:3: SyntaxError"),
        "{lines:?}"
    );
    assert!(
        lines[2].starts_with("scripts/lib/util.lua:2: "),
        "{lines:?}"
    );
    assert_eq!(lines[3], "3 problems (4 scripts compiled)");
    assert_eq!(lines.len(), 4, "{lines:?}");
}

#[test]
fn a_bad_manifest_exits_2_and_its_scripts_are_still_checked_in_json() {
    let dir = tempfile::tempdir().unwrap();
    broken_project(
        dir.path(),
        "[project]\nname = \"broken\"\n[world]\nseed = -3x\n[[script]]\npath = \"scripts/a.lua\"\n",
    );
    let out = ecscope(&["check", dir.path().to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let problems = report["problems"].as_array().unwrap();
    assert_eq!(problems[0]["kind"], "manifest");
    assert_eq!(problems[0]["file"], "ecscope.toml");
    assert_eq!(problems[0]["line"], 4);
    let scripts: Vec<(&str, u64)> = problems[1..]
        .iter()
        .map(|p| (p["file"].as_str().unwrap(), p["line"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        scripts,
        [
            ("scripts/a.lua", 3),
            ("scripts/b.py", 3),
            ("scripts/lib/util.lua", 2)
        ]
    );
    assert_eq!(report["scripts"], 4);
    // No folder at all: exit 2 and a message.
    let missing = ecscope(&["check", dir.path().join("nope").to_str().unwrap()]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("no such project folder"));
}

#[test]
fn every_sample_checks_clean() {
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_projects");
    for entry in std::fs::read_dir(&samples).unwrap().flatten() {
        if !entry.path().join("ecscope.toml").is_file() {
            continue;
        }
        let out = ecscope(&["check", entry.path().to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}: {}",
            entry.path().display(),
            text(&out.stdout)
        );
    }
}
