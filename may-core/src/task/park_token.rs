//! The park token of a coroutine: the state machine behind `park`/`unpark`.
//!
//! `EMPTY -> PARKED` is done by the coroutine right before it switches out; whoever then swaps
//! in `NOTIFIED` and sees `PARKED` must schedule it. An unpark that comes first leaves
//! `NOTIFIED`, which the next park consumes without switching out. So every park is followed by
//! exactly one schedule, and an unpark is never lost. Checked with loom below.

use std::sync::atomic::Ordering;

use crate::loom::AtomicU8;

const EMPTY: u8 = 0;
const PARKED: u8 = 1;
const NOTIFIED: u8 = 2;

/// See the module docs.
#[derive(Debug)]
pub(crate) struct ParkToken {
    state: AtomicU8,
}

impl ParkToken {
    pub(crate) fn new() -> ParkToken {
        ParkToken {
            state: AtomicU8::new(EMPTY),
        }
    }

    /// Makes the token available; returns true when the owner was parked and must be scheduled
    /// by the caller (exactly one caller gets true per park).
    pub(crate) fn unpark(&self) -> bool {
        self.state.swap(NOTIFIED, Ordering::AcqRel) == PARKED
    }

    /// Consumes an available token without parking; true if there was one.
    pub(crate) fn take(&self) -> bool {
        self.state
            .compare_exchange(NOTIFIED, EMPTY, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Announces that the owner is about to switch out until unparked. Fails (and consumes the
    /// token) when an unpark arrived in between.
    pub(crate) fn announce_park(&self) -> bool {
        match self
            .state
            .compare_exchange(EMPTY, PARKED, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => true,
            Err(_) => {
                // A swap, not a store (see `consume_wake`).
                self.state.swap(EMPTY, Ordering::AcqRel);
                false
            }
        }
    }

    /// Called by the owner after being resumed from a park: the waker left `NOTIFIED`.
    ///
    /// A swap, not a store: the owner next re-checks its wait (a load of another location) and
    /// parks again if nothing completed it. A plain store may still sit in the store buffer
    /// while that load runs, and a waker that completes the wait and then swaps `NOTIFIED` in
    /// meanwhile reads the old `NOTIFIED`, schedules nobody, and is then overwritten by the
    /// store: the owner parks with its wait completed, for ever (store buffering, allowed for
    /// release/acquire; found by a select stress test that hung, then by the loom models
    /// below). As a read-modify-write, either it comes after the waker's swap in the token's
    /// order and acquires what the waker did before (the owner's re-check sees the completion),
    /// or before it, and the waker's swap reads `EMPTY`, so the owner's next park fails.
    pub(crate) fn consume_wake(&self) {
        self.state.swap(EMPTY, Ordering::AcqRel);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::ParkToken;
    use loom::sync::atomic::{AtomicUsize, Ordering};
    use loom::sync::Arc;

    /// One park racing one or two unparks: the owner is scheduled at most once, and if it
    /// parked it is scheduled exactly once (no lost wake-up, no double queueing).
    #[test]
    fn park_is_woken_exactly_once() {
        loom::model(|| {
            let token = Arc::new(ParkToken::new());
            let schedules = Arc::new(AtomicUsize::new(0));
            let wakers: Vec<_> = (0..2)
                .map(|_| {
                    let (token, schedules) = (token.clone(), schedules.clone());
                    loom::thread::spawn(move || {
                        if token.unpark() {
                            schedules.fetch_add(1, Ordering::SeqCst);
                        }
                    })
                })
                .collect();
            // The owner's side of `park_until`.
            let parked = !token.take() && token.announce_park();
            for w in wakers {
                w.join().unwrap();
            }
            let scheduled = schedules.load(Ordering::SeqCst);
            if parked {
                assert_eq!(scheduled, 1, "a parked owner is scheduled exactly once");
                token.consume_wake();
            } else {
                assert_eq!(
                    scheduled, 0,
                    "an owner that did not park is never scheduled"
                );
            }
        });
    }

    /// A stale wake-up left the token `NOTIFIED` (`make_stale`); the owner consumes it
    /// (`consume`) and re-checks its wait before parking again, while a second waker completes
    /// the wait and unparks: either the owner sees the completion or the waker schedules it.
    /// (With a plain store for the consumption, the owner's re-check could be answered before
    /// the store was visible: store buffering, a wait completed with the owner parked for ever;
    /// seen as a hang of a select stress test.)
    fn second_wake_is_not_lost(make_stale: fn(&ParkToken), consume: fn(&ParkToken)) {
        loom::model(move || {
            let token = Arc::new(ParkToken::new());
            let completed = Arc::new(AtomicUsize::new(0));
            make_stale(&token);
            let waker = {
                let (token, completed) = (token.clone(), completed.clone());
                loom::thread::spawn(move || {
                    completed.store(1, Ordering::Release);
                    token.unpark()
                })
            };
            consume(&token);
            let parked = completed.load(Ordering::Acquire) == 0 && token.announce_park();
            let scheduled = waker.join().unwrap();
            assert!(
                !parked || scheduled,
                "the owner parked and nobody will schedule it"
            );
        });
    }

    /// The owner was parked and a first unpark resumed it; it consumes the wake-up.
    #[test]
    fn a_wake_after_a_consumed_one_is_not_lost() {
        second_wake_is_not_lost(
            |token| {
                assert!(token.announce_park());
                assert!(token.unpark());
            },
            ParkToken::consume_wake,
        );
    }

    /// A stale unpark arrived while the owner ran; a park fails because of it, consuming it.
    #[test]
    fn a_wake_after_a_failed_park_is_not_lost() {
        second_wake_is_not_lost(
            |token| assert!(!token.unpark()),
            |token| assert!(!token.announce_park(), "the stale token is consumed"),
        );
    }
}
