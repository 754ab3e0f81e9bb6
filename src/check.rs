//! `ecscope check DIR`: validates the manifest and compiles every script
//! without running it (Lua: load; Python: compile), reporting every error
//! in one pass with its file and line, as text or as JSON for editors and
//! CI.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::project::{Language, Project};

/// One problem found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Problem {
    /// `manifest` or `script`.
    pub kind: &'static str,
    /// The file, relative to the project (`ecscope.toml`, `scripts/a.lua`).
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<u32>,
    /// What is wrong.
    pub message: String,
}

/// What `check` found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Every problem, manifest first, then scripts in path order.
    pub problems: Vec<Problem>,
    /// Scripts compiled.
    pub scripts: usize,
}

impl Report {
    /// 0: no problem; 1: a script does not compile; 2: the manifest is bad.
    pub fn exit_code(&self) -> u8 {
        if self.problems.iter().any(|p| p.kind == "manifest") {
            2
        } else if self.problems.is_empty() {
            0
        } else {
            1
        }
    }

    /// One `file:line: message` line per problem, then a summary.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for p in &self.problems {
            match p.line {
                Some(line) => out.push_str(&format!("{}:{line}: {}\n", p.file, p.message)),
                None => out.push_str(&format!("{}: {}\n", p.file, p.message)),
            }
        }
        let scripts = match self.scripts {
            1 => "1 script".to_string(),
            n => format!("{n} scripts"),
        };
        out.push_str(&match self.problems.len() {
            0 => format!("ok: the manifest and {scripts} compile\n"),
            1 => format!("1 problem ({scripts} compiled)\n"),
            n => format!("{n} problems ({scripts} compiled)\n"),
        });
        out
    }
}

/// Checks the project in `dir`.
pub fn check(dir: &Path) -> Report {
    let mut report = Report::default();
    let root = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let mut files: Vec<(String, Language)> = Vec::new();
    match Project::open(dir) {
        Ok(project) => {
            for entry in &project.manifest.scripts {
                files.push((entry.path.clone(), entry.language));
            }
        }
        Err(e) => report.problems.push(Problem {
            kind: "manifest",
            file: relative(&root, &e.file),
            line: e.line.map(|l| l as u32),
            message: e.message.clone(),
        }),
    }
    // Modules the scripts import, and every script when the manifest
    // cannot say which: whatever sits under `scripts/`.
    let mut found = Vec::new();
    walk(&root.join("scripts"), &mut found);
    for path in found {
        let rel = relative(&root, &path);
        let language = match path.extension().and_then(|e| e.to_str()) {
            Some("lua") => Language::Lua,
            Some("py") => Language::Python,
            _ => continue,
        };
        if !files.iter().any(|(f, _)| *f == rel) {
            files.push((rel, language));
        }
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    for (file, language) in files {
        let source = match std::fs::read_to_string(root.join(&file)) {
            Ok(s) => s,
            Err(e) => {
                report.problems.push(Problem {
                    kind: "script",
                    file,
                    line: None,
                    message: format!("cannot read it: {e}"),
                });
                continue;
            }
        };
        report.scripts += 1;
        let result = match language {
            #[cfg(feature = "lua")]
            Language::Lua => crate::scripting::lua::syntax_check(&file, &source),
            #[cfg(feature = "python")]
            Language::Python => crate::scripting::python::syntax_check(&file, &source),
            #[allow(unreachable_patterns)]
            other => Err(crate::scripting::ScriptFailure::message(format!(
                "this build of ecscope cannot compile {} scripts",
                other.name()
            ))),
        };
        if let Err(failure) = result {
            report.problems.push(Problem {
                kind: "script",
                file: failure.file.clone().unwrap_or_else(|| file.clone()),
                line: failure.line,
                message: failure.message,
            });
        }
    }
    report
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Files under `dir`, recursively, in name order; hidden folders skipped.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.') || n == "__pycache__");
        if hidden {
            continue;
        }
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}
