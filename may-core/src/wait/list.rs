//! A FIFO list of waiters registered on one object (a channel side, a lock, a join handle).

use std::collections::VecDeque;
use std::sync::atomic::Ordering;

use crate::loom::fence;
use crate::loom::lazy::{AtomicUsize, Mutex, MutexGuard};

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
                .select_and_unpark_owned(Selected::Operation(entry.op))
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
            let sel = choose(entry.op);
            if entry.waiter.select_and_unpark_owned(sel) {
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
            .map(|e| e.waiter.select_and_unpark_owned(Selected::Operation(e.op)))
            .filter(|&woken| woken)
            .count()
    }
}

#[cfg(all(test, loom))]
impl WaitList {
    /// Creates the loom objects behind the fields before the list is shared (see
    /// `crate::loom::lazy`).
    pub(crate) fn loom_init(&self) {
        self.entries.init();
        self.len.init();
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::WaitList;
    use crate::wait::{Selected, WaiterRef};
    use loom::sync::atomic::{AtomicBool, Ordering};
    use loom::sync::Arc;
    use std::sync::atomic::{AtomicUsize as StdAtomicUsize, Ordering as StdOrdering};

    /// A waiter registers and then re-checks a flag; a notifier sets the flag and then notifies.
    /// The flag itself is relaxed, so only the fence pairing (`register` vs `has_waiters`)
    /// orders the two sides: either the waiter sees the flag, or the notifier sees the
    /// registration and wakes it. A lost wake-up leaves the waiter parked, which loom reports
    /// as a deadlock.
    fn no_lost_wake_up(notify: fn(&WaitList)) {
        // Outcomes seen over all explored executions: [saw the flag, parked and was woken].
        let outcomes = std::sync::Arc::new([StdAtomicUsize::new(0), StdAtomicUsize::new(0)]);
        let seen = outcomes.clone();
        loom::model(move || {
            let list = Arc::new(WaitList::new());
            list.loom_init();
            let flag = Arc::new(AtomicBool::new(false));
            let waiter = {
                let (list, flag) = (list.clone(), flag.clone());
                loom::thread::spawn(move || {
                    let me = WaiterRef::current();
                    me.waiter().reset();
                    list.register(me.clone(), 3);
                    if flag.load(Ordering::Relaxed) {
                        list.unregister(&me);
                        return false;
                    }
                    let sel = me.wait_until_with(None, crate::wait::OnCancel::Unwind);
                    list.unregister(&me);
                    assert_eq!(sel, Selected::Operation(3), "woken with its own op");
                    true
                })
            };
            flag.store(true, Ordering::Relaxed);
            notify(&list);
            let parked = waiter.join().unwrap();
            assert!(list.is_empty(), "no registration is left behind");
            seen[usize::from(parked)].fetch_add(1, StdOrdering::Relaxed);
        });
        // Both paths must have been explored, or the model would prove nothing.
        assert!(outcomes.iter().all(|n| n.load(StdOrdering::Relaxed) > 0));
    }

    #[test]
    fn notify_one_never_loses_a_registered_waiter() {
        no_lost_wake_up(|list| {
            list.notify_one();
        });
    }

    #[test]
    fn notify_all_never_loses_a_registered_waiter() {
        no_lost_wake_up(|list| {
            list.notify_all();
        });
    }
}
