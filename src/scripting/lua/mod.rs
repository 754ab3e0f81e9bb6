//! The Lua backend: one LuaJIT state per script (mlua, vendored LuaJIT).
//!
//! This module only binds and converts; the semantics are in
//! [`crate::scripting::host`].

mod api;
pub(crate) mod convert;
pub mod evaluate;
mod hook;
mod patterns;
mod sandbox;

use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use mlua::{Function, LightUserData, Lua, LuaOptions, MultiValue, StdLib, Table, Value};

use self::api::Ctx;
use self::hook::{Budget, DebugLink, LuaAlarm, StatePtr};
use crate::ecs::components::CompKey;
use crate::ecs::coroutines::WaitRequest;
use crate::scripting::debugger::SharedDebugger;
use crate::scripting::watchdog::{FRAME_GRACE, LOAD_GRACE, WatchSlot, WatchdogHandle};
use crate::scripting::{
    FnHandle, LeakSite, Persisted, Resumed, ScriptBackend, ScriptFailure, ScriptId, ScriptValue,
    SharedHost, StackFrame,
};

/// One Lua script.
pub struct LuaScript {
    lua: Lua,
    ctx: Rc<Ctx>,
    slot: Arc<WatchSlot>,
    watchdog: WatchdogHandle,
    budget: Arc<Budget>,
    /// What the stack sampler asks for samples (made once: asked for at
    /// every call while sampling).
    sampler: Arc<hook::LuaSampler>,
    debug: Box<DebugLink>,
    prelude: Prelude,
    memory_limit: usize,
}

impl LuaScript {
    /// A fresh state for the script at `path` (manifest path) of `project`
    /// with the `ecs` API installed, the limits applied and, unless a
    /// trusted project lifted it, the sandbox.
    pub fn new(
        host: SharedHost,
        script: ScriptId,
        path: &str,
        project: &crate::project::Project,
        watchdog: WatchdogHandle,
        debugger: SharedDebugger,
    ) -> Result<LuaScript, ScriptFailure> {
        let (root, limits) = (&project.root, &project.manifest.limits);
        let sandboxed = project.manifest.sandbox.lua || project.restricted;
        let setup = |e: mlua::Error| ScriptFailure::message(format!("cannot set up Lua: {e}"));
        // SAFETY: FFI and debug are loaded for the prelude (proxies, the
        // coroutine debugger) and taken away from scripts before any script
        // code runs (see `api::install`).
        let lua = unsafe {
            Lua::unsafe_new_with(
                StdLib::ALL_SAFE | StdLib::FFI | StdLib::DEBUG,
                LuaOptions::new(),
            )
        };
        let memory_limit = (limits.memory_mb as usize).saturating_mul(1024 * 1024);
        lua.set_memory_limit(memory_limit).map_err(setup)?;
        // LuaJIT places string keys in tables by a running string id, and
        // set-up makes garbage whose amount depends on where the OS put
        // things; a collection during set-up would re-intern some strings
        // and shift every later id, and with it `pairs` order. No
        // collection until set-up is done, then a full one, so every run
        // starts the script from the same heap.
        lua.gc_stop();
        let ctx = Rc::new(Ctx::new(host, script, path, root.to_path_buf()));
        ctx.value_items.set(limits.value_items);
        let budget = Arc::new(Budget::new(limits.instructions_per_frame));
        api::install(&lua, Rc::clone(&ctx), &budget).map_err(setup)?;
        // LuaJIT's pattern matcher runs in C, out of the hook's reach; this
        // one counts its steps against the same budget.
        let charged = Arc::clone(&budget);
        patterns::install(
            &lua,
            Rc::new(move || charged.charge(patterns::CHECK_EVERY).map_err(|e| e.0)),
        )
        .map_err(setup)?;
        sandbox::apply(&lua, &ctx, sandboxed).map_err(setup)?;

        let exports = ctx
            .exports
            .borrow()
            .clone()
            .ok_or_else(|| ScriptFailure::message("the prelude did not load"))?;
        let prelude = Prelude::from(&exports).map_err(setup)?;
        lua.gc_restart();
        lua.gc_collect().map_err(setup)?;
        let describe: Function = exports.get("describe").map_err(setup)?;
        lua.set_named_registry_value(hook::DESCRIBE_KEY, describe)
            .map_err(setup)?;
        let evaluate: Function = exports.get("evaluate").map_err(setup)?;
        let key = evaluate::EVALUATE_KEY.to_str().unwrap_or_default();
        lua.set_named_registry_value(key, evaluate).map_err(setup)?;

        // Counting slows LuaJIT down: give the budget twice the time it
        // takes on the reference machine before the call counts as stuck.
        let patience = Duration::from_secs_f64(
            2.0 * limits.instructions_per_frame as f64
                / crate::scripting::watchdog::COUNTED_INSTRUCTIONS_PER_SECOND,
        );
        let slot = watchdog.register(
            path,
            patience,
            Box::new(LuaAlarm {
                state: StatePtr(lua.state()),
                budget: Arc::clone(&budget),
            }),
        );
        let debug = Box::new(DebugLink {
            debugger,
            slot: Arc::clone(&slot),
            root: root.to_path_buf(),
            names: Default::default(),
        });
        let (budget_ptr, debug_ptr) = (Arc::as_ptr(&budget), &*debug as *const DebugLink);
        // SAFETY: registry writes on our own state; `budget` and `debug`
        // live as long as this script, which owns the state.
        unsafe {
            lua.exec_raw::<()>((), |state| hook::install(state, budget_ptr, debug_ptr))
                .map_err(setup)?;
        }
        Ok(LuaScript {
            lua,
            ctx,
            slot,
            watchdog,
            sampler: Arc::new(hook::LuaSampler {
                budget: Arc::clone(&budget),
            }),
            budget,
            debug,
            prelude,
            memory_limit,
        })
    }

    /// A nameless function's name from its defining line
    /// (`function <scripts/a.lua:34>` → `patrol`), when the line names it.
    fn function_name(&self, described: String) -> String {
        let named = described
            .strip_prefix("function <")
            .and_then(|rest| rest.strip_suffix('>'))
            .and_then(|place| place.rsplit_once(':'))
            .and_then(|(file, line)| {
                crate::scripting::debugger::name_from_source(
                    &self.ctx.root,
                    file,
                    line.parse().ok()?,
                )
            });
        named.unwrap_or(described)
    }

    /// Calls `f`, through the prelude's guard when the debugger stops on
    /// errors (its handler stops while the raising stack is intact).
    fn call_guarded(&self, f: &Function, args: impl mlua::IntoLuaMulti) -> mlua::Result<()> {
        if self.debug.debugger.breaks_on_error() {
            self.prelude.guard.call::<()>((f, args))
        } else {
            f.call::<()>(args)
        }
    }

    /// Runs one call into the script: hooks synced, watched by the watchdog,
    /// query buffers freed afterwards.
    fn watched<R>(&self, grace: Duration, f: impl FnOnce() -> mlua::Result<R>) -> mlua::Result<R> {
        self.sync_hooks();
        let result = self.slot.watch(grace, f);
        self.ctx.end_call();
        // A limit that fired stops the call even if the script caught it.
        match (result, self.budget.tripped_error()) {
            (Ok(_), Some(message)) => Err(mlua::Error::RuntimeError(message)),
            (result, _) => result,
        }
    }

    /// Before a call: line events on exactly while the debugger needs them.
    fn sync_hooks(&self) {
        let want = self.debug.debugger.is_active();
        // SAFETY: our own live state, on its thread, between calls; the
        // state leaves the thread in `drop`, before it closes.
        unsafe {
            hook::enter_thread(self.lua.state(), &self.budget);
            hook::sync_lines(self.lua.state(), &self.budget, want)
        }
    }

    fn function(&self, handle: FnHandle) -> Result<Function, ScriptFailure> {
        self.ctx
            .fns
            .borrow()
            .get(handle.0 as usize)
            .cloned()
            .ok_or_else(|| ScriptFailure::message("unknown function handle"))
    }

    /// `ecs.persist` (the script may have replaced the table).
    fn persist_table(&self) -> mlua::Result<Table> {
        self.lua
            .globals()
            .get::<Table>("ecs")?
            .get::<Table>("persist")
    }

    fn failure(&self, err: mlua::Error) -> ScriptFailure {
        // What a call that ran out of memory built is garbage now: collect
        // it, so the script's other systems get their heap back.
        if self.lua.used_memory() * 10 >= self.memory_limit * 9 {
            let _ = self.lua.gc_collect();
        }
        failure_from(err, self.memory_limit)
    }

    fn call_global(
        &mut self,
        name: &str,
        args: MultiValue,
        grace: Duration,
    ) -> Result<(), ScriptFailure> {
        let f = match self.lua.globals().raw_get::<Value>(name) {
            Ok(Value::Function(f)) => f,
            _ => return Ok(()),
        };
        let result = self.watched(grace, || f.call::<()>(args));
        result.map_err(|e| self.failure(e))
    }
}

impl Drop for LuaScript {
    fn drop(&mut self) {
        // The watchdog and the sampler must not touch the state once it is
        // closed.
        self.watchdog.unregister(&self.slot);
        hook::leave_thread(self.lua.state(), &self.budget);
    }
}

impl ScriptBackend for LuaScript {
    fn compile(&mut self, source: &str) -> Result<(), ScriptFailure> {
        self.lua
            .load(source)
            .set_name(format!("@{}", self.ctx.path))
            .set_mode(mlua::chunk::ChunkMode::Text)
            .into_function()
            .map(|_| ())
            .map_err(|e| self.failure(e))
    }

    fn load(&mut self, source: &str, reloading: bool) -> Result<(), ScriptFailure> {
        let chunk = self
            .lua
            .load(source)
            .set_name(format!("@{}", self.ctx.path))
            .set_mode(mlua::chunk::ChunkMode::Text);
        let result = self.watched(LOAD_GRACE, || chunk.exec());
        result.map_err(|e| self.failure(e))?;
        if reloading {
            let persist = self.persist_table().map_err(|e| self.failure(e))?;
            let mut args = MultiValue::new();
            args.push_back(Value::Table(persist));
            self.call_global("on_reload", args, LOAD_GRACE)
        } else {
            self.call_global("on_load", MultiValue::new(), LOAD_GRACE)
        }
    }

    fn take_persist(&mut self) -> Persisted {
        let mut map = std::collections::BTreeMap::new();
        let mut dropped = Vec::new();
        if let Ok(persist) = self.persist_table() {
            for pair in persist.pairs::<Value, Value>() {
                let Ok((key, value)) = pair else {
                    continue;
                };
                let key = match &key {
                    Value::String(s) => s.to_string_lossy(),
                    Value::Integer(i) => i.to_string(),
                    other => {
                        dropped.push(format!("a key of type {}", other.type_name()));
                        continue;
                    }
                };
                match convert::from_lua(&value, self.ctx.value_items.get()) {
                    Ok(v) => {
                        map.insert(key, v);
                    }
                    Err(e) => dropped.push(format!("persist.{key}: {e}")),
                }
            }
        }
        Persisted {
            value: Box::new(ScriptValue::Map(map)),
            dropped,
        }
    }

    fn give_persist(&mut self, persisted: Persisted) {
        let Ok(value) = persisted.value.downcast::<ScriptValue>() else {
            return;
        };
        if let (Ok(ecs), Ok(table)) = (
            self.lua.globals().get::<Table>("ecs"),
            convert::to_lua(&self.lua, &value),
        ) {
            let table = match table {
                // An empty map arrives as an empty list table: same thing.
                Value::Table(t) => t,
                _ => return,
            };
            let _ = ecs.set("persist", table);
        }
    }

    fn dependencies(&self) -> Vec<String> {
        self.ctx.deps.borrow().iter().cloned().collect()
    }

    fn run_system(
        &mut self,
        handle: FnHandle,
        ids: Option<&[u64]>,
        comps: &[CompKey],
        dt: f64,
    ) -> Result<(), ScriptFailure> {
        let host = &self.ctx.host;
        let result = match ids {
            None => {
                let f = self.function(handle)?;
                self.watched(FRAME_GRACE, || self.call_guarded(&f, dt))
            }
            Some(ids) => {
                let runner = self.ctx.runners.borrow().get(&handle.0).cloned();
                let Some(runner) = runner else {
                    return Err(ScriptFailure::message("system loop missing"));
                };
                let ptrs = host.borrow_mut().numeric_ptrs(ids, comps);
                let id_numbers: Vec<f64> = ids.iter().map(|&id| id as f64).collect();
                let args = (
                    id_numbers.len() as i64,
                    LightUserData(id_numbers.as_ptr() as *mut std::ffi::c_void),
                    LightUserData(ptrs.as_ptr() as *mut std::ffi::c_void),
                    dt,
                );
                // `id_numbers` and `ptrs` outlive the call that reads them.
                self.watched(FRAME_GRACE, || self.call_guarded(&runner, args))
            }
        };
        result.map_err(|e| self.failure(e))
    }

    fn runs_on_workers(&self) -> bool {
        true
    }

    fn leave_worker(&mut self) {
        hook::leave_thread(self.lua.state(), &self.budget);
    }

    fn batch_in_place(&self) -> bool {
        true
    }

    fn run_batch(
        &mut self,
        handle: FnHandle,
        batch: &mut crate::scripting::batch::BatchData,
        dt: f64,
    ) -> Result<(), ScriptFailure> {
        let runner = self.ctx.runners.borrow().get(&handle.0).cloned();
        let Some(runner) = runner else {
            return Err(ScriptFailure::message("batch system wrapper missing"));
        };
        let (n, ids, mut ptrs, strides): (usize, *mut std::ffi::c_void, Vec<*mut f64>, Vec<i32>) =
            match &batch.direct {
                Some(direct) => (
                    direct.len,
                    direct.ids as *mut std::ffi::c_void,
                    direct.columns.iter().map(|c| c.0).collect(),
                    direct.columns.iter().map(|c| c.1 as i32).collect(),
                ),
                None => (
                    batch.ids.len(),
                    batch.ids.as_mut_ptr() as *mut std::ffi::c_void,
                    batch.columns.iter_mut().map(|c| c.as_mut_ptr()).collect(),
                    vec![1; batch.columns.len()],
                ),
            };
        let mut dirty = vec![0u8; ptrs.len()];
        let args = (
            n as i64,
            LightUserData(ids),
            batch.direct.is_some(),
            LightUserData(ptrs.as_mut_ptr() as *mut std::ffi::c_void),
            LightUserData(strides.as_ptr() as *mut std::ffi::c_void),
            LightUserData(dirty.as_mut_ptr() as *mut std::ffi::c_void),
            dt,
        );
        // The arrays, `ptrs`, `strides` and `dirty` outlive the call; the
        // view's structs check the generation, so they are never used after
        // it.
        let result = self.watched(FRAME_GRACE, || self.call_guarded(&runner, args));
        for (written, flag) in batch.written.iter_mut().zip(&dirty) {
            *written = *flag != 0;
        }
        result.map_err(|e| self.failure(e))
    }

    fn call_handler(
        &mut self,
        handle: FnHandle,
        payload: &ScriptValue,
    ) -> Result<(), ScriptFailure> {
        let f = self.function(handle)?;
        let arg = convert::to_lua(&self.lua, payload).map_err(|e| self.failure(e))?;
        let result = self.watched(FRAME_GRACE, || self.call_guarded(&f, arg));
        result.map_err(|e| self.failure(e))
    }

    fn begin_frame(&mut self) {
        self.budget.reset();
    }

    fn unload(&mut self) -> Result<(), ScriptFailure> {
        self.call_global("on_unload", MultiValue::new(), FRAME_GRACE)
    }

    fn stack_reader(&self) -> crate::profiling::samples::StackReader {
        crate::profiling::samples::StackReader::Ask(Arc::clone(&self.sampler) as _)
    }

    fn memory_bytes(&self) -> Option<usize> {
        Some(self.lua.used_memory())
    }

    fn hunt_leak(&mut self, step: crate::scripting::HuntStep) -> Option<LeakSite> {
        use crate::scripting::HuntStep;
        let step = match step {
            HuntStep::Start => "start",
            HuntStep::Watch => "watch",
            HuntStep::Finish => "finish",
        };
        // The roots: the script's globals (by name), `ecs.persist`, and the
        // functions it registered (by their upvalues' names).
        let roots = self.lua.create_table().ok()?;
        let globals = self.lua.globals();
        let persist: Value = globals
            .get::<Table>("ecs")
            .and_then(|ecs| ecs.get("persist"))
            .unwrap_or(Value::Nil);
        let push = |name: &str, value: Value| {
            let _ = roots.raw_push(name);
            let _ = roots.raw_push(value);
        };
        push("", Value::Table(globals));
        push("ecs.persist", persist);
        for f in self.ctx.fns.borrow().iter() {
            push("", Value::Function(f.clone()));
        }
        let (path, growth, count, at): (Option<String>, Option<u64>, Option<u64>, Option<String>) =
            self.prelude.hunt_leak.call((step, roots)).ok()?;
        let line = at.and_then(|at| {
            let (file, line) = at.rsplit_once(':')?;
            (file == self.ctx.path).then(|| line.parse().ok()).flatten()
        });
        Some(LeakSite {
            path: path?,
            kind: "table".into(),
            containers: count.unwrap_or(1),
            growth: growth?,
            line,
        })
    }

    fn settled_memory_bytes(&mut self) -> Option<usize> {
        // Twice: finalizers run in the first cycle free in the second.
        let _ = self.lua.gc_collect();
        let _ = self.lua.gc_collect();
        Some(self.lua.used_memory())
    }

    fn defined_line(&self, handle: FnHandle) -> Option<u32> {
        let f = self.function(handle).ok()?;
        f.info().line_defined.map(|l| l as u32)
    }

    fn resume(&mut self, handle: FnHandle, input: &ScriptValue) -> Result<Resumed, ScriptFailure> {
        let input = convert::to_lua(&self.lua, input).map_err(|e| self.failure(e))?;
        let result = self.watched(FRAME_GRACE, || {
            self.prelude
                .resume
                .call::<(mlua::LuaString, Value, Value)>((handle.0, input))
        });
        let (kind, a, b) = result.map_err(|e| self.failure(e))?;
        let text = |v: &Value| v.to_string().unwrap_or_default();
        let number = |v: &Value| match v {
            Value::Integer(i) => *i as f64,
            Value::Number(n) => *n,
            _ => 0.0,
        };
        Ok(match &*kind.as_bytes() {
            b"frames" => Resumed::Wait(WaitRequest::Frames(number(&a) as u64)),
            b"seconds" => Resumed::Wait(WaitRequest::Seconds(number(&a))),
            b"event" => Resumed::Wait(WaitRequest::Event(text(&a))),
            b"returned" => Resumed::Returned,
            b"error" => {
                // The traceback starts with the message, as mlua's do.
                return Err(self.failure(mlua::Error::RuntimeError(text(&b))));
            }
            _ => {
                let place = text(&b);
                let (file, line) = match place.rsplit_once(':') {
                    Some((file, line)) => (Some(file.to_string()), line.parse().ok()),
                    None => (None, None),
                };
                return Err(ScriptFailure {
                    message: crate::scripting::bad_yield(&text(&a)),
                    line,
                    file,
                    traceback: String::new(),
                });
            }
        })
    }

    fn release_coroutine(&mut self, handle: FnHandle) {
        let _ = self.prelude.release.call::<()>(handle.0);
    }

    fn inspect_coroutine(&mut self, handle: FnHandle) -> Vec<StackFrame> {
        let Ok(frames) = self.prelude.inspect.call::<Table>(handle.0) else {
            return Vec::new();
        };
        frames
            .sequence_values::<Table>()
            .filter_map(Result::ok)
            .map(|f| StackFrame {
                file: f.get("file").unwrap_or_default(),
                line: f.get::<i64>("line").unwrap_or(0).max(0) as u32,
                function: self.function_name(f.get("function").unwrap_or_default()),
                locals: f
                    .get::<Table>("locals")
                    .map(|l| {
                        l.sequence_values::<Table>()
                            .filter_map(Result::ok)
                            .map(|pair| {
                                (
                                    pair.get::<String>(1).unwrap_or_default(),
                                    pair.get::<String>(2).unwrap_or_default(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect()
    }

    fn locate_coroutine(&mut self, handle: FnHandle) -> Option<(String, u32)> {
        let (file, line) = self
            .prelude
            .locate
            .call::<(Option<String>, Option<i64>)>(handle.0)
            .ok()?;
        Some((file?, line?.max(0) as u32))
    }
}

/// The prelude's functions the host calls, looked up once.
struct Prelude {
    hunt_leak: Function,
    resume: Function,
    /// Calls a function with break on error's handler.
    guard: Function,
    inspect: Function,
    locate: Function,
    release: Function,
}

impl Prelude {
    fn from(exports: &Table) -> mlua::Result<Prelude> {
        Ok(Prelude {
            hunt_leak: exports.get("hunt_leak")?,
            resume: exports.get("resume")?,
            guard: exports.get("guard")?,
            inspect: exports.get("inspect")?,
            locate: exports.get("locate")?,
            release: exports.get("release")?,
        })
    }
}

/// Turns an mlua error into a failure with message, file, line and
/// traceback. Every error of ours and of Lua reads `file:line: message`.
/// Compiles a script's text without running it (`ecscope check`): its
/// syntax error, with the line, if it has one.
pub fn syntax_check(path: &str, source: &str) -> Result<(), ScriptFailure> {
    let lua = Lua::new();
    lua.load(source)
        .set_name(format!("@{path}"))
        .set_mode(mlua::chunk::ChunkMode::Text)
        .into_function()
        .map(|_| ())
        .map_err(|e| failure_from(e, 0))
}

fn failure_from(err: mlua::Error, memory_limit: usize) -> ScriptFailure {
    let mut traceback = String::new();
    let mut root = &err;
    loop {
        match root {
            mlua::Error::CallbackError {
                traceback: tb,
                cause,
            } => {
                if traceback.is_empty() {
                    traceback = tb.clone();
                }
                root = cause;
            }
            mlua::Error::WithContext { cause, .. } => root = cause,
            _ => break,
        }
    }
    let text = match root {
        mlua::Error::RuntimeError(s) => s.clone(),
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        mlua::Error::MemoryError(_) => format!(
            "out of memory: the script's Lua heap reached its limit of {} MiB ([limits] memory_mb)",
            memory_limit / (1024 * 1024)
        ),
        other => other.to_string(),
    };
    let (message, tb) = match text.split_once("\nstack traceback:") {
        // With break on error, the raising stack's traceback comes first
        // and the rethrow's after it: only the first is the error's.
        Some((m, t)) => (
            m.to_string(),
            format!(
                "stack traceback:{}",
                t.split_once("\nstack traceback:")
                    .map_or(t, |(first, _)| first)
            ),
        ),
        None => (text, String::new()),
    };
    if traceback.is_empty() {
        traceback = tb;
    }
    let (file, line, message) = match split_location(&message) {
        Some((file, line, rest)) if !file.starts_with(api::INTERNAL_CHUNK) => {
            (Some(file.to_string()), Some(line), rest.to_string())
        }
        Some((_, _, rest)) => match traceback_location(&traceback) {
            Some((file, line)) => (Some(file), Some(line), rest.to_string()),
            None => (None, None, rest.to_string()),
        },
        None => match traceback_location(&traceback) {
            Some((file, line)) => (Some(file), Some(line), message),
            None => (None, None, message),
        },
    };
    ScriptFailure {
        message,
        line,
        file,
        traceback: traceback.trim_end().to_string(),
    }
}

/// Splits `file:line: message`.
fn split_location(message: &str) -> Option<(&str, u32, &str)> {
    let (head, rest) = message.split_once(": ")?;
    let (file, line) = head.rsplit_once(':')?;
    let line: u32 = line.parse().ok()?;
    if file.is_empty() || file.contains('\n') {
        return None;
    }
    Some((file, line, rest))
}

/// The first Lua frame of a traceback.
fn traceback_location(traceback: &str) -> Option<(String, u32)> {
    traceback.lines().skip(1).find_map(|l| {
        let l = l.trim();
        if l.starts_with("[C]") || l.starts_with(api::INTERNAL_CHUNK) {
            return None;
        }
        let (head, _) = l.split_once(": ")?;
        let (file, line) = head.rsplit_once(':')?;
        Some((file.to_string(), line.parse().ok()?))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_locations() {
        assert_eq!(
            split_location("scripts/a.lua:12: boom"),
            Some(("scripts/a.lua", 12, "boom"))
        );
        assert_eq!(split_location("not enough memory"), None);
        assert_eq!(
            traceback_location(
                "stack traceback:\n\t[C]: in function 'x'\n\tscripts/b.lua:3: in main chunk"
            ),
            Some(("scripts/b.lua".to_string(), 3))
        );
    }
}
