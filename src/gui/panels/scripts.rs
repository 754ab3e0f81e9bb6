//! The Scripts panel: the project's scripts and modules, a code view with
//! breakpoints (click the gutter), error markers, and the line a script is
//! stopped at or a coroutine is suspended at.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use super::PanelCtx;
use crate::gui::console::Level;
use crate::gui::widgets::code_view::{Markers, code_view};
use crate::runtime::RuntimeCommand;
use crate::runtime::session::SessionCommand;

/// How often files are checked for outside changes.
const RECHECK: Duration = Duration::from_millis(500);

/// A script's text as last read from disk.
#[derive(Debug)]
struct Source {
    text: String,
    modified: Option<SystemTime>,
    checked: Instant,
}

/// State of the Scripts panel.
#[derive(Debug, Default)]
pub struct ScriptsPanel {
    /// The file shown (project-relative).
    selected: Option<String>,
    sources: HashMap<String, Source>,
    listing: Vec<String>,
    listed_at: Option<Instant>,
    scroll_to: Option<u32>,
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

impl ScriptsPanel {
    /// The file shown.
    pub fn selected(&self) -> Option<&str> {
        self.selected.as_deref()
    }

    fn source(&mut self, root: &Path, file: &str) -> &Source {
        let full = root.join(file);
        let stale = self
            .sources
            .get(file)
            .is_none_or(|s| s.checked.elapsed() >= RECHECK);
        if stale {
            let modified = std::fs::metadata(&full).and_then(|m| m.modified()).ok();
            let changed = self
                .sources
                .get(file)
                .is_none_or(|s| s.modified != modified);
            if changed {
                let text = match std::fs::read(&full) {
                    Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                    Err(e) => format!("-- cannot read {file}: {e}"),
                };
                self.sources.insert(
                    file.to_string(),
                    Source {
                        text,
                        modified,
                        checked: Instant::now(),
                    },
                );
            } else if let Some(s) = self.sources.get_mut(file) {
                s.checked = Instant::now();
            }
        }
        &self.sources[file]
    }

    /// Renders the panel.
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut PanelCtx) {
        let (Some(snapshot), Some(root)) = (ctx.snapshot, ctx.project_root) else {
            super::no_project(ui);
            return;
        };
        if let Some((file, line)) = ctx.goto.take() {
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
        let manifest: Vec<&str> = snapshot
            .view
            .scripts
            .iter()
            .map(|s| s.path.as_str())
            .collect();
        if self.selected.is_none() {
            self.selected = manifest.first().map(|s| s.to_string());
        }

        egui::SidePanel::left("scripts-files")
            .resizable(true)
            .default_width(200.0)
            .show_inside(ui, |ui| {
                ui.weak("Manifest");
                for script in &snapshot.view.scripts {
                    let failed = !matches!(script.status, crate::runtime::ScriptStatus::Running);
                    let mut text = egui::RichText::new(&script.path);
                    if failed {
                        text = text.color(crate::gui::theme::ERROR);
                    }
                    if ui
                        .selectable_label(
                            self.selected.as_deref() == Some(script.path.as_str()),
                            text,
                        )
                        .clicked()
                    {
                        self.selected = Some(script.path.clone());
                    }
                }
                let modules: Vec<&String> = self
                    .listing
                    .iter()
                    .filter(|f| !manifest.contains(&f.as_str()))
                    .collect();
                if !modules.is_empty() {
                    ui.separator();
                    ui.weak("Modules");
                    for file in modules {
                        if ui
                            .selectable_label(
                                self.selected.as_deref() == Some(file.as_str()),
                                file.as_str(),
                            )
                            .clicked()
                        {
                            self.selected = Some(file.clone());
                        }
                    }
                }
            });

        egui::CentralPanel::default().show_inside(ui, |ui| {
            let Some(file) = self.selected.clone() else {
                ui.weak("No scripts.");
                return;
            };
            let breakpoints = snapshot.breakpoints.get(&file);
            ui.horizontal(|ui| {
                ui.strong(&file);
                let n = breakpoints.map_or(0, |b| b.len());
                ui.weak(format!("{n} breakpoint{}", if n == 1 { "" } else { "s" }));
                if n > 0 && ui.small_button("Clear").clicked() {
                    for line in breakpoints.into_iter().flatten() {
                        ctx.commands
                            .push(SessionCommand::Runtime(RuntimeCommand::SetBreakpoint {
                                file: file.clone(),
                                line: *line,
                                on: false,
                            }));
                    }
                }
                ui.weak("· click a line number to toggle a breakpoint");
            });
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
            let errors: Vec<(u32, String)> = ctx
                .console
                .entries()
                .iter()
                .filter(|e| e.level == Level::Error)
                .filter_map(|e| {
                    let (f, line) = e.location.as_ref()?;
                    (*f == file).then(|| (*line, e.text.clone()))
                })
                .collect();
            let language = if file.ends_with(".py") { "py" } else { "lua" };
            let scroll_to = self.scroll_to.take();
            let text = self.source(root, &file).text.clone();
            let markers = Markers {
                breakpoints,
                current,
                errors: &errors,
            };
            let output = code_view(
                ui,
                &format!("code-{file}"),
                &mut text.as_str(),
                language,
                false,
                &markers,
                scroll_to,
            );
            if let Some(line) = output.toggled_breakpoint {
                let on = !breakpoints.is_some_and(|b| b.contains(&line));
                ctx.commands
                    .push(SessionCommand::Runtime(RuntimeCommand::SetBreakpoint {
                        file: file.clone(),
                        line,
                        on,
                    }));
            }
        });
    }
}
