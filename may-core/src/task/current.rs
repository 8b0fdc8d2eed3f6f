//! Which task the calling thread is running, if any.
//!
//! The pointer is a thread-local of the worker thread. LLVM assumes a thread-local's address
//! cannot change inside a function, while a coroutine's code may be resumed after a switch, so
//! every access goes through an `#[inline(never)]` function (see DESIGN.md on thread-locals);
//! a started task never changes threads anyway. The fault handler reads it too: the cell is
//! const-initialised and has no destructor, so reading it inside a signal handler is fine.

use std::cell::Cell;
use std::sync::Arc;

use super::Task;

thread_local! {
    /// The task this thread is running, or null.
    static CURRENT: Cell<*const Task> = const { Cell::new(std::ptr::null()) };
}

/// Sets the task the calling thread runs (null: none).
#[inline(never)]
pub(super) fn set(task: *const Task) {
    CURRENT.with(|c| c.set(task));
}

#[inline(never)]
fn get() -> *const Task {
    CURRENT.with(|c| c.get())
}

/// Runs `f` with the running task, without touching its reference count.
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&Task>) -> R) -> R {
    let ptr = get();
    // SAFETY: while a task runs, the thread running it keeps an `Arc` of it alive (see
    // `Task::run`), and `ptr` came from `Arc::as_ptr` of that `Arc`.
    f(unsafe { ptr.as_ref() })
}

/// The running task, if called from one (a new counted reference).
pub(crate) fn current() -> Option<Arc<Task>> {
    let ptr = get();
    if ptr.is_null() {
        return None;
    }
    // SAFETY: as in `with_current`; bumping the count yields an owned handle.
    unsafe {
        Arc::increment_strong_count(ptr);
        Some(Arc::from_raw(ptr))
    }
}

/// Whether the caller runs inside a task (a coroutine).
pub(crate) fn in_task() -> bool {
    !get().is_null()
}
