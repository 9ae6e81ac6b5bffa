//! The committed test traces (`testdata/` at the workspace root) for the tests of every
//! crate: their directory, paths and bytes.

use std::path::{Path, PathBuf};

/// The workspace's `testdata/` directory.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

/// `testdata/traces/NAME.trace`.
pub fn trace_path(name: &str) -> PathBuf {
    dir().join("traces").join(format!("{name}.trace"))
}

/// The bytes of a committed trace.
pub fn trace_bytes(name: &str) -> Vec<u8> {
    std::fs::read(trace_path(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}
