//! The Memory panel: charts of the Rust heap, each Lua state, Python and
//! the entity and component counts over the last frames, their current
//! and peak values, and the leak detector's warnings.

use std::collections::BTreeSet;

use egui::Color32;
use egui_plot::{Line, Plot};

use super::PanelCtx;
use crate::gui::theme;
use crate::profiling::memory::{Series, SeriesKind, to_csv};
use crate::runtime::RuntimeCommand;
use crate::runtime::session::SessionCommand;

/// Points drawn per line at most.
const POINTS: usize = 800;

/// Line colours, by series position.
const PALETTE: [Color32; 8] = [
    Color32::from_rgb(110, 170, 255),
    Color32::from_rgb(255, 140, 90),
    Color32::from_rgb(120, 210, 120),
    Color32::from_rgb(230, 110, 200),
    Color32::from_rgb(240, 210, 80),
    Color32::from_rgb(90, 210, 210),
    Color32::from_rgb(190, 150, 255),
    Color32::from_rgb(200, 200, 200),
];

fn color(index: usize) -> Color32 {
    PALETTE[index % PALETTE.len()]
}

/// Script heaps charted until the user picks others: a project of a
/// thousand scripts would otherwise draw a thousand lines no one can tell
/// apart, and spend most of the GUI's time on them.
const CHARTED_SCRIPTS: usize = 8;

/// State of the Memory panel.
#[derive(Debug)]
pub struct MemoryPanel {
    /// Series hidden from the charts.
    hidden: BTreeSet<String>,
    /// Script heaps past the first [`CHARTED_SCRIPTS`] the user charted.
    shown_extra: BTreeSet<String>,
    message: Option<(bool, String)>,
}

impl Default for MemoryPanel {
    fn default() -> Self {
        MemoryPanel {
            // Tens of thousands: it would flatten the entity count's line.
            hidden: BTreeSet::from(["rust_blocks".to_string()]),
            shown_extra: BTreeSet::new(),
            message: None,
        }
    }
}

/// Each series with whether it is one of the script heaps charted only on
/// request.
fn ranked(series: &[Series]) -> impl Iterator<Item = (usize, &Series, bool)> {
    let mut scripts = 0;
    series.iter().enumerate().map(move |(i, s)| {
        let extra = s.script.is_some() && {
            scripts += 1;
            scripts > CHARTED_SCRIPTS
        };
        (i, s, extra)
    })
}

/// `1.5 MB`, `820 KB`, `96 B`.
pub fn format_bytes(bytes: f64) -> String {
    let b = bytes.abs();
    if b >= 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2} GB", bytes / (1024.0 * 1024.0 * 1024.0))
    } else if b >= 1024.0 * 1024.0 {
        format!("{:.2} MB", bytes / (1024.0 * 1024.0))
    } else if b >= 1024.0 {
        format!("{:.1} KB", bytes / 1024.0)
    } else {
        format!("{bytes:.0} B")
    }
}

fn format_value(series: &Series, value: f64) -> String {
    match series.kind {
        SeriesKind::Bytes => format_bytes(value),
        SeriesKind::Count => format!("{value:.0}"),
    }
}

/// A readable label for a series name.
fn label(series: &Series) -> String {
    match series.name.as_str() {
        "rust" => "Rust heap (host and GUI)".to_string(),
        "python" => "Python heap (all scripts)".to_string(),
        "rust_blocks" => "Rust allocations (live blocks)".to_string(),
        "entities" => "Entities".to_string(),
        "components" => "Components".to_string(),
        name if name.starts_with("python ") => {
            format!("{} (what its module reaches)", &name["python ".len()..])
        }
        name => name.strip_prefix("lua ").unwrap_or(name).to_string() + " (Lua state)",
    }
}

impl MemoryPanel {
    /// Renders the panel.
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut PanelCtx) {
        let Some(snapshot) = ctx.snapshot else {
            super::no_project(ui);
            return;
        };
        let memory = &snapshot.profile.memory;
        ui.horizontal(|ui| {
            let snapshot_on = snapshot.profile.memory_tracking;
            let mut on = snapshot_on;
            if ui
                .toggle_value(
                    &mut on,
                    if snapshot_on {
                        "⏺ Tracking"
                    } else {
                        "⏺ Track"
                    },
                )
                .on_hover_text("Sample memory every frame and count allocations")
                .changed()
            {
                ctx.commands
                    .push(SessionCommand::Runtime(RuntimeCommand::SetMemoryTracking(
                        on,
                    )));
            }
            if ui.button("Clear").clicked() {
                ctx.commands
                    .push(SessionCommand::Runtime(RuntimeCommand::ClearMemory));
            }
            if ui.button("Export CSV…").clicked()
                && let Some(path) = rfd::FileDialog::new()
                    .set_file_name("memory.csv")
                    .add_filter("CSV", &["csv"])
                    .save_file()
            {
                self.message = Some(match std::fs::write(&path, to_csv(&memory.series)) {
                    Ok(()) => (false, format!("saved {}", path.display())),
                    Err(e) => (true, format!("{}: {e}", path.display())),
                });
            }
            if let Some((problem, text)) = &self.message {
                ui.colored_label(if *problem { theme::ERROR } else { theme::INFO }, text);
            }
        });
        for leak in memory.leaks.iter() {
            ui.horizontal_wrapped(|ui| {
                ui.colored_label(
                    theme::ERROR,
                    format!(
                        "⚠ Possible leak in {}: still {} larger after garbage collection, over {} frames (frame {})",
                        leak.script,
                        format_bytes(leak.growth_bytes as f64),
                        leak.window_frames,
                        leak.frame
                    ),
                );
                let line = leak.site.as_ref().and_then(|s| s.line).unwrap_or(1);
                if leak.script.starts_with("scripts/")
                    && ui
                        .small_button("Show script")
                        .on_hover_text(if line > 1 {
                            format!("Open {} at line {line}, where it adds to what grows", leak.script)
                        } else {
                            format!("Open {}", leak.script)
                        })
                        .clicked()
                {
                    *ctx.goto = Some((leak.script.clone(), line));
                }
            });
            if let Some(site) = &leak.site {
                let at = site
                    .line
                    .map(|l| format!(", added at line {l}"))
                    .unwrap_or_default();
                ui.colored_label(
                    theme::WARNING,
                    format!(
                        "   What grows: {}, +{} entries in {} frames{at}",
                        site.describe(),
                        site.growth,
                        crate::profiling::memory::LEAK_WINDOW
                    ),
                );
            }
        }
        if memory.series.is_empty() {
            ui.weak("No samples yet: memory is sampled once a frame while the project runs.");
            return;
        }
        egui::SidePanel::left("memory-series")
            .resizable(true)
            .default_width(330.0)
            .show_inside(ui, |ui| self.series_list(ui, &memory.series));
        egui::CentralPanel::default().show_inside(ui, |ui| {
            let half = (ui.available_height() - 8.0).max(120.0) * 0.62;
            self.chart(ui, "memory-bytes", &memory.series, SeriesKind::Bytes, half);
            self.chart(
                ui,
                "memory-counts",
                &memory.series,
                SeriesKind::Count,
                ui.available_height().max(80.0),
            );
        });
    }

    fn is_charted(&self, series: &Series, extra: bool) -> bool {
        if extra {
            self.shown_extra.contains(&series.name)
        } else {
            !self.hidden.contains(&series.name)
        }
    }

    fn series_list(&mut self, ui: &mut egui::Ui, series: &[Series]) {
        let scripts = series.iter().filter(|s| s.script.is_some()).count();
        if scripts > CHARTED_SCRIPTS {
            ui.weak(format!(
                "{scripts} script heaps: the first {CHARTED_SCRIPTS} are charted; tick others to add them."
            ));
        }
        let rows: Vec<_> = ranked(series).collect();
        let row_height = ui.spacing().interact_size.y;
        // Only the rows in sight are laid out (a thousand scripts, a
        // thousand rows).
        egui::ScrollArea::vertical()
            .id_salt("memory-series-rows")
            .auto_shrink([false; 2])
            .show_rows(ui, row_height, rows.len() + 1, |ui, range| {
                egui::Grid::new("memory-values")
                    .striped(true)
                    .num_columns(3)
                    .min_col_width(60.0)
                    .show(ui, |ui| {
                        ui.strong("Series");
                        ui.strong("Now");
                        ui.strong("Peak");
                        ui.end_row();
                        let first = range.start.saturating_sub(1);
                        let last = range.end.saturating_sub(1).min(rows.len());
                        for &(i, s, extra) in &rows[first..last] {
                            let mut shown = self.is_charted(s, extra);
                            let text = egui::RichText::new(label(s)).color(color(i));
                            if ui.checkbox(&mut shown, text).changed() {
                                let set = if extra {
                                    &mut self.shown_extra
                                } else {
                                    &mut self.hidden
                                };
                                if shown != extra {
                                    set.remove(&s.name);
                                } else {
                                    set.insert(s.name.clone());
                                }
                            }
                            ui.monospace(format_value(s, s.current()));
                            ui.monospace(format_value(s, s.peak));
                            ui.end_row();
                        }
                    });
            });
    }

    /// A chart of the series of one kind; `id` is also its egui id (plot
    /// memory can be looked up with it).
    fn chart(&self, ui: &mut egui::Ui, id: &str, series: &[Series], kind: SeriesKind, height: f32) {
        let bytes = kind == SeriesKind::Bytes;
        Plot::new(id)
            .id(egui::Id::new(id))
            .height(height)
            .x_axis_label("frame")
            .y_axis_label(if bytes { "bytes" } else { "count" })
            .include_y(0.0)
            .y_axis_min_width(72.0)
            .allow_scroll(false)
            .y_axis_formatter(move |mark, _| {
                if bytes {
                    format_bytes(mark.value)
                } else {
                    format!("{:.0}", mark.value)
                }
            })
            .show(ui, |plot| {
                for (i, s, extra) in ranked(series) {
                    if s.kind != kind || !self.is_charted(s, extra) {
                        continue;
                    }
                    plot.line(
                        Line::new(label(s), s.points(POINTS))
                            .color(color(i))
                            .width(2.0),
                    );
                }
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_read_well() {
        assert_eq!(format_bytes(96.0), "96 B");
        assert_eq!(format_bytes(2048.0), "2.0 KB");
        assert_eq!(format_bytes(3.5 * 1024.0 * 1024.0), "3.50 MB");
    }
}
