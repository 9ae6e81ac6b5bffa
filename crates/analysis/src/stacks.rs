//! Stacks that outlive their generation: interns the per-generation stack ids of the
//! trace into trace-wide ids, deduplicated by their pcs, with their frames resolved.
//!
//! Go dedups profile stacks by the pcs of their frames alone (a stack restated in a
//! later generation gets a new id there but is the same stack), and so does this
//! table. A stack with trailing pc-0 frames keeps them, but `canonical` maps it to
//! the stack without them, since Go's key can't tell the two apart.

use rustc_hash::FxHashMap;

use goscope_trace::Tables;

/// A trace-wide stack id. `StackId::EMPTY` is the stack with no frames, which also
/// stands for "no stack".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct StackId(pub u32);

impl StackId {
    pub(crate) const EMPTY: StackId = StackId(0);
}

/// One frame of a stack, with its strings interned in the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame {
    pub pc: u64,
    pub func: u32,
    pub file: u32,
    pub line: u64,
}

/// Trace-wide stacks and the strings of their frames.
#[derive(Debug)]
pub struct StackTable {
    /// Frames of all stacks, back to back; `stacks[i]` is a range in it.
    frames: Vec<Frame>,
    stacks: Vec<(u32, u32)>,
    /// Per stack, its canonical stack (see `canonical`).
    canon: Vec<StackId>,
    by_pcs: FxHashMap<Box<[u64]>, StackId>,
    strings: Vec<Box<str>>,
    string_ids: FxHashMap<Box<str>, u32>,
    /// The generation `local` caches ids for, and the cache itself.
    generation: Option<u64>,
    local: FxHashMap<u64, StackId>,
    scratch: Vec<u64>,
}

impl Default for StackTable {
    fn default() -> Self {
        Self::new()
    }
}

impl StackTable {
    pub fn new() -> Self {
        let mut t = StackTable {
            frames: Vec::new(),
            stacks: vec![(0, 0)],
            canon: vec![StackId::EMPTY],
            by_pcs: FxHashMap::default(),
            strings: Vec::new(),
            string_ids: FxHashMap::default(),
            generation: None,
            local: FxHashMap::default(),
            scratch: Vec::new(),
        };
        t.intern_string("");
        t.by_pcs.insert(Box::new([]), StackId::EMPTY);
        t
    }

    /// The trace-wide id of stack `id` of the generation `tables` belongs to.
    /// Unknown ids resolve to the empty stack, as Go's reader shows them.
    pub fn intern(&mut self, tables: &Tables, id: u64) -> StackId {
        if id == 0 {
            return StackId::EMPTY;
        }
        if self.generation != Some(tables.generation) {
            self.generation = Some(tables.generation);
            self.local.clear();
        }
        if let Some(&s) = self.local.get(&id) {
            return s;
        }
        self.scratch.clear();
        self.scratch
            .extend(tables.stack_frames(id).map(|(pc, ..)| pc));
        let s = match self.by_pcs.get(&self.scratch[..]) {
            Some(&s) => s,
            None => {
                let full = self.add(tables.stack_frames(id));
                // Go keys a stack by its frames' pcs zero-padded: without its trailing
                // pc-0 frames (pcs missing from the frame table) it is the same stack.
                let n = self
                    .scratch
                    .iter()
                    .rposition(|&pc| pc != 0)
                    .map_or(0, |i| i + 1);
                self.canon[full.0 as usize] = if n == self.scratch.len() {
                    full
                } else {
                    match self.by_pcs.get(&self.scratch[..n]) {
                        Some(&t) => t,
                        None => {
                            let t = self.add(tables.stack_frames(id).take(n));
                            self.by_pcs.insert(self.scratch[..n].into(), t);
                            t
                        }
                    }
                };
                self.by_pcs.insert(self.scratch.as_slice().into(), full);
                full
            }
        };
        self.local.insert(id, s);
        s
    }

    fn add<'t>(&mut self, frames: impl Iterator<Item = (u64, &'t str, &'t str, u64)>) -> StackId {
        let start = self.frames.len() as u32;
        for (pc, func, file, line) in frames {
            let func = self.intern_string(func);
            let file = self.intern_string(file);
            self.frames.push(Frame {
                pc,
                func,
                file,
                line,
            });
        }
        let s = StackId(self.stacks.len() as u32);
        self.stacks.push((start, self.frames.len() as u32 - start));
        self.canon.push(s);
        s
    }

    /// The stack `s` counts as when merging samples: itself, or the same stack
    /// without its trailing pc-0 frames.
    pub(crate) fn canonical(&self, s: StackId) -> StackId {
        self.canon.get(s.0 as usize).copied().unwrap_or(s)
    }

    /// The frames of a stack, innermost first.
    pub fn frames(&self, s: StackId) -> &[Frame] {
        match self.stacks.get(s.0 as usize) {
            Some(&(start, len)) => &self.frames[start as usize..(start + len) as usize],
            None => &[],
        }
    }

    /// An interned string (function or file name).
    pub fn string(&self, id: u32) -> &str {
        self.strings.get(id as usize).map_or("", |s| s)
    }

    /// Number of distinct stacks, the empty one included.
    pub fn len(&self) -> usize {
        self.stacks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.stacks.len() <= 1
    }

    fn intern_string(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.string_ids.get(s) {
            return i;
        }
        let i = self.strings.len() as u32;
        self.strings.push(s.into());
        self.string_ids.insert(s.into(), i);
        i
    }
}
