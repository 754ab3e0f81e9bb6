//! The Profiler panel: puffin flame graphs of the frames the runtime
//! recorded (or of a saved profile, or of a headless run streaming with
//! `--serve-profile`), and the per-script statistics beside them.

use std::path::{Path, PathBuf};

use puffin::FrameView;
use puffin_egui::{MaybeMutRef, ProfilerUi};

use super::PanelCtx;
use super::samples::ProfileView;
use crate::gui::theme;
use crate::gui::widgets::stats_table::{TableState, stats_table};
use crate::profiling::profiler::{read_profile, write_profile};
use crate::runtime::RuntimeCommand;
use crate::runtime::session::SessionCommand;

/// Where the flame graph's frames come from.
enum Source {
    /// The open project, live.
    Live,
    /// A `.puffin` file.
    File(PathBuf, Box<FrameView>),
    /// A puffin_http stream.
    Remote(puffin_http::Client),
}

/// State of the Profiler panel.
pub struct ProfilerPanel {
    ui: ProfilerUi,
    source: Source,
    table: TableState,
    /// A problem or note from the last file operation.
    message: Option<(bool, String)>,
    /// The address typed in the Connect box.
    pub connect_addr: String,
    connecting: bool,
    /// Keep the whole frame in view as frames arrive; off once the user
    /// zooms or pans, back on with Fit (or F over the flame graph).
    pub fit: bool,
    /// Shown alone in the window (the Profile view).
    pub wide: bool,
    /// What the main area shows: frames or a view of the samples.
    pub view: ProfileView,
    /// The capture pinned as "before" for the Before / after view.
    pub pinned: Option<super::compare::Pinned>,
}

impl Default for ProfilerPanel {
    fn default() -> Self {
        ProfilerPanel {
            ui: ProfilerUi::default(),
            source: Source::Live,
            table: TableState::default(),
            message: None,
            connect_addr: "127.0.0.1:8585".to_string(),
            connecting: false,
            fit: true,
            wide: false,
            view: ProfileView::default(),
            pinned: None,
        }
    }
}

impl ProfilerPanel {
    /// Shows a `.puffin` file instead of the live frames.
    pub fn open_file(&mut self, path: &Path) {
        match read_profile(path) {
            Ok((view, warning)) => {
                self.ui.reset();
                self.source = Source::File(path.to_path_buf(), Box::new(view));
                self.message = Some(match warning {
                    Some(w) => (true, w),
                    None => (false, format!("opened {}", path.display())),
                });
            }
            Err(e) => self.message = Some((true, e)),
        }
    }

    /// Saves the frames shown (live, file or remote) as a `.puffin` file.
    pub fn save_file(&mut self, path: &Path, live: Option<&crate::profiling::profiler::Frames>) {
        let result = match &self.source {
            Source::Live => match live.map(|f| f.lock()) {
                Some(Ok(frames)) => write_profile(&frames, path).map_err(|e| e.to_string()),
                _ => Err("no project is open".to_string()),
            },
            Source::File(_, view) => write_profile(view, path).map_err(|e| e.to_string()),
            Source::Remote(client) => {
                write_profile(&client.frame_view(), path).map_err(|e| e.to_string())
            }
        };
        self.message = Some(match result {
            Ok(()) => (false, format!("saved {}", path.display())),
            Err(e) => (true, e),
        });
    }

    /// Writes the frames shown (live, file or remote) as a Chrome Trace
    /// Event file for ui.perfetto.dev or chrome://tracing.
    pub fn export_trace(
        &mut self,
        path: &Path,
        live: Option<&crate::runtime::session::ProfileData>,
        project: &str,
    ) {
        use crate::profiling::trace::{Trace, write};
        let trace = match &self.source {
            Source::Live => match live.map(|p| (p, p.frames.lock())) {
                Some((profile, Ok(frames))) => {
                    // A copy of the kept samples, so the runtime is not
                    // held up while the trace is made.
                    let times = profile.sample_times.as_ref().map(|(times, period)| {
                        let times: Vec<_> = times
                            .lock()
                            .map(|t| t.iter().cloned().collect())
                            .unwrap_or_default();
                        (times, *period)
                    });
                    let samples = times.as_ref().map(|(t, period)| (t.as_slice(), *period));
                    Ok(Trace::of_view(
                        &frames,
                        project,
                        Some(&profile.markers),
                        samples,
                    ))
                }
                _ => Err("no project is open".to_string()),
            },
            Source::File(file, view) => Ok(Trace::of_view(
                view,
                &file.file_name().unwrap_or_default().to_string_lossy(),
                None,
                None,
            )),
            Source::Remote(client) => {
                Ok(Trace::of_view(&client.frame_view(), "remote", None, None))
            }
        };
        self.message = Some(match trace {
            Ok(trace) if trace.is_empty() => (
                true,
                "no frames to export yet: record, and let the project run".to_string(),
            ),
            Ok(trace) => match write(&trace, path) {
                Ok(()) => (
                    false,
                    format!(
                        "exported {} trace events to {} (open it at ui.perfetto.dev)",
                        trace.len(),
                        path.display()
                    ),
                ),
                Err(e) => (true, format!("cannot write {}: {e}", path.display())),
            },
            Err(e) => (true, e),
        });
    }

    /// Saves the open project's sampled stacks, folded.
    pub fn save_samples(&mut self, path: &Path, folded: Option<&Vec<(String, u64)>>) {
        self.message = Some(match folded {
            None => (true, "no project is open".to_string()),
            Some(folded) if folded.is_empty() => (
                true,
                "no samples to save yet: record with sampling on and let the project run"
                    .to_string(),
            ),
            Some(folded) => {
                match std::fs::write(path, crate::profiling::samples::folded_text(folded)) {
                    Ok(()) => (
                        false,
                        format!("saved {} stacks to {}", folded.len(), path.display()),
                    ),
                    Err(e) => (true, format!("cannot write {}: {e}", path.display())),
                }
            }
        });
    }

    /// Streams frames from a headless run's `--serve-profile` address.
    pub fn connect(&mut self, addr: &str) {
        self.ui.reset();
        self.source = Source::Remote(puffin_http::Client::new(addr.to_string()));
        self.message = None;
    }

    /// Shows the address box of Connect.
    pub fn ask_connect(&mut self) {
        self.connecting = true;
    }

    /// Goes back to the open project's frames.
    pub fn show_live(&mut self) {
        self.ui.reset();
        self.source = Source::Live;
        self.message = None;
    }

    /// A one-line description of what is shown.
    pub fn source_label(&self) -> String {
        match &self.source {
            Source::Live => "this project".to_string(),
            Source::File(path, _) => path.display().to_string(),
            Source::Remote(client) => format!(
                "{} ({})",
                client.addr(),
                if client.connected() {
                    "connected"
                } else {
                    "waiting for the server…"
                }
            ),
        }
    }

    /// Renders the panel.
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut PanelCtx) {
        let live = ctx.snapshot.map(|s| &s.profile);
        ui.horizontal_wrapped(|ui| {
            if let (Source::Live, Some(profile)) = (&self.source, live) {
                let snapshot_on = profile.profiling;
                let mut on = snapshot_on;
                if ui
                    .toggle_value(
                        &mut on,
                        if snapshot_on {
                            "⏺ Recording"
                        } else {
                            "⏺ Record"
                        },
                    )
                    .on_hover_text("Record scopes and statistics (off, they cost nothing)")
                    .changed()
                {
                    ctx.commands
                        .push(SessionCommand::Runtime(RuntimeCommand::SetProfiling(on)));
                }
                if ui.button("Clear").clicked() {
                    ctx.commands
                        .push(SessionCommand::Runtime(RuntimeCommand::ClearProfile));
                }
                super::samples::rate_control(ui, profile, ctx);
            }
            ui.toggle_value(&mut self.fit, "Fit")
                .on_hover_text("Keep the whole frame in view as frames arrive (F with the pointer over the flame graph). Zooming or panning turns it off.");
            ui.weak(format!("Showing {}", self.source_label()));
            if !matches!(self.source, Source::Live) && ui.button("Back to the project").clicked() {
                self.show_live();
            }
            if let Source::File(path, view) = &self.source
                && ui
                    .button("📌 Pin as before")
                    .on_hover_text("Compare this saved capture with the project's frames, in Before / after")
                    .clicked()
            {
                let label = format!("{} (the saved capture)", path.display());
                self.pinned = Some(super::compare::Pinned::file(view, label));
                self.show_live();
                self.view = ProfileView::Compare;
            }
            ui.separator();
            if ui
                .button("Connect…")
                .on_hover_text("Watch a headless run started with --serve-profile ADDR")
                .clicked()
            {
                self.connecting = !self.connecting;
            }
        });
        if self.connecting {
            ui.horizontal(|ui| {
                ui.label("Address");
                ui.text_edit_singleline(&mut self.connect_addr);
                if ui.button("Connect").clicked() {
                    let addr = self.connect_addr.trim().to_string();
                    self.connect(&addr);
                    self.connecting = false;
                }
            });
        }
        // What the last reload (or pin) changed, beyond the noise. The row
        // is there for as long as something is pinned, so that the view
        // below does not jump as a change crosses the noise.
        if matches!(self.source, Source::Live)
            && self.pinned.is_some()
            && let Some(frames) = live.map(|p| p.frames.clone())
        {
            let line = self.compare_headline(&frames);
            ui.horizontal(|ui| {
                match line {
                    Some(line) => ui.label(egui::RichText::new(line).strong()),
                    None => ui.weak(super::compare::NO_CHANGE),
                }
                .on_hover_text("Profiler › Before / after has every system and phase");
                ui.weak(format!(
                    "since {}",
                    self.pinned.as_ref().map_or("", |p| p.label.as_str())
                ));
            });
        }
        if let Some((problem, text)) = &self.message {
            let color = if *problem { theme::ERROR } else { theme::INFO };
            ui.colored_label(color, text);
        }

        // The Systems view is a wide table of its own.
        let stats = match (&self.source, live) {
            (Source::Live, Some(profile))
                if !matches!(self.view, ProfileView::Systems | ProfileView::Compare) =>
            {
                Some(profile.stats.clone())
            }
            _ => None,
        };
        let mut side_rect = None;
        if let Some(stats) = stats {
            let width = ui.available_width();
            // The Profile view has its own width for the table, wider than
            // the docked panel's.
            let side = egui::SidePanel::right(if self.wide {
                "profiler-stats-wide"
            } else {
                "profiler-stats"
            })
            .resizable(true)
            .default_width(width * 0.5)
            .max_width(width * 0.75)
            .show_inside(ui, |ui| {
                if let Some(profile) = live {
                    // At most a third of the height: in a small pane the
                    // table stays in view, and the list scrolls.
                    egui::ScrollArea::vertical()
                        .id_salt("suggestions-scroll")
                        .max_height(ui.available_height() * 0.35)
                        .show(ui, |ui| suggestions(ui, &profile.suggestions, ctx));
                }
                ui.strong("Statistics");
                egui::ScrollArea::horizontal()
                    .id_salt("stats-scroll")
                    .show(ui, |ui| {
                        let budgets = live.map(|p| p.budgets.as_slice()).unwrap_or_default();
                        stats_table(ui, &stats, budgets, &mut self.table)
                    });
            });
            side_rect = Some(side.response.rect);
        }
        if self.fit {
            // puffin fits the frame's range when the width is unset.
            self.ui.flamegraph_options.canvas_width_ns = 0.0;
            self.ui.flamegraph_options.sideways_pan_in_points = 0.0;
        }
        let graph = egui::CentralPanel::default().show_inside(ui, |ui| match &mut self.source {
            Source::Live if self.view == ProfileView::Compare => {
                super::samples::view_tabs(ui, &mut self.view);
                match live {
                    Some(profile) => super::compare::show(ui, &mut self.pinned, profile),
                    None => super::no_project(ui),
                }
            }
            Source::Live if self.view == ProfileView::Systems => {
                super::samples::view_tabs(ui, &mut self.view);
                match live {
                    Some(profile) => super::systems::show(ui, &profile.systems),
                    None => super::no_project(ui),
                }
            }
            Source::Live if self.view != ProfileView::Frames => {
                super::samples::view_tabs(ui, &mut self.view);
                if let Some(profile) = live {
                    super::samples::show(ui, self.view, profile, ctx);
                }
            }
            Source::Live => match live {
                Some(profile) => {
                    super::samples::view_tabs(ui, &mut self.view);
                    if let Ok(mut frames) = profile.frames.lock() {
                        self.ui.ui(ui, &mut MaybeMutRef::MutRef(&mut frames));
                    }
                }
                None => super::no_project(ui),
            },
            Source::File(_, view) => self.ui.ui(ui, &mut MaybeMutRef::MutRef(view)),
            Source::Remote(client) => {
                let mut frames = client.frame_view();
                self.ui.ui(ui, &mut MaybeMutRef::MutRef(&mut frames));
            }
        });
        // Zooming or panning the flame graph: the user's view stays.
        // Scrolling the statistics or the suggestions is not navigating the
        // flame graph.
        let over_side = side_rect.is_some_and(|r| ui.rect_contains_pointer(r));
        if self.view == ProfileView::Frames
            && !over_side
            && ui.rect_contains_pointer(graph.response.rect)
        {
            let (navigated, fit_key) = ui.input(|i| {
                (
                    i.raw_scroll_delta != egui::Vec2::ZERO
                        || i.zoom_delta() != 1.0
                        || (i.pointer.primary_down() && i.pointer.delta() != egui::Vec2::ZERO),
                    i.key_pressed(egui::Key::F) && i.modifiers.is_none(),
                )
            });
            let fit_key = fit_key && !ui.ctx().wants_keyboard_input();
            if fit_key {
                self.fit = true;
            } else if navigated {
                self.fit = false;
            }
        }
    }

    /// The time span the flame graph shows, in ns (0 until drawn).
    pub fn shown_span_ns(&self) -> f32 {
        self.ui.flamegraph_options.canvas_width_ns
    }
}

/// What the suggestion rules found: each names the system and its line
/// (click to open it), the evidence, the fix and the lesson.
fn suggestions(
    ui: &mut egui::Ui,
    list: &[crate::runtime::suggest::Suggestion],
    ctx: &mut PanelCtx,
) {
    let title = match list.len() {
        0 => "Suggestions: none".to_string(),
        1 => "Suggestions: 1".to_string(),
        n => format!("Suggestions: {n}"),
    };
    egui::CollapsingHeader::new(egui::RichText::new(title).strong())
        .id_salt("suggestions")
        .default_open(true)
        .show(ui, |ui| {
            if list.is_empty() {
                ui.weak("Nothing to suggest: no query inside a loop over the same entities, no per-entity Python system over many entities, no leak.");
            }
            for s in list {
                ui.horizontal_wrapped(|ui| {
                    let place = match s.line {
                        Some(line) => format!("{}:{line}", s.script),
                        None => s.script.clone(),
                    };
                    let place = match &s.system {
                        Some(system) => format!("{place} · {system}"),
                        None => place,
                    };
                    if ui
                        .link(egui::RichText::new(place).color(theme::WARNING))
                        .on_hover_text("Open the script at this line")
                        .clicked()
                    {
                        *ctx.goto = Some((s.script.clone(), s.line.unwrap_or(1)));
                    }
                    ui.label(&s.evidence);
                });
                ui.horizontal_wrapped(|ui| {
                    ui.strong("Fix:");
                    ui.label(&s.fix);
                    ui.weak(format!("(the {} sample's lesson)", s.lesson));
                });
                ui.separator();
            }
        });
}

impl ProfilerPanel {
    /// Pins the live frames before `frame` as "before" (a script was
    /// reloaded there), so Before / after shows what the change did.
    pub fn pin_before_reload(
        &mut self,
        profile: &crate::runtime::session::ProfileData,
        script: &str,
        version: u32,
        frame: u64,
    ) {
        if let Some(pin) = self.pinned.as_mut().filter(|p| p.is_before(frame)) {
            pin.also_reloaded(script, version);
            return;
        }
        if let Some(pin) = super::compare::Pinned::before_reload(profile, script, version, frame) {
            self.pinned = Some(pin);
        }
    }

    /// The Before / after headline now (`steer: 2.30× faster`), if a
    /// change is beyond the noise.
    pub fn compare_headline(
        &mut self,
        frames: &crate::profiling::profiler::Frames,
    ) -> Option<String> {
        let pin = self.pinned.as_mut()?;
        super::compare::headline(pin.changes(frames))
    }
}
