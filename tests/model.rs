//! Model tests on real traces: lane invariants, the stall goroutine, counters and ranges.

use std::path::Path;

use goscope::model::{self, GState, Model};

fn load(name: &str) -> Model {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/traces")
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
                for w in g.spans.windows(2) {
                    assert!(
                        w[0].end_ns <= w[1].start_ns,
                        "{prog}-{v} G{}: {:?} then {:?}",
                        g.id,
                        w[0],
                        w[1]
                    );
                }
                for s in &g.spans {
                    assert!(
                        s.start_ns <= s.end_ns && s.start_ns >= m.start_ns && s.end_ns <= m.end_ns
                    );
                }
            }
            for p in &m.procs {
                for w in p.spans.windows(2) {
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
                for w in t.spans.windows(2) {
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
        assert!(m.counters.heap_alloc.points.len() > 10);
        assert!(m.counters.heap_goal.max() > 0.0);
        assert!(m.counters.gomaxprocs.max() >= 1.0);
        let sweeps = m
            .procs
            .iter()
            .flat_map(|p| &p.work)
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

#[test]
fn model_building_never_panics_on_mutated_traces() {
    let mut x: u64 = 0x2545f4914f6cdd1d;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for name in ["stall-go127", "gc-go122", "annotations-go125", "net-go123"] {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/traces")
            .join(format!("{name}.trace"));
        let data = std::fs::read(p).unwrap();
        for _ in 0..60 {
            let mut d = data.clone();
            for _ in 0..1 + next() % 6 {
                let i = 16 + (next() as usize) % (d.len() - 16);
                d[i] = next() as u8;
            }
            if let Ok(m) = model::build(&d) {
                let _ = goscope::analysis::findings::findings(&m);
            }
        }
    }
}
