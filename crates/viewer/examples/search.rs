//! Measures a search of a trace opened as an overview, as the viewer's search bar runs it
//! (`search_in_pieces`: the trace's spans from windows of all of it built piece by piece
//! from the mapped file), against the overview's own search.
//!
//! `cargo run --release -p goscope-viewer --example search -- TRACE QUERY`
//! (run it under `/usr/bin/time -v` for the peak RSS).

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use goscope_viewer::search::{self, Hit};

fn main() {
    goscope_model::tune_allocator();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path, query] = &args[..] else {
        eprintln!("usage: search TRACE QUERY");
        std::process::exit(2);
    };
    let file = goscope_file::TraceFile::open(std::path::Path::new(path)).expect("open");
    let t = Instant::now();
    let (overview, resumes) =
        goscope_model::build_overview(&file, &AtomicBool::new(false), &mut |_| {}, 0, None)
            .expect("overview");
    println!("overview: {:.2} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let mut pieces = 0;
    // When the first results were there (the overview's), and the first span hit.
    let (mut first_results, mut first_span) = (None, None);
    let found = search::search_in_pieces(
        &file,
        &resumes,
        &overview,
        query,
        search::SEARCH_PIECE_FILE_BYTES,
        &AtomicBool::new(false),
        &mut |p| {
            pieces = p.done_of.map_or(0, |(_, of)| of);
            let secs = t.elapsed().as_secs_f64();
            first_results.get_or_insert(secs);
            if first_span.is_none()
                && p.so_far()
                    .hits
                    .iter()
                    .any(|h| matches!(h, Hit::Span { .. }))
            {
                first_span.get_or_insert(secs);
            }
        },
    )
    .expect("search");
    let at = |s: Option<f64>| s.map_or("never".to_string(), |s| format!("{s:.2} s"));
    println!(
        "searched in {pieces} pieces: {:.2} s (the overview's hits listed at {}, the first span at {})",
        t.elapsed().as_secs_f64(),
        at(first_results),
        at(first_span)
    );
    let own = search::search(&overview, query);
    for (what, m) in [("the trace", &found), ("the overview's own", &own)] {
        let spans = m
            .hits
            .iter()
            .filter(|h| matches!(h, Hit::Span { .. }))
            .count();
        let first = m.hits.iter().find_map(|h| match h {
            Hit::Span { g, what, func, .. } => Some(format!("G{g} {what} — {func}")),
            _ => None,
        });
        println!(
            "{what}: {} hits{} ({spans} spans), {} goroutines; longest span: {}",
            m.hits.len(),
            if m.truncated { "+" } else { "" },
            m.goroutines.len(),
            first.unwrap_or_default()
        );
    }
}
