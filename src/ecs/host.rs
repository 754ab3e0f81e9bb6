//! The `ecs` API, implemented once (SCRIPT_API §3).
//!
//! Every language binding converts its arguments to [`ScriptValue`]s and
//! calls these methods, so defaults, validation, deferral of structural
//! changes and event order are the same in Lua and Python. Errors come back
//! as [`ApiError`] messages that the binding raises in the script, with the
//! script's own file and line.

use std::cell::Cell;

use crate::ecs::ScriptValue;
use crate::ecs::components::{CompKey, Record, fields_from_defaults};
use crate::ecs::coroutines::{Coroutines, Ending, WaitRequest};
use crate::ecs::events::{EventKind, RuntimeEvent};
use crate::ecs::random::DeterministicRng;
use crate::ecs::world::EcsWorld;

/// Position of a script in the manifest; scripts run in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ScriptId(pub u32);

/// A function kept by a language backend (its registry index), handed to the
/// host so the scheduler can ask the backend to call it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FnHandle(pub u32);

/// An API call that cannot be done; the binding raises it in the script.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct ApiError(pub String);

impl From<String> for ApiError {
    fn from(s: String) -> Self {
        ApiError(s)
    }
}

impl From<crate::ecs::value::ValueError> for ApiError {
    fn from(e: crate::ecs::value::ValueError) -> Self {
        ApiError(e.0)
    }
}

/// Result of an API call.
pub type ApiResult<T> = Result<T, ApiError>;

/// Which entities a system or query visits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QuerySpec {
    /// Components an entity must have; also what the callback receives.
    pub with: Vec<CompKey>,
    /// Components an entity must not have.
    pub without: Vec<CompKey>,
}

/// A registered system.
#[derive(Debug, Clone)]
pub struct SystemEntry {
    /// The script that registered it.
    pub script: ScriptId,
    /// Registration sequence, for ordering within a script.
    pub seq: u64,
    /// The name given to `ecs.system`.
    pub name: String,
    /// `None` for the `fn(dt)` form.
    pub query: Option<QuerySpec>,
    /// The backend's function.
    pub handle: FnHandle,
    /// False once it failed; a reload registers it again.
    pub enabled: bool,
    /// A batch system (`ecs.batch_system`): one call over arrays.
    pub batch: Option<std::sync::Arc<crate::ecs::batch::BatchLayout>>,
    /// What it declared it touches (`reads`/`writes`), if it did.
    pub access: Option<Access>,
}

/// The components a system declared it touches (SCRIPT_API §5). Its
/// query's components count as written unless listed under `reads`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Access {
    /// Components it only reads.
    pub reads: Vec<CompKey>,
    /// Components it may change (declared `writes`, and its query's
    /// components not under `reads`).
    pub writes: Vec<CompKey>,
}

impl Access {
    /// Whether the system may read `key`.
    pub fn reads(&self, key: CompKey) -> bool {
        self.reads.contains(&key) || self.writes.contains(&key)
    }

    /// Whether the system may change `key`.
    pub fn writes(&self, key: CompKey) -> bool {
        self.writes.contains(&key)
    }
}

/// A registered event handler.
#[derive(Debug, Clone)]
pub struct HandlerEntry {
    /// The script that registered it.
    pub script: ScriptId,
    /// Registration sequence.
    pub seq: u64,
    /// Event name.
    pub event: String,
    /// The backend's function.
    pub handle: FnHandle,
    /// False once it failed.
    pub enabled: bool,
}

/// A script's systems, handlers and coroutines, set aside during a reload.
#[derive(Debug, Default)]
pub struct Registrations {
    systems: Vec<SystemEntry>,
    handlers: Vec<HandlerEntry>,
    coroutines: Vec<crate::ecs::coroutines::Coroutine>,
}

/// A system that declared its access, while it runs.
#[derive(Debug)]
struct Running {
    thread: std::thread::ThreadId,
    name: String,
    access: Access,
    /// Set while it runs together with other systems: what it does that
    /// others could see in a different order is kept here, to be applied
    /// in registration order.
    sink: Option<Sink>,
}

/// What one system of a group did that is applied or written in
/// registration order once the group is done (SCRIPT_API §5).
#[derive(Debug, Default)]
pub struct Sink {
    deferred: Vec<DeferredOp>,
    bus: Vec<(String, ScriptValue)>,
    out: Vec<RuntimeEvent>,
    /// What its `ecs.query` loops visited.
    pub query_use: QueryUse,
}

#[derive(Debug)]
enum DeferredOp {
    Spawn {
        id: u64,
        parts: Vec<(CompKey, Record)>,
    },
    Despawn {
        id: u64,
    },
    Insert {
        id: u64,
        key: CompKey,
        record: Record,
    },
    Remove {
        id: u64,
        key: CompKey,
    },
}

/// Everything scripts can reach through `ecs`: the world, the clock, the
/// random generator, the event bus, the system and handler lists and the
/// output event stream. Shared by the runtime and its backends as a
/// [`SharedHost`]; never borrowed across a call into script code.
pub struct HostState {
    /// The ECS world.
    pub world: EcsWorld,
    /// The systems running now that declared their access, one per
    /// thread running one: what each may touch, and where what it does
    /// waits when it runs together with others.
    running: Vec<Running>,
    /// What scripts' `ecs.query` loops visited since last taken.
    query_use: QueryUse,
    frame: u64,
    fixed_dt: f64,
    seed: u64,
    /// One `ecs.random` stream per script (by [`ScriptId`]), so what one
    /// script draws does not depend on when other scripts draw.
    rngs: Vec<DeterministicRng>,
    bus: Vec<(String, ScriptValue)>,
    defer_depth: u32,
    deferred: Vec<DeferredOp>,
    /// Bumped whenever a deferral stretch ends; script proxies remember the
    /// value they were made under and refuse to work once it changed, since
    /// storage may move after that point. Boxed so its address is stable
    /// for the Lua side, which reads it directly.
    proxy_generation: Box<Cell<u32>>,
    /// Pending spawns' ids, so `set` on them is queued rather than refused.
    pending_spawns: Vec<u64>,
    systems: Vec<SystemEntry>,
    handlers: Vec<HandlerEntry>,
    seq: u64,
    out: Vec<RuntimeEvent>,
    /// How many of `out` were handed to [`HostState::newly_reported`].
    out_seen: usize,
    script_paths: Vec<String>,
    /// The coroutine table.
    pub coroutines: Coroutines,
    /// Set while the scheduler resumes coroutines (coroutines started then
    /// take their first step in the next frame).
    in_coroutine_phase: bool,
    /// `[limits] spawns_per_frame`.
    pub spawn_limit: u64,
    /// Per script: the frame of its last spawn and its spawns in that frame.
    spawned: std::collections::HashMap<u32, (u64, u64)>,
    /// `[limits] memory_mb` in bytes: also the host memory one script may
    /// make the host hold in one frame (events, logs, spawned values).
    pub host_bytes_limit: usize,
    /// Per script: the frame it last made the host allocate, and how much.
    host_bytes: std::collections::HashMap<u32, (u64, u64)>,
    /// Components queued to be added, per entity, until the queue is
    /// applied (so the per-entity limit counts them).
    pending_adds: std::collections::HashMap<u64, usize>,
}

/// The most components one entity may have. The ECS keeps one archetype per
/// set of components, so adding components one by one to an entity costs
/// memory that grows with the square of their number.
pub const MAX_COMPONENTS_PER_ENTITY: usize = 256;

/// The most component types one world may have: each costs the ECS memory
/// that is never given back, so a script declaring new ones every frame
/// would otherwise grow without bound.
pub const MAX_COMPONENT_TYPES: usize = 10_000;

/// What names a script's random stream: its manifest path without the
/// language's extension, so a script ported to the other language draws
/// the same numbers.
fn stream_name(path: &str) -> &str {
    path.strip_suffix(".lua")
        .or_else(|| path.strip_suffix(".py"))
        .unwrap_or(path)
}

/// FNV-1a of a script's path: a hash that never changes between versions,
/// machines or runs, to seed the script's random stream.
fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Adds `n` to `script`'s count for `frame` (a count from an earlier frame
/// starts over) and returns the new count.
fn add_this_frame(
    counts: &mut std::collections::HashMap<u32, (u64, u64)>,
    frame: u64,
    script: ScriptId,
    n: u64,
) -> u64 {
    let (at, count) = counts.entry(script.0).or_insert((frame, 0));
    if *at != frame {
        (*at, *count) = (frame, 0);
    }
    *count = count.saturating_add(n);
    *count
}

pub use super::shared::SharedHost;

/// What scripts' `ecs.query` loops visited: entities handed out in all,
/// and the most by one query.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct QueryUse {
    /// Entities handed out by every query.
    pub rows: u64,
    /// The most entities one query handed out.
    pub largest: u64,
    /// Component views handed out with the rows (one per component).
    pub proxies: u64,
}

impl HostState {
    /// A host with an empty world.
    pub fn new(fixed_dt: f64, seed: u64) -> HostState {
        HostState {
            world: EcsWorld::new(),
            running: Vec::new(),
            query_use: QueryUse::default(),
            frame: 0,
            fixed_dt,
            seed,
            rngs: Vec::new(),
            bus: Vec::new(),
            defer_depth: 0,
            deferred: Vec::new(),
            proxy_generation: Box::new(Cell::new(1)),
            pending_spawns: Vec::new(),
            systems: Vec::new(),
            handlers: Vec::new(),
            seq: 0,
            out: Vec::new(),
            out_seen: 0,
            script_paths: Vec::new(),
            coroutines: Coroutines::default(),
            in_coroutine_phase: false,
            spawn_limit: crate::project::DEFAULT_SPAWNS_PER_FRAME,
            spawned: Default::default(),
            host_bytes_limit: (crate::project::DEFAULT_MEMORY_MB as usize) << 20,
            host_bytes: Default::default(),
            pending_adds: Default::default(),
        }
    }

    /// Counts `bytes` of host memory that `script` makes the host hold
    /// (a queued event, a log line, a spawned entity's values) against its
    /// memory limit, per frame: these live outside the script's own heap,
    /// so its heap limit alone would not stop a loop that makes them.
    pub fn charge_host_bytes(&mut self, script: ScriptId, bytes: usize) -> ApiResult<()> {
        let used = add_this_frame(&mut self.host_bytes, self.frame, script, bytes as u64);
        if used > self.host_bytes_limit as u64 {
            return Err(ApiError(format!(
                "out of memory: this script made ECScope hold more than {} MiB of events, log lines and spawned values in one frame ([limits] memory_mb)",
                self.host_bytes_limit >> 20
            )));
        }
        Ok(())
    }

    /// Counts one `ecs.spawn` by `script` against `[limits]
    /// spawns_per_frame` (a script's load is its first frame).
    pub fn count_spawn(&mut self, script: ScriptId) -> ApiResult<()> {
        if add_this_frame(&mut self.spawned, self.frame, script, 1) > self.spawn_limit {
            return Err(ApiError(format!(
                "spawn limit: more than {} entities spawned by this script in one frame ([limits] spawns_per_frame)",
                self.spawn_limit
            )));
        }
        Ok(())
    }

    /// Wraps a host for sharing.
    pub fn shared(self) -> SharedHost {
        super::shared::HostCell::new(self)
    }

    // ----- scripts -------------------------------------------------------

    /// Records a script's manifest path; its [`ScriptId`] is its position.
    pub fn add_script(&mut self, path: &str) -> ScriptId {
        self.script_paths.push(path.to_string());
        self.rngs.push(DeterministicRng::new(
            self.seed ^ stable_hash(stream_name(path)),
        ));
        ScriptId(self.script_paths.len() as u32 - 1)
    }

    /// The manifest path of a script.
    pub fn script_path(&self, script: ScriptId) -> &str {
        &self.script_paths[script.0 as usize]
    }

    // ----- clock ---------------------------------------------------------

    /// `ecs.frame()`: frames completed before the current one.
    pub fn frame(&self) -> u64 {
        self.frame
    }

    /// `ecs.time()`: `frame * fixed_dt`.
    pub fn time(&self) -> f64 {
        self.frame as f64 * self.fixed_dt
    }

    /// `ecs.dt()`: the fixed step.
    pub fn dt(&self) -> f64 {
        self.fixed_dt
    }

    /// Ends the current frame.
    pub fn advance_frame(&mut self) {
        self.frame += 1;
    }

    // ----- random --------------------------------------------------------

    fn rng(&mut self, script: ScriptId) -> &mut DeterministicRng {
        let seed = self.seed;
        let at = script.0 as usize;
        if at >= self.rngs.len() {
            // A script the host was not told of (a test's): the bare seed.
            self.rngs
                .resize_with(at + 1, || DeterministicRng::new(seed));
        }
        &mut self.rngs[at]
    }

    /// `ecs.random()` in `script`.
    pub fn random(&mut self, script: ScriptId) -> f64 {
        self.rng(script).next_f64()
    }

    /// `ecs.random_range(a, b)` in `script`.
    pub fn random_range(&mut self, script: ScriptId, a: f64, b: f64) -> ApiResult<f64> {
        if !a.is_finite() || !b.is_finite() {
            return Err(ApiError(format!(
                "ecs.random_range: bounds must be finite numbers, got {a} and {b}"
            )));
        }
        Ok(self.rng(script).range(a, b))
    }

    // ----- components ----------------------------------------------------

    /// `ecs.component(name, defaults)`.
    pub fn declare_component(
        &mut self,
        script: ScriptId,
        name: &str,
        defaults: ScriptValue,
    ) -> ApiResult<()> {
        if self.world.key(name).is_none() && self.world.defs().len() >= MAX_COMPONENT_TYPES {
            return Err(ApiError(format!(
                "ecs.component({name:?}): the project already has {MAX_COMPONENT_TYPES} component types, the most one world may have"
            )));
        }
        let fields = fields_from_defaults(name, defaults)?;
        let path = self.script_path(script).to_string();
        self.world.declare(name, fields, &path)?;
        Ok(())
    }

    /// Marks the start of a system's run on this thread: what it declared
    /// is checked on every component it touches until
    /// [`HostState::leave_system`]. `grouped` when it runs together with
    /// other systems: then its structural changes, events and log lines
    /// are kept apart until [`HostState::apply_sink`].
    pub fn enter_system(&mut self, system: &SystemEntry, grouped: bool) {
        if let Some(access) = &system.access {
            self.running.push(Running {
                thread: std::thread::current().id(),
                name: system.name.clone(),
                access: access.clone(),
                sink: grouped.then(Sink::default),
            });
        }
    }

    /// Marks the end of the system's run on this thread; gives back what
    /// it kept apart, if it ran in a group.
    pub fn leave_system(&mut self) -> Option<Sink> {
        if self.running.is_empty() {
            return None;
        }
        let me = std::thread::current().id();
        let at = self.running.iter().position(|r| r.thread == me)?;
        self.running.swap_remove(at).sink
    }

    /// Queues what a system of a group kept apart, as if it had been done
    /// now; called for the group's systems in registration order.
    pub fn apply_sink(&mut self, sink: Sink) {
        self.deferred.extend(sink.deferred);
        self.bus.extend(sink.bus);
        self.out.extend(sink.out);
    }

    /// The declared system running on this thread, if any.
    fn current(&self) -> Option<&Running> {
        if self.running.is_empty() {
            return None;
        }
        let me = std::thread::current().id();
        self.running.iter().find(|r| r.thread == me)
    }

    /// Where what the system on this thread does is kept, when it runs in
    /// a group.
    fn sink(&mut self) -> Option<&mut Sink> {
        if self.running.is_empty() {
            return None;
        }
        let me = std::thread::current().id();
        self.running
            .iter_mut()
            .find(|r| r.thread == me)
            .and_then(|r| r.sink.as_mut())
    }

    fn push_deferred(&mut self, op: DeferredOp) {
        match self.sink() {
            Some(sink) => sink.deferred.push(op),
            None => self.deferred.push(op),
        }
    }

    /// Whether the running system declared `key` under `reads` only: its
    /// live components of that type cannot be assigned.
    pub fn read_only(&self, key: CompKey) -> bool {
        self.current().is_some_and(|r| !r.access.writes(key))
    }

    /// The running system may read `key` (or declares nothing).
    fn may_read(&self, key: CompKey) -> ApiResult<()> {
        match self.current().map(|r| (&r.name, &r.access)) {
            Some((system, access)) if !access.reads(key) => Err(ApiError(format!(
                "system '{system}' does not declare {}: list it under reads (or writes) in the system's options",
                self.world.def(key).name
            ))),
            _ => Ok(()),
        }
    }

    /// The running system may change `key` (or declares nothing).
    fn may_write(&self, key: CompKey) -> ApiResult<()> {
        match self.current().map(|r| (&r.name, &r.access)) {
            Some((system, access)) if !access.writes(key) => {
                let name = &self.world.def(key).name;
                Err(ApiError(if access.reads(key) {
                    format!(
                        "system '{system}' lists {name} under reads: to change it, list it under writes"
                    )
                } else {
                    format!(
                        "system '{system}' does not declare {name}: list it under writes in the system's options"
                    )
                }))
            }
            _ => Ok(()),
        }
    }

    /// Looks up component names, for queries and systems.
    pub fn component_keys(&self, names: &[String]) -> ApiResult<Vec<CompKey>> {
        names.iter().map(|n| self.key(n)).collect()
    }

    fn key(&self, name: &str) -> ApiResult<CompKey> {
        self.world.key(name).ok_or_else(|| {
            ApiError(format!(
                "unknown component {name:?} (built-ins: Name, Position, Velocity, Rotation, Color, Shape; declare others with ecs.component)"
            ))
        })
    }

    // ----- entities ------------------------------------------------------

    /// True while structural changes are queued instead of applied.
    pub fn deferring(&self) -> bool {
        self.defer_depth > 0
    }

    /// Starts a stretch (a system run, a coroutine step, a query loop)
    /// during which structural changes are queued.
    pub fn begin_defer(&mut self) {
        self.defer_depth += 1;
    }

    /// Ends such a stretch; the outermost end applies the queued changes in
    /// the order they were made.
    pub fn end_defer(&mut self) {
        self.defer_depth = self.defer_depth.saturating_sub(1);
        if self.defer_depth == 0 {
            let generation = &self.proxy_generation;
            generation.set(generation.get().wrapping_add(1));
            self.flush_deferred();
        }
    }

    /// The current proxy generation (see the field's documentation).
    pub fn proxy_generation(&self) -> u32 {
        self.proxy_generation.get()
    }

    /// Address of the proxy generation, for bindings that read it without
    /// calling into Rust. Valid as long as this host lives.
    pub fn proxy_generation_ptr(&self) -> *const u32 {
        self.proxy_generation.as_ptr()
    }

    /// Ends every open stretch (after a script call that may have left a
    /// query loop unfinished) and applies what was queued.
    pub fn reset_defer(&mut self, depth: u32) {
        if self.defer_depth > depth {
            self.defer_depth = depth + 1;
            self.end_defer();
        }
    }

    /// Current deferral depth, to restore with [`HostState::reset_defer`].
    pub fn defer_depth(&self) -> u32 {
        self.defer_depth
    }

    fn flush_deferred(&mut self) {
        let ops = std::mem::take(&mut self.deferred);
        self.pending_spawns.clear();
        self.pending_adds.clear();
        for op in ops {
            match op {
                DeferredOp::Spawn { id, parts } => self.world.spawn_with_id(id, parts),
                DeferredOp::Despawn { id } => {
                    self.world.despawn(id);
                }
                DeferredOp::Insert { id, key, record } => {
                    if self.world.exists(id) {
                        self.world.insert(id, key, record);
                    }
                }
                DeferredOp::Remove { id, key } => {
                    self.world.remove(id, key);
                }
            }
        }
    }

    fn parse_components(&self, components: ScriptValue) -> ApiResult<Vec<(CompKey, Record)>> {
        let map = match components {
            ScriptValue::Map(map) => map,
            ScriptValue::List(items) if items.is_empty() => Default::default(),
            other => {
                return Err(ApiError(format!(
                    "ecs.spawn expects a table of component name = value, got {}",
                    other.type_name()
                )));
            }
        };
        let mut parts = Vec::with_capacity(map.len());
        for (name, value) in map {
            let key = self.key(&name)?;
            let record = self.world.def(key).record_from_value(value)?;
            parts.push((key, record));
        }
        Ok(parts)
    }

    /// `ecs.spawn(components) -> id`.
    pub fn spawn(&mut self, components: ScriptValue) -> ApiResult<u64> {
        let parts = self.parse_components(components)?;
        if parts.len() > MAX_COMPONENTS_PER_ENTITY {
            return Err(ApiError(format!(
                "ecs.spawn: {} components, more than the {MAX_COMPONENTS_PER_ENTITY} one entity may have",
                parts.len()
            )));
        }
        let id = self.world.reserve_id();
        if self.deferring() {
            self.pending_spawns.push(id);
            self.push_deferred(DeferredOp::Spawn { id, parts });
        } else {
            self.world.spawn_with_id(id, parts);
        }
        Ok(id)
    }

    /// `ecs.despawn(id)`: a no-op for an entity that no longer exists.
    pub fn despawn(&mut self, id: u64) -> ApiResult<()> {
        if self.deferring() {
            if self.world.exists(id) || self.pending_spawns.contains(&id) {
                self.push_deferred(DeferredOp::Despawn { id });
            }
        } else {
            self.world.despawn(id);
        }
        Ok(())
    }

    /// `ecs.exists(id)`.
    pub fn exists(&self, id: u64) -> bool {
        self.world.exists(id)
    }

    /// `ecs.get(id, name)`: a copy, or `Nil` when the entity or the
    /// component is absent.
    pub fn get(&self, id: u64, name: &str) -> ApiResult<ScriptValue> {
        let key = self.key(name)?;
        self.may_read(key)?;
        Ok(self
            .world
            .read(id, key)
            .map(|record| self.world.def(key).value_of(&record))
            .unwrap_or(ScriptValue::Nil))
    }

    fn require_entity(&self, id: u64, call: &str) -> ApiResult<()> {
        if self.world.exists(id) || self.pending_spawns.contains(&id) {
            Ok(())
        } else if id >= 1 && id < self.world.next_id() {
            Err(ApiError(format!("{call}: entity {id} was despawned")))
        } else {
            Err(ApiError(format!("{call}: there is no entity {id}")))
        }
    }

    /// `ecs.set(id, name, value)`: replaces at once when the entity has the
    /// component; adding one is structural and may be queued.
    pub fn set(&mut self, id: u64, name: &str, value: ScriptValue) -> ApiResult<()> {
        let key = self.key(name)?;
        self.may_write(key)?;
        self.require_entity(id, "ecs.set")?;
        let record = self.world.def(key).record_from_value(value)?;
        if self.world.has(id, key) {
            self.world.insert(id, key, record);
            return Ok(());
        }
        let pending = self.pending_adds.get(&id).copied().unwrap_or(0);
        if self.world.components_of(id).len() + pending >= MAX_COMPONENTS_PER_ENTITY {
            return Err(ApiError(format!(
                "ecs.set({id}, {name:?}): entity {id} already has {MAX_COMPONENTS_PER_ENTITY} components, the most one entity may have; use a table field or another entity"
            )));
        }
        if self.deferring() {
            *self.pending_adds.entry(id).or_default() += 1;
            self.push_deferred(DeferredOp::Insert { id, key, record });
        } else {
            self.world.insert(id, key, record);
        }
        Ok(())
    }

    /// `ecs.remove(id, name)`.
    pub fn remove(&mut self, id: u64, name: &str) -> ApiResult<()> {
        let key = self.key(name)?;
        self.may_write(key)?;
        self.require_entity(id, "ecs.remove")?;
        if self.deferring() {
            self.push_deferred(DeferredOp::Remove { id, key });
        } else {
            self.world.remove(id, key);
        }
        Ok(())
    }

    /// `ecs.has(id, name)`.
    pub fn has(&self, id: u64, name: &str) -> ApiResult<bool> {
        let key = self.key(name)?;
        self.may_read(key)?;
        Ok(self.world.has(id, key))
    }

    /// For each id, the address of each component's numeric block (see
    /// [`EcsWorld::numeric_ptr`]), entity-major: `ptrs[i * comps.len() + j]`.
    pub fn numeric_ptrs(&mut self, ids: &[u64], comps: &[CompKey]) -> Vec<*mut f64> {
        let mut out = Vec::with_capacity(ids.len() * comps.len());
        for &id in ids {
            for &key in comps {
                out.push(self.world.numeric_ptr(id, key));
            }
        }
        out
    }

    /// The ids `ecs.query`/`ecs.count`/a system visit, in id order.
    pub fn query_ids(&mut self, spec: &QuerySpec) -> Vec<u64> {
        self.world.query(&spec.with, &spec.without)
    }

    /// The ids a script's `ecs.query` loop visits, counted for the
    /// suggestions (a query inside a loop over the same entities).
    pub fn script_query(&mut self, spec: &QuerySpec) -> Vec<u64> {
        let ids = self.query_ids(spec);
        let with = spec.with.len();
        let used = match self.sink() {
            Some(sink) => &mut sink.query_use,
            None => &mut self.query_use,
        };
        used.rows += ids.len() as u64;
        used.proxies += (ids.len() * with) as u64;
        used.largest = used.largest.max(ids.len() as u64);
        ids
    }

    /// What scripts' queries visited since the last call, then zero.
    pub fn take_query_use(&mut self) -> QueryUse {
        std::mem::take(&mut self.query_use)
    }

    /// Builds a query spec from names.
    pub fn query_spec(&self, with: &[String], without: &[String]) -> ApiResult<QuerySpec> {
        if with.is_empty() {
            return Err(ApiError(
                "a query needs at least one component name".to_string(),
            ));
        }
        let spec = QuerySpec {
            with: self.component_keys(with)?,
            without: self.component_keys(without)?,
        };
        for &key in spec.with.iter().chain(&spec.without) {
            self.may_read(key)?;
        }
        Ok(spec)
    }

    /// A field of a live component, for proxies.
    pub fn get_field(&self, id: u64, key: CompKey, field: &str) -> ApiResult<ScriptValue> {
        let def = self.world.def(key);
        let index = def
            .field_index(field)
            .ok_or_else(|| ApiError(def.unknown_field(field)))?;
        self.world.read_field(id, key, index).ok_or_else(|| {
            ApiError(format!(
                "entity {id} no longer has {} (read of field {field:?})",
                def.name
            ))
        })
    }

    /// Assigns a field of a live component; takes effect at once.
    pub fn set_field(
        &mut self,
        id: u64,
        key: CompKey,
        field: &str,
        value: ScriptValue,
    ) -> ApiResult<()> {
        let def = self.world.def(key);
        let index = def
            .field_index(field)
            .ok_or_else(|| ApiError(def.unknown_field(field)))?;
        let value = def.coerce_field(index, value)?;
        let name = def.name.clone();
        self.may_write(key)?;
        if self.world.write_field(id, key, index, value) {
            Ok(())
        } else {
            Err(ApiError(format!(
                "entity {id} no longer has {name} (write of field {field:?})"
            )))
        }
    }

    // ----- systems and events --------------------------------------------

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// `ecs.system(...)`: systems run by script (manifest order), then by
    /// registration order.
    pub fn add_system(
        &mut self,
        script: ScriptId,
        name: &str,
        query: Option<QuerySpec>,
        handle: FnHandle,
        access: Option<Access>,
    ) {
        self.push_system(script, name, query, handle, None, access);
    }

    /// Registers a batch system over `query`'s components.
    pub fn add_batch_system(
        &mut self,
        script: ScriptId,
        name: &str,
        query: QuerySpec,
        handle: FnHandle,
        access: Option<Access>,
    ) {
        let layout = crate::ecs::batch::BatchLayout::of(&self.world, &query.with);
        self.push_system(
            script,
            name,
            Some(query),
            handle,
            Some(std::sync::Arc::new(layout)),
            access,
        );
    }

    /// A system's declared access from its options' `reads` and `writes`
    /// (SCRIPT_API §5), each naming known components; `None` when it
    /// declares neither.
    pub fn system_access(
        &self,
        query: Option<&QuerySpec>,
        reads: Option<&[String]>,
        writes: Option<&[String]>,
    ) -> ApiResult<Option<Access>> {
        if reads.is_none() && writes.is_none() {
            return Ok(None);
        }
        let declared_reads = self
            .component_keys(reads.unwrap_or(&[]))
            .map_err(|e| ApiError(format!("reads: {}", e.0)))?;
        let mut access = Access {
            reads: Vec::new(),
            writes: self
                .component_keys(writes.unwrap_or(&[]))
                .map_err(|e| ApiError(format!("writes: {}", e.0)))?,
        };
        for key in declared_reads {
            if !access.writes.contains(&key) && !access.reads.contains(&key) {
                access.reads.push(key);
            }
        }
        for &key in query.map(|q| q.with.as_slice()).unwrap_or(&[]) {
            if !access.reads.contains(&key) && !access.writes.contains(&key) {
                access.writes.push(key);
            }
        }
        Ok(Some(access))
    }

    fn push_system(
        &mut self,
        script: ScriptId,
        name: &str,
        query: Option<QuerySpec>,
        handle: FnHandle,
        batch: Option<std::sync::Arc<crate::ecs::batch::BatchLayout>>,
        access: Option<Access>,
    ) {
        let seq = self.next_seq();
        self.systems.push(SystemEntry {
            script,
            seq,
            name: name.to_string(),
            query,
            handle,
            enabled: true,
            batch,
            access,
        });
        self.systems.sort_by_key(|s| (s.script, s.seq));
    }

    /// The systems in run order.
    pub fn systems(&self) -> &[SystemEntry] {
        &self.systems
    }

    /// Stops running a system after an error.
    pub fn disable_system(&mut self, script: ScriptId, handle: FnHandle) {
        if let Some(s) = self
            .systems
            .iter_mut()
            .find(|s| s.script == script && s.handle == handle)
        {
            s.enabled = false;
        }
    }

    /// `ecs.on(event, fn)`.
    pub fn add_handler(&mut self, script: ScriptId, event: &str, handle: FnHandle) {
        let seq = self.next_seq();
        self.handlers.push(HandlerEntry {
            script,
            seq,
            event: event.to_string(),
            handle,
            enabled: true,
        });
        self.handlers.sort_by_key(|h| (h.script, h.seq));
    }

    /// The enabled handlers of one event, in run order.
    pub fn handlers_for(&self, event: &str) -> Vec<(ScriptId, FnHandle)> {
        self.handlers
            .iter()
            .filter(|h| h.enabled && h.event == event)
            .map(|h| (h.script, h.handle))
            .collect()
    }

    /// Stops calling a handler after an error.
    pub fn disable_handler(&mut self, script: ScriptId, handle: FnHandle) {
        if let Some(h) = self
            .handlers
            .iter_mut()
            .find(|h| h.script == script && h.handle == handle)
        {
            h.enabled = false;
        }
    }

    /// Forgets everything a script registered (before a reload, or after it
    /// failed to load).
    pub fn remove_script_registrations(&mut self, script: ScriptId) {
        self.systems.retain(|s| s.script != script);
        self.handlers.retain(|h| h.script != script);
        self.coroutines.forget_script(script);
    }

    /// Takes out everything a script registered (systems, handlers,
    /// coroutines) so a new version can register its own; put back with
    /// [`HostState::restore_registrations`] if the new version fails.
    pub fn take_registrations(&mut self, script: ScriptId) -> Registrations {
        let (systems, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.systems)
            .into_iter()
            .partition(|s| s.script == script);
        self.systems = kept;
        let (handlers, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.handlers)
            .into_iter()
            .partition(|h| h.script == script);
        self.handlers = kept;
        Registrations {
            systems,
            handlers,
            coroutines: self.coroutines.take_script(script),
        }
    }

    /// Puts back registrations taken out with
    /// [`HostState::take_registrations`], in their original order.
    pub fn restore_registrations(&mut self, registrations: Registrations) {
        self.systems.extend(registrations.systems);
        self.systems.sort_by_key(|s| (s.script, s.seq));
        self.handlers.extend(registrations.handlers);
        self.handlers.sort_by_key(|h| (h.script, h.seq));
        self.coroutines.restore(registrations.coroutines);
    }

    /// `ecs.emit(event, payload)` by `script`.
    pub fn emit(&mut self, script: ScriptId, event: &str, payload: ScriptValue) -> ApiResult<()> {
        self.charge_host_bytes(script, event.len() + payload.approx_bytes())?;
        let event = (event.to_string(), payload);
        match self.sink() {
            Some(sink) => sink.bus.push(event),
            None => self.bus.push(event),
        }
        Ok(())
    }

    /// `ecs.spawn(components)` by `script`, counted against its limits.
    pub fn spawn_by(&mut self, script: ScriptId, components: ScriptValue) -> ApiResult<u64> {
        if self.current().is_some()
            && let ScriptValue::Map(map) = &components
        {
            for name in map.keys() {
                if let Ok(key) = self.key(name) {
                    self.may_write(key)?;
                }
            }
        }
        self.count_spawn(script)?;
        self.charge_host_bytes(script, components.approx_bytes())?;
        self.spawn(components)
    }

    /// Takes the events queued since the last delivery.
    pub fn take_events(&mut self) -> Vec<(String, ScriptValue)> {
        std::mem::take(&mut self.bus)
    }

    // ----- coroutines ----------------------------------------------------

    /// `ecs.start`: registers a coroutine whose language object the backend
    /// keeps under `handle`; returns its id.
    pub fn start_coroutine(&mut self, script: ScriptId, handle: FnHandle, name: &str) -> u64 {
        let frame = self.frame;
        let id = self
            .coroutines
            .start(script, handle, name, frame, self.in_coroutine_phase);
        let script = self.script_path(script).to_string();
        self.push_event(EventKind::CoroutineStarted {
            script,
            id,
            name: name.to_string(),
        });
        id
    }

    /// `ecs.stop(id)`: true when a live coroutine was stopped; false for an
    /// id that already ended (a documented no-op). A coroutine stopping
    /// itself ends at its next yield.
    pub fn stop_coroutine(&mut self, id: u64) -> ApiResult<bool> {
        if self.coroutines.get(id).is_some() {
            self.end_coroutine(id, Ending::Stopped);
            Ok(true)
        } else if self.coroutines.was_started(id) {
            Ok(false)
        } else {
            Err(ApiError(format!("ecs.stop: there is no coroutine {id}")))
        }
    }

    /// Ends a coroutine and reports it.
    pub fn end_coroutine(&mut self, id: u64, how: Ending) {
        let frame = self.frame;
        if let Some(ended) = self.coroutines.end(id, how, frame) {
            let script = self.script_path(ended.script).to_string();
            self.push_event(EventKind::CoroutineFinished {
                script,
                id,
                name: ended.name,
                how: how.name().to_string(),
            });
        }
    }

    /// Checks the argument of `wait_frames`/`wait_seconds`/`wait_event`.
    pub fn check_wait(kind: &str, value: &ScriptValue) -> ApiResult<WaitRequest> {
        match kind {
            "frames" => match value.as_i64() {
                Some(n) if n >= 0 => Ok(WaitRequest::Frames(n as u64)),
                _ => Err(ApiError(format!(
                    "ecs.wait_frames: n must be a whole number of frames >= 0, got {value}"
                ))),
            },
            "seconds" => match value.as_f64() {
                Some(s) if s.is_finite() && s >= 0.0 => Ok(WaitRequest::Seconds(s)),
                _ => Err(ApiError(format!(
                    "ecs.wait_seconds: s must be a number of seconds >= 0, got {} {value}",
                    value.type_name()
                ))),
            },
            "event" => match value.as_str() {
                Some(name) => Ok(WaitRequest::Event(name.to_string())),
                None => Err(ApiError(format!(
                    "ecs.wait_event: the event name must be a string, got {}",
                    value.type_name()
                ))),
            },
            other => Err(ApiError(format!("unknown wait {other:?}"))),
        }
    }

    /// Marks the coroutine phase (see `in_coroutine_phase`).
    pub fn set_coroutine_phase(&mut self, on: bool) {
        self.in_coroutine_phase = on;
    }

    // ----- output --------------------------------------------------------

    /// `ecs.log`/`print`.
    pub fn log(&mut self, script: ScriptId, line: u32, message: String) -> ApiResult<()> {
        self.charge_host_bytes(script, message.len() + std::mem::size_of::<RuntimeEvent>())?;
        let script = self.script_path(script).to_string();
        self.push_event(EventKind::Log {
            script,
            line,
            message,
        });
        Ok(())
    }

    /// Adds to the event stream, stamped with the current frame.
    pub fn push_event(&mut self, kind: EventKind) {
        let event = RuntimeEvent {
            frame: self.frame,
            kind,
        };
        match self.sink() {
            Some(sink) => sink.out.push(event),
            None => self.out.push(event),
        }
    }

    /// The events reported since the last call (or since the stream was
    /// last taken), for whoever marks them on a time line as they come.
    pub fn newly_reported(&mut self) -> &[RuntimeEvent] {
        let from = self.out_seen.min(self.out.len());
        self.out_seen = self.out.len();
        &self.out[from..]
    }

    /// Takes the event stream accumulated since the last call.
    pub fn take_output(&mut self) -> Vec<RuntimeEvent> {
        self.out_seen = 0;
        std::mem::take(&mut self.out)
    }
}
