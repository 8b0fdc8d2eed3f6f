//! The caller's own waiter without reference counting, and wake-ups that reuse the waker's
//! reference: the two halves of a wait that the channel hot path repeats on every hop.

use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::sync::Arc;

use super::{thread_waiter, WaiterRef};

/// The waiter of the running coroutine (or of the calling thread), borrowed for one blocking
/// call. It derefs to a [`WaiterRef`]; [`registration`](CurrentWaiter::registration) gives the
/// owned, counted reference to put on a wait list.
///
/// For a coroutine it is built from the pointer the worker keeps alive while the coroutine runs
/// (and the coroutine's own reference keeps alive while it is parked), so creating and dropping
/// it touches no reference count, where [`WaiterRef::current`] costs two atomic updates.
pub(crate) struct CurrentWaiter {
    /// # Invariant
    /// For `WaiterRef::Coroutine`, an `Arc` whose count this value does not own: never dropped.
    inner: ManuallyDrop<WaiterRef>,
    /// Not `Send`: the borrow is only valid on the stack of the coroutine it names.
    _not_send: PhantomData<*const ()>,
}

impl CurrentWaiter {
    /// The caller's waiter.
    pub(crate) fn get() -> CurrentWaiter {
        let inner = crate::coroutine::with_current(|co| match co {
            // `co` is owned by an `Arc` that lives as long as this coroutine's stack (the
            // worker's while it runs, `CoInner::self_ref` while it is parked), and
            // `CurrentWaiter` cannot leave that stack (not `Send`, crate-internal).
            Some(co) => {
                let ptr: *const crate::coroutine::CoInner = co;
                // SAFETY: `ptr` came from that `Arc` (see above); the count is borrowed, never
                // released: `CurrentWaiter` never drops this `Arc`.
                WaiterRef::Coroutine(unsafe { Arc::from_raw(ptr) })
            }
            None => WaiterRef::Thread(thread_waiter()),
        });
        CurrentWaiter {
            inner: ManuallyDrop::new(inner),
            _not_send: PhantomData,
        }
    }

    /// An owned reference to register on a wait list: the coroutine's spare reference when it
    /// has one (`CoInner::spare_ref`), else a clone.
    pub(crate) fn registration(&self) -> WaiterRef {
        match &*self.inner {
            WaiterRef::Coroutine(co) => {
                // SAFETY: `CurrentWaiter` only exists on the running coroutine's own stack, and
                // the coroutine itself is the only one touching `spare_ref` while it runs.
                let spare = unsafe { (*co.spare_ref.get()).take() };
                WaiterRef::Coroutine(spare.unwrap_or_else(|| Arc::clone(co)))
            }
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

impl WaiterRef {
    /// Wakes the owner, handing this reference to the scheduler instead of cloning a new one.
    /// Call only after winning the selected slot.
    pub(crate) fn unpark_owned(self) {
        match self {
            WaiterRef::Coroutine(co) => co.unpark_owned(),
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
