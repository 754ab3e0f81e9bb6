//! The Python backend: CPython embedded through pyo3. All scripts share the
//! one interpreter; each script is its own module with its own `ecs` object
//! and its own copy of the builtins (see `prelude.py`).
//!
//! The GIL is taken once per script call (load, system run, handler), never
//! per entity. This module only binds and converts; the semantics are in
//! [`crate::scripting::host`].

mod api;
mod batch;
pub(crate) mod convert;
mod memory;
mod trace;
pub use memory::heap_bytes as python_heap_bytes;
pub use trace::{prepare_sampling, sampler_context, stack_of};

use std::collections::BTreeSet;
use std::collections::HashMap;
use std::ffi::{CString, c_ulong};
use std::mem::ManuallyDrop;
use std::path::Path;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pyo3::exceptions::{PySyntaxError, PySystemExit};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use self::api::WaitObject;
use self::api::{EcsApi, INTERNAL_FILE, Printer, PyCtx};
use self::trace::TraceLink;
use crate::ecs::components::CompKey;
use crate::ecs::coroutines::WaitRequest;
use crate::project::Limits;
use crate::scripting::debugger::SharedDebugger;
use crate::scripting::watchdog::{
    Alarm, COUNTED_INSTRUCTIONS_PER_SECOND, FRAME_GRACE, LOAD_GRACE, WatchSlot, WatchdogHandle,
};
use crate::scripting::{
    FnHandle, Persisted, Resumed, ScriptBackend, ScriptFailure, ScriptId, ScriptValue, SharedHost,
    StackFrame,
};
use pyo3::types::iterator::PySendResult;

/// Raised in a Python script that ran past its instruction budget. The
/// watchdog sends the class; Python makes the instance on the script's own
/// thread when the exception reaches a handler, and making it switches on a
/// trace function that raises it again at every line, so `except:` cannot
/// keep the call going: the handler's first line raises again.
#[pyclass(extends = pyo3::exceptions::PyBaseException, module = "ecs")]
pub struct ScriptTimeout;

#[pymethods]
impl ScriptTimeout {
    #[new]
    #[pyo3(signature = (*_args))]
    fn new(_args: &Bound<'_, pyo3::types::PyTuple>) -> ScriptTimeout {
        trace::raise_on_every_line();
        ScriptTimeout
    }
}

const PRELUDE: &str = include_str!("prelude.py");

/// Objects the leak detector's walk of a Python script visits at most.
const REACHABLE_LIMIT: usize = 20_000;
const PRELUDE_MODULE: &str = "_ecscope_prelude";

/// The prelude module, compiled once per interpreter. A once-lock rather
/// than a `sys.modules` lookup: a module is in `sys.modules` before its
/// code has finished running, and runtimes on other threads must not see
/// it half made.
pub(super) fn prelude(py: Python<'_>) -> PyResult<Bound<'_, PyModule>> {
    static PRELUDE_CELL: pyo3::sync::PyOnceLock<Py<PyModule>> = pyo3::sync::PyOnceLock::new();
    PRELUDE_CELL
        .get_or_try_init(py, || {
            let code = CString::new(PRELUDE).expect("the prelude has no NUL bytes");
            let module = PyModule::from_code(
                py,
                &code,
                c"<ecscope prelude>",
                &CString::new(PRELUDE_MODULE).expect("no NUL"),
            )?;
            // Collections are timed for the suggestion rules.
            py.import("gc")?
                .getattr("callbacks")?
                .call_method1("append", (GcClock::default(),))?;
            Ok::<_, PyErr>(module.unbind())
        })
        .map(|m| m.bind(py).clone())
}

/// Times each collection of Python's cycle collector (a `gc.callbacks`
/// entry) into [`crate::profiling::gc`].
#[pyclass]
#[derive(Default)]
struct GcClock {
    started: Mutex<Option<std::time::Instant>>,
}

#[pymethods]
impl GcClock {
    fn __call__(&self, phase: &str, _info: &Bound<'_, PyAny>) {
        let Ok(mut started) = self.started.lock() else {
            return;
        };
        match phase {
            "start" => *started = Some(std::time::Instant::now()),
            _ => {
                if let Some(at) = started.take() {
                    crate::profiling::gc::add(at.elapsed().as_nanos() as u64);
                }
            }
        }
    }
}

/// Records the project modules a script imports. Not tied to a thread:
/// the import hook's closures may outlive the script until Python's cycle
/// collector frees them, on whatever thread it runs.
#[pyclass]
struct DependencyRecorder {
    deps: Arc<Mutex<BTreeSet<String>>>,
}

#[pymethods]
impl DependencyRecorder {
    fn __call__(&self, path: String) {
        if let Ok(mut deps) = self.deps.lock() {
            deps.insert(path);
        }
    }
}

/// Stops a Python call from the watchdog thread with an asynchronous
/// [`ScriptTimeout`].
struct PyAlarm {
    thread: c_ulong,
    last_sent: Mutex<Option<Instant>>,
}

impl PyAlarm {
    fn send(&self) {
        Python::attach(|py| {
            let timeout = py.get_type::<ScriptTimeout>();
            // SAFETY: the GIL is held; the thread id was read on the script's
            // own thread; the exception type lives for the whole process.
            unsafe {
                pyo3::ffi::PyThreadState_SetAsyncExc(self.thread as _, timeout.as_ptr());
            }
        });
        if let Ok(mut last) = self.last_sent.lock() {
            *last = Some(Instant::now());
        }
    }
}

impl Alarm for PyAlarm {
    fn with_context(&self, check: &mut dyn FnMut()) {
        // The GIL first, then the slot's lock: the script's thread takes them
        // in the same order, so they cannot deadlock.
        Python::attach(|_| check());
    }

    fn arm(&self) {
        self.send();
    }

    fn disarm(&self) {
        // SAFETY: called on the script's thread inside `Python::attach`;
        // clears an exception that was sent but not yet raised.
        unsafe {
            pyo3::ffi::PyThreadState_SetAsyncExc(self.thread as _, std::ptr::null_mut());
        }
        if let Ok(mut last) = self.last_sent.lock() {
            *last = None;
        }
    }

    fn locate(&self) -> Option<(String, u32)> {
        // A thread of its own asks Python: if the stuck call holds the GIL
        // (a C loop), that thread waits, maybe for good, and the answer is
        // "unknown"; if it released it (time.sleep), the line comes back.
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = self.thread;
        let spawned = std::thread::Builder::new()
            .name("ecscope-locate".into())
            .spawn(move || {
                let found = Python::attach(|py| innermost_script_line(py, thread));
                let _ = tx.send(found);
            });
        if spawned.is_err() {
            return None;
        }
        rx.recv_timeout(Duration::from_millis(300)).ok().flatten()
    }

    fn still_running(&self, _armed_for: Duration) {
        // A bare `except:` may have swallowed the exception: send it again.
        let due = self
            .last_sent
            .lock()
            .map(|l| l.is_none_or(|t| t.elapsed() >= Duration::from_millis(100)))
            .unwrap_or(false);
        if due {
            self.send();
        }
    }
}

/// One Python script.
pub struct PyScript {
    ctx: Rc<PyCtx>,
    // Released by hand in `Drop`, with the GIL held, on this thread.
    trace: ManuallyDrop<Py<TraceLink>>,
    api: ManuallyDrop<Py<EcsApi>>,
    module: Option<Py<PyModule>>,
    builtins: ManuallyDrop<Py<PyDict>>,
    slot: Arc<WatchSlot>,
    watchdog: WatchdogHandle,
    budget: Duration,
    /// The interpreter's heap size past which this script's calls fail
    /// with `MemoryError`: its size when the script was made plus
    /// `[limits] memory_mb` (the interpreter is shared, so this bounds what
    /// the script adds).
    heap_limit: usize,
    /// The views of this script's batch systems, by handle.
    batch_views: HashMap<u32, batch::BatchViews>,
}

impl PyScript {
    /// A module for the script at `path` (manifest path) with its own `ecs`
    /// object and builtins.
    pub fn new(
        host: SharedHost,
        script: ScriptId,
        path: &str,
        root: &Path,
        limits: &Limits,
        watchdog: WatchdogHandle,
        debugger: SharedDebugger,
    ) -> Result<PyScript, ScriptFailure> {
        // Before the interpreter starts, so every allocation is seen.
        memory::install();
        Python::attach(|py| {
            let setup = |e: PyErr| ScriptFailure::message(format!("cannot set up Python: {e}"));
            let persist = PyDict::new(py).unbind();
            let ctx = Rc::new(PyCtx::new(host, script, path, root.to_path_buf(), persist));
            ctx.value_items.set(limits.value_items);
            let api = Bound::new(py, EcsApi::new(Rc::clone(&ctx))).map_err(setup)?;
            let real_print = py
                .import("builtins")
                .and_then(|b| b.getattr("print"))
                .map_err(setup)?;
            let printer = Bound::new(py, Printer::new(Rc::clone(&ctx), real_print.unbind()))
                .map_err(setup)?;
            let recorder = Bound::new(
                py,
                DependencyRecorder {
                    deps: Arc::clone(&ctx.deps),
                },
            )
            .map_err(setup)?;
            let builtins = prelude(py)
                .and_then(|p| {
                    p.call_method1(
                        "make_builtins",
                        (api.clone(), printer, root.display().to_string(), recorder),
                    )
                })
                .and_then(|b| Ok(b.cast_into::<PyDict>()?))
                .map_err(setup)?;
            // SAFETY: plain query of the current thread's id, GIL held.
            let thread = unsafe { pyo3::ffi::PyThread_get_thread_ident() };
            let budget = Duration::from_secs_f64(
                limits.instructions_per_frame as f64 / COUNTED_INSTRUCTIONS_PER_SECOND,
            );
            let slot = watchdog.register(
                path,
                budget,
                Box::new(PyAlarm {
                    thread,
                    last_sent: Mutex::new(None),
                }),
            );
            let trace = Py::new(py, TraceLink::new(debugger, Arc::clone(&slot))).map_err(setup)?;
            Ok(PyScript {
                ctx,
                trace: ManuallyDrop::new(trace),
                api: ManuallyDrop::new(api.unbind()),
                module: None,
                builtins: ManuallyDrop::new(builtins.unbind()),
                slot,
                watchdog,
                budget,
                heap_limit: memory::heap_bytes().map_or(0, |held| {
                    held.saturating_add((limits.memory_mb as usize) << 20)
                }),
                batch_views: HashMap::new(),
            })
        })
    }

    fn function<'py>(
        &self,
        py: Python<'py>,
        handle: FnHandle,
    ) -> Result<Bound<'py, PyAny>, ScriptFailure> {
        self.ctx
            .fns
            .borrow()
            .get(handle.0 as usize)
            .map(|f| f.bind(py).clone())
            .ok_or_else(|| ScriptFailure::message("unknown function handle"))
    }

    /// Takes the GIL for a call into the script (see [`attach_watched`]).
    fn attach<R>(&self, grace: Duration, f: impl for<'py> FnOnce(Python<'py>) -> R) -> R {
        attach_watched(&self.slot, grace + self.budget, f)
    }

    /// Runs `f` as one watched call, inside [`PyScript::attach`] (which
    /// started the call's clock and holds the GIL).
    fn watched<'py, R>(
        &self,
        py: Python<'py>,
        f: impl FnOnce() -> PyResult<R>,
    ) -> Result<R, ScriptFailure> {
        trace::sync(py, &self.trace);
        // The failure is described inside the watched call: describing it
        // runs the exception's own `__str__`, which may never return.
        // pyo3 turns a Rust panic inside a call back into a panic here (an
        // object of ours used from a thread the script started panics):
        // it ends the call as a script error, never the process.
        let call = std::panic::AssertUnwindSafe(|| {
            memory::with_limit(self.heap_limit, || {
                // The call was marked as started when the GIL was asked
                // for (see `attach_watched`); it ends here, with the GIL.
                let result = f().map_err(|e| {
                    // Making the exception's value makes a timeout switch
                    // to its tracer: make it, then switch back, before
                    // describing it (the traceback is Python code).
                    let _ = e.value(py);
                    trace::end_timeout(py, &self.trace);
                    let failure = failure_from(py, e.clone_ref(py), self.budget);
                    let limit = e.is_instance_of::<ScriptTimeout>(py)
                        || e.is_instance_of::<PySystemExit>(py)
                        || e.is_instance_of::<pyo3::exceptions::PyMemoryError>(py);
                    if !limit {
                        trace::post_mortem(py, &self.trace, &e, &failure.message);
                    }
                    failure
                });
                self.slot.leave();
                result
            })
        });
        let result = std::panic::catch_unwind(call).unwrap_or_else(|panic| {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "an internal error".into());
            Err(ScriptFailure::message(format!(
                "the call failed inside ECScope: {message}"
            )))
        });
        trace::end_timeout(py, &self.trace);
        self.ctx.end_call();
        // A timeout that the script caught still ends the call as failed.
        match result {
            Ok(_) if self.slot.fired() => Err(ScriptFailure::message(timeout_message(self.budget))),
            result => result,
        }
    }

    /// Calls a lifecycle function the script defines (`on_load`, ...), with
    /// one optional argument.
    fn call_global(
        &self,
        name: &str,
        arg: Option<Py<PyAny>>,
        grace: Duration,
    ) -> Result<(), ScriptFailure> {
        self.attach(grace, |py| {
            let Some(module) = &self.module else {
                return Ok(());
            };
            let f = match module.bind(py).dict().get_item(name) {
                Ok(Some(f)) if f.is_callable() => f,
                _ => return Ok(()),
            };
            self.watched(py, || match arg {
                Some(arg) => f.call1((arg,)).map(|_| ()),
                None => f.call0().map(|_| ()),
            })
        })
    }
}

impl Drop for PyScript {
    fn drop(&mut self) {
        self.watchdog.unregister(&self.slot);
        Python::attach(|py| {
            // The module's functions reach the `ecs` object through its
            // globals and builtins, and the `ecs` object holds this script's
            // context (a Rust `Rc`, which Python's cycle collector cannot
            // see): clearing the dicts breaks that cycle so everything is
            // freed now, on the thread that owns it.
            for (_, co) in self.ctx.coroutines.borrow_mut().drain() {
                let _ = co.generator.bind(py).call_method0("close");
            }
            self.batch_views.clear();
            self.ctx.fns.borrow_mut().clear();
            if let Some(module) = self.module.take() {
                module.bind(py).dict().clear();
            }
            if let Ok(Some(modules)) = self.builtins.bind(py).get_item("__ecscope_modules__")
                && let Ok(modules) = modules.cast::<PyDict>()
            {
                for (_, module) in modules.iter() {
                    if let Ok(dict) = module.getattr("__dict__")
                        && let Ok(dict) = dict.cast::<PyDict>()
                    {
                        dict.clear();
                    }
                }
                modules.clear();
            }
            self.builtins.bind(py).clear();
            // SAFETY: each field is taken exactly once, here, and never
            // used again.
            let (trace, api, builtins) = unsafe {
                (
                    ManuallyDrop::take(&mut self.trace),
                    ManuallyDrop::take(&mut self.api),
                    ManuallyDrop::take(&mut self.builtins),
                )
            };
            trace.drop_ref(py);
            api.drop_ref(py);
            builtins.drop_ref(py);
        });
    }
}

impl ScriptBackend for PyScript {
    fn compile(&mut self, source: &str) -> Result<(), ScriptFailure> {
        Python::attach(|py| {
            let builtins = py
                .import("builtins")
                .map_err(|e| failure_from(py, e, self.budget))?;
            builtins
                .call_method1("compile", (source, self.ctx.path.as_str(), "exec"))
                .map(|_| ())
                .map_err(|e| failure_from(py, e, self.budget))
        })
    }

    fn take_persist(&mut self) -> Persisted {
        // Data only, as in Lua (SCRIPT_API §3): numbers, strings, booleans,
        // and lists and dicts of them. It is a copy, so the next version
        // cannot change this one's state, which comes back if the next
        // version is rolled back.
        Python::attach(|py| {
            let persist = self.ctx.persist.borrow().clone_ref(py);
            let mut map = std::collections::BTreeMap::new();
            let mut dropped = Vec::new();
            for (key, value) in persist.bind(py).iter() {
                let Ok(key) = key.extract::<String>() else {
                    dropped.push(format!(
                        "a key of type {} (keys are strings)",
                        convert::type_name(&key)
                    ));
                    continue;
                };
                match convert::from_py(&value, self.ctx.value_items.get()) {
                    Ok(v) => {
                        map.insert(key, v);
                    }
                    Err(e) => dropped.push(format!("persist[{key:?}]: {e}")),
                }
            }
            Persisted {
                value: Box::new(ScriptValue::Map(map)),
                dropped,
            }
        })
    }

    fn give_persist(&mut self, persisted: Persisted) {
        let Ok(value) = persisted.value.downcast::<ScriptValue>() else {
            return;
        };
        Python::attach(|py| {
            let dict = PyDict::new(py);
            if let ScriptValue::Map(map) = *value {
                for (key, value) in &map {
                    if let Ok(v) = convert::to_py(py, value) {
                        let _ = dict.set_item(key, v);
                    }
                }
            }
            *self.ctx.persist.borrow_mut() = dict.unbind();
        });
    }

    fn dependencies(&self) -> Vec<String> {
        self.ctx
            .deps
            .lock()
            .map(|d| d.iter().cloned().collect())
            .unwrap_or_default()
    }

    fn load(&mut self, source: &str, reloading: bool) -> Result<(), ScriptFailure> {
        let module = self.attach(LOAD_GRACE, |py| {
            let name = Path::new(&self.ctx.path)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "script".into());
            let builtins = self.builtins.bind(py).clone();
            let path = self.ctx.path.clone();
            self.watched(py, || {
                let module =
                    prelude(py)?.call_method1("load_script", (path, source, name, builtins))?;
                Ok(module.cast_into::<PyModule>()?.unbind())
            })
        })?;
        self.module = Some(module);
        if reloading {
            let persist = Python::attach(|py| self.ctx.persist.borrow().clone_ref(py).into_any());
            self.call_global("on_reload", Some(persist), LOAD_GRACE)
        } else {
            self.call_global("on_load", None, LOAD_GRACE)
        }
    }

    fn run_system(
        &mut self,
        handle: FnHandle,
        ids: Option<&[u64]>,
        comps: &[CompKey],
        dt: f64,
    ) -> Result<(), ScriptFailure> {
        self.attach(FRAME_GRACE, |py| {
            let f = self.function(py, handle)?;
            match ids {
                None => self.watched(py, || f.call1((dt,)).map(|_| ())),
                Some(ids) => {
                    let (ptrs, generation) = {
                        let mut host = self.ctx.host.borrow_mut();
                        (host.numeric_ptrs(ids, comps), host.proxy_generation())
                    };
                    let k = comps.len();
                    let templates = comps
                        .iter()
                        .map(|&key| self.ctx.live_template(py, &self.api, key))
                        .collect::<PyResult<Vec<_>>>()
                        .map_err(|e| failure_from(py, e, self.budget))?;
                    self.watched(py, || {
                        let mut args: Vec<Bound<'_, PyAny>> = Vec::with_capacity(k + 2);
                        for (i, &id) in ids.iter().enumerate() {
                            args.clear();
                            args.push(id.into_pyobject(py)?.into_any());
                            for (j, template) in templates.iter().enumerate() {
                                let live = template.make(py, id, ptrs[i * k + j], generation);
                                args.push(Bound::new(py, live)?.into_any());
                            }
                            args.push(dt.into_pyobject(py)?.into_any());
                            f.call1(PyTuple::new(py, &args)?)?;
                        }
                        Ok(())
                    })
                }
            }
        })
    }

    fn run_batch(
        &mut self,
        handle: FnHandle,
        data: &mut crate::scripting::batch::BatchData,
        dt: f64,
    ) -> Result<(), ScriptFailure> {
        let slot = Arc::clone(&self.slot);
        attach_watched(&slot, FRAME_GRACE + self.budget, |py| {
            let f = self.function(py, handle)?;
            let views = match self.batch_views.entry(handle.0) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    // Components the system lists under reads get arrays
                    // that refuse writes.
                    let read_only: Vec<bool> = self
                        .ctx
                        .with_host(|h| {
                            data.layout
                                .components
                                .iter()
                                .map(|c| h.world.key(&c.name).is_some_and(|k| h.read_only(k)))
                                .collect()
                        })
                        .map_err(|e| failure_from(py, e, self.budget))?;
                    e.insert(
                        batch::BatchViews::new(py, &data.layout, &read_only)
                            .map_err(|e| failure_from(py, e, self.budget))?,
                    )
                }
            };
            let view = views
                .lend(py, data)
                .map_err(|e| failure_from(py, e, self.budget))?;
            let result = self.watched(py, || f.call1((view, dt)).map(|_| ()));
            if let Some(views) = self.batch_views.get_mut(&handle.0) {
                views.take_back(py, data);
            }
            result
        })
    }

    fn call_handler(
        &mut self,
        handle: FnHandle,
        payload: &ScriptValue,
    ) -> Result<(), ScriptFailure> {
        self.attach(FRAME_GRACE, |py| {
            let f = self.function(py, handle)?;
            let arg = convert::to_py(py, payload).map_err(|e| failure_from(py, e, self.budget))?;
            self.watched(py, || f.call1((arg,)).map(|_| ()))
        })
    }

    fn begin_frame(&mut self) {}

    fn unload(&mut self) -> Result<(), ScriptFailure> {
        self.call_global("on_unload", None, FRAME_GRACE)
    }

    fn stack_reader(&self) -> crate::profiling::samples::StackReader {
        crate::profiling::samples::StackReader::Probe
    }

    fn memory_bytes(&self) -> Option<usize> {
        None
    }

    fn hunt_leak(
        &mut self,
        step: crate::scripting::HuntStep,
    ) -> Option<crate::scripting::LeakSite> {
        use crate::scripting::HuntStep;
        let step = match step {
            HuntStep::Start => "start",
            HuntStep::Watch => "watch",
            HuntStep::Finish => "finish",
        };
        let module = self.module.as_ref()?;
        Python::attach(|py| {
            let persist = self.ctx.persist.borrow().clone_ref(py);
            if step == "finish" {
                self.trace.bind(py).borrow_mut().leak_tracer = None;
            }
            let found = prelude(py)
                .and_then(|p| {
                    p.call_method1(
                        "hunt_leak",
                        (
                            step,
                            module.bind(py),
                            persist.bind(py),
                            self.ctx.path.as_str(),
                        ),
                    )
                })
                .ok()?;
            if step == "watch" {
                // The tracer goes on the script's calls from the next one.
                if !found.is_none() {
                    self.trace.bind(py).borrow_mut().leak_tracer = Some(found.unbind());
                }
                return None;
            }
            let (path, kind, growth, count, at): (String, String, u64, u64, Option<String>) =
                found.extract().ok()?;
            let line = at.and_then(|at| at.rsplit_once(':').and_then(|(_, l)| l.parse().ok()));
            Some(crate::scripting::LeakSite {
                path,
                kind,
                containers: count,
                growth,
                line,
            })
        })
    }

    fn settled_memory_bytes(&mut self) -> Option<usize> {
        let module = self.module.as_ref()?;
        Python::attach(|py| {
            let persist = self.ctx.persist.borrow().clone_ref(py);
            prelude(py)
                .and_then(|p| {
                    p.call_method1(
                        "reachable_size",
                        (module.bind(py), persist.bind(py), REACHABLE_LIMIT),
                    )
                })
                .and_then(|n| n.extract::<usize>())
                .ok()
        })
    }

    fn defined_line(&self, handle: FnHandle) -> Option<u32> {
        Python::attach(|py| {
            let f = self.function(py, handle).ok()?;
            f.getattr("__code__")
                .and_then(|c| c.getattr("co_firstlineno"))
                .and_then(|l| l.extract::<u32>())
                .ok()
        })
    }

    fn resume(&mut self, handle: FnHandle, input: &ScriptValue) -> Result<Resumed, ScriptFailure> {
        self.attach(FRAME_GRACE, |py| {
            let (generator, first) = {
                let mut coroutines = self.ctx.coroutines.borrow_mut();
                let Some(co) = coroutines.get_mut(&handle.0) else {
                    return Ok(Resumed::Returned);
                };
                let first = !co.started;
                co.started = true;
                (co.generator.bind(py).clone(), first)
            };
            // A generator's first step must be sent None.
            let input = if first {
                py.None().into_bound(py)
            } else {
                convert::to_py(py, input).map_err(|e| failure_from(py, e, self.budget))?
            };
            self.ctx.in_coroutine.set(true);
            let result = self.watched(py, || {
                let iterator = generator.cast::<pyo3::types::PyIterator>()?;
                iterator.send(&input)
            });
            self.ctx.in_coroutine.set(false);
            match result? {
                PySendResult::Return(_) => Ok(Resumed::Returned),
                PySendResult::Next(value) => {
                    if value.is_none() {
                        return Ok(Resumed::Wait(WaitRequest::NextFrame));
                    }
                    if let Ok(wait) = value.cast::<WaitObject>() {
                        return Ok(Resumed::Wait(wait.get().request.clone()));
                    }
                    let (file, line) = generator_location(&generator).unzip();
                    Err(ScriptFailure {
                        message: crate::scripting::bad_yield(&convert::type_name(&value)),
                        line,
                        file,
                        traceback: String::new(),
                    })
                }
            }
        })
    }

    fn release_coroutine(&mut self, handle: FnHandle) {
        let removed = self.ctx.coroutines.borrow_mut().remove(&handle.0);
        if let Some(co) = removed {
            // Closing runs the generator's `finally` blocks now, not at
            // some later garbage collection.
            Python::attach(|py| {
                let _ = co.generator.bind(py).call_method0("close");
            });
        }
    }

    fn inspect_coroutine(&mut self, handle: FnHandle) -> Vec<StackFrame> {
        Python::attach(|py| {
            let Some(generator) = self
                .ctx
                .coroutines
                .borrow()
                .get(&handle.0)
                .map(|c| c.generator.bind(py).clone())
            else {
                return Vec::new();
            };
            // The generator's own frame, then any generator it delegates to
            // with `yield from`, innermost first.
            let mut chain = Vec::new();
            let mut current = Some(generator);
            while let Some(g) = current {
                if let Some(frame) = frame_of(&g) {
                    chain.push(frame);
                }
                current = g.getattr("gi_yieldfrom").ok().filter(|y| !y.is_none());
            }
            chain.reverse();
            chain
        })
    }

    fn locate_coroutine(&mut self, handle: FnHandle) -> Option<(String, u32)> {
        Python::attach(|py| {
            let generator = self
                .ctx
                .coroutines
                .borrow()
                .get(&handle.0)
                .map(|c| c.generator.bind(py).clone())?;
            generator_location(&generator)
        })
    }
}

/// The file and line a generator is suspended at.
fn generator_location(generator: &Bound<'_, PyAny>) -> Option<(String, u32)> {
    let frame = generator
        .getattr("gi_frame")
        .ok()
        .filter(|f| !f.is_none())?;
    let line = frame.getattr("f_lineno").ok()?.extract::<u32>().ok()?;
    let file = frame
        .getattr("f_code")
        .and_then(|c| c.getattr("co_filename"))
        .and_then(|f| f.extract::<String>())
        .ok()?;
    Some((file, line))
}

/// A suspended generator's frame with its locals.
fn frame_of(generator: &Bound<'_, PyAny>) -> Option<StackFrame> {
    let (file, line) = generator_location(generator)?;
    let frame = generator.getattr("gi_frame").ok()?;
    let function = frame
        .getattr("f_code")
        .and_then(|c| c.getattr("co_name"))
        .and_then(|n| n.extract::<String>())
        .unwrap_or_default();
    let locals = trace::locals_of(&frame);
    Some(StackFrame {
        file,
        line,
        function,
        locals,
    })
}

/// The innermost project file and line that the Python thread `thread`
/// (its `threading.get_ident`) is running.
fn innermost_script_line(py: Python<'_>, thread: c_ulong) -> Option<(String, u32)> {
    let frames = py
        .import("sys")
        .ok()?
        .call_method0("_current_frames")
        .ok()?;
    let mut frame = frames.get_item(thread).ok()?;
    while !frame.is_none() {
        let file: String = frame
            .getattr("f_code")
            .and_then(|c| c.getattr("co_filename"))
            .and_then(|f| f.extract())
            .ok()?;
        if trace::is_script_file(&file) {
            return Some((file, frame.getattr("f_lineno").ok()?.extract().ok()?));
        }
        frame = frame.getattr("f_back").ok()?;
    }
    None
}

/// Takes the GIL for a call into a script, the wait counted as part of the
/// call (`wait` as its grace): a thread the script started may hold the
/// GIL in a long C call, and the lookout must see the scripts' thread
/// waiting.
fn attach_watched<R>(
    slot: &WatchSlot,
    wait: Duration,
    f: impl for<'py> FnOnce(Python<'py>) -> R,
) -> R {
    slot.enter(wait);
    let result = Python::attach(f);
    slot.end_wait();
    result
}

/// The limit's error for Python, which has no instruction counter.
fn timeout_message(budget: Duration) -> String {
    format!(
        "instruction limit exceeded: the call ran {:.2} s past its grace period ([limits] instructions_per_frame, counted as time for Python); is there an endless loop?",
        budget.as_secs_f64()
    )
}

/// A Python exception as a failure: message, the innermost project file and
/// line, and the formatted traceback.
/// Compiles a script's text without running it (`ecscope check`): its
/// syntax error, with the line, if it has one.
pub fn syntax_check(path: &str, source: &str) -> Result<(), ScriptFailure> {
    memory::install();
    Python::attach(|py| {
        let fail = |e| failure_from(py, e, Duration::from_secs(1));
        py.import("builtins")
            .map_err(fail)?
            .call_method1("compile", (source, path, "exec"))
            .map(|_| ())
            .map_err(fail)
    })
}

fn failure_from(py: Python<'_>, err: PyErr, budget: Duration) -> ScriptFailure {
    let value = err.value(py);
    let type_name = err
        .get_type(py)
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "Exception".into());
    let text = value.str().map(|s| s.to_string()).unwrap_or_default();
    let traceback = py
        .import("traceback")
        .and_then(|tb| {
            tb.call_method1(
                "format_exception",
                (err.get_type(py), value, err.traceback(py)),
            )
        })
        .and_then(|lines| lines.extract::<Vec<String>>())
        .map(|lines| lines.concat())
        .unwrap_or_else(|_| format!("{type_name}: {text}"));

    let mut location = innermost_project_frame(py, &err);
    let message = if err.is_instance_of::<ScriptTimeout>(py) {
        timeout_message(budget)
    } else if err.is_instance_of::<pyo3::exceptions::PyMemoryError>(py) && memory::take_refused() {
        "out of memory: the script's calls grew the Python heap past its limit ([limits] memory_mb)"
            .to_string()
    } else if err.is_instance_of::<PySystemExit>(py) {
        let code = value
            .getattr("code")
            .ok()
            .filter(|c| !c.is_none())
            .map(|c| c.to_string())
            .unwrap_or_else(|| "None".into());
        format!("sys.exit({code}) was called: a script cannot exit ECScope")
    } else if err.is_instance_of::<PySyntaxError>(py) {
        let attr = |name: &str| value.getattr(name).ok().filter(|v| !v.is_none());
        if let (Some(file), Some(line)) = (
            attr("filename").and_then(|f| f.extract::<String>().ok()),
            attr("lineno").and_then(|l| l.extract::<u32>().ok()),
        ) {
            location = Some((file, line));
        }
        let msg = attr("msg").map(|m| m.to_string()).unwrap_or(text);
        format!("{type_name}: {msg}")
    } else if text.is_empty() {
        type_name
    } else {
        format!("{type_name}: {text}")
    };
    let (file, line) = match location {
        Some((file, line)) => (Some(file), Some(line)),
        None => (None, None),
    };
    ScriptFailure {
        message,
        line,
        file,
        traceback: traceback.trim_end().to_string(),
    }
}

/// The innermost traceback frame in a project file (relative path, not the
/// runtime's own code or an installed module).
fn innermost_project_frame(py: Python<'_>, err: &PyErr) -> Option<(String, u32)> {
    let mut found = None;
    let mut tb = err.traceback(py).map(|t| t.into_any());
    while let Some(t) = tb {
        let file: Option<String> = t
            .getattr("tb_frame")
            .and_then(|f| f.getattr("f_code"))
            .and_then(|c| c.getattr("co_filename"))
            .and_then(|n| n.extract())
            .ok();
        if let Some(file) = file
            && !file.starts_with(INTERNAL_FILE)
            && !file.starts_with('<')
            && !Path::new(&file).is_absolute()
            && let Ok(line) = t.getattr("tb_lineno").and_then(|l| l.extract::<u32>())
        {
            found = Some((file, line));
        }
        tb = t.getattr("tb_next").ok().filter(|n| !n.is_none());
    }
    found
}
