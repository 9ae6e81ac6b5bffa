//! Merges the per-P batches of a v1 trace into one stream as Go's reader does: the earliest event whose goroutine is in the state it needs, then syscall-exit times, ns, fake Ps and the consistency checks.
//!
//! Ordering rules (facts of the v1 format): each P's events are in program order. Events
//! that change a goroutine's state carry (or imply) its sequence number; an event is ready
//! when its goroutine has the status and sequence it needs. Of the ready events at the
//! head of every P, the one with the smallest tick time goes next. The "local" variants
//! (start, unblock, syscall exit on the same P) need no sequence number and add one.

use std::sync::atomic::{AtomicBool, Ordering};

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
    /// The loaded batch's events not merged yet, in reverse (next one last).
    pending: Vec<V1Event>,
    done: bool,
}

/// The merged events (ticks), and why the merge stopped early if it did.
pub struct Merged {
    /// Events in Go's order.
    pub events: Vec<V1Event>,
    /// Set when not every event could be merged.
    pub stopped: Option<Error>,
}

/// Merges every P's batches (and the CPU samples) in Go's order. On a failure the events
/// merged so far are kept and the error returned beside them; so when `cancel` is set.
pub fn merge(data: &[u8], ix: &mut Index, version: u32, cancel: &AtomicBool) -> Merged {
    let mut procs: Vec<Proc> = std::mem::take(&mut ix.procs)
        .into_iter()
        .map(|(p, b)| Proc {
            cursor: Some(ProcCursor::new(p, b)),
            pending: Vec::new(),
            done: false,
        })
        .collect();
    let mut samples = std::mem::take(&mut ix.cpu_samples);
    samples.reverse();
    procs.push(Proc {
        cursor: None,
        pending: samples,
        done: false,
    });
    let total: usize = procs.len();
    // Every event is held until the end (an upper bound: the batches' counts include
    // their headers and table entries), so the vector is never copied to grow.
    let capacity = procs
        .iter()
        .filter_map(|p| p.cursor.as_ref())
        .map(|c| c.events())
        .sum::<usize>()
        + procs.last().map_or(0, |p| p.pending.len());
    let mut events = Vec::with_capacity(capacity);
    let mut gs: HashMap<u64, GState> = HashMap::default();
    let mut frontier: Vec<Head> = Vec::new();
    let mut available: Vec<usize> = (0..total).collect();
    let mut buf = Vec::new();
    let end = ix.end;
    let stop = |events: Vec<V1Event>, e: Error| Merged {
        events,
        stopped: Some(e),
    };
    loop {
        let mut i = 0;
        while i < available.len() {
            let pi = available[i];
            let proc = &mut procs[pi];
            while proc.pending.is_empty() && !proc.done {
                let loaded = match &mut proc.cursor {
                    Some(c) => match c.next_batch(data, end, version, &mut buf) {
                        Ok(l) => l,
                        Err(e) => return stop(events, e),
                    },
                    None => false,
                };
                if loaded {
                    proc.pending.extend(buf.drain(..).rev());
                } else {
                    proc.done = true;
                }
            }
            if proc.done && proc.pending.is_empty() {
                available.swap_remove(i);
                continue;
            }
            let Some(&e) = proc.pending.last() else {
                i += 1;
                continue;
            };
            if let Need::G(g, want, _) = need(&e) {
                if !ready(gs.get(&g).copied().unwrap_or_default(), want) {
                    i += 1;
                    continue;
                }
            }
            available.swap_remove(i);
            heap_push(&mut frontier, Head(e.ts, pi));
        }
        let Some(&Head(_, pi)) = frontier.first() else {
            if procs.iter().any(|p| !(p.done && p.pending.is_empty())) {
                let at = procs
                    .iter()
                    .filter_map(|p| p.pending.last())
                    .map(|e| format!("{} of g {} on p {}", DESCS[e.typ() as usize].name, e.g, e.p))
                    .take(4)
                    .collect::<Vec<_>>()
                    .join(", ");
                let off = procs
                    .iter()
                    .filter_map(|p| p.pending.last())
                    .map(|e| e.offset())
                    .min()
                    .unwrap_or(end as u64);
                return stop(
                    events,
                    Error::broken(
                        off,
                        None,
                        format!("no consistent ordering of events possible (waiting: {at})"),
                    ),
                );
            }
            break;
        };
        heap_remove(&mut frontier, 0);
        // The P's head event, left there when its time went into the frontier.
        let Some(mut e) = procs[pi].pending.pop() else {
            continue;
        };
        if let Need::G(g, want, mut after) = need(&e) {
            let cur = gs.get(&g).copied().unwrap_or_default();
            if !ready(cur, want) {
                return stop(
                    events,
                    Error::broken(
                        e.offset(),
                        None,
                        format!("impossible state transition of goroutine {g}"),
                    ),
                );
            }
            if after.seq == ANY {
                after.seq = cur.seq;
            } else if after.seq == PLUS_ONE {
                after.seq = cur.seq.wrapping_add(1);
            }
            gs.insert(g, after);
        }
        e.set_typ(match e.typ() {
            ev::GO_START_LOCAL => ev::GO_START,
            ev::GO_UNBLOCK_LOCAL => ev::GO_UNBLOCK,
            ev::GO_SYS_EXIT_LOCAL => ev::GO_SYS_EXIT,
            t => t,
        });
        events.push(e);
        available.push(pi);
        if events.len() % (1 << 16) == 0 && cancel.load(Ordering::Relaxed) {
            return stop(
                events,
                Error::broken(e.offset(), None, "reading was cancelled"),
            );
        }
    }
    Merged {
        events,
        stopped: None,
    }
}

/// After the merge: checks the times are in order, gives syscall exits their real time,
/// sorts stably by time, converts to ns since the first event and moves timer unblocks and
/// syscall exits to their fake Ps. `Err` is Go's verdict on a trace it rejects.
pub fn times(
    events: &mut [V1Event],
    ticks_per_sec: i64,
    timer_goroutines: &HashSet<u64>,
) -> Result<()> {
    if let Some(w) = events.windows(2).find(|w| w[1].ts < w[0].ts) {
        return Err(Error::broken(
            w[1].offset(),
            None,
            "time stamps out of order",
        ));
    }
    let mut last_block: HashMap<u64, i64> = HashMap::default();
    for e in events.iter_mut() {
        match e.typ() {
            ev::GO_SYS_BLOCK | ev::GO_IN_SYSCALL => {
                last_block.insert(e.g, e.ts);
            }
            ev::GO_SYS_EXIT => {
                let ts = e.args[2] as i64;
                if ts == 0 {
                    continue;
                }
                let block = last_block.get(&e.g).copied().unwrap_or(0);
                if block == 0 {
                    return Err(Error::broken(e.offset(), None, "stray syscall exit"));
                }
                if ts < block {
                    return Err(Error::broken(e.offset(), None, "time stamps out of order"));
                }
                e.ts = ts;
            }
            _ => {}
        }
    }
    sort_by_time(events);
    let Some(first) = events.first().map(|e| e.ts) else {
        return Ok(());
    };
    let ns_per_tick = 1e9 / ticks_per_sec as f64;
    for e in events.iter_mut() {
        e.ts = f64_to_i64(e.ts.wrapping_sub(first) as f64 * ns_per_tick);
        if e.typ() == ev::GO_UNBLOCK && timer_goroutines.contains(&e.g) {
            e.p = fake_p::TIMER;
        }
        if e.typ() == ev::GO_SYS_EXIT {
            e.p = fake_p::SYSCALL;
        }
    }
    Ok(())
}

/// Sorts stably by time. Only the syscall exits given their real time are out of place,
/// and seldom far: each is inserted where it belongs, without the half-size buffer a
/// merge sort takes, unless that moves more than a few events per event in all (then
/// the merge sort, with the same result).
fn sort_by_time(events: &mut [V1Event]) {
    let budget = events.len().saturating_mul(8);
    let mut moved = 0usize;
    for i in 1..events.len() {
        if events[i - 1].ts <= events[i].ts {
            continue;
        }
        let ts = events[i].ts;
        let at = events[..i].partition_point(|e| e.ts <= ts);
        moved += i - at;
        if moved > budget {
            events.sort_by_key(|e| e.ts);
            return;
        }
        events[at..=i].rotate_right(1);
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

/// Go's consistency checks over the merged stream (a P runs one goroutine at a time, a
/// goroutine is blocked before it is unblocked, …), which also give GC begins the GC's fake
/// P, network unblocks the netpoller's, and drop stack ids that name no stack. Returns how
/// many events passed, and the error at the first that did not.
pub fn check(events: &mut [V1Event], has_stack: impl Fn(u32) -> bool) -> (usize, Option<Error>) {
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
    let mut gs: HashMap<u64, G> = HashMap::default();
    gs.insert(
        0,
        G {
            status: Status::Running,
            ..G::default()
        },
    );
    let mut ps: HashMap<i32, P> = HashMap::default();
    let mut tasks: HashSet<u64> = HashSet::default();
    let mut regions: HashMap<u64, Vec<(u64, u64)>> = HashMap::default();
    let (mut in_gc, mut in_stw) = (false, false);
    for (i, e) in events.iter_mut().enumerate() {
        let off = e.offset();
        let fail = |what: String| (i, Some(Error::broken(off, None, what)));
        let name = DESCS[e.typ() as usize].name;
        let running =
            |gs: &HashMap<u64, G>, ps: &HashMap<i32, P>, e: &V1Event, g0: bool| -> Option<String> {
                let g = gs.get(&e.g).copied().unwrap_or_default();
                let p = ps.get(&e.p).copied().unwrap_or_default();
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
                let p = ps.entry(e.p).or_default();
                if p.running {
                    return fail(format!("p {} is running before start (time {})", e.p, e.ts));
                }
                p.running = true;
            }
            ev::PROC_STOP => {
                let p = ps.entry(e.p).or_default();
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
                if in_gc {
                    return fail(format!(
                        "previous GC is not ended before a new one (time {})",
                        e.ts
                    ));
                }
                in_gc = true;
                e.p = fake_p::GC;
            }
            ev::GC_DONE => {
                if !in_gc {
                    return fail(format!("bogus GC end (time {})", e.ts));
                }
                in_gc = false;
            }
            ev::STW_START => {
                if in_stw {
                    return fail(format!(
                        "previous STW is not ended before a new one (time {})",
                        e.ts
                    ));
                }
                in_stw = true;
            }
            ev::STW_DONE => {
                if !in_stw {
                    return fail(format!("bogus STW end (time {})", e.ts));
                }
                in_stw = false;
            }
            ev::GC_SWEEP_START => {
                let p = ps.entry(e.p).or_default();
                if p.sweeping {
                    return fail(format!(
                        "previous sweeping is not ended before a new one (time {})",
                        e.ts
                    ));
                }
                p.sweeping = true;
            }
            ev::GC_SWEEP_DONE => {
                let p = ps.entry(e.p).or_default();
                if !p.sweeping {
                    return fail(format!("bogus sweeping end (time {})", e.ts));
                }
                p.sweeping = false;
            }
            // Mark assists may be under way when tracing starts: nothing is checked, but
            // the goroutine counts as known from here on (for GoCreate's check).
            ev::GC_MARK_ASSIST_START | ev::GC_MARK_ASSIST_DONE => {
                gs.entry(e.g).or_default();
            }
            ev::GO_WAITING | ev::GO_IN_SYSCALL => {
                let g = gs.entry(e.g).or_default();
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
                if let Some(m) = running(&gs, &ps, e, true) {
                    return fail(m);
                }
                if gs.contains_key(&e.args[0]) {
                    return fail(format!("g {} already exists (time {})", e.args[0], e.ts));
                }
                gs.insert(
                    e.args[0],
                    G {
                        status: Status::Runnable,
                        blocked_on_net: false,
                        created_stack: Some(e.args[1]),
                    },
                );
            }
            ev::GO_START | ev::GO_START_LABEL => {
                let g = gs.get(&e.g).copied().unwrap_or_default();
                let p = ps.get(&e.p).copied().unwrap_or_default();
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
                let g = gs.entry(e.g).or_default();
                g.status = Status::Running;
                g.blocked_on_net = false;
                if let Some(s) = g.created_stack.take() {
                    e.stack = s as u32;
                }
                ps.entry(e.p).or_default().g = e.g;
            }
            ev::GO_END | ev::GO_STOP => {
                if let Some(m) = running(&gs, &ps, e, false) {
                    return fail(m);
                }
                gs.entry(e.g).or_default().status = Status::Dead;
                ps.entry(e.p).or_default().g = 0;
                if e.typ() == ev::GO_END {
                    regions.remove(&e.g);
                }
            }
            ev::GO_SCHED | ev::GO_PREEMPT => {
                if let Some(m) = running(&gs, &ps, e, false) {
                    return fail(m);
                }
                let g = gs.entry(e.g).or_default();
                g.status = Status::Runnable;
                g.blocked_on_net = false;
                ps.entry(e.p).or_default().g = 0;
            }
            ev::GO_UNBLOCK => {
                let g = gs.get(&e.g).copied().unwrap_or_default();
                let p = ps.get(&e.p).copied().unwrap_or_default();
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
                let g1 = gs.entry(e.args[0]).or_default();
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
                if let Some(m) = running(&gs, &ps, e, false) {
                    return fail(m);
                }
                gs.entry(e.g).or_default().blocked_on_net = false;
            }
            ev::GO_SYS_BLOCK => {
                if let Some(m) = running(&gs, &ps, e, false) {
                    return fail(m);
                }
                gs.entry(e.g).or_default().status = Status::Waiting;
                ps.entry(e.p).or_default().g = 0;
            }
            ev::GO_SYS_EXIT => {
                let g = gs.entry(e.g).or_default();
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
                if let Some(m) = running(&gs, &ps, e, false) {
                    return fail(m);
                }
                let g = gs.entry(e.g).or_default();
                g.status = Status::Waiting;
                g.blocked_on_net = e.typ() == ev::GO_BLOCK_NET;
                ps.entry(e.p).or_default().g = 0;
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
    }
    (events.len(), None)
}
