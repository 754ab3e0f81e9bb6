//! Moments worth seeing on a time line (a reload, a rollback, an error, a
//! leak, a stop at a breakpoint), and the counters' values at each frame's
//! end (memory, entity counts), on the profiler's clock. The runtime marks
//! an event at the end of the frame that reported it (as a headless trace
//! places it) and a stop as it begins, and keeps the latest beside its
//! frames, so that a trace of the Profiler's frames shows them as instants.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use serde_json::Value;

/// How many markers are kept: far more than the frames kept ever hold in a
/// real session, and a runaway error loop cannot grow them without end.
pub const MARKERS_KEPT: usize = 4096;

/// One moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    /// When, in nanoseconds on puffin's clock.
    pub ns: i64,
    /// What happened, in words.
    pub name: String,
    /// `error`, `reload`, `rollback`, `leak` or `stop`.
    pub category: &'static str,
    /// The details, as JSON (the event, or the stop's place and reason).
    pub args: Value,
}

/// Counter values at one moment: a track (`memory (bytes)`, `entities`)
/// and its series' values.
#[derive(Debug, Clone, PartialEq)]
pub struct CounterSample {
    /// When, in nanoseconds on puffin's clock.
    pub ns: i64,
    /// The track's name.
    pub track: String,
    /// Each series on the track and its value.
    pub values: Vec<(String, f64)>,
}

/// The markers and counter values kept, oldest first, shared with whoever
/// reads the frames.
#[derive(Debug, Clone, Default)]
pub struct Markers {
    marks: Arc<Mutex<VecDeque<Marker>>>,
    counters: Arc<Mutex<VecDeque<CounterSample>>>,
}

/// Keeps `item` in `list`, forgetting the oldest beyond [`MARKERS_KEPT`].
fn keep<T>(list: &Mutex<VecDeque<T>>, item: T) {
    if let Ok(mut list) = list.lock() {
        if list.len() >= MARKERS_KEPT {
            list.pop_front();
        }
        list.push_back(item);
    }
}

/// The items of `list` whose time `ns` gives is within `from..=to`.
fn between<T: Clone>(list: &Mutex<VecDeque<T>>, from: i64, to: i64, ns: fn(&T) -> i64) -> Vec<T> {
    list.lock().map_or_else(
        |_| Vec::new(),
        |list| {
            list.iter()
                .filter(|item| (from..=to).contains(&ns(item)))
                .cloned()
                .collect()
        },
    )
}

impl Markers {
    /// Keeps `marker`, forgetting the oldest beyond [`MARKERS_KEPT`].
    pub fn push(&self, marker: Marker) {
        keep(&self.marks, marker);
    }

    /// Keeps a track's values, forgetting the oldest beyond
    /// [`MARKERS_KEPT`].
    pub fn push_counter(&self, counter: CounterSample) {
        keep(&self.counters, counter);
    }

    /// The markers between `from_ns` and `to_ns` (inclusive), oldest first.
    pub fn between(&self, from_ns: i64, to_ns: i64) -> Vec<Marker> {
        between(&self.marks, from_ns, to_ns, |m| m.ns)
    }

    /// The counter values between `from_ns` and `to_ns` (inclusive),
    /// oldest first.
    pub fn counters_between(&self, from_ns: i64, to_ns: i64) -> Vec<CounterSample> {
        between(&self.counters, from_ns, to_ns, |c| c.ns)
    }

    /// Forgets them all (with the frames, when the profile is cleared).
    pub fn clear(&self) {
        if let Ok(mut list) = self.marks.lock() {
            list.clear();
        }
        if let Ok(mut list) = self.counters.lock() {
            list.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marker(ns: i64) -> Marker {
        Marker {
            ns,
            name: format!("at {ns}"),
            category: "stop",
            args: Value::Null,
        }
    }

    #[test]
    fn the_oldest_go_first_and_a_range_picks_its_own() {
        let markers = Markers::default();
        for ns in 0..(MARKERS_KEPT as i64 + 10) {
            markers.push(marker(ns));
        }
        let all = markers.between(i64::MIN, i64::MAX);
        assert_eq!(all.len(), MARKERS_KEPT);
        assert_eq!(all[0].ns, 10);
        let some = markers.between(20, 22);
        assert_eq!(some.iter().map(|m| m.ns).collect::<Vec<_>>(), [20, 21, 22]);
        markers.push_counter(CounterSample {
            ns: 21,
            track: "entities".into(),
            values: vec![("entities".into(), 3.0)],
        });
        assert_eq!(markers.counters_between(0, 30).len(), 1);
        assert!(markers.counters_between(22, 30).is_empty());
        markers.clear();
        assert!(markers.between(i64::MIN, i64::MAX).is_empty());
        assert!(markers.counters_between(i64::MIN, i64::MAX).is_empty());
    }
}
