//! Ordering a generation ahead of time and stitching it on: a speculative run of the
//! state machine from a guessed start state (`speculate`), kept as a replay log, checked
//! against the real start state once the generations before it are ordered, then replayed
//! onto the real orderer or dropped.

use std::sync::Arc;

use super::machine::Orderer;
use super::replay::ReplayLog;
use super::speculate::{IDLE_M, Spec, same_g, same_m, same_p};
use crate::error::Result;
use crate::event::Event;
use crate::generation::{Generation, Tables};
use crate::spec::*;

/// A generation ordered ahead of time, its events kept as a replay log (times not yet
/// made increasing), waiting for `Orderer::stitch`.
pub struct Speculation {
    orderer: Orderer,
    log: ReplayLog,
    tables: Arc<Tables>,
    /// Ordered from the empty start state, as the first generation of a read: exact,
    /// nothing to check.
    first: bool,
}

impl Speculation {
    /// Orders `gn` from a start state guessed from its own status events, recording the
    /// result in `log` (emptied first). `initial_gen` is the generation number the whole
    /// read started with. On failure (the guess led the run astray, or the generation is
    /// broken) the log comes back, and the generation must be ordered the ordinary way.
    pub fn run(
        initial_gen: u64,
        gn: &Generation<'_>,
        log: ReplayLog,
    ) -> std::result::Result<Speculation, ReplayLog> {
        let Ok(spec) = Spec::guess(gn) else {
            return Err(log);
        };
        Self::run_from(spec, Some(initial_gen), gn, log)
    }

    /// Orders the first generation of a read the way `run` orders later ones, so that it
    /// too can be ordered on a worker; the result is exact and `stitch` takes it over as a
    /// whole onto a fresh orderer.
    pub fn run_first(
        gn: &Generation<'_>,
        log: ReplayLog,
    ) -> std::result::Result<Speculation, ReplayLog> {
        Self::run_from(Spec::empty(), None, gn, log)
    }

    fn run_from(
        mut spec: Spec,
        initial_gen: Option<u64>,
        gn: &Generation<'_>,
        mut log: ReplayLog,
    ) -> std::result::Result<Speculation, ReplayLog> {
        log.start(gn);
        log.reserve(spec.events);
        spec.log = log;

        // A copy: the run may add task names to the tables, and a fallback needs the
        // generation as it was.
        let mut g = gn.clone();
        let mut orderer = Orderer::new();
        let first = initial_gen.is_none();
        orderer.initial_gen = initial_gen.unwrap_or(0);
        orderer.spec = Some(Box::new(spec));
        let ran = orderer.generation(&mut g, &mut |_, _| {});
        let Some(spec) = orderer.spec.as_deref_mut() else {
            return Err(ReplayLog::default());
        };
        let log = std::mem::take(&mut spec.log);
        // A first generation reads nothing from before it, so it is never unverifiable.
        if ran.is_err() || (spec.unverifiable && !first) {
            return Err(log);
        }
        Ok(Speculation {
            orderer,
            log,
            tables: g.tables,
            first,
        })
    }

    /// The tables the generation's events refer to (with any strings the run added).
    pub fn tables(&self) -> &Arc<Tables> {
        &self.tables
    }

    /// The log, to measure it.
    #[cfg(test)]
    pub fn into_log(self) -> ReplayLog {
        self.log
    }
}

impl Orderer {
    /// Whether `spec`, run from its guesses, read exactly what this orderer's state (the
    /// real end of the previous generation) holds.
    fn agrees(&self, spec: &Orderer) -> bool {
        let Some(s) = spec.spec.as_deref() else {
            return false;
        };
        if s.unverifiable
            || self.initial_gen == 0
            || self.initial_gen != spec.initial_gen
            || !self.queue.is_empty()
        {
            return false;
        }
        let gs = s
            .read_g
            .iter()
            .all(|(g, v)| same_g(self.gs.get(g), v.as_ref()));
        let ps = s
            .read_p
            .iter()
            .all(|(p, v)| same_p(self.ps.get(p), v.as_ref()));
        let ms = s.read_m.iter().all(|(m, &(v, own))| {
            let real = self.ms.get(*m).copied();
            if own {
                same_m(real.unwrap_or(IDLE_M), v.unwrap_or(IDLE_M))
            } else {
                match (real, v) {
                    (None, None) => true,
                    (Some(a), Some(b)) => same_m(a, b),
                    _ => false,
                }
            }
        });
        let gc = s
            .read_gc
            .is_none_or(|start| start == (self.gc_seq, self.gc_state));
        let tasks = s.read_tasks.iter().all(|t| !self.tasks.contains_key(t));
        gs && ps && ms && gc && tasks
    }

    /// Takes over the final values of everything `spec` touched.
    fn absorb(&mut self, mut spec: Orderer) {
        let Some(s) = spec.spec.take() else {
            return;
        };
        for g in s.read_g.keys() {
            match spec.gs.remove(g) {
                Some(v) => self.gs.insert(*g, v),
                None => self.gs.remove(g),
            };
        }
        for p in s.read_p.keys() {
            match spec.ps.remove(p) {
                Some(v) => self.ps.insert(*p, v),
                None => self.ps.remove(p),
            };
        }
        // Threads new to the trace get their slots in the order the run created them,
        // which is the order the sequential run would have.
        for &(m, st) in &spec.ms.states {
            self.ms.insert(m, st);
        }
        if s.read_gc.is_some() {
            self.gc_seq = spec.gc_seq;
            self.gc_state = spec.gc_state;
        }
        for t in &s.read_tasks {
            match spec.tasks.remove(t) {
                Some(v) => self.tasks.insert(*t, v),
                None => self.tasks.remove(t),
            };
        }
    }

    /// Stitches a generation ordered ahead of time onto this orderer, which has ordered
    /// everything before it; `gn` is that generation as decoded. If the speculation's
    /// start state agrees with ours, its events are rebuilt and go to `sink` (times made
    /// increasing, Syncs numbered) and its state becomes ours (`Ok(true)`); otherwise
    /// nothing happens (`Ok(false)`) and the caller orders the generation itself. Either
    /// way the log comes back for reuse.
    pub fn stitch(
        &mut self,
        spec: Speculation,
        gn: &Generation<'_>,
        sink: &mut impl FnMut(&Event, &Arc<Tables>),
    ) -> (Result<bool>, ReplayLog) {
        let Speculation {
            mut orderer,
            log,
            tables,
            first,
        } = spec;
        if first {
            // Only onto an orderer that has ordered nothing: then the run's start state
            // was this one's, and its end state is the whole truth.
            if self.initial_gen != 0 || self.syncs != 0 {
                return (Ok(false), log);
            }
            orderer.spec = None;
            orderer.syncs = 0;
            orderer.last_ns = self.last_ns;
            *self = orderer;
        } else {
            if !self.agrees(&orderer) {
                return (Ok(false), log);
            }
            self.absorb(orderer);
        }
        let replayed = log.replay(gn, |mut ev| {
            if ev.typ == EV_SYNC {
                self.syncs += 1;
                ev.args[0] = self.syncs;
            }
            self.send(&ev, &tables, sink);
        });
        (replayed.map(|()| true), log)
    }
}
