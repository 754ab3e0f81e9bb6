//! ECScope: a visual debugger and profiler for ECS game logic scripted in Lua
//! and Python.
//!
//! The library is the headless core ([`project`], [`runtime`], [`scripting`])
//! plus, behind the `gui` feature, the desktop app ([`gui`]). The headless
//! core never depends on the GUI.

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
pub mod runtime;
pub mod scripting;
pub mod types;
