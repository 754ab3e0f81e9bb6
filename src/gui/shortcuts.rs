//! Keyboard shortcuts: the keys debugger users expect (VS Code's), one
//! table that the key handling, the menus' and buttons' hints and
//! *Help › Keyboard shortcuts* all read. F9 is the editor's own (see
//! [`TOGGLE_BREAKPOINT`]).

use egui::{Key, KeyboardShortcut, Modifiers};

/// What a shortcut does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shortcut {
    /// At a stop: run on. Paused: play.
    Continue,
    /// Pause the world.
    Pause,
    /// At a stop: the next line of this function.
    StepOver,
    /// At a stop: the very next line, entering calls.
    StepInto,
    /// At a stop: the next line of the calling function.
    StepOut,
    /// Pause and run exactly one frame.
    StepFrame,
    /// Play or pause (outside text fields).
    PlayPause,
    /// Open a project folder.
    Open,
}

/// Every shortcut: what it does, its keys, and how the help names it.
pub const SHORTCUTS: [(Shortcut, KeyboardShortcut, &str); 8] = [
    (
        Shortcut::Continue,
        KeyboardShortcut::new(Modifiers::NONE, Key::F5),
        "Continue (at a stop) or play",
    ),
    (
        Shortcut::Pause,
        KeyboardShortcut::new(Modifiers::NONE, Key::F6),
        "Pause",
    ),
    (
        Shortcut::StepOver,
        KeyboardShortcut::new(Modifiers::NONE, Key::F10),
        "Step over (at a stop)",
    ),
    // Before F11 alone, so that Shift+F11 is not taken for it.
    (
        Shortcut::StepOut,
        KeyboardShortcut::new(Modifiers::SHIFT, Key::F11),
        "Step out (at a stop)",
    ),
    (
        Shortcut::StepInto,
        KeyboardShortcut::new(Modifiers::NONE, Key::F11),
        "Step into (at a stop)",
    ),
    (
        Shortcut::StepFrame,
        KeyboardShortcut::new(Modifiers::NONE, Key::F7),
        "Step one frame",
    ),
    (
        Shortcut::PlayPause,
        KeyboardShortcut::new(Modifiers::NONE, Key::Space),
        "Play or pause (outside text fields)",
    ),
    (
        Shortcut::Open,
        KeyboardShortcut::new(Modifiers::COMMAND, Key::O),
        "Open a project folder",
    ),
];

/// Toggles a breakpoint on the editor cursor's line (the editor handles
/// it, since only it knows the cursor).
pub const TOGGLE_BREAKPOINT: KeyboardShortcut = KeyboardShortcut::new(Modifiers::NONE, Key::F9);

/// Runs to the editor cursor's line (handled by the editor, like F9).
pub const RUN_TO_CURSOR: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::F10);

/// The keys of `shortcut` as the platform writes them (`F5`, `Ctrl+O`).
pub fn keys(ctx: &egui::Context, shortcut: Shortcut) -> String {
    SHORTCUTS
        .iter()
        .find(|(s, _, _)| *s == shortcut)
        .map(|(_, keys, _)| ctx.format_shortcut(keys))
        .unwrap_or_default()
}

/// The shortcuts pressed this frame. Space counts only when no text field
/// has the keyboard, so typing a space in the editor never plays the world.
pub fn pressed(ctx: &egui::Context) -> Vec<Shortcut> {
    let typing = ctx.wants_keyboard_input();
    ctx.input_mut(|input| {
        SHORTCUTS
            .iter()
            .filter(|(shortcut, keys, _)| {
                !(typing && *shortcut == Shortcut::PlayPause) && input.consume_shortcut(keys)
            })
            .map(|(shortcut, _, _)| *shortcut)
            .collect()
    })
}

/// *Help › Keyboard shortcuts*: the table, in a window.
pub fn help_window(ctx: &egui::Context, open: &mut bool) {
    egui::Window::new("Keyboard shortcuts")
        .open(open)
        .collapsible(false)
        .resizable(false)
        .show(ctx, |ui| {
            egui::Grid::new("shortcuts")
                .num_columns(2)
                .striped(true)
                .show(ui, |ui| {
                    for (_, keys, what) in &SHORTCUTS {
                        ui.monospace(ctx.format_shortcut(keys));
                        ui.label(*what);
                        ui.end_row();
                    }
                    // Handled by the editor itself, where the cursor is.
                    ui.monospace(ctx.format_shortcut(&TOGGLE_BREAKPOINT));
                    ui.label("Toggle a breakpoint on the cursor's line (in the editor)");
                    ui.end_row();
                    ui.monospace(ctx.format_shortcut(&RUN_TO_CURSOR));
                    ui.label("Run to the cursor's line (in the editor)");
                    ui.end_row();
                });
        });
}
