//! The inspector: the selected entity's components, built-in and
//! script-defined, with numbers, integers, strings and booleans editable
//! live; components can be added and removed.

use std::collections::HashMap;

use super::PanelCtx;
use crate::runtime::RuntimeCommand;
use crate::runtime::components::FieldKind;
use crate::runtime::session::SessionCommand;
use crate::runtime::view::ComponentValueView;
use crate::scripting::ScriptValue;

/// Text being typed into a field, kept until it is committed (the snapshot
/// refreshes every frame and would overwrite it).
type EditKey = (u64, String, String);

/// Inspector state.
#[derive(Debug, Default)]
pub struct InspectorPanel {
    editing: HashMap<EditKey, String>,
}

impl InspectorPanel {
    /// Renders the panel.
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut PanelCtx) {
        let Some(snapshot) = ctx.snapshot else {
            super::no_project(ui);
            return;
        };
        let Some(id) = *ctx.selected else {
            ui.weak("Select an entity in the scene or the entity list.");
            return;
        };
        let Some(detail) = snapshot.detail.as_ref().filter(|d| d.id == id) else {
            if snapshot.view.entities.iter().any(|r| r.id == id) {
                ui.weak("Loading…");
            } else {
                ui.weak(format!("Entity {id} no longer exists."));
            }
            return;
        };
        let title = detail
            .components
            .iter()
            .find(|c| c.is_name)
            .and_then(|c| c.fields.first())
            .and_then(|f| f.2.as_str().map(str::to_string))
            .unwrap_or_else(|| format!("#{id}"));
        ui.horizontal(|ui| {
            ui.heading(title);
            ui.weak(format!("entity {id}"));
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let mut tracking = snapshot.debug.tracked == Some(id);
                if ui
                    .checkbox(&mut tracking, "Track writes")
                    .on_hover_text(
                        "Record the script line that last wrote each field of this entity (scripts run slower while on: every line is checked)",
                    )
                    .changed()
                {
                    ctx.commands
                        .push(SessionCommand::Runtime(RuntimeCommand::TrackWrites {
                            entity: tracking.then_some(id),
                        }));
                }
            });
        });
        ui.separator();

        egui::ScrollArea::vertical()
            .auto_shrink([false; 2])
            .id_salt("inspector-scroll")
            .show(ui, |ui| {
                for component in &detail.components {
                    self.component_ui(ui, ctx, id, component);
                }
                ui.add_space(6.0);
                let present: Vec<&str> =
                    detail.components.iter().map(|c| c.name.as_str()).collect();
                ui.menu_button("+ Add component", |ui| {
                    for c in snapshot.view.components.iter() {
                        if present.contains(&c.name.as_str()) {
                            continue;
                        }
                        let label = match &c.declared_by {
                            Some(script) => format!("{}  ({script})", c.name),
                            None => c.name.clone(),
                        };
                        if ui.button(label).clicked() {
                            ctx.commands.push(SessionCommand::Runtime(
                                RuntimeCommand::AddComponent {
                                    id,
                                    component: c.name.clone(),
                                },
                            ));
                            ui.close();
                        }
                    }
                });
            });
    }

    fn component_ui(
        &mut self,
        ui: &mut egui::Ui,
        ctx: &mut PanelCtx,
        id: u64,
        component: &ComponentValueView,
    ) {
        let header = if component.builtin {
            component.name.clone()
        } else {
            format!("{}  (script)", component.name)
        };
        let id_salt = ui.make_persistent_id(("component", &component.name));
        egui::collapsing_header::CollapsingState::load_with_default_open(ui.ctx(), id_salt, true)
            .show_header(ui, |ui| {
                ui.strong(header);
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    if ui
                        .small_button("🗑")
                        .on_hover_text(format!("Remove {} from this entity", component.name))
                        .clicked()
                    {
                        ctx.commands.push(SessionCommand::Runtime(
                            RuntimeCommand::RemoveComponent {
                                id,
                                component: component.name.clone(),
                            },
                        ));
                    }
                });
            })
            .body(|ui| {
                let snapshot = ctx.snapshot;
                let tracked = snapshot.is_some_and(|s| s.debug.tracked == Some(id));
                egui::Grid::new(("fields", &component.name))
                    .num_columns(if tracked { 4 } else { 3 })
                    .spacing([12.0, 4.0])
                    .show(ui, |ui| {
                        for (field, kind, value) in &component.fields {
                            let label = if component.is_name {
                                "name"
                            } else {
                                field.as_str()
                            };
                            let label = ui.label(label);
                            if let Some(new) =
                                self.field_ui(ui, id, component, field, *kind, value, label.id)
                            {
                                ctx.commands.push(SessionCommand::Runtime(
                                    RuntimeCommand::SetField {
                                        id,
                                        component: component.name.clone(),
                                        field: field.clone(),
                                        value: new,
                                    },
                                ));
                            }
                            watch_button(ui, ctx, id, &component.name, field);
                            if tracked {
                                last_writer(ui, ctx, id, &component.name, field);
                            }
                            ui.end_row();
                        }
                    });
            });
    }

    /// One field's editor; returns a new value when the user changed it.
    #[allow(clippy::too_many_arguments)]
    fn field_ui(
        &mut self,
        ui: &mut egui::Ui,
        id: u64,
        component: &ComponentValueView,
        field: &str,
        kind: FieldKind,
        value: &ScriptValue,
        label: egui::Id,
    ) -> Option<ScriptValue> {
        match (kind, value) {
            (FieldKind::Bool, ScriptValue::Bool(b)) => {
                let mut b = *b;
                ui.checkbox(&mut b, "")
                    .labelled_by(label)
                    .changed()
                    .then_some(ScriptValue::Bool(b))
            }
            (FieldKind::Int, ScriptValue::Int(i)) => {
                let mut i = *i;
                ui.add(egui::DragValue::new(&mut i).speed(0.25))
                    .labelled_by(label)
                    .changed()
                    .then_some(ScriptValue::Int(i))
            }
            (FieldKind::Float | FieldKind::Int, v) if v.is_number() => {
                let mut f = v.as_f64().unwrap_or(0.0);
                ui.add(egui::DragValue::new(&mut f).speed(0.1).max_decimals(4))
                    .labelled_by(label)
                    .changed()
                    .then_some(ScriptValue::Float(f))
            }
            (FieldKind::Str, ScriptValue::Str(s))
                if component.name == "Shape" && field == "kind" =>
            {
                let mut kind = s.clone();
                egui::ComboBox::from_id_salt(("shape-kind", id))
                    .selected_text(kind.clone())
                    .show_ui(ui, |ui| {
                        for option in ["circle", "rect", "triangle"] {
                            ui.selectable_value(&mut kind, option.to_string(), option);
                        }
                    });
                (kind != *s).then_some(ScriptValue::Str(kind))
            }
            (FieldKind::Str | FieldKind::List, v) => {
                let key: EditKey = (id, component.name.clone(), field.to_string());
                let shown = match v {
                    ScriptValue::Str(s) => s.clone(),
                    ScriptValue::List(items) => items
                        .iter()
                        .map(|x| x.to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                    other => other.to_string(),
                };
                let mut text = self
                    .editing
                    .get(&key)
                    .cloned()
                    .unwrap_or_else(|| shown.clone());
                let response = ui
                    .add(
                        egui::TextEdit::singleline(&mut text)
                            .desired_width(160.0)
                            .min_size(egui::vec2(120.0, 0.0)),
                    )
                    .labelled_by(label);
                if response.has_focus() {
                    self.editing.insert(key.clone(), text.clone());
                }
                let commit = response.lost_focus();
                if !commit {
                    return None;
                }
                self.editing.remove(&key);
                if text == shown {
                    return None;
                }
                if kind == FieldKind::Str {
                    return Some(ScriptValue::Str(text));
                }
                let parsed: Result<Vec<ScriptValue>, _> = text
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| s.parse::<f64>().map(ScriptValue::Float))
                    .collect();
                parsed.ok().map(ScriptValue::List)
            }
            (_, other) => {
                ui.monospace(other.to_string());
                None
            }
        }
    }
}

/// The data breakpoint on one field of one entity: set or remove it.
fn watch_button(ui: &mut egui::Ui, ctx: &mut PanelCtx, id: u64, component: &str, field: &str) {
    let existing = ctx.snapshot.and_then(|s| {
        s.debug
            .data_breakpoints
            .iter()
            .find(|d| {
                d.entity == Some(id)
                    && d.component == component
                    && d.field == field
                    && d.condition == crate::scripting::debugger::DataCondition::Changes
            })
            .map(|d| d.id)
    });
    let (icon, tip, color) = match existing {
        Some(_) => (
            "●",
            "Breaks when this field changes; click to remove",
            crate::gui::theme::ERROR,
        ),
        None => (
            "○",
            "Break when this field changes (at the script line that writes it)",
            crate::gui::theme::INFO,
        ),
    };
    let button = egui::Button::new(egui::RichText::new(icon).color(color))
        .small()
        .frame(false);
    if ui.add(button).on_hover_text(tip).clicked() {
        ctx.commands.push(SessionCommand::Runtime(match existing {
            Some(id) => RuntimeCommand::RemoveDataBreakpoint { id },
            None => RuntimeCommand::AddDataBreakpoint {
                entity: Some(id),
                watch: format!("{component}.{field} changes"),
            },
        }));
    }
}

/// Where a field was last written, while writes are tracked: click to see
/// the line.
fn last_writer(ui: &mut egui::Ui, ctx: &mut PanelCtx, id: u64, component: &str, field: &str) {
    let writer = ctx.snapshot.and_then(|s| {
        s.debug
            .writers
            .get(&(component.to_string(), field.to_string()))
            .filter(|_| s.debug.tracked == Some(id))
            .cloned()
    });
    match writer {
        Some(w) => {
            // Short enough for a narrow Inspector: the file's name, the
            // line and the frame; the whole path in the tip.
            let file = w.file.rsplit('/').next().unwrap_or(&w.file);
            if ui
                .link(format!("{file}:{} · f{}", w.line, w.frame))
                .on_hover_text(format!(
                    "{}:{} in frame {}, by {}; click to see the line",
                    w.file, w.line, w.frame, w.context
                ))
                .clicked()
            {
                *ctx.goto = Some((w.file.clone(), w.line));
            }
        }
        None => {
            ui.weak("—")
                .on_hover_text("Not written since tracking began");
        }
    }
}
