//! View state of the timeline — visible time range, vertical scroll, history, selection —
//! and the pure navigation functions (zoom, pan, fit) that keys and the mouse call.

/// The smallest visible range: 100 ns across the whole width.
pub(crate) const MIN_SPAN_NS: f64 = 100.0;

/// What the time axis counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AxisClock {
    /// Time since the trace's first event.
    #[default]
    SinceStart,
    /// Wall-clock time of day in the machine's zone.
    Local,
    /// Wall-clock time of day in UTC.
    Utc,
}

impl AxisClock {
    pub const ALL: [AxisClock; 3] = [AxisClock::SinceStart, AxisClock::Local, AxisClock::Utc];

    pub fn name(self) -> &'static str {
        match self {
            AxisClock::SinceStart => "since start",
            AxisClock::Local => "wall clock (local)",
            AxisClock::Utc => "wall clock (UTC)",
        }
    }
}

/// What part of the trace is visible, and how we got there.
#[derive(Clone, Debug, PartialEq)]
pub struct TimelineView {
    /// Visible range, absolute trace ns (f64: sub-ns positions while zooming smoothly).
    pub start_ns: f64,
    pub end_ns: f64,
    /// The whole trace.
    pub trace_start_ns: f64,
    pub trace_end_ns: f64,
    /// Vertical scroll of the lane area, in points.
    pub scroll_y: f32,
    /// Earlier visible ranges, for Backspace.
    pub history: Vec<(f64, f64)>,
    /// Ranges gone back from, for Shift+Backspace (emptied by a new move).
    pub future: Vec<(f64, f64)>,
    /// A shift-drag selection, absolute ns.
    pub selection: Option<(f64, f64)>,
    /// A shift-drag is in progress.
    pub selecting: bool,
    /// What the time axis counts: time since the start, or the wall clock.
    pub clock: AxisClock,
}

/// Pushes onto a history of at most 200 ranges, forgetting the oldest.
fn push_bounded(v: &mut Vec<(f64, f64)>, range: (f64, f64)) {
    v.push(range);
    if v.len() > 200 {
        v.remove(0);
    }
}

impl TimelineView {
    pub fn new(trace_start_ns: i64, trace_end_ns: i64) -> Self {
        let (s, e) = (
            trace_start_ns as f64,
            (trace_end_ns.max(trace_start_ns + 1)) as f64,
        );
        TimelineView {
            start_ns: s,
            end_ns: e,
            trace_start_ns: s,
            trace_end_ns: e,
            scroll_y: 0.0,
            history: Vec::new(),
            future: Vec::new(),
            selection: None,
            selecting: false,
            clock: Default::default(),
        }
    }

    pub fn span_ns(&self) -> f64 {
        self.end_ns - self.start_ns
    }

    /// Remembers the current range for Backspace (skipping repeats); a new move forgets
    /// the ranges gone back from.
    pub(crate) fn remember(&mut self) {
        let cur = (self.start_ns, self.end_ns);
        if self.history.last() != Some(&cur) {
            push_bounded(&mut self.history, cur);
        }
        self.future.clear();
    }

    /// Goes back to the previous range. Returns false when there is none.
    pub(crate) fn back(&mut self) -> bool {
        self.step(true)
    }

    /// Goes forward to the range last gone back from. Returns false when there is none.
    pub(crate) fn forward(&mut self) -> bool {
        self.step(false)
    }

    /// One step back in the history (or forward), keeping the current range for the step
    /// the other way.
    fn step(&mut self, back: bool) -> bool {
        let (from, to) = if back {
            (&mut self.history, &mut self.future)
        } else {
            (&mut self.future, &mut self.history)
        };
        let Some((s, e)) = from.pop() else {
            return false;
        };
        push_bounded(to, (self.start_ns, self.end_ns));
        self.start_ns = s;
        self.end_ns = e;
        true
    }

    /// Zooms by `factor` (< 1 zooms in) keeping the time under `anchor` (0..1 of the width)
    /// in place.
    pub(crate) fn zoom(&mut self, factor: f64, anchor: f64) {
        let anchor = anchor.clamp(0.0, 1.0);
        let span = self.span_ns();
        let max_span = (self.trace_end_ns - self.trace_start_ns) * 1.2;
        let new_span = (span * factor).clamp(MIN_SPAN_NS, max_span.max(MIN_SPAN_NS));
        let pivot = self.start_ns + span * anchor;
        self.start_ns = pivot - new_span * anchor;
        self.end_ns = self.start_ns + new_span;
        self.clamp();
    }

    /// Pans by a fraction of the visible width (positive moves right, later in time).
    pub(crate) fn pan(&mut self, fraction: f64) {
        let d = self.span_ns() * fraction;
        self.start_ns += d;
        self.end_ns += d;
        self.clamp();
    }

    /// Shows the whole trace.
    pub fn fit(&mut self) {
        self.remember();
        self.start_ns = self.trace_start_ns;
        self.end_ns = self.trace_end_ns;
    }

    /// Shows [start, end] with a little margin.
    pub fn show_range(&mut self, start_ns: f64, end_ns: f64) {
        self.remember();
        let span = (end_ns - start_ns).max(MIN_SPAN_NS);
        let margin = span * 0.05;
        self.start_ns = start_ns - margin;
        self.end_ns = start_ns + span + margin;
        self.clamp();
    }

    /// Zooms to the selection, if any.
    pub(crate) fn zoom_to_selection(&mut self) -> bool {
        match self.selection {
            Some((a, b)) if b > a => {
                self.remember();
                self.start_ns = a;
                self.end_ns = b.max(a + MIN_SPAN_NS);
                self.clamp();
                true
            }
            _ => false,
        }
    }

    /// Keeps the range within a margin around the trace.
    fn clamp(&mut self) {
        let span = self.span_ns();
        let total = self.trace_end_ns - self.trace_start_ns;
        let margin = total * 0.1 + span * 0.5;
        let lo = self.trace_start_ns - margin;
        let hi = self.trace_end_ns + margin;
        if self.start_ns < lo {
            self.start_ns = lo;
            self.end_ns = lo + span;
        }
        if self.end_ns > hi {
            self.end_ns = hi;
            self.start_ns = hi - span;
        }
    }
}

/// A time as the timeline shows it: relative to the trace's start.
pub(crate) fn since_start(model: &goscope_model::Model, t_ns: i64) -> String {
    format_duration(t_ns.saturating_sub(model.start_ns) as f64)
}

/// Formats a duration in ns with a unit that fits it.
pub fn format_duration(ns: f64) -> String {
    let a = ns.abs();
    if a < 1e3 {
        format!("{ns:.0} ns")
    } else if a < 1e6 {
        format!("{:.3} µs", ns / 1e3)
    } else if a < 1e9 {
        format!("{:.3} ms", ns / 1e6)
    } else {
        format!("{:.3} s", ns / 1e9)
    }
}

/// Tick spacing for an axis: the smallest 1/2/5 × 10^k ns step giving at least
/// `min_px` between ticks.
pub(crate) fn tick_step_ns(ns_per_px: f64, min_px: f64) -> f64 {
    let want = (ns_per_px * min_px).max(1.0);
    let mut step = 10f64.powf(want.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if step * m >= want {
            step *= m;
            break;
        }
    }
    step
}

/// A tick label relative to trace start: "12.5 ms".
pub(crate) fn format_tick(rel_ns: f64, step_ns: f64) -> String {
    // The unit one order of magnitude above the step: ticks 500 µs apart read 2.5 ms.
    format_in_unit_of(rel_ns, step_ns * 10.0, step_ns)
}

/// The unit a time of about `ns` reads best in: its size in ns and its name.
pub(crate) fn time_unit(ns: f64) -> (f64, &'static str) {
    if ns < 1e3 {
        (1.0, "ns")
    } else if ns < 1e6 {
        (1e3, "µs")
    } else if ns < 1e9 {
        (1e6, "ms")
    } else {
        (1e9, "s")
    }
}

/// `ns` in the unit `time_unit` picks for `unit_ns`, with the decimals a resolution of
/// `step_ns` needs.
fn format_in_unit_of(ns: f64, unit_ns: f64, step_ns: f64) -> String {
    let (div, unit) = time_unit(unit_ns);
    let step = step_ns / div;
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10()).ceil() as usize
    };
    format!("{:.decimals$} {unit}", ns / div)
}

/// Above this many steps from the trace's start, tick labels read as offsets from a
/// labelled base ("80.286 ms" then "+832 ns") instead of "80286.0 µs".
const MAX_TICK_STEPS: f64 = 10_000.0;

/// A tick: its time from the trace's start and its label.
pub(crate) type Tick = (f64, String);

/// The axis labels for ticks `step_ns` apart from `first_ns` to `last_ns` (times from the
/// trace's start): the base, if labels read as offsets from one, and each tick's label.
pub(crate) fn axis_labels(
    first_ns: f64,
    last_ns: f64,
    step_ns: f64,
) -> (Option<(f64, String)>, Vec<Tick>) {
    let mut ticks = Vec::new();
    let mut t = first_ns;
    while t <= last_ns {
        ticks.push(t);
        t += step_ns;
    }
    if last_ns.abs() / step_ns < MAX_TICK_STEPS {
        let labels = ticks
            .iter()
            .map(|&t| (t, format_tick(t, step_ns)))
            .collect();
        return (None, labels);
    }
    // A round base before the first tick, so offsets stay a few steps long.
    let unit = step_ns * 10.0;
    let base = (first_ns / unit).floor() * unit;
    let labels = ticks
        .iter()
        .map(|&t| (t, format!("+{}", format_offset(t - base, step_ns))))
        .collect();
    (Some((base, format_base(base, unit))), labels)
}

/// An offset from an axis base, in the unit of `step_ns` ("832 ns", "4.5 µs").
pub(crate) fn format_offset(ns: f64, step_ns: f64) -> String {
    format_in_unit_of(ns, step_ns, step_ns)
}

/// A time from the trace's start in the unit of its size, to `resolution_ns`.
pub(crate) fn format_base(t_ns: f64, resolution_ns: f64) -> String {
    format_in_unit_of(t_ns, t_ns.abs(), resolution_ns)
}

/// What a summary span of an overview is (see `goscope_model::overview`): the text the
/// tooltips and the details panel give it.
pub(crate) fn summary_note(model: &goscope_model::Model) -> String {
    let bucket = format_duration(model.overview_bucket_ns as f64);
    format!(
        "Overview: the time of spans shorter than {bucket} summed per state in each {bucket} of the trace. Zoom in to a few generations to see every span."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_zoom_ticks_read_as_offsets_from_a_labelled_base() {
        // 80.286 ms into the trace, ticks 100 ns apart.
        let first = 80_286_800.0;
        let (base, labels) = axis_labels(first, first + 1_000.0, 100.0);
        let (b, text) = base.expect("a base");
        assert_eq!(b, 80_286_000.0);
        assert_eq!(text, "80.286 ms");
        assert_eq!(labels[0], (first, "+800 ns".to_owned()));
        assert_eq!(labels[1].1, "+900 ns");
        assert_eq!(labels[2].1, "+1000 ns");
        // Near the start, or zoomed out, plain labels.
        let (base, labels) = axis_labels(0.0, 1e9, 1e8);
        assert!(base.is_none());
        assert_eq!(labels[3].1, "0.3 s");
        let (base, _) = axis_labels(5e6, 5.2e6, 1e4);
        assert!(base.is_none(), "500 steps in: plain");
    }

    #[test]
    fn zoom_keeps_the_anchor_in_place() {
        let mut v = TimelineView::new(0, 1_000_000);
        v.zoom(0.5, 0.25);
        assert_eq!(v.span_ns(), 500_000.0);
        // The time at 25% of the width was 250 µs and still is.
        assert!((v.start_ns + 0.25 * v.span_ns() - 250_000.0).abs() < 1e-6);
    }

    #[test]
    fn zoom_has_limits() {
        let mut v = TimelineView::new(0, 1_000_000);
        for _ in 0..100 {
            v.zoom(0.1, 0.5);
        }
        assert_eq!(v.span_ns(), MIN_SPAN_NS);
        for _ in 0..100 {
            v.zoom(10.0, 0.5);
        }
        assert!(v.span_ns() <= 1_200_000.0 + 1e-6);
    }

    #[test]
    fn pan_moves_and_is_bounded() {
        let mut v = TimelineView::new(0, 1_000_000);
        v.zoom(0.1, 0.0);
        v.pan(0.5);
        assert_eq!(v.start_ns, 50_000.0);
        for _ in 0..1000 {
            v.pan(1.0);
        }
        assert!(v.end_ns <= 1_000_000.0 + 100_000.0 + 50_000.0 + 1e-6);
    }

    #[test]
    fn history_goes_back_and_forward() {
        let mut v = TimelineView::new(0, 1000);
        v.show_range(100.0, 200.0);
        let shown = (v.start_ns, v.end_ns);
        assert!(v.start_ns > 90.0 && v.end_ns < 210.0);
        assert!(v.back());
        assert_eq!((v.start_ns, v.end_ns), (0.0, 1000.0));
        assert!(!v.back());
        assert!(v.forward());
        assert_eq!((v.start_ns, v.end_ns), shown);
        assert!(!v.forward());
        assert!(v.back());
        // A new move forgets the way forward.
        v.show_range(500.0, 600.0);
        assert!(!v.forward());
        assert!(v.back());
        assert_eq!((v.start_ns, v.end_ns), (0.0, 1000.0));
    }

    #[test]
    fn zoom_to_selection() {
        let mut v = TimelineView::new(0, 1_000_000);
        assert!(!v.zoom_to_selection());
        v.selection = Some((1000.0, 5000.0));
        assert!(v.zoom_to_selection());
        assert_eq!((v.start_ns, v.end_ns), (1000.0, 5000.0));
    }

    #[test]
    fn ticks_and_durations() {
        assert_eq!(tick_step_ns(1000.0, 80.0), 100_000.0);
        assert_eq!(tick_step_ns(3.0, 80.0), 500.0);
        assert_eq!(format_tick(2_500_000.0, 500_000.0), "2.5 ms");
        assert_eq!(format_tick(3_000_000_000.0, 1e9), "3 s");
        assert_eq!(format_duration(1_000_123_456.0), "1.000 s");
        assert_eq!(format_duration(36_000.0), "36.000 µs");
    }
}
