//! Detail on demand for a trace opened as an overview: which generations the view lies
//! in, the windows of them built in the background (`model::build_window`), and a few kept,
//! least recently used going first. The timeline shows a window when one covers the view
//! and the overview otherwise; it never waits for a build.

use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::analyses::Job;
use super::loader::OpenTrace;
use goscope_model::{self as model, Model};

/// A view over at most this many generations is shown in full detail; a wider one shows
/// the overview (its lanes are thinned to about a pixel's time at such zooms anyway).
pub const MAX_VIEW_GENERATIONS: usize = 3;

/// A view over more than one generation is shown in full only if those generations take
/// at most this many bytes of the file (a window's model takes about three times that);
/// a view within one generation always is.
pub const MAX_WINDOW_FILE_BYTES: u64 = 64 << 20;

/// Windows are kept while their models take at most this many bytes together
/// (`Model::heap_bytes`); the one shown last is always kept.
pub const KEPT_BYTES: usize = 256 << 20;

/// A window's model takes about this many times its generations' bytes in the file (the
/// benchmark traces: 2.7 to 2.9), for making room before a build.
const MODEL_PER_FILE_BYTE: u64 = 3;

/// How long the view must stay over the same generations before their window is built,
/// so that a pan or zoom in progress starts no builds it would leave behind.
pub const SETTLE: Duration = Duration::from_millis(120);

/// A window's build on a thread of its own.
type WindowJob = Job<Result<Model, String>>;

/// What the timeline of an overview shows in detail.
#[derive(Default)]
pub struct Detail {
    /// Built windows, the most recently shown first.
    built: Vec<(Range<usize>, OpenTrace)>,
    /// The window being built (one at a time: a build cannot be stopped).
    job: Option<(Range<usize>, WindowJob)>,
    /// The generations the view lies in, and since when.
    wanted: Option<(Range<usize>, Instant)>,
    /// Why the last build failed, if it did.
    pub error: Option<String>,
}

/// What the timeline shows of an overview at this moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Shown {
    /// Not an overview: the whole model.
    Whole,
    /// The overview; the view spans more generations than are shown in detail.
    Overview { generations: usize },
    /// The overview while the window of these generations is built (or about to be).
    Building(Range<usize>),
    /// The window of these generations.
    Window(Range<usize>),
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
            Shown::Overview { generations } => Some(format!(
                "overview of {generations} generations: zoom in for every span"
            )),
            Shown::Building(r) => Some(format!("overview; building {} in full…", gens(r))),
            Shown::Window(r) => Some(format!("{} in full detail", gens(r))),
        }
    }
}

impl Detail {
    /// The trace to draw for the view `[start_ns, end_ns]` of `base` (its window if one
    /// is built, else `base` itself), and what that is. Takes in a finished build, and
    /// starts one when the view has stayed over a few generations for `SETTLE`.
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
        self.take_finished(base);
        let gens = resumes.generations_over(start_ns.floor() as i64, end_ns.ceil() as i64);
        let too_big = gens.len() > 1 && resumes.file_bytes_of(gens.clone()) > MAX_WINDOW_FILE_BYTES;
        if gens.is_empty() || gens.len() > MAX_VIEW_GENERATIONS || too_big {
            self.wanted = None;
            return (
                base.clone(),
                Shown::Overview {
                    generations: gens.len(),
                },
            );
        }
        if let Some(i) = self
            .built
            .iter()
            .position(|(r, _)| r.start <= gens.start && gens.end <= r.end)
        {
            let kept = self.built.remove(i);
            let shown = (kept.1.clone(), Shown::Window(kept.0.clone()));
            self.built.insert(0, kept);
            self.wanted = None;
            return shown;
        }
        let now = Instant::now();
        let since = match &self.wanted {
            Some((r, t)) if *r == gens => *t,
            _ => now,
        };
        self.wanted = Some((gens.clone(), since));
        if self.job.is_none() {
            if now.duration_since(since) >= SETTLE {
                self.start(base, resumes.clone(), gens.clone(), ctx);
            } else {
                ctx.request_repaint_after(SETTLE.saturating_sub(now.duration_since(since)));
            }
        }
        (base.clone(), Shown::Building(gens))
    }

    /// Keeps the window a build finished, dropping the least recently shown ones beyond
    /// `KEPT_BYTES`.
    fn take_finished(&mut self, base: &OpenTrace) {
        let Some((gens, job)) = &self.job else { return };
        let Some(result) = job.take() else { return };
        let (gens, secs) = (gens.clone(), job.started.elapsed().as_secs_f64());
        self.job = None;
        match result.and_then(|r| r) {
            Ok(mut m) => {
                self.error = None;
                // The overview keeps the whole trace's GC cycles, pauses, tasks, regions
                // and runtime work on Ps; the window takes them, so that a pick of one is
                // the same in both (and its extent).
                let whole = &base.model;
                // The trace's extent, so that the axis and the view's limits are the same
                // whichever model is shown.
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
                super::app::log_load(&format!(
                    "window of generations {}–{} built in {:.0} ms, {:.0} MB",
                    gens.start + 1,
                    gens.end,
                    secs * 1e3,
                    m.heap_bytes() as f64 / 1e6
                ));
                self.built
                    .insert(0, (gens, OpenTrace::new(base.file.clone(), Arc::new(m))));
                self.keep_within(KEPT_BYTES);
            }
            Err(e) => self.error = Some(e),
        }
    }

    /// Drops the least recently shown windows until the others take at most `bytes` (the
    /// most recent is kept whatever its size).
    fn keep_within(&mut self, bytes: usize) {
        let mut total = 0;
        let mut first = true;
        self.built.retain(|(_, t)| {
            total += t.model.heap_bytes();
            let keep = first || total <= bytes;
            first = false;
            keep
        });
    }

    fn start(
        &mut self,
        base: &OpenTrace,
        resumes: Arc<model::Resumes>,
        gens: Range<usize>,
        ctx: &egui::Context,
    ) {
        // Room for the window about to be built, so that the kept ones and it stay
        // within the budget together.
        let coming = resumes.file_bytes_of(gens.clone()) * MODEL_PER_FILE_BYTE;
        let room = (KEPT_BYTES as u64).saturating_sub(coming) as usize;
        let mut total = 0;
        self.built.retain(|(_, t)| {
            total += t.model.heap_bytes();
            total <= room
        });
        let file = base.file.clone();
        let g = gens.clone();
        // The heap is not trimmed after a build (as other jobs do): what a build frees
        // is little beside the window it keeps, and trimming while the UI thread lays the
        // new window out made that frame 10-15 ms instead of 4-7 (and 20 ms frames
        // during the build when done before the hand-over). A dropped window's memory is
        // what the next build reuses.
        let c = ctx.clone();
        let job = Job::spawn_notifying(
            "window",
            move || c.request_repaint(),
            move || model::build_window(&*file, &resumes, g).map_err(|e| e.to_string()),
        );
        self.job = Some((gens, job));
    }

    /// Whether a window is being built.
    pub fn building(&self) -> Option<&Range<usize>> {
        self.job.as_ref().map(|(r, _)| r)
    }

    /// The generations of the windows kept, the most recently shown first.
    pub fn kept(&self) -> Vec<Range<usize>> {
        self.built.iter().map(|(r, _)| r.clone()).collect()
    }
}

/// What a summary span of an overview is (see `goscope_model::overview`).
pub(crate) fn summary_note(model: &Model) -> String {
    let bucket = super::view::format_duration(model.overview_bucket_ns as f64);
    format!(
        "Overview: the time of spans shorter than {bucket} summed per state in each {bucket} of the trace. Zoom in to a few generations to see every span."
    )
}
