//! The lock of channels and join lists: a test-and-test-and-set spin lock whose release is a
//! plain store.
//!
//! A channel operation holds it for a few dozen instructions (moving one message and one waiter
//! entry; no user code, no allocation in the steady state, no blocking), so a waiter would
//! rather spin than park: `std::sync::Mutex` costs a second atomic read-modify-write on unlock
//! (it must learn whether to wake a sleeper), two of the dozen atomic updates a ping-pong round
//! trip would otherwise need. Contended lockers back off exponentially and then yield their
//! thread, so a holder that was preempted gets the CPU back (crossbeam-channel protects its
//! waker lists the same way). A coroutine never parks while holding it, so it cannot wait on a
//! holder that runs on its own worker.

use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::Ordering;

use crate::loom::AtomicBool;

/// Doublings of the busy-wait before a contended locker yields its thread instead.
const SPIN_LIMIT: u32 = 6;

/// See the module docs.
pub(crate) struct SpinLock<T> {
    locked: AtomicBool,
    /// # Invariant
    /// Accessed only through a `SpinGuard`, which exists only while `locked` is held by it.
    value: UnsafeCell<T>,
}

// SAFETY: the lock hands out access to `value` to one thread at a time, which moves the `T`
// between threads: sound when `T: Send` (as for `std::sync::Mutex`).
unsafe impl<T: Send> Sync for SpinLock<T> {}
// SAFETY: owning the lock owns the `T`.
unsafe impl<T: Send> Send for SpinLock<T> {}

// A panic cannot leave the value half-updated for the next holder to see: no user code runs
// under the channel's lock (std's `Mutex` makes the same promise through poisoning).
impl<T> std::panic::RefUnwindSafe for SpinLock<T> {}
impl<T> std::panic::UnwindSafe for SpinLock<T> {}

impl<T: Default> Default for SpinLock<T> {
    fn default() -> SpinLock<T> {
        SpinLock::new(T::default())
    }
}

impl<T> std::fmt::Debug for SpinLock<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpinLock")
            .field("locked", &self.locked.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl<T> SpinLock<T> {
    pub(crate) fn new(value: T) -> SpinLock<T> {
        SpinLock {
            locked: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    #[inline]
    pub(crate) fn lock(&self) -> SpinGuard<'_, T> {
        if self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.lock_contended();
        }
        SpinGuard { lock: self }
    }

    #[cold]
    fn lock_contended(&self) {
        let mut step = 0;
        loop {
            while self.locked.load(Ordering::Relaxed) {
                if cfg!(loom) {
                    // loom explores a spinning thread only if it yields to the model.
                    #[cfg(loom)]
                    loom::thread::yield_now();
                } else if step < SPIN_LIMIT {
                    (0..1u32 << step).for_each(|_| std::hint::spin_loop());
                    step += 1;
                } else {
                    std::thread::yield_now();
                }
            }
            if self
                .locked
                .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return;
            }
        }
    }
}

/// Access to the locked value; releases the lock when dropped (also during unwinding).
pub(crate) struct SpinGuard<'a, T> {
    lock: &'a SpinLock<T>,
}

impl<T> Deref for SpinGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard holds the lock (see `SpinLock::value`).
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for SpinGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: this guard holds the lock, and `&mut self` makes this access unique.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for SpinGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.locked.store(false, Ordering::Release);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::SpinLock;
    use std::sync::Arc;

    /// Four threads increment through the lock with a non-atomic read-then-write: a lock that
    /// let two holders in would lose updates.
    #[test]
    fn no_lost_updates_under_contention() {
        let lock = Arc::new(SpinLock::new(0u64));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let lock = lock.clone();
                std::thread::spawn(move || {
                    for _ in 0..20_000 {
                        let mut g = lock.lock();
                        let v = *g;
                        std::hint::black_box(&v);
                        *g = v + 1;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("incrementing thread");
        }
        assert_eq!(*lock.lock(), 80_000);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::SpinLock;
    use loom::cell::UnsafeCell;
    use loom::sync::Arc;

    /// Two lockers (the model's main thread and one more) each add one to a loom cell under the
    /// lock: two holders at once, or a holder that does not see the previous one's write (a
    /// relaxed acquire or release), is reported by loom; the total is exact. A waiting locker
    /// yields to the model on every spin, which loom counts as a branch: hence the higher limit.
    #[test]
    fn spin_lock_excludes_and_publishes() {
        let mut model = loom::model::Builder::new();
        model.max_branches = 100_000;
        model.check(|| {
            let lock = Arc::new(SpinLock::new(UnsafeCell::new(0usize)));
            let add_one = |lock: &SpinLock<UnsafeCell<usize>>| {
                let guard = lock.lock();
                // SAFETY: the guard gives this thread sole access to the cell.
                guard.with_mut(|n| unsafe { *n += 1 });
            };
            let other = {
                let lock = lock.clone();
                loom::thread::spawn(move || add_one(&lock))
            };
            add_one(&lock);
            other.join().unwrap();
            // SAFETY: the other locker has been joined.
            let total = lock.lock().with(|n| unsafe { *n });
            assert_eq!(total, 2, "every increment is kept");
        });
    }
}
