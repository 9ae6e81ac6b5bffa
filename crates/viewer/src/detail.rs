//! Detail on demand for a trace opened as an overview: which generations the view lies
//! in, windows of them built in the background (`model::build_window_between`): the view
//! alone first, then the view and a view's width either side, so that pans find it built;
//! and a few kept, least recently used going first, all within a memory budget tied to the
//! file's size. The timeline shows a window when one covers the view and the overview
//! otherwise; it never waits for a build, and a build the view has moved away from is
//! stopped. A view whose window takes long to build, or more memory than detail may, is
//! first (or only) shown at its pixels' resolution: a window thinned into buckets of about
//! a pixel (`model::build_window_thinned`), exact per pixel, built in about half the time
//! and a twentieth of the memory.

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::analyses::Job;
use super::loader::{OpenTrace, TraceId};
use super::timeline::{LodCache, ShownLanes};
use goscope_model::{self as model, Model};

/// A view over at most this many generations is shown in full detail; a wider one shows
/// the overview (its lanes are thinned to about a pixel's time at such zooms anyway).
pub const MAX_VIEW_GENERATIONS: usize = 3;

/// A window holds at most about this many bytes of the file (its generations' bytes in
/// proportion to the part of their time it covers; its model takes about three times
/// that). A view whose window would hold more shows the overview.
pub const MAX_WINDOW_FILE_BYTES: u64 = 64 << 20;

/// Windows, those kept and the one being built, take at most this many bytes together
/// (`Model::heap_bytes`, a build counted at its estimate) on any trace; the one shown last
/// is always kept. It is about what half of a 1 GB trace leaves beside its overview, so a
/// 4 GB trace's detail takes what a 1 GB one's does; a smaller trace gives them less
/// (`detail_budget`).
pub const KEPT_BYTES: usize = 192 << 20;

/// Windows may take at least this many bytes, however small the trace (so that one opened
/// as an overview still has detail for views of a few million events).
pub const MIN_DETAIL_BYTES: usize = 64 << 20;

/// What the process keeps beside its windows for what comes after the overview (the
/// frames' layouts, the dock's passes over the file), in `detail_budget`.
const HEADROOM_BYTES: u64 = 64 << 20;

/// A window's model takes about this many times its generations' bytes in the file (the
/// 1.1 GB benchmark trace: 4.0 to 4.1; the 859 MB one 2.7 to 2.9), for making room before
/// a build and for the largest window the budget allows.
const MODEL_PER_FILE_BYTE: u64 = 4;

/// How long the view must stay over the same generations before their window is built,
/// so that a pan or zoom in progress starts few builds it would leave behind (and those it
/// does are stopped when it moves on).
pub const SETTLE: Duration = Duration::from_millis(60);

/// A thinned window over the view has about this many buckets: a pixel each, or less, on
/// the widest screens.
pub const FINE_BUCKETS: i64 = 2048;

/// A thinned window stands for a view while its buckets are no wider than the view's
/// width over this (about a pixel and a half on a 1,600-pixel timeline): zoomed in
/// further, a finer one is built.
const FINE_ENOUGH_BUCKETS: i64 = 1024;

/// A view whose window holds more than this many bytes of the file (about 0.1 s of
/// building on two cores) is shown thinned first, then in full: the dense 443 ms view of
/// the 1.17 GB benchmark trace thinned in 0.18 s and 4 MB, in full in 0.36 s and 88 MB.
pub const FINE_FIRST_FILE_BYTES: u64 = 8 << 20;

/// A thinned window of the view and its width either side is built only if it holds at
/// most this many bytes of the file (about 2 s of building on two cores), as pans within
/// it then need no build; the view alone is built thinned whatever its size.
const MAX_THINNED_WIDE_FILE_BYTES: u64 = 192 << 20;

/// What a thinned window is reckoned to take before it is built (4–7 MB measured on the
/// 1.17 GB trace's tenths, ~950 lanes of 1,600 buckets).
const FINE_ESTIMATE_BYTES: u64 = 32 << 20;

/// A window's build on a thread of its own: the window, and its layout for the lanes the
/// timeline showed when the build ended.
type WindowJob = Job<Result<(OpenTrace, Option<LodCache>), String>>;

/// What stops a window's build, set when it is dropped: a build left behind (its detail
/// dropped with its trace, or started afresh) stops rather than finish for nothing.
struct StopOnDrop(Arc<AtomicBool>);

impl std::ops::Deref for StopOnDrop {
    type Target = AtomicBool;
    fn deref(&self) -> &AtomicBool {
        &self.0
    }
}

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// A window: generations, the part of their time it keeps, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Window {
    gens: Range<usize>,
    from_ns: i64,
    to_ns: i64,
    /// 0: every span; else thinned into buckets of this (`model::build_window_thinned`).
    bucket_ns: i64,
}

impl Window {
    /// Whether it holds all of `[start_ns, end_ns]` (within the trace's generations).
    fn covers(&self, resumes: &model::Resumes, start_ns: i64, end_ns: i64) -> bool {
        let n = resumes.generations();
        let (first, last) = (
            resumes.time_range_ns(0),
            resumes.time_range_ns(n.max(1) - 1),
        );
        let (start, end) = (start_ns.max(first.start), end_ns.min(last.end));
        self.from_ns <= start && end <= self.to_ns
    }

    /// Whether it holds everything `other` does, as finely.
    fn holds(&self, other: &Window) -> bool {
        self.from_ns <= other.from_ns
            && other.to_ns <= self.to_ns
            && (self.bucket_ns == 0 || (other.bucket_ns != 0 && self.bucket_ns <= other.bucket_ns))
    }

    /// Whether it is fine enough for a view `[start_ns, end_ns]`: every span, or buckets of
    /// about a pixel.
    fn fine_enough(&self, start_ns: i64, end_ns: i64) -> bool {
        self.bucket_ns == 0
            || self.bucket_ns.saturating_mul(FINE_ENOUGH_BUCKETS) <= end_ns.saturating_sub(start_ns)
    }

    /// What the timeline shows when this window is drawn (`too_dense`: the view's window
    /// of every span would not fit the detail budget).
    fn shown(&self, too_dense: Option<usize>) -> Shown {
        match self.bucket_ns {
            0 => Shown::Window(self.gens.clone()),
            bucket_ns => Shown::Thinned {
                gens: self.gens.clone(),
                bucket_ns,
                too_dense,
            },
        }
    }

    /// The same time, thinned into about `FINE_BUCKETS` buckets of the view
    /// `[start_ns, end_ns]`.
    fn thinned_for(&self, start_ns: i64, end_ns: i64) -> Window {
        Window {
            bucket_ns: (end_ns.saturating_sub(start_ns) / FINE_BUCKETS).max(1),
            ..self.clone()
        }
    }
}

/// A built window, what its model takes (`Model::heap_bytes`, measured once), and its
/// layout for the view it was built for until the timeline takes it (`take_layout`).
struct Kept {
    window: Window,
    trace: OpenTrace,
    bytes: u64,
    layout: Option<LodCache>,
}

impl Kept {
    fn new(window: Window, trace: OpenTrace, layout: Option<LodCache>) -> Kept {
        let bytes = trace.model.heap_bytes() as u64;
        Kept {
            window,
            trace,
            bytes,
            layout,
        }
    }
}

/// What the timeline of an overview shows in detail.
#[derive(Default)]
pub struct Detail {
    /// Built windows, the most recently shown first.
    built: Vec<Kept>,
    /// The window being built (one at a time), and what stops its build.
    job: Option<(Window, WindowJob, StopOnDrop)>,
    /// The view's ends, and since when it has not moved: a build starts once it has been
    /// still for `SETTLE`, and the next one (every span after the thinned window, the
    /// view's width either side after the view) as soon as that one is in.
    still: Option<((i64, i64), Instant)>,
    /// Why the last build failed, if it did.
    pub error: Option<String>,
    /// The window whose build failed last: not built again (a trace cut short on disk, or
    /// damaged, fails the same way each time) while the view wants it; the timeline says
    /// why (`Shown::Failed`).
    failed: Option<Window>,
    /// The bytes windows may take together (`detail_budget`), set at the first poll of an
    /// overview from what the process holds then.
    pub budget: Option<usize>,
    /// A view's window of every span holding more of the file than this is shown thinned
    /// first; `FINE_FIRST_FILE_BYTES` if not set.
    pub thinned_first_over: Option<u64>,
    /// What the timeline laid out last (`note_shown_lanes`), read by a build when its
    /// window is built, to lay that out for it.
    shown_lanes: Arc<std::sync::Mutex<ShownLanes>>,
}

/// The bytes windows may take together for a trace of `file_bytes`, when the process holds
/// `resident_bytes` with its overview shown and no window: what half the file's size
/// leaves, less `HEADROOM_BYTES`, but at least `MIN_DETAIL_BYTES` and at most `KEPT_BYTES`
/// (also when what the process holds is not known). So the window's peak memory stays
/// within half the file's size wherever the overview leaves room for detail, and within the
/// same absolute bound for every larger trace.
pub fn detail_budget(file_bytes: u64, resident_bytes: Option<u64>) -> usize {
    let Some(resident) = resident_bytes else {
        return KEPT_BYTES;
    };
    let left = (file_bytes / 2).saturating_sub(resident + HEADROOM_BYTES);
    left.clamp(MIN_DETAIL_BYTES as u64, KEPT_BYTES as u64) as usize
}

/// The process's resident memory (Linux: `/proc/self/statm`), if known.
fn resident_bytes() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
        let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
        // SAFETY: sysconf only reads its argument.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        (page > 0).then(|| pages * page as u64)
    }
    #[cfg(not(target_os = "linux"))]
    None
}

/// About how many bytes a build of `w` takes (its model, or twice that while pieces are
/// joined: the earlier piece's lanes grow as the later ones' go).
fn estimate_bytes(resumes: &model::Resumes, w: &Window) -> u64 {
    if w.bucket_ns > 0 {
        return FINE_ESTIMATE_BYTES;
    }
    let pieces_join = if model::window_pieces() > 1 { 2 } else { 1 };
    file_bytes_between(resumes, w) * MODEL_PER_FILE_BYTE * pieces_join
}

/// What the timeline shows of an overview at this moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Shown {
    /// Not an overview: the whole model.
    Whole,
    /// The overview; the view spans more generations than are shown in detail, or (when
    /// `too_dense`) its window would take more memory than windows may (`Detail::budget`,
    /// in bytes).
    Overview {
        generations: usize,
        too_dense: Option<usize>,
    },
    /// The overview while the window of these generations is built (or about to be).
    Building(Range<usize>),
    /// The window of these generations.
    Window(Range<usize>),
    /// A window of these generations thinned into buckets of `bucket_ns` (about a pixel),
    /// while every span is built, or (when `too_dense`, as for `Overview`) for good.
    Thinned {
        gens: Range<usize>,
        bucket_ns: i64,
        too_dense: Option<usize>,
    },
    /// The overview: the build of the window of these generations failed, for this reason.
    Failed(Range<usize>, String),
}

impl Shown {
    /// A line for the top bar saying what the timeline shows, for an overview.
    pub fn text(&self) -> Option<String> {
        let gens = |r: &Range<usize>| {
            if r.len() == 1 {
                format!("generation {}", r.start + 1)
            } else {
                format!("generations {}–{}", r.start + 1, r.end)
            }
        };
        match self {
            Shown::Whole => None,
            Shown::Overview {
                too_dense: Some(budget),
                ..
            } => Some(format!(
                "overview: too dense for the {} MiB detail may take; zoom in for every span",
                budget >> 20
            )),
            Shown::Overview { generations, .. } => Some(format!(
                "overview of {generations} generations: zoom in for every span"
            )),
            Shown::Building(r) => Some(format!("overview; building {}…", gens(r))),
            Shown::Window(r) => Some(format!("{} in full detail", gens(r))),
            Shown::Thinned {
                gens: r,
                bucket_ns,
                too_dense,
            } => {
                let bucket = super::view::format_duration(*bucket_ns as f64);
                Some(match too_dense {
                    Some(budget) => format!(
                        "{} per {bucket} bucket: too dense for the {} MiB detail may take; zoom in for every span",
                        gens(r),
                        budget >> 20
                    ),
                    None => format!("{} per {bucket} bucket; building every span…", gens(r)),
                })
            }
            Shown::Failed(r, e) => Some(format!(
                "overview: {} could not be built in full: {e}",
                gens(r)
            )),
        }
    }
}

impl Detail {
    /// The trace to draw for the view `[start_ns, end_ns]` of `base` (its window if one
    /// is built, else `base` itself), and what that is. Takes in a finished build, and
    /// starts one when the view has stayed still over a few generations for `SETTLE` (or
    /// the one before is in): of the view alone when no window covers it (thinned first if
    /// it is slow to build, thinned only if it is too dense), then of every span of it if
    /// only a thinned one does, else of the view and a view's width either side if no
    /// window holds that yet.
    pub fn poll(
        &mut self,
        base: &OpenTrace,
        start_ns: f64,
        end_ns: f64,
        ctx: &egui::Context,
    ) -> (OpenTrace, Shown) {
        let Some(resumes) = base.resumes.as_ref() else {
            return (base.clone(), Shown::Whole);
        };
        let budget = *self.budget.get_or_insert_with(|| {
            let (file, resident) = (base.file.bytes().len() as u64, resident_bytes());
            let budget = detail_budget(file, resident);
            super::loader::log_load(&format!(
                "detail may take {} MiB (the file {} MiB, the process {} MiB)",
                budget >> 20,
                file >> 20,
                resident.map_or("?".into(), |r| (r >> 20).to_string())
            ));
            budget
        });
        self.take_finished(base, budget);
        let (start, end) = (start_ns.floor() as i64, end_ns.ceil() as i64);
        let now = Instant::now();
        let since = match self.still {
            Some((view, t)) if view == (start, end) => t,
            _ => now,
        };
        self.still = Some(((start, end), since));
        let gens = resumes.generations_over(start, end);
        if gens.is_empty() || gens.len() > MAX_VIEW_GENERATIONS {
            self.stop_unwanted(resumes, start, end, None);
            return (
                base.clone(),
                Shown::Overview {
                    generations: gens.len(),
                    too_dense: None,
                },
            );
        }
        // Every span of the view and a view's width either side, or of the view alone, if
        // detail may take that; none if it may not take even the view's.
        let full = window_for(resumes, gens.clone(), start, end, budget);
        let too_dense = full.is_none().then_some(budget);
        // A thinned window only where the overview's buckets are coarser than it would be
        // fine (about a pixel and a half): a view of seconds shows no more thinned again.
        let thin = base
            .model
            .overview_bucket_ns
            .saturating_mul(FINE_ENOUGH_BUCKETS)
            > end.saturating_sub(start);
        if full.is_none() && !thin {
            self.stop_unwanted(resumes, start, end, None);
            return (
                base.clone(),
                Shown::Overview {
                    generations: gens.len(),
                    too_dense,
                },
            );
        }
        let (first, last) = (
            resumes.time_range_ns(gens.start),
            resumes.time_range_ns(gens.end - 1),
        );
        let width = end.saturating_sub(start).max(1);
        let view = Window {
            gens: gens.clone(),
            from_ns: start.max(first.start),
            to_ns: end.min(last.end),
            bucket_ns: 0,
        };
        let stands_for = |k: &Kept| k.window.covers(resumes, start, end);
        // A window of every span first, then one thinned to about a pixel.
        let covering = (self.built.iter())
            .position(|k| stands_for(k) && k.window.bucket_ns == 0)
            .or_else(|| {
                (self.built.iter()).position(|k| stands_for(k) && k.window.fine_enough(start, end))
            });
        let (shown, wanted) = match covering {
            Some(i) => {
                let kept = self.built.remove(i);
                let (window, shown_bytes) = (kept.window.clone(), kept.bytes);
                let shown = (kept.trace.clone(), window.shown(too_dense));
                self.built.insert(0, kept);
                // Next, beside it: every span of the view if only a thinned window is
                // shown; else the view and its width either side, as finely as the shown.
                let next = match &full {
                    Some(_) if window.bucket_ns > 0 => view.clone(),
                    Some(wide) => wide.clone(),
                    None => Window {
                        from_ns: start.saturating_sub(width).max(first.start),
                        to_ns: end.saturating_add(width).min(last.end),
                        ..view.thinned_for(start, end)
                    },
                };
                // Beside the shown window; but every span of a view shown thinned is built
                // whenever it fits alone (the thinned one, a few MB, then goes), or a
                // view just under the budget would wait for it for good.
                let beside = if window.bucket_ns > 0 && next.bucket_ns == 0 {
                    0
                } else {
                    shown_bytes
                };
                let more = !self.built.iter().any(|k| k.window.holds(&next))
                    && beside + estimate_bytes(resumes, &next) <= budget as u64
                    && (next.bucket_ns == 0
                        || file_bytes_between(resumes, &next) <= MAX_THINNED_WIDE_FILE_BYTES);
                (shown, more.then_some(next))
            }
            None => {
                // Every span of the view at once if that is quick to build; else the view
                // thinned to about a pixel first.
                let quick = full.is_some()
                    && (!thin
                        || file_bytes_between(resumes, &view)
                            <= self.thinned_first_over.unwrap_or(FINE_FIRST_FILE_BYTES));
                let next = if quick {
                    view.clone()
                } else {
                    view.thinned_for(start, end)
                };
                // Meanwhile a coarser thinned window over the view, if one is kept, is
                // closer to it than the overview.
                let coarser = (self.built.iter()).find(|k| stands_for(k));
                let shown = match coarser {
                    Some(k) => (k.trace.clone(), k.window.shown(too_dense)),
                    None => (base.clone(), Shown::Building(gens)),
                };
                (shown, Some(next))
            }
        };
        self.stop_unwanted(resumes, start, end, wanted.as_ref());
        let Some(wanted) = wanted else {
            return shown;
        };
        if self.failed.as_ref() == Some(&wanted) {
            let why = self.error.clone().unwrap_or_default();
            return match shown {
                (trace, Shown::Building(gens)) => (trace, Shown::Failed(gens, why)),
                shown => shown,
            };
        }
        if self.job.is_none() {
            if now.duration_since(since) >= SETTLE {
                self.start(base, resumes.clone(), wanted, budget, ctx);
            } else {
                ctx.request_repaint_after(SETTLE.saturating_sub(now.duration_since(since)));
            }
        }
        shown
    }

    /// Stops the build under way, if any, when the view has moved on: its window neither
    /// covers the view `[start_ns, end_ns]` (finely enough, if thinned) nor is the one the
    /// view wants next. Its thread
    /// ends within a few milliseconds, and the next build can start.
    fn stop_unwanted(
        &mut self,
        resumes: &model::Resumes,
        start_ns: i64,
        end_ns: i64,
        wanted: Option<&Window>,
    ) {
        let Some((window, job, cancel)) = &self.job else {
            return;
        };
        let stands_for_view =
            window.covers(resumes, start_ns, end_ns) && window.fine_enough(start_ns, end_ns);
        if Some(window) != wanted && !stands_for_view {
            cancel.store(true, Ordering::Relaxed);
            super::loader::log_load(&format!(
                "window of generations {}–{} stopped after {:.0} ms: the view moved on",
                window.gens.start + 1,
                window.gens.end,
                job.started.elapsed().as_secs_f64() * 1e3
            ));
            self.job = None;
        }
    }

    /// Keeps the window a build finished, dropping the least recently shown ones beyond
    /// `budget`.
    fn take_finished(&mut self, base: &OpenTrace, budget: usize) {
        let Some((window, job, _)) = &self.job else {
            return;
        };
        let Some(result) = job.take() else { return };
        let (window, secs) = (window.clone(), job.started.elapsed().as_secs_f64());
        self.job = None;
        match result.and_then(|r| r) {
            Ok((trace, layout)) => {
                self.error = None;
                let whole = &base.model;
                let kept = Kept::new(window, trace, layout);
                let window = &kept.window;
                super::loader::log_load(&format!(
                    "window of generations {}–{} ({:.3}–{:.3} s) built in {:.0} ms, {:.0} MB",
                    window.gens.start + 1,
                    window.gens.end,
                    (window.from_ns - whole.start_ns) as f64 / 1e9,
                    (window.to_ns - whole.start_ns) as f64 / 1e9,
                    secs * 1e3,
                    kept.bytes as f64 / 1e6
                ));
                // A window this one holds (the view built first) is of no more use.
                self.built
                    .retain(|k| !(k.window.gens == window.gens && window.holds(&k.window)));
                self.built.insert(0, kept);
                self.keep_within(budget as u64, true);
            }
            Err(e) => {
                self.error = Some(e);
                self.failed = Some(window);
            }
        }
    }

    /// Drops the least recently shown windows until the others take at most `bytes`; with
    /// `keep_first`, the most recent is kept whatever its size.
    fn keep_within(&mut self, bytes: u64, keep_first: bool) {
        let mut total = 0;
        let mut first = keep_first;
        self.built.retain(|k| {
            total += k.bytes;
            let keep = first || total <= bytes;
            first = false;
            keep
        });
    }

    fn start(
        &mut self,
        base: &OpenTrace,
        resumes: Arc<model::Resumes>,
        window: Window,
        budget: usize,
        ctx: &egui::Context,
    ) {
        // Room for the window about to be built, so that the kept ones and it stay
        // within the budget together.
        let room = (budget as u64).saturating_sub(estimate_bytes(&resumes, &window));
        self.keep_within(room, false);
        let file = base.file.clone();
        let overview = base.model.clone();
        let w = window.clone();
        let cancel = Arc::new(AtomicBool::new(false));
        let stop = cancel.clone();
        let shown_lanes = self.shown_lanes.clone();
        // Work for the view: below the UI, above the background, and no trim of the
        // heap after it (a trim before the hand-over also made 20 ms frames during the
        // build).
        let job = Job::spawn_for_view("window", ctx, move || {
            let (gens, from_ns, to_ns) = (w.gens, w.from_ns, w.to_ns);
            let mut m = match w.bucket_ns {
                0 => model::build_window_between(&*file, &resumes, gens, from_ns, to_ns, &stop),
                bucket_ns => model::build_window_thinned(
                    &*file, &resumes, gens, from_ns, to_ns, bucket_ns, &stop,
                ),
            }
            .map_err(|e| e.to_string())?;
            take_from_overview(&mut m, &overview);
            let trace = OpenTrace::new(file, Arc::new(m));
            // Laid out here, not in the frame that first shows it.
            let lanes = shown_lanes.lock().map(|l| l.clone()).unwrap_or_default();
            let layout = (!stop.load(Ordering::Relaxed) && !lanes.is_empty())
                .then(|| LodCache::laid_out_apart(&trace.model, trace.id, &lanes, true))
                .flatten();
            Ok((trace, layout))
        });
        self.job = Some((window, job, StopOnDrop(cancel)));
    }

    /// Notes what the timeline laid out in its last frame, for the builds to lay out their
    /// windows for it.
    pub(crate) fn note_shown_lanes(&self, lanes: &ShownLanes) {
        if let Ok(mut l) = self.shown_lanes.lock() {
            if *l != *lanes {
                *l = lanes.clone();
            }
        }
    }

    /// The layout built with kept window `id` for the view of its build's end, if it has
    /// not been taken yet. The other kept windows' layouts go: they are for views passed.
    pub(crate) fn take_layout(&mut self, id: TraceId) -> Option<LodCache> {
        let mut taken = None;
        for k in &mut self.built {
            let layout = k.layout.take();
            if k.trace.id == id {
                taken = layout;
            }
        }
        taken
    }

    /// The generations of the window being built, if one is.
    pub fn building(&self) -> Option<&Range<usize>> {
        self.job.as_ref().map(|(w, _, _)| &w.gens)
    }

    /// The generations of the windows kept, the most recently shown first.
    pub fn kept(&self) -> Vec<Range<usize>> {
        self.built.iter().map(|k| k.window.gens.clone()).collect()
    }
}

/// The overview keeps the whole trace's GC cycles, pauses, tasks, regions and runtime
/// work on Ps; a window takes them (on the thread that built it: copying them is not
/// the UI thread's work; the runtime work, the largest, is shared, not copied), so that a
/// pick of one is the same in both, and the trace's extent, so that the axis and the
/// view's limits are the same whichever is shown.
fn take_from_overview(m: &mut Model, whole: &Model) {
    m.start_ns = whole.start_ns;
    m.end_ns = whole.end_ns;
    m.gc = whole.gc.clone();
    m.stw = whole.stw.clone();
    m.tasks = whole.tasks.clone();
    for (w, o) in m.goroutines.iter_mut().zip(&whole.goroutines) {
        w.regions = o.regions.clone();
    }
    for (w, o) in m.procs.iter_mut().zip(&whole.procs) {
        w.work = o.work.clone();
        w.work_starts = o.work_starts;
    }
    m.share_assists(whole);
}

/// The window for a view `[start_ns, end_ns]` over generations `gens`: the view and a
/// view's width either side, within those generations; or only the view if that would
/// hold more than `MAX_WINDOW_FILE_BYTES` or take more than `budget` bytes to build; none
/// if that would too.
fn window_for(
    resumes: &model::Resumes,
    gens: Range<usize>,
    start_ns: i64,
    end_ns: i64,
    budget: usize,
) -> Option<Window> {
    let (first, last) = (
        resumes.time_range_ns(gens.start),
        resumes.time_range_ns(gens.end - 1),
    );
    let width = end_ns.saturating_sub(start_ns).max(1);
    [width, 0].into_iter().find_map(|margin| {
        let w = Window {
            gens: gens.clone(),
            from_ns: start_ns.saturating_sub(margin).max(first.start),
            to_ns: end_ns.saturating_add(margin).min(last.end),
            bucket_ns: 0,
        };
        (file_bytes_between(resumes, &w) <= MAX_WINDOW_FILE_BYTES
            && estimate_bytes(resumes, &w) <= budget as u64)
            .then_some(w)
    })
}

/// About how many bytes of the file `w` holds: its generations' bytes in proportion to
/// the part of their time it covers.
fn file_bytes_between(resumes: &model::Resumes, w: &Window) -> u64 {
    let bytes = resumes.file_bytes_of(w.gens.clone());
    let (first, last) = (
        resumes.time_range_ns(w.gens.start),
        resumes.time_range_ns(w.gens.end - 1),
    );
    let total_ns = last.end.saturating_sub(first.start).max(1) as f64;
    let kept_ns = w.to_ns.saturating_sub(w.from_ns).max(0) as f64;
    (bytes as f64 * (kept_ns / total_ns).min(1.0)) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    /// The window for a view is the view and a view's width either side, cut at its
    /// generations' ends; it covers the view after pans within that width, not beyond.
    #[test]
    fn a_window_is_the_view_and_a_views_width_either_side_within_its_generations() {
        let data = goscope_testdata::trace_bytes("generations-go127");
        let (_, r) =
            model::build_keeping_resumes(&data[..], &AtomicBool::new(false), &mut |_| {}).unwrap();
        let k = r.generations() / 2;
        let gen_ns = r.time_range_ns(k);
        let tenth = (gen_ns.end - gen_ns.start) / 10;
        let (a, b) = (gen_ns.start + 4 * tenth, gen_ns.start + 5 * tenth);
        let w = window_for(&r, k..k + 1, a, b, KEPT_BYTES).expect("a small window");
        assert_eq!(
            (w.gens.clone(), w.from_ns, w.to_ns),
            (k..k + 1, a - tenth, b + tenth)
        );
        assert!(w.covers(&r, a, b));
        assert!(w.covers(&r, a + tenth / 2, b + tenth / 2));
        assert!(w.covers(&r, a - tenth, b - tenth));
        assert!(!w.covers(&r, a + tenth * 3 / 2, b + tenth * 3 / 2));
        assert!(!w.covers(&r, a - tenth * 2, b + tenth * 2));
        let bytes = file_bytes_between(&r, &w);
        let gen_bytes = r.file_bytes_of(k..k + 1);
        assert!(
            bytes > gen_bytes / 4 && bytes < gen_bytes * 2 / 5,
            "{bytes} of {gen_bytes} bytes"
        );

        // Near the generation's start: cut there.
        let w = window_for(
            &r,
            k..k + 1,
            gen_ns.start + tenth / 2,
            gen_ns.start + tenth,
            KEPT_BYTES,
        )
        .unwrap();
        assert_eq!(w.from_ns, gen_ns.start);
        // Over two generations: within both.
        let next = r.time_range_ns(k + 1);
        let w = window_for(
            &r,
            k..k + 2,
            gen_ns.end - tenth,
            next.start + tenth,
            KEPT_BYTES,
        )
        .unwrap();
        assert_eq!(w.gens, k..k + 2);
        assert_eq!(
            (w.from_ns, w.to_ns),
            (gen_ns.end - 3 * tenth, next.start + 3 * tenth)
        );
        assert!(!w.covers(&r, next.end - 1, next.end));
    }

    /// The budget is what half the file leaves beside what the process holds and the
    /// headroom, within its bounds.
    #[test]
    fn the_detail_budget_is_what_half_the_file_leaves_within_bounds() {
        const MB: u64 = 1 << 20;
        // A 1.1 GB trace whose window holds 300 MB with its overview shown.
        assert_eq!(
            detail_budget(1100 * MB, Some(300 * MB)) as u64,
            550 * MB - 300 * MB - HEADROOM_BYTES
        );
        // A 4 GB trace: the same absolute bound as any large one, which is what a 1 GB
        // trace gets with the ~250 MB its overview's window holds.
        assert_eq!(detail_budget(4096 * MB, Some(400 * MB)), KEPT_BYTES);
        assert_eq!(
            detail_budget(4096 * MB, Some(400 * MB)),
            detail_budget(1024 * MB, Some(250 * MB))
        );
        // A trace whose overview takes half its size already: still some detail.
        assert_eq!(detail_budget(300 * MB, Some(200 * MB)), MIN_DETAIL_BYTES);
        assert_eq!(detail_budget(300 * MB, None), KEPT_BYTES);
    }

    /// The overview of `generations-go127.trace` as the viewer opens a large trace, its
    /// resumes, and the window of a tenth of its middle generation.
    fn overview_and_a_tenth() -> (OpenTrace, Arc<model::Resumes>, Window) {
        let path = goscope_testdata::dir()
            .join("traces")
            .join("generations-go127.trace");
        let file = Arc::new(goscope_file::TraceFile::open(&path).unwrap());
        let (m, r) =
            model::build_overview(&*file, &AtomicBool::new(false), &mut |_| {}, 0, None).unwrap();
        let k = r.generations() / 2;
        let gen_ns = r.time_range_ns(k);
        let tenth = (gen_ns.end - gen_ns.start) / 10;
        let view = Window {
            gens: k..k + 1,
            from_ns: gen_ns.start + 4 * tenth,
            to_ns: gen_ns.start + 5 * tenth,
            bucket_ns: 0,
        };
        let base = OpenTrace::overview(file, Arc::new(m), r);
        let r = base.resumes.clone().expect("resumes");
        (base, r, view)
    }

    /// Polls the view `[a, b]` until it has rested past `SETTLE`, and says what is shown.
    fn poll_settled(d: &mut Detail, base: &OpenTrace, a: i64, b: i64) -> Shown {
        let ctx = egui::Context::default();
        d.poll(base, a as f64, b as f64, &ctx);
        std::thread::sleep(SETTLE + Duration::from_millis(10));
        d.poll(base, a as f64, b as f64, &ctx).1
    }

    /// Polls the view `[a, b]` until what it shows is no longer being built (at most a
    /// minute), and says what that is.
    fn poll_until_built(d: &mut Detail, base: &OpenTrace, a: i64, b: i64) -> Shown {
        let t = Instant::now();
        loop {
            let shown = poll_settled(d, base, a, b);
            if d.building().is_none() || t.elapsed() > crate::testdata::BACKGROUND_WAIT {
                return shown;
            }
        }
    }

    /// A view whose window would take more than the budget is shown thinned to about a
    /// pixel, says why, and builds no window of every span; with room for it, it builds one.
    #[test]
    fn a_view_too_dense_for_the_budget_is_shown_thinned_and_says_why() {
        let (base, r, view) = overview_and_a_tenth();
        let (k, a, b) = (view.gens.start, view.from_ns, view.to_ns);
        let need = estimate_bytes(&r, &view) as usize;
        let mut d = Detail {
            budget: Some(need - 1),
            ..Detail::default()
        };
        assert_eq!(poll_settled(&mut d, &base, a, b), Shown::Building(k..k + 1));
        assert!(d.job.as_ref().is_some_and(|(w, _, _)| w.bucket_ns > 0));
        let shown = poll_until_built(&mut d, &base, a, b);
        let bucket_ns = (b - a) / FINE_BUCKETS;
        assert_eq!(
            shown,
            Shown::Thinned {
                gens: k..k + 1,
                bucket_ns,
                too_dense: Some(need - 1)
            }
        );
        assert!(shown.text().unwrap().contains("too dense"));
        // The model shown is the window thinned, over the view and its width either side
        // by now, and never one of every span.
        let (trace, _) = d.poll(&base, a as f64, b as f64, &egui::Context::default());
        assert_eq!(trace.model.overview_bucket_ns, bucket_ns);
        assert!(trace.model.start_ns <= a && b <= trace.model.end_ns);
        assert!(d.built.iter().all(|k| k.window.bucket_ns == bucket_ns));

        d.budget = Some(need);
        d.built.clear();
        assert_eq!(
            poll_until_built(&mut d, &base, a, b),
            Shown::Window(k..k + 1)
        );
    }

    /// A view whose window of every span holds more of the file than is quick to build is
    /// shown thinned first, then in full; a light one is built in full at once.
    #[test]
    fn a_slow_view_is_shown_thinned_first_then_in_full() {
        let (base, r, view) = overview_and_a_tenth();
        let (k, a, b) = (view.gens.start, view.from_ns, view.to_ns);
        assert!(file_bytes_between(&r, &view) < FINE_FIRST_FILE_BYTES);
        let mut d = Detail::default();
        assert_eq!(poll_settled(&mut d, &base, a, b), Shown::Building(k..k + 1));
        assert!(d.job.as_ref().is_some_and(|(w, _, _)| w.bucket_ns == 0));

        // As if the view held more of the file than is quick to build; detail may take
        // just its window of every span, not that beside the thinned one.
        let slow_base = base;
        let mut d = Detail {
            thinned_first_over: Some(file_bytes_between(&r, &view) - 1),
            budget: Some(estimate_bytes(&r, &view) as usize),
            ..Detail::default()
        };
        assert_eq!(
            poll_settled(&mut d, &slow_base, a, b),
            Shown::Building(k..k + 1)
        );
        assert!(d.job.as_ref().is_some_and(|(w, _, _)| w.bucket_ns > 0));
        let t = Instant::now();
        let mut seen = Vec::new();
        while t.elapsed() < crate::testdata::BACKGROUND_WAIT {
            let shown = poll_settled(&mut d, &slow_base, a, b);
            if seen.last() != Some(&shown) {
                seen.push(shown.clone());
            }
            if shown == Shown::Window(k..k + 1) {
                break;
            }
        }
        let thinned = Shown::Thinned {
            gens: k..k + 1,
            bucket_ns: (b - a) / FINE_BUCKETS,
            too_dense: None,
        };
        assert!(
            seen.contains(&thinned) && seen.last() == Some(&Shown::Window(k..k + 1)),
            "{seen:?}"
        );
        assert!(thinned.text().unwrap().contains("building every span"));
    }

    /// A window whose build failed (its trace cut short on disk, or damaged) is not built
    /// again while the view wants it, and the timeline says why; another view's is.
    #[test]
    fn a_window_whose_build_failed_is_not_built_again_and_says_why() {
        let (base, r, view) = overview_and_a_tenth();
        let (k, a, b) = (view.gens.start, view.from_ns, view.to_ns);
        let mut d = Detail::default();
        assert_eq!(poll_settled(&mut d, &base, a, b), Shown::Building(k..k + 1));
        // The build under way fails.
        let (w, _, stop) = d.job.take().expect("a build started");
        stop.store(true, Ordering::Relaxed);
        let job = Job::by_hand();
        job.finish(Err("at offset 12: expected a batch".to_string()));
        d.job = Some((w, job, stop));
        let ctx = egui::Context::default();
        for _ in 0..3 {
            let (_, shown) = d.poll(&base, a as f64, b as f64, &ctx);
            std::thread::sleep(SETTLE + Duration::from_millis(10));
            let why = "at offset 12: expected a batch".to_string();
            assert_eq!(shown, Shown::Failed(k..k + 1, why));
            assert_eq!(d.building(), None, "built again");
        }
        assert!(
            Shown::Failed(k..k + 1, "x".into())
                .text()
                .unwrap()
                .contains("could not be built in full: x")
        );
        // Another generation's view is built.
        let other = r.time_range_ns(k + 3);
        let tenth = b - a;
        let (a2, b2) = (other.start + tenth, other.start + 2 * tenth);
        assert_eq!(
            poll_settled(&mut d, &base, a2, b2),
            Shown::Building(k + 3..k + 4)
        );
    }

    /// With the view's window shown, the wider one is built only if both fit the budget
    /// together; otherwise the shown one stays and nothing is built.
    #[test]
    fn the_wider_window_is_built_only_beside_the_shown_one_within_the_budget() {
        let (base, r, view) = overview_and_a_tenth();
        let (k, a, b) = (view.gens.start, view.from_ns, view.to_ns);
        let m =
            model::build_window_between(&*base.file, &r, k..k + 1, a, b, &AtomicBool::new(false))
                .unwrap();
        let (shown_bytes, m) = (m.heap_bytes(), Arc::new(m));
        let wide = window_for(&r, k..k + 1, a, b, KEPT_BYTES).expect("a wider window");
        assert!(wide.holds(&view) && wide != view);
        let need = shown_bytes + estimate_bytes(&r, &wide) as usize;
        for (budget, builds) in [(need - 1, false), (need, true)] {
            let mut d = Detail {
                budget: Some(budget),
                ..Detail::default()
            };
            d.built.push(Kept::new(
                view.clone(),
                OpenTrace::new(base.file.clone(), m.clone()),
                None,
            ));
            assert_eq!(poll_settled(&mut d, &base, a, b), Shown::Window(k..k + 1));
            assert_eq!(d.building().is_some(), builds, "budget {budget} of {need}");
            assert_eq!(d.kept(), vec![k..k + 1], "the shown window stays");
        }
    }

    /// A window shares the overview's runtime work instead of copying it, and does not
    /// count it as its own.
    #[test]
    fn a_window_shares_the_overviews_runtime_work() {
        let (base, r, view) = overview_and_a_tenth();
        let (k, a, b) = (view.gens.start, view.from_ns, view.to_ns);
        let mut m =
            model::build_window_between(&*base.file, &r, k..k + 1, a, b, &AtomicBool::new(false))
                .unwrap();
        take_from_overview(&mut m, &base.model);
        assert!(
            m.procs
                .iter()
                .zip(&base.model.procs)
                .all(|(w, o)| Arc::ptr_eq(&w.work, &o.work))
        );
        let shared_bytes = m.heap_bytes();
        // Copied, the work is the window's own and counted.
        let work: usize = m.procs.iter().map(|p| p.work.len()).sum();
        assert!(work > 0, "the trace has runtime work on its Ps");
        for p in &mut m.procs {
            Arc::make_mut(&mut p.work);
        }
        assert_eq!(
            m.heap_bytes() - shared_bytes,
            work * std::mem::size_of::<model::PRange>()
        );
    }

    /// A build goes on while the view stays within the window it builds, and is stopped
    /// (its flag set, no longer the build under way) once the view moves elsewhere.
    #[test]
    fn a_build_the_view_moved_away_from_is_stopped() {
        let (base, r, view) = overview_and_a_tenth();
        let ctx = egui::Context::default();
        let (k, a, b) = (view.gens.start, view.from_ns, view.to_ns);
        let tenth = b - a;
        // A build of the view's window under way, which runs until it is stopped.
        let mut d = Detail::default();
        let w = window_for(&r, k..k + 1, a, b, KEPT_BYTES).expect("a window");
        let flag = Arc::new(AtomicBool::new(false));
        let seen = flag.clone();
        let job = Job::spawn_notifying(
            "test-window",
            || {},
            move || {
                while !seen.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err("stopped".to_string())
            },
        );
        d.job = Some((w.clone(), job, StopOnDrop(flag.clone())));

        // A pan within the window it builds: it goes on.
        let pan = tenth / 2;
        d.poll(&base, (a + pan) as f64, (b + pan) as f64, &ctx);
        assert!(!flag.load(Ordering::Relaxed));
        assert_eq!(d.building(), Some(&(k..k + 1)));

        // To another generation: stopped, and no error shown for it.
        let far = r.time_range_ns(k + 3);
        d.poll(
            &base,
            (far.start + tenth) as f64,
            (far.start + 2 * tenth) as f64,
            &ctx,
        );
        assert!(flag.load(Ordering::Relaxed), "the build is told to stop");
        assert_eq!(d.building(), None);
        assert_eq!(d.error, None);

        // A detail dropped with a build under way (its trace closed, or the detail started
        // afresh) stops it.
        let flag = Arc::new(AtomicBool::new(false));
        let d = Detail {
            job: Some((w, Job::by_hand(), StopOnDrop(flag.clone()))),
            ..Detail::default()
        };
        drop(d);
        assert!(
            flag.load(Ordering::Relaxed),
            "a dropped detail's build is told to stop"
        );
    }
}
