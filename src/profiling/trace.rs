//! Chrome Trace Event JSON (SCRIPT_API §7), which ui.perfetto.dev and
//! chrome://tracing open: the profiler's scopes as spans on one track per
//! thread, instant events for what happened (reloads, rollbacks, errors,
//! leaks), counter tracks for memory and entity counts, and the process's
//! and threads' names.
//!
//! A [`Trace`] is fed as the run goes (each finished puffin frame, each
//! event, each frame's counters) and written whole at the end.

use std::collections::HashMap;
use std::fmt::Write as _;

use std::sync::Arc;

use puffin::{FrameData, FrameView};

use super::markers::{Marker, Markers};
use serde_json::{Value, json};

/// The track (thread id) of the runtime's own thread.
const RUNTIME_TID: u64 = 1;

/// A trace being recorded.
#[derive(Default)]
pub struct Trace {
    /// The events so far, each a JSON object, comma-separated.
    events: String,
    count: usize,
    /// Each thread's track, by thread name.
    threads: HashMap<String, u64>,
    /// Keeps the scope names each frame brings (and the latest frame).
    view: FrameView,
    /// Scope names given up front (a saved or live view's).
    names: HashMap<puffin::ScopeId, String>,
    /// When the trace begins (0 on its time line), on puffin's clock.
    origin_ns: i64,
    /// The script calls on the runtime's track in the last two frames
    /// (start and end ns, by start): where sampled script frames go.
    calls: [Vec<(i64, i64)>; 2],
}

/// A sampled script frame open while the samples go on calling it.
struct SampledFrame {
    label: String,
    file: String,
    line: Option<u32>,
    start: i64,
    samples: u64,
}

impl Trace {
    /// An empty trace of the process `process` (the project's name),
    /// beginning now: make it before the project opens, so that its
    /// scripts' loading is on it too.
    pub fn new(process: &str) -> Trace {
        Trace::starting(process, puffin::now_ns())
    }

    fn starting(process: &str, origin_ns: i64) -> Trace {
        let mut trace = Trace {
            origin_ns,
            ..Trace::default()
        };
        trace.view.set_max_recent(1);
        trace.view.set_max_slow(0);
        trace.push(&json!({
            "name": "process_name", "ph": "M", "pid": 1, "tid": 0,
            "args": { "name": format!("ecscope: {process}") },
        }));
        trace
    }

    /// How many events it holds.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether it holds no event but the process's name.
    pub fn is_empty(&self) -> bool {
        self.count <= 1
    }

    fn push(&mut self, event: &Value) {
        if self.count > 0 {
            self.events.push_str(",\n");
        }
        let _ = write!(self.events, "{event}");
        self.count += 1;
    }

    /// Microseconds since the trace began.
    fn micros(&self, ns: i64) -> f64 {
        (ns - self.origin_ns).max(0) as f64 / 1000.0
    }

    /// The track of the thread named `name`; the runtime's thread (the one
    /// whose lane has the `frame` scope) is the first.
    fn track(&mut self, name: &str, runtime: bool) -> u64 {
        if let Some(tid) = self.threads.get(name) {
            return *tid;
        }
        let tid = if runtime && !self.threads.values().any(|t| *t == RUNTIME_TID) {
            RUNTIME_TID
        } else {
            RUNTIME_TID + 1 + self.threads.len() as u64
        };
        self.threads.insert(name.to_string(), tid);
        let label = if name.is_empty() { "thread" } else { name };
        self.push(&json!({
            "name": "thread_name", "ph": "M", "pid": 1, "tid": tid,
            "args": { "name": label },
        }));
        self.push(&json!({
            "name": "thread_sort_index", "ph": "M", "pid": 1, "tid": tid,
            "args": { "sort_index": tid },
        }));
        tid
    }

    /// Adds a finished puffin frame: every scope as a span on its
    /// thread's track, nested as recorded.
    pub fn add_frame(&mut self, frame: Arc<FrameData>) {
        self.view.add_frame(Arc::clone(&frame));
        let Ok(unpacked) = frame.unpacked() else {
            return;
        };
        self.calls.swap(0, 1);
        self.calls[1].clear();
        let index = frame.meta().frame_index;
        for (thread, stream) in &unpacked.thread_streams {
            let Ok(top) = puffin::Reader::from_start(&stream.stream).read_top_scopes() else {
                continue;
            };
            let runtime = top.iter().any(|s| self.name(s.id) == "frame");
            let tid = self.track(&thread.name, runtime);
            self.add_scopes(&stream.stream, top, tid, index);
        }
    }

    fn name(&self, id: puffin::ScopeId) -> String {
        if let Some(name) = self.names.get(&id) {
            return name.clone();
        }
        self.view
            .scope_collection()
            .fetch_by_id(&id)
            .map_or_else(|| format!("scope {}", id.0), |d| d.name().to_string())
    }

    /// The trace of the frames `view` holds (the Profiler's, or a
    /// `.puffin` file's), oldest first, with the `markers` from the first
    /// frame on as instants (a stop falls in a frame the Profiler leaves
    /// out, so those after the last frame count too), and the sampled
    /// script frames of `samples` (oldest first, taken the given
    /// nanoseconds apart) under their calls.
    pub fn of_view(
        view: &FrameView,
        process: &str,
        markers: Option<&Markers>,
        samples: Option<(&[super::samples::TimedSample], i64)>,
    ) -> Trace {
        let mut frames: Vec<_> = view.recent_frames().cloned().collect();
        frames.sort_by_key(|f| f.meta().frame_index);
        let origin = frames
            .iter()
            .map(|f| f.meta().range_ns.0)
            .min()
            .unwrap_or(0);
        let mut trace = Trace::starting(process, origin);
        trace.names = view
            .scope_collection()
            .scopes_by_id()
            .iter()
            .map(|(id, d)| (*id, d.name().to_string()))
            .collect();
        let (samples, period) = samples.unwrap_or((&[], 1));
        let mut next = 0;
        for frame in frames {
            let (start, end) = frame.meta().range_ns;
            trace.add_frame(frame);
            // This frame's samples, while its calls are the latest.
            next += samples[next..].partition_point(|s| s.0 < start);
            let count = samples[next..].partition_point(|s| s.0 <= end);
            trace.add_samples(&samples[next..next + count], period);
            next += count;
        }
        if let Some(markers) = markers {
            for marker in markers.between(origin, i64::MAX) {
                trace.marker(&marker);
            }
            for counter in markers.counters_between(origin, i64::MAX) {
                let values: Vec<(&str, f64)> = counter
                    .values
                    .iter()
                    .map(|(n, v)| (n.as_str(), *v))
                    .collect();
                trace.counter(&counter.track, counter.ns, &values);
            }
        }
        trace
    }

    fn add_scopes(
        &mut self,
        stream: &puffin::Stream,
        scopes: Vec<puffin::Scope<'_>>,
        tid: u64,
        frame: u64,
    ) {
        for scope in scopes {
            let name = self.name(scope.id);
            let category = if name == "frame" {
                "frame"
            } else if name.contains(".lua:") || name.contains(".py:") {
                "script"
            } else {
                "phase"
            };
            let ts = self.micros(scope.record.start_ns);
            if category == "script" && tid == RUNTIME_TID {
                let start = scope.record.start_ns;
                self.calls[1].push((start, start + scope.record.duration_ns));
            }
            let mut event = json!({
                "name": name, "cat": category, "ph": "X", "pid": 1, "tid": tid,
                "ts": ts, "dur": scope.record.duration_ns as f64 / 1000.0,
            });
            if category == "frame" {
                event["args"] = json!({ "frame": frame });
            }
            self.push(&event);
            if scope.child_begin_position < scope.child_end_position
                && let Ok(reader) = puffin::Reader::with_offset(stream, scope.child_begin_position)
                && let Ok(children) = reader.read_top_scopes()
            {
                self.add_scopes(stream, children, tid, frame);
            }
        }
    }

    /// Adds the sampler's script frames (`samples`, oldest first, taken
    /// `period_ns` apart) under the script calls of the last frames they
    /// fell in, as spans on the runtime's track. A sample stands for the
    /// time until the next one, at most two periods, within its call; the
    /// frames that consecutive samples share are one span. A sample
    /// outside any recorded call (the flame graph was full) is left out.
    pub fn add_samples(&mut self, samples: &[super::samples::TimedSample], period_ns: i64) {
        let mut calls: Vec<(i64, i64)> = self.calls.concat();
        calls.sort_unstable();
        let call_at = |t: i64| {
            let i = calls.partition_point(|c| c.0 <= t);
            (i > 0 && t < calls[i - 1].1).then(|| calls[i - 1])
        };
        let mut open: Vec<SampledFrame> = Vec::new();
        let (mut call, mut until) = (None, i64::MIN);
        for (i, (t, stack)) in samples.iter().enumerate() {
            let Some(here) = call_at(*t) else {
                continue;
            };
            if call != Some(here) || *t > until {
                self.close_sampled(&mut open, 0, until);
                call = Some(here);
            }
            let next = samples.get(i + 1).map_or(i64::MAX, |s| s.0);
            until = next.min(t + 2 * period_ns).min(here.1);
            let frames: Vec<super::samples::Frame<'_>> = stack
                .split(';')
                .skip(1)
                .map(super::samples::parse_frame)
                .collect();
            let label =
                |f: &super::samples::Frame<'_>| super::profiler::scope_label(f.file, f.function);
            let shared = open
                .iter()
                .zip(&frames)
                .take_while(|(o, f)| o.label == label(f))
                .count();
            self.close_sampled(&mut open, shared, *t);
            for frame in &frames[shared..] {
                open.push(SampledFrame {
                    label: label(frame),
                    file: frame.file.to_string(),
                    line: frame.line,
                    start: *t,
                    samples: 0,
                });
            }
            open.iter_mut().for_each(|o| o.samples += 1);
        }
        self.close_sampled(&mut open, 0, until);
    }

    /// Ends the sampled frames deeper than `depth` at `end`, innermost
    /// first.
    fn close_sampled(&mut self, open: &mut Vec<SampledFrame>, depth: usize, end: i64) {
        while open.len() > depth {
            let Some(frame) = open.pop() else { break };
            if end <= frame.start {
                continue;
            }
            let ts = self.micros(frame.start);
            self.push(&json!({
                "name": frame.label, "cat": "sample", "ph": "X", "pid": 1,
                "tid": RUNTIME_TID, "ts": ts, "dur": (end - frame.start) as f64 / 1000.0,
                "args": { "file": frame.file, "line": frame.line, "samples": frame.samples },
            }));
        }
    }

    /// Adds something that happened at `ns` (puffin's clock): a reload, a
    /// rollback, an error, a leak, a stop. `args` says what.
    pub fn instant(&mut self, name: &str, category: &str, ns: i64, args: Value) {
        let ts = self.micros(ns);
        self.push(&json!({
            "name": name, "cat": category, "ph": "i", "s": "p", "pid": 1,
            "tid": RUNTIME_TID, "ts": ts, "args": args,
        }));
    }

    /// Adds a marked moment as an instant.
    pub fn marker(&mut self, marker: &Marker) {
        self.instant(
            &marker.name,
            marker.category,
            marker.ns,
            marker.args.clone(),
        );
    }

    /// Adds the values of a counter track at `ns` (puffin's clock).
    pub fn counter(&mut self, name: &str, ns: i64, values: &[(&str, f64)]) {
        let ts = self.micros(ns);
        let args: serde_json::Map<String, Value> = values
            .iter()
            .map(|(k, v)| ((*k).to_string(), json!(v)))
            .collect();
        self.push(&json!({
            "name": name, "ph": "C", "pid": 1, "tid": RUNTIME_TID, "ts": ts,
            "args": args,
        }));
    }

    /// The whole trace as Chrome Trace Event JSON.
    pub fn to_json(&self) -> String {
        format!(
            "{{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n{}\n]}}\n",
            self.events
        )
    }
}

/// Writes `trace` to `path` whole (a temporary file renamed into place).
pub fn write(trace: &Trace, path: &std::path::Path) -> std::io::Result<()> {
    crate::hot_reload::history::write_atomic(path, trace.to_json().as_bytes())
}
