//! Captures from a test server on 127.0.0.1 (`goscope_testdata::server`): the bytes
//! written equal the bytes served, progress counts the generations, a stop or a cut keeps
//! every byte received, and each failure gets its own message.

use goscope_capture::{CaptureError, Captured, Endpoint, Progress, Stop, Target, capture};
use goscope_testdata::server::{Answer, TraceServer};
use goscope_trace::batch;

/// Captures from `target` into memory, with the progress reports made.
fn run(target: &Target) -> (Result<Captured, CaptureError>, Vec<u8>, Vec<Progress>) {
    let mut out = Vec::new();
    let mut reports = Vec::new();
    let r = capture(target, &mut out, &Stop::default(), &mut |p| {
        reports.push(*p)
    });
    (r, out, reports)
}

#[test]
fn a_served_trace_is_written_byte_for_byte_with_its_generations_counted() {
    for name in ["stall-go127", "stall-go125", "gc-go123", "mixed-go127"] {
        let bytes = goscope_testdata::trace_bytes(name);
        let server = TraceServer::trace(bytes.clone(), 1000);
        let mut target = Target::pprof(&server.url(), 3);
        target
            .headers
            .push(("Authorization".into(), "Bearer s3cret".into()));
        let (r, out, reports) = run(&target);
        let done = r.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            out == bytes,
            "{name}: {} bytes written of {}",
            out.len(),
            bytes.len()
        );
        let whole = batch::scan(&bytes).unwrap().generations.len();
        assert_eq!(done.progress.generations, whole, "{name}");
        assert_eq!(done.progress.received_bytes, bytes.len() as u64);
        assert_eq!(done.progress.complete_bytes, bytes.len() as u64);
        assert!(!done.stopped);
        assert_eq!(done.incomplete_bytes(), 0);
        // Progress after every chunk, generations growing one by one as they complete.
        assert_eq!(reports.last(), Some(&done.progress), "{name}");
        for w in reports.windows(2) {
            assert!(w[0].received_bytes <= w[1].received_bytes);
            assert!(w[0].generations <= w[1].generations);
        }
        let head = &server.requests()[0];
        assert!(
            head.starts_with("GET /debug/pprof/trace?seconds=3 HTTP/1.1"),
            "{head}"
        );
        assert!(head.contains("authorization: Bearer s3cret"), "{head}");
    }
}

#[test]
fn a_custom_url_is_asked_as_given() {
    let bytes = goscope_testdata::trace_bytes("timers-go127");
    let server = TraceServer::trace(bytes.clone(), 64 << 10);
    let target = Target {
        address: format!("{}/debug/flight?last=2s", server.url()),
        endpoint: Endpoint::Custom,
        headers: vec![],
    };
    let (r, out, _) = run(&target);
    r.unwrap();
    assert_eq!(out, bytes);
    assert!(server.requests()[0].starts_with("GET /debug/flight?last=2s HTTP/1.1"));
}

#[test]
fn a_stop_keeps_every_byte_received_and_counts_the_complete_generations() {
    let bytes = goscope_testdata::trace_bytes("stall-go127");
    let first_end = batch::scan(&bytes).unwrap().generations[0].end_offset as usize;
    let upto = first_end + 500;
    let server = TraceServer::gated_trace(bytes.clone(), 300);
    server.allow(upto);
    let stop = Stop::default();
    let mut out = Vec::new();
    let done = capture(
        &Target::pprof(&server.url(), 5),
        &mut out,
        &stop,
        &mut |p| {
            if p.received_bytes >= upto as u64 {
                stop.request();
            }
        },
    )
    .unwrap();
    assert!(done.stopped);
    assert_eq!(out, bytes[..upto]);
    assert_eq!(done.progress.generations, 1);
    assert_eq!(done.progress.complete_bytes, first_end as u64);
    assert_eq!(done.incomplete_bytes(), 500);
    server.allow(usize::MAX);
}

#[test]
fn a_cut_connection_keeps_every_byte_received() {
    let bytes = goscope_testdata::trace_bytes("stall-go127");
    let first_end = batch::scan(&bytes).unwrap().generations[0].end_offset as usize;
    let server = TraceServer::gated_trace(bytes.clone(), 700);
    server.cut_at(first_end + 100);
    let (r, out, _) = run(&Target::pprof(&server.url(), 5));
    let e = r.unwrap_err();
    let p = e.progress().copied().unwrap();
    assert_eq!(
        out,
        bytes[..first_end + 100],
        "every byte received is written"
    );
    assert_eq!(p.received_bytes, (first_end + 100) as u64);
    assert_eq!((p.generations, p.complete_bytes), (1, first_end as u64));
    let m = e.to_string();
    assert!(matches!(e, CaptureError::Cut { .. }), "{m}");
    assert!(
        m.starts_with(&format!(
            "the connection broke after {} bytes",
            first_end + 100
        )),
        "{m}"
    );
    assert!(
        m.contains("the 1 complete generation open as a cut trace"),
        "{m}"
    );
}

/// The message of a capture from `server` that fails.
fn failure(server: &TraceServer, seconds: u32) -> (CaptureError, Vec<u8>) {
    let (r, out, _) = run(&Target::pprof(&server.url(), seconds));
    (r.unwrap_err(), out)
}

#[test]
fn each_failure_says_what_to_check() {
    let (e, _) = failure(&TraceServer::status(404, "404 page not found"), 5);
    assert!(matches!(e, CaptureError::NotFound { .. }));
    let m = e.to_string();
    assert!(
        m.ends_with("is net/http/pprof imported and served on this port?"),
        "{m}"
    );

    let (e, _) = failure(
        &TraceServer::status(400, "profile duration exceeds server's WriteTimeout"),
        60,
    );
    assert!(matches!(e, CaptureError::DurationTooLong { .. }));
    assert!(
        e.to_string()
            .starts_with("400 Bad Request: the duration of 60 s reaches the server's WriteTimeout"),
        "{e}"
    );

    let (e, _) = failure(
        &TraceServer::status(500, "Could not enable tracing: tracing is already enabled"),
        5,
    );
    assert!(matches!(e, CaptureError::TracingBusy { .. }));
    assert!(e.to_string().contains("another trace is running"), "{e}");

    let (e, _) = failure(&TraceServer::status(401, "unauthorized"), 5);
    assert_eq!(
        e.to_string(),
        format!(
            "HTTP 401 from {}/debug/pprof/trace?seconds=5 (check the Authorization header): \"unauthorized\"",
            e_url(&e)
        )
    );

    let html = TraceServer::start(Answer::Body {
        bytes: b"<!DOCTYPE html><html><body>Login</body></html>".to_vec(),
        chunk_bytes: 10,
    });
    let (e, out) = failure(&html, 5);
    assert!(matches!(e, CaptureError::NotATrace { .. }));
    assert!(out.is_empty(), "nothing that is not a trace is written");
    assert!(
        e.to_string()
            .contains("is not a Go execution trace (it does not start with `go 1.`); it starts with \"<!DOCTYPE h"),
        "{e}"
    );
}

/// The base URL a status error names.
fn e_url(e: &CaptureError) -> String {
    match e {
        CaptureError::Status { url, .. } => url.split("/debug").next().unwrap().to_string(),
        _ => String::new(),
    }
}

#[test]
fn a_closed_port_asks_whether_the_program_listens() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (r, out, _) = run(&Target::pprof(&format!("127.0.0.1:{port}"), 5));
    let e = r.unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "cannot connect to 127.0.0.1:{port} (connection refused): is the program listening on 127.0.0.1:{port}?"
        )
    );
    assert!(out.is_empty());
}

#[test]
fn https_to_a_plain_server_is_a_tls_error() {
    let server = TraceServer::trace(goscope_testdata::trace_bytes("timers-go127"), 1000);
    let url = server.url().replace("http://", "https://");
    let (r, _, _) = run(&Target::pprof(&url, 1));
    let e = r.unwrap_err();
    assert!(matches!(e, CaptureError::Tls { .. }), "{e:?}");
    assert!(
        e.to_string()
            .starts_with("TLS failed with https://127.0.0.1:"),
        "{e}"
    );
}

/// A program that stops sending (the trace half sent) runs into the timeout, which keeps
/// what arrived; one that never answers too.
#[test]
fn a_capture_that_outlasts_its_timeout_keeps_what_arrived() {
    use goscope_capture::capture_within;
    let bytes = goscope_testdata::trace_bytes("stall-go127");
    let first_end = batch::scan(&bytes).unwrap().generations[0].end_offset as usize;
    let server = TraceServer::gated_trace(bytes.clone(), 500);
    server.allow(first_end + 10);
    let mut out = Vec::new();
    let t0 = std::time::Instant::now();
    let e = capture_within(
        &Target::pprof(&server.url(), 1),
        2,
        &mut out,
        &Stop::default(),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(t0.elapsed().as_secs_f64() < 10.0);
    assert!(
        matches!(e, CaptureError::Timeout { timeout_s: 2, .. }),
        "{e:?}"
    );
    assert!(out == bytes[..first_end + 10]);
    assert_eq!(e.progress().unwrap().generations, 1);
    assert!(
        e.to_string().starts_with(&format!(
            "no complete answer within the timeout of 2 s (the requested duration plus 30 s); the {} bytes received are saved, and the 1 complete generation open as a cut trace",
            first_end + 10
        )),
        "{e}"
    );
    server.allow(usize::MAX);

    // A listener that accepts and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let e = capture_within(
        &Target::pprof(&url, 1),
        1,
        &mut Vec::new(),
        &Stop::default(),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(
        matches!(e, CaptureError::Timeout { timeout_s: 1, .. }),
        "{e:?}"
    );
    assert_eq!(e.progress().unwrap().received_bytes, 0);
    drop(silent);
}
