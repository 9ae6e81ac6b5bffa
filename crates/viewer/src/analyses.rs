//! The analyses the viewer shows beside the timeline (goroutine breakdown, blocking
//! profiles), computed on a background thread from the trace bytes once the model is
//! shown, plus a small helper for any other background computation a view needs.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use goscope_analysis::pprof::{Profile, ProfileBuilder, ProfileKind};
use goscope_analysis::stacks::StackTable;
use goscope_analysis::summary::{Summarizer, Summary};
use goscope_file::TraceFile;

/// Events a computation over the model may read and still run within a frame (some 10 ns
/// an event: about 5 ms); one that would read more runs as a background `Job`. The
/// selection summary and the search decide by it.
pub(crate) const INLINE_EVENTS: f64 = 500_000.0;

/// How far a computation in pieces (a selection's summary or a search under an overview)
/// has come, and the switch that stops it; shared with its thread.
#[derive(Clone, Default)]
pub(crate) struct Pieces {
    /// Pieces done, and of how many (0 of 0 until the first is done).
    done_of: Arc<[AtomicUsize; 2]>,
    cancel: Arc<AtomicBool>,
}

impl Pieces {
    /// Pieces done and of how many, once the first is done.
    pub(crate) fn done_of(&self) -> Option<(usize, usize)> {
        let [done, of] = [0, 1].map(|i| self.done_of[i].load(Ordering::Relaxed));
        (of > 0).then_some((done, of))
    }

    /// Asks the computation to stop.
    pub(crate) fn stop(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// What the computation reads to know whether to stop.
    pub(crate) fn cancel(&self) -> &AtomicBool {
        &self.cancel
    }

    /// Notes that `done` pieces of `of` are done, and asks `ctx` for a frame to show it.
    pub(crate) fn report(&self, ctx: &egui::Context, done: usize, of: usize) {
        self.done_of[0].store(done, Ordering::Relaxed);
        self.done_of[1].store(of, Ordering::Relaxed);
        ctx.request_repaint();
    }
}

/// The nice value of work for the view shown (`Job::spawn_for_view`: a window's build, the
/// marks on it): below the UI thread's (0), so that frames come on time while a build keeps
/// both cores busy, and above `BACKGROUND_NICE`.
const DETAIL_NICE: i32 = 10;

/// The nice value of work in the background (`Job::spawn`): the dock's analyses (which
/// start with every trace opened and read all of it), a search or a selection summed over
/// the whole trace. It takes what the UI and the view's window leave: at equal priority the
/// analyses of a 3.6 GB trace, running for half a minute after it opened, made a window
/// build take 4-5 s instead of 0.9.
const BACKGROUND_NICE: i32 = 19;

const _: () = assert!(0 < DETAIL_NICE && DETAIL_NICE < BACKGROUND_NICE);

/// Sets the calling thread's nice value (the threads it starts inherit it, on Linux).
/// Without effect where threads have no priorities of their own.
fn set_thread_nice(nice: i32) {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: setpriority only reads its arguments; on Linux, `who` 0 with
        // PRIO_PROCESS names the calling thread. A failure leaves the priority as it was.
        unsafe {
            libc::setpriority(libc::PRIO_PROCESS, 0, nice);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = nice;
}

/// A computation running on its own thread; the UI polls it each frame.
pub struct Job<T> {
    result: Arc<Mutex<Option<Result<T, String>>>>,
    pub started: Instant,
}

impl<T: Send + 'static> Job<T> {
    /// Runs `f` in the background (`BACKGROUND_NICE`) on a new thread and asks `ctx` to
    /// repaint when it is done. If `f` panics, or no thread can be made, the job ends with
    /// that message as its error, so that the view shows it instead of waiting forever.
    pub(crate) fn spawn(
        name: &str,
        ctx: &egui::Context,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Job<T> {
        let ctx = ctx.clone();
        Job::spawn_notifying(
            name,
            move || {
                ctx.request_repaint();
                // What the computation used and dropped goes back to the system, after
                // the result is delivered so that it does not wait for this.
                goscope_model::give_back_freed_memory();
            },
            move || {
                set_thread_nice(BACKGROUND_NICE);
                f()
            },
        )
    }

    /// Runs `f`, work for the view shown, on a new thread at `DETAIL_NICE` (below the UI,
    /// above the background), and asks `ctx` to repaint when it is done. Freed memory is
    /// not given back after it (as `spawn` does): such work frees little beside what it
    /// hands over, and a trim while the UI thread lays out what it made (a window) made
    /// that frame 10-15 ms instead of 4-7; what a dropped window freed is what the next
    /// build reuses.
    pub(crate) fn spawn_for_view(
        name: &str,
        ctx: &egui::Context,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Job<T> {
        let ctx = ctx.clone();
        Job::spawn_notifying(
            name,
            move || ctx.request_repaint(),
            move || {
                set_thread_nice(DETAIL_NICE);
                f()
            },
        )
    }

    /// `spawn`, calling `done` once the result is in, instead of asking a context to
    /// repaint and giving freed memory back (a load starts before the window, and so its
    /// context, exists; the window gives memory back once it has taken the load over),
    /// and at the priority the thread has (a load's is the UI's; `f` may lower it).
    pub(crate) fn spawn_notifying(
        name: &str,
        done: impl FnOnce() + Send + 'static,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Job<T> {
        let result = Arc::new(Mutex::new(None));
        let slot = result.clone();
        let what = name.to_string();
        let spawned = std::thread::Builder::new()
            .name(format!("goscope-{name}"))
            .spawn(move || {
                let out =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|panic| {
                        format!("the {what} computation failed: {}", panic_text(&*panic))
                    });
                if let Ok(mut s) = slot.lock() {
                    *s = Some(out);
                }
                done();
            });
        if let Err(e) = spawned {
            if let Ok(mut s) = result.lock() {
                *s = Some(Err(format!("cannot start the {name} computation: {e}")));
            }
        }
        Job {
            result,
            started: Instant::now(),
        }
    }

    /// A job that runs nothing: its result is whatever `finish` puts in (tests).
    #[cfg(test)]
    pub(crate) fn by_hand() -> Job<T> {
        Job {
            result: Arc::new(Mutex::new(None)),
            started: Instant::now(),
        }
    }

    /// Puts in the result of a job made `by_hand`.
    #[cfg(test)]
    pub(crate) fn finish(&self, value: T) {
        *self.result.lock().unwrap() = Some(Ok(value));
    }

    /// The result (or the failure), once, when it has arrived.
    pub(crate) fn take(&self) -> Option<Result<T, String>> {
        self.result.lock().ok().and_then(|mut r| r.take())
    }
}

/// A panic's message.
fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "it panicked".to_string()
    }
}

/// A value computed in the background: running, then there (or failed).
pub enum Slot<T> {
    Running(Job<T>),
    Done(T),
    /// The computation panicked; the message says so.
    Failed(String),
}

impl<T: Send + 'static> Slot<T> {
    pub(crate) fn spawn(
        name: &str,
        ctx: &egui::Context,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Self {
        Slot::Running(Job::spawn(name, ctx, f))
    }

    /// The value if it is there (moving it in when it just arrived).
    pub fn get(&mut self) -> Option<&T> {
        if let Slot::Running(job) = self {
            match job.take() {
                Some(Ok(v)) => *self = Slot::Done(v),
                Some(Err(e)) => *self = Slot::Failed(e),
                None => return None,
            }
        }
        match self {
            Slot::Done(v) => Some(v),
            Slot::Running(_) | Slot::Failed(_) => None,
        }
    }

    /// The value if it is there; otherwise draws a spinner and `label()`, or the failure.
    pub(crate) fn get_or_pending_ui(
        &mut self,
        ui: &mut egui::Ui,
        label: impl FnOnce() -> String,
    ) -> Option<&T> {
        if self.get().is_none() {
            pending_ui(ui, self.failure(), &label());
            return None;
        }
        self.get()
    }

    /// Why the computation failed, if it did.
    pub fn failure(&self) -> Option<&str> {
        match self {
            Slot::Failed(e) => Some(e),
            _ => None,
        }
    }

    pub fn is_done(&self) -> bool {
        matches!(self, Slot::Done(_))
    }
}

/// What a view shows while a background value is not there: a spinner and `label`, or the
/// computation's failure in the error colour.
fn pending_ui(ui: &mut egui::Ui, failure: Option<&str>, label: &str) {
    match failure {
        Some(e) => {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        None => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(label);
            });
        }
    }
}

/// The results of one pass over the trace's events.
pub struct Analyses {
    /// The trace file the pass read (the mapping the model was built from), kept for
    /// views that recompute with other options (MMU flags, profiles of a time range).
    pub data: Arc<TraceFile>,
    pub summary: Summary,
    /// One per kind, in `ProfileKind::WITH_CPU` order.
    pub profiles: Vec<Profile>,
    pub stacks: StackTable,
    /// How long the pass took.
    pub secs: f64,
}

impl Analyses {
    pub fn profile(&self, kind: ProfileKind) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.kind == kind)
    }

    /// Runs the goroutine analysis and every profile in one pass over `data`.
    pub fn compute(data: Arc<TraceFile>) -> Result<Analyses, String> {
        let t0 = Instant::now();
        let mut summarizer = Summarizer::new();
        let mut profiles = ProfileBuilder::new(&ProfileKind::WITH_CPU);
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
    use crate::testdata::BACKGROUND_WAIT;

    #[test]
    fn one_pass_gives_summary_and_all_profiles() {
        let a = crate::testdata::analyses("stall-go127");
        assert_eq!(a.profiles.len(), 5);
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
        while slot.get().is_none() && t0.elapsed() < BACKGROUND_WAIT {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(slot.get(), Some(&42));
        assert!(slot.is_done());
    }

    /// Work in the background runs at `BACKGROUND_NICE`, below work for the view
    /// (`DETAIL_NICE`), and the threads it starts (an analysis's ordering) inherit that.
    #[cfg(target_os = "linux")]
    #[test]
    fn background_work_runs_below_the_views_window() {
        fn nice() -> i32 {
            // SAFETY: getpriority only reads its arguments (the calling thread).
            unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) }
        }
        let ctx = egui::Context::default();
        let mut slot = Slot::spawn("test", &ctx, || {
            let started = std::thread::spawn(nice).join().unwrap();
            (nice(), started)
        });
        let t0 = Instant::now();
        while slot.get().is_none() && t0.elapsed() < BACKGROUND_WAIT {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(slot.get(), Some(&(BACKGROUND_NICE, BACKGROUND_NICE)));
        let job = Job::spawn_for_view("test", &ctx, nice);
        let t0 = Instant::now();
        let got = loop {
            match job.take() {
                Some(r) => break r.unwrap(),
                None if t0.elapsed() < BACKGROUND_WAIT => {
                    std::thread::sleep(std::time::Duration::from_millis(5))
                }
                None => panic!("the job did not end"),
            }
        };
        assert_eq!(got, DETAIL_NICE);
    }

    /// A computation that panics ends its slot with the panic's message, which the view
    /// shows instead of a spinner that never stops.
    #[test]
    fn a_panicking_job_fails_with_its_message() {
        let ctx = egui::Context::default();
        let mut slot: Slot<u32> = Slot::spawn("test", &ctx, || panic!("index out of range"));
        let t0 = Instant::now();
        while slot.failure().is_none() && t0.elapsed() < BACKGROUND_WAIT {
            let _ = slot.get();
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(slot.get(), None);
        let e = slot.failure().expect("the slot failed");
        assert!(
            e.contains("test") && e.contains("index out of range"),
            "{e}"
        );
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
