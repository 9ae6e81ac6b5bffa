//! The committed test traces for unit tests: their paths, bytes and models.

use std::path::{Path, PathBuf};

/// `testdata/traces/NAME.trace`.
pub fn trace_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/traces")
        .join(format!("{name}.trace"))
}

/// The bytes of a committed trace.
pub fn trace_bytes(name: &str) -> Vec<u8> {
    std::fs::read(trace_path(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The model of a committed trace.
pub fn model(name: &str) -> crate::model::Model {
    crate::model::build(&trace_bytes(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The viewer's analyses of a committed trace.
#[cfg(feature = "gui")]
pub fn analyses(name: &str) -> std::sync::Arc<crate::ui::analyses::Analyses> {
    std::sync::Arc::new(
        crate::ui::analyses::Analyses::compute(&trace_path(name))
            .unwrap_or_else(|e| panic!("{name}: {e}")),
    )
}
