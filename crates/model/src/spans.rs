//! A lane's spans (and a counter's points) kept compactly: blocks of `lod::BLOCK` spans, each
//! field stored as an offset from its smallest value in the block, in as many bits as the
//! block's largest offset needs (none when the block's values are all equal). Any span is
//! read back in a few nanoseconds; a goroutine span takes about 7 bytes, not 40.

use std::fmt;

use super::lod::{self, BLOCK};

/// Most fields a packed span type has.
pub(crate) const MAX_FIELDS: usize = 8;

/// A span type as whole-number fields. Field 0 must be the start time (sorted: it indexes
/// searches by time); for spans, field 1 is the duration (end − start, wrapping), which lets
/// layouts read times without the rest (`end_at`).
pub trait Fields: Copy {
    /// How many of the `MAX_FIELDS` slots are used.
    const FIELDS: usize;
    /// Field 1 is the duration, so a block of spans that follow one another without a gap
    /// can be stored chained (see `Spans`).
    const CHAINS: bool = false;
    /// How many categories a span's time is counted in for overviews (`lod::fold_shares`);
    /// 0 keeps no totals.
    const SHARES: usize = 0;
    /// The field whose value is the span's category (below `SHARES`); `None`: all are 0.
    const SHARE_FIELD: Option<usize> = None;
    fn to_fields(&self) -> [i64; MAX_FIELDS];
    fn from_fields(f: &[i64; MAX_FIELDS]) -> Self;
}

/// Where one full block is and how each of its fields is stored (a view of the header
/// vectors of `Spans`).
#[derive(Clone, Copy)]
struct Block<'a> {
    /// Start of the block's bytes in `Spans::data`: each field's column of offsets in turn.
    offset: usize,
    /// Each field's smallest value in the block.
    base: &'a [i64],
    /// Bits per offset of each field, 0 to 64.
    width: &'a [u8],
    /// Chained: each span starts where the one before it ends, so field 0 is not stored
    /// (its base is the block's first start) and field 1 holds each span's end, less that
    /// first start, instead of its duration.
    chained: bool,
}

impl Block<'_> {
    /// Span `k`'s start and end, in a chained block.
    #[inline]
    fn chained_times(&self, data: &[u8], k: usize) -> (i64, i64) {
        let (col, w) = (self.field_start(1), self.width[1]);
        let end = |k| self.base[1].wrapping_add(read(data, col, k, w) as i64);
        let start = if k == 0 { 0 } else { end(k - 1) };
        (
            self.base[0].wrapping_add(start),
            self.base[0].wrapping_add(end(k)),
        )
    }

    /// Where field `f`'s column starts in `Spans::data`.
    #[inline]
    fn field_start(&self, f: usize) -> usize {
        let before: usize = self.width[..f].iter().map(|&w| w as usize).sum();
        self.offset + COLUMN_BYTES_PER_BIT * before
    }
}

/// The time-sorted spans of one lane, packed (see the module comment). Read with `get`,
/// `at`, `iter` and the time accessors; add with `push`.
#[derive(Clone)]
pub struct Spans<S> {
    /// The full blocks, packed; none until the first is (most of a trace's goroutines
    /// never fill one, and an empty `Packed` would still take 144 bytes a lane: 14 MB of
    /// a trace of 100,000 short goroutines).
    packed: Option<Box<Packed>>,
    /// The last block, not packed yet (at most `BLOCK` spans; packed when one more comes, so
    /// the last span can still be changed).
    tail: Vec<S>,
    /// The start of each block's first span (the tail's included): an index for searches
    /// by time (`lod::layout_indexed`).
    block_starts: Vec<i64>,
}

/// A lane's packed blocks.
#[derive(Clone, Default)]
struct Packed {
    /// The packed blocks, then `SLACK` zero bytes (so that any offset is read with one
    /// unaligned load).
    data: Vec<u8>,
    /// Per full block: where its bytes start in `data`.
    offsets: Vec<usize>,
    /// Per full block, `S::FIELDS` each: the field's smallest value, and its offsets' width
    /// in bits.
    bases: Vec<i64>,
    widths: Vec<u8>,
    /// Per full block: whether it is stored chained (see `Block::chained`). Goroutine
    /// lanes are (a goroutine is always in some state); it halves what their times take.
    chained: Vec<bool>,
    /// If `S::SHARES > 0`, per full block: the time of all spans up to its end, per
    /// category (a running total), so an overview sums any range in a few reads.
    share_totals: Vec<[i64; lod::MAX_SHARES]>,
}

/// What a lane with no full block reads its packed blocks from.
static NO_BLOCKS: Packed = Packed {
    data: Vec::new(),
    offsets: Vec::new(),
    bases: Vec::new(),
    widths: Vec::new(),
    chained: Vec::new(),
    share_totals: Vec::new(),
};

impl<S> Default for Spans<S> {
    fn default() -> Self {
        Spans {
            packed: None,
            tail: Vec::new(),
            block_starts: Vec::new(),
        }
    }
}

/// Bits an offset up to `range` needs.
fn width_of(range: u64) -> u8 {
    (u64::BITS - range.leading_zeros()) as u8
}

/// A column holds `BLOCK` (64) offsets of `w` bits: `w` times 8 bytes, so every column,
/// and every block, starts on a byte.
const COLUMN_BYTES_PER_BIT: usize = BLOCK / 8;
const _: () = assert!(BLOCK % 8 == 0);

/// Zero bytes kept after the last block, so that an offset anywhere is read with one load
/// of 8 (or, for offsets over 56 bits, 16) bytes.
const SLACK: usize = 16;

/// Offset `k` of the `width`-bit column that starts at `column` in `data`.
#[inline(always)]
fn read(data: &[u8], column: usize, k: usize, width: u8) -> u64 {
    let bit = k * width as usize;
    load_bits(data, column + bit / 8, bit % 8, width as usize)
}

/// The `w` bits (0 to 64) that start `shift` (below 8) bits into `data[at]`, read with one
/// load of 8 bytes, or of 16 where they could reach past the eighth.
#[inline(always)]
fn load_bits(data: &[u8], at: usize, shift: usize, w: usize) -> u64 {
    if w <= 56 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&data[at..at + 8]);
        (u64::from_le_bytes(b) >> shift) & ((1u64 << w) - 1)
    } else {
        let mut b = [0u8; 16];
        b.copy_from_slice(&data[at..at + 16]);
        ((u128::from_le_bytes(b) >> shift) as u64) & (u64::MAX >> (64 - w))
    }
}

// A column's offsets lie in groups of 8: `width` bits × 8 = `width` bytes, so each group
// starts on a byte and, with the width a constant, every offset's place within its group is
// a constant too. The column readers and writers below are made once per width
// (`with_width!`) so that their loops unroll with constant shifts.

/// Writes `column`'s offsets (each below 2^`width`), `width` bits each, into `out`
/// (`width` × 8 bytes).
fn write_column(out: &mut [u8], column: &[i64; BLOCK], width: u8) {
    with_width!(width, pack_column, column, out);
}

/// Field `f` of every row: `base` plus the offsets of the `width`-bit column at the start
/// of `col`, which must hold `width` × 8 bytes and `SLACK` more.
#[inline]
fn read_column(col: &[u8], width: u8, base: i64, rows: &mut [[i64; MAX_FIELDS]; BLOCK], f: usize) {
    if width == 0 {
        rows.iter_mut().for_each(|r| r[f] = base);
    }
    with_width!(width, unpack_column, col, base, rows, f);
}

/// Calls `$f::<W>($args)` with `W` the constant equal to `$w` (1 to 64; 0 calls nothing).
macro_rules! with_width {
    ($w:expr, $f:ident, $($arg:expr),*) => {
        with_width!(@ $w, $f, ($($arg),*), 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21
            22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49
            50 51 52 53 54 55 56 57 58 59 60 61 62 63 64)
    };
    (@ $w:expr, $f:ident, $args:tt, $($n:literal)*) => {
        match $w {
            $($n => with_width!(@call $f, $n, $args),)*
            _ => {}
        }
    };
    (@call $f:ident, $n:literal, ($($arg:expr),*)) => { $f::<$n>($($arg),*) };
}
use with_width;

#[inline(always)]
fn pack_column<const W: usize>(column: &[i64; BLOCK], out: &mut [u8]) {
    // (An array, not a slice, for each group: its loop then unrolls.)
    let groups = column
        .chunks_exact(8)
        .filter_map(|c| <&[i64; 8]>::try_from(c).ok());
    for (values, group) in groups.zip(out.chunks_exact_mut(W)) {
        // Bits gathered but not written yet: fewer than 64 before each offset is added.
        let (mut acc, mut bits, mut at) = (0u128, 0, 0);
        for &x in values {
            acc |= (x as u64 as u128) << bits;
            bits += W;
            if bits >= 64 {
                group[at..at + 8].copy_from_slice(&(acc as u64).to_le_bytes());
                (acc, bits, at) = (acc >> 64, bits - 64, at + 8);
            }
        }
        // What is left is a whole number of bytes: 8 × W bits in all.
        let rest = bits / 8;
        group[at..at + rest].copy_from_slice(&(acc as u64).to_le_bytes()[..rest]);
    }
}

#[inline(always)]
fn unpack_column<const W: usize>(
    col: &[u8],
    base: i64,
    rows: &mut [[i64; MAX_FIELDS]; BLOCK],
    f: usize,
) {
    let groups = rows
        .chunks_exact_mut(8)
        .filter_map(|c| <&mut [[i64; MAX_FIELDS]; 8]>::try_from(c).ok());
    for (g, values) in groups.enumerate() {
        let group = &col[g * W..g * W + W + SLACK];
        for (j, row) in values.iter_mut().enumerate() {
            let x = load_bits(group, j * W / 8, j * W % 8, W);
            row[f] = base.wrapping_add(x as i64);
        }
    }
}

impl<S: Fields> Spans<S> {
    pub fn push(&mut self, s: S) {
        const { assert!(S::FIELDS >= 2 && S::FIELDS <= MAX_FIELDS) };
        if self.tail.len() == BLOCK {
            self.pack_tail();
        }
        if self.tail.is_empty() {
            self.block_starts.push(s.to_fields()[0]);
        }
        self.tail.push(s);
    }

    /// Takes the last span off, if it is still in the tail (it always is, but after a
    /// `pop`): a window's span cut where the next piece of it begins, which that piece has
    /// whole (`window::join`).
    pub(crate) fn pop(&mut self) -> Option<S> {
        let s = self.tail.pop()?;
        if self.tail.is_empty() {
            self.block_starts.pop();
        }
        Some(s)
    }

    /// The last span, to change it in place; its start (field 0) must stay as it was.
    pub fn last_mut(&mut self) -> Option<&mut S> {
        self.tail.last_mut()
    }

    fn pack_tail(&mut self) {
        let fields = S::FIELDS;
        let n = self.tail.len();
        let p = self.packed.get_or_insert_with(Box::default);
        if S::SHARES > 0 {
            let mut totals = p.share_totals.last().copied().unwrap_or_default();
            for s in &self.tail {
                let f = s.to_fields();
                // Saturating: a damaged trace's times can be anything.
                let c = category_of::<S>(&f);
                totals[c] = totals[c].saturating_add(f[1].max(0));
            }
            p.share_totals.push(totals);
        }
        // The block's fields column by column, with each column's range.
        let mut columns = [[0i64; BLOCK]; MAX_FIELDS];
        for (k, s) in self.tail.iter().enumerate() {
            let r = s.to_fields();
            for f in 0..fields {
                columns[f][k] = r[f];
            }
        }
        debug_assert_eq!(n, BLOCK);
        let [starts, durations, ..] = &mut columns;
        let chained =
            S::CHAINS && (1..n).all(|k| starts[k] == starts[k - 1].wrapping_add(durations[k - 1]));
        if chained {
            // Ends less the first start instead of durations; the starts become constant,
            // which takes no bits.
            let first = starts[0];
            for (s, d) in starts.iter_mut().zip(durations.iter_mut()) {
                *d = s.wrapping_add(*d).wrapping_sub(first);
                *s = first;
            }
        }
        p.chained.push(chained);
        // The new block goes where the slack was.
        let from = p.data.len().saturating_sub(SLACK);
        p.offsets.push(from);
        let mut widths = [0u8; MAX_FIELDS];
        let mut bytes = 0;
        for f in 0..fields {
            let column = &mut columns[f];
            let (lo, hi) = column
                .iter()
                .fold((i64::MAX, i64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
            column.iter_mut().for_each(|x| *x = x.wrapping_sub(lo));
            widths[f] = width_of(hi.wrapping_sub(lo) as u64);
            bytes += COLUMN_BYTES_PER_BIT * widths[f] as usize;
            p.bases.push(lo);
        }
        p.widths.extend_from_slice(&widths[..fields]);
        p.data.truncate(from);
        p.data.resize(from + bytes + SLACK, 0);
        let mut out = &mut p.data[from..];
        for f in 0..fields {
            let (here, rest) = out.split_at_mut(COLUMN_BYTES_PER_BIT * widths[f] as usize);
            write_column(here, &columns[f], widths[f]);
            out = rest;
        }
        self.tail.clear();
    }

    /// The packed blocks (none, read as empty, before the first).
    #[inline(always)]
    fn p(&self) -> &Packed {
        self.packed.as_deref().unwrap_or(&NO_BLOCKS)
    }

    pub fn len(&self) -> usize {
        self.p().offsets.len() * BLOCK + self.tail.len()
    }

    /// Gives back the room kept for spans to come (once the lane is complete). Most of a
    /// short lane is that room: a goroutine of five spans keeps eight in its last block.
    /// Bytes its vectors hold (their capacity).
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        let packed = self.packed.as_deref().map_or(0, |p| {
            size_of::<Packed>()
                + p.data.capacity()
                + p.offsets.capacity() * size_of::<usize>()
                + p.bases.capacity() * size_of::<i64>()
                + p.widths.capacity()
                + p.chained.capacity()
                + p.share_totals.capacity() * size_of::<[i64; lod::MAX_SHARES]>()
        });
        packed
            + self.tail.capacity() * size_of::<S>()
            + self.block_starts.capacity() * size_of::<i64>()
    }

    pub(crate) fn shrink_to_fit(&mut self) {
        if let Some(p) = self.packed.as_deref_mut() {
            p.data.shrink_to_fit();
            p.offsets.shrink_to_fit();
            p.bases.shrink_to_fit();
            p.widths.shrink_to_fit();
            p.chained.shrink_to_fit();
            p.share_totals.shrink_to_fit();
        }
        self.tail.shrink_to_fit();
        self.block_starts.shrink_to_fit();
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Full block `bi`, if it is packed.
    #[inline]
    fn block(&self, bi: usize) -> Option<Block<'_>> {
        let offset = *self.p().offsets.get(bi)?;
        let fields = bi * S::FIELDS..(bi + 1) * S::FIELDS;
        Some(Block {
            offset,
            base: &self.p().bases[fields.clone()],
            width: &self.p().widths[fields],
            chained: self.p().chained[bi],
        })
    }

    /// Block `bi`, if it is packed chained. (The time accessors read other blocks straight
    /// from the header vectors, without making a `Block`.)
    #[inline]
    fn chained_block(&self, bi: usize) -> Option<Block<'_>> {
        self.p()
            .chained
            .get(bi)
            .copied()
            .unwrap_or(false)
            .then(|| self.block(bi))
            .flatten()
    }

    #[inline]
    fn field(&self, b: Block, k: usize, f: usize) -> i64 {
        if b.chained && f < 2 {
            let (start, end) = b.chained_times(&self.p().data, k);
            return if f == 0 {
                start
            } else {
                end.wrapping_sub(start)
            };
        }
        let w = b.width[f];
        b.base[f].wrapping_add(read(&self.p().data, b.field_start(f), k, w) as i64)
    }

    /// Span `i`; panics past the end, as indexing a slice does.
    #[inline]
    pub fn at(&self, i: usize) -> S {
        let (bi, k) = (i / BLOCK, i % BLOCK);
        match self.block(bi) {
            Some(b) => {
                let mut f = [0i64; MAX_FIELDS];
                let mut start = b.offset;
                for (n, v) in f.iter_mut().enumerate().take(S::FIELDS) {
                    let w = b.width[n];
                    *v = b.base[n].wrapping_add(read(&self.p().data, start, k, w) as i64);
                    start += COLUMN_BYTES_PER_BIT * w as usize;
                }
                if b.chained {
                    let (start, end) = b.chained_times(&self.p().data, k);
                    f[0] = start;
                    f[1] = end.wrapping_sub(start);
                }
                S::from_fields(&f)
            }
            None => self.tail[k],
        }
    }

    pub fn get(&self, i: usize) -> Option<S> {
        (i < self.len()).then(|| self.at(i))
    }

    pub fn first(&self) -> Option<S> {
        self.get(0)
    }

    pub fn last(&self) -> Option<S> {
        self.len().checked_sub(1).map(|i| self.at(i))
    }

    /// Field `f` of span `i` (see `Fields`).
    #[inline]
    pub(crate) fn field_at(&self, i: usize, f: usize) -> i64 {
        match self.block(i / BLOCK) {
            Some(b) => self.field(b, i % BLOCK, f),
            None => self.tail[i % BLOCK].to_fields()[f],
        }
    }

    /// Span `i`'s start.
    #[inline]
    pub(crate) fn start_at(&self, i: usize) -> i64 {
        let (bi, k) = (i / BLOCK, i % BLOCK);
        if let Some(b) = self.chained_block(bi) {
            return b.chained_times(&self.p().data, k).0;
        }
        match self.p().offsets.get(bi) {
            Some(&offset) => {
                let h = bi * S::FIELDS;
                let w = self.p().widths[h];
                self.p().bases[h].wrapping_add(read(&self.p().data, offset, k, w) as i64)
            }
            None => self.tail[k].to_fields()[0],
        }
    }

    /// Span `i`'s start and end (fields 0 and 1 only).
    #[inline]
    pub fn times_at(&self, i: usize) -> (i64, i64) {
        let (bi, k) = (i / BLOCK, i % BLOCK);
        if let Some(b) = self.chained_block(bi) {
            return b.chained_times(&self.p().data, k);
        }
        let (start, duration) = match self.p().offsets.get(bi) {
            Some(&offset) => {
                let h = bi * S::FIELDS;
                let (w0, w1) = (self.p().widths[h], self.p().widths[h + 1]);
                let s = read(&self.p().data, offset, k, w0);
                let d = read(
                    &self.p().data,
                    offset + COLUMN_BYTES_PER_BIT * w0 as usize,
                    k,
                    w1,
                );
                (
                    self.p().bases[h].wrapping_add(s as i64),
                    self.p().bases[h + 1].wrapping_add(d as i64),
                )
            }
            None => {
                let f = self.tail[k].to_fields();
                (f[0], f[1])
            }
        };
        (start, start.wrapping_add(duration))
    }

    /// Span `i`'s end.
    #[inline]
    pub(crate) fn end_at(&self, i: usize) -> i64 {
        self.times_at(i).1
    }

    /// Calls `visit` with field `f` of spans `a..b` in order, without unpacking the rest of
    /// each span.
    #[inline]
    pub(crate) fn for_each_field(&self, f: usize, a: usize, b: usize, mut visit: impl FnMut(i64)) {
        let b = b.min(self.len());
        let mut i = a;
        while i < b {
            let bi = i / BLOCK;
            let (k0, k1) = (i % BLOCK, (b - bi * BLOCK).min(BLOCK));
            match self.block(bi) {
                Some(blk) if blk.chained && f < 2 => {
                    (k0..k1).for_each(|k| visit(self.field(blk, k, f)));
                }
                Some(blk) => {
                    let (w, base, start) = (blk.width[f], blk.base[f], blk.field_start(f));
                    for k in k0..k1 {
                        visit(base.wrapping_add(read(&self.p().data, start, k, w) as i64));
                    }
                }
                None => self.tail[k0..k1]
                    .iter()
                    .for_each(|s| visit(s.to_fields()[f])),
            }
            i = bi * BLOCK + k1;
        }
    }

    /// The spans from index `from` on, a block decoded at a time.
    pub fn iter_from(&self, from: usize) -> Iter<'_, S> {
        Iter {
            spans: self,
            next: from,
            end: self.len(),
            buf: Vec::with_capacity(BLOCK),
            buf_first: usize::MAX,
        }
    }

    pub fn iter(&self) -> Iter<'_, S> {
        self.iter_from(0)
    }

    /// All spans, unpacked.
    pub fn to_vec(&self) -> Vec<S> {
        self.iter().collect()
    }

    /// How many spans end at or before `t_ns` (spans are sorted and don't overlap, so ends
    /// are sorted too).
    pub fn count_ending_by(&self, t_ns: i64) -> usize {
        lod::partition_indices(0, self.len(), |i| self.end_at(i) <= t_ns)
    }

    /// How many spans have a start for which `before` holds (it must hold for a prefix of
    /// the starts, which are sorted): found through the block starts, then inside one block.
    pub fn count_starting(&self, before: impl Fn(i64) -> bool) -> usize {
        lod::first_time_not(self.len(), &self.block_starts, 0, before, |i| {
            self.start_at(i)
        })
    }

    /// Bytes the packed blocks take (offsets and block headers; not the tail).
    #[cfg(test)]
    pub(crate) fn packed_bytes(&self) -> usize {
        self.p().data.len()
            + self.p().offsets.len() * std::mem::size_of::<usize>()
            + self.p().bases.len() * std::mem::size_of::<i64>()
            + self.p().widths.len()
            + self.p().chained.len()
    }

    /// The start of every `BLOCK`-th span, for `lod::layout_indexed`.
    pub(crate) fn block_starts(&self) -> &[i64] {
        &self.block_starts
    }

    /// The lane's draw items for a view (`lod::layout`), searched through its block starts.
    pub fn layout(&self, view: &lod::TimeView, min_px: f64) -> Vec<lod::Item> {
        lod::layout_indexed(self, &self.block_starts, view, min_px)
    }

    /// The share of each pixel column's time that `item`'s spans spend in each category
    /// (`lod::fold_shares`), read through the lane's running totals; where the fold holds
    /// many spans a column, `bucket_px` columns share one sum (their mean).
    pub fn fold_shares(
        &self,
        item: &lod::Item,
        view: &lod::TimeView,
        bucket_px: usize,
    ) -> Vec<lod::ShareColumn> {
        // No column edge of the fold lies before its first span's block.
        let mut from_block = item.first / BLOCK;
        let before = (S::SHARES > 0).then_some(|t: f64| self.time_before(t, &mut from_block));
        lod::fold_shares_with(
            self.len(),
            |i| self.times_at(i),
            |i| match S::SHARE_FIELD {
                Some(f) => clamp_category::<S>(self.field_at(i, f)),
                None => 0,
            },
            before,
            item,
            view,
            bucket_px,
        )
    }

    /// Per category, the time of all spans before `t` (a span reaching past `t` counts up
    /// to `t`). `from_block` is a block at or before the answer's (the last one's, when
    /// called with `t` non-decreasing); it is moved on. One search of the block starts,
    /// then at most half a block of spans, from the running total at the nearer edge.
    fn time_before(&self, t: f64, from_block: &mut usize) -> [f64; lod::MAX_SHARES] {
        let mut acc = [0f64; lod::MAX_SHARES];
        // The last block whose first span starts before `t`.
        let kb = lod::gallop(&self.block_starts, *from_block, |&s| (s as f64) < t);
        let Some(b) = kb.checked_sub(1) else {
            return acc;
        };
        *from_block = b;
        let base = match b {
            0 => [0; lod::MAX_SHARES],
            _ => self
                .p()
                .share_totals
                .get(b - 1)
                .copied()
                .unwrap_or_default(),
        };
        let first = b * BLOCK;
        let Some(block) = self.block(b) else {
            // The tail: forwards from the block's total.
            acc = base.map(|v| v as f64);
            for s in &self.tail {
                let f = s.to_fields();
                let (start, end) = (f[0] as f64, f[0].wrapping_add(f[1]) as f64);
                if start >= t {
                    break;
                }
                acc[category_of::<S>(&f)] += (end.min(t) - start).max(0.0);
            }
            return acc;
        };
        let r = BlockReader::new(self, block);
        let next = self.p().share_totals.get(b).copied();
        match next {
            Some(after) if (r.times(BLOCK / 2).0 as f64) < t => {
                // Backwards from the next block's total: take off what starts at or after
                // `t`, and the part past `t` of the span that straddles it.
                acc = after.map(|v| v as f64);
                // Chained, a span's end is the next one's start: one read a span.
                let mut end = r.times(BLOCK - 1).1;
                for k in (0..BLOCK).rev() {
                    let start = r.start(k);
                    let c = r.category(k);
                    let (start, end) = (
                        start as f64,
                        std::mem::replace(&mut end, r.end_before(k, start)) as f64,
                    );
                    if start >= t {
                        acc[c] -= (end - start).max(0.0);
                    } else {
                        acc[c] -= (end - t).max(0.0);
                        break;
                    }
                }
            }
            _ => {
                acc = base.map(|v| v as f64);
                let mut start = r.start(0);
                for k in 0..BLOCK.min(self.len() - first) {
                    if start as f64 >= t {
                        break;
                    }
                    let end = r.end(k);
                    acc[r.category(k)] += ((end as f64).min(t) - start as f64).max(0.0);
                    start = r.start_after(k, end);
                }
            }
        }
        acc
    }

    /// Decodes block `bi` (all of it) into `out`.
    fn decode_block(&self, bi: usize, out: &mut Vec<S>) {
        out.clear();
        let Some(b) = self.block(bi) else {
            out.extend_from_slice(&self.tail);
            return;
        };
        let mut rows = [[0i64; MAX_FIELDS]; BLOCK];
        for f in 0..S::FIELDS {
            let (start, w) = (b.field_start(f), b.width[f]);
            let col = &self.p().data[start..start + COLUMN_BYTES_PER_BIT * w as usize + SLACK];
            read_column(col, w, b.base[f], &mut rows, f);
        }
        if b.chained {
            // Field 0 holds the first start and field 1 each end less it: back to starts
            // and durations.
            let mut end_before = 0i64;
            for r in rows.iter_mut() {
                let end = r[1];
                r[0] = r[0].wrapping_add(end_before);
                r[1] = end.wrapping_sub(end_before);
                end_before = end;
            }
        }
        out.extend(rows.iter().map(S::from_fields));
    }
}

impl<S: Fields> lod::SpanTimes for Spans<S> {
    fn span_count(&self) -> usize {
        self.len()
    }
    fn start_at(&self, i: usize) -> i64 {
        Spans::start_at(self, i)
    }
    fn end_at(&self, i: usize) -> i64 {
        Spans::end_at(self, i)
    }
    fn times_at(&self, i: usize) -> (i64, i64) {
        Spans::times_at(self, i)
    }
}

/// Spans in order, decoded a block at a time.
pub struct Iter<'a, S> {
    spans: &'a Spans<S>,
    next: usize,
    /// `spans.len()`.
    end: usize,
    buf: Vec<S>,
    /// Index of `buf[0]` (`usize::MAX`: nothing decoded yet).
    buf_first: usize,
}

impl<S: Fields> Iterator for Iter<'_, S> {
    type Item = S;

    #[inline]
    fn next(&mut self) -> Option<S> {
        if self.next >= self.end {
            return None;
        }
        let s = match self.buf.get(self.next.wrapping_sub(self.buf_first)) {
            Some(&s) => s,
            None => {
                let bi = self.next / BLOCK;
                self.spans.decode_block(bi, &mut self.buf);
                self.buf_first = bi * BLOCK;
                self.buf[self.next - self.buf_first]
            }
        };
        self.next += 1;
        Some(s)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.end.saturating_sub(self.next);
        (n, Some(n))
    }
}

impl<S: Fields> ExactSizeIterator for Iter<'_, S> {}

impl<S: Fields> FromIterator<S> for Spans<S> {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        let mut out = Spans::default();
        for s in iter {
            out.push(s);
        }
        out
    }
}

/// Reads one packed block's times and categories, with its columns looked up once.
struct BlockReader<'a> {
    data: &'a [u8],
    chained: bool,
    /// Column start, width and base of fields 0 (start), 1 (duration or chained end) and
    /// the category's.
    cols: [(usize, u8, i64); 3],
    has_category: bool,
    top_category: usize,
}

impl<'a> BlockReader<'a> {
    fn new<S: Fields>(spans: &'a Spans<S>, b: Block<'a>) -> BlockReader<'a> {
        let col = |f: usize| (b.field_start(f), b.width[f], b.base[f]);
        BlockReader {
            data: &spans.p().data,
            chained: b.chained,
            cols: [col(0), col(1), S::SHARE_FIELD.map_or((0, 0, 0), col)],
            has_category: S::SHARE_FIELD.is_some(),
            top_category: S::SHARES.clamp(1, lod::MAX_SHARES) - 1,
        }
    }

    #[inline]
    fn value(&self, c: usize, k: usize) -> i64 {
        let (col, w, base) = self.cols[c];
        base.wrapping_add(read(self.data, col, k, w) as i64)
    }

    /// Span `k`'s start and end.
    #[inline]
    fn times(&self, k: usize) -> (i64, i64) {
        if self.chained {
            // Field 0's base is the first start; field 1 each end less it.
            let first = self.cols[0].2;
            let end = |k| first.wrapping_add(self.value(1, k));
            let start = if k == 0 { first } else { end(k - 1) };
            (start, end(k))
        } else {
            let start = self.value(0, k);
            (start, start.wrapping_add(self.value(1, k)))
        }
    }

    /// Span `k`'s start.
    #[inline]
    fn start(&self, k: usize) -> i64 {
        match (self.chained, k) {
            (true, 0) => self.cols[0].2,
            (true, k) => self.end(k - 1),
            (false, k) => self.value(0, k),
        }
    }

    /// Span `k`'s end.
    #[inline]
    fn end(&self, k: usize) -> i64 {
        if self.chained {
            self.cols[0].2.wrapping_add(self.value(1, k))
        } else {
            self.value(0, k).wrapping_add(self.value(1, k))
        }
    }

    /// Span `k + 1`'s start, given span `k`'s end (the same, chained; past the block's
    /// last span, unused).
    #[inline]
    fn start_after(&self, k: usize, end: i64) -> i64 {
        if self.chained || k + 1 >= BLOCK {
            end
        } else {
            self.value(0, k + 1)
        }
    }

    /// Span `k - 1`'s end, given span `k`'s start (the same, chained).
    #[inline]
    fn end_before(&self, k: usize, start: i64) -> i64 {
        if self.chained || k == 0 {
            start
        } else {
            self.end(k - 1)
        }
    }

    #[inline]
    fn category(&self, k: usize) -> usize {
        if !self.has_category {
            return 0;
        }
        usize::try_from(self.value(2, k)).map_or(0, |v| v.min(self.top_category))
    }
}

/// A span's category from its fields (see `Fields::SHARES`).
fn category_of<S: Fields>(f: &[i64; MAX_FIELDS]) -> usize {
    match S::SHARE_FIELD {
        Some(k) => clamp_category::<S>(f[k]),
        None => 0,
    }
}

/// A category field's value as an index below `S::SHARES` (and `lod::MAX_SHARES`).
fn clamp_category<S: Fields>(v: i64) -> usize {
    let top = S::SHARES.clamp(1, lod::MAX_SHARES) - 1;
    usize::try_from(v).map_or(0, |v| v.min(top))
}

/// Written as the plain vector it stands for, so dumps of models compare across layouts.
impl<S: Fields + fmt::Debug> fmt::Debug for Spans<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<S: Fields + PartialEq> PartialEq for Spans<S> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq)]
    struct T {
        start: i64,
        end: i64,
        a: i64,
        b: u8,
    }

    impl Fields for T {
        const FIELDS: usize = 4;
        const CHAINS: bool = true;
        fn to_fields(&self) -> [i64; MAX_FIELDS] {
            [
                self.start,
                self.end.wrapping_sub(self.start),
                self.a,
                self.b as i64,
                0,
                0,
                0,
                0,
            ]
        }
        fn from_fields(f: &[i64; MAX_FIELDS]) -> Self {
            T {
                start: f[0],
                end: f[0].wrapping_add(f[1]),
                a: f[2],
                b: f[3] as u8,
            }
        }
    }

    /// Spans with every kind of field: short and huge gaps and lengths, constant fields,
    /// negative and extreme values. With `chain`, spans follow one another without a gap
    /// but for every 150th (so most blocks are stored chained, some not).
    fn sample(n: usize, chain: bool) -> Vec<T> {
        let mut x: u64 = 7;
        let mut t = i64::MIN / 2;
        (0..n)
            .map(|i| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let len = match (x >> 60) % 3 {
                    0 => 0,
                    1 => (x >> 40) as i64 % 1_000,
                    _ => (x >> 10) as i64 % 20_000_000_000,
                };
                let s = T {
                    start: t,
                    end: t + len,
                    a: match i % 5 {
                        0 => -1,
                        1 => i64::MAX,
                        2 => i64::MIN,
                        _ => (x >> 20) as i64,
                    },
                    b: (i % 3) as u8,
                };
                t += len
                    + match chain {
                        false => (x >> 50) as i64 % 500,
                        true if i % 150 == 149 => (x >> 50) as i64 % 500 + 1,
                        true => 0,
                    };
                s
            })
            .collect()
    }

    #[test]
    fn spans_read_back_as_pushed() {
        for (n, chain) in [0, 1, 63, 64, 65, 200, 1_000]
            .into_iter()
            .flat_map(|n| [(n, false), (n, true)])
        {
            let v = sample(n, chain);
            let p: Spans<T> = v.iter().copied().collect();
            assert_eq!(p.len(), n);
            assert_eq!(p.to_vec(), v, "{n} spans");
            for (i, s) in v.iter().enumerate() {
                assert_eq!(p.at(i), *s);
                assert_eq!((p.start_at(i), p.end_at(i)), (s.start, s.end));
                assert_eq!(p.times_at(i), (s.start, s.end));
                for f in 0..T::FIELDS {
                    assert_eq!(p.field_at(i, f), s.to_fields()[f], "field {f} of {i}");
                }
            }
            if n == 1_000 {
                // Both ways of storing blocks are read above.
                assert_eq!(p.p().chained.contains(&true), chain);
                assert!(p.p().chained.contains(&false));
            }
            for from in [0, 1, 64, 130, n] {
                assert!(p.iter_from(from).eq(v.iter().skip(from).copied()));
            }
            assert_eq!(p.get(n), None);
            assert_eq!(p.last(), v.last().copied());
            let starts: Vec<i64> = v.iter().step_by(BLOCK).map(|s| s.start).collect();
            assert_eq!(p.block_starts(), starts.as_slice());
        }
    }

    /// Runs `check` on `n` sample spans, plain and packed, both without and with chained
    /// blocks.
    fn each_sample(n: usize, check: impl Fn(&[T], &Spans<T>)) {
        for chain in [false, true] {
            let v = sample(n, chain);
            check(&v, &v.iter().copied().collect());
        }
    }

    #[test]
    fn one_field_reads_as_the_spans_hold_it() {
        each_sample(700, one_field_reads);
    }

    fn one_field_reads(v: &[T], p: &Spans<T>) {
        for (a, b) in [
            (0, 0),
            (0, 700),
            (3, 64),
            (63, 65),
            (100, 650),
            (640, 700),
            (690, 999),
        ] {
            for f in 0..T::FIELDS {
                let mut got = Vec::new();
                p.for_each_field(f, a, b, |x| got.push(x));
                let want: Vec<i64> = v[a.min(700)..b.min(700)]
                    .iter()
                    .map(|s| s.to_fields()[f])
                    .collect();
                assert_eq!(got, want, "field {f} of {a}..{b}");
            }
        }
    }

    #[test]
    fn searches_by_time_agree_with_the_plain_vector() {
        each_sample(3_000, searches_agree);
    }

    fn searches_agree(v: &[T], p: &Spans<T>) {
        for s in v.iter().step_by(37) {
            for t in [s.start - 1, s.start, s.start + 1, s.end] {
                assert_eq!(
                    p.count_starting(|s| s < t),
                    v.partition_point(|x| x.start < t)
                );
                assert_eq!(p.count_ending_by(t), v.partition_point(|x| x.end <= t));
            }
        }
    }

    /// Offsets of every width from 0 to 64 bits, beside neighbours of other widths, read
    /// back exactly (widths over 56 bits take the two-word path).
    #[test]
    fn every_width_reads_back() {
        let mut x: u64 = 11;
        for w in 0..=64u32 {
            let mask = if w == 64 { u64::MAX } else { (1u64 << w) - 1 };
            let v: Vec<T> = (0..3 * BLOCK as i64)
                .map(|i| {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    // The block's extremes are there, so the width is exactly `w`.
                    let a = match i % BLOCK as i64 {
                        0 => 0,
                        1 => mask,
                        _ => x & mask,
                    };
                    T {
                        start: i * 3,
                        end: i * 3 + (x >> 61) as i64,
                        a: i64::MIN.wrapping_add(a as i64),
                        b: (x >> 13) as u8,
                    }
                })
                .collect();
            let p: Spans<T> = v.iter().copied().collect();
            assert_eq!(p.p().widths[2], w as u8);
            for (i, s) in v.iter().enumerate() {
                assert_eq!(p.at(i), *s, "width {w}, span {i}");
                assert_eq!(p.field_at(i, 2), s.a, "width {w}, span {i}");
            }
            assert_eq!(p.to_vec(), v, "width {w}");
        }
    }

    #[test]
    fn constant_fields_take_no_bytes() {
        let v: Vec<T> = (0..6_400)
            .map(|i| T {
                start: i * 100,
                end: i * 100 + 50,
                a: -1,
                b: 2,
            })
            .collect();
        let p: Spans<T> = v.iter().copied().collect();
        // Starts need 13 bits (offsets up to 6,300); lengths, `a` and `b` none. The last
        // block is not packed yet.
        assert_eq!(p.p().data.len(), (6_400 / BLOCK - 1) * 13 * 8 + SLACK);
        assert_eq!(p.to_vec(), v);
    }
}
