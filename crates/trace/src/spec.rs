//! The v2 wire format's event table: type bytes, argument counts, and which arguments are stack or string ids.
//!
//! Every event in an ordinary per-M batch is `type byte, uvarint tick delta, N uvarint args`.
//! The table below is the single source of truth for N, for which args name a stack (the
//! first listed is the event's own stack) and which name a string. Types 128..=136 are the
//! AllocFree experiment's events; they are decoded like any other and surface as
//! `Experimental` events.

/// A wire event type byte.
pub type EvType = u8;

/// Header of a batch of one M's events.
pub const EV_EVENT_BATCH: EvType = 1;
/// First byte of a stack table batch body.
pub const EV_STACKS: EvType = 2;
/// One stack table entry: id and frames.
pub const EV_STACK: EvType = 3;
/// First byte of a string table batch body.
pub const EV_STRINGS: EvType = 4;
/// One string table entry: id and bytes.
pub const EV_STRING: EvType = 5;
/// First byte of a CPU sample batch body.
pub const EV_CPU_SAMPLES: EvType = 6;
/// One CPU profile sample: time, M, P, goroutine, stack.
pub const EV_CPU_SAMPLE: EvType = 7;
/// Ticks per second of the trace clock.
pub const EV_FREQUENCY: EvType = 8;
/// GOMAXPROCS changed.
pub const EV_PROCS_CHANGE: EvType = 9;
/// A P starts running.
pub const EV_PROC_START: EvType = 10;
/// A P stops.
pub const EV_PROC_STOP: EvType = 11;
/// A P is taken from a thread that is in a system call.
pub const EV_PROC_STEAL: EvType = 12;
/// A P's status at the start of a generation.
pub const EV_PROC_STATUS: EvType = 13;
/// A goroutine is created.
pub const EV_GO_CREATE: EvType = 14;
/// A goroutine appears on a thread entering Go from outside (cgo callback).
pub const EV_GO_CREATE_SYSCALL: EvType = 15;
/// A goroutine starts running.
pub const EV_GO_START: EvType = 16;
/// A goroutine exits.
pub const EV_GO_DESTROY: EvType = 17;
/// A goroutine created by `EV_GO_CREATE_SYSCALL` leaves Go.
pub const EV_GO_DESTROY_SYSCALL: EvType = 18;
/// A goroutine stops running but stays runnable (yield, preemption).
pub const EV_GO_STOP: EvType = 19;
/// A goroutine blocks.
pub const EV_GO_BLOCK: EvType = 20;
/// A goroutine is made runnable again.
pub const EV_GO_UNBLOCK: EvType = 21;
/// A goroutine enters a system call.
pub const EV_GO_SYSCALL_BEGIN: EvType = 22;
/// A goroutine returns from a system call and keeps its P.
pub const EV_GO_SYSCALL_END: EvType = 23;
/// A goroutine returns from a system call without a P.
pub const EV_GO_SYSCALL_END_BLOCKED: EvType = 24;
/// A goroutine's status at the start of a generation.
pub const EV_GO_STATUS: EvType = 25;
/// A stop-the-world begins.
pub const EV_STW_BEGIN: EvType = 26;
/// A stop-the-world ends.
pub const EV_STW_END: EvType = 27;
/// A GC cycle is in progress at the start of a generation.
pub const EV_GC_ACTIVE: EvType = 28;
/// A GC cycle begins.
pub const EV_GC_BEGIN: EvType = 29;
/// A GC cycle ends.
pub const EV_GC_END: EvType = 30;
/// A P is sweeping at the start of a generation.
pub const EV_GC_SWEEP_ACTIVE: EvType = 31;
/// A P starts sweeping.
pub const EV_GC_SWEEP_BEGIN: EvType = 32;
/// A P stops sweeping.
pub const EV_GC_SWEEP_END: EvType = 33;
/// A goroutine is in a mark assist at the start of a generation.
pub const EV_GC_MARK_ASSIST_ACTIVE: EvType = 34;
/// A goroutine starts a mark assist.
pub const EV_GC_MARK_ASSIST_BEGIN: EvType = 35;
/// A goroutine ends a mark assist.
pub const EV_GC_MARK_ASSIST_END: EvType = 36;
/// Heap bytes in use.
pub const EV_HEAP_ALLOC: EvType = 37;
/// Heap goal in bytes.
pub const EV_HEAP_GOAL: EvType = 38;
/// A label for the current goroutine.
pub const EV_GO_LABEL: EvType = 39;
/// A user task begins (`trace.NewTask`).
pub const EV_USER_TASK_BEGIN: EvType = 40;
/// A user task ends.
pub const EV_USER_TASK_END: EvType = 41;
/// A user region begins (`trace.WithRegion`, `trace.StartRegion`).
pub const EV_USER_REGION_BEGIN: EvType = 42;
/// A user region ends.
pub const EV_USER_REGION_END: EvType = 43;
/// A user log message (`trace.Log`).
pub const EV_USER_LOG: EvType = 44;
/// A coroutine switch to another goroutine (`iter.Pull`).
pub const EV_GO_SWITCH: EvType = 45;
/// A coroutine switch whose current goroutine exits.
pub const EV_GO_SWITCH_DESTROY: EvType = 46;
/// A goroutine is created in the waiting state.
pub const EV_GO_CREATE_BLOCKED: EvType = 47;
/// `EV_GO_STATUS` with the goroutine's stack.
pub const EV_GO_STATUS_STACK: EvType = 48;
/// Header of an experiment's batch.
pub const EV_EXPERIMENTAL_BATCH: EvType = 49;
/// First byte of a sync batch body (format 25+): frequency and clock snapshot.
pub const EV_SYNC_BATCH: EvType = 50;
/// A clock snapshot inside a sync batch.
pub const EV_CLOCK_SNAPSHOT: EvType = 51;
/// The end-of-generation marker (format 26).
pub const EV_END_OF_GENERATION: EvType = 52;
/// First experimental event type (AllocFree experiment).
pub const EV_EXPERIMENTAL_FIRST: EvType = 128;
/// One past the last experimental event type.
pub const EV_EXPERIMENTAL_END: EvType = 137;
/// Not a wire type: goscope's marker for the reader-made Sync events.
pub const EV_SYNC: EvType = 255;

/// What the table knows of one event type.
#[derive(Clone, Copy, Debug)]
pub struct Spec {
    /// The type's name as Go spells it (`GoBlock`).
    pub name: &'static str,
    /// Argument names after the tick delta (at most 4 for timed events).
    pub args: &'static [&'static str],
    /// Indices into `args` that are stack ids; the first is the event's own stack.
    pub stack_args: &'static [usize],
    /// Indices into `args` that are string ids.
    pub string_args: &'static [usize],
    /// Set for events that appear in ordinary per-M batches.
    pub timed: bool,
    /// The wire type of the matching begin event, for range ends and actives.
    pub start_ev: EvType,
}

const fn timed(
    name: &'static str,
    args: &'static [&'static str],
    stack_args: &'static [usize],
    string_args: &'static [usize],
    start_ev: EvType,
) -> Option<Spec> {
    Some(Spec {
        name,
        args,
        stack_args,
        string_args,
        timed: true,
        start_ev,
    })
}

const fn structural(name: &'static str) -> Option<Spec> {
    Some(Spec {
        name,
        args: &[],
        stack_args: &[],
        string_args: &[],
        timed: false,
        start_ev: 0,
    })
}

/// The table, indexed by type byte.
pub static SPECS: [Option<Spec>; 256] = {
    let mut t: [Option<Spec>; 256] = [None; 256];
    t[EV_EVENT_BATCH as usize] = structural("EventBatch");
    t[EV_STACKS as usize] = structural("Stacks");
    t[EV_STACK as usize] = structural("Stack");
    t[EV_STRINGS as usize] = structural("Strings");
    t[EV_STRING as usize] = structural("String");
    t[EV_CPU_SAMPLES as usize] = structural("CPUSamples");
    t[EV_CPU_SAMPLE as usize] = structural("CPUSample");
    t[EV_FREQUENCY as usize] = structural("Frequency");
    t[EV_EXPERIMENTAL_BATCH as usize] = structural("ExperimentalBatch");
    t[EV_SYNC_BATCH as usize] = structural("Sync");
    t[EV_END_OF_GENERATION as usize] = structural("EndOfGeneration");

    t[EV_PROCS_CHANGE as usize] = timed("ProcsChange", &["procs_value", "stack"], &[1], &[], 0);
    t[EV_PROC_START as usize] = timed("ProcStart", &["p", "p_seq"], &[], &[], 0);
    t[EV_PROC_STOP as usize] = timed("ProcStop", &[], &[], &[], 0);
    t[EV_PROC_STEAL as usize] = timed("ProcSteal", &["p", "p_seq", "m"], &[], &[], 0);
    t[EV_PROC_STATUS as usize] = timed("ProcStatus", &["p", "pstatus"], &[], &[], 0);
    t[EV_GO_CREATE as usize] = timed(
        "GoCreate",
        &["new_g", "new_stack", "stack"],
        &[2, 1],
        &[],
        0,
    );
    t[EV_GO_CREATE_SYSCALL as usize] = timed("GoCreateSyscall", &["new_g"], &[], &[], 0);
    t[EV_GO_START as usize] = timed("GoStart", &["g", "g_seq"], &[], &[], 0);
    t[EV_GO_DESTROY as usize] = timed("GoDestroy", &[], &[], &[], 0);
    t[EV_GO_DESTROY_SYSCALL as usize] = timed("GoDestroySyscall", &[], &[], &[], 0);
    t[EV_GO_STOP as usize] = timed("GoStop", &["reason_string", "stack"], &[1], &[0], 0);
    t[EV_GO_BLOCK as usize] = timed("GoBlock", &["reason_string", "stack"], &[1], &[0], 0);
    t[EV_GO_UNBLOCK as usize] = timed("GoUnblock", &["g", "g_seq", "stack"], &[2], &[], 0);
    t[EV_GO_SYSCALL_BEGIN as usize] = timed("GoSyscallBegin", &["p_seq", "stack"], &[1], &[], 0);
    t[EV_GO_SYSCALL_END as usize] = timed("GoSyscallEnd", &[], &[], &[], EV_GO_SYSCALL_BEGIN);
    t[EV_GO_SYSCALL_END_BLOCKED as usize] =
        timed("GoSyscallEndBlocked", &[], &[], &[], EV_GO_SYSCALL_BEGIN);
    t[EV_GO_STATUS as usize] = timed("GoStatus", &["g", "m", "gstatus"], &[], &[], 0);
    t[EV_STW_BEGIN as usize] = timed("STWBegin", &["kind_string", "stack"], &[1], &[0], 0);
    t[EV_STW_END as usize] = timed("STWEnd", &[], &[], &[], EV_STW_BEGIN);
    t[EV_GC_ACTIVE as usize] = timed("GCActive", &["gc_seq"], &[], &[], EV_GC_BEGIN);
    t[EV_GC_BEGIN as usize] = timed("GCBegin", &["gc_seq", "stack"], &[1], &[], 0);
    t[EV_GC_END as usize] = timed("GCEnd", &["gc_seq"], &[], &[], EV_GC_BEGIN);
    t[EV_GC_SWEEP_ACTIVE as usize] = timed("GCSweepActive", &["p"], &[], &[], EV_GC_SWEEP_BEGIN);
    t[EV_GC_SWEEP_BEGIN as usize] = timed("GCSweepBegin", &["stack"], &[0], &[], 0);
    t[EV_GC_SWEEP_END as usize] = timed(
        "GCSweepEnd",
        &["swept_value", "reclaimed_value"],
        &[],
        &[],
        EV_GC_SWEEP_BEGIN,
    );
    t[EV_GC_MARK_ASSIST_ACTIVE as usize] = timed(
        "GCMarkAssistActive",
        &["g"],
        &[],
        &[],
        EV_GC_MARK_ASSIST_BEGIN,
    );
    t[EV_GC_MARK_ASSIST_BEGIN as usize] = timed("GCMarkAssistBegin", &["stack"], &[0], &[], 0);
    t[EV_GC_MARK_ASSIST_END as usize] =
        timed("GCMarkAssistEnd", &[], &[], &[], EV_GC_MARK_ASSIST_BEGIN);
    t[EV_HEAP_ALLOC as usize] = timed("HeapAlloc", &["heapalloc_value"], &[], &[], 0);
    t[EV_HEAP_GOAL as usize] = timed("HeapGoal", &["heapgoal_value"], &[], &[], 0);
    t[EV_GO_LABEL as usize] = timed("GoLabel", &["label_string"], &[], &[0], 0);
    t[EV_USER_TASK_BEGIN as usize] = timed(
        "UserTaskBegin",
        &["task", "parent_task", "name_string", "stack"],
        &[3],
        &[2],
        0,
    );
    t[EV_USER_TASK_END as usize] = timed("UserTaskEnd", &["task", "stack"], &[1], &[], 0);
    t[EV_USER_REGION_BEGIN as usize] = timed(
        "UserRegionBegin",
        &["task", "name_string", "stack"],
        &[2],
        &[1],
        0,
    );
    t[EV_USER_REGION_END as usize] = timed(
        "UserRegionEnd",
        &["task", "name_string", "stack"],
        &[2],
        &[1],
        EV_USER_REGION_BEGIN,
    );
    t[EV_USER_LOG as usize] = timed(
        "UserLog",
        &["task", "key_string", "value_string", "stack"],
        &[3],
        &[1, 2],
        0,
    );
    t[EV_GO_SWITCH as usize] = timed("GoSwitch", &["g", "g_seq"], &[], &[], 0);
    t[EV_GO_SWITCH_DESTROY as usize] = timed("GoSwitchDestroy", &["g", "g_seq"], &[], &[], 0);
    t[EV_GO_CREATE_BLOCKED as usize] = timed(
        "GoCreateBlocked",
        &["new_g", "new_stack", "stack"],
        &[2, 1],
        &[],
        0,
    );
    t[EV_GO_STATUS_STACK as usize] = timed(
        "GoStatusStack",
        &["g", "m", "gstatus", "stack"],
        &[3],
        &[],
        0,
    );
    t[EV_CLOCK_SNAPSHOT as usize] = timed("ClockSnapshot", &["mono", "sec", "nsec"], &[], &[], 0);

    t[128] = timed("Span", &["id", "npages_value", "kindclass"], &[], &[], 0);
    t[129] = timed(
        "SpanAlloc",
        &["id", "npages_value", "kindclass"],
        &[],
        &[],
        0,
    );
    t[130] = timed("SpanFree", &["id"], &[], &[], 0);
    t[131] = timed("HeapObject", &["id", "type"], &[], &[], 0);
    t[132] = timed("HeapObjectAlloc", &["id", "type"], &[], &[], 0);
    t[133] = timed("HeapObjectFree", &["id"], &[], &[], 0);
    t[134] = timed("GoroutineStack", &["id", "order"], &[], &[], 0);
    t[135] = timed("GoroutineStackAlloc", &["id", "order"], &[], &[], 0);
    t[136] = timed("GoroutineStackFree", &["id"], &[], &[], 0);
    t
};

/// The spec of a type byte, if the table has one.
#[inline]
pub fn spec(typ: EvType) -> Option<&'static Spec> {
    SPECS[typ as usize].as_ref()
}

/// What the per-event paths (decoding, the id checks, an event's own stack) need of a
/// type's `Spec`, in six bytes: a look-up reads one small table instead of `SPECS` and the
/// slices its entries point to. Argument indices in it are below 4 (checked as it is built),
/// so readers may mask them with 3 to index `args` without a bounds check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Brief {
    /// The type has a `Spec`.
    pub known: bool,
    /// Its `Spec` is timed (appears in per-M batches).
    pub timed: bool,
    /// Its argument count (after the time delta, for a timed type).
    pub args: u8,
    /// The argument that is the event's own stack id (the first of `Spec::stack_args`),
    /// or `NO_ARG`.
    pub own_stack: u8,
    /// Bit i: argument i is another stack id (the rest of `Spec::stack_args`).
    pub other_stacks: u8,
    /// Bit i: argument i is a string id (`Spec::string_args`).
    pub string_mask: u8,
}

/// `Brief`s by type byte, made from `SPECS`.
pub static BRIEFS: [Brief; 256] = {
    let mut t = [Brief {
        known: false,
        timed: false,
        args: 0,
        own_stack: NO_ARG,
        other_stacks: 0,
        string_mask: 0,
    }; 256];
    let mut typ = 0;
    while typ < 256 {
        if let Some(s) = &SPECS[typ] {
            t[typ] = Brief {
                known: true,
                timed: s.timed,
                args: s.args.len() as u8,
                own_stack: match s.stack_args {
                    [] => NO_ARG,
                    [own, ..] => *own as u8,
                },
                other_stacks: match s.stack_args {
                    [] => 0,
                    [_, rest @ ..] => mask_of(rest),
                },
                string_mask: mask_of(s.string_args),
            };
        }
        typ += 1;
    }
    t
};

/// `Brief::own_stack` of a type without stack arguments.
pub const NO_ARG: u8 = 4;

/// The arguments `indices` names, as bits. They must be increasing and below 4 (an event
/// has at most four), so that checks walking the bits go in the order of the list (the
/// build fails otherwise).
const fn mask_of(indices: &[usize]) -> u8 {
    let mut mask = 0u8;
    let mut k = 0;
    while k < indices.len() {
        assert!(indices[k] < 4 && (k == 0 || indices[k] > indices[k - 1]));
        mask |= 1 << indices[k];
        k += 1;
    }
    mask
}

/// Whether a type byte is one of the experimental (AllocFree) events.
#[inline]
pub fn is_experimental(typ: EvType) -> bool {
    (EV_EXPERIMENTAL_FIRST..EV_EXPERIMENTAL_END).contains(&typ)
}

/// A goroutine status as written in GoStatus events.
pub mod gstatus {
    /// Not a valid status.
    pub const BAD: u64 = 0;
    /// Ready to run.
    pub const RUNNABLE: u64 = 1;
    /// Running.
    pub const RUNNING: u64 = 2;
    /// In a system call.
    pub const SYSCALL: u64 = 3;
    /// Blocked.
    pub const WAITING: u64 = 4;
}

/// A P status as written in ProcStatus events.
pub mod pstatus {
    /// Not a valid status.
    pub const BAD: u64 = 0;
    /// In use by a thread.
    pub const RUNNING: u64 = 1;
    /// Idle.
    pub const IDLE: u64 = 2;
    /// Held by a thread in a system call.
    pub const SYSCALL: u64 = 3;
    /// Given up by a thread in a system call.
    pub const SYSCALL_ABANDONED: u64 = 4;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each brief says what its spec says.
    #[test]
    fn briefs_agree_with_the_specs() {
        let mask = |ix: &[usize]| ix.iter().fold(0u8, |m, &i| m | 1 << i);
        for typ in 0..=255u8 {
            let b = BRIEFS[typ as usize];
            let Some(s) = spec(typ) else {
                assert!(!b.known && !b.timed, "type {typ}");
                continue;
            };
            assert!(b.known, "{}", s.name);
            assert_eq!(b.timed, s.timed, "{}", s.name);
            assert_eq!(b.args as usize, s.args.len(), "{}", s.name);
            assert_eq!(
                s.stack_args.first().map_or(NO_ARG, |&i| i as u8),
                b.own_stack,
                "{}",
                s.name
            );
            assert_eq!(
                mask(s.stack_args.get(1..).unwrap_or(&[])),
                b.other_stacks,
                "{}",
                s.name
            );
            assert_eq!(mask(s.string_args), b.string_mask, "{}", s.name);
        }
        // GoCreate names its own stack after the new goroutine's.
        assert_eq!(BRIEFS[EV_GO_CREATE as usize].own_stack, 2);
        assert_eq!(BRIEFS[EV_GO_CREATE as usize].other_stacks, 0b10);
    }

    #[test]
    fn timed_events_have_at_most_four_args() {
        for s in SPECS.iter().flatten() {
            assert!(s.args.len() <= 4, "{} has {} args", s.name, s.args.len());
            for &i in s.stack_args.iter().chain(s.string_args) {
                assert!(i < s.args.len(), "{} names arg {i}", s.name);
            }
        }
    }

    #[test]
    fn names_match_known_types() {
        assert_eq!(spec(EV_GO_BLOCK).unwrap().name, "GoBlock");
        assert_eq!(spec(EV_GO_STATUS_STACK).unwrap().name, "GoStatusStack");
        assert_eq!(spec(136).unwrap().name, "GoroutineStackFree");
        assert!(spec(137).is_none());
        assert!(spec(0).is_none());
        assert!(is_experimental(130) && !is_experimental(EV_CLOCK_SNAPSHOT));
    }
}
