//! "A script is stuck": shown when a call into a script has gone on past its
//! limits inside a function nothing can interrupt in this process. The
//! scripts' thread cannot be freed, so the way on is a restart of ECScope,
//! with unsaved editor text kept in the autosave.

use crate::scripting::watchdog::StuckCall;

/// What the user chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StuckChoice {
    /// Reopen ECScope on the same project.
    Restart,
    /// Close ECScope.
    Quit,
    /// Hide the message (the call may still return by itself).
    Wait,
}

/// Shows the message over the window; returns the choice once made.
pub fn ui(ctx: &egui::Context, call: &StuckCall, unsaved: usize) -> Option<StuckChoice> {
    let mut choice = None;
    let response = egui::Modal::new(egui::Id::new("stuck script")).show(ctx, |ui| {
        // A fixed width, and the parts that change as the call goes on
        // (its line once found, how long it has run) on one line of their
        // own: the buttons must not move under the pointer.
        ui.set_width(520.0);
        ui.strong("A script is stuck");
        ui.add(
            egui::Label::new(format!(
                "{}: a call has run for {:.1} s and cannot be stopped.",
                call.place(),
                call.running_for.as_secs_f64()
            ))
            .truncate(),
        );
        ui.label(format!(
            "It is {}.",
            crate::scripting::watchdog::WHY_STUCK
        ));
        ui.weak(
            "ECScope cannot stop it without ending the process. Restart opens the project again from its files.",
        );
        if unsaved > 0 {
            ui.weak(format!(
                "{unsaved} unsaved file(s) in the editor are kept and come back when the project opens."
            ));
        }
        ui.horizontal(|ui| {
            if ui.button("Restart ECScope").clicked() {
                choice = Some(StuckChoice::Restart);
            }
            if ui.button("Quit").clicked() {
                choice = Some(StuckChoice::Quit);
            }
            if ui.button("Keep waiting").clicked() {
                choice = Some(StuckChoice::Wait);
            }
        });
    });
    if response.should_close() && choice.is_none() {
        choice = Some(StuckChoice::Wait);
    }
    choice
}

/// After a crash: the window was restarted by its supervisor. Says what
/// crashed and that unsaved text came back; returns true once dismissed.
pub fn crashed_ui(ctx: &egui::Context, message: &str) -> bool {
    let mut dismissed = false;
    let mut open = true;
    egui::Window::new("ECScope restarted after a crash")
        .collapsible(false)
        .open(&mut open)
        .show(ctx, |ui| {
            ui.set_max_width(520.0);
            ui.colored_label(crate::gui::theme::ERROR, message);
            ui.weak(
                "The project was opened again from its files. Unsaved editor text was kept in the autosave and is restored.",
            );
            if ui.button("OK").clicked() {
                dismissed = true;
            }
        });
    dismissed || !open
}
