//! Inputs found by `fuzz/` (cargo fuzz run decode) that once made the decoder panic.
//! Each must decode — successfully or with an error — without panicking, in both modes.

use std::sync::atomic::AtomicBool;

use goscope_trace::{self as trace, ReadOptions};

fn decode_all_ways(data: &[u8]) {
    if let Ok(scan) = trace::batch::scan(data) {
        for span in &scan.generations {
            let _ = trace::generation::decode(scan.version, span);
        }
    }
    for parallel in [true, false] {
        let mut text = String::new();
        let opts = ReadOptions {
            parallel,
            order_ahead: parallel,
            keep_resumes: true,
            resume_every_steps: 3,
            ..ReadOptions::default()
        };
        let read = trace::read(data, opts, |ev, tables| {
            text.clear();
            trace::write_go_text(&mut text, ev, tables);
        });
        for r in read.iter().flat_map(|o| &o.resumes) {
            let _ = trace::reorder(data, r, |_, _| {});
            for k in 0..r.points_ns().count() {
                let _ = trace::reorder_pipelined_until(
                    data,
                    r,
                    Some(k),
                    i64::MAX,
                    &AtomicBool::new(false),
                    &mut |_, _| {},
                );
            }
        }
    }
}

/// A batch of generation u64::MAX followed by an unreadable batch: `scan` computed
/// `generation + 1` and overflowed ("attempt to add with overflow", batch.rs).
#[test]
fn generation_u64_max_then_bad_batch() {
    let data: &[u8] = &[
        // header "go 1.23 trace\0\0\0"
        b'g', b'o', b' ', b'1', b'.', b'2', b'3', b' ', b't', b'r', b'a', b'c', b'e', 0, 0, 0,
        0x01, // batch
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, // generation = u64::MAX
        0x01, // M = 1
        0x00, // base time = 0
        0x00, // body size = 0
        0x29, // a stray byte where the next batch header should be
    ];
    decode_all_ways(data);
}

/// An empty batch of generation u64::MAX, then one of generation 1: `scan` checked
/// whether the new batch starts the next generation with `generation + 1` and overflowed
/// ("attempt to add with overflow", batch.rs).
#[test]
fn generation_u64_max_then_other_generation() {
    let data: &[u8] = &[
        // header "go 1.23 trace\0\0\0"
        b'g', b'o', b' ', b'1', b'.', b'2', b'3', b' ', b't', b'r', b'a', b'c', b'e', 0, 0, 0,
        0x01, // batch
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, // generation = u64::MAX
        0x01, // M = 1
        0x00, // base time = 0
        0x00, // body size = 0
        0x01, // batch
        0x01, // generation = 1
        0x01, // M = 1
        0x00, // base time = 0
        0x00, // body size = 0
    ];
    decode_all_ways(data);
}

/// Frequency 0: ns per tick is +inf, so every timestamp converts to i64::MAX (Rust's
/// saturating `as`), and making timestamps strictly increasing computed `last_ns + 1`
/// ("attempt to add with overflow", order.rs). Go's reader (amd64) converts such values
/// to i64::MIN and so prints times 1, 2, 3, 4 for this trace.
#[test]
fn frequency_zero() {
    let data: &[u8] = &[
        // header "go 1.22 trace\0\0\0"
        b'g', b'o', b' ', b'1', b'.', b'2', b'2', b' ', b't', b'r', b'a', b'c', b'e', 0, 0, 0,
        // batch: generation 1, M 0, time 0, 2 bytes: Frequency 0
        0x01, 0x01, 0x00, 0x00, 0x02, 0x08, 0x00,
        // batch: generation 1, M 1, time 1, 8 bytes:
        0x01, 0x01, 0x01, 0x01, 0x08, 0x0d, 0x01, 0x00, 0x02, // ProcStatus dt=1 P=0 idle
        0x0d, 0x01, 0x01, 0x02, // ProcStatus dt=1 P=1 idle
    ];
    decode_all_ways(data);
}
