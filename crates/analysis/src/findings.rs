//! Automatic findings: the things a Go engineer hunting latency would look for first —
//! long blocks on channels, select and locks (with where they blocked and who woke them),
//! stop-the-world pauses and the Ps that straggled into them, quiet periods when work was
//! runnable but nothing arrived from outside, and long GC mark assists. Computed from the
//! model; each finding points at a time range and a lane.

use serde::Serialize;

use goscope_model::{GState, Model, PRange, PWork, StackId};

/// Thresholds, in ns.
pub(crate) const LONG_BLOCK_NS: i64 = 100_000_000;
pub(crate) const LONG_STW_NS: i64 = 1_000_000;
pub(crate) const QUIET_NS: i64 = 50_000_000;
pub(crate) const LONG_ASSIST_NS: i64 = 1_000_000;

/// What a finding is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    LongBlock,
    StopTheWorld,
    QuietPeriod,
    MarkAssist,
}

/// The lane a finding points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LaneRef {
    Goroutine(i64),
    Proc(i64),
    None,
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    pub kind: FindingKind,
    /// How much time it stands for (the block, the pause, the quiet gap, the assist).
    pub impact_ns: i64,
    pub start_ns: i64,
    pub end_ns: i64,
    pub lane: LaneRef,
    /// One line: what happened.
    pub title: String,
    /// One line: why it matters or who was involved.
    pub explanation: String,
    /// Where it blocked (innermost frame first), when there is a stack.
    pub stack: Vec<String>,
    /// For a block that lasted because the goroutine that finally woke it was itself
    /// blocked: that goroutine. Such findings are consequences and rank after causes.
    pub downstream_of: Option<i64>,
    #[serde(skip)]
    pub stack_id: StackId,
}

const BLOCK_REASONS: &[&str] = &[
    "chan receive",
    "chan send",
    "select",
    "sync",
    "sync.(*Cond).Wait",
];

fn rel_ms(model: &Model, t: i64) -> f64 {
    (t - model.start_ns) as f64 / 1e6
}

fn frames(model: &Model, stack: StackId) -> Vec<String> {
    model
        .interner
        .stack(stack)
        .map(|f| {
            format!(
                "{} {}:{}",
                model.string(f.func),
                model.string(f.file),
                f.line
            )
        })
        .collect()
}

/// All findings, largest impact first.
pub fn findings(model: &Model) -> Vec<Finding> {
    let mut out = Vec::new();
    let reasons: Vec<u32> = BLOCK_REASONS
        .iter()
        .filter_map(|r| model.interner.find(r))
        .collect();

    // Long blocks.
    for g in &model.goroutines {
        // The runtime's own goroutines (trace reader, timers, GC workers) wait by design.
        if super::is_system_goroutine(model.string(g.start_fn)) {
            continue;
        }
        for (i, s) in g.spans.iter().enumerate() {
            if s.state != GState::Waiting
                || !reasons.contains(&s.reason)
                || s.duration_ns() < LONG_BLOCK_NS
            {
                continue;
            }
            let woke = g.spans.get(i + 1).filter(|n| n.state == GState::Runnable);
            let who = match woke {
                Some(n) if n.waker >= 0 => format!(
                    "woken by {} at {:.3} ms",
                    model.goroutine_label(n.waker),
                    rel_ms(model, n.start_ns)
                ),
                Some(n) => format!(
                    "woken by the runtime (timer or poller) at {:.3} ms",
                    rel_ms(model, n.start_ns)
                ),
                None if s.end_ns >= model.end_ns => "still blocked when the trace ends".to_string(),
                None => "then ended".to_string(),
            };
            let top = model
                .interner
                .stack(s.start_stack)
                .find(|f| !model.string(f.func).starts_with("runtime."));
            let at = top
                .map(|f| format!(" in {}", model.string(f.func)))
                .unwrap_or_default();
            out.push(Finding {
                kind: FindingKind::LongBlock,
                impact_ns: s.duration_ns(),
                start_ns: s.start_ns,
                end_ns: s.end_ns,
                lane: LaneRef::Goroutine(g.id),
                title: format!(
                    "{} blocked {:.1} ms on {}{at}",
                    model.goroutine_label(g.id),
                    s.duration_ns() as f64 / 1e6,
                    model.string(s.reason)
                ),
                explanation: format!("Blocked at {:.3} ms, {who}.", rel_ms(model, s.start_ns)),
                stack: frames(model, s.start_stack),
                stack_id: s.start_stack,
                downstream_of: woke.filter(|n| n.waker >= 0).and_then(|n| {
                    let w = model.goroutine(n.waker)?;
                    // The waker spent at least half of this block blocked itself.
                    // Its spans overlapping this block: from the first ending after it began.
                    let blocked: i64 = w
                        .spans
                        .iter_from(w.spans.count_ending_by(s.start_ns))
                        .take_while(|x| x.start_ns < s.end_ns)
                        .filter(|x| x.state == GState::Waiting && x.end_ns > s.start_ns)
                        .map(|x| x.end_ns.min(s.end_ns) - x.start_ns.max(s.start_ns))
                        .sum();
                    (blocked * 2 >= s.duration_ns()).then_some(n.waker)
                }),
            });
        }
    }

    // Stop-the-world pauses.
    for s in &model.stw {
        let d = s.end_ns - s.start_ns;
        if d < LONG_STW_NS {
            continue;
        }
        let straggle = if s.straggler_p >= 0 {
            format!(
                "Proc {} kept running its goroutine for {:.3} ms after the pause began.",
                s.straggler_p,
                s.straggler_ns as f64 / 1e6
            )
        } else {
            "No P straggled into it.".to_string()
        };
        out.push(Finding {
            kind: FindingKind::StopTheWorld,
            impact_ns: d,
            start_ns: s.start_ns,
            end_ns: s.end_ns,
            lane: if s.straggler_p >= 0 {
                LaneRef::Proc(s.straggler_p)
            } else {
                LaneRef::Goroutine(s.g)
            },
            title: format!(
                "Stop-the-world ({}) for {:.3} ms",
                model.string(s.kind),
                d as f64 / 1e6
            ),
            explanation: format!("Every goroutine paused. {straggle}"),
            stack: Vec::new(),
            stack_id: 0,
            downstream_of: None,
        });
    }

    // Quiet periods: nothing from outside for a long time while goroutines were runnable.
    // From the stimuli's times, which an overview keeps too (without the stimuli).
    let mut last = model.start_ns;
    let mut all: Vec<i64> = model.stimulus_times.iter().flatten().copied().collect();
    all.sort_unstable();
    let times = all.into_iter().chain(std::iter::once(model.end_ns));
    for t in times {
        if t - last >= QUIET_NS {
            let (runnable, busy_ns) = runnable_in(model, last, t);
            if runnable > 0 && busy_ns * 2 >= t - last {
                out.push(Finding {
                    kind: FindingKind::QuietPeriod,
                    impact_ns: t - last,
                    start_ns: last,
                    end_ns: t,
                    lane: LaneRef::None,
                    title: format!("{:.1} ms without network, syscall or timer activity", (t - last) as f64 / 1e6),
                    explanation: format!(
                        "Up to {runnable} goroutines were runnable but nothing arrived from outside; look for a lock, a channel or CPU work holding them up."
                    ),
                    stack: Vec::new(),
                    stack_id: 0,
                    downstream_of: None,
                });
            }
        }
        last = last.max(t);
    }

    // Long mark assists, each from its begin to its end: on the Ps it is a range per stretch
    // its goroutine ran (`PRange::goes_on` links them), and the time between, when the
    // goroutine waited in the assist or was preempted, is the assist's cost too.
    for (g, start_ns, end_ns, marking_ns) in whole_assists(model) {
        let d = end_ns - start_ns;
        if d < LONG_ASSIST_NS {
            continue;
        }
        let mut explanation = String::from(
            "It allocated while the GC was behind, so it was made to help mark instead of running its own code.",
        );
        if marking_ns < d {
            explanation.push_str(&format!(
                " It marked for {:.3} ms of that, on a P; the rest of the time it was off its P: parked in the assist, preempted, or waiting for a P to run on again.",
                marking_ns as f64 / 1e6
            ));
        }
        out.push(Finding {
            kind: FindingKind::MarkAssist,
            impact_ns: d,
            start_ns,
            end_ns,
            lane: LaneRef::Goroutine(g),
            title: format!(
                "{} spent {:.3} ms in a GC mark assist",
                model.goroutine_label(g),
                d as f64 / 1e6
            ),
            explanation,
            stack: Vec::new(),
            stack_id: 0,
            downstream_of: None,
        });
    }
    for f in &mut out {
        if let Some(w) = f.downstream_of {
            f.explanation.push_str(&format!(
                " {} was itself blocked for most of that time.",
                model.goroutine_label(w)
            ));
        }
    }
    rank(&mut out);
    out
}

/// Every mark assist of the model, whole: (goroutine, begin, end, time on a P), joining the
/// P ranges of one assist (each but the last `goes_on` in its goroutine's next one).
fn whole_assists(model: &Model) -> Vec<(i64, i64, i64, i64)> {
    let mut pieces: Vec<&PRange> = model
        .procs
        .iter()
        .flat_map(|p| p.work_of(PWork::MarkAssist))
        .collect();
    pieces.sort_by_key(|w| (w.g, w.start_ns));
    let mut whole = Vec::new();
    let mut rest = pieces.iter().peekable();
    while let Some(first) = rest.next() {
        let (mut end_ns, mut marking_ns) = (first.end_ns, first.end_ns - first.start_ns);
        let mut goes_on = first.goes_on;
        while goes_on {
            let Some(next) = rest.next_if(|n| n.g == first.g) else {
                break;
            };
            end_ns = next.end_ns;
            marking_ns += next.end_ns - next.start_ns;
            goes_on = next.goes_on;
        }
        whole.push((first.g, first.start_ns, end_ns, marking_ns));
    }
    whole
}

/// How many times less a consequence (a block that lasted because its waker was itself
/// blocked) weighs than a cause of the same length.
const CONSEQUENCE_WEIGHT: i64 = 4;

/// Puts the findings most important first: by the time each stands for, a consequence
/// counting a quarter of its length, so that a cause ranks before a consequence of the
/// same size, but one long block (even a consequence) still before hundreds of 1 ms
/// assists. Ties by start time.
fn rank(out: &mut [Finding]) {
    out.sort_by_key(|f| {
        let weight = if f.downstream_of.is_some() {
            CONSEQUENCE_WEIGHT
        } else {
            1
        };
        (std::cmp::Reverse(f.impact_ns / weight), f.start_ns)
    });
}

/// The most goroutines runnable at once in [a, b), and for how long any were.
fn runnable_in(model: &Model, a: i64, b: i64) -> (u64, i64) {
    let series = &model.counters.runnable;
    let mut value = series.at(a);
    let mut max = value;
    let mut since = a;
    let mut busy_ns = 0;
    let i = series.count_through(a);
    for p in series.iter_from(i).take_while(|p| p.0 < b) {
        if value > 0.0 {
            busy_ns += p.0 - since;
        }
        value = p.1;
        since = p.0;
        max = max.max(value);
    }
    if value > 0.0 {
        busy_ns += b - since;
    }
    (max as u64, busy_ns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stall_trace_reports_the_select_stall_first() {
        let m = goscope_model::build(&goscope_testdata::trace_bytes("stall-go127")).unwrap();
        let f = findings(&m);
        let first = f.first().expect("a finding");
        assert_eq!(first.kind, FindingKind::LongBlock);
        assert!(first.impact_ns > 900_000_000, "{first:?}");
        assert!(
            first.title.contains("select") && first.title.contains("main.wait"),
            "{}",
            first.title
        );
        assert!(
            first.stack.iter().any(|s| s.starts_with("main.wait ")),
            "{:?}",
            first.stack
        );
    }

    /// A mark assist found is whole, from its begin event to its end event, though on the
    /// Ps it is a range per stretch its goroutine ran; and the time it marked is the time
    /// its goroutine ran on a P within it.
    #[test]
    fn a_mark_assist_is_whole_from_its_begin_to_its_end() {
        use goscope_trace::spec::{EV_GC_MARK_ASSIST_BEGIN, EV_GC_MARK_ASSIST_END};
        let mut split = 0;
        for name in ["gc-go127", "gc-go121", "mixed-go125", "served-go123"] {
            let bytes = goscope_testdata::trace_bytes(name);
            let mut begun = std::collections::HashMap::new();
            let mut from_events = Vec::new();
            goscope_trace::read(&bytes, Default::default(), |ev, _| match ev.typ {
                EV_GC_MARK_ASSIST_BEGIN => {
                    begun.insert(ev.g, ev.time_ns);
                }
                EV_GC_MARK_ASSIST_END => {
                    if let Some(start_ns) = begun.remove(&ev.g) {
                        from_events.push((ev.g, start_ns, ev.time_ns));
                    }
                }
                _ => {}
            })
            .unwrap();
            from_events.sort();
            let m = goscope_model::build(&bytes).unwrap();
            let whole = whole_assists(&m);
            let mut found: Vec<(i64, i64, i64)> = whole
                .iter()
                .map(|&(g, start_ns, end_ns, _)| (g, start_ns, end_ns))
                .filter(|a| from_events.binary_search(a).is_ok())
                .collect();
            found.sort();
            assert_eq!(found, from_events, "{name}");
            for &(g, start_ns, end_ns, marking_ns) in &whole {
                let running_ns: i64 = m
                    .goroutines
                    .iter()
                    .find(|x| x.id == g)
                    .unwrap()
                    .spans
                    .iter()
                    .filter(|s| matches!(s.state, GState::Running | GState::Syscall))
                    .map(|s| s.end_ns.min(end_ns) - s.start_ns.max(start_ns))
                    .filter(|&d| d > 0)
                    .sum();
                assert_eq!(marking_ns, running_ns, "{name}: G{g} at {start_ns}");
                split += usize::from(marking_ns < end_ns - start_ns);
            }
        }
        assert!(split > 100, "{split} assists waited");
    }

    /// An overview (lanes thinned, no stimuli but their times) keeps what findings read:
    /// long spans and the span after each, pauses, assists, stimulus times, counter extremes.
    #[test]
    fn an_overview_finds_what_the_whole_model_finds() {
        let mut found = 0;
        let mut thinned = 0;
        for path in goscope_testdata::all_traces() {
            let data = std::fs::read(&path).unwrap();
            let Ok(whole) = goscope_model::build(&data[..]) else {
                continue;
            };
            let (over, _) = goscope_model::build_overview(
                &data[..],
                &std::sync::atomic::AtomicBool::new(false),
                &mut |_| {},
                0,
                None,
            )
            .unwrap();
            let (a, b) = (findings(&whole), findings(&over));
            assert!(a == b, "{}:\n{a:#?}\nagainst\n{b:#?}", path.display());
            found += a.len();
            thinned += usize::from(over.overview_bucket_ns > 0);
        }
        assert!(found >= 10, "only {found} findings");
        assert!(thinned >= 10, "only {thinned} overviews thinned");
    }

    fn finding(kind: FindingKind, impact_ns: i64, start_ns: i64, downstream: bool) -> Finding {
        Finding {
            kind,
            impact_ns,
            start_ns,
            end_ns: start_ns + impact_ns,
            lane: LaneRef::None,
            title: String::new(),
            explanation: String::new(),
            stack: Vec::new(),
            downstream_of: downstream.then_some(7),
            stack_id: 0,
        }
    }

    #[test]
    fn one_long_block_outranks_many_short_assists_and_causes_come_before_consequences() {
        let mut list: Vec<Finding> = (0..300)
            .map(|i| finding(FindingKind::MarkAssist, 1_000_000, i, false))
            .collect();
        list.push(finding(FindingKind::LongBlock, 1_000_000_000, 500, true));
        list.push(finding(FindingKind::LongBlock, 1_000_000_000, 900, false));
        rank(&mut list);
        assert_eq!(
            (list[0].start_ns, list[0].downstream_of),
            (900, None),
            "the cause first"
        );
        assert_eq!(
            list[1].start_ns, 500,
            "then the 1 s consequence, before any assist"
        );
        assert!(list[2..].iter().all(|f| f.kind == FindingKind::MarkAssist));
        assert!(list[2..].windows(2).all(|w| w[0].start_ns < w[1].start_ns));
    }
}
