//! `ecscope.toml`: the project manifest (SCRIPT_API §1).
//!
//! Parsing is strict: an unknown key, a wrong type, a missing script file or
//! invalid TOML is a [`ManifestError`] that names the manifest file, the line
//! and the key path (`world.seed`, `script[2].path`).

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

/// The file name every project has at its root.
pub const MANIFEST_FILE: &str = "ecscope.toml";

/// Default fixed time step: 1/60 s.
pub const DEFAULT_FIXED_DT: f64 = 1.0 / 60.0;

/// The parsed manifest, with every script path checked to exist.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// `[project]`.
    pub project: ProjectSection,
    /// `[world]`.
    pub world: WorldSection,
    /// `[[script]]` entries in load order.
    pub scripts: Vec<ScriptEntry>,
    /// `[limits]`, applied to every script.
    pub limits: Limits,
    /// `[history]`: how many versions of each script are kept.
    pub history: HistorySection,
    /// `[sandbox]`.
    pub sandbox: SandboxSection,
    /// `[profiling]` (SCRIPT_API §7).
    pub profiling: ProfilingSection,
    /// `[runtime]` (SCRIPT_API §5).
    pub runtime: RuntimeSection,
    /// `[budgets]` (SCRIPT_API §7): `frame_ms`, and p95 ms per frame of
    /// systems named `script:system`. Read and checked here; what they
    /// limit is measured by the budget check.
    pub budgets: BTreeMap<String, f64>,
    /// The line of each `[budgets]` key in `ecscope.toml`, for messages.
    pub budget_lines: BTreeMap<String, usize>,
}

/// `[profiling]`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfilingSection {
    /// Script stack samples per second while recording; 0 is off.
    #[serde(default = "default_sample_hz")]
    pub sample_hz: u32,
}

impl Default for ProfilingSection {
    fn default() -> Self {
        ProfilingSection {
            sample_hz: default_sample_hz(),
        }
    }
}

fn default_sample_hz() -> u32 {
    1000
}

/// `[runtime]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeSection {
    /// Worker threads for systems; `None` for the machine's cores.
    pub threads: Option<u32>,
}

impl RuntimeSection {
    /// The threads to run systems on: the setting, or the machine's cores.
    pub fn threads(&self) -> usize {
        match self.threads {
            Some(n) => n as usize,
            None => machine_cores(),
        }
    }
}

/// The machine's cores, asked once: the answer reads files under `/sys`
/// and `/proc`, and the frame loop wants it every frame.
fn machine_cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_THREADS))
    })
}

/// The most worker threads `[runtime] threads` and `--threads` may ask for.
pub const MAX_THREADS: usize = 256;

crate::message_error!(
    /// A thread count out of range; the message says the range.
    ThreadsError
);

/// Checks a thread count from the manifest or the command line.
pub fn check_threads(n: i64) -> Result<u32, ThreadsError> {
    if (1..=MAX_THREADS as i64).contains(&n) {
        Ok(n as u32)
    } else {
        Err(ThreadsError(format!(
            "must be a whole number of threads from 1 to {MAX_THREADS}, got {n}"
        )))
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRuntime {
    threads: Option<i64>,
}

/// The most samples per second `sample_hz` may ask for.
pub const MAX_SAMPLE_HZ: u32 = 10_000;

/// `[project]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectSection {
    /// Shown in the title bar and the sample browser.
    pub name: String,
    /// One line about the project.
    #[serde(default)]
    pub description: Option<String>,
}

/// `[world]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorldSection {
    /// Seconds per frame.
    #[serde(default = "default_fixed_dt")]
    pub fixed_dt: f64,
    /// Seed of `ecs.random`.
    #[serde(default)]
    pub seed: u64,
}

impl Default for WorldSection {
    fn default() -> Self {
        WorldSection {
            fixed_dt: DEFAULT_FIXED_DT,
            seed: 0,
        }
    }
}

fn default_fixed_dt() -> f64 {
    DEFAULT_FIXED_DT
}

/// The language a script is written in, from its file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    /// `.lua`, run by LuaJIT.
    Lua,
    /// `.py`, run by CPython.
    Python,
}

impl Language {
    /// The language of a script path, by extension.
    pub fn of_path(path: &str) -> Option<Language> {
        match Path::new(path).extension().and_then(|e| e.to_str()) {
            Some("lua") => Some(Language::Lua),
            Some("py") => Some(Language::Python),
            _ => None,
        }
    }

    /// Lower-case name used in events and the GUI.
    pub fn name(self) -> &'static str {
        match self {
            Language::Lua => "lua",
            Language::Python => "python",
        }
    }
}

/// One `[[script]]` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptEntry {
    /// The path exactly as written in the manifest (used in events and dumps).
    pub path: String,
    /// The path on disk.
    pub full_path: PathBuf,
    /// From the extension.
    pub language: Language,
    /// 1-based line of the entry's `path` key in the manifest.
    pub line: usize,
}

/// `[limits]`, per script.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// VM instructions a script may run in one frame once one of its calls
    /// has run longer than the watchdog's grace period (50 ms in a frame,
    /// 1 s at load); counting runs the VM in its slower hooked mode, so this
    /// also bounds how long a runaway call lasts.
    #[serde(default = "default_instructions")]
    pub instructions_per_frame: u64,
    /// Heap of one Lua state, in MiB.
    #[serde(default = "default_memory_mb")]
    pub memory_mb: u64,
    /// Entities one script may spawn in one frame (its load counts as one).
    #[serde(default = "default_spawns_per_frame")]
    pub spawns_per_frame: u64,
    /// Items (numbers, strings, list elements, table entries) one value may
    /// hold when it crosses between a script and the host.
    #[serde(default = "default_value_items")]
    pub value_items: u64,
}

/// Default `[limits] spawns_per_frame`.
pub const DEFAULT_SPAWNS_PER_FRAME: u64 = 1_000_000;
/// Default `[limits] value_items`.
pub const DEFAULT_VALUE_ITEMS: u64 = 1_000_000;

fn default_spawns_per_frame() -> u64 {
    DEFAULT_SPAWNS_PER_FRAME
}

fn default_value_items() -> u64 {
    DEFAULT_VALUE_ITEMS
}

/// `[sandbox]`: what scripts may reach outside ECScope. Lua scripts are
/// sandboxed unless the project turns it off; an untrusted (restricted)
/// project is sandboxed whatever it says.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SandboxSection {
    /// No processes, no files outside the project, no native libraries or
    /// bytecode for Lua scripts.
    #[serde(default = "default_true")]
    pub lua: bool,
}

impl Default for SandboxSection {
    fn default() -> Self {
        SandboxSection { lua: true }
    }
}

fn default_true() -> bool {
    true
}

/// Default instruction budget per frame when `[limits]` does not set one.
pub const DEFAULT_INSTRUCTIONS_PER_FRAME: u64 = 20_000_000;
/// Default heap limit per Lua state when `[limits]` does not set one.
pub const DEFAULT_MEMORY_MB: u64 = 1024;

fn default_instructions() -> u64 {
    DEFAULT_INSTRUCTIONS_PER_FRAME
}

fn default_memory_mb() -> u64 {
    DEFAULT_MEMORY_MB
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            instructions_per_frame: DEFAULT_INSTRUCTIONS_PER_FRAME,
            memory_mb: DEFAULT_MEMORY_MB,
            spawns_per_frame: DEFAULT_SPAWNS_PER_FRAME,
            value_items: DEFAULT_VALUE_ITEMS,
        }
    }
}

/// `[history]`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistorySection {
    /// Versions kept per script; older ones are pruned.
    #[serde(default = "default_history_keep")]
    pub keep: usize,
}

impl Default for HistorySection {
    fn default() -> Self {
        HistorySection {
            keep: default_history_keep(),
        }
    }
}

fn default_history_keep() -> usize {
    200
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    project: Option<ProjectSection>,
    #[serde(default)]
    world: WorldSection,
    #[serde(default)]
    script: Vec<RawScript>,
    #[serde(default)]
    limits: Limits,
    #[serde(default)]
    history: HistorySection,
    #[serde(default)]
    sandbox: SandboxSection,
    #[serde(default)]
    profiling: ProfilingSection,
    #[serde(default)]
    runtime: RawRuntime,
    #[serde(default)]
    budgets: BTreeMap<String, f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScript {
    path: Spanned<String>,
}

/// A manifest that could not be used: names the file, the line and the key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct ManifestError {
    /// The manifest (or the folder that lacks one).
    pub file: PathBuf,
    /// 1-based line, when the problem is at one.
    pub line: Option<usize>,
    /// Dotted key path such as `world.seed` or `script[2].path`.
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": ")?;
        if let Some(key) = &self.key {
            write!(f, "`{key}`: ")?;
        }
        write!(f, "{}", self.message)
    }
}

impl Manifest {
    /// Reads and checks `<dir>/ecscope.toml`.
    pub fn load(dir: &Path) -> Result<Manifest, ManifestError> {
        let file = dir.join(MANIFEST_FILE);
        let bytes = match std::fs::read(&file) {
            Ok(bytes) => bytes,
            Err(err) => {
                let message = if err.kind() == std::io::ErrorKind::NotFound {
                    if dir.is_dir() {
                        format!("no {MANIFEST_FILE} in this folder: not an ECScope project")
                    } else {
                        "no such project folder".to_string()
                    }
                } else {
                    format!("cannot read: {err}")
                };
                return Err(ManifestError {
                    file,
                    line: None,
                    key: None,
                    message,
                });
            }
        };
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(err) => {
                let offset = err.utf8_error().valid_up_to();
                let text = String::from_utf8_lossy(err.as_bytes());
                return Err(ManifestError {
                    line: Some(line_of(&text, offset)),
                    file,
                    key: None,
                    message: "the file is not valid UTF-8 text".into(),
                });
            }
        };
        Manifest::parse(&text, &file, dir)
    }

    /// Parses manifest text; `file` is used in errors and `dir` to resolve
    /// script paths.
    pub fn parse(text: &str, file: &Path, dir: &Path) -> Result<Manifest, ManifestError> {
        let raw: RawManifest = toml::from_str(text).map_err(|err| {
            let span = err.span();
            ManifestError {
                file: file.to_path_buf(),
                line: span.as_ref().map(|s| line_of(text, s.start)),
                key: span.and_then(|s| key_path_at(text, s)),
                message: err.message().trim().to_string(),
            }
        })?;
        let error = |line: Option<usize>, key: &str, message: String| ManifestError {
            file: file.to_path_buf(),
            line,
            key: Some(key.to_string()),
            message,
        };

        let project = raw.project.ok_or_else(|| {
            error(
                None,
                "project",
                "missing [project] table with a `name`".into(),
            )
        })?;
        if project.name.trim().is_empty() {
            return Err(error(
                find_key_line(text, "project", "name"),
                "project.name",
                "must not be empty".into(),
            ));
        }
        let world = raw.world;
        if !(world.fixed_dt.is_finite() && world.fixed_dt > 0.0 && world.fixed_dt <= 1.0) {
            return Err(error(
                find_key_line(text, "world", "fixed_dt"),
                "world.fixed_dt",
                format!(
                    "must be a number of seconds in (0, 1], got {}",
                    world.fixed_dt
                ),
            ));
        }
        if raw.limits.memory_mb == 0 {
            return Err(error(
                find_key_line(text, "limits", "memory_mb"),
                "limits.memory_mb",
                "must be at least 1".into(),
            ));
        }
        for (key, value) in [
            ("spawns_per_frame", raw.limits.spawns_per_frame),
            ("value_items", raw.limits.value_items),
        ] {
            if value == 0 {
                return Err(error(
                    find_key_line(text, "limits", key),
                    &format!("limits.{key}"),
                    "must be at least 1".into(),
                ));
            }
        }
        if raw.limits.instructions_per_frame == 0 {
            return Err(error(
                find_key_line(text, "limits", "instructions_per_frame"),
                "limits.instructions_per_frame",
                "must be at least 1".into(),
            ));
        }
        if raw.profiling.sample_hz > MAX_SAMPLE_HZ {
            return Err(error(
                find_key_line(text, "profiling", "sample_hz"),
                "profiling.sample_hz",
                format!(
                    "must be from 0 (off) to {MAX_SAMPLE_HZ} samples per second, got {}",
                    raw.profiling.sample_hz
                ),
            ));
        }
        let threads = match raw.runtime.threads {
            None => None,
            Some(n) => Some(check_threads(n).map_err(|e| {
                error(
                    find_key_line(text, "runtime", "threads"),
                    "runtime.threads",
                    e.0,
                )
            })?),
        };
        for (key, value) in &raw.budgets {
            if !(value.is_finite() && *value > 0.0) {
                return Err(error(
                    find_key_line(text, "budgets", key),
                    &format!("budgets.{key}"),
                    format!("must be a finite number of milliseconds above 0, got {value}"),
                ));
            }
            if key != "frame_ms" && !key.contains(':') {
                return Err(error(
                    find_key_line(text, "budgets", key),
                    &format!("budgets.{key}"),
                    "must be `frame_ms` or a system as \"script:system\" (\"scripts/flock.lua:steer\")".into(),
                ));
            }
        }
        if raw.script.is_empty() {
            return Err(error(
                None,
                "script",
                "no scripts: add at least one [[script]] with a `path`".into(),
            ));
        }

        let mut scripts: Vec<ScriptEntry> = Vec::with_capacity(raw.script.len());
        // Each script's file with links followed, to find one file listed
        // under two spellings.
        let mut real_paths: Vec<PathBuf> = Vec::with_capacity(raw.script.len());
        let real_dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        for (index, entry) in raw.script.into_iter().enumerate() {
            let line = line_of(text, entry.path.span().start);
            let key = format!("script[{}].path", index + 1);
            let path = entry.path.into_inner();
            let language = Language::of_path(&path).ok_or_else(|| {
                error(
                    Some(line),
                    &key,
                    format!("`{path}` is not a script: use a .lua or .py file"),
                )
            })?;
            let relative = Path::new(&path);
            if relative.is_absolute()
                || relative
                    .components()
                    .any(|c| matches!(c, std::path::Component::ParentDir))
            {
                return Err(error(
                    Some(line),
                    &key,
                    format!("`{path}` must be a path inside the project folder"),
                ));
            }
            // `./scripts/a.lua` and `scripts/a.lua` are one script.
            let path = relative
                .components()
                .filter(|c| !matches!(c, std::path::Component::CurDir))
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let full_path = dir.join(&path);
            if full_path.is_dir() {
                return Err(error(
                    Some(line),
                    &key,
                    format!("`{path}` is a folder, not a script file"),
                ));
            }
            if !full_path.is_file() {
                return Err(error(
                    Some(line),
                    &key,
                    format!("script file `{path}` does not exist"),
                ));
            }
            // A link out of the project would run (and copy into the
            // history) a file the project does not hold.
            let real = full_path
                .canonicalize()
                .unwrap_or_else(|_| full_path.clone());
            if !real.starts_with(&real_dir) {
                return Err(error(
                    Some(line),
                    &key,
                    format!(
                        "`{path}` is a link to {}, outside the project folder; copy the file into the project instead",
                        real.display()
                    ),
                ));
            }
            if let Some((other, _)) = scripts
                .iter()
                .zip(&real_paths)
                .find(|(s, r)| s.path == path || **r == real)
            {
                let message = if other.path == path {
                    format!("`{path}` is listed twice")
                } else {
                    format!(
                        "`{path}` is the same file as `{}`, listed above",
                        other.path
                    )
                };
                return Err(error(Some(line), &key, message));
            }
            real_paths.push(real);
            scripts.push(ScriptEntry {
                path,
                full_path,
                language,
                line,
            });
        }

        Ok(Manifest {
            project,
            world,
            scripts,
            limits: raw.limits,
            history: raw.history,
            profiling: raw.profiling,
            runtime: RuntimeSection { threads },
            budget_lines: raw
                .budgets
                .keys()
                .filter_map(|k| Some((k.clone(), find_key_line(text, "budgets", k)?)))
                .collect(),
            budgets: raw.budgets,
            sandbox: raw.sandbox,
        })
    }
}

/// 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    text.as_bytes()[..offset]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Line of `key = ...` inside `[table]`, for errors found after parsing.
fn find_key_line(text: &str, table: &str, key: &str) -> Option<usize> {
    let mut current = String::new();
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if let Some(header) = table_header(trimmed) {
            current = header.0;
            continue;
        }
        if current == table
            && let Some((k, _)) = trimmed.split_once('=')
            && k.trim().trim_matches('"') == key
        {
            return Some(index + 1);
        }
    }
    None
}

/// `[name]` or `[[name]]`: the name and whether it is an array table.
fn table_header(line: &str) -> Option<(String, bool)> {
    let line = line.split('#').next().unwrap_or("").trim();
    if let Some(inner) = line.strip_prefix("[[").and_then(|l| l.strip_suffix("]]")) {
        return Some((inner.trim().to_string(), true));
    }
    if let Some(inner) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
        return Some((inner.trim().to_string(), false));
    }
    None
}

/// The dotted key path of the key at `span`: the enclosing table header
/// (array tables numbered from 1) and the key written on that line.
fn key_path_at(text: &str, span: Range<usize>) -> Option<String> {
    let target_line = line_of(text, span.start);
    let mut table: Option<String> = None;
    let mut array_counts: Vec<(String, usize)> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let trimmed = line.trim();
        if let Some((name, is_array)) = table_header(trimmed) {
            if number == target_line {
                return Some(name);
            }
            if is_array {
                let count = match array_counts.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, count)) => {
                        *count += 1;
                        *count
                    }
                    None => {
                        array_counts.push((name.clone(), 1));
                        1
                    }
                };
                table = Some(format!("{name}[{count}]"));
            } else {
                table = Some(name);
            }
            continue;
        }
        if number == target_line {
            let key = trimmed
                .split_once('=')
                .map(|(k, _)| k.trim().trim_matches('"').to_string())
                .filter(|k| !k.is_empty() && !k.starts_with('#'));
            return match (table, key) {
                (Some(t), Some(k)) => Some(format!("{t}.{k}")),
                (None, Some(k)) => Some(k),
                (Some(t), None) => Some(t),
                (None, None) => None,
            };
        }
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_in(dir: &Path, text: &str) -> Result<Manifest, ManifestError> {
        Manifest::parse(text, &dir.join(MANIFEST_FILE), dir)
    }

    fn project_with_script() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("scripts")).unwrap();
        std::fs::write(dir.path().join("scripts/a.lua"), "").unwrap();
        dir
    }

    #[test]
    fn profiling_and_budgets_are_read_and_checked() {
        let dir = project_with_script();
        let head = "[project]\nname = \"t\"\n[[script]]\npath = \"scripts/a.lua\"\n";
        let ok = parse_in(
            dir.path(),
            &format!("{head}[profiling]\nsample_hz = 0\n[budgets]\nframe_ms = 16.7\n\"scripts/a.lua:move\" = 2.0\n"),
        )
        .unwrap();
        assert_eq!(ok.profiling.sample_hz, 0);
        assert_eq!(ok.budgets.get("scripts/a.lua:move"), Some(&2.0));
        assert_eq!(
            parse_in(dir.path(), head).unwrap().profiling.sample_hz,
            1000,
            "the default"
        );
        for (bad, line, words) in [
            ("[profiling]\nsample_hz = -5\n", 6, "sample_hz"),
            ("[profiling]\nsample_hz = \"fast\"\n", 6, "sample_hz"),
            (
                "[profiling]\nsample_hz = 99999999\n",
                6,
                "from 0 (off) to 10000",
            ),
            ("[budgets]\nframe_ms = -1\n", 6, "above 0"),
            ("[budgets]\nsteer = 2.0\n", 6, "script:system"),
        ] {
            let err = parse_in(dir.path(), &format!("{head}{bad}")).unwrap_err();
            assert_eq!(err.line, Some(line), "{bad}: {err}");
            assert!(err.to_string().contains(words), "{bad}: {err}");
        }
    }

    #[test]
    fn parses_a_full_manifest() {
        let dir = project_with_script();
        let m = parse_in(
            dir.path(),
            "[project]\nname = \"t\"\n[world]\nfixed_dt = 0.02\nseed = 7\n[[script]]\npath = \"scripts/a.lua\"\n[limits]\nmemory_mb = 64\n",
        )
        .unwrap();
        assert_eq!(m.project.name, "t");
        assert_eq!(m.world.seed, 7);
        assert_eq!(m.world.fixed_dt, 0.02);
        assert_eq!(m.scripts[0].line, 7);
        assert_eq!(m.scripts[0].language, Language::Lua);
        assert_eq!(m.limits.memory_mb, 64);
        assert_eq!(
            m.limits.instructions_per_frame,
            DEFAULT_INSTRUCTIONS_PER_FRAME
        );
    }

    #[test]
    fn unknown_key_names_line_and_key() {
        let dir = project_with_script();
        let err = parse_in(
            dir.path(),
            "[project]\nname = \"t\"\n[world]\nsede = 1\n[[script]]\npath = \"scripts/a.lua\"\n",
        )
        .unwrap_err();
        assert_eq!(err.line, Some(4));
        assert_eq!(err.key.as_deref(), Some("world.sede"));
        assert!(err.message.contains("unknown field"), "{err}");
    }

    #[test]
    fn wrong_type_names_line_and_key() {
        let dir = project_with_script();
        let err = parse_in(
            dir.path(),
            "[project]\nname = \"t\"\n[world]\nseed = \"x\"\n[[script]]\npath = \"scripts/a.lua\"\n",
        )
        .unwrap_err();
        assert_eq!(err.line, Some(4));
        assert_eq!(err.key.as_deref(), Some("world.seed"));
    }

    #[test]
    fn missing_script_names_entry() {
        let dir = project_with_script();
        let err = parse_in(
            dir.path(),
            "[project]\nname = \"t\"\n[[script]]\npath = \"scripts/a.lua\"\n[[script]]\npath = \"scripts/nope.py\"\n",
        )
        .unwrap_err();
        assert_eq!(err.line, Some(6));
        assert_eq!(err.key.as_deref(), Some("script[2].path"));
        assert!(err.to_string().contains("ecscope.toml:6"), "{err}");
    }

    #[test]
    fn invalid_toml_has_a_line() {
        let dir = project_with_script();
        let err = parse_in(dir.path(), "[project\nname = 1\n").unwrap_err();
        assert_eq!(err.line, Some(1));
    }

    #[test]
    fn no_manifest_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = Manifest::load(dir.path()).unwrap_err();
        assert!(err.file.ends_with(MANIFEST_FILE));
        assert!(err.message.contains("not an ECScope project"));
    }
}
