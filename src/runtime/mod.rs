//! The headless core: the world, the frame loop and everything scripts
//! change. Never depends on the GUI.
//!
//! [`Runtime`] is the facade: open a project, [`Runtime::step`] frames,
//! [`Runtime::apply`] a [`RuntimeCommand`], read views and the event stream.

pub use crate::scripting::SCRIPT_STACK;

crate::message_error! {
    /// A command the runtime could not apply, and why (the message names the
    /// script, entity or file).
    CommandError
}

impl From<crate::scripting::debugger::SpecError> for CommandError {
    fn from(e: crate::scripting::debugger::SpecError) -> Self {
        CommandError(e.0)
    }
}

pub mod breakpoints;
pub mod budgets;
pub mod command;
pub mod dump;
mod instrument;
pub use instrument::marker_of;
pub mod parallel;
pub mod probe;
mod reload;
mod sampling;
pub use sampling::{KEPT_SAMPLE_TIMES, SampleTimes};
mod scheduler;
pub mod session;
mod slot;
pub mod suggest;
pub mod view;

use std::time::Duration;

pub use crate::ecs::events::{ErrorInfo, EventKind, RuntimeEvent};
pub use command::RuntimeCommand;
// The data model lives in `ecs`; these names are kept for the layers above.
pub use crate::ecs::{components, coroutines, events, random, world};
pub use reload::ReloadTiming;

use crate::hot_reload::history::{History, Version, VersionStatus};
use crate::project::{Language, Project, ScriptEntry};
use crate::scripting::debugger::SharedDebugger;
use crate::scripting::host::{HostState, SharedHost};
use crate::scripting::watchdog::Watchdog;
use crate::scripting::{
    ScriptBackend, ScriptFailure, ScriptId, ScriptValue, StackFrame, check_source,
};
use coroutines::Ending;
pub(crate) use slot::ScriptSlot;

/// Where a script stands.
#[derive(Debug, Clone, PartialEq)]
pub enum ScriptStatus {
    /// Loaded and running.
    Running,
    /// Failed to load; nothing of it runs.
    Failed(ErrorInfo),
    /// Not run (a language this build lacks).
    Skipped(String),
}

/// A running project: world, scripts and clock.
pub struct Runtime {
    project: Project,
    host: SharedHost,
    scripts: Vec<ScriptSlot>,
    watchdog: Watchdog,
    error_count: usize,
    last_frame_time: Duration,
    profiler: crate::profiling::Profiler,
    sampling: sampling::Sampling,
    /// Leak hunts under way, by script index.
    hunts: std::collections::BTreeMap<usize, instrument::Hunt>,
    /// What each leaking script keeps and where it adds to it, by path.
    leak_sites: std::collections::BTreeMap<String, crate::profiling::memory::LeakSite>,
    /// Coroutines seen polling, by id (for the suggestion rules).
    polling: std::collections::BTreeMap<u64, suggest::Polling>,
    memory: crate::profiling::memory::MemoryTracker,
    memory_on: bool,
    /// Each batch system's arrays, reused from run to run.
    batches: std::collections::HashMap<(u32, u32), crate::scripting::batch::BatchData>,
    /// What each system did, for the suggestions.
    uses: suggest::Uses,
    debugger: SharedDebugger,
    history: History,
    /// The last error reported per script, for history entries.
    last_errors: std::collections::HashMap<String, String>,
    /// Where the time of the last successful reload went.
    last_reload: Option<reload::ReloadTiming>,
    /// The worker threads systems run on together, made when first needed,
    /// with their number.
    workers: Option<(usize, rayon::ThreadPool)>,
    /// Groups of systems that ran on the worker threads so far.
    groups_on_workers: u64,
}

impl Runtime {
    /// Builds the world and loads every script in manifest order. A script
    /// that fails to load is reported in the event stream; the others run.
    pub fn open(project: Project) -> Runtime {
        Runtime::open_with(project, |_| {})
    }

    /// Opens a project like [`Runtime::open`], calling `before_load` once
    /// the runtime exists and before any script runs: breakpoints and a
    /// break handler set there stop in the scripts' top-level code.
    pub fn open_with(project: Project, before_load: impl FnOnce(&Runtime)) -> Runtime {
        let world = &project.manifest.world;
        let host = HostState::new(world.fixed_dt, world.seed).shared();
        let limits = &project.manifest.limits;
        host.borrow_mut().spawn_limit = limits.spawns_per_frame;
        host.borrow_mut().host_bytes_limit = (limits.memory_mb as usize).saturating_mul(1 << 20);
        let mut runtime = Runtime {
            project: project.clone(),
            host,
            scripts: Vec::new(),
            watchdog: Watchdog::new(),
            error_count: 0,
            last_frame_time: Duration::ZERO,
            profiler: crate::profiling::Profiler::new(),
            memory: Default::default(),
            memory_on: true,
            batches: Default::default(),
            uses: Default::default(),
            debugger: SharedDebugger::default(),
            history: History::open(&project.data_dir(), project.manifest.history.keep),
            last_errors: Default::default(),
            last_reload: None,
            sampling: sampling::Sampling::new(project.manifest.profiling.sample_hz),
            polling: Default::default(),
            hunts: Default::default(),
            leak_sites: Default::default(),
            workers: None,
            groups_on_workers: 0,
        };
        runtime.debugger.set_probe(Some(Box::new(probe::HostProbe {
            host: runtime.host.clone(),
        })));
        before_load(&runtime);
        let entries = runtime.project.manifest.scripts.clone();
        for entry in entries {
            runtime.load_script(entry);
        }
        runtime.check_budget_names();
        runtime
    }

    /// Loads a script as the project opens (or is added to the manifest);
    /// its text is recorded in the history when it differs from the last
    /// stored version.
    fn load_script(&mut self, entry: ScriptEntry) {
        let id = self.host.borrow_mut().add_script(&entry.path);
        let mut slot = ScriptSlot::new(entry, id);
        let path = slot.entry.path.clone();
        if self.project.restricted && slot.entry.language == crate::project::Language::Python {
            // Python has no sandbox: an untrusted project's Python is not run.
            let reason = "restricted mode: Python scripts are not run, since Python cannot be sandboxed (trust the project to run it)".to_string();
            self.notice(format!("skipped {path}: {reason}"));
            slot.status = ScriptStatus::Skipped(reason);
            self.scripts.push(slot);
            return;
        }
        let text = std::fs::read(&slot.entry.full_path)
            .map_err(|e| ScriptFailure::message(format!("cannot read the script: {e}")))
            .and_then(|bytes| check_source(&bytes).map(str::to_string));
        let created = self.create_backend(&slot.entry, id);
        let result = match (text.clone(), created) {
            (Err(failure), _) | (_, Err(failure)) => Err(failure),
            (Ok(_), Ok(None)) => Err(ScriptFailure::message(format!(
                "this build of ECScope has no {} support",
                slot.entry.language.name()
            ))),
            (Ok(text), Ok(Some(mut backend))) => self
                .load_backend(&mut *backend, &text, false, &path, id)
                .map(|()| backend),
        };
        if let Ok(text) = &text {
            let hash = crate::hot_reload::history::hash_text(text);
            slot.hash = hash.clone();
            let latest = self.history.latest(&path);
            slot.version = match latest {
                Some(v)
                    if v.hash == hash
                        && (result.is_ok() == (v.status != VersionStatus::Failed)) =>
                {
                    v.version
                }
                _ => {
                    let (status, error) = match &result {
                        Ok(_) => (VersionStatus::Loaded, None),
                        Err(f) => (
                            VersionStatus::Failed,
                            Some(format!(
                                "{}:{}: {}",
                                f.file.as_deref().unwrap_or(&path),
                                f.line.unwrap_or(1),
                                f.message
                            )),
                        ),
                    };
                    self.history.record(&path, text, status, error, "load")
                }
            };
        }
        match result {
            Ok(backend) => {
                let language = slot.entry.language.name().to_string();
                self.host.borrow_mut().push_event(EventKind::ScriptLoaded {
                    script: path.clone(),
                    language,
                    version: slot.version,
                });
                slot.set_backend(Some(backend));
            }
            Err(failure) => {
                self.host.borrow_mut().remove_script_registrations(id);
                self.scripts.push(slot);
                let info = self.report(&path, "load", failure, None);
                if let Some(slot) = self.scripts.last_mut() {
                    slot.status = ScriptStatus::Failed(info);
                }
                self.report_history_problem();
                return;
            }
        }
        self.scripts.push(slot);
        self.report_history_problem();
    }

    #[allow(unused_variables)]
    fn create_backend(
        &self,
        entry: &ScriptEntry,
        id: ScriptId,
    ) -> Result<Option<Box<dyn ScriptBackend>>, ScriptFailure> {
        let limits = &self.project.manifest.limits;
        if self.project.restricted && entry.language == crate::project::Language::Python {
            return Err(ScriptFailure::message(
                "restricted mode: Python scripts are not run, since Python cannot be sandboxed",
            ));
        }
        match entry.language {
            #[cfg(feature = "lua")]
            Language::Lua => Ok(Some(Box::new(crate::scripting::lua::LuaScript::new(
                self.host.clone(),
                id,
                &entry.path,
                &self.project,
                self.watchdog.handle(),
                self.debugger.clone(),
            )?))),
            #[cfg(feature = "python")]
            Language::Python => Ok(Some(Box::new(crate::scripting::python::PyScript::new(
                self.host.clone(),
                id,
                &entry.path,
                &self.project.root,
                limits,
                self.watchdog.handle(),
                self.debugger.clone(),
            )?))),
            #[allow(unreachable_patterns)]
            _ => Ok(None),
        }
    }

    /// Records a script failure in the event stream and returns it.
    pub(crate) fn report(
        &mut self,
        script: &str,
        context: &str,
        failure: ScriptFailure,
        fallback_line: Option<u32>,
    ) -> ErrorInfo {
        self.error_count += 1;
        if let Some(slot) = self.scripts.iter_mut().find(|s| s.entry.path == script) {
            slot.errors += 1;
        }
        self.last_errors.insert(
            script.to_string(),
            format!(
                "{}:{}: {}",
                failure.file.as_deref().unwrap_or(script),
                failure.line.or(fallback_line).unwrap_or(1),
                failure.message
            ),
        );
        let file = failure.file.filter(|f| f != script);
        let info = ErrorInfo {
            script: script.to_string(),
            line: failure.line.or(fallback_line).unwrap_or(1),
            message: failure.message,
            file,
            context: context.to_string(),
            traceback: failure.traceback,
        };
        self.host
            .borrow_mut()
            .push_event(EventKind::ScriptError(info.clone()));
        info
    }

    /// The project.
    pub fn project(&self) -> &Project {
        &self.project
    }

    /// Groups of systems that ran at the same time on the worker threads
    /// so far (SCRIPT_API §5).
    pub fn groups_on_workers(&self) -> u64 {
        self.groups_on_workers
    }

    /// The shared host (world, clock, registrations). Borrow it only
    /// between frames.
    pub fn host(&self) -> &SharedHost {
        &self.host
    }

    /// Frames run so far.
    pub fn frame(&self) -> u64 {
        self.host.borrow().frame()
    }

    /// Simulated time: `frame * fixed_dt`.
    pub fn time(&self) -> f64 {
        self.host.borrow().time()
    }

    /// Script errors reported since the project was opened.
    pub fn error_count(&self) -> usize {
        self.error_count
    }

    /// Wall time of the last [`Runtime::step`].
    pub fn last_frame_time(&self) -> Duration {
        self.last_frame_time
    }

    /// Takes the events produced since the last call.
    pub fn drain_events(&mut self) -> Vec<RuntimeEvent> {
        self.mark_events();
        self.host.borrow_mut().take_output()
    }

    /// Applies a command between frames. The commands that change only
    /// the debugger go through [`probe::apply_debugger_command`], which a
    /// session also applies while a script is stopped; the others wait
    /// for the stop to end.
    pub fn apply(&mut self, command: RuntimeCommand) -> Result<(), CommandError> {
        if let Some(result) = probe::apply_debugger_command(&self.debugger, &command) {
            return result.map_err(CommandError::from);
        }
        let mut host = self.host.borrow_mut();
        let result = match command {
            RuntimeCommand::Step { frames } => {
                drop(host);
                for _ in 0..frames {
                    self.step();
                }
                return Ok(());
            }
            RuntimeCommand::Reset => {
                drop(host);
                self.reset()?;
                return Ok(());
            }
            RuntimeCommand::SetField {
                id,
                component,
                field,
                value,
            } => {
                let key = host
                    .world
                    .key(&component)
                    .ok_or_else(|| format!("unknown component {component:?}"))?;
                host.set_field(id, key, &field, value)
            }
            RuntimeCommand::SetComponent {
                id,
                component,
                value,
            } => host.set(id, &component, value),
            RuntimeCommand::AddComponent { id, component } => {
                let key = host
                    .world
                    .key(&component)
                    .ok_or_else(|| format!("unknown component {component:?}"))?;
                let value = {
                    let def = host.world.def(key);
                    def.value_of(&def.default_record())
                };
                host.set(id, &component, value)
            }
            RuntimeCommand::RemoveComponent { id, component } => host.remove(id, &component),
            RuntimeCommand::Spawn { components } => host.spawn(components).map(|_| ()),
            RuntimeCommand::Despawn { id } => host.despawn(id),
            RuntimeCommand::StepCoroutine { id } => {
                drop(host);
                if !self.resume_coroutine(id) {
                    return Err(CommandError(format!("there is no running coroutine {id}")));
                }
                self.release_coroutines();
                return Ok(());
            }
            RuntimeCommand::PauseCoroutine { id, paused } => match host.coroutines.get_mut(id) {
                Some(c) => {
                    c.paused = paused;
                    Ok(())
                }
                None => return Err(CommandError(format!("there is no running coroutine {id}"))),
            },
            RuntimeCommand::PauseAllCoroutines { paused } => {
                host.coroutines.all_paused = paused;
                Ok(())
            }
            RuntimeCommand::StopCoroutine { id } => {
                let stopped = host.stop_coroutine(id);
                drop(host);
                self.release_coroutines();
                return match stopped {
                    Ok(true) => Ok(()),
                    Ok(false) => Err(CommandError(format!("coroutine {id} has already ended"))),
                    Err(e) => Err(CommandError(e.0)),
                };
            }
            RuntimeCommand::SetBreakpoint { .. }
            | RuntimeCommand::SetBreakpointSpec { .. }
            | RuntimeCommand::ClearBreakpoints
            | RuntimeCommand::RunToLine { .. }
            | RuntimeCommand::SetBreakOnError(_)
            | RuntimeCommand::AddDataBreakpoint { .. }
            | RuntimeCommand::RemoveDataBreakpoint { .. }
            | RuntimeCommand::TrackWrites { .. } => {
                unreachable!("applied to the debugger above")
            }
            RuntimeCommand::StepCoroutineLine { id } => {
                drop(host);
                let at = self
                    .coroutines(true)
                    .into_iter()
                    .find(|c| c.id == id && c.status.is_live())
                    .ok_or_else(|| format!("there is no running coroutine {id}"))?
                    .location;
                self.debugger.step_coroutine(Some(id), at);
                // One resume now, whatever it waits for (as Step resume),
                // stopping at its first line.
                return self.apply(RuntimeCommand::StepCoroutine { id });
            }
            RuntimeCommand::ReloadScript { script } => {
                drop(host);
                return self.reload_path(&script);
            }
            RuntimeCommand::RollbackScript { script, version } => {
                drop(host);
                return self.rollback(&script, version);
            }
            RuntimeCommand::SetProfiling(on) => {
                self.profiler.set_on(on);
                Ok(())
            }
            RuntimeCommand::SetMemoryTracking(on) => {
                self.memory_on = on;
                crate::profiling::alloc::set_counting(on);
                Ok(())
            }
            RuntimeCommand::SetSampleHz(hz) => {
                drop(host);
                return self.set_sample_hz(hz).map_err(CommandError);
            }
            RuntimeCommand::ClearProfile => {
                drop(host);
                self.clear_samples();
                self.profiler.clear();
                self.uses.clear();
                self.polling.clear();
                Ok(())
            }
            RuntimeCommand::ClearMemory => {
                drop(host);
                self.memory.clear();
                for index in self.hunts.keys().copied().collect::<Vec<_>>() {
                    self.end_hunt(index);
                }
                self.leak_sites.clear();
                Ok(())
            }
        };
        result.map_err(|e| CommandError(e.0))
    }

    /// The recorded profiler frames (shared; for viewers and `--profile`).
    pub fn profile_frames(&self) -> crate::profiling::profiler::Frames {
        self.profiler.frames()
    }

    /// The profiler's collector, for extra sinks (`--serve-profile`).
    pub fn profile_collector(&self) -> crate::profiling::profiler::Collector {
        self.profiler.collector()
    }

    /// The statistics over the last frames.
    pub fn stats_table(&self) -> crate::profiling::StatsTable {
        self.profiler.stats.table()
    }

    /// The statistics over the whole run, as JSON.
    pub fn stats_summary(&self) -> serde_json::Value {
        self.profiler.stats.run_summary()
    }

    /// Whether the profiler records.
    pub fn profiling(&self) -> bool {
        self.profiler.is_on()
    }

    /// Whether memory is sampled.
    pub fn memory_tracking(&self) -> bool {
        self.memory_on
    }

    /// The memory series and leaks.
    pub fn memory_view(&self) -> crate::profiling::memory::MemoryView {
        self.memory.view()
    }

    /// The memory series sampled in the last frame, with their values.
    pub fn memory_series_now(&self) -> Vec<crate::profiling::memory::SeriesNow> {
        let frame = self.frame();
        self.memory
            .series()
            .iter()
            .filter(|s| s.samples.back().is_some_and(|&(f, _)| f + 1 >= frame))
            .map(|s| crate::profiling::memory::SeriesNow {
                name: s.name.clone(),
                kind: s.kind,
                script: s.script.clone(),
                value: s.current(),
            })
            .collect()
    }

    /// Every stored version of a script, oldest first.
    pub fn history(&mut self, path: &str) -> Vec<Version> {
        self.history.versions(path)
    }

    /// The text of a stored version.
    pub fn version_text(&mut self, path: &str, version: u32) -> Option<String> {
        self.history.text(path, version)
    }

    /// The running version of each script, by path.
    pub fn running_versions(&self) -> Vec<(String, u32)> {
        self.scripts
            .iter()
            .map(|s| (s.entry.path.clone(), s.version))
            .collect()
    }

    fn last_error_of(&self, path: &str) -> Option<String> {
        self.last_errors.get(path).cloned()
    }

    /// The debugger: breakpoints and the break handler.
    pub fn debugger(&self) -> &SharedDebugger {
        &self.debugger
    }

    /// Every live coroutine and the recently ended ones. With `locate`,
    /// each live one's suspended file and line (a call into its language
    /// per coroutine).
    pub fn coroutines(&mut self, locate: bool) -> Vec<CoroutineView> {
        let (live, ended, frame, time, all_paused) = {
            let host = self.host.borrow();
            (
                host.coroutines.live().cloned().collect::<Vec<_>>(),
                host.coroutines.ended().iter().cloned().collect::<Vec<_>>(),
                host.frame(),
                host.time(),
                host.coroutines.all_paused,
            )
        };
        let mut views = Vec::with_capacity(live.len() + ended.len());
        for c in live {
            let index = self.slot_index(c.script);
            let script = index
                .map(|i| self.scripts[i].entry.path.clone())
                .unwrap_or_default();
            let location = if locate {
                index.and_then(|i| self.backend_mut(i)?.locate_coroutine(c.handle))
            } else {
                None
            };
            views.push(CoroutineView {
                id: c.id,
                name: c.name,
                script,
                state: c.wait.describe(frame, time),
                status: if c.paused || all_paused {
                    CoroutineStatus::Paused
                } else {
                    CoroutineStatus::Waiting
                },
                resumes: c.resumes,
                location,
            });
        }
        for e in ended {
            let script = self
                .slot_index(e.script)
                .map(|i| self.scripts[i].entry.path.clone())
                .unwrap_or_default();
            views.push(CoroutineView {
                id: e.id,
                name: e.name,
                script,
                state: format!("{} in frame {}", e.how.name(), e.frame),
                status: match e.how {
                    Ending::Returned => CoroutineStatus::Finished,
                    Ending::Stopped => CoroutineStatus::Stopped,
                    Ending::Failed => CoroutineStatus::Failed,
                },
                resumes: 0,
                location: None,
            });
        }
        views
    }

    /// Where a live coroutine is suspended: its frames, innermost first,
    /// with locals.
    pub fn inspect_coroutine(&mut self, id: u64) -> Option<Vec<StackFrame>> {
        let (script, handle) = {
            let host = self.host.borrow();
            let c = host.coroutines.get(id)?;
            (c.script, c.handle)
        };
        let index = self.slot_index(script)?;
        Some(self.backend_mut(index)?.inspect_coroutine(handle))
    }

    /// Starts the project again from its files: a new world, scripts loaded
    /// afresh (the manifest is read again).
    pub fn reset(&mut self) -> Result<(), CommandError> {
        let mut project = Project::open(&self.project.root).map_err(|e| e.to_string())?;
        project.restricted = self.project.restricted;
        let stuck_handler = self.watchdog.stuck_handler();
        *self = Runtime::open(project);
        self.watchdog.set_stuck_handler(stuck_handler);
        Ok(())
    }

    /// Sends calls into this runtime's scripts that nothing can stop to
    /// `handler` (kept across [`Runtime::reset`]).
    pub fn on_stuck(
        &self,
        handler: impl Fn(&crate::scripting::watchdog::StuckCall) + Send + Sync + 'static,
    ) {
        self.watchdog
            .set_stuck_handler(Some(std::sync::Arc::new(handler)));
    }

    /// A copy of one component value, for tests and the GUI.
    pub fn get(&self, id: u64, component: &str) -> Option<ScriptValue> {
        self.host
            .borrow()
            .get(id, component)
            .ok()
            .filter(|v| *v != ScriptValue::Nil)
    }
}

/// How a coroutine stands, for tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoroutineStatus {
    /// Waiting for its next step.
    Waiting,
    /// Paused by the user.
    Paused,
    /// Its function returned.
    Finished,
    /// Stopped.
    Stopped,
    /// It raised an error.
    Failed,
}

impl CoroutineStatus {
    /// A short word for tables.
    pub fn name(self) -> &'static str {
        match self {
            CoroutineStatus::Waiting => "waiting",
            CoroutineStatus::Paused => "paused",
            CoroutineStatus::Finished => "finished",
            CoroutineStatus::Stopped => "stopped",
            CoroutineStatus::Failed => "failed",
        }
    }

    /// True for coroutines that can still run.
    pub fn is_live(self) -> bool {
        matches!(self, CoroutineStatus::Waiting | CoroutineStatus::Paused)
    }
}

/// A coroutine as the debugger lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct CoroutineView {
    /// Its id.
    pub id: u64,
    /// The name given to `ecs.start`.
    pub name: String,
    /// The script that started it.
    pub script: String,
    /// What it waits for (`waiting 3 frames`...) or how it ended.
    pub state: String,
    /// Waiting, paused, finished, stopped or failed.
    pub status: CoroutineStatus,
    /// Steps run so far.
    pub resumes: u64,
    /// File and line it is suspended at, when located.
    pub location: Option<(String, u32)>,
}
