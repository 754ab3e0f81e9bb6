//! What the app remembers between runs: recent projects and the panel
//! layout. Kept apart from the app's live state so only this is persisted.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::layout::{self, Pane};

/// Key under which the settings are stored in eframe's storage.
pub const STORAGE_KEY: &str = "ecscope-settings";

/// Projects remembered in File › Open recent.
const MAX_RECENT: usize = 10;

/// Persisted settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Most recent first.
    pub recent: Vec<PathBuf>,
    /// The docked panels as the user left them.
    pub layout: egui_tiles::Tree<Pane>,
    /// Draw entity names in the scene.
    pub show_names: bool,
    /// The user's answer to "trust this project?" per project folder: true
    /// runs it fully, false opens it restricted.
    pub trust: std::collections::BTreeMap<PathBuf, bool>,
    /// The Debug view's watch list, per project folder.
    pub watches: std::collections::BTreeMap<PathBuf, Vec<String>>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            recent: Vec::new(),
            layout: layout::default_tree(),
            show_names: false,
            trust: Default::default(),
            watches: Default::default(),
        }
    }
}

impl Settings {
    /// Loads settings, falling back to defaults for anything unreadable or
    /// from an older layout that lacks a panel.
    pub fn load(storage: Option<&dyn eframe::Storage>) -> Settings {
        let mut settings: Settings = storage
            .and_then(|s| eframe::get_value(s, STORAGE_KEY))
            .unwrap_or_default();
        if !layout::has_every_pane(&settings.layout) {
            settings.layout = layout::default_tree();
        }
        settings.recent.retain(|p| p.is_dir());
        settings
    }

    /// Saves settings.
    pub fn save(&self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, STORAGE_KEY, self);
    }

    /// Moves a project to the front of the recent list.
    pub fn remember(&mut self, project: &Path) {
        self.recent.retain(|p| p != project);
        self.recent.insert(0, project.to_path_buf());
        self.recent.truncate(MAX_RECENT);
    }
}
