//! The analysis subcommands: `goscope goroutines`, `goscope pprof` and `goscope mmu`.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use serde::Serialize;

use goscope_analysis::mmu::{MmuCurve, MmuPoint, UtilFlags, UtilWindow};
use goscope_analysis::pprof::{self, ProfileKind};
use goscope_analysis::summary::{self, GoroutineSummary, Group, STAT_EXEC};
use goscope_file::TraceFile;

/// `goscope goroutines`.
#[derive(Args, Debug)]
pub struct GoroutinesArgs {
    pub trace: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Show the goroutines of the group with this start function (e.g. main.worker),
    /// with where their time went. "" is the group of goroutines never seen with a stack.
    #[arg(long, value_name = "FUNC")]
    pub group: Option<String>,
    /// Sort the goroutines of a group by this column, largest first: total, exec,
    /// sched, syscall, syscall-block, unknown, block (all blocking), or a column name
    /// as shown (e.g. "Block time (select)" or just "select"). Default: total.
    #[arg(long, value_name = "COLUMN")]
    pub sort: Option<String>,
}

/// `goscope pprof`.
#[derive(Args, Debug)]
pub struct PprofArgs {
    /// Which profile.
    #[arg(long, value_enum)]
    pub kind: PprofKindArg,
    pub trace: PathBuf,
    /// Where to write the gzipped pprof protobuf ("-" for standard output).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
    /// Only this goroutine's samples (by id; repeat for more).
    #[arg(long = "goroutine", value_name = "ID")]
    pub goroutines: Vec<i64>,
    /// Only from this time on, from the trace's start (e.g. 1.5s, 200ms).
    #[arg(long, value_name = "DURATION")]
    pub from: Option<String>,
    /// Only up to this time, from the trace's start.
    #[arg(long, value_name = "DURATION")]
    pub to: Option<String>,
}

/// The profile kinds of `go tool trace -pprof=`, and goscope's CPU profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PprofKindArg {
    /// Network blocking.
    Net,
    /// Synchronization blocking (channels, select, sync).
    Sync,
    /// Syscalls.
    Syscall,
    /// Scheduler latency (runnable, waiting for a P).
    Sched,
    /// CPU time, from the CPU profiler's samples in the trace (10 ms each).
    Cpu,
}

impl From<PprofKindArg> for ProfileKind {
    fn from(k: PprofKindArg) -> Self {
        match k {
            PprofKindArg::Net => ProfileKind::Net,
            PprofKindArg::Sync => ProfileKind::Sync,
            PprofKindArg::Syscall => ProfileKind::Syscall,
            PprofKindArg::Sched => ProfileKind::Sched,
            PprofKindArg::Cpu => ProfileKind::Cpu,
        }
    }
}

/// `goscope mmu`.
#[derive(Args, Debug)]
pub struct MmuArgs {
    pub trace: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// What GC work counts against the mutator, separated by | or ,: stw, background,
    /// assist, sweep, perProc (one curve per P). Default: Go's, stw|background|assist.
    #[arg(long, value_name = "FLAGS")]
    pub flags: Option<String>,
    /// Also list the worst windows of this size (e.g. 1ms, 500us, 2s, 1000000ns).
    #[arg(long, value_name = "DURATION")]
    pub window: Option<String>,
    /// How many worst windows to list.
    #[arg(long, default_value_t = 10)]
    pub worst: usize,
}

/// Formats nanoseconds as Go's `time.Duration.String` does ("1.5ms", "2m3.000000001s").
pub fn go_duration(ns: i64) -> String {
    if ns == 0 {
        return "0s".to_string();
    }
    let neg = ns < 0;
    let mut u = ns.unsigned_abs();
    let mut s = String::new();
    // Fraction of `u` over 10^prec, trailing zeros dropped; returns the integer part.
    let frac = |s: &mut String, u: u64, prec: u32| -> u64 {
        let scale = 10u64.pow(prec);
        let mut f = u % scale;
        if f != 0 {
            let mut digits = prec;
            while f % 10 == 0 {
                f /= 10;
                digits -= 1;
            }
            let _ = write!(s, ".{f:0width$}", width = digits as usize);
        }
        u / scale
    };
    let body = if u < 1_000_000_000 {
        let (prec, unit) = if u < 1_000 {
            (0, "ns")
        } else if u < 1_000_000 {
            (3, "µs")
        } else {
            (6, "ms")
        };
        let mut f = String::new();
        let whole = frac(&mut f, u, prec);
        format!("{whole}{f}{unit}")
    } else {
        let whole_s = frac(&mut s, u, 9);
        u = whole_s;
        let secs = u % 60;
        let mut out = format!("{secs}{s}s");
        u /= 60;
        if u > 0 {
            out = format!("{}m{out}", u % 60);
            u /= 60;
            if u > 0 {
                out = format!("{u}h{out}");
            }
        }
        out
    };
    if neg { format!("-{body}") } else { body }
}

/// Parses "1ms", "500us", "2s", "1.5ms", "250ns", or a bare number of ns.
pub fn parse_duration_ns(s: &str) -> anyhow::Result<i64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let scale: f64 = match unit {
        "" | "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" => 60e9,
        _ => bail!("bad duration {s:?}: unknown unit {unit:?} (want ns, us, ms, s or m)"),
    };
    let v: f64 = num.parse().with_context(|| format!("bad duration {s:?}"))?;
    Ok((v * scale).round() as i64)
}

fn warn_partial(trace: &std::path::Path, w: Option<goscope_trace::Error>) {
    if let Some(w) = w {
        eprintln!(
            "warning: {}: only part of the trace was read: {w}",
            trace.display()
        );
    }
}

/// Columns of a group's breakdown: Go's non-overlapping stats, execution time first,
/// then by name.
fn stat_columns(gs: &[&GoroutineSummary]) -> Vec<String> {
    let mut set = BTreeSet::new();
    for g in gs {
        set.extend(g.stats.non_overlapping().into_keys());
    }
    let mut cols: Vec<String> = set.into_iter().collect();
    cols.sort_by(|a, b| (a != STAT_EXEC).cmp(&(b != STAT_EXEC)).then(a.cmp(b)));
    cols
}

/// The value a `--sort` column picks from a goroutine.
fn sort_key(g: &GoroutineSummary, column: &str) -> anyhow::Result<i64> {
    let s = &g.stats;
    let c = column.trim();
    Ok(match c.to_ascii_lowercase().as_str() {
        "" | "total" | "total time" => s.total_ns,
        "exec" | "execution" | "execution time" => s.exec_ns,
        "sched" | "sched wait" | "sched wait time" => s.sched_wait_ns,
        "syscall" | "syscall execution time" => s.syscall_ns,
        "syscall-block" | "block time (syscall)" => {
            s.syscall_block_ns + s.block_ns.get("syscall").copied().unwrap_or(0)
        }
        "unknown" | "unknown time" => s.unknown_ns(),
        "block" => s.block_total_ns(),
        "id" => -g.id,
        _ => {
            let reason = c
                .strip_prefix("Block time (")
                .and_then(|r| r.strip_suffix(')'))
                .unwrap_or(c);
            s.block_ns.get(reason).copied().unwrap_or(0)
        }
    })
}

#[derive(Serialize)]
struct GroupReport<'a> {
    group: &'a str,
    count: usize,
    exec_ns: i64,
    /// Share of the whole program's execution time.
    exec_percent: f64,
    goroutines: Vec<&'a GoroutineSummary>,
}

#[derive(Serialize)]
struct GroupsReport<'a> {
    groups: Vec<Group>,
    goroutines: &'a [GoroutineSummary],
}

/// `goscope goroutines`.
pub fn goroutines(args: GoroutinesArgs) -> anyhow::Result<()> {
    let data = TraceFile::open(&args.trace)?;
    let (sum, warning) =
        summary::summarize(&data).with_context(|| format!("{}", args.trace.display()))?;
    let mut out = std::io::BufWriter::new(std::io::stdout());
    match &args.group {
        None => {
            if args.json {
                let report = GroupsReport {
                    groups: sum.groups(),
                    goroutines: &sum.goroutines,
                };
                serde_json::to_writer_pretty(&mut out, &report)?;
                writeln!(out)?;
            } else {
                let groups = sum.groups();
                let width = groups
                    .iter()
                    .map(|g| g.name.len())
                    .max()
                    .unwrap_or(0)
                    .max(14);
                writeln!(
                    out,
                    "{:<width$}  {:>6}  {:>16}",
                    "START FUNCTION", "COUNT", "TOTAL EXEC"
                )?;
                for g in &groups {
                    let name = if g.name.is_empty() {
                        "(inactive, no stack seen)"
                    } else {
                        &g.name
                    };
                    writeln!(
                        out,
                        "{name:<width$}  {:>6}  {:>16}",
                        g.count,
                        go_duration(g.exec_ns)
                    )?;
                }
            }
        }
        Some(name) => {
            let mut gs = sum.group(name);
            if gs.is_empty() {
                bail!("no goroutines start in {name:?} (see `goscope goroutines` for the groups)");
            }
            let column = args.sort.as_deref().unwrap_or("total");
            let mut keyed = Vec::with_capacity(gs.len());
            for g in gs.drain(..) {
                keyed.push((sort_key(g, column)?, g));
            }
            keyed.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.id.cmp(&b.1.id)));
            let gs: Vec<&GoroutineSummary> = keyed.into_iter().map(|(_, g)| g).collect();
            let all_exec: i64 = sum.goroutines.iter().map(|g| g.stats.exec_ns).sum();
            let exec: i64 = gs.iter().map(|g| g.stats.exec_ns).sum();
            let exec_percent = if all_exec > 0 {
                exec as f64 / all_exec as f64 * 100.0
            } else {
                0.0
            };
            if args.json {
                let report = GroupReport {
                    group: name,
                    count: gs.len(),
                    exec_ns: exec,
                    exec_percent,
                    goroutines: gs,
                };
                serde_json::to_writer_pretty(&mut out, &report)?;
                writeln!(out)?;
            } else {
                write_group_table(&mut out, name, &gs, exec_percent)?;
            }
        }
    }
    out.flush()?;
    warn_partial(&args.trace, warning);
    Ok(())
}

fn write_group_table(
    out: &mut impl Write,
    name: &str,
    gs: &[&GoroutineSummary],
    exec_percent: f64,
) -> anyhow::Result<()> {
    writeln!(out, "start function  {name}")?;
    writeln!(out, "goroutines      {}", gs.len())?;
    writeln!(
        out,
        "execution       {exec_percent:.2}% of the program's execution time"
    )?;
    writeln!(out)?;
    let cols = stat_columns(gs);
    let mut header = vec!["GOROUTINE".to_string(), "Total".to_string()];
    header.extend(cols.iter().cloned());
    let mut rows = Vec::new();
    for g in gs {
        let stats = g.stats.non_overlapping();
        let mut row = vec![g.id.to_string(), go_duration(g.stats.total_ns)];
        row.extend(
            cols.iter()
                .map(|c| go_duration(stats.get(c).copied().unwrap_or(0))),
        );
        rows.push(row);
    }
    write_table(out, &header, &rows)?;

    let range_cols: BTreeSet<&str> = gs.iter().flat_map(|g| g.stats.range_ns.keys()).collect();
    let with_ranges: Vec<&&GoroutineSummary> = gs
        .iter()
        .filter(|g| g.stats.range_ns.values().sum::<i64>() != 0)
        .collect();
    if !with_ranges.is_empty() {
        writeln!(out)?;
        writeln!(out, "special ranges (overlap the times above)")?;
        let mut header = vec!["GOROUTINE".to_string(), "Total".to_string()];
        header.extend(range_cols.iter().map(|c| c.to_string()));
        let rows: Vec<Vec<String>> = with_ranges
            .iter()
            .map(|g| {
                let mut row = vec![g.id.to_string(), go_duration(g.stats.total_ns)];
                row.extend(
                    range_cols
                        .iter()
                        .map(|c| go_duration(g.stats.range_ns.get(c).copied().unwrap_or(0))),
                );
                row
            })
            .collect();
        write_table(out, &header, &rows)?;
    }
    Ok(())
}

fn write_table(
    out: &mut impl Write,
    header: &[String],
    rows: &[Vec<String>],
) -> std::io::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            let pad = w - c.chars().count();
            if i == 0 {
                s.push_str(c);
                s.extend(std::iter::repeat_n(' ', pad));
            } else {
                s.push_str("  ");
                s.extend(std::iter::repeat_n(' ', pad));
                s.push_str(c);
            }
        }
        s.trim_end().to_string()
    };
    writeln!(out, "{}", line(header))?;
    for r in rows {
        writeln!(out, "{}", line(r))?;
    }
    Ok(())
}

/// `goscope pprof`.
pub fn pprof(args: PprofArgs) -> anyhow::Result<()> {
    let data = TraceFile::open(&args.trace)?;
    let kind = ProfileKind::from(args.kind);
    let mut builder = pprof::ProfileBuilder::new(&[kind]);
    if !args.goroutines.is_empty() {
        builder = builder.with_goroutines(args.goroutines.iter().copied());
    }
    if args.from.is_some() || args.to.is_some() {
        let from_ns = args.from.as_deref().map_or(Ok(0), parse_duration_ns)?;
        let to_ns = args
            .to
            .as_deref()
            .map_or(Ok(i64::MAX / 2), parse_duration_ns)?;
        if to_ns < from_ns {
            bail!("--to is before --from");
        }
        builder = builder.with_window_from_start(from_ns, to_ns);
    }
    let outcome = goscope_analysis::read_into(&data, |ev, t| builder.event(ev, t))
        .with_context(|| format!("{}", args.trace.display()))?;
    let warning = outcome.warning;
    let (profiles, stacks) = builder.finish();
    let Some(profile) = profiles.first() else {
        bail!("no profile built");
    };
    if args.output.as_os_str() == "-" {
        let stdout = std::io::stdout();
        pprof::write_gzipped(profile, &stacks, stdout.lock())?;
    } else {
        let file = std::fs::File::create(&args.output)
            .with_context(|| format!("cannot create {}", args.output.display()))?;
        pprof::write_gzipped(profile, &stacks, std::io::BufWriter::new(file))
            .with_context(|| format!("cannot write {}", args.output.display()))?;
    }
    eprintln!(
        "{} profile: {} stacks, {} samples, {} total {}",
        kind.name(),
        profile.records.len(),
        profile.total_count(),
        go_duration(profile.total_delay_ns()),
        if kind == ProfileKind::Cpu {
            "CPU time (10 ms a sample)"
        } else {
            "delay"
        }
    );
    if kind == ProfileKind::Cpu && profile.records.is_empty() && args.goroutines.is_empty() {
        eprintln!(
            "the trace has no CPU samples: trace with the CPU profiler on \
             (go test -cpuprofile=cpu.out -trace=trace.out, or pprof.StartCPUProfile beside trace.Start)"
        );
    }
    warn_partial(&args.trace, warning);
    Ok(())
}

#[derive(Serialize)]
struct MmuReport {
    flags: String,
    curve: Vec<MmuPoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    worst: Option<WorstReport>,
}

#[derive(Serialize)]
struct WorstReport {
    window_ns: i64,
    windows: Vec<UtilWindow>,
}

/// `goscope mmu`.
pub fn mmu(args: MmuArgs) -> anyhow::Result<()> {
    let flags = match &args.flags {
        Some(f) => UtilFlags::parse(f).map_err(anyhow::Error::msg)?,
        None => UtilFlags::GO_DEFAULT,
    };
    let window = args.window.as_deref().map(parse_duration_ns).transpose()?;
    let data = TraceFile::open(&args.trace)?;
    let (utils, warning) = goscope_analysis::mmu::utilization(&data, flags)
        .with_context(|| format!("{}", args.trace.display()))?;
    let curve = MmuCurve::new(utils);
    let report = MmuReport {
        flags: flags.go_name(),
        curve: curve.plot(),
        worst: window.map(|w| WorstReport {
            window_ns: w,
            windows: curve.worst_windows(w, args.worst),
        }),
    };
    let mut out = std::io::BufWriter::new(std::io::stdout());
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "flags: {}",
            if report.flags.is_empty() {
                "(none)"
            } else {
                &report.flags
            }
        )?;
        if curve.is_empty() {
            writeln!(
                out,
                "no utilization data (no GOMAXPROCS event in the trace)"
            )?;
        }
        writeln!(out, "{:>16}  {:>8}", "WINDOW", "MMU")?;
        for p in &report.curve {
            writeln!(out, "{:>16}  {:>8.4}", go_duration(p.window_ns), p.mmu)?;
        }
        if let Some(w) = &report.worst {
            writeln!(out)?;
            writeln!(out, "worst {} windows", go_duration(w.window_ns))?;
            writeln!(out, "{:>20}  {:>8}", "START (ns)", "UTIL")?;
            for x in &w.windows {
                writeln!(out, "{:>20}  {:>8.4}", x.time_ns, x.util)?;
            }
        }
    }
    out.flush()?;
    warn_partial(&args.trace, warning);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_as_go() {
        assert_eq!(go_duration(0), "0s");
        assert_eq!(go_duration(500), "500ns");
        assert_eq!(go_duration(98_432), "98.432µs");
        assert_eq!(go_duration(16_489_472), "16.489472ms");
        assert_eq!(go_duration(1_000_000), "1ms");
        assert_eq!(go_duration(1_023_142_912), "1.023142912s");
        assert_eq!(go_duration(62_500_000_000), "1m2.5s");
        assert_eq!(go_duration(3_723_000_000_001), "1h2m3.000000001s");
        assert_eq!(go_duration(-1_500), "-1.5µs");
    }

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration_ns("1ms").unwrap(), 1_000_000);
        assert_eq!(parse_duration_ns("1.5us").unwrap(), 1_500);
        assert_eq!(parse_duration_ns("250").unwrap(), 250);
        assert_eq!(parse_duration_ns("2s").unwrap(), 2_000_000_000);
        assert!(parse_duration_ns("3 parsecs").is_err());
    }
}
