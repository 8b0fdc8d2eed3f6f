//! Counters of the running runtime.

/// A snapshot of the runtime's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Metrics {
    /// Worker threads (0 while the runtime has not started).
    pub workers: usize,
    /// Coroutines spawned since start.
    pub spawned: usize,
    /// Coroutines that finished since start.
    pub finished: usize,
    /// Coroutines alive now (spawned and not finished).
    pub alive: usize,
}

/// The runtime's counters now. Does not start the runtime.
///
/// ```
/// let before = may_core::runtime::metrics();
/// may_core::coroutine::spawn(|| ()).join().unwrap();
/// let after = may_core::runtime::metrics();
/// assert!(after.finished > before.finished);
/// ```
pub fn metrics() -> Metrics {
    let Some(rt) = crate::scheduler::try_runtime() else {
        return Metrics::default();
    };
    let (spawned, finished) = rt.counts();
    Metrics {
        workers: rt.workers(),
        spawned,
        finished,
        alive: spawned.saturating_sub(finished),
    }
}
