//! The trace file: a mapping whose pages reads give back reads the same bytes and events,
//! small releases are given back together, and the prefix of a growing file reads as that
//! prefix.

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

/// The resident kilobytes of the mapping that holds `at`, from /proc/self/smaps.
#[cfg(target_os = "linux")]
fn resident_kb(at: *const u8) -> u64 {
    let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
    let at = at as usize;
    let mut inside = false;
    for line in smaps.lines() {
        if let Some((range, _)) = line.split_once(' ') {
            if let Some((lo, hi)) = range.split_once('-') {
                if let (Ok(lo), Ok(hi)) =
                    (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
                {
                    inside = lo <= at && at < hi;
                    continue;
                }
            }
        }
        if inside {
            if let Some(kb) = line.strip_prefix("Rss:") {
                return kb.trim().trim_end_matches("kB").trim().parse().unwrap();
            }
        }
    }
    panic!("no mapping holds {at:#x}");
}

/// Small releases (a batch's body each, with its header left between) are held and given
/// back together once they add up, so the pages do go; a whole range goes at once.
#[cfg(target_os = "linux")]
#[test]
fn small_releases_are_given_back_together() {
    use goscope_trace::Source;
    const MB: usize = 1 << 20;
    let path = std::env::temp_dir().join(format!("goscope-release-{}.bin", std::process::id()));
    std::fs::write(&path, vec![7u8; 40 * MB]).unwrap();
    let f = TraceFile::open(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert!(f.is_mapped());
    let touched: u64 = f.bytes().iter().step_by(4096).map(|&b| u64::from(b)).sum();
    assert_eq!(touched, 7 * (40 * MB as u64 / 4096));
    let at = f.bytes().as_ptr();
    let all_kb = resident_kb(at);
    assert!(
        all_kb >= 39 * 1024,
        "{all_kb} kB resident after touching 40 MB"
    );
    // 64 KB bodies with 16-byte headers between them, up to 8 MB: held, still resident.
    let body = 64 * 1024;
    let mut start = 0;
    while start + body <= 8 * MB {
        f.release(start + 16..start + body);
        start += body;
    }
    assert!(
        resident_kb(at) >= all_kb - 64,
        "given back before enough was held"
    );
    // Up to 24 MB: more than 16 MB held, given back.
    while start + body <= 24 * MB {
        f.release(start + 16..start + body);
        start += body;
    }
    let kb = resident_kb(at);
    assert!(
        kb <= all_kb - 15 * 1024,
        "{kb} kB of {all_kb} still resident"
    );
    // The rest at once.
    f.release(0..40 * MB);
    let kb = resident_kb(at);
    assert!(
        kb <= 1024,
        "{kb} kB still resident after releasing the whole file"
    );
    assert_eq!(
        f.bytes()[40 * MB - 1],
        7,
        "a released page reads the file again"
    );
}
