//! Read-only views of the runtime for user interfaces: plain data copied
//! out between frames, so a panel never holds a borrow of the world.

use std::sync::Arc;

use super::components::{
    Builtin, Color, CompKey, CompKind, EntityId, FieldKind, Name, Position, Rotation, Shape,
    ShapeKind,
};
use super::world::EcsWorld;
use super::{Runtime, ScriptStatus};
use crate::project::Language;
use crate::scripting::ScriptValue;

/// One entity as the scene and the entity list draw it.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityRow {
    /// Entity id.
    pub id: u64,
    /// `Name`, if it has one.
    pub name: Option<String>,
    /// `Position`, if it has one.
    pub position: Option<[f64; 2]>,
    /// `Rotation.angle`, 0 without one.
    pub rotation: f64,
    /// `Color` as RGBA, if it has one.
    pub color: Option<[f32; 4]>,
    /// `Shape`, if it has one.
    pub shape: Option<(ShapeKind, f64)>,
    /// Every component it has (index into [`WorldView::components`]).
    pub components: Arc<[CompKey]>,
}

impl EntityRow {
    /// The label lists show: the name, or `#id`.
    pub fn label(&self) -> String {
        match &self.name {
            Some(name) if !name.is_empty() => name.clone(),
            _ => format!("#{}", self.id),
        }
    }
}

/// A component type, for lists and the inspector's "add" menu.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentType {
    /// Name scripts use.
    pub name: String,
    /// Defined in Rust.
    pub builtin: bool,
    /// Field names and kinds.
    pub fields: Vec<(String, FieldKind)>,
    /// The script that declared it.
    pub declared_by: Option<String>,
}

/// A script as lists show it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptView {
    /// Manifest path.
    pub path: String,
    /// Its language.
    pub language: Language,
    /// Running, failed or skipped.
    pub status: ScriptStatus,
    /// Its own heap, where the language has one per script.
    pub memory_bytes: Option<usize>,
    /// The running version's number in the history (0 when none).
    pub version: u32,
}

/// Everything the panels show about the world at one moment.
#[derive(Debug, Clone, Default)]
pub struct WorldView {
    /// Frames run.
    pub frame: u64,
    /// Simulated time.
    pub time: f64,
    /// The fixed step.
    pub fixed_dt: f64,
    /// Every entity, in id order.
    pub entities: Arc<Vec<EntityRow>>,
    /// Every component type; `CompKey` indexes this.
    pub components: Arc<Vec<ComponentType>>,
    /// The project's scripts.
    pub scripts: Vec<ScriptView>,
    /// Wall time of the last frame, milliseconds.
    pub last_frame_ms: f64,
}

/// One component of the inspected entity.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentValueView {
    /// Component name.
    pub name: String,
    /// Defined in Rust.
    pub builtin: bool,
    /// `Name` (its one field is the whole value).
    pub is_name: bool,
    /// Field name, kind and current value.
    pub fields: Vec<(String, FieldKind, ScriptValue)>,
}

/// The inspected entity.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityDetail {
    /// Entity id.
    pub id: u64,
    /// Its components, built-ins first, then script ones by declaration.
    pub components: Vec<ComponentValueView>,
}

/// All entity rows of a world, in id order.
pub fn entity_rows(world: &EcsWorld) -> Vec<EntityRow> {
    let w = world.bevy();
    let mut rows = Vec::with_capacity(world.len());
    for archetype in w.archetypes().iter() {
        if archetype.is_empty() {
            continue;
        }
        let keys: Arc<[CompKey]> = world
            .defs()
            .iter()
            .enumerate()
            .filter(|(_, d)| archetype.contains(d.bevy_id))
            .map(|(i, _)| CompKey(i as u32))
            .collect();
        for entity in archetype.entities() {
            let e = entity.id();
            let Some(id) = w.get::<EntityId>(e) else {
                continue;
            };
            rows.push(EntityRow {
                id: id.0,
                name: w.get::<Name>(e).map(|n| n.0.clone()),
                position: w.get::<Position>(e).map(|p| [p.x, p.y]),
                rotation: w.get::<Rotation>(e).map(|r| r.angle).unwrap_or(0.0),
                color: w
                    .get::<Color>(e)
                    .map(|c| [c.r as f32, c.g as f32, c.b as f32, c.a as f32]),
                shape: w.get::<Shape>(e).map(|s| (s.kind, s.size)),
                components: Arc::clone(&keys),
            });
        }
    }
    rows.sort_unstable_by_key(|r| r.id);
    rows
}

/// Every component type of a world.
pub fn component_types(world: &EcsWorld) -> Vec<ComponentType> {
    world
        .defs()
        .iter()
        .map(|d| ComponentType {
            name: d.name.clone(),
            builtin: matches!(d.kind, CompKind::Builtin(_)),
            fields: d.fields.iter().map(|f| (f.name.clone(), f.kind)).collect(),
            declared_by: d.declared_by.clone(),
        })
        .collect()
}

/// One entity's components and values.
pub fn entity_detail(world: &EcsWorld, id: u64) -> Option<EntityDetail> {
    if !world.exists(id) {
        return None;
    }
    let components = world
        .components_of(id)
        .into_iter()
        .filter_map(|key| {
            let def = world.def(key);
            let record = world.read(id, key)?;
            Some(ComponentValueView {
                name: def.name.clone(),
                builtin: matches!(def.kind, CompKind::Builtin(_)),
                is_name: def.kind == CompKind::Builtin(Builtin::Name),
                fields: def
                    .fields
                    .iter()
                    .zip(record.0)
                    .map(|(f, v)| (f.name.clone(), f.kind, v))
                    .collect(),
            })
        })
        .collect();
    Some(EntityDetail { id, components })
}

impl Runtime {
    /// A view of the whole world and the scripts.
    pub fn view(&self) -> WorldView {
        let host = self.host.borrow();
        WorldView {
            frame: host.frame(),
            time: host.time(),
            fixed_dt: host.dt(),
            entities: Arc::new(entity_rows(&host.world)),
            components: Arc::new(component_types(&host.world)),
            scripts: self
                .scripts
                .iter()
                .map(|s| ScriptView {
                    path: s.entry.path.clone(),
                    language: s.entry.language,
                    status: s.status.clone(),
                    memory_bytes: s.backend().and_then(|b| b.memory_bytes()),
                    version: s.version,
                })
                .collect(),
            last_frame_ms: self.last_frame_time.as_secs_f64() * 1000.0,
        }
    }

    /// The inspector's view of one entity.
    pub fn entity_detail(&self, id: u64) -> Option<EntityDetail> {
        entity_detail(&self.host.borrow().world, id)
    }

    /// The world dump text (SCRIPT_API §4).
    pub fn dump_world(&self) -> String {
        let host = self.host.borrow();
        super::dump::world_json(&host.world, host.frame(), host.time())
    }
}
