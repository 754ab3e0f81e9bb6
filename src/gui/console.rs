//! The console's model: log lines and errors from the runtime, bounded.

use std::collections::{HashMap, VecDeque};

use crate::runtime::session::SessionEvent;
use crate::runtime::{EventKind, RuntimeEvent};

/// Entries kept; older ones are dropped.
const MAX_ENTRIES: usize = 20_000;

/// How an entry is shown and filtered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// `print`/`ecs.log`.
    Log,
    /// A script error or a failed command.
    Error,
    /// Loads, reloads and other runtime news.
    Info,
}

/// One console line.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The frame it happened in, if from the runtime.
    pub frame: Option<u64>,
    /// Kind of entry.
    pub level: Level,
    /// `file:line` it points at.
    pub location: Option<(String, u32)>,
    /// The text.
    pub text: String,
    /// A traceback, for errors.
    pub detail: Option<String>,
}

/// The console's entries.
#[derive(Debug, Default)]
pub struct Console {
    entries: VecDeque<Entry>,
    errors: usize,
    /// How many entries were dropped from the front (the sequence number
    /// of `entries[0]`).
    dropped: u64,
    /// Per file: errors before this sequence number are about an older
    /// text and no longer marked in the editor.
    stale_before: HashMap<String, u64>,
}

impl Console {
    /// Adds a session event.
    pub fn push_event(&mut self, event: SessionEvent) {
        let entry = match event {
            SessionEvent::Runtime(event) => {
                // New code is running: the old text's errors are history.
                if let EventKind::Reloaded { script, .. } = &event.kind {
                    self.forget_errors_in(script);
                }
                entry_of(event)
            }
            SessionEvent::CommandFailed(text) => Entry {
                frame: None,
                level: Level::Error,
                location: None,
                text,
                detail: None,
            },
            SessionEvent::Crashed(text) => Entry {
                frame: None,
                level: Level::Error,
                location: None,
                text: format!("the runtime stopped after an internal error: {text}"),
                detail: None,
            },
            // Answers belong to whoever asked (the Debug view), and stops
            // show in the debug bar.
            SessionEvent::Evaluated { .. }
            | SessionEvent::Read { .. }
            | SessionEvent::Stopped(_)
            | SessionEvent::Resumed
            | SessionEvent::BreakpointsChanged(_)
            | SessionEvent::PausedBetweenFrames { .. } => return,
            SessionEvent::Finished { frames } => Entry {
                frame: Some(frames),
                level: Level::Info,
                location: None,
                text: format!("the run ended after {frames} frames"),
                detail: None,
            },
        };
        self.push(entry);
    }

    /// Adds an entry.
    pub fn push(&mut self, entry: Entry) {
        if entry.level == Level::Error {
            self.errors += 1;
        }
        self.entries.push_back(entry);
        while self.entries.len() > MAX_ENTRIES {
            self.entries.pop_front();
            self.dropped += 1;
        }
    }

    /// The errors that point into `file` and are about its current text
    /// (line, message), for the editor's markers.
    pub fn errors_in(&self, file: &str) -> Vec<(u32, String)> {
        let from = self
            .stale_before
            .get(file)
            .map_or(0, |&seq| seq.saturating_sub(self.dropped) as usize);
        self.entries
            .iter()
            .skip(from)
            .filter(|e| e.level == Level::Error)
            .filter_map(|e| {
                let (f, line) = e.location.as_ref()?;
                (f == file).then(|| (*line, e.text.clone()))
            })
            .collect()
    }

    /// Stops marking the errors seen so far in `file` (its text changed).
    pub fn forget_errors_in(&mut self, file: &str) {
        let next = self.dropped + self.entries.len() as u64;
        self.stale_before.insert(file.to_string(), next);
    }

    /// A note from the app itself.
    pub fn info(&mut self, text: impl Into<String>) {
        self.push(Entry {
            frame: None,
            level: Level::Info,
            location: None,
            text: text.into(),
            detail: None,
        });
    }

    /// Every entry, oldest first.
    pub fn entries(&self) -> &VecDeque<Entry> {
        &self.entries
    }

    /// Errors seen since the last clear.
    pub fn error_count(&self) -> usize {
        self.errors
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.dropped += self.entries.len() as u64;
        self.entries.clear();
        self.errors = 0;
    }
}

fn entry_of(event: RuntimeEvent) -> Entry {
    let frame = Some(event.frame);
    match event.kind {
        EventKind::Log {
            script,
            line,
            message,
        } => Entry {
            frame,
            level: Level::Log,
            location: Some((script, line)),
            text: message,
            detail: None,
        },
        EventKind::Logpoint {
            file,
            line,
            message,
        } => Entry {
            frame,
            level: Level::Log,
            location: Some((file, line)),
            text: format!("[logpoint] {message}"),
            detail: None,
        },
        EventKind::ScriptError(info) => {
            let file = info.file.clone().unwrap_or_else(|| info.script.clone());
            Entry {
                frame,
                level: Level::Error,
                location: Some((file, info.line)),
                text: format!("{} (in {})", info.message, info.context),
                detail: (!info.traceback.is_empty()).then_some(info.traceback),
            }
        }
        _ => Entry {
            frame,
            level: Level::Info,
            location: None,
            text: RuntimeEvent {
                frame: event.frame,
                kind: event.kind,
            }
            .describe(),
            detail: None,
        },
    }
}
