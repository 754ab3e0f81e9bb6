//! The start screen: the bundled samples as cards (thumbnail, name, what it
//! teaches) and the recent projects. Shown in place of the panels when no
//! project is open, and in a window from Help › Samples.

use std::path::{Path, PathBuf};

use crate::project::Project;

/// The order lessons build on each other; samples not listed come after,
/// by name.
const LESSON_ORDER: [&str; 15] = [
    "hello_lua",
    "hello_python",
    "components_queries",
    "cross_language",
    "hot_reload",
    "ai_coroutines",
    "profiling_hotspots",
    "memory_leak",
    "batch_performance",
    "boids",
    "asteroids",
    "parallel_systems",
    "stress",
    "stress_scripts",
    "ci_and_deployment",
];

/// One bundled sample, as the start screen shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleCard {
    /// The manifest's project name.
    pub name: String,
    /// The manifest's description.
    pub description: String,
    /// The project folder.
    pub path: PathBuf,
    /// `thumbnail.png` in the folder, when there is one.
    pub thumbnail: Option<PathBuf>,
}

/// The sample projects in `dir`, in lesson order. Folders whose manifest
/// does not parse are left out (opening one would report why).
pub fn sample_cards(dir: &Path) -> Vec<SampleCard> {
    let mut cards: Vec<SampleCard> = crate::gui::app::sample_folders(dir)
        .into_iter()
        .filter_map(|path| {
            let project = Project::open(&path).ok()?;
            let thumbnail = path.join("thumbnail.png");
            Some(SampleCard {
                name: project.manifest.project.name.clone(),
                description: project
                    .manifest
                    .project
                    .description
                    .clone()
                    .unwrap_or_default(),
                thumbnail: thumbnail.is_file().then_some(thumbnail),
                path,
            })
        })
        .collect();
    let rank = |card: &SampleCard| {
        let folder = card
            .path
            .file_name()
            .map(|n| n.to_string_lossy().to_string());
        LESSON_ORDER
            .iter()
            .position(|name| Some(*name) == folder.as_deref())
            .unwrap_or(LESSON_ORDER.len())
    };
    cards.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.name.cmp(&b.name)));
    cards
}

const CARD_WIDTH: f32 = 250.0;
/// Thumbnails are 2:1, like the crop of the scene they are made from.
const THUMB_HEIGHT: f32 = (CARD_WIDTH - 14.0) / 2.0;

/// Draws the samples and recent projects; returns the folder the user chose.
pub fn ui(ui: &mut egui::Ui, samples: &[SampleCard], recent: &[PathBuf]) -> Option<PathBuf> {
    let mut chosen = None;
    egui::ScrollArea::vertical()
        .id_salt("start-screen")
        .auto_shrink([false; 2])
        .show(ui, |ui| {
            ui.add_space(8.0);
            ui.heading("Samples");
            ui.label(
                "Each sample teaches one idea. Open one and follow its README (the README tab) in the app.",
            );
            ui.add_space(6.0);
            if samples.is_empty() {
                ui.weak("No bundled samples were found next to this build of ECScope.");
            }
            let columns = ((ui.available_width() + 8.0) / (CARD_WIDTH + 8.0)).floor().max(1.0) as usize;
            for row in samples.chunks(columns) {
                ui.horizontal_top(|ui| {
                    for card in row {
                        if sample_card(ui, card) {
                            chosen = Some(card.path.clone());
                        }
                    }
                });
                ui.add_space(8.0);
            }
            ui.separator();
            ui.heading("Recent projects");
            if recent.is_empty() {
                ui.weak("None yet: projects you open are listed here.");
            }
            for path in recent {
                if ui
                    .link(path.display().to_string())
                    .on_hover_text("Open this project")
                    .clicked()
                {
                    chosen = Some(path.clone());
                }
            }
        });
    chosen
}

/// One sample's card; true when clicked.
fn sample_card(ui: &mut egui::Ui, card: &SampleCard) -> bool {
    let response = egui::Frame::group(ui.style())
        .inner_margin(6.0)
        .show(ui, |ui| {
            ui.set_width(CARD_WIDTH - 14.0);
            ui.vertical(|ui| {
                let size = egui::vec2(CARD_WIDTH - 14.0, THUMB_HEIGHT);
                match &card.thumbnail {
                    Some(path) => {
                        ui.add(
                            egui::Image::new(format!("file://{}", path.display()))
                                .fit_to_exact_size(size)
                                .corner_radius(3.0),
                        );
                    }
                    None => {
                        let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
                        ui.painter()
                            .rect_filled(rect, 3.0, crate::gui::theme::SCENE_BACKGROUND);
                    }
                }
                ui.strong(&card.name);
                ui.add(egui::Label::new(egui::RichText::new(&card.description).weak()).wrap());
            });
        })
        .response;
    let response = ui
        .interact(
            response.rect,
            ui.id().with(&card.path),
            egui::Sense::click(),
        )
        .on_hover_cursor(egui::CursorIcon::PointingHand)
        .on_hover_text(format!("Open {}", card.path.display()));
    if response.hovered() {
        ui.painter().rect_stroke(
            response.rect,
            4.0,
            egui::Stroke::new(1.5, crate::gui::theme::SELECTION),
            egui::StrokeKind::Inside,
        );
    }
    // Accessible as a button named after the sample, for keyboards and tests.
    response.widget_info(|| {
        egui::WidgetInfo::labeled(
            egui::WidgetType::Button,
            true,
            format!("Open sample {}", card.name),
        )
    });
    response.clicked()
}
