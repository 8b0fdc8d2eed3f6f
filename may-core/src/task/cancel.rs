//! Cancellation: a cancelled task unwinds from its next blocking call with a payload of its own
//! ([`Cancelled`]) and no panic message, so its destructors run and its locks are released.
//!
//! `Task::cancel` sets the request flag, then tries to complete the task's current wait with
//! `Selected::Cancelled` and unparks it. A wait that misses the flag sees it at its next turn
//! (the wait loop re-reads it after every park), and a blocking call that has not started yet
//! sees it at its [`cancel_point`].

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::task::{CANCEL_REQUESTED, DONE, UNWINDING};
use super::{with_current, Selected, Task};

/// The payload a cancelled task unwinds with.
#[derive(Debug)]
pub(crate) struct Cancelled;

impl Task {
    /// Cancels the task: if it is blocked it wakes up and unwinds from there; if it runs, it
    /// unwinds at its next blocking call. Does nothing to a finished task or one that is
    /// already unwinding for a cancellation.
    pub(crate) fn cancel(self: &Arc<Task>) {
        if !self.request_cancel() {
            return;
        }
        // If it is in a wait of the wait primitive, complete that wait with `Cancelled`; if not
        // (it runs, or it is between waits), the flag is seen at its next blocking call. The
        // compare-and-swap fails when someone completed the wait first: that wait then ends
        // normally and the flag is seen right after. Either way, wake it.
        let _ = self.slot.try_select(Selected::Cancelled);
        self.unpark();
    }

    /// Requests cancellation; returns false if the task is already unwinding or done.
    pub(super) fn request_cancel(&self) -> bool {
        let flags = self.flags.fetch_or(CANCEL_REQUESTED, Ordering::SeqCst);
        flags & (DONE | UNWINDING) == 0
    }

    /// A cancellation was requested and the task has not started unwinding for it yet.
    #[inline]
    pub(crate) fn cancel_pending(&self) -> bool {
        self.flags.load(Ordering::SeqCst) & (CANCEL_REQUESTED | UNWINDING) == CANCEL_REQUESTED
    }
}

/// Whether the running task has a cancellation pending (false on a plain thread).
pub(crate) fn is_cancel_pending() -> bool {
    with_current(|task| task.is_some_and(Task::cancel_pending))
}

/// A blocking call is a cancellation point even when it would not block (like `park`): a task
/// with a pending cancellation unwinds here, before touching anything.
#[inline]
pub(crate) fn cancel_point() {
    with_current(|task| {
        if let Some(task) = task {
            super::injection::point(task, super::injection::Point::Check);
            if task.cancel_pending() {
                cancel_unwind(task);
            }
        }
    });
}

/// Starts unwinding the running task because it was cancelled. Destructors run; no panic
/// message is printed. A task that is unwinding may still block (in a destructor) without being
/// cancelled again.
#[cold]
pub(crate) fn cancel_unwind(task: &Task) -> ! {
    task.flags.fetch_or(UNWINDING, Ordering::Release);
    std::panic::resume_unwind(Box::new(Cancelled))
}
