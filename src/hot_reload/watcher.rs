//! Watches a project folder for changes to its scripts and manifest.
//!
//! File-system events are debounced per file: a change is reported once no
//! event has arrived for that file for [`DEBOUNCE`], so an editor that
//! writes twice, or writes a temporary file and renames it, gives one
//! change. Whether the content really changed is decided by the runtime,
//! which compares hashes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use notify::{EventKind, RecursiveMode, Watcher as _};

/// Quiet time after the last event of a file before it counts as saved.
pub const DEBOUNCE: Duration = Duration::from_millis(15);

/// A settled change to one file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileChange {
    /// Project-relative path with `/` separators (`scripts/ai.lua`).
    pub path: String,
    /// When the first event of this change arrived.
    pub first_seen: Instant,
    /// When the change settled and was reported.
    pub settled: Instant,
}

/// A running watcher; stops when dropped.
pub struct ProjectWatcher {
    _watcher: notify::RecommendedWatcher,
    _thread: std::thread::JoinHandle<()>,
}

/// Whether a project-relative path is one ECScope reloads.
pub fn is_watched(relative: &str) -> bool {
    if relative == crate::project::MANIFEST_FILE {
        return true;
    }
    relative.starts_with("scripts/")
        && matches!(
            Path::new(relative).extension().and_then(|e| e.to_str()),
            Some("lua" | "py")
        )
}

impl ProjectWatcher {
    /// Watches `root` and calls `on_change` (on the watcher's thread) for
    /// each settled change.
    pub fn start(
        root: &Path,
        on_change: impl Fn(FileChange) + Send + 'static,
    ) -> Result<ProjectWatcher, String> {
        let root: PathBuf = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        let (tx, rx) = channel::<(PathBuf, Instant)>();
        let mut watcher =
            notify::recommended_watcher(move |result: notify::Result<notify::Event>| {
                let Ok(event) = result else {
                    return;
                };
                if matches!(event.kind, EventKind::Access(_) | EventKind::Other) {
                    return;
                }
                let now = Instant::now();
                for path in event.paths {
                    let _ = tx.send((path, now));
                }
            })
            .map_err(|e| format!("cannot watch {}: {e}", root.display()))?;
        watcher
            .watch(&root, RecursiveMode::Recursive)
            .map_err(|e| format!("cannot watch {}: {e}", root.display()))?;

        let thread = std::thread::Builder::new()
            .name("ecscope-watcher".into())
            .spawn(move || {
                // path -> (first event, last event)
                let mut pending: HashMap<String, (Instant, Instant)> = HashMap::new();
                loop {
                    let wait = if pending.is_empty() {
                        Duration::from_secs(3600)
                    } else {
                        Duration::from_millis(2)
                    };
                    match rx.recv_timeout(wait) {
                        Ok((path, at)) => {
                            let Ok(relative) = path.strip_prefix(&root) else {
                                continue;
                            };
                            let relative = relative.to_string_lossy().replace('\\', "/");
                            if is_watched(&relative) {
                                pending
                                    .entry(relative)
                                    .and_modify(|e| e.1 = at)
                                    .or_insert((at, at));
                            }
                        }
                        Err(RecvTimeoutError::Timeout) => {}
                        Err(RecvTimeoutError::Disconnected) => return,
                    }
                    let now = Instant::now();
                    let settled: Vec<String> = pending
                        .iter()
                        .filter(|(_, (_, last))| now.duration_since(*last) >= DEBOUNCE)
                        .map(|(p, _)| p.clone())
                        .collect();
                    for path in settled {
                        if let Some((first_seen, _)) = pending.remove(&path) {
                            on_change(FileChange {
                                path,
                                first_seen,
                                settled: now,
                            });
                        }
                    }
                }
            })
            .map_err(|e| format!("cannot start the watcher: {e}"))?;
        Ok(ProjectWatcher {
            _watcher: watcher,
            _thread: thread,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn watched_paths() {
        assert!(is_watched("scripts/a.lua"));
        assert!(is_watched("scripts/sub/b.py"));
        assert!(is_watched("ecscope.toml"));
        assert!(!is_watched(".ecscope/history/x.lua"));
        assert!(!is_watched("scripts/a.lua.swp"));
        assert!(!is_watched("README.md"));
    }

    #[test]
    fn two_writes_and_a_rename_are_one_change() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("scripts")).unwrap();
        let seen: Arc<Mutex<Vec<FileChange>>> = Arc::default();
        let sink = Arc::clone(&seen);
        let _w = ProjectWatcher::start(dir.path(), move |c| sink.lock().unwrap().push(c)).unwrap();
        std::thread::sleep(Duration::from_millis(50));
        let target = dir.path().join("scripts/a.lua");
        std::fs::write(&target, "x = 1").unwrap();
        std::fs::write(&target, "x = 2").unwrap();
        let tmp = dir.path().join("scripts/.a.lua.tmp");
        std::fs::write(&tmp, "x = 3").unwrap();
        std::fs::rename(&tmp, &target).unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while seen.lock().unwrap().is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(100));
        let changes = seen.lock().unwrap();
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].path, "scripts/a.lua");
    }
}
