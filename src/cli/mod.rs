//! The command line: `goscope TRACE` opens the viewer; the subcommands (`stats`, `dump`,
//! `goroutines`, `pprof`, `mmu`, `findings`) run headless over a mapped trace file;
//! `capture` asks a running program for a trace.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::{Parser, Subcommand};
use goscope_file::TraceFile;
use rustc_hash::FxHashSet;
use serde::Serialize;

use goscope_trace::{self as trace, Kind, ReadOptions, Resource};

pub mod analysis;
pub mod capture;
pub mod findings;

#[derive(Parser, Debug)]
#[command(
    name = "goscope",
    version,
    about = "A fast viewer and analyzer for Go execution traces",
    long_about = "A fast viewer and analyzer for Go execution traces.\n\n\
        `goscope TRACE` opens the viewer on a trace; `goscope` alone opens its start page.\n\
        The subcommands run the same analyses headless, for scripts and CI.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// A trace to open in the viewer.
    pub trace: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print what a trace holds: format, generations, events per kind, resources, duration.
    Stats {
        trace: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Decode on one thread (for comparison).
        #[arg(long)]
        sequential: bool,
        /// Order every generation ahead on worker threads and stitch them on in turn (same
        /// output; see ARCHITECTURE.md) instead of ordering them one after another.
        #[arg(long, conflicts_with = "sequential")]
        order_ahead: bool,
    },
    /// Print every event, one per line, in the form of `go tool trace -d=parsed`.
    Dump {
        trace: PathBuf,
        /// Decode and order on one thread (for checking the parallel reader against it).
        #[arg(long)]
        sequential: bool,
    },
    /// Goroutine analysis: groups by start function, or where one group's time went.
    Goroutines(analysis::GoroutinesArgs),
    /// Write a blocking or scheduler-latency profile as a gzipped pprof file.
    Pprof(analysis::PprofArgs),
    /// Minimum mutator utilization curve (what GC takes from the program).
    Mmu(analysis::MmuArgs),
    /// Long blocks, stop-the-world stragglers, quiet periods and long assists, by impact.
    Findings(findings::FindingsArgs),
    /// Capture a trace from a running program (net/http/pprof) into a file.
    Capture(capture::CaptureArgs),
}

/// The `stats` report.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Stats {
    pub format_version: u32,
    pub go_version: String,
    pub generations: usize,
    pub total_events: u64,
    pub events_per_kind: BTreeMap<String, u64>,
    pub goroutines: usize,
    pub procs: usize,
    pub threads: usize,
    pub first_ns: i64,
    pub last_ns: i64,
    pub duration_ns: i64,
    pub file_bytes: u64,
    pub parse_ms: f64,
    /// Generations ordered ahead on worker threads and stitched on (the rest were ordered
    /// in turn: the first, and any whose guessed start state was wrong).
    pub ordered_ahead: usize,
    /// Generations too large to be ordered ahead in the bytes it may take
    /// (`ReadOptions::ahead_bytes`), ordered in turn.
    pub too_large_ahead: usize,
    pub warning: Option<String>,
}

/// A set of non-negative ids: a bitmap for small ones (the common case, and one bit test
/// per event), a hash set for the rest.
#[derive(Default)]
struct IdSet {
    bits: Vec<u64>,
    large: FxHashSet<i64>,
    len: usize,
}

impl IdSet {
    const DENSE_LIMIT: i64 = 1 << 24;

    #[inline]
    fn insert(&mut self, id: i64) {
        if (0..Self::DENSE_LIMIT).contains(&id) {
            let (w, b) = ((id >> 6) as usize, id & 63);
            if w >= self.bits.len() {
                self.bits.resize(w + 1, 0);
            }
            if self.bits[w] & (1 << b) == 0 {
                self.bits[w] |= 1 << b;
                self.len += 1;
            }
        } else if self.large.insert(id) {
            self.len += 1;
        }
    }

    fn len(&self) -> usize {
        self.len
    }
}

/// Counts the events of a trace.
pub fn stats<S: trace::Source + ?Sized>(data: &S, opts: ReadOptions) -> anyhow::Result<Stats> {
    let t0 = Instant::now();
    let mut per_kind = [0u64; 14];
    let mut goroutines = IdSet::default();
    let mut procs = IdSet::default();
    let mut threads = IdSet::default();
    let mut first_ns = i64::MAX;
    let mut last_ns = i64::MIN;
    let outcome = trace::read_pipelined(
        data,
        opts,
        &std::sync::atomic::AtomicBool::new(false),
        &mut |ev: &trace::Event, _: &trace::Tables| {
            per_kind[ev.kind().index()] += 1;
            if ev.g >= 0 {
                goroutines.insert(ev.g);
            }
            if ev.p >= 0 {
                procs.insert(ev.p);
            }
            if ev.m >= 0 {
                threads.insert(ev.m);
            }
            if let Some(t) = ev.transition() {
                match t.resource {
                    Resource::Goroutine(g) => goroutines.insert(g),
                    Resource::Proc(p) => procs.insert(p),
                };
            }
            if ev.kind() != Kind::Sync {
                first_ns = first_ns.min(ev.time_ns);
                last_ns = last_ns.max(ev.time_ns);
            }
        },
        &mut |_| {},
    )?;
    if first_ns > last_ns {
        first_ns = 0;
        last_ns = 0;
    }
    let events_per_kind = Kind::ALL
        .iter()
        .filter(|k| per_kind[k.index()] > 0)
        .map(|k| (k.name().to_string(), per_kind[k.index()]))
        .collect();
    Ok(Stats {
        format_version: outcome.version.0,
        go_version: outcome.version.go_versions().to_string(),
        generations: outcome.generations,
        total_events: per_kind.iter().sum(),
        events_per_kind,
        goroutines: goroutines.len(),
        procs: procs.len(),
        threads: threads.len(),
        first_ns,
        last_ns,
        duration_ns: last_ns.saturating_sub(first_ns),
        file_bytes: data.bytes().len() as u64,
        parse_ms: t0.elapsed().as_secs_f64() * 1e3,
        ordered_ahead: outcome.ordered_ahead,
        too_large_ahead: outcome.too_large_ahead,
        warning: outcome.warning.map(|w| w.to_string()),
    })
}

/// Writes every event in Go's `-d=parsed` form, formatted on this thread while the next
/// events are ordered on another, with the pages of the file given back as it goes (a dump
/// of a 1.17 GB trace held 1.29 GB of mapped pages when it read a plain slice).
pub fn dump<S: trace::Source + ?Sized>(
    data: &S,
    opts: ReadOptions,
    out: &mut (impl Write + Send),
) -> anyhow::Result<Option<trace::Error>> {
    let mut buf = String::with_capacity(1 << 16);
    let mut io_err = None;
    // Set when the output fails (a closed pipe, say): the read stops soon after.
    let stop = std::sync::atomic::AtomicBool::new(false);
    let read = trace::read_pipelined(
        data,
        opts,
        &stop,
        &mut |ev: &trace::Event, tables: &trace::Tables| {
            trace::write_go_text(&mut buf, ev, tables);
            buf.push('\n');
            if buf.len() > 1 << 15 && io_err.is_none() {
                io_err = out.write_all(buf.as_bytes()).err();
                buf.clear();
                if io_err.is_some() {
                    stop.store(true, std::sync::atomic::Ordering::Relaxed);
                }
            }
        },
        &mut |_| {},
    );
    if let Some(e) = io_err {
        return Err(e.into());
    }
    let outcome = read?;
    out.write_all(buf.as_bytes())?;
    Ok(outcome.warning)
}

fn print_stats(s: &Stats) {
    println!(
        "format       go 1.{} (written by Go {})",
        s.format_version, s.go_version
    );
    println!("file         {} bytes", s.file_bytes);
    println!("generations  {}", s.generations);
    println!("duration     {:.3} ms", s.duration_ns as f64 / 1e6);
    println!("goroutines   {}", s.goroutines);
    println!("procs        {}", s.procs);
    println!("threads      {}", s.threads);
    println!("events       {}", s.total_events);
    for (k, n) in &s.events_per_kind {
        println!("  {k:<16} {n}");
    }
    if s.ordered_ahead > 0 || s.too_large_ahead > 0 {
        let too_large = match s.too_large_ahead {
            0 => String::new(),
            n => format!("; {n} too large to, over {} MiB", trace::AHEAD_BYTES >> 20),
        };
        println!(
            "parse time   {:.1} ms ({} of {} generations ordered ahead{too_large})",
            s.parse_ms, s.ordered_ahead, s.generations
        );
    } else {
        println!("parse time   {:.1} ms", s.parse_ms);
    }
}

/// Runs the command line; returns the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let Some(command) = cli.command else {
        #[cfg(feature = "gui")]
        return goscope_viewer::run(cli.trace);
        #[cfg(not(feature = "gui"))]
        anyhow::bail!(
            "this goscope was built without the viewer (feature `gui`); use a subcommand, see --help"
        );
    };
    match command {
        Command::Stats {
            trace,
            json,
            sequential,
            order_ahead,
        } => {
            let data = TraceFile::open(&trace)?;
            let s = stats(
                &data,
                ReadOptions {
                    parallel: !sequential,
                    order_ahead,
                    ..ReadOptions::default()
                },
            )
            .with_context(|| format!("{}", trace.display()))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&s)?);
            } else {
                print_stats(&s);
            }
            if let Some(w) = &s.warning {
                eprintln!(
                    "warning: {}: only part of the trace was read: {w}",
                    trace.display()
                );
            }
        }
        Command::Goroutines(args) => analysis::goroutines(args)?,
        Command::Pprof(args) => analysis::pprof(args)?,
        Command::Mmu(args) => analysis::mmu(args)?,
        Command::Findings(args) => findings::run(args)?,
        Command::Capture(args) => capture::run(args)?,
        Command::Dump { trace, sequential } => {
            let data = TraceFile::open(&trace)?;
            let mut lock = std::io::BufWriter::new(std::io::stdout());
            let opts = ReadOptions {
                parallel: !sequential,
                order_ahead: !sequential,
                ..ReadOptions::default()
            };
            let warning =
                dump(&data, opts, &mut lock).with_context(|| format!("{}", trace.display()))?;
            lock.flush()?;
            if let Some(w) = warning {
                eprintln!(
                    "warning: {}: only part of the trace was read: {w}",
                    trace.display()
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `goscope dump` reads the mapped file the way the command does (ordered ahead,
    /// pipelined, its pages given back) and writes what `go tool trace -d=parsed` wrote.
    #[test]
    fn a_dump_of_a_mapped_trace_is_gos_parsed_text() {
        let mut compared = 0;
        for path in goscope_testdata::all_traces() {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            let golden = goscope_testdata::dir()
                .join("golden")
                .join(format!("{stem}.parsed.txt"));
            let Ok(want) = std::fs::read_to_string(&golden) else {
                continue;
            };
            let data = TraceFile::open(&path).unwrap();
            // A v1 trace's events of equal time may come in another order than Go's
            // (crates/trace/tests/decode.rs compares those without it).
            if trace::batch::read_header(&data).is_ok_and(|v| v.is_v1()) {
                continue;
            }
            let opts = ReadOptions {
                order_ahead: true,
                ..ReadOptions::default()
            };
            let mut out = Vec::new();
            let warning = dump(&data, opts, &mut out).unwrap();
            assert!(warning.is_none(), "{stem}: {warning:?}");
            assert!(String::from_utf8(out).unwrap() == want, "{stem}");
            compared += 1;
        }
        assert!(compared >= 20, "{compared} traces compared");
    }
}
