//! Windows of a trace: the model of a run of its generations, built on demand from the
//! state saved at the first one's start, equal to the whole trace's model cut to that time.
//!
//! A build that keeps resumes (`build_keeping_resumes`) saves, at the start of every
//! generation, the reader's ordering state (`trace::Resume`) and the model builder's open
//! state (every live goroutine's state and open span, every P's and thread's, open ranges,
//! counts, unfinished tasks), but nothing built. `build_window` orders those generations
//! again straight from the trace's bytes and builds their model from that state. Its lanes
//! hold exactly the whole model's spans that overlap the window, the last ones cut at the
//! window's end (`Model::cut_to` states the rule and the tests hold it), so a viewer can
//! keep only the window it shows and rebuild another when the view moves.

use std::ops::Range;
use std::sync::atomic::AtomicBool;

use goscope_trace::{self as trace, Event, Tables};

use super::build::{self, BuildStage, Saved};
use super::*;

/// What `build_window` starts from: per generation, the ordering state and the model
/// builder's state at its start; and what every window shares (names, the directory of
/// goroutines, Ps and threads).
pub struct Resumes {
    trace: Vec<trace::Resume>,
    /// Per generation: its number in the file, the time of its first event, the builder.
    builders: Vec<(u64, i64, Saved)>,
    /// Per generation: the points inside it the ordering saved (`trace::Resume::points_ns`),
    /// each with the time of the last event before it and the builder's state there.
    points: Vec<Vec<(i64, Saved)>>,
    /// The whole trace's strings and stacks, with their look-up maps, so a window finds
    /// the same ids the whole build gave.
    interner: Interner,
    /// Every goroutine of the trace (without spans), sorted by id; a window lists them all.
    goroutines: Vec<Goroutine>,
    procs: Vec<i64>,
    threads: Vec<i64>,
    format_version: u32,
    file_bytes: u64,
    end_ns: i64,
}

impl std::fmt::Debug for Resumes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resumes")
            .field("generations", &self.trace.len())
            .field("starts_ns", &self.starts_ns().collect::<Vec<_>>())
            .finish()
    }
}

impl Resumes {
    /// Generations a window can be built of (0 for a v1 trace, which has none).
    pub fn generations(&self) -> usize {
        self.trace.len()
    }

    /// The time of each generation's first event.
    pub fn starts_ns(&self) -> impl Iterator<Item = i64> + '_ {
        self.builders.iter().map(|b| b.1)
    }

    /// Generation `k`'s time range: from its first event to the next one's first (or to
    /// the trace's end, for the last).
    pub fn time_range_ns(&self, k: usize) -> Range<i64> {
        let start = self.builders.get(k).map_or(self.end_ns, |b| b.1);
        let end = self.builders.get(k + 1).map_or(self.end_ns, |b| b.1);
        start..end
    }

    /// The generations whose time ranges overlap `[start_ns, end_ns]` (empty if none).
    pub fn generations_over(&self, start_ns: i64, end_ns: i64) -> Range<usize> {
        let n = self.builders.len();
        // First generation that ends after start_ns; generations past the one that
        // starts at or before end_ns.
        let first = (0..n)
            .find(|&k| self.time_range_ns(k).end > start_ns)
            .unwrap_or(n);
        let last = self.builders.partition_point(|b| b.1 <= end_ns);
        first..last.max(first)
    }

    /// Bytes of the file generations `gens` take.
    pub fn file_bytes_of(&self, gens: Range<usize>) -> u64 {
        self.trace
            .get(gens)
            .map_or(0, |rs| rs.iter().map(|r| r.bytes.end - r.bytes.start).sum())
    }

    /// Bytes the saved states take, roughly (the interner and directory not counted).
    pub fn state_bytes(&self) -> usize {
        self.trace.iter().map(|r| r.state_bytes()).sum::<usize>()
            + self
                .builders
                .iter()
                .map(|b| b.2.state_bytes())
                .sum::<usize>()
            + self
                .points
                .iter()
                .flatten()
                .map(|p| p.1.state_bytes())
                .sum::<usize>()
    }

    /// Points saved inside generations, in all.
    pub fn points(&self) -> usize {
        self.points.iter().map(Vec::len).sum()
    }

    /// Generation `k`'s points a window can be ordered from, by the time of the last event
    /// before each (a window that begins later than one needs nothing before it).
    pub fn points_ns(&self, k: usize) -> impl Iterator<Item = i64> + '_ {
        self.points.get(k).into_iter().flatten().map(|p| p.0)
    }
}

/// Builds the model of a trace, as `build` does, and keeps what `build_window` needs.
/// The resumes are empty (no window can be built) for a v1 trace, and when the read kept
/// none.
pub fn build_keeping_resumes<S: trace::Source + ?Sized>(
    source: &S,
    cancel: &AtomicBool,
    progress: &mut (dyn FnMut(BuildStage) + Send),
) -> trace::Result<(Model, Resumes)> {
    let every_steps = build::resume_every_steps(source.bytes().len() as u64);
    build_keeping_resumes_every(source, every_steps, cancel, progress)
}

/// `build_keeping_resumes`, saving a point inside a generation to build windows from
/// every `every_steps` steps of the ordering (`u64::MAX`: none).
pub fn build_keeping_resumes_every<S: trace::Source + ?Sized>(
    source: &S,
    every_steps: u64,
    cancel: &AtomicBool,
    progress: &mut (dyn FnMut(BuildStage) + Send),
) -> trace::Result<(Model, Resumes)> {
    let (model, kept) =
        build::build_inner(source, cancel, progress, 0, None, Some(every_steps), false)?;
    Ok(with_resumes(model, kept))
}

/// The overview of a trace (a model whose lanes and counters are thinned, from its second
/// generation on, to about `OVERVIEW_BUCKETS` buckets: see `overview`) and what
/// `build_window` needs to build any run of its generations in full. Its memory grows
/// with the trace's length in buckets and its lanes, not with its events. `preview` gets
/// the model of the first `preview_events` events, as `build_previewing` gives it.
pub fn build_overview<S: trace::Source + ?Sized>(
    source: &S,
    cancel: &AtomicBool,
    progress: &mut (dyn FnMut(BuildStage) + Send),
    preview_events: u64,
    preview: Option<build::OnPreview<'_>>,
) -> trace::Result<(Model, Resumes)> {
    let (model, kept) = build::build_inner(
        source,
        cancel,
        progress,
        preview_events,
        preview,
        Some(build::resume_every_steps(source.bytes().len() as u64)),
        true,
    )?;
    Ok(with_resumes(model, kept))
}

/// The overview of a trace alone, as `build_overview` makes it, keeping no resumes: for
/// what reads only an overview (the findings, see `goscope_analysis::findings`).
pub fn build_overview_only<S: trace::Source + ?Sized>(source: &S) -> trace::Result<Model> {
    let (model, _) = build::build_inner(
        source,
        &AtomicBool::new(false),
        &mut |_| {},
        0,
        None,
        None,
        true,
    )?;
    Ok(model)
}

/// A built model and what it kept, as `Resumes`.
fn with_resumes(model: Model, kept: Option<build::Kept>) -> (Model, Resumes) {
    let kept = kept.unwrap_or(build::Kept {
        trace: Vec::new(),
        builders: Vec::new(),
        points: Vec::new(),
        interner: Interner::new(),
    });
    let points = kept
        .trace
        .iter()
        .zip(kept.points)
        .map(|(r, builders)| r.points_ns().zip(builders).collect())
        .collect();
    let goroutines = model
        .goroutines
        .iter()
        .map(|g| Goroutine {
            spans: Default::default(),
            regions: Vec::new(),
            running_ns: 0,
            ..g.info()
        })
        .collect();
    let resumes = Resumes {
        trace: kept.trace,
        builders: kept.builders,
        points,
        interner: kept.interner,
        goroutines,
        procs: model.procs.iter().map(|p| p.id).collect(),
        threads: model.threads.iter().map(|t| t.id).collect(),
        format_version: model.format_version,
        file_bytes: model.file_bytes,
        end_ns: model.end_ns,
    };
    (model, resumes)
}

/// The model of generations `gens` of the trace whose bytes (`source`) made `resumes`: the whole
/// model cut to the window, from the first event of `gens.start` to the last of
/// `gens.end - 1` (`Model::cut_to`). Every goroutine, P and thread of the trace has its
/// lane (empty where it did nothing in the window), in the whole model's order, with the
/// whole trace's names; ids of strings and stacks are the whole model's. Each
/// generation's bytes are given back to `source` (`Source::release`) once it is ordered.
pub fn build_window<S: trace::Source + ?Sized>(
    source: &S,
    resumes: &Resumes,
    gens: Range<usize>,
) -> trace::Result<Model> {
    build_window_between(
        source,
        resumes,
        gens,
        i64::MIN,
        i64::MAX,
        &AtomicBool::new(false),
    )
}

/// `build_window` keeping only what lies in `[from_ns, to_ns]`: the whole model cut to
/// `[max(from_ns, first event of gens.start), last event by to_ns]` (`Model::cut_to`),
/// in memory that grows with that time rather than with the generations'. The first
/// generation is ordered from the last point saved inside it before `from_ns` (or from
/// its start), the others from their start, and none further than `to_ns`; what is not
/// kept is not stored. Its GC cycles, pauses,
/// regions and runtime work on Ps are those of the generations up to `to_ns`, uncut.
/// Stops with an error soon after `cancel` is set (a view that moved on no longer wants
/// the window).
pub fn build_window_between<S: trace::Source + ?Sized>(
    source: &S,
    resumes: &Resumes,
    gens: Range<usize>,
    from_ns: i64,
    to_ns: i64,
    cancel: &AtomicBool,
) -> trace::Result<Model> {
    let n = resumes.generations();
    if gens.start >= gens.end || gens.end > n {
        return Err(trace::Error::broken(
            0,
            None,
            format!("no generations {gens:?} to build (the trace has {n} that can be)"),
        ));
    }
    // Every event after a point is later than its time: one before `from_ns` leaves out
    // nothing the window keeps.
    let first_points = resumes.points.get(gens.start).map_or(&[][..], |p| &p[..]);
    let from_point = first_points.iter().rposition(|p| p.0 < from_ns);
    let mut b = match from_point {
        Some(k) => first_points[k].1.builder(),
        None => resumes.builders[gens.start].2.builder(),
    };
    let t0 = resumes.builders[gens.start].1;
    b.begin_window(resumes.interner.clone(), t0, from_ns);
    for k in gens.clone() {
        if resumes.builders[k].1 > to_ns {
            break;
        }
        let r = &resumes.trace[k];
        let from = if k == gens.start { from_point } else { None };
        trace::reorder_pipelined_until(
            source,
            r,
            from,
            to_ns,
            cancel,
            &mut |ev: &Event, t: &Tables| {
                if ev.time_ns <= to_ns {
                    b.event(ev, t);
                }
            },
        )?;
        source.release(r.bytes.start as usize..r.bytes.end as usize);
    }
    for g in &resumes.goroutines {
        b.goroutine_place(g.id);
    }
    for &p in &resumes.procs {
        b.proc(p);
    }
    for &m in &resumes.threads {
        b.thread(m);
    }
    let mut m = b.finish(resumes.format_version, gens.len(), resumes.file_bytes, None);
    m.start_ns = t0.max(from_ns);
    m.end_ns = m.end_ns.max(m.start_ns);
    // The whole trace's names: a goroutine named, labelled or ended after the window is
    // known by that in every window.
    for (g, info) in m.goroutines.iter_mut().zip(&resumes.goroutines) {
        if g.id == info.id {
            g.start_fn = info.start_fn;
            g.creator = info.creator;
            g.create_stack = info.create_stack;
            g.created_ns = info.created_ns;
            g.ended_ns = info.ended_ns;
            g.label = info.label;
        }
    }
    Ok(m)
}

/// A lane's spans that overlap `[start_ns, end_ns]`, the last cut at `end_ns` by `cut`.
fn cut_lane<S: spans::Fields + lod::Timed>(
    lane: &Spans<S>,
    start_ns: i64,
    end_ns: i64,
    cut: impl Fn(S) -> S,
) -> Spans<S> {
    let mut out = Spans::default();
    for s in lane.iter_from(lane.count_ending_by(start_ns.saturating_sub(1))) {
        if s.start_ns() > end_ns {
            break;
        }
        if s.end_ns() >= start_ns {
            out.push(if s.end_ns() > end_ns { cut(s) } else { s });
        }
    }
    out
}

/// Times `[start, end]` cut at `end_ns`, if they overlap `[start_ns, end_ns]`.
fn cut_times(start: i64, end: i64, start_ns: i64, end_ns: i64) -> Option<i64> {
    (end >= start_ns && start <= end_ns).then_some(end.min(end_ns))
}

impl Model {
    /// This model cut to `[start_ns, end_ns]`, by the rule a window (`build_window`) of
    /// the generations from the one whose first event is at `start_ns` to the one whose
    /// last is at `end_ns` follows:
    /// - spans, regions, GC cycles, pauses and syscalls on a P that overlap the range,
    ///   those still open at its end ending there (without an end stack);
    /// - other runtime work on a P (mark assists, sweeps, pauses) only if it ended by
    ///   `end_ns`, as a model closes no such work at its end;
    /// - each counter's value at `start_ns`, then its points up to `end_ns`;
    /// - stimuli, logs and CPU samples in the range;
    /// - every goroutine, P and thread, with the same names.
    ///
    /// What it does not cut (and a window does not equal): tasks, running and busy
    /// totals, pause stragglers, counts of events and generations.
    pub fn cut_to(&self, start_ns: i64, end_ns: i64) -> Model {
        let goroutines = self
            .goroutines
            .iter()
            .map(|g| Goroutine {
                spans: cut_lane(&g.spans, start_ns, end_ns, |s| GSpan {
                    end_ns,
                    end_stack: 0,
                    ..s
                }),
                regions: g
                    .regions
                    .iter()
                    .filter_map(|r| {
                        let end = cut_times(r.start_ns, r.end_ns, start_ns, end_ns)?;
                        Some(Region { end_ns: end, ..*r })
                    })
                    .collect(),
                ..g.info()
            })
            .collect();
        let procs = self
            .procs
            .iter()
            .map(|p| {
                let work: Vec<PRange> = p
                    .work
                    .iter()
                    .filter_map(|w| {
                        let end = cut_times(w.start_ns, w.end_ns, start_ns, end_ns)?;
                        (w.work == PWork::Syscall || w.end_ns <= end_ns)
                            .then_some(PRange { end_ns: end, ..*w })
                    })
                    .collect();
                let mut starts = [work.len(); 5];
                for k in (0..4).rev() {
                    starts[k] = work.partition_point(|w| (w.work as usize) < k);
                }
                Proc {
                    id: p.id,
                    spans: cut_lane(&p.spans, start_ns, end_ns, |s| PSpan { end_ns, ..s }),
                    work,
                    work_starts: starts,
                    busy_ns: p.busy_ns,
                }
            })
            .collect();
        let threads = self
            .threads
            .iter()
            .map(|t| Thread {
                id: t.id,
                spans: cut_lane(&t.spans, start_ns, end_ns, |s| MSpan { end_ns, ..s }),
                busy_ns: t.busy_ns,
            })
            .collect();
        let mut counters = Counters::default();
        for (cut, whole) in counters.all_mut().into_iter().zip(self.counters.all()) {
            let points = whole.points();
            let before = points.partition_point(|p| p.0 < start_ns);
            if let Some(&(_, v)) = before.checked_sub(1).and_then(|i| points.get(i)) {
                cut.push(start_ns, v as i64);
            }
            for &(t, v) in &points[before..] {
                if t > end_ns {
                    break;
                }
                cut.push(t, v as i64);
            }
            cut.seal();
        }
        let in_range = |t: i64| (start_ns..=end_ns).contains(&t);
        let stimuli: Vec<Stimulus> = self
            .stimuli
            .iter()
            .filter(|s| in_range(s.time_ns))
            .copied()
            .collect();
        let mut stimulus_times: [Vec<i64>; 3] = Default::default();
        for s in &stimuli {
            stimulus_times[s.kind as usize].push(s.time_ns);
        }
        Model {
            start_ns,
            end_ns,
            format_version: self.format_version,
            generations: self.generations,
            events: self.events,
            file_bytes: self.file_bytes,
            warning: None,
            clock: self.clock,
            interner: self.interner.clone(),
            goroutines,
            procs,
            threads,
            counters,
            stimuli,
            stimulus_times,
            stimulus_totals: Default::default(),
            gc: self
                .gc
                .iter()
                .filter_map(|c| {
                    let end = cut_times(c.start_ns, c.end_ns, start_ns, end_ns)?;
                    Some(GcCycle { end_ns: end, ..*c })
                })
                .collect(),
            stw: self
                .stw
                .iter()
                .filter_map(|s| {
                    let end = cut_times(s.start_ns, s.end_ns, start_ns, end_ns)?;
                    Some(Stw { end_ns: end, ..*s })
                })
                .collect(),
            tasks: self.tasks.clone(),
            logs: self
                .logs
                .iter()
                .filter(|l| in_range(l.time_ns))
                .copied()
                .collect(),
            cpu_samples: self
                .cpu_samples
                .iter()
                .filter(|c| in_range(c.time_ns))
                .copied()
                .collect(),
            overview_bucket_ns: 0,
            family: Default::default(),
            stack_tags: Default::default(),
        }
    }
}
