//! A FIFO list of waiters registered on one object (a channel side, a lock, a join handle).

use std::collections::VecDeque;
use std::sync::atomic::{fence, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use super::{Selected, WaiterRef};

/// One registration: which waiter, and which of its operations this list would complete.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) waiter: WaiterRef,
    pub(crate) op: usize,
}

/// A list of waiters. Notifying selects an entry's operation on its waiter (skipping waiters
/// that were already completed by someone else) and unparks it.
#[derive(Debug, Default)]
pub(crate) struct WaitList {
    entries: Mutex<VecDeque<Entry>>,
    /// Number of entries, readable without the lock so that notifiers skip empty lists cheaply.
    len: AtomicUsize,
}

#[allow(dead_code)] // notify_one serves locks and channels
impl WaitList {
    pub(crate) const fn new() -> WaitList {
        WaitList {
            entries: Mutex::new(VecDeque::new()),
            len: AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, VecDeque<Entry>> {
        // No user code runs under this lock, so poisoning can only come from a bug here; the
        // list itself is still consistent, so keep using it.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers `waiter` for operation `op`.
    pub(crate) fn register(&self, waiter: WaiterRef, op: usize) {
        let mut entries = self.lock();
        entries.push_back(Entry { waiter, op });
        self.len.store(entries.len(), Ordering::SeqCst);
        drop(entries);
        // Pairs with the fence in `has_waiters`: the caller's re-check of its condition after
        // registering, and a notifier's check of `len` after changing that condition, cannot
        // both miss each other (store-load ordering needs a full fence on both sides).
        fence(Ordering::SeqCst);
    }

    /// Registers `waiter` for operation `op` at the front of the list, so that it is offered the
    /// next notification (locks use this for waiters that already lost a race once).
    pub(crate) fn register_front(&self, waiter: WaiterRef, op: usize) {
        let mut entries = self.lock();
        entries.push_front(Entry { waiter, op });
        self.len.store(entries.len(), Ordering::SeqCst);
        drop(entries);
        // See `register`.
        fence(Ordering::SeqCst);
    }

    /// Removes the registration of `waiter`, if still present.
    pub(crate) fn unregister(&self, waiter: &WaiterRef) {
        if self.len.load(Ordering::SeqCst) == 0 {
            return;
        }
        let mut entries = self.lock();
        if let Some(pos) = entries.iter().position(|e| e.waiter.same(waiter)) {
            entries.remove(pos);
        }
        self.len.store(entries.len(), Ordering::SeqCst);
    }

    /// Whether no waiter is registered (a hint: it may change right after).
    pub(crate) fn is_empty(&self) -> bool {
        self.len.load(Ordering::SeqCst) == 0
    }

    /// Whether a waiter may be registered, for notifiers that just changed the condition the
    /// waiters wait for. The fence orders that change before the read of `len` (see `register`).
    fn has_waiters(&self) -> bool {
        fence(Ordering::SeqCst);
        !self.is_empty()
    }

    /// Wakes the first waiter whose wait is still open; returns whether one was woken.
    pub(crate) fn notify_one(&self) -> bool {
        if !self.has_waiters() {
            return false;
        }
        let mut entries = self.lock();
        let mut woken = false;
        while let Some(entry) = entries.pop_front() {
            if entry
                .waiter
                .select_and_unpark(Selected::Operation(entry.op))
            {
                woken = true;
                break;
            }
        }
        self.len.store(entries.len(), Ordering::SeqCst);
        woken
    }

    /// Like `notify_one`, but the selection offered to each entry is chosen by `choose(op)`,
    /// and `none()` runs when no open waiter was found. Both run under the list lock, so a waiter
    /// that registers concurrently sees the effects of either (locks release their state there).
    pub(crate) fn notify_one_by(
        &self,
        mut choose: impl FnMut(usize) -> Selected,
        none: impl FnOnce(),
    ) -> bool {
        let mut entries = self.lock();
        let mut woken = false;
        while let Some(entry) = entries.pop_front() {
            if entry.waiter.select_and_unpark(choose(entry.op)) {
                woken = true;
                break;
            }
        }
        if !woken {
            none();
        }
        self.len.store(entries.len(), Ordering::SeqCst);
        woken
    }

    /// Wakes every registered waiter whose wait is still open; returns how many were woken.
    pub(crate) fn notify_all(&self) -> usize {
        if !self.has_waiters() {
            return 0;
        }
        let drained: Vec<Entry> = {
            let mut entries = self.lock();
            self.len.store(0, Ordering::SeqCst);
            entries.drain(..).collect()
        };
        drained
            .into_iter()
            .filter(|e| e.waiter.select_and_unpark(Selected::Operation(e.op)))
            .count()
    }
}
