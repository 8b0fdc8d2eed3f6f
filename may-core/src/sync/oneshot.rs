//! A channel for exactly one value: the [`Sender`] is consumed by [`send`](Sender::send), so a
//! second value cannot be sent; the [`Receiver`] waits for it (from a coroutine or a thread).
//!
//! Dropping the sender without sending disconnects the channel: the receiver gets
//! [`RecvError`]. Dropping the receiver makes `send` fail and give the value back.
//!
//! ```
//! use may_core::sync::oneshot;
//!
//! let (tx, rx) = oneshot::channel();
//! may_core::coroutine::spawn(move || tx.send(String::from("done")).unwrap());
//! assert_eq!(rx.recv().unwrap(), "done");
//! ```

use std::fmt;
use std::time::{Duration, Instant};

use super::mpmc;

pub use super::mpmc::{RecvError, RecvTimeoutError, SendError, TryRecvError};

/// Creates a one-value channel.
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let (tx, rx) = mpmc::bounded(1);
    (Sender { inner: tx }, Receiver { inner: rx })
}

/// Sends the one value.
pub struct Sender<T> {
    inner: mpmc::Sender<T>,
}

/// Receives the one value.
pub struct Receiver<T> {
    inner: mpmc::Receiver<T>,
}

impl<T> Sender<T> {
    /// Sends the value without blocking; fails (giving it back) when the receiver is gone.
    pub fn send(self, value: T) -> Result<(), SendError<T>> {
        self.inner
            .try_send(value)
            .map_err(|e| SendError(e.into_inner()))
    }

    /// Whether the receiver is gone.
    pub fn is_closed(&self) -> bool {
        self.inner.is_disconnected()
    }
}

impl<T> Receiver<T> {
    /// Waits for the value; fails if the sender was dropped without sending.
    pub fn recv(self) -> Result<T, RecvError> {
        self.inner.recv()
    }

    /// Takes the value if it has been sent.
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        self.inner.try_recv()
    }

    /// Waits for the value at most `timeout`; the receiver stays usable after a timeout.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        self.inner.recv_timeout(timeout)
    }

    /// Waits for the value until `deadline`.
    pub fn recv_deadline(&self, deadline: Instant) -> Result<T, RecvTimeoutError> {
        self.inner.recv_deadline(deadline)
    }

    /// The underlying `mpmc` receiver (for [`Select`](crate::select::Select)).
    pub fn as_mpmc(&self) -> &mpmc::Receiver<T> {
        &self.inner
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("oneshot::Sender { .. }")
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("oneshot::Receiver { .. }")
    }
}
