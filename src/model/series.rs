//! Counter series (heap, goroutine and thread counts) kept compactly: points in blocks of
//! `lod::BLOCK`, each block's times and values stored as offsets from its first point in the
//! narrowest byte width that holds them (about 4 bytes a point instead of 16).

use std::fmt;

use super::lod::{self, BLOCK, Points};

/// Where one full block's offsets are and how wide they are.
#[derive(Clone, Copy, Debug)]
struct Packed {
    /// Start of the block's time offsets in `Series::data`; its value offsets follow them.
    offset: usize,
    /// The value of the block's first point (its time is in `Series::block_times`).
    base_value: i64,
    /// Bytes per time offset and per value offset: 1, 2, 4 or 8.
    time_bytes: u8,
    value_bytes: u8,
}

/// A counter as steps: the value holds from each point's time to the next point's.
///
/// Values are whole numbers (bytes, counts). Points are added in time order with `push`;
/// `seal` adds the block summary that makes `columns` cost pixels rather than points.
#[derive(Clone, Default)]
pub struct Series {
    /// The full blocks' offsets, block after block.
    data: Vec<u8>,
    packed: Vec<Packed>,
    /// The last block, at most `BLOCK` points, not packed yet (never empty once a point is in,
    /// so the last point can still be replaced or compared with).
    tail: Vec<(i64, i64)>,
    /// The time of each block's first point (the tail's included), so finding a time searches
    /// a small array (`lod::block_times` of the points).
    block_times: Vec<i64>,
    /// Min/max of each full block's values, made as blocks are packed.
    packed_min_max: Vec<(f64, f64)>,
    /// Min/max per block, then per block of blocks (`lod::block_summary` of the points),
    /// made by `seal`.
    blocks: Vec<(f64, f64)>,
    /// The largest value, kept as points are added (ribbons scale by it every frame).
    max_value: f64,
}

/// Bytes needed for an unsigned offset.
fn unsigned_width(x: u64) -> u8 {
    if x <= u8::MAX as u64 {
        1
    } else if x <= u16::MAX as u64 {
        2
    } else if x <= u32::MAX as u64 {
        4
    } else {
        8
    }
}

/// Bytes needed for a signed offset.
fn signed_width(x: i64) -> u8 {
    if i8::try_from(x).is_ok() {
        1
    } else if i16::try_from(x).is_ok() {
        2
    } else if i32::try_from(x).is_ok() {
        4
    } else {
        8
    }
}

/// Reads `width` little-endian bytes at `pos` as an unsigned number.
#[inline]
fn read_unsigned(data: &[u8], pos: usize, width: u8) -> u64 {
    match width {
        1 => data[pos] as u64,
        2 => u16::from_le_bytes([data[pos], data[pos + 1]]) as u64,
        4 => u32::from_le_bytes([data[pos], data[pos + 1], data[pos + 2], data[pos + 3]]) as u64,
        _ => {
            let mut b = [0u8; 8];
            b.copy_from_slice(&data[pos..pos + 8]);
            u64::from_le_bytes(b)
        }
    }
}

/// Reads `width` little-endian bytes at `pos` as a signed number.
#[inline]
fn read_signed(data: &[u8], pos: usize, width: u8) -> i64 {
    match width {
        1 => data[pos] as i8 as i64,
        2 => i16::from_le_bytes([data[pos], data[pos + 1]]) as i64,
        4 => i32::from_le_bytes([data[pos], data[pos + 1], data[pos + 2], data[pos + 3]]) as i64,
        _ => read_unsigned(data, pos, 8) as i64,
    }
}

impl Series {
    /// Adds a point. A point at the same time as the last replaces its value; a point with
    /// the last value changes nothing and is left out.
    pub fn push(&mut self, time_ns: i64, value: i64) {
        if value as f64 > self.max_value {
            self.max_value = value as f64;
        }
        if let Some(last) = self.tail.last_mut() {
            if last.0 == time_ns {
                last.1 = value;
                return;
            }
            if last.1 == value {
                return;
            }
        }
        if self.tail.len() == BLOCK {
            self.pack_tail();
        }
        if self.tail.is_empty() {
            self.block_times.push(time_ns);
        }
        self.tail.push((time_ns, value));
    }

    /// Packs the full tail block into `data`.
    fn pack_tail(&mut self) {
        let (base_time, base_value) = self.tail[0];
        let time_off = |t: i64| t.wrapping_sub(base_time) as u64;
        let value_off = |v: i64| v.wrapping_sub(base_value);
        let time_bytes = self
            .tail
            .iter()
            .map(|p| unsigned_width(time_off(p.0)))
            .max()
            .unwrap_or(1);
        let value_bytes = self
            .tail
            .iter()
            .map(|p| signed_width(value_off(p.1)))
            .max()
            .unwrap_or(1);
        let offset = self.data.len();
        for p in &self.tail {
            let b = time_off(p.0).to_le_bytes();
            self.data.extend_from_slice(&b[..time_bytes as usize]);
        }
        for p in &self.tail {
            let b = value_off(p.1).to_le_bytes();
            self.data.extend_from_slice(&b[..value_bytes as usize]);
        }
        let (lo, hi) = self.tail.iter().fold((i64::MAX, i64::MIN), |(lo, hi), p| {
            (lo.min(p.1), hi.max(p.1))
        });
        self.packed_min_max.push((lo as f64, hi as f64));
        self.packed.push(Packed {
            offset,
            base_value,
            time_bytes,
            value_bytes,
        });
        self.tail.clear();
    }

    /// How many points there are.
    pub fn len(&self) -> usize {
        self.packed.len() * BLOCK + self.tail.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tail.is_empty()
    }

    /// Point `i` (`i < len()`).
    pub fn point(&self, i: usize) -> (i64, f64) {
        (self.time_at(i), self.value_at(i))
    }

    /// The points from index `from` on.
    pub fn iter_from(&self, from: usize) -> impl Iterator<Item = (i64, f64)> + '_ {
        (from..self.len()).map(|i| self.point(i))
    }

    /// All points, unpacked.
    pub fn points(&self) -> Vec<(i64, f64)> {
        self.iter_from(0).collect()
    }

    /// How many points are at or before `time_ns`.
    pub fn count_through(&self, time_ns: i64) -> usize {
        let b = self.block_times.partition_point(|&t| t <= time_ns);
        if b == 0 {
            return 0;
        }
        let lo = (b - 1) * BLOCK;
        let hi = (b * BLOCK).min(self.len());
        lo + lod::partition_indices(lo, hi, |i| self.time_at(i) <= time_ns)
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
    pub fn seal(&mut self) {
        let mut level1 = self.packed_min_max.clone();
        if !self.tail.is_empty() {
            let (lo, hi) = self.min_max_values(self.packed.len() * BLOCK, self.len());
            level1.push((lo, hi));
        }
        self.blocks = lod::add_second_level(level1);
    }

    /// Min/max per pixel column over a view.
    pub fn columns(&self, view: &lod::TimeView, bucket_px: f64) -> Vec<lod::Column> {
        lod::columns_with(self, &self.blocks, &self.block_times, view, bucket_px)
    }

    /// Calls `f` with each value of points `k0..k1` of block `b`.
    #[inline]
    fn block_values(&self, b: usize, k0: usize, k1: usize, mut f: impl FnMut(i64)) {
        let Some(p) = self.packed.get(b) else {
            for &(_, v) in &self.tail[k0..k1] {
                f(v);
            }
            return;
        };
        let start = p.offset + BLOCK * p.time_bytes as usize;
        let base = p.base_value;
        let d = &self.data;
        match p.value_bytes {
            1 => (k0..k1).for_each(|k| f(base.wrapping_add(d[start + k] as i8 as i64))),
            2 => (k0..k1).for_each(|k| f(base.wrapping_add(read_signed(d, start + 2 * k, 2)))),
            4 => (k0..k1).for_each(|k| f(base.wrapping_add(read_signed(d, start + 4 * k, 4)))),
            _ => (k0..k1).for_each(|k| f(base.wrapping_add(read_signed(d, start + 8 * k, 8)))),
        }
    }
}

impl Points for Series {
    fn point_count(&self) -> usize {
        self.len()
    }

    #[inline]
    fn time_at(&self, i: usize) -> i64 {
        let (b, k) = (i / BLOCK, i % BLOCK);
        match self.packed.get(b) {
            Some(p) => {
                let w = p.time_bytes;
                let off = read_unsigned(&self.data, p.offset + k * w as usize, w);
                self.block_times[b].wrapping_add(off as i64)
            }
            None => self.tail[k].0,
        }
    }

    #[inline]
    fn value_at(&self, i: usize) -> f64 {
        let (b, k) = (i / BLOCK, i % BLOCK);
        match self.packed.get(b) {
            Some(p) => {
                let start = p.offset + BLOCK * p.time_bytes as usize;
                let w = p.value_bytes;
                p.base_value
                    .wrapping_add(read_signed(&self.data, start + k * w as usize, w))
                    as f64
            }
            None => self.tail[k].1 as f64,
        }
    }

    fn min_max_values(&self, a: usize, b: usize) -> (f64, f64) {
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        let mut i = a;
        while i < b {
            let blk = i / BLOCK;
            let k0 = i % BLOCK;
            let k1 = (b - blk * BLOCK).min(BLOCK);
            self.block_values(blk, k0, k1, |v| {
                lo = lo.min(v);
                hi = hi.max(v);
            });
            i = blk * BLOCK + k1;
        }
        if a >= b {
            (f64::INFINITY, f64::NEG_INFINITY)
        } else {
            (lo as f64, hi as f64)
        }
    }
}

/// Written as the plain vectors it stands for, so dumps of models compare across layouts.
impl fmt::Debug for Series {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Series")
            .field("points", &self.points())
            .field("blocks", &self.blocks)
            .field("block_times", &self.block_times)
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
            assert_eq!(s.block_times, lod::block_times(&plain[..]));
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
        let bytes = s.data.len() + s.packed.len() * std::mem::size_of::<Packed>();
        assert!(bytes < 4 * s.len(), "{bytes} bytes for {} points", s.len());
    }
}
