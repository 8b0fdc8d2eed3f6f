//! The error types of the channels, shaped like crossbeam-channel's (and std's for the shared
//! names): every error of a failed send gives the message back.

use std::error::Error;
use std::fmt;

/// The channel is disconnected (all receivers are gone); the unsent message is inside.
#[derive(PartialEq, Eq, Clone, Copy)]
pub struct SendError<T>(pub T);

/// Why [`try_send`](super::Sender::try_send) failed; the message is inside.
#[derive(PartialEq, Eq, Clone, Copy)]
pub enum TrySendError<T> {
    /// The channel is full (or, for a rendezvous channel, no receiver is waiting).
    Full(T),
    /// All receivers are gone.
    Disconnected(T),
}

/// Why [`send_timeout`](super::Sender::send_timeout) failed; the message is inside.
#[derive(PartialEq, Eq, Clone, Copy)]
pub enum SendTimeoutError<T> {
    /// The deadline passed before the message could be sent.
    Timeout(T),
    /// All receivers are gone.
    Disconnected(T),
}

/// The channel is empty and disconnected (all senders are gone).
#[derive(PartialEq, Eq, Clone, Copy, Debug)]
pub struct RecvError;

/// Why [`try_recv`](super::Receiver::try_recv) failed.
#[derive(PartialEq, Eq, Clone, Copy, Debug)]
pub enum TryRecvError {
    /// No message is available now.
    Empty,
    /// The channel is empty and all senders are gone.
    Disconnected,
}

/// Why [`recv_timeout`](super::Receiver::recv_timeout) failed.
#[derive(PartialEq, Eq, Clone, Copy, Debug)]
pub enum RecvTimeoutError {
    /// The deadline passed before a message arrived.
    Timeout,
    /// The channel is empty and all senders are gone.
    Disconnected,
}

// The texts are crossbeam-channel's, written with `pad` so that width and alignment flags
// apply as they do there. `Debug` of the errors that carry a message does not show it (it
// need not be `Debug`).

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("SendError(..)")
    }
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(..) => f.pad("Full(..)"),
            TrySendError::Disconnected(..) => f.pad("Disconnected(..)"),
        }
    }
}

impl<T> fmt::Debug for SendTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("SendTimeoutError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("sending on a disconnected channel")
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(..) => f.pad("sending on a full channel"),
            TrySendError::Disconnected(..) => f.pad("sending on a disconnected channel"),
        }
    }
}

impl<T> fmt::Display for SendTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendTimeoutError::Timeout(..) => f.pad("timed out waiting on send operation"),
            SendTimeoutError::Disconnected(..) => f.pad("sending on a disconnected channel"),
        }
    }
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("receiving on an empty and disconnected channel")
    }
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.pad("receiving on an empty channel"),
            TryRecvError::Disconnected => f.pad("receiving on an empty and disconnected channel"),
        }
    }
}

impl fmt::Display for RecvTimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvTimeoutError::Timeout => f.pad("timed out waiting on receive operation"),
            RecvTimeoutError::Disconnected => f.pad("channel is empty and disconnected"),
        }
    }
}

impl<T> Error for SendError<T> {}
impl<T> Error for TrySendError<T> {}
impl<T> Error for SendTimeoutError<T> {}
impl Error for RecvError {}
impl Error for TryRecvError {}
impl Error for RecvTimeoutError {}

impl<T> SendError<T> {
    /// The message that could not be sent.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> TrySendError<T> {
    /// The message that could not be sent.
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(v) | TrySendError::Disconnected(v) => v,
        }
    }

    /// Whether the send failed because the channel was full.
    pub fn is_full(&self) -> bool {
        matches!(self, TrySendError::Full(_))
    }

    /// Whether the send failed because the channel was disconnected.
    pub fn is_disconnected(&self) -> bool {
        matches!(self, TrySendError::Disconnected(_))
    }
}

impl<T> SendTimeoutError<T> {
    /// The message that could not be sent.
    pub fn into_inner(self) -> T {
        match self {
            SendTimeoutError::Timeout(v) | SendTimeoutError::Disconnected(v) => v,
        }
    }

    /// Whether the send timed out.
    pub fn is_timeout(&self) -> bool {
        matches!(self, SendTimeoutError::Timeout(_))
    }

    /// Whether the send failed because the channel was disconnected.
    pub fn is_disconnected(&self) -> bool {
        matches!(self, SendTimeoutError::Disconnected(_))
    }
}

impl TryRecvError {
    /// Whether the receive failed because the channel was empty.
    pub fn is_empty(&self) -> bool {
        matches!(self, TryRecvError::Empty)
    }

    /// Whether the receive failed because the channel was empty and disconnected.
    pub fn is_disconnected(&self) -> bool {
        matches!(self, TryRecvError::Disconnected)
    }
}

impl RecvTimeoutError {
    /// Whether the receive timed out.
    pub fn is_timeout(&self) -> bool {
        matches!(self, RecvTimeoutError::Timeout)
    }

    /// Whether the receive failed because the channel was empty and disconnected.
    pub fn is_disconnected(&self) -> bool {
        matches!(self, RecvTimeoutError::Disconnected)
    }
}

impl<T> From<SendError<T>> for TrySendError<T> {
    fn from(err: SendError<T>) -> TrySendError<T> {
        TrySendError::Disconnected(err.0)
    }
}

impl<T> From<SendError<T>> for SendTimeoutError<T> {
    fn from(err: SendError<T>) -> SendTimeoutError<T> {
        SendTimeoutError::Disconnected(err.0)
    }
}

impl From<RecvError> for TryRecvError {
    fn from(_: RecvError) -> TryRecvError {
        TryRecvError::Disconnected
    }
}

impl From<RecvError> for RecvTimeoutError {
    fn from(_: RecvError) -> RecvTimeoutError {
        RecvTimeoutError::Disconnected
    }
}

// Into std's errors of the same names (may 0.3's channels returned std's types): code that
// states std's types in its signatures takes these with `?` or `.into()`. One way only: the
// errors of a may channel are these types everywhere (`recv`, `select!`, `Select`).

impl<T> From<SendError<T>> for std::sync::mpsc::SendError<T> {
    fn from(err: SendError<T>) -> std::sync::mpsc::SendError<T> {
        std::sync::mpsc::SendError(err.0)
    }
}

impl<T> From<TrySendError<T>> for std::sync::mpsc::TrySendError<T> {
    fn from(err: TrySendError<T>) -> std::sync::mpsc::TrySendError<T> {
        match err {
            TrySendError::Full(msg) => std::sync::mpsc::TrySendError::Full(msg),
            TrySendError::Disconnected(msg) => std::sync::mpsc::TrySendError::Disconnected(msg),
        }
    }
}

impl From<RecvError> for std::sync::mpsc::RecvError {
    fn from(_: RecvError) -> std::sync::mpsc::RecvError {
        std::sync::mpsc::RecvError
    }
}

impl From<TryRecvError> for std::sync::mpsc::TryRecvError {
    fn from(err: TryRecvError) -> std::sync::mpsc::TryRecvError {
        match err {
            TryRecvError::Empty => std::sync::mpsc::TryRecvError::Empty,
            TryRecvError::Disconnected => std::sync::mpsc::TryRecvError::Disconnected,
        }
    }
}

impl From<RecvTimeoutError> for std::sync::mpsc::RecvTimeoutError {
    fn from(err: RecvTimeoutError) -> std::sync::mpsc::RecvTimeoutError {
        match err {
            RecvTimeoutError::Timeout => std::sync::mpsc::RecvTimeoutError::Timeout,
            RecvTimeoutError::Disconnected => std::sync::mpsc::RecvTimeoutError::Disconnected,
        }
    }
}
