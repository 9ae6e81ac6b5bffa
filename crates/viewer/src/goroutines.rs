//! The Goroutines view: goroutines grouped by start function (count, execution and block
//! time), and for a chosen group a sortable, filterable, virtualized table of every
//! goroutine with each time-in-state column of Go's goroutine analysis.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use egui::{Rect, RichText, Sense, Ui, vec2};

use super::analyses::{Analyses, Slot};
use super::loader::{OpenTrace, TraceId};
use super::panels::Action;
use super::table::{Column, Row, Sort, Table};
use super::view::format_duration;
use goscope_analysis::summary::{
    GoroutineSummary, STAT_EXEC, STAT_SCHED_WAIT, STAT_SYSCALL, STAT_SYSCALL_BLOCK, STAT_UNKNOWN,
};
use goscope_analysis::tasks::Histogram;
use goscope_model::{GSpan, GState, Model, Tag};

/// The group table's columns; `GroupsView::group_sort` holds an index into them.
const GROUP_COLUMNS: [Column; 5] = [
    Column::new("Start function", 0.0, false),
    Column::new("Count", 64.0, true),
    Column::new("Execution", 90.0, true),
    Column::new("Blocked", 90.0, true),
    Column::new("Longest block", 100.0, true),
];

/// One column of the goroutine table.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Stat {
    Id,
    Total,
    Exec,
    SchedWait,
    Syscall,
    SyscallBlock,
    /// Blocked for this wait reason.
    Block(String),
    Unknown,
    /// Time inside this special range (mark assist, sweep, a stop-the-world kind).
    Range(String),
}

impl Stat {
    /// The column title, with Go's names.
    pub(crate) fn title(&self) -> String {
        match self {
            Stat::Id => "Goroutine".into(),
            Stat::Total => "Total".into(),
            Stat::Exec => STAT_EXEC.into(),
            Stat::SchedWait => STAT_SCHED_WAIT.into(),
            Stat::Syscall => STAT_SYSCALL.into(),
            Stat::SyscallBlock => STAT_SYSCALL_BLOCK.into(),
            Stat::Block(r) => format!("Block time ({r})"),
            Stat::Unknown => STAT_UNKNOWN.into(),
            Stat::Range(r) => r.clone(),
        }
    }

    /// This column's value for a goroutine (its id for the id column).
    pub(crate) fn value(&self, g: &GoroutineSummary) -> i64 {
        let s = &g.stats;
        match self {
            Stat::Id => g.id,
            Stat::Total => s.total_ns,
            Stat::Exec => s.exec_ns,
            Stat::SchedWait => s.sched_wait_ns,
            Stat::Syscall => s.syscall_ns,
            Stat::SyscallBlock => s.syscall_block_ns,
            Stat::Block(r) => s.block_ns.get(r).copied().unwrap_or(0),
            Stat::Unknown => s.unknown_ns(),
            Stat::Range(r) => s.range_ns.get(r).copied().unwrap_or(0),
        }
    }
}

/// A group of goroutines with the same start function.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupRow {
    pub name: String,
    pub count: usize,
    pub exec_ns: i64,
    pub block_ns: i64,
    /// The longest single wait of any of its goroutines (from the model, in the
    /// background: `None` until it is in).
    pub longest_block_ns: Option<i64>,
}

/// Per start function (the model's naming), the longest single wait of its goroutines
/// that the trace saw whole: a wait already going on when the trace began, or still going
/// on at its end, is left out, so a goroutine that idles through the whole trace does not
/// hide a 1 s wait of another.
pub(crate) fn longest_blocks(model: &Model) -> HashMap<String, i64> {
    let mut out: HashMap<String, i64> = HashMap::new();
    for g in &model.goroutines {
        let n = g.spans.len();
        let longest = g
            .spans
            .iter()
            .enumerate()
            .filter(|(i, s)| {
                s.state == GState::Waiting
                    && !(*i == 0 && g.created_ns.is_none())
                    && !(*i + 1 == n && g.ended_ns.is_none())
            })
            .map(|(_, s)| s.duration_ns())
            .max()
            .unwrap_or(0);
        let e = out.entry(model.string(g.start_fn).to_owned()).or_default();
        *e = (*e).max(longest);
    }
    out
}

/// The columns of a set of goroutines: the fixed ones, then each block reason and each
/// special range that occurs among them.
pub(crate) fn columns_for(gs: &[&GoroutineSummary]) -> Vec<Stat> {
    let mut reasons = BTreeSet::new();
    let mut ranges = BTreeSet::new();
    for g in gs {
        reasons.extend(g.stats.block_ns.keys().map(str::to_string));
        ranges.extend(g.stats.range_ns.keys().map(str::to_string));
    }
    let mut cols = vec![
        Stat::Id,
        Stat::Total,
        Stat::Exec,
        Stat::SchedWait,
        Stat::Syscall,
        Stat::SyscallBlock,
    ];
    cols.extend(reasons.into_iter().map(Stat::Block));
    cols.push(Stat::Unknown);
    cols.extend(ranges.into_iter().map(Stat::Range));
    cols
}

/// The group's goroutines (indices into `summary.goroutines`) whose id matches `filter`
/// (digits, optionally after `g`/`G`), sorted by `sort` (ties by id).
pub(crate) fn table_rows(
    an: &Analyses,
    group: &str,
    filter: &str,
    sort: &Stat,
    descending: bool,
) -> Vec<usize> {
    let f = filter.trim().trim_start_matches(['g', 'G']);
    let mut rows: Vec<usize> = an
        .summary
        .goroutines
        .iter()
        .enumerate()
        .filter(|(_, g)| g.name == group && (f.is_empty() || g.id.to_string().contains(f)))
        .map(|(i, _)| i)
        .collect();
    let gs = &an.summary.goroutines;
    rows.sort_by(|&a, &b| {
        let (va, vb) = (sort.value(&gs[a]), sort.value(&gs[b]));
        let o = if descending { vb.cmp(&va) } else { va.cmp(&vb) };
        o.then(gs[a].id.cmp(&gs[b].id))
    });
    rows
}

/// Height of the histogram strip over the goroutine table.
const HISTOGRAM_PX: f32 = 56.0;

/// A bucket's range as a short label: "20 µs–50 µs".
fn bucket_text(h: &Histogram, b: usize) -> String {
    match h.range_ns(b) {
        Some((lo, hi)) => format!(
            "{}–{}",
            format_duration(lo as f64),
            format_duration(hi as f64)
        ),
        None => String::new(),
    }
}

/// The histogram of a column's values over a group's goroutines, as a strip of bars, the
/// selected range of buckets highlighted. A click on a bar selects it (again: clears),
/// Shift+click extends the selection to it. Returns the new selection when it changed.
fn histogram_ui(
    ui: &mut Ui,
    h: &Histogram,
    column: &str,
    bins: Option<(usize, usize)>,
) -> Option<Option<(usize, usize)>> {
    let n = h.counts.len();
    if n == 0 {
        return None;
    }
    let mut changed = None;
    ui.horizontal(|ui| {
        ui.label(RichText::new(format!("{column}: goroutines per duration")).small());
        let hint = match bins {
            Some((lo, hi)) => format!(
                "showing {} to {} · click the bar again or here to show all",
                format_duration(h.edges_ns[lo] as f64),
                format_duration(h.edges_ns[hi + 1] as f64)
            ),
            None => "click a bar to show only those goroutines, Shift+click for a range".into(),
        };
        if ui.link(RichText::new(hint).small().weak()).clicked() && bins.is_some() {
            changed = Some(None);
        }
    });
    let (rect, resp) = ui.allocate_exact_size(
        vec2(ui.available_width().min(900.0), HISTOGRAM_PX),
        Sense::click(),
    );
    let painter = ui.painter_at(rect);
    let max = h.counts.iter().copied().max().unwrap_or(0).max(1) as f32;
    let bar_w = rect.width() / n as f32;
    let bar_at = |x: f32| (((x - rect.left()) / bar_w) as usize).min(n - 1);
    let hovered = resp.hover_pos().map(|p| bar_at(p.x));
    for (b, &count) in h.counts.iter().enumerate() {
        let x = rect.left() + b as f32 * bar_w;
        let height = (rect.height() - 12.0) * count as f32 / max;
        let bar = Rect::from_min_max(
            egui::pos2(
                x + 1.0,
                rect.bottom() - 12.0 - height.max(if count > 0 { 1.0 } else { 0.0 }),
            ),
            egui::pos2(x + bar_w - 1.0, rect.bottom() - 12.0),
        );
        let on = bins.is_some_and(|(lo, hi)| (lo..=hi).contains(&b));
        let color = if on {
            ui.visuals().selection.bg_fill
        } else if hovered == Some(b) {
            ui.visuals().widgets.hovered.fg_stroke.color
        } else {
            ui.visuals().widgets.inactive.fg_stroke.color
        };
        painter.rect_filled(bar, 1.0, color);
        if b % 2 == 0 || n <= 8 {
            painter.text(
                egui::pos2(x + 1.0, rect.bottom()),
                egui::Align2::LEFT_BOTTOM,
                format_duration(h.edges_ns[b] as f64),
                egui::FontId::proportional(9.0),
                ui.visuals().weak_text_color(),
            );
        }
    }
    if let Some(b) = hovered {
        resp.clone().on_hover_text_at_pointer(format!(
            "{}: {} goroutines",
            bucket_text(h, b),
            h.counts[b]
        ));
    }
    if resp.clicked() {
        if let Some(b) = resp.interact_pointer_pos().map(|p| bar_at(p.x)) {
            let shift = ui.input(|i| i.modifiers.shift);
            changed = Some(match bins {
                Some((lo, hi)) if shift => Some((lo.min(b), hi.max(b))),
                Some((lo, hi)) if lo == b && hi == b => None,
                _ => Some((b, b)),
            });
        }
    }
    resp.widget_info(|| {
        egui::WidgetInfo::labeled(
            egui::Role::Image,
            true,
            format!("{column} histogram, {n} buckets"),
        )
    });
    changed
}

/// Whether goroutine `id` has a span tagged `tag` (a wait on it).
pub(crate) fn waits_on(model: &Model, id: i64, tag: Tag) -> bool {
    model
        .goroutine(id)
        .is_some_and(|g| g.spans.iter().any(|s| model.span_tag(&s) == Some(tag)))
}

/// The groups, most execution time first.
pub fn group_rows(an: &Analyses) -> Vec<GroupRow> {
    let mut block: std::collections::HashMap<&str, i64> = Default::default();
    for g in &an.summary.goroutines {
        *block.entry(&g.name).or_default() += g.stats.block_total_ns();
    }
    an.summary
        .groups()
        .into_iter()
        .map(|g| GroupRow {
            block_ns: block.get(g.name.as_str()).copied().unwrap_or(0),
            name: g.name,
            count: g.count,
            exec_ns: g.exec_ns,
            longest_block_ns: None,
        })
        .collect()
}

/// Puts the groups in the order of `GROUP_COLUMNS[sort.col]`; ties by name.
fn sort_groups(groups: &mut [GroupRow], sort: Sort<usize>) {
    groups.sort_by(|a, b| {
        let o = match sort.col {
            0 => a.name.cmp(&b.name),
            1 => a.count.cmp(&b.count),
            2 => a.exec_ns.cmp(&b.exec_ns),
            3 => a.block_ns.cmp(&b.block_ns),
            _ => a.longest_block_ns.cmp(&b.longest_block_ns),
        };
        let o = if sort.descending { o.reverse() } else { o };
        o.then_with(|| a.name.cmp(&b.name))
    });
}

fn group_label(name: &str) -> &str {
    if name.is_empty() {
        "(unknown start function)"
    } else {
        name
    }
}

type TableKey = (
    TraceId,
    String,
    String,
    Stat,
    bool,
    Option<Tag>,
    Option<(usize, usize)>,
);

/// The view's state.
pub struct GoroutinesView {
    groups: Vec<GroupRow>,
    /// The order of `groups`: a column of `GROUP_COLUMNS`.
    group_sort: Sort<usize>,
    /// Which trace `groups` was made from.
    groups_of: Option<TraceId>,
    /// Each group's longest single wait, computed from the model in the background.
    longest: Option<(TraceId, Slot<HashMap<String, i64>>)>,
    pub group_filter: String,
    pub group: Option<String>,
    pub id_filter: String,
    /// Only goroutines with a wait of this tag (`goscope_model::tags`).
    pub tag_filter: Option<Tag>,
    /// The histogram of the sorted column over the group's goroutines (made with the
    /// table's rows), and the range of its buckets the table is limited to.
    histogram: Option<Histogram>,
    pub bins: Option<(usize, usize)>,
    pub sort: Stat,
    pub descending: bool,
    columns: Vec<Stat>,
    /// The table's header for `columns` (made with them, not every frame).
    header: Vec<Column>,
    rows: Vec<usize>,
    rows_key: Option<TableKey>,
    selected: Option<i64>,
}

impl Default for GoroutinesView {
    fn default() -> Self {
        Self::new()
    }
}

impl GoroutinesView {
    pub fn new() -> Self {
        GoroutinesView {
            groups: Vec::new(),
            group_sort: Sort {
                col: 2,
                descending: true,
            },
            groups_of: None,
            longest: None,
            group_filter: String::new(),
            group: None,
            id_filter: String::new(),
            tag_filter: None,
            histogram: None,
            bins: None,
            sort: Stat::Total,
            descending: true,
            columns: Vec::new(),
            header: Vec::new(),
            rows: Vec::new(),
            rows_key: None,
            selected: None,
        }
    }

    /// Selects a group (as a click on it does).
    pub fn select_group(&mut self, name: &str) {
        self.group = Some(name.to_string());
        self.selected = None;
    }

    /// The groups' names, in display order.
    pub fn group_names(&self) -> Vec<String> {
        self.groups.iter().map(|g| g.name.clone()).collect()
    }

    /// The goroutines of the table, in display order.
    pub fn visible_goroutines<'a>(&self, an: &'a Analyses) -> Vec<&'a GoroutineSummary> {
        self.rows
            .iter()
            .map(|&i| &an.summary.goroutines[i])
            .collect()
    }

    /// Starts (once per trace) the longest-wait pass over the model, and puts its values
    /// in the group rows when it is done.
    fn fill_longest(&mut self, ctx: &egui::Context, trace: &OpenTrace) {
        if self.longest.as_ref().is_none_or(|(id, _)| *id != trace.id) {
            let model = trace.model.clone();
            let slot = Slot::spawn("longest-blocks", ctx, move || longest_blocks(&model));
            self.longest = Some((trace.id, slot));
        }
        // The groups get their values all at once: filled when the first has one.
        if self
            .groups
            .first()
            .is_none_or(|g| g.longest_block_ns.is_some())
        {
            return;
        }
        if let Some((_, slot)) = self.longest.as_mut()
            && let Some(map) = slot.get()
        {
            for g in &mut self.groups {
                g.longest_block_ns = Some(map.get(&g.name).copied().unwrap_or(0));
            }
            sort_groups(&mut self.groups, self.group_sort);
        }
    }

    fn refresh(&mut self, key_an: TraceId, an: &Analyses, model: &Model) {
        if self.groups_of != Some(key_an) {
            self.groups = group_rows(an);
            sort_groups(&mut self.groups, self.group_sort);
            self.groups_of = Some(key_an);
            self.rows_key = None;
        }
        let Some(group) = self.group.as_deref() else {
            self.rows.clear();
            self.columns.clear();
            self.header.clear();
            return;
        };
        // Compared in place: building the key every frame would copy its strings.
        let fresh = self.rows_key.as_ref().is_some_and(|(a, g, f, s, d, t, b)| {
            *a == key_an
                && g == group
                && *f == self.id_filter
                && *s == self.sort
                && *d == self.descending
                && *t == self.tag_filter
                && *b == self.bins
        });
        if fresh {
            return;
        }
        let group = group.to_string();
        let all: Vec<&GoroutineSummary> = an
            .summary
            .goroutines
            .iter()
            .filter(|g| g.name == group)
            .collect();
        self.columns = columns_for(&all);
        self.header = self
            .columns
            .iter()
            .map(|c| match c {
                Stat::Id => Column::named(c.title(), 76.0, false),
                _ => Column::named(c.title(), 110.0, true),
            })
            .collect();
        if !self.columns.contains(&self.sort) {
            self.sort = Stat::Total;
        }
        // Another group or column: another histogram, and its bins mean nothing here.
        let same_histogram = self
            .rows_key
            .as_ref()
            .is_some_and(|(a, g, _, s, ..)| *a == key_an && *g == group && *s == self.sort);
        if !same_histogram {
            let values: Vec<i64> = all.iter().map(|g| self.sort.value(g)).collect();
            self.histogram = Some(Histogram::of(&values));
            self.bins = None;
        }
        self.rows = table_rows(an, &group, &self.id_filter, &self.sort, self.descending);
        if let (Some(h), Some((lo, hi))) = (&self.histogram, self.bins) {
            let gs = &an.summary.goroutines;
            let sort = &self.sort;
            self.rows.retain(|&i| {
                h.bucket_of(sort.value(&gs[i]))
                    .is_some_and(|b| (lo..=hi).contains(&b))
            });
        }
        if let Some(tag) = self.tag_filter {
            let gs = &an.summary.goroutines;
            self.rows.retain(|&i| waits_on(model, gs[i].id, tag));
        }
        self.rows_key = Some((
            key_an,
            group,
            self.id_filter.clone(),
            self.sort.clone(),
            self.descending,
            self.tag_filter,
            self.bins,
        ));
    }

    pub(crate) fn ui(&mut self, ui: &mut Ui, trace: &OpenTrace, an: &Arc<Analyses>) -> Action {
        self.refresh(trace.id, an, &trace.model);
        self.fill_longest(ui.ctx(), trace);
        let model = &*trace.model;
        let mut action = Action::None;
        egui::Panel::left("goroutine-groups")
            .resizable(true)
            .default_size(560.0)
            .show(ui, |ui| self.groups_ui(ui));
        egui::CentralPanel::default().show(ui, |ui| {
            action = self.table_ui(ui, model, an);
        });
        action
    }

    fn groups_ui(&mut self, ui: &mut Ui) {
        ui.horizontal(|ui| {
            ui.label(RichText::new(format!("{} groups", self.groups.len())).strong());
            ui.add(
                egui::TextEdit::singleline(&mut self.group_filter)
                    .hint_text("filter by start function")
                    .desired_width(200.0),
            );
        });
        let needle = self.group_filter.to_lowercase();
        let shown: Vec<usize> = (0..self.groups.len())
            .filter(|&i| needle.is_empty() || self.groups[i].name.to_lowercase().contains(&needle))
            .collect();
        let (groups, chosen) = (&self.groups, self.group.as_deref());
        let out = Table::new("groups-table", &GROUP_COLUMNS)
            .sorted(Some((self.group_sort.col, self.group_sort.descending)))
            .show(ui, shown.len(), |pos| {
                let g = groups.get(*shown.get(pos)?)?;
                Some(
                    Row::new([
                        group_label(&g.name).to_owned(),
                        g.count.to_string(),
                        format_duration(g.exec_ns as f64),
                        format_duration(g.block_ns as f64),
                        g.longest_block_ns
                            .map_or_else(|| "…".to_owned(), |ns| format_duration(ns as f64)),
                    ])
                    .selected(chosen == Some(g.name.as_str())),
                )
            });
        let clicked = out.clicked.or(out.double_clicked);
        if let Some(name) =
            clicked.and_then(|pos| Some(self.groups.get(*shown.get(pos)?)?.name.clone()))
        {
            self.select_group(&name);
        }
        if let Some(col) = out.sort_by {
            // The name sorts A to Z first, the numbers largest first.
            self.group_sort = self.group_sort.clicked(col, col != 0);
            sort_groups(&mut self.groups, self.group_sort);
        }
    }

    fn table_ui(&mut self, ui: &mut Ui, model: &Model, an: &Arc<Analyses>) -> Action {
        let Some(group) = self.group.clone() else {
            ui.label("Choose a group on the left to see its goroutines.");
            return Action::None;
        };
        let mut ran_and_waited: Option<Vec<i64>> = None;
        ui.horizontal(|ui| {
            ui.label(RichText::new(format!("{} — {} goroutines", group_label(&group), self.rows.len())).strong());
            ui.add(
                egui::TextEdit::singleline(&mut self.id_filter)
                    .hint_text("goroutine id")
                    .desired_width(110.0),
            );
            let shown = self.tag_filter.map_or("any", Tag::name);
            egui::ComboBox::from_label("waits on")
                .selected_text(shown)
                // Every option at once, no scrolling.
                .height(f32::INFINITY)
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.tag_filter, None, "any");
                    for t in Tag::ALL {
                        ui.selectable_value(&mut self.tag_filter, Some(t), t.name());
                    }
                })
                .response
                .on_hover_text("Only goroutines that waited on this (read from the stack where they blocked)");
            if ui
                .button("Where they ran and waited")
                .on_hover_text("The group's CPU profile (from the trace's CPU samples) beside where its goroutines blocked, in the Profiles tab")
                .clicked()
            {
                let ids = an
                    .summary
                    .goroutines
                    .iter()
                    .filter(|g| g.name == group)
                    .map(|g| g.id)
                    .collect();
                ran_and_waited = Some(ids);
            }
            ui.label(
                RichText::new("click: show in timeline · double-click: focused timeline · right-click: menu · click a header to sort")
                    .small()
                    .weak(),
            );
        });
        if let Some(h) = &self.histogram {
            let title = self
                .columns
                .iter()
                .find(|c| **c == self.sort)
                .map_or_else(String::new, |c| c.title());
            if let Some(bins) = histogram_ui(ui, h, &title, self.bins) {
                self.bins = bins;
            }
        }
        if let Some(goroutines) = ran_and_waited {
            return Action::Profiles {
                label: format!(
                    "the {} goroutines of {}",
                    goroutines.len(),
                    group_label(&group)
                ),
                goroutines,
            };
        }
        let sorted = self.columns.iter().position(|c| *c == self.sort);
        let gs = &an.summary.goroutines;
        let (rows, columns, selected) = (&self.rows, &self.columns, self.selected);
        let id_at = |pos: usize| Some(gs.get(*rows.get(pos)?)?.id);
        let mut focus = None;
        let mut menu = |ui: &mut Ui, pos: usize| {
            if ui.button("Focused timeline").clicked() {
                focus = id_at(pos);
                ui.close();
            }
        };
        let out = Table::new("goroutine-table", &self.header)
            .sorted(sorted.map(|c| (c, self.descending)))
            .context_menu(&mut menu)
            .show(ui, rows.len(), |pos| {
                let g = gs.get(*rows.get(pos)?)?;
                let cells = columns.iter().map(|c| match c {
                    Stat::Id => RichText::new(format!("G{}", g.id)).monospace(),
                    _ => RichText::new(format_duration(c.value(g) as f64)),
                });
                Some(Row::new(cells).selected(selected == Some(g.id)))
            });
        let mut action = match focus {
            Some(g) => Action::Focus(g),
            None => Action::None,
        };
        if let Some(g) = out.double_clicked.and_then(id_at) {
            action = Action::Focus(g);
        } else if let Some(pos) = out.clicked
            && let Some(g) = gs.get(self.rows[pos])
        {
            self.selected = Some(g.id);
            action = click_action(model, g, &self.sort);
        }
        if let Some(c) = out.sort_by.and_then(|i| self.columns.get(i)).cloned() {
            if c == self.sort {
                self.descending = !self.descending;
            } else {
                // Times sort largest first, ids smallest first.
                self.descending = c != Stat::Id;
                self.sort = c;
            }
        }
        action
    }
}

/// What a click on goroutine `g`'s row shows: sorted by a time spent in one state, the
/// longest span of that state; sorted by its total, execution time or id, its whole life.
pub(crate) fn click_action(model: &Model, g: &GoroutineSummary, sort: &Stat) -> Action {
    match sort {
        Stat::Id | Stat::Total | Stat::Exec => Action::ShowGoroutine(g.id),
        _ => Action::Jump {
            g: g.id,
            t_ns: longest_span_start_ns(model, g.id, sort).unwrap_or_else(|| first_seen_ns(g)),
        },
    }
}

/// Where the sorted column's time went for goroutine `g`: the start of its longest span in
/// that state (for a block reason, the longest wait for that reason). None for columns
/// that are not one state.
pub(crate) fn longest_span_start_ns(model: &Model, g: i64, column: &Stat) -> Option<i64> {
    let gr = model.goroutine(g)?;
    let wanted = |s: &GSpan| match column {
        Stat::Exec => s.state == GState::Running,
        Stat::SchedWait => s.state == GState::Runnable,
        Stat::Syscall | Stat::SyscallBlock => s.state == GState::Syscall,
        Stat::Block(reason) => s.state == GState::Waiting && model.string(s.reason) == reason,
        _ => false,
    };
    gr.spans
        .iter()
        .filter(|s| wanted(s))
        .max_by_key(|s| s.duration_ns())
        .map(|s| s.start_ns)
}

fn first_seen_ns(g: &GoroutineSummary) -> i64 {
    g.start_ns.unwrap_or(g.creation_ns)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stall() -> Arc<Analyses> {
        crate::testdata::analyses("stall-go127")
    }

    #[test]
    fn the_longest_whole_wait_of_the_stall_is_its_group_s_and_idlers_do_not_hide_it() {
        let m = crate::testdata::model("stall-go127");
        let longest = longest_blocks(&m);
        let stream = longest["main.stream"];
        assert!(
            (900_000_000..1_200_000_000).contains(&stream),
            "main.stream's 1 s select wait: {stream} ns"
        );
        // Runtime goroutines wait through the whole trace: not seen whole, not counted.
        for (name, &ns) in &longest {
            if name.starts_with("runtime.") {
                assert!(ns < stream, "{name}: {ns} ns");
            }
        }
    }

    #[test]
    fn groups_count_every_goroutine_and_sorting_by_select_puts_the_stall_first() {
        let an = stall();
        let groups = group_rows(&an);
        assert_eq!(
            groups.iter().map(|g| g.count).sum::<usize>(),
            an.summary.goroutines.len()
        );
        for w in groups.windows(2) {
            assert!(w[0].exec_ns >= w[1].exec_ns, "groups by execution time");
        }
        let stream = groups
            .iter()
            .find(|g| g.name == "main.stream")
            .expect("main.stream group");
        let sel = Stat::Block("select".into());
        let rows = table_rows(&an, &stream.name, "", &sel, true);
        assert_eq!(rows.len(), stream.count);
        let top = &an.summary.goroutines[rows[0]];
        let ns = sel.value(top);
        assert!(
            (900_000_000..1_200_000_000).contains(&ns),
            "top select block {ns} ns"
        );
        for w in rows.windows(2) {
            let (a, b) = (&an.summary.goroutines[w[0]], &an.summary.goroutines[w[1]]);
            assert!(sel.value(a) >= sel.value(b));
        }
        // Ascending is the reverse order of values; the id filter narrows to that goroutine.
        let asc = table_rows(&an, &stream.name, "", &sel, false);
        assert_eq!(
            asc.last().map(|&i| sel.value(&an.summary.goroutines[i])),
            Some(ns)
        );
        let only = table_rows(&an, &stream.name, &format!("g{}", top.id), &sel, true);
        assert!(only.contains(&rows[0]));
        // A click on that row shows its longest select wait: the 1 s stall.
        let model = crate::testdata::model("stall-go127");
        let t_ns = longest_span_start_ns(&model, top.id, &sel).expect("a select wait");
        let gr = model.goroutine(top.id).expect("goroutine");
        let span = gr
            .spans
            .iter()
            .find(|s| s.start_ns == t_ns)
            .expect("the span");
        assert!(span.duration_ns() > 900_000_000);
        assert_eq!(longest_span_start_ns(&model, top.id, &Stat::Total), None);
    }

    #[test]
    fn columns_cover_every_block_reason_and_the_disjoint_stats_sum_to_total() {
        let an = stall();
        let all: Vec<&GoroutineSummary> = an.summary.goroutines.iter().collect();
        let cols = columns_for(&all);
        assert!(cols.contains(&Stat::Block("select".into())));
        for g in &all {
            let disjoint: i64 = cols
                .iter()
                .filter(|c| !matches!(c, Stat::Id | Stat::Total | Stat::Range(_)))
                .map(|c| c.value(g))
                .sum();
            assert!(
                disjoint >= g.stats.total_ns,
                "G{}: {disjoint} < {}",
                g.id,
                g.stats.total_ns
            );
        }
    }
}
