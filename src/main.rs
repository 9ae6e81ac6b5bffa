//! The `goscope` binary: parses the command line and runs it.
use clap::Parser;

fn main() {
    let cli = goscope::cli::Cli::parse();
    if let Err(e) = goscope::cli::run(cli) {
        eprintln!("goscope: {e:#}");
        std::process::exit(1);
    }
}
