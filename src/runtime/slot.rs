//! One script of the project and its backend.
//!
//! The backend is private to this module. Elsewhere in the runtime it is
//! reached through [`Runtime::backend_mut`] (or [`Runtime::backends_mut`]),
//! which take the whole runtime mutably. A borrow of the host is a borrow
//! of one of the runtime's fields, so holding one across a call into a
//! script does not compile. [`ScriptSlot::backend`] gives only the shared
//! methods, which run no script code.

use crate::project::ScriptEntry;
use crate::scripting::{ScriptBackend, ScriptId};

use super::{Runtime, ScriptStatus, reload};

/// One script of the project and its backend.
pub(crate) struct ScriptSlot {
    pub(crate) entry: ScriptEntry,
    pub(crate) id: ScriptId,
    backend: Option<Box<dyn ScriptBackend>>,
    pub(crate) status: ScriptStatus,
    /// The running version's number in the history.
    pub(crate) version: u32,
    /// Hash of the running version's text.
    pub(crate) hash: String,
    /// Errors reported for this script so far.
    pub(crate) errors: usize,
    /// The previous version, kept until a freshly reloaded one has run a
    /// frame.
    pub(crate) probation: Option<reload::Probation>,
}

impl ScriptSlot {
    /// A script about to load: running, with no backend yet.
    pub(crate) fn new(entry: ScriptEntry, id: ScriptId) -> ScriptSlot {
        ScriptSlot {
            entry,
            id,
            backend: None,
            status: ScriptStatus::Running,
            version: 0,
            hash: String::new(),
            errors: 0,
            probation: None,
        }
    }

    /// The backend, for what it says without running script code.
    pub(crate) fn backend(&self) -> Option<&dyn ScriptBackend> {
        self.backend.as_deref()
    }

    /// Puts a backend in (a fresh load, or a version back from a failed
    /// reload), returning the one it replaces.
    pub(crate) fn set_backend(
        &mut self,
        backend: Option<Box<dyn ScriptBackend>>,
    ) -> Option<Box<dyn ScriptBackend>> {
        std::mem::replace(&mut self.backend, backend)
    }
}

impl Runtime {
    /// Script `index`'s backend, to call into it (see the module's note).
    pub(crate) fn backend_mut(&mut self, index: usize) -> Option<&mut Box<dyn ScriptBackend>> {
        self.scripts.get_mut(index)?.backend.as_mut()
    }

    /// Every script's backend by index, for a group of systems.
    pub(crate) fn backends_mut(
        &mut self,
    ) -> impl Iterator<Item = (usize, &mut Box<dyn ScriptBackend>)> {
        self.scripts
            .iter_mut()
            .enumerate()
            .filter_map(|(i, slot)| slot.backend.as_mut().map(|b| (i, b)))
    }
}
