//! The Lua backend: one LuaJIT state per script (mlua, vendored LuaJIT).
//!
//! This module only binds and converts; the semantics are in
//! [`crate::scripting::host`].

mod api;
mod convert;

use std::ffi::{CStr, c_int};
use std::path::Path;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mlua::{Function, LightUserData, Lua, LuaOptions, MultiValue, StdLib, Value, ffi};

use self::api::Ctx;
use crate::project::Limits;
use crate::runtime::components::CompKey;
use crate::scripting::watchdog::{Alarm, FRAME_GRACE, LOAD_GRACE, WatchSlot, WatchdogHandle};
use crate::scripting::{FnHandle, ScriptBackend, ScriptFailure, ScriptId, ScriptValue, SharedHost};

/// Instructions between two calls of the counting hook once armed.
const HOOK_EVERY: c_int = 1000;

/// Registry key under which a state keeps a pointer to its [`Budget`].
const BUDGET_KEY: &CStr = c"ecscope.budget";

/// The instruction budget of one script, shared with the counting hook.
struct Budget {
    limit: u64,
    used: AtomicU64,
}

/// Arms the counting hook on a state from the watchdog thread.
struct LuaAlarm {
    state: StatePtr,
}

/// A Lua state pointer handed to the watchdog thread.
struct StatePtr(*mut ffi::lua_State);

// SAFETY: the watchdog only calls `lua_sethook` through this pointer, which
// Lua documents as safe to call asynchronously, and only while the state is
// registered; the script unregisters before the state is closed.
unsafe impl Send for StatePtr {}
// SAFETY: as above; the pointer is never dereferenced from Rust.
unsafe impl Sync for StatePtr {}

impl Alarm for LuaAlarm {
    fn arm(&self) {
        // SAFETY: see `StatePtr`; the state is alive while registered.
        unsafe {
            ffi::lua_sethook(
                self.state.0,
                Some(count_hook),
                ffi::LUA_MASKCOUNT,
                HOOK_EVERY,
            );
        }
    }

    fn disarm(&self) {
        // SAFETY: called on the script's own thread between calls.
        unsafe {
            ffi::lua_sethook(self.state.0, None, 0, 0);
        }
    }
}

/// Counts instructions once armed and raises an error past the budget.
///
/// # Safety
/// Called by LuaJIT with a valid state whose registry holds a live
/// `Budget` pointer under [`BUDGET_KEY`].
unsafe extern "C-unwind" fn count_hook(state: *mut ffi::lua_State, _ar: *mut ffi::lua_Debug) {
    // SAFETY: LuaJIT passes a valid state; the registry entry was set when
    // the state was created and the `Budget` outlives the state.
    unsafe {
        ffi::lua_getfield(state, ffi::LUA_REGISTRYINDEX, BUDGET_KEY.as_ptr());
        let budget = ffi::lua_touserdata(state, -1) as *const Budget;
        ffi::lua_settop(state, -2);
        if budget.is_null() {
            return;
        }
        let budget = &*budget;
        let used = budget.used.fetch_add(HOOK_EVERY as u64, Ordering::Relaxed) + HOOK_EVERY as u64;
        if used <= budget.limit {
            return;
        }
        let mut ar: ffi::lua_Debug = std::mem::zeroed();
        let mut location = String::new();
        if ffi::lua_getstack(state, 0, &mut ar) != 0
            && ffi::lua_getinfo(state, c"Sl".as_ptr(), &mut ar) != 0
        {
            let src = CStr::from_ptr(ar.short_src.as_ptr()).to_string_lossy();
            if ar.currentline > 0 {
                location = format!("{src}:{}: ", ar.currentline);
            }
        }
        let message = format!(
            "{location}instruction limit exceeded: more than {} instructions in one frame ([limits] instructions_per_frame); is there an endless loop?",
            budget.limit
        );
        ffi::lua_pushlstring(state, message.as_ptr() as *const _, message.len());
        drop(message);
        drop(location);
        ffi::lua_error(state);
    }
}

/// One Lua script.
pub struct LuaScript {
    lua: Lua,
    ctx: Rc<Ctx>,
    slot: Arc<WatchSlot>,
    watchdog: WatchdogHandle,
    budget: Arc<Budget>,
    memory_limit: usize,
}

impl LuaScript {
    /// A fresh state for the script at `path` (manifest path) with the `ecs`
    /// API installed and the limits applied.
    pub fn new(
        host: SharedHost,
        script: ScriptId,
        path: &str,
        root: &Path,
        limits: &Limits,
        watchdog: WatchdogHandle,
    ) -> Result<LuaScript, ScriptFailure> {
        let setup = |e: mlua::Error| ScriptFailure::message(format!("cannot set up Lua: {e}"));
        // SAFETY: FFI is loaded for the prelude's proxies and taken away
        // from scripts before any script code runs (see `api::install`).
        let lua =
            unsafe { Lua::unsafe_new_with(StdLib::ALL_SAFE | StdLib::FFI, LuaOptions::new()) };
        let memory_limit = (limits.memory_mb as usize).saturating_mul(1024 * 1024);
        lua.set_memory_limit(memory_limit).map_err(setup)?;
        let ctx = Rc::new(Ctx::new(host, script, path, root.to_path_buf()));
        api::install(&lua, Rc::clone(&ctx)).map_err(setup)?;

        let budget = Arc::new(Budget {
            limit: limits.instructions_per_frame,
            used: AtomicU64::new(0),
        });
        let budget_ptr = Arc::as_ptr(&budget) as *mut std::ffi::c_void;
        // SAFETY: plain registry write on our own state; the pointer stays
        // valid because `budget` lives as long as this script.
        unsafe {
            lua.exec_raw::<()>((), |state| {
                ffi::lua_pushlightuserdata(state, budget_ptr);
                ffi::lua_setfield(state, ffi::LUA_REGISTRYINDEX, BUDGET_KEY.as_ptr());
            })
            .map_err(setup)?;
        }
        let alarm = LuaAlarm {
            state: StatePtr(lua.state()),
        };
        let slot = watchdog.register(Box::new(alarm));
        Ok(LuaScript {
            lua,
            ctx,
            slot,
            watchdog,
            budget,
            memory_limit,
        })
    }

    /// Project modules this script loaded with `require`.
    pub fn dependencies(&self) -> Vec<String> {
        self.ctx.deps.borrow().iter().cloned().collect()
    }

    fn function(&self, handle: FnHandle) -> Result<Function, ScriptFailure> {
        self.ctx
            .fns
            .borrow()
            .get(handle.0 as usize)
            .cloned()
            .ok_or_else(|| ScriptFailure::message("unknown function handle"))
    }

    fn failure(&self, err: mlua::Error) -> ScriptFailure {
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
        let result = self.slot.watch(grace, || f.call::<()>(args));
        self.ctx.end_call();
        result.map_err(|e| self.failure(e))
    }
}

impl Drop for LuaScript {
    fn drop(&mut self) {
        // The watchdog must not touch the state once it is closed.
        self.watchdog.unregister(&self.slot);
    }
}

impl ScriptBackend for LuaScript {
    fn load(&mut self, source: &str) -> Result<(), ScriptFailure> {
        let chunk = self
            .lua
            .load(source)
            .set_name(format!("@{}", self.ctx.path))
            .set_mode(mlua::chunk::ChunkMode::Text);
        let result = self.slot.watch(LOAD_GRACE, || chunk.exec());
        self.ctx.end_call();
        result.map_err(|e| self.failure(e))?;
        self.call_global("on_load", MultiValue::new(), LOAD_GRACE)
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
                self.slot.watch(FRAME_GRACE, || f.call::<()>(dt))
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
                self.slot.watch(FRAME_GRACE, || runner.call::<()>(args))
            }
        };
        self.ctx.end_call();
        result.map_err(|e| self.failure(e))
    }

    fn call_handler(
        &mut self,
        handle: FnHandle,
        payload: &ScriptValue,
    ) -> Result<(), ScriptFailure> {
        let f = self.function(handle)?;
        let arg = convert::to_lua(&self.lua, payload).map_err(|e| self.failure(e))?;
        let result = self.slot.watch(FRAME_GRACE, || f.call::<()>(arg));
        self.ctx.end_call();
        result.map_err(|e| self.failure(e))
    }

    fn begin_frame(&mut self) {
        self.budget.used.store(0, Ordering::Relaxed);
    }

    fn unload(&mut self) -> Result<(), ScriptFailure> {
        self.call_global("on_unload", MultiValue::new(), FRAME_GRACE)
    }

    fn memory_bytes(&self) -> Option<usize> {
        Some(self.lua.used_memory())
    }

    fn defined_line(&self, handle: FnHandle) -> Option<u32> {
        let f = self.function(handle).ok()?;
        f.info().line_defined.map(|l| l as u32)
    }
}

/// Turns an mlua error into a failure with message, file, line and
/// traceback. Every error of ours and of Lua reads `file:line: message`.
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
        Some((m, t)) => (m.to_string(), format!("stack traceback:{t}")),
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
