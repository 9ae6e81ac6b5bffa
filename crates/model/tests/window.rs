//! Windows built on demand from the resumes equal the whole model cut to their time range,
//! on every committed trace and its cuts.

use std::sync::atomic::AtomicBool;

use goscope_model::{self as model, Model};
use goscope_trace::{self as trace, ReadOptions};

/// Every event's time, in order; none if the read fails.
fn event_times(data: &[u8]) -> Option<Vec<i64>> {
    let mut times = Vec::new();
    trace::read(data, ReadOptions::default(), |ev, _| times.push(ev.time_ns)).ok()?;
    Some(times)
}

/// Where `a` and `b` differ in what a window keeps (`Model::cut_to`), if they do.
fn difference(a: &Model, b: &Model) -> Option<String> {
    difference_in(a, b, true)
}

/// `difference`; without `uncut`, leaving out what a window of part of a generation
/// does not cut (regions, runtime work on Ps, GC cycles and pauses).
fn difference_in(a: &Model, b: &Model, uncut: bool) -> Option<String> {
    macro_rules! same {
        ($what:expr, $x:expr, $y:expr) => {
            if $x != $y {
                return Some(format!("{}: {:?}\nagainst {:?}", $what, $x, $y));
            }
        };
    }
    same!("start", a.start_ns, b.start_ns);
    same!("end", a.end_ns, b.end_ns);
    same!("goroutines", a.goroutines.len(), b.goroutines.len());
    for (x, y) in a.goroutines.iter().zip(&b.goroutines) {
        let what = format!("G{}", x.id);
        same!(
            &what,
            (x.id, x.start_fn, x.label),
            (y.id, y.start_fn, y.label)
        );
        same!(
            &what,
            (x.created_ns, x.ended_ns),
            (y.created_ns, y.ended_ns)
        );
        same!(&what, x.spans.to_vec(), y.spans.to_vec());
        if uncut {
            same!(&what, x.regions, y.regions);
        }
    }
    same!("procs", a.procs.len(), b.procs.len());
    for (x, y) in a.procs.iter().zip(&b.procs) {
        let what = format!("P{}", x.id);
        same!(&what, x.id, y.id);
        same!(&what, x.spans.to_vec(), y.spans.to_vec());
        if uncut {
            same!(&what, (&x.work, x.work_starts), (&y.work, y.work_starts));
        }
    }
    same!("threads", a.threads.len(), b.threads.len());
    for (x, y) in a.threads.iter().zip(&b.threads) {
        let what = format!("M{}", x.id);
        same!(&what, x.id, y.id);
        same!(&what, x.spans.to_vec(), y.spans.to_vec());
    }
    for (k, (x, y)) in a.counters.all().iter().zip(b.counters.all()).enumerate() {
        same!(format!("counter {k}"), x.points(), y.points());
    }
    if uncut {
        same!("gc", a.gc, b.gc);
        let stw = |m: &Model| -> Vec<_> {
            m.stw
                .iter()
                .map(|s| (s.start_ns, s.end_ns, s.kind, s.g))
                .collect()
        };
        same!("stw", stw(a), stw(b));
    }
    same!("stimuli", a.stimuli, b.stimuli);
    same!("stimulus times", a.stimulus_times, b.stimulus_times);
    same!("logs", a.logs, b.logs);
    same!("cpu samples", a.cpu_samples, b.cpu_samples);
    None
}

/// The time of each generation's last event, from a plain read: the events of the
/// generation whose Sync is at `starts_ns[k]`, and the Sync that ends the trace if it
/// follows them (a read that could not order a generation gives the start of that one
/// before it ends).
fn last_event_ns(data: &[u8], starts_ns: &[i64]) -> Vec<i64> {
    let mut events: Vec<(i64, u64)> = Vec::new();
    let _ = trace::read(data, ReadOptions::default(), |ev, t| {
        events.push((ev.time_ns, t.generation))
    });
    starts_ns
        .iter()
        .map(|&start| {
            let first = events.partition_point(|e| e.0 < start);
            let generation = events[first].1;
            let mut i = first;
            while i + 1 < events.len() && events[i + 1].1 == generation {
                i += 1;
            }
            while i + 1 < events.len() && events[i + 1].1 == 0 {
                i += 1;
            }
            events[i].0
        })
        .collect()
}

#[test]
fn every_window_equals_the_whole_model_cut_to_its_time() {
    let mut windows = 0;
    for (name, data) in goscope_testdata::all_traces_and_cuts() {
        let Ok(whole) = model::build(&data[..]) else {
            continue;
        };
        let (kept, resumes) =
            model::build_keeping_resumes(&data[..], &AtomicBool::new(false), &mut |_| {}).unwrap();
        assert!(
            difference(&whole, &kept).is_none() && format!("{whole:?}") == format!("{kept:?}"),
            "{name}: keeping resumes changed the model"
        );
        let n = resumes.generations();
        if whole.format_version < 22 {
            assert_eq!(n, 0, "{name}: a v1 trace has no generations to resume");
            continue;
        }
        assert_eq!(n, whole.generations, "{name}");
        let starts: Vec<i64> = resumes.starts_ns().collect();
        let ends = last_event_ns(&data, &starts);
        let mut ranges: Vec<std::ops::Range<usize>> = (0..n).map(|k| k..k + 1).collect();
        ranges.push(0..n);
        if n > 2 {
            ranges.push(1..n - 1);
        }
        for gens in ranges {
            let window = model::build_window(&data, &resumes, gens.clone())
                .unwrap_or_else(|e| panic!("{name}: window {gens:?}: {e}"));
            let (t0, t1) = (starts[gens.start], ends[gens.end - 1]);
            let expected = whole.cut_to(t0, t1);
            if let Some(d) = difference(&window, &expected) {
                panic!(
                    "{name}: window {gens:?} ({t0}..={t1} ns) differs from the whole model: {d}"
                );
            }
            windows += 1;
        }
    }
    assert!(windows > 200, "only {windows} windows checked");
}

#[test]
fn a_window_of_part_of_a_generation_equals_the_whole_model_cut_to_it() {
    let mut windows = 0;
    let mut from_points = 0;
    for path in goscope_testdata::all_traces() {
        let name = path.display().to_string();
        let data = std::fs::read(&path).unwrap();
        let Ok(whole) = model::build(&data[..]) else {
            continue;
        };
        let Some(times) = event_times(&data) else {
            continue;
        };
        // Ordered from each generation's start, and from points saved inside it, about
        // five in each.
        let generations = whole.generations.max(1) as u64;
        let every = (times.len() as u64 / generations / 6).max(3);
        for every_steps in [u64::MAX, every] {
            let (_, resumes) = model::build_keeping_resumes_every(
                &data[..],
                every_steps,
                &AtomicBool::new(false),
                &mut |_| {},
            )
            .unwrap();
            let n = resumes.generations();
            if n == 0 {
                continue;
            }
            // The middle third of each generation, from the middle of each to the middle
            // of the next (ordering stops inside the second), and with points, windows
            // that begin at each seventh of a generation.
            let mut cases = Vec::new();
            for k in 0..n {
                let r = resumes.time_range_ns(k);
                let third = (r.end - r.start) / 3;
                cases.push((k..k + 1, r.start + third, r.end - third));
                if k + 1 < n {
                    let next = resumes.time_range_ns(k + 1);
                    cases.push((k..k + 2, r.start + third, next.end - third));
                }
                if every_steps != u64::MAX {
                    let seventh = (r.end - r.start) / 7;
                    for i in 1..6 {
                        let from = r.start + i * seventh;
                        cases.push((k..k + 1, from, from + seventh));
                    }
                }
            }
            for (gens, from, to) in cases {
                let window = model::build_window_between(
                    &data,
                    &resumes,
                    gens.clone(),
                    from,
                    to,
                    &AtomicBool::new(false),
                )
                .unwrap_or_else(|e| panic!("{name}: window {gens:?}: {e}"));
                let start = from.max(resumes.time_range_ns(gens.start).start);
                let end = times[times.partition_point(|&t| t <= to) - 1].max(start);
                let expected = whole.cut_to(start, end);
                if let Some(d) = difference_in(&window, &expected, false) {
                    panic!(
                        "{name}: window {gens:?} of {from}..={to} ns, points every \
                         {every_steps} steps, differs from the whole model: {d}"
                    );
                }
                windows += 1;
                if resumes.points_ns(gens.start).any(|p| p < from) {
                    from_points += 1;
                }
            }
        }
    }
    assert!(windows > 50, "only {windows} windows checked");
    assert!(
        from_points > 100,
        "only {from_points} windows ordered from a point inside a generation"
    );
}

#[test]
fn the_generations_over_a_time_range_are_those_it_overlaps() {
    let data = goscope_testdata::trace_bytes("generations-go127");
    let (m, r) =
        model::build_keeping_resumes(&data[..], &AtomicBool::new(false), &mut |_| {}).unwrap();
    let n = r.generations();
    assert!(n >= 10, "generations-go127 has {n} generations");
    assert_eq!(r.generations_over(m.start_ns, m.end_ns), 0..n);
    let g1 = r.time_range_ns(1);
    assert_eq!(r.time_range_ns(0).end, g1.start);
    assert_eq!(r.generations_over(g1.start, g1.start + 1), 1..2);
    assert_eq!(r.generations_over(g1.start - 1, g1.start), 0..2);
    assert_eq!(r.generations_over(m.end_ns + 1, m.end_ns + 2), n..n);
    assert!(
        model::build_window(&data, &r, 2..2).is_err(),
        "an empty range is an error"
    );
    assert!(model::build_window(&data, &r, 0..n + 1).is_err());
}

/// Each state's time per bucket of `bucket_ns` in a lane, from its spans' times and
/// categories.
fn time_per_bucket(
    spans: impl Iterator<Item = (i64, i64, usize)>,
    bucket_ns: i64,
) -> std::collections::BTreeMap<(i64, usize), i64> {
    let mut out = std::collections::BTreeMap::new();
    for (start, end, c) in spans {
        let mut at = start;
        while at < end {
            let b = at.div_euclid(bucket_ns);
            let piece_end = end.min((b + 1) * bucket_ns);
            *out.entry((b, c)).or_insert(0) += piece_end - at;
            at = piece_end;
        }
    }
    out
}

/// Asserts that `thinned` (an overview, or a thinned window) keeps `real`'s time per state
/// of every lane in each bucket of `bucket_ns`, and that its spans do not overlap, its
/// summaries are at most a bucket long and the spans it keeps whole are `real`'s; returns
/// how many summary spans it has.
fn assert_thinned_lanes(real: &Model, thinned: &Model, bucket_ns: i64, at: &str) -> usize {
    let mut summaries = 0;
    for (w, o) in real.goroutines.iter().zip(&thinned.goroutines) {
        assert_eq!(w.id, o.id);
        let times = |g: &goscope_model::Goroutine| {
            time_per_bucket(
                g.spans
                    .iter()
                    .map(|s| (s.start_ns, s.end_ns, s.state as usize)),
                bucket_ns,
            )
        };
        assert_eq!(times(w), times(o), "{at} G{}", w.id);
        let kept = o.spans.to_vec();
        assert!(kept.windows(2).all(|p| p[0].end_ns <= p[1].start_ns));
        let spans = w.spans.to_vec();
        for s in &kept {
            if s.is_summary() {
                summaries += 1;
                assert!(s.duration_ns() <= bucket_ns);
            } else {
                assert!(
                    spans.contains(s),
                    "{at} G{}: {s:?} is not a real span",
                    w.id
                );
            }
        }
    }
    for (w, o) in real.procs.iter().zip(&thinned.procs) {
        let times = |p: &goscope_model::Proc| {
            time_per_bucket(p.spans.iter().map(|s| (s.start_ns, s.end_ns, 0)), bucket_ns)
        };
        assert_eq!(times(w), times(o), "{at} P{}", w.id);
    }
    for (w, o) in real.threads.iter().zip(&thinned.threads) {
        let times = |m: &goscope_model::Thread| {
            time_per_bucket(
                m.spans
                    .iter()
                    .map(|s| (s.start_ns, s.end_ns, usize::from(s.syscall))),
                bucket_ns,
            )
        };
        assert_eq!(times(w), times(o), "{at} M{}", w.id);
    }
    summaries
}

#[test]
fn an_overview_keeps_each_buckets_time_per_state_and_each_counters_values_at_bucket_edges() {
    for name in ["generations-go127", "generations-go122", "stall-go127"] {
        let data = goscope_testdata::trace_bytes(name);
        let whole = model::build(&data[..]).unwrap();
        let (over, resumes) =
            model::build_overview(&data[..], &AtomicBool::new(false), &mut |_| {}, 0, None)
                .unwrap();
        let bucket = over.overview_bucket_ns;
        let n = resumes.generations();
        assert_eq!(n, whole.generations, "{name}");
        if n < 2 {
            assert_eq!(bucket, 0, "{name}: one generation is not thinned");
            assert!(difference(&whole, &over).is_none(), "{name}");
            continue;
        }
        let trace_ns = whole.end_ns - whole.start_ns;
        assert!(
            bucket > 0 && bucket < trace_ns / 1000,
            "{name}: bucket {bucket} ns of {trace_ns}"
        );
        let summaries = assert_thinned_lanes(&whole, &over, bucket, name);
        let least = if name.starts_with("generations") {
            100
        } else {
            1
        };
        assert!(summaries >= least, "{name}: only {summaries} summary spans");
        for (k, (w, o)) in whole
            .counters
            .all()
            .iter()
            .zip(over.counters.all())
            .enumerate()
        {
            for (t, v) in o.points() {
                assert_eq!(w.at(t), v, "{name} counter {k} at {t}");
            }
            let first = whole.start_ns.div_euclid(bucket);
            for b in first..=whole.end_ns.div_euclid(bucket) + 1 {
                let edge = b * bucket - 1;
                assert_eq!(w.at(edge), o.at(edge), "{name} counter {k} at {edge}");
            }
        }
        // Stimuli: the same count in every bucket.
        for k in 0..3 {
            let per_bucket = |m: &Model| {
                let mut out = std::collections::BTreeMap::new();
                let times = &m.stimulus_times[k];
                for (i, &t) in times.iter().enumerate() {
                    let n = m.stimuli_before(k, i + 1) - m.stimuli_before(k, i);
                    *out.entry(t.div_euclid(bucket)).or_insert(0) += n;
                }
                out
            };
            assert_eq!(per_bucket(&whole), per_bucket(&over), "{name} stimuli {k}");
            if name.starts_with("generations") && k == 1 {
                assert!(
                    over.stimulus_times[k].len() < whole.stimulus_times[k].len(),
                    "{name}: syscall returns thinned"
                );
            }
        }
        // The windows of an overview are those of the whole build.
        for gens in [0..1, n / 2..n / 2 + 1, n - 1..n] {
            let (t0, t1) = {
                let starts: Vec<i64> = resumes.starts_ns().collect();
                (
                    starts[gens.start],
                    last_event_ns(&data, &starts)[gens.end - 1],
                )
            };
            let window = model::build_window(&data, &resumes, gens.clone()).unwrap();
            assert!(
                difference(&window, &whole.cut_to(t0, t1)).is_none(),
                "{name}: window {gens:?}"
            );
        }
    }
}

/// An overview's preview comes from a read of the file's start of its own, which does not
/// wait for the scan of the whole file; it is the same model a whole build hands over as
/// its preview after as many events, on every committed trace and its cuts.
#[test]
fn an_overviews_preview_read_on_its_own_equals_a_whole_builds_preview() {
    let mut compared = 0;
    for (name, data) in goscope_testdata::all_traces_and_cuts() {
        let Ok(whole) = model::build(&data) else {
            continue;
        };
        for n in [whole.events / 3, whole.events.saturating_sub(3)] {
            if n == 0 {
                continue;
            }
            let cancel = AtomicBool::new(false);
            let mut want = None;
            let _ = model::build_previewing(
                &data,
                &cancel,
                &mut |_| {},
                n,
                Some(&mut |m| want = Some(m)),
            );
            let mut got = None;
            let _ =
                model::build_overview(&data, &cancel, &mut |_| {}, n, Some(&mut |m| got = Some(m)));
            let what = format!("{name}, preview after {n} events");
            match (got, want) {
                (Some(got), Some(want)) => {
                    assert_eq!(got.events, want.events, "{what}");
                    assert_eq!(got.generations, want.generations, "{what}");
                    if let Some(d) = difference(&got, &want) {
                        panic!("{what}: {d}");
                    }
                    compared += 1;
                }
                (None, None) => {}
                (got, want) => panic!(
                    "{what}: a preview from the overview's read: {}, from the whole build: {}",
                    got.is_some(),
                    want.is_some()
                ),
            }
        }
    }
    assert!(compared > 20, "{compared} previews compared");
}

/// A window's build stops with an error soon after it is told to, inside a generation of
/// hundreds of thousands of events, and builds when it is not.
#[test]
fn a_window_build_stops_when_told_to() {
    let path = goscope_testdata::dir()
        .join("traces")
        .join("gc-go125.trace");
    let data = std::fs::read(path).unwrap();
    let cancel = AtomicBool::new(false);
    let (_, resumes) = model::build_overview(&data, &cancel, &mut |_| {}, 0, None).unwrap();
    assert_eq!(resumes.generations(), 1);
    let built = model::build_window_between(&data, &resumes, 0..1, i64::MIN, i64::MAX, &cancel);
    assert!(built.is_ok());
    let stopped = AtomicBool::new(true);
    let err = model::build_window_between(&data, &resumes, 0..1, i64::MIN, i64::MAX, &stopped)
        .expect_err("stopped");
    assert!(err.to_string().contains("cancelled"), "{err}");
}

/// A window built in pieces at once (split at points saved inside its generations and at
/// generations' starts, then joined) is the window built in one piece, byte for byte
/// (its `Debug` form: every span, region, counter point, total and straggler), on every
/// committed trace and its cuts: whole generations, runs of them, and parts of them.
#[test]
fn a_window_built_in_pieces_equals_one_built_whole() {
    let (mut windows, mut split) = (0, 0);
    for (name, data) in goscope_testdata::all_traces_and_cuts() {
        let Ok(whole) = model::build(&data[..]) else {
            continue;
        };
        let Some(times) = event_times(&data) else {
            continue;
        };
        let generations = whole.generations.max(1) as u64;
        let every = (times.len() as u64 / generations / 8).max(3);
        let (_, resumes) = model::build_keeping_resumes_every(
            &data[..],
            every,
            &AtomicBool::new(false),
            &mut |_| {},
        )
        .unwrap();
        let n = resumes.generations();
        if n == 0 {
            continue;
        }
        let mut cases = vec![(0..n, i64::MIN, i64::MAX)];
        for k in 0..n {
            let r = resumes.time_range_ns(k);
            let fifth = (r.end - r.start) / 5;
            cases.push((k..k + 1, i64::MIN, i64::MAX));
            cases.push((k..k + 1, r.start + fifth, r.end - fifth));
            if k + 1 < n {
                let next = resumes.time_range_ns(k + 1);
                cases.push((k..k + 2, r.start + 2 * fifth, next.end - fifth));
            }
        }
        for (gens, from, to) in cases {
            let build = |pieces| {
                model::build_window_in_pieces(
                    &data,
                    &resumes,
                    gens.clone(),
                    from,
                    to,
                    &AtomicBool::new(false),
                    pieces,
                    0,
                )
                .unwrap_or_else(|e| panic!("{name}: window {gens:?} in {pieces} pieces: {e}"))
            };
            let one = format!("{:?}", build(1));
            for pieces in [2, 5] {
                let got = format!("{:?}", build(pieces));
                if got != one {
                    let at = one
                        .bytes()
                        .zip(got.bytes())
                        .position(|(x, y)| x != y)
                        .unwrap_or(one.len().min(got.len()));
                    let from_at = at.saturating_sub(300);
                    panic!(
                        "{name}: window {gens:?} of {from}..={to} ns in {pieces} pieces differs \
                         from one built whole at byte {at}:\n whole: …{}…\npieces: …{}…",
                        &one[from_at..(at + 300).min(one.len())],
                        &got[from_at..(at + 300).min(got.len())]
                    );
                }
                split += 1;
            }
            windows += 1;
        }
    }
    assert!(
        windows > 100 && split > 200,
        "only {windows} windows, {split} split builds"
    );
}

/// Sweeps and mark assists in progress where a model ends are closed there, as
/// `go tool trace`'s views close a P's ranges and a running goroutine's at a trace's end
/// (`cmd/trace`'s generators' `Finish`): a window that ends inside one has it cut at its
/// end, as `Model::cut_to` cuts the whole model's. Before, a model left both out, at a
/// trace's end as at a window's. (No committed trace ends, whole or cut at a generation,
/// with one in progress; windows end anywhere.)
#[test]
fn a_window_ending_inside_a_sweep_or_mark_assist_has_it_up_to_its_end() {
    let mut cut = [0; 2];
    for path in goscope_testdata::all_traces() {
        let name = path.display().to_string();
        let data = std::fs::read(&path).unwrap();
        let Ok((whole, resumes)) =
            model::build_keeping_resumes(&data[..], &AtomicBool::new(false), &mut |_| {})
        else {
            continue;
        };
        if resumes.generations() == 0 {
            continue;
        }
        for (k, kind) in [model::PWork::Sweep, model::PWork::MarkAssist]
            .into_iter()
            .enumerate()
        {
            let ranges = whole.procs.iter().flat_map(|p| {
                p.work_of(kind)
                    .iter()
                    .filter(|w| w.end_ns - w.start_ns > 2)
                    .map(move |w| (p.id, *w))
            });
            for (p, w) in ranges.take(12) {
                let mid_ns = w.start_ns + (w.end_ns - w.start_ns) / 2;
                let gens = resumes.generations_over(w.start_ns, mid_ns);
                let window = model::build_window_between(
                    &data[..],
                    &resumes,
                    gens,
                    w.start_ns,
                    mid_ns,
                    &AtomicBool::new(false),
                )
                .unwrap_or_else(|e| panic!("{name}: window to {mid_ns}: {e}"));
                let expected = whole.cut_to(window.start_ns, window.end_ns);
                let of = |m: &Model| -> Vec<model::PRange> {
                    m.procs
                        .iter()
                        .filter(|x| x.id == p)
                        .flat_map(|x| x.work_of(kind))
                        .filter(|v| v.start_ns == w.start_ns)
                        .copied()
                        .collect()
                };
                let (got, want) = (of(&window), of(&expected));
                assert_eq!(
                    got, want,
                    "{name}: P{p}'s {kind:?} {}..{} ns in the window to {mid_ns} ns \
                     (ending {} ns) and in the whole model cut there",
                    w.start_ns, w.end_ns, window.end_ns
                );
                if window.end_ns < w.end_ns {
                    assert_eq!(
                        got.last().map(|v| v.end_ns),
                        Some(window.end_ns),
                        "{name}: P{p}'s {kind:?} from {} ns is not cut at the window's end",
                        w.start_ns
                    );
                    cut[k] += 1;
                }
            }
        }
    }
    assert!(
        cut[0] > 20 && cut[1] > 20,
        "windows cut {} sweeps and {} assists",
        cut[0],
        cut[1]
    );
}

/// A window thinned to buckets (for a view too dense for full detail) keeps, in every
/// bucket, each lane's time per state, each counter's values and the stimuli of the whole
/// model cut to its time; the spans it keeps whole are real ones.
#[test]
fn a_thinned_window_keeps_each_buckets_time_per_state_of_the_whole_model_cut_to_it() {
    let mut summaries = 0;
    for name in [
        "generations-go127",
        "generations-go122",
        "stall-go127",
        "gc-go127",
    ] {
        let data = goscope_testdata::trace_bytes(name);
        let whole = model::build(&data[..]).unwrap();
        let (_, resumes) =
            model::build_overview(&data[..], &AtomicBool::new(false), &mut |_| {}, 0, None)
                .unwrap();
        for k in 0..resumes.generations() {
            let r = resumes.time_range_ns(k);
            // The middle third of a generation, and from its middle to the next one's.
            let third = (r.end - r.start) / 3;
            let next_end = resumes.time_range_ns((k + 1).min(resumes.generations() - 1));
            for (gens, from, to) in [
                (k..k + 1, r.start + third, r.end - third),
                (
                    k..(k + 2).min(resumes.generations()),
                    r.start + third,
                    next_end.start + (next_end.end - next_end.start) / 2,
                ),
            ] {
                let bucket = ((to - from) / 50).max(1);
                let thin = model::build_window_thinned(
                    &data[..],
                    &resumes,
                    gens.clone(),
                    from,
                    to,
                    bucket,
                    &AtomicBool::new(false),
                )
                .unwrap();
                // Up to its last event, where its open spans end (as a window's do).
                let cut = whole.cut_to(from, thin.end_ns);
                let at = format!("{name} generations {gens:?}, {from}–{to}");
                assert_eq!(thin.overview_bucket_ns, bucket, "{at}");
                assert_eq!(thin.goroutines.len(), cut.goroutines.len(), "{at}");
                summaries += assert_thinned_lanes(&cut, &thin, bucket, &at);
                for (c, (w, o)) in whole
                    .counters
                    .all()
                    .iter()
                    .zip(thin.counters.all())
                    .enumerate()
                {
                    for (t, v) in o.points() {
                        assert!(t >= from, "{at} counter {c}: a point at {t}");
                        assert_eq!(w.at(t), v, "{at} counter {c} at {t}");
                    }
                }
                for s in 0..3 {
                    let per_bucket = |m: &Model| {
                        let mut out = std::collections::BTreeMap::new();
                        for (i, &t) in m.stimulus_times[s].iter().enumerate() {
                            let n = m.stimuli_before(s, i + 1) - m.stimuli_before(s, i);
                            *out.entry(t.div_euclid(bucket)).or_insert(0) += n;
                        }
                        out
                    };
                    assert_eq!(per_bucket(&cut), per_bucket(&thin), "{at} stimuli {s}");
                }
            }
        }
    }
    assert!(summaries > 100, "{summaries} summary spans");
}
