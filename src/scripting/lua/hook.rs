//! The one debug hook of a Lua state: instruction counting for the
//! watchdog, and line events for the debugger. LuaJIT has a single hook per
//! VM, so both share it; each is switched on only while needed, because any
//! hook makes compiled loops fall back to the interpreter.

use std::ffi::{CStr, c_int};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use mlua::ffi;

use super::evaluate::{LazyLevels, LuaAccess};
use crate::scripting::StackFrame;
use crate::scripting::debugger::SharedDebugger;
use crate::scripting::watchdog::{Alarm, WatchSlot};

/// Instructions between two calls of the hook while counting.
const HOOK_EVERY: c_int = 1000;

/// Registry key of the [`Budget`] pointer.
const BUDGET_KEY: &CStr = c"ecscope.budget";
/// Registry key of the [`DebugLink`] pointer.
const DEBUG_KEY: &CStr = c"ecscope.debug";
/// Registry key of the prelude's value renderer.
pub const DESCRIBE_KEY: &str = "ecscope.describe";

/// The instruction budget of one script and the hook's mask, shared with
/// the watchdog thread.
pub struct Budget {
    /// Instructions allowed per frame once counting.
    pub limit: u64,
    /// Instructions counted this frame.
    pub used: AtomicU64,
    /// Set when the limit fired this frame; the prelude's `pcall`,
    /// `xpcall` and `coroutine.resume` read it (through FFI) to raise the
    /// limit again, so a script cannot catch it and go on.
    pub tripped: AtomicBool,
    /// Coroutines resumed inside one another right now; the prelude counts
    /// them through FFI, only on the script's thread.
    pub nested: std::sync::atomic::AtomicI32,
    /// The limit's error as raised, with the script line it fired at.
    pub tripped_at: std::sync::Mutex<String>,
    armed: AtomicBool,
    lines: AtomicBool,
    /// A sample asked for by the sampler thread, recorded by the hook at
    /// the next instruction.
    sample: std::sync::Mutex<Option<crate::profiling::samples::PendingSample>>,
    sampling: AtomicBool,
    /// The thread that runs the script's calls (`pthread_self`), which the
    /// watchdog and the sampler signal to have the hook set.
    thread: AtomicU64,
}

/// The instruction limit fired: the script's call is stopped with this
/// message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InstructionLimit(pub String);

impl Budget {
    /// A budget of `limit` instructions per frame.
    pub fn new(limit: u64) -> Budget {
        Budget {
            limit,
            used: AtomicU64::new(0),
            tripped: AtomicBool::new(false),
            nested: std::sync::atomic::AtomicI32::new(0),
            tripped_at: std::sync::Mutex::new(String::new()),
            armed: AtomicBool::new(false),
            lines: AtomicBool::new(false),
            sample: std::sync::Mutex::new(None),
            sampling: AtomicBool::new(false),
            thread: AtomicU64::new(0),
        }
    }

    /// The limit's error, without a location.
    pub fn message(&self) -> String {
        format!(
            "instruction limit exceeded: more than {} instructions in one frame ([limits] instructions_per_frame); is there an endless loop?",
            self.limit
        )
    }

    /// Counts `n` steps of work done in C on the script's behalf (a
    /// pattern match) while the watchdog has armed the script; past the
    /// limit, trips it and says why.
    pub fn charge(&self, n: u64) -> Result<(), InstructionLimit> {
        if self.tripped.load(Ordering::Relaxed) {
            return Err(InstructionLimit(self.message()));
        }
        if !self.armed.load(Ordering::Relaxed) {
            return Ok(());
        }
        if self.used.fetch_add(n, Ordering::Relaxed) + n > self.limit {
            self.tripped.store(true, Ordering::Relaxed);
            return Err(InstructionLimit(self.message()));
        }
        Ok(())
    }

    /// After a call that returned normally: the limit's error if it fired
    /// during the call (the script caught it).
    pub fn tripped_error(&self) -> Option<String> {
        if !self.tripped.load(Ordering::Relaxed) {
            return None;
        }
        let at = self
            .tripped_at
            .lock()
            .map(|m| m.clone())
            .unwrap_or_default();
        Some(if at.is_empty() { self.message() } else { at })
    }

    /// A new frame: the budget is whole again.
    pub fn reset(&self) {
        self.used.store(0, Ordering::Relaxed);
        self.tripped.store(false, Ordering::Relaxed);
        self.nested.store(0, Ordering::Relaxed);
    }
}

/// What the line hook needs, used only on the script's thread.
pub struct DebugLink {
    /// The runtime's debugger.
    pub debugger: SharedDebugger,
    /// The script's watchdog slot (paused while stopped at a break).
    pub slot: Arc<WatchSlot>,
    /// The project's folder (to name functions from their source).
    pub root: std::path::PathBuf,
    /// Names of functions the runtime calls directly, by file and defining
    /// line, read from the source once for the sampler.
    pub names: std::cell::RefCell<std::collections::HashMap<(String, c_int), String>>,
}

/// A Lua state pointer handed to the watchdog thread.
pub struct StatePtr(pub *mut ffi::lua_State);

// SAFETY: the watchdog only calls `lua_sethook` through this pointer, which
// Lua documents as safe to call asynchronously, and only while the state is
// registered; the script unregisters before the state is closed.
unsafe impl Send for StatePtr {}
// SAFETY: as above; the pointer is never dereferenced from Rust.
unsafe impl Sync for StatePtr {}

/// Sets the hook for the current needs: counting while armed, lines while
/// debugging, one instruction while a sample is asked for.
///
/// # Safety
/// `state` must be a live state, and this must run on the thread that runs
/// it (in a signal handler there, at worst): LuaJIT's VM rewrites the same
/// dispatch table as `lua_sethook` while it records traces, so a hook set
/// from another thread can leave the table out of step with the mask and
/// lose the debugger's line events. Other threads signal the script's
/// thread instead ([`signal_script_thread`]), as LuaJIT's own profiler
/// does with its timer signal.
unsafe fn apply(state: *mut ffi::lua_State, budget: &Budget) {
    let armed = budget.armed.load(Ordering::SeqCst);
    let lines = budget.lines.load(Ordering::SeqCst);
    let sampling = budget.sampling.load(Ordering::SeqCst);
    let count = if sampling { 1 } else { HOOK_EVERY };
    let mask = if armed || sampling {
        ffi::LUA_MASKCOUNT
    } else {
        0
    } | if lines { ffi::LUA_MASKLINE } else { 0 };
    // SAFETY: per this function's contract.
    unsafe {
        if mask == 0 {
            ffi::lua_sethook(state, None, 0, 0);
        } else {
            ffi::lua_sethook(
                state,
                Some(script_hook),
                mask,
                if armed || sampling { count } else { 0 },
            );
        }
    }
}

/// Arms instruction counting on a state from the watchdog thread.
pub struct LuaAlarm {
    /// The state.
    pub state: StatePtr,
    /// Its budget.
    pub budget: Arc<Budget>,
}

impl Alarm for LuaAlarm {
    fn arm(&self) {
        self.budget.armed.store(true, Ordering::SeqCst);
        signal_script_thread(&self.budget);
    }

    fn disarm(&self) {
        self.budget.armed.store(false, Ordering::SeqCst);
        // SAFETY: called on the script's own thread when a call ends.
        unsafe { apply(self.state.0, &self.budget) }
    }
}

/// Asks a Lua state for samples of its stack (a
/// [`crate::profiling::samples::AskStack`]): like LuaJIT's own profiler,
/// signals the script's thread to set a one-instruction hook, which
/// records the stack and takes itself away.
pub struct LuaSampler {
    /// The state's budget, which carries the pending sample.
    pub budget: Arc<Budget>,
}

impl crate::profiling::samples::AskStack for LuaSampler {
    fn ask(&self, sample: crate::profiling::samples::PendingSample) {
        if let Ok(mut pending) = self.budget.sample.lock() {
            *pending = Some(sample);
        }
        self.budget.sampling.store(true, Ordering::SeqCst);
        signal_script_thread(&self.budget);
    }
}

thread_local! {
    /// The state this thread is running a call of, and its budget, for the
    /// signal handler (which runs on this thread). Plain pointers in a
    /// `const` cell: a signal handler may read them.
    static RUNNING: std::cell::Cell<(usize, usize)> = const { std::cell::Cell::new((0, 0)) };
}

/// The signal the watchdog and the sampler send a script's thread to have
/// its hook set there.
fn hook_signal() -> c_int {
    libc::SIGRTMIN() + 4
}

/// Installs the handler of [`hook_signal`] once per process.
fn install_signal_handler() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: a plain sigaction with a handler that only reads atomics
        // and a thread-local cell and calls `lua_sethook`, which Lua allows
        // in a signal handler.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_hook_signal as *const () as usize;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(hook_signal(), &action, std::ptr::null_mut());
        }
    });
}

/// The handler: sets the running state's hook from its budget's flags.
extern "C" fn on_hook_signal(_: c_int) {
    let (state, budget) = RUNNING.try_with(std::cell::Cell::get).unwrap_or((0, 0));
    if state == 0 || budget == 0 {
        return;
    }
    // SAFETY: `RUNNING` names a live state and its budget while this thread
    // runs the state's calls (set before each call, cleared before the
    // state closes, both on this thread, which this handler interrupts).
    unsafe { apply(state as *mut ffi::lua_State, &*(budget as *const Budget)) }
}

/// Has the script's thread set its hook from the budget's flags.
fn signal_script_thread(budget: &Budget) {
    let thread = budget.thread.load(Ordering::SeqCst);
    if thread != 0 {
        // SAFETY: the id is a live thread's (the runtime's, which outlives
        // its scripts); the signal's handler is installed before any id is
        // recorded.
        unsafe {
            libc::pthread_kill(thread as libc::pthread_t, hook_signal());
        }
    }
}

/// Before a call, on the thread that runs it: this state is the one the
/// hook signal acts on, and this thread the one to signal.
///
/// # Safety
/// `state` must be the live state `budget` belongs to, and must call
/// [`leave_thread`] before it closes.
pub unsafe fn enter_thread(state: *mut ffi::lua_State, budget: &Budget) {
    install_signal_handler();
    // SAFETY: pthread_self has no preconditions.
    let me = unsafe { libc::pthread_self() } as u64;
    budget.thread.store(me, Ordering::SeqCst);
    let _ = RUNNING.try_with(|r| r.set((state as usize, budget as *const Budget as usize)));
}

/// Before a state closes: no signal acts on it any more.
pub fn leave_thread(state: *mut ffi::lua_State, budget: &Budget) {
    budget.thread.store(0, Ordering::SeqCst);
    let _ = RUNNING.try_with(|r| {
        if r.get().0 == state as usize {
            r.set((0, 0));
        }
    });
}

/// At the end of a call into the host: serves a stack sample asked for
/// while the host ran. The hook would serve it at the next instruction,
/// which may be on the next line; here the calling frame is still at the
/// line that called.
pub fn after_host_call(lua: &mlua::Lua, budget: &Budget) {
    if !budget.sampling.load(Ordering::Relaxed) || !budget.sampling.swap(false, Ordering::SeqCst) {
        return;
    }
    // Inside a callback, mlua's state is the calling thread's.
    let state = lua.state();
    // SAFETY: `state` is the live thread running this callback; the calls
    // only read its stack and the registry, and reset the hook as `apply`
    // does on the script's thread.
    unsafe {
        let pending = budget.sample.lock().ok().and_then(|mut p| p.take());
        let link = registry_pointer::<DebugLink>(state, DEBUG_KEY);
        if let (Some(pending), false) = (pending, link.is_null()) {
            pending.record(sample_stack(state, &*link));
        }
        apply(state, budget);
    }
}

/// Stores the hook's data in the state's registry.
///
/// # Safety
/// `budget` and `link` must outlive the state (the script owns all three).
pub unsafe fn install(state: *mut ffi::lua_State, budget: *const Budget, link: *const DebugLink) {
    // SAFETY: plain registry writes on a live state.
    unsafe {
        ffi::lua_pushlightuserdata(state, budget as *mut _);
        ffi::lua_setfield(state, ffi::LUA_REGISTRYINDEX, BUDGET_KEY.as_ptr());
        ffi::lua_pushlightuserdata(state, link as *mut _);
        ffi::lua_setfield(state, ffi::LUA_REGISTRYINDEX, DEBUG_KEY.as_ptr());
    }
}

/// Switches line events on or off to match the debugger; called on the
/// script's thread before a call.
///
/// # Safety
/// `state` must be the live state `budget` belongs to.
pub unsafe fn sync_lines(state: *mut ffi::lua_State, budget: &Budget, want: bool) {
    if budget.lines.swap(want, Ordering::SeqCst) != want {
        // SAFETY: per this function's contract.
        unsafe { apply(state, budget) }
    }
}

/// Reads a light userdata pointer from the registry.
unsafe fn registry_pointer<T>(state: *mut ffi::lua_State, key: &CStr) -> *const T {
    // SAFETY: plain registry read on a live state.
    unsafe {
        ffi::lua_getfield(state, ffi::LUA_REGISTRYINDEX, key.as_ptr());
        let p = ffi::lua_touserdata(state, -1) as *const T;
        ffi::lua_settop(state, -2);
        p
    }
}

/// The hook: counts instructions, or checks a line against the debugger.
///
/// # Safety
/// Called by LuaJIT with a valid state whose registry holds the pointers
/// written by [`install`].
unsafe extern "C-unwind" fn script_hook(state: *mut ffi::lua_State, ar: *mut ffi::lua_Debug) {
    // SAFETY: LuaJIT passes a valid state and activation record.
    unsafe {
        if (*ar).event == ffi::LUA_HOOKLINE {
            let link = registry_pointer::<DebugLink>(state, DEBUG_KEY);
            if !link.is_null() {
                on_line(state, ar, &*link);
            }
            return;
        }
        let budget = registry_pointer::<Budget>(state, BUDGET_KEY);
        if budget.is_null() {
            return;
        }
        let budget = &*budget;
        if budget.sampling.swap(false, Ordering::SeqCst) {
            let pending = budget.sample.lock().ok().and_then(|mut p| p.take());
            let link = registry_pointer::<DebugLink>(state, DEBUG_KEY);
            if let (Some(pending), false) = (pending, link.is_null()) {
                pending.record(sample_stack(state, &*link));
            }
            apply(state, budget);
            // This call came one instruction after the request, not
            // `HOOK_EVERY` after the last count.
            return;
        }
        if !budget.armed.load(Ordering::Relaxed) {
            return;
        }
        let used = budget.used.fetch_add(HOOK_EVERY as u64, Ordering::Relaxed) + HOOK_EVERY as u64;
        if used <= budget.limit {
            return;
        }
        let location = match frame_at(state, 0) {
            Some((file, line, _)) if line > 0 => format!("{file}:{line}: "),
            _ => String::new(),
        };
        budget.tripped.store(true, Ordering::Relaxed);
        let message = format!("{location}{}", budget.message());
        if let Ok(mut at) = budget.tripped_at.lock() {
            at.clone_from(&message);
        }
        ffi::lua_pushlstring(state, message.as_ptr() as *const _, message.len());
        drop(message);
        drop(location);
        ffi::lua_error(state);
    }
}

/// The name a frame shows: its own when a script frame called it (the
/// name the runtime's own caller gives it, such as the prelude's loop
/// calling a system `fn`, is not the script's), `main chunk`, or what its
/// defining line names it (`from_source`).
fn frame_name(
    own: Option<&str>,
    called_by_script: bool,
    main: bool,
    from_source: impl FnOnce() -> String,
) -> String {
    match own {
        Some(own) if called_by_script => own.to_string(),
        _ if main => "main chunk".into(),
        _ => from_source(),
    }
}

/// The script frames of the running stack for a sample, root first, as
/// `file:function:line`; at most one more than the samples keep, so that
/// a cut shows.
unsafe fn sample_stack(state: *mut ffi::lua_State, link: &DebugLink) -> Vec<String> {
    // SAFETY: only reads the stack.
    unsafe {
        let mut scripts = 0;
        let mut level = 0;
        let mut ar: ffi::lua_Debug = std::mem::zeroed();
        let mut infos = Vec::new();
        while scripts <= crate::profiling::samples::MAX_DEPTH
            && ffi::lua_getstack(state, level, &mut ar) != 0
        {
            level += 1;
            if ffi::lua_getinfo(state, c"Sln".as_ptr(), &mut ar) == 0 {
                continue;
            }
            let file = CStr::from_ptr(ar.short_src.as_ptr()).to_string_lossy();
            let what = if ar.what.is_null() {
                ""
            } else {
                CStr::from_ptr(ar.what).to_str().unwrap_or("")
            };
            let script = is_script_frame(&file, what);
            let name = (!ar.name.is_null())
                .then(|| CStr::from_ptr(ar.name).to_string_lossy().into_owned());
            infos.push((
                script,
                file.into_owned(),
                what == "main",
                name,
                ar.linedefined,
                ar.currentline,
            ));
            scripts += usize::from(script);
        }
        // Innermost first here; a frame's name counts only when a script
        // frame called it (the prelude's own names are not the script's).
        let mut out = Vec::new();
        for (i, (script, file, main, name, defined, line)) in infos.iter().enumerate() {
            if !script {
                continue;
            }
            let caller_is_script = infos.get(i + 1).is_some_and(|c| c.0);
            let function = frame_name(name.as_deref(), caller_is_script, *main, || {
                link.names
                    .borrow_mut()
                    .entry((file.clone(), *defined))
                    .or_insert_with(|| {
                        crate::scripting::debugger::name_from_source(
                            &link.root,
                            file,
                            (*defined).max(0) as u32,
                        )
                        .unwrap_or_else(|| format!("function@{defined}"))
                    })
                    .clone()
            });
            out.push(format!("{file}:{function}:{}", line.max(&0)));
        }
        out.reverse();
        out
    }
}

/// File, line and `what` of the function at a stack level.
unsafe fn frame_at(state: *mut ffi::lua_State, level: c_int) -> Option<(String, i32, String)> {
    // SAFETY: lua_Debug is plain data; the calls only read the stack.
    unsafe {
        let mut ar: ffi::lua_Debug = std::mem::zeroed();
        if ffi::lua_getstack(state, level, &mut ar) == 0
            || ffi::lua_getinfo(state, c"Sl".as_ptr(), &mut ar) == 0
        {
            return None;
        }
        let file = CStr::from_ptr(ar.short_src.as_ptr())
            .to_string_lossy()
            .into_owned();
        let what = if ar.what.is_null() {
            String::new()
        } else {
            CStr::from_ptr(ar.what).to_string_lossy().into_owned()
        };
        Some((file, ar.currentline, what))
    }
}

fn is_script_frame(file: &str, what: &str) -> bool {
    what != "C" && !file.starts_with(super::api::INTERNAL_CHUNK)
}

/// A line is about to run: stop there if the debugger says so.
unsafe fn on_line(state: *mut ffi::lua_State, ar: *mut ffi::lua_Debug, link: &DebugLink) {
    let debugger = &link.debugger;
    if !debugger.is_active() {
        return;
    }
    // SAFETY: the activation record is the hook's own.
    unsafe {
        if ffi::lua_getinfo(state, c"S".as_ptr(), ar) == 0 {
            return;
        }
        let file = CStr::from_ptr((*ar).short_src.as_ptr()).to_string_lossy();
        let what = if (*ar).what.is_null() {
            ""
        } else {
            CStr::from_ptr((*ar).what).to_str().unwrap_or("")
        };
        if !is_script_frame(&file, what) {
            return;
        }
        let line = (*ar).currentline.max(0) as u32;
        let depth = || {
            let mut ar: ffi::lua_Debug = std::mem::zeroed();
            let mut depth = 0;
            while ffi::lua_getstack(state, depth, &mut ar) != 0 {
                depth += 1;
            }
            depth as u32
        };
        let Some((reason, depth)) = debugger.should_break(&file, line, depth) else {
            return;
        };
        // The line hook runs in the function at level 0: the other frames
        // are found only if asked for.
        let mut access = LuaAccess {
            target: state,
            runner: state,
            levels: LazyLevels::Known(vec![0]),
        };
        link.slot.pause_timing();
        debugger.hit(
            file.into_owned(),
            line,
            depth,
            || stack(state, state, &link.root),
            reason,
            &mut access,
        );
        link.slot.resume_timing();
    }
}

/// Break on error, from the prelude's error handler (a system or handler
/// raised; the stack is still the raising one). Takes the error value.
///
/// # Safety
/// Called by Lua as a C function on a state set up by [`install`].
pub unsafe extern "C-unwind" fn on_error(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: per this function's contract.
    unsafe { stop_on_error(state, state) };
    0
}

/// Break on error for a coroutine that died: its thread keeps the stack.
/// Takes the thread and the error value.
///
/// # Safety
/// Called by Lua as a C function on a state set up by [`install`].
pub unsafe extern "C-unwind" fn on_error_co(state: *mut ffi::lua_State) -> c_int {
    // SAFETY: per this function's contract; the thread is argument 1.
    unsafe {
        let thread = ffi::lua_tothread(state, 1);
        if !thread.is_null() {
            ffi::lua_pushvalue(state, 2);
            ffi::lua_replace(state, 1);
            stop_on_error(state, thread);
        }
    }
    0
}

/// Stops at the innermost script frame of `target` with the error value
/// at index 1 of `state`, if the debugger breaks on errors.
unsafe fn stop_on_error(state: *mut ffi::lua_State, target: *mut ffi::lua_State) {
    // SAFETY: registry reads on a live state; the frames are read while
    // the stack is intact.
    unsafe {
        let link = registry_pointer::<DebugLink>(state, DEBUG_KEY);
        let budget = registry_pointer::<Budget>(state, BUDGET_KEY);
        if link.is_null() || !(*link).debugger.breaks_on_error() {
            return;
        }
        // The instruction limit's error is about time, not a bug at a
        // line: it is reported, not stopped at.
        if !budget.is_null() && (*budget).tripped.load(Ordering::Relaxed) {
            return;
        }
        let link = &*link;
        let message = {
            let mut len = 0usize;
            let s = ffi::lua_tolstring(state, 1, &mut len);
            if s.is_null() {
                "an error".to_string()
            } else {
                String::from_utf8_lossy(std::slice::from_raw_parts(s as *const u8, len))
                    .into_owned()
            }
        };
        let frames = stack(target, state, &link.root);
        let mut access = LuaAccess {
            target,
            runner: state,
            levels: LazyLevels::Known(script_levels(target)),
        };
        link.slot.pause_timing();
        link.debugger.hit_error(frames, message, &mut access);
        link.slot.resume_timing();
    }
}

/// The `lua_getstack` level of each script frame, innermost first.
pub(super) unsafe fn script_levels(state: *mut ffi::lua_State) -> Vec<c_int> {
    let mut levels = Vec::new();
    // SAFETY: only reads the stack.
    unsafe {
        for level in 0..64 {
            match frame_at(state, level) {
                None => break,
                Some((file, _, what)) if is_script_frame(&file, &what) => levels.push(level),
                Some(_) => {}
            }
        }
    }
    levels
}

/// The script frames of `state`'s stack, innermost first, with locals
/// (rendered on `runner`: a dead coroutine runs no code).
unsafe fn stack(
    state: *mut ffi::lua_State,
    runner: *mut ffi::lua_State,
    root: &std::path::Path,
) -> Vec<StackFrame> {
    let mut frames = Vec::new();
    // SAFETY: only reads the stack, pushing and popping balanced values.
    unsafe {
        for level in 0..64 {
            let mut ar: ffi::lua_Debug = std::mem::zeroed();
            if ffi::lua_getstack(state, level, &mut ar) == 0 {
                break;
            }
            if ffi::lua_getinfo(state, c"Sln".as_ptr(), &mut ar) == 0 {
                continue;
            }
            let file = CStr::from_ptr(ar.short_src.as_ptr())
                .to_string_lossy()
                .into_owned();
            let what = if ar.what.is_null() {
                ""
            } else {
                CStr::from_ptr(ar.what).to_str().unwrap_or("")
            };
            if !is_script_frame(&file, what) {
                continue;
            }
            let called_by_script = frame_at(state, level + 1)
                .is_some_and(|(caller, _, caller_what)| is_script_frame(&caller, &caller_what));
            let own = (!ar.name.is_null()).then(|| CStr::from_ptr(ar.name).to_string_lossy());
            let function = frame_name(own.as_deref(), called_by_script, what == "main", || {
                let defined = ar.linedefined.max(0) as u32;
                crate::scripting::debugger::name_from_source(root, &file, defined)
                    .unwrap_or_default()
            });
            let mut locals = Vec::new();
            for n in 1..200 {
                let name = ffi::lua_getlocal(state, &ar, n);
                if name.is_null() {
                    break;
                }
                let name = CStr::from_ptr(name).to_string_lossy().into_owned();
                if runner != state {
                    ffi::lua_xmove(state, runner, 1);
                }
                if !name.starts_with('(') {
                    locals.push((name, describe_top(runner)));
                }
                ffi::lua_settop(runner, -2);
            }
            frames.push(StackFrame {
                file,
                line: ar.currentline.max(0) as u32,
                function,
                locals,
            });
        }
    }
    frames
}

/// Renders the value on top of the stack with the prelude's renderer.
unsafe fn describe_top(state: *mut ffi::lua_State) -> String {
    // SAFETY: balanced stack use; the renderer is called protected.
    unsafe {
        let key = std::ffi::CString::new(DESCRIBE_KEY).unwrap_or_default();
        ffi::lua_getfield(state, ffi::LUA_REGISTRYINDEX, key.as_ptr());
        ffi::lua_pushvalue(state, -2);
        if ffi::lua_pcall(state, 1, 1, 0) != 0 {
            ffi::lua_settop(state, -2);
            return "?".into();
        }
        let mut len = 0usize;
        let s = ffi::lua_tolstring(state, -1, &mut len);
        let text = if s.is_null() {
            "?".into()
        } else {
            String::from_utf8_lossy(std::slice::from_raw_parts(s as *const u8, len)).into_owned()
        };
        ffi::lua_settop(state, -2);
        text
    }
}
