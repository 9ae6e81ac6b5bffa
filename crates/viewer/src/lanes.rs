//! Which lanes the timeline shows, in what order: by processor, by goroutine (grouped by
//! start function, collapsible) or by thread; sortable; optionally focused on a few goroutines.

use std::collections::BTreeSet;

use goscope_model::Model;

/// The three lane views.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum LaneMode {
    Procs,
    Goroutines,
    Threads,
}

impl LaneMode {
    pub fn name(self) -> &'static str {
        match self {
            LaneMode::Procs => "By processor",
            LaneMode::Goroutines => "By goroutine",
            LaneMode::Threads => "By thread",
        }
    }
}

/// Lane order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum LaneSort {
    Id,
    Start,
    Busy,
}

impl LaneSort {
    pub fn name(self) -> &'static str {
        match self {
            LaneSort::Id => "by id",
            LaneSort::Start => "by start",
            LaneSort::Busy => "by busy time",
        }
    }
}

/// One row of the lane area.
#[derive(Clone, Debug, PartialEq)]
pub enum Row {
    /// A collapsible group header: its key, label, lane count.
    Group {
        key: String,
        label: String,
        lanes: usize,
        collapsed: bool,
    },
    /// A P lane: index into `model.procs`.
    Proc(usize),
    /// A goroutine lane: index into `model.goroutines`.
    Goroutine(usize),
    /// A thread lane: index into `model.threads`.
    Thread(usize),
    /// One level of the user tasks: tasks that overlap in time go on different levels
    /// (`task_levels`).
    Tasks(usize),
}

/// Packs the tasks into levels so that no two on a level overlap in time: each task, in
/// order of start, goes on the lowest level free by then (a task still open at the
/// trace's end counts to the end). Returns each level's task indices, by start.
pub fn task_levels(model: &Model) -> Vec<Vec<usize>> {
    let span = |i: usize| {
        let t = &model.tasks[i];
        (
            t.start_ns.unwrap_or(model.start_ns),
            t.end_ns.unwrap_or(model.end_ns),
        )
    };
    let mut order: Vec<usize> = (0..model.tasks.len()).collect();
    order.sort_by_key(|&i| (span(i).0, i));
    // Free levels by when they free up: (end of their last task, level).
    let mut busy: std::collections::BinaryHeap<std::cmp::Reverse<(i64, usize)>> =
        Default::default();
    let mut free: std::collections::BinaryHeap<std::cmp::Reverse<usize>> = Default::default();
    let mut levels: Vec<Vec<usize>> = Vec::new();
    for i in order {
        let (start, end) = span(i);
        while let Some(&std::cmp::Reverse((e, l))) = busy.peek() {
            if e > start {
                break;
            }
            busy.pop();
            free.push(std::cmp::Reverse(l));
        }
        let level = match free.pop() {
            Some(std::cmp::Reverse(l)) => l,
            None => {
                levels.push(Vec::new());
                levels.len() - 1
            }
        };
        levels[level].push(i);
        busy.push(std::cmp::Reverse((end.max(start), level)));
    }
    levels
}

/// The key of the group a focused goroutine view shows its goroutines in.
pub(crate) const FOCUS_GROUP: &str = "focus";

/// Height of a row in points.
pub(crate) fn row_height(row: &Row) -> f32 {
    match row {
        Row::Group { .. } => 18.0,
        Row::Proc(_) => 34.0,
        Row::Goroutine(_) | Row::Thread(_) => 20.0,
        Row::Tasks(_) => 14.0,
    }
}

/// Builds the rows for a mode. `focus` limits the goroutine view to those goroutines.
pub(crate) fn rows(
    model: &Model,
    mode: LaneMode,
    sort: LaneSort,
    collapsed: &BTreeSet<String>,
    focus: Option<&[i64]>,
) -> Vec<Row> {
    let mut out = Vec::new();
    match mode {
        LaneMode::Procs => {
            let mut idx: Vec<usize> = (0..model.procs.len())
                .filter(|&i| model.procs[i].id >= 0)
                .collect();
            sort_lanes(&mut idx, sort, |i| {
                let p = &model.procs[i];
                (p.spans.first().map_or(i64::MAX, |s| s.start_ns), p.busy_ns)
            });
            push_group(
                &mut out,
                "procs",
                "Processors",
                idx.into_iter().map(Row::Proc).collect(),
                collapsed,
            );
            if !model.tasks.is_empty() {
                let levels = task_levels(model).len();
                push_group(
                    &mut out,
                    "tasks",
                    "Tasks",
                    (0..levels).map(Row::Tasks).collect(),
                    collapsed,
                );
            }
        }
        LaneMode::Threads => {
            let mut idx: Vec<usize> = (0..model.threads.len()).collect();
            sort_lanes(&mut idx, sort, |i| {
                let t = &model.threads[i];
                (t.spans.first().map_or(i64::MAX, |s| s.start_ns), t.busy_ns)
            });
            push_group(
                &mut out,
                "threads",
                "Threads",
                idx.into_iter().map(Row::Thread).collect(),
                collapsed,
            );
        }
        LaneMode::Goroutines => {
            let mut idx: Vec<usize> = match focus {
                Some(ids) => ids
                    .iter()
                    .filter_map(|&g| model.goroutine_index(g))
                    .collect(),
                None => (0..model.goroutines.len()).collect(),
            };
            let key = |i: usize| -> (i64, i64) {
                let g = &model.goroutines[i];
                match sort {
                    LaneSort::Id => (g.id, 0),
                    LaneSort::Start => (g.first_ns(), g.id),
                    LaneSort::Busy => (-g.running_ns, g.id),
                }
            };
            if focus.is_some() {
                // Focused: the first is the goroutine of interest; keep the rest ordered.
                if idx.len() > 1 {
                    idx[1..].sort_by_key(|&i| key(i));
                }
                push_group(
                    &mut out,
                    FOCUS_GROUP,
                    "Focused goroutines (arrows: wake-ups)",
                    idx.into_iter().map(Row::Goroutine).collect(),
                    collapsed,
                );
            } else {
                // Group by start function; groups ordered by total running time.
                let mut groups: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
                for i in idx {
                    let name = model.string(model.goroutines[i].start_fn);
                    groups
                        .entry(if name.is_empty() {
                            "(unknown start)"
                        } else {
                            name
                        })
                        .or_default()
                        .push(i);
                }
                let mut groups: Vec<(&str, Vec<usize>)> = groups.into_iter().collect();
                groups.sort_by_key(|(n, v)| {
                    (
                        std::cmp::Reverse(
                            v.iter()
                                .map(|&i| model.goroutines[i].running_ns)
                                .sum::<i64>(),
                        ),
                        n.to_string(),
                    )
                });
                for (name, mut v) in groups {
                    v.sort_by_key(|&i| key(i));
                    push_group(
                        &mut out,
                        &format!("fn:{name}"),
                        name,
                        v.into_iter().map(Row::Goroutine).collect(),
                        collapsed,
                    );
                }
            }
        }
    }
    out
}

/// Orders lanes (already by id) by `sort`; `key` gives a lane's (first start, busy time).
fn sort_lanes(idx: &mut [usize], sort: LaneSort, key: impl Fn(usize) -> (i64, i64)) {
    match sort {
        LaneSort::Id => {}
        LaneSort::Start => idx.sort_by_key(|&i| key(i).0),
        LaneSort::Busy => idx.sort_by_key(|&i| std::cmp::Reverse(key(i).1)),
    }
}

fn push_group(
    out: &mut Vec<Row>,
    key: &str,
    label: &str,
    lanes: Vec<Row>,
    collapsed: &BTreeSet<String>,
) {
    let is_collapsed = collapsed.contains(key);
    out.push(Row::Group {
        key: key.to_string(),
        label: label.to_string(),
        lanes: lanes.len(),
        collapsed: is_collapsed,
    });
    if !is_collapsed {
        out.extend(lanes);
    }
}

/// Each goroutine's distinct wakers as its spans say, in one pass over all spans (asking
/// every goroutine "did x wake you?" again for each x took seconds on a long trace).
fn wakers_in_spans(model: &Model) -> Vec<rustc_hash::FxHashSet<i64>> {
    use rayon::prelude::*;
    model
        .goroutines
        .par_iter()
        .map(|gr| {
            gr.spans
                .iter()
                .map(|s| s.waker)
                .filter(|&w| w >= 0)
                .collect()
        })
        .collect()
}

/// Goroutines related to `g` through wake-ups, up to two levels either way: who woke it,
/// whom it woke, and theirs. `g` first. An overview, whose thinned lanes keep few of the
/// spans that say who woke them, lists every pair (`Model::wakes`).
pub(crate) fn related_goroutines(model: &Model, g: i64) -> Vec<i64> {
    let wakers: Vec<rustc_hash::FxHashSet<i64>> = if model.overview_bucket_ns > 0 {
        let mut wakers = vec![rustc_hash::FxHashSet::default(); model.goroutines.len()];
        for &(woken, waker) in &model.wakes {
            if let Some(i) = model.goroutine_index(woken) {
                wakers[i].insert(waker);
            }
        }
        wakers
    } else {
        wakers_in_spans(model)
    };
    let mut set = BTreeSet::new();
    let mut frontier = vec![g];
    set.insert(g);
    for _ in 0..2 {
        let mut next = Vec::new();
        for &x in &frontier {
            // Who woke x.
            if let Some(i) = model.goroutine_index(x) {
                for &w in &wakers[i] {
                    if set.insert(w) {
                        next.push(w);
                    }
                }
            }
            // Whom x woke.
            for (other, woken_by) in model.goroutines.iter().zip(&wakers) {
                if woken_by.contains(&x) && set.insert(other.id) {
                    next.push(other.id);
                }
            }
        }
        frontier = next;
    }
    let mut out = vec![g];
    out.extend(set.into_iter().filter(|&x| x != g));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A goroutine focused in an overview has the goroutines it has in the whole model,
    /// though the overview's lanes keep few of the spans that say who woke whom; on every
    /// committed trace and its cuts, for up to 40 goroutines of each.
    #[test]
    fn an_overview_relates_the_goroutines_the_whole_model_does() {
        use std::sync::atomic::AtomicBool;
        let (mut compared, mut thinned_lost) = (0, 0);
        for (name, data) in goscope_testdata::all_traces_and_cuts() {
            let Ok(whole) = goscope_model::build(&data[..]) else {
                continue;
            };
            let Ok((overview, _)) = goscope_model::build_overview(
                &data[..],
                &AtomicBool::new(false),
                &mut |_| {},
                0,
                None,
            ) else {
                continue;
            };
            if overview.overview_bucket_ns == 0 {
                continue;
            }
            // What the overview's own spans say (before `Model::wakes`).
            let in_spans: usize = wakers_in_spans(&overview).iter().map(|w| w.len()).sum();
            if in_spans < overview.wakes.len() {
                thinned_lost += 1;
            }
            let step = (whole.goroutines.len() / 40).max(1);
            for g in whole.goroutines.iter().step_by(step) {
                assert_eq!(
                    related_goroutines(&overview, g.id),
                    related_goroutines(&whole, g.id),
                    "{name}: G{}",
                    g.id
                );
                compared += 1;
            }
        }
        assert!(compared > 500, "only {compared} goroutines compared");
        assert!(
            thinned_lost >= 5,
            "the overviews' own spans lost who woke whom on only {thinned_lost} traces"
        );
    }

    #[test]
    fn overlapping_tasks_go_on_levels_of_their_own() {
        let m = crate::testdata::model("annotations-go127");
        let levels = task_levels(&m);
        let span = |i: usize| {
            let t = &m.tasks[i];
            (
                t.start_ns.unwrap_or(m.start_ns),
                t.end_ns.unwrap_or(m.end_ns),
            )
        };
        // Every task once; none overlaps another on its level.
        let mut all: Vec<usize> = levels.iter().flatten().copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..m.tasks.len()).collect::<Vec<_>>());
        for l in &levels {
            for w in l.windows(2) {
                assert!(
                    span(w[0]).1 <= span(w[1]).0,
                    "{:?} {:?}",
                    span(w[0]),
                    span(w[1])
                );
            }
        }
        // As many levels as tasks are open at once at most (request ⊃ 3 fetches).
        let most_open = (0..m.tasks.len())
            .map(|i| {
                let t = span(i).0;
                (0..m.tasks.len())
                    .filter(|&j| span(j).0 <= t && t < span(j).1)
                    .count()
            })
            .max()
            .unwrap();
        assert_eq!(levels.len(), most_open);
        assert!(levels.len() >= 4, "request and its three fetches overlap");
    }
}
