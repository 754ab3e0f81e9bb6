//! The frame loop (SCRIPT_API §3 "Order within a frame"): events queued
//! since the previous frame are delivered, systems run in registration order
//! (scripts in manifest order), then due coroutines resume.

use super::Runtime;
use super::coroutines::{Ending, Wait};
use super::instrument::name_key;
use crate::profiling::CallKind;
use std::sync::Arc;

use crate::scripting::batch::{BatchData, BatchLayout};
use crate::scripting::host::{QuerySpec, SystemEntry};
use crate::scripting::{FnHandle, Resumed, ScriptFailure, ScriptId, ScriptValue};

impl Runtime {
    pub(crate) fn slot_index(&self, script: ScriptId) -> Option<usize> {
        self.scripts.iter().position(|s| s.id == script)
    }

    /// Runs one fixed-step frame.
    pub fn step(&mut self) {
        self.sync_sampling();
        self.count_sampled_frame();
        let started = crate::profiling::stopped::Stopwatch::start();
        self.profiler.begin_frame();
        for (_, backend) in self.backends_mut() {
            backend.begin_frame();
        }
        {
            let _phase = self.profiler.scope(|| "events".to_string());
            self.deliver_events();
        }
        {
            let _phase = self.profiler.scope(|| "systems".to_string());
            self.run_systems();
        }
        {
            let _phase = self.profiler.scope(|| "coroutines".to_string());
            self.run_coroutines();
            self.release_coroutines();
        }
        self.host.borrow_mut().advance_frame();
        self.end_probations();
        self.sample_memory();
        self.last_frame_time = started.elapsed();
        // What the frame reported is marked at its end, as a headless
        // trace places it.
        self.mark_events();
        self.mark_counters();
        self.keep_timed_samples();
        let frame_ns = self.last_frame_time.as_nanos() as u64;
        if let Some(notice) = self.profiler.end_frame(frame_ns) {
            self.notice(notice);
        }
    }

    fn run_coroutines(&mut self) {
        let due = {
            let mut host = self.host.borrow_mut();
            host.set_coroutine_phase(true);
            host.coroutines.due(host.frame(), host.time())
        };
        for id in due {
            self.resume_coroutine(id);
        }
        self.host.borrow_mut().set_coroutine_phase(false);
    }

    /// Runs one step of a coroutine now (the scheduler, or the debugger's
    /// "step"). Returns false when there is no such live coroutine.
    pub(crate) fn resume_coroutine(&mut self, id: u64) -> bool {
        let found = {
            let mut host = self.host.borrow_mut();
            host.coroutines.get_mut(id).map(|c| {
                c.resumes += 1;
                let input = match &c.wait {
                    Wait::Delivered { payload } => payload.clone(),
                    _ => ScriptValue::Nil,
                };
                (c.script, c.handle, c.name.clone(), input)
            })
        };
        let Some((script, handle, name, input)) = found else {
            return false;
        };
        let Some(index) = self.slot_index(script) else {
            return false;
        };
        self.host.borrow_mut().begin_defer();
        let result = {
            let measure =
                self.measure_start(index, CallKind::Coroutine, name_key(&name), || name.clone());
            self.debugger
                .begin_call(Some(id), || format!("coroutine '{name}'"));
            let result = match self.backend_mut(index) {
                Some(backend) => backend.resume(handle, &input),
                None => Ok(Resumed::Returned),
            };
            self.debugger.end_call();
            self.measure_end(measure);
            result
        };
        self.host.borrow_mut().reset_defer(0);
        match result {
            Ok(Resumed::Wait(request)) => {
                let polling = {
                    let mut host = self.host.borrow_mut();
                    let (frame, time) = (host.frame(), host.time());
                    host.coroutines.set_wait(id, request, frame, time);
                    host.coroutines
                        .get(id)
                        .is_some_and(|c| c.frame_waits == super::suggest::POLLING_FROM)
                };
                if polling {
                    self.note_polling(id, index, handle, &name);
                }
            }
            Ok(Resumed::Returned) => {
                self.host.borrow_mut().end_coroutine(id, Ending::Returned);
            }
            Err(failure) => {
                let path = self.scripts[index].entry.path.clone();
                self.report(&path, &format!("coroutine '{name}'"), failure, None);
                self.host.borrow_mut().end_coroutine(id, Ending::Failed);
            }
        }
        true
    }

    /// Drops the language objects of coroutines that ended.
    pub(crate) fn release_coroutines(&mut self) {
        let released = self.host.borrow_mut().coroutines.take_released();
        for (script, handle) in released {
            if let Some(index) = self.slot_index(script)
                && let Some(backend) = self.backend_mut(index)
            {
                backend.release_coroutine(handle);
            }
        }
    }

    fn deliver_events(&mut self) {
        let events = self.host.borrow_mut().take_events();
        for (event, payload) in events {
            self.host.borrow_mut().coroutines.deliver(&event, &payload);
            let handlers = self.host.borrow().handlers_for(&event);
            for (script, handle) in handlers {
                let Some(index) = self.slot_index(script) else {
                    continue;
                };
                let backend = self.scripts[index].backend();
                if backend.is_none() {
                    continue;
                }
                let depth = self.host.borrow().defer_depth();
                let measure =
                    self.measure_start(index, CallKind::Handler, u64::from(handle.0), || {
                        format!("on {event}")
                    });
                self.debugger
                    .begin_call(None, || format!("handler '{event}'"));
                let result = match self.backend_mut(index) {
                    Some(backend) => backend.call_handler(handle, &payload),
                    None => Ok(()),
                };
                self.debugger.end_call();
                self.measure_end(measure);
                self.host.borrow_mut().reset_defer(depth);
                if let Err(failure) = result {
                    self.fail_registration(
                        index,
                        handle,
                        failure,
                        &format!("handler '{event}'"),
                        false,
                    );
                }
            }
        }
    }

    fn run_systems(&mut self) {
        let systems: Vec<_> = self
            .host
            .borrow()
            .systems()
            .iter()
            .filter(|s| s.enabled)
            .cloned()
            .collect();
        let dt = self.host.borrow().dt();
        // Arrays of batch systems that are gone (reloaded, failed) go too.
        self.batches.retain(|&(script, handle), _| {
            systems
                .iter()
                .any(|s| s.script.0 == script && s.handle.0 == handle)
        });
        let mut at = 0;
        while at < systems.len() {
            let together = super::parallel::group_len(&systems, at);
            if together > 1 {
                self.run_group(&systems[at..at + together], dt);
                at += together;
                continue;
            }
            let system = &systems[at];
            at += 1;
            let Some(index) = self.slot_index(system.script) else {
                continue;
            };
            // The system's time includes gathering and writing back a batch
            // view's arrays.
            let measure =
                self.measure_start(index, CallKind::System, u64::from(system.handle.0), || {
                    system.name.clone()
                });
            let result = match (&system.batch, &system.query) {
                (Some(layout), Some(query)) => {
                    self.host.borrow_mut().enter_system(system, false);
                    self.run_batch_system(index, system, layout, query, dt)
                }
                _ => {
                    // One borrow before and one after: each takes the
                    // host's lock, and this runs for every system.
                    let ids = {
                        let mut host = self.host.borrow_mut();
                        host.enter_system(system, false);
                        host.begin_defer();
                        host.take_query_use();
                        system.query.as_ref().map(|q| host.query_ids(q))
                    };
                    let comps = system
                        .query
                        .as_ref()
                        .map(|q| q.with.as_slice())
                        .unwrap_or(&[]);
                    self.debugger
                        .begin_call(None, || format!("system '{}'", system.name));
                    let (allocations, gc) = (
                        crate::profiling::alloc::allocations(),
                        crate::profiling::gc::total(),
                    );
                    let result = match self.backend_mut(index) {
                        Some(backend) => {
                            backend.run_system(system.handle, ids.as_deref(), comps, dt)
                        }
                        None => Ok(()),
                    };
                    let allocations = crate::profiling::alloc::allocations() - allocations;
                    let gc_ns = crate::profiling::gc::total() - gc;
                    self.debugger.end_call();
                    let query = self.host.borrow_mut().take_query_use();
                    self.record_use(super::suggest::SystemRun {
                        index,
                        handle: system.handle.0,
                        name: &system.name,
                        per_entity: ids.is_some(),
                        entities: ids.as_ref().map_or(0, Vec::len),
                        query,
                        allocations,
                        gc_ns,
                    });
                    result
                }
            };
            self.measure_end(measure);
            {
                let mut host = self.host.borrow_mut();
                host.leave_system();
                host.reset_defer(0);
            }
            if let Err(failure) = result {
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

    /// One run of a batch system: gather its arrays, call it, write back
    /// the arrays it changed, all before the structural changes it queued
    /// are applied.
    fn run_batch_system(
        &mut self,
        index: usize,
        system: &SystemEntry,
        layout: &Arc<BatchLayout>,
        query: &QuerySpec,
        dt: f64,
    ) -> Result<(), ScriptFailure> {
        let key = (system.script.0, system.handle.0);
        self.host.borrow_mut().begin_defer();
        let mut data = self.batch_arrays(index, system, layout, query);
        data.written.iter_mut().for_each(|w| *w = false);
        self.debugger
            .begin_call(None, || format!("system '{}'", system.name));
        let result = match self.backend_mut(index) {
            Some(backend) => backend.run_batch(system.handle, &mut data, dt),
            None => Ok(()),
        };
        // In place, the writes are already in the world. Copies go back
        // even when the script failed part-way, so both ways keep the
        // writes made before the error, as a per-entity system does.
        if data.direct.take().is_none() {
            self.host.borrow_mut().world.scatter(
                &query.with,
                &query.without,
                &layout.fields,
                &data.columns,
                &data.written,
            );
        }
        // After the copies went back: a data breakpoint sees their writes
        // as the call's.
        self.debugger.end_call();
        self.batches.insert(key, data);
        result
    }

    /// A batch system's arrays for this run: the columns in place when
    /// its language works on them there, else gathered copies (reusing the
    /// last run's arrays).
    pub(super) fn batch_arrays(
        &mut self,
        index: usize,
        system: &SystemEntry,
        layout: &Arc<BatchLayout>,
        query: &QuerySpec,
    ) -> BatchData {
        let key = (system.script.0, system.handle.0);
        let mut data = match self.batches.remove(&key) {
            Some(data) if Arc::ptr_eq(&data.layout, layout) => data,
            _ => BatchData::new(Arc::clone(layout)),
        };
        let in_place = self.scripts[index]
            .backend()
            .is_some_and(|b| b.batch_in_place());
        let mut host = self.host.borrow_mut();
        data.direct = if in_place {
            host.world
                .direct_columns(&query.with, &query.without, &layout.fields)
        } else {
            None
        };
        if data.direct.is_none() {
            let BatchData { ids, columns, .. } = &mut data;
            host.world
                .gather(&query.with, &query.without, &layout.fields, ids, columns);
        }
        data
    }

    /// Reports a failed system or handler and disables it.
    pub(super) fn fail_registration(
        &mut self,
        index: usize,
        handle: FnHandle,
        failure: crate::scripting::ScriptFailure,
        context: &str,
        is_system: bool,
    ) {
        let slot = &self.scripts[index];
        let script = slot.id;
        let path = slot.entry.path.clone();
        let fallback = slot.backend().and_then(|b| b.defined_line(handle));
        {
            let mut host = self.host.borrow_mut();
            if is_system {
                host.disable_system(script, handle);
            } else {
                host.disable_handler(script, handle);
            }
        }
        self.report(&path, context, failure, fallback);
    }
}
