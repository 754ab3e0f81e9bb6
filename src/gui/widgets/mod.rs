//! Widgets shared by panels.

pub mod code_view;
pub mod sample_graph;
pub mod stats_table;
