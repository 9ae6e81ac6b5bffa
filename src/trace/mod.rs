//! Go execution trace decoding (formats 22–26, Go 1.22+): bytes in, events out in Go's order.
//!
//! Layers, each in its own file:
//! - `batch`: header and batch headers; splits the file into generations (no bodies read).
//! - `generation`: decodes one generation's bodies (tables, samples, per-M events).
//!   Generations are independent here, so they are decoded in parallel.
//! - `order`: the scheduler state machine that merges per-M streams the way Go's reader
//!   does. Its state carries from one generation to the next, so this pass is sequential;
//!   it runs while the next generations decode.
//! - `event`: kinds, transitions and the text form of ordered events.
//!
//! This module takes `&[u8]`; mapping files is the caller's business. It knows nothing of
//! the model or the UI.

pub mod batch;
pub mod bytes;
pub mod error;
pub mod event;
pub mod generation;
pub mod order;
pub mod spec;

pub use batch::Version;
pub use error::{Error, ErrorKind, Result};
pub use event::{Kind, Resource, Transition, kind_of, write_go_text};
pub use generation::Tables;
pub use order::{Event, NO_TASK, NONE};

use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

/// How to read.
#[derive(Clone, Copy, Debug)]
pub struct ReadOptions {
    /// Decode generations on the rayon pool while ordering runs.
    pub parallel: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions { parallel: true }
    }
}

/// What a read produced besides its events.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub version: Version,
    /// Generations ordered completely.
    pub generations: usize,
    /// Bytes of the file covered by those generations (header included).
    pub complete_bytes: u64,
    /// Set when only part of the file could be read: a cut or corrupt tail, or a
    /// generation that could not be decoded or ordered. Everything before it was delivered.
    pub warning: Option<Error>,
}

/// Progress of a read, for progress bars.
#[derive(Clone, Copy, Debug)]
pub enum Progress {
    Scanned { generations: usize },
    Ordered { generation: usize, of: usize },
}

/// Reads every event of the trace into `sink`, in Go's order, generation by generation.
///
/// Fails only when nothing can be read (bad header, or the first generation is broken).
/// Later problems stop the read and come back as `Outcome::warning`; the events of the
/// generation they hit may have been partly delivered, as Go's reader does.
pub fn read(
    data: &[u8],
    opts: ReadOptions,
    mut sink: impl FnMut(&Event, &Tables) + Send,
) -> Result<Outcome> {
    read_with_progress(data, opts, &AtomicBool::new(false), &mut sink, &mut |_| {})
}

/// `read`, reporting progress, and stopping between generations once `cancel` is set
/// (the result then has a warning saying so).
pub fn read_with_progress(
    data: &[u8],
    opts: ReadOptions,
    cancel: &AtomicBool,
    sink: &mut (impl FnMut(&Event, &Tables) + Send),
    progress: &mut (impl FnMut(Progress) + Send),
) -> Result<Outcome> {
    let scan = batch::scan(data)?;
    let version = scan.version;
    let spans = &scan.generations;
    progress(Progress::Scanned {
        generations: spans.len(),
    });
    let mut outcome = Outcome {
        version,
        generations: 0,
        complete_bytes: batch::HEADER_LEN as u64,
        warning: None,
    };
    let mut orderer = order::Orderer::new();
    let window = if opts.parallel {
        rayon::current_num_threads().max(1) * 2
    } else {
        1
    };
    let decode_window = |start: usize| -> Vec<Result<generation::Generation>> {
        let end = (start + window).min(spans.len());
        if opts.parallel {
            spans[start..end]
                .par_iter()
                .map(|s| generation::decode(version, s))
                .collect()
        } else {
            spans[start..end]
                .iter()
                .map(|s| generation::decode(version, s))
                .collect()
        }
    };

    let mut start = 0;
    let mut current = decode_window(0);
    let mut failure: Option<Error> = None;
    while start < spans.len() && failure.is_none() {
        let next_start = start + current.len();
        let mut order_window = |decoded: Vec<Result<generation::Generation>>| -> Option<Error> {
            for g in decoded {
                if cancel.load(Ordering::Relaxed) {
                    return Some(Error::broken(
                        outcome.complete_bytes,
                        None,
                        "reading was cancelled",
                    ));
                }
                let mut g = match g {
                    Ok(g) => g,
                    Err(e) => return Some(e),
                };
                if let Err(e) = orderer.generation(&mut g, sink) {
                    return Some(e);
                }
                outcome.generations += 1;
                outcome.complete_bytes = g.end_offset;
                progress(Progress::Ordered {
                    generation: outcome.generations,
                    of: spans.len(),
                });
            }
            None
        };
        let (err, next) = if opts.parallel && next_start < spans.len() {
            rayon::join(|| order_window(current), || decode_window(next_start))
        } else {
            let err = order_window(current);
            let next = if err.is_none() && next_start < spans.len() {
                decode_window(next_start)
            } else {
                Vec::new()
            };
            (err, next)
        };
        failure = err;
        current = next;
        start = next_start;
    }
    if let Some(e) = failure {
        if outcome.generations == 0 {
            return Err(e);
        }
        outcome.warning = Some(e);
    } else {
        outcome.warning = scan.cut.clone();
    }
    if outcome.generations == 0 {
        if let Some(cut) = scan.cut {
            return Err(cut);
        }
    }
    orderer.finish(sink)?;
    Ok(outcome)
}
