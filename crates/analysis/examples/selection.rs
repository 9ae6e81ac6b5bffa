//! Measures a selection's summary over a trace opened as an overview, summed in pieces
//! from the mapped file as the viewer does: the time and the summary against the
//! overview's own (whose short spans are summed per bucket).
//!
//! `cargo run --release -p goscope-analysis --example selection -- TRACE [FROM TO] [--piece-mib=N]`
//! (FROM and TO are fractions of the trace, 0 and 1 by default; run it under
//! `/usr/bin/time -v` for the peak RSS).

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use goscope_analysis::selection::SelectionSummary;

fn main() {
    goscope_model::tune_allocator();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let plain: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let Some(path) = plain.first() else {
        eprintln!("usage: selection TRACE [FROM TO] [--piece-mib=N]");
        std::process::exit(2);
    };
    let fraction = |i: usize, default: f64| {
        plain
            .get(i)
            .map_or(default, |f| f.parse().expect("a fraction"))
    };
    let (from, to) = (fraction(1, 0.0), fraction(2, 1.0));
    let piece_mib: u64 = args
        .iter()
        .find_map(|a| a.strip_prefix("--piece-mib="))
        .map_or(16, |n| n.parse().expect("--piece-mib=N"));
    let file = goscope_file::TraceFile::open(std::path::Path::new(path.as_str())).expect("open");
    let t = Instant::now();
    let (overview, resumes) =
        goscope_model::build_overview(&file, &AtomicBool::new(false), &mut |_| {}, 0, None)
            .expect("overview");
    println!(
        "overview: {:.2} s, {} generations",
        t.elapsed().as_secs_f64(),
        resumes.generations()
    );
    let span = (overview.end_ns - overview.start_ns) as f64;
    let a = overview.start_ns as f64 + span * from;
    let b = overview.start_ns as f64 + span * to;
    let t = Instant::now();
    let mut pieces = 0;
    let exact = SelectionSummary::compute_in_pieces(
        &file,
        &resumes,
        &overview,
        a,
        b,
        piece_mib << 20,
        &AtomicBool::new(false),
        &mut |_, of, _| pieces = of,
    )
    .expect("summary");
    println!(
        "summed in {pieces} pieces of up to {piece_mib} MiB of the file: {:.2} s",
        t.elapsed().as_secs_f64()
    );
    let thinned = SelectionSummary::compute(&overview, a, b);
    for (what, s) in [("in pieces", &exact), ("the overview's own", &thinned)] {
        println!(
            "{what}: {} goroutines, {} state changes; running/runnable/waiting/syscall spans {:?}, ns {:?}",
            s.goroutines,
            s.transitions,
            s.per_state.map(|p| p.1),
            s.per_state.map(|p| p.0)
        );
    }
}
