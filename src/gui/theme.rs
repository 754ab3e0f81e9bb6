//! Colours shared by the panels.

use egui::Color32;

/// The scene's background.
pub const SCENE_BACKGROUND: Color32 = Color32::from_rgb(18, 20, 26);
/// Grid lines in the scene.
pub const SCENE_GRID: Color32 = Color32::from_rgb(32, 36, 46);
/// The world axes in the scene.
pub const SCENE_AXIS: Color32 = Color32::from_rgb(55, 62, 80);
/// Entities without a `Color`.
pub const DEFAULT_ENTITY: Color32 = Color32::from_rgb(200, 205, 215);
/// The selection ring.
pub const SELECTION: Color32 = Color32::from_rgb(255, 214, 10);
/// Errors in the console and status line.
pub const ERROR: Color32 = Color32::from_rgb(255, 110, 100);
/// Script locations in the console.
pub const LOCATION: Color32 = Color32::from_rgb(120, 170, 255);
/// Informational console lines.
pub const INFO: Color32 = Color32::from_rgb(150, 150, 160);
/// Things that went well (a version that loaded, added diff lines).
pub const OK: Color32 = Color32::from_rgb(110, 200, 120);
/// Things to look at (a version that was rolled back).
pub const WARNING: Color32 = Color32::from_rgb(240, 170, 60);
