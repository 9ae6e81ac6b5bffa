//! A test HTTP server on 127.0.0.1 that answers like net/http/pprof's trace endpoint:
//! a trace streamed in chunks (chunked transfer encoding, as Go sends it) as fast as the
//! test lets it, a connection cut mid-way, or an error status with Go's text. Captures are
//! tested against it without Go or the network.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// What the server answers every request with.
#[derive(Clone, Debug)]
pub enum Answer {
    /// 200 with these bytes, in chunks of `chunk_bytes`, each sent once the gate allows
    /// it (see `TraceServer::allow`); the body ends when all are sent, unless the
    /// connection is cut first (`TraceServer::cut`).
    Body {
        /// The body.
        bytes: Vec<u8>,
        /// Bytes per chunk written.
        chunk_bytes: usize,
    },
    /// A status other than 200 with a text body (as Go's `serveError` writes it).
    Status {
        /// The status code.
        code: u16,
        /// The body.
        text: String,
    },
}

/// How far a body may go.
#[derive(Debug, Default)]
struct Gate {
    /// Bytes of the body that may be sent.
    allowed: usize,
    /// Cut the connection once `allowed` bytes are sent, without ending the body.
    cut: bool,
    /// Bytes of the body sent so far (of the latest request).
    sent: usize,
}

/// A server on an ephemeral port of 127.0.0.1, serving until the process ends.
pub struct TraceServer {
    addr: SocketAddr,
    gate: Arc<(Mutex<Gate>, Condvar)>,
    heads: Arc<Mutex<Vec<String>>>,
}

impl TraceServer {
    /// Serves `answer`, with the whole body allowed at once.
    pub fn start(answer: Answer) -> TraceServer {
        let s = TraceServer::gated(answer);
        s.allow(usize::MAX);
        s
    }

    /// Serves `bytes` as a trace in chunks of `chunk_bytes`, all allowed.
    pub fn trace(bytes: Vec<u8>, chunk_bytes: usize) -> TraceServer {
        TraceServer::start(Answer::Body { bytes, chunk_bytes })
    }

    /// Serves `bytes` as a trace in chunks of `chunk_bytes`, none allowed yet (`allow`).
    pub fn gated_trace(bytes: Vec<u8>, chunk_bytes: usize) -> TraceServer {
        TraceServer::gated(Answer::Body { bytes, chunk_bytes })
    }

    /// Answers `code` with `text`.
    pub fn status(code: u16, text: &str) -> TraceServer {
        TraceServer::start(Answer::Status {
            code,
            text: text.into(),
        })
    }

    /// Serves `answer` with no body bytes allowed yet: `allow` lets them go.
    pub fn gated(answer: Answer) -> TraceServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local address");
        let gate = Arc::new((Mutex::new(Gate::default()), Condvar::new()));
        let heads = Arc::new(Mutex::new(Vec::new()));
        let (g, h) = (gate.clone(), heads.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (g, h, answer) = (g.clone(), h.clone(), answer.clone());
                std::thread::spawn(move || {
                    let _ = serve(stream, &answer, &g, &h);
                });
            }
        });
        TraceServer { addr, gate, heads }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Lets the first `bytes` of the body go (more than its length: all of it).
    pub fn allow(&self, bytes: usize) {
        let (m, cv) = &*self.gate;
        m.lock().unwrap().allowed = bytes;
        cv.notify_all();
    }

    /// Cuts the connection once `bytes` of the body are sent.
    pub fn cut_at(&self, bytes: usize) {
        let (m, cv) = &*self.gate;
        let mut g = m.lock().unwrap();
        g.allowed = bytes;
        g.cut = true;
        cv.notify_all();
    }

    /// Waits until the server has sent `bytes` of the body (at most 20 s).
    pub fn wait_sent(&self, bytes: usize) {
        let (m, cv) = &*self.gate;
        let g = m.lock().unwrap();
        let (g, timeout) = cv
            .wait_timeout_while(g, Duration::from_secs(20), |g| g.sent < bytes)
            .unwrap();
        assert!(!timeout.timed_out(), "sent {} of {bytes} bytes", g.sent);
    }

    /// The request lines and headers received, one string per request.
    pub fn requests(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

/// Answers the requests of one connection.
fn serve(
    stream: TcpStream,
    answer: &Answer,
    gate: &(Mutex<Gate>, Condvar),
    heads: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    loop {
        let mut head = String::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
            if line == "\r\n" || line == "\n" {
                break;
            }
            head.push_str(&line);
        }
        heads.lock().unwrap().push(head);
        match answer {
            Answer::Status { code, text } => {
                let body = format!("{text}\n");
                write!(
                    out,
                    "HTTP/1.1 {code} Error\r\nContent-Type: text/plain; charset=utf-8\r\nX-Go-Pprof: 1\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )?;
            }
            Answer::Body { bytes, chunk_bytes } => {
                write!(
                    out,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"trace\"\r\nTransfer-Encoding: chunked\r\n\r\n"
                )?;
                out.flush()?;
                let (m, cv) = gate;
                m.lock().unwrap().sent = 0;
                let mut sent = 0;
                while sent < bytes.len() {
                    let g = m.lock().unwrap();
                    let g = cv.wait_while(g, |g| g.allowed <= sent && !g.cut).unwrap();
                    if g.allowed <= sent {
                        // Close without the last chunk: the client sees a cut body.
                        return Ok(());
                    }
                    let end = bytes.len().min(g.allowed).min(sent + (*chunk_bytes).max(1));
                    drop(g);
                    write!(out, "{:x}\r\n", end - sent)?;
                    out.write_all(&bytes[sent..end])?;
                    out.write_all(b"\r\n")?;
                    out.flush()?;
                    sent = end;
                    m.lock().unwrap().sent = sent;
                    cv.notify_all();
                }
                let g = m.lock().unwrap();
                if g.cut {
                    return Ok(());
                }
                drop(g);
                out.write_all(b"0\r\n\r\n")?;
                out.flush()?;
            }
        }
    }
}
