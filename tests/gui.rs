//! The real app, clicked through with egui_kittest: open a sample, step,
//! select an entity, edit its components and see the world change.
#![cfg(feature = "gui")]

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ecscope::gui::{EcscopeApp, GuiOptions};
use ecscope::runtime::session::Snapshot;
use ecscope::scripting::ScriptValue;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample_projects")
        .join(name)
}

/// How long a test waits for what the runtime's thread does before it
/// fails: far more than it takes, so that a machine busy with other work
/// slows a test down rather than failing it.
const PATIENCE: Duration = Duration::from_secs(60);

/// The app on a project, paused at frame 0. Tests open copies of the
/// samples: a window saves breakpoints and history into its project, and
/// the start screen's test opens the bundled samples themselves at the
/// same time.
fn open(project: &Path) -> Harness<'static, EcscopeApp> {
    open_on(project, None)
}

/// The app on a project, paused at frame 0, with a panel's tab in front.
fn open_on(project: &Path, panel: Option<&str>) -> Harness<'static, EcscopeApp> {
    let options = GuiOptions {
        project: Some(project.to_path_buf()),
        steps: Some(0),
        panel: panel.map(str::to_string),
        ..Default::default()
    };
    let mut harness = Harness::builder()
        .with_size([1400.0, 860.0])
        .build_eframe(move |cc| EcscopeApp::new(cc, options));
    wait(&mut harness, "the first snapshot", |app| {
        app.snapshot().is_some()
    });
    harness
}

/// Steps the GUI until `done` holds; the runtime runs on its own thread.
fn wait(harness: &mut Harness<'_, EcscopeApp>, what: &str, done: impl Fn(&EcscopeApp) -> bool) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        harness.step();
        if done(harness.state()) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Steps the GUI until a label containing `text` shows (or is gone, with
/// `shown` false); a busy machine may take more than a frame or two.
fn wait_label(harness: &mut Harness<'_, EcscopeApp>, text: &str, shown: bool) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        harness.step();
        if harness.query_by_label_contains(text).is_some() == shown {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for '{text}' to be {}",
            if shown { "shown" } else { "gone" }
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Finding a widget that a command has just made appear: on a busy
/// machine the runtime's thread may take more than the frame or two a test
/// steps to publish the change, so these step the GUI until it is there,
/// once (at once when it already is), and give the harness back to find
/// it in.
trait Shown {
    /// Until a widget labelled `label` shows.
    fn shown(&mut self, label: &str) -> &Self;
    /// Until a widget whose label contains `text` shows.
    fn shown_containing(&mut self, text: &str) -> &Self;
    /// Until a widget of `role` labelled `label` shows.
    fn shown_role(&mut self, role: egui::accesskit::Role, label: &str) -> &Self;
}

impl Shown for Harness<'_, EcscopeApp> {
    fn shown(&mut self, label: &str) -> &Self {
        step_until(self, label, |h| h.query_all_by_label(label).count() == 1);
        self
    }

    fn shown_containing(&mut self, text: &str) -> &Self {
        step_until(self, text, |h| {
            h.query_all_by_label_contains(text).count() == 1
        });
        self
    }

    fn shown_role(&mut self, role: egui::accesskit::Role, label: &str) -> &Self {
        step_until(self, label, |h| {
            h.query_all_by_role_and_label(role, label).count() == 1
        });
        self
    }
}

/// Steps the GUI until `there` holds.
fn step_until(
    harness: &mut Harness<'_, EcscopeApp>,
    what: &str,
    there: impl Fn(&Harness<'_, EcscopeApp>) -> bool,
) {
    let deadline = Instant::now() + PATIENCE;
    while !there(harness) {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for '{what}' to show"
        );
        harness.step();
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Presses ⏭ Step until the world is at frame `frame`, one frame a
/// press.
fn step_to(h: &mut Harness<'_, EcscopeApp>, frame: u64) {
    while snapshot(h).view.frame < frame {
        let next = snapshot(h).view.frame + 1;
        h.shown("⏭ Step").get_by_label("⏭ Step").click_accesskit();
        wait(h, "a step", |app| {
            app.snapshot().is_some_and(|s| s.view.frame >= next)
        });
    }
}

fn snapshot<'h>(harness: &'h Harness<'_, EcscopeApp>) -> &'h Snapshot {
    harness.state().snapshot().expect("a snapshot")
}

fn detail_field(app: &EcscopeApp, component: &str, field: &str) -> Option<ScriptValue> {
    let detail = app.snapshot()?.detail.as_ref()?;
    let c = detail.components.iter().find(|c| c.name == component)?;
    c.fields.iter().find(|f| f.0 == field).map(|f| f.2.clone())
}

fn select_ball_one(harness: &mut Harness<'_, EcscopeApp>) {
    harness
        .shown("ball-1   #1")
        .get_by_label("ball-1   #1")
        .click();
    wait(harness, "ball-1 in the inspector", |app| {
        app.selected() == Some(1) && detail_field(app, "Name", "value").is_some()
    });
}

#[test]
fn step_button_runs_exactly_one_frame() {
    let project = common::copy_of_sample("hello_lua");
    let mut h = open(project.path());
    assert_eq!(snapshot(&h).view.frame, 0);
    assert!(!snapshot(&h).playing);
    h.shown("⏭ Step").get_by_label("⏭ Step").click_accesskit();
    wait(&mut h, "frame 1", |app| {
        app.snapshot().is_some_and(|s| s.view.frame == 1)
    });
    h.shown("⏭ Step").get_by_label("⏭ Step").click_accesskit();
    wait(&mut h, "frame 2", |app| {
        app.snapshot().is_some_and(|s| s.view.frame == 2)
    });
    h.run_steps(3);
    assert_eq!(snapshot(&h).view.frame, 2, "paused after stepping");
}

#[test]
fn play_and_pause() {
    let project = common::copy_of_sample("hello_lua");
    let mut h = open(project.path());
    h.shown("▶ Play").get_by_label("▶ Play").click_accesskit();
    wait(&mut h, "frames to run", |app| {
        app.snapshot()
            .is_some_and(|s| s.playing && s.view.frame > 5)
    });
    h.shown("⏸ Pause").get_by_label("⏸ Pause").click_accesskit();
    wait(&mut h, "a pause", |app| {
        app.snapshot().is_some_and(|s| !s.playing)
    });
    let frame = snapshot(&h).view.frame;
    std::thread::sleep(Duration::from_millis(100));
    h.run_steps(3);
    assert_eq!(snapshot(&h).view.frame, frame);
}

#[test]
fn selecting_an_entity_shows_its_components() {
    let project = common::copy_of_sample("hello_lua");
    let mut h = open(project.path());
    select_ball_one(&mut h);
    h.run_steps(2);
    h.shown("Position").get_by_label("Position");
    h.shown("Bouncy  (script)").get_by_label("Bouncy  (script)");
    assert_eq!(
        detail_field(h.state(), "Name", "value"),
        Some(ScriptValue::Str("ball-1".into()))
    );
}

#[test]
fn editing_a_position_in_the_inspector_moves_the_entity() {
    let project = common::copy_of_sample("hello_lua");
    let mut h = open(project.path());
    select_ball_one(&mut h);
    h.run_steps(2);
    // The first field labelled "x" is Position.x (Position comes before
    // Velocity); clicking a number field starts typing into it.
    let x_before = detail_field(h.state(), "Position", "x")
        .unwrap()
        .as_f64()
        .unwrap();
    h.get_all_by_label("x").next().expect("Position.x").click();
    h.run_steps(2);
    // The number field is now a focused text box with its text selected.
    h.event(egui::Event::Text("42.5".into()));
    h.run_steps(1);
    h.key_press(egui::Key::Enter);
    wait(&mut h, "Position.x = 42.5", |app| {
        detail_field(app, "Position", "x") == Some(ScriptValue::Float(42.5))
    });
    assert_ne!(x_before, 42.5);
    let row = snapshot(&h)
        .view
        .entities
        .iter()
        .find(|r| r.id == 1)
        .unwrap();
    assert_eq!(
        row.position.unwrap()[0],
        42.5,
        "the world changed, not just the panel"
    );

    // And the simulation goes on from there.
    h.shown("⏭ Step").get_by_label("⏭ Step").click_accesskit();
    wait(&mut h, "frame 1", |app| {
        app.snapshot().is_some_and(|s| s.view.frame == 1)
    });
    let x = detail_field(h.state(), "Position", "x")
        .unwrap()
        .as_f64()
        .unwrap();
    assert!(
        (x - 42.5).abs() > 0.0 && (x - 42.5).abs() < 1.0,
        "moved on from 42.5: {x}"
    );
}

#[test]
fn editing_a_name_renames_the_entity() {
    let project = common::copy_of_sample("hello_lua");
    let mut h = open(project.path());
    select_ball_one(&mut h);
    h.run_steps(2);
    let field = h.shown("name").get_by_label("name");
    field.click();
    h.run_steps(1);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.shown("name").get_by_label("name").type_text("renamed");
    h.run_steps(1);
    h.key_press(egui::Key::Enter);
    wait(&mut h, "the new name", |app| {
        app.snapshot().is_some_and(|s| {
            s.view
                .entities
                .iter()
                .any(|r| r.name.as_deref() == Some("renamed"))
        })
    });
}

#[test]
fn spawn_and_despawn_from_the_entity_list() {
    let project = common::copy_of_sample("hello_lua");
    let mut h = open(project.path());
    let before = snapshot(&h).view.entities.len();
    h.shown("Spawn").get_by_label("Spawn").click_accesskit();
    wait(&mut h, "a new entity", |app| {
        app.snapshot()
            .is_some_and(|s| s.view.entities.len() == before + 1)
    });
    select_ball_one(&mut h);
    h.shown("Despawn").get_by_label("Despawn").click_accesskit();
    wait(&mut h, "ball-1 gone", |app| {
        app.snapshot()
            .is_some_and(|s| s.view.entities.iter().all(|r| r.id != 1))
    });
    assert_eq!(h.state().selected(), None);
}

#[test]
fn script_errors_show_in_the_console_and_the_gui_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("scripts")).unwrap();
    std::fs::write(
        dir.path().join("ecscope.toml"),
        "[project]\nname = \"broken\"\n[[script]]\npath = \"scripts/main.lua\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("scripts/main.lua"),
        "ecs.spawn({ Name = 'survivor', Position = {} })\n\
         ecs.system('bad', function()\n  error('kaboom')\nend)\n",
    )
    .unwrap();
    let mut h = open(dir.path());
    h.shown("⏭ Step").get_by_label("⏭ Step").click_accesskit();
    // Break on error (on in the GUI): the world stops at the raising line.
    wait(&mut h, "the stop at the error", |app| {
        app.snapshot()
            .and_then(|s| s.at_break.as_ref())
            .is_some_and(|b| b.reason == "error" && b.line == 3)
    });
    h.run_steps(3);
    h.shown_containing("Stopped on an error: scripts/main.lua:3 in system 'bad'")
        .get_by_label_contains("Stopped on an error: scripts/main.lua:3 in system 'bad'");
    h.shown("▶ Continue")
        .get_by_label("▶ Continue")
        .click_accesskit();
    wait(&mut h, "the error in the console", |app| {
        app.console().error_count() == 1
    });
    h.run_steps(2);
    h.shown("[scripts/main.lua:3]")
        .get_by_label("[scripts/main.lua:3]");
    assert_eq!(
        h.get_all_by_label_contains("kaboom").count(),
        2,
        "in the console, and above the script in the Scripts panel"
    );
    h.shown_containing("line 3: kaboom")
        .get_by_label_contains("line 3: kaboom");
    h.shown("⏭ Step").get_by_label("⏭ Step").click();
    wait(&mut h, "frame 2", |app| {
        app.snapshot().is_some_and(|s| s.view.frame == 2)
    });
    assert_eq!(
        h.state().console().error_count(),
        1,
        "the failing system was disabled"
    );
}

#[test]
fn a_bad_project_is_reported_and_nothing_crashes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ecscope.toml"), "[project]\nname = 3\n").unwrap();
    let options = GuiOptions {
        project: Some(dir.path().to_path_buf()),
        ..Default::default()
    };
    let mut h = Harness::builder()
        .with_size([1200.0, 800.0])
        .build_eframe(move |cc| EcscopeApp::new(cc, options));
    h.run_steps(3);
    h.shown("Cannot open project")
        .get_by_label("Cannot open project");
    assert!(h.state().session().is_none());
    assert_eq!(h.state().console().error_count(), 1);
}

#[test]
fn the_whole_window_renders() {
    // A fresh copy: the history beside the editor starts empty.
    let dir = common::copy_of_sample("hello_lua");
    let mut h = open(dir.path());
    select_ball_one(&mut h);
    h.run_steps(4);
    h.snapshot("app_hello_lua");
}

#[test]
fn components_can_be_removed_and_added_in_the_inspector() {
    let project = common::copy_of_sample("hello_lua");
    let mut h = open(project.path());
    select_ball_one(&mut h);
    h.run_steps(2);
    // Built-ins come first in registry order, then script components:
    // Name, Position, Velocity, Rotation, Color, Shape, Bouncy.
    // Bouncy's header is scrolled below the fold: use the accessibility
    // action rather than a pointer click.
    h.get_all_by_label("🗑")
        .nth(6)
        .expect("Bouncy's remove button")
        .click_accesskit();
    wait(&mut h, "Bouncy removed", |app| {
        detail_field(app, "Bouncy", "bounces").is_none()
            && detail_field(app, "Name", "value").is_some()
    });
    h.run_steps(2);
    h.shown("+ Add component")
        .get_by_label("+ Add component")
        .click_accesskit();
    h.run_steps(2);
    h.shown("Bouncy  (scripts/hello.lua)")
        .get_by_label("Bouncy  (scripts/hello.lua)")
        .click_accesskit();
    wait(&mut h, "Bouncy back with its defaults", |app| {
        detail_field(app, "Bouncy", "bounces") == Some(ScriptValue::Int(0))
    });
}

#[cfg(feature = "python")]
#[test]
fn python_spawned_entities_show_in_the_entity_list() {
    let project = common::copy_of_sample("cross_language");
    let mut h = open(project.path());
    // The Python director spawns wave 1 (6 drones) in frame 0.
    h.shown("⏭ Step").get_by_label("⏭ Step").click_accesskit();
    wait(&mut h, "wave 1", |app| {
        app.snapshot().is_some_and(|s| s.view.entities.len() == 6)
    });
    h.run_steps(2);
    h.shown("drone-1.1   #1").get_by_label("drone-1.1   #1");
    h.shown("drone-1.6   #6").get_by_label("drone-1.6   #6");
    h.shown("drone-1.1   #1")
        .get_by_label("drone-1.1   #1")
        .click_accesskit();
    wait(&mut h, "the drone in the inspector", |app| {
        detail_field(app, "Drone", "wave") == Some(ScriptValue::Int(1))
    });
}

fn coroutine_line(app: &EcscopeApp, id: u64) -> Option<u32> {
    app.snapshot()?
        .coroutines
        .iter()
        .find(|c| c.id == id)?
        .location
        .as_ref()
        .map(|l| l.1)
}

#[test]
fn the_coroutines_panel_steps_one_resume_and_shows_the_new_line() {
    let project = common::copy_of_sample("ai_coroutines");
    let mut h = open(project.path());
    h.state_mut()
        .show_pane(ecscope::gui::layout::Pane::Coroutines);
    h.run_steps(2);
    // Not started yet: located at the start of its function.
    let before = coroutine_line(h.state(), 1).expect("guard-1 located while paused");
    h.shown("guard-1").get_by_label("guard-1").click_accesskit();
    wait(&mut h, "guard-1's stack", |app| {
        app.snapshot()
            .and_then(|s| s.coroutine_frames.as_ref())
            .is_some_and(|(id, frames)| *id == 1 && !frames.is_empty())
    });
    h.run_steps(2);
    h.shown("⏭ Step resume")
        .get_by_label("⏭ Step resume")
        .click_accesskit();
    wait(&mut h, "a new line for guard-1", |app| {
        coroutine_line(app, 1).is_some_and(|line| line != before)
    });
    let after = coroutine_line(h.state(), 1).unwrap();
    assert_eq!(
        after, 43,
        "guard-1 starts on its first waypoint and looks around"
    );
    let s = snapshot(&h);
    assert_eq!(s.view.frame, 0, "stepping a coroutine runs no frame");
    let guard = s.coroutines.iter().find(|c| c.id == 1).unwrap();
    assert_eq!(guard.resumes, 1);
    assert!(guard.state.contains("waiting 1.50 s"), "{}", guard.state);
}

#[test]
fn a_breakpoint_stops_the_world_and_the_debug_bar_steps_and_continues() {
    use ecscope::runtime::RuntimeCommand;
    use ecscope::runtime::session::SessionCommand;
    let project = common::copy_of_sample("ai_coroutines");
    let mut h = open(project.path());
    let file = "scripts/guards.lua".to_string();
    h.state()
        .session()
        .unwrap()
        .send(SessionCommand::Runtime(RuntimeCommand::SetBreakpoint {
            file: file.clone(),
            line: 14,
            on: true,
        }));
    h.shown("⏭ Step").get_by_label("⏭ Step").click_accesskit();
    wait(&mut h, "the breakpoint", |app| {
        app.snapshot()
            .and_then(|s| s.at_break.as_ref())
            .is_some_and(|b| b.line == 14)
    });
    h.run_steps(2);
    h.shown("⏸ Stopped at scripts/guards.lua:14 in coroutine 'guard-1' (breakpoint)")
        .get_by_label("⏸ Stopped at scripts/guards.lua:14 in coroutine 'guard-1' (breakpoint)");
    h.shown("↷ Step over")
        .get_by_label("↷ Step over")
        .click_accesskit();
    wait(&mut h, "the next line", |app| {
        app.snapshot()
            .and_then(|s| s.at_break.as_ref())
            .is_some_and(|b| b.line == 15 && b.reason == "step")
    });
    h.state()
        .session()
        .unwrap()
        .send(SessionCommand::Runtime(RuntimeCommand::ClearBreakpoints));
    h.run_steps(2);
    h.shown("▶ Continue")
        .get_by_label("▶ Continue")
        .click_accesskit();
    wait(&mut h, "the frame to finish", |app| {
        app.snapshot()
            .is_some_and(|s| s.at_break.is_none() && s.view.frame == 1)
    });
}

fn petal_count(app: &EcscopeApp) -> usize {
    app.snapshot().map_or(0, |s| {
        s.view
            .entities
            .iter()
            .filter(|e| e.name.as_deref().is_some_and(|n| n.starts_with("petal-")))
            .count()
    })
}

#[test]
fn editing_a_script_and_pressing_ctrl_s_reloads_it_and_rollback_restores_it() {
    let dir = common::copy_of_sample("hot_reload");
    let file = dir.path().join("scripts/garden.lua");
    let original = std::fs::read_to_string(&file).unwrap();
    let mut h = open_on(dir.path(), Some("Scripts"));
    wait(&mut h, "12 petals", |app| petal_count(app) == 12);
    wait(&mut h, "the history of garden.lua", |app| {
        app.snapshot()
            .and_then(|s| s.history.as_ref())
            .is_some_and(|(script, versions)| script == "scripts/garden.lua" && versions.len() == 1)
    });

    // Type a new version into the editor: select all, type, Ctrl+S.
    h.get_by_role(egui::accesskit::Role::MultilineTextInput)
        .focus();
    h.run_steps(2);
    assert!(
        h.get_by_role(egui::accesskit::Role::MultilineTextInput)
            .is_focused(),
        "the editor has the keyboard"
    );
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    let edited = original.replace("local PETALS = 12", "local PETALS = 20");
    assert_ne!(edited, original);
    h.event(egui::Event::Text(edited.clone()));
    h.run_steps(2);
    assert!(h.state().has_unsaved(), "typing leaves unsaved changes");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        original,
        "not saved yet"
    );
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::S);
    h.run_steps(1);
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        edited,
        "Ctrl+S saved the text"
    );
    assert!(!h.state().has_unsaved());
    wait(&mut h, "20 petals after the reload", |app| {
        petal_count(app) == 20
    });
    wait(&mut h, "v2 in the history", |app| {
        app.snapshot()
            .and_then(|s| s.history.as_ref())
            .is_some_and(|(_, versions)| versions.len() == 2)
    });
    assert!(
        h.state()
            .console()
            .entries()
            .iter()
            .any(|e| e.text.starts_with("reloaded scripts/garden.lua v2")),
        "the reload is reported"
    );
    // v1's diff against the editor: the changed line, both ways.
    h.get_all_by_label("Diff")
        .nth(1)
        .expect("v1's Diff button")
        .click_accesskit();
    wait_label(&mut h, "− local PETALS = 12", true);
    h.shown_containing("+ local PETALS = 20")
        .get_by_label_contains("+ local PETALS = 20");
    h.shown("+1").get_by_label("+1");

    // Roll back to v1: the list is newest first, so v1's button is second.
    h.get_all_by_label("Rollback")
        .nth(1)
        .expect("v1's Rollback button")
        .click_accesskit();
    wait(&mut h, "12 petals after the rollback", |app| {
        petal_count(app) == 12
    });
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        original,
        "v1's text is back on disk"
    );
    let editor_follows = |app: &EcscopeApp| !app.has_unsaved();
    wait(
        &mut h,
        "the editor to show the restored text",
        editor_follows,
    );
    let running = |app: &EcscopeApp| {
        app.snapshot()
            .and_then(|s| {
                s.view
                    .scripts
                    .iter()
                    .find(|s| s.path == "scripts/garden.lua")
            })
            .map(|s| s.version)
    };
    // The history only grows: the rollback is a new version with v1's text.
    wait(&mut h, "v3 running", |app| running(app) == Some(3));
    let (_, versions) = snapshot(&h).history.clone().expect("history");
    assert_eq!(versions.len(), 3);
    assert_eq!(versions[2].origin, "rollback to v1");
    assert_eq!(versions[2].hash, versions[0].hash);
}

#[test]
fn unsaved_edits_come_back_after_a_crash_and_are_only_discarded_when_asked() {
    let dir = common::copy_of_sample("hot_reload");
    let file = dir.path().join("scripts/garden.lua");
    let original = std::fs::read_to_string(&file).unwrap();
    let edited = original.replace("local SPIN = 0.15", "local SPIN = 0.9");
    // What an earlier session left behind when it died with unsaved text.
    let autosave = dir.path().join(".ecscope/autosave/scripts/garden.lua");
    std::fs::create_dir_all(autosave.parent().unwrap()).unwrap();
    std::fs::write(&autosave, &edited).unwrap();

    let mut h = open_on(dir.path(), Some("Scripts"));
    wait(&mut h, "the restored buffer", |app| app.has_unsaved());
    h.shown_containing("restored from the autosave")
        .get_by_label_contains("restored from the autosave");
    wait(&mut h, "the history", |app| {
        app.snapshot().is_some_and(|s| s.history.is_some())
    });
    h.run_steps(2);

    // Rolling back would throw the edits away: it asks, and Cancel keeps them.
    h.shown("Rollback")
        .get_by_label("Rollback")
        .click_accesskit();
    h.run_steps(2);
    h.shown_containing("replaces your unsaved changes")
        .get_by_label_contains("replaces your unsaved changes");
    h.shown("Cancel").get_by_label("Cancel").click_accesskit();
    h.run_steps(2);
    assert!(h.state().has_unsaved());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), original);
    assert!(
        autosave.exists(),
        "the autosave stays until the edits are saved or discarded"
    );

    // Revert asks too; confirming drops the edits and their autosave.
    h.shown("↺ Revert")
        .get_by_label("↺ Revert")
        .click_accesskit();
    h.run_steps(2);
    h.shown("Discard changes")
        .get_by_label("Discard changes")
        .click_accesskit();
    h.run_steps(2);
    assert!(!h.state().has_unsaved());
    assert!(!autosave.exists());
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        original,
        "the file was never touched"
    );
}

#[test]
fn the_systems_view_says_which_systems_run_together_and_why_the_bees_wait() {
    let project = common::copy_of_sample("parallel_systems");
    let mut h = open_on(project.path(), Some("Profiler"));
    h.shown("⏭ Step").get_by_label("⏭ Step").click_accesskit();
    wait(&mut h, "the systems", |app| {
        app.snapshot()
            .is_some_and(|s| s.view.frame == 1 && s.profile.systems.rows.len() == 8)
    });
    h.shown("Systems").get_by_label("Systems").click_accesskit();
    h.run_steps(3);
    h.shown("8 systems in 6 groups: 3 share a group with another.")
        .get_by_label("8 systems in 6 groups: 3 share a group with another.");
    // The first swarm's `think` runs with two others; bees wait, naming
    // the component and the system in their way.
    h.shown("together with 2").get_by_label("together with 2");
    h.shown("waited: Position conflicts with 'think' (scripts/fish.lua)")
        .get_by_label("waited: Position conflicts with 'think' (scripts/fish.lua)");
    h.shown("waited: same script as 'move Fish'")
        .get_by_label("waited: same script as 'move Fish'");
}

#[test]
fn the_profiler_and_memory_panels_show_named_scopes_and_charts() {
    let project = common::copy_of_sample("boids");
    let mut h = open_on(project.path(), Some("Profiler"));
    step_to(&mut h, 3);
    wait(&mut h, "statistics", |app| {
        app.snapshot()
            .is_some_and(|s| s.profile.stats.rows.iter().any(|r| r.name == "steer"))
    });
    h.run_steps(3);
    // The statistics table names the system after its script.
    h.shown("flock.lua:steer").get_by_label("flock.lua:steer");
    h.shown_containing("Total ms")
        .get_by_label_contains("Total ms");
    // The flame graph's frames hold the same scope, inside the systems phase.
    let frames = snapshot(&h).profile.frames.clone();
    {
        let view = frames.lock().unwrap();
        assert_eq!(view.recent_frames().count(), 3);
        let names = ecscope::profiling::profiler::scope_names(&view);
        for name in ["frame", "systems", "flock.lua:steer", "flock.lua:move"] {
            assert!(names.contains(name), "{name}: {names:?}");
        }
    }
    // Recording can be switched off from the panel.
    h.shown("⏺ Recording")
        .get_by_label("⏺ Recording")
        .click_accesskit();
    wait(&mut h, "recording off", |app| {
        app.snapshot().is_some_and(|s| !s.profile.profiling)
    });

    // (Tabs are drawn by egui_tiles without accessible labels.)
    h.state_mut().show_pane(ecscope::gui::layout::Pane::Memory);
    h.run_steps(3);
    h.shown("scripts/flock.lua (Lua state)")
        .get_by_label("scripts/flock.lua (Lua state)");
    h.shown("Entities").get_by_label("Entities");
    let chart = egui_plot::PlotMemory::load(&h.ctx, egui::Id::new("memory-bytes"))
        .expect("the heap chart was drawn");
    assert!(
        chart.bounds().max()[1] > 100_000.0,
        "it charts heaps of real size"
    );
}

#[test]
fn a_saved_profile_opens_in_the_profiler_and_a_corrupt_one_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("run.puffin");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ecscope"))
        .args([
            "run",
            &sample("hello_lua").display().to_string(),
            "--frames",
            "30",
        ])
        .arg("--profile")
        .arg(&good)
        .output()
        .unwrap();
    assert!(out.status.success());
    let bad = dir.path().join("bad.puffin");
    std::fs::write(&bad, b"PUF0 this is not a profile").unwrap();

    let project = common::copy_of_sample("hello_lua");

    let mut h = open(project.path());
    h.state_mut().open_profile(&bad);
    h.run_steps(2);
    h.shown_containing("no readable frames")
        .get_by_label_contains("no readable frames");
    h.state_mut().open_profile(&good);
    h.run_steps(2);
    h.shown_containing(&format!("Showing {}", good.display()))
        .get_by_label_contains(&format!("Showing {}", good.display()));
    h.shown("Back to the project")
        .get_by_label("Back to the project")
        .click_accesskit();
    h.run_steps(2);
    h.shown("Showing this project")
        .get_by_label("Showing this project");
}

#[test]
fn a_hundred_thousand_entities_are_listed_drawn_and_inspectable() {
    let project = common::copy_of_sample("stress");
    let mut h = open(project.path());
    wait(&mut h, "the swarm", |app| {
        app.snapshot()
            .is_some_and(|s| s.view.entities.len() == 100_000)
    });
    h.run_steps(2);
    h.shown("100000 of 100000 entities")
        .get_by_label("100000 of 100000 entities");
    // Every particle is in view after the first fit, so all are drawn (as
    // dots in one image: they are a few pixels across).
    h.shown_containing("100000 drawn")
        .get_by_label_contains("100000 drawn");
    // The list is virtualized: the last rows are not laid out until
    // scrolled to, and the first can be inspected.
    assert!(h.query_by_label("#99999   #99999").is_none());
    h.shown("#1   #1").get_by_label("#1   #1").click_accesskit();
    wait(&mut h, "entity 1 in the inspector", |app| {
        app.selected() == Some(1) && detail_field(app, "Velocity", "x").is_some()
    });
}

#[test]
fn a_thousand_scripts_chart_eight_heaps_until_asked() {
    let project = common::copy_of_sample("stress_scripts");
    let mut h = open_on(project.path(), Some("Memory"));
    h.shown("⏭ Step").get_by_label("⏭ Step").click_accesskit();
    wait(&mut h, "a frame with memory samples", |app| {
        app.snapshot().is_some_and(|s| {
            s.view.frame >= 1
                && s.profile
                    .memory
                    .series
                    .iter()
                    .filter(|x| x.script.is_some())
                    .count()
                    == 1000
        })
    });
    h.state_mut().show_pane(ecscope::gui::layout::Pane::Memory);
    h.run_steps(3);
    h.shown("1000 script heaps: the first 8 are charted; tick others to add them.")
        .get_by_label("1000 script heaps: the first 8 are charted; tick others to add them.");
    assert_eq!(snapshot(&h).view.scripts.len(), 1000);
    // The ninth heap is listed but not charted until ticked.
    let ninth = "scripts/ring_0008.lua (Lua state)";
    let ticked = |h: &Harness<'_, EcscopeApp>, label: &str| {
        h.get_by_label(label).accesskit_node().toggled() == Some(egui::accesskit::Toggled::True)
    };
    assert!(ticked(&h, "scripts/ring_0007.lua (Lua state)"));
    assert!(!ticked(&h, ninth));
    h.shown(ninth).get_by_label(ninth).click_accesskit();
    h.run_steps(2);
    assert!(ticked(&h, ninth));
}

/// The app with no project: the start screen.
fn open_start() -> Harness<'static, EcscopeApp> {
    let options = GuiOptions {
        steps: Some(0),
        ..Default::default()
    };
    let mut harness = Harness::builder()
        .with_size([1400.0, 860.0])
        .build_eframe(move |cc| EcscopeApp::new(cc, options));
    harness.run_steps(3);
    harness
}

#[test]
fn the_start_screen_opens_every_sample_and_help_samples_brings_it_back() {
    let mut h = open_start();
    h.shown("Samples").get_by_label("Samples");
    h.shown("Recent projects").get_by_label("Recent projects");
    // The folder the app lists, which is where it opens them from.
    let samples = ecscope::gui::panels::start::sample_cards(
        &ecscope::gui::samples_dir().expect("the bundled samples"),
    );
    assert!(samples.len() >= 10, "{samples:?}");
    for (i, card) in samples.iter().enumerate() {
        if i > 0 {
            // Over an open project the list is a window: Help › Samples.
            h.shown("Help").get_by_label("Help").click_accesskit();
            h.run_steps(2);
            h.shown("Samples").get_by_label("Samples").click_accesskit();
            h.run_steps(3);
        }
        let label = format!("Open sample {}", card.name);
        h.shown(&label).get_by_label(&label).scroll_to_me();
        h.run_steps(3);
        h.shown(&label).get_by_label(&label).click_accesskit();
        let root = card.path.canonicalize().unwrap();
        wait(&mut h, &card.name, |app| {
            app.session().is_some_and(|s| s.project().root == root) && app.snapshot().is_some()
        });
        h.run_steps(2);
        assert!(
            h.query_by_label(&format!("Open sample {}", card.name))
                .is_none(),
            "the list closes once a sample opens"
        );
        assert_eq!(h.state().console().error_count(), 0, "{}", card.name);
    }
}

#[test]
fn the_readme_tab_renders_the_project_readme_and_opens_linked_scripts() {
    // The bundled sample itself (this test only reads it): its README's
    // screenshot is found beside the samples, so the page is laid out as
    // a user sees it.
    let mut h = open_on(&sample("boids"), Some("README"));
    h.run_steps(3);
    h.shown("boids: 2,000 boids flocking in Lua")
        .get_by_label("boids: 2,000 boids flocking in Lua");
    h.shown("What to look at").get_by_label("What to look at");
    // The editor's title is the open file's path: the first script's.
    let editing =
        |h: &Harness<'_, EcscopeApp>| h.query_all_by_value("scripts/flock.lua").count() > 0;
    assert!(!editing(&h));
    h.shown("scripts/flock.lua")
        .get_by_label("scripts/flock.lua")
        .scroll_to_me();
    h.run_steps(3);
    h.shown("scripts/flock.lua")
        .get_by_label("scripts/flock.lua")
        .click_accesskit();
    h.run_steps(3);
    // The link opened the script in the Scripts panel's editor.
    assert!(editing(&h));
}

#[test]
fn a_new_project_asks_for_trust_and_the_answer_is_remembered() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("scripts")).unwrap();
    std::fs::write(
        dir.path().join("ecscope.toml"),
        "[project]\nname = \"stranger\"\n[[script]]\npath = \"scripts/a.lua\"\n[[script]]\npath = \"scripts/b.py\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("scripts/a.lua"),
        "ecs.spawn({ Position = { x = 1, y = 2 } })\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("scripts/b.py"), "import ecs\n").unwrap();
    let mut h = open_start();
    let ctx = h.ctx.clone();
    h.state_mut().open_project(&ctx, dir.path());
    h.run_steps(3);
    // Nothing runs before the answer; the prompt lists what would.
    assert!(h.state().session().is_none());
    h.shown("Trust this project?")
        .get_by_label("Trust this project?");
    h.shown_containing("1 Python script: Python cannot be sandboxed")
        .get_by_label_contains("1 Python script: Python cannot be sandboxed");
    h.shown("Open restricted")
        .get_by_label("Open restricted")
        .click_accesskit();
    wait(&mut h, "the restricted project", |app| {
        app.session().is_some_and(|s| s.project().restricted) && app.snapshot().is_some()
    });
    h.run_steps(2);
    h.shown("restricted").get_by_label("restricted");
    h.shown_containing("skipped scripts/b.py: restricted mode")
        .get_by_label_contains("skipped scripts/b.py: restricted mode");
    // Opened again: no question.
    h.state_mut().open_project(&ctx, dir.path());
    h.run_steps(3);
    assert!(h.query_by_label("Trust this project?").is_none());
    assert!(h.state().session().is_some_and(|s| s.project().restricted));
}

/// A call no limit can stop (Python asleep in C) is named within seconds
/// while the window stays responsive, with the offer to restart; *Keep
/// waiting* hides it.
#[test]
fn a_stuck_script_is_named_and_a_restart_offered() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("scripts")).unwrap();
    std::fs::write(
        dir.path().join("ecscope.toml"),
        "[project]\nname = \"stuck\"\n\n[[script]]\npath = \"scripts/nap.py\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("scripts/nap.py"),
        "import ecs, time\n\n@ecs.system(\"nap\")\ndef nap(dt):\n    if ecs.frame() == 0:\n        time.sleep(6)\n",
    )
    .unwrap();
    let mut h = open(dir.path());
    h.shown("⏭ Step").get_by_label("⏭ Step").click_accesskit();
    let started = Instant::now();
    wait(&mut h, "the stuck report", |app| app.stuck_call().is_some());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let call = h.state().stuck_call().unwrap();
    assert_eq!(call.script, "scripts/nap.py");
    // Asleep, the call lets go of Python, so its line can be read.
    assert_eq!(call.at, Some(("scripts/nap.py".to_string(), 6)));
    h.step();
    assert!(h.query_by_label("A script is stuck").is_some());
    assert!(h.query_by_label("Restart ECScope").is_some());
    h.shown("Keep waiting")
        .get_by_label("Keep waiting")
        .click_accesskit();
    wait_label(&mut h, "A script is stuck", false);
    // The call ends by itself; the session goes on.
    wait(&mut h, "the frame after the nap", |app| {
        app.snapshot().is_some_and(|s| s.view.frame >= 1)
    });
}

/// The keys debugger users expect: F10 and F11 step at a stop, F5
/// continues; F7 steps a frame; Space plays and pauses, but not while
/// typing; F6 pauses; Help lists them all.
#[test]
fn keyboard_shortcuts_step_continue_play_and_pause() {
    use ecscope::runtime::RuntimeCommand;
    use ecscope::runtime::session::SessionCommand;
    let project = common::copy_of_sample("ai_coroutines");
    let mut h = open(project.path());
    h.key_press(egui::Key::F7);
    wait(&mut h, "F7 to step one frame", |app| {
        app.snapshot()
            .is_some_and(|s| s.view.frame == 1 && !s.playing)
    });
    let file = "scripts/guards.lua".to_string();
    h.state()
        .session()
        .unwrap()
        .send(SessionCommand::Runtime(RuntimeCommand::SetBreakpoint {
            file,
            line: 14,
            on: true,
        }));
    h.key_press(egui::Key::F5);
    wait(&mut h, "F5 to play into the breakpoint", |app| {
        app.snapshot()
            .and_then(|s| s.at_break.as_ref())
            .is_some_and(|b| b.line == 14)
    });
    h.key_press(egui::Key::F10);
    wait(&mut h, "F10 to step over", |app| {
        app.snapshot()
            .and_then(|s| s.at_break.as_ref())
            .is_some_and(|b| b.line == 15 && b.reason == "step")
    });
    let depth = snapshot(&h).at_break.as_ref().unwrap().frames.len();
    assert!(depth >= 2, "line 15 is inside step_towards");
    h.key_press_modifiers(egui::Modifiers::SHIFT, egui::Key::F11);
    wait(&mut h, "Shift+F11 to step out into the caller", |app| {
        app.snapshot()
            .and_then(|s| s.at_break.as_ref())
            .is_some_and(|b| b.frames.len() == depth - 1 && b.reason == "step")
    });
    h.key_press(egui::Key::F11);
    wait(&mut h, "F11 to step into", |app| {
        app.snapshot()
            .and_then(|s| s.at_break.as_ref())
            .is_some_and(|b| b.line != 15 && b.reason == "step")
    });
    h.state()
        .session()
        .unwrap()
        .send(SessionCommand::Runtime(RuntimeCommand::ClearBreakpoints));
    h.run_steps(2);
    h.key_press(egui::Key::F5);
    wait(&mut h, "F5 to continue", |app| {
        app.snapshot().is_some_and(|s| s.at_break.is_none())
    });
    h.key_press(egui::Key::F6);
    wait(&mut h, "F6 to pause", |app| {
        app.snapshot().is_some_and(|s| !s.playing)
    });
    h.key_press(egui::Key::Space);
    wait(&mut h, "Space to play", |app| {
        app.snapshot().is_some_and(|s| s.playing)
    });
    h.key_press(egui::Key::Space);
    wait(&mut h, "Space to pause", |app| {
        app.snapshot().is_some_and(|s| !s.playing)
    });

    // Typing a space in a text field does not play the world. (The
    // entity list is back once the window has left the Debug view.)
    step_until(&mut h, "Filter", |h| {
        h.query_all_by_label("Filter").next().is_some()
    });
    h.get_all_by_label("Filter")
        .next()
        .expect("the entity filter")
        .click();
    h.run_steps(2);
    h.key_press(egui::Key::Space);
    h.run_steps(3);
    assert!(!snapshot(&h).playing, "a typed space played the world");
    h.key_press(egui::Key::Escape);
    h.run_steps(2);

    h.shown("Help").get_by_label("Help").click_accesskit();
    h.run_steps(1);
    h.shown("Keyboard shortcuts")
        .get_by_label("Keyboard shortcuts")
        .click_accesskit();
    h.run_steps(2);
    for what in [
        "Step out (at a stop)",
        "Step over (at a stop)",
        "Continue (at a stop) or play",
        "Step one frame",
    ] {
        assert!(h.query_by_label(what).is_some(), "{what} is not listed");
    }
    assert!(h.query_by_label("F10").is_some());
}

/// ai_coroutines with `scripts/guards.lua` in the focused editor, whose
/// cursor is then at the end of the text; and the number of that last line.
fn guards_in_the_editor() -> (Harness<'static, EcscopeApp>, u32, tempfile::TempDir) {
    let project = common::copy_of_sample("ai_coroutines");
    let mut h = open_on(project.path(), Some("Scripts"));
    h.run_steps(3);
    let text = std::fs::read_to_string(sample("ai_coroutines").join("scripts/guards.lua")).unwrap();
    let last = text.matches('\n').count() as u32 + 1;
    h.get_all_by_role(egui::accesskit::Role::MultilineTextInput)
        .next()
        .expect("the editor")
        .focus();
    h.run_steps(2);
    (h, last, project)
}

/// F9 in the editor sets a breakpoint on the cursor's line, and again
/// removes it.
#[test]
fn f9_toggles_a_breakpoint_on_the_cursor_line() {
    let (mut h, last, _project) = guards_in_the_editor();
    let breakpoints = |app: &EcscopeApp| {
        app.snapshot()
            .and_then(|s| s.breakpoints.get("scripts/guards.lua").cloned())
            .unwrap_or_default()
    };
    h.key_press(egui::Key::F9);
    wait(&mut h, "a breakpoint on the last line", |app| {
        breakpoints(app).contains(&last)
    });
    h.key_press(egui::Key::ArrowUp);
    h.key_press(egui::Key::ArrowUp);
    h.run_steps(2);
    h.key_press(egui::Key::F9);
    wait(&mut h, "a breakpoint two lines up", |app| {
        breakpoints(app).contains(&(last - 2))
    });
    h.key_press(egui::Key::F9);
    wait(&mut h, "that breakpoint removed", |app| {
        let b = breakpoints(app);
        !b.contains(&(last - 2)) && b.contains(&last)
    });
}

/// Stopped while playing, stepped, then continued: the world plays on (the
/// step's stop must not make Continue forget that it was playing).
#[test]
fn continue_after_step_over_plays_on() {
    use ecscope::runtime::RuntimeCommand;
    use ecscope::runtime::session::SessionCommand;
    let project = common::copy_of_sample("ai_coroutines");
    let mut h = open(project.path());
    let session = |h: &Harness<'_, EcscopeApp>, command| h.state().session().unwrap().send(command);
    session(
        &h,
        SessionCommand::Runtime(RuntimeCommand::SetBreakpoint {
            file: "scripts/guards.lua".into(),
            line: 14,
            on: true,
        }),
    );
    h.shown("▶ Play").get_by_label("▶ Play").click_accesskit();
    wait(&mut h, "the breakpoint", |app| {
        app.snapshot()
            .and_then(|s| s.at_break.as_ref())
            .is_some_and(|b| b.line == 14)
    });
    h.key_press(egui::Key::F10);
    wait(&mut h, "the step", |app| {
        app.snapshot()
            .and_then(|s| s.at_break.as_ref())
            .is_some_and(|b| b.line == 15)
    });
    session(
        &h,
        SessionCommand::Runtime(RuntimeCommand::ClearBreakpoints),
    );
    h.run_steps(2);
    h.key_press(egui::Key::F5);
    wait(&mut h, "the world to play on", |app| {
        app.snapshot()
            .is_some_and(|s| s.at_break.is_none() && s.playing && s.view.frame > 3)
    });

    // A step that runs off the end of its call leaves the frame paused;
    // Continue then plays on as well.
    session(
        &h,
        SessionCommand::Runtime(RuntimeCommand::SetBreakpoint {
            file: "scripts/guards.lua".into(),
            line: 14,
            on: true,
        }),
    );
    wait(&mut h, "the breakpoint again", |app| {
        app.snapshot()
            .and_then(|s| s.at_break.as_ref())
            .is_some_and(|b| b.line == 14)
    });
    session(
        &h,
        SessionCommand::Runtime(RuntimeCommand::ClearBreakpoints),
    );
    h.run_steps(2);
    for _ in 0..40 {
        if h.state().snapshot().is_some_and(|s| s.at_break.is_none()) {
            break;
        }
        h.key_press(egui::Key::F10);
        h.run_steps(3);
        std::thread::sleep(Duration::from_millis(20));
    }
    wait(&mut h, "the step to run off its call", |app| {
        app.snapshot()
            .is_some_and(|s| s.at_break.is_none() && !s.playing)
    });
    h.state().session().unwrap().send(SessionCommand::Debug(
        ecscope::scripting::debugger::DebugAction::Continue,
    ));
    wait(&mut h, "Continue to play on", |app| {
        app.snapshot().is_some_and(|s| s.playing)
    });
}

/// Ctrl+F10 in the editor runs to the cursor's line: the world plays and
/// stops there once.
#[test]
fn ctrl_f10_runs_to_the_cursor_line() {
    let (mut h, last, _project) = guards_in_the_editor();
    // From the end of the text up to line 14, the guards' first line of
    // step_towards.
    for _ in 14..last {
        h.key_press(egui::Key::ArrowUp);
    }
    h.run_steps(2);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::F10);
    wait(&mut h, "a stop at the cursor's line", |app| {
        app.snapshot()
            .and_then(|s| s.at_break.as_ref())
            .is_some_and(|b| b.line == 14 && b.reason == "cursor")
    });
    assert!(
        snapshot(&h)
            .breakpoints
            .get("scripts/guards.lua")
            .is_none_or(|b| b.is_empty()),
        "no breakpoint was left behind"
    );
}

/// ai_coroutines (a copy) stopped at `scripts/guards.lua:14` in the Debug
/// view.
fn stopped_in_guards(
    spec: Option<ecscope::scripting::debugger::BreakpointSpec>,
) -> (Harness<'static, EcscopeApp>, tempfile::TempDir) {
    use ecscope::runtime::RuntimeCommand;
    use ecscope::runtime::session::SessionCommand;
    let project = common::copy_of_sample("ai_coroutines");
    let mut h = open(project.path());
    let file = "scripts/guards.lua".to_string();
    h.state()
        .session()
        .unwrap()
        .send(SessionCommand::Runtime(match spec {
            Some(spec) => RuntimeCommand::SetBreakpointSpec {
                file,
                line: 14,
                spec,
            },
            None => RuntimeCommand::SetBreakpoint {
                file,
                line: 14,
                on: true,
            },
        }));
    h.key_press(egui::Key::F5);
    wait(&mut h, "the stop at line 14", |app| {
        app.snapshot()
            .and_then(|s| s.at_break.as_ref())
            .is_some_and(|b| b.line == 14)
    });
    h.run_steps(3);
    (h, project)
}

#[test]
fn a_conditional_breakpoint_set_in_the_breakpoints_list_stops_when_true() {
    let (mut h, _project) = stopped_in_guards(None);
    // The Debug view is up: the code, the stack, the variables together.
    h.shown("Stopped at a breakpoint: scripts/guards.lua:14 in coroutine 'guard-1'")
        .get_by_label("Stopped at a breakpoint: scripts/guards.lua:14 in coroutine 'guard-1'");
    h.shown_containing("step_towards   scripts/guards.lua:14")
        .get_by_label_contains("step_towards   scripts/guards.lua:14");
    h.shown_containing("patrol   scripts/guards.lua:")
        .get_by_label_contains("patrol   scripts/guards.lua:");
    h.shown("Edit").get_by_label("Edit").click_accesskit();
    h.run_steps(2);
    h.shown("Condition").get_by_label("Condition").click();
    h.run_steps(1);
    h.shown("Condition")
        .get_by_label("Condition")
        .type_text("id == 3");
    h.run_steps(1);
    h.run_steps(1);
    h.shown("Save").get_by_label("Save").click();
    wait(&mut h, "the condition to be set", |app| {
        app.snapshot().is_some_and(|s| {
            s.debug
                .breakpoints
                .first()
                .and_then(|b| b.spec.condition.as_deref())
                == Some("id == 3")
        })
    });
    h.shown("▶ Continue")
        .get_by_label("▶ Continue")
        .click_accesskit();
    wait(&mut h, "guard-3 at line 14", |app| {
        app.snapshot()
            .and_then(|s| s.at_break.as_ref())
            .is_some_and(|b| b.line == 14 && b.context == "coroutine 'guard-3'")
    });
    let list = snapshot(&h).debug.breakpoints.clone();
    assert_eq!(list[0].spec.condition.as_deref(), Some("id == 3"));
}

#[test]
fn a_logpoint_writes_to_the_console_and_never_stops() {
    use ecscope::scripting::debugger::BreakpointSpec;
    let project = common::copy_of_sample("ai_coroutines");
    let mut h = open(project.path());
    h.state()
        .session()
        .unwrap()
        .send(ecscope::runtime::session::SessionCommand::Runtime(
            ecscope::runtime::RuntimeCommand::SetBreakpointSpec {
                file: "scripts/guards.lua".into(),
                line: 14,
                spec: BreakpointSpec {
                    log_message: Some("guard {id} heads for {x}, {y}".into()),
                    ..BreakpointSpec::plain()
                },
            },
        ));
    h.run_steps(2);
    h.shown("⏭ Step").get_by_label("⏭ Step").click_accesskit();
    wait(&mut h, "frame 1", |app| {
        app.snapshot().is_some_and(|s| s.view.frame == 1)
    });
    h.run_steps(3);
    assert!(snapshot(&h).at_break.is_none(), "a logpoint never stops");
    h.shown_containing("[logpoint] guard 1 heads for 10, 10")
        .get_by_label_contains("[logpoint] guard 1 heads for 10, 10");
}

#[test]
fn the_debug_console_evaluates_and_changes_the_frame() {
    let (mut h, _project) = stopped_in_guards(None);
    let console = h
        .shown_role(egui::accesskit::Role::TextInput, "Debug console")
        .get_by_role_and_label(egui::accesskit::Role::TextInput, "Debug console");
    console.click();
    h.run_steps(1);
    h.shown_role(egui::accesskit::Role::TextInput, "Debug console")
        .get_by_role_and_label(egui::accesskit::Role::TextInput, "Debug console")
        .type_text("ecs.get(id, \"Guard\").speed * 2");
    h.key_press(egui::Key::Enter);
    let deadline = Instant::now() + Duration::from_secs(10);
    while h.query_by_label_contains("24  (number)").is_none() {
        assert!(Instant::now() < deadline, "no answer in the console");
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    // A statement changes a local: the Variables list shows it.
    h.shown_role(egui::accesskit::Role::TextInput, "Debug console")
        .get_by_role_and_label(egui::accesskit::Role::TextInput, "Debug console")
        .type_text("x = 99");
    h.key_press(egui::Key::Enter);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        h.step();
        let changed = snapshot(&h)
            .stop
            .as_ref()
            .and_then(|s| s.locals.as_ref().ok().cloned())
            .is_some_and(|l| l.iter().any(|v| v.name == "x" && v.value == "99"));
        if changed {
            break;
        }
        assert!(Instant::now() < deadline, "x was not changed");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_data_breakpoint_set_in_the_inspector_stops_at_the_writing_line() {
    let (mut h, _project) = stopped_in_guards(None);
    h.shown("Back to panels")
        .get_by_label("Back to panels")
        .click_accesskit();
    h.run_steps(2);
    h.shown("guard-1   #1")
        .get_by_label("guard-1   #1")
        .click_accesskit();
    wait(&mut h, "guard-1 in the inspector", |app| {
        app.selected() == Some(1) && detail_field(app, "Position", "x").is_some()
    });
    h.run_steps(2);
    // The Position row's watch buttons: x is the first.
    h.get_all_by_label("○")
        .nth(1)
        .expect("Position.x's watch button")
        .click_accesskit();
    h.run_steps(2);
    wait(&mut h, "the data breakpoint", |app| {
        app.snapshot()
            .is_some_and(|s| !s.debug.data_breakpoints.is_empty())
    });
    h.state()
        .session()
        .unwrap()
        .send(ecscope::runtime::session::SessionCommand::Runtime(
            ecscope::runtime::RuntimeCommand::ClearBreakpoints,
        ));
    h.run_steps(2);
    h.key_press(egui::Key::F5);
    let deadline = Instant::now() + PATIENCE;
    let stop = loop {
        assert!(Instant::now() < deadline, "no data stop");
        h.step();
        if let Some(b) = snapshot(&h)
            .at_break
            .as_ref()
            .filter(|b| b.reason == "data")
        {
            break b.clone();
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_eq!((stop.file.as_str(), stop.line), ("scripts/guards.lua", 19));
    let data = stop.data.unwrap();
    assert_eq!(
        (data.entity, data.component.as_str(), data.field.as_str()),
        (1, "Position", "x")
    );
    h.run_steps(3);
    h.shown_containing("Position.x of entity 1 changed from")
        .get_by_label_contains("Position.x of entity 1 changed from");
}

#[test]
fn the_flame_graph_fits_again_after_a_slow_frame() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("scripts")).unwrap();
    std::fs::write(
        dir.path().join("ecscope.toml"),
        "[project]\nname = \"slow\"\n[limits]\ninstructions_per_frame = 2000000000\n[[script]]\npath = \"scripts/main.lua\"\n",
    )
    .unwrap();
    // Frame 1 takes 300 ms; the others take next to nothing.
    std::fs::write(
        dir.path().join("scripts/main.lua"),
        "ecs.system('once', function(dt)\n  if ecs.frame() == 1 then\n    local t0 = os.clock()\n    while os.clock() - t0 < 0.3 do end\n  end\nend)\n",
    )
    .unwrap();
    let mut h = open_on(dir.path(), Some("Profiler"));
    for frames in [2u64, 6] {
        h.shown("⏭ Step").get_by_label("⏭ Step").click_accesskit();
        h.run_steps(1);
        while h.state().snapshot().is_some_and(|s| s.view.frame < frames) {
            h.shown("⏭ Step").get_by_label("⏭ Step").click_accesskit();
            wait(&mut h, "a frame", |_| true);
        }
    }
    wait(&mut h, "the later frames", |app| {
        app.snapshot().is_some_and(|s| s.view.frame >= 6)
    });
    h.run_steps(5);
    let span = h.state().profiler_span_ns();
    assert!(span > 0.0, "the flame graph was drawn");
    assert!(
        span < 100_000_000.0,
        "the flame graph still spans the slow frame: {span} ns"
    );
}

#[test]
fn every_statistics_column_can_be_chosen_at_1280x720() {
    let project = common::copy_of_sample("profiling_hotspots");
    let options = GuiOptions {
        project: Some(project.path().to_path_buf()),
        steps: Some(30),
        panel: Some("Profiler".into()),
        ..Default::default()
    };
    let mut h = Harness::builder()
        .with_size([1280.0, 720.0])
        .build_eframe(move |cc| EcscopeApp::new(cc, options));
    wait(&mut h, "30 frames", |app| {
        app.snapshot().is_some_and(|s| s.view.frame >= 30)
    });
    h.run_steps(3);
    h.shown("Columns ⏷")
        .get_by_label("Columns ⏷")
        .click_accesskit();
    h.run_steps(2);
    for column in ["Calls", "Mean ms", "p95 ms", "Max ms", "µs/call", "%"] {
        h.shown_role(egui::accesskit::Role::CheckBox, column)
            .get_by_role_and_label(egui::accesskit::Role::CheckBox, column)
            .click_accesskit();
        h.run_steps(1);
    }
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    // Only the name and the sort column are left: both fit.
    assert!(h.query_by_label("Total ms ⏷").is_some());
    assert!(h.query_by_label("Max ms").is_none());
}

#[test]
fn a_profile_is_saved_and_opened_through_the_path_field() {
    let project = common::copy_of_sample("hello_lua");
    let mut h = open_on(project.path(), Some("Profiler"));
    h.shown("⏭ Step").get_by_label("⏭ Step").click();
    wait(&mut h, "a frame", |app| {
        app.snapshot().is_some_and(|s| s.view.frame >= 1)
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("run.puffin");
    save_through_menu(&mut h, "Save profile…", &file);
    assert!(file.exists(), "the profile was written");
    h.shown_containing("saved ").get_by_label_contains("saved ");
    // A path that is not a profile: a message, and nothing else happens.
    let bad = dir.path().join("bad.puffin");
    std::fs::write(&bad, b"not a profile").unwrap();
    h.shown("File").get_by_label("File").click_accesskit();
    h.run_steps(1);
    h.shown("Open profile…")
        .get_by_label("Open profile…")
        .click_accesskit();
    h.run_steps(2);
    h.shown_role(egui::accesskit::Role::TextInput, "Path")
        .get_by_role_and_label(egui::accesskit::Role::TextInput, "Path")
        .click();
    h.run_steps(1);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.shown_role(egui::accesskit::Role::TextInput, "Path")
        .get_by_role_and_label(egui::accesskit::Role::TextInput, "Path")
        .type_text(&bad.display().to_string());
    h.run_steps(1);
    h.shown("Open").get_by_label("Open").click();
    h.run_steps(3);
    h.shown_containing("bad.puffin")
        .get_by_label_contains("bad.puffin");
}

#[test]
fn a_reload_pins_the_frames_before_it_and_before_after_names_the_change() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("scripts")).unwrap();
    std::fs::write(
        dir.path().join("ecscope.toml"),
        "[project]\nname = \"work\"\n[[script]]\npath = \"scripts/main.lua\"\n",
    )
    .unwrap();
    let script = dir.path().join("scripts/main.lua");
    let source = |n: u32| {
        format!(
            "local function churn()\n  local s = 0\n  for i = 1, {n} do s = s + math.sin(i) end\n  return s\nend\n\necs.system(\"work\", function()\n  churn()\nend)\n"
        )
    };
    std::fs::write(&script, source(50_000)).unwrap();
    let mut h = open_on(dir.path(), Some("Profiler"));
    step_to(&mut h, 12);
    // Saved from another editor: ten times the work.
    std::fs::write(&script, source(500_000)).unwrap();
    wait(&mut h, "the reload", |app| {
        app.console()
            .entries()
            .iter()
            .any(|e| e.text.starts_with("reloaded scripts/main.lua v2"))
    });
    step_to(&mut h, 24);
    h.shown("Before / after")
        .get_by_label("Before / after")
        .click_accesskit();
    wait_label(
        &mut h,
        "frames up to the reload of scripts/main.lua (v2)",
        true,
    );
    // The change is named above the table and in the Profiler's bar.
    let headlines = |h: &Harness<'_, EcscopeApp>| -> Vec<String> {
        h.query_all_by_label_contains("work: ")
            .map(|n| {
                let node = n.accesskit_node();
                node.label()
                    .filter(|l| !l.is_empty())
                    .or(node.value())
                    .unwrap_or_default()
            })
            .filter(|l| l.contains('×'))
            .collect()
    };
    let deadline = Instant::now() + PATIENCE;
    while headlines(&h).len() < 2 {
        assert!(Instant::now() < deadline, "the change was never named");
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    let headlines = headlines(&h);
    assert_eq!(headlines.len(), 2, "{headlines:?}");
    assert!(
        headlines
            .iter()
            .all(|l| l.starts_with("work: ") && l.ends_with("× slower")),
        "{headlines:?}"
    );
    h.shown("main.lua:work").get_by_label("main.lua:work");
    // The sampled function under the system is compared too.
    h.shown("Sampled functions (self time)")
        .get_by_label("Sampled functions (self time)");
    h.shown("main.lua:churn").get_by_label("main.lua:churn");
}

#[test]
fn the_statistics_mark_a_system_over_its_budget() {
    let dir = common::copy_of_sample("boids");
    let manifest = dir.path().join("ecscope.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        format!("{text}\n[budgets]\n\"scripts/flock.lua:steer\" = 0.001\nframe_ms = 1000\n"),
    )
    .unwrap();
    let mut h = open_on(dir.path(), Some("Profiler"));
    step_to(&mut h, 3);
    wait(&mut h, "the budgets measured", |app| {
        app.snapshot()
            .is_some_and(|s| s.profile.budgets.iter().any(|b| b.exceeded()))
    });
    h.run_steps(3);
    h.shown_containing("Over budget: scripts/flock.lua:steer: p95 ")
        .get_by_label_contains("Over budget: scripts/flock.lua:steer: p95 ");
    h.shown("flock.lua:steer ⚠")
        .get_by_label("flock.lua:steer ⚠");
    // The system within its budget is not marked.
    assert!(h.query_by_label("flock.lua:move ⚠").is_none());
}

/// File › `item` (a Save or Export), with `file` typed into its path
/// prompt and Save pressed.
fn save_through_menu(h: &mut Harness<'_, EcscopeApp>, item: &str, file: &Path) {
    h.shown("File").get_by_label("File").click_accesskit();
    h.run_steps(1);
    h.shown(item).get_by_label(item).click_accesskit();
    h.run_steps(2);
    h.shown_role(egui::accesskit::Role::TextInput, "Path")
        .get_by_role_and_label(egui::accesskit::Role::TextInput, "Path")
        .click();
    h.run_steps(1);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.shown_role(egui::accesskit::Role::TextInput, "Path")
        .get_by_role_and_label(egui::accesskit::Role::TextInput, "Path")
        .type_text(&file.display().to_string());
    h.run_steps(1);
    h.shown("Save").get_by_label("Save").click();
    h.run_steps(3);
}

/// File › Export trace… to a new file; returns the trace.
fn export_trace(h: &mut Harness<'_, EcscopeApp>) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("run.trace.json");
    save_through_menu(h, "Export trace…", &file);
    h.shown_containing("trace events to")
        .get_by_label_contains("trace events to");
    serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap()
}

/// The window's export has the sampler's script frames too: a helper
/// function is a span inside its system's calls.
#[test]
fn file_export_trace_nests_the_sampled_script_frames_under_their_calls() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("scripts")).unwrap();
    std::fs::write(
        dir.path().join("ecscope.toml"),
        "[project]\nname = \"busy\"\n[[script]]\npath = \"scripts/main.lua\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("scripts/main.lua"),
        "local function churn()\n  local s = 0\n  for i = 1, 300000 do s = s + math.sin(i) end\n  return s\nend\n\necs.system(\"work\", function()\n  churn()\nend)\n",
    )
    .unwrap();
    let mut h = open_on(dir.path(), Some("Profiler"));
    // Frames until the sampler has caught the helper a few times.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let next = snapshot(&h).view.frame + 1;
        h.shown("⏭ Step").get_by_label("⏭ Step").click_accesskit();
        wait(&mut h, "a step", |app| {
            app.snapshot().is_some_and(|s| s.view.frame >= next)
        });
        let caught = snapshot(&h)
            .profile
            .folded
            .iter()
            .filter(|(stack, _)| stack.contains("churn"))
            .map(|(_, n)| n)
            .sum::<u64>();
        if caught >= 5 {
            break;
        }
        assert!(Instant::now() < deadline, "the sampler never caught churn");
    }
    let trace = export_trace(&mut h);
    let events = trace["traceEvents"].as_array().unwrap();
    let calls: Vec<(f64, f64)> = events
        .iter()
        .filter(|e| e["ph"] == "X" && e["name"] == "main.lua:work" && e["cat"] == "script")
        .map(|e| {
            let ts = e["ts"].as_f64().unwrap();
            (ts, ts + e["dur"].as_f64().unwrap())
        })
        .collect();
    let churns: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["cat"] == "sample" && e["name"] == "main.lua:churn")
        .collect();
    assert!(!churns.is_empty(), "no sampled churn in the export");
    for span in churns {
        let ts = span["ts"].as_f64().unwrap();
        let end = ts + span["dur"].as_f64().unwrap();
        assert!(
            calls
                .iter()
                .any(|(a, b)| *a <= ts + 0.002 && end <= b + 0.002),
            "{span} is not inside a main.lua:work call"
        );
    }
}

#[test]
fn file_export_trace_writes_the_profiler_s_frames_for_perfetto() {
    use ecscope::runtime::RuntimeCommand;
    use ecscope::runtime::session::SessionCommand;
    let project = common::copy_of_sample("hello_lua");
    let mut h = open_on(project.path(), Some("Profiler"));
    step_to(&mut h, 3);
    // A stop at a breakpoint is an instant on the trace too.
    let session = |h: &Harness<'_, EcscopeApp>, command| {
        h.state()
            .session()
            .unwrap()
            .send(SessionCommand::Runtime(command));
    };
    session(
        &h,
        RuntimeCommand::SetBreakpoint {
            file: "scripts/hello.lua".to_string(),
            line: 36,
            on: true,
        },
    );
    h.key_press(egui::Key::F7);
    wait(&mut h, "the stop at line 36", |app| {
        app.snapshot()
            .and_then(|s| s.at_break.as_ref())
            .is_some_and(|b| b.line == 36)
    });
    session(&h, RuntimeCommand::ClearBreakpoints);
    h.run_steps(2);
    h.key_press(egui::Key::F5);
    wait(&mut h, "the stop to end", |app| {
        app.snapshot()
            .is_some_and(|s| s.at_break.is_none() && s.view.frame >= 4)
    });
    h.key_press(egui::Key::F6);
    wait(&mut h, "a pause", |app| {
        app.snapshot().is_some_and(|s| !s.playing)
    });
    let trace = export_trace(&mut h);
    let events = trace["traceEvents"].as_array().unwrap();
    let frames: Vec<u64> = events
        .iter()
        .filter(|e| e["ph"] == "X" && e["name"] == "frame")
        .filter_map(|e| e["args"]["frame"].as_u64())
        .collect();
    // The frame that stopped is left out (its time was the user's).
    assert!(frames.len() >= 3, "{frames:?}");
    assert!(
        frames[..3].windows(2).all(|w| w[1] == w[0] + 1),
        "{frames:?}"
    );
    let stops: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["ph"] == "i" && e["cat"] == "stop")
        .collect();
    assert_eq!(stops.len(), 1, "{stops:?}");
    assert_eq!(stops[0]["args"]["reason"], "breakpoint");
    assert_eq!(stops[0]["args"]["file"], "scripts/hello.lua");
    assert_eq!(stops[0]["args"]["line"], 36);
    // The counters are there too, as in a headless trace.
    for track in ["entities", "memory (bytes)"] {
        assert!(
            events.iter().any(|e| e["ph"] == "C" && e["name"] == track),
            "no {track} counter"
        );
    }
    assert!(
        events
            .iter()
            .any(|e| e["ph"] == "M" && e["args"]["name"] == "ecscope: hello_lua")
    );
    // Chrome DevTools' trace engine reads it as written.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.json");
    std::fs::write(&file, trace.to_string()).unwrap();
    let theirs = &common::devtools::read(&[file])[0];
    common::devtools::agrees("the export", &trace, theirs, frames.len() as u64);
}

#[test]
fn a_suggestion_names_the_slow_system_and_opens_its_line() {
    let project = common::copy_of_sample("profiling_hotspots");
    let mut h = open_on(project.path(), Some("Profiler"));
    h.shown("⏭ Step").get_by_label("⏭ Step").click_accesskit();
    wait(&mut h, "the suggestion", |app| {
        app.snapshot()
            .is_some_and(|s| s.view.frame >= 1 && !s.profile.suggestions.is_empty())
    });
    h.run_steps(3);
    h.shown_containing("Suggestions: 1")
        .get_by_label_contains("Suggestions: 1");
    h.shown("scripts/avoidance.lua:67 · separate")
        .get_by_label("scripts/avoidance.lua:67 · separate")
        .click_accesskit();
    h.run_steps(3);
    // The Scripts tab shows the file in the editor.
    h.shown("scripts/avoidance.lua")
        .get_by_label("scripts/avoidance.lua");
    let editor = h
        .get_all_by_role(egui::accesskit::Role::MultilineTextInput)
        .find(|n| {
            n.value()
                .is_some_and(|v| v.contains("ecs.system(\"separate\""))
        });
    assert!(editor.is_some(), "the editor shows avoidance.lua");
}

#[test]
fn clicking_a_hot_function_opens_the_editor_at_its_hottest_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("scripts")).unwrap();
    std::fs::write(
        dir.path().join("ecscope.toml"),
        "[project]\nname = \"hot\"\n[[script]]\npath = \"scripts/main.lua\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("scripts/main.lua"),
        "local function slow(n)\n  local total = 0\n  for i = 1, n do\n    total = total + math.sin(i) * i\n  end\n  return total\nend\n\necs.system(\"work\", function(dt)\n  slow(200000)\nend)\n",
    )
    .unwrap();
    let mut h = open_on(dir.path(), Some("Profiler"));
    h.shown("▶ Play").get_by_label("▶ Play").click_accesskit();
    wait(&mut h, "samples", |app| {
        app.snapshot()
            .is_some_and(|s| s.profile.samples.total >= 30)
    });
    h.shown("⏸ Pause").get_by_label("⏸ Pause").click_accesskit();
    wait(&mut h, "a pause", |app| {
        app.snapshot().is_some_and(|s| !s.playing)
    });
    h.shown("Functions")
        .get_by_label("Functions")
        .click_accesskit();
    h.run_steps(3);
    h.shown("Self").get_by_label("Self");
    h.shown("scripts/main.lua:4")
        .get_by_label("scripts/main.lua:4");
    h.shown("slow").get_by_label("slow").click_accesskit();
    h.run_steps(3);
    assert_eq!(
        h.state().shown_script(),
        (Some("scripts/main.lua"), Some(4)),
        "the editor shows the loop's line"
    );
    // The editor lists the hottest lines above the code.
    h.shown_containing("Hot lines:")
        .get_by_label_contains("Hot lines:");
    h.shown_containing("4 (").get_by_label_contains("4 (");
    // The Hot lines view opens the same line.
    h.state_mut()
        .show_pane(ecscope::gui::layout::Pane::Profiler);
    h.run_steps(2);
    h.shown("Hot lines")
        .get_by_label("Hot lines")
        .click_accesskit();
    h.run_steps(2);
    h.shown("scripts/main.lua:4")
        .get_by_label("scripts/main.lua:4")
        .click_accesskit();
    h.run_steps(3);
    assert_eq!(h.state().shown_script().1, Some(4));
    // File › Save samples… writes the same as `--samples`.
    let file = dir.path().join("run.folded");
    save_through_menu(&mut h, "Save samples…", &file);
    let text = std::fs::read_to_string(&file).expect("the samples were written");
    assert!(
        text.lines()
            .any(|l| l.starts_with("scripts/main.lua:work;")
                && l.contains(";scripts/main.lua:slow:4 ")),
        "{text}"
    );
    h.shown_containing("saved ").get_by_label_contains("saved ");
}

#[test]
fn an_editor_attached_over_debug_listen_stops_with_the_window_and_either_continues() {
    use common::dap::Client;
    use serde_json::json;
    let project = common::copy_of_sample("ai_coroutines");
    let root = project.path().canonicalize().unwrap();
    let mut h = open(&root);
    h.shown("Debug").get_by_label("Debug").click_accesskit();
    h.run_steps(1);
    h.shown("Listen for an editor…")
        .get_by_label("Listen for an editor…")
        .click_accesskit();
    h.run_steps(2);
    h.shown_role(egui::accesskit::Role::TextInput, "Address")
        .get_by_role_and_label(egui::accesskit::Role::TextInput, "Address")
        .click();
    h.run_steps(1);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.shown_role(egui::accesskit::Role::TextInput, "Address")
        .get_by_role_and_label(egui::accesskit::Role::TextInput, "Address")
        .type_text("127.0.0.1:0");
    h.run_steps(1);
    h.shown("Start listening")
        .get_by_label("Start listening")
        .click_accesskit();
    h.run_steps(2);
    let address = h.state().editor_address().expect("listening");
    wait_label(&mut h, "no editor yet", true);
    let mut editor = Client::tcp(&address);
    editor.initialize();
    editor.ok("attach", json!({"project": root}));
    let guards = root.join("scripts/guards.lua").display().to_string();
    editor.ok(
        "setBreakpoints",
        json!({"source": {"path": guards}, "breakpoints": [{"line": 14}]}),
    );
    editor.ok("configurationDone", json!({}));
    wait_label(&mut h, "An editor is attached", true);
    // A breakpoint set in the window shows in the editor, and goes.
    let set = |h: &mut Harness<'_, EcscopeApp>, on: bool| {
        h.state()
            .session()
            .unwrap()
            .send(ecscope::runtime::session::SessionCommand::Runtime(
                ecscope::runtime::RuntimeCommand::SetBreakpoint {
                    file: "scripts/intruder.py".into(),
                    line: 26,
                    on,
                },
            ));
    };
    set(&mut h, true);
    let new = editor.event("breakpoint");
    assert_eq!(new["body"]["reason"], "new");
    assert_eq!(new["body"]["breakpoint"]["line"], 26);
    assert_eq!(
        new["body"]["breakpoint"]["source"]["path"],
        root.join("scripts/intruder.py").display().to_string()
    );
    set(&mut h, false);
    let removed = editor.event("breakpoint");
    assert_eq!(removed["body"]["reason"], "removed");
    assert_eq!(
        removed["body"]["breakpoint"]["id"],
        new["body"]["breakpoint"]["id"]
    );
    // The window plays; the stop shows in both.
    h.shown("▶ Play").get_by_label("▶ Play").click_accesskit();
    h.run_steps(1);
    let stop = editor.event("stopped");
    assert_eq!(stop["body"]["reason"], "breakpoint");
    wait(&mut h, "the stop in the window", |app| {
        app.snapshot()
            .and_then(|s| s.at_break.as_ref())
            .is_some_and(|b| b.line == 14)
    });
    wait_label(&mut h, "⏸ Stopped at scripts/guards.lua:14", true);
    // The window continues: the editor hears it, then the next stop.
    h.shown("▶ Continue")
        .get_by_label("▶ Continue")
        .click_accesskit();
    h.run_steps(1);
    let continued = editor.event("continued");
    assert_eq!(continued["body"]["allThreadsContinued"], true);
    editor.event("stopped");
    // The editor continues without its breakpoint: the window runs on.
    editor.ok(
        "setBreakpoints",
        json!({"source": {"path": guards}, "breakpoints": []}),
    );
    editor.ok("continue", json!({"threadId": 1}));
    let frame = snapshot(&h).view.frame;
    wait(&mut h, "frames after the editor's continue", |app| {
        app.snapshot()
            .is_some_and(|s| s.at_break.is_none() && s.view.frame > frame + 2)
    });
    // The window's Pause shows in the editor as a stop between frames, and
    // its Play as running again.
    h.shown("⏸ Pause").get_by_label("⏸ Pause").click_accesskit();
    h.run_steps(1);
    let paused = editor.event("stopped");
    assert_eq!(paused["body"]["reason"], "pause");
    wait(&mut h, "the window paused", |app| {
        app.snapshot().is_some_and(|s| !s.playing)
    });
    h.shown("▶ Play").get_by_label("▶ Play").click_accesskit();
    h.run_steps(1);
    editor.event("continued");
    editor.ok("disconnect", json!({}));
    drop(editor);
    wait(&mut h, "the editor to leave", |app| {
        app.editor_address().is_some()
    });
    wait_label(&mut h, "The last editor left", true);
}
