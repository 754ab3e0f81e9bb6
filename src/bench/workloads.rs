//! The benchmark workloads: generated projects run through the real
//! runtime.

use std::path::{Path, PathBuf};

use super::{Recorder, median_time};
use crate::project::Project;
use crate::runtime::Runtime;

/// Writes a one-script project and opens it.
pub fn open_project(dir: &Path, name: &str, file: &str, source: &str) -> Result<Runtime, String> {
    let root: PathBuf = dir.join(name);
    std::fs::create_dir_all(root.join("scripts")).map_err(|e| e.to_string())?;
    std::fs::write(
        root.join("ecscope.toml"),
        format!("[project]\nname = \"{name}\"\n[[script]]\npath = \"scripts/{file}\"\n"),
    )
    .map_err(|e| e.to_string())?;
    std::fs::write(root.join("scripts").join(file), source).map_err(|e| e.to_string())?;
    let project = Project::open(&root).map_err(|e| e.to_string())?;
    let runtime = Runtime::open(project);
    if runtime.error_count() > 0 {
        return Err(format!("the {name} benchmark project failed to load"));
    }
    Ok(runtime)
}

/// Coroutine resume cost with 10,000 live coroutines, each waiting one
/// frame at a time, with and without a breakpoint set in its script.
pub fn coroutines(recorder: &mut Recorder, dir: &Path, quick: bool) -> Result<(), String> {
    const COUNT: usize = 10_000;
    let lua = format!(
        "for i = 1, {COUNT} do\n  ecs.start('c', function()\n    local n = 0\n    while true do\n      n = n + 1\n      coroutine.yield()\n    end\n  end)\nend\n"
    );
    let python = format!(
        "import ecs\n\ndef c():\n    n = 0\n    while True:\n        n += 1\n        yield\n\nfor i in range({COUNT}):\n    ecs.start('c', c)\n"
    );
    let mut languages = vec![("lua", "main.lua", lua)];
    if cfg!(feature = "python") {
        languages.push(("python", "main.py", python));
    }
    let frames = if quick { 5 } else { 20 };
    for (language, file, source) in languages {
        for breakpoints in [false, true] {
            let name = format!(
                "coroutine/{language}{}/10k",
                if breakpoints { "+breakpoint" } else { "" }
            );
            if !recorder.wants(&name) {
                continue;
            }
            let mut runtime =
                open_project(dir, &format!("co-{language}-{breakpoints}"), file, &source)?;
            if breakpoints {
                // A breakpoint the coroutines never reach: what it costs is
                // the line hook it switches on.
                runtime
                    .debugger()
                    .set_breakpoint(&format!("scripts/{file}"), 1000, true);
            }
            runtime.step();
            let time = median_time(frames, || runtime.step());
            let per_resume = time.as_secs_f64() * 1e9 / COUNT as f64;
            let baseline = format!("coroutine/{language}/10k");
            recorder.record(
                &name,
                per_resume,
                "ns/resume",
                breakpoints.then_some(baseline.as_str()),
            );
        }
    }
    Ok(())
}
