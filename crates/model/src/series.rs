//! Counter series (heap, goroutine and thread counts): step points packed as `Spans` are
//! (a few bytes a point instead of 16), with a min/max summary per block for drawing.

use std::fmt;

use super::lod::{self, BLOCK, Points};
use super::spans::{Fields, MAX_FIELDS, Spans};

/// One step of a counter.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Point {
    time_ns: i64,
    value: i64,
}

impl Fields for Point {
    const FIELDS: usize = 2;
    fn to_fields(&self) -> [i64; MAX_FIELDS] {
        [self.time_ns, self.value, 0, 0, 0, 0, 0, 0]
    }
    fn from_fields(f: &[i64; MAX_FIELDS]) -> Self {
        Point {
            time_ns: f[0],
            value: f[1],
        }
    }
}

/// A counter as steps: the value holds from each point's time to the next point's.
///
/// Values are whole numbers (bytes, counts). Points are added in time order with `push`;
/// `seal` adds the block summary that makes `columns` cost pixels rather than points.
#[derive(Clone, Default)]
pub struct Series {
    /// Packed like spans: field 0 the time, field 1 the value.
    points: Spans<Point>,
    /// Min/max per block, then per block of blocks (`lod::block_summary` of the points),
    /// made by `seal`.
    blocks: Vec<(f64, f64)>,
    /// The largest value, kept as points are added (ribbons scale by it every frame).
    max_value: f64,
}

impl Series {
    /// Adds a point. A point at the same time as the last replaces its value; a point with
    /// the last value changes nothing and is left out.
    pub fn push(&mut self, time_ns: i64, value: i64) {
        if value as f64 > self.max_value {
            self.max_value = value as f64;
        }
        if let Some(last) = self.points.last_mut() {
            if last.time_ns == time_ns {
                last.value = value;
                return;
            }
            if last.value == value {
                return;
            }
        }
        self.points.push(Point { time_ns, value });
    }

    /// Adds the points of `later`, all later than this one's, as if they were pushed here
    /// (so a first one with this one's last value is left out). `seal` it after.
    pub(crate) fn append(&mut self, later: &Series) {
        for p in later.points.iter() {
            self.push(p.time_ns, p.value);
        }
        self.max_value = self.max_value.max(later.max_value);
    }

    /// Bytes its vectors hold.
    pub fn heap_bytes(&self) -> usize {
        self.points.heap_bytes() + self.blocks.capacity() * std::mem::size_of::<(f64, f64)>()
    }

    /// The value of the last point, if there is one.
    pub fn last_value(&self) -> Option<i64> {
        self.points.last().map(|p| p.value)
    }

    /// How many points there are.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The points from index `from` on.
    pub fn iter_from(&self, from: usize) -> impl Iterator<Item = (i64, f64)> + '_ {
        self.points
            .iter_from(from)
            .map(|p| (p.time_ns, p.value as f64))
    }

    /// All points, unpacked.
    pub fn points(&self) -> Vec<(i64, f64)> {
        self.iter_from(0).collect()
    }

    /// How many points are at or before `time_ns`.
    pub fn count_through(&self, time_ns: i64) -> usize {
        self.points.count_starting(|t| t <= time_ns)
    }

    /// The value at a time (0 before the first point).
    pub fn at(&self, time_ns: i64) -> f64 {
        match self.count_through(time_ns) {
            0 => 0.0,
            i => self.value_at(i - 1),
        }
    }

    /// The largest value (0 for an empty series).
    pub fn max(&self) -> f64 {
        self.max_value
    }

    /// Computes the block summary once all points are in.
    pub(crate) fn seal(&mut self) {
        let n = self.len();
        let level1 = (0..n)
            .step_by(BLOCK)
            .map(|a| self.min_max_values(a, (a + BLOCK).min(n)))
            .collect();
        self.blocks = lod::add_second_level(level1);
    }

    /// Min/max per pixel column over a view.
    pub fn columns(&self, view: &lod::TimeView, bucket_px: f64) -> Vec<lod::Column> {
        lod::columns_with(
            self,
            &self.blocks,
            self.points.block_starts(),
            view,
            bucket_px,
        )
    }
}

impl Points for Series {
    fn point_count(&self) -> usize {
        self.len()
    }

    #[inline]
    fn time_at(&self, i: usize) -> i64 {
        self.points.start_at(i)
    }

    #[inline]
    fn value_at(&self, i: usize) -> f64 {
        self.points.field_at(i, 1) as f64
    }

    fn min_max_values(&self, a: usize, b: usize) -> (f64, f64) {
        if a >= b {
            return (f64::INFINITY, f64::NEG_INFINITY);
        }
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        self.points.for_each_field(1, a, b, |v| {
            lo = lo.min(v);
            hi = hi.max(v);
        });
        (lo as f64, hi as f64)
    }
}

/// Written as the plain vectors it stands for, so dumps of models compare across layouts.
impl fmt::Debug for Series {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Series")
            .field("points", &self.points())
            .field("blocks", &self.blocks)
            .field("block_times", &self.points.block_starts())
            .field("max_value", &self.max_value)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A series of every kind of step: small and huge time gaps, small and huge value
    /// changes, repeated times and values, negative values.
    fn mixed(n: usize) -> (Series, Vec<(i64, f64)>, f64) {
        let mut s = Series::default();
        let mut plain: Vec<(i64, f64)> = Vec::new();
        let mut x: u64 = 99;
        let mut t = -5_000i64;
        let mut v = 0i64;
        let mut max = 0.0f64;
        for _ in 0..n {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            t += match (x >> 60) % 4 {
                0 => 0,
                1 => (x >> 40) as i64 % 300,
                2 => (x >> 20) as i64 % 100_000,
                _ => (x >> 8) as i64 % 9_000_000_000,
            };
            v = match (x >> 50) % 5 {
                0 => v,
                1 => v + 1,
                2 => v - 3,
                3 => (x >> 3) as i64 % 5_000_000_000,
                _ => -((x >> 30) as i64),
            };
            s.push(t, v);
            max = max.max(v as f64);
            // What the plain vector did.
            match plain.last_mut() {
                Some(last) if last.0 == t => last.1 = v as f64,
                Some(last) if last.1 == v as f64 => {}
                _ => plain.push((t, v as f64)),
            }
        }
        s.seal();
        (s, plain, max)
    }

    #[test]
    fn packed_points_read_back_as_pushed() {
        for n in [0, 1, 2, 63, 64, 65, 128, 129, 5_000] {
            let (s, plain, max) = mixed(n);
            assert_eq!(s.points(), plain, "{n} pushes");
            assert_eq!(s.len(), plain.len());
            assert_eq!(s.points.block_starts(), lod::block_times(&plain[..]));
            assert_eq!(s.blocks, lod::block_summary(&plain[..]));
            // Values later replaced at the same time count too, as they always did.
            assert_eq!(s.max(), max);
        }
    }

    #[test]
    fn values_at_times_and_ranges_match_the_plain_points() {
        let (s, plain, _) = mixed(3_000);
        assert!(plain.len() > 1_000);
        for &(t, _) in plain.iter().step_by(17) {
            for probe in [t - 1, t, t + 1] {
                let i = plain.partition_point(|p| p.0 <= probe);
                let want = if i == 0 { 0.0 } else { plain[i - 1].1 };
                assert_eq!(s.at(probe), want, "at {probe}");
                assert_eq!(s.count_through(probe), i);
            }
        }
        for (a, b) in [
            (0, 0),
            (0, 1),
            (5, 70),
            (63, 64),
            (64, 200),
            (1, plain.len()),
        ] {
            let want = plain[a..b]
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
                    (lo.min(p.1), hi.max(p.1))
                });
            assert_eq!(s.min_max_values(a, b), want, "{a}..{b}");
        }
    }

    #[test]
    fn columns_equal_those_of_the_plain_points() {
        let (s, plain, _) = mixed(20_000);
        let blocks = lod::block_summary(&plain[..]);
        let times = lod::block_times(&plain[..]);
        let (t0, t1) = (plain[0].0 as f64, plain[plain.len() - 1].0 as f64);
        for (a, b, w) in [
            (t0, t1, 1500.0),
            (t0 - 100.0, t0 + 1e6, 700.0),
            ((t0 + t1) / 2.0, (t0 + t1) / 2.0 + 5e7, 333.0),
        ] {
            let v = lod::TimeView::new(a, b, w);
            let want = lod::columns_with(&plain[..], &blocks, &times, &v, 1.0);
            assert!(!want.is_empty());
            assert_eq!(s.columns(&v, 1.0), want);
        }
    }

    #[test]
    fn counts_take_a_few_bytes_a_point() {
        let mut s = Series::default();
        // A goroutine count changing every 300 ns or so.
        for i in 0..100_000i64 {
            s.push(i * 300 + (i % 13) * 10, 40 + (i % 7));
        }
        assert_eq!(s.len(), 100_000);
        let bytes = s.points.packed_bytes();
        assert!(bytes < 4 * s.len(), "{bytes} bytes for {} points", s.len());
    }
}
