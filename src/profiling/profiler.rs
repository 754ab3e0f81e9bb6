//! One runtime's profiler: puffin scopes for the frame, its phases, each
//! system, handler and coroutine resume, collected into this runtime's own
//! puffin frames (never the process-wide profiler's, so two runtimes in
//! one process, or the GUI's own drawing, never mix), plus the
//! per-script statistics.
//!
//! puffin's thread profiler reports through a plain function, so the
//! runtime's thread is pointed at this profiler's collector through a
//! thread-local when a scope opens.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use puffin::{
    FrameView, GlobalProfiler, ProfilerScope, ScopeDetails, ScopeId, StreamInfoRef, ThreadInfo,
    ThreadProfiler,
};

use super::stats::{CallKind, Stats};

/// Scopes recorded per frame at most; past this, a frame's flame graph
/// leaves the rest out (the statistics still count every call).
pub const MAX_SCOPES_PER_FRAME: u32 = 4096;

/// Frames kept for the flame graph (about ten seconds at 60 fps).
pub const FRAMES_KEPT: usize = 600;

/// A puffin collector shared by the profiler and its sinks.
pub type Collector = Arc<Mutex<GlobalProfiler>>;

thread_local! {
    static TARGET: RefCell<Option<Collector>> = const { RefCell::new(None) };
    static ROUTED: Cell<bool> = const { Cell::new(false) };
}

/// Where this thread's finished scope streams go: the collector of the
/// runtime that last opened a scope on it.
fn report(info: ThreadInfo, details: &[ScopeDetails], stream: &StreamInfoRef<'_>) {
    TARGET.with(|target| {
        if let Some(collector) = target.borrow().as_ref()
            && let Ok(mut collector) = collector.lock()
        {
            collector.report(info, details, stream);
        }
    });
}

/// Sends the calling thread's scopes to `collector`.
fn route_to(collector: &Collector) {
    if !ROUTED.with(Cell::get) {
        ThreadProfiler::initialize(puffin::now_ns, report);
        ROUTED.with(|r| r.set(true));
    }
    TARGET.with(|target| {
        let mut target = target.borrow_mut();
        if !target.as_ref().is_some_and(|t| Arc::ptr_eq(t, collector)) {
            *target = Some(Arc::clone(collector));
        }
    });
}

/// A call's scope that another thread (a worker running a system of a
/// group) opens, so the flame graph shows that thread's lane.
#[derive(Clone)]
pub struct WorkerScope {
    collector: Collector,
    scope: ScopeId,
}

impl WorkerScope {
    /// Opens the scope on the calling thread; it ends when dropped.
    pub fn open(&self) -> ProfilerScope {
        route_to(&self.collector);
        ProfilerScope::new(self.scope, "")
    }
}

/// Frames recorded by a runtime, shared with viewers.
pub type Frames = Arc<Mutex<FrameView>>;

/// Identifies a callee cheaply: (script id, kind, handle or name hash).
pub type CallKey = (u32, CallKind, u64);

/// What is known about a callee: its scope and its statistics entry.
#[derive(Debug, Clone, Copy)]
struct Callee {
    scope: ScopeId,
    entry: usize,
}

/// A call being measured.
pub struct CallToken {
    scope: Option<ProfilerScope>,
    entry: usize,
    started: super::stopped::Stopwatch,
}

/// A runtime's profiler.
pub struct Profiler {
    on: bool,
    collector: Collector,
    frames: Frames,
    ids: HashMap<String, ScopeId>,
    callees: HashMap<CallKey, Callee>,
    frame_scope: Option<ProfilerScope>,
    scopes_in_frame: u32,
    /// Frames that hit [`MAX_SCOPES_PER_FRAME`], and whether that was said.
    crowded_frames: u64,
    crowding_reported: bool,
    /// Per-script and per-system time.
    pub stats: Stats,
    /// The stop clock when the frame began: a frame during which the world
    /// stopped at a breakpoint is left out of the flame graph, since its
    /// scopes hold the time the user spent looking.
    stopped_at_begin: u64,
    drop_frame: Arc<std::sync::atomic::AtomicBool>,
    markers: super::markers::Markers,
}

impl Default for Profiler {
    fn default() -> Self {
        Profiler::new()
    }
}

impl Profiler {
    /// A profiler, on, keeping the last [`FRAMES_KEPT`] frames.
    pub fn new() -> Profiler {
        let frames: Frames = Arc::new(Mutex::new(FrameView::default()));
        if let Ok(mut view) = frames.lock() {
            view.set_max_recent(FRAMES_KEPT);
            view.set_max_slow(64);
        }
        let collector: Collector = Arc::new(Mutex::new(GlobalProfiler::default()));
        let drop_frame = Arc::new(std::sync::atomic::AtomicBool::new(false));
        if let Ok(mut c) = collector.lock() {
            let sink_frames = Arc::clone(&frames);
            let dropped = Arc::clone(&drop_frame);
            c.add_sink(Box::new(move |frame| {
                if dropped.swap(false, std::sync::atomic::Ordering::Relaxed) {
                    return;
                }
                if let Ok(mut view) = sink_frames.lock() {
                    view.add_frame(frame);
                }
            }));
        }
        Profiler {
            on: true,
            collector,
            frames,
            ids: HashMap::new(),
            callees: HashMap::new(),
            frame_scope: None,
            scopes_in_frame: 0,
            crowded_frames: 0,
            crowding_reported: false,
            stats: Stats::default(),
            stopped_at_begin: 0,
            drop_frame,
            markers: super::markers::Markers::default(),
        }
    }

    /// Whether scopes and statistics are recorded.
    pub fn is_on(&self) -> bool {
        self.on
    }

    /// Switches recording on or off; off, a scope costs one branch.
    pub fn set_on(&mut self, on: bool) {
        self.on = on;
    }

    /// The recorded frames (for the Profiler panel and `--profile`).
    pub fn frames(&self) -> Frames {
        Arc::clone(&self.frames)
    }

    /// The moments marked beside the frames (shared, for the trace of
    /// the frames the Profiler shows).
    pub fn markers(&self) -> super::markers::Markers {
        self.markers.clone()
    }

    /// The collector, for extra sinks (`--serve-profile`).
    pub fn collector(&self) -> Collector {
        Arc::clone(&self.collector)
    }

    /// Sends this thread's scopes to this profiler.
    fn route_here(&self) {
        route_to(&self.collector);
    }

    /// Whether another scope fits in this frame's flame graph.
    fn room_for_scope(&mut self) -> bool {
        if self.scopes_in_frame >= MAX_SCOPES_PER_FRAME {
            if self.scopes_in_frame == MAX_SCOPES_PER_FRAME {
                self.crowded_frames += 1;
                self.scopes_in_frame += 1;
            }
            return false;
        }
        self.scopes_in_frame += 1;
        self.route_here();
        true
    }

    fn register(&mut self, name: String) -> ScopeId {
        if let Some(id) = self.ids.get(&name) {
            return *id;
        }
        // The hover tip shows the function and file: the callee's own name
        // and script (`scripts/flock.lua:steer`), or the phase's.
        let (file, function) = match name.rsplit_once(':') {
            Some((file, function)) if file.ends_with(".lua") || file.ends_with(".py") => {
                (file.to_string(), function.to_string())
            }
            _ => (String::new(), name.clone()),
        };
        let id = ThreadProfiler::call(|tp| {
            tp.register_named_scope(name.clone(), function.clone(), file.clone(), 0)
        });
        self.ids.insert(name, id);
        id
    }

    /// A scope for a phase of the frame that ends when dropped, or `None`
    /// while off (then `name` is not called) or when the frame already
    /// has too many scopes.
    pub fn scope(&mut self, name: impl FnOnce() -> String) -> Option<ProfilerScope> {
        if !self.on || !self.room_for_scope() {
            return None;
        }
        let id = self.register(name());
        Some(ProfilerScope::new(id, ""))
    }

    /// Starts measuring a call into a script, for the flame graph (a scope
    /// named `flock.lua:steer`) and the statistics. `names` gives the
    /// script's path and the callee's name the first time a key is seen.
    /// `None` while off: then a call costs this one branch.
    pub fn begin_call(
        &mut self,
        key: CallKey,
        names: impl FnOnce() -> (String, String),
    ) -> Option<CallToken> {
        if !self.on {
            return None;
        }
        let callee = self.callee(key, names);
        let scope = self
            .room_for_scope()
            .then(|| ProfilerScope::new(callee.scope, ""));
        Some(CallToken {
            scope,
            entry: callee.entry,
            started: super::stopped::Stopwatch::start(),
        })
    }

    fn callee(&mut self, key: CallKey, names: impl FnOnce() -> (String, String)) -> Callee {
        if let Some(c) = self.callees.get(&key) {
            return *c;
        }
        let (script, name) = names();
        let label = match key.1 {
            CallKind::Coroutine => scope_label(&script, &format!("coroutine {name}")),
            _ => scope_label(&script, &name),
        };
        let callee = Callee {
            scope: self.register(label),
            entry: self.stats.entry(&script, key.1, &name),
        };
        self.callees.insert(key, callee);
        callee
    }

    /// The scope of a call that another thread makes and measures (then
    /// [`Profiler::record_call`] counts it), or `None` while off or when
    /// the frame already has too many scopes.
    pub fn worker_scope(
        &mut self,
        key: CallKey,
        names: impl FnOnce() -> (String, String),
    ) -> Option<WorkerScope> {
        if !self.on {
            return None;
        }
        let callee = self.callee(key, names);
        self.room_for_scope().then(|| WorkerScope {
            collector: Arc::clone(&self.collector),
            scope: callee.scope,
        })
    }

    /// Counts a call measured elsewhere (on a worker thread) in the
    /// statistics.
    pub fn record_call(&mut self, key: CallKey, names: impl FnOnce() -> (String, String), ns: u64) {
        if self.on {
            let callee = self.callee(key, names);
            self.stats.add(callee.entry, ns);
        }
    }

    /// Ends a measured call.
    pub fn end_call(&mut self, token: CallToken) {
        let ns = token.started.elapsed().as_nanos() as u64;
        drop(token.scope);
        self.stats.add(token.entry, ns);
    }

    /// Opens the frame's root scope.
    pub fn begin_frame(&mut self) {
        self.scopes_in_frame = 0;
        self.stopped_at_begin = super::stopped::total_ns();
        self.frame_scope = self.scope(|| "frame".to_string());
    }

    /// Closes the frame: its scopes become one puffin frame, and the
    /// statistics move on. Returns a notice the first time frames were
    /// too crowded to record whole.
    pub fn end_frame(&mut self, frame_ns: u64) -> Option<String> {
        self.frame_scope = None;
        if self.on {
            self.stats.end_frame(frame_ns);
            if super::stopped::total_ns() != self.stopped_at_begin {
                self.drop_frame
                    .store(true, std::sync::atomic::Ordering::Relaxed);
            }
            if let Ok(mut collector) = self.collector.lock() {
                collector.new_frame();
            }
        }
        if self.crowded_frames > 0 && !self.crowding_reported {
            self.crowding_reported = true;
            return Some(format!(
                "profiler: a frame had more than {MAX_SCOPES_PER_FRAME} scopes; the flame graph leaves the rest of such frames out (the statistics still count every call)"
            ));
        }
        None
    }

    /// Forgets the recorded frames and statistics.
    pub fn clear(&mut self) {
        if let Ok(mut view) = self.frames.lock() {
            view.clear_slowest();
            let max = view.max_recent();
            *view = FrameView::default();
            view.set_max_recent(max);
            view.set_max_slow(64);
        }
        // A fresh view must learn the scope names again.
        if let Ok(mut collector) = self.collector.lock() {
            collector.emit_scope_snapshot();
        }
        self.stats.clear();
        self.markers.clear();
    }
}

/// The flame graph's name for `name` in the script at `path`
/// (`flock.lua:steer`): the file's name without its folders. Sampled
/// script frames are named the same way, so a sample finds its call.
pub fn scope_label(path: &str, name: &str) -> String {
    let file = path.rsplit('/').next().unwrap_or(path);
    if name.is_empty() {
        file.to_string()
    } else {
        format!("{file}:{name}")
    }
}

/// Why a profile could not be saved or served.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// puffin could not encode the frames.
    #[error("{}: cannot encode the profile: {message}", path.display())]
    Encode {
        /// The file.
        path: std::path::PathBuf,
        /// puffin's message.
        message: String,
    },
    /// The file could not be written.
    #[error("{}: cannot write the profile: {source}", path.display())]
    Write {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The profile stream could not listen on its address.
    #[error("--serve-profile {address}: cannot listen: {message}")]
    Listen {
        /// The address.
        address: String,
        /// Why.
        message: String,
    },
}

/// Writes frames as a `.puffin` file (the format `puffin_viewer` reads).
pub fn write_profile(frames: &FrameView, path: &std::path::Path) -> Result<(), ProfileError> {
    let mut bytes = Vec::new();
    frames.write(&mut bytes).map_err(|e| ProfileError::Encode {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    crate::hot_reload::history::write_atomic(path, &bytes).map_err(|source| ProfileError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// The byte length of the whole, well-framed frames at the start of a
/// `.puffin` body (after the magic), and how many there are. Lengths are
/// checked against the data before anything is allocated from them.
fn framed_prefix(body: &[u8]) -> (usize, usize) {
    fn u32_at(b: &[u8], at: usize) -> Option<usize> {
        let bytes = b.get(at..at + 4)?;
        Some(u32::from_le_bytes(bytes.try_into().ok()?) as usize)
    }
    let (mut at, mut frames) = (0, 0);
    loop {
        let frame = || -> Option<usize> {
            if body.get(at..at + 4)? != b"PFD4" {
                return None;
            }
            let mut p = at + 4;
            let meta = u32_at(body, p)?;
            p += 4 + meta;
            let streams = u32_at(body, p)?;
            p += 4 + 1 + streams;
            let scopes = u32_at(body, p)?;
            p += 4 + scopes;
            (p <= body.len()).then_some(p)
        };
        match frame() {
            Some(end) => {
                at = end;
                frames += 1;
            }
            None => return (at, frames),
        }
    }
}

/// Reads a `.puffin` file. A file that is cut short keeps the frames before
/// the cut (the second value says so); a corrupt one is an error naming it.
pub fn read_profile(path: &std::path::Path) -> Result<(FrameView, Option<String>), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let Some(body) = bytes.strip_prefix(b"PUF0") else {
        return Err(format!(
            "{}: not a .puffin profile (it does not start with PUF0)",
            path.display()
        ));
    };
    let (end, frames) = framed_prefix(body);
    if frames == 0 {
        return Err(format!(
            "{}: the profile holds no readable frames (corrupt, cut short, or written by an older puffin)",
            path.display()
        ));
    }
    let mut reader = &body[..end];
    let mut view = FrameView::default();
    view.set_max_recent(usize::MAX);
    loop {
        let next = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            puffin::FrameData::read_next(&mut reader)
        }));
        match next {
            Ok(Ok(Some(frame))) => view.add_frame(Arc::new(frame)),
            Ok(Ok(None)) => break,
            Ok(Err(e)) => {
                return Err(format!("{}: corrupt profile: {e}", path.display()));
            }
            Err(_) => return Err(format!("{}: corrupt profile", path.display())),
        }
    }
    let warning = (end < body.len()).then(|| {
        format!(
            "{}: the profile is cut short or damaged after frame {frames}; showing the {frames} frames before that",
            path.display()
        )
    });
    Ok((view, warning))
}

/// The names of every scope the frames know.
pub fn scope_names(frames: &FrameView) -> std::collections::BTreeSet<String> {
    frames
        .scope_collection()
        .scopes_by_id()
        .values()
        .map(|d| d.name().to_string())
        .collect()
}

/// Each thread's lane in the frames: its name, and the names of the scopes
/// at the top of its lane in any frame.
pub fn lanes(
    frames: &FrameView,
) -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let names = frames.scope_collection();
    let mut lanes = std::collections::BTreeMap::<String, std::collections::BTreeSet<String>>::new();
    for frame in frames.recent_frames() {
        let Ok(frame) = frame.unpacked() else {
            continue;
        };
        for (thread, stream) in &frame.thread_streams {
            let lane = lanes.entry(thread.name.clone()).or_default();
            let Ok(top) = puffin::Reader::from_start(&stream.stream).read_top_scopes() else {
                continue;
            };
            for scope in top {
                if let Some(details) = names.fetch_by_id(&scope.id) {
                    lane.insert(details.name().to_string());
                }
            }
        }
    }
    lanes
}
