//! The move system (`pos += vel * dt`) written every way ECScope offers,
//! against native Rust baselines in the same process: a bevy query over the
//! same world storage the scripts use, and a flat loop over slices (the
//! memory-bandwidth floor). Plus the cost of one call each way between the
//! host and a script.

use std::hint::black_box;
use std::path::Path;

use super::workloads::open_project;
use super::{Recorder, median_time};
use crate::runtime::components::{Position, Velocity};
use crate::runtime::{Runtime, RuntimeCommand};

const DT: f64 = 1.0 / 60.0;

fn size_label(n: usize) -> String {
    match n {
        n if n >= 1_000_000 => format!("{}M", n / 1_000_000),
        n => format!("{}k", n / 1000),
    }
}

fn spawn_lua(n: usize) -> String {
    format!(
        "for i = 1, {n} do ecs.spawn({{ Position = {{ x = i, y = 0 }}, Velocity = {{ x = 1, y = 0.5 }} }}) end\n"
    )
}

fn spawn_py(n: usize) -> String {
    format!(
        "import ecs\nfor i in range({n}):\n    ecs.spawn({{'Position': {{'x': float(i), 'y': 0.0}}, 'Velocity': {{'x': 1.0, 'y': 0.5}}}})\n"
    )
}

const LUA_ENTITY: &str = "\
ecs.system('move', { 'Position', 'Velocity' }, function(id, pos, vel, dt)
  pos.x = pos.x + vel.x * dt
  pos.y = pos.y + vel.y * dt
end)
";

const LUA_BATCH: &str = "\
ecs.batch_system('move', { 'Position', 'Velocity' }, function(view, dt)
  local px, py, vx, vy = view.Position.x, view.Position.y, view.Velocity.x, view.Velocity.y
  for i = 0, view.n - 1 do
    px[i] = px[i] + vx[i] * dt
    py[i] = py[i] + vy[i] * dt
  end
end)
";

const PY_ENTITY: &str = "
@ecs.system('move', ['Position', 'Velocity'])
def move(id, pos, vel, dt):
    pos.x += vel.x * dt
    pos.y += vel.y * dt
";

const PY_NUMPY: &str = "
import numpy as np

@ecs.batch_system('move', ['Position', 'Velocity'])
def move(view, dt):
    px, py = np.asarray(view.Position.x), np.asarray(view.Position.y)
    px += np.asarray(view.Velocity.x) * dt
    py += np.asarray(view.Velocity.y) * dt
";

/// Whether the embedded Python can import numpy.
#[cfg(feature = "python")]
pub fn numpy_available() -> bool {
    use pyo3::prelude::*;
    Python::attach(|py| py.import("numpy").is_ok())
}

/// Whether the embedded Python can import numpy.
#[cfg(not(feature = "python"))]
pub fn numpy_available() -> bool {
    false
}

/// A project of `n` moving entities and one move system, with the
/// profiler and memory tracking off (they are measured on their own).
fn mover(dir: &Path, name: &str, file: &str, source: &str) -> Result<Runtime, super::BenchError> {
    let mut runtime = open_project(dir, name, file, source)?;
    runtime.apply(RuntimeCommand::SetProfiling(false))?;
    runtime.apply(RuntimeCommand::SetMemoryTracking(false))?;
    // Warm up: the JIT compiles the loops, caches fill.
    for _ in 0..3 {
        runtime.step();
    }
    Ok(runtime)
}

/// ns per entity of one frame of `runtime` (median of `reps`); an error
/// if a script failed, since a failed system measures nothing.
fn per_entity(runtime: &mut Runtime, n: usize, reps: usize) -> Result<f64, super::BenchError> {
    let time = median_time(reps, || runtime.step()).as_secs_f64() * 1e9 / n as f64;
    if runtime.error_count() > 0 {
        return Err(super::BenchError::Failed(format!(
            "{}: a script failed during the benchmark",
            runtime.project().manifest.project.name
        )));
    }
    Ok(time)
}

/// The native bevy query over the runtime's own world.
fn native_query(runtime: &mut Runtime, n: usize, reps: usize) -> f64 {
    let host = runtime.host().clone();
    let mut host = host.borrow_mut();
    let world = host.world.bevy_mut();
    let mut query = world.query::<(&mut Position, &Velocity)>();
    let time = median_time(reps, || {
        for (mut p, v) in query.iter_mut(world) {
            p.x += v.x * DT;
            p.y += v.y * DT;
        }
    });
    time.as_secs_f64() * 1e9 / n as f64
}

/// The same arithmetic over two flat slices of positions and velocities.
fn native_flat(n: usize, reps: usize) -> f64 {
    let mut pos = vec![[0.0f64; 2]; n];
    let vel = vec![[1.0f64, 0.5]; n];
    let time = median_time(reps, || {
        for (p, v) in pos.iter_mut().zip(&vel) {
            p[0] += v[0] * DT;
            p[1] += v[1] * DT;
        }
        black_box(&mut pos);
    });
    time.as_secs_f64() * 1e9 / n as f64
}

/// The move system at each size, every way, as ns per entity with ratios to
/// the native bevy query of the same size.
pub fn movement(recorder: &mut Recorder, dir: &Path, quick: bool) -> Result<(), super::BenchError> {
    let sizes: &[usize] = if quick {
        &[100_000]
    } else {
        &[10_000, 100_000, 1_000_000]
    };
    let numpy = numpy_available();
    if !numpy && cfg!(feature = "python") && recorder.wants("move/py_numpy") {
        crate::headless::eprint_line(format_args!(
            "  move/py_numpy: skipped, numpy is not installed (python3 -m pip install numpy)"
        ));
    }
    for &n in sizes {
        let label = size_label(n);
        let reps = match (quick, n) {
            (true, _) => 7,
            (false, n) if n >= 1_000_000 => 5,
            _ => 15,
        };
        if !recorder.wants("move/") {
            continue;
        }
        let baseline = format!("move/native_query/{label}");
        // The baseline runs over the Lua project's world (same storage,
        // same archetype as the scripts see).
        let mut lua = mover(
            dir,
            &format!("move-lua_entity-{label}"),
            "main.lua",
            &(spawn_lua(n) + LUA_ENTITY),
        )?;
        let native = native_query(&mut lua, n, reps);
        recorder.record(&baseline, native, "ns/entity", None);
        recorder.record(
            &format!("move/native_flat/{label}"),
            native_flat(n, reps),
            "ns/entity",
            Some(&baseline),
        );
        let mut record = |variant: &str, runtime: &mut Runtime, reps: usize| {
            let value = per_entity(runtime, n, reps)?;
            let name = format!("move/{variant}/{label}");
            recorder.record(&name, value, "ns/entity", Some(&baseline));
            Ok::<(), super::BenchError>(())
        };
        record("lua_entity", &mut lua, reps)?;
        drop(lua);
        // (variant, file, source, repetitions, wanted); one project open
        // at a time, since at 1M each holds a large world.
        let variants = [
            (
                "lua_batch",
                "main.lua",
                spawn_lua(n) + LUA_BATCH,
                reps,
                true,
            ),
            // Python per entity is slow: fewer frames at 1M.
            (
                "py_entity",
                "main.py",
                spawn_py(n) + PY_ENTITY,
                if n >= 1_000_000 { 3 } else { reps },
                cfg!(feature = "python"),
            ),
            ("py_numpy", "main.py", spawn_py(n) + PY_NUMPY, reps, numpy),
        ];
        for (variant, file, source, reps, wanted) in variants {
            if wanted {
                let mut runtime = mover(dir, &format!("move-{variant}-{label}"), file, &source)?;
                record(variant, &mut runtime, reps)?;
            }
        }
    }
    Ok(())
}

const CALLS: usize = 100_000;

/// One call each way between the host and a script, in ns, against a
/// native call through a function pointer.
pub fn calls(recorder: &mut Recorder, dir: &Path, quick: bool) -> Result<(), super::BenchError> {
    if !recorder.wants("call/") {
        return Ok(());
    }
    let reps = if quick { 5 } else { 15 };
    let f: fn(f64) -> f64 = |x| x * 1.5;
    let native = median_time(reps, || {
        let mut acc = 0.0;
        for i in 0..CALLS {
            acc += black_box(f)(black_box(i as f64));
        }
        black_box(acc);
    });
    let per_call = |t: std::time::Duration| t.as_secs_f64() * 1e9 / CALLS as f64;
    recorder.record("call/native", per_call(native), "ns/call", None);

    // Host → script: 1,000 empty per-frame systems, so one frame is 1,000
    // calls through the scheduler. Script → host: a loop calling
    // ecs.exists. (name, file, source, calls per frame)
    const SYSTEMS: usize = 1000;
    let mut cases = vec![
        (
            "call/host_to_lua",
            "main.lua",
            format!("for i = 1, {SYSTEMS} do ecs.system('s' .. i, function(dt) end) end\n"),
            SYSTEMS,
        ),
        (
            "call/lua_to_host",
            "main.lua",
            format!(
                "ecs.spawn({{}})\necs.system('calls', function(dt) local e = ecs.exists for i = 1, {CALLS} do e(1) end end)\n"
            ),
            CALLS,
        ),
    ];
    if cfg!(feature = "python") {
        cases.push((
            "call/host_to_py",
            "main.py",
            format!("import ecs\nfor i in range({SYSTEMS}):\n    ecs.system('s%d' % i, lambda dt: None)\n"),
            SYSTEMS,
        ));
        cases.push((
            "call/py_to_host",
            "main.py",
            format!(
                "import ecs\necs.spawn({{}})\n@ecs.system('calls')\ndef calls(dt):\n    e = ecs.exists\n    for i in range({CALLS}):\n        e(1)\n"
            ),
            CALLS,
        ));
    }
    for (name, file, source, calls) in cases {
        let project = name.replace('/', "-");
        let mut runtime = mover(dir, &project, file, &source)?;
        let t = median_time(reps, || runtime.step());
        recorder.record(
            name,
            t.as_secs_f64() * 1e9 / calls as f64,
            "ns/call",
            Some("call/native"),
        );
    }
    Ok(())
}
