//! "Trust this project?": asked before a project opened for the first time
//! runs any code. It shows what the project would run; the user trusts it,
//! opens it restricted (Lua sandboxed, Python not run) or cancels.

use std::path::{Path, PathBuf};

use crate::project::{Language, Project};

/// A project waiting for the answer.
#[derive(Debug, Clone)]
pub struct TrustPrompt {
    /// The project folder.
    pub root: PathBuf,
    lua: Vec<String>,
    python: Vec<String>,
    lua_unsandboxed: bool,
    problem: Option<String>,
}

/// The answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustChoice {
    /// Run everything, as the manifest says.
    Trust,
    /// Run sandboxed Lua only.
    Restricted,
    /// Do not open it.
    Cancel,
}

impl TrustPrompt {
    /// Reads what the project at `root` contains (nothing runs).
    pub fn new(root: &Path) -> TrustPrompt {
        let mut prompt = TrustPrompt {
            root: root.to_path_buf(),
            lua: Vec::new(),
            python: Vec::new(),
            lua_unsandboxed: false,
            problem: None,
        };
        match Project::open(root) {
            Ok(project) => {
                for script in &project.manifest.scripts {
                    match script.language {
                        Language::Lua => prompt.lua.push(script.path.clone()),
                        Language::Python => prompt.python.push(script.path.clone()),
                    }
                }
                prompt.lua_unsandboxed = !project.manifest.sandbox.lua;
            }
            Err(err) => prompt.problem = Some(err.to_string()),
        }
        prompt
    }

    /// Draws the question; returns the answer once given.
    pub fn ui(&self, ctx: &egui::Context) -> Option<TrustChoice> {
        let mut choice = None;
        egui::Modal::new(egui::Id::new("trust-prompt")).show(ctx, |ui| {
            ui.set_max_width(560.0);
            ui.heading("Trust this project?");
            ui.label(self.root.display().to_string());
            ui.add_space(6.0);
            ui.label("Opening a project runs its scripts with your rights. Trust only projects whose authors you trust.");
            ui.add_space(6.0);
            if let Some(problem) = &self.problem {
                ui.colored_label(crate::gui::theme::ERROR, problem);
            }
            let list = |ui: &mut egui::Ui, scripts: &[String]| {
                for script in scripts.iter().take(12) {
                    ui.monospace(format!("  {script}"));
                }
                if scripts.len() > 12 {
                    ui.weak(format!("  … and {} more", scripts.len() - 12));
                }
            };
            if !self.lua.is_empty() {
                ui.label(format!(
                    "{} Lua script{}: {}",
                    self.lua.len(),
                    if self.lua.len() == 1 { "" } else { "s" },
                    if self.lua_unsandboxed {
                        "the manifest turns the sandbox off ([sandbox] lua = false): trusted, they may run programs and use any file"
                    } else {
                        "sandboxed (no programs, no files outside the project)"
                    }
                ));
                list(ui, &self.lua);
            }
            if !self.python.is_empty() {
                ui.label(format!(
                    "{} Python script{}: Python cannot be sandboxed; trusted, they can do anything you can",
                    self.python.len(),
                    if self.python.len() == 1 { "" } else { "s" },
                ));
                list(ui, &self.python);
            }
            ui.add_space(8.0);
            ui.weak("Restricted: Lua scripts run sandboxed whatever the manifest says, and Python scripts are not run (each one is reported). Your answer is remembered for this folder.");
            ui.add_space(8.0);
            ui.horizontal(|ui| {
                if ui.button("Trust and open").clicked() {
                    choice = Some(TrustChoice::Trust);
                }
                if ui.button("Open restricted").clicked() {
                    choice = Some(TrustChoice::Restricted);
                }
                if ui.button("Cancel").clicked() {
                    choice = Some(TrustChoice::Cancel);
                }
            });
        });
        choice
    }
}
