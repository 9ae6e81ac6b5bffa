//! Frame-building benchmark: layout + tessellation of the whole window (no GPU) on a large
//! trace, in the goroutine view (one lane per goroutine), at full zoom-out, mid zoom and deep
//! zoom; also time from reading the file to the first full frame.
//!
//! `cargo bench --bench frame` (trace: $GOSCOPE_BENCH_TRACE, default target/bench/large.trace,
//! made by `testdata/bench/make-large-trace.sh target/bench/large.trace`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use goscope::ui::GoscopeApp;
use goscope::ui::app::Doc;
use goscope::ui::lanes::LaneMode;

fn input() -> egui::RawInput {
    egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1600.0, 900.0),
        )),
        ..Default::default()
    }
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
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
    let data = goscope::cli::open_trace(&path).expect("open");
    let model = Arc::new(goscope::model::build(&data).expect("decode"));
    let load = t0.elapsed();
    let ctx = egui::Context::default();
    let mut app = GoscopeApp::headless(ctx.clone());
    let mut doc = Doc::new(path.clone(), model.clone(), load.as_secs_f64());
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
            {
                let doc = app.doc.as_mut().unwrap();
                doc.mode = mode;
                let mid = (model.start_ns + model.end_ns) as f64 / 2.0;
                doc.view.start_ns = mid - total * frac / 2.0;
                doc.view.end_ns = mid + total * frac / 2.0;
            }
            let mut times = Vec::new();
            for i in 0..40 {
                let t = Instant::now();
                let out = ctx.run_ui(input(), |ui| app.frame_ui(ui));
                let prims = ctx.tessellate(out.shapes, out.pixels_per_point);
                std::hint::black_box(prims);
                if i >= 5 {
                    times.push(t.elapsed().as_secs_f64() * 1e3);
                }
            }
            times.sort_by(|a, b| a.total_cmp(b));
            println!(
                "{name:<20} {:<11} median {:.2} ms  p90 {:.2} ms  max {:.2} ms",
                mode.name(),
                times[times.len() / 2],
                times[times.len() * 9 / 10],
                times[times.len() - 1]
            );
        }
    }
}
