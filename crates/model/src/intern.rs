//! Deduplicated strings, frames and stacks shared by the whole model (trace tables are per generation).

use rustc_hash::FxHashMap;

use goscope_trace::Tables;

/// A string id in `Interner::strings`; 0 is the empty string.
pub type StrId = u32;
/// A stack id in `Interner::stacks`; 0 is the empty stack.
pub type StackId = u32;

/// One stack frame, with strings interned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Frame {
    pub pc: u64,
    pub func: StrId,
    pub file: StrId,
    pub line: u32,
}

/// Strings, frames and stacks, each stored once.
#[derive(Clone, Debug)]
pub struct Interner {
    strings: Vec<Box<str>>,
    string_ids: FxHashMap<Box<str>, StrId>,
    frames: Vec<Frame>,
    frame_ids: FxHashMap<Frame, u32>,
    /// Stack id → range in `stack_frames`.
    stacks: Vec<(u32, u32)>,
    stack_frames: Vec<u32>,
    stack_ids: FxHashMap<Box<[u32]>, StackId>,
    /// Per-generation caches from the trace's ids to ours.
    cache_gen: u64,
    string_cache: IdCache,
    stack_cache: IdCache,
}

/// Trace ids below this are cached in a vector (the runtime numbers strings and stacks
/// from 1 up); larger ones in a hash map.
const DENSE_CACHE_LIMIT: u64 = 1 << 20;

/// A map from one generation's trace ids to ours: a vector for small ids, a hash map above.
#[derive(Clone, Debug, Default)]
struct IdCache {
    /// Our id + 1 per trace id; 0 for not yet known.
    dense: Vec<u32>,
    sparse: FxHashMap<u64, u32>,
}

impl IdCache {
    #[inline]
    fn get(&self, id: u64) -> Option<u32> {
        if id < DENSE_CACHE_LIMIT {
            match self.dense.get(id as usize) {
                Some(&v) if v != 0 => Some(v - 1),
                _ => None,
            }
        } else {
            self.sparse.get(&id).copied()
        }
    }

    fn insert(&mut self, id: u64, ours: u32) {
        if id < DENSE_CACHE_LIMIT {
            let i = id as usize;
            if i >= self.dense.len() {
                self.dense.resize(i + 1, 0);
            }
            self.dense[i] = ours + 1;
        } else {
            self.sparse.insert(id, ours);
        }
    }

    fn clear(&mut self) {
        self.dense.clear();
        self.sparse.clear();
    }
}

impl Default for Interner {
    fn default() -> Self {
        Self::new()
    }
}

impl Interner {
    pub fn new() -> Self {
        let mut i = Interner {
            strings: Vec::new(),
            string_ids: FxHashMap::default(),
            frames: Vec::new(),
            frame_ids: FxHashMap::default(),
            stacks: vec![(0, 0)],
            stack_frames: Vec::new(),
            stack_ids: FxHashMap::default(),
            cache_gen: u64::MAX,
            string_cache: IdCache::default(),
            stack_cache: IdCache::default(),
        };
        i.intern("");
        i
    }

    pub fn intern(&mut self, s: &str) -> StrId {
        if let Some(&id) = self.string_ids.get(s) {
            return id;
        }
        let id = self.strings.len() as StrId;
        self.strings.push(s.into());
        self.string_ids.insert(s.into(), id);
        id
    }

    pub fn string(&self, id: StrId) -> &str {
        self.strings.get(id as usize).map_or("", |s| s)
    }

    pub fn frame(&self, id: u32) -> Frame {
        self.frames[id as usize]
    }

    /// The frames of a stack, innermost first.
    pub fn stack(&self, id: StackId) -> impl Iterator<Item = Frame> + '_ {
        let (start, len) = self.stacks.get(id as usize).copied().unwrap_or((0, 0));
        self.stack_frames[start as usize..(start + len) as usize]
            .iter()
            .map(|&f| self.frames[f as usize])
    }

    /// How many strings and stacks there are (ids run from 0 below these).
    pub fn string_count(&self) -> usize {
        self.strings.len()
    }

    pub fn stack_count(&self) -> usize {
        self.stacks.len()
    }

    pub fn stack_len(&self, id: StackId) -> usize {
        self.stacks.get(id as usize).map_or(0, |s| s.1 as usize)
    }

    /// Looks up a string by text without adding it.
    pub fn find(&self, s: &str) -> Option<StrId> {
        self.string_ids.get(s).copied()
    }

    #[inline(always)]
    fn switch_generation(&mut self, tables: &Tables) {
        if self.cache_gen != tables.generation {
            self.new_generation(tables.generation);
        }
    }

    #[cold]
    #[inline(never)]
    fn new_generation(&mut self, generation: u64) {
        self.cache_gen = generation;
        self.string_cache.clear();
        self.stack_cache.clear();
    }

    /// Our id for a string id of the trace's current generation.
    #[inline(always)]
    pub(crate) fn trace_string(&mut self, tables: &Tables, id: u64) -> StrId {
        if id == 0 {
            return 0;
        }
        self.switch_generation(tables);
        match self.string_cache.get(id) {
            Some(s) => s,
            None => self.new_trace_string(tables, id),
        }
    }

    /// `trace_string` of an id not seen yet in this generation.
    #[cold]
    #[inline(never)]
    fn new_trace_string(&mut self, tables: &Tables, id: u64) -> StrId {
        let s = self.intern(tables.string(id).unwrap_or(""));
        self.string_cache.insert(id, s);
        s
    }

    /// Our id for a stack id of the trace's current generation.
    #[inline(always)]
    pub(crate) fn trace_stack(&mut self, tables: &Tables, id: u64) -> StackId {
        if id == 0 {
            return 0;
        }
        self.switch_generation(tables);
        match self.stack_cache.get(id) {
            Some(s) => s,
            None => self.new_trace_stack(tables, id),
        }
    }

    /// `trace_stack` of an id not seen yet in this generation.
    #[cold]
    #[inline(never)]
    fn new_trace_stack(&mut self, tables: &Tables, id: u64) -> StackId {
        let mut frames: Vec<u32> = Vec::new();
        for (pc, func, file, line) in tables.stack_frames(id) {
            let f = Frame {
                pc,
                func: self.intern(func),
                file: self.intern(file),
                line: line as u32,
            };
            let fid = match self.frame_ids.get(&f) {
                Some(&x) => x,
                None => {
                    let x = self.frames.len() as u32;
                    self.frames.push(f);
                    self.frame_ids.insert(f, x);
                    x
                }
            };
            frames.push(fid);
        }
        let sid = match self.stack_ids.get(frames.as_slice()) {
            Some(&s) => s,
            None => {
                let s = self.stacks.len() as StackId;
                self.stacks
                    .push((self.stack_frames.len() as u32, frames.len() as u32));
                self.stack_frames.extend_from_slice(&frames);
                self.stack_ids.insert(frames.into_boxed_slice(), s);
                s
            }
        };
        self.stack_cache.insert(id, sid);
        sid
    }

    /// Drops the lookup maps once the model is built; ids stay valid. Whichever generation
    /// was read last, a sealed interner is the same (a window built in pieces has the one
    /// built whole).
    pub(crate) fn seal(&mut self) {
        self.cache_gen = u64::MAX;
        self.frame_ids = FxHashMap::default();
        self.stack_ids = FxHashMap::default();
        self.string_cache = IdCache::default();
        self.stack_cache = IdCache::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_stored_once() {
        let mut i = Interner::new();
        assert_eq!(i.intern(""), 0);
        let a = i.intern("main.main");
        let b = i.intern("main.main");
        assert_eq!(a, b);
        assert_eq!(i.string(a), "main.main");
        assert_eq!(i.stack_len(0), 0);
    }
}
