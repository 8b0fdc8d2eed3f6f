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
                self.state.store(EMPTY, Ordering::Release);
                false
            }
        }
    }

    /// Called by the owner after being resumed from a park: the waker left `NOTIFIED`.
    pub(crate) fn consume_wake(&self) {
        self.state.store(EMPTY, Ordering::Release);
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
}
