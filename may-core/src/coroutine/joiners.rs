//! The waiters of one coroutine's completion: its `JoinHandle` and, for scoped coroutines, the
//! scope. Almost always one waiter, so the first is stored inline and joining allocates nothing.

use std::sync::{Mutex, MutexGuard};

use crate::wait::{Selected, WaiterRef};

#[derive(Debug, Default)]
struct Slots {
    first: Option<WaiterRef>,
    rest: Vec<WaiterRef>,
}

/// Waiters of a coroutine's completion.
///
/// No lock-free fast path: `register` and `notify_all` both take the lock, which orders the
/// registration against the notifier's `done` store (see `join::wait_done`).
#[derive(Debug, Default)]
pub(crate) struct Joiners {
    slots: Mutex<Slots>,
}

impl Joiners {
    fn lock(&self) -> MutexGuard<'_, Slots> {
        // No user code runs under this lock; a poisoned lock still holds consistent slots.
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn register(&self, waiter: WaiterRef) {
        let mut slots = self.lock();
        if slots.first.is_none() {
            slots.first = Some(waiter);
        } else {
            slots.rest.push(waiter);
        }
    }

    pub(crate) fn unregister(&self, waiter: &WaiterRef) {
        let mut slots = self.lock();
        if slots.first.as_ref().is_some_and(|w| w.same(waiter)) {
            slots.first = slots.rest.pop();
        } else if let Some(pos) = slots.rest.iter().position(|w| w.same(waiter)) {
            slots.rest.swap_remove(pos);
        }
    }

    /// Wakes every registered waiter. Called once, after the coroutine is marked done.
    pub(crate) fn notify_all(&self) {
        let mut slots = self.lock();
        if let Some(first) = slots.first.take() {
            first.select_and_unpark_owned(Selected::Operation(0));
        }
        for waiter in slots.rest.drain(..) {
            waiter.select_and_unpark_owned(Selected::Operation(0));
        }
    }
}
