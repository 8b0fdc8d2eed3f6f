//! Scoped coroutines, which may borrow from the stack of the code that spawns them, like
//! `std::thread::scope`.

use std::io;
use std::marker::PhantomData;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::handle::Coroutine;
use super::join::{wait_done_deferring_cancel, JoinHandle, PendingCancel};
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
/// Cancelling the coroutine that runs `scope` cancels the scope's coroutines too; `scope` waits
/// until every one of them has finished (that wait cannot be cut short, since they may borrow
/// from its stack) and then unwinds with the cancellation.
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
    run_scope(f, AfterJoin::ReRaiseCancel)
}

/// The scope `select!` runs its general branches in: like [`scope`], but a cancellation that
/// arrives while it joins the losing branches stays pending instead of unwinding, so that the
/// winning branch's value (a received message) reaches its body. Not public API: for the
/// expansion of `select!`.
#[doc(hidden)]
pub fn __select_scope<'env, F, T>(f: F) -> T
where
    F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> T,
{
    run_scope(f, AfterJoin::KeepCancelPending)
}

/// What a scope does with a cancellation of its coroutine that arrived while it waited for its
/// children, once they are all finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterJoin {
    /// Unwind with it (`scope`, `join!`).
    ReRaiseCancel,
    /// Return the closure's value and leave the cancellation pending for the next blocking call
    /// (`select!`: a message a branch has taken must reach that branch's body).
    KeepCancelPending,
}

/// [`scope`] with an explicit policy for a cancellation that arrives while the scope waits.
pub(crate) fn run_scope<'env, F, T>(f: F, after_join: AfterJoin) -> T
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
    scope.join_children(if result.is_err() {
        Children::Cancel
    } else {
        Children::RunToEnd
    });
    match result {
        Err(payload) => panic::resume_unwind(payload),
        Ok(_) if scope.a_child_panicked.load(Ordering::Acquire) => {
            panic!("a scoped coroutine panicked")
        }
        Ok(value) => {
            if after_join == AfterJoin::ReRaiseCancel {
                crate::task::cancel_point();
            }
            value
        }
    }
}

/// What becomes of a scope's children when its closure has returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Children {
    /// They run to their end (unless the scope's coroutine is cancelled).
    RunToEnd,
    /// They are cancelled (the closure panicked or was cancelled).
    Cancel,
}

impl Scope<'_, '_> {
    /// Waits until every coroutine of the scope has finished. The waits cannot be cut short by
    /// a cancellation of the waiting coroutine: its children may borrow its stack. Instead a
    /// cancellation (or `Children::Cancel`, when the closure failed) cancels every child, and
    /// the waits go on until they have all unwound.
    fn join_children(&self, children: Children) {
        loop {
            // Children may spawn more coroutines into the scope while they run: take batches
            // until a batch has finished and nobody added another. A later batch is cancelled
            // too when the reason still holds.
            let batch =
                std::mem::take(&mut *self.children.lock().unwrap_or_else(|e| e.into_inner()));
            if batch.is_empty() {
                return;
            }
            let mut cancelled = false;
            for child in &batch {
                loop {
                    if !cancelled
                        && (children == Children::Cancel || crate::task::is_cancel_pending())
                    {
                        batch.iter().for_each(Coroutine::cancel);
                        cancelled = true;
                    }
                    let pending_cancel = if cancelled {
                        PendingCancel::Ignore
                    } else {
                        PendingCancel::Return
                    };
                    if wait_done_deferring_cancel(child.task(), pending_cancel) {
                        break;
                    }
                }
            }
        }
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
