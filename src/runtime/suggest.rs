//! Suggestions that name the fix: rules that read what the systems did
//! (entities visited, what their queries handed out, their time) and the
//! leak detector, and say which system, where, the evidence in numbers,
//! the fix, and the sample whose lesson teaches it.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Runtime;
use crate::scripting::host::QueryUse;

/// Entities below which a loop inside a loop is cheap, whatever its shape.
const QUADRATIC_FROM: u64 = 64;

/// Entities per frame from which a per-entity Python system is worth
/// turning into a batch system.
const PYTHON_BATCH_FROM: f64 = 1000.0;

/// What one system did, summed over the frames it ran.
#[derive(Debug, Clone, Default)]
pub(crate) struct SystemUse {
    script: usize,
    handle: u32,
    name: String,
    per_entity: bool,
    runs: u64,
    entities: u64,
    query: QueryUse,
}

/// One run of a system, as the scheduler saw it.
pub(crate) struct SystemRun<'a> {
    /// The script's index.
    pub index: usize,
    /// The system's handle.
    pub handle: u32,
    /// Its name.
    pub name: &'a str,
    /// Called once per entity (a query system).
    pub per_entity: bool,
    /// Entities it ran over.
    pub entities: usize,
    /// What its `ecs.query` loops handed out.
    pub query: QueryUse,
}

/// Every system's use, by (script, handle).
pub(crate) type Uses = BTreeMap<(usize, u32), SystemUse>;

/// One suggestion.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    /// The rule: `quadratic`, `python_per_entity` or `leak`.
    pub rule: &'static str,
    /// The script (manifest path).
    pub script: String,
    /// The system, when the rule is about one.
    pub system: Option<String>,
    /// The line the suggestion points at (where the system is defined).
    pub line: Option<u32>,
    /// What was measured.
    pub evidence: String,
    /// What to change.
    pub fix: String,
    /// The sample whose lesson teaches the fix.
    pub lesson: &'static str,
}

impl Suggestion {
    /// One line for a terminal: `file:line: system 'x': evidence. Fix: ...`.
    pub fn describe(&self) -> String {
        let place = match self.line {
            Some(line) => format!("{}:{line}", self.script),
            None => self.script.clone(),
        };
        let what = self
            .system
            .as_ref()
            .map(|s| format!(" system '{s}'"))
            .unwrap_or_default();
        format!(
            "{place}:{what} {}. Fix: {} (see sample_projects/{})",
            self.evidence, self.fix, self.lesson
        )
    }
}

impl Runtime {
    /// Adds one run of a system to its use.
    pub(crate) fn record_use(&mut self, run: SystemRun<'_>) {
        let entry = self
            .uses
            .entry((run.index, run.handle))
            .or_insert_with(|| SystemUse {
                script: run.index,
                handle: run.handle,
                name: run.name.to_string(),
                per_entity: run.per_entity,
                ..SystemUse::default()
            });
        entry.runs += 1;
        entry.entities += run.entities as u64;
        entry.query.rows += run.query.rows;
        entry.query.largest = entry.query.largest.max(run.query.largest);
    }

    /// What the rules find in the run so far.
    pub fn suggestions(&self) -> Vec<Suggestion> {
        let mut out = Vec::new();
        let stats = self.stats_table();
        for usage in self.uses.values() {
            let Some(slot) = self.scripts.get(usage.script) else {
                continue;
            };
            if usage.runs == 0 {
                continue;
            }
            let line = slot
                .backend
                .as_ref()
                .and_then(|b| b.defined_line(crate::scripting::FnHandle(usage.handle)));
            let runs = usage.runs as f64;
            let rows = usage.query.rows as f64 / runs;
            let n = usage.query.largest;
            // A query inside a loop over the same entities hands out about
            // n² of them each frame.
            if n >= QUADRATIC_FROM && rows >= (n * n) as f64 / 2.0 {
                out.push(Suggestion {
                    rule: "quadratic",
                    script: slot.entry.path.clone(),
                    system: Some(usage.name.clone()),
                    line,
                    evidence: format!(
                        "its ecs.query loops hand out {rows:.0} entities per frame for {n} entities ({:.1} × n²): a query inside a loop over the same entities, so the cost grows with the square of their number",
                        rows / (n * n) as f64
                    ),
                    fix: "go over the entities once: copy what the inner loop needs out of one query, and bucket the entities in a grid so that each is compared only with its neighbours".into(),
                    lesson: "profiling_hotspots",
                });
            }
            let per_frame = usage.entities as f64 / runs;
            if usage.per_entity
                && slot.entry.language.name() == "python"
                && per_frame >= PYTHON_BATCH_FROM
            {
                // Its time is the profiler's (mean per frame of the window).
                let ms = stats
                    .rows
                    .iter()
                    .find(|r| {
                        r.script == slot.entry.path
                            && r.name == usage.name
                            && r.kind == Some(crate::profiling::CallKind::System)
                    })
                    .map_or(0.0, |r| r.mean_ms);
                out.push(Suggestion {
                    rule: "python_per_entity",
                    script: slot.entry.path.clone(),
                    system: Some(usage.name.clone()),
                    line,
                    evidence: if ms > 0.0 {
                        format!(
                            "a per-entity Python system over {per_frame:.0} entities per frame: {:.0} ns per entity, {ms:.2} ms per frame",
                            ms * 1e6 / per_frame
                        )
                    } else {
                        // Recording is off: no time to quote.
                        format!("a per-entity Python system over {per_frame:.0} entities per frame")
                    },
                    fix: "make it an ecs.batch_system and work on whole arrays with numpy (in ecscope bench, 514 ns per entity per-entity against 9.8 ns with numpy)".into(),
                    lesson: "batch_performance",
                });
            }
        }
        for leak in self.memory.view().leaks.iter() {
            out.push(Suggestion {
                rule: "leak",
                script: leak.script.clone(),
                system: None,
                line: None,
                evidence: format!(
                    "its heap kept growing after collections: +{} bytes over {} frames",
                    leak.growth_bytes, leak.window_frames
                ),
                fix: "find the table or list that keeps growing (a cache without eviction, an event log kept in ecs.persist) and bound it".into(),
                lesson: "memory_leak",
            });
        }
        out
    }
}
