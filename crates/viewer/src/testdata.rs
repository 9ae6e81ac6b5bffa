//! The committed test traces for the viewer's unit tests: paths, bytes, models, analyses.

use std::sync::Arc;

pub use goscope_testdata::{trace_bytes, trace_path};

/// How long a test waits for work in the background: jobs run at nice 19 (window builds
/// at 10), and a test run keeps both cores busy at 0, where such a thread gets under 1 %
/// of a core (a panic's backtrace, symbolized, took over 10 s there). Waits end as soon
/// as the work does.
pub(crate) const BACKGROUND_WAIT: std::time::Duration = std::time::Duration::from_secs(300);

/// The model of a committed trace.
pub(crate) fn model(name: &str) -> goscope_model::Model {
    goscope_model::build(&trace_bytes(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The viewer's analyses of a committed trace.
pub fn analyses(name: &str) -> Arc<crate::analyses::Analyses> {
    let file = goscope_file::TraceFile::open(&trace_path(name)).unwrap_or_else(|e| panic!("{e}"));
    Arc::new(
        crate::analyses::Analyses::compute(Arc::new(file))
            .unwrap_or_else(|e| panic!("{name}: {e}")),
    )
}
