//! Detail on demand for a trace opened as an overview: which generations the view lies
//! in, windows of them built in the background (`model::build_window_between`): the view
//! alone first, then the view and a view's width either side, so that pans find it built;
//! and a few kept, least recently used going first, all within a memory budget tied to the
//! file's size. The timeline shows a window when one covers the view and the overview
//! otherwise; it never waits for a build, and a build the view has moved away from is
//! stopped.

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::analyses::Job;
use super::loader::OpenTrace;
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

/// A window's build on a thread of its own.
type WindowJob = Job<Result<Model, String>>;

/// A window: generations, and the part of their time it keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Window {
    gens: Range<usize>,
    from_ns: i64,
    to_ns: i64,
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

    /// Whether it holds everything `other` does.
    fn holds(&self, other: &Window) -> bool {
        self.from_ns <= other.from_ns && other.to_ns <= self.to_ns
    }
}

/// A built window, and what its model takes (`Model::heap_bytes`, measured once).
struct Kept {
    window: Window,
    trace: OpenTrace,
    bytes: u64,
}

impl Kept {
    fn new(window: Window, trace: OpenTrace) -> Kept {
        let bytes = trace.model.heap_bytes() as u64;
        Kept {
            window,
            trace,
            bytes,
        }
    }
}

/// What the timeline of an overview shows in detail.
#[derive(Default)]
pub struct Detail {
    /// Built windows, the most recently shown first.
    built: Vec<Kept>,
    /// The window being built (one at a time), and what stops its build.
    job: Option<(Window, WindowJob, Arc<AtomicBool>)>,
    /// The window the view wants, and since when.
    wanted: Option<(Window, Instant)>,
    /// Why the last build failed, if it did.
    pub error: Option<String>,
    /// The window whose build failed last: not built again (a trace cut short on disk, or
    /// damaged, fails the same way each time) while the view wants it; the timeline says
    /// why (`Shown::Failed`).
    failed: Option<Window>,
    /// The bytes windows may take together (`detail_budget`), set at the first poll of an
    /// overview from what the process holds then.
    pub budget: Option<usize>,
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
            Shown::Building(r) => Some(format!("overview; building {} in full…", gens(r))),
            Shown::Window(r) => Some(format!("{} in full detail", gens(r))),
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
    /// starts one when the view has stayed over a few generations for `SETTLE`: of the
    /// view alone when no window covers it, else of the view and a view's width either
    /// side if no window holds that yet.
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
        let gens = resumes.generations_over(start, end);
        let in_detail = !gens.is_empty() && gens.len() <= MAX_VIEW_GENERATIONS;
        let wanted = in_detail
            .then(|| window_for(resumes, gens.clone(), start, end, budget))
            .flatten();
        let Some(wide) = wanted else {
            self.wanted = None;
            self.stop_unwanted(resumes, start, end, None);
            return (
                base.clone(),
                Shown::Overview {
                    generations: gens.len(),
                    too_dense: in_detail.then_some(budget),
                },
            );
        };
        let covering = self
            .built
            .iter()
            .position(|k| k.window.covers(resumes, start, end));
        let (shown, wanted) = match covering {
            Some(i) => {
                let kept = self.built.remove(i);
                let shown = (kept.trace.clone(), Shown::Window(kept.window.gens.clone()));
                let shown_bytes = kept.bytes;
                self.built.insert(0, kept);
                // Wider only if it can be built beside the window shown.
                let widen = !self.built.iter().any(|k| k.window.holds(&wide))
                    && shown_bytes + estimate_bytes(resumes, &wide) <= budget as u64;
                (shown, widen.then_some(wide))
            }
            None => {
                let view = Window {
                    from_ns: start.max(wide.from_ns),
                    to_ns: end.min(wide.to_ns),
                    ..wide
                };
                ((base.clone(), Shown::Building(gens)), Some(view))
            }
        };
        self.stop_unwanted(resumes, start, end, wanted.as_ref());
        let Some(wanted) = wanted else {
            self.wanted = None;
            return shown;
        };
        let now = Instant::now();
        let since = match &self.wanted {
            Some((w, t)) if *w == wanted => *t,
            _ => now,
        };
        self.wanted = Some((wanted.clone(), since));
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
    /// covers the view `[start_ns, end_ns]` nor is the one the view wants next. Its thread
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
        if Some(window) != wanted && !window.covers(resumes, start_ns, end_ns) {
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
            Ok(m) => {
                self.error = None;
                let whole = &base.model;
                let kept = Kept::new(window, OpenTrace::new(base.file.clone(), Arc::new(m)));
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
        // Work for the view: below the UI, above the background, and no trim of the
        // heap after it (a trim before the hand-over also made 20 ms frames during the
        // build).
        let job = Job::spawn_for_view("window", ctx, move || {
            let mut m =
                model::build_window_between(&*file, &resumes, w.gens, w.from_ns, w.to_ns, &stop)
                    .map_err(|e| e.to_string())?;
            take_from_overview(&mut m, &overview);
            Ok(m)
        });
        self.job = Some((window, job, cancel));
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

/// What a summary span of an overview is (see `goscope_model::overview`).
pub(crate) fn summary_note(model: &Model) -> String {
    let bucket = super::view::format_duration(model.overview_bucket_ns as f64);
    format!(
        "Overview: the time of spans shorter than {bucket} summed per state in each {bucket} of the trace. Zoom in to a few generations to see every span."
    )
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

    /// A view whose window would take more than the budget shows the overview, says why,
    /// and starts no build; with room for it, its build starts.
    #[test]
    fn a_view_too_dense_for_the_budget_shows_the_overview_and_builds_nothing() {
        let (base, r, view) = overview_and_a_tenth();
        let (k, a, b) = (view.gens.start, view.from_ns, view.to_ns);
        let need = estimate_bytes(&r, &view) as usize;
        let mut d = Detail {
            budget: Some(need - 1),
            ..Detail::default()
        };
        let shown = poll_settled(&mut d, &base, a, b);
        assert_eq!(
            shown,
            Shown::Overview {
                generations: 1,
                too_dense: Some(need - 1)
            }
        );
        assert!(shown.text().unwrap().contains("zoom in"));
        assert_eq!(d.building(), None);

        d.budget = Some(need);
        assert_eq!(poll_settled(&mut d, &base, a, b), Shown::Building(k..k + 1));
        assert_eq!(d.building(), Some(&(k..k + 1)));
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
        d.job = Some((w, job, flag.clone()));

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
    }
}
