//! The eframe application: start page, background loading with progress, capturing from a
//! running program, the timeline with its top bar, keyboard navigation, the details and
//! selection panels, and the help overlay.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use egui::{Color32, Key, Modifiers, RichText, Ui};

use super::analyses::{Analyses, Pieces, Slot};
use super::capture::{CaptureForm, Capturing, FormAction};
use super::flame::ProfilesView;
use super::gcview::GcView;
use super::goroutines::GoroutinesView;
use super::lanes::{self, LaneMode, LaneSort, Row};
use super::loader::{FRAMES, LoadKind, Loader, OpenTrace, log_load};
use super::panels;
use super::search::{Hit, SearchBar};
use super::tasksview::TasksView;
use super::timeline::{self, Geometry, Pick};
use super::view::{AxisClock, TimelineView, format_duration};

const RECENT_KEY: &str = "goscope.recent";
/// Storage keys of the capture dialog's remembered addresses and folder.
const CAPTURE_ADDRESSES_KEY: &str = "goscope.capture.addresses";
const CAPTURE_DIR_KEY: &str = "goscope.capture.dir";
/// How often a running capture's elapsed time and bytes are redrawn.
const CAPTURE_REPAINT: std::time::Duration = std::time::Duration::from_millis(250);
const MAX_RECENT: usize = 10;
/// How far a tap of W/S/A/D moves the view that no frame saw held: as far as holding it
/// for this long (about 15% of zoom, an eighth of the width of pan).
const TAP_SECS: f64 = 0.12;
/// How soon a load's stage change is drawn (its preview and result are drawn at once).
const PROGRESS_REPAINT: std::time::Duration = std::time::Duration::from_millis(300);

/// The analysis views of the dock below the timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    Goroutines,
    Profiles,
    Tasks,
    Gc,
    Procs,
    Findings,
}

impl Tab {
    pub const ALL: [Tab; 6] = [
        Tab::Goroutines,
        Tab::Profiles,
        Tab::Tasks,
        Tab::Gc,
        Tab::Procs,
        Tab::Findings,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Tab::Goroutines => "Goroutine analysis",
            Tab::Profiles => "Profiles",
            Tab::Tasks => "Tasks & regions",
            Tab::Gc => "GC & MMU",
            Tab::Procs => "Utilization",
            Tab::Findings => "Findings",
        }
    }
}

/// The background analysis pass, once started.
pub type AnalysesSlot = Slot<Result<Arc<Analyses>, String>>;

/// What the lane rows were made for: the mode, the order, the collapsed groups, the focus.
type RowsKey = (LaneMode, LaneSort, BTreeSet<String>, Option<Vec<i64>>);

/// Bytes of the file each piece of a selection summed over an overview holds at most
/// (`Doc::summarize_selection`): its model takes about four times that while it is summed.
pub(crate) const SELECTION_PIECE_FILE_BYTES: u64 = 16 << 20;

/// A selection's summary being made, or made.
pub struct SelectionJob {
    pub slot: Slot<Result<goscope_analysis::selection::SelectionSummary, String>>,
    /// For a summary in pieces (over an overview): how far it has come; it stops when
    /// another selection is made.
    pieces: Pieces,
    /// For a summary in pieces: the summary of the selection's part summed so far, shown
    /// until the whole is (a selection over a gigabyte of trace takes many seconds).
    so_far: Arc<Mutex<Option<goscope_analysis::selection::SelectionSummary>>>,
}

impl SelectionJob {
    /// For a summary in pieces, the summary of the part summed so far (once a piece is).
    pub fn so_far(&self) -> Option<goscope_analysis::selection::SelectionSummary> {
        self.so_far.lock().ok().and_then(|s| s.clone())
    }

    /// What the panel says while the summary of a selection `duration_ns` long is made
    /// (`pieces`: how far a summary in pieces has come).
    fn pending_text(pieces: &Pieces, duration_ns: f64) -> String {
        let how = match pieces.done_of() {
            Some((done, of)) => format!(" from the trace, piece {done} of {of}"),
            None => String::new(),
        };
        format!(
            "Selection: {} — summing its spans{how}…",
            format_duration(duration_ns)
        )
    }
}

/// An open trace and everything about how it is shown.
pub struct Doc {
    /// The file and the model this document shows.
    pub trace: OpenTrace,
    pub load_secs: f64,
    /// Set while this shows only the start of the trace, the rest still loading (see
    /// `model::build_previewing`).
    pub preview: bool,
    pub view: TimelineView,
    pub mode: LaneMode,
    pub sort: LaneSort,
    pub collapsed: BTreeSet<String>,
    /// Goroutine view limited to these goroutines (the first is the one of interest).
    pub focus: Option<Vec<i64>>,
    pub selected: Option<Pick>,
    pub geometry: Geometry,
    rows: Vec<Row>,
    rows_key: Option<RowsKey>,
    /// The selection's summary, for the range it was made for: summed on this thread for
    /// a short selection, in the background for a long one or one over an overview
    /// (`summarize_selection`).
    pub selection_summary: Option<((f64, f64), SelectionJob)>,
    /// Events a selection may hold (estimated from its share of the trace) and still be
    /// summed on the UI thread (`analyses::INLINE_EVENTS`; a whole-trace selection of the
    /// benchmark trace takes 0.17 s to sum).
    pub inline_summary_events: f64,
    /// Whether the selection panel is shown (set after each frame's timeline input).
    pub selection_panel: bool,
    /// The dock's open tab (None: the dock is closed).
    pub tab: Option<Tab>,
    /// The findings, computed in the background when the tab is first shown.
    pub findings: Option<Slot<Arc<Vec<goscope_analysis::findings::Finding>>>>,
    /// The Findings tab's filter and collapsed groups.
    pub findings_view: crate::findingsview::FindingsView,
    /// The goroutine analysis and profiles, computed in the background after loading.
    pub analyses: Option<AnalysesSlot>,
    pub goroutines_view: GoroutinesView,
    pub profiles_view: ProfilesView,
    pub tasks_view: TasksView,
    pub heatmap_view: super::heatmap::HeatmapView,
    pub gc_view: GcView,
    pub search: SearchBar,
    /// For a trace opened as an overview: the windows of generations built for the view.
    pub detail: super::detail::Detail,
    /// What the timeline drew last frame: a window of the overview, or `trace` itself
    /// (spans picked on the timeline are that model's).
    pub shown: Option<(OpenTrace, super::detail::Shown)>,
    /// The model whose lane spans a span in `selected` indexes: the overview (`trace`) or
    /// the window shown. When the timeline shows another, the pick is found again there
    /// by time (`remap_span_pick`).
    pub selected_in: Option<super::loader::TraceId>,
}

impl Doc {
    pub fn new(trace: OpenTrace, load_secs: f64) -> Doc {
        let view = TimelineView::new(trace.model.start_ns, trace.model.end_ns);
        Doc {
            trace,
            load_secs,
            preview: false,
            view,
            mode: LaneMode::Procs,
            sort: LaneSort::Id,
            collapsed: BTreeSet::new(),
            focus: None,
            selected: None,
            geometry: Geometry::default(),
            rows: Vec::new(),
            rows_key: None,
            selection_summary: None,
            inline_summary_events: super::analyses::INLINE_EVENTS,
            selection_panel: false,
            tab: None,
            findings: None,
            findings_view: Default::default(),
            analyses: None,
            goroutines_view: GoroutinesView::new(),
            profiles_view: ProfilesView::new(),
            tasks_view: TasksView::new(),
            heatmap_view: Default::default(),
            gc_view: GcView::new(),
            search: SearchBar::default(),
            detail: Default::default(),
            shown: None,
            selected_in: None,
        }
    }

    /// The model the selected pick's span index refers to.
    pub fn pick_model(&self) -> &Arc<goscope_model::Model> {
        match &self.shown {
            Some((t, _)) if Some(t.id) == self.selected_in => &t.model,
            _ => &self.trace.model,
        }
    }

    /// The model the timeline shows, whose spans a pick on it refers to: a window of an
    /// overview, or the document's model.
    pub fn span_trace(&self) -> &OpenTrace {
        self.shown.as_ref().map_or(&self.trace, |(t, _)| t)
    }

    /// Starts the summary of the selection `[a, b)` (absolute ns), stopping the one under
    /// way. The model shown holds every span of it unless it is an overview that no
    /// window shown covers there: then the spans are the trace's own, ordered again from
    /// its bytes piece by piece in the background (`SelectionSummary::compute_in_pieces`),
    /// since an overview sums its short spans per bucket. Otherwise a short selection is
    /// summed on this thread, a long one in the background.
    pub(crate) fn summarize_selection(&mut self, a: f64, b: f64, ctx: &egui::Context) {
        use goscope_analysis::selection::SelectionSummary;
        if let Some((_, old)) = &self.selection_summary {
            old.pieces.stop();
        }
        let shown = self.span_trace().model.clone();
        let in_shown =
            shown.overview_bucket_ns == 0 && shown.start_ns as f64 <= a && b <= shown.end_ns as f64;
        let pieces = Pieces::default();
        let so_far = Arc::new(Mutex::new(None));
        let slot = match self.trace.resumes.clone().filter(|_| !in_shown) {
            Some(resumes) => {
                let (file, overview) = (self.trace.file.clone(), self.trace.model.clone());
                let (pieces, repaint) = (pieces.clone(), ctx.clone());
                let so_far = so_far.clone();
                Slot::spawn("selection", ctx, move || {
                    SelectionSummary::compute_in_pieces(
                        &*file,
                        &resumes,
                        &overview,
                        a,
                        b,
                        SELECTION_PIECE_FILE_BYTES,
                        pieces.cancel(),
                        &mut |done, of, summed| {
                            if let Ok(mut s) = so_far.lock() {
                                *s = Some(summed());
                            }
                            pieces.report(&repaint, done, of);
                        },
                    )
                    .map_err(|e| format!("the selection could not be summed: {e}"))
                })
            }
            None => {
                let share = (b - a) / self.trace.model.duration_ns().max(1) as f64;
                let sum = move || Ok(SelectionSummary::compute(&shown, a, b));
                if self.trace.model.events as f64 * share <= self.inline_summary_events {
                    Slot::Done(sum())
                } else {
                    Slot::spawn("selection", ctx, sum)
                }
            }
        };
        let job = SelectionJob {
            slot,
            pieces,
            so_far,
        };
        self.selection_summary = Some(((a, b), job));
    }

    /// The rows for the current mode, recomputed only when the mode, order or groups change.
    /// Takes over what the user did on `preview` (the start of the same trace) once
    /// the whole trace is in: the visible range unless it was never moved from the
    /// preview's own extent, scroll, lane mode, sort, collapsed groups, focus, open tab,
    /// range selection, history and search query; a picked goroutine, P or thread span is
    /// found again by its lane's id (spans are appended in time order, so a span keeps its
    /// index).
    fn carry_over(&mut self, preview: Doc) {
        let v = &preview.view;
        let untouched = v.start_ns == v.trace_start_ns && v.end_ns == v.trace_end_ns;
        if !untouched {
            self.view.start_ns = v.start_ns;
            self.view.end_ns = v.end_ns;
        }
        self.view.scroll_y = v.scroll_y;
        self.view.clock = v.clock;
        self.view.history = preview.view.history;
        self.view.future = preview.view.future;
        self.view.selection = preview.view.selection;
        self.mode = preview.mode;
        self.sort = preview.sort;
        self.collapsed = preview.collapsed;
        self.focus = preview.focus;
        self.tab = preview.tab;
        self.selection_panel = preview.selection_panel;
        self.search = preview.search.carried_over();
        let (old, new) = (&preview.trace.model, &self.trace.model);
        self.selected = match preview.selected {
            Some(Pick::GSpan { g, span }) => old
                .goroutines
                .get(g)
                .and_then(|gr| new.goroutine_index(gr.id))
                .map(|g| Pick::GSpan { g, span }),
            Some(Pick::PSpan { p, span }) => old
                .procs
                .get(p)
                .and_then(|pr| new.procs.iter().position(|x| x.id == pr.id))
                .map(|p| Pick::PSpan { p, span }),
            Some(Pick::MSpan { m, span }) => old
                .threads
                .get(m)
                .and_then(|th| new.threads.iter().position(|x| x.id == th.id))
                .map(|m| Pick::MSpan { m, span }),
            Some(Pick::Folded {
                start_ns, end_ns, ..
            }) => Some(Pick::Folded {
                start_ns,
                end_ns,
                column: None,
            }),
            _ => None,
        };
    }

    pub(crate) fn rows(&mut self) -> &[Row] {
        // Compare in place: cloning the key every frame would copy the focus list.
        let fresh = self.rows_key.as_ref().is_some_and(|(m, s, c, f)| {
            *m == self.mode && *s == self.sort && *c == self.collapsed && *f == self.focus
        });
        if !fresh {
            self.rows = lanes::rows(
                &self.trace.model,
                self.mode,
                self.sort,
                &self.collapsed,
                self.focus.as_deref(),
            );
            self.rows_key = Some((
                self.mode,
                self.sort,
                self.collapsed.clone(),
                self.focus.clone(),
            ));
        }
        &self.rows
    }

    /// Shows goroutine `g` at time `t_ns`: goroutine view, its lane scrolled into view and
    /// the span there selected.
    /// Selects task `i` (its details in the panel: goroutines, regions' times), opens the
    /// tasks lanes (in the processor view) scrolled to its level, and frames it.
    pub fn show_task(&mut self, i: usize) {
        let Some(t) = self.trace.model.tasks.get(i) else {
            return;
        };
        let a = t.start_ns.unwrap_or(self.trace.model.start_ns);
        let b = t.end_ns.unwrap_or(self.trace.model.end_ns);
        self.mode = LaneMode::Procs;
        self.focus = None;
        self.collapsed.remove("tasks");
        self.selected = Some(Pick::Task(i));
        self.view.show_range(a as f64, b.max(a + 1000) as f64);
        let level = lanes::task_levels(&self.trace.model)
            .iter()
            .position(|l| l.contains(&i))
            .unwrap_or(0);
        self.scroll_to_row(&Row::Tasks(level));
    }

    /// Shows goroutine `g`'s lane (in the goroutine view, its group open, scrolled to)
    /// with the view framing its whole life, and no span selected.
    pub fn show_goroutine_life(&mut self, g: i64) {
        let Some(gr) = self.trace.model.goroutine(g) else {
            return;
        };
        let a = gr.first_ns();
        let b = gr.spans.last().map_or(a, |s| s.end_ns).max(a + 1000);
        self.jump_to_goroutine(g, a);
        self.selected = None;
        self.view.show_range(a as f64, b as f64);
    }

    pub fn jump_to_goroutine(&mut self, g: i64, t_ns: i64) {
        self.jump_to_goroutine_showing(g, t_ns, t_ns);
    }

    /// `jump_to_goroutine`, showing at least `t_ns..end_ns` besides the span.
    pub fn jump_to_goroutine_showing(&mut self, g: i64, t_ns: i64, end_ns: i64) {
        let Some(gi) = self.trace.model.goroutine_index(g) else {
            return;
        };
        self.mode = LaneMode::Goroutines;
        if let Some(f) = &self.focus {
            if !f.contains(&g) {
                self.focus = None;
            }
        }
        let name = self
            .trace
            .model
            .string(self.trace.model.goroutines[gi].start_fn)
            .to_string();
        self.collapsed.remove(&format!(
            "fn:{}",
            if name.is_empty() {
                "(unknown start)"
            } else {
                &name
            }
        ));
        let spans = &self.trace.model.goroutines[gi].spans;
        let si = spans
            .count_ending_by(t_ns)
            .min(spans.len().saturating_sub(1));
        if let Some(s) = spans.get(si) {
            self.selected = Some(Pick::GSpan { g: gi, span: si });
            self.selected_in = Some(self.trace.id);
            let (a, b) = (s.start_ns.min(t_ns) as f64, s.end_ns.max(end_ns) as f64);
            if a < self.view.start_ns
                || b > self.view.end_ns
                || (b - a) < self.view.span_ns() * 0.01
            {
                self.view.show_range(a, b.max(a + 1000.0));
            }
        }
        self.scroll_to_row(&Row::Goroutine(gi));
    }

    pub(crate) fn scroll_to_row(&mut self, row: &Row) {
        let rows = self.rows().to_vec();
        let mut y = 0.0;
        for r in &rows {
            if r == row {
                let visible = (self.geometry.plot.height() - 250.0).max(100.0);
                if y < self.view.scroll_y || y > self.view.scroll_y + visible {
                    self.view.scroll_y = (y - 40.0).max(0.0);
                }
                return;
            }
            y += lanes::row_height(r);
        }
    }

    /// The dock's analyses, computed in the background over the whole file; `None` while
    /// they run (or while this is a preview: they start with the whole model).
    pub fn analyses(&mut self, ctx: &egui::Context) -> Option<Result<Arc<Analyses>, String>> {
        if self.preview {
            return None;
        }
        let slot = self.analyses.get_or_insert_with(|| {
            let file = self.trace.file.clone();
            Slot::spawn("analyses", ctx, move || {
                Analyses::compute(file).map(Arc::new)
            })
        });
        match slot.get() {
            Some(an) => Some(an.clone()),
            None => slot.failure().map(|e| Err(e.to_string())),
        }
    }

    /// Shows a search result.
    pub(crate) fn show_hit(&mut self, hit: &Hit) {
        match *hit {
            Hit::Goroutine { g, .. } => self.show_goroutine_life(g),
            Hit::Span { g, t_ns, .. } => self.jump_to_goroutine(g, t_ns),
            Hit::Proc(i) => {
                self.mode = LaneMode::Procs;
                self.collapsed.remove("procs");
                self.scroll_to_row(&Row::Proc(i));
            }
            Hit::Thread(i) => {
                self.mode = LaneMode::Threads;
                self.collapsed.remove("threads");
                self.scroll_to_row(&Row::Thread(i));
            }
            Hit::Task(i) => self.show_task(i),
            Hit::Region { g, t_ns, .. } => self.jump_to_goroutine(g, t_ns),
            Hit::Log(i) => {
                if let Some(l) = self.trace.model.logs.get(i) {
                    let (g, t_ns) = (l.g, l.time_ns);
                    self.jump_to_goroutine(g, t_ns);
                }
            }
        }
    }

    /// Does what a panel or view asked for.
    pub fn apply(&mut self, action: panels::Action) {
        match action {
            panels::Action::None => {}
            panels::Action::Jump { g, t_ns } => self.jump_to_goroutine(g, t_ns),
            panels::Action::ShowGoroutine(g) => self.show_goroutine_life(g),
            panels::Action::ShowTask(i) => self.show_task(i),
            panels::Action::Focus(g) => {
                let picked = self
                    .selected_gspan()
                    .filter(|(gr, _)| gr.id == g)
                    .map(|(_, s)| s.start_ns);
                self.focus_goroutine(g);
                // The goroutine's whole life, with the clicked span (inside it) kept
                // selected.
                self.show_goroutine_life(g);
                if let Some(t_ns) = picked {
                    self.jump_to_goroutine(g, t_ns);
                }
            }
            panels::Action::ShowRange(a, b) => self.view.show_range(a as f64, b as f64),
            // The search bar searches (in the background on a large trace) and shows the
            // first match when it is in.
            panels::Action::Find(text) => self.search.find(text),
            panels::Action::Profiles { label, goroutines } => {
                self.tab = Some(Tab::Profiles);
                self.profiles_view.show_goroutines(label, goroutines);
            }
        }
    }

    /// Limits the goroutine view to `g` and the goroutines it interacted with.
    pub(crate) fn focus_goroutine(&mut self, g: i64) {
        self.focus = Some(lanes::related_goroutines(&self.trace.model, g));
        self.mode = LaneMode::Goroutines;
        self.view.scroll_y = 0.0;
    }
}

/// Entries completing a typed path: in the directory it names (the working directory for
/// a bare name), the subdirectories (ending in the separator) and the files that look like
/// traces (`.trace`, `.out`, or "trace" in the name) whose names start with what follows
/// the last separator. Hidden entries only when asked for with a leading dot; at most 12,
/// directories first, by name.
pub fn path_completions(input: &str) -> Vec<String> {
    let sep = std::path::MAIN_SEPARATOR;
    let (dir, prefix) = match input.rfind(sep) {
        Some(i) => (&input[..=i], &input[i + 1..]),
        None => ("", input),
    };
    let Ok(entries) = std::fs::read_dir(if dir.is_empty() { "." } else { dir }) else {
        return Vec::new();
    };
    let mut found: Vec<(bool, String)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            if !name.starts_with(prefix) || (name.starts_with('.') && !prefix.starts_with('.')) {
                return None;
            }
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
            let lower = name.to_lowercase();
            let tracey =
                lower.ends_with(".trace") || lower.ends_with(".out") || lower.contains("trace");
            (is_dir || tracey).then_some((!is_dir, name))
        })
        .collect();
    found.sort();
    found
        .into_iter()
        .take(12)
        .map(|(is_file, name)| {
            if is_file {
                format!("{dir}{name}")
            } else {
                format!("{dir}{name}{sep}")
            }
        })
        .collect()
}

/// Room kept at the top bar's right for the Legend and ? buttons.
const TOP_BAR_RIGHT_PT: f32 = 90.0;

/// The details panel's width until the user drags it.
const DETAILS_PANEL_PT: f32 = 500.0;

/// The Go version that writes trace format `v` ("1.22" for 22), for messages.
/// "started 2026-11-26 14:30:10 UTC  ·  " for a trace with a clock snapshot (in the zone
/// the axis shows, local unless it shows UTC), else nothing.
fn started_text(m: &goscope_model::Model, clock: AxisClock) -> String {
    let clock = if clock == AxisClock::Utc {
        AxisClock::Utc
    } else {
        AxisClock::Local
    };
    let Some(zero) = super::clock::axis_zero_ns(m, clock) else {
        return String::new();
    };
    let sec = m.clock.map_or(0, |c| c.unix_sec_nsec(m.start_ns).0);
    format!(
        "started {} {}  ·  ",
        super::clock::date_time(zero),
        super::clock::zone_name(clock, sec)
    )
}

fn go_version_of(format_version: u32) -> String {
    format!("1.{format_version}")
}

/// The application.
pub struct GoscopeApp {
    pub doc: Option<Doc>,
    pub loader: Option<Loader>,
    /// While a preview is shown: the document it replaced (none if there was none), put
    /// back if the load fails or is cancelled.
    before_preview: Option<Option<Doc>>,
    pub error: Option<String>,
    pub recent: Vec<PathBuf>,
    pub path_input: String,
    pub dialog_note: Option<String>,
    pub show_help: bool,
    /// The colour legend's window is open.
    pub show_legend: bool,
    /// The Capture dialog's fields, and whether it is shown.
    pub capture_form: CaptureForm,
    pub show_capture: bool,
    /// The capture running, if any.
    pub capturing: Option<Capturing>,
    /// Why the last capture failed.
    pub capture_error: Option<String>,
    /// The window title last sent to the window.
    title_sent: String,
    /// The window was checked against the screen's size.
    fitted: bool,
    ctx: egui::Context,
    /// Files at least this long open as an overview (`loader::overview_bytes`).
    pub overview_from_bytes: u64,
}

impl GoscopeApp {
    pub fn new(cc: &eframe::CreationContext<'_>, path: Option<PathBuf>) -> Self {
        let mut app = Self::with_loader(cc, None);
        if let Some(p) = path {
            app.open(&p);
        }
        app
    }

    /// The app, taking over a load started before its window was made (`early_load`),
    /// which then draws to this window.
    pub fn with_loader(cc: &eframe::CreationContext<'_>, early: Option<EarlyLoad>) -> Self {
        let recent = cc
            .storage
            .and_then(|s| s.get_string(RECENT_KEY))
            .map(|s| {
                s.lines()
                    .filter(|l| !l.is_empty())
                    .map(PathBuf::from)
                    .collect()
            })
            .unwrap_or_default();
        let mut capture_form = CaptureForm::default();
        if let Some(s) = cc.storage {
            if let Some(a) = s.get_string(CAPTURE_ADDRESSES_KEY) {
                capture_form.addresses = a
                    .lines()
                    .filter(|l| !l.is_empty())
                    .map(String::from)
                    .collect();
                if let Some(first) = capture_form.addresses.first() {
                    capture_form.address = first.clone();
                }
            }
            if let Some(d) = s.get_string(CAPTURE_DIR_KEY).filter(|d| !d.is_empty()) {
                capture_form.dir = d;
            }
        }
        let mut app = GoscopeApp {
            recent,
            capture_form,
            ..GoscopeApp::headless(cc.egui_ctx.clone())
        };
        if let Some(early) = early {
            let _ = early.ctx.set(cc.egui_ctx.clone());
            app.loader = Some(early.loader);
        }
        app
    }

    /// An app without a window or storage (benchmarks, tools).
    pub fn headless(ctx: egui::Context) -> Self {
        GoscopeApp {
            doc: None,
            loader: None,
            before_preview: None,
            error: None,
            recent: Vec::new(),
            path_input: String::new(),
            dialog_note: None,
            show_help: false,
            show_legend: false,
            capture_form: CaptureForm::default(),
            show_capture: false,
            capturing: None,
            capture_error: None,
            title_sent: String::new(),
            fitted: false,
            ctx,
            overview_from_bytes: super::loader::overview_bytes(),
        }
    }

    /// Starts loading a trace in the background; the open one stays until it succeeds.
    pub fn open(&mut self, path: &Path) {
        if let Some(l) = &self.loader {
            l.cancel();
        }
        // A capture running goes on into its file, no longer shown.
        if let Some(c) = &mut self.capturing {
            c.shown = false;
        }
        let ctx = Arc::new(std::sync::OnceLock::from(self.ctx.clone()));
        self.loader = Some(Loader::start_open(
            path,
            self.overview_from_bytes,
            repainter(ctx),
        ));
    }

    pub fn is_loading(&self) -> bool {
        self.loader.is_some()
    }

    fn poll_loader(&mut self) {
        let Some(l) = &self.loader else { return };
        if let Some(p) = l.take_preview() {
            if !l.is_cancelled() {
                log_load(&format!(
                    "preview of {} events ({}) after {:.0} ms",
                    p.trace.model.events,
                    format_duration(p.trace.model.duration_ns() as f64),
                    p.secs * 1e3
                ));
                let mut doc = Doc::new(p.trace, p.secs);
                doc.preview = true;
                let previous = self.doc.replace(doc);
                self.before_preview.get_or_insert(previous);
                // The banner changes the top panel's height: lay the window out again now
                // rather than at the next stage change.
                self.ctx.request_repaint();
            }
        }
        let Some(result) = l.take_result() else {
            return;
        };
        let path = l.path.clone();
        let kind = l.kind;
        let cancelled = l.is_cancelled();
        self.loader = None;
        let replaced = self.before_preview.take();
        match result {
            Ok((trace, secs)) => {
                let model = &trace.model;
                log_load(&format!(
                    "{} events ({}) loaded after {:.0} ms",
                    model.events,
                    format_duration(model.duration_ns() as f64),
                    secs * 1e3
                ));
                self.remember_recent(&path);
                self.error = None;
                let mut doc = Doc::new(trace, secs);
                if let Some(previous) = self.doc.take() {
                    let same_preview = replaced.is_some()
                        && previous.preview
                        && Arc::ptr_eq(&previous.trace.file, &doc.trace.file);
                    // A capture's model grows: what the user did on the generations shown
                    // so far carries over to the next.
                    let same_capture =
                        kind != LoadKind::Open && previous.trace.path() == doc.trace.path();
                    if same_preview || same_capture {
                        doc.carry_over(previous);
                    }
                }
                // Start the dock's analyses now, so a tab opened later has them ready (a
                // capture's only once it has ended).
                doc.preview = matches!(kind, LoadKind::CapturePrefix { .. });
                if !doc.preview {
                    let _ = doc.analyses(&self.ctx);
                }
                self.doc = Some(doc);
            }
            Err(e) => {
                if let Some(previous) = replaced {
                    self.doc = previous;
                }
                if !cancelled {
                    self.error = Some(e);
                }
            }
        }
        // The preview, or the trace this one replaced, is gone.
        let t0 = Instant::now();
        goscope_model::give_back_freed_memory();
        log_load(&format!(
            "freed memory given back in {:.1} ms",
            t0.elapsed().as_secs_f64() * 1e3
        ));
    }

    /// Starts capturing `target` into the captures folder; the open trace stays until the
    /// first generation arrives.
    pub fn start_capture(&mut self, target: goscope_capture::Target) {
        if let Some(c) = &mut self.capturing {
            c.stop();
        }
        let dir = PathBuf::from(self.capture_form.dir.trim());
        let ctx = self.ctx.clone();
        match Capturing::start(&target, &dir, move || ctx.request_repaint()) {
            Ok(c) => {
                self.capture_form.remember(&target.address);
                self.capture_error = None;
                self.show_capture = false;
                self.capturing = Some(c);
            }
            Err(e) => self.capture_form.problem = Some(e),
        }
    }

    /// Loads a running capture's complete generations as they arrive (one load at a time,
    /// of the latest complete prefix), and its file once it ends.
    fn poll_capture(&mut self) {
        let Some(c) = &mut self.capturing else { return };
        if self.loader.is_some() {
            return;
        }
        let progress = c.progress();
        let ctx = Arc::new(std::sync::OnceLock::from(self.ctx.clone()));
        match c.end() {
            None => {
                if c.shown && progress.generations > c.shown_generations {
                    c.shown_generations = progress.generations;
                    let kind = LoadKind::CapturePrefix {
                        complete_bytes: progress.complete_bytes,
                    };
                    self.loader = Some(Loader::start_kind(&c.path, kind, repainter(ctx)));
                }
                self.ctx.request_repaint_after(CAPTURE_REPAINT);
            }
            Some(end) => {
                let path = c.path.clone();
                let kept = c.kept_a_file();
                let shown = c.shown;
                self.capturing = None;
                match end {
                    Ok(done) if done.progress.generations == 0 => {
                        self.capture_error = Some(format!(
                            "the capture ended before a generation was complete ({} received, kept in {})",
                            goscope_capture::arrival::bytes_text(done.progress.received_bytes),
                            path.display()
                        ));
                        return;
                    }
                    Ok(_) => {}
                    Err(e) => self.capture_error = Some(e),
                }
                if kept && shown {
                    self.loader = Some(Loader::start_kind(
                        &path,
                        LoadKind::CaptureEnd,
                        repainter(ctx),
                    ));
                } else if kept {
                    self.remember_recent(&path);
                }
            }
        }
    }

    fn remember_recent(&mut self, path: &Path) {
        let p = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        self.recent.retain(|x| x != &p);
        self.recent.insert(0, p);
        self.recent.truncate(MAX_RECENT);
    }

    /// Shows the native open dialog; if none can be shown, says so and offers the path field.
    pub(crate) fn open_dialog(&mut self) {
        if !super::dialog::available() {
            self.dialog_note = Some(
                "No file dialog is available here (no desktop portal on a D-Bus session). Type the trace's path below, or drop the file onto the window.".into(),
            );
            return;
        }
        let t0 = Instant::now();
        let picked = rfd::FileDialog::new()
            .set_title("Open a Go execution trace")
            .pick_file();
        match picked {
            Some(p) => {
                self.dialog_note = None;
                self.open(&p);
            }
            None if t0.elapsed().as_millis() < 150 => {
                self.dialog_note = Some(
                    "The file dialog could not be shown (is a desktop portal running?). Type the trace's path below, or drop the file onto the window.".into(),
                );
            }
            None => {}
        }
    }

    fn handle_dropped_files(&mut self, ctx: &egui::Context) {
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        });
        if let Some(p) = dropped.into_iter().next() {
            self.open(&p);
        }
    }

    fn keys(&mut self, ctx: &egui::Context) {
        if ctx.egui_wants_keyboard_input() {
            return;
        }
        let (ctrl_o, ctrl_shift_o, ctrl_f, help, esc) = ctx.input(|i| {
            (
                pressed_with_command_shift(i, Key::O, false),
                pressed_with_command_shift(i, Key::O, true),
                pressed_with_command(i, Key::F),
                i.key_pressed(Key::Questionmark)
                    || i.events
                        .iter()
                        .any(|e| matches!(e, egui::Event::Text(t) if t == "?")),
                i.key_pressed(Key::Escape),
            )
        });
        if ctrl_o {
            self.open_dialog();
        }
        if ctrl_shift_o {
            self.show_capture = true;
        }
        if help {
            self.show_help = !self.show_help;
        }
        if esc && self.show_help {
            self.show_help = false;
        }
        let Some(doc) = self.doc.as_mut() else { return };
        if ctrl_f {
            doc.search.open();
        }
        let (w, s, a, d, pressed, home, z, (back, forward), anchor, ctrl) = ctx.input(|i| {
            let pressed = [Key::W, Key::S, Key::A, Key::D]
                .iter()
                .any(|k| i.key_pressed(*k));
            let anchor = i
                .pointer
                .hover_pos()
                .filter(|p| doc.geometry.plot.contains(*p))
                .map(|p| {
                    ((p.x - doc.geometry.plot.left()) / doc.geometry.plot.width().max(1.0)) as f64
                });
            let dt = i.stable_dt.clamp(0.001, 0.1) as f64;
            // Seconds of motion this frame: a frame's worth while a key is held, and a tap's
            // worth for a key pressed and released before this frame (a quick tap, or keys
            // sent by a remote desktop or xdotool), which would otherwise move nothing.
            let motion = |k: Key| {
                if i.key_down(k) {
                    dt
                } else if i.key_pressed(k) {
                    TAP_SECS
                } else {
                    0.0
                }
            };
            (
                motion(Key::W),
                motion(Key::S),
                motion(Key::A),
                motion(Key::D),
                pressed,
                i.key_pressed(Key::Home) || i.key_pressed(Key::Num0),
                i.key_pressed(Key::Z),
                // Backspace or the mouse's back button; with Shift, or the forward button,
                // forward again.
                (
                    (i.key_pressed(Key::Backspace) && !i.modifiers.shift)
                        || i.pointer.button_pressed(egui::PointerButton::Extra1),
                    (i.key_pressed(Key::Backspace) && i.modifiers.shift)
                        || i.pointer.button_pressed(egui::PointerButton::Extra2),
                ),
                anchor,
                i.modifiers.command,
            )
        });
        if ctrl {
            return;
        }
        if pressed {
            doc.view.remember();
        }
        let anchor = anchor.unwrap_or(0.5);
        // Held keys move smoothly: about 4× zoom and one screen width of pan per second.
        if w > 0.0 {
            doc.view.zoom((-1.4 * w).exp(), anchor);
        }
        if s > 0.0 {
            doc.view.zoom((1.4 * s).exp(), anchor);
        }
        if a > 0.0 {
            doc.view.pan(-a);
        }
        if d > 0.0 {
            doc.view.pan(d);
        }
        if w + s + a + d > 0.0 {
            ctx.request_repaint();
        }
        if home {
            doc.view.fit();
        }
        if z {
            doc.view.zoom_to_selection();
        }
        if back {
            doc.view.back();
        }
        if forward {
            doc.view.forward();
        }
        if esc {
            if doc.view.selection.is_some() {
                doc.view.selection = None;
            } else {
                doc.selected = None;
            }
        }
        let (up, down) = ctx.input(|i| (i.key_pressed(Key::PageUp), i.key_pressed(Key::PageDown)));
        let page = (doc.geometry.plot.height() - 200.0).max(60.0);
        if up {
            doc.view.scroll_y -= page;
        }
        if down {
            doc.view.scroll_y += page;
        }
    }

    fn top_bar_ui(&mut self, ui: &mut Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui.button("Open…  (Ctrl+O)").clicked() {
                    ui.close();
                    self.open_dialog();
                }
                if ui.button("Capture…  (Ctrl+Shift+O)").clicked() {
                    ui.close();
                    self.show_capture = true;
                }
                if !self.recent.is_empty() {
                    ui.separator();
                    let recent = self.recent.clone();
                    for p in recent {
                        if ui.button(p.display().to_string()).clicked() {
                            ui.close();
                            self.open(&p);
                        }
                    }
                }
                ui.separator();
                if ui.button("Quit").clicked() {
                    ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
                }
            });
            if let Some(doc) = self.doc.as_mut() {
                ui.separator();
                for m in [LaneMode::Procs, LaneMode::Goroutines, LaneMode::Threads] {
                    if ui.selectable_label(doc.mode == m, m.name()).clicked() {
                        doc.mode = m;
                        doc.view.scroll_y = 0.0;
                    }
                }
                egui::ComboBox::from_label("order")
                    .selected_text(doc.sort.name())
                    .show_ui(ui, |ui| {
                        for s in [LaneSort::Id, LaneSort::Start, LaneSort::Busy] {
                            ui.selectable_value(&mut doc.sort, s, s.name());
                        }
                    });
                ui.separator();
                for t in Tab::ALL {
                    if ui.selectable_label(doc.tab == Some(t), t.name()).clicked() {
                        doc.tab = if doc.tab == Some(t) { None } else { Some(t) };
                    }
                }
                if doc.focus.is_some() && ui.button("Show all goroutines").clicked() {
                    doc.focus = None;
                }
                ui.separator();
                if doc.trace.model.clock.is_some() {
                    egui::ComboBox::from_id_salt("axis-clock")
                        .selected_text(doc.view.clock.name())
                        .show_ui(ui, |ui| {
                            for c in AxisClock::ALL {
                                ui.selectable_value(&mut doc.view.clock, c, c.name());
                            }
                        })
                        .response
                        .on_hover_text("What the time axis counts (the trace's clock snapshot gives the wall clock)");
                }
                let m = &doc.trace.model;
                // Cut short (full text on hover) before the Legend and ? buttons on the
                // right, never drawn under them.
                let room = (ui.available_width() - TOP_BAR_RIGHT_PT).max(0.0);
                let started = started_text(m, doc.view.clock);
                let detail = doc
                    .shown
                    .as_ref()
                    .and_then(|(_, s)| s.text())
                    .map(|t| format!("  ·  {t}"))
                    .unwrap_or_default();
                let info = egui::Label::new(
                    RichText::new(format!(
                        "{}{detail}  ·  {started}{}  ·  {} goroutines  ·  {} procs  ·  {} in {:.0} ms",
                        doc.trace
                            .path()
                            .file_name()
                            .map(|f| f.to_string_lossy().to_string())
                            .unwrap_or_default(),
                        format_duration(m.duration_ns() as f64),
                        m.goroutines.len(),
                        m.procs.iter().filter(|p| p.id >= 0).count(),
                        if doc.preview && self.capturing.is_some() {
                            "arrived so far"
                        } else if doc.preview {
                            "first events"
                        } else {
                            "loaded"
                        },
                        doc.load_secs * 1e3
                    ))
                    .small(),
                )
                .truncate();
                ui.allocate_ui(egui::vec2(room, ui.available_height()), |ui| ui.add(info));
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui.button("?").on_hover_text("Keys and gestures").clicked() {
                    self.show_help = !self.show_help;
                }
                if ui
                    .selectable_label(self.show_legend, "Legend")
                    .on_hover_text("What the colours mean")
                    .clicked()
                {
                    self.show_legend = !self.show_legend;
                }
            });
        });
    }

    fn banners_ui(&mut self, ui: &mut Ui) {
        if let Some(e) = self.error.clone() {
            ui.horizontal(|ui| {
                ui.colored_label(
                    Color32::from_rgb(240, 90, 90),
                    format!("Could not open: {e}"),
                );
                if ui.small_button("Dismiss").clicked() {
                    self.error = None;
                }
            });
        }
        if let Some(doc) = &self.doc {
            if doc.trace.file.changed_on_disk() {
                ui.colored_label(
                    Color32::from_rgb(240, 90, 90),
                    format!(
                        "{} was cut short on disk after it was opened: what is shown was read before. \
                         Open it again for the new trace.",
                        doc.trace.file.path().display()
                    ),
                );
            }
            if let Some(w) = &doc.trace.model.warning {
                ui.colored_label(
                    Color32::from_rgb(230, 190, 60),
                    format!(
                        "Partial trace: showing the {} complete generation(s). {w}",
                        doc.trace.model.generations
                    ),
                );
            }
        }
        if let Some(doc) = &self.doc {
            if doc.trace.model.has_no_activity() && !doc.preview {
                ui.colored_label(
                    Color32::from_rgb(230, 190, 60),
                    format!(
                        "This trace holds no events: {} has a trace header (format go {}) and nothing \
                         after it (was tracing stopped at once, or the file cut?).",
                        doc.trace.file.path().display(),
                        go_version_of(doc.trace.model.format_version),
                    ),
                );
            }
        }
        if let Some(doc) = &self.doc {
            if doc.preview && self.capturing.is_none() {
                ui.colored_label(
                    Color32::from_rgb(120, 180, 240),
                    format!(
                        "Showing the trace's first {} while the rest loads.",
                        format_duration(doc.trace.model.duration_ns() as f64)
                    ),
                );
            }
        }
        if let Some(e) = self.capture_error.clone() {
            ui.horizontal(|ui| {
                ui.colored_label(Color32::from_rgb(240, 90, 90), format!("Capture: {e}"));
                if ui.small_button("Dismiss").clicked() {
                    self.capture_error = None;
                }
            });
        }
        if let Some(c) = &mut self.capturing {
            let p = c.progress();
            let mut stop = false;
            ui.horizontal(|ui| {
                // Stop and the time first: the text after them may be cut short.
                stop = !c.stopping
                    && ui
                        .button("Stop")
                        .on_hover_text("Keep what has arrived: the complete generations")
                        .clicked();
                if let Some(s) = c.seconds {
                    let fraction = p.elapsed_ms as f32 / (s as f32 * 1e3);
                    ui.add(
                        egui::ProgressBar::new(fraction.min(1.0))
                            .desired_width(120.0)
                            .text(format!("{:.0} of {s} s", p.elapsed_ms as f64 / 1e3)),
                    );
                }
                let what = if c.stopping { "Stopping" } else { "Capturing" };
                let started_ns =
                    i128::from(c.start_unix_s + super::clock::local_offset_s(c.start_unix_s))
                        * 1_000_000_000;
                ui.add(
                    egui::Label::new(format!(
                        "{what} {} (started {}): {}, saving to {}",
                        c.url,
                        super::clock::time_of_day(started_ns, 0),
                        p.summary(),
                        c.path.display(),
                    ))
                    .truncate(),
                );
            });
            if stop {
                c.stop();
            }
        }
        if let Some(l) = self
            .loader
            .as_ref()
            .filter(|l| !matches!(l.kind, LoadKind::CapturePrefix { .. }))
        {
            let stage = l.stage();
            let mut cancel = false;
            ui.horizontal(|ui| {
                ui.label(format!("Loading {} — {}", l.path.display(), stage.label()));
                ui.add(
                    egui::ProgressBar::new(stage.fraction())
                        .desired_width(240.0)
                        .show_percentage(),
                );
                cancel = ui.button("Cancel").clicked();
            });
            if cancel {
                l.cancel();
            }
        }
    }

    fn start_page_ui(&mut self, ui: &mut Ui) {
        ui.vertical_centered(|ui| {
            ui.add_space(60.0);
            ui.heading("goscope");
            ui.label("A fast viewer for Go execution traces (Go 1.22 and later).");
            ui.add_space(20.0);
            if ui.button(RichText::new("Open trace…").size(18.0)).clicked() {
                self.open_dialog();
            }
            ui.add_space(6.0);
            if ui
                .button(RichText::new("Capture from a running program…").size(16.0))
                .on_hover_text("Ask a Go program that serves net/http/pprof for a trace, and watch it arrive (Ctrl+Shift+O)")
                .clicked()
            {
                self.show_capture = true;
            }
            ui.add_space(8.0);
            ui.label("or drop a trace file onto this window, or type its path:");
            self.path_field_ui(ui);
            if let Some(n) = &self.dialog_note {
                ui.colored_label(Color32::from_rgb(230, 190, 60), n);
            }
            ui.add_space(20.0);
            if !self.recent.is_empty() {
                ui.label(RichText::new("Recent files").strong());
                let recent = self.recent.clone();
                for p in recent {
                    if ui.link(p.display().to_string()).clicked() {
                        self.open(&p);
                    }
                }
            }
            ui.add_space(20.0);
            ui.label(RichText::new("Make a trace: go test -trace=trace.out, or capture one from a program that imports net/http/pprof").small().weak());
        });
    }

    /// The path field, with the directories and trace files that complete what is typed
    /// (click one, or Tab for the first).
    fn path_field_ui(&mut self, ui: &mut Ui) {
        let mut tab = false;
        ui.horizontal(|ui| {
            let field = ui.add(
                egui::TextEdit::singleline(&mut self.path_input)
                    .id_salt("path-field")
                    .hint_text("/path/to/trace.out")
                    .desired_width(360.0),
            );
            tab = field.has_focus() && ui.input_mut(|i| i.consume_key(Modifiers::NONE, Key::Tab));
            let enter = field.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter));
            if (ui.button("Open").clicked() || enter) && !self.path_input.trim().is_empty() {
                let p = PathBuf::from(self.path_input.trim());
                self.open(&p);
            }
        });
        let input = self.path_input.trim();
        if input.is_empty() {
            return;
        }
        let completions = path_completions(input);
        if tab && let Some(first) = completions.first() {
            self.path_input = first.clone();
            return;
        }
        for c in completions {
            if ui.link(RichText::new(&c).monospace().small()).clicked() {
                let is_dir = c.ends_with(std::path::MAIN_SEPARATOR);
                self.path_input = c.clone();
                if !is_dir {
                    self.open(Path::new(&c));
                }
            }
        }
    }

    /// With a trace open, the open dialog's fallback (when no desktop portal answered):
    /// the note, the path field and the recent files, in a window over the timeline.
    fn open_fallback_ui(&mut self, ctx: &egui::Context) {
        let Some(note) = self.dialog_note.clone() else {
            return;
        };
        if self.doc.is_none() {
            return; // the start page shows the same
        }
        let mut open = true;
        egui::Window::new("Open a trace")
            .open(&mut open)
            .collapsible(false)
            .resizable(false)
            .show(ctx, |ui| {
                ui.colored_label(Color32::from_rgb(230, 190, 60), note);
                self.path_field_ui(ui);
                if !self.recent.is_empty() {
                    ui.label(RichText::new("Recent files").strong());
                    for p in self.recent.clone() {
                        if ui.link(p.display().to_string()).clicked() {
                            self.open(&p);
                        }
                    }
                }
            });
        if !open || self.loader.is_some() {
            self.dialog_note = None;
        }
    }

    /// The Capture dialog, when asked for.
    fn capture_dialog_ui(&mut self, ctx: &egui::Context) {
        if !self.show_capture {
            return;
        }
        let mut open = true;
        let mut action = FormAction::None;
        egui::Window::new("Capture from a running program")
            .open(&mut open)
            .collapsible(false)
            .resizable(false)
            .show(ctx, |ui| {
                action = super::capture::form_ui(ui, &mut self.capture_form);
            });
        match action {
            FormAction::Start(t) => self.start_capture(t),
            FormAction::Close => open = false,
            FormAction::None => {}
        }
        if !open {
            self.show_capture = false;
        }
    }

    fn help_ui(&mut self, ctx: &egui::Context) {
        let mut open = self.show_help;
        egui::Window::new("Keys and gestures")
            .open(&mut open)
            .collapsible(false)
            .resizable(false)
            .show(ctx, |ui| {
                ui.horizontal_top(|ui| {
                    ui.vertical(|ui| {
                        egui::Grid::new("help-grid").striped(true).show(ui, |ui| {
                            for (k, what) in panels::HELP {
                                ui.label(RichText::new(*k).monospace());
                                ui.label(*what);
                                ui.end_row();
                            }
                        });
                    });
                    ui.separator();
                    ui.vertical(|ui| panels::legend_ui(ui, "help-legend"));
                });
            });
        self.show_help = open;
        let mut open = self.show_legend;
        egui::Window::new("Colour legend")
            .open(&mut open)
            .collapsible(false)
            .resizable(false)
            .show(ctx, |ui| panels::legend_ui(ui, "legend"));
        self.show_legend = open;
    }

    /// Once, when the monitor's size is known: a window larger than 95% of the screen (the
    /// default 1400×860 on a laptop, or a size remembered from a larger monitor) is made
    /// to fit it.
    fn fit_to_screen(&mut self, ctx: &egui::Context) {
        if self.fitted {
            return;
        }
        let (monitor, inner) = ctx.input(|i| (i.viewport().monitor_size, i.viewport().inner_rect));
        let (Some(monitor), Some(inner)) = (monitor, inner) else {
            return;
        };
        self.fitted = true;
        let room = monitor * 0.95;
        let size = inner.size();
        if size.x > room.x || size.y > room.y {
            ctx.send_viewport_cmd(egui::ViewportCommand::InnerSize(size.min(room)));
        }
    }

    /// The window's title: the open trace's file name (and what is loading), then goscope.
    pub fn window_title(&self) -> String {
        let name = |p: &Path| {
            p.file_name().map_or_else(
                || p.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            )
        };
        if let Some(c) = self.capturing.as_ref().filter(|c| c.shown) {
            return format!(
                "capturing… {} — goscope",
                goscope_capture::target::host_port(&c.url)
            );
        }
        match (&self.doc, &self.loader) {
            (_, Some(l)) => format!("{} (loading…) — goscope", name(&l.path)),
            (Some(d), None) => format!("{} — goscope", name(d.trace.path())),
            (None, None) => "goscope".to_owned(),
        }
    }

    /// Draws one frame (also used by tests through eframe's `App::ui`).
    pub fn frame_ui(&mut self, ui: &mut Ui) {
        let ctx = ui.ctx().clone();
        FRAMES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.poll_loader();
        self.poll_capture();
        self.handle_dropped_files(&ctx);
        self.keys(&ctx);
        self.fit_to_screen(&ctx);
        let title = self.window_title();
        if title != self.title_sent {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title_sent = title;
        }

        egui::Panel::top("top-bar").show(ui, |ui| {
            self.top_bar_ui(ui);
            self.banners_ui(ui);
            if let Some(doc) = self.doc.as_mut() {
                // A trace opened as an overview is searched whole, piece by piece; any
                // other as shown.
                let model = doc.span_trace().model.clone();
                if let Some(hit) = doc.search.ui(ui, &model, &doc.trace) {
                    doc.show_hit(&hit);
                }
            }
        });

        if let Some(doc) = self.doc.as_mut() {
            if let Some(tab) = doc.tab {
                let mut action = panels::Action::None;
                egui::Panel::bottom("dock")
                    .resizable(true)
                    .default_size(340.0)
                    .size_range(120.0..=900.0)
                    .show(ui, |ui| {
                        // Keep the dock's size: a panel otherwise shrinks to what it holds.
                        ui.set_min_height(ui.available_height());
                        action = dock_ui(ui, doc, tab);
                    });
                doc.apply(action);
            }
            // The selection's panel opens the frame after the drag is over, so the plot doesn't
            // change width while the selection is being made.
            let show_selection = doc.selection_panel;
            // A selection cleared (Esc) stops its summary, which may be reading the trace.
            if doc.view.selection.is_none() {
                if let Some((_, job)) = doc.selection_summary.take() {
                    job.pieces.stop();
                }
            }
            let show_side = doc.selected.is_some() || show_selection;
            if show_side {
                let mut action = panels::Action::None;
                // Wide enough for a typical frame (`pkg.(*Type).Method` and its file); the
                // user's width is kept (egui's memory, saved with the window).
                egui::Panel::right("details")
                    .default_size(DETAILS_PANEL_PT)
                    .show(ui, |ui| {
                        egui::ScrollArea::vertical().show(ui, |ui| {
                            if let Some(pick) = doc.selected {
                                action = panels::details_ui(ui, doc.pick_model(), pick);
                                ui.separator();
                            }
                            if let Some(sel) = doc.view.selection.filter(|_| show_selection) {
                                let (a, b) = (sel.0.min(sel.1), sel.0.max(sel.1));
                                let fresh =
                                    doc.selection_summary.as_ref().map(|(k, _)| *k) != Some((a, b));
                                if fresh {
                                    doc.summarize_selection(a, b, ui.ctx());
                                }
                                let span_model = doc.span_trace().model.clone();
                                if let Some((_, job)) = &mut doc.selection_summary {
                                    let pieces = &job.pieces;
                                    let text = || SelectionJob::pending_text(pieces, b - a);
                                    let done = job.slot.get_or_pending_ui(ui, text);
                                    // Under way, or stopped by an error: the part summed
                                    // so far, if any.
                                    let show_part = match done {
                                        Some(Ok(s)) => {
                                            panels::selection_ui(ui, &span_model, s);
                                            false
                                        }
                                        Some(Err(e)) => {
                                            ui.colored_label(ui.visuals().error_fg_color, e);
                                            true
                                        }
                                        None => true,
                                    };
                                    let part = show_part.then(|| job.so_far()).flatten();
                                    if let Some(part) = part {
                                        ui.label(format!(
                                            "So far, its first {} ({:.0} %):",
                                            format_duration(part.end_ns - a),
                                            100.0 * (part.end_ns - a) / (b - a).max(1.0)
                                        ));
                                        panels::selection_ui(ui, &span_model, &part);
                                    }
                                }
                            }
                        });
                    });
                doc.apply(action);
            }
            egui::CentralPanel::default().show(ui, |ui| {
                // Borrow the cached rows out of the doc for this frame (no per-frame copy).
                doc.rows();
                let rows = std::mem::take(&mut doc.rows);
                // A trace opened as an overview shows the window of the generations under
                // the view once it is built. A lane span picked on another model (the
                // overview, or another window) is found again on the one shown, by time.
                let (shown, what) =
                    doc.detail
                        .poll(&doc.trace, doc.view.start_ns, doc.view.end_ns, ui.ctx());
                if let Some(pick) = doc.selected.filter(|p| p.is_span()) {
                    if !Arc::ptr_eq(doc.pick_model(), &shown.model) {
                        doc.selected = remap_span_pick(doc.pick_model(), &shown.model, pick);
                    }
                }
                // A window built in the background comes laid out for the view it was
                // built for.
                if !doc.geometry.lod.is_for(shown.id) {
                    if let Some(layout) = doc.detail.take_layout(shown.id) {
                        doc.geometry.lod = layout;
                    }
                }
                doc.selected_in = Some(shown.id);
                doc.shown = Some((shown.clone(), what));
                let selected_g: Vec<i64> = match doc.selected {
                    Some(Pick::GSpan { g, .. }) => vec![doc.trace.model.goroutines[g].id],
                    _ => Vec::new(),
                };
                let highlight = doc
                    .search
                    .highlight_in(ui.ctx(), &shown, &doc.trace)
                    .unwrap_or(super::marks::Highlight {
                        goroutines: &selected_g,
                        ..Default::default()
                    });
                let out = timeline::timeline_ui(
                    ui,
                    &shown,
                    &mut doc.view,
                    &rows,
                    doc.selected,
                    highlight,
                    &mut doc.geometry,
                );
                doc.detail.note_shown_lanes(&doc.geometry.shown_lanes);
                doc.rows = rows;
                doc.selection_panel = doc.view.selection.is_some() && !doc.view.selecting;
                if let Some(key) = out.toggled_group {
                    if !doc.collapsed.remove(&key) {
                        doc.collapsed.insert(key);
                    }
                }
                if let Some(pick) = out.clicked {
                    match pick {
                        Pick::Folded {
                            start_ns, end_ns, ..
                        } => doc.view.show_range(start_ns as f64, end_ns as f64),
                        p => {
                            doc.selected = Some(p);
                            doc.selected_in = Some(shown.id);
                        }
                    }
                }
                if let Some(Pick::GSpan { g, .. }) = out.double_clicked {
                    let id = doc.trace.model.goroutines[g].id;
                    doc.focus_goroutine(id);
                }
            });
        } else {
            egui::CentralPanel::default().show(ui, |ui| self.start_page_ui(ui));
        }

        // A file dragged over the window.
        let hovering = ctx.input(|i| !i.raw.hovered_files.is_empty());
        if hovering {
            let painter = ctx.layer_painter(egui::LayerId::new(
                egui::Order::Foreground,
                egui::Id::unique("goscope-drop-overlay"),
            ));
            let rect = ctx.content_rect();
            painter.rect_filled(rect, 0.0, Color32::from_black_alpha(160));
            painter.text(
                rect.center(),
                egui::Align2::CENTER_CENTER,
                "Drop a trace to open it",
                egui::FontId::proportional(24.0),
                Color32::WHITE,
            );
        }
        if self.show_help || self.show_legend {
            self.help_ui(&ctx);
        }
        self.open_fallback_ui(&ctx);
        self.capture_dialog_ui(&ctx);
    }
}

/// The dock below the timeline: the open analysis tab.
fn dock_ui(ui: &mut Ui, doc: &mut Doc, tab: Tab) -> panels::Action {
    // The tabs that read only the model.
    match tab {
        Tab::Findings => {
            findings_ui(ui, doc);
            return panels::Action::None;
        }
        Tab::Tasks => return doc.tasks_view.ui(ui, &doc.trace),
        Tab::Procs => return doc.heatmap_view.ui(ui, &doc.trace),
        Tab::Goroutines | Tab::Gc | Tab::Profiles => {}
    }
    // The tabs that read the background analyses.
    let Some(an) = analyses_or_progress(ui, doc) else {
        return panels::Action::None;
    };
    match tab {
        Tab::Goroutines => doc.goroutines_view.ui(ui, &doc.trace, &an),
        Tab::Gc => doc.gc_view.ui(ui, &doc.trace, &an),
        Tab::Findings | Tab::Tasks | Tab::Procs => panels::Action::None,
        Tab::Profiles => {
            let selection_ns = doc
                .view
                .selection
                .filter(|_| !doc.view.selecting)
                .map(|(a, b)| (a.min(b) as i64, a.max(b) as i64));
            doc.profiles_view.ui(ui, doc.trace.id, &an, selection_ns)
        }
    }
}

/// A load started before the window exists, so that opening the window and reading the
/// trace overlap: `GoscopeApp::with_loader` takes it over.
pub struct EarlyLoad {
    loader: Loader,
    /// The window's context, once there is one.
    ctx: Arc<std::sync::OnceLock<egui::Context>>,
}

/// Starts loading `path` before any window is made.
pub fn early_load(path: &Path) -> EarlyLoad {
    let ctx = Arc::new(std::sync::OnceLock::new());
    EarlyLoad {
        loader: Loader::start(path, repainter(ctx.clone())),
        ctx,
    }
}

/// How a load asks the window to repaint: at once for its preview and its result, within
/// `PROGRESS_REPAINT` for a stage change. Until the window exists there is nothing to
/// repaint; its first frame polls the load anyway.
fn repainter(ctx: Arc<std::sync::OnceLock<egui::Context>>) -> impl Fn(bool) + Send + Sync {
    move |now| {
        if let Some(ctx) = ctx.get() {
            if now {
                ctx.request_repaint();
            } else {
                ctx.request_repaint_after(PROGRESS_REPAINT);
            }
        }
    }
}

/// Whether `k` was pressed with Ctrl (⌘ on macOS) and with Shift held or not, as the key
/// event itself says: the modifiers at the frame's end may already be released when the
/// whole chord came within one frame (a quick chord on a slow frame, a remote desktop,
/// xdotool).
fn pressed_with_command_shift(i: &egui::InputState, k: Key, shift: bool) -> bool {
    i.events.iter().any(|e| {
        matches!(e, egui::Event::Key { key, pressed: true, modifiers, .. }
            if *key == k && modifiers.command && modifiers.shift == shift)
    })
}

fn pressed_with_command(i: &egui::InputState, k: Key) -> bool {
    i.events.iter().any(|e| {
        matches!(e, egui::Event::Key { key, pressed: true, modifiers, .. }
            if *key == k && modifiers.command)
    })
}

/// A lane span picked on `from`, found again on `to` (another model of the same trace with
/// the same lanes: an overview and its windows): the span of the same lane that holds the
/// picked one's middle, or the nearest one within `to`'s time.
fn remap_span_pick(
    from: &goscope_model::Model,
    to: &goscope_model::Model,
    pick: Pick,
) -> Option<Pick> {
    fn at<S: goscope_model::spans::Fields>(
        spans: &goscope_model::Spans<S>,
        t_ns: i64,
    ) -> Option<usize> {
        let i = spans.count_ending_by(t_ns);
        (i < spans.len())
            .then_some(i)
            .or(spans.len().checked_sub(1))
    }
    let middle =
        |a: i64, b: i64, m: &goscope_model::Model| (a / 2 + b / 2).clamp(m.start_ns, m.end_ns);
    match pick {
        Pick::GSpan { g, span } => {
            let s = from.goroutines.get(g)?.spans.get(span)?;
            let t = middle(s.start_ns, s.end_ns, to);
            at(&to.goroutines.get(g)?.spans, t).map(|span| Pick::GSpan { g, span })
        }
        Pick::PSpan { p, span } => {
            let s = from.procs.get(p)?.spans.get(span)?;
            let t = middle(s.start_ns, s.end_ns, to);
            at(&to.procs.get(p)?.spans, t).map(|span| Pick::PSpan { p, span })
        }
        Pick::MSpan { m, span } => {
            let s = from.threads.get(m)?.spans.get(span)?;
            let t = middle(s.start_ns, s.end_ns, to);
            at(&to.threads.get(m)?.spans, t).map(|span| Pick::MSpan { m, span })
        }
        other => Some(other),
    }
}

/// The analyses, or a line saying they are being computed (or why they failed).
fn analyses_or_progress(ui: &mut Ui, doc: &mut Doc) -> Option<Arc<Analyses>> {
    match doc.analyses(ui.ctx()) {
        Some(Ok(an)) => Some(an),
        Some(Err(e)) => {
            ui.colored_label(
                Color32::from_rgb(240, 90, 90),
                format!("Analysis failed: {e}"),
            );
            None
        }
        None => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(if doc.preview {
                    "The analyses start once the whole trace is loaded…"
                } else {
                    "Analysing goroutines and blocking profiles…"
                });
            });
            None
        }
    }
}

/// The findings: what to look at first, each with a link to its place in the timeline.
fn findings_ui(ui: &mut Ui, doc: &mut Doc) {
    use goscope_analysis::findings::{self, LaneRef};
    // Findings walk every span of the model: in the background, once per document.
    let slot = doc.findings.get_or_insert_with(|| {
        let model = doc.trace.model.clone();
        Slot::spawn("findings", ui.ctx(), move || {
            Arc::new(findings::findings(&model))
        })
    });
    let Some(list) = slot.get_or_pending_ui(ui, || "Looking for what stands out…".into()) else {
        return;
    };
    let list = list.clone();
    let jump = doc.findings_view.ui(ui, &list);
    if let Some(i) = jump {
        let f = list[i].clone();
        match f.lane {
            // The whole of what it found, which may be more than the span selected: a
            // mark assist goes on over many spans of its goroutine.
            LaneRef::Goroutine(g) => doc.jump_to_goroutine_showing(g, f.start_ns, f.end_ns),
            LaneRef::Proc(_) => {
                doc.mode = LaneMode::Procs;
                doc.view.show_range(f.start_ns as f64, f.end_ns as f64);
            }
            LaneRef::None => doc.view.show_range(f.start_ns as f64, f.end_ns as f64),
        }
    }
}

impl Doc {
    /// The goroutine span selected, if any.
    pub fn selected_gspan(&self) -> Option<(&goscope_model::Goroutine, goscope_model::GSpan)> {
        match self.selected? {
            Pick::GSpan { g, span } => {
                let gr = &self.pick_model().goroutines.get(g)?;
                Some((gr, gr.spans.get(span)?))
            }
            _ => None,
        }
    }
}

impl eframe::App for GoscopeApp {
    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        self.frame_ui(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        let s: Vec<String> = self
            .recent
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        storage.set_string(RECENT_KEY, s.join("\n"));
        storage.set_string(
            CAPTURE_ADDRESSES_KEY,
            self.capture_form.addresses.join("\n"),
        );
        storage.set_string(CAPTURE_DIR_KEY, self.capture_form.dir.clone());
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use super::super::loader::Preview;
    use super::*;
    use crate::testdata;
    use goscope_model::GState;

    /// The stall trace's preview (of its first half) and its whole model, both of one
    /// mapping of the file, as a load makes them.
    fn stall_preview_and_model() -> (Preview, OpenTrace) {
        let file =
            Arc::new(goscope_file::TraceFile::open(&testdata::trace_path("stall-go127")).unwrap());
        let events = testdata::model("stall-go127").events;
        let mut preview = None;
        let mut keep = |m: goscope_model::Model| preview = Some(m);
        let full = goscope_model::build_previewing(
            &*file,
            &AtomicBool::new(false),
            &mut |_| {},
            events / 2,
            Some(&mut keep),
        )
        .unwrap();
        let p = Preview {
            trace: OpenTrace::new(file.clone(), Arc::new(preview.expect("a preview"))),
            secs: 0.1,
        };
        (p, OpenTrace::new(file, Arc::new(full)))
    }

    fn app_with_open_trace() -> GoscopeApp {
        let mut app = GoscopeApp::headless(egui::Context::default());
        let other = OpenTrace::load(&testdata::trace_path("timers-go125")).unwrap();
        app.doc = Some(Doc::new(other, 0.1));
        app
    }

    /// An app with another trace open, loading the stall trace, whose preview is in and
    /// shown; and the stall trace's whole model, to finish the load with.
    fn app_showing_preview() -> (GoscopeApp, OpenTrace, PathBuf) {
        let (preview, full) = stall_preview_and_model();
        let path = testdata::trace_path("stall-go127");
        let mut app = app_with_open_trace();
        app.loader = Some(Loader::by_hand(&path, Some(preview)));
        app.poll_loader();
        (app, full, path)
    }

    #[test]
    fn a_preview_shows_first_and_the_whole_trace_keeps_what_the_user_did() {
        let (mut app, full, path) = app_showing_preview();
        let preview_end = app.doc.as_ref().unwrap().trace.model.end_ns;
        let doc = app.doc.as_mut().expect("the preview is shown");
        assert_eq!(doc.trace.path(), path);
        assert!(doc.preview);
        assert_eq!(doc.trace.model.end_ns, preview_end);
        assert!(app.is_loading());

        // The user zooms into the preview and picks a waiting span.
        let doc = app.doc.as_mut().unwrap();
        let (gi, si) = doc
            .trace
            .model
            .goroutines
            .iter()
            .enumerate()
            .find_map(|(gi, g)| {
                g.spans
                    .iter()
                    .position(|s| s.state == GState::Waiting)
                    .map(|si| (gi, si))
            })
            .unwrap();
        let gid = doc.trace.model.goroutines[gi].id;
        let picked = doc.trace.model.goroutines[gi].spans.at(si);
        doc.view.zoom(0.25, 0.0);
        let range = (doc.view.start_ns, doc.view.end_ns);
        doc.mode = LaneMode::Goroutines;
        doc.selected = Some(Pick::GSpan { g: gi, span: si });
        doc.search.open();
        doc.search.query = "main.".into();

        app.loader.as_ref().unwrap().finish(Ok((full.clone(), 0.5)));
        app.poll_loader();
        assert!(!app.is_loading());
        let doc = app.doc.as_ref().unwrap();
        assert!(!doc.preview);
        assert!(Arc::ptr_eq(&doc.trace.model, &full.model));
        assert!(doc.trace.model.end_ns > preview_end);
        assert_eq!(
            (doc.view.start_ns, doc.view.end_ns),
            range,
            "the zoom is kept"
        );
        assert_eq!(doc.view.trace_end_ns, full.model.end_ns as f64);
        assert_eq!(doc.mode, LaneMode::Goroutines);
        assert!(doc.search.open);
        assert_eq!(doc.search.query, "main.");
        let Some(Pick::GSpan { g, span }) = doc.selected else {
            panic!("the pick is lost: {:?}", doc.selected)
        };
        let s = doc.trace.model.goroutines[g].spans.at(span);
        assert_eq!(doc.trace.model.goroutines[g].id, gid);
        assert_eq!(
            (s.start_ns, s.state, s.reason),
            (picked.start_ns, picked.state, picked.reason)
        );
    }

    #[test]
    fn an_untouched_preview_gives_way_to_the_whole_trace_fitted() {
        let (mut app, full, _) = app_showing_preview();
        app.loader.as_ref().unwrap().finish(Ok((full.clone(), 0.5)));
        app.poll_loader();
        let v = &app.doc.as_ref().unwrap().view;
        assert_eq!(
            (v.start_ns, v.end_ns),
            (full.model.start_ns as f64, full.model.end_ns as f64)
        );
    }

    #[test]
    fn a_cancelled_load_puts_back_the_trace_its_preview_replaced() {
        let (mut app, _, path) = app_showing_preview();
        assert_eq!(app.doc.as_ref().unwrap().trace.path(), path);
        let l = app.loader.as_ref().unwrap();
        l.cancel();
        l.finish(Err("loading was cancelled".into()));
        app.poll_loader();
        let doc = app.doc.as_ref().expect("the earlier trace is back");
        assert!(doc.trace.path().ends_with("timers-go125.trace"));
        assert!(!doc.preview);
        assert!(app.error.is_none(), "a cancel is no error: {:?}", app.error);
    }

    #[test]
    fn a_load_failing_after_its_preview_shows_the_error_over_the_earlier_trace() {
        let (mut app, _, _) = app_showing_preview();
        let l = app.loader.as_ref().unwrap();
        l.finish(Err("stall-go127.trace: broken at offset 1234".into()));
        app.poll_loader();
        let doc = app.doc.as_ref().expect("the earlier trace is back");
        assert!(doc.trace.path().ends_with("timers-go125.trace"));
        assert_eq!(
            app.error.as_deref(),
            Some("stall-go127.trace: broken at offset 1234")
        );
    }

    /// One load maps the file once: the model was built from the mapping the document
    /// holds, and the dock's analyses read that same mapping (not the path again, which
    /// may have been rewritten meanwhile).
    #[test]
    fn a_load_maps_the_file_once_for_the_model_and_the_dock() {
        let ctx = egui::Context::default();
        let mut app = GoscopeApp::headless(ctx.clone());
        app.open(&testdata::trace_path("stall-go127"));
        let t0 = Instant::now();
        while app.is_loading() && t0.elapsed().as_secs() < 30 {
            app.poll_loader();
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let doc = app.doc.as_mut().expect("the trace opened");
        assert!(doc.trace.file.is_mapped());
        let an = loop {
            match doc.analyses(&ctx) {
                Some(Ok(an)) => break an,
                Some(Err(e)) => panic!("{e}"),
                None if t0.elapsed() < crate::testdata::BACKGROUND_WAIT => {
                    std::thread::sleep(std::time::Duration::from_millis(5))
                }
                None => panic!("the analyses did not finish"),
            }
        };
        assert!(
            Arc::ptr_eq(&an.data, &doc.trace.file),
            "the dock read another mapping"
        );
    }

    #[test]
    fn a_preview_runs_no_analyses() {
        let (preview, _) = stall_preview_and_model();
        let ctx = egui::Context::default();
        let mut doc = Doc::new(preview.trace, 0.1);
        doc.preview = true;
        assert!(doc.analyses(&ctx).is_none());
        assert!(doc.analyses.is_none(), "nothing was started");
    }
}
