//! What the profiler and the memory view measure, around the runtime's
//! calls into scripts: a puffin scope and the time of each call (for the
//! statistics), the growth of a shared heap put down to the calling
//! script, and the memory samples taken once a frame.

use super::{EventKind, Runtime};
use crate::profiling::CallKind;
use crate::profiling::memory::{LEAK_WINDOW, Sample, SeriesKind};
use crate::profiling::profiler::CallToken;
use crate::scripting::HuntStep;

/// Frames a leak hunt watches what grew before it answers.
const HUNT_WATCH: u64 = 60;

/// A leak hunt under way for one script.
pub(crate) struct Hunt {
    /// The frame the current step began.
    since: u64,
    /// Watching (after the second census).
    watching: bool,
}

/// A cheap key for a name (FNV-1a), for callees known by name.
pub(crate) fn name_key(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Runtime {
    /// Starts measuring a call into script `index`: `key` identifies the
    /// callee (a handle, or a name's [`name_key`]); `name` names it the
    /// first time.
    pub(crate) fn measure_start(
        &mut self,
        index: usize,
        kind: CallKind,
        key: u64,
        name: impl FnOnce() -> String,
    ) -> Option<CallToken> {
        let slot = &self.scripts[index];
        let path = &slot.entry.path;
        if crate::profiling::samples::active() {
            // The sampled stacks' root: what runs now.
            let name = name();
            let reader = slot.backend().map(|b| b.stack_reader()).unwrap_or_default();
            crate::profiling::samples::set_root(format!("{path}:{name}"), reader);
            return self
                .profiler
                .begin_call((slot.id.0, kind, key), || (path.clone(), name));
        }
        self.profiler
            .begin_call((slot.id.0, kind, key), || (path.clone(), name()))
    }

    /// Ends a measured call.
    pub(crate) fn measure_end(&mut self, token: Option<CallToken>) {
        if let Some(token) = token {
            self.profiler.end_call(token);
        }
        if crate::profiling::samples::active() {
            crate::profiling::samples::set_root(String::new(), Default::default());
        }
    }

    /// The memory series' name for a script's heap.
    pub(crate) fn heap_series(&self, index: usize) -> String {
        let slot = &self.scripts[index];
        format!("{} {}", slot.entry.language.name(), slot.entry.path)
    }

    /// Samples memory after a frame and looks for leaks.
    pub(crate) fn sample_memory(&mut self) {
        if !self.memory_on {
            return;
        }
        let _scope = self.profiler.scope(|| "memory".to_string());
        let frame = self.host.borrow().frame();
        let (rust_total, rust_blocks) = crate::profiling::alloc::live();
        // Python scripts share one heap: each is measured by what its
        // module and `ecs.persist` reach, a walk done every few seconds.
        let walk_shared = frame % LEAK_WINDOW as u64 == 0;
        let mut samples = Vec::new();
        let mut lua_total = 0usize;
        for index in 0..self.scripts.len() {
            let name = self.heap_series(index);
            let Some(backend) = self.backend_mut(index) else {
                continue;
            };
            let (value, settled) = match backend.memory_bytes() {
                Some(own) => {
                    lua_total += own;
                    (Some(own), false)
                }
                None if walk_shared => (backend.settled_memory_bytes(), true),
                None => (None, true),
            };
            if let Some(value) = value {
                samples.push(Sample {
                    name,
                    kind: SeriesKind::Bytes,
                    script: Some(self.scripts[index].entry.path.clone()),
                    value: value as f64,
                    watched: true,
                    settled,
                });
            }
        }
        let mut totals = vec![(
            "rust".to_string(),
            SeriesKind::Bytes,
            rust_total.saturating_sub(lua_total) as f64,
        )];
        #[cfg(feature = "python")]
        if let Some(python) = crate::scripting::python::python_heap_bytes() {
            totals.push(("python".to_string(), SeriesKind::Bytes, python as f64));
        }
        {
            let host = self.host.borrow();
            totals.push(("rust_blocks".into(), SeriesKind::Count, rust_blocks as f64));
            totals.push((
                "entities".into(),
                SeriesKind::Count,
                host.world.len() as f64,
            ));
            totals.push((
                "components".into(),
                SeriesKind::Count,
                host.world.component_count() as f64,
            ));
        }
        for (name, kind, value) in totals {
            samples.push(Sample {
                name,
                kind,
                script: None,
                value,
                watched: false,
                settled: false,
            });
        }
        let due = self.memory.sample(frame, samples);
        for name in due {
            let Some(index) = (0..self.scripts.len()).find(|&i| self.heap_series(i) == name) else {
                continue;
            };
            let presettled = self
                .memory
                .series()
                .iter()
                .any(|s| s.name == name && s.settled_samples);
            let settled = if presettled {
                self.memory.current(&name)
            } else {
                self.backend_mut(index)
                    .and_then(|b| b.settled_memory_bytes())
                    .map(|b| b as f64)
            };
            let Some(settled) = settled else { continue };
            if let Some(leak) = self.memory.settled(&name, frame, settled) {
                self.host.borrow_mut().push_event(EventKind::LeakSuspected {
                    script: leak.script,
                    growth_bytes: leak.growth_bytes,
                    window_frames: leak.window_frames,
                });
            }
            // A flagged leak: look for what grows. Only once flagged: the
            // hunt's census lives in the script's heap for a window, and
            // must not be what makes a heap look leaky.
            let path = self.scripts[index].entry.path.clone();
            let located = self.leak_sites.contains_key(&path);
            let flagged = self.memory.unlocated(&path);
            if flagged && !located && !self.hunts.contains_key(&index) {
                if let Some(backend) = self.backend_mut(index) {
                    backend.hunt_leak(HuntStep::Start);
                }
                self.hunts.insert(
                    index,
                    Hunt {
                        since: frame,
                        watching: false,
                    },
                );
            }
        }
        self.go_on_hunting(frame);
        self.report_leak_sites();
    }

    /// Moves each leak hunt on: the second census a window after the
    /// first, the answer a moment of watching later.
    fn go_on_hunting(&mut self, frame: u64) {
        let due: Vec<(usize, bool)> = self
            .hunts
            .iter()
            .filter(|(_, h)| {
                let wait = if h.watching {
                    HUNT_WATCH
                } else {
                    LEAK_WINDOW as u64
                };
                frame >= h.since + wait
            })
            .map(|(&i, h)| (i, h.watching))
            .collect();
        for (index, watching) in due {
            let Some(backend) = self.backend_mut(index) else {
                self.hunts.remove(&index);
                continue;
            };
            if watching {
                let site = backend.hunt_leak(HuntStep::Finish);
                self.hunts.remove(&index);
                if let Some(site) = site {
                    self.leak_sites
                        .insert(self.scripts[index].entry.path.clone(), site);
                }
            } else {
                backend.hunt_leak(HuntStep::Watch);
                self.hunts.insert(
                    index,
                    Hunt {
                        since: frame,
                        watching: true,
                    },
                );
            }
        }
    }

    /// Gives flagged leaks their sites, once both are known, and says so.
    fn report_leak_sites(&mut self) {
        let sites: Vec<(String, crate::profiling::memory::LeakSite)> = self
            .leak_sites
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (script, site) in sites {
            if self.memory.locate(&script, &site) {
                self.host.borrow_mut().push_event(EventKind::LeakLocated {
                    script,
                    path: site.path,
                    container: site.kind,
                    containers: site.containers,
                    growth: site.growth,
                    line: site.line,
                });
            }
        }
    }

    /// Ends a script's leak hunt (before its state goes: a reload).
    pub(crate) fn end_hunt(&mut self, index: usize) {
        if self.hunts.remove(&index).is_some()
            && let Some(backend) = self.backend_mut(index)
        {
            backend.hunt_leak(HuntStep::Finish);
        }
    }
}

/// The marker of an event worth seeing on a time line (an error, a reload,
/// a rollback, a leak), stamped now; `None` for the others.
pub fn marker_of(event: &super::RuntimeEvent) -> Option<crate::profiling::markers::Marker> {
    let category = match &event.kind {
        EventKind::ScriptError(_) => "error",
        EventKind::Reloaded { .. } => "reload",
        EventKind::RolledBack { .. } => "rollback",
        EventKind::LeakSuspected { .. } | EventKind::LeakLocated { .. } => "leak",
        _ => return None,
    };
    Some(crate::profiling::markers::Marker {
        ns: puffin::now_ns(),
        name: event.describe(),
        category,
        args: serde_json::to_value(event).unwrap_or_default(),
    })
}

/// The marker of a stop at a line (a breakpoint, a step, an error...),
/// stamped now.
pub fn stop_marker(
    info: &crate::scripting::debugger::BreakInfo,
) -> crate::profiling::markers::Marker {
    crate::profiling::markers::Marker {
        ns: puffin::now_ns(),
        name: format!("stopped ({}) at {}:{}", info.reason, info.file, info.line),
        category: "stop",
        args: serde_json::json!({
            "reason": info.reason,
            "file": info.file,
            "line": info.line,
            "context": info.context,
            "message": info.message,
        }),
    }
}

impl Runtime {
    /// The counter tracks now, for a trace: each entity and component
    /// count on a track of its own, and the heaps together on
    /// `memory (bytes)` (every Lua script's heap as `lua scripts`).
    pub fn counters_now(&self) -> Vec<(String, Vec<(String, f64)>)> {
        use crate::profiling::memory::SeriesKind;
        let mut tracks = Vec::new();
        let mut heaps = Vec::new();
        let mut lua = 0.0;
        for series in self.memory_series_now() {
            match (series.script, series.kind) {
                (Some(_), _) => lua += series.value,
                (None, SeriesKind::Count) => {
                    tracks.push((series.name.clone(), vec![(series.name, series.value)]));
                }
                (None, SeriesKind::Bytes) => heaps.push((series.name, series.value)),
            }
        }
        if lua > 0.0 {
            heaps.push(("lua scripts".to_string(), lua));
        }
        if !heaps.is_empty() {
            tracks.push(("memory (bytes)".to_string(), heaps));
        }
        tracks
    }

    /// Keeps the counters' values at the frame's end beside the frames,
    /// for the window's trace export: only where it keeps the sampled
    /// times too ([`Runtime::keep_sample_times`]), since nothing else
    /// reads them and a headless trace takes its own.
    pub(crate) fn mark_counters(&self) {
        if !self.profiler.is_on() || self.sample_times().is_none() {
            return;
        }
        let markers = self.profiler.markers();
        let ns = puffin::now_ns();
        for (track, values) in self.counters_now() {
            markers.push_counter(crate::profiling::markers::CounterSample { ns, track, values });
        }
    }

    /// The moments marked beside the profiler's frames.
    pub fn profile_markers(&self) -> crate::profiling::markers::Markers {
        self.profiler.markers()
    }

    /// Marks the events reported since the last mark that are worth
    /// seeing on a time line (errors, reloads, rollbacks, leaks), now.
    pub(crate) fn mark_events(&self) {
        let markers = self.profiler.markers();
        let mut host = self.host.borrow_mut();
        host.newly_reported()
            .iter()
            .filter_map(marker_of)
            .for_each(|m| markers.push(m));
    }
}
