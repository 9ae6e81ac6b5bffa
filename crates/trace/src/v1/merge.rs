//! Merges the per-P batches of a v1 trace into one stream as Go's reader does (the earliest event whose goroutine is in the state it needs), then, event by event as they come: syscall-exit times, the stream back in time order, ns, fake Ps and the consistency checks.
//!
//! Ordering rules (facts of the v1 format): each P's events are in program order. Events
//! that change a goroutine's state carry (or imply) its sequence number; an event is ready
//! when its goroutine has the status and sequence it needs. Of the ready events at the
//! head of every P, the one with the smallest tick time goes next. The "local" variants
//! (start, unblock, syscall exit on the same P) need no sequence number and add one.
//!
//! Go then sorts the whole merged stream by time, stably, once syscall exits have their
//! real time. Here each event goes out as soon as it is certain to be in its place
//! (`Reorder`): the merged events' own times never go down (else Go rejects the trace),
//! so only an exit moved back to its real time lands among events merged before it; the
//! index pass lists every exit's real time, so nothing still to come is earlier than the
//! smaller of the last merged event's time and the earliest real time among the exits not
//! merged yet (`Times::floor_ticks`). What is not later than that goes, ties in merge
//! order, which is the stable sort's order.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::decode::{Index, ProcCursor, V1Event, fake_p};
use super::wire::{DESCS, ev, is_block};
use crate::error::{Error, Result};
use crate::order::frontier::{Timed, heap_push, heap_remove};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Status {
    #[default]
    Dead,
    Runnable,
    Running,
    Waiting,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct GState {
    seq: u64,
    status: Status,
}

/// What an event needs of its goroutine and what it leaves.
enum Need {
    /// No ordering constraint.
    Free,
    /// `(goroutine, needed, after)`; a `seq` of `ANY` needs no sequence number, and as
    /// `after` keeps the current one; `PLUS_ONE` as `after` adds one to it.
    G(u64, GState, GState),
}

const ANY: u64 = u64::MAX;
const PLUS_ONE: u64 = u64::MAX - 1;
/// The pseudo goroutine that carries the GC sequence.
const GC_SEQ: u64 = u64::MAX - 1;

fn st(seq: u64, status: Status) -> GState {
    GState { seq, status }
}

fn need(e: &V1Event) -> Need {
    use Status::*;
    match e.typ() {
        ev::GO_CREATE => Need::G(e.args[0], st(0, Dead), st(1, Runnable)),
        ev::GO_WAITING | ev::GO_IN_SYSCALL => Need::G(e.g, st(1, Runnable), st(2, Waiting)),
        ev::GO_START | ev::GO_START_LABEL => Need::G(
            e.g,
            st(e.args[1], Runnable),
            st(e.args[1].wrapping_add(1), Running),
        ),
        ev::GO_START_LOCAL => Need::G(e.g, st(ANY, Runnable), st(PLUS_ONE, Running)),
        t if is_block(t) || t == ev::GO_SYS_BLOCK => {
            Need::G(e.g, st(ANY, Running), st(ANY, Waiting))
        }
        ev::GO_SCHED | ev::GO_PREEMPT => Need::G(e.g, st(ANY, Running), st(ANY, Runnable)),
        ev::GO_UNBLOCK | ev::GO_SYS_EXIT => Need::G(
            e.args[0],
            st(e.args[1], Waiting),
            st(e.args[1].wrapping_add(1), Runnable),
        ),
        ev::GO_UNBLOCK_LOCAL | ev::GO_SYS_EXIT_LOCAL => {
            Need::G(e.args[0], st(ANY, Waiting), st(PLUS_ONE, Runnable))
        }
        ev::GC_START => Need::G(
            GC_SEQ,
            st(e.args[0], Dead),
            st(e.args[0].wrapping_add(1), Dead),
        ),
        _ => Need::Free,
    }
}

fn ready(cur: GState, want: GState) -> bool {
    (want.seq == ANY || want.seq == cur.seq) && want.status == cur.status
}

/// A P's head event in the frontier: its time and the P's index. The event itself waits at
/// the head of its P's pending events. The heap is the v2 frontier's, whose sift rules are
/// Go's, so events of equal time leave it in the same order as from Go's reader.
#[derive(Clone, Copy)]
struct Head(i64, usize);

impl Timed for Head {
    fn time_ns(&self) -> i64 {
        self.0
    }
}

struct Proc {
    cursor: Option<ProcCursor>,
    /// The loaded batch's events; those from `next` on are not merged yet.
    pending: Vec<V1Event>,
    next: usize,
    done: bool,
}

impl Proc {
    fn head(&self) -> Option<&V1Event> {
        self.pending.get(self.next)
    }
}

/// What one step of the merge gives.
pub enum Step {
    /// The next event in Go's order (times still in ticks, as written).
    Event(V1Event),
    /// Every event is merged.
    Done,
    /// Not every event could be merged: why (once; `Done` follows).
    Stopped(Error),
}

/// Go's merge of every P's batches (and the CPU samples), one event at a time. Each P's
/// batches are decoded when the merge reaches them, so only the batch at the head of each
/// P is held.
pub struct Merger<'a> {
    data: &'a [u8],
    version: u32,
    end: usize,
    procs: Vec<Proc>,
    gs: GStates,
    frontier: Vec<Head>,
    available: Vec<usize>,
    buf: Vec<V1Event>,
    merged: u64,
    finished: bool,
}

/// The merge's goroutine states: goroutine ids are small and dense in traces the runtime
/// writes, so a vector indexed by id holds them, with a map for the others.
#[derive(Default)]
struct GStates {
    dense: Vec<GState>,
    sparse: HashMap<u64, GState>,
}

/// Goroutine ids below this are kept in `GStates::dense`.
const DENSE_GS: u64 = 1 << 20;

impl GStates {
    #[inline]
    fn get(&self, g: u64) -> GState {
        if g < DENSE_GS {
            self.dense.get(g as usize).copied().unwrap_or_default()
        } else {
            self.sparse.get(&g).copied().unwrap_or_default()
        }
    }

    #[inline]
    fn set(&mut self, g: u64, s: GState) {
        if g < DENSE_GS {
            let i = g as usize;
            if i >= self.dense.len() {
                self.dense.resize(i + 1, GState::default());
            }
            self.dense[i] = s;
        } else {
            self.sparse.insert(g, s);
        }
    }
}

impl<'a> Merger<'a> {
    /// A merge of the batches and CPU samples `ix` found (taken out of it).
    pub fn new(data: &'a [u8], ix: &mut Index, version: u32) -> Self {
        let mut procs: Vec<Proc> = std::mem::take(&mut ix.procs)
            .into_iter()
            .map(|(p, b)| Proc {
                cursor: Some(ProcCursor::new(p, b)),
                pending: Vec::new(),
                next: 0,
                done: false,
            })
            .collect();
        procs.push(Proc {
            cursor: None,
            pending: std::mem::take(&mut ix.cpu_samples),
            next: 0,
            done: false,
        });
        let available = (0..procs.len()).collect();
        Merger {
            data,
            version,
            end: ix.end,
            procs,
            gs: GStates::default(),
            frontier: Vec::new(),
            available,
            buf: Vec::new(),
            merged: 0,
            finished: false,
        }
    }

    /// Events merged so far.
    pub fn merged(&self) -> u64 {
        self.merged
    }

    /// The next event in Go's order.
    pub fn next(&mut self) -> Step {
        if self.finished {
            return Step::Done;
        }
        match self.step() {
            Ok(Some(e)) => Step::Event(e),
            Ok(None) => {
                self.finished = true;
                Step::Done
            }
            Err(e) => {
                self.finished = true;
                Step::Stopped(e)
            }
        }
    }

    fn step(&mut self) -> Result<Option<V1Event>> {
        // Every P not in the frontier offers its head event if its goroutine is ready for it.
        let mut i = 0;
        while i < self.available.len() {
            let pi = self.available[i];
            let proc = &mut self.procs[pi];
            while proc.head().is_none() && !proc.done {
                let loaded = match &mut proc.cursor {
                    Some(c) => c.next_batch(self.data, self.end, self.version, &mut self.buf)?,
                    None => false,
                };
                if loaded {
                    std::mem::swap(&mut proc.pending, &mut self.buf);
                    proc.next = 0;
                } else {
                    proc.done = true;
                }
            }
            let Some(e) = proc.head() else {
                self.available.swap_remove(i);
                continue;
            };
            if let Need::G(g, want, _) = need(e) {
                if !ready(self.gs.get(g), want) {
                    i += 1;
                    continue;
                }
            }
            let ts = e.ts;
            self.available.swap_remove(i);
            heap_push(&mut self.frontier, Head(ts, pi));
        }
        let Some(&Head(_, pi)) = self.frontier.first() else {
            if self.procs.iter().any(|p| p.head().is_some()) {
                let at = self
                    .procs
                    .iter()
                    .filter_map(|p| p.head())
                    .map(|e| format!("{} of g {} on p {}", DESCS[e.typ() as usize].name, e.g, e.p))
                    .take(4)
                    .collect::<Vec<_>>()
                    .join(", ");
                let off = self
                    .procs
                    .iter()
                    .filter_map(|p| p.head())
                    .map(|e| e.offset())
                    .min()
                    .unwrap_or(self.end as u64);
                return Err(Error::broken(
                    off,
                    None,
                    format!("no consistent ordering of events possible (waiting: {at})"),
                ));
            }
            return Ok(None);
        };
        heap_remove(&mut self.frontier, 0);
        // The P's head event, left there when its time went into the frontier.
        let proc = &mut self.procs[pi];
        let Some(&e) = proc.head() else {
            return Ok(None);
        };
        proc.next += 1;
        let mut e = e;
        if let Need::G(g, want, mut after) = need(&e) {
            let cur = self.gs.get(g);
            if !ready(cur, want) {
                return Err(Error::broken(
                    e.offset(),
                    None,
                    format!("impossible state transition of goroutine {g}"),
                ));
            }
            if after.seq == ANY {
                after.seq = cur.seq;
            } else if after.seq == PLUS_ONE {
                after.seq = cur.seq.wrapping_add(1);
            }
            self.gs.set(g, after);
        }
        match e.typ() {
            ev::GO_START_LOCAL => e.set_typ(ev::GO_START),
            ev::GO_UNBLOCK_LOCAL => e.set_typ(ev::GO_UNBLOCK),
            ev::GO_SYS_EXIT_LOCAL => e.set_typ(ev::GO_SYS_EXIT),
            _ => {}
        }
        self.available.push(pi);
        self.merged += 1;
        Ok(Some(e))
    }
}

/// The first pass over the merged events, as they come: checks their times are in order,
/// gives syscall exits their real time, and knows how early any event still to come can
/// be once exits have moved (`floor_ticks`). Go's verdict on times it rejects is kept, not
/// acted on: the merge goes on to its end, whose own failure Go reports first.
pub struct Times {
    last_ticks: Option<i64>,
    last_block: HashMap<u64, i64>,
    /// Real exit times of the exits not merged yet, ascending (`Index::exit_ticks`), from
    /// `exits_next` on; those merged out of turn wait in `exits_gone`.
    exits: Vec<i64>,
    exits_next: usize,
    exits_gone: BinaryHeap<Reverse<i64>>,
    /// The first time out of order (which Go reports before any exit's error).
    pub order_error: Option<Error>,
    /// The first syscall exit Go rejects.
    pub exit_error: Option<Error>,
}

impl Times {
    /// The pass for a trace whose syscall exits state the real times `exit_ticks` (ascending).
    pub fn new(exit_ticks: Vec<i64>) -> Self {
        Times {
            last_ticks: None,
            last_block: HashMap::default(),
            exits: exit_ticks,
            exits_next: 0,
            exits_gone: BinaryHeap::new(),
            order_error: None,
            exit_error: None,
        }
    }

    /// Whether Go rejects the times seen so far.
    pub fn failed(&self) -> bool {
        self.order_error.is_some() || self.exit_error.is_some()
    }

    /// Takes the next merged event; gives a syscall exit its real time.
    #[inline]
    pub fn take(&mut self, e: &mut V1Event) {
        if let Some(last) = self.last_ticks {
            if e.ts < last && self.order_error.is_none() {
                self.order_error =
                    Some(Error::broken(e.offset(), None, "time stamps out of order"));
            }
        }
        self.last_ticks = Some(e.ts);
        match e.typ() {
            ev::GO_SYS_BLOCK | ev::GO_IN_SYSCALL => {
                self.last_block.insert(e.g, e.ts);
            }
            ev::GO_SYS_EXIT => {
                let ts = e.args[2] as i64;
                if ts == 0 {
                    return;
                }
                self.exit_merged(ts);
                let block = self.last_block.get(&e.g).copied().unwrap_or(0);
                if self.exit_error.is_none() {
                    if block == 0 {
                        self.exit_error =
                            Some(Error::broken(e.offset(), None, "stray syscall exit"));
                    } else if ts < block {
                        self.exit_error =
                            Some(Error::broken(e.offset(), None, "time stamps out of order"));
                    }
                }
                e.ts = ts;
            }
            _ => {}
        }
    }

    fn exit_merged(&mut self, ts: i64) {
        self.exits_gone.push(Reverse(ts));
        while let (Some(&next), Some(&Reverse(gone))) =
            (self.exits.get(self.exits_next), self.exits_gone.peek())
        {
            if next != gone {
                break;
            }
            self.exits_next += 1;
            self.exits_gone.pop();
        }
    }

    /// No event still to come (of a trace whose times Go accepts) is earlier than this:
    /// events after the last one taken are not earlier than it, and exits take their real
    /// times, which the index pass has listed.
    pub fn floor_ticks(&self) -> i64 {
        let last = self.last_ticks.unwrap_or(i64::MIN);
        match self.exits.get(self.exits_next) {
            Some(&exit) => last.min(exit),
            None => last,
        }
    }
}

/// The merged events put in order of time once more (syscall exits moved back to their
/// real time), as a stable sort of the whole stream would: an event goes out once no event
/// still to come can be earlier (`Times::floor_ticks`). Events come in time order but for
/// moved exits, so those alone wait in a heap beside the queue.
#[derive(Default)]
pub struct Reorder {
    queue: VecDeque<V1Event>,
    /// Events ever put in `queue`, and taken out of it.
    queued: u64,
    dequeued: u64,
    /// Exits earlier than the queue's last event: (ticks, events queued before it, merge
    /// index) as the key, and the event.
    moved: BinaryHeap<Reverse<Moved>>,
    taken: u64,
}

/// A moved syscall exit waiting in `Reorder`, ordered by its time, then its place in the
/// merge.
#[derive(Clone, Copy, Debug)]
struct Moved {
    ts: i64,
    queued_before: u64,
    index: u64,
    event: V1Event,
}

impl Moved {
    fn key(&self) -> (i64, u64) {
        (self.ts, self.index)
    }
}

impl PartialEq for Moved {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl Eq for Moved {}
impl PartialOrd for Moved {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Moved {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

impl Reorder {
    /// Takes the next event of the merge (after `Times::take`).
    #[inline]
    pub fn push(&mut self, e: V1Event) {
        let index = self.taken;
        self.taken += 1;
        if self.queue.back().is_none_or(|b| b.ts <= e.ts) {
            self.queue.push_back(e);
            self.queued += 1;
        } else {
            self.moved.push(Reverse(Moved {
                ts: e.ts,
                queued_before: self.queued,
                index,
                event: e,
            }));
        }
    }

    /// The next event in time order not later than `floor` (all of them: `i64::MAX`).
    #[inline]
    pub fn pop(&mut self, floor: i64) -> Option<V1Event> {
        let head = self.queue.front().map(|e| e.ts);
        let moved = self.moved.peek().map(|m| (m.0.ts, m.0.queued_before));
        let from_moved = match (head, moved) {
            (None, None) => return None,
            (Some(_), None) => false,
            (None, Some(_)) => true,
            // Equal times go in merge order: the exit first unless the head came after it.
            (Some(h), Some((m, before))) => m < h || (m == h && before <= self.dequeued),
        };
        if from_moved {
            let ts = moved.map_or(i64::MAX, |m| m.0);
            if ts > floor {
                return None;
            }
            self.moved.pop().map(|m| m.0.event)
        } else {
            if head.is_none_or(|h| h > floor) {
                return None;
            }
            self.dequeued += 1;
            self.queue.pop_front()
        }
    }
}

/// Ticks to ns since the first event, and the fake Ps of timer unblocks and syscall exits,
/// as Go sets them once the events are in order.
pub struct Clock<'t> {
    first_ticks: Option<i64>,
    ns_per_tick: f64,
    timer_goroutines: &'t HashSet<u64>,
}

impl<'t> Clock<'t> {
    /// The clock of a trace of `ticks_per_sec`.
    pub fn new(ticks_per_sec: i64, timer_goroutines: &'t HashSet<u64>) -> Self {
        Clock {
            first_ticks: None,
            ns_per_tick: 1e9 / ticks_per_sec as f64,
            timer_goroutines,
        }
    }

    /// Sets the next event's time (ns) and fake P.
    #[inline]
    pub fn apply(&mut self, e: &mut V1Event) {
        let first = *self.first_ticks.get_or_insert(e.ts);
        e.ts = f64_to_i64(e.ts.wrapping_sub(first) as f64 * self.ns_per_tick);
        if e.typ() == ev::GO_UNBLOCK
            && !self.timer_goroutines.is_empty()
            && self.timer_goroutines.contains(&e.g)
        {
            e.p = fake_p::TIMER;
        }
        if e.typ() == ev::GO_SYS_EXIT {
            e.p = fake_p::SYSCALL;
        }
    }
}

/// A float64 → int64 conversion as Go does it on amd64 (out of range: i64::MIN).
fn f64_to_i64(x: f64) -> i64 {
    if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&x) {
        x as i64
    } else {
        i64::MIN
    }
}

/// Go's consistency checks over the events in time order, one at a time (a P runs one
/// goroutine at a time, a goroutine is blocked before it is unblocked, …); they also give
/// GC begins the GC's fake P, network unblocks the netpoller's, and drop stack ids that
/// name no stack.
pub struct Checker {
    gs: ByG<G>,
    ps: ByP<P>,
    tasks: HashSet<u64>,
    regions: HashMap<u64, Vec<(u64, u64)>>,
    in_gc: bool,
    in_stw: bool,
}

#[derive(Clone, Copy, Default)]
struct G {
    status: Status,
    blocked_on_net: bool,
    created_stack: Option<u64>,
}

#[derive(Clone, Copy, Default)]
struct P {
    running: bool,
    g: u64,
    sweeping: bool,
}

/// A map from goroutine or P id: a vector for ids below `N` (the runtime gives small,
/// dense ids), a hash map for the others.
pub(super) struct Dense<V, const N: u64> {
    dense: Vec<Option<V>>,
    sparse: HashMap<u64, V>,
}

impl<V: Copy + Default, const N: u64> Dense<V, N> {
    pub(super) fn new() -> Self {
        Dense {
            dense: Vec::new(),
            sparse: HashMap::default(),
        }
    }

    #[inline]
    pub(super) fn get(&self, k: u64) -> Option<&V> {
        if k < N {
            self.dense.get(k as usize).and_then(|v| v.as_ref())
        } else {
            self.sparse.get(&k)
        }
    }

    /// The value of `k`, made the default first if `k` has none.
    #[inline]
    pub(super) fn entry(&mut self, k: u64) -> &mut V {
        if k < N {
            let i = k as usize;
            if i >= self.dense.len() {
                self.dense.resize(i + 1, None);
            }
            self.dense[i].get_or_insert_with(V::default)
        } else {
            self.sparse.entry(k).or_default()
        }
    }

    #[inline]
    pub(super) fn remove(&mut self, k: u64) {
        if k < N {
            if let Some(v) = self.dense.get_mut(k as usize) {
                *v = None;
            }
        } else {
            self.sparse.remove(&k);
        }
    }
}

/// Goroutines by id.
type ByG<V> = Dense<V, DENSE_GS>;
/// Ps by id (as u64: "no P" and the fake Ps go to the map).
pub(super) type ByP<V> = Dense<V, 4096>;

impl Default for Checker {
    fn default() -> Self {
        Self::new()
    }
}

impl Checker {
    /// The checks' state before the first event (goroutine 0 running).
    pub fn new() -> Self {
        let mut gs = ByG::new();
        *gs.entry(0) = G {
            status: Status::Running,
            ..G::default()
        };
        Checker {
            gs,
            ps: ByP::new(),
            tasks: HashSet::default(),
            regions: HashMap::default(),
            in_gc: false,
            in_stw: false,
        }
    }

    /// Checks the next event; `Err` is Go's verdict on the first event it rejects.
    pub fn step(&mut self, e: &mut V1Event, has_stack: impl Fn(u32) -> bool) -> Result<()> {
        let Checker {
            gs,
            ps,
            tasks,
            regions,
            in_gc,
            in_stw,
        } = self;

        let off = e.offset();
        let fail = |what: String| Err(Error::broken(off, None, what));
        let name = DESCS[e.typ() as usize].name;
        let running = |gs: &ByG<G>, ps: &ByP<P>, e: &V1Event, g0: bool| -> Option<String> {
            let g = gs.get(e.g).copied().unwrap_or_default();
            let p = ps.get(e.p as u64).copied().unwrap_or_default();
            if g.status != Status::Running {
                return Some(format!(
                    "g {} is not running while {name} (time {})",
                    e.g, e.ts
                ));
            }
            if p.g != e.g {
                return Some(format!(
                    "p {} is not running g {} while {name} (time {})",
                    e.p, e.g, e.ts
                ));
            }
            if !g0 && e.g == 0 {
                return Some(format!("g 0 did {name} (time {})", e.ts));
            }
            None
        };
        match e.typ() {
            ev::PROC_START => {
                let p = ps.entry(e.p as u64);
                if p.running {
                    return fail(format!("p {} is running before start (time {})", e.p, e.ts));
                }
                p.running = true;
            }
            ev::PROC_STOP => {
                let p = ps.entry(e.p as u64);
                if !p.running {
                    return fail(format!(
                        "p {} is not running before stop (time {})",
                        e.p, e.ts
                    ));
                }
                if p.g != 0 {
                    return fail(format!(
                        "p {} is running a goroutine {} during stop (time {})",
                        e.p, p.g, e.ts
                    ));
                }
                p.running = false;
            }
            ev::GC_START => {
                if *in_gc {
                    return fail(format!(
                        "previous GC is not ended before a new one (time {})",
                        e.ts
                    ));
                }
                *in_gc = true;
                e.p = fake_p::GC;
            }
            ev::GC_DONE => {
                if !*in_gc {
                    return fail(format!("bogus GC end (time {})", e.ts));
                }
                *in_gc = false;
            }
            ev::STW_START => {
                if *in_stw {
                    return fail(format!(
                        "previous STW is not ended before a new one (time {})",
                        e.ts
                    ));
                }
                *in_stw = true;
            }
            ev::STW_DONE => {
                if !*in_stw {
                    return fail(format!("bogus STW end (time {})", e.ts));
                }
                *in_stw = false;
            }
            ev::GC_SWEEP_START => {
                let p = ps.entry(e.p as u64);
                if p.sweeping {
                    return fail(format!(
                        "previous sweeping is not ended before a new one (time {})",
                        e.ts
                    ));
                }
                p.sweeping = true;
            }
            ev::GC_SWEEP_DONE => {
                let p = ps.entry(e.p as u64);
                if !p.sweeping {
                    return fail(format!("bogus sweeping end (time {})", e.ts));
                }
                p.sweeping = false;
            }
            // Mark assists may be under way when tracing starts: nothing is checked, but
            // the goroutine counts as known from here on (for GoCreate's check).
            ev::GC_MARK_ASSIST_START | ev::GC_MARK_ASSIST_DONE => {
                gs.entry(e.g);
            }
            ev::GO_WAITING | ev::GO_IN_SYSCALL => {
                let g = gs.entry(e.g);
                if g.status != Status::Runnable {
                    return fail(format!(
                        "g {} is not runnable before {name} (time {})",
                        e.g, e.ts
                    ));
                }
                g.status = Status::Waiting;
                g.blocked_on_net = false;
            }
            ev::GO_CREATE => {
                if let Some(m) = running(gs, ps, e, true) {
                    return fail(m);
                }
                if gs.get(e.args[0]).is_some() {
                    return fail(format!("g {} already exists (time {})", e.args[0], e.ts));
                }
                *gs.entry(e.args[0]) = G {
                    status: Status::Runnable,
                    blocked_on_net: false,
                    created_stack: Some(e.args[1]),
                };
            }
            ev::GO_START | ev::GO_START_LABEL => {
                let g = gs.get(e.g).copied().unwrap_or_default();
                let p = ps.get(e.p as u64).copied().unwrap_or_default();
                if g.status != Status::Runnable {
                    return fail(format!(
                        "g {} is not runnable before start (time {})",
                        e.g, e.ts
                    ));
                }
                if p.g != 0 {
                    return fail(format!(
                        "p {} is already running g {} while start g {} (time {})",
                        e.p, p.g, e.g, e.ts
                    ));
                }
                let g = gs.entry(e.g);
                g.status = Status::Running;
                g.blocked_on_net = false;
                if let Some(s) = g.created_stack.take() {
                    e.stack = s as u32;
                }
                ps.entry(e.p as u64).g = e.g;
            }
            ev::GO_END | ev::GO_STOP => {
                if let Some(m) = running(gs, ps, e, false) {
                    return fail(m);
                }
                gs.entry(e.g).status = Status::Dead;
                ps.entry(e.p as u64).g = 0;
                if e.typ() == ev::GO_END {
                    regions.remove(&e.g);
                }
            }
            ev::GO_SCHED | ev::GO_PREEMPT => {
                if let Some(m) = running(gs, ps, e, false) {
                    return fail(m);
                }
                let g = gs.entry(e.g);
                g.status = Status::Runnable;
                g.blocked_on_net = false;
                ps.entry(e.p as u64).g = 0;
            }
            ev::GO_UNBLOCK => {
                let g = gs.get(e.g).copied().unwrap_or_default();
                let p = ps.get(e.p as u64).copied().unwrap_or_default();
                if g.status != Status::Running {
                    return fail(format!(
                        "g {} is not running while unpark (time {})",
                        e.g, e.ts
                    ));
                }
                if e.p != fake_p::TIMER && p.g != e.g {
                    return fail(format!(
                        "p {} is not running g {} while unpark (time {})",
                        e.p, e.g, e.ts
                    ));
                }
                let g1 = gs.entry(e.args[0]);
                if g1.status != Status::Waiting {
                    return fail(format!(
                        "g {} is not waiting before unpark (time {})",
                        e.args[0], e.ts
                    ));
                }
                if g1.blocked_on_net {
                    e.p = fake_p::NETPOLL;
                }
                g1.status = Status::Runnable;
                g1.blocked_on_net = false;
            }
            ev::GO_SYSCALL => {
                if let Some(m) = running(gs, ps, e, false) {
                    return fail(m);
                }
                gs.entry(e.g).blocked_on_net = false;
            }
            ev::GO_SYS_BLOCK => {
                if let Some(m) = running(gs, ps, e, false) {
                    return fail(m);
                }
                gs.entry(e.g).status = Status::Waiting;
                ps.entry(e.p as u64).g = 0;
            }
            ev::GO_SYS_EXIT => {
                let g = gs.entry(e.g);
                if g.status != Status::Waiting {
                    return fail(format!(
                        "g {} is not waiting during syscall exit (time {})",
                        e.g, e.ts
                    ));
                }
                g.status = Status::Runnable;
                g.blocked_on_net = false;
            }
            t if is_block(t) => {
                if let Some(m) = running(gs, ps, e, false) {
                    return fail(m);
                }
                let g = gs.entry(e.g);
                g.status = Status::Waiting;
                g.blocked_on_net = e.typ() == ev::GO_BLOCK_NET;
                ps.entry(e.p as u64).g = 0;
            }
            ev::USER_TASK_CREATE => {
                let fresh = tasks.insert(e.args[0]);
                if !fresh {
                    return fail(format!("task id conflicts (id:{})", e.args[0]));
                }
            }
            ev::USER_TASK_END => {
                tasks.remove(&e.args[0]);
            }
            ev::USER_REGION => {
                let (task, mode, name_id) = (e.args[0], e.args[1], e.args[2]);
                match mode {
                    0 => regions.entry(e.g).or_default().push((task, name_id)),
                    1 => {
                        if let Some(stack) = regions.get_mut(&e.g) {
                            if let Some(&(t, n)) = stack.last() {
                                if t != task || n != name_id {
                                    return fail(format!("misuse of region in goroutine {}", e.g));
                                }
                                stack.pop();
                                if stack.is_empty() {
                                    regions.remove(&e.g);
                                }
                            }
                        }
                    }
                    _ => return fail(format!("invalid user region mode {mode}")),
                }
            }
            _ => {}
        }
        if e.stack != 0 && !has_stack(e.stack) {
            e.stack = 0;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream of merged events whose own times rise, some of them exits moved back to
    /// an earlier real time, comes out of `Reorder` as a stable sort of the whole stream,
    /// whatever floors it is given in between (each no later than what is still to come).
    #[test]
    fn reorder_gives_the_stable_sort() {
        let mut rand = crate::testing::numbers(0x9e37_79b9_7f4a_7c15);
        for _ in 0..200 {
            let n = 1 + rand(300) as usize;
            let mut own = 0i64;
            let mut stream = Vec::new();
            for i in 0..n {
                own += rand(3) as i64;
                let mut e = V1Event::new(ev::GO_START, i as u64);
                // The merge index rides in `g` to tell the events apart.
                e.g = i as u64;
                e.ts = if rand(5) == 0 {
                    own - rand(20) as i64
                } else {
                    own
                };
                stream.push(e);
            }
            let mut want = stream.clone();
            want.sort_by_key(|e| e.ts);
            let mut got = Vec::new();
            let mut r = Reorder::default();
            for (i, e) in stream.iter().enumerate() {
                r.push(*e);
                // The smallest time still to come, sometimes less.
                let floor = stream[i + 1..]
                    .iter()
                    .map(|e| e.ts)
                    .min()
                    .unwrap_or(i64::MAX);
                let floor = floor - rand(3) as i64;
                while let Some(e) = r.pop(floor) {
                    got.push(e);
                }
            }
            while let Some(e) = r.pop(i64::MAX) {
                got.push(e);
            }
            assert_eq!(got, want);
        }
    }

    /// The floor is the smaller of the last merged time and the earliest real time of an
    /// exit not merged yet, whatever order the exits are merged in.
    #[test]
    fn the_floor_waits_for_exits_not_merged_yet() {
        let mut t = Times::new(vec![5, 7, 7, 20]);
        let at = |t: &mut Times, typ: u8, ts: i64, g: u64, real: u64| {
            let mut e = V1Event::new(typ, 0);
            (e.ts, e.g, e.args[2]) = (ts, g, real);
            t.take(&mut e);
            e.ts
        };
        at(&mut t, ev::GO_SYS_BLOCK, 1, 1, 0);
        at(&mut t, ev::GO_SYS_BLOCK, 2, 2, 0);
        at(&mut t, ev::GO_SYS_BLOCK, 3, 3, 0);
        assert_eq!(t.floor_ticks(), 3);
        assert_eq!(at(&mut t, ev::GO_START, 10, 4, 0), 10);
        assert_eq!(t.floor_ticks(), 5);
        // The exit at 7 comes first: 5 still bounds what is to come.
        assert_eq!(at(&mut t, ev::GO_SYS_EXIT, 11, 2, 7), 7);
        assert_eq!(t.floor_ticks(), 5);
        assert_eq!(at(&mut t, ev::GO_SYS_EXIT, 12, 1, 5), 5);
        assert_eq!(t.floor_ticks(), 7);
        at(&mut t, ev::GO_SYS_EXIT, 13, 3, 7);
        assert_eq!(t.floor_ticks(), 13);
        assert!(!t.failed());
        // An exit before its goroutine's block is Go's "time stamps out of order".
        at(&mut t, ev::GO_SYS_EXIT, 14, 3, 2);
        assert!(t.exit_error.is_some());
    }
}
