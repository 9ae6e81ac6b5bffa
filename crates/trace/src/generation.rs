//! Decodes the bodies of one generation's batches: string and stack tables, frequency and
//! clock snapshot, CPU samples, experimental batches, and each M's events with ns times.
//!
//! Body layouts (after the batch's kind byte):
//! ```text
//! strings   { 5, uvarint id, uvarint len (<= 1024), len bytes }*
//! stacks    { 3, uvarint id, uvarint n (<= 128), n x { uvarint pc, func string id, file string id, line } }*
//! samples   { 7, uvarint ticks, uvarint M, uvarint P, uvarint G (0 = none), uvarint stack id }*
//! frequency 8, uvarint ticks per second                       (formats 22, 23: the whole body)
//! sync      { 8, uvarint ticks per second | 51, uvarint dt, mono, sec, nsec }*   (format 25+)
//! events    { type byte, uvarint tick delta, spec-many uvarint args }*
//! ```
//! Generations are independent of each other here, so the reader decodes them in parallel.

use std::collections::HashMap;
use std::sync::Arc;

use super::batch::{BatchKind, GenerationSpan, Version};
use super::bytes::{Cursor, uvarint};
use super::error::{Error, Result};
use super::spec::*;

/// The maximum length of a string in the string table.
pub const MAX_STRING_LEN: u64 = 1024;
/// The maximum number of frames in a stack.
pub const MAX_FRAMES: u64 = 128;

/// A table from wire ids to values: dense when the ids are, sorted otherwise.
#[derive(Clone, Debug, Default)]
pub struct IdTable<T> {
    dense: Vec<Option<T>>,
    sparse: Vec<(u64, T)>,
}

impl<T> IdTable<T> {
    /// Builds the table; a repeated id is an error (returned as the id).
    pub(crate) fn build(mut entries: Vec<(u64, T)>) -> std::result::Result<Self, u64> {
        entries.sort_by_key(|e| e.0);
        if let Some(w) = entries.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(w[0].0);
        }
        let max = entries.last().map_or(0, |e| e.0);
        if max < 2 * entries.len() as u64 + 64 {
            let mut dense: Vec<Option<T>> = Vec::new();
            dense.resize_with(max as usize + 1, || None);
            for (id, v) in entries {
                dense[id as usize] = Some(v);
            }
            Ok(IdTable {
                dense,
                sparse: Vec::new(),
            })
        } else {
            Ok(IdTable {
                dense: Vec::new(),
                sparse: entries,
            })
        }
    }

    /// The value for `id`; id 0 is never in the table (it means "none").
    #[inline]
    pub fn get(&self, id: u64) -> Option<&T> {
        if !self.dense.is_empty() {
            return self.dense.get(id as usize).and_then(|v| v.as_ref());
        }
        self.sparse
            .binary_search_by_key(&id, |e| e.0)
            .ok()
            .map(|i| &self.sparse[i].1)
    }

    /// Every (id, value), in id order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, &T)> {
        let dense = self
            .dense
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.as_ref().map(|v| (i as u64, v)));
        let sparse = self.sparse.iter().map(|(i, v)| (*i, v));
        dense.chain(sparse)
    }

    /// A table of entries whose ids are known to be distinct (a later entry of the same
    /// id wins otherwise).
    pub(crate) fn from_unique(mut entries: Vec<(u64, T)>) -> Self {
        entries.sort_by_key(|e| e.0);
        entries.dedup_by(|b, a| {
            if a.0 == b.0 {
                std::mem::swap(a, b);
                true
            } else {
                false
            }
        });
        Self::build(entries).unwrap_or(IdTable {
            dense: Vec::new(),
            sparse: Vec::new(),
        })
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.dense.iter().filter(|v| v.is_some()).count() + self.sparse.len()
    }

    /// Whether the table has no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One stack frame as the table states it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Program counter.
    pub pc: u64,
    /// String id of the function name.
    pub func: u64,
    /// String id of the file name.
    pub file: u64,
    /// Line number.
    pub line: u64,
}

/// The clock snapshot of a sync batch (format 25+).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockSnapshot {
    /// The trace clock at the snapshot, in ticks.
    pub trace_ticks: u64,
    /// Monotonic clock at the snapshot, in ns.
    pub mono_ns: u64,
    /// Wall clock at the snapshot: seconds since the Unix epoch.
    pub wall_sec: u64,
    /// Wall clock at the snapshot: nanoseconds within the second.
    pub wall_nsec: u64,
}

/// An experimental batch's raw body.
#[derive(Clone, Debug)]
pub struct ExperimentalBatch {
    /// Experiment id.
    pub experiment: u8,
    /// The thread that wrote the batch.
    pub m: i64,
    /// File offset of the body's first byte.
    pub body_offset: u64,
    /// Body length in bytes.
    pub len: usize,
}

/// The per-generation tables every event of the generation refers to.
#[derive(Clone, Debug, Default)]
pub struct Tables {
    /// Generation number.
    pub generation: u64,
    /// String id → string.
    pub strings: IdTable<Box<str>>,
    /// Stack id → range in `stack_pcs`.
    pub stacks: IdTable<(u32, u32)>,
    /// The pcs of every stack, back to back.
    pub stack_pcs: Vec<u64>,
    /// The first frame seen for each pc in this generation.
    pub frames: HashMap<u64, Frame>,
    /// Nanoseconds per tick, computed as Go does (1 / (ticks_per_second / 1e9)).
    pub ns_per_tick: f64,
    /// The sync batch's clock snapshot, if any (format 25+).
    pub clock: Option<ClockSnapshot>,
    /// The generation's experimental batches.
    pub experimental: Vec<ExperimentalBatch>,
    /// Strings the ordering pass attaches to events (task names carried across
    /// generations); an event refers to one by index + 1.
    pub extra_strings: Vec<Box<str>>,
}

impl Tables {
    /// A string by id; id 0 is the empty string.
    #[inline]
    pub fn string(&self, id: u64) -> Option<&str> {
        if id == 0 {
            return Some("");
        }
        self.strings.get(id).map(|s| &**s)
    }

    /// A stack's pcs by id; id 0 is the empty stack.
    #[inline]
    pub fn stack(&self, id: u64) -> Option<&[u64]> {
        if id == 0 {
            return Some(&[]);
        }
        self.stacks
            .get(id)
            .map(|&(start, len)| &self.stack_pcs[start as usize..(start + len) as usize])
    }

    /// Whether a stack id is defined (id 0, the empty stack, always is).
    #[inline]
    pub fn has_stack(&self, id: u64) -> bool {
        id == 0 || self.stacks.get(id).is_some()
    }

    /// The frames of a stack, innermost first: (pc, function, file, line).
    pub fn stack_frames(&self, id: u64) -> impl Iterator<Item = (u64, &str, &str, u64)> + '_ {
        self.stack(id)
            .unwrap_or(&[])
            .iter()
            .map(move |pc| match self.frames.get(pc) {
                Some(f) => (
                    f.pc,
                    self.string(f.func).unwrap_or(""),
                    self.string(f.file).unwrap_or(""),
                    f.line,
                ),
                None => (*pc, "", "", 0),
            })
    }

    /// A string added by the ordering pass, by id; "" for 0 or an unknown id.
    pub fn extra_string(&self, id: u64) -> &str {
        if id == 0 {
            return "";
        }
        self.extra_strings.get(id as usize - 1).map_or("", |s| s)
    }

    /// Adds a string for the ordering pass; returns its id (0 for "").
    pub fn add_extra_string(&mut self, s: &str) -> u64 {
        if s.is_empty() {
            return 0;
        }
        if let Some(i) = self.extra_strings.iter().position(|x| &**x == s) {
            return i as u64 + 1;
        }
        self.extra_strings.push(s.into());
        self.extra_strings.len() as u64
    }

    /// Converts ticks to ns exactly as Go's reader does (float64 multiply, truncate).
    #[inline]
    pub fn ns(&self, ticks: u64) -> i64 {
        ns_from_ticks(ticks, self.ns_per_tick)
    }
}

/// Ticks to ns as Go computes it: a float64 product truncated to int64. Like Go on amd64,
/// a product that is not a number or does not fit (a zero frequency makes it infinite)
/// becomes i64::MIN rather than saturating.
#[inline]
pub fn ns_from_ticks(ticks: u64, ns_per_tick: f64) -> i64 {
    let ns = ticks as f64 * ns_per_tick;
    if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&ns) {
        ns as i64
    } else {
        i64::MIN
    }
}

/// How a generation's ticks become ns: Go's float64 product (`ns_from_ticks`), done as a
/// shift when a tick is a power of two of nanoseconds up to 1,024 (Go writes 64 ns a tick
/// on every platform but Windows) and the ticks fit a float64's 53 bits, where the product
/// is exact and so is the same number. It saves the float conversions on every event.
#[derive(Clone, Copy, Debug)]
pub struct TickScale {
    ns_per_tick: f64,
    /// `ns_per_tick` is 2 to this power; `NO_SHIFT` when it is no such power.
    shift: u32,
}

const NO_SHIFT: u32 = u32::MAX;

impl TickScale {
    /// The scale of a generation with `ns_per_tick` (its `Tables::ns_per_tick`).
    pub fn new(ns_per_tick: f64) -> Self {
        let shift = (0..=10)
            .find(|&k| ns_per_tick == (1u64 << k) as f64)
            .unwrap_or(NO_SHIFT);
        TickScale { ns_per_tick, shift }
    }

    /// `ticks` in ns, as `ns_from_ticks` gives them.
    #[inline(always)]
    pub fn ns(self, ticks: u64) -> i64 {
        if self.shift != NO_SHIFT && ticks < 1 << 53 {
            // Below 2^53 << 10, so it fits an i64.
            (ticks << self.shift) as i64
        } else {
            ns_from_ticks(ticks, self.ns_per_tick)
        }
    }
}

/// An event as read from an M's batches, before ordering.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawEvent {
    /// Timestamp in ns.
    pub time_ns: i64,
    /// Arguments after the tick delta.
    pub args: [u64; 4],
    /// File offset of the event's type byte.
    pub offset: u64,
    /// Wire event type.
    pub typ: EvType,
}

/// One of an M's event batches, body not yet decoded.
#[derive(Clone, Copy, Debug)]
pub struct EventBatch<'a> {
    /// The batch body.
    pub body: &'a [u8],
    /// File offset of the body's first byte.
    pub body_offset: u64,
    /// Base timestamp in ticks.
    pub time_ticks: u64,
}

/// One M's event batches in a generation, in program order. Events are decoded lazily by
/// an `MCursor` while ordering, so a generation never holds its events in memory.
#[derive(Clone, Debug)]
pub struct MStream<'a> {
    /// The thread.
    pub m: i64,
    /// Its event batches.
    pub batches: Vec<EventBatch<'a>>,
}

/// A read position in an M's batches.
#[derive(Clone, Copy, Debug, Default)]
pub struct MCursor {
    batch: usize,
    pos: usize,
    last_ns: i64,
}

/// A uvarint at `body[*pos..]`, moving `pos` past it. Most are one byte, read inline.
#[inline(always)]
fn read_uvarint(body: &[u8], pos: &mut usize) -> Option<u64> {
    if let Some(&b) = body.get(*pos) {
        if b < 0x80 {
            *pos += 1;
            return Some(b as u64);
        }
    }
    let (v, n) = uvarint(body.get(*pos..)?)?;
    *pos += n;
    Some(v)
}

/// An event's wire fields: the time delta still in ticks.
struct Fields {
    typ: EvType,
    dt_ticks: u64,
    args: [u64; 4],
    offset: u64,
    /// The base timestamp of the event's batch, in ticks.
    batch_ticks: u64,
}

impl MCursor {
    /// The index of the batch it reads in (its stream's batch count once at the end).
    #[inline(always)]
    pub(crate) fn batch(&self) -> usize {
        self.batch
    }

    /// Decodes the next event of `stream`: `Ok(None)` at its end. Each batch restarts the
    /// clock at its base timestamp; each event's time is the previous event's ns plus its
    /// own delta converted to ns (Go's arithmetic, so times match to the nanosecond).
    #[inline]
    pub fn next(
        &mut self,
        stream: &MStream<'_>,
        scale: TickScale,
        gen_no: Option<u64>,
    ) -> Result<Option<RawEvent>> {
        let mut ev = RawEvent {
            time_ns: 0,
            args: [0; 4],
            offset: 0,
            typ: 0,
        };
        Ok(self
            .next_into(stream, scale, gen_no, &mut ev)?
            .then_some(ev))
    }

    /// `next`, written into `ev`: `Ok(false)` at the end of the stream (`ev` untouched).
    #[inline(always)]
    pub fn next_into(
        &mut self,
        stream: &MStream<'_>,
        scale: TickScale,
        gen_no: Option<u64>,
        ev: &mut RawEvent,
    ) -> Result<bool> {
        let Some(f) = self.fields(stream, gen_no)? else {
            return Ok(false);
        };
        if self.last_ns == 0 {
            self.last_ns = scale.ns(f.batch_ticks);
        }
        let time_ns = scale.ns(f.dt_ticks).wrapping_add(self.last_ns);
        self.last_ns = time_ns;
        ev.time_ns = time_ns;
        ev.args = f.args;
        ev.offset = f.offset;
        ev.typ = f.typ;
        Ok(true)
    }

    /// The next event's type and arguments, without its time (cheaper: for a look over a
    /// generation before ordering it). Don't mix with `next` on one cursor.
    #[inline]
    pub fn skim(
        &mut self,
        stream: &MStream<'_>,
        gen_no: Option<u64>,
    ) -> Result<Option<(EvType, [u64; 4])>> {
        Ok(self.fields(stream, gen_no)?.map(|f| (f.typ, f.args)))
    }

    #[inline(always)]
    fn fields(&mut self, stream: &MStream<'_>, gen_no: Option<u64>) -> Result<Option<Fields>> {
        let b = loop {
            let Some(b) = stream.batches.get(self.batch) else {
                return Ok(None);
            };
            if self.pos < b.body.len() {
                break b;
            }
            self.batch += 1;
            self.pos = 0;
            self.last_ns = 0;
        };
        let body = b.body;
        let offset = b.body_offset + self.pos as u64;
        let typ = body[self.pos];
        let brief = BRIEFS[typ as usize];
        if !brief.timed {
            return Err(Error::malformed(
                offset,
                gen_no,
                "a timed event type",
                format!("type {typ}"),
            ));
        }
        let mut pos = self.pos + 1;
        let Some(dt_ticks) = read_uvarint(body, &mut pos) else {
            return Err(Error::malformed(
                offset,
                gen_no,
                "a timestamp delta varint",
                "bad or cut varint",
            ));
        };
        let mut args = [0u64; 4];
        for a in args.iter_mut().take(brief.args as usize) {
            let Some(v) = read_uvarint(body, &mut pos) else {
                return Err(Error::malformed(
                    offset,
                    gen_no,
                    "the event's argument varints",
                    format!("{} cut short", spec(typ).map_or("?", |s| s.name)),
                ));
            };
            *a = v;
        }
        self.pos = pos;
        Ok(Some(Fields {
            typ,
            dt_ticks,
            args,
            offset,
            batch_ticks: b.time_ticks,
        }))
    }
}

/// A CPU profile sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuSample {
    /// Timestamp in ns.
    pub time_ns: i64,
    /// Thread (M) id, or `NONE`.
    pub m: i64,
    /// P id, or `NONE`.
    pub p: i64,
    /// Goroutine id, or `NONE`.
    pub g: i64,
    /// Stack id.
    pub stack: u64,
}

/// A decoded generation, ready for ordering.
#[derive(Clone, Debug)]
pub struct Generation<'a> {
    /// Generation number.
    pub generation: u64,
    /// File offset where the generation's first batch begins.
    pub offset: u64,
    /// File offset just past its last byte.
    pub end_offset: u64,
    /// Shared with the events' consumer (the pipelined reader sends it along with them).
    pub tables: Arc<Tables>,
    /// The smallest batch base timestamp, in ticks.
    pub min_ticks: u64,
    /// Ms in order of their first batch in the file.
    pub ms: Vec<MStream<'a>>,
    /// Sorted by time (stable).
    pub cpu_samples: Vec<CpuSample>,
}

/// Decodes one generation's batches.
pub fn decode<'a>(data_version: Version, span: &GenerationSpan<'a>) -> Result<Generation<'a>> {
    let gen_no = Some(span.generation);
    let mut strings: Vec<(u64, Box<str>)> = Vec::new();
    let mut stacks: Vec<(u64, (u32, u32))> = Vec::new();
    let mut stack_pcs: Vec<u64> = Vec::new();
    let mut frames: HashMap<u64, Frame> = HashMap::new();
    let mut freq: Option<u64> = None;
    let mut clock: Option<ClockSnapshot> = None;
    let mut experimental = Vec::new();
    let mut sample_ticks: Vec<(u64, CpuSample)> = Vec::new();
    let mut event_batches: Vec<MStream<'a>> = Vec::new();
    let mut m_index: HashMap<i64, usize> = HashMap::new();
    let mut min_ticks = 0u64;

    for b in &span.batches {
        if min_ticks == 0 || b.time_ticks < min_ticks {
            min_ticks = b.time_ticks;
        }
        let mut c = Cursor::new(b.body, b.body_offset, gen_no);
        match b.kind(data_version) {
            BatchKind::Strings => {
                c.byte("strings batch kind")?;
                while !c.is_empty() {
                    let at = c.offset();
                    let t = c.byte("a string entry")?;
                    if t != EV_STRING {
                        return Err(Error::malformed(
                            at,
                            gen_no,
                            "a string entry (type 5)",
                            format!("type {t}"),
                        ));
                    }
                    let id = c.uvarint("a string id")?;
                    let len_at = c.offset();
                    let len = c.uvarint("a string length")?;
                    if len > MAX_STRING_LEN {
                        return Err(Error::malformed(
                            len_at,
                            gen_no,
                            "a string of at most 1024 bytes",
                            format!("length {len}"),
                        ));
                    }
                    let bytes = c.bytes(len as usize, "string bytes")?;
                    strings.push((id, String::from_utf8_lossy(bytes).into()));
                }
            }
            BatchKind::Stacks => {
                c.byte("stacks batch kind")?;
                while !c.is_empty() {
                    let at = c.offset();
                    let t = c.byte("a stack entry")?;
                    if t != EV_STACK {
                        return Err(Error::malformed(
                            at,
                            gen_no,
                            "a stack entry (type 3)",
                            format!("type {t}"),
                        ));
                    }
                    let id = c.uvarint("a stack id")?;
                    let n_at = c.offset();
                    let n = c.uvarint("a stack's frame count")?;
                    if n > MAX_FRAMES {
                        return Err(Error::malformed(
                            n_at,
                            gen_no,
                            "at most 128 frames",
                            format!("{n} frames"),
                        ));
                    }
                    let start = stack_pcs.len() as u32;
                    for _ in 0..n {
                        let pc = c.uvarint("a frame's pc")?;
                        let func = c.uvarint("a frame's function string id")?;
                        let file = c.uvarint("a frame's file string id")?;
                        let line = c.uvarint("a frame's line")?;
                        stack_pcs.push(pc);
                        frames.entry(pc).or_insert(Frame {
                            pc,
                            func,
                            file,
                            line,
                        });
                    }
                    stacks.push((id, (start, n as u32)));
                }
            }
            BatchKind::CpuSamples => {
                c.byte("CPU samples batch kind")?;
                while !c.is_empty() {
                    let at = c.offset();
                    let t = c.byte("a CPU sample")?;
                    if t != EV_CPU_SAMPLE {
                        return Err(Error::malformed(
                            at,
                            gen_no,
                            "a CPU sample (type 7)",
                            format!("type {t}"),
                        ));
                    }
                    let ticks = c.uvarint("a CPU sample's timestamp")?;
                    let m = c.uvarint("a CPU sample's M")? as i64;
                    let p = c.uvarint("a CPU sample's P")? as i64;
                    let g = c.uvarint("a CPU sample's G")?;
                    let stack = c.uvarint("a CPU sample's stack id")?;
                    let g = if g == 0 { -1 } else { g as i64 };
                    sample_ticks.push((
                        ticks,
                        CpuSample {
                            time_ns: 0,
                            m,
                            p,
                            g,
                            stack,
                        },
                    ));
                }
            }
            BatchKind::Sync => {
                if data_version >= Version::GO125 {
                    c.byte("sync batch kind")?;
                }
                let mut last_ticks = b.time_ticks;
                while !c.is_empty() {
                    let at = c.offset();
                    let t = c.byte("a frequency or clock snapshot")?;
                    match t {
                        EV_FREQUENCY => {
                            if freq.is_some() {
                                return Err(Error::malformed(
                                    at,
                                    gen_no,
                                    "one frequency event",
                                    "a second one",
                                ));
                            }
                            let f = c.uvarint("the tick frequency")?;
                            freq = Some(f);
                        }
                        EV_CLOCK_SNAPSHOT if data_version >= Version::GO125 => {
                            if clock.is_some() {
                                return Err(Error::malformed(
                                    at,
                                    gen_no,
                                    "one clock snapshot",
                                    "a second one",
                                ));
                            }
                            let dt = c.uvarint("the clock snapshot's time delta")?;
                            last_ticks = last_ticks.wrapping_add(dt);
                            let mono_ns = c.uvarint("the monotonic clock")?;
                            let wall_sec = c.uvarint("the wall clock seconds")?;
                            let wall_nsec = c.uvarint("the wall clock nanoseconds")?;
                            clock = Some(ClockSnapshot {
                                trace_ticks: last_ticks,
                                mono_ns,
                                wall_sec,
                                wall_nsec,
                            });
                        }
                        _ => {
                            return Err(Error::malformed(
                                at,
                                gen_no,
                                "a frequency (8) or clock snapshot (51) event",
                                format!("type {t}"),
                            ));
                        }
                    }
                }
            }
            BatchKind::Experimental => experimental.push(ExperimentalBatch {
                experiment: b.experiment,
                m: b.m,
                body_offset: b.body_offset,
                len: b.body.len(),
            }),
            BatchKind::Events => {
                let i = *m_index.entry(b.m).or_insert_with(|| {
                    event_batches.push(MStream {
                        m: b.m,
                        batches: Vec::new(),
                    });
                    event_batches.len() - 1
                });
                event_batches[i].batches.push(EventBatch {
                    body: b.body,
                    body_offset: b.body_offset,
                    time_ticks: b.time_ticks,
                });
            }
        }
    }

    let Some(freq) = freq else {
        return Err(Error::malformed(
            span.offset,
            gen_no,
            "a frequency event in every generation",
            "none",
        ));
    };
    if data_version >= Version::GO125 && clock.is_none() {
        return Err(Error::malformed(
            span.offset,
            gen_no,
            "a clock snapshot in every generation",
            "none",
        ));
    }
    let ns_per_tick = 1.0 / (freq as f64 / 1e9);

    let strings = IdTable::build(strings).map_err(|id| {
        Error::malformed(
            span.offset,
            gen_no,
            "unique string ids",
            format!("string id {id} twice"),
        )
    })?;
    let stacks = IdTable::build(stacks).map_err(|id| {
        Error::malformed(
            span.offset,
            gen_no,
            "unique stack ids",
            format!("stack id {id} twice"),
        )
    })?;
    let mut tables = Tables {
        generation: span.generation,
        strings,
        stacks,
        stack_pcs,
        frames,
        ns_per_tick,
        clock,
        experimental,
        extra_strings: Vec::new(),
    };
    // Every frame's strings must exist.
    for (id, _) in tables.stacks.iter() {
        for pc in tables.stack(id).unwrap_or(&[]) {
            let f = tables.frames[pc];
            for s in [f.func, f.file] {
                if tables.string(s).is_none() {
                    return Err(Error::malformed(
                        span.offset,
                        gen_no,
                        "stack frames naming known strings",
                        format!("string id {s} in stack {id}"),
                    ));
                }
            }
        }
    }
    tables.extra_strings.clear();

    let ms = event_batches;

    let mut cpu_samples: Vec<CpuSample> = sample_ticks
        .into_iter()
        .map(|(ticks, mut s)| {
            s.time_ns = ns_from_ticks(ticks, ns_per_tick);
            s
        })
        .collect();
    cpu_samples.sort_by_key(|s| s.time_ns);

    Ok(Generation {
        generation: span.generation,
        offset: span.offset,
        end_offset: span.end_offset,
        tables: Arc::new(tables),
        min_ticks,
        ms,
        cpu_samples,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::scan;

    #[test]
    fn a_tick_scale_gives_gos_float_product_for_every_tick() {
        let ticks = (0..64)
            .flat_map(|k| {
                let p = 1u64 << k;
                [p - 1, p, p + 1, p.wrapping_mul(3) / 2]
            })
            .chain([u64::MAX, 1 << 53, (1 << 53) - 1, (1 << 53) + 1, 123_456_789]);
        let mut shifted = 0;
        for ns_per_tick in [
            1.0, 2.0, 64.0, 1024.0, 2048.0, 0.5, 1.5, 41.666_666, 0.0, 1e30,
        ] {
            let scale = TickScale::new(ns_per_tick);
            shifted += usize::from(scale.shift != NO_SHIFT);
            for t in ticks.clone() {
                assert_eq!(
                    scale.ns(t),
                    ns_from_ticks(t, ns_per_tick),
                    "{t} ticks of {ns_per_tick} ns"
                );
            }
        }
        // 1, 2, 64 and 1024 ns a tick go by shifts; 2048 could overflow, and the rest are
        // no powers of two.
        assert_eq!(shifted, 4);
    }

    fn file(v: u32, batches: &[(u64, u64, u64, Vec<u8>)]) -> Vec<u8> {
        let mut f = format!("go 1.{v} trace\0\0\0").into_bytes();
        for (g, m, t, body) in batches {
            f.push(1);
            for x in [*g, *m, *t, body.len() as u64] {
                let mut x = x;
                while x >= 0x80 {
                    f.push(x as u8 | 0x80);
                    x >>= 7;
                }
                f.push(x as u8);
            }
            f.extend_from_slice(body);
        }
        f
    }

    #[rustfmt::skip]
    #[test]
    fn tables_and_events_of_one_generation() {
        let f = file(23, &[
            // frequency: 1e9 ticks per second (1 ns per tick)
            (1, 0, 0, vec![8, 0x80, 0x94, 0xeb, 0xdc, 0x03]),
            // strings: 1 = "main", 2 = "a.go"
            (1, 0, 0, vec![4, 5, 1, 4, b'm', b'a', b'i', b'n', 5, 2, 4, b'a', b'.', b'g', b'o']),
            // stacks: id 1 = one frame pc 0x10, func 1, file 2, line 7
            (1, 0, 0, vec![2, 3, 1, 1, 0x10, 1, 2, 7]),
            // M 5 events at base 100 ticks: ProcStatus(p=0, idle) dt=2; GoCreate(g=9, stack 1, stack 0) dt=3
            (1, 5, 100, vec![13, 2, 0, 2, 14, 3, 9, 1, 0]),
        ]);
        let s = scan(&f).unwrap();
        let g = decode(s.version, &s.generations[0]).unwrap();
        assert_eq!(g.tables.ns_per_tick, 1.0);
        assert_eq!(g.tables.string(1), Some("main"));
        assert_eq!(g.tables.string(0), Some(""));
        assert_eq!(g.tables.string(3), None);
        let frames: Vec<_> = g.tables.stack_frames(1).collect();
        assert_eq!(frames, vec![(0x10, "main", "a.go", 7)]);
        assert_eq!(g.ms.len(), 1);
        let ev = events_of(&g, 0).unwrap();
        assert_eq!(ev.len(), 2);
        assert_eq!((ev[0].typ, ev[0].time_ns, ev[0].args[0], ev[0].args[1]), (EV_PROC_STATUS, 102, 0, 2));
        assert_eq!((ev[1].typ, ev[1].time_ns, ev[1].args[0], ev[1].args[1]), (EV_GO_CREATE, 105, 9, 1));
    }

    fn events_of(g: &Generation<'_>, i: usize) -> Result<Vec<RawEvent>> {
        let mut c = MCursor::default();
        let mut v = Vec::new();
        while let Some(e) = c.next(
            &g.ms[i],
            TickScale::new(g.tables.ns_per_tick),
            Some(g.generation),
        )? {
            v.push(e);
        }
        Ok(v)
    }

    #[rustfmt::skip]
    #[test]
    fn cut_event_is_reported_after_the_good_ones() {
        let f = file(23, &[
            (1, 0, 0, vec![8, 1]),          // 1 tick per second
            (1, 5, 1, vec![11, 0, 14, 1]),  // ProcStop ok, GoCreate missing args
        ]);
        let s = scan(&f).unwrap();
        let g = decode(s.version, &s.generations[0]).unwrap();
        let mut c = MCursor::default();
        assert!(c.next(&g.ms[0], TickScale::new(g.tables.ns_per_tick), None).unwrap().is_some());
        let e = c.next(&g.ms[0], TickScale::new(g.tables.ns_per_tick), None).unwrap_err();
        assert!(e.to_string().contains("GoCreate"), "{e}");
    }

    #[test]
    fn missing_frequency_is_an_error() {
        let f = file(23, &[(1, 5, 1, vec![11, 0])]);
        let s = scan(&f).unwrap();
        let e = decode(s.version, &s.generations[0]).unwrap_err();
        assert!(e.to_string().contains("frequency"), "{e}");
    }

    #[test]
    fn duplicate_string_ids_are_an_error() {
        let f = file(
            23,
            &[
                (1, 0, 0, vec![8, 1]),
                (1, 0, 0, vec![4, 5, 1, 1, b'a', 5, 1, 1, b'b']),
            ],
        );
        let s = scan(&f).unwrap();
        assert!(decode(s.version, &s.generations[0]).is_err());
    }
}
