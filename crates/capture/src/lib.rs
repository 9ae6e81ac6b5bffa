//! Captures a Go execution trace from a running program over HTTP: net/http/pprof's
//! `/debug/pprof/trace?seconds=N`, or a URL of the program's own that answers with a trace
//! (a flight-recorder snapshot). The bytes go to a writer as they arrive, and each chunk
//! reports how many generations are complete, so a viewer can show them while the rest
//! arrives and a cut or stopped capture keeps everything received.
//!
//! ```text
//! worker thread:  GET url ──(ureq, rustls)──▶ chunk ──▶ Arrivals (complete generations)
//!                                              │
//!                                              └──▶ writer (the capture file), then progress
//! ```
//! Knows HTTP and the trace's outer layer (`goscope_trace::batch`), not the model or the UI.

#![warn(missing_docs)]

pub mod arrival;
pub mod error;
pub mod name;
pub mod target;

pub use arrival::{Arrivals, Progress};
pub use error::CaptureError;
pub use target::{Endpoint, Target};

use std::io::{Read, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Seconds a connection may take to open.
pub const CONNECT_TIMEOUT_S: u64 = 10;
/// Bytes read from the connection at a time (a trace batch is at most 64 KiB).
const CHUNK_BYTES: usize = 64 << 10;

/// Asks a capture to stop, keeping what arrived. A chunk is written and reported under a
/// lock that `stop` takes, so once `stop` returns nothing more is written: the file holds
/// exactly the bytes of the last progress report, even while the capture's thread is still
/// waiting for its next chunk.
#[derive(Debug, Default)]
pub struct Stop {
    requested: AtomicBool,
    writing: Mutex<()>,
}

impl Stop {
    /// Stops the capture; returns once a chunk being written is written. Not to be called
    /// from the capture's own progress callback (use `request` there).
    pub fn stop(&self) {
        self.request();
        drop(self.writing.lock());
    }

    /// Stops the capture after the chunk being written (if any), without waiting for it.
    pub fn request(&self) {
        self.requested.store(true, Ordering::Relaxed);
    }

    /// Whether a stop was asked for.
    pub fn is_requested(&self) -> bool {
        self.requested.load(Ordering::Relaxed)
    }
}

/// A capture that ended: the program finished its answer, or the user stopped it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Captured {
    /// Where it ended.
    pub progress: Progress,
    /// The user stopped it before the program finished.
    pub stopped: bool,
    /// The trace's format version.
    pub version: Option<goscope_trace::Version>,
}

impl Captured {
    /// Bytes after the last complete generation (a stop or a cut within a generation);
    /// they are in the file, and a read of it gives the complete generations and a warning.
    pub fn incomplete_bytes(&self) -> u64 {
        self.progress.received_bytes - self.progress.complete_bytes
    }
}

/// `capture_within` the target's own timeout (`Target::timeout_s`).
pub fn capture(
    target: &Target,
    out: &mut dyn Write,
    stop: &Stop,
    on_progress: &mut dyn FnMut(&Progress),
) -> Result<Captured, CaptureError> {
    capture_within(target, target.timeout_s(), out, stop, on_progress)
}

/// Asks `target` for a trace and writes its bytes to `out` as they arrive, calling
/// `on_progress` after each chunk is written. Stops, keeping what arrived, once `stop` is
/// asked (a chunk that arrives after it is not written). On an error after the trace began, every byte
/// received has been written and the error says how much that was. The whole request may
/// take `timeout_s` seconds.
pub fn capture_within(
    target: &Target,
    timeout_s: u64,
    out: &mut dyn Write,
    stop: &Stop,
    on_progress: &mut dyn FnMut(&Progress),
) -> Result<Captured, CaptureError> {
    let url = target.url().map_err(|e| CaptureError::BadTarget(e.0))?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(timeout_s)))
        .timeout_connect(Some(Duration::from_secs(CONNECT_TIMEOUT_S)))
        .user_agent(concat!("goscope/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let mut request = agent.get(&url);
    for (name, value) in &target.headers {
        request = request.header(name, value);
    }
    let t0 = Instant::now();
    let response = request
        .call()
        .map_err(|e| request_error(e, &url, timeout_s))?;
    let status = response.status().as_u16();
    if status != 200 {
        let body = response
            .into_body()
            .with_config()
            .limit(4096)
            .read_to_string()
            .unwrap_or_default();
        return Err(status_error(status, &url, body.trim(), target.seconds()));
    }
    let mut body = response.into_body().into_reader();
    let mut arrivals = Arrivals::new();
    let mut buf = vec![0u8; CHUNK_BYTES];
    let progress = |a: &Arrivals| Progress {
        received_bytes: a.received_bytes(),
        generations: a.generations(),
        complete_bytes: a.complete_bytes(),
        elapsed_ms: t0.elapsed().as_millis() as u64,
    };
    let stopped = loop {
        if stop.is_requested() {
            break true;
        }
        let n = match body.read(&mut buf) {
            Ok(0) => {
                arrivals.finish();
                break false;
            }
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let progress = progress(&arrivals);
                return Err(if as_timeout(&e) {
                    CaptureError::Timeout {
                        timeout_s,
                        progress,
                    }
                } else {
                    CaptureError::Cut {
                        progress,
                        cause: body_error(&e),
                    }
                });
            }
        };
        let _writing = stop.writing.lock();
        if stop.is_requested() {
            break true;
        }
        if let Err(e) = arrivals.push(&buf[..n]) {
            // Read a little more for the message: an HTML page or a JSON error says more
            // than its first bytes.
            let mut start = arrivals.held().to_vec();
            while start.len() < 60 {
                match body.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => start.extend_from_slice(&buf[..n]),
                }
            }
            return Err(CaptureError::NotATrace {
                url,
                start: arrival::printable_start(&start),
                detail: e.detail,
            });
        }
        if let Err(e) = out.write_all(&buf[..n]).and_then(|()| out.flush()) {
            return Err(CaptureError::Write {
                progress: progress(&arrivals),
                cause: e.to_string(),
            });
        }
        on_progress(&progress(&arrivals));
    };
    if arrivals.version().is_none() {
        return Err(CaptureError::NotATrace {
            url,
            start: String::new(),
            detail: format!(
                "{} bytes, fewer than a trace header",
                arrivals.received_bytes()
            ),
        });
    }
    let progress = progress(&arrivals);
    on_progress(&progress);
    Ok(Captured {
        progress,
        stopped,
        version: arrivals.version(),
    })
}

/// The error for a request that got no answer.
fn request_error(e: ureq::Error, url: &str, timeout_s: u64) -> CaptureError {
    let address = target::host_port(url).to_string();
    match e {
        ureq::Error::Io(io) => match io.kind() {
            std::io::ErrorKind::ConnectionRefused => CaptureError::Unreachable {
                address,
                cause: "connection refused".into(),
            },
            std::io::ErrorKind::TimedOut => CaptureError::Timeout {
                timeout_s,
                progress: Progress::default(),
            },
            // The connection opened, then the handshake broke: not a TLS server.
            _ if url.starts_with("https://") => CaptureError::Tls {
                url: url.into(),
                cause: format!("the handshake broke: {io}"),
            },
            _ => CaptureError::Unreachable {
                address,
                cause: io.to_string(),
            },
        },
        ureq::Error::ConnectionFailed => CaptureError::Unreachable {
            address,
            cause: "connection failed".into(),
        },
        ureq::Error::HostNotFound => CaptureError::HostNotFound { address },
        ureq::Error::Timeout(_) => CaptureError::Timeout {
            timeout_s,
            progress: Progress::default(),
        },
        ureq::Error::Tls(m) => CaptureError::Tls {
            url: url.into(),
            cause: m.into(),
        },
        ureq::Error::Rustls(r) => CaptureError::Tls {
            url: url.into(),
            cause: r.to_string(),
        },
        ureq::Error::Pem(p) => CaptureError::Tls {
            url: url.into(),
            cause: p.to_string(),
        },
        ureq::Error::BadUri(m) => CaptureError::BadTarget(format!("{url:?} is not a URL: {m}")),
        other => CaptureError::Request {
            url: url.into(),
            cause: other.to_string(),
        },
    }
}

/// The error for an answer other than 200, read the way net/http/pprof writes them.
fn status_error(code: u16, url: &str, body: &str, seconds: Option<u32>) -> CaptureError {
    let body: String = body.chars().take(300).collect();
    match code {
        404 => CaptureError::NotFound { url: url.into() },
        400 if body.contains("WriteTimeout") => CaptureError::DurationTooLong { seconds, body },
        500 if body.contains("Could not enable tracing") => CaptureError::TracingBusy { body },
        _ => CaptureError::Status {
            code,
            url: url.into(),
            body,
        },
    }
}

/// Whether a read of the body failed because the request's time ran out.
fn as_timeout(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::TimedOut
        || e.get_ref()
            .and_then(|i| i.downcast_ref::<ureq::Error>())
            .is_some_and(|u| matches!(u, ureq::Error::Timeout(_)))
}

/// What broke while the body was arriving.
fn body_error(e: &std::io::Error) -> String {
    match e.get_ref().and_then(|i| i.downcast_ref::<ureq::Error>()) {
        Some(u) => u.to_string(),
        None => e.to_string(),
    }
}
