//! Decodes arbitrary bytes as a v1 (Go 1.11–1.21) trace: the first byte picks the format
//! (11, 19 or 21), the rest follows the header.
//!
//! Properties checked:
//! - `trace::read` neither panics nor fails without naming an offset, whatever the bytes;
//! - the parallel, sequential and pipelined reads deliver the same events and outcome;
//! - every delivered event can be rendered as Go's text (`write_go_text`) without panic.
#![no_main]

use std::sync::atomic::AtomicBool;

use goscope_trace::{self as trace, Event, ReadOptions};
use libfuzzer_sys::fuzz_target;

fn outcome(r: &Result<trace::Outcome, trace::Error>) -> String {
    match r {
        Ok(o) => format!("{} {} {:?}", o.generations, o.complete_bytes, o.warning),
        Err(e) => format!("error {e}"),
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((&pick, body)) = input.split_first() else {
        return;
    };
    let version = [11, 19, 21][pick as usize % 3];
    let mut data = format!("go 1.{version} trace\0\0\0").into_bytes();
    data.extend_from_slice(body);

    let mut seq = Vec::new();
    let mut text = String::new();
    let opts = ReadOptions {
        parallel: false,
        order_ahead: false,
        ..ReadOptions::default()
    };
    let r_seq = trace::read(&data, opts, |ev, t| {
        seq.push(*ev);
        text.clear();
        trace::write_go_text(&mut text, ev, t);
    });
    if let Err(e) = &r_seq {
        assert!(e.to_string().contains("offset"), "error without an offset: {e}");
    }
    let mut par = Vec::new();
    let r_par = trace::read(&data, ReadOptions::default(), |ev, _| par.push(*ev));
    assert_eq!(outcome(&r_seq), outcome(&r_par));
    assert!(seq == par, "parallel and sequential reads differ");
    let mut piped: Vec<Event> = Vec::new();
    let r_piped = trace::read_pipelined(
        &data[..],
        ReadOptions::default(),
        &AtomicBool::new(false),
        &mut |ev: &Event, _: &trace::Tables| piped.push(*ev),
        &mut |_| {},
    );
    assert_eq!(outcome(&r_seq), outcome(&r_piped));
    assert!(seq == piped, "pipelined and direct reads differ");
});
