//! The entity list: every entity, filterable by name and by component,
//! drawn as a virtualized list so large worlds stay smooth.

use std::collections::BTreeMap;

use super::PanelCtx;
use crate::runtime::RuntimeCommand;
use crate::runtime::components::CompKey;
use crate::runtime::session::SessionCommand;
use crate::scripting::ScriptValue;

/// Filter state of the list.
#[derive(Debug, Default)]
pub struct EntitiesPanel {
    /// Text the name (or `#id`) must contain.
    pub filter: String,
    /// A component the entity must have.
    pub component: Option<String>,
    /// Spawned entities so far, for default names.
    spawned: u32,
}

impl EntitiesPanel {
    /// Renders the panel.
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut PanelCtx) {
        let Some(snapshot) = ctx.snapshot else {
            super::no_project(ui);
            return;
        };
        let view = &snapshot.view;
        ui.horizontal(|ui| {
            let label = ui.label("Filter");
            ui.add(
                egui::TextEdit::singleline(&mut self.filter)
                    .hint_text("name or #id")
                    .desired_width(f32::INFINITY),
            )
            .labelled_by(label.id);
        });
        let wanted: Option<CompKey> = self.component.as_ref().and_then(|name| {
            view.components
                .iter()
                .position(|c| &c.name == name)
                .map(|i| CompKey(i as u32))
        });
        ui.horizontal(|ui| {
            egui::ComboBox::from_id_salt("entities-component-filter")
                .selected_text(self.component.as_deref().unwrap_or("any component"))
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.component, None, "any component");
                    for c in view.components.iter() {
                        ui.selectable_value(&mut self.component, Some(c.name.clone()), &c.name);
                    }
                });
            if ui
                .button("Spawn")
                .on_hover_text("A new entity with a Name and a Position")
                .clicked()
            {
                self.spawned += 1;
                let mut components = BTreeMap::new();
                components.insert(
                    "Name".to_string(),
                    ScriptValue::Str(format!("new entity {}", self.spawned)),
                );
                components.insert("Position".to_string(), ScriptValue::Map(BTreeMap::new()));
                ctx.commands
                    .push(SessionCommand::Runtime(RuntimeCommand::Spawn {
                        components: ScriptValue::Map(components),
                    }));
            }
            if ui
                .add_enabled(ctx.selected.is_some(), egui::Button::new("Despawn"))
                .on_hover_text("Remove the selected entity")
                .clicked()
                && let Some(id) = ctx.selected.take()
            {
                ctx.commands
                    .push(SessionCommand::Runtime(RuntimeCommand::Despawn { id }));
                ctx.commands.push(SessionCommand::Inspect(None));
            }
        });

        let needle = self.filter.trim().to_lowercase();
        let shown: Vec<usize> = view
            .entities
            .iter()
            .enumerate()
            .filter(|(_, row)| wanted.is_none_or(|k| row.components.contains(&k)))
            .filter(|(_, row)| {
                needle.is_empty()
                    || format!("#{}", row.id).contains(&needle)
                    || row
                        .name
                        .as_ref()
                        .is_some_and(|n| n.to_lowercase().contains(&needle))
            })
            .map(|(i, _)| i)
            .collect();
        ui.weak(format!(
            "{} of {} entities",
            shown.len(),
            view.entities.len()
        ));
        ui.separator();

        let row_height = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
        egui::ScrollArea::vertical()
            .auto_shrink([false; 2])
            .id_salt("entities-list")
            .show_rows(ui, row_height, shown.len(), |ui, range| {
                for &index in &shown[range] {
                    let row = &view.entities[index];
                    let selected = *ctx.selected == Some(row.id);
                    let text = format!("{}   #{}", row.label(), row.id);
                    let response = ui.add(egui::Button::selectable(selected, text).truncate());
                    if response.clicked() && !selected {
                        *ctx.selected = Some(row.id);
                        ctx.commands.push(SessionCommand::Inspect(Some(row.id)));
                    }
                }
            });
    }
}
