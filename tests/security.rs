//! The threat model, tested: a restricted (untrusted) project harms
//! nothing and every attempt is reported; Lua is sandboxed by default and a
//! trusted manifest can lift it; every limit stops only the script that hit
//! it, in both languages.

use std::path::{Path, PathBuf};

use ecscope::project::Project;
mod common;

use common::{errors, logs, notices};
use ecscope::runtime::{Runtime, RuntimeEvent};

fn run(project: Project, frames: u64) -> Vec<RuntimeEvent> {
    let mut runtime = Runtime::open(project);
    let mut events = runtime.drain_events();
    for _ in 0..frames {
        runtime.step();
        events.extend(runtime.drain_events());
    }
    events
}

/// A copy of `tests/malicious` in a scratch folder.
fn malicious() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/malicious");
    std::fs::create_dir_all(dir.path().join("scripts")).unwrap();
    for file in [
        "ecscope.toml",
        "scripts/escape.lua",
        "scripts/exhaust.lua",
        "scripts/steal.py",
        "scripts/canary.lua",
    ] {
        std::fs::copy(from.join(file), dir.path().join(file)).unwrap();
    }
    dir
}

/// A one-script project.
fn project(manifest_extra: &str, file: &str, source: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("scripts")).unwrap();
    std::fs::write(
        dir.path().join("ecscope.toml"),
        format!(
            "[project]\nname = \"t\"\n{manifest_extra}\n[[script]]\npath = \"scripts/{file}\"\n"
        ),
    )
    .unwrap();
    std::fs::write(dir.path().join("scripts").join(file), source).unwrap();
    dir
}

#[test]
fn a_restricted_malicious_project_harms_nothing_and_reports_every_attempt() {
    let dir = malicious();
    let outside: PathBuf = std::env::temp_dir().join("ecscope-pwned");
    let _ = std::fs::remove_file(&outside);
    let events = run(Project::open(dir.path()).unwrap().restricted(), 20);

    let notices = notices(&events);
    for denied in [
        "os.execute",
        "io.popen",
        "io.open",
        "os.remove",
        "os.rename",
        "package.loadlib",
        "loadstring",
        "os.getenv",
        "dofile",
        "os.exit",
    ] {
        assert!(
            notices.iter().any(|n| n.starts_with(&format!("sandbox: denied {denied} at scripts/escape.lua:"))),
            "{denied} not reported: {notices:#?}"
        );
    }
    assert!(
        notices
            .iter()
            .any(|n| n.starts_with("skipped scripts/steal.py: restricted mode")),
        "{notices:#?}"
    );
    assert!(!logs(&events).iter().any(|l| l.contains("succeeded")));

    // Each runaway system is stopped with its own limit's error.
    let errors = errors(&events);
    for (line, expected) in [
        (4, "stack overflow"),
        (
            7,
            "out of memory: the script's Lua heap reached its limit of 16 MiB",
        ),
        (12, "instruction limit exceeded"),
        (15, "spawn limit: more than 1000 entities"),
        (20, "value too large: more than 10000 items"),
    ] {
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with(&format!("scripts/exhaust.lua:{line}: "))
                    && e.contains(expected)),
            "{expected}: {errors:#?}"
        );
    }
    assert_eq!(errors.len(), 5, "{errors:#?}");

    // The host and the other scripts went on; nothing was touched.
    let canary = logs(&events)
        .iter()
        .filter(|l| l.starts_with("canary alive"))
        .count();
    assert_eq!(canary, 2);
    assert!(dir.path().join("ecscope.toml").is_file());
    assert!(!outside.exists());
    assert!(!Path::new("/tmp/ecscope-pwned-by-python").exists());
}

#[test]
fn lua_is_sandboxed_by_default_and_a_trusted_manifest_can_lift_it() {
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("written.txt");
    let source = format!(
        r#"
local ok, err = pcall(function() local f = assert(io.open({target:?}, "w")) f:write("x") f:close() end)
print("write", ok, err)
local ok2, err2 = pcall(os.exit, 3)
print("exit", ok2, err2)
local f = assert(io.open("inside.txt", "w")) f:write("kept") f:close()
"#
    );
    let sandboxed = project("", "main.lua", &source);
    let events = run(Project::open(sandboxed.path()).unwrap(), 1);
    assert!(!target.exists());
    let logs_ = logs(&events);
    assert!(logs_[0].contains("outside the project folder"), "{logs_:?}");
    assert!(logs_[1].contains("os.exit is not allowed"), "{logs_:?}");
    // Files inside the project are the script's to use; relative paths are
    // the project's, whatever the working directory.
    assert_eq!(
        std::fs::read_to_string(sandboxed.path().join("inside.txt")).unwrap(),
        "kept"
    );

    let lifted = project("[sandbox]\nlua = false\n", "main.lua", &source);
    let events = run(Project::open(lifted.path()).unwrap(), 1);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "x");
    let logs_ = logs(&events);
    assert!(logs_[0].starts_with("write\ttrue"), "{logs_:?}");
    // Ending the host is never a script's to decide.
    assert!(logs_[1].contains("os.exit is not allowed"), "{logs_:?}");

    // Restricted wins over the manifest.
    std::fs::remove_file(&target).unwrap();
    run(Project::open(lifted.path()).unwrap().restricted(), 1);
    assert!(!target.exists());
}

#[test]
fn python_scripts_meet_the_same_limits_and_the_host_goes_on() {
    let dir = project(
        "[limits]\nspawns_per_frame = 100\nvalue_items = 1000\n",
        "main.py",
        r#"import ecs

@ecs.system("recurse")
def recurse(dt):
    def deeper(n):
        return deeper(n + 1) + 1
    deeper(1)

@ecs.system("flood")
def flood(dt):
    for i in range(1000):
        ecs.spawn({"Position": {"x": i, "y": 0}})

@ecs.system("huge")
def huge(dt):
    ecs.emit("huge", list(range(5000)))

@ecs.system("alive")
def alive(dt):
    if ecs.frame() == 5:
        print("still here")
"#,
    );
    let events = run(Project::open(dir.path()).unwrap(), 6);
    let errors = errors(&events);
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert!(
        errors.iter().any(|e| e.contains("RecursionError")),
        "{errors:#?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("spawn limit: more than 100 entities")),
        "{errors:#?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("value too large: more than 1000 items")),
        "{errors:#?}"
    );
    assert_eq!(logs(&events), vec!["still here".to_string()]);
}

#[test]
fn bad_limit_and_sandbox_settings_name_their_line() {
    for (extra, key) in [
        (
            "[limits]\nspawns_per_frame = 0\n",
            "limits.spawns_per_frame",
        ),
        ("[limits]\nvalue_items = 0\n", "limits.value_items"),
        ("[sandbox]\nlua = \"no\"\n", "sandbox.lua"),
        ("[sandbox]\npython = false\n", "sandbox"),
    ] {
        let dir = project(extra, "main.lua", "");
        let err = Project::open(dir.path()).unwrap_err();
        assert!(err.line.is_some(), "{err}");
        assert!(err.to_string().contains(key), "{extra}: {err}");
    }
}
