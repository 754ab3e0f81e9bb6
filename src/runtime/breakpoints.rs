//! Breakpoints kept per project across restarts, in
//! `.ecscope/breakpoints.json`. A file that cannot be read is set aside
//! (never overwritten) and named in a notice.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::scripting::debugger::{Breakpoint, Debugger};

/// The file's name inside the project's data folder.
pub const FILE: &str = "breakpoints.json";

#[derive(Serialize, Deserialize)]
struct Saved {
    version: u32,
    break_on_error: bool,
    breakpoints: Vec<Breakpoint>,
}

/// Why the saved breakpoints could not be read or written; each names the
/// file.
#[derive(Debug, thiserror::Error)]
pub enum BreakpointsError {
    /// The file exists but cannot be read.
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not saved breakpoints (it was set aside, or not).
    #[error("{}:{line}: the saved breakpoints cannot be read ({message}); {}", path.display(), match aside {
        Some(aside) => format!("the file was kept as {}", aside.display()),
        None => "the file was left as it is".into(),
    })]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The line of the first problem.
        line: usize,
        /// The parser's message.
        message: String,
        /// Where the file was set aside, when it could be.
        aside: Option<PathBuf>,
    },
    /// Breakpoints whose hit count was refused were kept as plain ones.
    #[error("{}: some saved breakpoints were kept without their hit count: {}", path.display(), refused.join("; "))]
    Refused {
        /// The file.
        path: PathBuf,
        /// `file:line: why`, for each.
        refused: Vec<String>,
    },
    /// The breakpoints cannot be written.
    #[error("{}: cannot save the breakpoints: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Where a project's breakpoints are kept.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE)
}

/// Loads the saved breakpoints into `debugger`. `Ok(false)` when there is
/// no file; an error names the file and line, and the file is set aside as
/// `breakpoints.json.corrupt` so that saving does not lose it.
pub fn load(data_dir: &Path, debugger: &Debugger) -> Result<bool, BreakpointsError> {
    let file = path(data_dir);
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(source) => return Err(BreakpointsError::Read { path: file, source }),
    };
    let saved: Saved = match serde_json::from_str(&text) {
        Ok(saved) => saved,
        Err(e) => {
            let aside = file.with_extension("json.corrupt");
            let kept = std::fs::rename(&file, &aside).is_ok();
            return Err(BreakpointsError::Corrupt {
                line: e.line(),
                message: e.to_string(),
                aside: kept.then_some(aside),
                path: file,
            });
        }
    };
    debugger.set_break_on_error(saved.break_on_error);
    let mut refused = Vec::new();
    for b in saved.breakpoints {
        if let Err(e) = debugger.set_breakpoint_spec(&b.file, b.line, b.spec.clone()) {
            // Kept as a plain breakpoint, so that it is not lost.
            debugger.set_breakpoint(&b.file, b.line, true);
            refused.push(format!("{}:{}: {e}", b.file, b.line));
        }
    }
    if refused.is_empty() {
        Ok(true)
    } else {
        Err(BreakpointsError::Refused {
            path: file,
            refused,
        })
    }
}

/// Saves the breakpoints of `debugger`.
pub fn save(data_dir: &Path, debugger: &Debugger) -> Result<(), BreakpointsError> {
    let file = path(data_dir);
    let saved = Saved {
        version: 1,
        break_on_error: debugger.break_on_error_setting(),
        breakpoints: debugger.breakpoint_list(),
    };
    // Plain data: serialising it cannot fail.
    let text = serde_json::to_string_pretty(&saved).unwrap_or_default();
    std::fs::create_dir_all(data_dir)
        .and_then(|_| {
            // Written whole, then moved over the old file.
            let temporary = file.with_extension("json.new");
            std::fs::write(&temporary, text)?;
            std::fs::rename(&temporary, &file)
        })
        .map_err(|source| BreakpointsError::Write { path: file, source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scripting::debugger::BreakpointSpec;

    #[test]
    fn kept_across_a_restart_and_a_corrupt_file_is_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let d = Debugger::default();
        d.set_breakpoint("scripts/a.lua", 3, true);
        let spec = BreakpointSpec {
            enabled: false,
            condition: Some("x > 2".into()),
            hit_count: Some("% 2".into()),
            log_message: Some("x = {x}".into()),
        };
        d.set_breakpoint_spec("scripts/b.py", 9, spec.clone())
            .unwrap();
        d.set_break_on_error(true);
        save(dir.path(), &d).unwrap();
        let again = Debugger::default();
        assert!(load(dir.path(), &again).is_ok_and(|loaded| loaded));
        assert_eq!(again.breakpoint_list(), d.breakpoint_list());
        assert!(again.break_on_error_setting());
        std::fs::write(path(dir.path()), "{\n  \"version\": 1,\n  oops\n}").unwrap();
        let err = load(dir.path(), &Debugger::default()).unwrap_err();
        assert!(err.to_string().contains("breakpoints.json:3:"), "{err}");
        assert!(dir.path().join("breakpoints.json.corrupt").exists());
    }
}
