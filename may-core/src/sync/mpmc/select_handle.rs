//! The interface between `Select` and the objects it selects over (channel ends and timers).
//!
//! A selection runs in rounds. *Try*: each operation tries to reserve itself (`try_reserve`)
//! while the selecting waiter is registered nowhere, so reserving may win other waiters'
//! slots. *Register*: each operation registers the waiter under its object's lock, or reports
//! `Ready` if it could be reserved now (then the round ends and a new try round starts). After
//! the wait, every registration is removed; the one whose entry a peer took (and whose op the
//! slot names) holds the reservation. A reservation is then *completed* by the typed
//! `SelectedOperation::{send, recv}` or *released*.

use std::mem::{align_of, size_of, MaybeUninit};
use std::time::Instant;

use crate::wait::WaiterRef;

/// Bytes of inline room for a reserved message.
const MSG_BUF_SIZE: usize = 64;

/// Inline room for a message reserved by a select's receive, so that completing it does not
/// need a second trip through the channel's lock. Messages that do not fit (larger than 64
/// bytes or aligned to more than 16) use the channel's delivery slots instead.
///
/// # Invariant
/// Holds an initialised value exactly while the operation's token is [`Token::Inline`], and
/// then of the message type of the handle that produced that token.
#[repr(C, align(16))]
pub(crate) struct MsgBuf([MaybeUninit<u8>; MSG_BUF_SIZE]);

impl MsgBuf {
    pub(crate) fn new() -> MsgBuf {
        MsgBuf([MaybeUninit::uninit(); MSG_BUF_SIZE])
    }

    /// Whether a `T` fits (size and alignment).
    pub(crate) const fn fits<T>() -> bool {
        size_of::<T>() <= MSG_BUF_SIZE && align_of::<T>() <= 16
    }

    /// Moves `value` in. Returns it back when it does not fit.
    pub(crate) fn put<T>(&mut self, value: T) -> Result<(), T> {
        if !Self::fits::<T>() {
            return Err(value);
        }
        // SAFETY: `T` fits in size and alignment (checked above; the buffer is 16-aligned), and
        // the buffer holds no value (see the invariant), so nothing is overwritten.
        unsafe { self.0.as_mut_ptr().cast::<T>().write(value) };
        Ok(())
    }

    /// Moves the value out.
    ///
    /// # Safety
    /// The buffer holds an initialised `T` (put there by [`put`](Self::put)), and is not read
    /// again until another `put`.
    pub(crate) unsafe fn take<T>(&mut self) -> T {
        // SAFETY: guaranteed by the caller; `put` wrote a `T` at this (aligned) address.
        unsafe { self.0.as_ptr().cast::<T>().read() }
    }
}

/// What a reserved operation holds until it is completed or released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Token {
    /// Nothing reserved.
    Empty,
    /// A receive holding a claim on a buffered (or owed) message.
    Recv,
    /// A receive whose message sits in the operation's [`MsgBuf`].
    Inline,
    /// A send holding a free slot.
    Send,
    /// A send that owes its message to a reserved receiver.
    Commit,
    /// The channel is disconnected: completing reports the error.
    Closed,
    /// A timer fired at this instant (`after`, `tick`).
    Instant(Instant),
}

/// Result of registering one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Registration {
    /// The waiter is on the object's wait list.
    Registered,
    /// The operation could be reserved now; not registered.
    Ready,
    /// Nothing to register (timers, `never`): the waiter's deadline covers it.
    Skipped,
}

/// One end of a channel or a timer, as seen by `Select`.
pub(crate) trait SelectHandle {
    /// Tries to reserve the operation now (a received message may go to `buf`). The caller is
    /// registered nowhere.
    fn try_reserve(&self, buf: &mut MsgBuf) -> Option<Token>;
    /// Registers `waiter` for operation `op`, unless the operation is ready.
    fn register(&self, waiter: &WaiterRef, op: usize) -> Registration;
    /// Removes the registration; true if a peer took it (and reserved the operation for us).
    fn unregister(&self, waiter: &WaiterRef, op: usize) -> bool;
    /// The reservation held after `unregister` returned true.
    fn taken_token(&self) -> Token;
    /// When the operation becomes ready by itself (timers).
    fn deadline(&self) -> Option<Instant>;
    /// Whether the operation could proceed now (for `ready`; nothing is reserved).
    fn is_ready(&self) -> bool;
    /// Registers `waiter` to be woken (with `Operation(op)`) when the channel's state changes,
    /// unless the operation is ready now (then returns true and registers nothing).
    fn watch(&self, waiter: &WaiterRef, op: usize) -> bool;
    /// Removes a `watch` registration.
    fn unwatch(&self, waiter: &WaiterRef, op: usize);
    /// Gives a reservation back without completing it.
    fn release(&self, token: Token, buf: &mut MsgBuf);
}
