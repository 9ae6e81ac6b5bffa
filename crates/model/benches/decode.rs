//! Decoder throughput on a large trace.
//!
//! The trace is `$GOSCOPE_BENCH_TRACE`, default `target/bench/large.trace` (relative to
//! the crate). Make it with
//!     testdata/bench/make-large-trace.sh target/bench/large.trace
//! Without it the biggest trace in `testdata/traces/` is used instead.
//!
//! Run: `cargo bench --bench decode`. Each benchmark reports MB/s (bytes of the file)
//! and events/s (events delivered in Go's order). `model_build` is what opening a trace
//! in the viewer costs: decode, ordering and the model, the model built on the calling thread
//! while the events are ordered on others.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use divan::Bencher;
use divan::counter::{BytesCount, ItemsCount};
use goscope_trace::{self as trace, ReadOptions};

struct Input {
    path: PathBuf,
    data: Vec<u8>,
    events: usize,
}

fn biggest_testdata_trace(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "trace"))
        .filter_map(|e| Some((e.metadata().ok()?.len(), e.path())))
        .max()
        .map(|(_, p)| p)
}

static INPUT: LazyLock<Input> = LazyLock::new(|| {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let wanted = match std::env::var_os("GOSCOPE_BENCH_TRACE") {
        Some(p) => PathBuf::from(p),
        None => root.join("target/bench/large.trace"),
    };
    let path = if wanted.is_file() {
        wanted
    } else {
        eprintln!(
            "note: {} not found; make it with\n    testdata/bench/make-large-trace.sh target/bench/large.trace\n\
             (or set GOSCOPE_BENCH_TRACE). Using the biggest trace in testdata/traces/ instead.",
            wanted.display()
        );
        biggest_testdata_trace(&root.join("testdata/traces")).expect("no trace in testdata/traces")
    };
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut events = 0usize;
    let outcome = trace::read(&data, ReadOptions::default(), |_, _| events += 1)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    eprintln!(
        "bench trace: {} ({:.1} MB, {} generations, {} events{})",
        path.display(),
        data.len() as f64 / 1e6,
        outcome.generations,
        events,
        match &outcome.warning {
            Some(w) => format!(", warning: {w}"),
            None => String::new(),
        }
    );
    Input { path, data, events }
});

fn main() {
    LazyLock::force(&INPUT);
    let _ = &INPUT.path;
    divan::main();
}

fn read(bencher: Bencher, opts: ReadOptions) {
    let input = &*INPUT;
    bencher
        .counter(BytesCount::new(input.data.len()))
        .counter(ItemsCount::new(input.events))
        .bench(|| {
            let mut n = 0usize;
            let outcome = trace::read(black_box(&input.data), opts, |ev, _| {
                n += 1;
                black_box(ev);
            })
            .unwrap();
            assert_eq!(n, input.events);
            outcome
        });
}

/// `trace::read` with every generation ordered ahead on worker threads and stitched on
/// in turn (`ReadOptions::order_ahead`).
#[divan::bench(sample_count = 10, sample_size = 1)]
fn read_ahead(bencher: Bencher) {
    read(
        bencher,
        ReadOptions {
            order_ahead: true,
            ..ReadOptions::default()
        },
    );
}

/// `trace::read` as by default: one generation after another (decoded on the rayon pool).
#[divan::bench(sample_count = 10, sample_size = 1)]
fn read_in_turn(bencher: Bencher) {
    read(bencher, ReadOptions::default());
}

/// `trace::read` on one thread.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn read_sequential(bencher: Bencher) {
    read(
        bencher,
        ReadOptions {
            parallel: false,
            ..ReadOptions::default()
        },
    );
}

/// `model::build`: the whole model, as the viewer builds it when a trace is opened.
#[divan::bench(sample_count = 5, sample_size = 1)]
fn model_build(bencher: Bencher) {
    let input = &*INPUT;
    bencher
        .counter(BytesCount::new(input.data.len()))
        .counter(ItemsCount::new(input.events))
        .bench(|| goscope_model::build(black_box(&input.data)).unwrap());
}

/// Splitting the file into generations and batches (no bodies decoded).
#[divan::bench(sample_count = 20, sample_size = 1)]
fn batch_scan(bencher: Bencher) {
    let input = &*INPUT;
    bencher
        .counter(BytesCount::new(input.data.len()))
        .bench(|| {
            trace::batch::scan(black_box(&input.data))
                .unwrap()
                .generations
                .len()
        });
}
