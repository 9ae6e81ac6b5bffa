//! The decoder's typed error: what was expected, at which byte offset of the file, in which generation.

use std::fmt;

/// What went wrong while decoding or ordering a trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// Byte offset in the file where the problem was found (the start of the offending
    /// batch or event where known).
    pub offset: u64,
    /// The generation number from the batch header, when known.
    pub generation: Option<u64>,
    /// What kind of problem it is.
    pub kind: ErrorKind,
}

/// The class of a decoding error, with the values that were wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file does not start with `go 1.N trace\0\0\0`.
    NotATrace,
    /// A known header of a format goscope does not read (Go 1.5–1.10).
    UnsupportedVersion {
        /// The N of the header.
        version: u32,
        /// The Go releases that write that format.
        go: &'static str,
    },
    /// The file ended before a structure was complete.
    UnexpectedEof {
        /// What was being read.
        expected: &'static str,
    },
    /// A byte or value that is not what the format allows there.
    Malformed {
        /// What the format allows there.
        expected: &'static str,
        /// What the file holds instead.
        found: String,
    },
    /// The ordering state machine could not place any of the pending events.
    Broken {
        /// What went wrong.
        detail: String,
    },
}

impl Error {
    /// An error of `kind` at file offset `offset`.
    pub fn new(offset: u64, generation: Option<u64>, kind: ErrorKind) -> Self {
        Error {
            offset,
            generation,
            kind,
        }
    }

    /// The file or a structure ended before `expected` was complete.
    pub fn eof(offset: u64, generation: Option<u64>, expected: &'static str) -> Self {
        Error::new(offset, generation, ErrorKind::UnexpectedEof { expected })
    }

    /// `expected` was not found; `found` is what was there.
    pub fn malformed(
        offset: u64,
        generation: Option<u64>,
        expected: &'static str,
        found: impl Into<String>,
    ) -> Self {
        Error::new(
            offset,
            generation,
            ErrorKind::Malformed {
                expected,
                found: found.into(),
            },
        )
    }

    /// The trace cannot be read on (events that cannot be ordered, a cancelled read);
    /// `detail` says why.
    pub fn broken(offset: u64, generation: Option<u64>, detail: impl Into<String>) -> Self {
        Error::new(
            offset,
            generation,
            ErrorKind::Broken {
                detail: detail.into(),
            },
        )
    }

    /// The read was cancelled; what came before `offset` was read.
    pub(crate) fn cancelled(offset: u64) -> Self {
        Error::broken(offset, None, "reading was cancelled")
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::NotATrace => write!(
                f,
                "not a Go execution trace: expected header `go 1.N trace` at offset 0"
            )?,
            ErrorKind::UnsupportedVersion { version, go } => write!(
                f,
                "trace format go 1.{version} (written by Go {go}) is not supported; \
                 goscope reads traces from Go 1.11 and later"
            )?,
            ErrorKind::UnexpectedEof { expected } => write!(
                f,
                "file ends at offset {} while reading {expected}",
                self.offset
            )?,
            ErrorKind::Malformed { expected, found } => write!(
                f,
                "at offset {}: expected {expected}, found {found}",
                self.offset
            )?,
            ErrorKind::Broken { detail } => {
                write!(f, "broken trace near offset {}: {detail}", self.offset)?
            }
        }
        if let Some(g) = self.generation {
            write!(f, " (generation {g})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// A result with this crate's `Error`.
pub type Result<T> = std::result::Result<T, Error>;
