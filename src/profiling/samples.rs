//! Sampled script stacks (SCRIPT_API §7 `--samples`): a sampler thread
//! wakes `sample_hz` times a second and reads the script stack the
//! runtime's thread is running, under the system, handler or coroutine
//! that is running. Folded into "root;frame;frame"
//! lines with a count, the format inferno, flamegraph.pl and speedscope
//! read.
//!
//! Each language reads its stacks its own way ([`StackReader`]). Python
//! stacks are read by the sampler thread itself, holding the GIL: the
//! scripts' thread gives it up at its next bytecode boundary, so the line
//! is the one running. A Lua state is asked to record its own stack: the
//! sampler sets a one-instruction hook, as LuaJIT's own profiler does, and
//! the hook records the stack at the next instruction, compiled code
//! included. LuaJIT's own profiler cannot serve: it samples one Lua state
//! per process, and every script has its own.

use std::collections::BTreeMap;

use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Reads the script stack a thread is running right now, frames root first
/// (`path:function:line`), or `None` when it runs no script code.
pub type StackProbe = Box<dyn Fn(u64) -> Option<Vec<String>> + Send>;

/// Runs the sampler thread's whole loop inside what a language needs for
/// its probes (Python: one thread state kept for the thread's life, rather
/// than one made and freed for each probe).
pub type SamplerContext = Box<dyn FnOnce(Box<dyn FnOnce() + Send>) + Send>;

/// Deepest stack a sample keeps; deeper frames (a runaway recursion) are
/// cut, and the cut is marked by a frame of its own.
pub const MAX_DEPTH: usize = 200;

/// The frame that marks a stack cut at [`MAX_DEPTH`].
pub const CUT_FRAME: &str = "(stack cut)";

/// How the stack under a root is read.
#[derive(Clone, Default)]
pub enum StackReader {
    /// Not read: a sample is the root alone.
    #[default]
    None,
    /// Read by the sampler thread through the [`StackProbe`] given to
    /// [`start`].
    Probe,
    /// Asked of the running code, which records it itself.
    Ask(Arc<dyn AskStack>),
}

/// Running code that records its own stack when asked (a Lua state).
pub trait AskStack: Send + Sync {
    /// Asks for `sample` to be recorded at the next instruction. Called by
    /// the sampler thread while the asked code is the current root, so the
    /// code's state is alive.
    fn ask(&self, sample: PendingSample);
}

/// A sample asked for and not yet recorded.
pub struct PendingSample {
    shared: Arc<Shared>,
    root: String,
}

impl PendingSample {
    /// Records `frames` (root first) under the root the sample was asked
    /// for, unless the thread has moved on to another call since.
    pub fn record(self, frames: Vec<String>) {
        let current = self.shared.root.lock().map(|r| r.0 == self.root);
        if current.unwrap_or(false) {
            self.shared.add(self.root, frames, puffin::now_ns());
        }
    }
}

#[derive(Default)]
struct Shared {
    stop: AtomicBool,
    /// The sampled thread is stopped at a breakpoint: the line it waits
    /// at is not running, so it is not sampled.
    paused: AtomicBool,
    /// What the sampled thread runs now: the samples' root, and how its
    /// stack is read. Empty between calls.
    root: Mutex<(String, StackReader)>,
    counts: Mutex<BTreeMap<String, u64>>,
    /// Each sample's time and folded stack, when kept (for a trace).
    timeline: Option<Mutex<Vec<TimedSample>>>,
}

/// One sample at its time: nanoseconds on puffin's clock, and the folded
/// stack (`root;frame;frame`).
pub type TimedSample = (i64, String);

impl Shared {
    /// Counts one sample of `frames` under `root`.
    fn add(&self, mut key: String, frames: Vec<String>, at_ns: i64) {
        if key.is_empty() {
            key.push_str("(no call)");
        }
        let cut = frames.len() > MAX_DEPTH;
        for frame in frames.iter().take(MAX_DEPTH) {
            key.push(';');
            key.push_str(frame);
        }
        if cut {
            key.push(';');
            key.push_str(CUT_FRAME);
        }
        if let Some(timeline) = &self.timeline
            && let Ok(mut timeline) = timeline.lock()
        {
            timeline.push((at_ns, key.clone()));
        }
        if let Ok(mut counts) = self.counts.lock() {
            *counts.entry(key).or_default() += 1;
        }
    }
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
/// 10,000): a sampler thread reads the stack through `probe`. With `timed`,
/// each sample's time is kept too, until [`drain_timeline`].
pub fn start(hz: u32, probe: StackProbe, context: Option<SamplerContext>, timed: bool) {
    let shared = Arc::new(Shared {
        timeline: timed.then(Mutex::default),
        ..Shared::default()
    });
    let period = Duration::from_secs_f64(1.0 / f64::from(hz.clamp(1, 10_000)));
    let target = this_thread();
    {
        let shared = Arc::clone(&shared);
        let _ = std::thread::Builder::new()
            .name("ecscope-sampler".into())
            .spawn(move || {
                let body = move || sample_loop(&shared, &probe, period, target);
                match context {
                    Some(context) => context(Box::new(body)),
                    None => body(),
                }
            });
    }
    SAMPLER.with(|s| *s.borrow_mut() = Some(shared));
}

/// The sampler thread's loop: until stopped, reads `target`'s stack
/// `period` apart.
fn sample_loop(shared: &Arc<Shared>, probe: &StackProbe, period: Duration, target: u64) {
    // After a look that found no script running (between two
    // calls), looks again sooner, so that short calls are
    // still sampled at about the rate asked for.
    let mut wait = period;
    while !shared.stop.load(Ordering::Relaxed) {
        std::thread::sleep(wait);
        if shared.paused.load(Ordering::Relaxed) {
            continue;
        }
        let root = || shared.root.lock().map(|r| r.0.clone()).unwrap_or_default();
        let (key, reader) = {
            let Ok(current) = shared.root.lock() else {
                break;
            };
            if let (false, StackReader::Ask(code)) = (current.0.is_empty(), &current.1) {
                // Asked under the lock: the code cannot end its
                // call (and its state be closed) meanwhile.
                code.ask(PendingSample {
                    shared: Arc::clone(shared),
                    root: current.0.clone(),
                });
                wait = period;
                continue;
            }
            current.clone()
        };
        // The time the stack is asked for: a probe may wait its turn while
        // the call it reads ends (the root check below then drops it).
        let at_ns = puffin::now_ns();
        let frames = match reader {
            // The root is read again once the stack is: the
            // thread may have moved on to another call while
            // the probe waited for its turn.
            // A call that runs no script code at the moment
            // (the runtime converting values between two
            // per-entity calls) counts under the root alone.
            StackReader::Probe if !key.is_empty() => {
                let frames = probe(target).unwrap_or_default();
                (root() == key).then_some(frames)
            }
            // A call whose stack is not read: its share still
            // counts, under its own name.
            _ => (!key.is_empty()).then(Vec::new),
        };
        let Some(frames) = frames else {
            wait = (period / 8).max(Duration::from_micros(50));
            continue;
        };
        wait = period;
        shared.add(key, frames, at_ns);
    }
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

/// Takes the samples counted so far, leaving the sampler running.
pub fn drain() -> Vec<(String, u64)> {
    SAMPLER.with(|s| match s.borrow().as_ref() {
        Some(shared) => shared
            .counts
            .lock()
            .map(|mut c| std::mem::take(&mut *c).into_iter().collect())
            .unwrap_or_default(),
        None => Vec::new(),
    })
}

/// Takes the timed samples kept so far, oldest first (none unless the
/// sampler was started timed).
pub fn drain_timeline() -> Vec<TimedSample> {
    SAMPLER.with(|s| {
        s.borrow()
            .as_ref()
            .and_then(|shared| shared.timeline.as_ref())
            .and_then(|t| t.lock().ok().map(|mut t| std::mem::take(&mut *t)))
            .unwrap_or_default()
    })
}

/// Stops sampling this thread's scripts while it waits at a breakpoint
/// (`true`), or samples them again (`false`): waiting for the user is not
/// time the line spent running.
pub fn set_paused(paused: bool) {
    SAMPLER.with(|s| {
        if let Some(shared) = s.borrow().as_ref() {
            shared.paused.store(paused, Ordering::Relaxed);
        }
    });
}

/// Whether this thread's scripts are sampled.
pub fn active() -> bool {
    SAMPLER.with(|s| s.borrow().is_some())
}

/// Names what runs now (`scripts/flock.lua:steer`), or nothing (empty):
/// the root of the samples taken until the next change, and how its stack
/// is read.
pub fn set_root(root: String, reader: StackReader) {
    SAMPLER.with(|s| {
        if let Some(shared) = s.borrow().as_ref()
            && let Ok(mut current) = shared.root.lock()
        {
            *current = (root, reader);
        }
    });
}

/// The folded-stacks text: one `stack COUNT` line per stack (SCRIPT_API
/// §7), as inferno, flamegraph.pl and speedscope read it.
pub fn folded_text(folded: &[(String, u64)]) -> String {
    let mut text = String::new();
    for (stack, count) in folded {
        text.push_str(stack);
        text.push(' ');
        text.push_str(&count.to_string());
        text.push('\n');
    }
    text
}

/// Reads a folded-stacks file (`--samples`, *File › Save samples…*): one
/// `stack COUNT` line per stack. A line that is not one is an error naming
/// the file and line.
pub fn read_folded(path: &std::path::Path) -> Result<Vec<(String, u64)>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut folded = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match line.rsplit_once(' ').map(|(s, n)| (s, n.parse::<u64>())) {
            Some((stack, Ok(count))) if !stack.is_empty() => {
                folded.push((stack.to_string(), count));
            }
            _ => {
                return Err(format!(
                    "{}:{}: not a folded stack (`root;frame;frame COUNT`, as --samples writes)",
                    path.display(),
                    index + 1
                ));
            }
        }
    }
    Ok(folded)
}

/// One frame of a folded stack: `file:function:line`, or a root's
/// `file:function`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The script's path.
    pub file: &'a str,
    /// The function (a root: the system, handler or coroutine).
    pub function: &'a str,
    /// The line running (none for a root).
    pub line: Option<u32>,
}

/// Reads one frame of a folded stack. A function name may hold `:` (a Lua
/// method), a path does not.
pub fn parse_frame(frame: &str) -> Frame<'_> {
    let (file, rest) = frame.split_once(':').unwrap_or((frame, ""));
    match rest.rsplit_once(':') {
        Some((function, line)) if line.parse::<u32>().is_ok() => Frame {
            file,
            function,
            line: line.parse().ok(),
        },
        _ => Frame {
            file,
            function: rest,
            line: None,
        },
    }
}

/// Self and total samples of one script function.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunctionRow {
    /// The script's path.
    pub file: String,
    /// The function.
    pub function: String,
    /// Its hottest line (where a click takes the user).
    pub line: u32,
    /// Samples taken in the function itself.
    pub self_samples: u64,
    /// Samples taken in it or in what it called.
    pub total_samples: u64,
}

/// Samples taken at one line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineRow {
    /// The script's path.
    pub file: String,
    /// The line.
    pub line: u32,
    /// The function the line is in.
    pub function: String,
    /// Samples whose innermost frame ran this line.
    pub samples: u64,
}

/// One node of the sampled flame graph: frames merged by function.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlameNode {
    /// `function` (a root: `file:system`).
    pub name: String,
    /// The script's path.
    pub file: String,
    /// The node's hottest line, if it ran script lines.
    pub line: Option<u32>,
    /// Samples in it and below.
    pub samples: u64,
    /// The nodes it called, most samples first.
    pub children: Vec<FlameNode>,
    lines: BTreeMap<u32, u64>,
}

/// What the samples say, in the shapes the views show.
#[derive(Debug, Clone, Default)]
pub struct SampleSummary {
    /// Samples in all.
    pub total: u64,
    /// Samples whose stack was cut at [`MAX_DEPTH`].
    pub cut: u64,
    /// Functions, most self samples first.
    pub functions: Vec<FunctionRow>,
    /// Lines, most samples first.
    pub lines: Vec<LineRow>,
    /// The flame graph's root (all samples).
    pub tree: FlameNode,
}

impl SampleSummary {
    /// Summarizes folded stacks.
    pub fn of(folded: &[(String, u64)]) -> SampleSummary {
        let mut summary = SampleSummary {
            tree: FlameNode {
                name: "all".into(),
                ..FlameNode::default()
            },
            ..SampleSummary::default()
        };
        // (file, function) -> (self, total, lines)
        type Key = (String, String);
        let mut functions: BTreeMap<Key, (u64, u64, BTreeMap<u32, u64>)> = BTreeMap::new();
        let mut lines: BTreeMap<(String, u32), (String, u64)> = BTreeMap::new();
        for (stack, count) in folded {
            let count = *count;
            summary.total += count;
            let frames: Vec<Frame> = stack.split(';').map(parse_frame).collect();
            if frames.last().is_some_and(|f| f.file == CUT_FRAME) {
                summary.cut += count;
            }
            // The tree.
            let mut node = &mut summary.tree;
            node.samples += count;
            for (depth, frame) in frames.iter().enumerate() {
                let name = if depth == 0 {
                    format!("{}:{}", frame.file, frame.function)
                } else {
                    frame.function.to_string()
                };
                let at = match node
                    .children
                    .iter()
                    .position(|c| c.name == name && c.file == frame.file)
                {
                    Some(at) => at,
                    None => {
                        node.children.push(FlameNode {
                            name,
                            file: frame.file.to_string(),
                            ..FlameNode::default()
                        });
                        node.children.len() - 1
                    }
                };
                node = &mut node.children[at];
                node.samples += count;
                if let Some(line) = frame.line {
                    *node.lines.entry(line).or_default() += count;
                }
            }
            // Functions and lines: script frames only (not the root).
            let script_frames = frames.get(1..).unwrap_or_default();
            let mut seen: Vec<Key> = Vec::new();
            for (i, frame) in script_frames.iter().enumerate() {
                let Some(line) = frame.line else { continue };
                let key = (frame.file.to_string(), frame.function.to_string());
                let entry = functions.entry(key.clone()).or_default();
                if !seen.contains(&key) {
                    entry.1 += count;
                    seen.push(key);
                }
                if i + 1 == script_frames.len() {
                    entry.0 += count;
                    *entry.2.entry(line).or_default() += count;
                    let row = lines
                        .entry((frame.file.to_string(), line))
                        .or_insert_with(|| (frame.function.to_string(), 0));
                    row.1 += count;
                }
            }
        }
        finish_node(&mut summary.tree);
        summary.functions = functions
            .into_iter()
            .map(|((file, function), (self_samples, total_samples, lines))| {
                let line = hottest(&lines).unwrap_or(0);
                FunctionRow {
                    file,
                    function,
                    line,
                    self_samples,
                    total_samples,
                }
            })
            .collect();
        summary.functions.sort_by(|a, b| {
            b.self_samples
                .cmp(&a.self_samples)
                .then(b.total_samples.cmp(&a.total_samples))
        });
        summary.lines = lines
            .into_iter()
            .map(|((file, line), (function, samples))| LineRow {
                file,
                line,
                function,
                samples,
            })
            .collect();
        summary.lines.sort_by_key(|l| std::cmp::Reverse(l.samples));
        summary
    }

    /// Per-line samples of one file, for the editor's gutter.
    pub fn heat_of(&self, file: &str) -> BTreeMap<u32, u64> {
        self.lines
            .iter()
            .filter(|l| l.file == file)
            .map(|l| (l.line, l.samples))
            .collect()
    }
}

/// The line with the most samples.
fn hottest(lines: &BTreeMap<u32, u64>) -> Option<u32> {
    lines
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(line, _)| *line)
}

/// Orders a finished tree's children and sets each node's hottest line.
fn finish_node(node: &mut FlameNode) {
    node.line = hottest(&node.lines);
    node.children.sort_by_key(|c| std::cmp::Reverse(c.samples));
    for child in &mut node.children {
        finish_node(child);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_fold_under_their_root() {
        start(
            1000,
            Box::new(|_| Some(vec!["a.py:work:9".into(), "a.py:slow:5".into()])),
            None,
            true,
        );
        assert!(active());
        set_root("scripts/a.py:work".into(), StackReader::Probe);
        std::thread::sleep(Duration::from_millis(30));
        // Timed, each sample's time is kept too, in order.
        let timeline = drain_timeline();
        assert!(!timeline.is_empty());
        assert!(timeline.windows(2).all(|w| w[0].0 <= w[1].0));
        assert_eq!(timeline[0].1, "scripts/a.py:work;a.py:work:9;a.py:slow:5");
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

    #[test]
    fn nothing_is_sampled_while_the_thread_waits_at_a_breakpoint() {
        start(
            1000,
            Box::new(|_| Some(vec!["a.lua:work:3".into()])),
            None,
            false,
        );
        set_root("scripts/a.lua:work".into(), StackReader::Probe);
        set_paused(true);
        // A sample taken just before the pause may still land.
        std::thread::sleep(Duration::from_millis(5));
        drain();
        std::thread::sleep(Duration::from_millis(60));
        let while_stopped: u64 = drain().iter().map(|(_, n)| n).sum();
        set_paused(false);
        // A busy machine may starve the sampler for a while.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        let mut after = 0;
        while after == 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
            after += drain().iter().map(|(_, n)| n).sum::<u64>();
        }
        finish();
        assert!(while_stopped <= 1, "{while_stopped} samples while stopped");
        assert!(after > 0, "sampling goes on after the stop");
    }

    #[test]
    fn summaries_attribute_samples_to_functions_and_lines() {
        let folded = vec![
            ("s.lua:move;s.lua:move:3;s.lua:M:slow:9".to_string(), 6),
            ("s.lua:move;s.lua:move:3;s.lua:M:slow:10".to_string(), 2),
            ("s.lua:move;s.lua:move:4".to_string(), 2),
        ];
        let summary = SampleSummary::of(&folded);
        assert_eq!(summary.total, 10);
        let slow = &summary.functions[0];
        assert_eq!((slow.function.as_str(), slow.line), ("M:slow", 9));
        assert_eq!((slow.self_samples, slow.total_samples), (8, 8));
        let outer = summary
            .functions
            .iter()
            .find(|f| f.function == "move")
            .unwrap();
        assert_eq!((outer.self_samples, outer.total_samples), (2, 10));
        assert_eq!((summary.lines[0].line, summary.lines[0].samples), (9, 6));
        assert_eq!(summary.heat_of("s.lua").get(&4), Some(&2));
        let root = &summary.tree.children[0];
        assert_eq!((root.name.as_str(), root.samples), ("s.lua:move", 10));
        assert_eq!(root.children[0].children[0].name, "M:slow");
        assert_eq!(parse_frame("a.py:f:12").line, Some(12));
        assert_eq!(parse_frame("a.py:sys").line, None);
    }

    #[test]
    fn deep_stacks_are_cut() {
        let shared = Shared::default();
        let frames: Vec<String> = (0..MAX_DEPTH + 50)
            .map(|i| format!("a.lua:f:{i}"))
            .collect();
        shared.add("a.lua:s".into(), frames, 0);
        let counts = shared.counts.lock().unwrap();
        let (key, _) = counts.iter().next().unwrap();
        assert!(key.ends_with(CUT_FRAME));
        assert_eq!(key.split(';').count(), MAX_DEPTH + 2);
        let summary = SampleSummary::of(&[(key.clone(), 1)]);
        assert_eq!(summary.cut, 1);
    }
}
