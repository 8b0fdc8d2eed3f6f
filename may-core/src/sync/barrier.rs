//! `Barrier`: std's barrier, for coroutines and threads mixed.
//!
//! The arrival count and the generation number live under a small internal std mutex. Waiters
//! register on the wait list while holding it; the last arrival (the leader) starts the next
//! generation and wakes everyone. A woken waiter checks that its generation really ended, so a
//! wake-up meant for nobody in particular is harmless.
//!
//! Cancellation (may only): a coroutine cancelled while waiting withdraws its arrival, so the
//! generation still needs `n` live participants; if the generation had already completed, it
//! just unwinds.

use std::cell::Cell;
use std::fmt;

use crate::task::WaitReason;
use crate::wait::{self, OnCancel, Registered, Selected, WaitList};

const RELEASE: usize = 0;

#[derive(Debug)]
struct State {
    arrived: usize,
    generation: u64,
}

/// A barrier with the API of [`std::sync::Barrier`]: `n` participants (coroutines or threads)
/// block in [`wait`](Barrier::wait) until all have arrived, then all continue; exactly one of
/// them per generation is told it is the leader. The barrier is reusable.
///
/// ```
/// use std::sync::Arc;
/// use may_core::sync::Barrier;
///
/// let barrier = Arc::new(Barrier::new(3));
/// let hs: Vec<_> = (0..3)
///     .map(|_| {
///         let b = barrier.clone();
///         may_core::coroutine::spawn(move || b.wait().is_leader())
///     })
///     .collect();
/// let leaders = hs.into_iter().map(|h| h.join().unwrap());
/// assert_eq!(leaders.filter(|l| *l).count(), 1);
/// ```
pub struct Barrier {
    state: std::sync::Mutex<State>,
    waiters: WaitList,
    n: usize,
}

/// Returned by [`Barrier::wait`]: whether this participant is the generation's leader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarrierWaitResult(bool);

impl BarrierWaitResult {
    /// True for exactly one participant per generation (the last to arrive).
    pub fn is_leader(&self) -> bool {
        self.0
    }
}

impl Barrier {
    /// Creates a barrier for `n` participants (`0` behaves like `1`, as in std).
    pub const fn new(n: usize) -> Barrier {
        Barrier {
            state: std::sync::Mutex::new(State {
                arrived: 0,
                generation: 0,
            }),
            waiters: WaitList::new(),
            n,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // No user code runs under this lock, so a poisoned state is still consistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Blocks until all `n` participants have called `wait` in this generation.
    ///
    /// A coroutine cancelled while waiting withdraws its arrival and unwinds.
    pub fn wait(&self) -> BarrierWaitResult {
        // The generation we arrived in, once we have arrived: the arrival is made inside the
        // first registration, so that a coroutine unwinding for a cancellation before it has
        // registered never counts as arrived.
        let arrived_in = Cell::new(None);
        let waited = wait::wait(
            WaitReason::Barrier,
            None,
            OnCancel::Unwind,
            |me| {
                let mut st = self.state();
                let generation = match arrived_in.get() {
                    Some(generation) => generation,
                    None => {
                        st.arrived += 1;
                        if st.arrived >= self.n {
                            st.arrived = 0;
                            st.generation = st.generation.wrapping_add(1);
                            drop(st);
                            self.waiters.notify_all();
                            return Registered::Done(true);
                        }
                        arrived_in.set(Some(st.generation));
                        st.generation
                    }
                };
                if st.generation != generation {
                    return Registered::Done(false);
                }
                // Registered under the state lock: the leader's release cannot miss us.
                self.waiters.register(me.registration(), RELEASE);
                Registered::Waiting
            },
            |me, sel| {
                let mut st = self.state();
                self.waiters.unregister(me);
                let passed = Some(st.generation) != arrived_in.get();
                if sel == Selected::Cancelled && !passed {
                    // Withdraw our arrival; the wait unwinds.
                    st.arrived -= 1;
                    return None;
                }
                passed.then_some(false)
            },
        );
        match waited {
            Ok(leader) => BarrierWaitResult(leader),
            Err(_) => unreachable!("a wait without a deadline does not time out"),
        }
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier")
            .field("n", &self.n)
            .finish_non_exhaustive()
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Barrier>();
}
