//! The sending end of an `mpmc` channel.

use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::chan::Chan;
use super::error::{SendError, SendTimeoutError, TrySendError};
use super::select_handle::Token;

/// The sending side of a channel; clone it to send from several coroutines or threads.
///
/// ```
/// use may_core::sync::mpmc;
///
/// let (tx, rx) = mpmc::bounded(1);
/// tx.send(1).unwrap();
/// assert_eq!(tx.try_send(2), Err(mpmc::TrySendError::Full(2)));
/// drop(rx);
/// assert_eq!(tx.send(3), Err(mpmc::SendError(3))); // the message comes back
/// ```
pub struct Sender<T> {
    pub(super) chan: Arc<Chan<T>>,
}

impl<T> Sender<T> {
    /// Sends without blocking; fails when the channel is full or disconnected.
    pub fn try_send(&self, msg: T) -> Result<(), TrySendError<T>> {
        self.chan.try_send(msg)
    }

    /// Blocks until the message is sent (for a rendezvous channel: until a receiver took it),
    /// or fails when every receiver is gone.
    pub fn send(&self, msg: T) -> Result<(), SendError<T>> {
        self.chan
            .send(msg, None)
            .map_err(|e| SendError(e.into_inner()))
    }

    /// Like [`send`](Self::send), giving up after `timeout`.
    pub fn send_timeout(&self, msg: T, timeout: Duration) -> Result<(), SendTimeoutError<T>> {
        self.chan.send(msg, Instant::now().checked_add(timeout))
    }

    /// Like [`send`](Self::send), giving up at `deadline`.
    pub fn send_deadline(&self, msg: T, deadline: Instant) -> Result<(), SendTimeoutError<T>> {
        self.chan.send(msg, Some(deadline))
    }

    /// Whether the channel holds no message.
    pub fn is_empty(&self) -> bool {
        self.chan.len() == 0
    }

    /// Whether the channel is full (always true for rendezvous channels).
    pub fn is_full(&self) -> bool {
        self.chan.cap.is_some_and(|cap| self.chan.len() >= cap)
    }

    /// Number of messages in the channel.
    pub fn len(&self) -> usize {
        self.chan.len()
    }

    /// The capacity: `None` when unbounded, `Some(0)` for a rendezvous channel.
    pub fn capacity(&self) -> Option<usize> {
        self.chan.cap
    }

    /// Whether two senders belong to the same channel.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }

    /// Whether every receiver is gone.
    pub(crate) fn is_disconnected(&self) -> bool {
        self.chan.is_disconnected()
    }

    /// Completes a selected send.
    pub(crate) fn complete(&self, token: Token, msg: T) -> Result<(), SendError<T>> {
        self.chan.complete_send(token, msg)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        self.chan.sender_count.fetch_add(1, Ordering::Relaxed);
        Sender {
            chan: Arc::clone(&self.chan),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if self.chan.sender_count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.chan.disconnect_senders();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Sender { .. }")
    }
}
