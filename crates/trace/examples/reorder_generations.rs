//! Example: reads a trace keeping each generation's start state, then orders every
//! generation again on its own (in parallel, the last first) and checks that each gives the
//! events the read gave; prints the time each took and the size of its saved state.
//!
//! `cargo run --release -p goscope-trace --example reorder_generations -- TRACE`

use std::process::ExitCode;
use std::time::Instant;

use goscope_trace::{Event, ReadOptions, Resume};
use rayon::prelude::*;

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: reorder_generations TRACE");
        return ExitCode::from(2);
    };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{}: {e}", path.to_string_lossy());
            return ExitCode::FAILURE;
        }
    };
    // Per generation number: the count of its events and a checksum of them.
    let mut read_sums: std::collections::HashMap<u64, (u64, u64)> = Default::default();
    let opts = ReadOptions {
        keep_resumes: true,
        ..ReadOptions::default()
    };
    let t = Instant::now();
    let outcome = match goscope_trace::read(&bytes, opts, |ev, tables| {
        add(read_sums.entry(tables.generation).or_default(), ev);
    }) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{}: {e}", path.to_string_lossy());
            return ExitCode::FAILURE;
        }
    };
    let read_s = t.elapsed().as_secs_f64();
    let state_bytes: usize = outcome.resumes.iter().map(Resume::state_bytes).sum();
    println!(
        "read {:.1} MB in {read_s:.2} s: {} generations, saved states {:.1} KB in all",
        bytes.len() as f64 / 1e6,
        outcome.generations,
        state_bytes as f64 / 1e3
    );
    let t = Instant::now();
    let mut again: Vec<_> = outcome
        .resumes
        .par_iter()
        .rev()
        .map(|r| {
            let t = Instant::now();
            let mut sum = (0, 0);
            let mut end = (0, 0);
            let ordered = goscope_trace::reorder(&bytes, r, |ev, tables| {
                add(
                    if tables.generation == 0 {
                        &mut end
                    } else {
                        &mut sum
                    },
                    ev,
                );
            });
            (r, ordered, sum, end, t.elapsed().as_secs_f64())
        })
        .collect();
    let all_s = t.elapsed().as_secs_f64();
    again.sort_by_key(|a| a.0.index);
    let mut bad = 0;
    for (r, ordered, sum, end, secs) in &again {
        let expected = read_sums.get(&r.generation).copied().unwrap_or_default();
        let end_ok = !r.last || Some(end) == read_sums.get(&0);
        let same = ordered.is_ok() && *sum == expected && end_ok;
        bad += usize::from(!same);
        println!(
            "generation {:>4} ({:>6.1} MB): {:>9} events ordered again in {:>6.1} ms, state {:>7.1} KB{}",
            r.generation,
            (r.bytes.end - r.bytes.start) as f64 / 1e6,
            sum.0,
            secs * 1e3,
            r.state_bytes() as f64 / 1e3,
            if same { "" } else { "  DIFFERS" }
        );
    }
    println!(
        "all {} ordered again in {all_s:.2} s on {} threads",
        again.len(),
        rayon::current_num_threads()
    );
    if bad > 0 {
        eprintln!("{bad} generations differ from the read");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// Counts an event into `(count, checksum)`.
fn add(acc: &mut (u64, u64), ev: &Event) {
    let mut h = (ev.time_ns as u64) ^ (ev.typ as u64).rotate_left(56);
    h ^= (ev.g as u64).rotate_left(8)
        ^ (ev.p as u64).rotate_left(24)
        ^ (ev.m as u64).rotate_left(40);
    for a in ev.args {
        h = h.rotate_left(7) ^ a;
    }
    acc.0 += 1;
    acc.1 = acc.1.wrapping_add(h.wrapping_mul(0x9e37_79b9_7f4a_7c15));
}
