//! Go 1.11–1.21 traces (formats 11, 19, 21; "v1"): decoded, merged and converted to the events Go 1.22+'s reader gives for them, as one generation.
//!
//! Steps, each in its own file:
//! - `wire`: the byte format and one raw event;
//! - `decode`: one pass indexing each P's batches and reading the tables (strings, stacks,
//!   frequency, timer goroutines, CPU samples); then batches decoded one at a time;
//! - `merge`: Go's merge of the Ps' batches by goroutine sequence and time, the real times
//!   of syscall exits, ticks to ns, fake Ps, and Go's consistency checks;
//! - `convert`: the v1 events as v2 events, with Go's approximations.
//!
//! Unlike v2 there are no generations to bound the work, but the work streams: the
//! index pass reads the tables at the file's end first (and lists what the conversion must
//! know before the first event goes out), then the merge runs on a thread of its own and
//! hands its events over in chunks; on the calling thread they are put back in time order
//! (syscall exits move back to their real time), checked and converted, each as soon as no
//! event still to come can be earlier. So the first events go out long before the last is
//! merged, and few are held at any time.

mod convert;
pub mod decode;
mod merge;
pub mod wire;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};

use crate::error::{Error, Result};
use crate::event::{Event, NONE};
use crate::generation::Tables;
use crate::spec::EV_SYNC;
use decode::V1Event;

/// What reading a v1 trace gave besides its events.
#[derive(Debug)]
pub struct Read {
    /// Whether every event was delivered.
    pub complete: bool,
    /// Bytes of the file that were read (all of it unless it is cut or corrupt).
    pub read_bytes: u64,
    /// Why not everything could be read, when it could not.
    pub warning: Option<Error>,
}

/// Reads a v1 trace of format `version` into `emit`, as Go's reader gives it: a Sync, the
/// events, a Sync. Fails when nothing can be delivered; a cut or corrupt file whose start
/// can be ordered gives that start and a warning. When Go rejects the trace, events may
/// have gone out before the error (as for a v2 trace's first generation). With
/// `parallel`, the merge runs on a thread of its own.
pub fn read(
    data: &[u8],
    version: u32,
    parallel: bool,
    cancel: &AtomicBool,
    emit: &mut dyn FnMut(&Event, &Arc<Tables>),
) -> Result<Read> {
    let mut ix = decode::index(data, version);
    let cut = ix.cut.take();
    let read_bytes = ix.end as u64;
    let Some(ticks_per_sec) = ix.ticks_per_sec else {
        let why = match &cut {
            Some(c) => format!(
                "the trace's frequency is missing (v1 traces write it at their end, and this one is cut: {c})"
            ),
            None => "the trace states no frequency (v1 traces write it near their end: is the file cut?)".to_string(),
        };
        return Err(Error::broken(read_bytes, None, why));
    };
    if cancel.load(Ordering::Relaxed) {
        return Err(cancelled(0));
    }

    // The tables, whole before the first event goes out. Should Go reject the strings,
    // it says so only if it accepts everything else: the events are still merged and
    // checked (but not converted) to find out.
    let names = task_names(&ix.strings, &ix.task_names);
    let strings = convert::Strings::new(
        std::mem::take(&mut ix.strings),
        std::mem::take(&mut ix.messages),
    );
    let (strings, strings_error) = match strings {
        Ok(s) => (s, None),
        Err(e) => (convert::Strings::empty(), Some(e)),
    };
    let mut conv = convert::Converter::new(data, version, strings, names, &ix.task_names);
    let tables = Arc::new(convert::tables(
        conv.take_strings(),
        std::mem::take(&mut ix.stacks),
        std::mem::take(&mut ix.frames),
        conv.extra_strings.clone(),
        ticks_per_sec,
    ));

    let times = merge::Times::new(std::mem::take(&mut ix.exit_ticks));
    let merger = merge::Merger::new(data, &mut ix, version);
    let timers = std::mem::take(&mut ix.timer_goroutines);
    let mut out = Output {
        clock: merge::Clock::new(ticks_per_sec, &timers),
        reorder: merge::Reorder::default(),
        checker: merge::Checker::new(),
        stacks: &tables.stacks,
        lookahead: Lookahead::default(),
        to: Emitter {
            conv,
            tables: &tables,
            emit,
            converting: strings_error.is_none(),
            error: None,
        },
        checking: true,
        passed: 0,
        check_error: None,
    };
    let discard = AtomicBool::new(false);
    let end = if parallel {
        merge_on_a_thread(merger, times, cancel, &discard, &mut out)
    } else {
        let mut produce = Producer {
            merger,
            times,
            cancel,
            discard: &discard,
        };
        let mut chunk = Vec::with_capacity(CHUNK_EVENTS);
        loop {
            let end = produce.fill(&mut chunk);
            out.take(&mut chunk, produce.floor_ticks(&end), &discard);
            if let Some(end) = end {
                break end;
            }
        }
    };
    out.finish();

    if let Some(e) = end.stopped {
        if cut.is_none() || cancel.load(Ordering::Relaxed) {
            return Err(e);
        }
    }
    if let Some(e) = end.times_error {
        return Err(e);
    }
    if let Some(e) = out.check_error.take() {
        if cut.is_none() {
            return Err(e);
        }
    }
    if let Some(e) = strings_error {
        return Err(e);
    }
    if cancel.load(Ordering::Relaxed) {
        return Err(cancelled(read_bytes));
    }
    if let Some(e) = out.to.error.take() {
        return Ok(Read {
            complete: false,
            read_bytes,
            warning: Some(e),
        });
    }
    let n = if out.passed == 0 { 1 } else { 2 };
    let last_ns = out.to.conv.last_ns;
    (out.to.emit)(&sync(n, last_ns.wrapping_add(1)), &tables);
    Ok(Read {
        complete: cut.is_none(),
        read_bytes,
        warning: cut,
    })
}

fn cancelled(offset: u64) -> Error {
    Error::broken(offset, None, "reading was cancelled")
}

fn sync(n: u64, time_ns: i64) -> Event {
    Event {
        time_ns,
        m: NONE,
        p: NONE,
        g: NONE,
        args: [n, 0, 0, 0],
        typ: EV_SYNC,
    }
}

/// Merged events handed over at a time.
const CHUNK_EVENTS: usize = 16 * 1024;
/// Chunks merged ahead of the conversion at most.
const CHUNKS_IN_FLIGHT: usize = 4;

/// How the merge ended.
struct MergeEnd {
    /// Why not every event could be merged.
    stopped: Option<Error>,
    /// Go's verdict on the merged events' times, when it rejects them.
    times_error: Option<Error>,
}

/// The merge and the first pass over its events (`merge::Times`).
struct Producer<'a, 'c> {
    merger: merge::Merger<'a>,
    times: merge::Times,
    cancel: &'c AtomicBool,
    /// Set when the events are not wanted any more (the checks failed): the merge goes on
    /// only to find out whether it fails itself.
    discard: &'c AtomicBool,
}

impl Producer<'_, '_> {
    /// Merges events into `chunk` (cleared first) until it is full or the merge ends (then
    /// how it ended). Once Go would reject the times, events are no longer handed over.
    fn fill(&mut self, chunk: &mut Vec<V1Event>) -> Option<MergeEnd> {
        chunk.clear();
        let keep = !self.discard.load(Ordering::Relaxed);
        while chunk.len() < CHUNK_EVENTS {
            let mut e = match self.merger.next() {
                merge::Step::Event(e) => e,
                merge::Step::Done => return Some(self.end(None)),
                merge::Step::Stopped(err) => return Some(self.end(Some(err))),
            };
            if self.merger.merged() % (1 << 16) == 0 && self.cancel.load(Ordering::Relaxed) {
                return Some(self.end(Some(cancelled(e.offset()))));
            }
            self.times.take(&mut e);
            if keep && !self.times.failed() {
                chunk.push(e);
            }
        }
        None
    }

    fn end(&mut self, stopped: Option<Error>) -> MergeEnd {
        MergeEnd {
            stopped,
            times_error: self
                .times
                .order_error
                .take()
                .or_else(|| self.times.exit_error.take()),
        }
    }

    /// How early the events after the last chunk can be (all are in once it ended).
    fn floor_ticks(&self, end: &Option<MergeEnd>) -> i64 {
        if end.is_some() {
            i64::MAX
        } else {
            self.times.floor_ticks()
        }
    }
}

/// What the merge thread hands over.
enum Chunk {
    /// Merged events, and how early any event after them can be.
    Events(Vec<V1Event>, i64),
    End(MergeEnd),
}

/// Runs the merge on a thread of its own and `out` on this one.
fn merge_on_a_thread(
    merger: merge::Merger<'_>,
    times: merge::Times,
    cancel: &AtomicBool,
    discard: &AtomicBool,
    out: &mut Output<'_, '_>,
) -> MergeEnd {
    let (full_tx, full_rx) = mpsc::sync_channel::<Chunk>(CHUNKS_IN_FLIGHT);
    let (free_tx, free_rx) = mpsc::channel::<Vec<V1Event>>();
    let producer = Producer {
        merger,
        times,
        cancel,
        discard,
    };
    // Taken back should no thread be had.
    let slot = &std::sync::Mutex::new(Some(producer));
    let take = || slot.lock().ok().and_then(|mut p| p.take());
    std::thread::scope(|scope| {
        let merging = std::thread::Builder::new()
            .name("goscope-v1-merge".into())
            .spawn_scoped(scope, move || {
                let Some(mut produce) = take() else {
                    return;
                };
                loop {
                    let mut chunk = free_rx
                        .try_recv()
                        .unwrap_or_else(|_| Vec::with_capacity(CHUNK_EVENTS));
                    let end = produce.fill(&mut chunk);
                    let floor = produce.floor_ticks(&end);
                    let _ = full_tx.send(Chunk::Events(chunk, floor));
                    if let Some(end) = end {
                        let _ = full_tx.send(Chunk::End(end));
                        return;
                    }
                }
            });
        if merging.is_err() {
            // No thread to be had: merge on this one.
            if let Some(mut produce) = take() {
                let mut chunk = Vec::with_capacity(CHUNK_EVENTS);
                loop {
                    let end = produce.fill(&mut chunk);
                    out.take(&mut chunk, produce.floor_ticks(&end), discard);
                    if let Some(end) = end {
                        return end;
                    }
                }
            }
        }
        let mut end = None;
        for chunk in full_rx {
            match chunk {
                Chunk::Events(mut events, floor) => {
                    out.take(&mut events, floor, discard);
                    let _ = free_tx.send(events);
                }
                Chunk::End(e) => end = Some(e),
            }
        }
        end.unwrap_or(MergeEnd {
            stopped: Some(Error::broken(0, None, "the merge thread stopped")),
            times_error: None,
        })
    })
}

/// The events from the merge on: back in time order, checked, converted and emitted.
struct Output<'t, 'e> {
    clock: merge::Clock<'t>,
    reorder: merge::Reorder,
    checker: merge::Checker,
    stacks: &'t crate::generation::IdTable<(u32, u32)>,
    lookahead: Lookahead,
    to: Emitter<'t, 'e>,
    /// Whether events are still checked (not after the first that fails).
    checking: bool,
    /// Events that passed the checks.
    passed: u64,
    check_error: Option<Error>,
}

/// The conversion and the sink.
struct Emitter<'t, 'e> {
    conv: convert::Converter<'t>,
    tables: &'t Arc<Tables>,
    emit: &'e mut dyn FnMut(&Event, &Arc<Tables>),
    /// Whether events are still converted (not after a conversion error, nor when the
    /// tables could not be made).
    converting: bool,
    error: Option<Error>,
}

impl Emitter<'_, '_> {
    #[inline]
    fn convert(&mut self, e: &V1Event, blocked: bool) {
        if !self.converting {
            return;
        }
        let (tables, emit) = (self.tables, &mut self.emit);
        if let Err(err) = self.conv.convert(e, blocked, &mut |ev| emit(ev, tables)) {
            self.error = Some(err);
            self.converting = false;
        }
    }
}

impl Output<'_, '_> {
    /// Takes a chunk of merged events (emptying it), and gives out those not later than
    /// `floor` (ticks).
    fn take(&mut self, chunk: &mut Vec<V1Event>, floor: i64, discard: &AtomicBool) {
        if !self.checking {
            chunk.clear();
            return;
        }
        for e in chunk.drain(..) {
            self.reorder.push(e);
        }
        while let Some(e) = self.reorder.pop(floor) {
            self.check(e);
            if !self.checking {
                // Go keeps the events before the first it rejects; nothing after it matters.
                discard.store(true, Ordering::Relaxed);
                self.finish();
                return;
            }
        }
    }

    #[inline]
    fn check(&mut self, mut e: V1Event) {
        self.clock.apply(&mut e);
        let stacks = self.stacks;
        if let Err(err) = self
            .checker
            .step(&mut e, |id| stacks.get(id as u64).is_some())
        {
            self.check_error = Some(err);
            self.checking = false;
            return;
        }
        if self.passed == 0 && self.to.converting {
            (self.to.emit)(&sync(1, e.ts.wrapping_sub(1)), self.to.tables);
        }
        self.passed += 1;
        let to = &mut self.to;
        self.lookahead
            .push(e, &mut |e, blocked| to.convert(e, blocked));
    }

    /// No more events: those waiting go out.
    fn finish(&mut self) {
        while self.checking {
            let Some(e) = self.reorder.pop(i64::MAX) else {
                break;
            };
            self.check(e);
        }
        let to = &mut self.to;
        self.lookahead
            .finish(&mut |e, blocked| to.convert(e, blocked));
    }
}

/// Holds the events from a system call on until the goroutine's next event says whether
/// the call blocked (Go converts the two kinds differently); the others pass straight
/// through when nothing waits.
#[derive(Default)]
struct Lookahead {
    /// Events in order; `None`: a system call whose goroutine has not been seen since.
    queue: VecDeque<(V1Event, Option<bool>)>,
    /// Events ever taken out of `queue`.
    popped: u64,
    /// Goroutine → index (counting from the first event ever queued) of its system call
    /// waiting for its next event.
    open: HashMap<u64, u64>,
}

impl Lookahead {
    #[inline]
    fn push(&mut self, e: V1Event, out: &mut impl FnMut(&V1Event, bool)) {
        if !self.open.is_empty() {
            if let Some(at) = self.open.remove(&e.g) {
                if let Some(waiting) = self.queue.get_mut((at - self.popped) as usize) {
                    waiting.1 = Some(e.typ() == wire::ev::GO_SYS_BLOCK);
                }
            }
        }
        if e.typ() == wire::ev::GO_SYSCALL {
            self.open.insert(e.g, self.popped + self.queue.len() as u64);
            self.queue.push_back((e, None));
        } else if self.queue.is_empty() {
            out(&e, false);
            return;
        } else {
            self.queue.push_back((e, Some(false)));
        }
        while let Some(&(e, Some(blocked))) = self.queue.front() {
            self.queue.pop_front();
            self.popped += 1;
            out(&e, blocked);
        }
    }

    /// No more events: the system calls still waiting did not block.
    fn finish(&mut self, out: &mut impl FnMut(&V1Event, bool)) {
        self.open.clear();
        while let Some((e, blocked)) = self.queue.pop_front() {
            self.popped += 1;
            out(&e, blocked.unwrap_or(false));
        }
    }
}

/// The names of the tasks the trace begins (by name string id).
fn task_names(strings: &[(u64, Box<str>)], ids: &[u64]) -> HashMap<u64, Box<str>> {
    let ids: HashSet<u64> = ids.iter().copied().collect();
    strings
        .iter()
        .filter(|(id, _)| ids.contains(id))
        .map(|(id, s)| (*id, s.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use wire::ev;

    /// A system call waits for its goroutine's next event, which says whether it blocked;
    /// what comes after it waits too, so the order stays; the rest pass straight through.
    #[test]
    fn a_system_call_waits_for_its_goroutines_next_event() {
        let e = |typ: u8, g: u64, at: u64| {
            let mut x = V1Event::new(typ, at);
            x.g = g;
            x
        };
        let mut out = Vec::new();
        let mut l = Lookahead::default();
        let take = |l: &mut Lookahead, x: V1Event, out: &mut Vec<(u64, bool)>| {
            l.push(x, &mut |x, b| out.push((x.offset(), b)))
        };
        take(&mut l, e(ev::GO_START, 1, 0), &mut out);
        take(&mut l, e(ev::GO_SYSCALL, 1, 1), &mut out);
        take(&mut l, e(ev::GO_SYSCALL, 2, 2), &mut out);
        take(&mut l, e(ev::GO_START, 3, 3), &mut out);
        assert_eq!(out, [(0, false)]);
        take(&mut l, e(ev::GO_SYS_BLOCK, 1, 4), &mut out);
        assert_eq!(out, [(0, false), (1, true)]);
        take(&mut l, e(ev::GO_SYSCALL, 1, 5), &mut out);
        take(&mut l, e(ev::GO_SCHED, 2, 6), &mut out);
        assert_eq!(
            out,
            [(0, false), (1, true), (2, false), (3, false), (4, false)]
        );
        l.finish(&mut |x, b| out.push((x.offset(), b)));
        assert_eq!(out[5..], [(5, false), (6, false)]);
    }
}
