//! Memory over time: bounded series sampled once a frame (the Rust heap,
//! each Lua state, Python, entity and component counts) and the leak
//! detector, which flags a script heap that keeps growing.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// Samples kept per series (two minutes at 60 fps).
pub const SAMPLES_KEPT: usize = 7200;

/// Frames per leak-detector window (three seconds at 60 fps).
pub const LEAK_WINDOW: usize = 180;

/// Growth, after collection, below which a heap is not called leaking.
pub const LEAK_MIN_GROWTH: f64 = 64.0 * 1024.0;

/// Settled sizes in a row that must each be larger than the one before.
const LEAK_CONFIRMATIONS: usize = 3;

/// What a series measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesKind {
    /// Bytes of a heap.
    Bytes,
    /// A count (entities, components).
    Count,
}

/// A series' latest value.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesNow {
    /// The series' name.
    pub name: String,
    /// Bytes or a count.
    pub kind: SeriesKind,
    /// The script this heap belongs to, when it is one script's.
    pub script: Option<String>,
    /// The value.
    pub value: f64,
}

/// One series: (frame, value) samples, the newest last.
#[derive(Debug, Clone)]
pub struct Series {
    /// `rust`, `python`, `lua scripts/a.lua`, `entities`...
    pub name: String,
    /// Bytes or a count.
    pub kind: SeriesKind,
    /// The script this heap belongs to, when it is one script's.
    pub script: Option<String>,
    /// Samples, oldest first.
    pub samples: VecDeque<(u64, f64)>,
    /// The largest value seen.
    pub peak: f64,
    /// Whether the leak detector watches it.
    pub watched: bool,
    /// Each sample is already a settled size (no garbage in it).
    pub settled_samples: bool,
    /// The first frame of the window in progress.
    window_start: Option<u64>,
    /// The lowest value of the window in progress and of the one before.
    window_low: f64,
    last_window_low: Option<f64>,
    /// Sizes after a collection, one per window while the heap grows.
    settled: Vec<f64>,
    /// Flagged and not yet back to normal.
    flagged: bool,
}

impl Series {
    /// The latest value.
    pub fn current(&self) -> f64 {
        self.samples.back().map_or(0.0, |s| s.1)
    }

    /// At most `max` samples spread over the whole series (for charts).
    pub fn points(&self, max: usize) -> Vec<[f64; 2]> {
        let step = self.samples.len().div_ceil(max.max(1)).max(1);
        let mut points: Vec<[f64; 2]> = self
            .samples
            .iter()
            .step_by(step)
            .map(|&(f, v)| [f as f64, v])
            .collect();
        if let Some(&(f, v)) = self.samples.back()
            && points.last().is_none_or(|p| p[0] != f as f64)
        {
            points.push([f as f64, v]);
        }
        points
    }
}

/// A sample of one frame: (series name, kind, script, value, watched).
#[derive(Debug, Clone)]
pub struct Sample {
    /// The series.
    pub name: String,
    /// Bytes or a count.
    pub kind: SeriesKind,
    /// The script, for a script's heap.
    pub script: Option<String>,
    /// The value.
    pub value: f64,
    /// Watched for leaks.
    pub watched: bool,
    /// The value is already a settled size.
    pub settled: bool,
}

/// Where a leaking script keeps what grows, and the line that adds to it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LeakSite {
    /// The containers that grew, named by where they hang from the
    /// script's variables (`trails[*]`: the tables kept in `trails`).
    pub path: String,
    /// What they are: `table`, `list`, `dict`...
    pub kind: String,
    /// How many containers share that path.
    pub containers: u64,
    /// Entries they gained between the two censuses.
    pub growth: u64,
    /// The script line that added most, when one was seen.
    pub line: Option<u32>,
}

impl LeakSite {
    /// "the 60 tables kept in `trails`" or "the table `history`".
    pub fn describe(&self) -> String {
        let kind = &self.kind;
        match self.path.strip_suffix("[*]") {
            Some(parent) if self.containers > 1 => {
                format!("the {} {kind}s kept in `{parent}`", self.containers)
            }
            Some(parent) => format!("the {kind} kept in `{parent}`"),
            None => format!("the {kind} `{}`", self.path),
        }
    }
}

/// A heap that kept growing.
#[derive(Debug, Clone, PartialEq)]
pub struct Leak {
    /// The script (or series name).
    pub script: String,
    /// Growth over the window, bytes.
    pub growth_bytes: u64,
    /// The window, frames.
    pub window_frames: u64,
    /// When it was flagged.
    pub frame: u64,
    /// What grows and where it is added, once the hunt found it.
    pub site: Option<LeakSite>,
}

/// Every series of one runtime, and the leaks found in them.
#[derive(Debug, Default)]
pub struct MemoryTracker {
    series: Vec<Series>,
    index: HashMap<String, usize>,
    leaks: Vec<Leak>,
}

/// What the Memory panel shows, shared cheaply.
#[derive(Debug, Clone, Default)]
pub struct MemoryView {
    /// Every series.
    pub series: Arc<Vec<Series>>,
    /// Leaks flagged so far, oldest first.
    pub leaks: Arc<Vec<Leak>>,
}

impl MemoryTracker {
    /// Records one frame's samples. Returns the watched series whose
    /// lowest value rose from one window to the next: their owners should
    /// collect garbage and report the settled size with
    /// [`MemoryTracker::settled`], which decides whether it is a leak. A
    /// heap that only grows between collections, or steps up once, is
    /// never called leaking; one that is still larger after every
    /// collection, window after window, is.
    pub fn sample(&mut self, frame: u64, samples: Vec<Sample>) -> Vec<String> {
        let mut due = Vec::new();
        for s in samples {
            let index = match self.index.get(&s.name) {
                Some(&i) => i,
                None => {
                    self.series.push(Series {
                        name: s.name.clone(),
                        kind: s.kind,
                        script: s.script.clone(),
                        samples: VecDeque::new(),
                        peak: 0.0,
                        watched: s.watched,
                        settled_samples: s.settled,
                        window_start: None,
                        window_low: f64::INFINITY,
                        last_window_low: None,
                        settled: Vec::new(),
                        flagged: false,
                    });
                    self.index.insert(s.name.clone(), self.series.len() - 1);
                    self.series.len() - 1
                }
            };
            let series = &mut self.series[index];
            series.samples.push_back((frame, s.value));
            if series.samples.len() > SAMPLES_KEPT {
                series.samples.pop_front();
            }
            series.peak = series.peak.max(s.value);
            if !series.watched {
                continue;
            }
            let start = *series.window_start.get_or_insert(frame);
            if frame >= start + LEAK_WINDOW as u64 {
                let low = std::mem::replace(&mut series.window_low, f64::INFINITY);
                series.window_start = Some(frame);
                match series.last_window_low.replace(low) {
                    Some(before) if low > before => due.push(series.name.clone()),
                    // The first window is warm-up; a window that did not
                    // rise ends any suspicion.
                    _ => {
                        series.settled.clear();
                        series.flagged = false;
                    }
                }
            }
            series.window_low = series.window_low.min(s.value);
        }
        due
    }

    /// The size of a due series after its owner collected garbage; a leak
    /// when it grew in [`LEAK_CONFIRMATIONS`] windows in a row by at least
    /// [`LEAK_MIN_GROWTH`] overall.
    pub fn settled(&mut self, name: &str, frame: u64, value: f64) -> Option<Leak> {
        let &i = self.index.get(name)?;
        let series = &mut self.series[i];
        if series.settled.last().is_some_and(|&last| value <= last) {
            series.settled.clear();
        }
        series.settled.push(value);
        let n = series.settled.len();
        if n < LEAK_CONFIRMATIONS || series.flagged {
            return None;
        }
        let growth = value - series.settled[n - LEAK_CONFIRMATIONS];
        if growth < LEAK_MIN_GROWTH {
            return None;
        }
        series.flagged = true;
        let leak = Leak {
            script: series.script.clone().unwrap_or_else(|| series.name.clone()),
            growth_bytes: growth as u64,
            window_frames: (LEAK_WINDOW * (LEAK_CONFIRMATIONS - 1)) as u64,
            frame,
            site: None,
        };
        self.leaks.push(leak.clone());
        Some(leak)
    }

    /// Starts a series' warm-up again (its script was reloaded).
    pub fn restart(&mut self, name: &str) {
        if let Some(&i) = self.index.get(name) {
            let series = &mut self.series[i];
            series.window_start = None;
            series.window_low = f64::INFINITY;
            series.last_window_low = None;
            series.settled.clear();
            series.flagged = false;
        }
    }

    /// The leaks flagged so far, oldest first.
    pub fn leaks(&self) -> &[Leak] {
        &self.leaks
    }

    /// Whether `script` has a flagged leak whose site is not known yet.
    pub fn unlocated(&self, script: &str) -> bool {
        self.leaks
            .iter()
            .any(|l| l.script == script && l.site.is_none())
    }

    /// Gives the latest flagged leak of `script` without a site the site
    /// the hunt found; false when there is none yet.
    pub fn locate(&mut self, script: &str, site: &LeakSite) -> bool {
        match self
            .leaks
            .iter_mut()
            .rev()
            .find(|l| l.script == script && l.site.is_none())
        {
            Some(leak) => {
                leak.site = Some(site.clone());
                true
            }
            None => false,
        }
    }

    /// Forgets every sample and leak.
    pub fn clear(&mut self) {
        *self = MemoryTracker::default();
    }

    /// A copy for viewers.
    pub fn view(&self) -> MemoryView {
        MemoryView {
            series: Arc::new(self.series.clone()),
            leaks: Arc::new(self.leaks.clone()),
        }
    }

    /// A series' latest value.
    pub fn current(&self, name: &str) -> Option<f64> {
        self.index.get(name).map(|&i| self.series[i].current())
    }

    /// The series, for tests and exports.
    pub fn series(&self) -> &[Series] {
        &self.series
    }
}

/// The series as CSV: one row per frame, one column per series.
pub fn to_csv(series: &[Series]) -> String {
    let mut frames: Vec<u64> = series
        .iter()
        .flat_map(|s| s.samples.iter().map(|p| p.0))
        .collect();
    frames.sort_unstable();
    frames.dedup();
    let mut out = String::from("frame");
    for s in series {
        out.push(',');
        out.push_str(&s.name.replace(',', ";"));
    }
    out.push('\n');
    let lookups: Vec<HashMap<u64, f64>> = series
        .iter()
        .map(|s| s.samples.iter().copied().collect())
        .collect();
    for frame in frames {
        out.push_str(&frame.to_string());
        for lookup in &lookups {
            out.push(',');
            if let Some(v) = lookup.get(&frame) {
                out.push_str(&v.to_string());
            }
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `frames` samples of `value(frame)`; a due check settles at
    /// `settled(frame)` (what a collection would leave).
    fn feed(
        tracker: &mut MemoryTracker,
        frames: u64,
        value: impl Fn(u64) -> f64,
        settled: impl Fn(u64) -> f64,
    ) -> Vec<Leak> {
        let mut leaks = Vec::new();
        for f in 0..frames {
            let due = tracker.sample(
                f,
                vec![Sample {
                    name: "lua scripts/a.lua".into(),
                    kind: SeriesKind::Bytes,
                    script: Some("scripts/a.lua".into()),
                    value: value(f),
                    watched: true,
                    settled: false,
                }],
            );
            for name in due {
                leaks.extend(tracker.settled(&name, f, settled(f)));
            }
        }
        leaks
    }

    #[test]
    fn growth_that_survives_collection_is_a_leak() {
        // A collector's sawtooth over a heap that keeps 1 KB a frame.
        let mut t = MemoryTracker::default();
        let leaks = feed(
            &mut t,
            3000,
            |f| 2e6 + f as f64 * 1000.0 + (f % 97) as f64 * 20_000.0,
            |f| 2e6 + f as f64 * 1000.0,
        );
        assert_eq!(leaks.len(), 1, "flagged once: {leaks:?}");
        assert_eq!(leaks[0].script, "scripts/a.lua");
        assert!(leaks[0].growth_bytes >= 300_000, "{leaks:?}");
        assert!(leaks[0].frame < 1000, "found within seconds: {leaks:?}");
    }

    #[test]
    fn garbage_a_sawtooth_and_one_step_are_not_leaks() {
        // Garbage piling up between collections that free all of it.
        let mut t = MemoryTracker::default();
        let leaks = feed(&mut t, 3000, |f| 2e6 + (f % 1000) as f64 * 5000.0, |_| 2e6);
        assert!(leaks.is_empty(), "{leaks:?}");
        // A fast sawtooth.
        let mut t = MemoryTracker::default();
        let leaks = feed(&mut t, 3000, |f| 2e6 + (f % 97) as f64 * 20_000.0, |_| 2e6);
        assert!(leaks.is_empty(), "{leaks:?}");
        // A level loads once.
        let mut t = MemoryTracker::default();
        let step = |f| if f < 1500 { 1e6 } else { 5e6 };
        let leaks = feed(&mut t, 3000, step, step);
        assert!(leaks.is_empty(), "{leaks:?}");
    }

    #[test]
    fn series_are_bounded_and_export_as_csv() {
        let mut t = MemoryTracker::default();
        feed(&mut t, SAMPLES_KEPT as u64 + 10, |_| 1.0, |_| 1.0);
        assert_eq!(t.series()[0].samples.len(), SAMPLES_KEPT);
        let csv = to_csv(t.series());
        assert!(
            csv.starts_with("frame,lua scripts/a.lua\n10,1\n"),
            "{}",
            &csv[..40]
        );
        assert!(t.series()[0].points(500).len() <= 501);
    }
}
