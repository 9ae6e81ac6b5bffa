//! The record of a generation ordered ahead of time, a few bytes per event: which thread's
//! stream (or CPU sample, Sync, or synthesized event) each ordered event came from and what
//! the ordering added to it, so that the stitch can rebuild the events from the trace bytes.
//!
//! An event taken from an M's stream is written as the stream's index plus only what the
//! bytes don't say: its P and goroutine when they differ from the stream's previous event,
//! a thread other than the stream's own (events emitted on another thread's behalf), and
//! the arguments the ordering changed (old states, task parents). A CPU sample is the next
//! sample of the generation, a Sync its time; synthesized events are written whole.

use crate::error::{Error, Result};
use crate::event::{Event, NONE};
use crate::generation::{Generation, MCursor, RawEvent, TickScale};

/// Where an ordered event came from, as the ordering pass tells the log.
#[derive(Clone, Copy, Debug)]
pub(super) struct Origin {
    /// Index of the M stream, or one of `SAMPLE`, `SYNC`, `MADE`.
    pub source: u32,
    /// Bit i: argument i differs from what the bytes (or the sample) say.
    pub changed_args: u8,
}

impl Origin {
    pub const SAMPLE: u32 = u32::MAX;
    pub const SYNC: u32 = u32::MAX - 1;
    pub const MADE: u32 = u32::MAX - 2;

    pub fn made() -> Origin {
        Origin {
            source: Self::MADE,
            changed_args: 0,
        }
    }

    pub fn sample() -> Origin {
        Origin {
            source: Self::SAMPLE,
            changed_args: 0,
        }
    }

    pub fn sync() -> Origin {
        Origin {
            source: Self::SYNC,
            changed_args: 0,
        }
    }

    /// Arguments `args` that differ from `raw`, as a mask.
    #[inline]
    pub fn changed(raw: &[u64; 4], args: &[u64; 4]) -> u8 {
        let mut mask = 0;
        for i in 0..4 {
            if raw[i] != args[i] {
                mask |= 1 << i;
            }
        }
        mask
    }
}

// The tag byte: the source in the low two bits, then flags.
const FROM_STREAM: u8 = 0;
const FROM_SAMPLE: u8 = 1;
const FROM_SYNC: u8 = 2;
const FROM_MADE: u8 = 3;
const OTHER_M: u8 = 1 << 2;
const P_CHANGED: u8 = 1 << 3;
const G_CHANGED: u8 = 1 << 4;
const ARGS_CHANGED: u8 = 1 << 5;

/// The log of one speculative run.
#[derive(Default)]
pub struct ReplayLog {
    bytes: Vec<u8>,
    events: usize,
    /// Per stream: its M, and the P and goroutine of its previous event.
    streams: Vec<(i64, i64, i64)>,
}

#[inline]
fn put(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// The mask of changed arguments, then their values.
#[inline]
fn put_changed(out: &mut Vec<u8>, mask: u8, args: &[u64; 4]) {
    out.push(mask);
    for (i, &a) in args.iter().enumerate() {
        if mask & (1 << i) != 0 {
            put(out, a);
        }
    }
}

#[inline]
fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

#[inline]
fn unzigzag(v: u64) -> i64 {
    (v >> 1) as i64 ^ -((v & 1) as i64)
}

/// Ids are stored plus one, so "none" (-1) is 0.
#[inline]
fn id(v: i64) -> u64 {
    v.wrapping_add(1) as u64
}

#[inline]
fn unid(v: u64) -> i64 {
    v.wrapping_sub(1) as i64
}

impl ReplayLog {
    /// Empties the log for a run over `gn`, keeping its memory.
    pub fn start(&mut self, gn: &Generation<'_>) {
        self.bytes.clear();
        self.events = 0;
        self.streams.clear();
        self.streams.extend(gn.ms.iter().map(|s| (s.m, NONE, NONE)));
    }

    /// Makes room for about `events` events (capacity only; pages are touched as written).
    pub fn reserve(&mut self, events: usize) {
        self.bytes.reserve(events.saturating_mul(3));
    }

    /// Bytes its memory holds (kept when it is emptied).
    pub fn capacity_bytes(&self) -> usize {
        self.bytes.capacity()
    }

    /// Events recorded.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.events
    }

    /// Bytes in use.
    #[cfg(test)]
    pub fn size_bytes(&self) -> usize {
        self.bytes.len()
    }

    /// Records an ordered event.
    #[inline]
    pub(super) fn record(&mut self, ev: &Event, origin: Origin) {
        self.events += 1;
        let out = &mut self.bytes;
        match origin.source {
            Origin::SYNC => {
                out.push(FROM_SYNC);
                put(out, zigzag(ev.time_ns));
            }
            Origin::MADE => {
                out.push(FROM_MADE);
                out.push(ev.typ);
                put(out, zigzag(ev.time_ns));
                put(out, id(ev.m));
                put(out, id(ev.p));
                put(out, id(ev.g));
                for a in ev.args {
                    put(out, a);
                }
            }
            Origin::SAMPLE => {
                if origin.changed_args == 0 {
                    out.push(FROM_SAMPLE);
                } else {
                    out.push(FROM_SAMPLE | ARGS_CHANGED);
                    put_changed(out, origin.changed_args, &ev.args);
                }
            }
            stream => {
                let Some(s) = self.streams.get_mut(stream as usize) else {
                    // Can't happen: the ordering only names streams of the generation.
                    return;
                };
                let mut tag = FROM_STREAM;
                let own = ev.m == s.0;
                if !own {
                    tag |= OTHER_M;
                }
                let (last_p, last_g) = if own { (s.1, s.2) } else { (NONE, NONE) };
                if ev.p != last_p {
                    tag |= P_CHANGED;
                }
                if ev.g != last_g {
                    tag |= G_CHANGED;
                }
                if origin.changed_args != 0 {
                    tag |= ARGS_CHANGED;
                }
                out.push(tag);
                put(out, stream as u64);
                if !own {
                    put(out, id(ev.m));
                }
                if tag & P_CHANGED != 0 {
                    put(out, id(ev.p));
                }
                if tag & G_CHANGED != 0 {
                    put(out, id(ev.g));
                }
                if origin.changed_args != 0 {
                    put_changed(out, origin.changed_args, &ev.args);
                }
                if own {
                    s.1 = ev.p;
                    s.2 = ev.g;
                }
            }
        }
    }

    /// Rebuilds the events in order from the log and the generation's bytes, passing each
    /// to `sink` (times as the run saw them). Fails only if the log and the generation
    /// don't belong together.
    pub fn replay(&self, gn: &Generation<'_>, mut sink: impl FnMut(Event)) -> Result<()> {
        let broken = |what: &str| {
            Error::broken(
                gn.offset,
                Some(gn.generation),
                format!("replaying a generation ordered ahead: {what}"),
            )
        };
        let mut r = Reader {
            bytes: &self.bytes,
            pos: 0,
        };
        let mut cursors = vec![MCursor::default(); gn.ms.len()];
        let mut last: Vec<(i64, i64)> = vec![(NONE, NONE); gn.ms.len()];
        let mut samples = gn.cpu_samples.iter();
        let scale = TickScale::new(gn.tables.ns_per_tick);
        let mut raw = RawEvent {
            time_ns: 0,
            args: [0; 4],
            offset: 0,
            typ: 0,
        };
        while let Some(tag) = r.byte() {
            let mut ev = match tag & 3 {
                FROM_SYNC => Event {
                    time_ns: unzigzag(r.varint()),
                    m: NONE,
                    p: NONE,
                    g: NONE,
                    args: [0; 4],
                    typ: crate::spec::EV_SYNC,
                },
                FROM_MADE => {
                    let typ = r.byte().unwrap_or(0);
                    let time_ns = unzigzag(r.varint());
                    let (m, p, g) = (unid(r.varint()), unid(r.varint()), unid(r.varint()));
                    let args = [r.varint(), r.varint(), r.varint(), r.varint()];
                    Event {
                        time_ns,
                        m,
                        p,
                        g,
                        args,
                        typ,
                    }
                }
                FROM_SAMPLE => Event::of_cpu_sample(
                    samples.next().ok_or_else(|| broken("no CPU sample left"))?,
                ),
                _ => {
                    let i = r.varint() as usize;
                    let (Some(stream), Some(cursor), Some(prev)) =
                        (gn.ms.get(i), cursors.get_mut(i), last.get_mut(i))
                    else {
                        return Err(broken("no such thread stream"));
                    };
                    if !cursor.next_into(stream, scale, Some(gn.generation), &mut raw)? {
                        return Err(broken("the thread's events ran out"));
                    }
                    let own = tag & OTHER_M == 0;
                    let m = if own { stream.m } else { unid(r.varint()) };
                    let (mut p, mut g) = if own { *prev } else { (NONE, NONE) };
                    if tag & P_CHANGED != 0 {
                        p = unid(r.varint());
                    }
                    if tag & G_CHANGED != 0 {
                        g = unid(r.varint());
                    }
                    if own {
                        *prev = (p, g);
                    }
                    Event {
                        time_ns: raw.time_ns,
                        m,
                        p,
                        g,
                        args: raw.args,
                        typ: raw.typ,
                    }
                }
            };
            if tag & 3 != FROM_SYNC && tag & 3 != FROM_MADE && tag & ARGS_CHANGED != 0 {
                let mask = r.byte().unwrap_or(0);
                for (i, a) in ev.args.iter_mut().enumerate() {
                    if mask & (1 << i) != 0 {
                        *a = r.varint();
                    }
                }
            }
            sink(ev);
        }
        Ok(())
    }
}

/// Reads back what `record` wrote; past the end (which can't happen) it yields zeros.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    #[inline(always)]
    fn byte(&mut self) -> Option<u8> {
        let b = self.bytes.get(self.pos).copied();
        self.pos += 1;
        b
    }

    #[inline(always)]
    fn varint(&mut self) -> u64 {
        let mut v = 0u64;
        let mut shift = 0u32;
        while let Some(&b) = self.bytes.get(self.pos) {
            self.pos += 1;
            v |= ((b & 0x7f) as u64).wrapping_shl(shift);
            if b < 0x80 {
                break;
            }
            shift += 7;
        }
        v
    }
}
