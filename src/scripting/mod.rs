//! Scripting: the shared value type, the `ecs` API implemented once
//! ([`host`]), and one folder per language that only converts values and
//! binds functions.

pub mod debugger;
#[cfg(all(test, feature = "lua", feature = "python"))]
mod properties;
pub mod watchdog;

#[cfg(feature = "lua")]
pub mod lua;
#[cfg(feature = "python")]
pub mod python;

use crate::ecs::components::CompKey;
pub use crate::ecs::{FnHandle, ScriptId, ScriptValue, SharedHost};
// The data model lives in `ecs`; these names are kept for the layers above.
pub use crate::ecs::{batch, host, value};

/// The native stack of a thread that runs scripts. LuaJIT lets each
/// coroutine nest thousands of C calls (comparators, `gsub` callbacks,
/// metamethods), and coroutines nest (up to 16 deep): all on this one
/// stack. It is reserved, not committed, so only what is used costs memory.
pub const SCRIPT_STACK: usize = 512 << 20;

/// A failure inside script code, as the language reported it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptFailure {
    /// The message without location prefix or traceback.
    pub message: String,
    /// 1-based line where it was raised, when known.
    pub line: Option<u32>,
    /// The file of that line (manifest-style relative path), when known.
    pub file: Option<String>,
    /// The language's traceback.
    pub traceback: String,
}

impl ScriptFailure {
    /// A failure with only a message (the host's own checks).
    pub fn message(message: impl Into<String>) -> ScriptFailure {
        ScriptFailure {
            message: message.into(),
            line: None,
            file: None,
            traceback: String::new(),
        }
    }
}

/// What reads a sampled thread's stacks in the languages whose stacks
/// the sampler thread reads itself (Python), set up for `hz` samples a
/// second. Without Python scripts, nothing: the sampler then never takes
/// the GIL.
pub fn sampling_probe(
    hz: u32,
    python: bool,
) -> (
    crate::profiling::samples::StackProbe,
    Option<crate::profiling::samples::SamplerContext>,
) {
    #[cfg(feature = "python")]
    if python {
        python::prepare_sampling(hz);
        return (
            Box::new(python::stack_of),
            Some(Box::new(python::sampler_context)),
        );
    }
    let _ = (hz, python);
    (Box::new(|_| None), None)
}

/// One loaded script in one language: the runtime's only way to run script
/// code. Implementations convert values and call functions; the semantics
/// live in [`host::HostState`].
pub trait ScriptBackend {
    /// Compiles without running: syntax errors only.
    fn compile(&mut self, source: &str) -> Result<(), ScriptFailure>;

    /// Runs the script's top level, then `on_load()`, or, when `reloading`,
    /// `on_reload(persist)`, if it defines one.
    fn load(&mut self, source: &str, reloading: bool) -> Result<(), ScriptFailure>;

    /// A copy of `ecs.persist`, to hand to the next version.
    fn take_persist(&mut self) -> Persisted;

    /// Sets `ecs.persist` from the previous version (before `load`).
    fn give_persist(&mut self, persisted: Persisted);

    /// Project modules this script loaded (`require`, `import`), as
    /// project-relative paths.
    fn dependencies(&self) -> Vec<String>;

    /// Runs a system: `fn(dt)` when `ids` is `None`, else
    /// `fn(id, c1, c2, ..., dt)` for each id with live components `comps`.
    fn run_system(
        &mut self,
        handle: FnHandle,
        ids: Option<&[u64]>,
        comps: &[CompKey],
        dt: f64,
    ) -> Result<(), ScriptFailure>;

    /// Whether this language can work on batch columns in place (strided,
    /// inside the world's storage) rather than on gathered copies.
    fn batch_in_place(&self) -> bool {
        false
    }

    /// Runs a batch system (`ecs.batch_system`) over `batch`'s arrays
    /// (`batch.direct` when the columns are in place), marking in
    /// `batch.written` the copied columns the script may have changed.
    fn run_batch(
        &mut self,
        handle: FnHandle,
        batch: &mut batch::BatchData,
        dt: f64,
    ) -> Result<(), ScriptFailure> {
        let _ = (handle, batch, dt);
        Err(ScriptFailure::message(
            "batch systems are not available here",
        ))
    }

    /// Calls an `ecs.on` handler with an event's payload.
    fn call_handler(
        &mut self,
        handle: FnHandle,
        payload: &ScriptValue,
    ) -> Result<(), ScriptFailure>;

    /// Called before each frame (budgets are per frame).
    fn begin_frame(&mut self);

    /// Whether this script's systems may run on a worker thread (SCRIPT_API
    /// §5). Python's stay on the runtime's thread, where its interpreter
    /// state and trace functions live.
    fn runs_on_workers(&self) -> bool {
        false
    }

    /// After a call made on a worker thread, on that thread: nothing on it
    /// refers to this script any more (signals go to the next thread that
    /// runs it).
    fn leave_worker(&mut self) {}

    /// Runs `on_unload()` if the script defines it.
    fn unload(&mut self) -> Result<(), ScriptFailure>;

    /// How a sampler reads this script's stack while it runs.
    fn stack_reader(&self) -> crate::profiling::samples::StackReader {
        crate::profiling::samples::StackReader::None
    }

    /// One step of a hunt for what a suspected leak keeps and where it
    /// adds to it; `Finish` answers, when the growth was found.
    fn hunt_leak(&mut self, step: HuntStep) -> Option<LeakSite> {
        let _ = step;
        None
    }

    /// Bytes of the script's own heap, where the language has one per script.
    fn memory_bytes(&self) -> Option<usize>;

    /// The script's memory once garbage is gone, for the leak detector:
    /// Lua collects fully and reports its heap; Python, whose heap all
    /// scripts share, reports what is reachable from the script's module
    /// and `ecs.persist`. Called rarely (Lua: only while its heap grows;
    /// Python: every few seconds).
    fn settled_memory_bytes(&mut self) -> Option<usize> {
        self.memory_bytes()
    }

    /// Line where a registered function is defined, to place errors that
    /// carry no line (out of memory).
    fn defined_line(&self, handle: FnHandle) -> Option<u32>;

    /// Runs one step of a coroutine, passing `input` (an event's payload,
    /// or nil) as the result of the wait it is suspended in.
    fn resume(&mut self, handle: FnHandle, input: &ScriptValue) -> Result<Resumed, ScriptFailure>;

    /// Forgets a coroutine's language object (it ended or was stopped).
    fn release_coroutine(&mut self, handle: FnHandle);

    /// Where a suspended coroutine is: its frames, innermost first, with
    /// locals.
    fn inspect_coroutine(&mut self, handle: FnHandle) -> Vec<StackFrame>;

    /// The file and line a suspended coroutine is at (cheaper than
    /// [`ScriptBackend::inspect_coroutine`]).
    fn locate_coroutine(&mut self, handle: FnHandle) -> Option<(String, u32)>;
}

/// `ecs.persist` on its way from one version of a script to the next: the
/// language's own copy, and what could not be kept.
pub struct Persisted {
    /// The backend's value (opaque to the runtime).
    pub value: Box<dyn std::any::Any>,
    /// Entries that could not be carried over, and why.
    pub dropped: Vec<String>,
}

/// Why a coroutine step failed when it yielded something that is not a
/// wait, in either language; `type_name` is the language's name for what
/// it yielded.
pub fn bad_yield(type_name: &str) -> String {
    format!(
        "a coroutine may yield only what ecs.wait_frames, ecs.wait_seconds or ecs.wait_event return, or nothing (a bare yield); it yielded a value of type {type_name}"
    )
}

/// What a coroutine step ended with.
#[derive(Debug, Clone, PartialEq)]
pub enum Resumed {
    /// It yielded and waits for this.
    Wait(crate::ecs::coroutines::WaitRequest),
    /// Its function returned.
    Returned,
}

/// A step of a leak hunt (see [`ScriptBackend::hunt_leak`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HuntStep {
    /// The first census of what the script's roots reach.
    Start,
    /// A window later: the second census, and a watch on what grew.
    Watch,
    /// The end of the watch: where the growth is kept and added.
    Finish,
}

pub use crate::profiling::memory::LeakSite;

/// One frame of a script call stack, for the debugger.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StackFrame {
    /// Project-relative file.
    pub file: String,
    /// 1-based line being run (or suspended at).
    pub line: u32,
    /// The function's name, when it has one.
    pub function: String,
    /// Local variables and a short rendering of their values.
    pub locals: Vec<(String, String)>,
}

/// Checks that a script's bytes are text before any language sees them.
pub fn check_source(bytes: &[u8]) -> Result<&str, ScriptFailure> {
    let text = std::str::from_utf8(bytes).map_err(|err| {
        let offset = err.valid_up_to();
        ScriptFailure {
            message: format!(
                "the file is not valid UTF-8 text (bad byte at offset {offset}); is it a binary file?"
            ),
            line: Some(crate::project::line_of(&String::from_utf8_lossy(bytes), offset) as u32),
            file: None,
            traceback: String::new(),
        }
    })?;
    // A byte order mark is not code: editors on Windows write one, and
    // both languages then read the same text.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if let Some(offset) = text.find('\0') {
        return Err(ScriptFailure {
            message: "the file contains NUL bytes: it is a binary file, not a script".into(),
            line: Some(crate::project::line_of(text, offset) as u32),
            file: None,
            traceback: String::new(),
        });
    }
    Ok(text)
}
