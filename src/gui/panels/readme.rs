//! The open project's `README.md`, rendered, so a sample's lesson can be
//! followed beside the scene. Links to the project's scripts open them in
//! the Scripts panel; images are read relative to the project.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use egui_commonmark::{CommonMarkCache, CommonMarkViewer};

use super::PanelCtx;

/// How often the file is checked for changes.
const RECHECK: Duration = Duration::from_secs(1);

/// State of the README panel.
#[derive(Default)]
pub struct ReadmePanel {
    cache: CommonMarkCache,
    loaded: Option<Loaded>,
}

struct Loaded {
    path: PathBuf,
    text: Option<String>,
    modified: Option<SystemTime>,
    checked: Instant,
    links: Vec<String>,
}

impl std::fmt::Debug for ReadmePanel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadmePanel")
            .field("path", &self.loaded.as_ref().map(|l| &l.path))
            .finish_non_exhaustive()
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

impl ReadmePanel {
    /// Renders the panel.
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut PanelCtx) {
        let Some(root) = ctx.project_root else {
            super::no_project(ui);
            return;
        };
        let path = root.join("README.md");
        self.refresh(&path, ctx);
        let Some(loaded) = &self.loaded else {
            return;
        };
        let Some(text) = &loaded.text else {
            ui.weak(
                "This project has no README.md. Write one beside ecscope.toml and it shows here.",
            );
            return;
        };
        // Relative image paths resolve against the project folder.
        let base = format!("file://{}/", root.display());
        egui::ScrollArea::vertical()
            .id_salt("readme-scroll")
            .auto_shrink([false; 2])
            .show(ui, |ui| {
                CommonMarkViewer::new()
                    .default_implicit_uri_scheme(base)
                    .max_image_width(Some(ui.available_width().max(100.0) as usize))
                    .show(ui, &mut self.cache, text);
            });
        for link in &loaded.links {
            if self.cache.get_link_hook(link) == Some(true) {
                *ctx.goto = Some((link.clone(), 1));
                // The hook stays set until reset: re-adding clears it.
                self.cache.add_link_hook(link.clone());
            }
        }
    }

    /// (Re)reads the README when the project or the file changed; links to
    /// the project's scripts become hooks that open the Scripts panel.
    fn refresh(&mut self, path: &Path, ctx: &PanelCtx) {
        let listed = ctx.snapshot.map_or(&[][..], |s| &s.view.scripts[..]);
        if let Some(l) = &mut self.loaded
            && l.path == path
        {
            // The scripts are known once the first snapshot arrives.
            let scripts_changed = !l.links.iter().eq(listed.iter().map(|x| &x.path));
            let file_changed = l.checked.elapsed() >= RECHECK && {
                l.checked = Instant::now();
                modified(path) != l.modified
            };
            if !scripts_changed && !file_changed {
                return;
            }
        }
        for link in self.loaded.iter().flat_map(|l| l.links.iter()) {
            self.cache.remove_link_hook(link);
        }
        let scripts: Vec<String> = listed.iter().map(|x| x.path.clone()).collect();
        for link in &scripts {
            self.cache.add_link_hook(link.clone());
        }
        self.loaded = Some(Loaded {
            path: path.to_path_buf(),
            text: std::fs::read_to_string(path).ok(),
            modified: modified(path),
            checked: Instant::now(),
            links: scripts,
        });
    }
}
