//! `Coroutine`: a cheap, clonable handle to a coroutine, and its id.

use std::fmt;
use std::sync::Arc;

use crate::task::Task;

/// A unique identifier of a coroutine within the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CoroutineId(u64);

impl CoroutineId {
    /// The id as a number (ids start at 1 and are never reused).
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for CoroutineId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A handle to a coroutine: its identity, and the means to unpark or cancel it.
///
/// ```
/// let h = may_core::coroutine::Builder::new()
///     .name("worker")
///     .spawn(|| may_core::coroutine::current().name().map(str::to_owned))
///     .unwrap();
/// assert_eq!(h.coroutine().name(), Some("worker"));
/// assert_eq!(h.join().unwrap().as_deref(), Some("worker"));
/// ```
#[derive(Clone)]
pub struct Coroutine {
    task: Arc<Task>,
}

impl Coroutine {
    pub(crate) fn from_task(task: Arc<Task>) -> Coroutine {
        Coroutine { task }
    }

    pub(crate) fn task(&self) -> &Arc<Task> {
        &self.task
    }

    /// The coroutine's unique id.
    pub fn id(&self) -> CoroutineId {
        CoroutineId(self.task.id)
    }

    /// The name given with [`Builder::name`](super::Builder::name), if any.
    pub fn name(&self) -> Option<&str> {
        self.task.name.as_deref()
    }

    /// The usable size of the coroutine's stack, in bytes (whole pages).
    pub fn stack_size(&self) -> usize {
        self.task.stack_size
    }

    /// Bytes of stack the coroutine used, once it has finished, if it was spawned with
    /// [`Builder::measure_stack`](super::Builder::measure_stack).
    pub fn stack_used(&self) -> Option<usize> {
        self.task.stack_used()
    }

    /// Whether the coroutine has finished (returned, panicked or was cancelled).
    pub fn is_done(&self) -> bool {
        self.task.is_done()
    }

    /// Makes the coroutine's park token available, waking it if it is blocked in
    /// [`park`](super::park) or [`park_timeout`](super::park_timeout). Like
    /// `std::thread::Thread::unpark`, an unpark before the park makes the park return at once.
    pub fn unpark(&self) {
        self.task.unpark();
    }

    /// Cancels the coroutine: if it is blocked (sleep, park, channel, lock, join, socket, ...)
    /// it wakes up and unwinds from there, running its destructors and releasing its locks; if
    /// it is running, it unwinds at its next blocking call or yield. Its `join` then returns an
    /// error with [`JoinError::is_cancelled`](super::JoinError::is_cancelled). Cancelling a
    /// finished coroutine does nothing; while it unwinds it is not cancelled again.
    pub fn cancel(&self) {
        self.task.cancel();
    }
}

impl fmt::Debug for Coroutine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.task, f)
    }
}

impl PartialEq for Coroutine {
    fn eq(&self, other: &Coroutine) -> bool {
        Arc::ptr_eq(&self.task, &other.task)
    }
}

impl Eq for Coroutine {}
