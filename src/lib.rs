//! goscope: a fast viewer and analyzer for Go execution traces. This crate holds the
//! decoder (`trace`), and the command-line front end (`cli`).
pub mod cli;
pub mod model;
pub mod trace;
