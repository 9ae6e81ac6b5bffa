//! Go's order: the scheduler state machine that merges the threads' event streams
//! (`machine`), its ordering of a generation ahead of time from a guessed start state
//! (`machine::speculate`), and the log from which a checked speculative run is replayed
//! (`replay`).

mod machine;
pub(crate) mod replay;

pub(crate) use machine::{Orderer, Speculation};
