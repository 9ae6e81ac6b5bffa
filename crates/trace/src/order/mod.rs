//! Go's order: the scheduler state machine that merges the threads' event streams
//! (`machine`, its frontier heap in `frontier`) over the state of each goroutine, processor and thread (`state`); ordering
//! a generation ahead of time from a guessed start state (`speculate`), recorded in a log
//! (`replay`), checked and stitched on (`ahead`).

mod ahead;
pub(crate) mod frontier;
mod machine;
pub(crate) mod replay;
mod speculate;
mod state;

pub(crate) use ahead::Speculation;
#[cfg(test)]
pub(crate) use machine::CANCEL_CHECK_STEPS;
pub(crate) use machine::{Orderer, Ran, Within};
