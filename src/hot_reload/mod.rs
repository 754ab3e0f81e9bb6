//! Hot reload: the watcher, the version history and text diffs. The swap
//! itself is [`crate::runtime::Runtime::reload_script`].

pub mod diff;
pub mod history;
pub mod watcher;
