//! Joining a coroutine: `JoinHandle`, `JoinError` and the packet the result travels in.

use std::any::Any;
use std::cell::UnsafeCell;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use super::handle::Coroutine;
use super::inner::CoInner;
use super::Cancelled;
use crate::wait::{CurrentWaiter, OnCancel, Selected};

/// Where a coroutine leaves its result for its joiner.
pub(crate) struct Packet<T> {
    /// # Invariant
    /// Written once by the coroutine before its `done` flag is set (release), read only by the
    /// joiner after it saw `done` (acquire).
    result: UnsafeCell<Option<std::thread::Result<T>>>,
    /// Set when a scoped coroutine's packet is dropped holding an unobserved panic.
    scope_panicked: Option<Arc<AtomicBool>>,
}

// SAFETY: access to `result` is serialised by the coroutine's `done` flag (see the invariant);
// `T: Send` because the value crosses from the coroutine to the joiner.
unsafe impl<T: Send> Sync for Packet<T> {}

impl<T> Packet<T> {
    pub(crate) fn new(scope_panicked: Option<Arc<AtomicBool>>) -> Packet<T> {
        Packet {
            result: UnsafeCell::new(None),
            scope_panicked,
        }
    }

    /// Stores the coroutine's result. Called once, by the coroutine, before it finishes.
    pub(crate) fn set(&self, result: std::thread::Result<T>) {
        // SAFETY: the joiner does not read before `done` is set, which happens after this.
        unsafe { *self.result.get() = Some(result) };
    }

    fn take(&self) -> Option<std::thread::Result<T>> {
        // SAFETY: called by the joiner after observing `done` (acquire), so the write is
        // visible and the coroutine no longer touches the slot.
        unsafe { (*self.result.get()).take() }
    }
}

impl<T> Drop for Packet<T> {
    fn drop(&mut self) {
        if let Some(flag) = &self.scope_panicked {
            // A cancelled scoped coroutine (a losing `select!` branch, a scope unwinding) did
            // not fail; only a panic nobody observed makes the scope panic.
            if matches!(self.result.get_mut(), Some(Err(p)) if !p.is::<Cancelled>()) {
                flag.store(true, Ordering::Release);
            }
        }
    }
}

/// Waits until the coroutine has finished (from a coroutine or a thread). A cancelled waiter
/// unwinds.
// Inlined into `join`: one frame less to return through after the switch (see
// `WaiterRef::wait_until`).
#[inline(always)]
pub(crate) fn wait_done(co: &Arc<CoInner>) {
    while !co.done.load(Ordering::Acquire) {
        let sel = wait_done_once(co, OnCancel::Unwind);
        crate::coroutine::unwind_if_selected_cancel(sel);
    }
}

/// Waits until the coroutine has finished without unwinding when the waiter is cancelled. With
/// `watch_cancel`, returns `false` as soon as a cancellation of the waiting coroutine is pending
/// (or arrives), so that the caller can pass it on (cancel what it waits for) and wait again
/// with `watch_cancel` off; the cancellation stays pending either way.
pub(crate) fn wait_done_deferring_cancel(co: &Arc<CoInner>, watch_cancel: bool) -> bool {
    while !co.done.load(Ordering::Acquire) {
        if watch_cancel && crate::coroutine::is_cancel_pending() {
            return false;
        }
        wait_done_once(co, OnCancel::Defer);
    }
    true
}

/// One registration and park on the join list; returns how the wait ended.
#[inline(always)]
fn wait_done_once(co: &Arc<CoInner>, on_cancel: OnCancel) -> Selected {
    let me = CurrentWaiter::get();
    me.waiter().reset();
    co.join_list.register(me.registration());
    if co.done.load(Ordering::Acquire) {
        co.join_list.unregister(&me);
        return Selected::Operation(0);
    }
    let sel = me.wait_until_with(None::<Instant>, on_cancel);
    // Selected by `Joiners::notify_all`, which took every entry out: nothing to remove.
    if sel != Selected::Operation(0) {
        co.join_list.unregister(&me);
    }
    sel
}

/// An owned permission to join a coroutine and take its result.
///
/// Dropping the handle detaches the coroutine: it keeps running.
pub struct JoinHandle<T> {
    co: Coroutine,
    packet: Arc<Packet<T>>,
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(co: Coroutine, packet: Arc<Packet<T>>) -> JoinHandle<T> {
        JoinHandle { co, packet }
    }

    /// Waits for the coroutine to finish and returns its result: `Err` if it panicked (with the
    /// payload) or was cancelled. Parks the calling coroutine (or thread) while waiting.
    pub fn join(self) -> Result<T, JoinError> {
        wait_done(self.co.inner());
        match self.packet.take() {
            Some(Ok(value)) => Ok(value),
            Some(Err(payload)) => Err(JoinError::from_payload(payload)),
            None => Err(JoinError {
                kind: ErrorKind::Lost,
            }),
        }
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
