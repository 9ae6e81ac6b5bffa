//! Builds the model from the ordered event stream: one pass, state per goroutine, P and
//! thread, closing a span whenever its resource changes state.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use super::*;
use crate::overview::{CounterThinning, InstantThinning, Summed, Thinning};
use goscope_trace::ids::IdMap;
use goscope_trace::spec::*;
use goscope_trace::state;
use goscope_trace::{self as trace, Event, Kind, ReadOptions, Resource, Tables};

/// Named stages, for progress bars.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BuildStage {
    Scanning,
    /// Generations ordered so far, of how many, and the share of the trace's time built
    /// so far (0 to 1): from the last event's time against the scan's first and last
    /// batch times, and so growing within a long generation too, each time the read
    /// saves a point inside it; `done / of` where those times are unknown.
    Decoding {
        done: usize,
        of: usize,
        through: f32,
    },
    Finishing,
}

#[derive(Clone)]
pub(crate) struct GBuild {
    g: Goroutine,
    now: GNow,
    thin: Thinning,
    /// The waker last noted in `Builder::wakes` for this goroutine (-1: none yet).
    waker_noted: i64,
}

/// What a goroutine is doing as the build goes: what a saved builder keeps of it besides
/// its names and times.
#[derive(Clone)]
struct GNow {
    open: Option<GSpan>,
    /// The goroutine's state in Go's terms (state::GO_*).
    go_state: u64,
    block_reason: StrId,
    /// P it runs on or holds in a syscall; thread it runs on.
    p: i64,
    m: i64,
    open_regions: Vec<Region>,
    assist: Option<(i64, i64)>,
}

/// A goroutine's state in a saved builder (`Saved`): what its `GBuild` holds but the lane.
#[derive(Clone)]
struct GSaved {
    id: i64,
    start_fn: StrId,
    creator: i64,
    create_stack: StackId,
    created_ns: Option<i64>,
    ended_ns: Option<i64>,
    label: StrId,
    now: GNow,
}

/// The builder's state at a point of a build (`Builder::resume_point`), which
/// `builder` makes into a builder that goes on from there.
#[derive(Clone)]
pub(crate) struct Saved {
    /// Everything but the goroutines.
    rest: Builder,
    gs: Vec<GSaved>,
}

impl Saved {
    /// A builder in the saved state.
    pub(crate) fn builder(&self) -> Builder {
        let mut b = self.rest.clone();
        for s in &self.gs {
            b.gs.insert(
                s.id,
                GBuild {
                    g: Goroutine {
                        id: s.id,
                        start_fn: s.start_fn,
                        creator: s.creator,
                        create_stack: s.create_stack,
                        created_ns: s.created_ns,
                        ended_ns: s.ended_ns,
                        spans: Default::default(),
                        regions: Vec::new(),
                        running_ns: 0,
                        label: s.label,
                    },
                    now: s.now.clone(),
                    thin: Thinning::default(),
                    waker_noted: -1,
                },
            );
        }
        b
    }

    /// Bytes it takes, roughly.
    pub(crate) fn state_bytes(&self) -> usize {
        use std::mem::size_of;
        let regions: usize = self.gs.iter().map(|g| g.now.open_regions.len()).sum();
        self.rest.rest_bytes() + self.gs.len() * size_of::<GSaved>() + regions * size_of::<Region>()
    }
}

#[derive(Clone, Default)]
pub(crate) struct PBuild {
    open: Option<PSpan>,
    syscall: Option<(i64, i64)>,
    /// A sweep in progress: its start and the goroutine that began it (-1 if unknown).
    sweep: Option<(i64, i64)>,
    running: bool,
    lane: Proc,
    thin: Thinning,
}

#[derive(Clone, Default)]
pub(crate) struct MBuild {
    open: Option<MSpan>,
    lane: Thread,
    thin: Thinning,
}

#[derive(Clone)]
pub(crate) struct Builder {
    interner: Interner,
    gs: IdMap<GBuild>,
    ps: IdMap<PBuild>,
    ms: IdMap<MBuild>,
    counters: Counters,
    counts: [i64; 4],
    gc_waiting: i64,
    /// Goroutines with a mark assist open: while there are none (outside GC's mark phase,
    /// most of a trace) a goroutine's transition need not look at its own.
    assists_open: u32,
    procs_running: i64,
    stimuli: Vec<Stimulus>,
    gc: Vec<GcCycle>,
    gc_open: Option<(i64, u64)>,
    stw: Vec<Stw>,
    stw_open: FxHashMap<i64, (i64, StrId)>,
    tasks: FxHashMap<u64, Task>,
    logs: Vec<Log>,
    cpu_samples: Vec<CpuSample>,
    first_ns: Option<i64>,
    last_ns: i64,
    events: u64,
    /// Sync events seen: one begins each generation.
    syncs: usize,
    /// The first clock snapshot.
    clock: Option<WallClock>,
    /// The P and thread of the previous event that had one (their lanes exist).
    seen_p: i64,
    seen_m: i64,
    network: StrId,
    sleep: StrId,
    /// The counts last pushed to the running, runnable, GC-waiting, syscall and
    /// threads-running series (`i64::MIN` before the first push, which every series takes).
    pushed_counts: [i64; 5],
    /// Whether each interned string is a GC block reason ("GC ..."), filled as ids appear.
    gc_reason: Vec<bool>,
    /// In a state made by `resume_point`: each counter's value there (in `Counters::all`
    /// order), which a window's series begin with.
    counter_values: [Option<i64>; 8],
    /// The bucket of an overview's thinning (`overview`); 0 keeps every span and point.
    thin_ns: i64,
    /// A window of part of a generation keeps only what it holds from here on
    /// (`begin_window`): spans that end here or later, points and instants here or later,
    /// each counter's value here. `i64::MIN` keeps everything.
    keep_from_ns: i64,
    /// Each counter's thinning (in `Counters::all` order).
    counter_thin: [CounterThinning; 8],
    /// While thinning: the stimuli's times by kind (an overview keeps no `stimuli`), each
    /// bucket's first and last with running counts.
    stimulus_times: [Vec<i64>; 3],
    stimulus_totals: [Vec<u64>; 3],
    stimulus_thin: [InstantThinning; 3],
    /// While thinning: every (goroutine, waker) pair of a span begun by a wake-up
    /// (`Model::wakes`).
    wakes: FxHashSet<(i64, i64)>,
}

/// Notes that `waker` woke goroutine `g` (nothing for -1, the runtime), once for each
/// change of its waker (`noted`: a set look-up only then).
#[inline]
fn note_waker(wakes: &mut FxHashSet<(i64, i64)>, g: i64, noted: &mut i64, waker: i64) {
    if waker >= 0 && waker != *noted {
        wakes.insert((g, waker));
        *noted = waker;
    }
}

fn state_index(s: GState) -> usize {
    s as usize
}

fn gstate_of(go_state: u64) -> Option<GState> {
    match go_state {
        state::GO_RUNNING => Some(GState::Running),
        state::GO_RUNNABLE => Some(GState::Runnable),
        state::GO_WAITING => Some(GState::Waiting),
        state::GO_SYSCALL => Some(GState::Syscall),
        _ => None,
    }
}

/// Which closed spans a lane keeps, and how.
#[derive(Clone, Copy)]
struct Keep {
    /// Through the lane's thinning into buckets of this when > 0 (an overview, see
    /// `overview`), else as they are.
    thin_ns: i64,
    /// Only those that end at or after this (a window of part of a generation).
    from_ns: i64,
}

/// Adds a closed span to a lane as `keep` says.
fn push_span<S: Summed>(lane: &mut Spans<S>, thin: &mut Thinning, s: S, keep: Keep) {
    if s.end_ns() < keep.from_ns {
        return;
    }
    if keep.thin_ns > 0 {
        thin.push(lane, s, keep.thin_ns);
    } else {
        lane.push(s);
    }
}

/// Stragglers: how long after each pause began other Ps kept running goroutines.
pub(crate) fn find_stragglers(stw: &mut [Stw], procs: &[Proc]) {
    for stw in stw {
        (stw.straggler_ns, stw.straggler_p) = (0, -1);
        for p in procs {
            let i = p.spans.count_ending_by(stw.start_ns);
            if let Some(s) = p.spans.get(i) {
                if s.start_ns <= stw.start_ns && s.end_ns <= stw.end_ns && s.g != stw.g {
                    let late = s.end_ns.saturating_sub(stw.start_ns);
                    if late > stw.straggler_ns {
                        stw.straggler_ns = late;
                        stw.straggler_p = p.id;
                    }
                }
            }
        }
    }
}

fn close_p_span_of(pb: &mut PBuild, t: i64, keep: Keep) {
    if let Some(mut s) = pb.open.take() {
        s.end_ns = t;
        pb.lane.busy_ns = pb.lane.busy_ns.saturating_add(t.saturating_sub(s.start_ns));
        push_span(&mut pb.lane.spans, &mut pb.thin, s, keep);
    }
}

fn close_m_span_of(mb: &mut MBuild, t: i64, keep: Keep) {
    if let Some(mut s) = mb.open.take() {
        s.end_ns = t;
        mb.lane.busy_ns = mb.lane.busy_ns.saturating_add(t.saturating_sub(s.start_ns));
        push_span(&mut mb.lane.spans, &mut mb.thin, s, keep);
    }
}

/// Adds a range of runtime work to P lane `lane`.
fn push_work(lane: &mut Proc, work: PWork, start_ns: i64, end_ns: i64, g: i64, goes_on: bool) {
    Arc::make_mut(&mut lane.work).push(PRange {
        start_ns,
        end_ns,
        work,
        goes_on,
        g,
    });
}

/// Ends work of kind `work` in progress on P lane `lane` (`open`: its start and
/// goroutine) at `t`.
fn close_work_of(open: &mut Option<(i64, i64)>, lane: &mut Proc, work: PWork, t: i64) {
    if let Some((start_ns, g)) = open.take() {
        push_work(lane, work, start_ns, t, g, false);
    }
}

fn close_syscall_work_of(pb: &mut PBuild, t: i64) {
    close_work_of(&mut pb.syscall, &mut pb.lane, PWork::Syscall, t);
}

impl Builder {
    fn new() -> Self {
        let mut interner = Interner::new();
        let network = interner.intern("network");
        let sleep = interner.intern("sleep");
        Builder {
            interner,
            gs: IdMap::default(),
            ps: IdMap::default(),
            ms: IdMap::default(),
            counters: Counters::default(),
            counts: [0; 4],
            gc_waiting: 0,
            assists_open: 0,
            procs_running: 0,
            stimuli: Vec::new(),
            gc: Vec::new(),
            gc_open: None,
            stw: Vec::new(),
            stw_open: FxHashMap::default(),
            tasks: FxHashMap::default(),
            logs: Vec::new(),
            cpu_samples: Vec::new(),
            first_ns: None,
            last_ns: 0,
            events: 0,
            syncs: 0,
            clock: None,
            seen_p: -1,
            seen_m: -1,
            network,
            sleep,
            pushed_counts: [i64::MIN; 5],
            gc_reason: Vec::new(),
            counter_values: [None; 8],
            thin_ns: 0,
            keep_from_ns: i64::MIN,
            counter_thin: Default::default(),
            stimulus_times: Default::default(),
            stimulus_totals: Default::default(),
            stimulus_thin: Default::default(),
            wakes: FxHashSet::default(),
        }
    }

    /// What a window build (`window::build_window`) resumes from at this point: the state
    /// of everything open or counted, and nothing built so far. Goroutines that have exited
    /// are left out (a window lists every goroutine of the trace anyway), and so is the
    /// interner (a window starts from the whole trace's). The goroutines are saved
    /// without their (empty) lanes, a third of their builders' size, since a long trace
    /// keeps hundreds of these.
    pub(crate) fn resume_point(&self) -> Saved {
        let gs = self
            .gs
            .values()
            .iter()
            .filter(|gb| gb.now.go_state != state::GO_NOT_EXIST)
            .map(|gb| GSaved {
                id: gb.g.id,
                start_fn: gb.g.start_fn,
                creator: gb.g.creator,
                create_stack: gb.g.create_stack,
                created_ns: gb.g.created_ns,
                ended_ns: gb.g.ended_ns,
                label: gb.g.label,
                now: gb.now.clone(),
            })
            .collect();
        Saved {
            rest: self.resume_rest(),
            gs,
        }
    }

    /// `resume_point` but for the goroutines.
    fn resume_rest(&self) -> Builder {
        let gs = IdMap::default();
        let mut ps = IdMap::default();
        for pb in self.ps.values() {
            ps.insert(
                pb.lane.id,
                PBuild {
                    open: pb.open,
                    syscall: pb.syscall,
                    sweep: pb.sweep,
                    running: pb.running,
                    lane: Proc {
                        id: pb.lane.id,
                        ..Default::default()
                    },
                    thin: Thinning::default(),
                },
            );
        }
        let mut ms = IdMap::default();
        for mb in self.ms.values() {
            ms.insert(
                mb.lane.id,
                MBuild {
                    open: mb.open,
                    lane: Thread {
                        id: mb.lane.id,
                        ..Default::default()
                    },
                    thin: Thinning::default(),
                },
            );
        }
        Builder {
            interner: Interner::new(),
            gs,
            ps,
            ms,
            counters: Counters::default(),
            counts: self.counts,
            gc_waiting: self.gc_waiting,
            assists_open: self.assists_open,
            procs_running: self.procs_running,
            stimuli: Vec::new(),
            gc: Vec::new(),
            gc_open: self.gc_open,
            stw: Vec::new(),
            stw_open: self.stw_open.clone(),
            tasks: self
                .tasks
                .iter()
                .filter(|(_, t)| t.end_ns.is_none())
                .map(|(&id, t)| (id, t.clone()))
                .collect(),
            logs: Vec::new(),
            cpu_samples: Vec::new(),
            first_ns: self.first_ns,
            last_ns: self.last_ns,
            events: 0,
            syncs: self.syncs,
            clock: self.clock,
            seen_p: -1,
            seen_m: -1,
            network: self.network,
            sleep: self.sleep,
            pushed_counts: self.pushed_counts,
            gc_reason: Vec::new(),
            counter_values: {
                let last = self.counters.all().map(Series::last_value);
                let mut v = [None; 8];
                for k in 0..8 {
                    v[k] = self.counter_thin[k].pending_value().or(last[k]);
                }
                v
            },
            thin_ns: 0,
            keep_from_ns: i64::MIN,
            counter_thin: Default::default(),
            stimulus_times: Default::default(),
            stimulus_totals: Default::default(),
            stimulus_thin: Default::default(),
            wakes: FxHashSet::default(),
        }
    }

    /// Makes a state from `resume_point` begin no counter with its value there: for a
    /// piece of a window that goes on from the piece before, which has those values.
    pub(crate) fn continue_counters(&mut self) {
        self.counter_values = [None; 8];
    }

    /// Makes a state from `resume_point` ready to build a window that begins at `t0` and
    /// keeps what lies from `from_ns` on (all of it when `from_ns <= t0`): it takes the
    /// whole trace's `interner`, and each counter begins with its value at the window's
    /// start.
    pub(crate) fn begin_window(&mut self, interner: Interner, t0: i64, from_ns: i64) {
        self.interner = interner;
        if from_ns > t0 {
            // The values wait in `counter_values` until a point at or after `from_ns`
            // comes (`push_counter`) or the window ends (`finish`).
            self.keep_from_ns = from_ns;
            return;
        }
        let values = std::mem::take(&mut self.counter_values);
        for (series, v) in self.counters.all_mut().into_iter().zip(values) {
            if let Some(v) = v {
                series.push(t0, v);
            }
        }
    }

    fn keep(&self) -> Keep {
        Keep {
            thin_ns: self.thin_ns,
            from_ns: self.keep_from_ns,
        }
    }

    /// Starts thinning into an overview with buckets of `bucket_ns`, thinning what was
    /// built so far too.
    pub(crate) fn thin_to(&mut self, bucket_ns: i64) {
        self.thin_ns = bucket_ns;
        fn again<S: Summed>(lane: &mut Spans<S>, thin: &mut Thinning, bucket_ns: i64) {
            let built = std::mem::take(lane);
            for s in built.iter() {
                thin.push(lane, s, bucket_ns);
            }
        }
        for gb in self.gs.values_mut() {
            let open = gb.now.open.iter().copied();
            for s in gb.g.spans.iter().chain(open) {
                note_waker(&mut self.wakes, gb.g.id, &mut gb.waker_noted, s.waker);
            }
            again(&mut gb.g.spans, &mut gb.thin, bucket_ns);
        }
        for pb in self.ps.values_mut() {
            again(&mut pb.lane.spans, &mut pb.thin, bucket_ns);
        }
        for mb in self.ms.values_mut() {
            again(&mut mb.lane.spans, &mut mb.thin, bucket_ns);
        }
        for s in std::mem::take(&mut self.stimuli) {
            self.stimulus(s);
        }
        let thins = &mut self.counter_thin;
        for (series, thin) in self.counters.all_mut().into_iter().zip(thins) {
            let built = std::mem::take(series);
            for (t, v) in built.points() {
                thin.push(series, t, v as i64, bucket_ns);
            }
        }
    }

    /// Notes a stimulus: kept whole, or only its time in an overview.
    fn stimulus(&mut self, s: Stimulus) {
        if s.time_ns < self.keep_from_ns {
            return;
        }
        if self.thin_ns > 0 {
            let k = s.kind as usize;
            self.stimulus_thin[k].push(
                &mut self.stimulus_times[k],
                &mut self.stimulus_totals[k],
                s.time_ns,
                self.thin_ns,
            );
        } else {
            self.stimuli.push(s);
        }
    }

    /// Bytes a state made by `resume_rest` takes, roughly.
    fn rest_bytes(&self) -> usize {
        use std::mem::size_of;
        self.ps.table_bytes()
            + self.ms.table_bytes()
            + self.tasks.len() * (size_of::<Task>() + 24)
            + self.stw_open.len() * 32
    }

    fn goroutine(&mut self, id: i64) -> &mut GBuild {
        let i = self.goroutine_place(id);
        &mut self.gs.values_mut()[i]
    }

    /// Where goroutine `id` is in `gs.values_mut()`, made if new.
    #[inline]
    pub(crate) fn goroutine_place(&mut self, id: i64) -> usize {
        match self.gs.place(id) {
            Some(i) => i,
            None => self.new_goroutine(id),
        }
    }

    #[cold]
    #[inline(never)]
    fn new_goroutine(&mut self, id: i64) -> usize {
        self.gs.place_or_insert_with(id, || GBuild {
            g: Goroutine {
                id,
                start_fn: 0,
                creator: -1,
                create_stack: 0,
                created_ns: None,
                ended_ns: None,
                spans: Default::default(),
                regions: Vec::new(),
                running_ns: 0,
                label: 0,
            },
            now: GNow {
                open: None,
                go_state: state::GO_UNDETERMINED,
                block_reason: 0,
                p: -1,
                m: -1,
                open_regions: Vec::new(),
                assist: None,
            },
            thin: Thinning::default(),
            waker_noted: -1,
        })
    }

    #[inline]
    pub(crate) fn proc(&mut self, id: i64) -> &mut PBuild {
        match self.ps.place(id) {
            Some(i) => &mut self.ps.values_mut()[i],
            None => self.new_proc(id),
        }
    }

    #[cold]
    #[inline(never)]
    fn new_proc(&mut self, id: i64) -> &mut PBuild {
        self.ps.get_or_insert_with(id, || PBuild {
            lane: Proc {
                id,
                ..Default::default()
            },
            ..Default::default()
        })
    }

    #[inline]
    pub(crate) fn thread(&mut self, id: i64) -> &mut MBuild {
        match self.ms.place(id) {
            Some(i) => &mut self.ms.values_mut()[i],
            None => self.new_thread(id),
        }
    }

    #[cold]
    #[inline(never)]
    fn new_thread(&mut self, id: i64) -> &mut MBuild {
        self.ms.get_or_insert_with(id, || MBuild {
            lane: Thread {
                id,
                ..Default::default()
            },
            ..Default::default()
        })
    }

    /// Adds the current counts to the count series. A series whose value did not change
    /// since its last push is left alone (pushing it would change nothing), which saves
    /// touching five vectors per transition.
    #[inline]
    fn push_counts(&mut self, t: i64) {
        let now = [
            self.counts[state_index(GState::Running)],
            self.counts[state_index(GState::Runnable)],
            self.gc_waiting,
            self.counts[state_index(GState::Syscall)],
            self.procs_running,
        ];
        // Compared one by one: comparing the arrays whole calls memcmp.
        if now.iter().zip(&self.pushed_counts).all(|(a, b)| a == b) {
            return;
        }
        // Their places in `Counters::all`.
        const SERIES: [usize; 5] = [3, 4, 5, 7, 6];
        for k in 0..5 {
            if now[k] != self.pushed_counts[k] {
                self.push_counter(SERIES[k], t, now[k]);
                self.pushed_counts[k] = now[k];
            }
        }
    }

    /// Adds a point to counter `k` (in `Counters::all` order), through its thinning when
    /// making an overview.
    #[inline(always)]
    fn push_counter(&mut self, k: usize, t: i64, v: i64) {
        if self.thin_ns > 0 && self.counter_thin[k].push_within(t, v, self.thin_ns) {
            return;
        }
        self.push_counter_rest(k, t, v);
    }

    #[inline(never)]
    fn push_counter_rest(&mut self, k: usize, t: i64, v: i64) {
        let series = self.counters.all_mut().into_iter().nth(k);
        let Some(series) = series else { return };
        if t < self.keep_from_ns {
            // Before a window: its value there is where the window's counter begins.
            self.counter_values[k] = Some(v);
            return;
        }
        let (thin, thin_ns) = (&mut self.counter_thin[k], self.thin_ns);
        let mut push = |t, v| {
            if thin_ns > 0 {
                thin.push(series, t, v, thin_ns);
            } else {
                series.push(t, v);
            }
        };
        if self.keep_from_ns > i64::MIN {
            if let Some(v0) = self.counter_values[k].take() {
                push(self.keep_from_ns, v0);
            }
        }
        push(t, v);
    }

    #[inline]
    fn is_gc_reason(&mut self, reason: StrId) -> bool {
        if reason == 0 {
            return false;
        }
        match self.gc_reason.get(reason as usize) {
            Some(&gc) => gc,
            None => self.learn_gc_reasons(reason),
        }
    }

    /// `is_gc_reason` of a string id not seen yet (and of those before it).
    #[cold]
    #[inline(never)]
    fn learn_gc_reasons(&mut self, reason: StrId) -> bool {
        let i = reason as usize;
        let from = self.gc_reason.len();
        self.gc_reason.resize(i + 1, false);
        for (k, v) in self.gc_reason.iter_mut().enumerate().skip(from) {
            *v = self.interner.string(k as StrId).starts_with("GC ");
        }
        self.gc_reason[i]
    }

    fn close_p_span(&mut self, p: i64, t: i64) {
        if p < 0 {
            return;
        }
        let keep = self.keep();
        close_p_span_of(self.proc(p), t, keep);
    }

    fn close_m_span(&mut self, m: i64, t: i64) {
        if m < 0 {
            return;
        }
        let keep = self.keep();
        close_m_span_of(self.thread(m), t, keep);
    }

    fn open_m_span(&mut self, m: i64, t: i64, g: i64, p: i64, syscall: bool) {
        if m < 0 {
            return;
        }
        self.close_m_span(m, t);
        self.thread(m).open = Some(MSpan {
            start_ns: t,
            end_ns: t,
            g,
            p: narrow_p(p),
            syscall,
        });
    }

    fn close_syscall_work(&mut self, p: i64, t: i64) {
        if p < 0 {
            return;
        }
        close_syscall_work_of(self.proc(p), t);
    }

    /// Pauses goroutine `id`'s (at `gi`) open mark assist as it leaves its P at `t` (`p`
    /// is -1: the stretch on its P becomes a P range), or goes on with it on P `p` as it
    /// starts running there (`to` is running).
    fn move_assist(&mut self, gi: usize, id: i64, t: i64, p: i64, to: u64) {
        let gb = &mut self.gs.values_mut()[gi];
        let Some((start_ns, on_p)) = gb.now.assist else {
            return;
        };
        if p < 0 {
            gb.now.assist = Some((t, -1));
            if on_p >= 0 {
                self.push_assist(on_p, start_ns, t, id, true);
            }
        } else if on_p < 0 && to == state::GO_RUNNING {
            gb.now.assist = Some((t, p));
        }
    }

    fn push_assist(&mut self, p: i64, start_ns: i64, end_ns: i64, g: i64, goes_on: bool) {
        push_work(
            &mut self.proc(p).lane,
            PWork::MarkAssist,
            start_ns,
            end_ns,
            g,
            goes_on,
        );
    }

    fn goroutine_transition(
        &mut self,
        ev: &Event,
        tables: &Tables,
        id: i64,
        tr: trace::Transition,
    ) {
        let t = ev.time_ns;
        let trans_stack = tr
            .stack
            .map(|s| self.interner.trace_stack(tables, s))
            .unwrap_or(0);
        let ev_stack = self.interner.trace_stack(tables, ev.stack_id());
        let reason = self.interner.trace_string(tables, tr.reason);
        let is_gc_reason = self.is_gc_reason(reason);
        let network = self.network;
        let sleep = self.sleep;
        let keep = self.keep();
        let gi = self.goroutine_place(id);
        let (old_state, old_p, old_m, block_reason, unnamed, has_open) = {
            let gb = &self.gs.values_mut()[gi];
            (
                gb.now.go_state,
                gb.now.p,
                gb.now.m,
                gb.now.block_reason,
                gb.g.start_fn == 0,
                gb.now.open.is_some(),
            )
        };
        if trans_stack != 0 && unnamed {
            let root = self
                .interner
                .stack(trans_stack)
                .last()
                .map_or(0, |f| f.func);
            self.gs.values_mut()[gi].g.start_fn = root;
        }
        // Same-state status at a generation boundary: nothing changes.
        if tr.from == tr.to && has_open {
            return;
        }
        let from = if tr.from == state::GO_UNDETERMINED {
            old_state
        } else {
            tr.from
        };

        // Leave the old state.
        if let Some(s) = gstate_of(from) {
            if old_state != state::GO_UNDETERMINED || tr.from != state::GO_UNDETERMINED {
                self.counts[state_index(s)] -= 1;
                if s == GState::Waiting && self.is_gc_reason(block_reason) {
                    self.gc_waiting -= 1;
                }
            }
        }
        {
            let gb = &mut self.gs.values_mut()[gi];
            if let Some(mut s) = gb.now.open.take() {
                s.end_ns = t;
                s.end_stack = ev_stack;
                if s.state == GState::Running {
                    gb.g.running_ns = gb.g.running_ns.saturating_add(t.saturating_sub(s.start_ns));
                }
                push_span(&mut gb.g.spans, &mut gb.thin, s, keep);
            }
        }
        match from {
            state::GO_RUNNING => {
                self.close_p_span(old_p, t);
                self.close_m_span(old_m, t);
            }
            state::GO_SYSCALL => {
                self.close_syscall_work(old_p, t);
                self.close_m_span(old_m, t);
                self.stimulus(Stimulus {
                    time_ns: t,
                    kind: StimulusKind::Syscall,
                    g: id,
                });
            }
            state::GO_WAITING if tr.to == state::GO_RUNNABLE && ev.typ != EV_GO_STATUS => {
                let kind = if block_reason == network {
                    Some(StimulusKind::Network)
                } else if block_reason == sleep || ev.g < 0 {
                    Some(StimulusKind::Timer)
                } else {
                    None
                };
                if let Some(kind) = kind {
                    self.stimulus(Stimulus {
                        time_ns: t,
                        kind,
                        g: id,
                    });
                }
            }
            _ => {}
        }
        // A mark assist is work on the P its goroutine executes on, so it is a P range per
        // stretch the goroutine executes (as `go tool trace` draws it): it pauses when the
        // goroutine leaves its P (blocked in the assist, say) and goes on where it runs
        // again, or else a P would look busy assisting while it runs other goroutines.
        let was_executing = matches!(from, state::GO_RUNNING | state::GO_SYSCALL);
        if self.assists_open > 0
            && was_executing != matches!(tr.to, state::GO_RUNNING | state::GO_SYSCALL)
        {
            let p = if was_executing { -1 } else { ev.p };
            self.move_assist(gi, id, t, p, tr.to);
        }

        // Enter the new state.
        let gb = &mut self.gs.values_mut()[gi];
        gb.now.go_state = tr.to;
        if tr.from == state::GO_NOT_EXIST {
            gb.g.created_ns = Some(t);
            gb.g.creator = ev.g;
            gb.g.create_stack = ev_stack;
        }
        let Some(new) = gstate_of(tr.to) else {
            // Gone.
            gb.g.ended_ns = Some(t);
            gb.now.p = -1;
            gb.now.m = -1;
            self.push_counts(t);
            return;
        };
        let own_event = matches!(ev.typ, EV_GO_BLOCK | EV_GO_STOP | EV_GO_SYSCALL_BEGIN);
        let span = GSpan {
            start_ns: t,
            end_ns: t,
            state: new,
            reason: if matches!(new, GState::Waiting | GState::Runnable) {
                reason
            } else {
                0
            },
            start_stack: if own_event || ev.typ == EV_GO_UNBLOCK {
                ev_stack
            } else {
                trans_stack
            },
            end_stack: 0,
            waker: if ev.typ == EV_GO_UNBLOCK
                || ev.typ == EV_GO_SWITCH
                || ev.typ == EV_GO_SWITCH_DESTROY
            {
                ev.g
            } else {
                -1
            },
            p: if new == GState::Running {
                narrow_p(ev.p)
            } else {
                -1
            },
        };
        if self.thin_ns > 0 {
            note_waker(&mut self.wakes, id, &mut gb.waker_noted, span.waker);
        }
        gb.now.open = Some(span);
        if new == GState::Waiting {
            gb.now.block_reason = reason;
        }
        match new {
            GState::Running => {
                gb.now.p = ev.p;
                gb.now.m = ev.m;
            }
            GState::Syscall => {
                gb.now.p = ev.p;
                gb.now.m = ev.m;
            }
            _ => {
                gb.now.p = -1;
                gb.now.m = -1;
            }
        }
        self.counts[state_index(new)] += 1;
        if new == GState::Waiting && is_gc_reason {
            self.gc_waiting += 1;
        }
        match new {
            GState::Running if ev.p >= 0 => {
                self.close_p_span(ev.p, t);
                self.proc(ev.p).open = Some(PSpan {
                    start_ns: t,
                    end_ns: t,
                    g: id,
                });
                self.open_m_span(ev.m, t, id, ev.p, false);
            }
            GState::Syscall => {
                if ev.p >= 0 {
                    self.proc(ev.p).syscall = Some((t, id));
                }
                self.open_m_span(ev.m, t, id, ev.p, true);
            }
            _ => {}
        }
        self.push_counts(t);
    }

    fn proc_transition(&mut self, ev: &Event, id: i64, tr: trace::Transition) {
        let t = ev.time_ns;
        let was_running = self.proc(id).running;
        let now_running = tr.to == state::PROC_RUNNING;
        if ev.typ == EV_PROC_STEAL {
            self.close_syscall_work(id, t);
            // A stolen P leaves its thread in the syscall without a P.
            let victim = ev.args[2] as i64;
            if let Some(mb) = self.ms.get_mut(&victim) {
                if let Some(s) = mb.open {
                    if s.syscall && i64::from(s.p) == id {
                        self.close_m_span(victim, t);
                        self.thread(victim).open = Some(MSpan {
                            start_ns: t,
                            end_ns: t,
                            g: s.g,
                            p: -1,
                            syscall: true,
                        });
                    }
                }
            }
        }
        if was_running != now_running {
            self.procs_running += if now_running { 1 } else { -1 };
            self.proc(id).running = now_running;
            self.push_counts(t);
        }
    }

    pub(crate) fn event(&mut self, ev: &Event, tables: &Tables) {
        self.events += 1;
        let t = ev.time_ns;
        if ev.typ != EV_SYNC || self.first_ns.is_none() {
            self.first_ns.get_or_insert(t);
        }
        self.last_ns = t;
        // Every P and thread seen gets a lane. Lanes are never removed, so an id that is
        // the same as the previous event's (most are) needs no look-up.
        if ev.p >= 0 && ev.p != self.seen_p {
            self.proc(ev.p);
            self.seen_p = ev.p;
        }
        if ev.m >= 0 && ev.m != self.seen_m {
            self.thread(ev.m);
            self.seen_m = ev.m;
        }
        match ev.kind() {
            Kind::StateTransition => {
                if let Some(tr) = ev.transition() {
                    match tr.resource {
                        Resource::Goroutine(g) => self.goroutine_transition(ev, tables, g, tr),
                        Resource::Proc(p) => self.proc_transition(ev, p, tr),
                    }
                }
            }
            Kind::Metric => {
                let v = i64::try_from(ev.args[0]).unwrap_or(i64::MAX);
                match ev.typ {
                    EV_HEAP_ALLOC => self.push_counter(0, t, v),
                    EV_HEAP_GOAL => self.push_counter(1, t, v),
                    _ => self.push_counter(2, t, v),
                }
            }
            // An "active" event restates, at a generation's start, a range begun earlier:
            // one already open keeps its start.
            Kind::RangeBegin | Kind::RangeActive => match ev.typ {
                EV_GC_BEGIN => self.gc_open = Some((t, ev.args[0])),
                EV_GC_ACTIVE => {
                    self.gc_open.get_or_insert((t, ev.args[0]));
                }
                EV_STW_BEGIN => {
                    let kind = self.interner.trace_string(tables, ev.args[0]);
                    self.stw_open.insert(ev.g, (t, kind));
                }
                EV_GC_MARK_ASSIST_BEGIN => {
                    let p = ev.p;
                    if self.goroutine(ev.g).now.assist.replace((t, p)).is_none() {
                        self.assists_open += 1;
                    }
                }
                EV_GC_MARK_ASSIST_ACTIVE => {
                    let g = ev.args[0] as i64;
                    let gb = self.goroutine(g);
                    let p = gb.now.p;
                    if gb.now.assist.is_none() {
                        gb.now.assist = Some((t, p));
                        self.assists_open += 1;
                    }
                }
                EV_GC_SWEEP_BEGIN => self.proc(ev.p).sweep = Some((t, ev.g)),
                EV_GC_SWEEP_ACTIVE => {
                    self.proc(ev.args[0] as i64).sweep.get_or_insert((t, -1));
                }
                _ => {}
            },
            Kind::RangeEnd => match ev.typ {
                EV_GC_END => {
                    let (start, seq) = self
                        .gc_open
                        .take()
                        .unwrap_or((self.first_ns.unwrap_or(t), ev.args[0]));
                    self.gc.push(GcCycle {
                        start_ns: start,
                        end_ns: t,
                        seq,
                    });
                }
                EV_STW_END => {
                    let (start, kind) = self.stw_open.remove(&ev.g).unwrap_or((
                        self.first_ns.unwrap_or(t),
                        self.interner.trace_string(tables, ev.args[0]),
                    ));
                    self.stw.push(Stw {
                        start_ns: start,
                        end_ns: t,
                        kind,
                        g: ev.g,
                        straggler_ns: 0,
                        straggler_p: -1,
                    });
                    if ev.p >= 0 {
                        push_work(&mut self.proc(ev.p).lane, PWork::Stw, start, t, ev.g, false);
                    }
                }
                EV_GC_MARK_ASSIST_END => {
                    let first = self.first_ns.unwrap_or(t);
                    let gb = self.goroutine(ev.g);
                    let open = gb.now.assist.take();
                    let (start, p) = open.unwrap_or((first, ev.p));
                    // Paused (the goroutine has not run since it left its P, as far as this
                    // builder saw): the stretch it has been running on its P now.
                    let (start, p) = if p >= 0 {
                        (start, p)
                    } else {
                        let running_since = gb
                            .now
                            .open
                            .filter(|s| s.state == GState::Running)
                            .map_or(t, |s| s.start_ns);
                        (start.max(running_since), ev.p)
                    };
                    if open.is_some() {
                        self.assists_open = self.assists_open.saturating_sub(1);
                    }
                    if p >= 0 {
                        self.push_assist(p, start, t, ev.g, false);
                    }
                }
                EV_GC_SWEEP_END => {
                    let first = self.first_ns.unwrap_or(t);
                    let pb = self.proc(ev.p);
                    let start = pb.sweep.take().map_or(first, |s| s.0);
                    push_work(&mut pb.lane, PWork::Sweep, start, t, ev.g, false);
                }
                _ => {}
            },
            Kind::TaskBegin => {
                let name = self.interner.trace_string(tables, ev.args[2]);
                let task = self.tasks.entry(ev.args[0]).or_insert_with(|| Task {
                    id: ev.args[0],
                    parent: ev.args[1],
                    name,
                    start_ns: None,
                    end_ns: None,
                    goroutines: Vec::new(),
                });
                task.start_ns = Some(t);
                task.parent = ev.args[1];
                task.name = name;
                task.goroutines.push(ev.g);
            }
            Kind::TaskEnd => {
                let name = self.interner.intern(tables.extra_string(ev.args[3]));
                let task = self.tasks.entry(ev.args[0]).or_insert_with(|| Task {
                    id: ev.args[0],
                    parent: ev.args[2],
                    name,
                    start_ns: None,
                    end_ns: None,
                    goroutines: Vec::new(),
                });
                task.end_ns = Some(t);
                task.goroutines.push(ev.g);
            }
            Kind::RegionBegin => {
                let name = self.interner.trace_string(tables, ev.args[1]);
                let stack = self.interner.trace_stack(tables, ev.stack_id());
                let task = ev.args[0];
                let gb = self.goroutine(ev.g);
                let depth = gb.now.open_regions.len() as u32;
                gb.now.open_regions.push(Region {
                    start_ns: t,
                    end_ns: t,
                    g: ev.g,
                    task,
                    name,
                    depth,
                    start_stack: stack,
                });
                self.note_task(task, ev.g);
            }
            Kind::RegionEnd => {
                let name = self.interner.trace_string(tables, ev.args[1]);
                let first = self.first_ns.unwrap_or(t);
                let task = ev.args[0];
                let gb = self.goroutine(ev.g);
                let mut r = gb.now.open_regions.pop().unwrap_or(Region {
                    start_ns: first,
                    end_ns: t,
                    g: ev.g,
                    task,
                    name,
                    depth: 0,
                    start_stack: 0,
                });
                r.end_ns = t;
                gb.g.regions.push(r);
                self.note_task(task, ev.g);
            }
            Kind::Log => {
                let category = self.interner.trace_string(tables, ev.args[1]);
                let message = self.interner.trace_string(tables, ev.args[2]);
                if t >= self.keep_from_ns {
                    self.logs.push(Log {
                        time_ns: t,
                        g: ev.g,
                        task: ev.args[0],
                        category,
                        message,
                    });
                }
                self.note_task(ev.args[0], ev.g);
            }
            Kind::Label => {
                let label = self.interner.trace_string(tables, ev.args[0]);
                self.goroutine(ev.g).g.label = label;
            }
            Kind::StackSample => {
                if t >= self.keep_from_ns {
                    let stack = self.interner.trace_stack(tables, ev.args[0]);
                    self.cpu_samples.push(CpuSample {
                        time_ns: t,
                        g: ev.g,
                        p: ev.p,
                        m: ev.m,
                        stack,
                    });
                }
            }
            Kind::Sync => {
                self.syncs += 1;
                if self.clock.is_none() {
                    self.clock = tables.clock.map(|c| WallClock {
                        trace_ns: tables.ns(c.trace_ticks),
                        wall_sec: c.wall_sec as i64,
                        wall_nsec: c.wall_nsec as u32,
                    });
                }
            }
            Kind::Experimental => {}
        }
    }

    /// Takes the Sync event a read ends with, as a read of the trace cut here would
    /// (one nanosecond after the last event, as the reader keeps times increasing).
    /// The model of the events built so far, as a preview hands it over: the generations
    /// before the current one complete, and what is open closed one nanosecond after the
    /// last event (`close_as_cut`).
    fn into_preview(mut self, format_version: u32, file_bytes: u64) -> Model {
        let generations = self.syncs.saturating_sub(1);
        self.close_as_cut();
        self.finish(format_version, generations, file_bytes, None)
    }

    fn close_as_cut(&mut self) {
        self.sync_at(self.last_ns.wrapping_add(1));
    }

    /// Takes a Sync event at `time_ns` if that is later than the last event, as a read
    /// takes those that end a trace: what is open then is closed there by `finish`.
    pub(crate) fn end_at(&mut self, time_ns: i64) {
        if time_ns > self.last_ns {
            self.sync_at(time_ns);
        }
    }

    fn sync_at(&mut self, time_ns: i64) {
        let ev = Event {
            time_ns,
            m: trace::NONE,
            p: trace::NONE,
            g: trace::NONE,
            args: [0; 4],
            typ: EV_SYNC,
        };
        self.event(&ev, &Tables::default());
    }

    fn note_task(&mut self, task: u64, g: i64) {
        if task == 0 || task == trace::NO_TASK {
            return;
        }
        if let Some(t) = self.tasks.get_mut(&task) {
            if t.goroutines.last() != Some(&g) {
                t.goroutines.push(g);
            }
        }
    }

    /// A goroutine's lane, closed at the trace's end `end`, and made no bigger than it is.
    fn finish_goroutine(&mut self, mut gb: GBuild, end: i64) -> Goroutine {
        if gb.now.open.is_some_and(|s| s.state == GState::Syscall) {
            self.close_syscall_work(gb.now.p, end);
        }
        // A mark assist open at the end, on the P its goroutine executes on, ends there
        // (Go's views end a running goroutine's ranges at a trace's end); paused off its
        // P, it has no stretch to show.
        if let Some((start_ns, p)) = gb.now.assist.take() {
            if p >= 0 {
                self.push_assist(p, start_ns, end, gb.g.id, false);
            }
        }
        if let Some(mut s) = gb.now.open.take() {
            s.end_ns = end;
            if s.state == GState::Running {
                gb.g.running_ns =
                    gb.g.running_ns
                        .saturating_add(end.saturating_sub(s.start_ns));
            }
            push_span(&mut gb.g.spans, &mut gb.thin, s, self.keep());
        }
        gb.thin.flush(&mut gb.g.spans);
        for mut r in gb.now.open_regions.drain(..) {
            r.end_ns = end;
            gb.g.regions.push(r);
        }
        gb.g.regions.sort_by_key(|r| (r.start_ns, r.depth));
        gb.g.regions.shrink_to_fit();
        gb.g.spans.shrink_to_fit();
        gb.g
    }

    pub(crate) fn finish(
        mut self,
        format_version: u32,
        generations: usize,
        file_bytes: u64,
        warning: Option<String>,
    ) -> Model {
        // A window of part of a generation in which nothing happened ends where it begins.
        let end = self.last_ns.max(self.keep_from_ns);
        let start = self.first_ns.unwrap_or(0);
        let gs = std::mem::take(&mut self.gs).into_values();
        // Collected in place: the goroutines take the builder's own vector (a goroutine is
        // smaller than its builder), so there are never both at once; then the vector gives
        // back what the goroutines don't fill. With 100,000 goroutines that is some 26 MB.
        let mut goroutines: Vec<Goroutine> = gs
            .into_iter()
            .map(|gb| self.finish_goroutine(gb, end))
            .collect();
        goroutines.shrink_to_fit();
        goroutines.sort_by_key(|g| g.id);
        let keep = self.keep();
        for pb in self.ps.values_mut() {
            close_p_span_of(pb, end, keep);
            pb.thin.flush(&mut pb.lane.spans);
            close_syscall_work_of(pb, end);
            // A model's end closes its sweeps, as Go's proc view does at a trace's end.
            close_work_of(&mut pb.sweep, &mut pb.lane, PWork::Sweep, end);
        }
        for mb in self.ms.values_mut() {
            close_m_span_of(mb, end, keep);
            mb.thin.flush(&mut mb.lane.spans);
        }
        let mut procs: Vec<Proc> = self
            .ps
            .into_values()
            .into_iter()
            .map(|mut p| {
                p.lane.sort_work();
                p.lane
            })
            .collect();
        procs.sort_by_key(|p| p.id);
        let mut threads: Vec<Thread> = self.ms.into_values().into_iter().map(|m| m.lane).collect();
        threads.sort_by_key(|t| t.id);
        if let Some((s, seq)) = self.gc_open.take() {
            self.gc.push(GcCycle {
                start_ns: s,
                end_ns: end,
                seq,
            });
        }
        for (g, (s, kind)) in self.stw_open.drain() {
            self.stw.push(Stw {
                start_ns: s,
                end_ns: end,
                kind,
                g,
                straggler_ns: 0,
                straggler_p: -1,
            });
        }
        self.stw.sort_by_key(|s| s.start_ns);
        find_stragglers(&mut self.stw, &procs);
        self.stimuli.sort_by_key(|s| s.time_ns);
        for k in 0..3 {
            self.stimulus_thin[k].flush(&mut self.stimulus_times[k], &mut self.stimulus_totals[k]);
        }
        let mut stimulus_times = std::mem::take(&mut self.stimulus_times);
        let stimulus_totals = std::mem::take(&mut self.stimulus_totals);
        for s in &self.stimuli {
            stimulus_times[s.kind as usize].push(s.time_ns);
        }
        let mut tasks: Vec<Task> = self
            .tasks
            .into_values()
            .map(|mut t| {
                t.goroutines.sort_unstable();
                t.goroutines.dedup();
                t.goroutines.retain(|&g| g >= 0);
                t
            })
            .collect();
        tasks.sort_by_key(|t| (t.start_ns.unwrap_or(start), t.id));
        self.interner.seal();
        // A window of part of a generation: the counters that had no point in it begin
        // with their value there all the same.
        let pending = std::mem::take(&mut self.counter_values);
        if self.keep_from_ns > i64::MIN {
            for (series, v) in self.counters.all_mut().into_iter().zip(pending) {
                if let Some(v) = v {
                    series.push(self.keep_from_ns, v);
                }
            }
        }
        // The summaries read every counter block; the reading is over, so they take all
        // cores.
        for (series, thin) in self
            .counters
            .all_mut()
            .into_iter()
            .zip(&mut self.counter_thin)
        {
            thin.flush(series);
        }
        self.counters
            .all_mut()
            .into_par_iter()
            .for_each(|s| s.seal());
        Model {
            start_ns: start,
            end_ns: end.max(start),
            format_version,
            generations,
            events: self.events,
            file_bytes,
            warning,
            clock: self.clock,
            interner: self.interner,
            goroutines,
            procs,
            threads,
            counters: self.counters,
            stimuli: self.stimuli,
            stimulus_times,
            stimulus_totals,
            gc: self.gc,
            stw: self.stw,
            tasks,
            logs: self.logs,
            cpu_samples: self.cpu_samples,
            overview_bucket_ns: self.thin_ns,
            wakes: {
                let mut v: Vec<(i64, i64)> = self.wakes.into_iter().collect();
                v.sort_unstable();
                v
            },
            family: Default::default(),
            stack_tags: Default::default(),
            assists: Default::default(),
        }
    }
}

/// Builds the model of a trace.
pub fn build<S: trace::Source + ?Sized>(data: &S) -> trace::Result<Model> {
    build_with(data, &AtomicBool::new(false), &mut |_| {})
}

/// Builds the model, reporting progress and stopping early (with what was read) when
/// `cancel` is set.
pub(crate) fn build_with<S: trace::Source + ?Sized>(
    data: &S,
    cancel: &AtomicBool,
    progress: &mut (dyn FnMut(BuildStage) + Send),
) -> trace::Result<Model> {
    build_previewing(data, cancel, progress, 0, None)
}

/// Where a preview goes: the model of the trace's first events (see `build_previewing`).
pub type OnPreview<'p> = &'p mut (dyn FnMut(Model) + Send);

/// Bytes at the start of a file whose generations an overview's preview is read from
/// (`build_preview`): room for `PREVIEW_EVENTS` several times over at Go's 6 or so bytes
/// an event, and a small part of any file big enough for an overview.
const PREVIEW_PREFIX_BYTES: u64 = 16 << 20;

/// The model of a trace's first `events` events, as `build_previewing` hands it over (the
/// whole model cut one nanosecond after its last event), from a read of its own of the
/// generations that begin in the file's first `PREVIEW_PREFIX_BYTES`. That read does not
/// wait for the scan of the whole file, which for a file of gigabytes, not yet in the page
/// cache, takes seconds of disk reads. `None` when those generations hold no more than
/// `events` events, or when `cancel` is set first.
fn build_preview<S: trace::Source + ?Sized>(
    source: &S,
    events: u64,
    cancel: &AtomicBool,
) -> Option<Model> {
    let data = source.bytes();
    let format_version = trace::batch::read_header(data).map_or(0, |v| v.0);
    // Set once an event comes after the preview's last (there is more to the trace), or
    // once `cancel` is: the read may stop.
    let enough = AtomicBool::new(false);
    let mut b = Builder::new();
    // The read stops soon after `enough` is set (it looks at it every 2^16 steps); the
    // events it still hands over until then are not built.
    let _ = trace::read_pipelined(
        source,
        ReadOptions {
            prefix_bytes: PREVIEW_PREFIX_BYTES,
            ..ReadOptions::default()
        },
        &enough,
        &mut |ev: &Event, tables: &Tables| {
            if b.events < events && !cancel.load(Ordering::Relaxed) {
                b.event(ev, tables);
            } else {
                enough.store(true, Ordering::Relaxed);
            }
        },
        &mut |_| {},
    );
    let more = b.events == events && enough.load(Ordering::Relaxed);
    (more && !cancel.load(Ordering::Relaxed))
        .then(|| b.into_preview(format_version, data.len() as u64))
}

/// Events after which the viewer asks for a preview: about 0.15 s of building on the
/// benchmark machine, and a copy of some 60 MB of builder state.
pub const PREVIEW_EVENTS: u64 = 1 << 20;

/// `build_with`, handing `preview` (on a thread of its own, while the rest is read) the
/// model of the trace's first `preview_events` events, so a viewer can draw the start of
/// a long trace early. That model is the whole one cut at its end, one nanosecond after
/// its last event: every span, range and counter point before that is the same, and what
/// was open there is closed there. A trace of no more events gets no preview. Taking it
/// costs a copy of the builder's state at that point.
pub fn build_previewing<S: trace::Source + ?Sized>(
    source: &S,
    cancel: &AtomicBool,
    progress: &mut (dyn FnMut(BuildStage) + Send),
    preview_events: u64,
    preview: Option<OnPreview<'_>>,
) -> trace::Result<Model> {
    build_inner(
        source,
        cancel,
        progress,
        preview_events,
        preview,
        None,
        false,
    )
    .map(|(m, _)| m)
}

/// The builder's state at the start of each generation (see `Builder::resume_point`), with
/// the generation's number and the time of its first event.
pub(crate) type Snapshots = Vec<(u64, i64, Saved)>;

/// What a build that keeps resumes also gives: the ordering state at each generation's
/// start, the builder's, the builder's at each point inside a generation the ordering
/// saved (`trace::Resume::points_ns`; per generation, in order), and the whole trace's
/// interner before it was sealed.
pub(crate) struct Kept {
    pub trace: Vec<trace::Resume>,
    pub builders: Snapshots,
    pub points: Vec<Vec<Saved>>,
    pub interner: Interner,
}

/// Steps of the ordering (about events) between two points inside a generation from
/// which a window can be ordered again (`trace::ReadOptions::resume_every_steps`): a
/// window orders at most this many events before its start, instead of everything from
/// its generation's start. Each point costs a copy of the ordering's and the builder's
/// open state.
pub const RESUME_EVERY_STEPS: u64 = 1 << 20;

/// Points inside generations a trace keeps at most, about: a longer trace spaces them
/// further apart, so that they take bounded memory (about 0.25 MB each with a thousand
/// goroutines) rather than memory that grows with the file.
pub const MAX_RESUME_POINTS: u64 = 256;

/// The steps between two points for a trace file of `file_bytes`: `RESUME_EVERY_STEPS`,
/// or more where that would make more than about `MAX_RESUME_POINTS` (counting at least
/// 5 bytes an event; Go's events take 5.8 on the benchmark traces).
pub fn resume_every_steps(file_bytes: u64) -> u64 {
    (file_bytes / 5 / MAX_RESUME_POINTS).max(RESUME_EVERY_STEPS)
}

/// Spans per lane, about, that an overview thins a trace's time into (`overview`).
pub const OVERVIEW_BUCKETS: i64 = 4096;

/// `build_previewing`, also keeping (with `keep_resumes`, the steps between two points
/// saved inside a generation: `u64::MAX` for none) what `window::build_window` starts
/// from, and (with `overview`) thinning lanes and counters into an overview: each
/// lane's spans shorter than a bucket of about 1/`OVERVIEW_BUCKETS` of the trace are
/// summed per bucket (`overview::Thinning`). The trace's length, for the bucket, comes
/// from the scan (its first and last batch times, in the first generation's ticks), before
/// the first event is built; failing that, it is guessed when the second generation
/// begins from the first one's length and the number of generations, and what was built
/// by then is thinned at that point.
pub(crate) fn build_inner<S: trace::Source + ?Sized>(
    source: &S,
    cancel: &AtomicBool,
    progress: &mut (dyn FnMut(BuildStage) + Send),
    preview_events: u64,
    preview: Option<OnPreview<'_>>,
    keep_resumes: Option<u64>,
    overview: bool,
) -> trace::Result<(Model, Option<Kept>)> {
    let every_steps = keep_resumes.unwrap_or(0);
    let keep_resumes = keep_resumes.is_some();
    // Set when the read says the events so far end at a point it saved: the builder's
    // state is saved before the next event.
    let point_pending = std::sync::atomic::AtomicBool::new(false);
    let mut point_snapshots: Vec<(u64, Saved)> = Vec::new();
    let generations_found = std::sync::atomic::AtomicUsize::new(0);
    let ticks_found = std::sync::Mutex::new((0u64, 0u64));
    // The trace's first time and length in ns from the scan (0: unknown), found at the
    // first event; and `BuildStage::Decoding::through` for a read that has reached
    // `time_ns` having ordered `done` generations `of` them.
    let scan_first_ns = std::sync::atomic::AtomicI64::new(0);
    let scan_ns = std::sync::atomic::AtomicI64::new(0);
    let through = |done: usize, of: usize, time_ns: i64| {
        let length = scan_ns.load(Ordering::Relaxed);
        if length > 0 {
            let built = time_ns.saturating_sub(scan_first_ns.load(Ordering::Relaxed));
            (built as f64 / length as f64).clamp(0.0, 1.0) as f32
        } else {
            done as f32 / of.max(1) as f32
        }
    };
    progress(BuildStage::Scanning);
    let data = source.bytes();
    let format_version = trace::batch::read_header(data).map_or(0, |v| v.0);
    let file_bytes = data.len() as u64;
    let mut b = Builder::new();
    let mut snapshots: Snapshots = Vec::new();
    // An overview's preview comes from a read of the file's start of its own
    // (`build_preview`); otherwise from a copy of this build's state.
    let (mut preview, read_of_its_own) = if overview {
        (None, preview)
    } else {
        (preview, None)
    };
    let outcome = std::thread::scope(|scope| {
        if let Some(p) = read_of_its_own.filter(|_| preview_events > 0) {
            let spawned = std::thread::Builder::new()
                .name("goscope-preview".into())
                .spawn_scoped(scope, move || {
                    if let Some(m) = build_preview(source, preview_events, cancel) {
                        p(m);
                    }
                });
            // No thread to be had: no preview, the overview comes as ever.
            drop(spawned);
        }
        let mut sink = |ev: &Event, tables: &Tables| {
            if point_pending.load(Ordering::Relaxed) {
                point_pending.store(false, Ordering::Relaxed);
                point_snapshots.push((tables.generation, b.resume_point()));
            }
            if b.events == preview_events {
                if let Some(p) = preview.take() {
                    let snapshot = b.clone();
                    scope.spawn(move || p(snapshot.into_preview(format_version, file_bytes)));
                }
            }
            // Before anything is built: the trace's first time and length from the scan's
            // first and last batch times, with the first generation's frequency, for the
            // progress and an overview's bucket.
            if b.events == 0 {
                let (lo, hi) = ticks_found.lock().map_or((0, 0), |t| *t);
                let trace_ns = tables.ns(hi).saturating_sub(tables.ns(lo));
                scan_first_ns.store(tables.ns(lo), Ordering::Relaxed);
                scan_ns.store(trace_ns, Ordering::Relaxed);
                if overview
                    && b.thin_ns == 0
                    && generations_found.load(Ordering::Relaxed) >= 2
                    && trace_ns > 0
                {
                    b.thin_to((trace_ns / OVERVIEW_BUCKETS).max(1_000));
                }
            }
            // A Sync begins each generation (and one more ends the trace).
            if ev.typ == EV_SYNC {
                if keep_resumes {
                    snapshots.push((tables.generation, ev.time_ns, b.resume_point()));
                }
                // The second generation's start (not the Sync that ends a trace, of
                // generation 0; a v1 trace is one generation and is never thinned: no
                // window could show its detail).
                let generations = generations_found.load(Ordering::Relaxed) as i64;
                if overview
                    && b.thin_ns == 0
                    && b.syncs == 1
                    && tables.generation != 0
                    && generations >= 2
                {
                    let first_ns = b.first_ns.unwrap_or(ev.time_ns);
                    let trace_ns = ev
                        .time_ns
                        .saturating_sub(first_ns)
                        .saturating_mul(generations);
                    b.thin_to((trace_ns / OVERVIEW_BUCKETS).max(1_000));
                }
            }
            b.event(ev, tables)
        };
        let mut done = 0;
        let mut on_progress = |p: trace::Progress| match p {
            trace::Progress::Scanned { generations, ticks } => {
                generations_found.store(generations, Ordering::Relaxed);
                if let Ok(mut t) = ticks_found.lock() {
                    *t = ticks;
                }
                progress(BuildStage::Decoding {
                    done: 0,
                    of: generations,
                    through: 0.0,
                })
            }
            trace::Progress::Resumable { time_ns, .. } => {
                point_pending.store(true, Ordering::Relaxed);
                let of = generations_found.load(Ordering::Relaxed);
                progress(BuildStage::Decoding {
                    done,
                    of,
                    through: through(done, of, time_ns),
                })
            }
            trace::Progress::Ordered {
                generation,
                of,
                time_ns,
            } => {
                done = generation;
                progress(BuildStage::Decoding {
                    done,
                    of,
                    through: through(done, of, time_ns),
                })
            }
        };
        // Ordering in turn: the builder costs more per event than the ordering, so it sets
        // the pace, and ordering ahead would only add the stitch's work (measured: 1.9 s
        // against 2.2 s on the benchmark trace).
        trace::read_pipelined(
            source,
            ReadOptions {
                keep_resumes,
                resume_every_steps: every_steps,
                ..ReadOptions::default()
            },
            cancel,
            &mut sink,
            &mut on_progress,
        )
    })?;
    progress(BuildStage::Finishing);
    let warning = outcome.warning.map(|w| w.to_string());
    let kept = keep_resumes.then(|| {
        // Pair each generation's ordering state with the builder's at the same Sync.
        let mut builders = snapshots.into_iter().peekable();
        let mut paired = Vec::with_capacity(outcome.resumes.len());
        for r in &outcome.resumes {
            while builders.next_if(|s| s.0 != r.generation).is_some() {}
            if let Some(s) = builders.next() {
                paired.push(s);
            }
        }
        let trace = if paired.len() == outcome.resumes.len() {
            outcome.resumes
        } else {
            paired.clear();
            Vec::new()
        };
        // And each point inside a generation with the builder's there, in order. A
        // generation whose counts differ (none should) gets no points: its windows are
        // ordered from its start.
        let mut point_snapshots = point_snapshots.into_iter().peekable();
        let points = trace
            .iter()
            .map(|r| {
                while point_snapshots.next_if(|s| s.0 != r.generation).is_some() {}
                let mut kept = Vec::new();
                while let Some((_, b)) = point_snapshots.next_if(|s| s.0 == r.generation) {
                    kept.push(b);
                }
                if kept.len() != r.points_ns().count() {
                    kept.clear();
                }
                kept
            })
            .collect();
        Kept {
            trace,
            builders: paired,
            points,
            interner: b.interner.clone(),
        }
    });
    Ok((
        b.finish(outcome.version.0, outcome.generations, file_bytes, warning),
        kept,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The progress of a build says how much of the trace's time is built, growing inside
    /// a generation each time the read saves a point there (a long generation is most of
    /// a big trace), never going back, and reaching the end.
    #[test]
    fn a_builds_progress_grows_with_the_time_built_inside_generations() {
        let bytes = goscope_testdata::trace_bytes("generations-go127");
        let mut seen: Vec<(usize, usize, f32)> = Vec::new();
        let mut progress = |b: BuildStage| {
            if let BuildStage::Decoding { done, of, through } = b {
                seen.push((done, of, through));
            }
        };
        crate::build_keeping_resumes_every(&bytes[..], 300, &AtomicBool::new(false), &mut progress)
            .unwrap();
        let of = seen[0].1;
        assert!(of >= 3, "{of} generations");
        let inside = seen
            .iter()
            .filter(|s| s.0 < of && s.2 > s.0 as f32 / of as f32)
            .count();
        assert!(
            seen.len() > 2 * of,
            "{} reports for {of} generations",
            seen.len()
        );
        assert!(
            seen.windows(2).all(|w| w[0].2 <= w[1].2),
            "went back: {seen:?}"
        );
        // Reports between two generations' ends that are past the last of them: the
        // bar moves within a generation.
        assert!(inside > of, "{inside} reports inside generations: {seen:?}");
        let last = seen.last().unwrap();
        assert_eq!(last.0, of);
        assert!(last.2 > 0.95 && last.2 <= 1.0, "{last:?}");
    }

    #[test]
    fn points_inside_generations_are_spaced_so_a_long_trace_keeps_a_bounded_number() {
        // Up to about 1.3 GB the points are RESUME_EVERY_STEPS apart.
        assert_eq!(resume_every_steps(0), RESUME_EVERY_STEPS);
        assert_eq!(resume_every_steps(859_000_000), RESUME_EVERY_STEPS);
        // Beyond, fewer than MAX_RESUME_POINTS of them, at 5 bytes an event or more.
        for file_bytes in [2_000_000_000u64, 4_064_196_987, 40_000_000_000] {
            let every = resume_every_steps(file_bytes);
            assert!(every > RESUME_EVERY_STEPS, "{file_bytes}");
            assert!(file_bytes / 5 / every <= MAX_RESUME_POINTS, "{file_bytes}");
        }
    }
}
