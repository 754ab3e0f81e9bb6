//! Every sample project runs headless for a few hundred frames without a
//! script error, and does what its README teaches: each check below is
//! about the sample's outcome, not only that it ran.

use std::path::{Path, PathBuf};

use ecscope::project::Project;
use ecscope::runtime::{EventKind, Runtime, RuntimeCommand, RuntimeEvent};
use ecscope::scripting::ScriptValue;

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample_projects")
        .join(name)
}

/// A sample after `frames` frames: its world dump and every event.
struct Ran {
    dump: serde_json::Value,
    events: Vec<RuntimeEvent>,
}

impl Ran {
    fn logs(&self) -> Vec<&str> {
        self.events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Log { message, .. } => Some(message.as_str()),
                _ => None,
            })
            .collect()
    }

    fn entities(&self) -> &Vec<serde_json::Value> {
        self.dump["entities"].as_array().unwrap()
    }

    /// The entities that have component `name`.
    fn with(&self, name: &str) -> Vec<&serde_json::Value> {
        self.entities()
            .iter()
            .filter(|e| e["components"].get(name).is_some())
            .collect()
    }

    fn field(entity: &serde_json::Value, component: &str, field: &str) -> f64 {
        entity["components"][component][field].as_f64().unwrap()
    }
}

fn run(name: &str, frames: u64) -> Ran {
    run_with(name, frames, &[])
}

/// As [`run`], with commands applied before the first frame (what a user
/// does in the Inspector).
fn run_with(name: &str, frames: u64, commands: &[RuntimeCommand]) -> Ran {
    let project = Project::open(&sample(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut runtime = Runtime::open(project);
    for command in commands {
        runtime.apply(command.clone()).unwrap();
    }
    let mut events = runtime.drain_events();
    for _ in 0..frames {
        runtime.step();
        events.extend(runtime.drain_events());
    }
    let errors: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::ScriptError(info) => {
                Some(format!("{}:{}: {}", info.script, info.line, info.message))
            }
            _ => None,
        })
        .collect();
    assert!(errors.is_empty(), "{name}: {errors:#?}");
    let dump = serde_json::from_str(&runtime.dump_world()).unwrap();
    Ran { dump, events }
}

#[test]
fn every_sample_folder_is_checked_here() {
    let checked = [
        "hello_lua",
        "hello_python",
        "components_queries",
        "cross_language",
        "hot_reload",
        "ai_coroutines",
        "profiling_hotspots",
        "memory_leak",
        "boids",
        "stress",
        "stress_scripts",
        "parallel_systems",
        "ci_and_deployment",
        "asteroids",
        "batch_performance",
    ];
    let mut folders: Vec<PathBuf> = std::fs::read_dir(sample(""))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("ecscope.toml").is_file())
        .collect();
    folders.sort();
    assert!(folders.len() >= checked.len());
    for folder in folders {
        let name = folder.file_name().unwrap().to_string_lossy().to_string();
        assert!(
            checked.contains(&name.as_str()),
            "{name} has no test in tests/samples.rs"
        );
        // Its README shows the app on it, with an image that exists.
        let readme = std::fs::read_to_string(folder.join("README.md")).unwrap_or_default();
        let shots: Vec<&str> = readme
            .split("](../../screenshots/")
            .skip(1)
            .filter_map(|rest| rest.split(')').next())
            .collect();
        assert!(!shots.is_empty(), "{name}'s README has no screenshot");
        for shot in shots {
            let file = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("screenshots")
                .join(shot);
            assert!(file.is_file(), "{name}: {} is missing", file.display());
        }
    }
}

#[test]
fn hello_lua_balls_bounce_and_the_handler_counts_them() {
    let ran = run("hello_lua", 600);
    let balls = ran.with("Bouncy");
    assert_eq!(balls.len(), 8);
    assert!(
        balls
            .iter()
            .any(|b| Ran::field(b, "Bouncy", "bounces") > 0.0)
    );
    assert!(
        ran.logs().iter().any(|l| l.contains("bounces so far")),
        "{:?}",
        ran.logs()
    );
}

#[test]
fn hello_python_fish_turn_grow_and_bubbles_pop() {
    let ran = run("hello_python", 600);
    let fish = ran.with("Fish");
    assert_eq!(fish.len(), 9);
    assert_eq!(ran.with("Bubble").len(), 5);
    assert!(fish.iter().any(|f| Ran::field(f, "Fish", "turns") >= 3.0));
    // The keeper grew a fish through a dict copy and ecs.set.
    assert!(
        fish.iter()
            .any(|f| Ran::field(f, "Shape", "size").fract() == 0.5)
    );
    let popped: f64 = ran
        .with("Bubble")
        .iter()
        .map(|b| Ran::field(b, "Bubble", "popped"))
        .sum();
    assert!(popped >= 1.0);
    let logs = ran.logs();
    for expected in [
        "turns so far",
        "hello from Python: 17 entities in the tank",
        "keeper ready: 9 fish to watch",
    ] {
        assert!(
            logs.iter().any(|l| l.contains(expected)),
            "{expected}: {logs:?}"
        );
    }
}

#[test]
fn components_queries_creatures_get_hungry_eat_and_nap() {
    let ran = run("components_queries", 600);
    let critters = ran.with("Creature");
    assert_eq!(critters.len(), 10);
    assert!(critters.iter().all(
        |c| c["components"].get("Stomach").is_some() && c["components"].get("Energy").is_some()
    ));
    assert!((1..=8).contains(&ran.with("Food").len()));
    // Meals and naps count tags that were added and removed again.
    assert!(
        critters
            .iter()
            .any(|c| Ran::field(c, "Stomach", "meals") >= 1.0)
    );
    assert!(
        critters
            .iter()
            .any(|c| Ran::field(c, "Energy", "naps") >= 1.0)
    );
    let logs = ran.logs();
    assert!(
        logs.iter().filter(|l| l.contains(" ate food #")).count() >= 3,
        "{logs:?}"
    );
    // Structural changes apply when the system ends.
    let line = |start: &str| {
        logs.iter()
            .find(|l| l.contains(start))
            .copied()
            .unwrap_or_default()
    };
    assert!(line("inside digest").ends_with("= false"), "{logs:?}");
    assert!(line("after digest ended").ends_with("= true"), "{logs:?}");
    assert!(line("inside forage").ends_with("= true"), "{logs:?}");
    assert!(line("after forage ended").ends_with("= false"), "{logs:?}");
}

#[test]
fn cross_language_drones_escape_and_python_reports_them() {
    let ran = run("cross_language", 900);
    let escaped: Vec<_> = ran
        .logs()
        .into_iter()
        .filter(|l| l.contains("escaped at"))
        .collect();
    assert!(escaped.len() >= 5, "{escaped:?}");
}

#[test]
fn hot_reload_bees_fly_laps() {
    let ran = run("hot_reload", 900);
    assert!(
        ran.logs().iter().any(|l| l.contains("bees: lap 3")),
        "{:?}",
        ran.logs()
    );
}

#[test]
fn ai_coroutines_guards_patrol_and_spot_the_intruder() {
    let ran = run("ai_coroutines", 900);
    let started = ran
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::CoroutineStarted { .. }))
        .count();
    assert!(started >= 4, "{started} coroutines");
    assert!(
        ran.logs().iter().any(|l| l.contains("saw the intruder")),
        "{:?}",
        ran.logs()
    );
}

#[test]
fn profiling_hotspots_counts_arrivals() {
    let ran = run("profiling_hotspots", 300);
    assert!(
        ran.logs().iter().any(|l| l.contains("arrivals so far")),
        "{:?}",
        ran.logs()
    );
}

#[test]
fn memory_leak_the_detector_names_the_trails_script() {
    let ran = run("memory_leak", 1000);
    let leaks: Vec<_> = ran
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::LeakSuspected { script, .. } => Some(script.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(leaks, vec!["scripts/trails.lua".to_string()]);
}

#[test]
fn boids_flock_stays_in_the_world_and_keeps_speed() {
    let ran = run("boids", 300);
    let boids = ran.with("Boid");
    assert_eq!(boids.len(), 2000);
    for b in boids {
        let (x, y) = (
            Ran::field(b, "Position", "x"),
            Ran::field(b, "Position", "y"),
        );
        assert!(
            (0.0..=400.0).contains(&x) && (0.0..=250.0).contains(&y),
            "{b}"
        );
        let (vx, vy) = (
            Ran::field(b, "Velocity", "x"),
            Ran::field(b, "Velocity", "y"),
        );
        let speed = (vx * vx + vy * vy).sqrt();
        assert!((9.99..=30.01).contains(&speed), "{b}");
    }
}

/// The README's "change a weight in settings.lua and save": both scripts
/// that load it reload, and the flock stays the same 2,000 boids.
#[test]
fn boids_saving_settings_reloads_both_scripts_and_keeps_the_flock() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&sample("boids"), dir.path());
    let mut rt = Runtime::open(Project::open(dir.path()).unwrap());
    for _ in 0..30 {
        rt.step();
    }
    let settings = dir.path().join("scripts/settings.lua");
    let text = std::fs::read_to_string(&settings).unwrap();
    let changed = text.replacen("separation = 2.5", "separation = 0.2", 1);
    assert_ne!(changed, text, "settings.lua has a separation weight");
    std::fs::write(&settings, changed).unwrap();
    let now = std::time::Instant::now();
    rt.file_changed(&ecscope::hot_reload::watcher::FileChange {
        path: "scripts/settings.lua".into(),
        first_seen: now,
        settled: now,
    });
    for _ in 0..30 {
        rt.step();
    }
    let events = rt.drain_events();
    let reloaded: Vec<String> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Reloaded { script, .. } => Some(script.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(reloaded, ["scripts/spawn.lua", "scripts/flock.lua"]);
    assert!(
        !events
            .iter()
            .any(|e| matches!(e.kind, EventKind::ScriptError(_))),
        "{events:?}"
    );
    let dump: serde_json::Value = serde_json::from_str(&rt.dump_world()).unwrap();
    let boids = dump["entities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["components"].get("Boid").is_some())
        .count();
    assert_eq!(boids, 2000, "the flock is kept, not spawned again");
}

#[test]
fn stress_particles_stay_in_their_box() {
    let ran = run("stress", 120);
    let particles = ran.with("Position");
    assert_eq!(particles.len(), 100_000);
    assert!(particles.iter().all(|p| {
        let (x, y) = (
            Ran::field(p, "Position", "x"),
            Ran::field(p, "Position", "y"),
        );
        (0.0..=1000.0).contains(&x) && (0.0..=600.0).contains(&y)
    }));
}

#[test]
fn stress_scripts_a_thousand_rings_turn() {
    let ran = run("stress_scripts", 30);
    let loaded = ran
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::ScriptLoaded { .. }))
        .count();
    assert_eq!(loaded, 1000);
    assert_eq!(ran.with("Ring0999").len(), 10);
}

/// `parallel_systems` on `threads` threads, from `dir`: the Systems
/// view after `frames` frames, the world dump, and the groups that ran on
/// the workers.
fn parallel_run(
    dir: &Path,
    threads: u32,
    frames: u64,
) -> (ecscope::runtime::parallel::SystemsView, String, u64) {
    let mut project = Project::open(dir).unwrap();
    project.manifest.runtime.threads = Some(threads);
    let mut runtime = Runtime::open(project);
    for _ in 0..frames {
        runtime.step();
    }
    let errors: Vec<_> = runtime
        .drain_events()
        .into_iter()
        .filter(|e| matches!(e.kind, EventKind::ScriptError(_)))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    (
        runtime.systems_view(),
        runtime.dump_world(),
        runtime.groups_on_workers(),
    )
}

#[test]
fn parallel_systems_bees_wait_on_position_until_they_list_it_under_reads() {
    let shipped = sample("parallel_systems");
    let (view, dump1, _) = parallel_run(&shipped, 1, 30);
    let (_, dump2, on_workers) = parallel_run(&shipped, 2, 30);
    assert_eq!(dump1, dump2, "the same world on one thread and two");
    assert_eq!(on_workers, 30, "one group a frame ran on the workers");
    let row = |name: &str, script: &str| {
        view.rows
            .iter()
            .find(|r| r.name == name && r.script == script)
            .unwrap_or_else(|| panic!("{script} {name}: {:?}", view.rows))
    };
    // Fish, birds and ants think together; bees wait, as the README says.
    for swarm in ["fish", "birds", "ants"] {
        let think = row("think", &format!("scripts/{swarm}.lua"));
        assert_eq!(think.group, 0, "{think:?}");
        assert_eq!(think.waited, None);
        assert!(think.on_workers);
    }
    let bees = row("think", "scripts/bees.lua");
    assert_eq!(bees.group, 1);
    assert_eq!(
        bees.waited.as_deref(),
        Some("Position conflicts with 'think' (scripts/fish.lua)")
    );
    let (reads, writes) = bees.access.clone().unwrap();
    assert!(reads.is_empty(), "{reads:?}");
    assert_eq!(writes, ["Position", "Bee"]);
    let fish = row("think", "scripts/fish.lua").access.clone().unwrap();
    assert_eq!(
        fish,
        (vec!["Position".to_string()], vec!["Fish".to_string()])
    );
    // Each of motion.lua's systems writes Position: they wait in turn.
    let move_fish = row("move Fish", "scripts/motion.lua");
    assert_eq!(move_fish.group, 2);
    assert_eq!(
        move_fish.waited.as_deref(),
        Some("Position conflicts with 'think' (scripts/bees.lua)")
    );
    assert_eq!(
        row("move Bird", "scripts/motion.lua").waited.as_deref(),
        Some("same script as 'move Fish'")
    );

    // The README's fix: one line in bees.lua.
    let fixed = tempfile::tempdir().unwrap();
    copy_dir(&shipped, fixed.path());
    let bees_lua = fixed.path().join("scripts/bees.lua");
    let source = std::fs::read_to_string(&bees_lua).unwrap();
    assert!(source.contains("end, { writes = {} })"));
    std::fs::write(
        &bees_lua,
        source.replace(
            "end, { writes = {} })",
            "end, { reads = { \"Position\" } })",
        ),
    )
    .unwrap();
    let (_, fixed1, _) = parallel_run(fixed.path(), 1, 30);
    let (view, fixed2, _) = parallel_run(fixed.path(), 2, 30);
    let (_, fixed4, _) = parallel_run(fixed.path(), 4, 30);
    assert_eq!(fixed1, fixed2);
    assert_eq!(fixed1, fixed4);
    // Declaring changes which systems run together, not what they do.
    assert_eq!(fixed1, dump1);
    let thinkers: Vec<_> = view.rows.iter().filter(|r| r.name == "think").collect();
    assert_eq!(thinkers.len(), 4);
    assert!(thinkers.iter().all(|r| r.group == 0 && r.waited.is_none()));
    assert_eq!(view.sequential, None);

    // A breakpoint makes groups run one system after another, and the
    // view says why.
    let mut project = Project::open(fixed.path()).unwrap();
    project.manifest.runtime.threads = Some(2);
    let mut runtime = Runtime::open(project);
    runtime
        .apply(RuntimeCommand::SetBreakpoint {
            file: "scripts/motion.lua".into(),
            line: 1,
            on: true,
        })
        .unwrap();
    runtime.step();
    assert_eq!(runtime.groups_on_workers(), 0);
    assert_eq!(
        runtime.systems_view().sequential.as_deref(),
        Some("the debugger is on (a breakpoint, a step or a watched field)")
    );

    // A system that declares nothing runs alone, and the one after it
    // says so.
    let fish_lua = fixed.path().join("scripts/fish.lua");
    let source = std::fs::read_to_string(&fish_lua).unwrap();
    std::fs::write(
        &fish_lua,
        source.replace("end, { reads = { \"Position\" } })", "end)"),
    )
    .unwrap();
    let (view, _, _) = parallel_run(fixed.path(), 2, 1);
    assert_eq!(view.rows[0].access, None);
    assert_eq!(
        view.rows[1].waited.as_deref(),
        Some("'think' (scripts/fish.lua) declares no access, so it runs alone")
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let path = entry.path();
        if path.file_name().is_some_and(|n| n == ".ecscope") {
            continue;
        }
        if path.is_dir() {
            copy_dir(&path, &to.join(entry.file_name()));
        } else {
            std::fs::copy(&path, to.join(entry.file_name())).unwrap();
        }
    }
}

#[test]
fn ci_and_deployment_passes_its_check_and_a_slow_drive_fails_it_by_name() {
    let copy = tempfile::tempdir().unwrap();
    copy_dir(&sample("ci_and_deployment"), copy.path());
    let out = tempfile::tempdir().unwrap();
    let check = |out_dir: &Path| {
        std::process::Command::new("bash")
            .arg(copy.path().join("ci/check.sh"))
            .env("ECSCOPE", env!("CARGO_BIN_EXE_ecscope"))
            .env("OUT", out_dir)
            .output()
            .unwrap()
    };
    let first = check(out.path());
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert_eq!(first.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("budget: scripts/traffic.lua:drive: p95 "),
        "{stderr}"
    );
    for file in [
        "events.jsonl",
        "trace.json",
        "profile.puffin",
        "report.html",
    ] {
        assert!(out.path().join(file).is_file(), "{file}");
    }
    // The baseline, then the slow change the README makes.
    std::fs::create_dir_all(copy.path().join("baseline")).unwrap();
    std::fs::copy(
        out.path().join("profile.puffin"),
        copy.path().join("baseline/profile.puffin"),
    )
    .unwrap();
    let traffic = copy.path().join("scripts/traffic.lua");
    let source = std::fs::read_to_string(&traffic).unwrap();
    assert!(source.contains("local DETOUR = 0\n"));
    std::fs::write(
        &traffic,
        source.replace("local DETOUR = 0\n", "local DETOUR = 200\n"),
    )
    .unwrap();
    let slow = tempfile::tempdir().unwrap();
    let second = check(slow.path());
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("over budget: scripts/traffic.lua:drive: p95 ")
            && stderr.contains("over its budget of 2 ms (ecscope.toml:12)"),
        "{stderr}"
    );
    let compared = String::from_utf8_lossy(&second.stdout);
    let drive = compared
        .lines()
        .find(|l| l.starts_with("traffic.lua:drive "))
        .unwrap_or_else(|| panic!("{compared}"));
    assert!(drive.ends_with("× slower"), "{drive}");
    let report = std::fs::read_to_string(slow.path().join("report.html")).unwrap();
    assert!(report.contains("over budget"));
}

#[test]
fn asteroids_scores_splits_loses_and_restarts() {
    let ran = run("asteroids", 6500);
    let logs = ran.logs();
    let game = &ran.with("Game")[0];
    assert!(Ran::field(game, "Game", "high_score") > 0.0, "{game}");
    let has = |start: &str| logs.iter().any(|l| l.starts_with(start));
    // Waves are cleared by shooting big asteroids into smaller ones.
    assert!(has("wave 1 cleared: score "), "{logs:?}");
    assert!(logs.iter().filter(|l| l.starts_with("ship lost: ")).count() >= 2);
    assert!(has("GAME OVER: score "), "{logs:?}");
    assert!(has("new game 2: "), "{logs:?}");
    assert_eq!(game["components"]["Game"]["games"], 2);
    assert_eq!(game["components"]["Game"]["over"], false);
    assert!(ran.events.iter().any(
        |e| matches!(&e.kind, EventKind::CoroutineStarted { name, .. } if name == "countdown")
    ));
}

#[test]
fn asteroids_score_shows_in_the_game_entity_name() {
    let ran = run("asteroids", 1200);
    let game = &ran.with("Game")[0];
    assert!(Ran::field(game, "Game", "score") > 0.0);
    let name = game["components"]["Name"].as_str().unwrap();
    assert!(name.starts_with("score "), "{name}");
    assert!(
        ran.with("Asteroid")
            .iter()
            .any(|a| Ran::field(a, "Asteroid", "size") < 3.0)
    );
}

#[test]
fn batch_performance_every_way_moves_the_particles_the_same() {
    let mut worlds = Vec::new();
    for way in 1..=3 {
        let set = RuntimeCommand::SetField {
            id: 1,
            component: "Mode".into(),
            field: "way".into(),
            value: ScriptValue::Int(way),
        };
        let ran = run_with("batch_performance", 600, &[set]);
        let check = ran
            .logs()
            .into_iter()
            .find(|l| l.starts_with("check after 600 frames"))
            .unwrap_or_else(|| panic!("way {way}: no check"))
            .to_string();
        assert!(check.contains(&format!("(way {way},")), "{check}");
        let error: f64 = check.rsplit(' ').next().unwrap().parse().unwrap();
        assert!(error < 1e-6, "{check}");
        let positions: Vec<(u64, f64, f64)> = ran
            .with("Position")
            .iter()
            .map(|e| {
                (
                    e["id"].as_u64().unwrap(),
                    Ran::field(e, "Position", "x"),
                    Ran::field(e, "Position", "y"),
                )
            })
            .collect();
        assert!(positions.len() >= 20_000);
        worlds.push(positions);
    }
    for other in &worlds[1..] {
        assert_eq!(other.len(), worlds[0].len());
        for (a, b) in worlds[0].iter().zip(other) {
            assert_eq!(a.0, b.0);
            assert!(
                (a.1 - b.1).abs() < 1e-9 && (a.2 - b.2).abs() < 1e-9,
                "{a:?} {b:?}"
            );
        }
    }
}
