//! Time the world spent stopped at a breakpoint or a step, so that frame
//! times and per-call statistics leave it out: waiting for the user is not
//! time the scripts spent.
//!
//! One clock for the process: the debugger adds each stop's length, and a
//! measurement takes the clock's reading at its start and subtracts what
//! was added by its end.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

static STOPPED_NS: AtomicU64 = AtomicU64::new(0);

/// Adds a stop's length.
pub fn add(stopped: Duration) {
    STOPPED_NS.fetch_add(stopped.as_nanos() as u64, Ordering::Relaxed);
}

/// The time stopped so far, in nanoseconds.
pub fn total_ns() -> u64 {
    STOPPED_NS.load(Ordering::Relaxed)
}

/// A stopwatch that leaves out the time stopped while it ran.
#[derive(Debug, Clone, Copy)]
pub struct Stopwatch {
    started: Instant,
    stopped_at_start: u64,
}

impl Stopwatch {
    /// Starts now.
    pub fn start() -> Stopwatch {
        Stopwatch {
            started: Instant::now(),
            stopped_at_start: total_ns(),
        }
    }

    /// The time since the start, less the time stopped since.
    pub fn elapsed(&self) -> Duration {
        let stopped = total_ns().saturating_sub(self.stopped_at_start);
        self.started
            .elapsed()
            .saturating_sub(Duration::from_nanos(stopped))
    }
}
