//! Goroutine analysis: per goroutine, where its time went (execution, scheduler wait,
//! syscalls, blocking by reason, GC ranges), its user regions, groups by start
//! function, and who unblocked whom.
//!
//! The accounting follows Go's `internal/trace` summarizer, which `go tool trace`
//! shows on its goroutine pages, so the numbers match it to the nanosecond:
//! - A goroutine first seen in a status event (state "undetermined" before) is
//!   taken to have been in its state since the last sync event, and that is its
//!   creation time; one created during the trace starts at its creation event.
//! - Its start function is the outermost frame of the first transition stack seen
//!   for it (for a creation, the new goroutine's own stack).
//! - Time in a state is charged when the goroutine leaves it. Waiting is charged to
//!   the wait reason; syscall time becomes "syscall block" time from the moment the
//!   P the goroutine entered the syscall on goes idle.
//! - Waiting "forever" ends the goroutine as exiting does. Goroutines still alive at
//!   the end are charged up to the last event.
//! - Ranges on a goroutine (mark assist, STW it started) count in full; ranges on a
//!   P (sweep) count for the goroutine that began and ended them on that P.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde::Serialize;

use super::{RangeScope, is_system_goroutine, range_name, range_of};
use goscope_trace::state::*;
use goscope_trace::{Event, Kind, NONE, Resource, Tables};

/// Where a goroutine's time went during some period. All but `total_ns` and
/// `range_ns` are disjoint.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ExecStats {
    pub exec_ns: i64,
    pub sched_wait_ns: i64,
    /// Time blocked (waiting), by wait reason ("chan receive", "select", "sync", …).
    pub block_ns: NsByName,
    /// Time in syscalls while holding a P.
    pub syscall_ns: i64,
    /// Time in syscalls after the P was taken away.
    pub syscall_block_ns: i64,
    /// Time the goroutine existed in the trace.
    pub total_ns: i64,
    /// Time in special ranges ("GC mark assist", "GC incremental sweep",
    /// "stop-the-world (…)"); overlaps the other times.
    pub range_ns: NsByName,
}

/// Times by name (a wait reason, a range), in name order: a map, kept small. A trace can
/// have 100,000 goroutines, each with a few of these; as `BTreeMap<String, i64>` they took
/// some 450 bytes a goroutine (a tree node and a string per name), now some 60: one short
/// vector, its names shared by every goroutine.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct NsByName(Vec<(Arc<str>, i64)>);

impl NsByName {
    pub fn get(&self, name: &str) -> Option<&i64> {
        self.0
            .binary_search_by(|(k, _)| (**k).cmp(name))
            .ok()
            .map(|i| &self.0[i].1)
    }

    /// Sets `name`'s time.
    pub fn insert(&mut self, name: &str, ns: i64) {
        match self.0.binary_search_by(|(k, _)| (**k).cmp(name)) {
            Ok(i) => self.0[i].1 = ns,
            Err(i) => self.0.insert(i, (Arc::from(name), ns)),
        }
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> + '_ {
        self.0.iter().map(|(k, _)| &**k)
    }

    pub fn values(&self) -> impl Iterator<Item = &i64> + '_ {
        self.0.iter().map(|(_, v)| v)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &i64)> + '_ {
        self.0.iter().map(|(k, v)| (&**k, v))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a> IntoIterator for &'a NsByName {
    type Item = (&'a str, &'a i64);
    type IntoIter = Box<dyn Iterator<Item = (&'a str, &'a i64)> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

/// Written as the map it stands for.
impl std::fmt::Debug for NsByName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// Serialized as the map it stands for (names in order, as a `BTreeMap` is).
impl Serialize for NsByName {
    fn serialize<Se: serde::Serializer>(&self, ser: Se) -> Result<Se::Ok, Se::Error> {
        use serde::ser::SerializeMap;
        let mut m = ser.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.iter() {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// Go's name for execution time among the non-overlapping stats.
pub const STAT_EXEC: &str = "Execution time";
pub const STAT_SCHED_WAIT: &str = "Sched wait time";
pub const STAT_SYSCALL: &str = "Syscall execution time";
pub const STAT_SYSCALL_BLOCK: &str = "Block time (syscall)";
pub const STAT_UNKNOWN: &str = "Unknown time";

impl ExecStats {
    /// Time not accounted for by the disjoint stats.
    pub fn unknown_ns(&self) -> i64 {
        let sum = self.exec_ns
            + self.sched_wait_ns
            + self.syscall_ns
            + self.syscall_block_ns
            + self.block_ns.values().sum::<i64>();
        (self.total_ns - sum).max(0)
    }

    /// The disjoint stats under Go's names ("Execution time", "Block time (select)",
    /// …), as the columns of Go's goroutine page.
    pub fn non_overlapping(&self) -> BTreeMap<String, i64> {
        let mut m = BTreeMap::new();
        m.insert(STAT_EXEC.to_string(), self.exec_ns);
        m.insert(STAT_SCHED_WAIT.to_string(), self.sched_wait_ns);
        m.insert(STAT_SYSCALL.to_string(), self.syscall_ns);
        m.insert(STAT_SYSCALL_BLOCK.to_string(), self.syscall_block_ns);
        m.insert(STAT_UNKNOWN.to_string(), self.unknown_ns());
        for (reason, ns) in &self.block_ns {
            *m.entry(format!("Block time ({reason})")).or_insert(0) += ns;
        }
        m
    }

    /// Total time blocked for any reason, syscall block included.
    pub fn block_total_ns(&self) -> i64 {
        self.block_ns.values().sum::<i64>() + self.syscall_block_ns
    }
}

/// A user region (or the task a goroutine inherited at creation) on one goroutine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RegionSummary {
    pub task: u64,
    /// Empty for a region inherited from the creating goroutine.
    pub name: String,
    /// None when the trace began inside the region.
    pub start_ns: Option<i64>,
    /// None when the trace ended inside the region.
    pub end_ns: Option<i64>,
    /// The goroutine's stats while the region was active.
    pub stats: ExecStats,
}

/// One goroutine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GoroutineSummary {
    pub id: i64,
    /// The start function ("" if no stack was ever seen for it).
    pub name: String,
    /// The pc of that frame.
    pub pc: u64,
    pub creation_ns: i64,
    /// First time it ran; None if it never ran in the trace.
    pub start_ns: Option<i64>,
    /// When it exited (or began waiting forever); None if alive at the end.
    pub end_ns: Option<i64>,
    pub stats: ExecStats,
    /// Its regions, by start time.
    pub regions: Vec<RegionSummary>,
}

/// "`from_g` made `to_g` runnable", first at `first_ns` (and maybe again later).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct UnblockEdge {
    pub from_g: i64,
    pub to_g: i64,
    pub first_ns: i64,
}

/// Goroutines sharing a start function.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Group {
    pub name: String,
    pub count: usize,
    pub exec_ns: i64,
}

/// The result of the goroutine analysis.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    /// By id.
    pub goroutines: Vec<GoroutineSummary>,
    /// Each pair of goroutines once, in order of its first unblock.
    pub unblocks: Vec<UnblockEdge>,
    /// Time of the last event.
    pub last_ns: i64,
}

impl Summary {
    pub fn goroutine(&self, id: i64) -> Option<&GoroutineSummary> {
        self.goroutines
            .binary_search_by_key(&id, |g| g.id)
            .ok()
            .map(|i| &self.goroutines[i])
    }

    /// Goroutines grouped by start function, by total execution time (most first),
    /// as Go's /goroutines page lists them.
    pub fn groups(&self) -> Vec<Group> {
        let mut by_name: BTreeMap<&str, Group> = BTreeMap::new();
        for g in &self.goroutines {
            let e = by_name.entry(&g.name).or_insert_with(|| Group {
                name: g.name.clone(),
                count: 0,
                exec_ns: 0,
            });
            e.count += 1;
            e.exec_ns += g.stats.exec_ns;
        }
        let mut groups: Vec<Group> = by_name.into_values().collect();
        groups.sort_by(|a, b| b.exec_ns.cmp(&a.exec_ns).then_with(|| a.name.cmp(&b.name)));
        groups
    }

    /// The goroutines of one group.
    pub fn group(&self, name: &str) -> Vec<&GoroutineSummary> {
        self.goroutines.iter().filter(|g| g.name == name).collect()
    }

    /// `goid` and the goroutines that unblocked it, and those that unblocked them
    /// (two steps back along unblock edges), as Go's trace view of a goroutine
    /// picks the goroutines related to it.
    pub fn related(&self, goid: i64) -> BTreeSet<i64> {
        let mut set = BTreeSet::from([goid]);
        for _ in 0..2 {
            let mut next = set.clone();
            for e in &self.unblocks {
                if set.contains(&e.to_g) {
                    next.insert(e.from_g);
                }
            }
            set = next;
        }
        set
    }
}

/// Disjoint stats with interned names, while summarizing.
#[derive(Clone, Debug, Default)]
struct Stats {
    exec: i64,
    sched: i64,
    block: Vec<(u32, i64)>,
    syscall: i64,
    syscall_block: i64,
    total: i64,
    range: Vec<(u32, i64)>,
}

fn slot(v: &mut Vec<(u32, i64)>, key: u32) -> &mut i64 {
    let i = match v.iter().position(|e| e.0 == key) {
        Some(i) => i,
        None => {
            v.push((key, 0));
            v.len() - 1
        }
    };
    &mut v[i].1
}

fn get(v: &[(u32, i64)], key: u32) -> i64 {
    v.iter().find(|e| e.0 == key).map_or(0, |e| e.1)
}

impl Stats {
    /// `self - earlier`, over the keys of `self`.
    fn sub(&self, earlier: &Stats) -> Stats {
        let mut r = self.clone();
        r.exec -= earlier.exec;
        r.sched -= earlier.sched;
        for e in &mut r.block {
            e.1 -= get(&earlier.block, e.0);
        }
        r.syscall -= earlier.syscall;
        r.syscall_block -= earlier.syscall_block;
        r.total -= earlier.total;
        for e in &mut r.range {
            e.1 -= get(&earlier.range, e.0);
        }
        r
    }
}

/// A region while summarizing.
#[derive(Clone, Debug)]
struct Region {
    task: u64,
    name: u32,
    start_ns: Option<i64>,
    end_ns: Option<i64>,
    stats: Stats,
}

/// State needed only until the goroutine ends: when it entered its current state.
#[derive(Clone, Debug, Default)]
struct Pending {
    last_start: Option<i64>,
    last_runnable: Option<i64>,
    last_block: Option<i64>,
    last_block_reason: u32,
    last_syscall: Option<i64>,
    last_syscall_block: Option<i64>,
    last_range: Vec<(u32, i64)>,
    active_regions: Vec<Region>,
}

#[derive(Clone, Debug)]
struct GState {
    name: String,
    pc: u64,
    creation_ns: i64,
    start_ns: Option<i64>,
    end_ns: Option<i64>,
    stats: Stats,
    regions: Vec<Region>,
    pending: Pending,
}

impl GState {
    fn new(creation_ns: i64) -> Self {
        GState {
            name: String::new(),
            pc: 0,
            creation_ns,
            start_ns: None,
            end_ns: None,
            stats: Stats::default(),
            regions: Vec::new(),
            pending: Pending::default(),
        }
    }

    /// The stats as if the goroutine's current state ended at `now`.
    fn snapshot(&self, now: i64) -> Stats {
        let mut r = self.stats.clone();
        let p = &self.pending;
        if r.total == 0 {
            r.total = now - self.creation_ns;
        }
        if let Some(t) = p.last_start {
            r.exec += now - t;
        }
        if let Some(t) = p.last_runnable {
            r.sched += now - t;
        }
        if let Some(t) = p.last_block {
            *slot(&mut r.block, p.last_block_reason) += now - t;
        }
        if let Some(t) = p.last_syscall {
            r.syscall += now - t;
        }
        // Go charges a syscall still blocked at the end to scheduler wait (on top of
        // the syscall time above); kept for fidelity.
        if let Some(t) = p.last_syscall_block {
            r.sched += now - t;
        }
        for &(name, t) in &p.last_range {
            *slot(&mut r.range, name) += now - t;
        }
        r
    }

    /// Closes the goroutine's books at `now`; `end` is the time of the event that
    /// ended it, if one did.
    fn finalize(&mut self, now: i64, end: Option<i64>) {
        if end.is_some() {
            self.end_ns = end;
        }
        let stats = self.snapshot(now);
        if !is_system_goroutine(&self.name) {
            for mut r in std::mem::take(&mut self.pending.active_regions) {
                r.end_ns = end;
                r.stats = stats.sub(&r.stats);
                self.regions.push(r);
            }
        }
        self.stats = stats;
        self.pending = Pending::default();
    }
}

/// Builds a `Summary` from the ordered events.
#[derive(Debug, Default)]
pub struct Summarizer {
    /// Boxed: a goroutine's state is about 320 bytes, and with 100,000 goroutines a table
    /// of them inline grew into a 43 MB table while holding the 21 MB one it copied.
    gs: FxHashMap<i64, Box<GState>>,
    /// Which goroutine is in a syscall on which P, both ways, to notice syscalls
    /// that lose their P.
    syscalling_p: FxHashMap<i64, i64>,
    syscalling_g: FxHashMap<i64, i64>,
    /// P-scoped ranges and the goroutine that began them.
    ranges_p: FxHashMap<(i64, u32), i64>,
    names: Vec<Box<str>>,
    name_ids: FxHashMap<Box<str>, u32>,
    /// The generation `reason_ids` is for, and its string ids → interned names.
    generation: Option<u64>,
    reason_ids: FxHashMap<u64, u32>,
    /// (waker, woken) → first time. A pair once, not an edge per unblock: a busy trace
    /// has millions of unblocks among a few thousand pairs.
    unblocks: FxHashMap<(i64, i64), i64>,
    last_ns: i64,
    sync_ns: Option<i64>,
}

impl Summarizer {
    pub fn new() -> Self {
        let mut s = Summarizer::default();
        s.intern("");
        s
    }

    fn intern(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.name_ids.get(name) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(name.into());
        self.name_ids.insert(name.into(), i);
        i
    }

    /// The interned name of string `id` of the current generation, cached per
    /// generation (wait reasons repeat on nearly every transition).
    fn reason(&mut self, tables: &Tables, id: u64) -> u32 {
        if self.generation != Some(tables.generation) {
            self.generation = Some(tables.generation);
            self.reason_ids.clear();
        }
        if let Some(&i) = self.reason_ids.get(&id) {
            return i;
        }
        let i = self.intern(tables.string(id).unwrap_or(""));
        self.reason_ids.insert(id, i);
        i
    }

    /// Feeds one event.
    pub fn event(&mut self, ev: &Event, tables: &Tables) {
        let now = ev.time_ns;
        let sync_ns = *self.sync_ns.get_or_insert(now);
        self.last_ns = now;
        match ev.kind() {
            Kind::Sync => self.sync_ns = Some(now),
            Kind::StateTransition => self.transition(ev, tables, sync_ns),
            Kind::RangeBegin | Kind::RangeActive => {
                let Some((kind, scope)) = range_of(ev) else {
                    return;
                };
                let name = self.intern(&range_name(kind, tables));
                let goid = match scope {
                    RangeScope::None => return,
                    RangeScope::Goroutine(g) => g,
                    RangeScope::Proc(p) => {
                        if self.gs.contains_key(&ev.g) {
                            self.ranges_p.insert((p, name), ev.g);
                        }
                        ev.g
                    }
                };
                let Some(g) = self.gs.get_mut(&goid) else {
                    return;
                };
                let at = if ev.kind() == Kind::RangeActive {
                    let prev = get(&g.pending.last_range, name);
                    if prev != 0 {
                        *slot(&mut g.stats.range, name) += sync_ns - prev;
                    }
                    sync_ns
                } else {
                    now
                };
                *slot(&mut g.pending.last_range, name) = at;
            }
            Kind::RangeEnd => {
                let Some((kind, scope)) = range_of(ev) else {
                    return;
                };
                let name = self.intern(&range_name(kind, tables));
                let goid = match scope {
                    RangeScope::None => return,
                    RangeScope::Goroutine(g) => g,
                    RangeScope::Proc(p) => match self.ranges_p.remove(&(p, name)) {
                        Some(g) if g == ev.g => g,
                        _ => return,
                    },
                };
                let Some(g) = self.gs.get_mut(&goid) else {
                    return;
                };
                let Some(i) = g.pending.last_range.iter().position(|e| e.0 == name) else {
                    return;
                };
                let (_, t) = g.pending.last_range.swap_remove(i);
                if t != 0 {
                    *slot(&mut g.stats.range, name) += now - t;
                }
            }
            Kind::RegionBegin => {
                let name = self.intern(tables.string(ev.args[1]).unwrap_or(""));
                let Some(g) = self.gs.get_mut(&ev.g) else {
                    return;
                };
                let stats = g.snapshot(now);
                g.pending.active_regions.push(Region {
                    task: ev.args[0],
                    name,
                    start_ns: Some(now),
                    end_ns: None,
                    stats,
                });
            }
            Kind::RegionEnd => {
                let name = self.intern(tables.string(ev.args[1]).unwrap_or(""));
                let Some(g) = self.gs.get_mut(&ev.g) else {
                    return;
                };
                let mut r = g.pending.active_regions.pop().unwrap_or(Region {
                    task: ev.args[0],
                    name,
                    start_ns: None,
                    end_ns: None,
                    stats: Stats::default(),
                });
                r.stats = g.snapshot(now).sub(&r.stats);
                r.end_ns = Some(now);
                g.regions.push(r);
            }
            _ => {}
        }
    }

    fn transition(&mut self, ev: &Event, tables: &Tables, sync_ns: i64) {
        let Some(t) = ev.transition() else {
            return;
        };
        let now = ev.time_ns;
        let (from, to) = (t.from, t.to);
        if from == to {
            return;
        }
        let id = match t.resource {
            Resource::Goroutine(id) => id,
            Resource::Proc(p) => {
                if to == PROC_IDLE {
                    if let Some(goid) = self.syscalling_p.remove(&p) {
                        if let Some(g) = self.gs.get_mut(&goid) {
                            g.pending.last_syscall_block = Some(now);
                        }
                    }
                }
                return;
            }
        };
        let reason = self.reason(tables, t.reason);
        let forever = &*self.names[reason as usize] == "forever";
        if from == GO_WAITING && ev.g != NONE {
            self.unblocks.entry((ev.g, id)).or_insert(now);
        }

        // Leaving the old state.
        let fresh = from == GO_UNDETERMINED || from == GO_NOT_EXIST || !self.gs.contains_key(&id);
        if fresh {
            let mut g;
            if from == GO_NOT_EXIST {
                g = GState::new(now);
                // A new goroutine inherits the task of its creator's innermost region.
                if let Some(task) = self
                    .gs
                    .get(&ev.g)
                    .and_then(|c| c.pending.active_regions.last())
                    .map(|r| r.task)
                {
                    g.pending.active_regions.push(Region {
                        task,
                        name: 0,
                        start_ns: Some(now),
                        end_ns: None,
                        stats: Stats::default(),
                    });
                }
            } else {
                // First seen in a status event: in its state since the last sync.
                g = GState::new(sync_ns);
                let dt = now - sync_ns;
                match to {
                    GO_RUNNING => g.stats.exec += dt,
                    GO_WAITING => *slot(&mut g.stats.block, reason) += dt,
                    GO_RUNNABLE => g.stats.sched += dt,
                    GO_SYSCALL if ev.p == NONE => g.stats.syscall_block += dt,
                    GO_SYSCALL => g.stats.syscall += dt,
                    _ => {}
                }
            }
            self.gs.insert(id, Box::new(g));
        }
        let Some(g) = self.gs.get_mut(&id) else {
            return;
        };
        let p = &mut g.pending;
        if !fresh {
            match from {
                GO_RUNNING => {
                    if let Some(t0) = p.last_start.take() {
                        g.stats.exec += now - t0;
                    }
                }
                GO_WAITING => {
                    if let Some(t0) = p.last_block.take() {
                        *slot(&mut g.stats.block, p.last_block_reason) += now - t0;
                    }
                }
                GO_RUNNABLE => {
                    if let Some(t0) = p.last_runnable.take() {
                        g.stats.sched += now - t0;
                    }
                }
                GO_SYSCALL => {
                    if let Some(t0) = p.last_syscall.take() {
                        match p.last_syscall_block.take() {
                            Some(tb) => {
                                g.stats.syscall_block += now - tb;
                                g.stats.syscall += tb - t0;
                            }
                            None => g.stats.syscall += now - t0,
                        }
                        // Go looks the P up with a default of 0 when it is gone.
                        let on_p = self.syscalling_g.remove(&id).unwrap_or(0);
                        self.syscalling_p.remove(&on_p);
                    }
                }
                _ => {}
            }
        }

        // Name the goroutine by the outermost frame of the first stack seen.
        if g.name.is_empty() {
            if let Some(stack) = t.stack {
                if let Some((pc, func, _, _)) = tables.stack_frames(stack).last() {
                    g.pc = pc;
                    g.name = func.to_string();
                }
            }
        }

        // Entering the new state.
        let p = &mut g.pending;
        match to {
            GO_RUNNING => {
                p.last_start = Some(now);
                g.start_ns.get_or_insert(now);
            }
            GO_RUNNABLE => p.last_runnable = Some(now),
            GO_WAITING if !forever => {
                p.last_block = Some(now);
                p.last_block_reason = reason;
            }
            GO_WAITING | GO_NOT_EXIST => g.finalize(now, Some(now)),
            GO_SYSCALL => {
                self.syscalling_p.insert(ev.p, id);
                self.syscalling_g.insert(id, ev.p);
                p.last_syscall = Some(now);
            }
            _ => {}
        }
    }

    /// Closes every goroutine's books at the last event and returns the summary.
    pub fn finish(mut self) -> Summary {
        let names = std::mem::take(&mut self.names);
        let name = |i: u32| names.get(i as usize).map_or("", |s| s).to_string();
        // Each name once, shared by every goroutine's times.
        let shared: Vec<Arc<str>> = names.iter().map(|s| Arc::from(&**s)).collect();
        let empty: Arc<str> = Arc::from("");
        let by_name = |v: &[(u32, i64)]| {
            let mut m: Vec<(Arc<str>, i64)> = v
                .iter()
                .map(|&(k, ns)| (shared.get(k as usize).unwrap_or(&empty).clone(), ns))
                .collect();
            m.sort_by(|a, b| a.0.cmp(&b.0));
            // One entry a name (a name stands for one id, but stay a map whatever comes).
            m.dedup_by(|later, first| {
                let same = later.0 == first.0;
                if same {
                    first.1 = later.1;
                }
                same
            });
            NsByName(m)
        };
        let public = |s: &Stats| ExecStats {
            exec_ns: s.exec,
            sched_wait_ns: s.sched,
            block_ns: by_name(&s.block),
            syscall_ns: s.syscall,
            syscall_block_ns: s.syscall_block,
            total_ns: s.total,
            range_ns: by_name(&s.range),
        };
        let mut goroutines: Vec<GoroutineSummary> = self
            .gs
            .into_iter()
            .map(|(id, mut g)| {
                g.finalize(self.last_ns, None);
                let mut regions: Vec<RegionSummary> = g
                    .regions
                    .iter()
                    .map(|r| RegionSummary {
                        task: r.task,
                        name: name(r.name),
                        start_ns: r.start_ns,
                        end_ns: r.end_ns,
                        stats: public(&r.stats),
                    })
                    .collect();
                regions.sort_by_key(|r| r.start_ns);
                GoroutineSummary {
                    id,
                    name: g.name,
                    pc: g.pc,
                    creation_ns: g.creation_ns,
                    start_ns: g.start_ns,
                    end_ns: g.end_ns,
                    stats: public(&g.stats),
                    regions,
                }
            })
            .collect();
        goroutines.sort_by_key(|g| g.id);
        let mut unblocks: Vec<UnblockEdge> = self
            .unblocks
            .into_iter()
            .map(|((from_g, to_g), first_ns)| UnblockEdge {
                from_g,
                to_g,
                first_ns,
            })
            .collect();
        unblocks.sort_by_key(|e| (e.first_ns, e.from_g, e.to_g));
        Summary {
            goroutines,
            unblocks,
            last_ns: self.last_ns,
        }
    }
}

/// Summarizes a whole trace. Returns the summary and the reader's warning, if the
/// trace could be read only in part.
pub fn summarize<S: goscope_trace::Source + ?Sized>(
    data: &S,
) -> goscope_trace::Result<(Summary, Option<goscope_trace::Error>)> {
    let mut s = Summarizer::new();
    let outcome = super::read_into(data, |ev, t| s.event(ev, t))?;
    Ok((s.finish(), outcome.warning))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Times by name read, print and serialize as the `BTreeMap` they stand for.
    #[test]
    fn times_by_name_are_a_map() {
        let mut mine = NsByName::default();
        let mut map = BTreeMap::new();
        for (k, v) in [
            ("sync", 3),
            ("chan receive", 5),
            ("select", 7),
            ("sync", 11),
        ] {
            mine.insert(k, v);
            map.insert(k.to_string(), v);
        }
        assert_eq!(mine.len(), map.len());
        assert!(mine.keys().eq(map.keys().map(|k| k.as_str())));
        assert!(mine.values().eq(map.values()));
        assert_eq!(mine.get("sync"), Some(&11));
        assert_eq!(mine.get("network"), None);
        assert_eq!(format!("{mine:?}"), format!("{map:?}"));
        assert_eq!(
            serde_json::to_string(&mine).unwrap(),
            serde_json::to_string(&map).unwrap()
        );
    }

    #[test]
    fn unknown_time_is_what_is_left() {
        let mut s = ExecStats {
            exec_ns: 10,
            sched_wait_ns: 5,
            total_ns: 40,
            ..Default::default()
        };
        s.block_ns.insert("select", 20);
        assert_eq!(s.unknown_ns(), 5);
        let m = s.non_overlapping();
        assert_eq!(m["Block time (select)"], 20);
        assert_eq!(m[STAT_UNKNOWN], 5);
        s.total_ns = 1;
        assert_eq!(s.unknown_ns(), 0);
    }

    #[test]
    fn related_goes_two_steps_back() {
        let e = |from_g, to_g| UnblockEdge {
            from_g,
            to_g,
            first_ns: 0,
        };
        let s = Summary {
            unblocks: vec![e(2, 1), e(3, 2), e(4, 3), e(1, 5)],
            ..Default::default()
        };
        assert_eq!(s.related(1), BTreeSet::from([1, 2, 3]));
    }

    /// Each waker → woken pair is kept once, with the time of its first unblock, as read
    /// straight from the events.
    #[test]
    fn unblock_pairs_are_kept_once_with_their_first_time() {
        let data = goscope_testdata::trace_bytes("mixed-go125");
        let mut first: std::collections::BTreeMap<(i64, i64), i64> = Default::default();
        let mut unblocks = 0;
        goscope_trace::read(&data, Default::default(), |ev, _| {
            if let Some(t) = ev.transition() {
                if let Resource::Goroutine(id) = t.resource {
                    if t.from == GO_WAITING && ev.g != NONE {
                        unblocks += 1;
                        first.entry((ev.g, id)).or_insert(ev.time_ns);
                    }
                }
            }
        })
        .unwrap();
        let (s, _) = summarize(&data).unwrap();
        let got: std::collections::BTreeMap<(i64, i64), i64> = s
            .unblocks
            .iter()
            .map(|e| ((e.from_g, e.to_g), e.first_ns))
            .collect();
        assert_eq!(got.len(), s.unblocks.len(), "a pair twice");
        assert_eq!(got, first);
        assert!(
            s.unblocks.len() < unblocks,
            "{} pairs of {unblocks}",
            s.unblocks.len()
        );
        assert!(
            s.unblocks
                .windows(2)
                .all(|w| w[0].first_ns <= w[1].first_ns)
        );
    }

    #[test]
    fn system_goroutines() {
        assert!(is_system_goroutine(""));
        assert!(is_system_goroutine("runtime.bgsweep"));
        assert!(!is_system_goroutine("runtime.main"));
        assert!(!is_system_goroutine("main.main"));
    }
}
