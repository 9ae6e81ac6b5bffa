//! The frontier: each thread's next event, as a binary min-heap on the event time kept with
//! the same sift rules as Go's reader, so that events with equal times come out in the same
//! order as Go's; and the sort Go falls back to when no event at the top can advance.

/// Something the frontier orders by time.
pub(crate) trait Timed {
    /// The time it is ordered by.
    fn time_ns(&self) -> i64;
}

/// Adds `c`, rising past strictly later entries.
pub(crate) fn heap_push<T: Timed + Copy>(h: &mut Vec<T>, c: T) {
    h.push(c);
    let i = h.len() - 1;
    heap_replace(h, i, c);
}

/// Puts `c` at `i` in place of what was there, and moves it up or down to where the sift
/// rules put it. The same places as storing it and sifting with swaps; but `c` stays in
/// registers until its place is found, where a swap would read back the entry just
/// written in one wider load, and wait for that store (a store-forwarding stall on
/// nearly every event).
pub(super) fn heap_replace<T: Timed + Copy>(h: &mut [T], mut i: usize, c: T) {
    let t = c.time_ns();
    let start = i;
    while i > 0 && h[(i - 1) / 2].time_ns() > t {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    if i == start {
        loop {
            let mut m = i;
            let mut best = t;
            for k in [2 * i + 1, 2 * i + 2] {
                if k < h.len() && h[k].time_ns() < best {
                    best = h[k].time_ns();
                    m = k;
                }
            }
            if m == i {
                break;
            }
            h[i] = h[m];
            i = m;
        }
    }
    h[i] = c;
}

/// Takes entry `i` out: it rises to the top whatever its time, and the last entry takes
/// its place there and sinks.
pub(crate) fn heap_remove<T: Timed + Copy>(h: &mut Vec<T>, mut i: usize) {
    while i > 0 {
        h.swap((i - 1) / 2, i);
        i = (i - 1) / 2;
    }
    let Some(last) = h.pop() else { return };
    if !h.is_empty() {
        heap_replace(h, 0, last);
    }
}

/// Sorts the frontier by time. Go sorts it with pdqsort, which is an insertion sort (and so
/// stable) for up to 12 elements; a stable sort gives the same order there.
pub(super) fn insertion_sort<T: Timed>(h: &mut [T]) {
    for i in 1..h.len() {
        let mut j = i;
        while j > 0 && h[j].time_ns() < h[j - 1].time_ns() {
            h.swap(j, j - 1);
            j -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (time, name): names tell equal times apart.
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct E(i64, char);

    impl Timed for E {
        fn time_ns(&self) -> i64 {
            self.0
        }
    }

    fn names(h: &[E]) -> String {
        h.iter().map(|e| e.1).collect()
    }

    /// Pops the minimum until empty, as the ordering takes the top.
    fn drain(mut h: Vec<E>) -> String {
        let mut out = String::new();
        while !h.is_empty() {
            out.push(h[0].1);
            heap_remove(&mut h, 0);
        }
        out
    }

    #[test]
    fn the_top_is_the_earliest() {
        let mut h = Vec::new();
        for e in [E(5, 'a'), E(3, 'b'), E(9, 'c'), E(1, 'd'), E(7, 'e')] {
            heap_push(&mut h, e);
        }
        assert_eq!(drain(h), "dbaec");
    }

    /// Equal times are not taken in insertion order: an element rises or sinks only past
    /// strictly later ones, as in Go's heap. These orders were worked out by hand from
    /// those rules.
    #[test]
    fn equal_times_follow_the_sift_rules() {
        let mut h = Vec::new();
        for e in [E(1, 'a'), E(1, 'b'), E(1, 'c'), E(0, 'd')] {
            heap_push(&mut h, e);
        }
        // d rises over b then a: [d, a, c, b].
        assert_eq!(names(&h), "dacb");
        // Removing d puts the last element, b, on top, and it does not sink below equal
        // children: b is taken before a, though a was pushed first.
        assert_eq!(drain(h), "dbca");
        let mut h = Vec::new();
        for e in [E(2, 'a'), E(1, 'b'), E(1, 'c')] {
            heap_push(&mut h, e);
        }
        // b rises over a; c (equal to b) stays below: [b, a, c].
        assert_eq!(names(&h), "bac");
        assert_eq!(drain(h), "bca");
    }

    #[test]
    fn a_replaced_element_moves_either_way() {
        let mut h = Vec::new();
        for e in [E(1, 'a'), E(2, 'b'), E(3, 'c'), E(4, 'd')] {
            heap_push(&mut h, e);
        }
        heap_replace(&mut h, 0, E(10, 'a'));
        assert_eq!(h[0].1, 'b');
        let i = h.iter().position(|e| e.1 == 'd').unwrap();
        heap_replace(&mut h, i, E(0, 'd'));
        assert_eq!(drain(h), "dbca");
    }

    /// Replacing an element puts everything where storing it and sifting with swaps
    /// would, equal times included: checked against that, on heaps of up to 40 elements
    /// with times drawn from a few values (so many are equal).
    #[test]
    fn replacing_equals_storing_and_sifting() {
        // Go's sifts, with swaps: the reference `heap_replace` is checked against.
        fn sift_up(h: &mut [E], mut i: usize) -> usize {
            while i > 0 && h[(i - 1) / 2].time_ns() > h[i].time_ns() {
                h.swap((i - 1) / 2, i);
                i = (i - 1) / 2;
            }
            i
        }
        fn sift_down(h: &mut [E], mut i: usize) {
            loop {
                let mut m = i;
                let mut best = h[i].time_ns();
                for c in [2 * i + 1, 2 * i + 2] {
                    if c < h.len() && h[c].time_ns() < best {
                        best = h[c].time_ns();
                        m = c;
                    }
                }
                if m == i {
                    return;
                }
                h.swap(i, m);
                i = m;
            }
        }
        fn sifted(h: &mut [E], i: usize) {
            if sift_up(h, i) == i {
                sift_down(h, i);
            }
        }
        let mut next = crate::testing::numbers(0x9e37_79b9_7f4a_7c15);
        for round in 0..2000 {
            let len = 1 + (round % 40) as usize;
            let mut h = Vec::new();
            for k in 0..len {
                heap_push(&mut h, E(next(6) as i64, (b'a' + k as u8) as char));
            }
            let i = next(len as u64) as usize;
            let new = E(next(6) as i64, h[i].1);
            let mut by_swaps = h.clone();
            by_swaps[i] = new;
            sifted(&mut by_swaps, i);
            heap_replace(&mut h, i, new);
            assert_eq!(h, by_swaps, "round {round}");
        }
    }

    /// The fallback sort is stable: equal times keep their places (Go's pdqsort is an
    /// insertion sort for frontiers of up to 12 threads).
    #[test]
    fn the_fallback_sort_is_stable() {
        let mut h = vec![E(3, 'a'), E(1, 'b'), E(3, 'c'), E(1, 'd'), E(2, 'e')];
        insertion_sort(&mut h);
        assert_eq!(names(&h), "bdeac");
    }
}
