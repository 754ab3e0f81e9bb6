//! The Systems view: the systems in the order they run, what each
//! declared it touches, which ran together, and why each that waited did.

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
    egui::ScrollArea::both()
        .id_salt("systems-view")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            egui::Grid::new("systems-grid")
                .striped(true)
                .num_columns(8)
                .spacing([12.0, 4.0])
                .show(ui, |ui| {
                    for head in [
                        "Group", "System", "Script", "Reads", "Writes", "Runs", "Query", "Form",
                    ] {
                        ui.strong(head);
                    }
                    ui.end_row();
                    let mut previous = None;
                    for row in &view.rows {
                        let size = size(row.group);
                        let first = previous != Some(row.group);
                        previous = Some(row.group);
                        if first {
                            ui.strong(format!("{}", row.group + 1));
                        } else {
                            ui.weak("│");
                        }
                        ui.monospace(&row.name);
                        ui.label(&row.script);
                        match &row.access {
                            Some((reads, writes)) => {
                                ui.label(list(reads));
                                ui.label(list(writes));
                            }
                            None => {
                                ui.weak("—");
                                ui.weak("—");
                            }
                        }
                        match &row.waited {
                            _ if row.access.is_none() => ui.weak("alone: declares no access"),
                            Some(why) => ui.colored_label(theme::WARNING, format!("waited: {why}")),
                            None if size > 1 && first => {
                                ui.colored_label(theme::OK, format!("together with {}", size - 1))
                            }
                            None if size > 1 => ui.colored_label(theme::OK, "together"),
                            None => ui.weak("alone"),
                        }
                        .on_hover_text(if row.on_workers {
                            "A Lua system: in a group of two or more, it runs on a worker thread"
                        } else {
                            "A Python system: it runs on the runtime's thread (it holds the GIL)"
                        });
                        ui.label(list(&row.query));
                        ui.weak(row.form);
                        ui.end_row();
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
