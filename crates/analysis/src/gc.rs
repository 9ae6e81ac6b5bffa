//! Totals of the GC's work and the stop-the-world pauses over a trace's model.

use goscope_model::Model;

/// Length of `[start_ns, end_ns]`, never negative.
pub fn span_ns(start_ns: i64, end_ns: i64) -> i64 {
    end_ns.saturating_sub(start_ns).max(0)
}

/// What the GC and the stop-the-world pauses took over the whole trace.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GcTotals {
    /// GC cycles (mark phases).
    pub gc_cycles: usize,
    /// Time in the mark phase, summed over cycles.
    pub mark_total_ns: i64,
    /// Stop-the-world pauses.
    pub stw_pauses: usize,
    /// Their total length.
    pub stw_total_ns: i64,
    /// The longest one.
    pub stw_max_ns: i64,
}

impl GcTotals {
    /// The totals of `model`.
    pub fn of(model: &Model) -> GcTotals {
        let mut t = GcTotals {
            gc_cycles: model.gc.len(),
            stw_pauses: model.stw.len(),
            ..GcTotals::default()
        };
        for c in &model.gc {
            t.mark_total_ns = t
                .mark_total_ns
                .saturating_add(span_ns(c.start_ns, c.end_ns));
        }
        for s in &model.stw {
            let d = span_ns(s.start_ns, s.end_ns);
            t.stw_total_ns = t.stw_total_ns.saturating_add(d);
            t.stw_max_ns = t.stw_max_ns.max(d);
        }
        t
    }
}
