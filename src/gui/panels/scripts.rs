//! The Scripts panel: the project's scripts and modules in an editor with
//! syntax highlighting, line numbers, error markers, breakpoints (click
//! the gutter) and the line a script is stopped at. Ctrl+S saves, and the
//! project watcher reloads what was saved; the open script's history sits
//! beside it. Unsaved text lives in [`Buffers`], which keep an autosave.
//!
//! [`Buffers`]: crate::gui::editor::Buffers

use std::path::Path;
use std::time::{Duration, Instant};

use super::PanelCtx;
use super::history::{HistoryAction, HistoryView};
use crate::gui::editor::Buffers;
use crate::gui::theme;
use crate::gui::widgets::code_view::{Markers, code_view};
use crate::runtime::session::{SessionCommand, Snapshot};
use crate::runtime::{RuntimeCommand, ScriptStatus};

/// How long a line shown from elsewhere stays marked.
const FLASH: Duration = Duration::from_millis(1500);

/// A choice that would throw away unsaved edits, waiting for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Confirm {
    /// Go back to the file's text.
    Revert(String),
    /// Roll back to a version.
    Rollback(String, u32),
}

/// State of the Scripts panel.
#[derive(Debug)]
pub struct ScriptsPanel {
    /// The file shown (project-relative).
    selected: Option<String>,
    listing: Vec<String>,
    listed_at: Option<Instant>,
    scroll_to: Option<u32>,
    show_history: bool,
    /// The script whose history the session was asked to carry.
    history_asked: Option<String>,
    history: HistoryView,
    confirm: Option<Confirm>,
    /// A line shown from elsewhere, marked for a moment: file, line, since.
    flash: Option<(String, u32, Instant)>,
}

impl ScriptsPanel {
    /// The file in the editor, and the line last shown in it from
    /// elsewhere (a suggestion, a hot function).
    pub fn shown(&self) -> (Option<&str>, Option<u32>) {
        (
            self.selected.as_deref(),
            self.flash
                .as_ref()
                .filter(|(f, _, _)| Some(f) == self.selected.as_ref())
                .map(|(_, line, _)| *line),
        )
    }
}

impl Default for ScriptsPanel {
    fn default() -> Self {
        ScriptsPanel {
            selected: None,
            listing: Vec::new(),
            listed_at: None,
            scroll_to: None,
            show_history: true,
            history_asked: None,
            history: HistoryView::default(),
            confirm: None,
            flash: None,
        }
    }
}

/// Script files under `scripts/`, project-relative, sorted.
fn list_scripts(root: &Path) -> Vec<String> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("lua" | "py")
            ) && let Ok(rel) = path.strip_prefix(root)
            {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = Vec::new();
    walk(&root.join("scripts"), root, &mut out);
    out.sort();
    out
}

/// Saves a buffer; the watcher reloads whatever depends on the file.
fn save(buffers: &mut Buffers, file: &str, ctx: &mut PanelCtx) {
    match buffers.save(file) {
        Ok(()) => {
            // Errors about the old text no longer point at the right lines.
            ctx.console.forget_errors_in(file);
            ctx.console.info(format!("saved {file}"));
        }
        Err(message) => ctx.console.push(crate::gui::console::Entry {
            frame: None,
            level: crate::gui::console::Level::Error,
            location: None,
            text: (message).to_string(),
            detail: None,
        }),
    }
}

fn rollback(buffers: &mut Buffers, file: &str, version: u32, ctx: &mut PanelCtx) {
    ctx.commands
        .push(SessionCommand::Runtime(RuntimeCommand::RollbackScript {
            script: file.to_string(),
            version,
        }));
    ctx.console.forget_errors_in(file);
    buffers.recheck_now(file);
}

impl ScriptsPanel {
    /// The file shown.
    pub fn selected(&self) -> Option<&str> {
        self.selected.as_deref()
    }

    /// Renders the panel.
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut PanelCtx) {
        let (Some(snapshot), Some(root)) = (ctx.snapshot, ctx.project_root) else {
            super::no_project(ui);
            return;
        };
        let mut buffers = match ctx.buffers.take() {
            Some(b) if b.root() == root => b,
            _ => Buffers::new(root),
        };
        self.body(ui, ctx, snapshot, root, &mut buffers);
        *ctx.buffers = Some(buffers);
    }

    fn body(
        &mut self,
        ui: &mut egui::Ui,
        ctx: &mut PanelCtx,
        snapshot: &Snapshot,
        root: &Path,
        buffers: &mut Buffers,
    ) {
        if let Some((file, line)) = ctx.goto.take() {
            self.flash = Some((file.clone(), line, Instant::now()));
            self.selected = Some(file);
            self.scroll_to = Some(line);
        }
        if self
            .listed_at
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(2))
        {
            self.listing = list_scripts(root);
            self.listed_at = Some(Instant::now());
        }
        if self.selected.is_none() {
            self.selected = snapshot.view.scripts.first().map(|s| s.path.clone());
        }
        let in_manifest = |file: &str| snapshot.view.scripts.iter().any(|s| s.path == file);
        // The session carries the history of one script: the one shown.
        let wanted = self.selected.clone().filter(|f| in_manifest(f));
        if wanted != self.history_asked {
            ctx.commands
                .push(SessionCommand::ShowHistory(wanted.clone()));
            self.history_asked = wanted;
        }

        self.file_list(ui, snapshot, buffers);

        let Some(file) = self.selected.clone() else {
            egui::CentralPanel::default().show_inside(ui, |ui| {
                ui.weak("No scripts.");
            });
            return;
        };
        buffers.open(&file);
        buffers.check_disk(&file);
        let save_key = egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, egui::Key::S);
        if ui.input_mut(|i| i.consume_shortcut(&save_key)) {
            save(buffers, &file, ctx);
        }

        let script = snapshot.view.scripts.iter().find(|s| s.path == file);
        let running = script.map(|s| s.version).filter(|&v| v > 0);
        if script.is_some() && self.show_history {
            egui::SidePanel::right("scripts-history")
                .resizable(true)
                .default_width(260.0)
                .show_inside(ui, |ui| {
                    let current = buffers.open(&file).text.clone();
                    let action =
                        self.history
                            .ui(ui, snapshot, &file, running, &current, ctx.commands);
                    if let Some(HistoryAction::Rollback(version)) = action {
                        if buffers.open(&file).is_dirty() {
                            self.confirm = Some(Confirm::Rollback(file.clone(), version));
                        } else {
                            rollback(buffers, &file, version, ctx);
                        }
                    }
                });
        }

        egui::CentralPanel::default().show_inside(ui, |ui| {
            self.header(ui, ctx, snapshot, &file, running, buffers);
            self.banners(ui, ctx, &file, buffers);
            self.editor(ui, ctx, snapshot, &file, buffers);
        });
        self.confirm_modal(ui.ctx(), ctx, buffers);
    }

    fn file_list(&mut self, ui: &mut egui::Ui, snapshot: &Snapshot, buffers: &Buffers) {
        let dirty = buffers.dirty();
        let label = |file: &str, extra: &str| {
            let mark = if dirty.iter().any(|d| d == file) {
                "● "
            } else {
                ""
            };
            format!("{mark}{file}{extra}")
        };
        egui::SidePanel::left("scripts-files")
            .resizable(true)
            .default_width(200.0)
            .show_inside(ui, |ui| {
                ui.weak("Manifest");
                for script in &snapshot.view.scripts {
                    let version = if script.version > 0 {
                        format!("  v{}", script.version)
                    } else {
                        String::new()
                    };
                    let mut text = egui::RichText::new(label(&script.path, &version));
                    if !matches!(script.status, ScriptStatus::Running) {
                        text = text.color(theme::ERROR);
                    }
                    let selected = self.selected.as_deref() == Some(script.path.as_str());
                    if ui.selectable_label(selected, text).clicked() {
                        self.selected = Some(script.path.clone());
                    }
                }
                let modules: Vec<&String> = self
                    .listing
                    .iter()
                    .filter(|f| !snapshot.view.scripts.iter().any(|s| &s.path == *f))
                    .collect();
                if !modules.is_empty() {
                    ui.separator();
                    ui.weak("Modules");
                    for file in modules {
                        let selected = self.selected.as_deref() == Some(file.as_str());
                        if ui.selectable_label(selected, label(file, "")).clicked() {
                            self.selected = Some(file.clone());
                        }
                    }
                }
                if !dirty.is_empty() {
                    ui.separator();
                    ui.weak("● unsaved changes");
                }
            });
    }

    fn header(
        &mut self,
        ui: &mut egui::Ui,
        ctx: &mut PanelCtx,
        snapshot: &Snapshot,
        file: &str,
        running: Option<u32>,
        buffers: &mut Buffers,
    ) {
        let dirty = buffers.open(file).is_dirty();
        let in_manifest = snapshot.view.scripts.iter().any(|s| s.path == file);
        ui.horizontal(|ui| {
            ui.strong(if dirty {
                format!("● {file}")
            } else {
                file.to_string()
            });
            if let Some(v) = running {
                ui.weak(format!("v{v} running"));
            }
            let save = ui
                .add_enabled(dirty, egui::Button::new("💾 Save"))
                .on_hover_text("Save and hot-reload (Ctrl+S)");
            if save.clicked() {
                self::save(buffers, file, ctx);
            }
            if in_manifest
                && ui
                    .button("⟳ Reload")
                    .on_hover_text("Reload the saved file now, even if it did not change")
                    .clicked()
            {
                ctx.commands
                    .push(SessionCommand::Runtime(RuntimeCommand::ReloadScript {
                        script: file.to_string(),
                    }));
            }
            if ui
                .add_enabled(dirty, egui::Button::new("↺ Revert"))
                .on_hover_text("Throw away the unsaved changes")
                .clicked()
            {
                self.confirm = Some(Confirm::Revert(file.to_string()));
            }
            if in_manifest {
                ui.toggle_value(&mut self.show_history, "🕓 History");
            }
            let breakpoints = snapshot.breakpoints.get(file);
            let n = breakpoints.map_or(0, |b| b.len());
            ui.separator();
            ui.weak(format!("{n} breakpoint{}", if n == 1 { "" } else { "s" }))
                .on_hover_text("Click a line number to toggle a breakpoint");
            if n > 0 && ui.small_button("Clear").clicked() {
                for line in breakpoints.into_iter().flatten() {
                    ctx.commands
                        .push(SessionCommand::Runtime(RuntimeCommand::SetBreakpoint {
                            file: file.to_string(),
                            line: *line,
                            on: false,
                        }));
                }
            }
        });
    }

    fn banners(
        &mut self,
        ui: &mut egui::Ui,
        ctx: &mut PanelCtx,
        file: &str,
        buffers: &mut Buffers,
    ) {
        if let Some(problem) = buffers.problem.clone() {
            banner(ui, theme::ERROR, &problem, |ui| {
                if ui.small_button("Dismiss").clicked() {
                    buffers.problem = None;
                }
            });
        }
        // The latest error in this text, in words (the gutter marks them all).
        if let Some((line, message)) = ctx.console.errors_in(file).pop() {
            banner(ui, theme::ERROR, &format!("line {line}: {message}"), |ui| {
                if ui.small_button("Show").clicked() {
                    self.scroll_to = Some(line);
                }
            });
        }
        let b = buffers.open(file);
        let (missing, conflict, restored) = (b.missing, b.conflict.is_some(), b.restored);
        if missing {
            banner(
                ui,
                theme::WARNING,
                &format!(
                    "{file} is gone from disk (deleted or renamed). The running version goes on; the text here is kept — Save writes it back."
                ),
                |_| {},
            );
        }
        if conflict {
            banner(
                ui,
                theme::WARNING,
                &format!("{file} changed on disk while you had unsaved changes."),
                |ui| {
                    if ui
                        .small_button("Use the file's text")
                        .on_hover_text("Throw your changes away and show the file")
                        .clicked()
                    {
                        buffers.discard(file);
                    }
                    if ui
                        .small_button("Keep mine")
                        .on_hover_text("Keep your changes; saving overwrites the file")
                        .clicked()
                    {
                        buffers.keep_mine(file);
                    }
                },
            );
        }
        if restored {
            banner(
                ui,
                theme::LOCATION,
                "Unsaved changes from an earlier session were restored from the autosave.",
                |ui| {
                    if ui.small_button("Save").clicked() {
                        save(buffers, file, ctx);
                    }
                    if ui.small_button("Discard…").clicked() {
                        self.confirm = Some(Confirm::Revert(file.to_string()));
                    }
                },
            );
        }
    }

    fn editor(
        &mut self,
        ui: &mut egui::Ui,
        ctx: &mut PanelCtx,
        snapshot: &Snapshot,
        file: &str,
        buffers: &mut Buffers,
    ) {
        let breakpoints = snapshot.breakpoints.get(file);
        let current = match &snapshot.at_break {
            Some(b) if b.file == file => Some(b.line),
            Some(_) => None,
            None => snapshot
                .coroutine_frames
                .as_ref()
                .and_then(|(_, frames)| frames.first())
                .filter(|f| f.file == file)
                .map(|f| f.line),
        };
        let errors = ctx.console.errors_in(file);
        let language = if file.ends_with(".py") { "py" } else { "lua" };
        let disabled = super::debug::disabled_lines(snapshot, file);
        let samples = &snapshot.profile.samples;
        let heat = samples.heat_of(file);
        // The row is always there, so the code does not shift by a line
        // when the first samples of this file arrive.
        if heat.is_empty() {
            ui.horizontal(|ui| {
                ui.label("Hot lines:");
                ui.weak(if snapshot.profile.sample_hz == 0 {
                    "sampling is off (Profiler › Sampled stacks)"
                } else {
                    "none sampled in this file yet"
                });
            });
        } else {
            self.hot_lines(ui, file, &heat, samples.total);
        }
        let markers = Markers {
            breakpoints,
            current,
            errors: &errors,
            disabled: Some(&disabled),
            hover_names: false,
            flash: self.flash.as_ref().and_then(|(f, line, since)| {
                let fresh = since.elapsed() < FLASH;
                if fresh {
                    ui.ctx().request_repaint_after(FLASH - since.elapsed());
                }
                (f == file && fresh).then_some(*line)
            }),
            heat: (!heat.is_empty()).then_some((&heat, samples.total)),
        };
        let output = code_view(
            ui,
            &format!("code-{file}"),
            &mut buffers.open(file).text,
            language,
            true,
            &markers,
            self.scroll_to.take(),
        );
        if output.changed {
            buffers.edited(file);
        }
        if let Some(line) = output.run_to {
            ctx.commands
                .push(SessionCommand::Runtime(RuntimeCommand::RunToLine {
                    file: file.to_string(),
                    line,
                }));
        }
        if let Some(line) = output.toggled_breakpoint {
            let on = !breakpoints.is_some_and(|b| b.contains(&line));
            ctx.commands
                .push(SessionCommand::Runtime(RuntimeCommand::SetBreakpoint {
                    file: file.to_string(),
                    line,
                    on,
                }));
        }
    }

    /// The file's hottest sampled lines, above the code; a click shows
    /// the line.
    fn hot_lines(
        &mut self,
        ui: &mut egui::Ui,
        file: &str,
        heat: &std::collections::BTreeMap<u32, u64>,
        total: u64,
    ) {
        let mut hottest: Vec<(u32, u64)> = heat.iter().map(|(l, n)| (*l, *n)).collect();
        hottest.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        ui.horizontal_wrapped(|ui| {
            ui.label("Hot lines:")
                .on_hover_text("Where the sampled script time of this file went (the gutter shows the same as heat)");
            for (line, n) in hottest.into_iter().take(5) {
                let share = 100.0 * n as f64 / total.max(1) as f64;
                if ui
                    .link(format!("{line} ({share:.0}%)"))
                    .on_hover_text(format!("{n} samples at line {line}"))
                    .clicked()
                {
                    self.scroll_to = Some(line);
                    self.flash = Some((file.to_string(), line, std::time::Instant::now()));
                }
            }
        });
    }

    fn confirm_modal(
        &mut self,
        egui_ctx: &egui::Context,
        ctx: &mut PanelCtx,
        buffers: &mut Buffers,
    ) {
        let Some(confirm) = self.confirm.clone() else {
            return;
        };
        let (file, question, proceed) = match &confirm {
            Confirm::Revert(file) => (
                file,
                format!("Throw away your unsaved changes to {file}?"),
                "Discard changes".to_string(),
            ),
            Confirm::Rollback(file, v) => (
                file,
                format!("Rolling back to v{v} replaces your unsaved changes to {file}."),
                format!("Discard changes and roll back to v{v}"),
            ),
        };
        let mut done = false;
        let response = egui::Modal::new(egui::Id::new("scripts-confirm")).show(egui_ctx, |ui| {
            ui.set_max_width(420.0);
            ui.label(&question);
            ui.weak("Unsaved changes cannot be recovered after this.");
            ui.horizontal(|ui| {
                if ui.button(&proceed).clicked() {
                    buffers.discard(file);
                    if let Confirm::Rollback(file, v) = &confirm {
                        rollback(buffers, file, *v, ctx);
                    }
                    done = true;
                }
                if ui.button("Cancel").clicked() {
                    done = true;
                }
            });
        });
        if done || response.should_close() {
            self.confirm = None;
        }
    }
}

/// A coloured strip above the editor with a message and buttons.
fn banner(
    ui: &mut egui::Ui,
    color: egui::Color32,
    message: &str,
    buttons: impl FnOnce(&mut egui::Ui),
) {
    egui::Frame::new()
        .stroke(egui::Stroke::new(1.0, color))
        .inner_margin(4.0)
        .show(ui, |ui| {
            ui.horizontal_wrapped(|ui| {
                ui.colored_label(color, message);
                buttons(ui);
            });
        });
}
