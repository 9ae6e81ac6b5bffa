//! Ordering one generation again on its own: the ordering state saved at the start of each
//! generation during a read (`Resume`, kept with `ReadOptions::keep_resumes`) and at points
//! inside it (`ReadOptions::resume_every_steps`), and `reorder`, which orders that
//! generation from it, straight from the trace's bytes, into exactly the events the read
//! gave for it.
//!
//! This is what detail on demand stands on: a reader that keeps only an overview of a long
//! trace can build the spans of the generations under the view when it needs them, in any
//! order and in parallel, without ordering everything before them again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::batch::{self, Version};
use crate::error::Result;
use crate::event::Event;
use crate::generation::{self, Tables};
use crate::order::{Orderer, Ran, Within};

/// The ordering state at the start of one generation of a read, and where its bytes are.
#[derive(Clone)]
pub struct Resume {
    /// The generation's place among those the read ordered (0 for the first).
    pub index: usize,
    /// Its generation number in the file.
    pub generation: u64,
    /// Its bytes in the file (`offset..end_offset` of its batches).
    pub bytes: std::ops::Range<u64>,
    /// Whether the read ended after it without error: ordering it again also gives the
    /// events the read gave at the very end.
    pub last: bool,
    version: Version,
    state: Arc<Orderer>,
    /// Points inside the generation saved while it was ordered, in order.
    points: Arc<[Within]>,
}

impl std::fmt::Debug for Resume {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resume")
            .field("index", &self.index)
            .field("generation", &self.generation)
            .field("bytes", &self.bytes)
            .field("last", &self.last)
            .field("state_bytes", &self.state_bytes())
            .finish()
    }
}

impl Resume {
    pub(crate) fn new(
        index: usize,
        version: Version,
        span: &batch::GenerationSpan<'_>,
        state: Orderer,
        points: Vec<Within>,
    ) -> Resume {
        Resume {
            index,
            generation: span.generation,
            bytes: span.offset..span.end_offset,
            last: false,
            version,
            state: Arc::new(state),
            points: points.into(),
        }
    }

    /// Bytes the saved state takes, roughly.
    pub fn state_bytes(&self) -> usize {
        self.state.state_bytes() + self.points.iter().map(Within::state_bytes).sum::<usize>()
    }

    /// The points inside the generation its ordering can go on from
    /// (`ReadOptions::resume_every_steps`): for each, the time of the last event before
    /// it; every event after it is later.
    pub fn points_ns(&self) -> impl Iterator<Item = i64> + '_ {
        self.points.iter().map(|p| p.time_ns)
    }
}

/// Orders the generation `resume` starts, from its saved state, into `sink`: the same
/// events, in the same order, with the same times and tables, as the read that saved it
/// gave for that generation (and, for the `last` one, for the end of the trace). `data`
/// must be the bytes that read read.
pub fn reorder(data: &[u8], resume: &Resume, mut sink: impl FnMut(&Event, &Tables)) -> Result<()> {
    let never = AtomicBool::new(false);
    reorder_into(
        data,
        resume,
        None,
        i64::MAX,
        &never,
        &|_| {},
        &mut |ev, t| sink(ev, t),
    )
}

/// `reorder`, handing out the tables as the ordering holds them, from the generation's
/// start or from its point `from_point` (the events after it), and stopping soon after
/// an event later than `stop_after_ns` (`Orderer::run`, which hands each batch it has
/// read past to `done_with`).
pub(crate) fn reorder_into(
    data: &[u8],
    resume: &Resume,
    from_point: Option<usize>,
    stop_after_ns: i64,
    cancel: &AtomicBool,
    done_with: &dyn Fn(std::ops::Range<usize>),
    sink: &mut impl FnMut(&Event, &Arc<Tables>),
) -> Result<()> {
    // The scan of the batch headers and the decoding of the tables touch pages all over
    // the generation (the kernel maps those around each one read); they are given back
    // then, and again at the end for the batches the ordering stopped in, so that a
    // window's build holds the batches it is ordering, not its generations.
    let whole = resume.bytes.start as usize..resume.bytes.end as usize;
    let mut order = || -> Result<()> {
        let span = batch::span_at(data, resume.generation, resume.bytes.clone(), done_with)?;
        let mut g = generation::decode(resume.version, &span)?;
        done_with(whole.clone());
        let (mut orderer, mut place) = match from_point {
            None => {
                let mut orderer = resume.state.snapshot();
                let place = orderer.begin(&g, sink)?;
                (orderer, place)
            }
            Some(k) => {
                let Some(within) = resume.points.get(k) else {
                    return Err(crate::Error::broken(
                        resume.bytes.start,
                        Some(resume.generation),
                        format!("no point {k} inside the generation to resume from"),
                    ));
                };
                Orderer::resume(within, &mut g)
            }
        };
        let ran = orderer.run_stopping(
            &mut g,
            &mut place,
            stop_after_ns,
            u64::MAX,
            done_with,
            sink,
            |sink, ev, t| sink(ev, t),
            |_| cancel.load(Ordering::Relaxed),
        )?;
        if ran == Ran::Stopped {
            return Ok(());
        }
        if resume.last {
            let empty = Arc::new(Tables::default());
            orderer.finish(&empty, sink)?;
        }
        Ok(())
    };
    let ordered = order();
    done_with(whole);
    ordered
}
