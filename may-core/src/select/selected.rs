//! The operation a [`Select`](super::Select) picked, to be completed by the caller.

use std::fmt;
use std::marker::PhantomData;

use crate::sync::mpmc::select_handle::{MsgBuf, SelectHandle, Token};
use crate::sync::mpmc::{Receiver, RecvError, SendError, Sender};

/// A selected operation: it is reserved (a message or a slot is held for it) and must be
/// completed with [`send`](Self::send) or [`recv`](Self::recv) on the same channel end that
/// was added to the `Select`.
///
/// It is `!Send`: complete it on the coroutine or thread that selected it.
///
/// # Panics
/// Dropping it without completing it gives the reservation back and then panics, like
/// crossbeam-channel (unless the thread is already panicking).
#[must_use = "a selected operation must be completed with `send` or `recv`"]
pub struct SelectedOperation<'a> {
    pub(super) handle: &'a dyn SelectHandle,
    pub(super) index: usize,
    pub(super) addr: usize,
    pub(super) token: Option<Token>,
    /// The reserved message, with [`Token::Inline`].
    pub(super) buf: MsgBuf,
    /// `!Send`: a reservation is tied to the waiter (coroutine or thread) that made it.
    pub(super) _not_send: PhantomData<*const ()>,
}

impl SelectedOperation<'_> {
    /// The index `Select::send`/`Select::recv` returned for this operation.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Completes a selected send with `msg`; fails (giving `msg` back) if the channel is
    /// disconnected.
    ///
    /// # Panics
    /// If `s` is not the sender added for this operation.
    pub fn send<T>(mut self, s: &Sender<T>, msg: T) -> Result<(), SendError<T>> {
        assert!(
            std::ptr::eq(s as *const Sender<T> as *const u8, self.addr as *const u8),
            "passed a sender that wasn't selected"
        );
        let token = self.token.take().unwrap_or(Token::Empty);
        s.complete(token, msg)
    }

    /// Completes a selected receive; fails if the channel is empty and disconnected.
    ///
    /// # Panics
    /// If `r` is not the receiver added for this operation.
    pub fn recv<T>(mut self, r: &Receiver<T>) -> Result<T, RecvError> {
        assert!(
            std::ptr::eq(r as *const Receiver<T> as *const u8, self.addr as *const u8),
            "passed a receiver that wasn't selected"
        );
        let token = self.token.take().unwrap_or(Token::Empty);
        // SAFETY: `r` is the receiver this operation was reserved on (asserted above: the same
        // address, so the same object and message type), and `token`/`buf` are its reservation,
        // taken out of `self` so they are used once.
        unsafe { r.complete(token, &mut self.buf) }
    }
}

impl Drop for SelectedOperation<'_> {
    fn drop(&mut self) {
        if let Some(token) = self.token.take() {
            self.handle.release(token, &mut self.buf);
            if !std::thread::panicking() {
                panic!("dropped `SelectedOperation` without completing the operation");
            }
        }
    }
}

impl fmt::Debug for SelectedOperation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SelectedOperation")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}
