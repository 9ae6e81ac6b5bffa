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
use std::sync::{Arc, mpsc};

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
/// (the result then has a warning saying so). The sink runs on the ordering thread.
pub fn read_with_progress(
    data: &[u8],
    opts: ReadOptions,
    cancel: &AtomicBool,
    sink: &mut (impl FnMut(&Event, &Tables) + Send),
    progress: &mut (impl FnMut(Progress) + Send),
) -> Result<Outcome> {
    let mut out = Direct { sink, progress };
    order_all(data, opts, cancel, &mut out)
}

/// `read_with_progress` for a sink that costs about as much as the ordering (the model
/// builder): with `opts.parallel` the ordering runs on a thread of its own and hands the
/// events over in chunks, so `sink` (called on the calling thread) works while the next
/// events are ordered. Progress is reported on the calling thread, in step with the
/// events. Same events, order, outcome and errors as `read_with_progress`; for a cheap
/// sink the hand-over costs more than it saves.
pub fn read_pipelined(
    data: &[u8],
    opts: ReadOptions,
    cancel: &AtomicBool,
    sink: &mut (impl FnMut(&Event, &Tables) + Send),
    progress: &mut (impl FnMut(Progress) + Send),
) -> Result<Outcome> {
    if !opts.parallel {
        let mut out = Direct { sink, progress };
        return order_all(data, opts, cancel, &mut out);
    }
    let (full_tx, full_rx) = mpsc::sync_channel::<Chunk>(CHUNKS_IN_FLIGHT);
    let (free_tx, free_rx) = mpsc::channel::<Vec<Event>>();
    std::thread::scope(|scope| {
        let orderer = std::thread::Builder::new()
            .name("goscope-order".into())
            .spawn_scoped(scope, move || {
                let mut out = Chunker {
                    events: Vec::with_capacity(CHUNK_EVENTS),
                    full: full_tx,
                    free: free_rx,
                    consumer_gone: false,
                };
                order_all(data, opts, cancel, &mut out)
            });
        let orderer = match orderer {
            Ok(h) => h,
            // No thread to be had: order on this one.
            Err(_) => {
                let mut out = Direct { sink, progress };
                return order_all(data, opts, cancel, &mut out);
            }
        };
        for chunk in full_rx {
            match chunk {
                Chunk::Events(tables, mut events) => {
                    for ev in &events {
                        sink(ev, &tables);
                    }
                    drop(tables);
                    events.clear();
                    let _ = free_tx.send(events);
                }
                Chunk::Progress(p) => progress(p),
            }
        }
        match orderer.join() {
            Ok(r) => r,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

/// Events per chunk handed from the ordering thread to the consumer (64 bytes each).
const CHUNK_EVENTS: usize = 16 * 1024;
/// Chunks ordered ahead of the consumer at most.
const CHUNKS_IN_FLIGHT: usize = 4;

/// What the ordering thread hands over: events with the tables they refer to, or progress.
enum Chunk {
    Events(Arc<Tables>, Vec<Event>),
    Progress(Progress),
}

/// Where the ordering pass puts its events.
trait Out {
    fn event(&mut self, ev: &Event, tables: &Arc<Tables>);
    /// No more events refer to `tables` (the end of a generation, whether it was ordered
    /// completely or not).
    fn end_tables(&mut self, tables: &Arc<Tables>);
    fn progress(&mut self, p: Progress);
    /// The consumer stopped listening; ordering may stop.
    fn gone(&self) -> bool;
}

/// Calls the sink right away, on the ordering thread.
struct Direct<'s, S, P> {
    sink: &'s mut S,
    progress: &'s mut P,
}

impl<S: FnMut(&Event, &Tables), P: FnMut(Progress)> Out for Direct<'_, S, P> {
    #[inline]
    fn event(&mut self, ev: &Event, tables: &Arc<Tables>) {
        (self.sink)(ev, tables);
    }
    fn end_tables(&mut self, _: &Arc<Tables>) {}
    fn progress(&mut self, p: Progress) {
        (self.progress)(p);
    }
    fn gone(&self) -> bool {
        false
    }
}

/// Collects events into chunks for the consumer thread. Buffers come back from the
/// consumer to be reused, so the chunks cost no page faults after the first few.
struct Chunker {
    events: Vec<Event>,
    full: mpsc::SyncSender<Chunk>,
    free: mpsc::Receiver<Vec<Event>>,
    consumer_gone: bool,
}

impl Chunker {
    fn send(&mut self, chunk: Chunk) {
        if self.full.send(chunk).is_err() {
            self.consumer_gone = true;
        }
    }
}

impl Out for Chunker {
    #[inline]
    fn event(&mut self, ev: &Event, tables: &Arc<Tables>) {
        self.events.push(*ev);
        if self.events.len() == CHUNK_EVENTS {
            self.end_tables(tables);
        }
    }

    fn end_tables(&mut self, tables: &Arc<Tables>) {
        if self.events.is_empty() || self.consumer_gone {
            self.events.clear();
            return;
        }
        let next = self
            .free
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(CHUNK_EVENTS));
        let events = std::mem::replace(&mut self.events, next);
        self.send(Chunk::Events(Arc::clone(tables), events));
    }

    fn progress(&mut self, p: Progress) {
        if !self.consumer_gone {
            self.send(Chunk::Progress(p));
        }
    }

    fn gone(&self) -> bool {
        self.consumer_gone
    }
}

/// Scans, decodes and orders the whole trace into `out`.
fn order_all(
    data: &[u8],
    opts: ReadOptions,
    cancel: &AtomicBool,
    out: &mut (impl Out + Send),
) -> Result<Outcome> {
    let scan = batch::scan(data)?;
    let version = scan.version;
    let spans = &scan.generations;
    out.progress(Progress::Scanned {
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
                if cancel.load(Ordering::Relaxed) || out.gone() {
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
                let ordered = orderer.generation(&mut g, &mut |ev, t| out.event(ev, t));
                out.end_tables(&g.tables);
                if let Err(e) = ordered {
                    return Some(e);
                }
                outcome.generations += 1;
                outcome.complete_bytes = g.end_offset;
                out.progress(Progress::Ordered {
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
    let empty = Arc::new(Tables::default());
    let finished = orderer.finish(&empty, &mut |ev, t| out.event(ev, t));
    out.end_tables(&empty);
    finished?;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(data: &[u8], pipelined: bool) -> (Vec<(Event, u64)>, Vec<String>, String) {
        let mut v = Vec::new();
        let mut p = Vec::new();
        let mut sink = |ev: &Event, t: &Tables| v.push((*ev, t.generation));
        let mut progress = |x: Progress| p.push(format!("{x:?}"));
        let cancel = AtomicBool::new(false);
        let r = if pipelined {
            read_pipelined(
                data,
                ReadOptions::default(),
                &cancel,
                &mut sink,
                &mut progress,
            )
        } else {
            read_with_progress(
                data,
                ReadOptions::default(),
                &cancel,
                &mut sink,
                &mut progress,
            )
        };
        let r = match r {
            Ok(o) => format!("{} {} {:?}", o.generations, o.complete_bytes, o.warning),
            Err(e) => format!("error {e}"),
        };
        (v, p, r)
    }

    #[test]
    fn pipelined_read_equals_direct_read() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/traces");
        let mut n = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|x| x != "trace") {
                continue;
            }
            let data = std::fs::read(&path).unwrap();
            // Whole, and cut inside the last part (a warning, or an error for v1 traces).
            for cut in [data.len(), data.len() * 7 / 8] {
                let d = &data[..cut];
                assert!(events(d, false) == events(d, true), "{}", path.display());
            }
            n += 1;
        }
        assert!(n > 0);
    }
}
