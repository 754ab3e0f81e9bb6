//! Sampled script stacks (SCRIPT_API §7 `--samples`): a sampler thread
//! wakes `sample_hz` times a second and reads the script stack the
//! runtime's thread is running, under the system, handler or coroutine
//! that is running. Folded into "root;frame;frame"
//! lines with a count, the format inferno, flamegraph.pl and speedscope
//! read.
//!
//! Python stacks are read by the sampler thread itself, holding the GIL:
//! the scripts' thread gives it up at its next bytecode boundary, so the
//! line is the one running, and the scripts run untraced. Lua stacks are
//! not read yet (LuaJIT's sampler serves one Lua state per process, and
//! every script has its own): a sample in a Lua call is its root alone.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Reads the script stack a thread is running right now, frames root first
/// (`path:function:line`), or `None` when it runs no script code.
pub type StackProbe = Box<dyn Fn(u64) -> Option<Vec<String>> + Send>;

#[derive(Default)]
struct Shared {
    stop: AtomicBool,
    /// What the sampled thread runs now: the samples' root, and whether
    /// its language's stack can be read (otherwise a sample is the root
    /// alone). Empty between calls.
    root: Mutex<(String, bool)>,
    counts: Mutex<BTreeMap<String, u64>>,
}

thread_local! {
    static SAMPLER: std::cell::RefCell<Option<Arc<Shared>>> = const { std::cell::RefCell::new(None) };
}

/// The calling thread's id, as the languages name threads.
fn this_thread() -> u64 {
    // SAFETY: pthread_self has no preconditions.
    unsafe { libc::pthread_self() as u64 }
}

/// Starts sampling this thread's scripts `hz` times a second (1 to
/// 10,000): a sampler thread reads the stack through `probe`.
pub fn start(hz: u32, probe: StackProbe) {
    let shared = Arc::new(Shared::default());
    let period = Duration::from_secs_f64(1.0 / f64::from(hz.clamp(1, 10_000)));
    let target = this_thread();
    {
        let shared = Arc::clone(&shared);
        let _ = std::thread::Builder::new()
            .name("ecscope-sampler".into())
            .spawn(move || {
                // After a look that found no script running (between two
                // calls), looks again sooner, so that short calls are
                // still sampled at about the rate asked for.
                let mut wait = period;
                while !shared.stop.load(Ordering::Relaxed) {
                    std::thread::sleep(wait);
                    let root = || shared.root.lock().map(|r| r.clone()).unwrap_or_default();
                    let (mut key, readable) = root();
                    let frames = if readable {
                        // The root is read again once the stack is: the
                        // thread may have moved on to another call while
                        // the probe waited for its turn.
                        probe(target).and_then(|frames| {
                            key = root().0;
                            (!key.is_empty()).then_some(frames)
                        })
                    } else {
                        // A call whose stack cannot be read: its share
                        // still counts, under its own name.
                        (!key.is_empty()).then(Vec::new)
                    };
                    let Some(frames) = frames else {
                        wait = (period / 8).max(Duration::from_micros(50));
                        continue;
                    };
                    wait = period;
                    if key.is_empty() {
                        key.push_str("(no call)");
                    }
                    for frame in frames {
                        key.push(';');
                        key.push_str(&frame);
                    }
                    if let Ok(mut counts) = shared.counts.lock() {
                        *counts.entry(key).or_default() += 1;
                    }
                }
            });
    }
    SAMPLER.with(|s| *s.borrow_mut() = Some(shared));
}

/// Stops sampling and returns the folded stacks with their counts, in
/// order.
pub fn finish() -> Vec<(String, u64)> {
    SAMPLER.with(|s| match s.borrow_mut().take() {
        Some(shared) => {
            shared.stop.store(true, Ordering::Relaxed);
            shared
                .counts
                .lock()
                .map(|c| c.clone().into_iter().collect())
                .unwrap_or_default()
        }
        None => Vec::new(),
    })
}

/// Whether this thread's scripts are sampled.
pub fn active() -> bool {
    SAMPLER.with(|s| s.borrow().is_some())
}

/// Names what runs now (`scripts/flock.lua:steer`), or nothing (empty):
/// the root of the samples taken until the next change. `readable` says
/// whether the probe can read its stack; if not, a sample is the root
/// alone.
pub fn set_root(root: String, readable: bool) {
    SAMPLER.with(|s| {
        if let Some(shared) = s.borrow().as_ref()
            && let Ok(mut current) = shared.root.lock()
        {
            *current = (root, readable);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_fold_under_their_root() {
        start(
            1000,
            Box::new(|_| Some(vec!["a.py:work:9".into(), "a.py:slow:5".into()])),
        );
        assert!(active());
        set_root("scripts/a.py:work".into(), true);
        std::thread::sleep(Duration::from_millis(30));
        let folded = finish();
        assert!(!active());
        let total: u64 = folded.iter().map(|(_, n)| n).sum();
        assert!(total >= 5, "{folded:?}");
        assert!(
            folded
                .iter()
                .any(|(k, _)| k == "scripts/a.py:work;a.py:work:9;a.py:slow:5"),
            "{folded:?}"
        );
    }
}
