//! Hot reload (SCRIPT_API §3 "Hot reload"): replace one script between
//! frames, keeping its `ecs.persist` and its place in the system order,
//! and roll back to the previous version when the new one does not compile,
//! fails at load, or raises during its first frame.
//!
//! Each version runs in a fresh Lua state or Python module. The previous
//! version, with its registrations, is kept aside until the new one has run
//! one frame cleanly, so a rollback restores it exactly as it was (its
//! `ecs.persist` too: the new version got a copy).

use std::time::Instant;

use super::{EventKind, Runtime, ScriptSlot, ScriptStatus};
use crate::hot_reload::history::{VersionStatus, hash_text, write_atomic};
use crate::hot_reload::watcher::FileChange;
use crate::profiling::CallKind;
use crate::project::{MANIFEST_FILE, Project, ScriptEntry};
use crate::scripting::host::Registrations;
use crate::scripting::{ScriptBackend, ScriptFailure, ScriptId, check_source};

/// Where a successful reload's time went (for `ecscope bench`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ReloadTiming {
    /// Reading the file, compiling it, and running the new version's top
    /// level and `on_reload`.
    pub compile_load: std::time::Duration,
    /// `on_unload`, moving `ecs.persist` and the registrations, recording
    /// the version in the history, and installing the new version.
    pub swap: std::time::Duration,
}

/// The version before a reload, kept until the new one has run a frame.
pub(crate) struct Probation {
    backend: Box<dyn ScriptBackend>,
    registrations: Registrations,
    version: u32,
    hash: String,
    errors_at_swap: usize,
}

impl Runtime {
    /// Reacts to a settled file change: reloads the script, or every script
    /// that loaded the module, in manifest order; rereads a changed manifest.
    pub fn file_changed(&mut self, change: &FileChange) {
        if change.path == MANIFEST_FILE {
            self.manifest_changed();
            return;
        }
        let affected: Vec<usize> = (0..self.scripts.len())
            .filter(|&i| {
                let slot = &self.scripts[i];
                slot.entry.path == change.path
                    || slot
                        .backend()
                        .is_some_and(|b| b.dependencies().contains(&change.path))
            })
            .collect();
        for index in affected {
            let origin = if self.scripts[index].entry.path == change.path {
                "saved".to_string()
            } else {
                format!("{} changed", change.path)
            };
            // A module change reloads dependents even when their own text
            // is the same.
            let force = self.scripts[index].entry.path != change.path;
            self.reload_script(index, Some(change.first_seen), force, &origin);
        }
    }

    /// Where the last successful reload's time went; taken once.
    pub fn take_reload_timing(&mut self) -> Option<ReloadTiming> {
        self.last_reload.take()
    }

    /// Reloads a script from disk now (the Reload button); reloads even an
    /// unchanged text.
    pub fn reload_path(&mut self, path: &str) -> Result<(), super::CommandError> {
        let index = self
            .scripts
            .iter()
            .position(|s| s.entry.path == path)
            .ok_or_else(|| format!("{path} is not a script of this project"))?;
        self.reload_script(index, None, true, "reload button");
        Ok(())
    }

    /// Restores an earlier version's text on disk and reloads it.
    pub fn rollback(&mut self, path: &str, version: u32) -> Result<(), super::CommandError> {
        let index = self
            .scripts
            .iter()
            .position(|s| s.entry.path == path)
            .ok_or_else(|| format!("{path} is not a script of this project"))?;
        let text = self
            .history
            .text(path, version)
            .ok_or_else(|| format!("{path} has no stored version {version}"))?;
        let file = self.scripts[index].entry.full_path.clone();
        write_atomic(&file, text.as_bytes())
            .map_err(|e| format!("{}: cannot restore version {version}: {e}", file.display()))?;
        let before = self.scripts[index].version;
        self.reload_script(index, None, true, &format!("rollback to v{version}"));
        let slot = &self.scripts[index];
        if slot.version != before {
            let reason = format!("manual rollback to v{version}");
            self.host.borrow_mut().push_event(EventKind::RolledBack {
                script: path.to_string(),
                version: slot.version,
                reason,
            });
        }
        Ok(())
    }

    /// Replaces one script with the text on disk (see the module docs).
    pub(crate) fn reload_script(
        &mut self,
        index: usize,
        seen: Option<Instant>,
        force: bool,
        origin: &str,
    ) {
        let started = seen.unwrap_or_else(Instant::now);
        let phase = Instant::now();
        let entry = self.scripts[index].entry.clone();
        let path = entry.path.clone();
        let bytes = match std::fs::read(&entry.full_path) {
            Ok(bytes) => bytes,
            Err(err) => {
                let message = format!(
                    "cannot read {path} ({err}); the running version goes on (restore the file, or roll back from the history)"
                );
                self.notice(message);
                return;
            }
        };
        let text = match check_source(&bytes) {
            Ok(text) => text.to_string(),
            Err(failure) => {
                let lossy = String::from_utf8_lossy(&bytes).into_owned();
                self.reject(index, &lossy, failure, origin);
                return;
            }
        };
        let hash = hash_text(&text);
        if !force && hash == self.scripts[index].hash {
            return;
        }
        self.commit_probation(index);
        let id = self.scripts[index].id;
        let mut new = match self.create_backend(&entry, id) {
            Ok(Some(backend)) => backend,
            Ok(None) => return,
            Err(failure) => {
                self.reject(index, &text, failure, origin);
                return;
            }
        };
        if let Err(failure) = new.compile(&text) {
            self.reject(index, &text, failure, origin);
            return;
        }
        let mut timing = ReloadTiming {
            compile_load: phase.elapsed(),
            ..Default::default()
        };
        let phase = Instant::now();

        let Some(mut old) = self.scripts[index].set_backend(None) else {
            // The script never loaded: this is its first version that runs.
            self.load_into_slot(index, new, &text, started, origin);
            return;
        };
        self.debugger
            .begin_call(None, || format!("unloading {path}"));
        let unloaded = old.unload();
        self.debugger.end_call();
        if let Err(failure) = unloaded {
            self.report(&path, "on_unload", failure, None);
        }
        let persisted = old.take_persist();
        for dropped in &persisted.dropped {
            self.notice(format!(
                "{path}: ecs.persist entry not kept across the reload: {dropped}"
            ));
        }
        let stash = self.host.borrow_mut().take_registrations(id);
        new.give_persist(persisted);
        timing.swap = phase.elapsed();
        let phase = Instant::now();
        let loaded = self.load_backend(&mut *new, &text, true, &path, id);
        timing.compile_load += phase.elapsed();
        let phase = Instant::now();
        match loaded {
            Err(failure) => {
                let _ = self.host.borrow_mut().take_registrations(id);
                self.host.borrow_mut().restore_registrations(stash);
                self.scripts[index].set_backend(Some(old));
                self.reject(index, &text, failure, origin);
            }
            Ok(()) => {
                let version =
                    self.history
                        .record(&path, &text, VersionStatus::Loaded, None, origin);
                let slot = &mut self.scripts[index];
                slot.probation = Some(Probation {
                    backend: old,
                    registrations: stash,
                    version: slot.version,
                    hash: std::mem::replace(&mut slot.hash, hash),
                    errors_at_swap: slot.errors,
                });
                slot.set_backend(Some(new));
                slot.version = version;
                slot.status = ScriptStatus::Running;
                // The new version's heap starts over, and so does what its
                // systems did (the suggestions are about the code running).
                let series = self.heap_series(index);
                self.memory.restart(&series);
                self.uses.retain(|(script, _), _| *script != index);
                self.end_hunt(index);
                self.leak_sites.remove(&path);
                self.forget_samples_of(&path);
                timing.swap += phase.elapsed();
                self.last_reload = Some(timing);
                let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
                self.host.borrow_mut().push_event(EventKind::Reloaded {
                    script: path,
                    version,
                    latency_ms,
                });
            }
        }
        self.report_history_problem();
    }

    /// A script that failed to load earlier gets its first working version.
    fn load_into_slot(
        &mut self,
        index: usize,
        mut backend: Box<dyn ScriptBackend>,
        text: &str,
        started: Instant,
        origin: &str,
    ) {
        let path = self.scripts[index].entry.path.clone();
        let id = self.scripts[index].id;
        match self.load_backend(&mut *backend, text, false, &path, id) {
            Err(failure) => {
                let _ = self.host.borrow_mut().take_registrations(id);
                self.reject(index, text, failure, origin);
            }
            Ok(()) => {
                let version = self
                    .history
                    .record(&path, text, VersionStatus::Loaded, None, origin);
                let slot = &mut self.scripts[index];
                slot.set_backend(Some(backend));
                slot.version = version;
                slot.hash = hash_text(text);
                slot.status = ScriptStatus::Running;
                self.host.borrow_mut().push_event(EventKind::Reloaded {
                    script: path,
                    version,
                    latency_ms: started.elapsed().as_secs_f64() * 1000.0,
                });
            }
        }
    }

    /// Runs a version's top level under the debugger and the deferral
    /// rules, measured for the profiler.
    pub(crate) fn load_backend(
        &mut self,
        backend: &mut dyn ScriptBackend,
        text: &str,
        reloading: bool,
        path: &str,
        id: ScriptId,
    ) -> Result<(), ScriptFailure> {
        let what = if reloading { "reload" } else { "load" };
        let token = self.profiler.begin_call(
            (id.0, CallKind::Load, super::instrument::name_key(what)),
            || (path.to_string(), what.to_string()),
        );
        let depth = self.host.borrow().defer_depth();
        self.debugger.begin_call(None, || format!("loading {path}"));
        let result = backend.load(text, reloading);
        self.debugger.end_call();
        self.host.borrow_mut().reset_defer(depth);
        if let Some(token) = token {
            self.profiler.end_call(token);
        }
        result
    }

    /// A new version that cannot run: recorded as failed, reported, and the
    /// running version goes on.
    fn reject(&mut self, index: usize, text: &str, failure: ScriptFailure, origin: &str) {
        let path = self.scripts[index].entry.path.clone();
        let location = format!(
            "{}:{}: {}",
            failure.file.as_deref().unwrap_or(&path),
            failure.line.unwrap_or(1),
            failure.message
        );
        let version =
            self.history
                .record(&path, text, VersionStatus::Failed, Some(location), origin);
        let reason = format!("v{version} failed: {}", failure.message);
        self.report(&path, &format!("reload v{version}"), failure, None);
        let running = self.scripts[index].version;
        if self.scripts[index].backend().is_some() {
            self.host.borrow_mut().push_event(EventKind::RolledBack {
                script: path,
                version: running,
                reason,
            });
        }
        self.report_history_problem();
    }

    /// Keeps the new version for good: the previous one is dropped.
    fn commit_probation(&mut self, index: usize) {
        self.scripts[index].probation = None;
    }

    /// After a frame: new versions that raised during it are rolled back;
    /// the others are kept.
    pub(crate) fn end_probations(&mut self) {
        for index in 0..self.scripts.len() {
            let failed = match &self.scripts[index].probation {
                Some(p) => self.scripts[index].errors > p.errors_at_swap,
                None => continue,
            };
            let probation = self.scripts[index].probation.take();
            if !failed {
                continue;
            }
            let Some(p) = probation else {
                continue;
            };
            let slot: &mut ScriptSlot = &mut self.scripts[index];
            let failed_version = slot.version;
            let path = slot.entry.path.clone();
            let id = slot.id;
            {
                let mut host = self.host.borrow_mut();
                let _ = host.take_registrations(id);
                host.restore_registrations(p.registrations);
            }
            let slot = &mut self.scripts[index];
            slot.set_backend(Some(p.backend));
            slot.version = p.version;
            slot.hash = p.hash;
            let error = self.last_error_of(&path);
            self.history.set_status(
                &path,
                failed_version,
                VersionStatus::RolledBack,
                error.clone(),
            );
            self.host.borrow_mut().push_event(EventKind::RolledBack {
                script: path,
                version: p.version,
                reason: format!(
                    "v{failed_version} raised in its first frame: {}",
                    error.unwrap_or_default()
                ),
            });
        }
    }

    /// Rereads the manifest after it changed on disk: new scripts load,
    /// removed ones unload; a broken manifest is reported and changes
    /// nothing.
    pub(crate) fn manifest_changed(&mut self) {
        let project = match Project::open(&self.project.root) {
            // A restricted project stays restricted whatever its new manifest.
            Ok(project) if self.project.restricted => project.restricted(),
            Ok(project) => project,
            Err(err) => {
                self.notice(format!(
                    "{err} (the project goes on with the manifest it started with)"
                ));
                return;
            }
        };
        let removed: Vec<usize> = (0..self.scripts.len())
            .filter(|&i| {
                !project
                    .manifest
                    .scripts
                    .iter()
                    .any(|s| s.path == self.scripts[i].entry.path)
            })
            .collect();
        for index in removed.into_iter().rev() {
            self.unload_script(index);
        }
        let added: Vec<ScriptEntry> = project
            .manifest
            .scripts
            .iter()
            .filter(|s| !self.scripts.iter().any(|slot| slot.entry.path == s.path))
            .cloned()
            .collect();
        if project.manifest.world != self.project.manifest.world {
            self.notice(
                "the [world] settings changed; press Reset to start the world with them".into(),
            );
        }
        self.project = project;
        for entry in added {
            self.load_script(entry);
        }
    }

    /// Removes a script: `on_unload`, then its systems, handlers and
    /// coroutines. Its entities stay.
    fn unload_script(&mut self, index: usize) {
        let mut slot = self.scripts.remove(index);
        if let Some(mut backend) = slot.set_backend(None) {
            if let Err(failure) = backend.unload() {
                self.report(&slot.entry.path, "on_unload", failure, None);
            }
        }
        self.host.borrow_mut().remove_script_registrations(slot.id);
        self.notice(format!(
            "{} was removed from the manifest and unloaded",
            slot.entry.path
        ));
    }

    /// Reports a notice in the event stream.
    pub(crate) fn notice(&mut self, message: String) {
        self.host
            .borrow_mut()
            .push_event(EventKind::Notice { message });
    }

    pub(crate) fn report_history_problem(&mut self) {
        if let Some(problem) = self.history.take_problem() {
            self.notice(problem);
        }
    }
}
