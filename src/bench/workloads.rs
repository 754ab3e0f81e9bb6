//! The benchmark workloads: generated projects run through the real
//! runtime.

use std::path::{Path, PathBuf};

use super::{Recorder, median_time};
use crate::project::Project;
use crate::runtime::Runtime;

/// Writes a one-script project and opens it.
pub fn open_project(
    dir: &Path,
    name: &str,
    file: &str,
    source: &str,
) -> Result<Runtime, super::BenchError> {
    let root: PathBuf = dir.join(name);
    std::fs::create_dir_all(root.join("scripts")).map_err(|e| e.to_string())?;
    std::fs::write(
        root.join("ecscope.toml"),
        // Spawning a million entities at load is far past the default
        // per-frame instruction limit, which guards against endless loops.
        format!(
            "[project]\nname = \"{name}\"\n[limits]\ninstructions_per_frame = 100000000000\n[[script]]\npath = \"scripts/{file}\"\n"
        ),
    )
    .map_err(|e| e.to_string())?;
    std::fs::write(root.join("scripts").join(file), source).map_err(|e| e.to_string())?;
    let project = Project::open(&root).map_err(|e| e.to_string())?;
    loaded(name, Runtime::open(project))
}

/// The runtime, or its first script error when a script failed to load.
fn loaded(name: &str, mut runtime: Runtime) -> Result<Runtime, super::BenchError> {
    if runtime.error_count() == 0 {
        return Ok(runtime);
    }
    let first = runtime
        .drain_events()
        .into_iter()
        .find_map(|e| match e.kind {
            crate::runtime::EventKind::ScriptError(info) => {
                Some(format!("{}:{}: {}", info.script, info.line, info.message))
            }
            _ => None,
        });
    Err(super::BenchError::Failed(format!(
        "the {name} benchmark project failed to load: {}",
        first.unwrap_or_default()
    )))
}

/// Coroutine resume cost with 10,000 live coroutines, each waiting one
/// frame at a time: with nothing set, and with each debugging feature on,
/// to show what it costs per resume. A breakpoint the coroutines never
/// reach costs the line hook it switches on; a never-true condition on
/// their hot line costs an evaluation per pass; a data breakpoint and write
/// tracking cost a check of the watched fields at every line; break on
/// error (on in the GUI) costs naming each call.
pub fn coroutines(
    recorder: &mut Recorder,
    dir: &Path,
    quick: bool,
) -> Result<(), super::BenchError> {
    const COUNT: usize = 10_000;
    let lua = format!(
        "ecs.spawn({{ Position = {{}} }})\nfor i = 1, {COUNT} do\n  ecs.start('c', function()\n    local n = 0\n    while true do\n      n = n + 1\n      coroutine.yield()\n    end\n  end)\nend\n"
    );
    let python = format!(
        "import ecs\necs.spawn({{'Position': {{}}}})\n\ndef c():\n    n = 0\n    while True:\n        n += 1\n        yield\n\nfor i in range({COUNT}):\n    ecs.start('c', c)\n"
    );
    // (language, file, source, the line of `n = n + 1`)
    let mut languages = vec![("lua", "main.lua", lua, 6)];
    if cfg!(feature = "python") {
        languages.push(("python", "main.py", python, 7));
    }
    let frames = if quick { 5 } else { 20 };
    let variants = [
        "",
        "+on-error",
        "+breakpoint",
        "+condition",
        "+data",
        "+track",
    ];
    for (language, file, source, hot) in languages {
        for variant in variants {
            let name = format!("coroutine/{language}{variant}/10k");
            if !recorder.wants(&name) {
                continue;
            }
            let mut runtime = open_project(dir, &format!("co-{language}{variant}"), file, &source)?;
            let debugger = runtime.debugger();
            let path = format!("scripts/{file}");
            match variant {
                "+breakpoint" => debugger.set_breakpoint(&path, 1000, true),
                "+condition" => debugger.set_breakpoint_spec(
                    &path,
                    hot,
                    crate::scripting::debugger::BreakpointSpec {
                        condition: Some("n < 0".into()),
                        ..crate::scripting::debugger::BreakpointSpec::plain()
                    },
                )?,
                "+data" => {
                    let watch = crate::scripting::debugger::DataBreakpoint::parse(
                        "Position.x changes",
                        Some(1),
                    )?;
                    debugger.add_data_breakpoint(watch)?;
                }
                "+track" => debugger.track_writes(Some(1)),
                // As in the GUI: break on error with a handler installed.
                "+on-error" => {
                    debugger.set_break_on_error(true);
                    debugger.set_handler(Some(Box::new(|_, _| {
                        crate::scripting::debugger::DebugAction::Continue
                    })));
                }
                _ => {}
            }
            runtime.step();
            let time = median_time(frames, || runtime.step());
            let per_resume = time.as_secs_f64() * 1e9 / COUNT as f64;
            let baseline = format!("coroutine/{language}/10k");
            recorder.record(
                &name,
                per_resume,
                "ns/resume",
                (!variant.is_empty()).then_some(baseline.as_str()),
            );
        }
    }
    Ok(())
}

/// Reload latency: a script is saved again and again (a constant changes
/// each time) while the project watcher runs; each save is timed from the
/// write to the new version being installed, split into the watcher's
/// delay (file events and their settling), compile/load and swap. The
/// runtime's share (compile/load + swap) is compared with opening the same
/// project from scratch: what a restart would cost, with the state lost.
pub fn reload(recorder: &mut Recorder, dir: &Path, quick: bool) -> Result<(), super::BenchError> {
    let lua = "local SPEED = @N@\n\
        ecs.component('Mover', { phase = 0 })\n\
        ecs.persist.ids = ecs.persist.ids or {}\n\
        if #ecs.persist.ids == 0 then\n\
          for i = 1, 200 do\n\
            ecs.persist.ids[i] = ecs.spawn({ Position = { x = i, y = 0 }, Mover = { phase = i } })\n\
          end\n\
        end\n\
        ecs.system('move', { 'Position', 'Mover' }, function(id, pos, m, dt)\n\
          m.phase = m.phase + SPEED * dt\n\
          pos.y = math.sin(m.phase)\n\
        end)\n\
        function on_reload(persist) end\n";
    let python = "import math\nimport ecs\n\nSPEED = @N@\n\
        ecs.component('Mover', {'phase': 0.0})\n\
        ecs.persist.setdefault('ids', [])\n\
        if not ecs.persist['ids']:\n\
        \x20   for i in range(200):\n\
        \x20       ecs.persist['ids'].append(ecs.spawn({'Position': {'x': i, 'y': 0}, 'Mover': {'phase': i}}))\n\n\
        def move(id, pos, m, dt):\n\
        \x20   m.phase += SPEED * dt\n\
        \x20   pos.y = math.sin(m.phase)\n\n\
        ecs.system('move', ['Position', 'Mover'], move)\n\n\
        def on_reload(persist):\n\
        \x20   pass\n";
    let mut languages = vec![("lua", "main.lua", lua)];
    if cfg!(feature = "python") {
        languages.push(("python", "main.py", python));
    }
    let saves = if quick { 20 } else { 200 };
    for (language, file, source) in languages {
        let prefix = format!("reload/{language}");
        if !recorder.wants(&prefix) {
            continue;
        }
        let name = format!("reload-{language}");
        let first = source.replace("@N@", "1.0");
        let restart = {
            let root = dir.join(&name);
            let _ = open_project(dir, &name, file, &first)?;
            median_time(if quick { 3 } else { 7 }, || {
                let project = Project::open(&root).expect("opened above");
                drop(Runtime::open(project));
            })
        };
        let mut runtime = open_project(dir, &name, file, &first)?;
        let samples = reload_samples(&mut runtime, &dir.join(&name), file, source, saves)?;
        let restart_name = format!("{prefix}/restart");
        recorder.record(&restart_name, ms(restart), "ms", None);
        for (part, pick) in [
            ("write_to_active", 0usize),
            ("watcher", 1),
            ("compile_load", 2),
            ("swap", 3),
            ("reload_work", 4),
        ] {
            let mut values: Vec<f64> = samples.iter().map(|s| s[pick]).collect();
            values.sort_by(f64::total_cmp);
            for (label, q) in [("p50", 0.50), ("p99", 0.99)] {
                let index = ((values.len() - 1) as f64 * q).round() as usize;
                // The headline numbers: a Lua script, write to new code.
                if language == "lua" && part == "write_to_active" {
                    recorder.record(&format!("reload/{label}"), values[index], "ms", None);
                }
                // The runtime's own share (no file watching) against what
                // opening the project from scratch costs.
                let baseline = (part == "reload_work").then_some(restart_name.as_str());
                recorder.record(
                    &format!("{prefix}/{part}/{label}"),
                    values[index],
                    "ms",
                    baseline,
                );
            }
        }
    }
    Ok(())
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Saves the script `saves` times; per save: write→active, watcher,
/// compile/load, swap, and compile/load + swap, in ms.
fn reload_samples(
    runtime: &mut Runtime,
    root: &Path,
    file: &str,
    source: &str,
    saves: usize,
) -> Result<Vec<[f64; 5]>, super::BenchError> {
    use crate::hot_reload::watcher::ProjectWatcher;
    use std::sync::mpsc::channel;
    use std::time::{Duration, Instant};

    let (tx, rx) = channel();
    let _watcher = ProjectWatcher::start(root, move |change| {
        let _ = tx.send(change);
    })?;
    let path = root.join("scripts").join(file);
    let mut samples = Vec::with_capacity(saves);
    for i in 0..saves {
        // Settle: late events of the previous save are not this one's.
        std::thread::sleep(Duration::from_millis(30));
        while rx.try_recv().is_ok() {}
        let text = source.replace("@N@", &format!("{}.5", i + 2));
        let written = Instant::now();
        std::fs::write(&path, &text).map_err(|e| format!("{}: {e}", path.display()))?;
        let deadline = written + Duration::from_secs(5);
        let (delivered, timing) = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let change = rx
                .recv_timeout(left)
                .map_err(|_| format!("save {i} of {file} was not seen within 5 s"))?;
            let delivered = Instant::now();
            runtime.file_changed(&change);
            if let Some(timing) = runtime.take_reload_timing() {
                break (delivered, timing);
            }
        };
        let active = Instant::now();
        runtime.step();
        if runtime.error_count() > 0 {
            return Err(super::BenchError::Failed(format!(
                "the reload benchmark's {file} failed after save {i}"
            )));
        }
        samples.push([
            ms(active - written),
            ms(delivered - written),
            ms(timing.compile_load),
            ms(timing.swap),
            ms(timing.compile_load + timing.swap),
        ]);
    }
    Ok(samples)
}

/// The boids sample's scripts: the workload the profiling overheads are
/// measured on.
const BOIDS: [(&str, &str); 3] = [
    (
        "scripts/settings.lua",
        include_str!("../../sample_projects/boids/scripts/settings.lua"),
    ),
    (
        "scripts/spawn.lua",
        include_str!("../../sample_projects/boids/scripts/spawn.lua"),
    ),
    (
        "scripts/flock.lua",
        include_str!("../../sample_projects/boids/scripts/flock.lua"),
    ),
];

/// Writes a project of several files; `scripts` are the manifest's.
fn open_files(
    dir: &Path,
    name: &str,
    files: &[(&str, &str)],
    scripts: &[&str],
) -> Result<Runtime, super::BenchError> {
    let root = dir.join(name);
    let mut manifest = format!("[project]\nname = \"{name}\"\n[world]\nseed = 42\n");
    for script in scripts {
        manifest.push_str(&format!("[[script]]\npath = \"{script}\"\n"));
    }
    std::fs::create_dir_all(root.join("scripts")).map_err(|e| e.to_string())?;
    std::fs::write(root.join("ecscope.toml"), manifest).map_err(|e| e.to_string())?;
    for (path, text) in files {
        std::fs::write(root.join(path), text).map_err(|e| e.to_string())?;
    }
    loaded(
        name,
        Runtime::open(Project::open(&root).map_err(|e| e.to_string())?),
    )
}

/// Python that allocates: 2,000 small dicts and strings a frame.
const ALLOCATING_PYTHON: &str = "\
import ecs

@ecs.system('alloc')
def alloc(dt):
    data = [{'i': i, 's': str(i)} for i in range(2000)]
";

/// Frame time of the boids sample with the profiler and memory tracking
/// off, on, and both, as ratios to the run with both off; configurations
/// take turns so drift on a shared machine hits them alike. For Python's
/// heap, the allocator hooks are also compared with `tracemalloc`.
pub fn profiling_overhead(
    recorder: &mut Recorder,
    dir: &Path,
    quick: bool,
) -> Result<(), super::BenchError> {
    use crate::runtime::RuntimeCommand;

    let (rounds, frames) = if quick { (3, 10) } else { (9, 30) };
    if recorder.wants("profiler/") || recorder.wants("memory_tracking/") {
        let mut runtime = open_files(
            dir,
            "boids",
            &BOIDS,
            &["scripts/spawn.lua", "scripts/flock.lua"],
        )?;
        for _ in 0..5 {
            runtime.step();
        }
        // (name, profiler, memory tracking); the first is the baseline.
        let configs = [
            ("profiler/off", false, false),
            ("profiler/on", true, false),
            ("memory_tracking/on", false, true),
            ("profiler+memory_tracking/on", true, true),
        ];
        let mut times: Vec<Vec<f64>> = vec![Vec::new(); configs.len()];
        for _ in 0..rounds {
            for (i, &(_, profiling, memory)) in configs.iter().enumerate() {
                runtime.apply(RuntimeCommand::SetProfiling(profiling))?;
                runtime.apply(RuntimeCommand::SetMemoryTracking(memory))?;
                let t = median_time(frames, || runtime.step());
                times[i].push(t.as_secs_f64() * 1e3);
            }
        }
        runtime.apply(RuntimeCommand::SetProfiling(true))?;
        runtime.apply(RuntimeCommand::SetMemoryTracking(true))?;
        for (i, &(name, _, _)) in configs.iter().enumerate() {
            let baseline = (i > 0).then_some("profiler/off");
            recorder.record(name, median(&mut times[i]), "ms/frame", baseline);
        }
    }
    if recorder.wants("sampling/") {
        sampling_overhead(recorder, dir, rounds, frames)?;
    }
    if cfg!(feature = "python") && recorder.wants("python_heap/") {
        let mut plain = open_project(dir, "alloc-py", "main.py", ALLOCATING_PYTHON)?;
        let traced = format!("import tracemalloc\ntracemalloc.start()\n{ALLOCATING_PYTHON}");
        let mut traced = open_project(dir, "alloc-py-traced", "main.py", &traced)?;
        // Heap counting alone is measured: no profiler, no sampler thread.
        for runtime in [&mut plain, &mut traced] {
            runtime.apply(RuntimeCommand::SetProfiling(false))?;
        }
        // tracemalloc is process-wide: the traced project runs last in
        // each round and switches it off after.
        let mut off = Vec::new();
        let mut hooks = Vec::new();
        let mut tracing = Vec::new();
        for _ in 0..rounds {
            crate::profiling::alloc::set_counting(false);
            off.push(median_time(frames, || plain.step()).as_secs_f64() * 1e3);
            crate::profiling::alloc::set_counting(true);
            hooks.push(median_time(frames, || plain.step()).as_secs_f64() * 1e3);
            crate::profiling::alloc::set_counting(false);
            traced.apply(RuntimeCommand::ReloadScript {
                script: "scripts/main.py".into(),
            })?;
            tracing.push(median_time(frames, || traced.step()).as_secs_f64() * 1e3);
            stop_tracemalloc();
            crate::profiling::alloc::set_counting(true);
        }
        recorder.record("python_heap/uncounted", median(&mut off), "ms/frame", None);
        recorder.record(
            "python_heap/allocator_hooks",
            median(&mut hooks),
            "ms/frame",
            Some("python_heap/uncounted"),
        );
        recorder.record(
            "python_heap/tracemalloc",
            median(&mut tracing),
            "ms/frame",
            Some("python_heap/uncounted"),
        );
    }
    Ok(())
}

/// Python that runs per entity: 1,000 entities moved by a query system.
const PER_ENTITY_PYTHON: &str = "\
import ecs, math

for i in range(1000):
    ecs.spawn({'Position': {'x': float(i), 'y': 0.0}, 'Velocity': {'x': 1.0, 'y': 0.5}})

@ecs.system('move', ['Position', 'Velocity'])
def move(id, pos, vel, dt):
    pos.x += vel.x * dt
    pos.y += math.sin(pos.x) * vel.y * dt
";

/// Frame time with the stack sampler at 1 kHz against the same run with
/// it off, the profiler recording in both: on `boids` (Lua, JIT-compiled)
/// and on a per-entity Python system.
fn sampling_overhead(
    recorder: &mut Recorder,
    dir: &Path,
    rounds: usize,
    frames: usize,
) -> Result<(), super::BenchError> {
    use crate::runtime::RuntimeCommand;

    let mut workloads = vec![(
        "boids",
        open_files(
            dir,
            "boids-sampled",
            &BOIDS,
            &["scripts/spawn.lua", "scripts/flock.lua"],
        )?,
    )];
    if cfg!(feature = "python") {
        workloads.push((
            "python_per_entity",
            open_project(dir, "per-entity-py", "main.py", PER_ENTITY_PYTHON)?,
        ));
    }
    for (name, mut runtime) in workloads {
        runtime.apply(RuntimeCommand::SetProfiling(true))?;
        runtime.apply(RuntimeCommand::SetMemoryTracking(false))?;
        for _ in 0..5 {
            runtime.step();
        }
        let (mut off, mut on) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            runtime.apply(RuntimeCommand::SetSampleHz(0))?;
            off.push(median_time(frames, || runtime.step()).as_secs_f64() * 1e3);
            runtime.apply(RuntimeCommand::SetSampleHz(1000))?;
            on.push(median_time(frames, || runtime.step()).as_secs_f64() * 1e3);
        }
        let samples: u64 = runtime.samples().iter().map(|(_, n)| n).sum();
        if samples == 0 {
            return Err(super::BenchError::Failed(format!(
                "sampling {name} at 1 kHz took no samples"
            )));
        }
        let base = format!("sampling/{name}/off");
        recorder.record(&base, median(&mut off), "ms/frame", None);
        recorder.record(
            &format!("sampling/{name}/1khz"),
            median(&mut on),
            "ms/frame",
            Some(&base),
        );
    }
    crate::profiling::alloc::set_counting(true);
    Ok(())
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

#[cfg(feature = "python")]
fn stop_tracemalloc() {
    use pyo3::prelude::*;
    Python::attach(|py| {
        let _ = py
            .import("tracemalloc")
            .and_then(|t| t.call_method0("stop"));
    });
}

#[cfg(not(feature = "python"))]
fn stop_tracemalloc() {}
