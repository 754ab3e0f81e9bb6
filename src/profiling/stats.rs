//! Per-script and per-system statistics, kept by the runtime: for every
//! system, event handler, coroutine (by name) and script load, its time
//! per frame over a sliding window of frames (calls, total, mean, p95,
//! max), and totals over the whole run.

use std::collections::{HashMap, VecDeque};

use serde::Serialize;

/// Frames in the statistics window (ten seconds at 60 fps).
pub const WINDOW_FRAMES: usize = 600;

/// Distinct entries kept; calls past this share one "other" entry per
/// script and kind (a project that names every coroutine differently).
const MAX_ENTRIES: usize = 2000;

/// What kind of script call an entry measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallKind {
    /// A script's top level (at load and reload).
    Load,
    /// A system.
    System,
    /// An event handler.
    Handler,
    /// A coroutine resume.
    Coroutine,
}

impl CallKind {
    /// A word for tables.
    pub fn name(self) -> &'static str {
        match self {
            CallKind::Load => "load",
            CallKind::System => "system",
            CallKind::Handler => "handler",
            CallKind::Coroutine => "coroutine",
        }
    }
}

#[derive(Debug)]
struct Entry {
    script: String,
    kind: CallKind,
    name: String,
    calls_now: u32,
    ns_now: u64,
    /// (calls, ns) per frame, the newest last.
    window: VecDeque<(u32, u64)>,
    run_calls: u64,
    run_ns: u64,
    run_max_frame_ns: u64,
}

/// The statistics of one runtime.
#[derive(Debug, Default)]
pub struct Stats {
    names: HashMap<(String, CallKind, String), usize>,
    entries: Vec<Entry>,
    frames: VecDeque<u64>,
    run_frames: u64,
    run_frame_ns: u64,
}

/// One row of the statistics table. Times are per frame unless named
/// otherwise, over the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatRow {
    /// Manifest path of the script.
    pub script: String,
    /// What was called; `None` for a script's total.
    pub kind: Option<CallKind>,
    /// The system, event, or coroutine name (empty for a script's total).
    pub name: String,
    /// Calls in the window.
    pub calls: u64,
    /// Time in the window, ms.
    pub total_ms: f64,
    /// Mean time per frame, ms.
    pub mean_ms: f64,
    /// 95th percentile of the time per frame, ms.
    pub p95_ms: f64,
    /// The worst frame, ms.
    pub max_ms: f64,
    /// Mean time per call, µs.
    pub per_call_us: f64,
    /// Share of the frame time in the window, 0..1.
    pub share: f64,
}

/// The statistics as tables.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StatsTable {
    /// Frames in the window.
    pub frames: usize,
    /// Frame time in the window: mean, p95 and max, ms.
    pub frame_mean_ms: f64,
    /// See `frame_mean_ms`.
    pub frame_p95_ms: f64,
    /// See `frame_mean_ms`.
    pub frame_max_ms: f64,
    /// Every system, handler, coroutine name and load with calls in the
    /// window, slowest (by total) first.
    pub rows: Vec<StatRow>,
    /// Per script, slowest first.
    pub scripts: Vec<StatRow>,
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

/// The p-th percentile (0..1) of some values, by nearest rank.
fn percentile(values: &mut [u64], p: f64) -> u64 {
    if values.is_empty() {
        return 0;
    }
    values.sort_unstable();
    let rank = ((values.len() as f64 * p).ceil() as usize).clamp(1, values.len());
    values[rank - 1]
}

impl Stats {
    /// The entry of a callee (created the first time), for [`Stats::add`].
    pub fn entry(&mut self, script: &str, kind: CallKind, name: &str) -> usize {
        let mut named = (script.to_string(), kind, name.to_string());
        if self.entries.len() >= MAX_ENTRIES && !self.names.contains_key(&named) {
            named.2 = "(others)".to_string();
        }
        if let Some(&i) = self.names.get(&named) {
            return i;
        }
        self.entries.push(Entry {
            script: named.0.clone(),
            kind,
            name: named.2.clone(),
            calls_now: 0,
            ns_now: 0,
            window: VecDeque::from(vec![(0, 0); self.frames.len()]),
            run_calls: 0,
            run_ns: 0,
            run_max_frame_ns: 0,
        });
        self.names.insert(named, self.entries.len() - 1);
        self.entries.len() - 1
    }

    /// Adds one call's time to an entry.
    pub fn add(&mut self, entry: usize, ns: u64) {
        if let Some(e) = self.entries.get_mut(entry) {
            e.calls_now += 1;
            e.ns_now += ns;
        }
    }

    /// Adds one call's time, finding its entry by name.
    pub fn record(&mut self, script: &str, kind: CallKind, name: &str, ns: u64) {
        let entry = self.entry(script, kind, name);
        self.add(entry, ns);
    }

    /// Closes a frame that took `frame_ns`.
    pub fn end_frame(&mut self, frame_ns: u64) {
        self.frames.push_back(frame_ns);
        let full = self.frames.len() > WINDOW_FRAMES;
        if full {
            self.frames.pop_front();
        }
        self.run_frames += 1;
        self.run_frame_ns += frame_ns;
        for e in &mut self.entries {
            e.window.push_back((e.calls_now, e.ns_now));
            if full {
                e.window.pop_front();
            }
            e.run_calls += u64::from(e.calls_now);
            e.run_ns += e.ns_now;
            e.run_max_frame_ns = e.run_max_frame_ns.max(e.ns_now);
            e.calls_now = 0;
            e.ns_now = 0;
        }
    }

    /// Forgets the numbers (entries stay, so their indices stay valid).
    pub fn clear(&mut self) {
        self.frames.clear();
        self.run_frames = 0;
        self.run_frame_ns = 0;
        for e in &mut self.entries {
            e.calls_now = 0;
            e.ns_now = 0;
            e.window.clear();
            e.run_calls = 0;
            e.run_ns = 0;
            e.run_max_frame_ns = 0;
        }
    }

    /// Frames closed since the start (or the last clear).
    pub fn frames_run(&self) -> u64 {
        self.run_frames
    }

    fn row(
        script: &str,
        kind: Option<CallKind>,
        name: &str,
        per_frame: &[(u32, u64)],
        window_ns: u64,
    ) -> StatRow {
        let calls: u64 = per_frame.iter().map(|f| u64::from(f.0)).sum();
        let total: u64 = per_frame.iter().map(|f| f.1).sum();
        let mut times: Vec<u64> = per_frame.iter().map(|f| f.1).collect();
        let max = times.iter().copied().max().unwrap_or(0);
        let p95 = percentile(&mut times, 0.95);
        let frames = per_frame.len().max(1) as f64;
        StatRow {
            script: script.to_string(),
            kind,
            name: name.to_string(),
            calls,
            total_ms: ms(total),
            mean_ms: ms(total) / frames,
            p95_ms: ms(p95),
            max_ms: ms(max),
            per_call_us: if calls > 0 {
                total as f64 / calls as f64 / 1e3
            } else {
                0.0
            },
            share: if window_ns > 0 {
                total as f64 / window_ns as f64
            } else {
                0.0
            },
        }
    }

    /// The window as tables.
    pub fn table(&self) -> StatsTable {
        let window_ns: u64 = self.frames.iter().sum();
        let mut frame_times: Vec<u64> = self.frames.iter().copied().collect();
        let frame_max = frame_times.iter().copied().max().unwrap_or(0);
        let frame_p95 = percentile(&mut frame_times, 0.95);
        let mut rows = Vec::new();
        let mut per_script: HashMap<&str, Vec<(u32, u64)>> = HashMap::new();
        for e in &self.entries {
            let per_frame: Vec<(u32, u64)> = e.window.iter().copied().collect();
            if per_frame.iter().all(|f| f.0 == 0) {
                continue;
            }
            let sums = per_script
                .entry(e.script.as_str())
                .or_insert_with(|| vec![(0, 0); per_frame.len()]);
            for (sum, f) in sums.iter_mut().zip(&per_frame) {
                sum.0 += f.0;
                sum.1 += f.1;
            }
            rows.push(Self::row(
                &e.script,
                Some(e.kind),
                &e.name,
                &per_frame,
                window_ns,
            ));
        }
        let mut scripts: Vec<StatRow> = per_script
            .iter()
            .map(|(script, per_frame)| Self::row(script, None, "", per_frame, window_ns))
            .collect();
        let slowest_first = |a: &StatRow, b: &StatRow| {
            b.total_ms
                .total_cmp(&a.total_ms)
                .then_with(|| a.script.cmp(&b.script))
                .then_with(|| a.name.cmp(&b.name))
        };
        rows.sort_by(slowest_first);
        scripts.sort_by(slowest_first);
        StatsTable {
            frames: self.frames.len(),
            frame_mean_ms: ms(window_ns) / self.frames.len().max(1) as f64,
            frame_p95_ms: ms(frame_p95),
            frame_max_ms: ms(frame_max),
            rows,
            scripts,
        }
    }

    /// Totals over the whole run, for the end of `ecscope run --events`:
    /// per entry, calls, total and the worst frame; the window's p95.
    pub fn run_summary(&self) -> serde_json::Value {
        let window = self.table();
        let p95_of = |script: &str, kind: CallKind, name: &str| {
            window
                .rows
                .iter()
                .find(|r| r.script == script && r.kind == Some(kind) && r.name == name)
                .map_or(0.0, |r| r.p95_ms)
        };
        let frames = self.run_frames.max(1) as f64;
        let mut entries: Vec<&Entry> = self.entries.iter().filter(|e| e.run_calls > 0).collect();
        entries.sort_by(|a, b| b.run_ns.cmp(&a.run_ns).then_with(|| a.name.cmp(&b.name)));
        let calls: Vec<serde_json::Value> = entries
            .iter()
            .map(|e| {
                serde_json::json!({
                    "script": e.script,
                    "kind": e.kind,
                    "name": e.name,
                    "calls": e.run_calls,
                    "total_ms": ms(e.run_ns),
                    "mean_ms": ms(e.run_ns) / frames,
                    "per_call_us": e.run_ns as f64 / e.run_calls.max(1) as f64 / 1e3,
                    "p95_ms": p95_of(&e.script, e.kind, &e.name),
                    "max_ms": ms(e.run_max_frame_ns),
                })
            })
            .collect();
        let mut scripts: HashMap<&str, (u64, u64)> = HashMap::new();
        for e in &entries {
            let s = scripts.entry(e.script.as_str()).or_default();
            s.0 += e.run_calls;
            s.1 += e.run_ns;
        }
        let mut scripts: Vec<(&str, (u64, u64))> = scripts.into_iter().collect();
        scripts.sort_by(|a, b| b.1.1.cmp(&a.1.1).then_with(|| a.0.cmp(b.0)));
        let scripts: Vec<serde_json::Value> = scripts
            .into_iter()
            .map(|(script, (calls, ns))| {
                let p95 = window
                    .scripts
                    .iter()
                    .find(|r| r.script == script)
                    .map_or(0.0, |r| r.p95_ms);
                serde_json::json!({
                    "script": script,
                    "calls": calls,
                    "total_ms": ms(ns),
                    "mean_ms": ms(ns) / frames,
                    "p95_ms": p95,
                    "share": if self.run_frame_ns > 0 { ns as f64 / self.run_frame_ns as f64 } else { 0.0 },
                })
            })
            .collect();
        serde_json::json!({
            "frames": self.run_frames,
            "window_frames": window.frames,
            "frame_mean_ms": ms(self.run_frame_ns) / frames,
            "frame_p95_ms": window.frame_p95_ms,
            "frame_max_ms": window.frame_max_ms,
            "scripts": scripts,
            "calls": calls,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_frame_numbers_and_script_totals() {
        let mut stats = Stats::default();
        for frame in 0..100u64 {
            // 1 ms every frame, and a 10 ms spike in frame 50.
            let ns = if frame == 50 { 10_000_000 } else { 1_000_000 };
            stats.record("scripts/a.lua", CallKind::System, "move", ns);
            stats.record("scripts/a.lua", CallKind::Handler, "on hit", 500_000);
            stats.end_frame(2_000_000);
        }
        let t = stats.table();
        assert_eq!(t.frames, 100);
        let moving = &t.rows[0];
        assert_eq!((moving.name.as_str(), moving.calls), ("move", 100));
        assert!((moving.mean_ms - 1.09).abs() < 1e-9, "{}", moving.mean_ms);
        assert_eq!(moving.p95_ms, 1.0);
        assert_eq!(moving.max_ms, 10.0);
        assert_eq!(t.scripts.len(), 1);
        assert!((t.scripts[0].total_ms - 159.0).abs() < 1e-9);
        assert_eq!(stats.run_summary()["calls"][0]["calls"], 100);
    }

    #[test]
    fn the_window_slides() {
        let mut stats = Stats::default();
        stats.record("scripts/a.lua", CallKind::System, "move", 5);
        stats.end_frame(10);
        for _ in 0..WINDOW_FRAMES {
            stats.record("scripts/a.lua", CallKind::System, "move", 1);
            stats.end_frame(10);
        }
        let t = stats.table();
        assert_eq!(t.rows.len(), 1);
        assert_eq!(
            t.rows[0].calls, WINDOW_FRAMES as u64,
            "the first frame slid out"
        );
        assert_eq!(
            stats.run_summary()["calls"][0]["calls"],
            WINDOW_FRAMES as u64 + 1
        );
    }
}
