//! Widgets shared by panels.

pub mod code_view;
pub mod stats_table;
