//! The *selected* slot of a waiter: the one atomic the whole wait primitive turns on.
//!
//! A blocking operation registers its waiter (a task, or a plain thread) on the wait lists of
//! the objects it waits for, then parks. Whoever completes the wait (a peer operation, a
//! timeout, a cancellation) must first win the waiter's slot with a compare-and-swap, and only
//! the winner unparks it. That single rule gives timeouts, cancellation and selection over
//! several operations to every blocking call, from coroutines and plain threads alike.
//!
//! # States
//! `WAITING` (0) is stored by the owner when it starts a wait (`reset`). Any party may move it
//! from `WAITING` to a final value once; only the owner moves it back to `WAITING`.

use std::sync::atomic::Ordering;

use crate::loom::AtomicUsize;

const WAITING: usize = 0;
const TIMED_OUT: usize = 1;
const DISCONNECTED: usize = 2;
const CANCELLED: usize = 3;
const OPERATION_BASE: usize = 4;

/// The outcome of a wait, as stored in a waiter's selected slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Selected {
    /// Nobody has completed the wait yet.
    Waiting,
    /// The deadline passed first.
    TimedOut,
    /// The object waited on was closed.
    Disconnected,
    /// The waiting coroutine was cancelled.
    Cancelled,
    /// Operation number `n` (an index chosen by the registering code) completed it.
    Operation(usize),
}

impl Selected {
    fn encode(self) -> usize {
        match self {
            Selected::Waiting => WAITING,
            Selected::TimedOut => TIMED_OUT,
            Selected::Disconnected => DISCONNECTED,
            Selected::Cancelled => CANCELLED,
            Selected::Operation(n) => n + OPERATION_BASE,
        }
    }

    fn decode(raw: usize) -> Selected {
        match raw {
            WAITING => Selected::Waiting,
            TIMED_OUT => Selected::TimedOut,
            DISCONNECTED => Selected::Disconnected,
            CANCELLED => Selected::Cancelled,
            n => Selected::Operation(n - OPERATION_BASE),
        }
    }
}

/// The selected slot of one task or thread.
#[derive(Debug)]
pub(crate) struct Waiter {
    /// # Invariant
    /// Moves away from `WAITING` at most once per wait; see the module docs.
    state: AtomicUsize,
}

impl Default for Waiter {
    fn default() -> Waiter {
        Waiter {
            state: AtomicUsize::new(WAITING),
        }
    }
}

impl Waiter {
    /// Starts a new wait. Only the owner calls this.
    ///
    /// A release store, not a fence: every peer that completes a wait reads the slot after
    /// taking the lock of a list the owner registered on after this reset, except a canceller,
    /// which also unparks the owner, and the wait loop re-checks the cancellation flag after
    /// every park.
    pub(crate) fn reset(&self) {
        self.state.store(WAITING, Ordering::Release);
    }

    /// Tries to complete the current wait with `sel`; fails with the value already there.
    pub(crate) fn try_select(&self, sel: Selected) -> Result<(), Selected> {
        self.state
            .compare_exchange(WAITING, sel.encode(), Ordering::AcqRel, Ordering::Acquire)
            .map(|_| ())
            .map_err(Selected::decode)
    }

    /// The current value of the slot.
    pub(crate) fn selected(&self) -> Selected {
        Selected::decode(self.state.load(Ordering::Acquire))
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::{Selected, Waiter};
    use loom::sync::atomic::{AtomicUsize, Ordering};
    use loom::sync::Arc;

    /// A notifier, a timeout and a canceller race for one wait: exactly one wins, and the
    /// owner's reading never changes once it is not `Waiting`; a write the winner made before
    /// its winning CAS is visible to the owner once it sees the selection.
    #[test]
    fn exactly_one_party_completes_a_wait() {
        loom::model(|| {
            let waiter = Arc::new(Waiter::default());
            waiter.reset();
            let wins = Arc::new(AtomicUsize::new(0));
            let message = Arc::new(AtomicUsize::new(0));
            let parties: Vec<_> = [
                Selected::Operation(7),
                Selected::TimedOut,
                Selected::Cancelled,
            ]
            .into_iter()
            .map(|sel| {
                let (waiter, wins, message) = (waiter.clone(), wins.clone(), message.clone());
                loom::thread::spawn(move || {
                    if sel == Selected::Operation(7) {
                        message.store(42, Ordering::Relaxed);
                    }
                    if waiter.try_select(sel).is_ok() {
                        wins.fetch_add(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
            let seen = waiter.selected();
            for p in parties {
                p.join().unwrap();
            }
            assert_eq!(wins.load(Ordering::SeqCst), 1, "exactly one party wins");
            let last = waiter.selected();
            assert_ne!(last, Selected::Waiting);
            assert!(
                seen == Selected::Waiting || seen == last,
                "the result never changes"
            );
            if seen == Selected::Operation(7) {
                assert_eq!(
                    message.load(Ordering::Relaxed),
                    42,
                    "what the winner wrote travels with the win"
                );
            }
        });
    }
}
