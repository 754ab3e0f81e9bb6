//! The Systems view: the systems in the order they run, what each
//! declared it touches, which ran together, and why each that waited did.

use egui_extras::{Column, TableBuilder};

use crate::gui::theme;
use crate::runtime::parallel::SystemsView;

/// Shows the view.
pub fn show(ui: &mut egui::Ui, view: &SystemsView) {
    if view.rows.is_empty() {
        ui.weak("No systems: the project's scripts registered none.");
        return;
    }
    let groups = view.rows.last().map_or(0, |r| r.group + 1);
    let size = |group: usize| view.rows.iter().filter(|r| r.group == group).count();
    let together = view.rows.iter().filter(|r| size(r.group) > 1).count();
    ui.label(format!(
        "{} systems in {groups} groups: {together} share a group with another.",
        view.rows.len()
    ));
    match &view.sequential {
        Some(why) => ui.colored_label(
            theme::WARNING,
            format!("Groups run one system after another now: {why}."),
        ),
        None => ui.weak(format!(
            "The systems of a group run at the same time, on {} worker threads ({} groups have run there so far). Lua systems run on the workers; Python systems hold the GIL and run on the runtime's thread meanwhile.",
            view.threads, view.groups_on_workers
        )),
    };
    ui.add_space(4.0);
    // A table whose header stays in view while the rows scroll, at any
    // window size.
    let row_height = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
    egui::ScrollArea::horizontal()
        .id_salt("systems-view")
        .show(ui, |ui| {
            // A cell is one line: the view scrolls sideways instead.
            ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Extend);
            TableBuilder::new(ui)
                .id_salt("systems-table")
                .striped(true)
                .auto_shrink([false, true])
                .column(Column::auto().at_least(40.0))
                .columns(Column::auto().at_least(60.0).resizable(true), 4)
                .column(Column::auto().at_least(120.0).resizable(true))
                .column(Column::auto().at_least(60.0).resizable(true))
                .column(Column::auto().at_least(50.0))
                .header(row_height, |mut header| {
                    for head in [
                        "Group", "System", "Script", "Reads", "Writes", "Runs", "Query", "Form",
                    ] {
                        header.col(|ui| {
                            ui.strong(head);
                        });
                    }
                })
                .body(|mut body| {
                    let mut previous = None;
                    for row in &view.rows {
                        let size = size(row.group);
                        let first = previous != Some(row.group);
                        previous = Some(row.group);
                        body.row(row_height, |mut cells| {
                            cells.col(|ui| {
                                if first {
                                    ui.strong(format!("{}", row.group + 1));
                                } else {
                                    ui.weak("│");
                                }
                            });
                            cells.col(|ui| {
                                ui.monospace(&row.name);
                            });
                            cells.col(|ui| {
                                ui.label(&row.script);
                            });
                            let (reads, writes) = match &row.access {
                                Some((reads, writes)) => (list(reads), list(writes)),
                                None => ("—".to_string(), "—".to_string()),
                            };
                            for names in [reads, writes] {
                                cells.col(|ui| {
                                    if row.access.is_some() {
                                        ui.label(names);
                                    } else {
                                        ui.weak(names);
                                    }
                                });
                            }
                            cells.col(|ui| {
                                match &row.waited {
                                    _ if row.access.is_none() => {
                                        ui.weak("alone: declares no access")
                                    }
                                    Some(why) => ui
                                        .colored_label(theme::WARNING, format!("waited: {why}")),
                                    None if size > 1 && first => ui.colored_label(
                                        theme::OK,
                                        format!("together with {}", size - 1),
                                    ),
                                    None if size > 1 => ui.colored_label(theme::OK, "together"),
                                    None => ui.weak("alone"),
                                }
                                .on_hover_text(if row.on_workers {
                                    "A Lua system: in a group of two or more, it runs on a worker thread"
                                } else {
                                    "A Python system: it runs on the runtime's thread (it holds the GIL)"
                                });
                            });
                            cells.col(|ui| {
                                ui.label(list(&row.query));
                            });
                            cells.col(|ui| {
                                ui.weak(row.form);
                            });
                        });
                    }
                });
        });
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}
