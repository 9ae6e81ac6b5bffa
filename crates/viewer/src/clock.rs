//! The wall-clock axis: times of day (local or UTC) from a trace's clock snapshot, so a
//! capture lines up with logs. Pure label functions (integer nanoseconds: wall times do not
//! fit an f64 to the nanosecond) and the local zone's offset.

use goscope_model::Model;

use super::view::{AxisClock, Tick, format_offset};

/// The offset of the machine's zone from UTC at `unix_s`, in seconds.
pub fn local_offset_s(unix_s: i64) -> i64 {
    #[cfg(target_os = "linux")]
    {
        let t = unix_s as libc::time_t;
        // SAFETY: localtime_r writes only into the `tm` it is given, which is a valid,
        // zeroed struct on this stack; it reads the zone from the environment.
        unsafe {
            let mut tm: libc::tm = std::mem::zeroed();
            if !libc::localtime_r(&t, &mut tm).is_null() {
                return tm.tm_gmtoff;
            }
        }
    }
    let _ = unix_s;
    0
}

/// The zone's offset for `clock` around `unix_s` (0 for UTC).
fn offset_s(clock: AxisClock, unix_s: i64) -> i64 {
    match clock {
        AxisClock::Local => local_offset_s(unix_s),
        AxisClock::Utc | AxisClock::SinceStart => 0,
    }
}

/// `UTC`, or `UTC+01:00` for a local zone.
pub fn zone_name(clock: AxisClock, unix_s: i64) -> String {
    let off = offset_s(clock, unix_s);
    if clock == AxisClock::Utc || off == 0 {
        return "UTC".into();
    }
    let sign = if off < 0 { '-' } else { '+' };
    format!(
        "UTC{sign}{:02}:{:02}",
        off.abs() / 3600,
        off.abs() / 60 % 60
    )
}

/// The wall time at the trace's start in `clock`'s zone, in ns since the Unix epoch (the
/// zone's offset added): the axis's zero. None for `SinceStart` or a trace with no clock.
pub fn axis_zero_ns(model: &Model, clock: AxisClock) -> Option<i128> {
    if clock == AxisClock::SinceStart {
        return None;
    }
    let c = model.clock?;
    let (sec, nsec) = c.unix_sec_nsec(model.start_ns);
    let off = offset_s(clock, sec);
    Some((i128::from(sec) + i128::from(off)) * 1_000_000_000 + i128::from(nsec))
}

/// `YYYY-MM-DD HH:MM:SS` of a wall time in ns (zone offset already added).
pub fn date_time(wall_ns: i128) -> String {
    let sec = wall_ns.div_euclid(1_000_000_000) as i64;
    let s = goscope_trace::event::rfc3339_nano_utc(sec, 0);
    s.trim_end_matches('Z').replacen('T', " ", 1)
}

/// `HH:MM:SS` and `decimals` digits of the second, of a wall time in ns.
pub fn time_of_day(wall_ns: i128, decimals: usize) -> String {
    let sec = wall_ns.div_euclid(1_000_000_000) as i64;
    let nsec = wall_ns.rem_euclid(1_000_000_000);
    let s = goscope_trace::event::rfc3339_nano_utc(sec, 0);
    let hms = s.get(11..19).unwrap_or("").to_string();
    if decimals == 0 {
        return hms;
    }
    let d = decimals.min(9);
    let frac = format!("{nsec:09}");
    format!("{hms}.{}", &frac[..d])
}

/// The decimals of a second a resolution of `step_ns` needs.
fn decimals_for(step_ns: f64) -> usize {
    if step_ns >= 1e9 {
        0
    } else {
        (-(step_ns / 1e9).log10()).ceil().max(0.0) as usize
    }
}

/// Ticks `step_ns` apart on round wall-clock times from `first_ns` to `last_ns` (times
/// from the trace's start), the trace's start being wall time `zero_ns`: the base the
/// labels count from (below a millisecond a step) and each tick's label, as
/// `view::axis_labels` gives them for the time since the start.
pub fn wall_axis_labels(
    first_ns: f64,
    last_ns: f64,
    step_ns: f64,
    zero_ns: i128,
) -> (Option<(f64, String)>, Vec<Tick>) {
    let step = (step_ns.round() as i128).max(1);
    let first_wall = zero_ns + first_ns.floor() as i128;
    let last_wall = zero_ns + last_ns.ceil() as i128;
    let mut wall = first_wall.div_euclid(step) * step;
    if wall < first_wall {
        wall += step;
    }
    let mut walls = Vec::new();
    while wall <= last_wall && walls.len() < 10_000 {
        walls.push(wall);
        wall += step;
    }
    let rel = |w: i128| (w - zero_ns) as f64;
    if step_ns >= 1e6 {
        let d = decimals_for(step_ns);
        let labels = walls.iter().map(|&w| (rel(w), time_of_day(w, d))).collect();
        return (None, labels);
    }
    let unit = step * 10;
    let base = first_wall.div_euclid(unit) * unit;
    let labels = walls
        .iter()
        .map(|&w| {
            (
                rel(w),
                format!("+{}", format_offset((w - base) as f64, step_ns)),
            )
        })
        .collect();
    (
        Some((rel(base), time_of_day(base, decimals_for(unit as f64)))),
        labels,
    )
}

/// The wall time at `t_ns` from the trace's start, to a resolution of `resolution_ns`.
pub fn pointer_text(zero_ns: i128, t_ns: f64, resolution_ns: f64) -> String {
    time_of_day(zero_ns + t_ns.round() as i128, decimals_for(resolution_ns))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-26T14:30:10.242978237Z, the stall-go127 trace's clock snapshot.
    const ZERO: i128 = 1_795_703_410_242_978_237;

    #[test]
    fn times_of_day_and_dates() {
        assert_eq!(time_of_day(ZERO, 0), "14:30:10");
        assert_eq!(time_of_day(ZERO, 3), "14:30:10.242");
        assert_eq!(time_of_day(ZERO, 9), "14:30:10.242978237");
        assert_eq!(date_time(ZERO), "2026-11-26 14:30:10");
    }

    #[test]
    fn ticks_fall_on_round_wall_times() {
        // 100 ms ticks over the first 500 ms: the first at .300, 57 ms after the start.
        let (base, labels) = wall_axis_labels(0.0, 500e6, 100e6, ZERO);
        assert!(base.is_none());
        assert_eq!(labels[0], (57_021_763.0, "14:30:10.3".to_string()));
        assert_eq!(labels[1].1, "14:30:10.4");
        assert_eq!(labels.len(), 5);
        // Whole seconds.
        let (_, labels) = wall_axis_labels(0.0, 3e9, 1e9, ZERO);
        assert_eq!(labels[0].1, "14:30:11");
        assert_eq!(labels[0].0, 757_021_763.0);
    }

    #[test]
    fn deep_zoom_counts_from_a_labelled_wall_time() {
        // 100 ns ticks, 1 ms after the start.
        let (base, labels) = wall_axis_labels(1e6, 1e6 + 1000.0, 100.0, ZERO);
        let (b, text) = base.unwrap();
        assert_eq!(text, "14:30:10.243978");
        assert_eq!(b, 999_763.0);
        assert_eq!(labels[0].1, "+300 ns");
        assert_eq!(labels[0].0, 1_000_063.0);
        assert_eq!(pointer_text(ZERO, 1e6, 10.0), "14:30:10.24397823");
    }

    #[test]
    fn utc_is_named_utc() {
        assert_eq!(zone_name(AxisClock::Utc, 0), "UTC");
    }
}
