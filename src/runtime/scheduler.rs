//! The frame loop (SCRIPT_API §3 "Order within a frame"): events queued
//! since the previous frame are delivered, systems run in registration order
//! (scripts in manifest order), then due coroutines resume.

use std::time::Instant;

use super::Runtime;
use crate::scripting::{FnHandle, ScriptId};

impl Runtime {
    fn slot_index(&self, script: ScriptId) -> Option<usize> {
        self.scripts.iter().position(|s| s.id == script)
    }

    /// Runs one fixed-step frame.
    pub fn step(&mut self) {
        let started = Instant::now();
        for slot in &mut self.scripts {
            if let Some(backend) = slot.backend.as_mut() {
                backend.begin_frame();
            }
        }
        self.deliver_events();
        self.run_systems();
        self.host.borrow_mut().advance_frame();
        self.last_frame_time = started.elapsed();
    }

    fn deliver_events(&mut self) {
        let events = self.host.borrow_mut().take_events();
        for (event, payload) in events {
            let handlers = self.host.borrow().handlers_for(&event);
            for (script, handle) in handlers {
                let Some(index) = self.slot_index(script) else {
                    continue;
                };
                let Some(backend) = self.scripts[index].backend.as_mut() else {
                    continue;
                };
                let depth = self.host.borrow().defer_depth();
                let result = backend.call_handler(handle, &payload);
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
        for system in systems {
            let Some(index) = self.slot_index(system.script) else {
                continue;
            };
            let ids = {
                let mut host = self.host.borrow_mut();
                host.begin_defer();
                system.query.as_ref().map(|q| host.query_ids(q))
            };
            let comps = system
                .query
                .as_ref()
                .map(|q| q.with.as_slice())
                .unwrap_or(&[]);
            let result = match self.scripts[index].backend.as_mut() {
                Some(backend) => backend.run_system(system.handle, ids.as_deref(), comps, dt),
                None => Ok(()),
            };
            self.host.borrow_mut().reset_defer(0);
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

    /// Reports a failed system or handler and disables it.
    fn fail_registration(
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
        let fallback = slot.backend.as_ref().and_then(|b| b.defined_line(handle));
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
