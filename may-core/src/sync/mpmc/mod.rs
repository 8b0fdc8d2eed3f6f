//! Multi-producer multi-consumer channels with the API and semantics of crossbeam-channel,
//! usable from coroutines and plain threads alike (blocking parks the coroutine, not its
//! worker).
//!
//! - [`unbounded`], [`bounded`] (`bounded(0)` is a rendezvous channel), clonable
//!   [`Sender`]/[`Receiver`]; the channel disconnects when all senders or all receivers are gone.
//! - [`after`], [`tick`], [`never()`]: timer receivers for selection.
//! - Selection over several operations: `may::select::Select` (also `may::sync::mpmc::Select`).
//!
//! Every flavor shares one implementation (`chan.rs`): a buffer and two lists of blocked
//! operations behind one lock, on top of the crate's wait primitive, so one waiter can be
//! registered on many channels at once and a message only moves together with a won waiter
//! slot: nothing is lost on timeout, cancellation or selection.
//!
//! ```
//! use may_core::sync::mpmc;
//!
//! let (tx, rx) = mpmc::bounded(0);
//! let h = may_core::coroutine::spawn(move || {
//!     for i in 0..3 {
//!         tx.send(i).unwrap();
//!     }
//! });
//! assert_eq!(rx.iter().collect::<Vec<_>>(), [0, 1, 2]);
//! h.join().unwrap();
//! ```

mod at;
mod chan;
mod error;
mod iter;
mod receiver;
pub(crate) mod select_handle;
mod select_ops;
mod sender;
mod state;
mod tick;

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use error::{
    RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError,
};
pub use iter::{IntoIter, Iter, TryIter};
pub use receiver::Receiver;
pub use sender::Sender;

use receiver::Flavor;

fn pair<T>(cap: Option<usize>) -> (Sender<T>, Receiver<T>) {
    let chan = Arc::new(chan::Chan::new(cap));
    let rx = Receiver {
        flavor: Flavor::Chan(Arc::clone(&chan)),
    };
    (Sender { chan }, rx)
}

/// Creates a channel of unlimited capacity.
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    pair(None)
}

/// Creates a channel holding at most `cap` messages; with `cap == 0` every send waits for a
/// receiver to take the message (a rendezvous).
pub fn bounded<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    pair(Some(cap))
}

fn identity(at: Instant) -> Instant {
    at
}

/// A receiver that delivers one message, the instant it fired, after `duration`.
///
/// ```
/// use std::time::Duration;
/// let timer = may_core::sync::mpmc::after(Duration::from_millis(1));
/// assert!(timer.recv().is_ok());
/// ```
pub fn after(duration: Duration) -> Receiver<Instant> {
    timer_at(Instant::now().checked_add(duration))
}

/// A receiver that delivers one message, `when`, once that instant has passed.
pub fn at(when: Instant) -> Receiver<Instant> {
    timer_at(Some(when))
}

fn timer_at(when: Option<Instant>) -> Receiver<Instant> {
    Receiver {
        flavor: Flavor::At(Arc::new(at::At::new(when)), identity),
    }
}

/// A receiver that delivers a message, the instant of delivery, every `duration`.
pub fn tick(duration: Duration) -> Receiver<Instant> {
    Receiver {
        flavor: Flavor::Tick(Arc::new(tick::Tick::new(duration)), identity),
    }
}

/// A receiver that never delivers anything (useful to disable a select branch).
pub fn never<T>() -> Receiver<T> {
    Receiver {
        flavor: Flavor::Never(PhantomData),
    }
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn check<X: Send + Sync>() {}
    check::<Sender<String>>();
    check::<Receiver<String>>();
}
