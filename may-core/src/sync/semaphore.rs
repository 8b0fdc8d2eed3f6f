//! `Semaphore`: a counting semaphore whose permits are handed to waiters in FIFO order.
//!
//! The permit count lives under a small internal std mutex that never runs user code. A waiter
//! registers while holding it; a release grants permits to registered waiters directly (it
//! decrements the count for them and selects their slot), so a woken waiter already holds its
//! permit and newcomers cannot barge past waiters. A waiter that times out or is cancelled won
//! its own slot first, so no permit was granted to it.

use std::fmt;
use std::time::{Duration, Instant};

use crate::task::WaitReason;
use crate::wait::{self, OnCancel, Registered, Selected, WaitList};

const GRANT: usize = 0;

/// A counting semaphore for coroutines and threads: `acquire` takes a permit (parking while none
/// is available) and returns a guard that gives it back on drop.
///
/// ```
/// use may_core::sync::Semaphore;
///
/// let sem = Semaphore::new(2);
/// let a = sem.acquire();
/// let b = sem.try_acquire().expect("a second permit");
/// assert!(sem.try_acquire().is_none());
/// drop((a, b));
/// assert_eq!(sem.available_permits(), 2);
/// ```
pub struct Semaphore {
    permits: std::sync::Mutex<usize>,
    waiters: WaitList,
}

/// A permit of a [`Semaphore`]; returns it on drop (or never, after [`forget`](Self::forget)).
#[must_use = "the permit is released as soon as the guard is dropped"]
pub struct SemaphorePermit<'a> {
    sem: &'a Semaphore,
}

impl Semaphore {
    /// Creates a semaphore with `permits` permits available.
    pub const fn new(permits: usize) -> Semaphore {
        Semaphore {
            permits: std::sync::Mutex::new(permits),
            waiters: WaitList::new(),
        }
    }

    fn count(&self) -> std::sync::MutexGuard<'_, usize> {
        // No user code runs under this lock, so a poisoned count is still consistent.
        self.permits.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes a permit, parking the coroutine (or thread) until one is available.
    ///
    /// A coroutine cancelled while waiting unwinds from here without a permit.
    pub fn acquire(&self) -> SemaphorePermit<'_> {
        match self.acquire_deadline(None) {
            Some(permit) => permit,
            // Without a deadline the wait ends only by a grant or by cancellation (which unwinds).
            None => unreachable!("an acquire without deadline returned without a permit"),
        }
    }

    /// Takes a permit if one is available right now.
    pub fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
        let mut n = self.count();
        if *n > 0 {
            *n -= 1;
            Some(SemaphorePermit { sem: self })
        } else {
            None
        }
    }

    /// Takes a permit, waiting at most `timeout`; `None` if none became available in time.
    pub fn acquire_timeout(&self, timeout: Duration) -> Option<SemaphorePermit<'_>> {
        self.acquire_deadline(Instant::now().checked_add(timeout))
    }

    /// Takes a permit, waiting until `deadline` at the latest.
    pub fn acquire_deadline(&self, deadline: Option<Instant>) -> Option<SemaphorePermit<'_>> {
        let mut n = self.count();
        if *n > 0 {
            *n -= 1;
            return Some(SemaphorePermit { sem: self });
        }
        let mut held = Some(n);
        let granted = wait::wait(
            WaitReason::Semaphore,
            deadline,
            OnCancel::Unwind,
            |me| {
                let mut n = held.take().unwrap_or_else(|| self.count());
                if *n > 0 {
                    *n -= 1;
                    return Registered::Done(());
                }
                // Registered under the count's lock: a release after it sees us.
                self.waiters.register(me.registration(), GRANT);
                Registered::Waiting
            },
            |me, sel| {
                if sel == Selected::Operation(GRANT) {
                    return Some(()); // the releaser took a permit for us and our entry
                }
                // Timed out or cancelled: nobody granted us a permit (the slot has one winner).
                let _n = self.count();
                self.waiters.unregister(me);
                None
            },
        );
        granted.ok().map(|()| SemaphorePermit { sem: self })
    }

    /// Adds `n` permits, waking waiters that can now proceed.
    ///
    /// # Panics
    /// If the number of available permits would overflow `usize`.
    pub fn add_permits(&self, n: usize) {
        let mut count = self.count();
        *count = match count.checked_add(n) {
            Some(total) => total,
            None => {
                drop(count);
                panic!("Semaphore::add_permits: the number of permits overflows usize");
            }
        };
        while *count > 0 && self.waiters.notify_one() {
            *count -= 1;
        }
    }

    /// The number of permits available right now (a snapshot).
    pub fn available_permits(&self) -> usize {
        *self.count()
    }
}

impl SemaphorePermit<'_> {
    /// Keeps the permit taken for good: the semaphore ends up with one permit fewer.
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.sem.add_permits(1);
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("available_permits", &self.available_permits())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit").finish_non_exhaustive()
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Semaphore>();
    send_sync::<SemaphorePermit<'static>>();
}
