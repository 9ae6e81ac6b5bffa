//! The summary of a selected time range: time per goroutine state, wait reasons,
//! goroutines, state changes, GC cycles and pauses in it.

use goscope_model::{GState, Model};

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
        let (a, b) = (a as i64, b as i64);
        let mut s = SelectionSummary {
            start_ns: a as f64,
            end_ns: b as f64,
            ..Default::default()
        };
        let mut reasons: rustc_hash::FxHashMap<u32, i64> = Default::default();
        for g in &model.goroutines {
            let i = g.spans.count_ending_by(a);
            let mut any = false;
            for sp in g.spans.iter_from(i).take_while(|x| x.start_ns < b) {
                let d = sp.end_ns.min(b) - sp.start_ns.max(a);
                if d <= 0 {
                    continue;
                }
                any = true;
                let slot = &mut s.per_state[sp.state as usize];
                slot.0 += d;
                slot.1 += 1;
                if sp.state == GState::Waiting {
                    *reasons.entry(sp.reason).or_default() += d;
                }
                if sp.start_ns >= a {
                    s.transitions += 1;
                }
            }
            if any {
                s.goroutines += 1;
            }
        }
        let mut r: Vec<(String, i64)> = reasons
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
        r.sort_by_key(|x| std::cmp::Reverse(x.1));
        s.per_reason = r;
        s.gc_cycles = model
            .gc
            .iter()
            .filter(|c| c.start_ns < b && c.end_ns > a)
            .count();
        s.stw = model
            .stw
            .iter()
            .filter(|c| c.start_ns < b && c.end_ns > a)
            .count();
        s
    }
}
