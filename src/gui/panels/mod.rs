//! One file per panel. Each renders the latest snapshot and pushes
//! commands; none holds a reference to the runtime.

pub mod compare;
pub mod console;
pub mod coroutines;
pub mod debug;
pub mod entities;
pub mod history;
pub mod inspector;
pub mod memory;
pub mod profiler;
pub mod readme;
pub mod samples;
pub mod scene;
pub mod scripts;
pub mod start;
pub mod stuck;
pub mod systems;
pub mod trust;

use std::path::Path;

use crate::gui::console::Console;
use crate::gui::editor::Buffers;
use crate::runtime::session::{SessionCommand, Snapshot};

/// What a panel may read and do this frame.
pub struct PanelCtx<'a> {
    /// The latest snapshot, when a project is open.
    pub snapshot: Option<&'a Snapshot>,
    /// The open project's folder.
    pub project_root: Option<&'a Path>,
    /// The selected entity (shared by scene, list and inspector).
    pub selected: &'a mut Option<u64>,
    /// Commands to send to the session after the frame.
    pub commands: &'a mut Vec<SessionCommand>,
    /// Logs and errors.
    pub console: &'a mut Console,
    /// A file and line to show in the Scripts panel (set by any panel).
    pub goto: &'a mut Option<(String, u32)>,
    /// The script editor's buffers of the open project.
    pub buffers: &'a mut Option<Buffers>,
}

/// Shown by panels when no project is open.
pub fn no_project(ui: &mut egui::Ui) {
    ui.centered_and_justified(|ui| {
        ui.weak("No project open — File › Open project…");
    });
}
