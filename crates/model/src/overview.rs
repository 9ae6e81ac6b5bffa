//! Overview lanes: a lane thinned for a model of the whole of a long trace, keeping every
//! span that lasts at least a bucket and summing the shorter ones, per bucket and state,
//! into "summary" spans; and counters thinned to each bucket's extremes.
//!
//! A summary span stands for the time a lane's short spans spent in one state within one
//! bucket of time (`bucket_ns`): laid end to end from the first of them, in state order,
//! they fill exactly what those spans filled (a goroutine's lane has no gaps), so the share
//! of each state in any bucket, and so in any pixel column at least a bucket wide, is the
//! whole model's. Their fields other than times and state say "summary" (`SUMMARY` as the
//! goroutine, waker or P), never a real span's. Spans at least a bucket long, and the span
//! right after each, are kept as they are; a lane of a goroutine that waits for seconds is
//! one span either way, and the one that woke it is known. Stimuli keep each bucket's
//! first and last instant, with running counts.

use crate::data::{GSpan, GState, MSpan, PSpan};
use crate::lod::Timed;
use crate::series::Series;
use crate::spans::{Fields, Spans};

/// The goroutine, waker or P id a summary span carries instead of a real one.
pub const SUMMARY: i64 = -2;

/// A span kind that can be summed by category and stood for by summary spans.
pub(crate) trait Summed: Fields + Timed {
    /// How many categories (at most 4).
    const CATEGORIES: usize;
    fn category(&self) -> usize;
    /// The summary span of `category` over `[start_ns, end_ns)`.
    fn summary(start_ns: i64, end_ns: i64, category: usize) -> Self;
}

impl Summed for GSpan {
    const CATEGORIES: usize = 4;
    fn category(&self) -> usize {
        self.state as usize
    }
    fn summary(start_ns: i64, end_ns: i64, category: usize) -> Self {
        let state = [
            GState::Running,
            GState::Runnable,
            GState::Waiting,
            GState::Syscall,
        ][category.min(3)];
        GSpan {
            start_ns,
            end_ns,
            state,
            reason: 0,
            start_stack: 0,
            end_stack: 0,
            waker: SUMMARY,
            p: SUMMARY as i16,
        }
    }
}

impl Summed for PSpan {
    const CATEGORIES: usize = 1;
    fn category(&self) -> usize {
        0
    }
    fn summary(start_ns: i64, end_ns: i64, _: usize) -> Self {
        PSpan {
            start_ns,
            end_ns,
            g: SUMMARY,
        }
    }
}

impl Summed for MSpan {
    const CATEGORIES: usize = 2;
    fn category(&self) -> usize {
        usize::from(self.syscall)
    }
    fn summary(start_ns: i64, end_ns: i64, category: usize) -> Self {
        MSpan {
            start_ns,
            end_ns,
            g: SUMMARY,
            p: SUMMARY as i32,
            syscall: category == 1,
        }
    }
}

impl GSpan {
    /// Whether this stands for several short spans of an overview (see `overview`).
    pub fn is_summary(&self) -> bool {
        self.waker == SUMMARY && self.p == SUMMARY as i16
    }
}

impl PSpan {
    /// Whether this stands for several short spans of an overview.
    pub fn is_summary(&self) -> bool {
        self.g == SUMMARY
    }
}

impl MSpan {
    /// Whether this stands for several short spans of an overview.
    pub fn is_summary(&self) -> bool {
        self.g == SUMMARY
    }
}

/// The last bucket a time was found in, with its time span, so that the next time in the
/// same bucket is placed without a division (there is one per span or point thinned).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct LastBucket {
    bucket_ns: i64,
    index: i64,
    start_ns: i64,
    end_ns: i64,
}

impl LastBucket {
    /// The bucket `at` lies in, `at.div_euclid(bucket_ns)`, and the time it ends (saturated).
    #[inline]
    pub(crate) fn of(&mut self, at: i64, bucket_ns: i64) -> (i64, i64) {
        if bucket_ns != self.bucket_ns || at < self.start_ns || at >= self.end_ns {
            let index = at.div_euclid(bucket_ns);
            *self = LastBucket {
                bucket_ns,
                index,
                // Saturated at the ends of time: every time between them is still in it.
                start_ns: index.saturating_mul(bucket_ns),
                end_ns: index.saturating_add(1).saturating_mul(bucket_ns),
            };
        }
        (self.index, self.end_ns)
    }

    /// Whether `[start_ns, end_ns]` lies within the last bucket found, of `bucket_ns`,
    /// ending before its end.
    #[inline(always)]
    fn holds(&self, start_ns: i64, end_ns: i64, bucket_ns: i64) -> bool {
        bucket_ns == self.bucket_ns
            && start_ns >= self.start_ns
            && start_ns <= end_ns
            && end_ns < self.end_ns
    }
}

/// One lane's thinning in progress: the short spans' time per category in the current
/// bucket, not yet pushed.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Thinning {
    /// The bucket the sums are of (`start / bucket_ns`), if any.
    bucket: Option<i64>,
    /// Where the first summed piece in it began.
    from_ns: i64,
    sums_ns: [i64; 4],
    /// The last span pushed lasted a bucket or more: the next is kept as it is too (who
    /// woke a goroutine after a long wait is on the runnable span that follows it).
    after_long: bool,
    last: LastBucket,
}

impl Thinning {
    /// Adds span `s` to `lane`: as it is if it lasts at least `bucket_ns`, else summed.
    /// Most spans are short and lie within the bucket of the span before: they are summed
    /// here, inlined into the caller; the rest take the call (`push_rest`).
    #[inline(always)]
    pub(crate) fn push<S: Summed>(&mut self, lane: &mut Spans<S>, s: S, bucket_ns: i64) {
        let (start, end) = (s.start_ns(), s.end_ns());
        if !self.after_long
            && self.last.holds(start, end, bucket_ns)
            && self.bucket == Some(self.last.index)
        {
            // Within the bucket, so shorter than it.
            self.sums_ns[s.category().min(3)] += end - start;
            return;
        }
        self.push_rest(lane, s, bucket_ns);
    }

    #[inline(never)]
    fn push_rest<S: Summed>(&mut self, lane: &mut Spans<S>, s: S, bucket_ns: i64) {
        let (start, end) = (s.start_ns(), s.end_ns());
        let long = end.saturating_sub(start) >= bucket_ns;
        if long || self.after_long {
            self.flush(lane);
            lane.push(s);
            self.after_long = long;
            return;
        }
        let c = s.category().min(3);
        // A short span can still cross a bucket's edge: each piece goes to its bucket.
        let mut at = start;
        loop {
            let (bucket, edge) = self.last.of(at, bucket_ns);
            let piece_end = end.min(edge);
            if self.bucket != Some(bucket) {
                self.flush(lane);
                self.bucket = Some(bucket);
                self.from_ns = at;
            }
            self.sums_ns[c] += piece_end - at;
            if piece_end >= end {
                break;
            }
            at = piece_end;
        }
    }

    /// Pushes the summary spans of the current bucket.
    pub(crate) fn flush<S: Summed>(&mut self, lane: &mut Spans<S>) {
        if self.bucket.take().is_none() {
            return;
        }
        let mut at = self.from_ns;
        for (c, sum) in self.sums_ns.iter_mut().enumerate().take(S::CATEGORIES) {
            if *sum > 0 {
                lane.push(S::summary(at, at + *sum, c));
                at += *sum;
            }
            *sum = 0;
        }
        self.sums_ns = [0; 4];
    }
}

/// A counter's thinning in progress: of the points in the current bucket, the first, the
/// lowest, the highest and the last, pushed in time order when the bucket is left.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct CounterThinning {
    bucket: Option<i64>,
    /// (time, value) of the first, lowest, highest and last point in the bucket.
    kept: [(i64, i64); 4],
    last: LastBucket,
}

impl CounterThinning {
    /// Adds the point to the current bucket if `time_ns` lies in it, saying whether it
    /// did; else `push` must place it. Inlined: most points fall in the bucket before.
    #[inline(always)]
    pub(crate) fn push_within(&mut self, time_ns: i64, value: i64, bucket_ns: i64) -> bool {
        if self.bucket != Some(self.last.index) || !self.last.holds(time_ns, time_ns, bucket_ns) {
            return false;
        }
        if value < self.kept[1].1 {
            self.kept[1] = (time_ns, value);
        }
        if value > self.kept[2].1 {
            self.kept[2] = (time_ns, value);
        }
        self.kept[3] = (time_ns, value);
        true
    }

    pub(crate) fn push(&mut self, series: &mut Series, time_ns: i64, value: i64, bucket_ns: i64) {
        let (bucket, _) = self.last.of(time_ns, bucket_ns);
        if self.bucket != Some(bucket) {
            self.flush(series);
            self.bucket = Some(bucket);
            self.kept = [(time_ns, value); 4];
            return;
        }
        if value < self.kept[1].1 {
            self.kept[1] = (time_ns, value);
        }
        if value > self.kept[2].1 {
            self.kept[2] = (time_ns, value);
        }
        self.kept[3] = (time_ns, value);
    }

    /// The value of the last point pushed, if it is still held here.
    pub(crate) fn pending_value(&self) -> Option<i64> {
        self.bucket.map(|_| self.kept[3].1)
    }

    pub(crate) fn flush(&mut self, series: &mut Series) {
        if self.bucket.take().is_none() {
            return;
        }
        let mut points = self.kept;
        points.sort_by_key(|p| p.0);
        let mut last_t = None;
        for (t, v) in points {
            if last_t != Some(t) {
                series.push(t, v);
                last_t = Some(t);
            }
        }
    }
}

/// One kind of stimulus thinned: of each bucket's instants, the first and the last, each
/// with the running count of instants through it (so that counts between any two kept
/// instants, and so densities per pixel a bucket wide or more, stay exact).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct InstantThinning {
    bucket: Option<i64>,
    first_ns: i64,
    last_ns: i64,
    /// Instants before this bucket, and in it.
    before: u64,
    count: u64,
    last: LastBucket,
}

impl InstantThinning {
    pub(crate) fn push(
        &mut self,
        times: &mut Vec<i64>,
        totals: &mut Vec<u64>,
        t: i64,
        bucket_ns: i64,
    ) {
        let (bucket, _) = self.last.of(t, bucket_ns);
        if self.bucket != Some(bucket) {
            self.flush(times, totals);
            self.bucket = Some(bucket);
            self.first_ns = t;
        }
        self.last_ns = t;
        self.count += 1;
    }

    pub(crate) fn flush(&mut self, times: &mut Vec<i64>, totals: &mut Vec<u64>) {
        if self.bucket.take().is_none() {
            return;
        }
        times.push(self.first_ns);
        totals.push(self.before + 1);
        if self.count > 1 {
            times.push(self.last_ns);
            totals.push(self.before + self.count);
        }
        self.before += self.count;
        self.count = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(start_ns: i64, end_ns: i64, state: GState) -> GSpan {
        GSpan {
            start_ns,
            end_ns,
            state,
            reason: 7,
            start_stack: 3,
            end_stack: 4,
            waker: 9,
            p: 1,
        }
    }

    #[test]
    fn short_spans_are_summed_per_bucket_and_long_ones_kept() {
        use GState::*;
        let spans = [
            g(0, 30, Running),
            g(30, 40, Waiting),
            g(40, 70, Running),
            g(70, 130, Runnable), // crosses the edge at 100: 30 + 30
            g(130, 400, Waiting), // long
            g(400, 410, Running),
        ];
        let mut lane = Spans::default();
        let mut t = Thinning::default();
        for s in spans {
            t.push(&mut lane, s, 100);
        }
        t.flush(&mut lane);
        let got: Vec<(i64, i64, GState, bool)> = lane
            .iter()
            .map(|s| (s.start_ns, s.end_ns, s.state, s.is_summary()))
            .collect();
        assert_eq!(
            got,
            vec![
                // Bucket 0: running 60, runnable 30, waiting 10, from 0.
                (0, 60, Running, true),
                (60, 90, Runnable, true),
                (90, 100, Waiting, true),
                // Bucket 1: the rest of the runnable span, then the long wait as it was.
                (100, 130, Runnable, true),
                (130, 400, Waiting, false),
                // Right after a long one: kept as it is.
                (400, 410, Running, false),
            ]
        );
        // Chained: no gaps, and every state keeps its time.
        let kept = lane.to_vec();
        assert!(kept.windows(2).all(|w| w[0].end_ns == w[1].start_ns));
        for state in [Running, Runnable, Waiting] {
            let sum = |v: &[GSpan]| -> i64 {
                v.iter()
                    .filter(|s| s.state == state)
                    .map(|s| s.duration_ns())
                    .sum()
            };
            assert_eq!(sum(&kept), sum(&spans), "{state:?}");
        }
        assert_eq!(
            lane.get(4).unwrap(),
            spans[4],
            "a long span keeps every field"
        );
    }

    #[test]
    fn instants_keep_each_buckets_first_and_last_with_running_counts() {
        let (mut times, mut totals) = (Vec::new(), Vec::new());
        let mut t = InstantThinning::default();
        for time in [0, 10, 20, 150, 310, 320] {
            t.push(&mut times, &mut totals, time, 100);
        }
        t.flush(&mut times, &mut totals);
        assert_eq!(times, vec![0, 20, 150, 310, 320]);
        assert_eq!(totals, vec![1, 3, 4, 5, 6]);
    }

    #[test]
    fn a_counter_keeps_each_buckets_first_extremes_and_last() {
        let mut s = Series::default();
        let mut t = CounterThinning::default();
        for (time, v) in [
            (0, 5),
            (10, 1),
            (20, 9),
            (30, 4),
            (40, 6),
            (150, 2),
            (160, 3),
        ] {
            t.push(&mut s, time, v, 100);
        }
        t.flush(&mut s);
        assert_eq!(
            s.points(),
            vec![
                (0, 5.0),
                (10, 1.0),
                (20, 9.0),
                (40, 6.0),
                (150, 2.0),
                (160, 3.0)
            ]
        );
    }
}
