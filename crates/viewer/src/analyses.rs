//! The analyses the viewer shows beside the timeline (goroutine breakdown, blocking
//! profiles), computed on a background thread from the trace bytes once the model is
//! shown, plus a small helper for any other background computation a view needs.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use goscope_analysis::pprof::{Profile, ProfileBuilder, ProfileKind};
use goscope_analysis::stacks::StackTable;
use goscope_analysis::summary::{Summarizer, Summary};
use goscope_file::TraceFile;

/// Events a computation over the model may read and still run within a frame (some 10 ns
/// an event: about 5 ms); one that would read more runs as a background `Job`. The
/// selection summary and the search decide by it.
pub const INLINE_EVENTS: f64 = 500_000.0;

/// A computation running on its own thread; the UI polls it each frame.
pub struct Job<T> {
    result: Arc<Mutex<Option<T>>>,
    pub started: Instant,
}

impl<T: Send + 'static> Job<T> {
    /// Runs `f` on a new thread and asks `ctx` to repaint when it is done.
    pub fn spawn(
        name: &str,
        ctx: &egui::Context,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Job<T> {
        let result = Arc::new(Mutex::new(None));
        let (slot, ctx) = (result.clone(), ctx.clone());
        // If no thread can be made nothing arrives and the view keeps saying "computing".
        let _ = std::thread::Builder::new()
            .name(format!("goscope-{name}"))
            .spawn(move || {
                let out = f();
                // What the computation used and dropped goes back to the system.
                super::give_back_freed_memory();
                if let Ok(mut s) = slot.lock() {
                    *s = Some(out);
                }
                ctx.request_repaint();
            });
        Job {
            result,
            started: Instant::now(),
        }
    }

    /// The result, once, when it has arrived.
    pub fn take(&self) -> Option<T> {
        self.result.lock().ok().and_then(|mut r| r.take())
    }
}

/// A value computed in the background: running, then there.
pub enum Slot<T> {
    Running(Job<T>),
    Done(T),
}

impl<T: Send + 'static> Slot<T> {
    pub fn spawn(name: &str, ctx: &egui::Context, f: impl FnOnce() -> T + Send + 'static) -> Self {
        Slot::Running(Job::spawn(name, ctx, f))
    }

    /// The value if it is there (moving it in when it just arrived).
    pub fn get(&mut self) -> Option<&T> {
        if let Slot::Running(job) = self {
            match job.take() {
                Some(v) => *self = Slot::Done(v),
                None => return None,
            }
        }
        match self {
            Slot::Done(v) => Some(v),
            Slot::Running(_) => None,
        }
    }

    pub fn is_done(&self) -> bool {
        matches!(self, Slot::Done(_))
    }
}

/// The results of one pass over the trace's events.
pub struct Analyses {
    /// The trace file the pass read (the mapping the model was built from), kept for
    /// views that recompute with other options (MMU flags, profiles of a time range).
    pub data: Arc<TraceFile>,
    pub summary: Summary,
    /// One per kind, in `ProfileKind::ALL` order.
    pub profiles: Vec<Profile>,
    pub stacks: StackTable,
    /// How long the pass took.
    pub secs: f64,
}

impl Analyses {
    pub fn profile(&self, kind: ProfileKind) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.kind == kind)
    }

    /// Runs the goroutine analysis and all four profiles in one pass over `data`.
    pub fn compute(data: Arc<TraceFile>) -> Result<Analyses, String> {
        let t0 = Instant::now();
        let mut summarizer = Summarizer::new();
        let mut profiles = ProfileBuilder::new(&ProfileKind::ALL);
        // Ordering on its own thread, the analyses on this one. A cut trace still gives the
        // analyses of what was read; the model shows the warning.
        goscope_analysis::read_into(&*data, |ev, t| {
            summarizer.event(ev, t);
            profiles.event(ev, t);
        })
        .map_err(|e| e.to_string())?;
        let (profiles, stacks) = profiles.finish();
        Ok(Analyses {
            data,
            summary: summarizer.finish(),
            profiles,
            stacks,
            secs: t0.elapsed().as_secs_f64(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_pass_gives_summary_and_all_profiles() {
        let a = crate::testdata::analyses("stall-go127");
        assert_eq!(a.profiles.len(), 4);
        assert!(a.summary.goroutines.len() > 3);
        let sync = a.profile(ProfileKind::Sync).expect("sync profile");
        assert!(
            sync.total_delay_ns() > 900_000_000,
            "the 1 s stall is in the sync profile"
        );
    }

    #[test]
    fn slot_delivers_a_background_result() {
        let ctx = egui::Context::default();
        let mut slot = Slot::spawn("test", &ctx, || 6 * 7);
        let t0 = Instant::now();
        while slot.get().is_none() && t0.elapsed().as_secs() < 10 {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(slot.get(), Some(&42));
        assert!(slot.is_done());
    }
}

#[cfg(test)]
mod timing {
    /// `cargo test --release --lib -- --ignored analyses_on_large --nocapture`
    #[test]
    #[ignore]
    fn analyses_on_large_trace() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench/large.trace");
        let file = std::sync::Arc::new(goscope_file::TraceFile::open(&path).unwrap());
        for _ in 0..3 {
            let a = super::Analyses::compute(file.clone()).unwrap();
            eprintln!("analyses in {:.2} s", a.secs);
        }
    }
}
