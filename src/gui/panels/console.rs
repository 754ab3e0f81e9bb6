//! The console: print/log output and errors tagged `script:line`,
//! filterable, with tracebacks one click away.

use super::PanelCtx;
use crate::gui::console::Level;
use crate::gui::theme;

/// Console filters.
#[derive(Debug)]
pub struct ConsolePanel {
    /// Text an entry must contain.
    pub filter: String,
    /// Show log lines.
    pub logs: bool,
    /// Show errors.
    pub errors: bool,
    /// Show runtime news (loads, reloads).
    pub info: bool,
}

impl Default for ConsolePanel {
    fn default() -> Self {
        ConsolePanel {
            filter: String::new(),
            logs: true,
            errors: true,
            info: true,
        }
    }
}

impl ConsolePanel {
    /// Renders the panel.
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut PanelCtx) {
        // Wraps in a narrow pane, so that Clear stays reachable.
        ui.horizontal_wrapped(|ui| {
            let label = ui.label("Filter");
            ui.add(egui::TextEdit::singleline(&mut self.filter).desired_width(100.0))
                .labelled_by(label.id);
            ui.checkbox(&mut self.logs, "Logs");
            ui.checkbox(
                &mut self.errors,
                format!("Errors ({})", ctx.console.error_count()),
            );
            ui.checkbox(&mut self.info, "Info");
            if ui.button("Clear").clicked() {
                ctx.console.clear();
            }
        });
        ui.separator();
        let needle = self.filter.to_lowercase();
        let entries: Vec<_> = ctx
            .console
            .entries()
            .iter()
            .filter(|e| match e.level {
                Level::Log => self.logs,
                Level::Error => self.errors,
                Level::Info => self.info,
            })
            .filter(|e| {
                needle.is_empty()
                    || e.text.to_lowercase().contains(&needle)
                    || e.location
                        .as_ref()
                        .is_some_and(|(f, _)| f.to_lowercase().contains(&needle))
            })
            .collect();
        egui::ScrollArea::vertical()
            .auto_shrink([false; 2])
            .stick_to_bottom(true)
            .id_salt("console-scroll")
            .show(ui, |ui| {
                // Only the last few hundred lines are laid out (each costs
                // layout every frame); older ones stay searchable through
                // the filter.
                let start = entries.len().saturating_sub(500);
                for (index, entry) in entries[start..].iter().enumerate() {
                    ui.horizontal_wrapped(|ui| {
                        ui.spacing_mut().item_spacing.x = 6.0;
                        if let Some(frame) = entry.frame {
                            ui.weak(format!("{frame:>5}"));
                        }
                        if let Some((file, line)) = &entry.location {
                            let location = ui
                                .add(
                                    egui::Label::new(
                                        egui::RichText::new(format!("[{file}:{line}]"))
                                            .monospace()
                                            .color(theme::LOCATION),
                                    )
                                    .sense(egui::Sense::click()),
                                )
                                .on_hover_text("Show this line in the Scripts panel");
                            if location.clicked() {
                                *ctx.goto = Some((file.clone(), *line));
                            }
                        }
                        let text = egui::RichText::new(&entry.text).monospace();
                        let text = match entry.level {
                            Level::Error => text.color(theme::ERROR),
                            Level::Info => text.color(theme::INFO),
                            Level::Log => text,
                        };
                        ui.label(text);
                    });
                    if let Some(detail) = &entry.detail {
                        egui::CollapsingHeader::new("traceback")
                            .id_salt(("traceback", start + index))
                            .show(ui, |ui| {
                                ui.monospace(detail);
                            });
                    }
                }
            });
    }
}
