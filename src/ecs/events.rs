//! The runtime's event stream (SCRIPT_API §4 `--events`): what happened,
//! frame by frame, as data for the CLI, the GUI console and tests.

use serde::Serialize;

/// One entry of the event stream. Serialises as one JSON object with
/// `frame`, `kind` and the kind's own fields.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuntimeEvent {
    /// The frame during which it happened (`ecs.frame()` at that moment).
    pub frame: u64,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// A script error's origin, for the console and the editor's error marker.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorInfo {
    /// The script (manifest path) whose code failed.
    pub script: String,
    /// 1-based line where the error was raised (or the parser's line).
    pub line: u32,
    /// The message without traceback.
    pub message: String,
    /// The file the failing line is in, when it is not the script itself
    /// (a module it loaded); a project-relative path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Where it happened: `load`, `system <name>`, `handler <event>` ...
    pub context: String,
    /// The language's traceback, innermost call last.
    pub traceback: String,
}

/// The kinds of events.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    /// A script's top level and `on_load` ran.
    ScriptLoaded {
        /// Manifest path.
        script: String,
        /// `lua` or `python`.
        language: String,
        /// The version number in the script's history.
        version: u32,
    },
    /// A script failed (syntax, runtime, limit).
    ScriptError(ErrorInfo),
    /// `ecs.log` or `print`.
    Log {
        /// Manifest path.
        script: String,
        /// 1-based line of the call.
        line: u32,
        /// The printed text.
        message: String,
    },
    /// A logpoint was reached (SCRIPT_API §6): its message, evaluated.
    Logpoint {
        /// Project-relative file.
        file: String,
        /// 1-based line.
        line: u32,
        /// The message with its `{expr}` parts evaluated.
        message: String,
    },
    /// A data breakpoint saw a component field change.
    DataChanged {
        /// The entity.
        entity: u64,
        /// Component name.
        component: String,
        /// Field name.
        field: String,
        /// The value before.
        old: String,
        /// The value after.
        new: String,
        /// The script file whose line wrote it.
        file: String,
        /// That line.
        line: u32,
    },
    /// What the suggestion rules found (`ecscope run --suggest`).
    Suggestion(Suggestion),
    /// A script was hot-reloaded.
    Reloaded {
        /// Manifest path.
        script: String,
        /// The new version number.
        version: u32,
        /// From the file change being seen to the new code being active.
        latency_ms: f64,
    },
    /// A new version failed and the previous one is running again, or the
    /// user rolled back by hand.
    RolledBack {
        /// Manifest path.
        script: String,
        /// The version now running.
        version: u32,
        /// Why.
        reason: String,
    },
    /// `ecs.start` created a coroutine.
    CoroutineStarted {
        /// Manifest path.
        script: String,
        /// The coroutine id.
        id: u64,
        /// The name given to `ecs.start`.
        name: String,
    },
    /// A coroutine returned, was stopped or failed.
    CoroutineFinished {
        /// Manifest path.
        script: String,
        /// The coroutine id.
        id: u64,
        /// The name given to `ecs.start`.
        name: String,
        /// `returned`, `stopped` or `failed`.
        how: String,
    },
    /// Something the user should know that is not a script's error (the
    /// history folder is read-only, a manifest setting needs a reset...).
    Notice {
        /// What happened.
        message: String,
    },
    /// A heap has kept growing over the leak detector's window.
    LeakSuspected {
        /// The script whose heap grows, or `python`/`rust`.
        script: String,
        /// Growth over the window, bytes.
        growth_bytes: u64,
        /// Frames in the window.
        window_frames: u64,
    },
    /// What a suspected leak keeps and the line that adds to it.
    LeakLocated {
        /// The leaking script.
        script: String,
        /// The containers that grow, named by where they hang
        /// (`trails[*]`: the tables kept in `trails`).
        path: String,
        /// What they are: `table`, `list`, `dict`...
        container: String,
        /// How many containers share the path.
        containers: u64,
        /// Entries they gained over one window.
        growth: u64,
        /// The line that added most, when one was seen.
        line: Option<u32>,
    },
    /// The profiler's statistics over the run (the last event of
    /// `ecscope run --events`).
    ProfileStats {
        /// Frames run, the statistics window, frame times, and per script
        /// and per call (system, handler, coroutine, load): calls, total,
        /// mean per frame, per call, p95 and max.
        #[serde(flatten)]
        summary: serde_json::Map<String, serde_json::Value>,
    },
}

impl RuntimeEvent {
    /// The event as one JSON line (no trailing newline).
    pub fn to_json_line(&self) -> String {
        // Serialising these plain structs cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The error, if this is a `script_error`.
    pub fn as_error(&self) -> Option<&ErrorInfo> {
        match &self.kind {
            EventKind::ScriptError(info) => Some(info),
            _ => None,
        }
    }

    /// A one-line human rendering for terminals and the console.
    pub fn describe(&self) -> String {
        match &self.kind {
            EventKind::ScriptLoaded {
                script, version, ..
            } => format!("loaded {script} (v{version})"),
            EventKind::ScriptError(e) => {
                let file = e.file.as_deref().unwrap_or(&e.script);
                format!("error {file}:{}: {} (in {})", e.line, e.message, e.context)
            }
            EventKind::Log {
                script,
                line,
                message,
            } => format!("[{script}:{line}] {message}"),
            EventKind::Logpoint {
                file,
                line,
                message,
            } => format!("[logpoint {file}:{line}] {message}"),
            EventKind::DataChanged {
                entity,
                component,
                field,
                old,
                new,
                file,
                line,
            } => format!(
                "data breakpoint: {component}.{field} of entity {entity} changed from {old} to {new} at {file}:{line}"
            ),
            EventKind::Suggestion(s) => format!("suggestion: {}", s.describe()),
            EventKind::Reloaded {
                script,
                version,
                latency_ms,
            } => format!("reloaded {script} v{version} in {latency_ms:.1} ms"),
            EventKind::RolledBack {
                script,
                version,
                reason,
            } => format!("rolled back {script} to v{version}: {reason}"),
            EventKind::CoroutineStarted { script, id, name } => {
                format!("coroutine {id} '{name}' started ({script})")
            }
            EventKind::CoroutineFinished {
                script,
                id,
                name,
                how,
            } => format!("coroutine {id} '{name}' {how} ({script})"),
            EventKind::Notice { message } => format!("note: {message}"),
            EventKind::LeakSuspected {
                script,
                growth_bytes,
                window_frames,
            } => format!(
                "possible leak in {script}: +{growth_bytes} bytes over {window_frames} frames"
            ),
            EventKind::LeakLocated {
                script,
                path,
                container,
                containers,
                growth,
                line,
            } => {
                let site = crate::profiling::memory::LeakSite {
                    path: path.clone(),
                    kind: container.clone(),
                    containers: *containers,
                    growth: *growth,
                    line: *line,
                };
                let at = line
                    .map(|l| format!(", added at {script}:{l}"))
                    .unwrap_or_default();
                format!(
                    "the leak in {script} is {}, +{growth} entries over one window{at}",
                    site.describe()
                )
            }
            EventKind::ProfileStats { summary } => format!(
                "profile of {} frames: {} scripts, {} calls measured",
                summary.get("frames").and_then(|f| f.as_u64()).unwrap_or(0),
                summary
                    .get("scripts")
                    .and_then(|s| s.as_array())
                    .map_or(0, Vec::len),
                summary
                    .get("calls")
                    .and_then(|s| s.as_array())
                    .map_or(0, Vec::len),
            ),
        }
    }
}

/// One suggestion.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    /// The rule: `quadratic`, `python_per_entity`, `allocation_per_entity`,
    /// `gc_share`, `coroutine_polling`, `over_budget` or `leak`.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_with_frame_and_kind_first() {
        let event = RuntimeEvent {
            frame: 3,
            kind: EventKind::Log {
                script: "scripts/a.lua".into(),
                line: 4,
                message: "hi".into(),
            },
        };
        assert_eq!(
            event.to_json_line(),
            r#"{"frame":3,"kind":"log","script":"scripts/a.lua","line":4,"message":"hi"}"#
        );
    }
}
