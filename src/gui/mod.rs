//! The desktop app (eframe). Panels render [`Snapshot`]s and send
//! [`SessionCommand`]s; the runtime runs on its own thread (see
//! [`crate::runtime::session`]) and the GUI never calls a script VM.
//!
//! [`Snapshot`]: crate::runtime::session::Snapshot
//! [`SessionCommand`]: crate::runtime::session::SessionCommand

pub mod app;
pub mod console;
pub mod editor;
pub mod editor_link;
pub mod layout;
pub mod panels;
pub mod screenshot;
pub mod settings;
pub mod shortcuts;
pub mod theme;
pub mod toolbar;
pub mod widgets;

use std::path::PathBuf;

pub use app::{EcscopeApp, GuiOptions};

crate::message_error! {
    /// Something the window could not do (open, save a file, write a
    /// screenshot), and why; the message names the file.
    GuiError
}

/// The window icon, from `assets/icon.png`.
fn icon() -> Option<egui::IconData> {
    let image = image::load_from_memory(include_bytes!("../../assets/icon.png")).ok()?;
    let rgba = image.to_rgba8();
    Some(egui::IconData {
        width: rgba.width(),
        height: rgba.height(),
        rgba: rgba.into_raw(),
    })
}

/// Opens the window and runs until it is closed.
pub fn run(options: GuiOptions) -> Result<(), GuiError> {
    let mut viewport = egui::ViewportBuilder::default()
        .with_inner_size([1400.0, 860.0])
        .with_min_inner_size([720.0, 420.0])
        .with_title("ECScope")
        .with_app_id("ecscope");
    if let Some(icon) = icon() {
        viewport = viewport.with_icon(std::sync::Arc::new(icon));
    }
    let native = eframe::NativeOptions {
        viewport,
        ..Default::default()
    };
    eframe::run_native(
        "ECScope",
        native,
        Box::new(move |cc| Ok(Box::new(EcscopeApp::new(cc, options)))),
    )
    .map_err(|e| GuiError(format!("cannot open the window: {e}")))
}

/// The folder of the bundled sample projects, when ECScope runs from its
/// source tree.
pub fn samples_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample_projects");
    dir.is_dir().then_some(dir)
}
