//! The script editor's buffers: the text being edited, what is on disk,
//! saving, and the autosave that keeps unsaved text safe across a crash or
//! a restart (`.ecscope/autosave/`, written atomically).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use crate::hot_reload::history::write_atomic;

/// How long after the last keystroke unsaved text is written to the
/// autosave.
pub const AUTOSAVE_AFTER: Duration = Duration::from_millis(1500);

/// How often files are checked for outside changes.
const RECHECK: Duration = Duration::from_millis(400);

/// One open script.
#[derive(Debug)]
pub struct Buffer {
    /// What the editor shows.
    pub text: String,
    /// The file's content when last read or saved.
    pub disk_text: String,
    disk_modified: Option<SystemTime>,
    checked: Instant,
    /// The file changed on disk while the buffer had unsaved edits.
    pub conflict: Option<String>,
    /// Unsaved text was restored from the autosave when the buffer opened.
    pub restored: bool,
    /// The file is gone from disk (deleted or renamed); the text is kept
    /// and saving writes it back.
    pub missing: bool,
    edited_at: Option<Instant>,
    autosaved: Option<String>,
}

impl Buffer {
    /// Whether the text differs from the file.
    pub fn is_dirty(&self) -> bool {
        self.text != self.disk_text
    }

    /// The buffer and the file agree on `text`: nothing pending.
    fn settle(&mut self, text: String, modified: Option<SystemTime>) {
        self.disk_text = text.clone();
        self.text = text;
        self.disk_modified = modified;
        self.conflict = None;
        self.restored = false;
        self.missing = false;
        self.edited_at = None;
        self.autosaved = None;
    }
}

/// The open buffers of one project.
#[derive(Debug)]
pub struct Buffers {
    root: PathBuf,
    buffers: BTreeMap<String, Buffer>,
    /// The last problem writing an autosave or a save, for the panel.
    pub problem: Option<String>,
}

impl Buffers {
    /// Buffers for the project at `root`.
    pub fn new(root: &Path) -> Buffers {
        Buffers {
            root: root.to_path_buf(),
            buffers: BTreeMap::new(),
            problem: None,
        }
    }

    /// The project folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn autosave_path(&self, file: &str) -> PathBuf {
        self.root
            .join(crate::project::DATA_DIR)
            .join("autosave")
            .join(file)
    }

    /// The file's text (lossy for bytes that are not UTF-8, so a binary
    /// file shows as such) and time, or `None` when it cannot be read.
    fn read_disk(&self, file: &str) -> Option<(String, Option<SystemTime>)> {
        let full = self.root.join(file);
        let modified = std::fs::metadata(&full).and_then(|m| m.modified()).ok();
        let bytes = std::fs::read(&full).ok()?;
        Some((String::from_utf8_lossy(&bytes).into_owned(), modified))
    }

    /// Makes the next [`Buffers::check_disk`] look at the file at once.
    pub fn recheck_now(&mut self, file: &str) {
        if let Some(b) = self.buffers.get_mut(file) {
            b.checked = Instant::now() - RECHECK;
        }
    }

    /// The buffer of a file, opened from disk (and from its autosave, when
    /// one holds unsaved text) the first time.
    pub fn open(&mut self, file: &str) -> &mut Buffer {
        if !self.buffers.contains_key(file) {
            let disk = self.read_disk(file);
            let missing = disk.is_none();
            let (disk_text, disk_modified) = disk.unwrap_or_default();
            let autosave = std::fs::read_to_string(self.autosave_path(file)).ok();
            let (text, restored) = match autosave {
                Some(saved) if saved != disk_text => (saved, true),
                _ => (disk_text.clone(), false),
            };
            self.buffers.insert(
                file.to_string(),
                Buffer {
                    autosaved: restored.then(|| text.clone()),
                    text,
                    disk_text,
                    disk_modified,
                    checked: Instant::now(),
                    conflict: None,
                    restored,
                    missing,
                    edited_at: None,
                },
            );
        }
        self.buffers.get_mut(file).expect("just inserted")
    }

    /// Files with unsaved edits.
    pub fn dirty(&self) -> Vec<String> {
        self.buffers
            .iter()
            .filter(|(_, b)| b.is_dirty())
            .map(|(f, _)| f.clone())
            .collect()
    }

    /// Call after the user typed in a buffer.
    pub fn edited(&mut self, file: &str) {
        if let Some(b) = self.buffers.get_mut(file) {
            b.edited_at = Some(Instant::now());
        }
    }

    /// Picks up outside changes: a clean buffer follows the file; a dirty
    /// one is marked as in conflict (the user chooses).
    pub fn check_disk(&mut self, file: &str) {
        let Some(b) = self.buffers.get(file) else {
            return;
        };
        if b.checked.elapsed() < RECHECK {
            return;
        }
        let full = self.root.join(file);
        let modified = std::fs::metadata(&full).and_then(|m| m.modified()).ok();
        let unchanged = modified.is_some() && modified == b.disk_modified && !b.missing;
        let disk = if unchanged {
            None
        } else {
            Some(self.read_disk(file))
        };
        let b = self.buffers.get_mut(file).expect("checked above");
        b.checked = Instant::now();
        let Some(disk) = disk else {
            return;
        };
        // A vanished file leaves the text as it was: it may be all that
        // is left of the script.
        let Some((text, modified)) = disk else {
            b.missing = true;
            return;
        };
        b.missing = false;
        b.disk_modified = modified;
        if text == b.disk_text {
            return;
        }
        if b.is_dirty() {
            if text != b.text {
                b.conflict = Some(text);
            } else {
                b.disk_text = text;
            }
        } else {
            b.text = text.clone();
            b.disk_text = text;
        }
    }

    /// Writes the buffer to its file (atomically) and drops its autosave.
    pub fn save(&mut self, file: &str) -> Result<(), super::GuiError> {
        let full = self.root.join(file);
        let autosave = self.autosave_path(file);
        let b = self
            .buffers
            .get_mut(file)
            .ok_or_else(|| format!("{file} is not open"))?;
        write_atomic(&full, b.text.as_bytes())
            .map_err(|e| format!("{}: cannot save: {e}", full.display()))?;
        let text = b.text.clone();
        b.settle(
            text,
            std::fs::metadata(&full).and_then(|m| m.modified()).ok(),
        );
        let _ = std::fs::remove_file(autosave);
        Ok(())
    }

    /// Throws the edits away: the buffer takes the file's text (the caller
    /// asks the user first).
    pub fn discard(&mut self, file: &str) {
        let Some((text, modified)) = self.read_disk(file) else {
            // Nothing to go back to: the edits stay.
            return;
        };
        let autosave = self.autosave_path(file);
        if let Some(b) = self.buffers.get_mut(file) {
            b.settle(text, modified);
        }
        let _ = std::fs::remove_file(autosave);
    }

    /// Keeps the edits over a conflicting outside change (the next save
    /// overwrites the file).
    pub fn keep_mine(&mut self, file: &str) {
        if let Some(b) = self.buffers.get_mut(file)
            && let Some(disk) = b.conflict.take()
        {
            b.disk_text = disk;
        }
    }

    /// Writes the autosave of buffers edited a while ago; call every frame.
    pub fn autosave(&mut self) {
        let due: Vec<String> = self
            .buffers
            .iter()
            .filter(|(_, b)| {
                b.is_dirty()
                    && b.autosaved.as_deref() != Some(b.text.as_str())
                    && b.edited_at.is_none_or(|t| t.elapsed() >= AUTOSAVE_AFTER)
            })
            .map(|(f, _)| f.clone())
            .collect();
        for file in due {
            self.write_autosave(&file);
        }
    }

    /// Writes every dirty buffer's autosave now (before quitting).
    pub fn autosave_now(&mut self) {
        for file in self.dirty() {
            self.write_autosave(&file);
        }
    }

    fn write_autosave(&mut self, file: &str) {
        let path = self.autosave_path(file);
        let Some(b) = self.buffers.get_mut(file) else {
            return;
        };
        match write_atomic(&path, b.text.as_bytes()) {
            Ok(()) => b.autosaved = Some(b.text.clone()),
            Err(e) => {
                self.problem = Some(format!(
                    "{}: cannot keep an autosave of your unsaved edits: {e}",
                    path.display()
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project() -> (tempfile::TempDir, Buffers) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("scripts")).unwrap();
        std::fs::write(dir.path().join("scripts/a.lua"), "print(1)\n").unwrap();
        let buffers = Buffers::new(dir.path());
        (dir, buffers)
    }

    #[test]
    fn unsaved_text_survives_a_crash() {
        let (dir, mut buffers) = project();
        buffers.open("scripts/a.lua").text = "print(2)\n".into();
        buffers.autosave_now();
        drop(buffers); // a crash: nothing else is written
        let mut reopened = Buffers::new(dir.path());
        let b = reopened.open("scripts/a.lua");
        assert_eq!(b.text, "print(2)\n");
        assert!(b.restored && b.is_dirty());
        reopened.save("scripts/a.lua").unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("scripts/a.lua")).unwrap(),
            "print(2)\n"
        );
        assert!(!dir.path().join(".ecscope/autosave/scripts/a.lua").exists());
    }

    #[test]
    fn outside_changes_follow_or_conflict() {
        let (dir, mut buffers) = project();
        buffers.open("scripts/a.lua");
        std::thread::sleep(Duration::from_millis(20));
        std::fs::write(dir.path().join("scripts/a.lua"), "print(3)\n").unwrap();
        buffers.open("scripts/a.lua").checked = Instant::now() - RECHECK;
        buffers.check_disk("scripts/a.lua");
        assert_eq!(
            buffers.open("scripts/a.lua").text,
            "print(3)\n",
            "a clean buffer follows"
        );

        buffers.open("scripts/a.lua").text = "mine\n".into();
        std::thread::sleep(Duration::from_millis(20));
        std::fs::write(dir.path().join("scripts/a.lua"), "theirs\n").unwrap();
        buffers.open("scripts/a.lua").checked = Instant::now() - RECHECK;
        buffers.check_disk("scripts/a.lua");
        let b = buffers.open("scripts/a.lua");
        assert_eq!(b.text, "mine\n", "edits are never overwritten");
        assert_eq!(b.conflict.as_deref(), Some("theirs\n"));
        buffers.keep_mine("scripts/a.lua");
        assert!(buffers.open("scripts/a.lua").conflict.is_none());
        assert!(buffers.open("scripts/a.lua").is_dirty());
    }

    #[test]
    fn a_deleted_file_keeps_its_text_and_saving_restores_it() {
        let (dir, mut buffers) = project();
        buffers.open("scripts/a.lua");
        std::fs::remove_file(dir.path().join("scripts/a.lua")).unwrap();
        buffers.recheck_now("scripts/a.lua");
        buffers.check_disk("scripts/a.lua");
        let b = buffers.open("scripts/a.lua");
        assert!(b.missing);
        assert_eq!(b.text, "print(1)\n");
        buffers.discard("scripts/a.lua");
        assert_eq!(
            buffers.open("scripts/a.lua").text,
            "print(1)\n",
            "nothing to revert to"
        );
        buffers.save("scripts/a.lua").unwrap();
        assert!(!buffers.open("scripts/a.lua").missing);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("scripts/a.lua")).unwrap(),
            "print(1)\n"
        );
    }
}
