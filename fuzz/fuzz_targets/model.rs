//! Builds the viewer's model from arbitrary bytes, with previews, and reads it back.
//!
//! Properties checked:
//! - neither `model::build_previewing` nor anything below panics, whatever the input;
//! - every packed lane reads back the same span by index (whole, and its times) as when
//!   unpacked a block at a time, and lays out exactly as that plain vector; every counter
//!   draws the same columns as its unpacked points.
#![no_main]

use std::sync::atomic::AtomicBool;

use goscope_model::{self as model, Model, lod};
use libfuzzer_sys::fuzz_target;

fn check_lane<S>(spans: &model::Spans<S>, views: &[lod::TimeView])
where
    S: model::spans::Fields + lod::Timed + PartialEq + std::fmt::Debug,
{
    let plain = spans.to_vec();
    assert_eq!(plain.len(), spans.len());
    for (i, s) in plain.iter().enumerate() {
        assert_eq!(spans.at(i), *s);
        assert_eq!(spans.times_at(i), (s.start_ns(), s.end_ns()));
    }
    for v in views {
        assert_eq!(
            spans.layout(v, 3.0),
            lod::layout(&plain, v, 3.0)
        );
    }
}

fn check(m: &Model) {
    let (t0, t1) = (m.start_ns as f64, m.end_ns as f64);
    let views = [
        lod::TimeView::new(t0, t1.max(t0 + 1.0), 800.0),
        lod::TimeView::new(t0 + (t1 - t0) / 3.0, t0 + (t1 - t0) / 2.0 + 1.0, 300.0),
    ];
    for g in &m.goroutines {
        check_lane(&g.spans, &views);
    }
    for p in &m.procs {
        check_lane(&p.spans, &views);
    }
    for t in &m.threads {
        check_lane(&t.spans, &views);
    }
    let c = &m.counters;
    for s in [&c.heap_alloc, &c.running, &c.runnable, &c.threads_syscall] {
        let plain = s.points();
        assert_eq!(plain.len(), s.len());
        for v in &views {
            let blocks = lod::block_summary(&plain[..]);
            let times = lod::block_times(&plain[..]);
            assert_eq!(
                s.columns(v, 1.0),
                lod::columns_with(&plain[..], &blocks, &times, v, 1.0)
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut previews = Vec::new();
    let mut on_preview = |m: Model| previews.push(m);
    let built = model::build_previewing(
        data,
        &AtomicBool::new(false),
        &mut |_| {},
        64,
        Some(&mut on_preview),
    );
    if let Ok(m) = built {
        check(&m);
    }
    for p in &previews {
        check(p);
    }
});
