//! ECScope: a visual debugger and profiler for ECS game logic scripted in Lua
//! and Python.
//!
//! The library is the headless core ([`project`], [`runtime`], [`scripting`])
//! plus, behind the `gui` feature, the desktop app ([`gui`]). The headless
//! core never depends on the GUI.

/// Declares an error that is a message for the user (raised in a script at
/// its line, or shown), made from a `String` or a `&str`.
#[macro_export]
macro_rules! message_error {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
        #[error("{0}")]
        pub struct $name(pub String);

        impl From<String> for $name {
            fn from(message: String) -> Self {
                $name(message)
            }
        }

        impl From<&str> for $name {
            fn from(message: &str) -> Self {
                $name(message.to_string())
            }
        }
    };
}

pub mod bench;
pub mod check;
pub mod crash;
pub mod dap;
pub mod ecs;
#[cfg(feature = "gui")]
pub mod gui;
pub mod headless;
pub mod hot_reload;
pub mod new_project;
pub mod profiling;
pub mod project;
pub mod report;
pub mod runtime;
pub mod scripting;
pub mod types;
