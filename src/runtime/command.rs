//! [`RuntimeCommand`]: the only way a UI changes the runtime. Commands are
//! applied in one place, between frames ([`super::Runtime::apply`]).

use crate::scripting::ScriptValue;

/// A change requested by the GUI, a test or a tool.
#[derive(Debug, Clone, PartialEq)]
pub enum RuntimeCommand {
    /// Run this many frames now.
    Step {
        /// How many.
        frames: u32,
    },
    /// Start over from the project's files.
    Reset,
    /// Assign one field of a component the entity has.
    SetField {
        /// Entity id.
        id: u64,
        /// Component name.
        component: String,
        /// Field name (`value` for `Name`).
        field: String,
        /// New value.
        value: ScriptValue,
    },
    /// Insert or replace a whole component.
    SetComponent {
        /// Entity id.
        id: u64,
        /// Component name.
        component: String,
        /// The value, as `ecs.set` takes it.
        value: ScriptValue,
    },
    /// Add a component with its defaults.
    AddComponent {
        /// Entity id.
        id: u64,
        /// Component name.
        component: String,
    },
    /// Remove a component.
    RemoveComponent {
        /// Entity id.
        id: u64,
        /// Component name.
        component: String,
    },
    /// Create an entity, as `ecs.spawn` does.
    Spawn {
        /// Component name to value.
        components: ScriptValue,
    },
    /// Remove an entity.
    Despawn {
        /// Entity id.
        id: u64,
    },
    /// Run exactly one step of a coroutine now, whatever it waits for (a
    /// pending event wait resumes with nil).
    StepCoroutine {
        /// Coroutine id.
        id: u64,
    },
    /// Pause or resume one coroutine (a paused one is not resumed when due).
    PauseCoroutine {
        /// Coroutine id.
        id: u64,
        /// Paused or not.
        paused: bool,
    },
    /// Pause or resume every coroutine.
    PauseAllCoroutines {
        /// Paused or not.
        paused: bool,
    },
    /// End a coroutine, as `ecs.stop` does.
    StopCoroutine {
        /// Coroutine id.
        id: u64,
    },
    /// Set or clear a breakpoint.
    SetBreakpoint {
        /// Project-relative file (`scripts/ai.lua`).
        file: String,
        /// 1-based line.
        line: u32,
        /// Set (true) or clear.
        on: bool,
    },
    /// Set a breakpoint with a condition, a hit count, a log message, or
    /// off, replacing any at that line.
    SetBreakpointSpec {
        /// Project-relative file.
        file: String,
        /// 1-based line.
        line: u32,
        /// Its settings.
        spec: crate::scripting::debugger::BreakpointSpec,
    },
    /// Remove every breakpoint.
    ClearBreakpoints,
    /// Step to next line in a suspended coroutine: stop at the first line
    /// it runs when next resumed.
    StepCoroutineLine {
        /// Coroutine id.
        id: u64,
    },
    /// Stop where a system, handler or coroutine raises (where a break
    /// handler is installed: the GUI, an editor).
    SetBreakOnError(bool),
    /// Add a data breakpoint: `Health.hp changes`, `Health.hp < 0`.
    AddDataBreakpoint {
        /// One entity, or every entity with the component.
        entity: Option<u64>,
        /// `Component.field changes` or `Component.field <op> number`.
        watch: String,
    },
    /// Remove a data breakpoint.
    RemoveDataBreakpoint {
        /// Its id.
        id: u64,
    },
    /// Record the script line that last wrote each field of an entity
    /// (or stop recording).
    TrackWrites {
        /// The entity.
        entity: Option<u64>,
    },
    /// Run to cursor: stop once when this line is reached; any other stop
    /// first gives it up.
    RunToLine {
        /// Project-relative file.
        file: String,
        /// 1-based line.
        line: u32,
    },
    /// Reload a script from disk now, even if its text did not change.
    ReloadScript {
        /// Manifest path.
        script: String,
    },
    /// Restore an earlier version's text on disk and reload it.
    RollbackScript {
        /// Manifest path.
        script: String,
        /// The version to restore.
        version: u32,
    },
    /// Record profiler scopes and statistics, or not.
    SetProfiling(bool),
    /// Sample memory every frame (and count allocations), or not.
    SetMemoryTracking(bool),
    /// Sample the scripts' stacks this many times a second while
    /// recording (0 = off, at most 10,000).
    SetSampleHz(u32),
    /// Forget the recorded frames, statistics and samples.
    ClearProfile,
    /// Forget the memory series and leaks.
    ClearMemory,
}
