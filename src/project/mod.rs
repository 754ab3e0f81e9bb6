//! Projects on disk: the manifest and the folder layout (SCRIPT_API §1).

mod manifest;

use std::path::{Path, PathBuf};

pub use manifest::{
    DEFAULT_FIXED_DT, DEFAULT_INSTRUCTIONS_PER_FRAME, DEFAULT_MEMORY_MB, DEFAULT_SPAWNS_PER_FRAME,
    DEFAULT_VALUE_ITEMS, HistorySection, Language, Limits, MANIFEST_FILE, MAX_SAMPLE_HZ,
    MAX_THREADS, Manifest, ManifestError, ProjectSection, RuntimeSection, ScriptEntry,
    ThreadsError, WorldSection, check_threads, line_of,
};

/// Folder inside a project where ECScope keeps its own data.
pub const DATA_DIR: &str = ".ecscope";

/// A project folder with its parsed manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    /// The project folder (canonical when it could be resolved).
    pub root: PathBuf,
    /// The parsed manifest.
    pub manifest: Manifest,
    /// Opened without the user's trust: Python scripts are not run and Lua
    /// scripts are sandboxed whatever the manifest says.
    pub restricted: bool,
}

impl Project {
    /// Opens the project in `dir`, reading and checking its manifest.
    pub fn open(dir: &Path) -> Result<Project, ManifestError> {
        let root = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        let manifest = Manifest::load(&root)?;
        Ok(Project {
            root,
            manifest,
            restricted: false,
        })
    }

    /// The same project in restricted mode (see [`Project::restricted`]).
    pub fn restricted(mut self) -> Project {
        self.restricted = true;
        self
    }

    /// `<root>/ecscope.toml`.
    pub fn manifest_path(&self) -> PathBuf {
        self.root.join(MANIFEST_FILE)
    }

    /// `<root>/scripts`, where `require` and `import` look first.
    pub fn scripts_dir(&self) -> PathBuf {
        self.root.join("scripts")
    }

    /// `<root>/.ecscope`.
    pub fn data_dir(&self) -> PathBuf {
        self.root.join(DATA_DIR)
    }

    /// The project's name from the manifest.
    pub fn name(&self) -> &str {
        &self.manifest.project.name
    }
}
