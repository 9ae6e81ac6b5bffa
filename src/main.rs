//! The `goscope` binary: parses the command line; `goscope TRACE` (or no arguments) opens
//! the viewer, a subcommand runs an analysis headless.
use clap::Parser;

mod cli;

fn main() {
    let cli = cli::Cli::parse();
    if let Err(e) = cli::run(cli) {
        eprintln!("goscope: {e:#}");
        std::process::exit(1);
    }
}
