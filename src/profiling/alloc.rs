//! The process's allocator: the system allocator, counting the bytes and
//! blocks that are live. Counting is per thread (a plain thread-local
//! add), folded into process-wide atomics only every [`FLUSH_BYTES`] of
//! churn or when a thread asks, so threads never contend on a counter.
//! LuaJIT allocates through Rust's allocator (mlua), so Lua heaps are
//! part of these numbers; Python's are not (see the Python backend's
//! memory hooks).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};

/// Pending bytes a thread may hold before folding them in.
const FLUSH_BYTES: isize = 256 * 1024;

static BYTES: AtomicIsize = AtomicIsize::new(0);
static BLOCKS: AtomicIsize = AtomicIsize::new(0);
static COUNTING: AtomicBool = AtomicBool::new(true);

thread_local! {
    // `const` and without a destructor, so the allocator may touch them at
    // any point of a thread's life without allocating.
    static PENDING_BYTES: Cell<isize> = const { Cell::new(0) };
    static PENDING_BLOCKS: Cell<isize> = const { Cell::new(0) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    static HOST_ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

/// Blocks this thread has allocated while counting, ever (frees not
/// subtracted), less those made inside host calls
/// ([`in_host_call`]): the difference over a script call is the blocks the
/// script's own code made.
pub fn allocations() -> u64 {
    ALLOCATIONS.try_with(Cell::get).unwrap_or(0) - HOST_ALLOCATIONS.try_with(Cell::get).unwrap_or(0)
}

/// Runs `f`, a call from a script into the host, keeping the blocks it
/// allocates (converting values, handing out proxies) out of
/// [`allocations`].
pub fn in_host_call<R>(f: impl FnOnce() -> R) -> R {
    let before = ALLOCATIONS.try_with(Cell::get).unwrap_or(0);
    let result = f();
    let made = ALLOCATIONS.try_with(Cell::get).unwrap_or(0) - before;
    let _ = HOST_ALLOCATIONS.try_with(|h| h.set(h.get() + made));
    result
}

/// The counting allocator installed for the whole process.
pub struct CountingAlloc;

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

#[inline]
fn count(bytes: isize, blocks: isize) {
    if !COUNTING.load(Ordering::Relaxed) {
        return;
    }
    let local = PENDING_BYTES.try_with(|p| {
        let b = p.get() + bytes;
        p.set(b);
        b
    });
    match local {
        Ok(pending) => {
            if blocks > 0 {
                ALLOCATIONS.with(|a| a.set(a.get() + 1));
            }
            let blocks = PENDING_BLOCKS.with(|p| {
                let n = p.get() + blocks;
                p.set(n);
                n
            });
            if !(-FLUSH_BYTES..=FLUSH_BYTES).contains(&pending) {
                BYTES.fetch_add(pending, Ordering::Relaxed);
                BLOCKS.fetch_add(blocks, Ordering::Relaxed);
                PENDING_BYTES.with(|p| p.set(0));
                PENDING_BLOCKS.with(|p| p.set(0));
            }
        }
        // The thread is being torn down: count straight into the totals.
        Err(_) => {
            BYTES.fetch_add(bytes, Ordering::Relaxed);
            BLOCKS.fetch_add(blocks, Ordering::Relaxed);
        }
    }
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counting around it never allocates.
unsafe impl GlobalAlloc for CountingAlloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            count(layout.size() as isize, 1);
        }
        ptr
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            count(layout.size() as isize, 1);
        }
        ptr
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is.
        unsafe { System.dealloc(ptr, layout) };
        count(-(layout.size() as isize), -1);
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as is.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            count(new_size as isize - layout.size() as isize, 0);
        }
        new
    }
}

/// Folds this thread's pending counts into the totals (the runtime does
/// it once a frame, so its own numbers are exact when sampled).
pub fn flush_thread() {
    let bytes = PENDING_BYTES.try_with(|p| p.replace(0)).unwrap_or(0);
    let blocks = PENDING_BLOCKS.try_with(|p| p.replace(0)).unwrap_or(0);
    BYTES.fetch_add(bytes, Ordering::Relaxed);
    BLOCKS.fetch_add(blocks, Ordering::Relaxed);
}

/// Live heap bytes and blocks allocated through Rust (each other thread
/// may hold up to [`FLUSH_BYTES`] not yet folded in).
pub fn live() -> (usize, usize) {
    flush_thread();
    (
        BYTES.load(Ordering::Relaxed).max(0) as usize,
        BLOCKS.load(Ordering::Relaxed).max(0) as usize,
    )
}

/// Turns counting on or off (for measuring what it costs). While off,
/// frees of blocks counted earlier are not subtracted either, so the
/// totals are only meaningful for a span that was counted throughout.
pub fn set_counting(on: bool) {
    COUNTING.store(on, Ordering::Relaxed);
}

/// Whether counting is on.
pub fn counting() -> bool {
    COUNTING.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_big_allocation_shows_up_and_goes_away() {
        let (before, _) = live();
        let block = vec![1u8; 8 << 20];
        let (during, _) = live();
        drop(block);
        let (after, _) = live();
        // Other test threads allocate too: allow them some slack.
        assert!(
            during >= before + (8 << 20) - (4 << 20),
            "{before} → {during}"
        );
        assert!(after + (4 << 20) < during, "{during} → {after}");
    }
}
