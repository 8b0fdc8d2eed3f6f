//! The waiters of one coroutine's completion: its `JoinHandle` and, for scoped coroutines, the
//! scope; or an async task awaiting the handle as a future. Almost always one waiter, so the
//! first is stored inline and joining allocates nothing.

use std::task::Waker;

use super::{Selected, WaiterRef};
use crate::spin_lock::{SpinGuard, SpinLock};

#[derive(Debug, Default)]
struct Slots {
    first: Option<WaiterRef>,
    /// The future awaiting the task (its `JoinHandle` turned into one: there is only one
    /// handle, so one waker, the latest poll's); boxed, as it is rare.
    waker: Option<Box<Waker>>,
    /// Boxed: a second joiner is rare, and every task carries one of these (8 bytes instead of
    /// a vector's 24, on a million tasks).
    #[allow(clippy::box_collection)]
    rest: Option<Box<Vec<WaiterRef>>>,
}

/// Waiters of a coroutine's completion.
///
/// No lock-free fast path: `register` and `notify_all` both take the lock, which orders the
/// registration against the notifier's `done` store (see `coroutine/join.rs`).
#[derive(Debug, Default)]
pub(crate) struct Joiners {
    slots: SpinLock<Slots>,
}

impl Joiners {
    /// No user code runs under this lock, and nobody blocks or wakes anyone while holding it.
    fn lock(&self) -> SpinGuard<'_, Slots> {
        self.slots.lock()
    }

    pub(crate) fn register(&self, waiter: WaiterRef) {
        let mut slots = self.lock();
        if slots.first.is_none() {
            slots.first = Some(waiter);
        } else {
            slots.rest.get_or_insert_with(Box::default).push(waiter);
        }
    }

    /// Registers the waker of the future awaiting the task, replacing an earlier poll's.
    pub(crate) fn register_waker(&self, waker: &Waker) {
        let mut slots = self.lock();
        match &mut slots.waker {
            Some(old) if old.will_wake(waker) => {}
            Some(old) => (**old).clone_from(waker),
            None => slots.waker = Some(Box::new(waker.clone())),
        }
    }

    pub(crate) fn unregister(&self, waiter: &WaiterRef) {
        let mut slots = self.lock();
        let slots = &mut *slots;
        if slots.first.as_ref().is_some_and(|w| w.same(waiter)) {
            slots.first = slots.rest.as_mut().and_then(|rest| rest.pop());
        } else if let Some(rest) = slots.rest.as_mut() {
            if let Some(pos) = rest.iter().position(|w| w.same(waiter)) {
                rest.swap_remove(pos);
            }
        }
    }

    /// Wakes every registered waiter. Called once, after the coroutine is marked done; the
    /// waiters are taken under the lock (a later `register` sees `done`) and woken after it.
    pub(crate) fn notify_all(&self) {
        let (first, rest, waker) = {
            let mut slots = self.lock();
            (slots.first.take(), slots.rest.take(), slots.waker.take())
        };
        if let Some(first) = first {
            first.select_and_unpark_owned(Selected::Operation(0));
        }
        if let Some(rest) = rest {
            for waiter in *rest {
                waiter.select_and_unpark_owned(Selected::Operation(0));
            }
        }
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}
