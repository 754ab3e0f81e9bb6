//! How much memory Python holds, counted from inside its allocators:
//! the raw domain (plain `malloc`, sized with `malloc_usable_size`) and
//! pymalloc's arenas (where small objects live, sized by the arena
//! allocator itself). Both hooks wrap the allocators Python would use
//! anyway and are installed before the interpreter starts, so every block
//! is seen from its allocation to its free. Cost: a size lookup and an add
//! per raw allocation; arenas (1 MiB each) are rare.
//!
//! Not counted: memory that extension modules take from `malloc` directly
//! (numpy's array data, for instance).

use std::ffi::c_void;
use std::sync::Once;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};

use pyo3::ffi::{
    PyMem_GetAllocator, PyMem_SetAllocator, PyMemAllocatorDomain, PyMemAllocatorEx,
    PyObject_GetArenaAllocator, PyObject_SetArenaAllocator, PyObjectArenaAllocator,
};

static RAW_BYTES: AtomicIsize = AtomicIsize::new(0);
static ARENA_BYTES: AtomicIsize = AtomicIsize::new(0);
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// The allocators Python had before ours (written once, before the
/// interpreter starts and before our hooks can run).
static mut RAW: PyMemAllocatorEx = PyMemAllocatorEx {
    ctx: std::ptr::null_mut(),
    malloc: None,
    calloc: None,
    realloc: None,
    free: None,
};
static mut ARENA: PyObjectArenaAllocator = PyObjectArenaAllocator {
    ctx: std::ptr::null_mut(),
    alloc: None,
    free: None,
};

unsafe extern "C" {
    fn malloc_usable_size(ptr: *mut c_void) -> usize;
}

/// The size of a raw block, or 0 while counting is off (see
/// [`crate::profiling::alloc::set_counting`]).
fn usable(ptr: *mut c_void) -> isize {
    if ptr.is_null() || !crate::profiling::alloc::counting() {
        0
    } else {
        // SAFETY: the raw domain's blocks come from glibc malloc (the
        // hook is only installed over the default raw allocator).
        unsafe { malloc_usable_size(ptr) as isize }
    }
}

thread_local! {
    /// The heap size a script call on this thread may not grow past (0:
    /// none). Only script calls are limited: the host's own Python work
    /// (conversions, the watchdog's checks) must never see an allocation
    /// fail, since some of it aborts the process when one does.
    static CALL_LIMIT: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Set when an allocation was refused for the limit, so the error can say so.
static REFUSED: AtomicBool = AtomicBool::new(false);

/// Runs `f` (a call into a script) with the heap limited to `limit` bytes
/// (0: unlimited). Past it, Python's allocations fail and the script gets a
/// `MemoryError`, before the machine's memory runs out and the process
/// with it.
pub fn with_limit<R>(limit: usize, f: impl FnOnce() -> R) -> R {
    let before = CALL_LIMIT.with(|l| l.replace(limit));
    let result = f();
    CALL_LIMIT.with(|l| l.set(before));
    result
}

/// Whether the last `MemoryError` came from the limit (and clears it).
pub fn take_refused() -> bool {
    REFUSED.swap(false, Ordering::Relaxed)
}

/// True when allocating `extra` more bytes would pass this thread's limit.
fn refuses(extra: usize) -> bool {
    let limit = CALL_LIMIT.try_with(|l| l.get()).unwrap_or(0);
    if limit == 0 || !crate::profiling::alloc::counting() {
        return false;
    }
    let held = (RAW_BYTES.load(Ordering::Relaxed) + ARENA_BYTES.load(Ordering::Relaxed)).max(0);
    if (held as usize).saturating_add(extra) > limit {
        REFUSED.store(true, Ordering::Relaxed);
        return true;
    }
    false
}

fn raw() -> PyMemAllocatorEx {
    // SAFETY: written once before any hook could run, read-only after.
    unsafe { *std::ptr::addr_of!(RAW) }
}

extern "C" fn raw_malloc(_: *mut c_void, size: usize) -> *mut c_void {
    if refuses(size) {
        return std::ptr::null_mut();
    }
    let orig = raw();
    let ptr = orig
        .malloc
        .map_or(std::ptr::null_mut(), |f| f(orig.ctx, size));
    RAW_BYTES.fetch_add(usable(ptr), Ordering::Relaxed);
    ptr
}

extern "C" fn raw_calloc(_: *mut c_void, n: usize, size: usize) -> *mut c_void {
    if refuses(n.saturating_mul(size)) {
        return std::ptr::null_mut();
    }
    let orig = raw();
    let ptr = orig
        .calloc
        .map_or(std::ptr::null_mut(), |f| f(orig.ctx, n, size));
    RAW_BYTES.fetch_add(usable(ptr), Ordering::Relaxed);
    ptr
}

extern "C" fn raw_realloc(_: *mut c_void, ptr: *mut c_void, size: usize) -> *mut c_void {
    let orig = raw();
    let before = usable(ptr);
    if size > before.max(0) as usize && refuses(size - before.max(0) as usize) {
        return std::ptr::null_mut();
    }
    let new = orig
        .realloc
        .map_or(std::ptr::null_mut(), |f| f(orig.ctx, ptr, size));
    // A failed realloc leaves the old block in place.
    if !new.is_null() || size == 0 {
        RAW_BYTES.fetch_add(usable(new) - before, Ordering::Relaxed);
    }
    new
}

extern "C" fn raw_free(_: *mut c_void, ptr: *mut c_void) {
    let orig = raw();
    RAW_BYTES.fetch_sub(usable(ptr), Ordering::Relaxed);
    if let Some(f) = orig.free {
        f(orig.ctx, ptr);
    }
}

extern "C" fn arena_alloc(_: *mut c_void, size: usize) -> *mut c_void {
    if refuses(size) {
        return std::ptr::null_mut();
    }
    // SAFETY: written once before the hook was installed.
    let orig = unsafe { *std::ptr::addr_of!(ARENA) };
    let ptr = orig
        .alloc
        .map_or(std::ptr::null_mut(), |f| f(orig.ctx, size));
    if !ptr.is_null() {
        ARENA_BYTES.fetch_add(size as isize, Ordering::Relaxed);
    }
    ptr
}

extern "C" fn arena_free(_: *mut c_void, ptr: *mut c_void, size: usize) {
    // SAFETY: as above.
    let orig = unsafe { *std::ptr::addr_of!(ARENA) };
    ARENA_BYTES.fetch_sub(size as isize, Ordering::Relaxed);
    if let Some(f) = orig.free {
        f(orig.ctx, ptr, size);
    }
}

/// Installs the counting hooks if Python has not started yet (call before
/// the first `Python::attach`). With `PYTHONMALLOC` set, Python chooses its
/// own allocators and nothing is counted.
pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: plain query; callable before initialisation.
        let started = unsafe { pyo3::ffi::Py_IsInitialized() } != 0;
        if started || std::env::var_os("PYTHONMALLOC").is_some() || !cfg!(target_os = "linux") {
            return;
        }
        // SAFETY: before the interpreter starts no other thread uses these
        // allocators; the originals are saved before ours are installed,
        // and ours forward every call to them.
        unsafe {
            PyMem_GetAllocator(
                PyMemAllocatorDomain::PYMEM_DOMAIN_RAW,
                std::ptr::addr_of_mut!(RAW),
            );
            PyObject_GetArenaAllocator(std::ptr::addr_of_mut!(ARENA));
            let mut hook = PyMemAllocatorEx {
                ctx: std::ptr::null_mut(),
                malloc: Some(raw_malloc),
                calloc: Some(raw_calloc),
                realloc: Some(raw_realloc),
                free: Some(raw_free),
            };
            PyMem_SetAllocator(PyMemAllocatorDomain::PYMEM_DOMAIN_RAW, &mut hook);
            let mut arenas = PyObjectArenaAllocator {
                ctx: std::ptr::null_mut(),
                alloc: Some(arena_alloc),
                free: Some(arena_free),
            };
            PyObject_SetArenaAllocator(&mut arenas);
        }
        INSTALLED.store(true, Ordering::Relaxed);
    });
}

/// Bytes Python holds (raw blocks plus pymalloc arenas), when counted.
pub fn heap_bytes() -> Option<usize> {
    INSTALLED.load(Ordering::Relaxed).then(|| {
        (RAW_BYTES.load(Ordering::Relaxed) + ARENA_BYTES.load(Ordering::Relaxed)).max(0) as usize
    })
}
