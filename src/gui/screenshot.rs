//! `--screenshot FILE`: run a fixed number of frames, capture the window
//! through eframe and quit, so `screenshots/` can be regenerated exactly.

use std::path::{Path, PathBuf};

/// Where a screenshot run is.
#[derive(Debug, Clone, PartialEq)]
pub enum ScreenshotPlan {
    /// Waiting for the project to reach the wanted frame.
    Waiting {
        /// Output file.
        path: PathBuf,
        /// The simulation frame to capture.
        frame: u64,
        /// GUI frames rendered since that frame was reached.
        settled: u32,
    },
    /// Asked eframe for the image.
    Requested(PathBuf),
    /// Written (or failed); the app is closing.
    Done,
}

/// GUI frames to render after the simulation is ready, so layout and
/// fonts settle before the capture.
pub const SETTLE_FRAMES: u32 = 12;

/// Saves an eframe screenshot as PNG.
pub fn save_png(image: &egui::ColorImage, path: &Path) -> Result<(), super::GuiError> {
    let [w, h] = image.size;
    let rgba: Vec<u8> = image
        .pixels
        .iter()
        .flat_map(|c| c.to_srgba_unmultiplied())
        .collect();
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    image::save_buffer(path, &rgba, w as u32, h as u32, image::ColorType::Rgba8)
        .map_err(|e| super::GuiError(format!("{}: {e}", path.display())))
}
