//! The timeline: time axis, ribbons (heap, goroutines, threads, stimuli, GC, STW) and the
//! lanes, painted from the model through the LOD functions — one mesh per lane, cost bound
//! by pixels. Also hit-testing, so a click or hover finds the span under the pointer.

use super::loader::{OpenTrace, TraceId};
use egui::{Align2, Color32, FontId, Mesh, Pos2, Rect, Sense, Shape, Stroke, Ui, Vec2};

use super::colors;
use super::lanes::{FOCUS_GROUP, Row, row_height};
use super::marks::Highlight;
use super::view::{TimelineView, axis_labels, format_duration, format_offset, tick_step_ns};
use goscope_model::lod::{self, TimeView};
use goscope_model::{GState, Model, StimulusKind};

/// Width of the lane-name gutter.
pub(crate) const GUTTER_PX: f32 = 190.0;
/// Minimum width of a span drawn on its own; narrower ones fold (Tracy's 3 px).
pub(crate) const MIN_SPAN_PX: f64 = 3.0;
const AXIS_H: f32 = 22.0;
const SCROLLBAR_W: f32 = 10.0;

/// The ribbons, top to bottom.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ribbon {
    Heap,
    Goroutines,
    Threads,
    Network,
    Syscalls,
    Timers,
    Gc,
    Stw,
}

impl Ribbon {
    pub const ALL: [Ribbon; 8] = [
        Ribbon::Heap,
        Ribbon::Goroutines,
        Ribbon::Threads,
        Ribbon::Network,
        Ribbon::Syscalls,
        Ribbon::Timers,
        Ribbon::Gc,
        Ribbon::Stw,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Ribbon::Heap => "Heap",
            Ribbon::Goroutines => "Goroutines",
            Ribbon::Threads => "Threads",
            Ribbon::Network => "Network",
            Ribbon::Syscalls => "Syscalls",
            Ribbon::Timers => "Timers",
            Ribbon::Gc => "GC",
            Ribbon::Stw => "STW",
        }
    }

    fn height(self) -> f32 {
        match self {
            Ribbon::Heap | Ribbon::Goroutines => 36.0,
            Ribbon::Threads => 26.0,
            _ => 14.0,
        }
    }
}

/// Something on the timeline a user can point at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pick {
    /// Goroutine `g` (index into model.goroutines), span index.
    GSpan { g: usize, span: usize },
    /// A goroutine running on P (index into model.procs), span index.
    PSpan { p: usize, span: usize },
    /// Runtime work on P.
    PWork { p: usize, work: usize },
    /// Thread span.
    MSpan { m: usize, span: usize },
    /// A stop-the-world pause.
    Stw(usize),
    /// A GC cycle.
    Gc(usize),
    /// A user region (goroutine index, region index).
    Region { g: usize, region: usize },
    /// A user task.
    Task(usize),
    /// Several spans folded into one item: the time range they cover, and what the pixel
    /// column under the pointer holds (the lane's kind and its shares per category, in
    /// ten-thousandths).
    Folded {
        start_ns: i64,
        end_ns: i64,
        column: Option<(LaneKind, [u16; lod::MAX_SHARES])>,
    },
}

impl Pick {
    /// Whether this is a span of a goroutine's, P's or thread's lane, found by its index in
    /// the lane: a window of an overview and the overview number these differently (every
    /// other pick is the same in both, see `detail`).
    pub fn is_span(&self) -> bool {
        matches!(
            self,
            Pick::GSpan { .. } | Pick::PSpan { .. } | Pick::MSpan { .. }
        )
    }
}

/// Where things were drawn in the last frame, for hit-testing and tests.
#[derive(Clone, Debug)]
pub struct Geometry {
    /// The area spans are painted in (right of the gutter, below the axis).
    pub plot: Rect,
    /// Visible rows and their rects (full width, including the gutter).
    pub rows: Vec<(Row, Rect)>,
    pub ribbons: Vec<(Ribbon, Rect)>,
    /// Total height of all rows, for the scrollbar.
    pub content_h: f32,
    /// This view's draw items, kept until the view changes.
    pub lod: LodCache,
    /// What the last frame laid out, for laying out a model built in the background
    /// before it is shown (`LodCache::laid_out_for`).
    pub(crate) shown_lanes: ShownLanes,
}

/// The view's scale and the lanes a frame laid out (the visible rows', the GC and pause
/// ribbons'). A window built in the background for the view is laid out for these on its
/// build's thread, so that the frame that first shows it draws from a warm `LodCache`
/// instead of laying out every visible lane and the ribbons itself (1-4 ms of those
/// frames on the 1.17 GB benchmark trace's dense views, while a build held both cores).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ShownLanes {
    tv: TimeView,
    lanes: Vec<(LaneKind, usize)>,
}

impl ShownLanes {
    /// Whether no frame has laid out lanes yet.
    pub(crate) fn is_empty(&self) -> bool {
        self.lanes.is_empty()
    }
}

/// What each lane's level-of-detail layout gave for the current scale (ns per pixel and
/// width), laid out over a window of time (`lay`) that holds the view. Frames in which the
/// view does not move — the pointer hovers, a dock table scrolls — and frames that pan
/// within the window reuse them, drawn shifted by the pan (`shift_px`), instead of folding
/// the lanes again. A zoom lays out the view alone; a pan that leaves the window lays out
/// half a view more on either side, so the frames of a held A/D reuse it.
#[derive(Clone, Debug, Default)]
pub struct LodCache {
    /// The trace and width the layouts were made for.
    key: Option<(TraceId, u64)>,
    /// The time window the layouts cover, at the view's scale: x in every item, fold column
    /// and ribbon column is in pixels from its left edge.
    lay: TimeView,
    items: rustc_hash::FxHashMap<(LaneKind, usize), std::sync::Arc<LaneLayout>>,
    columns: rustc_hash::FxHashMap<(usize, u64), std::sync::Arc<Vec<lod::Column>>>,
    densities: rustc_hash::FxHashMap<usize, std::sync::Arc<Vec<(f64, usize)>>>,
    /// The folds' shares were summed per `FOLD_BUCKET_PX` columns (the view held still for
    /// a frame), not per `MOVING_FOLD_BUCKET_PX`.
    fine: bool,
    /// The frame the view last changed in (a frame can lay out more than one pass).
    moved_in_frame: u64,
    /// The view's start and scale in the last frame.
    view: (f64, f64),
    /// Running totals of the plain-slice lanes (runtime work, GC, pauses), kept while the
    /// trace stays: they do not depend on the view.
    slice_totals: rustc_hash::FxHashMap<(LaneKind, usize), std::sync::Arc<Vec<i64>>>,
    /// The tasks' levels, kept while the trace stays.
    task_levels: Option<std::sync::Arc<Vec<Vec<usize>>>>,
    /// Each goroutine's count of region bands (`region_bands`), kept while the trace stays
    /// (a frame would otherwise scan every visible goroutine's regions).
    region_bands: rustc_hash::FxHashMap<usize, u8>,
    /// How many lane layouts the frames drawing from it have made (not those it came with
    /// from `laid_out_for`).
    laid_out: usize,
    /// The window around the view being laid out on a thread of its own while the view
    /// moves towards this one's edge, or finely once it holds still (`lay_out_next`),
    /// taken over once it is made.
    next: Option<NextLayout>,
    /// The lanes laid out hold more than `REFINE_APART_SPANS` spans in the window: once the
    /// view holds still, they are laid out again finely on a thread of its own, not in the
    /// frame (`want_fine`).
    refine_apart: bool,
    /// The view holds still over a coarse layout that is being laid out finely apart.
    want_fine: bool,
    /// `refine_apart` was decided for the window laid out.
    sized: bool,
}

/// Lanes holding more spans than this in the window laid out are laid out finely, once
/// the view holds still, on a thread of its own: the 92 MB benchmark trace's goroutine
/// lanes at full zoom-out hold millions, and the first still frame after a zoom took up to
/// 13-15 ms when it laid them out itself (BENCHMARKS.md › Session 23). Fewer are laid out
/// in the frame, so that the first still frame is already fine; every committed trace's
/// lanes are (a count, not a time, so that which layout a frame draws does not depend on
/// the machine).
const REFINE_APART_SPANS: usize = 250_000;

/// A window laid out in the background (ahead of a moving view, or finely for one come to
/// rest): where it is, and the layouts once made.
#[derive(Clone, Debug)]
struct NextLayout {
    lay: TimeView,
    made: std::sync::Arc<std::sync::Mutex<Option<LodCache>>>,
}

/// A moving view starts the layout of the next window once it is within this share of its
/// width of the laid-out window's edge (it starts half a width from each)...
const NEXT_AT_EDGE: f64 = 0.25;
/// ...or has zoomed by this factor from its scale (it is laid out anew at `MAX_STRETCH`).
const NEXT_AT_STRETCH: f64 = 1.1;

/// Where a fold holds many spans a pixel column, its shares are summed per this many
/// columns (half the work; the eye does not tell the difference at that density)...
const FOLD_BUCKET_PX: usize = 2;
/// ...and per this many while the view moves; the first frame it holds still sums them
/// again per `FOLD_BUCKET_PX`.
const MOVING_FOLD_BUCKET_PX: usize = 8;

/// Layouts are kept while the view zooms by at most this factor from their scale (drawn
/// stretched until the view holds still).
const MAX_STRETCH: f64 = 1.25;

/// A window of time around the view, laid out while it moves: half a view more on either
/// side, at its scale.
fn window_around(tv: &TimeView) -> TimeView {
    let margin_px = (tv.width_px / 2.0).ceil();
    TimeView {
        start_ns: tv.start_ns - margin_px * tv.ns_per_px,
        ns_per_px: tv.ns_per_px,
        width_px: tv.width_px + 2.0 * margin_px,
    }
}

/// Whether layouts made over the window `lay` draw the view `tv`: it lies within the window
/// (half a pixel of slack at either end) and within `MAX_STRETCH` of its scale.
fn draws(lay: &TimeView, tv: &TimeView) -> bool {
    let stretch = lay.ns_per_px / tv.ns_per_px;
    let slack_ns = tv.ns_per_px * 0.5;
    (1.0 / MAX_STRETCH..=MAX_STRETCH).contains(&stretch)
        && tv.start_ns >= lay.start_ns - slack_ns
        && tv.end_ns() <= lay.end_ns() + slack_ns
}

/// How x laid out in a window's pixels (`LodCache::lay_space`) is drawn this frame: shifted
/// by the pans and stretched by the zooms since the window was laid out.
#[derive(Clone, Copy, Debug)]
struct LayMap {
    /// The left edge of the rects laid out (stays put).
    left: f32,
    shift_px: f32,
    stretch: f32,
}

impl LayMap {
    fn x(&self, x: f32) -> f32 {
        self.left + self.shift_px + (x - self.left) * self.stretch
    }

    fn rect(&self, r: Rect) -> Rect {
        Rect::from_x_y_ranges(self.x(r.left())..=self.x(r.right()), r.y_range())
    }

    /// A mesh built in lay space, on screen.
    fn mesh(&self, mut mesh: Mesh) -> Shape {
        for v in &mut mesh.vertices {
            v.pos.x = self.x(v.pos.x);
        }
        Shape::mesh(mesh)
    }
}

/// The size of lane and ribbon names (readable; Ctrl+= / Ctrl+- scale the whole UI).
const LABEL_PT: f32 = 12.0;

/// Counter ribbons draw one column per this many pixels.
const RIBBON_BUCKET_PX: f64 = 2.0;

/// A lane's layout for one view: its draw items, and under its folds the share of each
/// pixel column's time per category (see `lod::fold_shares`). Derefs to the items.
#[derive(Clone, Debug, Default)]
pub struct LaneLayout {
    pub items: Vec<lod::Item>,
    /// The columns of every folded item, in item order.
    pub folds: Vec<lod::ShareColumn>,
}

impl std::ops::Deref for LaneLayout {
    type Target = Vec<lod::Item>;
    fn deref(&self) -> &Vec<lod::Item> {
        &self.items
    }
}

impl LaneLayout {
    /// Lays out a lane with `shares` giving a folded item's columns.
    fn new(
        items: Vec<lod::Item>,
        shares: impl Fn(&lod::Item) -> Vec<lod::ShareColumn>,
    ) -> LaneLayout {
        let folds = items
            .iter()
            .filter(|i| i.is_folded())
            .flat_map(&shares)
            .collect();
        LaneLayout { items, folds }
    }
}

/// The part of a lane's layout that a frame draws: the items and fold columns that reach
/// into the view's pixels. A layout spans a window of time twice the view's width (so that
/// pans reuse it); meshing and tessellating all of it drew twice the vertices the screen
/// shows.
struct DrawnLayout {
    layout: std::sync::Arc<LaneLayout>,
    items: std::ops::Range<usize>,
    folds: std::ops::Range<usize>,
}

impl DrawnLayout {
    /// The part of `layout` within `xs`, lay-space pixels from the lane's left edge.
    fn new(layout: std::sync::Arc<LaneLayout>, xs: std::ops::Range<f64>) -> DrawnLayout {
        // A pixel of slack either side; items are drawn at least a pixel wide (`item_rect`)
        // and fold columns are a pixel wide. Items and columns are in x order.
        let (from, to) = (xs.start - 1.0, xs.end + 1.0);
        let it = &layout.items;
        let a = it.partition_point(|i| i.x1.max(i.x0 + 1.0) < from);
        let b = it.partition_point(|i| i.x0 <= to).max(a);
        let f = &layout.folds;
        let fa = f.partition_point(|c| c.x + 1.0 < from);
        let fb = f.partition_point(|c| c.x <= to).max(fa);
        DrawnLayout {
            layout,
            items: a..b,
            folds: fa..fb,
        }
    }

    fn items(&self) -> &[lod::Item] {
        &self.layout.items[self.items.clone()]
    }

    fn folds(&self) -> &[lod::ShareColumn] {
        &self.layout.folds[self.folds.clone()]
    }
}

/// How many spans the span lanes among `lanes` hold in `lay`'s time (a count of what
/// laying them out reads).
fn spans_in_window(model: &Model, lanes: &[(LaneKind, usize)], lay: &TimeView) -> usize {
    let (a, b) = (lay.start_ns as i64, lay.end_ns().ceil() as i64);
    let within = |n_by: &dyn Fn(i64) -> usize| n_by(b).saturating_sub(n_by(a));
    (lanes.iter())
        .map(|&(kind, i)| match kind {
            LaneKind::Goroutine => model
                .goroutines
                .get(i)
                .map_or(0, |g| within(&|t| g.spans.count_ending_by(t))),
            LaneKind::Proc => model
                .procs
                .get(i)
                .map_or(0, |p| within(&|t| p.spans.count_ending_by(t))),
            LaneKind::Thread => model
                .threads
                .get(i)
                .map_or(0, |m| within(&|t| m.spans.count_ending_by(t))),
            _ => 0,
        })
        .sum()
}

/// The layout of one lane's spans of one kind.
fn lane_items(
    model: &Model,
    tv: &TimeView,
    kind: LaneKind,
    i: usize,
    bucket_px: usize,
    totals: Option<&[i64]>,
) -> LaneLayout {
    // A plain slice's folds, through its running totals when it has them.
    fn slice_folds<S: lod::Timed>(
        spans: &[S],
        totals: Option<&[i64]>,
        tv: &TimeView,
        bucket_px: usize,
    ) -> LaneLayout {
        LaneLayout::new(lod::layout(spans, tv, MIN_SPAN_PX), |f| match totals {
            Some(t) => lod::fold_shares_totaled(spans, t, f, tv, bucket_px),
            None => lod::fold_shares(spans, f, tv, |_| 0),
        })
    }
    match kind {
        LaneKind::Proc => {
            let s = &model.procs[i].spans;
            LaneLayout::new(s.layout(tv, MIN_SPAN_PX), |f| {
                s.fold_shares(f, tv, bucket_px)
            })
        }
        LaneKind::ProcWork(w) => slice_folds(model.procs[i].work_of(w), totals, tv, bucket_px),
        LaneKind::Goroutine => {
            let s = &model.goroutines[i].spans;
            LaneLayout::new(s.layout(tv, MIN_SPAN_PX), |f| {
                s.fold_shares(f, tv, bucket_px)
            })
        }
        LaneKind::GoroutineAssist => slice_folds(model.assists_of(i), totals, tv, bucket_px),
        LaneKind::Regions(depth) => {
            // Regions of one depth do not overlap; items point into the goroutine's regions.
            let all = &model.goroutines[i].regions;
            let index: Vec<usize> = (0..all.len())
                .filter(|&k| region_band(all[k].depth) == depth)
                .collect();
            let these: Vec<goscope_model::Region> = index.iter().map(|&k| all[k]).collect();
            let mut items = lod::layout(&these, tv, 1.0);
            for it in &mut items {
                it.first = index[it.first];
            }
            LaneLayout {
                items,
                folds: Vec::new(),
            }
        }
        LaneKind::Thread => {
            let s = &model.threads[i].spans;
            LaneLayout::new(s.layout(tv, MIN_SPAN_PX), |f| {
                s.fold_shares(f, tv, bucket_px)
            })
        }
        LaneKind::Gc => slice_folds(&model.gc, totals, tv, bucket_px),
        LaneKind::Stw => slice_folds(&model.stw, totals, tv, bucket_px),
    }
}

/// The layouts a row draws.
fn row_lanes(row: &Row, out: &mut Vec<(LaneKind, usize)>) {
    match *row {
        Row::Proc(i) => {
            out.push((LaneKind::Proc, i));
            for w in PROC_WORK {
                out.push((LaneKind::ProcWork(w), i));
            }
        }
        Row::Goroutine(i) => {
            out.push((LaneKind::Goroutine, i));
            out.push((LaneKind::GoroutineAssist, i));
            // (A row's region bands are few; an absent depth lays out nothing.)
            for d in 0..MAX_REGION_BANDS {
                out.push((LaneKind::Regions(d), i));
            }
        }
        Row::Thread(i) => out.push((LaneKind::Thread, i)),
        Row::Group { .. } | Row::Tasks(_) => {}
    }
}

/// The runtime work a P lane's lower half shows, in drawing order.
const PROC_WORK: [goscope_model::PWork; 4] = [
    goscope_model::PWork::Syscall,
    goscope_model::PWork::Sweep,
    goscope_model::PWork::MarkAssist,
    goscope_model::PWork::Stw,
];

/// The most lane layouts kept at once.
const MAX_CACHED_LANES: usize = 2048;

/// Which spans of a lane a layout is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LaneKind {
    Proc,
    ProcWork(goscope_model::PWork),
    Goroutine,
    /// A goroutine's mark assists while it executes (`Model::assists_of`), a band along
    /// the top of its lane.
    GoroutineAssist,
    /// A goroutine's user regions at one nesting depth (the last holds all deeper ones).
    Regions(u8),
    Thread,
    Gc,
    Stw,
}

impl LodCache {
    /// How many lane layouts are kept.
    pub fn kept_lanes(&self) -> usize {
        self.items.len()
    }

    /// How many lane layouts the frames drawing from these have made: none while the
    /// view holds still over a window that came laid out for it.
    pub fn lanes_laid_out(&self) -> usize {
        self.laid_out
    }

    /// `laid_out_for` on a rayon pool of one thread of its own, at the calling thread's
    /// priority: on the global pool, which the UI thread's own layouts use, a frame would
    /// wait behind it (9 ms in one frame of the 1.17 GB trace's dense view). None if no
    /// thread can be made.
    pub(crate) fn laid_out_apart(
        model: &Model,
        id: TraceId,
        shown: &ShownLanes,
        fine: bool,
    ) -> Option<LodCache> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .thread_name(|_| "goscope-lay-out".into())
            .build()
            .ok()?;
        Some(pool.install(|| LodCache::laid_out_for(model, id, shown, fine)))
    }

    /// While the view moves (`moving`) towards the edge of the window laid out, or zooms
    /// away from its scale, lays out the window around it on a thread of its own (the
    /// coarse layout a moving frame makes), so that the frame that leaves the window takes
    /// that over instead of laying all of it out itself (11-14 ms, where the other moving
    /// frames take 1-4). A frame that leaves it before that is made lays out as before.
    ///
    /// Once the view holds still over lanes too large to lay out finely in the frame
    /// (`refine_apart`), lays them out finely the same way, and `ctx` is asked for a frame
    /// when that is made.
    fn lay_out_next(
        &mut self,
        model: &std::sync::Arc<Model>,
        id: TraceId,
        tv: &TimeView,
        lanes: &[(LaneKind, usize)],
        moving: bool,
        ctx: &egui::Context,
    ) {
        if !self.is_for(id) {
            return;
        }
        if !self.fine && !self.sized {
            self.refine_apart = spans_in_window(model, lanes, &self.lay) > REFINE_APART_SPANS;
            self.sized = true;
        }
        if self.next.is_some() {
            return;
        }
        let fine = self.want_fine && !moving;
        let stretch = self.lay.ns_per_px / tv.ns_per_px;
        let edge_ns = NEXT_AT_EDGE * tv.width_px * tv.ns_per_px;
        let near = !(1.0 / NEXT_AT_STRETCH..=NEXT_AT_STRETCH).contains(&stretch)
            || tv.start_ns - self.lay.start_ns < edge_ns
            || self.lay.end_ns() - tv.end_ns() < edge_ns;
        if !(fine || moving && near) {
            return;
        }
        let made = std::sync::Arc::new(std::sync::Mutex::new(None));
        let shown = ShownLanes {
            tv: *tv,
            lanes: lanes.to_vec(),
        };
        let (model, into, ctx) = (model.clone(), made.clone(), ctx.clone());
        let started = std::thread::Builder::new()
            .name("goscope-lay-next".into())
            .spawn(move || {
                let cache = LodCache::laid_out_apart(&model, id, &shown, fine);
                if let (Some(cache), Ok(mut slot)) = (cache, into.lock()) {
                    *slot = Some(cache);
                }
                ctx.request_repaint();
            });
        if started.is_ok() {
            self.next = Some(NextLayout {
                lay: window_around(tv),
                made,
            });
        }
    }

    /// Whether the view holds still over a coarse layout while the fine one is made apart
    /// (frames then need not come one after another: one is asked for once it is made).
    fn waiting_apart(&self) -> bool {
        self.want_fine && self.next.is_some()
    }

    /// Takes over the next window's layouts (`lay_out_next`) if they are made and hold the
    /// view `tv` of trace `id`; drops them if they can no longer.
    fn take_next(&mut self, id: TraceId, tv: &TimeView) {
        let Some(next) = &self.next else {
            return;
        };
        let holds = next.lay.width_px == window_around(tv).width_px && draws(&next.lay, tv);
        let made = next.made.lock().ok().and_then(|mut m| m.take());
        match made {
            Some(cache) if holds && cache.is_for(id) => {
                // Where the view is, how many lanes were laid out here, and whether lanes
                // this large are refined apart (the same lanes, about as many spans) go on.
                let (view, moved_in_frame, laid_out, refine_apart) = (
                    self.view,
                    self.moved_in_frame,
                    self.laid_out,
                    self.refine_apart,
                );
                *self = LodCache {
                    view,
                    moved_in_frame,
                    laid_out,
                    refine_apart,
                    ..cache
                };
            }
            // Made for a view left behind (or another trace).
            Some(_) => self.next = None,
            None if !holds => self.next = None,
            None => {}
        }
    }

    /// Whether the layouts are of trace `id`.
    pub fn is_for(&self, id: TraceId) -> bool {
        self.key.is_some_and(|(k, _)| k == id)
    }

    /// The layouts the first frame showing trace `id` (`model`) makes for `shown` when the
    /// view has not moved since (`fine`; coarse fold buckets, as while the view moves,
    /// otherwise): the ribbons', the lanes', and what is kept per trace for them. Made off
    /// the UI thread (`laid_out_apart`); a frame whose view or width is another lays out
    /// afresh (`check`).
    fn laid_out_for(model: &Model, id: TraceId, shown: &ShownLanes, fine: bool) -> LodCache {
        let mut cache = LodCache::default();
        cache.check(id, &shown.tv, 0);
        cache.fine = fine;
        cache.prefetch_ribbons(model);
        cache.prefetch_lanes(model, &shown.lanes);
        for &(kind, i) in &shown.lanes {
            if kind == LaneKind::Goroutine && i < model.goroutines.len() {
                cache.region_bands(model, i);
            }
        }
        cache.task_levels(model);
        cache.laid_out = 0;
        cache
    }

    /// Forgets the layouts if the model or the width changed, or the view left the window
    /// laid out or zoomed more than `MAX_STRETCH` from its scale (then lays out a window
    /// around the view); if the view held still since the last frame, lays out again what
    /// was laid out while it moved (coarser folds, another scale). Returns whether the
    /// layouts of this frame are coarse (so another frame should follow).
    fn check(&mut self, model: TraceId, tv: &TimeView, frame: u64) -> bool {
        self.take_next(model, tv);
        let key = (model, tv.width_px.to_bits());
        let first = self.key.is_none_or(|k| k.0 != model);
        let stretch = self.lay.ns_per_px / tv.ns_per_px;
        let held = self.key == Some(key) && draws(&self.lay, tv);
        let moved = self.view != (tv.start_ns, tv.ns_per_px);
        self.view = (tv.start_ns, tv.ns_per_px);
        if first {
            self.slice_totals.clear();
            self.task_levels = None;
            self.region_bands.clear();
        }
        if moved {
            self.moved_in_frame = frame;
        }
        // Laid out coarsely, or at another scale, and the view has held still since.
        let refine = !moved && (!self.fine || stretch != 1.0) && frame > self.moved_in_frame;
        self.want_fine = refine && held && self.refine_apart;
        if self.want_fine {
            // Drawn as laid out until the fine layout made apart is taken over.
        } else if !held || (refine && stretch != 1.0) {
            self.lay = window_around(tv);
            self.key = Some(key);
            self.next = None;
            self.sized = false;
            self.items.clear();
            self.columns.clear();
            self.densities.clear();
            // A new trace's first frame is as still as any.
            self.fine = first || !moved;
        } else if refine {
            self.items.clear();
            self.fine = true;
        }
        !self.fine || self.lay.ns_per_px != tv.ns_per_px
    }

    /// Lane and ribbon x in the window's pixels for `x_px` in the view's.
    fn lay_x(&self, tv: &TimeView, x_px: f64) -> f64 {
        (x_px - self.shift_px(tv)) * tv.ns_per_px / self.lay.ns_per_px
    }

    /// The x range of the window's pixels that the view shows.
    fn visible_px(&self, tv: &TimeView) -> std::ops::Range<f64> {
        self.lay_x(tv, 0.0)..self.lay_x(tv, tv.width_px)
    }

    /// Where the laid-out window's left edge is drawn, in pixels from the view's left edge
    /// (zero or less).
    fn shift_px(&self, tv: &TimeView) -> f64 {
        (self.lay.start_ns - tv.start_ns) / tv.ns_per_px
    }

    /// The rect a lane or ribbon whose visible part is `rect` is laid out in: as tall, as
    /// wide as the window, from the same left edge (`map` puts it on screen).
    fn lay_space(&self, rect: Rect) -> Rect {
        Rect::from_min_size(rect.min, Vec2::new(self.lay.width_px as f32, rect.height()))
    }

    /// How `lay_space` x maps to the screen this frame, for rects with this left edge.
    fn map(&self, tv: &TimeView, left: f32) -> LayMap {
        LayMap {
            left,
            shift_px: self.shift_px(tv) as f32,
            stretch: (self.lay.ns_per_px / tv.ns_per_px) as f32,
        }
    }

    /// How many region bands goroutine `gi`'s lane keeps, found once per trace.
    fn region_bands(&mut self, model: &Model, gi: usize) -> u8 {
        *self
            .region_bands
            .entry(gi)
            .or_insert_with(|| region_bands(&model.goroutines[gi].regions))
    }

    /// The user tasks packed into levels (`lanes::task_levels`), made once per trace.
    fn task_levels(&mut self, model: &Model) -> std::sync::Arc<Vec<Vec<usize>>> {
        self.task_levels
            .get_or_insert_with(|| std::sync::Arc::new(super::lanes::task_levels(model)))
            .clone()
    }

    /// The running totals of lane `(kind, index)` if it is a plain slice (made on first use).
    fn totals(
        &mut self,
        model: &Model,
        kind: LaneKind,
        index: usize,
    ) -> Option<std::sync::Arc<Vec<i64>>> {
        let make = || match kind {
            LaneKind::ProcWork(w) => Some(lod::running_totals(model.procs[index].work_of(w))),
            LaneKind::GoroutineAssist => Some(lod::running_totals(model.assists_of(index))),
            LaneKind::Gc => Some(lod::running_totals(&model.gc)),
            LaneKind::Stw => Some(lod::running_totals(&model.stw)),
            _ => None,
        };
        if let Some(t) = self.slice_totals.get(&(kind, index)) {
            return Some(t.clone());
        }
        let t = std::sync::Arc::new(make()?);
        self.slice_totals.insert((kind, index), t.clone());
        Some(t)
    }

    /// The bucket width of fold shares for layouts made now.
    fn fold_bucket_px(&self) -> usize {
        if self.fine {
            FOLD_BUCKET_PX
        } else {
            MOVING_FOLD_BUCKET_PX
        }
    }

    /// The layout of lane `index`'s spans of this kind.
    fn items(&mut self, model: &Model, kind: LaneKind, index: usize) -> std::sync::Arc<LaneLayout> {
        // Scrolling through many lanes without moving the view would otherwise keep every
        // lane's items; a screenful is far below this.
        if self.items.len() >= MAX_CACHED_LANES {
            self.items.clear();
        }
        if let Some(l) = self.items.get(&(kind, index)) {
            return l.clone();
        }
        let bucket_px = self.fold_bucket_px();
        let totals = self.totals(model, kind, index);
        self.laid_out += 1;
        let l = std::sync::Arc::new(lane_items(
            model,
            &self.lay,
            kind,
            index,
            bucket_px,
            totals.as_deref().map(|t| &t[..]),
        ));
        self.items.insert((kind, index), l.clone());
        l
    }

    /// The part of lane `index`'s layout of this kind that the view `tv` shows.
    fn drawn(&mut self, model: &Model, kind: LaneKind, index: usize, tv: &TimeView) -> DrawnLayout {
        let xs = self.visible_px(tv);
        DrawnLayout::new(self.items(model, kind, index), xs)
    }

    /// Lays out, on the rayon pool, the lanes of `keys` that are not kept yet (a frame's
    /// visible lanes are independent of each other).
    fn prefetch_lanes(&mut self, model: &Model, keys: &[(LaneKind, usize)]) {
        use rayon::prelude::*;
        let missing: Vec<(LaneKind, usize)> = keys
            .iter()
            .copied()
            .filter(|k| !self.items.contains_key(k))
            .collect();
        if missing.len() < 2 {
            return;
        }
        if self.items.len() + missing.len() > MAX_CACHED_LANES {
            self.items.clear();
        }
        let bucket_px = self.fold_bucket_px();
        let missing: Vec<_> = missing
            .into_iter()
            .map(|(kind, i)| (kind, i, self.totals(model, kind, i)))
            .collect();
        let tv = self.lay;
        let made: Vec<_> = missing
            .into_par_iter()
            .map(|(kind, i, totals)| {
                let t = totals.as_deref().map(|t| &t[..]);
                (
                    (kind, i),
                    std::sync::Arc::new(lane_items(model, &tv, kind, i, bucket_px, t)),
                )
            })
            .collect();
        self.laid_out += made.len();
        self.items.extend(made);
    }

    /// Computes the counter columns and stimulus densities of the ribbons on the rayon pool.
    fn prefetch_ribbons(&mut self, model: &Model) {
        use rayon::prelude::*;
        let lay = self.lay;
        let tv = &lay;
        let c = &model.counters;
        let series = [
            &c.heap_alloc,
            &c.heap_goal,
            &c.running,
            &c.runnable,
            &c.gc_waiting,
            &c.threads_running,
            &c.threads_syscall,
        ];
        let bucket_px: f64 = RIBBON_BUCKET_PX;
        let todo: Vec<&goscope_model::Series> = series
            .into_iter()
            .filter(|s| {
                !self.columns.contains_key(&(
                    *s as *const goscope_model::Series as usize,
                    bucket_px.to_bits(),
                ))
            })
            .collect();
        let times: Vec<(&Vec<i64>, &Vec<u64>)> = model
            .stimulus_times
            .iter()
            .zip(&model.stimulus_totals)
            .filter(|(t, _)| !self.densities.contains_key(&(t.as_ptr() as usize)))
            .collect();
        if todo.is_empty() && times.is_empty() {
            // (Not even a join on the pool, where another thread's work may be queued.)
            return;
        }
        let (cols, dens): (Vec<_>, Vec<_>) = rayon::join(
            || {
                todo.par_iter()
                    .map(|s| {
                        let key = (
                            *s as *const goscope_model::Series as usize,
                            bucket_px.to_bits(),
                        );
                        (key, std::sync::Arc::new(s.columns(tv, bucket_px)))
                    })
                    .collect()
            },
            || {
                times
                    .par_iter()
                    .map(|(t, totals)| {
                        (
                            t.as_ptr() as usize,
                            std::sync::Arc::new(lod::density_counted(t, totals, tv, 1.0)),
                        )
                    })
                    .collect()
            },
        );
        self.columns.extend(cols);
        self.densities.extend(dens);
    }

    /// Instants per one-pixel bucket (`times` is identified by its address).
    fn density(&mut self, times: &[i64], totals: &[u64]) -> std::sync::Arc<Vec<(f64, usize)>> {
        let tv = &self.lay;
        self.densities
            .entry(times.as_ptr() as usize)
            .or_insert_with(|| std::sync::Arc::new(lod::density_counted(times, totals, tv, 1.0)))
            .clone()
    }

    /// The columns of a counter series at this bucket width.
    fn columns(
        &mut self,
        series: &goscope_model::Series,
        bucket_px: f64,
    ) -> std::sync::Arc<Vec<lod::Column>> {
        let tv = &self.lay;
        let key = (
            series as *const goscope_model::Series as usize,
            bucket_px.to_bits(),
        );
        self.columns
            .entry(key)
            .or_insert_with(|| std::sync::Arc::new(series.columns(tv, bucket_px)))
            .clone()
    }
}

impl Default for Geometry {
    fn default() -> Self {
        Geometry {
            plot: Rect::NOTHING,
            rows: Vec::new(),
            ribbons: Vec::new(),
            content_h: 0.0,
            lod: LodCache::default(),
            shown_lanes: ShownLanes::default(),
        }
    }
}

impl Geometry {
    pub fn row_rect(&self, row: &Row) -> Option<Rect> {
        self.rows
            .iter()
            .find(|(r, _)| r == row)
            .map(|(_, rect)| *rect)
    }
}

/// What the timeline reports back to the app for this frame.
#[derive(Default)]
pub struct Outcome {
    pub clicked: Option<Pick>,
    pub double_clicked: Option<Pick>,
    pub toggled_group: Option<String>,
}

fn time_view(view: &TimelineView, plot: Rect) -> TimeView {
    TimeView::new(view.start_ns, view.end_ns, plot.width() as f64)
}

/// Draws the whole timeline into `ui`'s remaining space.
pub(crate) fn timeline_ui(
    ui: &mut Ui,
    trace: &OpenTrace,
    view: &mut TimelineView,
    rows: &[Row],
    selected: Option<Pick>,
    highlight: Highlight,
    geometry: &mut Geometry,
) -> Outcome {
    let model = &*trace.model;
    let mut out = Outcome::default();
    let full = ui.available_rect_before_wrap();
    let ribbons_h: f32 = Ribbon::ALL.iter().map(|r| r.height() + 2.0).sum();
    let axis = Rect::from_min_size(full.min, Vec2::new(full.width(), AXIS_H));
    let ribbon_area = Rect::from_min_size(
        Pos2::new(full.left(), axis.bottom()),
        Vec2::new(full.width(), ribbons_h),
    );
    let lanes_area =
        Rect::from_min_max(Pos2::new(full.left(), ribbon_area.bottom() + 2.0), full.max);
    let plot_x0 = full.left() + GUTTER_PX;
    let plot_x1 = (full.right() - SCROLLBAR_W).max(plot_x0 + 10.0);
    let plot = Rect::from_min_max(
        Pos2::new(plot_x0, axis.bottom()),
        Pos2::new(plot_x1, full.bottom()),
    );
    geometry.plot = plot;
    let tv = time_view(view, plot);
    let mut cache = std::mem::take(&mut geometry.lod);
    if cache.check(trace.id, &tv, ui.ctx().cumulative_frame_nr()) && !cache.waiting_apart() {
        ui.ctx().request_repaint();
    }
    cache.prefetch_ribbons(model);
    let painter = ui.painter_at(full);
    painter.rect_filled(full, 0.0, ui.visuals().extreme_bg_color);

    // Interaction over the plot (ribbons + lanes).
    let resp = ui.interact(
        plot,
        ui.scope_id().with("timeline-plot"),
        Sense::click_and_drag(),
    );
    let pointer = resp.hover_pos();
    let shift = ui.input(|i| i.modifiers.shift);

    // Axis.
    let wall_zero_ns = super::clock::axis_zero_ns(model, view.clock);
    let pointer_time = axis_ui(&painter, model, &tv, wall_zero_ns, axis, plot, pointer);

    // Ribbons.
    geometry.ribbons.clear();
    let mut y = ribbon_area.top();
    for r in Ribbon::ALL {
        let rect = Rect::from_min_size(
            Pos2::new(full.left(), y),
            Vec2::new(full.width(), r.height()),
        );
        let prect = Rect::from_min_max(
            Pos2::new(plot_x0, rect.top()),
            Pos2::new(plot_x1, rect.bottom()),
        );
        put_left(
            ui,
            Rect::from_min_size(
                rect.min + Vec2::new(6.0, 0.0),
                Vec2::new(GUTTER_PX - 8.0, r.height()),
            ),
            egui::Label::new(egui::RichText::new(r.name()).size(LABEL_PT)).truncate(),
        );
        ribbon_ui(
            &painter.with_clip_rect(prect),
            model,
            &tv,
            r,
            prect,
            &mut cache,
        );
        geometry.ribbons.push((r, rect));
        y += r.height() + 2.0;
    }
    pointer_time_ui(&painter, pointer_time);
    painter.line_segment(
        [
            Pos2::new(full.left(), ribbon_area.bottom() + 1.0),
            Pos2::new(full.right(), ribbon_area.bottom() + 1.0),
        ],
        Stroke::new(1.0, ui.visuals().widgets.noninteractive.bg_stroke.color),
    );

    // Lanes, virtualized: only rows in view are laid out and painted.
    let content_h: f32 = rows.iter().map(row_height).sum();
    geometry.content_h = content_h;
    let max_scroll = (content_h - lanes_area.height()).max(0.0);
    // Vertical scrolling: wheel over the gutter, keys, scrollbar drag.
    let gutter = Rect::from_min_max(lanes_area.min, Pos2::new(plot_x0, lanes_area.bottom()));
    if ui.rect_contains_pointer(gutter) {
        view.scroll_y -= ui.input(|i| i.smooth_scroll_delta.y);
    }
    let sb = Rect::from_min_max(Pos2::new(plot_x1, lanes_area.top()), lanes_area.max);
    let sb_resp = ui.interact(sb, ui.scope_id().with("lanes-scrollbar"), Sense::drag());
    if sb_resp.dragged() && lanes_area.height() > 0.0 {
        view.scroll_y += sb_resp.drag_delta().y * content_h / lanes_area.height();
    }
    view.scroll_y = view.scroll_y.clamp(0.0, max_scroll);
    if content_h > lanes_area.height() {
        let frac = lanes_area.height() / content_h;
        let top = lanes_area.top() + view.scroll_y / content_h * lanes_area.height();
        let thumb = Rect::from_min_size(
            Pos2::new(sb.left() + 2.0, top),
            Vec2::new(SCROLLBAR_W - 4.0, frac * lanes_area.height()),
        );
        painter.rect_filled(thumb, 3.0, ui.visuals().widgets.inactive.bg_fill);
    }

    geometry.rows.clear();
    let lane_painter = painter.with_clip_rect(Rect::from_min_max(
        lanes_area.min,
        Pos2::new(plot_x1, lanes_area.max.y),
    ));
    // The visible rows' layouts, in parallel, before painting them one by one.
    {
        let mut keys = Vec::new();
        let mut y = lanes_area.top() - view.scroll_y;
        for row in rows {
            let h = row_height(row);
            if y + h >= lanes_area.top() && y <= lanes_area.bottom() {
                row_lanes(row, &mut keys);
            }
            y += h;
            if y > lanes_area.bottom() {
                break;
            }
        }
        cache.prefetch_lanes(model, &keys);
        // The ribbons' lanes too, for a model laid out before it is shown.
        keys.extend([(LaneKind::Gc, 0), (LaneKind::Stw, 0)]);
        let moving = cache.moved_in_frame == ui.ctx().cumulative_frame_nr();
        cache.lay_out_next(&trace.model, trace.id, &tv, &keys, moving, ui.ctx());
        if geometry.shown_lanes.tv != tv || geometry.shown_lanes.lanes != keys {
            geometry.shown_lanes = ShownLanes { tv, lanes: keys };
        }
    }
    let mut y = lanes_area.top() - view.scroll_y;
    for row in rows {
        let h = row_height(row);
        if y + h >= lanes_area.top() && y <= lanes_area.bottom() {
            let rect = Rect::from_min_size(
                Pos2::new(full.left(), y),
                Vec2::new(plot_x1 - full.left(), h),
            );
            let prect = Rect::from_min_max(Pos2::new(plot_x0, y), Pos2::new(plot_x1, y + h - 1.0));
            if let Some(key) = row_ui(
                ui,
                &lane_painter,
                model,
                &tv,
                row,
                rect,
                prect,
                lanes_area,
                selected,
                highlight,
                &mut cache,
            ) {
                out.toggled_group = Some(key);
            }
            geometry.rows.push((row.clone(), rect));
        }
        y += h;
        if y > lanes_area.bottom() {
            break;
        }
    }

    // In a focused goroutine view, who woke whom.
    if matches!(rows.first(), Some(Row::Group { key, .. }) if key == FOCUS_GROUP) {
        wakeup_arrows(&lane_painter, model, &tv, plot, &geometry.rows);
    }

    // Selection (shift-drag) and panning (drag).
    let t_at = |p: Pos2| tv.ns_from_x((p.x - plot.left()) as f64);
    if resp.drag_started() {
        view.selecting = shift;
        let origin = ui
            .input(|i| i.pointer.press_origin())
            .or(resp.interact_pointer_pos());
        if let (true, Some(p)) = (shift, origin) {
            view.selection = Some((t_at(p), t_at(p)));
        }
    }
    if view.selecting && (resp.dragged() || resp.drag_stopped()) {
        if let (Some(p), Some((a, _))) = (resp.interact_pointer_pos(), view.selection) {
            view.selection = Some((a, t_at(p)));
        }
    } else if resp.dragged() {
        let d = -(resp.drag_delta().x as f64) * tv.ns_per_px;
        view.start_ns += d;
        view.end_ns += d;
    }
    if resp.drag_stopped() && view.selecting {
        view.selecting = false;
        if let Some((a, b)) = view.selection {
            view.selection = if (b - a).abs() < tv.ns_per_px {
                None
            } else {
                Some((a.min(b), a.max(b)))
            };
        }
    }
    // Wheel: vertical zooms around the pointer, horizontal pans; ctrl+wheel zooms too.
    if let Some(p) = pointer {
        let (scroll, zoom) = ui.input(|i| (i.smooth_scroll_delta, i.zoom_delta()));
        let anchor = ((p.x - plot.left()) / plot.width()) as f64;
        if zoom != 1.0 {
            view.zoom(1.0 / zoom as f64, anchor);
        } else if scroll.y != 0.0 && !ui.rect_contains_pointer(gutter) {
            view.zoom((-scroll.y as f64 / 200.0).exp(), anchor);
        }
        if scroll.x != 0.0 {
            view.pan(-scroll.x as f64 / plot.width() as f64);
        }
    }

    // Selection overlay.
    if let Some((a, b)) = view.selection {
        let x0 = plot.left() + tv.x_from_ns(a.min(b)) as f32;
        let x1 = plot.left() + tv.x_from_ns(a.max(b)) as f32;
        let r = Rect::from_min_max(
            Pos2::new(x0.max(plot.left()), plot.top()),
            Pos2::new(x1.min(plot.right()), plot.bottom()),
        );
        if r.width() > 0.0 {
            painter.rect_filled(r, 0.0, colors::SELECTION);
            let label = format!("selection {}", format_duration((b - a).abs()));
            painter.text(
                Pos2::new(r.center().x, plot.top() + 2.0),
                Align2::CENTER_TOP,
                &label,
                FontId::proportional(12.0),
                Color32::WHITE,
            );
        }
    }

    // Hover line and tooltip; click picks.
    if let Some(p) = pointer.filter(|p| plot.contains(*p)) {
        painter.line_segment(
            [Pos2::new(p.x, plot.top()), Pos2::new(p.x, plot.bottom())],
            Stroke::new(1.0, Color32::from_white_alpha(40)),
        );
        let pick = pick_at(model, &tv, geometry, &mut cache, p);
        if pick.is_none() && !resp.dragged() {
            // The counters' and arrivals' values at the pointer.
            let ribbon = geometry.ribbons.iter().find(|(_, r)| r.contains(p));
            if let Some(&(ribbon, _)) = ribbon {
                let t_ns = tv.ns_from_x((p.x - plot.left()) as f64);
                resp.clone().on_hover_ui_at_pointer(|ui| {
                    ribbon_tooltip_ui(ui, model, ribbon, t_ns, tv.ns_per_px)
                });
            }
        }
        if let Some(pick) = pick {
            if !resp.dragged() {
                resp.clone()
                    .on_hover_ui_at_pointer(|ui| tooltip_ui(ui, model, pick));
            }
            if resp.double_clicked() {
                out.double_clicked = Some(pick);
            } else if resp.clicked() {
                out.clicked = Some(pick);
            }
        }
    }
    geometry.lod = cache;
    out
}

/// What a counter or arrivals ribbon holds at `t_ns` (absolute), in words; arrivals are
/// counted over the pixel column (`col_ns` wide) under the pointer.
fn ribbon_tooltip_ui(ui: &mut Ui, model: &Model, ribbon: Ribbon, t_ns: f64, col_ns: f64) {
    let c = &model.counters;
    let t = t_ns as i64;
    ui.label(egui::RichText::new(ribbon.name()).strong());
    match ribbon {
        Ribbon::Heap => {
            ui.label(format!("allocated {}", format_bytes(c.heap_alloc.at(t))));
            ui.label(format!("goal {}", format_bytes(c.heap_goal.at(t))));
        }
        Ribbon::Goroutines => {
            ui.label(format!(
                "running {} · runnable {} · waiting for the GC {}",
                c.running.at(t),
                c.runnable.at(t),
                c.gc_waiting.at(t)
            ));
        }
        Ribbon::Threads => {
            ui.label(format!(
                "running {} · in a syscall {}",
                c.threads_running.at(t),
                c.threads_syscall.at(t)
            ));
        }
        Ribbon::Network | Ribbon::Syscalls | Ribbon::Timers => {
            let (kind, what) = match ribbon {
                Ribbon::Network => (StimulusKind::Network, "network arrivals"),
                Ribbon::Syscalls => (StimulusKind::Syscall, "syscall returns"),
                _ => (StimulusKind::Timer, "timers fired"),
            };
            let times = &model.stimulus_times[kind as usize];
            let a = times.partition_point(|&x| (x as f64) < t_ns);
            let b = times.partition_point(|&x| (x as f64) < t_ns + col_ns);
            let k = kind as usize;
            ui.label(format!(
                "{} {what} in this pixel ({})",
                model.stimuli_before(k, b) - model.stimuli_before(k, a),
                format_duration(col_ns)
            ));
        }
        Ribbon::Gc => {
            ui.label("no GC cycle running");
        }
        Ribbon::Stw => {
            ui.label("the world is running");
        }
    }
}

/// The most wake-up arrows drawn at once; beyond it the view asks to zoom in.
const MAX_ARROWS: usize = 2000;

/// Draws an arrow from the waker's lane to the woken goroutine's lane at each unblock in
/// view, between goroutines whose lanes are both on screen.
fn wakeup_arrows(
    painter: &egui::Painter,
    model: &Model,
    tv: &TimeView,
    plot: Rect,
    rows: &[(Row, Rect)],
) {
    let lane_y: rustc_hash::FxHashMap<i64, f32> = rows
        .iter()
        .filter_map(|(r, rect)| match r {
            Row::Goroutine(gi) => Some((model.goroutines[*gi].id, rect.center().y)),
            _ => None,
        })
        .collect();
    let (t0, t1) = (tv.start_ns, tv.ns_from_x(tv.width_px));
    let mut arrows = Vec::new();
    for (r, _) in rows {
        let Row::Goroutine(gi) = r else { continue };
        let g = &model.goroutines[*gi];
        let Some(&to_y) = lane_y.get(&g.id) else {
            continue;
        };
        let first = g.spans.count_starting(|s| (s as f64) < t0);
        for s in g
            .spans
            .iter_from(first)
            .take_while(|s| (s.start_ns as f64) <= t1)
        {
            if s.waker < 0 || s.waker == g.id {
                continue;
            }
            if let Some(&from_y) = lane_y.get(&s.waker) {
                arrows.push((s.start_ns, from_y, to_y));
                if arrows.len() > MAX_ARROWS {
                    painter.text(
                        Pos2::new(plot.right() - 8.0, plot.bottom() - 8.0),
                        Align2::RIGHT_BOTTOM,
                        "zoom in to see wake-up arrows",
                        FontId::proportional(12.0),
                        Color32::from_gray(200),
                    );
                    return;
                }
            }
        }
    }
    let stroke = Stroke::new(1.5, colors::WAKEUP);
    for (t_ns, from_y, to_y) in arrows {
        let x = plot.left() + tv.x_from_ns(t_ns as f64) as f32;
        let (a, b) = (Pos2::new(x, from_y), Pos2::new(x, to_y));
        painter.line_segment([a, b], stroke);
        // The head, pointing at the woken goroutine.
        let dir = if to_y > from_y { -1.0 } else { 1.0 };
        painter.add(egui::Shape::convex_polygon(
            vec![
                b,
                Pos2::new(x - 4.0, to_y + dir * 7.0),
                Pos2::new(x + 4.0, to_y + dir * 7.0),
            ],
            colors::WAKEUP,
            Stroke::NONE,
        ));
        painter.circle_filled(a, 2.5, colors::WAKEUP);
    }
}

/// The time axis: ticks and labels since the trace's start, or of the wall clock when
/// `wall_zero_ns` (the wall time at the start, see `clock::axis_zero_ns`) is given.
/// Returns the pointer's time label, to be painted over the ribbons once they are drawn
/// (their scale labels sit where it goes when the pointer is near the right edge).
fn axis_ui(
    painter: &egui::Painter,
    model: &Model,
    tv: &TimeView,
    wall_zero_ns: Option<i128>,
    axis: Rect,
    plot: Rect,
    pointer: Option<Pos2>,
) -> Option<(Rect, std::sync::Arc<egui::Galley>)> {
    let step = tick_step_ns(tv.ns_per_px, 90.0);
    let rel0 = tv.start_ns - model.start_ns as f64;
    let first = (rel0 / step).floor() * step;
    let color = Color32::from_gray(170);
    let last = rel0 + tv.ns_per_px * tv.width_px;
    let (base, labels) = match wall_zero_ns {
        Some(zero) => super::clock::wall_axis_labels(first, last, step, zero),
        None => axis_labels(first, last, step),
    };
    if let Some((_, text)) = &base {
        // The base the ticks count from, in the gutter left of the plot.
        painter.text(
            Pos2::new(plot.left() - 4.0, axis.top() + 2.0),
            Align2::RIGHT_TOP,
            format!("{text} +"),
            FontId::proportional(11.0),
            Color32::from_gray(220),
        );
    }
    for (t, label) in labels {
        let x = plot.left() + tv.x_from_ns(t + model.start_ns as f64) as f32;
        if x >= plot.left() {
            painter.line_segment(
                [
                    Pos2::new(x, axis.bottom() - 6.0),
                    Pos2::new(x, axis.bottom()),
                ],
                Stroke::new(1.0, color),
            );
            painter.line_segment(
                [Pos2::new(x, axis.bottom()), Pos2::new(x, plot.bottom())],
                Stroke::new(1.0, Color32::from_white_alpha(12)),
            );
            painter.text(
                Pos2::new(x + 3.0, axis.top() + 2.0),
                Align2::LEFT_TOP,
                label,
                FontId::proportional(11.0),
                color,
            );
        }
    }
    if let Some(p) = pointer.filter(|p| plot.x_range().contains(p.x)) {
        let t = tv.ns_from_x((p.x - plot.left()) as f64) - model.start_ns as f64;
        // To the step's tenth; from the base when the ticks count from one.
        let text = match &base {
            Some((b, b_text)) => format!("{b_text} +{}", format_offset(t - b, step / 10.0)),
            None => match wall_zero_ns {
                Some(zero) => super::clock::pointer_text(zero, t, step / 10.0),
                None => format_duration(t),
            },
        };
        // Below the tick labels, over the top of the plot, so it never hides one.
        let at = Pos2::new(p.x, axis.bottom() + 1.0);
        let font = FontId::proportional(11.0);
        let galley = painter.layout_no_wrap(text, font, Color32::WHITE);
        let r = Align2::CENTER_TOP
            .anchor_size(at, galley.size())
            .translate(egui::vec2(0.0, 0.0));
        let r = r.translate(egui::vec2(
            (plot.left() + 2.0 - r.left()).max(0.0) + (plot.right() - 2.0 - r.right()).min(0.0),
            0.0,
        ));
        return Some((r, galley));
    }
    None
}

/// Paints the pointer's time label that `axis_ui` laid out.
fn pointer_time_ui(painter: &egui::Painter, label: Option<(Rect, std::sync::Arc<egui::Galley>)>) {
    if let Some((r, galley)) = label {
        painter.rect_filled(r.expand(2.0), 2.0, Color32::from_black_alpha(220));
        painter.galley(r.min, galley, Color32::WHITE);
    }
}

/// A filled step chart of one or more stacked series.
/// Paints stacked counters scaled to `max`, or (if `None`) to the highest stack in view;
/// returns the scale's maximum.
fn stacked_ui(
    painter: &egui::Painter,
    tv: &TimeView,
    rect: Rect,
    series: &[(&goscope_model::Series, Color32)],
    max: Option<f64>,
    cache: &mut LodCache,
) -> f64 {
    let bucket = RIBBON_BUCKET_PX;
    let cols: Vec<_> = series
        .iter()
        .map(|(s, _)| cache.columns(s, bucket))
        .collect();
    let n = (cache.lay.width_px / bucket).ceil() as usize;
    let visible = cache.visible_px(tv);
    let max = max.unwrap_or_else(|| visible_stack_max(&cols, bucket, n, visible));
    if max <= 0.0 {
        return max;
    }
    let map = cache.map(tv, rect.left());
    let rect = cache.lay_space(rect);
    let mut mesh = Mesh::default();
    let scale = rect.height() as f64 / max;
    let mut base = vec![0.0f64; n + 1];
    for (k, (_, color)) in series.iter().enumerate() {
        for c in cols[k].iter() {
            let i = (c.x / bucket) as usize;
            if i >= base.len() {
                continue;
            }
            let b = base[i];
            let top = b + c.max;
            let x0 = rect.left() + c.x as f32;
            let r = Rect::from_min_max(
                Pos2::new(x0, rect.bottom() - (top * scale) as f32),
                Pos2::new(x0 + bucket as f32, rect.bottom() - (b * scale) as f32),
            );
            mesh.add_colored_rect(r, *color);
            base[i] = top;
        }
    }
    painter.add(map.mesh(mesh));
    max
}

/// The highest stack of these counters' columns in view (each column's maxima summed):
/// `n` columns of `bucket` pixels, of which those meeting the x range `visible` count.
fn visible_stack_max(
    cols: &[std::sync::Arc<Vec<lod::Column>>],
    bucket: f64,
    n: usize,
    visible: std::ops::Range<f64>,
) -> f64 {
    let mut stack = vec![0.0f64; n + 1];
    for c in cols.iter().flat_map(|c| c.iter()) {
        if let Some(s) = stack.get_mut((c.x / bucket) as usize) {
            *s += c.max;
        }
    }
    stack
        .into_iter()
        .enumerate()
        .filter(|&(i, _)| {
            let x = i as f64 * bucket;
            x + bucket > visible.start && x < visible.end
        })
        .fold(0.0, |m, (_, v)| m.max(v))
}

/// The scale's maximum, at the ribbon's top right ("max 37", "max 1.2 GB").
fn scale_label(painter: &egui::Painter, rect: Rect, text: String) {
    let galley = painter.layout_no_wrap(text, FontId::proportional(9.5), Color32::from_gray(210));
    let at =
        Align2::RIGHT_TOP.anchor_size(Pos2::new(rect.right() - 3.0, rect.top()), galley.size());
    // On a dark chip, so the data under it cannot hide it.
    painter.rect_filled(at.expand(1.0), 2.0, Color32::from_black_alpha(170));
    painter.galley(at.min, galley, Color32::from_gray(210));
}

/// Bytes for a scale label: "1.2 GB".
fn format_bytes(b: f64) -> String {
    let (div, unit) = if b >= 1e9 {
        (1e9, "GB")
    } else if b >= 1e6 {
        (1e6, "MB")
    } else if b >= 1e3 {
        (1e3, "kB")
    } else {
        (1.0, "B")
    };
    format!("{:.1} {unit}", b / div)
}

fn ribbon_ui(
    painter: &egui::Painter,
    model: &Model,
    tv: &TimeView,
    r: Ribbon,
    rect: Rect,
    cache: &mut LodCache,
) {
    let c = &model.counters;
    match r {
        Ribbon::Heap => {
            // Scaled to what is in view (the goal included), so a preview and the whole
            // trace at the same view have the same scale.
            let goal = cache.columns(&c.heap_goal, RIBBON_BUCKET_PX);
            let alloc = cache.columns(&c.heap_alloc, RIBBON_BUCKET_PX);
            let visible = cache.visible_px(tv);
            let max = goal
                .iter()
                .chain(alloc.iter())
                .filter(|col| col.x + RIBBON_BUCKET_PX > visible.start && col.x < visible.end)
                .map(|col| col.max)
                .fold(0.0, f64::max);
            stacked_ui(
                painter,
                tv,
                rect,
                &[(&c.heap_alloc, colors::HEAP)],
                Some(max),
                cache,
            );
            if max > 0.0 {
                scale_label(painter, rect, format!("max {}", format_bytes(max)));
            }
            // Goal as a line of per-column maxima.
            if max > 0.0 {
                let scale = rect.height() as f64 / max;
                let map = cache.map(tv, rect.left());
                for col in goal.iter() {
                    let y = rect.bottom() - (col.max * scale) as f32;
                    let x = rect.left() + col.x as f32;
                    painter.line_segment(
                        [
                            Pos2::new(map.x(x), y),
                            Pos2::new(map.x(x + RIBBON_BUCKET_PX as f32), y),
                        ],
                        Stroke::new(1.0, colors::HEAP_GOAL),
                    );
                }
            }
        }
        Ribbon::Goroutines => {
            // Scaled to the highest stack in view: the same for a preview and the whole
            // trace at the same view, and readable in a quiet stretch of a busy trace.
            let max = stacked_ui(
                painter,
                tv,
                rect,
                &[
                    (&c.running, colors::RUNNING),
                    (&c.runnable, colors::RUNNABLE),
                    (&c.gc_waiting, colors::GC),
                ],
                None,
                cache,
            );
            scale_label(painter, rect, format!("max {max:.0}"));
        }
        Ribbon::Threads => {
            let max = stacked_ui(
                painter,
                tv,
                rect,
                &[
                    (&c.threads_running, colors::RUNNING),
                    (&c.threads_syscall, colors::SYSCALL),
                ],
                None,
                cache,
            );
            scale_label(painter, rect, format!("max {max:.0}"));
        }
        Ribbon::Network | Ribbon::Syscalls | Ribbon::Timers => {
            let kind = match r {
                Ribbon::Network => StimulusKind::Network,
                Ribbon::Syscalls => StimulusKind::Syscall,
                _ => StimulusKind::Timer,
            };
            // Instants of one kind, drawn as density: taller where more arrive per pixel.
            let times = &model.stimulus_times[kind as usize];
            let totals = &model.stimulus_totals[kind as usize];
            let mut mesh = Mesh::default();
            let color = colors::stimulus(kind);
            for &(x, n) in cache.density(times, totals).iter() {
                let h = (rect.height() * (0.4 + 0.2 * (n as f32).log2())).min(rect.height());
                let r = Rect::from_min_max(
                    Pos2::new(rect.left() + x as f32, rect.bottom() - h),
                    Pos2::new(rect.left() + x as f32 + 1.0, rect.bottom()),
                );
                mesh.add_colored_rect(r, color);
            }
            painter.add(cache.map(tv, rect.left()).mesh(mesh));
        }
        Ribbon::Gc => {
            let items = cache.drawn(model, LaneKind::Gc, 0, tv);
            let map = cache.map(tv, rect.left());
            let rect = cache.lay_space(rect);
            spans_mesh(
                painter,
                map,
                rect,
                &items,
                |_| colors::GC,
                &[(0, colors::GC)],
            )
        }
        Ribbon::Stw => {
            let all = cache.items(model, LaneKind::Stw, 0);
            let items = cache.drawn(model, LaneKind::Stw, 0, tv);
            let lay = cache.lay;
            let map = cache.map(tv, rect.left());
            let rect = cache.lay_space(rect);
            let mut mesh = Mesh::default();
            for item in items.items().iter().filter(|i| !i.is_folded()) {
                mesh.add_colored_rect(item_rect(item, rect), colors::STW);
            }
            // A fold: a bar in every column that holds a pause, as tall as the column's
            // longest pause on a log scale (1 µs to 100 ms).
            for (x, longest_ns) in longest_per_column(&model.stw, &all, &lay) {
                let h = rect.height() * FOLD_HEIGHT * log_scale(longest_ns as f64, 1e3, 1e8);
                let x = rect.left() + x as f32;
                mesh.add_colored_rect(
                    Rect::from_min_max(
                        Pos2::new(x, rect.bottom() - h.max(2.0)),
                        Pos2::new(x + 1.0, rect.bottom()),
                    ),
                    colors::STW,
                );
            }
            fold_marks(&mut mesh, rect, items.items());
            painter.add(map.mesh(mesh));
            for item in items.items() {
                let r = map.rect(item_rect(item, rect));
                if !item.is_folded() && r.width() > 60.0 {
                    let s = &model.stw[item.first];
                    let left = r.left().max(painter.clip_rect().left());
                    painter.text(
                        Pos2::new(left + 2.0, rect.center().y),
                        Align2::LEFT_CENTER,
                        model.string(s.kind),
                        FontId::proportional(10.0),
                        Color32::WHITE,
                    );
                }
            }
        }
    }
}

/// Paints a lane of spans as one mesh: a span drawn as itself in `color` (given its
/// index), a fold as its columns' shares (`fold_mesh`, `categories` bottom to top).
fn spans_mesh(
    painter: &egui::Painter,
    map: LayMap,
    rect: Rect,
    layout: &DrawnLayout,
    color: impl Fn(usize) -> Color32,
    categories: &[(usize, Color32)],
) {
    let mut mesh = Mesh::default();
    for item in layout.items().iter().filter(|i| !i.is_folded()) {
        mesh.add_colored_rect(item_rect(item, rect), color(item.first));
    }
    fold_mesh(&mut mesh, rect, layout, categories);
    painter.add(map.mesh(mesh));
}

/// A goroutine fold's categories (`GState` order) and colours, bottom to top: running,
/// in a syscall, runnable, waiting.
const GOROUTINE_SHARES: [(usize, Color32); 4] = [
    (GState::Running as usize, colors::RUNNING),
    (GState::Syscall as usize, colors::SYSCALL),
    (GState::Runnable as usize, colors::RUNNABLE),
    (GState::Waiting as usize, colors::WAITING),
];

/// Per pixel column under the folds of a pause lane, the longest pause that starts or ends
/// in it (columns it merely crosses are covered by its neighbours' bars).
fn longest_per_column(
    stw: &[goscope_model::Stw],
    layout: &LaneLayout,
    tv: &TimeView,
) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = Vec::new();
    for item in layout.iter().filter(|i| i.is_folded()) {
        for s in stw.iter().skip(item.first).take(item.count) {
            let d = s.end_ns.saturating_sub(s.start_ns);
            let x0 = tv.x_from_ns(s.start_ns as f64).floor().max(0.0) as i64;
            let x1 = (tv.x_from_ns(s.end_ns as f64).floor() as i64).max(x0);
            for x in x0..=x1.min(tv.width_px as i64) {
                match out.last_mut() {
                    Some((lx, ld)) if *lx == x => *ld = (*ld).max(d),
                    _ => out.push((x, d)),
                }
            }
        }
    }
    out
}

/// Height of one band of user regions at a goroutine lane's bottom.
const REGION_BAND_PX: f32 = 3.0;
/// The height of a goroutine lane's band of mark assists.
const ASSIST_BAND_PX: f32 = 4.0;
/// Region depths drawn apart; deeper ones share the last band.
const MAX_REGION_BANDS: u8 = 3;

/// The band a region of nesting `depth` goes in.
fn region_band(depth: u32) -> u8 {
    depth.min(u32::from(MAX_REGION_BANDS) - 1) as u8
}

/// How many region bands a goroutine's lane keeps at its bottom: one per depth it has (at
/// least one, so lanes line up whether or not they have regions).
fn region_bands(regions: &[goscope_model::Region]) -> u8 {
    regions
        .iter()
        .map(|r| region_band(r.depth) + 1)
        .max()
        .unwrap_or(1)
}

/// Where a goroutine lane's mark assists are drawn: a band along the top of `lane`.
fn assist_band_rect(lane: Rect) -> Rect {
    Rect::from_min_max(
        lane.min,
        Pos2::new(lane.right(), lane.top() + ASSIST_BAND_PX),
    )
}

/// Where band `d` is in a lane's plot rect.
fn region_band_rect(prect: Rect, d: u8) -> Rect {
    let bottom = prect.bottom() - REGION_BAND_PX * d as f32;
    Rect::from_min_max(
        Pos2::new(prect.left(), bottom - REGION_BAND_PX),
        Pos2::new(prect.right(), bottom),
    )
}

/// The names of a lane kind's fold categories, by category index.
fn share_names(kind: LaneKind) -> &'static [&'static str] {
    match kind {
        LaneKind::Goroutine => &["running", "runnable", "waiting", "syscall"],
        LaneKind::Proc => &["busy"],
        LaneKind::Thread => &["running", "in syscall"],
        LaneKind::Gc => &["GC"],
        LaneKind::Stw => &["stopped"],
        LaneKind::ProcWork(w) => match w {
            goscope_model::PWork::MarkAssist => &["mark assist"],
            goscope_model::PWork::Sweep => &["sweep"],
            goscope_model::PWork::Syscall => &["syscall"],
            goscope_model::PWork::Stw => &["stop-the-world"],
        },
        LaneKind::GoroutineAssist => &["mark assist"],
        LaneKind::Regions(_) => &[],
    }
}

/// A fold column's shares in words, largest first: "62% runnable · 30% waiting · 8% not in
/// the fold" (the rest of the column: a gap, or a span beside the fold).
pub(crate) fn shares_text(kind: LaneKind, shares: &[u16; lod::MAX_SHARES]) -> String {
    let shares = shares.map(|s| f32::from(s) / 10_000.0);
    let names = share_names(kind);
    let mut parts: Vec<(f32, &str)> = names
        .iter()
        .zip(shares.iter())
        .map(|(n, &s)| (s, *n))
        .filter(|&(s, _)| s >= 0.005)
        .collect();
    let rest = 1.0 - shares.iter().sum::<f32>();
    if rest >= 0.005 {
        parts.push((rest, "not in the fold"));
    }
    parts.sort_by(|a, b| b.0.total_cmp(&a.0));
    parts
        .iter()
        .map(|(s, n)| format!("{:.0}% {n}", s * 100.0))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// Where `v` falls between `lo` and `hi` on a log scale, 0 to 1.
fn log_scale(v: f64, lo: f64, hi: f64) -> f32 {
    ((v.max(lo).ln() - lo.ln()) / (hi.ln() - lo.ln())).clamp(0.0, 1.0) as f32
}

/// How much of a lane's height a fold's columns may fill: a fold is never as tall as a span
/// drawn as itself, so it cannot be taken for one.
const FOLD_HEIGHT: f32 = 0.7;

/// Adds a lane's folds to `mesh`: per pixel column, the shares of the column's time in each
/// of `categories` (category, colour), stacked from the bottom of the lane's lower
/// `FOLD_HEIGHT`; and across each fold a hairline at the lane's top, which says "many spans
/// here" where the columns are low.
fn fold_mesh(mesh: &mut Mesh, lane: Rect, layout: &DrawnLayout, categories: &[(usize, Color32)]) {
    let full = lane.height() * FOLD_HEIGHT;
    // Neighbouring columns with the same shares (a bucket's) are one run of rects.
    let folds = layout.folds();
    let mut i = 0;
    while i < folds.len() {
        let col = &folds[i];
        let mut j = i + 1;
        while j < folds.len()
            && folds[j].shares == col.shares
            && folds[j].x == col.x + (j - i) as f64
        {
            j += 1;
        }
        let width = (j - i) as f32;
        i = j;
        let x = lane.left() + col.x as f32;
        let mut y = lane.bottom();
        for &(k, color) in categories {
            let h = col.shares.get(k).copied().unwrap_or(0.0) * full;
            if h <= 0.0 {
                continue;
            }
            let top = y - h;
            mesh.add_colored_rect(
                Rect::from_min_max(Pos2::new(x, top), Pos2::new(x + width, y)),
                color,
            );
            y = top;
        }
    }
    fold_marks(mesh, lane, layout.items());
}

/// A hairline at the lane's top across each fold.
fn fold_marks(mesh: &mut Mesh, lane: Rect, items: &[lod::Item]) {
    for item in items.iter().filter(|i| i.is_folded()) {
        let r = item_rect(item, lane);
        mesh.add_colored_rect(
            Rect::from_min_max(r.min, Pos2::new(r.right(), r.top() + 1.0)),
            colors::FOLD_MARK,
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn row_ui(
    ui: &mut Ui,
    painter: &egui::Painter,
    model: &Model,
    tv: &TimeView,
    row: &Row,
    rect: Rect,
    prect: Rect,
    clip: Rect,
    selected: Option<Pick>,
    highlight: Highlight,
    cache: &mut LodCache,
) -> Option<String> {
    let name_rect = Rect::from_min_max(
        rect.min + Vec2::new(6.0, 0.0),
        Pos2::new(rect.left() + GUTTER_PX - 4.0, rect.bottom()),
    );
    let name_visible = clip.intersects(name_rect) && name_rect.top() >= clip.top() - 1.0;
    // Spans are laid out over a window wider than the view (`LodCache::lay`): they are
    // drawn in the window's rect and clipped to the plot.
    let group_painter = painter;
    let painter = &painter.with_clip_rect(
        painter
            .clip_rect()
            .intersect(Rect::from_x_y_ranges(prect.x_range(), clip.y_range())),
    );
    let mut toggled = None;
    match row {
        Row::Group {
            key,
            label,
            lanes,
            collapsed,
        } => {
            group_painter.rect_filled(
                Rect::from_min_max(rect.min, Pos2::new(prect.right(), rect.bottom())),
                0.0,
                ui.visuals().faint_bg_color,
            );
            if name_visible {
                let arrow = if *collapsed { "+" } else { "-" };
                let b = put_left(
                    ui,
                    name_rect,
                    egui::Button::new(
                        egui::RichText::new(format!("{arrow} {label} ({lanes})"))
                            .strong()
                            .size(LABEL_PT),
                    )
                    .frame(false),
                );
                if b.clicked() {
                    toggled = Some(key.clone());
                }
            }
        }
        Row::Proc(i) => {
            let p = &model.procs[*i];
            if name_visible {
                put_left(
                    ui,
                    name_rect,
                    egui::Label::new(model.proc_label(p.id)).truncate(),
                );
            }
            let map = cache.map(tv, prect.left());
            let lay = cache.lay_space(prect);
            let top = Rect::from_min_max(
                lay.min,
                Pos2::new(lay.right(), lay.top() + lay.height() * 0.62),
            );
            let bottom = Rect::from_min_max(Pos2::new(lay.left(), top.bottom() + 1.0), lay.max);
            let mut mesh = Mesh::default();
            let items = cache.drawn(model, LaneKind::Proc, *i, tv);
            // A span is unpacked only for what is drawn as itself (most items are folds at
            // full zoom-out).
            for item in items.items().iter().filter(|i| !i.is_folded()) {
                let s = p.spans.at(item.first);
                let f = model.goroutine(s.g).map_or(0, |g| g.start_fn);
                mesh.add_colored_rect(item_rect(item, top), colors::by_name(model.string(f)));
            }
            fold_mesh(&mut mesh, top, &items, &[(0, colors::BUSY)]);
            painter.add(map.mesh(mesh));
            for item in items.items().iter().filter(|item| !item.is_folded()) {
                let s = p.spans.at(item.first);
                let r = map.rect(item_rect(item, top));
                if r.width() > 40.0 {
                    let text = model.goroutine_label(s.g);
                    text_in(painter, r, &text);
                }
                let sel = matches!(selected, Some(Pick::PSpan { p: sp, span }) if sp == *i && span == item.first);
                if sel || highlight.has_goroutine(s.g) {
                    painter.rect_stroke(
                        r,
                        0.0,
                        Stroke::new(1.5, colors::HIGHLIGHT),
                        egui::StrokeKind::Inside,
                    );
                }
            }
            // Runtime work in the lower half, one kind after another (kinds may overlap).
            let mut mesh = Mesh::default();
            for kind in PROC_WORK {
                let items = cache.drawn(model, LaneKind::ProcWork(kind), *i, tv);
                for item in items.items().iter().filter(|i| !i.is_folded()) {
                    mesh.add_colored_rect(item_rect(item, bottom), colors::work(kind));
                }
                fold_mesh(&mut mesh, bottom, &items, &[(0, colors::work(kind))]);
            }
            painter.add(map.mesh(mesh));
        }
        Row::Goroutine(i) => {
            let g = &model.goroutines[*i];
            if name_visible {
                put_left(
                    ui,
                    name_rect,
                    egui::Label::new(
                        egui::RichText::new(model.goroutine_label(g.id)).size(LABEL_PT),
                    )
                    .truncate(),
                );
            }
            let bands = cache.region_bands(model, *i);
            let lane = Rect::from_min_max(
                prect.min,
                Pos2::new(
                    prect.right(),
                    prect.bottom() - REGION_BAND_PX * bands as f32,
                ),
            );
            if highlight.has_goroutine(g.id) {
                // A mark at the lane's start for a highlighted goroutine.
                group_painter.rect_filled(
                    Rect::from_min_size(rect.min, Vec2::new(4.0, rect.height() - 1.0)),
                    0.0,
                    colors::SEARCH,
                );
            }
            let map = cache.map(tv, prect.left());
            let lane = cache.lay_space(lane);
            let mut mesh = Mesh::default();
            let items = cache.drawn(model, LaneKind::Goroutine, *i, tv);
            for item in items.items().iter().filter(|i| !i.is_folded()) {
                let s = g.spans.at(item.first);
                let c = colors::gstate(s.state, model.string(s.reason));
                mesh.add_colored_rect(item_rect(item, lane), c);
            }
            fold_mesh(&mut mesh, lane, &items, &GOROUTINE_SHARES);
            // Mark assists as a band along the top, over the running spans they are in.
            let band = assist_band_rect(lane);
            let assists = cache.drawn(model, LaneKind::GoroutineAssist, *i, tv);
            for item in assists.items().iter().filter(|i| !i.is_folded()) {
                mesh.add_colored_rect(item_rect(item, band), colors::ASSIST);
            }
            fold_mesh(&mut mesh, band, &assists, &[(0, colors::ASSIST)]);
            // Regions as thin bands at the bottom, the outermost lowest, deeper ones above
            // and lighter.
            for d in 0..bands {
                let strip = region_band_rect(cache.lay_space(prect), d);
                let color = colors::REGION.lerp_to_gamma(Color32::WHITE, 0.25 * d as f32);
                let regions = cache.drawn(model, LaneKind::Regions(d), *i, tv);
                for &item in regions.items() {
                    mesh.add_colored_rect(item_rect(&item, strip), color);
                }
            }
            painter.add(map.mesh(mesh));
            for item in items.items() {
                let r = map.rect(item_rect(item, lane));
                if !item.is_folded() && r.width() > 50.0 {
                    let s = g.spans.at(item.first);
                    let text = match (s.state, model.span_tag(&s)) {
                        (GState::Waiting, Some(t))
                            if s.reason != 0 && model.string(s.reason) != t.name() =>
                        {
                            format!("{}: {}", model.string(s.reason), t.name())
                        }
                        (_, Some(t)) => t.name().to_string(),
                        (GState::Waiting, None) if s.reason != 0 => {
                            model.string(s.reason).to_string()
                        }
                        (st, None) => st.name().to_string(),
                    };
                    text_in(painter, r, &text);
                }
                if matches!(selected, Some(Pick::GSpan { g: sg, span }) if sg == *i && span == item.first && !item.is_folded())
                {
                    painter.rect_stroke(
                        r,
                        0.0,
                        Stroke::new(1.5, colors::HIGHLIGHT),
                        egui::StrokeKind::Inside,
                    );
                } else if highlight.has_spans(*i, item.first, item.count) {
                    painter.rect_stroke(
                        r,
                        0.0,
                        Stroke::new(1.5, colors::SEARCH),
                        egui::StrokeKind::Inside,
                    );
                }
            }
            // User logs as markers.
            let a = model
                .logs
                .partition_point(|l| (l.time_ns as f64) < tv.start_ns);
            let b = model
                .logs
                .partition_point(|l| (l.time_ns as f64) <= tv.end_ns());
            if b > a && b - a < 20_000 {
                for l in model.logs[a..b].iter().filter(|l| l.g == g.id) {
                    let x = prect.left() + tv.x_from_ns(l.time_ns as f64) as f32;
                    let y = prect.top() + 1.0;
                    painter.add(Shape::convex_polygon(
                        vec![
                            Pos2::new(x, y),
                            Pos2::new(x + 3.5, y + 4.0),
                            Pos2::new(x, y + 8.0),
                            Pos2::new(x - 3.5, y + 4.0),
                        ],
                        colors::LOG,
                        Stroke::NONE,
                    ));
                }
            }
            // CPU samples as ticks.
            let a = model
                .cpu_samples
                .partition_point(|s| (s.time_ns as f64) < tv.start_ns);
            let b = model
                .cpu_samples
                .partition_point(|s| (s.time_ns as f64) <= tv.end_ns());
            if b > a && b - a < 20_000 {
                for s in model.cpu_samples[a..b].iter().filter(|s| s.g == g.id) {
                    let x = prect.left() + tv.x_from_ns(s.time_ns as f64) as f32;
                    painter.line_segment(
                        [Pos2::new(x, prect.top()), Pos2::new(x, prect.top() + 4.0)],
                        Stroke::new(1.0, colors::SAMPLE),
                    );
                }
            }
        }
        Row::Thread(i) => {
            let t = &model.threads[*i];
            if name_visible {
                put_left(
                    ui,
                    name_rect,
                    egui::Label::new(
                        egui::RichText::new(format!("Thread {}", t.id)).size(LABEL_PT),
                    )
                    .truncate(),
                );
            }
            let items = cache.drawn(model, LaneKind::Thread, *i, tv);
            spans_mesh(
                painter,
                cache.map(tv, prect.left()),
                cache.lay_space(prect),
                &items,
                |i| {
                    if t.spans.at(i).syscall {
                        colors::SYSCALL
                    } else {
                        colors::RUNNING
                    }
                },
                &[(0, colors::RUNNING), (1, colors::SYSCALL)],
            );
        }
        Row::Tasks(level) => {
            if name_visible && *level == 0 {
                put_left(
                    ui,
                    name_rect,
                    egui::Label::new(egui::RichText::new("User tasks").size(LABEL_PT)),
                );
            }
            let levels = cache.task_levels(model);
            let mut mesh = Mesh::default();
            let mut named = Vec::new();
            let mut outlined = None;
            for &i in levels.get(*level).map_or(&[][..], |v| &v[..]) {
                let t = &model.tasks[i];
                let s = t.start_ns.unwrap_or(model.start_ns) as f64;
                let e = t.end_ns.unwrap_or(model.end_ns) as f64;
                let x0 = tv.x_from_ns(s).max(-1.0);
                let x1 = tv.x_from_ns(e).min(tv.width_px + 1.0).max(x0 + 1.0);
                if x1 < 0.0 || x0 > tv.width_px {
                    continue;
                }
                let r = Rect::from_min_max(
                    Pos2::new(prect.left() + x0 as f32, prect.top()),
                    Pos2::new(prect.left() + x1 as f32, prect.bottom()),
                )
                .shrink2(Vec2::new(0.0, 1.5));
                mesh.add_colored_rect(r, colors::TASK);
                if x1 - x0 > 40.0 {
                    named.push((r, i));
                }
                if selected == Some(Pick::Task(i)) {
                    outlined = Some(r);
                }
            }
            painter.add(Shape::mesh(mesh));
            for (r, i) in named {
                let t = &model.tasks[i];
                text_in(painter, r, &format!("{} #{}", model.string(t.name), t.id));
            }
            if let Some(r) = outlined {
                painter.rect_stroke(
                    r,
                    0.0,
                    Stroke::new(1.5, colors::HIGHLIGHT),
                    egui::StrokeKind::Inside,
                );
            }
        }
    }
    toggled
}

/// Puts a widget left-aligned and vertically centered in `rect` (ui.put would center it).
fn put_left(ui: &mut Ui, rect: Rect, widget: impl egui::Widget) -> egui::Response {
    let mut child = ui.new_child(
        egui::UiBuilder::new()
            .max_rect(rect)
            .layout(egui::Layout::left_to_right(egui::Align::Center)),
    );
    child.add(widget)
}

fn item_rect(item: &lod::Item, lane: Rect) -> Rect {
    Rect::from_min_max(
        Pos2::new(lane.left() + item.x0 as f32, lane.top()),
        Pos2::new(
            lane.left() + (item.x1 as f32).max(item.x0 as f32 + 1.0),
            lane.bottom(),
        ),
    )
}

fn text_in(painter: &egui::Painter, r: Rect, text: &str) {
    let p = painter.with_clip_rect(r.intersect(painter.clip_rect()));
    p.text(
        Pos2::new(r.left().max(painter.clip_rect().left()) + 3.0, r.center().y),
        Align2::LEFT_CENTER,
        text,
        FontId::proportional(11.0),
        Color32::BLACK,
    );
}

/// The span under a point, if any.
/// The item of a lane's layout under `x` (with a pixel of slack either side).
fn item_under(
    cache: &mut LodCache,
    model: &Model,
    kind: LaneKind,
    index: usize,
    x: f64,
) -> Option<lod::Item> {
    let items = cache.items(model, kind, index);
    items
        .iter()
        .find(|i| i.x0 - 1.0 <= x && x <= i.x1 + 1.0)
        .copied()
}

pub(crate) fn pick_at(
    model: &Model,
    tv: &TimeView,
    geometry: &Geometry,
    cache: &mut LodCache,
    p: Pos2,
) -> Option<Pick> {
    let plot = geometry.plot;
    let x = (p.x - plot.left()) as f64;
    // x in the laid-out window's pixels.
    let lay_x = cache.lay_x(tv, x);
    // The item under the pointer in a lane's (kept) layout: a folded one zooms, a single
    // span is picked by `one`.
    let pick = |cache: &mut LodCache,
                kind: LaneKind,
                index: usize,
                bounds: &dyn Fn(usize) -> (i64, i64),
                one: &dyn Fn(usize) -> Pick| {
        let i = item_under(cache, model, kind, index, lay_x)?;
        Some(if i.is_folded() {
            let column = cache
                .items(model, kind, index)
                .folds
                .iter()
                .find(|c| c.x == lay_x.floor())
                .map(|c| (kind, c.shares.map(|s| (s * 10_000.0).round() as u16)));
            Pick::Folded {
                start_ns: bounds(i.first).0,
                end_ns: bounds(i.first + i.count - 1).1,
                column,
            }
        } else {
            one(i.first)
        })
    };
    for (r, rect) in &geometry.ribbons {
        if rect.contains(p) {
            return match r {
                Ribbon::Stw => pick(
                    cache,
                    LaneKind::Stw,
                    0,
                    &|i| (model.stw[i].start_ns, model.stw[i].end_ns),
                    &Pick::Stw,
                ),
                Ribbon::Gc => pick(
                    cache,
                    LaneKind::Gc,
                    0,
                    &|i| (model.gc[i].start_ns, model.gc[i].end_ns),
                    &Pick::Gc,
                ),
                _ => None,
            };
        }
    }
    let (row, rect) = geometry.rows.iter().find(|(_, r)| r.contains(p))?;
    match row {
        Row::Goroutine(gi) => {
            let g = &model.goroutines[*gi];
            if p.y <= rect.top() + ASSIST_BAND_PX {
                let assists = model.assists_of(*gi);
                let under = pick(
                    cache,
                    LaneKind::GoroutineAssist,
                    *gi,
                    &|i| (assists[i].start_ns, assists[i].end_ns),
                    &|i| Pick::PWork {
                        p: assists[i].p as usize,
                        work: assists[i].work as usize,
                    },
                );
                if under.is_some() {
                    return under;
                }
            }
            let bands = cache.region_bands(model, *gi);
            let band = ((rect.bottom() - p.y) / REGION_BAND_PX).floor();
            if band >= 0.0 && (band as u8) < bands {
                let d = band as u8;
                if let Some(i) = item_under(cache, model, LaneKind::Regions(d), *gi, lay_x) {
                    return Some(Pick::Region {
                        g: *gi,
                        region: i.first,
                    });
                }
            }
            pick(
                cache,
                LaneKind::Goroutine,
                *gi,
                &|i| g.spans.times_at(i),
                &|i| Pick::GSpan { g: *gi, span: i },
            )
        }
        Row::Proc(pi) => {
            let pr = &model.procs[*pi];
            let split = rect.top() + (rect.height() - 1.0) * 0.62;
            if p.y <= split {
                pick(
                    cache,
                    LaneKind::Proc,
                    *pi,
                    &|i| pr.spans.times_at(i),
                    &|i| Pick::PSpan { p: *pi, span: i },
                )
            } else {
                // The first kind with a range under the pointer (binary search per kind).
                let t = tv.ns_from_x(x) as i64;
                let slop = (tv.ns_per_px * 2.0) as i64;
                goscope_model::PWork::ALL.iter().find_map(|&k| {
                    let ranges = pr.work_of(k);
                    let i = ranges.partition_point(|w| w.end_ns.saturating_add(slop) < t);
                    let w = ranges
                        .get(i)
                        .filter(|w| w.start_ns.saturating_sub(slop) <= t)?;
                    Some(Pick::PWork {
                        p: *pi,
                        work: pr.work_starts[k as usize] + i,
                    })
                    .filter(|_| w.end_ns >= w.start_ns)
                })
            }
        }
        Row::Thread(mi) => {
            let th = &model.threads[*mi];
            pick(
                cache,
                LaneKind::Thread,
                *mi,
                &|i| th.spans.times_at(i),
                &|i| Pick::MSpan { m: *mi, span: i },
            )
        }
        Row::Tasks(level) => {
            let t = tv.ns_from_x(x) as i64;
            let slop = (tv.ns_per_px * 2.0) as i64;
            let levels = cache.task_levels(model);
            levels
                .get(*level)?
                .iter()
                .copied()
                .find(|&i| {
                    let k = &model.tasks[i];
                    k.start_ns.unwrap_or(model.start_ns) - slop <= t
                        && t <= k.end_ns.unwrap_or(model.end_ns) + slop
                })
                .map(Pick::Task)
        }
        Row::Group { .. } => None,
    }
}

/// A short description for hover.
pub(crate) fn tooltip_ui(ui: &mut Ui, model: &Model, pick: Pick) {
    match pick {
        Pick::GSpan { g, span } => {
            let gr = &model.goroutines[g];
            let Some(s) = gr.spans.get(span) else { return };
            ui.label(model.goroutine_label(gr.id));
            if s.is_summary() {
                ui.label(format!(
                    "{} for {} in all",
                    s.state.name(),
                    format_duration(s.duration_ns() as f64)
                ));
                ui.label(super::view::summary_note(model));
                return;
            }
            let reason = if s.reason != 0 {
                format!(" ({})", model.string(s.reason))
            } else {
                String::new()
            };
            ui.label(format!(
                "{}{} for {}",
                s.state.name(),
                reason,
                format_duration(s.duration_ns() as f64)
            ));
            if let Some(t) = model.span_tag(&s) {
                ui.label(format!("waits on: {}", t.name()));
            }
        }
        Pick::PSpan { p, span } => {
            let Some(s) = model.procs[p].spans.get(span) else {
                return;
            };
            if s.is_summary() {
                ui.label(format!(
                    "Goroutines on Proc {} for {} in all",
                    model.procs[p].id,
                    format_duration((s.end_ns - s.start_ns) as f64)
                ));
                ui.label(super::view::summary_note(model));
                return;
            }
            ui.label(format!(
                "{} on Proc {}",
                model.goroutine_label(s.g),
                model.procs[p].id
            ));
            ui.label(format_duration((s.end_ns - s.start_ns) as f64));
        }
        Pick::PWork { p, work } => {
            let w = &model.procs[p].work[work];
            ui.label(format!("{} on Proc {}", w.work.name(), model.procs[p].id));
            ui.label(format_duration((w.end_ns - w.start_ns) as f64));
            if w.goes_on {
                ui.label(format!(
                    "{} left the P; the assist goes on where it runs next",
                    model.goroutine_label(w.g)
                ));
            }
        }
        Pick::MSpan { m, span } => {
            let Some(s) = model.threads[m].spans.get(span) else {
                return;
            };
            if s.is_summary() {
                ui.label(format!(
                    "Thread {}: goroutines{} for {} in all",
                    model.threads[m].id,
                    if s.syscall { " in syscalls" } else { "" },
                    format_duration((s.end_ns - s.start_ns) as f64)
                ));
                ui.label(super::view::summary_note(model));
                return;
            }
            ui.label(format!(
                "Thread {}: {}{}",
                model.threads[m].id,
                model.goroutine_label(s.g),
                if s.syscall { " in syscall" } else { "" }
            ));
            ui.label(format_duration((s.end_ns - s.start_ns) as f64));
        }
        Pick::Stw(i) => {
            let s = &model.stw[i];
            ui.label(format!("stop-the-world ({})", model.string(s.kind)));
            ui.label(format_duration((s.end_ns - s.start_ns) as f64));
        }
        Pick::Gc(i) => {
            let c = &model.gc[i];
            ui.label(format!("GC cycle {}", c.seq));
            ui.label(format_duration((c.end_ns - c.start_ns) as f64));
        }
        Pick::Region { g, region } => {
            let r = &model.goroutines[g].regions[region];
            ui.label(format!("region {}", model.string(r.name)));
            ui.label(format_duration((r.end_ns - r.start_ns) as f64));
        }
        Pick::Task(i) => {
            let t = &model.tasks[i];
            ui.label(format!("task {} ({})", model.string(t.name), t.id));
        }
        Pick::Folded {
            start_ns,
            end_ns,
            column,
        } => {
            ui.label(format!(
                "{} of many small spans — click to zoom in",
                format_duration((end_ns - start_ns) as f64)
            ));
            if let Some((kind, shares)) = column {
                ui.label(format!("here: {}", shares_text(kind, &shares)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ribbon_scales_to_the_highest_stack_in_view() {
        let col = |x: f64, max: f64| lod::Column { x, min: 0.0, max };
        // Two counters over three 2-px columns: stacks 3+1, 5+4, 2+0.
        let a = std::sync::Arc::new(vec![col(0.0, 3.0), col(2.0, 5.0), col(4.0, 2.0)]);
        let b = std::sync::Arc::new(vec![col(0.0, 1.0), col(2.0, 4.0)]);
        let all = 0.0..6.0;
        assert_eq!(
            visible_stack_max(&[a.clone(), b.clone()], 2.0, 3, all.clone()),
            9.0
        );
        assert_eq!(
            visible_stack_max(std::slice::from_ref(&a), 2.0, 3, all.clone()),
            5.0
        );
        assert_eq!(visible_stack_max(&[], 2.0, 3, all), 0.0);
        // Panned so that only the last column shows (the window is laid out wider).
        assert_eq!(
            visible_stack_max(&[a.clone(), b.clone()], 2.0, 3, 4.5..8.0),
            2.0
        );
        // A column partly in view counts.
        assert_eq!(visible_stack_max(&[a, b], 2.0, 3, 3.5..8.0), 9.0);
        assert_eq!(format_bytes(1.25e9), "1.2 GB");
        assert_eq!(format_bytes(512.0), "512.0 B");
    }

    /// A frame meshes only what reaches into the view of a layout made for a window twice
    /// its width: every item and fold column that does, and none that does not.
    #[test]
    fn a_drawn_layout_holds_exactly_what_reaches_into_the_view() {
        let item = |x0: f64, x1: f64, count: usize| lod::Item {
            x0,
            x1,
            first: 0,
            count,
        };
        let items = vec![
            item(0.0, 10.0, 1),
            item(10.0, 10.2, 1), // drawn a pixel wide: to 11
            item(12.0, 40.0, 5),
            item(40.0, 61.0, 1),
            item(61.0, 61.0, 1),
            item(70.0, 90.0, 3),
            item(120.0, 200.0, 1),
        ];
        let folds: Vec<lod::ShareColumn> = (12..40)
            .chain(70..90)
            .map(|x| lod::ShareColumn {
                x: x as f64,
                shares: [1.0, 0.0, 0.0, 0.0],
            })
            .collect();
        let layout = std::sync::Arc::new(LaneLayout { items, folds });
        for (from, to) in [
            (50.0, 100.0),
            (0.0, 200.0),
            (-30.0, -5.0),
            (11.5, 12.5),
            (30.0, 30.5),
            (95.0, 110.0),
            (210.0, 300.0),
            (62.5, 68.9),
        ] {
            let d = DrawnLayout::new(layout.clone(), from..to);
            // Within a pixel's slack of the range (what `item_rect` draws, at least a
            // pixel wide; a column is a pixel wide).
            let reaches = |x0: f64, x1: f64| x1 >= from - 1.0 && x0 <= to + 1.0;
            let want: Vec<_> = (layout.items.iter())
                .filter(|i| reaches(i.x0, i.x1.max(i.x0 + 1.0)))
                .map(|i| (i.x0, i.x1))
                .collect();
            let got: Vec<_> = d.items().iter().map(|i| (i.x0, i.x1)).collect();
            assert_eq!(got, want, "items over {from}..{to}");
            let want: Vec<_> = (layout.folds.iter())
                .filter(|c| reaches(c.x, c.x + 1.0))
                .map(|c| c.x)
                .collect();
            let got: Vec<_> = d.folds().iter().map(|c| c.x).collect();
            assert_eq!(got, want, "fold columns over {from}..{to}");
        }
        // A view of a quarter of the window: 3 of its 7 items, 20 of its 48 columns.
        let d = DrawnLayout::new(layout.clone(), 50.0..100.0);
        assert_eq!((d.items().len(), d.folds().len()), (3, 20));
    }

    /// A committed trace's model, a trace id for it, and its first 24 goroutine lanes and
    /// its processor lanes.
    fn a_model_and_its_lanes() -> (std::sync::Arc<Model>, TraceId, Vec<(LaneKind, usize)>) {
        let data = goscope_testdata::trace_bytes("generations-go127");
        let model = std::sync::Arc::new(goscope_model::build(&data[..]).unwrap());
        let lanes = (0..model.goroutines.len().min(24))
            .map(|i| (LaneKind::Goroutine, i))
            .chain((0..model.procs.len()).map(|i| (LaneKind::Proc, i)))
            .collect();
        (model, TraceId::fresh(), lanes)
    }

    /// A view panning towards the edge of the window laid out has the next window laid out
    /// on a thread of its own, and the frame that leaves the old window draws from that
    /// one: no frame lays out a lane itself. A view that jumps away from both lays out
    /// anew, as before.
    #[test]
    fn a_panning_view_takes_over_the_next_window_laid_out_in_the_background() {
        let (model, id, lanes) = a_model_and_its_lanes();
        assert!(lanes.len() > 10, "{} lanes", lanes.len());
        let total_ns = (model.end_ns - model.start_ns) as f64;
        let view = |start_ns: f64| TimeView {
            start_ns,
            ns_per_px: total_ns / 10.0 / 1000.0,
            width_px: 1000.0,
        };
        let mut cache = LodCache::default();
        let mut frame = 1;
        // One frame of a view at `start_ns`, as `timeline_ui` makes it, moving.
        let mut draw = |cache: &mut LodCache, start_ns: f64| {
            let tv = view(start_ns);
            cache.check(id, &tv, frame);
            cache.prefetch_lanes(&model, &lanes);
            cache.lay_out_next(&model, id, &tv, &lanes, true, &egui::Context::default());
            frame += 1;
        };
        let mut start_ns = model.start_ns as f64 + total_ns * 0.3;
        draw(&mut cache, start_ns);
        let first = cache.lay;
        assert!(
            cache.next.is_none(),
            "the view is in the middle of its window"
        );
        let laid_out = cache.lanes_laid_out();
        assert!(laid_out >= lanes.len());

        // D held: a sixtieth of a view a frame. A quarter of a view from the edge, the next
        // window is laid out around the view there.
        let step_ns = 1000.0 * view(0.0).ns_per_px / 60.0;
        let mut steps = 0;
        while cache.next.is_none() {
            start_ns += step_ns;
            draw(&mut cache, start_ns);
            steps += 1;
            assert!(steps < 60, "no next window was started");
        }
        let next = cache.next.as_ref().unwrap().lay;
        assert_eq!(next, window_around(&view(start_ns)));
        let t0 = std::time::Instant::now();
        while cache.next.as_ref().unwrap().made.lock().unwrap().is_none() {
            assert!(
                t0.elapsed().as_secs() < 60,
                "the next window was not laid out"
            );
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        // On past the first window's end: drawn from the next, nothing laid out here.
        while view(start_ns).end_ns() <= first.end_ns() {
            start_ns += step_ns;
            draw(&mut cache, start_ns);
            assert_eq!(
                cache.lanes_laid_out(),
                laid_out,
                "a frame laid out lanes itself"
            );
        }
        assert_eq!(cache.lay, next);

        // A jump far away: laid out anew, in the frame.
        draw(&mut cache, start_ns - total_ns * 0.25);
        assert_eq!(cache.lay, window_around(&view(start_ns - total_ns * 0.25)));
        assert!(cache.lanes_laid_out() >= laid_out + lanes.len());
    }

    /// Lanes too large to lay out finely in a frame (`refine_apart`) are laid out finely on
    /// a thread of its own once the view holds still: the still frames draw the coarse
    /// layout meanwhile and lay out nothing, and one takes the fine layout over. Smaller
    /// ones (every committed trace's) are laid out finely in the first still frame.
    #[test]
    fn a_large_layout_is_refined_apart_once_the_view_holds_still() {
        let (model, id, lanes) = a_model_and_its_lanes();
        let total_ns = (model.end_ns - model.start_ns) as f64;
        let tv = TimeView {
            start_ns: model.start_ns as f64,
            ns_per_px: total_ns / 1000.0,
            width_px: 1000.0,
        };
        let ctx = egui::Context::default();
        let frame = |cache: &mut LodCache, tv: &TimeView, frame: u64, moving: bool| {
            cache.check(id, tv, frame);
            cache.prefetch_lanes(&model, &lanes);
            cache.lay_out_next(&model, id, tv, &lanes, moving, &ctx);
        };
        let spans = spans_in_window(&model, &lanes, &window_around(&tv));
        assert!(spans > 1000 && spans < REFINE_APART_SPANS, "{spans} spans");

        // Small: moving lays out coarsely, the first still frame finely, in the frame.
        let mut cache = LodCache::default();
        cache.check(id, &tv, 1);
        let moved = TimeView {
            start_ns: tv.start_ns + tv.ns_per_px * 800.0,
            ..tv
        };
        frame(&mut cache, &moved, 2, true);
        assert!(!cache.fine && !cache.refine_apart);
        let laid_out = cache.lanes_laid_out();
        frame(&mut cache, &moved, 3, false);
        assert!(cache.fine && cache.next.is_none());
        assert!(cache.lanes_laid_out() >= laid_out + lanes.len());

        // Large (as if it held more than REFINE_APART_SPANS): the still frames keep the
        // coarse layout, laying out nothing, until the fine one is made apart.
        let mut cache = LodCache::default();
        cache.check(id, &tv, 1);
        frame(&mut cache, &moved, 2, true);
        cache.refine_apart = true;
        let laid_out = cache.lanes_laid_out();
        let kept = cache.kept_lanes();
        frame(&mut cache, &moved, 3, false);
        assert!(!cache.fine && cache.waiting_apart());
        assert_eq!(
            (cache.lanes_laid_out(), cache.kept_lanes()),
            (laid_out, kept)
        );
        let t0 = std::time::Instant::now();
        let mut n = 4;
        while !cache.fine {
            assert!(t0.elapsed().as_secs() < 60, "the fine layout was not made");
            std::thread::sleep(std::time::Duration::from_millis(2));
            frame(&mut cache, &moved, n, false);
            n += 1;
            assert_eq!(
                cache.lanes_laid_out(),
                laid_out,
                "a still frame laid out lanes"
            );
        }
        assert_eq!(cache.lay, window_around(&moved));
        assert!(cache.kept_lanes() >= lanes.len() && !cache.waiting_apart());

        // The view comes to rest in the frame that takes over a coarse window laid out
        // ahead: refined apart too, nothing laid out in the frame.
        let mut cache = LodCache::default();
        cache.check(id, &tv, 1);
        frame(&mut cache, &moved, 2, true);
        cache.refine_apart = true;
        let near = TimeView {
            start_ns: moved.start_ns + moved.ns_per_px * 400.0,
            ..moved
        };
        frame(&mut cache, &near, 3, true);
        let made = cache.next.as_ref().expect("a window ahead").made.clone();
        let t0 = std::time::Instant::now();
        while made.lock().unwrap().is_none() {
            assert!(
                t0.elapsed().as_secs() < 60,
                "the window ahead was not laid out"
            );
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        let laid_out = cache.lanes_laid_out();
        frame(&mut cache, &near, 4, false);
        assert_eq!(cache.lay, window_around(&near), "taken over");
        assert!(!cache.fine && cache.waiting_apart());
        assert_eq!(cache.lanes_laid_out(), laid_out, "laid out in the frame");
    }

    #[test]
    fn layouts_are_kept_while_the_view_pans_within_the_window_laid_out() {
        let trace = TraceId::fresh();
        let mut cache = LodCache::default();
        let kept = |c: &LodCache| c.items.contains_key(&(LaneKind::Goroutine, 0));
        let keep = |c: &mut LodCache| {
            c.items.insert((LaneKind::Goroutine, 0), Default::default());
        };
        let view = |start_ns: f64, ns_per_px: f64| TimeView {
            start_ns,
            ns_per_px,
            width_px: 100.0,
        };
        // A new trace: a window around the view is laid out, finely.
        assert!(!cache.check(trace, &view(0.0, 10.0), 1));
        assert_eq!(cache.lay, window_around(&view(0.0, 10.0)));
        assert_eq!((cache.lay.start_ns, cache.lay.width_px), (-500.0, 200.0));
        keep(&mut cache);
        assert!(!cache.check(trace, &view(0.0, 10.0), 2));
        assert!(kept(&cache), "a still view keeps its layouts");
        // Pans within the window keep them, drawn shifted, coarse as they are.
        assert!(!cache.check(trace, &view(30.0, 10.0), 3));
        assert!(kept(&cache));
        assert_eq!(cache.shift_px(&view(30.0, 10.0)), -53.0);
        assert_eq!(cache.visible_px(&view(30.0, 10.0)), 53.0..153.0);
        assert_eq!(cache.lay_x(&view(30.0, 10.0), 7.0), 60.0);
        // A pan out of it lays out a window around the view, coarsely.
        assert!(cache.check(trace, &view(600.0, 10.0), 4));
        assert!(!kept(&cache));
        assert_eq!(cache.lay, window_around(&view(600.0, 10.0)));
        keep(&mut cache);
        // Held still for a frame: laid out again finely, in the same window.
        assert!(!cache.check(trace, &view(600.0, 10.0), 5));
        assert!(!kept(&cache));
        assert_eq!(cache.lay, window_around(&view(600.0, 10.0)));
        keep(&mut cache);
        // A zoom by less than MAX_STRETCH keeps the layouts, drawn stretched...
        assert!(cache.check(trace, &view(620.0, 9.0), 6));
        assert!(kept(&cache));
        let map = cache.map(&view(620.0, 9.0), 100.0);
        assert_eq!(map.stretch, 10.0 / 9.0);
        // (the window starts at 100 ns: 520 ns, 57.8 px, left of the view)
        assert!((map.x(100.0) - (100.0 - 520.0 / 9.0)).abs() < 1e-3);
        let t_ns = 700.0;
        let x_lay = (t_ns - cache.lay.start_ns) / 10.0;
        let x_view = (t_ns - 620.0) / 9.0;
        assert!((cache.lay_x(&view(620.0, 9.0), x_view) - x_lay).abs() < 1e-9);
        // ...and once the view holds still, lays out again at the view's scale.
        assert!(!cache.check(trace, &view(620.0, 9.0), 7));
        assert!(!kept(&cache));
        assert_eq!(cache.lay, window_around(&view(620.0, 9.0)));
        keep(&mut cache);
        // A zoom beyond MAX_STRETCH lays out anew.
        assert!(cache.check(trace, &view(620.0, 5.0), 8));
        assert!(!kept(&cache));
        assert_eq!(cache.lay.ns_per_px, 5.0);
        // Another trace starts afresh.
        keep(&mut cache);
        assert!(!cache.check(TraceId::fresh(), &view(620.0, 5.0), 9));
        assert!(!kept(&cache));
    }
}
