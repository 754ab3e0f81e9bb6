//! `ecscope bench`: benchmarks run in one process, printed as a table (and
//! optionally JSON), each with its ratio to a baseline measured in the same
//! run. Timings are medians of several repetitions.

mod movement;
mod parallel;
pub use movement::numpy_available;
mod workloads;

use std::cell::RefCell;
use std::path::Path;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

thread_local! {
    /// The relative spread of each timing since the last result was
    /// recorded: the result's noise.
    static SPREADS: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

/// Options of `ecscope bench`.
#[derive(Debug, Clone, Default)]
pub struct BenchOptions {
    /// A reduced set that finishes in under a minute.
    pub quick: bool,
    /// Only benchmarks whose name contains this.
    pub filter: Option<String>,
}

/// One measured number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchResult {
    /// `group/variant/size`, e.g. `coroutine/lua/10k`.
    pub name: String,
    /// The measurement.
    pub value: f64,
    /// Its unit (`ns/resume`, `ms`...).
    pub unit: String,
    /// `value / baseline`'s value, when there is a baseline.
    pub ratio: Option<f64>,
    /// The name of the result this is compared with.
    pub baseline: Option<String>,
    /// How much the repetitions behind the value spread, relative to it
    /// (half the interquartile range over the median), when it is a
    /// timing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise: Option<f64>,
}

/// The whole run, as written by `--json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BenchReport {
    /// The machine the numbers come from.
    pub machine: String,
    /// The results, in run order.
    pub results: Vec<BenchResult>,
}

impl BenchReport {
    /// A plain-text table.
    pub fn table(&self) -> String {
        let mut out = format!("machine: {}\n\n", self.machine);
        out.push_str(&format!(
            "{:<34} {:>14}  {:<11} {:>9}  {}\n",
            "benchmark", "value", "unit", "ratio", "baseline"
        ));
        for r in &self.results {
            out.push_str(&format!(
                "{:<34} {:>14}  {:<11} {:>9}  {}\n",
                r.name,
                format_value(r.value),
                r.unit,
                r.ratio.map(|x| format!("{x:.2}×")).unwrap_or_default(),
                r.baseline.as_deref().unwrap_or("")
            ));
        }
        out
    }
}

fn format_value(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// A short description of this machine: CPU model and core count.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    format!("{cpu}, {cores} cores, {}", std::env::consts::OS)
}

/// Collects results and computes ratios against earlier ones.
#[derive(Debug, Default)]
pub struct Recorder {
    results: Vec<BenchResult>,
    filter: Option<String>,
}

impl Recorder {
    /// Whether a benchmark is selected by the filter.
    pub fn wants(&self, name: &str) -> bool {
        self.filter
            .as_ref()
            .is_none_or(|f| name.contains(f.as_str()))
    }

    /// Records a value; `baseline` names an earlier result to divide by.
    pub fn record(&mut self, name: &str, value: f64, unit: &str, baseline: Option<&str>) {
        let base = baseline.and_then(|b| self.results.iter().find(|r| r.name == b));
        let ratio = base.map(|b| value / b.value);
        let result = BenchResult {
            name: name.to_string(),
            value,
            unit: unit.to_string(),
            ratio,
            baseline: base.map(|b| b.name.clone()),
            noise: SPREADS.with(|s| {
                let mut spreads = std::mem::take(&mut *s.borrow_mut());
                spreads.sort_by(f64::total_cmp);
                spreads.get(spreads.len() / 2).copied()
            }),
        };
        // Progress on standard error, which may be closed or full.
        crate::headless::eprint_line(format_args!(
            "  {:<34} {:>12} {}{}",
            result.name,
            format_value(result.value),
            result.unit,
            ratio
                .map(|r| format!("  ({r:.2}× {})", baseline.unwrap_or("")))
                .unwrap_or_default()
        ));
        self.results.push(result);
    }
}

/// The median of `reps` timings of `f`.
pub fn median_time(reps: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..reps.max(1))
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    let median = times[times.len() / 2];
    if times.len() >= 3 && !median.is_zero() {
        let (q1, q3) = (times[times.len() / 4], times[times.len() * 3 / 4]);
        let spread = (q3 - q1).as_secs_f64() / 2.0 / median.as_secs_f64();
        SPREADS.with(|s| s.borrow_mut().push(spread));
    }
    median
}

/// A benchmark measured now and in an earlier run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The benchmark.
    pub name: String,
    /// Its unit.
    pub unit: String,
    /// The earlier value.
    pub before: f64,
    /// The value now.
    pub after: f64,
    /// How many times worse it is now (below 1: better): after ÷ before,
    /// or before ÷ after where higher is better (a speedup).
    pub worse_by: f64,
    /// How much worse it may be before it counts: three times the two
    /// runs' combined noise, and at least [`MIN_REGRESSION`].
    pub allowed: f64,
}

impl Comparison {
    /// Worse beyond the noise.
    pub fn regressed(&self) -> bool {
        self.worse_by > 1.0 + self.allowed
    }

    /// `move/lua_entity/100k: 33.5 → 41.2 ns/entity (1.23× worse; allowed 15%)`.
    pub fn describe(&self) -> String {
        let how = if self.worse_by >= 1.0 {
            format!("{:.2}× worse", self.worse_by)
        } else {
            format!("{:.2}× better", 1.0 / self.worse_by)
        };
        format!(
            "{}: {} → {} {} ({how}; allowed {:.0}%)",
            self.name,
            format_value(self.before),
            format_value(self.after),
            self.unit,
            self.allowed * 100.0
        )
    }
}

/// The smallest change called a regression: below it, a shared machine's
/// drift is too likely.
pub const MIN_REGRESSION: f64 = 0.15;

/// Every benchmark of `now` that `before` also has (same name and unit).
pub fn compare(before: &BenchReport, now: &BenchReport) -> Vec<Comparison> {
    now.results
        .iter()
        .filter_map(|r| {
            let old = before
                .results
                .iter()
                .find(|b| b.name == r.name && b.unit == r.unit)?;
            if !(old.value > 0.0 && r.value > 0.0) {
                return None;
            }
            let higher_is_better = r.unit == "×" && r.name.contains("speedup");
            let worse_by = if higher_is_better {
                old.value / r.value
            } else {
                r.value / old.value
            };
            let noise = (old.noise.unwrap_or(0.0).powi(2) + r.noise.unwrap_or(0.0).powi(2)).sqrt();
            Some(Comparison {
                name: r.name.clone(),
                unit: r.unit.clone(),
                before: old.value,
                after: r.value,
                worse_by,
                allowed: (3.0 * noise).max(MIN_REGRESSION),
            })
        })
        .collect()
}

/// Reads a report written by `--json`.
pub fn read_report(path: &Path) -> Result<BenchReport, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}:{}: not a report written by ecscope bench --json: {e}",
            path.display(),
            e.line()
        )
    })
}

/// Why a benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A workload could not be set up or did not behave (the message says
    /// which and why).
    #[error("{0}")]
    Failed(String),
    /// A debugger setting the workload uses was refused.
    #[error(transparent)]
    Spec(#[from] crate::scripting::debugger::SpecError),
    /// A command the workload sends was refused.
    #[error(transparent)]
    Command(#[from] crate::runtime::CommandError),
}

impl From<String> for BenchError {
    fn from(message: String) -> Self {
        BenchError::Failed(message)
    }
}

impl From<&str> for BenchError {
    fn from(message: &str) -> Self {
        BenchError::Failed(message.to_string())
    }
}

/// Runs the suite.
pub fn run(options: &BenchOptions) -> Result<BenchReport, BenchError> {
    let mut recorder = Recorder {
        results: Vec::new(),
        filter: options.filter.clone(),
    };
    let scratch = tempfile_dir()?;
    movement::movement(&mut recorder, scratch.path(), options.quick)?;
    movement::calls(&mut recorder, scratch.path(), options.quick)?;
    workloads::coroutines(&mut recorder, scratch.path(), options.quick)?;
    workloads::reload(&mut recorder, scratch.path(), options.quick)?;
    workloads::profiling_overhead(&mut recorder, scratch.path(), options.quick)?;
    parallel::parallel(&mut recorder, scratch.path(), options.quick)?;
    Ok(BenchReport {
        machine: machine(),
        results: recorder.results,
    })
}

/// A scratch folder for generated projects, removed when dropped.
pub struct Scratch(std::path::PathBuf);

impl Scratch {
    /// The folder.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tempfile_dir() -> Result<Scratch, BenchError> {
    let dir = std::env::temp_dir().join(format!("ecscope-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(Scratch(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(values: &[(&str, f64, &str, Option<f64>)]) -> BenchReport {
        BenchReport {
            machine: "test".into(),
            results: values
                .iter()
                .map(|&(name, value, unit, noise)| BenchResult {
                    name: name.into(),
                    value,
                    unit: unit.into(),
                    ratio: None,
                    baseline: None,
                    noise,
                })
                .collect(),
        }
    }

    #[test]
    fn a_slowdown_beyond_the_noise_is_a_regression_and_drift_within_it_is_not() {
        let before = report(&[
            ("a", 10.0, "ms", Some(0.02)),
            ("b", 10.0, "ms", Some(0.10)),
            ("c/speedup", 2.0, "×", None),
            ("gone", 1.0, "ms", None),
        ]);
        let now = report(&[
            ("a", 20.0, "ms", Some(0.02)),
            ("b", 13.0, "ms", Some(0.10)),
            ("c/speedup", 1.2, "×", None),
            ("new", 1.0, "ms", None),
        ]);
        let compared = compare(&before, &now);
        assert_eq!(compared.len(), 3);
        let of = |n: &str| compared.iter().find(|c| c.name == n).unwrap();
        assert!(of("a").regressed(), "{}", of("a").describe());
        // 30% slower, but its runs spread 10% each: within 3 × 14%.
        assert!(!of("b").regressed(), "{}", of("b").describe());
        // A speedup that fell is worse.
        assert!(of("c/speedup").regressed());
        assert_eq!(
            of("a").describe(),
            "a: 10.00 → 20.00 ms (2.00× worse; allowed 15%)"
        );
    }
}
