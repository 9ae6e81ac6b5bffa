//! The committed test traces (`testdata/` at the workspace root) for the tests of every
//! crate: their directory, paths and bytes; and a test HTTP server that serves them the way
//! net/http/pprof does (`server`).

use std::path::{Path, PathBuf};

/// The workspace's `testdata/` directory.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

/// `testdata/traces/NAME.trace`.
pub fn trace_path(name: &str) -> PathBuf {
    dir().join("traces").join(format!("{name}.trace"))
}

/// Every committed trace, sorted by name (at least the 30 the tests were written for).
pub fn all_traces() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir().join("traces"))
        .expect("testdata/traces")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "trace"))
        .collect();
    v.sort();
    assert!(
        v.len() >= 30,
        "expected the committed traces, found {}",
        v.len()
    );
    v
}

/// Every committed trace, whole and cut at 7/8 and at 1/2 of its bytes, each named by its
/// path and cut.
pub fn all_traces_and_cuts() -> Vec<(String, Vec<u8>)> {
    let mut v = Vec::new();
    for path in all_traces() {
        let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for cut in [data.len(), data.len() * 7 / 8, data.len() / 2] {
            v.push((
                format!("{} cut at {cut}", path.display()),
                data[..cut].to_vec(),
            ));
        }
    }
    v
}

/// The bytes of a committed trace.
pub fn trace_bytes(name: &str) -> Vec<u8> {
    std::fs::read(trace_path(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

pub mod server;
