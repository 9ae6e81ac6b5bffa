//! Helpers for the crate's unit tests.

/// Numbers below `n` from a fixed seed (xorshift): the same sequence on every run, so a
/// test over random cases fails the same way each time.
pub(crate) fn numbers(seed: u64) -> impl FnMut(u64) -> u64 {
    let mut state = seed;
    move |n| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    }
}
