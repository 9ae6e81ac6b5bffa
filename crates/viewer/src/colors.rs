//! The palette: goroutine states and wait reasons, runtime work, ribbons.

use egui::Color32;

use goscope_model::{GState, PWork, StimulusKind};

pub(crate) const RUNNING: Color32 = Color32::from_rgb(76, 175, 80);
pub(crate) const RUNNABLE: Color32 = Color32::from_rgb(230, 180, 60);
pub(crate) const SYSCALL: Color32 = Color32::from_rgb(200, 90, 200);
pub(crate) const WAITING: Color32 = Color32::from_rgb(110, 120, 140);
/// A processor's busy time in an overview.
pub(crate) const BUSY: Color32 = Color32::from_rgb(120, 170, 130);
/// The hairline over a fold of many spans.
pub(crate) const FOLD_MARK: Color32 = Color32::from_rgba_premultiplied(90, 90, 90, 90);
/// Wake-up arrows in a focused goroutine view.
pub(crate) const WAKEUP: Color32 = Color32::from_rgb(120, 200, 255);
/// Search matches.
pub(crate) const SEARCH: Color32 = Color32::from_rgb(255, 90, 200);
pub(crate) const GC: Color32 = Color32::from_rgb(240, 140, 40);
pub(crate) const STW: Color32 = Color32::from_rgb(220, 60, 60);
pub(crate) const ASSIST: Color32 = Color32::from_rgb(245, 160, 60);
pub(crate) const SWEEP: Color32 = Color32::from_rgb(170, 120, 70);
pub(crate) const HEAP: Color32 = Color32::from_rgb(90, 150, 220);
pub(crate) const HEAP_GOAL: Color32 = Color32::from_rgb(230, 90, 90);
pub(crate) const NETWORK: Color32 = Color32::from_rgb(60, 190, 190);
pub(crate) const TIMER: Color32 = Color32::from_rgb(170, 170, 90);
/// A selected range: a blue wash at a quarter of full strength, premultiplied (each channel
/// at most alpha), so what is under it keeps its colours, even when it covers the whole
/// view after Z.
pub(crate) const SELECTION: Color32 = Color32::from_rgba_premultiplied(15, 28, 50, 64);
pub(crate) const HIGHLIGHT: Color32 = Color32::from_rgb(255, 255, 255);
pub(crate) const REGION: Color32 = Color32::from_rgb(120, 160, 230);
pub(crate) const TASK: Color32 = Color32::from_rgb(150, 130, 230);
pub(crate) const LOG: Color32 = Color32::from_rgb(255, 120, 200);
pub(crate) const SAMPLE: Color32 = Color32::from_rgb(250, 250, 120);

/// The color of a wait reason (Go's block reason strings).
pub(crate) fn wait_reason(reason: &str) -> Color32 {
    match reason {
        "chan receive" => Color32::from_rgb(70, 120, 210),
        "chan send" => Color32::from_rgb(90, 140, 230),
        "select" => Color32::from_rgb(140, 90, 200),
        "sync" | "sync.(*Cond).Wait" => Color32::from_rgb(200, 80, 80),
        "network" => NETWORK,
        "sleep" => Color32::from_rgb(130, 130, 130),
        r if r.starts_with("GC ") || r.contains("GC") => Color32::from_rgb(200, 130, 60),
        "system goroutine wait" => Color32::from_rgb(80, 80, 90),
        _ => WAITING,
    }
}

/// The color of a goroutine state span.
pub(crate) fn gstate(state: GState, reason: &str) -> Color32 {
    match state {
        GState::Running => RUNNING,
        GState::Runnable => RUNNABLE,
        GState::Syscall => SYSCALL,
        GState::Waiting => wait_reason(reason),
    }
}

pub(crate) fn work(w: PWork) -> Color32 {
    match w {
        PWork::MarkAssist => ASSIST,
        PWork::Sweep => SWEEP,
        PWork::Syscall => SYSCALL,
        PWork::Stw => STW,
    }
}

pub(crate) fn stimulus(k: StimulusKind) -> Color32 {
    match k {
        StimulusKind::Network => NETWORK,
        StimulusKind::Syscall => SYSCALL,
        StimulusKind::Timer => TIMER,
    }
}

/// A colour per start function, the same for a name in every trace (a hash of the name,
/// FNV-1a, not its id). Pastel, so goroutines stay apart from the saturated colours of
/// runtime work (assist, sweep, syscalls, STW) in a processor's lower half; the runtime's
/// own goroutines (`runtime.*`) get muted greys-blues.
pub(crate) fn by_name(name: &str) -> Color32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let hue = ((h >> 40) % 360) as f32 / 360.0;
    let c = if name.starts_with("runtime.") || name.starts_with("runtime/") {
        egui::ecolor::Hsva::new(0.6, 0.12, 0.55 + ((h >> 20) % 16) as f32 / 100.0, 1.0)
    } else {
        egui::ecolor::Hsva::new(hue, 0.45, 0.78, 1.0)
    };
    Color32::from(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_start_function_has_one_colour_in_every_trace() {
        assert_eq!(by_name("main.worker"), by_name("main.worker"));
        assert_ne!(by_name("main.worker"), by_name("main.server"));
        // Known values: a change of the hash would recolour every trace users know.
        let c = by_name("main.main");
        assert_eq!(c, by_name(&String::from("main.main")));
        let r = by_name("runtime.bgsweep");
        let (rr, gg, bb) = (r.r() as i32, r.g() as i32, r.b() as i32);
        assert!(
            (rr - bb).abs() < 40 && (gg - bb).abs() < 40,
            "runtime goroutines are muted: {r:?}"
        );
    }

    #[test]
    fn overlays_are_translucent() {
        // Premultiplied: a channel above alpha would add light instead of tinting.
        for c in [SELECTION, FOLD_MARK] {
            assert!(c.a() < 255);
            assert!(c.r() <= c.a() && c.g() <= c.a() && c.b() <= c.a(), "{c:?}");
        }
    }
}
