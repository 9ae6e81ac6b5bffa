//! The summary of a selected time range: time per goroutine state, wait reasons,
//! goroutines, state changes, GC cycles and pauses in it.

use std::ops::Range;
use std::sync::atomic::AtomicBool;

use rustc_hash::{FxHashMap, FxHashSet};

use goscope_model::{GState, Model, Resumes, StrId};

/// What hears a selection summed in pieces go on (`SelectionSummary::compute_in_pieces`):
/// pieces done, of how many, and the summary of the part summed so far, made when called.
pub type SelectionProgress<'a> = dyn FnMut(usize, usize, &dyn Fn() -> SelectionSummary) + 'a;

/// What a time range holds, over all goroutines.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SelectionSummary {
    /// The range, in absolute trace ns.
    pub start_ns: f64,
    /// Its end.
    pub end_ns: f64,
    /// (state, total ns, spans) for running, runnable, waiting, syscall.
    pub per_state: [(i64, usize); 4],
    /// Total waiting time per reason, largest first.
    pub per_reason: Vec<(String, i64)>,
    /// Goroutines with time in the range.
    pub goroutines: usize,
    /// State changes that happened inside the range.
    pub transitions: usize,
    /// GC cycles overlapping the range.
    pub gc_cycles: usize,
    /// Stop-the-world pauses overlapping the range.
    pub stw: usize,
}

impl SelectionSummary {
    /// Sums the spans of every goroutine over `[a, b)` (absolute ns).
    pub fn compute(model: &Model, a: f64, b: f64) -> SelectionSummary {
        let mut fold = SelectionFold::new(a, b);
        fold.add(model, i64::MIN..i64::MAX);
        fold.finish(model)
    }

    /// `compute` of the whole trace's model, over a trace opened as an overview (whose
    /// short spans are summed per bucket): the windows of `[a, b)` are built from the
    /// trace's bytes (`source`) and its `resumes` one piece after another, each holding
    /// about `piece_file_bytes` of the file, and summed as they come; `overview` gives
    /// the names, GC cycles and pauses (it keeps those whole). `progress` hears how many
    /// pieces are done, of how many, and can have the summary of the selection's part
    /// summed so far (`compute` of its start up to the end of the last piece done, exactly).
    /// Stops with an error soon after `cancel` is set.
    #[allow(clippy::too_many_arguments)]
    pub fn compute_in_pieces<S: goscope_trace::Source + ?Sized>(
        source: &S,
        resumes: &Resumes,
        overview: &Model,
        a: f64,
        b: f64,
        piece_file_bytes: u64,
        cancel: &AtomicBool,
        progress: &mut SelectionProgress<'_>,
    ) -> goscope_trace::Result<SelectionSummary> {
        let mut fold = SelectionFold::new(a, b);
        let (from_ns, to_ns) = (fold.a, fold.b);
        goscope_model::for_each_window_piece(
            source,
            resumes,
            from_ns,
            to_ns,
            piece_file_bytes,
            cancel,
            &mut |piece| {
                let reached_ns = piece.keep_ns.end;
                fold.add(piece.model, piece.keep_ns);
                let fold = &fold;
                progress(piece.index + 1, piece.pieces, &|| {
                    fold.so_far(reached_ns).finish(overview)
                });
            },
        )?;
        Ok(fold.finish(overview))
    }
}

/// A selection's summary added up over models that each hold part of its time: the whole
/// model, or the pieces of a window (`goscope_model::for_each_window_piece`), whose spans
/// are the whole model's cut to each piece.
#[derive(Clone)]
struct SelectionFold {
    a: i64,
    b: i64,
    per_state: [(i64, usize); 4],
    reasons: FxHashMap<StrId, i64>,
    goroutines: FxHashSet<i64>,
    transitions: usize,
}

impl SelectionFold {
    fn new(a: f64, b: f64) -> SelectionFold {
        SelectionFold {
            a: a as i64,
            b: b as i64,
            per_state: Default::default(),
            reasons: FxHashMap::default(),
            goroutines: FxHashSet::default(),
            transitions: 0,
        }
    }

    /// Adds what `model`'s goroutine spans hold of the selection within `keep_ns`. A
    /// span's time is added for its part in both; the span itself (and its start, if in
    /// the selection, as a state change) is counted where its part of the selection
    /// begins: in the first piece (`keep_ns` from the selection's start or before), or in
    /// the piece in which it starts.
    fn add(&mut self, model: &Model, keep_ns: Range<i64>) {
        let (lo, hi) = (self.a.max(keep_ns.start), self.b.min(keep_ns.end));
        if lo >= hi {
            return;
        }
        let first = lo == self.a;
        for g in &model.goroutines {
            let i = g.spans.count_ending_by(lo);
            let mut any = false;
            for sp in g.spans.iter_from(i).take_while(|x| x.start_ns < hi) {
                let d = sp.end_ns.min(hi) - sp.start_ns.max(lo);
                if d <= 0 {
                    continue;
                }
                any = true;
                let slot = &mut self.per_state[sp.state as usize];
                slot.0 += d;
                if sp.state == GState::Waiting {
                    *self.reasons.entry(sp.reason).or_default() += d;
                }
                if first || sp.start_ns >= lo {
                    slot.1 += 1;
                    if sp.start_ns >= self.a {
                        self.transitions += 1;
                    }
                }
            }
            if any {
                self.goroutines.insert(g.id);
            }
        }
    }

    /// What the pieces added so far, up to `reached_ns` (the end of the last one), hold of
    /// the selection: the fold of the selection's start to there.
    fn so_far(&self, reached_ns: i64) -> SelectionFold {
        SelectionFold {
            b: self.b.min(reached_ns),
            ..self.clone()
        }
    }

    /// The summary, with the names of `model`'s strings and its GC cycles and pauses.
    fn finish(self, model: &Model) -> SelectionSummary {
        let (a, b) = (self.a, self.b);
        let mut per_reason: Vec<(String, i64)> = self
            .reasons
            .into_iter()
            .map(|(k, v)| {
                (
                    if k == 0 {
                        "(unknown)".to_string()
                    } else {
                        model.string(k).to_string()
                    },
                    v,
                )
            })
            .collect();
        // Longest first; equal times by name, so that the order does not depend on the
        // map's.
        per_reason.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
        SelectionSummary {
            start_ns: a as f64,
            end_ns: b as f64,
            per_state: self.per_state,
            per_reason,
            goroutines: self.goroutines.len(),
            transitions: self.transitions,
            gc_cycles: model
                .gc
                .iter()
                .filter(|c| c.start_ns < b && c.end_ns > a)
                .count(),
            stw: model
                .stw
                .iter()
                .filter(|c| c.start_ns < b && c.end_ns > a)
                .count(),
        }
    }
}
