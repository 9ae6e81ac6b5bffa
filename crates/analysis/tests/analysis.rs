//! Checks the analyses against Go's own: profiles, goroutine summaries and MMU curves
//! of the committed traces must equal what `go tool trace` computed for them (the
//! goldens in testdata/golden/analysis, made by testdata/generate-analysis-goldens.sh).

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::PathBuf;

use goscope_analysis::StackTable;
use goscope_analysis::mmu::{MmuCurve, UtilFlags, utilization};
use goscope_analysis::pprof::{self, Profile, ProfileKind};
use goscope_analysis::summary::{self, Summary};

fn testdata() -> PathBuf {
    goscope_testdata::dir()
}

fn golden_dir() -> PathBuf {
    testdata().join("golden/analysis")
}

/// Traces that have analysis goldens.
fn golden_traces() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(golden_dir())
        .expect("testdata/golden/analysis exists")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".goroutines.txt").map(str::to_string)
        })
        .collect();
    names.sort();
    assert!(
        names.iter().any(|n| n.ends_with("-go127")) && names.iter().any(|n| n.ends_with("-go122")),
        "goldens for go1.22 and go1.27 traces expected, found {names:?}"
    );
    names
}

fn trace_bytes(name: &str) -> Vec<u8> {
    let p = testdata().join("traces").join(format!("{name}.trace"));
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn golden_lines(name: &str, suffix: &str) -> Vec<Vec<String>> {
    let p = golden_dir().join(format!("{name}.{suffix}"));
    std::fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

/// `a` equals `b` within 0.5% or 1 µs.
fn close(a: i64, b: i64) -> bool {
    let d = (a - b).abs();
    d <= 1_000 || (d as f64) <= 0.005 * (b.abs() as f64)
}

// ---------------------------------------------------------------------------
// Profiles

#[derive(Debug, Default, PartialEq)]
struct GoProfile {
    total_count: u64,
    total_ns: i64,
    /// pcs (hex, comma-separated, leaf first) → (count, delay ns, functions).
    samples: BTreeMap<String, (u64, i64, String)>,
}

fn go_profile(name: &str, kind: ProfileKind) -> GoProfile {
    let mut p = GoProfile::default();
    for f in golden_lines(name, &format!("{}.txt", kind.name())) {
        match f[0].as_str() {
            "total" => {
                p.total_count = f[1].parse().unwrap();
                p.total_ns = f[2].parse().unwrap();
            }
            "sample" => {
                let pcs = f.get(3).cloned().unwrap_or_default();
                let funcs = f.get(4).cloned().unwrap_or_default();
                let prev = p.samples.insert(
                    pcs.clone(),
                    (f[1].parse().unwrap(), f[2].parse().unwrap(), funcs),
                );
                assert!(prev.is_none(), "{name}: stack {pcs} twice in Go's profile");
            }
            other => panic!("{name}: unknown golden line {other}"),
        }
    }
    p
}

fn pcs_key(stacks: &StackTable, stack: goscope_analysis::StackId) -> String {
    stacks
        .frames(stack)
        .iter()
        .map(|f| format!("{:#x}", f.pc))
        .collect::<Vec<_>>()
        .join(",")
}

fn our_profiles(name: &str) -> (Vec<Profile>, StackTable) {
    let (profiles, stacks, warning) = pprof::build(&trace_bytes(name), &ProfileKind::ALL).unwrap();
    assert!(warning.is_none(), "{name}: {warning:?}");
    (profiles, stacks)
}

#[test]
fn profiles_match_go() {
    let mut checked = 0;
    let mut report = Vec::new();
    for name in golden_traces() {
        let (profiles, stacks) = our_profiles(&name);
        for profile in &profiles {
            let kind = profile.kind;
            let go = go_profile(&name, kind);
            let mut ours: BTreeMap<String, (u64, i64)> = BTreeMap::new();
            for r in &profile.records {
                let prev = ours.insert(pcs_key(&stacks, r.stack), (r.count, r.delay_ns));
                assert!(prev.is_none(), "{name} {kind:?}: a stack appears twice");
            }
            let what = format!("{name} {}", kind.name());
            assert!(
                close(profile.total_delay_ns(), go.total_ns),
                "{what}: total delay {} vs Go's {}",
                profile.total_delay_ns(),
                go.total_ns
            );
            assert_eq!(profile.total_count(), go.total_count, "{what}: total count");
            for (pcs, (count, ns, funcs)) in &go.samples {
                let Some(&(our_count, our_ns)) = ours.get(pcs) else {
                    panic!("{what}: Go has stack {funcs} ({pcs}), {count} × {ns} ns; we don't");
                };
                assert_eq!(our_count, *count, "{what}: count of {funcs}");
                assert!(
                    close(our_ns, *ns),
                    "{what}: {funcs}: {our_ns} ns vs Go's {ns}"
                );
                if our_ns != *ns {
                    report.push(format!("{what}: {funcs}: {our_ns} vs {ns}"));
                }
            }
            for pcs in ours.keys() {
                assert!(
                    go.samples.contains_key(pcs),
                    "{what}: stack {pcs} is not in Go's"
                );
            }
            if profile.total_delay_ns() != go.total_ns {
                report.push(format!(
                    "{what}: {} vs {}",
                    profile.total_delay_ns(),
                    go.total_ns
                ));
            }
            checked += 1;
        }
    }
    assert!(checked >= 8, "only {checked} profiles checked");
    // Not just close: equal to the nanosecond.
    assert!(report.is_empty(), "not exact: {report:#?}");
}

/// A tiny protobuf reader for checking our files: (field, varint or bytes) pairs.
fn pb_fields(mut b: &[u8]) -> Vec<(u64, Result<u64, Vec<u8>>)> {
    fn varint(b: &mut &[u8]) -> u64 {
        let (mut v, mut shift) = (0u64, 0);
        loop {
            let c = b[0];
            *b = &b[1..];
            v |= u64::from(c & 0x7f) << shift;
            shift += 7;
            if c < 0x80 {
                return v;
            }
        }
    }
    let mut out = Vec::new();
    while !b.is_empty() {
        let key = varint(&mut b);
        match key & 7 {
            0 => out.push((key >> 3, Ok(varint(&mut b)))),
            2 => {
                let n = varint(&mut b) as usize;
                out.push((key >> 3, Err(b[..n].to_vec())));
                b = &b[n..];
            }
            w => panic!("unexpected wire type {w}"),
        }
    }
    out
}

fn packed(b: &[u8]) -> Vec<u64> {
    let mut v = Vec::new();
    let mut bytes = b;
    while !bytes.is_empty() {
        let (mut x, mut shift) = (0u64, 0);
        loop {
            let c = bytes[0];
            bytes = &bytes[1..];
            x |= u64::from(c & 0x7f) << shift;
            shift += 7;
            if c < 0x80 {
                break;
            }
        }
        v.push(x);
    }
    v
}

#[test]
fn pprof_files_decode_to_the_profile() {
    let (profiles, stacks) = our_profiles("stall-go127");
    let sync = profiles
        .iter()
        .find(|p| p.kind == ProfileKind::Sync)
        .unwrap();
    let mut gz = Vec::new();
    pprof::write_gzipped(sync, &stacks, &mut gz).unwrap();
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut raw)
        .unwrap();
    assert_eq!(raw, pprof::encode(sync, &stacks));

    let fields = pb_fields(&raw);
    let strings: Vec<String> = fields
        .iter()
        .filter(|(f, _)| *f == 6)
        .map(|(_, v)| String::from_utf8(v.clone().unwrap_err()).unwrap())
        .collect();
    assert_eq!(strings[0], "");
    let mut addr_of = HashMap::new();
    for (_, v) in fields.iter().filter(|(f, _)| *f == 4) {
        let loc = pb_fields(v.as_ref().unwrap_err());
        let id = loc
            .iter()
            .find(|(f, _)| *f == 1)
            .unwrap()
            .1
            .clone()
            .unwrap();
        let addr = loc
            .iter()
            .find(|(f, _)| *f == 3)
            .unwrap()
            .1
            .clone()
            .unwrap();
        addr_of.insert(id, addr);
    }
    let mut decoded = Vec::new();
    for (_, v) in fields.iter().filter(|(f, _)| *f == 2) {
        let s = pb_fields(v.as_ref().unwrap_err());
        let locs = s
            .iter()
            .find(|(f, _)| *f == 1)
            .map_or(vec![], |(_, v)| packed(v.as_ref().unwrap_err()));
        let vals = packed(
            s.iter()
                .find(|(f, _)| *f == 2)
                .unwrap()
                .1
                .as_ref()
                .unwrap_err(),
        );
        let pcs: Vec<String> = locs.iter().map(|l| format!("{:#x}", addr_of[l])).collect();
        decoded.push((pcs.join(","), vals[0], vals[1] as i64));
    }
    let want: Vec<(String, u64, i64)> = sync
        .records
        .iter()
        .map(|r| (pcs_key(&stacks, r.stack), r.count, r.delay_ns))
        .collect();
    assert_eq!(decoded, want);
    let types: Vec<&str> = [1, 2, 3, 4].iter().map(|&i| strings[i].as_str()).collect();
    assert_eq!(types, ["contentions", "count", "delay", "nanoseconds"]);
}

// ---------------------------------------------------------------------------
// Goroutine summaries

fn our_summary(name: &str) -> Summary {
    let (s, warning) = summary::summarize(&trace_bytes(name)).unwrap();
    assert!(warning.is_none(), "{name}: {warning:?}");
    s
}

fn parse_stats(fields: &[String]) -> BTreeMap<String, i64> {
    fields
        .iter()
        .map(|f| {
            let (k, v) = f.rsplit_once('=').unwrap();
            (k.to_string(), v.parse().unwrap())
        })
        .collect()
}

#[test]
fn goroutine_summaries_match_go() {
    let mut goroutines = 0;
    let mut inexact = Vec::new();
    for name in golden_traces() {
        let s = our_summary(&name);
        let mut go_groups = Vec::new();
        let mut seen = 0;
        for f in golden_lines(&name, "goroutines.txt") {
            match f[0].as_str() {
                "group" => go_groups.push((
                    f[1].clone(),
                    f[2].parse::<usize>().unwrap(),
                    f[3].parse::<i64>().unwrap(),
                )),
                "g" => {
                    let id: i64 = f[1].parse().unwrap();
                    let what = format!("{name} goroutine {id}");
                    let g = s.goroutine(id).unwrap_or_else(|| panic!("{what}: missing"));
                    assert_eq!(g.name, f[2], "{what}: start function");
                    let total: i64 = f[3].parse().unwrap();
                    assert!(
                        close(g.stats.total_ns, total),
                        "{what}: total {} vs Go's {total}",
                        g.stats.total_ns
                    );
                    let ours = g.stats.non_overlapping();
                    for (stat, ns) in parse_stats(&f[4..]) {
                        let mine = ours.get(&stat).copied().unwrap_or(0);
                        assert!(close(mine, ns), "{what}: {stat}: {mine} vs Go's {ns}");
                        if mine != ns {
                            inexact.push(format!("{what}: {stat}: {mine} vs {ns}"));
                        }
                    }
                    for (stat, ns) in &ours {
                        if *ns != 0 {
                            assert!(
                                f[4..].iter().any(|x| x.starts_with(&format!("{stat}="))),
                                "{what}: {stat} = {ns} not in Go's columns"
                            );
                        }
                    }
                    seen += 1;
                }
                "range" => {
                    let id: i64 = f[1].parse().unwrap();
                    let g = s.goroutine(id).unwrap();
                    for (range, ns) in parse_stats(&f[3..]) {
                        let mine = g.stats.range_ns.get(&range).copied().unwrap_or(0);
                        assert!(
                            close(mine, ns),
                            "{name} goroutine {id}: {range}: {mine} vs Go's {ns}"
                        );
                    }
                }
                other => panic!("{name}: unknown golden line {other}"),
            }
        }
        assert_eq!(seen, s.goroutines.len(), "{name}: goroutine count");
        goroutines += seen;

        // Groups: same names, counts and execution times (order only differs on ties).
        let mut ours: Vec<(String, usize, i64)> = s
            .groups()
            .into_iter()
            .map(|g| (g.name, g.count, g.exec_ns))
            .collect();
        ours.sort();
        go_groups.sort();
        assert_eq!(ours, go_groups, "{name}: groups");
    }
    assert!(goroutines > 50, "only {goroutines} goroutines checked");
    assert!(inexact.is_empty(), "not exact: {inexact:#?}");
}

/// The stall walkthrough: stream A waits ~1 s in main.wait's select.
#[test]
fn stall_shows_one_second_in_select() {
    for name in ["stall-go122", "stall-go123", "stall-go125", "stall-go127"] {
        let s = our_summary(name);
        let streams = s.group("main.stream");
        assert_eq!(streams.len(), 2, "{name}: two main.stream goroutines");
        let select_ns = streams
            .iter()
            .map(|g| g.stats.block_ns.get("select").copied().unwrap_or(0))
            .max()
            .unwrap();
        assert!(
            (990_000_000..1_100_000_000).contains(&select_ns),
            "{name}: stalled stream blocked {select_ns} ns in select"
        );

        let (profiles, stacks) = our_profiles(name);
        let sync = profiles
            .iter()
            .find(|p| p.kind == ProfileKind::Sync)
            .unwrap();
        let wait = sync
            .records
            .iter()
            .filter(|r| {
                let f = stacks.frames(r.stack);
                f.len() >= 2
                    && stacks.string(f[0].func) == "runtime.selectgo"
                    && stacks.string(f[1].func) == "main.wait"
            })
            .map(|r| r.delay_ns)
            .sum::<i64>();
        assert!(
            (990_000_000..1_100_000_000).contains(&wait),
            "{name}: sync profile has {wait} ns in main.wait's select"
        );
    }
}

// ---------------------------------------------------------------------------
// MMU

/// Go's curve (window, mmu) and worst windows (window, start, util) for one flag set.
type GoMmu = (Vec<(i64, f64)>, Vec<(i64, i64, f64)>);

#[test]
fn mmu_matches_go() {
    let mut curves = 0;
    let mut window_mismatches = Vec::new();
    let mut go_failed = Vec::new();
    for name in golden_traces() {
        let data = trace_bytes(&name);
        let mut by_flags: BTreeMap<String, GoMmu> = BTreeMap::new();
        let mut flags_name = String::new();
        for f in golden_lines(&name, "mmu.txt") {
            match f[0].as_str() {
                "flags" => flags_name = f.get(1).cloned().unwrap_or_default(),
                "curve" => by_flags
                    .entry(flags_name.clone())
                    .or_default()
                    .0
                    .push((f[1].parse().unwrap(), f[2].parse().unwrap())),
                "worst" => by_flags.entry(flags_name.clone()).or_default().1.push((
                    f[1].parse().unwrap(),
                    f[2].parse().unwrap(),
                    f[3].parse().unwrap(),
                )),
                // Go's MMU failed (golang/go#74146): ours must simply not panic.
                "error" => {
                    let flags = UtilFlags::parse(&flags_name).unwrap();
                    let (utils, _) = utilization(&data, flags).unwrap();
                    let c = MmuCurve::new(utils);
                    let _ = c.plot();
                    let _ = c.worst_windows(1_000_000, 10);
                    go_failed.push(format!("{name} [{flags_name}]"));
                }
                other => panic!("{name}: unknown golden line {other}"),
            }
        }
        for (flags_name, (curve, worst)) in by_flags {
            let what = format!("{name} mmu [{flags_name}]");
            let flags = UtilFlags::parse(&flags_name).unwrap();
            let (utils, _) = utilization(&data, flags).unwrap();
            let c = MmuCurve::new(utils);
            for &(window, go_mmu) in &curve {
                let mine = c.mmu(window);
                assert!(
                    (mine - go_mmu).abs() < 1e-9,
                    "{what}: window {window}: {mine} vs Go's {go_mmu}"
                );
            }
            let plot = c.plot();
            assert_eq!(plot.len(), curve.len(), "{what}: plot points");
            for (p, &(window, _)) in plot.iter().zip(&curve) {
                if p.window_ns != window {
                    window_mismatches.push(format!("{what}: {} vs {window}", p.window_ns));
                }
            }
            let mut windows: BTreeMap<i64, Vec<(i64, f64)>> = BTreeMap::new();
            for (w, t, u) in worst {
                windows.entry(w).or_default().push((t, u));
            }
            for (w, go_worst) in windows {
                let mine: Vec<(i64, f64)> = c
                    .worst_windows(w, 10)
                    .iter()
                    .map(|x| (x.time_ns, x.util))
                    .collect();
                assert_eq!(
                    mine.len(),
                    go_worst.len(),
                    "{what}: worst {w} ns windows: {mine:?} vs {go_worst:?}"
                );
                for (a, b) in mine.iter().zip(&go_worst) {
                    assert!(
                        a.0 == b.0 && (a.1 - b.1).abs() < 1e-9,
                        "{what}: worst {w} ns windows: {mine:?} vs Go's {go_worst:?}"
                    );
                }
            }
            curves += 1;
        }
    }
    assert!(curves >= 8, "only {curves} MMU curves checked");
    if !go_failed.is_empty() {
        eprintln!("Go's MMU failed on (ours ran): {go_failed:?}");
    }
    // Window sizes come from exp(); allow none to differ.
    assert!(
        window_mismatches.is_empty(),
        "plot windows differ: {window_mismatches:#?}"
    );
}

// ---------------------------------------------------------------------------
// Robustness

/// Every analysis on every prefix cut and on corrupted copies of small traces:
/// errors are fine, panics are not.
#[test]
fn analyses_never_panic_on_damaged_input() {
    let run = |data: &[u8]| {
        let _ = summary::summarize(data);
        let _ = pprof::build(data, &ProfileKind::ALL).map(|(ps, st, _)| {
            for p in &ps {
                let _ = pprof::encode(p, &st);
            }
        });
        for flags in [
            "stw|background|assist|sweep",
            "perProc|stw|background|assist|sweep",
        ] {
            if let Ok((u, _)) = utilization(data, UtilFlags::parse(flags).unwrap()) {
                let c = MmuCurve::new(u);
                let _ = c.plot();
                let _ = c.worst_windows(100_000, 5);
            }
        }
    };
    for name in ["stall-go127", "annotations-go122", "syscalls-go125"] {
        let data = trace_bytes(name);
        for cut in (16..data.len()).step_by(997) {
            run(&data[..cut]);
        }
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..40 {
            let mut d = data.clone();
            for _ in 0..8 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let i = 16 + (seed as usize) % (d.len() - 16);
                d[i] = (seed >> 32) as u8;
            }
            run(&d);
        }
    }
}

/// The StackSample count in a trace's `.counts` golden (Go's `-d=parsed`), 0 when none.
fn go_stack_samples(name: &str) -> u64 {
    let p = testdata().join(format!("golden/{name}.counts"));
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    text.lines()
        .find_map(|l| l.strip_prefix("StackSample "))
        .map_or(0, |n| n.trim().parse().unwrap())
}

#[test]
fn cpu_profiles_count_every_sample_go_prints() {
    let mut with_samples = 0;
    for name in golden_traces() {
        let (profiles, _, warning) =
            pprof::build(&trace_bytes(&name), &[ProfileKind::Cpu]).unwrap();
        assert!(warning.is_none());
        let cpu = &profiles[0];
        let go = go_stack_samples(&name);
        assert_eq!(cpu.total_count(), go, "{name}: CPU samples");
        assert_eq!(
            cpu.total_delay_ns(),
            go as i64 * pprof::CPU_SAMPLE_PERIOD_NS,
            "{name}: CPU time"
        );
        with_samples += usize::from(go > 0);
    }
    assert!(with_samples >= 2, "traces with CPU samples: {with_samples}");
}

#[test]
fn cpu_profiles_split_by_goroutine_and_by_time_add_up() {
    let data = trace_bytes("cpu-go127");
    let build_with_stacks = |mut b: pprof::ProfileBuilder| {
        goscope_analysis::read_into(&data[..], |ev, t| b.event(ev, t)).unwrap();
        let (mut profiles, stacks) = b.finish();
        (profiles.remove(0), stacks)
    };
    let build = |b| build_with_stacks(b).0;
    let (all, stacks) = build_with_stacks(pprof::ProfileBuilder::new(&[ProfileKind::Cpu]));
    assert!(all.total_count() > 5, "{}", all.total_count());
    // By goroutine: each sample is some goroutine's (or none's, -1).
    let mut ids = std::collections::BTreeSet::new();
    goscope_analysis::read_into(&data[..], |ev, _| {
        if ev.kind() == goscope_trace::Kind::StackSample {
            ids.insert(ev.g);
        }
    })
    .unwrap();
    assert!(ids.len() >= 2, "samples of several goroutines: {ids:?}");
    let by_g: u64 = ids
        .iter()
        .map(|&g| {
            build(pprof::ProfileBuilder::new(&[ProfileKind::Cpu]).with_goroutines([g]))
                .total_count()
        })
        .sum();
    assert_eq!(by_g, all.total_count());
    // By time: a closed window from the start, and the rest after it.
    let cut_ns = 150_000_000;
    let early =
        build(pprof::ProfileBuilder::new(&[ProfileKind::Cpu]).with_window_from_start(0, cut_ns));
    let late = build(
        pprof::ProfileBuilder::new(&[ProfileKind::Cpu])
            .with_window_from_start(cut_ns + 1, i64::MAX / 2),
    );
    assert!(early.total_count() > 0 && late.total_count() > 0);
    assert_eq!(early.total_count() + late.total_count(), all.total_count());
    // The file says what go tool pprof needs to call it a CPU profile.
    let bytes = pprof::encode(&all, &stacks);
    for s in ["samples", "count", "cpu", "nanoseconds"] {
        assert!(
            bytes.windows(s.len()).any(|w| w == s.as_bytes()),
            "{s} in the string table"
        );
    }
}
