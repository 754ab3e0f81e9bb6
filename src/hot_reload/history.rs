//! The version history of a project's scripts, under
//! `.ecscope/history/`: every version that was loaded, successfully or not,
//! with its time, hash, status and error. Files are written atomically
//! (write, then rename), survive restarts, and are pruned to a bounded count.
//!
//! Each script has its own folder, named by an injective encoding of its
//! path ([`folder_name`]), and its `index.json` names the script it belongs
//! to. The version files (`v00001.lua`...) are the truth about what is
//! stored: when a folder is opened its files are listed, and the index only
//! supplies the details (status, error, origin, time) of the files whose
//! hash it matches. So a missing index is rebuilt from the files, a listed
//! version whose text is missing or different is dropped, and new versions
//! are numbered after the highest file, never over one.
//!
//! A damaged index, or one that names another script, is set aside (moved
//! into a `<folder>#corrupt-<time>` folder, never overwritten) and the list
//! rebuilt from the files. A folder that cannot be written keeps the history
//! in memory and says so once; the saved index lists only the versions
//! whose text files were written, and texts that could not be written are
//! written as soon as the folder can be written again.

use std::collections::{BTreeMap, VecDeque};
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
    /// What made it: `load`, `reload`, `rollback to v3`... and `recovered`
    /// for a version found on disk but not in the index.
    #[serde(default)]
    pub origin: String,
}

/// `index.json`: whose folder this is, and its versions.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Index {
    /// The script's path. Absent in indexes written before it was stored:
    /// those are taken to belong to the script whose folder they are in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    script: Option<String>,
    versions: Vec<Version>,
}

/// The origin of a version rebuilt from its file alone.
const RECOVERED: &str = "recovered";

/// Version numbers on disk have at most this many digits, so numbering
/// after the highest file never overflows.
const MAX_DIGITS: usize = 9;

/// The longest folder name written in full; longer ones are shortened and
/// end in a hash of the path.
const MAX_FOLDER_NAME: usize = 160;

/// The hash stored with a version.
pub fn hash_text(text: &str) -> String {
    format!("{:016x}", fnv1a(text.as_bytes()))
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
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

/// The name of a script's history folder: its path with `/` written as
/// `__`, so names written before this encoding existed stay the same for
/// most paths, made injective by escaping whatever could be confused:
///
/// - `%` is always escaped (`%25`), and escapes are `%XX` per byte;
/// - `_` is escaped (`%5F`) when it is next to another `_` or a `/`, so a
///   run of underscores is either one literal `_` or `__` per `/`;
/// - `\` and `#` (which marks folders set aside), control characters and
///   the characters Windows forbids in names are escaped, as are a leading
///   `.` and a trailing `.` or space;
/// - the empty path is `%`, which no other path gives.
///
/// A name longer than [`MAX_FOLDER_NAME`] bytes is cut and ends in `#`
/// and a hash of the whole path; the index names the script in any case.
pub fn folder_name(script: &str) -> String {
    if script.is_empty() {
        return "%".to_string();
    }
    let chars: Vec<char> = script.chars().collect();
    let mut out = String::with_capacity(script.len() + 8);
    // Where each character's encoding ends, to cut long names whole.
    let mut ends = Vec::with_capacity(chars.len());
    for (i, &c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let next = chars.get(i + 1).copied();
        let joins = |c: Option<char>| matches!(c, Some('_' | '/'));
        let escape = match c {
            '/' => {
                out.push_str("__");
                ends.push(out.len());
                continue;
            }
            '_' => joins(prev) || joins(next),
            '%' | '\\' | '#' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => true,
            '.' => i == 0 || i + 1 == chars.len(),
            ' ' => i + 1 == chars.len(),
            c => c.is_control(),
        };
        if escape {
            let mut buf = [0u8; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{byte:02X}"));
            }
        } else {
            out.push(c);
        }
        ends.push(out.len());
    }
    if out.len() <= MAX_FOLDER_NAME {
        return out;
    }
    let cut = ends
        .iter()
        .copied()
        .take_while(|&end| end <= MAX_FOLDER_NAME - 17)
        .last()
        .unwrap_or(0);
    format!("{}#{:016x}", &out[..cut], fnv1a(script.as_bytes()))
}

/// The number in a version file's name, `v00042.lua` for version 42 of a
/// `.lua` script; `None` for any other name.
fn version_of_file(name: &str, ext: &str) -> Option<u32> {
    let digits = name
        .strip_prefix('v')?
        .strip_suffix(ext)?
        .strip_suffix('.')?;
    if digits.is_empty() || digits.len() > MAX_DIGITS || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let number: u32 = digits.parse().ok()?;
    // Only the name the store itself writes: `v1.lua` is not version 1.
    (number > 0 && format!("{number:05}") == digits).then_some(number)
}

/// The version files in a folder, by number, oldest first.
fn version_files(dir: &Path, ext: &str) -> std::io::Result<Vec<(u32, PathBuf)>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let Some(number) = entry
            .file_name()
            .to_str()
            .and_then(|name| version_of_file(name, ext))
        else {
            continue;
        };
        // Regular files only: not folders, not links out of the history.
        if entry.file_type().is_ok_and(|t| t.is_file()) {
            files.push((number, entry.path()));
        }
    }
    files.sort();
    Ok(files)
}

/// One version in memory.
#[derive(Debug)]
struct Entry {
    version: Version,
    /// Its text file was written (or found on disk): only these are listed
    /// in the saved index.
    saved: bool,
    /// Its text, for versions recorded in this session.
    text: Option<String>,
}

/// One script's versions in memory.
#[derive(Debug)]
struct ScriptHistory {
    entries: Vec<Entry>,
    /// The number the next version gets: after every version file seen.
    next: u32,
    /// False when the folder could not be read or its damaged index could
    /// not be set aside: then nothing is written there in this session.
    writable: bool,
}

/// The history of every script of one project.
#[derive(Debug)]
pub struct History {
    dir: PathBuf,
    keep: usize,
    scripts: BTreeMap<String, ScriptHistory>,
    /// Problems with the folder not yet reported.
    problems: VecDeque<String>,
    /// A failed write was reported: the next ones are not.
    write_failure_noted: bool,
}

impl History {
    /// The history under `<project>/.ecscope/history`, keeping `keep`
    /// versions per script.
    pub fn open(project_data_dir: &Path, keep: usize) -> History {
        History {
            dir: project_data_dir.join("history"),
            keep: keep.max(1),
            scripts: BTreeMap::new(),
            problems: VecDeque::new(),
            write_failure_noted: false,
        }
    }

    /// The problems with the history folder not yet reported, one a line.
    /// A folder that cannot be written is reported once.
    pub fn take_problem(&mut self) -> Option<String> {
        if self.problems.is_empty() {
            return None;
        }
        let problems: Vec<String> = self.problems.drain(..).collect();
        Some(problems.join("\n"))
    }

    fn note_problem(&mut self, message: String) {
        self.problems.push_back(message);
    }

    fn note_write_failure(&mut self, message: String) {
        if !self.write_failure_noted {
            self.write_failure_noted = true;
            self.note_problem(message);
        }
    }

    /// The folder of one script's versions.
    fn script_dir(&self, script: &str) -> PathBuf {
        self.dir.join(folder_name(script))
    }

    fn index_path(&self, script: &str) -> PathBuf {
        self.script_dir(script).join("index.json")
    }

    fn extension(script: &str) -> &str {
        Path::new(script)
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("txt")
    }

    fn text_path(&self, script: &str, version: u32) -> PathBuf {
        let ext = Self::extension(script);
        self.script_dir(script).join(format!("v{version:05}.{ext}"))
    }

    /// Moves a damaged index into a new `<folder>#corrupt-<time>` folder
    /// beside the script's folder.
    fn set_aside(&self, script: &str) -> std::io::Result<PathBuf> {
        let base = format!("{}#corrupt-{}", folder_name(script), now());
        let mut aside = self.dir.join(&base);
        let mut n = 1;
        loop {
            match std::fs::create_dir(&aside) {
                Ok(()) => break,
                Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => {
                    n += 1;
                    aside = self.dir.join(format!("{base}-{n}"));
                }
                Err(err) => return Err(err),
            }
        }
        std::fs::rename(self.index_path(script), aside.join("index.json"))?;
        Ok(aside)
    }

    /// Reads a script's folder: its version files, with the details the
    /// index has for them.
    fn load(&mut self, script: &str) -> ScriptHistory {
        let dir = self.script_dir(script);
        let index_path = self.index_path(script);
        let mut writable = true;
        // Why the index could not be used, and whether to set it aside.
        let mut rejected: Option<(String, bool)> = None;
        let mut index_found = false;
        let listed = match std::fs::read(&index_path) {
            Ok(bytes) => match serde_json::from_slice::<Index>(&bytes) {
                Ok(index) => match &index.script {
                    Some(owner) if owner != script => {
                        rejected = Some((format!("belonged to {owner}, not {script}"), true));
                        Vec::new()
                    }
                    _ => {
                        index_found = true;
                        index.versions
                    }
                },
                Err(err) => {
                    rejected = Some((format!("was unreadable ({err})"), true));
                    Vec::new()
                }
            },
            // Not there (nor, perhaps, its folder): nothing to keep.
            Err(_) if index_path.symlink_metadata().is_err() => Vec::new(),
            Err(err) => {
                // Unreadable but there: not overwritten in this session.
                writable = false;
                rejected = Some((format!("could not be read ({err})"), false));
                Vec::new()
            }
        };
        let files = match version_files(&dir, Self::extension(script)) {
            Ok(files) => files,
            Err(err) => {
                if dir.is_dir() {
                    // Versions may be there: write none over them.
                    writable = false;
                    self.note_problem(format!(
                        "{}: cannot list the stored versions ({err}); the history of {script} is kept in memory only",
                        dir.display()
                    ));
                }
                Vec::new()
            }
        };
        let mut entries = Vec::with_capacity(files.len());
        let mut matched = 0;
        for (number, path) in &files {
            let Ok(text) = std::fs::read_to_string(path) else {
                continue;
            };
            let hash = hash_text(&text);
            let known = listed
                .iter()
                .find(|v| v.version == *number && v.hash == hash);
            let version = match known {
                Some(v) => {
                    matched += 1;
                    v.clone()
                }
                None => Version {
                    version: *number,
                    time: std::fs::metadata(path)
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                        .map_or_else(now, |d| d.as_secs()),
                    hash,
                    status: VersionStatus::Loaded,
                    error: None,
                    origin: RECOVERED.to_string(),
                },
            };
            entries.push(Entry {
                version,
                saved: true,
                text: None,
            });
        }
        let next = files.last().map_or(1, |(number, _)| number + 1);
        let rebuilt = format!(
            "the list was rebuilt from the {} stored version{}",
            entries.len(),
            if entries.len() == 1 { "" } else { "s" }
        );
        if let Some((why, aside)) = rejected {
            let kept = if aside {
                match self.set_aside(script) {
                    Ok(aside) => format!("it was kept in {}", aside.display()),
                    Err(err) => {
                        writable = false;
                        format!(
                            "it could not be set aside ({err}), so the history is kept in memory only"
                        )
                    }
                }
            } else {
                "it is left as it is and the history kept in memory only".to_string()
            };
            self.note_problem(format!(
                "{}: the version history {why}; {kept}, and {rebuilt}",
                index_path.display()
            ));
        } else if !index_found && !entries.is_empty() {
            self.note_problem(format!(
                "{}: the version history was missing; {rebuilt}",
                index_path.display()
            ));
        } else if index_found && (matched != listed.len() || matched != entries.len()) {
            self.note_problem(format!(
                "{}: the version history did not match the stored texts; {rebuilt}",
                index_path.display()
            ));
        }
        ScriptHistory {
            entries,
            next,
            writable,
        }
    }

    fn script(&mut self, script: &str) -> &mut ScriptHistory {
        if !self.scripts.contains_key(script) {
            let loaded = self.load(script);
            self.scripts.insert(script.to_string(), loaded);
        }
        self.scripts.get_mut(script).expect("just inserted")
    }

    /// Every stored version of a script, oldest first (with, while the
    /// folder cannot be written, the versions kept in memory only).
    pub fn versions(&mut self, script: &str) -> Vec<Version> {
        self.script(script)
            .entries
            .iter()
            .map(|e| e.version.clone())
            .collect()
    }

    /// The latest version of a script.
    pub fn latest(&mut self, script: &str) -> Option<Version> {
        self.script(script)
            .entries
            .last()
            .map(|e| e.version.clone())
    }

    /// The text of a stored version: only a listed version of this script,
    /// and only a text whose hash is the one recorded.
    pub fn text(&mut self, script: &str, version: u32) -> Option<String> {
        let entry = self
            .script(script)
            .entries
            .iter()
            .find(|e| e.version.version == version)?;
        if let Some(text) = &entry.text {
            return Some(text.clone());
        }
        if !entry.saved {
            return None;
        }
        let hash = entry.version.hash.clone();
        let text = std::fs::read_to_string(self.text_path(script, version)).ok()?;
        (hash_text(&text) == hash).then_some(text)
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
        let mut version = self.script(script).next;
        // Never over a file that appeared since the folder was read.
        while version < u32::MAX && self.text_path(script, version).symlink_metadata().is_ok() {
            version += 1;
        }
        let history = self.script(script);
        history.next = version.saturating_add(1);
        history.entries.push(Entry {
            version: Version {
                version,
                time: now(),
                hash,
                status,
                error,
                origin: origin.to_string(),
            },
            saved: false,
            text: Some(text.to_string()),
        });
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
        let history = self.script(script);
        if let Some(e) = history
            .entries
            .iter_mut()
            .find(|e| e.version.version == version)
        {
            e.version.status = status;
            if error.is_some() {
                e.version.error = error;
            }
        }
        self.save(script);
    }

    fn prune(&mut self, script: &str) {
        let keep = self.keep;
        let history = self.script(script);
        let excess = history.entries.len().saturating_sub(keep);
        let gone: Vec<(u32, bool)> = history
            .entries
            .drain(..excess)
            .map(|e| (e.version.version, e.saved))
            .collect();
        for (version, saved) in gone {
            if saved {
                let _ = std::fs::remove_file(self.text_path(script, version));
            }
        }
    }

    /// Writes the texts not yet written, then the index of the versions
    /// whose texts are on disk.
    fn save(&mut self, script: &str) {
        if !self.script(script).writable {
            // Reported when the folder was read.
            return;
        }
        let unsaved: Vec<(usize, u32)> = self
            .script(script)
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| !e.saved && e.text.is_some())
            .map(|(i, e)| (i, e.version.version))
            .collect();
        let mut failure = None;
        for (i, version) in unsaved {
            let path = self.text_path(script, version);
            if path.symlink_metadata().is_ok() {
                // Something else is there now: never overwritten, and this
                // version stays in memory only.
                continue;
            }
            let history = self.script(script);
            let text = history.entries[i].text.as_deref().unwrap_or_default();
            match write_atomic(&path, text.as_bytes()) {
                Ok(()) => history.entries[i].saved = true,
                Err(err) => {
                    failure = Some(err);
                    break;
                }
            }
        }
        if let Some(err) = failure {
            self.note_write_failure(format!(
                "{}: cannot save script versions ({err}); the history is kept in memory only",
                self.dir.display()
            ));
        }
        let history = self.script(script);
        let index = Index {
            script: Some(script.to_string()),
            versions: history
                .entries
                .iter()
                .filter(|e| e.saved)
                .map(|e| e.version.clone())
                .collect(),
        };
        let path = self.index_path(script);
        let json = serde_json::to_vec_pretty(&index).unwrap_or_default();
        if let Err(err) = write_atomic(&path, &json) {
            self.note_write_failure(format!(
                "{}: cannot save the version history ({err}); it is kept in memory only",
                path.display()
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(h: &mut History, script: &str, text: &str) -> u32 {
        h.record(script, text, VersionStatus::Loaded, None, "test")
    }

    fn numbers(h: &mut History, script: &str) -> Vec<u32> {
        h.versions(script).iter().map(|v| v.version).collect()
    }

    /// The versions `index.json` lists on disk, and the script it names.
    fn index_on_disk(dir: &Path, script: &str) -> (Option<String>, Vec<u32>) {
        let path = dir
            .join("history")
            .join(folder_name(script))
            .join("index.json");
        let index: Index = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        (
            index.script,
            index.versions.iter().map(|v| v.version).collect(),
        )
    }

    /// Every listed version of a script reads back, after reopening, as
    /// the text it was recorded with.
    fn assert_all_read_back(dir: &Path, script: &str, texts: &BTreeMap<u32, String>) {
        let mut h = History::open(dir, 100);
        for v in h.versions(script) {
            let text = h.text(script, v.version);
            assert_eq!(
                text.as_ref(),
                texts.get(&v.version),
                "{script} v{} reads back as recorded",
                v.version
            );
            assert_eq!(hash_text(text.as_deref().unwrap()), v.hash);
        }
    }

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
        assert_eq!(versions[2].origin, "reload");
        assert_eq!(
            reopened.text("scripts/a.lua", 5).as_deref(),
            Some("print(4)")
        );
        assert_eq!(reopened.text("scripts/a.lua", 1), None, "pruned");
        assert!(reopened.take_problem().is_none());
        assert_eq!(
            index_on_disk(dir.path(), "scripts/a.lua"),
            (Some("scripts/a.lua".to_string()), vec![4, 5, 6]),
            "the index names its script"
        );
    }

    #[test]
    fn folder_names_are_injective_and_keep_the_old_names() {
        let paths = [
            "scripts/a/b.lua",
            "scripts/a__b.lua",
            "scripts\\a__b.lua",
            "scripts\\a\\b.lua",
            "scripts/a_/b.lua",
            "scripts/a/_b.lua",
            "scripts/a___b.lua",
            "scripts/a_b.lua",
            "scripts/a%5Fb.lua",
            "scripts/a%2F%2Fb.lua",
            "scripts//a/b.lua",
            "scripts/a.lua#corrupt-1",
            "scripts/a.lua",
            "_",
            "__",
            "/",
            "//",
            "%",
            "",
            ".",
            "..",
            "a.",
            "a ",
            "a:b",
            "é/ü.lua",
        ];
        let names: std::collections::BTreeSet<String> =
            paths.iter().map(|p| folder_name(p)).collect();
        assert_eq!(names.len(), paths.len(), "{names:?}");
        for name in &names {
            assert!(!name.is_empty() && name != "." && name != "..");
            assert!(!name.contains(['/', '\\', '#', ':']), "{name}");
        }
        // Paths without `__`, `\`, `%`... keep the names written before.
        assert_eq!(folder_name("scripts/a.lua"), "scripts__a.lua");
        assert_eq!(folder_name("scripts/sub/c.lua"), "scripts__sub__c.lua");
        assert_eq!(folder_name("scripts/my_system.py"), "scripts__my_system.py");
        assert_eq!(folder_name("scripts/a__b.lua"), "scripts__a%5F%5Fb.lua");
        // Long paths give short names, still distinct.
        let long_a = format!("scripts/{}/a.lua", "x".repeat(400));
        let long_b = format!("scripts/{}/b.lua", "x".repeat(400));
        assert!(folder_name(&long_a).len() <= MAX_FOLDER_NAME);
        assert_ne!(folder_name(&long_a), folder_name(&long_b));
    }

    #[test]
    fn colliding_paths_keep_their_own_histories() {
        let dir = tempfile::tempdir().unwrap();
        let scripts = ["scripts/a/b.lua", "scripts/a__b.lua", "scripts/a_/_b.lua"];
        {
            let mut h = History::open(dir.path(), 10);
            for round in 0..2 {
                for script in scripts {
                    assert_eq!(
                        record(&mut h, script, &format!("-- {script} {round}")),
                        round + 1
                    );
                }
            }
            assert!(h.take_problem().is_none());
        }
        let mut h = History::open(dir.path(), 10);
        for script in scripts {
            assert_eq!(numbers(&mut h, script), vec![1, 2], "{script}");
            for round in 0..2 {
                assert_eq!(
                    h.text(script, round + 1),
                    Some(format!("-- {script} {round}")),
                    "a rollback of {script} restores its own text"
                );
            }
            let (owner, listed) = index_on_disk(dir.path(), script);
            assert_eq!(owner.as_deref(), Some(script));
            assert_eq!(listed, vec![1, 2]);
        }
        assert!(h.take_problem().is_none());
    }

    #[test]
    fn an_old_index_without_a_path_is_read_in_place() {
        let dir = tempfile::tempdir().unwrap();
        // A folder as the store wrote it before indexes named their script.
        let folder = dir.path().join("history/scripts__a.lua");
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("v00001.lua"), "x = 1").unwrap();
        std::fs::write(folder.join("v00002.lua"), "x = 2").unwrap();
        let index = format!(
            r#"{{"versions":[
                {{"version":1,"time":5,"hash":"{}","status":"loaded","origin":"load"}},
                {{"version":2,"time":6,"hash":"{}","status":"failed","error":"e","origin":"reload"}}
            ]}}"#,
            hash_text("x = 1"),
            hash_text("x = 2")
        );
        std::fs::write(folder.join("index.json"), index).unwrap();
        let mut h = History::open(dir.path(), 10);
        let versions = h.versions("scripts/a.lua");
        assert_eq!(versions.len(), 2);
        assert_eq!(versions[1].status, VersionStatus::Failed);
        assert_eq!(versions[1].origin, "reload");
        assert_eq!(h.text("scripts/a.lua", 1).as_deref(), Some("x = 1"));
        assert!(h.take_problem().is_none());
        assert_eq!(record(&mut h, "scripts/a.lua", "x = 3"), 3);
        assert_eq!(
            index_on_disk(dir.path(), "scripts/a.lua"),
            (Some("scripts/a.lua".to_string()), vec![1, 2, 3]),
            "the folder is claimed: the index now names its script"
        );
    }

    #[test]
    fn a_deleted_index_is_rebuilt_and_no_text_is_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let script = "scripts/a.lua";
        {
            let mut h = History::open(dir.path(), 10);
            record(&mut h, script, "x = 1");
            h.record(
                script,
                "x = (",
                VersionStatus::Failed,
                Some("e".into()),
                "reload",
            );
        }
        let folder = dir.path().join("history/scripts__a.lua");
        std::fs::remove_file(folder.join("index.json")).unwrap();
        let mut h = History::open(dir.path(), 10);
        let rebuilt = h.versions(script);
        assert_eq!(
            rebuilt.iter().map(|v| v.version).collect::<Vec<_>>(),
            vec![1, 2]
        );
        assert!(rebuilt.iter().all(|v| v.origin == RECOVERED));
        assert!(h.take_problem().unwrap().contains("missing"));
        assert_eq!(
            record(&mut h, script, "x = 3"),
            3,
            "numbered after the files"
        );
        assert_eq!(
            std::fs::read_to_string(folder.join("v00001.lua")).unwrap(),
            "x = 1",
            "v1 is intact"
        );
        drop(h);
        let mut h = History::open(dir.path(), 10);
        assert_eq!(numbers(&mut h, script), vec![1, 2, 3]);
        assert_eq!(h.text(script, 1).as_deref(), Some("x = 1"));
        assert_eq!(h.text(script, 2).as_deref(), Some("x = ("));
        assert_eq!(h.text(script, 3).as_deref(), Some("x = 3"));
        assert!(h.take_problem().is_none(), "the index was saved again");
    }

    #[test]
    fn a_garbage_index_is_kept_aside_and_the_list_rebuilt() {
        let dir = tempfile::tempdir().unwrap();
        let mut h = History::open(dir.path(), 10);
        record(&mut h, "scripts/a.lua", "x = 1");
        let index = dir.path().join("history/scripts__a.lua/index.json");
        std::fs::write(&index, b"{not json").unwrap();
        let mut h = History::open(dir.path(), 10);
        assert_eq!(record(&mut h, "scripts/a.lua", "x = 2"), 2);
        assert!(h.take_problem().unwrap().contains("unreadable"));
        let kept: Vec<PathBuf> = std::fs::read_dir(dir.path().join("history"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().contains("corrupt"))
            .collect();
        assert_eq!(kept.len(), 1);
        assert_eq!(
            std::fs::read(kept[0].join("index.json")).unwrap(),
            b"{not json",
            "the damaged index is kept, not overwritten"
        );
        assert_eq!(h.text("scripts/a.lua", 1).as_deref(), Some("x = 1"));
        assert_eq!(h.text("scripts/a.lua", 2).as_deref(), Some("x = 2"));
        let mut h = History::open(dir.path(), 10);
        assert_eq!(numbers(&mut h, "scripts/a.lua"), vec![1, 2]);
        assert_eq!(h.text("scripts/a.lua", 1).as_deref(), Some("x = 1"));
    }

    #[test]
    fn an_index_of_another_script_is_kept_aside() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut h = History::open(dir.path(), 10);
            record(&mut h, "scripts/a.lua", "a = 1");
            for i in 1..=3 {
                record(&mut h, "scripts/b.lua", &format!("b = {i}"));
            }
        }
        let history = dir.path().join("history");
        std::fs::copy(
            history.join("scripts__b.lua/index.json"),
            history.join("scripts__a.lua/index.json"),
        )
        .unwrap();
        let mut h = History::open(dir.path(), 10);
        assert_eq!(numbers(&mut h, "scripts/a.lua"), vec![1], "not b's list");
        assert_eq!(h.text("scripts/a.lua", 1).as_deref(), Some("a = 1"));
        assert_eq!(h.text("scripts/a.lua", 3), None, "b's v3 is not a's");
        let problem = h.take_problem().unwrap();
        assert!(problem.contains("belonged to scripts/b.lua"), "{problem}");
        assert_eq!(record(&mut h, "scripts/a.lua", "a = 2"), 2);
        assert_eq!(numbers(&mut h, "scripts/b.lua"), vec![1, 2, 3]);
        assert_eq!(h.text("scripts/b.lua", 3).as_deref(), Some("b = 3"));
        assert_eq!(
            index_on_disk(dir.path(), "scripts/a.lua"),
            (Some("scripts/a.lua".to_string()), vec![1, 2])
        );
    }

    #[test]
    fn listed_versions_whose_texts_are_gone_or_changed_are_not_returned() {
        let dir = tempfile::tempdir().unwrap();
        let script = "scripts/a.lua";
        {
            let mut h = History::open(dir.path(), 10);
            for i in 1..=3 {
                record(&mut h, script, &format!("x = {i}"));
            }
        }
        let folder = dir.path().join("history/scripts__a.lua");
        std::fs::remove_file(folder.join("v00002.lua")).unwrap();
        // A text changed under an open store is not returned as the old one.
        let mut open = History::open(dir.path(), 10);
        assert_eq!(numbers(&mut open, script), vec![1, 3]);
        std::fs::write(folder.join("v00003.lua"), "changed").unwrap();
        assert_eq!(open.text(script, 3), None, "the hash does not match");
        assert_eq!(open.text(script, 2), None);
        // Reopened, the file is what is stored: listed with its own hash.
        let mut h = History::open(dir.path(), 10);
        let versions = h.versions(script);
        assert_eq!(
            versions.iter().map(|v| v.version).collect::<Vec<_>>(),
            vec![1, 3]
        );
        assert_eq!(versions[1].hash, hash_text("changed"));
        assert_eq!(h.text(script, 3).as_deref(), Some("changed"));
        assert!(h.take_problem().unwrap().contains("did not match"));
    }

    #[test]
    fn a_new_version_never_overwrites_a_file_that_appeared() {
        let dir = tempfile::tempdir().unwrap();
        let script = "scripts/a.lua";
        let mut h = History::open(dir.path(), 10);
        assert!(h.versions(script).is_empty());
        let folder = dir.path().join("history/scripts__a.lua");
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("v00001.lua"), "someone else's").unwrap();
        assert_eq!(record(&mut h, script, "x = 1"), 2);
        assert_eq!(
            std::fs::read_to_string(folder.join("v00001.lua")).unwrap(),
            "someone else's"
        );
        assert_eq!(h.text(script, 1), None, "not listed, not returned");
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
        assert_eq!(record(&mut h, "scripts/a.lua", "x = 2"), 2);
        assert!(h.take_problem().is_none(), "reported once");
        // Writable again: the texts kept in memory are written, then listed.
        std::fs::remove_file(dir.path().join("history")).unwrap();
        assert_eq!(record(&mut h, "scripts/a.lua", "x = 3"), 3);
        assert_eq!(index_on_disk(dir.path(), "scripts/a.lua").1, vec![1, 2, 3]);
        let texts = (1..=3).map(|i| (i, format!("x = {i}"))).collect();
        assert_all_read_back(dir.path(), "scripts/a.lua", &texts);
    }

    #[test]
    fn a_text_that_cannot_be_written_is_not_listed_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let script = "scripts/a.lua";
        let folder = dir.path().join("history/scripts__a.lua");
        let mut h = History::open(dir.path(), 10);
        record(&mut h, script, "x = 1");
        // A folder where v2's temporary file goes: its text cannot be
        // written (even by root), while the index still can.
        let blocker = folder.join("v00002.lua.tmp");
        std::fs::create_dir(&blocker).unwrap();
        assert_eq!(record(&mut h, script, "x = 2"), 2);
        assert!(h.take_problem().unwrap().contains("in memory"));
        assert_eq!(numbers(&mut h, script), vec![1, 2], "kept in memory");
        assert_eq!(h.text(script, 2).as_deref(), Some("x = 2"));
        assert_eq!(index_on_disk(dir.path(), script).1, vec![1], "not saved");
        {
            let mut reopened = History::open(dir.path(), 10);
            assert_eq!(numbers(&mut reopened, script), vec![1]);
            assert_eq!(reopened.text(script, 2), None);
        }
        // Writable again: v2 is written with v3, and both are listed.
        std::fs::remove_dir(&blocker).unwrap();
        assert_eq!(record(&mut h, script, "x = 3"), 3);
        assert_eq!(index_on_disk(dir.path(), script).1, vec![1, 2, 3]);
        let texts = (1..=3).map(|i| (i, format!("x = {i}"))).collect();
        assert_all_read_back(dir.path(), script, &texts);
    }

    #[cfg(unix)]
    #[test]
    fn a_read_only_folder_lists_nothing_it_cannot_read_back() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let script = "scripts/a.lua";
        let folder = dir.path().join("history/scripts__a.lua");
        let mut h = History::open(dir.path(), 10);
        record(&mut h, script, "x = 1");
        std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o555)).unwrap();
        // Root writes through permissions: then only what follows from
        // them is not checked.
        let enforced = std::fs::write(folder.join("probe"), b"").is_err();
        let _ = std::fs::remove_file(folder.join("probe"));
        record(&mut h, script, "x = 2");
        if enforced {
            assert!(h.take_problem().unwrap().contains("in memory"));
            assert_eq!(index_on_disk(dir.path(), script).1, vec![1]);
        }
        let some_texts = (1..=2).map(|i| (i, format!("x = {i}"))).collect();
        assert_all_read_back(dir.path(), script, &some_texts);
        std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o755)).unwrap();
        record(&mut h, script, "x = 3");
        assert_eq!(index_on_disk(dir.path(), script).1, vec![1, 2, 3]);
        let texts = (1..=3).map(|i| (i, format!("x = {i}"))).collect();
        assert_all_read_back(dir.path(), script, &texts);
    }
}
