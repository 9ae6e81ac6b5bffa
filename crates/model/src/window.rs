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
use std::sync::Arc;
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
    build_window_in_pieces(
        source,
        resumes,
        gens,
        from_ns,
        to_ns,
        cancel,
        window_pieces(),
        MIN_PIECE_FILE_BYTES,
    )
}

/// How many pieces `build_window_between` builds a window in: one per two of rayon's
/// threads, as each piece keeps two busy (its ordering and its builder). On two cores
/// that is one: two pieces there took as long as one (BENCHMARKS.md › Session 15).
pub fn window_pieces() -> usize {
    (rayon::current_num_threads() / 2).max(1)
}

/// A window is built in pieces only if each would hold about this many bytes of the file
/// or more: below it, the threads and the join cost more than they save.
pub const MIN_PIECE_FILE_BYTES: u64 = 4 << 20;

/// `build_window_between` in up to `pieces` pieces built at once, each on threads of its
/// own, split at points saved inside the generations or at generations' starts and each
/// holding about `min_piece_file_bytes` of the file or more; then joined (`join`). The
/// result is the same model as one piece's, byte for byte.
#[allow(clippy::too_many_arguments)]
pub fn build_window_in_pieces<S: trace::Source + ?Sized>(
    source: &S,
    resumes: &Resumes,
    gens: Range<usize>,
    from_ns: i64,
    to_ns: i64,
    cancel: &AtomicBool,
    pieces: usize,
    min_piece_file_bytes: u64,
) -> trace::Result<Model> {
    build_window_thinned_in_pieces(
        source,
        resumes,
        gens,
        (from_ns, to_ns),
        0,
        cancel,
        pieces,
        min_piece_file_bytes,
    )
}

/// `build_window_between`, its lanes and counters thinned into buckets of `bucket_ns` as
/// an overview's are (`Model::overview_bucket_ns`): a window at the resolution of a view
/// too dense for full detail (a pixel's time, say), in memory that grows with its buckets
/// and lanes rather than with its events. Its time per state of every lane in each bucket,
/// and each counter's value at its points, are the whole model's cut to its time.
pub fn build_window_thinned<S: trace::Source + ?Sized>(
    source: &S,
    resumes: &Resumes,
    gens: Range<usize>,
    from_ns: i64,
    to_ns: i64,
    bucket_ns: i64,
    cancel: &AtomicBool,
) -> trace::Result<Model> {
    // In one piece: the join of pieces knows no summary spans.
    build_window_thinned_in_pieces(
        source,
        resumes,
        gens,
        (from_ns, to_ns),
        bucket_ns.max(1),
        cancel,
        1,
        MIN_PIECE_FILE_BYTES,
    )
}

/// `build_window_in_pieces`, thinned into buckets of `thin_ns` if it is above 0 (then in
/// one piece).
#[allow(clippy::too_many_arguments)]
fn build_window_thinned_in_pieces<S: trace::Source + ?Sized>(
    source: &S,
    resumes: &Resumes,
    gens: Range<usize>,
    (from_ns, to_ns): (i64, i64),
    thin_ns: i64,
    cancel: &AtomicBool,
    pieces: usize,
    min_piece_file_bytes: u64,
) -> trace::Result<Model> {
    let pieces = if thin_ns > 0 { 1 } else { pieces };
    let n = resumes.generations();
    if gens.start >= gens.end || gens.end > n {
        return Err(trace::Error::broken(
            0,
            None,
            format!("no generations {gens:?} to build (the trace has {n} that can be)"),
        ));
    }
    let plan = plan_for(resumes, &gens, from_ns, to_ns, pieces, min_piece_file_bytes);
    let piece = |k: usize| {
        let (start, from, to) = plan[k];
        // A generation the next piece reads too is given back by the last one to read it.
        let keep = plan.get(k + 1).map(|next| next.0.generation);
        build_piece(
            source,
            resumes,
            &gens,
            start,
            from,
            to,
            k > 0,
            keep,
            None,
            thin_ns,
            cancel,
        )
    };
    let built: Vec<trace::Result<Model>> = if plan.len() == 1 {
        vec![piece(0)]
    } else {
        std::thread::scope(|scope| {
            let piece = &piece;
            let later: Vec<_> = (1..plan.len())
                .map(|k| {
                    std::thread::Builder::new()
                        .name("goscope-piece".into())
                        .spawn_scoped(scope, move || piece(k))
                })
                .collect();
            let mut built = vec![piece(0)];
            for (k, h) in later.into_iter().enumerate() {
                built.push(match h {
                    Ok(h) => h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
                    // No thread to be had: built on this one.
                    Err(_) => piece(k + 1),
                });
            }
            built
        })
    };
    let mut m = join(built.into_iter().collect::<trace::Result<Vec<Model>>>()?);
    if plan.len() > 1 {
        build::find_stragglers(&mut m.stw, &m.procs);
    }
    let t0 = resumes.builders[gens.start].1;
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

/// One piece of `for_each_window_piece`: its model, and the time it stands for.
pub struct Piece<'m> {
    /// The whole model cut to the piece (`Model::cut_to`): its spans are the whole
    /// model's, those open at its end cut there.
    pub model: &'m Model,
    /// Where every span of `model`, cut to this range, is the whole model's span cut to it;
    /// the pieces' ranges follow one another without a gap from `from_ns` to `to_ns`.
    pub keep_ns: Range<i64>,
    /// Its number, from 0, and how many pieces there are.
    pub index: usize,
    pub pieces: usize,
}

/// The stretch `[from_ns, to_ns)` of the trace whose bytes (`source`) made `resumes`,
/// built one piece after another, none holding much more than `piece_file_bytes` of the
/// file, each handed to `each` and dropped before the next is built: what reads the spans
/// of a long stretch (a selection's summary) in memory that does not grow with it. The
/// pieces are split where windows in pieces are (points saved inside generations and
/// generations' starts). Each piece's `keep_ns` begins at the last event of the one
/// before (where that one's open spans were cut), so a span that runs across a split is
/// in two pieces, each with its part. The last piece is ordered on to the first event
/// known from the resumes to come after `to_ns`, so that no span is cut short of `to_ns`.
/// Stops with an error soon after `cancel` is set.
pub fn for_each_window_piece<S: trace::Source + ?Sized>(
    source: &S,
    resumes: &Resumes,
    from_ns: i64,
    to_ns: i64,
    piece_file_bytes: u64,
    cancel: &AtomicBool,
    each: &mut dyn FnMut(Piece<'_>),
) -> trace::Result<()> {
    // The first event known to come at or after `to_ns`: a point's (the event before it)
    // or a generation's first; failing both, the trace's end.
    let later_points = resumes
        .points
        .iter()
        .flatten()
        .map(|p| p.0)
        .chain(resumes.builders.iter().map(|b| b.1))
        .filter(|&t| t >= to_ns);
    let build_to_ns = later_points.min().unwrap_or(resumes.end_ns).max(to_ns);
    let gens = resumes.generations_over(from_ns, build_to_ns);
    if gens.is_empty() || from_ns >= to_ns {
        return Ok(());
    }
    // Splits of at least half a piece's bytes, as many as there are: pieces of half to
    // one `piece_file_bytes`.
    let plan = plan_for(
        resumes,
        &gens,
        from_ns,
        build_to_ns,
        usize::MAX,
        (piece_file_bytes / 2).max(1),
    );
    let mut keep_from_ns = from_ns;
    for (k, &(start, from, to)) in plan.iter().enumerate() {
        if keep_from_ns >= to_ns {
            // Pieces past `to_ns` (splits before the first event after it) are not built;
            // the generation the one before kept for this one is given back here.
            let r = &resumes.trace[start.generation];
            source.release(r.bytes.start as usize..r.bytes.end as usize);
            break;
        }
        let keep = plan.get(k + 1).map(|next| next.0.generation);
        let last = k + 1 == plan.len();
        // After the last generation only Sync events come, up to the trace's end: a whole
        // build's open spans go on to there.
        let trace_end_ns = (last && gens.end == resumes.generations() && to >= resumes.end_ns)
            .then_some(resumes.end_ns);
        let model = build_piece(
            source,
            resumes,
            &gens,
            start,
            from,
            to,
            k > 0,
            keep,
            trace_end_ns,
            0,
            cancel,
        )?;
        let keep_to_ns = if last { to_ns } else { model.end_ns.min(to_ns) };
        each(Piece {
            model: &model,
            keep_ns: keep_from_ns..keep_to_ns,
            index: k,
            pieces: plan.len(),
        });
        keep_from_ns = keep_to_ns;
    }
    Ok(())
}

/// The pieces of a window `[from_ns, to_ns]` of `gens` in up to `pieces`, each holding
/// about `min_file_bytes` of the file or more (`splits_for`): where each is ordered from,
/// and the `[from, to]` it keeps: from the window's start or just after the time before
/// its start, to the time before the next piece's start or the window's end.
fn plan_for(
    resumes: &Resumes,
    gens: &Range<usize>,
    from_ns: i64,
    to_ns: i64,
    pieces: usize,
    min_file_bytes: u64,
) -> Vec<(Start, i64, i64)> {
    // Every event after a point is later than its time: one before `from_ns` leaves out
    // nothing the window keeps.
    let first_points = resumes.points.get(gens.start).map_or(&[][..], |p| &p[..]);
    let first = Start {
        generation: gens.start,
        point: first_points.iter().rposition(|p| p.0 < from_ns),
    };
    let splits = splits_for(resumes, gens, first, from_ns, to_ns, pieces, min_file_bytes);
    let mut plan = vec![(first, from_ns, to_ns)];
    for &(start, before_ns) in &splits {
        if let Some(last) = plan.last_mut() {
            last.2 = before_ns;
        }
        plan.push((start, before_ns.saturating_add(1), to_ns));
    }
    plan
}

/// Where a window's piece is ordered from: a generation's start, or a point saved inside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Start {
    generation: usize,
    point: Option<usize>,
}

/// Where to split a window `[from_ns, to_ns]` of `gens`, whose first piece orders from
/// `first`, into up to `pieces`, each holding about `min_file_bytes` of the file or more:
/// later pieces' starts, each with the time of the last event before it, in time order.
/// The starts are the points saved inside the generations (each after an event at its
/// time) and the generations' starts (after the event before the first of theirs) that
/// lie inside the window, chosen nearest to even shares of the time from `first` on.
fn splits_for(
    resumes: &Resumes,
    gens: &Range<usize>,
    first: Start,
    from_ns: i64,
    to_ns: i64,
    pieces: usize,
    min_file_bytes: u64,
) -> Vec<(Start, i64)> {
    let (head, last) = (
        resumes.time_range_ns(gens.start),
        resumes.time_range_ns(gens.end - 1),
    );
    let (lo, hi) = (from_ns.max(head.start), to_ns.min(last.end));
    if hi <= lo || pieces < 2 {
        return Vec::new();
    }
    let total_ns = last.end.saturating_sub(head.start).max(1) as f64;
    let file_bytes = resumes.file_bytes_of(gens.clone()) as f64 * ((hi - lo) as f64 / total_ns);
    let pieces = pieces.min((file_bytes / min_file_bytes.max(1) as f64) as usize);
    if pieces < 2 {
        return Vec::new();
    }
    let mut candidates: Vec<(Start, i64)> = Vec::new();
    for k in gens.clone() {
        let start = resumes.builders[k].1;
        if k > gens.start && lo < start && start <= hi {
            candidates.push((
                Start {
                    generation: k,
                    point: None,
                },
                start - 1,
            ));
        }
        for (j, p) in resumes.points.get(k).into_iter().flatten().enumerate() {
            if lo < p.0 && p.0 < hi {
                candidates.push((
                    Start {
                        generation: k,
                        point: Some(j),
                    },
                    p.0,
                ));
            }
        }
    }
    // The first piece orders from its start (a point or the generation's start) before
    // `from_ns`: shares of the time from there.
    let begin = match first.point {
        Some(j) => resumes.points[gens.start][j].0,
        None => resumes.builders[gens.start].1,
    }
    .min(lo);
    let mut chosen: Vec<(Start, i64)> = Vec::new();
    for i in 1..pieces {
        let target = begin + ((hi - begin) as f64 * i as f64 / pieces as f64) as i64;
        let nearest = candidates
            .iter()
            .filter(|c| chosen.last().is_none_or(|l| c.1 > l.1))
            .min_by_key(|c| c.1.abs_diff(target));
        if let Some(&c) = nearest {
            chosen.push(c);
        }
    }
    chosen
}

/// One piece of a window: ordered from `start`, keeping `[from_ns, to_ns]`, finished as a
/// window is (its open spans cut at its last event). A piece that goes on from the one
/// before (`continues`) begins no counter with its value there. Each generation's bytes
/// are given back once it is ordered, but generation `keep`'s (which the next piece reads).
/// With `trace_end_ns`, the piece ends with the trace's last generation and takes the
/// trace's closing Sync there (its open spans end at the trace's end, as a whole build's).
#[allow(clippy::too_many_arguments)]
fn build_piece<S: trace::Source + ?Sized>(
    source: &S,
    resumes: &Resumes,
    gens: &Range<usize>,
    start: Start,
    from_ns: i64,
    to_ns: i64,
    continues: bool,
    keep: Option<usize>,
    trace_end_ns: Option<i64>,
    thin_ns: i64,
    cancel: &AtomicBool,
) -> trace::Result<Model> {
    let k0 = start.generation;
    let mut b = match start.point {
        Some(j) => resumes.points[k0][j].1.builder(),
        None => resumes.builders[k0].2.builder(),
    };
    if continues {
        b.continue_counters();
    }
    b.begin_window(resumes.interner.clone(), resumes.builders[k0].1, from_ns);
    if thin_ns > 0 {
        b.thin_to(thin_ns);
    }
    for k in k0..gens.end {
        if resumes.builders[k].1 > to_ns {
            break;
        }
        let r = &resumes.trace[k];
        let from = if k == k0 { start.point } else { None };
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
        if keep != Some(k) {
            source.release(r.bytes.start as usize..r.bytes.end as usize);
        }
    }
    if let Some(t) = trace_end_ns {
        b.end_at(t);
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
    Ok(b.finish(resumes.format_version, gens.len(), resumes.file_bytes, None))
}

/// The window of the pieces' times, each piece going on from the last event of the one
/// before: what one piece over them all builds. Lanes and counters are joined on all
/// cores, each on its own.
///
/// What was open at a split is in both pieces, cut there in the earlier (a span, region,
/// syscall, GC cycle or pause, ending at that piece's end) and whole in the later (begun
/// by then): each such is taken from the later. Running and busy totals add up, less what
/// the earlier counted of the cut spans. Counters go on from the earlier's points (a later
/// piece begins none with its value at the split). Tasks are the later's (those open at
/// the split came whole in its start state) and those only the earlier has; the clock is
/// the later's; the interner, the whole trace's, either's. Everything else is the
/// earlier's then the later's. A piece in which nothing happened adds nothing.
fn join(pieces: Vec<Model>) -> Model {
    use rayon::prelude::*;
    let mut pieces = pieces.into_iter();
    let Some(mut a) = pieces.next() else {
        unreachable!("a window has a first piece")
    };
    let mut later: Vec<Model> = pieces.filter(|m| m.events > 0).collect();
    if later.is_empty() {
        return a;
    }
    // Piece k goes on from the end of the one before it.
    let splits_ns: Vec<i64> = std::iter::once(a.end_ns)
        .chain(later.iter().map(|m| m.end_ns))
        .take(later.len())
        .collect();
    let open_at = |split_ns: i64, start_ns: Option<i64>| start_ns.is_some_and(|s| s <= split_ns);
    join_lanes(
        &mut a.goroutines,
        &mut later,
        |m| &mut m.goroutines,
        &splits_ns,
        |ga, gb, split_ns| {
            if let Some(cut) = join_lane(&mut ga.spans, &gb.spans, split_ns) {
                if cut.state == GState::Running {
                    ga.running_ns = ga.running_ns.saturating_sub(duration_ns(&cut));
                }
            }
            ga.running_ns = ga.running_ns.saturating_add(gb.running_ns);
            let whole_later = |r: &Region| {
                r.end_ns == split_ns
                    && gb.regions.iter().any(|w| {
                        w.start_ns <= split_ns
                            && Region {
                                end_ns: r.end_ns,
                                ..*w
                            } == *r
                    })
            };
            ga.regions.retain(|r| !whole_later(r));
            ga.regions.extend_from_slice(&gb.regions);
            ga.regions.sort_by_key(|r| (r.start_ns, r.depth));
        },
        |ga| {
            ga.spans.shrink_to_fit();
            ga.regions.shrink_to_fit();
        },
    );
    join_lanes(
        &mut a.procs,
        &mut later,
        |m| &mut m.procs,
        &splits_ns,
        |pa, pb, split_ns| {
            if let Some(cut) = join_lane(&mut pa.spans, &pb.spans, split_ns) {
                pa.busy_ns = pa.busy_ns.saturating_sub(duration_ns(&cut));
            }
            pa.busy_ns = pa.busy_ns.saturating_add(pb.busy_ns);
            // Work a piece closes at its end (`PWork::closed_at_end`) is whole in the
            // later piece; on one P no two of a kind begin at once.
            let whole_later = |w: &PRange| {
                w.work.closed_at_end()
                    && w.end_ns == split_ns
                    && pb.work.iter().any(|v| {
                        v.work == w.work && v.start_ns <= split_ns && v.start_ns == w.start_ns
                    })
            };
            let work = Arc::make_mut(&mut pa.work);
            work.retain(|w| !whole_later(w));
            work.extend_from_slice(&pb.work);
        },
        |pa| {
            pa.spans.shrink_to_fit();
            pa.sort_work();
        },
    );
    join_lanes(
        &mut a.threads,
        &mut later,
        |m| &mut m.threads,
        &splits_ns,
        |ta, tb, split_ns| {
            if let Some(cut) = join_lane(&mut ta.spans, &tb.spans, split_ns) {
                ta.busy_ns = ta.busy_ns.saturating_sub(duration_ns(&cut));
            }
            ta.busy_ns = ta.busy_ns.saturating_add(tb.busy_ns);
        },
        |ta| ta.spans.shrink_to_fit(),
    );
    a.counters
        .all_mut()
        .into_par_iter()
        .enumerate()
        .for_each(|(k, series)| {
            for m in &later {
                if let Some(more) = m.counters.all().get(k) {
                    series.append(more);
                }
            }
            series.seal();
        });
    for (b, &split_ns) in later.into_iter().zip(&splits_ns) {
        a.stimuli.extend_from_slice(&b.stimuli);
        for (ta, tb) in a.stimulus_times.iter_mut().zip(&b.stimulus_times) {
            ta.extend_from_slice(tb);
        }
        if open_at(split_ns, b.gc.first().map(|c| c.start_ns))
            && a.gc.last().is_some_and(|c| c.end_ns == split_ns)
        {
            a.gc.pop();
        }
        a.gc.extend_from_slice(&b.gc);
        let whole_later = |s: &Stw| {
            s.end_ns == split_ns
                && b.stw.iter().any(|w| {
                    w.start_ns <= split_ns && (w.start_ns, w.g, w.kind) == (s.start_ns, s.g, s.kind)
                })
        };
        a.stw.retain(|s| !whole_later(s));
        a.stw.extend_from_slice(&b.stw);
        a.stw.sort_by_key(|s| s.start_ns);
        let in_b: std::collections::HashSet<u64> = b.tasks.iter().map(|t| t.id).collect();
        a.tasks.retain(|t| !in_b.contains(&t.id));
        a.tasks.extend(b.tasks);
        let first_ns = a.start_ns;
        a.tasks
            .sort_by_key(|t| (t.start_ns.unwrap_or(first_ns), t.id));
        a.logs.extend_from_slice(&b.logs);
        a.cpu_samples.extend_from_slice(&b.cpu_samples);
        a.events += b.events;
        a.end_ns = b.end_ns;
        a.clock = b.clock;
    }
    a
}

/// Joins each of `lanes` (the first piece's) with the same lane of every later piece in
/// turn (`lanes_of(later[k])`, taken from it, which goes on from `splits_ns[k]`) by
/// `join_one`, then `finish`es it; the lanes on all cores, each on its own. Every piece
/// has every lane of the trace, in the same order.
fn join_lanes<L: Send + Sync>(
    lanes: &mut [L],
    later: &mut [Model],
    lanes_of: impl Fn(&mut Model) -> &mut Vec<L>,
    splits_ns: &[i64],
    join_one: impl Fn(&mut L, &L, i64) + Sync,
    finish: impl Fn(&mut L) + Sync,
) {
    use rayon::prelude::*;
    let later: Vec<Vec<L>> = later
        .iter_mut()
        .map(|m| std::mem::take(lanes_of(m)))
        .collect();
    lanes.par_iter_mut().enumerate().for_each(|(i, lane)| {
        for (more, &split_ns) in later.iter().zip(splits_ns) {
            if let Some(more) = more.get(i) {
                join_one(lane, more, split_ns);
            }
        }
        finish(lane);
    });
}

/// Adds the spans of `later`, a later piece's lane, to `lane`. When `later` begins with a
/// span open at the split (begun by `split_ns`), `lane`'s last span is that one cut at the
/// split: it is taken off and returned, so that its time can come off the totals.
fn join_lane<S: spans::Fields + lod::Timed>(
    lane: &mut Spans<S>,
    later: &Spans<S>,
    split_ns: i64,
) -> Option<S> {
    let cut = later
        .first()
        .is_some_and(|s| s.start_ns() <= split_ns)
        .then(|| lane.pop())
        .flatten();
    for s in later.iter() {
        lane.push(s);
    }
    cut
}

fn duration_ns<S: lod::Timed>(s: &S) -> i64 {
    s.end_ns().saturating_sub(s.start_ns())
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
    /// - spans, regions, GC cycles, pauses, and syscalls, sweeps and mark assists on a P
    ///   that overlap the range, those still open at its end ending there (without an end
    ///   stack, and not going on elsewhere);
    /// - pauses on a P only if they ended by `end_ns`, as a model closes none at its end;
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
                        // One cut here is not known to go on elsewhere.
                        (w.work.closed_at_end() || w.end_ns <= end_ns).then_some(PRange {
                            end_ns: end,
                            goes_on: w.goes_on && w.end_ns <= end_ns,
                            ..*w
                        })
                    })
                    .collect();
                let mut cut = Proc {
                    id: p.id,
                    spans: cut_lane(&p.spans, start_ns, end_ns, |s| PSpan { end_ns, ..s }),
                    work: Arc::new(work),
                    work_starts: [0; 5],
                    busy_ns: p.busy_ns,
                };
                // Already in order: only indexed.
                cut.index_work();
                cut
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
            wakes: Vec::new(),
            family: Default::default(),
            stack_tags: Default::default(),
            assists: Default::default(),
        }
    }
}
