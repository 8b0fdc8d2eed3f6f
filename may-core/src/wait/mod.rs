//! The one blocking primitive every operation is built on.
//!
//! A blocking operation first tries to complete without waiting. If it cannot, it registers the
//! current *waiter* (the running coroutine, or the calling thread outside coroutines) on the wait
//! lists of the objects it waits for, then parks. Each waiter carries one atomic *selected* slot.
//! Whoever completes the wait (a peer operation, a timeout, a cancellation) must first win that
//! slot with a compare-and-swap, and only the winner unparks the waiter. That single rule gives
//! timeouts, cancellation and selection over several operations to every blocking call, from
//! coroutines and plain threads alike.
//!
//! # State of the selected slot
//! `WAITING` (0) is stored by the owner when it starts a wait (`reset`). Any party may move it
//! from `WAITING` to a final value once; only the owner moves it back to `WAITING`.

mod current;
mod list;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use crate::coroutine::CoInner;
use crate::loom::{AtomicPtr, AtomicUsize, Thread};

pub(crate) use current::CurrentWaiter;
pub(crate) use list::WaitList;

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

/// What a wait does when its coroutine is cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnCancel {
    /// The wait ends with `Selected::Cancelled` and the caller unwinds (every blocking call).
    Unwind,
    /// The wait goes on; the cancellation stays pending for the next blocking call. For waits
    /// that must not end early: waiting for children that borrow the waiter's stack.
    Defer,
}

/// The selected slot and hand-off packet of one coroutine or thread.
#[derive(Debug)]
pub(crate) struct Waiter {
    /// # Invariant
    /// Moves away from `WAITING` at most once per wait; see the module docs.
    state: AtomicUsize,
    /// A pointer a peer may hand over together with the selection (rendezvous channels).
    packet: AtomicPtr<()>,
}

impl Default for Waiter {
    fn default() -> Waiter {
        Waiter {
            state: AtomicUsize::new(WAITING),
            packet: AtomicPtr::new(std::ptr::null_mut()),
        }
    }
}

#[allow(dead_code)] // the packet methods serve rendezvous channels
impl Waiter {
    /// Starts a new wait: clears the slot and the packet. Only the owner calls this.
    ///
    /// A release store, not a fence: every peer that completes a wait reads the slot after
    /// taking the lock of a list the owner registered on after this reset, except
    /// `Coroutine::cancel`, which also unparks the owner, and `wait_until` re-checks the
    /// cancellation flag after every park.
    pub(crate) fn reset(&self) {
        self.packet.store(std::ptr::null_mut(), Ordering::Relaxed);
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

    /// Stores a packet for the owner to pick up after it has been selected.
    pub(crate) fn store_packet(&self, packet: *mut ()) {
        self.packet.store(packet, Ordering::Release);
    }

    /// The packet stored by the selecting peer, if any.
    pub(crate) fn packet(&self) -> *mut () {
        self.packet.load(Ordering::Acquire)
    }
}

/// The waiter of a plain (non-coroutine) thread.
#[derive(Debug)]
pub(crate) struct ThreadWaiter {
    waiter: Waiter,
    thread: Thread,
}

fn new_thread_waiter() -> ThreadWaiter {
    ThreadWaiter {
        waiter: Waiter::default(),
        thread: crate::loom::current_thread(),
    }
}

crate::loom::thread_local! {
    static THREAD_WAITER: Arc<ThreadWaiter> = Arc::new(new_thread_waiter());
}

/// The calling thread's waiter.
fn thread_waiter() -> Arc<ThreadWaiter> {
    THREAD_WAITER
        .try_with(Arc::clone)
        .unwrap_or_else(|_| exiting_thread_waiter())
}

/// The waiter of a thread whose `THREAD_WAITER` is already destroyed: a blocking call from
/// another thread-local's destructor while the thread exits. One per thread, leaked on purpose
/// (a few dozen bytes, only for threads that block that late): an operation needs the same
/// waiter identity on every call it makes, and no destructor runs after this point anyway.
#[cold]
fn exiting_thread_waiter() -> Arc<ThreadWaiter> {
    std::thread_local! {
        // No destructor: readable for as long as the thread runs code.
        static EXITING: std::cell::Cell<*const ThreadWaiter> =
            const { std::cell::Cell::new(std::ptr::null()) };
    }
    EXITING.with(|cell| {
        if cell.get().is_null() {
            cell.set(Arc::into_raw(Arc::new(new_thread_waiter())));
        }
        // SAFETY: the pointer came from `Arc::into_raw` above and that count is never released,
        // so the waiter is alive; bumping the count first makes the returned `Arc` an owned one.
        unsafe {
            Arc::increment_strong_count(cell.get());
            Arc::from_raw(cell.get())
        }
    })
}

/// A shared reference to a waiter that knows how to wake its owner.
#[derive(Debug, Clone)]
pub(crate) enum WaiterRef {
    /// A coroutine: unparking schedules it on its home worker.
    Coroutine(Arc<CoInner>),
    /// A plain thread: unparking is `Thread::unpark`.
    Thread(Arc<ThreadWaiter>),
}

impl WaiterRef {
    /// The waiter of the running coroutine, or of the calling thread outside coroutines.
    pub(crate) fn current() -> WaiterRef {
        match crate::coroutine::current_inner() {
            Some(co) => WaiterRef::Coroutine(co),
            None => WaiterRef::Thread(thread_waiter()),
        }
    }

    /// The selected slot.
    pub(crate) fn waiter(&self) -> &Waiter {
        match self {
            WaiterRef::Coroutine(co) => &co.waiter,
            WaiterRef::Thread(t) => &t.waiter,
        }
    }

    /// Whether two references name the same waiter.
    pub(crate) fn same(&self, other: &WaiterRef) -> bool {
        std::ptr::eq(self.waiter(), other.waiter())
    }

    /// Wakes the owner. Call only after winning the selected slot.
    pub(crate) fn unpark(&self) {
        match self {
            WaiterRef::Coroutine(co) => co.unpark(),
            WaiterRef::Thread(t) => t.thread.unpark(),
        }
    }

    /// Parks the owner until its slot is selected or `deadline` passes (then `TimedOut` is
    /// selected if nobody else won first). A coroutine with a pending cancellation selects
    /// `Cancelled` instead of parking. Only the owner calls this, after `reset`.
    // Inlined (as is `park_coroutine` into it, and the channel's `recv` around it): every
    // return after a stack switch is mispredicted, since the return-stack buffer holds the
    // worker's calls, so each frame between a blocking call and the switch costs a miss. On the
    // channel ping-pong this took a round trip from about 180 to about 165 ns.
    #[inline(always)]
    pub(crate) fn wait_until(&self, deadline: Option<Instant>) -> Selected {
        self.wait_until_with(deadline, OnCancel::Unwind)
    }

    /// [`wait_until`](Self::wait_until) with an explicit cancellation mode. With
    /// [`OnCancel::Defer`] a pending cancellation does not end the wait; a canceller that won
    /// the slot anyway makes it return `Cancelled`, which the caller treats as a spurious
    /// wake-up (it re-checks its condition and waits again).
    #[inline(always)]
    pub(crate) fn wait_until_with(
        &self,
        deadline: Option<Instant>,
        on_cancel: OnCancel,
    ) -> Selected {
        let waiter = self.waiter();
        loop {
            if let WaiterRef::Coroutine(co) = self {
                // On every turn: `Coroutine::cancel` sets the flag, tries the slot, then
                // unparks, so a request this load misses makes the next park return.
                if on_cancel == OnCancel::Unwind && co.cancel_pending() {
                    let _ = waiter.try_select(Selected::Cancelled);
                }
            }
            let sel = waiter.selected();
            if sel != Selected::Waiting {
                return sel;
            }
            if let Some(deadline) = deadline {
                if Instant::now() >= deadline {
                    if waiter.try_select(Selected::TimedOut).is_ok() {
                        return Selected::TimedOut;
                    }
                    continue;
                }
            }
            match self {
                WaiterRef::Coroutine(co) => crate::coroutine::park_coroutine(co, deadline),
                WaiterRef::Thread(_) => match deadline {
                    Some(deadline) => crate::loom::park_timeout(
                        deadline.saturating_duration_since(Instant::now()),
                    ),
                    None => crate::loom::park(),
                },
            }
        }
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::{Selected, Waiter};
    use loom::sync::atomic::{AtomicUsize, Ordering};
    use loom::sync::Arc;

    /// A notifier, a timeout and a canceller race for one wait: exactly one wins, the owner
    /// reads the winner's selection, and a packet stored before the winning CAS is visible to
    /// the owner once it sees the selection.
    #[test]
    fn exactly_one_party_completes_a_wait() {
        loom::model(|| {
            let waiter = Arc::new(Waiter::default());
            waiter.reset();
            let wins = Arc::new(AtomicUsize::new(0));
            let mut packet = 42usize;
            let packet_ptr = &mut packet as *mut usize as usize;
            let parties: Vec<_> = [
                Selected::Operation(7),
                Selected::TimedOut,
                Selected::Cancelled,
            ]
            .into_iter()
            .map(|sel| {
                let (waiter, wins) = (waiter.clone(), wins.clone());
                loom::thread::spawn(move || {
                    if sel == Selected::Operation(7) {
                        waiter.store_packet(packet_ptr as *mut ());
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
            if last == Selected::Operation(7) {
                assert_eq!(
                    waiter.packet() as usize,
                    packet_ptr,
                    "the packet travels with the win"
                );
            }
        });
    }
}
