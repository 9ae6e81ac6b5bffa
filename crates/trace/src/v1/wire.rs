//! The v1 wire format (Go 1.11–1.21): event type bytes, argument counts, and the decoding of one raw event.
//!
//! ```text
//! header   "go 1.N trace\0\0\0"            16 bytes, N = 11, 19 or 21
//! event    byte: type (low 6 bits) | inline arg count (high 2 bits: 0..=2 → 1..=3 uvarints,
//!          3 → a uvarint byte length, then that many bytes of uvarints)
//!          most events' first uvarint is a tick delta from the previous event of the batch
//! batch    type 1, 2 uvarints: P id (u64::MAX for "no P"), base ticks
//! string   type 37: uvarint id (≠ 0), uvarint length (1..=1e6), bytes
//! stack    type 3, length-prefixed: id, frame count (≤ 1000), then per frame pc, func
//!          string id, file string id, line
//! user log type 48, length-prefixed args, then a uvarint length and the message bytes
//! ```
//! Events belong to the batch whose header came last in the file. There are no
//! generations: the frequency, the stack table and the timer goroutines come at the end.

use crate::bytes::{Cursor, uvarint};
use crate::error::{Error, Result};

/// v1 event types (the wire type byte's low 6 bits); the whole table, used or not.
#[allow(missing_docs, dead_code)]
pub mod ev {
    pub const NONE: u8 = 0;
    pub const BATCH: u8 = 1;
    pub const FREQUENCY: u8 = 2;
    pub const STACK: u8 = 3;
    pub const GOMAXPROCS: u8 = 4;
    pub const PROC_START: u8 = 5;
    pub const PROC_STOP: u8 = 6;
    pub const GC_START: u8 = 7;
    pub const GC_DONE: u8 = 8;
    pub const STW_START: u8 = 9;
    pub const STW_DONE: u8 = 10;
    pub const GC_SWEEP_START: u8 = 11;
    pub const GC_SWEEP_DONE: u8 = 12;
    pub const GO_CREATE: u8 = 13;
    pub const GO_START: u8 = 14;
    pub const GO_END: u8 = 15;
    pub const GO_STOP: u8 = 16;
    pub const GO_SCHED: u8 = 17;
    pub const GO_PREEMPT: u8 = 18;
    pub const GO_SLEEP: u8 = 19;
    pub const GO_BLOCK: u8 = 20;
    pub const GO_UNBLOCK: u8 = 21;
    pub const GO_BLOCK_SEND: u8 = 22;
    pub const GO_BLOCK_RECV: u8 = 23;
    pub const GO_BLOCK_SELECT: u8 = 24;
    pub const GO_BLOCK_SYNC: u8 = 25;
    pub const GO_BLOCK_COND: u8 = 26;
    pub const GO_BLOCK_NET: u8 = 27;
    pub const GO_SYSCALL: u8 = 28;
    pub const GO_SYS_EXIT: u8 = 29;
    pub const GO_SYS_BLOCK: u8 = 30;
    pub const GO_WAITING: u8 = 31;
    pub const GO_IN_SYSCALL: u8 = 32;
    pub const HEAP_ALLOC: u8 = 33;
    pub const HEAP_GOAL: u8 = 34;
    pub const TIMER_GOROUTINE: u8 = 35;
    pub const FUTILE_WAKEUP: u8 = 36;
    pub const STRING: u8 = 37;
    pub const GO_START_LOCAL: u8 = 38;
    pub const GO_UNBLOCK_LOCAL: u8 = 39;
    pub const GO_SYS_EXIT_LOCAL: u8 = 40;
    pub const GO_START_LABEL: u8 = 41;
    pub const GO_BLOCK_GC: u8 = 42;
    pub const GC_MARK_ASSIST_START: u8 = 43;
    pub const GC_MARK_ASSIST_DONE: u8 = 44;
    pub const USER_TASK_CREATE: u8 = 45;
    pub const USER_TASK_END: u8 = 46;
    pub const USER_REGION: u8 = 47;
    pub const USER_LOG: u8 = 48;
    pub const CPU_SAMPLE: u8 = 49;
    /// One past the last type.
    pub const COUNT: u8 = 50;
}

/// Whether a goroutine blocks with this event and leaves its P, waiting (to sleep, on a
/// channel, select, mutex, condition, the network, or GC assist work).
pub fn is_block(typ: u8) -> bool {
    matches!(
        typ,
        ev::GO_SLEEP
            | ev::GO_BLOCK
            | ev::GO_BLOCK_SEND
            | ev::GO_BLOCK_RECV
            | ev::GO_BLOCK_SELECT
            | ev::GO_BLOCK_SYNC
            | ev::GO_BLOCK_COND
            | ev::GO_BLOCK_NET
            | ev::GO_BLOCK_GC
    )
}

/// What the format says about one event type.
#[derive(Clone, Copy, Debug)]
pub struct Desc {
    /// Go's name for the type (for error messages).
    pub name: &'static str,
    /// Arguments after the tick delta, without the stack.
    pub args: u8,
    /// Whether the last argument is a stack id.
    pub stack: bool,
    /// Whether the first argument is a tick delta.
    pub timed: bool,
}

const fn d(name: &'static str, args: u8, stack: bool) -> Desc {
    Desc {
        name,
        args,
        stack,
        timed: true,
    }
}

const fn untimed(name: &'static str, args: u8) -> Desc {
    Desc {
        name,
        args,
        stack: false,
        timed: false,
    }
}

/// The description of every type below `ev::COUNT`.
pub const DESCS: [Desc; ev::COUNT as usize] = [
    untimed("None", 0),
    untimed("Batch", 2),
    untimed("Frequency", 1),
    untimed("Stack", 2),
    d("Gomaxprocs", 1, true),
    d("ProcStart", 1, false),
    d("ProcStop", 0, false),
    d("GCStart", 1, true),
    d("GCDone", 0, false),
    d("GCSTWStart", 1, false),
    d("GCSTWDone", 0, false),
    d("GCSweepStart", 0, true),
    d("GCSweepDone", 2, false),
    d("GoCreate", 2, true),
    d("GoStart", 2, false),
    d("GoEnd", 0, false),
    d("GoStop", 0, true),
    d("GoSched", 0, true),
    d("GoPreempt", 0, true),
    d("GoSleep", 0, true),
    d("GoBlock", 0, true),
    d("GoUnblock", 2, true),
    d("GoBlockSend", 0, true),
    d("GoBlockRecv", 0, true),
    d("GoBlockSelect", 0, true),
    d("GoBlockSync", 0, true),
    d("GoBlockCond", 0, true),
    d("GoBlockNet", 0, true),
    d("GoSysCall", 0, true),
    d("GoSysExit", 3, false),
    d("GoSysBlock", 0, false),
    d("GoWaiting", 1, false),
    d("GoInSyscall", 1, false),
    d("HeapAlloc", 1, false),
    d("HeapGoal", 1, false),
    untimed("TimerGoroutine", 1),
    d("FutileWakeup", 0, false),
    untimed("String", 0),
    d("GoStartLocal", 1, false),
    d("GoUnblockLocal", 1, true),
    d("GoSysExitLocal", 2, false),
    d("GoStartLabel", 3, false),
    d("GoBlockGC", 0, true),
    d("GCMarkAssistStart", 0, true),
    d("GCMarkAssistDone", 0, false),
    d("UserTaskCreate", 3, true),
    d("UserTaskEnd", 1, true),
    d("UserRegion", 3, true),
    d("UserLog", 2, true),
    d("CPUSample", 3, true),
];

impl Desc {
    /// The number of uvarints the event carries on the wire (tick delta and stack included).
    pub fn wire_args(&self) -> usize {
        self.args as usize + self.stack as usize + self.timed as usize
    }
}

/// The longest length-prefixed argument list Go accepts, in bytes.
const MAX_ARG_BYTES: u64 = 2048;
/// The longest string Go accepts.
pub const MAX_STRING: u64 = 1_000_000;
/// The most frames Go accepts in one stack.
pub const MAX_FRAMES: u64 = 1000;

/// One event as it is on the wire.
#[derive(Debug, Default)]
pub struct Raw<'a> {
    /// File offset of the type byte.
    pub offset: u64,
    /// The event type.
    pub typ: u8,
    /// Its uvarints (for `ev::STRING`: the id; for `ev::BATCH`: P, ticks).
    pub args: Vec<u64>,
    /// A string's bytes, or a user log's message.
    pub text: &'a [u8],
}

/// Reads the next raw event into `raw`; `Ok(false)` at the end of the data. `version` is
/// the N of the header (CPU samples exist from 19 on). Checks the argument count of
/// every type but the stack (checked where stacks are read).
pub fn next<'a>(c: &mut Cursor<'a>, version: u32, raw: &mut Raw<'a>) -> Result<bool> {
    if c.is_empty() {
        return Ok(false);
    }
    raw.offset = c.offset();
    raw.args.clear();
    raw.text = &[];
    let b = c.byte("an event type")?;
    let typ = b & 0x3f;
    raw.typ = typ;
    let inline = (b >> 6) as usize + 1;
    if typ == ev::NONE || typ >= ev::COUNT || (typ == ev::CPU_SAMPLE && version < 19) {
        return Err(Error::malformed(
            raw.offset,
            None,
            "a v1 event type",
            format!("type {typ}"),
        ));
    }
    match typ {
        ev::STRING => {
            let id = c.uvarint("a string id")?;
            if id == 0 {
                return Err(Error::malformed(raw.offset, None, "a string id", "0"));
            }
            let len = c.uvarint("a string length")?;
            if len == 0 || len > MAX_STRING {
                return Err(Error::malformed(
                    raw.offset,
                    None,
                    "a string length in 1..=1000000",
                    len.to_string(),
                ));
            }
            raw.args.push(id);
            raw.text = c.bytes(len as usize, "a string")?;
            return Ok(true);
        }
        ev::BATCH => {
            if inline != 2 {
                return Err(Error::malformed(
                    raw.offset,
                    None,
                    "a batch header with 2 arguments",
                    inline.to_string(),
                ));
            }
            let p = c.uvarint("a batch's P")?;
            if p != u64::MAX && p > i32::MAX as u64 {
                return Err(Error::malformed(
                    raw.offset,
                    None,
                    "a P id below 2^31",
                    p.to_string(),
                ));
            }
            let ticks = c.uvarint("a batch's ticks")?;
            raw.args.push(p);
            raw.args.push(ticks);
            return Ok(true);
        }
        _ => {}
    }
    if inline <= 3 {
        for _ in 0..inline {
            raw.args.push(c.uvarint("an event argument")?);
        }
    } else {
        let len = c.uvarint("an argument length")?;
        if len > MAX_ARG_BYTES {
            return Err(Error::malformed(
                raw.offset,
                None,
                "arguments of at most 2048 bytes",
                format!("{len} bytes"),
            ));
        }
        let start = c.offset();
        let bytes = c.bytes(len as usize, "event arguments")?;
        let mut a = Cursor::new(bytes, start, None);
        while !a.is_empty() {
            raw.args.push(a.uvarint("an event argument")?);
        }
        if typ == ev::USER_LOG {
            let len = c.uvarint("a log message length")?;
            if len > MAX_STRING {
                return Err(Error::malformed(
                    raw.offset,
                    None,
                    "a log message of at most 1000000 bytes",
                    len.to_string(),
                ));
            }
            raw.text = c.bytes(len as usize, "a log message")?;
        }
    }
    if typ != ev::STACK {
        let desc = &DESCS[typ as usize];
        if raw.args.len() != desc.wire_args() {
            return Err(Error::malformed(
                raw.offset,
                None,
                "as many arguments as the event type has",
                format!(
                    "{} with {} arguments, not {}",
                    desc.name,
                    raw.args.len(),
                    desc.wire_args()
                ),
            ));
        }
    }
    Ok(true)
}

/// A plain event (neither string, batch header, stack nor user log) read without
/// allocating: its type, its uvarints (tick delta and stack included) and where the next
/// event starts.
#[derive(Clone, Copy, Debug)]
pub struct Plain {
    /// The event type.
    pub typ: u8,
    /// The uvarints, `n` of them.
    pub args: [u64; 5],
    /// How many uvarints.
    pub n: usize,
    /// Offset (in the slice read) of the next event.
    pub end: usize,
}

/// Reads the plain event at `data[pos..]`: `Some` only when `next` would read the same
/// event without error (then with the same type and arguments); otherwise (another kind
/// of event, or anything amiss) `None`, and `next` says what it is.
#[inline(always)]
pub fn next_plain(data: &[u8], pos: usize, version: u32) -> Option<Plain> {
    let &b = data.get(pos)?;
    let typ = b & 0x3f;
    if typ == ev::NONE
        || typ >= ev::COUNT
        || matches!(typ, ev::STRING | ev::BATCH | ev::STACK | ev::USER_LOG)
        || (typ == ev::CPU_SAMPLE && version < 19)
    {
        return None;
    }
    let want = DESCS[typ as usize].wire_args();
    let mut p = Plain {
        typ,
        args: [0; 5],
        n: 0,
        end: 0,
    };
    let inline = (b >> 6) as usize + 1;
    let mut at = pos + 1;
    if inline <= 3 {
        if inline != want {
            return None;
        }
        for a in &mut p.args[..inline] {
            let (v, len) = uvarint(data.get(at..)?)?;
            *a = v;
            at += len;
        }
        p.n = inline;
    } else {
        let (len, l) = uvarint(data.get(at..)?)?;
        at += l;
        if len > MAX_ARG_BYTES {
            return None;
        }
        let args_end = at.checked_add(len as usize)?;
        let bytes = data.get(at..args_end)?;
        let mut i = 0;
        while i < bytes.len() {
            if p.n == want {
                return None;
            }
            let (v, l) = uvarint(&bytes[i..])?;
            p.args[p.n] = v;
            p.n += 1;
            i += l;
        }
        if p.n != want {
            return None;
        }
        at = args_end;
    }
    p.end = at;
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[rustfmt::skip]
    #[test]
    fn raw_events_decode() {
        let data = [
            0x41, 0x02, 0x64,             // batch: 2 inline args, P 2, ticks 100
            0x25, 0x07, 0x03, b'a', b'b', b'c', // string 7 = "abc"
            0x8e, 0x05, 0x11, 0x03,       // GoStart (3 inline): dt 5, g 17, seq 3
            0xf0, 0x04, 0x01, 0x02, 0x03, 0x04, // UserLog, 4 bytes of args
            0x02, b'h', b'i',             //   message "hi"
        ];
        let mut c = Cursor::new(&data, 16, None);
        let mut r = Raw::default();
        assert!(next(&mut c, 21, &mut r).unwrap());
        assert_eq!((r.typ, r.args.clone()), (ev::BATCH, vec![2, 100]));
        assert!(next(&mut c, 21, &mut r).unwrap());
        assert_eq!((r.typ, r.args.clone(), r.text), (ev::STRING, vec![7], &b"abc"[..]));
        assert!(next(&mut c, 21, &mut r).unwrap());
        assert_eq!((r.typ, r.args.clone(), r.offset), (ev::GO_START, vec![5, 17, 3], 25));
        assert!(next(&mut c, 21, &mut r).unwrap());
        assert_eq!((r.typ, r.args.clone(), r.text), (ev::USER_LOG, vec![1, 2, 3, 4], &b"hi"[..]));
        assert!(!next(&mut c, 21, &mut r).unwrap());
    }

    /// Wherever the plain reader reads an event, the full one reads the same.
    #[test]
    fn plain_events_read_as_the_full_reader_reads_them() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut plain = 0;
        for _ in 0..20_000 {
            let mut data = Vec::new();
            for _ in 0..1 + seed % 12 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                data.push(match seed % 4 {
                    0 => (seed >> 8) as u8 & 0x7f,
                    1 => 0x80 | (seed >> 8) as u8,
                    _ => (seed >> 8) as u8,
                });
            }
            for version in [11, 21] {
                let Some(p) = next_plain(&data, 0, version) else {
                    continue;
                };
                plain += 1;
                let mut r = Raw::default();
                let mut c = Cursor::new(&data, 0, None);
                assert!(next(&mut c, version, &mut r).unwrap(), "{data:?}");
                assert_eq!(
                    (r.typ, &r.args[..], c.offset() as usize),
                    (p.typ, &p.args[..p.n], p.end)
                );
            }
        }
        assert!(plain > 100, "{plain}");
    }

    #[test]
    fn bad_events_name_their_offset() {
        // A CPU sample in a 1.11 trace.
        let mut r = Raw::default();
        let e = next(&mut Cursor::new(&[0xf1, 0x00], 40, None), 11, &mut r).unwrap_err();
        assert_eq!(e.offset, 40);
        // A GoStart with 2 arguments instead of 3.
        let e = next(&mut Cursor::new(&[0x4e, 1, 2], 50, None), 21, &mut r).unwrap_err();
        assert!(e.to_string().contains("GoStart"), "{e}");
        // Cut inside a string.
        let e = next(&mut Cursor::new(&[0x25, 1, 5, b'a'], 60, None), 21, &mut r).unwrap_err();
        assert!(e.to_string().contains("offset 63"), "{e}");
    }
}
