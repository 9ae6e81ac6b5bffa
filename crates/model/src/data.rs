//! The model's plain data: goroutines with their state spans, processors, threads,
//! counters, stimuli, GC cycles and pauses, tasks, regions, logs and CPU samples.

use std::sync::Arc;

use crate::intern::{Interner, StackId, StrId};
use crate::lod::Timed;
use crate::series::Series;
use crate::spans::{self, Spans};

/// What a goroutine is doing during a span.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum GState {
    Running,
    Runnable,
    Waiting,
    Syscall,
}

impl GState {
    pub fn name(self) -> &'static str {
        match self {
            GState::Running => "running",
            GState::Runnable => "runnable",
            GState::Waiting => "waiting",
            GState::Syscall => "syscall",
        }
    }
}

/// One stretch of time a goroutine spent in one state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GSpan {
    pub start_ns: i64,
    pub end_ns: i64,
    pub state: GState,
    /// Why it waits (GoBlock reason) or stopped (GoStop reason); 0 if none.
    pub reason: StrId,
    /// Stack of the event that began the span (for a wait: where it blocked).
    pub start_stack: StackId,
    /// Stack of the event that ended it (for a run: where it stopped).
    pub end_stack: StackId,
    /// For runnable spans begun by an unblock: the goroutine that unblocked it
    /// (-1: the runtime, e.g. a timer or the network poller).
    pub waker: i64,
    /// The P it ran on (running spans), else -1. (Go has at most 1,024 Ps; an id beyond
    /// 16 bits, which only a damaged trace could hold, is kept as -1. 16 bits keep the
    /// span at 40 bytes instead of 48.)
    pub p: i16,
}

/// A P id in the width the spans keep (-1 when it doesn't fit).
pub(crate) fn narrow_p<T: TryFrom<i64> + From<i8>>(p: i64) -> T {
    T::try_from(p).unwrap_or(T::from(-1i8))
}

impl GSpan {
    pub fn duration_ns(&self) -> i64 {
        self.end_ns.saturating_sub(self.start_ns)
    }
}

/// A user region on a goroutine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    pub start_ns: i64,
    pub end_ns: i64,
    pub g: i64,
    pub task: u64,
    pub name: StrId,
    pub depth: u32,
    pub start_stack: StackId,
}

/// Everything known about one goroutine.
#[derive(Clone, Debug)]
pub struct Goroutine {
    pub id: i64,
    /// The root frame's function of its first stack (Go's naming rule).
    pub start_fn: StrId,
    pub creator: i64,
    pub create_stack: StackId,
    /// When it was created, if that happened inside the trace.
    pub created_ns: Option<i64>,
    /// When it exited, if that happened inside the trace.
    pub ended_ns: Option<i64>,
    /// Time-sorted, non-overlapping.
    pub spans: Spans<GSpan>,
    pub regions: Vec<Region>,
    pub running_ns: i64,
    pub label: StrId,
}

impl Goroutine {
    /// Its names and times without its spans and regions.
    pub fn info(&self) -> Goroutine {
        Goroutine {
            id: self.id,
            start_fn: self.start_fn,
            creator: self.creator,
            create_stack: self.create_stack,
            created_ns: self.created_ns,
            ended_ns: self.ended_ns,
            spans: Default::default(),
            regions: Vec::new(),
            running_ns: self.running_ns,
            label: self.label,
        }
    }

    pub fn first_ns(&self) -> i64 {
        self.spans.first().map_or(0, |s| s.start_ns)
    }
}

/// What a P is doing in its lower half.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PWork {
    MarkAssist,
    Sweep,
    Syscall,
    Stw,
}

impl PWork {
    pub const ALL: [PWork; 4] = [PWork::MarkAssist, PWork::Sweep, PWork::Syscall, PWork::Stw];
}

impl PWork {
    /// Whether a model closes this work at its end if it is still in progress there (at
    /// a trace's end, as Go's views do; at a window's, cut there): all but pauses, which
    /// a P's lane gets only when they end.
    pub fn closed_at_end(self) -> bool {
        self != PWork::Stw
    }

    pub fn name(self) -> &'static str {
        match self {
            PWork::MarkAssist => "GC mark assist",
            PWork::Sweep => "GC sweep",
            PWork::Syscall => "syscall",
            PWork::Stw => "stop-the-world",
        }
    }
}

impl Proc {
    /// Sorts the runtime work by kind, then start (stable: ranges that tie keep their
    /// order), and indexes where each kind begins (`work_of`).
    pub(crate) fn sort_work(&mut self) {
        Arc::make_mut(&mut self.work).sort_by_key(|w| (w.work as u8, w.start_ns));
        self.index_work();
    }

    /// Indexes where each kind of the runtime work begins (`work_of`), the work being in
    /// the order `sort_work` leaves it.
    pub(crate) fn index_work(&mut self) {
        let mut starts = [self.work.len(); 5];
        for k in (0..4).rev() {
            starts[k] = self.work.partition_point(|w| (w.work as usize) < k);
        }
        self.work_starts = starts;
    }

    /// The runtime work of one kind, sorted by start.
    pub fn work_of(&self, kind: PWork) -> &[PRange] {
        let k = kind as usize;
        &self.work[self.work_starts[k]..self.work_starts[k + 1]]
    }

    /// The share (0 to 1) of each of `n` equal buckets of `[start_ns, end_ns)` in which
    /// the P ran a goroutine.
    pub fn busy_per_bucket(&self, start_ns: i64, end_ns: i64, n: usize) -> Vec<f32> {
        crate::lod::covered_per_bucket(&self.spans, start_ns, end_ns, n)
    }
}

/// A goroutine running on a P.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PSpan {
    pub start_ns: i64,
    pub end_ns: i64,
    pub g: i64,
}

/// Runtime work on a P.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PRange {
    pub start_ns: i64,
    pub end_ns: i64,
    pub work: PWork,
    /// A mark assist whose goroutine left the P before the assist ended (blocked in it,
    /// or preempted): the assist goes on in the goroutine's next range of this kind, on
    /// whichever P it runs on next. A mark assist is work on a P only while its goroutine
    /// executes there. (It takes what was padding: the range stays 32 bytes.)
    pub goes_on: bool,
    pub g: i64,
}

/// One P's lane.
#[derive(Clone, Debug, Default)]
pub struct Proc {
    pub id: i64,
    /// Goroutines that ran on it, time-sorted, non-overlapping.
    pub spans: Spans<PSpan>,
    /// Runtime work, grouped by kind (in `PWork` order) and sorted by start within a kind;
    /// each kind is non-overlapping but kinds can overlap. `work_of` gives one kind's slice.
    /// Shared: a window of an overview takes the overview's (`Arc::make_mut` to change it).
    pub work: Arc<Vec<PRange>>,
    /// Where each kind's ranges begin in `work` (index by `PWork as usize`, plus the end).
    pub work_starts: [usize; 5],
    pub busy_ns: i64,
}

/// What a thread is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MSpan {
    pub start_ns: i64,
    pub end_ns: i64,
    pub g: i64,
    /// The P held, or -1 (32 bits keep the span at 32 bytes; a larger id is kept as -1).
    pub p: i32,
    /// In a syscall (with or without a P).
    pub syscall: bool,
}

/// One thread's lane.
#[derive(Clone, Debug, Default)]
pub struct Thread {
    pub id: i64,
    /// Time-sorted, non-overlapping.
    pub spans: Spans<MSpan>,
    pub busy_ns: i64,
}

/// The counter ribbons.
#[derive(Clone, Debug, Default)]
pub struct Counters {
    pub heap_alloc: Series,
    pub heap_goal: Series,
    pub gomaxprocs: Series,
    pub running: Series,
    pub runnable: Series,
    pub gc_waiting: Series,
    pub threads_running: Series,
    pub threads_syscall: Series,
}

impl Model {
    /// Bytes the model's lanes, counters and lists hold, roughly (its strings and stacks
    /// not counted): what a window of an overview costs to keep.
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        let goroutines: usize = self
            .goroutines
            .iter()
            .map(|g| {
                size_of::<Goroutine>()
                    + g.spans.heap_bytes()
                    + g.regions.capacity() * size_of::<Region>()
            })
            .sum();
        let procs: usize = self
            .procs
            .iter()
            .map(|p| {
                // Work shared with another model (a window takes its overview's) is not
                // counted: dropping this model would not free it.
                let work = if Arc::strong_count(&p.work) == 1 {
                    p.work.capacity() * size_of::<PRange>()
                } else {
                    0
                };
                size_of::<Proc>() + p.spans.heap_bytes() + work
            })
            .sum();
        let threads: usize = self
            .threads
            .iter()
            .map(|t| size_of::<Thread>() + t.spans.heap_bytes())
            .sum();
        let counters: usize = self.counters.all().iter().map(|s| s.heap_bytes()).sum();
        let times: usize = self.stimulus_times.iter().map(|v| v.capacity() * 8).sum();
        goroutines
            + procs
            + threads
            + counters
            + times
            + self.stimuli.capacity() * size_of::<Stimulus>()
            + self.gc.capacity() * size_of::<GcCycle>()
            + self.stw.capacity() * size_of::<Stw>()
            + self.logs.capacity() * size_of::<Log>()
            + self.cpu_samples.capacity() * size_of::<CpuSample>()
            + self.wakes.capacity() * size_of::<(i64, i64)>()
    }
}

impl Model {
    /// How many stimuli of `kind` come before `stimulus_times[kind][i]`.
    pub fn stimuli_before(&self, kind: usize, i: usize) -> u64 {
        let totals = &self.stimulus_totals[kind];
        if totals.is_empty() {
            i as u64
        } else {
            i.checked_sub(1).map_or(0, |k| totals[k])
        }
    }
}

impl Counters {
    /// Every series, in field order.
    pub fn all(&self) -> [&Series; 8] {
        [
            &self.heap_alloc,
            &self.heap_goal,
            &self.gomaxprocs,
            &self.running,
            &self.runnable,
            &self.gc_waiting,
            &self.threads_running,
            &self.threads_syscall,
        ]
    }

    /// `all`, mutably.
    pub fn all_mut(&mut self) -> [&mut Series; 8] {
        [
            &mut self.heap_alloc,
            &mut self.heap_goal,
            &mut self.gomaxprocs,
            &mut self.running,
            &mut self.runnable,
            &mut self.gc_waiting,
            &mut self.threads_running,
            &mut self.threads_syscall,
        ]
    }
}

/// Where an outside event woke the program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum StimulusKind {
    Network,
    Syscall,
    Timer,
}

/// An instant at which the outside world made a goroutine runnable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stimulus {
    pub time_ns: i64,
    pub kind: StimulusKind,
    pub g: i64,
}

/// A GC mark phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GcCycle {
    pub start_ns: i64,
    pub end_ns: i64,
    pub seq: u64,
}

/// A stop-the-world pause.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stw {
    pub start_ns: i64,
    pub end_ns: i64,
    pub kind: StrId,
    pub g: i64,
    /// How long after the pause began the last other P stopped running its goroutine.
    pub straggler_ns: i64,
    /// That P, or -1.
    pub straggler_p: i64,
}

/// A user task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Task {
    pub id: u64,
    pub parent: u64,
    pub name: StrId,
    pub start_ns: Option<i64>,
    pub end_ns: Option<i64>,
    pub goroutines: Vec<i64>,
}

/// A user log message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Log {
    pub time_ns: i64,
    pub g: i64,
    pub task: u64,
    pub category: StrId,
    pub message: StrId,
}

/// A CPU profile sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuSample {
    pub time_ns: i64,
    pub g: i64,
    pub p: i64,
    pub m: i64,
    pub stack: StackId,
}

/// Where the trace clock stands against the wall clock: the first clock snapshot of the
/// trace (formats 25 and later write one per generation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WallClock {
    /// The snapshot's time on the trace's clock, in ns (the events' timeline).
    pub trace_ns: i64,
    /// The wall clock at the snapshot: seconds since the Unix epoch, UTC.
    pub wall_sec: i64,
    /// And nanoseconds within that second.
    pub wall_nsec: u32,
}

impl WallClock {
    /// The wall-clock time of trace time `t_ns`, in ns since the Unix epoch (UTC).
    pub fn unix_ns(&self, t_ns: f64) -> f64 {
        (self.wall_sec as f64) * 1e9 + f64::from(self.wall_nsec) + (t_ns - self.trace_ns as f64)
    }

    /// The wall-clock time of trace time `t_ns`, as whole seconds since the Unix epoch and
    /// nanoseconds within the second (exact, for labels).
    pub fn unix_sec_nsec(&self, t_ns: i64) -> (i64, u32) {
        let ns = i128::from(self.wall_sec) * 1_000_000_000
            + i128::from(self.wall_nsec)
            + i128::from(t_ns)
            - i128::from(self.trace_ns);
        (
            ns.div_euclid(1_000_000_000) as i64,
            ns.rem_euclid(1_000_000_000) as u32,
        )
    }
}

/// The whole model of a trace.
#[derive(Debug)]
pub struct Model {
    pub start_ns: i64,
    pub end_ns: i64,
    pub format_version: u32,
    pub generations: usize,
    pub events: u64,
    pub file_bytes: u64,
    /// Set when the trace was cut or broken; everything before it is here.
    pub warning: Option<String>,
    /// The wall clock at a known trace time (Go 1.25 and later), for a wall-clock axis.
    pub clock: Option<WallClock>,
    pub interner: Interner,
    /// Sorted by id.
    pub goroutines: Vec<Goroutine>,
    /// Sorted by id.
    pub procs: Vec<Proc>,
    /// Sorted by id.
    pub threads: Vec<Thread>,
    pub counters: Counters,
    /// Time-sorted.
    pub stimuli: Vec<Stimulus>,
    /// The stimuli's times per kind (network, syscall, timer), sorted, for density ribbons.
    pub stimulus_times: [Vec<i64>; 3],
    /// In an overview, per kind: the running count of stimuli through each of
    /// `stimulus_times` (which keeps each bucket's first and last); empty when every
    /// stimulus has its time (see `stimuli_before`).
    pub stimulus_totals: [Vec<u64>; 3],
    pub gc: Vec<GcCycle>,
    pub stw: Vec<Stw>,
    pub tasks: Vec<Task>,
    pub logs: Vec<Log>,
    pub cpu_samples: Vec<CpuSample>,
    /// For an overview (`build_overview`): the bucket its lanes' short spans and its
    /// counters are thinned to (see `overview`); 0 for a model that keeps everything.
    pub overview_bucket_ns: i64,
    /// For an overview: every (goroutine, waker) pair of a span begun by a wake-up, sorted
    /// (its thinned lanes keep few of those spans: `related_goroutines` reads these
    /// instead); empty for a model that keeps everything.
    pub wakes: Vec<(i64, i64)>,
    /// Which goroutines each goroutine created, made on first use (`children`).
    pub(crate) family: std::sync::OnceLock<Family>,
    /// Each stack's tag, made on first use (`stack_tag`).
    pub(crate) stack_tags: std::sync::OnceLock<crate::tags::StackTags>,
    /// Each goroutine's mark assists, made on first use (`assists_of`).
    pub(crate) assists: Derived<std::sync::Arc<Assists>>,
}

/// What is found from a model on first use, and so not part of its value: its `Debug`
/// (which tests compare as the model's value) is the same whether it was found or not.
#[derive(Default)]
pub(crate) struct Derived<T>(std::sync::OnceLock<T>);

impl<T> std::ops::Deref for Derived<T> {
    type Target = std::sync::OnceLock<T>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<T> std::fmt::Debug for Derived<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("(found on first use)")
    }
}

/// A goroutine's mark assist while it executes on a P: one of that P's mark-assist ranges
/// (`PWork::MarkAssist`), and where it is there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GoAssist {
    pub start_ns: i64,
    pub end_ns: i64,
    /// The P, as an index into `Model::procs`.
    pub p: u32,
    /// The range, as an index into that P's `work`.
    pub work: u32,
}

/// Every goroutine's mark assists, back to back in goroutine order, each goroutine's
/// sorted by start: those of goroutine `i` are `all[starts[i]..starts[i + 1]]`.
#[derive(Debug, Default)]
pub(crate) struct Assists {
    starts: Vec<u32>,
    all: Vec<GoAssist>,
}

impl Assists {
    fn of(goroutines: &[Goroutine], procs: &[Proc]) -> Assists {
        let index = |id: i64| goroutines.binary_search_by_key(&id, |g| g.id).ok();
        let mut owned: Vec<(usize, GoAssist)> = Vec::new();
        for (pi, p) in procs.iter().enumerate() {
            let first = p.work_starts[PWork::MarkAssist as usize];
            for (k, w) in p.work_of(PWork::MarkAssist).iter().enumerate() {
                if let Some(gi) = index(w.g) {
                    owned.push((
                        gi,
                        GoAssist {
                            start_ns: w.start_ns,
                            end_ns: w.end_ns,
                            p: pi as u32,
                            work: (first + k) as u32,
                        },
                    ));
                }
            }
        }
        // A goroutine executes on one P at a time, so its assists do not overlap.
        owned.sort_by_key(|&(gi, a)| (gi, a.start_ns, a.p));
        let mut starts = vec![0u32; goroutines.len() + 1];
        for &(gi, _) in &owned {
            starts[gi + 1] += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        Assists {
            starts,
            all: owned.into_iter().map(|(_, a)| a).collect(),
        }
    }
}

/// Each goroutine's children, as goroutine indices, back to back in creator order: those
/// of goroutine `i` are `kids[starts[i]..starts[i + 1]]`, in id order.
#[derive(Debug, Default)]
pub(crate) struct Family {
    starts: Vec<u32>,
    kids: Vec<u32>,
}

impl Family {
    fn of(goroutines: &[Goroutine]) -> Family {
        let index = |id: i64| goroutines.binary_search_by_key(&id, |g| g.id).ok();
        let mut counts = vec![0u32; goroutines.len() + 1];
        let parents: Vec<Option<usize>> = goroutines
            .iter()
            .map(|g| index(g.creator).filter(|&p| goroutines[p].id != g.id))
            .collect();
        for p in parents.iter().flatten() {
            counts[p + 1] += 1;
        }
        for i in 1..counts.len() {
            counts[i] += counts[i - 1];
        }
        let starts = counts.clone();
        let mut kids = vec![0u32; parents.iter().flatten().count()];
        let mut next = counts;
        for (child, parent) in parents.iter().enumerate() {
            if let Some(p) = *parent {
                kids[next[p] as usize] = child as u32;
                next[p] += 1;
            }
        }
        Family { starts, kids }
    }
}

impl Model {
    /// The goroutines that goroutine `gi` created and that the trace shows, as indices
    /// into `goroutines`, in id order.
    pub fn children(&self, gi: usize) -> &[u32] {
        let f = self.family.get_or_init(|| Family::of(&self.goroutines));
        match (f.starts.get(gi), f.starts.get(gi + 1)) {
            (Some(&a), Some(&b)) => &f.kids[a as usize..b as usize],
            _ => &[],
        }
    }

    /// The mark assists of goroutine `gi` (an index into `goroutines`) while it executes,
    /// sorted by start: the P lanes' mark-assist ranges that are its (as Go's goroutine
    /// view draws them), found for every goroutine on first use.
    pub fn assists_of(&self, gi: usize) -> &[GoAssist] {
        let a = self.assists();
        match (a.starts.get(gi), a.starts.get(gi + 1)) {
            (Some(&s), Some(&e)) => &a.all[s as usize..e as usize],
            _ => &[],
        }
    }

    /// Takes `whole`'s goroutine assists (finding them there first, if need be): for a
    /// model whose goroutines and Ps' runtime work are `whole`'s, as a window's are once
    /// it takes its overview's work.
    pub fn share_assists(&mut self, whole: &Model) {
        self.assists = Derived(std::sync::OnceLock::from(whole.assists().clone()));
    }

    /// Finds every goroutine's mark assists now (on a thread where that costs no frame)
    /// rather than on first use.
    pub fn find_assists(&self) {
        self.assists();
    }

    /// Every goroutine's mark assists, found on first use.
    fn assists(&self) -> &std::sync::Arc<Assists> {
        self.assists
            .get_or_init(|| std::sync::Arc::new(Assists::of(&self.goroutines, &self.procs)))
    }

    /// What a span that blocked with this stack waits on, read from well-known frames
    /// (`tags`).
    pub fn stack_tag(&self, stack: StackId) -> Option<crate::Tag> {
        self.stack_tags
            .get_or_init(|| crate::tags::StackTags::of(&self.interner))
            .get(stack)
    }

    /// The tag of a goroutine span: for a wait, what it waits on.
    pub fn span_tag(&self, s: &GSpan) -> Option<crate::Tag> {
        match s.state {
            GState::Waiting | GState::Syscall => self.stack_tag(s.start_stack),
            _ => None,
        }
    }

    /// The goroutines that created `gi`, its creator first, as far back as the trace
    /// shows (at most `max`; a loop of ids ends the chain).
    pub fn ancestors(&self, gi: usize, max: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut cur = gi;
        while out.len() < max {
            let g = &self.goroutines[cur];
            let Some(p) = self.goroutine_index(g.creator) else {
                break;
            };
            if p == gi || out.contains(&p) {
                break;
            }
            out.push(p);
            cur = p;
        }
        out
    }

    /// Whether the trace shows nothing at all: no goroutine, processor or thread (a file
    /// with only a header, or a read that stopped at once; at most a closing sync event).
    pub fn has_no_activity(&self) -> bool {
        self.goroutines.is_empty() && self.procs.is_empty() && self.threads.is_empty()
    }

    pub fn duration_ns(&self) -> i64 {
        self.end_ns.saturating_sub(self.start_ns)
    }

    /// A processor's name: `Proc 3`; in a v1 trace (Go 1.21 and older) Go's reader keeps
    /// the ids of the old format's fake processors, which are named for what they stood for.
    pub fn proc_label(&self, id: i64) -> String {
        let fake = match id {
            1_000_001 => Some("timers"),
            1_000_002 => Some("network"),
            1_000_003 => Some("syscalls"),
            1_000_004 => Some("GC"),
            _ => None,
        };
        match fake {
            Some(what) if self.format_version <= 21 => format!("Proc {id} ({what}, Go ≤ 1.21)"),
            _ => format!("Proc {id}"),
        }
    }

    pub fn goroutine(&self, id: i64) -> Option<&Goroutine> {
        self.goroutines
            .binary_search_by_key(&id, |g| g.id)
            .ok()
            .map(|i| &self.goroutines[i])
    }

    pub fn goroutine_index(&self, id: i64) -> Option<usize> {
        self.goroutines.binary_search_by_key(&id, |g| g.id).ok()
    }

    /// A goroutine's display name: `G12 main.worker`.
    pub fn goroutine_label(&self, id: i64) -> String {
        match self.goroutine(id) {
            Some(g) if g.start_fn != 0 => format!("G{id} {}", self.interner.string(g.start_fn)),
            _ => format!("G{id}"),
        }
    }

    pub fn string(&self, id: StrId) -> &str {
        self.interner.string(id)
    }
}

/// GSpan fields, packed: start, duration, state, reason, stacks, waker, P.
impl spans::Fields for GSpan {
    const FIELDS: usize = 8;
    const CHAINS: bool = true;
    /// Time by state, in `GState` order.
    const SHARES: usize = 4;
    const SHARE_FIELD: Option<usize> = Some(2);
    fn to_fields(&self) -> [i64; spans::MAX_FIELDS] {
        [
            self.start_ns,
            self.end_ns.wrapping_sub(self.start_ns),
            self.state as i64,
            self.reason as i64,
            self.start_stack as i64,
            self.end_stack as i64,
            self.waker,
            self.p as i64,
        ]
    }
    fn from_fields(f: &[i64; spans::MAX_FIELDS]) -> Self {
        GSpan {
            start_ns: f[0],
            end_ns: f[0].wrapping_add(f[1]),
            state: match f[2] {
                0 => GState::Running,
                1 => GState::Runnable,
                2 => GState::Waiting,
                _ => GState::Syscall,
            },
            reason: f[3] as StrId,
            start_stack: f[4] as StackId,
            end_stack: f[5] as StackId,
            waker: f[6],
            p: f[7] as i16,
        }
    }
}

impl spans::Fields for PSpan {
    const FIELDS: usize = 3;
    const CHAINS: bool = true;
    /// Busy time.
    const SHARES: usize = 1;
    fn to_fields(&self) -> [i64; spans::MAX_FIELDS] {
        let d = self.end_ns.wrapping_sub(self.start_ns);
        [self.start_ns, d, self.g, 0, 0, 0, 0, 0]
    }
    fn from_fields(f: &[i64; spans::MAX_FIELDS]) -> Self {
        PSpan {
            start_ns: f[0],
            end_ns: f[0].wrapping_add(f[1]),
            g: f[2],
        }
    }
}

impl spans::Fields for MSpan {
    const FIELDS: usize = 5;
    const CHAINS: bool = true;
    /// Time outside and inside syscalls.
    const SHARES: usize = 2;
    const SHARE_FIELD: Option<usize> = Some(4);
    fn to_fields(&self) -> [i64; spans::MAX_FIELDS] {
        let d = self.end_ns.wrapping_sub(self.start_ns);
        [
            self.start_ns,
            d,
            self.g,
            self.p as i64,
            self.syscall as i64,
            0,
            0,
            0,
        ]
    }
    fn from_fields(f: &[i64; spans::MAX_FIELDS]) -> Self {
        MSpan {
            start_ns: f[0],
            end_ns: f[0].wrapping_add(f[1]),
            g: f[2],
            p: f[3] as i32,
            syscall: f[4] != 0,
        }
    }
}

// Every span and range has a start and an end, which the level of detail reads.
macro_rules! timed {
    ($($t:ty),*) => {$(
        impl Timed for $t {
            fn start_ns(&self) -> i64 { self.start_ns }
            fn end_ns(&self) -> i64 { self.end_ns }
        }
    )*};
}
timed!(GSpan, PSpan, PRange, MSpan, GcCycle, Stw, Region, GoAssist);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lod;

    /// Each goroutine's mark assists are exactly the P lanes' mark-assist ranges that are
    /// its, sorted and apart, each pointing at its range on its P; a model that shares
    /// them (a window of an overview) reads the same.
    #[test]
    fn a_goroutines_assists_are_the_p_lanes_assist_ranges_that_are_its() {
        for name in ["gc-go121", "gc-go122", "gc-go127"] {
            let bytes = goscope_testdata::trace_bytes(name);
            let m = crate::build(&bytes).unwrap();
            let all: usize = (m.procs.iter())
                .map(|p| p.work_of(PWork::MarkAssist).len())
                .sum();
            assert!(all > 100, "{name}: only {all} assists");
            let mut seen = 0;
            for (gi, g) in m.goroutines.iter().enumerate() {
                let mine = m.assists_of(gi);
                let mut want: Vec<(i64, i64)> = (m.procs.iter())
                    .flat_map(|p| p.work_of(PWork::MarkAssist))
                    .filter(|w| w.g == g.id)
                    .map(|w| (w.start_ns, w.end_ns))
                    .collect();
                want.sort_unstable();
                let got: Vec<(i64, i64)> = mine.iter().map(|a| (a.start_ns, a.end_ns)).collect();
                assert_eq!(got, want, "{name} G{}", g.id);
                for a in mine {
                    let w = m.procs[a.p as usize].work[a.work as usize];
                    assert_eq!(
                        (w.work, w.g, w.start_ns, w.end_ns),
                        (PWork::MarkAssist, g.id, a.start_ns, a.end_ns)
                    );
                }
                assert!(
                    mine.windows(2).all(|p| p[0].end_ns <= p[1].start_ns),
                    "{name} G{}: assists overlap",
                    g.id
                );
                seen += mine.len();
            }
            assert_eq!(seen, all, "{name}: assists without their goroutine");
            let mut other = crate::build(&bytes).unwrap();
            other.share_assists(&m);
            assert!(std::sync::Arc::ptr_eq(
                other.assists.get().unwrap(),
                m.assists.get().unwrap()
            ));
        }
    }

    #[test]
    fn waits_of_a_real_service_are_tagged() {
        let m = crate::build(&goscope_testdata::trace_bytes("mixed-go127")).unwrap();
        let mut seen = std::collections::BTreeMap::new();
        for g in &m.goroutines {
            for s in g.spans.iter() {
                if let Some(t) = m.span_tag(&s) {
                    *seen.entry(t).or_insert(0) += 1;
                }
                if s.state == GState::Running {
                    assert_eq!(m.span_tag(&s), None);
                }
            }
        }
        // mixed serves HTTP on loopback, guards a cache with a mutex and waits on groups.
        for t in [
            crate::Tag::HttpServerRead,
            crate::Tag::HttpClient,
            crate::Tag::Mutex,
        ] {
            assert!(seen.contains_key(&t), "{t:?} in {seen:?}");
        }
    }

    #[test]
    fn v1_fake_processors_are_named_for_what_they_stood_for() {
        let m = crate::build(&goscope_testdata::trace_bytes("mixed-go121")).unwrap();
        let labels: Vec<String> = m.procs.iter().map(|p| m.proc_label(p.id)).collect();
        assert!(labels.contains(&"Proc 0".to_string()), "{labels:?}");
        assert!(
            labels.contains(&"Proc 1000002 (network, Go ≤ 1.21)".to_string()),
            "{labels:?}"
        );
        // The same ids in a newer trace are plain processors.
        let m = crate::build(&goscope_testdata::trace_bytes("mixed-go127")).unwrap();
        assert_eq!(m.proc_label(1_000_002), "Proc 1000002");
    }

    #[test]
    fn children_and_ancestors_follow_the_creators() {
        let m = crate::build(&goscope_testdata::trace_bytes("mixed-go127")).unwrap();
        let mut with_parent = 0;
        for (gi, g) in m.goroutines.iter().enumerate() {
            let kids = m.children(gi);
            assert!(kids.windows(2).all(|w| w[0] < w[1]), "in id order");
            for &k in kids {
                assert_eq!(m.goroutines[k as usize].creator, g.id);
            }
            if let Some(p) = m.goroutine_index(g.creator).filter(|&p| p != gi) {
                with_parent += 1;
                assert!(m.children(p).contains(&(gi as u32)));
                assert_eq!(m.ancestors(gi, 100)[0], p);
            }
        }
        let all_kids: usize = (0..m.goroutines.len()).map(|gi| m.children(gi).len()).sum();
        assert_eq!(all_kids, with_parent);
        assert!(with_parent > 100, "{with_parent}");
        // The longest chain ends at a goroutine whose creator the trace does not show.
        let (deepest, chain) = (0..m.goroutines.len())
            .map(|gi| (gi, m.ancestors(gi, 1000)))
            .max_by_key(|(_, c)| c.len())
            .unwrap();
        assert!(chain.len() >= 2, "{chain:?}");
        let root = &m.goroutines[*chain.last().unwrap()];
        assert!(m.goroutine_index(root.creator).is_none());
        assert_eq!(m.ancestors(deepest, 1).len(), 1);
        assert_eq!(m.children(usize::MAX - 1), &[] as &[u32]);
    }

    /// There is about one goroutine span per event, so their size is most of the model's.
    #[test]
    fn spans_stay_small() {
        assert_eq!(std::mem::size_of::<GSpan>(), 40);
        assert_eq!(std::mem::size_of::<MSpan>(), 32);
        assert_eq!(std::mem::size_of::<PSpan>(), 24);
    }

    /// Every span kind packs and unpacks to itself, extremes included.
    #[test]
    fn spans_survive_packing() {
        let mut gs = Vec::new();
        let mut ps = Vec::new();
        let mut ms = Vec::new();
        for i in 0..300i64 {
            let start_ns = i * 1_000 - 7;
            let end_ns = if i == 150 { i64::MAX } else { start_ns + i * i };
            gs.push(GSpan {
                start_ns,
                end_ns,
                state: [
                    GState::Running,
                    GState::Runnable,
                    GState::Waiting,
                    GState::Syscall,
                ][i as usize % 4],
                reason: if i % 7 == 0 { StrId::MAX } else { i as StrId },
                start_stack: (i * 31) as StackId,
                end_stack: if i % 5 == 0 { StackId::MAX } else { 0 },
                waker: [-1, i64::MAX, 3, 1 << 40][i as usize % 4],
                p: [-1, 0, i16::MAX, 5][i as usize % 4],
            });
            ps.push(PSpan {
                start_ns,
                end_ns,
                g: [-1, i, i64::MAX][i as usize % 3],
            });
            ms.push(MSpan {
                start_ns,
                end_ns,
                g: i - 1,
                p: [-1, i32::MAX, 2][i as usize % 3],
                syscall: i % 2 == 0,
            });
        }
        let g: Spans<GSpan> = gs.iter().copied().collect();
        let p: Spans<PSpan> = ps.iter().copied().collect();
        let m: Spans<MSpan> = ms.iter().copied().collect();
        assert_eq!(g.to_vec(), gs);
        assert_eq!(p.to_vec(), ps);
        assert_eq!(m.to_vec(), ms);
        assert_eq!(g.at(150).end_ns, i64::MAX);
    }

    /// Packed lanes lay out exactly as the plain vectors they hold.
    #[test]
    fn packed_lanes_lay_out_as_plain_ones() {
        let m = crate::build(&goscope_testdata::trace_bytes("mixed-go127")).unwrap();
        // Lanes long enough to have packed blocks.
        assert!(m.goroutines.iter().any(|g| g.spans.len() > 4 * lod::BLOCK));
        assert!(m.procs.iter().all(|p| p.spans.len() > 4 * lod::BLOCK));
        let (t0, t1) = (m.start_ns as f64, m.end_ns as f64);
        let views = [
            lod::TimeView::new(t0, t1, 1500.0),
            lod::TimeView::new(t0 + (t1 - t0) / 3.0, t0 + (t1 - t0) / 2.0, 900.0),
            lod::TimeView::new(
                t0 + (t1 - t0) / 2.0,
                t0 + (t1 - t0) / 2.0 + 20_000.0,
                1200.0,
            ),
        ];
        let mut items = 0;
        for v in &views {
            for g in &m.goroutines {
                let plain = lod::layout(&g.spans.to_vec(), v, 3.0);
                items += plain.len();
                assert_eq!(g.spans.layout(v, 3.0), plain);
            }
            for p in &m.procs {
                let plain = lod::layout(&p.spans.to_vec(), v, 3.0);
                assert_eq!(p.spans.layout(v, 3.0), plain);
            }
            for t in &m.threads {
                let plain = lod::layout(&t.spans.to_vec(), v, 3.0);
                assert_eq!(t.spans.layout(v, 3.0), plain);
            }
        }
        assert!(items > 100, "{items} items");
    }

    #[test]
    fn p_ids_that_do_not_fit_become_unknown() {
        assert_eq!(narrow_p::<i16>(7), 7);
        assert_eq!(narrow_p::<i16>(-1), -1);
        assert_eq!(narrow_p::<i16>(1 << 20), -1);
        assert_eq!(narrow_p::<i32>(1 << 20), 1 << 20);
        assert_eq!(narrow_p::<i32>(1 << 40), -1);
    }
}
