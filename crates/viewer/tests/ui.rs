//! Viewer tests with egui_kittest: the real app state, driven by keys, pointer and AccessKit
//! queries — opening a trace, ribbons and lanes, WASD, shift-drag selection, clicking a span
//! for its stack, and a bad file.

use std::path::{Path, PathBuf};

use egui::{Modifiers, PointerButton, Pos2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use goscope_model::GState;
use goscope_viewer::GoscopeApp;
use goscope_viewer::lanes::{LaneMode, Row};
use goscope_viewer::timeline::Pick;

fn trace(name: &str) -> PathBuf {
    goscope_testdata::dir()
        .join("traces")
        .join(format!("{name}.trace"))
}

fn harness(path: Option<PathBuf>) -> Harness<'static, GoscopeApp> {
    let mut h = Harness::builder()
        .with_size(egui::Vec2::new(1400.0, 860.0))
        .with_max_steps(64)
        .build_eframe(move |cc| GoscopeApp::new(cc, path));
    wait_loaded(&mut h);
    h
}

/// How long a test waits on work in the background at most: jobs run at nice 19 (window
/// builds at 10), and a test run keeps both cores busy at 0, where such a thread gets
/// under 1 % of a core. The waits end as soon as the work does.
const BACKGROUND_WAIT: std::time::Duration = std::time::Duration::from_secs(300);

fn wait_loaded(h: &mut Harness<'static, GoscopeApp>) {
    let t0 = std::time::Instant::now();
    while t0.elapsed() < BACKGROUND_WAIT {
        if !h.state().is_loading() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
        h.step();
    }
    assert!(!h.state().is_loading(), "trace did not load");
    h.run_steps(3);
}

/// Steps the app until `done` holds (for background jobs), for at most `BACKGROUND_WAIT`.
fn step_until(
    h: &mut Harness<'static, GoscopeApp>,
    done: impl Fn(&Harness<'static, GoscopeApp>) -> bool,
    failure: &str,
) {
    let t0 = std::time::Instant::now();
    while t0.elapsed() < BACKGROUND_WAIT {
        if done(h) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
        h.step();
    }
    assert!(done(h), "{failure}");
}

fn span_ns(h: &Harness<'static, GoscopeApp>) -> f64 {
    h.state().doc.as_ref().unwrap().view.span_ns()
}

#[test]
fn opening_a_trace_shows_ribbons_and_proc_lanes() {
    let h = harness(Some(trace("gc-go127")));
    assert!(
        h.state().doc.is_some(),
        "no document: {:?}",
        h.state().error
    );
    for ribbon in [
        "Heap",
        "Goroutines",
        "Threads",
        "Network",
        "Syscalls",
        "Timers",
        "GC",
        "STW",
    ] {
        h.get_by_label(ribbon);
    }
    h.get_by_label("Proc 0");
    h.get_by_label("Proc 1");
    h.get_by_label_contains("Processors");
}

#[test]
fn w_and_s_zoom_a_and_d_pan() {
    let mut h = harness(Some(trace("basic-go127")));
    let full = span_ns(&h);
    h.key_down(egui::Key::W);
    h.run_steps(10);
    h.key_up(egui::Key::W);
    h.run_steps(1);
    let zoomed = span_ns(&h);
    assert!(
        zoomed < full * 0.95,
        "W did not zoom in: {full} -> {zoomed}"
    );

    let start = h.state().doc.as_ref().unwrap().view.start_ns;
    h.key_down(egui::Key::D);
    h.run_steps(10);
    h.key_up(egui::Key::D);
    h.run_steps(1);
    let moved = h.state().doc.as_ref().unwrap().view.start_ns;
    assert!(moved > start, "D did not pan right: {start} -> {moved}");
    h.key_down(egui::Key::A);
    h.run_steps(20);
    h.key_up(egui::Key::A);
    h.run_steps(1);
    assert!(
        h.state().doc.as_ref().unwrap().view.start_ns < moved,
        "A did not pan left"
    );

    h.key_down(egui::Key::S);
    h.run_steps(10);
    h.key_up(egui::Key::S);
    h.run_steps(1);
    assert!(span_ns(&h) > zoomed, "S did not zoom out");

    h.key_press(egui::Key::Backspace);
    h.run_steps(2);
    h.key_press(egui::Key::Home);
    h.run_steps(2);
    assert_eq!(span_ns(&h), full, "Home did not fit the trace");
}

/// A key pressed and released within one frame (a quick tap on a slow frame, a remote
/// desktop, xdotool) still moves the view, by a step: W about 15% in, S back out, D and A
/// an eighth of the width.
#[test]
fn tapped_keys_move_the_view_by_a_step() {
    let mut h = harness(Some(trace("basic-go127")));
    let tap = |h: &mut Harness<'static, GoscopeApp>, key: egui::Key| {
        for pressed in [true, false] {
            h.input_mut().events.push(egui::Event::Key {
                key,
                pressed,
                modifiers: Modifiers::NONE,
                repeat: false,
                physical_key: None,
            });
        }
        h.run_steps(2);
    };
    let full = span_ns(&h);
    tap(&mut h, egui::Key::W);
    let zoomed = span_ns(&h);
    let ratio = zoomed / full;
    assert!(
        (0.8..0.9).contains(&ratio),
        "a tap of W zoomed {full} -> {zoomed}"
    );
    let start = h.state().doc.as_ref().unwrap().view.start_ns;
    tap(&mut h, egui::Key::D);
    let moved = h.state().doc.as_ref().unwrap().view.start_ns - start;
    assert!(
        (0.1..0.15).contains(&(moved / zoomed)),
        "a tap of D moved {moved} ns of {zoomed}"
    );
    tap(&mut h, egui::Key::A);
    let back = h.state().doc.as_ref().unwrap().view.start_ns;
    assert!(
        (back - start).abs() < 1.0,
        "a tap of A went back to {back}, not {start}"
    );
    tap(&mut h, egui::Key::S);
    assert!(
        (span_ns(&h) - full).abs() < full * 1e-9,
        "a tap of S did not undo the tap of W"
    );
}

fn pointer_drag(h: &mut Harness<'static, GoscopeApp>, from: Pos2, to: Pos2, modifiers: Modifiers) {
    h.event(egui::Event::PointerMoved(from));
    h.step();
    h.event_modifiers(
        egui::Event::PointerButton {
            pos: from,
            button: PointerButton::Primary,
            pressed: true,
            modifiers,
        },
        modifiers,
    );
    h.step();
    for i in 1..=8 {
        let p = from + (to - from) * (i as f32 / 8.0);
        h.event_modifiers(egui::Event::PointerMoved(p), modifiers);
        h.step();
    }
    h.event_modifiers(
        egui::Event::PointerButton {
            pos: to,
            button: PointerButton::Primary,
            pressed: false,
            modifiers,
        },
        modifiers,
    );
    h.step();
    h.run_steps(2);
}

#[test]
fn shift_drag_selects_a_range_and_shows_its_duration() {
    let mut h = harness(Some(trace("net-go127")));
    let plot = h.state().doc.as_ref().unwrap().geometry.plot;
    let y = plot.top() + 300.0;
    let (x0, x1) = (plot.left() + 100.0, plot.left() + 500.0);
    pointer_drag(&mut h, Pos2::new(x0, y), Pos2::new(x1, y), Modifiers::SHIFT);
    let doc = h.state().doc.as_ref().unwrap();
    let (a, b) = doc.view.selection.expect("a selection");
    let expected = doc.view.span_ns() * 400.0 / plot.width() as f64;
    assert!(
        ((b - a) - expected).abs() < expected * 0.05,
        "selection {} vs {expected}",
        b - a
    );
    h.get_by_label_contains("Selection:");
    h.get_by_label("running");
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    assert!(
        h.state().doc.as_ref().unwrap().view.selection.is_none(),
        "Esc did not clear the selection"
    );
}

/// A selection too long to sum within a frame is summed in the background: the panel says
/// so meanwhile, then shows the same summary.
#[test]
fn a_long_selection_is_summed_in_the_background() {
    let mut h = harness(Some(trace("net-go127")));
    h.state_mut().doc.as_mut().unwrap().inline_summary_events = 0.0;
    let plot = h.state().doc.as_ref().unwrap().geometry.plot;
    let y = plot.top() + 300.0;
    let (x0, x1) = (plot.left() + 100.0, plot.left() + 500.0);
    pointer_drag(&mut h, Pos2::new(x0, y), Pos2::new(x1, y), Modifiers::SHIFT);
    let running = |h: &Harness<'static, GoscopeApp>| {
        h.query_by_label("running").is_some() && h.query_by_label_contains("Selection:").is_some()
    };
    step_until(&mut h, running, "the summary did not arrive");
    let doc = h.state().doc.as_ref().unwrap();
    let (a, b) = doc.view.selection.expect("a selection");
    let (key, job) = doc.selection_summary.as_ref().expect("a summary");
    assert_eq!(*key, (a.min(b), a.max(b)));
    assert!(
        matches!(job.slot, goscope_viewer::analyses::Slot::Done(Ok(_))),
        "the summary is shown before it is done"
    );
}

#[test]
fn clicking_the_stalled_span_shows_its_blocking_stack() {
    click_the_stalled_span(&[]);
}

/// A pan lays out half a view more on either side; later pans within that window draw the
/// kept layouts shifted, and a click must pick what is drawn under the pointer.
#[test]
fn a_span_is_picked_where_it_is_drawn_after_pans() {
    click_the_stalled_span(&[0.05, -0.03, 0.01]);
}

/// Frames the goroutine with the longest select wait, pans by each of `pans` (fractions of
/// the view, a frame each), clicks the middle of that wait and checks the panel shows it.
fn click_the_stalled_span(pans: &[f64]) {
    let mut h = harness(Some(trace("stall-go127")));
    // The goroutine with the longest select wait.
    let (gid, span_idx) = {
        let doc = h.state().doc.as_ref().unwrap();
        let m = &doc.trace.model;
        let select = m.interner.find("select").unwrap();
        m.goroutines
            .iter()
            .flat_map(|g| g.spans.iter().enumerate().map(move |(i, s)| (g.id, i, s)))
            .filter(|(_, _, s)| s.state == GState::Waiting && s.reason == select)
            .max_by_key(|(_, _, s)| s.duration_ns())
            .map(|(g, i, _)| (g, i))
            .unwrap()
    };
    // Show its lane, then click the middle of the span like a user would.
    {
        let doc = h.state_mut().doc.as_mut().unwrap();
        doc.mode = LaneMode::Goroutines;
        let t = doc
            .trace
            .model
            .goroutine(gid)
            .unwrap()
            .spans
            .at(span_idx)
            .start_ns;
        doc.jump_to_goroutine(gid, t);
        doc.selected = None;
    }
    h.run_steps(3);
    for &frac in pans {
        let view = &mut h.state_mut().doc.as_mut().unwrap().view;
        let d_ns = view.span_ns() * frac;
        view.start_ns += d_ns;
        view.end_ns += d_ns;
        h.step();
    }
    let (pos, expect_pick) = {
        let doc = h.state().doc.as_ref().unwrap();
        let gi = doc.trace.model.goroutine_index(gid).unwrap();
        let rect = doc
            .geometry
            .row_rect(&Row::Goroutine(gi))
            .expect("the lane is visible");
        let s = doc.trace.model.goroutines[gi].spans.at(span_idx);
        let mid = (s.start_ns + s.end_ns) as f64 / 2.0;
        let plot = doc.geometry.plot;
        let x = plot.left()
            + ((mid - doc.view.start_ns) / doc.view.span_ns() * plot.width() as f64) as f32;
        (
            Pos2::new(x, rect.center().y - 2.0),
            Pick::GSpan {
                g: gi,
                span: span_idx,
            },
        )
    };
    click_at(&mut h, pos);
    assert_eq!(h.state().doc.as_ref().unwrap().selected, Some(expect_pick));
    h.get_by_label_contains("End stack trace (where it blocked)");
    h.get_by_label("main.wait");
    h.get_by_label("runtime.selectgo");
    h.get_by_label_contains("State: waiting (select)");
}

/// A goroutine's lane shows its mark assists in a band along its top, as Go's goroutine
/// view does: clicking the band over the longest assist of the trace selects that range
/// on its P, and the panel names it; a click lower in the lane still picks the span.
#[test]
fn a_goroutine_lanes_top_band_shows_its_mark_assists() {
    let mut h = harness(Some(trace("gc-go127")));
    let (gi, assist) = {
        let m = &h.state().doc.as_ref().unwrap().trace.model;
        (0..m.goroutines.len())
            .flat_map(|gi| m.assists_of(gi).iter().map(move |a| (gi, *a)))
            .max_by_key(|(_, a)| a.end_ns - a.start_ns)
            .expect("the trace has mark assists")
    };
    {
        let doc = h.state_mut().doc.as_mut().unwrap();
        let g = doc.trace.model.goroutines[gi].id;
        doc.jump_to_goroutine_showing(g, assist.start_ns, assist.end_ns);
        doc.selected = None;
    }
    h.run_steps(3);
    let (rect, x) = {
        let doc = h.state().doc.as_ref().unwrap();
        let rect = (doc.geometry)
            .row_rect(&Row::Goroutine(gi))
            .expect("the lane is visible");
        let mid = (assist.start_ns + assist.end_ns) as f64 / 2.0;
        let plot = doc.geometry.plot;
        let x = plot.left()
            + ((mid - doc.view.start_ns) / doc.view.span_ns() * plot.width() as f64) as f32;
        (rect, x)
    };
    click_at(&mut h, Pos2::new(x, rect.top() + 2.0));
    let doc = h.state().doc.as_ref().unwrap();
    assert_eq!(
        doc.selected,
        Some(Pick::PWork {
            p: assist.p as usize,
            work: assist.work as usize,
        })
    );
    let p_id = doc.trace.model.procs[assist.p as usize].id;
    h.get_by_label(&format!("Proc {p_id}: GC mark assist"));
    click_at(&mut h, Pos2::new(x, rect.center().y + 2.0));
    assert!(
        matches!(
            h.state().doc.as_ref().unwrap().selected,
            Some(Pick::GSpan { g, .. }) if g == gi
        ),
        "a click below the band picks the goroutine's span"
    );
}

#[test]
fn a_bad_file_shows_an_error_and_keeps_the_open_trace() {
    let mut h = harness(Some(trace("timers-go125")));
    let dir = std::env::temp_dir().join(format!("goscope-ui-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("not-a-trace.out");
    std::fs::write(&bad, b"this is not a Go execution trace at all").unwrap();
    h.state_mut().open(&bad);
    wait_loaded(&mut h);
    h.get_by_label_contains("not a Go execution trace");
    let doc = h
        .state()
        .doc
        .as_ref()
        .expect("the previous trace stays open");
    assert!(doc.trace.path().ends_with("timers-go125.trace"));
    std::fs::remove_dir_all(&dir).ok();
}

/// A file dropped from the desktop, as the window system hands it over.
#[derive(Debug)]
struct Dropped(PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &Path {
        &self.0
    }
    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

/// Dropping a trace onto the window opens it, also while another is open.
#[test]
fn a_dropped_trace_opens_over_the_open_one() {
    let mut h = harness(Some(trace("timers-go125")));
    h.input_mut()
        .dropped_files
        .push(std::sync::Arc::new(Dropped(trace("stall-go127"))));
    h.step();
    h.input_mut().dropped_files.clear();
    wait_loaded(&mut h);
    let doc = h.state().doc.as_ref().expect("a trace is open");
    assert!(
        doc.trace.path().ends_with("stall-go127.trace"),
        "{}",
        doc.trace.path().display()
    );
    h.get_by_label("Proc 0");
}

#[test]
fn start_page_offers_open_and_path_field() {
    let mut h = Harness::builder()
        .with_size(egui::Vec2::new(1000.0, 700.0))
        .build_eframe(|cc| GoscopeApp::new(cc, None));
    h.run_steps(2);
    h.get_by_label("Open trace…");
    h.get_by_label_contains("drop a trace file");
    h.get_by_label("Open");
}

#[test]
fn question_mark_shows_help() {
    let mut h = harness(Some(trace("timers-go127")));
    h.event(egui::Event::Text("?".into()));
    h.run_steps(3);
    h.get_by_label_contains("zoom in / out around the mouse");
}

/// An image snapshot of the goroutine view of the stall trace, rendered by wgpu on Mesa's
/// software Vulkan (lavapipe; `.ci/run` installs it). Update with UPDATE_SNAPSHOTS=1.
#[test]
fn goroutine_view_snapshot() {
    let path = trace("stall-go127");
    let mut h = Harness::builder()
        .with_size(egui::Vec2::new(1200.0, 700.0))
        .with_max_steps(64)
        .wgpu()
        .build_eframe(move |cc| GoscopeApp::new(cc, Some(path)));
    wait_loaded(&mut h);
    h.state_mut().doc.as_mut().unwrap().mode = LaneMode::Goroutines;
    h.run_steps(4);
    // The top bar shows the load time, which differs from run to run.
    h.mask(egui::Rect::from_min_max(
        egui::Pos2::new(700.0, 0.0),
        egui::Pos2::new(1200.0, 24.0),
    ));
    h.snapshot("stall_goroutines");
}

#[test]
fn findings_window_lists_the_stall_first_and_jumps_to_it() {
    let (mut h, list) = findings_of("stall-go127");
    let title = list[0].title.clone();
    assert!(
        title.contains("select") && title.contains("main.wait"),
        "{title}"
    );
    h.get_by_label(&title).click();
    h.run_steps(3);
    let doc = h.state().doc.as_ref().unwrap();
    assert_eq!(doc.mode, LaneMode::Goroutines);
    let (g, s) = doc.selected_gspan().expect("the stalled span is selected");
    assert_eq!(doc.trace.model.string(g.start_fn), "main.stream");
    assert!(s.duration_ns() > 900_000_000);
    h.get_by_label("main.wait");
}

/// A finding that is more than the span it starts in (a mark assist over many spans of its
/// goroutine: it ran, parked in the assist, waited to run again) shows whole.
#[test]
fn a_finding_longer_than_its_first_span_is_shown_whole() {
    let (mut h, list) = findings_of("gc-go127");
    let f = list
        .iter()
        .find(|f| {
            f.kind == goscope_analysis::findings::FindingKind::MarkAssist
                && f.explanation.contains("off its P")
        })
        .expect("an assist that left its P")
        .clone();
    h.state_mut().doc.as_mut().unwrap().findings_view.filter = f.title.clone();
    h.run_steps(2);
    h.get_by_label(&f.title).click();
    h.run_steps(3);
    let doc = h.state().doc.as_ref().unwrap();
    let (_, s) = doc
        .selected_gspan()
        .expect("the span it begins in is selected");
    assert!(s.duration_ns() < f.end_ns - f.start_ns, "{s:?} {f:?}");
    let (a, b) = (doc.view.start_ns, doc.view.end_ns);
    assert!(
        a <= f.start_ns as f64 && b >= f.end_ns as f64,
        "view {a}..{b} for {}..{}",
        f.start_ns,
        f.end_ns
    );
}

/// Opens the Goroutine analysis tab and waits for the analyses it shows.
fn open_goroutine_analysis(h: &mut Harness<'static, GoscopeApp>) {
    h.get_by_label("Goroutine analysis").click();
    h.run_steps(2);
    wait_analyses(h);
}

/// The committed trace `name` open with the Findings tab shown, and its findings once they
/// have arrived.
fn findings_of(
    name: &str,
) -> (
    Harness<'static, GoscopeApp>,
    std::sync::Arc<Vec<goscope_analysis::findings::Finding>>,
) {
    let mut h = harness(Some(trace(name)));
    h.get_by_label("Findings").click();
    h.run_steps(3);
    let list = wait_findings(&mut h);
    h.run_steps(2);
    (h, list)
}

/// Steps until the background findings have arrived (at most `BACKGROUND_WAIT`); returns
/// them.
fn wait_findings(
    h: &mut Harness<'static, GoscopeApp>,
) -> std::sync::Arc<Vec<goscope_analysis::findings::Finding>> {
    let t0 = std::time::Instant::now();
    loop {
        let slot = h
            .state_mut()
            .doc
            .as_mut()
            .unwrap()
            .findings
            .as_mut()
            .expect("findings started");
        if let Some(f) = slot.get() {
            return f.clone();
        }
        assert_eq!(slot.failure(), None);
        assert!(
            t0.elapsed() < BACKGROUND_WAIT,
            "findings did not arrive (they run at nice 19, behind the other tests)"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
        h.run_steps(1);
    }
}

/// Moves the pointer to `at` and steps until `shown` holds (a tooltip shows once the
/// pointer has rested a moment), for at most 40 frames.
fn hover_until(
    h: &mut Harness<'static, GoscopeApp>,
    at: Pos2,
    shown: impl Fn(&Harness<'static, GoscopeApp>) -> bool,
) -> bool {
    h.event(egui::Event::PointerMoved(at));
    for _ in 0..40 {
        h.step();
        if shown(h) {
            return true;
        }
    }
    false
}

/// Steps until `shown` holds (for what background jobs bring), for at most
/// `BACKGROUND_WAIT`.
fn wait_until(
    h: &mut Harness<'static, GoscopeApp>,
    what: &str,
    shown: impl Fn(&Harness<'static, GoscopeApp>) -> bool,
) {
    let t0 = std::time::Instant::now();
    while t0.elapsed() < BACKGROUND_WAIT {
        if shown(h) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
        h.step();
    }
    panic!("{what} did not show");
}

/// Steps until a node labelled `label` shows.
fn wait_for_label(h: &mut Harness<'static, GoscopeApp>, label: &str) {
    wait_until(h, &format!("{label:?}"), |h| {
        h.query_by_label(label).is_some()
    });
}

/// Steps until a node whose label contains `part` shows.
fn wait_for_label_containing(h: &mut Harness<'static, GoscopeApp>, part: &str) {
    wait_until(h, &format!("a label containing {part:?}"), |h| {
        h.query_by_label_contains(part).is_some()
    });
}

/// Steps until the background analyses have arrived.
fn wait_analyses(h: &mut Harness<'static, GoscopeApp>) {
    let t0 = std::time::Instant::now();
    loop {
        let ready = h
            .state()
            .doc
            .as_ref()
            .and_then(|d| d.analyses.as_ref())
            .is_some_and(|s| s.is_done());
        if ready {
            break;
        }
        assert!(
            t0.elapsed() < BACKGROUND_WAIT,
            "the analyses did not finish (they run at nice 19, behind the other tests)"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
        h.step();
    }
    h.run_steps(3);
}

/// A press and release of the primary button at `pos`.
fn click_at(h: &mut Harness<'static, GoscopeApp>, pos: Pos2) {
    h.event(egui::Event::PointerMoved(pos));
    h.step();
    for pressed in [true, false] {
        h.event(egui::Event::PointerButton {
            pos,
            button: PointerButton::Primary,
            pressed,
            modifiers: Modifiers::NONE,
        });
        h.step();
    }
    h.run_steps(3);
}

/// The seed's story: Goroutines → the stream group → sort by select block time → the top
/// goroutine has ≈1 s → its focused timeline → click the long wait → its end stack shows
/// `main.wait` calling `runtime.selectgo`.
#[test]
fn story_goroutines_to_the_stalled_select() {
    let mut h = harness(Some(trace("stall-go127")));
    open_goroutine_analysis(&mut h);
    h.get_by_label("main.stream").click();
    h.run_steps(3);
    h.get_by_label_contains("Block time (select)").click();
    h.run_steps(3);
    let (gid, select_ns) = {
        let doc = h.state_mut().doc.as_mut().unwrap();
        let an = doc.analyses(&egui::Context::default()).unwrap().unwrap();
        let rows = doc.goroutines_view.visible_goroutines(&an);
        let top = rows[0];
        (
            top.id,
            top.stats.block_ns.get("select").copied().unwrap_or(0),
        )
    };
    assert!(
        (900_000_000..1_200_000_000).contains(&select_ns),
        "top row's select block time is {select_ns} ns"
    );
    // The table shows it, rounded as a duration.
    let shown = goscope_viewer::view::format_duration(select_ns as f64);
    h.get_all_by_label(&shown)
        .next()
        .expect("the top row's select time is shown");

    // Its focused timeline, from the row's context menu.
    h.get_by_label(&format!("G{gid}")).click_secondary();
    h.run_steps(2);
    h.get_by_label("Focused timeline").click();
    h.run_steps(3);
    let (pos, gi, span_idx) = {
        let doc = h.state().doc.as_ref().unwrap();
        assert_eq!(doc.mode, LaneMode::Goroutines);
        let focus = doc.focus.as_ref().expect("the timeline is focused");
        assert_eq!(focus[0], gid);
        assert!(
            focus.len() > 1,
            "the goroutines it interacted with are shown too"
        );
        let gi = doc.trace.model.goroutine_index(gid).unwrap();
        let (span_idx, s) = doc.trace.model.goroutines[gi]
            .spans
            .iter()
            .enumerate()
            .filter(|(_, s)| s.state == GState::Waiting)
            .max_by_key(|(_, s)| s.duration_ns())
            .unwrap();
        let rect = doc
            .geometry
            .row_rect(&Row::Goroutine(gi))
            .expect("the lane is visible");
        let plot = doc.geometry.plot;
        let mid = (s.start_ns + s.end_ns) as f64 / 2.0;
        let x = plot.left()
            + ((mid - doc.view.start_ns) / doc.view.span_ns() * plot.width() as f64) as f32;
        (Pos2::new(x, rect.center().y - 2.0), gi, span_idx)
    };
    click_at(&mut h, pos);
    assert_eq!(
        h.state().doc.as_ref().unwrap().selected,
        Some(Pick::GSpan {
            g: gi,
            span: span_idx
        })
    );
    h.get_by_label_contains("End stack trace (where it blocked)");
    let wait = h.get_by_label("main.wait").rect();
    let selectgo = h.get_by_label("runtime.selectgo").rect();
    assert!(
        selectgo.top() < wait.top(),
        "main.wait is listed as the caller of runtime.selectgo"
    );
}

/// Ctrl+F, a function name, Enter: the longest span blocked in it is selected and shown,
/// and its goroutine lane is highlighted. `p0` then shows the processor view.
#[test]
fn ctrl_f_finds_a_function_and_a_processor() {
    let mut h = harness(Some(trace("stall-go127")));
    h.key_press_modifiers(Modifiers::COMMAND, egui::Key::F);
    h.run_steps(2);
    h.get_by_label("Find");
    h.state_mut().doc.as_mut().unwrap().search.query = "main.wait".into();
    h.run_steps(2);
    h.get_by_label_contains("results");
    h.get_all_by_label_contains("— main.wait")
        .next()
        .expect("a span hit")
        .click();
    h.run_steps(3);
    {
        let doc = h.state().doc.as_ref().unwrap();
        assert_eq!(doc.mode, LaneMode::Goroutines);
        let (g, s) = doc.selected_gspan().expect("the matching span is selected");
        assert!(s.duration_ns() > 900_000_000, "the 1 s stall first");
        let m = doc.search.matches().expect("matches while the bar is open");
        assert!(m.goroutines.contains(&g.id));
    }
    h.state_mut().doc.as_mut().unwrap().search.query = "p0".into();
    h.run_steps(2);
    h.get_by_label("Processor P0").click();
    h.run_steps(2);
    assert_eq!(h.state().doc.as_ref().unwrap().mode, LaneMode::Procs);
}

/// Ctrl+F pressed and released, Ctrl included, within one frame (a quick chord, a remote
/// desktop, xdotool) opens the search: the key event says Ctrl was held even though it is
/// up again by the frame's end.
#[test]
fn a_chord_within_one_frame_opens_the_search() {
    let mut h = harness(Some(trace("stall-go127")));
    for pressed in [true, false] {
        h.input_mut().events.push(egui::Event::Key {
            key: egui::Key::F,
            pressed,
            modifiers: Modifiers::COMMAND,
            repeat: false,
            physical_key: None,
        });
    }
    h.run_steps(2);
    assert!(
        h.state().doc.as_ref().unwrap().search.open,
        "Ctrl+F did not open the search"
    );
    h.get_by_label("Find");
}

/// Types `query` into the open search bar a letter a frame (later letters come while
/// searches for earlier ones run), then steps until its results are in.
fn type_query_until_settled(h: &mut Harness<'static, GoscopeApp>, query: &str) {
    for (i, _) in query.char_indices().skip(1).chain([(query.len(), ' ')]) {
        h.state_mut().doc.as_mut().unwrap().search.query = query[..i].into();
        h.step();
    }
    let settled = |h: &Harness<'static, GoscopeApp>| {
        let s = &h.state().doc.as_ref().unwrap().search;
        !s.searching() && h.query_by_label_contains("results").is_some()
    };
    step_until(h, settled, "the search did not settle");
}

/// On a large trace the search runs in the background, one query at a time, and the bar
/// ends up with the matches of the query as last typed.
#[test]
fn searching_a_large_trace_runs_in_the_background() {
    let mut h = harness(Some(trace("stall-go127")));
    h.key_press_modifiers(Modifiers::COMMAND, egui::Key::F);
    h.run_steps(2);
    // Every trace is large here.
    h.state_mut().doc.as_mut().unwrap().search.inline_events = 0.0;
    type_query_until_settled(&mut h, "main.wait");
    let hits = h.get_all_by_label_contains("— main.wait").count();
    assert!(hits > 0, "no span of main.wait listed");
    assert_eq!(
        h.query_all_by_label_contains("— main.").count(),
        hits,
        "a shorter query's matches are listed"
    );
}

/// The seed's story, profiles: Profiles → Sync blocking → searching `main.wait` shows
/// ≈1 s, the stall of the one stalled stream goroutine.
#[test]
fn story_sync_profile_holds_the_stall_in_wait() {
    use goscope_analysis::pprof::ProfileKind;
    use goscope_viewer::flame::{FlameTree, match_text};
    let mut h = harness(Some(trace("stall-go127")));
    h.get_by_label("Profiles").click();
    h.run_steps(2);
    wait_analyses(&mut h);
    // Sync blocking is the kind shown first.
    h.get_by_label("Sync blocking");
    h.get_by_label("Search").focus();
    h.run_steps(1);
    h.get_by_label("Search").type_text("main.wait");
    // What the search must find: the stalled goroutine's second in main.wait.
    let expected = {
        let doc = h.state_mut().doc.as_mut().unwrap();
        let an = doc.analyses(&egui::Context::default()).unwrap().unwrap();
        let sync = an.profile(ProfileKind::Sync).unwrap();
        let tree = FlameTree::from_profile(sync, &an.stacks);
        let (_, found) = tree.search("main.wait");
        assert_eq!(found.frames, 1, "one stalled goroutine blocks in main.wait");
        assert!(
            (950_000_000..1_100_000_000).contains(&found.total_ns),
            "main.wait holds {} ns",
            found.total_ns
        );
        match_text("main.wait", found, tree.total_ns())
    };
    let mut shown = false;
    let t0 = std::time::Instant::now();
    while t0.elapsed() < BACKGROUND_WAIT {
        h.step();
        if h.query_by_label(&expected).is_some() {
            shown = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(shown, "the view shows {expected:?}");
}

/// "Find in the timeline" from a view (a right-click on a flame graph frame): the search bar
/// opens with the function and its longest span is shown.
#[test]
fn find_action_from_a_view_opens_search_and_shows_the_span() {
    let mut h = harness(Some(trace("stall-go127")));
    h.state_mut()
        .doc
        .as_mut()
        .unwrap()
        .apply(goscope_viewer::panels::Action::Find("main.wait".into()));
    h.run_steps(3);
    let doc = h.state().doc.as_ref().unwrap();
    assert!(doc.search.matches().is_some(), "the search bar is open");
    assert_eq!(doc.search.query, "main.wait");
    let (_, s) = doc.selected_gspan().expect("a matching span is selected");
    assert!(s.duration_ns() > 900_000_000);
    h.get_by_label("Find");
}

/// On a large trace a view's "find" searches in the background, once (not also in the
/// frame), and shows the first match when it is in.
#[test]
fn find_action_on_a_large_trace_searches_in_the_background() {
    let mut h = harness(Some(trace("stall-go127")));
    {
        let doc = h.state_mut().doc.as_mut().unwrap();
        doc.search.inline_events = 0.0;
        doc.apply(goscope_viewer::panels::Action::Find("main.wait".into()));
        assert!(
            doc.selected.is_none(),
            "nothing is searched before the bar runs"
        );
    }
    let t0 = std::time::Instant::now();
    while h.state().doc.as_ref().unwrap().selected.is_none() {
        assert!(
            t0.elapsed() < BACKGROUND_WAIT,
            "the first match was not shown (the search runs at nice 19)"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
        h.run_steps(1);
    }
    let doc = h.state().doc.as_ref().unwrap();
    assert!(!doc.search.searching());
    let (_, s) = doc.selected_gspan().expect("a matching span is selected");
    assert!(s.duration_ns() > 900_000_000);
}

/// Every committed trace, every lane mode and every dock tab render without a panic, and the
/// analyses finish (no "Analysis failed").
#[test]
fn every_trace_renders_every_view() {
    use goscope_viewer::app::Tab;
    let dir = goscope_testdata::dir().join("traces");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let p = e.ok()?.path();
            if p.extension()? != "trace" {
                return None;
            }
            Some(p.file_stem()?.to_string_lossy().to_string())
        })
        .collect();
    names.sort();
    assert!(names.len() >= 36, "{names:?}");
    for name in names {
        let mut h = harness(Some(trace(&name)));
        assert!(h.state().doc.is_some(), "{name}: {:?}", h.state().error);
        for mode in [LaneMode::Procs, LaneMode::Goroutines, LaneMode::Threads] {
            h.state_mut().doc.as_mut().unwrap().mode = mode;
            h.run_steps(2);
        }
        for tab in Tab::ALL {
            h.state_mut().doc.as_mut().unwrap().tab = Some(tab);
            h.run_steps(2);
            if tab == Tab::Goroutines {
                wait_analyses(&mut h);
            }
        }
        assert!(
            h.query_by_label_contains("Analysis failed").is_none(),
            "{name}: the analyses failed"
        );
        let doc = h.state_mut().doc.as_mut().unwrap();
        let an = doc.analyses(&egui::Context::default());
        assert!(matches!(an, Some(Ok(_))), "{name}: analyses did not finish");
    }
}

/// A running span's details say which P it ran on.
#[test]
fn a_running_span_shows_its_processor() {
    let mut h = harness(Some(trace("stall-go127")));
    let (pick, p) = {
        let doc = h.state().doc.as_ref().unwrap();
        let (gi, si, s) = doc
            .trace
            .model
            .goroutines
            .iter()
            .enumerate()
            .flat_map(|(gi, g)| g.spans.iter().enumerate().map(move |(si, s)| (gi, si, s)))
            .find(|(_, _, s)| s.state == GState::Running)
            .expect("a running span");
        (Pick::GSpan { g: gi, span: si }, s.p)
    };
    assert!(p >= 0);
    h.state_mut().doc.as_mut().unwrap().selected = Some(pick);
    h.run_steps(3);
    h.get_by_label(&format!("State: running on Proc {p}"));
}

/// Lane layouts are kept from frame to frame while the view stays, and made again when it
/// moves.
#[test]
fn lane_layouts_are_kept_while_the_view_stays() {
    let mut h = harness(Some(trace("mixed-go127")));
    h.run_steps(2);
    let kept = h.state().doc.as_ref().unwrap().geometry.lod.kept_lanes();
    assert!(kept >= 3, "the processor lanes' layouts are kept ({kept})");
    h.key_press(egui::Key::D);
    h.run_steps(2);
    let doc = h.state().doc.as_ref().unwrap();
    assert!(doc.geometry.lod.kept_lanes() >= 3);
}

/// `goscope TRACE` starts reading before the window exists; the window takes the load over
/// and shows the trace.
#[test]
fn a_load_started_before_the_window_shows_in_it() {
    let early = goscope_viewer::app::early_load(&trace("stall-go127"));
    let mut h = Harness::builder()
        .with_size(egui::Vec2::new(1400.0, 860.0))
        .with_max_steps(64)
        .build_eframe(move |cc| GoscopeApp::with_loader(cc, Some(early)));
    wait_loaded(&mut h);
    let doc = h.state().doc.as_ref().expect("the trace is open");
    assert!(doc.trace.path().ends_with("stall-go127.trace"));
    assert!(!doc.preview);
    h.get_by_label("Proc 0");
}

/// Zoomed out, a processor lane folds its many short spans; hovering the fold tells how busy
/// the processor was in the pixel column under the pointer.
#[test]
fn hovering_a_fold_shows_its_column_shares() {
    let mut h = harness(Some(trace("gc-go127")));
    let lane = {
        let doc = h.state().doc.as_ref().unwrap();
        assert_eq!(doc.mode, LaneMode::Procs);
        doc.geometry
            .rows
            .iter()
            .find(|(r, _)| matches!(r, Row::Proc(_)))
            .map(|(_, rect)| *rect)
            .expect("a processor lane")
    };
    let plot = h.state().doc.as_ref().unwrap().geometry.plot;
    let mut found = None;
    for k in 1..40 {
        let pos = Pos2::new(
            plot.left() + plot.width() * k as f32 / 40.0,
            lane.top() + lane.height() * 0.3,
        );
        h.event(egui::Event::PointerMoved(pos));
        h.run_steps(3);
        if let Some(n) = h.query_by_label_contains("% busy") {
            use egui_kittest::kittest::NodeT;
            let node = n.accesskit_node();
            found = Some(node.label().or_else(|| node.value()).unwrap_or_default());
            break;
        }
    }
    let text = found.expect("a fold with a busy share under some column");
    assert!(text.starts_with("here: "), "{text}");
    // Shares in whole percents that add up to about 100 (busy, and the rest "not in the
    // fold").
    let total: u32 = text
        .trim_start_matches("here: ")
        .split(" · ")
        .map(|p| p.split('%').next().unwrap().parse::<u32>().unwrap())
        .sum();
    assert!((98..=102).contains(&total), "{text}");
}

/// The start and end of goroutine `g`'s spans.
fn life_ns(h: &Harness<'static, GoscopeApp>, g: i64) -> (f64, f64) {
    let m = &h.state().doc.as_ref().unwrap().trace.model;
    let gr = m.goroutine(g).expect("the goroutine");
    let a = gr.first_ns();
    let b = gr.spans.last().map_or(a, |s| s.end_ns);
    (a as f64, b as f64)
}

fn view_ns(h: &Harness<'static, GoscopeApp>) -> (f64, f64) {
    let v = &h.state().doc.as_ref().unwrap().view;
    (v.start_ns, v.end_ns)
}

/// Whether the view shows `life` whole with at most a small margin around it.
fn frames(h: &Harness<'static, GoscopeApp>, (a, b): (f64, f64)) -> bool {
    let (v0, v1) = view_ns(h);
    v0 <= a && b <= v1 && (v1 - v0) <= (b - a) * 1.25
}

/// Sorted by Total, a click on a goroutine frames its whole life; sorted by a wait column,
/// it selects the longest span of that state. The goroutine's focused timeline keeps a
/// clicked span selected and frames the life around it; a search for `g21` frames it too.
#[test]
fn goroutine_links_frame_its_life_or_select_the_longest_wait() {
    let mut h = harness(Some(trace("stall-go127")));
    open_goroutine_analysis(&mut h);
    h.get_by_label("main.stream").click();
    h.run_steps(3);
    // The default sort is Total: the stalled goroutine (≈1 s) is on top.
    h.get_by_label("G21").click();
    h.run_steps(3);
    let (a, b) = life_ns(&h, 21);
    assert!(
        frames(&h, (a, b)),
        "the view {:?} frames G21's life {a}..{b}",
        view_ns(&h)
    );
    {
        let doc = h.state().doc.as_ref().unwrap();
        assert_eq!(doc.mode, LaneMode::Goroutines);
        assert_eq!(doc.selected, None, "no single span is picked");
    }

    // Sorted by the select wait: the click selects the longest select wait.
    h.get_by_label_contains("Block time (select)").click();
    h.run_steps(3);
    h.get_by_label("G21").click();
    h.run_steps(3);
    let (gi, longest) = {
        let m = &h.state().doc.as_ref().unwrap().trace.model;
        let gi = m.goroutine_index(21).unwrap();
        let longest = m.goroutines[gi]
            .spans
            .iter()
            .enumerate()
            .filter(|(_, s)| s.state == GState::Waiting)
            .max_by_key(|(_, s)| s.duration_ns())
            .map(|(i, _)| i)
            .unwrap();
        (gi, longest)
    };
    assert_eq!(
        h.state().doc.as_ref().unwrap().selected,
        Some(Pick::GSpan {
            g: gi,
            span: longest
        })
    );

    // Its focused timeline: the span stays selected, the view shows the whole life.
    h.state_mut()
        .doc
        .as_mut()
        .unwrap()
        .apply(goscope_viewer::panels::Action::Focus(21));
    h.run_steps(3);
    {
        let doc = h.state().doc.as_ref().unwrap();
        assert_eq!(
            doc.selected,
            Some(Pick::GSpan {
                g: gi,
                span: longest
            })
        );
        assert_eq!(doc.focus.as_ref().map(|f| f[0]), Some(21));
    }
    assert!(
        frames(&h, (a, b)),
        "the life {a}..{b} is in view {:?}",
        view_ns(&h)
    );

    // A search for the goroutine frames its life (its result is the goroutine's label).
    h.state_mut().doc.as_mut().unwrap().focus = None;
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    h.key_press_modifiers(Modifiers::COMMAND, egui::Key::F);
    h.run_steps(2);
    h.state_mut().doc.as_mut().unwrap().search.query = "g21".into();
    h.run_steps(2);
    {
        let v = &mut h.state_mut().doc.as_mut().unwrap().view;
        v.start_ns = a;
        v.end_ns = a + 1000.0;
    }
    h.run_steps(2);
    assert!(!frames(&h, (a, b)), "a deep zoom first");
    let label = h
        .state()
        .doc
        .as_ref()
        .unwrap()
        .trace
        .model
        .goroutine_label(21);
    {
        use egui_kittest::kittest::NodeT;
        // The lane's name has the same text; the result is the clickable one.
        h.get_all_by_label(&label)
            .find(|n| n.accesskit_node().role() != egui::accesskit::Role::Label)
            .expect("the search result")
            .click();
    }
    h.run_steps(3);
    assert!(
        frames(&h, (a, b)),
        "the search result frames G21's life: {:?}",
        view_ns(&h)
    );
}

/// A file holding only a trace header opens with a note that it has no events, not as a
/// silent empty timeline.
#[test]
fn a_header_only_trace_says_it_has_no_events() {
    let dir = std::env::temp_dir().join(format!("goscope-ui-empty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let empty = dir.join("header-only.trace");
    let header = std::fs::read(trace("stall-go127")).unwrap()[..16].to_vec();
    std::fs::write(&empty, header).unwrap();
    let h = harness(Some(empty.clone()));
    let doc = h.state().doc.as_ref().expect("it opens");
    assert!(doc.trace.model.has_no_activity());
    h.get_by_label_contains("This trace holds no events");
    h.get_by_label_contains("format go 1.26");
    std::fs::remove_dir_all(&dir).ok();
}

/// The window title names the open trace (and what is loading).
#[test]
fn the_window_title_names_the_trace() {
    let mut h = harness(None);
    assert_eq!(h.state().window_title(), "goscope");
    h.state_mut().open(&trace("stall-go127"));
    assert_eq!(
        h.state().window_title(),
        "stall-go127.trace (loading…) — goscope"
    );
    wait_loaded(&mut h);
    assert_eq!(h.state().window_title(), "stall-go127.trace — goscope");
}

/// The colour legend opens from the top bar and is part of `?`'s help.
#[test]
fn the_legend_opens_from_the_top_bar_and_in_help() {
    let mut h = harness(Some(trace("stall-go127")));
    assert!(h.query_by_label("Waiting, by reason").is_none());
    h.get_by_label("Legend").click();
    h.run_steps(2);
    h.get_by_label("Goroutine states");
    h.get_by_label("Waiting, by reason");
    h.get_by_label("chan receive");
    h.get_by_label_contains("share of time in each state");
    h.get_by_label("Legend").click();
    h.run_steps(2);
    assert!(h.query_by_label("Waiting, by reason").is_none());
    h.state_mut().show_help = true;
    h.run_steps(2);
    h.get_by_label("Keys and gestures");
    h.get_by_label("Waiting, by reason");
}

/// Hovering a ribbon shows its values at the pointer: heap allocated and goal, goroutines
/// by state, threads, arrivals in the pixel, and for GC and pauses what runs there.
#[test]
fn hovering_each_ribbon_shows_its_values() {
    use goscope_viewer::timeline::Ribbon;
    let mut h = harness(Some(trace("gc-go127")));
    let ribbons = h.state().doc.as_ref().unwrap().geometry.ribbons.clone();
    let plot = h.state().doc.as_ref().unwrap().geometry.plot;
    let expect = |r: Ribbon| -> &'static [&'static str] {
        match r {
            Ribbon::Heap => &["allocated ", "goal "],
            Ribbon::Goroutines => &["running ", "runnable "],
            Ribbon::Threads => &["in a syscall "],
            Ribbon::Network => &["network arrivals in this pixel"],
            Ribbon::Syscalls => &["syscall returns in this pixel"],
            Ribbon::Timers => &["timers fired in this pixel"],
            Ribbon::Gc => &["GC cycle "],
            Ribbon::Stw => &["stop-the-world"],
        }
    };
    for (r, rect) in ribbons {
        // GC and pauses are ranges: look for a column that holds one.
        let mut found = false;
        for k in 1..60 {
            let x = plot.left() + plot.width() * k as f32 / 60.0;
            found = hover_until(&mut h, Pos2::new(x, rect.center().y), |h| {
                expect(r)
                    .iter()
                    .all(|t| h.query_by_label_contains(t).is_some())
            });
            if found {
                break;
            }
            if !matches!(r, Ribbon::Gc | Ribbon::Stw) {
                break;
            }
        }
        assert!(found, "hovering {} shows {:?}", r.name(), expect(r));
    }
}

/// Ctrl+= and Ctrl+- scale the whole window's UI.
#[test]
fn ctrl_plus_and_minus_scale_the_ui() {
    let mut h = harness(Some(trace("stall-go127")));
    let before = h.ctx.zoom_factor();
    h.key_press_modifiers(Modifiers::COMMAND, egui::Key::Equals);
    h.run_steps(2);
    let larger = h.ctx.zoom_factor();
    assert!(larger > before, "{before} → {larger}");
    h.key_press_modifiers(Modifiers::COMMAND, egui::Key::Minus);
    h.run_steps(2);
    assert!(h.ctx.zoom_factor() < larger);
}

/// A task instance clicked in the Tasks tab is selected (its goroutines and regions in the
/// panel), outlined in the tasks lanes, and framed; overlapping tasks are on levels of
/// their own.
#[test]
fn a_task_clicked_in_the_tasks_tab_is_selected_and_framed() {
    let mut h = harness(Some(trace("annotations-go127")));
    let levels = goscope_viewer::lanes::task_levels(&h.state().doc.as_ref().unwrap().trace.model);
    assert!(
        levels.len() >= 4,
        "request and its three fetches are stacked"
    );
    h.get_by_label("Tasks & regions").click();
    h.run_steps(3);
    // The task statistics are summed in the background.
    wait_for_label(&mut h, "fetch");
    h.get_by_label("fetch").click();
    h.run_steps(3);
    wait_for_label(&mut h, "#3");
    h.get_by_label("#3").click();
    h.run_steps(4);
    let (i, a, b) = {
        let m = &h.state().doc.as_ref().unwrap().trace.model;
        let i = m.tasks.iter().position(|t| t.id == 3).unwrap();
        (
            i,
            m.tasks[i].start_ns.unwrap() as f64,
            m.tasks[i].end_ns.unwrap() as f64,
        )
    };
    {
        let doc = h.state().doc.as_ref().unwrap();
        assert_eq!(doc.selected, Some(Pick::Task(i)));
        assert_eq!(doc.mode, LaneMode::Procs);
        assert!(
            doc.geometry
                .rows
                .iter()
                .any(|(r, _)| matches!(r, Row::Tasks(_))),
            "the tasks lanes are shown"
        );
    }
    assert!(frames(&h, (a, b)), "the task is framed: {:?}", view_ns(&h));
    h.get_by_label_contains("Task fetch (3)");
    h.get_by_label_contains("Regions: ");
}

/// The group list shows each group's longest single wait; sorted by it, the group with the
/// stalled goroutine comes first, above runtime goroutines that idle through the trace.
#[test]
fn the_group_list_makes_the_long_wait_findable() {
    let mut h = harness(Some(trace("stall-go127")));
    open_goroutine_analysis(&mut h);
    h.get_by_label("Longest block").click();
    let t0 = std::time::Instant::now();
    while t0.elapsed() < BACKGROUND_WAIT {
        h.step();
        if h.query_by_label("…").is_none() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    h.run_steps(3);
    h.get_by_label("Longest block, sorted descending");
    let names = h
        .state()
        .doc
        .as_ref()
        .unwrap()
        .goroutines_view
        .group_names();
    // main.main waits ~1 s on the stream's result (sync), the stream ~1 s in select: both
    // above every runtime goroutine.
    let at = |n: &str| names.iter().position(|x| x == n).unwrap();
    assert!(at("main.stream") < 2 && at("main.main") < 2, "{names:?}");
}

/// Search finds tasks and walks its results with ↓ / ↑: each step shows that result.
#[test]
fn search_finds_tasks_and_arrow_keys_walk_the_results() {
    let mut h = harness(Some(trace("annotations-go127")));
    h.key_press_modifiers(Modifiers::COMMAND, egui::Key::F);
    h.run_steps(2);
    h.get_by_label("Find").type_text("fetch");
    h.run_steps(3);
    h.get_all_by_label_contains("Task fetch #")
        .next()
        .expect("the fetch tasks are results");
    let task_of = |h: &Harness<'static, GoscopeApp>| match h.state().doc.as_ref().unwrap().selected
    {
        Some(Pick::Task(i)) => Some(i),
        _ => None,
    };
    h.key_press(egui::Key::ArrowDown);
    h.run_steps(3);
    let second = task_of(&h).expect("↓ shows the second result, a task");
    h.key_press(egui::Key::ArrowDown);
    h.run_steps(3);
    let third = task_of(&h).expect("the third result");
    assert_ne!(second, third);
    h.key_press(egui::Key::ArrowUp);
    h.run_steps(3);
    assert_eq!(task_of(&h), Some(second), "↑ goes back");
}

/// Findings come in groups by kind with counts; a group folds away, and a filter narrows
/// the list.
#[test]
fn findings_are_grouped_collapsible_and_filterable() {
    let (mut h, list) = findings_of("stall-go127");
    let blocks = list
        .iter()
        .filter(|f| f.kind == goscope_analysis::findings::FindingKind::LongBlock)
        .count();
    let heading = format!("- Long blocks ({blocks})");
    h.get_by_label(&heading);
    h.get_by_label(&list[0].title);
    // Folded: the heading stays, its findings go.
    h.get_by_label(&heading).click();
    h.run_steps(2);
    h.get_by_label(&format!("+ Long blocks ({blocks})"));
    assert!(h.query_by_label(&list[0].title).is_none());
    h.get_by_label(&format!("+ Long blocks ({blocks})")).click();
    h.run_steps(2);
    // A filter that matches nothing empties the list; one that matches the stall keeps it.
    h.get_by_label("Filter").focus();
    h.run_steps(2);
    h.get_by_label("Filter").type_text("no such thing");
    h.run_steps(2);
    h.get_by_label_contains(&format!("0 of {} findings", list.len()));
    h.state_mut().doc.as_mut().unwrap().findings_view.filter = "main.wait".into();
    h.run_steps(2);
    h.get_by_label(&list[0].title);
}

/// With a trace open, Ctrl+O where no desktop portal answers shows the same fallback as
/// the start page: the note, a path field that completes directories and trace files, and
/// the recent files.
#[test]
fn ctrl_o_with_a_trace_open_offers_the_path_field_when_no_dialog_can_show() {
    let mut h = harness(Some(trace("stall-go127")));
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none()
        && std::env::var_os("WAYLAND_DISPLAY").is_none()
    {
        h.key_press_modifiers(Modifiers::COMMAND, egui::Key::O);
    } else {
        // A desktop session would show the real dialog; stand in for a portal that fails.
        h.state_mut().dialog_note =
            Some("The file dialog could not be shown. Type the trace's path below.".into());
    }
    h.run_steps(3);
    h.get_by_label("Open a trace");
    h.get_by_label_contains("Type the trace's path below");
    // Completion: the directory's traces that start with what is typed.
    let dir = trace("stall-go127").parent().unwrap().to_path_buf();
    let typed = format!("{}{}stall-go12", dir.display(), std::path::MAIN_SEPARATOR);
    h.state_mut().path_input = typed.clone();
    h.run_steps(2);
    let want = format!("{typed}5.trace");
    h.get_by_label(&want).click();
    h.run_steps(2);
    wait_loaded(&mut h);
    let doc = h.state().doc.as_ref().unwrap();
    assert!(doc.trace.path().ends_with("stall-go125.trace"));
    assert!(
        h.query_by_label("Open a trace").is_none(),
        "the window closes"
    );
}

#[test]
fn path_completion_lists_directories_and_traces() {
    let dir = trace("stall-go127")
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let sep = std::path::MAIN_SEPARATOR;
    let got = goscope_viewer::app::path_completions(&format!("{}{sep}tr", dir.display()));
    assert_eq!(got, vec![format!("{}{sep}traces{sep}", dir.display())]);
    let got = goscope_viewer::app::path_completions(&format!(
        "{}{sep}traces{sep}timers-go12",
        dir.display()
    ));
    assert_eq!(got.len(), 5, "{got:?}");
    assert!(got.iter().all(|p| p.ends_with(".trace")));
}

/// Nested regions get bands by depth: pointing at the band above a region's finds the
/// region nested in it.
#[test]
fn nested_regions_are_drawn_and_picked_by_depth() {
    let mut h = harness(Some(trace("annotations-go127")));
    let (g, outer, inner) = {
        let m = &h.state().doc.as_ref().unwrap().trace.model;
        let gr = m
            .goroutines
            .iter()
            .find(|g| g.regions.iter().any(|r| m.string(r.name) == "decode"))
            .expect("a goroutine with decode inside lookup");
        let find = |name: &str| {
            *gr.regions
                .iter()
                .find(|r| m.string(r.name) == name)
                .unwrap()
        };
        (gr.id, find("lookup"), find("decode"))
    };
    assert!(inner.depth > outer.depth);
    h.state_mut()
        .doc
        .as_mut()
        .unwrap()
        .jump_to_goroutine(g, inner.start_ns);
    {
        let v = &mut h.state_mut().doc.as_mut().unwrap().view;
        v.start_ns = outer.start_ns as f64;
        v.end_ns = outer.end_ns as f64;
    }
    h.run_steps(3);
    let (plot, lane) = {
        let doc = h.state().doc.as_ref().unwrap();
        let gi = doc.trace.model.goroutine_index(g).unwrap();
        (
            doc.geometry.plot,
            doc.geometry.row_rect(&Row::Goroutine(gi)).unwrap(),
        )
    };
    let (v0, v1) = view_ns(&h);
    let mid = (inner.start_ns + inner.end_ns) as f64 / 2.0;
    let x = plot.left() + ((mid - v0) / (v1 - v0)) as f32 * plot.width();
    // The band for the inner region's depth: 3 px per depth above the lane's bottom.
    let y = lane.bottom() - 3.0 * inner.depth as f32 - 1.5;
    let found = hover_until(&mut h, Pos2::new(x, y), |h| {
        h.query_by_label("region decode").is_some()
    });
    assert!(
        found,
        "hovering the depth-{} band shows the nested region",
        inner.depth
    );
    let below = Pos2::new(x, lane.bottom() - 3.0 * outer.depth as f32 - 1.5);
    let found = hover_until(&mut h, below, |h| {
        h.query_by_label("region lookup").is_some()
    });
    assert!(found, "the band below shows the outer region");
}

/// The Profiles tab's CPU kind: the trace's CPU samples as a flame graph, as many as Go's
/// parser prints; a trace without samples says how to record them.
#[test]
fn the_cpu_profile_shows_the_traces_samples() {
    let mut h = harness(Some(trace("cpu-go127")));
    h.get_by_label("Profiles").click();
    h.run_steps(2);
    wait_analyses(&mut h);
    h.get_by_label("CPU (samples)").click();
    h.run_steps(2);
    // 16 StackSample events in testdata/golden/cpu-go127.counts, 10 ms each.
    wait_for_label(&mut h, "160.000 ms in 16 samples");
    h.get_by_label("of CPU time, 10 ms a sample");
    // Its frames: the search finds main.matmul's 60 ms (go tool pprof -top: 60ms cum).
    h.get_by_label("Search").focus();
    h.run_steps(1);
    h.get_by_label("Search").type_text("main.matmul");
    wait_for_label_containing(&mut h, "main.matmul: ");
    let text = {
        use egui_kittest::kittest::NodeT;
        let found = h.get_by_label_contains("main.matmul: ");
        let node = found.accesskit_node();
        node.label().or_else(|| node.value()).unwrap_or_default()
    };
    assert!(text.ends_with(", 60.000 ms (38% of total)"), "{text}");

    let mut h = harness(Some(trace("basic-go127")));
    h.get_by_label("Profiles").click();
    h.run_steps(2);
    wait_analyses(&mut h);
    h.get_by_label("CPU (samples)").click();
    wait_for_label_containing(&mut h, "This trace has no CPU samples");
}

/// A table's header menu copies the whole table (every row, not only those on screen) as
/// CSV or TSV.
#[test]
fn a_tables_header_menu_copies_it_as_csv_and_tsv() {
    let mut h = harness(Some(trace("stall-go127")));
    open_goroutine_analysis(&mut h);
    let groups = {
        let doc = h.state_mut().doc.as_mut().unwrap();
        let an = doc.analyses(&egui::Context::default()).unwrap().unwrap();
        goscope_viewer::goroutines::group_rows(&an).len()
    };
    let copied = |h: &Harness<'static, GoscopeApp>| {
        h.output()
            .platform_output
            .commands
            .iter()
            .find_map(|c| match c {
                egui::OutputCommand::CopyText(t) => Some(t.clone()),
                _ => None,
            })
    };
    for (item, sep) in [("Copy table as CSV", ','), ("Copy table as TSV", '\t')] {
        h.get_by_label_contains("Start function").click_secondary();
        h.run_steps(2);
        h.get_by_label(item).click();
        h.step();
        let text = copied(&h).unwrap_or_else(|| panic!("{item}: nothing copied"));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            [
                "Start function",
                "Count",
                "Execution",
                "Blocked",
                "Longest block"
            ]
            .join(&sep.to_string())
        );
        assert_eq!(lines.len(), groups + 1, "{item}: a line a group\n{text}");
        assert!(text.contains("main.stream"), "{text}");
        h.run_steps(2);
    }
}

/// Backspace goes back to the previous view and Shift+Backspace forward again; the mouse's
/// back and forward buttons do the same; a new move forgets the way forward.
#[test]
fn backspace_goes_back_and_shift_backspace_forward() {
    let mut h = harness(Some(trace("stall-go127")));
    h.run_steps(2);
    let whole = view_ns(&h);
    h.key_press(egui::Key::W);
    h.run_steps(2);
    let zoomed = view_ns(&h);
    assert!(zoomed.1 - zoomed.0 < whole.1 - whole.0, "W zoomed in");
    h.key_press(egui::Key::Backspace);
    h.run_steps(2);
    assert_eq!(view_ns(&h), whole, "Backspace went back");
    h.key_press_modifiers(Modifiers::SHIFT, egui::Key::Backspace);
    h.run_steps(2);
    assert_eq!(view_ns(&h), zoomed, "Shift+Backspace went forward");
    let button = |h: &mut Harness<'static, GoscopeApp>, button: PointerButton| {
        let pos = Pos2::new(800.0, 500.0);
        for pressed in [true, false] {
            h.event(egui::Event::PointerButton {
                pos,
                button,
                pressed,
                modifiers: Modifiers::NONE,
            });
            h.step();
        }
        h.run_steps(2);
    };
    button(&mut h, PointerButton::Extra1);
    assert_eq!(view_ns(&h), whole, "the back button went back");
    button(&mut h, PointerButton::Extra2);
    assert_eq!(view_ns(&h), zoomed, "the forward button went forward");
    // Back, then a new move: nothing to go forward to.
    h.key_press(egui::Key::Backspace);
    h.key_press(egui::Key::D);
    h.run_steps(2);
    let moved = view_ns(&h);
    h.key_press_modifiers(Modifiers::SHIFT, egui::Key::Backspace);
    h.run_steps(2);
    assert_eq!(view_ns(&h), moved);
}

/// The details panel of a goroutine's span shows its family: the goroutines that created
/// it up the chain, and those it created counted per start function; a link frames that
/// goroutine's life.
#[test]
fn the_family_section_lists_creators_and_children_and_links_to_them() {
    let mut h = harness(Some(trace("stall-go127")));
    h.run_steps(2);
    // The goroutine with the most children, and one of them.
    let (gi, label, child, child_fn, n_same) = {
        let m = &h.state().doc.as_ref().unwrap().trace.model;
        let gi = (0..m.goroutines.len())
            .max_by_key(|&gi| m.children(gi).len())
            .unwrap();
        let kids = m.children(gi);
        assert!(kids.len() >= 2, "a goroutine with children");
        let child = &m.goroutines[kids[0] as usize];
        let same = kids
            .iter()
            .filter(|&&k| m.goroutines[k as usize].start_fn == child.start_fn)
            .count();
        let f = m.string(child.start_fn).to_string();
        (gi, m.goroutine_label(child.id), child.id, f, same)
    };
    {
        let doc = h.state_mut().doc.as_mut().unwrap();
        doc.selected = Some(Pick::GSpan { g: gi, span: 0 });
    }
    h.run_steps(2);
    h.get_by_label_contains("Family: ").click();
    h.run_steps(2);
    h.get_by_label(&format!("{child_fn} × {n_same}")).click();
    h.run_steps(2);
    h.get_by_label(&label).click();
    h.run_steps(3);
    assert!(frames(&h, life_ns(&h, child)), "the child's life is framed");
    // The child's own panel names its creator first.
    let creator = {
        let m = &h.state().doc.as_ref().unwrap().trace.model;
        m.goroutine_label(m.goroutines[gi].id)
    };
    let ci = h
        .state()
        .doc
        .as_ref()
        .unwrap()
        .trace
        .model
        .goroutine_index(child)
        .unwrap();
    h.state_mut().doc.as_mut().unwrap().selected = Some(Pick::GSpan { g: ci, span: 0 });
    h.run_steps(2);
    h.get_by_label_contains("Family: ").click();
    h.run_steps(2);
    h.get_by_label("Created by, nearest first");
    use egui_kittest::kittest::{NodeT, Queryable};
    assert!(
        h.query_all_by_label(&creator)
            .any(|n| n.accesskit_node().role() == egui::accesskit::Role::Link),
        "a link to {creator}"
    );
}

/// A fresh directory for one capture test's files.
fn capture_dir(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("goscope-ui-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Where each generation of a trace ends (file offsets).
fn generation_ends(bytes: &[u8]) -> Vec<usize> {
    goscope_trace::batch::scan(bytes)
        .unwrap()
        .generations
        .iter()
        .map(|g| g.end_offset as usize)
        .collect()
}

/// The `{:?}` of the model of `bytes`, the form the model tests compare models in.
fn model_dump(bytes: &[u8]) -> String {
    format!("{:?}", goscope_model::build(bytes).unwrap())
}

/// An app capturing from `server` into `dir` (the dialog's Capture, without the typing).
fn capturing_app(
    server: &goscope_testdata::server::TraceServer,
    dir: &Path,
    seconds: u32,
) -> Harness<'static, GoscopeApp> {
    let mut h = harness(None);
    h.state_mut().capture_form.dir = dir.display().to_string();
    h.state_mut().capture_form.address = server.url();
    h.state_mut().capture_form.seconds = seconds;
    let target = h.state().capture_form.target().unwrap();
    h.state_mut().start_capture(target);
    h.run_steps(2);
    h
}

/// While a capture arrives generation by generation (a test server letting one more out
/// each time), the window shows each as soon as it is complete, and what it shows is
/// exactly the model of the bytes of the complete generations; once the capture ends the
/// file equals the bytes served, and it is the open trace, a recent file and the title.
#[test]
fn a_capture_shows_each_generation_as_it_completes() {
    use goscope_testdata::server::TraceServer;
    // Format 26 (an end-of-generation marker) and 23 (a generation ends where the next
    // begins).
    for name in ["stall-go127", "stall-go123"] {
        let bytes = goscope_testdata::trace_bytes(name);
        let ends = generation_ends(&bytes);
        assert!(ends.len() >= 2, "{name}");
        let server = TraceServer::gated_trace(bytes.clone(), 1000);
        let dir = capture_dir(&format!("capture-{name}"));
        let mut h = capturing_app(&server, &dir, 2);
        let port = server.url().rsplit(':').next().unwrap().to_string();
        assert_eq!(
            h.state().window_title(),
            format!("capturing… 127.0.0.1:{port} — goscope")
        );
        h.get_by_label_contains("Capturing http://127.0.0.1:");
        for (k, &end) in ends[..ends.len() - 1].iter().enumerate() {
            // The generation and the first bytes of the next one (before format 26 a
            // generation is complete only once the next begins).
            server.allow(end + 40);
            server.wait_sent(end + 40);
            step_until(
                &mut h,
                |h| {
                    !h.state().is_loading()
                        && h.state()
                            .doc
                            .as_ref()
                            .is_some_and(|d| d.trace.model.generations == k + 1)
                },
                &format!("{name}: generation {} is shown", k + 1),
            );
            let doc = h.state().doc.as_ref().unwrap();
            let shown = doc.trace.file.bytes();
            assert!(
                shown == &bytes[..end],
                "{name}: {} bytes shown, the prefix is {end}",
                shown.len()
            );
            assert!(
                format!("{:?}", doc.trace.model) == model_dump(&bytes[..end]),
                "{name}: the model after generation {} is the model of its prefix",
                k + 1
            );
            assert!(h.state().capturing.is_some(), "{name}: still capturing");
        }
        server.allow(usize::MAX);
        step_until(
            &mut h,
            |h| h.state().capturing.is_none() && !h.state().is_loading(),
            &format!("{name}: the capture ends"),
        );
        let path = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .next()
            .expect("a capture file");
        let file_name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            file_name.starts_with("127.0.0.1-") && file_name.ends_with("Z.trace"),
            "{file_name}"
        );
        assert!(std::fs::read(&path).unwrap() == bytes, "{name}: the file");
        let doc = h.state().doc.as_ref().unwrap();
        assert_eq!(doc.trace.path(), path);
        assert!(!doc.preview);
        assert!(
            format!("{:?}", doc.trace.model) == model_dump(&bytes),
            "{name}: whole"
        );
        assert_eq!(h.state().recent[0], path.canonicalize().unwrap());
        assert_eq!(h.state().window_title(), format!("{file_name} — goscope"));
        assert_eq!(h.state().capture_form.addresses[0], server.url());
        assert!(h.state().capture_error.is_none());
        std::fs::remove_dir_all(&dir).ok();
    }
}

/// Stop in the middle of a generation keeps every byte received in the file, which opens
/// with its complete generations, as a cut trace does.
#[test]
fn stop_keeps_the_complete_generations() {
    use goscope_testdata::server::TraceServer;
    let bytes = goscope_testdata::trace_bytes("stall-go127");
    let ends = generation_ends(&bytes);
    let server = TraceServer::gated_trace(bytes.clone(), 700);
    let upto = ends[0] + 300;
    server.allow(upto);
    let dir = capture_dir("capture-stop");
    let mut h = capturing_app(&server, &dir, 5);
    server.wait_sent(upto);
    step_until(
        &mut h,
        |h| {
            !h.state().is_loading()
                && h.state().doc.is_some()
                && h.state()
                    .capturing
                    .as_ref()
                    .unwrap()
                    .progress()
                    .received_bytes
                    == upto as u64
        },
        "the first generation is shown and the rest received",
    );
    h.get_by_label("Stop").click();
    step_until(
        &mut h,
        |h| h.state().capturing.is_none() && !h.state().is_loading(),
        "the capture stops",
    );
    let doc = h.state().doc.as_ref().unwrap();
    let saved = std::fs::read(doc.trace.path()).unwrap();
    assert!(
        saved == bytes[..upto],
        "{} bytes kept of {upto}",
        saved.len()
    );
    let model = &doc.trace.model;
    assert_eq!(model.generations, 1);
    assert!(model.warning.is_some(), "opened as a cut trace");
    assert_eq!(format!("{model:?}"), model_dump(&saved));
    let first = goscope_model::build(&bytes[..ends[0]]).unwrap();
    assert_eq!(
        model.events, first.events,
        "the complete generation's events"
    );
    h.get_by_label_contains("Partial trace: showing the 1 complete generation(s).");
    server.allow(usize::MAX);
    std::fs::remove_dir_all(&dir).ok();
}

/// Each way a capture fails shows its own message in the window, and leaves no file.
#[test]
fn a_failed_capture_says_why() {
    use goscope_testdata::server::TraceServer;
    let closed_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let servers = [
        (
            Some(TraceServer::status(404, "404 page not found")),
            "is net/http/pprof imported and served on this port?",
        ),
        (
            Some(TraceServer::status(
                400,
                "profile duration exceeds server's WriteTimeout",
            )),
            "400 Bad Request: the duration of 3 s reaches the server's WriteTimeout",
        ),
        (
            Some(TraceServer::status(
                500,
                "Could not enable tracing: tracing is already enabled",
            )),
            "because another trace is running",
        ),
        (
            None,
            "(connection refused): is the program listening on 127.0.0.1:",
        ),
    ];
    for (server, want) in servers {
        let dir = capture_dir("capture-fail");
        let mut h = harness(None);
        h.state_mut().capture_form.dir = dir.display().to_string();
        h.state_mut().capture_form.address = match &server {
            Some(s) => s.url(),
            None => format!("127.0.0.1:{closed_port}"),
        };
        h.state_mut().capture_form.seconds = 3;
        let target = h.state().capture_form.target().unwrap();
        h.state_mut().start_capture(target);
        step_until(
            &mut h,
            |h| h.state().capture_error.is_some(),
            &format!("an error for {want}"),
        );
        h.run_steps(2);
        h.get_by_label_contains(want);
        h.get_by_label_contains("Capture: ");
        assert!(h.state().doc.is_none());
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "no file left");
        std::fs::remove_dir_all(&dir).ok();
    }
}

/// Ctrl+Shift+O (not Ctrl+O), File › Capture… and the start page open the Capture dialog;
/// its Capture button starts the capture with what the fields say.
#[test]
fn the_capture_dialog_opens_from_keys_menu_and_start_page() {
    use goscope_testdata::server::TraceServer;
    let mut h = harness(None);
    h.get_by_label("Capture from a running program…").click();
    h.run_steps(2);
    h.get_by_label("Capture from a running program");
    h.state_mut().show_capture = false;
    h.run_steps(2);
    // The chord within one frame, as xdotool sends it: the modifiers are in the event only.
    for pressed in [true, false] {
        h.input_mut().events.push(egui::Event::Key {
            key: egui::Key::O,
            physical_key: None,
            pressed,
            repeat: false,
            modifiers: Modifiers::COMMAND | Modifiers::SHIFT,
        });
    }
    h.run_steps(2);
    assert!(h.state().show_capture, "Ctrl+Shift+O opens the dialog");
    assert!(h.state().dialog_note.is_none(), "and not the Open dialog");
    h.get_by_label("Capture from a running program");
    h.get_by_label_contains("GET http://localhost:6060/debug/pprof/trace?seconds=5");

    let server = TraceServer::trace(goscope_testdata::trace_bytes("timers-go127"), 4096);
    let dir = capture_dir("capture-dialog");
    h.state_mut().capture_form.dir = dir.display().to_string();
    h.state_mut().capture_form.address = server.url();
    h.state_mut().capture_form.headers = "Authorization: Bearer xyz".into();
    h.run_steps(2);
    h.get_by_label("Capture").click();
    h.run_steps(2);
    assert!(!h.state().show_capture, "the dialog closes");
    step_until(
        &mut h,
        |h| h.state().capturing.is_none() && h.state().doc.is_some() && !h.state().is_loading(),
        "the capture ends and opens",
    );
    let head = &server.requests()[0];
    assert!(
        head.starts_with("GET /debug/pprof/trace?seconds=5 "),
        "{head}"
    );
    assert!(head.contains("authorization: Bearer xyz"), "{head}");
    std::fs::remove_dir_all(&dir).ok();

    // Ctrl+O is still Open, not Capture.
    let mut h = harness(None);
    h.key_press_modifiers(Modifiers::COMMAND, egui::Key::O);
    h.run_steps(2);
    assert!(!h.state().show_capture);
}

/// A trace with a clock snapshot (Go 1.25+) shows when it started, and its axis can count
/// wall-clock time; an older trace offers neither.
#[test]
fn the_wall_clock_start_shows_in_the_top_bar() {
    let mut h = harness(Some(trace("stall-go127")));
    h.state_mut().doc.as_mut().unwrap().view.clock = goscope_viewer::view::AxisClock::Utc;
    h.run_steps(2);
    // Go prints the snapshot as Wall=2026-11-26T14:30:10.242978237Z; the first event is
    // 28.5 µs before it.
    h.get_by_label_contains("started 2026-11-26 14:30:10 UTC");
    let h = harness(Some(trace("stall-go123")));
    assert!(h.query_by_label_contains("started ").is_none());
}

/// Opening another trace while a capture arrives shows that trace; the capture goes on into
/// its file, which joins the recent files when it ends, and does not take the window back.
#[test]
fn opening_a_trace_during_a_capture_keeps_it_open() {
    use goscope_testdata::server::TraceServer;
    let bytes = goscope_testdata::trace_bytes("stall-go127");
    let ends = generation_ends(&bytes);
    let server = TraceServer::gated_trace(bytes.clone(), 1000);
    server.allow(ends[0] + 40);
    let dir = capture_dir("capture-open");
    let mut h = capturing_app(&server, &dir, 5);
    step_until(
        &mut h,
        |h| !h.state().is_loading() && h.state().doc.is_some(),
        "the first generation is shown",
    );
    h.state_mut().open(&trace("timers-go127"));
    wait_loaded(&mut h);
    assert_eq!(h.state().window_title(), "timers-go127.trace — goscope");
    server.allow(usize::MAX);
    step_until(
        &mut h,
        |h| h.state().capturing.is_none() && !h.state().is_loading(),
        "the capture ends",
    );
    let doc = h.state().doc.as_ref().unwrap();
    assert!(
        doc.trace.path().ends_with("timers-go127.trace"),
        "the opened trace stays"
    );
    let path = std::fs::read_dir(&dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert!(
        std::fs::read(&path).unwrap() == bytes,
        "the capture's file is whole"
    );
    assert_eq!(h.state().recent[0], path.canonicalize().unwrap());
    std::fs::remove_dir_all(&dir).ok();
}

/// The Utilization tab's heatmap: a click on a cell shows that slice of time in the
/// timeline; hovering a cell names its processor, its time and its busy share.
#[test]
fn a_click_on_the_heatmap_shows_that_time() {
    let mut h = harness(Some(trace("gc-go127")));
    h.get_by_label("Utilization").click();
    wait_for_label_containing(&mut h, "Processor utilization heatmap");
    let map = h
        .get_by_label_contains("Processor utilization heatmap")
        .rect();
    // The 50th of 200 slices of the first processor's row (names take 70 pt at the left,
    // totals 56 at the right).
    let grid_w = map.width() - 70.0 - 56.0;
    let k = 50;
    let pos = Pos2::new(
        map.left() + 70.0 + grid_w * (k as f32 + 0.5) / 200.0,
        map.top() + 9.0,
    );
    assert!(
        hover_until(&mut h, pos, |h| h
            .query_by_label_contains("% busy")
            .is_some_and(|n| format!("{n:?}").contains("Proc "))),
        "a cell's tooltip"
    );
    click_at(&mut h, pos);
    let (start, end) = {
        let m = &h.state().doc.as_ref().unwrap().trace.model;
        let w = (m.end_ns - m.start_ns) as f64 / 200.0;
        (
            m.start_ns as f64 + w * k as f64,
            m.start_ns as f64 + w * (k + 1) as f64,
        )
    };
    let (v0, v1) = view_ns(&h);
    assert!(v0 <= start && end <= v1, "the slice is in view");
    assert!(
        v1 - v0 < (end - start) * 1.5,
        "and framed: {v0}..{v1} for {start}..{end}"
    );
}

/// The goroutine table's "waits on" filter narrows a group to the goroutines that waited
/// on that (read from the stack where they blocked): here the HTTP server's connections
/// that waited for a request.
#[test]
fn a_tag_filter_narrows_the_goroutine_table() {
    use goscope_model::Tag;
    let group = "net/http.(*conn).serve";
    let mut h = group_table("mixed-go127", group);
    let rows = shown_goroutines;
    let all = rows(&mut h);
    assert!(all.len() >= 2, "{group} has goroutines: {all:?}");
    // Pick "sync.Mutex" in the combo box: few of the connections waited on one...
    pick_in_combo(&mut h, "waits on", Tag::Mutex.name());
    let expected = |h: &Harness<'static, GoscopeApp>, tag: Tag| {
        let m = &h.state().doc.as_ref().unwrap().trace.model;
        all.iter()
            .copied()
            .filter(|&id| {
                m.goroutine(id)
                    .is_some_and(|g| g.spans.iter().any(|s| m.span_tag(&s) == Some(tag)))
            })
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
    };
    let mut mutex = rows(&mut h);
    mutex.sort();
    assert_eq!(mutex, expected(&h, Tag::Mutex));
    assert!(mutex.len() < all.len(), "the filter narrows the group");
    // ...and each waited for its request.
    pick_in_combo(&mut h, "waits on", Tag::HttpServerRead.name());
    let mut read = rows(&mut h);
    read.sort();
    assert_eq!(read, expected(&h, Tag::HttpServerRead));
    assert!(!read.is_empty(), "connections waited for requests");
}

/// Opens the combo box labelled `combo` and clicks its option `option` with the pointer.
fn pick_in_combo(h: &mut Harness<'static, GoscopeApp>, combo: &str, option: &str) {
    h.get_by_label(combo).click();
    h.run_steps(2);
    let at = h.get_by_label(option).rect().center();
    click_at(h, at);
}

/// "Where it ran and waited" in a goroutine's details shows its CPU profile (its own
/// samples only) beside where it blocked; "Whole trace" goes back to every goroutine's.
#[test]
fn a_goroutines_cpu_profile_shows_beside_where_it_waited() {
    let mut h = harness(Some(trace("cpu-go127")));
    h.get_by_label("Profiles").click();
    h.run_steps(2);
    wait_analyses(&mut h);
    // The goroutine with the most CPU samples.
    let (gi, id, samples) = {
        let m = &h.state().doc.as_ref().unwrap().trace.model;
        let mut counts = std::collections::BTreeMap::new();
        for s in &m.cpu_samples {
            *counts.entry(s.g).or_insert(0usize) += 1;
        }
        let (&id, &n) = counts
            .iter()
            .filter(|(g, _)| **g >= 0)
            .max_by_key(|(_, n)| **n)
            .unwrap();
        (m.goroutine_index(id).unwrap(), id, n)
    };
    assert!(
        samples < 16,
        "some of the trace's 16 samples are another goroutine's"
    );
    h.state_mut().doc.as_mut().unwrap().selected = Some(Pick::GSpan { g: gi, span: 0 });
    h.run_steps(2);
    h.get_by_label("Where it ran and waited").click();
    h.run_steps(2);
    wait_for_label_containing(&mut h, &format!("{samples} samples"));
    h.get_by_label_contains(&format!("Only G{id} "));
    h.get_by_label("On CPU: where it ran");
    h.get_by_label("Off CPU: where it waited");
    h.get_by_label(&format!("{}.000 ms in {samples} samples", samples * 10));
    h.get_by_label("Whole trace").click();
    h.run_steps(2);
    wait_for_label(&mut h, "160.000 ms in 16 samples");
    assert!(h.query_by_label("Off CPU: where it waited").is_none());
}

/// The histogram over a group's goroutine table: a click on a bar shows only the goroutines
/// whose sorted column (Total here) falls in that bucket, Shift+click extends to a range of
/// buckets, a click on the only selected bar shows them all again.
#[test]
fn a_histogram_bin_selection_filters_the_goroutine_table() {
    use goscope_analysis::tasks::Histogram;
    let group = "net/http.(*conn).serve";
    let mut h = group_table("mixed-go127", group);
    let (ids_totals, rows) = {
        let doc = h.state_mut().doc.as_mut().unwrap();
        let an = doc.analyses(&egui::Context::default()).unwrap().unwrap();
        let all: Vec<(i64, i64)> = an
            .summary
            .goroutines
            .iter()
            .filter(|g| g.name == group)
            .map(|g| (g.id, g.stats.total_ns))
            .collect();
        let rows = doc.goroutines_view.visible_goroutines(&an).len();
        (all, rows)
    };
    assert_eq!(rows, ids_totals.len());
    let hist = Histogram::of(&ids_totals.iter().map(|x| x.1).collect::<Vec<_>>());
    let n = hist.counts.len();
    // The fullest bucket and its neighbour to the right.
    let b = (0..n).max_by_key(|&b| hist.counts[b]).unwrap();
    let strip = h.get_by_label_contains("histogram, ").rect();
    let bar = |k: usize| {
        Pos2::new(
            strip.left() + strip.width() * (k as f32 + 0.5) / n as f32,
            strip.bottom() - 14.0,
        )
    };
    let shown = |h: &mut Harness<'static, GoscopeApp>| {
        let mut ids = shown_goroutines(h);
        ids.sort();
        ids
    };
    let in_buckets = |lo: usize, hi: usize| {
        let mut ids: Vec<i64> = ids_totals
            .iter()
            .filter(|(_, t)| hist.bucket_of(*t).is_some_and(|k| (lo..=hi).contains(&k)))
            .map(|x| x.0)
            .collect();
        ids.sort();
        ids
    };
    click_at(&mut h, bar(b));
    let one = shown(&mut h);
    assert_eq!(one, in_buckets(b, b));
    assert_eq!(one.len(), hist.counts[b]);
    assert!(one.len() < ids_totals.len(), "the bucket narrows the table");
    if b + 1 < n {
        let at = bar(b + 1);
        h.event(egui::Event::PointerMoved(at));
        h.step();
        for pressed in [true, false] {
            h.event_modifiers(
                egui::Event::PointerButton {
                    pos: at,
                    button: PointerButton::Primary,
                    pressed,
                    modifiers: Modifiers::SHIFT,
                },
                Modifiers::SHIFT,
            );
            h.step();
        }
        h.run_steps(3);
        assert_eq!(shown(&mut h), in_buckets(b, b + 1));
        click_at(&mut h, bar(b));
    }
    click_at(&mut h, bar(b));
    assert_eq!(shown(&mut h).len(), ids_totals.len(), "all again");
}

/// A window on `trace` with the Goroutine analysis open on `group`'s table.
fn group_table(trace_name: &str, group: &str) -> Harness<'static, GoscopeApp> {
    let mut h = harness(Some(trace(trace_name)));
    open_goroutine_analysis(&mut h);
    h.state_mut()
        .doc
        .as_mut()
        .unwrap()
        .goroutines_view
        .select_group(group);
    h.run_steps(2);
    h
}

/// The ids of the goroutines the goroutine table shows, in its order.
fn shown_goroutines(h: &mut Harness<'static, GoscopeApp>) -> Vec<i64> {
    let doc = h.state_mut().doc.as_mut().unwrap();
    let an = doc.analyses(&egui::Context::default()).unwrap().unwrap();
    doc.goroutines_view
        .visible_goroutines(&an)
        .iter()
        .map(|g| g.id)
        .collect()
}

/// The app with `path` opened as an overview, whatever its size, once it is loaded.
/// What the windows of the trace opened as an overview in `h` are built from.
fn resumes_of(h: &Harness<'static, GoscopeApp>) -> std::sync::Arc<goscope_model::Resumes> {
    let doc = h.state().doc.as_ref().expect("opened");
    doc.trace.resumes.clone().expect("an overview")
}

fn overview_harness(path: PathBuf) -> Harness<'static, GoscopeApp> {
    let mut h = Harness::builder()
        .with_size(egui::Vec2::new(1400.0, 860.0))
        .with_max_steps(64)
        .build_eframe(move |cc| {
            let mut app = GoscopeApp::new(cc, None);
            app.overview_from_bytes = 0;
            app.open(&path);
            app
        });
    wait_loaded(&mut h);
    let doc = h.state().doc.as_ref().expect("opened");
    assert!(
        doc.trace.model.overview_bucket_ns > 0 && doc.trace.resumes.is_some(),
        "an overview"
    );
    h
}

/// A window built in the background for a view that held still comes laid out for it
/// (`LodCache::laid_out_for`, on the build's thread): the frame that first shows it draws
/// from that layout and lays out no lane itself, where it laid out every visible one.
#[test]
fn the_first_frame_of_a_window_built_for_a_still_view_lays_out_no_lane() {
    use goscope_viewer::detail::Shown;
    let mut h = overview_harness(trace("generations-go127"));
    let gen_ns = {
        let r = resumes_of(&h);
        r.time_range_ns(r.generations() / 2)
    };
    let quarter = (gen_ns.end - gen_ns.start) / 4;
    h.state_mut().doc.as_mut().unwrap().view.show_range(
        (gen_ns.start + quarter) as f64,
        (gen_ns.end - quarter) as f64,
    );
    let t0 = std::time::Instant::now();
    loop {
        h.step();
        let doc = h.state().doc.as_ref().unwrap();
        if let Some((shown, Shown::Window(_))) = &doc.shown {
            let lod = &doc.geometry.lod;
            assert!(lod.is_for(shown.id), "drawn from the window's layout");
            assert!(lod.kept_lanes() > 10, "{} lanes laid out", lod.kept_lanes());
            assert_eq!(
                lod.lanes_laid_out(),
                0,
                "the first frame of the window laid out lanes itself"
            );
            break;
        }
        assert!(t0.elapsed() < BACKGROUND_WAIT, "no window was shown");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // A frame more, the view still: nothing laid out either.
    h.step();
    let doc = h.state().doc.as_ref().unwrap();
    assert_eq!(doc.geometry.lod.lanes_laid_out(), 0);
}

/// A trace opened as an overview (here a small one, by lowering the size from which that
/// happens) shows its whole time thinned, and every span once the view is within a few
/// generations: the window of those is built in the background, and a span picked on it is
/// a real one with its stack.
#[test]
fn an_overview_shows_every_span_once_the_view_is_within_a_few_generations() {
    use goscope_viewer::detail::Shown;
    let path = trace("generations-go127");
    let mut h = overview_harness(path);
    let (n, gen_ns) = {
        let doc = h.state().doc.as_ref().expect("opened");
        assert!(doc.trace.model.overview_bucket_ns > 0, "an overview");
        let r = doc.trace.resumes.as_ref().expect("resumes");
        (r.generations(), r.time_range_ns(r.generations() / 2))
    };
    assert!(n >= 10, "{n} generations");
    wait_for_label_containing(&mut h, &format!("overview of {n} generations"));

    // A summary span picked in the overview, in the middle of generation k.
    let k = n / 2;
    let quarter = (gen_ns.end - gen_ns.start) / 4;
    let mid = (gen_ns.start + gen_ns.end) / 2;
    let (g, span) = {
        let doc = h.state().doc.as_ref().unwrap();
        doc.trace
            .model
            .goroutines
            .iter()
            .enumerate()
            .find_map(|(gi, g)| {
                let from = g.spans.count_ending_by(mid);
                (from..g.spans.len())
                    .take(1000)
                    .find(|&i| g.spans.get(i).is_some_and(|s| s.is_summary()))
                    .filter(|&i| g.spans.get(i).unwrap().end_ns < gen_ns.end - quarter)
                    .map(|i| (gi, i))
            })
            .expect("a summary span in the middle of the generation")
    };
    {
        let doc = h.state_mut().doc.as_mut().unwrap();
        doc.selected = Some(Pick::GSpan { g, span });
        doc.selected_in = Some(doc.trace.id);
    }
    h.run_steps(2);
    wait_for_label(&mut h, "Summed spans");

    // Into the middle of that generation: the window of it replaces the overview, and the
    // pick becomes the real span at the same time.
    h.state_mut().doc.as_mut().unwrap().view.show_range(
        (gen_ns.start + quarter) as f64,
        (gen_ns.end - quarter) as f64,
    );
    wait_for_label_containing(&mut h, &format!("generation {} in full detail", k + 1));
    let doc = h.state().doc.as_ref().unwrap();
    let (shown, what) = doc.shown.clone().expect("drawn");
    assert_eq!(what, Shown::Window(k..k + 1));
    assert_eq!(
        shown.model.overview_bucket_ns, 0,
        "the window has every span"
    );
    assert_eq!(
        (shown.model.start_ns, shown.model.end_ns),
        (doc.trace.model.start_ns, doc.trace.model.end_ns),
        "the axis counts from the trace's start in a window too"
    );
    let (a, b) = (doc.view.start_ns as i64, doc.view.end_ns as i64);
    let in_view = |m: &goscope_model::Model| -> (usize, usize) {
        let mut real = 0;
        let mut summed = 0;
        for g in &m.goroutines {
            for s in g.spans.iter().filter(|s| s.end_ns > a && s.start_ns < b) {
                if s.is_summary() {
                    summed += 1;
                } else {
                    real += 1;
                }
            }
        }
        (real, summed)
    };
    let (over_real, over_summed) = in_view(&doc.trace.model);
    let (window_real, window_summed) = in_view(&shown.model);
    assert!(over_summed > 0, "the overview sums short spans here");
    assert_eq!(window_summed, 0);
    assert!(
        window_real > over_real,
        "{window_real} spans against {over_real}"
    );
    let (picked, _) = doc.selected_gspan().expect("the pick is kept");
    let Some(Pick::GSpan { span: si, .. }) = doc.selected else {
        panic!("{:?}", doc.selected)
    };
    let real = picked.spans.get(si).unwrap();
    assert!(!real.is_summary(), "{real:?}");
    let summed = doc.trace.model.goroutines[g].spans.get(span).unwrap();
    let middle = summed.start_ns / 2 + summed.end_ns / 2;
    assert!(
        real.start_ns <= middle && middle < real.end_ns,
        "{real:?} holds {middle}"
    );
    assert!(h.query_by_label("Summed spans").is_none());

    // Back out to the whole trace: the overview again.
    let doc = h.state_mut().doc.as_mut().unwrap();
    let (start, end) = (doc.trace.model.start_ns, doc.trace.model.end_ns);
    doc.view.show_range(start as f64, end as f64);
    wait_for_label_containing(&mut h, &format!("overview of {n} generations"));
}

/// A selection over a trace opened as an overview is summed from the trace's own spans,
/// ordered again piece by piece in the background (the overview sums its short spans per
/// bucket): the panel shows the whole model's summary, not the overview's.
#[test]
fn a_selection_over_an_overview_sums_the_traces_own_spans() {
    use goscope_analysis::selection::SelectionSummary;
    let path = trace("generations-go127");
    let whole = goscope_model::build(&std::fs::read(&path).unwrap()[..]).unwrap();
    let mut h = overview_harness(path);
    let plot = h.state().doc.as_ref().unwrap().geometry.plot;
    let y = plot.top() + 300.0;
    let (x0, x1) = (plot.left() + 100.0, plot.left() + 900.0);
    pointer_drag(&mut h, Pos2::new(x0, y), Pos2::new(x1, y), Modifiers::SHIFT);
    let done = |h: &Harness<'static, GoscopeApp>| {
        h.state()
            .doc
            .as_ref()
            .unwrap()
            .selection_summary
            .as_ref()
            .is_some_and(|(_, job)| matches!(job.slot, goscope_viewer::analyses::Slot::Done(_)))
    };
    step_until(&mut h, done, "the summary did not arrive");
    h.run_steps(2);
    let doc = h.state().doc.as_ref().unwrap();
    let (a, b) = doc.view.selection.expect("a selection");
    let (a, b) = (a.min(b), a.max(b));
    let (_, job) = doc.selection_summary.as_ref().unwrap();
    let goscope_viewer::analyses::Slot::Done(Ok(got)) = &job.slot else {
        panic!("the summary failed")
    };
    let want = SelectionSummary::compute(&whole, a, b);
    assert_eq!(*got, want);
    // What the panel showed while it was summed: after the last piece, all of it.
    assert_eq!(job.so_far().as_ref(), Some(&want));
    let thinned = SelectionSummary::compute(&doc.trace.model, a, b);
    assert_ne!(
        thinned.per_state, want.per_state,
        "the overview's own summary would have done"
    );
    h.get_by_label_contains(&format!("{} state changes", want.transitions));
    // Cleared, the selection takes its summary with it (one under way stops).
    h.key_press(egui::Key::Escape);
    h.run_steps(2);
    let doc = h.state().doc.as_ref().unwrap();
    assert!(doc.view.selection.is_none() && doc.selection_summary.is_none());
}

/// Under an overview the whole trace is searched, piece by piece in the background: the
/// bar lists what a search of the whole model lists (the overview keeps few of its
/// spans; `a_search_in_pieces_finds_what_the_whole_model_search_does` shows where that
/// differs).
#[test]
fn a_search_over_an_overview_finds_the_traces_own_spans() {
    let path = trace("generations-go127");
    let whole = goscope_model::build(&std::fs::read(&path).unwrap()[..]).unwrap();
    let mut h = overview_harness(path);
    h.key_press_modifiers(Modifiers::COMMAND, egui::Key::F);
    h.run_steps(2);
    type_query_until_settled(&mut h, "main.");
    let listed = h.get_all_by_label_contains("— main.").count();
    use goscope_viewer::search::{Hit, search};
    // Span hits without their index in the model searched.
    let unnumbered = |hits: &[Hit]| -> Vec<Hit> {
        hits.iter()
            .cloned()
            .map(|h| match h {
                Hit::Span {
                    g,
                    t_ns,
                    what,
                    func,
                    ..
                } => Hit::Span {
                    g,
                    span: None,
                    t_ns,
                    what,
                    func,
                },
                h => h,
            })
            .collect()
    };
    let want = search(&whole, "main.");
    let spans = want
        .hits
        .iter()
        .filter(|h| matches!(h, Hit::Span { .. }))
        .count();
    assert!(spans > 0, "the whole model has spans in main.");
    assert_eq!(listed, spans, "spans listed against the whole model's");
    let doc = h.state().doc.as_ref().unwrap();
    let found = doc.search.matches().unwrap();
    assert_eq!(found.hits, unnumbered(&want.hits));
    assert_eq!(found.goroutines, want.goroutines);
    // Found in the trace's pieces (a search of a model numbers its spans).
    assert!(
        found
            .hits
            .iter()
            .all(|h| !matches!(h, Hit::Span { span: Some(_), .. })),
        "a model was searched, not the trace"
    );
}

/// Under an overview the search lists the trace's own spans, which no model shown
/// numbers: the timeline marks the goroutines the trace's search found, and the spans that
/// match in the model shown, the overview or a window, found on it.
#[test]
fn a_search_over_an_overview_marks_the_matching_spans_of_the_model_shown() {
    use goscope_viewer::detail::Shown;
    use goscope_viewer::search::search;
    let path = trace("generations-go127");
    let whole = goscope_model::build(&std::fs::read(&path).unwrap()[..]).unwrap();
    let mut h = overview_harness(path);
    h.key_press_modifiers(Modifiers::COMMAND, egui::Key::F);
    h.run_steps(2);
    let query = "main.";
    type_query_until_settled(&mut h, query);
    let want_goroutines = search(&whole, query).goroutines;
    // What the timeline marks on the model shown, and that model.
    let marked = |h: &mut Harness<'static, GoscopeApp>| {
        let ctx = h.ctx.clone();
        let doc = h.state_mut().doc.as_mut().unwrap();
        let (shown, what) = doc.shown.clone().expect("drawn");
        let marks = doc
            .search
            .highlight_in(&ctx, &shown, &doc.trace)
            .expect("marks on the model shown");
        (
            marks.goroutines.to_vec(),
            marks.spans.clone(),
            shown.model,
            what,
        )
    };
    let (goroutines, spans, model, what) = marked(&mut h);
    assert!(matches!(what, Shown::Overview { .. }), "{what:?}");
    assert_eq!(goroutines, want_goroutines);
    assert_eq!(
        spans,
        search(&model, query).spans,
        "the overview's own spans"
    );

    // Into the middle of a generation: its window is shown, and its spans are marked.
    let (k, gen_ns) = {
        let r = resumes_of(&h);
        let k = r.generations() / 2;
        (k, r.time_range_ns(k))
    };
    let quarter = (gen_ns.end - gen_ns.start) / 4;
    h.state_mut().doc.as_mut().unwrap().view.show_range(
        (gen_ns.start + quarter) as f64,
        (gen_ns.end - quarter) as f64,
    );
    wait_for_label_containing(&mut h, &format!("generation {} in full detail", k + 1));
    let (goroutines, spans, model, what) = marked(&mut h);
    assert_eq!(what, Shown::Window(k..k + 1));
    assert_eq!(goroutines, want_goroutines, "the trace's goroutines");
    let want = search(&model, query).spans;
    assert!(!want.is_empty(), "the window has spans in {query}");
    assert_eq!(spans, want, "the window's spans that match");
}

/// A trace file cut short on disk while it is open (as `go test -trace=FILE` run again
/// does: it truncates the file in place) does not end the viewer when what was cut is read
/// again (a window's build, an analysis): the read finds zeros, and the top bar says the
/// file changed.
#[cfg(target_os = "linux")]
#[test]
fn a_trace_cut_short_on_disk_is_said_so_and_does_not_end_the_viewer() {
    let dir = std::env::temp_dir().join(format!("goscope-cut-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("trace.out");
    std::fs::copy(trace("generations-go127"), &path).unwrap();
    let mut h = harness(Some(path.clone()));
    assert!(h.query_by_label_contains("cut short on disk").is_none());
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(0)
        .unwrap();
    // What a build reads again: without the guard, SIGBUS.
    let file = h.state().doc.as_ref().unwrap().trace.file.clone();
    assert!(
        file.bytes().iter().all(|&b| b == 0),
        "zeros where the file was cut"
    );
    h.run_steps(2);
    h.get_by_label_contains("trace.out was cut short on disk after it was opened");
    let _ = std::fs::remove_dir_all(&dir);
}
