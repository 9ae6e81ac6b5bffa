//! What an ordered event means: its kind in Go's parsed API, its resources and stacks, and
//! the one-line text form that `go tool trace -d=parsed` prints.
//!
//! Argument slots added by the ordering pass (after an event's own wire arguments):
//! ProcStatus `[p, status, old ProcState]`; ProcSteal `[p, seq, m, old P status]`;
//! GoStatus `[g, m, old GoState << 32 | status]`; UserTaskBegin `[task, parent (0 → none), name]`;
//! UserTaskEnd `[task, stack, parent, extra-string id of the name]`; STWEnd `[kind string id]`;
//! Sync `[n]`; StackSample `[stack]`.

use std::fmt::Write;

use crate::generation::Tables;
use crate::spec::*;

/// "No goroutine / P / thread" in an event's context.
pub const NONE: i64 = -1;
/// The task id that means "no task".
pub const NO_TASK: u64 = u64::MAX;

/// States a goroutine or P can be in, as reported by state transitions.
pub mod state {
    /// Go's `GoUndetermined`: not known yet (a goroutine's first status event).
    pub const GO_UNDETERMINED: u64 = 0;
    /// Go's `GoNotExist`: not created yet, or destroyed.
    pub const GO_NOT_EXIST: u64 = 1;
    /// Go's `GoRunnable`: ready to run.
    pub const GO_RUNNABLE: u64 = 2;
    /// Go's `GoRunning`: running on a P.
    pub const GO_RUNNING: u64 = 3;
    /// Go's `GoWaiting`: blocked.
    pub const GO_WAITING: u64 = 4;
    /// Go's `GoSyscall`: in a system call.
    pub const GO_SYSCALL: u64 = 5;

    /// Go's `ProcUndetermined`: not known yet (a P's first status event).
    pub const PROC_UNDETERMINED: u64 = 0;
    /// Go's `ProcNotExist`: the P does not exist.
    pub const PROC_NOT_EXIST: u64 = 1;
    /// Go's `ProcRunning`: the P is in use by a thread.
    pub const PROC_RUNNING: u64 = 2;
    /// Go's `ProcIdle`: the P is idle.
    pub const PROC_IDLE: u64 = 3;
}

/// An ordered event. `args` holds the wire arguments (after the tick delta), with the
/// ordering pass's additions in the slots after them (old states, task parent and name),
/// as documented on the accessors in `event.rs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// Timestamp in ns (the trace clock, as Go's reader reports it).
    pub time_ns: i64,
    /// Thread (M) id, or `NONE`.
    pub m: i64,
    /// P id, or `NONE`.
    pub p: i64,
    /// Goroutine id, or `NONE`.
    pub g: i64,
    /// Arguments: the wire ones, then the ordering pass's additions.
    pub args: [u64; 4],
    /// Wire event type (`spec::EV_*`).
    pub typ: EvType,
}

/// The kinds of Go's parsed event API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A synchronization point: the start of a generation's events.
    Sync,
    /// A metric sample (GOMAXPROCS, heap size, heap goal).
    Metric,
    /// A label on a goroutine.
    Label,
    /// A CPU profile sample.
    StackSample,
    /// The start of a range (stop-the-world, GC, sweep, mark assist).
    RangeBegin,
    /// A range already in progress at the start of a generation.
    RangeActive,
    /// The end of a range.
    RangeEnd,
    /// A user task begins.
    TaskBegin,
    /// A user task ends.
    TaskEnd,
    /// A user region begins.
    RegionBegin,
    /// A user region ends.
    RegionEnd,
    /// A user log message.
    Log,
    /// A goroutine or P changes state (see `Event::transition`).
    StateTransition,
    /// An experiment's event.
    Experimental,
}

impl Kind {
    /// Every kind, in declaration order (`Kind::index` order).
    pub const ALL: [Kind; 14] = [
        Kind::Sync,
        Kind::Metric,
        Kind::Label,
        Kind::StackSample,
        Kind::RangeBegin,
        Kind::RangeActive,
        Kind::RangeEnd,
        Kind::TaskBegin,
        Kind::TaskEnd,
        Kind::RegionBegin,
        Kind::RegionEnd,
        Kind::Log,
        Kind::StateTransition,
        Kind::Experimental,
    ];

    /// The kind's name as Go spells it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Sync => "Sync",
            Kind::Metric => "Metric",
            Kind::Label => "Label",
            Kind::StackSample => "StackSample",
            Kind::RangeBegin => "RangeBegin",
            Kind::RangeActive => "RangeActive",
            Kind::RangeEnd => "RangeEnd",
            Kind::TaskBegin => "TaskBegin",
            Kind::TaskEnd => "TaskEnd",
            Kind::RegionBegin => "RegionBegin",
            Kind::RegionEnd => "RegionEnd",
            Kind::Log => "Log",
            Kind::StateTransition => "StateTransition",
            Kind::Experimental => "Experimental",
        }
    }

    /// Position in `Kind::ALL`, for per-kind arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// The parsed-API kind of a wire type.
#[inline]
pub fn kind_of(typ: EvType) -> Kind {
    match typ {
        EV_SYNC => Kind::Sync,
        EV_CPU_SAMPLE => Kind::StackSample,
        EV_PROCS_CHANGE | EV_HEAP_ALLOC | EV_HEAP_GOAL => Kind::Metric,
        EV_STW_BEGIN | EV_GC_BEGIN | EV_GC_SWEEP_BEGIN | EV_GC_MARK_ASSIST_BEGIN => {
            Kind::RangeBegin
        }
        EV_GC_ACTIVE | EV_GC_SWEEP_ACTIVE | EV_GC_MARK_ASSIST_ACTIVE => Kind::RangeActive,
        EV_STW_END | EV_GC_END | EV_GC_SWEEP_END | EV_GC_MARK_ASSIST_END => Kind::RangeEnd,
        EV_GO_LABEL => Kind::Label,
        EV_USER_TASK_BEGIN => Kind::TaskBegin,
        EV_USER_TASK_END => Kind::TaskEnd,
        EV_USER_REGION_BEGIN => Kind::RegionBegin,
        EV_USER_REGION_END => Kind::RegionEnd,
        EV_USER_LOG => Kind::Log,
        t if is_experimental(t) => Kind::Experimental,
        _ => Kind::StateTransition,
    }
}

/// The resource a state transition is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    /// A goroutine, by id.
    Goroutine(i64),
    /// A P, by id.
    Proc(i64),
}

/// A decoded state transition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transition {
    /// Whose state changes.
    pub resource: Resource,
    /// A `state::GO_*` or `state::PROC_*` value.
    pub from: u64,
    /// The new state, a `state::GO_*` or `state::PROC_*` value.
    pub to: u64,
    /// String id of the reason (GoStop, GoBlock), 0 if none.
    pub reason: u64,
    /// The transition's stack: `Some(0)` means "a stack that is empty", `None` means none.
    pub stack: Option<u64>,
}

fn go_state_from_status(s: u64) -> u64 {
    match s {
        gstatus::RUNNABLE => state::GO_RUNNABLE,
        gstatus::RUNNING => state::GO_RUNNING,
        gstatus::WAITING => state::GO_WAITING,
        gstatus::SYSCALL => state::GO_SYSCALL,
        _ => state::GO_UNDETERMINED,
    }
}

fn proc_state_from_status(s: u64) -> u64 {
    match s {
        pstatus::RUNNING | pstatus::SYSCALL => state::PROC_RUNNING,
        pstatus::IDLE | pstatus::SYSCALL_ABANDONED => state::PROC_IDLE,
        _ => state::PROC_UNDETERMINED,
    }
}

impl Event {
    /// The parsed-API kind of this event.
    #[inline]
    pub fn kind(&self) -> Kind {
        kind_of(self.typ)
    }

    /// The event's own stack id (0 when it has none).
    #[inline]
    pub fn stack_id(&self) -> u64 {
        match self.typ {
            EV_SYNC => 0,
            EV_CPU_SAMPLE => self.args[0],
            t => match BRIEFS[t as usize].own_stack {
                NO_ARG => 0,
                i => self.args[(i & 3) as usize],
            },
        }
    }

    /// The state transition, for StateTransition events.
    #[inline]
    pub fn transition(&self) -> Option<Transition> {
        use Resource::*;
        let a = self.args;
        let go = |g: i64, from, to| Transition {
            resource: Goroutine(g),
            from,
            to,
            reason: 0,
            stack: None,
        };
        let proc = |p: i64, from, to| Transition {
            resource: Proc(p),
            from,
            to,
            reason: 0,
            stack: None,
        };
        // Only a few kinds carry the event's own stack; looked up for those alone.
        let own_stack = || match self.stack_id() {
            0 => None,
            s => Some(s),
        };
        Some(match self.typ {
            EV_PROC_START => proc(a[0] as i64, state::PROC_IDLE, state::PROC_RUNNING),
            EV_PROC_STOP => proc(self.p, state::PROC_RUNNING, state::PROC_IDLE),
            EV_PROC_STEAL => {
                let from = if a[3] == pstatus::SYSCALL_ABANDONED {
                    state::PROC_IDLE
                } else {
                    state::PROC_RUNNING
                };
                proc(a[0] as i64, from, state::PROC_IDLE)
            }
            EV_PROC_STATUS => proc(a[0] as i64, a[2], proc_state_from_status(a[1])),
            EV_GO_CREATE | EV_GO_CREATE_BLOCKED => {
                let to = if self.typ == EV_GO_CREATE {
                    state::GO_RUNNABLE
                } else {
                    state::GO_WAITING
                };
                Transition {
                    stack: Some(a[1]),
                    ..go(a[0] as i64, state::GO_NOT_EXIST, to)
                }
            }
            EV_GO_CREATE_SYSCALL => go(a[0] as i64, state::GO_NOT_EXIST, state::GO_SYSCALL),
            EV_GO_START => go(a[0] as i64, state::GO_RUNNABLE, state::GO_RUNNING),
            EV_GO_DESTROY => go(self.g, state::GO_RUNNING, state::GO_NOT_EXIST),
            EV_GO_DESTROY_SYSCALL => go(self.g, state::GO_SYSCALL, state::GO_NOT_EXIST),
            EV_GO_STOP | EV_GO_BLOCK => {
                let to = if self.typ == EV_GO_STOP {
                    state::GO_RUNNABLE
                } else {
                    state::GO_WAITING
                };
                Transition {
                    reason: a[0],
                    stack: own_stack(),
                    ..go(self.g, state::GO_RUNNING, to)
                }
            }
            EV_GO_UNBLOCK | EV_GO_SWITCH | EV_GO_SWITCH_DESTROY => {
                go(a[0] as i64, state::GO_WAITING, state::GO_RUNNABLE)
            }
            EV_GO_SYSCALL_BEGIN => Transition {
                stack: own_stack(),
                ..go(self.g, state::GO_RUNNING, state::GO_SYSCALL)
            },
            EV_GO_SYSCALL_END => go(self.g, state::GO_SYSCALL, state::GO_RUNNING),
            EV_GO_SYSCALL_END_BLOCKED => go(self.g, state::GO_SYSCALL, state::GO_RUNNABLE),
            EV_GO_STATUS | EV_GO_STATUS_STACK => Transition {
                stack: own_stack(),
                ..go(
                    a[0] as i64,
                    a[2] >> 32,
                    go_state_from_status(a[2] & 0xffff_ffff),
                )
            },
            _ => return None,
        })
    }
}

/// The name of a `state::GO_*` value, as Go prints it.
pub fn go_state_name(s: u64) -> &'static str {
    match s {
        state::GO_UNDETERMINED => "Undetermined",
        state::GO_NOT_EXIST => "NotExist",
        state::GO_RUNNABLE => "Runnable",
        state::GO_RUNNING => "Running",
        state::GO_WAITING => "Waiting",
        state::GO_SYSCALL => "Syscall",
        _ => "Bad",
    }
}

/// The name of a `state::PROC_*` value, as Go prints it.
pub fn proc_state_name(s: u64) -> &'static str {
    match s {
        state::PROC_UNDETERMINED => "Undetermined",
        state::PROC_NOT_EXIST => "NotExist",
        state::PROC_RUNNING => "Running",
        state::PROC_IDLE => "Idle",
        _ => "Bad",
    }
}

/// Writes `s` quoted the way Go's `%q` does.
pub fn go_quote(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_control() => {
                if (c as u32) < 0x10000 {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                } else {
                    let _ = write!(out, "\\U{:08x}", c as u32);
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_stack(out: &mut String, tables: &Tables, id: u64) {
    for (pc, func, file, line) in tables.stack_frames(id) {
        let _ = writeln!(out, "\t{func} @ {pc:#x}\n\t\t{file}:{line}");
    }
}

/// Formats a wall-clock instant as RFC 3339 with trimmed nanoseconds, in UTC.
pub fn rfc3339_nano_utc(sec: i64, nsec: u32) -> String {
    let days = sec.div_euclid(86_400);
    let secs_of_day = sec.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    let mut s = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        secs_of_day / 3600,
        secs_of_day / 60 % 60,
        secs_of_day % 60
    );
    if nsec > 0 {
        let frac = format!("{nsec:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push('Z');
    s
}

/// Appends the event in the text form of Go's `Event.String()` (no trailing newline
/// beyond what that form has; `go tool trace -d=parsed` prints each with one more).
pub fn write_go_text(out: &mut String, ev: &Event, tables: &Tables) {
    let kind = ev.kind();
    let _ = write!(
        out,
        "M={} P={} G={} {} Time={}",
        ev.m,
        ev.p,
        ev.g,
        kind.name(),
        ev.time_ns
    );
    let a = ev.args;
    let string = |id: u64| tables.string(id).unwrap_or("");
    match kind {
        Kind::Metric => {
            let name = match ev.typ {
                EV_PROCS_CHANGE => "/sched/gomaxprocs:threads",
                EV_HEAP_ALLOC => "/memory/classes/heap/objects:bytes",
                _ => "/gc/heap/goal:bytes",
            };
            out.push_str(" Name=");
            go_quote(out, name);
            let _ = write!(out, " Value=Value{{Uint64({})}}", a[0]);
        }
        Kind::Label => {
            out.push_str(" Label=");
            go_quote(out, string(a[0]));
            let _ = write!(out, " Resource=Goroutine({})", ev.g);
        }
        Kind::RangeBegin | Kind::RangeActive | Kind::RangeEnd => {
            out.push_str(" Name=");
            let scope = match ev.typ {
                EV_STW_BEGIN | EV_STW_END => {
                    go_quote(out, &format!("stop-the-world ({})", string(a[0])));
                    format!("Goroutine({})", ev.g)
                }
                EV_GC_BEGIN | EV_GC_ACTIVE | EV_GC_END => {
                    go_quote(out, "GC concurrent mark phase");
                    "None".to_string()
                }
                EV_GC_SWEEP_BEGIN | EV_GC_SWEEP_ACTIVE | EV_GC_SWEEP_END => {
                    go_quote(out, "GC incremental sweep");
                    let p = if ev.typ == EV_GC_SWEEP_ACTIVE {
                        a[0] as i64
                    } else {
                        ev.p
                    };
                    format!("Proc({p})")
                }
                _ => {
                    go_quote(out, "GC mark assist");
                    let g = if ev.typ == EV_GC_MARK_ASSIST_ACTIVE {
                        a[0] as i64
                    } else {
                        ev.g
                    };
                    format!("Goroutine({g})")
                }
            };
            let _ = write!(out, " Scope={scope}");
            if kind == Kind::RangeEnd {
                out.push_str(" Attributes=[");
                if ev.typ == EV_GC_SWEEP_END {
                    let _ = write!(
                        out,
                        "\"bytes swept\"=Value{{Uint64({})}} \"bytes reclaimed\"=Value{{Uint64({})}}",
                        a[0], a[1]
                    );
                }
                out.push(']');
            }
        }
        Kind::TaskBegin | Kind::TaskEnd => {
            let (parent, name) = if kind == Kind::TaskBegin {
                (a[1], string(a[2]))
            } else {
                (a[2], tables.extra_string(a[3]))
            };
            let _ = write!(out, " ID={} Parent={} Type=", a[0], parent);
            go_quote(out, name);
        }
        Kind::RegionBegin | Kind::RegionEnd => {
            let _ = write!(out, " Task={} Type=", a[0]);
            go_quote(out, string(a[1]));
        }
        Kind::Log => {
            let _ = write!(out, " Task={} Category=", a[0]);
            go_quote(out, string(a[1]));
            out.push_str(" Message=");
            go_quote(out, string(a[2]));
        }
        Kind::StateTransition => {
            if let Some(t) = ev.transition() {
                match t.resource {
                    Resource::Goroutine(g) => {
                        let _ = write!(
                            out,
                            " GoID={g} {}->{}",
                            go_state_name(t.from),
                            go_state_name(t.to)
                        );
                    }
                    Resource::Proc(p) => {
                        let _ = write!(
                            out,
                            " ProcID={p} {}->{}",
                            proc_state_name(t.from),
                            proc_state_name(t.to)
                        );
                    }
                }
                out.push_str(" Reason=");
                go_quote(out, string(t.reason));
                if let Some(stack) = t.stack {
                    out.push_str("\nTransitionStack=\n");
                    write_stack(out, tables, stack);
                }
            }
        }
        Kind::Experimental => {
            let s = spec(ev.typ);
            let _ = write!(out, " Name={} Args=[", s.map_or("", |s| s.name));
            for (i, name) in s.map_or(&[][..], |s| s.args).iter().enumerate() {
                if i != 0 {
                    out.push_str(", ");
                }
                let _ = write!(out, "{name}=Value{{Uint64({})}}", a[i]);
            }
            out.push(']');
        }
        Kind::Sync => {
            let _ = write!(out, " N={}", a[0]);
            if let Some(c) = tables.clock {
                let _ = write!(
                    out,
                    " Trace={} Mono={} Wall={}",
                    tables.ns(c.trace_ticks),
                    c.mono_ns,
                    rfc3339_nano_utc(c.wall_sec as i64, c.wall_nsec as u32)
                );
            }
        }
        Kind::StackSample => {}
    }
    let stack = ev.stack_id();
    if stack != 0 || kind == Kind::StackSample {
        out.push_str("\nStack=\n");
        write_stack(out, tables, stack);
    }
}

impl Event {
    /// A CPU sample as the ordered event that delivers it.
    pub fn of_cpu_sample(s: &crate::generation::CpuSample) -> Event {
        Event {
            time_ns: s.time_ns,
            m: s.m,
            p: s.p,
            g: s.g,
            args: [s.stack, 0, 0, 0],
            typ: EV_CPU_SAMPLE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_matches_go() {
        let mut s = String::new();
        go_quote(&mut s, "a\"b\\c\n\u{1}é");
        assert_eq!(s, r#""a\"b\\c\n\x01é""#);
    }

    #[test]
    fn rfc3339() {
        assert_eq!(rfc3339_nano_utc(0, 0), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339_nano_utc(1_700_000_000, 120_000_000),
            "2023-11-14T22:13:20.12Z"
        );
        assert_eq!(
            rfc3339_nano_utc(951_782_400, 1),
            "2000-02-29T00:00:00.000000001Z"
        );
    }

    #[test]
    fn kinds() {
        assert_eq!(kind_of(EV_GO_BLOCK), Kind::StateTransition);
        assert_eq!(kind_of(EV_GC_SWEEP_ACTIVE), Kind::RangeActive);
        assert_eq!(kind_of(EV_HEAP_GOAL), Kind::Metric);
        assert_eq!(kind_of(131), Kind::Experimental);
        assert_eq!(kind_of(EV_SYNC), Kind::Sync);
    }
}
