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

/// Sampled script stacks counted up to a moment: per folded stack, its
/// count, and the frames they were taken over. Later counts less these are
/// what was sampled since.
#[derive(Debug, Clone, Default)]
pub struct SampleCounts {
    /// Count per folded stack (`root;frame;frame`).
    pub stacks: BTreeMap<String, u64>,
    /// Frames the counts were taken over.
    pub frames: u64,
}

impl SampleCounts {
    /// `folded` taken over `frames` frames.
    pub fn of(folded: &[(String, u64)], frames: u64) -> SampleCounts {
        let mut stacks = BTreeMap::new();
        // A file may name a stack twice (two runs' stacks put together).
        for (stack, n) in folded {
            *stacks.entry(stack.clone()).or_default() += n;
        }
        SampleCounts { stacks, frames }
    }

    /// What was sampled after `earlier`.
    pub fn since(&self, earlier: &SampleCounts) -> SampleCounts {
        SampleCounts {
            stacks: self
                .stacks
                .iter()
                .map(|(stack, &n)| {
                    let then = earlier.stacks.get(stack).copied().unwrap_or(0);
                    (stack.clone(), n.saturating_sub(then))
                })
                .filter(|(_, n)| *n > 0)
                .collect(),
            frames: self.frames.saturating_sub(earlier.frames),
        }
    }

    /// These counts without the samples taken in `script`'s calls: what
    /// remains of them once the runtime forgets that script's samples (it
    /// does on a reload, since its lines changed).
    pub fn without_script(&self, script: &str) -> SampleCounts {
        let root = format!("{script}:");
        SampleCounts {
            stacks: self
                .stacks
                .iter()
                .filter(|(stack, _)| !stack.starts_with(&root))
                .map(|(s, n)| (s.clone(), *n))
                .collect(),
            frames: self.frames,
        }
    }

    /// Each sampled function's self time per frame (`flock.lua:neighbours`:
    /// the samples whose innermost frame ran in it).
    ///
    /// The samples say how a call's time divides among its functions; the
    /// call's own scope in `scopes` says how long it took. So a function's
    /// time is its share of each call's samples times that call's mean ms
    /// per frame, which holds whatever rate the sampler reached on a busy
    /// machine. A call without a scope there is counted at `hz` samples a
    /// second, or left out without `hz`. A count of `n` samples is
    /// uncertain by about √n, which sets the error.
    pub fn functions(
        &self,
        hz: Option<u32>,
        scopes: &BTreeMap<String, Measure>,
    ) -> BTreeMap<String, Measure> {
        // Per call (the stack's root): samples in all, and per function.
        let mut calls: BTreeMap<&str, (u64, BTreeMap<String, u64>)> = BTreeMap::new();
        for (stack, n) in &self.stacks {
            let mut frames = stack.split(';');
            let root = frames.next().unwrap_or_default();
            let call = calls.entry(root).or_default();
            call.0 += n;
            let Some(innermost) = frames.next_back() else {
                continue;
            };
            let frame = super::samples::parse_frame(innermost);
            // Not a script line (a stack cut short, a C function): its
            // time stays in the call's share, as the Functions view has it.
            if frame.line.is_none() {
                continue;
            }
            *call
                .1
                .entry(super::profiler::scope_label(frame.file, frame.function))
                .or_default() += n;
        }
        let per_sample_ms = hz.map(|hz| 1000.0 / f64::from(hz.max(1)) / self.frames.max(1) as f64);
        let mut functions: BTreeMap<String, (f64, u64)> = BTreeMap::new();
        for (root, (total, counts)) in calls {
            let ms_per_sample = match (call_scope(root, scopes), per_sample_ms) {
                (Some(call), _) => call.mean_ms / total.max(1) as f64,
                (None, Some(ms)) => ms,
                (None, None) => continue,
            };
            for (name, n) in counts {
                let entry = functions.entry(name).or_default();
                entry.0 += n as f64 * ms_per_sample;
                entry.1 += n;
            }
        }
        functions
            .into_iter()
            .map(|(name, (ms, n))| {
                let measure = Measure {
                    frames: self.frames as usize,
                    mean_ms: ms,
                    error_ms: ms / (n.max(1) as f64).sqrt(),
                };
                (name, measure)
            })
            .collect()
    }
}

/// The scope of the call a sampled stack's root names (`scripts/a.lua:ai`
/// is `a.lua:ai`, or `a.lua:coroutine ai`).
fn call_scope(root: &str, scopes: &BTreeMap<String, Measure>) -> Option<Measure> {
    let (path, name) = root.split_once(':')?;
    let label = super::profiler::scope_label;
    scopes
        .get(&label(path, name))
        .or_else(|| scopes.get(&label(path, &format!("coroutine {name}"))))
        .copied()
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
    table_of(changes, "scope")
}

/// The comparison as a text table whose first column is headed `what`
/// (`scope`, `function`).
pub fn table_of(changes: &[Change], what: &str) -> String {
    let width = changes
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(5)
        .max(what.len());
    let mut out = format!(
        "{:<width$}  {:>10}  {:>10}  {:>10}  {:>7}  verdict\n",
        what, "before ms", "after ms", "change ms", "ratio"
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

    #[test]
    fn sampled_functions_are_compared_per_frame_since_a_pin() {
        let stacks = |pairs: &[(&str, u64)], frames| SampleCounts {
            stacks: pairs.iter().map(|(s, n)| (s.to_string(), *n)).collect(),
            frames,
        };
        // 400 samples of `near` in 100 frames at 1,000 a second: 4 ms a frame.
        let pin = stacks(
            &[
                ("scripts/f.lua:steer;scripts/f.lua:near:9", 400),
                ("scripts/f.lua:steer;scripts/f.lua:steer:3", 100),
                ("scripts/g.py:think;scripts/g.py:think:2", 50),
            ],
            100,
        );
        // Then f.lua was reloaded (its stacks counted from zero), and 100
        // more frames ran: `near` is down to 1 ms a frame.
        let now = stacks(
            &[
                ("scripts/f.lua:steer;scripts/f.lua:near:9", 100),
                ("scripts/f.lua:steer;scripts/f.lua:steer:3", 100),
                ("scripts/g.py:think;scripts/g.py:think:2", 100),
            ],
            200,
        );
        // Without the calls' scopes, at the sampler's nominal rate.
        let none = BTreeMap::new();
        let before = pin.functions(Some(1000), &none);
        let after = now
            .since(&pin.without_script("scripts/f.lua"))
            .functions(Some(1000), &none);
        assert!((before["f.lua:near"].mean_ms - 4.0).abs() < 1e-9);
        assert!((after["f.lua:near"].mean_ms - 1.0).abs() < 1e-9);
        assert!((after["g.py:think"].mean_ms - 0.5).abs() < 1e-9);
        let changes = compare(&before, &after);
        let of = |n: &str| changes.iter().find(|c| c.name == n).unwrap().verdict();
        assert_eq!(of("f.lua:near"), "4.00× faster");
        assert_eq!(of("f.lua:steer"), "within the noise");
        assert_eq!(of("g.py:think"), "within the noise");
        // With them, each call's measured time divides as its samples do
        // (a sampler that reached half its rate changes nothing).
        let scopes = BTreeMap::from([("f.lua:steer".to_string(), m(10.0, 0.1))]);
        let shared = pin.functions(Some(1000), &scopes);
        assert!((shared["f.lua:near"].mean_ms - 8.0).abs() < 1e-9);
        assert!((shared["f.lua:steer"].mean_ms - 2.0).abs() < 1e-9);
        assert!((shared["g.py:think"].mean_ms - 0.5).abs() < 1e-9);
        // Without a rate, a call with no scope is left out.
        let only_measured = pin.functions(None, &scopes);
        assert!(only_measured.contains_key("f.lua:near"));
        assert!(!only_measured.contains_key("g.py:think"));
    }
}
