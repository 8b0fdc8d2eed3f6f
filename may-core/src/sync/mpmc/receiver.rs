//! The receiving end of an `mpmc` channel, of any flavor (channel, `after`, `tick`, `never`).

use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::at::{sleep_until, At};
use super::chan::Chan;
use super::error::{RecvError, RecvTimeoutError, TryRecvError};
use super::iter::{Iter, TryIter};
use super::select_handle::{MsgBuf, Token};
use super::tick::Tick;
use crate::task::cancel_point;

pub(super) enum Flavor<T> {
    Chan(Arc<Chan<T>>),
    /// Timer flavors carry the conversion from `Instant` to `T` (the identity: they are only
    /// built as `Receiver<Instant>`), which keeps them free of unsafe casts.
    At(Arc<At>, fn(Instant) -> T),
    Tick(Arc<Tick>, fn(Instant) -> T),
    Never(PhantomData<fn() -> T>),
}

/// The receiving side of a channel; clone it to receive from several coroutines or threads
/// (each message goes to exactly one receiver).
///
/// ```
/// use may_core::sync::mpmc;
///
/// let (tx, rx) = mpmc::unbounded();
/// let h = may_core::coroutine::spawn(move || tx.send(7).unwrap());
/// assert_eq!(rx.recv(), Ok(7));
/// h.join().unwrap();
/// assert_eq!(rx.recv(), Err(mpmc::RecvError)); // all senders are gone
/// ```
pub struct Receiver<T> {
    pub(super) flavor: Flavor<T>,
}

fn deadline_after(timeout: Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}

impl<T> Receiver<T> {
    pub(super) fn chan(&self) -> Option<&Arc<Chan<T>>> {
        match &self.flavor {
            Flavor::Chan(chan) => Some(chan),
            _ => None,
        }
    }

    /// Receives a message if one is available now.
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        match &self.flavor {
            Flavor::Chan(chan) => chan.try_recv(),
            Flavor::At(at, conv) => at.try_recv().map(conv),
            Flavor::Tick(tick, conv) => tick.try_recv().map(conv),
            Flavor::Never(_) => Err(TryRecvError::Empty),
        }
    }

    /// Blocks until a message arrives, or fails when the channel is empty and every sender is
    /// gone.
    pub fn recv(&self) -> Result<T, RecvError> {
        self.recv_until(None).map_err(|_| RecvError)
    }

    /// Like [`recv`](Self::recv), giving up after `timeout`.
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        self.recv_until(deadline_after(timeout))
    }

    /// Like [`recv`](Self::recv), giving up at `deadline`.
    pub fn recv_deadline(&self, deadline: Instant) -> Result<T, RecvTimeoutError> {
        self.recv_until(Some(deadline))
    }

    fn recv_until(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        // Every flavor is a cancellation point, even when it would not block.
        match &self.flavor {
            Flavor::Chan(chan) => chan.recv(deadline),
            Flavor::At(at, conv) => {
                cancel_point();
                at.recv(deadline).map(conv)
            }
            Flavor::Tick(tick, conv) => {
                cancel_point();
                tick.recv(deadline).map(conv)
            }
            Flavor::Never(_) => {
                cancel_point();
                loop {
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        return Err(RecvTimeoutError::Timeout);
                    }
                    sleep_until(deadline);
                }
            }
        }
    }

    /// Whether no message is available now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the channel is full (always true for rendezvous channels and `never`).
    pub fn is_full(&self) -> bool {
        match self.capacity() {
            Some(cap) => self.len() >= cap,
            None => false,
        }
    }

    /// Number of messages waiting in the channel.
    pub fn len(&self) -> usize {
        match &self.flavor {
            Flavor::Chan(chan) => chan.len(),
            Flavor::At(at, _) => usize::from(at.is_ready()),
            Flavor::Tick(tick, _) => usize::from(tick.is_ready()),
            Flavor::Never(_) => 0,
        }
    }

    /// The capacity: `None` for unbounded channels, `Some(0)` for rendezvous channels and
    /// `never`, `Some(1)` for `after` and `tick`.
    pub fn capacity(&self) -> Option<usize> {
        match &self.flavor {
            Flavor::Chan(chan) => chan.cap,
            Flavor::At(..) | Flavor::Tick(..) => Some(1),
            Flavor::Never(_) => Some(0),
        }
    }

    /// A blocking iterator over received messages; it ends when the channel is disconnected.
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { rx: self }
    }

    /// An iterator over the messages available now.
    pub fn try_iter(&self) -> TryIter<'_, T> {
        TryIter { rx: self }
    }

    /// Whether two receivers belong to the same channel.
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        match (&self.flavor, &other.flavor) {
            (Flavor::Chan(a), Flavor::Chan(b)) => Arc::ptr_eq(a, b),
            (Flavor::At(a, _), Flavor::At(b, _)) => Arc::ptr_eq(a, b),
            (Flavor::Tick(a, _), Flavor::Tick(b, _)) => Arc::ptr_eq(a, b),
            (Flavor::Never(_), Flavor::Never(_)) => true,
            _ => false,
        }
    }

    pub(super) fn flavor_try_reserve(&self, buf: &mut MsgBuf) -> Option<Token> {
        match &self.flavor {
            Flavor::Chan(chan) => chan.reserve_recv(buf),
            Flavor::At(at, _) => at.try_recv().ok().map(Token::Instant),
            Flavor::Tick(tick, _) => tick.try_recv().ok().map(Token::Instant),
            Flavor::Never(_) => None,
        }
    }

    /// Whether a timer flavor can deliver now (`never`: no).
    pub(super) fn flavor_timer_ready(&self) -> bool {
        match &self.flavor {
            Flavor::At(at, _) => at.is_ready(),
            Flavor::Tick(tick, _) => tick.is_ready(),
            _ => false,
        }
    }

    pub(super) fn flavor_deadline(&self) -> Option<Instant> {
        match &self.flavor {
            Flavor::At(at, _) => at.deadline(),
            Flavor::Tick(tick, _) => tick.deadline(),
            _ => None,
        }
    }

    pub(super) fn flavor_release(&self, token: Token, buf: &mut MsgBuf) {
        match (&self.flavor, token) {
            (Flavor::Chan(chan), token) => chan.release_recv(token, buf),
            (Flavor::At(at, _), Token::Instant(_)) => at.release(),
            (Flavor::Tick(tick, _), Token::Instant(at)) => tick.release(at),
            _ => {}
        }
    }

    /// Completes a selected receive.
    ///
    /// # Safety
    /// `token` and `buf` come from this receiver's reservation: with [`Token::Inline`], `buf`
    /// holds this receiver's message, not taken yet.
    pub(crate) unsafe fn complete(&self, token: Token, buf: &mut MsgBuf) -> Result<T, RecvError> {
        match (&self.flavor, token) {
            // SAFETY: guaranteed by the caller.
            (Flavor::Chan(_), Token::Inline) => Ok(unsafe { buf.take::<T>() }),
            (Flavor::Chan(chan), token) => chan.complete_recv(token),
            (Flavor::At(_, conv) | Flavor::Tick(_, conv), Token::Instant(at)) => Ok(conv(at)),
            _ => Err(RecvError),
        }
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Receiver<T> {
        let flavor = match &self.flavor {
            Flavor::Chan(chan) => {
                chan.receiver_count.fetch_add(1, Ordering::Relaxed);
                Flavor::Chan(Arc::clone(chan))
            }
            Flavor::At(at, conv) => Flavor::At(Arc::clone(at), *conv),
            Flavor::Tick(tick, conv) => Flavor::Tick(Arc::clone(tick), *conv),
            Flavor::Never(_) => Flavor::Never(PhantomData),
        };
        Receiver { flavor }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if let Flavor::Chan(chan) = &self.flavor {
            if chan.receiver_count.fetch_sub(1, Ordering::AcqRel) == 1 {
                chan.disconnect_receivers();
            }
        }
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Receiver { .. }")
    }
}
