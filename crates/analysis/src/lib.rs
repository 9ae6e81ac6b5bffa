//! Analyses over the ordered event stream: goroutine summaries (time in each state),
//! blocking and scheduler-latency profiles (exported as pprof), and MMU curves.
//!
//! Each analysis is a fold: feed it every event with `event(ev, tables)` in the order
//! `trace::read` delivers them, then call `finish`. They keep only trace-wide data
//! (strings and stacks are resolved inside the callback, since ids are per generation),
//! so several can share one read. Go's `go tool trace` is the oracle for every number:
//! `summary` follows `internal/trace/summary.go`, `pprof` follows `cmd/trace/pprof.go`
//! and `traceviewer.BuildProfile`, `mmu` follows `internal/trace/gc.go`.
//!
//! **Architecture Invariant:** analyses never panic on any event sequence, including
//! ones Go's reader would reject or Go's own analyses crash on.

pub mod findings;
pub mod gc;
pub mod mmu;
pub mod pprof;
pub mod proto;
pub mod selection;
pub mod stacks;
pub mod summary;
pub mod tasks;

use std::borrow::Cow;

use goscope_trace::spec::*;
use goscope_trace::{Event, Tables};

pub use stacks::{StackId, StackTable};

/// Reads a whole trace into one analysis fold, the fold running on this thread while the
/// events are ordered on another (`trace::read_pipelined`), so the two costs overlap.
pub fn read_into<S: goscope_trace::Source + ?Sized>(
    data: &S,
    mut fold: impl FnMut(&Event, &Tables) + Send,
) -> goscope_trace::Result<goscope_trace::Outcome> {
    goscope_trace::read_pipelined(
        data,
        goscope_trace::ReadOptions::default(),
        &std::sync::atomic::AtomicBool::new(false),
        &mut fold,
        &mut |_| {},
    )
}

/// The special ranges of Go's parsed API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RangeKind {
    /// "stop-the-world (KIND)"; `kind` is a string id of the event's generation.
    StopTheWorld { kind: u64 },
    /// "GC concurrent mark phase".
    GcMark,
    /// "GC incremental sweep".
    Sweep,
    /// "GC mark assist".
    MarkAssist,
}

/// What a range is attached to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RangeScope {
    None,
    Goroutine(i64),
    Proc(i64),
}

/// A range event's range: its kind and scope (Go's `Event.Range()`).
pub(crate) fn range_of(ev: &Event) -> Option<(RangeKind, RangeScope)> {
    let a = ev.args;
    Some(match ev.typ {
        EV_STW_BEGIN | EV_STW_END => (
            RangeKind::StopTheWorld { kind: a[0] },
            RangeScope::Goroutine(ev.g),
        ),
        EV_GC_BEGIN | EV_GC_ACTIVE | EV_GC_END => (RangeKind::GcMark, RangeScope::None),
        EV_GC_SWEEP_BEGIN | EV_GC_SWEEP_END => (RangeKind::Sweep, RangeScope::Proc(ev.p)),
        EV_GC_SWEEP_ACTIVE => (RangeKind::Sweep, RangeScope::Proc(a[0] as i64)),
        EV_GC_MARK_ASSIST_BEGIN | EV_GC_MARK_ASSIST_END => {
            (RangeKind::MarkAssist, RangeScope::Goroutine(ev.g))
        }
        EV_GC_MARK_ASSIST_ACTIVE => (RangeKind::MarkAssist, RangeScope::Goroutine(a[0] as i64)),
        _ => return None,
    })
}

/// The name Go gives a range.
pub(crate) fn range_name(kind: RangeKind, tables: &Tables) -> Cow<'static, str> {
    match kind {
        RangeKind::StopTheWorld { kind } => Cow::Owned(format!(
            "stop-the-world ({})",
            tables.string(kind).unwrap_or("")
        )),
        RangeKind::GcMark => Cow::Borrowed("GC concurrent mark phase"),
        RangeKind::Sweep => Cow::Borrowed("GC incremental sweep"),
        RangeKind::MarkAssist => Cow::Borrowed("GC mark assist"),
    }
}

/// Whether a goroutine with this start function is a runtime goroutine, as Go's
/// `IsSystemGoroutine` decides (an empty name counts as one).
pub(crate) fn is_system_goroutine(start_func: &str) -> bool {
    start_func.is_empty() || (start_func != "runtime.main" && start_func.starts_with("runtime."))
}
