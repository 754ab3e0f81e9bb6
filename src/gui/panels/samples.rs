//! The Profiler's views of the sampled script stacks: a sampled flame
//! graph, a Functions table (self and total samples per function) and the
//! hottest lines. Clicking a function or line opens the editor there.

use super::PanelCtx;
use crate::gui::theme;
use crate::gui::widgets::sample_graph::sample_graph;
use crate::profiling::samples::SampleSummary;
use crate::runtime::RuntimeCommand;
use crate::runtime::session::{ProfileData, SessionCommand};

/// What the Profiler's main area shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ProfileView {
    /// puffin's flame graph of the recorded frames.
    #[default]
    Frames,
    /// The sampled flame graph.
    Samples,
    /// Self and total samples per script function.
    Functions,
    /// The lines the samples landed on most.
    Lines,
    /// The systems in order: their access, which run together, why others
    /// wait.
    Systems,
    /// A pinned capture against the frames since.
    Compare,
}

impl ProfileView {
    /// Every view, in the order of the tabs.
    pub const ALL: [ProfileView; 6] = [
        ProfileView::Frames,
        ProfileView::Samples,
        ProfileView::Functions,
        ProfileView::Lines,
        ProfileView::Systems,
        ProfileView::Compare,
    ];

    /// The tab's label.
    pub fn label(self) -> &'static str {
        match self {
            ProfileView::Frames => "Frames",
            ProfileView::Samples => "Sampled stacks",
            ProfileView::Functions => "Functions",
            ProfileView::Lines => "Hot lines",
            ProfileView::Systems => "Systems",
            ProfileView::Compare => "Before / after",
        }
    }

    /// The tab's tooltip.
    fn hint(self) -> &'static str {
        match self {
            ProfileView::Frames => {
                "Every recorded frame's phases, systems and script calls (puffin)"
            }
            ProfileView::Samples => {
                "The scripts' sampled call stacks under each system, handler and coroutine"
            }
            ProfileView::Functions => {
                "Samples per script function: in the function itself (self) and in it or what it called (total)"
            }
            ProfileView::Lines => "The script lines the samples landed on most",
            ProfileView::Systems => {
                "The systems in the order they run: what each declared it touches, which run at the same time, and why the others wait"
            }
            ProfileView::Compare => {
                "Each system and phase before a reload (or a pinned capture) against the frames since: slower in red, faster in blue"
            }
        }
    }
}

/// The tabs that choose the view.
pub fn view_tabs(ui: &mut egui::Ui, view: &mut ProfileView) {
    // Wrapped: beside the statistics, a small pane is narrow.
    ui.horizontal_wrapped(|ui| {
        for v in ProfileView::ALL {
            ui.selectable_value(view, v, v.label())
                .on_hover_text(v.hint());
        }
    });
}

/// The sampling rate, changeable while the project runs.
pub fn rate_control(ui: &mut egui::Ui, profile: &ProfileData, ctx: &mut PanelCtx) {
    let mut hz = profile.sample_hz;
    let response = ui
        .add(
            egui::DragValue::new(&mut hz)
                .range(0..=crate::project::MAX_SAMPLE_HZ)
                .speed(10)
                .prefix("Sampling ")
                .suffix(" Hz"),
        )
        .on_hover_text("How often the scripts' call stacks are sampled while recording ([profiling] sample_hz); 0 turns sampling off");
    if response.changed() && hz != profile.sample_hz {
        ctx.commands
            .push(SessionCommand::Runtime(RuntimeCommand::SetSampleHz(hz)));
    }
}

/// Shows a sampled view; `Frames` is drawn by the caller.
pub fn show(ui: &mut egui::Ui, view: ProfileView, profile: &ProfileData, ctx: &mut PanelCtx) {
    let summary = &profile.samples;
    if summary.total == 0 {
        ui.weak(if profile.sample_hz == 0 {
            "Sampling is off: set a rate above 0 Hz."
        } else if !profile.profiling {
            "No samples: press Record, and let the project run."
        } else {
            "No samples yet: let the project run."
        });
        return;
    }
    let secs = summary.total as f64 / f64::from(profile.sample_hz.max(1));
    ui.weak(format!(
        "{} samples (about {secs:.1} s of script time at {} Hz){}",
        summary.total,
        profile.sample_hz,
        if summary.cut > 0 {
            format!(
                "; {} stacks deeper than {} frames were cut",
                summary.cut,
                crate::profiling::samples::MAX_DEPTH
            )
        } else {
            String::new()
        }
    ));
    let goto = match view {
        ProfileView::Frames => None,
        ProfileView::Samples => {
            egui::ScrollArea::vertical()
                .id_salt("sample-graph")
                .show(ui, |ui| sample_graph(ui, summary))
                .inner
        }
        ProfileView::Functions => functions(ui, summary),
        ProfileView::Lines => lines(ui, summary),
        ProfileView::Systems | ProfileView::Compare => None,
    };
    if let Some(place) = goto {
        *ctx.goto = Some(place);
    }
}

fn percent(n: u64, total: u64) -> String {
    format!("{:.1}%", 100.0 * n as f64 / total.max(1) as f64)
}

/// The Functions table, most self samples first.
fn functions(ui: &mut egui::Ui, summary: &SampleSummary) -> Option<(String, u32)> {
    let mut goto = None;
    egui::ScrollArea::both()
        .id_salt("sample-functions")
        .show(ui, |ui| {
            egui::Grid::new("sample-functions-grid")
                .striped(true)
                .num_columns(5)
                .show(ui, |ui| {
                    for title in [
                        "Function",
                        "Where (hottest line)",
                        "Self",
                        "Total",
                        "Samples",
                    ] {
                        ui.strong(title);
                    }
                    ui.end_row();
                    for f in summary.functions.iter().take(200) {
                        if ui
                            .link(egui::RichText::new(&f.function).monospace())
                            .on_hover_text("Open the editor at this function's hottest line")
                            .clicked()
                        {
                            goto = Some((f.file.clone(), f.line));
                        }
                        ui.monospace(format!("{}:{}", f.file, f.line));
                        share_label(ui, f.self_samples, summary.total);
                        ui.label(percent(f.total_samples, summary.total));
                        ui.weak(format!("{} / {}", f.self_samples, f.total_samples));
                        ui.end_row();
                    }
                });
        });
    goto
}

/// The hottest lines.
fn lines(ui: &mut egui::Ui, summary: &SampleSummary) -> Option<(String, u32)> {
    let mut goto = None;
    egui::ScrollArea::both()
        .id_salt("sample-lines")
        .show(ui, |ui| {
            egui::Grid::new("sample-lines-grid")
                .striped(true)
                .num_columns(4)
                .show(ui, |ui| {
                    for title in ["Line", "Function", "Share", "Samples"] {
                        ui.strong(title);
                    }
                    ui.end_row();
                    for l in summary.lines.iter().take(200) {
                        if ui
                            .link(egui::RichText::new(format!("{}:{}", l.file, l.line)).monospace())
                            .on_hover_text("Open the editor at this line")
                            .clicked()
                        {
                            goto = Some((l.file.clone(), l.line));
                        }
                        ui.monospace(&l.function);
                        share_label(ui, l.samples, summary.total);
                        ui.weak(l.samples.to_string());
                        ui.end_row();
                    }
                });
        });
    goto
}

/// A share of the samples, hotter ones in warmer colors.
fn share_label(ui: &mut egui::Ui, n: u64, total: u64) {
    let share = n as f64 / total.max(1) as f64;
    let text = percent(n, total);
    if share >= 0.2 {
        ui.colored_label(theme::ERROR, text);
    } else if share >= 0.05 {
        ui.colored_label(theme::WARNING, text);
    } else {
        ui.label(text);
    }
}
