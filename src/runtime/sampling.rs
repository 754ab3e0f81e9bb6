//! Sampling the scripts' stacks while the profiler records (or while a
//! headless run writes `--samples`), at `[profiling] sample_hz`, changeable
//! at run time. The samples gather here until the profile is cleared.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use super::Runtime;
use crate::profiling::samples::{self, SampleSummary};

/// Timed samples kept for the window's trace export, oldest first.
pub type SampleTimes = Arc<Mutex<VecDeque<samples::TimedSample>>>;

/// About how many timed samples are kept: 30 s at the default rate, more
/// than the frames the Profiler keeps cover.
pub const KEPT_SAMPLE_TIMES: usize = 30_000;

/// The sampler's settings and what it has counted.
#[derive(Default)]
pub(crate) struct Sampling {
    /// Samples a second while sampling; 0 = off.
    pub(crate) hz: u32,
    /// The rate the sampler runs at now (0: not running).
    running: u32,
    /// Sample even while the profiler does not record (`--samples`).
    always: bool,
    /// Keep each sample's time (`--trace`, the window's trace export).
    timed: bool,
    /// Where the latest timed samples are kept, for the window's export.
    kept: Option<SampleTimes>,
    /// Frames run while sampling since the samples were last cleared: the
    /// samples' time per frame is counted over these.
    frames: u64,
    /// Folded stacks and their counts.
    counts: BTreeMap<String, u64>,
}

impl Sampling {
    /// Off until the profiler records; then `hz` samples a second.
    pub(crate) fn new(hz: u32) -> Sampling {
        Sampling {
            hz,
            running: 0,
            always: false,
            timed: false,
            kept: None,
            frames: 0,
            counts: BTreeMap::new(),
        }
    }

    /// Takes in what the running sampler counted so far.
    fn take_in(&mut self) {
        self.add(samples::drain());
    }

    fn add(&mut self, folded: Vec<(String, u64)>) {
        for (stack, n) in folded {
            *self.counts.entry(stack).or_default() += n;
        }
    }
}

impl Drop for Sampling {
    fn drop(&mut self) {
        if self.running > 0 {
            samples::finish();
        }
    }
}

impl Runtime {
    /// Starts, stops or re-rates the sampler to match the settings; called
    /// before every frame, on the thread that runs the scripts.
    pub(crate) fn sync_sampling(&mut self) {
        let s = &self.sampling;
        let want = if s.always || self.profiler.is_on() {
            s.hz
        } else {
            0
        };
        if want == s.running {
            return;
        }
        let python = self
            .scripts
            .iter()
            .any(|slot| slot.entry.language.name() == "python");
        let s = &mut self.sampling;
        if s.running > 0 {
            s.take_in();
            s.add(samples::finish());
        }
        if want > 0 {
            let (probe, context) = crate::scripting::sampling_probe(want, python);
            samples::start(want, probe, context, s.timed);
        }
        s.running = want;
    }

    /// Samples whether or not the profiler records (for `--samples`).
    pub fn sample_always(&mut self) {
        self.sampling.always = true;
        self.sync_sampling();
    }

    /// Keeps each sample's time from now on, for a trace's sampled script
    /// frames ([`Runtime::sample_timeline`]).
    pub fn time_samples(&mut self) {
        if !self.sampling.timed {
            self.sampling.timed = true;
            // A running sampler is started again, timed.
            let running = std::mem::take(&mut self.sampling.running);
            if running > 0 {
                self.sampling.take_in();
                self.sampling.add(samples::finish());
            }
            self.sync_sampling();
        }
    }

    /// Keeps the latest timed samples (about [`KEPT_SAMPLE_TIMES`]) in a
    /// buffer shared with the window, for File › Export trace…; they are
    /// taken in after every frame, and the counters' values are kept
    /// beside the frames from now on too.
    pub fn keep_sample_times(&mut self) -> SampleTimes {
        self.time_samples();
        Arc::clone(self.sampling.kept.get_or_insert_with(SampleTimes::default))
    }

    /// The kept timed samples (see [`Runtime::keep_sample_times`]) and the
    /// sampling period in nanoseconds.
    pub fn sample_times(&self) -> Option<(SampleTimes, i64)> {
        let period = 1_000_000_000 / i64::from(self.sampling.hz.max(1));
        self.sampling.kept.clone().map(|kept| (kept, period))
    }

    /// Takes the samples timed during the frame into the kept ones.
    pub(crate) fn keep_timed_samples(&mut self) {
        if let Some(kept) = &self.sampling.kept {
            let new = samples::drain_timeline();
            if let (false, Ok(mut kept)) = (new.is_empty(), kept.lock()) {
                kept.extend(new);
                let over = kept.len().saturating_sub(KEPT_SAMPLE_TIMES);
                kept.drain(..over);
            }
        }
    }

    /// The timed samples since the last call, oldest first, and the
    /// sampling period in nanoseconds (see [`Runtime::time_samples`]).
    pub fn sample_timeline(&mut self) -> (Vec<samples::TimedSample>, i64) {
        let period = 1_000_000_000 / i64::from(self.sampling.running.max(1));
        (samples::drain_timeline(), period)
    }

    /// Samples a second (0 = off).
    pub fn sample_hz(&self) -> u32 {
        self.sampling.hz
    }

    /// Sets the sampling rate (0 to 10,000 a second; 0 = off).
    pub(crate) fn set_sample_hz(&mut self, hz: u32) -> Result<(), String> {
        if hz > crate::project::MAX_SAMPLE_HZ {
            return Err(format!(
                "a sampling rate of {hz} a second is more than the {} allowed",
                crate::project::MAX_SAMPLE_HZ
            ));
        }
        self.sampling.hz = hz;
        self.sync_sampling();
        Ok(())
    }

    /// The folded stacks sampled since the profile was last cleared.
    pub fn samples(&mut self) -> Vec<(String, u64)> {
        if self.sampling.running > 0 {
            self.sampling.take_in();
        }
        self.sampling
            .counts
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    }

    /// The samples gathered so far, without taking in the sampler's
    /// latest (for readers that cannot change the runtime).
    pub(crate) fn sampled_counts(&self) -> impl Iterator<Item = (&String, u64)> {
        self.sampling.counts.iter().map(|(k, v)| (k, *v))
    }

    /// What the samples say, for the views.
    pub fn sample_summary(&mut self) -> SampleSummary {
        SampleSummary::of(&self.samples())
    }

    /// Forgets the samples taken in a script's calls (it was reloaded: its
    /// lines are not the ones that ran).
    pub(crate) fn forget_samples_of(&mut self, script: &str) {
        if self.sampling.running > 0 {
            self.sampling.take_in();
        }
        let root = format!("{script}:");
        self.sampling
            .counts
            .retain(|stack, _| !stack.starts_with(&root));
    }

    /// Forgets the samples.
    pub(crate) fn clear_samples(&mut self) {
        if self.sampling.running > 0 {
            samples::drain();
        }
        self.sampling.counts.clear();
        self.sampling.frames = 0;
        if let Some(Ok(mut kept)) = self.sampling.kept.as_ref().map(|k| k.lock()) {
            kept.clear();
        }
    }

    /// Counts a frame about to run, if the sampler runs.
    pub(crate) fn count_sampled_frame(&mut self) {
        if self.sampling.running > 0 {
            self.sampling.frames += 1;
        }
    }

    /// Frames run while sampling since the samples were last cleared (a
    /// script's reload forgets its samples but not these frames).
    pub fn sampled_frames(&self) -> u64 {
        self.sampling.frames
    }
}
