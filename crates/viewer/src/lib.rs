//! The desktop viewer (eframe/egui). Reads the model, never parses; view state lives in
//! `view` and `app`, painting goes through the pure LOD functions of `model::lod`.

pub mod analyses;
pub mod app;
pub mod capture;
pub mod clock;
pub mod colors;
pub mod detail;
mod dialog;
pub mod findingsview;
pub mod flame;
pub mod gcview;
pub mod goroutines;
pub mod heatmap;
pub mod lanes;
pub mod loader;
pub mod marks;
pub mod panels;
pub mod search;
mod table;
pub mod tasksview;
pub mod timeline;
pub mod view;

#[cfg(test)]
mod testdata;

pub use app::GoscopeApp;

/// The window icon, PNG.
pub(crate) const ICON_PNG: &[u8] = include_bytes!("../../../assets/goscope-256.png");

/// Opens the viewer window, on `path` if given.
pub fn run(path: Option<std::path::PathBuf>) -> anyhow::Result<()> {
    // Before the window's threads start: its window builds reuse the memory dropped
    // models leave. (The headless commands read a trace once, and keep the defaults.)
    goscope_model::tune_allocator();
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("goscope")
        .with_app_id("goscope")
        .with_inner_size([1400.0, 860.0])
        .with_drag_and_drop(true);
    if let Ok(icon) = eframe::icon_data::from_png_bytes(ICON_PNG) {
        viewport = viewport.with_icon(icon);
    }
    let options = eframe::NativeOptions {
        viewport,
        ..Default::default()
    };
    // The trace is read while the window is being made (about 0.1 s with a software
    // renderer), not after.
    let early = path.as_deref().map(app::early_load);
    eframe::run_native(
        "goscope",
        options,
        Box::new(move |cc| Ok(Box::new(GoscopeApp::with_loader(cc, early)))),
    )
    .map_err(|e| anyhow::anyhow!("cannot open a window: {e}"))
}
