//! The Profiles view: a blocking or scheduler-latency profile as an icicle flame graph
//! (callers on top, callees below, widths proportional to delay), with search, click to
//! zoom, a time-range limit computed in the background, and pprof export.
//!
//! `FlameTree` is the pure part: the profile's stacks merged into a call tree once per
//! profile, searched and laid out by plain functions. `layout` visits only frames at
//! least `min_px` wide in the visible rows, so a frame costs what is on screen.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use egui::{Align2, Color32, FontId, Rect, RichText, Sense, Stroke, StrokeKind, Ui, Vec2, pos2};
use rustc_hash::FxHashMap;

use super::analyses::{Analyses, Slot};
use super::loader::TraceId;
use super::panels::Action;
use super::view::format_duration;
use goscope_analysis::pprof::{self, Profile, ProfileBuilder, ProfileKind};
use goscope_analysis::stacks::StackTable;

/// Index of a node in its `FlameTree`.
pub type NodeId = u32;

/// Height of one row of the icicle, in points.
pub(crate) const ROW_PX: f32 = 18.0;

/// Frames narrower than this are neither painted nor descended into.
pub(crate) const MIN_FRAME_PX: f64 = 1.0;

/// One call-tree node: a frame (function, file, line) reached by one call path.
#[derive(Clone, Debug)]
pub struct FlameNode {
    func: u32,
    file: u32,
    pub line: u64,
    /// Delay of all samples whose stack passes through this node.
    pub total_ns: i64,
    /// Delay of the samples whose innermost frame is this node.
    pub self_ns: i64,
    /// Samples (as the profile counts them) through this node.
    pub samples: u64,
    /// The caller; the root is its own parent.
    pub parent: NodeId,
    /// 0 for the root.
    pub depth: u32,
    /// Callees, largest `total_ns` first.
    pub children: Vec<NodeId>,
}

/// Identifies a node by what it shows, to find "the same" node in another tree (the
/// zoom survives a change of time range).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameKey {
    pub func: String,
    pub file: String,
    pub line: u64,
}

/// What a search found: how many frames match, and their delay counted once (a match
/// nested under another match adds nothing).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Match {
    pub frames: usize,
    pub total_ns: i64,
}

/// A profile's samples merged into a call tree rooted at "all".
#[derive(Clone, Debug)]
pub struct FlameTree {
    /// Parents come before their children (a node is pushed when first reached).
    nodes: Vec<FlameNode>,
    strings: Vec<Box<str>>,
    /// `strings`, lowercased, for case-insensitive search.
    lower: Vec<Box<str>>,
    max_depth: u32,
}

impl FlameTree {
    pub(crate) const ROOT: NodeId = 0;

    /// Merges the records' stacks (innermost first in the table, so reversed here) into
    /// a tree. Go pads stacks with pc-0 frames, which name nothing; they are skipped.
    pub fn from_profile(profile: &Profile, stacks: &StackTable) -> FlameTree {
        let mut tree = FlameTree {
            nodes: Vec::new(),
            strings: Vec::new(),
            lower: Vec::new(),
            max_depth: 0,
        };
        let mut string_ids: FxHashMap<Box<str>, u32> = FxHashMap::default();
        let mut intern = |tree: &mut FlameTree, s: &str| -> u32 {
            if let Some(&i) = string_ids.get(s) {
                return i;
            }
            let i = tree.strings.len() as u32;
            tree.strings.push(s.into());
            tree.lower.push(s.to_lowercase().into());
            string_ids.insert(s.into(), i);
            i
        };
        let all = intern(&mut tree, "all");
        let none = intern(&mut tree, "");
        tree.nodes.push(FlameNode {
            func: all,
            file: none,
            line: 0,
            total_ns: 0,
            self_ns: 0,
            samples: 0,
            parent: Self::ROOT,
            depth: 0,
            children: Vec::new(),
        });
        // (parent, func, file, line) → child, while building.
        let mut child_of: FxHashMap<(NodeId, u32, u32, u64), NodeId> = FxHashMap::default();
        for rec in &profile.records {
            let delay_ns = rec.delay_ns.max(0);
            let mut at = Self::ROOT;
            tree.add_to(at, delay_ns, rec.count);
            for f in stacks.frames(rec.stack).iter().rev() {
                if f.pc == 0 {
                    continue;
                }
                let name = stacks.string(f.func);
                let func = intern(&mut tree, if name.is_empty() { "?" } else { name });
                let file = intern(&mut tree, stacks.string(f.file));
                let next = tree.nodes.len() as NodeId;
                let child = *child_of.entry((at, func, file, f.line)).or_insert(next);
                if child == next {
                    let depth = tree.nodes[at as usize].depth + 1;
                    tree.max_depth = tree.max_depth.max(depth);
                    tree.nodes.push(FlameNode {
                        func,
                        file,
                        line: f.line,
                        total_ns: 0,
                        self_ns: 0,
                        samples: 0,
                        parent: at,
                        depth,
                        children: Vec::new(),
                    });
                    tree.nodes[at as usize].children.push(child);
                }
                tree.add_to(child, delay_ns, rec.count);
                at = child;
            }
            tree.nodes[at as usize].self_ns += delay_ns;
        }
        // Largest first: `layout` stops at the first child too narrow to draw.
        let totals: Vec<(i64, u32, u64)> = tree
            .nodes
            .iter()
            .map(|n| (n.total_ns, n.func, n.line))
            .collect();
        let strings = &tree.strings;
        for n in &mut tree.nodes {
            n.children.sort_by(|&a, &b| {
                let (ta, fa, la) = totals[a as usize];
                let (tb, fb, lb) = totals[b as usize];
                tb.cmp(&ta)
                    .then_with(|| strings[fa as usize].cmp(&strings[fb as usize]))
                    .then(la.cmp(&lb))
            });
        }
        tree
    }

    fn add_to(&mut self, id: NodeId, delay_ns: i64, samples: u64) {
        let n = &mut self.nodes[id as usize];
        n.total_ns = n.total_ns.saturating_add(delay_ns);
        n.samples = n.samples.saturating_add(samples);
    }

    /// True when no sample has a frame (the root alone).
    pub(crate) fn is_empty(&self) -> bool {
        self.nodes.len() <= 1
    }

    pub fn get(&self, id: NodeId) -> Option<&FlameNode> {
        self.nodes.get(id as usize)
    }

    #[cfg(test)]
    pub(crate) fn nodes(&self) -> impl Iterator<Item = (NodeId, &FlameNode)> {
        self.nodes.iter().enumerate().map(|(i, n)| (i as NodeId, n))
    }

    /// The function name of a node ("all" for the root, "" for an unknown id).
    pub(crate) fn func(&self, id: NodeId) -> &str {
        self.get(id)
            .and_then(|n| self.strings.get(n.func as usize))
            .map_or("", |s| s)
    }

    pub(crate) fn file(&self, id: NodeId) -> &str {
        self.get(id)
            .and_then(|n| self.strings.get(n.file as usize))
            .map_or("", |s| s)
    }

    /// The delay of the whole profile.
    pub fn total_ns(&self) -> i64 {
        self.nodes.first().map_or(0, |n| n.total_ns)
    }

    pub(crate) fn total_samples(&self) -> u64 {
        self.nodes.first().map_or(0, |n| n.samples)
    }

    /// The depth of the deepest frame (the root is at 0).
    pub(crate) fn max_depth(&self) -> u32 {
        self.max_depth
    }

    /// The nodes from the root down to `id`, both included (just the root for an
    /// unknown id).
    pub fn path(&self, id: NodeId) -> Vec<NodeId> {
        let mut path = Vec::new();
        let mut at = if self.get(id).is_some() {
            id
        } else {
            Self::ROOT
        };
        while at != Self::ROOT {
            path.push(at);
            at = self.nodes[at as usize].parent;
        }
        path.push(Self::ROOT);
        path.reverse();
        path
    }

    pub(crate) fn key(&self, id: NodeId) -> FrameKey {
        FrameKey {
            func: self.func(id).to_string(),
            file: self.file(id).to_string(),
            line: self.get(id).map_or(0, |n| n.line),
        }
    }

    /// Follows a path of keys (below the root) as far as this tree has it; returns the
    /// deepest node reached.
    pub(crate) fn find(&self, path: &[FrameKey]) -> NodeId {
        let mut at = Self::ROOT;
        for k in path {
            let next = self.nodes[at as usize].children.iter().copied().find(|&c| {
                let n = &self.nodes[c as usize];
                n.line == k.line
                    && *self.strings[n.func as usize] == *k.func
                    && *self.strings[n.file as usize] == *k.file
            });
            match next {
                Some(c) => at = c,
                None => break,
            }
        }
        at
    }

    /// Which nodes' function names contain `query` (case-insensitive), and their delay
    /// counted once. An empty query matches nothing.
    pub fn search(&self, query: &str) -> (Vec<bool>, Match) {
        let q = query.trim().to_lowercase();
        let mut hit = vec![false; self.nodes.len()];
        let mut found = Match::default();
        if q.is_empty() {
            return (hit, found);
        }
        // Whether a node or one of its callers matches; parents precede children.
        let mut covered = vec![false; self.nodes.len()];
        for (i, n) in self.nodes.iter().enumerate() {
            let under_match = i != 0 && covered[n.parent as usize];
            hit[i] = i != 0 && self.lower[n.func as usize].contains(&q);
            covered[i] = hit[i] || under_match;
            if hit[i] {
                found.frames += 1;
                if !under_match {
                    found.total_ns = found.total_ns.saturating_add(n.total_ns);
                }
            }
        }
        (hit, found)
    }

    /// The delay of the frames whose function names contain `query`, counted once.
    pub fn matches(&self, query: &str) -> i64 {
        self.search(query).1.total_ns
    }
}

/// One box of the icicle, `x0_px..x1_px` from the left edge of the graph.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FlameItem {
    pub node: NodeId,
    pub depth: u32,
    pub x0_px: f64,
    pub x1_px: f64,
    /// A caller of the zoomed node (drawn full width, dimmed).
    pub above_zoom: bool,
}

/// The boxes to draw for `zoom` shown at `width_px`: its callers and itself full width,
/// its callees in proportion to their delay, only in `rows` (depths) and only those at
/// least `min_px` wide. Children are visited largest first, so the walk stops at the
/// first one too narrow: the cost is bounded by what is drawn.
pub(crate) fn layout(
    tree: &FlameTree,
    zoom: NodeId,
    width_px: f64,
    rows: Range<u32>,
    min_px: f64,
) -> Vec<FlameItem> {
    let mut items = Vec::new();
    let Some(z) = tree.get(zoom) else {
        return items;
    };
    for id in tree.path(zoom) {
        let depth = tree.nodes[id as usize].depth;
        if rows.contains(&depth) {
            items.push(FlameItem {
                node: id,
                depth,
                x0_px: 0.0,
                x1_px: width_px,
                above_zoom: id != zoom,
            });
        }
    }
    if z.total_ns <= 0 || width_px < min_px {
        return items;
    }
    let px_per_ns = width_px / z.total_ns as f64;
    let mut stack: Vec<(NodeId, f64)> = vec![(zoom, 0.0)];
    while let Some((id, x0_px)) = stack.pop() {
        let n = &tree.nodes[id as usize];
        if n.depth + 1 >= rows.end {
            continue;
        }
        let mut x = x0_px;
        for &c in &n.children {
            let child = &tree.nodes[c as usize];
            let w = child.total_ns as f64 * px_per_ns;
            if w < min_px {
                break;
            }
            if rows.contains(&child.depth) {
                items.push(FlameItem {
                    node: c,
                    depth: child.depth,
                    x0_px: x,
                    x1_px: x + w,
                    above_zoom: false,
                });
            }
            stack.push((c, x));
            x += w;
        }
    }
    items
}

/// The item under a point of the graph (x from its left edge, depth from its row).
pub(crate) fn item_at(items: &[FlameItem], x_px: f64, depth: u32) -> Option<&FlameItem> {
    items
        .iter()
        .find(|it| it.depth == depth && it.x0_px <= x_px && x_px < it.x1_px)
}

/// Writes a profile gzipped to `path`, the bytes `goscope pprof` writes.
pub(crate) fn write_pprof(
    path: &Path,
    profile: &Profile,
    stacks: &StackTable,
) -> Result<u64, String> {
    let file = std::fs::File::create(path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    pprof::write_gzipped(profile, stacks, std::io::BufWriter::new(file))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| format!("cannot read back {}: {e}", path.display()))
}

/// The kind's name in the selector.
pub(crate) fn kind_label(kind: ProfileKind) -> &'static str {
    match kind {
        ProfileKind::Net => "Network blocking",
        ProfileKind::Sync => "Sync blocking",
        ProfileKind::Syscall => "Syscall",
        ProfileKind::Sched => "Scheduler latency",
        ProfileKind::Cpu => "CPU (samples)",
    }
}

/// "1.230 s in 42 samples".
pub(crate) fn total_text(tree: &FlameTree) -> String {
    let n = tree.total_samples();
    format!(
        "{} in {n} sample{}",
        format_duration(tree.total_ns() as f64),
        if n == 1 { "" } else { "s" }
    )
}

/// "main.wait: 3 frames, 2.000 s (64% of total)".
pub fn match_text(query: &str, found: Match, total_ns: i64) -> String {
    let q = query.trim();
    if found.frames == 0 {
        return format!("{q}: no frames");
    }
    let pct = if total_ns > 0 {
        100.0 * found.total_ns as f64 / total_ns as f64
    } else {
        0.0
    };
    format!(
        "{q}: {} frame{}, {} ({pct:.0}% of total)",
        found.frames,
        if found.frames == 1 { "" } else { "s" },
        format_duration(found.total_ns as f64)
    )
}

/// A profile and its tree, for one (kind, range).
struct Entry {
    tree: FlameTree,
    /// The profile and its stacks when limited to a range; the whole trace's are the
    /// analyses'.
    own: Option<(Profile, StackTable)>,
    /// For the CPU profile of some goroutines: where they waited off the CPU (their
    /// network, sync and syscall blocking, by the stack where they blocked).
    off_cpu: Option<FlameTree>,
}

/// Which profile: its kind, the time window (absolute ns) if limited, and the goroutines
/// it is limited to, if any (a `Scope`'s number).
type Key = (ProfileKind, Option<(i64, i64)>, Option<u64>);

/// Some goroutines the profiles are limited to: one, or a group.
#[derive(Clone, Debug)]
struct Scope {
    /// A number of its own, for the cache's keys.
    id: u64,
    label: String,
    goroutines: Arc<Vec<i64>>,
}

/// Results kept; the oldest is dropped beyond this.
const CACHE_LEN: usize = 8;

/// The export controls' state.
#[derive(Default)]
struct Export {
    /// The path field, shown when no dialog could be.
    path: Option<String>,
    note: Option<String>,
    /// What the last write did.
    outcome: Option<Result<String, String>>,
}

/// Per-frame state of the view, apart from the cache (so both can be borrowed).
struct State {
    kind: ProfileKind,
    only_selection: bool,
    search: String,
    /// The zoomed node as a path of keys, so it survives a change of range or kind.
    zoom_path: Vec<FrameKey>,
    /// `zoom_path` resolved in the tree of this key.
    zoom: Option<(Key, NodeId)>,
    /// The search resolved in the tree of this key, for this query.
    found: Option<(Key, String, Vec<bool>, Match)>,
    export: Export,
    /// A function the user asked to find in the timeline (right-click on a frame).
    find: Option<String>,
    /// The goroutines the profiles are limited to, if any.
    scope: Option<Scope>,
    /// The number the next scope gets.
    next_scope: u64,
}

/// The Profiles dock: kind selector, time-range limit, search, total, export, icicle.
pub struct ProfilesView {
    state: State,
    cache: Vec<(Key, Slot<Result<Entry, String>>)>,
    /// The trace the cache was computed from.
    source: Option<TraceId>,
}

impl Default for ProfilesView {
    fn default() -> Self {
        Self::new()
    }
}

impl ProfilesView {
    pub fn new() -> Self {
        ProfilesView {
            state: State {
                kind: ProfileKind::Sync,
                only_selection: false,
                search: String::new(),
                zoom_path: Vec::new(),
                zoom: None,
                found: None,
                export: Export::default(),
                find: None,
                scope: None,
                next_scope: 1,
            },
            cache: Vec::new(),
            source: None,
        }
    }

    /// Limits the profiles to these goroutines (`label` names them) and shows where they
    /// ran: the CPU profile, with where they waited beside it.
    pub(crate) fn show_goroutines(&mut self, label: String, goroutines: Vec<i64>) {
        let id = self.state.next_scope;
        self.state.next_scope += 1;
        self.state.scope = Some(Scope {
            id,
            label,
            goroutines: Arc::new(goroutines),
        });
        self.state.kind = ProfileKind::Cpu;
    }

    /// The search query (tests).
    #[cfg(test)]
    pub fn search(&self) -> &str {
        &self.state.search
    }

    /// Sets the search query (tests).
    #[cfg(test)]
    pub(crate) fn set_search(&mut self, query: &str) {
        self.state.search = query.to_string();
    }

    /// Shows the view. `selection_ns` is the timeline's selection in absolute trace ns.
    /// A right-click on a frame asks the app to find that function in the timeline.
    pub(crate) fn ui(
        &mut self,
        ui: &mut Ui,
        source: TraceId,
        an: &Arc<Analyses>,
        selection_ns: Option<(i64, i64)>,
    ) -> Action {
        if self.source != Some(source) {
            self.source = Some(source);
            self.cache.clear();
            self.state.zoom = None;
            self.state.found = None;
        }

        // The controls first, so a change applies in this frame.
        controls_ui(ui, &mut self.state, selection_ns.is_some());
        let window = match (self.state.only_selection, selection_ns) {
            (true, Some((a, b))) => Some((a.min(b), a.max(b))),
            _ => None,
        };
        let scope = self.state.scope.clone();
        let key: Key = (self.state.kind, window, scope.as_ref().map(|s| s.id));
        let ctx = ui.ctx().clone();
        self.request(&ctx, an, key, scope.as_ref().map(|s| s.goroutines.clone()));
        let entry = match self.cache.iter_mut().find(|(k, _)| *k == key) {
            Some((_, slot)) => slot.get(),
            None => None,
        };
        match entry {
            None => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label(if window.is_some() || scope.is_some() {
                        "Computing the profile…"
                    } else {
                        "Building the flame graph…"
                    });
                });
            }
            Some(Err(e)) => {
                ui.colored_label(ui.visuals().error_fg_color, e.as_str());
            }
            Some(Ok(entry)) => {
                let (profile, stacks) = match &entry.own {
                    Some((p, s)) => (Some(p), s),
                    None => (an.profile(key.0), &an.stacks),
                };
                match &entry.off_cpu {
                    None => shown_ui(ui, &mut self.state, key, &entry.tree, profile, stacks),
                    Some(off) => {
                        // Where they ran beside where they waited.
                        ui.columns(2, |cols| {
                            cols[0].label(RichText::new("On CPU: where it ran").strong());
                            shown_ui(
                                &mut cols[0],
                                &mut self.state,
                                key,
                                &entry.tree,
                                profile,
                                stacks,
                            );
                            off_cpu_ui(&mut cols[1], off);
                        });
                    }
                }
            }
        }
        match self.state.find.take() {
            Some(func) => Action::Find(func),
            None => Action::None,
        }
    }

    /// Starts computing `key` unless it is cached. At most one range is computed at a
    /// time (a selection being dragged would otherwise start a pass per frame); the
    /// finished one's repaint brings the next request.
    fn request(
        &mut self,
        ctx: &egui::Context,
        an: &Arc<Analyses>,
        key: Key,
        goroutines: Option<Arc<Vec<i64>>>,
    ) {
        for (_, slot) in &mut self.cache {
            slot.get();
        }
        if self.cache.iter().any(|(k, _)| *k == key) {
            return;
        }
        let (kind, window, _) = key;
        let slot = match (window, goroutines) {
            (None, None) => {
                let an = an.clone();
                Slot::spawn("flame", ctx, move || match an.profile(kind) {
                    Some(p) => Ok(Entry {
                        tree: FlameTree::from_profile(p, &an.stacks),
                        own: None,
                        off_cpu: None,
                    }),
                    None => Err(format!("no {} profile was computed", kind.name())),
                })
            }
            (window, goroutines) => {
                let busy = self
                    .cache
                    .iter()
                    .any(|(k, s)| (k.1.is_some() || k.2.is_some()) && !s.is_done());
                if busy {
                    return;
                }
                let data = an.data.clone();
                Slot::spawn("profile-part", ctx, move || {
                    // The CPU profile of some goroutines comes with where they waited.
                    let off = goroutines.is_some() && kind == ProfileKind::Cpu;
                    let kinds: &[ProfileKind] = if off {
                        &[
                            ProfileKind::Cpu,
                            ProfileKind::Net,
                            ProfileKind::Sync,
                            ProfileKind::Syscall,
                        ]
                    } else {
                        &[kind]
                    };
                    let mut b = ProfileBuilder::new(kinds);
                    if let Some((start_ns, end_ns)) = window {
                        b = b.with_window(start_ns, end_ns);
                    }
                    if let Some(ids) = &goroutines {
                        b = b.with_goroutines(ids.iter().copied());
                    }
                    // From the mapped file, its pages given back as read (a plain slice
                    // kept the whole file resident: 1.17 GB for the benchmark trace).
                    goscope_analysis::read_into(&*data, |ev, t| b.event(ev, t))
                        .map_err(|e| format!("cannot read the trace: {e:#}"))?;
                    let (mut profiles, stacks) = b.finish();
                    let blocked: Vec<Profile> = profiles.drain(1..).collect();
                    let profile = profiles.pop().ok_or("no profile was built")?;
                    let off_cpu = off.then(|| {
                        // One tree of the three kinds: a stack's frames merge whatever
                        // the kind.
                        let all = Profile {
                            kind: ProfileKind::Sync,
                            records: blocked
                                .iter()
                                .flat_map(|p| p.records.iter().copied())
                                .collect(),
                        };
                        FlameTree::from_profile(&all, &stacks)
                    });
                    Ok(Entry {
                        tree: FlameTree::from_profile(&profile, &stacks),
                        own: Some((profile, stacks)),
                        off_cpu,
                    })
                })
            }
        };
        if self.cache.len() >= CACHE_LEN {
            // Drop the oldest finished result (never a running one: its thread still ends).
            if let Some(i) = self.cache.iter().position(|(_, s)| s.is_done()) {
                self.cache.remove(i);
            }
        }
        self.cache.push((key, slot));
    }
}

/// Where some goroutines waited off the CPU, as a flame graph (no zoom or search of its
/// own).
fn off_cpu_ui(ui: &mut Ui, tree: &FlameTree) {
    ui.label(RichText::new("Off CPU: where it waited").strong())
        .on_hover_text("Time blocked on the network, on sync primitives and channels, and in syscalls, by the stack where it blocked");
    ui.label(RichText::new(total_text(tree)).strong());
    if tree.is_empty() {
        ui.label(RichText::new("It never blocked.").weak());
    } else {
        ui.push_id("off-cpu", |ui| {
            icicle_ui(ui, tree, FlameTree::ROOT, &[], false)
        });
    }
}

/// Kind selector, range checkbox, search box.
fn controls_ui(ui: &mut Ui, st: &mut State, has_selection: bool) {
    if let Some(scope) = &st.scope {
        let mut clear = false;
        ui.horizontal(|ui| {
            ui.label(RichText::new(format!("Only {}", scope.label)).strong());
            clear = ui.button("Whole trace").clicked();
        });
        if clear {
            st.scope = None;
        }
    }
    ui.horizontal_wrapped(|ui| {
        for kind in ProfileKind::WITH_CPU {
            if ui
                .selectable_label(st.kind == kind, kind_label(kind))
                .clicked()
            {
                st.kind = kind;
            }
        }
        ui.separator();
        ui.add_enabled(
            has_selection,
            egui::Checkbox::new(&mut st.only_selection, "Only the selected time range"),
        )
        .on_disabled_hover_text("Shift-drag on the timeline to select a time range");
        if st.only_selection && !has_selection {
            ui.label(RichText::new("(no selection: the whole trace)").weak());
        }
        ui.separator();
        let label = ui.label("Search");
        ui.add(
            egui::TextEdit::singleline(&mut st.search)
                .hint_text("function name")
                .desired_width(180.0),
        )
        .labelled_by(label.id);
    });
}

/// Everything below the controls, for a computed profile.
fn shown_ui(
    ui: &mut Ui,
    st: &mut State,
    key: Key,
    tree: &FlameTree,
    profile: Option<&Profile>,
    stacks: &StackTable,
) {
    // Resolve the zoom and the search in this tree once, not every frame.
    if st.zoom.as_ref().is_none_or(|(k, _)| *k != key) {
        st.zoom = Some((key, tree.find(&st.zoom_path)));
    }
    let zoom = st.zoom.as_ref().map_or(FlameTree::ROOT, |z| z.1);
    let query = st.search.trim().to_string();
    if st
        .found
        .as_ref()
        .is_none_or(|(k, q, ..)| *k != key || *q != query)
    {
        let (hit, found) = tree.search(&query);
        st.found = Some((key, query.clone(), hit, found));
    }
    let (hit, found) = match &st.found {
        Some((_, _, hit, found)) => (hit.as_slice(), *found),
        None => (&[][..], Match::default()),
    };

    let mut zoom_to: Option<NodeId> = None;
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(total_text(tree)).strong());
        if key.0 == ProfileKind::Cpu {
            ui.label(RichText::new("of CPU time, 10 ms a sample").weak())
                .on_hover_text(
                    "Traces do not record the CPU profiler's rate: each sample is taken to \
                 weigh runtime/pprof's default period, 10 ms (100 Hz).",
                );
        }
        if let Some((a, b)) = key.1 {
            ui.label(
                RichText::new(format!(
                    "in the selected {}",
                    format_duration((b - a) as f64)
                ))
                .weak(),
            );
        }
        if !query.is_empty() {
            ui.separator();
            ui.label(RichText::new(match_text(&query, found, tree.total_ns())).color(MATCH));
        }
        ui.separator();
        export_ui(ui, &mut st.export, key.0, profile, stacks);
    });
    ui.horizontal_wrapped(|ui| {
        if ui
            .add_enabled(zoom != FlameTree::ROOT, egui::Button::new("Reset zoom"))
            .clicked()
        {
            zoom_to = Some(FlameTree::ROOT);
        }
        // Breadcrumb: the last few callers of the zoomed frame.
        let path = tree.path(zoom);
        let skip = path.len().saturating_sub(5);
        if skip > 0 {
            ui.label("…");
        }
        for (i, &id) in path.iter().enumerate().skip(skip) {
            if i > skip || skip > 0 {
                ui.label("›");
            }
            if ui.small_button(tree.func(id)).clicked() {
                zoom_to = Some(id);
            }
        }
    });

    if tree.is_empty() && st.kind == ProfileKind::Cpu && key.1.is_none() {
        ui.label(
            RichText::new(
                "This trace has no CPU samples: they are recorded when the CPU profiler runs \
                 while tracing (go test -cpuprofile=cpu.out -trace=trace.out, or \
                 pprof.StartCPUProfile beside trace.Start).",
            )
            .weak(),
        );
    } else if tree.is_empty() {
        ui.label(RichText::new("No samples in this profile.").weak());
    } else {
        let (clicked, find) = icicle_ui(ui, tree, zoom, hit, !query.is_empty());
        zoom_to = zoom_to.or(clicked);
        if let Some(id) = find.filter(|&id| id != FlameTree::ROOT) {
            st.find = Some(tree.func(id).to_string());
        }
    }

    if let Some(id) = zoom_to {
        st.zoom_path = tree.path(id).iter().skip(1).map(|&n| tree.key(n)).collect();
        st.zoom = Some((key, id));
    }
}

/// The export button, the path field when no dialog can be shown, and the outcome.
fn export_ui(
    ui: &mut Ui,
    ex: &mut Export,
    kind: ProfileKind,
    profile: Option<&Profile>,
    stacks: &StackTable,
) {
    let Some(profile) = profile else {
        return;
    };
    let file_name = format!("{}.pprof", kind.name());
    if ui
        .button("Export pprof…")
        .on_hover_text("Write this profile as a gzipped pprof file (as `goscope pprof` does)")
        .clicked()
    {
        if !super::dialog::available() {
            ex.note = Some(
                "No file dialog is available here (no desktop portal on a D-Bus session). Type the path to write below.".into(),
            );
            ex.path.get_or_insert(file_name.clone());
        } else {
            let t0 = Instant::now();
            let picked = rfd::FileDialog::new()
                .set_title("Export the profile as pprof")
                .set_file_name(file_name.as_str())
                .save_file();
            match picked {
                Some(p) => {
                    ex.note = None;
                    ex.path = None;
                    ex.outcome = Some(write_outcome(&p, profile, stacks));
                }
                None if t0.elapsed().as_millis() < 150 => {
                    ex.note = Some(
                        "The file dialog could not be shown (is a desktop portal running?). Type the path to write below.".into(),
                    );
                    ex.path.get_or_insert(file_name.clone());
                }
                None => {}
            }
        }
    }
    if let Some(note) = &ex.note {
        ui.label(RichText::new(note).weak());
    }
    let mut write_to: Option<PathBuf> = None;
    if let Some(path) = &mut ex.path {
        let r = ui.add(egui::TextEdit::singleline(path).desired_width(260.0));
        let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if ui.button("Write").clicked() || enter {
            write_to = Some(PathBuf::from(path.trim()));
        }
        if ui.button("Cancel").clicked() {
            ex.path = None;
            ex.note = None;
        }
    }
    if let Some(p) = write_to {
        ex.outcome = Some(write_outcome(&p, profile, stacks));
        if matches!(ex.outcome, Some(Ok(_))) {
            ex.path = None;
            ex.note = None;
        }
    }
    match &ex.outcome {
        Some(Ok(msg)) => {
            ui.label(msg.as_str());
        }
        Some(Err(e)) => {
            ui.colored_label(ui.visuals().error_fg_color, e.as_str());
        }
        None => {}
    }
}

fn write_outcome(path: &Path, profile: &Profile, stacks: &StackTable) -> Result<String, String> {
    write_pprof(path, profile, stacks).map(|n| format!("Wrote {} ({n} bytes)", path.display()))
}

/// A warm color per function name, stable across frames and profiles.
fn frame_color(name: &str) -> Color32 {
    let mut h: u32 = 2166136261;
    for b in name.bytes() {
        h = (h ^ b as u32).wrapping_mul(16777619);
    }
    let r = 205 + (h % 50) as u8;
    let g = 90 + ((h >> 8) % 110) as u8;
    let b = 40 + ((h >> 16) % 50) as u8;
    Color32::from_rgb(r, g, b)
}

const MATCH: Color32 = Color32::from_rgb(220, 100, 220);

/// Paints the icicle in a vertical scroll area; returns the node clicked (to zoom) and the
/// node right-clicked (to find in the timeline), if any.
fn icicle_ui(
    ui: &mut Ui,
    tree: &FlameTree,
    zoom: NodeId,
    hit: &[bool],
    searching: bool,
) -> (Option<NodeId>, Option<NodeId>) {
    let height = (tree.max_depth() + 1) as f32 * ROW_PX;
    let root_ns = tree.total_ns().max(1) as f64;
    egui::ScrollArea::vertical()
        .id_salt("flame")
        .auto_shrink([false, false])
        .show_viewport(ui, |ui, viewport| {
            let (rect, resp) =
                ui.allocate_exact_size(Vec2::new(ui.available_width(), height), Sense::click());
            let first = (viewport.min.y / ROW_PX).floor().max(0.0) as u32;
            let last = (viewport.max.y / ROW_PX).ceil().max(0.0) as u32 + 1;
            let items = layout(tree, zoom, rect.width() as f64, first..last, MIN_FRAME_PX);
            let painter = ui.painter_at(rect);
            let font = FontId::proportional(12.0);
            let dark = ui.visuals().dark_mode;
            for it in &items {
                let y = rect.top() + it.depth as f32 * ROW_PX;
                let r = Rect::from_min_max(
                    pos2(rect.left() + it.x0_px as f32, y),
                    pos2(rect.left() + it.x1_px as f32, y + ROW_PX - 1.0),
                );
                let name = tree.func(it.node);
                let matched = hit.get(it.node as usize).copied().unwrap_or(false);
                let mut fill = if matched { MATCH } else { frame_color(name) };
                if it.above_zoom || (searching && !matched) {
                    fill = fill.gamma_multiply(if dark { 0.45 } else { 0.6 });
                }
                painter.rect_filled(r, 1.0, fill);
                if r.width() >= 3.0 {
                    painter.rect_stroke(
                        r,
                        1.0,
                        Stroke::new(0.5, Color32::from_black_alpha(60)),
                        StrokeKind::Inside,
                    );
                }
                if r.width() > 24.0 {
                    let text_rect = r.shrink2(Vec2::new(3.0, 0.0));
                    painter.with_clip_rect(text_rect).text(
                        text_rect.left_center(),
                        Align2::LEFT_CENTER,
                        name,
                        font.clone(),
                        Color32::BLACK,
                    );
                }
            }
            let under = |p: egui::Pos2| {
                let depth = ((p.y - rect.top()) / ROW_PX).floor();
                if depth < 0.0 {
                    return None;
                }
                item_at(&items, (p.x - rect.left()) as f64, depth as u32).copied()
            };
            let at_pointer = || {
                resp.interact_pointer_pos()
                    .and_then(under)
                    .map(|it| it.node)
            };
            let clicked = if resp.clicked() { at_pointer() } else { None };
            let find = if resp.secondary_clicked() {
                at_pointer()
            } else {
                None
            };
            if let Some(it) = resp.hover_pos().and_then(under) {
                let y = rect.top() + it.depth as f32 * ROW_PX;
                painter.rect_stroke(
                    Rect::from_min_max(
                        pos2(rect.left() + it.x0_px as f32, y),
                        pos2(rect.left() + it.x1_px as f32, y + ROW_PX - 1.0),
                    ),
                    1.0,
                    Stroke::new(1.5, ui.visuals().strong_text_color()),
                    StrokeKind::Inside,
                );
                if let Some(n) = tree.get(it.node) {
                    resp.on_hover_ui_at_pointer(|ui| {
                        ui.label(RichText::new(tree.func(it.node)).monospace().strong());
                        if it.node != FlameTree::ROOT {
                            ui.label(
                                RichText::new(format!("{}:{}", tree.file(it.node), n.line))
                                    .monospace()
                                    .weak(),
                            );
                        }
                        ui.label(format!(
                            "{} total ({:.1}% of all), {} self",
                            format_duration(n.total_ns as f64),
                            100.0 * n.total_ns as f64 / root_ns,
                            format_duration(n.self_ns as f64),
                        ));
                        ui.label(format!(
                            "{} sample{}",
                            n.samples,
                            if n.samples == 1 { "" } else { "s" }
                        ));
                        ui.label(
                            RichText::new(
                                "click to zoom · right-click to find its spans in the timeline",
                            )
                            .weak()
                            .small(),
                        );
                    });
                }
            }
            (clicked, find)
        })
        .inner
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stall() -> Arc<Analyses> {
        crate::testdata::analyses("stall-go127")
    }

    #[test]
    fn sync_tree_of_the_stall() {
        let an = stall();
        let profile = an.profile(ProfileKind::Sync).expect("sync profile");
        let tree = FlameTree::from_profile(profile, &an.stacks);
        assert!(!tree.is_empty());
        assert_eq!(tree.total_ns(), profile.total_delay_ns());
        assert_eq!(tree.total_samples(), profile.total_count());
        for (id, n) in tree.nodes() {
            let children_ns: i64 = n
                .children
                .iter()
                .map(|&c| tree.nodes[c as usize].total_ns)
                .sum();
            assert!(
                children_ns <= n.total_ns,
                "{} children exceed it",
                tree.func(id)
            );
            assert_eq!(children_ns + n.self_ns, n.total_ns, "{}", tree.func(id));
            for &c in &n.children {
                assert_eq!(tree.nodes[c as usize].parent, id);
                assert_eq!(tree.nodes[c as usize].depth, n.depth + 1);
            }
        }
        // Only stream A stalls: about 1 s in main.wait's select, until its deadline.
        let (hit, found) = tree.search("main.wait");
        assert!(found.frames >= 1);
        assert!(
            (950_000_000..1_100_000_000).contains(&found.total_ns),
            "main.wait holds {} ns",
            found.total_ns
        );
        assert_eq!(
            tree.matches("MAIN.WAIT"),
            found.total_ns,
            "case-insensitive"
        );
        for (id, _) in tree.nodes().filter(|(id, _)| hit[*id as usize]) {
            assert_eq!(tree.func(id), "main.wait");
            // main.wait is called by main.stream, on top of the goroutine.
            let path = tree.path(id);
            assert!(path.iter().any(|&p| tree.func(p) == "main.stream"));
        }
        // A query matching callers and callees alike counts each sample once.
        let (_, main) = tree.search("main.");
        assert!(main.total_ns <= tree.total_ns());
        assert!(main.frames > found.frames);
        // Counted once: the self delay of every frame with a match on its path.
        for q in ["main.", "wait", "chanrecv", "runtime", "sleep"] {
            let (hit, found) = tree.search(q);
            let once_ns: i64 = tree
                .nodes()
                .filter(|(id, _)| tree.path(*id).iter().any(|&p| hit[p as usize]))
                .map(|(_, n)| n.self_ns)
                .sum();
            assert_eq!(found.total_ns, once_ns, "{q}");
            assert_eq!(found.frames, hit.iter().filter(|&&h| h).count(), "{q}");
            assert!(found.frames > 0, "{q}");
        }
        assert_eq!(tree.search("").1, Match::default());
        assert_eq!(tree.search("no-such-function").1, Match::default());
    }

    #[test]
    fn layout_zoom_and_widths() {
        let an = stall();
        let profile = an.profile(ProfileKind::Sync).expect("sync profile");
        let tree = FlameTree::from_profile(profile, &an.stacks);
        let width_px = 1000.0;
        let all = layout(&tree, FlameTree::ROOT, width_px, 0..u32::MAX, 1.0);
        assert_eq!(all[0].node, FlameTree::ROOT);
        assert_eq!((all[0].x0_px, all[0].x1_px), (0.0, width_px));
        for it in &all {
            assert!(it.x1_px - it.x0_px >= 1.0);
            assert!(it.x0_px >= 0.0 && it.x1_px <= width_px + 1e-6);
            // Inside its parent.
            let n = &tree.nodes[it.node as usize];
            if it.node != FlameTree::ROOT {
                let p = all
                    .iter()
                    .find(|p| p.node == n.parent)
                    .expect("parent drawn");
                assert!(p.x0_px <= it.x0_px + 1e-9 && it.x1_px <= p.x1_px + 1e-6);
            }
        }
        // Only the rows asked for.
        let rows = layout(&tree, FlameTree::ROOT, width_px, 2..4, 1.0);
        assert!(!rows.is_empty() && rows.iter().all(|it| (2..4).contains(&it.depth)));
        // A wide minimum leaves only the root.
        assert_eq!(
            layout(&tree, FlameTree::ROOT, width_px, 0..99, 2000.0).len(),
            1
        );

        // Zoomed on main.wait: it and its callers span the width, nothing else at its depth.
        let (hit, _) = tree.search("main.wait");
        let wait = hit.iter().position(|&h| h).expect("main.wait frame") as NodeId;
        let z = layout(&tree, wait, width_px, 0..u32::MAX, 1.0);
        let depth = tree.nodes[wait as usize].depth;
        let at_depth: Vec<_> = z.iter().filter(|it| it.depth == depth).collect();
        assert_eq!(at_depth.len(), 1);
        assert_eq!((at_depth[0].x0_px, at_depth[0].x1_px), (0.0, width_px));
        assert!(
            z.iter()
                .filter(|it| it.depth < depth)
                .all(|it| it.above_zoom)
        );
        assert_eq!(item_at(&z, 500.0, depth).map(|it| it.node), Some(wait));
        // The zoom found again in a tree of another range, by its keys.
        let keys: Vec<FrameKey> = tree
            .path(wait)
            .iter()
            .skip(1)
            .map(|&n| tree.key(n))
            .collect();
        assert_eq!(tree.find(&keys), wait);
        assert_eq!(tree.find(&[]), FlameTree::ROOT);
    }

    #[test]
    fn export_writes_what_the_cli_writes() {
        let an = stall();
        let data = crate::testdata::trace_bytes("stall-go127");
        for kind in ProfileKind::WITH_CPU {
            let (profiles, stacks, _) = pprof::build(&data, &[kind]).expect("profile");
            let mut cli = Vec::new();
            pprof::write_gzipped(&profiles[0], &stacks, &mut cli).expect("encode");
            let path = std::env::temp_dir().join(format!(
                "goscope-flame-{}-{}.pprof",
                std::process::id(),
                kind.name()
            ));
            let profile = an.profile(kind).expect("profile");
            let n = write_pprof(&path, profile, &an.stacks).expect("written");
            let written = std::fs::read(&path).expect("read back");
            let _ = std::fs::remove_file(&path);
            assert_eq!(n as usize, written.len());
            assert_eq!(written, cli, "{kind:?}");
        }
        let bad = Path::new("/nonexistent-dir/x.pprof");
        let p = an.profile(ProfileKind::Sync).expect("profile");
        assert!(write_pprof(bad, p, &an.stacks).is_err());
    }

    #[test]
    fn texts() {
        let f = Match {
            frames: 3,
            total_ns: 2_000_000_000,
        };
        assert_eq!(
            match_text("main.wait ", f, 3_125_000_000),
            "main.wait: 3 frames, 2.000 s (64% of total)"
        );
        assert_eq!(match_text("x", Match::default(), 10), "x: no frames");
    }

    /// The view with the timeline's selection, as the app would hold them.
    struct Dock {
        view: ProfilesView,
        selection_ns: Option<(i64, i64)>,
    }

    fn wait_for(h: &mut egui_kittest::Harness<'_, Dock>, label: &str) -> bool {
        use egui_kittest::kittest::Queryable;
        let t0 = std::time::Instant::now();
        while t0.elapsed() < crate::testdata::BACKGROUND_WAIT {
            h.step();
            if h.query_by_label(label).is_some() {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        false
    }

    #[test]
    fn search_and_range_in_the_view() {
        use egui_kittest::kittest::Queryable;
        let an = stall();
        let profile = an.profile(ProfileKind::Sync).expect("sync profile");
        let tree = FlameTree::from_profile(profile, &an.stacks);
        let an2 = an.clone();
        let id = TraceId::fresh();
        let mut h = egui_kittest::Harness::builder()
            .with_size(Vec2::new(1500.0, 350.0))
            .build_ui_state(
                move |ui, dock: &mut Dock| {
                    dock.view.ui(ui, id, &an2, dock.selection_ns);
                },
                Dock {
                    view: ProfilesView::new(),
                    selection_ns: None,
                },
            );
        assert!(
            wait_for(&mut h, &total_text(&tree)),
            "the total never showed"
        );

        // Type into the search box; the label sums the matching frames once.
        h.get_by_label("Search").focus();
        h.step();
        h.get_by_label("Search").type_text("wait");
        h.step();
        assert_eq!(h.state().view.search(), "wait");
        let (_, found) = tree.search("wait");
        assert!(found.frames >= 2, "main.wait and sync.(*WaitGroup).Wait");
        let expected = match_text("wait", found, tree.total_ns());
        assert!(wait_for(&mut h, &expected), "no label {expected:?}");

        // Limit to the first half of the trace: recomputed in the background.
        let data = crate::testdata::trace_bytes("stall-go127");
        let mut span_ns = (i64::MAX, i64::MIN);
        goscope_trace::read(&data, goscope_trace::ReadOptions::default(), |ev, _| {
            span_ns = (span_ns.0.min(ev.time_ns), span_ns.1.max(ev.time_ns));
        })
        .expect("trace reads");
        let mid_ns = span_ns.0 + (span_ns.1 - span_ns.0) / 2;
        let mut b = ProfileBuilder::new(&[ProfileKind::Sync]).with_window(span_ns.0, mid_ns);
        goscope_trace::read(&data, goscope_trace::ReadOptions::default(), |ev, t| {
            b.event(ev, t)
        })
        .expect("trace reads");
        let (half, half_stacks) = b.finish();
        let half_tree = FlameTree::from_profile(&half[0], &half_stacks);
        assert!(half_tree.total_ns() > 0 && half_tree.total_ns() < tree.total_ns());

        h.state_mut().view.set_search("");
        // Reversed on purpose: a right-to-left drag.
        h.state_mut().selection_ns = Some((mid_ns, span_ns.0));
        h.step();
        h.get_by_label("Only the selected time range").click();
        h.step();
        assert!(
            wait_for(&mut h, &total_text(&half_tree)),
            "the range's total never showed"
        );
        // Without a selection, the whole trace again (from the cache).
        h.state_mut().selection_ns = None;
        assert!(wait_for(&mut h, &total_text(&tree)));
    }
}
