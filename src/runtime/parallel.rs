//! Systems that run together (SCRIPT_API §5): which ones may, and running
//! a group of them on the worker threads.
//!
//! A group is made the same way whatever the thread count, and its systems'
//! structural changes, events and log lines are applied in registration
//! order once all are done, so a run with one thread and a run with many
//! give the same world and the same event stream. Only how the group's
//! systems are spread over threads depends on the count.

use std::sync::Arc;

use crate::ecs::components::CompKey;
use crate::ecs::shared::HostCell;
use crate::profiling::CallKind;
use crate::profiling::profiler::WorkerScope;
use crate::scripting::batch::BatchData;
use crate::scripting::host::{Access, QuerySpec, Sink, SystemEntry};
use crate::scripting::{ScriptBackend, ScriptFailure};

use super::Runtime;

/// Why a system does not run together with the systems before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Alone {
    /// It declares no access, or the system before it declares none.
    DeclaresNothing,
    /// A system of the same script is in the group (a script's systems
    /// never overlap).
    SameScript,
    /// It and a system of the group touch this component, and one of them
    /// writes it.
    Conflict(CompKey),
}

/// The first component over which `a` and `b` conflict: one writes what
/// the other reads or writes.
pub fn conflict(a: &Access, b: &Access) -> Option<CompKey> {
    a.writes
        .iter()
        .find(|&&k| b.reads(k))
        .or_else(|| b.writes.iter().find(|&&k| a.reads(k)))
        .copied()
}

/// Whether `next` may join `group` (systems that run together), or why
/// not.
pub fn joins(group: &[SystemEntry], next: &SystemEntry) -> Result<(), Alone> {
    match blocker(group, next) {
        None => Ok(()),
        Some((why, _)) => Err(why),
    }
}

/// Why `next` may not join `group`, and the member of `group` in its way
/// (`None` when `next` itself declares nothing).
fn blocker(group: &[SystemEntry], next: &SystemEntry) -> Option<(Alone, Option<usize>)> {
    let Some(access) = &next.access else {
        return Some((Alone::DeclaresNothing, None));
    };
    for (i, member) in group.iter().enumerate() {
        let Some(other) = &member.access else {
            return Some((Alone::DeclaresNothing, Some(i)));
        };
        if member.script == next.script {
            return Some((Alone::SameScript, Some(i)));
        }
        if let Some(key) = conflict(other, access) {
            return Some((Alone::Conflict(key), Some(i)));
        }
    }
    None
}

/// How many systems from `systems[at]` on run together (at least one).
pub fn group_len(systems: &[SystemEntry], at: usize) -> usize {
    let mut end = at + 1;
    while end < systems.len() && joins(&systems[at..end], &systems[end]).is_ok() {
        end += 1;
    }
    end - at
}

/// One system as the Systems view lists it, in the order systems run.
#[derive(Debug, Clone, PartialEq)]
pub struct SystemRow {
    /// The script's manifest path.
    pub script: String,
    /// The name given to `ecs.system`.
    pub name: String,
    /// `per entity`, `fn(dt)` or `batch`.
    pub form: &'static str,
    /// Its query's components.
    pub query: Vec<String>,
    /// Declared access: (reads, writes), with the query's components
    /// counted; `None` when it declares nothing.
    pub access: Option<(Vec<String>, Vec<String>)>,
    /// Which group it runs in (systems of one group run at the same time).
    pub group: usize,
    /// Why it starts a group of its own rather than joining the one
    /// before it (`None` for the first system and for those that joined).
    pub waited: Option<String>,
    /// Its script runs on the worker threads (Lua), rather than on the
    /// runtime's thread (Python holds the GIL).
    pub on_workers: bool,
}

/// The Systems view: how this frame's systems are grouped, and whether
/// groups run on worker threads now.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SystemsView {
    /// Worker threads for groups.
    pub threads: usize,
    /// Why groups run one system after another now, if they do.
    pub sequential: Option<String>,
    /// Groups that ran on the worker threads so far.
    pub groups_on_workers: u64,
    /// The enabled systems, in order.
    pub rows: Vec<SystemRow>,
}

impl Runtime {
    /// The systems in the order they run, with their access and groups.
    pub fn systems_view(&self) -> SystemsView {
        let host = self.host.borrow();
        let name = |k: &CompKey| host.world.def(*k).name.clone();
        let systems: Vec<_> = host.systems().iter().filter(|s| s.enabled).collect();
        let mut rows = Vec::with_capacity(systems.len());
        let (mut start, mut group) = (0, 0);
        let owned: Vec<SystemEntry> = systems.iter().map(|s| (*s).clone()).collect();
        for (at, system) in systems.iter().enumerate() {
            let mut waited = None;
            if at > start {
                if let Some((why, member)) = blocker(&owned[start..at], system) {
                    let other = member.map(|m| &owned[start + m]);
                    waited = Some(match (why, other) {
                        (Alone::DeclaresNothing, None) => "declares no access".to_string(),
                        (Alone::DeclaresNothing, Some(o)) => {
                            let script = self.script_path(o.script).unwrap_or_default();
                            format!(
                                "'{}' ({script}) declares no access, so it runs alone",
                                o.name
                            )
                        }
                        (Alone::SameScript, o) => format!(
                            "same script as '{}'",
                            o.map(|o| o.name.as_str()).unwrap_or_default()
                        ),
                        (Alone::Conflict(key), o) => format!(
                            "{} conflicts{}",
                            name(&key),
                            o.map(|o| {
                                let script = self.script_path(o.script).unwrap_or_default();
                                format!(" with '{}' ({script})", o.name)
                            })
                            .unwrap_or_default()
                        ),
                    });
                    start = at;
                    group += 1;
                }
            }
            let on_workers = self
                .slot_index(system.script)
                .and_then(|i| self.scripts[i].backend())
                .is_some_and(|b| b.runs_on_workers());
            rows.push(SystemRow {
                script: self.script_path(system.script).unwrap_or_default(),
                name: system.name.clone(),
                form: match (&system.query, &system.batch) {
                    (None, _) => "fn(dt)",
                    (Some(_), Some(_)) => "batch",
                    (Some(_), None) => "per entity",
                },
                query: system
                    .query
                    .as_ref()
                    .map(|q| q.with.iter().map(name).collect())
                    .unwrap_or_default(),
                access: system.access.as_ref().map(|a| {
                    (
                        a.reads.iter().map(name).collect(),
                        a.writes.iter().map(name).collect(),
                    )
                }),
                group,
                waited,
                on_workers,
            });
        }
        let threads = self.project.manifest.runtime.threads();
        let sequential = if threads <= 1 {
            Some("threads = 1".to_string())
        } else if self.debugger.is_active() {
            Some("the debugger is on (a breakpoint, a step or a watched field)".to_string())
        } else {
            None
        };
        SystemsView {
            threads,
            sequential,
            groups_on_workers: self.groups_on_workers,
            rows,
        }
    }

    fn script_path(&self, script: crate::ecs::host::ScriptId) -> Option<String> {
        self.slot_index(script)
            .map(|i| self.scripts[i].entry.path.clone())
    }
}

/// What a system of a group is handed.
enum Work {
    /// `fn(dt)` (no ids) or per entity.
    Plain {
        ids: Option<Vec<u64>>,
        comps: Vec<CompKey>,
    },
    /// A batch system's arrays, gathered (or in place) before the group.
    Batch { data: BatchData, query: QuerySpec },
}

/// What one system of a group did.
struct Outcome {
    result: Result<(), ScriptFailure>,
    ns: u64,
    allocations: u64,
    gc_ns: u64,
    sink: Option<Sink>,
    /// The profiler measured it already (it ran on the runtime's thread,
    /// measured as every call is).
    measured: bool,
}

struct Member {
    system: SystemEntry,
    index: usize,
    work: Work,
    /// Its flame-graph scope, opened on the thread that runs it.
    scope: Option<WorkerScope>,
    outcome: Option<Outcome>,
}

/// A system of a group handed to a worker thread.
struct Job<'a> {
    host: &'a HostCell,
    backend: &'a mut Box<dyn ScriptBackend>,
    member: &'a mut Member,
    dt: f64,
}

// SAFETY: a job takes the only reference to one script's backend to one
// worker, and the runtime's thread touches neither the backend nor the
// member until the group's scope has ended. What a Lua script's state
// shares with other scripts is thread-safe (the host behind its lock, the
// watchdog's slots and budgets in atomics) apart from the debugger. Groups
// run on workers only while it has no breakpoint, step or watch (see
// `Runtime::run_group`), so its line hooks are off; a worker only reads
// its `Cell` flags, which nothing writes until the scope ends, and inside
// `in_group` it never stops on an error, so it never borrows the
// debugger's `RefCell`s.
unsafe impl Send for Job<'_> {}

impl Job<'_> {
    fn run(self) {
        let outcome = crate::scripting::debugger::in_group(|| {
            run_member(self.host, Some(&mut *self.backend), self.member, self.dt)
        });
        self.backend.leave_worker();
        self.member.outcome = Some(outcome);
    }
}

/// Runs one system of a group, on whatever thread calls it.
fn run_member(
    host: &HostCell,
    backend: Option<&mut Box<dyn ScriptBackend>>,
    member: &mut Member,
    dt: f64,
) -> Outcome {
    let system = &member.system;
    let _scope = member.scope.as_ref().map(WorkerScope::open);
    host.borrow_mut().enter_system(system, true);
    let (allocations, gc) = (
        crate::profiling::alloc::allocations(),
        crate::profiling::gc::total(),
    );
    let started = crate::profiling::stopped::Stopwatch::start();
    let result = match (backend, &mut member.work) {
        (None, _) => Ok(()),
        (Some(backend), Work::Plain { ids, comps }) => {
            backend.run_system(system.handle, ids.as_deref(), comps, dt)
        }
        (Some(backend), Work::Batch { data, query }) => {
            data.written.iter_mut().for_each(|w| *w = false);
            let result = backend.run_batch(system.handle, data, dt);
            // Copies go back even after an error, as in a system run alone.
            if data.direct.take().is_none() {
                host.borrow_mut().world.scatter(
                    &query.with,
                    &query.without,
                    &data.layout.fields,
                    &data.columns,
                    &data.written,
                );
            }
            result
        }
    };
    let ns = started.elapsed().as_nanos() as u64;
    let outcome = Outcome {
        result,
        ns,
        allocations: crate::profiling::alloc::allocations() - allocations,
        gc_ns: crate::profiling::gc::total() - gc,
        sink: host.borrow_mut().leave_system(),
        measured: false,
    };
    host.finish_turn(system.script);
    outcome
}

impl Runtime {
    /// The worker threads for `threads`, made (again) when the count
    /// changed.
    fn take_workers(&mut self, threads: usize) -> Option<rayon::ThreadPool> {
        match self.workers.take() {
            Some((n, pool)) if n == threads => Some(pool),
            _ => rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .stack_size(crate::scripting::SCRIPT_STACK)
                .thread_name(|i| format!("ecscope-worker-{i}"))
                .build()
                .ok(),
        }
    }

    /// Runs systems that may run together (see [`group_len`]): on the
    /// worker threads when there are several and nothing is being
    /// debugged, else one after another here. Either way, what
    /// they queued is applied in registration order once all are done.
    pub(super) fn run_group(&mut self, group: &[SystemEntry], dt: f64) {
        // The workers need the host while the runtime lends them backends,
        // so the group holds it by its `Arc`: each member borrows it only
        // around its call's bookkeeping, and the host locks while grouped.
        let host = Arc::clone(&self.host);
        host.borrow_mut().begin_defer();
        let mut members = Vec::with_capacity(group.len());
        for system in group {
            let Some(index) = self.slot_index(system.script) else {
                continue;
            };
            let work = self.prepare_work(index, system);
            members.push(Member {
                system: system.clone(),
                index,
                work,
                scope: None,
                outcome: None,
            });
        }
        let scripts: Vec<_> = members.iter().map(|m| m.system.script).collect();
        host.begin_turns(&scripts);
        let threads = self.project.manifest.runtime.threads();
        let on_workers = members
            .iter()
            .filter(|m| {
                self.scripts[m.index]
                    .backend()
                    .is_some_and(|b| b.runs_on_workers())
            })
            .count();
        // The debugger's hooks follow one script thread, so a group runs
        // on the workers only while no breakpoint, step or watch is set
        // (break on errors alone does not hold it back: an error there is
        // reported rather than stopped at). The sampler follows one
        // thread too: a group on the workers runs with no sampled root, so
        // its time is measured per system but not sampled.
        let quiet = !self.debugger.is_active();
        let pool = (threads > 1 && quiet && on_workers > 0)
            .then(|| self.take_workers(threads))
            .flatten();
        match pool {
            Some(pool) => {
                for member in &mut members {
                    let slot = &self.scripts[member.index];
                    let (path, name) = (slot.entry.path.clone(), member.system.name.clone());
                    let key = (
                        slot.id.0,
                        CallKind::System,
                        u64::from(member.system.handle.0),
                    );
                    member.scope = self.profiler.worker_scope(key, || (path, name));
                }
                self.run_on_workers(&pool, &host, &mut members, dt);
                self.workers = Some((threads, pool));
                self.groups_on_workers += 1;
            }
            None => {
                for member in &mut members {
                    let (index, name) = (member.index, member.system.name.clone());
                    let key = u64::from(member.system.handle.0);
                    let measure = self.measure_start(index, CallKind::System, key, || name.clone());
                    self.debugger
                        .begin_call(None, || format!("system '{name}'"));
                    let backend = self.backend_mut(index);
                    let mut outcome = run_member(&host, backend, member, dt);
                    self.debugger.end_call();
                    self.measure_end(measure);
                    outcome.measured = true;
                    member.outcome = Some(outcome);
                }
            }
        }
        host.end_turns();
        for member in members {
            self.finish_member(member);
        }
        host.borrow_mut().reset_defer(0);
    }

    /// Gathers what a system of a group is handed, before any runs.
    fn prepare_work(&mut self, index: usize, system: &SystemEntry) -> Work {
        let (Some(layout), Some(query)) = (&system.batch, &system.query) else {
            let mut host = self.host.borrow_mut();
            return Work::Plain {
                ids: system.query.as_ref().map(|q| host.query_ids(q)),
                comps: system
                    .query
                    .as_ref()
                    .map(|q| q.with.clone())
                    .unwrap_or_default(),
            };
        };
        let data = self.batch_arrays(index, system, layout, query);
        Work::Batch {
            data,
            query: query.clone(),
        }
    }

    /// Runs the group's Lua systems on the workers and the others (Python's)
    /// here meanwhile.
    fn run_on_workers(
        &mut self,
        pool: &rayon::ThreadPool,
        host: &HostCell,
        members: &mut [Member],
        dt: f64,
    ) {
        let mut backends: std::collections::HashMap<usize, &mut Box<dyn ScriptBackend>> =
            self.backends_mut().collect();
        let mut here = Vec::new();
        pool.in_place_scope(|scope| {
            for member in members.iter_mut() {
                match backends.remove(&member.index) {
                    Some(backend) if backend.runs_on_workers() => {
                        let job = Job {
                            host,
                            backend,
                            member,
                            dt,
                        };
                        scope.spawn(move |_| job.run());
                    }
                    backend => here.push((member, backend)),
                }
            }
            for (member, backend) in here {
                let outcome =
                    crate::scripting::debugger::in_group(|| run_member(host, backend, member, dt));
                member.outcome = Some(outcome);
            }
        });
    }

    /// After the group: one system's queued changes, events and log lines,
    /// its measures, and its failure, in registration order.
    fn finish_member(&mut self, member: Member) {
        let Member {
            system,
            index,
            work,
            outcome,
            ..
        } = member;
        let Some(outcome) = outcome else {
            return;
        };
        let query = outcome
            .sink
            .as_ref()
            .map(|s| s.query_use)
            .unwrap_or_default();
        if let Some(sink) = outcome.sink {
            self.host.borrow_mut().apply_sink(sink);
        }
        if !outcome.measured {
            let path = self.scripts[index].entry.path.clone();
            let (id, name) = (self.scripts[index].id.0, system.name.clone());
            self.profiler.record_call(
                (id, CallKind::System, u64::from(system.handle.0)),
                || (path, name),
                outcome.ns,
            );
        }
        match work {
            Work::Batch { data, .. } => {
                self.batches
                    .insert((system.script.0, system.handle.0), data);
            }
            Work::Plain { ids, .. } => {
                self.record_use(super::suggest::SystemRun {
                    index,
                    handle: system.handle.0,
                    name: &system.name,
                    per_entity: ids.is_some(),
                    entities: ids.as_ref().map_or(0, Vec::len),
                    query,
                    allocations: outcome.allocations,
                    gc_ns: outcome.gc_ns,
                });
            }
        }
        if let Err(failure) = outcome.result {
            self.fail_registration(
                index,
                system.handle,
                failure,
                &format!("system '{}'", system.name),
                true,
            );
        }
    }
}
