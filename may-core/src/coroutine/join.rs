//! Joining a coroutine: `JoinHandle`, `JoinError`, and the waits for a coroutine to finish.

use std::any::Any;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::handle::Coroutine;
use crate::task::{Cancelled, Selected, Task, WaitReason};
use crate::wait::{self, OnCancel, Registered};

/// Where a joiner takes a finished coroutine's result from (see `builder::Spawned`).
pub(crate) trait Outcome<T>: Send + Sync {
    /// The result, once; `None` if taken already. Called after the coroutine is done.
    fn take(&self) -> Option<std::thread::Result<T>>;
}

/// Waits until the task has finished (from a coroutine or a thread). A cancelled waiter
/// unwinds (with [`OnCancel::Unwind`]); with [`OnCancel::Watch`] it returns `false` early when a
/// cancellation of the waiting coroutine is pending or arrives, so that the caller can pass it
/// on (cancel what it waits for) and wait again, and the cancellation stays pending.
// Inlined into `join`: one frame less to return through after the switch (see `wait::wait`).
#[inline(always)]
pub(crate) fn wait_done(task: &Task, on_cancel: OnCancel) -> bool {
    if task.is_done() {
        return true;
    }
    let watch_cancel = on_cancel == OnCancel::Watch;
    let reason = if watch_cancel {
        WaitReason::Scope
    } else {
        WaitReason::Join { id: task.id }
    };
    let waited = wait::wait(
        reason,
        None,
        on_cancel,
        |me| {
            if watch_cancel && crate::task::is_cancel_pending() {
                return Registered::Done(false);
            }
            task.joiners.register(me.registration());
            if task.is_done() {
                task.joiners.unregister(me);
                return Registered::Done(true);
            }
            Registered::Waiting
        },
        |me, sel| {
            // Selected by `Joiners::notify_all`, which took every entry out: nothing to remove.
            if sel != Selected::Operation(0) {
                task.joiners.unregister(me);
            }
            if task.is_done() {
                Some(true)
            } else if watch_cancel && sel == Selected::Cancelled {
                Some(false)
            } else {
                None
            }
        },
    );
    match waited {
        Ok(done) => done,
        Err(_) => unreachable!("a wait without a deadline does not time out"),
    }
}

/// What a wait that never unwinds does about a cancellation of the waiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PendingCancel {
    /// Return `false` as soon as one is pending (the caller acts on it, then waits again).
    Return,
    /// Wait on regardless (the caller already acted on it).
    Ignore,
}

/// Waits until the task has finished without ever unwinding for a cancellation of the waiter;
/// a pending one returns `false` or is ignored, as `pending_cancel` says.
pub(crate) fn wait_done_deferring_cancel(task: &Task, pending_cancel: PendingCancel) -> bool {
    if pending_cancel == PendingCancel::Return {
        return wait_done(task, OnCancel::Watch);
    }
    while !task.is_done() {
        wait_done_ignoring_cancel(task);
    }
    true
}

/// One wait for `task` with cancellation deferred and not watched.
fn wait_done_ignoring_cancel(task: &Task) {
    let waited = wait::wait(
        WaitReason::Scope,
        None,
        OnCancel::Defer,
        |me| {
            task.joiners.register(me.registration());
            if task.is_done() {
                task.joiners.unregister(me);
                return Registered::Done(());
            }
            Registered::Waiting
        },
        |me, sel| {
            if sel != Selected::Operation(0) {
                task.joiners.unregister(me);
            }
            task.is_done().then_some(())
        },
    );
    if waited.is_err() {
        unreachable!("a wait without a deadline does not time out");
    }
}

/// An owned permission to join a coroutine and take its result.
///
/// Dropping the handle detaches the coroutine: it keeps running.
pub struct JoinHandle<T> {
    co: Coroutine,
    outcome: Arc<dyn Outcome<T>>,
}

impl<T: Send + 'static> JoinHandle<T> {
    pub(crate) fn new<O: Outcome<T> + 'static>(co: Coroutine, outcome: Arc<O>) -> JoinHandle<T> {
        JoinHandle { co, outcome }
    }
}

impl<T> JoinHandle<T> {
    pub(crate) fn from_outcome(co: Coroutine, outcome: Arc<dyn Outcome<T>>) -> JoinHandle<T> {
        JoinHandle { co, outcome }
    }

    /// Waits for the coroutine to finish and returns its result: `Err` if it panicked (with the
    /// payload) or was cancelled. Parks the calling coroutine (or thread) while waiting.
    pub fn join(self) -> Result<T, JoinError> {
        wait_done(self.co.task(), OnCancel::Unwind);
        match self.outcome.take() {
            Some(Ok(value)) => Ok(value),
            Some(Err(payload)) => Err(JoinError::from_payload(payload)),
            None => Err(JoinError {
                kind: ErrorKind::Lost,
            }),
        }
    }

    /// Waits for the coroutine to finish without taking its result: afterwards
    /// [`is_done`](Self::is_done) is `true` and [`join`](Self::join) returns at once. Parks the
    /// calling coroutine (or thread) while waiting; a cancelled caller unwinds, as from `join`.
    ///
    /// ```
    /// let h = may_core::coroutine::spawn(|| 6 * 7);
    /// h.wait();
    /// assert!(h.is_done());
    /// assert_eq!(h.join().unwrap(), 42);
    /// ```
    pub fn wait(&self) {
        wait_done(self.co.task(), OnCancel::Unwind);
    }

    /// Whether the coroutine has finished, so that `join` will not block.
    pub fn is_done(&self) -> bool {
        self.co.is_done()
    }

    /// The handle of the coroutine.
    pub fn coroutine(&self) -> &Coroutine {
        &self.co
    }
}

impl<T> IntoFuture for JoinHandle<T> {
    type Output = Result<T, JoinError>;
    type IntoFuture = JoinFuture<T>;

    /// The coroutine's result as a future, for async code: it completes when the coroutine
    /// finishes, without blocking the executor's thread.
    ///
    /// ```
    /// let h = may_core::coroutine::spawn(|| 6 * 7);
    /// // Any executor will do; `block_on` is may's own.
    /// let v = may_core::future::block_on(async move { h.await.unwrap() });
    /// assert_eq!(v, 42);
    /// ```
    fn into_future(self) -> JoinFuture<T> {
        JoinFuture { handle: Some(self) }
    }
}

/// A [`JoinHandle`] awaited as a future (see its `IntoFuture` implementation).
#[must_use = "futures do nothing unless awaited"]
pub struct JoinFuture<T> {
    /// `None` once the result was returned.
    handle: Option<JoinHandle<T>>,
}

impl<T> Future for JoinFuture<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(handle) = self.handle.as_ref() else {
            panic!("JoinFuture polled after it completed");
        };
        let task = handle.co.task();
        if !task.is_done() {
            task.joiners.register_waker(cx.waker());
            // Registered under the join list's lock, which the finishing worker takes after it
            // marks the task done: either we see done now, or it sees our waker.
            if !task.is_done() {
                return Poll::Pending;
            }
        }
        match self.handle.take() {
            Some(handle) => Poll::Ready(handle.join()),
            None => unreachable!("checked above"),
        }
    }
}

impl<T> fmt::Debug for JoinFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinFuture").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("coroutine", &self.co)
            .finish_non_exhaustive()
    }
}

enum ErrorKind {
    Panic(Box<dyn Any + Send + 'static>),
    Cancelled,
    /// The result vanished: only possible if the coroutine's stack overflowed, which aborts.
    Lost,
}

/// Why a coroutine did not return a value: it panicked, or it was cancelled.
pub struct JoinError {
    kind: ErrorKind,
}

impl JoinError {
    pub(crate) fn from_payload(payload: Box<dyn Any + Send + 'static>) -> JoinError {
        if payload.is::<Cancelled>() {
            JoinError {
                kind: ErrorKind::Cancelled,
            }
        } else {
            JoinError {
                kind: ErrorKind::Panic(payload),
            }
        }
    }

    /// Whether the coroutine panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.kind, ErrorKind::Panic(_))
    }

    /// Whether the coroutine was cancelled with [`Coroutine::cancel`].
    pub fn is_cancelled(&self) -> bool {
        matches!(self.kind, ErrorKind::Cancelled)
    }

    /// The panic payload, to pass to `std::panic::resume_unwind`. For a cancelled coroutine the
    /// payload is this error's message as a `String`.
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        match self.kind {
            ErrorKind::Panic(payload) => payload,
            _ => Box::new(self.to_string()),
        }
    }

    /// The panic payload, or the error itself when the coroutine did not panic.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, JoinError> {
        match self.kind {
            ErrorKind::Panic(payload) => Ok(payload),
            _ => Err(self),
        }
    }

    /// The panic message, when the payload is a string (as with `panic!("...")`).
    pub fn panic_message(&self) -> Option<&str> {
        match &self.kind {
            ErrorKind::Panic(payload) => payload
                .downcast_ref::<&'static str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str)),
            _ => None,
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::Panic(_) => match self.panic_message() {
                Some(msg) => write!(f, "coroutine panicked: {msg}"),
                None => f.write_str("coroutine panicked with a non-string payload"),
            },
            ErrorKind::Cancelled => f.write_str("coroutine was cancelled"),
            ErrorKind::Lost => f.write_str("coroutine finished without leaving a result"),
        }
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JoinError({self})")
    }
}

impl std::error::Error for JoinError {}
