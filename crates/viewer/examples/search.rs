//! Measures a search of a trace opened as an overview, as the viewer's search bar runs it
//! (`search_in_pieces`: the trace's spans from windows of all of it built piece by piece
//! from the mapped file), against the overview's own search.
//!
//! `cargo run --release -p goscope-viewer --example search -- TRACE QUERY [GENERATION]`
//! (run it under `/usr/bin/time -v` for the peak RSS). With a generation (from 1), it
//! also builds the window of that generation's middle tenth, as the viewer shows it, and
//! finds the spans of it the query matches, as the viewer marks them.

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use goscope_viewer::search::{self, Hit};

fn main() {
    goscope_model::tune_allocator();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (path, query, generation) = match &args[..] {
        [path, query] => (path, query, None),
        [path, query, k] => (path, query, k.parse::<usize>().ok()),
        _ => {
            eprintln!("usage: search TRACE QUERY [GENERATION]");
            std::process::exit(2);
        }
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
    let Some(k) = generation.filter(|&k| k >= 1 && k <= resumes.generations()) else {
        return;
    };
    let r = resumes.time_range_ns(k - 1);
    let tenth = (r.end - r.start) / 10;
    let (a, b) = (r.start + 9 * tenth / 2, r.end - 9 * tenth / 2);
    let t = Instant::now();
    let window = goscope_model::build_window_between(
        &file,
        &resumes,
        k - 1..k,
        a,
        b,
        &AtomicBool::new(false),
    )
    .expect("window");
    println!(
        "window of generation {k}'s middle tenth ({:.0} ms, {} events): built in {:.2} s, {:.0} MB",
        (b - a) as f64 / 1e6,
        window.events,
        t.elapsed().as_secs_f64(),
        window.heap_bytes() as f64 / 1e6
    );
    let t = Instant::now();
    let marked = search::matching_spans(&window, query);
    let spans: usize = window.goroutines.iter().map(|g| g.spans.len()).sum();
    println!(
        "its spans that match: {} of {spans}, found in {:.0} ms; as bits {:.2} MB (as (goroutine, span) pairs it would be {:.1} MB)",
        marked.len(),
        t.elapsed().as_secs_f64() * 1e3,
        marked.heap_bytes() as f64 / 1e6,
        (marked.len() * 8) as f64 / 1e6
    );
}
