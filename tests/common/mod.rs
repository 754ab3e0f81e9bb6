//! Helpers shared by the integration tests: reading an event stream.

#![allow(dead_code)]

use ecscope::runtime::{EventKind, RuntimeEvent};

/// The `print`/`ecs.log` messages, in order.
pub fn logs(events: &[RuntimeEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Log { message, .. } => Some(message.clone()),
            _ => None,
        })
        .collect()
}

/// Script errors as `script:line: message`.
pub fn errors(events: &[RuntimeEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::ScriptError(info) => {
                Some(format!("{}:{}: {}", info.script, info.line, info.message))
            }
            _ => None,
        })
        .collect()
}

/// Notices (skipped scripts, sandbox denials...).
pub fn notices(events: &[RuntimeEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Notice { message } => Some(message.clone()),
            _ => None,
        })
        .collect()
}
