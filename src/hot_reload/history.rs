//! The version history of a project's scripts, under
//! `.ecscope/history/`: every version that was loaded, successfully or not,
//! with its time, hash, status and error. Files are written atomically
//! (write, then rename), survive restarts, and are pruned to a bounded count.
//!
//! A corrupt index is set aside (renamed, never overwritten) and a new one
//! started; a folder that cannot be written keeps the history in memory
//! and says so once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// How a version fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionStatus {
    /// Loaded and ran (or is running).
    Loaded,
    /// Did not compile or failed at load: never ran.
    Failed,
    /// Loaded, then failed in its first frame and was replaced by the one
    /// before.
    RolledBack,
}

impl VersionStatus {
    /// A word for lists.
    pub fn name(self) -> &'static str {
        match self {
            VersionStatus::Loaded => "loaded",
            VersionStatus::Failed => "failed",
            VersionStatus::RolledBack => "rolled back",
        }
    }
}

/// One stored version of a script.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Version {
    /// 1, 2, 3... per script.
    pub version: u32,
    /// Seconds since the Unix epoch.
    pub time: u64,
    /// Hash of the text (FNV-1a, hex).
    pub hash: String,
    /// How it fared.
    pub status: VersionStatus,
    /// The error, `file:line: message`, for failed versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What made it: `load`, `reload`, `rollback to v3`...
    #[serde(default)]
    pub origin: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Index {
    versions: Vec<Version>,
}

/// The hash stored with a version.
pub fn hash_text(text: &str) -> String {
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    format!("{hash:016x}")
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Writes a file atomically: a temporary file beside it, then a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let tmp = path.with_extension(format!(
        "{}.tmp",
        path.extension().and_then(|e| e.to_str()).unwrap_or("")
    ));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// The history of every script of one project.
#[derive(Debug)]
pub struct History {
    dir: PathBuf,
    keep: usize,
    scripts: BTreeMap<String, Index>,
    texts: BTreeMap<(String, u32), String>,
    /// The first problem with the folder, reported once.
    problem: Option<String>,
    problems_taken: bool,
}

impl History {
    /// The history under `<project>/.ecscope/history`, keeping `keep`
    /// versions per script.
    pub fn open(project_data_dir: &Path, keep: usize) -> History {
        History {
            dir: project_data_dir.join("history"),
            keep: keep.max(1),
            scripts: BTreeMap::new(),
            texts: BTreeMap::new(),
            problem: None,
            problems_taken: false,
        }
    }

    /// A problem with the history folder not yet reported (once).
    pub fn take_problem(&mut self) -> Option<String> {
        if self.problems_taken {
            return None;
        }
        let problem = self.problem.clone();
        if problem.is_some() {
            self.problems_taken = true;
        }
        problem
    }

    fn note_problem(&mut self, message: String) {
        if self.problem.is_none() {
            self.problem = Some(message);
        }
    }

    /// The folder of one script's versions (the script path with `/`
    /// replaced, so every script has one flat folder).
    fn script_dir(&self, script: &str) -> PathBuf {
        self.dir.join(script.replace(['/', '\\'], "__"))
    }

    fn index_path(&self, script: &str) -> PathBuf {
        self.script_dir(script).join("index.json")
    }

    fn text_path(&self, script: &str, version: u32) -> PathBuf {
        let ext = Path::new(script)
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("txt");
        self.script_dir(script).join(format!("v{version:05}.{ext}"))
    }

    fn index(&mut self, script: &str) -> &mut Index {
        if !self.scripts.contains_key(script) {
            let path = self.index_path(script);
            let index = match std::fs::read(&path) {
                Ok(bytes) => match serde_json::from_slice::<Index>(&bytes) {
                    Ok(index) => index,
                    Err(err) => {
                        // Keep the damaged folder, texts and all, and start
                        // afresh beside it: new versions must not overwrite
                        // the old texts.
                        let dir = self.script_dir(script);
                        let mut aside = dir.as_os_str().to_owned();
                        aside.push(format!(".corrupt-{}", now()));
                        let aside = PathBuf::from(aside);
                        let _ = std::fs::rename(&dir, &aside);
                        self.note_problem(format!(
                            "{}: the version history was unreadable ({err}); it was kept in {} and a new history started",
                            path.display(),
                            aside.display()
                        ));
                        Index::default()
                    }
                },
                Err(_) => Index::default(),
            };
            self.scripts.insert(script.to_string(), index);
        }
        self.scripts.get_mut(script).expect("just inserted")
    }

    /// Every stored version of a script, oldest first.
    pub fn versions(&mut self, script: &str) -> Vec<Version> {
        self.index(script).versions.clone()
    }

    /// The latest version of a script.
    pub fn latest(&mut self, script: &str) -> Option<Version> {
        self.index(script).versions.last().cloned()
    }

    /// The text of a stored version.
    pub fn text(&mut self, script: &str, version: u32) -> Option<String> {
        if let Some(text) = self.texts.get(&(script.to_string(), version)) {
            return Some(text.clone());
        }
        std::fs::read_to_string(self.text_path(script, version)).ok()
    }

    /// Records a version; returns its number.
    pub fn record(
        &mut self,
        script: &str,
        text: &str,
        status: VersionStatus,
        error: Option<String>,
        origin: &str,
    ) -> u32 {
        let hash = hash_text(text);
        let index = self.index(script);
        let version = index.versions.last().map_or(1, |v| v.version + 1);
        index.versions.push(Version {
            version,
            time: now(),
            hash,
            status,
            error,
            origin: origin.to_string(),
        });
        self.texts
            .insert((script.to_string(), version), text.to_string());
        let text_path = self.text_path(script, version);
        if let Err(err) = write_atomic(&text_path, text.as_bytes()) {
            self.note_problem(format!(
                "{}: cannot save script versions ({err}); the history is kept in memory only",
                self.dir.display()
            ));
        }
        self.prune(script);
        self.save(script);
        version
    }

    /// Changes a version's status (a version that failed in its first
    /// frame).
    pub fn set_status(
        &mut self,
        script: &str,
        version: u32,
        status: VersionStatus,
        error: Option<String>,
    ) {
        let index = self.index(script);
        if let Some(v) = index.versions.iter_mut().find(|v| v.version == version) {
            v.status = status;
            if error.is_some() {
                v.error = error;
            }
        }
        self.save(script);
    }

    fn prune(&mut self, script: &str) {
        let keep = self.keep;
        let index = self.index(script);
        let excess = index.versions.len().saturating_sub(keep);
        let gone: Vec<u32> = index.versions.drain(..excess).map(|v| v.version).collect();
        for version in gone {
            self.texts.remove(&(script.to_string(), version));
            let _ = std::fs::remove_file(self.text_path(script, version));
        }
    }

    fn save(&mut self, script: &str) {
        let path = self.index_path(script);
        let json = serde_json::to_vec_pretty(self.index(script)).unwrap_or_default();
        if let Err(err) = write_atomic(&path, &json) {
            self.note_problem(format!(
                "{}: cannot save the version history ({err}); it is kept in memory only",
                path.display()
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_survive_reopening_and_are_pruned() {
        let dir = tempfile::tempdir().unwrap();
        let mut h = History::open(dir.path(), 3);
        for i in 0..5 {
            h.record(
                "scripts/a.lua",
                &format!("print({i})"),
                VersionStatus::Loaded,
                None,
                "reload",
            );
        }
        h.record(
            "scripts/a.lua",
            "bad(",
            VersionStatus::Failed,
            Some("scripts/a.lua:1: oops".into()),
            "reload",
        );
        let mut reopened = History::open(dir.path(), 3);
        let versions = reopened.versions("scripts/a.lua");
        assert_eq!(
            versions.iter().map(|v| v.version).collect::<Vec<_>>(),
            vec![4, 5, 6]
        );
        assert_eq!(versions[2].status, VersionStatus::Failed);
        assert_eq!(
            reopened.text("scripts/a.lua", 5).as_deref(),
            Some("print(4)")
        );
        assert_eq!(reopened.text("scripts/a.lua", 1), None, "pruned");
        assert!(reopened.take_problem().is_none());
    }

    #[test]
    fn a_corrupt_index_is_kept_aside() {
        let dir = tempfile::tempdir().unwrap();
        let mut h = History::open(dir.path(), 10);
        h.record(
            "scripts/a.lua",
            "x = 1",
            VersionStatus::Loaded,
            None,
            "load",
        );
        let index = dir.path().join("history/scripts__a.lua/index.json");
        std::fs::write(&index, b"{not json").unwrap();
        let mut h = History::open(dir.path(), 10);
        assert_eq!(
            h.record(
                "scripts/a.lua",
                "x = 2",
                VersionStatus::Loaded,
                None,
                "load"
            ),
            1
        );
        assert!(h.take_problem().unwrap().contains("unreadable"));
        let kept: Vec<PathBuf> = std::fs::read_dir(dir.path().join("history"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().contains("corrupt"))
            .collect();
        assert_eq!(kept.len(), 1);
        assert_eq!(
            std::fs::read_to_string(kept[0].join("v00001.lua")).unwrap(),
            "x = 1",
            "the old texts are kept, not overwritten by the new v1"
        );
        assert_eq!(h.text("scripts/a.lua", 1).as_deref(), Some("x = 2"));
    }

    #[test]
    fn an_unwritable_folder_keeps_history_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        // A file where the history folder should be.
        std::fs::write(dir.path().join("history"), b"").unwrap();
        let mut h = History::open(dir.path(), 10);
        let v = h.record(
            "scripts/a.lua",
            "x = 1",
            VersionStatus::Loaded,
            None,
            "load",
        );
        assert_eq!(h.text("scripts/a.lua", v).as_deref(), Some("x = 1"));
        assert!(h.take_problem().unwrap().contains("in memory"));
        assert!(h.take_problem().is_none(), "reported once");
    }
}
