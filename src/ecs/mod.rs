//! The data model and the `ecs` semantics, once for every language:
//! values, ids, components, the world, events, random numbers, the
//! coroutine table, the host API and batch layouts.
//!
//! This layer names neither `scripting` (the languages) nor `runtime` (the
//! frame loop); `scripts/layers.sh` checks it.

pub mod api;
pub mod batch;
pub mod components;
pub mod coroutines;
pub mod events;
pub mod host;
pub mod random;
pub mod shared;
pub mod value;
pub mod world;

pub use host::{FnHandle, ScriptId, SharedHost};
pub use value::ScriptValue;
