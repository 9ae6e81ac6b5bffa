//! The ordering's state of each goroutine, processor and thread, the ranges in flight on
//! them, and the GC's: what the state machine reads and changes for every event, and what a
//! speculative run guesses and checks.

use rustc_hash::FxHashMap;

use crate::event::NONE;
use crate::spec::*;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Seq {
    pub(super) generation: u64,
    pub(super) n: u64,
}

impl Seq {
    pub(super) fn follows(self, prev: Seq) -> bool {
        self.generation == prev.generation && self.n == prev.n.wrapping_add(1)
    }
}

/// A special range in flight on a goroutine or P: its begin type and optional string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct RangeKey {
    pub(super) begin: EvType,
    pub(super) desc: u64,
}

pub(super) fn range_key(typ: EvType, desc: u64) -> RangeKey {
    let begin = match spec(typ) {
        Some(s) if s.start_ev != 0 => s.start_ev,
        _ => typ,
    };
    RangeKey { begin, desc }
}

#[derive(Clone, Debug, Default)]
pub(super) struct Ranges(pub(super) Vec<RangeKey>);

impl Ranges {
    pub(super) fn begin(&mut self, k: RangeKey) -> std::result::Result<(), String> {
        if self.0.contains(&k) {
            return Err(format!(
                "{} begins while already in flight",
                name_of(k.begin)
            ));
        }
        self.0.push(k);
        Ok(())
    }

    pub(super) fn active(
        &mut self,
        k: RangeKey,
        first_gen: bool,
    ) -> std::result::Result<(), String> {
        if first_gen {
            if self.0.contains(&k) {
                return Err(format!(
                    "{} active twice in the first generation",
                    name_of(k.begin)
                ));
            }
            self.0.push(k);
        } else if !self.0.contains(&k) {
            return Err(format!("{} active but not in flight", name_of(k.begin)));
        }
        Ok(())
    }

    /// Ends the range begun by the matching begin type; returns its desc.
    pub(super) fn end(&mut self, typ: EvType) -> std::result::Result<u64, String> {
        let begin = spec(typ).map_or(0, |s| s.start_ev);
        match self.0.iter().position(|r| r.begin == begin) {
            Some(i) => Ok(self.0.swap_remove(i).desc),
            None => Err(format!(
                "{} ends a range that is not in flight",
                name_of(typ)
            )),
        }
    }
}

pub(super) fn name_of(typ: EvType) -> &'static str {
    spec(typ).map_or("?", |s| s.name)
}

#[derive(Clone, Debug, Default)]
pub(super) struct GState {
    pub(super) status: u64,
    pub(super) seq: Seq,
    /// Active user regions: (task, name).
    pub(super) regions: Vec<(u64, Box<str>)>,
    pub(super) ranges: Ranges,
}

#[derive(Clone, Debug)]
pub(super) struct PState {
    pub(super) status: u64,
    pub(super) seq: Seq,
    pub(super) ranges: Ranges,
}

#[derive(Clone, Copy, Debug)]
pub(super) struct MState {
    pub(super) g: i64,
    pub(super) p: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum GcState {
    Undetermined,
    NotRunning,
    Running,
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Ctx {
    pub(super) g: i64,
    pub(super) p: i64,
    pub(super) m: i64,
}

/// Thread states: a vector with an index by id, so each event's M is found without hashing
/// (its frontier cursor remembers the slot). Slots are created on an M's first event, as
/// Go's reader creates M states.
#[derive(Clone, Default)]
pub(super) struct MTable {
    pub(super) states: Vec<(i64, MState)>,
    pub(super) index: FxHashMap<i64, usize>,
}

impl MTable {
    pub(super) fn slot(&mut self, m: i64) -> usize {
        if let Some(&i) = self.index.get(&m) {
            return i;
        }
        self.states.push((m, MState { g: NONE, p: NONE }));
        self.index.insert(m, self.states.len() - 1);
        self.states.len() - 1
    }

    pub(super) fn get(&self, m: i64) -> Option<&MState> {
        self.index.get(&m).map(|&i| &self.states[i].1)
    }

    pub(super) fn get_mut(&mut self, m: i64) -> Option<&mut MState> {
        self.index.get(&m).map(|&i| &mut self.states[i].1)
    }

    pub(super) fn insert(&mut self, m: i64, st: MState) {
        let i = self.slot(m);
        self.states[i].1 = st;
    }
}
