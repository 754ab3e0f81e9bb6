//! Widgets shared by panels.

pub mod code_view;
