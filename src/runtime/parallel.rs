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
    let Some(access) = &next.access else {
        return Err(Alone::DeclaresNothing);
    };
    for member in group {
        let Some(other) = &member.access else {
            return Err(Alone::DeclaresNothing);
        };
        if member.script == next.script {
            return Err(Alone::SameScript);
        }
        if let Some(key) = conflict(other, access) {
            return Err(Alone::Conflict(key));
        }
    }
    Ok(())
}

/// How many systems from `systems[at]` on run together (at least one).
pub fn group_len(systems: &[SystemEntry], at: usize) -> usize {
    let mut end = at + 1;
    while end < systems.len() && joins(&systems[at..end], &systems[end]).is_ok() {
        end += 1;
    }
    end - at
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
// watchdog's slots and budgets in atomics) apart from the debugger, which
// its hooks only read while debugging, and groups run on workers only
// while nothing is being debugged (see `Runtime::run_group`).
unsafe impl Send for Job<'_> {}

impl Job<'_> {
    fn run(self) {
        let outcome = run_member(self.host, Some(&mut *self.backend), self.member, self.dt);
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
                    .backend
                    .as_ref()
                    .is_some_and(|b| b.runs_on_workers())
            })
            .count();
        // The debugger's hooks follow one script thread. The sampler
        // follows one too: a group on the workers runs with no sampled
        // root, so its time is measured per system but not sampled.
        let quiet = !self.debugger.is_active() && !self.debugger.break_on_error_setting();
        let pool = (threads > 1 && quiet && on_workers > 0)
            .then(|| self.take_workers(threads))
            .flatten();
        match pool {
            Some(pool) => {
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
                    let backend = self.scripts[index].backend.as_mut();
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
        let mut backends: std::collections::HashMap<usize, &mut Box<dyn ScriptBackend>> = self
            .scripts
            .iter_mut()
            .enumerate()
            .filter_map(|(i, slot)| slot.backend.as_mut().map(|b| (i, b)))
            .collect();
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
                let outcome = run_member(host, backend, member, dt);
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
