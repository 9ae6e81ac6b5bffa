//! The trace as lanes: per-goroutine state spans, per-P and per-thread activity, counters,
//! stimuli, GC/STW ranges, user annotations and CPU samples. Time-sorted arrays with u32/i64
//! ids (the big ones, lane spans and counter points, packed: `Spans`); built once from the
//! ordered events, read by analyses and the UI.

mod allocator;
mod build;
mod data;
pub mod intern;
pub mod lod;
pub mod overview;
mod series;
pub mod spans;
pub mod tags;
mod window;

pub use allocator::{give_back_freed_memory, tune_allocator};
pub use build::{BuildStage, OVERVIEW_BUCKETS, OnPreview, PREVIEW_EVENTS, build, build_previewing};
pub use data::*;
pub use intern::{Frame, Interner, StackId, StrId};
pub use series::Series;
pub use spans::Spans;
pub use tags::Tag;
pub use window::{
    MIN_PIECE_FILE_BYTES, Piece, Resumes, build_keeping_resumes, build_keeping_resumes_every,
    build_overview, build_overview_only, build_window, build_window_between,
    build_window_in_pieces, build_window_thinned, for_each_window_piece, window_pieces,
};
