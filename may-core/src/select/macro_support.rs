//! Support for the `select!` macro: which channel ends it can select on. Not public API. (The
//! scope its general branches run in is `coroutine::__select_scope`, a floor above.)

use std::ops::Deref;

use crate::sync::{mpmc, mpsc};

/// A channel end `select!` can receive from: mpmc and mpsc receivers (and `after`/`tick`),
/// and anything that dereferences to one (`&Receiver<T>`, `Box<Receiver<T>>`, a user's
/// `Deref` newtype), as the coercion to `&Receiver<T>` in crossbeam-channel's `select!` allows.
#[diagnostic::on_unimplemented(
    message = "`recv` in `select!` needs a channel receiver, found `{Self}`",
    label = "not a receiver",
    note = "`recv(r)` takes an mpmc or mpsc `Receiver` (or `after`, `tick`, `never`), or a \
            reference or `Deref` wrapper of one"
)]
pub trait SelectRecv {
    /// The message type.
    type Msg;
    /// The underlying mpmc receiver.
    fn select_receiver(&self) -> &mpmc::Receiver<Self::Msg>;
}

/// A channel end `select!` can send on: mpmc and mpsc senders, and anything that dereferences
/// to one.
#[diagnostic::on_unimplemented(
    message = "`send` in `select!` needs a channel sender, found `{Self}`",
    label = "not a sender",
    note = "`send(s, value)` takes an mpmc `Sender` or an mpsc `Sender`/`SyncSender`, or a \
            reference or `Deref` wrapper of one"
)]
pub trait SelectSend {
    /// The message type.
    type Msg;
    /// The underlying mpmc sender.
    fn select_sender(&self) -> &mpmc::Sender<Self::Msg>;
}

impl<T> SelectRecv for mpmc::Receiver<T> {
    type Msg = T;
    fn select_receiver(&self) -> &mpmc::Receiver<T> {
        self
    }
}

impl<T> SelectRecv for mpsc::Receiver<T> {
    type Msg = T;
    fn select_receiver(&self) -> &mpmc::Receiver<T> {
        self.as_mpmc()
    }
}

impl<P: Deref + ?Sized> SelectRecv for P
where
    P::Target: SelectRecv,
{
    type Msg = <P::Target as SelectRecv>::Msg;
    fn select_receiver(&self) -> &mpmc::Receiver<Self::Msg> {
        (**self).select_receiver()
    }
}

impl<T> SelectSend for mpmc::Sender<T> {
    type Msg = T;
    fn select_sender(&self) -> &mpmc::Sender<T> {
        self
    }
}

impl<T> SelectSend for mpsc::Sender<T> {
    type Msg = T;
    fn select_sender(&self) -> &mpmc::Sender<T> {
        self.as_mpmc()
    }
}

impl<T> SelectSend for mpsc::SyncSender<T> {
    type Msg = T;
    fn select_sender(&self) -> &mpmc::Sender<T> {
        self.as_mpmc()
    }
}

impl<P: Deref + ?Sized> SelectSend for P
where
    P::Target: SelectSend,
{
    type Msg = <P::Target as SelectSend>::Msg;
    fn select_sender(&self) -> &mpmc::Sender<Self::Msg> {
        (**self).select_sender()
    }
}

/// The receiver `select!` registers for `recv(r)`.
pub fn recv_end<R: SelectRecv + ?Sized>(r: &R) -> &mpmc::Receiver<R::Msg> {
    r.select_receiver()
}

/// The sender `select!` registers for `send(s, v)`.
pub fn send_end<S: SelectSend + ?Sized>(s: &S) -> &mpmc::Sender<S::Msg> {
    s.select_sender()
}
