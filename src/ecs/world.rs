//! [`EcsWorld`]: the bevy `World` plus what scripts need on top of it —
//! stable integer ids, a registry of named components and field-level
//! access by name.
//!
//! Built-in components are typed bevy components. Each script component is
//! a bevy component registered at run time with its own `ComponentId`,
//! whose storage is a [`ScriptStore`], so bevy's archetypes serve both
//! kinds.

use std::alloc::Layout;
use std::collections::HashMap;

use bevy_ecs::component::{ComponentCloneBehavior, ComponentDescriptor, ComponentId, StorageType};
use bevy_ecs::entity::Entity;
use bevy_ecs::prelude::World;
use bevy_ecs::ptr::OwningPtr;
use bevy_ecs::query::{QueryBuilder, QueryState};

use super::components::{
    Builtin, Color, CompKey, CompKind, ComponentDef, EntityId, FieldDef, Name, Position, Record,
    Rotation, ScriptStore, Shape, ShapeKind, Slot, Velocity,
};
use crate::ecs::ScriptValue;

/// A numeric field of a component: its component and its index in the
/// component's block of numbers (see [`ComponentDef::numeric_offsets`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumField {
    /// The component.
    pub key: CompKey,
    /// Index in the numeric block.
    pub slot: usize,
}

/// A batch view's columns in place: `len` rows; row `r` of column `c` is
/// at `columns[c].0 + r * columns[c].1` (a stride in `f64`s), and its
/// entity's id at `ids + r`. See [`EcsWorld::direct_columns`].
#[derive(Debug, Clone)]
pub struct DirectColumns {
    /// Rows.
    pub len: usize,
    /// The rows' entity ids.
    pub ids: *const u64,
    /// Each field's first value and the distance between rows.
    pub columns: Vec<(*mut f64, usize)>,
}

/// Where one field's values sit in a storage table.
enum FieldAccess {
    /// A built-in component: the field of row `r` is at `base + r * stride`.
    Strided { base: *mut u8, stride: usize },
    /// A script component: row `r`'s block of numbers is behind `stores[r]`.
    Stores {
        stores: *mut ScriptStore,
        slot: usize,
    },
}

impl FieldAccess {
    /// # Safety
    /// The access must describe `len` valid rows.
    unsafe fn read_into(&self, len: usize, out: &mut Vec<f64>) {
        out.reserve(len);
        match *self {
            FieldAccess::Strided { base, stride } if !base.is_null() => {
                // SAFETY: row < len (caller); fields are f64s.
                out.extend(
                    (0..len).map(|row| unsafe {
                        (base.add(row * stride) as *const f64).read_unaligned()
                    }),
                );
            }
            FieldAccess::Stores { stores, slot } if !stores.is_null() => {
                // SAFETY: as above; `slot` is within the block (the def's
                // numeric offsets).
                out.extend((0..len).map(|row| {
                    let store: &ScriptStore = unsafe { &*stores.add(row) };
                    store.nums.get(slot).copied().unwrap_or(0.0)
                }));
            }
            _ => out.extend(std::iter::repeat_n(0.0, len)),
        }
    }

    /// # Safety
    /// As [`FieldAccess::read_into`], for `values.len()` rows, with the
    /// world borrowed mutably.
    unsafe fn write_from(&self, values: &[f64]) {
        match *self {
            FieldAccess::Strided { base, stride } if !base.is_null() => {
                for (row, v) in values.iter().enumerate() {
                    // SAFETY: as above.
                    unsafe { (base.add(row * stride) as *mut f64).write_unaligned(*v) };
                }
            }
            FieldAccess::Stores { stores, slot } if !stores.is_null() => {
                for (row, v) in values.iter().enumerate() {
                    // SAFETY: as above.
                    let store: &mut ScriptStore = unsafe { &mut *stores.add(row) };
                    if let Some(cell) = store.nums.get_mut(slot) {
                        *cell = *v;
                    }
                }
            }
            _ => {}
        }
    }
}

/// The world and its component registry.
pub struct EcsWorld {
    world: World,
    defs: Vec<ComponentDef>,
    by_name: HashMap<String, CompKey>,
    /// `entities[id]` is the bevy entity of script id `id` while it lives.
    entities: Vec<Option<Entity>>,
    live: usize,
    queries: HashMap<(Vec<CompKey>, Vec<CompKey>), QueryState<&'static EntityId>>,
}

/// Drops a [`ScriptStore`] stored by bevy.
///
/// # Safety
/// `ptr` must point to a valid `ScriptStore`, as for every component
/// registered by [`EcsWorld::declare`].
unsafe fn drop_store(ptr: OwningPtr<'_>) {
    // SAFETY: the caller guarantees the pointee is a ScriptStore.
    unsafe { ptr.drop_as::<ScriptStore>() }
}

impl Default for EcsWorld {
    fn default() -> Self {
        Self::new()
    }
}

impl EcsWorld {
    /// A world with the built-in components registered.
    pub fn new() -> EcsWorld {
        let mut world = World::new();
        world.register_component::<EntityId>();
        let mut this = EcsWorld {
            world,
            defs: Vec::new(),
            by_name: HashMap::new(),
            entities: vec![None],
            live: 0,
            queries: HashMap::new(),
        };
        for builtin in Builtin::ALL {
            let bevy_id = match builtin {
                Builtin::Name => this.world.register_component::<Name>(),
                Builtin::Position => this.world.register_component::<Position>(),
                Builtin::Velocity => this.world.register_component::<Velocity>(),
                Builtin::Rotation => this.world.register_component::<Rotation>(),
                Builtin::Color => this.world.register_component::<Color>(),
                Builtin::Shape => this.world.register_component::<Shape>(),
            };
            this.add_def(ComponentDef::new(
                builtin.name(),
                CompKind::Builtin(builtin),
                builtin.fields(),
                bevy_id,
                None,
            ));
        }
        this
    }

    fn add_def(&mut self, def: ComponentDef) -> CompKey {
        let key = CompKey(self.defs.len() as u32);
        self.by_name.insert(def.name.clone(), key);
        self.defs.push(def);
        key
    }

    /// The bevy world, read-only (for native systems and views).
    pub fn bevy(&self) -> &World {
        &self.world
    }

    /// The bevy world, for native systems (benchmarks, tests).
    pub fn bevy_mut(&mut self) -> &mut World {
        &mut self.world
    }

    // ----- registry --------------------------------------------------------

    /// Declares a script component, or checks a repeated declaration: the same
    /// fields (names and kinds) again is allowed and takes the new defaults.
    pub fn declare(
        &mut self,
        name: &str,
        fields: Vec<FieldDef>,
        script: &str,
    ) -> Result<CompKey, String> {
        if !is_valid_name(name) {
            return Err(format!(
                "ecs.component: {name:?} is not a valid component name (letters, digits and _, not starting with a digit)"
            ));
        }
        if let Some(&key) = self.by_name.get(name) {
            let def = &mut self.defs[key.0 as usize];
            if let CompKind::Builtin(_) = def.kind {
                return Err(format!(
                    "ecs.component: {name} is a built-in component and cannot be redeclared"
                ));
            }
            let same_shape = def.fields.len() == fields.len()
                && def
                    .fields
                    .iter()
                    .all(|f| fields.iter().any(|g| g.name == f.name && g.kind == f.kind));
            if !same_shape {
                let describe = |fs: &[FieldDef]| {
                    fs.iter()
                        .map(|f| format!("{}: {}", f.name, f.kind.name()))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                return Err(format!(
                    "ecs.component: {name} is already declared (by {}) with fields {{{}}}; this declaration has {{{}}}",
                    def.declared_by.as_deref().unwrap_or("?"),
                    describe(&def.fields),
                    describe(&fields)
                ));
            }
            // Keep the stored field order (records depend on it); take the
            // new defaults.
            for f in &mut def.fields {
                if let Some(g) = fields.iter().find(|g| g.name == f.name) {
                    f.default = g.default.clone();
                }
            }
            return Ok(key);
        }
        // SAFETY: the layout and drop function are those of `ScriptStore`,
        // and this id is only ever used with `ScriptStore` values (see
        // `insert`).
        let descriptor = unsafe {
            ComponentDescriptor::new_with_layout(
                format!("script::{name}"),
                StorageType::Table,
                Layout::new::<ScriptStore>(),
                Some(drop_store),
                true,
                false,
                ComponentCloneBehavior::Default,
                None,
            )
        };
        let bevy_id = self.world.register_component_with_descriptor(descriptor);
        Ok(self.add_def(ComponentDef::new(
            name,
            CompKind::Script,
            fields,
            bevy_id,
            Some(script.to_string()),
        )))
    }

    /// The key of a component name.
    pub fn key(&self, name: &str) -> Option<CompKey> {
        self.by_name.get(name).copied()
    }

    /// The definition of a key.
    ///
    /// # Panics
    /// If `key` did not come from this world.
    pub fn def(&self, key: CompKey) -> &ComponentDef {
        &self.defs[key.0 as usize]
    }

    /// Every component definition, built-ins first.
    pub fn defs(&self) -> &[ComponentDef] {
        &self.defs
    }

    // ----- entities --------------------------------------------------------

    /// The id the next spawn gets.
    pub fn next_id(&self) -> u64 {
        self.entities.len() as u64
    }

    /// Takes the next id for a spawn that is applied now or later.
    pub fn reserve_id(&mut self) -> u64 {
        self.entities.push(None);
        self.entities.len() as u64 - 1
    }

    /// Creates the entity of a reserved id.
    pub fn spawn_with_id(&mut self, id: u64, parts: Vec<(CompKey, Record)>) {
        let entity = self.world.spawn(EntityId(id)).id();
        if let Some(slot) = self.entities.get_mut(id as usize) {
            *slot = Some(entity);
        }
        self.live += 1;
        for (key, record) in parts {
            self.insert(id, key, record);
        }
    }

    /// Removes an entity; false when it did not exist.
    pub fn despawn(&mut self, id: u64) -> bool {
        let Some(entity) = self.entity(id) else {
            return false;
        };
        self.entities[id as usize] = None;
        self.live -= 1;
        self.world.despawn(entity)
    }

    /// The bevy entity of an id, while it lives.
    pub fn entity(&self, id: u64) -> Option<Entity> {
        self.entities.get(id as usize).copied().flatten()
    }

    /// `ecs.exists`.
    pub fn exists(&self, id: u64) -> bool {
        self.entity(id).is_some()
    }

    /// Number of live entities.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Component instances in the world: every component of every entity
    /// (the id bevy keeps for each entity not counted).
    pub fn component_count(&self) -> usize {
        self.world
            .archetypes()
            .iter()
            .map(|a| a.len() as usize * a.component_count().saturating_sub(1))
            .sum()
    }

    /// True when no entity lives.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Live ids in order.
    pub fn ids(&self) -> impl Iterator<Item = u64> + '_ {
        self.entities
            .iter()
            .enumerate()
            .filter_map(|(id, e)| e.map(|_| id as u64))
    }

    /// The components an entity has, in registry order.
    pub fn components_of(&self, id: u64) -> Vec<CompKey> {
        let Some(entity) = self.entity(id) else {
            return Vec::new();
        };
        let Ok(entity_ref) = self.world.get_entity(entity) else {
            return Vec::new();
        };
        let archetype = entity_ref.archetype();
        (0..self.defs.len() as u32)
            .map(CompKey)
            .filter(|k| archetype.contains(self.def(*k).bevy_id))
            .collect()
    }

    /// Whether an entity has a component.
    pub fn has(&self, id: u64, key: CompKey) -> bool {
        let Some(entity) = self.entity(id) else {
            return false;
        };
        self.world
            .get_entity(entity)
            .map(|e| e.contains_id(self.def(key).bevy_id))
            .unwrap_or(false)
    }

    // ----- component values -------------------------------------------------

    /// A copy of a component as a record.
    pub fn read(&self, id: u64, key: CompKey) -> Option<Record> {
        let entity = self.entity(id)?;
        let def = self.def(key);
        let w = &self.world;
        let f = |v: f64| ScriptValue::Float(v);
        Some(match def.kind {
            CompKind::Builtin(b) => Record(match b {
                Builtin::Name => vec![ScriptValue::Str(w.get::<Name>(entity)?.0.clone())],
                Builtin::Position => {
                    let p = w.get::<Position>(entity)?;
                    vec![f(p.x), f(p.y)]
                }
                Builtin::Velocity => {
                    let v = w.get::<Velocity>(entity)?;
                    vec![f(v.x), f(v.y)]
                }
                Builtin::Rotation => vec![f(w.get::<Rotation>(entity)?.angle)],
                Builtin::Color => {
                    let c = w.get::<Color>(entity)?;
                    vec![f(c.r), f(c.g), f(c.b), f(c.a)]
                }
                Builtin::Shape => {
                    let s = w.get::<Shape>(entity)?;
                    vec![ScriptValue::Str(s.kind.name().into()), f(s.size)]
                }
            }),
            CompKind::Script => def.record_of_store(self.script_store(entity, def.bevy_id)?),
        })
    }

    fn script_store(&self, entity: Entity, bevy_id: ComponentId) -> Option<&ScriptStore> {
        let ptr = self.world.get_by_id(entity, bevy_id)?;
        // SAFETY: script component ids always store a `ScriptStore` (see
        // `declare`).
        Some(unsafe { ptr.deref::<ScriptStore>() })
    }

    fn script_store_mut(
        &mut self,
        entity: Entity,
        bevy_id: ComponentId,
    ) -> Option<&mut ScriptStore> {
        let ptr = self.world.get_mut_by_id(entity, bevy_id)?;
        // SAFETY: script component ids always store a `ScriptStore` (see
        // `declare`).
        Some(unsafe { ptr.into_inner().deref_mut::<ScriptStore>() })
    }

    /// Address of a component's block of numeric fields (see
    /// [`ComponentDef::numeric_offsets`]), or null when it has none or the
    /// entity lacks it.
    ///
    /// The address stays valid until the next structural change to the
    /// entity or its archetype (spawn, despawn, adding or removing a
    /// component); script proxies are invalidated at exactly those points
    /// (see `HostState::proxy_generation`).
    pub fn numeric_ptr(&mut self, id: u64, key: CompKey) -> *mut f64 {
        let null = std::ptr::null_mut();
        let Some(entity) = self.entity(id) else {
            return null;
        };
        let def = &self.defs[key.0 as usize];
        let w = &mut self.world;
        match def.kind {
            CompKind::Builtin(b) => match b {
                Builtin::Name => null,
                Builtin::Position => w
                    .get_mut::<Position>(entity)
                    .map_or(null, |mut c| &mut c.x as *mut f64),
                Builtin::Velocity => w
                    .get_mut::<Velocity>(entity)
                    .map_or(null, |mut c| &mut c.x as *mut f64),
                Builtin::Rotation => w
                    .get_mut::<Rotation>(entity)
                    .map_or(null, |mut c| &mut c.angle as *mut f64),
                Builtin::Color => w
                    .get_mut::<Color>(entity)
                    .map_or(null, |mut c| &mut c.r as *mut f64),
                Builtin::Shape => w
                    .get_mut::<Shape>(entity)
                    .map_or(null, |mut c| &mut c.size as *mut f64),
            },
            CompKind::Script => {
                let bevy_id = def.bevy_id;
                match self.script_store_mut(entity, bevy_id) {
                    Some(store) if !store.nums.is_empty() => store.nums.as_mut_ptr(),
                    _ => null,
                }
            }
        }
    }

    /// One field of a component, by index.
    pub fn read_field(&self, id: u64, key: CompKey, index: usize) -> Option<ScriptValue> {
        let entity = self.entity(id)?;
        let def = self.def(key);
        let w = &self.world;
        let f = |v: f64| Some(ScriptValue::Float(v));
        match def.kind {
            CompKind::Builtin(b) => match (b, index) {
                (Builtin::Name, _) => Some(ScriptValue::Str(w.get::<Name>(entity)?.0.clone())),
                (Builtin::Position, 0) => f(w.get::<Position>(entity)?.x),
                (Builtin::Position, _) => f(w.get::<Position>(entity)?.y),
                (Builtin::Velocity, 0) => f(w.get::<Velocity>(entity)?.x),
                (Builtin::Velocity, _) => f(w.get::<Velocity>(entity)?.y),
                (Builtin::Rotation, _) => f(w.get::<Rotation>(entity)?.angle),
                (Builtin::Color, i) => {
                    let c = w.get::<Color>(entity)?;
                    f([c.r, c.g, c.b, c.a][i.min(3)])
                }
                (Builtin::Shape, 0) => Some(ScriptValue::Str(
                    w.get::<Shape>(entity)?.kind.name().to_string(),
                )),
                (Builtin::Shape, _) => f(w.get::<Shape>(entity)?.size),
            },
            CompKind::Script => def.field_of_store(self.script_store(entity, def.bevy_id)?, index),
        }
    }

    /// Writes one field of a component the entity has; `value` must already
    /// be checked with [`ComponentDef::coerce_field`]. False when the entity
    /// or component is missing.
    pub fn write_field(&mut self, id: u64, key: CompKey, index: usize, value: ScriptValue) -> bool {
        let Some(entity) = self.entity(id) else {
            return false;
        };
        let def = &self.defs[key.0 as usize];
        let num = value.as_f64().unwrap_or(0.0);
        let w = &mut self.world;
        match def.kind {
            CompKind::Builtin(b) => {
                macro_rules! field {
                    ($t:ty, $($i:pat => $f:ident),+) => {{
                        let Some(mut c) = w.get_mut::<$t>(entity) else { return false };
                        match index { $($i => c.$f = num,)+ }
                        true
                    }};
                }
                match b {
                    Builtin::Name => {
                        let Some(mut c) = w.get_mut::<Name>(entity) else {
                            return false;
                        };
                        if let ScriptValue::Str(s) = value {
                            c.0 = s;
                        }
                        true
                    }
                    Builtin::Position => field!(Position, 0 => x, _ => y),
                    Builtin::Velocity => field!(Velocity, 0 => x, _ => y),
                    Builtin::Rotation => field!(Rotation, _ => angle),
                    Builtin::Color => field!(Color, 0 => r, 1 => g, 2 => b, _ => a),
                    Builtin::Shape => {
                        let Some(mut c) = w.get_mut::<Shape>(entity) else {
                            return false;
                        };
                        match (index, &value) {
                            (0, ScriptValue::Str(s)) => {
                                c.kind = ShapeKind::parse(s).unwrap_or_default();
                            }
                            _ => c.size = num,
                        }
                        true
                    }
                }
            }
            CompKind::Script => {
                let (bevy_id, slot) = (def.bevy_id, def.slots[index]);
                match self.script_store_mut(entity, bevy_id) {
                    Some(store) => {
                        match slot {
                            Slot::Num(i) => store.nums[i] = num,
                            Slot::Other(i) => store.rest[i] = value,
                        }
                        true
                    }
                    None => false,
                }
            }
        }
    }

    /// Inserts or replaces a component from a checked record.
    pub fn insert(&mut self, id: u64, key: CompKey, record: Record) {
        let Some(entity) = self.entity(id) else {
            return;
        };
        let def = &self.defs[key.0 as usize];
        let n = |i: usize| record.0.get(i).and_then(ScriptValue::as_f64).unwrap_or(0.0);
        let mut e = self.world.entity_mut(entity);
        match def.kind {
            CompKind::Builtin(b) => match b {
                Builtin::Name => {
                    let name = record.0.first().and_then(|v| v.as_str()).unwrap_or("");
                    e.insert(Name(name.to_string()));
                }
                Builtin::Position => {
                    e.insert(Position { x: n(0), y: n(1) });
                }
                Builtin::Velocity => {
                    e.insert(Velocity { x: n(0), y: n(1) });
                }
                Builtin::Rotation => {
                    e.insert(Rotation { angle: n(0) });
                }
                Builtin::Color => {
                    e.insert(Color {
                        r: n(0),
                        g: n(1),
                        b: n(2),
                        a: n(3),
                    });
                }
                Builtin::Shape => {
                    let kind = record
                        .0
                        .first()
                        .and_then(|v| v.as_str())
                        .and_then(ShapeKind::parse)
                        .unwrap_or_default();
                    e.insert(Shape { size: n(1), kind });
                }
            },
            CompKind::Script => {
                let bevy_id = def.bevy_id;
                let store = def.store_of(record);
                if let Ok(mut existing) = e.get_mut_by_id(bevy_id) {
                    // Replace in place: proxies point into `nums`, whose
                    // length is fixed by the declaration.
                    // SAFETY: script component ids store `ScriptStore`s.
                    let existing = unsafe { existing.as_mut().deref_mut::<ScriptStore>() };
                    existing.nums.copy_from_slice(&store.nums);
                    existing.rest = store.rest;
                    return;
                }
                OwningPtr::make(store, |ptr| {
                    // SAFETY: `bevy_id` belongs to this world and stores
                    // `ScriptStore`s; `ptr` owns a `ScriptStore`.
                    unsafe {
                        e.insert_by_id(bevy_id, ptr);
                    }
                });
            }
        }
    }

    /// Removes a component; false when it was not there.
    pub fn remove(&mut self, id: u64, key: CompKey) -> bool {
        if !self.has(id, key) {
            return false;
        }
        let Some(entity) = self.entity(id) else {
            return false;
        };
        let bevy_id = self.def(key).bevy_id;
        self.world.entity_mut(entity).remove_by_id(bevy_id);
        true
    }

    // ----- queries -----------------------------------------------------------

    /// Ids of the entities that have every `with` component and none of the
    /// `without` ones, in id order.
    pub fn query(&mut self, with: &[CompKey], without: &[CompKey]) -> Vec<u64> {
        self.prepare_query(with, without);
        let Some(state) = self.queries.get_mut(&(with.to_vec(), without.to_vec())) else {
            return Vec::new();
        };
        let mut ids: Vec<u64> = state.iter(&self.world).map(|id| id.0).collect();
        ids.sort_unstable();
        ids
    }

    /// Builds (once) and refreshes the cached query state of a query.
    fn prepare_query(&mut self, with: &[CompKey], without: &[CompKey]) {
        let cache_key = (with.to_vec(), without.to_vec());
        if !self.queries.contains_key(&cache_key) {
            let mut builder = QueryBuilder::<&EntityId>::new(&mut self.world);
            for key in with {
                builder.with_id(self.defs[key.0 as usize].bevy_id);
            }
            for key in without {
                builder.without_id(self.defs[key.0 as usize].bevy_id);
            }
            let state = builder.build();
            self.queries.insert(cache_key.clone(), state);
        }
        if let Some(state) = self.queries.get_mut(&cache_key) {
            state.update_archetypes(&self.world);
        }
    }

    // ----- batch columns -----------------------------------------------------

    /// Calls `visit(ids, fields)` for each storage table the query matches,
    /// in storage order: the table's entity ids and, per requested field,
    /// where its value sits in the table's first row and the distance
    /// between rows, or for script components the row's block of numbers.
    fn for_each_table(
        &mut self,
        with: &[CompKey],
        without: &[CompKey],
        fields: &[NumField],
        mut visit: impl FnMut(&[EntityId], &[FieldAccess]),
    ) {
        self.prepare_query(with, without);
        let state = &self.queries[&(with.to_vec(), without.to_vec())];
        let Some(id_component) = self.world.component_id::<EntityId>() else {
            return;
        };
        let tables = &self.world.storages().tables;
        let mut access = Vec::with_capacity(fields.len());
        for table_id in state.matched_tables() {
            let Some(table) = tables.get(table_id) else {
                continue;
            };
            let len = table.entity_count() as usize;
            if len == 0 {
                continue;
            }
            // SAFETY: every entity has an `EntityId` (spawn_with_id), and
            // the slice covers the table's `len` rows.
            let Some(ids) = (unsafe { table.get_data_slice_for::<EntityId>(id_component) }) else {
                continue;
            };
            // SAFETY: `UnsafeCell<EntityId>` has the layout of `EntityId`.
            let ids: &[EntityId] =
                unsafe { std::slice::from_raw_parts(ids.as_ptr() as *const EntityId, len) };
            access.clear();
            for field in fields {
                let def = &self.defs[field.key.0 as usize];
                let column = table.get_column(def.bevy_id);
                // SAFETY (each arm): the column stores the component's own
                // type (bevy registered it for that id), `len` rows long.
                let strided = |size: usize, base: Option<*mut u8>| FieldAccess::Strided {
                    base: base.map_or(std::ptr::null_mut(), |b| unsafe {
                        b.add(field.slot * std::mem::size_of::<f64>())
                    }),
                    stride: size,
                };
                let base_of = |size: usize| -> Option<*mut u8> {
                    column
                        .map(|c| unsafe { c.get_data_slice::<u8>(len * size).as_ptr() as *mut u8 })
                };
                access.push(match def.kind {
                    CompKind::Builtin(b) => {
                        let size = match b {
                            Builtin::Position => std::mem::size_of::<Position>(),
                            Builtin::Velocity => std::mem::size_of::<Velocity>(),
                            Builtin::Rotation => std::mem::size_of::<Rotation>(),
                            Builtin::Color => std::mem::size_of::<Color>(),
                            Builtin::Shape => std::mem::size_of::<Shape>(),
                            Builtin::Name => 0,
                        };
                        strided(size, base_of(size))
                    }
                    CompKind::Script => FieldAccess::Stores {
                        stores: column.map_or(std::ptr::null_mut(), |c| unsafe {
                            c.get_data_slice::<ScriptStore>(len).as_ptr() as *mut ScriptStore
                        }),
                        slot: field.slot,
                    },
                });
            }
            visit(ids, &access);
        }
    }

    /// Copies the numeric `fields` of every entity the query matches into
    /// `columns` (one per field) and their ids into `ids`, in storage order
    /// (what a batch view holds).
    pub fn gather(
        &mut self,
        with: &[CompKey],
        without: &[CompKey],
        fields: &[NumField],
        ids: &mut Vec<f64>,
        columns: &mut [Vec<f64>],
    ) {
        ids.clear();
        for column in columns.iter_mut() {
            column.clear();
        }
        self.for_each_table(with, without, fields, |table_ids, access| {
            ids.extend(table_ids.iter().map(|id| id.0 as f64));
            for (column, field) in columns.iter_mut().zip(access) {
                // SAFETY: `field` describes `table_ids.len()` valid rows.
                unsafe { field.read_into(table_ids.len(), column) };
            }
        });
    }

    /// The numeric `fields` of the entities the query matches as strided
    /// runs of `f64` inside the world's own storage, when they can be
    /// handed out without a copy: every match sits in one storage table and
    /// every field is a built-in component's. The pointers stay valid until
    /// the next structural change (which batch systems defer).
    pub fn direct_columns(
        &mut self,
        with: &[CompKey],
        without: &[CompKey],
        fields: &[NumField],
    ) -> Option<DirectColumns> {
        let mut found: Option<DirectColumns> = None;
        let mut usable = true;
        self.for_each_table(with, without, fields, |table_ids, access| {
            if found.is_some() {
                usable = false;
                return;
            }
            let mut columns = Vec::with_capacity(access.len());
            for field in access {
                match *field {
                    FieldAccess::Strided { base, stride }
                        if !base.is_null()
                            && stride % std::mem::size_of::<f64>() == 0
                            && (base as usize) % std::mem::align_of::<f64>() == 0 =>
                    {
                        columns.push((base as *mut f64, stride / std::mem::size_of::<f64>()));
                    }
                    _ => usable = false,
                }
            }
            found = Some(DirectColumns {
                len: table_ids.len(),
                ids: table_ids.as_ptr() as *const u64,
                columns,
            });
        });
        if !usable {
            return None;
        }
        Some(
            found.unwrap_or(DirectColumns {
                len: 0,
                ids: std::ptr::NonNull::<u64>::dangling().as_ptr(),
                columns: fields
                    .iter()
                    .map(|_| (std::ptr::NonNull::<f64>::dangling().as_ptr(), 1))
                    .collect(),
            }),
        )
    }

    /// Writes `columns` back (those with `write[i]` set), in the order
    /// [`EcsWorld::gather`] read them. Call before any structural change.
    pub fn scatter(
        &mut self,
        with: &[CompKey],
        without: &[CompKey],
        fields: &[NumField],
        columns: &[Vec<f64>],
        write: &[bool],
    ) {
        let mut row = 0;
        self.for_each_table(with, without, fields, |table_ids, access| {
            let len = table_ids.len();
            for ((column, field), &write) in columns.iter().zip(access).zip(write) {
                if write && let Some(values) = column.get(row..row + len) {
                    // SAFETY: as in `gather`; the world is borrowed mutably.
                    unsafe { field.write_from(values) };
                }
            }
            row += len;
        });
    }
}

/// Component names follow identifier rules so they work as Lua and Python
/// attribute names.
fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ecs::components::{FieldKind, fields_from_defaults};
    use std::collections::BTreeMap;

    fn health_fields() -> Vec<FieldDef> {
        let mut m = BTreeMap::new();
        m.insert("hp".to_string(), ScriptValue::Int(100));
        fields_from_defaults("Health", ScriptValue::Map(m)).unwrap()
    }

    #[test]
    fn script_components_round_trip() {
        let mut w = EcsWorld::new();
        let health = w.declare("Health", health_fields(), "a.lua").unwrap();
        let pos = w.key("Position").unwrap();
        let id = w.reserve_id();
        w.spawn_with_id(
            id,
            vec![
                (health, Record(vec![ScriptValue::Int(7)])),
                (pos, Record(vec![1.0.into(), 2.0.into()])),
            ],
        );
        assert_eq!(w.read(id, health).unwrap().0, vec![ScriptValue::Int(7)]);
        assert!(w.write_field(id, health, 0, ScriptValue::Int(3)));
        assert_eq!(w.read_field(id, health, 0), Some(ScriptValue::Int(3)));
        assert!(w.write_field(id, pos, 1, ScriptValue::Float(9.0)));
        assert_eq!(w.read_field(id, pos, 1), Some(ScriptValue::Float(9.0)));
        assert_eq!(w.components_of(id), vec![pos, health]);
        assert!(w.remove(id, health));
        assert!(!w.has(id, health));
        assert!(w.despawn(id));
        assert!(!w.exists(id));
        assert_eq!(w.len(), 0);
    }

    #[test]
    fn redeclaring_checks_fields() {
        let mut w = EcsWorld::new();
        let a = w.declare("Health", health_fields(), "a.lua").unwrap();
        assert_eq!(w.declare("Health", health_fields(), "b.py").unwrap(), a);
        let other = vec![FieldDef::new("hp", FieldKind::Str, "x".into())];
        assert!(w.declare("Health", other, "c.lua").is_err());
        assert!(w.declare("Position", vec![], "c.lua").is_err());
        assert!(w.declare("9lives", vec![], "c.lua").is_err());
    }

    #[test]
    fn queries_are_in_id_order_and_honour_without() {
        let mut w = EcsWorld::new();
        let pos = w.key("Position").unwrap();
        let vel = w.key("Velocity").unwrap();
        let p = Record(vec![0.0.into(), 0.0.into()]);
        let mut ids = Vec::new();
        for i in 0..6 {
            let id = w.reserve_id();
            let mut parts = vec![(pos, p.clone())];
            if i % 2 == 0 {
                parts.push((vel, p.clone()));
            }
            w.spawn_with_id(id, parts);
            ids.push(id);
        }
        assert_eq!(w.query(&[pos], &[]), ids);
        assert_eq!(w.query(&[pos, vel], &[]), vec![ids[0], ids[2], ids[4]]);
        assert_eq!(w.query(&[pos], &[vel]), vec![ids[1], ids[3], ids[5]]);
    }
}
