//! What the timeline marks in its lanes: goroutines (the selected one, a search's matches)
//! and single goroutine spans (a search's matches), kept as a set of spans that takes a bit
//! a span.

/// What to mark in the lanes: goroutines (the selected one, search matches) and single
/// goroutine spans (search matches).
#[derive(Clone, Copy)]
pub struct Highlight<'a> {
    /// Sorted by id.
    pub goroutines: &'a [i64],
    pub spans: &'a SpanSet,
}

impl Default for Highlight<'_> {
    fn default() -> Self {
        Highlight {
            goroutines: &[],
            spans: &NO_SPANS,
        }
    }
}

impl Highlight<'_> {
    pub(crate) fn has_goroutine(&self, g: i64) -> bool {
        self.goroutines.binary_search(&g).is_ok()
    }

    /// Whether any of spans `first..first + count` of goroutine `g_index` is marked.
    pub(crate) fn has_spans(&self, g_index: usize, first: usize, count: usize) -> bool {
        self.spans.any_in(g_index, first..first + count)
    }
}

/// A set of goroutine spans, by goroutine index and span index: a bit a span of each
/// goroutine that has one in the set, so that a query matching most of a dense window's
/// millions of spans takes a bit for each, not a list of them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpanSet {
    /// Per goroutine index, a bit per span index, up to the last one in the set.
    bits: Vec<Vec<u64>>,
    len: usize,
}

/// No spans (a highlight of none).
pub static NO_SPANS: SpanSet = SpanSet {
    bits: Vec::new(),
    len: 0,
};

impl SpanSet {
    pub fn insert(&mut self, g_index: usize, span: usize) {
        if self.bits.len() <= g_index {
            self.bits.resize_with(g_index + 1, Vec::new);
        }
        let words = &mut self.bits[g_index];
        let (word, bit) = (span / 64, 1u64 << (span % 64));
        if words.len() <= word {
            words.resize(word + 1, 0);
        }
        if words[word] & bit == 0 {
            words[word] |= bit;
            self.len += 1;
        }
    }

    /// Bytes the set holds on the heap.
    pub fn heap_bytes(&self) -> usize {
        self.bits.capacity() * std::mem::size_of::<Vec<u64>>()
            + self.bits.iter().map(|w| w.capacity() * 8).sum::<usize>()
    }

    /// How many spans are in the set.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether any span of goroutine `g_index` in `spans` (indices) is in the set.
    pub fn any_in(&self, g_index: usize, spans: std::ops::Range<usize>) -> bool {
        let Some(words) = self.bits.get(g_index) else {
            return false;
        };
        let end = spans.end.min(words.len() * 64);
        let mut i = spans.start;
        while i < end {
            let word = i / 64;
            // Bits `i % 64` up to `end`'s within this word.
            let high = (end - word * 64).min(64);
            let mask = (u64::MAX >> (64 - high)) & (u64::MAX << (i % 64));
            if words[word] & mask != 0 {
                return true;
            }
            i = (word + 1) * 64;
        }
        false
    }

    /// The spans in the set: (goroutine index, span index), in order.
    pub fn iter(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.bits.iter().enumerate().flat_map(|(g, words)| {
            words.iter().enumerate().flat_map(move |(w, &bits)| {
                (0..64)
                    .filter(move |b| bits & (1 << b) != 0)
                    .map(move |b| (g, w * 64 + b))
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A span set answers as the sorted list of its spans does, across words and
    /// goroutines.
    #[test]
    fn a_span_set_answers_as_a_list_of_its_spans_does() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        for round in 0..200 {
            let (goroutines, spans) = (1 + next(5), 1 + next(300));
            let mut set = SpanSet::default();
            let mut list = std::collections::BTreeSet::new();
            for _ in 0..next(40) {
                let (g, i) = (next(goroutines), next(spans));
                set.insert(g, i);
                list.insert((g, i));
            }
            assert_eq!(set.len(), list.len(), "round {round}");
            assert_eq!(
                set.iter().collect::<Vec<_>>(),
                list.iter().copied().collect::<Vec<_>>()
            );
            for _ in 0..50 {
                let g = next(goroutines + 1);
                let a = next(spans + 70);
                let b = a + next(200);
                let want = list.range((g, a)..(g, b)).next().is_some();
                assert_eq!(set.any_in(g, a..b), want, "round {round}: G{g} {a}..{b}");
            }
        }
    }
}
