//! Coroutines: spawning, joining, the current coroutine, yielding, sleeping and parking.
//!
//! Every function here also works on a plain thread: `sleep` sleeps the thread, `park` parks
//! it, `yield_now` yields it, so library code does not need to know where it runs.

mod builder;
mod handle;
mod inner;
mod join;
mod joiners;
mod local;
mod park_token;
mod scope;

use std::cell::Cell;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use crate::blocking::spawn_blocking;
pub use crate::task::stack::{parse_size, DEFAULT_STACK_SIZE, MAX_STACK_SIZE, MIN_STACK_SIZE};
pub use builder::{spawn, Builder};
pub use handle::{Coroutine, CoroutineId};
pub(crate) use inner::{CoInner, NO_WORKER};
pub use join::{JoinError, JoinHandle};
pub use local::LocalKey;
pub(crate) use scope::{run_scope, AfterJoin};
pub use scope::{scope, Scope, ScopedJoinHandle};

use crate::wait::{Selected, WaiterRef};

thread_local! {
    /// The coroutine the worker of this thread is running, or null.
    static CURRENT: Cell<*const CoInner> = const { Cell::new(std::ptr::null()) };
}

/// Sets the running coroutine of this worker thread.
// Never inlined: a coroutine's code must re-read the thread-local through a call (see DESIGN.md
// on thread-locals and LLVM's assumptions).
#[inline(never)]
pub(crate) fn set_current(co: *const CoInner) {
    CURRENT.with(|c| c.set(co));
}

#[inline(never)]
fn current_ptr() -> *const CoInner {
    CURRENT.with(|c| c.get())
}

/// The running coroutine's shared state, if called from a coroutine.
pub(crate) fn current_inner() -> Option<Arc<CoInner>> {
    let ptr = current_ptr();
    if ptr.is_null() {
        return None;
    }
    // SAFETY: the worker keeps an `Arc` of the coroutine it runs alive for the whole resume, and
    // `ptr` came from `Arc::as_ptr` of it; bumping the count yields an owned handle.
    unsafe {
        Arc::increment_strong_count(ptr);
        Some(Arc::from_raw(ptr))
    }
}

/// Runs `f` with the running coroutine's state, without touching its reference count.
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&CoInner>) -> R) -> R {
    let ptr = current_ptr();
    // SAFETY: as in `current_inner`: the pointee is kept alive by the worker while it runs.
    f(unsafe { ptr.as_ref() })
}

/// Whether the caller runs inside a coroutine.
pub fn is_coroutine() -> bool {
    !current_ptr().is_null()
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
    current_inner().map(Coroutine::from_inner)
}

/// Gives other coroutines on this worker a turn; on a plain thread, `std::thread::yield_now`.
///
/// A coroutine with a pending cancellation unwinds here.
pub fn yield_now() {
    match current_inner() {
        Some(co) => {
            co.assert_on_own_stack();
            unwind_if_cancelled(&co);
            crate::scheduler::schedule(co);
            // The worker keeps the coroutine alive while it runs; no reference of our own needed.
            with_current(|co| {
                if let Some(co) = co {
                    co.switch_out();
                }
            });
        }
        None => std::thread::yield_now(),
    }
}

/// Parks the running coroutine until its token is made available by `unpark` (or `deadline`
/// passes). Spurious returns are possible; callers loop on their own condition.
pub(crate) fn park_until(deadline: Option<Instant>) {
    match current_inner() {
        Some(co) => park_coroutine(&co, deadline),
        None => match deadline {
            Some(d) => std::thread::park_timeout(d.saturating_duration_since(Instant::now())),
            None => std::thread::park(),
        },
    }
}

/// [`park_until`] for the running coroutine `co`, when the caller already has it. A parked
/// coroutine is kept alive by its own reference (`CoInner::self_ref`), so `co` may be borrowed.
// Inlined into `wait_until`, see there.
#[inline(always)]
pub(crate) fn park_coroutine(co: &Arc<CoInner>, deadline: Option<Instant>) {
    let Some(deadline) = deadline else {
        // An available token makes `announce_park` fail, consuming it: no separate `take`.
        if co.announce_park() {
            co.switch_out();
            co.consume_wake();
        }
        return;
    };
    if co.take_token() {
        return;
    }
    let timer = crate::scheduler::add_timer(deadline, Arc::clone(co));
    if co.announce_park() {
        co.switch_out();
        co.consume_wake();
    }
    crate::scheduler::remove_timer(timer);
}

/// Blocks until [`Coroutine::unpark`] is called on the running coroutine, or spuriously.
/// On a plain thread this is `std::thread::park`.
///
/// A coroutine with a pending cancellation unwinds here.
pub fn park() {
    match current_inner() {
        Some(co) => {
            unwind_if_cancelled(&co);
            park_coroutine(&co, None);
            unwind_if_cancelled(&co);
        }
        None => std::thread::park(),
    }
}

/// Like [`park`], but returns after `timeout` at the latest.
pub fn park_timeout(timeout: Duration) {
    match current_inner() {
        Some(co) => {
            unwind_if_cancelled(&co);
            park_coroutine(&co, Instant::now().checked_add(timeout));
            unwind_if_cancelled(&co);
        }
        None => std::thread::park_timeout(timeout),
    }
}

/// Suspends the running coroutine for at least `duration` (the worker runs others meanwhile);
/// on a plain thread, `std::thread::sleep`. A zero duration yields. `Duration::MAX` sleeps until
/// the coroutine is cancelled.
pub fn sleep(duration: Duration) {
    let Some(co) = current_inner() else {
        std::thread::sleep(duration);
        return;
    };
    if duration.is_zero() {
        yield_now();
        return;
    }
    let me = WaiterRef::Coroutine(co);
    me.waiter().reset();
    unwind_if_selected_cancel(me.wait_until(Instant::now().checked_add(duration)));
}

/// The payload a cancelled coroutine unwinds with.
#[derive(Debug)]
pub(crate) struct Cancelled;

/// Whether the running coroutine has a cancellation pending (false on a plain thread).
pub(crate) fn is_cancel_pending() -> bool {
    with_current(|co| co.is_some_and(CoInner::cancel_pending))
}

/// Unwinds the running coroutine if a cancellation is pending.
pub(crate) fn unwind_if_cancelled(co: &CoInner) {
    if co.cancel_pending() {
        cancel_unwind(co);
    }
}

/// Starts unwinding the running coroutine because it was cancelled. Destructors run; no panic
/// message is printed.
pub(crate) fn cancel_unwind(co: &CoInner) -> ! {
    co.set_unwinding();
    std::panic::resume_unwind(Box::new(Cancelled))
}

/// Unwinds the calling coroutine when a blocking wait ended in `Cancelled`. Blocking operations
/// call this after removing their registrations.
pub(crate) fn unwind_if_selected_cancel(sel: Selected) {
    if sel == Selected::Cancelled {
        with_current(|co| {
            if let Some(co) = co {
                cancel_unwind(co);
            }
        });
    }
}
