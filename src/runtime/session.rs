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
    BreakInfo, Breakpoint, BreakpointSpec, DataBreakpoint, DebugAction, Debugger, FrameAccess,
    Variable, Writer,
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
    /// Set a local of a frame of the stopped stack (or any place an
    /// expression names: `pos.x`, `items[1]`) to the value of an
    /// expression (`5`, `"text"`, `true`).
    SetVariable {
        /// With an id, answered by [`SessionEvent::Evaluated`] with the
        /// value now stored; without, a failure is a
        /// [`SessionEvent::CommandFailed`].
        id: Option<u64>,
        /// The frame.
        frame: usize,
        /// The local's name, or an expression naming a place.
        name: String,
        /// The new value, as an expression.
        value: String,
    },
    /// Read a frame's locals (`expr` none) or a value's children, at a
    /// stop; answered by [`SessionEvent::Read`].
    Read {
        /// Chosen by the front end, returned with the answer.
        id: u64,
        /// The frame.
        frame: usize,
        /// The value whose children are read.
        expr: Option<String>,
    },
    /// Stop at the next line any script runs: `pause` (given up, and the
    /// world paused between frames, when a whole frame runs no line) or
    /// `step` (frames run until a line does).
    StopAtNextLine(&'static str),
    /// See [`Debugger::set_step_across_calls`]: on while an editor is
    /// attached.
    StepAcrossCalls(bool),
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
    /// A script stopped (a breakpoint, a step, an error...): the
    /// snapshot with it is already published.
    Stopped(Arc<BreakInfo>),
    /// The stopped script runs on, or the paused world plays again
    /// (whoever chose to).
    Resumed,
    /// The world rests between frames: paused, or a pause or step found
    /// no line to stop at (`reason`: `pause` or `step`).
    PausedBetweenFrames {
        /// `pause` or `step`.
        reason: &'static str,
    },
    /// The breakpoints changed (from any front end): all of them now.
    BreakpointsChanged(Arc<Vec<Breakpoint>>),
    /// The run reached its frame limit ([`SessionOptions::frame_limit`]).
    Finished {
        /// Frames run.
        frames: u64,
    },
    /// The answer to [`SessionCommand::Read`].
    Read {
        /// The request's id.
        id: u64,
        /// The locals or children, or why they could not be read.
        result: Result<Vec<Variable>, String>,
    },
    /// The answer to [`SessionCommand::Evaluate`] (and to an
    /// [`SessionCommand::SetVariable`] with an id).
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
    /// Errors, reloads, rollbacks, leaks and stops, on the frames' clock.
    pub markers: crate::profiling::markers::Markers,
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
    /// The frames the samples in `folded` were taken over.
    pub sampled_frames: u64,
    /// The latest samples with their times, and the sampling period in
    /// nanoseconds (for the trace export).
    pub sample_times: Option<(super::SampleTimes, i64)>,
    /// The systems in order, with their access and groups.
    pub systems: Arc<super::parallel::SystemsView>,
    /// `[budgets]` measured over the statistics window.
    pub budgets: Arc<Vec<super::budgets::BudgetResult>>,
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

/// How a session starts.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// Run frames from the start.
    pub playing: bool,
    /// Pace frames to `fixed_dt / speed`; otherwise run them flat out.
    pub paced: bool,
    /// Stop playing, and report [`SessionEvent::Finished`], after this
    /// many frames.
    pub frame_limit: Option<u64>,
    /// Load the project's saved breakpoints and save changes to them (the
    /// GUI); an editor brings its own.
    pub saved_breakpoints: bool,
    /// Breakpoints set before any script runs: (file, line, settings).
    pub breakpoints: Vec<(String, u32, BreakpointSpec)>,
    /// Stop where a script raises.
    pub break_on_error: bool,
    /// See [`Debugger::set_step_across_calls`].
    pub step_across_calls: bool,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            playing: true,
            paced: true,
            frame_limit: None,
            saved_breakpoints: true,
            breakpoints: Vec::new(),
            break_on_error: true,
            step_across_calls: false,
        }
    }
}

/// Every receiver of the session's events gets each of them.
#[derive(Clone, Default)]
struct Fanout {
    subscribers: Arc<Mutex<Vec<Sender<SessionEvent>>>>,
}

impl Fanout {
    fn send(&self, event: SessionEvent) {
        if let Ok(mut subscribers) = self.subscribers.lock() {
            // A receiver that is gone is dropped from the list.
            subscribers.retain(|s| s.send(event.clone()).is_ok());
        }
    }

    fn subscribe(&self) -> Receiver<SessionEvent> {
        let (tx, rx) = channel();
        if let Ok(mut subscribers) = self.subscribers.lock() {
            subscribers.push(tx);
        }
        rx
    }
}

/// Makes [`SessionLink`]s to one session, from any thread (a listener
/// that waits for editors).
#[derive(Clone)]
pub struct SessionLinker {
    project: Project,
    tx: Sender<Message>,
    shared: Arc<Mutex<Shared>>,
    fanout: Fanout,
}

impl SessionLinker {
    /// A new link, with its own copy of every event from now on.
    pub fn link(&self) -> SessionLink {
        SessionLink {
            project: self.project.clone(),
            tx: self.tx.clone(),
            shared: Arc::clone(&self.shared),
            events: self.fanout.subscribe(),
        }
    }
}

/// A second front end's hold on a session (an editor's debug adapter
/// beside the GUI): it sends commands, reads snapshots and gets every
/// event, from any thread.
pub struct SessionLink {
    project: Project,
    tx: Sender<Message>,
    shared: Arc<Mutex<Shared>>,
    /// This link's own copy of the events.
    pub events: Receiver<SessionEvent>,
}

impl SessionLink {
    /// Sends a command, as [`Session::send`].
    pub fn send(&self, command: SessionCommand) {
        let _ = self.tx.send(Message::Command(command));
    }

    /// The latest snapshot.
    pub fn snapshot(&self) -> Option<Arc<Snapshot>> {
        self.shared.lock().ok()?.latest.clone()
    }

    /// The project the session runs.
    pub fn project(&self) -> &Project {
        &self.project
    }
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
    fanout: Fanout,
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
        let options = SessionOptions {
            playing,
            ..SessionOptions::default()
        };
        Session::start_with(project, options, notify)
    }

    /// Starts the project on a new thread with these options.
    pub fn start_with(project: Project, options: SessionOptions, notify: Notify) -> Session {
        let (tx, rx) = channel();
        let fanout = Fanout::default();
        let events = fanout.subscribe();
        let shared: Arc<Mutex<Shared>> = Arc::default();
        let stuck: Arc<Mutex<Option<StuckCall>>> = Arc::default();
        let thread = {
            let project = project.clone();
            let shared = Arc::clone(&shared);
            let stuck = Arc::clone(&stuck);
            let stuck_notify = Arc::clone(&notify);
            let watch_tx = tx.clone();
            let events_tx = fanout.clone();
            std::thread::Builder::new()
                .name("ecscope-runtime".into())
                .stack_size(super::SCRIPT_STACK)
                .spawn(move || {
                    let crash_tx = events_tx.clone();
                    let crash_notify = Arc::clone(&notify);
                    let result = catch_unwind(AssertUnwindSafe(|| {
                        let link = Rc::new(Link {
                            data_dir: RefCell::new(None),
                            rx,
                            state: RefCell::new(State {
                                playing: options.playing,
                                speed: 1.0,
                                paced: options.paced,
                                frame_limit: options.frame_limit,
                                ..State::default()
                            }),
                            shared,
                            events: events_tx,
                            notify,
                            markers: RefCell::default(),
                        });
                        let mut loaded = Err(String::new());
                        // Breakpoints and the handler are in place before
                        // any script runs, so top-level lines can stop.
                        let runtime = Runtime::open_with(project.clone(), |runtime| {
                            let debugger = runtime.debugger();
                            debugger.set_break_on_error(options.break_on_error);
                            debugger.set_step_across_calls(options.step_across_calls);
                            if options.saved_breakpoints {
                                loaded = load_saved_breakpoints(&project, debugger);
                            }
                            for (file, line, spec) in &options.breakpoints {
                                if let Err(e) =
                                    debugger.set_breakpoint_spec(file, *line, spec.clone())
                                {
                                    link.events.send(SessionEvent::CommandFailed(format!(
                                        "breakpoint {file}:{line}: {e}"
                                    )));
                                }
                            }
                            install_break_handler(runtime, &link);
                        });
                        if loaded.is_ok() {
                            *link.data_dir.borrow_mut() = Some(project.data_dir());
                        }
                        // Saved files reach the worker as messages, applied
                        // between frames like commands.
                        let watcher = ProjectWatcher::start(&project.root, move |change| {
                            let _ = watch_tx.send(Message::FileChanged(change));
                        });
                        if let Err(message) = loaded
                            && !message.is_empty()
                        {
                            link.events.send(SessionEvent::CommandFailed(message));
                        }
                        let mut worker = Worker { runtime, link };
                        // The window's trace export places the sampled
                        // script frames by their times.
                        worker.runtime.keep_sample_times();
                        // Reported from the watchdog's own thread: this one
                        // is the one stuck.
                        worker.runtime.on_stuck(move |call| {
                            if let Ok(mut slot) = stuck.lock() {
                                *slot = Some(call.clone());
                            }
                            stuck_notify();
                        });
                        if let Err(err) = &watcher {
                            worker.link.events.send(SessionEvent::CommandFailed(format!(
                                "hot reload is off: {err}"
                            )));
                        }
                        worker.run();
                        drop(watcher);
                    }));
                    if let Err(panic) = result {
                        let message = panic
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_else(|| "unknown error".into());
                        crash_tx.send(SessionEvent::Crashed(message));
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
            fanout,
            thread,
            stuck,
        }
    }

    /// A link for a second front end, with its own copy of every event
    /// from now on.
    pub fn link(&self) -> SessionLink {
        self.linker().link()
    }

    /// What makes links, from any thread.
    pub fn linker(&self) -> SessionLinker {
        SessionLinker {
            project: self.project.clone(),
            tx: self.tx.clone(),
            shared: Arc::clone(&self.shared),
            fanout: self.fanout.clone(),
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

    /// The session's own event receiver, for a front end that waits on
    /// it; [`Session::drain_events`] gives nothing afterwards.
    pub fn take_events(&mut self) -> Receiver<SessionEvent> {
        std::mem::replace(&mut self.events, channel().1)
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

/// Loads the project's saved breakpoints. An untrusted project's saved
/// conditions and log messages would be code run as soon as a line is
/// reached: they are neither loaded nor overwritten. An error with no
/// message means "none to load, and none to save".
fn load_saved_breakpoints(project: &Project, debugger: &Debugger) -> Result<bool, String> {
    let data_dir = project.data_dir();
    if project.restricted {
        return match super::breakpoints::path(&data_dir).exists() {
            true => Err(format!(
                "{}: the project's saved breakpoints are not loaded while it is opened restricted",
                super::breakpoints::path(&data_dir).display()
            )),
            false => Err(String::new()),
        };
    }
    super::breakpoints::load(&data_dir, debugger).map_err(|e| e.to_string())
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
    /// Pace frames to real time (otherwise flat out).
    paced: bool,
    /// Frames to run before the session finishes.
    frame_limit: Option<u64>,
    /// The frame limit was reached.
    finished: bool,
    /// A pause waits for a line: given up after the frame it was asked
    /// before.
    pausing: bool,
}

struct Link {
    /// Where the breakpoints are kept (none until they have loaded, so a
    /// file that failed to load is not overwritten by an empty list).
    data_dir: RefCell<Option<std::path::PathBuf>>,
    rx: Receiver<Message>,
    state: RefCell<State>,
    shared: Arc<Mutex<Shared>>,
    events: Fanout,
    notify: Notify,
    /// The runtime's markers, once it is open: a stop is marked on the
    /// profiler's time line as it begins (the runtime marks the events).
    markers: RefCell<crate::profiling::markers::Markers>,
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
            self.events.send(SessionEvent::Runtime(event));
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
        // The frame is not over: what it reported so far is marked now.
        let markers = self.markers.borrow();
        for marker in h
            .newly_reported()
            .iter()
            .filter_map(super::instrument::marker_of)
        {
            markers.push(marker);
        }
        drop(markers);
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
        self.markers
            .borrow()
            .push(super::instrument::stop_marker(info));
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
            state.pausing = false;
        }
        self.publish_break(host, debugger, info, access);
        self.events
            .send(SessionEvent::Stopped(Arc::new(info.clone())));
        let action = self.serve_stop(host, debugger, info, access, was_playing);
        self.events.send(SessionEvent::Resumed);
        action
    }

    /// Serves the front ends' commands at a stop until one of them says
    /// how to go on.
    fn serve_stop(
        &self,
        host: &SharedHost,
        debugger: &Debugger,
        info: &BreakInfo,
        access: &mut dyn FrameAccess,
        was_playing: bool,
    ) -> DebugAction {
        let publish = |link: &Link, access: &mut dyn FrameAccess| {
            link.publish_break(host, debugger, info, access);
        };
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
                    self.events
                        .send(SessionEvent::Evaluated { id, code, result });
                    // A statement may have changed locals or the world.
                    publish(self, access);
                }
                SessionCommand::SetVariable {
                    id,
                    frame,
                    name,
                    value,
                } => {
                    let result = assign(access, frame, &name, &value);
                    match id {
                        Some(id) => self.events.send(SessionEvent::Evaluated {
                            id,
                            code: name,
                            result,
                        }),
                        None => {
                            if let Err(e) = result {
                                self.events
                                    .send(SessionEvent::CommandFailed(format!("set {name}: {e}")));
                            }
                        }
                    }
                    publish(self, access);
                }
                SessionCommand::Read { id, frame, expr } => {
                    let result = match &expr {
                        None => access.locals(frame),
                        Some(expr) => access.children(frame, expr),
                    };
                    self.events.send(SessionEvent::Read { id, result });
                }
                // Already stopped at a line.
                SessionCommand::StopAtNextLine(_) => {}
                SessionCommand::StepAcrossCalls(on) => debugger.set_step_across_calls(on),
                SessionCommand::InspectCoroutine(id) => {
                    self.state.borrow_mut().inspect_coroutine = id;
                }
                SessionCommand::SetSpeed(speed) => {
                    if speed.is_finite() && speed > 0.0 {
                        self.state.borrow_mut().speed = speed.clamp(0.01, 100.0);
                    }
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
                SessionCommand::Runtime(command) => {
                    // What changes only the debugger applies now, as
                    // `Runtime::apply` would; the rest needs the runtime,
                    // which is mid-frame, and waits for the stop to end.
                    match super::probe::apply_debugger_command(debugger, &command) {
                        Some(result) => {
                            if let Err(message) = result {
                                self.events
                                    .send(SessionEvent::CommandFailed(message.to_string()));
                            }
                            self.save_breakpoints(debugger, &command);
                            publish(self, access);
                        }
                        None => self
                            .state
                            .borrow_mut()
                            .queued
                            .push(SessionCommand::Runtime(command)),
                    }
                }
                other => self.state.borrow_mut().queued.push(other),
            }
        }
    }
}

/// Stores a value in a local (`name` a plain name) or in the place an
/// expression names (`pos.x`, `items[1]`), and reads it back.
fn assign(
    access: &mut dyn FrameAccess,
    frame: usize,
    name: &str,
    value: &str,
) -> Result<Variable, String> {
    if crate::scripting::debugger::is_identifier(name) {
        return access.set_local(frame, name, value);
    }
    access.evaluate(frame, &format!("{name} = {value}"))?;
    access.evaluate(frame, name).map(|mut v| {
        v.name = name.to_string();
        v
    })
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
        if !changes_breakpoints {
            return;
        }
        // Every front end learns the new list (an editor shows the
        // window's breakpoints).
        self.events.send(SessionEvent::BreakpointsChanged(Arc::new(
            debugger.breakpoint_list(),
        )));
        let dir = self.data_dir.borrow();
        let Some(dir) = dir.as_ref() else {
            return;
        };
        if let Err(e) = super::breakpoints::save(dir, debugger) {
            self.events.send(SessionEvent::CommandFailed(e.to_string()));
        }
    }
}

/// Why a local cannot be changed now.
const NOT_STOPPED_SET: &str =
    "nothing is stopped: locals can be changed only at a breakpoint or a step";

struct Worker {
    runtime: Runtime,
    link: Rc<Link>,
}

/// Makes the session's link decide what happens at the runtime's breaks.
fn install_break_handler(runtime: &Runtime, link: &Rc<Link>) {
    *link.markers.borrow_mut() = runtime.profile_markers();
    let link = Rc::clone(link);
    // The handler runs inside a script call, stopped at a line; the script
    // holds no host borrow there, so the handler may read the world.
    let host = runtime.host().clone();
    let debugger = Rc::downgrade(runtime.debugger());
    runtime.debugger().set_handler(Some(Box::new(
        move |info: &BreakInfo, access: &mut dyn FrameAccess| match debugger.upgrade() {
            Some(debugger) => link.at_break(&host, &debugger, info, access),
            None => DebugAction::Continue,
        },
    )));
}

impl Worker {
    /// Whether frames run now: playing, or (where steps cross calls, as an
    /// editor's do) a step or pause waits for a line that only a later
    /// frame can reach. The window's own steps end with their call.
    fn running(&self) -> bool {
        let state = self.link.state.borrow();
        let debugger = self.runtime.debugger();
        !state.finished
            && (state.playing || (debugger.step_across_calls() && debugger.step_pending()))
    }

    /// Runs one frame, then ends the run at its frame limit and gives up a
    /// pause that the frame did not meet.
    fn step_frame(&mut self) {
        let pausing = self.link.state.borrow().pausing;
        self.runtime.step();
        let frame = self.runtime.host().borrow().frame();
        let mut events = Vec::new();
        {
            let mut state = self.link.state.borrow_mut();
            if pausing && state.pausing {
                state.pausing = false;
                state.playing_before_stop = None;
                events.push(SessionEvent::PausedBetweenFrames { reason: "pause" });
            }
            if state.frame_limit.is_some_and(|limit| frame >= limit) && !state.finished {
                state.finished = true;
                events.push(SessionEvent::Finished { frames: frame });
            }
        }
        if !events.is_empty() {
            self.link.state.borrow_mut().playing = false;
            self.runtime.debugger().cancel_step();
            // The frame's own events come first.
            self.publish();
            for event in events {
                self.link.events.send(event);
            }
        }
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
            let (playing, speed, paced) = {
                let state = self.link.state.borrow();
                (self.running(), state.speed, state.paced)
            };
            let wait = if playing && !paced {
                Duration::ZERO
            } else if playing {
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
            let (playing, speed, paced) = {
                let state = self.link.state.borrow();
                (self.running(), state.speed, state.paced)
            };
            if playing && !paced {
                self.step_frame();
                dirty = true;
            } else if playing {
                owed += now.duration_since(last_tick).as_secs_f64() * speed;
                let mut steps = 0;
                while owed >= dt && steps < MAX_CATCH_UP && self.running() {
                    self.step_frame();
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
                let was = state.playing;
                state.playing = !state.finished;
                state.playing_before_stop = None;
                let resumed = !was && state.playing;
                drop(state);
                // An attached editor shows the world running again.
                if resumed {
                    self.link.events.send(SessionEvent::Resumed);
                }
            }
            SessionCommand::StopAtNextLine(reason) => {
                let running = self.running();
                let debugger = self.runtime.debugger();
                if reason == "pause" && !running {
                    // Nothing runs: the world already rests between frames.
                    self.link
                        .events
                        .send(SessionEvent::PausedBetweenFrames { reason });
                } else {
                    debugger.stop_at_next_line(reason);
                    self.link.state.borrow_mut().pausing = reason == "pause";
                }
            }
            SessionCommand::StepAcrossCalls(on) => {
                self.runtime.debugger().set_step_across_calls(on);
            }
            SessionCommand::Read { id, .. } => {
                self.link.events.send(SessionEvent::Read {
                    id,
                    result: Err(
                        "nothing is stopped: values are read at a breakpoint or a step".into(),
                    ),
                });
            }
            SessionCommand::Pause => {
                let mut state = self.link.state.borrow_mut();
                let was = state.playing;
                state.playing = false;
                state.playing_before_stop = None;
                drop(state);
                // An attached editor shows the world paused.
                if was {
                    self.link
                        .events
                        .send(SessionEvent::PausedBetweenFrames { reason: "pause" });
                }
            }
            SessionCommand::Step(frames) => {
                let mut state = self.link.state.borrow_mut();
                state.playing = false;
                state.playing_before_stop = None;
                drop(state);
                for _ in 0..frames {
                    if self.link.state.borrow().finished {
                        break;
                    }
                    self.step_frame();
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
            SessionCommand::SetVariable {
                id: Some(id), name, ..
            } => {
                self.link.events.send(SessionEvent::Evaluated {
                    id,
                    code: name,
                    result: Err(NOT_STOPPED_SET.into()),
                });
            }
            SessionCommand::SelectFrame(_) | SessionCommand::SetVariable { .. } => {
                self.link
                    .events
                    .send(SessionEvent::CommandFailed(NOT_STOPPED_SET.into()));
            }
            SessionCommand::Evaluate { id, code, .. } => {
                self.link.events.send(SessionEvent::Evaluated {
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
                    self.link
                        .events
                        .send(SessionEvent::CommandFailed((message).to_string()));
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
                let saved = command.clone();
                if let Err(message) = self.runtime.apply(command) {
                    self.link
                        .events
                        .send(SessionEvent::CommandFailed((message).to_string()));
                }
                self.link.save_breakpoints(self.runtime.debugger(), &saved);
            }
        }
        true
    }

    fn runtime_reset(&mut self) {
        let old = self.runtime.debugger();
        let (breakpoints, on_error) = (old.breakpoint_list(), old.break_on_error_setting());
        let across = old.step_across_calls();
        if let Err(message) = self.runtime.apply(RuntimeCommand::Reset) {
            self.link
                .events
                .send(SessionEvent::CommandFailed((message).to_string()));
        }
        // A reset builds a new runtime: keep the breakpoints and the
        // handler (data breakpoints name entities of the old world).
        let debugger = self.runtime.debugger();
        debugger.set_break_on_error(on_error);
        debugger.set_step_across_calls(across);
        for b in breakpoints {
            let _ = debugger.set_breakpoint_spec(&b.file, b.line, b.spec);
        }
        install_break_handler(&self.runtime, &self.link);
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
                    markers: self.runtime.profile_markers(),
                    stats: Arc::new(self.runtime.stats_table()),
                    memory: self.runtime.memory_view(),
                    profiling: self.runtime.profiling(),
                    memory_tracking: self.runtime.memory_tracking(),
                    suggestions: Arc::new(self.runtime.suggestions()),
                    samples: Arc::new(crate::profiling::samples::SampleSummary::of(&folded)),
                    folded: Arc::new(folded),
                    sample_hz: self.runtime.sample_hz(),
                    sampled_frames: self.runtime.sampled_frames(),
                    sample_times: self.runtime.sample_times(),
                    systems: Arc::new(self.runtime.systems_view()),
                    budgets: Arc::new(self.runtime.budget_results()),
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
