//! `goscope capture URL`: asks a running Go program for a trace (net/http/pprof, or a URL
//! of its own), writes it to a file as it arrives with a progress line, and optionally
//! opens the viewer on it.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use goscope_capture::{Stop, Target, capture, name, target};

#[derive(clap::Args, Debug)]
pub struct CaptureArgs {
    /// The program's address (`http://localhost:6060`, `localhost:6060`): its
    /// `/debug/pprof/trace` is asked. A URL with another path (a flight-recorder snapshot
    /// endpoint) is fetched as it is.
    pub url: String,
    /// How long the program traces itself (net/http/pprof's `seconds=`).
    #[arg(long, default_value_t = 5)]
    pub seconds: u32,
    /// A request header, `Name: value` (repeatable), e.g. `-H 'Authorization: Bearer …'`.
    #[arg(short = 'H', long = "header")]
    pub headers: Vec<String>,
    /// Where to write the trace (default: HOST-PORT-YYYYMMDD-HHMMSSZ.trace here).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Open the viewer on the trace once it is written.
    #[arg(long)]
    pub open: bool,
}

/// Runs `goscope capture`.
pub fn run(args: CaptureArgs) -> anyhow::Result<()> {
    let mut t = Target::from_url(&args.url, args.seconds);
    for h in &args.headers {
        t.headers.push(target::parse_header(h)?);
    }
    let url = t.url()?;
    let path = match args.output {
        Some(p) => p,
        None => name::unused_path(std::path::Path::new("."), &url, name::unix_now_s()),
    };
    let mut file = std::fs::File::create(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    let what = match t.seconds() {
        Some(s) => format!("{s} s of trace from {url}"),
        None => format!("the trace at {url}"),
    };
    eprintln!("capturing {what} to {}", path.display());
    let tty = std::io::stderr().is_terminal();
    let mut shown_at = Instant::now();
    let mut shown_generations = 0;
    let result = capture(&t, &mut file, &Stop::default(), &mut |p| {
        if tty && shown_at.elapsed() >= Duration::from_millis(200) {
            eprint!("\r{}   ", p.summary());
            shown_at = Instant::now();
        } else if !tty && p.generations > shown_generations {
            eprintln!("{}", p.summary());
            shown_generations = p.generations;
        }
    });
    if tty {
        eprint!("\r");
    }
    drop(file);
    match result {
        Ok(done) => {
            eprintln!("{}", done.progress.summary());
            if done.incomplete_bytes() > 0 {
                eprintln!(
                    "warning: the trace ends inside a generation: its last {} bytes are kept but not shown",
                    done.incomplete_bytes()
                );
            }
            println!("{}", path.display());
            if args.open {
                return open(path);
            }
            Ok(())
        }
        Err(e) => {
            let kept = e.progress().is_some_and(|p| p.received_bytes > 0);
            if kept {
                eprintln!("saved what arrived to {}", path.display());
            } else {
                let _ = std::fs::remove_file(&path);
            }
            let what = if kept {
                "capture cut short"
            } else {
                "capture failed"
            };
            Err(anyhow::Error::new(e).context(what))
        }
    }
}

#[cfg(feature = "gui")]
fn open(path: PathBuf) -> anyhow::Result<()> {
    goscope_viewer::run(Some(path))
}

#[cfg(not(feature = "gui"))]
fn open(_path: PathBuf) -> anyhow::Result<()> {
    anyhow::bail!(
        "this goscope was built without the viewer (feature `gui`); open the file elsewhere"
    )
}
