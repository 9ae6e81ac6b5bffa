//! Decoder tests against Go's own output: counts per kind and full `-d=parsed` dumps made by
//! `go tool trace` (testdata/generate.sh), truncation, corruption, and parallel == sequential.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use goscope_trace::{self as trace, Event, ReadOptions};

fn testdata() -> PathBuf {
    goscope_testdata::dir()
}

fn golden(trace: &Path, ext: &str) -> PathBuf {
    let stem = trace.file_stem().unwrap().to_str().unwrap();
    testdata().join("golden").join(format!("{stem}.{ext}"))
}

fn counts_of(data: &[u8], opts: ReadOptions) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    let mut total = 0;
    trace::read(data, opts, |ev, _| {
        *m.entry(ev.kind().name().to_string()).or_insert(0) += 1;
        total += 1;
    })
    .unwrap();
    m.insert("Total".to_string(), total);
    m
}

#[test]
fn counts_per_kind_equal_gos() {
    for t in goscope_testdata::all_traces() {
        let want: BTreeMap<String, u64> = std::fs::read_to_string(golden(&t, "counts"))
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let (k, n) = l.split_once(' ').unwrap();
                (k.to_string(), n.trim().parse().unwrap())
            })
            .collect();
        let data = std::fs::read(&t).unwrap();
        let got = counts_of(&data, ReadOptions::default());
        assert_eq!(got, want, "{}", t.display());
    }
}

fn dump(data: &[u8], opts: ReadOptions) -> String {
    let mut out = String::new();
    trace::read(data, opts, |ev, tables| {
        trace::write_go_text(&mut out, ev, tables);
        out.push('\n');
    })
    .unwrap();
    out
}

/// The time of an event line (`M=.. P=.. G=.. Kind Time=N ...`).
fn time_of(line: &str) -> Option<i64> {
    let rest = line.split(" Time=").nth(1)?;
    rest.split([' ', '\n']).next()?.parse().ok()
}

/// A v1 dump with the freedom Go's own reader takes undone. Go merges the Ps of a v1
/// trace in map order, so events of different Ps at the same tick (and the goroutines
/// found runnable at the start) come out in an order that changes from run to run of
/// `go tool trace`, each then pushed 1 ns after the one before. Here every run of events
/// whose times step by exactly 1 ns gets its first time and is sorted: the same events
/// at the same times must remain, in any order within such a run.
fn without_tie_order(dump: &str) -> String {
    let mut events: Vec<String> = Vec::new();
    for line in dump.split_inclusive('\n') {
        match events.last_mut() {
            Some(last) if !line.starts_with("M=") => last.push_str(line),
            _ => events.push(line.to_string()),
        }
    }
    let mut out = String::new();
    let mut i = 0;
    while i < events.len() {
        let start = time_of(&events[i]);
        let mut j = i + 1;
        while j < events.len() {
            match (time_of(&events[j - 1]), time_of(&events[j])) {
                (Some(a), Some(b)) if b == a + 1 => j += 1,
                _ => break,
            }
        }
        let mut run: Vec<String> = events[i..j]
            .iter()
            .map(|e| match (start, time_of(e)) {
                (Some(s), Some(t)) => e.replacen(&format!(" Time={t}"), &format!(" Time={s}"), 1),
                _ => e.clone(),
            })
            .collect();
        run.sort();
        out.extend(run);
        i = j;
    }
    out
}

fn is_v1(data: &[u8]) -> bool {
    trace::batch::read_header(data).is_ok_and(|v| v.is_v1())
}

#[test]
fn tie_order_is_undone_only_within_runs_of_1ns_steps() {
    let a =
        "M=1 P=0 G=1 X Time=10 a\nM=2 P=1 G=-1 Y Time=11 b\nStack=\n\tf\nM=1 P=0 G=1 Z Time=20 c\n";
    let b =
        "M=2 P=1 G=-1 Y Time=10 b\nStack=\n\tf\nM=1 P=0 G=1 X Time=11 a\nM=1 P=0 G=1 Z Time=20 c\n";
    assert_eq!(without_tie_order(a), without_tie_order(b));
    let c = "M=1 P=0 G=1 X Time=10 a\nM=1 P=0 G=1 Z Time=20 c\nM=2 P=1 G=-1 Y Time=21 b\n";
    assert_ne!(without_tie_order(a), without_tie_order(c));
}

#[test]
fn full_dumps_equal_gos_line_for_line() {
    let mut compared = 0;
    for t in goscope_testdata::all_traces() {
        let g = golden(&t, "parsed.txt");
        let Ok(mut want) = std::fs::read_to_string(&g) else {
            continue;
        };
        let data = std::fs::read(&t).unwrap();
        let mut got = dump(&data, ReadOptions::default());
        if is_v1(&data) && got != want {
            got = without_tie_order(&got);
            want = without_tie_order(&want);
        }
        if got != want {
            let (i, (a, b)) = got
                .lines()
                .zip(want.lines())
                .enumerate()
                .find(|(_, (a, b))| a != b)
                .unwrap_or((0, ("<length differs>", "")));
            panic!(
                "{}: first difference at line {}:\n ours: {a}\n go:   {b}",
                t.display(),
                i + 1
            );
        }
        compared += 1;
    }
    assert!(compared >= 26, "only {compared} full dumps compared");
}

fn events(data: &[u8], opts: ReadOptions) -> Vec<Event> {
    let mut v = Vec::new();
    trace::read(data, opts, |ev, _| v.push(*ev)).unwrap();
    v
}

#[test]
fn parallel_equals_sequential() {
    for t in goscope_testdata::all_traces() {
        let data = std::fs::read(&t).unwrap();
        let a = events(
            &data,
            ReadOptions {
                parallel: true,
                order_ahead: true,
                ..ReadOptions::default()
            },
        );
        let b = events(
            &data,
            ReadOptions {
                parallel: false,
                order_ahead: false,
                ..ReadOptions::default()
            },
        );
        assert_eq!(a.len(), b.len(), "{}", t.display());
        assert!(a == b, "{}: parallel and sequential differ", t.display());
    }
}

#[test]
fn truncated_traces_keep_complete_generations() {
    // A trace with several generations, cut at many offsets.
    let t = testdata().join("traces/stall-go127.trace");
    let data = std::fs::read(&t).unwrap();
    let full = trace::read(&data, ReadOptions::default(), |_, _| {}).unwrap();
    assert!(full.warning.is_none());
    assert!(
        full.generations >= 2,
        "stall-go127 should span generations, has {}",
        full.generations
    );
    let step = (data.len() / 97).max(1);
    let mut cut_with_gens = 0;
    for cut in (0..data.len())
        .step_by(step)
        .chain([data.len() - 1, data.len() - 2, 17, 16, 15])
    {
        let part = &data[..cut];
        match trace::read(part, ReadOptions::default(), |_, _| {}) {
            Ok(o) => {
                assert!(o.generations <= full.generations);
                assert!(o.complete_bytes as usize <= cut);
                // A cut inside a generation must be reported.
                if (o.complete_bytes as usize) < cut {
                    assert!(o.warning.is_some(), "cut at {cut}: no warning");
                }
                if o.generations > 0 {
                    cut_with_gens += 1;
                }
            }
            Err(e) => {
                let msg = e.to_string();
                assert!(
                    msg.contains("offset"),
                    "cut at {cut}: error without offset: {msg}"
                );
            }
        }
    }
    assert!(
        cut_with_gens > 10,
        "few cuts kept a generation: {cut_with_gens}"
    );
}

#[test]
fn truncated_trace_events_are_a_prefix_of_the_full_ones() {
    let data = std::fs::read(testdata().join("traces/stall-go125.trace")).unwrap();
    let full = events(&data, ReadOptions::default());
    let cut = data.len() * 2 / 3;
    let mut part = Vec::new();
    let o = trace::read(&data[..cut], ReadOptions::default(), |ev, _| part.push(*ev)).unwrap();
    assert!(o.generations >= 1);
    assert!(o.warning.is_some());
    // All but the final Sync (whose time depends on where the read stopped) match.
    let n = part.len() - 1;
    assert!(n > 100, "only {n} events before the cut");
    assert_eq!(&part[..n], &full[..n]);
}

/// A tiny deterministic generator, so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn mutated_traces_never_panic() {
    let mut rng = Rng(0x9e3779b97f4a7c15);
    for name in [
        "basic-go122",
        "annotations-go123",
        "timers-go125",
        "stall-go127",
    ] {
        let data = std::fs::read(testdata().join(format!("traces/{name}.trace"))).unwrap();
        for _ in 0..150 {
            let mut d = data.clone();
            let flips = 1 + rng.next() % 8;
            for _ in 0..flips {
                let i = 16 + (rng.next() as usize) % (d.len() - 16);
                d[i] = rng.next() as u8;
            }
            let _ = trace::read(&d, ReadOptions::default(), |_, _| {});
            let opts = ReadOptions {
                parallel: false,
                order_ahead: false,
                ..ReadOptions::default()
            };
            let _ = trace::read(&d, opts, |_, _| {});
        }
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(42);
    for len in [0usize, 1, 15, 16, 17, 100, 5000] {
        for _ in 0..50 {
            let mut d: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            let _ = trace::read(&d, ReadOptions::default(), |_, _| {});
            if d.len() >= 16 {
                d[..16].copy_from_slice(b"go 1.25 trace\0\0\0");
                let _ = trace::read(&d, ReadOptions::default(), |_, _| {});
                d[..16].copy_from_slice(b"go 1.26 trace\0\0\0");
                let _ = trace::read(&d, ReadOptions::default(), |_, _| {});
            }
        }
    }
}

#[test]
fn bad_files_get_clear_errors() {
    let e = trace::read(
        b"hello, world, this is not a trace",
        ReadOptions::default(),
        |_, _| {},
    )
    .unwrap_err();
    assert!(e.to_string().contains("not a Go execution trace"), "{e}");
    // The formats before Go 1.11 name the release that wrote them and the oldest read.
    let e = trace::read(b"go 1.10 trace\0\0\0", ReadOptions::default(), |_, _| {}).unwrap_err();
    assert!(e.to_string().contains("Go 1.10"), "{e}");
    assert!(e.to_string().contains("Go 1.11 and later"), "{e}");
    // A v1 header and nothing else: no frequency, said with the offset.
    let e = trace::read(b"go 1.21 trace\0\0\0", ReadOptions::default(), |_, _| {}).unwrap_err();
    assert!(e.to_string().contains("frequency"), "{e}");
    assert!(e.to_string().contains("offset 16"), "{e}");
}

/// A cut v1 trace: what can be ordered is delivered, with a warning naming the offset where
/// the data stops when the cut is inside an event; otherwise (the frequency and stack table come late in a v1 file) an error
/// that names it.
#[test]
fn cut_v1_traces_open_what_can_be_ordered_or_say_where_they_stop() {
    let mut opened = 0;
    for name in [
        "stall-go121",
        "net-go121",
        "gotest-http_1_21",
        "gotest-user_task_region_1_11",
    ] {
        let data = goscope_testdata::trace_bytes(name);
        let full = events(&data, ReadOptions::default()).len();
        let step = (data.len() / 61).max(1);
        for cut in (16..data.len()).step_by(step).chain([data.len() - 1]) {
            let mut n = 0;
            match trace::read(&data[..cut], ReadOptions::default(), |_, _| n += 1) {
                Ok(o) => {
                    // A cut between two events looks like a whole file: v1 has no end marker.
                    if let Some(w) = o.warning {
                        assert!(w.to_string().contains("offset"), "{name} cut at {cut}: {w}");
                        assert!(w.offset as usize <= cut, "{name} cut at {cut}: {w}");
                    }
                    assert!(n <= full + 1, "{name} cut at {cut}: {n} events of {full}");
                    if n > 2 {
                        opened += 1;
                    }
                }
                Err(e) => assert!(e.to_string().contains("offset"), "{name} cut at {cut}: {e}"),
            }
        }
    }
    assert!(opened > 5, "only {opened} cut v1 traces opened");
}

#[test]
fn mutated_v1_traces_never_panic() {
    let mut rng = Rng(0x2545f4914f6cdd1d);
    for name in [
        "basic-go121",
        "cpu-go121",
        "gotest-user_task_region_1_19",
        "gotest-stress_start_stop_1_11",
    ] {
        let data = goscope_testdata::trace_bytes(name);
        for _ in 0..150 {
            let mut d = data.clone();
            for _ in 0..1 + rng.next() % 8 {
                let i = 16 + (rng.next() as usize) % (d.len() - 16);
                d[i] = rng.next() as u8;
            }
            let mut text = String::new();
            let _ = trace::read(&d, ReadOptions::default(), |ev, t| {
                text.clear();
                trace::write_go_text(&mut text, ev, t);
            });
        }
    }
}

/// A v1 trace is one generation: progress says so, the outcome names its format, and a
/// cancelled read stops with an error.
#[test]
fn v1_reads_report_one_generation_and_stop_when_cancelled() {
    use std::sync::atomic::AtomicBool;
    let data = goscope_testdata::trace_bytes("basic-go121");
    let mut progress = Vec::new();
    let o = trace::read_with_progress(
        &data,
        ReadOptions::default(),
        &AtomicBool::new(false),
        &mut |_: &Event, _: &trace::Tables| {},
        &mut |p| progress.push(format!("{p:?}")),
    )
    .unwrap();
    assert_eq!(o.version, trace::Version(21));
    assert_eq!(o.generations, 1);
    assert_eq!(o.complete_bytes as usize, data.len());
    assert!(o.warning.is_none());
    assert_eq!(
        progress,
        [
            "Scanned { generations: 1, ticks: (0, 0) }",
            "Ordered { generation: 1, of: 1, time_ns: 9223372036854775807 }"
        ]
    );
    let e = trace::read_with_progress(
        &data,
        ReadOptions::default(),
        &AtomicBool::new(true),
        &mut |_: &Event, _: &trace::Tables| {},
        &mut |_| {},
    )
    .unwrap_err();
    assert!(e.to_string().contains("cancelled"), "{e}");
}
