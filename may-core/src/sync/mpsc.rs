//! Multi-producer single-consumer channels with the API of `std::sync::mpsc`, usable from
//! coroutines and plain threads: a program written for std's mpsc compiles and behaves the
//! same with `use may::sync::mpsc;`. Thin wrappers over the [`super::mpmc`] channels.
//!
//! ```
//! use may_core::sync::mpsc;
//!
//! let (tx, rx) = mpsc::channel();
//! for i in 0..4 {
//!     let tx = tx.clone();
//!     may_core::coroutine::spawn(move || tx.send(i).unwrap());
//! }
//! drop(tx);
//! assert_eq!(rx.iter().sum::<i32>(), 6);
//! ```

use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;
use std::time::{Duration, Instant};

use super::mpmc;

pub use super::mpmc::{RecvError, RecvTimeoutError, SendError, TryRecvError, TrySendError};

/// Creates an unbounded channel (std's `channel`).
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let (tx, rx) = mpmc::unbounded();
    (Sender { inner: tx }, Receiver::new(rx))
}

/// Creates a channel holding at most `bound` messages; `0` makes every send a rendezvous
/// (std's `sync_channel`).
pub fn sync_channel<T>(bound: usize) -> (SyncSender<T>, Receiver<T>) {
    let (tx, rx) = mpmc::bounded(bound);
    (SyncSender { inner: tx }, Receiver::new(rx))
}

/// The sending half of [`channel`]: sending never blocks.
pub struct Sender<T> {
    inner: mpmc::Sender<T>,
}

/// The sending half of [`sync_channel`]: sending blocks while the channel is full.
pub struct SyncSender<T> {
    inner: mpmc::Sender<T>,
}

/// The receiving half of a channel. Only one receiver exists per channel; it may move to
/// another coroutine or thread but is not shared (`!Sync`), like std's.
pub struct Receiver<T> {
    inner: mpmc::Receiver<T>,
    _not_sync: PhantomData<Cell<()>>,
}

impl<T> Sender<T> {
    /// Sends a message; fails (giving it back) when the receiver is gone.
    pub fn send(&self, t: T) -> Result<(), SendError<T>> {
        self.inner.send(t)
    }

    /// The underlying `mpmc` sender (for [`Select`](crate::select::Select)).
    pub fn as_mpmc(&self) -> &mpmc::Sender<T> {
        &self.inner
    }
}

impl<T> SyncSender<T> {
    /// Sends a message, blocking while the channel is full; fails when the receiver is gone.
    pub fn send(&self, t: T) -> Result<(), SendError<T>> {
        self.inner.send(t)
    }

    /// Sends without blocking.
    pub fn try_send(&self, t: T) -> Result<(), TrySendError<T>> {
        self.inner.try_send(t)
    }

    /// The underlying `mpmc` sender (for [`Select`](crate::select::Select)).
    pub fn as_mpmc(&self) -> &mpmc::Sender<T> {
        &self.inner
    }
}

impl<T> Receiver<T> {
    fn new(inner: mpmc::Receiver<T>) -> Receiver<T> {
        Receiver {
            inner,
            _not_sync: PhantomData,
        }
    }

    /// Receives a message if one is available now.
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        self.inner.try_recv()
    }

    /// Blocks until a message arrives; fails when the channel is empty and every sender is
    /// gone.
    pub fn recv(&self) -> Result<T, RecvError> {
        self.inner.recv()
    }

    /// Like [`recv`](Self::recv), giving up after `timeout`.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        self.inner.recv_timeout(timeout)
    }

    /// Like [`recv`](Self::recv), giving up at `deadline`.
    pub fn recv_deadline(&self, deadline: Instant) -> Result<T, RecvTimeoutError> {
        self.inner.recv_deadline(deadline)
    }

    /// A blocking iterator over messages; ends when every sender is gone.
    pub fn iter(&self) -> mpmc::Iter<'_, T> {
        self.inner.iter()
    }

    /// An iterator over the messages available now.
    pub fn try_iter(&self) -> mpmc::TryIter<'_, T> {
        self.inner.try_iter()
    }

    /// The underlying `mpmc` receiver (for [`Select`](crate::select::Select)).
    pub fn as_mpmc(&self) -> &mpmc::Receiver<T> {
        &self.inner
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        Sender {
            inner: self.inner.clone(),
        }
    }
}

impl<T> Clone for SyncSender<T> {
    fn clone(&self) -> SyncSender<T> {
        SyncSender {
            inner: self.inner.clone(),
        }
    }
}

impl<'a, T> IntoIterator for &'a Receiver<T> {
    type Item = T;
    type IntoIter = mpmc::Iter<'a, T>;

    fn into_iter(self) -> mpmc::Iter<'a, T> {
        self.iter()
    }
}

impl<T> IntoIterator for Receiver<T> {
    type Item = T;
    type IntoIter = mpmc::IntoIter<T>;

    fn into_iter(self) -> mpmc::IntoIter<T> {
        self.inner.into_iter()
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Sender { .. }")
    }
}

impl<T> fmt::Debug for SyncSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("SyncSender { .. }")
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Receiver { .. }")
    }
}
