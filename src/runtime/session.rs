//! [`Session`]: a [`Runtime`] on its own thread, paced to real time, for
//! interactive front ends. The front end sends [`SessionCommand`]s and reads
//! the latest [`Snapshot`]; it never touches the runtime or the script VMs,
//! and a slow script never freezes it.
//!
//! When a script stops at a breakpoint, the runtime's thread stays inside
//! that script call: the session's break handler publishes a snapshot built
//! from the host alone and serves the front end's commands until it says
//! continue or step.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::view::{self, EntityDetail, ScriptView, WorldView};
use super::{CoroutineView, Runtime, RuntimeCommand, RuntimeEvent};
use crate::hot_reload::history::Version;
use crate::hot_reload::watcher::{FileChange, ProjectWatcher};
use crate::profiling::StatsTable;
use crate::profiling::memory::MemoryView;
use crate::profiling::profiler::Frames;
use crate::project::Project;
use crate::scripting::StackFrame;
use crate::scripting::debugger::{
    BreakInfo, Breakpoint, DataBreakpoint, DebugAction, Debugger, FrameAccess, Variable, Writer,
};
use crate::scripting::host::SharedHost;
use crate::scripting::watchdog::StuckCall;

/// A request to the session.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionCommand {
    /// Run frames paced to `fixed_dt / speed`.
    Play,
    /// Stop running frames.
    Pause,
    /// Pause, then run exactly this many frames.
    Step(u32),
    /// Simulation speed factor (1 = real time).
    SetSpeed(f64),
    /// Which entity the snapshot details (the inspector's selection).
    Inspect(Option<u64>),
    /// Which coroutine the snapshot details (call stack and locals).
    InspectCoroutine(Option<u64>),
    /// What to do at a breakpoint.
    Debug(DebugAction),
    /// Which script's version history the snapshot carries.
    ShowHistory(Option<String>),
    /// Load the text of a stored version into the snapshot (for diffs).
    LoadVersionText {
        /// Manifest path.
        script: String,
        /// The version.
        version: u32,
    },
    /// The watch list, evaluated in the selected frame at every stop.
    SetWatches(Vec<String>),
    /// Which frame of the stopped stack the locals, watches and console
    /// use (0 = innermost).
    SelectFrame(usize),
    /// Show (or hide) the children of a value in the stopped stack.
    Expand {
        /// The frame.
        frame: usize,
        /// The value's expression.
        expr: String,
        /// Show or hide.
        open: bool,
    },
    /// Evaluate an expression, or run a statement, in a frame of the
    /// stopped stack; answered by [`SessionEvent::Evaluated`].
    Evaluate {
        /// Chosen by the front end, returned with the answer.
        id: u64,
        /// The frame.
        frame: usize,
        /// The code, in the stopped script's language.
        code: String,
    },
    /// Set a local of a frame of the stopped stack to the value of an
    /// expression (`5`, `"text"`, `true`).
    SetVariable {
        /// The frame.
        frame: usize,
        /// The local's name.
        name: String,
        /// The new value, as an expression.
        value: String,
    },
    /// A change to the world or the project, applied between frames.
    Runtime(RuntimeCommand),
}

/// What the session reports besides snapshots, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionEvent {
    /// From the runtime's event stream.
    Runtime(RuntimeEvent),
    /// A command that could not be applied, and why.
    CommandFailed(String),
    /// The runtime thread stopped after an internal error.
    Crashed(String),
    /// The answer to [`SessionCommand::Evaluate`].
    Evaluated {
        /// The request's id.
        id: u64,
        /// The code evaluated.
        code: String,
        /// Its value, or why it failed.
        result: Result<Variable, String>,
    },
}

/// The debugger's settings and findings, in every snapshot.
#[derive(Debug, Clone, Default)]
pub struct DebugState {
    /// Every breakpoint with its settings, hits and last error.
    pub breakpoints: Arc<Vec<Breakpoint>>,
    /// Every data breakpoint.
    pub data_breakpoints: Arc<Vec<DataBreakpoint>>,
    /// Whether an error stops.
    pub break_on_error: bool,
    /// The entity whose writes are tracked.
    pub tracked: Option<u64>,
    /// The last writer of each field of the inspected entity, by
    /// (component, field), while its writes are tracked.
    pub writers: Arc<BTreeMap<(String, String), Writer>>,
}

/// The stopped stack as the front end shows it: read through the
/// language while the script waits.
#[derive(Debug, Clone)]
pub struct StopView {
    /// The selected frame.
    pub frame: usize,
    /// Its locals, expandable.
    pub locals: Result<Vec<Variable>, String>,
    /// The watch list's values in that frame.
    pub watches: Vec<(String, Result<Variable, String>)>,
    /// The children of the expanded values, by (frame, expression).
    pub children: BTreeMap<(usize, String), Result<Vec<Variable>, String>>,
}

/// The state of the session at one moment.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Increases with every snapshot.
    pub seq: u64,
    /// The world and scripts.
    pub view: WorldView,
    /// The inspected entity, if it exists.
    pub detail: Option<EntityDetail>,
    /// Whether frames are running.
    pub playing: bool,
    /// The speed factor.
    pub speed: f64,
    /// Live and recently ended coroutines (located while paused or when
    /// there are few).
    pub coroutines: Arc<Vec<CoroutineView>>,
    /// The inspected coroutine's frames, innermost first.
    pub coroutine_frames: Option<(u64, Vec<StackFrame>)>,
    /// Breakpoints by file.
    pub breakpoints: BTreeMap<String, BTreeSet<u32>>,
    /// Where a script is stopped, while it is.
    pub at_break: Option<BreakInfo>,
    /// The stopped stack's locals, watches and expanded values, while
    /// stopped.
    pub stop: Option<Arc<StopView>>,
    /// Breakpoints with their settings, data breakpoints, write tracking.
    pub debug: DebugState,
    /// The debugger's "pause all coroutines".
    pub coroutines_paused: bool,
    /// The version history of the script the Scripts panel shows.
    pub history: Option<(String, Vec<Version>)>,
    /// A stored version's text, as last requested.
    pub version_text: Option<(String, u32, Arc<String>)>,
    /// What the Profiler and Memory panels show.
    pub profile: ProfileData,
}

/// The profiler's frames and statistics and the memory series.
#[derive(Clone, Default)]
pub struct ProfileData {
    /// The frames the runtime recorded (shared, not copied).
    pub frames: Frames,
    /// Per-script and per-system time over the last frames.
    pub stats: Arc<StatsTable>,
    /// Memory series and leaks.
    pub memory: MemoryView,
    /// Whether the profiler records.
    pub profiling: bool,
    /// Whether memory is sampled.
    pub memory_tracking: bool,
    /// What the suggestion rules find in the run so far.
    pub suggestions: Arc<Vec<super::suggest::Suggestion>>,
    /// The scripts' sampled stacks since the profile was cleared, folded.
    pub folded: Arc<Vec<(String, u64)>>,
    /// What they say, for the views.
    pub samples: Arc<crate::profiling::samples::SampleSummary>,
    /// Samples a second while recording (0 = off).
    pub sample_hz: u32,
}

impl std::fmt::Debug for ProfileData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProfileData")
            .field("stats", &self.stats)
            .field("profiling", &self.profiling)
            .field("memory_tracking", &self.memory_tracking)
            .finish_non_exhaustive()
    }
}

/// How often the statistics and memory views are rebuilt for snapshots.
const PROFILE_REFRESH: Duration = Duration::from_millis(200);

#[derive(Default)]
struct Shared {
    latest: Option<Arc<Snapshot>>,
}

enum Message {
    Command(SessionCommand),
    FileChanged(FileChange),
    Shutdown,
}

/// A project running on its own thread.
pub struct Session {
    project: Project,
    tx: Sender<Message>,
    shared: Arc<Mutex<Shared>>,
    events: Receiver<SessionEvent>,
    thread: Option<JoinHandle<()>>,
    /// A call into a script that nothing can stop, once reported.
    stuck: Arc<Mutex<Option<StuckCall>>>,
}

/// Called from the session thread whenever there is something new to show.
pub type Notify = Arc<dyn Fn() + Send + Sync>;

/// Most frames run to catch up after a slow frame before giving up on real
/// time (so one slow frame does not cascade).
const MAX_CATCH_UP: u32 = 4;

/// Snapshots are built at most this often while playing.
const PUBLISH_INTERVAL: Duration = Duration::from_millis(15);

/// Coroutines are located (file and line) on every snapshot up to this
/// many; beyond it only while paused.
const LOCATE_ALWAYS: usize = 200;

impl Session {
    /// Starts the project on a new thread, playing or paused.
    pub fn start(project: Project, playing: bool, notify: Notify) -> Session {
        let (tx, rx) = channel();
        let (events_tx, events) = channel();
        let shared: Arc<Mutex<Shared>> = Arc::default();
        let stuck: Arc<Mutex<Option<StuckCall>>> = Arc::default();
        let thread = {
            let project = project.clone();
            let shared = Arc::clone(&shared);
            let stuck = Arc::clone(&stuck);
            let stuck_notify = Arc::clone(&notify);
            let watch_tx = tx.clone();
            std::thread::Builder::new()
                .name("ecscope-runtime".into())
                .stack_size(super::SCRIPT_STACK)
                .spawn(move || {
                    let crash_tx = events_tx.clone();
                    let crash_notify = Arc::clone(&notify);
                    let result = catch_unwind(AssertUnwindSafe(|| {
                        // The GUI and editors stop on errors unless the
                        // project's saved settings say otherwise.
                        let runtime = Runtime::open(project.clone());
                        runtime.debugger().set_break_on_error(true);
                        let data_dir = project.data_dir();
                        // An untrusted project's saved conditions and log
                        // messages would be code run as soon as a line is
                        // reached: they are neither loaded nor overwritten.
                        let loaded = if project.restricted {
                            match super::breakpoints::path(&data_dir).exists() {
                                true => Err(format!(
                                    "{}: the project's saved breakpoints are not loaded while it is opened restricted",
                                    super::breakpoints::path(&data_dir).display()
                                )),
                                false => Err(String::new()),
                            }
                        } else {
                            super::breakpoints::load(&data_dir, runtime.debugger())
                        };
                        let link = Rc::new(Link {
                            data_dir: loaded.is_ok().then_some(data_dir),
                            rx,
                            state: RefCell::new(State {
                                playing,
                                speed: 1.0,
                                ..State::default()
                            }),
                            shared,
                            events: events_tx,
                            notify,
                        });
                        // Saved files reach the worker as messages, applied
                        // between frames like commands.
                        let watcher = ProjectWatcher::start(&project.root, move |change| {
                            let _ = watch_tx.send(Message::FileChanged(change));
                        });
                        if let Err(message) = loaded
                            && !message.is_empty()
                        {
                            let _ = link.events.send(SessionEvent::CommandFailed(message));
                        }
                        let mut worker = Worker { runtime, link };
                        // Reported from the watchdog's own thread: this one
                        // is the one stuck.
                        worker.runtime.on_stuck(move |call| {
                            if let Ok(mut slot) = stuck.lock() {
                                *slot = Some(call.clone());
                            }
                            stuck_notify();
                        });
                        if let Err(err) = &watcher {
                            let _ = worker.link.events.send(SessionEvent::CommandFailed(format!(
                                "hot reload is off: {err}"
                            )));
                        }
                        worker.install_break_handler();
                        worker.run();
                        drop(watcher);
                    }));
                    if let Err(panic) = result {
                        let message = panic
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_else(|| "unknown error".into());
                        let _ = crash_tx.send(SessionEvent::Crashed(message));
                        crash_notify();
                    }
                })
                .ok()
        };
        Session {
            project,
            tx,
            shared,
            events,
            thread,
            stuck,
        }
    }

    /// The call into a script that nothing can stop, once the watchdog
    /// reported it (the session's thread may never come back).
    pub fn stuck_call(&self) -> Option<StuckCall> {
        self.stuck.lock().ok().and_then(|s| s.clone())
    }

    /// The project this session runs.
    pub fn project(&self) -> &Project {
        &self.project
    }

    /// Sends a command; it is applied between frames (or at a breakpoint).
    pub fn send(&self, command: SessionCommand) {
        let _ = self.tx.send(Message::Command(command));
    }

    /// The latest snapshot, once the first one is ready.
    pub fn snapshot(&self) -> Option<Arc<Snapshot>> {
        self.shared.lock().ok()?.latest.clone()
    }

    /// Events since the last call.
    pub fn drain_events(&self) -> Vec<SessionEvent> {
        self.events.try_iter().collect()
    }

    /// Waits until a snapshot satisfies `done` or `timeout` passes; returns
    /// the last snapshot seen. For tests and scripted front ends.
    pub fn wait_for(
        &self,
        timeout: Duration,
        mut done: impl FnMut(&Snapshot) -> bool,
    ) -> Option<Arc<Snapshot>> {
        let deadline = Instant::now() + timeout;
        loop {
            let snapshot = self.snapshot();
            if let Some(s) = &snapshot
                && done(s)
            {
                return snapshot;
            }
            if Instant::now() >= deadline {
                return snapshot;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.tx.send(Message::Shutdown);
        // A thread stuck in a call may never come back: it is left behind
        // rather than waited for.
        if self.stuck_call().is_some() {
            return;
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The session state the worker loop and the break handler share.
#[derive(Default)]
struct State {
    playing: bool,
    /// Whether the world was playing when the current run of stops began:
    /// kept across steps (each stop pauses), given back by Continue.
    playing_before_stop: Option<bool>,
    speed: f64,
    inspect: Option<u64>,
    inspect_coroutine: Option<u64>,
    seq: u64,
    /// Commands that arrived at a breakpoint and wait for the frame to end.
    queued: Vec<SessionCommand>,
    /// File changes that arrived at a breakpoint.
    changes: Vec<FileChange>,
    /// The script whose history the snapshot carries.
    history_of: Option<String>,
    /// A stored version's text, as last requested.
    version_text: Option<(String, u32, Arc<String>)>,
    shutdown: bool,
    /// From the last normal snapshot (a break cannot ask the runtime).
    scripts: Vec<ScriptView>,
    coroutines: Arc<Vec<CoroutineView>>,
    last_frame_ms: f64,
    /// The profile part of the last snapshot, and when it was built.
    profile: ProfileData,
    profile_built: Option<Instant>,
    /// The history of the last normal snapshot (a break cannot read it).
    history: Option<(String, Vec<Version>)>,
    /// The watch list.
    watches: Vec<String>,
    /// The frame selected at the current stop.
    frame: usize,
    /// Values shown expanded, kept across stops.
    expanded: BTreeSet<(usize, String)>,
}

struct Link {
    /// Where the breakpoints are kept (none until they have loaded, so a
    /// file that failed to load is not overwritten by an empty list).
    data_dir: Option<std::path::PathBuf>,
    rx: Receiver<Message>,
    state: RefCell<State>,
    shared: Arc<Mutex<Shared>>,
    events: Sender<SessionEvent>,
    notify: Notify,
}

impl Link {
    fn store(&self, snapshot: Snapshot) {
        if let Ok(mut shared) = self.shared.lock() {
            shared.latest = Some(Arc::new(snapshot));
        }
        (self.notify)();
    }

    fn send_events(&self, events: Vec<RuntimeEvent>) {
        for event in events {
            let _ = self.events.send(SessionEvent::Runtime(event));
        }
    }

    fn next_seq(&self) -> u64 {
        let mut state = self.state.borrow_mut();
        state.seq += 1;
        state.seq
    }

    /// A snapshot while a script is stopped: the world from the host, the
    /// rest from the last normal snapshot.
    fn publish_break(
        &self,
        host: &SharedHost,
        debugger: &Debugger,
        info: &BreakInfo,
        access: &mut dyn FrameAccess,
    ) {
        let stop = self.stop_view(info, access);
        let seq = self.next_seq();
        let Ok(mut h) = host.try_borrow_mut() else {
            return;
        };
        let events = h.take_output();
        let state = self.state.borrow();
        let snapshot = Snapshot {
            seq,
            view: WorldView {
                frame: h.frame(),
                time: h.time(),
                fixed_dt: h.dt(),
                entities: Arc::new(view::entity_rows(&h.world)),
                components: Arc::new(view::component_types(&h.world)),
                scripts: state.scripts.clone(),
                last_frame_ms: state.last_frame_ms,
            },
            detail: state
                .inspect
                .and_then(|id| view::entity_detail(&h.world, id)),
            playing: false,
            speed: state.speed,
            coroutines: stopped_coroutine(&state.coroutines, info),
            coroutine_frames: info.coroutine.map(|id| (id, info.frames.clone())),
            breakpoints: debugger.breakpoints(),
            at_break: Some(info.clone()),
            stop: Some(Arc::new(stop)),
            debug: debug_state(debugger, state.inspect),
            coroutines_paused: h.coroutines.all_paused,
            history: state.history.clone(),
            version_text: state.version_text.clone(),
            profile: state.profile.clone(),
        };
        drop(h);
        drop(state);
        self.send_events(events);
        self.store(snapshot);
    }

    /// Waits at a breakpoint for the front end's decision.
    fn at_break(
        &self,
        host: &SharedHost,
        debugger: &Debugger,
        info: &BreakInfo,
        access: &mut dyn FrameAccess,
    ) -> DebugAction {
        // A step's stop follows another stop: the world was paused by the
        // first one, and Continue must give back what it was before that.
        let was_playing = {
            let mut state = self.state.borrow_mut();
            let playing = std::mem::replace(&mut state.playing, false);
            *state.playing_before_stop.get_or_insert(playing)
        };
        {
            // A new stop starts at its innermost frame.
            let mut state = self.state.borrow_mut();
            state.frame = 0;
        }
        let publish = |link: &Link, access: &mut dyn FrameAccess| {
            link.publish_break(host, debugger, info, access);
        };
        publish(self, access);
        loop {
            let message = match self.rx.recv_timeout(Duration::from_millis(250)) {
                Ok(message) => message,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => Message::Shutdown,
            };
            let command = match message {
                Message::FileChanged(change) => {
                    // Applied once the frame is done.
                    self.state.borrow_mut().changes.push(change);
                    continue;
                }
                Message::Shutdown => {
                    // Let the frame finish quickly: no more stops.
                    self.state.borrow_mut().shutdown = true;
                    debugger.clear_breakpoints();
                    return DebugAction::Continue;
                }
                Message::Command(command) => command,
            };
            match command {
                SessionCommand::Debug(action) => {
                    if action == DebugAction::Continue {
                        let mut state = self.state.borrow_mut();
                        state.playing = was_playing;
                        state.playing_before_stop = None;
                    }
                    return action;
                }
                SessionCommand::Play => {
                    let mut state = self.state.borrow_mut();
                    state.playing = true;
                    state.playing_before_stop = None;
                    return DebugAction::Continue;
                }
                SessionCommand::Pause => {}
                SessionCommand::Inspect(id) => {
                    self.state.borrow_mut().inspect = id;
                    publish(self, access);
                }
                SessionCommand::SetWatches(watches) => {
                    self.state.borrow_mut().watches = watches;
                    publish(self, access);
                }
                SessionCommand::SelectFrame(frame) => {
                    self.state.borrow_mut().frame = frame.min(info.frames.len().saturating_sub(1));
                    publish(self, access);
                }
                SessionCommand::Expand { frame, expr, open } => {
                    let mut state = self.state.borrow_mut();
                    if open {
                        state.expanded.insert((frame, expr));
                    } else {
                        state.expanded.remove(&(frame, expr));
                    }
                    drop(state);
                    publish(self, access);
                }
                SessionCommand::Evaluate { id, frame, code } => {
                    let result = access.evaluate(frame, &code);
                    let _ = self
                        .events
                        .send(SessionEvent::Evaluated { id, code, result });
                    // A statement may have changed locals or the world.
                    publish(self, access);
                }
                SessionCommand::SetVariable { frame, name, value } => {
                    if let Err(e) = access.set_local(frame, &name, &value) {
                        let _ = self
                            .events
                            .send(SessionEvent::CommandFailed(format!("set {name}: {e}")));
                    }
                    publish(self, access);
                }
                SessionCommand::InspectCoroutine(id) => {
                    self.state.borrow_mut().inspect_coroutine = id;
                }
                SessionCommand::SetSpeed(speed) => {
                    if speed.is_finite() && speed > 0.0 {
                        self.state.borrow_mut().speed = speed.clamp(0.01, 100.0);
                    }
                }
                SessionCommand::Runtime(command) if is_debugger_command(&command) => {
                    if let Some(Err(message)) =
                        super::probe::apply_debugger_command(debugger, &command)
                    {
                        let _ = self.events.send(SessionEvent::CommandFailed(message));
                    }
                    self.save_breakpoints(debugger, &command);
                    publish(self, access);
                }
                // Step to next line of a coroutine from a stop: this frame
                // finishes, then the coroutine is resumed once and stops at
                // its first line.
                SessionCommand::Runtime(RuntimeCommand::StepCoroutineLine { id }) => {
                    let at = self
                        .state
                        .borrow()
                        .coroutines
                        .iter()
                        .find(|c| c.id == id)
                        .and_then(|c| c.location.clone());
                    debugger.step_coroutine(Some(id), at);
                    self.state.borrow_mut().queued.push(SessionCommand::Runtime(
                        RuntimeCommand::StepCoroutine { id },
                    ));
                    return DebugAction::Continue;
                }
                // Run to cursor from a stop: on until that line, playing
                // (frames must pass to reach it).
                SessionCommand::Runtime(RuntimeCommand::RunToLine { file, line }) => {
                    debugger.set_run_to(Some((file, line)));
                    let mut state = self.state.borrow_mut();
                    state.playing = true;
                    return DebugAction::Continue;
                }
                other => self.state.borrow_mut().queued.push(other),
            }
        }
    }
}

/// Whether a command only changes the debugger (applied at once, also
/// while stopped). Run to cursor is not: it also plays.
fn is_debugger_command(command: &RuntimeCommand) -> bool {
    matches!(
        command,
        RuntimeCommand::SetBreakpoint { .. }
            | RuntimeCommand::SetBreakpointSpec { .. }
            | RuntimeCommand::ClearBreakpoints
            | RuntimeCommand::SetBreakOnError(_)
            | RuntimeCommand::AddDataBreakpoint { .. }
            | RuntimeCommand::RemoveDataBreakpoint { .. }
            | RuntimeCommand::TrackWrites { .. }
    )
}

/// The coroutine list at a stop: the stopped coroutine shows where it is
/// stopped, not where it last waited.
fn stopped_coroutine(
    coroutines: &Arc<Vec<CoroutineView>>,
    info: &BreakInfo,
) -> Arc<Vec<CoroutineView>> {
    let Some(id) = info.coroutine else {
        return Arc::clone(coroutines);
    };
    let mut list = coroutines.as_ref().clone();
    if let Some(c) = list.iter_mut().find(|c| c.id == id) {
        c.state = format!("stopped at line {} ({})", info.line, info.reason);
        c.location = Some((info.file.clone(), info.line));
    }
    Arc::new(list)
}

/// The debugger's part of a snapshot.
fn debug_state(debugger: &Debugger, inspect: Option<u64>) -> DebugState {
    let tracked = debugger.tracked_entity();
    DebugState {
        breakpoints: Arc::new(debugger.breakpoint_list()),
        data_breakpoints: Arc::new(debugger.data_breakpoints()),
        break_on_error: debugger.break_on_error_setting(),
        tracked,
        writers: Arc::new(inspect.map(|id| debugger.writers(id)).unwrap_or_default()),
    }
}

impl Link {
    /// Reads the stopped stack for the front end: the selected frame's
    /// locals, the watches and the expanded values.
    fn stop_view(&self, info: &BreakInfo, access: &mut dyn FrameAccess) -> StopView {
        let state = self.state.borrow();
        let frame = state.frame.min(info.frames.len().saturating_sub(1));
        StopView {
            frame,
            locals: access.locals(frame),
            watches: state
                .watches
                .iter()
                .map(|w| (w.clone(), access.evaluate(frame, w)))
                .collect(),
            children: state
                .expanded
                .iter()
                .map(|(f, expr)| ((*f, expr.clone()), access.children(*f, expr)))
                .collect(),
        }
    }

    /// Keeps the breakpoints on disk after a change to them.
    fn save_breakpoints(&self, debugger: &Debugger, command: &RuntimeCommand) {
        let changes_breakpoints = matches!(
            command,
            RuntimeCommand::SetBreakpoint { .. }
                | RuntimeCommand::SetBreakpointSpec { .. }
                | RuntimeCommand::ClearBreakpoints
                | RuntimeCommand::SetBreakOnError(_)
        );
        let Some(dir) = &self.data_dir else {
            return;
        };
        if changes_breakpoints && let Err(message) = super::breakpoints::save(dir, debugger) {
            let _ = self.events.send(SessionEvent::CommandFailed(message));
        }
    }
}

struct Worker {
    runtime: Runtime,
    link: Rc<Link>,
}

impl Worker {
    fn install_break_handler(&self) {
        let link = Rc::clone(&self.link);
        let host = self.runtime.host().clone();
        let debugger = Rc::downgrade(self.runtime.debugger());
        self.runtime.debugger().set_handler(Some(Box::new(
            move |info: &BreakInfo, access: &mut dyn FrameAccess| match debugger.upgrade() {
                Some(debugger) => link.at_break(&host, &debugger, info, access),
                None => DebugAction::Continue,
            },
        )));
    }

    fn run(&mut self) {
        self.publish();
        let mut last_tick = Instant::now();
        let mut last_publish = Instant::now();
        let mut owed = 0.0f64;
        loop {
            if self.link.state.borrow().shutdown {
                return;
            }
            let dt = self.runtime.project().manifest.world.fixed_dt;
            let (playing, speed) = {
                let state = self.link.state.borrow();
                (state.playing, state.speed)
            };
            let wait = if playing {
                Duration::from_secs_f64(((dt - owed).max(0.0) / speed).min(0.1))
            } else {
                Duration::from_millis(250)
            };
            let mut dirty = false;
            let queued = std::mem::take(&mut self.link.state.borrow_mut().queued);
            for command in queued {
                dirty |= self.handle(command);
            }
            let changes = std::mem::take(&mut self.link.state.borrow_mut().changes);
            for change in changes {
                self.runtime.file_changed(&change);
                dirty = true;
            }
            match self.link.rx.recv_timeout(wait) {
                Ok(Message::Shutdown) | Err(RecvTimeoutError::Disconnected) => return,
                Ok(message) => {
                    let mut next = Some(message);
                    while let Some(message) = next {
                        match message {
                            Message::Shutdown => return,
                            Message::Command(command) => dirty |= self.handle(command),
                            Message::FileChanged(change) => {
                                self.runtime.file_changed(&change);
                                dirty = true;
                            }
                        }
                        next = self.link.rx.try_recv().ok();
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
            }
            let now = Instant::now();
            let (playing, speed) = {
                let state = self.link.state.borrow();
                (state.playing, state.speed)
            };
            if playing {
                owed += now.duration_since(last_tick).as_secs_f64() * speed;
                let mut steps = 0;
                while owed >= dt && steps < MAX_CATCH_UP && self.link.state.borrow().playing {
                    self.runtime.step();
                    owed -= dt;
                    steps += 1;
                }
                if steps == MAX_CATCH_UP {
                    owed = owed.min(dt);
                }
                dirty |= steps > 0;
            } else {
                owed = 0.0;
            }
            last_tick = now;
            let playing = self.link.state.borrow().playing;
            if dirty && (!playing || now.duration_since(last_publish) >= PUBLISH_INTERVAL) {
                self.publish();
                last_publish = now;
            }
        }
    }

    /// Applies a command; true when the world or the view changed.
    fn handle(&mut self, command: SessionCommand) -> bool {
        match command {
            SessionCommand::Play => {
                let mut state = self.link.state.borrow_mut();
                state.playing = true;
                state.playing_before_stop = None;
            }
            SessionCommand::Pause => {
                let mut state = self.link.state.borrow_mut();
                state.playing = false;
                state.playing_before_stop = None;
            }
            SessionCommand::Step(frames) => {
                let mut state = self.link.state.borrow_mut();
                state.playing = false;
                state.playing_before_stop = None;
                drop(state);
                for _ in 0..frames {
                    self.runtime.step();
                }
            }
            SessionCommand::SetSpeed(speed) => {
                if speed.is_finite() && speed > 0.0 {
                    self.link.state.borrow_mut().speed = speed.clamp(0.01, 100.0);
                }
            }
            SessionCommand::Inspect(id) => self.link.state.borrow_mut().inspect = id,
            SessionCommand::InspectCoroutine(id) => {
                self.link.state.borrow_mut().inspect_coroutine = id;
            }
            // A step ran off the end of its call, and the frame ended
            // paused: Continue plays on if the world was playing before.
            SessionCommand::Debug(DebugAction::Continue) => {
                let mut state = self.link.state.borrow_mut();
                if let Some(playing) = state.playing_before_stop.take() {
                    state.playing = playing;
                }
            }
            // Not stopped at a breakpoint: nothing to step.
            SessionCommand::Debug(_) => {}
            SessionCommand::SetWatches(watches) => self.link.state.borrow_mut().watches = watches,
            SessionCommand::Expand { frame, expr, open } => {
                let mut state = self.link.state.borrow_mut();
                if open {
                    state.expanded.insert((frame, expr));
                } else {
                    state.expanded.remove(&(frame, expr));
                }
            }
            SessionCommand::SelectFrame(_) | SessionCommand::SetVariable { .. } => {
                let _ = self.link.events.send(SessionEvent::CommandFailed(
                    "nothing is stopped: locals can be changed only at a breakpoint or a step"
                        .into(),
                ));
            }
            SessionCommand::Evaluate { id, code, .. } => {
                let _ = self.link.events.send(SessionEvent::Evaluated {
                    id,
                    code,
                    result: Err(
                        "nothing is stopped: the console evaluates in a stopped frame (set a breakpoint, or Step)"
                            .into(),
                    ),
                });
            }
            SessionCommand::ShowHistory(script) => self.link.state.borrow_mut().history_of = script,
            SessionCommand::LoadVersionText { script, version } => {
                let text = self
                    .runtime
                    .version_text(&script, version)
                    .unwrap_or_default();
                self.link.state.borrow_mut().version_text = Some((script, version, Arc::new(text)));
            }
            SessionCommand::Runtime(RuntimeCommand::StepCoroutineLine { id }) => {
                let mut state = self.link.state.borrow_mut();
                state.playing = false;
                state.playing_before_stop = None;
                drop(state);
                if let Err(message) = self.runtime.apply(RuntimeCommand::StepCoroutineLine { id }) {
                    let _ = self.link.events.send(SessionEvent::CommandFailed(message));
                }
            }
            // Run to cursor: frames must pass to reach the line.
            SessionCommand::Runtime(RuntimeCommand::RunToLine { file, line }) => {
                self.link.state.borrow_mut().playing = true;
                let _ = self.runtime.apply(RuntimeCommand::RunToLine { file, line });
            }
            SessionCommand::Runtime(command) => {
                if let RuntimeCommand::Reset = command {
                    self.runtime_reset();
                    return true;
                }
                let debugger_command = is_debugger_command(&command);
                let saved = command.clone();
                if let Err(message) = self.runtime.apply(command) {
                    let _ = self.link.events.send(SessionEvent::CommandFailed(message));
                }
                if debugger_command {
                    self.link.save_breakpoints(self.runtime.debugger(), &saved);
                }
            }
        }
        true
    }

    fn runtime_reset(&mut self) {
        let old = self.runtime.debugger();
        let (breakpoints, on_error) = (old.breakpoint_list(), old.break_on_error_setting());
        if let Err(message) = self.runtime.apply(RuntimeCommand::Reset) {
            let _ = self.link.events.send(SessionEvent::CommandFailed(message));
        }
        // A reset builds a new runtime: keep the breakpoints and the
        // handler (data breakpoints name entities of the old world).
        let debugger = self.runtime.debugger();
        debugger.set_break_on_error(on_error);
        for b in breakpoints {
            let _ = debugger.set_breakpoint_spec(&b.file, b.line, b.spec);
        }
        self.install_break_handler();
    }

    fn publish(&mut self) {
        let seq = self.link.next_seq();
        let (inspect, inspect_coroutine, playing, speed, history_of, version_text) = {
            let state = self.link.state.borrow();
            (
                state.inspect,
                state.inspect_coroutine,
                state.playing,
                state.speed,
                state.history_of.clone(),
                state.version_text.clone(),
            )
        };
        let history = history_of.map(|script| {
            let versions = self.runtime.history(&script);
            (script, versions)
        });
        let live = self.runtime.host().borrow().coroutines.live_count();
        let coroutines = Arc::new(self.runtime.coroutines(!playing || live <= LOCATE_ALWAYS));
        let coroutine_frames = inspect_coroutine.and_then(|id| {
            self.runtime
                .inspect_coroutine(id)
                .map(|frames| (id, frames))
        });
        let view = self.runtime.view();
        let profile = {
            let mut state = self.link.state.borrow_mut();
            state.scripts = view.scripts.clone();
            state.coroutines = Arc::clone(&coroutines);
            state.history.clone_from(&history);
            state.last_frame_ms = view.last_frame_ms;
            // While playing, rebuilt a few times a second; otherwise at
            // every publish (a step, a command), which is rare.
            let stale = !playing
                || state
                    .profile_built
                    .is_none_or(|t| t.elapsed() >= PROFILE_REFRESH)
                || state.profile.profiling != self.runtime.profiling()
                || state.profile.memory_tracking != self.runtime.memory_tracking()
                || state.profile.sample_hz != self.runtime.sample_hz();
            if stale {
                let folded = self.runtime.samples();
                state.profile = ProfileData {
                    frames: self.runtime.profile_frames(),
                    stats: Arc::new(self.runtime.stats_table()),
                    memory: self.runtime.memory_view(),
                    profiling: self.runtime.profiling(),
                    memory_tracking: self.runtime.memory_tracking(),
                    suggestions: Arc::new(self.runtime.suggestions()),
                    samples: Arc::new(crate::profiling::samples::SampleSummary::of(&folded)),
                    folded: Arc::new(folded),
                    sample_hz: self.runtime.sample_hz(),
                };
                state.profile_built = Some(Instant::now());
            }
            state.profile.clone()
        };
        let snapshot = Snapshot {
            seq,
            detail: inspect.and_then(|id| self.runtime.entity_detail(id)),
            view,
            playing,
            speed,
            coroutines,
            coroutine_frames,
            breakpoints: self.runtime.debugger().breakpoints(),
            at_break: None,
            stop: None,
            debug: debug_state(self.runtime.debugger(), inspect),
            coroutines_paused: self.runtime.host().borrow().coroutines.all_paused,
            history,
            version_text,
            profile,
        };
        self.link.send_events(self.runtime.drain_events());
        self.link.store(snapshot);
    }
}
