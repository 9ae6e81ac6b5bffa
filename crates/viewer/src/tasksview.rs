//! The Tasks & regions dock: per-type duration statistics and log-scale histograms of user
//! tasks and regions, the instances behind each histogram bar, and a filterable table of
//! user log messages.
//!
//! The numbers come from `goscope_analysis::tasks` (`task_stats`, `region_stats`,
//! `Histogram::of`, `filter_logs`), summed once per opened model in the background (keyed
//! by its `TraceId`); a frame only paints the visible rows.

use std::collections::HashMap;

use egui::{
    Align, Align2, FontId, Layout, Rect, RichText, Sense, Stroke, StrokeKind, Ui, pos2, vec2,
};

use super::analyses::Slot;
use super::colors;
use super::loader::{OpenTrace, TraceId};
use super::panels::Action;
use super::table::{Column, Row, Table};
use super::view::{format_duration, since_start};
use goscope_analysis::tasks::*;
use goscope_model::Model;
use goscope_trace::NO_TASK;

/// Everything computed once per model.
struct Cache {
    tasks: Vec<TypeStats>,
    regions: Vec<TypeStats>,
    categories: Vec<String>,
    /// Task id → index in `Model::tasks`.
    task_index: HashMap<u64, usize>,
}

impl Cache {
    fn new(model: &Model) -> Cache {
        Cache {
            tasks: task_stats(model),
            regions: region_stats(model),
            categories: log_categories(model),
            task_index: model
                .tasks
                .iter()
                .enumerate()
                .map(|(i, t)| (t.id, i))
                .collect(),
        }
    }
}

/// The dock's sub-tabs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    Tasks,
    Regions,
    Logs,
}

/// A column of the type table to sort by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SortKey {
    Name,
    Count,
    Total,
    Mean,
    P50,
    P90,
    Max,
    Cut,
}

/// Which instances of the selected type are listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Listing {
    All,
    Bucket(usize),
}

/// The state of one type table (tasks or regions).
struct TypeTable {
    /// Index into the cached stats.
    selected: Option<usize>,
    listing: Listing,
    /// The instance last clicked (shown selected in its table).
    picked: Option<Source>,
    sort: SortKey,
    descending: bool,
    /// Stats indices in display order, and the sort they were made for.
    order: Vec<usize>,
    order_for: Option<(SortKey, bool)>,
}

impl TypeTable {
    fn new() -> TypeTable {
        TypeTable {
            selected: None,
            listing: Listing::All,
            picked: None,
            sort: SortKey::Total,
            descending: true,
            order: Vec::new(),
            order_for: None,
        }
    }

    /// Brings `order` up to date with the sort and the types.
    fn sort(&mut self, types: &[TypeStats]) {
        if self.order_for != Some((self.sort, self.descending)) || self.order.len() != types.len() {
            let mut order: Vec<usize> = (0..types.len()).collect();
            let key = self.sort;
            order.sort_by(|&a, &b| {
                let (a, b) = (&types[a], &types[b]);
                let by = match key {
                    SortKey::Name => a.name.cmp(&b.name),
                    SortKey::Count => a.count.cmp(&b.count),
                    SortKey::Total => a.total_ns.cmp(&b.total_ns),
                    SortKey::Mean => a.mean_ns.total_cmp(&b.mean_ns),
                    SortKey::P50 => a.p50_ns.cmp(&b.p50_ns),
                    SortKey::P90 => a.p90_ns.cmp(&b.p90_ns),
                    SortKey::Max => a.max_ns.cmp(&b.max_ns),
                    SortKey::Cut => a.cut.cmp(&b.cut),
                };
                by.then_with(|| a.name.cmp(&b.name))
            });
            if self.descending {
                order.reverse();
            }
            self.order = order;
            self.order_for = Some((self.sort, self.descending));
        }
    }
}

/// Whether a type table lists tasks or regions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Tasks,
    Regions,
}

/// The Tasks & regions dock.
pub struct TasksView {
    tab: Tab,
    tasks: TypeTable,
    regions: TypeTable,
    logs: LogTable,
    /// The statistics of the model `cache_for` names, summed in the background.
    cache: Option<Slot<Cache>>,
    cache_for: Option<TraceId>,
}

/// The state of the log table: its filters and the rows they let through.
#[derive(Default)]
struct LogTable {
    /// `None`: all categories.
    category: Option<String>,
    text: String,
    /// Indices into `Model::logs`, and the model and filters they were made for.
    rows: Vec<usize>,
    rows_for: Option<(Option<String>, String)>,
}

impl Default for TasksView {
    fn default() -> Self {
        Self::new()
    }
}

const TYPE_COLUMNS: [Column; 8] = [
    Column::new("Name", 0.0, false),
    Column::new("Count", 64.0, true),
    Column::new("Total", 78.0, true),
    Column::new("Mean", 78.0, true),
    Column::new("p50", 78.0, true),
    Column::new("p90", 78.0, true),
    Column::new("Max", 78.0, true),
    Column::new("Cut", 48.0, true),
];
const TYPE_SORT: [SortKey; 8] = [
    SortKey::Name,
    SortKey::Count,
    SortKey::Total,
    SortKey::Mean,
    SortKey::P50,
    SortKey::P90,
    SortKey::Max,
    SortKey::Cut,
];
const TASK_INSTANCE_COLUMNS: [Column; 5] = [
    Column::new("Start", 76.0, true),
    Column::new("Duration", 84.0, true),
    Column::new("Goroutines", 0.0, false),
    Column::new("Task", 44.0, true),
    Column::new("Parent", 110.0, false),
];
const REGION_INSTANCE_COLUMNS: [Column; 4] = [
    Column::new("Start", 76.0, true),
    Column::new("Duration", 84.0, true),
    Column::new("Goroutine", 0.0, false),
    Column::new("Task", 110.0, false),
];
const LOG_COLUMNS: [Column; 5] = [
    Column::new("Time", 90.0, true),
    Column::new("Goroutine", 170.0, false),
    Column::new("Task", 150.0, false),
    Column::new("Category", 110.0, false),
    Column::new("Message", 0.0, false),
];

/// "1 instance", "3 instances".
fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// A histogram edge as a short label: "20 µs".
fn format_edge(ns: i64) -> String {
    let v = ns as f64;
    let (div, unit) = super::view::time_unit(v);
    format!("{} {unit}", v / div)
}

fn bucket_label(h: &Histogram, bucket: usize) -> String {
    let count = h.counts.get(bucket).copied().unwrap_or(0);
    match h.range_ns(bucket) {
        Some((lo, hi)) => format!("{} – {}: {count}", format_edge(lo), format_edge(hi)),
        None => String::new(),
    }
}

/// A task id with its name: "#3 fetch"; "—" for none or the background task.
fn task_label(model: &Model, task_index: &HashMap<u64, usize>, id: u64) -> String {
    if id == 0 || id == NO_TASK {
        return "—".to_owned();
    }
    match task_index.get(&id).and_then(|&i| model.tasks.get(i)) {
        Some(t) => format!("#{id} {}", model.string(t.name)),
        None => format!("#{id}"),
    }
}

impl TasksView {
    pub fn new() -> Self {
        TasksView {
            tab: Tab::Tasks,
            tasks: TypeTable::new(),
            regions: TypeTable::new(),
            logs: LogTable::default(),
            cache: None,
            cache_for: None,
        }
    }

    /// The dock's contents; returns what a click asked the app to show.
    pub(crate) fn ui(&mut self, ui: &mut Ui, trace: &OpenTrace) -> Action {
        let model = &*trace.model;
        if self.cache_for != Some(trace.id) {
            // Per-type statistics read every task and region: in the background.
            self.cache_for = Some(trace.id);
            let m = trace.model.clone();
            self.cache = Some(Slot::spawn("task statistics", ui.ctx(), move || {
                Cache::new(&m)
            }));
            self.tasks = TypeTable::new();
            self.regions = TypeTable::new();
            self.logs.rows_for = None;
            if self
                .logs
                .category
                .as_ref()
                .is_some_and(|c| !model.logs.iter().any(|l| model.string(l.category) == c))
            {
                self.logs.category = None;
            }
        }
        let Some(slot) = self.cache.as_mut() else {
            return Action::None;
        };
        let Some(cache) = slot.get_or_pending_ui(ui, || "Summing tasks and regions…".into())
        else {
            return Action::None;
        };
        ui.horizontal(|ui| {
            ui.selectable_value(&mut self.tab, Tab::Tasks, "Tasks");
            ui.selectable_value(&mut self.tab, Tab::Regions, "Regions");
            ui.selectable_value(&mut self.tab, Tab::Logs, "Logs");
        });
        ui.separator();
        match self.tab {
            Tab::Tasks => types_ui(
                ui,
                model,
                Kind::Tasks,
                &cache.tasks,
                &mut self.tasks,
                &cache.task_index,
            ),
            Tab::Regions => types_ui(
                ui,
                model,
                Kind::Regions,
                &cache.regions,
                &mut self.regions,
                &cache.task_index,
            ),
            Tab::Logs => logs_ui(ui, model, cache, &mut self.logs),
        }
    }
}

/// The type table, the selected type's histogram and its instances, side by side.
fn types_ui(
    ui: &mut Ui,
    model: &Model,
    kind: Kind,
    types: &[TypeStats],
    table: &mut TypeTable,
    task_index: &HashMap<u64, usize>,
) -> Action {
    if types.is_empty() {
        ui.label(match kind {
            Kind::Tasks => "The trace has no user tasks (runtime/trace.NewTask).",
            Kind::Regions => {
                "The trace has no user regions (runtime/trace.WithRegion, StartRegion)."
            }
        });
        return Action::None;
    }
    let mut action = Action::None;
    let width_px = ui.available_width();
    let height_px = ui.available_height();
    let gap_px = 3.0 * ui.spacing().item_spacing.x;
    let table_px = (width_px * 0.45).clamp(300.0f32.min(width_px), 720.0);
    let histogram_px = ((width_px - table_px) * 0.35).max(160.0);
    let instances_px = (width_px - table_px - histogram_px - 2.0 * gap_px).max(160.0);
    ui.horizontal_top(|ui| {
        ui.allocate_ui_with_layout(
            vec2(table_px, height_px),
            Layout::top_down(Align::Min),
            |ui| {
                type_table_ui(ui, kind, types, table);
            },
        );
        ui.separator();
        let Some(stats) = table.selected.and_then(|i| types.get(i)) else {
            ui.label("Select a type to see its durations.");
            return;
        };
        ui.allocate_ui_with_layout(
            vec2(histogram_px, height_px),
            Layout::top_down(Align::Min),
            |ui| {
                histogram_ui(ui, kind, stats, &mut table.listing);
            },
        );
        ui.separator();
        ui.allocate_ui_with_layout(
            vec2(instances_px, height_px),
            Layout::top_down(Align::Min),
            |ui| {
                action = instances_ui(
                    ui,
                    model,
                    kind,
                    stats,
                    &mut table.listing,
                    &mut table.picked,
                    task_index,
                );
            },
        );
    });
    action
}

fn type_table_ui(ui: &mut Ui, kind: Kind, types: &[TypeStats], table: &mut TypeTable) {
    table.sort(types);
    let sorted_col = TYPE_SORT.iter().position(|&k| k == table.sort);
    let (order, selected) = (&table.order, table.selected);
    let out = Table::new(("tasksview-types", kind as u8), &TYPE_COLUMNS)
        .sorted(sorted_col.map(|c| (c, table.descending)))
        .show(ui, order.len(), |pos| {
            let t = types.get(*order.get(pos)?)?;
            let cells = [
                t.name.clone(),
                t.count.to_string(),
                format_duration(t.total_ns as f64),
                format_duration(t.mean_ns),
                format_duration(t.p50_ns as f64),
                format_duration(t.p90_ns as f64),
                format_duration(t.max_ns as f64),
                if t.cut == 0 {
                    String::new()
                } else {
                    t.cut.to_string()
                },
            ];
            let hover = (t.cut > 0).then(|| {
                format!(
                    "{} of {} cut by the trace's start or end; their durations are clipped",
                    t.cut, t.count
                )
            });
            Some(
                Row::new(cells)
                    .selected(selected == order.get(pos).copied())
                    .hover(hover),
            )
        });
    if let Some(i) = out
        .clicked
        .or(out.double_clicked)
        .and_then(|pos| order.get(pos).copied())
    {
        table.selected = Some(i);
        table.listing = Listing::All;
    }
    if let Some(key) = out.sort_by.and_then(|c| TYPE_SORT.get(c).copied()) {
        if key == table.sort {
            table.descending = !table.descending;
        } else {
            table.sort = key;
            table.descending = key != SortKey::Name;
        }
    }
}

/// The selected type's duration histogram: bars per log-spaced bucket, clickable.
fn histogram_ui(ui: &mut Ui, kind: Kind, stats: &TypeStats, listing: &mut Listing) {
    ui.label(
        RichText::new(format!(
            "{}: {}",
            stats.name,
            plural(stats.count, "instance")
        ))
        .strong(),
    );
    let h = &stats.histogram;
    let size = vec2(ui.available_width(), ui.available_height().max(80.0));
    let (rect, _) = ui.allocate_exact_size(size, Sense::hover());
    let font = FontId::proportional(11.0);
    let text_color = ui.visuals().text_color();
    let weak = ui.visuals().weak_text_color();
    let max_count = h.counts.iter().copied().max().unwrap_or(0);
    let count_label = max_count.to_string();
    let left_px = 10.0 + 7.0 * count_label.len() as f32;
    let plot = Rect::from_min_max(
        pos2(rect.left() + left_px, rect.top() + 8.0),
        pos2(rect.right() - 8.0, rect.bottom() - 18.0),
    );
    if plot.width() < 20.0 || plot.height() < 20.0 || max_count == 0 {
        return;
    }
    let painter = ui.painter_at(rect);
    let axis = Stroke::new(1.0, weak);
    painter.line_segment([plot.left_bottom(), plot.right_bottom()], axis);
    painter.line_segment([plot.left_bottom(), plot.left_top()], axis);
    painter.text(
        plot.left_top() - vec2(4.0, 0.0),
        Align2::RIGHT_CENTER,
        &count_label,
        font.clone(),
        weak,
    );
    painter.text(
        plot.left_bottom() - vec2(4.0, 0.0),
        Align2::RIGHT_CENTER,
        "0",
        font.clone(),
        weak,
    );

    // x of an edge on the log scale (an edge of 0 sits where 1 ns would).
    let log_of = |ns: i64| (ns.max(1) as f64).log10();
    let (first_log, last_log) = match (h.edges_ns.first(), h.edges_ns.last()) {
        (Some(&a), Some(&b)) => (log_of(a), log_of(b)),
        _ => return,
    };
    let span_log = (last_log - first_log).max(1e-9);
    let x_of =
        |ns: i64| plot.left() as f64 + (log_of(ns) - first_log) / span_log * plot.width() as f64;

    let base = match kind {
        Kind::Tasks => colors::TASK,
        Kind::Regions => colors::REGION,
    };
    let mut last_label_x = f64::NEG_INFINITY;
    for (i, &edge_ns) in h.edges_ns.iter().enumerate() {
        let x = x_of(edge_ns);
        let galley = painter.layout_no_wrap(format_edge(edge_ns), font.clone(), weak);
        let label_px = galley.size().x as f64;
        // Centred under its tick, but kept inside the rect.
        let left = (x - label_px / 2.0)
            .min(rect.right() as f64 - label_px)
            .max(rect.left() as f64);
        if left >= last_label_x + 6.0 || i == 0 {
            let x32 = x as f32;
            painter.line_segment(
                [pos2(x32, plot.bottom()), pos2(x32, plot.bottom() + 3.0)],
                axis,
            );
            painter.galley(pos2(left as f32, plot.bottom() + 3.0), galley, weak);
            last_label_x = left + label_px;
        }
    }
    let id = ui
        .scope_id()
        .with(("tasksview-histogram", kind as u8, &stats.name));
    for (b, &count) in h.counts.iter().enumerate() {
        let Some((lo_ns, hi_ns)) = h.range_ns(b) else {
            continue;
        };
        let (x0, x1) = (x_of(lo_ns) as f32, x_of(hi_ns) as f32);
        let slot = Rect::from_min_max(pos2(x0, plot.top()), pos2(x1, plot.bottom()));
        let label = bucket_label(h, b);
        let response = ui.interact(slot, id.with(b), Sense::click());
        response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &label));
        let selected = *listing == Listing::Bucket(b);
        if response.hovered() {
            painter.rect_filled(slot, 0.0, ui.visuals().widgets.hovered.weak_bg_fill);
        }
        if count > 0 {
            let top = plot.bottom() - plot.height() * count as f32 / max_count as f32;
            let bar = Rect::from_min_max(
                pos2(x0 + 1.0, top),
                pos2((x1 - 1.0).max(x0 + 2.0), plot.bottom()),
            );
            let fill = if selected || response.hovered() {
                base
            } else {
                base.gamma_multiply(0.7)
            };
            painter.rect_filled(bar, 1.0, fill);
            if selected {
                painter.rect_stroke(bar, 1.0, Stroke::new(1.5, text_color), StrokeKind::Outside);
            }
        }
        let response = response.on_hover_text(format!(
            "{} – {}: {}\nclick to list them",
            format_duration(lo_ns as f64),
            format_duration(hi_ns as f64),
            plural(count, "instance")
        ));
        if response.clicked() {
            *listing = if selected {
                Listing::All
            } else {
                Listing::Bucket(b)
            };
        }
    }
}

/// The instances of the selected type (one bucket or all), longest first; a click on a row
/// asks to show it.
fn instances_ui(
    ui: &mut Ui,
    model: &Model,
    kind: Kind,
    stats: &TypeStats,
    listing: &mut Listing,
    picked: &mut Option<Source>,
    task_index: &HashMap<u64, usize>,
) -> Action {
    let instances = match *listing {
        Listing::All => &stats.instances[..],
        Listing::Bucket(b) => stats.bucket_instances(b),
    };
    ui.horizontal(|ui| {
        let title = match *listing {
            Listing::All => format!("All {}, longest first", plural(instances.len(), "instance")),
            Listing::Bucket(b) => match stats.histogram.range_ns(b) {
                Some((lo, hi)) => format!(
                    "{} of {} – {}",
                    plural(instances.len(), "instance"),
                    format_edge(lo),
                    format_edge(hi)
                ),
                None => String::new(),
            },
        };
        ui.label(RichText::new(title).strong());
        if *listing != Listing::All && ui.button("All instances").clicked() {
            *listing = Listing::All;
        }
    });
    let columns: &[Column] = match kind {
        Kind::Tasks => &TASK_INSTANCE_COLUMNS,
        Kind::Regions => &REGION_INSTANCE_COLUMNS,
    };
    let out =
        Table::new(("tasksview-instances", kind as u8), columns).show(ui, instances.len(), |pos| {
            let inst = instances.get(pos)?;
            let start = if inst.began_in_trace {
                since_start(model, inst.start_ns)
            } else {
                "before trace".to_owned()
            };
            let duration = if inst.is_cut() {
                format!("≥ {}", format_duration(inst.duration_ns() as f64))
            } else {
                format_duration(inst.duration_ns() as f64)
            };
            let cells = match inst.source {
                Source::Task(i) => {
                    let t = model.tasks.get(i)?;
                    let gs: Vec<String> = t
                        .goroutines
                        .iter()
                        .map(|&g| model.goroutine_label(g))
                        .collect();
                    vec![
                        start,
                        duration,
                        gs.join(", "),
                        format!("#{}", t.id),
                        task_label(model, task_index, t.parent),
                    ]
                }
                Source::Region { goroutine, region } => {
                    let r = model.goroutines.get(goroutine)?.regions.get(region)?;
                    vec![
                        start,
                        duration,
                        model.goroutine_label(r.g),
                        task_label(model, task_index, r.task),
                    ]
                }
            };
            let hover = match (inst.began_in_trace, inst.ended_in_trace) {
                (true, true) => None,
                (false, true) => Some("began before the trace started"),
                (true, false) => Some("had not ended when the trace ended"),
                (false, false) => Some("spans the whole trace"),
            };
            Some(
                Row::new(cells)
                    .selected(*picked == Some(inst.source))
                    .hover(hover.map(str::to_owned)),
            )
        });
    let Some(inst) = out
        .clicked
        .or(out.double_clicked)
        .and_then(|pos| instances.get(pos))
    else {
        return Action::None;
    };
    *picked = Some(inst.source);
    match inst.source {
        Source::Task(i) => Action::ShowTask(i),
        Source::Region { goroutine, region } => {
            match model
                .goroutines
                .get(goroutine)
                .and_then(|g| g.regions.get(region))
            {
                Some(r) => Action::Jump {
                    g: r.g,
                    t_ns: inst.start_ns,
                },
                None => Action::None,
            }
        }
    }
}

/// The log table with its category and text filters.
fn logs_ui(ui: &mut Ui, model: &Model, cache: &Cache, table: &mut LogTable) -> Action {
    if model.logs.is_empty() {
        ui.label("The trace has no user log messages (runtime/trace.Log).");
        return Action::None;
    }
    let category_name = |c: &str| {
        if c.is_empty() {
            "(none)".to_owned()
        } else {
            c.to_owned()
        }
    };
    ui.horizontal(|ui| {
        let category_label = ui.label("Category");
        egui::ComboBox::from_id_salt("tasksview-log-category")
            .selected_text(
                table
                    .category
                    .as_deref()
                    .map_or("All".to_owned(), category_name),
            )
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut table.category, None, "All");
                for c in &cache.categories {
                    ui.selectable_value(&mut table.category, Some(c.clone()), category_name(c));
                }
            })
            .response
            .labelled_by(category_label.id);
        let filter_label = ui.label("Filter");
        ui.add(
            egui::TextEdit::singleline(&mut table.text)
                .hint_text("text in message or category")
                .desired_width(260.0),
        )
        .labelled_by(filter_label.id);
        let query = (table.category.clone(), table.text.clone());
        if table.rows_for.as_ref() != Some(&query) {
            table.rows = filter_logs(model, table.category.as_deref(), &table.text);
            table.rows_for = Some(query);
        }
        ui.label(format!(
            "{} of {} messages",
            table.rows.len(),
            model.logs.len()
        ));
    });
    let rows = &table.rows;
    let out = Table::new("tasksview-logs", &LOG_COLUMNS).show(ui, rows.len(), |pos| {
        let l = model.logs.get(*rows.get(pos)?)?;
        Some(Row::new([
            since_start(model, l.time_ns),
            model.goroutine_label(l.g),
            task_label(model, &cache.task_index, l.task),
            model.string(l.category).to_owned(),
            model.string(l.message).to_owned(),
        ]))
    });
    match out
        .clicked
        .or(out.double_clicked)
        .and_then(|pos| model.logs.get(*rows.get(pos)?))
    {
        Some(l) => Action::Jump {
            g: l.g,
            t_ns: l.time_ns,
        },
        None => Action::None,
    }
}

#[cfg(test)]
mod tests {
    use egui_kittest::Harness;
    use egui_kittest::kittest::Queryable;

    use super::*;

    /// The trace of testdata/src/annotations: tasks request (main) → 3 × fetch (one per
    /// worker goroutine) and handoff (ended on another goroutine); regions setup, lookup ⊃
    /// decode, store and finish; nine log messages.
    fn annotations() -> Model {
        crate::testdata::model("annotations-go127")
    }

    fn by_name<'a>(types: &'a [TypeStats], name: &str) -> &'a TypeStats {
        types
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("no type {name}"))
    }

    /// The invariants every type's statistics keep.
    fn check_consistent(t: &TypeStats) {
        assert_eq!(t.instances.len(), t.count, "{}", t.name);
        assert_eq!(
            t.histogram.counts.iter().sum::<usize>(),
            t.count,
            "{}",
            t.name
        );
        assert_eq!(t.histogram.edges_ns.len(), t.histogram.counts.len() + 1);
        assert!(t.histogram.edges_ns.windows(2).all(|w| w[0] < w[1]));
        let listed: usize = (0..t.histogram.counts.len())
            .map(|b| {
                let inst = t.bucket_instances(b);
                assert_eq!(inst.len(), t.histogram.counts[b], "{} bucket {b}", t.name);
                let (lo, hi) = t.histogram.range_ns(b).expect("bucket in range");
                assert!(
                    inst.iter()
                        .all(|i| lo <= i.duration_ns() && i.duration_ns() < hi)
                );
                inst.len()
            })
            .sum();
        assert_eq!(listed, t.count);
        assert!(
            t.instances
                .windows(2)
                .all(|w| w[0].duration_ns() >= w[1].duration_ns()),
            "{}: longest first",
            t.name
        );
        let sum_ns: i64 = t.instances.iter().map(Instance::duration_ns).sum();
        assert_eq!(t.total_ns, sum_ns);
        assert!((t.mean_ns - sum_ns as f64 / t.count as f64).abs() < 1.0);
        assert!(t.p50_ns <= t.p90_ns && t.p90_ns <= t.max_ns);
        assert_eq!(t.max_ns, t.instances[0].duration_ns());
    }

    #[test]
    fn task_types_are_the_programs_tasks() {
        let m = annotations();
        let tasks = task_stats(&m);
        let names: Vec<(&str, usize)> = tasks.iter().map(|t| (t.name.as_str(), t.count)).collect();
        assert_eq!(names, [("fetch", 3), ("handoff", 1), ("request", 1)]);
        for t in &tasks {
            check_consistent(t);
            assert_eq!(
                t.cut, 0,
                "{}: every task begins and ends in the trace",
                t.name
            );
            assert!(
                t.instances.iter().all(|i| i.duration_ns() > 0),
                "{}",
                t.name
            );
        }
        let request = by_name(&tasks, "request").instances[0];
        let Source::Task(ri) = request.source else {
            panic!("a task's source is a task")
        };
        let request_id = m.tasks[ri].id;
        for name in ["fetch", "handoff"] {
            for i in &by_name(&tasks, name).instances {
                let Source::Task(ti) = i.source else {
                    panic!("a task's source is a task")
                };
                assert_eq!(
                    m.tasks[ti].parent, request_id,
                    "{name} is a child of request"
                );
                assert!(request.start_ns < i.start_ns && i.end_ns < request.end_ns);
            }
        }
        // Each fetch runs on its own worker goroutine; handoff is created on main and ended
        // on another goroutine.
        let mut workers: Vec<i64> = by_name(&tasks, "fetch")
            .instances
            .iter()
            .filter_map(|i| match i.source {
                Source::Task(ti) => m.tasks[ti].goroutines.first().copied(),
                Source::Region { .. } => None,
            })
            .collect();
        workers.sort_unstable();
        workers.dedup();
        assert_eq!(workers.len(), 3);
        let Source::Task(hi) = by_name(&tasks, "handoff").instances[0].source else {
            panic!("a task's source is a task")
        };
        assert_eq!(m.tasks[hi].goroutines.len(), 2);
        assert!(m.tasks[hi].goroutines.contains(&m.tasks[ri].goroutines[0]));
    }

    #[test]
    fn region_types_are_the_programs_regions() {
        let m = annotations();
        let regions = region_stats(&m);
        let names: Vec<(&str, usize)> =
            regions.iter().map(|t| (t.name.as_str(), t.count)).collect();
        assert_eq!(
            names,
            [
                ("decode", 3),
                ("finish", 1),
                ("lookup", 3),
                ("setup", 1),
                ("store", 3)
            ]
        );
        for t in &regions {
            check_consistent(t);
            assert_eq!(t.cut, 0, "{}", t.name);
            assert!(
                t.instances.iter().all(|i| i.duration_ns() > 0),
                "{}",
                t.name
            );
        }
        let region = |i: &Instance| match i.source {
            Source::Region { goroutine, region } => m.goroutines[goroutine].regions[region],
            Source::Task(_) => panic!("a region's source is a region"),
        };
        // lookup sleeps 100, 200 and 300 µs; decode spins 30 µs and store 20 µs.
        let lookup = by_name(&regions, "lookup");
        assert!(lookup.instances.iter().all(|i| i.duration_ns() >= 100_000));
        assert!(lookup.max_ns >= 300_000);
        assert!(by_name(&regions, "decode").p50_ns >= 20_000);
        assert!(by_name(&regions, "store").p50_ns >= 15_000);
        // Each decode is nested in a lookup on its goroutine.
        for d in &by_name(&regions, "decode").instances {
            let dr = region(d);
            assert_eq!(dr.depth, 1);
            assert!(lookup.instances.iter().any(|l| {
                let lr = region(l);
                lr.g == dr.g && lr.depth == 0 && l.start_ns < d.start_ns && d.end_ns < l.end_ns
            }));
        }
        // setup is outside any task; finish belongs to handoff.
        let setup = region(&by_name(&regions, "setup").instances[0]);
        assert!(setup.task == 0 || setup.task == NO_TASK);
        let finish = region(&by_name(&regions, "finish").instances[0]);
        let handoff = m
            .tasks
            .iter()
            .find(|t| m.string(t.name) == "handoff")
            .expect("handoff task");
        assert_eq!(finish.task, handoff.id);
        assert!(handoff.goroutines.contains(&finish.g));
    }

    #[test]
    fn cut_tasks_and_regions_are_clipped_to_the_trace() {
        let mut m = annotations();
        let ri = m
            .tasks
            .iter()
            .position(|t| m.string(t.name) == "request")
            .expect("request task");
        m.tasks[ri].start_ns = None;
        m.tasks[ri].end_ns = None;
        let (gi, r) = m
            .goroutines
            .iter()
            .enumerate()
            .find_map(|(gi, g)| {
                g.regions
                    .iter()
                    .position(|r| m.string(r.name) == "setup")
                    .map(|r| (gi, r))
            })
            .expect("setup region");
        m.goroutines[gi].regions[r].start_ns = m.start_ns;
        let tasks = task_stats(&m);
        let request = &by_name(&tasks, "request").instances[0];
        assert!(!request.began_in_trace && !request.ended_in_trace);
        assert_eq!((request.start_ns, request.end_ns), (m.start_ns, m.end_ns));
        assert_eq!(by_name(&tasks, "request").cut, 1);
        let regions = region_stats(&m);
        let setup = by_name(&regions, "setup");
        assert_eq!(setup.cut, 1);
        assert!(!setup.instances[0].began_in_trace && setup.instances[0].ended_in_trace);
        assert_eq!(setup.instances[0].start_ns, m.start_ns);
    }

    #[test]
    fn histogram_buckets_follow_one_two_five() {
        let h = Histogram::of(&[0, 1, 3, 7, 150, 2_000_000]);
        assert_eq!(h.edges_ns.first(), Some(&0));
        assert_eq!(h.edges_ns.last(), Some(&5_000_000));
        assert_eq!(&h.edges_ns[..5], &[0, 2, 5, 10, 20]);
        assert_eq!(h.counts.iter().sum::<usize>(), 6);
        assert_eq!(h.counts[0], 2, "0 and 1 ns");
        assert_eq!(h.bucket_of(2), Some(1));
        assert_eq!(h.bucket_of(4), Some(1));
        assert_eq!(h.bucket_of(5), Some(2));
        assert_eq!(
            h.range_ns(h.bucket_of(150).expect("a bucket")),
            Some((100, 200))
        );
        assert_eq!(h.bucket_of(2_000_000), Some(h.counts.len() - 1));

        // One duration: padded with empty buckets on both sides.
        let one = Histogram::of(&[5_000]);
        assert_eq!(
            one.edges_ns,
            [500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000]
        );
        assert_eq!(one.counts, [0, 0, 0, 1, 0, 0]);
        let short = Histogram::of(&[1, 1]);
        assert_eq!(short.edges_ns, [1, 2, 5, 10, 20, 50, 100]);
        assert_eq!(short.counts, [2, 0, 0, 0, 0, 0]);
        let huge = Histogram::of(&[i64::MAX, 1]);
        assert_eq!(huge.counts.iter().sum::<usize>(), 2);
        let empty = Histogram::of(&[]);
        assert!(empty.counts.is_empty() && empty.bucket_of(10).is_none());
    }

    #[test]
    fn log_filter_finds_the_programs_messages() {
        let m = annotations();
        assert_eq!(m.logs.len(), 9);
        assert_eq!(log_categories(&m), ["", "fetch", "request", "state"]);
        let messages = |rows: Vec<usize>| -> Vec<&str> {
            rows.iter().map(|&i| m.string(m.logs[i].message)).collect()
        };
        assert_eq!(messages(filter_logs(&m, None, "PART 1")), ["part 1"]);
        assert_eq!(
            messages(filter_logs(&m, None, "part")),
            ["part 0", "part 1", "part 2"]
        );
        // The text also matches the category: "id=42" is logged in category "request".
        assert_eq!(messages(filter_logs(&m, None, "reQuest")), ["id=42"]);
        assert_eq!(filter_logs(&m, Some("fetch"), "").len(), 3);
        assert_eq!(
            messages(filter_logs(&m, Some(""), "")),
            [
                "no task, no category",
                "storing without category",
                "storing without category",
                "storing without category"
            ]
        );
        assert!(filter_logs(&m, Some("state"), "part").is_empty());
        assert_eq!(filter_logs(&m, None, "").len(), 9);
    }

    struct Dock {
        view: TasksView,
        trace: OpenTrace,
        last: Action,
    }

    /// The statistics' address once they are in.
    fn cached(view: &TasksView) -> Option<*const TypeStats> {
        match view.cache.as_ref()? {
            Slot::Done(c) => Some(c.tasks.as_ptr()),
            _ => None,
        }
    }

    fn dock() -> Harness<'static, Dock> {
        let dock = Dock {
            view: TasksView::new(),
            trace: OpenTrace::load(&crate::testdata::trace_path("annotations-go127")).unwrap(),
            last: Action::None,
        };
        let mut h = Harness::builder()
            .with_size(vec2(1500.0, 350.0))
            .build_ui_state(
                |ui, d: &mut Dock| {
                    let action = d.view.ui(ui, &d.trace);
                    if action != Action::None {
                        d.last = action;
                    }
                },
                dock,
            );
        // The statistics are summed in the background: wait for them.
        let t0 = std::time::Instant::now();
        while cached(&h.state().view).is_none() {
            assert!(
                t0.elapsed() < crate::testdata::BACKGROUND_WAIT,
                "the statistics did not arrive"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
            h.run_steps(1);
        }
        h.run();
        h
    }

    #[test]
    fn clicking_a_task_type_shows_its_histogram_and_instances() {
        let mut h = dock();
        let before = cached(&h.state().view);
        h.get_by_label("fetch").click();
        h.run();
        h.get_by_label("fetch: 3 instances");
        h.get_by_label("All 3 instances, longest first");
        // fetch's three durations are between 1 and 2 ms: one bar.
        h.get_by_label("1 ms – 2 ms: 3").click();
        h.run();
        h.get_by_label("3 instances of 1 ms – 2 ms");
        let task3_index = h
            .state()
            .trace
            .model
            .tasks
            .iter()
            .position(|t| t.id == 3)
            .expect("task 3");
        let task3 = h.state().trace.model.tasks[task3_index].clone();
        h.get_by_label(&h.state().trace.model.goroutine_label(task3.goroutines[0]));
        h.get_by_label("#3").click();
        h.run();
        assert_eq!(h.state().last, Action::ShowTask(task3_index));
        // Its row stays marked in the instance table.
        assert_eq!(h.state().view.tasks.picked, Some(Source::Task(task3_index)));
        // The statistics were computed once, not per frame.
        assert_eq!(cached(&h.state().view), before);
    }

    #[test]
    fn clicking_a_region_instance_jumps_to_its_goroutine() {
        let mut h = dock();
        h.get_by_label("Regions").click();
        h.run();
        h.get_by_label("lookup").click();
        h.run();
        h.get_by_label("lookup: 3 instances");
        let (g, start_ns) = {
            let m = &h.state().trace.model;
            let g = m
                .goroutines
                .iter()
                .find(|g| g.regions.iter().any(|r| m.string(r.name) == "lookup"))
                .expect("a goroutine with a lookup region");
            let r = g
                .regions
                .iter()
                .find(|r| m.string(r.name) == "lookup")
                .expect("lookup");
            (g.id, r.start_ns)
        };
        let label = h.state().trace.model.goroutine_label(g);
        h.get_by_label(&label).click();
        h.run();
        assert_eq!(h.state().last, Action::Jump { g, t_ns: start_ns });
    }

    #[test]
    fn log_tab_filters_by_text_and_jumps() {
        let mut h = dock();
        h.get_by_label("Logs").click();
        h.run();
        h.get_by_label("id=42");
        h.get_by_label("9 of 9 messages");
        h.get_by_label("Filter").focus();
        h.run();
        h.get_by_label("Filter").type_text("PART 1");
        h.run();
        h.get_by_label("1 of 9 messages");
        assert!(h.query_by_label("id=42").is_none());
        assert!(h.query_by_label("part 2").is_none());
        h.get_by_label("part 1").click();
        h.run();
        let log = h
            .state()
            .trace
            .model
            .logs
            .iter()
            .find(|l| h.state().trace.model.string(l.message) == "part 1")
            .copied()
            .expect("the part 1 log");
        assert_eq!(
            h.state().last,
            Action::Jump {
                g: log.g,
                t_ns: log.time_ns
            }
        );
    }
}
