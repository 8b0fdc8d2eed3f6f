//! Who waits: a task, or a plain thread outside the runtime. A [`WaiterRef`] names one of them
//! together with its selected slot and knows how to wake it; [`CurrentWaiter`] is the caller's
//! own, borrowed for one blocking call without touching reference counts.
//!
//! The waiting half (parking until the slot is selected or a deadline passes) is in `wait/`,
//! where the timers are.

use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::sync::Arc;

use super::{with_current, Task, Waiter};
use crate::loom::Thread;

/// The waiter of a plain (non-coroutine) thread.
#[derive(Debug)]
pub(crate) struct ThreadWaiter {
    waiter: Waiter,
    pub(crate) thread: Thread,
}

impl ThreadWaiter {
    fn new() -> Arc<ThreadWaiter> {
        Arc::new(ThreadWaiter {
            waiter: Waiter::default(),
            thread: crate::loom::current_thread(),
        })
    }
}

crate::loom::thread_local! {
    static THREAD_WAITER: Arc<ThreadWaiter> = ThreadWaiter::new();
}

/// The calling thread's waiter.
fn thread_waiter() -> Arc<ThreadWaiter> {
    THREAD_WAITER
        .try_with(Arc::clone)
        .unwrap_or_else(|_| exiting_thread_waiter())
}

/// The waiter of a thread whose `THREAD_WAITER` is already destroyed: a blocking call from
/// another thread-local's destructor while the thread exits. One per thread, leaked on purpose
/// (a few dozen bytes, only for threads that block that late): an operation needs the same
/// waiter identity on every call it makes, and no destructor runs after this point anyway.
#[cold]
fn exiting_thread_waiter() -> Arc<ThreadWaiter> {
    std::thread_local! {
        // No destructor: readable for as long as the thread runs code.
        static EXITING: std::cell::Cell<*const ThreadWaiter> =
            const { std::cell::Cell::new(std::ptr::null()) };
    }
    EXITING.with(|cell| {
        if cell.get().is_null() {
            cell.set(Arc::into_raw(ThreadWaiter::new()));
        }
        // SAFETY: the pointer came from `Arc::into_raw` above and that count is never released,
        // so the waiter is alive; bumping the count first makes the returned `Arc` an owned one.
        unsafe {
            Arc::increment_strong_count(cell.get());
            Arc::from_raw(cell.get())
        }
    })
}

/// A shared reference to a waiter that knows how to wake its owner.
#[derive(Debug, Clone)]
pub(crate) enum WaiterRef {
    /// A task: unparking schedules it on its home worker.
    Task(Arc<Task>),
    /// A plain thread: unparking is `Thread::unpark`.
    Thread(Arc<ThreadWaiter>),
}

impl WaiterRef {
    /// The waiter of the running task, or of the calling thread outside tasks (a new counted
    /// reference; blocking calls use [`CurrentWaiter`], which costs none).
    pub(crate) fn current() -> WaiterRef {
        match super::current() {
            Some(task) => {
                task.assert_on_own_stack();
                WaiterRef::Task(task)
            }
            None => WaiterRef::Thread(thread_waiter()),
        }
    }

    /// The selected slot.
    pub(crate) fn waiter(&self) -> &Waiter {
        match self {
            WaiterRef::Task(task) => &task.slot,
            WaiterRef::Thread(t) => &t.waiter,
        }
    }

    /// Whether two references name the same waiter.
    pub(crate) fn same(&self, other: &WaiterRef) -> bool {
        std::ptr::eq(self.waiter(), other.waiter())
    }

    /// Brings the waiter's lines into the cache: a waker that pops entries off a long wait list
    /// calls it for the entry it will pop next, so that entry's (cold) task is loaded while the
    /// current one is woken. Reads nothing.
    #[inline]
    pub(crate) fn prefetch(&self) {
        match self {
            WaiterRef::Task(task) => task.prefetch(),
            WaiterRef::Thread(t) => crate::sys::prefetch(&t.waiter as *const Waiter as usize),
        }
    }

    /// Wakes the owner. Call only after winning the selected slot.
    pub(crate) fn unpark(&self) {
        match self {
            WaiterRef::Task(task) => task.unpark(),
            WaiterRef::Thread(t) => t.thread.unpark(),
        }
    }

    /// Wakes the owner, handing this reference to the scheduler instead of cloning a new one.
    /// Call only after winning the selected slot.
    pub(crate) fn unpark_owned(self) {
        match self {
            WaiterRef::Task(task) => task.unpark_owned(),
            WaiterRef::Thread(t) => t.thread.unpark(),
        }
    }

    /// Selects `sel` and wakes the owner, handing this reference (a wait-list entry the waker
    /// popped) to the scheduler; returns false when the wait was already completed.
    pub(crate) fn select_and_unpark_owned(self, sel: super::Selected) -> bool {
        if self.waiter().try_select(sel).is_ok() {
            self.unpark_owned();
            true
        } else {
            false
        }
    }
}

/// The waiter of the running task (or of the calling thread), borrowed for one blocking call.
/// It derefs to a [`WaiterRef`]; [`registration`](CurrentWaiter::registration) gives the
/// owned, counted reference to put on a wait list.
///
/// For a task it is built from the pointer the worker keeps alive while the task runs (and the
/// task's own reference keeps alive while it is parked), so creating and dropping it touches no
/// reference count, where [`WaiterRef::current`] costs two atomic updates.
pub(crate) struct CurrentWaiter {
    /// # Invariant
    /// For `WaiterRef::Task`, an `Arc` whose count this value does not own: never dropped.
    inner: ManuallyDrop<WaiterRef>,
    /// Not `Send`: the borrow is only valid on the stack of the task it names.
    _not_send: PhantomData<*const ()>,
}

impl CurrentWaiter {
    /// The caller's waiter.
    ///
    /// # Panics
    /// In a task, when called off the task's own stack (inside a generator it drives): see
    /// `Task::assert_on_own_stack`. Blocking calls get their waiter before they register
    /// anywhere, so such a call fails cleanly.
    #[inline]
    pub(crate) fn get() -> CurrentWaiter {
        let inner = with_current(|task| match task {
            // `task` is owned by an `Arc` that lives as long as this task's stack (the
            // worker's while it runs, `Task::self_ref` while it is parked), and
            // `CurrentWaiter` cannot leave that stack (not `Send`, crate-internal).
            Some(task) => {
                task.assert_on_own_stack();
                let ptr: *const Task = task;
                // SAFETY: `ptr` came from that `Arc` (see above); the count is borrowed, never
                // released: `CurrentWaiter` never drops this `Arc`.
                WaiterRef::Task(unsafe { Arc::from_raw(ptr) })
            }
            None => WaiterRef::Thread(thread_waiter()),
        });
        CurrentWaiter {
            inner: ManuallyDrop::new(inner),
            _not_send: PhantomData,
        }
    }

    /// An owned reference to register on a wait list: the task's spare reference when it has
    /// one (`Task::spare_ref`), else a clone.
    pub(crate) fn registration(&self) -> WaiterRef {
        match &*self.inner {
            WaiterRef::Task(task) => WaiterRef::Task(task.take_spare_ref()),
            thread => thread.clone(),
        }
    }
}

impl Deref for CurrentWaiter {
    type Target = WaiterRef;

    fn deref(&self) -> &WaiterRef {
        &self.inner
    }
}

impl Drop for CurrentWaiter {
    fn drop(&mut self) {
        if let WaiterRef::Thread(_) = &*self.inner {
            // SAFETY: a thread's waiter holds a counted `Arc` of its own; dropped once, here.
            unsafe { ManuallyDrop::drop(&mut self.inner) };
        }
    }
}
