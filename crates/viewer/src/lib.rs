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
pub mod panels;
pub mod search;
mod table;
pub mod tasksview;
pub mod timeline;
pub mod view;

#[cfg(test)]
mod testdata;

pub use app::GoscopeApp;

/// Returns the memory freed inside the allocator's heaps to the system. glibc keeps what a
/// dropped model held (a preview is some 60 MB, a whole trace hundreds) and what a finished
/// background computation used for reuse, so the window would go on holding it. Takes a
/// few milliseconds; called once a load settles and when a background job is done.
pub(crate) fn give_back_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists; it takes no pointers
    // and may be called from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// The window icon, PNG.
pub(crate) const ICON_PNG: &[u8] = include_bytes!("../../../assets/goscope-256.png");

/// Opens the viewer window, on `path` if given.
pub fn run(path: Option<std::path::PathBuf>) -> anyhow::Result<()> {
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
