//! The shared state of one coroutine and its park token.
//!
//! # Who touches what
//! - `context`, `suspender`, `locals`, `self_ref` and `spare_ref` are only touched by the thread
//!   that currently
//!   owns the coroutine: the spawner until it is queued, then the worker that pops it; once
//!   started, only its home worker (a started coroutine never migrates).
//! - `park_token` is the token of `park`/`unpark`: exactly one party moves it from `PARKED` and
//!   that party schedules the coroutine, so a coroutine is never queued twice.
//! - `waiter` is the selected slot of the one wait primitive (see `crate::wait`).

use std::any::Any;
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use super::joiners::Joiners;
use super::park_token::ParkToken;
use crate::task::context::{Context, Suspender};
use crate::wait::Waiter;

/// Home worker value of a coroutine that has not started yet.
pub(crate) const NO_WORKER: usize = usize::MAX;
/// `stack_used` value when usage was not measured.
pub(crate) const NOT_MEASURED: usize = usize::MAX;

/// Coroutine-local values: `(key address, value)`. A handful per coroutine at most, so a vector.
pub(crate) type LocalMap = Vec<(usize, Box<dyn Any>)>;

/// Shared state of one coroutine.
pub(crate) struct CoInner {
    pub(crate) id: u64,
    pub(crate) name: Option<String>,
    /// Usable stack size in bytes.
    pub(crate) stack_size: usize,
    /// Whether the stack is fully tracked so that usage can be reported on completion.
    pub(crate) measure_stack: bool,
    pub(crate) waiter: Waiter,
    park_token: ParkToken,
    /// Index of the worker that started this coroutine; `NO_WORKER` before.
    pub(crate) home: AtomicUsize,
    cancel_requested: AtomicBool,
    /// Set by the coroutine itself when it starts unwinding because of a cancellation.
    unwinding: AtomicBool,
    pub(crate) done: AtomicBool,
    pub(crate) stack_used: AtomicUsize,
    /// # Invariant
    /// Accessed only by the owning thread (see the module docs).
    pub(crate) context: UnsafeCell<Option<Context>>,
    /// The coroutine's way back to its worker, set when its body starts.
    ///
    /// # Invariant
    /// Accessed only by the coroutine itself, on its home worker.
    pub(crate) suspender: UnsafeCell<Option<Suspender>>,
    /// The guard page below the stack, `[start, end)`, to recognise an overflow.
    pub(crate) guard: (usize, usize),
    /// # Invariant
    /// Accessed only by the coroutine itself, on its home worker.
    pub(crate) locals: UnsafeCell<LocalMap>,
    /// The coroutine's reference to itself while it is started and not finished: a parked
    /// coroutine stays alive (its stack is never dropped while suspended) even when nobody else
    /// holds it, without every park paying for a reference of its own. Set by the home worker
    /// after the first switch out, cleared when the coroutine finishes.
    ///
    /// A coroutine that is never woken again therefore stays allocated, as a blocked goroutine
    /// does; it was so before too (its parked frame held a reference).
    ///
    /// # Invariant
    /// Accessed only by the home worker, between resumes (like `context`).
    pub(crate) self_ref: UnsafeCell<Option<Arc<CoInner>>>,
    /// A spare reference for the coroutine's next wait-list registration: the worker keeps the
    /// reference a wake-up queued it with here instead of dropping it, and the next registration
    /// takes it instead of cloning, so a wait that ends in a wake-up costs no reference-count
    /// update at all (see `wait::CurrentWaiter::registration`).
    ///
    /// # Invariant
    /// Accessed only on the home worker: by the worker between resumes, by the coroutine itself
    /// while it runs.
    pub(crate) spare_ref: UnsafeCell<Option<Arc<CoInner>>>,
    /// Waiters of `join` (and of scopes).
    pub(crate) join_list: Joiners,
}

// SAFETY: the non-Sync fields (`context`, `suspender`, `locals`) are only accessed by one thread at a time, as
// described in the module docs; every other field is atomic or immutable after creation. A
// started coroutine's stack may hold `!Send` values, but it is only ever resumed on its home
// worker, so those values never leave that thread.
unsafe impl Sync for CoInner {}
// SAFETY: see above; moving the `Arc` between threads moves no access to `context` or `locals`
// (a context that has not started holds only its `Send` body).
unsafe impl Send for CoInner {}

impl CoInner {
    pub(crate) fn new(
        id: u64,
        name: Option<String>,
        stack_size: usize,
        measure_stack: bool,
        guard: (usize, usize),
    ) -> CoInner {
        CoInner {
            id,
            name,
            stack_size,
            measure_stack,
            waiter: Waiter::default(),
            park_token: ParkToken::new(),
            home: AtomicUsize::new(NO_WORKER),
            cancel_requested: AtomicBool::new(false),
            unwinding: AtomicBool::new(false),
            done: AtomicBool::new(false),
            stack_used: AtomicUsize::new(NOT_MEASURED),
            context: UnsafeCell::new(None),
            suspender: UnsafeCell::new(None),
            guard,
            locals: UnsafeCell::new(Vec::new()),
            self_ref: UnsafeCell::new(None),
            spare_ref: UnsafeCell::new(None),
            join_list: Joiners::default(),
        }
    }

    /// Makes the park token available; schedules the coroutine if it was parked.
    pub(crate) fn unpark(self: &Arc<Self>) {
        if self.park_token.unpark() {
            crate::scheduler::schedule(Arc::clone(self));
        }
    }

    /// Like [`unpark`](CoInner::unpark), for a caller that owns a reference it no longer needs:
    /// that reference goes to the ready queue instead of a new one (saves two reference-count
    /// updates per wake-up on the channel and lock hot paths).
    pub(crate) fn unpark_owned(self: Arc<Self>) {
        if self.park_token.unpark() {
            crate::scheduler::schedule(self);
        }
    }

    /// Consumes an available token without parking; true if there was one.
    pub(crate) fn take_token(&self) -> bool {
        self.park_token.take()
    }

    /// Announces that the coroutine is about to switch out until unparked. Fails (and consumes
    /// the token) when an unpark arrived in between.
    pub(crate) fn announce_park(&self) -> bool {
        self.park_token.announce_park()
    }

    /// Called after being resumed from a park: the waker left the token at `NOTIFIED`.
    pub(crate) fn consume_wake(&self) {
        self.park_token.consume_wake();
    }

    /// Requests cancellation; returns false if the coroutine is already unwinding or done.
    pub(crate) fn request_cancel(&self) -> bool {
        if self.done.load(Ordering::Acquire) || self.unwinding.load(Ordering::Acquire) {
            return false;
        }
        self.cancel_requested.store(true, Ordering::SeqCst);
        true
    }

    /// A cancellation was requested and the coroutine has not started unwinding for it yet.
    pub(crate) fn cancel_pending(&self) -> bool {
        self.cancel_requested.load(Ordering::SeqCst) && !self.unwinding.load(Ordering::Acquire)
    }

    pub(crate) fn set_unwinding(&self) {
        self.unwinding.store(true, Ordering::Release);
    }

    /// Whether the caller runs on this coroutine's own stack (not inside a generator or another
    /// stackful coroutine it drives). Called by the coroutine itself.
    #[inline]
    pub(crate) fn on_own_stack(&self) -> bool {
        // SAFETY: only the coroutine itself reads its suspender, and it is set before its body
        // runs.
        let suspender = unsafe { *self.suspender.get() };
        suspender.is_some_and(|s| s.contains_caller())
    }

    /// Panics (in the coroutine) when a blocking call is made off the coroutine's own stack:
    /// switching out from there would suspend the wrong stack. Blocking calls check this before
    /// they register anywhere.
    #[inline]
    pub(crate) fn assert_on_own_stack(&self) {
        if !self.on_own_stack() {
            foreign_stack(self);
        }
    }

    /// Switches back to the worker; returns when the worker resumes the coroutine. The caller
    /// arranged for someone to resume it (or queued it itself). Called by the coroutine itself.
    // Inlined: every return after a stack switch is mispredicted (the return-stack buffer holds
    // the other stack's calls), so each frame between the blocking call and the switch costs a
    // miss.
    #[inline(always)]
    pub(crate) fn switch_out(&self) {
        // SAFETY: as in `on_own_stack`.
        let suspender = unsafe { *self.suspender.get() };
        let Some(suspender) = suspender else {
            unreachable!("a running coroutine has its suspender");
        };
        // SAFETY: called by this coroutine while it runs (see above).
        if unsafe { suspender.suspend() }.is_err() {
            foreign_stack(self);
        }
    }

    /// Drops the coroutine-local values. Called by the coroutine itself as its last act.
    pub(crate) fn clear_locals(&self) {
        // Drop one at a time, with no borrow of the map held while a destructor runs, so a
        // destructor that touches another local still finds it (or re-creates it).
        loop {
            // SAFETY: called on the coroutine's own stack, on its home worker: the only
            // accessor; the borrow ends before the value is dropped.
            let entry = unsafe { (*self.locals.get()).pop() };
            match entry {
                Some(entry) => drop(entry),
                None => break,
            }
        }
    }
}

#[cold]
#[inline(never)]
fn foreign_stack(co: &CoInner) -> ! {
    panic!(
        "may: a blocking call (channel, lock, sleep, I/O, join, yield, ...) was made on a stack \
         that is not coroutine #{}'s own, inside a generator or stackful coroutine it drives; \
         may can only switch a coroutine out from its own stack: drive the generator from its \
         own may coroutine, or make the call outside it",
        co.id
    )
}

impl std::fmt::Debug for CoInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Coroutine")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("stack_size", &self.stack_size)
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use super::CoInner;
    use crate::sync::{mpmc, Mutex};

    /// Waits (bounded) until only the test's own reference to `co` is left: the worker drops its
    /// references right after waking the joiners, so the count settles a moment after `join`.
    fn settles_to_one(co: &Arc<CoInner>) -> usize {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Arc::strong_count(co) > 1 && Instant::now() < deadline {
            std::thread::yield_now();
        }
        Arc::strong_count(co)
    }

    /// A coroutine that blocked in every kind of wait (a rendezvous channel, a contended
    /// mutex, a timer, a join) keeps no reference to itself once finished: its own reference
    /// (`self_ref`), its spare (`spare_ref`) and every borrowed `CurrentWaiter` are balanced.
    #[test]
    fn a_finished_coroutine_keeps_no_reference_to_itself() {
        let (tx, rx) = mpmc::bounded::<u32>(0);
        let lock = Arc::new(Mutex::new(0u32));
        let held = lock.lock().unwrap();
        let lock2 = lock.clone();
        let h = crate::coroutine::spawn(move || {
            let mut sum = 0;
            for _ in 0..3 {
                sum += rx.recv().unwrap();
            }
            *lock2.lock().unwrap() += sum;
            crate::coroutine::sleep(Duration::from_millis(1));
            crate::coroutine::spawn(|| 7).join().unwrap() + sum
        });
        let co = Arc::clone(h.coroutine().inner());
        for i in 1..=3 {
            tx.send(i).unwrap();
        }
        drop(held);
        assert_eq!(h.join().unwrap(), 13);
        assert_eq!(*lock.lock().unwrap(), 6);
        assert_eq!(
            settles_to_one(&co),
            1,
            "a reference to the finished coroutine leaked"
        );
    }

    /// The same for a coroutine cancelled while blocked: the wait that unwinds it is completed
    /// by the canceller, which queues it with its own reference.
    #[test]
    fn a_cancelled_coroutine_keeps_no_reference_to_itself() {
        let (_tx, rx) = mpmc::bounded::<u32>(0);
        let (ready_tx, ready_rx) = mpmc::bounded::<()>(1);
        let h = crate::coroutine::spawn(move || {
            ready_tx.send(()).unwrap();
            rx.recv()
        });
        let co = Arc::clone(h.coroutine().inner());
        ready_rx.recv().unwrap();
        h.coroutine().cancel();
        assert!(h.join().unwrap_err().is_cancelled());
        assert_eq!(
            settles_to_one(&co),
            1,
            "a reference to the cancelled coroutine leaked"
        );
    }
}
