//! Level of detail: which spans and counter values to draw for a visible time range and a
//! width in pixels. Pure functions; cost grows with pixels, not with events.
//!
//! Spans narrower than `min_px` are folded with their neighbours into one item with a count
//! until a gap of at least `min_px` (Tracy's rule); a fold jumps ahead by binary search, so a
//! lane of a million tiny spans costs O(pixels × log n).

/// Something with a start and end time.
pub trait Timed {
    fn start_ns(&self) -> i64;
    fn end_ns(&self) -> i64;
}

/// A lane's span times read by index (a slice of `Timed` spans, or packed `Spans`).
pub(crate) trait SpanTimes {
    fn span_count(&self) -> usize;
    fn start_at(&self, i: usize) -> i64;
    fn end_at(&self, i: usize) -> i64;
    /// Start and end together (cheaper than apart for packed spans).
    fn times_at(&self, i: usize) -> (i64, i64) {
        (self.start_at(i), self.end_at(i))
    }
}

impl<S: Timed> SpanTimes for [S] {
    fn span_count(&self) -> usize {
        self.len()
    }
    #[inline]
    fn start_at(&self, i: usize) -> i64 {
        self[i].start_ns()
    }
    #[inline]
    fn end_at(&self, i: usize) -> i64 {
        self[i].end_ns()
    }
}

/// The mapping between time and x for one frame. f64 throughout: f32 can't hold ns over
/// seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TimeView {
    /// Time at the left edge.
    pub start_ns: f64,
    pub ns_per_px: f64,
    pub width_px: f64,
}

impl TimeView {
    pub fn new(start_ns: f64, end_ns: f64, width_px: f64) -> Self {
        let width_px = width_px.max(1.0);
        TimeView {
            start_ns,
            ns_per_px: ((end_ns - start_ns) / width_px).max(1e-6),
            width_px,
        }
    }

    pub fn end_ns(&self) -> f64 {
        self.start_ns + self.ns_per_px * self.width_px
    }

    #[inline]
    pub fn x_from_ns(&self, t_ns: f64) -> f64 {
        (t_ns - self.start_ns) / self.ns_per_px
    }

    #[inline]
    pub fn ns_from_x(&self, x: f64) -> f64 {
        self.start_ns + x * self.ns_per_px
    }
}

/// One thing to draw in a lane, in pixels from the lane's left edge.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Item {
    pub x0: f64,
    pub x1: f64,
    /// Index of the first span it stands for.
    pub first: usize,
    /// How many consecutive spans it stands for (1 = a single span drawn as itself).
    pub count: usize,
}

impl Item {
    pub fn is_folded(&self) -> bool {
        self.count > 1
    }
}

/// Lays out a lane of time-sorted, non-overlapping spans.
pub fn layout<S: Timed>(spans: &[S], view: &TimeView, min_px: f64) -> Vec<Item> {
    layout_indexed(spans, &[], view, min_px)
}

/// `layout`, with an index of the start of every `BLOCK`-th span of the lane (an empty
/// index works, more slowly).
pub(crate) fn layout_indexed<L: SpanTimes + ?Sized>(
    spans: &L,
    starts: &[i64],
    view: &TimeView,
    min_px: f64,
) -> Vec<Item> {
    let mut out = Vec::new();
    let t0 = view.start_ns;
    let t1 = view.end_ns();
    let n = spans.span_count();
    // First span that ends after the left edge.
    let mut i = partition_indices(0, n, |k| (spans.end_at(k) as f64) <= t0);
    while i < n {
        let (start_ns, end_ns) = spans.times_at(i);
        if start_ns as f64 >= t1 {
            break;
        }
        let x0 = view.x_from_ns(start_ns as f64);
        let x1 = view.x_from_ns(end_ns as f64);
        if x1 - x0 >= min_px {
            out.push(Item {
                x0: x0.max(-1.0),
                x1: x1.min(view.width_px + 1.0),
                first: i,
                count: 1,
            });
            i += 1;
            continue;
        }
        // Fold: absorb the narrow spans that start before the run's end + min_px. Of the
        // spans starting in that window only the last can be wide (the others end before it
        // starts); a wide one ends the fold and is drawn on its own.
        let first = i;
        let mut run_x1 = x1;
        let mut j = i + 1;
        loop {
            let limit_ns = view.ns_from_x(run_x1 + min_px);
            let before = |t: i64| (t as f64) < limit_ns;
            let k = first_time_not(n, starts, j, before, |i| spans.start_at(i));
            if k == j {
                break;
            }
            let (last_start, last_end) = spans.times_at(k - 1);
            let last_x0 = view.x_from_ns(last_start as f64);
            let last_x1 = view.x_from_ns(last_end as f64);
            if last_x1 - last_x0 >= min_px {
                if k - 1 > j {
                    run_x1 = run_x1.max(view.x_from_ns(spans.end_at(k - 2) as f64));
                }
                j = k - 1;
                break;
            }
            j = k;
            if last_x1 <= run_x1 {
                break;
            }
            run_x1 = last_x1;
            if run_x1 >= view.width_px {
                break;
            }
        }
        let x1 = run_x1.max(x0 + 1.0);
        out.push(Item {
            x0: x0.max(-1.0),
            x1: x1.min(view.width_px + 1.0),
            first,
            count: j - first,
        });
        i = j;
    }
    out
}

/// The share (0 to 1) of each of `n` equal buckets of `[start_ns, end_ns)` that
/// time-sorted, non-overlapping spans cover: exact, in one walk over the spans in range.
pub(crate) fn covered_per_bucket<L: SpanTimes + ?Sized>(
    spans: &L,
    start_ns: i64,
    end_ns: i64,
    n: usize,
) -> Vec<f32> {
    let mut covered_ns = vec![0f64; n];
    if n == 0 || end_ns <= start_ns {
        return vec![0.0; n];
    }
    let width_ns = (end_ns - start_ns) as f64 / n as f64;
    let edge = |k: usize| start_ns as f64 + k as f64 * width_ns;
    let count = spans.span_count();
    let mut i = partition_indices(0, count, |k| spans.end_at(k) <= start_ns);
    while i < count {
        let (s, e) = spans.times_at(i);
        if s >= end_ns {
            break;
        }
        let (s, e) = (s.max(start_ns) as f64, e.min(end_ns) as f64);
        let mut k = (((s - start_ns as f64) / width_ns) as usize).min(n - 1);
        while k < n && edge(k) < e {
            let overlap = e.min(edge(k + 1)) - s.max(edge(k));
            if overlap > 0.0 {
                covered_ns[k] += overlap;
            }
            k += 1;
        }
        i += 1;
    }
    covered_ns
        .into_iter()
        .map(|c| (c / width_ns).clamp(0.0, 1.0) as f32)
        .collect()
}

/// At most this many categories a lane's time is divided into for an overview (a
/// goroutine's four states).
pub const MAX_SHARES: usize = 4;

/// One pixel column under a fold: the share of the column's time (0 to 1) that the fold's
/// spans spend in each category. What is left is time outside the fold's spans (a gap, or a
/// neighbouring item's time).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ShareColumn {
    /// The column's left edge, in pixels from the view's left edge (a whole number).
    pub x: f64,
    pub shares: [f32; MAX_SHARES],
}

impl ShareColumn {
    /// The share of the column covered by the fold's spans at all.
    pub fn covered(&self) -> f32 {
        self.shares.iter().sum()
    }
}

/// Folds of at most this many spans per bucket edge are summed span by span (reading a span
/// costs about a tenth of finding an edge); longer ones through the lane's running totals.
pub(crate) const WALK_SPANS_PER_EDGE: usize = 8;

/// Whether a fold of `count` spans over `n_cols` columns, in buckets of `bucket_px`, is
/// summed through running totals rather than span by span.
pub(crate) fn uses_totals(count: usize, n_cols: usize, bucket_px: usize) -> bool {
    let edges = n_cols.div_ceil(bucket_px.max(1)) + 1;
    count > WALK_SPANS_PER_EDGE * edges
}

/// The per-column shares of a folded item of a plain slice of spans, `category` giving
/// each span's category (below `MAX_SHARES`). Costs O(spans folded).
pub fn fold_shares<S: Timed>(
    spans: &[S],
    item: &Item,
    view: &TimeView,
    category: impl Fn(&S) -> usize,
) -> Vec<ShareColumn> {
    fold_shares_with(
        spans.len(),
        |i| (spans[i].start_ns(), spans[i].end_ns()),
        |i| category(&spans[i]).min(MAX_SHARES - 1),
        None::<fn(f64) -> [f64; MAX_SHARES]>,
        item,
        view,
        1,
    )
}

/// The running total of a slice's span durations: element `i` is the time of spans `0..i`
/// (so it has one more element than the slice). With it, `fold_shares_totaled` sums a fold
/// of a single-category slice in a search per column edge.
pub fn running_totals<S: Timed>(spans: &[S]) -> Vec<i64> {
    let mut out = Vec::with_capacity(spans.len() + 1);
    let mut total = 0i64;
    out.push(0);
    for s in spans {
        total = total.saturating_add(s.end_ns().saturating_sub(s.start_ns()).max(0));
        out.push(total);
    }
    out
}

/// `fold_shares` of a slice whose spans are all of category 0, through its
/// `running_totals` (a search per bucket edge however many spans a column holds).
pub fn fold_shares_totaled<S: Timed>(
    spans: &[S],
    totals: &[i64],
    item: &Item,
    view: &TimeView,
    bucket_px: usize,
) -> Vec<ShareColumn> {
    let n = spans.len();
    let mut from = item.first;
    let before = (totals.len() == n + 1).then_some(|t: f64| {
        let k = gallop(spans, from, |s| (s.start_ns() as f64) < t);
        let mut acc = [0f64; MAX_SHARES];
        if let Some(last) = k.checked_sub(1) {
            from = last;
            let past = (spans[last].end_ns() as f64 - t).max(0.0);
            acc[0] = totals[k] as f64 - past;
        }
        acc
    });
    fold_shares_with(
        n,
        |i| (spans[i].start_ns(), spans[i].end_ns()),
        |_| 0,
        before,
        item,
        view,
        bucket_px,
    )
}

/// The per-column shares of the folded `item` of a lane of `n` time-sorted, non-overlapping
/// spans, `times` and `category` reading span `i`. A fold of a few spans a column is summed
/// span by span. A lane that keeps running totals passes `before(t)`, the time per category
/// of all its spans before `t` (called with `t` non-decreasing): then a column costs two
/// such calls however many spans it covers, and `bucket_px` columns share one sum (their
/// mean), to halve that where a column holds many spans anyway.
pub(crate) fn fold_shares_with(
    n: usize,
    times: impl Fn(usize) -> (i64, i64),
    category: impl Fn(usize) -> usize,
    before: Option<impl FnMut(f64) -> [f64; MAX_SHARES]>,
    item: &Item,
    view: &TimeView,
    bucket_px: usize,
) -> Vec<ShareColumn> {
    let end = (item.first + item.count).min(n);
    if item.first >= end {
        return Vec::new();
    }
    let first_col = item.x0.max(0.0).floor();
    let last_col = item.x1.min(view.width_px).ceil();
    if last_col <= first_col {
        return Vec::new();
    }
    let n_cols = (last_col - first_col) as usize;
    let mut ns = vec![[0f64; MAX_SHARES]; n_cols];
    let col_ns = view.ns_per_px;
    match before {
        Some(mut before) if uses_totals(item.count, n_cols, bucket_px) => {
            // The time before each bucket's edges, per category: a bucket is the
            // difference. Edges are clamped to the fold, so no other span counts.
            let fold_t0 = times(item.first).0 as f64;
            let fold_t1 = times(end - 1).1 as f64;
            let mut cum = |t: f64| before(t.clamp(fold_t0, fold_t1));
            let bucket_px = bucket_px.max(1);
            let mut left = cum(view.ns_from_x(first_col));
            for (b, cols) in ns.chunks_mut(bucket_px).enumerate() {
                let edge = first_col + (b * bucket_px + cols.len()) as f64;
                let right = cum(view.ns_from_x(edge));
                let n = cols.len() as f64;
                for col in cols {
                    for k in 0..MAX_SHARES {
                        col[k] = (right[k] - left[k]) / n;
                    }
                }
                left = right;
            }
        }
        _ => {
            for i in item.first..end {
                let (s, e) = times(i);
                let (s, e) = (s as f64, e as f64);
                let cat = category(i);
                let (xs, xe) = (view.x_from_ns(s), view.x_from_ns(e));
                let c0 = (xs.floor() - first_col).max(0.0) as usize;
                let c1 = ((xe.ceil() - first_col).max(0.0) as usize).min(n_cols);
                for (c, col) in ns.iter_mut().enumerate().take(c1).skip(c0) {
                    let t0 = view.ns_from_x(first_col + c as f64);
                    let overlap = e.min(t0 + col_ns) - s.max(t0);
                    if overlap > 0.0 {
                        col[cat] += overlap;
                    }
                }
            }
        }
    }
    ns.iter()
        .enumerate()
        .map(|(c, col)| ShareColumn {
            x: first_col + c as f64,
            shares: col.map(|v| (v / col_ns).clamp(0.0, 1.0) as f32),
        })
        .collect()
}

/// Min and max of a step counter over one pixel column.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Column {
    pub x: f64,
    pub min: f64,
    pub max: f64,
}

/// Points per block in a series' min/max summary.
pub(crate) const BLOCK: usize = 64;

/// A step series read by index: (time, value) points, times non-decreasing. Plain vectors of
/// points and the packed `Series` both are one.
pub trait Points {
    fn point_count(&self) -> usize;
    fn time_at(&self, i: usize) -> i64;
    fn value_at(&self, i: usize) -> f64;
    /// Min and max of the values of points `a..b` (infinities when empty).
    fn min_max_values(&self, a: usize, b: usize) -> (f64, f64) {
        fold_min_max((a..b).map(|i| {
            let v = self.value_at(i);
            (v, v)
        }))
    }
}

impl Points for [(i64, f64)] {
    fn point_count(&self) -> usize {
        self.len()
    }
    #[inline]
    fn time_at(&self, i: usize) -> i64 {
        self[i].0
    }
    #[inline]
    fn value_at(&self, i: usize) -> f64 {
        self[i].1
    }
}

fn fold_min_max(it: impl Iterator<Item = (f64, f64)>) -> (f64, f64) {
    it.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (a, b)| {
        (lo.min(a), hi.max(b))
    })
}

/// Min and max of each run of `BLOCK` points, followed by the min and max of each run of
/// `BLOCK` blocks (`BLOCK * BLOCK` points), so a column over many points reads a few summary entries
/// instead of the points.
pub fn block_summary<P: Points + ?Sized>(points: &P) -> Vec<(f64, f64)> {
    let n = points.point_count();
    let level1: Vec<(f64, f64)> = (0..n)
        .step_by(BLOCK)
        .map(|a| points.min_max_values(a, (a + BLOCK).min(n)))
        .collect();
    add_second_level(level1)
}

/// A block summary from its first level (min and max per block of points): the first level
/// followed by the min and max of each run of `BLOCK` blocks.
pub(crate) fn add_second_level(mut level1: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    let level2: Vec<(f64, f64)> = level1
        .chunks(BLOCK)
        .map(|c| fold_min_max(c.iter().copied()))
        .collect();
    level1.extend(level2);
    level1
}

/// The time of the first point of each block of `BLOCK` points.
pub fn block_times<P: Points + ?Sized>(points: &P) -> Vec<i64> {
    (0..points.point_count())
        .step_by(BLOCK)
        .map(|i| points.time_at(i))
        .collect()
}

/// The first index at or after `from` whose time (`time`, non-decreasing) fails `before`
/// (which holds for a prefix of the times). With an `index` of every `BLOCK`-th item's time
/// (1/64 of the items, so it stays in cache) the search runs over the index and then inside
/// one block, instead of jumping around the whole array and missing the cache at each step.
pub(crate) fn first_time_not(
    len: usize,
    index: &[i64],
    from: usize,
    before: impl Fn(i64) -> bool,
    time: impl Fn(usize) -> i64,
) -> usize {
    let item_before = |i: usize| before(time(i));
    if index.len() != len.div_ceil(BLOCK) {
        return gallop_indices(len, from, item_before);
    }
    // The first block whose first time fails; the answer is in the block before it (or is
    // that block's first item).
    let kb = gallop(index, from / BLOCK, |&t| before(t));
    let lo = (kb.saturating_sub(1) * BLOCK).max(from);
    let hi = (kb * BLOCK).min(len).max(lo);
    lo + partition_indices(lo, hi, item_before)
}

/// How many indices of `lo..hi`, from `lo` on, satisfy `pred` (true for a prefix, then
/// false), found by binary search.
pub(crate) fn partition_indices(lo: usize, hi: usize, pred: impl Fn(usize) -> bool) -> usize {
    let (mut a, mut b) = (lo, hi);
    while a < b {
        let mid = a + (b - a) / 2;
        if pred(mid) {
            a = mid + 1;
        } else {
            b = mid;
        }
    }
    a - lo
}

fn end_of_bucket<P: Points + ?Sized>(
    points: &P,
    block_times: &[i64],
    from: usize,
    limit_ns: f64,
) -> usize {
    let before = |t: i64| (t as f64) < limit_ns;
    first_time_not(points.point_count(), block_times, from, before, |i| {
        points.time_at(i)
    })
}

/// Exact min and max of `points[i..end]`, using `blocks` (from `block_summary`) for the
/// whole blocks in between.
fn min_max<P: Points + ?Sized>(
    points: &P,
    blocks: &[(f64, f64)],
    i: usize,
    end: usize,
) -> (f64, f64) {
    let n1 = points.point_count().div_ceil(BLOCK);
    if blocks.len() != n1 + n1.div_ceil(BLOCK) || end - i <= 2 * BLOCK {
        return points.min_max_values(i, end);
    }
    let (level1, level2) = blocks.split_at(n1);
    // Points up to the first whole block, whole blocks (of the second level where they
    // fit), then the points after the last whole block.
    let (b0, b1) = (i.div_ceil(BLOCK), end / BLOCK);
    let mut acc = points.min_max_values(i, b0 * BLOCK);
    let merge = |acc: (f64, f64), m: (f64, f64)| (acc.0.min(m.0), acc.1.max(m.1));
    let (s0, s1) = (b0.div_ceil(BLOCK), b1 / BLOCK);
    if s1 > s0 {
        acc = merge(acc, fold_min_max(level1[b0..s0 * BLOCK].iter().copied()));
        acc = merge(acc, fold_min_max(level2[s0..s1].iter().copied()));
        acc = merge(acc, fold_min_max(level1[s1 * BLOCK..b1].iter().copied()));
    } else {
        acc = merge(acc, fold_min_max(level1[b0..b1].iter().copied()));
    }
    merge(acc, points.min_max_values(b1 * BLOCK, end))
}

/// The first index at or after `from` where `before` turns false (`before` must be true for
/// a prefix and false after it). Gallops from `from`, so walking buckets left to right costs
/// O(log points-per-bucket) each and touches memory near the previous bucket, instead of a
/// binary search over the whole rest of the series.
pub(crate) fn gallop<T>(items: &[T], from: usize, before: impl Fn(&T) -> bool) -> usize {
    gallop_indices(items.len(), from, |i| before(&items[i]))
}

/// `gallop` over the indices `0..n`.
fn gallop_indices(n: usize, from: usize, before: impl Fn(usize) -> bool) -> usize {
    let mut lo = from;
    let mut step = 1;
    while lo + step <= n && before(lo + step - 1) {
        lo += step;
        step *= 2;
    }
    let hi = (lo + step).min(n);
    lo + partition_indices(lo, hi, before)
}

/// Reduces a step series (time, value) to at most one column per `bucket_px` pixels.
pub fn columns(points: &[(i64, f64)], view: &TimeView, bucket_px: f64) -> Vec<Column> {
    columns_with(points, &[], &[], view, bucket_px)
}

/// `columns`, with the series' block summary: O(buckets × (log n + points per bucket / 64)).
pub fn columns_with<P: Points + ?Sized>(
    points: &P,
    blocks: &[(f64, f64)],
    block_times: &[i64],
    view: &TimeView,
    bucket_px: f64,
) -> Vec<Column> {
    let mut out = Vec::new();
    let len = points.point_count();
    if len == 0 {
        return out;
    }
    let bucket_px = bucket_px.max(1.0);
    let n = (view.width_px / bucket_px).ceil() as usize;
    let before_edge = |t: i64| (t as f64) < view.start_ns;
    let mut i = first_time_not(len, block_times, 0, before_edge, |k| points.time_at(k));
    // Points at the left edge itself are before it (the value entering the first bucket).
    while i < len && (points.time_at(i) as f64) <= view.start_ns {
        i += 1;
    }
    for c in 0..n {
        let x = c as f64 * bucket_px;
        let b1 = view.ns_from_x(x + bucket_px);
        // The value entering the bucket, then the points inside it.
        let entering = if i == 0 {
            None
        } else {
            Some(points.value_at(i - 1))
        };
        let end = end_of_bucket(points, block_times, i, b1);
        let (mut lo, mut hi) = min_max(points, blocks, i, end);
        if let Some(v) = entering {
            lo = lo.min(v);
            hi = hi.max(v);
        }
        i = end;
        if lo.is_finite() && hi.is_finite() {
            out.push(Column {
                x,
                min: lo,
                max: hi,
            });
        }
    }
    out
}

/// Instants (sorted times) reduced to counts per bucket, for density strips.
pub fn density(times: &[i64], view: &TimeView, bucket_px: f64) -> Vec<(f64, usize)> {
    density_counted(times, &[], view, bucket_px)
}

/// `density` of instants thinned with running counts (`totals[i]`: instants through
/// `times[i]`; empty when each time is one instant, see `Model::stimulus_totals`).
pub fn density_counted(
    times: &[i64],
    totals: &[u64],
    view: &TimeView,
    bucket_px: f64,
) -> Vec<(f64, usize)> {
    let through = |k: usize| -> usize {
        if totals.is_empty() {
            k
        } else {
            k.checked_sub(1).map_or(0, |k| totals[k] as usize)
        }
    };
    let mut out = Vec::new();
    let bucket_px = bucket_px.max(1.0);
    let n = (view.width_px / bucket_px).ceil() as usize;
    let mut i = times.partition_point(|&t| (t as f64) < view.start_ns);
    for c in 0..n {
        let x = c as f64 * bucket_px;
        let b1 = view.ns_from_x(x + bucket_px);
        let end = gallop(times, i, |&t| (t as f64) < b1);
        if end > i {
            out.push((x, through(end) - through(i)));
        }
        i = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A span of a test lane: start, end, category.
    #[derive(Clone, Copy, Debug)]
    struct C(i64, i64, usize);

    impl Timed for C {
        fn start_ns(&self) -> i64 {
            self.0
        }
        fn end_ns(&self) -> i64 {
            self.1
        }
    }

    #[test]
    fn buckets_hold_the_share_their_spans_cover() {
        // Buckets of 10 ns over [0, 40): [0,10) holds 5 ns, [10,20) 10 (a span across two
        // buckets), [20,30) 2, [30,40) 3 (a span sticking out of the range).
        let spans = [
            C(-5, 5, 0),
            C(15, 22, 0),
            C(25, 25, 0),
            C(28, 29, 0),
            C(37, 50, 0),
        ];
        let got = covered_per_bucket(&spans[..], 0, 40, 4);
        assert_eq!(got, vec![0.5, 0.5, 0.3, 0.3]);
        // A span over everything; none; a bad range.
        assert_eq!(
            covered_per_bucket(&[C(-1, 100, 0)][..], 0, 40, 2),
            vec![1.0, 1.0]
        );
        assert_eq!(covered_per_bucket(&[] as &[C], 0, 40, 2), vec![0.0, 0.0]);
        assert_eq!(covered_per_bucket(&spans[..], 40, 0, 3), vec![0.0; 3]);
        // Buckets that do not divide the range evenly: 3 of 10/3 ns.
        let thirds = covered_per_bucket(&[C(0, 5, 0)][..], 0, 10, 3);
        assert!((thirds[0] - 1.0).abs() < 1e-6 && (thirds[1] - 0.5).abs() < 1e-6);
        assert_eq!(thirds[2], 0.0);
    }

    #[test]
    fn a_fold_of_known_spans_gives_known_shares() {
        // 20 ns a pixel: [0, 20) holds 10 ns of 0 and 10 of 1; [20, 40) 10 of 1 and 10
        // of 0; [40, 60) a 10 ns gap and 10 ns of 2.
        let spans = [C(0, 10, 0), C(10, 30, 1), C(30, 40, 0), C(50, 60, 2)];
        let view = TimeView::new(0.0, 60.0, 3.0);
        let item = Item {
            x0: 0.0,
            x1: 3.0,
            first: 0,
            count: 4,
        };
        let cols = fold_shares(&spans, &item, &view, |c| c.2);
        assert_eq!(
            cols,
            vec![
                ShareColumn {
                    x: 0.0,
                    shares: [0.5, 0.5, 0.0, 0.0]
                },
                ShareColumn {
                    x: 1.0,
                    shares: [0.5, 0.5, 0.0, 0.0]
                },
                ShareColumn {
                    x: 2.0,
                    shares: [0.0, 0.0, 0.5, 0.0]
                },
            ]
        );
        assert_eq!(cols[2].covered(), 0.5, "the gap is not covered");
    }

    #[test]
    fn gappy_lanes_through_running_totals_equal_the_walk() {
        // A processor's spans: busy stretches with idle gaps, so its blocks are not
        // chained and the totals path reads starts and durations apart.
        use crate::data::PSpan;
        use crate::spans::Spans;
        let mut plain = Vec::new();
        let mut t = 0i64;
        for i in 0..20_000i64 {
            let d = 1 + (i * 7919) % 3000;
            plain.push(PSpan {
                start_ns: t,
                end_ns: t + d,
                g: i % 7,
            });
            t += d + (i * 104_729) % 2000;
        }
        let packed: Spans<PSpan> = plain.iter().copied().collect();
        for width in [1_000.0, 137.0] {
            let view = TimeView::new(0.0, t as f64, width);
            let items = packed.layout(&view, 3.0);
            let mut checked = 0;
            for item in items.iter().filter(|i| i.is_folded()) {
                let walked = fold_shares(&plain, item, &view, |_| 0);
                let fast = packed.fold_shares(item, &view, 1);
                assert_eq!(fast.len(), walked.len());
                for (a, b) in fast.iter().zip(&walked) {
                    assert!((a.shares[0] - b.shares[0]).abs() < 1e-4, "{a:?} vs {b:?}");
                }
                checked += usize::from(uses_totals(item.count, walked.len(), 1));
            }
            assert!(checked > 0, "the totals path ran at {width} px");
        }
    }

    #[test]
    fn a_slice_summed_through_running_totals_equals_the_walk() {
        // 30,000 spans of 1–20 ns with gaps of 0–20 ns, all one category.
        let mut spans = Vec::new();
        let mut t = 0i64;
        for i in 0..30_000i64 {
            let d = 1 + (i * 7919) % 20;
            spans.push(C(t, t + d, 0));
            t += d + (i * 104_729) % 21;
        }
        let totals = running_totals(&spans);
        assert_eq!(totals.len(), spans.len() + 1);
        for width in [1_000.0, 333.0] {
            let view = TimeView::new(-50.0, t as f64 + 50.0, width);
            let items = layout(&spans, &view, 3.0);
            let fold = items
                .iter()
                .find(|i| i.count > 10_000)
                .expect("one big fold");
            let walked = fold_shares(&spans, fold, &view, |_| 0);
            let fast = fold_shares_totaled(&spans, &totals, fold, &view, 1);
            assert_eq!(fast.len(), walked.len());
            for (a, b) in fast.iter().zip(&walked) {
                assert!((a.shares[0] - b.shares[0]).abs() < 1e-4, "{a:?} vs {b:?}");
                assert!(
                    a.shares[0] > 0.2 && a.shares[0] < 0.9,
                    "a busy, gappy column: {a:?}"
                );
            }
        }
    }

    #[test]
    fn running_totals_give_the_shares_a_walk_gives() {
        use crate::data::{GSpan, GState};
        use crate::spans::Spans;
        // A goroutine's chained spans of pseudo-random lengths and states.
        let mut seed = 7u64;
        let mut rnd = |m: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % m
        };
        let mut plain = Vec::new();
        let mut t = 1_000;
        for _ in 0..20_000 {
            let d = 1 + rnd(5_000) as i64;
            let state = [
                GState::Running,
                GState::Runnable,
                GState::Waiting,
                GState::Syscall,
            ][rnd(4) as usize];
            plain.push(GSpan {
                start_ns: t,
                end_ns: t + d,
                state,
                reason: 0,
                start_stack: 0,
                end_stack: 0,
                waker: -1,
                p: -1,
            });
            t += d;
        }
        let packed: Spans<GSpan> = plain.iter().copied().collect();
        let end_ns = t as f64;
        for (from, to, width) in [
            (0.0, end_ns, 700.0),
            (0.0, end_ns, 97.0),
            (end_ns * 0.3, end_ns * 0.31, 500.0),
            (12_345.0, end_ns * 0.9, 1_000.0),
        ] {
            let view = TimeView::new(from, to, width);
            let items = packed.layout(&view, 3.0);
            let mut folds = 0;
            for item in items.iter().filter(|i| i.is_folded()) {
                folds += 1;
                let walked = fold_shares(&plain, item, &view, |s| s.state as usize);
                for bucket_px in [1, 2, 3] {
                    let fast = packed.fold_shares(item, &view, bucket_px);
                    assert_eq!(fast.len(), walked.len());
                    // Totals are used when the fold holds many spans a column; then each
                    // bucket of columns holds the mean of the walk's columns.
                    let many = uses_totals(item.count, walked.len(), bucket_px);
                    let step = if many { bucket_px } else { 1 };
                    for (a, b) in fast.chunks(step).zip(walked.chunks(step)) {
                        for k in 0..MAX_SHARES {
                            let mean = b.iter().map(|c| c.shares[k]).sum::<f32>() / b.len() as f32;
                            for c in a {
                                assert!(
                                    (c.shares[k] - mean).abs() < 1e-4,
                                    "view {from}..{to} at {width} px, bucket {bucket_px}, column {}: {c:?} vs {b:?}",
                                    c.x
                                );
                            }
                        }
                    }
                    assert_eq!(
                        fast.iter().map(|c| c.x).collect::<Vec<_>>(),
                        walked.iter().map(|c| c.x).collect::<Vec<_>>()
                    );
                }
            }
            assert!(folds > 0, "the view {from}..{to} folds");
        }
    }

    #[test]
    fn gallop_finds_the_same_boundary_as_a_binary_search() {
        let v: Vec<i64> = (0..1000).map(|i| i * 3).collect();
        for from in [0, 1, 7, 500, 999, 1000] {
            for limit in [-5, 0, 1, 2, 3, 100, 1500, 2997, 2998, 5000] {
                let want = from.max(v.partition_point(|&x| x < limit));
                let got = super::gallop(&v, from, |&x| x < limit);
                assert_eq!(got, want.max(from), "from {from} limit {limit}");
            }
        }
        assert_eq!(super::gallop::<i64>(&[], 0, |_| true), 0);
    }

    #[test]
    fn indexed_layout_equals_the_plain_one() {
        // Dense narrow spans with occasional wide ones and gaps.
        let mut spans = Vec::new();
        let mut t = 0i64;
        for i in 0..20_000i64 {
            let len = if i % 997 == 0 { 50_000 } else { 3 + i % 11 };
            let gap = if i % 313 == 0 { 20_000 } else { i % 4 };
            spans.push(S(t, t + len));
            t += len + gap;
        }
        let starts: Vec<i64> = spans.iter().step_by(BLOCK).map(|s| s.start_ns()).collect();
        for (t0, t1, w) in [
            (0.0, t as f64, 1200.0),
            (12_345.0, 400_000.0, 800.0),
            (-100.0, 1_000.0, 300.0),
            (t as f64 / 2.0, t as f64 / 2.0 + 5_000.0, 1500.0),
        ] {
            let v = view(t0, t1, w);
            for min_px in [1.0, 3.0] {
                let plain = layout(&spans, &v, min_px);
                assert!(!plain.is_empty());
                assert_eq!(plain, layout_indexed(&spans[..], &starts, &v, min_px));
            }
        }
    }

    #[test]
    fn bucket_ends_found_through_block_times_equal_a_binary_search() {
        let pts: Vec<(i64, f64)> = (0..10_000).map(|i| (i * 7 + (i % 5), 0.0)).collect();
        let times = block_times(&pts[..]);
        for from in [0, 1, 63, 64, 65, 640, 5000, 9_999, 10_000] {
            for limit in [-1, 0, 5, 447, 448, 449, 4480, 35_000, 69_990, 70_100] {
                let want = from.max(pts.partition_point(|p| p.0 < limit));
                let got = end_of_bucket(&pts[..], &times, from, limit as f64);
                assert_eq!(got, want, "from {from} limit {limit}");
                // Without block times it gallops and agrees.
                assert_eq!(end_of_bucket(&pts[..], &[], from, limit as f64), want);
            }
        }
    }

    #[derive(Clone, Copy, Debug)]
    struct S(i64, i64);
    impl Timed for S {
        fn start_ns(&self) -> i64 {
            self.0
        }
        fn end_ns(&self) -> i64 {
            self.1
        }
    }

    fn view(t0: f64, t1: f64, w: f64) -> TimeView {
        TimeView::new(t0, t1, w)
    }

    #[test]
    fn wide_spans_are_drawn_as_themselves() {
        let spans = [S(0, 100), S(100, 300), S(500, 1000)];
        let items = layout(&spans, &view(0.0, 1000.0, 100.0), 3.0);
        assert_eq!(items.len(), 3);
        assert!(items.iter().all(|i| i.count == 1));
        assert_eq!((items[1].x0, items[1].x1), (10.0, 30.0));
        assert_eq!(items[2].first, 2);
    }

    #[test]
    fn tiny_spans_fold_until_a_gap() {
        // 1000 spans of 1 ns every 2 ns, then a gap, then one wide span.
        let mut spans: Vec<S> = (0..1000).map(|i| S(2 * i, 2 * i + 1)).collect();
        spans.push(S(100_000, 200_000));
        let items = layout(&spans, &view(0.0, 200_000.0, 1000.0), 3.0);
        assert_eq!(items.len(), 2, "{items:?}");
        assert_eq!(items[0].count, 1000);
        assert!(items[0].is_folded());
        assert_eq!(items[1].count, 1);
        assert_eq!(items[1].first, 1000);
    }

    #[test]
    fn a_wide_span_after_contiguous_tiny_ones_is_not_folded() {
        // Goroutine lanes are contiguous: tiny, tiny, then a long wait, then tiny again.
        let spans = [S(0, 1), S(1, 2), S(2, 5000), S(5000, 5001)];
        let items = layout(&spans, &view(0.0, 10_000.0, 100.0), 3.0);
        assert_eq!(items.len(), 3, "{items:?}");
        assert_eq!((items[0].first, items[0].count), (0, 2));
        assert_eq!((items[1].first, items[1].count), (2, 1));
        assert_eq!(items[1].x0, 0.02);
        assert_eq!((items[2].first, items[2].count), (3, 1));
    }

    #[test]
    fn a_gap_of_min_px_splits_folds() {
        // Two clusters of tiny spans separated by 10 px.
        let spans = [S(0, 1), S(2, 3), S(1000, 1001), S(1002, 1003)];
        let items = layout(&spans, &view(0.0, 10_000.0, 100.0), 3.0);
        assert_eq!(items.len(), 2);
        assert_eq!((items[0].first, items[0].count), (0, 2));
        assert_eq!((items[1].first, items[1].count), (2, 2));
    }

    #[test]
    fn only_visible_spans_are_laid_out() {
        let spans: Vec<S> = (0..100).map(|i| S(i * 100, i * 100 + 50)).collect();
        let items = layout(&spans, &view(1000.0, 2000.0, 1000.0), 3.0);
        assert_eq!(items.first().unwrap().first, 10);
        assert_eq!(items.last().unwrap().first, 19);
        assert_eq!(items.len(), 10);
    }

    #[test]
    fn a_span_crossing_the_left_edge_is_clipped() {
        let spans = [S(0, 1000)];
        let items = layout(&spans, &view(500.0, 1500.0, 100.0), 3.0);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].x0, -1.0);
        assert_eq!(items[0].x1, 50.0);
    }

    #[test]
    fn million_tiny_spans_give_few_items() {
        let spans: Vec<S> = (0..1_000_000).map(|i| S(i * 10, i * 10 + 5)).collect();
        let items = layout(&spans, &view(0.0, 10_000_000.0, 1000.0), 3.0);
        assert!(items.len() <= 1000, "{}", items.len());
        assert_eq!(items.iter().map(|i| i.count).sum::<usize>(), 1_000_000);
    }

    #[test]
    fn counter_columns_keep_min_and_max() {
        let pts = [(0, 1.0), (10, 5.0), (11, 2.0), (50, 3.0)];
        let cols = columns(&pts[..], &view(0.0, 100.0, 10.0), 1.0);
        // Column 1 covers [10, 20): entering value 1, points 5 and 2.
        assert_eq!(
            cols[1],
            Column {
                x: 1.0,
                min: 1.0,
                max: 5.0
            }
        );
        // Column 3 covers [30, 40): only the value carried in, 2.
        assert_eq!(
            cols[3],
            Column {
                x: 3.0,
                min: 2.0,
                max: 2.0
            }
        );
        assert_eq!(cols[5].max, 3.0);
    }

    #[test]
    fn block_summaries_give_the_same_columns() {
        let pts: Vec<(i64, f64)> = (0..100_000)
            .map(|i| (i * 10, ((i * 7919) % 1013) as f64))
            .collect();
        let blocks = block_summary(&pts[..]);
        for w in [3.0, 50.0, 997.0] {
            for (t0, t1) in [
                (0.0, 1_000_000.0),
                (123_457.0, 876_543.0),
                (-50.0, 40_961.0),
            ] {
                let v = view(t0, t1, w);
                let times = block_times(&pts[..]);
                assert_eq!(
                    columns(&pts[..], &v, 1.0),
                    columns_with(&pts[..], &blocks, &times, &v, 1.0)
                );
            }
        }
        // Every kind of range: inside one block, across blocks, across second-level blocks.
        let mut x: u64 = 12345;
        for _ in 0..2000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let a = (x >> 33) as usize % pts.len();
            let len = ((x >> 7) as usize % 20_000).min(pts.len() - a);
            let naive = pts[a..a + len]
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
                    (lo.min(p.1), hi.max(p.1))
                });
            assert_eq!(
                min_max(&pts[..], &blocks, a, a + len),
                naive,
                "{a}..{}",
                a + len
            );
        }
    }

    #[test]
    fn density_counts_instants_per_bucket() {
        let times = [1, 2, 3, 55, 99, 150];
        let d = density(&times, &view(0.0, 100.0, 10.0), 1.0);
        assert_eq!(d, vec![(0.0, 3), (5.0, 1), (9.0, 1)]);
    }
}
