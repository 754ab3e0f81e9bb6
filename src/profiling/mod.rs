//! Profiling: puffin scopes with names known only at run time (a system,
//! a handler, a coroutine), registered once per name and free when puffin's
//! scopes are off.

use std::cell::RefCell;
use std::collections::HashMap;

use puffin::{ProfilerScope, ScopeId, ThreadProfiler};

/// Scope ids by name, for one thread.
#[derive(Debug, Default)]
pub struct Scopes {
    ids: RefCell<HashMap<String, ScopeId>>,
}

impl Scopes {
    /// A scope that ends when dropped; `None` (costing one atomic load,
    /// and `name` is not called) while profiling is off.
    pub fn scope(&self, name: impl FnOnce() -> String, file: &str) -> Option<ProfilerScope> {
        if !puffin::are_scopes_on() {
            return None;
        }
        let name = name();
        let id = *self
            .ids
            .borrow_mut()
            .entry(name.clone())
            .or_insert_with(|| {
                let (name, file) = (name.to_string(), file.to_string());
                ThreadProfiler::call(|tp| {
                    tp.register_named_scope(name.clone(), "script", file.clone(), 0)
                })
            });
        Some(ProfilerScope::new(id, ""))
    }
}
