//! Turns merged v1 events into the events Go's reader gives for them (the v2 event model), with one `Tables` for the whole trace.
//!
//! The approximations are Go's own: the trace is one generation; goroutines that existed
//! when tracing started and were seen neither starting nor waiting become runnable at the
//! first GOMAXPROCS event; a system call that did not block becomes a 1 ns
//! begin/end pair; an event not later than the one before it is moved 1 ns after it.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::decode::{V1Event, log_message};
use super::merge::ByP;
use super::wire::{DESCS, ev, is_block};
use crate::error::{Error, Result};
use crate::event::{Event, NO_TASK, NONE};
use crate::generation::Tables;
use crate::spec::*;

/// Reasons and stop-the-world kinds the conversion names, as Go spells them.
const BLOCK_REASONS: [&str; 12] = [
    "forever",
    "preempted",
    "runtime.Gosched",
    "sleep",
    "chan send",
    "chan receive",
    "network",
    "sync",
    "sync.(*Cond).Wait",
    "select",
    "",
    "GC mark assist wait for work",
];
const STW_KINDS: [&str; 17] = [
    "",
    "GC mark termination",
    "GC sweep termination",
    "write heap dump",
    "goroutine profile",
    "goroutine profile cleanup",
    "all goroutine stack trace",
    "read mem stats",
    "AllThreadsSyscall",
    "GOMAXPROCS",
    "start trace",
    "stop trace",
    "CountPagesInUse (test)",
    "ReadMetricsSlow (test)",
    "ReadMemStatsSlow (test)",
    "PageCachePagesLeaked (test)",
    "ResetDebugLog (test)",
];

/// Indexes into `BLOCK_REASONS`.
mod reason {
    pub const FOREVER: usize = 0;
    pub const PREEMPTED: usize = 1;
    pub const GOSCHED: usize = 2;
    pub const SLEEP: usize = 3;
    pub const CHAN_SEND: usize = 4;
    pub const CHAN_RECV: usize = 5;
    pub const NETWORK: usize = 6;
    pub const SYNC: usize = 7;
    pub const COND: usize = 8;
    pub const SELECT: usize = 9;
    pub const EMPTY: usize = 10;
    pub const ASSIST: usize = 11;
}

/// The strings of the trace, then the log messages, then the conversion's own, with ids
/// after the trace's largest (as Go numbers them).
pub struct Strings {
    /// Every (id, string).
    pub entries: Vec<(u64, Box<str>)>,
    /// Log message bytes → string id.
    messages: HashMap<Box<[u8]>, u64>,
    reasons: u64,
    stw: u64,
}

impl Strings {
    /// Numbers the log messages (`Index::messages`: distinct, in file order, each with the
    /// offset of its first event) and the conversion's strings after `trace`'s.
    pub fn new(trace: Vec<(u64, Box<str>)>, logged: Vec<(Box<[u8]>, u64)>) -> Result<Strings> {
        let mut max = trace.iter().map(|e| e.0).max().unwrap_or(0);
        let mut entries = trace;
        let mut messages: HashMap<Box<[u8]>, u64> = HashMap::default();
        for (m, offset) in logged {
            max = max
                .checked_add(1)
                .ok_or_else(|| Error::broken(offset, None, "trace contains too many strings"))?;
            entries.push((max, String::from_utf8_lossy(&m).into()));
            messages.insert(m, max);
        }
        let count = (BLOCK_REASONS.len() + STW_KINDS.len()) as u64;
        if max.checked_add(count).is_none() {
            return Err(Error::broken(0, None, "trace contains too many strings"));
        }
        let reasons = max + 1;
        let stw = reasons + BLOCK_REASONS.len() as u64;
        for (i, s) in BLOCK_REASONS.iter().chain(STW_KINDS.iter()).enumerate() {
            entries.push((reasons + i as u64, (*s).into()));
        }
        Ok(Strings {
            entries,
            messages,
            reasons,
            stw,
        })
    }

    /// No strings (for a trace whose strings Go rejects: nothing is converted).
    pub fn empty() -> Strings {
        Strings {
            entries: Vec::new(),
            messages: HashMap::default(),
            reasons: 0,
            stw: 0,
        }
    }

    fn reason(&self, r: usize) -> u64 {
        self.reasons + r as u64
    }
}

/// The conversion's state between events.
pub struct Converter<'a> {
    data: &'a [u8],
    version: u32,
    strings: Strings,
    /// Task names by id (the trace's string table), for task ends.
    names: HashMap<u64, Box<str>>,
    /// Whether the first GOMAXPROCS event (the end of the trace's start state) is still to come.
    pre_init: bool,
    created_pre_init: HashSet<u64>,
    seen_procs: HashSet<i64>,
    proc_m: ByP<i64>,
    tasks: HashMap<u64, (u64, u64)>,
    last_stw: u64,
    /// Task names of task ends get extra-string ids.
    pub extra_strings: Vec<Box<str>>,
    extra_ids: HashMap<Box<str>, u64>,
    /// The time of the last event given out (-1 before the first).
    pub last_ns: i64,
}

impl<'a> Converter<'a> {
    /// A converter for a trace of format `version` whose tasks are named by the string
    /// ids `task_names` (`Index::task_names`), looked up in `names`.
    pub fn new(
        data: &'a [u8],
        version: u32,
        strings: Strings,
        names: HashMap<u64, Box<str>>,
        task_names: &[u64],
    ) -> Self {
        let mut c = Converter {
            data,
            version,
            strings,
            names,
            pre_init: true,
            created_pre_init: HashSet::default(),
            seen_procs: HashSet::default(),
            proc_m: ByP::new(),
            tasks: HashMap::default(),
            last_stw: 0,
            extra_strings: Vec::new(),
            extra_ids: HashMap::default(),
            last_ns: -1,
        };
        // The names task ends may carry, numbered before any event goes out (the tables
        // are shared from the first event on): those of every task the file begins.
        for id in task_names {
            let name = c.names.get(id).cloned().unwrap_or_default();
            c.extra(&name);
        }
        c
    }

    /// Takes the string table out (for `Tables`).
    pub fn take_strings(&mut self) -> Vec<(u64, Box<str>)> {
        std::mem::take(&mut self.strings.entries)
    }

    fn extra(&mut self, s: &str) -> u64 {
        if s.is_empty() {
            return 0;
        }
        if let Some(&id) = self.extra_ids.get(s) {
            return id;
        }
        self.extra_strings.push(s.into());
        let id = self.extra_strings.len() as u64;
        self.extra_ids.insert(s.into(), id);
        id
    }

    fn stw_reason(&self, kind: u64) -> u64 {
        let k = if self.version < 21 {
            if kind <= 1 { kind + 1 } else { 0 }
        } else if kind < STW_KINDS.len() as u64 {
            kind
        } else {
            0
        };
        self.strings.stw + k
    }

    /// Emits event `e` (0 to 3 converted events), with Go's 1 ns pushes. `blocked`: for a
    /// system call, whether the goroutine's next event is its blocking.
    pub fn convert(
        &mut self,
        e: &V1Event,
        blocked: bool,
        emit: &mut impl FnMut(&Event),
    ) -> Result<()> {
        let mut out = |this: &mut Self, mut x: Event| {
            if x.time_ns <= this.last_ns {
                x.time_ns = this.last_ns.wrapping_add(1);
            }
            this.last_ns = x.time_ns;
            emit(&x);
        };
        let p = e.p as i64;
        let m_of = |this: &Self| {
            if e.p != -1 && e.typ() != ev::CPU_SAMPLE {
                this.proc_m.get(p as u64).copied().unwrap_or(NONE)
            } else {
                NONE
            }
        };
        // Go's "M of the P, 0 if none" for the events it builds by hand.
        let m_or_zero = |this: &Self| this.proc_m.get(p as u64).copied().unwrap_or(0);
        let g = if e.g == 0 { NONE } else { e.g as i64 };
        let a = [e.args[0], e.args[1], e.args[2], 0];
        let stack = e.stack as u64;
        let mut args = a;
        let typ;
        match e.typ() {
            ev::GOMAXPROCS => {
                typ = EV_PROCS_CHANGE;
                if self.pre_init {
                    self.pre_init = false;
                    let mut ids: Vec<u64> = self.created_pre_init.drain().collect();
                    ids.sort_unstable();
                    for id in ids {
                        out(
                            self,
                            Event {
                                time_ns: e.ts,
                                m: NONE,
                                p: NONE,
                                g: NONE,
                                args: [id, u64::MAX, gstatus::RUNNABLE, 0],
                                typ: EV_GO_STATUS,
                            },
                        );
                    }
                    return Ok(());
                }
            }
            ev::PROC_START | ev::PROC_STOP => {
                let start = e.typ() == ev::PROC_START;
                if start {
                    *self.proc_m.entry(p as u64) = a[0] as i64;
                }
                if self.seen_procs.insert(p) {
                    // The first event of a P states its status.
                    typ = EV_PROC_STATUS;
                    let status = if start {
                        pstatus::RUNNING
                    } else {
                        pstatus::IDLE
                    };
                    args = [p as u64, status, 0, 0];
                } else {
                    typ = if start { EV_PROC_START } else { EV_PROC_STOP };
                    args = [p as u64, 0, 0, 0];
                }
            }
            ev::GC_START => typ = EV_GC_BEGIN,
            ev::GC_DONE => typ = EV_GC_END,
            ev::STW_START => {
                let sid = self.stw_reason(a[0]);
                self.last_stw = sid;
                typ = EV_STW_BEGIN;
                args = [sid, 0, 0, 0];
            }
            ev::STW_DONE => {
                typ = EV_STW_END;
                args = [self.last_stw, 0, 0, 0];
            }
            ev::GC_SWEEP_START => typ = EV_GC_SWEEP_BEGIN,
            ev::GC_SWEEP_DONE => typ = EV_GC_SWEEP_END,
            ev::GO_CREATE => {
                if self.pre_init {
                    self.created_pre_init.insert(a[0]);
                    return Ok(());
                }
                typ = EV_GO_CREATE;
            }
            ev::GO_START => {
                if self.pre_init {
                    typ = EV_GO_STATUS;
                    args = [a[0], u64::MAX, gstatus::RUNNING, 0];
                    self.created_pre_init.remove(&a[0]);
                } else {
                    typ = EV_GO_START;
                }
            }
            ev::GO_START_LABEL => {
                let m = m_or_zero(self);
                let base = Event {
                    time_ns: e.ts,
                    m,
                    p,
                    g: e.g as i64,
                    args: a,
                    typ: EV_GO_START,
                };
                out(self, base);
                let label = Event {
                    args: [a[2], 0, 0, 0],
                    typ: EV_GO_LABEL,
                    time_ns: e.ts,
                    ..base
                };
                out(self, label);
                return Ok(());
            }
            ev::GO_END => typ = EV_GO_DESTROY,
            t if t == ev::GO_STOP || t == ev::GO_SCHED || t == ev::GO_PREEMPT || is_block(t) => {
                let (t, r) = match t {
                    ev::GO_STOP => (EV_GO_BLOCK, reason::FOREVER),
                    ev::GO_SCHED => (EV_GO_STOP, reason::GOSCHED),
                    ev::GO_PREEMPT => (EV_GO_STOP, reason::PREEMPTED),
                    ev::GO_SLEEP => (EV_GO_BLOCK, reason::SLEEP),
                    ev::GO_BLOCK => (EV_GO_BLOCK, reason::EMPTY),
                    ev::GO_BLOCK_SEND => (EV_GO_BLOCK, reason::CHAN_SEND),
                    ev::GO_BLOCK_RECV => (EV_GO_BLOCK, reason::CHAN_RECV),
                    ev::GO_BLOCK_SELECT => (EV_GO_BLOCK, reason::SELECT),
                    ev::GO_BLOCK_SYNC => (EV_GO_BLOCK, reason::SYNC),
                    ev::GO_BLOCK_COND => (EV_GO_BLOCK, reason::COND),
                    ev::GO_BLOCK_NET => (EV_GO_BLOCK, reason::NETWORK),
                    _ => (EV_GO_BLOCK, reason::ASSIST),
                };
                typ = t;
                args = [self.strings.reason(r), stack, 0, 0];
            }
            ev::GO_UNBLOCK => typ = EV_GO_UNBLOCK,
            ev::GO_SYSCALL => {
                if blocked {
                    typ = EV_GO_SYSCALL_BEGIN;
                    args = [0, stack, 0, 0];
                } else {
                    let begin = Event {
                        time_ns: e.ts,
                        m: m_or_zero(self),
                        p,
                        g: e.g as i64,
                        args: [0, stack, 0, 0],
                        typ: EV_GO_SYSCALL_BEGIN,
                    };
                    let end = Event {
                        time_ns: e.ts.wrapping_add(1),
                        args: [0; 4],
                        typ: EV_GO_SYSCALL_END,
                        ..begin
                    };
                    out(self, begin);
                    out(self, end);
                    return Ok(());
                }
            }
            ev::GO_SYS_EXIT => typ = EV_GO_SYSCALL_END_BLOCKED,
            ev::GO_SYS_BLOCK => return Ok(()),
            ev::GO_WAITING | ev::GO_IN_SYSCALL => {
                typ = EV_GO_STATUS;
                let s = if e.typ() == ev::GO_WAITING {
                    gstatus::WAITING
                } else {
                    gstatus::SYSCALL
                };
                args = [a[0], u64::MAX, s, 0];
                self.created_pre_init.remove(&a[0]);
            }
            ev::HEAP_ALLOC => typ = EV_HEAP_ALLOC,
            ev::HEAP_GOAL => typ = EV_HEAP_GOAL,
            ev::GC_MARK_ASSIST_START => typ = EV_GC_MARK_ASSIST_BEGIN,
            ev::GC_MARK_ASSIST_DONE => typ = EV_GC_MARK_ASSIST_END,
            ev::USER_TASK_CREATE => {
                typ = EV_USER_TASK_BEGIN;
                let parent = if a[1] == 0 { NO_TASK } else { a[1] };
                args = [a[0], parent, a[2], stack];
                self.tasks.insert(a[0], (a[1], a[2]));
            }
            ev::USER_TASK_END => {
                typ = EV_USER_TASK_END;
                args = match self.tasks.remove(&a[0]) {
                    Some((parent, name)) => {
                        let name = self.names.get(&name).cloned().unwrap_or_default();
                        [a[0], a[1], parent, self.extra(&name)]
                    }
                    None => [a[0], a[1], NO_TASK, 0],
                };
            }
            ev::USER_REGION => {
                typ = if a[1] == 0 {
                    EV_USER_REGION_BEGIN
                } else {
                    EV_USER_REGION_END
                };
                args = [a[0], a[2], stack, 0];
            }
            ev::USER_LOG => {
                typ = EV_USER_LOG;
                let m = log_message(self.data, a[2]);
                let id = self.strings.messages.get(m).copied().unwrap_or(0);
                args = [a[0], a[1], id, stack];
            }
            ev::CPU_SAMPLE => {
                typ = EV_CPU_SAMPLE;
                args = [stack, u64::MAX, p as u64, e.g];
            }
            t => {
                return Err(Error::broken(
                    e.offset(),
                    None,
                    format!("unexpected event type {}", DESCS[t as usize].name),
                ));
            }
        }
        // The event's own stack goes where the converted type keeps it.
        if DESCS[e.typ() as usize].stack && e.typ() != ev::CPU_SAMPLE {
            if let Some(&slot) = spec(typ).and_then(|s| s.stack_args.first()) {
                args[slot] = stack;
            }
        }
        let m = m_of(self);
        if e.typ() == ev::PROC_STOP {
            self.proc_m.remove(p as u64);
        }
        out(
            self,
            Event {
                time_ns: e.ts,
                m,
                p,
                g,
                args,
                typ,
            },
        );
        Ok(())
    }
}

/// The `Tables` of a converted trace.
pub fn tables(
    strings: Vec<(u64, Box<str>)>,
    stacks: HashMap<u32, Vec<u64>>,
    frames: HashMap<u64, crate::generation::Frame>,
    extra_strings: Vec<Box<str>>,
    ticks_per_sec: i64,
) -> Tables {
    let mut pcs = Vec::new();
    let mut ranges = Vec::with_capacity(stacks.len());
    for (id, s) in stacks {
        ranges.push((id as u64, (pcs.len() as u32, s.len() as u32)));
        pcs.extend_from_slice(&s);
    }
    Tables {
        generation: 1,
        strings: crate::generation::IdTable::from_unique(strings),
        stacks: crate::generation::IdTable::from_unique(ranges),
        stack_pcs: pcs,
        frames: frames.into_iter().collect(),
        ns_per_tick: 1e9 / ticks_per_sec as f64,
        clock: None,
        experimental: Vec::new(),
        extra_strings,
    }
}
