//! Example: counts a Go execution trace's events per kind.
//!
//! `cargo run -p goscope-trace --example count_events -- TRACE`

use std::process::ExitCode;

use goscope_trace::{Kind, ReadOptions};

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: count_events TRACE");
        return ExitCode::from(2);
    };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{}: {e}", path.to_string_lossy());
            return ExitCode::FAILURE;
        }
    };
    let mut counts = [0u64; Kind::ALL.len()];
    let outcome = match goscope_trace::read(&bytes, ReadOptions::default(), |ev, _tables| {
        counts[ev.kind().index()] += 1;
    }) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{}: {e}", path.to_string_lossy());
            return ExitCode::FAILURE;
        }
    };
    for kind in Kind::ALL {
        let n = counts[kind.index()];
        if n > 0 {
            println!("{:<16} {n:>10}", kind.name());
        }
    }
    println!("{:<16} {:>10}", "total", counts.iter().sum::<u64>());
    if let Some(warning) = &outcome.warning {
        println!(
            "warning: only the first {} generation(s) are complete: {warning}",
            outcome.generations
        );
    }
    ExitCode::SUCCESS
}
