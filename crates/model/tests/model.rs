//! Model tests on real traces: lane invariants, the stall goroutine, counters and ranges.

use goscope_model::{self as model, GState, Model};

fn load(name: &str) -> Model {
    let p = goscope_testdata::dir()
        .join("traces")
        .join(format!("{name}.trace"));
    model::build(&std::fs::read(p).unwrap()).unwrap()
}

const VERSIONS: [&str; 4] = ["go122", "go123", "go125", "go127"];

#[test]
fn lanes_are_sorted_non_overlapping_and_inside_the_trace() {
    for prog in ["basic", "net", "syscalls", "gc", "annotations", "stall"] {
        for v in VERSIONS {
            let m = load(&format!("{prog}-{v}"));
            assert!(m.start_ns < m.end_ns);
            for g in &m.goroutines {
                for w in g.spans.to_vec().windows(2) {
                    assert!(
                        w[0].end_ns <= w[1].start_ns,
                        "{prog}-{v} G{}: {:?} then {:?}",
                        g.id,
                        w[0],
                        w[1]
                    );
                }
                for s in g.spans.iter() {
                    assert!(
                        s.start_ns <= s.end_ns && s.start_ns >= m.start_ns && s.end_ns <= m.end_ns
                    );
                }
            }
            for p in &m.procs {
                for w in p.spans.to_vec().windows(2) {
                    assert!(
                        w[0].end_ns <= w[1].start_ns,
                        "{prog}-{v} P{}: {:?} then {:?}",
                        p.id,
                        w[0],
                        w[1]
                    );
                }
            }
            for t in &m.threads {
                for w in t.spans.to_vec().windows(2) {
                    assert!(w[0].end_ns <= w[1].start_ns, "{prog}-{v} M{}", t.id);
                }
            }
            assert!(
                m.procs.iter().any(|p| !p.spans.is_empty()),
                "{prog}-{v}: no P ran anything"
            );
            assert!(m.goroutines.len() > 2);
        }
    }
}

#[test]
fn stall_goroutine_waits_one_second_in_select_at_main_wait() {
    for v in VERSIONS {
        let m = load(&format!("stall-{v}"));
        let select = m.interner.find("select").expect("a select wait");
        let (g, span) = m
            .goroutines
            .iter()
            .flat_map(|g| g.spans.iter().map(move |s| (g, s)))
            .filter(|(_, s)| s.state == GState::Waiting && s.reason == select)
            .max_by_key(|(_, s)| s.duration_ns())
            .unwrap();
        let d = span.duration_ns();
        assert!(
            (900_000_000..1_200_000_000).contains(&d),
            "stall-{v}: longest select wait {d} ns"
        );
        assert_eq!(m.string(g.start_fn), "main.stream", "stall-{v}");
        let funcs: Vec<&str> = m
            .interner
            .stack(span.start_stack)
            .map(|f| m.string(f.func))
            .collect();
        let sel = funcs
            .iter()
            .position(|f| *f == "runtime.selectgo")
            .expect("selectgo in the blocking stack");
        assert_eq!(
            funcs.get(sel + 1),
            Some(&"main.wait"),
            "stall-{v}: {funcs:?}"
        );
    }
}

#[test]
fn gc_trace_has_cycles_stw_heap_and_assists() {
    for v in VERSIONS {
        let m = load(&format!("gc-{v}"));
        assert!(m.gc.len() >= 3, "gc-{v}: {} cycles", m.gc.len());
        assert!(
            m.stw.len() >= 2 * m.gc.len() - 2,
            "gc-{v}: {} pauses",
            m.stw.len()
        );
        assert!(m.stw.iter().all(|s| s.end_ns >= s.start_ns));
        let kinds: Vec<&str> = m.stw.iter().map(|s| m.string(s.kind)).collect();
        assert!(
            kinds.iter().any(|k| k.contains("mark termination")),
            "{kinds:?}"
        );
        assert!(m.counters.heap_alloc.len() > 10);
        assert!(m.counters.heap_goal.max() > 0.0);
        assert!(m.counters.gomaxprocs.max() >= 1.0);
        let sweeps = m
            .procs
            .iter()
            .flat_map(|p| p.work.iter())
            .filter(|w| w.work == model::PWork::Sweep)
            .count();
        assert!(sweeps > 0, "gc-{v}: no sweeps");
    }
}

#[test]
fn stimuli_come_from_network_syscalls_and_timers() {
    for v in VERSIONS {
        let net = load(&format!("net-{v}"));
        assert!(
            net.stimuli
                .iter()
                .any(|s| s.kind == model::StimulusKind::Network),
            "net-{v}"
        );
        let sys = load(&format!("syscalls-{v}"));
        assert!(
            sys.stimuli
                .iter()
                .any(|s| s.kind == model::StimulusKind::Syscall),
            "syscalls-{v}"
        );
        let tm = load(&format!("timers-{v}"));
        assert!(
            tm.stimuli
                .iter()
                .any(|s| s.kind == model::StimulusKind::Timer),
            "timers-{v}"
        );
        for w in tm.stimuli.windows(2) {
            assert!(w[0].time_ns <= w[1].time_ns);
        }
    }
}

#[test]
fn annotations_give_tasks_regions_and_logs() {
    for v in VERSIONS {
        let m = load(&format!("annotations-{v}"));
        assert!(!m.tasks.is_empty(), "annotations-{v}");
        assert!(
            m.tasks
                .iter()
                .any(|t| t.start_ns.is_some() && t.end_ns.is_some())
        );
        let regions: usize = m.goroutines.iter().map(|g| g.regions.len()).sum();
        assert!(regions > 0);
        assert!(
            m.goroutines
                .iter()
                .flat_map(|g| &g.regions)
                .any(|r| r.depth > 0),
            "no nested region"
        );
        assert!(!m.logs.is_empty());
    }
}

#[test]
fn cpu_trace_has_samples_with_stacks() {
    for v in VERSIONS {
        let m = load(&format!("cpu-{v}"));
        assert!(!m.cpu_samples.is_empty(), "cpu-{v}");
        assert!(
            m.cpu_samples
                .iter()
                .any(|s| m.interner.stack_len(s.stack) > 0)
        );
    }
}

#[test]
fn goroutine_counters_match_the_spans() {
    let m = load("basic-go127");
    // At any time, the running counter equals the number of goroutines in a running span.
    let mid = (m.start_ns + m.end_ns) / 2;
    for t in [m.start_ns + (m.end_ns - m.start_ns) / 7, mid, m.end_ns - 1] {
        let running = m
            .goroutines
            .iter()
            .filter(|g| {
                g.spans
                    .iter()
                    .any(|s| s.state == GState::Running && s.start_ns <= t && t < s.end_ns)
            })
            .count();
        assert_eq!(m.counters.running.at(t) as usize, running, "at {t}");
    }
}

/// The model of a trace's first `n` events (the viewer's preview), and the whole model,
/// built in one read.
fn preview_and_model(name: &str, n: u64) -> (Option<Model>, Model) {
    let p = goscope_testdata::dir()
        .join("traces")
        .join(format!("{name}.trace"));
    let data = std::fs::read(p).unwrap();
    let mut preview = None;
    let mut keep = |m: Model| preview = Some(m);
    let full = model::build_previewing(
        &data,
        &std::sync::atomic::AtomicBool::new(false),
        &mut |_| {},
        n,
        Some(&mut keep),
    )
    .unwrap();
    (preview, full)
}

/// `cut` lane spans are the whole lane's spans that begin before the cut, the ones still
/// open there ending at the cut.
fn same_up_to<T: PartialEq + std::fmt::Debug + Copy>(
    what: &str,
    cut: &[T],
    whole: &[T],
    cut_ns: i64,
    times: impl Fn(&T) -> (i64, i64),
    reopen: impl Fn(T, i64) -> T,
) {
    let begun = whole.iter().filter(|s| times(s).0 < cut_ns).count();
    assert_eq!(cut.len(), begun, "{what}: spans begun before the cut");
    for (a, b) in cut.iter().zip(whole) {
        if times(a).1 < cut_ns {
            assert_eq!(a, b, "{what}");
        } else {
            assert_eq!(times(a).1, cut_ns, "{what}: open at the cut, closed there");
            assert!(times(b).1 >= cut_ns, "{what}");
            assert_eq!(reopen(*a, times(b).1), reopen(*b, times(b).1), "{what}");
        }
    }
}

/// The early model handed to a viewer while a long trace loads is the whole model cut one
/// nanosecond after the preview's last event; taking it changes nothing in the whole model.
#[test]
fn a_preview_is_the_whole_model_cut_after_its_events() {
    for name in [
        "stall-go127",
        "mixed-go125",
        "gc-go122",
        "annotations-go123",
    ] {
        let events = load(name).events;
        for n in [events / 5, events / 2, events - 2] {
            let (preview, full) = preview_and_model(name, n);
            let preview = preview.unwrap_or_else(|| panic!("{name}: a preview after {n}"));
            let what = format!("{name} after {n} events");
            assert_eq!(
                preview.events,
                n + 1,
                "{what}: its events and the closing Sync"
            );
            assert_eq!(preview.start_ns, full.start_ns, "{what}");
            let cut = preview.end_ns;
            assert!(cut <= full.end_ns, "{what}");
            assert!(preview.warning.is_none(), "{what}");

            for g in &preview.goroutines {
                let w = full
                    .goroutine(g.id)
                    .unwrap_or_else(|| panic!("{what}: G{}", g.id));
                let lane = format!("{what}, G{}", g.id);
                assert_eq!(
                    (g.creator, g.created_ns),
                    (w.creator, w.created_ns),
                    "{lane}"
                );
                // A goroutine already running when tracing began is named by the first
                // stack seen for it, which may come after the cut.
                assert!(g.start_fn == 0 || g.start_fn == w.start_fn, "{lane}");
                same_up_to(
                    &lane,
                    &g.spans.to_vec(),
                    &w.spans.to_vec(),
                    cut,
                    |s| (s.start_ns, s.end_ns),
                    |mut s, end| {
                        s.end_ns = end;
                        s.end_stack = 0;
                        s
                    },
                );
            }
            let begun = full
                .goroutines
                .iter()
                .filter(|g| g.first_ns() < cut)
                .count();
            assert_eq!(preview.goroutines.len(), begun, "{what}: goroutines");
            // P and thread lanes, by id: (lane, preview spans, whole spans), each span as
            // (start, end, (goroutine, P, in a syscall)).
            type Spans = Vec<(i64, i64, (i64, i64, bool))>;
            let mut lanes: Vec<(String, Spans, Spans)> = Vec::new();
            for p in &preview.procs {
                let w = full.procs.iter().find(|x| x.id == p.id).unwrap();
                let spans = |v: &[model::PSpan]| {
                    v.iter()
                        .map(|s| (s.start_ns, s.end_ns, (s.g, p.id, false)))
                        .collect()
                };
                lanes.push((
                    format!("P{}", p.id),
                    spans(&p.spans.to_vec()),
                    spans(&w.spans.to_vec()),
                ));
            }
            for m in &preview.threads {
                let w = full.threads.iter().find(|x| x.id == m.id).unwrap();
                let spans = |v: &[model::MSpan]| {
                    v.iter()
                        .map(|s| (s.start_ns, s.end_ns, (s.g, i64::from(s.p), s.syscall)))
                        .collect()
                };
                lanes.push((
                    format!("M{}", m.id),
                    spans(&m.spans.to_vec()),
                    spans(&w.spans.to_vec()),
                ));
            }
            for (lane, cut_spans, whole) in lanes {
                same_up_to(
                    &format!("{what}, {lane}"),
                    &cut_spans,
                    &whole,
                    cut,
                    |s| (s.0, s.1),
                    |s, end| (s.0, end, s.2),
                );
            }
            let c = (&preview.counters, &full.counters);
            for (series, a, b) in [
                ("heap", &c.0.heap_alloc, &c.1.heap_alloc),
                ("running", &c.0.running, &c.1.running),
                ("runnable", &c.0.runnable, &c.1.runnable),
                (
                    "threads in syscall",
                    &c.0.threads_syscall,
                    &c.1.threads_syscall,
                ),
            ] {
                let before: Vec<_> = b.points().into_iter().filter(|p| p.0 < cut).collect();
                assert_eq!(a.points(), before, "{what}: {series}");
            }
            let stimuli: Vec<_> = full
                .stimuli
                .iter()
                .filter(|s| s.time_ns < cut)
                .copied()
                .collect();
            assert_eq!(preview.stimuli, stimuli, "{what}: stimuli");

            // The preview changes nothing in the whole model.
            assert_eq!(format!("{full:?}"), format!("{:?}", load(name)), "{what}");
        }
    }
}

/// A trace of no more events than asked for has nothing to preview.
#[test]
fn short_traces_get_no_preview() {
    let events = load("basic-go127").events;
    let (preview, _) = preview_and_model("basic-go127", events);
    assert!(preview.is_none());
    let (preview, _) = preview_and_model("basic-go127", model::PREVIEW_EVENTS);
    assert!(preview.is_none());
}

/// The wall clock is the first Sync event's clock snapshot, as Go prints it
/// (`Sync … N=1 Trace=1497984108480 … Wall=2026-11-26T14:30:10.242978237Z` in
/// golden/stall-go127.parsed.txt); formats before 25 have none.
#[test]
fn the_wall_clock_is_the_first_clock_snapshot() {
    let m = load("stall-go127");
    let c = m.clock.expect("a Go 1.27 trace has a clock snapshot");
    assert_eq!(
        c,
        model::WallClock {
            trace_ns: 1_497_984_108_480,
            wall_sec: 1_795_703_410,
            wall_nsec: 242_978_237,
        }
    );
    assert_eq!(
        c.unix_sec_nsec(c.trace_ns + 757_021_763),
        (1_795_703_411, 0)
    );
    assert_eq!(
        c.unix_sec_nsec(c.trace_ns - 242_978_238),
        (1_795_703_409, 999_999_999)
    );
    assert!(load("stall-go125").clock.is_some());
    assert!(load("stall-go123").clock.is_none());
    assert!(load("stall-go122").clock.is_none());
}

/// A mark assist shows on a P only while its goroutine executes there, as `go tool trace`
/// draws it: a goroutine blocked in its assist (or preempted) leaves the P to others, and
/// the assist goes on where it runs again. Before, one range ran from the assist's begin
/// to its end on the P it began on, covering the goroutines the P ran meanwhile.
#[test]
fn a_mark_assist_is_on_a_p_only_while_its_goroutine_executes_there() {
    let mut checked = 0;
    for prog in ["gc", "mixed"] {
        for v in ["go121", "go122", "go123", "go125", "go127"] {
            let name = format!("{prog}-{v}");
            let m = load(&name);
            for p in &m.procs {
                for w in p.work_of(model::PWork::MarkAssist) {
                    let g = m.goroutines.iter().find(|g| g.id == w.g).unwrap();
                    let executing_ns: i64 = g
                        .spans
                        .iter()
                        .filter(|s| {
                            (s.state == GState::Running && i64::from(s.p) == p.id)
                                || s.state == GState::Syscall
                        })
                        .map(|s| s.end_ns.min(w.end_ns) - s.start_ns.max(w.start_ns))
                        .filter(|&d| d > 0)
                        .sum();
                    assert_eq!(
                        executing_ns,
                        w.end_ns - w.start_ns,
                        "{name}: G{}'s assist on P{} at {}..{} ns",
                        w.g,
                        p.id,
                        w.start_ns,
                        w.end_ns
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 1000, "{checked} assists");
}
