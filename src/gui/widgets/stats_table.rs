//! The statistics table: scripts, or every system, handler and coroutine,
//! ranked by any column (click a header).

use crate::gui::theme;
use crate::runtime::budgets::BudgetResult;
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
    /// Columns the user hid (by title); the sort column is always shown.
    pub hidden: [bool; COLUMNS],
}

/// The number columns, after the name.
const COLUMNS: usize = 7;

impl Default for TableState {
    fn default() -> Self {
        TableState {
            sort: SortBy::Total,
            descending: true,
            by_script: false,
            hidden: [false; COLUMNS],
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

/// Shows the table of `stats`, marking what is over its `[budgets]` limit.
pub fn stats_table(
    ui: &mut egui::Ui,
    stats: &StatsTable,
    budgets: &[BudgetResult],
    state: &mut TableState,
) {
    ui.horizontal(|ui| {
        ui.selectable_value(&mut state.by_script, false, "By call");
        ui.selectable_value(&mut state.by_script, true, "By script");
        ui.separator();
        ui.weak(format!(
            "last {} frames · frame {:.2} ms mean, {:.2} p95, {:.2} max",
            stats.frames, stats.frame_mean_ms, stats.frame_p95_ms, stats.frame_max_ms
        ));
    });
    if !budgets.is_empty() {
        let over: Vec<&BudgetResult> = budgets.iter().filter(|b| b.exceeded()).collect();
        if over.is_empty() {
            ui.colored_label(
                theme::OK,
                format!(
                    "All {} budgets are met ([budgets] in ecscope.toml).",
                    budgets.len()
                ),
            )
        } else {
            ui.colored_label(
                theme::ERROR,
                format!(
                    "Over budget: {}",
                    over.iter()
                        .map(|b| b.describe())
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            )
        };
    }
    let budget_of = |r: &StatRow| {
        (r.kind == Some(crate::profiling::CallKind::System))
            .then(|| {
                budgets
                    .iter()
                    .find(|b| b.key.rsplit_once(':') == Some((r.script.as_str(), r.name.as_str())))
            })
            .flatten()
    };
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
    // (sorts by, title, tooltip, value)
    type Cell = fn(&StatRow) -> String;
    let columns: [(Option<SortBy>, &str, &str, Cell); COLUMNS] = [
        (Some(SortBy::Calls), "Calls", "Calls in the window", |r| {
            r.calls.to_string()
        }),
        (Some(SortBy::Total), "Total ms", "Time in the window", |r| {
            format_number(r.total_ms)
        }),
        (Some(SortBy::Mean), "Mean ms", "Mean time per frame", |r| {
            format_number(r.mean_ms)
        }),
        (
            Some(SortBy::P95),
            "p95 ms",
            "95th percentile of the time per frame",
            |r| format_number(r.p95_ms),
        ),
        (Some(SortBy::Max), "Max ms", "The worst frame", |r| {
            format_number(r.max_ms)
        }),
        (
            Some(SortBy::PerCall),
            "µs/call",
            "Mean time per call",
            |r| format_number(r.per_call_us),
        ),
        (None, "%", "Share of the frame time", |r| {
            format!("{:.1}", r.share * 100.0)
        }),
    ];
    ui.horizontal(|ui| {
        // The menu stays open while columns are ticked.
        let config = egui::containers::menu::MenuConfig::new()
            .close_behavior(egui::PopupCloseBehavior::CloseOnClickOutside);
        let (button, _) = egui::containers::menu::MenuButton::new("Columns ⏷")
            .config(config)
            .ui(ui, |ui| {
                for (i, (sort, title, tip, _)) in columns.iter().enumerate() {
                    let mut shown = !state.hidden[i];
                    let sorting = *sort == Some(state.sort);
                    let toggle = ui.add_enabled(!sorting, egui::Checkbox::new(&mut shown, *title));
                    if toggle
                        .on_hover_text(if sorting {
                            "The table is sorted by this column: it stays"
                        } else {
                            tip
                        })
                        .changed()
                    {
                        state.hidden[i] = !shown;
                    }
                }
            });
        button.on_hover_text("Choose the columns shown");
        ui.weak("Click a header to sort by it.");
    });
    let visible: Vec<usize> = (0..COLUMNS)
        .filter(|&i| !state.hidden[i] || columns[i].0 == Some(state.sort))
        .collect();
    let mut table = TableBuilder::new(ui)
        .id_salt("stats-table")
        .striped(true)
        .resizable(true)
        .column(Column::initial(170.0).at_least(110.0).clip(true));
    for _ in &visible {
        table = table.column(Column::auto().at_least(44.0));
    }
    table
        .header(20.0, |mut header| {
            let name = (
                SortBy::Name,
                "Script / call",
                "The script, and the system, handler (on event), coroutine or load",
            );
            let mut sort_header = |ui: &mut egui::Ui, column: SortBy, title: &str, tip: &str| {
                let arrow = match (state.sort == column, state.descending) {
                    (true, true) => " ⏷",
                    (true, false) => " ⏶",
                    _ => "",
                };
                let clicked = ui
                    .add(
                        egui::Button::new(egui::RichText::new(format!("{title}{arrow}")).strong())
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
            };
            header.col(|ui| sort_header(ui, name.0, name.1, name.2));
            for &i in &visible {
                let (sort, title, tip, _) = columns[i];
                header.col(|ui| match sort {
                    Some(column) => sort_header(ui, column, title, tip),
                    None => {
                        ui.strong(title).on_hover_text(tip);
                    }
                });
            }
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
                    let budget = budget_of(r);
                    match budget {
                        Some(b) if b.exceeded() => {
                            ui.colored_label(theme::ERROR, format!("{text} ⚠"))
                                .on_hover_text(b.describe());
                        }
                        Some(b) => {
                            ui.label(text).on_hover_text(b.describe());
                        }
                        None => {
                            ui.label(text).on_hover_text(&r.script);
                        }
                    }
                });
                let over = budget_of(r).is_some_and(BudgetResult::exceeded);
                for &i in &visible {
                    let cell = columns[i].3;
                    row.col(|ui| {
                        // Numbers never wrap: a narrow column scrolls.
                        let mut text = egui::RichText::new(cell(r)).monospace();
                        if over && columns[i].0 == Some(SortBy::P95) {
                            text = text.color(theme::ERROR);
                        }
                        ui.add(egui::Label::new(text).extend());
                    });
                }
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
