//! The runtime's counters: cheap to read (per-worker counters, written by their worker with
//! plain stores and summed here), safe to read from any thread at any time.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::scheduler::WorkerStats;
use crate::task::{kind_name, KINDS};

/// Jobs handed to the blocking pool since the process started.
static BLOCKING_JOBS: AtomicUsize = AtomicUsize::new(0);

/// Counts one job handed to the blocking pool (`spawn_blocking`, a name lookup).
pub(crate) fn count_blocking_job() {
    BLOCKING_JOBS.fetch_add(1, Ordering::Relaxed);
}

/// A snapshot of the runtime's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Metrics {
    /// Worker threads (0 while the runtime has not started).
    pub workers: usize,
    /// Coroutines spawned since start.
    pub spawned: usize,
    /// Coroutines that finished since start.
    pub finished: usize,
    /// Coroutines alive now (spawned and not finished): `started + queued`, give or take the
    /// ones changing state while the counters are read.
    pub alive: usize,
    /// Coroutines that started and have not finished (running, ready or parked).
    pub started: usize,
    /// Coroutines spawned and not started yet.
    pub queued: usize,
    /// Per worker, in worker order.
    pub per_worker: Vec<WorkerMetrics>,
    /// The coroutine stacks.
    pub stacks: StackMetrics,
    /// Jobs handed to the blocking pool since the process started: `spawn_blocking` calls and
    /// name lookups of `connect`, `bind` and `send_to` made from coroutines (a literal address
    /// needs none). Counted even before the runtime starts.
    pub blocking_jobs: usize,
    /// Coroutines parked, by kind of wait ([`WaitReason::kind_name`]: `"channel_recv"`,
    /// `"mutex"`, `"readable"`, ...; every kind is listed, zeros included), as of each one's
    /// last switch: a coroutine woken and not run yet still counts. Empty before the runtime
    /// starts.
    ///
    /// [`WaitReason::kind_name`]: crate::runtime::WaitReason::kind_name
    pub parked: BTreeMap<&'static str, usize>,
}

/// One worker's numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerMetrics {
    /// Coroutines started on this worker and not finished (they stay on it).
    pub live: usize,
    /// Of those, queued to run (as of the start of the worker's latest round).
    pub ready: usize,
    /// New coroutines waiting in this worker's queues to be started.
    pub new_queued: usize,
    /// Coroutines spawned by coroutines of this worker.
    pub spawned: usize,
    /// Coroutines that finished on this worker.
    pub finished: usize,
    /// Batches of new coroutines this worker stole from others (while idle).
    pub steals: usize,
    /// Polls of this worker's I/O driver (when it sleeps, and every few rounds while busy).
    pub polls: usize,
    /// Wake-ups of this worker's coroutines that came from other threads.
    pub remote_wakes: usize,
    /// Timers that fired on this worker (deadlines of waits and sleeps).
    pub timers_fired: usize,
    /// Timers armed on this worker (as of the start of its latest round).
    pub timers_armed: usize,
}

/// The coroutine stacks, as the stack allocator sees them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StackMetrics {
    /// Memory mappings ("slabs") stacks are carved from.
    pub slabs: usize,
    /// Address space of those mappings. Not memory: a stack costs memory only for the pages
    /// it touched, and kept or free stacks keep at most their top two pages.
    pub mapped_bytes: usize,
    /// Stacks in use by coroutines or kept for reuse (in a thread's cache or the shared pool).
    pub in_use_or_kept: usize,
    /// Of those, in the pool shared by all threads.
    pub pooled: usize,
    /// Free stacks whose memory has not been given back yet (the next sweep does).
    pub free_unswept: usize,
    /// Free stacks whose memory was given back.
    pub free_swept: usize,
}

/// The runtime's counters now. Does not start the runtime (all zero before it starts, but for
/// `blocking_jobs`).
///
/// ```
/// let before = may_core::runtime::metrics();
/// may_core::coroutine::spawn(|| ()).join().unwrap();
/// let after = may_core::runtime::metrics();
/// assert!(after.finished > before.finished);
/// assert_eq!(after.per_worker.len(), after.workers);
/// ```
pub fn metrics() -> Metrics {
    let blocking_jobs = BLOCKING_JOBS.load(Ordering::Relaxed);
    let Some(rt) = crate::scheduler::try_runtime() else {
        return Metrics {
            blocking_jobs,
            ..Metrics::default()
        };
    };
    let (spawned, finished) = rt.counts();
    let stats = rt.worker_stats();
    let per_worker: Vec<WorkerMetrics> = stats.iter().map(worker_metrics).collect();
    let started = per_worker.iter().map(|w| w.live).sum();
    let alive = spawned.saturating_sub(finished);
    let stacks = crate::task::stack::stats();
    let parked = (1..KINDS)
        .map(|k| (kind_name(k), stats.iter().map(|s| s.parked[k]).sum()))
        .collect();
    Metrics {
        workers: rt.workers(),
        spawned,
        finished,
        alive,
        started,
        queued: alive.saturating_sub(started),
        per_worker,
        stacks: StackMetrics {
            slabs: stacks.slabs,
            mapped_bytes: stacks.mapped_bytes,
            in_use_or_kept: stacks.handed_out,
            pooled: stacks.pooled,
            free_unswept: stacks.free_warm,
            free_swept: stacks.free_cold,
        },
        blocking_jobs,
        parked,
    }
}

fn worker_metrics(s: &WorkerStats) -> WorkerMetrics {
    WorkerMetrics {
        live: s.live,
        ready: s.ready,
        new_queued: s.new_queued,
        spawned: s.spawned,
        finished: s.finished,
        steals: s.steals,
        polls: s.polls,
        remote_wakes: s.remote_wakes,
        timers_fired: s.timers_fired,
        timers_armed: s.timers_armed,
    }
}
