//! `Condvar`: std's condition variable for the may [`Mutex`], waiting by parking the coroutine.
//!
//! A waiter registers on the condvar's wait list *before* it unlocks the mutex, so a notify sent
//! by anyone who locks the mutex after that point finds it registered: no lost wake-up. A
//! notification selects the waiter's slot; a cancelled or timed-out waiter has already won its
//! own slot, so `notify_one` skips it and wakes the next one instead; a waiter that was notified
//! but is cancelled while re-locking the mutex passes the notification on before it unwinds.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{LockResult, PoisonError};
use std::time::{Duration, Instant};

use super::mutex::{Mutex, MutexGuard};
use crate::task::WaitReason;
use crate::wait::{self, OnCancel, Registered, Selected, WaitList};

const NOTIFY: usize = 0;

/// Whether a timed wait on a [`Condvar`] ended because its time ran out (std's
/// `WaitTimeoutResult`, which has no public constructor, mirrored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitTimeoutResult(bool);

impl WaitTimeoutResult {
    /// True when the wait returned because the timeout elapsed.
    pub fn timed_out(&self) -> bool {
        self.0
    }
}

/// A condition variable with the API of [`std::sync::Condvar`], for use with
/// [`may::sync::Mutex`](Mutex) from coroutines and threads alike.
///
/// Like std, spurious wake-ups are allowed, so wait in a loop or use
/// [`wait_while`](Condvar::wait_while). Using one condvar with two different mutexes panics.
///
/// ```
/// use std::sync::Arc;
/// use may_core::sync::{Condvar, Mutex};
///
/// let pair = Arc::new((Mutex::new(false), Condvar::new()));
/// let pair2 = pair.clone();
/// may_core::coroutine::spawn(move || {
///     *pair2.0.lock().unwrap() = true;
///     pair2.1.notify_one();
/// });
/// let started = pair.1.wait_while(pair.0.lock().unwrap(), |s| !*s).unwrap();
/// assert!(*started);
/// ```
pub struct Condvar {
    waiters: WaitList,
    /// Address of the `RawMutex` of the first mutex waited with; 0 before any wait. A std atomic
    /// even under loom: only a usage check, no part of the wake-up protocol.
    mutex: AtomicUsize,
}

impl Condvar {
    /// Creates a condition variable with no waiters.
    pub const fn new() -> Condvar {
        Condvar {
            waiters: WaitList::new(),
            mutex: AtomicUsize::new(0),
        }
    }

    fn verify<T: ?Sized>(&self, mutex: &Mutex<T>) {
        let addr = &mutex.raw as *const _ as usize;
        if let Err(prev) =
            self.mutex
                .compare_exchange(0, addr, Ordering::Relaxed, Ordering::Relaxed)
        {
            if prev != addr {
                panic!("attempted to use a condition variable with two mutexes");
            }
        }
    }

    /// Unlocks, parks until notified (or `deadline`), then locks again. Returns the guard and
    /// whether the deadline passed. A cancelled coroutine unwinds without re-locking.
    fn wait_inner<'a, T: ?Sized>(
        &self,
        guard: MutexGuard<'a, T>,
        deadline: Option<Instant>,
    ) -> (LockResult<MutexGuard<'a, T>>, bool) {
        let mutex = guard.lock;
        self.verify(mutex);
        let mut guard = guard;
        guard.hand_over();
        let mut held = Some(guard);
        let waited = wait::wait(
            WaitReason::Condvar,
            deadline,
            OnCancel::Unwind,
            |me| {
                self.waiters.register(me.registration(), NOTIFY);
                // Registered before unlocking: a notification sent right after cannot miss us.
                drop(held.take());
                Registered::Waiting
            },
            |me, sel| {
                self.waiters.unregister(me);
                // A notification can only have gone to us if we did not win our own slot with
                // `Cancelled`, so unwinding (from `wait`) loses none.
                matches!(sel, Selected::Operation(_)).then_some(())
            },
        );
        let notified = waited.is_ok();
        // If we were notified and are cancelled while re-locking, we unwind from `lock` holding
        // a notification meant for a waiter that will act on it: pass it on.
        let pass_on = PassOn {
            condvar: self,
            armed: notified,
        };
        let relocked = mutex.lock();
        std::mem::forget(pass_on);
        (relocked, !notified)
    }

    /// Unlocks the guard's mutex, parks until notified, and locks it again.
    ///
    /// # Errors
    /// `Err(PoisonError)` carrying the guard if the mutex was poisoned.
    ///
    /// # Panics
    /// If this condvar was used with a different mutex before.
    pub fn wait<'a, T: ?Sized>(&self, guard: MutexGuard<'a, T>) -> LockResult<MutexGuard<'a, T>> {
        self.wait_inner(guard, None).0
    }

    /// Waits until `condition` returns false (checked first, and after every wake-up).
    ///
    /// # Errors
    /// As [`wait`](Condvar::wait).
    pub fn wait_while<'a, T, F>(
        &self,
        mut guard: MutexGuard<'a, T>,
        mut condition: F,
    ) -> LockResult<MutexGuard<'a, T>>
    where
        F: FnMut(&mut T) -> bool,
    {
        while condition(&mut *guard) {
            guard = self.wait(guard)?;
        }
        Ok(guard)
    }

    /// Like [`wait`](Condvar::wait), but returns after `dur` at the latest.
    ///
    /// # Errors
    /// As [`wait`](Condvar::wait), carrying the guard and the timeout result.
    pub fn wait_timeout<'a, T: ?Sized>(
        &self,
        guard: MutexGuard<'a, T>,
        dur: Duration,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)> {
        let deadline = Instant::now().checked_add(dur);
        let (res, timed_out) = self.wait_inner(guard, deadline);
        match res {
            Ok(g) => Ok((g, WaitTimeoutResult(timed_out))),
            Err(e) => Err(PoisonError::new((
                e.into_inner(),
                WaitTimeoutResult(timed_out),
            ))),
        }
    }

    /// Waits until `condition` returns false or `dur` has elapsed in total. The result says
    /// whether time ran out with the condition still true.
    ///
    /// # Errors
    /// As [`wait_timeout`](Condvar::wait_timeout).
    pub fn wait_timeout_while<'a, T, F>(
        &self,
        mut guard: MutexGuard<'a, T>,
        dur: Duration,
        mut condition: F,
    ) -> LockResult<(MutexGuard<'a, T>, WaitTimeoutResult)>
    where
        F: FnMut(&mut T) -> bool,
    {
        let deadline = Instant::now().checked_add(dur);
        loop {
            if !condition(&mut *guard) {
                return Ok((guard, WaitTimeoutResult(false)));
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok((guard, WaitTimeoutResult(true)));
            }
            let (res, _) = self.wait_inner(guard, deadline);
            guard = match res {
                Ok(g) => g,
                Err(e) => {
                    let mut g = e.into_inner();
                    let timed_out = condition(&mut *g);
                    return Err(PoisonError::new((g, WaitTimeoutResult(timed_out))));
                }
            };
        }
    }

    /// Wakes one waiter, if any.
    pub fn notify_one(&self) {
        self.waiters.notify_one();
    }

    /// Wakes every current waiter.
    pub fn notify_all(&self) {
        self.waiters.notify_all();
    }
}

/// Re-sends a notification when dropped by an unwind (see `Condvar::wait_inner`).
struct PassOn<'a> {
    condvar: &'a Condvar,
    armed: bool,
}

impl Drop for PassOn<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.condvar.notify_one();
        }
    }
}

impl Default for Condvar {
    fn default() -> Condvar {
        Condvar::new()
    }
}

impl fmt::Debug for Condvar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condvar").finish_non_exhaustive()
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Condvar>();
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::{Condvar, Mutex};
    use loom::cell::UnsafeCell;
    use loom::sync::Arc;

    /// A waiter waits under the lock until a flag is set; a notifier sets it under the lock and
    /// notifies, with the lock held (`under_lock`) or after unlocking. The waiter always wakes
    /// (a lost notification leaves it parked: loom reports a deadlock), waits at most once and
    /// then sees the flag, and nothing is left registered or locked.
    fn waiter_sees_the_notification(under_lock: bool) {
        loom::model(move || {
            let pair = Arc::new((Mutex::new(UnsafeCell::new(false)), Condvar::new()));
            pair.0.raw.loom_init();
            pair.1.waiters.loom_init();
            let notifier = {
                let pair = pair.clone();
                loom::thread::spawn(move || {
                    let (m, cv) = &*pair;
                    let guard = m.lock().unwrap();
                    // SAFETY: the guard gives this thread sole access to the flag.
                    guard.with_mut(|f| unsafe { *f = true });
                    if under_lock {
                        cv.notify_one();
                        drop(guard);
                    } else {
                        drop(guard);
                        cv.notify_one();
                    }
                })
            };
            let (m, cv) = &*pair;
            let mut guard = m.lock().unwrap();
            let mut waits = 0;
            loop {
                // SAFETY: the guard gives this thread sole access to the flag.
                if guard.with(|f| unsafe { *f }) {
                    break;
                }
                // Only the one notification wakes the waiter, and it follows the flag.
                assert_eq!(waits, 0, "no second wait");
                guard = cv.wait(guard).unwrap();
                waits += 1;
            }
            drop(guard);
            notifier.join().unwrap();
            assert!(cv.waiters.is_empty(), "no waiter is left on the condvar");
            assert!(
                m.raw.is_idle(),
                "the mutex is unlocked, no waiter left registered"
            );
        });
    }

    #[test]
    fn notify_after_unlock_is_not_lost() {
        waiter_sees_the_notification(false);
    }

    #[test]
    fn notify_under_the_lock_is_not_lost() {
        waiter_sees_the_notification(true);
    }
}
