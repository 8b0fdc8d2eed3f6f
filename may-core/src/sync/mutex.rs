//! `Mutex`: std's `Mutex` API on a one-byte lock that parks coroutines instead of threads.
//!
//! # State bits (`RawMutex::state`)
//! - `LOCKED`: someone owns the lock.
//! - `CONTENDED`: a waiter may be registered; the owner must take the slow unlock path, which
//!   looks at the wait list. A waiter sets it (with a CAS on a locked state) only after it has
//!   registered, and the slow unlock releases the state while holding the wait-list lock, so a
//!   waiter either sees the lock free or is seen by the next unlock: no lost wake-up.
//!
//! Uncontended `lock` and `unlock` are one compare-and-swap each.
//!
//! # Fairness
//! Waiters are woken in FIFO order and then race with newcomers for the lock (barging keeps the
//! lock busy and is what makes a mutex fast). A waiter that was woken and lost that race
//! re-registers at the front of the list asking for *hand-off*: the next unlock passes ownership
//! to it directly without ever releasing the state, so no waiter loses more than one race.

use std::cell::{Cell, UnsafeCell};
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult};

use crate::loom::lazy::AtomicU8;
use crate::task::WaitReason;
use crate::wait::{self, OnCancel, Registered, Selected, WaitList};

const LOCKED: u8 = 1;
const CONTENDED: u8 = 2;

/// Wait-list operation: "the lock was released, come and try".
const WAKE: usize = 0;
/// Wait-list operation: "you own the lock now" (offered only to waiters that asked for it).
const HANDOFF: usize = 1;

/// How many times a locker re-reads the state before registering as a waiter (once under loom,
/// to keep the explored state space small).
const SPIN: u32 = if cfg!(loom) { 1 } else { 64 };

/// The lock without data or poisoning; shared by `Mutex` and the `Condvar` that waits on it.
#[derive(Debug)]
pub(crate) struct RawMutex {
    /// # Invariant
    /// See the module docs for the bits and who may set them.
    state: AtomicU8,
    waiters: WaitList,
}

impl RawMutex {
    pub(crate) const fn new() -> RawMutex {
        RawMutex {
            state: AtomicU8::new(0),
            waiters: WaitList::new(),
        }
    }

    #[inline]
    pub(crate) fn try_lock(&self) -> bool {
        self.state
            .compare_exchange(0, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    #[inline]
    pub(crate) fn lock(&self) {
        if !self.try_lock() {
            self.lock_slow();
        }
    }

    /// Releases the lock. Only the owner calls this; guards make sure of it.
    #[inline]
    pub(crate) fn unlock(&self) {
        if self
            .state
            .compare_exchange(LOCKED, 0, Ordering::Release, Ordering::Acquire)
            .is_err()
        {
            self.unlock_slow();
        }
    }

    #[cold]
    fn lock_slow(&self) {
        for _ in 0..SPIN {
            let s = self.state.load(Ordering::Relaxed);
            if s & LOCKED == 0
                && self
                    .state
                    .compare_exchange(s, s | LOCKED, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                return;
            }
            std::hint::spin_loop();
        }
        // A waiter that was woken and lost the race to a newcomer asks for a hand-off next.
        let lost_once = Cell::new(false);
        let locked = wait::wait(
            WaitReason::Mutex,
            None,
            OnCancel::Unwind,
            |me| {
                if lost_once.get() {
                    self.waiters.register_front(me.registration(), HANDOFF);
                } else {
                    self.waiters.register(me.registration(), WAKE);
                }
                if self.acquire_or_announce() {
                    self.waiters.unregister(me);
                    // If an unlock selected us meanwhile it was a WAKE (hand-off needs the lock
                    // held by the unlocker, and we just took it free). We hold CONTENDED, so our
                    // own unlock passes that wake-up on.
                    return Registered::Done(());
                }
                Registered::Waiting
            },
            |me, sel| {
                self.waiters.unregister(me);
                match sel {
                    Selected::Operation(HANDOFF) => Some(()),
                    // A cancellation unwinds from `wait`: the slot decided against every
                    // unlocker, so nothing was handed to us; they moved on to the next waiter.
                    Selected::Cancelled => None,
                    _ => {
                        lost_once.set(true);
                        None
                    }
                }
            },
        );
        if locked.is_err() {
            unreachable!("a wait without a deadline does not time out");
        }
    }

    /// After registering: takes the lock if it is free (keeping `CONTENDED`, since other waiters
    /// may be registered), or marks a locked state `CONTENDED` so its owner wakes us.
    fn acquire_or_announce(&self) -> bool {
        let mut s = self.state.load(Ordering::Acquire);
        loop {
            let (next, acquire) = if s & LOCKED == 0 {
                (LOCKED | CONTENDED, true)
            } else {
                (s | CONTENDED, false)
            };
            match self
                .state
                .compare_exchange(s, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return acquire,
                Err(actual) => s = actual,
            }
        }
    }

    #[cold]
    fn unlock_slow(&self) {
        let released = Cell::new(false);
        self.waiters.notify_one_by(
            |op| {
                if op == HANDOFF && !released.get() {
                    // Ownership passes without releasing the state; CONTENDED stays set.
                    Selected::Operation(HANDOFF)
                } else {
                    if !released.get() {
                        self.release();
                        released.set(true);
                    }
                    Selected::Operation(WAKE)
                }
            },
            || {
                if !released.get() {
                    self.release();
                }
            },
        );
    }

    /// Frees the state in the slow unlock (under the wait-list lock). A plain store; under loom
    /// a swap, the same release in C11 terms: loom lets a plain store slip between the read and
    /// the write of a concurrent compare-and-swap (tokio-rs/loom#254), here a waiter's
    /// `acquire_or_announce`, and would report a lost wake-up the memory model forbids.
    fn release(&self) {
        if cfg!(loom) {
            self.state.swap(0, Ordering::Release);
        } else {
            self.state.store(0, Ordering::Release);
        }
    }
}

/// Records whether a panic started while a lock was held (std's poisoning).
#[derive(Debug)]
pub(crate) struct Poison {
    /// A std atomic even under loom: it takes no part in the locking protocol, and loom would
    /// only multiply the interleavings it explores.
    failed: AtomicBool,
}

impl Poison {
    pub(crate) const fn new() -> Poison {
        Poison {
            failed: AtomicBool::new(false),
        }
    }

    pub(crate) fn get(&self) -> bool {
        self.failed.load(Ordering::Relaxed)
    }

    pub(crate) fn clear(&self) {
        self.failed.store(false, Ordering::Relaxed);
    }

    /// Called when a guard is dropped: poisons if a panic unwinds through it, unless
    /// `no_poison` (a panic was already unwinding when the guard was made, sampled then; or the
    /// guard was handed over, see `MutexGuard::hand_over`).
    pub(crate) fn done(&self, no_poison: bool) {
        if !no_poison && std::thread::panicking() {
            self.failed.store(true, Ordering::Relaxed);
        }
    }

    pub(crate) fn map<T>(&self, value: T) -> LockResult<T> {
        if self.get() {
            Err(PoisonError::new(value))
        } else {
            Ok(value)
        }
    }
}

/// A mutual exclusion lock with the API of [`std::sync::Mutex`], usable from coroutines and
/// plain threads alike. A coroutine that blocks in [`lock`](Mutex::lock) parks (its worker runs
/// other coroutines); a thread parks itself.
///
/// Poisoning follows std: if a panic unwinds through a guard, later `lock` calls return
/// `Err(PoisonError)` (which still gives the guard). A cancelled coroutine unwinds too, so a
/// guard it held across the blocking call where it was cancelled also poisons the mutex.
///
/// ```
/// use std::sync::Arc;
/// use may_core::sync::Mutex;
///
/// let m = Arc::new(Mutex::new(0));
/// let hs: Vec<_> = (0..10)
///     .map(|_| {
///         let m = m.clone();
///         may_core::coroutine::spawn(move || *m.lock().unwrap() += 1)
///     })
///     .collect();
/// hs.into_iter().for_each(|h| h.join().unwrap());
/// assert_eq!(*m.lock().unwrap(), 10);
/// ```
pub struct Mutex<T: ?Sized> {
    pub(crate) raw: RawMutex,
    poison: Poison,
    data: UnsafeCell<T>,
}

// SAFETY: the mutex hands out access to `data` to one owner at a time, so it can be shared and
// sent like std's when `T: Send`.
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}
// SAFETY: as above: `&Mutex<T>` only gives `&mut T` under the lock.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

/// Scoped access to the data of a locked [`Mutex`]; unlocks on drop. Like std's guard it is not
/// `Send`:
///
/// ```compile_fail
/// fn assert_send<T: Send>(_: &T) {}
/// let m = may_core::sync::Mutex::new(0);
/// let guard = m.lock().unwrap();
/// assert_send(&guard);
/// ```
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuard<'a, T: ?Sized + 'a> {
    pub(crate) lock: &'a Mutex<T>,
    /// Dropping the guard never poisons the mutex: a panic was already unwinding when it was
    /// made (std's rule), or it was handed to a condvar wait (see [`MutexGuard::hand_over`]).
    no_poison: bool,
    _not_send: PhantomData<*const ()>,
}

// SAFETY: sharing a guard only shares `&T`.
unsafe impl<T: ?Sized + Sync> Sync for MutexGuard<'_, T> {}

impl<T: ?Sized> MutexGuard<'_, T> {
    /// The guard was given to a condvar wait, which releases the lock: its owner left the data
    /// at a consistent point, so the release never poisons, even when a cancellation that was
    /// pending when the wait began unwinds through it before the wait can release it.
    pub(crate) fn hand_over(&mut self) {
        self.no_poison = true;
    }
}

impl<T> Mutex<T> {
    /// Creates an unlocked mutex holding `value`.
    pub const fn new(value: T) -> Mutex<T> {
        Mutex {
            raw: RawMutex::new(),
            poison: Poison::new(),
            data: UnsafeCell::new(value),
        }
    }

    /// Consumes the mutex and returns the data (`Err` carrying it if poisoned).
    pub fn into_inner(self) -> LockResult<T> {
        let poisoned = self.poison.get();
        let value = self.data.into_inner();
        if poisoned {
            Err(PoisonError::new(value))
        } else {
            Ok(value)
        }
    }
}

impl<T: ?Sized> Mutex<T> {
    fn guard(&self) -> MutexGuard<'_, T> {
        MutexGuard {
            lock: self,
            no_poison: std::thread::panicking(),
            _not_send: PhantomData,
        }
    }

    /// Acquires the lock, parking the coroutine (or thread) until it is available.
    ///
    /// # Errors
    /// `Err(PoisonError)` carrying the guard if a holder panicked.
    ///
    /// A coroutine cancelled while waiting unwinds from here without the lock.
    pub fn lock(&self) -> LockResult<MutexGuard<'_, T>> {
        self.raw.lock();
        self.poison.map(self.guard())
    }

    /// Acquires the lock if it is free right now.
    ///
    /// # Errors
    /// `TryLockError::WouldBlock` when it is held; `TryLockError::Poisoned` as for `lock`.
    pub fn try_lock(&self) -> TryLockResult<MutexGuard<'_, T>> {
        if self.raw.try_lock() {
            Ok(self.poison.map(self.guard())?)
        } else {
            Err(TryLockError::WouldBlock)
        }
    }

    /// Whether a holder panicked while holding the lock.
    pub fn is_poisoned(&self) -> bool {
        self.poison.get()
    }

    /// Clears the poisoned state.
    pub fn clear_poison(&self) {
        self.poison.clear();
    }

    /// Mutable access without locking: the borrow proves exclusivity.
    ///
    /// # Errors
    /// `Err(PoisonError)` carrying the reference if poisoned.
    pub fn get_mut(&mut self) -> LockResult<&mut T> {
        self.poison.map(self.data.get_mut())
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Mutex<T> {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Mutex<T> {
        Mutex::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Ok(guard) => d.field("data", &&*guard),
            Err(TryLockError::Poisoned(err)) => d.field("data", &&**err.get_ref()),
            Err(TryLockError::WouldBlock) => d.field("data", &format_args!("<locked>")),
        };
        d.field("poisoned", &self.poison.get())
            .finish_non_exhaustive()
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard proves we hold the lock, so no one else accesses the data.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this the only borrow through the guard.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.lock.poison.done(self.no_poison);
        self.lock.raw.unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn sync<T: Sync>() {}
    send_sync::<Mutex<Vec<u8>>>();
    send_sync::<Mutex<std::cell::Cell<u8>>>();
    sync::<MutexGuard<'_, Vec<u8>>>();
}

#[cfg(all(test, loom))]
impl RawMutex {
    /// Creates the loom objects behind the fields before the lock is shared (see
    /// `crate::loom::lazy`).
    pub(crate) fn loom_init(&self) {
        self.state.init();
        self.waiters.loom_init();
    }

    /// Unlocked, with no waiter registered: where every model must end.
    pub(crate) fn is_idle(&self) -> bool {
        self.state.load(Ordering::SeqCst) == 0 && self.waiters.is_empty()
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::{Mutex, LOCKED};
    use loom::cell::UnsafeCell;
    use loom::sync::Arc;
    use std::sync::atomic::Ordering;

    /// `lockers` threads (the model's main thread included) each add one to a counter under the
    /// lock. The counter is a loom cell, so two owners at once, or an owner that does not see
    /// the previous owner's write, is reported by loom; a lost wake-up leaves a locker parked
    /// (loom reports a deadlock). An owner always sees `LOCKED` set (a hand-off that freed the
    /// state would let a newcomer in). At the end the total is exact, the state is back to 0
    /// and no waiter is registered.
    fn lockers_exclude_each_other(lockers: usize) {
        loom::model(move || {
            let m = Arc::new(Mutex::new(UnsafeCell::new(0usize)));
            m.raw.loom_init();
            let add_one = |m: &Mutex<UnsafeCell<usize>>| {
                let guard = m.lock().unwrap();
                let state = m.raw.state.load(Ordering::Relaxed);
                assert_ne!(state & LOCKED, 0, "an owner always sees the lock taken");
                // SAFETY: the guard gives this thread sole access to the cell.
                guard.with_mut(|n| unsafe { *n += 1 });
            };
            let threads: Vec<_> = (1..lockers)
                .map(|_| {
                    let m = m.clone();
                    loom::thread::spawn(move || add_one(&m))
                })
                .collect();
            add_one(&m);
            for t in threads {
                t.join().unwrap();
            }
            // SAFETY: every other locker has been joined.
            let total = m.lock().unwrap().with(|n| unsafe { *n });
            assert_eq!(total, lockers, "every increment is kept");
            assert!(m.raw.is_idle(), "unlocked, no waiter left registered");
        });
    }

    /// Two lockers: the fast paths, and one locker parking behind the other (`CONTENDED`, slow
    /// unlock with a WAKE).
    #[test]
    fn two_lockers_exclude_each_other() {
        lockers_exclude_each_other(2);
    }

    /// Three lockers: adds a woken waiter losing the race to a newcomer, re-registering at the
    /// front and being handed the lock by the next unlock (HANDOFF).
    #[test]
    fn three_lockers_exclude_each_other() {
        lockers_exclude_each_other(3);
    }

    /// Four lockers: two waiters registered at once, a hand-off waiter queued in front of a
    /// plain one (about 9,000 executions, under a second in release mode).
    #[test]
    fn four_lockers_exclude_each_other() {
        lockers_exclude_each_other(4);
    }
}
