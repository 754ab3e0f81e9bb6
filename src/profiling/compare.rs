//! Before and after: two captures' per-scope times compared, with whether
//! each change is beyond the frame-to-frame noise. `ecscope compare` prints
//! it; the Profiler shows it against a pinned capture.

use std::collections::BTreeMap;

use puffin::FrameView;
use serde::Serialize;

/// One scope's time per frame in one capture.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Measure {
    /// Frames in the capture.
    pub frames: usize,
    /// Mean ms per frame (frames where it did not run count as 0).
    pub mean_ms: f64,
    /// Standard error of that mean, ms.
    pub error_ms: f64,
}

/// Each scope's time per frame over a capture, by scope name (`frame`,
/// the phases, `script:system` and the others the profiler records).
pub fn measures(view: &FrameView) -> BTreeMap<String, Measure> {
    measures_where(view, |_| true)
}

/// As [`measures`], over the frames whose index `keep` keeps.
pub fn measures_where(view: &FrameView, keep: impl Fn(u64) -> bool) -> BTreeMap<String, Measure> {
    let mut sums = Accumulator::default();
    sums.add(view, keep);
    sums.measures()
}

/// Each scope's time summed over frames, taken in as they are recorded,
/// so that a comparison with a growing capture never reads a frame twice.
#[derive(Debug, Clone, Default)]
pub struct Accumulator {
    frames: usize,
    /// Per scope: the sum of its ms per frame, and of their squares.
    sums: BTreeMap<String, (f64, f64)>,
    /// The last frame taken in.
    last: Option<u64>,
}

impl Accumulator {
    /// Takes in the frames of `view` after the last one taken that `keep`
    /// keeps.
    pub fn add(&mut self, view: &FrameView, keep: impl Fn(u64) -> bool) {
        let collection = view.scope_collection();
        for frame in view.recent_frames() {
            let index = frame.meta().frame_index;
            if self.last.is_some_and(|l| index <= l) || !keep(index) {
                continue;
            }
            let Ok(unpacked) = frame.unpacked() else {
                continue;
            };
            let mut times: BTreeMap<String, f64> = BTreeMap::new();
            for stream in unpacked.thread_streams.values() {
                add_scopes(&stream.stream, 0, collection, &mut times);
            }
            for (name, ms) in times {
                let sum = self.sums.entry(name).or_default();
                sum.0 += ms;
                sum.1 += ms * ms;
            }
            self.frames += 1;
            self.last = Some(index);
        }
    }

    /// Mean and standard error per scope (a frame a scope did not run in
    /// counts as 0 ms).
    pub fn measures(&self) -> BTreeMap<String, Measure> {
        let n = self.frames.max(1) as f64;
        self.sums
            .iter()
            .map(|(name, &(sum, squares))| {
                let mean = sum / n;
                let variance = if self.frames > 1 {
                    ((squares - n * mean * mean) / (n - 1.0)).max(0.0)
                } else {
                    0.0
                };
                let measure = Measure {
                    frames: self.frames,
                    mean_ms: mean,
                    error_ms: (variance / n).sqrt(),
                };
                (name.clone(), measure)
            })
            .collect()
    }
}

fn add_scopes(
    stream: &puffin::Stream,
    offset: u64,
    collection: &puffin::ScopeCollection,
    times: &mut BTreeMap<String, f64>,
) {
    let Ok(reader) = puffin::Reader::with_offset(stream, offset) else {
        return;
    };
    let Ok(scopes) = reader.read_top_scopes() else {
        return;
    };
    for scope in scopes {
        let name = collection
            .fetch_by_id(&scope.id)
            .map_or_else(|| format!("scope {}", scope.id.0), |d| d.name().to_string());
        *times.entry(name).or_default() += scope.record.duration_ns as f64 / 1e6;
        if scope.child_begin_position < scope.child_end_position {
            add_scopes(stream, scope.child_begin_position, collection, times);
        }
    }
}

/// Changes smaller than this (5 µs per frame) are never called slower or
/// faster: at that size, timer resolution and cache effects dominate.
pub const MIN_CHANGE_MS: f64 = 0.005;

/// How one scope changed between two captures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// The scope's name.
    pub name: String,
    /// Before, if it ran then.
    pub before: Option<Measure>,
    /// After, if it runs now.
    pub after: Option<Measure>,
    /// after ÷ before (of the means).
    pub ratio: Option<f64>,
    /// after − before, ms per frame.
    pub change_ms: f64,
    /// Whether the change is larger than the noise: more than twice the
    /// combined standard error of the two means, more than 2%, and at
    /// least [`MIN_CHANGE_MS`].
    pub significant: bool,
}

impl Change {
    /// `steer: 2.3× faster`, `steer: 1.4× slower`, `steer: within the
    /// noise`, `steer: new`, `steer: gone`.
    pub fn verdict(&self) -> String {
        match (self.before, self.after, self.ratio) {
            (None, Some(_), _) => "new".into(),
            (Some(_), None, _) => "gone".into(),
            (_, _, Some(ratio)) if self.significant && ratio < 1.0 && ratio > 0.0 => {
                format!("{:.2}× faster", 1.0 / ratio)
            }
            (_, _, Some(ratio)) if self.significant && ratio > 1.0 => {
                format!("{ratio:.2}× slower")
            }
            _ => "within the noise".into(),
        }
    }
}

/// Every scope of either capture compared, the largest change first.
pub fn compare(
    before: &BTreeMap<String, Measure>,
    after: &BTreeMap<String, Measure>,
) -> Vec<Change> {
    let mut names: Vec<&String> = before.keys().chain(after.keys()).collect();
    names.sort();
    names.dedup();
    let mut changes: Vec<Change> = names
        .into_iter()
        .map(|name| {
            let (b, a) = (before.get(name).copied(), after.get(name).copied());
            let (mb, ma) = (b.map_or(0.0, |m| m.mean_ms), a.map_or(0.0, |m| m.mean_ms));
            let noise = (b.map_or(0.0, |m| m.error_ms).powi(2)
                + a.map_or(0.0, |m| m.error_ms).powi(2))
            .sqrt();
            let change = ma - mb;
            Change {
                name: name.clone(),
                before: b,
                after: a,
                ratio: (mb > 0.0 && a.is_some()).then(|| ma / mb),
                change_ms: change,
                significant: (b.is_some() != a.is_some() && change.abs() >= MIN_CHANGE_MS)
                    || (change.abs() > 2.0 * noise
                        && change.abs() > 0.02 * mb.max(ma)
                        && change.abs() >= MIN_CHANGE_MS),
            }
        })
        .collect();
    changes.sort_by(|x, y| {
        y.change_ms
            .abs()
            .total_cmp(&x.change_ms.abs())
            .then_with(|| x.name.cmp(&y.name))
    });
    changes
}

/// Whether two captures look like runs of different projects: none of
/// their scripts' scopes in common.
pub fn different_projects(
    before: &BTreeMap<String, Measure>,
    after: &BTreeMap<String, Measure>,
) -> bool {
    let scripts = |m: &BTreeMap<String, Measure>| -> Vec<String> {
        m.keys()
            .filter(|n| n.contains(".lua:") || n.contains(".py:"))
            .cloned()
            .collect()
    };
    let (b, a) = (scripts(before), scripts(after));
    !b.is_empty() && !a.is_empty() && !b.iter().any(|n| a.contains(n))
}

/// The comparison as a text table.
pub fn table(changes: &[Change]) -> String {
    let width = changes
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let mut out = format!(
        "{:<width$}  {:>10}  {:>10}  {:>10}  {:>7}  verdict\n",
        "scope", "before ms", "after ms", "change ms", "ratio"
    );
    let ms = |m: Option<Measure>| m.map_or("-".to_string(), |m| format!("{:.3}", m.mean_ms));
    for c in changes {
        out.push_str(&format!(
            "{:<width$}  {:>10}  {:>10}  {:>+10.3}  {:>7}  {}\n",
            c.name,
            ms(c.before),
            ms(c.after),
            c.change_ms,
            c.ratio.map_or("-".to_string(), |r| format!("{r:.2}")),
            c.verdict()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(mean_ms: f64, error_ms: f64) -> Measure {
        Measure {
            frames: 100,
            mean_ms,
            error_ms,
        }
    }

    #[test]
    fn a_change_beyond_the_noise_is_named_and_one_within_it_is_not() {
        let before = BTreeMap::from([
            ("a.lua:steer".to_string(), m(2.3, 0.02)),
            ("a.lua:move".to_string(), m(1.0, 0.05)),
            ("a.lua:old".to_string(), m(0.5, 0.01)),
        ]);
        let after = BTreeMap::from([
            ("a.lua:steer".to_string(), m(1.0, 0.02)),
            ("a.lua:move".to_string(), m(1.05, 0.05)),
            ("a.lua:new".to_string(), m(0.2, 0.01)),
        ]);
        let changes = compare(&before, &after);
        let of = |n: &str| changes.iter().find(|c| c.name == n).unwrap().verdict();
        assert_eq!(of("a.lua:steer"), "2.30× faster");
        assert_eq!(of("a.lua:move"), "within the noise");
        assert_eq!(of("a.lua:old"), "gone");
        assert_eq!(of("a.lua:new"), "new");
        assert_eq!(changes[0].name, "a.lua:steer", "the largest change first");
        assert!(!different_projects(&before, &after));
        let other = BTreeMap::from([("b.py:think".to_string(), m(1.0, 0.1))]);
        assert!(different_projects(&before, &other));
    }
}
