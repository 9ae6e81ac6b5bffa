//! Ordering a generation ahead of time, while the one before it is still being ordered:
//! a start state guessed from the generation's own status events, a record of the start
//! state of every goroutine, P, thread, task and the GC that the run read, and the check,
//! once the real start state is known, that each of those agrees.
//!
//! Why this is exact: the ordering pass is a deterministic function of its start state and
//! the generation's bytes, and it reads the start state only through per-key look-ups
//! (goroutine, P, thread, task id, the GC sequence) plus `initial_gen`. A speculative
//! orderer starts empty and installs a key's guessed value on the first look-up of that
//! key ("touch"), remembering it. If every remembered value equals the real one, the run
//! saw exactly what the sequential run would have seen, so it produced the same events and
//! the same final values for those keys; keys it never touched keep their real values.
//! The one look-up that is not per key (the scan of all threads for the owner of a P whose
//! syscall was abandoned) marks the run unverifiable. Sequence numbers are never compared:
//! a sequence only counts when its generation is the current one, and a start state's
//! sequences are all from earlier generations, so any two of them behave the same.
//!
//! What is left to the stitch: the monotonic-time fix (an event not later than the
//! previous one gets previous + 1) and the numbering of Sync events, both applied as the
//! buffered events are delivered.

use rustc_hash::{FxHashMap, FxHashSet};

use super::replay::ReplayLog;
use super::state::*;
use crate::error::Result;
use crate::event::NONE;
use crate::generation::{Generation, MCursor, RawEvent};
use crate::ids::IdMap;
use crate::spec::*;

/// The state a speculative run's look-ups install their guesses in (the orderer's own).
pub(super) struct Touch<'a> {
    pub(super) gs: &'a mut IdMap<GState>,
    pub(super) ps: &'a mut FxHashMap<i64, PState>,
    pub(super) ms: &'a mut MTable,
    pub(super) gc_seq: &'a mut u64,
    pub(super) gc_state: &'a mut GcState,
}

/// A thread with neither goroutine nor P; what a thread's own first event creates.
pub(super) const IDLE_M: MState = MState { g: NONE, p: NONE };

/// Any sequence from before the speculative generation.
const STALE: Seq = Seq {
    generation: 0,
    n: 0,
};

/// What a speculative run guessed and what it read.
pub(super) struct Spec {
    pub(super) guess_g: FxHashMap<i64, GState>,
    pub(super) guess_p: FxHashMap<i64, PState>,
    pub(super) guess_m: FxHashMap<i64, MState>,
    pub(super) guess_gc: Option<(u64, GcState)>,
    /// The start value the run used for each key it touched (`None`: absent). For threads,
    /// also whether the first touch was the thread's own event, which creates an idle
    /// state when there is none (so absent and idle act the same there).
    pub(super) read_g: FxHashMap<i64, Option<GState>>,
    pub(super) read_p: FxHashMap<i64, Option<PState>>,
    pub(super) read_m: FxHashMap<i64, (Option<MState>, bool)>,
    pub(super) read_gc: Option<(u64, GcState)>,
    /// Tasks are guessed absent.
    pub(super) read_tasks: FxHashSet<u64>,
    /// The run read state it can't check; its result must not be used.
    pub(super) unverifiable: bool,
    /// Events in the generation's streams (for sizing the log).
    pub(super) events: usize,
    /// What the run ordered, for the stitch to rebuild.
    pub(super) log: ReplayLog,
}

impl Spec {
    /// Guesses the start state from the generation's status events: every goroutine and P
    /// with a status event exists in that status (with the mark-assist and sweep ranges its
    /// generation restates); a thread holds the goroutine and P that the status events at
    /// the head of its own stream name as running (or a goroutine whose syscall status names
    /// it); the GC sequence is one before the generation's smallest.
    pub(super) fn guess(gn: &Generation<'_>) -> Result<Spec> {
        let mut guess_g: FxHashMap<i64, GState> = FxHashMap::default();
        let mut guess_p: FxHashMap<i64, PState> = FxHashMap::default();
        let mut guess_m: FxHashMap<i64, MState> = FxHashMap::default();
        let mut syscall_m: FxHashMap<i64, i64> = FxHashMap::default();
        let mut assists = Vec::new();
        let mut sweeps = Vec::new();
        let mut gc_first: Option<(u64, EvType)> = None;
        let mut events = gn.cpu_samples.len() + 1;
        for s in &gn.ms {
            let mut read = MCursor::default();
            let mut head = true;
            let mut own = IDLE_M;
            while let Some((typ, args)) = read.skim(s, Some(gn.generation))? {
                events += 1;
                match typ {
                    EV_GO_STATUS | EV_GO_STATUS_STACK => {
                        let (g, mid, status) = (args[0] as i64, args[1] as i64, args[2]);
                        guess_g.entry(g).or_insert_with(|| GState {
                            status,
                            seq: STALE,
                            regions: Vec::new(),
                            ranges: Ranges::default(),
                        });
                        if status == gstatus::SYSCALL && mid != NONE {
                            syscall_m.entry(mid).or_insert(g);
                        }
                        let mine = status == gstatus::RUNNING
                            || (status == gstatus::SYSCALL && mid == s.m);
                        if head && mine && own.g == NONE {
                            own.g = g;
                        }
                    }
                    EV_PROC_STATUS => {
                        let (p, status) = (args[0] as i64, args[1]);
                        guess_p.entry(p).or_insert_with(|| PState {
                            status,
                            seq: STALE,
                            ranges: Ranges::default(),
                        });
                        let mine = status == pstatus::RUNNING || status == pstatus::SYSCALL;
                        if head && mine && own.p == NONE {
                            own.p = p;
                        }
                    }
                    EV_GC_MARK_ASSIST_ACTIVE => assists.push(args[0] as i64),
                    EV_GC_SWEEP_ACTIVE => sweeps.push(args[0] as i64),
                    EV_GC_ACTIVE | EV_GC_BEGIN | EV_GC_END => {
                        if gc_first.is_none_or(|(seq, _)| args[0] < seq) {
                            gc_first = Some((args[0], typ));
                        }
                        head &= typ == EV_GC_ACTIVE;
                    }
                    _ => head = false,
                }
            }
            if s.m != NONE {
                guess_m.insert(s.m, own);
            }
        }
        for (m, g) in syscall_m {
            let st = guess_m.entry(m).or_insert(IDLE_M);
            if st.g == NONE {
                st.g = g;
            }
        }
        for g in assists {
            if let Some(st) = guess_g.get_mut(&g) {
                let k = range_key(EV_GC_MARK_ASSIST_ACTIVE, 0);
                if !st.ranges.0.contains(&k) {
                    st.ranges.0.push(k);
                }
            }
        }
        for p in sweeps {
            if let Some(st) = guess_p.get_mut(&p) {
                let k = range_key(EV_GC_SWEEP_ACTIVE, 0);
                if !st.ranges.0.contains(&k) {
                    st.ranges.0.push(k);
                }
            }
        }
        let guess_gc = gc_first.map(|(seq, typ)| {
            let state = if typ == EV_GC_BEGIN {
                GcState::NotRunning
            } else {
                GcState::Running
            };
            (seq.wrapping_sub(1), state)
        });
        Ok(Spec {
            guess_g,
            guess_p,
            guess_m,
            guess_gc,
            events,
            ..Spec::empty()
        })
    }
}

impl Spec {
    /// No guesses at all: every look-up finds nothing, which is exactly the start state of
    /// the first generation, so a run from it is the ordinary run.
    pub(super) fn empty() -> Spec {
        Spec {
            guess_g: FxHashMap::default(),
            guess_p: FxHashMap::default(),
            guess_m: FxHashMap::default(),
            guess_gc: None,
            read_g: FxHashMap::default(),
            read_p: FxHashMap::default(),
            read_m: FxHashMap::default(),
            read_gc: None,
            read_tasks: FxHashSet::default(),
            unverifiable: false,
            events: 0,
            log: ReplayLog::default(),
        }
    }
}

pub(super) fn same_g(a: Option<&GState>, b: Option<&GState>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            a.status == b.status && a.regions == b.regions && a.ranges.0 == b.ranges.0
        }
        _ => false,
    }
}

pub(super) fn same_p(a: Option<&PState>, b: Option<&PState>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a.status == b.status && a.ranges.0 == b.ranges.0,
        _ => false,
    }
}

pub(super) fn same_m(a: MState, b: MState) -> bool {
    a.g == b.g && a.p == b.p
}

impl Spec {
    /// Installs the guessed start value of thread `m` on its first look-up. `own`: the
    /// look-up is for the thread's own event.
    pub(super) fn touch_m(&mut self, t: &mut Touch<'_>, m: i64, own: bool) {
        if self.read_m.contains_key(&m) {
            return;
        }
        let v = self.guess_m.get(&m).copied();
        self.read_m.insert(m, (v, own));
        if let Some(st) = v {
            t.ms.insert(m, st);
            // A thread's goroutine and P are touched with it, so that the context of
            // every event names touched ones only (handlers set a context's goroutine
            // and P only from arguments, which are touched before they run).
            self.touch_g(t, st.g);
            self.touch_p(t, st.p);
        }
    }

    fn touch_g(&mut self, t: &mut Touch<'_>, g: i64) {
        // A goroutine in the map has been touched.
        if g == NONE || t.gs.contains_key(&g) {
            return;
        }
        if self.read_g.contains_key(&g) {
            return;
        }
        let v = self.guess_g.remove(&g);
        if let Some(st) = &v {
            t.gs.insert(g, st.clone());
        }
        self.read_g.insert(g, v);
    }

    fn touch_p(&mut self, t: &mut Touch<'_>, p: i64) {
        if p == NONE || t.ps.contains_key(&p) {
            return;
        }
        if self.read_p.contains_key(&p) {
            return;
        }
        let v = self.guess_p.remove(&p);
        if let Some(st) = &v {
            t.ps.insert(p, st.clone());
        }
        self.read_p.insert(p, v);
    }

    /// Touches everything the handler of `ev` (with context `cur`) may look up: the
    /// goroutines, Ps, threads, task or GC sequence its arguments name. (The context's
    /// goroutine and P were touched when they entered the thread's state.) Keep in step
    /// with the handlers in `machine.rs`.
    pub(super) fn touch_for(&mut self, t: &mut Touch<'_>, ev: &RawEvent, cur: Ctx) {
        debug_assert!(
            cur.g == NONE || t.gs.contains_key(&cur.g) || self.read_g.contains_key(&cur.g)
        );
        debug_assert!(
            cur.p == NONE || t.ps.contains_key(&cur.p) || self.read_p.contains_key(&cur.p)
        );
        let a = ev.args;
        match ev.typ {
            EV_GO_STATUS | EV_GO_STATUS_STACK => {
                self.touch_g(t, a[0] as i64);
                let mid = a[1] as i64;
                if a[2] == gstatus::SYSCALL && mid != NONE && mid != cur.m {
                    self.touch_m(t, mid, false);
                }
            }
            EV_GO_CREATE
            | EV_GO_CREATE_BLOCKED
            | EV_GO_CREATE_SYSCALL
            | EV_GO_START
            | EV_GO_UNBLOCK
            | EV_GO_SWITCH
            | EV_GO_SWITCH_DESTROY
            | EV_GC_MARK_ASSIST_ACTIVE => self.touch_g(t, a[0] as i64),
            EV_PROC_STATUS | EV_PROC_START | EV_GC_SWEEP_ACTIVE => self.touch_p(t, a[0] as i64),
            EV_PROC_STEAL => {
                self.touch_p(t, a[0] as i64);
                let victim = a[2] as i64;
                if victim != cur.m {
                    self.touch_m(t, victim, false);
                }
            }
            EV_GC_ACTIVE | EV_GC_BEGIN | EV_GC_END if self.read_gc.is_none() => {
                if let Some((seq, state)) = self.guess_gc {
                    *t.gc_seq = seq;
                    *t.gc_state = state;
                }
                self.read_gc = Some((*t.gc_seq, *t.gc_state));
            }
            EV_USER_TASK_BEGIN | EV_USER_TASK_END => {
                self.read_tasks.insert(a[0]);
            }
            _ => {}
        }
    }
}
