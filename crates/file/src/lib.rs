//! The one owner of a trace file: maps it read-only (or reads it where mapping fails),
//! hands its bytes to readers, and gives back pages a read says it no longer needs.
//!
//! Every `unsafe` that touches a file lives here, each with its SAFETY note. A load opens a
//! [`TraceFile`] once and shares it (`Arc<TraceFile>`) between everything that reads the
//! trace — the model builder and every background analysis — so they always describe the
//! same bytes, even if the file on disk is replaced meanwhile. A file truncated in place
//! while mapped (a new `go test -trace` run to the same path) reads as zeros past its new
//! end, on Linux, instead of ending the process (`guard`, `TraceFile::changed_on_disk`).

#[cfg(target_os = "linux")]
mod guard;

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Released ranges are held until they add up to this many bytes, then given back
/// together, their touching ranges merged: a read releases each batch as it finishes
/// (tens of kilobytes), and each give-back costs a system call and an interrupt of every
/// other core the process runs on (to drop its mappings), which one at a time came to 8 %
/// of the ordering thread's time on a 859 MB trace.
const RELEASE_AT_BYTES: usize = 16 << 20;

/// Held ranges this close are given back as one, with the bytes between them: less than a
/// page, which a later read would fault in again if it needed it.
const MERGE_GAP_BYTES: usize = 4096;

/// A trace file's bytes: mapped when possible, read otherwise.
pub struct TraceFile {
    path: PathBuf,
    /// Keeps a read of the mapping past the file's end, once the file was truncated on
    /// disk, from killing the process (see `guard`). Dropped before `bytes`, as declared
    /// before it: a watch ends before its mapping is unmapped.
    #[cfg(target_os = "linux")]
    watch: Option<guard::Watch>,
    bytes: Bytes,
    /// How many of the bytes are the trace: all of them, or the prefix `open_prefix` asked
    /// for (a file that is still growing).
    len: usize,
    /// Ranges released but not yet given back (see `RELEASE_AT_BYTES`).
    pending: Mutex<Pending>,
}

#[derive(Default)]
struct Pending {
    ranges: Vec<Range<usize>>,
    bytes: usize,
}

enum Bytes {
    Mapped(memmap2::Mmap),
    Read(Vec<u8>),
}

/// Why a trace file could not be opened.
#[derive(Debug)]
pub struct OpenError {
    path: PathBuf,
    what: &'static str,
    source: std::io::Error,
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot {} {}: {}",
            self.what,
            self.path.display(),
            self.source
        )
    }
}

impl std::error::Error for OpenError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

impl TraceFile {
    /// Maps `path` read-only, falling back to reading it whole when it cannot be mapped
    /// (a pipe, a file system without mmap).
    pub fn open(path: &Path) -> Result<TraceFile, OpenError> {
        let err = |what, source| OpenError {
            path: path.to_path_buf(),
            what,
            source,
        };
        let file = std::fs::File::open(path).map_err(|e| err("open", e))?;
        // SAFETY: the mapping is read-only and private to this process. Another process
        // may truncate the file meanwhile (`go test -trace=FILE` run again does, in place):
        // a read past its new end faults, and on Linux `guard` turns that into zeros read
        // (and `changed_on_disk`); elsewhere it is the mmap risk every viewer that maps
        // files takes.
        let bytes = match unsafe { memmap2::Mmap::map(&file) } {
            Ok(m) => Bytes::Mapped(m),
            Err(_) => Bytes::Read(std::fs::read(path).map_err(|e| err("read", e))?),
        };
        #[cfg(target_os = "linux")]
        let watch = match &bytes {
            Bytes::Mapped(m) => guard::Watch::new(m.as_ptr(), m.len()),
            Bytes::Read(_) => None,
        };
        let len = match &bytes {
            Bytes::Mapped(m) => m.len(),
            Bytes::Read(v) => v.len(),
        };
        Ok(TraceFile {
            path: path.to_path_buf(),
            #[cfg(target_os = "linux")]
            watch,
            bytes,
            len,
            pending: Mutex::default(),
        })
    }

    /// The first `len` bytes of `path`, a file that may still be growing (a capture): the
    /// mapping covers the file as it is now, and only its first `len` bytes are the trace.
    pub fn open_prefix(path: &Path, len: u64) -> Result<TraceFile, OpenError> {
        let mut f = TraceFile::open(path)?;
        match usize::try_from(len) {
            Ok(n) if n <= f.len => {
                f.len = n;
                Ok(f)
            }
            _ => Err(OpenError {
                path: path.to_path_buf(),
                what: "read the prefix of",
                source: std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!("it holds {} bytes, fewer than {len}", f.len),
                ),
            }),
        }
    }

    /// A trace held in memory (a download, a test), under a name for messages.
    pub fn from_bytes(path: PathBuf, bytes: Vec<u8>) -> TraceFile {
        TraceFile {
            path,
            #[cfg(target_os = "linux")]
            watch: None,
            len: bytes.len(),
            bytes: Bytes::Read(bytes),
            pending: Mutex::default(),
        }
    }

    /// Whether a read found the file cut short on disk since it was mapped (truncated,
    /// as a new `go test -trace` run to the same path does): what was read past its new
    /// end is zeros, which readers reject with an error naming the offset. Linux only;
    /// elsewhere such a read still ends the process.
    pub fn changed_on_disk(&self) -> bool {
        #[cfg(target_os = "linux")]
        return self.watch.as_ref().is_some_and(|w| w.changed());
        #[cfg(not(target_os = "linux"))]
        false
    }

    /// The path it was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the bytes are a mapping of the file (not a copy read into memory).
    pub fn is_mapped(&self) -> bool {
        matches!(self.bytes, Bytes::Mapped(_))
    }

    /// The whole file (or the prefix it was opened with).
    pub fn bytes(&self) -> &[u8] {
        let all: &[u8] = match &self.bytes {
            Bytes::Mapped(m) => m,
            Bytes::Read(v) => v,
        };
        &all[..self.len]
    }
}

impl std::ops::Deref for TraceFile {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.bytes()
    }
}

impl fmt::Debug for TraceFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraceFile")
            .field("path", &self.path)
            .field("len", &self.bytes().len())
            .field("mapped", &self.is_mapped())
            .finish()
    }
}

impl goscope_trace::Source for TraceFile {
    fn bytes(&self) -> &[u8] {
        TraceFile::bytes(self)
    }

    /// Gives back this process's pages of the mapping in `range`, so that a read's
    /// resident memory holds the generations in flight, not the whole file. Small ranges
    /// are given back together once `RELEASE_AT_BYTES` of them are held.
    fn release(&self, range: Range<usize>) {
        if !self.is_mapped() || range.is_empty() {
            return;
        }
        let Ok(mut pending) = self.pending.lock() else {
            return self.give_back(range);
        };
        if range.len() >= RELEASE_AT_BYTES {
            drop(pending);
            return self.give_back(range);
        }
        pending.bytes += range.len();
        pending.ranges.push(range);
        if pending.bytes < RELEASE_AT_BYTES {
            return;
        }
        let ranges = std::mem::take(&mut pending.ranges);
        pending.bytes = 0;
        drop(pending);
        for r in merged(ranges) {
            self.give_back(r);
        }
    }
}

/// `ranges` sorted, with those that overlap or lie less than `MERGE_GAP_BYTES` apart made
/// one (the bytes between them go too: batches' bodies are released, and the headers
/// between them, a few bytes read by the scan before, go with them).
fn merged(mut ranges: Vec<Range<usize>>) -> Vec<Range<usize>> {
    ranges.sort_unstable_by_key(|r| r.start);
    let mut out: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match out.last_mut() {
            Some(m) if r.start <= m.end + MERGE_GAP_BYTES => m.end = m.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

impl TraceFile {
    /// Drops this process's pages of the mapping in `range` now.
    fn give_back(&self, range: Range<usize>) {
        #[cfg(target_os = "linux")]
        if let Bytes::Mapped(m) = &self.bytes {
            let end = range.end.min(self.len);
            if range.start < end {
                // SAFETY: the mapping is private and read-only, so nothing was written to
                // its pages and dropping them loses nothing: a later read (of the pages at
                // the range's ends too, as the kernel widens it to whole pages) faults the
                // file's bytes in again, from the page cache. memmap2 calls this unsafe
                // because on a writable private mapping it would discard the writes. A
                // failure only leaves the pages resident.
                let _ = unsafe {
                    m.unchecked_advise_range(
                        memmap2::UncheckedAdvice::DontNeed,
                        range.start,
                        end - range.start,
                    )
                };
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = range;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_ranges_merge_when_they_touch_or_lie_less_than_a_page_apart() {
        let got = merged(vec![
            // Exactly a page after the end of the one before it: merged.
            9096..9500,
            0..100,
            120..4000,
            // Overlaps the one before.
            3000..5000,
            // A page and a byte after the one before it: not merged.
            13597..20000,
        ]);
        assert_eq!(got, vec![0..9500, 13597..20000]);
        assert_eq!(merged(Vec::new()), Vec::<Range<usize>>::new());
    }
}
