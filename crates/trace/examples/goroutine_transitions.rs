//! Example: prints one goroutine's state transitions in trace order.
//!
//! `cargo run -p goscope-trace --example goroutine_transitions -- TRACE GOROUTINE_ID`
//!
//! One line per transition: time in ns, old state -> new state, and the reason if the
//! event gives one.

use std::process::ExitCode;

use goscope_trace::event::go_state_name;
use goscope_trace::{ReadOptions, Resource};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path, id] = args.as_slice() else {
        eprintln!("usage: goroutine_transitions TRACE GOROUTINE_ID");
        return ExitCode::from(2);
    };
    let Ok(goroutine) = id.parse::<i64>() else {
        eprintln!("not a goroutine id: {id}");
        return ExitCode::from(2);
    };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut found = 0usize;
    let result = goscope_trace::read(&bytes, ReadOptions::default(), |ev, tables| {
        let Some(t) = ev.transition() else {
            return;
        };
        if t.resource != Resource::Goroutine(goroutine) {
            return;
        }
        found += 1;
        let mut line = format!(
            "{:>16} ns  {} -> {}",
            ev.time_ns,
            go_state_name(t.from),
            go_state_name(t.to)
        );
        match tables.string(t.reason) {
            Some(reason) if !reason.is_empty() => line += &format!("  ({reason})"),
            _ => {}
        }
        println!("{line}");
    });
    let outcome = match result {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    if found == 0 {
        eprintln!("no transitions of goroutine {goroutine} in {path}");
    }
    if let Some(warning) = &outcome.warning {
        eprintln!("warning: trace cut: {warning}");
    }
    ExitCode::SUCCESS
}
