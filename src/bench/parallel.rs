//! `parallel/*`: systems of many scripts that declare their access, run
//! on one worker thread and on two (SCRIPT_API §5), taking turns so drift
//! on a shared machine hits both alike.

use std::path::Path;

use super::{Recorder, median_time};
use crate::project::Project;
use crate::runtime::Runtime;

/// A heavy script: its one system does pure Lua work on its own
/// component, as a simulation step of one subsystem would.
fn heavy(n: usize) -> String {
    format!(
        "ecs.component(\"Work{n}\", {{ acc = 0 }})\n\
         for k = 1, 4 do ecs.spawn({{ Work{n} = {{ acc = k }} }}) end\n\
         ecs.system(\"work\", {{ \"Work{n}\" }}, function(id, w, dt)\n\
         \x20 local s = 0\n\
         \x20 for i = 1, 60000 do s = s + math.sin(i * 0.001 + w.acc) end\n\
         \x20 w.acc = (w.acc + s) % 1000\n\
         end, {{ writes = {{}} }})\n"
    )
}

/// A small script: one component, ten entities, a short system.
fn small(n: usize) -> String {
    format!(
        "ecs.component(\"Dot{n}\", {{ a = 0 }})\n\
         for k = 1, 10 do ecs.spawn({{ Dot{n} = {{ a = k }} }}) end\n\
         ecs.system(\"turn\", {{ \"Dot{n}\" }}, function(id, d, dt)\n\
         \x20 d.a = (d.a + dt * {speed}) % 6.283\n\
         end, {{ writes = {{}} }})\n",
        speed = 1 + n % 5
    )
}

/// A project's files, (path, text): the scripts its manifest lists, and
/// the modules they load.
type Files = (Vec<(String, String)>, Vec<(String, String)>);

/// The `parallel_systems` sample's scripts (listed in its manifest) and
/// its module; `fixed` makes the change its README teaches.
fn sample(fixed: bool) -> Files {
    let bees = include_str!("../../sample_projects/parallel_systems/scripts/bees.lua");
    let bees = if fixed {
        bees.replace(
            "end, { writes = {} })",
            "end, { reads = { \"Position\" } })",
        )
    } else {
        bees.to_string()
    };
    let listed = [
        (
            "fish",
            include_str!("../../sample_projects/parallel_systems/scripts/fish.lua").to_string(),
        ),
        (
            "birds",
            include_str!("../../sample_projects/parallel_systems/scripts/birds.lua").to_string(),
        ),
        (
            "ants",
            include_str!("../../sample_projects/parallel_systems/scripts/ants.lua").to_string(),
        ),
        ("bees", bees),
        (
            "motion",
            include_str!("../../sample_projects/parallel_systems/scripts/motion.lua").to_string(),
        ),
    ];
    let module = (
        "scripts/swarm.lua".to_string(),
        include_str!("../../sample_projects/parallel_systems/scripts/swarm.lua").to_string(),
    );
    (
        listed
            .into_iter()
            .map(|(name, source)| (format!("scripts/{name}.lua"), source))
            .collect(),
        vec![module],
    )
}

fn open(
    dir: &Path,
    name: &str,
    (listed, modules): &Files,
    threads: u32,
) -> Result<Runtime, String> {
    let root = dir.join(name);
    std::fs::create_dir_all(root.join("scripts")).map_err(|e| e.to_string())?;
    let mut manifest = format!("[project]\nname = \"{name}\"\n");
    for (path, source) in listed {
        manifest.push_str(&format!("[[script]]\npath = \"{path}\"\n"));
        std::fs::write(root.join(path), source).map_err(|e| e.to_string())?;
    }
    for (path, source) in modules {
        std::fs::write(root.join(path), source).map_err(|e| e.to_string())?;
    }
    std::fs::write(root.join("ecscope.toml"), manifest).map_err(|e| e.to_string())?;
    let mut project = Project::open(&root).map_err(|e| e.to_string())?;
    project.manifest.runtime.threads = Some(threads);
    let mut runtime = Runtime::open(project);
    runtime
        .apply(crate::runtime::RuntimeCommand::SetProfiling(false))
        .map_err(|e| e.to_string())?;
    if runtime.error_count() > 0 {
        return Err(format!("{name}: a script failed to load"));
    }
    Ok(runtime)
}

/// Frame time of 8 heavy scripts, of 1,000 small ones and of the
/// `parallel_systems` sample (as shipped, and with its README's fix) on 1
/// and 2 threads, and the speedup.
pub fn parallel(recorder: &mut Recorder, dir: &Path, quick: bool) -> Result<(), String> {
    if !recorder.wants("parallel/") {
        return Ok(());
    }
    let (rounds, frames) = if quick { (3, 5) } else { (7, 15) };
    let numbered = |sources: Vec<String>| {
        let listed = sources
            .into_iter()
            .enumerate()
            .map(|(i, source)| (format!("scripts/s{i:04}.lua"), source))
            .collect();
        (listed, Vec::new())
    };
    let cases = [
        ("heavy_8_scripts", numbered((0..8).map(heavy).collect())),
        (
            "small_1000_scripts",
            numbered((0..1000).map(small).collect()),
        ),
        ("sample_parallel_systems", sample(false)),
        ("sample_parallel_systems_fixed", sample(true)),
    ];
    for (name, sources) in cases {
        let mut one = open(dir, &format!("{name}_1"), &sources, 1)?;
        let mut two = open(dir, &format!("{name}_2"), &sources, 2)?;
        for _ in 0..3 {
            one.step();
            two.step();
        }
        let (mut t1, mut t2) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            t1.push(median_time(frames, || one.step()).as_secs_f64() * 1e3);
            t2.push(median_time(frames, || two.step()).as_secs_f64() * 1e3);
        }
        if two.groups_on_workers() == 0 {
            return Err(format!("parallel/{name}: no group ran on the workers"));
        }
        t1.sort_by(f64::total_cmp);
        t2.sort_by(f64::total_cmp);
        let (m1, m2) = (t1[t1.len() / 2], t2[t2.len() / 2]);
        let base = format!("parallel/{name}/1_thread");
        recorder.record(&base, m1, "ms/frame", None);
        recorder.record(
            &format!("parallel/{name}/2_threads"),
            m2,
            "ms/frame",
            Some(&base),
        );
        recorder.record(
            &format!("parallel/{name}/speedup_2_threads"),
            m1 / m2,
            "×",
            None,
        );
    }
    Ok(())
}
