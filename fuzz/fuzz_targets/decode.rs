//! Decodes arbitrary bytes as a Go execution trace, in parallel and sequentially.
//!
//! Properties checked:
//! - neither `trace::read` nor `batch::scan` panics, whatever the input;
//! - when both reads succeed they deliver the same events (with the same generation)
//!   and the same outcome;
//! - every delivered event can be rendered as Go's text (`write_go_text`) without panic;
//! - each generation ordered again from its saved start state (`reorder`) gives the events
//!   the read gave for it;
//! - a read of the generations that begin in the first half of the input
//!   (`ReadOptions::prefix_bytes`) gives the whole read's first events, then a final Sync.
#![no_main]

use std::sync::atomic::AtomicBool;

use goscope_trace::{self as trace, ReadOptions};
use libfuzzer_sys::fuzz_target;

fn collect(data: &[u8], parallel: bool, render: bool) -> (Result<trace::Outcome, trace::Error>, Vec<(trace::Event, u64)>) {
    let mut events = Vec::new();
    let mut text = String::new();
    let opts = ReadOptions {
        parallel,
        order_ahead: parallel,
        keep_resumes: !parallel,
        resume_every_steps: if parallel { 0 } else { 16 },
        ..ReadOptions::default()
    };
    let res = trace::read(data, opts, |ev, tables| {
        events.push((*ev, tables.generation));
        if render {
            text.clear();
            trace::write_go_text(&mut text, ev, tables);
        }
    });
    (res, events)
}

/// Reads the generations that begin in the first half of `data` and compares with the
/// whole read's events (`events`, of a read that succeeded).
fn check_prefix(data: &[u8], events: &[(trace::Event, u64)]) {
    let opts = ReadOptions {
        parallel: false,
        prefix_bytes: data.len() as u64 / 2,
        ..ReadOptions::default()
    };
    let mut prefix = Vec::new();
    if trace::read(data, opts, |ev, tables| prefix.push((*ev, tables.generation))).is_err() {
        return;
    }
    let n = prefix.len().saturating_sub(1);
    assert!(n <= events.len(), "a prefix read gave more events than the whole read");
    assert!(prefix[..n] == events[..n], "a prefix read's events differ from the whole read's");
}

/// Orders each generation again from its resume and compares with the read's events.
fn check_resumes(data: &[u8], outcome: &trace::Outcome, events: &[(trace::Event, u64)]) {
    for r in &outcome.resumes {
        let mut again = Vec::new();
        let ordered = trace::reorder(data, r, |ev, t| again.push((*ev, t.generation)));
        assert!(ordered.is_ok(), "generation {} ordered again failed: {:?}", r.generation, ordered.err());
        let expected: Vec<_> = events
            .iter()
            .filter(|e| e.1 == r.generation || (r.last && e.1 == 0))
            .copied()
            .collect();
        assert!(again == expected, "generation {} ordered again differs", r.generation);
        // At most eight points of each generation, spread over it: ordering from every
        // one would take time quadratic in the generation's events.
        let points = r.points_ns().count();
        let stride = points.div_ceil(8).max(1);
        for (k, point_ns) in r.points_ns().enumerate().step_by(stride) {
            let mut rest = Vec::new();
            let ordered = trace::reorder_pipelined_until(data, r, Some(k), i64::MAX, &AtomicBool::new(false), &mut |ev, t| {
                rest.push((*ev, t.generation))
            });
            assert!(ordered.is_ok(), "generation {} from point {k} failed: {:?}", r.generation, ordered.err());
            let after = expected.iter().position(|e| e.0.time_ns > point_ns).unwrap_or(expected.len());
            assert!(rest[..] == expected[after..], "generation {} from point {k} differs", r.generation);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(scan) = trace::batch::scan(data) {
        for span in &scan.generations {
            let _ = trace::generation::decode(scan.version, span);
        }
    }
    let (par, par_events) = collect(data, true, false);
    let (seq, seq_events) = collect(data, false, true);
    if let Ok(s) = &seq {
        check_resumes(data, s, &seq_events);
        check_prefix(data, &seq_events);
    }
    match (&par, &seq) {
        (Ok(p), Ok(s)) => {
            assert_eq!(par_events.len(), seq_events.len(), "event counts differ");
            if let Some(i) = (0..par_events.len()).find(|&i| par_events[i] != seq_events[i]) {
                panic!(
                    "event {i} differs: parallel {:?} sequential {:?}",
                    par_events[i], seq_events[i]
                );
            }
            assert_eq!(p.generations, s.generations, "generations differ");
            assert_eq!(p.complete_bytes, s.complete_bytes, "complete_bytes differ");
            assert_eq!(p.warning.is_some(), s.warning.is_some(), "warnings differ: {:?} vs {:?}", p.warning, s.warning);
        }
        (Err(_), Err(_)) => {}
        _ => panic!(
            "one read failed: parallel {:?} sequential {:?}",
            par.as_ref().err(),
            seq.as_ref().err()
        ),
    }
});
