//! The runtime's own synchronisation building blocks, swapped for loom's when the crate is built
//! with `--cfg loom` so that `loom` can explore every interleaving of the lock-free code on top
//! of them (the `loom_tests` modules; run by `.ci/run`). Outside loom everything here is a plain
//! re-export of std: zero cost, same code paths.
//!
//! - `AtomicBool`, `AtomicPtr`, `AtomicU8`, `AtomicUsize` (this module): for state built at run
//!   time (`SpinLock::new`, `ParkToken::new`, `Waiter::default`, a worker's remote mailbox);
//!   under loom they are loom's own.
//! - `lazy`: the same atomics plus `AtomicBool`, `AtomicIsize` and a `Mutex`, for types whose
//!   public constructor is a `const fn` (`sync::Mutex::new` and every other `new` built on
//!   `WaitList::new`). loom's constructors are not `const`, so under loom these are wrappers
//!   that keep the initial value and create loom's object on first use.
//! - `fence`, and the thread parking the plain-thread waiter uses (`Thread`, `current_thread`,
//!   `park`, `park_timeout`, `thread_local!`): loom runs all the threads of a model on one OS
//!   thread, so std's parking or thread-locals inside a model would block or be shared.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{fence, AtomicBool, AtomicPtr, AtomicU8, AtomicUsize};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{fence, AtomicBool, AtomicPtr, AtomicU8, AtomicUsize};

#[cfg(loom)]
pub(crate) use loom::thread::{current as current_thread, park, Thread};
#[cfg(loom)]
pub(crate) use loom::thread_local;
#[cfg(not(loom))]
pub(crate) use std::thread::{current as current_thread, park, park_timeout, Thread};
#[cfg(not(loom))]
pub(crate) use std::thread_local;

/// Under loom a timed park just yields: models use no deadlines, and the contract of
/// `park_timeout` allows a spurious return.
#[cfg(loom)]
pub(crate) fn park_timeout(_dur: std::time::Duration) {
    loom::thread::yield_now();
}

/// Types with a `const fn new`, for the state of `const`-constructible objects.
///
/// Under loom each is a wrapper holding the initial value and a `OnceLock` of loom's object,
/// created on first use. loom records the creating thread's clock as an unsynchronised write,
/// so the first use must happen before the object is shared: a model calls the `loom_init`
/// helper of what it builds (which calls `init` on every field) before
/// spawning its threads; a forgotten one shows up as a loom "causality violation" panic, never
/// as a hidden race. Do not use these in a `static` under loom: the loom object would outlive
/// the model iteration that created it.
#[cfg(not(loom))]
pub(crate) mod lazy {
    pub(crate) use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicU8, AtomicUsize};
    pub(crate) use std::sync::{Mutex, MutexGuard};
}

/// See the non-loom version of this module.
#[cfg(loom)]
#[allow(dead_code)] // each file uses the few operations it needs
pub(crate) mod lazy {
    use std::fmt;
    use std::sync::atomic::Ordering;
    use std::sync::{LockResult, OnceLock, PoisonError};

    pub(crate) use loom::sync::MutexGuard;

    macro_rules! lazy_atomic {
        ($name:ident, $ty:ty) => {
            /// A const-constructible stand-in for loom's atomic of the same name.
            pub(crate) struct $name {
                init: $ty,
                cell: OnceLock<loom::sync::atomic::$name>,
            }

            impl $name {
                pub(crate) const fn new(value: $ty) -> $name {
                    $name {
                        init: value,
                        cell: OnceLock::new(),
                    }
                }

                fn get(&self) -> &loom::sync::atomic::$name {
                    self.cell
                        .get_or_init(|| loom::sync::atomic::$name::new(self.init))
                }

                /// Creates loom's object now (see the module docs).
                pub(crate) fn init(&self) {
                    self.get();
                }

                pub(crate) fn load(&self, order: Ordering) -> $ty {
                    self.get().load(order)
                }

                pub(crate) fn store(&self, value: $ty, order: Ordering) {
                    self.get().store(value, order)
                }

                pub(crate) fn swap(&self, value: $ty, order: Ordering) -> $ty {
                    self.get().swap(value, order)
                }

                pub(crate) fn compare_exchange(
                    &self,
                    current: $ty,
                    new: $ty,
                    success: Ordering,
                    failure: Ordering,
                ) -> Result<$ty, $ty> {
                    self.get().compare_exchange(current, new, success, failure)
                }

                pub(crate) fn compare_exchange_weak(
                    &self,
                    current: $ty,
                    new: $ty,
                    success: Ordering,
                    failure: Ordering,
                ) -> Result<$ty, $ty> {
                    self.get()
                        .compare_exchange_weak(current, new, success, failure)
                }

                pub(crate) fn fetch_or(&self, value: $ty, order: Ordering) -> $ty {
                    self.get().fetch_or(value, order)
                }

                pub(crate) fn fetch_and(&self, value: $ty, order: Ordering) -> $ty {
                    self.get().fetch_and(value, order)
                }
            }

            impl Default for $name {
                fn default() -> $name {
                    $name::new(Default::default())
                }
            }

            impl fmt::Debug for $name {
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.debug_tuple(stringify!($name)).finish_non_exhaustive()
                }
            }
        };
    }

    macro_rules! lazy_int {
        ($name:ident, $ty:ty) => {
            lazy_atomic!($name, $ty);

            impl $name {
                pub(crate) fn fetch_add(&self, value: $ty, order: Ordering) -> $ty {
                    self.get().fetch_add(value, order)
                }

                pub(crate) fn fetch_sub(&self, value: $ty, order: Ordering) -> $ty {
                    self.get().fetch_sub(value, order)
                }
            }
        };
    }

    lazy_atomic!(AtomicBool, bool);
    lazy_int!(AtomicU8, u8);
    lazy_int!(AtomicUsize, usize);
    lazy_int!(AtomicIsize, isize);

    /// A const-constructible stand-in for loom's `Mutex`: the initial value waits in a std
    /// mutex (uncontended: loom runs every model thread on one OS thread) until first use.
    pub(crate) struct Mutex<T> {
        init: std::sync::Mutex<Option<T>>,
        cell: OnceLock<loom::sync::Mutex<T>>,
    }

    impl<T> Mutex<T> {
        pub(crate) const fn new(value: T) -> Mutex<T> {
            Mutex {
                init: std::sync::Mutex::new(Some(value)),
                cell: OnceLock::new(),
            }
        }

        fn get(&self) -> &loom::sync::Mutex<T> {
            self.cell.get_or_init(|| {
                let value = self
                    .init
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take()
                    .expect("OnceLock runs the initialiser once");
                loom::sync::Mutex::new(value)
            })
        }

        /// Creates loom's object now (see the module docs).
        pub(crate) fn init(&self) {
            self.get();
        }

        pub(crate) fn lock(&self) -> LockResult<MutexGuard<'_, T>> {
            self.get().lock()
        }
    }

    impl<T: Default> Default for Mutex<T> {
        fn default() -> Mutex<T> {
            Mutex::new(T::default())
        }
    }

    impl<T> fmt::Debug for Mutex<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("Mutex").finish_non_exhaustive()
        }
    }
}
