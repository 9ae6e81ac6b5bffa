//! Blocking and scheduler-latency profiles from a trace (network wait, sync block,
//! syscall, scheduler latency), written as gzipped pprof protobufs.
//!
//! Semantics are those of `go tool trace -pprof=KIND`:
//! - A goroutine is tracked from the transition that puts it in the profiled state
//!   (waiting for reason "network" for net; waiting for a reason containing "chan",
//!   "sync" or "select" for sync; in a syscall; runnable for sched) until the first
//!   transition to another state. Transitions into the same state keep tracking.
//! - The sample's stack is the stack of the event that started tracking: the
//!   blocking call, the syscall, or for runnable the event that made it runnable
//!   (the unblocking or creating goroutine's stack, or the goroutine's own when it
//!   was preempted or yielded).
//! - Only the part overlapping the goroutine's life counts: from its first run (or
//!   the trace start if it never ran) to its end (or the trace end). So the wait
//!   before a goroutine first runs is not in the scheduler profile.
//! - Samples merge by stack pcs; each has a count and a total delay in ns.
//! - The file has sample types contentions/count and delay/nanoseconds, period type
//!   trace/count, period 1, one location per pc and one function per (file, name).
//!
//! One more kind is goscope's own: `Cpu`, the CPU profiler's samples that a trace carries
//! when profiling was on while tracing (`StackSample` events, each with a stack and the
//! goroutine, P and thread it interrupted). Each sample counts once and weighs one
//! sampling period. A trace does not record the profiling rate, so the period is taken
//! to be runtime/pprof's: 100 Hz, 10 ms a sample (`CPU_SAMPLE_PERIOD_NS`; a program
//! that called `runtime.SetCPUProfileRate` had another, and its CPU times scale by it).
//! Its file has sample types samples/count and cpu/nanoseconds, period type
//! cpu/nanoseconds and that period, as `go tool pprof` expects of a CPU profile.

use std::io::Write;

use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;

use super::proto::Writer;
use super::stacks::{StackId, StackTable};
use goscope_trace::state::*;
use goscope_trace::{Event, Kind, Resource, Tables};

/// Which profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum ProfileKind {
    /// Time blocked on the network.
    Net,
    /// Time blocked on channels, selects and sync primitives.
    Sync,
    /// Time in syscalls.
    Syscall,
    /// Time runnable but not running (scheduler latency).
    Sched,
    /// Time on a CPU, from the CPU profiler's samples in the trace (not one of Go's
    /// `-pprof` kinds, so not in `ALL`).
    Cpu,
}

/// The weight of one CPU sample: runtime/pprof samples at 100 Hz, and traces do not
/// record the rate.
pub const CPU_SAMPLE_PERIOD_NS: i64 = 10_000_000;

impl ProfileKind {
    /// The kinds `go tool trace -pprof=` makes.
    pub const ALL: [ProfileKind; 4] = [
        ProfileKind::Net,
        ProfileKind::Sync,
        ProfileKind::Syscall,
        ProfileKind::Sched,
    ];

    /// Every kind goscope builds: Go's four, then the CPU profile.
    pub const WITH_CPU: [ProfileKind; 5] = [
        ProfileKind::Net,
        ProfileKind::Sync,
        ProfileKind::Syscall,
        ProfileKind::Sched,
        ProfileKind::Cpu,
    ];

    /// The name `go tool trace -pprof=` takes.
    pub fn name(self) -> &'static str {
        match self {
            ProfileKind::Net => "net",
            ProfileKind::Sync => "sync",
            ProfileKind::Syscall => "syscall",
            ProfileKind::Sched => "sched",
            ProfileKind::Cpu => "cpu",
        }
    }

    /// Whether entering state `to` for `reason` starts a sample.
    fn starts(self, to: u64, reason: &str) -> bool {
        match self {
            ProfileKind::Net => to == GO_WAITING && reason == "network",
            ProfileKind::Sync => {
                to == GO_WAITING
                    && (reason.contains("chan")
                        || reason.contains("sync")
                        || reason.contains("select"))
            }
            ProfileKind::Syscall => to == GO_SYSCALL,
            ProfileKind::Sched => to == GO_RUNNABLE,
            // Samples, not states.
            ProfileKind::Cpu => false,
        }
    }

    fn state(self) -> u64 {
        match self {
            ProfileKind::Net | ProfileKind::Sync => GO_WAITING,
            ProfileKind::Syscall => GO_SYSCALL,
            ProfileKind::Sched => GO_RUNNABLE,
            ProfileKind::Cpu => GO_RUNNING,
        }
    }

    /// The two values of each sample, as (type, unit): the count and the time.
    fn value_types(self) -> [(&'static str, &'static str); 2] {
        match self {
            ProfileKind::Cpu => [("samples", "count"), ("cpu", "nanoseconds")],
            _ => [("contentions", "count"), ("delay", "nanoseconds")],
        }
    }

    /// The profile's period type and period.
    fn period(self) -> ((&'static str, &'static str), i64) {
        match self {
            ProfileKind::Cpu => (("cpu", "nanoseconds"), CPU_SAMPLE_PERIOD_NS),
            _ => (("trace", "count"), 1),
        }
    }
}

/// Samples merged by stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ProfileRecord {
    /// The stack of the last sample merged here (stacks that differ only in trailing
    /// pc-0 frames merge; Go shows the last one).
    pub stack: StackId,
    pub count: u64,
    pub delay_ns: i64,
    /// When that last sample ended.
    #[serde(skip)]
    last_ns: i64,
}

/// One profile; its stacks live in the `StackTable` it was built with.
#[derive(Clone, Debug, Serialize)]
pub struct Profile {
    pub kind: ProfileKind,
    /// In the order their stacks were first sampled.
    pub records: Vec<ProfileRecord>,
}

impl Profile {
    pub fn total_count(&self) -> u64 {
        self.records.iter().map(|r| r.count).sum()
    }

    pub fn total_delay_ns(&self) -> i64 {
        self.records.iter().map(|r| r.delay_ns).sum()
    }
}

/// A sample that ended before its goroutine first ran: whether it counts depends on
/// whether the goroutine ever runs.
#[derive(Clone, Copy, Debug)]
struct Pending {
    kind: u8,
    start_ns: i64,
    end_ns: i64,
    stack: StackId,
}

#[derive(Clone, Debug, Default)]
struct GInfo {
    /// First run and end of the goroutine, as the goroutine summary has them.
    start_ns: Option<i64>,
    end_ns: Option<i64>,
    /// Per kind being built: when tracking began and its stack.
    tracking: [Option<(i64, StackId)>; MAX_KINDS],
    pending: Vec<Pending>,
}

/// At most this many kinds are built in one pass (all there are).
const MAX_KINDS: usize = 5;

/// Builds one or more profiles in one pass over the events.
#[derive(Debug)]
pub struct ProfileBuilder {
    kinds: Vec<ProfileKind>,
    stacks: StackTable,
    /// Boxed, as the goroutine summary's: with 100,000 goroutines a table of 176-byte
    /// states inline grew into a 24 MB table while holding the 12 MB one it copied.
    gs: FxHashMap<i64, Box<GInfo>>,
    /// Per kind: stack → index in `records`.
    index: Vec<FxHashMap<StackId, usize>>,
    records: Vec<Vec<ProfileRecord>>,
    last_ns: i64,
    /// Only the part of each sample inside this closed interval counts (see `with_window`).
    window_ns: Option<(i64, i64)>,
    /// Only these goroutines' samples count (see `with_goroutines`).
    goroutines: Option<FxHashSet<i64>>,
    /// A window given from the first event's time, made absolute at that event.
    window_from_start: Option<(i64, i64)>,
    /// Where `Cpu` is among `kinds`.
    cpu: Option<usize>,
}

/// Go's overlap of two closed intervals (0 when they only touch).
fn overlap_ns(a: (i64, i64), b: (i64, i64)) -> i64 {
    if a.1 < b.0 || b.1 < a.0 {
        return 0;
    }
    a.1.min(b.1) - a.0.max(b.0)
}

/// A sample's delay: its overlap with the goroutine's life (Go's rule), clipped to the
/// window if there is one. A sample entirely outside the window counts 0.
fn clipped_delay_ns(life: (i64, i64), sample: (i64, i64), window: Option<(i64, i64)>) -> i64 {
    let sample = match window {
        None => sample,
        Some((w0, w1)) => {
            let clipped = (sample.0.max(w0), sample.1.min(w1));
            if clipped.0 >= clipped.1 {
                return 0;
            }
            clipped
        }
    };
    overlap_ns(life, sample)
}

impl ProfileBuilder {
    /// A builder for these kinds (duplicates are ignored).
    pub fn new(kinds: &[ProfileKind]) -> Self {
        let mut ks: Vec<ProfileKind> = Vec::new();
        for &k in kinds {
            if !ks.contains(&k) {
                ks.push(k);
            }
        }
        let n = ks.len();
        ProfileBuilder {
            cpu: ks.iter().position(|&k| k == ProfileKind::Cpu),
            goroutines: None,
            window_from_start: None,
            kinds: ks,
            stacks: StackTable::new(),
            gs: FxHashMap::default(),
            index: vec![FxHashMap::default(); n],
            records: vec![Vec::new(); n],
            last_ns: 0,
            window_ns: None,
        }
    }

    /// Limits the profiles to the time window `[start_ns, end_ns]` (trace time, as the
    /// events' `time_ns`): each sample contributes only its overlap with the window, and
    /// samples outside it contribute nothing (they are not counted either); a CPU sample
    /// counts when its time is in the window. An empty or reversed window gives empty
    /// profiles.
    pub fn with_window(mut self, start_ns: i64, end_ns: i64) -> Self {
        self.window_ns = Some((start_ns, end_ns));
        self
    }

    /// Limits the profiles to the samples of these goroutines (by id; for `Cpu`, the
    /// goroutine a sample interrupted).
    pub fn with_goroutines(mut self, ids: impl IntoIterator<Item = i64>) -> Self {
        self.goroutines = Some(ids.into_iter().collect());
        self
    }

    fn counts_goroutine(&self, id: i64) -> bool {
        self.goroutines.as_ref().is_none_or(|set| set.contains(&id))
    }

    /// `with_window`, with the window's ends given from the time of the first event fed
    /// (the trace's start, as the viewer's axis and the model count it).
    pub fn with_window_from_start(mut self, from_ns: i64, to_ns: i64) -> Self {
        self.window_from_start = Some((from_ns, to_ns));
        self
    }

    /// Feeds one event.
    pub fn event(&mut self, ev: &Event, tables: &Tables) {
        if let Some((from, to)) = self.window_from_start.take() {
            let t0 = ev.time_ns;
            self.window_ns = Some((t0.saturating_add(from), t0.saturating_add(to)));
        }
        self.last_ns = ev.time_ns;
        if ev.kind() == Kind::StackSample {
            self.cpu_sample(ev, tables);
            return;
        }
        if ev.kind() != Kind::StateTransition {
            return;
        }
        let Some(t) = ev.transition() else {
            return;
        };
        let Resource::Goroutine(id) = t.resource else {
            return;
        };
        if !self.counts_goroutine(id) {
            return;
        }
        let now = ev.time_ns;
        let reason = tables.string(t.reason).unwrap_or("");
        let g = self.gs.entry(id).or_default();

        // The goroutine's life, as the summary sees it.
        if t.from != t.to {
            if t.from == GO_UNDETERMINED || t.from == GO_NOT_EXIST {
                g.start_ns = None;
                g.end_ns = None;
            }
            match t.to {
                GO_RUNNING if g.start_ns.is_none() => {
                    g.start_ns = Some(now);
                    // Earlier samples end at or before `now`: they don't overlap.
                    g.pending.clear();
                }
                GO_NOT_EXIST => g.end_ns = Some(now),
                GO_WAITING if reason == "forever" => g.end_ns = Some(now),
                _ => {}
            }
        }

        for (i, &kind) in self.kinds.iter().enumerate() {
            match g.tracking[i] {
                None => {
                    if kind.starts(t.to, reason) {
                        let stack = self.stacks.intern(tables, ev.stack_id());
                        g.tracking[i] = Some((now, stack));
                    }
                }
                Some(_) if t.to == kind.state() => {}
                Some((start_ns, stack)) => {
                    g.tracking[i] = None;
                    match g.start_ns {
                        Some(run_ns) => {
                            let life = (run_ns, g.end_ns.unwrap_or(i64::MAX));
                            let d = clipped_delay_ns(life, (start_ns, now), self.window_ns);
                            let (index, records) = (&mut self.index[i], &mut self.records[i]);
                            add(&self.stacks, index, records, stack, d, now);
                        }
                        None => g.pending.push(Pending {
                            kind: i as u8,
                            start_ns,
                            end_ns: now,
                            stack,
                        }),
                    }
                }
            }
        }
    }

    /// A CPU sample, for a `Cpu` profile: counted if its time is in the window and its
    /// goroutine among those asked for.
    fn cpu_sample(&mut self, ev: &Event, tables: &Tables) {
        let Some(i) = self.cpu else {
            return;
        };
        let t = ev.time_ns;
        if self.window_ns.is_some_and(|(w0, w1)| t < w0 || t > w1) || !self.counts_goroutine(ev.g) {
            return;
        }
        let stack = self.stacks.intern(tables, ev.stack_id());
        let (index, records) = (&mut self.index[i], &mut self.records[i]);
        add(&self.stacks, index, records, stack, CPU_SAMPLE_PERIOD_NS, t);
    }

    /// The profiles, in the order of the kinds asked for, and their stacks.
    pub fn finish(mut self) -> (Vec<Profile>, StackTable) {
        // Goroutines that never ran: their life is the trace start to their end.
        let mut gs: Vec<(i64, Box<GInfo>)> = self.gs.into_iter().collect();
        gs.sort_by_key(|(id, _)| *id);
        for (_, g) in gs {
            let life = (0, g.end_ns.unwrap_or(self.last_ns));
            for p in g.pending {
                let i = p.kind as usize;
                let d = clipped_delay_ns(life, (p.start_ns, p.end_ns), self.window_ns);
                let (index, records) = (&mut self.index[i], &mut self.records[i]);
                add(&self.stacks, index, records, p.stack, d, p.end_ns);
            }
        }
        let profiles = self
            .kinds
            .iter()
            .zip(self.records)
            .map(|(&kind, records)| Profile { kind, records })
            .collect();
        (profiles, self.stacks)
    }
}

/// Merges a sample that ended at `end_ns` into the record of its stack's canonical form.
fn add(
    stacks: &StackTable,
    index: &mut FxHashMap<StackId, usize>,
    records: &mut Vec<ProfileRecord>,
    stack: StackId,
    delay_ns: i64,
    end_ns: i64,
) {
    if delay_ns <= 0 {
        return;
    }
    let canon = stacks.canonical(stack);
    let i = *index.entry(canon).or_insert_with(|| {
        records.push(ProfileRecord {
            stack,
            count: 0,
            delay_ns: 0,
            last_ns: end_ns,
        });
        records.len() - 1
    });
    let r = &mut records[i];
    r.count += 1;
    r.delay_ns += delay_ns;
    if end_ns >= r.last_ns {
        r.stack = stack;
        r.last_ns = end_ns;
    }
}

/// Builds the profiles of these kinds from a whole trace. Returns them with their
/// stacks and the reader's warning if only part of the trace could be read.
pub fn build<S: goscope_trace::Source + ?Sized>(
    data: &S,
    kinds: &[ProfileKind],
) -> goscope_trace::Result<(Vec<Profile>, StackTable, Option<goscope_trace::Error>)> {
    let mut b = ProfileBuilder::new(kinds);
    let outcome = super::read_into(data, |ev, t| b.event(ev, t))?;
    let (profiles, stacks) = b.finish();
    Ok((profiles, stacks, outcome.warning))
}

// profile.proto field numbers.
const PROFILE_SAMPLE_TYPE: u32 = 1;
const PROFILE_SAMPLE: u32 = 2;
const PROFILE_LOCATION: u32 = 4;
const PROFILE_FUNCTION: u32 = 5;
const PROFILE_STRING_TABLE: u32 = 6;
const PROFILE_PERIOD_TYPE: u32 = 11;
const PROFILE_PERIOD: u32 = 12;
const VALUE_TYPE_TYPE: u32 = 1;
const VALUE_TYPE_UNIT: u32 = 2;
const SAMPLE_LOCATION_ID: u32 = 1;
const SAMPLE_VALUE: u32 = 2;
const LOCATION_ID: u32 = 1;
const LOCATION_ADDRESS: u32 = 3;
const LOCATION_LINE: u32 = 4;
const LINE_FUNCTION_ID: u32 = 1;
const LINE_LINE: u32 = 2;
const FUNCTION_ID: u32 = 1;
const FUNCTION_NAME: u32 = 2;
const FUNCTION_SYSTEM_NAME: u32 = 3;
const FUNCTION_FILENAME: u32 = 4;

/// The string table of a profile being encoded.
#[derive(Default)]
struct Strings {
    list: Vec<String>,
    ids: FxHashMap<String, u64>,
}

impl Strings {
    fn id(&mut self, s: &str) -> u64 {
        if let Some(&i) = self.ids.get(s) {
            return i;
        }
        let i = self.list.len() as u64;
        self.list.push(s.to_string());
        self.ids.insert(s.to_string(), i);
        i
    }
}

/// Encodes a profile as an uncompressed `profile.proto` message, laid out as Go's
/// `traceviewer.BuildProfile` lays it out.
pub fn encode(profile: &Profile, stacks: &StackTable) -> Vec<u8> {
    let mut strings = Strings::default();
    strings.id("");
    let value_types = profile.kind.value_types();
    let value_type_ids: Vec<(u64, u64)> = value_types
        .iter()
        .map(|(t, u)| (strings.id(t), strings.id(u)))
        .collect();

    // Locations by pc (the first frame seen for a pc), functions by (file, name).
    let mut location_ids: FxHashMap<u64, u64> = FxHashMap::default();
    let mut function_ids: FxHashMap<(u32, u32), u64> = FxHashMap::default();
    let mut locations = Writer::new();
    let mut functions = Writer::new();
    let mut samples = Writer::new();
    for rec in &profile.records {
        let mut ids = Vec::new();
        for f in stacks.frames(rec.stack) {
            let next_loc = location_ids.len() as u64 + 1;
            let loc = *location_ids.entry(f.pc).or_insert(next_loc);
            if loc == next_loc {
                let next_fn = function_ids.len() as u64 + 1;
                let func = *function_ids.entry((f.file, f.func)).or_insert(next_fn);
                if func == next_fn {
                    let name = strings.id(stacks.string(f.func));
                    let file = strings.id(stacks.string(f.file));
                    functions.message(PROFILE_FUNCTION, |w| {
                        w.uint64(FUNCTION_ID, func);
                        w.uint64(FUNCTION_NAME, name);
                        w.uint64(FUNCTION_SYSTEM_NAME, name);
                        w.uint64(FUNCTION_FILENAME, file);
                    });
                }
                locations.message(PROFILE_LOCATION, |w| {
                    w.uint64(LOCATION_ID, loc);
                    w.uint64(LOCATION_ADDRESS, f.pc);
                    w.message(LOCATION_LINE, |l| {
                        l.uint64(LINE_FUNCTION_ID, func);
                        l.int64(LINE_LINE, f.line as i64);
                    });
                });
            }
            ids.push(loc);
        }
        samples.message(PROFILE_SAMPLE, |w| {
            w.packed_uint64(SAMPLE_LOCATION_ID, &ids);
            w.packed_int64(SAMPLE_VALUE, &[rec.count as i64, rec.delay_ns]);
        });
    }
    let ((period_t, period_u), period) = profile.kind.period();
    let period_type = (strings.id(period_t), strings.id(period_u));

    let mut w = Writer::new();
    for (t, u) in value_type_ids {
        w.message(PROFILE_SAMPLE_TYPE, |v| {
            v.uint64(VALUE_TYPE_TYPE, t);
            v.uint64(VALUE_TYPE_UNIT, u);
        });
    }
    w.buf.extend_from_slice(&samples.buf);
    w.buf.extend_from_slice(&locations.buf);
    w.buf.extend_from_slice(&functions.buf);
    for s in &strings.list {
        w.string(PROFILE_STRING_TABLE, s);
    }
    w.message(PROFILE_PERIOD_TYPE, |v| {
        v.uint64(VALUE_TYPE_TYPE, period_type.0);
        v.uint64(VALUE_TYPE_UNIT, period_type.1);
    });
    w.int64(PROFILE_PERIOD, period);
    w.into_bytes()
}

/// Writes a profile gzipped, as `go tool pprof` reads it.
pub fn write_gzipped(
    profile: &Profile,
    stacks: &StackTable,
    out: impl Write,
) -> std::io::Result<()> {
    let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::default());
    gz.write_all(&encode(profile, stacks))?;
    gz.finish()?.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_is_gos() {
        assert_eq!(overlap_ns((0, 10), (2, 5)), 3);
        assert_eq!(overlap_ns((3, 10), (0, 5)), 2);
        assert_eq!(overlap_ns((5, 10), (0, 5)), 0);
        assert_eq!(overlap_ns((6, 10), (0, 5)), 0);
        assert_eq!(overlap_ns((0, i64::MAX), (7, 9)), 2);
    }

    #[test]
    fn kinds_track_gos_reasons() {
        use ProfileKind::*;
        assert!(Sync.starts(GO_WAITING, "chan receive"));
        assert!(Sync.starts(GO_WAITING, "select"));
        assert!(Sync.starts(GO_WAITING, "sync.(*Cond).Wait"));
        assert!(!Sync.starts(GO_WAITING, "sleep"));
        assert!(!Sync.starts(GO_RUNNABLE, "select"));
        assert!(Net.starts(GO_WAITING, "network"));
        assert!(!Net.starts(GO_WAITING, "network unavailable"));
        assert!(Syscall.starts(GO_SYSCALL, ""));
        assert!(Sched.starts(GO_RUNNABLE, "preempted"));
    }

    /// Builds all four profiles of a committed trace, limited to `window` if given;
    /// also returns the first and last event times.
    fn profiles_of(name: &str, window: Option<(i64, i64)>) -> (Vec<Profile>, (i64, i64)) {
        let path = goscope_testdata::dir().join("traces").join(name);
        let data = std::fs::read(&path).expect("committed trace");
        let mut b = ProfileBuilder::new(&ProfileKind::ALL);
        if let Some((a, z)) = window {
            b = b.with_window(a, z);
        }
        let mut span_ns = (i64::MAX, i64::MIN);
        goscope_trace::read(&data, goscope_trace::ReadOptions::default(), |ev, t| {
            span_ns = (span_ns.0.min(ev.time_ns), span_ns.1.max(ev.time_ns));
            b.event(ev, t)
        })
        .expect("trace reads");
        (b.finish().0, span_ns)
    }

    #[test]
    fn clipping_to_a_window() {
        assert_eq!(clipped_delay_ns((0, 100), (10, 50), None), 40);
        assert_eq!(clipped_delay_ns((0, 100), (10, 50), Some((20, 30))), 10);
        assert_eq!(clipped_delay_ns((0, 100), (10, 50), Some((40, 90))), 10);
        assert_eq!(clipped_delay_ns((0, 100), (10, 50), Some((50, 90))), 0);
        assert_eq!(clipped_delay_ns((0, 100), (10, 50), Some((60, 90))), 0);
        assert_eq!(clipped_delay_ns((0, 100), (10, 50), Some((30, 30))), 0);
        // The goroutine's life still applies inside the window.
        assert_eq!(clipped_delay_ns((25, 100), (10, 50), Some((20, 40))), 15);
    }

    #[test]
    fn windowed_profiles_of_the_stall_trace() {
        let (full, (start_ns, end_ns)) = profiles_of("stall-go127.trace", None);
        assert!(start_ns < end_ns);
        let sync_of = |ps: &[Profile]| ps[1].clone();
        assert_eq!(sync_of(&full).kind, ProfileKind::Sync);
        assert!(sync_of(&full).total_delay_ns() > 900_000_000);

        // The whole trace as the window is the unlimited profile, record for record.
        let (whole, _) = profiles_of("stall-go127.trace", Some((start_ns, end_ns)));
        for (a, b) in full.iter().zip(&whole) {
            assert_eq!(a.kind, b.kind);
            assert_eq!(a.records, b.records, "{:?}", a.kind);
        }

        // Each half holds part of the 1 s stall (it spans the middle of the 1.2 s run),
        // and the halves add up to the whole.
        let mid_ns = start_ns + (end_ns - start_ns) / 2;
        let (first, _) = profiles_of("stall-go127.trace", Some((start_ns, mid_ns)));
        let (second, _) = profiles_of("stall-go127.trace", Some((mid_ns, end_ns)));
        for ((f, a), b) in full.iter().zip(&first).zip(&second) {
            assert!(a.total_delay_ns() <= f.total_delay_ns(), "{:?}", f.kind);
            assert!(b.total_delay_ns() <= f.total_delay_ns(), "{:?}", f.kind);
            assert!(a.total_count() <= f.total_count(), "{:?}", f.kind);
            assert_eq!(
                a.total_delay_ns() + b.total_delay_ns(),
                f.total_delay_ns(),
                "{:?}",
                f.kind
            );
        }
        let (a, b) = (sync_of(&first), sync_of(&second));
        assert!(a.total_delay_ns() > 100_000_000, "{}", a.total_delay_ns());
        assert!(b.total_delay_ns() > 100_000_000, "{}", b.total_delay_ns());
        assert!(a.total_delay_ns() < sync_of(&full).total_delay_ns());

        // An empty window, and one after the trace, give nothing.
        for w in [(mid_ns, mid_ns), (end_ns + 1, end_ns + 1_000_000_000)] {
            let (none, _) = profiles_of("stall-go127.trace", Some(w));
            for p in &none {
                assert_eq!(p.total_delay_ns(), 0, "{:?} in {w:?}", p.kind);
                assert_eq!(p.total_count(), 0, "{:?} in {w:?}", p.kind);
                assert!(p.records.is_empty());
            }
        }
    }

    #[test]
    #[rustfmt::skip]
    fn empty_profile_bytes() {
        let p = Profile { kind: ProfileKind::Sync, records: vec![] };
        let bytes = encode(&p, &StackTable::new());
        assert_eq!(bytes, [
            0x0a, 0x04, 0x08, 0x01, 0x10, 0x02, // sample_type {type: "contentions", unit: "count"}
            0x0a, 0x04, 0x08, 0x03, 0x10, 0x04, // sample_type {type: "delay", unit: "nanoseconds"}
            0x32, 0x00,                         // string_table[0] = ""
            0x32, 0x0b, b'c', b'o', b'n', b't', b'e', b'n', b't', b'i', b'o', b'n', b's',
            0x32, 0x05, b'c', b'o', b'u', b'n', b't',
            0x32, 0x05, b'd', b'e', b'l', b'a', b'y',
            0x32, 0x0b, b'n', b'a', b'n', b'o', b's', b'e', b'c', b'o', b'n', b'd', b's',
            0x32, 0x05, b't', b'r', b'a', b'c', b'e',
            0x5a, 0x04, 0x08, 0x05, 0x10, 0x02, // period_type {type: "trace", unit: "count"}
            0x60, 0x01,                         // period = 1
        ]);
    }
}
