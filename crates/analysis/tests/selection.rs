//! A selection's summary summed over a trace opened as an overview, piece by piece from
//! the trace's bytes, equals the summary of the whole trace's model, on every committed
//! trace and its cuts.

use std::sync::atomic::AtomicBool;

use goscope_analysis::selection::SelectionSummary;
use goscope_model as model;

/// Selections over the trace `[start_ns, end_ns]` whose generations begin at `starts_ns`:
/// all of it and more, a third, a short stretch, and around and between generations'
/// starts (of four generations).
fn selections(start_ns: i64, end_ns: i64, starts_ns: &[i64]) -> Vec<(i64, i64)> {
    let d = (end_ns - start_ns).max(1);
    let mut v = vec![
        (start_ns, end_ns),
        (start_ns - 1_000, end_ns + 1_000),
        (start_ns + d / 3, start_ns + 2 * d / 3),
        (start_ns + d / 7, start_ns + d / 7 + d / 50),
    ];
    // Four generations, spread over the trace (tests in the dev profile are slow).
    let step = (starts_ns.len() / 4).max(1);
    for w in starts_ns.windows(2).step_by(step) {
        v.push((w[0], w[1]));
        v.push((w[1] - d / 100, w[1] + d / 100));
    }
    v
}

#[test]
fn a_selection_summed_in_pieces_equals_the_whole_models_summary() {
    let (mut compared, mut in_many_pieces) = (0, 0);
    for (name, data) in goscope_testdata::all_traces_and_cuts() {
        let Ok(whole) = model::build(&data[..]) else {
            continue;
        };
        let cancel = AtomicBool::new(false);
        let Ok((overview, from_overview)) =
            model::build_overview(&data[..], &cancel, &mut |_| {}, 0, None)
        else {
            continue;
        };
        // Points inside generations every 300 steps, so that pieces split there too.
        let (_, with_points) =
            model::build_keeping_resumes_every(&data[..], 300, &cancel, &mut |_| {}).unwrap();
        if from_overview.generations() == 0 {
            continue;
        }
        let starts_ns: Vec<i64> = from_overview.starts_ns().collect();
        for (a, b) in selections(whole.start_ns, whole.end_ns, &starts_ns) {
            let want = SelectionSummary::compute(&whole, a as f64, b as f64);
            for (resumes, piece_bytes) in [
                (&from_overview, u64::MAX),
                (&from_overview, 2_048),
                (&with_points, 2_048),
            ] {
                let mut pieces = 0;
                let got = SelectionSummary::compute_in_pieces(
                    &data[..],
                    resumes,
                    &overview,
                    a as f64,
                    b as f64,
                    piece_bytes,
                    &cancel,
                    &mut |done, of, so_far| {
                        assert!(done <= of, "{name}: piece {done} of {of}");
                        pieces = done;
                        // What is summed so far is the whole model's summary of the
                        // selection's start up to where the pieces done reach.
                        let part = so_far();
                        assert_eq!(part.start_ns, a as f64);
                        let reached = part.end_ns;
                        assert!(reached <= b as f64, "{name}: reached {reached} of {b}");
                        assert_eq!(
                            part,
                            SelectionSummary::compute(&whole, a as f64, reached),
                            "{name}: [{a}, {reached}) of [{a}, {b}), piece {done} of {of}"
                        );
                    },
                )
                .unwrap();
                assert_eq!(
                    got, want,
                    "{name}: [{a}, {b}) in pieces of {piece_bytes} bytes ({pieces} of them)"
                );
                compared += 1;
                if pieces > 2 {
                    in_many_pieces += 1;
                }
            }
        }
    }
    assert!(compared > 200, "only {compared} selections compared");
    assert!(
        in_many_pieces > 50,
        "only {in_many_pieces} selections were summed in more than two pieces"
    );
}

/// The overview's own summary is not the whole trace's (its short spans are summed per
/// bucket), which is why the viewer sums a selection over an overview in pieces: on a trace
/// long enough to be thinned, the counts of spans differ.
#[test]
fn an_overviews_own_summary_miscounts_spans() {
    let data = goscope_testdata::trace_bytes("generations-go127");
    let whole = model::build(&data[..]).unwrap();
    let (overview, _) =
        model::build_overview(&data[..], &AtomicBool::new(false), &mut |_| {}, 0, None).unwrap();
    let (a, b) = (whole.start_ns as f64, whole.end_ns as f64);
    let exact = SelectionSummary::compute(&whole, a, b);
    let thinned = SelectionSummary::compute(&overview, a, b);
    assert_ne!(exact.per_state, thinned.per_state);
}

/// A selection whose summing fails part way (its trace cut short on disk, say: here the
/// bytes end halfway through) returns the error, and what it reported before was the
/// whole model's summary of the part summed by then, which the panel keeps showing.
#[test]
fn a_selection_whose_summing_fails_has_reported_the_part_summed_before() {
    let data = goscope_testdata::trace_bytes("generations-go127");
    let whole = model::build(&data[..]).unwrap();
    let cancel = AtomicBool::new(false);
    let (overview, resumes) =
        model::build_overview(&data[..], &cancel, &mut |_| {}, 0, None).unwrap();
    let (a, b) = (whole.start_ns as f64, whole.end_ns as f64);
    let cut = &data[..data.len() / 2];
    let mut last = None;
    let got = SelectionSummary::compute_in_pieces(
        cut,
        &resumes,
        &overview,
        a,
        b,
        2_048,
        &cancel,
        &mut |done, of, so_far| last = Some((done, of, so_far())),
    );
    let e = got.expect_err("half the bytes cannot be summed whole");
    let (done, of, part) = last.expect("pieces were summed before the bytes ran out");
    assert!(done < of, "piece {done} of {of}: {e}");
    assert!(part.end_ns > a && part.end_ns < b, "{part:?}");
    assert_eq!(part, SelectionSummary::compute(&whole, a, part.end_ns));
    eprintln!(
        "failed after piece {done} of {of}, {:.0} % summed: {e}",
        100.0 * (part.end_ns - a) / (b - a)
    );
}
