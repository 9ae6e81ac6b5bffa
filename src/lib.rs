//! goscope: a fast viewer and analyzer for Go execution traces: the decoder (`trace`), the
//! lanes model (`model`), analyses (`analysis`), the viewer (`ui`) and the command line (`cli`).
pub mod analysis;
pub mod cli;
pub mod model;
#[cfg(test)]
mod testdata;
pub mod trace;
#[cfg(feature = "gui")]
pub mod ui;
