//! The watchdog: stops runaway script code without slowing normal code.
//!
//! Counting every instruction would cost LuaJIT its compiled loops (a count
//! hook makes each trace exit to the interpreter), and tracing every Python
//! line is as costly. So scripts run without any hook; a [`Watchdog`] thread
//! looks at every script that is inside a call, and once one call has run
//! longer than its grace period it *arms* that script: Lua gets an instruction
//! counting hook that stops the script when its frame budget is spent, and
//! Python gets a timeout exception. Leaving the call disarms it.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long one call in a frame (system, handler) may run before the
/// watchdog arms its script.
pub const FRAME_GRACE: Duration = Duration::from_millis(50);

/// The same for loading a script, which may legitimately build a large world.
pub const LOAD_GRACE: Duration = Duration::from_millis(1000);

/// How fast LuaJIT runs instructions in its counting mode on the reference
/// machine. Python has no cheap instruction counter, so its budget is the
/// time this rate gives for the same number of instructions.
pub const COUNTED_INSTRUCTIONS_PER_SECOND: f64 = 30_000_000.0;

/// What arming and disarming a script does, per language.
pub trait Alarm: Send + Sync {
    /// Runs the watchdog's decision for this script inside whatever the
    /// language needs held while it arms (Python: the GIL, taken *before*
    /// the slot's lock, in the same order as the script's own thread).
    fn with_context(&self, check: &mut dyn FnMut()) {
        check();
    }
    /// Called on the watchdog thread once a call has run past the grace
    /// period. Must be safe to call while the script runs on another thread.
    fn arm(&self);
    /// Called on the script's thread when the call ends.
    fn disarm(&self);
    /// Called on the watchdog thread at every check while armed and still
    /// running (Python re-sends its exception in case a bare `except:`
    /// swallowed it).
    fn still_running(&self, _armed_for: Duration) {}
    /// Where a stuck call is, if that can be found without waiting on the
    /// call itself (called from the lookout thread, which must never block
    /// for long).
    fn locate(&self) -> Option<(String, u32)> {
        None
    }
}

/// How long a call may go on past its grace period and its script's
/// patience (the time its budget may take to run out) before it counts as
/// stuck: an armed script stops well within that unless it is inside a C
/// function that no hook or exception reaches (`time.sleep`, a `re.match`
/// that backtracks, `sum(range(10**12))`). Arming itself may never happen
/// then (Python's alarm waits for the GIL the stuck call holds), so this is
/// measured from the start of the call.
pub const STUCK_AFTER: Duration = Duration::from_millis(500);

/// A call that cannot be stopped in this process.
#[derive(Debug, Clone, PartialEq)]
pub struct StuckCall {
    /// The script (manifest path).
    pub script: String,
    /// Where the call is (file and line), when it could be found.
    pub at: Option<(String, u32)>,
    /// How long the call has run.
    pub running_for: Duration,
}

/// Why a stuck call cannot be stopped: where it is, in words.
pub const WHY_STUCK: &str = "inside a function that no limit can interrupt (in Python, for example time.sleep, a backtracking re.match, sum over a huge range, or waiting for Python while a thread the script started holds it)";

impl StuckCall {
    /// Where the call is: `file:line` once found, else the script.
    pub fn place(&self) -> String {
        match &self.at {
            Some((file, line)) => format!("{file}:{line}"),
            None => self.script.clone(),
        }
    }
}

impl std::fmt::Display for StuckCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: a call into this script has run for {:.1} s and cannot be stopped: it is {WHY_STUCK}",
            self.place(),
            self.running_for.as_secs_f64()
        )
    }
}

/// What is done with a stuck call.
pub type StuckHandler = Arc<dyn Fn(&StuckCall) + Send + Sync>;

static STUCK_HANDLERS: Mutex<Vec<StuckHandler>> = Mutex::new(Vec::new());

/// Adds what the process does when a script call is stuck for good and its
/// watchdog has no handler of its own (see [`Watchdog::set_stuck_handler`]):
/// the headless runner reports it and exits. Every handler added hears
/// every such call; with none, it is printed.
pub fn on_stuck(handler: impl Fn(&StuckCall) + Send + Sync + 'static) {
    if let Ok(mut handlers) = STUCK_HANDLERS.lock() {
        handlers.push(Arc::new(handler));
    }
}

fn report_stuck(call: &StuckCall) {
    match STUCK_HANDLERS.lock() {
        Ok(handlers) if !handlers.is_empty() => handlers.iter().for_each(|h| h(call)),
        _ => {
            let _ = writeln!(std::io::stderr(), "error: {call}");
        }
    }
}

#[derive(Default)]
struct SlotState {
    since: Option<Instant>,
    grace: Duration,
    armed: Option<Instant>,
    /// The current call was reported stuck.
    reported: bool,

    /// Set when the script is gone; the watchdog must not touch it again.
    retired: bool,
    /// While stopped at a breakpoint: how long the call had run.
    paused: Option<Duration>,
}

/// One watched script.
pub struct WatchSlot {
    state: Mutex<SlotState>,
    alarm: Box<dyn Alarm>,
    /// The script, for reports.
    name: String,
    /// How long, once armed, the script's budget may take to run out.
    patience: Duration,
    /// The alarm fired during the current (or last) call.
    fired: AtomicBool,
}

impl WatchSlot {
    /// Marks the start of a call into the script that may run for `grace`
    /// before it is armed.
    pub fn enter(&self, grace: Duration) {
        crate::crash::enter_call(&self.name);
        if let Ok(mut state) = self.state.lock() {
            state.since = Some(Instant::now());
            state.grace = grace;
            state.reported = false;
            self.fired.store(false, Ordering::Relaxed);
        }
    }

    /// Ends a wait marked with [`WatchSlot::enter`] that may not have led
    /// to a call (see the Python backend's GIL wait); a call that was armed
    /// is left to its own [`WatchSlot::leave`].
    pub fn end_wait(&self) {
        if let Ok(mut state) = self.state.lock()
            && state.armed.is_none()
        {
            state.since = None;
        }
    }

    /// True when the alarm fired during the last call: its limit was
    /// reached, even if the script caught the error and returned.
    pub fn fired(&self) -> bool {
        self.fired.load(Ordering::Relaxed)
    }

    /// The call, once it has gone on [`STUCK_AFTER`] past arming (reported
    /// once per call).
    fn stuck(&self, now: Instant) -> Option<StuckCall> {
        let mut state = self.state.lock().ok()?;
        let since = state.since?;
        let limit = state.grace + self.patience + STUCK_AFTER;
        if state.retired || state.reported || now.duration_since(since) < limit {
            return None;
        }
        state.reported = true;
        Some(StuckCall {
            script: self.name.clone(),
            at: None,
            running_for: now.duration_since(since),
        })
    }

    /// Marks the end of the call; disarms if armed.
    pub fn leave(&self) {
        crate::crash::leave_call();
        if let Ok(mut state) = self.state.lock() {
            state.since = None;
            state.paused = None;
            if state.armed.take().is_some() {
                self.alarm.disarm();
            }
        }
    }

    /// Stops the clock of the current call (the debugger holds it at a
    /// breakpoint, which is not the script running long).
    pub fn pause_timing(&self) {
        if let Ok(mut state) = self.state.lock()
            && let Some(since) = state.since.take()
        {
            state.paused = Some(since.elapsed());
        }
    }

    /// Restarts the clock stopped by [`WatchSlot::pause_timing`].
    pub fn resume_timing(&self) {
        if let Ok(mut state) = self.state.lock()
            && let Some(elapsed) = state.paused.take()
        {
            state.since = Instant::now().checked_sub(elapsed).or(Some(Instant::now()));
        }
    }

    /// Runs `f` as one watched call.
    pub fn watch<R>(&self, grace: Duration, f: impl FnOnce() -> R) -> R {
        self.enter(grace);
        let result = f();
        self.leave();
        result
    }

    /// True when the slot has a call running past its grace period.
    fn overdue(&self, now: Instant) -> bool {
        self.state.lock().is_ok_and(|state| {
            !state.retired
                && state
                    .since
                    .is_some_and(|since| now.duration_since(since) >= state.grace)
        })
    }

    fn check(&self, now: Instant) {
        if !self.overdue(now) {
            return;
        }
        self.alarm.with_context(&mut || {
            let Ok(mut state) = self.state.lock() else {
                return;
            };
            if state.retired {
                return;
            }
            let Some(since) = state.since else {
                return;
            };
            match state.armed {
                None if now.duration_since(since) >= state.grace => {
                    state.armed = Some(now);
                    self.fired.store(true, Ordering::Relaxed);
                    self.alarm.arm();
                }
                Some(armed) => self.alarm.still_running(now.duration_since(armed)),
                None => {}
            }
        });
    }
}

/// The watchdog thread of one runtime. Stops when dropped.
pub struct Watchdog {
    slots: Arc<Mutex<Vec<Weak<WatchSlot>>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    /// Looks for stuck calls. Separate from the arming thread, which may
    /// itself wait for Python's GIL that a stuck call holds.
    lookout: Option<JoinHandle<()>>,
    /// This watchdog's own handler of stuck calls, if any.
    stuck_handler: Arc<Mutex<Option<StuckHandler>>>,
}

/// How often the watchdog looks.
const TICK: Duration = Duration::from_millis(5);

/// How often the lookout looks for stuck calls.
const LOOKOUT_TICK: Duration = Duration::from_millis(100);

impl Default for Watchdog {
    fn default() -> Self {
        Self::new()
    }
}

impl Watchdog {
    /// Starts the watchdog thread.
    pub fn new() -> Watchdog {
        let slots: Arc<Mutex<Vec<Weak<WatchSlot>>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let slots = Arc::clone(&slots);
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("ecscope-watchdog".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(TICK);
                        let now = Instant::now();
                        // The list lock is held only to collect: checking a
                        // Python slot waits for the GIL, which the script's
                        // thread may hold while it registers another script.
                        let live: Vec<Arc<WatchSlot>> = match slots.lock() {
                            Ok(mut list) => {
                                list.retain(|s| s.strong_count() > 0);
                                list.iter().filter_map(Weak::upgrade).collect()
                            }
                            Err(_) => return,
                        };
                        for slot in live {
                            slot.check(now);
                        }
                    }
                })
                .ok()
        };
        let stuck_handler: Arc<Mutex<Option<StuckHandler>>> = Arc::default();
        let lookout = {
            let slots = Arc::clone(&slots);
            let stop = Arc::clone(&stop);
            let handler = Arc::clone(&stuck_handler);
            std::thread::Builder::new()
                .name("ecscope-lookout".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        // Parked, so that dropping the watchdog wakes it at
                        // once instead of waiting out the tick.
                        std::thread::park_timeout(LOOKOUT_TICK);
                        if stop.load(Ordering::Relaxed) {
                            return;
                        }
                        let now = Instant::now();
                        let live: Vec<Arc<WatchSlot>> = match slots.lock() {
                            Ok(list) => list.iter().filter_map(Weak::upgrade).collect(),
                            Err(_) => return,
                        };
                        for slot in &live {
                            if let Some(mut call) = slot.stuck(now) {
                                call.at = slot.alarm.locate();
                                let own = handler.lock().ok().and_then(|h| h.clone());
                                match own {
                                    Some(own) => own(&call),
                                    None => report_stuck(&call),
                                }
                            }
                        }
                    }
                })
                .ok()
        };
        Watchdog {
            slots,
            stop,
            thread,
            lookout,
            stuck_handler,
        }
    }

    /// Sends this watchdog's stuck calls to `handler` (the window of the
    /// runtime), instead of the process-wide handlers.
    pub fn set_stuck_handler(&self, handler: Option<StuckHandler>) {
        if let Ok(mut own) = self.stuck_handler.lock() {
            *own = handler;
        }
    }

    /// This watchdog's own handler of stuck calls.
    pub fn stuck_handler(&self) -> Option<StuckHandler> {
        self.stuck_handler.lock().ok().and_then(|h| h.clone())
    }

    /// A handle to register and unregister scripts (held by each script so
    /// it can unregister before its VM is freed).
    pub fn handle(&self) -> WatchdogHandle {
        WatchdogHandle {
            slots: Arc::clone(&self.slots),
        }
    }
}

/// Registers scripts with a [`Watchdog`].
#[derive(Clone)]
pub struct WatchdogHandle {
    slots: Arc<Mutex<Vec<Weak<WatchSlot>>>>,
}

impl WatchdogHandle {
    /// Stops watching a slot. After this returns the watchdog thread will
    /// not touch it again: a check in progress finishes first (it holds the
    /// slot's lock), later ones see it retired.
    pub fn unregister(&self, slot: &Arc<WatchSlot>) {
        if let Ok(mut state) = slot.state.lock() {
            state.retired = true;
        }
        if let Ok(mut list) = self.slots.lock() {
            list.retain(|s| !std::ptr::eq(s.as_ptr(), Arc::as_ptr(slot)));
        }
    }

    /// Watches a script; call [`WatchdogHandle::unregister`] before the
    /// script's VM is freed.
    pub fn register(
        &self,
        name: &str,
        patience: Duration,
        alarm: Box<dyn Alarm>,
    ) -> Arc<WatchSlot> {
        let slot = Arc::new(WatchSlot {
            state: Mutex::default(),
            alarm,
            name: name.to_string(),
            patience,
            fired: AtomicBool::new(false),
        });
        if let Ok(mut list) = self.slots.lock() {
            list.push(Arc::downgrade(&slot));
        }
        slot
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in [self.thread.take(), self.lookout.take()]
            .into_iter()
            .flatten()
        {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    struct Counter(Arc<AtomicUsize>, Arc<AtomicUsize>);

    impl Alarm for Counter {
        fn arm(&self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
        fn disarm(&self) {
            self.1.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn arms_long_calls_only() {
        let dog = Watchdog::new();
        let armed = Arc::new(AtomicUsize::new(0));
        let disarmed = Arc::new(AtomicUsize::new(0));
        let slot = dog.handle().register(
            "t",
            Duration::ZERO,
            Box::new(Counter(armed.clone(), disarmed.clone())),
        );
        let grace = Duration::from_millis(20);
        slot.watch(grace, || {});
        assert_eq!(armed.load(Ordering::SeqCst), 0);
        slot.watch(grace, || {
            let start = Instant::now();
            while armed.load(Ordering::SeqCst) == 0 && start.elapsed() < Duration::from_secs(5) {
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        assert_eq!(armed.load(Ordering::SeqCst), 1);
        assert_eq!(disarmed.load(Ordering::SeqCst), 1);
        dog.handle().unregister(&slot);
    }
}
