//! Synchronisation primitives and channels that work from coroutines and plain threads alike.
//!
//! Blocking parks the calling coroutine (its worker keeps running others) or, on a plain
//! thread, parks the thread. See docs/sync.md for which primitive to use for what.

mod barrier;
mod blocker;
mod condvar;
mod mutex;
mod rwlock;
mod semaphore;
mod wait_group;

pub use barrier::{Barrier, BarrierWaitResult};
pub use blocker::{Blocker, ParkError};
pub use condvar::{Condvar, WaitTimeoutResult};
pub use mutex::{Mutex, MutexGuard};
pub use rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
pub use semaphore::{Semaphore, SemaphorePermit};
#[doc(no_inline)]
pub use std::sync::{LockResult, PoisonError, TryLockError, TryLockResult};
pub use wait_group::WaitGroup;

pub mod mpmc;
pub mod mpsc;
pub mod oneshot;
