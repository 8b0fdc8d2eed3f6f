//! The reactor: readiness of I/O sources, fed by one `mio::Poll` per worker.
//!
//! Each worker owns a [`Driver`] (its `mio::Poll`) and sleeps in it when it has nothing to run,
//! so the scheduler stands on this floor (as tokio's schedulers park on their I/O driver). A
//! source is registered once, edge-triggered, for both directions, with the driver of the worker
//! whose task first has to wait on it (`Registered::ensure_registered`, which also says how
//! Windows differs). Its [`ScheduledIo`] keeps the readiness bits and the wait lists of its
//! readers and writers.
//!
//! # Readiness state
//! `ScheduledIo::state` packs four bits (`READ`, `WRITE` and the sticky `READ_CLOSED`,
//! `WRITE_CLOSED`) and a tick counter above them. The
//! driver's event dispatch sets bits and bumps the tick, then wakes the waiters of
//! the ready directions. An operation that got `WouldBlock` clears its bit only if the tick did
//! not move since it loaded the state, so an event that arrives between the syscall and the
//! clear is never lost. A new source starts with both bits set: the first operation always tries
//! the syscall. The closed bits are never cleared: a short read that returns the last bytes
//! before a FIN must not make the next read (which returns EOF) wait for an event that already
//! came. Operations also clear their bit after a short transfer on a stream socket.
//!
//! # Token invariant
//! The `mio::Token` of a registration is `Arc::into_raw` of its `ScheduledIo`: the registration
//! owns that strong reference until the source is deregistered **and** no event polled before the
//! deregistration can still be dispatched. A driver dispatches all events of one poll before its
//! worker runs any task, so a source dropped on its own worker releases the reference at once; a
//! source dropped on any other thread hands the reference to its driver's deferred queue, which
//! the driver empties right after dispatching a batch. Any event that names the source was
//! polled before the `EPOLL_CTL_DEL`, hence before it was queued, hence is dispatched before the
//! queue is emptied.

mod driver;
mod io;
mod registration;

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::wait::WaitList;

pub(crate) use driver::{Driver, DriverHandle};
pub(crate) use io::Io;

/// Readiness bit of the read direction.
const READ: usize = 1;
/// Readiness bit of the write direction.
const WRITE: usize = 2;
/// Sticky: the peer closed its write half (or the socket failed); reads never wait again.
const READ_CLOSED: usize = 4;
/// Sticky: the socket cannot be written any more (or failed); writes never wait again.
const WRITE_CLOSED: usize = 8;
/// One step of the tick counter stored above the readiness bits.
const TICK: usize = 16;

/// The direction an operation waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Readable: read, recv, accept, peek.
    Read,
    /// Writable: write, send, connect completion.
    Write,
}

impl Direction {
    /// What a plain thread polls its socket for, to wait in this direction.
    pub(crate) fn poll_for(self) -> crate::sys::PollFor {
        match self {
            Direction::Read => crate::sys::PollFor::Readable,
            Direction::Write => crate::sys::PollFor::Writable,
        }
    }

    fn bit(self) -> usize {
        match self {
            Direction::Read => READ,
            Direction::Write => WRITE,
        }
    }

    fn closed_bit(self) -> usize {
        match self {
            Direction::Read => READ_CLOSED,
            Direction::Write => WRITE_CLOSED,
        }
    }
}

/// The readiness and the waiters of one registered source; shared with the worker's dispatch
/// through the registration's token.
#[derive(Debug)]
pub(crate) struct ScheduledIo {
    /// Readiness bits and tick; see the module docs.
    state: AtomicUsize,
    readers: WaitList,
    writers: WaitList,
}

impl ScheduledIo {
    fn new() -> ScheduledIo {
        ScheduledIo {
            state: AtomicUsize::new(READ | WRITE),
            readers: WaitList::new(),
            writers: WaitList::new(),
        }
    }

    /// The current state word (bits and tick).
    ///
    /// Every access to the state word is `SeqCst`: a waiter stores into a wait list and then
    /// loads the state, the dispatcher stores the state and then loads the list's length; only
    /// a total order guarantees that one of the two sees the other.
    pub(crate) fn state(&self) -> usize {
        self.state.load(Ordering::SeqCst)
    }

    /// Whether `state` has `dir` ready.
    pub(crate) fn is_ready(state: usize, dir: Direction) -> bool {
        state & (dir.bit() | dir.closed_bit()) != 0
    }

    /// Clears the readiness of `dir` unless an event arrived since `seen` was loaded.
    pub(crate) fn clear(&self, seen: usize, dir: Direction) {
        let _ = self.state.compare_exchange(
            seen,
            seen & !dir.bit(),
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
    }

    /// The wait list of `dir`.
    pub(crate) fn waiters(&self, dir: Direction) -> &WaitList {
        match dir {
            Direction::Read => &self.readers,
            Direction::Write => &self.writers,
        }
    }

    /// Marks `bits` ready, bumps the tick and wakes the waiters of those directions.
    fn set_ready(&self, bits: usize) {
        if bits == 0 {
            return;
        }
        let _ = self
            .state
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |s| {
                Some((s | bits).wrapping_add(TICK))
            });
        if bits & READ != 0 {
            while self.readers.notify_one() {}
        }
        if bits & WRITE != 0 {
            while self.writers.notify_one() {}
        }
    }
}

impl ScheduledIo {
    /// Handles one event polled for this source.
    fn dispatch(&self, event: &mio::event::Event) {
        let mut bits = 0;
        if event.is_readable() {
            bits |= READ;
        }
        if event.is_writable() {
            bits |= WRITE;
        }
        if event.is_read_closed() || event.is_error() {
            bits |= READ | READ_CLOSED;
        }
        if event.is_write_closed() || event.is_error() {
            bits |= WRITE | WRITE_CLOSED;
        }
        self.set_ready(bits);
    }
}
