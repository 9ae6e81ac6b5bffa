//! Measures an overview build of a trace and the windows built from it: time, spans kept,
//! and (with `--check`) that every window equals the whole model cut to its time.
//!
//! `cargo run --release -p goscope-model --example overview -- TRACE [--check|--no-windows] [--digest] [--tenths [--repeat=N] [--generation=K] [--pieces=N | --thinned=BUCKETS] [--breakdown]] [--across=FROM,TO]`
//! (run it under `/usr/bin/time -v` for the peak RSS; `--check` also builds the whole
//! model, which takes memory in proportion to the trace).

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use goscope_model as model;

fn main() {
    // As the goscope binary does.
    model::tune_allocator();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.iter().find(|a| !a.starts_with("--")) else {
        eprintln!("usage: overview TRACE [--check]");
        std::process::exit(2);
    };
    let check = args.iter().any(|a| a == "--check");
    let no_windows = args.iter().any(|a| a == "--no-windows");
    let file = goscope_file::TraceFile::open(std::path::Path::new(path)).expect("open");
    let t = Instant::now();
    let (over, resumes) =
        model::build_overview(&file, &AtomicBool::new(false), &mut |_| {}, 0, None)
            .expect("overview");
    let bytes = file.bytes();
    let spans: usize = over.goroutines.iter().map(|g| g.spans.len()).sum();
    let p_spans: usize = over.procs.iter().map(|p| p.spans.len()).sum();
    let m_spans: usize = over.threads.iter().map(|m| m.spans.len()).sum();
    let points: usize = over.counters.all().iter().map(|s| s.len()).sum();
    let work: usize = over.procs.iter().map(|p| p.work.len()).sum();
    let regions: usize = over.goroutines.iter().map(|g| g.regions.len()).sum();
    println!(
        "overview: {:.0} MB of lanes and counters; {work} runtime work ranges, {regions} regions, {} logs, {} CPU samples, {} GC cycles, {} pauses",
        over.heap_bytes() as f64 / 1e6,
        over.logs.len(),
        over.cpu_samples.len(),
        over.gc.len(),
        over.stw.len()
    );
    println!(
        "overview: {:.2} s, {} events, {} generations, bucket {} µs; {} goroutines with {} spans, {} P spans, {} thread spans, {} counter points, {} stimuli; resumes {} KB",
        t.elapsed().as_secs_f64(),
        over.events,
        resumes.generations(),
        over.overview_bucket_ns / 1000,
        over.goroutines.len(),
        spans,
        p_spans,
        m_spans,
        points,
        over.stimulus_times.iter().map(Vec::len).sum::<usize>(),
        resumes.state_bytes() / 1024
    );
    // `--digest`: a hash of the whole overview model, to check a change leaves it as it was.
    if args.iter().any(|a| a == "--digest") {
        println!("overview digest: {:016x}", digest(&over));
    }
    let per_generation: Vec<String> = (0..resumes.generations())
        .map(|k| {
            let r = resumes.time_range_ns(k);
            format!(
                "{} ({:.2} s)",
                resumes.points_ns(k).count(),
                (r.end - r.start) as f64 / 1e9
            )
        })
        .collect();
    println!(
        "points inside generations: {} in all; per generation: {}",
        resumes.points(),
        per_generation.join(", ")
    );
    let trace_start_ns = over.start_ns;
    drop(over);
    // `--tenths`: the middle tenth of each generation, as the viewer builds it for such a
    // view (from the last point before it).
    // `--repeat=N` builds each tenth N times (for a profiler, or to see the spread).
    let repeat: usize = args
        .iter()
        .find_map(|a| a.strip_prefix("--repeat="))
        .map_or(1, |n| n.parse().expect("--repeat=N"));
    // `--generation=K` builds only generation K's tenth (counted from 1, as printed).
    let only: Option<usize> = args
        .iter()
        .find_map(|a| a.strip_prefix("--generation="))
        .map(|k| k.parse().expect("--generation=K"));
    // `--pieces=N` builds each tenth in N pieces at once (`build_window_in_pieces`); by
    // default in as many as the viewer does (`window_pieces`).
    let pieces: usize = args
        .iter()
        .find_map(|a| a.strip_prefix("--pieces="))
        .map_or(model::window_pieces(), |n| n.parse().expect("--pieces=N"));
    // `--thinned=N` builds each tenth thinned into N buckets (`build_window_thinned`), as
    // the viewer builds a view too dense for full detail.
    let thinned: Option<i64> = args
        .iter()
        .find_map(|a| a.strip_prefix("--thinned="))
        .map(|n| n.parse().expect("--thinned=BUCKETS"));
    if args.iter().any(|a| a == "--tenths") {
        for k in (0..resumes.generations())
            .filter(|k| only.is_none_or(|o| o == k + 1))
            .flat_map(|k| std::iter::repeat_n(k, repeat))
        {
            let r = resumes.time_range_ns(k);
            let tenth = (r.end - r.start) / 10;
            let (from, to) = (r.start + 9 * tenth / 2, r.end - 9 * tenth / 2);
            let t = Instant::now();
            // From the mapped file, as the viewer builds it (its pages given back as read).
            let w = match thinned {
                Some(buckets) => model::build_window_thinned(
                    &file,
                    &resumes,
                    k..k + 1,
                    from,
                    to,
                    (to - from) / buckets.max(1),
                    &AtomicBool::new(false),
                ),
                None => model::build_window_in_pieces(
                    &file,
                    &resumes,
                    k..k + 1,
                    from,
                    to,
                    &AtomicBool::new(false),
                    pieces,
                    model::MIN_PIECE_FILE_BYTES,
                ),
            }
            .expect("window");
            println!(
                "generation {}: middle tenth ({:.0} ms, {} MB of file) built in {:.3} s, {:.0} MB",
                k + 1,
                tenth as f64 / 1e6,
                resumes.file_bytes_of(k..k + 1) / 10 / 1_000_000,
                t.elapsed().as_secs_f64(),
                w.heap_bytes() as f64 / 1e6
            );
            if args.iter().any(|a| a == "--breakdown") {
                breakdown(&w);
            }
        }
    }
    // `--across=A,B`: the window from second A to second B of the trace, over the
    // generations under it, as the viewer builds it.
    if let Some((a, b)) = args
        .iter()
        .find_map(|a| a.strip_prefix("--across="))
        .and_then(|r| r.split_once(','))
    {
        let at = |s: &str| trace_start_ns + (s.parse::<f64>().expect("seconds") * 1e9) as i64;
        let (from, to) = (at(a), at(b));
        let gens = resumes.generations_over(from, to);
        let t = Instant::now();
        let w = model::build_window_between(
            &file,
            &resumes,
            gens.clone(),
            from,
            to,
            &AtomicBool::new(false),
        )
        .expect("window");
        println!(
            "window {a}–{b} s (generations {}–{}): built in {:.3} s, {:.0} MB",
            gens.start + 1,
            gens.end,
            t.elapsed().as_secs_f64(),
            w.heap_bytes() as f64 / 1e6
        );
    }
    if no_windows {
        return;
    }
    let n = resumes.generations();
    let whole = check.then(|| model::build(bytes).expect("whole model"));
    let starts: Vec<i64> = resumes.starts_ns().collect();
    let mut times = Vec::new();
    for (k, &start_ns) in starts.iter().enumerate() {
        let t = Instant::now();
        let w = model::build_window(bytes, &resumes, k..k + 1).expect("window");
        times.push(t.elapsed().as_secs_f64());
        if let Some(whole) = &whole {
            let cut = whole.cut_to(start_ns, w.end_ns);
            let same =
                w.goroutines.iter().zip(&cut.goroutines).all(|(a, b)| {
                    a.spans.len() == b.spans.len() && a.spans.iter().eq(b.spans.iter())
                }) && w
                    .procs
                    .iter()
                    .zip(&cut.procs)
                    .all(|(a, b)| a.spans.iter().eq(b.spans.iter()))
                    && w.threads
                        .iter()
                        .zip(&cut.threads)
                        .all(|(a, b)| a.spans.iter().eq(b.spans.iter()));
            assert!(
                same,
                "generation {k}: the window differs from the whole model cut"
            );
        }
    }
    times.sort_by(f64::total_cmp);
    println!(
        "windows of one generation: {n}, median {:.3} s, max {:.3} s{}",
        times.get(n / 2).copied().unwrap_or(0.0),
        times.last().copied().unwrap_or(0.0),
        if check {
            ", each equal to the whole model cut to its time"
        } else {
            ""
        }
    );
}

/// `--breakdown`: what a window's `heap_bytes` is made of, part by part (count, MB, bytes
/// per element).
fn breakdown(w: &model::Model) {
    let mb = |b: usize| b as f64 / 1e6;
    let line = |what: &str, n: usize, bytes: usize| {
        println!(
            "  {what:<22} {n:>10} {:>8.1} MB {:>6.1} B each",
            mb(bytes),
            bytes as f64 / n.max(1) as f64
        );
    };
    line(
        "goroutine spans",
        w.goroutines.iter().map(|g| g.spans.len()).sum(),
        w.goroutines.iter().map(|g| g.spans.heap_bytes()).sum(),
    );
    line(
        "P spans",
        w.procs.iter().map(|p| p.spans.len()).sum(),
        w.procs.iter().map(|p| p.spans.heap_bytes()).sum(),
    );
    line(
        "P runtime work",
        w.procs.iter().map(|p| p.work.len()).sum(),
        w.procs
            .iter()
            .map(|p| p.work.capacity() * std::mem::size_of::<model::PRange>())
            .sum(),
    );
    line(
        "thread spans",
        w.threads.iter().map(|t| t.spans.len()).sum(),
        w.threads.iter().map(|t| t.spans.heap_bytes()).sum(),
    );
    for (name, s) in [
        "heap_alloc",
        "heap_goal",
        "gomaxprocs",
        "running",
        "runnable",
        "gc_waiting",
        "threads_running",
        "threads_syscall",
    ]
    .iter()
    .zip(w.counters.all())
    {
        line(&format!("counter {name}"), s.len(), s.heap_bytes());
    }
    line(
        "stimuli",
        w.stimuli.len(),
        w.stimuli.capacity() * std::mem::size_of::<model::Stimulus>(),
    );
    line(
        "stimulus times",
        w.stimulus_times.iter().map(Vec::len).sum(),
        w.stimulus_times.iter().map(|v| v.capacity() * 8).sum(),
    );
}

/// A hash of `value`'s `Debug` form, written straight into the hasher.
fn digest(value: &impl std::fmt::Debug) -> u64 {
    use std::hash::Hasher;
    struct Into(std::collections::hash_map::DefaultHasher);
    impl std::fmt::Write for Into {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.0.write(s.as_bytes());
            Ok(())
        }
    }
    let mut h = Into(std::collections::hash_map::DefaultHasher::new());
    let _ = std::fmt::write(&mut h, format_args!("{value:?}"));
    h.0.finish()
}
