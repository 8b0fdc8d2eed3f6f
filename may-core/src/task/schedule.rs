//! How a woken task is queued: installed by the scheduler, so that the core does not know what a
//! run queue is (tokio's `Schedule` trait plays the same part between its task core and its
//! schedulers).

use std::sync::{Arc, OnceLock};

use super::Task;

/// What the scheduler does with a task that becomes ready to run again.
pub(crate) trait Schedule: Sync {
    /// Queues `task`, which has started and is switched out, to be resumed on its home worker.
    fn schedule(&self, task: Arc<Task>);
}

static SCHEDULER: OnceLock<&'static dyn Schedule> = OnceLock::new();

/// Installs the scheduler, once, before it runs the first task.
pub(crate) fn install(scheduler: &'static dyn Schedule) {
    if SCHEDULER.set(scheduler).is_err() {
        unreachable!("the scheduler is installed once");
    }
}

/// Queues a ready task.
#[inline]
pub(super) fn schedule(task: Arc<Task>) {
    match SCHEDULER.get() {
        Some(scheduler) => scheduler.schedule(task),
        // Only a started task can be woken, and only the scheduler starts tasks.
        None => unreachable!("a task was woken before the scheduler started"),
    }
}
