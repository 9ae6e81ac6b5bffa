//! Statistics of user tasks and regions (count, total, mean, percentiles, max and a
//! log-scale duration histogram per type) and the filtering of user log messages.
//!
//! Tasks and regions cut by the trace's edges are clipped to it: a task without a begin
//! event starts at the trace start, one without an end event ends at the trace end. The model
//! gives a region that began before the trace the trace's first time and one still open at
//! the end the trace's last time, so those two times mark a region as cut.

use std::collections::HashMap;

use goscope_model::Model;

/// Where an instance comes from in the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// An index into `Model::tasks`.
    Task(usize),
    /// Indices into `Model::goroutines` and that goroutine's `regions`.
    Region { goroutine: usize, region: usize },
}

/// One task or region, clipped to the trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Instance {
    pub start_ns: i64,
    pub end_ns: i64,
    /// False when it began before the trace (its start is the trace start).
    pub began_in_trace: bool,
    /// False when it had not ended when the trace ended (its end is the trace end).
    pub ended_in_trace: bool,
    pub source: Source,
}

impl Instance {
    pub fn duration_ns(&self) -> i64 {
        self.end_ns.saturating_sub(self.start_ns)
    }

    pub fn is_cut(&self) -> bool {
        !self.began_in_trace || !self.ended_in_trace
    }
}

/// Duration counts in log-spaced buckets whose edges follow 1, 2, 5, 10, 20, 50, … ns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Histogram {
    /// Bucket `i` holds the durations in `[edges_ns[i], edges_ns[i + 1])`; one more edge than
    /// buckets (none when there are no durations).
    pub edges_ns: Vec<i64>,
    pub counts: Vec<usize>,
}

/// The `n`-th value of the series 1, 2, 5, 10, 20, 50, …, saturating at `i64::MAX`.
fn series_ns(n: u32) -> i64 {
    let mantissa = [1i64, 2, 5][(n % 3) as usize];
    10i64
        .checked_pow(n / 3)
        .and_then(|p| p.checked_mul(mantissa))
        .unwrap_or(i64::MAX)
}

impl Histogram {
    pub(crate) const MIN_BUCKETS: u32 = 6;

    /// Buckets from the series value at or below the shortest duration to the first one
    /// above the longest, padded with empty buckets to at least `MIN_BUCKETS` so a narrow
    /// spread still shows where it lies (the first edge is lowered to 0 when a duration is 0).
    pub fn of(durations_ns: &[i64]) -> Histogram {
        let (Some(&min_ns), Some(&max_ns)) = (durations_ns.iter().min(), durations_ns.iter().max())
        else {
            return Histogram::default();
        };
        let mut lo = 0u32;
        while series_ns(lo + 1) <= min_ns.max(1) && series_ns(lo + 1) < i64::MAX {
            lo += 1;
        }
        let mut hi = lo + 1;
        while series_ns(hi) <= max_ns && series_ns(hi) < i64::MAX {
            hi += 1;
        }
        let mut below = true;
        while hi - lo < Self::MIN_BUCKETS {
            if below && lo > 0 {
                lo -= 1;
            } else if series_ns(hi) < i64::MAX {
                hi += 1;
            } else if lo > 0 {
                lo -= 1;
            } else {
                break;
            }
            below = !below;
        }
        let mut edges_ns: Vec<i64> = (lo..=hi).map(series_ns).collect();
        edges_ns[0] = edges_ns[0].min(min_ns);
        let mut h = Histogram {
            counts: vec![0; edges_ns.len() - 1],
            edges_ns,
        };
        for &d in durations_ns {
            if let Some(b) = h.bucket_of(d) {
                h.counts[b] += 1;
            }
        }
        h
    }

    /// The bucket a duration falls in (durations past the last edge go in the last bucket).
    pub fn bucket_of(&self, duration_ns: i64) -> Option<usize> {
        if self.counts.is_empty() {
            return None;
        }
        let above = self.edges_ns.partition_point(|&e| e <= duration_ns);
        Some(above.saturating_sub(1).min(self.counts.len() - 1))
    }

    /// `[lo, hi)` of a bucket.
    pub fn range_ns(&self, bucket: usize) -> Option<(i64, i64)> {
        Some((*self.edges_ns.get(bucket)?, *self.edges_ns.get(bucket + 1)?))
    }
}

/// The statistics of one task or region type (all instances with one name).
#[derive(Clone, Debug)]
pub struct TypeStats {
    pub name: String,
    pub count: usize,
    pub total_ns: i64,
    pub mean_ns: f64,
    pub p50_ns: i64,
    pub p90_ns: i64,
    pub max_ns: i64,
    /// How many instances the trace's start or end cut.
    pub cut: usize,
    /// Longest first (equal durations by start).
    pub instances: Vec<Instance>,
    pub histogram: Histogram,
}

impl TypeStats {
    fn new(name: String, mut instances: Vec<Instance>) -> TypeStats {
        instances.sort_by_key(|i| (std::cmp::Reverse(i.duration_ns()), i.start_ns));
        let ascending_ns: Vec<i64> = instances.iter().rev().map(|i| i.duration_ns()).collect();
        let total_ns = ascending_ns
            .iter()
            .fold(0i64, |sum, &d| sum.saturating_add(d));
        let count = instances.len();
        TypeStats {
            name,
            count,
            total_ns,
            mean_ns: if count == 0 {
                0.0
            } else {
                total_ns as f64 / count as f64
            },
            p50_ns: percentile_ns(&ascending_ns, 0.5),
            p90_ns: percentile_ns(&ascending_ns, 0.9),
            max_ns: ascending_ns.last().copied().unwrap_or(0),
            cut: instances.iter().filter(|i| i.is_cut()).count(),
            histogram: Histogram::of(&ascending_ns),
            instances,
        }
    }

    /// The instances in one histogram bucket, longest first.
    pub fn bucket_instances(&self, bucket: usize) -> &[Instance] {
        let h = &self.histogram;
        let in_or_above = |i: &Instance| h.bucket_of(i.duration_ns()).unwrap_or(0);
        let first = self.instances.partition_point(|i| in_or_above(i) > bucket);
        let end = self.instances.partition_point(|i| in_or_above(i) >= bucket);
        &self.instances[first..end.max(first)]
    }
}

/// The nearest-rank percentile of sorted durations (0 when there are none).
fn percentile_ns(ascending_ns: &[i64], fraction: f64) -> i64 {
    let n = ascending_ns.len();
    if n == 0 {
        return 0;
    }
    let rank = (fraction * n as f64).ceil() as usize;
    ascending_ns[rank.clamp(1, n) - 1]
}

fn display_name(name: &str) -> String {
    if name.is_empty() {
        "(unnamed)".to_owned()
    } else {
        name.to_owned()
    }
}

fn stats_by_name(groups: HashMap<&str, Vec<Instance>>) -> Vec<TypeStats> {
    let mut types: Vec<TypeStats> = groups
        .into_iter()
        .map(|(name, instances)| TypeStats::new(display_name(name), instances))
        .collect();
    types.sort_by(|a, b| a.name.cmp(&b.name));
    types
}

/// Per task name: the tasks' durations, clipped to the trace.
pub fn task_stats(model: &Model) -> Vec<TypeStats> {
    let mut groups: HashMap<&str, Vec<Instance>> = HashMap::new();
    for (index, t) in model.tasks.iter().enumerate() {
        let start_ns = t
            .start_ns
            .map_or(model.start_ns, |s| s.max(model.start_ns).min(model.end_ns));
        let end_ns = t
            .end_ns
            .map_or(model.end_ns, |e| e.min(model.end_ns))
            .max(start_ns);
        groups
            .entry(model.string(t.name))
            .or_default()
            .push(Instance {
                start_ns,
                end_ns,
                began_in_trace: t.start_ns.is_some(),
                ended_in_trace: t.end_ns.is_some(),
                source: Source::Task(index),
            });
    }
    stats_by_name(groups)
}

/// Per region name: the regions' durations over all goroutines.
pub fn region_stats(model: &Model) -> Vec<TypeStats> {
    let mut groups: HashMap<&str, Vec<Instance>> = HashMap::new();
    for (goroutine, g) in model.goroutines.iter().enumerate() {
        for (region, r) in g.regions.iter().enumerate() {
            let start_ns = r.start_ns.max(model.start_ns);
            groups
                .entry(model.string(r.name))
                .or_default()
                .push(Instance {
                    start_ns,
                    end_ns: r.end_ns.min(model.end_ns).max(start_ns),
                    began_in_trace: r.start_ns > model.start_ns,
                    ended_in_trace: r.end_ns < model.end_ns,
                    source: Source::Region { goroutine, region },
                });
        }
    }
    stats_by_name(groups)
}

/// The log categories, sorted, each once ("" for messages without one).
pub fn log_categories(model: &Model) -> Vec<String> {
    let mut categories: Vec<&str> = model
        .logs
        .iter()
        .map(|l| model.string(l.category))
        .collect();
    categories.sort_unstable();
    categories.dedup();
    categories.into_iter().map(str::to_owned).collect()
}

/// The indices of the logs in `category` (all when `None`) whose message or category
/// contains `text`, ignoring case; in time order.
pub fn filter_logs(model: &Model, category: Option<&str>, text: &str) -> Vec<usize> {
    let needle = text.trim().to_lowercase();
    model
        .logs
        .iter()
        .enumerate()
        .filter(|(_, l)| {
            let log_category = model.string(l.category);
            if category.is_some_and(|c| c != log_category) {
                return false;
            }
            needle.is_empty()
                || model.string(l.message).to_lowercase().contains(&needle)
                || log_category.to_lowercase().contains(&needle)
        })
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let ns: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile_ns(&ns, 0.5), 5);
        assert_eq!(percentile_ns(&ns, 0.9), 9);
        assert_eq!(percentile_ns(&[7], 0.9), 7);
        assert_eq!(percentile_ns(&[], 0.5), 0);
    }
}
