//! Support for the `select!` macro: which channel ends it can select on. Not public API.

use crate::coroutine::{run_scope, AfterJoin, Scope};
use crate::sync::{mpmc, mpsc};

/// The scope `select!` runs its general branches in: like [`crate::coroutine::scope`], but a
/// cancellation that arrives while it joins the losing branches stays pending instead of
/// unwinding, so that the winning branch's value (a received message) reaches its body.
pub fn scope<'env, F, T>(f: F) -> T
where
    F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> T,
{
    run_scope(f, AfterJoin::KeepCancelPending)
}

/// A channel end `select!` can receive from: mpmc and mpsc receivers (and `after`/`tick`).
pub trait SelectRecv<T> {
    /// The underlying mpmc receiver.
    fn mpmc_receiver(&self) -> &mpmc::Receiver<T>;
}

/// A channel end `select!` can send on: mpmc and mpsc senders.
pub trait SelectSend<T> {
    /// The underlying mpmc sender.
    fn mpmc_sender(&self) -> &mpmc::Sender<T>;
}

impl<T> SelectRecv<T> for mpmc::Receiver<T> {
    fn mpmc_receiver(&self) -> &mpmc::Receiver<T> {
        self
    }
}

impl<T> SelectSend<T> for mpmc::Sender<T> {
    fn mpmc_sender(&self) -> &mpmc::Sender<T> {
        self
    }
}

impl<T> SelectRecv<T> for mpsc::Receiver<T> {
    fn mpmc_receiver(&self) -> &mpmc::Receiver<T> {
        self.as_mpmc()
    }
}

impl<T> SelectSend<T> for mpsc::Sender<T> {
    fn mpmc_sender(&self) -> &mpmc::Sender<T> {
        self.as_mpmc()
    }
}

impl<T> SelectSend<T> for mpsc::SyncSender<T> {
    fn mpmc_sender(&self) -> &mpmc::Sender<T> {
        self.as_mpmc()
    }
}

impl<T, R: SelectRecv<T> + ?Sized> SelectRecv<T> for &R {
    fn mpmc_receiver(&self) -> &mpmc::Receiver<T> {
        (**self).mpmc_receiver()
    }
}

impl<T, S: SelectSend<T> + ?Sized> SelectSend<T> for &S {
    fn mpmc_sender(&self) -> &mpmc::Sender<T> {
        (**self).mpmc_sender()
    }
}

/// The receiver `select!` registers for `recv(r)`.
pub fn recv_end<T, R: SelectRecv<T> + ?Sized>(r: &R) -> &mpmc::Receiver<T> {
    r.mpmc_receiver()
}

/// The sender `select!` registers for `send(s, v)`.
pub fn send_end<T, S: SelectSend<T> + ?Sized>(s: &S) -> &mpmc::Sender<T> {
    s.mpmc_sender()
}
