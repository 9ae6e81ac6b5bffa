//! The trace file: a mapping whose pages reads give back reads the same bytes and events, and
//! the prefix of a growing file reads as that prefix.

use goscope_file::TraceFile;
use goscope_trace::{self as trace, Event, ReadOptions};

fn events(data: &[u8]) -> Vec<Event> {
    let mut v = Vec::new();
    trace::read(data, ReadOptions::default(), |ev, _| v.push(*ev)).unwrap();
    v
}

/// A mapped trace whose pages the reads give back reads the same, again and again: the
/// pages come back from the file (the model's and the analyses' passes both release them,
/// and the viewer reads the same mapping again for MMU curves).
#[test]
fn a_released_mapping_reads_the_same() {
    use goscope_trace::Source;
    for t in goscope_testdata::all_traces() {
        let mapped = TraceFile::open(&t).unwrap();
        assert!(mapped.is_mapped());
        let read = std::fs::read(&t).unwrap();
        let want = events(&read);
        for _ in 0..2 {
            let mut got = Vec::new();
            trace::read_pipelined(
                &mapped,
                ReadOptions::default(),
                &std::sync::atomic::AtomicBool::new(false),
                &mut |ev: &Event, _: &trace::Tables| got.push(*ev),
                &mut |_| {},
            )
            .unwrap();
            assert!(got == want, "{}", t.display());
            assert_eq!(mapped.bytes(), read.as_slice(), "{}", t.display());
        }
        mapped.release(0..read.len());
        assert_eq!(mapped.bytes(), read.as_slice(), "{}", t.display());
    }
}

/// `open_prefix` maps a file and shows only its first bytes (a capture's complete
/// generations while the rest arrives), and says so when the file holds fewer.
#[test]
fn a_prefix_of_a_file_is_those_bytes() {
    let t = goscope_testdata::trace_path("stall-go127");
    let all = std::fs::read(&t).unwrap();
    let f = TraceFile::open_prefix(&t, 1000).unwrap();
    assert!(f.is_mapped());
    assert_eq!(f.bytes(), &all[..1000]);
    assert_eq!(
        TraceFile::open_prefix(&t, all.len() as u64)
            .unwrap()
            .bytes(),
        &all[..]
    );
    let e = TraceFile::open_prefix(&t, all.len() as u64 + 1).unwrap_err();
    assert!(
        e.to_string().ends_with(&format!(
            "it holds {} bytes, fewer than {}",
            all.len(),
            all.len() + 1
        )),
        "{e}"
    );
}
