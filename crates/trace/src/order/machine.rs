//! Puts the events of all Ms into one order that respects Go's scheduler rules, as Go's
//! `internal/trace` reader does.
//!
//! Timestamps across threads can't be trusted, so events are merged by time but an event
//! is only taken when the state machine accepts it: a goroutine must be runnable with the
//! previous sequence number to start, a P must be idle to start and in a syscall to be
//! stolen, a syscall that blocked can't end while its P is still in the syscall, GC cycles
//! follow a global sequence. When the earliest event can't be taken the others are tried
//! in time order; if none can, the trace is broken. Some events are synthesized (a
//! coroutine switch becomes block/destroy + start; a cgo goroutine leaving its thread
//! loses its P). The merge order, including how ties are broken, follows Go's exactly so
//! that `goscope dump` equals `go tool trace -d=parsed` line for line.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::frontier::{Timed, heap_push, heap_remove, heap_replace, insertion_sort};
use super::replay::Origin;
use super::speculate::{Spec, Touch};
use super::state::*;
use crate::error::{Error, Result};
use crate::event::{Event, NO_TASK, NONE, state};
use crate::generation::{Generation, MCursor, RawEvent, Tables, TickScale};
use crate::ids::IdMap;
use crate::spec::*;

#[derive(Clone, Copy)]
enum Need {
    No,
    May,
    Must,
}

#[inline(always)]
fn check(ctx: Ctx, m: Need, p: Need, g: Need) -> std::result::Result<(), String> {
    #[inline(always)]
    fn one(have: bool, need: Need, what: &str) -> std::result::Result<(), String> {
        match need {
            Need::Must if !have => Err(missing(what)),
            Need::No if have => Err(unexpected(what)),
            _ => Ok(()),
        }
    }
    #[cold]
    #[inline(never)]
    fn missing(what: &str) -> String {
        format!("expected a {what} but didn't have one")
    }
    #[cold]
    #[inline(never)]
    fn unexpected(what: &str) -> String {
        format!("expected no {what} but had one")
    }
    one(ctx.m != NONE, m, "thread")?;
    one(ctx.p != NONE, p, "proc")?;
    one(ctx.g != NONE, g, "goroutine")
}

/// The error for argument `i` of `ev`, a `what` id the generation does not define.
#[cold]
#[inline(never)]
fn bad_id(what: &str, ev: &Event, i: usize, tables: &Tables) -> Error {
    let name = spec(ev.typ).map_or("?", |s| s.name);
    Error::broken(
        0,
        Some(tables.generation),
        format!("found invalid {what} ID {} for event {name}", ev.args[i]),
    )
}

fn user_go(ctx: Ctx) -> std::result::Result<(), String> {
    check(ctx, Need::Must, Need::Must, Need::Must)
}

/// The scheduler state machine, carried from one generation to the next.
pub struct Orderer {
    pub(super) gs: IdMap<GState>,
    pub(super) ps: FxHashMap<i64, PState>,
    pub(super) ms: MTable,
    pub(super) tasks: FxHashMap<u64, (Box<str>, u64)>,
    pub(super) gc_seq: u64,
    pub(super) gc_state: GcState,
    pub(super) initial_gen: u64,
    /// Ordered events waiting to be emitted, with where they came from (emptied after
    /// every step).
    pub(super) queue: Vec<(Event, Origin)>,
    /// The frontier stream whose event is being advanced.
    pub(super) stream: u32,
    pub(crate) last_ns: i64,
    pub(super) syncs: u64,
    /// Set when this orderer runs a generation ahead of time (see `ahead.rs`, `speculate.rs`).
    pub(super) spec: Option<Box<Spec>>,
}

impl Default for Orderer {
    fn default() -> Self {
        Self::new()
    }
}

type Step = std::result::Result<Option<Ctx>, String>;

/// Steps an ordering takes at most between two looks at whether it was cancelled (or its
/// consumer went away; `Orderer::run` pauses for it), so that stopping does not wait for
/// the end of a long generation (tens of millions of events in a big trace).
pub(crate) const CANCEL_CHECK_STEPS: u64 = 1 << 16;

/// How far the ordering of a generation has got, between two steps: the frontier, every
/// M's cursor and the next CPU sample.
#[derive(Clone)]
pub(crate) struct Place {
    frontier: Vec<Front>,
    cursors: Vec<Cursor>,
    next_sample: usize,
}

/// How `Orderer::run` ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ran {
    /// The generation is ordered.
    Done,
    /// An event later than the time to stop after went out.
    Stopped,
    /// Paused between two steps, events of the generation still to come.
    Paused,
}

/// A point inside a generation from which its ordering can go on again: the orderer's
/// state and the place between two steps, and the names the ordering had added to the
/// generation's tables by then.
pub(crate) struct Within {
    /// The time of the last event before the point (every event after it is later).
    pub(crate) time_ns: i64,
    state: Orderer,
    place: Place,
    extra_strings: Vec<Box<str>>,
}

impl Within {
    /// Bytes the saved state takes, roughly.
    pub(crate) fn state_bytes(&self) -> usize {
        self.state.state_bytes() + self.place.cursors.len() * std::mem::size_of::<(Cursor, Front)>()
    }
}

/// A per-M read position, with the M's next event.
#[derive(Clone)]
struct Cursor {
    read: MCursor,
    ev: RawEvent,
    /// The M's slot in the thread table, once it has one.
    m_slot: Option<usize>,
}

/// An M in the frontier heap: its next event's time and its stream (the index of its
/// cursor). The heap moves these small copies, not the cursors; the order is the same,
/// since the heap compares times only.
#[derive(Clone, Copy)]
struct Front {
    time_ns: i64,
    stream: usize,
}

impl Orderer {
    /// With a speculative run, its record and the state its look-ups install guesses in.
    fn touch(&mut self) -> Option<(&mut Spec, Touch<'_>)> {
        let s = self.spec.as_deref_mut()?;
        let t = Touch {
            gs: &mut self.gs,
            ps: &mut self.ps,
            ms: &mut self.ms,
            gc_seq: &mut self.gc_seq,
            gc_state: &mut self.gc_state,
        };
        Some((s, t))
    }

    pub fn new() -> Self {
        Orderer {
            gs: IdMap::default(),
            ps: FxHashMap::default(),
            ms: MTable::default(),
            tasks: FxHashMap::default(),
            gc_seq: 0,
            gc_state: GcState::Undetermined,
            initial_gen: 0,
            queue: Vec::new(),
            stream: 0,
            last_ns: 0,
            syncs: 0,
            spec: None,
        }
    }

    /// A copy of the state carried into the next generation, taken between generations
    /// (nothing queued, no speculative run): ordering a generation from it gives the
    /// same events as ordering it from this orderer.
    pub fn snapshot(&self) -> Orderer {
        debug_assert!(self.queue.is_empty() && self.spec.is_none());
        Orderer {
            gs: self.gs.clone(),
            ps: self.ps.clone(),
            ms: self.ms.clone(),
            tasks: self.tasks.clone(),
            gc_seq: self.gc_seq,
            gc_state: self.gc_state,
            initial_gen: self.initial_gen,
            queue: Vec::new(),
            stream: self.stream,
            last_ns: self.last_ns,
            syncs: self.syncs,
            spec: None,
        }
    }

    /// Bytes the state takes, roughly (its tables' entries).
    pub fn state_bytes(&self) -> usize {
        use std::mem::size_of;
        self.gs.table_bytes()
            + self.ps.len() * (size_of::<PState>() + 16)
            + self.ms.states.len() * (size_of::<(i64, MState)>() + 24)
            + self
                .tasks
                .values()
                .map(|(n, _)| n.len() + 40)
                .sum::<usize>()
    }

    /// Checks an ordered event's stack and string ids and hands it on. Takes the event by
    /// reference, where the handler put it, and copies it once, into the sink: a copy
    /// on the stack first would be read back, time changed, in wider loads than it was
    /// written with, and wait for those stores (a store-forwarding stall on every event).
    #[inline(always)]
    fn emit(
        &mut self,
        ev: &Event,
        origin: Origin,
        tables: &Arc<Tables>,
        sink: &mut impl FnMut(&Event, &Arc<Tables>),
    ) -> Result<()> {
        if ev.typ != EV_SYNC && ev.typ != EV_CPU_SAMPLE {
            let b = BRIEFS[ev.typ as usize];
            if !b.known {
                return Err(Error::broken(
                    0,
                    Some(tables.generation),
                    "unknown event type",
                ));
            }
            // Stack ids first, the event's own first of them, then string ids (the order
            // of `Spec::stack_args` and `string_args`).
            if b.own_stack != NO_ARG {
                let i = (b.own_stack & 3) as usize;
                if !tables.has_stack(ev.args[i]) {
                    return Err(bad_id("stack", ev, i, tables));
                }
            }
            let mut stacks = b.other_stacks;
            while stacks != 0 {
                let i = (stacks.trailing_zeros() as usize) & 3;
                stacks &= stacks - 1;
                if !tables.has_stack(ev.args[i]) {
                    return Err(bad_id("stack", ev, i, tables));
                }
            }
            let mut strings = b.string_mask;
            while strings != 0 {
                let i = (strings.trailing_zeros() as usize) & 3;
                strings &= strings - 1;
                if tables.string(ev.args[i]).is_none() {
                    return Err(bad_id("string", ev, i, tables));
                }
            }
        } else if ev.typ == EV_CPU_SAMPLE && tables.stack(ev.args[0]).is_none() {
            // Go does not check sample stacks; treat an unknown one as no stack.
            let mut ev = *ev;
            ev.args[0] = 0;
            let mut origin = origin;
            origin.changed_args |= 1;
            self.deliver(&ev, origin, tables, sink);
            return Ok(());
        }
        self.deliver(ev, origin, tables, sink);
        Ok(())
    }

    /// Hands a checked event on: to the speculation's log, or to the sink.
    #[inline(always)]
    fn deliver(
        &mut self,
        ev: &Event,
        origin: Origin,
        tables: &Arc<Tables>,
        sink: &mut impl FnMut(&Event, &Arc<Tables>),
    ) {
        if let Some(spec) = self.spec.as_deref_mut() {
            // Recorded, to be rebuilt at the stitch, where times are made increasing.
            spec.log.record(ev, origin);
            return;
        }
        self.send(ev, tables, sink);
    }

    /// Makes the time later than the previous event's and hands the event over.
    #[inline]
    pub(super) fn send(
        &mut self,
        ev: &Event,
        tables: &Arc<Tables>,
        sink: &mut impl FnMut(&Event, &Arc<Tables>),
    ) {
        let time_ns = if ev.time_ns <= self.last_ns {
            self.last_ns.wrapping_add(1)
        } else {
            ev.time_ns
        };
        self.last_ns = time_ns;
        sink(&Event { time_ns, ..*ev }, tables);
    }

    /// Emits a Sync event (one per generation and one at the end).
    pub fn sync(
        &mut self,
        time_ns: i64,
        tables: &Arc<Tables>,
        sink: &mut impl FnMut(&Event, &Arc<Tables>),
    ) -> Result<()> {
        self.syncs += 1;
        let ev = Event {
            time_ns,
            m: NONE,
            p: NONE,
            g: NONE,
            args: [self.syncs, 0, 0, 0],
            typ: EV_SYNC,
        };
        self.emit(&ev, Origin::sync(), tables, sink)
    }

    /// Emits the final Sync event at the last timestamp.
    pub fn finish(
        &mut self,
        empty: &Arc<Tables>,
        sink: &mut impl FnMut(&Event, &Arc<Tables>),
    ) -> Result<()> {
        let t = self.last_ns;
        self.sync(t, empty, sink)
    }

    /// Orders one generation's events into `sink`, starting with the generation's Sync.
    pub fn generation(
        &mut self,
        gn: &mut Generation<'_>,
        sink: &mut impl FnMut(&Event, &Arc<Tables>),
    ) -> Result<()> {
        let mut place = self.begin(gn, sink)?;
        self.run(gn, &mut place, i64::MAX, u64::MAX, &|_| {}, sink)
            .map(|_| ())
    }

    /// Starts ordering a generation: its Sync goes out, and every M's cursor is put on its
    /// first event. `run` goes on from the place this returns.
    pub(crate) fn begin(
        &mut self,
        gn: &Generation<'_>,
        sink: &mut impl FnMut(&Event, &Arc<Tables>),
    ) -> Result<Place> {
        let gen_no = gn.generation;
        let start_ns = gn.tables.ns(gn.min_ticks);
        self.sync(start_ns, &gn.tables, sink)?;

        let mut cursors: Vec<Cursor> = Vec::with_capacity(gn.ms.len());
        let mut frontier: Vec<Front> = Vec::with_capacity(gn.ms.len());
        let scale = TickScale::new(gn.tables.ns_per_tick);
        for (i, s) in gn.ms.iter().enumerate() {
            let mut read = MCursor::default();
            let ev = read.next(s, scale, Some(gen_no))?;
            if let Some(ev) = ev {
                heap_push(
                    &mut frontier,
                    Front {
                        time_ns: ev.time_ns,
                        stream: i,
                    },
                );
            }
            cursors.push(Cursor {
                read,
                ev: ev.unwrap_or(RawEvent {
                    time_ns: 0,
                    args: [0; 4],
                    offset: 0,
                    typ: 0,
                }),
                m_slot: None,
            });
        }
        Ok(Place {
            frontier,
            cursors,
            next_sample: 0,
        })
    }

    /// `run` for `steps` steps at most (`u64::MAX`: no pause), looking every
    /// `CANCEL_CHECK_STEPS` steps at `stopped(out)` and ending with a cancellation error
    /// when it is true. Events go to `event(out, …)`: `out` is lent to the sink and to the
    /// check in turn, so both may use it.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn run_stopping<O>(
        &mut self,
        gn: &mut Generation<'_>,
        place: &mut Place,
        stop_after_ns: i64,
        steps: u64,
        done_with: &dyn Fn(std::ops::Range<usize>),
        out: &mut O,
        event: impl Fn(&mut O, &Event, &Arc<Tables>),
        stopped: impl Fn(&O) -> bool,
    ) -> Result<Ran> {
        let mut left = steps.max(1);
        loop {
            let now = left.min(CANCEL_CHECK_STEPS);
            let ran = self.run(gn, place, stop_after_ns, now, done_with, &mut |ev, t| {
                event(out, ev, t)
            })?;
            if ran != Ran::Paused {
                return Ok(ran);
            }
            // A run pauses after exactly the steps it was given.
            left -= now;
            if left == 0 {
                return Ok(Ran::Paused);
            }
            if stopped(out) {
                return Err(Error::cancelled(gn.offset));
            }
        }
    }

    /// Orders the generation on from `place` until its end (`Ran::Done`), until an event
    /// later than `stop_after_ns` has gone out (`Ran::Stopped`: the generation is left
    /// half ordered), or, after `pause_after_steps` steps, between two steps while events
    /// of it remain (`Ran::Paused`: `point` can save the state there, and `run` goes on).
    pub(crate) fn run(
        &mut self,
        gn: &mut Generation<'_>,
        place: &mut Place,
        stop_after_ns: i64,
        pause_after_steps: u64,
        done_with: &dyn Fn(std::ops::Range<usize>),
        sink: &mut impl FnMut(&Event, &Arc<Tables>),
    ) -> Result<Ran> {
        let gen_no = gn.generation;
        let scale = TickScale::new(gn.tables.ns_per_tick);
        let Place {
            frontier,
            cursors,
            next_sample,
        } = place;
        let mut steps = 0u64;
        loop {
            // Taken out, read in place, then put back cleared (cheaper than popping a
            // deque): handlers only append, and only inside `try_advance`; `emit` does not
            // touch the queue.
            let queue = std::mem::take(&mut self.queue);
            let mut failed = None;
            for (ev, origin) in &queue {
                if let Err(e) = self.emit(ev, *origin, &gn.tables, sink) {
                    failed = Some(e);
                    break;
                }
            }
            self.queue = queue;
            self.queue.clear();
            if let Some(e) = failed {
                return Err(e);
            }
            if self.last_ns > stop_after_ns {
                return Ok(Ran::Stopped);
            }
            if frontier.is_empty() && *next_sample == gn.cpu_samples.len() {
                break;
            }
            if steps >= pause_after_steps && !frontier.is_empty() {
                return Ok(Ran::Paused);
            }
            steps += 1;
            if let Some(s) = gn.cpu_samples.get(*next_sample) {
                if frontier.is_empty() || s.time_ns < frontier[0].time_ns {
                    let ev = Event::of_cpu_sample(s);
                    *next_sample += 1;
                    self.emit(&ev, Origin::sample(), &gn.tables, sink)?;
                    continue;
                }
            }
            if !self.try_advance(frontier, cursors, 0, gn, scale, done_with)? {
                insertion_sort(frontier);
                let mut ok = false;
                for i in 1..frontier.len() {
                    if self.try_advance(frontier, cursors, i, gn, scale, done_with)? {
                        ok = true;
                        break;
                    }
                }
                if !ok {
                    let mut detail =
                        String::from("no thread's next event can be ordered; pending:");
                    for f in frontier.iter() {
                        let c = &cursors[f.stream];
                        detail.push_str(&format!(
                            " [M {} {} at {} ns, offset {}, args {:?}]",
                            gn.ms[f.stream].m,
                            name_of(c.ev.typ),
                            c.ev.time_ns,
                            c.ev.offset,
                            &c.ev.args[..spec(c.ev.typ).map_or(0, |s| s.args.len())]
                        ));
                    }
                    let offset = frontier
                        .first()
                        .map_or(gn.offset, |f| cursors[f.stream].ev.offset);
                    return Err(Error::broken(offset, Some(gen_no), detail));
                }
            }
        }
        Ok(Ran::Done)
    }

    /// The state at `place`, where `run` paused, for ordering the rest of the generation
    /// again later from there (`resume`).
    pub(crate) fn point(&self, gn: &Generation<'_>, place: &Place) -> Within {
        Within {
            time_ns: self.last_ns,
            state: self.snapshot(),
            place: place.clone(),
            extra_strings: gn.tables.extra_strings.clone(),
        }
    }

    /// An orderer and a place to `run` generation `gn` on from, as they were at `within`
    /// (which was saved while ordering `gn`, decoded from the same bytes).
    pub(crate) fn resume(within: &Within, gn: &mut Generation<'_>) -> (Orderer, Place) {
        if gn.tables.extra_strings != within.extra_strings {
            Arc::make_mut(&mut gn.tables).extra_strings = within.extra_strings.clone();
        }
        (within.state.snapshot(), within.place.clone())
    }

    /// Tries to take the frontier's event `i`; on success moves that cursor on, handing
    /// the batch it leaves to `done_with`.
    #[inline(always)]
    fn try_advance(
        &mut self,
        frontier: &mut Vec<Front>,
        cursors: &mut [Cursor],
        i: usize,
        gn: &mut Generation<'_>,
        scale: TickScale,
        done_with: &dyn Fn(std::ops::Range<usize>),
    ) -> Result<bool> {
        let stream = frontier[i].stream;
        let m = gn.ms[stream].m;
        let c = &mut cursors[stream];
        let mut slot = c.m_slot;
        self.stream = stream as u32;
        let advanced = self.advance(&c.ev, &mut gn.tables, m, &mut slot, gn.generation);
        c.m_slot = slot;
        match advanced {
            Ok(true) => {}
            Ok(false) => return Ok(false),
            Err(detail) => {
                let ev = &c.ev;
                return Err(Error::broken(
                    ev.offset,
                    Some(gn.generation),
                    format!("M {m}: {} at {} ns: {detail}", name_of(ev.typ), ev.time_ns),
                ));
            }
        }
        let s = &gn.ms[stream];
        let batch = c.read.batch();
        let more = c.read.next_into(s, scale, Some(gn.generation), &mut c.ev)?;
        if c.read.batch() != batch {
            if let Some(b) = s.batches.get(batch) {
                let start = b.body_offset as usize;
                done_with(start..start + b.body.len());
            }
        }
        if more {
            let time_ns = c.ev.time_ns;
            heap_replace(frontier, i, Front { time_ns, stream });
        } else {
            heap_remove(frontier, i);
        }
        Ok(true)
    }

    fn push(&mut self, ctx: Ctx, ev: &RawEvent, args: [u64; 4]) {
        let origin = Origin {
            source: self.stream,
            changed_args: Origin::changed(&ev.args, &args),
        };
        self.queue.push((
            Event {
                time_ns: ev.time_ns,
                m: ctx.m,
                p: ctx.p,
                g: ctx.g,
                args,
                typ: ev.typ,
            },
            origin,
        ));
    }

    fn push_made(&mut self, ctx: Ctx, typ: EvType, time_ns: i64, args: [u64; 4]) {
        self.queue.push((
            Event {
                time_ns,
                m: ctx.m,
                p: ctx.p,
                g: ctx.g,
                args,
                typ,
            },
            Origin::made(),
        ));
    }

    /// Checks whether `ev` from thread `m` can happen now; if so queues it (and any
    /// synthesized events) and updates the state. `Ok(false)`: not yet. `Err`: broken.
    #[inline(always)]
    fn advance(
        &mut self,
        ev: &RawEvent,
        tables: &mut Arc<Tables>,
        m: i64,
        m_slot: &mut Option<usize>,
        gn: u64,
    ) -> std::result::Result<bool, String> {
        if self.initial_gen == 0 {
            self.initial_gen = gn;
        }
        let mut cur = Ctx {
            g: NONE,
            p: NONE,
            m,
        };
        if m != NONE && m_slot.is_none() {
            if let Some((s, mut t)) = self.touch() {
                s.touch_m(&mut t, m, true);
            }
        }
        if m != NONE {
            let i = match *m_slot {
                Some(i) => i,
                None => {
                    let i = self.ms.slot(m);
                    *m_slot = Some(i);
                    i
                }
            };
            let ms = &self.ms.states[i].1;
            cur.p = ms.p;
            cur.g = ms.g;
        }
        if let Some((s, mut t)) = self.touch() {
            s.touch_for(&mut t, ev, cur);
        }
        // Each arm settles its own result, so the new context stays in registers instead of
        // passing through one merged slot (a store-forwarding stall on every event).
        macro_rules! settle {
            ($this:ident, $slot:ident, $step:expr) => {{
                match $step {
                    Ok(Some(new)) => {
                        if let Some(i) = *$slot {
                            let ms = &mut $this.ms.states[i].1;
                            ms.p = one_at_a_time(&new.p);
                            ms.g = one_at_a_time(&new.g);
                        }
                        Ok(true)
                    }
                    Ok(None) => Ok(false),
                    Err(e) => Err(e),
                }
            }};
        }
        match ev.typ {
            EV_PROCS_CHANGE | EV_GO_LABEL | EV_USER_LOG => {
                settle!(self, m_slot, self.annotation(ev, cur))
            }
            EV_PROC_START => settle!(self, m_slot, self.proc_start(ev, cur, gn)),
            EV_PROC_STOP => settle!(self, m_slot, self.proc_stop(ev, cur)),
            EV_PROC_STEAL => settle!(self, m_slot, self.proc_steal(ev, cur, gn)),
            EV_PROC_STATUS => settle!(self, m_slot, self.proc_status(ev, cur, gn)),
            EV_GO_CREATE | EV_GO_CREATE_BLOCKED => {
                settle!(self, m_slot, self.go_create(ev, cur, gn))
            }
            EV_GO_CREATE_SYSCALL => settle!(self, m_slot, self.go_create_syscall(ev, cur, gn)),
            EV_GO_START => settle!(self, m_slot, self.go_start(ev, cur, gn)),
            EV_GO_DESTROY | EV_GO_STOP | EV_GO_BLOCK => {
                settle!(self, m_slot, self.go_stop_exec(ev, cur))
            }
            EV_GO_DESTROY_SYSCALL => settle!(self, m_slot, self.go_destroy_syscall(ev, cur)),
            EV_GO_UNBLOCK => settle!(self, m_slot, self.go_unblock(ev, cur, gn)),
            EV_GO_SYSCALL_BEGIN => settle!(self, m_slot, self.go_syscall_begin(ev, cur, gn)),
            EV_GO_SYSCALL_END => settle!(self, m_slot, self.go_syscall_end(ev, cur)),
            EV_GO_SYSCALL_END_BLOCKED => {
                settle!(self, m_slot, self.go_syscall_end_blocked(ev, cur))
            }
            EV_GO_STATUS | EV_GO_STATUS_STACK => {
                settle!(self, m_slot, self.go_status(ev, cur, gn))
            }
            EV_STW_BEGIN | EV_GC_MARK_ASSIST_BEGIN => {
                settle!(self, m_slot, self.go_range_begin(ev, cur))
            }
            EV_STW_END | EV_GC_MARK_ASSIST_END => {
                settle!(self, m_slot, self.go_range_end(ev, cur))
            }
            EV_GC_MARK_ASSIST_ACTIVE => settle!(self, m_slot, self.go_range_active(ev, cur, gn)),
            EV_GC_ACTIVE => settle!(self, m_slot, self.gc_active(ev, cur, gn)),
            EV_GC_BEGIN => settle!(self, m_slot, self.gc_begin(ev, cur)),
            EV_GC_END => settle!(self, m_slot, self.gc_end(ev, cur)),
            EV_GC_SWEEP_ACTIVE => settle!(self, m_slot, self.sweep_active(ev, cur, gn)),
            EV_GC_SWEEP_BEGIN => settle!(self, m_slot, self.sweep_begin(ev, cur)),
            EV_GC_SWEEP_END => settle!(self, m_slot, self.sweep_end(ev, cur)),
            EV_HEAP_ALLOC | EV_HEAP_GOAL => settle!(
                self,
                m_slot,
                check(cur, Need::Must, Need::Must, Need::May).map(|_| {
                    self.push(cur, ev, ev.args);
                    Some(cur)
                })
            ),
            EV_USER_TASK_BEGIN => settle!(self, m_slot, self.task_begin(ev, cur, tables)),
            EV_USER_TASK_END => settle!(self, m_slot, self.task_end(ev, cur, tables)),
            EV_USER_REGION_BEGIN | EV_USER_REGION_END => {
                settle!(self, m_slot, self.region(ev, cur, tables))
            }
            EV_GO_SWITCH | EV_GO_SWITCH_DESTROY => {
                settle!(self, m_slot, self.go_switch(ev, cur, gn))
            }
            t if is_experimental(t) => settle!(
                self,
                m_slot,
                check(cur, Need::Must, Need::May, Need::May).map(|_| {
                    self.push(cur, ev, ev.args);
                    Some(cur)
                })
            ),
            t => Err(format!("bad event type found while ordering: {t}")),
        }
    }

    /// The running goroutine of the event's thread, which must exist in `want` state.
    fn current_g(
        &mut self,
        ev: &RawEvent,
        g: i64,
        want: u64,
    ) -> std::result::Result<&mut GState, String> {
        let name = name_of(ev.typ);
        let Some(s) = self.gs.get_mut(&g) else {
            return Err(format!(
                "event {name} for goroutine ({g}) that doesn't exist"
            ));
        };
        if s.status != want {
            return Err(format!(
                "{name} event for goroutine that's not {}",
                gstatus_name(want)
            ));
        }
        Ok(s)
    }

    fn annotation(&mut self, ev: &RawEvent, cur: Ctx) -> Step {
        user_go(cur)?;
        self.push(cur, ev, ev.args);
        Ok(Some(cur))
    }

    fn proc_status(&mut self, ev: &RawEvent, mut cur: Ctx, gn: u64) -> Step {
        use pstatus::*;
        let pid = ev.args[0] as i64;
        let status = ev.args[1];
        // The status the event reports; differs from `status` when an abandoned syscall
        // P turns out to be one we already know is in a syscall.
        let mut reported = status;
        let Some(mut old) = proc_state_of(status) else {
            return Err(format!("invalid status for proc {pid}: {status}"));
        };
        let initial = gn == self.initial_gen;
        match self.ps.get_mut(&pid) {
            Some(s) => {
                if status == SYSCALL_ABANDONED && s.status == SYSCALL {
                    old = state::PROC_RUNNING;
                    reported = SYSCALL;
                } else if status == SYSCALL_ABANDONED && s.status == SYSCALL_ABANDONED {
                    old = state::PROC_IDLE;
                } else if s.status != status {
                    return Err(format!(
                        "inconsistent status for proc {pid}: old {} vs. new {}",
                        pstatus_name(s.status),
                        pstatus_name(status)
                    ));
                }
                s.seq = Seq {
                    generation: gn,
                    n: 0,
                };
            }
            None => {
                self.ps.insert(
                    pid,
                    PState {
                        status,
                        seq: Seq {
                            generation: gn,
                            n: 0,
                        },
                        ranges: Ranges::default(),
                    },
                );
                old = if initial {
                    state::PROC_UNDETERMINED
                } else {
                    state::PROC_NOT_EXIST
                };
            }
        }
        let mut new = cur;
        if status == RUNNING || status == SYSCALL {
            new.p = pid;
        }
        if status == SYSCALL_ABANDONED && old == state::PROC_RUNNING {
            if let Some(spec) = self.spec.as_deref_mut() {
                // This reads every thread's state, which a speculative run can't check.
                spec.unverifiable = true;
            }
            // Emit in the context of the thread the P is bound to.
            let mut found = false;
            for &(mid, ref ms) in &self.ms.states {
                if ms.p == pid {
                    cur = Ctx {
                        m: mid,
                        p: pid,
                        g: ms.g,
                    };
                    found = true;
                }
            }
            if !found {
                return Err(format!(
                    "failed to find sched context for proc {pid} that's about to be stolen"
                ));
            }
        }
        self.push(cur, ev, [ev.args[0], reported, old, 0]);
        Ok(Some(new))
    }

    fn proc_start(&mut self, ev: &RawEvent, cur: Ctx, gn: u64) -> Step {
        let pid = ev.args[0] as i64;
        let seq = Seq {
            generation: gn,
            n: ev.args[1],
        };
        match self.ps.get(&pid) {
            Some(s) if s.status == pstatus::IDLE && seq.follows(s.seq) && cur.p == NONE => {}
            _ => return Ok(None),
        }
        check(cur, Need::Must, Need::No, Need::May)?;
        if let Some(s) = self.ps.get_mut(&pid) {
            s.status = pstatus::RUNNING;
            s.seq = seq;
        }
        self.push(cur, ev, ev.args);
        Ok(Some(Ctx { p: pid, ..cur }))
    }

    fn proc_stop(&mut self, ev: &RawEvent, cur: Ctx) -> Step {
        let Some(s) = self.ps.get_mut(&cur.p) else {
            return Err(format!(
                "event ProcStop for proc ({}) that doesn't exist",
                cur.p
            ));
        };
        if s.status != pstatus::RUNNING && s.status != pstatus::SYSCALL {
            return Err("ProcStop event for proc that's not Running or Syscall".into());
        }
        check(cur, Need::Must, Need::Must, Need::May)?;
        s.status = pstatus::IDLE;
        self.push(cur, ev, ev.args);
        Ok(Some(Ctx { p: NONE, ..cur }))
    }

    fn proc_steal(&mut self, ev: &RawEvent, cur: Ctx, gn: u64) -> Step {
        let pid = ev.args[0] as i64;
        let seq = Seq {
            generation: gn,
            n: ev.args[1],
        };
        let old = match self.ps.get(&pid) {
            Some(s)
                if (s.status == pstatus::SYSCALL || s.status == pstatus::SYSCALL_ABANDONED)
                    && seq.follows(s.seq) =>
            {
                s.status
            }
            _ => return Ok(None),
        };
        check(cur, Need::Must, Need::May, Need::May)?;
        if let Some(s) = self.ps.get_mut(&pid) {
            s.status = pstatus::IDLE;
            s.seq = seq;
        }
        let args = [ev.args[0], ev.args[1], ev.args[2], old];
        if old == pstatus::SYSCALL_ABANDONED {
            self.push(cur, ev, args);
            return Ok(Some(cur));
        }
        let victim = ev.args[2] as i64;
        if victim == cur.m {
            if cur.p != pid {
                return Err(format!(
                    "tried to self-steal proc {pid} (thread {victim}), but got proc {} instead",
                    cur.p
                ));
            }
            self.push(cur, ev, args);
            return Ok(Some(Ctx { p: NONE, ..cur }));
        }
        let Some(vm) = self.ms.get_mut(victim) else {
            return Err(format!("stole proc from non-existent thread {victim}"));
        };
        if vm.p != pid {
            return Err(format!(
                "tried to steal proc {pid} from thread {victim}, but got proc {} instead",
                vm.p
            ));
        }
        vm.p = NONE;
        self.push(cur, ev, args);
        Ok(Some(cur))
    }

    fn go_status(&mut self, ev: &RawEvent, mut cur: Ctx, gn: u64) -> Step {
        use gstatus::*;
        let gid = ev.args[0] as i64;
        let mid = ev.args[1] as i64;
        let status = ev.args[2];
        let Some(mut old) = go_state_of(status) else {
            return Err(format!("invalid status for goroutine {gid}: {status}"));
        };
        if let Some(s) = self.gs.get_mut(&gid) {
            if s.status != status {
                return Err(format!(
                    "inconsistent status for goroutine {gid}: old {} vs. new {}",
                    gstatus_name(s.status),
                    gstatus_name(status)
                ));
            }
            s.seq = Seq {
                generation: gn,
                n: 0,
            };
        } else if gn == self.initial_gen {
            self.gs.insert(
                gid,
                GState {
                    status,
                    seq: Seq {
                        generation: gn,
                        n: 0,
                    },
                    regions: Vec::new(),
                    ranges: Ranges::default(),
                },
            );
            old = state::GO_UNDETERMINED;
        } else {
            return Err(format!(
                "found goroutine status for new goroutine after the first generation: id={gid} status={}",
                gstatus_name(status)
            ));
        }
        let mut args = ev.args;
        args[2] = old << 32 | status;
        let mut new = cur;
        match status {
            RUNNING => new.g = gid,
            SYSCALL => {
                if mid == NONE {
                    return Err(format!("found goroutine {gid} in syscall without a thread"));
                }
                if mid == cur.m {
                    if gn != self.initial_gen && cur.g != gid {
                        return Err(format!(
                            "inconsistent thread for syscalling goroutine {gid}: thread has goroutine {}",
                            cur.g
                        ));
                    }
                    new.g = gid;
                } else {
                    match self.ms.get(mid) {
                        Some(ms) => {
                            if ms.g != gid {
                                return Err(format!(
                                    "inconsistent thread for syscalling goroutine {gid}: thread has goroutine {}",
                                    ms.g
                                ));
                            }
                            cur.g = ms.g;
                        }
                        None => {
                            self.ms.insert(mid, MState { g: gid, p: NONE });
                        }
                    }
                    cur.m = mid;
                }
            }
            _ => {}
        }
        self.push(cur, ev, args);
        Ok(Some(new))
    }

    fn go_create(&mut self, ev: &RawEvent, cur: Ctx, gn: u64) -> Step {
        check(cur, Need::Must, Need::Must, Need::May)?;
        if let Some(s) = self.gs.get(&cur.g) {
            if s.status != gstatus::RUNNING {
                return Err(format!(
                    "{} event for goroutine that's not Running",
                    name_of(ev.typ)
                ));
            }
        }
        let new_g = ev.args[0] as i64;
        if self.gs.contains_key(&new_g) {
            return Err(format!(
                "tried to create goroutine ({new_g}) that already exists"
            ));
        }
        let status = if ev.typ == EV_GO_CREATE_BLOCKED {
            gstatus::WAITING
        } else {
            gstatus::RUNNABLE
        };
        self.gs.insert(
            new_g,
            GState {
                status,
                seq: Seq {
                    generation: gn,
                    n: 0,
                },
                regions: Vec::new(),
                ranges: Ranges::default(),
            },
        );
        self.push(cur, ev, ev.args);
        Ok(Some(cur))
    }

    fn go_stop_exec(&mut self, ev: &RawEvent, cur: Ctx) -> Step {
        user_go(cur)?;
        let s = self.current_g(ev, cur.g, gstatus::RUNNING)?;
        match ev.typ {
            EV_GO_DESTROY => {
                self.gs.remove(&cur.g);
            }
            EV_GO_STOP => s.status = gstatus::RUNNABLE,
            _ => s.status = gstatus::WAITING,
        }
        self.push(cur, ev, ev.args);
        Ok(Some(Ctx { g: NONE, ..cur }))
    }

    fn go_start(&mut self, ev: &RawEvent, cur: Ctx, gn: u64) -> Step {
        let gid = ev.args[0] as i64;
        let seq = Seq {
            generation: gn,
            n: ev.args[1],
        };
        match self.gs.get(&gid) {
            Some(s) if s.status == gstatus::RUNNABLE && seq.follows(s.seq) => {}
            _ => return Ok(None),
        }
        check(cur, Need::Must, Need::Must, Need::No)?;
        if let Some(s) = self.gs.get_mut(&gid) {
            s.status = gstatus::RUNNING;
            s.seq = seq;
        }
        self.push(cur, ev, ev.args);
        Ok(Some(Ctx { g: gid, ..cur }))
    }

    fn go_unblock(&mut self, ev: &RawEvent, cur: Ctx, gn: u64) -> Step {
        let gid = ev.args[0] as i64;
        let seq = Seq {
            generation: gn,
            n: ev.args[1],
        };
        match self.gs.get_mut(&gid) {
            Some(s) if s.status == gstatus::WAITING && seq.follows(s.seq) => {
                s.status = gstatus::RUNNABLE;
                s.seq = seq;
            }
            _ => return Ok(None),
        }
        self.push(cur, ev, ev.args);
        Ok(Some(cur))
    }

    fn go_switch(&mut self, ev: &RawEvent, cur: Ctx, gn: u64) -> Step {
        user_go(cur)?;
        self.current_g(ev, cur.g, gstatus::RUNNING)?;
        let next = ev.args[0] as i64;
        let seq = Seq {
            generation: gn,
            n: ev.args[1],
        };
        match self.gs.get(&next) {
            Some(s) if s.status == gstatus::WAITING && seq.follows(s.seq) => {}
            _ => return Ok(None),
        }
        self.push(cur, ev, ev.args);
        if ev.typ == EV_GO_SWITCH {
            if let Some(s) = self.gs.get_mut(&cur.g) {
                s.status = gstatus::WAITING;
            }
            self.push_made(cur, EV_GO_BLOCK, ev.time_ns, [0; 4]);
        } else {
            self.gs.remove(&cur.g);
            self.push_made(cur, EV_GO_DESTROY, ev.time_ns, [0; 4]);
        }
        if let Some(s) = self.gs.get_mut(&next) {
            s.status = gstatus::RUNNING;
            s.seq = seq;
        }
        self.push_made(
            Ctx { g: NONE, ..cur },
            EV_GO_START,
            ev.time_ns,
            [next as u64, ev.args[1], 0, 0],
        );
        Ok(Some(Ctx { g: next, ..cur }))
    }

    fn go_syscall_begin(&mut self, ev: &RawEvent, cur: Ctx, gn: u64) -> Step {
        user_go(cur)?;
        let s = self.current_g(ev, cur.g, gstatus::RUNNING)?;
        s.status = gstatus::SYSCALL;
        let Some(p) = self.ps.get_mut(&cur.p) else {
            return Err(format!(
                "uninitialized proc {} found during GoSyscallBegin",
                cur.p
            ));
        };
        p.status = pstatus::SYSCALL;
        let pseq = Seq {
            generation: gn,
            n: ev.args[0],
        };
        if !pseq.follows(p.seq) {
            return Err(format!(
                "failed to advance GoSyscallBegin: can't make sequence: {} (gen={}) -> {} (gen={})",
                p.seq.n, p.seq.generation, pseq.n, pseq.generation
            ));
        }
        p.seq = pseq;
        self.push(cur, ev, ev.args);
        Ok(Some(cur))
    }

    fn go_syscall_end(&mut self, ev: &RawEvent, cur: Ctx) -> Step {
        user_go(cur)?;
        let s = self.current_g(ev, cur.g, gstatus::SYSCALL)?;
        s.status = gstatus::RUNNING;
        let Some(p) = self.ps.get_mut(&cur.p) else {
            return Err(format!(
                "uninitialized proc {} found during GoSyscallEnd",
                cur.p
            ));
        };
        if p.status != pstatus::SYSCALL {
            return Err(format!(
                "expected proc {} in state Syscall, but got {} instead",
                cur.p,
                pstatus_name(p.status)
            ));
        }
        p.status = pstatus::RUNNING;
        self.push(cur, ev, ev.args);
        Ok(Some(cur))
    }

    fn go_syscall_end_blocked(&mut self, ev: &RawEvent, cur: Ctx) -> Step {
        if cur.p != NONE {
            match self.ps.get(&cur.p) {
                None => {
                    return Err(format!(
                        "uninitialized proc {} found during GoSyscallEndBlocked",
                        cur.p
                    ));
                }
                Some(p) if p.status == pstatus::SYSCALL => return Ok(None),
                _ => {}
            }
        }
        check(cur, Need::Must, Need::May, Need::Must)?;
        let s = self.current_g(ev, cur.g, gstatus::SYSCALL)?;
        s.status = gstatus::RUNNABLE;
        self.push(cur, ev, ev.args);
        Ok(Some(Ctx { g: NONE, ..cur }))
    }

    fn go_create_syscall(&mut self, ev: &RawEvent, cur: Ctx, gn: u64) -> Step {
        check(cur, Need::Must, Need::May, Need::No)?;
        let new_g = ev.args[0] as i64;
        if self.gs.contains_key(&new_g) {
            return Err(format!(
                "tried to create goroutine ({new_g}) in syscall that already exists"
            ));
        }
        self.gs.insert(
            new_g,
            GState {
                status: gstatus::SYSCALL,
                seq: Seq {
                    generation: gn,
                    n: 0,
                },
                regions: Vec::new(),
                ranges: Ranges::default(),
            },
        );
        self.push(cur, ev, ev.args);
        Ok(Some(Ctx { g: new_g, ..cur }))
    }

    fn go_destroy_syscall(&mut self, ev: &RawEvent, cur: Ctx) -> Step {
        check(cur, Need::Must, Need::May, Need::Must)?;
        self.current_g(ev, cur.g, gstatus::SYSCALL)?;
        self.gs.remove(&cur.g);
        let mut new = Ctx { g: NONE, ..cur };
        if cur.p != NONE {
            let Some(p) = self.ps.get_mut(&cur.p) else {
                return Err(format!(
                    "found invalid proc {} during GoDestroySyscall",
                    cur.p
                ));
            };
            if p.status != pstatus::SYSCALL {
                return Err(format!(
                    "proc {} in unexpected state {} during GoDestroySyscall",
                    cur.p,
                    pstatus_name(p.status)
                ));
            }
            p.status = pstatus::SYSCALL_ABANDONED;
            new.p = NONE;
            self.push_made(
                cur,
                EV_PROC_STEAL,
                ev.time_ns,
                [cur.p as u64, 0, 0, pstatus::SYSCALL],
            );
        }
        self.push(cur, ev, ev.args);
        Ok(Some(new))
    }

    fn task_begin(&mut self, ev: &RawEvent, cur: Ctx, tables: &Tables) -> Step {
        let id = ev.args[0];
        if self.tasks.contains_key(&id) {
            return Err(format!("task ID conflict: {id}"));
        }
        let mut args = ev.args;
        if args[1] == 0 {
            args[1] = NO_TASK;
        }
        let Some(name) = tables.string(args[2]) else {
            return Err(format!(
                "invalid string ID {} for UserTaskBegin event",
                args[2]
            ));
        };
        self.tasks.insert(id, (name.into(), args[1]));
        user_go(cur)?;
        self.push(cur, ev, args);
        Ok(Some(cur))
    }

    fn task_end(&mut self, ev: &RawEvent, cur: Ctx, tables: &mut Arc<Tables>) -> Step {
        let mut args = ev.args;
        match self.tasks.remove(&ev.args[0]) {
            Some((name, parent)) => {
                args[2] = parent;
                args[3] = add_extra_string(tables, &name);
            }
            None => {
                args[2] = NO_TASK;
                args[3] = 0;
            }
        }
        user_go(cur)?;
        self.push(cur, ev, args);
        Ok(Some(cur))
    }

    fn region(&mut self, ev: &RawEvent, cur: Ctx, tables: &Tables) -> Step {
        user_go(cur)?;
        let task = ev.args[0];
        let Some(name) = tables.string(ev.args[1]) else {
            return Err(format!(
                "invalid string ID {} for {} event",
                ev.args[1],
                name_of(ev.typ)
            ));
        };
        let Some(g) = self.gs.get_mut(&cur.g) else {
            return Err(format!(
                "{} without known state for current goroutine {}",
                name_of(ev.typ),
                cur.g
            ));
        };
        if ev.typ == EV_USER_REGION_BEGIN {
            g.regions.push((task, name.into()));
        } else if let Some((t, n)) = g.regions.last() {
            if *t != task || &**n != name {
                return Err(format!(
                    "misuse of region in goroutine {}: region end {{{task} {name}}} when the inner-most active region start event is {{{t} {n}}}",
                    cur.g
                ));
            }
            g.regions.pop();
        }
        self.push(cur, ev, ev.args);
        Ok(Some(cur))
    }

    fn gc_active(&mut self, ev: &RawEvent, cur: Ctx, gn: u64) -> Step {
        let seq = ev.args[0];
        if gn == self.initial_gen {
            if self.gc_state != GcState::Undetermined {
                return Err("GCActive in the first generation isn't first GC event".into());
            }
            self.gc_seq = seq;
            self.gc_state = GcState::Running;
            self.push(cur, ev, ev.args);
            return Ok(Some(cur));
        }
        if seq != self.gc_seq.wrapping_add(1) {
            return Ok(None);
        }
        if self.gc_state != GcState::Running {
            return Err("encountered GCActive while GC was not in progress".into());
        }
        self.gc_seq = seq;
        user_go(cur)?;
        self.push(cur, ev, ev.args);
        Ok(Some(cur))
    }

    fn gc_begin(&mut self, ev: &RawEvent, cur: Ctx) -> Step {
        let seq = ev.args[0];
        if self.gc_state == GcState::Undetermined {
            self.gc_seq = seq;
            self.gc_state = GcState::Running;
            self.push(cur, ev, ev.args);
            return Ok(Some(cur));
        }
        if seq != self.gc_seq.wrapping_add(1) {
            return Ok(None);
        }
        if self.gc_state == GcState::Running {
            return Err("encountered GCBegin while GC was already in progress".into());
        }
        self.gc_seq = seq;
        self.gc_state = GcState::Running;
        user_go(cur)?;
        self.push(cur, ev, ev.args);
        Ok(Some(cur))
    }

    fn gc_end(&mut self, ev: &RawEvent, cur: Ctx) -> Step {
        let seq = ev.args[0];
        if seq != self.gc_seq.wrapping_add(1) {
            return Ok(None);
        }
        match self.gc_state {
            GcState::NotRunning => {
                return Err("encountered GCEnd when GC was not in progress".into());
            }
            GcState::Undetermined => {
                return Err("encountered GCEnd when GC was in an undetermined state".into());
            }
            GcState::Running => {}
        }
        self.gc_seq = seq;
        self.gc_state = GcState::NotRunning;
        user_go(cur)?;
        self.push(cur, ev, ev.args);
        Ok(Some(cur))
    }

    fn sweep_begin(&mut self, ev: &RawEvent, cur: Ctx) -> Step {
        check(cur, Need::Must, Need::Must, Need::May)?;
        let Some(p) = self.ps.get_mut(&cur.p) else {
            return Err(format!("GCSweepBegin on unknown proc {}", cur.p));
        };
        p.ranges.begin(range_key(ev.typ, 0))?;
        self.push(cur, ev, ev.args);
        Ok(Some(cur))
    }

    fn sweep_active(&mut self, ev: &RawEvent, cur: Ctx, gn: u64) -> Step {
        let pid = ev.args[0] as i64;
        let first = gn == self.initial_gen;
        let Some(p) = self.ps.get_mut(&pid) else {
            return Err(format!("encountered GCSweepActive for unknown proc {pid}"));
        };
        p.ranges.active(range_key(ev.typ, 0), first)?;
        self.push(cur, ev, ev.args);
        Ok(Some(cur))
    }

    fn sweep_end(&mut self, ev: &RawEvent, cur: Ctx) -> Step {
        check(cur, Need::Must, Need::Must, Need::May)?;
        let Some(p) = self.ps.get_mut(&cur.p) else {
            return Err(format!("GCSweepEnd on unknown proc {}", cur.p));
        };
        p.ranges.end(ev.typ)?;
        self.push(cur, ev, ev.args);
        Ok(Some(cur))
    }

    fn go_range_begin(&mut self, ev: &RawEvent, cur: Ctx) -> Step {
        user_go(cur)?;
        let desc = if ev.typ == EV_STW_BEGIN {
            ev.args[0]
        } else {
            0
        };
        let Some(g) = self.gs.get_mut(&cur.g) else {
            return Err(format!(
                "encountered event of type {} without known state for current goroutine {}",
                ev.typ, cur.g
            ));
        };
        g.ranges.begin(range_key(ev.typ, desc))?;
        self.push(cur, ev, ev.args);
        Ok(Some(cur))
    }

    fn go_range_active(&mut self, ev: &RawEvent, cur: Ctx, gn: u64) -> Step {
        let gid = ev.args[0] as i64;
        let first = gn == self.initial_gen;
        let Some(g) = self.gs.get_mut(&gid) else {
            return Err(format!(
                "uninitialized goroutine {gid} found during {}",
                name_of(ev.typ)
            ));
        };
        g.ranges.active(range_key(ev.typ, 0), first)?;
        self.push(cur, ev, ev.args);
        Ok(Some(cur))
    }

    fn go_range_end(&mut self, ev: &RawEvent, cur: Ctx) -> Step {
        user_go(cur)?;
        let Some(g) = self.gs.get_mut(&cur.g) else {
            return Err(format!(
                "encountered event of type {} without known state for current goroutine {}",
                ev.typ, cur.g
            ));
        };
        let desc = g.ranges.end(ev.typ)?;
        let mut args = ev.args;
        if ev.typ == EV_STW_END {
            args[0] = desc;
        }
        self.push(cur, ev, args);
        Ok(Some(cur))
    }
}

/// Adds a string to the generation's tables, copying them first only if a consumer still
/// holds the previous version (the pipelined reader hands tables to another thread).
fn add_extra_string(tables: &mut Arc<Tables>, s: &str) -> u64 {
    if s.is_empty() {
        return 0;
    }
    if let Some(i) = tables.extra_strings.iter().position(|x| &**x == s) {
        return i as u64 + 1;
    }
    Arc::make_mut(tables).add_extra_string(s)
}

fn proc_state_of(status: u64) -> Option<u64> {
    use pstatus::*;
    match status {
        RUNNING | SYSCALL => Some(state::PROC_RUNNING),
        IDLE | SYSCALL_ABANDONED => Some(state::PROC_IDLE),
        BAD => Some(state::PROC_UNDETERMINED),
        _ => None,
    }
}

fn go_state_of(status: u64) -> Option<u64> {
    use gstatus::*;
    match status {
        RUNNABLE => Some(state::GO_RUNNABLE),
        RUNNING => Some(state::GO_RUNNING),
        WAITING => Some(state::GO_WAITING),
        SYSCALL => Some(state::GO_SYSCALL),
        BAD => Some(state::GO_UNDETERMINED),
        _ => None,
    }
}

fn pstatus_name(s: u64) -> &'static str {
    match s {
        pstatus::RUNNING => "Running",
        pstatus::IDLE => "Idle",
        pstatus::SYSCALL => "Syscall",
        pstatus::SYSCALL_ABANDONED => "SyscallAbandoned",
        _ => "Bad",
    }
}

fn gstatus_name(s: u64) -> &'static str {
    match s {
        gstatus::RUNNABLE => "Runnable",
        gstatus::RUNNING => "Running",
        gstatus::SYSCALL => "Syscall",
        gstatus::WAITING => "Waiting",
        _ => "Bad",
    }
}

impl Timed for Front {
    #[inline(always)]
    fn time_ns(&self) -> i64 {
        self.time_ns
    }
}

/// Reads `*x` on its own. A handler that returns its step through memory has just stored
/// the new context's fields one at a time; copied together, in one wider load, they would
/// wait for those stores to retire (a store-forwarding stall on most events).
#[inline(always)]
fn one_at_a_time(x: &i64) -> i64 {
    // SAFETY: `x` is a reference, so valid, aligned and initialized for the read; a
    // volatile read only keeps the compiler from merging it with its neighbours.
    unsafe { std::ptr::read_volatile(x) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generation::IdTable;

    /// What `emit` makes of `ev` against tables that define stack 5 and no string.
    fn emitted(typ: EvType, args: [u64; 4]) -> std::result::Result<usize, String> {
        let tables = Arc::new(Tables {
            generation: 1,
            stacks: IdTable::build(vec![(5, (0, 0))]).expect("one stack"),
            ..Tables::default()
        });
        let ev = Event {
            time_ns: 1,
            m: 1,
            p: 0,
            g: 1,
            args,
            typ,
        };
        let mut sent = 0;
        Orderer::new()
            .emit(&ev, Origin::made(), &tables, &mut |_, _| sent += 1)
            .map(|()| sent)
            .map_err(|e| e.to_string())
    }

    /// Ids are checked in the order of the type's spec: its own stack, its other stacks,
    /// then its strings; the first undefined one is named.
    #[test]
    fn the_first_undefined_id_in_spec_order_is_named() {
        // GoCreate's arguments: new_g, new_stack, stack. Its own stack is argument 2.
        assert_eq!(emitted(EV_GO_CREATE, [9, 5, 5, 0]), Ok(1));
        let both = emitted(EV_GO_CREATE, [9, 7, 8, 0]).unwrap_err();
        assert!(
            both.contains("found invalid stack ID 8 for event GoCreate"),
            "{both}"
        );
        let other = emitted(EV_GO_CREATE, [9, 7, 5, 0]).unwrap_err();
        assert!(
            other.contains("found invalid stack ID 7 for event GoCreate"),
            "{other}"
        );
        // GoBlock's arguments: reason_string, stack. Stacks come before strings.
        let both = emitted(EV_GO_BLOCK, [3, 8, 0, 0]).unwrap_err();
        assert!(
            both.contains("found invalid stack ID 8 for event GoBlock"),
            "{both}"
        );
        let string = emitted(EV_GO_BLOCK, [3, 5, 0, 0]).unwrap_err();
        assert!(
            string.contains("found invalid string ID 3 for event GoBlock"),
            "{string}"
        );
        // String id 0 and stack id 0 are always defined.
        assert_eq!(emitted(EV_GO_BLOCK, [0, 0, 0, 0]), Ok(1));
        let unknown = emitted(250, [0; 4]).unwrap_err();
        assert!(unknown.contains("unknown event type"), "{unknown}");
    }
}
