//! Counts the generations of a trace that is still arriving: which prefix of the bytes
//! received so far holds only complete generations, without keeping those bytes.
//!
//! A generation is complete when the next one begins (before format 26) or at its
//! end-of-generation marker (format 26, Go 1.26+); the rules are `goscope_trace::batch`'s,
//! applied to the header followed by the bytes after the last complete generation, so
//! only the generation in progress is held. When the stream ends cleanly at a batch
//! boundary, a format-25-or-older trace's last generation is complete too. A v1 trace
//! (Go 1.21 and older, a service that has not upgraded) has no generations: it is one,
//! complete when the stream ends cleanly, and none of it is held meanwhile.

use goscope_trace::Version;
use goscope_trace::batch::{self, HEADER_LEN};

/// Where a capture is: after each chunk, and at its end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Bytes received (and written) so far.
    pub received_bytes: u64,
    /// Complete generations among them.
    pub generations: usize,
    /// Length of the prefix holding the header and the complete generations.
    pub complete_bytes: u64,
    /// Milliseconds since the request was sent.
    pub elapsed_ms: u64,
}

impl Progress {
    /// `1.2 MB received, 2 generations complete, 3.1 s`.
    pub fn summary(&self) -> String {
        format!(
            "{} received, {} generation{} complete, {:.1} s",
            bytes_text(self.received_bytes),
            self.generations,
            if self.generations == 1 { "" } else { "s" },
            self.elapsed_ms as f64 / 1e3
        )
    }
}

/// `1.2 MB`, `34.5 kB`, `120 B`.
pub fn bytes_text(n: u64) -> String {
    match n {
        0..1_000 => format!("{n} B"),
        1_000..1_000_000 => format!("{:.1} kB", n as f64 / 1e3),
        _ => format!("{:.1} MB", n as f64 / 1e6),
    }
}

/// Where a growing trace stands.
#[derive(Clone, Debug, Default)]
pub struct Arrivals {
    /// The 16-byte header, then the bytes after the last complete generation.
    tail: Vec<u8>,
    received_bytes: u64,
    generations: usize,
    complete_bytes: u64,
    version: Option<Version>,
}

/// The bytes received do not start like a Go execution trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotATrace {
    /// What the decoder says about the header.
    pub detail: String,
    /// The first bytes received, as text where printable (for the message).
    pub start: String,
}

/// The first 60 bytes as text: printable ASCII kept, line breaks and tabs as spaces, other
/// bytes as `.`, trimmed.
pub fn printable_start(bytes: &[u8]) -> String {
    let start: String = bytes[..bytes.len().min(60)]
        .iter()
        .map(|&b| match b {
            b' '..=b'~' => b as char,
            b'\n' | b'\r' | b'\t' => ' ',
            _ => '.',
        })
        .collect();
    start.trim().to_string()
}

/// The magic every trace header starts with.
const MAGIC: &[u8] = b"go 1.";

impl Arrivals {
    /// Nothing received yet.
    pub fn new() -> Arrivals {
        Arrivals::default()
    }

    /// Takes the next bytes of the stream; returns how many generations they completed.
    /// Fails as soon as the start of the stream cannot be a trace header.
    pub fn push(&mut self, bytes: &[u8]) -> Result<usize, NotATrace> {
        self.received_bytes += bytes.len() as u64;
        self.tail.extend_from_slice(bytes);
        if self.version.is_none() {
            let n = self.tail.len().min(MAGIC.len());
            if self.tail[..n] != MAGIC[..n] {
                return Err(self.not_a_trace("it does not start with `go 1.`".into()));
            }
            if self.tail.len() < HEADER_LEN {
                return Ok(0);
            }
            match batch::read_header(&self.tail) {
                Ok(v) => {
                    self.version = Some(v);
                    self.complete_bytes = HEADER_LEN as u64;
                }
                Err(e) => return Err(self.not_a_trace(e.to_string())),
            }
        }
        Ok(self.advance(false))
    }

    /// The stream ended cleanly: before format 26 a generation that ends where the stream
    /// does is complete. Returns how many generations that completed.
    pub fn finish(&mut self) -> usize {
        if self.version.is_none() {
            return 0;
        }
        self.advance(true)
    }

    /// Moves whole generations out of the tail.
    fn advance(&mut self, ended: bool) -> usize {
        let Some(version) = self.version else {
            return 0;
        };
        if version.is_v1() {
            // Read only as a whole: nothing to hold, one generation at a clean end.
            self.tail.truncate(HEADER_LEN);
            if !ended {
                return 0;
            }
            self.complete_bytes = self.received_bytes;
            self.generations += 1;
            return 1;
        }
        let Ok(scan) = batch::scan(&self.tail) else {
            return 0;
        };
        let mut complete = scan.generations.len();
        if version < Version::GO126 && scan.cut.is_none() && !ended {
            // The stream stopped at a batch boundary: the last generation may go on.
            complete = complete.saturating_sub(1);
        }
        if complete == 0 {
            return 0;
        }
        let end = scan.generations[complete - 1].end_offset as usize;
        drop(scan);
        self.tail.drain(HEADER_LEN..end);
        self.complete_bytes += (end - HEADER_LEN) as u64;
        self.generations += complete;
        complete
    }

    fn not_a_trace(&self, detail: String) -> NotATrace {
        NotATrace {
            detail,
            start: printable_start(&self.tail),
        }
    }

    /// The bytes held: before a valid header, everything received.
    pub fn held(&self) -> &[u8] {
        &self.tail
    }

    /// Bytes received so far.
    pub fn received_bytes(&self) -> u64 {
        self.received_bytes
    }

    /// Complete generations so far.
    pub fn generations(&self) -> usize {
        self.generations
    }

    /// Length of the prefix that holds the header and the complete generations: a read of
    /// exactly these bytes gives those generations and no warning.
    pub fn complete_bytes(&self) -> u64 {
        self.complete_bytes
    }

    /// The trace format, once the header is in.
    pub fn version(&self) -> Option<Version> {
        self.version
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `bytes` in chunks of `chunk` and returns (generations, complete bytes) after
    /// each chunk.
    fn feed(bytes: &[u8], chunk: usize) -> Vec<(usize, u64)> {
        let mut a = Arrivals::new();
        bytes
            .chunks(chunk)
            .map(|c| {
                a.push(c).unwrap();
                (a.generations(), a.complete_bytes())
            })
            .collect()
    }

    #[test]
    fn every_prefix_of_complete_bytes_reads_its_generations_without_a_warning() {
        for name in [
            "stall-go127",
            "stall-go125",
            "stall-go122",
            "gc-go123",
            "mixed-go127",
        ] {
            let bytes = goscope_testdata::trace_bytes(name);
            let whole = batch::scan(&bytes).unwrap().generations.len();
            for chunk in [1, 7, 100, 4096, 65536] {
                let mut last = (0, 0);
                for (gens, complete) in feed(&bytes, chunk) {
                    assert!(
                        gens >= last.0 && complete >= last.1,
                        "{name}: counts only grow"
                    );
                    if gens > last.0 {
                        let prefix = &bytes[..complete as usize];
                        let scan = batch::scan(prefix).unwrap();
                        assert_eq!(scan.generations.len(), gens, "{name} chunk {chunk}");
                        assert!(scan.cut.is_none(), "{name}: {:?}", scan.cut);
                        assert_eq!(
                            scan.generations[gens - 1].end_offset,
                            complete,
                            "{name}: the prefix ends where a generation does"
                        );
                    }
                    last = (gens, complete);
                }
                let mut a = Arrivals::new();
                a.push(&bytes).unwrap();
                a.finish();
                assert_eq!(a.generations(), whole, "{name}: all generations once ended");
                assert_eq!(a.complete_bytes(), bytes.len() as u64, "{name}");
            }
        }
    }

    #[test]
    fn before_format_26_the_last_generation_waits_for_the_next_or_the_end() {
        let bytes = goscope_testdata::trace_bytes("stall-go125");
        let whole = batch::scan(&bytes).unwrap().generations.len();
        assert!(whole >= 2);
        let mut a = Arrivals::new();
        a.push(&bytes).unwrap();
        assert_eq!(a.generations(), whole - 1, "the stream may go on");
        assert_eq!(a.finish(), 1);
        assert_eq!(a.generations(), whole);
    }

    #[test]
    fn format_26_needs_no_end_of_stream() {
        let bytes = goscope_testdata::trace_bytes("stall-go127");
        let whole = batch::scan(&bytes).unwrap().generations.len();
        let mut a = Arrivals::new();
        a.push(&bytes).unwrap();
        assert_eq!(a.generations(), whole);
        assert_eq!(a.finish(), 0);
    }

    #[test]
    fn what_is_not_a_trace_is_named_at_once() {
        let mut a = Arrivals::new();
        let e = a.push(b"<!DOCTYPE html>\n<html>").unwrap_err();
        assert_eq!(e.start, "<!DOCTYPE html> <html>");
        assert!(e.detail.contains("go 1."), "{e:?}");
        // A plausible start waits for the rest of the header.
        let mut a = Arrivals::new();
        assert_eq!(a.push(b"go 1."), Ok(0));
        let e = a.push(b"10 trace\0\0\0").unwrap_err();
        assert!(e.detail.contains("1.10"), "{e:?}");
    }

    #[test]
    fn a_v1_trace_is_one_generation_complete_at_its_end_and_is_not_held() {
        let bytes = goscope_testdata::trace_bytes("stall-go121");
        let mut a = Arrivals::new();
        for c in bytes.chunks(4096) {
            assert_eq!(a.push(c), Ok(0));
            assert_eq!(a.generations(), 0);
            assert!(a.held().len() <= HEADER_LEN + 4096);
        }
        assert_eq!(a.finish(), 1);
        assert_eq!(a.complete_bytes(), bytes.len() as u64);
        assert!(a.version().is_some_and(|v| v.is_v1()));
    }

    /// Mutated traces and random bytes, fed in random chunks, never panic; the counts only
    /// grow and the complete prefix never passes what was received.
    #[test]
    fn any_bytes_in_any_chunks_never_panic() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let traces = ["stall-go127", "stall-go123", "net-go125", "timers-go122"];
        for round in 0..400 {
            let mut bytes = goscope_testdata::trace_bytes(traces[round % traces.len()]);
            if round % 10 == 9 {
                let n = bytes.len();
                bytes = (0..n).map(|_| next() as u8).collect();
                bytes[..16].copy_from_slice(b"go 1.26 trace\0\0\0");
            }
            for _ in 0..(next() % 8) {
                let i = 16 + (next() as usize) % (bytes.len() - 16);
                bytes[i] = next() as u8;
            }
            let cut = 16 + (next() as usize) % (bytes.len() - 15);
            let mut a = Arrivals::new();
            let mut at = 0;
            let mut last = (0, 0);
            while at < cut {
                let n = (1 + next() as usize % 5000).min(cut - at);
                if a.push(&bytes[at..at + n]).is_err() {
                    break;
                }
                at += n;
                assert!(a.generations() >= last.0 && a.complete_bytes() >= last.1);
                assert!(a.complete_bytes() <= a.received_bytes());
                last = (a.generations(), a.complete_bytes());
            }
            a.finish();
            assert!(a.complete_bytes() <= a.received_bytes());
        }
    }
}
