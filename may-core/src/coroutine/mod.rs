//! Coroutines, the public layer on top of the task core: spawning, joining, scopes,
//! coroutine-local values, the current coroutine, yielding, sleeping and parking.
//!
//! Every function here also works on a plain thread: `sleep` sleeps the thread, `park` parks
//! it, `yield_now` yields it, so library code does not need to know where it runs.

mod builder;
mod go;
mod handle;
mod join;
mod local;
mod scope;

use std::time::{Duration, Instant};

pub use crate::task::stack::{parse_size, DEFAULT_STACK_SIZE, MAX_STACK_SIZE, MIN_STACK_SIZE};
pub use builder::{spawn, spawn_blocking, Builder};
#[doc(hidden)]
pub use go::{__go_spawn, GoSpawner as __GoSpawner};
pub use handle::{Coroutine, CoroutineId};
pub use join::{JoinError, JoinFuture, JoinHandle};
pub use local::LocalKey;
#[doc(hidden)]
pub use scope::__select_scope;
pub use scope::{scope, Scope, ScopedJoinHandle};

use crate::task::{self, cancel_point};
use crate::wait::{self, park_task};

/// Whether the caller runs inside a coroutine.
pub fn is_coroutine() -> bool {
    task::in_task()
}

/// The handle of the running coroutine.
///
/// # Panics
/// When called outside a coroutine; use [`try_current`] to check.
pub fn current() -> Coroutine {
    try_current().expect("may::coroutine::current() called outside a coroutine")
}

/// The handle of the running coroutine, or `None` on a plain thread.
pub fn try_current() -> Option<Coroutine> {
    task::current().map(Coroutine::from_task)
}

/// Gives other coroutines on this worker a turn; on a plain thread, `std::thread::yield_now`.
///
/// A coroutine with a pending cancellation unwinds here.
pub fn yield_now() {
    if !task::yield_current() {
        std::thread::yield_now();
    }
}

/// Blocks until [`Coroutine::unpark`] is called on the running coroutine, or spuriously.
/// On a plain thread this is `std::thread::park`.
///
/// A coroutine with a pending cancellation unwinds here.
pub fn park() {
    park_until(None);
}

/// Like [`park`], but returns after `timeout` at the latest.
pub fn park_timeout(timeout: Duration) {
    park_until(Some(Instant::now().checked_add(timeout)));
}

/// `deadline`: `None` for no deadline, `Some(None)` for one too far to represent (no deadline
/// either).
fn park_until(deadline: Option<Option<Instant>>) {
    match task::current() {
        Some(task) => {
            task.assert_on_own_stack();
            cancel_point();
            task.activity.waiting(task::WaitReason::Park);
            park_task(&task, deadline.flatten());
            cancel_point();
        }
        None => match deadline {
            Some(Some(deadline)) => {
                std::thread::park_timeout(deadline.saturating_duration_since(Instant::now()))
            }
            _ => std::thread::park(),
        },
    }
}

/// Suspends the running coroutine for at least `duration` (the worker runs others meanwhile);
/// on a plain thread, `std::thread::sleep`. A zero duration yields. `Duration::MAX` sleeps until
/// the coroutine is cancelled.
pub fn sleep(duration: Duration) {
    if duration.is_zero() && task::in_task() {
        yield_now();
        return;
    }
    wait::sleep(duration);
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn check<X: Send + Sync>() {}
    check::<Coroutine>();
    check::<JoinHandle<String>>();
}
