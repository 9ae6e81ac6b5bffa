//! Frame-building benchmark: layout + tessellation of the whole window (no GPU) on a large
//! trace, in the goroutine view (one lane per goroutine), at full zoom-out, mid zoom and deep
//! zoom; also time from reading the file to the first frame (of the trace's start, shown
//! while the rest loads) and to the first full frame, and each analysis tab of
//! the dock (the goroutine table while it scrolls, the flame graph, tasks, GC and MMU).
//!
//! `cargo bench --bench frame` (trace: $GOSCOPE_BENCH_TRACE, default target/bench/large.trace,
//! made by `testdata/bench/make-large-trace.sh target/bench/large.trace`).
//!
//! A trace the viewer opens as an overview (`loader::overview_bytes`, 256 MiB, or
//! `GOSCOPE_OVERVIEW_BYTES`) is loaded as one here too, and the bench adds the cases of
//! detail on demand: how long after the view settles within a generation its window is
//! shown, and the frames meanwhile, with a frame drawn every few milliseconds (the pointer
//! moving) and with frames drawn only when the app asks (the pointer resting).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use goscope_viewer::GoscopeApp;
use goscope_viewer::analyses::{Analyses, Slot};
use goscope_viewer::app::{Doc, Tab};
use goscope_viewer::lanes::LaneMode;
use goscope_viewer::loader::OpenTrace;

fn input() -> egui::RawInput {
    input_with(Vec::new())
}

fn input_with(events: Vec<egui::Event>) -> egui::RawInput {
    egui::RawInput {
        events,
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1600.0, 900.0),
        )),
        ..Default::default()
    }
}

fn main() {
    // As the goscope binary does.
    goscope_model::tune_allocator();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut path = std::env::var_os("GOSCOPE_BENCH_TRACE")
        .map(PathBuf::from)
        .unwrap_or(root.join("target/bench/large.trace"));
    if !path.exists() {
        eprintln!(
            "{} not found; make it with testdata/bench/make-large-trace.sh; using testdata/traces/mixed-go127.trace",
            path.display()
        );
        path = root.join("testdata/traces/mixed-go127.trace");
    }
    let t0 = Instant::now();
    let data = Arc::new(goscope_file::TraceFile::open(&path).expect("open"));
    // As the viewer loads: a long trace shows its first events early. The preview's first
    // frame is drawn on the preview's own thread while the rest is read.
    let mut preview_frame = None;
    let mut on_preview = |m: goscope_model::Model| {
        let built = t0.elapsed();
        let ctx = egui::Context::default();
        let mut app = GoscopeApp::headless(ctx.clone());
        let (events, shown_ns) = (m.events, m.duration_ns());
        let mut doc = Doc::new(
            OpenTrace::new(data.clone(), Arc::new(m)),
            built.as_secs_f64(),
        );
        doc.preview = true;
        app.doc = Some(doc);
        let out = ctx.run_ui(input(), |ui| app.frame_ui(ui));
        let _ = ctx.tessellate(out.shapes, out.pixels_per_point);
        preview_frame = Some((built, t0.elapsed(), events, shown_ns));
    };
    let as_overview = data.len() as u64 >= goscope_viewer::loader::overview_bytes();
    let (model, resumes) = goscope_viewer::loader::build_model(
        &*data,
        as_overview,
        &std::sync::atomic::AtomicBool::new(false),
        &mut |_| {},
        Some(&mut on_preview),
    )
    .expect("decode");
    let model = Arc::new(model);
    let load = t0.elapsed();
    if let Some((built, frame, events, shown_ns)) = preview_frame {
        println!(
            "preview ({events} events, the first {:.0} ms of the trace): model at {:.0} ms, first frame at {:.0} ms",
            shown_ns as f64 / 1e6,
            built.as_secs_f64() * 1e3,
            frame.as_secs_f64() * 1e3
        );
    }
    let ctx = egui::Context::default();
    let mut app = GoscopeApp::headless(ctx.clone());
    let opened = match resumes {
        Some(r) => {
            println!(
                "overview: {} generations, buckets of {:.0} µs, {:.0} MB of lanes and counters",
                r.generations(),
                model.overview_bucket_ns as f64 / 1e3,
                model.heap_bytes() as f64 / 1e6
            );
            OpenTrace::overview(data.clone(), model.clone(), r)
        }
        None => OpenTrace::new(data.clone(), model.clone()),
    };
    let mut doc = Doc::new(opened, load.as_secs_f64());
    doc.mode = LaneMode::Goroutines;
    app.doc = Some(doc);
    let out = ctx.run_ui(input(), |ui| app.frame_ui(ui));
    let _ = ctx.tessellate(out.shapes, out.pixels_per_point);
    let first = t0.elapsed();
    println!(
        "trace {} ({:.1} MB): {} goroutine lanes, {} procs; model built in {:.0} ms; first full frame at {:.0} ms",
        path.display(),
        data.len() as f64 / 1e6,
        model.goroutines.len(),
        model.procs.len(),
        load.as_secs_f64() * 1e3,
        first.as_secs_f64() * 1e3
    );
    let total = (model.end_ns - model.start_ns) as f64;
    for (name, frac) in [
        ("full zoom-out", 1.0),
        ("mid zoom (1%)", 0.01),
        ("deep zoom (10 µs)", 10_000.0 / total),
    ] {
        for mode in [LaneMode::Goroutines, LaneMode::Procs] {
            // Still: the view stays put (hover, dock work: the lane layouts are kept).
            // Moving: D held for a second, then A (the app pans a view's width a second;
            // at 60 frames a second that is 1/60 of it a frame). Zooming: W held for a
            // second, then S (4× a second, about 2.3% a frame). Layouts are kept while
            // the view stays in the window laid out and near its scale, and made anew
            // when it leaves: those frames are among the measured ones. Moving and
            // zooming frames come 60 a second, as a held key's do (the next window is
            // laid out in the background meanwhile: back to back, the frames would leave
            // it no time).
            for how in ["still", "moving", "zooming"] {
                let case = format!("{name:<20} {:<12} {how:<7}", mode.name());
                if !selected(&case) {
                    continue;
                }
                {
                    let doc = app.doc.as_mut().unwrap();
                    doc.mode = mode;
                    let mid = (model.start_ns + model.end_ns) as f64 / 2.0;
                    doc.view.start_ns = mid - total * frac / 2.0;
                    doc.view.end_ns = mid + total * frac / 2.0;
                }
                let mut times = Vec::new();
                // GOSCOPE_BENCH_FRAMES=N runs each case N frames (e.g. for a profiler).
                let frames: usize = std::env::var("GOSCOPE_BENCH_FRAMES")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(125)
                    .max(6);
                let paced = how != "still";
                let begun = Instant::now();
                for i in 0..frames {
                    if paced {
                        sleep_to_frame(begun, i);
                    }
                    let doc = app.doc.as_mut().unwrap();
                    // One second each way (after the 5 warm-up frames).
                    let sign = if (i + 55) % 120 < 60 { 1.0 } else { -1.0 };
                    match how {
                        "moving" => {
                            let step = doc.view.span_ns() / 60.0 * sign;
                            doc.view.start_ns += step;
                            doc.view.end_ns += step;
                        }
                        "zooming" => {
                            // Around the middle.
                            let factor = (-1.4f64 / 60.0 * sign).exp();
                            let d = doc.view.span_ns() * (1.0 - factor) / 2.0;
                            doc.view.start_ns += d;
                            doc.view.end_ns -= d;
                        }
                        _ => {}
                    }
                    let (ms, _) = draw(&ctx, &mut app);
                    if i >= 5 {
                        times.push(ms);
                    }
                }
                report(&case, times);
                if paced {
                    // The key released: the view holds still, and its window is laid out
                    // finely (in the frame, or apart for large lanes). A third of a second
                    // of frames, 60 a second.
                    let begun = Instant::now();
                    let mut still = Vec::new();
                    for i in 0..20 {
                        sleep_to_frame(begun, i);
                        still.push(draw(&ctx, &mut app).0);
                    }
                    report(
                        &format!("{name:<20} {:<12} {how:<7} released", mode.name()),
                        still,
                    );
                }
            }
        }
    }

    if as_overview && selected("detail") {
        detail_cases(&ctx, &mut app);
        detail_cases_when_asked(&ctx, &mut app);
    }

    // The dock's tabs, with the analyses computed up front.
    if !selected("dock") {
        return;
    }
    let t = Instant::now();
    let an = Arc::new(Analyses::compute(data.clone()).expect("analyses"));
    println!(
        "analyses (goroutine summary + 4 profiles): {:.0} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    let biggest = goscope_viewer::goroutines::group_rows(&an)
        .into_iter()
        .max_by_key(|g| g.count)
        .map(|g| (g.name, g.count));
    {
        let doc = app.doc.as_mut().unwrap();
        doc.analyses = Some(Slot::Done(Ok(an.clone())));
        doc.mode = LaneMode::Goroutines;
        doc.view.fit();
        if let Some((name, _)) = &biggest {
            doc.goroutines_view.select_group(name);
        }
    }
    for tab in Tab::ALL {
        app.doc.as_mut().unwrap().tab = Some(tab);
        // Views that compute in the background (flame graph, MMU) settle first.
        let settle = Instant::now();
        for _ in 0..3 {
            let _ = ctx.run_ui(input(), |ui| app.frame_ui(ui));
        }
        while settle.elapsed().as_secs() < 60 {
            std::thread::sleep(std::time::Duration::from_millis(20));
            let _ = ctx.run_ui(input(), |ui| app.frame_ui(ui));
            if !ctx.has_requested_repaint() {
                break;
            }
        }
        let mut times = Vec::new();
        for i in 0..60 {
            // Scroll the dock's table down a screen per frame (the goroutine table has
            // one row per goroutine of the biggest group).
            let over_dock = egui::pos2(1000.0, 820.0);
            let events = vec![
                egui::Event::PointerMoved(over_dock),
                egui::Event::MouseWheel {
                    unit: egui::MouseWheelUnit::Point,
                    delta: egui::vec2(0.0, -300.0),
                    phase: egui::TouchPhase::Move,
                    source: egui::MouseWheelSource::Unknown,
                    modifiers: egui::Modifiers::NONE,
                },
            ];
            let t = Instant::now();
            let out = ctx.run_ui(input_with(events), |ui| app.frame_ui(ui));
            let prims = ctx.tessellate(out.shapes, out.pixels_per_point);
            std::hint::black_box(prims);
            if i >= 5 {
                times.push(t.elapsed().as_secs_f64() * 1e3);
            }
        }
        let what = match (tab, &biggest) {
            (Tab::Goroutines, Some((name, n))) => format!("{} ({name}: {n} rows)", tab.name()),
            _ => tab.name().to_string(),
        };
        report(&format!("dock: {what:<40}"), times);
    }
}

/// What the timeline shows, as of the last frame.
fn shown_now(app: &GoscopeApp) -> Option<goscope_viewer::detail::Shown> {
    let doc = app.doc.as_ref().unwrap();
    doc.shown.as_ref().map(|(_, s)| s.clone())
}

/// Sleeps until frame `i` of a run begun at `begun` is due, at 60 frames a second (as a
/// held key's frames come).
fn sleep_to_frame(begun: Instant, i: usize) {
    let due = begun + std::time::Duration::from_secs_f64(i as f64 / 60.0);
    std::thread::sleep(due.saturating_duration_since(Instant::now()));
}

/// Lays out and tessellates one frame; how long that took (ms) and how soon the app asks
/// for the next one.
fn draw(ctx: &egui::Context, app: &mut GoscopeApp) -> (f64, std::time::Duration) {
    let f = Instant::now();
    let out = ctx.run_ui(input(), |ui| app.frame_ui(ui));
    let delay = out
        .viewport_output
        .get(&egui::ViewportId::ROOT)
        .map_or(std::time::Duration::MAX, |v| v.repaint_delay);
    let prims = ctx.tessellate(out.shapes, out.pixels_per_point);
    std::hint::black_box(prims);
    (f.elapsed().as_secs_f64() * 1e3, delay)
}

/// The generations whose middle tenth the detail cases view: the first, the middle one,
/// the last.
fn generations_viewed(app: &GoscopeApp) -> [usize; 3] {
    let doc = app.doc.as_ref().unwrap();
    let n = doc.trace.resumes.as_ref().map_or(0, |r| r.generations());
    [0, n / 2, n.saturating_sub(1)]
}

/// Whether the view over generation `k` has settled: its window shown, or the window
/// thinned to about a pixel or the overview (the view holds too much for every span).
fn settled(shown: &Option<goscope_viewer::detail::Shown>, k: usize) -> bool {
    use goscope_viewer::detail::Shown;
    *shown == Some(Shown::Window(k..k + 1))
        || matches!(
            shown,
            Some(
                Shown::Overview { .. }
                    | Shown::Thinned {
                        too_dense: Some(_),
                        ..
                    }
            )
        )
}

/// When the view was first shown thinned to about a pixel (`detail::FINE_FIRST_FILE_BYTES`),
/// if it was, as text for the bench's lines.
fn thinned_note(first_thinned: Option<(f64, i64)>) -> String {
    first_thinned.map_or(String::new(), |(secs, bucket_ns)| {
        format!(
            "; thinned to {:.0} µs buckets {:.0} ms after the view settled",
            bucket_ns as f64 / 1e3,
            secs * 1e3
        )
    })
}

/// The frames that first drew each window built for the view (thinned or in full): a
/// window comes laid out for the view (`LodCache::laid_out_for`), so these should cost
/// what any frame does.
#[derive(Default)]
struct FirstFrames {
    shown: Option<u64>,
    ms: Vec<f64>,
}

impl FirstFrames {
    /// Notes the frame just drawn, `ms` long.
    fn note(&mut self, app: &GoscopeApp, ms: f64) {
        use goscope_viewer::detail::Shown;
        let doc = app.doc.as_ref().unwrap();
        let Some((trace, shown)) = doc.shown.as_ref() else {
            return;
        };
        let id = trace.model.as_ref() as *const _ as u64;
        if self.shown.is_some_and(|s| s != id)
            && matches!(shown, Shown::Window(_) | Shown::Thinned { .. })
        {
            self.ms.push(ms);
        }
        self.shown = Some(id);
    }

    /// As text for the bench's lines.
    fn text(&self) -> String {
        let ms: Vec<String> = self.ms.iter().map(|m| format!("{m:.2}")).collect();
        format!("; first frame of each window shown: {} ms", ms.join(", "))
    }
}

/// Notes the first moment the view is shown thinned.
fn note_thinned(
    first: &mut Option<(f64, i64)>,
    shown: &Option<goscope_viewer::detail::Shown>,
    t: Instant,
) {
    if let (None, Some(goscope_viewer::detail::Shown::Thinned { bucket_ns, .. })) = (&first, shown)
    {
        *first = Some((t.elapsed().as_secs_f64(), *bucket_ns));
    }
}

/// The view in the middle tenth of generation `k`, no window kept; returns its ends.
fn view_a_tenth(app: &mut GoscopeApp, k: usize) -> (f64, f64) {
    let doc = app.doc.as_mut().unwrap();
    doc.detail = Default::default();
    let r = doc.trace.resumes.as_ref().unwrap().time_range_ns(k);
    let tenth = (r.end - r.start) / 10;
    let (a, b) = (
        (r.start + 9 * tenth / 2) as f64,
        (r.end - 9 * tenth / 2) as f64,
    );
    doc.view.start_ns = a;
    doc.view.end_ns = b;
    (a, b)
}

/// Detail on demand as eframe draws it while the pointer rests: a frame only when the
/// app asks for one (its output's repaint delay, or a request from another thread, such
/// as a finished build's), not every few milliseconds as `detail_cases` draws them. The
/// same views; prints how long after the view settled its window was shown, and how many
/// frames were drawn meanwhile.
fn detail_cases_when_asked(ctx: &egui::Context, app: &mut GoscopeApp) {
    use goscope_viewer::detail::Shown;
    use std::sync::Mutex;
    use std::time::Duration;
    // The earliest moment a frame has been asked for since the last one.
    let due: Arc<Mutex<Option<Instant>>> = Arc::default();
    let sooner = |due: &Mutex<Option<Instant>>, at: Instant| {
        let mut d = due.lock().unwrap();
        *d = Some(d.map_or(at, |t| t.min(at)));
    };
    {
        let due = due.clone();
        ctx.set_request_repaint_callback(move |info| sooner(&due, Instant::now() + info.delay));
    }
    for k in generations_viewed(app) {
        let (a, b) = view_a_tenth(app, k);
        // The input that moved the view asks for a frame at once.
        let t = Instant::now();
        sooner(&due, t);
        let mut times = Vec::new();
        let mut shown = None;
        let mut first_thinned = None;
        let mut firsts = FirstFrames::default();
        while t.elapsed().as_secs() < 60 {
            // Taken under the lock, so that a request from another thread made meanwhile
            // is not lost.
            let now_due = {
                let mut d = due.lock().unwrap();
                let ready = d.is_some_and(|at| Instant::now() >= at);
                if ready {
                    *d = None;
                }
                ready
            };
            if !now_due {
                std::thread::sleep(Duration::from_millis(1));
                continue;
            }
            let (ms, repaint_delay) = draw(ctx, app);
            times.push(ms);
            firsts.note(app, ms);
            if let Some(at) = Instant::now().checked_add(repaint_delay) {
                sooner(&due, at);
            }
            shown = shown_now(app);
            note_thinned(&mut first_thinned, &shown, t);
            if settled(&shown, k) {
                break;
            }
        }
        let frames = times.len();
        times.sort_by(|x, y| x.total_cmp(y));
        if shown != Some(Shown::Window(k..k + 1)) {
            println!(
                "detail of generation {:>3}, frames only when asked: not built in full ({shown:?}){}; {frames} frames meanwhile, max {:.2} ms{}",
                k + 1,
                thinned_note(first_thinned),
                times[frames - 1],
                firsts.text()
            );
            continue;
        }
        println!(
            "detail of generation {:>3} ({:.0} ms of view), frames only when asked (the pointer resting): shown {:.0} ms after the view settled{}; {frames} frames meanwhile, max {:.2} ms{}",
            k + 1,
            (b - a) / 1e6,
            t.elapsed().as_secs_f64() * 1e3,
            thinned_note(first_thinned),
            times[frames - 1],
            firsts.text()
        );
    }
    ctx.set_request_repaint_callback(|_| {});
}

/// Detail on demand: the view is put in the middle tenth of a generation (the first, the
/// middle one, the last); frames are drawn until its window is shown. Prints how long
/// that took after the view settled (the window is asked for `detail::SETTLE` later) and
/// the frames meanwhile; then the same view again (the window kept).
fn detail_cases(ctx: &egui::Context, app: &mut GoscopeApp) {
    use goscope_viewer::detail::Shown;
    for k in generations_viewed(app) {
        // No window kept from the cases before.
        let (a, b) = view_a_tenth(app, k);
        for pass in ["built", "kept"] {
            let t = Instant::now();
            let mut times = Vec::new();
            let mut first_thinned = None;
            let mut firsts = FirstFrames::default();
            loop {
                let (ms, _) = draw(ctx, app);
                times.push(ms);
                firsts.note(app, ms);
                let shown = shown_now(app);
                note_thinned(&mut first_thinned, &shown, t);
                if settled(&shown, k) || t.elapsed().as_secs() > 60 {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(4));
            }
            let secs = t.elapsed().as_secs_f64();
            let shown = shown_now(app);
            let frames = times.len();
            times.sort_by(|x, y| x.total_cmp(y));
            if shown != Some(Shown::Window(k..k + 1)) {
                println!(
                    "detail of generation {:>3} ({:.0} ms of view): not built in full ({shown:?} after {:.1} s; a view holding more than {} MiB of the file, or too dense for the detail budget, is shown thinned){}; {frames} frames meanwhile, median {:.2} ms, max {:.2} ms{}",
                    k + 1,
                    (b - a) / 1e6,
                    secs,
                    goscope_viewer::detail::MAX_WINDOW_FILE_BYTES >> 20,
                    thinned_note(first_thinned),
                    times[frames / 2],
                    times[frames - 1],
                    firsts.text()
                );
                break;
            }
            let settle = goscope_viewer::detail::SETTLE.as_secs_f64();
            println!(
                "detail of generation {:>3} ({:.0} ms of view), {pass}: shown {:.0} ms after the view settled ({:.0} ms after the build was asked for){}; {frames} frames meanwhile, median {:.2} ms, max {:.2} ms{}",
                k + 1,
                (b - a) / 1e6,
                secs * 1e3,
                (secs - settle).max(0.0) * 1e3,
                thinned_note(first_thinned),
                times[frames / 2],
                times[frames - 1],
                firsts.text()
            );
            // Away and back: the kept window is shown at once.
            let doc = app.doc.as_mut().unwrap();
            doc.view.fit();
            let _ = ctx.run_ui(input(), |ui| app.frame_ui(ui));
            let doc = app.doc.as_mut().unwrap();
            doc.view.start_ns = a;
            doc.view.end_ns = b;
        }
    }
}

/// Whether a case runs: `GOSCOPE_BENCH_ONLY=TEXT` runs only the cases whose name holds
/// TEXT (e.g. `goroutine moving`, for a profiler), and no dock tabs unless TEXT is `dock`.
fn selected(case: &str) -> bool {
    let only = std::env::var("GOSCOPE_BENCH_ONLY").unwrap_or_default();
    let case: String = case.split_whitespace().collect::<Vec<_>>().join(" ");
    case.contains(only.trim())
}

fn report(name: &str, mut times: Vec<f64>) {
    times.sort_by(|a, b| a.total_cmp(b));
    println!(
        "{name} median {:.2} ms  p90 {:.2} ms  max {:.2} ms",
        times[times.len() / 2],
        times[times.len() * 9 / 10],
        times[times.len() - 1]
    );
}
