//! Go 1.11–1.21 traces (formats 11, 19, 21; "v1"): decoded, merged and converted to the events Go 1.22+'s reader gives for them, as one generation.
//!
//! Steps, each in its own file:
//! - `wire`: the byte format and one raw event;
//! - `decode`: one pass indexing each P's batches and reading the tables (strings, stacks,
//!   frequency, timer goroutines, CPU samples); then batches decoded one at a time;
//! - `merge`: Go's merge of the Ps' batches by goroutine sequence and time, the real times
//!   of syscall exits, ticks to ns, fake Ps, and Go's consistency checks;
//! - `convert`: the v1 events as v2 events, with Go's approximations.
//!
//! Unlike v2 there are no generations to bound the work: every event is held (56 bytes
//! each) from the merge until it is converted, because syscall exits move in time and the
//! stream is sorted once more at the end, and because the frequency and the stack table
//! come last in the file.

mod convert;
pub mod decode;
mod merge;
pub mod wire;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};
use crate::event::{Event, NONE};
use crate::generation::Tables;
use crate::spec::EV_SYNC;

/// What reading a v1 trace gave besides its events.
#[derive(Debug)]
pub struct Read {
    /// Whether every event was delivered.
    pub complete: bool,
    /// Bytes of the file that were read (all of it unless it is cut or corrupt).
    pub read_bytes: u64,
    /// Why not everything could be read, when it could not.
    pub warning: Option<Error>,
}

/// Reads a v1 trace of format `version` into `emit`, as Go's reader gives it: a Sync, the
/// events, a Sync. Fails when nothing can be delivered; a cut or corrupt file whose start
/// can be ordered gives that start and a warning.
pub fn read(
    data: &[u8],
    version: u32,
    cancel: &AtomicBool,
    emit: &mut dyn FnMut(&Event, &Arc<Tables>),
) -> Result<Read> {
    let mut ix = decode::index(data, version);
    let cut = ix.cut.take();
    let read_bytes = ix.end as u64;
    let Some(ticks_per_sec) = ix.ticks_per_sec else {
        let why = match &cut {
            Some(c) => format!(
                "the trace's frequency is missing (v1 traces write it at their end, and this one is cut: {c})"
            ),
            None => "the trace states no frequency (v1 traces write it near their end: is the file cut?)".to_string(),
        };
        return Err(Error::broken(read_bytes, None, why));
    };
    let cancelled = || Error::broken(0, None, "reading was cancelled");
    if cancel.load(Ordering::Relaxed) {
        return Err(cancelled());
    }
    let merged = merge::merge(data, &mut ix, version, cancel);
    let mut events = merged.events;
    let mut warning = cut;
    if let Some(e) = merged.stopped {
        if warning.is_none() || cancel.load(Ordering::Relaxed) {
            return Err(e);
        }
    }
    merge::times(&mut events, ticks_per_sec, &ix.timer_goroutines)?;
    let stacks = &ix.stacks;
    let (good, failed) = merge::check(&mut events, |id| stacks.contains_key(&id));
    if let Some(e) = failed {
        if warning.is_none() {
            return Err(e);
        }
        events.truncate(good);
    }
    if cancel.load(Ordering::Relaxed) {
        return Err(cancelled());
    }

    let strings = convert::Strings::new(std::mem::take(&mut ix.strings), data, &events)?;
    let names = task_names(&strings.entries, &events);
    let mut conv = convert::Converter::new(data, version, strings, names, &events);
    let tables = Arc::new(convert::tables(
        conv.take_strings(),
        std::mem::take(&mut ix.stacks),
        std::mem::take(&mut ix.frames),
        conv.extra_strings.clone(),
        ticks_per_sec,
    ));

    let sync = |n: u64, time_ns: i64| Event {
        time_ns,
        m: NONE,
        p: NONE,
        g: NONE,
        args: [n, 0, 0, 0],
        typ: EV_SYNC,
    };
    if let Some(first) = events.first() {
        emit(&sync(1, first.ts.wrapping_sub(1)), &tables);
    }
    let mut sink = |ev: &Event| emit(ev, &tables);
    for (i, e) in events.iter().enumerate() {
        if i % 65_536 == 0 && cancel.load(Ordering::Relaxed) {
            return Ok(Read {
                complete: false,
                read_bytes,
                warning: Some(cancelled()),
            });
        }
        if let Err(err) = conv.convert(i, e, &mut sink) {
            return Ok(Read {
                complete: false,
                read_bytes,
                warning: Some(err),
            });
        }
    }
    let n = if events.is_empty() { 1 } else { 2 };
    emit(&sync(n, conv.last_ns.wrapping_add(1)), &tables);
    Ok(Read {
        complete: warning.is_none(),
        read_bytes,
        warning: warning.take(),
    })
}

/// The names of the tasks the trace begins (by name string id).
fn task_names(strings: &[(u64, Box<str>)], events: &[decode::V1Event]) -> HashMap<u64, Box<str>> {
    let ids: HashSet<u64> = events
        .iter()
        .filter(|e| e.typ() == wire::ev::USER_TASK_CREATE)
        .map(|e| e.args[2])
        .collect();
    strings
        .iter()
        .filter(|(id, _)| ids.contains(id))
        .map(|(id, s)| (*id, s.clone()))
        .collect()
}
