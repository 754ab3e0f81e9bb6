//! Profiling: puffin scopes and per-script statistics for each runtime
//! ([`Profiler`]), the counting allocator, and memory series with leak
//! detection.

pub mod alloc;
pub mod compare;
pub mod gc;
pub mod markers;
pub mod memory;
pub mod profiler;
pub mod samples;
pub mod serve;
pub mod stats;
pub mod stopped;
pub mod trace;

pub use profiler::Profiler;
pub use stats::{CallKind, StatRow, StatsTable};
