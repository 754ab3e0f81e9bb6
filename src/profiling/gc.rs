//! Time spent in garbage collection, for the suggestion rules: the
//! languages that report their collections (Python's `gc.callbacks`) add
//! to one clock, and the runtime reads it around each system.

use std::sync::atomic::{AtomicU64, Ordering};

static NANOS: AtomicU64 = AtomicU64::new(0);

/// Adds a collection's time.
pub fn add(nanos: u64) {
    NANOS.fetch_add(nanos, Ordering::Relaxed);
}

/// Nanoseconds spent collecting since the process started.
pub fn total() -> u64 {
    NANOS.load(Ordering::Relaxed)
}
