//! The console's model: log lines and errors from the runtime, bounded.

use std::collections::VecDeque;

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
}

impl Console {
    /// Adds a session event.
    pub fn push_event(&mut self, event: SessionEvent) {
        let entry = match event {
            SessionEvent::Runtime(event) => entry_of(event),
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
        }
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
