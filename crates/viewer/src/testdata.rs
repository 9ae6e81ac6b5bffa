//! The committed test traces for the viewer's unit tests: paths, bytes, models, analyses.

use std::sync::Arc;

pub use goscope_testdata::{trace_bytes, trace_path};

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
