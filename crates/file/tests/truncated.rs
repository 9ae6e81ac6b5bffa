//! A trace file truncated on disk while it is mapped (as `go test -trace=FILE` run again
//! does, in place) reads as zeros past its new end and says it changed, instead of ending
//! the process with SIGBUS.

#[cfg(target_os = "linux")]
#[test]
fn a_file_truncated_while_mapped_reads_zeros_past_its_new_end() {
    use goscope_file::TraceFile;
    let dir = std::env::temp_dir().join(format!("goscope-truncated-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("trace.out");
    // No zero byte, so that zeros read can only be the guard's or the kernel's.
    let bytes: Vec<u8> = (0..256 * 1024u32).map(|i| (i % 251) as u8 + 1).collect();
    std::fs::write(&path, &bytes).unwrap();
    let file = TraceFile::open(&path).unwrap();
    let other = TraceFile::open(&path).unwrap();
    assert!(file.is_mapped());
    // Read (and so mapped in) before the truncation, and not after.
    assert_eq!(file.bytes()[100_000], bytes[100_000]);
    assert!(!file.changed_on_disk());

    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(5000)
        .unwrap();
    // Every byte, past the new end too: without the guard the first read of a page
    // wholly past it raises SIGBUS.
    let read = file.bytes().to_vec();
    assert_eq!(read.len(), bytes.len(), "the mapping keeps its length");
    assert_eq!(&read[..5000], &bytes[..5000], "what the file still holds");
    assert!(
        read[5000..].iter().all(|&b| b == 0),
        "zeros past the new end"
    );
    assert!(file.changed_on_disk());
    assert!(
        !other.changed_on_disk(),
        "another mapping read nothing past the end"
    );
    drop(file);
    let _ = std::fs::remove_dir_all(&dir);
}
