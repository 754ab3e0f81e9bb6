//! Hot reload: the watcher, the version history and text diffs. The swap
//! itself is `Runtime::reload_script`, in the runtime layer above.

pub mod diff;
pub mod history;
pub mod watcher;
