//! `goscope capture` against a test server on 127.0.0.1: the file equals the bytes served,
//! a progress line is printed, a cut keeps every byte received, failures exit 1 with their
//! message and leave no empty file.

use std::path::PathBuf;
use std::process::{Command, Output};

use goscope_testdata::server::TraceServer;

fn goscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_goscope"))
        .args(args)
        .output()
        .expect("run goscope")
}

/// A fresh directory for one test's files.
fn scratch(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("goscope-cli-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn capture_writes_the_served_bytes_and_reports_progress() {
    let dir = scratch("ok");
    for name in ["stall-go127", "mixed-go125"] {
        let bytes = goscope_testdata::trace_bytes(name);
        let server = TraceServer::trace(bytes.clone(), 4096);
        let out = dir.join(format!("{name}.trace"));
        let o = goscope(&[
            "capture",
            &server.url(),
            "--seconds",
            "2",
            "-H",
            "Authorization: Bearer t0ken",
            "-o",
            out.to_str().unwrap(),
        ]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{name}: {stderr}");
        assert!(
            std::fs::read(&out).unwrap() == bytes,
            "{name}: file differs"
        );
        let generations = goscope_trace::batch::scan(&bytes)
            .unwrap()
            .generations
            .len();
        let last = stderr.lines().last().unwrap();
        let plural = if generations == 1 { "" } else { "s" };
        let want = format!("{generations} generation{plural} complete");
        assert!(
            last.contains(&want) && last.contains(" received, "),
            "{last}"
        );
        assert_eq!(
            String::from_utf8_lossy(&o.stdout).trim(),
            out.to_str().unwrap()
        );
        let head = &server.requests()[0];
        assert!(
            head.starts_with("GET /debug/pprof/trace?seconds=2 "),
            "{head}"
        );
        assert!(head.contains("authorization: Bearer t0ken"), "{head}");
    }
    // Without -o: a file named after the host and time, in the working directory.
    let server = TraceServer::trace(goscope_testdata::trace_bytes("timers-go127"), 4096);
    let o = Command::new(env!("CARGO_BIN_EXE_goscope"))
        .args(["capture", &server.url(), "--seconds", "1"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(o.status.success());
    let named = String::from_utf8_lossy(&o.stdout).trim().to_string();
    assert!(
        named.starts_with("./127.0.0.1-") && named.ends_with("Z.trace"),
        "{named}"
    );
    assert!(dir.join(&named).exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_cut_capture_keeps_its_bytes_and_opens_as_a_cut_trace() {
    let dir = scratch("cut");
    let bytes = goscope_testdata::trace_bytes("stall-go127");
    let first_end = goscope_trace::batch::scan(&bytes).unwrap().generations[0].end_offset as usize;
    let server = TraceServer::gated_trace(bytes.clone(), 512);
    server.cut_at(first_end + 40);
    let out = dir.join("cut.trace");
    let o = goscope(&["capture", &server.url(), "-o", out.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "goscope: capture cut short: the connection broke after {} bytes",
            first_end + 40
        )),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&out).unwrap(), bytes[..first_end + 40]);
    let o = goscope(&["stats", out.to_str().unwrap()]);
    let stats = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success());
    assert!(stats.contains("generations  1"), "{stats}");
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("only part of the trace was read"),
        "the cut is named"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_failed_capture_exits_1_with_its_message_and_no_file() {
    let dir = scratch("fail");
    let out = dir.join("x.trace");
    let server = TraceServer::status(500, "Could not enable tracing: tracing is already enabled");
    let o = goscope(&["capture", &server.url(), "-o", out.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr.contains("goscope: capture failed: 500: the program could not enable tracing because another trace is running"),
        "{stderr}"
    );
    assert!(!out.exists(), "no empty file is left");
    let o = goscope(&["capture", "localhost:6060", "-H", "no colon here"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is not `Name: value`"));
    std::fs::remove_dir_all(&dir).unwrap();
}
