//! One pass over a v1 trace's bytes: the batches of each P, the string and stack tables, the frequency, timer goroutines, CPU samples, and what the streamed merge and conversion must know before the first event goes out; then each batch's events on demand.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::wire::{self, DESCS, Raw, ev};
use crate::bytes::Cursor;
use crate::error::{Error, Result};
use crate::generation::Frame;

/// The P id of Go's fake processors (ids above any real P).
pub mod fake_p {
    /// Timer unblocks (goroutines woken by the timer goroutine of Go ≤ 1.13).
    pub const TIMER: i32 = 1_000_001;
    /// Unblocks of goroutines that were blocked on the network.
    pub const NETPOLL: i32 = 1_000_002;
    /// Returns from system calls that blocked.
    pub const SYSCALL: i32 = 1_000_003;
    /// GC begins.
    pub const GC: i32 = 1_000_004;
}

/// A v1 event, decoded from its batch. `ts` is in ticks until the merge converts it to ns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct V1Event {
    /// Ticks (after the merge: ns since the first event).
    pub ts: i64,
    /// The goroutine the event is about or happened on (0: none).
    pub g: u64,
    /// The arguments after the tick delta, without the stack (a user log's message: see
    /// `log_message`).
    pub args: [u64; 3],
    /// The stack id (0: none).
    pub stack: u32,
    /// The P of the batch (or a `fake_p`), -1 for "no P".
    pub p: i32,
    /// The file offset of the event's type byte (for errors), with the `wire::ev` type in
    /// the top byte: events wait in the merge's batches and the reorder queue, so each
    /// byte less counts.
    at: u64,
}

impl V1Event {
    /// An event of type `typ` found at file offset `offset` (below 2^56).
    pub fn new(typ: u8, offset: u64) -> Self {
        V1Event {
            at: (offset & ((1 << 56) - 1)) | (typ as u64) << 56,
            ..V1Event::default()
        }
    }

    /// The `wire::ev` type.
    #[inline]
    pub fn typ(&self) -> u8 {
        (self.at >> 56) as u8
    }

    /// Changes the type (the merge turns the "local" variants into the plain ones).
    pub fn set_typ(&mut self, typ: u8) {
        self.at = (self.at & ((1 << 56) - 1)) | (typ as u64) << 56;
    }

    /// File offset of the event's type byte.
    pub fn offset(&self) -> u64 {
        self.at & ((1 << 56) - 1)
    }
}

/// Where one batch starts.
#[derive(Clone, Copy, Debug)]
pub struct BatchRef {
    /// File offset of the batch header.
    pub offset: usize,
    /// Events (of any type) in the batch, for sizing the buffer it is loaded into.
    pub events: u32,
}

/// Everything the index pass learns.
#[derive(Debug, Default)]
pub struct Index {
    /// The batches of each P, in file order, Ps in ascending order.
    pub procs: Vec<(i32, Vec<BatchRef>)>,
    /// String id → string.
    pub strings: Vec<(u64, Box<str>)>,
    /// Stack id → pcs (only stacks with frames; a stack stated again replaces the first).
    pub stacks: HashMap<u32, Vec<u64>>,
    /// The first frame seen for each pc.
    pub frames: HashMap<u64, Frame>,
    /// Ticks per second, when the trace states it.
    pub ticks_per_sec: Option<i64>,
    /// Goroutines that are timer goroutines.
    pub timer_goroutines: HashSet<u64>,
    /// CPU samples (time in ticks, sorted by it).
    pub cpu_samples: Vec<V1Event>,
    /// The real exit time (ticks) of every syscall exit that states one, ascending: a
    /// merged exit moves back to it, so events later than the earliest of these not
    /// merged yet cannot be given out.
    pub exit_ticks: Vec<i64>,
    /// The distinct user log messages, in file order, with the offset of the first event
    /// carrying each (they get string ids after the trace's own).
    pub messages: Vec<(Box<[u8]>, u64)>,
    /// The distinct name string ids of the tasks the trace begins, in file order.
    pub task_names: Vec<u64>,
    /// Set when the data ends or goes bad before the end of the file: the error, and the
    /// offset of the first byte not indexed (the last batch is only indexed up to there).
    pub cut: Option<Error>,
    /// Where the indexed data ends.
    pub end: usize,
}

/// Indexes the trace after the header. A structural error stops the index and is kept in
/// `cut`; what came before stays usable.
pub fn index(data: &[u8], version: u32) -> Index {
    let mut ix = Index::default();
    let mut by_p: HashMap<i32, Vec<BatchRef>> = HashMap::default();
    let mut current: Option<i32> = None;
    let mut seen_strings: HashSet<u64> = HashSet::default();
    let mut seen = Seen::default();
    let mut raw = Raw::default();
    let mut pos = crate::batch::HEADER_LEN.min(data.len());
    // Plain events read since the last other one, not yet counted in their batch.
    let mut plain: u32 = 0;
    let count = |by_p: &mut HashMap<i32, Vec<BatchRef>>, current: Option<i32>, n: &mut u32| {
        if let Some(b) = current
            .and_then(|p| by_p.get_mut(&p))
            .and_then(|v| v.last_mut())
        {
            b.events = b.events.saturating_add(*n);
        }
        *n = 0;
    };
    while pos < data.len() {
        // Most events need nothing but counting.
        if current.is_some() {
            if let Some(p) = wire::next_plain(data, pos, version) {
                if !matters_to_the_index(p.typ) {
                    plain += 1;
                    pos = p.end;
                    continue;
                }
            }
        }
        count(&mut by_p, current, &mut plain);
        let mut c = Cursor::new(&data[pos..], pos as u64, None);
        match wire::next(&mut c, version, &mut raw) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                ix.cut = Some(e);
                break;
            }
        }
        let r = check_and_keep(&raw, &mut ix, &mut by_p, &mut current, &mut seen_strings);
        if let Err(e) = r {
            ix.cut = Some(e);
            break;
        }
        seen.note(&raw, &mut ix);
        pos = c.offset() as usize;
    }
    count(&mut by_p, current, &mut plain);
    let end = pos;
    ix.end = end;
    let mut procs: Vec<_> = by_p.into_iter().collect();
    procs.sort_unstable_by_key(|(p, _)| *p);
    ix.procs = procs;
    ix.cpu_samples.sort_by_key(|e| e.ts);
    ix.exit_ticks.sort_unstable();
    ix
}

/// Whether the index pass keeps something of a plain event of type `typ` (else it only
/// counts it).
fn matters_to_the_index(typ: u8) -> bool {
    matches!(
        typ,
        ev::FREQUENCY
            | ev::TIMER_GOROUTINE
            | ev::CPU_SAMPLE
            | ev::GO_SYS_EXIT
            | ev::USER_TASK_CREATE
    )
}

/// What the index pass has seen of log messages and task names, to keep them distinct.
#[derive(Default)]
struct Seen {
    messages: HashSet<Box<[u8]>>,
    task_names: HashSet<u64>,
}

impl Seen {
    /// Notes what the streamed conversion needs of an event the index accepted.
    fn note(&mut self, raw: &Raw<'_>, ix: &mut Index) {
        match raw.typ {
            // Raw arguments: tick delta, g, seq, real exit ticks.
            ev::GO_SYS_EXIT if raw.args[3] != 0 => ix.exit_ticks.push(raw.args[3] as i64),
            ev::USER_LOG if !self.messages.contains(raw.text) => {
                self.messages.insert(raw.text.into());
                ix.messages.push((raw.text.into(), raw.offset));
            }
            // Tick delta, task id, parent id, name id, stack.
            ev::USER_TASK_CREATE if self.task_names.insert(raw.args[3]) => {
                ix.task_names.push(raw.args[3]);
            }
            _ => {}
        }
    }
}

fn check_and_keep(
    raw: &Raw<'_>,
    ix: &mut Index,
    by_p: &mut HashMap<i32, Vec<BatchRef>>,
    current: &mut Option<i32>,
    seen_strings: &mut HashSet<u64>,
) -> Result<()> {
    let off = raw.offset;
    match raw.typ {
        ev::STRING => {
            let id = raw.args[0];
            if !seen_strings.insert(id) {
                return Err(Error::malformed(
                    off,
                    None,
                    "a new string id",
                    format!("id {id} again"),
                ));
            }
            let s = String::from_utf8_lossy(raw.text);
            ix.strings.push((id, s.into()));
            return Ok(());
        }
        ev::BATCH => {
            let p = p_of(raw.args[0]);
            by_p.entry(p).or_default().push(BatchRef {
                offset: off as usize,
                events: 0,
            });
            *current = Some(p);
        }
        _ => {}
    }
    let Some(p) = *current else {
        return Err(Error::malformed(
            off,
            None,
            "a batch header first",
            format!("event type {}", raw.typ),
        ));
    };
    if let Some(b) = by_p.get_mut(&p).and_then(|v| v.last_mut()) {
        b.events = b.events.saturating_add(1);
    }
    match raw.typ {
        ev::FREQUENCY => {
            let f = raw.args[0] as i64;
            if f <= 0 {
                return Err(Error::malformed(
                    off,
                    None,
                    "a positive frequency",
                    raw.args[0].to_string(),
                ));
            }
            ix.ticks_per_sec = Some(f);
        }
        ev::TIMER_GOROUTINE => {
            ix.timer_goroutines.insert(raw.args[0]);
        }
        ev::STACK => {
            if raw.args.len() < 2 {
                return Err(Error::malformed(
                    off,
                    None,
                    "a stack id and frame count",
                    format!("{} values", raw.args.len()),
                ));
            }
            let frames = raw.args[1];
            if frames > wire::MAX_FRAMES {
                return Err(Error::malformed(
                    off,
                    None,
                    "at most 1000 frames",
                    frames.to_string(),
                ));
            }
            if raw.args.len() as u64 != 2 + 4 * frames {
                return Err(Error::malformed(
                    off,
                    None,
                    "4 values per frame",
                    format!("{} values for {frames} frames", raw.args.len()),
                ));
            }
            let id = raw.args[0] as u32;
            if id != 0 && frames > 0 {
                let mut pcs = Vec::with_capacity(frames as usize);
                for f in raw.args[2..].chunks_exact(4) {
                    pcs.push(f[0]);
                    ix.frames.entry(f[0]).or_insert(Frame {
                        pc: f[0],
                        func: f[1],
                        file: f[2],
                        line: f[3],
                    });
                }
                ix.stacks.insert(id, pcs);
            }
        }
        ev::CPU_SAMPLE => {
            let a = &raw.args;
            ix.cpu_samples.push(V1Event {
                ts: a[1] as i64,
                g: a[3],
                args: [0, a[2], a[3]],
                stack: a[4] as u32,
                p: a[2] as i32,
                ..V1Event::new(ev::CPU_SAMPLE, off)
            });
        }
        _ => {}
    }
    Ok(())
}

fn p_of(wire: u64) -> i32 {
    if wire == u64::MAX { -1 } else { wire as i32 }
}

/// Decodes a P's batches one at a time, carrying the P's current goroutine from one to the next.
#[derive(Debug)]
pub struct ProcCursor {
    /// The P.
    pub p: i32,
    batches: std::vec::IntoIter<BatchRef>,
    last_g: u64,
}

impl ProcCursor {
    /// A cursor over `batches` of P `p`.
    pub fn new(p: i32, batches: Vec<BatchRef>) -> Self {
        ProcCursor {
            p,
            batches: batches.into_iter(),
            last_g: 0,
        }
    }

    /// Decodes the next batch's events into `out` (cleared first); `Ok(false)` when there
    /// are no batches left. Stops at `end`, where the index stopped.
    pub fn next_batch(
        &mut self,
        data: &[u8],
        end: usize,
        version: u32,
        out: &mut Vec<V1Event>,
    ) -> Result<bool> {
        out.clear();
        let Some(b) = self.batches.next() else {
            return Ok(false);
        };
        out.reserve(b.events as usize);
        let end = end.max(b.offset).min(data.len());
        let within = &data[..end];
        let mut raw = Raw::default();
        let mut last_ts: i64 = 0;
        let mut header = false;
        let mut pos = b.offset;
        loop {
            let offset = pos as u64;
            let (typ, args, text) = match wire::next_plain(within, pos, version) {
                Some(p) => {
                    pos = p.end;
                    (p.typ, p.args, None)
                }
                None => {
                    let mut c = Cursor::new(&within[pos..], offset, None);
                    if !wire::next(&mut c, version, &mut raw)? {
                        break;
                    }
                    pos = c.offset() as usize;
                    match raw.typ {
                        ev::BATCH => {
                            if header {
                                break;
                            }
                            header = true;
                            last_ts = raw.args[1] as i64;
                            continue;
                        }
                        ev::STRING | ev::STACK => continue,
                        _ => {}
                    }
                    (raw.typ, [0; 5], Some(&raw))
                }
            };
            if matches!(typ, ev::CPU_SAMPLE | ev::FREQUENCY | ev::TIMER_GOROUTINE) {
                continue;
            }
            let args: &[u64] = match text {
                Some(r) => &r.args,
                None => &args[..DESCS[typ as usize].wire_args()],
            };
            let e = self.event(typ, offset, args, &mut last_ts);
            out.push(e);
            if typ == ev::USER_LOG {
                if let (Some(e), Some(r)) = (out.last_mut(), text) {
                    // The message stays in the file: args[2] (after task and key) says where.
                    let start = r.text.as_ptr() as usize - data.as_ptr() as usize;
                    e.args[2] = ((start as u64) << 20) | r.text.len() as u64;
                }
            }
        }
        Ok(true)
    }

    /// The event of type `typ` at `offset` with wire arguments `args` (tick delta first),
    /// after the one at `last_ts`.
    #[inline]
    fn event(&mut self, typ: u8, offset: u64, args: &[u64], last_ts: &mut i64) -> V1Event {
        let desc = &DESCS[typ as usize];
        let mut e = V1Event {
            p: self.p,
            g: self.last_g,
            ..V1Event::new(typ, offset)
        };
        e.ts = last_ts.wrapping_add(args[0] as i64);
        *last_ts = e.ts;
        let rest = &args[1..];
        let (plain, stack) = if desc.stack {
            (&rest[..rest.len() - 1], rest.last().copied())
        } else {
            (rest, None)
        };
        e.args[..plain.len()].copy_from_slice(plain);
        e.stack = stack.unwrap_or(0) as u32;
        match typ {
            ev::GO_START | ev::GO_START_LOCAL | ev::GO_START_LABEL => {
                self.last_g = e.args[0];
                e.g = e.args[0];
            }
            ev::GO_END | ev::GO_STOP | ev::GO_SCHED | ev::GO_PREEMPT | ev::GO_SYS_BLOCK => {
                self.last_g = 0
            }
            t if wire::is_block(t) => self.last_g = 0,
            ev::GO_SYS_EXIT | ev::GO_WAITING | ev::GO_IN_SYSCALL => e.g = e.args[0],
            _ => {}
        }
        e
    }
}

/// The message of a user log event, from where `ProcCursor::next_batch` noted it (its
/// `args[2]`).
pub fn log_message(data: &[u8], packed: u64) -> &[u8] {
    let start = (packed >> 20) as usize;
    let len = (packed & 0xf_ffff) as usize;
    data.get(start..start.saturating_add(len)).unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_stay_small_and_keep_type_and_offset() {
        // Events wait in batches and queues: they stay small.
        assert_eq!(std::mem::size_of::<V1Event>(), 56);
        let mut e = V1Event::new(ev::GO_START_LOCAL, (1 << 40) + 7);
        assert_eq!((e.typ(), e.offset()), (ev::GO_START_LOCAL, (1 << 40) + 7));
        e.set_typ(ev::GO_START);
        assert_eq!((e.typ(), e.offset()), (ev::GO_START, (1 << 40) + 7));
    }
}
