//! The app shell: menus, toolbar, the docked panels, opening projects and
//! persisting settings. Holds UI state only; the project runs in a
//! [`Session`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use egui_tiles::{SimplificationOptions, TileId, UiResponse};

use super::console::Console;
use super::editor::Buffers;
use super::layout::{self, Pane};
use super::panels::PanelCtx;
use super::panels::console::ConsolePanel;
use super::panels::coroutines::CoroutinesPanel;
use super::panels::entities::EntitiesPanel;
use super::panels::inspector::InspectorPanel;
use super::panels::memory::MemoryPanel;
use super::panels::profiler::ProfilerPanel;
use super::panels::scene::ScenePanel;
use super::panels::scripts::ScriptsPanel;
use super::screenshot::{self, ScreenshotPlan};
use super::settings::Settings;
use super::shortcuts::{self, Shortcut};
use super::toolbar::{self, ToolbarAction};
use crate::project::Project;
use crate::runtime::session::{Session, SessionCommand, SessionEvent, Snapshot};
use crate::runtime::{EventKind, RuntimeCommand, RuntimeEvent};
use crate::scripting::debugger::DebugAction;

/// How the app was started.
#[derive(Debug, Clone, Default)]
pub struct GuiOptions {
    /// A project to open at start.
    pub project: Option<PathBuf>,
    /// Save a PNG of the window and quit.
    pub screenshot: Option<PathBuf>,
    /// Start paused and run exactly this many frames first.
    pub steps: Option<u32>,
    /// Select this entity at start.
    pub select: Option<u64>,
    /// Bring this panel's tab to the front at start (`Scripts`...).
    pub panel: Option<String>,
    /// Select this coroutine at start.
    pub coroutine: Option<u64>,
    /// Open `project` restricted (a restart keeps an untrusted project so).
    pub restricted: bool,
    /// The window was restarted after a crash; this says what crashed.
    pub after_crash: Option<String>,
}

/// Live state the panels work on.
#[derive(Default)]
struct AppState {
    session: Option<Session>,
    snapshot: Option<Arc<Snapshot>>,
    selected: Option<u64>,
    console: Console,
    commands: Vec<SessionCommand>,
    /// A file and line the Scripts panel should show.
    goto: Option<(String, u32)>,
    /// The break last brought to the user's attention (file, line, frame,
    /// stop number).
    seen_break: Option<(String, u32, u64, u64)>,
    /// The script editor's buffers of the open project.
    buffers: Option<Buffers>,
}

impl AppState {
    /// What a panel may read and do this frame, for `f`.
    fn with_ctx<R>(&mut self, f: impl FnOnce(&mut PanelCtx) -> R) -> R {
        let snapshot = self.snapshot.clone();
        let root = self.session.as_ref().map(|s| s.project().root.clone());
        let mut ctx = PanelCtx {
            snapshot: snapshot.as_deref(),
            project_root: root.as_deref(),
            selected: &mut self.selected,
            commands: &mut self.commands,
            console: &mut self.console,
            goto: &mut self.goto,
            buffers: &mut self.buffers,
        };
        f(&mut ctx)
    }
}

/// Something that would close the editor's buffers, waiting for the user
/// because some have unsaved changes.
#[derive(Debug, Clone)]
enum Leaving {
    /// Closing the window.
    Quit,
    /// Opening another project (restricted or not).
    Open(PathBuf, bool),
}

#[derive(Default)]
struct Panels {
    scene: ScenePanel,
    entities: EntitiesPanel,
    inspector: InspectorPanel,
    console: ConsolePanel,
    scripts: ScriptsPanel,
    coroutines: CoroutinesPanel,
    profiler: ProfilerPanel,
    memory: MemoryPanel,
    readme: super::panels::readme::ReadmePanel,
    debug: super::panels::debug::DebugPanel,
}

/// The ECScope window.
pub struct EcscopeApp {
    settings: Settings,
    state: AppState,
    panels: Panels,
    options: GuiOptions,
    error: Option<String>,
    screenshot: Option<ScreenshotPlan>,
    title: String,
    about: bool,
    /// Help › Samples: the start screen in a window over an open project.
    show_samples: bool,
    /// Help › Keyboard shortcuts.
    show_shortcuts: bool,
    /// The Debug view replaces the panels: from a stop until Continue, or
    /// while View › Debug view is on.
    debug_view: bool,
    /// The Debug view was opened by a stop (not by the View menu), so
    /// running on closes it even if the stop's snapshot has not arrived.
    debug_view_by_stop: bool,
    /// View › Profile view: the Profiler alone in the window.
    profile_view: bool,
    /// File › Open or Save profile: a path to type (or browse for).
    profile_prompt: Option<ProfilePrompt>,
    /// A project waiting for the user to trust it (or not) before it opens.
    trust_prompt: Option<super::panels::trust::TrustPrompt>,
    /// The bundled samples, read once at start.
    samples: Vec<super::panels::start::SampleCard>,
    stats: GuiStats,
    leaving: Option<Leaving>,
    /// The user agreed to close with unsaved changes kept in the autosave.
    may_close: bool,
    /// The stuck call last shown, and whether the user chose to keep
    /// waiting on it.
    stuck_seen: Option<crate::scripting::watchdog::StuckCall>,
    stuck_dismissed: bool,
    /// Debug › Listen for an editor….
    editor_link: super::editor_link::EditorLink,
}

/// The GUI's own cost, shown in the status bar: CPU time per frame as
/// eframe measures it (update, tessellation and painting) and the interval
/// between frames, averaged over the last frames.
#[derive(Debug, Default)]
struct GuiStats {
    cpu_ms: std::collections::VecDeque<f32>,
    interval_ms: std::collections::VecDeque<f32>,
    /// Time in `update` (every panel's UI), and in each pane's own UI.
    update_ms: std::collections::VecDeque<f32>,
    pane_ms: std::collections::BTreeMap<&'static str, std::collections::VecDeque<f32>>,
    /// This frame's pane times, recorded at its end.
    frame_panes: Vec<(&'static str, f32)>,
}

impl GuiStats {
    const WINDOW: usize = 120;

    fn record(&mut self, cpu_ms: f32, interval_ms: f32) {
        Self::push(&mut self.cpu_ms, cpu_ms);
        Self::push(&mut self.interval_ms, interval_ms);
    }

    fn mean(series: &std::collections::VecDeque<f32>) -> f32 {
        series.iter().sum::<f32>() / series.len().max(1) as f32
    }

    /// Ends a frame's timing: `update_ms` for the whole UI, plus the
    /// panes timed during it (a pane not shown this frame counts 0).
    fn record_update(&mut self, update_ms: f32) {
        Self::push(&mut self.update_ms, update_ms);
        for (name, _) in self.frame_panes.iter() {
            self.pane_ms.entry(name).or_default();
        }
        for (name, series) in self.pane_ms.iter_mut() {
            let ms = self
                .frame_panes
                .iter()
                .filter(|(n, _)| n == name)
                .map(|(_, ms)| ms)
                .sum();
            Self::push(series, ms);
        }
        self.frame_panes.clear();
    }

    fn push(series: &mut std::collections::VecDeque<f32>, value: f32) {
        series.push_back(value);
        if series.len() > Self::WINDOW {
            series.pop_front();
        }
    }

    /// The breakdown the status bar shows on hover.
    fn breakdown(&self) -> String {
        let mut text = format!(
            "CPU time the GUI spends per frame (update, layout, tessellation and painting; mean of the last {} frames) and frames drawn per second.\n\nupdate (all panels): {:.2} ms",
            Self::WINDOW,
            Self::mean(&self.update_ms)
        );
        let mut panes: Vec<_> = self
            .pane_ms
            .iter()
            .map(|(name, series)| (*name, Self::mean(series)))
            .collect();
        panes.sort_by(|a, b| b.1.total_cmp(&a.1));
        for (name, ms) in panes {
            text.push_str(&format!("\n  {name}: {ms:.2} ms"));
        }
        text
    }
}

impl EcscopeApp {
    /// Creates the app, restoring settings and opening the start project.
    pub fn new(cc: &eframe::CreationContext<'_>, options: GuiOptions) -> EcscopeApp {
        // The Profiler panel's viewer expects puffin to be on; the GUI's
        // own scopes (the viewer has some) are thrown away, so only frames
        // the runtime recorded are ever shown.
        puffin::set_scopes_on(true);
        puffin::ThreadProfiler::initialize(puffin::now_ns, |_, _, _| {});
        // Thumbnails and README images are PNG files.
        egui_extras::install_image_loaders(&cc.egui_ctx);
        // Symbols such as ● (unsaved) and ↷ are only in the monospace font:
        // proportional text falls back to it, so every icon renders.
        let mut fonts = egui::FontDefinitions::default();
        let hack = fonts
            .families
            .get(&egui::FontFamily::Monospace)
            .and_then(|m| m.first().cloned());
        if let (Some(hack), Some(proportional)) = (
            hack,
            fonts.families.get_mut(&egui::FontFamily::Proportional),
        ) {
            proportional.push(hack);
        }
        cc.egui_ctx.set_fonts(fonts);
        let mut app = EcscopeApp {
            // A screenshot shows the default layout, whatever the user's.
            settings: if options.screenshot.is_some() {
                Settings::default()
            } else {
                Settings::load(cc.storage)
            },
            state: AppState::default(),
            panels: Panels::default(),
            screenshot: options
                .screenshot
                .clone()
                .map(|path| ScreenshotPlan::Waiting {
                    path,
                    frame: options.steps.unwrap_or(0) as u64,
                    settled: 0,
                }),
            options,
            error: None,
            title: String::new(),
            about: false,
            show_samples: false,
            show_shortcuts: false,
            debug_view: false,
            debug_view_by_stop: false,
            profile_view: false,
            profile_prompt: None,
            trust_prompt: None,
            samples: super::samples_dir()
                .map(|dir| super::panels::start::sample_cards(&dir))
                .unwrap_or_default(),
            stats: GuiStats::default(),
            leaving: None,
            may_close: false,
            stuck_seen: None,
            stuck_dismissed: false,
            editor_link: Default::default(),
        };
        // Naming a project on the command line is consent to run it, as
        // with any interpreter.
        if let Some(project) = app.options.project.clone() {
            let restricted = app.options.restricted;
            app.open_project_now(&cc.egui_ctx, &project, restricted);
        }
        if let Some(name) = app.options.panel.clone()
            && let Some(pane) = Pane::ALL
                .into_iter()
                .find(|p| p.title().eq_ignore_ascii_case(&name))
        {
            app.show_pane(pane);
        }
        if let Some(id) = app.options.coroutine {
            app.panels
                .coroutines
                .select(Some(id), &mut app.state.commands);
        }
        app
    }

    /// Opens a project folder, replacing the current one (after asking,
    /// when the editor has unsaved changes). A bad project is reported and
    /// the current one keeps running.
    /// A project opened for the first time asks to be trusted first (its
    /// scripts run with the user's rights); the answer is remembered per
    /// folder. The bundled samples are trusted.
    pub fn open_project(&mut self, ctx: &egui::Context, path: &Path) {
        let root = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        let bundled = super::samples_dir()
            .and_then(|d| d.canonicalize().ok())
            .is_some_and(|d| root.starts_with(d));
        let restricted = match self.settings.trust.get(&root) {
            _ if bundled => false,
            Some(trusted) => !trusted,
            None => {
                self.trust_prompt = Some(super::panels::trust::TrustPrompt::new(&root));
                return;
            }
        };
        if self.has_unsaved() {
            self.leaving = Some(Leaving::Open(root, restricted));
            return;
        }
        self.open_project_now(ctx, &root, restricted);
    }

    /// Records the answer to the trust prompt and opens the project.
    fn decide_trust(&mut self, ctx: &egui::Context, trusted: bool) {
        if let Some(prompt) = self.trust_prompt.take() {
            self.settings.trust.insert(prompt.root.clone(), trusted);
            self.open_project(ctx, &prompt.root);
        }
    }

    /// Forgets the trust decisions, so every project asks again.
    pub fn forget_trust(&mut self) {
        self.settings.trust.clear();
    }

    /// The script call reported stuck, if any (the restart offer shows).
    pub fn stuck_call(&self) -> Option<crate::scripting::watchdog::StuckCall> {
        self.state.session.as_ref().and_then(Session::stuck_call)
    }

    /// Whether the editor holds unsaved changes.
    pub fn has_unsaved(&self) -> bool {
        self.state
            .buffers
            .as_ref()
            .is_some_and(|b| !b.dirty().is_empty())
    }

    fn open_project_now(&mut self, ctx: &egui::Context, path: &Path, restricted: bool) {
        let project = match Project::open(path) {
            Ok(project) if restricted => project.restricted(),
            Ok(project) => project,
            Err(err) => {
                self.state.console.push(super::console::Entry {
                    frame: None,
                    level: super::console::Level::Error,
                    location: err.line.map(|l| (err.file.display().to_string(), l as u32)),
                    text: err.to_string(),
                    detail: None,
                });
                self.error = Some(err.to_string());
                return;
            }
        };
        // A stuck session's thread cannot be ended, and may hold Python: the
        // other project opens in a new process.
        if self.stuck_call().is_some() {
            if let Some(buffers) = &mut self.state.buffers {
                buffers.autosave_now();
            }
            let problem = restart(Some(&project));
            self.error = Some(format!("Cannot restart ECScope: {problem}"));
            return;
        }
        // Should the process crash, its supervisor reopens this project.
        crate::crash::note_project(&project.root, project.restricted);
        // The old session's thread is joined before the new one starts.
        if let Some(buffers) = &mut self.state.buffers {
            buffers.autosave_now();
        }
        self.state.buffers = None;
        self.state.session = None;
        self.state.snapshot = None;
        let notify_ctx = ctx.clone();
        let notify = Arc::new(move || notify_ctx.request_repaint());
        let start_playing = self.options.steps.is_none() && self.options.screenshot.is_none();
        self.settings.remember(&project.root);
        let watches = self
            .settings
            .watches
            .get(&project.root)
            .cloned()
            .unwrap_or_default();
        self.panels.debug.set_watches(watches);
        self.state
            .console
            .info(format!("opened project {}", project.name()));
        let session = Session::start(project, start_playing, notify);
        self.editor_link.set_session(Some(session.linker()));
        self.state.session = Some(session);
        self.state.selected = self.options.select.take();
        if self.state.selected.is_some() {
            self.state
                .commands
                .push(SessionCommand::Inspect(self.state.selected));
        }
        if let Some(steps) = self.options.steps.take() {
            self.state.commands.push(SessionCommand::Step(steps));
        }
        self.panels.scene.fit_on_next();
    }

    /// The session of the open project.
    pub fn session(&self) -> Option<&Session> {
        self.state.session.as_ref()
    }

    /// The script in the editor, and the line last shown in it.
    pub fn shown_script(&self) -> (Option<&str>, Option<u32>) {
        self.panels.scripts.shown()
    }

    /// The snapshot shown in the last frame.
    pub fn snapshot(&self) -> Option<&Snapshot> {
        self.state.snapshot.as_deref()
    }

    /// The selected entity.
    pub fn selected(&self) -> Option<u64> {
        self.state.selected
    }

    /// Console entries, for tests and tools.
    pub fn console(&self) -> &Console {
        &self.state.console
    }

    /// The time span the Profiler's flame graph shows, in ns.
    pub fn profiler_span_ns(&self) -> f32 {
        self.panels.profiler.shown_span_ns()
    }

    /// When a script newly stops at a breakpoint: show its line and, for a
    /// coroutine, select it.
    fn notice_break(&mut self) -> bool {
        let current = self
            .state
            .snapshot
            .as_deref()
            .and_then(|s| s.at_break.as_ref().map(|b| (b.clone(), s.view.frame)));
        let key = current
            .as_ref()
            .map(|(b, frame)| (b.file.clone(), b.line, *frame, b.stop));
        if key == self.state.seen_break {
            return false;
        }
        self.state.seen_break = key;
        if let Some((stop, _)) = current {
            self.debug_view = true;
            self.debug_view_by_stop = true;
            self.state.goto = Some((stop.file.clone(), stop.line));
            if let Some(id) = stop.coroutine {
                self.panels
                    .coroutines
                    .select(Some(id), &mut self.state.commands);
            }
        }
        true
    }

    /// Shows a `.puffin` file in the Profiler panel (a bad file is reported
    /// there).
    pub fn open_profile(&mut self, path: &Path) {
        self.panels.profiler.open_file(path);
        self.show_pane(Pane::Profiler);
    }

    /// Brings a panel's tab to the front.
    pub fn show_pane(&mut self, pane: Pane) {
        self.settings
            .layout
            .make_active(|_, tile| matches!(tile, egui_tiles::Tile::Pane(p) if *p == pane));
    }

    fn menu_bar(&mut self, ctx: &egui::Context, ui: &mut egui::Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                let open = egui::Button::new("Open project…")
                    .shortcut_text(shortcuts::keys(ctx, Shortcut::Open));
                if ui.add(open).clicked() {
                    ui.close();
                    self.pick_project(ctx);
                }
                ui.menu_button("Open recent", |ui| {
                    if self.settings.recent.is_empty() {
                        ui.weak("No recent projects");
                    }
                    for path in self.settings.recent.clone() {
                        if ui.button(path.display().to_string()).clicked() {
                            ui.close();
                            self.open_project(ctx, &path);
                        }
                    }
                });
                if let Some(samples) = super::samples_dir() {
                    ui.menu_button("Open sample", |ui| {
                        for path in sample_folders(&samples) {
                            let name = path
                                .file_name()
                                .map(|n| n.to_string_lossy().to_string())
                                .unwrap_or_default();
                            if ui.button(name).clicked() {
                                ui.close();
                                self.open_project(ctx, &path);
                            }
                        }
                    });
                }
                ui.separator();
                if ui.button("Open profile…").clicked() {
                    ui.close();
                    self.profile_prompt = Some(ProfilePrompt::new(false, self.state.session.as_ref()));
                }
                if ui.button("Save profile…").clicked() {
                    ui.close();
                    self.profile_prompt = Some(ProfilePrompt::new(true, self.state.session.as_ref()));
                }
                if ui
                    .button("Save samples…")
                    .on_hover_text("The scripts' sampled stacks, folded, for inferno, flamegraph.pl or speedscope")
                    .clicked()
                {
                    ui.close();
                    self.profile_prompt = Some(ProfilePrompt::samples(self.state.session.as_ref()));
                }
                if ui
                    .button("Export trace…")
                    .on_hover_text("The frames the Profiler shows as a Chrome Trace Event file, for ui.perfetto.dev or chrome://tracing")
                    .clicked()
                {
                    ui.close();
                    self.profile_prompt = Some(ProfilePrompt::trace(self.state.session.as_ref()));
                }
                if ui.button("Connect to a profile stream…").clicked() {
                    ui.close();
                    self.panels.profiler.ask_connect();
                    self.show_pane(Pane::Profiler);
                }
                ui.separator();
                if ui.button("Quit").clicked() {
                    ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                }
            });
            ui.menu_button("View", |ui| {
                ui.checkbox(&mut self.settings.show_names, "Entity names in the scene");
                if ui.button("Forget trusted projects").clicked() {
                    self.forget_trust();
                    ui.close();
                }
                if ui.button("Reset layout").clicked() {
                    self.settings.layout = layout::default_tree();
                    ui.close();
                }
                ui.separator();
                ui.checkbox(&mut self.profile_view, "Profile view")
                    .on_hover_text("The flame graph and the statistics across the whole window");
                if ui
                    .checkbox(&mut self.debug_view, "Debug view")
                    .on_hover_text("Code, call stack, variables, watches, breakpoints and the debug console on one screen; it opens by itself at a stop")
                    .changed()
                {
                    self.debug_view_by_stop = false;
                }
            });
            ui.menu_button("Debug", |ui| {
                if ui
                    .button("Listen for an editor…")
                    .on_hover_text("Let VS Code or Neovim attach to this window's run with the Debug Adapter Protocol")
                    .clicked()
                {
                    self.editor_link.open = true;
                    ui.close();
                }
            });
            ui.menu_button("Help", |ui| {
                if ui.button("Samples").clicked() {
                    self.show_samples = true;
                    ui.close();
                }
                if ui.button("Keyboard shortcuts").clicked() {
                    self.show_shortcuts = true;
                    ui.close();
                }
                if ui.button("About ECScope").clicked() {
                    self.about = true;
                    ui.close();
                }
            });
        });
    }

    /// The address Debug › Listen for an editor… listens on, while it does.
    pub fn editor_address(&self) -> Option<String> {
        self.editor_link.listening().map(str::to_string)
    }

    fn pick_project(&mut self, ctx: &egui::Context) {
        let start = self
            .state
            .session
            .as_ref()
            .and_then(|s| s.project().root.parent().map(Path::to_path_buf))
            .or_else(super::samples_dir);
        let mut dialog = rfd::FileDialog::new().set_title("Open an ECScope project folder");
        if let Some(start) = start {
            dialog = dialog.set_directory(start);
        }
        if let Some(path) = dialog.pick_folder() {
            self.open_project(ctx, &path);
        }
    }

    /// File › Open or Save profile: a path field, with Browse… for the
    /// system's file dialog where there is one.
    fn profile_prompt(&mut self, ctx: &egui::Context) {
        let Some(prompt) = self.profile_prompt.as_mut() else {
            return;
        };
        let mut open = true;
        let mut act = false;
        let title = match (prompt.save, prompt.samples) {
            _ if prompt.trace => "Export trace",
            (true, true) => "Save samples",
            (true, false) => "Save profile",
            _ => "Open profile",
        };
        egui::Window::new(title)
            .open(&mut open)
            .collapsible(false)
            .resizable(false)
            .show(ctx, |ui| {
                ui.label(if prompt.trace {
                    "Chrome Trace Event JSON of the frames the Profiler shows (open it at ui.perfetto.dev or chrome://tracing): type the path, or browse."
                } else if prompt.samples {
                    "Folded stacks, one \"stack count\" line each (for inferno, flamegraph.pl or speedscope): type the path, or browse."
                } else {
                    "A .puffin file: type its path, or browse."
                });
                ui.horizontal(|ui| {
                    let label = ui.label("Path");
                    let edit = ui
                        .add(egui::TextEdit::singleline(&mut prompt.path).desired_width(420.0))
                        .labelled_by(label.id);
                    act |= edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                    if ui.button("Browse…").clicked() {
                        let dialog = if prompt.trace {
                            rfd::FileDialog::new()
                                .add_filter("trace", &["json"])
                                .set_file_name("trace.json")
                        } else if prompt.samples {
                            rfd::FileDialog::new()
                                .add_filter("folded stacks", &["folded", "txt"])
                                .set_file_name("samples.folded")
                        } else {
                            rfd::FileDialog::new()
                                .add_filter("puffin profile", &["puffin"])
                                .set_file_name("profile.puffin")
                        };
                        let picked = if prompt.save {
                            dialog.save_file()
                        } else {
                            dialog.pick_file()
                        };
                        match picked {
                            Some(path) => prompt.path = path.display().to_string(),
                            None => {
                                prompt.error = Some(
                                    "No file was chosen (or this machine has no file dialog): type the path above."
                                        .into(),
                                )
                            }
                        }
                    }
                });
                if let Some(error) = &prompt.error {
                    ui.colored_label(super::theme::ERROR, error);
                }
                act |= ui
                    .button(if prompt.save { "Save" } else { "Open" })
                    .clicked();
            });
        if act {
            let path = PathBuf::from(prompt.path.trim());
            if prompt.path.trim().is_empty() {
                prompt.error = Some("Type a path first.".into());
            } else if prompt.trace {
                let profile = self.state.snapshot.as_ref().map(|s| s.profile.clone());
                let project = self
                    .state
                    .session
                    .as_ref()
                    .map(|s| s.project().manifest.project.name.clone())
                    .unwrap_or_default();
                self.panels
                    .profiler
                    .export_trace(&path, profile.as_ref(), &project);
                self.profile_prompt = None;
                self.show_pane(Pane::Profiler);
            } else if prompt.samples {
                let folded = self
                    .state
                    .snapshot
                    .as_ref()
                    .map(|s| s.profile.folded.clone());
                self.panels.profiler.save_samples(&path, folded.as_deref());
                self.profile_prompt = None;
                self.show_pane(Pane::Profiler);
            } else if prompt.save {
                let frames = self
                    .state
                    .snapshot
                    .as_ref()
                    .map(|s| s.profile.frames.clone());
                self.panels.profiler.save_file(&path, frames.as_ref());
                self.profile_prompt = None;
                self.show_pane(Pane::Profiler);
            } else {
                self.open_profile(&path);
                self.profile_prompt = None;
            }
        } else if !open {
            self.profile_prompt = None;
        }
    }

    fn windows(&mut self, ctx: &egui::Context) {
        self.profile_prompt(ctx);
        self.editor_link.window(ctx);
        if let Some(prompt) = &self.trust_prompt {
            match prompt.ui(ctx) {
                Some(super::panels::trust::TrustChoice::Trust) => self.decide_trust(ctx, true),
                Some(super::panels::trust::TrustChoice::Restricted) => {
                    self.decide_trust(ctx, false)
                }
                Some(super::panels::trust::TrustChoice::Cancel) => self.trust_prompt = None,
                None => {}
            }
        }
        if let Some(message) = &self.options.after_crash
            && super::panels::stuck::crashed_ui(ctx, message)
        {
            self.options.after_crash = None;
        }
        if let Some(message) = self.error.clone() {
            let mut open = true;
            egui::Window::new("Cannot open project")
                .collapsible(false)
                .resizable(true)
                .open(&mut open)
                .show(ctx, |ui| {
                    ui.label(
                        egui::RichText::new(&message)
                            .color(super::theme::ERROR)
                            .monospace(),
                    );
                    if ui.button("OK").clicked() {
                        self.error = None;
                    }
                });
            if !open {
                self.error = None;
            }
        }
        if self.show_shortcuts {
            shortcuts::help_window(ctx, &mut self.show_shortcuts);
        }
        if self.about {
            egui::Window::new("About ECScope")
                .open(&mut self.about)
                .collapsible(false)
                .show(ctx, |ui| {
                    ui.heading(format!("ECScope {}", env!("CARGO_PKG_VERSION")));
                    ui.label("A visual debugger and profiler for ECS game logic scripted in Lua and Python.");
                });
        }
    }

    /// Asks what to do with unsaved changes before closing the window or
    /// opening another project.
    fn leaving_modal(&mut self, ctx: &egui::Context) {
        let Some(leaving) = self.leaving.clone() else {
            return;
        };
        let dirty = self
            .state
            .buffers
            .as_ref()
            .map(|b| b.dirty())
            .unwrap_or_default();
        let verb = match &leaving {
            Leaving::Quit => "quit",
            Leaving::Open(..) => "open the project",
        };
        enum Choice {
            SaveAll,
            Keep,
            Cancel,
        }
        let mut choice = None;
        let response = egui::Modal::new(egui::Id::new("leaving")).show(ctx, |ui| {
            ui.set_max_width(460.0);
            ui.strong("Unsaved changes");
            for file in &dirty {
                ui.label(format!("● {file}"));
            }
            if let Some(problem) = self.state.buffers.as_ref().and_then(|b| b.problem.as_ref()) {
                ui.colored_label(super::theme::ERROR, problem);
            }
            ui.weak(
                "Saving hot-reloads them. Kept changes come back the next time the project opens.",
            );
            ui.horizontal(|ui| {
                if ui.button(format!("Save all and {verb}")).clicked() {
                    choice = Some(Choice::SaveAll);
                }
                if ui.button(format!("Keep them unsaved and {verb}")).clicked() {
                    choice = Some(Choice::Keep);
                }
                if ui.button("Cancel").clicked() {
                    choice = Some(Choice::Cancel);
                }
            });
        });
        if response.should_close() && choice.is_none() {
            choice = Some(Choice::Cancel);
        }
        let Some(choice) = choice else {
            return;
        };
        self.leaving = None;
        let buffers = self.state.buffers.as_mut();
        match (choice, buffers) {
            (Choice::Cancel, _) => return,
            (Choice::SaveAll, Some(buffers)) => {
                for file in dirty {
                    if let Err(message) = buffers.save(&file) {
                        // Nothing closes while a save failed.
                        buffers.problem = Some((message).to_string());
                        self.leaving = Some(leaving);
                        return;
                    }
                }
            }
            (_, Some(buffers)) => buffers.autosave_now(),
            (_, None) => {}
        }
        match leaving {
            Leaving::Quit => {
                self.may_close = true;
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
            Leaving::Open(path, restricted) => self.open_project_now(ctx, &path, restricted),
        }
    }

    /// Does what a keyboard shortcut asks, where it applies: stepping keys
    /// only at a stop, and nothing without a project (but Open).
    fn apply_shortcut(&mut self, ctx: &egui::Context, shortcut: Shortcut) {
        if shortcut == Shortcut::Open {
            self.pick_project(ctx);
            return;
        }
        let Some(snapshot) = self.state.snapshot.as_deref() else {
            return;
        };
        let stopped = snapshot.at_break.is_some();
        let command = match shortcut {
            Shortcut::Continue | Shortcut::PlayPause if stopped => {
                Some(SessionCommand::Debug(DebugAction::Continue))
            }
            Shortcut::Continue => (!snapshot.playing).then_some(SessionCommand::Play),
            Shortcut::PlayPause if snapshot.playing => Some(SessionCommand::Pause),
            Shortcut::PlayPause => Some(SessionCommand::Play),
            Shortcut::Pause => snapshot.playing.then_some(SessionCommand::Pause),
            Shortcut::StepOver => stopped.then_some(SessionCommand::Debug(DebugAction::StepOver)),
            Shortcut::StepInto => stopped.then_some(SessionCommand::Debug(DebugAction::StepInto)),
            Shortcut::StepOut => stopped.then_some(SessionCommand::Debug(DebugAction::StepOut)),
            Shortcut::StepFrame => (!stopped).then_some(SessionCommand::Step(1)),
            Shortcut::Open => None,
        };
        self.state.commands.extend(command);
    }

    /// A stuck script call: the scripts' thread will not come back, so the
    /// choices are a restart of the process (after keeping unsaved text and
    /// settings) or quitting without waiting for it.
    fn stuck_modal(&mut self, ctx: &egui::Context, frame: &mut eframe::Frame) {
        let Some(call) = self.stuck_call() else {
            self.stuck_dismissed = false;
            self.stuck_seen = None;
            return;
        };
        // A new report shows again after an earlier one was waited on; the
        // same call reported again (it has run longer, or its line was
        // found) does not. A call that ended clears the report first.
        if self.stuck_seen.as_ref().map(|c| &c.script) != Some(&call.script) {
            self.stuck_seen = Some(call.clone());
            self.stuck_dismissed = false;
        }
        let closing = ctx.input(|i| i.viewport().close_requested());
        let unsaved = self.state.buffers.as_ref().map_or(0, |b| b.dirty().len());
        let choice = if closing {
            Some(super::panels::stuck::StuckChoice::Quit)
        } else if self.stuck_dismissed {
            None
        } else {
            super::panels::stuck::ui(ctx, &call, unsaved)
        };
        use super::panels::stuck::StuckChoice;
        match choice {
            None => {}
            Some(StuckChoice::Wait) => self.stuck_dismissed = true,
            Some(choice) => {
                if let Some(buffers) = &mut self.state.buffers {
                    buffers.autosave_now();
                }
                if let Some(storage) = frame.storage_mut() {
                    self.settings.save(storage);
                    storage.flush();
                }
                if choice == StuckChoice::Restart {
                    let project = self.state.session.as_ref().map(|s| s.project().clone());
                    let problem = restart(project.as_ref());
                    self.error = Some(format!("Cannot restart ECScope: {problem}"));
                    self.stuck_dismissed = true;
                } else {
                    // Dropping the session would wait for its thread forever.
                    std::process::exit(0);
                }
            }
        }
    }

    fn update_title(&mut self, ctx: &egui::Context) {
        let title = match &self.state.session {
            Some(session) => format!("ECScope — {}", session.project().name()),
            None => "ECScope".to_string(),
        };
        if title != self.title {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title = title;
        }
    }

    fn screenshot_step(&mut self, ctx: &egui::Context) {
        let Some(plan) = self.screenshot.clone() else {
            return;
        };
        ctx.request_repaint();
        match plan {
            ScreenshotPlan::Waiting {
                path,
                frame,
                settled,
            } => {
                let ready = match &self.state.snapshot {
                    Some(s) => {
                        let detail_ready = self
                            .state
                            .selected
                            .is_none_or(|id| s.detail.as_ref().is_some_and(|d| d.id == id));
                        // A stop at a breakpoint is as far as the steps get.
                        (s.view.frame >= frame || s.at_break.is_some())
                            && detail_ready
                            && !s.playing
                    }
                    None => self.state.session.is_none(),
                };
                let settled = if ready { settled + 1 } else { 0 };
                self.screenshot = Some(if settled >= screenshot::SETTLE_FRAMES {
                    ctx.send_viewport_cmd(egui::ViewportCommand::Screenshot(
                        egui::UserData::default(),
                    ));
                    ScreenshotPlan::Requested(path)
                } else {
                    ScreenshotPlan::Waiting {
                        path,
                        frame,
                        settled,
                    }
                });
            }
            ScreenshotPlan::Requested(path) => {
                let image = ctx.input(|i| {
                    i.raw.events.iter().find_map(|e| match e {
                        egui::Event::Screenshot { image, .. } => Some(Arc::clone(image)),
                        _ => None,
                    })
                });
                if let Some(image) = image {
                    match screenshot::save_png(&image, &path) {
                        Ok(()) => eprintln!("saved {}", path.display()),
                        Err(err) => eprintln!("error: cannot save the screenshot: {err}"),
                    }
                    self.screenshot = Some(ScreenshotPlan::Done);
                    ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                }
            }
            ScreenshotPlan::Done => {}
        }
    }
}

/// Replaces this process with a new ECScope on `project` (restricted if
/// it was). Returns only when that failed, with why.
fn restart(project: Option<&Project>) -> String {
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return e.to_string(),
    };
    let mut command = std::process::Command::new(exe);
    if let Some(project) = project {
        command.arg(&project.root);
        if project.restricted {
            command.arg("--restricted");
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.exec().to_string()
    }
    #[cfg(not(unix))]
    match command.spawn() {
        Ok(_) => std::process::exit(0),
        Err(e) => e.to_string(),
    }
}

/// Sample project folders, sorted.
pub fn sample_folders(dir: &Path) -> Vec<PathBuf> {
    let mut folders: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.join(crate::project::MANIFEST_FILE).is_file())
                .collect()
        })
        .unwrap_or_default();
    folders.sort();
    folders
}

struct Dock<'a> {
    state: &'a mut AppState,
    panels: &'a mut Panels,
    show_names: &'a mut bool,
    stats: &'a mut GuiStats,
}

impl egui_tiles::Behavior<Pane> for Dock<'_> {
    fn pane_ui(&mut self, ui: &mut egui::Ui, _tile_id: TileId, pane: &mut Pane) -> UiResponse {
        let started = std::time::Instant::now();
        let (panels, show_names) = (&mut *self.panels, &mut *self.show_names);
        self.state.with_ctx(|ctx| {
            egui::Frame::new()
                .inner_margin(6.0)
                .show(ui, |ui| match pane {
                    Pane::Scene => panels.scene.ui(ui, ctx, show_names),
                    Pane::Entities => panels.entities.ui(ui, ctx),
                    Pane::Inspector => panels.inspector.ui(ui, ctx),
                    Pane::Console => panels.console.ui(ui, ctx),
                    Pane::Scripts => panels.scripts.ui(ui, ctx),
                    Pane::Coroutines => panels.coroutines.ui(ui, ctx),
                    Pane::Profiler => panels.profiler.ui(ui, ctx),
                    Pane::Memory => panels.memory.ui(ui, ctx),
                    Pane::Readme => panels.readme.ui(ui, ctx),
                });
        });
        self.stats
            .frame_panes
            .push((pane.title(), started.elapsed().as_secs_f32() * 1000.0));
        UiResponse::None
    }

    fn tab_title_for_pane(&mut self, pane: &Pane) -> egui::WidgetText {
        pane.title().into()
    }

    fn simplification_options(&self) -> SimplificationOptions {
        SimplificationOptions {
            all_panes_must_have_tabs: true,
            ..Default::default()
        }
    }

    fn is_tab_closable(&self, _tiles: &egui_tiles::Tiles<Pane>, _tile_id: TileId) -> bool {
        false
    }
}

impl eframe::App for EcscopeApp {
    fn update(&mut self, ctx: &egui::Context, frame: &mut eframe::Frame) {
        let update_started = std::time::Instant::now();
        if let Some(session) = &self.state.session {
            for event in session.drain_events() {
                match event {
                    SessionEvent::Evaluated { id, result, .. } => {
                        self.panels.debug.evaluated(id, result);
                    }
                    event => {
                        // Every reload pins the frames before it, for
                        // Before / after.
                        if let SessionEvent::Runtime(RuntimeEvent {
                            frame,
                            kind:
                                EventKind::Reloaded {
                                    script, version, ..
                                },
                        }) = &event
                            && let Some(snapshot) = &self.state.snapshot
                        {
                            self.panels.profiler.pin_before_reload(
                                &snapshot.profile,
                                script,
                                *version,
                                *frame,
                            );
                        }
                        self.state.console.push_event(event)
                    }
                }
            }
            self.state.snapshot = session.snapshot();
        }

        egui::TopBottomPanel::top("menu").show(ctx, |ui| self.menu_bar(ctx, ui));
        for shortcut in shortcuts::pressed(ctx) {
            self.apply_shortcut(ctx, shortcut);
        }
        // A new stop changes the layout (the debug bar, the Debug view):
        // one more frame settles it, with no input to ask for it.
        if self.notice_break() {
            ctx.request_repaint();
        }
        self.stuck_modal(ctx, frame);
        let action = egui::TopBottomPanel::top("toolbar")
            .show(ctx, |ui| {
                let action =
                    toolbar::ui(ui, self.state.snapshot.as_deref(), &mut self.state.commands);
                if let Some(snapshot) = self.state.snapshot.as_deref() {
                    toolbar::debug_bar(ui, snapshot, &mut self.state.commands);
                }
                action
            })
            .inner;
        if action == Some(ToolbarAction::Open) {
            self.pick_project(ctx);
        }
        egui::TopBottomPanel::bottom("status").show(ctx, |ui| {
            ui.horizontal(|ui| {
                match (&self.state.session, &self.state.snapshot) {
                    (Some(session), Some(s)) => {
                        let project = session.project();
                        ui.weak(format!("project {}", project.name()))
                            .on_hover_text(project.root.display().to_string());
                        if project.restricted {
                            ui.colored_label(super::theme::INFO, "restricted")
                                .on_hover_text("Opened without trust: Lua scripts are sandboxed and Python scripts are not run. Forget the answer with View › Forget trusted projects, then open it again.");
                        }
                        let failed = s
                            .view
                            .scripts
                            .iter()
                            .filter(|sc| {
                                matches!(sc.status, crate::runtime::ScriptStatus::Failed(_))
                            })
                            .count();
                        let skipped = s
                            .view
                            .scripts
                            .iter()
                            .filter(|sc| {
                                matches!(sc.status, crate::runtime::ScriptStatus::Skipped(_))
                            })
                            .count();
                        ui.separator();
                        let n = s.view.scripts.len();
                        ui.weak(format!("{n} script{}", if n == 1 { "" } else { "s" }));
                        if failed > 0 {
                            ui.colored_label(
                                super::theme::ERROR,
                                format!("{failed} failed to load"),
                            );
                        }
                        if skipped > 0 {
                            ui.colored_label(super::theme::INFO, format!("{skipped} not run"))
                                .on_hover_text("Scripts this build or this mode does not run; the Console says why.");
                        }
                        if self.state.console.error_count() > 0 {
                            ui.colored_label(
                                super::theme::ERROR,
                                match self.state.console.error_count() {
                                    1 => "1 error (see Console)".to_string(),
                                    n => format!("{n} errors (see Console)"),
                                },
                            );
                        }
                    }
                    _ => {
                        ui.weak("No project open");
                    }
                }
                self.editor_link.status(ui);
                if !self.stats.cpu_ms.is_empty() {
                    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                        let cpu = GuiStats::mean(&self.stats.cpu_ms);
                        let interval = GuiStats::mean(&self.stats.interval_ms);
                        ui.weak(format!(
                            "GUI {cpu:.1} ms CPU/frame · {:.0} fps",
                            1000.0 / interval
                        ))
                        .on_hover_text(self.stats.breakdown());
                    });
                }
            });
        });
        self.windows(ctx);
        if let Some(buffers) = &mut self.state.buffers {
            buffers.autosave();
        }
        if ctx.input(|i| i.viewport().close_requested()) && !self.may_close && self.has_unsaved() {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.leaving = Some(Leaving::Quit);
        }
        self.leaving_modal(ctx);

        let mut chosen = None;
        egui::CentralPanel::default()
            .frame(egui::Frame::new().fill(ctx.style().visuals.panel_fill))
            .show(ctx, |ui| {
                if self.state.session.is_none() {
                    // Nothing open: the start screen instead of empty panels.
                    egui::Frame::new().inner_margin(16.0).show(ui, |ui| {
                        chosen = super::panels::start::ui(ui, &self.samples, &self.settings.recent);
                    });
                    return;
                }
                if self.debug_view {
                    let root = self
                        .state
                        .session
                        .as_ref()
                        .map(|s| s.project().root.clone());
                    let goto_before = self.state.goto.clone();
                    let debug = &mut self.panels.debug;
                    let back = self.state.with_ctx(|ctx| debug.ui(ui, ctx));
                    // The watch list is kept per project, across restarts.
                    if let Some(root) = &root {
                        let watches = self.panels.debug.watches();
                        if self.settings.watches.get(root).map(Vec::as_slice) != Some(watches) {
                            if watches.is_empty() {
                                self.settings.watches.remove(root);
                            } else {
                                self.settings.watches.insert(root.clone(), watches.to_vec());
                            }
                        }
                    }
                    // Asked for a line elsewhere (a breakpoint's link): the
                    // panels show it.
                    if back || self.state.goto != goto_before {
                        self.debug_view = false;
                        self.debug_view_by_stop = false;
                    }
                    return;
                }
                if self.profile_view {
                    let goto_before = self.state.goto.clone();
                    ui.horizontal(|ui| {
                        ui.strong("Profile view");
                        ui.weak("the flame graph and the statistics; View › Profile view to leave");
                        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                            if ui.button("Back to panels").clicked() {
                                self.profile_view = false;
                            }
                        });
                    });
                    let profiler = &mut self.panels.profiler;
                    profiler.wide = true;
                    self.state.with_ctx(|ctx| profiler.ui(ui, ctx));
                    profiler.wide = false;
                    if self.state.goto != goto_before {
                        self.profile_view = false;
                    }
                    return;
                }
                let mut dock = Dock {
                    state: &mut self.state,
                    panels: &mut self.panels,
                    show_names: &mut self.settings.show_names,
                    stats: &mut self.stats,
                };
                self.settings.layout.ui(&mut dock, ui);
            });
        if self.show_samples {
            let mut open = true;
            egui::Window::new("Samples")
                .open(&mut open)
                .default_size([840.0, 600.0])
                .collapsible(false)
                .show(ctx, |ui| {
                    chosen = chosen.take().or_else(|| {
                        super::panels::start::ui(ui, &self.samples, &self.settings.recent)
                    });
                });
            self.show_samples = open;
        }
        if let Some(path) = chosen {
            self.show_samples = false;
            self.open_project(ctx, &path);
            // A lesson starts with its README.
            self.show_pane(Pane::Readme);
        }
        // A panel asked to show a script line: bring the Scripts tab up.
        if self.state.goto.is_some() {
            self.show_pane(Pane::Scripts);
        }

        // Running on: the panels come back (the Debug view returns at the
        // next stop).
        let runs_on = self.state.commands.iter().any(|c| {
            matches!(
                c,
                SessionCommand::Debug(DebugAction::Continue)
                    | SessionCommand::Play
                    | SessionCommand::Runtime(RuntimeCommand::RunToLine { .. })
                    | SessionCommand::Runtime(RuntimeCommand::StepCoroutineLine { .. })
            )
        });
        // The window's snapshot may lag the stop (a busy machine), so a
        // view a stop opened closes on running on whatever it shows.
        if runs_on
            && (self.debug_view_by_stop
                || self
                    .state
                    .snapshot
                    .as_ref()
                    .is_some_and(|s| s.at_break.is_some()))
        {
            self.debug_view = false;
            self.debug_view_by_stop = false;
        }
        if let Some(session) = &self.state.session {
            for command in self.state.commands.drain(..) {
                session.send(command);
            }
        } else {
            self.state.commands.clear();
        }
        self.update_title(ctx);
        self.screenshot_step(ctx);
        self.stats
            .record_update(update_started.elapsed().as_secs_f32() * 1000.0);
        // cpu_usage is the previous frame's; missing in the first frame.
        let interval = ctx.input(|i| i.unstable_dt) * 1000.0;
        if let Some(cpu) = frame.info().cpu_usage
            && cpu > 0.0
            && interval > 0.0
        {
            self.stats.record(cpu * 1000.0, interval);
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        if self.screenshot.is_none() {
            self.settings.save(storage);
        }
        if let Some(buffers) = &mut self.state.buffers {
            buffers.autosave_now();
        }
    }
}

/// The path field of File › Open or Save profile.
struct ProfilePrompt {
    save: bool,
    /// Saves the sampled stacks (folded) rather than the frames.
    samples: bool,
    /// Exports the frames as a Chrome trace.
    trace: bool,
    path: String,
    error: Option<String>,
}

impl ProfilePrompt {
    /// Starts in the open project's folder (`profile.puffin` when saving).
    fn new(save: bool, session: Option<&Session>) -> ProfilePrompt {
        let dir = session
            .map(|s| s.project().root.clone())
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_default();
        let path = if save {
            dir.join("profile.puffin")
        } else {
            dir
        };
        ProfilePrompt {
            save,
            samples: false,
            trace: false,
            path: path.display().to_string(),
            error: None,
        }
    }

    /// Saving the sampled stacks: `samples.folded` in the project folder.
    fn trace(session: Option<&Session>) -> ProfilePrompt {
        let mut prompt = ProfilePrompt::new(true, session);
        prompt.trace = true;
        prompt.path = PathBuf::from(&prompt.path)
            .with_file_name("trace.json")
            .display()
            .to_string();
        prompt
    }

    fn samples(session: Option<&Session>) -> ProfilePrompt {
        let mut prompt = ProfilePrompt::new(true, session);
        prompt.samples = true;
        prompt.path = PathBuf::from(&prompt.path)
            .with_file_name("samples.folded")
            .display()
            .to_string();
        prompt
    }
}
