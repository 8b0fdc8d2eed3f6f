//! `Blocker`: park and unpark one coroutine or thread, for library authors.
//!
//! A blocker belongs to the coroutine (or plain thread) that created it with
//! [`Blocker::current`]; clones go to whoever will wake it. It holds one *token*, like
//! `std::thread::park`: `unpark` makes the token available and wakes the owner if it is parked;
//! `park` consumes the token, parking until it is available. Unlike `coroutine::park`, the token
//! is private to this blocker, so unrelated unparks of the coroutine do not wake it, and the
//! result says whether the wake-up came from `unpark` or from the timeout.
//!
//! The owner parks through the wait primitive: it registers on the blocker's own wait list, so
//! an `unpark` can only ever select the owner while it is parked in *this* blocker, never while
//! it waits on something else.

use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::loom::lazy::AtomicBool;
use crate::task::WaitReason;
use crate::wait::{self, OnCancel, Registered, Selected, WaitList, WaiterRef};

const UNPARK: usize = 0;

/// Why [`Blocker::park`] returned without a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParkError {
    /// The timeout elapsed before `unpark` was called.
    Timeout,
}

impl fmt::Display for ParkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParkError::Timeout => f.write_str("timed out waiting for Blocker::unpark"),
        }
    }
}

impl std::error::Error for ParkError {}

struct Inner {
    owner: WaiterRef,
    /// # Invariant
    /// Set by `unpark`, cleared only by the owner in `park`.
    token: AtomicBool,
    list: WaitList,
}

/// A parking spot for the coroutine or thread that created it; clone it to hand out the means
/// to wake it. Works the same from coroutines (which park, leaving the worker free) and threads.
///
/// ```
/// use std::time::Duration;
/// use may_core::sync::{Blocker, ParkError};
///
/// let blocker = Blocker::current();
/// let waker = blocker.clone();
/// may_core::coroutine::spawn(move || waker.unpark());
/// assert_eq!(blocker.park(None), Ok(()));
/// assert_eq!(blocker.park(Some(Duration::from_millis(1))), Err(ParkError::Timeout));
/// ```
#[derive(Clone)]
pub struct Blocker {
    inner: Arc<Inner>,
}

impl Blocker {
    /// A new blocker owned by the running coroutine, or by the calling thread outside
    /// coroutines. Its token starts unavailable.
    pub fn current() -> Blocker {
        Blocker {
            inner: Arc::new(Inner {
                owner: WaiterRef::current(),
                token: AtomicBool::new(false),
                list: WaitList::new(),
            }),
        }
    }

    /// Consumes the token, parking until [`unpark`](Blocker::unpark) makes it available or
    /// `timeout` (if any) elapses. Returns at once if `unpark` was called since the last park.
    ///
    /// # Errors
    /// [`ParkError::Timeout`] when the timeout elapsed first.
    ///
    /// # Panics
    /// When called by a coroutine or thread other than the blocker's owner.
    ///
    /// A coroutine cancelled while parked unwinds from here.
    pub fn park(&self, timeout: Option<Duration>) -> Result<(), ParkError> {
        let inner = &*self.inner;
        if !WaiterRef::current().same(&inner.owner) {
            panic!("Blocker::park called by a coroutine or thread that does not own the Blocker");
        }
        if inner.token.swap(false, Ordering::Acquire) {
            return Ok(());
        }
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let parked = wait::wait(
            WaitReason::Blocker,
            deadline,
            OnCancel::Unwind,
            |me| {
                inner.list.register(me.registration(), UNPARK);
                if inner.token.swap(false, Ordering::AcqRel) {
                    inner.list.unregister(me);
                    return Registered::Done(());
                }
                Registered::Waiting
            },
            |me, sel| {
                inner.list.unregister(me);
                if sel == Selected::Cancelled {
                    // The token stays available for a later park; the wait unwinds.
                    return None;
                }
                // Only the token says an unpark is ours: a selection without it is stale, from
                // an unpark whose token an earlier park already took in its re-check (its
                // notifier found this later registration), so the wait goes round. Consume the
                // token even after a timeout: an unpark racing with the deadline counts.
                inner.token.swap(false, Ordering::AcqRel).then_some(())
            },
        );
        parked.map_err(|_| ParkError::Timeout)
    }

    /// Makes the token available and wakes the owner if it is parked in this blocker. Callable
    /// from any coroutine or thread, any number of times (tokens do not accumulate).
    pub fn unpark(&self) {
        if !self.inner.token.swap(true, Ordering::AcqRel) {
            self.inner.list.notify_one();
        }
    }

    /// Whether `self` and `other` are clones of the same blocker.
    pub fn same(&self, other: &Blocker) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl fmt::Debug for Blocker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Blocker")
            .field("unparked", &self.inner.token.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Blocker>();
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::Blocker;
    use loom::cell::UnsafeCell;
    use loom::sync::Arc;
    use std::sync::atomic::Ordering;

    /// The owner parks while another thread writes a value and unparks: `park` returns `Ok`
    /// whether the unpark came before, during or after it (a lost one leaves the owner parked:
    /// loom reports a deadlock), the value is visible after it, and the token is consumed.
    #[test]
    fn park_sees_the_unpark() {
        loom::model(|| {
            let blocker = Blocker::current();
            blocker.inner.token.init();
            blocker.inner.list.loom_init();
            let value = Arc::new(UnsafeCell::new(0usize));
            let waker = {
                let (blocker, value) = (blocker.clone(), value.clone());
                loom::thread::spawn(move || {
                    // SAFETY: the owner reads the cell only after `park` returned, which the
                    // `unpark` below happens-before.
                    value.with_mut(|v| unsafe { *v = 7 });
                    blocker.unpark();
                })
            };
            assert_eq!(blocker.park(None), Ok(()));
            // SAFETY: written before the unpark that `park` consumed.
            let seen = value.with(|v| unsafe { *v });
            assert_eq!(seen, 7, "the waker's write is visible");
            waker.join().unwrap();
            assert!(
                !blocker.inner.token.load(Ordering::SeqCst),
                "the token was consumed"
            );
            assert!(
                blocker.inner.list.is_empty(),
                "no waiter is left registered"
            );
        });
    }
}
