//! `[budgets]` (SCRIPT_API §7) measured: the frame's p95 and each named
//! system's p95 time per frame, over the statistics window (the last 600
//! frames), against their limits.

use super::Runtime;
use crate::profiling::CallKind;

/// One `[budgets]` entry and what was measured for it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BudgetResult {
    /// `frame_ms` or `script:system`, as in the manifest.
    pub key: String,
    /// Its line in `ecscope.toml`.
    pub line: Option<usize>,
    /// The p95 ms per frame measured; `None` when the system never ran.
    pub measured_ms: Option<f64>,
    /// The limit, ms.
    pub allowed_ms: f64,
}

impl BudgetResult {
    /// Whether the measure is over the limit.
    pub fn exceeded(&self) -> bool {
        self.measured_ms.is_some_and(|m| m > self.allowed_ms)
    }

    /// A line saying how it went: `scripts/flock.lua:steer: p95 2.41 ms
    /// per frame, over its budget of 2 ms (ecscope.toml:12)`.
    pub fn describe(&self) -> String {
        let place = self
            .line
            .map(|l| format!(" (ecscope.toml:{l})"))
            .unwrap_or_default();
        let what = if self.key == "frame_ms" {
            "frame time"
        } else {
            &self.key
        };
        match self.measured_ms {
            None => format!(
                "{what}: not measured (the system did not run), budget {} ms{place}",
                self.allowed_ms
            ),
            Some(m) if m > self.allowed_ms => format!(
                "{what}: p95 {m:.2} ms per frame, over its budget of {} ms{place}",
                self.allowed_ms
            ),
            Some(m) => format!(
                "{what}: p95 {m:.2} ms per frame, within its budget of {} ms{place}",
                self.allowed_ms
            ),
        }
    }
}

impl Runtime {
    /// Every `[budgets]` entry with what was measured for it, in the
    /// manifest's key order.
    pub fn budget_results(&self) -> Vec<BudgetResult> {
        let manifest = &self.project.manifest;
        if manifest.budgets.is_empty() {
            return Vec::new();
        }
        let table = self.profiler.stats.table();
        manifest
            .budgets
            .iter()
            .map(|(key, &allowed)| {
                let measured = if key == "frame_ms" {
                    (table.frames > 0).then_some(table.frame_p95_ms)
                } else {
                    key.rsplit_once(':').and_then(|(script, system)| {
                        table
                            .rows
                            .iter()
                            .find(|r| {
                                r.script == script
                                    && r.name == system
                                    && r.kind == Some(CallKind::System)
                            })
                            .map(|r| r.p95_ms)
                    })
                };
                BudgetResult {
                    key: key.clone(),
                    line: manifest.budget_lines.get(key).copied(),
                    measured_ms: measured,
                    allowed_ms: allowed,
                }
            })
            .collect()
    }

    /// Warns about `[budgets]` keys that name no system the scripts
    /// registered (a typo would otherwise never be over budget).
    pub(crate) fn check_budget_names(&mut self) {
        let registered: Vec<String> = {
            let host = self.host.borrow();
            host.systems()
                .iter()
                .filter_map(|s| {
                    let index = self.slot_index(s.script)?;
                    Some(format!("{}:{}", self.scripts[index].entry.path, s.name))
                })
                .collect()
        };
        let unknown: Vec<(String, Option<usize>)> = self
            .project
            .manifest
            .budgets
            .keys()
            .filter(|k| *k != "frame_ms" && !registered.contains(k))
            .map(|k| {
                (
                    k.clone(),
                    self.project.manifest.budget_lines.get(k).copied(),
                )
            })
            .collect();
        for (key, line) in unknown {
            let place = line.map(|l| format!(":{l}")).unwrap_or_default();
            let known = if registered.is_empty() {
                "no system is registered".to_string()
            } else {
                format!("systems: {}", registered.join(", "))
            };
            self.notice(format!(
                "ecscope.toml{place}: [budgets] \"{key}\" names no system ({known})"
            ));
        }
    }
}
