//! Scoped coroutines, which may borrow from the stack of the code that spawns them, like
//! `std::thread::scope`.

use std::io;
use std::marker::PhantomData;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::handle::Coroutine;
use super::join::{wait_done, JoinHandle};
use super::{Builder, JoinError};

/// A scope to spawn coroutines that borrow local data; see [`scope`].
pub struct Scope<'scope, 'env: 'scope> {
    children: Mutex<Vec<Coroutine>>,
    a_child_panicked: Arc<AtomicBool>,
    scope: PhantomData<&'scope mut &'scope ()>,
    env: PhantomData<&'env mut &'env ()>,
}

/// The join handle of a scoped coroutine.
pub struct ScopedJoinHandle<'scope, T> {
    handle: JoinHandle<T>,
    scope: PhantomData<&'scope ()>,
}

/// Creates a scope in which coroutines may borrow non-`'static` data. Every coroutine spawned
/// in the scope is joined before `scope` returns. If the closure panics, the coroutines still
/// running are cancelled and joined before the panic continues. If a coroutine panicked and was
/// not joined explicitly, `scope` panics after joining all of them.
///
/// ```
/// let mut data = vec![1, 2, 3];
/// let total = std::sync::atomic::AtomicUsize::new(0);
/// may_core::coroutine::scope(|s| {
///     for x in &data {
///         let total = &total;
///         s.spawn(move || total.fetch_add(*x, std::sync::atomic::Ordering::Relaxed));
///     }
/// });
/// data.push(4);
/// assert_eq!(total.into_inner(), 6);
/// ```
pub fn scope<'env, F, T>(f: F) -> T
where
    F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> T,
{
    let scope = Scope {
        children: Mutex::new(Vec::new()),
        a_child_panicked: Arc::new(AtomicBool::new(false)),
        scope: PhantomData,
        env: PhantomData,
    };
    let result = panic::catch_unwind(AssertUnwindSafe(|| f(&scope)));
    let children = std::mem::take(&mut *scope.children.lock().unwrap_or_else(|e| e.into_inner()));
    if result.is_err() {
        for child in &children {
            child.cancel();
        }
    }
    for child in &children {
        wait_done(child.inner());
    }
    match result {
        Err(payload) => panic::resume_unwind(payload),
        Ok(_) if scope.a_child_panicked.load(Ordering::Acquire) => {
            panic!("a scoped coroutine panicked")
        }
        Ok(value) => value,
    }
}

impl<'scope> Scope<'scope, '_> {
    /// Spawns a scoped coroutine with the default configuration.
    ///
    /// # Panics
    /// When the stack cannot be mapped; see [`Scope::spawn_with`].
    pub fn spawn<F, T>(&'scope self, f: F) -> ScopedJoinHandle<'scope, T>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        match self.spawn_with(Builder::new(), f) {
            Ok(handle) => handle,
            Err(err) => panic!("may: failed to spawn a scoped coroutine: {err}"),
        }
    }

    /// Spawns a scoped coroutine configured by `builder`.
    pub fn spawn_with<F, T>(
        &'scope self,
        builder: Builder,
        f: F,
    ) -> io::Result<ScopedJoinHandle<'scope, T>>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        let panicked = Arc::clone(&self.a_child_panicked);
        // SAFETY: `scope()` waits for every coroutine spawned here to finish, even when its own
        // closure panics, before 'scope ends.
        let handle = unsafe { builder.spawn_scoped(f, panicked) }?;
        self.children
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(handle.coroutine().clone());
        Ok(ScopedJoinHandle {
            handle,
            scope: PhantomData,
        })
    }
}

impl<T> ScopedJoinHandle<'_, T> {
    /// Waits for the coroutine and returns its result, like [`JoinHandle::join`].
    pub fn join(self) -> Result<T, JoinError> {
        self.handle.join()
    }

    /// Whether the coroutine has finished.
    pub fn is_done(&self) -> bool {
        self.handle.is_done()
    }

    /// The handle of the coroutine.
    pub fn coroutine(&self) -> &Coroutine {
        self.handle.coroutine()
    }
}

impl<T> std::fmt::Debug for ScopedJoinHandle<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScopedJoinHandle")
            .field("coroutine", self.coroutine())
            .finish()
    }
}

impl std::fmt::Debug for Scope<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scope").finish_non_exhaustive()
    }
}
