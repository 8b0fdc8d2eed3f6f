//! `RwLock`: std's reader-writer lock API, parking coroutines instead of threads.
//!
//! The lock state (reader count, writer flag, waiting writers) lives under a small internal std
//! mutex that never runs user code; waiters register on one of two wait lists while holding it,
//! so a release that happens after they checked always sees them. Releases *grant* the lock
//! directly: the releaser updates the state for the waiter and selects its slot, so a woken
//! waiter already owns the lock. A waiter that is cancelled won its own slot first and was
//! skipped; after cleaning up it re-runs the grant so nobody stays blocked behind it.
//!
//! # Fairness (phase-fair)
//! New readers queue behind a waiting writer (writers cannot starve); when a writer unlocks, all
//! readers waiting at that moment go first, then the next writer (readers cannot starve).

use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult};

use super::mutex::Poison;
use crate::task::WaitReason;
use crate::wait::{self, OnCancel, Registered, Selected, WaitList};

const GRANT: usize = 0;

/// Which side of the lock a waiter asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Read,
    Write,
}

/// Whom a released lock goes to first (phase fairness: a writer's unlock lets the waiting
/// readers in before the next writer; otherwise a waiting writer keeps new readers out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Turn {
    ReadersFirst,
    WritersFirst,
}

#[derive(Debug, Default)]
struct State {
    readers: usize,
    writer: bool,
    /// Writers registered on `writers` that were not granted yet.
    writers_waiting: usize,
}

/// A reader-writer lock with the API of [`std::sync::RwLock`], usable from coroutines and plain
/// threads alike. Only a panic while a write guard is held poisons it, as in std.
///
/// ```
/// use may_core::sync::RwLock;
///
/// let lock = RwLock::new(5);
/// {
///     let r1 = lock.read().unwrap();
///     let r2 = lock.read().unwrap();
///     assert_eq!(*r1 + *r2, 10);
/// }
/// *lock.write().unwrap() += 1;
/// assert_eq!(lock.into_inner().unwrap(), 6);
/// ```
pub struct RwLock<T: ?Sized> {
    state: std::sync::Mutex<State>,
    readers: WaitList,
    writers: WaitList,
    poison: Poison,
    data: UnsafeCell<T>,
}

// SAFETY: like std's RwLock: the data moves with the lock when `T: Send`.
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}
// SAFETY: readers share `&T` across threads (needs `T: Sync`), a writer gets `&mut T` (needs
// `T: Send`); the state machine admits either many readers or one writer.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

/// Shared access to the data of an [`RwLock`]; releases the read lock on drop.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockReadGuard<'a, T: ?Sized + 'a> {
    lock: &'a RwLock<T>,
    _not_send: PhantomData<*const ()>,
}

/// Exclusive access to the data of an [`RwLock`]; releases the write lock on drop. Like std's
/// guards, neither guard is `Send`:
///
/// ```compile_fail
/// fn assert_send<T: Send>(_: &T) {}
/// let lock = may_core::sync::RwLock::new(0);
/// let guard = lock.write().unwrap();
/// assert_send(&guard);
/// ```
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockWriteGuard<'a, T: ?Sized + 'a> {
    lock: &'a RwLock<T>,
    panicking: bool,
    _not_send: PhantomData<*const ()>,
}

// SAFETY: sharing a guard only shares `&T`.
unsafe impl<T: ?Sized + Sync> Sync for RwLockReadGuard<'_, T> {}
// SAFETY: sharing a guard only shares `&T`.
unsafe impl<T: ?Sized + Sync> Sync for RwLockWriteGuard<'_, T> {}

impl<T> RwLock<T> {
    /// Creates an unlocked lock holding `value`.
    pub const fn new(value: T) -> RwLock<T> {
        RwLock {
            state: std::sync::Mutex::new(State {
                readers: 0,
                writer: false,
                writers_waiting: 0,
            }),
            readers: WaitList::new(),
            writers: WaitList::new(),
            poison: Poison::new(),
            data: UnsafeCell::new(value),
        }
    }

    /// Consumes the lock and returns the data (`Err` carrying it if poisoned).
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

impl<T: ?Sized> RwLock<T> {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // No user code runs under this lock, so a poisoned state is still consistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn read_guard(&self) -> RwLockReadGuard<'_, T> {
        RwLockReadGuard {
            lock: self,
            _not_send: PhantomData,
        }
    }

    fn write_guard(&self) -> RwLockWriteGuard<'_, T> {
        RwLockWriteGuard {
            lock: self,
            panicking: std::thread::panicking(),
            _not_send: PhantomData,
        }
    }

    /// Hands the lock to waiters if it is free for them.
    fn grant(&self, st: &mut State, turn: Turn) {
        if st.writer {
            return;
        }
        if turn == Turn::ReadersFirst || st.writers_waiting == 0 {
            st.readers += self.readers.notify_all();
        }
        if st.readers == 0 && st.writers_waiting > 0 && self.writers.notify_one() {
            st.writer = true;
            st.writers_waiting -= 1;
        }
    }

    /// Registers on the list of `access` (with `st`, the state, still locked), parks until
    /// granted; on cancellation cleans up and unwinds.
    fn park(&self, st: std::sync::MutexGuard<'_, State>, access: Access) {
        let list = match access {
            Access::Read => &self.readers,
            Access::Write => &self.writers,
        };
        let mut held = Some(st);
        let granted = wait::wait(
            match access {
                Access::Read => WaitReason::RwLockRead,
                Access::Write => WaitReason::RwLockWrite,
            },
            None,
            OnCancel::Unwind,
            |me| {
                let mut st = held.take().unwrap_or_else(|| self.state());
                list.register(me.registration(), GRANT);
                if access == Access::Write {
                    st.writers_waiting += 1;
                }
                Registered::Waiting
            },
            |me, sel| {
                if sel == Selected::Operation(GRANT) {
                    return Some(()); // the granter counted us in and removed our entry
                }
                // Cancelled: no one granted us the lock (the slot has one winner).
                let mut st = self.state();
                list.unregister(me);
                if access == Access::Write {
                    st.writers_waiting -= 1;
                    self.grant(&mut st, Turn::WritersFirst);
                }
                None
            },
        );
        if granted.is_err() {
            unreachable!("a wait without a deadline does not time out");
        }
    }

    /// Locks for shared reading, parking while a writer holds or waits for the lock.
    ///
    /// # Errors
    /// `Err(PoisonError)` carrying the guard if a writer panicked.
    pub fn read(&self) -> LockResult<RwLockReadGuard<'_, T>> {
        let mut st = self.state();
        if !st.writer && st.writers_waiting == 0 {
            st.readers += 1;
        } else {
            self.park(st, Access::Read);
        }
        self.poison.map(self.read_guard())
    }

    /// Locks for reading if that is possible right now.
    ///
    /// # Errors
    /// `WouldBlock` when a writer holds or waits for the lock; `Poisoned` as for `read`.
    pub fn try_read(&self) -> TryLockResult<RwLockReadGuard<'_, T>> {
        let mut st = self.state();
        if st.writer || st.writers_waiting > 0 {
            return Err(TryLockError::WouldBlock);
        }
        st.readers += 1;
        drop(st);
        Ok(self.poison.map(self.read_guard())?)
    }

    /// Locks for exclusive writing, parking until all readers and writers are gone.
    ///
    /// # Errors
    /// `Err(PoisonError)` carrying the guard if a writer panicked.
    pub fn write(&self) -> LockResult<RwLockWriteGuard<'_, T>> {
        let mut st = self.state();
        if !st.writer && st.readers == 0 && st.writers_waiting == 0 {
            st.writer = true;
        } else {
            self.park(st, Access::Write);
        }
        self.poison.map(self.write_guard())
    }

    /// Locks for writing if the lock is free right now.
    ///
    /// # Errors
    /// `WouldBlock` when it is held; `Poisoned` as for `write`.
    pub fn try_write(&self) -> TryLockResult<RwLockWriteGuard<'_, T>> {
        let mut st = self.state();
        if st.writer || st.readers > 0 {
            return Err(TryLockError::WouldBlock);
        }
        st.writer = true;
        drop(st);
        Ok(self.poison.map(self.write_guard())?)
    }

    /// Whether a writer panicked while holding the lock.
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

impl<T: Default> Default for RwLock<T> {
    fn default() -> RwLock<T> {
        RwLock::new(T::default())
    }
}

impl<T> From<T> for RwLock<T> {
    fn from(value: T) -> RwLock<T> {
        RwLock::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Ok(guard) => d.field("data", &&*guard),
            Err(TryLockError::Poisoned(err)) => d.field("data", &&**err.get_ref()),
            Err(TryLockError::WouldBlock) => d.field("data", &format_args!("<locked>")),
        };
        d.field("poisoned", &self.poison.get())
            .finish_non_exhaustive()
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: a read guard means the reader count includes us and no writer holds the lock.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: a write guard means we are the only holder.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this the only borrow through the guard.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        let mut st = self.lock.state();
        st.readers -= 1;
        self.lock.grant(&mut st, Turn::WritersFirst);
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.poison.done(self.panicking);
        let mut st = self.lock.state();
        st.writer = false;
        self.lock.grant(&mut st, Turn::ReadersFirst);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<RwLock<Vec<u8>>>();
}
