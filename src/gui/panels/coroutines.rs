//! The Coroutines panel: every live coroutine (and the ones that just
//! ended) with what it waits for and where it is suspended; the selected
//! one's call stack and locals; step one resume, pause, resume, stop.

use egui_extras::{Column, TableBuilder};

use super::PanelCtx;
use crate::gui::theme;
use crate::runtime::session::SessionCommand;
use crate::runtime::{CoroutineStatus, RuntimeCommand};

/// State of the Coroutines panel.
#[derive(Debug, Default)]
pub struct CoroutinesPanel {
    /// The coroutine whose stack is shown.
    pub selected: Option<u64>,
    /// The frame whose locals are shown.
    frame: usize,
    filter: String,
    hide_ended: bool,
}

impl CoroutinesPanel {
    /// Selects a coroutine (and asks the runtime for its stack).
    pub fn select(&mut self, id: Option<u64>, commands: &mut Vec<SessionCommand>) {
        if self.selected != id {
            self.selected = id;
            self.frame = 0;
            commands.push(SessionCommand::InspectCoroutine(id));
        }
    }

    /// Renders the panel.
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut PanelCtx) {
        let Some(snapshot) = ctx.snapshot else {
            super::no_project(ui);
            return;
        };
        let all = &snapshot.coroutines;
        let live = all.iter().filter(|c| c.status.is_live()).count();
        ui.horizontal(|ui| {
            if snapshot.coroutines_paused {
                if ui.button("▶ Resume all").clicked() {
                    ctx.commands.push(SessionCommand::Runtime(
                        RuntimeCommand::PauseAllCoroutines { paused: false },
                    ));
                }
            } else if ui
                .button("⏸ Pause all")
                .on_hover_text("No coroutine is resumed while paused; step them one at a time")
                .clicked()
            {
                ctx.commands.push(SessionCommand::Runtime(
                    RuntimeCommand::PauseAllCoroutines { paused: true },
                ));
            }
            let label = ui.label("Filter");
            ui.add(egui::TextEdit::singleline(&mut self.filter).desired_width(100.0))
                .labelled_by(label.id);
            ui.checkbox(&mut self.hide_ended, "Hide ended");
            ui.weak(format!("{live} live"));
        });
        ui.separator();

        let needle = self.filter.to_lowercase();
        let rows: Vec<_> = all
            .iter()
            .filter(|c| !self.hide_ended || c.status.is_live())
            .filter(|c| {
                needle.is_empty()
                    || c.name.to_lowercase().contains(&needle)
                    || c.script.to_lowercase().contains(&needle)
            })
            .collect();
        let height = (ui.available_height() * 0.5).max(120.0);
        let row_height = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
        let mut clicked = None;
        ui.push_id("coroutine-table", |ui| {
            TableBuilder::new(ui)
                .striped(true)
                .max_scroll_height(height)
                .column(Column::exact(40.0))
                .column(Column::initial(110.0).resizable(true))
                .column(Column::initial(70.0).resizable(true))
                .column(Column::initial(230.0).resizable(true))
                .column(Column::remainder())
                .header(row_height, |mut header| {
                    for title in ["id", "name", "status", "waiting for", "at"] {
                        header.col(|ui| {
                            ui.strong(title);
                        });
                    }
                })
                .body(|body| {
                    body.rows(row_height, rows.len(), |mut row| {
                        let c = rows[row.index()];
                        let selected = self.selected == Some(c.id);
                        row.set_selected(selected);
                        let color = match c.status {
                            CoroutineStatus::Failed => Some(theme::ERROR),
                            CoroutineStatus::Finished | CoroutineStatus::Stopped => {
                                Some(theme::INFO)
                            }
                            _ => None,
                        };
                        let text = |s: String| match color {
                            Some(c) => egui::RichText::new(s).color(c),
                            None => egui::RichText::new(s),
                        };
                        row.col(|ui| {
                            if ui
                                .selectable_label(selected, text(c.id.to_string()))
                                .clicked()
                            {
                                clicked = Some(c.id);
                            }
                        });
                        row.col(|ui| {
                            if ui
                                .selectable_label(selected, text(c.name.clone()))
                                .clicked()
                            {
                                clicked = Some(c.id);
                            }
                        });
                        row.col(|ui| {
                            ui.label(text(c.status.name().to_string()));
                        });
                        row.col(|ui| {
                            ui.label(text(c.state.clone()));
                        });
                        row.col(|ui| {
                            let at = match &c.location {
                                Some((file, line)) => format!("{file}:{line}"),
                                None if c.status.is_live() => "(running: pause to see)".into(),
                                None => String::new(),
                            };
                            ui.label(text(at));
                        });
                    });
                });
        });
        if let Some(id) = clicked {
            self.select(Some(id), ctx.commands);
        }
        ui.separator();
        self.details(ui, ctx);
    }

    fn details(&mut self, ui: &mut egui::Ui, ctx: &mut PanelCtx) {
        let Some(snapshot) = ctx.snapshot else {
            return;
        };
        let Some(id) = self.selected else {
            ui.weak("Select a coroutine to see where it is and its locals.");
            return;
        };
        let Some(c) = snapshot.coroutines.iter().find(|c| c.id == id) else {
            ui.weak(format!("Coroutine {id} is gone."));
            return;
        };
        ui.horizontal(|ui| {
            ui.heading(&c.name);
            ui.weak(format!("#{} · {} · {} resumes", c.id, c.script, c.resumes));
        });
        if c.status.is_live() {
            ui.horizontal(|ui| {
                if ui
                    .button("⏭ Step resume")
                    .on_hover_text(
                        "Run exactly one resume of this coroutine now, whatever it waits for",
                    )
                    .clicked()
                {
                    ctx.commands.push(SessionCommand::Pause);
                    ctx.commands
                        .push(SessionCommand::Runtime(RuntimeCommand::StepCoroutine {
                            id,
                        }));
                }
                if ui
                    .button("⤵ Step to next line")
                    .on_hover_text(
                        "Run one resume of this coroutine now, whatever it waits for, and stop at the first line it runs (then step with F10)",
                    )
                    .clicked()
                {
                    ctx.commands
                        .push(SessionCommand::Runtime(RuntimeCommand::StepCoroutineLine {
                            id,
                        }));
                }
                let paused = c.status == CoroutineStatus::Paused && !snapshot.coroutines_paused;
                if paused {
                    if ui.button("▶ Resume").clicked() {
                        ctx.commands.push(SessionCommand::Runtime(
                            RuntimeCommand::PauseCoroutine { id, paused: false },
                        ));
                    }
                } else if ui.button("⏸ Pause").clicked() {
                    ctx.commands
                        .push(SessionCommand::Runtime(RuntimeCommand::PauseCoroutine {
                            id,
                            paused: true,
                        }));
                }
                if ui.button("⏹ Stop").clicked() {
                    ctx.commands
                        .push(SessionCommand::Runtime(RuntimeCommand::StopCoroutine {
                            id,
                        }));
                }
                if let Some((file, line)) = &c.location
                    && ui.button("Show in script").clicked()
                {
                    *ctx.goto = Some((file.clone(), *line));
                }
            });
        }
        ui.label(format!("State: {} ({})", c.state, c.status.name()));
        let frames = snapshot
            .coroutine_frames
            .as_ref()
            .filter(|(fid, _)| *fid == id)
            .map(|(_, f)| f.as_slice())
            .unwrap_or(&[]);
        if frames.is_empty() {
            if c.status.is_live() {
                ui.weak("Its stack shows once the world is paused or stopped.");
            }
            return;
        }
        self.frame = self.frame.min(frames.len() - 1);
        ui.columns(2, |columns| {
            columns[0].strong("Call stack");
            for (i, frame) in frames.iter().enumerate() {
                let text = format!("{}  {}:{}", frame.function, frame.file, frame.line);
                let response = columns[0].selectable_label(self.frame == i, text);
                if response.clicked() {
                    self.frame = i;
                    *ctx.goto = Some((frame.file.clone(), frame.line));
                }
            }
            columns[1].strong("Locals");
            let frame = &frames[self.frame];
            if frame.locals.is_empty() {
                columns[1].weak("(none)");
            }
            egui::ScrollArea::vertical()
                .id_salt("coroutine-locals")
                .max_height(240.0)
                .show(&mut columns[1], |ui| {
                    egui::Grid::new("coroutine-locals-grid")
                        .num_columns(2)
                        .striped(true)
                        .show(ui, |ui| {
                            for (name, value) in &frame.locals {
                                ui.monospace(name);
                                ui.monospace(value);
                                ui.end_row();
                            }
                        });
                });
        });
    }
}
