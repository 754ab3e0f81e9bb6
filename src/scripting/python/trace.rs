//! Python breakpoints and stepping: a C trace function, installed on the
//! runtime's thread only while the debugger is active, that checks every
//! line against the debugger and blocks in it at a break.

use std::ffi::c_int;
use std::sync::Arc;

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyFrame, PyFrameMethods};

use super::api::INTERNAL_FILE;
use crate::scripting::StackFrame;
use crate::scripting::debugger::{EVALUATION_STEPS, FrameAccess, SharedDebugger, Variable};
use crate::scripting::watchdog::WatchSlot;

/// What the trace function needs; passed to it as its object.
#[pyclass(unsendable)]
pub struct TraceLink {
    debugger: SharedDebugger,
    slot: Arc<WatchSlot>,
    /// A leak hunt's line tracer, set on the script's calls while the
    /// debugger does not trace.
    pub leak_tracer: Option<Py<PyAny>>,
}

impl TraceLink {
    /// A link for one script.
    pub fn new(debugger: SharedDebugger, slot: Arc<WatchSlot>) -> TraceLink {
        TraceLink {
            debugger,
            slot,
            leak_tracer: None,
        }
    }
}

/// Installs or removes the trace function for the coming call (the GIL
/// must be held; tracing is per thread and per attach, so this runs at the
/// start of every call).
pub fn sync(py: Python<'_>, link: &Py<TraceLink>) {
    let (active, leak_tracer) = {
        let link = link.bind(py).borrow();
        let tracer = link.leak_tracer.as_ref().map(|t| t.clone_ref(py));
        (link.debugger.is_active(), tracer)
    };
    if let (false, Some(tracer)) = (active, leak_tracer) {
        if let Ok(sys) = py.import("sys") {
            let _ = sys.call_method1("settrace", (tracer,));
        }
        return;
    }
    // SAFETY: GIL held; the link object is kept alive by the script, and
    // CPython holds its own reference while it is installed.
    unsafe {
        if active {
            ffi::PyEval_SetTrace(Some(trace), link.as_ptr());
        } else {
            ffi::PyEval_SetTrace(None, std::ptr::null_mut());
        }
    }
}

/// Switches this thread's tracing to [`timeout_trace`] until the next
/// [`sync`] (the start of the next call, or the failure's report).
pub fn raise_on_every_line() {
    TIMEOUT_TRACING.with(|t| t.set(true));
    // SAFETY: called with the GIL held (from the exception's constructor);
    // the trace function needs no object.
    unsafe { ffi::PyEval_SetTrace(Some(timeout_trace), std::ptr::null_mut()) }
}

thread_local! {
    /// Set while [`timeout_trace`] is this thread's trace function.
    static TIMEOUT_TRACING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// After a call: puts the debugger's tracing back if a timeout switched to
/// [`timeout_trace`] (setting a trace function is not free: each is an
/// audit event).
pub fn end_timeout(py: Python<'_>, link: &Py<TraceLink>) {
    if TIMEOUT_TRACING.with(|t| t.replace(false)) {
        sync(py, link);
    }
}

/// Raises the timeout at every line: a C trace function's error is not
/// cleared by CPython (a Python one's would switch tracing off), so no
/// handler can run a line of its own.
extern "C" fn timeout_trace(
    _obj: *mut ffi::PyObject,
    _frame: *mut ffi::PyFrameObject,
    what: c_int,
    _arg: *mut ffi::PyObject,
) -> c_int {
    if what != ffi::PyTrace_LINE {
        return 0;
    }
    // SAFETY: CPython calls the trace function with the GIL held.
    let py = unsafe { Python::assume_attached() };
    let timeout = py.get_type::<super::ScriptTimeout>();
    // SAFETY: GIL held; the type object lives for the whole process.
    unsafe { ffi::PyErr_SetNone(timeout.as_ptr()) };
    -1
}

fn file_of(frame: &Bound<'_, PyFrame>) -> String {
    frame
        .code()
        .getattr("co_filename")
        .and_then(|f| f.extract::<String>())
        .unwrap_or_default()
}

pub(super) fn is_script_file(file: &str) -> bool {
    !file.starts_with(INTERNAL_FILE)
        && !file.starts_with('<')
        && !std::path::Path::new(file).is_absolute()
}

/// The trace function.
///
/// # Safety
/// Called by CPython with the GIL held, a `TraceLink` as `obj` and a valid
/// frame.
unsafe extern "C" fn trace(
    obj: *mut ffi::PyObject,
    frame: *mut ffi::PyFrameObject,
    what: c_int,
    _arg: *mut ffi::PyObject,
) -> c_int {
    if what != ffi::PyTrace_LINE || obj.is_null() || frame.is_null() {
        return 0;
    }
    // SAFETY: per this function's contract.
    let py = unsafe { Python::assume_attached() };
    // SAFETY: borrowed references that CPython keeps alive for this call.
    let (link, frame) = unsafe {
        (
            Bound::from_borrowed_ptr(py, obj),
            Bound::from_borrowed_ptr(py, frame.cast()),
        )
    };
    let (Ok(link), Ok(frame)) = (link.cast_into::<TraceLink>(), frame.cast_into::<PyFrame>())
    else {
        return 0;
    };
    let link_object = link.clone();
    let link = link.borrow();
    if !link.debugger.is_active() {
        return 0;
    }
    let file = file_of(&frame);
    if !is_script_file(&file) {
        return 0;
    }
    let line = frame.line_number().max(0) as u32;
    let depth = || {
        let mut depth = 0u32;
        let mut outer = Some(frame.clone());
        while let Some(f) = outer {
            depth += 1;
            outer = f.outer();
        }
        depth
    };
    let Some((reason, depth)) = link.debugger.should_break(&file, line, depth) else {
        return 0;
    };
    let (debugger, slot) = (link.debugger.clone(), Arc::clone(&link.slot));
    drop(link);
    let mut access = PyAccess {
        py,
        frames: script_frames(&frame)
            .into_iter()
            .map(Bound::into_any)
            .collect(),
        link: Some(link_object),
    };
    slot.pause_timing();
    debugger.hit(file, line, depth, || stack(&frame), reason, &mut access);
    slot.resume_timing();
    0
}

/// The script frames from `frame` outwards.
fn script_frames<'py>(frame: &Bound<'py, PyFrame>) -> Vec<Bound<'py, PyFrame>> {
    let mut frames = Vec::new();
    let mut current = Some(frame.clone());
    while let Some(f) = current {
        if is_script_file(&file_of(&f)) {
            frames.push(f.clone());
        }
        current = f.outer();
    }
    frames
}

/// The script frames from `frame` outwards, with locals.
fn stack(frame: &Bound<'_, PyFrame>) -> Vec<StackFrame> {
    script_frames(frame).iter().map(describe_frame).collect()
}

/// A frame's locals, each with a short rendering of its value.
pub(super) fn locals_of(frame: &Bound<'_, PyAny>) -> Vec<(String, String)> {
    let mut locals = Vec::new();
    if let Ok(dict) = frame
        .getattr("f_locals")
        .and_then(|l| Ok(l.cast_into::<PyDict>()?))
    {
        for (name, value) in dict.iter() {
            let mut text = value
                .repr()
                .map(|r| r.to_string())
                .unwrap_or_else(|_| "?".into());
            if text.chars().count() > 80 {
                text = text.chars().take(77).collect::<String>() + "...";
            }
            locals.push((name.to_string(), text));
        }
    }
    locals
}

/// A frame's file, line, function and locals.
fn describe_frame(f: &Bound<'_, PyFrame>) -> StackFrame {
    let function = f
        .code()
        .getattr("co_name")
        .and_then(|n| n.extract::<String>())
        .unwrap_or_default();
    let locals = locals_of(f.as_any());
    StackFrame {
        file: file_of(f),
        line: f.line_number().max(0) as u32,
        // `<module>` is Python's name for a file's top level.
        function: if function == "<module>" {
            "main chunk".into()
        } else {
            function
        },
        locals,
    }
}

/// A stopped Python stack: the frame objects of [`StackFrame`]s, innermost
/// first, read and changed through the prelude's evaluator.
pub struct PyAccess<'py> {
    py: Python<'py>,
    frames: Vec<Bound<'py, PyAny>>,
    /// The trace function to put back after an evaluation (its tracer
    /// replaces the thread's trace function while it runs).
    link: Option<Bound<'py, TraceLink>>,
}

impl<'py> PyAccess<'py> {
    fn call(&mut self, frame: usize, mode: &str, code: &str) -> Result<Bound<'py, PyAny>, String> {
        let Some(target) = self.frames.get(frame) else {
            return Err(format!("there is no frame {frame}"));
        };
        let py = self.py;
        let result = super::prelude(py)
            .and_then(|m| m.getattr("debug_evaluate"))
            .and_then(|f| {
                f.call1((
                    target,
                    mode,
                    code,
                    EVALUATION_STEPS,
                    crate::scripting::debugger::CHILDREN_SHOWN,
                ))
            });
        // An assignment landed in the frame's locals dict: into the frame.
        if let Ok(frame) = target.cast::<PyFrame>() {
            // SAFETY: GIL held; the frame object is alive (we hold it).
            unsafe { ffi::PyFrame_LocalsToFast(frame.as_ptr().cast(), 0) };
        }
        // The evaluator's tracer replaced this thread's trace function.
        // SAFETY: GIL held; the link object is kept alive by the script.
        unsafe {
            match &self.link {
                Some(link) => ffi::PyEval_SetTrace(Some(trace), link.as_ptr()),
                None => ffi::PyEval_SetTrace(None, std::ptr::null_mut()),
            }
        }
        result.map_err(|e| {
            let value = e.value(py);
            let kind = e
                .get_type(py)
                .name()
                .map(|n| n.to_string())
                .unwrap_or_else(|_| "Exception".into());
            let text = value.str().map(|s| s.to_string()).unwrap_or_default();
            if text.is_empty() {
                kind
            } else {
                format!("{kind}: {text}")
            }
        })
    }
}

fn record(value: &Bound<'_, PyAny>) -> Variable {
    let item = |i: usize| value.get_item(i).ok();
    let text = |i: usize| {
        item(i)
            .and_then(|v| v.extract::<String>().ok())
            .unwrap_or_default()
    };
    let flag = |i: usize| {
        item(i)
            .and_then(|v| v.extract::<bool>().ok())
            .unwrap_or(false)
    };
    Variable {
        name: text(0),
        value: text(1),
        type_name: text(2),
        expr: text(3),
        expandable: flag(4),
        truthy: flag(5),
    }
}

fn records(list: &Bound<'_, PyAny>) -> Vec<Variable> {
    list.try_iter()
        .map(|items| items.filter_map(Result::ok).map(|r| record(&r)).collect())
        .unwrap_or_default()
}

impl FrameAccess for PyAccess<'_> {
    fn is_true(&mut self, frame: usize, code: &str) -> Result<bool, String> {
        self.call(frame, "test", code)
            .map(|r| r.extract::<bool>().unwrap_or(false))
    }

    fn evaluate(&mut self, frame: usize, code: &str) -> Result<Variable, String> {
        self.call(frame, "eval", code).map(|r| record(&r))
    }

    fn children(&mut self, frame: usize, expr: &str) -> Result<Vec<Variable>, String> {
        self.call(frame, "children", expr).map(|r| records(&r))
    }

    fn locals(&mut self, frame: usize) -> Result<Vec<Variable>, String> {
        self.call(frame, "locals", "").map(|r| records(&r))
    }
}

/// Break on error: where a call raised, the traceback still holds the
/// raising frames and their locals; stops there if the debugger breaks on
/// errors.
pub fn post_mortem(py: Python<'_>, link: &Py<TraceLink>, err: &PyErr, message: &str) {
    let link = link.bind(py);
    let (debugger, slot) = {
        let l = link.borrow();
        (l.debugger.clone(), Arc::clone(&l.slot))
    };
    if !debugger.breaks_on_error() {
        return;
    }
    let mut raw = Vec::new();
    let mut tb = err.traceback(py).map(|t| t.into_any());
    while let Some(t) = tb {
        if let (Ok(frame), Ok(line)) = (
            t.getattr("tb_frame"),
            t.getattr("tb_lineno").and_then(|l| l.extract::<u32>()),
        ) && let Ok(frame) = frame.cast_into::<PyFrame>()
            && is_script_file(&file_of(&frame))
        {
            raw.push((frame, line));
        }
        tb = t.getattr("tb_next").ok().filter(|n| !n.is_none());
    }
    raw.reverse();
    if raw.is_empty() {
        return;
    }
    let frames = raw
        .iter()
        .map(|(frame, line)| {
            let mut described = describe_frame(frame);
            described.line = *line;
            described
        })
        .collect();
    let mut access = PyAccess {
        py,
        frames: raw.into_iter().map(|(f, _)| f.into_any()).collect(),
        link: Some(link.clone()),
    };
    slot.pause_timing();
    debugger.hit_error(frames, message.to_string(), &mut access);
    slot.resume_timing();
}

/// Lets a sampler take the GIL `hz` times a second, within a call however
/// short: the scripts' thread gives it up when asked after at most 25 µs
/// (Python's switch interval, 5 ms by default, would cap sampling at about
/// 200 Hz and miss every call shorter than it). The interval only matters
/// while another thread waits for the GIL, which here is the sampler.
pub fn prepare_sampling(hz: u32) {
    let half_period = (0.5 / f64::from(hz.max(1))).min(25e-6);
    Python::attach(|py| {
        if let Ok(sys) = py.import("sys") {
            let current = sys
                .call_method0("getswitchinterval")
                .and_then(|v| v.extract::<f64>())
                .unwrap_or(0.005);
            if half_period < current {
                let _ = sys.call_method1("setswitchinterval", (half_period,));
            }
        }
    });
}

/// Runs the sampler thread's loop with a Python thread state kept for the
/// thread's whole life, the GIL released: each probe then takes the GIL
/// without making and freeing a thread state. Those are allocated without
/// the GIL, and with `tracemalloc` tracing (a script may start it) an
/// allocation without the GIL crashes CPython 3.11.
pub fn sampler_context(body: Box<dyn FnOnce() + Send>) {
    Python::attach(|py| py.detach(body));
}

/// The script stack `thread` runs now, root first, as
/// `path:function:line` (a [`crate::profiling::samples::StackProbe`]);
/// takes the GIL, which the scripts' thread gives up at its next bytecode
/// boundary.
pub fn stack_of(thread: u64) -> Option<Vec<String>> {
    Python::attach(|py| {
        let frames = py
            .import("sys")
            .and_then(|sys| sys.call_method0("_current_frames"))
            .ok()?;
        let frame = frames.get_item(thread).ok()?;
        let frame = frame.cast_into::<PyFrame>().ok()?;
        let mut stack: Vec<String> = script_frames(&frame)
            .iter()
            .map(|f| {
                let function = f
                    .code()
                    .getattr("co_name")
                    .and_then(|n| n.extract::<String>())
                    .unwrap_or_default();
                format!("{}:{function}:{}", file_of(f), f.line_number().max(0))
            })
            .collect();
        if stack.is_empty() {
            return None;
        }
        stack.reverse();
        Some(stack)
    })
}
