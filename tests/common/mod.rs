//! Helpers shared by the integration tests: reading an event stream,
//! waiting for a child process with a bound on wall time, and projects to
//! run (one script in a temporary folder, a copy of a sample).

#![allow(dead_code)]

pub mod dap;
pub mod devtools;

use std::io::Read;
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

use ecscope::runtime::{EventKind, RuntimeEvent};

/// The `print`/`ecs.log` messages, in order.
pub fn logs(events: &[RuntimeEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Log { message, .. } => Some(message.clone()),
            _ => None,
        })
        .collect()
}

/// Script errors as `script:line: message`.
pub fn errors(events: &[RuntimeEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::ScriptError(info) => {
                Some(format!("{}:{}: {}", info.script, info.line, info.message))
            }
            _ => None,
        })
        .collect()
}

/// Notices (skipped scripts, sandbox denials...).
pub fn notices(events: &[RuntimeEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Notice { message } => Some(message.clone()),
            _ => None,
        })
        .collect()
}

/// Waits for `child` at most `limit` (then kills it and fails the test),
/// reading its stdout and stderr where they were piped, so that neither
/// pipe fills and stalls it. Returns the status, stdout and stderr.
pub fn wait_child(mut child: Child, limit: Duration) -> (ExitStatus, String, String) {
    let read = |pipe: Option<Box<dyn Read + Send>>| {
        pipe.map(|mut pipe| {
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = pipe.read_to_string(&mut text);
                text
            })
        })
    };
    let out = read(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = read(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("ecscope still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let text = |t: Option<std::thread::JoinHandle<String>>| {
        t.map(|t| t.join().unwrap()).unwrap_or_default()
    };
    (status, text(out), text(err))
}

/// A project in a temporary folder whose scripts are `scripts/FILE` with
/// the given sources, loaded in the order given.
pub fn project_of(scripts: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("scripts")).unwrap();
    let mut manifest = String::from("[project]\nname = \"t\"\n");
    for (file, source) in scripts {
        manifest.push_str(&format!("[[script]]\npath = \"scripts/{file}\"\n"));
        std::fs::write(dir.path().join("scripts").join(file), source).unwrap();
    }
    std::fs::write(dir.path().join("ecscope.toml"), manifest).unwrap();
    dir
}

/// A project of one script `scripts/FILE` in a temporary folder, opened.
pub fn one_script(file: &str, source: &str) -> (tempfile::TempDir, ecscope::runtime::Runtime) {
    let dir = project_of(&[(file, source)]);
    let project = ecscope::project::Project::open(dir.path()).unwrap();
    (dir, ecscope::runtime::Runtime::open(project))
}

/// A project folder copied to a temporary folder (its `.ecscope` left
/// behind), so that edits, breakpoints and histories never touch the
/// repository's.
pub fn copy_of_project(from: &std::path::Path) -> tempfile::TempDir {
    fn copy(from: &std::path::Path, to: &std::path::Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap().flatten() {
            let path = entry.path();
            if path.file_name().is_some_and(|n| n == ".ecscope") {
                continue;
            }
            let target = to.join(entry.file_name());
            if path.is_dir() {
                copy(&path, &target);
            } else {
                std::fs::copy(&path, &target).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    copy(from, dir.path());
    dir
}

/// A sample copied as [`copy_of_project`] does.
pub fn copy_of_sample(name: &str) -> tempfile::TempDir {
    copy_of_project(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("sample_projects")
            .join(name),
    )
}
