//! `WaitGroup`: Go's `sync.WaitGroup` (add / done / wait), for coroutines and threads mixed.
//!
//! The counter is one atomic. `wait` registers on the wait list and then re-reads the counter,
//! while the `add` that brings it to zero wakes everyone registered after its decrement: a
//! waiter either sees zero or is registered in time to be woken.

use std::fmt;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::loom::lazy::{AtomicIsize, AtomicUsize};
use crate::task::WaitReason;
use crate::wait::{self, OnCancel, Registered, Selected, WaitList};

const ZERO: usize = 0;

/// Waits for a collection of coroutines or threads to finish, like Go's `sync.WaitGroup`.
///
/// The shape is Go's rather than crossbeam's clone-and-drop one: the group is one shared value
/// (share it with `Arc` or by reference in a [`scope`](crate::coroutine::scope)); call
/// [`add`](WaitGroup::add) before starting work, [`done`](WaitGroup::done) when each piece
/// finishes, and [`wait`](WaitGroup::wait) to block until the counter is zero. A counter that
/// goes negative panics, as in Go. The group is reusable once the counter is back at zero.
///
/// ```
/// use std::sync::Arc;
/// use may_core::sync::WaitGroup;
///
/// let wg = Arc::new(WaitGroup::new());
/// for _ in 0..4 {
///     wg.add(1);
///     let wg = wg.clone();
///     may_core::coroutine::spawn(move || wg.done());
/// }
/// wg.wait();
/// assert_eq!(wg.count(), 0);
/// ```
pub struct WaitGroup {
    count: AtomicIsize,
    /// How many times the counter reached zero: a waiter woken by a stale notification (from a
    /// zero reached before its wait began, whose notifier found its new registration) sees
    /// that this did not move and waits on.
    zeros: AtomicUsize,
    waiters: WaitList,
}

impl WaitGroup {
    /// Creates a group with a counter of zero.
    pub const fn new() -> WaitGroup {
        WaitGroup {
            count: AtomicIsize::new(0),
            zeros: AtomicUsize::new(0),
            waiters: WaitList::new(),
        }
    }

    /// Adds `delta` (which may be negative) to the counter; wakes all waiters when it reaches
    /// zero.
    ///
    /// # Panics
    /// If the counter would become negative ("sync: negative WaitGroup counter", as in Go); the
    /// counter is left unchanged.
    pub fn add(&self, delta: isize) {
        let prev = self.count.fetch_add(delta, Ordering::SeqCst);
        let now = prev.checked_add(delta);
        match now {
            Some(0) => {
                self.zeros.fetch_add(1, Ordering::SeqCst);
                self.waiters.notify_all();
            }
            Some(n) if n > 0 => {}
            _ => {
                self.count.fetch_sub(delta, Ordering::SeqCst);
                panic!("sync: negative WaitGroup counter");
            }
        }
    }

    /// Decrements the counter by one (`add(-1)`).
    ///
    /// # Panics
    /// If the counter was already zero.
    pub fn done(&self) {
        self.add(-1);
    }

    /// The current value of the counter (a snapshot).
    pub fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst).max(0) as usize
    }

    /// Blocks until the counter is zero. A cancelled coroutine unwinds from here.
    pub fn wait(&self) {
        self.wait_deadline(None);
    }

    /// Blocks until the counter is zero or `timeout` has elapsed; true if it reached zero.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        self.wait_deadline(Instant::now().checked_add(timeout))
    }

    /// Blocks until the counter is zero or `deadline` has passed; true if it reached zero.
    pub fn wait_deadline(&self, deadline: Option<Instant>) -> bool {
        let zeros = self.zeros.load(Ordering::SeqCst);
        if self.count.load(Ordering::SeqCst) == 0 {
            return true;
        }
        let reached = wait::wait(
            WaitReason::WaitGroup,
            deadline,
            OnCancel::Unwind,
            |me| {
                self.waiters.register(me.registration(), ZERO);
                if self.count.load(Ordering::SeqCst) == 0
                    || self.zeros.load(Ordering::SeqCst) != zeros
                {
                    self.waiters.unregister(me);
                    return Registered::Done(());
                }
                Registered::Waiting
            },
            |me, sel| {
                // `notify_all` skips a waiter that already won its own slot (cancelled); the
                // other waiters are woken independently, so nothing needs passing on.
                self.waiters.unregister(me);
                // Woken at a zero reached since the wait began; the group may already be in
                // use again, as in Go.
                let zero_since = self.zeros.load(Ordering::SeqCst) != zeros;
                (matches!(sel, Selected::Operation(_)) && zero_since).then_some(())
            },
        );
        reached.is_ok()
            || self.count.load(Ordering::SeqCst) == 0
            || self.zeros.load(Ordering::SeqCst) != zeros
    }
}

impl Default for WaitGroup {
    fn default() -> WaitGroup {
        WaitGroup::new()
    }
}

impl fmt::Debug for WaitGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitGroup")
            .field("count", &self.count())
            .finish()
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<WaitGroup>();
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::WaitGroup;
    use loom::cell::UnsafeCell;
    use loom::sync::Arc;

    /// Two workers each write their own result and call `done`; the main thread `wait`s. It
    /// returns only once both are done (a lost wake-up leaves it parked: loom reports a
    /// deadlock), and both results are visible to it (loom checks the cells' happens-before).
    #[test]
    fn wait_returns_after_every_done() {
        loom::model(|| {
            let wg = Arc::new(WaitGroup::new());
            wg.count.init();
            wg.zeros.init();
            wg.waiters.loom_init();
            let results: Arc<[UnsafeCell<usize>; 2]> =
                Arc::new([UnsafeCell::new(0), UnsafeCell::new(0)]);
            wg.add(2);
            let workers: Vec<_> = (0..2)
                .map(|i| {
                    let (wg, results) = (wg.clone(), results.clone());
                    loom::thread::spawn(move || {
                        // SAFETY: worker `i` is the only writer of cell `i`, and the main thread
                        // reads it only after `wait`, which `done` happens-before.
                        results[i].with_mut(|r| unsafe { *r = i + 1 });
                        wg.done();
                    })
                })
                .collect();
            wg.wait();
            // SAFETY: both writers called `done` before `wait` returned.
            let sum: usize = results.iter().map(|r| r.with(|r| unsafe { *r })).sum();
            assert_eq!(sum, 1 + 2, "every worker's write is visible after wait");
            assert_eq!(wg.count(), 0);
            assert!(wg.waiters.is_empty(), "no waiter is left registered");
            for w in workers {
                w.join().unwrap();
            }
        });
    }

    /// Two threads wait while a third brings the counter to zero: `notify_all` wakes both (or
    /// they see zero themselves), and nothing is left registered.
    #[test]
    fn every_waiter_returns_at_zero() {
        loom::model(|| {
            let wg = Arc::new(WaitGroup::new());
            wg.count.init();
            wg.zeros.init();
            wg.waiters.loom_init();
            wg.add(1);
            let waiter = {
                let wg = wg.clone();
                loom::thread::spawn(move || wg.wait())
            };
            let worker = {
                let wg = wg.clone();
                loom::thread::spawn(move || wg.done())
            };
            wg.wait();
            waiter.join().unwrap();
            worker.join().unwrap();
            assert_eq!(wg.count(), 0);
            assert!(wg.waiters.is_empty(), "no waiter is left registered");
        });
    }
}
