//! `goscope findings`: the automatic findings of a trace, as text or JSON.

use std::path::PathBuf;

use anyhow::Context;

use goscope_analysis::findings::{self, LaneRef};

#[derive(clap::Args, Debug)]
pub struct FindingsArgs {
    pub trace: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: FindingsArgs) -> anyhow::Result<()> {
    let data = goscope_file::TraceFile::open(&args.trace)?;
    // The findings read long spans, pauses, assists, stimulus times and counter extremes,
    // all of which an overview keeps, in memory that does not grow with the events.
    let model = goscope_model::build_overview_only(&data)
        .with_context(|| format!("{}", args.trace.display()))?;
    let list = findings::findings(&model);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(());
    }
    if list.is_empty() {
        println!("no findings");
    }
    for f in &list {
        let lane = match f.lane {
            LaneRef::Goroutine(g) => format!("G{g}"),
            LaneRef::Proc(p) => format!("P{p}"),
            LaneRef::None => "-".into(),
        };
        println!(
            "{:>10.3} ms  at {:>10.3} ms  {:<6} {}",
            f.impact_ns as f64 / 1e6,
            (f.start_ns - model.start_ns) as f64 / 1e6,
            lane,
            f.title
        );
        println!("{:>38}{}", "", f.explanation);
        for s in f.stack.iter().take(6) {
            println!("{:>40}{s}", "");
        }
    }
    if let Some(w) = &model.warning {
        eprintln!(
            "warning: {}: only part of the trace was read: {w}",
            args.trace.display()
        );
    }
    Ok(())
}
