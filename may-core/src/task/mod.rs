//! The coroutine core, the floor everything else stands on (as tokio keeps `runtime/task` under
//! its schedulers): a task's shared state ([`Task`]), the running task ([`with_current`]), its
//! park token, the selected slot of the wait primitive ([`Waiter`], [`Selected`]), who can wait
//! and be woken ([`WaiterRef`]: a task or a plain thread), parking and unparking, cancel-unwind,
//! and the context switch with the stacks it runs on.
//!
//! The core does not know what a run queue is: the scheduler installs how a woken task is queued
//! ([`Schedule`]), and runs tasks with [`Task::run`].

mod activity;
mod cancel;
pub(crate) mod context;
mod current;
pub(crate) mod injection;
mod joiners;
pub(crate) mod overflow;
mod park_token;
mod schedule;
mod slot;
pub(crate) mod stack;
mod switch;
#[allow(clippy::module_inception)]
mod task;
mod waiter;

pub use activity::WaitReason;
pub(crate) use activity::{kind_name, tick_clock, Doing, KINDS};
pub(crate) use cancel::{cancel_point, cancel_unwind, is_cancel_pending, Cancelled};
pub(crate) use current::{current, in_task, with_current};

/// Yields the running task (see [`Task::yield_now`]); false on a plain thread. A task with a
/// pending cancellation unwinds instead.
pub(crate) fn yield_current() -> bool {
    with_current(|task| match task {
        Some(task) => {
            injection::point(task, injection::Point::Check);
            if task.cancel_pending() {
                cancel_unwind(task);
            }
            task.yield_now();
            true
        }
        None => false,
    })
}
pub(crate) use schedule::{install as install_scheduler, Schedule};
pub(crate) use slot::{Selected, Waiter};
pub(crate) use task::{Ran, Start, Task, NO_WORKER};
pub(crate) use waiter::{CurrentWaiter, WaiterRef};
