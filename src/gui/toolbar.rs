//! The toolbar: open, play/pause, step, reset, speed, frame and time.

use crate::gui::shortcuts::{self, Shortcut};
use crate::runtime::RuntimeCommand;
use crate::runtime::session::{SessionCommand, Snapshot};
use crate::scripting::debugger::DebugAction;

/// Speeds offered in the toolbar.
pub const SPEEDS: [f64; 6] = [0.1, 0.25, 0.5, 1.0, 2.0, 4.0];

/// What the toolbar asks the app to do beyond session commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolbarAction {
    /// Show the folder picker.
    Open,
}

/// Renders the toolbar; pushes session commands and returns app actions.
pub fn ui(
    ui: &mut egui::Ui,
    snapshot: Option<&Snapshot>,
    commands: &mut Vec<SessionCommand>,
) -> Option<ToolbarAction> {
    let mut action = None;
    ui.horizontal(|ui| {
        let ctx = ui.ctx().clone();
        let keys = |s| shortcuts::keys(&ctx, s);
        if ui
            .button("📂 Open")
            .on_hover_text(format!("Open a project folder ({})", keys(Shortcut::Open)))
            .clicked()
        {
            action = Some(ToolbarAction::Open);
        }
        ui.separator();
        ui.add_enabled_ui(snapshot.is_some(), |ui| {
            let playing = snapshot.is_some_and(|s| s.playing);
            if playing {
                if ui
                    .button("⏸ Pause")
                    .on_hover_text(format!(
                        "Pause ({} or {})",
                        keys(Shortcut::Pause),
                        keys(Shortcut::PlayPause)
                    ))
                    .clicked()
                {
                    commands.push(SessionCommand::Pause);
                }
            } else if ui
                .button("▶ Play")
                .on_hover_text(format!(
                    "Play ({} or {})",
                    keys(Shortcut::Continue),
                    keys(Shortcut::PlayPause)
                ))
                .clicked()
            {
                commands.push(SessionCommand::Play);
            }
            if ui
                .button("⏭ Step")
                .on_hover_text(format!(
                    "Pause and run exactly one frame ({})",
                    keys(Shortcut::StepFrame)
                ))
                .clicked()
            {
                commands.push(SessionCommand::Step(1));
            }
            if ui
                .button("⟲ Reset")
                .on_hover_text("Start the project again from its files")
                .clicked()
            {
                commands.push(SessionCommand::Runtime(RuntimeCommand::Reset));
            }
            let speed = snapshot.map_or(1.0, |s| s.speed);
            egui::ComboBox::from_id_salt("speed")
                .width(64.0)
                .selected_text(format!("{speed}×"))
                .show_ui(ui, |ui| {
                    for option in SPEEDS {
                        if ui
                            .selectable_label(speed == option, format!("{option}×"))
                            .clicked()
                        {
                            commands.push(SessionCommand::SetSpeed(option));
                        }
                    }
                });
        });
        ui.separator();
        if let Some(s) = snapshot {
            ui.monospace(format!("frame {}", s.view.frame));
            ui.monospace(format!("t {:.2} s", s.view.time));
            ui.separator();
            ui.monospace(format_frame_time(s.view.last_frame_ms))
                .on_hover_text(
                    "Wall time of the last simulation frame (events, systems, coroutines)",
                );
            ui.monospace(format!("{} entities", s.view.entities.len()));
        }
    });
    action
}

/// The debug bar shown while a script is stopped at a breakpoint.
pub fn debug_bar(ui: &mut egui::Ui, snapshot: &Snapshot, commands: &mut Vec<SessionCommand>) {
    let Some(stop) = &snapshot.at_break else {
        return;
    };
    let ctx = ui.ctx().clone();
    let keys = |s| shortcuts::keys(&ctx, s);
    ui.horizontal(|ui| {
        ui.label(
            egui::RichText::new(format!(
                "⏸ Stopped at {}:{} in {} ({})",
                stop.file, stop.line, stop.context, stop.reason
            ))
            .color(crate::gui::theme::SELECTION)
            .strong(),
        );
        ui.separator();
        if ui
            .button("▶ Continue")
            .on_hover_text(format!(
                "Run on to the next breakpoint ({})",
                keys(Shortcut::Continue)
            ))
            .clicked()
        {
            commands.push(SessionCommand::Debug(DebugAction::Continue));
        }
        if ui
            .button("↷ Step over")
            .on_hover_text(format!(
                "Stop at the next line of this function ({})",
                keys(Shortcut::StepOver)
            ))
            .clicked()
        {
            commands.push(SessionCommand::Debug(DebugAction::StepOver));
        }
        if ui
            .button("⤵ Step into")
            .on_hover_text(format!(
                "Stop at the very next line, entering calls ({})",
                keys(Shortcut::StepInto)
            ))
            .clicked()
        {
            commands.push(SessionCommand::Debug(DebugAction::StepInto));
        }
        if ui
            .button("⤴ Step out")
            .on_hover_text(format!(
                "Run to the next line of the calling function ({})",
                keys(Shortcut::StepOut)
            ))
            .clicked()
        {
            commands.push(SessionCommand::Debug(DebugAction::StepOut));
        }
    });
}

/// A frame time in the unit that keeps it readable.
pub fn format_frame_time(ms: f64) -> String {
    if ms < 0.1 {
        format!("{:.0} µs/frame", ms * 1000.0)
    } else {
        format!("{ms:.2} ms/frame")
    }
}
