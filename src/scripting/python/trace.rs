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
use crate::scripting::debugger::SharedDebugger;
use crate::scripting::watchdog::WatchSlot;

/// What the trace function needs; passed to it as its object.
#[pyclass(unsendable)]
pub struct TraceLink {
    debugger: SharedDebugger,
    slot: Arc<WatchSlot>,
}

impl TraceLink {
    /// A link for one script.
    pub fn new(debugger: SharedDebugger, slot: Arc<WatchSlot>) -> TraceLink {
        TraceLink { debugger, slot }
    }
}

/// Installs or removes the trace function for the coming call (the GIL
/// must be held; tracing is per thread and per attach, so this runs at the
/// start of every call).
pub fn sync(py: Python<'_>, link: &Py<TraceLink>) {
    let active = link.bind(py).borrow().debugger.is_active();
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
    let frames = stack(&frame);
    link.slot.pause_timing();
    link.debugger.hit(file, line, depth, frames, reason);
    link.slot.resume_timing();
    0
}

/// The script frames from `frame` outwards, with locals.
fn stack(frame: &Bound<'_, PyFrame>) -> Vec<StackFrame> {
    let mut frames = Vec::new();
    let mut current = Some(frame.clone());
    while let Some(f) = current {
        let file = file_of(&f);
        if is_script_file(&file) {
            let function = f
                .code()
                .getattr("co_name")
                .and_then(|n| n.extract::<String>())
                .unwrap_or_default();
            let mut locals = Vec::new();
            if let Ok(dict) = f
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
            frames.push(StackFrame {
                file,
                line: f.line_number().max(0) as u32,
                function,
                locals,
            });
        }
        current = f.outer();
    }
    frames
}
