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

use rustc_hash::FxHashSet;

use super::*;
use crate::order::replay::ReplayLog;

/// A thread with neither goroutine nor P; what a thread's own first event creates.
const IDLE_M: MState = MState { g: NONE, p: NONE };

/// Any sequence from before the speculative generation.
const STALE: Seq = Seq {
    generation: 0,
    n: 0,
};

/// What a speculative run guessed and what it read.
pub(super) struct Spec {
    guess_g: FxHashMap<i64, GState>,
    guess_p: FxHashMap<i64, PState>,
    guess_m: FxHashMap<i64, MState>,
    guess_gc: Option<(u64, GcState)>,
    /// The start value the run used for each key it touched (`None`: absent). For threads,
    /// also whether the first touch was the thread's own event, which creates an idle
    /// state when there is none (so absent and idle act the same there).
    read_g: FxHashMap<i64, Option<GState>>,
    read_p: FxHashMap<i64, Option<PState>>,
    read_m: FxHashMap<i64, (Option<MState>, bool)>,
    read_gc: Option<(u64, GcState)>,
    /// Tasks are guessed absent.
    read_tasks: FxHashSet<u64>,
    /// The run read state it can't check; its result must not be used.
    pub(super) unverifiable: bool,
    /// Events in the generation's streams (for sizing the log).
    events: usize,
    /// What the run ordered, for the stitch to rebuild.
    pub(super) log: ReplayLog,
}

impl Spec {
    /// Guesses the start state from the generation's status events: every goroutine and P
    /// with a status event exists in that status (with the mark-assist and sweep ranges its
    /// generation restates); a thread holds the goroutine and P that the status events at
    /// the head of its own stream name as running (or a goroutine whose syscall status names
    /// it); the GC sequence is one before the generation's smallest.
    fn guess(gn: &Generation<'_>) -> Result<Spec> {
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
    fn empty() -> Spec {
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

fn same_g(a: Option<&GState>, b: Option<&GState>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            a.status == b.status && a.regions == b.regions && a.ranges.0 == b.ranges.0
        }
        _ => false,
    }
}

fn same_p(a: Option<&PState>, b: Option<&PState>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a.status == b.status && a.ranges.0 == b.ranges.0,
        _ => false,
    }
}

fn same_m(a: MState, b: MState) -> bool {
    a.g == b.g && a.p == b.p
}

/// A generation ordered ahead of time, its events kept as a replay log (times not yet
/// made increasing), waiting for `Orderer::stitch`.
pub struct Speculation {
    orderer: Orderer,
    log: ReplayLog,
    tables: Arc<Tables>,
    /// Ordered from the empty start state, as the first generation of a read: exact,
    /// nothing to check.
    first: bool,
}

impl Speculation {
    /// Orders `gn` from a start state guessed from its own status events, recording the
    /// result in `log` (emptied first). `initial_gen` is the generation number the whole
    /// read started with. On failure (the guess led the run astray, or the generation is
    /// broken) the log comes back, and the generation must be ordered the ordinary way.
    pub fn run(
        initial_gen: u64,
        gn: &Generation<'_>,
        log: ReplayLog,
    ) -> std::result::Result<Speculation, ReplayLog> {
        let Ok(spec) = Spec::guess(gn) else {
            return Err(log);
        };
        Self::run_from(spec, Some(initial_gen), gn, log)
    }

    /// Orders the first generation of a read the way `run` orders later ones, so that it
    /// too can be ordered on a worker; the result is exact and `stitch` takes it over as a
    /// whole onto a fresh orderer.
    pub fn run_first(
        gn: &Generation<'_>,
        log: ReplayLog,
    ) -> std::result::Result<Speculation, ReplayLog> {
        Self::run_from(Spec::empty(), None, gn, log)
    }

    fn run_from(
        mut spec: Spec,
        initial_gen: Option<u64>,
        gn: &Generation<'_>,
        mut log: ReplayLog,
    ) -> std::result::Result<Speculation, ReplayLog> {
        log.start(gn);
        log.reserve(spec.events);
        spec.log = log;

        // A copy: the run takes the CPU samples and may add task names to the tables,
        // and a fallback needs the generation as it was.
        let mut g = gn.clone();
        let mut orderer = Orderer::new();
        let first = initial_gen.is_none();
        orderer.initial_gen = initial_gen.unwrap_or(0);
        orderer.spec = Some(Box::new(spec));
        let ran = orderer.generation(&mut g, &mut |_, _| {});
        let Some(spec) = orderer.spec.as_deref_mut() else {
            return Err(ReplayLog::default());
        };
        let log = std::mem::take(&mut spec.log);
        // A first generation reads nothing from before it, so it is never unverifiable.
        if ran.is_err() || (spec.unverifiable && !first) {
            return Err(log);
        }
        Ok(Speculation {
            orderer,
            log,
            tables: g.tables,
            first,
        })
    }

    /// The tables the generation's events refer to (with any strings the run added).
    pub fn tables(&self) -> &Arc<Tables> {
        &self.tables
    }

    /// The log, to measure it.
    #[cfg(test)]
    pub fn into_log(self) -> ReplayLog {
        self.log
    }
}

impl Orderer {
    /// Installs the guessed start value of thread `m` on its first look-up. `own`: the
    /// look-up is for the thread's own event.
    pub(super) fn touch_m(&mut self, m: i64, own: bool) {
        let Some(s) = self.spec.as_deref_mut() else {
            return;
        };
        if s.read_m.contains_key(&m) {
            return;
        }
        let v = s.guess_m.get(&m).copied();
        s.read_m.insert(m, (v, own));
        if let Some(st) = v {
            self.ms.insert(m, st);
            // A thread's goroutine and P are touched with it, so that the context of
            // every event names touched ones only (handlers set a context's goroutine
            // and P only from arguments, which are touched before they run).
            self.touch_g(st.g);
            self.touch_p(st.p);
        }
    }

    fn touch_g(&mut self, g: i64) {
        // A goroutine in the map has been touched.
        if g == NONE || self.gs.contains_key(&g) {
            return;
        }
        let Some(s) = self.spec.as_deref_mut() else {
            return;
        };
        if s.read_g.contains_key(&g) {
            return;
        }
        let v = s.guess_g.remove(&g);
        if let Some(st) = &v {
            self.gs.insert(g, st.clone());
        }
        s.read_g.insert(g, v);
    }

    fn touch_p(&mut self, p: i64) {
        if p == NONE || self.ps.contains_key(&p) {
            return;
        }
        let Some(s) = self.spec.as_deref_mut() else {
            return;
        };
        if s.read_p.contains_key(&p) {
            return;
        }
        let v = s.guess_p.remove(&p);
        if let Some(st) = &v {
            self.ps.insert(p, st.clone());
        }
        s.read_p.insert(p, v);
    }

    /// Touches everything the handler of `ev` (with context `cur`) may look up: the
    /// goroutines, Ps, threads, task or GC sequence its arguments name. (The context's
    /// goroutine and P were touched when they entered the thread's state.) Keep in step
    /// with the handlers in `order.rs`.
    pub(super) fn touch_for(&mut self, ev: &RawEvent, cur: Ctx) {
        debug_assert!(
            cur.g == NONE
                || self.gs.contains_key(&cur.g)
                || self
                    .spec
                    .as_ref()
                    .is_some_and(|s| s.read_g.contains_key(&cur.g))
        );
        debug_assert!(
            cur.p == NONE
                || self.ps.contains_key(&cur.p)
                || self
                    .spec
                    .as_ref()
                    .is_some_and(|s| s.read_p.contains_key(&cur.p))
        );
        let a = ev.args;
        match ev.typ {
            EV_GO_STATUS | EV_GO_STATUS_STACK => {
                self.touch_g(a[0] as i64);
                let mid = a[1] as i64;
                if a[2] == gstatus::SYSCALL && mid != NONE && mid != cur.m {
                    self.touch_m(mid, false);
                }
            }
            EV_GO_CREATE
            | EV_GO_CREATE_BLOCKED
            | EV_GO_CREATE_SYSCALL
            | EV_GO_START
            | EV_GO_UNBLOCK
            | EV_GO_SWITCH
            | EV_GO_SWITCH_DESTROY
            | EV_GC_MARK_ASSIST_ACTIVE => self.touch_g(a[0] as i64),
            EV_PROC_STATUS | EV_PROC_START | EV_GC_SWEEP_ACTIVE => self.touch_p(a[0] as i64),
            EV_PROC_STEAL => {
                self.touch_p(a[0] as i64);
                let victim = a[2] as i64;
                if victim != cur.m {
                    self.touch_m(victim, false);
                }
            }
            EV_GC_ACTIVE | EV_GC_BEGIN | EV_GC_END => {
                if let Some(s) = self.spec.as_deref_mut() {
                    if s.read_gc.is_none() {
                        if let Some((seq, state)) = s.guess_gc {
                            self.gc_seq = seq;
                            self.gc_state = state;
                        }
                        s.read_gc = Some((self.gc_seq, self.gc_state));
                    }
                }
            }
            EV_USER_TASK_BEGIN | EV_USER_TASK_END => {
                if let Some(s) = self.spec.as_deref_mut() {
                    s.read_tasks.insert(a[0]);
                }
            }
            _ => {}
        }
    }

    /// Whether `spec`, run from its guesses, read exactly what this orderer's state (the
    /// real end of the previous generation) holds.
    fn agrees(&self, spec: &Orderer) -> bool {
        let Some(s) = spec.spec.as_deref() else {
            return false;
        };
        if s.unverifiable
            || self.initial_gen == 0
            || self.initial_gen != spec.initial_gen
            || !self.queue.is_empty()
        {
            return false;
        }
        let gs = s
            .read_g
            .iter()
            .all(|(g, v)| same_g(self.gs.get(g), v.as_ref()));
        let ps = s
            .read_p
            .iter()
            .all(|(p, v)| same_p(self.ps.get(p), v.as_ref()));
        let ms = s.read_m.iter().all(|(m, &(v, own))| {
            let real = self.ms.get(*m).copied();
            if own {
                same_m(real.unwrap_or(IDLE_M), v.unwrap_or(IDLE_M))
            } else {
                match (real, v) {
                    (None, None) => true,
                    (Some(a), Some(b)) => same_m(a, b),
                    _ => false,
                }
            }
        });
        let gc = s
            .read_gc
            .is_none_or(|start| start == (self.gc_seq, self.gc_state));
        let tasks = s.read_tasks.iter().all(|t| !self.tasks.contains_key(t));
        gs && ps && ms && gc && tasks
    }

    /// Takes over the final values of everything `spec` touched.
    fn absorb(&mut self, mut spec: Orderer) {
        let Some(s) = spec.spec.take() else {
            return;
        };
        for g in s.read_g.keys() {
            match spec.gs.remove(g) {
                Some(v) => self.gs.insert(*g, v),
                None => self.gs.remove(g),
            };
        }
        for p in s.read_p.keys() {
            match spec.ps.remove(p) {
                Some(v) => self.ps.insert(*p, v),
                None => self.ps.remove(p),
            };
        }
        // Threads new to the trace get their slots in the order the run created them,
        // which is the order the sequential run would have.
        for &(m, st) in &spec.ms.states {
            self.ms.insert(m, st);
        }
        if s.read_gc.is_some() {
            self.gc_seq = spec.gc_seq;
            self.gc_state = spec.gc_state;
        }
        for t in &s.read_tasks {
            match spec.tasks.remove(t) {
                Some(v) => self.tasks.insert(*t, v),
                None => self.tasks.remove(t),
            };
        }
    }

    /// Stitches a generation ordered ahead of time onto this orderer, which has ordered
    /// everything before it; `gn` is that generation as decoded. If the speculation's
    /// start state agrees with ours, its events are rebuilt and go to `sink` (times made
    /// increasing, Syncs numbered) and its state becomes ours (`Ok(true)`); otherwise
    /// nothing happens (`Ok(false)`) and the caller orders the generation itself. Either
    /// way the log comes back for reuse.
    pub fn stitch(
        &mut self,
        spec: Speculation,
        gn: &Generation<'_>,
        sink: &mut impl FnMut(&Event, &Arc<Tables>),
    ) -> (Result<bool>, ReplayLog) {
        let Speculation {
            mut orderer,
            log,
            tables,
            first,
        } = spec;
        if first {
            // Only onto an orderer that has ordered nothing: then the run's start state
            // was this one's, and its end state is the whole truth.
            if self.initial_gen != 0 || self.syncs != 0 {
                return (Ok(false), log);
            }
            orderer.spec = None;
            orderer.syncs = 0;
            orderer.last_ns = self.last_ns;
            *self = orderer;
        } else {
            if !self.agrees(&orderer) {
                return (Ok(false), log);
            }
            self.absorb(orderer);
        }
        let replayed = log.replay(gn, |mut ev| {
            if ev.typ == EV_SYNC {
                self.syncs += 1;
                ev.args[0] = self.syncs;
            }
            self.send(ev, &tables, sink);
        });
        (replayed.map(|()| true), log)
    }
}
