//! `ecscope bench`: benchmarks run in one process, printed as a table (and
//! optionally JSON), each with its ratio to a baseline measured in the same
//! run. Timings are medians of several repetitions.

mod movement;
mod parallel;
pub use movement::numpy_available;
mod workloads;

use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;

/// Options of `ecscope bench`.
#[derive(Debug, Clone, Default)]
pub struct BenchOptions {
    /// A reduced set that finishes in under a minute.
    pub quick: bool,
    /// Only benchmarks whose name contains this.
    pub filter: Option<String>,
}

/// One measured number.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
}

/// The whole run, as written by `--json`.
#[derive(Debug, Clone, Serialize)]
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
    times[times.len() / 2]
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
