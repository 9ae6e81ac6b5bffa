//! Minimum mutator utilization (MMU): how much of the CPU the program's own
//! goroutines got in the worst window of each size, given what GC took from them.
//!
//! Two steps, as `go tool trace`'s /mmu page does them (`internal/trace/gc.go`):
//! 1. Utilization functions: step functions of time in [0, 1], one for the whole
//!    program (each P worth 1/GOMAXPROCS) or one per P. A P counts as taken while a
//!    GC stop-the-world runs (flag `stw`), while it runs a background mark worker
//!    (`background`; in per-P mode dedicated workers are left out, since they don't
//!    share their P with user goroutines), while a goroutine on it is in a mark assist
//!    (`assist`) or while it sweeps (`sweep`). Each function ends with a 0 at the last
//!    event.
//! 2. The curve: for a window size w, the minimum over all windows [t, t+w] of the
//!    mean utilization. Each function is cut into up to 1000 bands; a cheap lower
//!    bound per band orders them, and bands are refined exactly (edge by edge) from
//!    the lowest bound up until no band can beat the minimum found. The same pass
//!    collects the worst disjoint windows.
//!
//! Unlike Go's, this never panics: events on a P that GOMAXPROCS doesn't cover (Go
//! indexes its per-P table with them, golang/go#74146) are ignored, and degenerate
//! series (a single instant) are skipped.

use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;

use super::{RangeKind, RangeScope, range_of};
use goscope_trace::spec::*;
use goscope_trace::state::*;
use goscope_trace::{Event, Kind, NONE, Resource, Tables};

/// What counts as taken from the mutator.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct UtilFlags {
    /// GC stop-the-world pauses (those whose kind mentions "GC").
    pub stw: bool,
    /// Background mark workers.
    pub background: bool,
    /// Mark assists.
    pub assist: bool,
    /// Sweeping.
    pub sweep: bool,
    /// One function per P instead of one for the program.
    pub per_proc: bool,
}

impl UtilFlags {
    /// The flags `go tool trace`'s MMU page starts with: STW, background workers and
    /// mark assists, for the whole program.
    pub const GO_DEFAULT: UtilFlags = UtilFlags {
        stw: true,
        background: true,
        assist: true,
        sweep: false,
        per_proc: false,
    };

    /// Parses flag names separated by `|` or `,` (Go's names: perProc, stw,
    /// background, assist, sweep; `per-proc` also works). Unknown names are errors;
    /// empty parts are ignored.
    pub fn parse(s: &str) -> Result<UtilFlags, String> {
        let mut f = UtilFlags::default();
        for part in s.split(['|', ',']).map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                "stw" => f.stw = true,
                "background" => f.background = true,
                "assist" => f.assist = true,
                "sweep" => f.sweep = true,
                "perProc" | "per-proc" | "perproc" => f.per_proc = true,
                _ => {
                    return Err(format!(
                        "unknown MMU flag {part:?} (want stw, background, assist, sweep, perProc)"
                    ));
                }
            }
        }
        Ok(f)
    }

    /// The flags in Go's `|`-separated form.
    pub fn go_name(&self) -> String {
        let mut parts = Vec::new();
        for (on, name) in [
            (self.per_proc, "perProc"),
            (self.stw, "stw"),
            (self.background, "background"),
            (self.assist, "assist"),
            (self.sweep, "sweep"),
        ] {
            if on {
                parts.push(name);
            }
        }
        parts.join("|")
    }
}

/// From `time_ns` on, the mean mutator utilization is `util` (in [0, 1]).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct UtilPoint {
    pub time_ns: i64,
    pub util: f64,
}

/// Appends a change to a utilization function: no-op if the value is unchanged; at
/// the same instant as the last point the lower value wins.
fn push_util(series: &mut Vec<UtilPoint>, p: UtilPoint) {
    if let Some(last) = series.last_mut() {
        if last.util == p.util {
            return;
        }
        if last.time_ns == p.time_ns {
            if p.util < last.util {
                *last = p;
            }
            return;
        }
    }
    series.push(p);
}

/// Refuses GOMAXPROCS values that can only come from a corrupt trace.
const MAX_PROCS: u64 = 1 << 16;

#[derive(Clone, Copy, Debug, Default)]
struct PerP {
    /// > 0 while GC work occupies the P.
    gc: i64,
    /// Its function in `out` (new Ps get new functions in per-P mode).
    series: usize,
}

/// Builds utilization functions from the ordered events.
#[derive(Debug)]
pub(crate) struct UtilizationBuilder {
    flags: UtilFlags,
    out: Vec<Vec<UtilPoint>>,
    stw: i64,
    ps: Vec<PerP>,
    in_assist: FxHashSet<i64>,
    bg_mark: FxHashSet<i64>,
    states: FxHashMap<i64, u64>,
    /// GOMAXPROCS changes: (time, n).
    procs: Vec<(i64, usize)>,
    syncs: u64,
    last_ns: Option<i64>,
}

fn executing(state: u64) -> bool {
    state == GO_RUNNING || state == GO_SYSCALL
}

impl UtilizationBuilder {
    pub fn new(flags: UtilFlags) -> Self {
        UtilizationBuilder {
            flags,
            out: Vec::new(),
            stw: 0,
            ps: Vec::new(),
            in_assist: FxHashSet::default(),
            bg_mark: FxHashSet::default(),
            states: FxHashMap::default(),
            procs: Vec::new(),
            syncs: 0,
            last_ns: None,
        }
    }

    fn p_gc(&mut self, p: i64, delta: i64) {
        if let Some(pp) = usize::try_from(p).ok().and_then(|p| self.ps.get_mut(p)) {
            pp.gc += delta;
        }
    }

    /// Whether a range is one the flags count, as (stw, sweep, assist).
    fn counted(&self, ev: &Event, tables: &Tables) -> Option<(RangeKind, RangeScope)> {
        let (kind, scope) = range_of(ev)?;
        let on = match kind {
            RangeKind::StopTheWorld { kind } => {
                self.flags.stw && tables.string(kind).unwrap_or("").contains("GC")
            }
            RangeKind::Sweep => self.flags.sweep,
            RangeKind::MarkAssist => self.flags.assist,
            RangeKind::GcMark => false,
        };
        on.then_some((kind, scope))
    }

    /// Feeds one event.
    pub fn event(&mut self, ev: &Event, tables: &Tables) {
        let now = ev.time_ns;
        self.last_ns = Some(now);
        let per_proc = self.flags.per_proc;
        match ev.kind() {
            Kind::Sync => self.syncs = ev.args[0],
            Kind::Metric if ev.typ == EV_PROCS_CHANGE && ev.args[0] <= MAX_PROCS => {
                let n = ev.args[0] as usize;
                if self.ps.len() > n {
                    if per_proc {
                        for p in &self.ps[n..] {
                            push_util(
                                &mut self.out[p.series],
                                UtilPoint {
                                    time_ns: now,
                                    util: 0.0,
                                },
                            );
                        }
                    }
                    self.ps.truncate(n);
                }
                while self.ps.len() < n {
                    let mut series = 0;
                    if per_proc || self.out.is_empty() {
                        series = self.out.len();
                        self.out.push(vec![UtilPoint {
                            time_ns: now,
                            util: 1.0,
                        }]);
                    }
                    self.ps.push(PerP { gc: 0, series });
                }
                if self.procs.last().is_none_or(|&(_, last)| last != n) {
                    self.procs.push((now, n));
                }
            }
            _ => {}
        }
        if self.ps.is_empty() {
            // Nothing to measure against until GOMAXPROCS is known.
            return;
        }

        match ev.kind() {
            Kind::RangeActive | Kind::RangeBegin => {
                if ev.kind() == Kind::RangeActive {
                    if self.syncs > 1 {
                        // After the first generation these only restate what is known.
                        return self.record(now);
                    }
                    self.range_active_since_start(ev, tables);
                }
                if let Some((kind, scope)) = self.counted(ev, tables) {
                    match kind {
                        RangeKind::StopTheWorld { .. } => self.stw += 1,
                        RangeKind::Sweep => self.p_gc(ev.p, 1),
                        RangeKind::MarkAssist => {
                            self.p_gc(ev.p, 1);
                            if let RangeScope::Goroutine(g) = scope {
                                if g != NONE {
                                    self.in_assist.insert(g);
                                }
                            }
                        }
                        RangeKind::GcMark => {}
                    }
                }
            }
            Kind::RangeEnd => {
                if let Some((kind, scope)) = self.counted(ev, tables) {
                    match kind {
                        RangeKind::StopTheWorld { .. } => self.stw -= 1,
                        RangeKind::Sweep => self.p_gc(ev.p, -1),
                        RangeKind::MarkAssist => {
                            self.p_gc(ev.p, -1);
                            if let RangeScope::Goroutine(g) = scope {
                                self.in_assist.remove(&g);
                            }
                        }
                        RangeKind::GcMark => {}
                    }
                }
            }
            Kind::StateTransition => {
                if let Some(t) = ev.transition() {
                    if let Resource::Goroutine(g) = t.resource {
                        if self.in_assist.contains(&g) || self.bg_mark.contains(&g) {
                            if !executing(t.from) && executing(t.to) {
                                self.p_gc(ev.p, 1);
                            } else if executing(t.from) && !executing(t.to) {
                                self.p_gc(ev.p, -1);
                            }
                        }
                        self.states.insert(g, t.to);
                    }
                }
            }
            Kind::Label if self.flags.background => {
                let label = tables.string(ev.args[0]).unwrap_or("");
                if label.starts_with("GC ")
                    && label != "GC (idle)"
                    && !(per_proc && label == "GC (dedicated)")
                {
                    self.bg_mark.insert(ev.g);
                    self.p_gc(ev.p, 1);
                }
            }
            _ => {}
        }
        self.record(now);
    }

    /// A range found active at the start of the trace was active since its start:
    /// in whole-program mode, take its share out of everything recorded so far.
    fn range_active_since_start(&mut self, ev: &Event, tables: &Tables) {
        let Some((kind, _)) = self.counted(ev, tables) else {
            return;
        };
        let applies = match kind {
            RangeKind::MarkAssist => {
                executing(self.states.get(&ev.g).copied().unwrap_or(GO_UNDETERMINED))
            }
            RangeKind::Sweep => true,
            _ => false,
        };
        if !applies || self.flags.per_proc {
            return;
        }
        let Some(series) = self.out.first_mut() else {
            return;
        };
        let (mut mi, mut pi) = (0, 0);
        while mi < series.len() {
            if pi + 1 < self.procs.len() && self.procs[pi + 1].0 < series[mi].time_ns {
                pi += 1;
                continue;
            }
            let n = self.procs.get(pi).map_or(1, |p| p.1.max(1));
            let u = &mut series[mi].util;
            *u = (*u - 1.0 / n as f64).max(0.0);
            mi += 1;
        }
    }

    /// Records the utilization after an event.
    fn record(&mut self, now: i64) {
        if !self.flags.per_proc {
            let busy = if self.stw > 0 {
                self.ps.len()
            } else {
                self.ps.iter().filter(|p| p.gc > 0).count()
            };
            let util = 1.0 - busy as f64 / self.ps.len() as f64;
            if let Some(s) = self.out.first_mut() {
                push_util(s, UtilPoint { time_ns: now, util });
            }
        } else {
            for p in &self.ps {
                let util = if self.stw > 0 || p.gc > 0 { 0.0 } else { 1.0 };
                if let Some(s) = self.out.get_mut(p.series) {
                    push_util(s, UtilPoint { time_ns: now, util });
                }
            }
        }
    }

    /// The utilization functions: one, or one per P (and per P re-added after a
    /// GOMAXPROCS decrease). Empty if the trace had no GOMAXPROCS event.
    pub fn finish(mut self) -> Vec<Vec<UtilPoint>> {
        if let Some(last) = self.last_ns {
            for p in &self.ps {
                if let Some(s) = self.out.get_mut(p.series) {
                    push_util(
                        s,
                        UtilPoint {
                            time_ns: last,
                            util: 0.0,
                        },
                    );
                }
            }
        }
        self.out
    }
}

/// Computes the utilization functions of a whole trace.
pub fn utilization<S: goscope_trace::Source + ?Sized>(
    data: &S,
    flags: UtilFlags,
) -> goscope_trace::Result<(Vec<Vec<UtilPoint>>, Option<goscope_trace::Error>)> {
    let mut b = UtilizationBuilder::new(flags);
    let outcome = super::read_into(data, |ev, t| b.event(ev, t))?;
    Ok((b.finish(), outcome.warning))
}

/// A min-heap with Go's `container/heap` operations, so that ties come out in the
/// order Go's do (it decides which of equally bad windows are reported).
struct GoHeap<T> {
    items: Vec<T>,
    less: fn(&T, &T) -> bool,
}

impl<T> GoHeap<T> {
    fn from_vec(items: Vec<T>, less: fn(&T, &T) -> bool) -> Self {
        let mut h = GoHeap { items, less };
        let n = h.items.len();
        for i in (0..n / 2).rev() {
            h.down(i, n);
        }
        h
    }

    fn less(&self, i: usize, j: usize) -> bool {
        (self.less)(&self.items[i], &self.items[j])
    }

    fn up(&mut self, mut j: usize) {
        while j > 0 {
            let parent = (j - 1) / 2;
            if !self.less(j, parent) {
                break;
            }
            self.items.swap(parent, j);
            j = parent;
        }
    }

    fn down(&mut self, i0: usize, n: usize) -> bool {
        let mut i = i0;
        loop {
            let j1 = 2 * i + 1;
            if j1 >= n {
                break;
            }
            let mut j = j1;
            if j1 + 1 < n && self.less(j1 + 1, j1) {
                j = j1 + 1;
            }
            if !self.less(j, i) {
                break;
            }
            self.items.swap(i, j);
            i = j;
        }
        i > i0
    }

    fn push(&mut self, x: T) {
        self.items.push(x);
        self.up(self.items.len() - 1);
    }

    fn pop(&mut self) -> Option<T> {
        let n = self.items.len().checked_sub(1)?;
        self.items.swap(0, n);
        self.down(0, n);
        self.items.pop()
    }

    fn remove(&mut self, i: usize) -> Option<T> {
        let n = self.items.len().checked_sub(1)?;
        if i != n {
            self.items.swap(i, n);
            if !self.down(i, n) {
                self.up(i);
            }
        }
        self.items.pop()
    }

    fn peek(&self) -> Option<&T> {
        self.items.first()
    }

    fn len(&self) -> usize {
        self.items.len()
    }
}

/// A window of the worst utilization.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct UtilWindow {
    pub time_ns: i64,
    /// Mean utilization over [time_ns, time_ns + window].
    pub util: f64,
}

#[derive(Clone, Copy, Debug)]
struct Band {
    /// Lowest utilization in the band.
    min_util: f64,
    /// Integral of utilization from the series start to the band's left edge.
    cum_util: f64,
    /// Index of the band start's non-strict predecessor point.
    pos: usize,
}

#[derive(Clone, Debug)]
struct Series {
    util: Vec<UtilPoint>,
    /// sums[j]: integral of utilization from util[0] to util[j].
    sums: Vec<f64>,
    bands: Vec<Band>,
    band_ns: i64,
}

/// Walks a series left to right, integrating it.
#[derive(Clone, Copy)]
struct Integrator<'a> {
    s: &'a Series,
    pos: usize,
}

impl Integrator<'_> {
    /// Integral from the series start to `time` (called with increasing times).
    fn advance(&mut self, time: i64) -> f64 {
        let util = &self.s.util;
        let mut pos = self.pos;
        // Near: step; far: binary search (Go's two paths, kept for identical results
        // when a caller steps back).
        const NEAR: usize = 8;
        if pos + NEAR < util.len() && util[pos + NEAR].time_ns > time {
            while pos + 1 < util.len() && util[pos + 1].time_ns <= time {
                pos += 1;
            }
        } else {
            let (mut l, mut r) = (pos, util.len());
            while l < r {
                let h = (l + r) / 2;
                if util[h].time_ns <= time {
                    l = h + 1;
                } else {
                    r = h;
                }
            }
            pos = l.saturating_sub(1);
        }
        self.pos = pos;
        let partial = if time != util[pos].time_ns {
            util[pos].util * (time - util[pos].time_ns) as f64
        } else {
            0.0
        };
        self.s.sums[pos] + partial
    }

    /// The first change after `time`.
    fn next(&self, time: i64) -> i64 {
        self.s.util[self.pos..]
            .iter()
            .find(|u| u.time_ns > time)
            .map_or(i64::MAX, |u| u.time_ns)
    }
}

/// Up to this many bands per series.
const BANDS: usize = 1000;

impl Series {
    fn new(util: Vec<UtilPoint>) -> Option<Series> {
        let first = util.first()?.time_ns;
        let last = util.last()?.time_ns;
        let mut sums = Vec::with_capacity(util.len());
        let (mut sum, mut prev) = (
            0.0,
            UtilPoint {
                time_ns: 0,
                util: 0.0,
            },
        );
        for u in &util {
            sum += prev.util * (u.time_ns.wrapping_sub(prev.time_ns)) as f64;
            sums.push(sum);
            prev = *u;
        }
        let n_bands = BANDS.min(util.len());
        let dur = last - first;
        let band_ns = ((dur + n_bands as i64 - 1) / n_bands as i64).max(1);
        let mut s = Series {
            util,
            sums,
            bands: Vec::with_capacity(n_bands + 1),
            band_ns,
        };
        // One more band than n_bands, holding the final cumulative sum.
        let mut bands = Vec::with_capacity(n_bands + 1);
        let mut left = Integrator { s: &s, pos: 0 };
        for i in 0..=n_bands {
            let (start, end) = s.band_time(i);
            let cum_util = left.advance(start);
            let pos = left.pos;
            let min_util = s.util[pos..]
                .iter()
                .take_while(|u| u.time_ns < end)
                .fold(1.0f64, |m, u| m.min(u.util));
            bands.push(Band {
                min_util,
                cum_util,
                pos,
            });
        }
        s.bands = bands;
        Some(s)
    }

    fn band_time(&self, i: usize) -> (i64, i64) {
        let start = i as i64 * self.band_ns + self.util[0].time_ns;
        (start, start + self.band_ns)
    }

    fn duration_ns(&self) -> i64 {
        self.util[self.util.len() - 1].time_ns - self.util[0].time_ns
    }

    /// Lower bounds of the mean utilization of windows starting in each band.
    fn band_bounds(&self, series: usize, window: i64, out: &mut Vec<BandBound>) {
        let b = self.band_ns;
        let min_bands = ((window + b - 1) / b) as usize;
        let max_bands = ((window + 2 * (b - 1)) / b) as usize;
        let tail_ns = window % b;
        let n = (self.bands.len() + 1).saturating_sub(max_bands);
        for i in 0..n {
            let (Some(l), Some(r1), Some(r2)) = (
                self.bands.get(i),
                (i + min_bands)
                    .checked_sub(1)
                    .and_then(|j| self.bands.get(j)),
                (i + max_bands)
                    .checked_sub(1)
                    .and_then(|j| self.bands.get(j)),
            ) else {
                continue;
            };
            let (l, r1m, r2m) = (l.min_util, r1.min_util, r2.min_util);
            // The worst window sits on the worst partial band, then the next worst.
            let min_band = l.min(r1m.min(r2m));
            let mut total = 0.0;
            if min_bands == 1 {
                total += min_band * window as f64;
            } else {
                total += min_band * b as f64;
                let mid = if min_band == l {
                    r1m.min(r2m)
                } else if min_band == r1m {
                    l.min(r2m)
                } else {
                    l.min(r1m)
                };
                total += mid * tail_ns as f64;
            }
            // Bands every such window covers completely count at their mean.
            if min_bands > 2 {
                total += r1.cum_util - self.bands[i + 1].cum_util;
            }
            out.push(BandBound {
                series,
                band: i,
                bound: total / window as f64,
            });
        }
    }

    /// Refines band `band` exactly: every window starting in it where an edge meets
    /// a change of utilization.
    fn band_mmu(&self, band: usize, window: i64, acc: &mut Accumulator) {
        let mut left = Integrator {
            s: self,
            pos: self.bands[band].pos,
        };
        let mut right = left;
        let (mut time, mut end) = self.band_time(band);
        let util_end = self.util[self.util.len() - 1].time_ns - window;
        if util_end < end {
            end = util_end;
        }
        loop {
            let mu = (right.advance(time + window) - left.advance(time)) / window as f64;
            if acc.add(time, mu, window) || time == end {
                break;
            }
            // The windowed mean moves at most 1/window per ns: skip what can't go
            // below the bound.
            let min_time = time + ((mu - acc.bound) * window as f64) as i64;
            let t1 = left.next(time);
            let t2 = right.next(time + window).saturating_sub(window);
            time = if t1 < t2 { t1 } else { t2 };
            if time < min_time {
                time = min_time;
            }
            if time >= end {
                time = end;
            }
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct BandBound {
    series: usize,
    band: usize,
    bound: f64,
}

/// Collects the minimum (and optionally the n worst disjoint windows).
struct Accumulator {
    mmu: f64,
    /// Windows above this can't change the result.
    bound: f64,
    n_worst: usize,
    worst: GoHeap<UtilWindow>,
}

impl Accumulator {
    fn new(n_worst: usize) -> Self {
        Accumulator {
            mmu: 1.0,
            bound: 1.0,
            n_worst,
            // The root is the least bad of the worst windows kept.
            worst: GoHeap::from_vec(Vec::new(), |a, b| {
                if a.util != b.util {
                    a.util > b.util
                } else {
                    a.time_ns > b.time_ns
                }
            }),
        }
    }

    /// Adds the window at `time`; returns true when nothing more can change.
    fn add(&mut self, time: i64, mu: f64, window: i64) -> bool {
        if mu < self.mmu {
            self.mmu = mu;
        }
        self.bound = self.mmu;
        if self.n_worst == 0 {
            return mu == 0.0;
        }
        let full = self.worst.len() >= self.n_worst;
        if !full || self.worst.peek().is_some_and(|w| mu < w.util) {
            // Of overlapping windows keep the worse (the earlier one on ties).
            let mut keep_old = false;
            let overlapping = self
                .worst
                .items
                .iter()
                .position(|w| time + window > w.time_ns && w.time_ns + window > time);
            if let Some(i) = overlapping {
                if self.worst.items[i].util <= mu {
                    keep_old = true;
                } else {
                    self.worst.remove(i);
                }
            }
            if !keep_old {
                self.worst.push(UtilWindow {
                    time_ns: time,
                    util: mu,
                });
                if self.worst.len() > self.n_worst {
                    self.worst.pop();
                }
            }
        }
        if self.worst.len() < self.n_worst {
            self.bound = 1.0;
        } else if let Some(w) = self.worst.peek() {
            self.bound = self.bound.max(w.util);
        }
        self.worst.len() == self.n_worst && self.worst.peek().is_some_and(|w| w.util == 0.0)
    }
}

/// The MMU curve of a set of utilization functions.
#[derive(Clone, Debug)]
pub struct MmuCurve {
    series: Vec<Series>,
}

/// One point of the curve.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct MmuPoint {
    pub window_ns: i64,
    pub mmu: f64,
}

impl MmuCurve {
    pub fn new(utils: Vec<Vec<UtilPoint>>) -> Self {
        MmuCurve {
            series: utils
                .into_iter()
                .filter_map(Series::new)
                .filter(|s| s.duration_ns() > 0)
                .collect(),
        }
    }

    /// Whether there is anything to measure.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    fn run(&self, window_ns: i64, acc: &mut Accumulator) {
        if window_ns <= 0 || self.series.is_empty() {
            acc.mmu = 0.0;
            return;
        }
        let mut bounds = Vec::new();
        let mut windows = Vec::with_capacity(self.series.len());
        for (i, s) in self.series.iter().enumerate() {
            let w = window_ns.min(s.duration_ns());
            windows.push(w);
            s.band_bounds(i, w, &mut bounds);
        }
        let mut heap = GoHeap::from_vec(bounds, |a: &BandBound, b: &BandBound| a.bound < b.bound);
        while let Some(&b) = heap.peek() {
            if b.bound >= acc.bound {
                break;
            }
            self.series[b.series].band_mmu(b.band, windows[b.series], acc);
            heap.pop();
        }
    }

    /// The minimum mean utilization over all windows of this size (0 for windows ≤ 0).
    pub fn mmu(&self, window_ns: i64) -> f64 {
        let mut acc = Accumulator::new(0);
        self.run(window_ns, &mut acc);
        acc.mmu
    }

    /// Up to `n` disjoint windows of this size with the lowest utilization, worst
    /// first.
    pub fn worst_windows(&self, window_ns: i64, n: usize) -> Vec<UtilWindow> {
        let mut acc = Accumulator::new(n);
        self.run(window_ns, &mut acc);
        let mut w = acc.worst.items;
        w.sort_by(|a, b| a.util.total_cmp(&b.util).then(a.time_ns.cmp(&b.time_ns)));
        w
    }

    /// The curve at the 100 window sizes `go tool trace` plots: log-spaced from the
    /// largest of 1 s, 1 ms, 1 µs, 1 ns whose MMU is not (nearly) 0, over six
    /// decades or up to the trace length.
    pub fn plot(&self) -> Vec<MmuPoint> {
        if self.series.is_empty() {
            return Vec::new();
        }
        let mut x_min: i64 = 1_000_000_000;
        while x_min > 1 {
            if self.mmu(x_min) < 0.0001 {
                break;
            }
            x_min /= 1000;
        }
        let first = self.series.iter().map(|s| s.util[0].time_ns).min();
        let last = self
            .series
            .iter()
            .map(|s| s.util[s.util.len() - 1].time_ns)
            .max();
        let mut x_max = x_min.saturating_mul(1_000_000);
        if let (Some(first), Some(last)) = (first, last) {
            x_max = x_max.min(last - first);
        }
        let (log_min, log_max) = ((x_min as f64).ln(), (x_max as f64).ln());
        const SAMPLES: usize = 100;
        (0..SAMPLES)
            .map(|i| {
                let x = i as f64 / (SAMPLES - 1) as f64;
                let window_ns = (x * (log_max - log_min) + log_min).exp() as i64;
                MmuPoint {
                    window_ns,
                    mmu: self.mmu(window_ns),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pts(v: &[(i64, f64)]) -> Vec<UtilPoint> {
        v.iter()
            .map(|&(time_ns, util)| UtilPoint { time_ns, util })
            .collect()
    }

    #[test]
    fn push_util_merges() {
        let mut s = Vec::new();
        push_util(
            &mut s,
            UtilPoint {
                time_ns: 0,
                util: 1.0,
            },
        );
        push_util(
            &mut s,
            UtilPoint {
                time_ns: 5,
                util: 1.0,
            },
        );
        push_util(
            &mut s,
            UtilPoint {
                time_ns: 5,
                util: 0.5,
            },
        );
        push_util(
            &mut s,
            UtilPoint {
                time_ns: 5,
                util: 0.75,
            },
        );
        push_util(
            &mut s,
            UtilPoint {
                time_ns: 9,
                util: 0.0,
            },
        );
        assert_eq!(s, pts(&[(0, 1.0), (5, 0.5), (9, 0.0)]));
    }

    /// Brute force: windows starting at every ns.
    fn brute(util: &[UtilPoint], w: i64) -> f64 {
        let at = |t: i64| {
            util.iter()
                .rev()
                .find(|u| u.time_ns <= t)
                .map_or(0.0, |u| u.util)
        };
        let (first, last) = (util[0].time_ns, util[util.len() - 1].time_ns);
        let w = w.min(last - first);
        (first..=last - w)
            .map(|t| (t..t + w).map(at).sum::<f64>() / w as f64)
            .fold(1.0, f64::min)
    }

    #[test]
    fn mmu_matches_brute_force() {
        let util = pts(&[
            (100, 1.0),
            (130, 0.5),
            (150, 0.0),
            (160, 1.0),
            (300, 0.25),
            (310, 1.0),
            (400, 0.0),
        ]);
        let c = MmuCurve::new(vec![util.clone()]);
        for w in [1, 2, 5, 10, 17, 30, 50, 99, 150, 299, 300, 1000] {
            let got = c.mmu(w);
            let want = brute(&util, w);
            assert!((got - want).abs() < 1e-12, "window {w}: {got} vs {want}");
        }
        assert_eq!(c.mmu(0), 0.0);
        let worst = c.worst_windows(10, 3);
        assert_eq!(
            worst[0],
            UtilWindow {
                time_ns: 150,
                util: 0.0
            }
        );
        assert!(worst.windows(2).all(|w| w[0].util <= w[1].util));
    }

    #[test]
    fn degenerate_series_do_not_panic() {
        assert!(MmuCurve::new(vec![]).plot().is_empty());
        let c = MmuCurve::new(vec![pts(&[(5, 0.0)]), vec![]]);
        assert!(c.is_empty());
        assert_eq!(c.mmu(10), 0.0);
        assert!(c.worst_windows(10, 3).is_empty());
    }

    #[test]
    fn flags_parse() {
        let f = UtilFlags::parse("stw|background|assist").unwrap();
        assert_eq!(f, UtilFlags::GO_DEFAULT);
        assert_eq!(f.go_name(), "stw|background|assist");
        assert!(UtilFlags::parse("perProc,sweep").unwrap().per_proc);
        assert!(UtilFlags::parse("bogus").is_err());
        assert_eq!(UtilFlags::parse("").unwrap(), UtilFlags::default());
    }
}
