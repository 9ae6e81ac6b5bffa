//! The file's outer layer: the 16-byte header, batch headers, and the split into generations.
//!
//! ```text
//! header   "go 1.N trace\0\0\0"                      16 bytes (N = 22, 23, 25, 26 here;
//!                                                    11, 19, 21 are v1, read by `v1`)
//! batch    type byte 1 (EventBatch)                  or 49 (ExperimentalBatch) + experiment byte
//!          uvarint generation, uvarint M, uvarint base ticks, uvarint size (<= 64 KiB)
//!          size bytes of body; the body's first byte says what the batch holds:
//!          2 stacks, 4 strings, 6 CPU samples, 8 frequency (<= format 25), 50 sync (>= 25),
//!          anything else: events of one M in program order
//! eog      single byte 52: end of generation (format 26 only)
//! ```
//! Before format 26 a generation ends where the first batch of generation g+1 begins, or
//! at the end of the file. Only headers are read here; bodies are decoded per generation
//! (in parallel) by `generation.rs`.

use super::bytes::Cursor;
use super::error::{Error, ErrorKind, Result};
use super::spec::*;

/// The maximum size of a batch body.
pub const MAX_BATCH_SIZE: u64 = 64 << 10;
/// Length of the file header.
pub const HEADER_LEN: usize = 16;

/// A trace format version, the N of `go 1.N trace`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u32);

impl Version {
    /// Format 22, written by Go 1.22.
    pub const GO122: Version = Version(22);
    /// Format 23, written by Go 1.23 and 1.24.
    pub const GO123: Version = Version(23);
    /// Format 25, written by Go 1.25.
    pub const GO125: Version = Version(25);
    /// Format 26, written by Go 1.26 and later.
    pub const GO126: Version = Version(26);

    /// Whether this is one of the v1 formats (Go 1.11–1.21), read by `crate::v1`.
    pub fn is_v1(self) -> bool {
        matches!(self.0, 11 | 19 | 21)
    }

    /// The Go releases that write this format.
    pub fn go_versions(self) -> &'static str {
        match self.0 {
            5 => "1.5-1.6",
            7 => "1.7",
            8 => "1.8",
            9 => "1.9",
            10 => "1.10",
            11 => "1.11-1.18",
            19 => "1.19-1.20",
            21 => "1.21",
            22 => "1.22",
            23 => "1.23-1.24",
            25 => "1.25",
            26 => "1.26+",
            _ => "unknown",
        }
    }
}

/// Reads the header and returns the format version: a v2 one (22, 23, 25, 26) or a v1 one
/// (11, 19, 21). Rejects the older formats of Go 1.5–1.10 with a message naming the Go
/// release that wrote them.
pub fn read_header(data: &[u8]) -> Result<Version> {
    const PREFIX: &[u8] = b"go 1.";
    const SUFFIX: &[u8] = b" trace\0\0\0";
    if !data.starts_with(PREFIX) {
        return Err(Error::new(0, None, ErrorKind::NotATrace));
    }
    let digits = data[PREFIX.len()..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits == 0 || digits > 3 {
        return Err(Error::new(0, None, ErrorKind::NotATrace));
    }
    let end = PREFIX.len() + digits;
    if !data[end..].starts_with(SUFFIX) {
        return Err(Error::new(0, None, ErrorKind::NotATrace));
    }
    let n: u32 = std::str::from_utf8(&data[PREFIX.len()..end])
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or(Error::new(0, None, ErrorKind::NotATrace))?;
    let v = Version(n);
    match n {
        22 | 23 | 25 | 26 | 11 | 19 | 21 => Ok(v),
        5 | 7 | 8 | 9 | 10 => Err(Error::new(
            0,
            None,
            ErrorKind::UnsupportedVersion {
                version: n,
                go: v.go_versions(),
            },
        )),
        _ => Err(Error::malformed(
            5,
            None,
            "a known trace format version (11, 19, 21, 22, 23, 25, 26)",
            format!("go 1.{n}"),
        )),
    }
}

/// One batch, header decoded, body borrowed.
#[derive(Clone, Copy, Debug)]
pub struct Batch<'a> {
    /// File offset of the batch's first header byte.
    pub offset: u64,
    /// File offset of the body's first byte.
    pub body_offset: u64,
    /// Generation number from the batch header.
    pub generation: u64,
    /// The writing thread; u64::MAX on the wire becomes -1 (no thread).
    pub m: i64,
    /// Base timestamp in ticks.
    pub time_ticks: u64,
    /// Experiment id; 0 for ordinary batches.
    pub experiment: u8,
    /// The body's first byte, read with the header (on its page): what the body holds is
    /// known without touching the body again, so that sorting a generation's batches by
    /// kind does not map every batch's pages.
    pub first: Option<u8>,
    /// The batch body.
    pub body: &'a [u8],
}

/// What a batch body holds, decided by its first byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchKind {
    /// The string table.
    Strings,
    /// The stack table.
    Stacks,
    /// CPU profile samples.
    CpuSamples,
    /// Clock frequency and sync data (frequency batch before format 25, sync batch from 25).
    Sync,
    /// An experiment's batch, kept raw.
    Experimental,
    /// Events of one M in program order.
    Events,
}

impl Batch<'_> {
    /// What the body holds, for a trace of format `v`.
    pub fn kind(&self, v: Version) -> BatchKind {
        if self.experiment != 0 {
            return BatchKind::Experimental;
        }
        match self.first {
            Some(EV_STRINGS) => BatchKind::Strings,
            Some(EV_STACKS) => BatchKind::Stacks,
            Some(EV_CPU_SAMPLES) => BatchKind::CpuSamples,
            Some(EV_FREQUENCY) if v < Version::GO125 => BatchKind::Sync,
            Some(EV_SYNC_BATCH) if v >= Version::GO125 => BatchKind::Sync,
            _ => BatchKind::Events,
        }
    }
}

/// The result of reading one item at the batch level.
enum Item<'a> {
    Batch(Batch<'a>),
    EndOfGeneration,
}

/// Reads the batch (or end-of-generation marker) at `pos`. On failure also returns the
/// generation number if the header got that far.
fn read_item<'a>(
    data: &'a [u8],
    pos: usize,
) -> std::result::Result<(Item<'a>, usize), (Error, Option<u64>)> {
    let mut c = Cursor::new(&data[pos..], pos as u64, None);
    let typ = c.byte("a batch header").map_err(|e| (e, None))?;
    if typ == EV_END_OF_GENERATION {
        return Ok((Item::EndOfGeneration, pos + 1));
    }
    if typ != EV_EVENT_BATCH && typ != EV_EXPERIMENTAL_BATCH {
        return Err((
            Error::malformed(
                pos as u64,
                None,
                "a batch header byte (1 or 49)",
                format!("byte {typ}"),
            ),
            None,
        ));
    }
    let experiment = if typ == EV_EXPERIMENTAL_BATCH {
        c.byte("the batch's experiment id").map_err(|e| (e, None))?
    } else {
        0
    };
    let generation = c.uvarint("the batch's generation").map_err(|e| (e, None))?;
    let with_gen = |e: Error| {
        (
            Error {
                generation: Some(generation),
                ..e
            },
            Some(generation),
        )
    };
    let m = c.uvarint("the batch's thread (M) id").map_err(with_gen)?;
    let time_ticks = c.uvarint("the batch's base timestamp").map_err(with_gen)?;
    let size_offset = c.offset();
    let size = c.uvarint("the batch's body size").map_err(with_gen)?;
    if size > MAX_BATCH_SIZE {
        return Err(with_gen(Error::malformed(
            size_offset,
            None,
            "a batch size of at most 65536 bytes",
            size.to_string(),
        )));
    }
    let body_offset = c.offset();
    let body = c.bytes(size as usize, "the batch body").map_err(with_gen)?;
    let next = c.offset() as usize;
    Ok((
        Item::Batch(Batch {
            offset: pos as u64,
            body_offset,
            generation,
            m: m as i64,
            time_ticks,
            experiment,
            first: body.first().copied(),
            body,
        }),
        next,
    ))
}

/// The batches of one generation, in file order.
#[derive(Clone, Debug)]
pub struct GenerationSpan<'a> {
    /// Generation number.
    pub generation: u64,
    /// File offset where the generation's first batch begins.
    pub offset: u64,
    /// File offset just past its last byte (for format 26, past the end marker).
    pub end_offset: u64,
    /// The generation's batches.
    pub batches: Vec<Batch<'a>>,
}

/// The file split into generations by batch headers alone.
#[derive(Clone, Debug)]
pub struct Scan<'a> {
    /// Format version from the file header.
    pub version: Version,
    /// The generations found, in file order.
    pub generations: Vec<GenerationSpan<'a>>,
    /// Set when the file ends inside a generation or a batch cannot be read: the
    /// generations before it are complete and kept; this says what was cut.
    pub cut: Option<Error>,
}

/// The batches of generation `generation` that lie in `range` of the file, read again
/// (as `scan` found them: `range` is a `GenerationSpan`'s `offset..end_offset`), calling
/// `release` with the bytes read past every `RELEASE_STEP` bytes, as `scan_releasing`
/// does (a generation can be most of the file).
pub fn span_at<'a>(
    data: &'a [u8],
    generation: u64,
    range: std::ops::Range<u64>,
    release: &dyn Fn(std::ops::Range<usize>),
) -> Result<GenerationSpan<'a>> {
    let end = (range.end as usize).min(data.len());
    let mut span = GenerationSpan {
        generation,
        offset: range.start,
        end_offset: range.end,
        batches: Vec::new(),
    };
    let mut pos = range.start as usize;
    let mut released = pos;
    while pos < end {
        if pos >= released + RELEASE_STEP {
            release(released..pos);
            released = pos;
        }
        match read_item(data, pos) {
            Ok((Item::Batch(b), next)) if b.generation == generation => {
                span.batches.push(b);
                pos = next;
            }
            Ok((Item::Batch(b), _)) => {
                return Err(Error::malformed(
                    b.offset,
                    Some(generation),
                    "a batch of the generation being read",
                    format!("a batch of generation {}", b.generation),
                ));
            }
            Ok((Item::EndOfGeneration, next)) => pos = next,
            Err((e, _)) => return Err(e),
        }
    }
    if pos != range.end as usize {
        return Err(Error::eof(
            pos as u64,
            Some(generation),
            "the rest of the generation's batches",
        ));
    }
    Ok(span)
}

/// Splits the file into generations. Never fails once the header is valid: a bad or cut
/// batch ends the scan, keeping every generation that was complete before it.
pub fn scan(data: &[u8]) -> Result<Scan<'_>> {
    scan_releasing(data, u64::MAX, &|_| {})
}

/// Bytes scanned between two calls of `scan_releasing`'s `release`.
const RELEASE_STEP: usize = 4 << 20;

/// `scan`, calling `release` with the bytes scanned so far every `RELEASE_STEP` bytes:
/// the scan reads only batch headers, but the kernel maps a mapped file's pages around
/// each one it touches, so without that the whole file would be resident at once. The
/// scan stops before the first generation after the first that begins at or after
/// `prefix_bytes`, as if the file ended there.
pub fn scan_releasing<'a>(
    data: &'a [u8],
    prefix_bytes: u64,
    release: &dyn Fn(std::ops::Range<usize>),
) -> Result<Scan<'a>> {
    let version = read_header(data)?;
    if version.is_v1() {
        return Err(Error::malformed(
            5,
            None,
            "a format with generations (22 or later) to scan",
            format!("go 1.{} (a v1 trace: read it with `read`)", version.0),
        ));
    }
    let mut gens: Vec<GenerationSpan<'_>> = Vec::new();
    let mut cur: Option<GenerationSpan<'_>> = None;
    let mut pos = HEADER_LEN;
    let mut released = 0;
    let mut cut = None;
    let in_band_end = version >= Version::GO126;
    loop {
        if pos >= released + RELEASE_STEP {
            release(released..pos);
            released = pos;
        }
        if pos >= data.len() {
            if let Some(g) = cur.take() {
                if in_band_end {
                    cut = Some(Error::eof(
                        data.len() as u64,
                        Some(g.generation),
                        "the rest of the generation (no end-of-generation marker; trace likely truncated)",
                    ));
                } else {
                    gens.push(g);
                }
            }
            break;
        }
        match read_item(data, pos) {
            Ok((Item::EndOfGeneration, next)) => {
                if let Some(mut g) = cur.take() {
                    g.end_offset = next as u64;
                    gens.push(g);
                }
                pos = next;
            }
            Ok((Item::Batch(b), next)) => {
                if b.generation == 0 {
                    cut = Some(Error::malformed(
                        b.offset,
                        None,
                        "a generation number above 0",
                        "0",
                    ));
                    break;
                }
                match cur.as_mut() {
                    Some(g) if g.generation == b.generation => {
                        g.batches.push(b);
                        g.end_offset = next as u64;
                    }
                    Some(g)
                        if !in_band_end && Some(b.generation) == g.generation.checked_add(1) =>
                    {
                        let done = cur.take();
                        gens.extend(done);
                        if b.offset >= prefix_bytes {
                            break;
                        }
                        cur = Some(GenerationSpan {
                            generation: b.generation,
                            offset: b.offset,
                            end_offset: next as u64,
                            batches: vec![b],
                        });
                    }
                    Some(g) => {
                        cut = Some(Error::malformed(
                            b.offset,
                            Some(g.generation),
                            if in_band_end {
                                "an end-of-generation marker before a batch of another generation"
                            } else {
                                "batches of this generation or the next"
                            },
                            format!("a batch of generation {}", b.generation),
                        ));
                        break;
                    }
                    None => {
                        if !gens.is_empty() && b.offset >= prefix_bytes {
                            break;
                        }
                        if let Some(prev) = gens.last() {
                            if b.generation <= prev.generation {
                                cut = Some(Error::malformed(
                                    b.offset,
                                    Some(prev.generation),
                                    "generations in increasing order",
                                    format!("a batch of generation {}", b.generation),
                                ));
                                break;
                            }
                        }
                        cur = Some(GenerationSpan {
                            generation: b.generation,
                            offset: b.offset,
                            end_offset: next as u64,
                            batches: vec![b],
                        });
                    }
                }
                pos = next;
            }
            Err((e, batch_gen)) => {
                // A batch that can't be read. Before format 26, if it belongs to the next
                // generation the current one is complete.
                if let Some(g) = cur.take() {
                    if !in_band_end
                        && batch_gen.is_some()
                        && batch_gen == g.generation.checked_add(1)
                    {
                        gens.push(g);
                    }
                }
                cut = Some(e);
                break;
            }
        }
    }
    Ok(Scan {
        version,
        generations: gens,
        cut,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(n: u32) -> Vec<u8> {
        format!("go 1.{n} trace\0\0\0").into_bytes()
    }

    #[test]
    fn header_versions() {
        assert_eq!(read_header(&header(26)).unwrap(), Version(26));
        assert_eq!(read_header(&header(22)).unwrap(), Version(22));
        assert_eq!(read_header(&header(21)).unwrap(), Version(21));
        assert_eq!(read_header(&header(11)).unwrap(), Version(11));
        let e = read_header(&header(10)).unwrap_err();
        assert!(e.to_string().contains("Go 1.10"), "{e}");
        assert!(e.to_string().contains("Go 1.11 and later"), "{e}");
        let e = read_header(&header(5)).unwrap_err();
        assert!(e.to_string().contains("Go 1.5-1.6"), "{e}");
        assert!(scan(&header(21)).is_err());
        let e = read_header(b"PK\x03\x04 not a trace").unwrap_err();
        assert_eq!(e.kind, ErrorKind::NotATrace);
        assert!(read_header(b"go 1.").is_err());
        assert!(read_header(&header(99)).is_err());
    }

    #[rustfmt::skip]
    #[test]
    fn batch_header_fields() {
        let mut f = header(25);
        f.extend_from_slice(&[
            1,          // EventBatch
            3,          // generation 3
            0x80, 0x01, // M 128
            10,         // base ticks
            2,          // body size
            4, 0xaa,    // body: a strings batch (junk after the kind byte is not read here)
        ]);
        let s = scan(&f).unwrap();
        assert!(s.cut.is_none());
        assert_eq!(s.generations.len(), 1);
        let b = s.generations[0].batches[0];
        assert_eq!((b.generation, b.m, b.time_ticks, b.body.len()), (3, 128, 10, 2));
        assert_eq!(b.body_offset, 22);
        assert_eq!(b.kind(Version(25)), BatchKind::Strings);
    }

    #[rustfmt::skip]
    #[test]
    fn experimental_batch_and_generation_split_before_26() {
        let mut f = header(23);
        f.extend_from_slice(&[49, 1, 1, 2, 0, 1, 0x55]); // experimental batch, exp 1, gen 1, M 2
        f.extend_from_slice(&[1, 2, 2, 0, 1, 8]);         // gen 2 batch: a frequency batch
        let s = scan(&f).unwrap();
        assert_eq!(s.generations.len(), 2);
        assert_eq!(s.generations[0].batches[0].experiment, 1);
        assert_eq!(s.generations[0].batches[0].kind(Version(23)), BatchKind::Experimental);
        assert_eq!(s.generations[1].batches[0].kind(Version(23)), BatchKind::Sync);
        assert_eq!(s.generations[1].batches[0].kind(Version(25)), BatchKind::Events);
    }

    #[rustfmt::skip]
    #[test]
    fn format_26_needs_the_end_marker() {
        let mut f = header(26);
        f.extend_from_slice(&[1, 1, 0, 0, 1, 50, 52]); // gen 1, then end of generation
        f.extend_from_slice(&[1, 2, 0, 0, 1, 50]);     // gen 2 without its marker
        let s = scan(&f).unwrap();
        assert_eq!(s.generations.len(), 1);
        let cut = s.cut.unwrap();
        assert_eq!(cut.generation, Some(2));
        assert!(cut.to_string().contains("truncated"), "{cut}");
    }

    #[test]
    fn oversized_batch_is_rejected_with_offset() {
        let mut f = header(25);
        f.extend_from_slice(&[1, 1, 0, 0, 0x81, 0x80, 0x08]); // size 131073
        let s = scan(&f).unwrap();
        assert!(s.generations.is_empty());
        let cut = s.cut.unwrap();
        assert_eq!(cut.offset, 20);
        assert!(cut.to_string().contains("65536"), "{cut}");
    }

    #[test]
    fn cut_in_next_generation_header_keeps_current() {
        let mut f = header(25);
        f.extend_from_slice(&[1, 1, 0, 0, 1, 50]);
        f.extend_from_slice(&[1, 2, 0, 0, 9, 1]); // gen 2, body cut short
        let s = scan(&f).unwrap();
        assert_eq!(s.generations.len(), 1);
        assert!(s.cut.is_some());
        // The same cut inside generation 1 drops it.
        let mut f = header(25);
        f.extend_from_slice(&[1, 1, 0, 0, 1, 50]);
        f.extend_from_slice(&[1, 1, 0, 0, 9, 1]);
        let s = scan(&f).unwrap();
        assert_eq!(s.generations.len(), 0);
    }
}
