//! Loads a trace on a background thread: maps the file, builds the model with named
//! progress stages, hands over a first look at a long trace early, and can be cancelled.
//! The UI polls it each frame and never blocks.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::analyses::Job;
use goscope_file::TraceFile;
use goscope_model::{self as model, BuildStage, Model, Resumes};

/// Where a load is.
#[derive(Clone, Debug, PartialEq)]
pub enum Stage {
    Mapping,
    Scanning,
    /// Generations ordered, of how many, and the share of the trace's time built.
    Decoding {
        done: usize,
        of: usize,
        through: f32,
    },
    BuildingLanes,
}

impl Stage {
    pub(crate) fn label(&self) -> String {
        match self {
            Stage::Mapping => "Mapping the file".into(),
            Stage::Scanning => "Scanning generations".into(),
            Stage::Decoding { done, of, .. } => format!(
                "Decoding and ordering generation {} of {of}",
                (done + 1).min(*of)
            ),
            Stage::BuildingLanes => "Building lanes".into(),
        }
    }

    /// Rough progress 0..1.
    pub(crate) fn fraction(&self) -> f32 {
        match self {
            Stage::Mapping => 0.02,
            Stage::Scanning => 0.05,
            Stage::Decoding { through, .. } => 0.05 + 0.85 * through.clamp(0.0, 1.0),
            Stage::BuildingLanes => 0.95,
        }
    }
}

/// A finished load: the trace (its one mapping and the model built from it) and the
/// seconds it took.
pub type LoadResult = Result<(OpenTrace, f64), String>;

/// An opened trace: the one mapping of its file, and the model built from those bytes.
/// Everything that reads the trace for this document (the dock's analyses, MMU curves,
/// profiles of a range) reads `file`, so the timeline and the dock always describe the
/// same bytes. `id` names this model for caches: it differs between a preview and the
/// whole trace, and between two opens of the same path.
#[derive(Clone)]
pub struct OpenTrace {
    pub id: TraceId,
    pub file: Arc<TraceFile>,
    pub model: Arc<Model>,
    /// For a trace opened as an overview (`model.overview_bucket_ns` > 0): what the
    /// windows of its generations are built from (`model::build_window`), which the
    /// timeline shows when the view is within a few generations (see `detail`).
    pub resumes: Option<Arc<Resumes>>,
}

/// Which opened model a cached value was computed for (never reused within a process).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TraceId(u64);

impl TraceId {
    /// A new, unique id.
    pub(crate) fn fresh() -> TraceId {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        TraceId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

impl OpenTrace {
    /// A trace whose model was just built from `file`.
    pub fn new(file: Arc<TraceFile>, model: Arc<Model>) -> OpenTrace {
        OpenTrace {
            id: TraceId::fresh(),
            file,
            model,
            resumes: None,
        }
    }

    /// A trace opened as an overview, with what its windows are built from.
    pub fn overview(file: Arc<TraceFile>, model: Arc<Model>, resumes: Resumes) -> OpenTrace {
        OpenTrace {
            resumes: (resumes.generations() > 0).then(|| Arc::new(resumes)),
            ..OpenTrace::new(file, model)
        }
    }

    /// Opens and builds a trace on the calling thread (tests).
    #[cfg(test)]
    pub(crate) fn load(path: &Path) -> Result<OpenTrace, String> {
        let file = Arc::new(TraceFile::open(path).map_err(|e| e.to_string())?);
        let model = model::build(&*file).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(OpenTrace::new(file, Arc::new(model)))
    }

    /// The path the trace was opened from.
    pub fn path(&self) -> &Path {
        self.file.path()
    }
}

/// A first look at a long trace while the rest loads: the model of its first
/// `model::PREVIEW_EVENTS` events, and the seconds it took.
pub struct Preview {
    pub trace: OpenTrace,
    pub secs: f64,
}

/// What a load is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadKind {
    /// A trace the user opened: a preview of a long one first, then the whole file.
    Open,
    /// The complete generations of a capture still arriving: the file's first
    /// `complete_bytes` bytes (`TraceFile::open_prefix`), no preview.
    CapturePrefix {
        /// Length of the prefix that holds the header and the complete generations.
        complete_bytes: u64,
    },
    /// The file of a capture that ended (its complete generations, and a warning if it
    /// ends inside one), no preview.
    CaptureEnd,
}

/// A load in progress.
pub struct Loader {
    pub path: PathBuf,
    pub kind: LoadKind,
    /// Files of at least this many bytes open as an overview (`overview_bytes`).
    pub overview_from_bytes: u64,
    stage: Arc<Mutex<Stage>>,
    cancel: Arc<AtomicBool>,
    /// The load itself (a panic in it ends the load with its message).
    job: Job<LoadResult>,
    preview: Arc<Mutex<Option<Preview>>>,
}

impl Loader {
    /// Starts loading `path`; `repaint` is called when something changes: with `true` when
    /// the preview or the result is in, with `false` when only the stage moved on (the UI
    /// may take its time to show that: a software renderer redrawing a preview's timeline
    /// for every stage would slow the load).
    pub(crate) fn start(path: &Path, repaint: impl Fn(bool) + Send + Sync + 'static) -> Loader {
        Loader::start_open(path, overview_bytes(), repaint)
    }

    /// Starts opening `path` as a user does, as an overview if it has at least
    /// `overview_from_bytes` bytes.
    pub(crate) fn start_open(
        path: &Path,
        overview_from_bytes: u64,
        repaint: impl Fn(bool) + Send + Sync + 'static,
    ) -> Loader {
        Loader::start_with(path, LoadKind::Open, overview_from_bytes, repaint)
    }

    /// Starts a load of `kind`.
    pub(crate) fn start_kind(
        path: &Path,
        kind: LoadKind,
        repaint: impl Fn(bool) + Send + Sync + 'static,
    ) -> Loader {
        Loader::start_with(path, kind, u64::MAX, repaint)
    }

    fn start_with(
        path: &Path,
        kind: LoadKind,
        overview_from_bytes: u64,
        repaint: impl Fn(bool) + Send + Sync + 'static,
    ) -> Loader {
        let stage = Arc::new(Mutex::new(Stage::Mapping));
        let cancel = Arc::new(AtomicBool::new(false));
        let preview = Arc::new(Mutex::new(None));
        let (s, c, v, p) = (
            stage.clone(),
            cancel.clone(),
            preview.clone(),
            path.to_path_buf(),
        );
        let repaint = Arc::new(repaint);
        let done = repaint.clone();
        let job = Job::spawn_notifying(
            "load",
            move || done(true),
            move || {
                let t0 = Instant::now();
                load(&p, kind, overview_from_bytes, &s, &c, &*repaint, &|trace| {
                    if let Ok(mut slot) = v.lock() {
                        *slot = Some(Preview {
                            trace,
                            secs: t0.elapsed().as_secs_f64(),
                        });
                    }
                    repaint(true);
                })
                .map(|trace| (trace, t0.elapsed().as_secs_f64()))
            },
        );
        Loader {
            path: path.to_path_buf(),
            kind,
            overview_from_bytes,
            stage,
            cancel,
            job,
            preview,
        }
    }

    /// A loader driven by hand (tests): it holds `preview` and, once `finish` is called,
    /// a result, as a load thread would leave them.
    #[cfg(test)]
    pub(crate) fn by_hand(path: &Path, preview: Option<Preview>) -> Loader {
        Loader {
            path: path.to_path_buf(),
            kind: LoadKind::Open,
            overview_from_bytes: u64::MAX,
            stage: Arc::new(Mutex::new(Stage::BuildingLanes)),
            cancel: Arc::new(AtomicBool::new(false)),
            job: Job::by_hand(),
            preview: Arc::new(Mutex::new(preview)),
        }
    }

    #[cfg(test)]
    pub(crate) fn finish(&self, result: LoadResult) {
        self.job.finish(result);
    }

    pub(crate) fn stage(&self) -> Stage {
        self.stage
            .lock()
            .map(|s| s.clone())
            .unwrap_or(Stage::Mapping)
    }

    pub(crate) fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// The preview's model, once (only for traces of more than `model::PREVIEW_EVENTS`).
    pub(crate) fn take_preview(&self) -> Option<Preview> {
        self.preview.lock().ok().and_then(|mut p| p.take())
    }

    /// The result once the load has finished.
    pub(crate) fn take_result(&self) -> Option<LoadResult> {
        self.job.take().map(|r| r.and_then(|loaded| loaded))
    }
}

/// Files at least this long open as an overview (`model::build_overview`): lanes thinned
/// to buckets of about 1/`model::OVERVIEW_BUCKETS` of the trace, every span only in the
/// windows of generations built as the view needs them, so memory does not grow with the
/// trace's events. `GOSCOPE_OVERVIEW_BYTES` sets another size (0: always).
pub const OVERVIEW_BYTES: u64 = 256 << 20;

/// The size from which a file opens as an overview (`OVERVIEW_BYTES`, or the environment's).
pub fn overview_bytes() -> u64 {
    std::env::var("GOSCOPE_OVERVIEW_BYTES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(OVERVIEW_BYTES)
}

/// Sets the load's stage; says whether its label changed, and so whether to ask for a
/// frame. A frame for each new label, not for each step of the bar (which any frame
/// drawn anyway shows): drawn by a software renderer on two cores, a frame every 300 ms
/// took the 1.17 GB trace's load from 7.4 to 10.1 s.
fn set_stage(stage: &Mutex<Stage>, s: Stage) -> bool {
    stage.lock().map_or(true, |mut g| {
        let relabelled = g.label() != s.label();
        *g = s;
        relabelled
    })
}

/// Maps `path` once (only the prefix a capture's load names counts) and builds its model
/// from those bytes; the preview and the result share them. A file of `overview_bytes`
/// or more gets an overview and its resumes instead of the whole model.
#[allow(clippy::too_many_arguments)]
fn load(
    path: &Path,
    kind: LoadKind,
    overview_from_bytes: u64,
    stage: &Mutex<Stage>,
    cancel: &AtomicBool,
    repaint: &(dyn Fn(bool) + Send + Sync),
    preview: &(dyn Fn(OpenTrace) + Sync),
) -> Result<OpenTrace, String> {
    let set = |s: Stage| {
        if set_stage(stage, s) {
            repaint(false);
        }
    };
    set(Stage::Mapping);
    let file = Arc::new(match kind {
        LoadKind::CapturePrefix { complete_bytes } => {
            TraceFile::open_prefix(path, complete_bytes).map_err(|e| e.to_string())?
        }
        LoadKind::Open | LoadKind::CaptureEnd => {
            TraceFile::open(path).map_err(|e| e.to_string())?
        }
    });

    let mut progress = |b: BuildStage| match b {
        BuildStage::Scanning => set(Stage::Scanning),
        BuildStage::Decoding { done, of, through } => set(Stage::Decoding { done, of, through }),
        BuildStage::Finishing => set(Stage::BuildingLanes),
    };
    let mut on_preview = |m: Model| preview(OpenTrace::new(file.clone(), Arc::new(m)));
    let as_overview = kind == LoadKind::Open && file.bytes().len() as u64 >= overview_from_bytes;
    let (m, resumes) = build_model(
        &*file,
        as_overview,
        cancel,
        &mut progress,
        // A capture's model is shown whole: its growth is the preview.
        (kind == LoadKind::Open).then_some(&mut on_preview as &mut _),
    )
    .map_err(|e| format!("{}: {e}", path.display()))?;
    if cancel.load(Ordering::Relaxed) {
        return Err("loading was cancelled".into());
    }
    // Here rather than in the first frame that draws goroutine lanes (the windows of an
    // overview share these).
    m.find_assists();
    Ok(match resumes {
        Some(r) => OpenTrace::overview(file, Arc::new(m), r),
        None => OpenTrace::new(file, Arc::new(m)),
    })
}

/// The model the viewer opens a trace with: an overview and its resumes (`as_overview`,
/// see `OVERVIEW_BYTES`) or the whole model, with a preview after
/// `model::PREVIEW_EVENTS` events if `on_preview` is given.
pub fn build_model<S: goscope_trace::Source + ?Sized>(
    source: &S,
    as_overview: bool,
    cancel: &AtomicBool,
    progress: &mut (dyn FnMut(BuildStage) + Send),
    on_preview: Option<model::OnPreview<'_>>,
) -> goscope_trace::Result<(Model, Option<Resumes>)> {
    if as_overview {
        let (m, r) =
            model::build_overview(source, cancel, progress, model::PREVIEW_EVENTS, on_preview)?;
        return Ok((m, Some(r)));
    }
    let m = model::build_previewing(source, cancel, progress, model::PREVIEW_EVENTS, on_preview)?;
    Ok((m, None))
}

/// With `GOSCOPE_LOG_LOAD` set, says on stderr what loading did, and at which frame.
pub(crate) fn log_load(what: &str) {
    if std::env::var_os("GOSCOPE_LOG_LOAD").is_some() {
        eprintln!(
            "goscope: {what} (frame {})",
            FRAMES.load(std::sync::atomic::Ordering::Relaxed)
        );
    }
}

/// Frames drawn so far by this process (for `log_load`).
pub(crate) static FRAMES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

#[cfg(test)]
mod tests {
    use super::*;

    /// The bar follows the share of the trace's time built, and a step of it asks for no
    /// frame of its own; a new generation, or stage, does.
    #[test]
    fn a_step_of_the_bar_asks_for_no_frame_a_new_label_does() {
        let decoding = |done, through| Stage::Decoding {
            done,
            of: 4,
            through,
        };
        let stage = Mutex::new(Stage::Scanning);
        assert!(set_stage(&stage, decoding(2, 0.10)));
        assert!((stage.lock().unwrap().fraction() - (0.05 + 0.85 * 0.10)).abs() < 1e-6);
        assert!(!set_stage(&stage, decoding(2, 0.40)));
        assert!(!set_stage(&stage, decoding(2, 0.75)));
        assert!((stage.lock().unwrap().fraction() - (0.05 + 0.85 * 0.75)).abs() < 1e-6);
        assert!(set_stage(&stage, decoding(3, 0.78)));
        assert!(set_stage(&stage, Stage::BuildingLanes));
    }
}
