//! Reads Go execution traces (those of `runtime/trace`, `go test -trace` and
//! `/debug/pprof/trace`): bytes in, events out in exactly the order, with exactly the
//! timestamps, of Go's own parser. It reads trace formats 22, 23, 25 and 26 (Go 1.22 and
//! later), and the v1 formats 11, 19 and 21 (Go 1.11–1.21) converted to the same events
//! as Go's reader converts them (`v1`); the formats of Go 1.5–1.10 are rejected with an
//! error naming the Go release that wrote them. Bad input never panics: errors carry the file offset, and a cut trace yields its
//! complete generations plus a warning in [`Outcome::warning`].
//!
//! Counting the events of each [`Kind`]:
//!
//! ```
//! use goscope_trace::{Kind, ReadOptions};
//!
//! let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/traces/stall-go127.trace");
//! let bytes = std::fs::read(path)?;
//! let mut counts = [0u64; Kind::ALL.len()];
//! let outcome = goscope_trace::read(&bytes, ReadOptions::default(), |ev, _tables| {
//!     counts[ev.kind().index()] += 1;
//! })?;
//! for kind in Kind::ALL {
//!     println!("{:<16} {}", kind.name(), counts[kind.index()]);
//! }
//! assert!(counts[Kind::StateTransition.index()] > 0);
//! if let Some(warning) = &outcome.warning {
//!     eprintln!("trace cut: {warning}");
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`Event::transition`] gives a state transition's goroutine or P and its old and new
//! state; [`write_go_text`] prints an event the way `go tool trace -d=parsed` does.
//!
//! Layers, each in its own file:
//! - `batch`: header and batch headers; splits the file into generations (no bodies read).
//! - `generation`: decodes one generation's bodies (tables, samples, per-M events).
//!   Generations are independent here, so they are decoded in parallel.
//! - `order`: the scheduler state machine that merges per-M streams the way Go's reader
//!   does. Its state carries from one generation to the next; with `order_ahead` every
//!   generation is ordered ahead on a worker from a guessed start state and stitched on
//!   only when the guess is checked to be exact (`order/ahead.rs`, `order/speculate.rs`,
//!   `order/replay.rs`), else
//!   ordered again.
//! - `event`: `Event`, kinds, transitions and the text form of ordered events.
//! - `ids`: the map from goroutine, P and thread ids used per event here and by the model.
//! - `v1`: Go 1.11–1.21 traces: decoded, merged by Go's v1 rules and converted to the
//!   events above, as one generation.
//!
//! This crate takes `&[u8]`; mapping files is the caller's business (a `Source` is told
//! which bytes a read does not need for now, so a mapping can give their pages back). It
//! knows nothing of the model or the UI.

#![warn(missing_docs)]

pub mod batch;
pub mod bytes;
pub mod error;
pub mod event;
pub mod generation;
pub mod ids;
pub(crate) mod order;
pub mod resume;
pub mod spec;
#[cfg(test)]
mod testing;
mod v1;

pub use batch::Version;
pub use error::{Error, ErrorKind, Result};
pub use event::{Event, Kind, NO_TASK, NONE, Resource, Transition, kind_of, state, write_go_text};
pub use generation::Tables;
pub use resume::{Resume, reorder};

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, mpsc};

use rayon::prelude::*;

/// How to read.
#[derive(Clone, Copy, Debug)]
pub struct ReadOptions {
    /// Decode generations on the rayon pool while ordering runs.
    pub parallel: bool,
    /// With `parallel`: order every generation ahead of time on worker threads, each from
    /// a start state guessed from its own status events, and stitch them on in turn, each
    /// only when its guess proves exact (else it is ordered again). The output is
    /// identical either way; one replay log (about 3 bytes per event) per worker waits,
    /// and the generations being ordered ahead take together at most `ahead_bytes` of the
    /// file (one larger than that alone is ordered in turn when its time comes).
    /// Off by default: on two cores, ordering in turn on a thread of its own while the sink
    /// runs on another (`read_pipelined`) is as fast and needs no logs. It pays when the
    /// ordering alone is the bottleneck and there are cores to spare.
    pub order_ahead: bool,
    /// Save the ordering state at the start of every generation ordered completely
    /// (`Outcome::resumes`), so that any of them can be ordered again on its own
    /// (`reorder`). Costs a copy of the state (every goroutine's, P's and thread's) per
    /// generation. A v1 trace (Go 1.21 and older) is one generation ordered as a whole
    /// and keeps none.
    pub keep_resumes: bool,
    /// With `keep_resumes`, also save a point inside a generation every this many steps
    /// of its ordering (a step orders one event and the few it may bring), so that it can
    /// be ordered again from there (`Resume::points_ns`) rather than from its start; each
    /// point is announced in band (`Progress::Resumable`). 0: none. Only generations
    /// ordered in turn get them (not those ordered ahead).
    pub resume_every_steps: u64,
    /// Read only the generations that begin before this file offset (the first one
    /// always; `u64::MAX`: every one). The scan stops there, so a read of a long file's
    /// first events need not wait for the whole file to be scanned (or, from a cold disk,
    /// read in). The outcome says nothing of what lies after.
    pub prefix_bytes: u64,
    /// With `order_ahead`: the most bytes of the file that the generations ordered ahead
    /// and not stitched yet may take together, which bounds the replay logs waiting (a few
    /// bytes an event: about 0.6 of the generation's bytes). A generation larger than this
    /// is not ordered ahead. `AHEAD_BYTES` by default.
    pub ahead_bytes: u64,
}

/// `ReadOptions::ahead_bytes` by default: replay logs of at most about 160 MB waiting, where
/// a trace of one 1 GB generation (Go makes one a second, so a busy program's can be that
/// large) held its whole log, 1.5 GB at the peak.
pub const AHEAD_BYTES: u64 = 256 << 20;

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            parallel: true,
            order_ahead: false,
            keep_resumes: false,
            resume_every_steps: 0,
            prefix_bytes: u64::MAX,
            ahead_bytes: AHEAD_BYTES,
        }
    }
}

/// What a read produced besides its events.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Trace format version from the file header.
    pub version: Version,
    /// Generations ordered completely.
    pub generations: usize,
    /// Bytes of the file covered by those generations (header included).
    pub complete_bytes: u64,
    /// Set when only part of the file could be read: a cut or corrupt tail, or a
    /// generation that could not be decoded or ordered. Everything before it was delivered.
    pub warning: Option<Error>,
    /// Generations ordered ahead of time on a worker whose result was used
    /// (`ReadOptions::order_ahead` only).
    pub ordered_ahead: usize,
    /// Generations ordered ahead of time whose run failed or whose guessed start state
    /// turned out wrong (or could not be checked), and which were ordered again in turn.
    pub reordered: usize,
    /// With `order_ahead`: generations larger than `ReadOptions::ahead_bytes`, not ordered
    /// ahead but in turn.
    pub too_large_ahead: usize,
    /// With `ReadOptions::keep_resumes`: the state at the start of each generation ordered
    /// completely, in order.
    pub resumes: Vec<Resume>,
}

/// Progress of a read, for progress bars.
#[derive(Clone, Copy, Debug)]
pub enum Progress {
    /// The batch headers are scanned.
    Scanned {
        /// Generations found.
        generations: usize,
        /// The smallest and largest base time of their batches, in ticks (about the
        /// trace's first and last event; (0, 0) for a v1 trace).
        ticks: (u64, u64),
    },
    /// The events so far end at a point inside generation `generation` that the read
    /// saved (`ReadOptions::resume_every_steps`); it comes after those events and before
    /// the next, which is of the same generation.
    Resumable {
        /// The generation's number in the file.
        generation: u64,
        /// The time of the last event handed out (where the read is in the trace's time).
        time_ns: i64,
    },
    /// A generation is ordered completely.
    Ordered {
        /// Generations ordered so far (1-based count).
        generation: usize,
        /// Generations in the file.
        of: usize,
        /// The time of the last event handed out; `i64::MAX` once a v1 trace (one
        /// generation, whose scan gives no times) is read whole.
        time_ns: i64,
    },
}

/// Where a read's bytes come from. `read_pipelined` tells it which bytes it does not need
/// for now: those scanned so far every few MiB of the scan and all of them after it (the
/// scan reads only batch headers, but the kernel maps the pages around each one), a
/// generation's once it is decoded ahead of its turn, each batch's once the ordering has
/// read past it, and a generation's again once it is ordered (the pages at batch edges). A mapped
/// file gives those pages back (`goscope_file::TraceFile`), so the file does not count whole in the
/// reader's memory.
pub trait Source: Sync {
    /// All the trace's bytes.
    fn bytes(&self) -> &[u8];
    /// The read does not need `range` of the bytes for now (it may read them later).
    fn release(&self, _range: std::ops::Range<usize>) {}
}

impl Source for [u8] {
    fn bytes(&self) -> &[u8] {
        self
    }
}

impl Source for Vec<u8> {
    fn bytes(&self) -> &[u8] {
        self
    }
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
    order_all(data, opts, cancel, &mut out, &|_| {})
}

/// `read_with_progress` with the sink overlapping the ordering: with `opts.parallel` the
/// ordering runs on a thread of its own and hands the events over in chunks, so `sink`
/// (called on the calling thread) works while the next events are ordered. Progress is
/// reported on the calling thread, in step with the events. Same events, order, outcome
/// and errors as `read_with_progress`. Even a sink as light as `goscope stats`'s counting
/// gains on two cores (1.28 → 1.06 s on the benchmark trace).
pub fn read_pipelined<S: Source + ?Sized>(
    source: &S,
    opts: ReadOptions,
    cancel: &AtomicBool,
    sink: &mut (impl FnMut(&Event, &Tables) + Send),
    progress: &mut (impl FnMut(Progress) + Send),
) -> Result<Outcome> {
    let data = source.bytes();
    let release = &|range| source.release(range);
    if !opts.parallel {
        let mut out = Direct { sink, progress };
        return order_all(data, opts, cancel, &mut out, release);
    }
    on_a_thread_of_its_own(
        "goscope-order",
        sink,
        progress,
        |out| order_all(data, opts, cancel, out, release),
        // No thread to be had: order on this one.
        |sink, progress| order_all(data, opts, cancel, &mut Direct { sink, progress }, release),
    )
}

/// Runs `order` on a thread of its own with a `Chunker` as its output, and hands what it
/// sends to `sink` and `progress` on this one, until it is done; its result is the
/// result. Should no thread be had, `direct` does the work on this one instead.
fn on_a_thread_of_its_own<T: Send, S, P>(
    name: &str,
    sink: &mut S,
    progress: &mut P,
    order: impl FnOnce(&mut Chunker) -> Result<T> + Send,
    direct: impl FnOnce(&mut S, &mut P) -> Result<T>,
) -> Result<T>
where
    S: FnMut(&Event, &Tables),
    P: FnMut(Progress),
{
    let (full_tx, full_rx) = mpsc::sync_channel::<Chunk>(CHUNKS_IN_FLIGHT);
    let (free_tx, free_rx) = mpsc::channel::<Vec<Event>>();
    std::thread::scope(|scope| {
        let orderer =
            std::thread::Builder::new()
                .name(name.into())
                .spawn_scoped(scope, move || {
                    let mut out = Chunker {
                        events: Vec::with_capacity(CHUNK_EVENTS),
                        full: full_tx,
                        free: free_rx,
                        consumer_gone: false,
                    };
                    order(&mut out)
                });
        let Ok(orderer) = orderer else {
            return direct(sink, progress);
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

/// `reorder` on a thread of its own, handing the events to `sink` on this one in chunks
/// (as `read_pipelined` does), so that ordering and what the sink does overlap: the same
/// events, in the same order, with the same tables. Orders on this thread if no thread
/// can be made.
pub fn reorder_pipelined<S: Source + ?Sized>(
    source: &S,
    resume: &Resume,
    sink: &mut (impl FnMut(&Event, &Tables) + Send),
) -> Result<()> {
    reorder_pipelined_until(
        source,
        resume,
        None,
        i64::MAX,
        &AtomicBool::new(false),
        sink,
    )
}

/// `reorder_pipelined`, from the start of the generation or from its point `from_point`
/// inside it (an index into `Resume::points_ns`: the events after that point), stopping
/// soon after an event later than `stop_after_ns`: the events up to it are those of the
/// whole generation up to it, and a few of those just after it may follow. Stops with an
/// error soon after `cancel` is set.
pub fn reorder_pipelined_until<S: Source + ?Sized>(
    source: &S,
    resume: &Resume,
    from_point: Option<usize>,
    stop_after_ns: i64,
    cancel: &AtomicBool,
    sink: &mut (impl FnMut(&Event, &Tables) + Send),
) -> Result<()> {
    let data = source.bytes();
    let done_with = |r| source.release(r);
    on_a_thread_of_its_own(
        "goscope-reorder",
        sink,
        &mut |_| {},
        |out| {
            let mut last: Option<Arc<Tables>> = None;
            let done = resume::reorder_into(
                data,
                resume,
                from_point,
                stop_after_ns,
                cancel,
                &done_with,
                &mut |ev, t| {
                    // A chunk holds one generation's events (the last one's final events
                    // come with empty tables); tables that only grew (task names added)
                    // stand for the ones before.
                    if let Some(l) = &last {
                        if !Arc::ptr_eq(l, t) && l.generation != t.generation {
                            out.end_tables(l);
                        }
                    }
                    if last.as_ref().is_none_or(|l| !Arc::ptr_eq(l, t)) {
                        last = Some(Arc::clone(t));
                    }
                    out.event(ev, t);
                },
            );
            if let Some(l) = &last {
                out.end_tables(l);
            }
            done
        },
        |sink, _| {
            resume::reorder_into(
                data,
                resume,
                from_point,
                stop_after_ns,
                cancel,
                &done_with,
                &mut |ev, t| sink(ev, t),
            )
        },
    )
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

fn cancelled(outcome: &Outcome) -> Error {
    Error::cancelled(outcome.complete_bytes)
}

/// Orders one generation into `out` the ordinary way, after the one before it, giving
/// each batch's bytes back to `release` once the ordering has read past them, and
/// pausing every `every_steps` steps (`u64::MAX`: never) to save a point inside it in
/// `points`, which `out` hears of after the events before it. Stops, with the generation
/// half ordered, once `cancel` is set or `out` is gone (looked at every
/// `order::CANCEL_CHECK_STEPS` steps).
fn order_one(
    orderer: &mut order::Orderer,
    g: &mut generation::Generation<'_>,
    out: &mut impl Out,
    release: Release<'_>,
    every_steps: u64,
    points: &mut Vec<order::Within>,
    cancel: &AtomicBool,
) -> Result<()> {
    let ordered = orderer
        .begin(g, &mut |ev, t| out.event(ev, t))
        .and_then(|mut place| {
            loop {
                let ran = orderer.run_stopping(
                    g,
                    &mut place,
                    i64::MAX,
                    every_steps,
                    release,
                    out,
                    |out, ev, t| out.event(ev, t),
                    |out| cancel.load(Ordering::Relaxed) || out.gone(),
                )?;
                if ran != order::Ran::Paused {
                    return Ok(());
                }
                points.push(orderer.point(g, &place));
                out.end_tables(&g.tables);
                out.progress(Progress::Resumable {
                    generation: g.generation,
                    time_ns: orderer.last_ns,
                });
            }
        });
    out.end_tables(&g.tables);
    ordered
}

/// What a read does with the bytes it does not need for now (`Source::release`).
type Release<'r> = &'r (dyn Fn(std::ops::Range<usize>) + Sync);

/// Counts a completely ordered generation and reports it; its bytes are not needed any
/// more. (Only its own: those before it were released when their generations were done,
/// so a long trace's read does not walk the whole released prefix again each time.)
fn finished_one(
    outcome: &mut Outcome,
    g: &generation::Generation<'_>,
    out: &mut impl Out,
    of: usize,
    release: Release<'_>,
    time_ns: i64,
) {
    release(g.offset as usize..g.end_offset as usize);
    outcome.generations += 1;
    outcome.complete_bytes = g.end_offset;
    out.progress(Progress::Ordered {
        generation: outcome.generations,
        of,
        time_ns,
    });
}

/// Scans, decodes and orders the whole trace into `out`.
fn order_all(
    data: &[u8],
    opts: ReadOptions,
    cancel: &AtomicBool,
    out: &mut (impl Out + Send),
    release: Release<'_>,
) -> Result<Outcome> {
    let version = batch::read_header(data)?;
    if version.is_v1() {
        return read_v1(data, version, opts.parallel, cancel, out, release);
    }
    let scan = batch::scan_releasing(data, opts.prefix_bytes, release)?;
    release(0..data.len());
    let spans = &scan.generations;
    let ticks = spans
        .iter()
        .flat_map(|g| g.batches.iter().map(|b| b.time_ticks))
        .fold(None, |acc: Option<(u64, u64)>, t| {
            Some(acc.map_or((t, t), |(lo, hi)| (lo.min(t), hi.max(t))))
        })
        .unwrap_or((0, 0));
    out.progress(Progress::Scanned {
        generations: spans.len(),
        ticks,
    });
    let mut outcome = Outcome {
        version: scan.version,
        generations: 0,
        complete_bytes: batch::HEADER_LEN as u64,
        warning: None,
        ordered_ahead: 0,
        reordered: 0,
        too_large_ahead: 0,
        resumes: Vec::new(),
    };
    let mut orderer = order::Orderer::new();
    let mut run = Run {
        version: scan.version,
        keep_resumes: opts.keep_resumes,
        every_steps: match opts.resume_every_steps {
            n if n > 0 && opts.keep_resumes => n,
            _ => u64::MAX,
        },
        points: Vec::new(),
        spans,
        cancel,
        orderer: &mut orderer,
        outcome: &mut outcome,
        release,
        ahead_bytes: opts.ahead_bytes,
    };
    let failure = if opts.parallel && opts.order_ahead && spans.len() > 1 {
        run.ahead(out)
    } else {
        run.in_turn(opts.parallel, out)
    };
    if let Some(e) = failure {
        if outcome.generations == 0 {
            return Err(e);
        }
        outcome.warning = Some(e);
    } else {
        outcome.warning = scan.cut.clone();
        if let Some(r) = outcome.resumes.last_mut() {
            r.last = true;
        }
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

/// Reads a v1 trace (Go 1.11–1.21) into `out`: one generation, as Go's reader makes it.
/// With `parallel`, its merge runs on a thread of its own.
fn read_v1(
    data: &[u8],
    version: Version,
    parallel: bool,
    cancel: &AtomicBool,
    out: &mut impl Out,
    release: Release<'_>,
) -> Result<Outcome> {
    out.progress(Progress::Scanned {
        generations: 1,
        ticks: (0, 0),
    });
    let mut tables: Option<Arc<Tables>> = None;
    let read = v1::read(data, version.0, parallel, cancel, &mut |ev, t| {
        if tables.is_none() {
            tables = Some(Arc::clone(t));
        }
        out.event(ev, t);
    });
    if let Some(t) = &tables {
        out.end_tables(t);
    }
    release(0..data.len());
    let read = read?;
    if read.complete {
        out.progress(Progress::Ordered {
            generation: 1,
            of: 1,
            time_ns: i64::MAX,
        });
    }
    Ok(Outcome {
        version,
        generations: 1,
        complete_bytes: read.read_bytes,
        warning: read.warning,
        ordered_ahead: 0,
        reordered: 0,
        too_large_ahead: 0,
        // One generation, ordered as a whole: nothing to resume from.
        resumes: Vec::new(),
    })
}

/// One read's generations and the state carried through them.
struct Run<'r, 'a> {
    version: Version,
    keep_resumes: bool,
    /// Steps between two points saved inside a generation (`u64::MAX`: none).
    every_steps: u64,
    /// Points saved inside the generation being ordered (`resume_every_steps`).
    points: Vec<order::Within>,
    spans: &'r [batch::GenerationSpan<'a>],
    cancel: &'r AtomicBool,
    orderer: &'r mut order::Orderer,
    outcome: &'r mut Outcome,
    release: Release<'r>,
    /// `ReadOptions::ahead_bytes`.
    ahead_bytes: u64,
}

/// What a worker made of one generation ahead of the ordering: the decoded generation,
/// and its events ordered from a guessed start state when that run went through.
struct Ahead<'a> {
    generation: Result<generation::Generation<'a>>,
    spec: Option<order::Speculation>,
    /// The generation's bytes counted in `PipelineState::ahead_bytes` until it is
    /// stitched; 0 for one too large to order ahead.
    counted_bytes: u64,
}

/// Lowers the calling thread's scheduling priority a little, so that when there are more
/// runnable threads than cores, the stitch and the sink (which the rest of the read waits
/// for) run first and the workers ordering ahead take what is left. Without effect where
/// threads have no priorities of their own.
fn yield_to_consumers() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: setpriority only reads its arguments; on Linux, `who` 0 with
        // PRIO_PROCESS names the calling thread. A failure leaves the priority as it was.
        unsafe {
            libc::setpriority(libc::PRIO_PROCESS, 0, 5);
        }
    }
}

/// The hand-over between the workers that order generations ahead and the thread that
/// stitches them on in turn.
struct Pipeline<'a> {
    state: Mutex<PipelineState<'a>>,
    changed: Condvar,
}

impl<'a> Pipeline<'a> {
    /// The state; a worker that panicked while holding it left it whole (every change is
    /// one assignment), so a poisoned lock is taken as it is.
    fn lock(&self) -> MutexGuard<'_, PipelineState<'a>> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn wait<'g>(
        &self,
        guard: MutexGuard<'g, PipelineState<'a>>,
    ) -> MutexGuard<'g, PipelineState<'a>> {
        self.changed
            .wait(guard)
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

struct PipelineState<'a> {
    /// The next generation a worker takes.
    next: usize,
    /// Generations the stitching thread has taken (it works on the last of them).
    taken: usize,
    ready: Vec<Option<Ahead<'a>>>,
    /// Event logs to reuse.
    spare: Vec<order::replay::ReplayLog>,
    /// Bytes of the file of the generations taken to be ordered ahead and not stitched
    /// yet (at most `ReadOptions::ahead_bytes`).
    ahead_bytes: u64,
    stop: bool,
}

impl PipelineState<'_> {
    /// Keeps a log done with to be reused, unless it grew past an eighth of the bytes
    /// ordered ahead (`budget`), so that the logs kept stay small whatever the largest
    /// generation ordered ahead was.
    fn give_back(&mut self, log: order::replay::ReplayLog, budget: u64) {
        if log.capacity_bytes() as u64 <= budget / 8 {
            self.spare.push(log);
        }
    }
}

impl<'r, 'a> Run<'r, 'a> {
    fn stopped(&self, out: &impl Out) -> Option<Error> {
        (self.cancel.load(Ordering::Relaxed) || out.gone()).then(|| cancelled(self.outcome))
    }

    /// Orders one generation after the other, decoding a window of them at a time on the
    /// rayon pool (`parallel`) while the previous window is ordered.
    fn in_turn(&mut self, parallel: bool, out: &mut (impl Out + Send)) -> Option<Error> {
        let (version, spans) = (self.version, self.spans);
        let window = if parallel {
            rayon::current_num_threads().max(1) * 2
        } else {
            1
        };
        let release = self.release;
        // A generation decoded ahead waits for its turn with its pages given back: the
        // ordering reads them again, from the page cache, when its turn comes.
        let decode = |s: &batch::GenerationSpan<'a>| {
            let g = generation::decode(version, s);
            if parallel {
                release(s.offset as usize..s.end_offset as usize);
            }
            g
        };
        let decode_window = |start: usize| -> Vec<Result<generation::Generation<'a>>> {
            let end = (start + window).min(spans.len());
            if parallel {
                spans[start..end].par_iter().map(decode).collect()
            } else {
                spans[start..end].iter().map(decode).collect()
            }
        };
        let mut start = 0;
        let mut current = decode_window(0);
        while start < spans.len() {
            let next_start = start + current.len();
            let mut order_window = |decoded: Vec<Result<generation::Generation>>| {
                for g in decoded {
                    if let Some(e) = self.stopped(out) {
                        return Some(e);
                    }
                    let mut g = match g {
                        Ok(g) => g,
                        Err(e) => return Some(e),
                    };
                    let start = self.start_state();
                    if let Err(e) = self.order_one(&mut g, out) {
                        return Some(e);
                    }
                    self.finished(&g, start, out);
                }
                None
            };
            let (err, next) = if parallel && next_start < spans.len() {
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
            if err.is_some() {
                return err;
            }
            current = next;
            start = next_start;
        }
        None
    }

    /// Orders every generation after the first ahead of time on worker threads, each from
    /// a start state guessed from its own status events, while this thread orders the
    /// first and then stitches the others on in turn (ordering one again itself when its
    /// guess turns out wrong). At most a few generations wait, as compact event logs.
    fn ahead(&mut self, out: &mut (impl Out + Send)) -> Option<Error> {
        let (version, spans) = (self.version, self.spans);
        let workers = rayon::current_num_threads().max(1);
        // Generations a worker may run ahead of the stitch: one per worker (more only
        // added memory, no speed, when measured).
        let window = workers;
        let first_gen_no = spans[0].generation;
        let budget = self.ahead_bytes;
        let bytes_of = |i: usize| spans[i].end_offset.saturating_sub(spans[i].offset);
        let pipe = Pipeline {
            state: Mutex::new(PipelineState {
                next: 0,
                taken: 0,
                ready: (0..spans.len()).map(|_| None).collect(),
                spare: Vec::new(),
                ahead_bytes: 0,
                stop: false,
            }),
            changed: Condvar::new(),
        };
        let work = |pipe: &Pipeline<'a>| {
            yield_to_consumers();
            loop {
                let (i, log, counted_bytes) = {
                    let mut st = pipe.lock();
                    // The bytes it is counted at: 0 if it is too large to order ahead.
                    let counted = loop {
                        if st.stop || st.next >= spans.len() {
                            return;
                        }
                        if st.next < st.taken + window {
                            // Too large alone: decoded here, ordered in turn by the stitch.
                            let bytes = bytes_of(st.next);
                            if bytes > budget {
                                break 0;
                            }
                            // Otherwise once those ahead of it leave room.
                            if st.ahead_bytes + bytes <= budget {
                                break bytes;
                            }
                        }
                        st = pipe.wait(st);
                    };
                    st.ahead_bytes += counted;
                    st.next += 1;
                    let log = if counted > 0 { st.spare.pop() } else { None };
                    (st.next - 1, log, counted)
                };
                let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let generation = generation::decode(version, &spans[i]);
                    let log = log.unwrap_or_default();
                    let ran = match &generation {
                        _ if counted_bytes == 0 => Err(log),
                        Ok(g) if i == 0 => order::Speculation::run_first(g, log),
                        Ok(g) => order::Speculation::run(first_gen_no, g, log),
                        Err(_) => Err(log),
                    };
                    let (spec, spare) = match ran {
                        Ok(spec) => (Some(spec), None),
                        Err(log) => (None, Some(log)),
                    };
                    (
                        Ahead {
                            generation,
                            spec,
                            counted_bytes,
                        },
                        spare,
                    )
                }));
                // Should a run ever panic, the generation is left to the stitching thread
                // (which must not wait for it forever) to order or to report.
                let (ahead, spare) = ran.unwrap_or_else(|_| {
                    let span = &spans[i];
                    let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        generation::decode(version, span)
                    }));
                    let generation = decoded.unwrap_or_else(|_| {
                        Err(Error::broken(
                            span.offset,
                            Some(span.generation),
                            "decoding the generation failed unexpectedly",
                        ))
                    });
                    (
                        Ahead {
                            generation,
                            spec: None,
                            counted_bytes,
                        },
                        None,
                    )
                });
                let mut st = pipe.lock();
                st.ready[i] = Some(ahead);
                if let Some(log) = spare {
                    st.give_back(log, budget);
                }
                drop(st);
                pipe.changed.notify_all();
            }
        };
        std::thread::scope(|scope| {
            let mut started = 0;
            for w in 0..workers {
                let pipe = &pipe;
                let spawned = std::thread::Builder::new()
                    .name(format!("goscope-ahead-{w}"))
                    .spawn_scoped(scope, move || work(pipe));
                started += spawned.is_ok() as usize;
            }
            let failure = if started == 0 {
                // No thread to be had: order everything here.
                pipe.lock().stop = true;
                self.in_turn(false, out)
            } else {
                self.stitch_ahead(&pipe, out)
            };
            pipe.lock().stop = true;
            pipe.changed.notify_all();
            failure
        })
    }

    /// The stitching side of `ahead`.
    fn stitch_ahead(&mut self, pipe: &Pipeline<'a>, out: &mut (impl Out + Send)) -> Option<Error> {
        let spans = self.spans;
        for i in 0..spans.len() {
            if let Some(e) = self.stopped(out) {
                return Some(e);
            }
            let ahead = {
                let mut st = pipe.lock();
                let ahead = loop {
                    if let Some(a) = st.ready[i].take() {
                        break a;
                    }
                    st = pipe.wait(st);
                };
                st.taken = i + 1;
                drop(st);
                pipe.changed.notify_all();
                ahead
            };
            let counted_bytes = ahead.counted_bytes;
            let mut g = match ahead.generation {
                Ok(g) => g,
                Err(e) => return Some(e),
            };
            let start = self.start_state();
            let used = match ahead.spec {
                Some(spec) => {
                    let tables = Arc::clone(spec.tables());
                    let (used, log) = self.orderer.stitch(spec, &g, &mut |ev, t| out.event(ev, t));
                    pipe.lock().give_back(log, self.ahead_bytes);
                    // Events may have gone out unless the stitch declined.
                    if !matches!(used, Ok(false)) {
                        out.end_tables(&tables);
                    }
                    match used {
                        Ok(used) => used,
                        Err(e) => return Some(e),
                    }
                }
                None => false,
            };
            // Its log is in: room for the next generation to be ordered ahead.
            pipe.lock().ahead_bytes -= counted_bytes;
            pipe.changed.notify_all();
            if used {
                self.outcome.ordered_ahead += 1;
            } else if counted_bytes == 0 {
                self.outcome.too_large_ahead += 1;
                if let Err(e) = self.order_one(&mut g, out) {
                    return Some(e);
                }
            } else {
                self.outcome.reordered += 1;
                if let Err(e) = self.order_one(&mut g, out) {
                    return Some(e);
                }
            }
            self.finished(&g, start, out);
        }
        None
    }

    /// `order_one` with this read's release and points.
    fn order_one(&mut self, g: &mut generation::Generation<'_>, out: &mut impl Out) -> Result<()> {
        order_one(
            self.orderer,
            g,
            out,
            self.release,
            self.every_steps,
            &mut self.points,
            self.cancel,
        )
    }

    /// With `keep_resumes`, a copy of the ordering state before a generation is ordered.
    fn start_state(&self) -> Option<order::Orderer> {
        self.keep_resumes.then(|| self.orderer.snapshot())
    }

    /// A generation was ordered completely (from `start`, if kept).
    fn finished(
        &mut self,
        g: &generation::Generation<'_>,
        start: Option<order::Orderer>,
        out: &mut impl Out,
    ) {
        let index = self.outcome.generations;
        let time_ns = self.orderer.last_ns;
        finished_one(
            self.outcome,
            g,
            out,
            self.spans.len(),
            self.release,
            time_ns,
        );
        let points = std::mem::take(&mut self.points);
        if let (Some(state), Some(span)) = (start, self.spans.get(index)) {
            let resume = Resume::new(index, self.version, span, state, points);
            self.outcome.resumes.push(resume);
        }
    }
}

/// The README's example, compiled with the tests so that it stays true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

#[cfg(test)]
mod tests {
    use super::*;

    fn events(
        data: &[u8],
        pipelined: bool,
        opts: ReadOptions,
    ) -> (Vec<(Event, u64)>, Vec<String>, String) {
        let mut v = Vec::new();
        let mut p = Vec::new();
        let mut sink = |ev: &Event, t: &Tables| v.push((*ev, t.generation));
        let mut progress = |x: Progress| p.push(format!("{x:?}"));
        let cancel = AtomicBool::new(false);
        let r = if pipelined {
            read_pipelined(data, opts, &cancel, &mut sink, &mut progress)
        } else {
            read_with_progress(data, opts, &cancel, &mut sink, &mut progress)
        };
        let r = match r {
            Ok(o) => format!("{} {} {:?}", o.generations, o.complete_bytes, o.warning),
            Err(e) => format!("error {e}"),
        };
        (v, p, r)
    }

    /// Every committed trace, and each cut inside its last part.
    fn committed_traces() -> Vec<(String, Vec<u8>)> {
        let dir = goscope_testdata::dir().join("traces");
        let mut v = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|x| x != "trace") {
                continue;
            }
            let data = std::fs::read(&path).unwrap();
            for cut in [data.len(), data.len() * 7 / 8, data.len() / 2] {
                v.push((
                    format!("{} cut at {cut}", path.display()),
                    data[..cut].to_vec(),
                ));
            }
        }
        assert!(!v.is_empty());
        v
    }

    /// Events, tables' generation, extra strings and outcome of a plain read.
    fn read_all(
        data: &[u8],
        parallel: bool,
    ) -> (Vec<(Event, u64, String)>, String, Option<Outcome>) {
        let opts = ReadOptions {
            parallel,
            order_ahead: parallel,
            ..ReadOptions::default()
        };
        read_all_with(data, opts)
    }

    fn read_all_with(
        data: &[u8],
        opts: ReadOptions,
    ) -> (Vec<(Event, u64, String)>, String, Option<Outcome>) {
        let mut v = Vec::new();
        let r = read(data, opts, |ev: &Event, t: &Tables| {
            let mut text = String::new();
            write_go_text(&mut text, ev, t);
            v.push((*ev, t.generation, text));
        });
        match r {
            Ok(o) => {
                let s = format!("{} {} {:?}", o.generations, o.complete_bytes, o.warning);
                (v, s, Some(o))
            }
            Err(e) => (v, format!("error {e}"), None),
        }
    }

    /// Bytes that remember what the read said it does not need.
    struct Recording {
        data: Vec<u8>,
        released: Mutex<Vec<std::ops::Range<usize>>>,
    }

    impl Source for Recording {
        fn bytes(&self) -> &[u8] {
            &self.data
        }
        fn release(&self, range: std::ops::Range<usize>) {
            self.released.lock().unwrap().push(range);
        }
    }

    /// A read of the generations that begin before an offset gives the whole read's events
    /// up to the next generation's Sync, then the Sync that ends a read; it says nothing of
    /// what comes after (no warning, though the whole trace may be cut).
    #[test]
    fn a_prefix_read_orders_the_generations_that_begin_before_its_end() {
        let mut checked = 0;
        for (name, data) in committed_traces() {
            let Ok(scan) = batch::scan(&data) else {
                continue;
            };
            let gens = &scan.generations;
            if gens.len() < 2 {
                continue;
            }
            let (all, _, whole) = events(&data, true, ReadOptions::default());
            for k in 1..gens.len() {
                for (prefix_bytes, included) in [(gens[k].offset, k), (gens[k].offset + 1, k + 1)] {
                    let what = format!("{name}, prefix of {prefix_bytes} bytes");
                    let opts = ReadOptions {
                        prefix_bytes,
                        ..ReadOptions::default()
                    };
                    let (got, _, outcome) = events(&data, true, opts);
                    let syncs = got.iter().filter(|(e, _)| e.typ == spec::EV_SYNC).count();
                    assert_eq!(
                        syncs,
                        included + 1,
                        "{what}: each generation's Sync and the last"
                    );
                    let n = got.len() - 1;
                    assert_eq!(got[..n], all[..n], "{what}");
                    assert!(
                        all.get(n).is_none_or(|(e, _)| e.typ == spec::EV_SYNC),
                        "{what}"
                    );
                    // With every complete generation in, the whole read's warning of a
                    // cut may remain: the prefix read says it too if the cut lies inside
                    // a generation that begins before its end.
                    let end = gens[included - 1].end_offset;
                    let quiet = format!("{included} {end} None");
                    assert!(
                        outcome == quiet || (included == gens.len() && outcome == whole),
                        "{what}: {outcome}"
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 100, "{checked} prefixes read");
    }

    /// A read cancelled inside a long generation stops within a few thousand steps of it,
    /// not at the generation's end, whether it orders on the calling thread or its own.
    #[test]
    fn a_read_cancelled_inside_a_generation_stops_soon_after() {
        let path = goscope_testdata::dir()
            .join("traces")
            .join("gc-go125.trace");
        let data = std::fs::read(path).unwrap();
        let (all, _, _) = events(&data, false, ReadOptions::default());
        let steps = order::CANCEL_CHECK_STEPS as usize;
        assert!(
            all.len() > 4 * steps,
            "one generation of {} events",
            all.len()
        );
        for parallel in [false, true] {
            let cancel = AtomicBool::new(false);
            let mut delivered = 0;
            let read = read_pipelined(
                &data[..],
                ReadOptions {
                    parallel,
                    ..ReadOptions::default()
                },
                &cancel,
                &mut |_: &Event, _: &Tables| {
                    delivered += 1;
                    if delivered == 100 {
                        cancel.store(true, Ordering::Relaxed);
                    }
                },
                &mut |_| {},
            );
            let err = read.expect_err("cancelled in its first generation");
            assert!(err.to_string().contains("cancelled"), "{err}");
            // A step orders one event and at most a few it brings; the chunks in flight
            // to the sink are ordered before the cancel is seen.
            let in_flight = if parallel {
                (CHUNKS_IN_FLIGHT + 2) * CHUNK_EVENTS
            } else {
                0
            };
            assert!(
                delivered < 100 + 2 * steps + in_flight,
                "parallel {parallel}: {delivered}"
            );
        }
    }

    /// A pipelined read gives back the whole file after the scan and each generation once
    /// it is decoded and once it is ordered; nothing outside the file. The events are those
    /// of a plain read.
    #[test]
    fn a_source_hears_which_bytes_the_read_is_done_with() {
        for (name, data) in committed_traces() {
            let (want, want_outcome, _) = read_all(&data, false);
            let src = Recording {
                data,
                released: Mutex::new(Vec::new()),
            };
            let mut got = Vec::new();
            let r = read_pipelined(
                &src,
                ReadOptions::default(),
                &AtomicBool::new(false),
                &mut |ev: &Event, t: &Tables| {
                    let mut text = String::new();
                    write_go_text(&mut text, ev, t);
                    got.push((*ev, t.generation, text));
                },
                &mut |_| {},
            );
            let ordered = r.as_ref().map_or(0, |o| o.generations);
            let outcome = match r {
                Ok(o) => format!("{} {} {:?}", o.generations, o.complete_bytes, o.warning),
                Err(e) => format!("error {e}"),
            };
            assert_eq!(outcome, want_outcome, "{name}");
            assert!(got == want, "{name}");
            let released = src.released.into_inner().unwrap();
            let len = src.data.len();
            assert!(
                released.iter().all(|r| r.start <= r.end && r.end <= len),
                "{name}"
            );
            if batch::read_header(&src.data).is_ok_and(|v| v.is_v1()) {
                // One generation, read whole: the file is given back once, at the end.
                assert!(released.iter().all(|r| *r == (0..len)), "{name}");
                continue;
            }
            let Ok(scan) = batch::scan(&src.data) else {
                assert!(released.is_empty(), "{name}: nothing was scanned");
                continue;
            };
            assert!(
                released.contains(&(0..len)),
                "{name}: the file after the scan"
            );
            for g in scan.generations.iter().take(ordered) {
                let (a, b) = (g.offset as usize, g.end_offset as usize);
                // Once decoded, once ordered.
                let times = released.iter().filter(|r| **r == (a..b)).count();
                assert!(
                    times >= 2,
                    "{name}: generation at {a} released {times} times"
                );
            }
        }
    }

    /// Ordering one generation again (from its start, and from a point inside it, stopped
    /// halfway) gives back the generation's bytes once its tables are decoded and again at
    /// the end, and nothing outside them; the events are those of a plain reorder.
    #[test]
    fn a_reorder_gives_back_its_generations_bytes() {
        let mut checked = 0;
        for (name, data) in committed_traces() {
            let opts = ReadOptions {
                keep_resumes: true,
                resume_every_steps: 64,
                ..ReadOptions::default()
            };
            let Ok(outcome) = read(&data, opts, |_, _| {}) else {
                continue;
            };
            let src = Recording {
                data,
                released: Mutex::new(Vec::new()),
            };
            for r in &outcome.resumes {
                let whole = r.bytes.start as usize..r.bytes.end as usize;
                let points_ns = r.points_ns().collect::<Vec<_>>();
                let middle = points_ns.len() / 2;
                let starts = std::iter::once((None, i64::MAX))
                    .chain(points_ns.get(middle).map(|&t| (Some(middle), t + 1)));
                for (from_point, stop_after_ns) in starts {
                    let mut want = Vec::new();
                    let mut got = Vec::new();
                    let never = AtomicBool::new(false);
                    let run = |s: &dyn Source, out: &mut Vec<(Event, u64)>| {
                        reorder_pipelined_until(
                            s,
                            r,
                            from_point,
                            stop_after_ns,
                            &never,
                            &mut |ev, t| out.push((*ev, t.generation)),
                        )
                    };
                    run(&src.data, &mut want).unwrap_or_else(|e| panic!("{name}: {e}"));
                    src.released.lock().unwrap().clear();
                    run(&src, &mut got).unwrap_or_else(|e| panic!("{name}: {e}"));
                    assert!(got == want, "{name}: generation {}", r.generation);
                    let released = src.released.lock().unwrap().clone();
                    assert!(
                        released
                            .iter()
                            .all(|b| whole.start <= b.start && b.end <= whole.end),
                        "{name}: generation {} gave back {released:?}, outside {whole:?}",
                        r.generation
                    );
                    let wholes = released.iter().filter(|b| **b == whole).count();
                    assert_eq!(
                        wholes, 2,
                        "{name}: generation {} {released:?}",
                        r.generation
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 50, "only {checked} reorders checked");
    }

    #[test]
    fn generations_ordered_ahead_equal_sequential_ordering() {
        let (mut ahead, mut again) = (0, 0);
        for (name, data) in committed_traces() {
            let (seq_events, seq_outcome, _) = read_all(&data, false);
            let (par_events, par_outcome, o) = read_all(&data, true);
            assert_eq!(seq_outcome, par_outcome, "{name}");
            assert!(seq_events == par_events, "{name}");
            if let Some(o) = o {
                ahead += o.ordered_ahead;
                again += o.reordered;
            }
        }
        eprintln!("generations ordered ahead and used: {ahead}, ordered again: {again}");
        assert!(ahead > 0);
    }

    #[test]
    fn generations_over_the_bytes_ordered_ahead_are_ordered_in_turn_with_the_same_events() {
        let (mut too_large, mut ahead) = (0, 0);
        for (name, data) in committed_traces() {
            let Ok(scan) = batch::scan(&data) else {
                continue;
            };
            let mut sizes: Vec<u64> = scan
                .generations
                .iter()
                .map(|s| s.end_offset - s.offset)
                .collect();
            if sizes.len() < 2 {
                continue;
            }
            let (seq_events, seq_outcome, _) = read_all(&data, false);
            sizes.sort_unstable();
            // None may be ordered ahead; then those up to the median, one at a time.
            for budget in [0, sizes[sizes.len() / 2]] {
                let opts = ReadOptions {
                    order_ahead: true,
                    ahead_bytes: budget,
                    ..ReadOptions::default()
                };
                let (events, outcome, o) = read_all_with(&data, opts);
                assert_eq!(seq_outcome, outcome, "{name}, {budget} bytes ahead");
                assert!(seq_events == events, "{name}, {budget} bytes ahead");
                let Some(o) = o.filter(|o| o.warning.is_none()) else {
                    continue;
                };
                let over = sizes.iter().filter(|&&b| b > budget).count();
                assert_eq!(o.too_large_ahead, over, "{name}, {budget} bytes ahead");
                assert_eq!(
                    o.ordered_ahead + o.reordered + o.too_large_ahead,
                    o.generations,
                    "{name}"
                );
                too_large += o.too_large_ahead;
                ahead += o.ordered_ahead;
            }
        }
        eprintln!("generations too large to order ahead: {too_large}; ordered ahead: {ahead}");
        assert!(too_large > 0 && ahead > 0);
    }

    /// Orders every generation after the first ahead of time and stitches it on (or orders
    /// it again), as `read` does for every other one; the events must be the sequential
    /// ones. Returns (used, ordered again).
    fn every_generation_ahead(data: &[u8]) -> (usize, usize) {
        let Ok(scan) = batch::scan(data) else {
            return (0, 0);
        };
        let mut want = Vec::new();
        let mut got = Vec::new();
        let mut seq = order::Orderer::new();
        let mut par = order::Orderer::new();
        let first = scan.generations.first().map_or(0, |s| s.generation);
        let (mut used, mut again) = (0, 0);
        let mut buf = order::replay::ReplayLog::default();
        for (i, span) in scan.generations.iter().enumerate() {
            let Ok(g) = generation::decode(scan.version, span) else {
                break;
            };
            let mut a = g.clone();
            let ok_seq = seq.generation(&mut a, &mut |ev, _| want.push(*ev)).is_ok();
            if i == 1 {
                // A start state that is not the real one is never used.
                if let Ok(spec) =
                    order::Speculation::run(first, &g, order::replay::ReplayLog::default())
                {
                    let mut none = 0;
                    let (ok, _) = order::Orderer::new().stitch(spec, &g, &mut |_, _| none += 1);
                    assert!(!ok.unwrap() && none == 0);
                }
            }
            let stitched = if i == 0 {
                false
            } else {
                match order::Speculation::run(first, &g, std::mem::take(&mut buf)) {
                    Ok(spec) => {
                        let (ok, b) = par.stitch(spec, &g, &mut |ev, _| got.push(*ev));
                        buf = b;
                        ok.unwrap()
                    }
                    Err(b) => {
                        buf = b;
                        false
                    }
                }
            };
            if stitched {
                used += 1;
            } else {
                if i > 0 {
                    again += 1;
                }
                let mut b = g.clone();
                let ok_par = par.generation(&mut b, &mut |ev, _| got.push(*ev)).is_ok();
                assert_eq!(ok_seq, ok_par);
            }
            assert!(want == got, "generation {i}");
            if !ok_seq {
                break;
            }
        }
        (used, again)
    }

    #[test]
    fn every_generation_ordered_ahead_equals_sequential_ordering() {
        let (mut used, mut again) = (0, 0);
        for (_, data) in committed_traces() {
            let (u, a) = every_generation_ahead(&data);
            used += u;
            again += a;
        }
        eprintln!("generations ordered ahead and used: {used}, ordered again: {again}");
        assert!(used > 0);
    }

    #[test]
    fn a_generation_ordered_ahead_is_kept_in_a_few_bytes_per_event() {
        let (mut events, mut bytes) = (0, 0);
        for (_, data) in committed_traces() {
            let Ok(scan) = batch::scan(&data) else {
                continue;
            };
            let first = scan.generations.first().map_or(0, |s| s.generation);
            for span in scan.generations.iter().skip(1) {
                let Ok(g) = generation::decode(scan.version, span) else {
                    continue;
                };
                if let Ok(spec) =
                    order::Speculation::run(first, &g, order::replay::ReplayLog::default())
                {
                    let log = spec.into_log();
                    events += log.len();
                    bytes += log.size_bytes();
                }
            }
        }
        assert!(events > 100, "{events} events ordered ahead");
        let per_event = bytes as f64 / events as f64;
        eprintln!("{events} events ordered ahead in {bytes} bytes ({per_event:.2} per event)");
        assert!(per_event < 5.0, "{per_event} bytes per event");
    }

    /// `cargo test --release --lib -- --ignored ahead_on_large --nocapture`
    #[test]
    #[ignore]
    fn ahead_on_large_trace() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../target/bench/large.trace"
        );
        let data = std::fs::read(path).unwrap();
        let opts = ReadOptions {
            order_ahead: true,
            ..ReadOptions::default()
        };
        let o = read(&data, opts, |_, _| {}).unwrap();
        eprintln!(
            "{} generations, {} ordered ahead and used, {} ordered again",
            o.generations, o.ordered_ahead, o.reordered
        );
        let (used, again) = every_generation_ahead(&data);
        eprintln!("every generation ahead: {used} used, {again} ordered again");
    }

    #[test]
    fn every_generation_ordered_again_from_its_resume_equals_the_read() {
        let rendered = |ev: &Event, t: &Tables| {
            let mut text = String::new();
            write_go_text(&mut text, ev, t);
            (*ev, t.generation, text)
        };
        let mut checked = 0;
        let mut points = 0;
        for (name, data) in committed_traces() {
            // Points inside generations too (ordered in turn only), about five in each.
            let mut events = 0u64;
            let Ok(plain) = read(&data, ReadOptions::default(), |_, _| events += 1) else {
                continue;
            };
            let every_steps = (events / plain.generations.max(1) as u64 / 6).max(3);
            for order_ahead in [false, true] {
                let mut seq = Vec::new();
                let opts = ReadOptions {
                    parallel: true,
                    order_ahead,
                    keep_resumes: true,
                    resume_every_steps: every_steps,
                    ..ReadOptions::default()
                };
                let Ok(outcome) = read(&data, opts, |ev, t| seq.push(rendered(ev, t))) else {
                    continue;
                };
                if outcome.version.is_v1() {
                    assert!(outcome.resumes.is_empty(), "{name}");
                    continue;
                }
                assert_eq!(outcome.resumes.len(), outcome.generations, "{name}");
                assert_eq!(
                    outcome.resumes.iter().filter(|r| r.last).count(),
                    outcome.warning.as_ref().map_or(1, |w| {
                        // A cut scan still ends the trace; a failed generation does not.
                        usize::from(w.to_string().contains("ends at offset"))
                    }),
                    "{name}: {:?}",
                    outcome.warning
                );
                // Each on its own, the last first: they need nothing but their own state.
                for r in outcome.resumes.iter().rev() {
                    let mut again = Vec::new();
                    reorder(&data, r, |ev, t| again.push(rendered(ev, t)))
                        .unwrap_or_else(|e| panic!("{name}: {e}"));
                    let expected: Vec<_> = seq
                        .iter()
                        .filter(|e| e.1 == r.generation || (r.last && e.1 == 0))
                        .cloned()
                        .collect();
                    assert!(
                        again == expected,
                        "{name}: generation {} ordered again differs ({} events, read gave {})",
                        r.generation,
                        again.len(),
                        expected.len()
                    );
                    let mut piped = Vec::new();
                    reorder_pipelined(&data[..], r, &mut |ev, t| piped.push(rendered(ev, t)))
                        .unwrap_or_else(|e| panic!("{name}: {e}"));
                    assert!(piped == again, "{name}: pipelined differs");
                    checked += 1;
                    // From each point inside it: the events after the point (all later
                    // than its time; those before are not).
                    for (k, point_ns) in r.points_ns().enumerate() {
                        let mut rest = Vec::new();
                        let never = AtomicBool::new(false);
                        reorder_pipelined_until(
                            &data[..],
                            r,
                            Some(k),
                            i64::MAX,
                            &never,
                            &mut |ev, t| rest.push(rendered(ev, t)),
                        )
                        .unwrap_or_else(|e| panic!("{name}: {e}"));
                        let after = expected.iter().position(|e| e.0.time_ns > point_ns);
                        let want = &expected[after.unwrap_or(expected.len())..];
                        assert!(
                            !rest.is_empty() && rest == want,
                            "{name}: generation {} from point {k} at {point_ns} ns differs \
                             ({} events, the read gave {} after it)",
                            r.generation,
                            rest.len(),
                            want.len()
                        );
                        points += 1;
                    }
                }
            }
        }
        assert!(checked > 50, "only {checked} generations checked");
        assert!(
            points > 1000,
            "only {points} points inside generations checked"
        );
        let plain = read(&committed_traces()[0].1, ReadOptions::default(), |_, _| {}).unwrap();
        assert!(plain.resumes.is_empty(), "kept only when asked for");
    }

    #[test]
    fn pipelined_read_equals_direct_read() {
        let dir = goscope_testdata::dir().join("traces");
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
                let ahead = ReadOptions {
                    order_ahead: true,
                    ..ReadOptions::default()
                };
                let direct = events(d, false, ReadOptions::default());
                assert!(
                    direct == events(d, true, ReadOptions::default()),
                    "{}",
                    path.display()
                );
                assert!(direct == events(d, true, ahead), "{}", path.display());
            }
            n += 1;
        }
        assert!(n > 0);
    }
}
