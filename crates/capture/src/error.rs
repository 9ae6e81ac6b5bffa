//! Why a capture failed, each case with a message that says what to check; the cases
//! that happen after bytes arrived say how much was kept.

use std::fmt;

use super::arrival::Progress;

/// Why a capture failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum CaptureError {
    /// The address or a header cannot be used.
    BadTarget(String),
    /// No connection to `address` (refused, unreachable).
    Unreachable {
        /// `host:port`.
        address: String,
        /// What the system said.
        cause: String,
    },
    /// The host name does not resolve.
    HostNotFound {
        /// The host part of the URL.
        address: String,
    },
    /// TLS failed (handshake, certificate, or a plain-HTTP server asked over https).
    Tls {
        /// The URL asked.
        url: String,
        /// What the TLS layer said.
        cause: String,
    },
    /// No complete answer within the timeout; what arrived before it was written.
    Timeout {
        /// The timeout, in seconds.
        timeout_s: u64,
        /// Where the capture was (nothing received if the answer never began).
        progress: Progress,
    },
    /// 404: nothing is served at the URL.
    NotFound {
        /// The URL asked.
        url: String,
    },
    /// 400 from net/http/pprof: the requested duration reaches the server's WriteTimeout.
    DurationTooLong {
        /// The duration asked for, in seconds.
        seconds: Option<u32>,
        /// The server's answer.
        body: String,
    },
    /// 500 "Could not enable tracing": the program is already being traced.
    TracingBusy {
        /// The server's answer.
        body: String,
    },
    /// Any other status than 200.
    Status {
        /// The HTTP status code.
        code: u16,
        /// The URL asked.
        url: String,
        /// The start of the server's answer.
        body: String,
    },
    /// The answer is not a Go execution trace.
    NotATrace {
        /// The URL asked.
        url: String,
        /// The first bytes of the answer, as text.
        start: String,
        /// What the decoder says about them.
        detail: String,
    },
    /// The connection broke after the trace began; every byte received was written.
    Cut {
        /// Where the capture was.
        progress: Progress,
        /// What broke.
        cause: String,
    },
    /// The capture file could not be written.
    Write {
        /// Where the capture was.
        progress: Progress,
        /// What the system said.
        cause: String,
    },
    /// Anything else the HTTP client reports.
    Request {
        /// The URL asked.
        url: String,
        /// What the client said.
        cause: String,
    },
}

impl CaptureError {
    /// Where the capture was, for errors that happen after the trace began.
    pub fn progress(&self) -> Option<&Progress> {
        match self {
            CaptureError::Cut { progress, .. }
            | CaptureError::Write { progress, .. }
            | CaptureError::Timeout { progress, .. } => Some(progress),
            _ => None,
        }
    }
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaptureError::BadTarget(m) => f.write_str(m),
            CaptureError::Unreachable { address, cause } => write!(
                f,
                "cannot connect to {address} ({cause}): is the program listening on {address}?"
            ),
            CaptureError::HostNotFound { address } => {
                write!(f, "the host of {address} is not found (check the address)")
            }
            CaptureError::Tls { url, cause } => write!(
                f,
                "TLS failed with {url}: {cause} (does the program serve https on that port, with a certificate this machine trusts? use http:// for a plain server)"
            ),
            CaptureError::Timeout {
                timeout_s,
                progress,
            } => {
                write!(
                    f,
                    "no complete answer within the timeout of {timeout_s} s (the requested duration plus {} s)",
                    super::target::TIMEOUT_MARGIN_S
                )?;
                if progress.received_bytes > 0 {
                    write!(
                        f,
                        "; the {} bytes received are saved, and the {} complete generation{} open as a cut trace",
                        progress.received_bytes,
                        progress.generations,
                        if progress.generations == 1 { "" } else { "s" }
                    )?;
                }
                Ok(())
            }
            CaptureError::NotFound { url } => write!(
                f,
                "404 Not Found at {url}: is net/http/pprof imported and served on this port?"
            ),
            CaptureError::DurationTooLong { seconds, body } => {
                let asked = seconds.map_or(String::new(), |s| format!(" of {s} s"));
                write!(
                    f,
                    "400 Bad Request: the duration{asked} reaches the server's WriteTimeout (http.Server.WriteTimeout); ask for fewer seconds or raise the timeout (server: {body:?})"
                )
            }
            CaptureError::TracingBusy { body } => write!(
                f,
                "500: the program could not enable tracing because another trace is running (another capture, or runtime/trace.Start or a flight recorder in the program); try again when it ends (server: {body:?})"
            ),
            CaptureError::Status { code, url, body } => {
                write!(f, "HTTP {code} from {url}")?;
                if matches!(code, 401 | 403) {
                    write!(f, " (check the Authorization header)")?;
                }
                if !body.is_empty() {
                    write!(f, ": {body:?}")?;
                }
                Ok(())
            }
            CaptureError::NotATrace { url, start, detail } => write!(
                f,
                "the answer from {url} is not a Go execution trace ({detail}); it starts with {start:?}"
            ),
            CaptureError::Cut { progress, cause } => write!(
                f,
                "the connection broke after {} bytes ({cause}); every byte received is saved, and the {} complete generation{} open as a cut trace",
                progress.received_bytes,
                progress.generations,
                if progress.generations == 1 { "" } else { "s" }
            ),
            CaptureError::Write { progress, cause } => write!(
                f,
                "cannot write the capture after {} bytes: {cause}",
                progress.received_bytes
            ),
            CaptureError::Request { url, cause } => write!(f, "asking {url} failed: {cause}"),
        }
    }
}

impl std::error::Error for CaptureError {}
