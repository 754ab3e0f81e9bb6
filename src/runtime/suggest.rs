//! Suggestions that name the fix: rules that read what the systems did
//! (entities visited, what their queries handed out, their time) and the
//! leak detector, and say which system, where, the evidence in numbers,
//! the fix, and the sample whose lesson teaches it.

use std::collections::BTreeMap;

use super::Runtime;
use crate::scripting::host::QueryUse;

/// Entities below which a loop inside a loop is cheap, whatever its shape.
const QUADRATIC_FROM: u64 = 64;

/// Entities per frame from which a per-entity Python system is worth
/// turning into a batch system.
const PYTHON_BATCH_FROM: f64 = 1000.0;

/// One-frame waits in a row from which a coroutine counts as polling.
pub(crate) const POLLING_FROM: u64 = 120;

/// Entities per frame from which allocating per entity is worth a
/// suggestion.
const ALLOCATION_FROM: f64 = 200.0;

/// Blocks a script's own code allocates per entity per frame worth a
/// suggestion.
const ALLOCATIONS_PER_ENTITY: f64 = 1.0;

/// Frames a system must have run for its allocations to count.
const ALLOCATION_RUNS: u64 = 30;

/// Mean ms per frame from which a system allocating per entity is a hot
/// loop worth a suggestion.
const ALLOCATION_HOT_MS: f64 = 1.0;

/// Share of a system's time in garbage collection worth a suggestion.
const GC_SHARE_FROM: f64 = 0.2;

/// A coroutine seen waking every frame only to wait again.
#[derive(Debug, Clone)]
pub(crate) struct Polling {
    script: usize,
    name: String,
    file: String,
    line: u32,
}

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
    allocations: u64,
    gc_ns: u64,
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
    /// Blocks it allocated (Lua's heap; Python's objects are not seen).
    pub allocations: u64,
    /// Time spent collecting garbage during it, ns (Python).
    pub gc_ns: u64,
}

/// Every system's use, by (script, handle).
pub(crate) type Uses = BTreeMap<(usize, u32), SystemUse>;

pub use crate::ecs::events::Suggestion;

/// Whether the statement at `line` (1-based) of `text` is a yield alone
/// in the body of a `while` or `repeat` loop (Lua) or a `while` loop
/// (Python): the shape of a loop that only waits.
pub(crate) fn yields_alone_in_a_loop(text: &str, line: u32) -> bool {
    let lines: Vec<&str> = text.lines().collect();
    let Some(at) = (line as usize).checked_sub(1).filter(|&i| i < lines.len()) else {
        return false;
    };
    let code = |s: &str| {
        let s = s.split("--").next().unwrap_or("");
        let s = s.split('#').next().unwrap_or("");
        s.trim().to_string()
    };
    let this = code(lines[at]);
    let is_yield = |s: &str| {
        s == "coroutine.yield()"
            || s == "ecs.wait_frames(1)"
            || s == "yield"
            || s == "yield ecs.wait_frames(1)"
    };
    // `while not ready do coroutine.yield() end` on one line.
    if let Some(body) = this
        .strip_prefix("while ")
        .and_then(|s| s.split_once(" do "))
        .and_then(|(_, b)| b.strip_suffix(" end").or_else(|| b.strip_suffix("end")))
    {
        return is_yield(body.trim());
    }
    if !is_yield(&this) {
        return false;
    }
    let neighbour = |mut i: usize, up: bool| -> Option<String> {
        loop {
            i = if up { i.checked_sub(1)? } else { i + 1 };
            let c = code(lines.get(i)?);
            if !c.is_empty() {
                return Some(c);
            }
        }
    };
    let before = neighbour(at, true).unwrap_or_default();
    let after = neighbour(at, false).unwrap_or_default();
    let lua_loop = (before.starts_with("while ") && before.ends_with(" do") || before == "repeat")
        && (after == "end" || after.starts_with("until "));
    let indent = |s: &str| s.len() - s.trim_start().len();
    let python_loop = before.starts_with("while ") && before.ends_with(':') && {
        let header = (0..at)
            .rev()
            .find(|&i| !code(lines[i]).is_empty())
            .map_or(0, |i| indent(lines[i]));
        // The next statement is back at the loop's own indentation or
        // less: the yield is the whole body.
        (at + 1..lines.len())
            .find(|&i| !code(lines[i]).is_empty())
            .is_none_or(|i| indent(lines[i]) <= header)
    };
    lua_loop || python_loop
}

impl Runtime {
    /// The line where most of a system's samples landed.
    fn hottest_line(&self, script: &str, system: &str) -> Option<u32> {
        let root = format!("{script}:{system}");
        let mut lines: BTreeMap<u32, u64> = BTreeMap::new();
        for (stack, n) in self.sampled_counts() {
            let Some(rest) = stack.strip_prefix(&root) else {
                continue;
            };
            if !rest.starts_with(';') {
                continue;
            }
            if let Some(leaf) = rest.rsplit(';').next() {
                let frame = crate::profiling::samples::parse_frame(leaf);
                if let (true, Some(line)) = (frame.file == script, frame.line) {
                    *lines.entry(line).or_default() += n;
                }
            }
        }
        lines.into_iter().max_by_key(|(_, n)| *n).map(|(l, _)| l)
    }

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
        entry.query.proxies += run.query.proxies;
        entry.allocations += run.allocations;
        entry.gc_ns += run.gc_ns;
    }

    /// A coroutine has waited for the next frame [`POLLING_FROM`] times in
    /// a row: if it yields alone in a loop (`while not ready do yield end`),
    /// it is polling, and remembered for the rule.
    pub(crate) fn note_polling(
        &mut self,
        id: u64,
        index: usize,
        handle: crate::scripting::FnHandle,
        name: &str,
    ) {
        let Some(backend) = self.backend_mut(index) else {
            return;
        };
        let Some((file, line)) = backend.locate_coroutine(handle) else {
            return;
        };
        let Ok(text) = std::fs::read_to_string(self.project.root.join(&file)) else {
            return;
        };
        if yields_alone_in_a_loop(&text, line) {
            self.polling.insert(
                id,
                Polling {
                    script: index,
                    name: name.to_string(),
                    file,
                    line,
                },
            );
        }
    }

    /// What the rules find in the run so far.
    pub fn suggestions(&mut self) -> Vec<Suggestion> {
        // The rules read the latest samples too.
        self.samples();
        self.suggestions_now()
    }

    fn suggestions_now(&self) -> Vec<Suggestion> {
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
                .backend()
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
        for usage in self.uses.values() {
            let Some(slot) = self.scripts.get(usage.script) else {
                continue;
            };
            if usage.runs == 0 {
                continue;
            }
            let runs = usage.runs as f64;
            let line = slot
                .backend()
                .and_then(|b| b.defined_line(crate::scripting::FnHandle(usage.handle)));
            let row = stats.rows.iter().find(|r| {
                r.script == slot.entry.path
                    && r.name == usage.name
                    && r.kind == Some(crate::profiling::CallKind::System)
            });
            // Tables made per entity per frame: garbage at once.
            let entities = (usage.entities as f64 / runs).max(usage.query.rows as f64 / runs);
            // The views a query loop hands out are the API's, not the
            // script's.
            let own = usage.allocations.saturating_sub(usage.query.proxies) as f64 / runs;
            let per_entity = own / entities.max(1.0);
            // A quadratic loop has its own suggestion.
            let quadratic = out
                .iter()
                .any(|o| o.rule == "quadratic" && o.system.as_deref() == Some(&usage.name));
            // A hot loop: one that takes a real share of the frame.
            // Over enough frames for the first frames' set-up (tables
            // growing to size, strings interned) to be left behind.
            let hot = row.is_some_and(|r| r.mean_ms >= ALLOCATION_HOT_MS)
                && usage.runs >= ALLOCATION_RUNS;
            if hot
                && entities >= ALLOCATION_FROM
                && per_entity >= ALLOCATIONS_PER_ENTITY
                && !quadratic
            {
                out.push(Suggestion {
                    rule: "allocation_per_entity",
                    script: slot.entry.path.clone(),
                    system: Some(usage.name.clone()),
                    line: self.hottest_line(&slot.entry.path, &usage.name).or(line),
                    evidence: format!(
                        "its code allocates {own:.0} blocks per frame for {entities:.0} entities ({per_entity:.1} per entity), all garbage by the next frame"
                    ),
                    fix: "write fields in place (pos.x = x) instead of ecs.set with a new table, and reuse one scratch table or locals instead of making a table or closure per entity".into(),
                    lesson: "memory_leak",
                });
            }
            // Collections inside the system.
            if let Some(row) = row
                && usage.gc_ns > 0
                && row.mean_ms > 0.0
            {
                let gc_ms = usage.gc_ns as f64 / runs / 1e6;
                let share = gc_ms / row.mean_ms;
                if share >= GC_SHARE_FROM && gc_ms >= 0.05 {
                    out.push(Suggestion {
                        rule: "gc_share",
                        script: slot.entry.path.clone(),
                        system: Some(usage.name.clone()),
                        line: self.hottest_line(&slot.entry.path, &usage.name).or(line),
                        evidence: format!(
                            "garbage collection takes {:.0}% of its time ({gc_ms:.2} ms of {:.2} ms per frame): it keeps making container objects that outlive the frame",
                            share * 100.0,
                            row.mean_ms
                        ),
                        fix: "make fewer lists, dicts and objects per frame: reuse them across frames (clear and refill), keep plain numbers, or make it an ecs.batch_system over arrays".into(),
                        lesson: "batch_performance",
                    });
                }
            }
        }
        // Systems over their budget (SCRIPT_API §7 `[budgets]`).
        for (key, &limit) in &self.project.manifest.budgets {
            let Some((script, system)) = key.rsplit_once(':') else {
                continue;
            };
            let Some(row) = stats.rows.iter().find(|r| {
                r.script == script
                    && r.name == system
                    && r.kind == Some(crate::profiling::CallKind::System)
            }) else {
                continue;
            };
            if row.p95_ms <= limit {
                continue;
            }
            let hottest = self.hottest_line(script, system);
            let defined = self
                .uses
                .values()
                .find(|u| {
                    u.name == system
                        && self
                            .scripts
                            .get(u.script)
                            .is_some_and(|s| s.entry.path == script)
                })
                .and_then(|u| {
                    self.scripts[u.script]
                        .backend()
                        .and_then(|b| b.defined_line(crate::scripting::FnHandle(u.handle)))
                });
            out.push(Suggestion {
                rule: "over_budget",
                script: script.to_string(),
                system: Some(system.to_string()),
                line: hottest.or(defined),
                evidence: format!(
                    "its p95 is {:.2} ms per frame, over its budget of {limit} ms ([budgets] \"{key}\" in ecscope.toml)",
                    row.p95_ms
                ),
                fix: match hottest {
                    Some(line) => format!("start at its hottest sampled line, {script}:{line}, and the other suggestions for it; or raise the budget if it was too tight"),
                    None => "record with sampling on to see its hottest line; or raise the budget if it was too tight".into(),
                },
                lesson: "profiling_hotspots",
            });
        }
        // Coroutines that wake every frame only to wait again.
        {
            let host = self.host.borrow();
            for (id, p) in &self.polling {
                let Some(c) = host.coroutines.get(*id) else {
                    continue;
                };
                if c.frame_waits < POLLING_FROM || self.scripts.get(p.script).is_none() {
                    continue;
                }
                out.push(Suggestion {
                    rule: "coroutine_polling",
                    script: p.file.clone(),
                    system: None,
                    line: Some(p.line),
                    evidence: format!(
                        "coroutine '{}' (#{id}) was woken on each of the last {} frames only to yield again at this line, alone in its loop",
                        p.name, c.frame_waits
                    ),
                    fix: "wait for what it polls for: have the code that makes it true emit an event, and wait with ecs.wait_event(\"name\") (or ecs.wait_seconds for a delay); it then costs nothing until then".into(),
                    lesson: "ai_coroutines",
                });
            }
        }
        for leak in self.memory.leaks().iter() {
            let (line, found, fix) = match &leak.site {
                Some(site) => (
                    site.line,
                    format!(
                        "; {} gained {} entries in {} frames{}",
                        site.describe(),
                        site.growth,
                        crate::profiling::memory::LEAK_WINDOW,
                        site.line
                            .map(|l| format!(", added at line {l}"))
                            .unwrap_or_default()
                    ),
                    format!(
                        "bound {}: keep only the last N entries, or drop an entry when what it is about goes away",
                        site.describe()
                    ),
                ),
                None => (
                    None,
                    String::new(),
                    "find the table or list that keeps growing (a cache without eviction, an event log kept in ecs.persist) and bound it".into(),
                ),
            };
            out.push(Suggestion {
                rule: "leak",
                script: leak.script.clone(),
                system: None,
                line,
                evidence: format!(
                    "its heap kept growing after collections: +{} bytes over {} frames{found}",
                    leak.growth_bytes, leak.window_frames
                ),
                fix,
                lesson: "memory_leak",
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::yields_alone_in_a_loop as alone;

    #[test]
    fn a_yield_alone_in_a_loop_is_told_apart_from_a_loop_that_works() {
        let lua = "while not ready do\n  coroutine.yield()\nend\nwhile true do\n  step()\n  coroutine.yield()\nend\nrepeat\n  ecs.wait_frames(1) -- wait\nuntil done\nwhile not ready do coroutine.yield() end\n";
        assert!(alone(lua, 2));
        assert!(!alone(lua, 6), "the loop steps too");
        assert!(alone(lua, 9));
        assert!(alone(lua, 11));
        assert!(!alone(lua, 1));
        assert!(!alone(lua, 99));
        let py = "def f():\n    while not ready():\n        yield\n    go()\n    while True:\n        step()\n        yield\n";
        assert!(alone(py, 3));
        assert!(!alone(py, 7));
    }
}
