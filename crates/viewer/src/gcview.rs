//! The GC view: the trace's GC cycles and stop-the-world pauses as sortable, virtualized
//! tables, and the minimum mutator utilization (MMU) curve, computed in the background
//! once per combination of Go's utilization flags.
//!
//! The tables read the model only; the curve re-reads the trace bytes (through
//! `analysis::mmu`) because the utilization functions depend on the flags. Every result
//! is cached, so toggling a flag back shows the earlier curve at once.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use egui::{Align, Layout, RichText, Ui, vec2};
use egui_plot::{GridInput, GridMark, HoverPosition, Line, Plot, Points};

use super::analyses::{Analyses, Slot};
use super::loader::{OpenTrace, TraceId};
use super::panels::Action;
use super::table::{Column, Row, Sort, Table};
use super::view::{format_duration, since_start};
use goscope_analysis::gc::{GcTotals, span_ns};
use goscope_analysis::mmu::{MmuCurve, MmuPoint, UtilFlags, UtilWindow, utilization};
use goscope_model::{GcCycle, Model, Stw};

/// How many worst windows the list shows (as many as `go tool trace`'s /mmu page).
const WORST_WINDOWS: usize = 10;

/// The window size the worst-window list starts with, before the user picks one.
const DEFAULT_WINDOW_NS: f64 = 1e6;

/// Width of the column with the flags and the worst windows, right of the plot.
const MMU_SIDE_WIDTH_PT: f32 = 250.0;

/// The line of totals above the tables.
fn totals_text(t: &GcTotals) -> String {
    format!(
        "{} GC cycles, {} of marking in total · {} stop-the-world pauses, {} in total, longest {}",
        t.gc_cycles,
        format_duration(t.mark_total_ns as f64),
        t.stw_pauses,
        format_duration(t.stw_total_ns as f64),
        format_duration(t.stw_max_ns as f64),
    )
}

/// A column of the GC cycle table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum GcCol {
    /// The cycle's number in the trace, from 1 (the trace's GC sequence numbers count
    /// begin and end events both, so they go 1, 3, 5…).
    Number,
    Start,
    Mark,
}

/// A column of the stop-the-world table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StwCol {
    Kind,
    Start,
    Duration,
    Straggler,
    StragglerP,
}

/// The GC table's columns, in `GC_COL_KEYS` order.
const GC_COLS: [Column; 3] = [
    Column::new("#", 56.0, true),
    Column::new("Start", 0.0, true),
    Column::new("Mark", 0.0, true),
];
const GC_COL_KEYS: [GcCol; 3] = [GcCol::Number, GcCol::Start, GcCol::Mark];

/// The stop-the-world table's columns, in `STW_COL_KEYS` order.
const STW_COLS: [Column; 5] = [
    Column::new("Kind", 0.0, false),
    Column::new("Start", 96.0, true),
    Column::new("Duration", 90.0, true),
    Column::new("Straggler", 90.0, true),
    Column::new("P", 48.0, true),
];
const STW_COL_KEYS: [StwCol; 5] = [
    StwCol::Kind,
    StwCol::Start,
    StwCol::Duration,
    StwCol::Straggler,
    StwCol::StragglerP,
];

/// Indices into `model.gc` in table order. Ties go by start time, then index, so the
/// order is the same every time.
fn gc_order(gc: &[GcCycle], sort: Sort<GcCol>) -> Vec<usize> {
    let mut rows: Vec<usize> = (0..gc.len()).collect();
    let key = |i: usize, c: &GcCycle| -> i64 {
        match sort.col {
            GcCol::Number => i64::try_from(i).unwrap_or(i64::MAX),
            GcCol::Start => c.start_ns,
            GcCol::Mark => span_ns(c.start_ns, c.end_ns),
        }
    };
    rows.sort_by(|&a, &b| {
        let (ca, cb) = (&gc[a], &gc[b]);
        let o = key(a, ca).cmp(&key(b, cb));
        let o = if sort.descending { o.reverse() } else { o };
        o.then(ca.start_ns.cmp(&cb.start_ns)).then(a.cmp(&b))
    });
    rows
}

/// Indices into `model.stw` in table order (ties as in `gc_order`).
fn stw_order(model: &Model, sort: Sort<StwCol>) -> Vec<usize> {
    let stw = &model.stw;
    let mut rows: Vec<usize> = (0..stw.len()).collect();
    let key = |s: &Stw| -> i64 {
        match sort.col {
            StwCol::Kind | StwCol::Start => s.start_ns,
            StwCol::Duration => span_ns(s.start_ns, s.end_ns),
            StwCol::Straggler => {
                if s.straggler_p < 0 {
                    -1
                } else {
                    s.straggler_ns
                }
            }
            StwCol::StragglerP => s.straggler_p,
        }
    };
    rows.sort_by(|&a, &b| {
        let (sa, sb) = (&stw[a], &stw[b]);
        let o = if sort.col == StwCol::Kind {
            model.string(sa.kind).cmp(model.string(sb.kind))
        } else {
            key(sa).cmp(&key(sb))
        };
        let o = if sort.descending { o.reverse() } else { o };
        o.then(sa.start_ns.cmp(&sb.start_ns)).then(a.cmp(&b))
    });
    rows
}

/// The cells of the row of `model.gc[index]`.
fn gc_cells(model: &Model, index: usize, c: &GcCycle) -> [String; 3] {
    [
        (index + 1).to_string(),
        since_start(model, c.start_ns),
        format_duration(span_ns(c.start_ns, c.end_ns) as f64),
    ]
}

/// What a screen reader (and a test) reads for a GC cycle's row.
fn gc_row_label(model: &Model, index: usize, c: &GcCycle) -> String {
    let [number, start, mark] = gc_cells(model, index, c);
    format!("GC {number} at {start}, mark {mark}")
}

/// The cells of a pause's row; the straggler columns are "—" when no P was late.
fn stw_cells(model: &Model, s: &Stw) -> [String; 5] {
    let (straggler, p) = if s.straggler_p < 0 {
        ("—".to_string(), "—".to_string())
    } else {
        (
            format_duration(s.straggler_ns as f64),
            format!("P{}", s.straggler_p),
        )
    };
    [
        model.string(s.kind).to_string(),
        since_start(model, s.start_ns),
        format_duration(span_ns(s.start_ns, s.end_ns) as f64),
        straggler,
        p,
    ]
}

fn stw_row_label(model: &Model, s: &Stw) -> String {
    let [kind, start, duration, _, _] = stw_cells(model, s);
    format!("{kind} pause at {start}, {duration}")
}

/// The MMU curve for one set of flags.
struct MmuData {
    curve: Arc<MmuCurve>,
    /// The curve at `go tool trace`'s 100 window sizes, increasing.
    points: Vec<MmuPoint>,
    /// Set when the trace was cut: the curve covers what was read.
    warning: Option<String>,
}

type MmuResult = Result<Arc<MmuData>, String>;
type WorstResult = Result<Arc<Vec<UtilWindow>>, String>;

/// Runs `f`, turning a panic into an error so a bug in an analysis shows as a message
/// instead of a computation that never finishes.
fn guarded<T>(f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    std::panic::catch_unwind(AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err("the MMU computation failed (internal error)".to_string()))
}

/// The utilization functions for `flags` and the curve over them.
fn compute_mmu<S: goscope_trace::Source + ?Sized>(
    data: &S,
    flags: UtilFlags,
) -> Result<MmuData, String> {
    let (utils, warning) = utilization(data, flags).map_err(|e| format!("{e:#}"))?;
    let curve = MmuCurve::new(utils);
    let points = curve.plot();
    Ok(MmuData {
        curve: Arc::new(curve),
        points,
        warning: warning.map(|w| format!("{w:#}")),
    })
}

/// The plotted point whose window is nearest `log10_window` (x on the plot).
fn nearest_point(points: &[MmuPoint], log10_window: f64) -> Option<usize> {
    points
        .iter()
        .enumerate()
        .filter(|(_, p)| p.window_ns > 0)
        .min_by(|(_, a), (_, b)| {
            let da = ((a.window_ns as f64).log10() - log10_window).abs();
            let db = ((b.window_ns as f64).log10() - log10_window).abs();
            da.total_cmp(&db)
        })
        .map(|(i, _)| i)
}

/// A window size to three significant digits: Go's plotted windows come from
/// `exp(ln …)` and land on 999999 ns where 1 ms is meant.
fn format_window(window_ns: i64) -> String {
    let x = window_ns as f64;
    if x < 1.0 {
        return "0 ns".to_string();
    }
    let step = 10f64.powi(x.log10().floor() as i32 - 2);
    let rounded = (x / step).round() * step;
    let (div, unit) = match rounded {
        r if r < 1e3 => (1.0, "ns"),
        r if r < 1e6 => (1e3, "µs"),
        r if r < 1e9 => (1e6, "ms"),
        _ => (1e9, "s"),
    };
    let v = rounded / div;
    let decimals = (2 - v.log10().floor() as i32).clamp(0, 2) as usize;
    let text = format!("{v:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        &text
    };
    format!("{text} {unit}")
}

/// A decade's tick label in Go's style: "1ns", "10µs", "100ms", "1s".
fn decade_label(exp10: i32) -> String {
    let (unit, base) = match exp10 {
        e if e < 3 => ("ns", 0),
        e if e < 6 => ("µs", 3),
        e if e < 9 => ("ms", 6),
        _ => ("s", 9),
    };
    let mantissa = 10u64.saturating_pow(u32::try_from(exp10.max(0) - base).unwrap_or(0));
    format!("{mantissa}{unit}")
}

/// Grid marks for a log10 axis: each decade, and 2…9 times it as finer lines.
fn log_decade_marks(input: GridInput) -> Vec<GridMark> {
    let (lo, hi) = input.bounds;
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo || hi - lo > 40.0 {
        return Vec::new();
    }
    let mut marks = Vec::new();
    let first = lo.floor() as i32 - 1;
    let last = hi.ceil() as i32;
    for d in first..=last {
        for k in 1..10 {
            let value = f64::from(d) + f64::from(k).log10();
            if value >= lo && value <= hi {
                let step_size = if k == 1 { 1.0 } else { 0.1 };
                marks.push(GridMark { value, step_size });
            }
        }
    }
    marks
}

/// The x tick label of a log10 axis mark: the decade's duration, nothing between.
fn log_axis_label(mark: GridMark) -> String {
    let r = mark.value.round();
    if (mark.value - r).abs() < 1e-6 && r.abs() < 30.0 {
        decade_label(r as i32)
    } else {
        String::new()
    }
}

/// The GC view's state: table sorting and selection, MMU flags, cached computations.
pub struct GcView {
    /// The opened trace the totals, table orders and curves are for.
    model_key: Option<TraceId>,
    totals: GcTotals,
    gc_sort: Sort<GcCol>,
    /// `None` until sorted for the current model and sort.
    gc_rows: Option<Vec<usize>>,
    stw_sort: Sort<StwCol>,
    stw_rows: Option<Vec<usize>>,
    /// Index into `model.gc` / `model.stw` of the row clicked last.
    selected_gc: Option<usize>,
    selected_stw: Option<usize>,
    flags: UtilFlags,
    curves: Vec<(UtilFlags, Slot<MmuResult>)>,
    /// The window size of the worst-window list.
    window_ns: Option<i64>,
    worst: Vec<(UtilFlags, i64, Slot<WorstResult>)>,
    /// A point clicked on the curve: show its worst window once it is computed.
    pending_jump: Option<(UtilFlags, i64)>,
    /// The plot's width last frame (tests aim clicks with it).
    plot_width_pt: f32,
}

impl Default for GcView {
    fn default() -> Self {
        Self::new()
    }
}

impl GcView {
    pub fn new() -> Self {
        GcView {
            model_key: None,
            totals: GcTotals::default(),
            gc_sort: Sort {
                col: GcCol::Start,
                descending: false,
            },
            gc_rows: None,
            stw_sort: Sort {
                col: StwCol::Start,
                descending: false,
            },
            stw_rows: None,
            selected_gc: None,
            selected_stw: None,
            // The flags `go tool trace`'s /mmu page starts with: STW, background workers
            // and mark assists on, sweep and per-P off.
            flags: UtilFlags::GO_DEFAULT,
            curves: Vec::new(),
            window_ns: None,
            worst: Vec::new(),
            pending_jump: None,
            plot_width_pt: 0.0,
        }
    }

    /// Shows the view; returns what the app should do (a clicked row or MMU window
    /// becomes `ShowRange`).
    pub(crate) fn ui(&mut self, ui: &mut Ui, trace: &OpenTrace, an: &Arc<Analyses>) -> Action {
        let model = &*trace.model;
        self.sync(trace);
        let mut action = Action::None;
        ui.horizontal(|ui| {
            ui.label(totals_text(&self.totals));
            ui.label(
                RichText::new("click a row or a point of the curve to show it in the timeline · click a header to sort")
                    .small()
                    .weak(),
            );
        });
        ui.separator();
        let full_w = ui.available_width();
        let h = ui.available_height().max(40.0);
        let gc_w = (full_w * 0.18).clamp(150.0, 320.0);
        let stw_w = (full_w * 0.36).clamp(250.0, 600.0);
        ui.horizontal_top(|ui| {
            let top_down = Layout::top_down(Align::Min);
            let a = ui
                .allocate_ui_with_layout(vec2(gc_w, h), top_down, |ui| self.gc_table_ui(ui, model))
                .inner;
            ui.separator();
            let b = ui
                .allocate_ui_with_layout(vec2(stw_w, h), top_down, |ui| {
                    self.stw_table_ui(ui, model)
                })
                .inner;
            ui.separator();
            let rest = vec2(ui.available_width().max(120.0), h);
            let c = ui
                .allocate_ui_with_layout(rest, top_down, |ui| self.mmu_ui(ui, model, an))
                .inner;
            for x in [a, b, c] {
                if x != Action::None {
                    action = x;
                }
            }
        });
        action
    }

    /// Drops what belongs to another opened trace (its model, and the file its dock's
    /// analyses and MMU curves read).
    fn sync(&mut self, trace: &OpenTrace) {
        let model = &*trace.model;
        if self.model_key != Some(trace.id) {
            self.model_key = Some(trace.id);
            self.curves.clear();
            self.worst.clear();
            self.window_ns = None;
            self.pending_jump = None;
            self.totals = GcTotals::of(model);
            self.gc_rows = None;
            self.stw_rows = None;
            self.selected_gc = None;
            self.selected_stw = None;
        }
        if self.gc_rows.is_none() {
            self.gc_rows = Some(gc_order(&model.gc, self.gc_sort));
        }
        if self.stw_rows.is_none() {
            self.stw_rows = Some(stw_order(model, self.stw_sort));
        }
    }

    fn gc_table_ui(&mut self, ui: &mut Ui, model: &Model) -> Action {
        let clicked = sorted_table_ui(
            ui,
            ("gc-cycles", "GC cycles"),
            (&GC_COLS, &GC_COL_KEYS),
            &mut self.gc_sort,
            |col| col == GcCol::Mark,
            &mut self.gc_rows,
            &mut self.selected_gc,
            |sort| gc_order(&model.gc, sort),
            |i| {
                let c = model.gc.get(i)?;
                Some(Row::new(gc_cells(model, i, c)).label(gc_row_label(model, i, c)))
            },
        );
        match clicked.and_then(|i| model.gc.get(i)) {
            Some(c) => Action::ShowRange(c.start_ns, c.end_ns),
            None => Action::None,
        }
    }

    fn stw_table_ui(&mut self, ui: &mut Ui, model: &Model) -> Action {
        let clicked = sorted_table_ui(
            ui,
            ("stw-pauses", "Stop-the-world pauses"),
            (&STW_COLS, &STW_COL_KEYS),
            &mut self.stw_sort,
            |col| matches!(col, StwCol::Duration | StwCol::Straggler),
            &mut self.stw_rows,
            &mut self.selected_stw,
            |sort| stw_order(model, sort),
            |i| {
                let s = model.stw.get(i)?;
                Some(Row::new(stw_cells(model, s)).label(stw_row_label(model, s)))
            },
        );
        match clicked.and_then(|i| model.stw.get(i)) {
            Some(s) => Action::ShowRange(s.start_ns, s.end_ns),
            None => Action::None,
        }
    }

    /// The curve for `flags`: `None` while it is computed (started here if needed).
    fn curve(
        &mut self,
        ctx: &egui::Context,
        an: &Arc<Analyses>,
        flags: UtilFlags,
    ) -> Option<MmuResult> {
        if !self.curves.iter().any(|(f, _)| *f == flags) {
            let data = an.data.clone();
            let slot = Slot::spawn("mmu", ctx, move || {
                guarded(|| compute_mmu(&*data, flags).map(Arc::new))
            });
            self.curves.push((flags, slot));
        }
        self.curves
            .iter_mut()
            .find(|(f, _)| *f == flags)
            .and_then(|(_, slot)| slot.get().cloned())
    }

    /// The worst windows of `window_ns` under `flags`: `None` while they are computed.
    fn worst_windows(
        &mut self,
        ctx: &egui::Context,
        data: &Arc<MmuData>,
        flags: UtilFlags,
        window_ns: i64,
    ) -> Option<WorstResult> {
        if !self
            .worst
            .iter()
            .any(|(f, w, _)| *f == flags && *w == window_ns)
        {
            // Each entry is small, but clicking around the curve would add them forever.
            if self.worst.len() >= 64 {
                self.worst.remove(0);
            }
            let curve = data.curve.clone();
            let slot = Slot::spawn("mmu-worst", ctx, move || {
                guarded(|| Ok(Arc::new(curve.worst_windows(window_ns, WORST_WINDOWS))))
            });
            self.worst.push((flags, window_ns, slot));
        }
        self.worst
            .iter_mut()
            .find(|(f, w, _)| *f == flags && *w == window_ns)
            .and_then(|(_, _, slot)| slot.get().cloned())
    }

    /// Whether the curve for the current flags is there (for tests and the app).
    #[cfg(test)]
    fn curve_ready(&mut self) -> bool {
        let flags = self.flags;
        self.curves
            .iter_mut()
            .find(|(f, _)| *f == flags)
            .is_some_and(|(_, slot)| slot.get().is_some())
    }

    fn mmu_ui(&mut self, ui: &mut Ui, model: &Model, an: &Arc<Analyses>) -> Action {
        let mut action = Action::None;
        let flags = self.flags;
        let curve = self.curve(ui.ctx(), an, flags);
        let data = match &curve {
            Some(Ok(d)) => Some(d.clone()),
            _ => None,
        };
        if let (Some(d), None) = (&data, self.window_ns) {
            self.window_ns = nearest_point(&d.points, DEFAULT_WINDOW_NS.log10())
                .and_then(|i| d.points.get(i))
                .map(|p| p.window_ns);
        }
        let worst = match (&data, self.window_ns) {
            (Some(d), Some(w)) if w > 0 => self.worst_windows(ui.ctx(), d, flags, w),
            _ => None,
        };
        if let (Some((f, w)), Some(Ok(list))) = (self.pending_jump, &worst) {
            if f == flags && Some(w) == self.window_ns {
                self.pending_jump = None;
                if let Some(first) = list.iter().find(|x| paused(x.util)) {
                    action = Action::ShowRange(first.time_ns, first.time_ns.saturating_add(w));
                }
            }
        }

        let h = ui.available_height();
        let side_w = MMU_SIDE_WIDTH_PT.min(ui.available_width() * 0.45);
        let plot_w = (ui.available_width() - side_w - 12.0).max(60.0);
        self.plot_width_pt = plot_w;
        ui.horizontal_top(|ui| {
            let top_down = Layout::top_down(Align::Min);
            ui.allocate_ui_with_layout(vec2(plot_w, h), top_down, |ui| {
                ui.label(RichText::new("Minimum mutator utilization").strong());
                match &curve {
                    None => {
                        ui.horizontal(|ui| {
                            ui.spinner();
                            ui.label(format!("computing the MMU curve ({})…", flags_text(flags)));
                        });
                    }
                    Some(Err(e)) => {
                        ui.colored_label(ui.visuals().error_fg_color, format!("MMU: {e}"));
                    }
                    Some(Ok(d)) if d.points.is_empty() => {
                        ui.label("No utilization data (the trace has no GOMAXPROCS event).");
                    }
                    Some(Ok(d)) => {
                        if let Some(w) = &d.warning {
                            ui.label(RichText::new(format!("partial trace: {w}")).small().weak());
                        }
                        if let Some(w) = self.plot_ui(ui, d) {
                            self.window_ns = Some(w);
                            self.pending_jump = Some((flags, w));
                        }
                    }
                }
            });
            ui.separator();
            ui.allocate_ui_with_layout(vec2(side_w, h), top_down, |ui| {
                self.flags_ui(ui);
                ui.separator();
                let a = self.worst_ui(ui, model, data.as_deref(), worst.as_ref());
                if a != Action::None {
                    action = a;
                }
            });
        });
        action
    }

    /// The curve on a log10 window axis; returns the window of a clicked point.
    fn plot_ui(&self, ui: &mut Ui, d: &MmuData) -> Option<i64> {
        let points = &d.points;
        let line: Vec<[f64; 2]> = points
            .iter()
            .filter(|p| p.window_ns > 0)
            .map(|p| [(p.window_ns as f64).log10(), p.mmu.clamp(0.0, 1.0)])
            .collect();
        let chosen: Vec<[f64; 2]> = self
            .window_ns
            .and_then(|w| points.iter().find(|p| p.window_ns == w && w > 0))
            .map(|p| vec![[(p.window_ns as f64).log10(), p.mmu.clamp(0.0, 1.0)]])
            .unwrap_or_default();
        let accent = ui.visuals().selection.bg_fill;
        let marker = ui.visuals().strong_text_color();
        let response = Plot::new("gc-mmu-plot")
            .allow_zoom(false)
            .allow_drag(false)
            .allow_scroll(false)
            .allow_boxed_zoom(false)
            .allow_double_click_reset(false)
            .include_y(0.0)
            .include_y(1.0)
            .x_grid_spacer(log_decade_marks)
            .x_axis_formatter(|mark, _| log_axis_label(mark))
            .x_axis_label("window")
            .y_axis_label("MMU")
            .label_formatter(|pos| {
                let x = match pos {
                    HoverPosition::NearDataPoint { position, .. } => position.x,
                    HoverPosition::Elsewhere { position } => position.x,
                };
                let p = points.get(nearest_point(points, x)?)?;
                Some(format!(
                    "window {}\nMMU {:.4}",
                    format_window(p.window_ns),
                    p.mmu
                ))
            })
            .show(ui, |plot_ui| {
                plot_ui.line(Line::new("MMU", line).color(accent).width(2.0));
                if !chosen.is_empty() {
                    plot_ui.points(
                        Points::new("chosen window", chosen)
                            .radius(4.0)
                            .color(marker),
                    );
                }
            });
        let r = &response.response;
        if !r.clicked() {
            return None;
        }
        let pos = r.interact_pointer_pos()?;
        let x = response.transform.value_from_position(pos).x;
        points.get(nearest_point(points, x)?).map(|p| p.window_ns)
    }

    fn flags_ui(&mut self, ui: &mut Ui) {
        let mut f = self.flags;
        ui.checkbox(&mut f.per_proc, "Per-P")
            .on_hover_text("one utilization function per P: a P interrupted by GC is a window of 0, as Go's \"per-goroutine\" view");
        ui.checkbox(&mut f.stw, "STW")
            .on_hover_text("stop-the-world pauses of the GC stop every goroutine");
        ui.checkbox(&mut f.background, "Background workers")
            .on_hover_text("GC mark workers take their P (25% of the CPU during a cycle)");
        ui.checkbox(&mut f.assist, "Mark assist")
            .on_hover_text("goroutines that allocate help the GC mark");
        ui.checkbox(&mut f.sweep, "Sweep")
            .on_hover_text("reclaiming memory between cycles (off in go tool trace by default)");
        if f != self.flags {
            self.flags = f;
            self.pending_jump = None;
        }
    }

    fn worst_ui(
        &mut self,
        ui: &mut Ui,
        model: &Model,
        data: Option<&MmuData>,
        worst: Option<&WorstResult>,
    ) -> Action {
        let mut action = Action::None;
        let (Some(d), Some(window_ns)) = (data, self.window_ns) else {
            return action;
        };
        if let Some(last) = d.points.len().checked_sub(1) {
            let mut idx = d
                .points
                .iter()
                .position(|p| p.window_ns == window_ns)
                .or_else(|| nearest_point(&d.points, (window_ns.max(1) as f64).log10()))
                .unwrap_or(0);
            let slider = egui::Slider::new(&mut idx, 0..=last)
                .show_value(false)
                .text(format!("window {}", format_window(window_ns)));
            if ui.add(slider).changed() {
                if let Some(p) = d.points.get(idx) {
                    self.window_ns = Some(p.window_ns);
                    self.pending_jump = None;
                }
            }
        }
        ui.label(RichText::new(format!("Worst {} windows", format_window(window_ns))).strong());
        match worst {
            None => {
                ui.spinner();
            }
            Some(Err(e)) => {
                ui.colored_label(ui.visuals().error_fg_color, e.as_str());
            }
            Some(Ok(list)) if !list.iter().any(|w| paused(w.util)) => {
                ui.label("none: in every window of this size the program ran all the time (MMU 1)");
            }
            Some(Ok(list)) => {
                egui::ScrollArea::vertical()
                    .id_salt("gc-mmu-worst")
                    .auto_shrink([false, true])
                    .show(ui, |ui| {
                        for w in list.iter().filter(|w| paused(w.util)) {
                            let text =
                                format!("MMU {:.3} at {}", w.util, since_start(model, w.time_ns));
                            if ui.selectable_label(false, text).clicked() {
                                action = Action::ShowRange(
                                    w.time_ns,
                                    w.time_ns.saturating_add(window_ns),
                                );
                            }
                        }
                    });
            }
        }
        action
    }
}

/// A titled, sortable table of model items (GC cycles, pauses). `rows` holds the items'
/// indices in display order, made again by `order` when a header is clicked (a column of
/// `keys`, starting descending if `descending_first` says so); `row` describes item `i`.
/// Returns the item clicked, which becomes `selected`.
#[allow(clippy::too_many_arguments)]
fn sorted_table_ui<C: Copy + PartialEq>(
    ui: &mut Ui,
    (id_salt, title): (&str, &str),
    (cols, keys): (&[Column], &[C]),
    sort: &mut Sort<C>,
    descending_first: impl Fn(C) -> bool,
    rows: &mut Option<Vec<usize>>,
    selected: &mut Option<usize>,
    order: impl Fn(Sort<C>) -> Vec<usize>,
    row: impl Fn(usize) -> Option<Row>,
) -> Option<usize> {
    ui.label(RichText::new(title).strong());
    let shown = rows.take().unwrap_or_default();
    let sorted = keys.iter().position(|&k| k == sort.col);
    let chosen = *selected;
    let out = Table::new(id_salt, cols)
        .sorted(sorted.map(|c| (c, sort.descending)))
        .empty_text("none in this trace")
        .show(ui, shown.len(), |pos| {
            let i = *shown.get(pos)?;
            Some(row(i)?.selected(chosen == Some(i)))
        });
    let shown = match out.sort_by.and_then(|c| keys.get(c).copied()) {
        Some(col) => {
            *sort = sort.clicked(col, descending_first(col));
            order(*sort)
        }
        None => shown,
    };
    let clicked = out
        .clicked
        .or(out.double_clicked)
        .and_then(|pos| shown.get(pos).copied());
    *rows = Some(shown);
    if clicked.is_some() {
        *selected = clicked;
    }
    clicked
}

/// Whether a window's utilization shows the program was held back at all (a window at MMU
/// 1 says nothing, and `go tool trace` lists such windows only for lack of worse ones).
fn paused(util: f64) -> bool {
    util < 1.0 - 1e-9
}

/// The flags in words, for the "computing" line.
fn flags_text(f: UtilFlags) -> String {
    let name = f.go_name();
    if name.is_empty() {
        "no flags".to_string()
    } else {
        name.replace('|', ", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::time::{Duration, Instant};

    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;

    fn gc_trace() -> PathBuf {
        goscope_testdata::trace_path("gc-go127")
    }

    fn gc_model() -> Model {
        let bytes = std::fs::read(gc_trace()).expect("read the gc trace");
        goscope_model::build(&bytes).expect("model of the gc trace")
    }

    #[test]
    fn tables_and_totals_equal_the_model() {
        let m = gc_model();
        assert!(
            m.gc.len() >= 2,
            "the gc trace has GC cycles ({})",
            m.gc.len()
        );
        assert!(
            m.stw.len() >= 2,
            "the gc trace has pauses ({})",
            m.stw.len()
        );

        let t = GcTotals::of(&m);
        assert_eq!(t.gc_cycles, m.gc.len());
        assert_eq!(t.stw_pauses, m.stw.len());
        let mark: i64 = m.gc.iter().map(|c| c.end_ns - c.start_ns).sum();
        let stw: i64 = m.stw.iter().map(|s| s.end_ns - s.start_ns).sum();
        let longest = m.stw.iter().map(|s| s.end_ns - s.start_ns).max();
        assert!(mark > 0 && stw > 0);
        assert_eq!(t.mark_total_ns, mark);
        assert_eq!(t.stw_total_ns, stw);
        assert_eq!(Some(t.stw_max_ns), longest);
        assert!(totals_text(&t).starts_with(&format!("{} GC cycles", m.gc.len())));

        // Start order: every row once, starts non-decreasing, the cells are the model's.
        let by_start = gc_order(
            &m.gc,
            Sort {
                col: GcCol::Start,
                descending: false,
            },
        );
        let mut seen = by_start.clone();
        seen.sort_unstable();
        assert_eq!(seen, (0..m.gc.len()).collect::<Vec<_>>());
        for w in by_start.windows(2) {
            assert!(m.gc[w[0]].start_ns <= m.gc[w[1]].start_ns);
        }
        let by_number = gc_order(
            &m.gc,
            Sort {
                col: GcCol::Number,
                descending: true,
            },
        );
        assert_eq!(by_number, (0..m.gc.len()).rev().collect::<Vec<_>>());
        let first = &m.gc[by_start[0]];
        assert_eq!(
            gc_cells(&m, by_start[0], first),
            [
                (by_start[0] + 1).to_string(),
                format_duration((first.start_ns - m.start_ns) as f64),
                format_duration((first.end_ns - first.start_ns) as f64),
            ]
        );

        // Longest pause first; its duration is the total line's maximum.
        let by_duration = stw_order(
            &m,
            Sort {
                col: StwCol::Duration,
                descending: true,
            },
        );
        assert_eq!(by_duration.len(), m.stw.len());
        let d = |i: usize| m.stw[i].end_ns - m.stw[i].start_ns;
        for w in by_duration.windows(2) {
            assert!(d(w[0]) >= d(w[1]));
        }
        assert_eq!(d(by_duration[0]), t.stw_max_ns);
        let s = &m.stw[by_duration[0]];
        let cells = stw_cells(&m, s);
        assert_eq!(cells[0], m.string(s.kind));
        assert_eq!(cells[2], format_duration(t.stw_max_ns as f64));
        assert!(!cells[0].is_empty(), "pauses have a kind");

        // Kind order is by name; a second click on the same header flips it.
        let kind = Sort {
            col: StwCol::Kind,
            descending: false,
        };
        let by_kind = stw_order(&m, kind);
        for w in by_kind.windows(2) {
            assert!(m.string(m.stw[w[0]].kind) <= m.string(m.stw[w[1]].kind));
        }
        assert!(kind.clicked(StwCol::Kind, false).descending);
        let flipped = stw_order(&m, kind.clicked(StwCol::Kind, false));
        for w in flipped.windows(2) {
            assert!(m.string(m.stw[w[0]].kind) >= m.string(m.stw[w[1]].kind));
        }
    }

    /// The brief asked for a non-decreasing curve, but MMU as Go defines it is not
    /// monotone in the window size (Go's own curve for this trace falls from 4.17 ms to
    /// 4.36 ms: testdata/golden/analysis/gc-go127.mmu.txt). What does hold: a window
    /// of k·w is k windows of w back to back, so its mean is at least the worst of
    /// theirs, MMU(k·w) ≥ MMU(w).
    #[test]
    fn default_flags_curve_is_in_0_1_and_grows_over_multiples_of_a_window() {
        assert_eq!(GcView::new().flags, UtilFlags::GO_DEFAULT);
        // As Go's /mmu page: STW, background workers and mark assist on; sweep, per-P off.
        assert_eq!(
            UtilFlags::GO_DEFAULT,
            UtilFlags {
                stw: true,
                background: true,
                assist: true,
                sweep: false,
                per_proc: false,
            }
        );

        let bytes = std::fs::read(gc_trace()).expect("read the gc trace");
        let d = compute_mmu(&bytes, UtilFlags::GO_DEFAULT).expect("mmu");
        assert_eq!(d.points.len(), 100);
        for p in &d.points {
            assert!((0.0..=1.0).contains(&p.mmu), "{p:?}");
            assert!(p.window_ns > 0);
        }
        for w in d.points.windows(2) {
            assert!(
                w[0].window_ns <= w[1].window_ns,
                "{:?} then {:?}",
                w[0],
                w[1]
            );
        }
        for p in d.points.iter().step_by(7) {
            for k in [2, 3, 10] {
                let longer = d.curve.mmu(p.window_ns * k);
                assert!(
                    longer >= p.mmu - 1e-9,
                    "MMU({k}×{}) = {longer} < MMU = {}",
                    p.window_ns,
                    p.mmu
                );
            }
        }
        // Over the plotted range the curve rises overall, from near 0 (a pause) up.
        let (first, last) = (d.points[0].mmu, d.points[99].mmu);
        assert!(first < 0.5 && last > first, "MMU {first} .. {last}");
    }

    /// Why the property above is not "non-decreasing": busy and idle units taking
    /// turns give MMU 1/2 for two units but 1/3 for three.
    #[test]
    fn mmu_is_not_monotone_in_the_window() {
        use goscope_analysis::mmu::UtilPoint;
        let util: Vec<UtilPoint> = (0..=12)
            .map(|i| UtilPoint {
                time_ns: i * 1000,
                util: if i % 2 == 0 { 0.0 } else { 1.0 },
            })
            .collect();
        let c = MmuCurve::new(vec![util]);
        assert!((c.mmu(2000) - 0.5).abs() < 1e-9, "{}", c.mmu(2000));
        assert!((c.mmu(3000) - 1.0 / 3.0).abs() < 1e-9, "{}", c.mmu(3000));
    }

    #[test]
    fn flags_that_panic_go_tool_trace_give_a_curve() {
        let bytes = std::fs::read(gc_trace()).expect("read the gc trace");
        for flags in [
            "perProc|background",
            "perProc|stw|background|assist|sweep",
            "",
        ] {
            let f = UtilFlags::parse(flags).expect("flags");
            let d = guarded(|| compute_mmu(&bytes, f)).expect(flags);
            assert!(
                d.points.iter().all(|p| (0.0..=1.0).contains(&p.mmu)),
                "{flags}"
            );
        }
    }

    #[test]
    fn axis_labels_are_decades() {
        let labels: Vec<String> = (0..=10).map(decade_label).collect();
        assert_eq!(
            labels,
            [
                "1ns", "10ns", "100ns", "1µs", "10µs", "100µs", "1ms", "10ms", "100ms", "1s", "10s"
            ]
        );
        let mark = |value| GridMark {
            value,
            step_size: 1.0,
        };
        assert_eq!(log_axis_label(mark(6.0)), "1ms");
        assert_eq!(format_window(999_999), "1 ms");
        assert_eq!(format_window(3_648_123), "3.65 ms");
        assert_eq!(format_window(36_480), "36.5 µs");
        assert_eq!(format_window(999), "999 ns");
        assert_eq!(format_window(1_500_000_000), "1.5 s");
        assert_eq!(format_window(0), "0 ns");
        assert_eq!(log_axis_label(mark(2f64.log10() + 6.0)), "");
        let pts = [
            MmuPoint {
                window_ns: 1_000,
                mmu: 0.0,
            },
            MmuPoint {
                window_ns: 1_000_000,
                mmu: 0.5,
            },
        ];
        assert_eq!(nearest_point(&pts, 3.2), Some(0));
        assert_eq!(nearest_point(&pts, 5.0), Some(1));
        assert_eq!(nearest_point(&[], 5.0), None);
    }

    struct State {
        view: GcView,
        trace: OpenTrace,
        an: Arc<Analyses>,
        actions: Vec<Action>,
    }

    /// Steps the harness until `done` holds, for at most `BACKGROUND_WAIT` of real time.
    fn step_until(h: &mut Harness<'_, State>, what: &str, done: impl Fn(&mut State) -> bool) {
        let t0 = Instant::now();
        loop {
            h.step();
            if done(h.state_mut()) {
                return;
            }
            assert!(
                t0.elapsed() < crate::testdata::BACKGROUND_WAIT,
                "timed out waiting for {what}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn view_shows_totals_flags_and_rows_that_show_their_range() {
        let model = gc_model();
        let an = crate::testdata::analyses("gc-go127");
        let totals = totals_text(&GcTotals::of(&model));
        let first_stw = stw_order(
            &model,
            Sort {
                col: StwCol::Start,
                descending: false,
            },
        )[0];
        let pause = model.stw[first_stw];
        let pause_label = stw_row_label(&model, &pause);
        let state = State {
            view: GcView::new(),
            trace: OpenTrace::new(an.data.clone(), Arc::new(model)),
            an,
            actions: Vec::new(),
        };
        let mut h = Harness::builder()
            .with_size(vec2(1500.0, 350.0))
            .build_ui_state(
                |ui, s: &mut State| {
                    let a = s.view.ui(ui, &s.trace, &s.an);
                    if a != Action::None {
                        s.actions.push(a);
                    }
                },
                state,
            );
        h.step();
        h.get_by_label(&totals);
        h.get_by_label("Mark assist");
        h.get_by_label("Background workers");
        assert_eq!(h.get_all_by_label("Start, sorted ascending").count(), 2);

        // A pause row: its exact times go to the timeline.
        h.get_by_label(&pause_label).click();
        h.step();
        assert_eq!(
            h.state().actions,
            vec![Action::ShowRange(pause.start_ns, pause.end_ns)]
        );
        assert_eq!(h.state().view.selected_stw, Some(first_stw));

        // Sorting by duration puts the longest pause on top: its row is laid out.
        h.get_by_label("Duration").click();
        h.step();
        h.step();
        h.get_by_label("Duration, sorted descending");
        let longest = {
            let s = h.state();
            let i = stw_order(&s.trace.model, s.view.stw_sort)[0];
            stw_row_label(&s.trace.model, &s.trace.model.stw[i])
        };
        assert_eq!(
            h.state().view.stw_sort,
            Sort {
                col: StwCol::Duration,
                descending: true
            }
        );
        h.get_by_label(&longest);

        // The curve arrives; the worst-window list for the default window follows, and
        // its first entry shows that window.
        step_until(&mut h, "the MMU curve", |s| s.view.curve_ready());
        assert!(h.query_by_label_contains("MMU:").is_none(), "no error");
        // The curve can arrive between frames; the next frame picks the default window.
        step_until(&mut h, "the default window", |s| s.view.window_ns.is_some());
        let window_ns = h.state().view.window_ns.expect("a default window");
        let expected = {
            let s = h.state_mut();
            let flags = s.view.flags;
            let curve = s.view.curve(&egui::Context::default(), &s.an, flags);
            let Some(Ok(d)) = curve else {
                panic!("curve ready")
            };
            d.curve.worst_windows(window_ns, WORST_WINDOWS)
        };
        let worst = expected.first().copied().expect("a worst window");
        let label = format!(
            "MMU {:.3} at {}",
            worst.util,
            since_start(&h.state().trace.model, worst.time_ns)
        );
        step_until(&mut h, "the worst windows", |s| {
            s.view
                .worst
                .iter_mut()
                .any(|(_, _, slot)| slot.get().is_some())
        });
        h.step();
        h.get_by_label(&label).click();
        h.step();
        assert_eq!(
            h.state().actions.last(),
            Some(&Action::ShowRange(worst.time_ns, worst.time_ns + window_ns))
        );
        // Windows at MMU 1 (nothing paused the program) are left out of the list.
        let shown = expected.iter().filter(|w| paused(w.util)).count();
        assert!(shown > 0, "the gc trace has paused windows");
        assert_eq!(
            h.query_all_by_label_contains("MMU ").count(),
            shown,
            "only windows below 1 are listed"
        );
        assert!(h.query_by_label_contains("MMU 1.000").is_none());

        // A click in the middle of the plot picks the nearest plotted window and, once
        // its worst windows are computed, shows the worst one.
        let heading = h.get_by_label("Minimum mutator utilization").rect();
        let plot_w = h.state().view.plot_width_pt;
        let at = egui::pos2(
            heading.left() + plot_w / 2.0,
            (heading.bottom() + 350.0) / 2.0,
        );
        h.event(egui::Event::PointerMoved(at));
        for pressed in [true, false] {
            h.event(egui::Event::PointerButton {
                pos: at,
                button: egui::PointerButton::Primary,
                pressed,
                modifiers: egui::Modifiers::default(),
            });
        }
        h.step();
        let clicked_ns = h.state().view.window_ns.expect("a window");
        assert!(
            h.state().view.pending_jump.is_some(),
            "the click chose a window"
        );
        step_until(&mut h, "the clicked window's worst windows", |s| {
            s.view.pending_jump.is_none()
        });
        let worst = {
            let s = h.state_mut();
            let flags = s.view.flags;
            let Some(Ok(d)) = s.view.curve(&egui::Context::default(), &s.an, flags) else {
                panic!("curve ready")
            };
            assert!(d.points.iter().any(|p| p.window_ns == clicked_ns));
            d.curve.worst_windows(clicked_ns, 1)
        };
        let w = worst.first().copied().expect("a worst window");
        assert_eq!(
            h.state().actions.last(),
            Some(&Action::ShowRange(w.time_ns, w.time_ns + clicked_ns))
        );

        // Another flag set starts another computation and keeps the first.
        h.get_by_label("Sweep").click();
        h.step();
        h.step();
        h.get_by_label_contains("computing the MMU curve (stw, background, assist, sweep)");
        assert!(h.state().view.flags.sweep);
        assert_eq!(h.state().view.curves.len(), 2);
    }
}
