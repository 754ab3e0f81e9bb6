//! The desktop app (eframe). Panels render [`Snapshot`]s and send
//! [`SessionCommand`]s; the runtime runs on its own thread (see
//! [`crate::runtime::session`]) and the GUI never calls a script VM.
//!
//! [`Snapshot`]: crate::runtime::session::Snapshot
//! [`SessionCommand`]: crate::runtime::session::SessionCommand

pub mod app;
pub mod console;
pub mod layout;
pub mod panels;
pub mod screenshot;
pub mod settings;
pub mod theme;
pub mod toolbar;

use std::path::PathBuf;

pub use app::{EcscopeApp, GuiOptions};

/// Opens the window and runs until it is closed.
pub fn run(options: GuiOptions) -> Result<(), String> {
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_inner_size([1400.0, 860.0])
            .with_min_inner_size([720.0, 420.0])
            .with_title("ECScope")
            .with_app_id("ecscope"),
        ..Default::default()
    };
    eframe::run_native(
        "ECScope",
        native,
        Box::new(move |cc| Ok(Box::new(EcscopeApp::new(cc, options)))),
    )
    .map_err(|e| format!("cannot open the window: {e}"))
}

/// The folder of the bundled sample projects, when ECScope runs from its
/// source tree.
pub fn samples_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample_projects");
    dir.is_dir().then_some(dir)
}
