//! Time the world spent stopped at a breakpoint or a step, so that frame
//! times and per-call statistics leave it out: waiting for the user is not
//! time the scripts spent.
//!
//! One clock per thread: the debugger adds each stop's length on the thread
//! that stopped, and a measurement takes that thread's reading at its start
//! and subtracts what was added by its end. A script stops on the thread
//! that runs it, and the frame around it is measured there too; another
//! runtime in the process (a test, a benchmark) stopping meanwhile is not
//! time this one spent waiting.

use std::cell::Cell;
use std::time::{Duration, Instant};

thread_local! {
    static STOPPED_NS: Cell<u64> = const { Cell::new(0) };
}

/// Adds a stop's length to this thread's clock.
pub fn add(stopped: Duration) {
    STOPPED_NS.with(|ns| ns.set(ns.get().saturating_add(stopped.as_nanos() as u64)));
}

/// The time this thread has stopped so far, in nanoseconds.
pub fn total_ns() -> u64 {
    STOPPED_NS.with(Cell::get)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_on_another_thread_is_not_left_out_of_this_threads_measurement() {
        let watch = Stopwatch::start();
        std::thread::spawn(|| add(Duration::from_secs(3600)))
            .join()
            .unwrap();
        assert_eq!(total_ns(), 0);
        add(Duration::from_secs(7200));
        // This thread's own stop is left out, down to nothing.
        assert_eq!(watch.elapsed(), Duration::ZERO);
    }
}
