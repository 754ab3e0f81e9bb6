//! The statistics table: scripts, or every system, handler and coroutine,
//! ranked by any column (click a header).

use egui_extras::{Column, TableBuilder};

use crate::profiling::{StatRow, StatsTable};

/// A column of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    /// Script, then name.
    Name,
    /// Calls in the window.
    Calls,
    /// Total time in the window.
    Total,
    /// Mean time per frame.
    Mean,
    /// 95th percentile per frame.
    P95,
    /// Worst frame.
    Max,
    /// Time per call.
    PerCall,
}

/// How the table is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableState {
    /// The column rows are ranked by.
    pub sort: SortBy,
    /// Largest first.
    pub descending: bool,
    /// One row per script instead of per call.
    pub by_script: bool,
}

impl Default for TableState {
    fn default() -> Self {
        TableState {
            sort: SortBy::Total,
            descending: true,
            by_script: false,
        }
    }
}

fn key(row: &StatRow, sort: SortBy) -> f64 {
    match sort {
        SortBy::Name => 0.0,
        SortBy::Calls => row.calls as f64,
        SortBy::Total => row.total_ms,
        SortBy::Mean => row.mean_ms,
        SortBy::P95 => row.p95_ms,
        SortBy::Max => row.max_ms,
        SortBy::PerCall => row.per_call_us,
    }
}

/// Shows the table of `stats`.
pub fn stats_table(ui: &mut egui::Ui, stats: &StatsTable, state: &mut TableState) {
    ui.horizontal(|ui| {
        ui.selectable_value(&mut state.by_script, false, "By call");
        ui.selectable_value(&mut state.by_script, true, "By script");
        ui.separator();
        ui.weak(format!(
            "last {} frames · frame {:.2} ms mean, {:.2} p95, {:.2} max",
            stats.frames, stats.frame_mean_ms, stats.frame_p95_ms, stats.frame_max_ms
        ));
    });
    let mut rows: Vec<&StatRow> = if state.by_script {
        stats.scripts.iter().collect()
    } else {
        stats.rows.iter().collect()
    };
    rows.sort_by(|a, b| {
        let order = if state.sort == SortBy::Name {
            (&a.script, &a.name).cmp(&(&b.script, &b.name))
        } else {
            key(a, state.sort).total_cmp(&key(b, state.sort))
        };
        if state.descending {
            order.reverse()
        } else {
            order
        }
    });
    if rows.is_empty() {
        ui.weak("No script calls measured yet: press Play or Step.");
        return;
    }
    let headers = [
        (
            SortBy::Name,
            "Script / call",
            "The script, and the system, handler (on event), coroutine or load",
        ),
        (SortBy::Calls, "Calls", "Calls in the window"),
        (SortBy::Total, "Total ms", "Time in the window"),
        (SortBy::Mean, "Mean ms", "Mean time per frame"),
        (
            SortBy::P95,
            "p95 ms",
            "95th percentile of the time per frame",
        ),
        (SortBy::Max, "Max ms", "The worst frame"),
        (SortBy::PerCall, "µs/call", "Mean time per call"),
    ];
    TableBuilder::new(ui)
        .id_salt("stats-table")
        .striped(true)
        .resizable(true)
        .column(Column::initial(220.0).at_least(120.0).clip(true))
        .columns(Column::auto().at_least(52.0), 6)
        .column(Column::remainder().at_least(40.0))
        .header(20.0, |mut header| {
            for (column, title, tip) in headers {
                header.col(|ui| {
                    let arrow = match (state.sort == column, state.descending) {
                        (true, true) => " ⏷",
                        (true, false) => " ⏶",
                        _ => "",
                    };
                    let clicked = ui
                        .add(
                            egui::Button::new(
                                egui::RichText::new(format!("{title}{arrow}")).strong(),
                            )
                            .frame(false),
                        )
                        .on_hover_text(tip)
                        .clicked();
                    if clicked {
                        if state.sort == column {
                            state.descending = !state.descending;
                        } else {
                            state.sort = column;
                            state.descending = column != SortBy::Name;
                        }
                    }
                });
            }
            header.col(|ui| {
                ui.strong("%").on_hover_text("Share of the frame time");
            });
        })
        .body(|body| {
            body.rows(18.0, rows.len(), |mut row| {
                let r = rows[row.index()];
                row.col(|ui| {
                    let text = match r.kind {
                        None => r.script.clone(),
                        Some(kind) => {
                            let file = r.script.rsplit('/').next().unwrap_or(&r.script);
                            match kind {
                                crate::profiling::CallKind::System => format!("{file}:{}", r.name),
                                crate::profiling::CallKind::Load => format!("{file} ({})", r.name),
                                _ => format!("{file}:{} ({})", r.name, kind.name()),
                            }
                        }
                    };
                    ui.label(text).on_hover_text(&r.script);
                });
                row.col(|ui| {
                    ui.monospace(r.calls.to_string());
                });
                for value in [r.total_ms, r.mean_ms, r.p95_ms, r.max_ms, r.per_call_us] {
                    row.col(|ui| {
                        ui.monospace(format_number(value));
                    });
                }
                row.col(|ui| {
                    ui.monospace(format!("{:.1}", r.share * 100.0));
                });
            });
        });
}

fn format_number(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}
